/*-------------------------------------------------------------------------
 *
 * cohort.c
 *	  cohort_agg(customer_activity) -> cohort_state, its combine function and
 *	  I/O, and the accessor cohort_table(state, mode) returning the cohort x
 *	  age matrix: cohort size, customers active "on" an age or "on or after"
 *	  it, retention share and revenue; cohort_table_diff(after, before,
 *	  mode), the cells in which two such matrices differ.
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

		TriIncrement(&cell[0], TRI_COHORT);
		cell[2] = AddScaled(cell[2], e[i].revenue);
	}
	TriIncrement(&TRI_CELL(t, c, e[n - 1].ordinal - e[0].ordinal)[1], TRI_COHORT);
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

/* the counters of a cell no state covers */
static const int64 CohortZeroCell[3] = {0, 0, 0};

/*
 * The counters of cohort c (an ordinal) at age s in state t, or zeros when t
 * is NULL or does not cover that cell.
 */
static const int64 *
CohortCellAt(TriState *t, int64 c, int64 s)
{
	int64		r;

	if (t == NULL)
		return CohortZeroCell;
	r = c - t->base;
	if (r < 0 || r >= t->nperiods || s >= t->nperiods - r)
		return CohortZeroCell;
	return TRI_CELL(t, r, s);
}

/*
 * A scaled amount of either sign as a numeric (ScaledToNumeric takes
 * non-negative ones).
 */
static Datum
SignedScaledToNumeric(int64 v)
{
	if (v >= 0)
		return ScaledToNumeric(v);
	return DirectFunctionCall1(numeric_uminus, ScaledToNumeric(-v));
}

PG_FUNCTION_INFO_V1(cohort_table_diff);

/*
 * cohort_table_diff(after, before, mode): the cells of cohort_table(after,
 * mode) minus those of cohort_table(before, mode), only where they differ:
 * (cohort, age, cohort_size, customers, revenue) hold the changes of the
 * cohort's size, of the customers counted at that age and of the revenue.
 * A cell one state does not cover counts as zero there; a NULL state is
 * empty. A cohort whose size changes always has its age-0 row (customers at
 * age 0 are the cohort size in both modes). One pass over the cells of both
 * states: this is how an incremental refresh turns the cohort states of the
 * changed customers' activities after and before a batch into the changes
 * to apply to a cohort table.
 */
Datum
cohort_table_diff(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TriState   *after = PG_ARGISNULL(0) ? NULL : PG_GETARG_TRI(0);
	TriState   *before = PG_ARGISNULL(1) ? NULL : PG_GETARG_TRI(1);
	bool		on_or_after;
	PeriodUnit	unit;
	int64		lo = PG_INT64_MAX;
	int64		hi = PG_INT64_MIN;
	int64		c;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(2))
		return (Datum) 0;		/* as a strict function would */
	on_or_after = CohortModeOnOrAfter(PG_GETARG_TEXT_PP(2));
	if (after != NULL)
	{
		TriCheckKind(after, TRI_COHORT);
		lo = after->base;
		hi = (int64) after->base + after->nperiods - 1;
	}
	if (before != NULL)
	{
		TriCheckKind(before, TRI_COHORT);
		if (after != NULL)
			CheckActivityUnit(after->unit, before->unit, "cohort_table_diff");
		lo = Min(lo, before->base);
		hi = Max(hi, (int64) before->base + before->nperiods - 1);
	}
	if (after == NULL && before == NULL)
		return (Datum) 0;
	unit = after != NULL ? after->unit : before->unit;

	for (c = lo; c <= hi; c++)
	{
		int64		size_a = CohortCellAt(after, c, 0)[0];
		int64		size_b = CohortCellAt(before, c, 0)[0];
		int64		later_a = size_a;
		int64		later_b = size_b;
		int64		s;

		/* every customer of a cohort is active at age 0: no size, no cells */
		if (size_a == 0 && size_b == 0)
			continue;
		CHECK_FOR_INTERRUPTS();
		for (s = 0; s <= hi - c; s++)
		{
			const int64 *a = CohortCellAt(after, c, s);
			const int64 *b = CohortCellAt(before, c, s);
			int64		n_a = on_or_after ? later_a : a[0];
			int64		n_b = on_or_after ? later_b : b[0];
			Datum		values[5];
			bool		nulls[5] = {false, false, false, false, false};

			later_a -= a[1];
			later_b -= b[1];
			if (n_a == n_b && a[2] == b[2])
				continue;
			values[0] = CustomerPeriodGetDatum(PERIOD_MAKE(unit, (int32) c));
			values[1] = Int32GetDatum((int32) s);
			values[2] = Int64GetDatum(size_a - size_b);
			values[3] = Int64GetDatum(n_a - n_b);
			values[4] = SignedScaledToNumeric(a[2] - b[2]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
