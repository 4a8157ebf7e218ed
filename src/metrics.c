/*-------------------------------------------------------------------------
 *
 * metrics.c
 *	  Survey score aggregates: nps_agg(score) on the 0-10 scale and
 *	  csat_agg(score, scale_max) on 1..scale_max. Their state is a score
 *	  histogram held in a bigint[]: {lo, hi, count(lo), ..., count(hi)}, a
 *	  real SQL type with text and binary I/O, summed by the combine function.
 *	  The final functions (in SQL) read the NPS and CSAT figures out of it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "fmgr.h"

/* the widest scale a score histogram holds */
#define SCORE_MAX_SCALE 100

/*
 * A histogram {lo, hi, 0, ..., 0} as a bigint[].
 */
static ArrayType *
HistNew(int32 lo, int32 hi)
{
	int			n = hi - lo + 3;
	Datum	   *d = palloc(sizeof(Datum) * n);
	int			i;

	d[0] = Int64GetDatum(lo);
	d[1] = Int64GetDatum(hi);
	for (i = 2; i < n; i++)
		d[i] = Int64GetDatum(0);
	return construct_array(d, n, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
}

/*
 * The counters of histogram a (checked to be a well-formed one), and its
 * number of elements.
 */
static int64 *
HistData(ArrayType *a, int *n, const char *what)
{
	int64	   *v;
	int64		width;
	int			i;

	if (ARR_NDIM(a) != 1 || ARR_HASNULL(a) || ARR_ELEMTYPE(a) != INT8OID ||
		ARR_DIMS(a)[0] < 3)
		goto bad;
	/* no NULLs (checked above), so the data follow the fixed overhead */
	v = (int64 *) ((char *) a + ARR_OVERHEAD_NONULLS(1));
	*n = ARR_DIMS(a)[0];
	if (v[0] > v[1] || pg_sub_s64_overflow(v[1], v[0], &width) ||
		width > SCORE_MAX_SCALE || width + 3 != *n)
		goto bad;
	for (i = 2; i < *n; i++)
		if (v[i] < 0)
			goto bad;
	return v;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid score histogram in %s", what),
			 errdetail("A score histogram is {lo, hi, count(lo), ..., count(hi)}.")));
	return NULL;				/* keep the compiler quiet */
}

/*
 * The memory context a new state belongs in: the aggregate's, or the
 * current one outside an aggregate.
 */
static MemoryContext
HistContext(FunctionCallInfo fcinfo)
{
	MemoryContext agg;

	return AggCheckCallContext(fcinfo, &agg) ? agg : CurrentMemoryContext;
}

/*
 * Common transition body: count score in the histogram in argument 0 for
 * scale lo .. hi (NULL scores are skipped, like other aggregates do).
 */
static Datum
HistTrans(FunctionCallInfo fcinfo, int32 lo, int32 hi, const char *what, const char *scale)
{
	ArrayType  *a;
	int64	   *v;
	int			n;
	int32		score;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	score = PG_GETARG_INT32(1);
	if (score < lo || score > hi)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("score %d is outside the scale %d to %d in %s", score, lo, hi, what),
				 errhint("%s", scale)));
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(HistContext(fcinfo));

		a = HistNew(lo, hi);
		MemoryContextSwitchTo(old);
	}
	else if (AggCheckCallContext(fcinfo, NULL))
		a = PG_GETARG_ARRAYTYPE_P(0);
	else
		a = PG_GETARG_ARRAYTYPE_P_COPY(0);
	v = HistData(a, &n, what);
	if (v[0] != lo || v[1] != hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot mix scales in %s", what),
				 errdetail("Scale " INT64_FORMAT " to " INT64_FORMAT " met scale %d to %d.", v[0], v[1], lo, hi),
				 errhint("Aggregate answers given on one scale at a time.")));
	if (pg_add_s64_overflow(v[2 + score - lo], 1, &v[2 + score - lo]))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("score count out of range in %s", what)));
	PG_RETURN_ARRAYTYPE_P(a);
}

PG_FUNCTION_INFO_V1(nps_trans);

/*
 * Transition function of nps_agg(score): scores 0 .. 10.
 */
Datum
nps_trans(PG_FUNCTION_ARGS)
{
	return HistTrans(fcinfo, 0, 10, "nps_agg",
					 "Net Promoter Score answers are whole numbers from 0 to 10.");
}

PG_FUNCTION_INFO_V1(csat_trans);

/*
 * Transition function of csat_agg(score, scale_max): scores 1 .. scale_max,
 * scale_max between 3 and 100.
 */
Datum
csat_trans(PG_FUNCTION_ARGS)
{
	int32		scale;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("scale_max must not be NULL in csat_agg"),
				 errhint("State the top of the scale, for example 5 for a 1-5 scale.")));
	scale = PG_GETARG_INT32(2);
	if (scale < 3 || scale > SCORE_MAX_SCALE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scale_max must be between 3 and %d in csat_agg, not %d", SCORE_MAX_SCALE, scale),
				 errdetail("CSAT counts the top two scores of a scale starting at 1.")));
	return HistTrans(fcinfo, 1, scale, "csat_agg",
					 "Check the scale: answers run from 1 to scale_max.");
}

PG_FUNCTION_INFO_V1(score_hist_combine);

/*
 * Combine function of nps_agg and csat_agg: the sum of two histograms of
 * one scale.
 */
Datum
score_hist_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a;
	ArrayType  *b;
	int64	   *va,
			   *vb;
	int			na,
				nb,
				i;

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	if (PG_ARGISNULL(0))
	{
		MemoryContext old = MemoryContextSwitchTo(HistContext(fcinfo));

		a = PG_GETARG_ARRAYTYPE_P_COPY(1);
		MemoryContextSwitchTo(old);
		(void) HistData(a, &na, "score_hist_combine");
		PG_RETURN_ARRAYTYPE_P(a);
	}
	a = AggCheckCallContext(fcinfo, NULL) ? PG_GETARG_ARRAYTYPE_P(0) : PG_GETARG_ARRAYTYPE_P_COPY(0);
	b = PG_GETARG_ARRAYTYPE_P(1);
	va = HistData(a, &na, "score_hist_combine");
	vb = HistData(b, &nb, "score_hist_combine");
	if (va[0] != vb[0] || va[1] != vb[1])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot mix scales in score_hist_combine"),
				 errdetail("Scale " INT64_FORMAT " to " INT64_FORMAT " met scale " INT64_FORMAT " to " INT64_FORMAT ".",
						   va[0], va[1], vb[0], vb[1])));
	for (i = 2; i < na; i++)
		if (pg_add_s64_overflow(va[i], vb[i], &va[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("score count out of range in score_hist_combine")));
	PG_RETURN_ARRAYTYPE_P(a);
}
