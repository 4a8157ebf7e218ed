/*-------------------------------------------------------------------------
 *
 * model_lik.c
 *	  The likelihoods of the fitted CLV models and their analytic gradients, and the
 *	  fitting aggregates' final functions that hand them to the optimiser.
 *
 *	  BG/NBD      Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way", eq. 6.
 *	  MBG/NBD     Batislam, Denizel & Filiztekin (2007).
 *	  Pareto/NBD  Schmittlein, Morrison & Colombo (1987); likelihood as in Fader & Hardie
 *	              (2005), "A Note on Deriving the Pareto/NBD Model and Related Expressions".
 *	  BG/BB       Fader, Hardie & Shang (2010), eq. 5.
 *	  Gamma-Gamma Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves".
 *	  sBG         Fader & Hardie (2007), "How to Project Customer Retention".
 *
 * Each likelihood returns the total weighted log-likelihood over the data's patterns and,
 * when asked, its gradient with respect to the parameters, computed in the same pass:
 * derivatives of log-gamma and log-beta terms through the digamma function, of the
 * two-term mixtures through the terms' shares, and of the Pareto/NBD's hypergeometric
 * terms through their series differentiated term by term (model_special.c). Functions of
 * one value (a frequency, a recency, a T, a (frequency, time) pair) are computed once per
 * distinct value through the data's lookup tables. Loops check for interrupts.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "clv.h"

/* Patterns between two interrupt checks in a likelihood's loop. */
#define CHECK_EVERY 4096

/* The column values of row i of the data. */
#define ROW(d, i) (&(d)->rows[(size_t) (i) * ((d)->ncols + 1)])

/*
 * Mix2: log(exp(u1) + exp(u2)) into *ll and the two terms' shares of the sum into
 * *p1 and *p2 (the weights of the terms' derivatives in the derivative of the log).
 */
static inline void
Mix2(double u1, double u2, double *ll, double *p1, double *p2)
{
	double		e;

	if (u2 == -HUGE_VAL)
	{
		*ll = u1;
		*p1 = 1;
		*p2 = 0;
		return;
	}
	if (u2 <= u1)
	{
		e = exp(u2 - u1);
		*ll = u1 + log1p(e);
		*p2 = e / (1 + e);
		*p1 = 1 - *p2;
	}
	else
	{
		e = exp(u1 - u2);
		*ll = u2 + log1p(e);
		*p1 = e / (1 + e);
		*p2 = 1 - *p1;
	}
}

/*
 * LogDiff: log(e^l1 - e^l2) = l1 + log(1 - rho), rho = e^(l2 - l1), into *l, and its
 * gradient (d1 - rho d2) / (1 - rho) from the gradients of l1 and l2 into dl (n entries,
 * when not NULL); -Inf and a zero gradient when l2 >= l1 (an empty difference).
 */
static inline void
LogDiff(double l1, double l2, const double *d1, const double *d2, int n, double *l, double *dl)
{
	double		rho;

	if (!(l2 < l1))
	{
		*l = -HUGE_VAL;
		if (dl)
			memset(dl, 0, sizeof(double) * n);
		return;
	}
	rho = exp(l2 - l1);
	*l = l1 + log1p(-rho);
	if (dl)
		for (int q = 0; q < n; q++)
			dl[q] = (d1[q] - rho * d2[q]) / (1 - rho);
}

/*
 * AlphaTables: fills the scratch space with log(alpha + v) and 1 / (alpha + v) for the
 * distinct recency and T values of the data, at offset `off` (in units of the number of
 * distinct values: the logs of recency, the logs of T, the inverses of recency, the
 * inverses of T).
 */
static void
AlphaTables(const FitData *d, double alpha, double *out)
{
	int			n1 = d->ndistinct[1],
				n2 = d->ndistinct[2];

	for (int k = 0; k < n1; k++)
	{
		out[k] = log(alpha + d->distinct[1][k]);
		out[n1 + n2 + k] = 1 / (alpha + d->distinct[1][k]);
	}
	for (int k = 0; k < n2; k++)
	{
		out[n1 + k] = log(alpha + d->distinct[2][k]);
		out[2 * n1 + n2 + k] = 1 / (alpha + d->distinct[2][k]);
	}
}

/*
 * BgFamilyLoglik: log-likelihood of BG/NBD (FHL 2005, eq. 6) or, when modified, MBG/NBD
 * (Batislam et al. 2007, where customers may also drop out right after their first
 * purchase), params (r, alpha, a, b):
 *	 ll = log Gamma(r+x) - log Gamma(r) + r log alpha + log B(a, b+x+m) - log B(a, b)
 *		  + log[(alpha+T)^-(r+x) + [x > 0 or m] a/(b+x-1+m) (alpha+t_x)^-(r+x)],
 * m = 1 for MBG/NBD. Rows are sorted by frequency first, so the terms of x are computed
 * once per distinct frequency.
 */
static double
BgFamilyLoglik(const double *p, const FitData *d, double *grad, bool modified)
{
	double		r = p[0],
				alpha = p[1],
				a = p[2],
				b = p[3];
	double		shift = modified ? 1 : 0;
	int			n1 = d->ndistinct[1],
				n2 = d->ndistinct[2];
	const double *ltx = d->scratch,
			   *lT = d->scratch + n1,
			   *itx = d->scratch + n1 + n2,
			   *iT = d->scratch + 2 * n1 + n2;
	double		sum = 0,
				lastx = -1,
				base = 0,
				c4 = 0,
				db[4] = {0},
				ib = 0,
				g[4] = {0};
	double		loga = log(a),
				logalpha = log(alpha),
				psi_r = grad ? Digamma(r) : 0,
				psi_ab = grad ? Digamma(a + b) : 0,
				psi_b = grad ? Digamma(b) : 0;

	AlphaTables(d, alpha, d->scratch);
	for (int i = 0; i < d->npatterns; i++)
	{
		const double *row = ROW(d, i);
		double		x = row[0],
					w = d->w[i];
		int			j1 = d->index[1][i],
					j2 = d->index[2][i];
		bool		two = x > 0 || modified;
		double		ll,
					p1,
					p2;

		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		if (x != lastx)
		{
			base = lgamma(r + x) - lgamma(r) + r * logalpha
				+ lgamma(a + b) + lgamma(b + x + shift) - lgamma(b) - lgamma(a + b + x + shift);
			c4 = two ? loga - log(b + x - 1 + shift) : 0;
			ib = two ? 1 / (b + x - 1 + shift) : 0;
			if (grad)
			{
				double		psi_abx = Digamma(a + b + x + shift);

				db[0] = Digamma(r + x) - psi_r + logalpha;
				db[1] = r / alpha;
				db[2] = psi_ab - psi_abx;
				db[3] = psi_ab + Digamma(b + x + shift) - psi_b - psi_abx;
			}
			lastx = x;
		}
		Mix2(-(r + x) * lT[j2], two ? c4 - (r + x) * ltx[j1] : -HUGE_VAL, &ll, &p1, &p2);
		sum += w * (base + ll);
		if (grad)
		{
			g[0] += w * (db[0] - p1 * lT[j2] - p2 * ltx[j1]);
			g[1] += w * (db[1] - (r + x) * (p1 * iT[j2] + p2 * itx[j1]));
			g[2] += w * (db[2] + p2 / a);
			g[3] += w * (db[3] - p2 * ib);
		}
	}
	if (grad)
		memcpy(grad, g, sizeof(g));
	return sum;
}

/* BgnbdLoglik: BG/NBD log-likelihood. */
static double
BgnbdLoglik(const double *p, const FitData *d, double *grad)
{
	return BgFamilyLoglik(p, d, grad, false);
}

/* MbgnbdLoglik: MBG/NBD log-likelihood. */
static double
MbgnbdLoglik(const double *p, const FitData *d, double *grad)
{
	return BgFamilyLoglik(p, d, grad, true);
}

/*
 * ParetoLogA0: log of the A0 term of the Pareto/NBD likelihood (Fader & Hardie 2005,
 * "A Note on Deriving the Pareto/NBD Model"), -Inf when recency equals T; used by the
 * scoring functions.
 */
double
ParetoLogA0(double r, double alpha, double s, double beta, double x, double tx, double T)
{
	double		rsx = r + s + x;
	double		hi = Max(alpha, beta);
	double		bparam = alpha >= beta ? s + 1 : r + x;
	double		diff = fabs(alpha - beta);
	double		f1 = Hyp2F1(rsx, bparam, rsx + 1, diff / (hi + tx));
	double		f2 = Hyp2F1(rsx, bparam, rsx + 1, diff / (hi + T));
	double		l1 = log(f1) - rsx * log(hi + tx);
	double		l2 = log(f2) - rsx * log(hi + T);

	if (l2 >= l1)
		return -HUGE_VAL;
	return l1 + log1p(-exp(l2 - l1));
}

/*
 * ParetoPairTerms: for every distinct (x, t) pair of the data, log G(x, t) and its
 * derivatives with respect to (r, alpha, s, beta), 5 values per pair into out, where
 *	 G(x, t) = 2F1(m, b'; m + 1; z) / (hi + t)^m,  m = r + s + x,  hi = max(alpha, beta),
 *	 z = |alpha - beta| / (hi + t),  b' = s + 1 when alpha >= beta, else r + x,
 * so that A0 = G(x, t_x) - G(x, T). Returns false where a series does not converge.
 */
static bool
ParetoPairTerms(const double *p, const FitData *d, bool want_grad, double *out)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	bool		ab = alpha >= beta;
	double		hi = ab ? alpha : beta;
	double		diff = fabs(alpha - beta);

	for (int k = 0; k < d->npairs; k++)
	{
		double		x = d->pair_x[k],
					t = d->pair_t[k];
		double		m = r + s + x;
		double		ht = hi + t;
		double		z = diff / ht;
		double		lf,
					df[4],
					lht = log(ht);
		double	   *o = &out[5 * k];

		if ((k & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		if (!Hyp2F1Log(m, ab ? s + 1 : r + x, m + 1, z, &lf, want_grad ? df : NULL))
			return false;
		o[0] = lf - m * lht;
		if (want_grad)
		{
			/* dz/d(alpha, beta) on either branch, and d(hi)/d(alpha, beta) */
			double		dz_alpha = ab ? (beta + t) / (ht * ht) : -1 / ht;
			double		dz_beta = ab ? -1 / ht : (alpha + t) / (ht * ht);
			double		dm = df[0] + df[2] - lht;	/* m and c = m + 1 move together */

			o[1] = dm + (ab ? 0 : df[1]);
			o[2] = df[3] * dz_alpha - (ab ? m / ht : 0);
			o[3] = dm + (ab ? df[1] : 0);
			o[4] = df[3] * dz_beta - (ab ? 0 : m / ht);
		}
	}
	return true;
}

/*
 * ParetoLoglik: Pareto/NBD log-likelihood, params (r, alpha, s, beta):
 *	 ll = log Gamma(r+x) - log Gamma(r) + r log alpha + s log beta
 *		  + log[(alpha+T)^-(r+x) (beta+T)^-s + s/(r+s+x) A0],  A0 = G(x, t_x) - G(x, T).
 */
static double
ParetoLoglik(const double *p, const FitData *d, double *grad)
{
	double		r = p[0],
				alpha = p[1],
				s = p[2],
				beta = p[3];
	int			n2 = d->ndistinct[2];
	double	   *pairs = d->scratch;
	double	   *la = d->scratch + 5 * (size_t) d->npairs;	/* log(alpha + T) */
	double	   *lb = la + n2;	/* log(beta + T) */
	double	   *ia = lb + n2;	/* 1 / (alpha + T) */
	double	   *ib = ia + n2;	/* 1 / (beta + T) */
	double		sum = 0,
				lastx = -1,
				base = 0,
				db0 = 0,
				g[4] = {0};
	double		logalpha = log(alpha),
				logbeta = log(beta),
				logs = log(s),
				psi_r = grad ? Digamma(r) : 0;

	if (!ParetoPairTerms(p, d, grad != NULL, pairs))
		return NAN;
	for (int k = 0; k < n2; k++)
	{
		double		T = d->distinct[2][k];

		la[k] = log(alpha + T);
		lb[k] = log(beta + T);
		ia[k] = 1 / (alpha + T);
		ib[k] = 1 / (beta + T);
	}
	for (int i = 0; i < d->npatterns; i++)
	{
		const double *row = ROW(d, i);
		double		x = row[0],
					w = d->w[i];
		int			jT = d->index[2][i];
		const double *g1 = &pairs[5 * d->pair_of_recency[i]];
		const double *g2 = &pairs[5 * d->pair_of_age[i]];
		double		m = r + s + x;
		double		la0,
					da0[4],
					ll,
					p1,
					p2;

		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		if (x != lastx)
		{
			base = lgamma(r + x) - lgamma(r) + r * logalpha + s * logbeta;
			if (grad)
				db0 = Digamma(r + x) - psi_r + logalpha;
			lastx = x;
		}
		/* A0 = G1 - G2; zero (log -Inf) when recency equals T */
		LogDiff(g1[0], g2[0], g1 + 1, g2 + 1, 4, &la0, grad ? da0 : NULL);
		Mix2(-(r + x) * la[jT] - s * lb[jT], logs - log(m) + la0, &ll, &p1, &p2);
		sum += w * (base + ll);
		if (grad)
		{
			g[0] += w * (db0 - p1 * la[jT] + p2 * (-1 / m + da0[0]));
			g[1] += w * (r / alpha - p1 * (r + x) * ia[jT] + p2 * da0[1]);
			g[2] += w * (logbeta - p1 * lb[jT] + p2 * (1 / s - 1 / m + da0[2]));
			g[3] += w * (s / beta - p1 * s * ib[jT] + p2 * da0[3]);
		}
	}
	if (grad)
		memcpy(grad, g, sizeof(g));
	return sum;
}

/*
 * BgbbLogL: log-likelihood of one BG/BB pattern (Fader, Hardie & Shang 2010, eq. 5),
 * params (alpha, beta, gamma, delta), x transactions in n opportunities, the last at t_x;
 * used by the scoring functions.
 */
double
BgbbLogL(const double *p, double x, double tx, double n)
{
	double		alpha = p[0],
				beta = p[1],
				gamma = p[2],
				delta = p[3];
	double		lab = LogBeta(alpha, beta),
				lgd = LogBeta(gamma, delta);
	double		ll;

	ll = LogBeta(alpha + x, beta + n - x) - lab + LogBeta(gamma, delta + n) - lgd;
	/* n - tx can be up to 2^31 - 1 (checked at input): an int64 counter, and interruptible */
	for (int64 i = 0; i < n - tx; i++)
	{
		CHECK_FOR_INTERRUPTS();
		ll = LogAddExp(ll, LogBeta(alpha + x, beta + tx - x + i) - lab
					   + LogBeta(gamma + 1, delta + tx + i) - lgd);
	}
	return ll;
}

/*
 * An online log-sum-exp of terms with gradients: the sum is exp(max) * s, and g holds
 * the sum of exp(term - max) * d term, so that the gradient of the log of the sum is g / s.
 */
typedef struct LogSumGrad
{
	double		max;			/* largest term so far */
	double		s;				/* sum of exp(term - max) */
	double		g[CLV_MAX_PARAMS];	/* sum of exp(term - max) * gradient of the term */
} LogSumGrad;

/* LogSumGradAdd: adds a term l with gradient dl (n parameters) to acc. */
static inline void
LogSumGradAdd(LogSumGrad *acc, double l, const double *dl, int n)
{
	double		e;

	if (l > acc->max)
	{
		double		scale = exp(acc->max - l);

		acc->s *= scale;
		for (int q = 0; q < n; q++)
			acc->g[q] *= scale;
		acc->max = l;
	}
	e = exp(l - acc->max);
	acc->s += e;
	for (int q = 0; q < n; q++)
		acc->g[q] += e * dl[q];
}

/*
 * The parts of the gradients of BG/BB's terms that depend on the parameters and the
 * frequency x only (see BgbbDeriv).
 */
typedef struct BgbbConst
{
	double		psi_ax;			/* psi(alpha + x) */
	double		psi_g[2];		/* psi(gamma), psi(gamma + 1) */
	double		c[4];			/* psi(alpha) - psi(alpha + beta), psi(beta) - ..., psi(gamma) - psi(gamma + delta), psi(delta) - ... */
} BgbbConst;

/*
 * BgbbDeriv: the gradient dl with respect to (alpha, beta, gamma, delta) of a BG/BB term
 * log B(alpha + x, beta + j - x) + log B(gamma + g1, delta + j) - log B(alpha, beta) -
 * log B(gamma, delta) (g1 = 0 for the "alive" term, 1 for a dropout term), from the
 * digammas at j.
 */
static inline void
BgbbDeriv(const BgbbConst *k, int g1, double psi_bjx, double psi_abj, double psi_dj,
		  double psi_gdj, double *dl)
{
	dl[0] = k->psi_ax - psi_abj - k->c[0];
	dl[1] = psi_bjx - psi_abj - k->c[1];
	dl[2] = k->psi_g[g1] - psi_gdj - k->c[2];
	dl[3] = psi_dj - psi_gdj - k->c[3];
}

/*
 * A walk over the opportunities j = first, first + 1, ... of one frequency x: the log-beta
 * terms and digammas of BG/BB's terms at j, stepped by their recurrences log B(p, q + 1)
 * = log B(p, q) + log(q / (p + q)) and psi(q + 1) = psi(q) + 1/q, and recomputed exactly
 * every 256 steps so that rounding cannot build up.
 */
typedef struct BgbbWalk
{
	const double *p;			/* (alpha, beta, gamma, delta) */
	double		x;				/* the frequency */
	double		j;				/* the current opportunity */
	double		lb_ab;			/* log B(alpha + x, beta + j - x) */
	double		lb_g0;			/* log B(gamma, delta + j) */
	double		lb_g1;			/* log B(gamma + 1, delta + j) */
	double		psi_bjx;		/* psi(beta + j - x) */
	double		psi_abj;		/* psi(alpha + beta + j) */
	double		psi_dj;			/* psi(delta + j) */
	double		psi_gdj[2];		/* psi(gamma + delta + j), psi(gamma + delta + 1 + j) */
	int			steps;			/* steps since the last exact computation */
} BgbbWalk;

/* BgbbWalkSet: the walk's values at opportunity j, computed exactly. */
static void
BgbbWalkSet(BgbbWalk *wk, double j)
{
	const double *p = wk->p;

	wk->j = j;
	wk->lb_ab = LogBeta(p[0] + wk->x, p[1] + j - wk->x);
	wk->lb_g0 = LogBeta(p[2], p[3] + j);
	wk->lb_g1 = LogBeta(p[2] + 1, p[3] + j);
	wk->psi_bjx = Digamma(p[1] + j - wk->x);
	wk->psi_abj = Digamma(p[0] + p[1] + j);
	wk->psi_dj = Digamma(p[3] + j);
	wk->psi_gdj[0] = Digamma(p[2] + p[3] + j);
	wk->psi_gdj[1] = Digamma(p[2] + p[3] + 1 + j);
	wk->steps = 0;
}

/* BgbbWalkNext: steps the walk to opportunity j + 1. */
static void
BgbbWalkNext(BgbbWalk *wk)
{
	const double *p = wk->p;
	double		q1 = p[1] + wk->j - wk->x,
				s1 = p[0] + p[1] + wk->j,
				q2 = p[3] + wk->j,
				s20 = p[2] + p[3] + wk->j,
				s21 = s20 + 1;

	if (++wk->steps >= 256)
	{
		CHECK_FOR_INTERRUPTS();
		BgbbWalkSet(wk, wk->j + 1);
		return;
	}
	wk->lb_ab += log(q1 / s1);
	wk->lb_g0 += log(q2 / s20);
	wk->lb_g1 += log(q2 / s21);
	wk->psi_bjx += 1 / q1;
	wk->psi_abj += 1 / s1;
	wk->psi_dj += 1 / q2;
	wk->psi_gdj[0] += 1 / s20;
	wk->psi_gdj[1] += 1 / s21;
	wk->j += 1;
}

/*
 * BgbbConstants: the parts of BG/BB's terms that depend on the parameters and x only;
 * *lab_lgd gets log B(alpha, beta) + log B(gamma, delta).
 */
static void
BgbbConstants(const double *p, double x, BgbbConst *k, double *lab_lgd)
{
	double		psi_ab = Digamma(p[0] + p[1]),
				psi_gd = Digamma(p[2] + p[3]);

	k->psi_ax = Digamma(p[0] + x);
	k->psi_g[0] = Digamma(p[2]);
	k->psi_g[1] = Digamma(p[2] + 1);
	k->c[0] = Digamma(p[0]) - psi_ab;
	k->c[1] = Digamma(p[1]) - psi_ab;
	k->c[2] = k->psi_g[0] - psi_gd;
	k->c[3] = Digamma(p[3]) - psi_gd;
	*lab_lgd = LogBeta(p[0], p[1]) + LogBeta(p[2], p[3]);
}

/*
 * BgbbLoglikLoop: BG/BB log-likelihood (Fader, Hardie & Shang 2010, eq. 5) pattern by
 * pattern: the "alive through all n opportunities" term and one term per opportunity
 * after the last transaction at which the customer may have dropped out,
 *	 L = B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n)/B(gamma, delta)
 *	   + sum_{j=t_x}^{n-1} B(alpha+x, beta+j-x)/B(alpha, beta) B(gamma+1, delta+j)/B(gamma, delta).
 */
static double
BgbbLoglikLoop(const double *p, const FitData *d, double *grad)
{
	double		sum = 0,
				g[4] = {0};

	for (int i = 0; i < d->npatterns; i++)
	{
		const double *row = ROW(d, i);
		double		x = row[0],
					tx = row[1],
					n = row[2],
					w = d->w[i];
		LogSumGrad acc = {-HUGE_VAL, 0, {0}};
		BgbbConst k;
		BgbbWalk	wk = {p, x};
		double		dl[4],
					lc;

		BgbbConstants(p, x, &k, &lc);
		BgbbWalkSet(&wk, n);
		BgbbDeriv(&k, 0, wk.psi_bjx, wk.psi_abj, wk.psi_dj, wk.psi_gdj[0], dl);
		LogSumGradAdd(&acc, wk.lb_ab + wk.lb_g0 - lc, dl, 4);
		if (tx < n)
			BgbbWalkSet(&wk, tx);
		/* n - t_x can be up to 2^31 - 1 (checked at input); the walk checks for interrupts */
		for (int64 j = (int64) tx; j < (int64) n; j++)
		{
			BgbbDeriv(&k, 1, wk.psi_bjx, wk.psi_abj, wk.psi_dj, wk.psi_gdj[1], dl);
			LogSumGradAdd(&acc, wk.lb_ab + wk.lb_g1 - lc, dl, 4);
			BgbbWalkNext(&wk);
		}
		sum += w * (acc.max + log(acc.s));
		for (int q = 0; q < 4; q++)
			g[q] += w * acc.g[q] / acc.s;
		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	if (grad)
		memcpy(grad, g, sizeof(g));
	return sum;
}

/*
 * BgbbLoglikTables: the same likelihood through per-frequency tables (FitData): for each
 * distinct x and each opportunity j of its range, log A(j) = the "alive" term at n = j
 * with its gradient, and log D(j) = log of the sum of the dropout terms from j to the end
 * of the range with the gradient of log D, built by one walk up the range and one pass
 * down it. A pattern's dropout sum is then D(t_x) - D(n) = D(t_x) (1 - rho) with rho =
 * D(n) / D(t_x), and its gradient (dD(t_x) - rho dD(n)) / (1 - rho): each pattern costs a
 * few operations however many opportunities it spans. The dropout terms fall as j grows
 * (each step multiplies them by factors below 1), so these suffix sums lose no precision.
 */
static double
BgbbLoglikTables(const double *p, const FitData *d, double *grad)
{
	double	   *tab = d->scratch;
	double		sum = 0,
				g[4] = {0};

	for (int k = 0; k < d->ndistinct[0]; k++)
	{
		double		x = d->distinct[0][k];
		double	   *t = &tab[BGBB_TABLE_WIDTH * d->table_offset[k]];
		int			len = d->table_len[k];
		BgbbConst	c;
		BgbbWalk	wk = {p, x};
		double		lc;

		BgbbConstants(p, x, &c, &lc);
		BgbbWalkSet(&wk, d->table_first[k]);
		/* up: log A and its gradient; the dropout term and its gradient in D's slots */
		for (int j = 0; j < len; j++)
		{
			double	   *e = &t[BGBB_TABLE_WIDTH * j];

			e[0] = wk.lb_ab + wk.lb_g0 - lc;
			BgbbDeriv(&c, 0, wk.psi_bjx, wk.psi_abj, wk.psi_dj, wk.psi_gdj[0], &e[1]);
			e[5] = wk.lb_ab + wk.lb_g1 - lc;
			BgbbDeriv(&c, 1, wk.psi_bjx, wk.psi_abj, wk.psi_dj, wk.psi_gdj[1], &e[6]);
			BgbbWalkNext(&wk);
		}
		/* down: D(j) = T(j) + D(j + 1), its gradient share R(j) = pi R(j + 1) + (1 - pi) dT(j) */
		for (int j = len - 2; j >= 0; j--)
		{
			double	   *e = &t[BGBB_TABLE_WIDTH * j];
			const double *up = e + BGBB_TABLE_WIDTH;
			double		ld = LogAddExp(e[5], up[5]);
			double		pi = exp(up[5] - ld);

			e[5] = ld;
			for (int q = 0; q < 4; q++)
				e[6 + q] = pi * up[6 + q] + (1 - pi) * e[6 + q];
		}
	}
	for (int i = 0; i < d->npatterns; i++)
	{
		const double *row = ROW(d, i);
		int			k = d->index[0][i];
		const double *t = &tab[BGBB_TABLE_WIDTH * d->table_offset[k]];
		int			first = d->table_first[k];
		const double *en = &t[BGBB_TABLE_WIDTH * ((int) row[2] - first)];
		const double *etx = &t[BGBB_TABLE_WIDTH * ((int) row[1] - first)];
		double		w = d->w[i];
		double		ls,
					dls[4],
					ll,
					p1,
					p2;

		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		/* the dropout sum D(t_x) - D(n), empty when t_x = n */
		LogDiff(etx[5], en[5], etx + 6, en + 6, 4, &ls, dls);
		Mix2(en[0], ls, &ll, &p1, &p2);
		sum += w * ll;
		for (int q = 0; q < 4; q++)
			g[q] += w * (p1 * en[1 + q] + p2 * dls[q]);
	}
	if (grad)
		memcpy(grad, g, sizeof(g));
	return sum;
}

/* BgbbLoglik: BG/BB log-likelihood, through the tables when the data have them. */
static double
BgbbLoglik(const double *p, const FitData *d, double *grad)
{
	if (d->table_first != NULL)
		return BgbbLoglikTables(p, d, grad);
	return BgbbLoglikLoop(p, d, grad);
}

/*
 * GammaGammaLoglik: Gamma-Gamma spend log-likelihood (FHL 2005b), params (p, q, gamma),
 * rows (x, mean spend m) with x > 0: the density of the mean of x gamma-distributed
 * transaction values,
 *	 ll = log Gamma(px+q) - log Gamma(px) - log Gamma(q) + q log v + px log x
 *		  + (px-1) log m - (px+q) log(v + m x).
 */
static double
GammaGammaLoglik(const double *par, const FitData *d, double *grad)
{
	double		p = par[0],
				q = par[1],
				v = par[2];
	double		sum = 0,
				lastx = -1,
				base = 0,
				logv = log(v),
				psi_q = grad ? Digamma(q) : 0,
				dp = 0,
				dq = 0,
				g[3] = {0};

	for (int i = 0; i < d->npatterns; i++)
	{
		const double *row = ROW(d, i);
		double		x = row[0],
					m = row[1],
					w = d->w[i];
		double		logm = d->logcol1 ? d->logcol1[i] : log(m);
		double		lvm = log(v + m * x);

		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		if (x != lastx)
		{
			base = lgamma(p * x + q) - lgamma(p * x) - lgamma(q) + q * logv + p * x * log(x);
			if (grad)
			{
				double		psi_pxq = Digamma(p * x + q);

				dp = x * (psi_pxq - Digamma(p * x) + log(x));
				dq = psi_pxq - psi_q + logv;
			}
			lastx = x;
		}
		sum += w * (base + (p * x - 1) * logm - (p * x + q) * lvm);
		if (grad)
		{
			g[0] += w * (dp + x * (logm - lvm));
			g[1] += w * (dq - lvm);
			g[2] += w * (q / v - (p * x + q) / (v + m * x));
		}
	}
	if (grad)
		memcpy(grad, g, sizeof(g));
	return sum;
}

/*
 * SbgLoglik: shifted-beta-geometric log-likelihood (Fader & Hardie 2007), params
 * (alpha, beta), rows (t, churned): lost in period t, log B(alpha+1, beta+t-1) - log
 * B(alpha, beta), or still active after t periods, log B(alpha, beta+t) - log B(alpha, beta).
 */
static double
SbgLoglik(const double *p, const FitData *d, double *grad)
{
	double		alpha = p[0],
				beta = p[1];
	double		lab = LogBeta(alpha, beta);
	double		c_a = grad ? Digamma(alpha) - Digamma(alpha + beta) : 0,
				c_b = grad ? Digamma(beta) - Digamma(alpha + beta) : 0;
	double		sum = 0,
				g[2] = {0};

	for (int i = 0; i < d->npatterns; i++)
	{
		const double *row = ROW(d, i);
		double		t = row[0],
					w = d->w[i];
		bool		churned = row[1] != 0;
		double		a1 = churned ? alpha + 1 : alpha,
					b1 = churned ? beta + t - 1 : beta + t;

		if ((i & (CHECK_EVERY - 1)) == 0)
			CHECK_FOR_INTERRUPTS();
		sum += w * (LogBeta(a1, b1) - lab);
		if (grad)
		{
			double		psi_s = Digamma(a1 + b1);

			g[0] += w * (Digamma(a1) - psi_s - c_a);
			g[1] += w * (Digamma(b1) - psi_s - c_b);
		}
	}
	if (grad)
		memcpy(grad, g, sizeof(g));
	return sum;
}

const ModelSpec bgnbd_spec = {"BG/NBD", FIT_LAYOUT_RFT, 4, BgnbdLoglik};
const ModelSpec mbgnbd_spec = {"MBG/NBD", FIT_LAYOUT_RFT, 4, MbgnbdLoglik};
const ModelSpec pareto_spec = {"Pareto/NBD", FIT_LAYOUT_RFT, 4, ParetoLoglik};
const ModelSpec bgbb_spec = {"BG/BB", FIT_LAYOUT_DISCRETE, 4, BgbbLoglik};
const ModelSpec gg_spec = {"Gamma-Gamma", FIT_LAYOUT_SPEND, 3, GammaGammaLoglik};
const ModelSpec sbg_spec = {"sBG", FIT_LAYOUT_SURVIVAL, 2, SbgLoglik};

PG_FUNCTION_INFO_V1(bgnbd_fit_final);
/* bgnbd_fit_final(fit_state): the final function of retention.bgnbd_fit. */
Datum
bgnbd_fit_final(PG_FUNCTION_ARGS)
{
	return FitFinal(fcinfo, &bgnbd_spec);
}

PG_FUNCTION_INFO_V1(mbgnbd_fit_final);
/* mbgnbd_fit_final(fit_state): the final function of retention.mbgnbd_fit. */
Datum
mbgnbd_fit_final(PG_FUNCTION_ARGS)
{
	return FitFinal(fcinfo, &mbgnbd_spec);
}

PG_FUNCTION_INFO_V1(paretonbd_fit_final);
/* paretonbd_fit_final(fit_state): the final function of retention.paretonbd_fit. */
Datum
paretonbd_fit_final(PG_FUNCTION_ARGS)
{
	return FitFinal(fcinfo, &pareto_spec);
}

PG_FUNCTION_INFO_V1(bgbb_fit_final);
/* bgbb_fit_final(fit_state): the final function of retention.bgbb_fit. */
Datum
bgbb_fit_final(PG_FUNCTION_ARGS)
{
	return FitFinal(fcinfo, &bgbb_spec);
}

PG_FUNCTION_INFO_V1(gammagamma_fit_final);
/* gammagamma_fit_final(fit_state): the final function of retention.gammagamma_fit. */
Datum
gammagamma_fit_final(PG_FUNCTION_ARGS)
{
	return FitFinal(fcinfo, &gg_spec);
}

PG_FUNCTION_INFO_V1(sbg_fit_final);
/* sbg_fit_final(fit_state): the final function of retention.sbg_fit. */
Datum
sbg_fit_final(PG_FUNCTION_ARGS)
{
	return FitFinal(fcinfo, &sbg_spec);
}
