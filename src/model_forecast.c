/*-------------------------------------------------------------------------
 *
 * model_forecast.c
 *	  Forecasts for one customer after the end of observation T: expected purchases in a
 *	  window (T + t1, T + t2], the conditional distribution of the number of purchases in it
 *	  (prob_purchases) with an equal-tailed prediction interval from it
 *	  (purchases_interval), and CLV as a schedule per period (clv_schedule), for BG/NBD,
 *	  MBG/NBD, Pareto/NBD and (in opportunities) BG/BB.
 *
 * The conditional distribution mixes "dropped out by T" (no purchases) with the future of
 * a customer alive at T, whose posterior given the data is, by the models' definitions
 * (the likelihood of being alive at T separates):
 *	 BG/NBD, MBG/NBD  lambda ~ Gamma(r + x, alpha + T), p ~ Beta(a, b + x (+ 1 for MBG))
 *	 Pareto/NBD       lambda ~ Gamma(r + x, alpha + T), mu ~ Gamma(s, beta + T)
 *	 BG/BB            p ~ Beta(alpha + x, beta + n - x), theta ~ Beta(gamma, delta + n)
 * The sums and integrals over these posteriors are below, each with its derivation; every
 * loop is bounded and checks for interrupts. The distributions cover the customer's own
 * randomness with the model's parameters taken as known: they do not include the
 * uncertainty of the estimates (bootstrap_fit does, for totals).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "clv.h"

/* Terms of a forecast's sums (over unobserved purchases, opportunities) at most. */
#define FORECAST_MAX_TERMS 1000000

/* Largest number of purchases a distribution is computed up to. */
#define FORECAST_MAX_N 1000000

/* Largest BG/BB window, in opportunities (its distribution costs window^2 steps). */
#define BGBB_MAX_WINDOW 10000

/* Nodes of each Gauss-Legendre panel of the Pareto/NBD integral. */
#define GL_NODES 20

/* Mass below which a tail of a sum is left out. */
#define TAIL_EPS 1e-15

/*
 * ReadWindow: reads and checks the window (t1, t2] from arguments argno, argno + 1: finite,
 * 0 <= t1 <= t2.
 */
static void
ReadWindow(FunctionCallInfo fcinfo, int argno, double *t1, double *t2)
{
	*t1 = PG_GETARG_FLOAT8(argno);
	*t2 = PG_GETARG_FLOAT8(argno + 1);
	if (!(*t1 >= 0 && isfinite(*t1) && *t2 >= *t1 && isfinite(*t2)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid forecast window (%g, %g]", *t1, *t2),
				 errdetail("The window must satisfy 0 <= t1 <= t2, both finite."),
				 errhint("t1 and t2 count model time units after the end of observation T.")));
}

/*
 * BgFamilyPmf: BG/NBD (or, modified, MBG/NBD) distribution of the number of purchases in
 * (T + t1, T + t2] of a customer alive at T, into q[0..nmax].
 *
 * Given lambda and p, the customer is alive at T + t1 when none of the K ~ Poisson(lambda
 * t1) purchases in (T, T + t1] was followed by a dropout, and then, over L = t2 - t1,
 * P(N = 0) = e^(-lambda L) and P(N = n) = (1-p)^(n-1) [p P(M >= n) + (1-p) P(M = n)] with M ~
 * Poisson(lambda L). Summing over K = k and integrating over the posterior:
 *	 q(0) += Bp(k, 0) NB2(k, 0),
 *	 q(n) += Bp(k+n-1, 1) [NB1(k) - sum_{j<n} NB2(k, j)] + Bp(k+n, 0) NB2(k, n),
 * with Bp(m, e) = E[(1-p)^m p^e] = B(a + e, b' + m) / B(a, b'), NB1(k) = E[Pois(k; lambda
 * t1)] (negative binomial), NB2(k, j) = E[Pois(k; lambda t1) Pois(j; lambda L)] =
 * Gamma(r'+k+j)/(Gamma(r') k! j!) alpha'^r' t1^k L^j / (alpha' + t1 + L)^(r'+k+j); whatever
 * mass is left (dropped out by T + t1) goes to q(0). The sum over k stops when the NB1
 * mass left is below TAIL_EPS (each k adds at most NB1(k) in all). Returns false when it
 * does not within FORECAST_MAX_TERMS.
 */
static bool
BgFamilyPmf(const double *p, bool modified, double x, double T, double t1, double t2,
			int nmax, double *q)
{
	double		r1 = p[0] + x,
				al = p[1] + T,
				a = p[2],
				b1 = p[3] + x + (modified ? 1 : 0);
	double		L = t2 - t1;
	double		lnb1 = r1 * log(al / (al + t1)),	/* log NB1(0) */
				lnb2 = r1 * log(al / (al + t1 + L)),	/* log NB2(0, 0) */
				lbp = 0,		/* log Bp(k, 0) */
				mass = 0,		/* sum of NB1 so far */
				alive = 0;		/* P(alive at T + t1) so far */
	double	   *nb2 = palloc(sizeof(double) * (nmax + 1));

	memset(q, 0, sizeof(double) * (nmax + 1));
	for (int64 k = 0;; k++)
	{
		double		nb1 = exp(lnb1);
		double		cum = 0,
					lb = lbp;

		if ((k & 1023) == 1023)
			CHECK_FOR_INTERRUPTS();
		if (k >= FORECAST_MAX_TERMS)
		{
			pfree(nb2);
			return false;
		}
		/* NB2(k, j), j = 0 .. nmax */
		nb2[0] = exp(lnb2);
		for (int j = 0; j < nmax; j++)
			nb2[j + 1] = nb2[j] * (r1 + k + j) / (j + 1) * L / (al + t1 + L);
		q[0] += exp(lbp) * nb2[0];
		alive += exp(lbp) * nb1;
		/* lb runs over log Bp(k + n - 1, 0), n = 1 .. nmax */
		for (int n = 1; n <= nmax; n++)
		{
			double		bp1 = exp(lb) * a / (a + b1 + k + n - 1);	/* Bp(k+n-1, 1) */

			cum += nb2[n - 1];
			lb += log((b1 + k + n - 1) / (a + b1 + k + n - 1));	/* now log Bp(k+n, 0) */
			q[n] += bp1 * Max(nb1 - cum, 0) + exp(lb) * nb2[n];
		}
		mass += nb1;
		if (t1 == 0 || 1 - mass < TAIL_EPS || (nb1 == 0 && k > r1 * t1 / al))
			break;
		/* step k: NB1, NB2(k, 0) and Bp(k, 0) to k + 1 */
		lnb1 += log((r1 + k) / (k + 1) * t1 / (al + t1));
		lnb2 += log((r1 + k) / (k + 1) * t1 / (al + t1 + L));
		lbp += log((b1 + k) / (a + b1 + k));
	}
	q[0] += Max(1 - alive, 0);
	pfree(nb2);
	return true;
}

/*
 * AddNbd: adds weight times the negative binomial NBD(n; u) = Gamma(r+n)/(Gamma(r) n!)
 * (al/(al+u))^r (u/(al+u))^n to q[n], n = 0 .. nmax.
 */
static void
AddNbd(double *q, int nmax, double r, double al, double u, double weight)
{
	double		lnbd = r * log(al / (al + u));

	for (int n = 0; n <= nmax; n++)
	{
		q[n] += weight * exp(lnbd);
		lnbd += log((r + n) / (n + 1) * u / (al + u));
	}
}

/* The Gauss-Legendre nodes and weights on [-1, 1], computed once per backend. */
static double gl_x[GL_NODES],
			gl_w[GL_NODES];
static bool gl_ready = false;

/*
 * ParetoPmf: Pareto/NBD distribution of the number of purchases in (T + t1, T + t2] of a
 * customer alive at T, into q[0..nmax]. Lifetimes are memoryless: the customer is alive at
 * T + t1 with probability S1 = ((beta + T) / (beta'))^s, beta' = beta + T + t1, and then mu
 * ~ Gamma(s, beta'); over L = t2 - t1 the purchases are Poisson(lambda min(L, lifetime)):
 *	 P(n | alive at T + t1) = (beta'/(beta'+L))^s NBD(n; L) + int_0^L s beta'^s
 *		 (beta'+u)^-(s+1) NBD(n; u) du,  NBD(n; u) = Gamma(r'+n)/(Gamma(r') n!)
 *		 (alpha'/(alpha'+u))^r' (u/(alpha'+u))^n,
 * the integral by Gauss-Legendre quadrature on panels growing geometrically from the
 * smaller of the scales alpha' = alpha + T and beta' (where the integrand changes fastest)
 * to L. The mass not alive at T + t1 goes to q(0).
 */
static void
ParetoPmf(const double *p, double x, double T, double t1, double t2, int nmax, double *q)
{
	double		r1 = p[0] + x,
				al = p[1] + T,
				s = p[2],
				be = p[3] + T + t1;
	double		L = t2 - t1;
	double		s1 = exp(s * log((p[3] + T) / be));
	double		lo = 0,
				hi = Min(L, Min(al, be) / 16);

	if (!gl_ready)
	{
		GaussLegendre(GL_NODES, gl_x, gl_w);
		gl_ready = true;
	}
	memset(q, 0, sizeof(double) * (nmax + 1));

	AddNbd(q, nmax, r1, al, L, exp(s * log(be / (be + L))));
	while (lo < L)
	{
		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < GL_NODES; i++)
		{
			double		u = (lo + hi) / 2 + (hi - lo) / 2 * gl_x[i];
			double		dens = s / be * exp(-(s + 1) * log1p(u / be));

			AddNbd(q, nmax, r1, al, u, gl_w[i] * (hi - lo) / 2 * dens);
		}
		lo = hi;
		hi = Min(L, hi * 4);
	}
	for (int n = 0; n <= nmax; n++)
		q[n] *= s1;
	q[0] += 1 - s1;
}

/*
 * BgbbPmf: BG/BB distribution of the number of transactions at opportunities n + t1 + 1
 * .. n + t2 of a customer alive after opportunity n, into q[0..nmax]. A customer alive at
 * the start of an opportunity dies with probability theta, else transacts with
 * probability p: with m = t2 - t1 the window survives J opportunities, P(J = j) =
 * (1-theta)^(t1+j) theta for j < m and (1-theta)^(t1+m) for j = m, and given J = j the
 * transactions are Binomial(j, p); over the posterior,
 *	 P(J = j) -> B(gamma+1, delta'+t1+j) / B(gamma, delta') (j < m), B(gamma, delta'+t1+m)
 *	 / B(gamma, delta'), and the binomial -> the beta-binomial with (alpha', beta'),
 * alpha' = alpha + x, beta' = beta + n - x, delta' = delta + n. The mass dead by the
 * window's start goes to q(0).
 */
static void
BgbbPmf(const double *p, double x, double n, int t1, int t2, int nmax, double *q)
{
	double		a1 = p[0] + x,
				b1 = p[1] + n - x,
				g = p[2],
				d1 = p[3] + n;
	double		lgd = LogBeta(g, d1);
	int			m = t2 - t1;
	double		in_window = 0;

	memset(q, 0, sizeof(double) * (nmax + 1));
	for (int j = 0; j <= m; j++)
	{
		double		pj = exp((j < m ? LogBeta(g + 1, d1 + t1 + j) : LogBeta(g, d1 + t1 + m)) - lgd);
		double		lbb = LogBeta(a1, b1 + j) - LogBeta(a1, b1);	/* log P(0 of j) */

		CHECK_FOR_INTERRUPTS();
		in_window += pj;
		for (int k = 0; k <= Min(j, nmax); k++)
		{
			q[k] += pj * exp(lbb);
			/* beta-binomial: P(k+1 of j) / P(k of j) */
			if (k < j)
				lbb += log((double) (j - k) / (k + 1) * (a1 + k) / (b1 + j - k - 1));
		}
	}
	q[0] += Max(1 - in_window, 0);
}

/* A customer of a continuous-time model or of BG/BB, and which model. */
typedef struct ForecastCustomer
{
	const PurchaseModel *m;		/* continuous-time model, or NULL for BG/BB */
	double		p[CLV_MAX_PARAMS];	/* parameters */
	double		x;				/* frequency */
	double		tx;				/* recency */
	double		T;				/* age T, or BG/BB's number of opportunities n */
	double		alive;			/* P(alive at T | data); BG/BB: alive after n */
} ForecastCustomer;

/*
 * ReadForecastCustomer: the model in argument 0 (of model m, or BG/BB when m is NULL) and
 * the customer's (frequency, recency, T or periods) from argument `first` on.
 */
static void
ReadForecastCustomer(FunctionCallInfo fcinfo, const PurchaseModel *m, int first,
					 ForecastCustomer *c)
{
	c->m = m;
	if (m)
	{
		ReadModel(fcinfo, 0, m->spec, c->p);
		ReadRft(fcinfo, first, &c->x, &c->tx, &c->T);
		c->alive = m->alive(c->p, c->x, c->tx, c->T);
	}
	else
	{
		ReadModel(fcinfo, 0, &bgbb_spec, c->p);
		ReadDiscrete(fcinfo, first, &c->x, &c->tx, &c->T);
		/* alive through all n opportunities: that term's share of the likelihood */
		c->alive = exp(LogBeta(c->p[0] + c->x, c->p[1] + c->T - c->x) - LogBeta(c->p[0], c->p[1])
					   + LogBeta(c->p[2], c->p[3] + c->T) - LogBeta(c->p[2], c->p[3])
					   - BgbbLogL(c->p, c->x, c->tx, c->T));
	}
}

/* ModelName: the customer's model's name, for messages. */
static const char *
ModelName(const ForecastCustomer *c)
{
	return c->m ? c->m->spec->name : bgbb_spec.name;
}

/* WindowExpected: expected purchases in the window (t1, t2] after T. */
static double
WindowExpected(const ForecastCustomer *c, double t1, double t2)
{
	if (c->m == NULL)
		return BgbbExpected(c->p, t2, c->x, c->tx, c->T) - BgbbExpected(c->p, t1, c->x, c->tx, c->T);
	return c->alive * (c->m->expected(c->p, t2, c->x, c->tx, c->T)
					   - c->m->expected(c->p, t1, c->x, c->tx, c->T));
}

/*
 * WindowPmf: the distribution of the number of purchases in (t1, t2] after T, given the
 * data, into q[0..nmax] (palloc'd): the alive customer's mixed with "dropped out by T".
 */
static double *
WindowPmf(const ForecastCustomer *c, double t1, double t2, int nmax)
{
	double	   *q = palloc(sizeof(double) * (nmax + 1));
	bool		ok = true;

	if (c->m == &pareto_purchase)
		ParetoPmf(c->p, c->x, c->T, t1, t2, nmax, q);
	else if (c->m)
		ok = BgFamilyPmf(c->p, c->m == &mbgnbd_purchase, c->x, c->T, t1, t2, nmax, q);
	else
		BgbbPmf(c->p, c->x, c->T, (int) t1, (int) t2, nmax, q);
	for (int n = 0; n <= nmax && ok; n++)
	{
		q[n] = c->alive * q[n] + (n == 0 ? 1 - c->alive : 0);
		if (!isfinite(q[n]))
			ok = false;
	}
	if (!ok)
		(void) Finite(NAN, ModelName(c));
	return q;
}

/*
 * ForecastArgs: reads (model, t1, t2, frequency, recency, T) with the window starting at
 * argument wpos and the customer after it; BG/BB windows are whole opportunities.
 */
static void
ForecastArgs(FunctionCallInfo fcinfo, const PurchaseModel *m, int wpos, ForecastCustomer *c,
			 double *t1, double *t2)
{
	if (m)
		ReadWindow(fcinfo, wpos, t1, t2);
	else
	{
		int32		from = PG_GETARG_INT32(wpos),
					to = PG_GETARG_INT32(wpos + 1);

		if (from < 0 || to < from)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid forecast window (%d, %d]", from, to),
					 errdetail("The window must satisfy 0 <= from_period <= to_period."),
					 errhint("The window counts opportunities after the last one observed.")));
		*t1 = from;
		*t2 = to;
	}
	ReadForecastCustomer(fcinfo, m, wpos + 2, c);
	if (m == NULL && *t2 - *t1 > BGBB_MAX_WINDOW)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a BG/BB forecast window spans at most %d opportunities", BGBB_MAX_WINDOW),
				 errdetail("The window given spans %.0f.", *t2 - *t1)));
}

/*
 * ExpectedWindow: the shared body of the window forms of expected_purchases: (model, t1,
 * t2, frequency, recency, T).
 */
static Datum
ExpectedWindow(FunctionCallInfo fcinfo, const PurchaseModel *m)
{
	ForecastCustomer c;
	double		t1,
				t2;

	ForecastArgs(fcinfo, m, 1, &c, &t1, &t2);
	PG_RETURN_FLOAT8(Finite(WindowExpected(&c, t1, t2), ModelName(&c)));
}

/*
 * ProbWindow: the shared body of the conditional forms of prob_purchases: (model, n, t1,
 * t2, frequency, recency, T): P(exactly n purchases in (T + t1, T + t2] | data).
 */
static Datum
ProbWindow(FunctionCallInfo fcinfo, const PurchaseModel *m)
{
	ForecastCustomer c;
	int32		n = PG_GETARG_INT32(1);
	double		t1,
				t2;
	double	   *q;

	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the number of purchases must not be negative"),
				 errdetail("The number given was %d.", n)));
	if (n > FORECAST_MAX_N)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the number of purchases must be at most %d", FORECAST_MAX_N)));
	ForecastArgs(fcinfo, m, 2, &c, &t1, &t2);
	if (m == NULL && n > t2 - t1)
		PG_RETURN_FLOAT8(0);
	q = WindowPmf(&c, t1, t2, n);
	PG_RETURN_FLOAT8(Max(q[n], 0));
}

/*
 * PredictionInterval: the shared body of purchases_interval: (model, t1, t2, frequency, recency, T,
 * level) -> (lower, upper, coverage, expected): the equal-tailed interval of the
 * conditional distribution, lower = the smallest n with P(N <= n) >= (1 - level) / 2,
 * upper = the smallest n with P(N <= n) >= 1 - (1 - level) / 2, so that P(N < lower) and
 * P(N > upper) are each at most (1 - level) / 2 and the coverage P(lower <= N <= upper)
 * is at least level. The distribution is computed up to a bound doubled until it holds
 * the upper tail.
 */
static Datum
PredictionInterval(FunctionCallInfo fcinfo, const PurchaseModel *m)
{
	ForecastCustomer c;
	double		t1,
				t2,
				level = PG_GETARG_FLOAT8(6),
				tail,
				mean;
	double	   *q = NULL;
	int			nmax,
				lower = -1,
				upper = -1;
	double		cdf = 0,
				below = 0;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {0};

	if (!(level > 0 && level < 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the interval's level must be between 0 and 1, exclusive"),
				 errdetail("The level given was %g.", level),
				 errhint("For a 90%% interval give 0.9.")));
	ForecastArgs(fcinfo, m, 1, &c, &t1, &t2);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tail = (1 - level) / 2;
	mean = Finite(WindowExpected(&c, t1, t2), ModelName(&c));
	nmax = (int) Min(FORECAST_MAX_N, 16 + 4 * ceil(mean));
	if (m == NULL)
		nmax = Min(nmax, (int) (t2 - t1));
	for (;;)
	{
		q = WindowPmf(&c, t1, t2, nmax);
		cdf = 0;
		lower = upper = -1;
		for (int n = 0; n <= nmax; n++)
		{
			cdf += Max(q[n], 0);
			if (lower < 0 && cdf >= tail)
			{
				lower = n;
				below = cdf - Max(q[n], 0);
			}
			if (cdf >= 1 - tail)
			{
				upper = n;
				break;
			}
		}
		if (upper >= 0 || (m == NULL && nmax == (int) (t2 - t1)))
			break;
		if (nmax >= FORECAST_MAX_N)
			(void) Finite(NAN, ModelName(&c));
		pfree(q);
		nmax = (int) Min(FORECAST_MAX_N, 2 * (double) nmax);
	}
	/* BG/BB: the whole support is computed; rounding can leave the last tail short */
	if (upper < 0)
		upper = nmax;
	if (lower < 0)
		lower = upper;
	values[0] = Int32GetDatum(lower);
	values[1] = Int32GetDatum(upper);
	values[2] = Float8GetDatum(Min(1, cdf - below));
	values[3] = Float8GetDatum(mean);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/*
 * Schedule: the shared body of clv_schedule: clv's arguments -> one row per discounting
 * period i = 1 .. periods of length L: (period, t_start, t_end, expected_purchases =
 * P(alive at T) (E(iL) - E((i-1)L)), expected_spend per purchase, expected_revenue,
 * discount_factor = (1 + d)^-i, discounted_value, cumulative_value, p_alive = P(alive at
 * T + iL | data)). The discounted values are the terms clv() adds up, in the same order,
 * so their sum is clv().
 */
static Datum
Schedule(FunctionCallInfo fcinfo, const PurchaseModel *m)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ClvArgs		c;
	double		prev = 0,
				total = 0;

	ReadClvArgs(fcinfo, m, &c);
	InitMaterializedSRF(fcinfo, 0);
	for (int i = 1; i <= c.periods; i++)
	{
		Datum		values[10];
		bool		nulls[10] = {0};
		double		cum = m->expected(c.p, i * c.length, c.x, c.tx, c.T);
		double		purchases = c.alive * (cum - prev);
		double		factor = 1 / pow(1 + c.rate, i);
		double		value = c.spend * c.alive * (cum - prev) / pow(1 + c.rate, i);

		CHECK_FOR_INTERRUPTS();
		total += value;
		values[0] = Int32GetDatum(i);
		values[1] = Float8GetDatum((i - 1) * c.length);
		values[2] = Float8GetDatum(i * c.length);
		values[3] = Float8GetDatum(Finite(purchases, m->spec->name));
		values[4] = Float8GetDatum(c.spend);
		values[5] = Float8GetDatum(c.spend * purchases);
		values[6] = Float8GetDatum(factor);
		values[7] = Float8GetDatum(Finite(value, m->spec->name));
		values[8] = Float8GetDatum(total);
		values[9] = Float8GetDatum(Finite(c.alive * m->survival(c.p, i * c.length, c.x, c.tx, c.T),
										  m->spec->name));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		prev = cum;
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(bgnbd_expected_window);
/* bgnbd_expected_window(model, t1, t2, frequency, recency, T): BG/NBD expected purchases in the window. */
Datum
bgnbd_expected_window(PG_FUNCTION_ARGS)
{
	return ExpectedWindow(fcinfo, &bgnbd_purchase);
}

PG_FUNCTION_INFO_V1(bgnbd_prob_window);
/* bgnbd_prob_window(model, n, ...): BG/NBD P(exactly n purchases in the window | data). */
Datum
bgnbd_prob_window(PG_FUNCTION_ARGS)
{
	return ProbWindow(fcinfo, &bgnbd_purchase);
}

PG_FUNCTION_INFO_V1(bgnbd_purchases_interval);
/* bgnbd_purchases_interval(model, ..., level): BG/NBD prediction interval for the window. */
Datum
bgnbd_purchases_interval(PG_FUNCTION_ARGS)
{
	return PredictionInterval(fcinfo, &bgnbd_purchase);
}

PG_FUNCTION_INFO_V1(mbgnbd_expected_window);
/* mbgnbd_expected_window(model, t1, t2, frequency, recency, T): MBG/NBD expected purchases in the window. */
Datum
mbgnbd_expected_window(PG_FUNCTION_ARGS)
{
	return ExpectedWindow(fcinfo, &mbgnbd_purchase);
}

PG_FUNCTION_INFO_V1(mbgnbd_prob_window);
/* mbgnbd_prob_window(model, n, ...): MBG/NBD P(exactly n purchases in the window | data). */
Datum
mbgnbd_prob_window(PG_FUNCTION_ARGS)
{
	return ProbWindow(fcinfo, &mbgnbd_purchase);
}

PG_FUNCTION_INFO_V1(mbgnbd_purchases_interval);
/* mbgnbd_purchases_interval(model, ..., level): MBG/NBD prediction interval for the window. */
Datum
mbgnbd_purchases_interval(PG_FUNCTION_ARGS)
{
	return PredictionInterval(fcinfo, &mbgnbd_purchase);
}

PG_FUNCTION_INFO_V1(paretonbd_expected_window);
/* paretonbd_expected_window(model, t1, t2, frequency, recency, T): Pareto/NBD expected purchases in the window. */
Datum
paretonbd_expected_window(PG_FUNCTION_ARGS)
{
	return ExpectedWindow(fcinfo, &pareto_purchase);
}

PG_FUNCTION_INFO_V1(paretonbd_prob_window);
/* paretonbd_prob_window(model, n, ...): Pareto/NBD P(exactly n purchases in the window | data). */
Datum
paretonbd_prob_window(PG_FUNCTION_ARGS)
{
	return ProbWindow(fcinfo, &pareto_purchase);
}

PG_FUNCTION_INFO_V1(paretonbd_purchases_interval);
/* paretonbd_purchases_interval(model, ..., level): Pareto/NBD prediction interval for the window. */
Datum
paretonbd_purchases_interval(PG_FUNCTION_ARGS)
{
	return PredictionInterval(fcinfo, &pareto_purchase);
}

PG_FUNCTION_INFO_V1(bgbb_expected_window);
/* bgbb_expected_window(model, from_period, to_period, frequency, recency, periods): BG/BB expected purchases in the window. */
Datum
bgbb_expected_window(PG_FUNCTION_ARGS)
{
	return ExpectedWindow(fcinfo, NULL);
}

PG_FUNCTION_INFO_V1(bgbb_prob_window);
/* bgbb_prob_window(model, n, ...): BG/BB P(exactly n purchases in the window | data). */
Datum
bgbb_prob_window(PG_FUNCTION_ARGS)
{
	return ProbWindow(fcinfo, NULL);
}

PG_FUNCTION_INFO_V1(bgbb_purchases_interval);
/* bgbb_purchases_interval(model, ..., level): BG/BB prediction interval for the window. */
Datum
bgbb_purchases_interval(PG_FUNCTION_ARGS)
{
	return PredictionInterval(fcinfo, NULL);
}

PG_FUNCTION_INFO_V1(bgnbd_clv_schedule);
/* bgnbd_clv_schedule: clv_schedule with a BG/NBD purchase model. */
Datum
bgnbd_clv_schedule(PG_FUNCTION_ARGS)
{
	return Schedule(fcinfo, &bgnbd_purchase);
}

PG_FUNCTION_INFO_V1(mbgnbd_clv_schedule);
/* mbgnbd_clv_schedule: clv_schedule with an MBG/NBD purchase model. */
Datum
mbgnbd_clv_schedule(PG_FUNCTION_ARGS)
{
	return Schedule(fcinfo, &mbgnbd_purchase);
}

PG_FUNCTION_INFO_V1(paretonbd_clv_schedule);
/* paretonbd_clv_schedule: clv_schedule with a Pareto/NBD purchase model. */
Datum
paretonbd_clv_schedule(PG_FUNCTION_ARGS)
{
	return Schedule(fcinfo, &pareto_purchase);
}
