/*-------------------------------------------------------------------------
 *
 * model_special.c
 *	  Special functions of the CLV models: log B(a, b), the digamma function and the
 *	  Gauss hypergeometric function 2F1 (its value, and its logarithm with the derivatives
 *	  with respect to its four arguments, which the Pareto/NBD gradient needs).
 *
 * Every loop here is bounded and checks for interrupts, so that a fit or a score over
 * extreme parameters can always be cancelled.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "clv.h"

/* Terms of a hypergeometric series summed at most by Hyp2F1 (scoring). */
#define HYP2F1_MAX_TERMS 200000

/*
 * Terms summed at most by Hyp2F1Log (fitting): a fit evaluates it for every distinct
 * pattern at every iteration, so where the series converges this slowly (z very close to
 * 1, parameters far from any optimum) the point is treated as outside the model's domain.
 */
#define HYP2F1_FIT_MAX_TERMS 20000

/* LogBeta: log B(a, b) for a, b > 0. */
double
LogBeta(double a, double b)
{
	return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/*
 * Digamma: psi(x) = d/dx log Gamma(x) for x > 0: the recurrence psi(x) = psi(x + 1) - 1/x
 * up to x >= 10, then the asymptotic series (Abramowitz & Stegun 6.3.18), accurate to
 * about 1e-15 there. NaN for x <= 0 or NaN.
 */
double
Digamma(double x)
{
	double		r = 0,
				f;

	if (!(x > 0))
		return NAN;
	if (isinf(x))
		return x;
	while (x < 10)
	{
		r -= 1 / x;
		x += 1;
	}
	f = 1 / (x * x);
	return r + log(x) - 0.5 / x
		- f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))));
}

/*
 * Hyp2F1Series: the power series of 2F1(a, b; c; z), NaN when it has not converged
 * within HYP2F1_MAX_TERMS terms.
 */
static double
Hyp2F1Series(double a, double b, double c, double z)
{
	double		term = 1;
	double		sum = 1;

	for (int k = 0; k < HYP2F1_MAX_TERMS; k++)
	{
		if ((k & 1023) == 1023)
			CHECK_FOR_INTERRUPTS();
		term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * z;
		sum += term;
		if (fabs(term) <= 1e-16 * fabs(sum))
			return sum;
		if (!isfinite(sum))
			break;
	}
	return NAN;
}

/*
 * UseEuler: whether Euler's transformation 2F1(a, b; c; z) = (1 - z)^(c - a - b)
 * 2F1(c - a, c - b; c; z) has the smaller parameters: for the BG/NBD family (a = r + x,
 * b = b + x, c = a + b + x - 1) and the Pareto/NBD's terms (c = a + 1) its series then
 * falls off at once however large x is.
 */
static inline bool
UseEuler(double a, double b, double c)
{
	return fabs((c - a) * (c - b)) < fabs(a * b);
}

/*
 * Hyp2F1: the Gauss hypergeometric function 2F1(a, b; c; z) for 0 <= z < 1, NaN where c is
 * a non-positive integer or the series does not converge; through Euler's transformation
 * where that has smaller parameters (UseEuler).
 */
double
Hyp2F1(double a, double b, double c, double z)
{
	if (!(z >= 0 && z < 1) || (c <= 0 && c == floor(c)))
		return NAN;
	if (UseEuler(a, b, c))
		return exp((c - a - b) * log1p(-z)) * Hyp2F1Series(c - a, c - b, c, z);
	return Hyp2F1Series(a, b, c, z);
}

/*
 * Hyp2F1SeriesLog: log S of the power series S = 2F1(a, b; c; z) and, differentiating it
 * term by term, d log S / d(a, b, c, z) into d[4]. The k-th term t_k = (a)_k (b)_k /
 * ((c)_k k!) z^k has d log t_k / da = sum_{j<k} 1/(a + j) (likewise b, and c with a minus
 * sign) and d t_k / dz = k t_k / z. Returns false when S is not positive or the series has
 * not converged within HYP2F1_FIT_MAX_TERMS terms.
 */
static bool
Hyp2F1SeriesLog(double a, double b, double c, double z, double *logs, double *d)
{
	double		term = 1,
				sum = 1,
				sa = 0,
				sb = 0,
				sc = 0,
				sz = 0,
				ha = 0,
				hb = 0,
				hc = 0;

	for (int k = 0; k < HYP2F1_FIT_MAX_TERMS; k++)
	{
		double		ratio = (a + k) * (b + k) / ((c + k) * (k + 1)) * z;

		if ((k & 1023) == 1023)
			CHECK_FOR_INTERRUPTS();
		ha += 1 / (a + k);
		hb += 1 / (b + k);
		hc += 1 / (c + k);
		term *= ratio;
		sum += term;
		sa += term * ha;
		sb += term * hb;
		sc += term * hc;
		sz += term * (k + 1);
		/* stop once the terms (and so the derivatives' terms, k t_k) are negligible */
		if (fabs(term) * (k + 2) <= 1e-16 * fabs(sum) && fabs(ratio) < 1)
		{
			if (!(sum > 0) || !isfinite(sum))
				return false;
			*logs = log(sum);
			if (d)
			{
				d[0] = sa / sum;
				d[1] = sb / sum;
				d[2] = -sc / sum;
				/* d S / dz = sum k t_k / z, and at z = 0 the first term's a b / c */
				d[3] = z > 0 ? sz / (z * sum) : a * b / c;
			}
			return true;
		}
		if (!isfinite(sum))
			return false;
	}
	return false;
}

/*
 * Hyp2F1Log: log 2F1(a, b; c; z) for 0 <= z < 1 and positive 2F1 into *logf, and its
 * derivatives with respect to a, b, c and z into dlog[4] (when not NULL), through Euler's
 * transformation where that has smaller parameters (UseEuler):
 *	 log F = (c - a - b) log(1 - z) + log S(c - a, c - b; c; z), so
 *	 dlogF/da = -log(1 - z) - dlogS/da', dlogF/db = -log(1 - z) - dlogS/db',
 *	 dlogF/dc = log(1 - z) + dlogS/da' + dlogS/db' + dlogS/dc,
 *	 dlogF/dz = -(c - a - b)/(1 - z) + dlogS/dz.
 * Returns false where that cannot be computed (the fit treats such a point as outside
 * the model's domain).
 */
bool
Hyp2F1Log(double a, double b, double c, double z, double *logf, double *dlog)
{
	double		ds[4];
	double		logs;

	if (!(z >= 0 && z < 1) || (c <= 0 && c == floor(c)))
		return false;
	if (UseEuler(a, b, c))
	{
		double		l1z = log1p(-z);

		if (!Hyp2F1SeriesLog(c - a, c - b, c, z, &logs, dlog ? ds : NULL))
			return false;
		*logf = (c - a - b) * l1z + logs;
		if (dlog)
		{
			dlog[0] = -l1z - ds[0];
			dlog[1] = -l1z - ds[1];
			dlog[2] = l1z + ds[0] + ds[1] + ds[2];
			dlog[3] = -(c - a - b) / (1 - z) + ds[3];
		}
		return true;
	}
	return Hyp2F1SeriesLog(a, b, c, z, logf, dlog);
}

/*
 * GaussLegendre: the n nodes x[] and weights w[] of Gauss-Legendre quadrature on [-1, 1]:
 * the roots of the Legendre polynomial P_n, found by Newton's method from the estimates
 * cos(pi (i + 3/4) / (n + 1/2)), P_n evaluated by its three-term recurrence, and the
 * weights 2 / ((1 - x^2) P_n'(x)^2) (Abramowitz & Stegun 25.4.29).
 */
void
GaussLegendre(int n, double *x, double *w)
{
	for (int i = 0; i < (n + 1) / 2; i++)
	{
		double		z = cos(M_PI * (i + 0.75) / (n + 0.5));
		double		dp = 1;

		for (int it = 0; it < 100; it++)
		{
			double		p0 = 1,
						p1 = 0,
						z1;

			for (int k = 1; k <= n; k++)
			{
				double		p2 = p1;

				p1 = p0;
				p0 = ((2 * k - 1) * z * p1 - (k - 1) * p2) / k;
			}
			/* P_n'(z) from P_n and P_(n-1) */
			dp = n * (z * p0 - p1) / (z * z - 1);
			z1 = z;
			z = z1 - p0 / dp;
			if (fabs(z - z1) <= 1e-15)
				break;
		}
		x[i] = -z;
		x[n - 1 - i] = z;
		w[i] = w[n - 1 - i] = 2 / ((1 - z * z) * dp * dp);
	}
}
