/*-------------------------------------------------------------------------
 *
 * model_optim.c
 *	  Maximum-likelihood fitting of the CLV models: a bounded Nelder-Mead search in the
 *	  logarithms of the (positive) parameters, restarted until it stops improving, then a
 *	  numerical Hessian for the standard errors and the convergence checks.
 *
 * Working in log space keeps every parameter positive without constraints; the search is
 * further boxed to [exp(-LOG_BOUND), exp(LOG_BOUND)] so that degenerate data (for example
 * no repeat purchases at all) drive a parameter to the box's edge, where it is reported as
 * non-convergence rather than as a number. The objective is the negative log-likelihood per
 * customer, which makes the tolerances independent of the number of customers.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "clv.h"

/* Parameters are searched in [exp(-LOG_BOUND), exp(LOG_BOUND)]. */
#define LOG_BOUND 16.0

/* A parameter this close (in log space) to the box's edge counts as stuck there. */
#define BOUND_MARGIN 0.1

/* Function evaluations allowed in one Nelder-Mead run. */
#define MAX_EVALS 4000

/* Restarts of Nelder-Mead from the best point found so far. */
#define MAX_RESTARTS 8

/* Above this many patterns a first fit runs on a systematic sample of this many. */
#define SAMPLE_PATTERNS 5000

/* Relative tolerances of Nelder-Mead before Newton steps (on a sample), and on its own. */
#define NM_LOOSE 1e-7
#define NM_SAMPLE 1e-7
#define NM_TIGHT 1e-12

/* Newton steps at most, and the Newton decrement that ends them. */
#define MAX_NEWTON 8
#define NEWTON_TOL 1e-8

/* A fit counts as converged when the Newton decrement left is below this. */
#define CONVERGED_TOL 1e-4

/* Step of the central differences for the Hessian, in log space. */
#define HESS_STEP 1e-4

/* The objective: what Nelder-Mead minimises. */
typedef struct Objective
{
	const ModelSpec *spec;		/* the model */
	const FitData *data;		/* the data */
	int			evals;			/* evaluations so far */
} Objective;

/*
 * Evaluate: the negative log-likelihood per customer at log-parameters theta, or +Inf
 * outside the box or where the likelihood is undefined. Checks for interrupts, since a
 * fit over many patterns evaluates the likelihood thousands of times.
 */
static double
Evaluate(Objective *obj, const double *theta)
{
	double		p[CLV_MAX_PARAMS];
	double		ll;

	CHECK_FOR_INTERRUPTS();
	obj->evals++;
	for (int i = 0; i < obj->spec->nparams; i++)
	{
		if (!(theta[i] >= -LOG_BOUND && theta[i] <= LOG_BOUND))
			return HUGE_VAL;
		p[i] = exp(theta[i]);
	}
	if (obj->spec->valid && !obj->spec->valid(p))
		return HUGE_VAL;
	ll = obj->spec->loglik(p, obj->data);
	if (isnan(ll) || isinf(ll))
		return HUGE_VAL;
	return -ll / obj->data->total_weight;
}

/*
 * NelderMead: minimises the objective from x (updated in place to the best point, its
 * value returned in *fbest) with an initial simplex of the given step, until the values
 * at the simplex's corners agree to the relative tolerance ftol. Returns true when
 * the simplex met the tolerances, false when it ran out of evaluations. Adds the number of
 * iterations to *iterations.
 */
static bool
NelderMead(Objective *obj, double *x, double step, double ftol, double *fbest, int *iterations)
{
	int			n = obj->spec->nparams;
	double		simplex[CLV_MAX_PARAMS + 1][CLV_MAX_PARAMS];
	double		f[CLV_MAX_PARAMS + 1];
	int			start_evals = obj->evals;
	bool		done = false;

	for (int i = 0; i <= n; i++)
	{
		memcpy(simplex[i], x, sizeof(double) * n);
		if (i > 0)
			simplex[i][i - 1] += (x[i - 1] + step <= LOG_BOUND) ? step : -step;
		f[i] = Evaluate(obj, simplex[i]);
	}

	while (obj->evals - start_evals < MAX_EVALS)
	{
		int			lo = 0,
					hi = 0,
					nh = 0;
		double		centroid[CLV_MAX_PARAMS];
		double		xr[CLV_MAX_PARAMS];
		double		xe[CLV_MAX_PARAMS];
		double		fr,
					fe,
					size = 0;

		/* order: best (lo), worst (hi), second worst (nh) */
		for (int i = 1; i <= n; i++)
		{
			if (f[i] < f[lo])
				lo = i;
			if (f[i] > f[hi])
				hi = i;
		}
		nh = lo;
		for (int i = 0; i <= n; i++)
			if (i != hi && f[i] > f[nh])
				nh = i;

		for (int i = 0; i <= n; i++)
			for (int j = 0; j < n; j++)
				size = Max(size, fabs(simplex[i][j] - simplex[lo][j]));
		if (isfinite(f[hi]) && f[hi] - f[lo] <= ftol * (fabs(f[lo]) + 1e-12) &&
			size <= sqrt(ftol) / 10)
		{
			done = true;
			break;
		}
		(*iterations)++;

		for (int j = 0; j < n; j++)
		{
			centroid[j] = 0;
			for (int i = 0; i <= n; i++)
				if (i != hi)
					centroid[j] += simplex[i][j];
			centroid[j] /= n;
			xr[j] = centroid[j] + (centroid[j] - simplex[hi][j]);
		}
		fr = Evaluate(obj, xr);
		if (fr < f[lo])
		{
			for (int j = 0; j < n; j++)
				xe[j] = centroid[j] + 2 * (centroid[j] - simplex[hi][j]);
			fe = Evaluate(obj, xe);
			if (fe < fr)
			{
				memcpy(simplex[hi], xe, sizeof(double) * n);
				f[hi] = fe;
			}
			else
			{
				memcpy(simplex[hi], xr, sizeof(double) * n);
				f[hi] = fr;
			}
		}
		else if (fr < f[nh])
		{
			memcpy(simplex[hi], xr, sizeof(double) * n);
			f[hi] = fr;
		}
		else
		{
			double		xc[CLV_MAX_PARAMS];
			double		fc;
			bool		outside = fr < f[hi];

			for (int j = 0; j < n; j++)
				xc[j] = outside ? centroid[j] + 0.5 * (xr[j] - centroid[j])
					: centroid[j] + 0.5 * (simplex[hi][j] - centroid[j]);
			fc = Evaluate(obj, xc);
			if (fc < (outside ? fr : f[hi]))
			{
				memcpy(simplex[hi], xc, sizeof(double) * n);
				f[hi] = fc;
			}
			else
			{
				/* shrink towards the best point */
				for (int i = 0; i <= n; i++)
				{
					if (i == lo)
						continue;
					for (int j = 0; j < n; j++)
						simplex[i][j] = simplex[lo][j] + 0.5 * (simplex[i][j] - simplex[lo][j]);
					f[i] = Evaluate(obj, simplex[i]);
				}
			}
		}
	}

	{
		int			lo = 0;

		for (int i = 1; i <= n; i++)
			if (f[i] < f[lo])
				lo = i;
		memcpy(x, simplex[lo], sizeof(double) * n);
		*fbest = f[lo];
	}
	return done;
}

/* AtBound: is any of the n log-parameters at the edge of the search box? */
static bool
AtBound(const double *theta, int n)
{
	for (int i = 0; i < n; i++)
		if (fabs(theta[i]) > LOG_BOUND - BOUND_MARGIN)
			return true;
	return false;
}

/*
 * Minimise: Nelder-Mead from x, restarted from the best point with a fresh simplex until a
 * restart no longer improves the objective. Returns true when the last run converged.
 */
static bool
Minimise(Objective *obj, double *x, double step, double ftol, double *fbest, int *iterations)
{
	bool		ok = NelderMead(obj, x, step, ftol, fbest, iterations);

	for (int r = 0; r < MAX_RESTARTS; r++)
	{
		double		before = *fbest;

		if (AtBound(x, obj->spec->nparams))
			break;
		ok = NelderMead(obj, x, 0.1, ftol, fbest, iterations);
		if (before - *fbest <= 10 * ftol * (fabs(before) + 1e-12))
			break;
	}
	return ok;
}

/*
 * Cholesky: factors the symmetric n x n matrix a (row-major) in place into L (lower
 * triangle). Returns false when a is not positive definite.
 */
static bool
Cholesky(double *a, int n)
{
	for (int j = 0; j < n; j++)
	{
		double		d = a[j * n + j];

		for (int k = 0; k < j; k++)
			d -= a[j * n + k] * a[j * n + k];
		if (!(d > 0))
			return false;
		d = sqrt(d);
		a[j * n + j] = d;
		for (int i = j + 1; i < n; i++)
		{
			double		s = a[i * n + j];

			for (int k = 0; k < j; k++)
				s -= a[i * n + k] * a[j * n + k];
			a[i * n + j] = s / d;
		}
	}
	return true;
}

/*
 * CholeskySolve: solves L L' x = b for x (in place in b), L from Cholesky.
 */
static void
CholeskySolve(const double *l, int n, double *b)
{
	for (int i = 0; i < n; i++)
	{
		for (int k = 0; k < i; k++)
			b[i] -= l[i * n + k] * b[k];
		b[i] /= l[i * n + i];
	}
	for (int i = n - 1; i >= 0; i--)
	{
		for (int k = i + 1; k < n; k++)
			b[i] -= l[k * n + i] * b[k];
		b[i] /= l[i * n + i];
	}
}

/*
 * Derivatives: the negative log-likelihood (total, not per customer) at theta in *f0, its
 * gradient and Hessian in log space by central differences. Returns false when any of
 * the evaluations is not finite.
 */
static bool
Derivatives(Objective *obj, const double *theta, double *f0, double *grad, double *hess)
{
	int			n = obj->spec->nparams;
	double		w = obj->data->total_weight;

	*f0 = Evaluate(obj, theta) * w;
	for (int i = 0; i < n; i++)
	{
		double		t[CLV_MAX_PARAMS];
		double		fp,
					fm;

		memcpy(t, theta, sizeof(t));
		t[i] = theta[i] + HESS_STEP;
		fp = Evaluate(obj, t) * w;
		t[i] = theta[i] - HESS_STEP;
		fm = Evaluate(obj, t) * w;
		grad[i] = (fp - fm) / (2 * HESS_STEP);
		hess[i * n + i] = (fp - 2 * *f0 + fm) / (HESS_STEP * HESS_STEP);
		for (int j = 0; j < i; j++)
		{
			double		fpp,
						fpm,
						fmp,
						fmm;

			memcpy(t, theta, sizeof(t));
			t[i] += HESS_STEP;
			t[j] += HESS_STEP;
			fpp = Evaluate(obj, t) * w;
			t[j] -= 2 * HESS_STEP;
			fpm = Evaluate(obj, t) * w;
			t[i] -= 2 * HESS_STEP;
			fmm = Evaluate(obj, t) * w;
			t[j] += 2 * HESS_STEP;
			fmp = Evaluate(obj, t) * w;
			hess[i * n + j] = hess[j * n + i] =
				(fpp - fpm - fmp + fmm) / (4 * HESS_STEP * HESS_STEP);
		}
	}
	for (int i = 0; i < n; i++)
		if (!isfinite(grad[i]) || !isfinite(hess[i * n + i]))
			return false;
	return isfinite(*f0);
}

/*
 * Newton: polishes theta with Newton steps on the numerical Hessian (with step halving)
 * until the Newton decrement g' H^-1 g is below NEWTON_TOL. Leaves the Cholesky factor of
 * the last Hessian in chol and the last decrement in *decrement. Returns false when the
 * Hessian is not positive definite or the steps stop improving the objective while the
 * decrement is still above CONVERGED_TOL (below it, what is left is rounding noise).
 */
static bool
Newton(Objective *obj, double *theta, double *chol, double *decrement, int *iterations)
{
	int			n = obj->spec->nparams;

	*decrement = HUGE_VAL;
	for (int it = 0; it < MAX_NEWTON; it++)
	{
		double		f0,
					grad[CLV_MAX_PARAMS],
					step[CLV_MAX_PARAMS];
		bool		moved = false;

		if (!Derivatives(obj, theta, &f0, grad, chol) || !Cholesky(chol, n))
			return false;
		memcpy(step, grad, sizeof(step));
		CholeskySolve(chol, n, step);
		*decrement = 0;
		for (int i = 0; i < n; i++)
			*decrement += step[i] * grad[i];
		if (*decrement < NEWTON_TOL)
			return true;
		(*iterations)++;
		for (double t = 1; t > 1e-4 && !moved; t /= 2)
		{
			double		x[CLV_MAX_PARAMS];

			for (int i = 0; i < n; i++)
				x[i] = theta[i] - t * step[i];
			if (Evaluate(obj, x) * obj->data->total_weight < f0)
			{
				memcpy(theta, x, sizeof(x));
				moved = true;
			}
		}
		/* no step improves: at the optimum to within rounding, or stuck */
		if (!moved)
			return *decrement < CONVERGED_TOL;
	}
	return false;
}

/*
 * FitModel: fits spec to data by maximum likelihood and fills result. Never raises an
 * error for data the model cannot fit: those come back with converged = false, a status
 * saying why, and NaN (shown as NULL) where no number is meaningful.
 *
 * Nelder-Mead finds the neighbourhood of the maximum (on a systematic sample of the
 * patterns when there are many), Newton steps on the numerical Hessian then converge on
 * all the data in a few evaluations; should they fail, Nelder-Mead runs on all the data.
 */
void
FitModel(const ModelSpec *spec, const FitData *data, FitResult *result)
{
	int			n = spec->nparams;
	Objective	obj = {spec, data, 0};
	double		theta[CLV_MAX_PARAMS];
	double		fbest;
	double		chol[CLV_MAX_PARAMS * CLV_MAX_PARAMS] = {0};
	double		decrement = HUGE_VAL;
	bool		ok;

	result->iterations = 0;
	result->converged = false;
	result->log_likelihood = NAN;
	for (int i = 0; i < CLV_MAX_PARAMS; i++)
		result->params[i] = result->se[i] = NAN;

	if (data->npatterns < 2 || data->total_weight <= n)
	{
		result->status = "too few customers";
		return;
	}

	for (int i = 0; i < n; i++)
		theta[i] = 0;

	if (data->npatterns > 2 * SAMPLE_PATTERNS)
	{
		/* many patterns: find the neighbourhood on a systematic sample first */
		int			stride = data->npatterns / SAMPLE_PATTERNS;
		int			width = data->ncols + 1;
		double	   *rows = palloc(sizeof(double) * width * (data->npatterns / stride + 1));
		FitData		sample = *data;
		Objective	sobj = {spec, &sample, 0};

		sample.rows = rows;
		/* the lookup tables describe all the rows, not the sample */
		for (int c = 0; c < CLV_MAX_COLS; c++)
			sample.index[c] = NULL;
		sample.logcol1 = NULL;
		sample.npatterns = 0;
		sample.total_weight = 0;
		for (int i = 0; i < data->npatterns; i += stride)
		{
			memcpy(&rows[sample.npatterns * width], &data->rows[i * width], sizeof(double) * width);
			sample.total_weight += data->rows[i * width + data->ncols];
			sample.npatterns++;
		}
		ok = Minimise(&sobj, theta, 1.0, NM_SAMPLE, &fbest, &result->iterations);
		pfree(rows);
	}
	else
		ok = Minimise(&obj, theta, 1.0, NM_LOOSE, &fbest, &result->iterations);

	if (!AtBound(theta, n) && !Newton(&obj, theta, chol, &decrement, &result->iterations))
	{
		/* Newton failed from there: search all the data, then try once more */
		ok = Minimise(&obj, theta, 0.05, NM_TIGHT, &fbest, &result->iterations);
		if (!AtBound(theta, n))
			Newton(&obj, theta, chol, &decrement, &result->iterations);
	}

	fbest = Evaluate(&obj, theta);
	if (!isfinite(fbest))
	{
		result->status = "no parameters give a finite likelihood";
		return;
	}
	for (int i = 0; i < n; i++)
		result->params[i] = exp(theta[i]);
	result->log_likelihood = -fbest * data->total_weight;

	if (AtBound(theta, n))
	{
		result->status = "a parameter ran to the edge of its range (the data do not identify the model)";
		return;
	}
	if (decrement == HUGE_VAL)
	{
		result->status = ok ? "the Hessian is not positive definite (the data do not identify the model)"
			: "iteration limit reached";
		return;
	}
	/* standard errors by the delta method: se(p) = p * se(log p) */
	for (int i = 0; i < n; i++)
	{
		double		e[CLV_MAX_PARAMS] = {0};

		e[i] = 1;
		CholeskySolve(chol, n, e);
		result->se[i] = result->params[i] * sqrt(e[i]);
	}
	if (!(decrement < CONVERGED_TOL))
	{
		result->status = "the gradient is not zero at the end of the search";
		return;
	}
	result->converged = true;
	result->status = "converged";
}
