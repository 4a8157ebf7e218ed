/*-------------------------------------------------------------------------
 *
 * model_boot.c
 *	  Bootstrap over customers: <model>_bootstrap(state, replicates, seed) refits a model
 *	  to resamples of a fit_state's customers, fit_state_resample(state, seed, replicate)
 *	  gives one resample as a state, and fit_state_patterns(state) lists a state's patterns
 *	  so that any total over customers can be recomputed per replicate in SQL.
 *
 * A resample draws as many customers as the state holds, with replacement, from its
 * customers: the pattern weights become a multinomial draw, taken pattern by pattern as
 * binomials of the customers still to draw (w*_i ~ Binomial(N - sum_{j<i} w*_j, w_i /
 * sum_{j>=i} w_j)), so a resample re-weights the state's patterns and never re-reads the
 * data. Replicate k of seed s draws from pg_prng seeded with a mix of (s, k) alone, so
 * results repeat and one replicate can be redrawn on its own. Each replicate's fit starts
 * from the estimate on all the data and its Hessian, so it takes a few iterations.
 *
 * What the intervals from the replicates cover: the sampling uncertainty of the estimates
 * (and of totals computed with them) from having observed this finite set of customers.
 * Not the randomness of the customers' future purchases (purchases_interval covers that,
 * with the parameters taken as known), nor a model that does not fit the data.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/typcache.h"

#include "clv.h"

/* Most replicates one call draws. */
#define MAX_REPLICATES 100000

/* Binomials with a smaller mean are drawn exactly (by inversion), larger ones from the normal. */
#define EXACT_MEAN 30.0

/*
 * ReplicateSeed: the seed of replicate k of seed s: s and k mixed by the golden-ratio
 * multiplier, which pg_prng_seed then spreads over its state.
 */
static uint64
ReplicateSeed(int64 seed, int32 replicate)
{
	return (uint64) seed ^ ((uint64) replicate * UINT64CONST(0x9E3779B97F4A7C15));
}

/*
 * Binomial: a Binomial(n, p) draw: by inversion (summing the probabilities from 0, with
 * the smaller of p and 1 - p) when the mean is below EXACT_MEAN, else from the normal
 * approximation with a continuity correction, rounded and clamped to [0, n] (its skewness
 * is then below 0.2 and falls as 1/sqrt(mean)).
 */
static double
Binomial(pg_prng_state *rng, double n, double p)
{
	bool		flip = p > 0.5;
	double		q,
				mean,
				k;

	if (n <= 0 || p <= 0)
		return 0;
	if (p >= 1)
		return n;
	q = flip ? 1 - p : p;
	mean = n * q;
	if (mean < EXACT_MEAN)
	{
		double		u = pg_prng_double(rng);
		double		pk = exp(n * log1p(-q));
		double		cdf = pk;

		k = 0;
		while (u > cdf && k < n)
		{
			pk *= (n - k) / (k + 1) * q / (1 - q);
			k++;
			cdf += pk;
			/* the probabilities left underflow: stop at the last k with mass */
			if (pk == 0 && k > mean)
				break;
		}
	}
	else
	{
		/* Box-Muller from two uniforms in (0, 1] */
		double		u1 = 1 - pg_prng_double(rng),
					u2 = pg_prng_double(rng);
		double		z = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);

		k = floor(mean + z * sqrt(mean * (1 - q)) + 0.5);
		k = Max(0, Min(n, k));
	}
	return flip ? n - k : k;
}

/*
 * Resample: replicate `replicate` of seed `seed`: a multinomial draw of the data's
 * customers over its patterns (weights in data->w), into w (npatterns entries).
 */
static void
Resample(const FitData *data, int64 seed, int32 replicate, double *w)
{
	pg_prng_state rng;
	double		left = (double) data->customers;
	double		rest = data->total_weight;

	pg_prng_seed(&rng, ReplicateSeed(seed, replicate));
	for (int i = 0; i < data->npatterns; i++)
	{
		double		wi = data->rows[(size_t) i * (data->ncols + 1) + data->ncols];

		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		w[i] = i == data->npatterns - 1 ? left : Binomial(&rng, left, wi / rest);
		left -= w[i];
		rest -= wi;
	}
}

/* CheckReplicates: the number of replicates must be 1 .. MAX_REPLICATES. */
static void
CheckReplicates(int32 n)
{
	if (n < 1 || n > MAX_REPLICATES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the number of replicates must be between 1 and %d", MAX_REPLICATES),
				 errdetail("The number given was %d.", n)));
}

/*
 * Bootstrap: the shared body of the <model>_bootstrap functions: (state, replicates,
 * seed) -> (replicate, model) rows, replicate 0 being the fit to all the data (the start
 * of the others) and 1 .. replicates the refits to resamples. A replicate whose fit does
 * not converge is returned as it ended, with its status.
 */
static Datum
Bootstrap(FunctionCallInfo fcinfo, const ModelSpec *spec)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FitState   *st = FitStateCopyCompact(PG_GETARG_DATUM(0), spec->layout);
	int32		replicates = PG_GETARG_INT32(1);
	int64		seed = PG_GETARG_INT64(2);
	FitData		data;
	FitResult	full;
	TupleDesc	modeldesc;
	double	   *w;
	double		theta[CLV_MAX_PARAMS];
	MemoryContext loop,
				old;

	CheckReplicates(replicates);
	InitMaterializedSRF(fcinfo, 0);
	/* the second column is the model's composite type */
	modeldesc = BlessTupleDesc(lookup_rowtype_tupdesc_copy(TupleDescAttr(rsinfo->setDesc, 1)->atttypid, -1));
	FitDataFromState(st, &data);
	if (data.npatterns == 0)
		return (Datum) 0;
	FitModel(spec, &data, &full);
	w = palloc(sizeof(double) * data.npatterns);
	for (int i = 0; i < spec->nparams; i++)
		theta[i] = log(full.params[i]);
	loop = AllocSetContextCreate(CurrentMemoryContext, "bootstrap replicate", ALLOCSET_DEFAULT_SIZES);
	for (int32 k = 0; k <= replicates; k++)
	{
		FitData		rep = data;
		FitResult	res;
		Datum		values[2];
		bool		nulls[2] = {0};

		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(loop);
		if (k == 0)
			res = full;
		else
		{
			/* the same number of customers, re-weighted; from the full fit when it has one */
			Resample(&data, seed, k, w);
			rep.w = w;
			if (full.hessian_ok)
				FitModelFrom(spec, &rep, theta, full.hessian, false, &res);
			else
				FitModelFrom(spec, &rep, NULL, NULL, false, &res);
		}
		values[0] = Int32GetDatum(k);
		values[1] = FitResultDatum(fcinfo, spec, &data, &res, modeldesc);
		MemoryContextSwitchTo(old);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextReset(loop);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(bgnbd_bootstrap);
/* bgnbd_bootstrap(state, replicates, seed): BG/NBD fits to resamples of the customers. */
Datum
bgnbd_bootstrap(PG_FUNCTION_ARGS)
{
	return Bootstrap(fcinfo, &bgnbd_spec);
}

PG_FUNCTION_INFO_V1(mbgnbd_bootstrap);
/* mbgnbd_bootstrap(state, replicates, seed): MBG/NBD fits to resamples of the customers. */
Datum
mbgnbd_bootstrap(PG_FUNCTION_ARGS)
{
	return Bootstrap(fcinfo, &mbgnbd_spec);
}

PG_FUNCTION_INFO_V1(paretonbd_bootstrap);
/* paretonbd_bootstrap(state, replicates, seed): Pareto/NBD fits to resamples of the customers. */
Datum
paretonbd_bootstrap(PG_FUNCTION_ARGS)
{
	return Bootstrap(fcinfo, &pareto_spec);
}

PG_FUNCTION_INFO_V1(bgbb_bootstrap);
/* bgbb_bootstrap(state, replicates, seed): BG/BB fits to resamples of the customers. */
Datum
bgbb_bootstrap(PG_FUNCTION_ARGS)
{
	return Bootstrap(fcinfo, &bgbb_spec);
}

PG_FUNCTION_INFO_V1(gammagamma_bootstrap);
/* gammagamma_bootstrap(state, replicates, seed): Gamma-Gamma fits to resamples of the customers. */
Datum
gammagamma_bootstrap(PG_FUNCTION_ARGS)
{
	return Bootstrap(fcinfo, &gg_spec);
}

PG_FUNCTION_INFO_V1(sbg_bootstrap);
/* sbg_bootstrap(state, replicates, seed): sBG fits to resamples of the customers. */
Datum
sbg_bootstrap(PG_FUNCTION_ARGS)
{
	return Bootstrap(fcinfo, &sbg_spec);
}

PG_FUNCTION_INFO_V1(fit_state_resample);
/*
 * fit_state_resample(state, seed, replicate): replicate `replicate` (1, 2, ...) of seed
 * `seed` as a state: the patterns drawn at least once, with their new weights, exactly as
 * the bootstrap functions drew them; replicate 0 is the state itself, as in their rows.
 */
Datum
fit_state_resample(PG_FUNCTION_ARGS)
{
	FitState   *st = FitStateCopyCompact(PG_GETARG_DATUM(0), 0);
	int64		seed = PG_GETARG_INT64(1);
	int32		replicate = PG_GETARG_INT32(2);
	FitData		data;
	double	   *w;
	int			out = 0;
	int			width = st->ncols + 1;

	if (replicate == 0)
		PG_RETURN_POINTER(st);
	CheckReplicates(replicate);
	FitDataFromState(st, &data);
	w = palloc(sizeof(double) * Max(data.npatterns, 1));
	Resample(&data, seed, replicate, w);
	/* keep the drawn patterns in order (still sorted and distinct), with their weights */
	for (int i = 0; i < st->npatterns; i++)
		if (w[i] > 0)
		{
			memmove(FIT_ROW(st, out), FIT_ROW(st, i), sizeof(double) * width);
			FIT_ROW(st, out)[st->ncols] = w[i];
			out++;
		}
	PG_RETURN_POINTER(FitStateFromRows(st, out));
}

PG_FUNCTION_INFO_V1(fit_state_patterns);
/*
 * fit_state_patterns(state): the patterns of a state of layout rft (frequency, recency, T)
 * or discrete (frequency, recency, periods as t), with their weights.
 */
Datum
fit_state_patterns(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FitState   *st = FitStateCopyCompact(PG_GETARG_DATUM(0), 0);

	if (st->layout != FIT_LAYOUT_RFT && st->layout != FIT_LAYOUT_DISCRETE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("fit_state_patterns lists states of layout \"rft\" or \"discrete\""),
				 errhint("Spend and survival states are read by their fitting functions only.")));
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < st->npatterns; i++)
	{
		const double *row = FIT_ROW(st, i);
		Datum		values[4];
		bool		nulls[4] = {0};

		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
		values[0] = Int32GetDatum((int32) row[0]);
		values[1] = Float8GetDatum(row[1]);
		values[2] = Float8GetDatum(row[2]);
		values[3] = Int64GetDatum((int64) row[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
