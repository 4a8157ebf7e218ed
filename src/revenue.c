/*-------------------------------------------------------------------------
 *
 * revenue.c
 *	  Subscription revenue retention: revenue_agg(customer_activity) ->
 *	  revenue_state and its combine function; the accessor revenue_table()
 *	  (MRR movements, GRR, NRR, revenue churn, quick ratio per period) and
 *	  cohort_nrr_table() over a cohort_state (a cohort's revenue at each age
 *	  over its revenue at age 0).
 *
 * A customer's MRR in period p is the revenue of their activity in p (0 when
 * not active); a customer pays in p when it is above 0. Between p-1 and p a
 * customer's movement is, with m = MRR:
 *
 *	  new			m(p) > 0, and p is their first paying period
 *	  reactivation	m(p) > 0, m(p-1) = 0, paid before p-1
 *	  expansion		m(p) > m(p-1) > 0, by m(p) - m(p-1)
 *	  contraction	m(p-1) > m(p) > 0, by m(p-1) - m(p)
 *	  churn			m(p-1) > 0, m(p) = 0, by m(p-1)
 *
 * The state keeps per period the paying customers, their MRR, and each
 * movement's customers and amount, with churn stored at the last paying
 * period ("leaving after p") so that the state covers paying periods only.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "cohort_state.h"
#include "revenue.h"

/*
 * Add v to *acc, erroring on overflow.
 */
static inline void
AddAmount(int64 *acc, int64 v)
{
	if (pg_add_s64_overflow(*acc, v, acc))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("MRR out of range in revenue_agg"),
				 errdetail("MRR sums are held exactly up to 922337203685477.5807.")));
}

/*
 * Count one more customer in *n, erroring on overflow.
 */
static inline void
AddCustomer(int64 *n)
{
	if (unlikely(pg_add_s64_overflow(*n, 1, n)))
		SeriesOutOfRange(SERIES_REVENUE);
}

/*
 * Add one customer's periods (n >= 1, in time order) to revenue state t,
 * which covers their paying periods.
 */
static void
RevenueAdd(SeriesState *t, const ActivityEntry *e, int n)
{
	int64		prev_ord = 0;
	int64		prev_amt = 0;
	bool		paid_before = false;
	int			i;

	for (i = 0; i < n; i++)
	{
		int64	   *c;
		int64		m = e[i].revenue;

		if (m <= 0)
			continue;
		c = SERIES_ROW(t, e[i].ordinal - t->base);
		AddCustomer(&c[REV_ACTIVE]);
		AddAmount(&c[REV_MRR], m);
		if (!paid_before)
		{
			AddCustomer(&c[REV_NEW_N]);
			AddAmount(&c[REV_NEW_AMT], m);
		}
		else if (prev_ord != e[i].ordinal - 1)
		{
			int64	   *l = SERIES_ROW(t, prev_ord - t->base);

			AddCustomer(&l[REV_LEAVE_N]);
			AddAmount(&l[REV_LEAVE_AMT], prev_amt);
			AddCustomer(&c[REV_REACT_N]);
			AddAmount(&c[REV_REACT_AMT], m);
		}
		else if (m > prev_amt)
		{
			AddCustomer(&c[REV_EXP_N]);
			AddAmount(&c[REV_EXP_AMT], m - prev_amt);
		}
		else if (m < prev_amt)
		{
			AddCustomer(&c[REV_CON_N]);
			AddAmount(&c[REV_CON_AMT], prev_amt - m);
		}
		paid_before = true;
		prev_ord = e[i].ordinal;
		prev_amt = m;
	}
	if (paid_before)
	{
		int64	   *l = SERIES_ROW(t, prev_ord - t->base);

		AddCustomer(&l[REV_LEAVE_N]);
		AddAmount(&l[REV_LEAVE_AMT], prev_amt);
	}
}

/* what the one-pass final function carries from customer to customer */
typedef struct RevenueMapFinal
{
	int32		lo;				/* first pass: earliest paying period seen */
	int32		hi;				/* first pass: latest paying period seen */
	SeriesState *t;				/* second pass: the state being filled */
} RevenueMapFinal;

/* the first and last paying (MRR > 0) entries of a customer's periods; false if none */
static bool
PayingRange(const ActivityEntry *e, int n, int *lo, int *hi)
{
	*lo = -1;
	for (int i = 0; i < n; i++)
		if (e[i].revenue > 0)
		{
			if (*lo < 0)
				*lo = i;
			*hi = i;
		}
	return *lo >= 0;
}

/* visitor, first pass: widen the range of paying periods */
static void
RevenueRangeVisitor(void *arg, int64 customer, const ActivityEntry *e, int n)
{
	RevenueMapFinal *f = (RevenueMapFinal *) arg;
	int			lo,
				hi;

	if (PayingRange(e, n, &lo, &hi))
	{
		f->lo = Min(f->lo, e[lo].ordinal);
		f->hi = Max(f->hi, e[hi].ordinal);
	}
}

/* visitor, second pass: add a customer's MRR movements */
static void
RevenueAddVisitor(void *arg, int64 customer, const ActivityEntry *e, int n)
{
	int			lo,
				hi;

	if (PayingRange(e, n, &lo, &hi))
		RevenueAdd(((RevenueMapFinal *) arg)->t, e + lo, hi - lo + 1);
}

PG_FUNCTION_INFO_V1(revenue_agg_trans);

/*
 * Transition function of revenue_agg: add one customer's activity (its
 * per-period revenue is their MRR). NULL activities and activities without
 * any revenue leave the state as it is.
 */
Datum
revenue_agg_trans(PG_FUNCTION_ARGS)
{
	ActivityData a;
	ActivityEntry buf[64];
	ActivityEntry *e;
	SeriesState *t;
	int			lo,
				hi;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	e = ActivityDecodeDatum(PG_GETARG_DATUM(1), &a, buf, lengthof(buf));
	if (!PayingRange(e, a.nactive, &lo, &hi))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		CheckActivityUnit(PG_GETARG_SERIES(0)->unit, a.unit, "revenue_agg");
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	t = SeriesForUpdate(fcinfo, 0, SERIES_REVENUE, a.unit, e[lo].ordinal, e[hi].ordinal, "revenue_agg");
	RevenueAdd(t, e + lo, hi - lo + 1);
	PG_RETURN_POINTER(t);
}

PG_FUNCTION_INFO_V1(revenue_map_final);

/*
 * Final function of the one-pass revenue_agg(customer_id, period, mrr): the
 * revenue state of every customer in the map, NULL when nobody pays.
 */
Datum
revenue_map_final(PG_FUNCTION_ARGS)
{
	RevenueMapFinal f = {PG_INT32_MAX, PG_INT32_MIN, NULL};
	PeriodUnit	unit;

	if (!ActivityMapVisitArg(fcinfo, 0, RevenueRangeVisitor, &f, &unit) || f.lo > f.hi)
		PG_RETURN_NULL();
	f.t = SeriesAlloc(SERIES_REVENUE, unit, f.lo, (int64) f.hi - f.lo + 1);
	ActivityMapVisitArg(fcinfo, 0, RevenueAddVisitor, &f, &unit);
	PG_RETURN_POINTER(f.t);
}

PG_FUNCTION_INFO_V1(revenue_combine);

/*
 * Combine function of revenue_agg (and transition function of
 * revenue_union): period-wise sum of two revenue states.
 */
Datum
revenue_combine(PG_FUNCTION_ARGS)
{
	SeriesState *t = SeriesCombine(fcinfo, SERIES_REVENUE, "revenue_agg");

	if (t == NULL)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(t);
}

/*
 * A rate num / den * mult rounded to 2 decimals, or a NULL when den is 0.
 */
static void
PutRate(Datum *value, bool *isnull, int64 num, int64 den, int64 mult)
{
	if (den == 0)
	{
		*isnull = true;
		return;
	}
	*value = RoundedRatio(num, den, mult, 2);
	*isnull = false;
}

#define REVENUE_TABLE_COLS 24

PG_FUNCTION_INFO_V1(revenue_table);

/*
 * revenue_table(state): one row per covered period with the MRR at its start
 * and end, each movement's amount and customers, the retained MRR (GRR's and
 * NRR's numerators), the MRR gained and lost (the quick ratio's), and the
 * rates: gross and net revenue churn, GRR and NRR in percent of the MRR at
 * the start, and the quick ratio. Rates are NULL when their denominator is 0.
 */
Datum
revenue_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SeriesState *t = PG_GETARG_SERIES(0);
	int64		start_n = 0,
				start_mrr = 0,
				churn_n = 0,
				churn_amt = 0;
	int			i;

	SeriesCheckKind(t, SERIES_REVENUE);
	InitMaterializedSRF(fcinfo, 0);
	t = SeriesTrim(t);			/* a partial state may carry empty periods */
	if (t == NULL)
		return (Datum) 0;
	for (i = 0; i < t->nperiods; i++)
	{
		const int64 *c = SERIES_ROW(t, i);
		Datum		v[REVENUE_TABLE_COLS];
		bool		nulls[REVENUE_TABLE_COLS];
		int64		retained,
					net_retained,
					gained,
					lost;

		CHECK_FOR_INTERRUPTS();
		memset(nulls, 0, sizeof(nulls));
		/* a valid state's figures fit (SeriesValidate); the arithmetic is checked all the same */
		if (pg_sub_s64_overflow(start_mrr, churn_amt, &retained) ||
			pg_sub_s64_overflow(retained, c[REV_CON_AMT], &retained) ||
			pg_add_s64_overflow(retained, c[REV_EXP_AMT], &net_retained) ||
			pg_add_s64_overflow(c[REV_NEW_AMT], c[REV_EXP_AMT], &gained) ||
			pg_add_s64_overflow(gained, c[REV_REACT_AMT], &gained) ||
			pg_add_s64_overflow(c[REV_CON_AMT], churn_amt, &lost))
			SeriesOutOfRange(SERIES_REVENUE);
		v[0] = CustomerPeriodGetDatum(PERIOD_MAKE(t->unit, t->base + i));
		v[1] = ScaledToNumeric(start_mrr);
		v[2] = ScaledToNumeric(c[REV_NEW_AMT]);
		v[3] = ScaledToNumeric(c[REV_EXP_AMT]);
		v[4] = ScaledToNumeric(c[REV_CON_AMT]);
		v[5] = ScaledToNumeric(churn_amt);
		v[6] = ScaledToNumeric(c[REV_REACT_AMT]);
		v[7] = ScaledToNumeric(c[REV_MRR]);
		v[8] = Int64GetDatum(start_n);
		v[9] = Int64GetDatum(c[REV_NEW_N]);
		v[10] = Int64GetDatum(c[REV_EXP_N]);
		v[11] = Int64GetDatum(c[REV_CON_N]);
		v[12] = Int64GetDatum(churn_n);
		v[13] = Int64GetDatum(c[REV_REACT_N]);
		v[14] = Int64GetDatum(c[REV_ACTIVE]);
		v[15] = ScaledToNumeric(retained);
		v[16] = ScaledToNumeric(net_retained);
		v[17] = ScaledToNumeric(gained);
		v[18] = ScaledToNumeric(lost);
		PutRate(&v[19], &nulls[19], lost, start_mrr, 100);
		PutRate(&v[20], &nulls[20], lost - c[REV_EXP_AMT], start_mrr, 100);
		PutRate(&v[21], &nulls[21], retained, start_mrr, 100);
		PutRate(&v[22], &nulls[22], net_retained, start_mrr, 100);
		PutRate(&v[23], &nulls[23], gained, lost, 1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
		start_n = c[REV_ACTIVE];
		start_mrr = c[REV_MRR];
		churn_n = c[REV_LEAVE_N];
		churn_amt = c[REV_LEAVE_AMT];
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(cohort_nrr_table);

/*
 * cohort_nrr_table(cohort_state): per cohort and age, the cohort's revenue
 * at age 0 (base_revenue), its revenue at the age, and cohort NRR =
 * revenue / base_revenue * 100 rounded to 2 decimals (NULL when the base is
 * 0); with the cohort size and the customers active at the age.
 */
Datum
cohort_nrr_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TriState   *t = PG_GETARG_TRI(0);
	int			r,
				s;

	TriCheckKind(t, TRI_COHORT);
	t = TriTrim(t);
	InitMaterializedSRF(fcinfo, 0);
	for (r = 0; r < t->nperiods; r++)
	{
		int64		size = TRI_CELL(t, r, 0)[0];
		int64		base = TRI_CELL(t, r, 0)[2];

		CHECK_FOR_INTERRUPTS();
		if (size == 0)
			continue;
		for (s = 0; s < t->nperiods - r; s++)
		{
			int64	   *c = TRI_CELL(t, r, s);
			Datum		v[7];
			bool		nulls[7] = {false, false, false, false, false, false, false};

			v[0] = CustomerPeriodGetDatum(PERIOD_MAKE(t->unit, t->base + r));
			v[1] = Int32GetDatum(s);
			v[2] = Int64GetDatum(size);
			v[3] = Int64GetDatum(c[0]);
			v[4] = ScaledToNumeric(base);
			v[5] = ScaledToNumeric(c[2]);
			PutRate(&v[6], &nulls[6], c[2], base, 100);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
		}
	}
	return (Datum) 0;
}
