/*-------------------------------------------------------------------------
 *
 * cohort.c
 *	  cohort_agg(customer_activity) -> cohort_state, its combine function and
 *	  I/O, and the accessor cohort_table(state, mode) returning the cohort x
 *	  age matrix: cohort size, customers active "on" an age or "on or after"
 *	  it, retention share and revenue.
 *
 * A customer's cohort is their first active period; age a of cohort c is
 * period c + a. Cell (c, a) counts the cohort's customers active at age a,
 * the customers whose last active age is a (from which "on or after" counts
 * follow by a suffix sum), and the cohort's revenue at age a.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "cohort.h"

PG_FUNCTION_INFO_V1(cohort_agg_trans);

/*
 * Transition function of cohort_agg: add one customer's activity. NULL
 * activities are skipped, as aggregates skip NULL input.
 */
Datum
cohort_agg_trans(PG_FUNCTION_ARGS)
{
	return TriAggTrans(fcinfo, TRI_COHORT, "cohort_agg");
}

/*
 * Add one customer's active periods (n >= 1, in time order) to cohort state t,
 * which covers them: the cohort is the first period.
 */
void
CohortAdd(TriState *t, const ActivityEntry *e, int n)
{
	int32		c = e[0].ordinal - t->base;
	int			i;

	for (i = 0; i < n; i++)
	{
		int64	   *cell = TRI_CELL(t, c, e[i].ordinal - e[0].ordinal);

		cell[0]++;
		cell[2] = AddScaled(cell[2], e[i].revenue);
	}
	TRI_CELL(t, c, e[n - 1].ordinal - e[0].ordinal)[1]++;
}

PG_FUNCTION_INFO_V1(cohort_combine);

/*
 * Combine function of cohort_agg (and transition function of cohort_union):
 * cell-wise sum of two cohort states.
 */
Datum
cohort_combine(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(TriCombine(fcinfo, TRI_COHORT, "cohort_agg"));
}

/*
 * Parse the mode argument of cohort accessors: true for 'on_or_after'.
 */
bool
CohortModeOnOrAfter(text *mode)
{
	char	   *m = text_to_cstring(mode);

	if (strcmp(m, "on") == 0)
		return false;
	if (strcmp(m, "on_or_after") == 0)
		return true;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid cohort mode \"%s\"", m),
			 errhint("Use 'on' (active in exactly that period) or 'on_or_after' (active in it or any later one).")));
	return false;				/* keep the compiler quiet */
}

/*
 * Customers of cohort row r counted at age s: active at s ("on") or at s or
 * later ("on or after"); later holds the running suffix sum for the latter,
 * and must start at the cohort size and be passed for s = 0, 1, ... in turn.
 */
int64
CohortCount(TriState *t, int r, int s, bool on_or_after, int64 *later)
{
	int64	   *cell = TRI_CELL(t, r, s);
	int64		n = on_or_after ? *later : cell[0];

	*later -= cell[1];
	return n;
}

PG_FUNCTION_INFO_V1(cohort_table);

/*
 * cohort_table(state, mode): one row per cohort and age up to the last
 * period covered: (cohort, age, cohort_size, customers, retention, revenue),
 * retention = customers / cohort_size rounded to 4 decimal places.
 */
Datum
cohort_table(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TriState   *t = PG_GETARG_TRI(0);
	bool		on_or_after = CohortModeOnOrAfter(PG_GETARG_TEXT_PP(1));
	int			r,
				s;

	TriCheckKind(t, TRI_COHORT);
	t = TriTrim(t);
	InitMaterializedSRF(fcinfo, 0);
	for (r = 0; r < t->nperiods; r++)
	{
		int64		size = TRI_CELL(t, r, 0)[0];
		int64		later = size;

		if (size == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		for (s = 0; s < t->nperiods - r; s++)
		{
			Datum		values[6];
			bool		nulls[6] = {false, false, false, false, false, false};
			int64		n = CohortCount(t, r, s, on_or_after, &later);

			values[0] = CustomerPeriodGetDatum(PERIOD_MAKE(t->unit, t->base + r));
			values[1] = Int32GetDatum(s);
			values[2] = Int64GetDatum(size);
			values[3] = Int64GetDatum(n);
			values[4] = RoundedRatio(n, size, 1, 4);
			values[5] = ScaledToNumeric(TRI_CELL(t, r, s)[2]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
