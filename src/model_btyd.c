/*-------------------------------------------------------------------------
 *
 * model_btyd.c
 *	  Scoring with the "Buy 'Til You Die" models and the contractual sBG model: expected
 *	  purchases, probability alive, expected spend, discounted CLV, survival, retention and
 *	  DERL (their likelihoods, fitted by the aggregates, are in model_lik.c).
 *
 *	  BG/NBD      Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way".
 *	  Pareto/NBD  Schmittlein, Morrison & Colombo (1987); likelihood as in Fader & Hardie
 *	              (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions".
 *	  MBG/NBD     Batislam, Denizel & Filiztekin (2007).
 *	  BG/BB       Fader, Hardie & Shang (2010), discrete-time transaction opportunities.
 *	  Gamma-Gamma Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves".
 *	  sBG         Fader & Hardie (2007), "How to Project Customer Retention", and (2010)
 *	              "Customer-Base Valuation in a Contractual Setting" for the DERL.
 *
 * Model values are composite types whose first fields are the parameters, followed by
 * log_likelihood and converged (see FitFinal in model_state.c). Scoring functions accept
 * any such row, including one built by hand from published parameters, but refuse a
 * model whose fit did not converge.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "clv.h"

/*
 * The parameters of the last model rows a scoring function read (one per model argument),
 * kept in fn_extra: scoring a table of customers passes the same model row every time.
 */
typedef struct ModelCache
{
	int			len[2];			/* length of the cached row, 0 when none */
	char	   *row[2];			/* copy of the row's bytes */
	double		params[2][CLV_MAX_PARAMS];	/* its checked parameters */
} ModelCache;

/*
 * ReadModel: reads the parameters of the model row in argument argno into p, checking
 * that they are present, positive and finite and that the fit did not fail.
 */
void
ReadModel(FunctionCallInfo fcinfo, int argno, const ModelSpec *spec, double *p)
{
	HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(argno);
	int			len = HeapTupleHeaderGetDatumLength(row);
	ModelCache *cache = (ModelCache *) fcinfo->flinfo->fn_extra;
	bool		isnull;
	Datum		converged;

	if (cache == NULL)
		cache = fcinfo->flinfo->fn_extra =
			MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ModelCache));
	if (argno < 2 && cache->len[argno] == len && memcmp(cache->row[argno], row, len) == 0)
	{
		memcpy(p, cache->params[argno], sizeof(double) * spec->nparams);
		return;
	}

	for (int i = 0; i < spec->nparams; i++)
	{
		Datum		v = GetAttributeByNum(row, i + 1, &isnull);

		p[i] = isnull ? NAN : DatumGetFloat8(v);
		if (!(p[i] > 0 && isfinite(p[i])))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid %s model: parameter %d is not a positive number",
							spec->name, i + 1),
					 errhint("Use a model returned by the fitting aggregate, or build one with positive parameters.")));
	}
	converged = GetAttributeByNum(row, spec->nparams + 2, &isnull);
	if (!isnull && !DatumGetBool(converged))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot score with a %s model whose fit did not converge", spec->name),
				 errhint("Check the model's status field; the data may be too few or degenerate.")));

	if (argno < 2)
	{
		if (cache->row[argno])
			pfree(cache->row[argno]);
		cache->row[argno] = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, len);
		memcpy(cache->row[argno], row, len);
		cache->len[argno] = len;
		memcpy(cache->params[argno], p, sizeof(double) * spec->nparams);
	}
}

/* ReadRft: reads and checks (frequency, recency, T) from arguments first..first+2. */
void
ReadRft(FunctionCallInfo fcinfo, int first, double *x, double *tx, double *T)
{
	double		v[3];

	v[0] = PG_GETARG_INT32(first);
	v[1] = PG_GETARG_FLOAT8(first + 1);
	v[2] = PG_GETARG_FLOAT8(first + 2);
	CheckPattern(FIT_LAYOUT_RFT, v, 1);
	*x = v[0];
	*tx = v[1];
	*T = v[2];
}

/* CheckHorizon: a prediction horizon t must be finite and not negative. */
void
CheckHorizon(double t)
{
	if (!(t >= 0 && isfinite(t)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the prediction horizon must be a finite non-negative number"),
				 errdetail("The horizon given was %g.", t)));
}

/* Finite: returns v, or raises an error when a score could not be computed. */
double
Finite(double v, const char *model)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s score cannot be computed for these parameters", model),
				 errdetail("The computation did not give a finite number."),
				 errhint("Very large horizons or extreme parameters can exceed the series used; try a shorter horizon.")));
	return v;
}

/* BgnbdPAlive: BG/NBD probability that a customer with (x, tx, T) is alive at T. */
static double
BgnbdPAlive(const double *p, double x, double tx, double T)
{
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];

	if (x == 0)
		return 1;
	return 1 / (1 + exp(log(a) - log(b + x - 1) + (r + x) * (log(alpha + T) - log(alpha + tx))));
}

/*
 * BgnbdExpected: BG/NBD expected purchases in (T, T + t] of a customer still alive at T
 * (FHL 2005, eq. 10 without its P(alive) factor).
 */
static double
BgnbdExpected(const double *p, double t, double x, double tx, double T)
{
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		z = t / (alpha + T + t);
	double		f;

	if (t == 0)
		return 0;
	f = Hyp2F1(r + x, b + x, a + b + x - 1, z);
	return (a + b + x - 1) / (a - 1)
		* (1 - exp((r + x) * log((alpha + T) / (alpha + T + t))) * f);
}

/* MbgnbdPAlive: MBG/NBD probability alive at T. */
static double
MbgnbdPAlive(const double *p, double x, double tx, double T)
{
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];

	return 1 / (1 + exp(log(a) - log(b + x) + (r + x) * (log(alpha + T) - log(alpha + tx))));
}

/* MbgnbdExpected: MBG/NBD expected purchases in (T, T + t] of a customer alive at T. */
static double
MbgnbdExpected(const double *p, double t, double x, double tx, double T)
{
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		z = t / (alpha + T + t);
	double		f;

	if (t == 0)
		return 0;
	f = Hyp2F1(r + x, b + x + 1, a + b + x, z);
	return (a + b + x) / (a - 1)
		* (1 - exp((r + x) * log((alpha + T) / (alpha + T + t))) * f);
}

/* ParetoPAlive: Pareto/NBD probability alive at T. */
static double
ParetoPAlive(const double *p, double x, double tx, double T)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	double		la0 = ParetoLogA0(r, alpha, s, beta, x, tx, T);

	return 1 / (1 + exp(log(s) - log(r + s + x) + (r + x) * log(alpha + T)
						+ s * log(beta + T) + la0));
}

/* ParetoExpected: Pareto/NBD expected purchases in (T, T + t] of a customer alive at T. */
static double
ParetoExpected(const double *p, double t, double x, double tx, double T)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	double		scale = (r + x) * (beta + T) / (alpha + T);
	double		g;

	if (t == 0)
		return 0;
	if (fabs(s - 1) < 1e-10)
		g = log((beta + T + t) / (beta + T));
	else
		g = (1 - exp((s - 1) * log((beta + T) / (beta + T + t)))) / (s - 1);
	return scale * g;
}

/*
 * BgFamilySurvival: BG/NBD (or, modified, MBG/NBD) probability that a customer alive at T
 * is still alive at T + t: given alive, lambda ~ Gamma(r + x, alpha + T) and p ~ Beta(a,
 * b') with b' = b + x (+ 1 for MBG/NBD), and dropping out at a purchase leaves the
 * customer alive with probability E[exp(-lambda p t)] = (alpha'/(alpha' + t))^(r+x)
 * 2F1(r + x, b'; a + b'; t / (alpha' + t)) (the Beta integral by Euler's formula, then
 * Pfaff's transformation), alpha' = alpha + T.
 */
static double
BgFamilySurvival(const double *p, double t, double x, double T, bool modified)
{
	double		r = p[0],
				alpha = p[1] + T,
				a = p[2],
				b = p[3] + x + (modified ? 1 : 0);

	if (t == 0)
		return 1;
	return exp((r + x) * log(alpha / (alpha + t))) * Hyp2F1(r + x, b, a + b, t / (alpha + t));
}

/* BgnbdSurvival: BG/NBD P(alive at T + t | alive at T). */
static double
BgnbdSurvival(const double *p, double t, double x, double tx, double T)
{
	return BgFamilySurvival(p, t, x, T, false);
}

/* MbgnbdSurvival: MBG/NBD P(alive at T + t | alive at T). */
static double
MbgnbdSurvival(const double *p, double t, double x, double tx, double T)
{
	return BgFamilySurvival(p, t, x, T, true);
}

/*
 * ParetoSurvival: Pareto/NBD P(alive at T + t | alive at T) = ((beta + T) / (beta + T +
 * t))^s: given alive, mu ~ Gamma(s, beta + T) and lifetimes are memoryless.
 */
static double
ParetoSurvival(const double *p, double t, double x, double tx, double T)
{
	return exp(p[2] * log((p[3] + T) / (p[3] + T + t)));
}

const PurchaseModel bgnbd_purchase = {&bgnbd_spec, BgnbdPAlive, BgnbdExpected, BgnbdSurvival};
const PurchaseModel mbgnbd_purchase = {&mbgnbd_spec, MbgnbdPAlive, MbgnbdExpected, MbgnbdSurvival};
const PurchaseModel pareto_purchase = {&pareto_spec, ParetoPAlive, ParetoExpected, ParetoSurvival};

/*
 * ScoreRft: the shared body of expected_purchases and p_alive for the continuous-time
 * models: model in argument 0, then (t when with_t), frequency, recency, T.
 */
static Datum
ScoreRft(FunctionCallInfo fcinfo, const PurchaseModel *m, bool want_expected)
{
	double		p[CLV_MAX_PARAMS];
	double		x,
				tx,
				T;

	ReadModel(fcinfo, 0, m->spec, p);
	if (want_expected)
	{
		double		t = PG_GETARG_FLOAT8(1);

		CheckHorizon(t);
		ReadRft(fcinfo, 2, &x, &tx, &T);
		PG_RETURN_FLOAT8(Finite(m->expected(p, t, x, tx, T) * m->alive(p, x, tx, T), m->spec->name));
	}
	ReadRft(fcinfo, 1, &x, &tx, &T);
	PG_RETURN_FLOAT8(Finite(m->alive(p, x, tx, T), m->spec->name));
}

PG_FUNCTION_INFO_V1(bgnbd_expected_purchases);
/* bgnbd_expected_purchases(model, t, frequency, recency, T): E[Y(t) | x, t_x, T]. */
Datum
bgnbd_expected_purchases(PG_FUNCTION_ARGS)
{
	return ScoreRft(fcinfo, &bgnbd_purchase, true);
}

PG_FUNCTION_INFO_V1(bgnbd_p_alive);
/* bgnbd_p_alive(model, frequency, recency, T): P(alive at T | x, t_x, T). */
Datum
bgnbd_p_alive(PG_FUNCTION_ARGS)
{
	return ScoreRft(fcinfo, &bgnbd_purchase, false);
}

PG_FUNCTION_INFO_V1(mbgnbd_expected_purchases);
/* mbgnbd_expected_purchases(model, t, frequency, recency, T). */
Datum
mbgnbd_expected_purchases(PG_FUNCTION_ARGS)
{
	return ScoreRft(fcinfo, &mbgnbd_purchase, true);
}

PG_FUNCTION_INFO_V1(mbgnbd_p_alive);
/* mbgnbd_p_alive(model, frequency, recency, T). */
Datum
mbgnbd_p_alive(PG_FUNCTION_ARGS)
{
	return ScoreRft(fcinfo, &mbgnbd_purchase, false);
}

PG_FUNCTION_INFO_V1(paretonbd_expected_purchases);
/* paretonbd_expected_purchases(model, t, frequency, recency, T). */
Datum
paretonbd_expected_purchases(PG_FUNCTION_ARGS)
{
	return ScoreRft(fcinfo, &pareto_purchase, true);
}

PG_FUNCTION_INFO_V1(paretonbd_p_alive);
/* paretonbd_p_alive(model, frequency, recency, T). */
Datum
paretonbd_p_alive(PG_FUNCTION_ARGS)
{
	return ScoreRft(fcinfo, &pareto_purchase, false);
}

PG_FUNCTION_INFO_V1(bgnbd_expected_purchases_new);
/*
 * bgnbd_expected_purchases_new(model, t): expected purchases of a new customer in (0, t]
 * (FHL 2005, eq. 9), the curve a tracking plot compares with cumulative repeat sales.
 */
Datum
bgnbd_expected_purchases_new(PG_FUNCTION_ARGS)
{
	double		p[CLV_MAX_PARAMS];
	double		t = PG_GETARG_FLOAT8(1);
	double		r,
				alpha,
				a,
				b;

	ReadModel(fcinfo, 0, &bgnbd_spec, p);
	CheckHorizon(t);
	r = p[0];
	alpha = p[1];
	a = p[2];
	b = p[3];
	if (t == 0)
		PG_RETURN_FLOAT8(0);
	PG_RETURN_FLOAT8(Finite((a + b - 1) / (a - 1)
							* (1 - exp(r * log(alpha / (alpha + t)))
							   * Hyp2F1(r, b, a + b - 1, t / (alpha + t))),
							bgnbd_spec.name));
}

PG_FUNCTION_INFO_V1(bgnbd_prob_purchases);
/*
 * bgnbd_prob_purchases(model, n, t): P(X(t) = n), the probability that a new customer
 * makes exactly n repeat purchases in (0, t] (FHL 2005, eq. 8).
 */
Datum
bgnbd_prob_purchases(PG_FUNCTION_ARGS)
{
	double		p[CLV_MAX_PARAMS];
	int32		n = PG_GETARG_INT32(1);
	double		t = PG_GETARG_FLOAT8(2);
	double		r,
				alpha,
				a,
				b,
				lab,
				lq,
				lr,
				res,
				tail = 0;

	ReadModel(fcinfo, 0, &bgnbd_spec, p);
	CheckHorizon(t);
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the number of purchases must not be negative"),
				 errdetail("The number given was %d.", n)));
	r = p[0];
	alpha = p[1];
	a = p[2];
	b = p[3];
	if (t == 0)
		PG_RETURN_FLOAT8(n == 0 ? 1.0 : 0.0);
	lab = LogBeta(a, b);
	lq = log(t / (alpha + t));
	lr = r * log(alpha / (alpha + t));
	res = exp(LogBeta(a, b + n) - lab + lgamma(r + n) - lgamma(r) - lgamma(n + 1.0) + lr + n * lq);
	if (n > 0)
	{
		for (int j = 0; j < n; j++)
		{
			CHECK_FOR_INTERRUPTS();
			tail += exp(lgamma(r + j) - lgamma(r) - lgamma(j + 1.0) + lr + j * lq);
		}
		res += exp(LogBeta(a + 1, b + n - 1) - lab) * (1 - tail);
	}
	PG_RETURN_FLOAT8(Finite(res, bgnbd_spec.name));
}

/*
 * ReadDiscrete: reads and checks (frequency, recency, periods) of the BG/BB model from
 * arguments first..first+2.
 */
void
ReadDiscrete(FunctionCallInfo fcinfo, int first, double *x, double *tx, double *n)
{
	double		v[3];

	v[0] = PG_GETARG_INT32(first);
	v[1] = PG_GETARG_INT32(first + 1);
	v[2] = PG_GETARG_INT32(first + 2);
	CheckPattern(FIT_LAYOUT_DISCRETE, v, 1);
	*x = v[0];
	*tx = v[1];
	*n = v[2];
}

PG_FUNCTION_INFO_V1(bgbb_p_alive);
/*
 * bgbb_p_alive(model, frequency, recency, periods): probability that a BG/BB customer is
 * still alive after the last of the `periods` opportunities.
 */
Datum
bgbb_p_alive(PG_FUNCTION_ARGS)
{
	double		p[CLV_MAX_PARAMS];
	double		x,
				tx,
				n;

	ReadModel(fcinfo, 0, &bgbb_spec, p);
	ReadDiscrete(fcinfo, 1, &x, &tx, &n);
	PG_RETURN_FLOAT8(Finite(exp(LogBeta(p[0] + x, p[1] + n - x) - LogBeta(p[0], p[1])
								+ LogBeta(p[2], p[3] + n + 1) - LogBeta(p[2], p[3])
								- BgbbLogL(p, x, tx, n)), bgbb_spec.name));
}

/*
 * BgbbExpected: expected transactions of a BG/BB customer (x transactions in n
 * opportunities, the last at t_x) in the next m opportunities (Fader, Hardie & Shang 2010,
 * eq. 13).
 */
double
BgbbExpected(const double *p, double m, double x, double tx, double n)
{
	double		alpha = p[0],
				beta = p[1],
				gamma = p[2],
				delta = p[3],
				res;

	if (m == 0)
		return 0;
	/* the closed form divides by gamma - 1; sum the expected transactions otherwise */
	if (fabs(gamma - 1) < 1e-8)
	{
		res = 0;
		/* m can be 2^31 - 1: an int64 counter (an int one would overflow past it), interruptible */
		for (int64 i = 1; i <= (int64) m; i++)
		{
			CHECK_FOR_INTERRUPTS();
			res += exp(LogBeta(gamma, delta + n + i) - LogBeta(gamma, delta));
		}
	}
	else
		res = delta / (gamma - 1) * exp(lgamma(gamma + delta) - lgamma(1 + delta))
			* (exp(lgamma(1 + delta + n) - lgamma(gamma + delta + n))
			   - exp(lgamma(1 + delta + n + m) - lgamma(gamma + delta + n + m)));
	return res * exp(LogBeta(alpha + x + 1, beta + n - x) - LogBeta(alpha, beta)
					 - BgbbLogL(p, x, tx, n));
}

PG_FUNCTION_INFO_V1(bgbb_expected_purchases);
/*
 * bgbb_expected_purchases(model, future_periods, frequency, recency, periods): expected
 * transactions in the next future_periods opportunities (BgbbExpected).
 */
Datum
bgbb_expected_purchases(PG_FUNCTION_ARGS)
{
	double		p[CLV_MAX_PARAMS];
	int32		m = PG_GETARG_INT32(1);
	double		x,
				tx,
				n;

	ReadModel(fcinfo, 0, &bgbb_spec, p);
	if (m < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the number of future periods must not be negative"),
				 errdetail("The number given was %d.", m)));
	ReadDiscrete(fcinfo, 2, &x, &tx, &n);
	PG_RETURN_FLOAT8(Finite(BgbbExpected(p, m, x, tx, n), bgbb_spec.name));
}

PG_FUNCTION_INFO_V1(gammagamma_expected_spend);
/*
 * gammagamma_expected_spend(model, frequency, monetary_value): the conditional expected
 * value of a customer's transactions, E(M | x, mbar) = (p (gamma + x mbar)) / (p x + q - 1);
 * for x = 0 the population mean p gamma / (q - 1).
 */
Datum
gammagamma_expected_spend(PG_FUNCTION_ARGS)
{
	double		par[CLV_MAX_PARAMS];
	double		v[2];
	double		p,
				q,
				g;

	ReadModel(fcinfo, 0, &gg_spec, par);
	v[0] = PG_GETARG_INT32(1);
	v[1] = PG_GETARG_FLOAT8(2);
	CheckPattern(FIT_LAYOUT_SPEND, v, 1);
	p = par[0];
	q = par[1];
	g = par[2];
	if (q <= 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected spend is infinite for a Gamma-Gamma model with q <= 1"),
				 errdetail("The model's q is %g.", q)));
	if (v[0] == 0)
		PG_RETURN_FLOAT8(p * g / (q - 1));
	PG_RETURN_FLOAT8(Finite(p * (g + v[0] * v[1]) / (p * v[0] + q - 1), gg_spec.name));
}

/*
 * ReadClvArgs: reads and checks the arguments of clv and clv_schedule (purchase model,
 * spend model, frequency, recency, T, monetary_value, periods, discount_rate,
 * period_length) into c, with the customer's expected spend per purchase from the
 * Gamma-Gamma model: p (gamma + x mbar) / (p x + q - 1), for x = 0 the population mean
 * p gamma / (q - 1).
 */
void
ReadClvArgs(FunctionCallInfo fcinfo, const PurchaseModel *m, ClvArgs *c)
{
	double		g[CLV_MAX_PARAMS];
	double		v[2];

	ReadModel(fcinfo, 0, m->spec, c->p);
	ReadModel(fcinfo, 1, &gg_spec, g);
	ReadRft(fcinfo, 2, &c->x, &c->tx, &c->T);
	v[0] = c->x;
	v[1] = PG_GETARG_FLOAT8(5);
	CheckPattern(FIT_LAYOUT_SPEND, v, 1);
	c->periods = PG_GETARG_INT32(6);
	c->rate = PG_GETARG_FLOAT8(7);
	c->length = PG_GETARG_FLOAT8(8);
	if (c->periods < 0 || c->periods > 100000)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the number of periods must be between 0 and 100000"),
				 errdetail("The number given was %d.", c->periods)));
	if (!(c->rate >= 0 && isfinite(c->rate)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the discount rate must be a finite non-negative number"),
				 errdetail("The rate given was %g.", c->rate)));
	if (!(c->length > 0 && isfinite(c->length)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the period length must be a positive number"),
				 errdetail("The length given was %g.", c->length),
				 errhint("Give the length of one discounting period in the model's time unit, for example 4.345 for months with a model fitted in weeks.")));
	if (g[1] <= 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("expected spend is infinite for a Gamma-Gamma model with q <= 1"),
				 errdetail("The model's q is %g.", g[1])));
	if (c->x == 0)
		c->spend = g[0] * g[2] / (g[1] - 1);
	else
		c->spend = g[0] * (g[2] + c->x * v[1]) / (g[0] * c->x + g[1] - 1);
	c->alive = m->alive(c->p, c->x, c->tx, c->T);
}

/*
 * Clv: the shared body of the clv functions: spend times the expected purchases of each
 * of `periods` periods of length `period_length` (in the model's time unit), discounted at
 * discount_rate per period. P(alive) is the same factor in every period's expectation, so
 * it is computed once.
 */
static Datum
Clv(FunctionCallInfo fcinfo, const PurchaseModel *m)
{
	ClvArgs		c;
	double		clv = 0,
				prev = 0;

	ReadClvArgs(fcinfo, m, &c);
	for (int i = 1; i <= c.periods; i++)
	{
		double		cum = m->expected(c.p, i * c.length, c.x, c.tx, c.T);

		clv += c.spend * c.alive * (cum - prev) / pow(1 + c.rate, i);
		prev = cum;
	}
	PG_RETURN_FLOAT8(Finite(clv, m->spec->name));
}

PG_FUNCTION_INFO_V1(bgnbd_clv);
/* bgnbd_clv: discounted CLV with a BG/NBD purchase model and a Gamma-Gamma spend model. */
Datum
bgnbd_clv(PG_FUNCTION_ARGS)
{
	return Clv(fcinfo, &bgnbd_purchase);
}

PG_FUNCTION_INFO_V1(paretonbd_clv);
/* paretonbd_clv: discounted CLV with a Pareto/NBD purchase model. */
Datum
paretonbd_clv(PG_FUNCTION_ARGS)
{
	return Clv(fcinfo, &pareto_purchase);
}

PG_FUNCTION_INFO_V1(mbgnbd_clv);
/* mbgnbd_clv: discounted CLV with an MBG/NBD purchase model. */
Datum
mbgnbd_clv(PG_FUNCTION_ARGS)
{
	return Clv(fcinfo, &mbgnbd_purchase);
}

/* CheckPeriod: an sBG period number must not be negative. */
static void
CheckPeriod(int32 t)
{
	if (t < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the period must not be negative"),
				 errdetail("The period given was %d.", t)));
}

PG_FUNCTION_INFO_V1(sbg_survival);
/* sbg_survival(model, t): S(t) = B(alpha, beta + t) / B(alpha, beta), share active after t periods. */
Datum
sbg_survival(PG_FUNCTION_ARGS)
{
	double		p[CLV_MAX_PARAMS];
	int32		t = PG_GETARG_INT32(1);

	ReadModel(fcinfo, 0, &sbg_spec, p);
	CheckPeriod(t);
	PG_RETURN_FLOAT8(exp(LogBeta(p[0], p[1] + t) - LogBeta(p[0], p[1])));
}

PG_FUNCTION_INFO_V1(sbg_retention);
/*
 * sbg_retention(model, t): r(t) = (beta + t - 1) / (alpha + beta + t - 1), the share of
 * customers active in period t - 1 who renew for period t (t >= 1).
 */
Datum
sbg_retention(PG_FUNCTION_ARGS)
{
	double		p[CLV_MAX_PARAMS];
	int32		t = PG_GETARG_INT32(1);

	ReadModel(fcinfo, 0, &sbg_spec, p);
	if (t < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the retention rate is defined for periods 1 and later"),
				 errdetail("The period given was %d.", t)));
	PG_RETURN_FLOAT8((p[1] + t - 1) / (p[0] + p[1] + t - 1));
}

PG_FUNCTION_INFO_V1(sbg_derl);
/*
 * sbg_derl(model, discount_rate, renewals): discounted expected residual lifetime of a
 * customer who has made `renewals` renewals (is in period n = renewals + 1), Fader & Hardie
 * (2010) eq. 6: (beta + n - 1) / (alpha + beta + n - 1) 2F1(1, beta + n; alpha + beta + n;
 * 1 / (1 + d)), the expected number of further payments, each discounted to the present.
 */
Datum
sbg_derl(PG_FUNCTION_ARGS)
{
	double		p[CLV_MAX_PARAMS];
	double		d = PG_GETARG_FLOAT8(1);
	int32		renewals = PG_GETARG_INT32(2);
	double		n,
				alpha,
				beta;

	ReadModel(fcinfo, 0, &sbg_spec, p);
	if (!(d > 0 && isfinite(d)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the discount rate must be a positive number"),
				 errdetail("The rate given was %g.", d),
				 errhint("Without discounting the expected residual lifetime can be infinite.")));
	CheckPeriod(renewals);
	alpha = p[0];
	beta = p[1];
	n = renewals + 1.0;
	PG_RETURN_FLOAT8(Finite((beta + n - 1) / (alpha + beta + n - 1)
							* Hyp2F1(1, beta + n, alpha + beta + n, 1 / (1 + d)),
							sbg_spec.name));
}
