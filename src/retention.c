/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  retention_agg(customer_activity) -> retention_state, its combine function
 *	  and I/O; the accessors retention_table(state, inactivity) and
 *	  lifecycle_table(state, inactivity); the scalar formulas crr() and
 *	  churn_rate(). retention_table takes a churn convention (see
 *	  docs/retention.md): 'standard' and 'chartmogul' give L / S on
 *	  period-level activity, 'stripe' L / (S + N).
 *
 * With an inactivity window K, a customer counts at period p when active in
 * one of p-K+1 .. p. The state records, for every period q and every customer
 * active in q, the gap to that customer's next active period (or none), plus
 * the customers new in q. That is enough to answer for any K afterwards:
 *
 *	  A(q, j) = customers active in q not active again within q+1 .. q+j
 *	  E(p)	  = customers counted at p = sum over j < K of A(p-j, j)
 *	  S(p)	  = E(p-1)
 *	  L(p)	  = counted at p-1, not at p = A(p-K, K)
 *	  retained = S - L, reactivated = E - N - retained
 *	  CRR = (E - N) / S * 100, churn rate = L / S * 100
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "retention.h"
#include "revenue.h"

PG_FUNCTION_INFO_V1(retention_agg_trans);

/*
 * Transition function of retention_agg: add one customer's activity (NULL
 * activities are skipped).
 */
Datum
retention_agg_trans(PG_FUNCTION_ARGS)
{
	return TriAggTrans(fcinfo, TRI_RETENTION, "retention_agg");
}

/*
 * Add one customer's active periods (n >= 1, in time order) to retention
 * state t, which covers them: each period's gap to the next, and the first
 * period as the customer's arrival.
 */
void
RetentionAdd(TriState *t, const ActivityEntry *e, int n)
{
	int			i;

	for (i = 0; i < n - 1; i++)
		TriIncrement(&TRI_CELL(t, e[i].ordinal - t->base, e[i + 1].ordinal - e[i].ordinal)[0],
					 TRI_RETENTION);
	TriIncrement(&TRI_CELL(t, e[n - 1].ordinal - t->base, 0)[0], TRI_RETENTION);
	TriIncrement(&TRI_CELL(t, e[0].ordinal - t->base, 0)[1], TRI_RETENTION);
}

PG_FUNCTION_INFO_V1(retention_combine);

/*
 * Combine function of retention_agg (and transition function of
 * retention_union): cell-wise sum of two retention states.
 */
Datum
retention_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(TriCombine(fcinfo, TRI_RETENTION, "retention_agg"));
}

/*
 * Check the inactivity window argument.
 */
static int32
CheckInactivity(int32 k)
{
	if (k < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("inactivity window must be at least 1, not %d", k),
				 errdetail("A customer counts at a period when active in one of the last \"inactivity\" periods."),
				 errhint("Use 1 to count customers active in the period itself.")));
	return k;
}

/*
 * *acc += v, or *acc -= v when sub, erroring (22003) on overflow: a valid
 * state's figures all fit (see TriCheckTotal), so this guards the arithmetic
 * rather than being expected to fire.
 */
static inline void
RetentionSum(int64 *acc, int64 v, bool sub)
{
	if (unlikely(sub ? pg_sub_s64_overflow(*acc, v, acc) : pg_add_s64_overflow(*acc, v, acc)))
		TriOutOfRange(TRI_RETENTION);
}

/*
 * Fill one RetentionRow per covered period for inactivity window k.
 */
RetentionRow *
RetentionRows(TriState *t, int32 k)
{
	int			n = t->nperiods;
	RetentionRow *rows = palloc0(sizeof(RetentionRow) * n);
	int64	   *suffix = palloc(sizeof(int64) * TRI_NCELLS(n));	/* A(q, j) by cell */
	int			q,
				j,
				i;

	/* A(q, j) = slot 0 (never again) + customers whose next gap exceeds j */
	for (q = 0; q < n; q++)
	{
		int64		acc = TRI_CELL(t, q, 0)[0];
		int64		base = TRI_ROW(t, q);

		CHECK_FOR_INTERRUPTS();
		for (j = n - 1 - q; j >= 0; j--)
		{
			suffix[base + j] = acc;
			if (j > 0)
				RetentionSum(&acc, TRI_CELL(t, q, j)[0], false);
		}
	}
	for (i = 0; i < n; i++)
	{
		RetentionRow *row = &rows[i];

		row->period = PERIOD_MAKE(t->unit, t->base + i);
		row->new_customers = TRI_CELL(t, i, 0)[1];
		for (j = 0; j < k && j <= i; j++)
			RetentionSum(&row->customers_end, suffix[TRI_ROW(t, i - j) + j], false);
		row->customers_start = i > 0 ? rows[i - 1].customers_end : 0;
		row->lost = (i - k >= 0) ? suffix[TRI_ROW(t, i - k) + k] : 0;
		row->retained = row->customers_start;
		RetentionSum(&row->retained, row->lost, true);
		row->reactivated = row->customers_end;
		RetentionSum(&row->reactivated, row->new_customers, true);
		RetentionSum(&row->reactivated, row->retained, true);
	}
	return rows;
}

/*
 * Common start of the retention accessors: check the arguments, compute the
 * rows for the window and prepare the result set; sets *n to the row count.
 */
static RetentionRow *
RetentionAccessorStart(FunctionCallInfo fcinfo, int *n)
{
	TriState   *t = PG_GETARG_TRI(0);
	int32		k = CheckInactivity(PG_GETARG_INT32(1));
	RetentionRow *rows;

	TriCheckKind(t, TRI_RETENTION);
	t = TriTrim(t);
	rows = RetentionRows(t, k);
	InitMaterializedSRF(fcinfo, 0);
	*n = t->nperiods;
	return rows;
}

PG_FUNCTION_INFO_V1(retention_table);

/*
 * retention_table(state, inactivity, convention): one row per covered period:
 * (period, customers_start, new_customers, customers_end, retained,
 * reactivated, lost, crr, churn_rate); the rates are NULL when their
 * denominator is 0. The churn rate is L / S, or L / (S + N) with the
 * 'stripe' convention.
 */
Datum
retention_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			conv = PG_NARGS() > 2 ? ChurnConvention(PG_GETARG_TEXT_PP(2)) : CONV_STANDARD;
	int			n;
	RetentionRow *rows = RetentionAccessorStart(fcinfo, &n);
	int			i;

	for (i = 0; i < n; i++)
	{
		RetentionRow *r = &rows[i];
		Datum		values[9];
		bool		nulls[9] = {false, false, false, false, false, false, false, false, false};

		values[0] = CustomerPeriodGetDatum(r->period);
		values[1] = Int64GetDatum(r->customers_start);
		values[2] = Int64GetDatum(r->new_customers);
		values[3] = Int64GetDatum(r->customers_end);
		values[4] = Int64GetDatum(r->retained);
		values[5] = Int64GetDatum(r->reactivated);
		values[6] = Int64GetDatum(r->lost);
		if (r->customers_start > 0)
			values[7] = RoundedRatio(r->customers_end - r->new_customers, r->customers_start, 100, 2);
		else
			nulls[7] = true;
		if (conv == CONV_STRIPE)
		{
			int64		den = r->customers_start;

			RetentionSum(&den, r->new_customers, false);
			if (den > 0)
				values[8] = RoundedRatio(r->lost, den, 100, 2);
			else
				nulls[8] = true;
		}
		else if (r->customers_start > 0)
			values[8] = RoundedRatio(r->lost, r->customers_start, 100, 2);
		else
			nulls[8] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(lifecycle_table);

/*
 * lifecycle_table(state, inactivity): growth accounting per period:
 * (period, new_customers, returning_customers, resurrecting_customers,
 * dormant_customers) = new, retained, reactivated and lost of
 * retention_table with the same window.
 */
Datum
lifecycle_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	RetentionRow *rows = RetentionAccessorStart(fcinfo, &n);
	int			i;

	for (i = 0; i < n; i++)
	{
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		values[0] = CustomerPeriodGetDatum(rows[i].period);
		values[1] = Int64GetDatum(rows[i].new_customers);
		values[2] = Int64GetDatum(rows[i].retained);
		values[3] = Int64GetDatum(rows[i].reactivated);
		values[4] = Int64GetDatum(rows[i].lost);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * Error out on a negative count argument of a rate formula.
 */
static void
CheckCount(int64 v, const char *name, const char *what)
{
	if (v < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative in %s", name, what),
				 errdetail("%s is " INT64_FORMAT ".", name, v)));
}

PG_FUNCTION_INFO_V1(crr);

/*
 * crr(customers_start, customers_end, new_customers): customer retention
 * rate (E - N) / S * 100 rounded to 2 decimals; NULL when S = 0.
 */
Datum
crr(PG_FUNCTION_ARGS)
{
	int64		s = PG_GETARG_INT64(0);
	int64		e = PG_GETARG_INT64(1);
	int64		n = PG_GETARG_INT64(2);

	CheckCount(s, "customers_start", "crr");
	CheckCount(e, "customers_end", "crr");
	CheckCount(n, "new_customers", "crr");
	if (n > e)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("new_customers must not exceed customers_end in crr"),
				 errdetail("new_customers is " INT64_FORMAT " and customers_end " INT64_FORMAT ".", n, e),
				 errhint("Customers at the end include the new ones: check the argument order (start, end, new).")));
	if (s == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(RoundedRatio(e - n, s, 100, 2));
}

PG_FUNCTION_INFO_V1(churn_rate);

/*
 * churn_rate(lost, customers_start): L / S * 100 rounded to 2 decimals;
 * NULL when S = 0.
 */
Datum
churn_rate(PG_FUNCTION_ARGS)
{
	int64		l = PG_GETARG_INT64(0);
	int64		s = PG_GETARG_INT64(1);

	CheckCount(l, "lost", "churn_rate");
	CheckCount(s, "customers_start", "churn_rate");
	if (l > s)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lost must not exceed customers_start in churn_rate"),
				 errdetail("lost is " INT64_FORMAT " and customers_start " INT64_FORMAT ".", l, s),
				 errhint("Only customers there at the start can be lost: check the argument order (lost, start).")));
	if (s == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(RoundedRatio(l, s, 100, 2));
}
