/*-------------------------------------------------------------------------
 *
 * model_optim.c
 *	  Maximum-likelihood fitting of the CLV models: a trust-region quasi-Newton search in
 *	  the logarithms of the (positive) parameters on analytic gradients, then a Hessian
 *	  from central differences of the gradient for the standard errors and the
 *	  convergence checks; and the retention.fit_time_limit setting that bounds a fit.
 *
 * Working in log space keeps every parameter positive without constraints; the search is
 * further boxed to [exp(-LOG_BOUND), exp(LOG_BOUND)] so that degenerate data (for example
 * no repeat purchases at all) drive a parameter to the box's edge, where it is reported as
 * non-convergence rather than as a number. The objective is the negative log-likelihood per
 * customer, so that its Hessian has the same scale on a sample of the patterns as on all
 * of them, and tolerances do not depend on the number of customers.
 *
 * The method (Nocedal & Wright, "Numerical Optimization", 2nd ed., ch. 4 and 6): each
 * iteration solves (H + lambda I) s = -g for the smallest lambda >= 0 that makes the matrix
 * positive definite and the step no longer than the trust radius (Levenberg-Marquardt),
 * accepts the step when the objective falls by a fair share of what the quadratic model
 * promised, widens or narrows the radius by that ratio, and updates H by BFGS. H starts
 * from central differences of the gradient. With more than 2 * SAMPLE_PATTERNS patterns the
 * search first runs on a systematic sample of SAMPLE_PATTERNS of them, whose Hessian and
 * optimum are then a start close enough that a few iterations on all the data converge.
 * Every evaluation checks for interrupts, the evaluations are counted, and the search
 * stops with a status when retention.fit_time_limit has passed.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "clv.h"

/* Parameters are searched in [exp(-LOG_BOUND), exp(LOG_BOUND)]. */
#define LOG_BOUND 16.0

/* A parameter this close (in log space) to the box's edge counts as stuck there. */
#define BOUND_MARGIN 0.1

/* Above 2 * SAMPLE_PATTERNS patterns a first fit runs on a systematic sample of this many. */
#define SAMPLE_PATTERNS 3000

/* Gradient evaluations allowed on a sample, and on all the data. */
#define MAX_SAMPLE_EVALS 600
#define MAX_EVALS 300

/*
 * The search ends when the Newton decrement (total, over all customers: g' H^-1 g of the
 * total log-likelihood) falls below STOP_TOL; on a sample, below SAMPLE_TOL (the sample's
 * optimum is only a start). A fit counts as converged when the decrement left at the
 * end, with the Hessian from differences, is below CONVERGED_TOL.
 */
#define STOP_TOL 1e-8
#define SAMPLE_TOL 1e-3
#define CONVERGED_TOL 1e-4

/* Step of the central differences of the gradient, in log space. */
#define HESS_STEP 1e-4

/* Initial and largest trust radius (Euclidean, in log space). */
#define RADIUS_START 1.0
#define RADIUS_MAX 4.0

/* retention.fit_time_limit: longest time a fit may search, in milliseconds. */
int			fit_time_limit_ms = 60000;

/* The objective and the budget of one search. */
typedef struct Objective
{
	const ModelSpec *spec;		/* the model */
	const FitData *data;		/* the data */
	int			evals;			/* gradient evaluations so far */
	int			max_evals;		/* evaluations allowed */
	TimestampTz deadline;		/* when the time limit passes */
	bool		out_of_time;	/* the time limit has passed */
} Objective;

/*
 * EvalGrad: the negative log-likelihood per customer at log-parameters theta and, into g
 * (when not NULL), its gradient with respect to theta; +Inf outside the box or where the
 * likelihood or its gradient is undefined. Checks for interrupts and the time limit.
 */
static double
EvalGrad(Objective *obj, const double *theta, double *g)
{
	int			n = obj->spec->nparams;
	double		p[CLV_MAX_PARAMS];
	double		dp[CLV_MAX_PARAMS];
	double		w = obj->data->total_weight;
	double		ll;

	CHECK_FOR_INTERRUPTS();
	obj->evals++;
	if (GetCurrentTimestamp() >= obj->deadline)
		obj->out_of_time = true;
	for (int i = 0; i < n; i++)
	{
		if (!(theta[i] >= -LOG_BOUND && theta[i] <= LOG_BOUND))
			return HUGE_VAL;
		p[i] = exp(theta[i]);
	}
	ll = obj->spec->loglik(p, obj->data, g ? dp : NULL);
	if (!isfinite(ll))
		return HUGE_VAL;
	if (g)
		for (int i = 0; i < n; i++)
		{
			/* d/dtheta = p d/dp */
			g[i] = -dp[i] * p[i] / w;
			if (!isfinite(g[i]))
				return HUGE_VAL;
		}
	return -ll / w;
}

/* Budget: has the search used up its evaluations or its time? */
static inline bool
OutOfBudget(const Objective *obj)
{
	return obj->out_of_time || obj->evals >= obj->max_evals;
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

/* CholeskySolve: solves L L' x = b for x (in place in b), L from Cholesky. */
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
 * FdHessian: the Hessian of the objective at theta by central differences of its
 * gradient, symmetrised, into h. Returns false when an evaluation is not finite.
 */
static bool
FdHessian(Objective *obj, const double *theta, double *h)
{
	int			n = obj->spec->nparams;

	for (int i = 0; i < n; i++)
	{
		double		t[CLV_MAX_PARAMS];
		double		gp[CLV_MAX_PARAMS],
					gm[CLV_MAX_PARAMS];

		memcpy(t, theta, sizeof(double) * n);
		t[i] = theta[i] + HESS_STEP;
		if (!isfinite(EvalGrad(obj, t, gp)))
			return false;
		t[i] = theta[i] - HESS_STEP;
		if (!isfinite(EvalGrad(obj, t, gm)))
			return false;
		for (int j = 0; j < n; j++)
			h[j * n + i] = (gp[j] - gm[j]) / (2 * HESS_STEP);
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			h[i * n + j] = h[j * n + i] = (h[i * n + j] + h[j * n + i]) / 2;
	return true;
}

/*
 * Decrement: the Newton decrement g' H^-1 g over the free coordinates (H positive definite
 * there), or +Inf when H is not positive definite on them.
 */
static double
Decrement(const double *h, const double *g, const bool *fixed, int n)
{
	double		a[CLV_MAX_PARAMS * CLV_MAX_PARAMS];
	double		b[CLV_MAX_PARAMS];
	int			idx[CLV_MAX_PARAMS];
	int			nf = 0;
	double		d = 0;

	for (int i = 0; i < n; i++)
		if (!fixed[i])
			idx[nf++] = i;
	if (nf == 0)
		return 0;
	for (int i = 0; i < nf; i++)
	{
		b[i] = g[idx[i]];
		for (int j = 0; j < nf; j++)
			a[i * nf + j] = h[idx[i] * n + idx[j]];
	}
	if (!Cholesky(a, nf))
		return HUGE_VAL;
	CholeskySolve(a, nf, b);
	for (int i = 0; i < nf; i++)
		d += b[i] * g[idx[i]];
	return d;
}

/*
 * TrustStep: the Levenberg-Marquardt step over the free coordinates: s = -(H + lambda I)^-1
 * g with the smallest lambda (0, then growing geometrically) for which the matrix is
 * positive definite and |s| <= radius; fixed coordinates get 0. Falls back to a steepest
 * descent step of the radius's length when no lambda works. Returns the quadratic model's
 * predicted decrease -(g's + s'Hs/2) of the step into *pred.
 */
static void
TrustStep(const double *h, const double *g, const bool *fixed, int n, double radius,
		  double *s, double *pred)
{
	double		a[CLV_MAX_PARAMS * CLV_MAX_PARAMS];
	double		b[CLV_MAX_PARAMS];
	int			idx[CLV_MAX_PARAMS];
	int			nf = 0;
	double		scale = 0,
				lambda = 0,
				gnorm = 0,
				shs = 0,
				gs = 0;
	bool		found = false;

	memset(s, 0, sizeof(double) * n);
	for (int i = 0; i < n; i++)
		if (!fixed[i])
		{
			idx[nf++] = i;
			scale = Max(scale, fabs(h[i * n + i]));
			gnorm += g[i] * g[i];
		}
	gnorm = sqrt(gnorm);
	if (scale == 0 || !isfinite(scale))
		scale = 1;
	for (int attempt = 0; attempt < 80 && nf > 0; attempt++)
	{
		double		len = 0;

		for (int i = 0; i < nf; i++)
		{
			b[i] = -g[idx[i]];
			for (int j = 0; j < nf; j++)
				a[i * nf + j] = h[idx[i] * n + idx[j]] + (i == j ? lambda : 0);
		}
		if (Cholesky(a, nf))
		{
			CholeskySolve(a, nf, b);
			for (int i = 0; i < nf; i++)
				len += b[i] * b[i];
			if (sqrt(len) <= radius * (1 + 1e-9))
			{
				for (int i = 0; i < nf; i++)
					s[idx[i]] = b[i];
				found = true;
				break;
			}
		}
		lambda = lambda == 0 ? 1e-6 * scale : lambda * 4;
	}
	if (!found && gnorm > 0)
		for (int i = 0; i < nf; i++)
			s[idx[i]] = -g[idx[i]] * radius / gnorm;
	for (int i = 0; i < n; i++)
	{
		gs += g[i] * s[i];
		for (int j = 0; j < n; j++)
			shs += s[i] * h[i * n + j] * s[j];
	}
	*pred = -(gs + shs / 2);
}

/*
 * BfgsUpdate: H += y y' / (y's) - (Hs)(Hs)' / (s'Hs), skipped when y's is not clearly
 * positive (the update would lose positive definiteness).
 */
static void
BfgsUpdate(double *h, const double *s, const double *y, int n)
{
	double		hs[CLV_MAX_PARAMS] = {0};
	double		ys = 0,
				shs = 0,
				ss = 0,
				yy = 0;

	for (int i = 0; i < n; i++)
	{
		for (int j = 0; j < n; j++)
			hs[i] += h[i * n + j] * s[j];
		ys += y[i] * s[i];
		ss += s[i] * s[i];
		yy += y[i] * y[i];
	}
	for (int i = 0; i < n; i++)
		shs += s[i] * hs[i];
	if (!(ys > 1e-10 * sqrt(ss * yy)) || !(shs > 0))
		return;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			h[i * n + j] += y[i] * y[j] / ys - hs[i] * hs[j] / shs;
}

/*
 * FixedAtBound: marks the coordinates that sit at the box's edge with the gradient
 * pushing them further out; the search leaves them where they are.
 */
static void
FixedAtBound(const double *theta, const double *g, int n, bool *fixed)
{
	for (int i = 0; i < n; i++)
		fixed[i] = (theta[i] >= LOG_BOUND - 1e-12 && g[i] < 0) ||
			(theta[i] <= -LOG_BOUND + 1e-12 && g[i] > 0);
}

/*
 * Minimise: the trust-region search from theta (updated in place), with h the Hessian
 * to start from when *have_h, else from differences; stops when the total Newton
 * decrement is below tol, when no step improves the objective any more, or when the
 * budget is used up. Leaves the objective in *f and its gradient in g, and h the last
 * quasi-Newton Hessian; adds the accepted steps to *iterations. Returns false when the
 * objective is not finite at the start.
 */
static bool
Minimise(Objective *obj, double *theta, double *h, bool *have_h, double tol, double *f,
		 double *g, int *iterations)
{
	int			n = obj->spec->nparams;
	double		w = obj->data->total_weight;
	double		radius = RADIUS_START;
	bool		fixed[CLV_MAX_PARAMS] = {0};

	*f = EvalGrad(obj, theta, g);
	if (!isfinite(*f))
		return false;
	if (!*have_h)
	{
		*have_h = FdHessian(obj, theta, h);
		if (!*have_h)
		{
			/* no curvature to start from: a scaled identity */
			memset(h, 0, sizeof(double) * n * n);
			for (int i = 0; i < n; i++)
				h[i * n + i] = 1;
			*have_h = true;
		}
	}
	while (!OutOfBudget(obj))
	{
		double		s[CLV_MAX_PARAMS],
					tn[CLV_MAX_PARAMS],
					gn[CLV_MAX_PARAMS],
					y[CLV_MAX_PARAMS];
		double		pred,
					fn,
					dec,
					len = 0;

		FixedAtBound(theta, g, n, fixed);
		dec = Decrement(h, g, fixed, n);
		if (!isfinite(dec))
		{
			/*
			 * Not positive definite: BFGS updates cannot mend negative curvature, so take
			 * the Hessian from differences here (a Newton step under the trust region)
			 */
			if (!FdHessian(obj, theta, h))
				break;
			dec = Decrement(h, g, fixed, n);
		}
		if (dec * w < tol)
			break;
		TrustStep(h, g, fixed, n, radius, s, &pred);
		for (int i = 0; i < n; i++)
		{
			/* project onto the box */
			tn[i] = Max(-LOG_BOUND, Min(LOG_BOUND, theta[i] + s[i]));
			s[i] = tn[i] - theta[i];
			len += s[i] * s[i];
		}
		len = sqrt(len);
		if (len == 0 || !(pred > 0))
			break;
		fn = EvalGrad(obj, tn, gn);
		if (isfinite(fn) && fn < *f && (*f - fn) >= 1e-4 * pred)
		{
			double		ratio = (*f - fn) / pred;

			for (int i = 0; i < n; i++)
				y[i] = gn[i] - g[i];
			BfgsUpdate(h, s, y, n);
			memcpy(theta, tn, sizeof(double) * n);
			memcpy(g, gn, sizeof(double) * n);
			*f = fn;
			(*iterations)++;
			if (ratio > 0.75 && len > 0.8 * radius)
				radius = Min(2 * radius, RADIUS_MAX);
			else if (ratio < 0.25)
				radius = len / 4;
		}
		else
		{
			radius = len / 4;
			/* steps this small change nothing a double can show: as far as it goes */
			if (radius < 1e-13)
				break;
		}
	}
	return true;
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
 * SampleData: a systematic sample of about SAMPLE_PATTERNS of the data's patterns (every
 * k-th, with its weight), described for the likelihoods, in the current memory context.
 */
static void
SampleData(const ModelSpec *spec, const FitData *data, FitData *sample)
{
	int			stride = data->npatterns / SAMPLE_PATTERNS;
	int			width = data->ncols + 1;
	double	   *rows = palloc(sizeof(double) * width * (data->npatterns / stride + 1));
	int			n = 0;

	for (int i = 0; i < data->npatterns; i += stride)
	{
		memcpy(&rows[(size_t) n * width], &data->rows[(size_t) i * width], sizeof(double) * width);
		rows[(size_t) n * width + data->ncols] = data->w[i];
		n++;
	}
	FitDataFromRows(rows, n, spec->layout, sample);
}

/*
 * Finish: the outcome of a search that ended at theta: parameters, log-likelihood,
 * standard errors from the Hessian of differences (by the delta method, se(p) =
 * p se(log p)), and the status. With want_se false (bootstrap replicates) the Hessian is
 * not computed and convergence is judged on the quasi-Newton Hessian h.
 */
static void
Finish(Objective *obj, const double *theta, double *h, bool want_se, FitResult *result)
{
	int			n = obj->spec->nparams;
	double		w = obj->data->total_weight;
	double		g[CLV_MAX_PARAMS];
	double		f = EvalGrad(obj, theta, g);
	bool		fixed[CLV_MAX_PARAMS] = {0};
	double		decrement;

	if (!isfinite(f))
	{
		result->status = "no parameters give a finite likelihood";
		return;
	}
	for (int i = 0; i < n; i++)
		result->params[i] = exp(theta[i]);
	result->log_likelihood = -f * w;
	if (AtBound(theta, n))
	{
		result->status = "a parameter ran to the edge of its range (the data do not identify the model)";
		return;
	}
	if (obj->out_of_time)
	{
		/* no more time for a Hessian either */
		result->status = "time limit reached (retention.fit_time_limit)";
		return;
	}
	if (want_se && !FdHessian(obj, theta, h))
	{
		result->status = "the Hessian is not positive definite (the data do not identify the model)";
		return;
	}
	decrement = Decrement(h, g, fixed, n) * w;
	if (!isfinite(decrement))
	{
		result->status = "the Hessian is not positive definite (the data do not identify the model)";
		return;
	}
	memcpy(result->hessian, h, sizeof(double) * n * n);
	result->hessian_ok = true;
	if (want_se)
	{
		double		l[CLV_MAX_PARAMS * CLV_MAX_PARAMS];

		memcpy(l, h, sizeof(double) * n * n);
		(void) Cholesky(l, n);	/* positive definite: Decrement succeeded */
		for (int i = 0; i < n; i++)
		{
			double		e[CLV_MAX_PARAMS] = {0};

			e[i] = 1;
			CholeskySolve(l, n, e);
			/* the total log-likelihood's Hessian is w h: Cov(theta) = (w h)^-1 */
			result->se[i] = result->params[i] * sqrt(e[i] / w);
		}
	}
	if (!(decrement < CONVERGED_TOL))
	{
		result->status = obj->evals >= obj->max_evals ? "iteration limit reached" :
			"the gradient is not zero at the end of the search";
		return;
	}
	result->converged = true;
	result->status = "converged";
}

/* ResetResult: a result with nothing known yet. */
static void
ResetResult(FitResult *result)
{
	result->iterations = 0;
	result->converged = false;
	result->hessian_ok = false;
	result->log_likelihood = NAN;
	result->status = "not fitted";
	for (int i = 0; i < CLV_MAX_PARAMS; i++)
		result->params[i] = result->se[i] = NAN;
}

/* The deadline of a search starting now. */
static TimestampTz
Deadline(void)
{
	return TimestampTzPlusMilliseconds(GetCurrentTimestamp(), fit_time_limit_ms);
}

/*
 * FitModelFrom: fits spec to data by maximum likelihood from the log-parameters start
 * (all zero when NULL: every parameter 1) and, when not NULL, the Hessian to start from,
 * and fills result. Never raises an error for data the model cannot fit: those come back
 * with converged = false, a status saying why, and NaN (shown as NULL) where no number is
 * meaningful. Without want_se no standard errors are computed (bootstrap replicates).
 */
void
FitModelFrom(const ModelSpec *spec, const FitData *data, const double *start,
			 const double *hessian, bool want_se, FitResult *result)
{
	int			n = spec->nparams;
	TimestampTz deadline = Deadline();
	Objective	obj = {spec, data, 0, MAX_EVALS, deadline, false};
	double		theta[CLV_MAX_PARAMS] = {0};
	double		h[CLV_MAX_PARAMS * CLV_MAX_PARAMS];
	double		g[CLV_MAX_PARAMS];
	double		f;
	bool		have_h = false;

	ResetResult(result);
	if (data->npatterns < 2 || data->total_weight <= n)
	{
		result->status = "too few customers";
		return;
	}
	if (start)
		memcpy(theta, start, sizeof(double) * n);
	if (hessian)
	{
		memcpy(h, hessian, sizeof(double) * n * n);
		have_h = true;
	}
	else if (data->npatterns > 2 * SAMPLE_PATTERNS)
	{
		/* many patterns: find the neighbourhood and the curvature on a sample first */
		FitData		sample;
		Objective	sobj = {spec, &sample, 0, MAX_SAMPLE_EVALS, deadline, false};

		SampleData(spec, data, &sample);
		(void) Minimise(&sobj, theta, h, &have_h, SAMPLE_TOL, &f, g, &result->iterations);
		obj.out_of_time = sobj.out_of_time;
		/* a sample that ran to the box's edge says little about the curvature */
		if (AtBound(theta, n))
			have_h = false;
	}
	if (!Minimise(&obj, theta, h, &have_h, STOP_TOL, &f, g, &result->iterations))
	{
		result->status = "no parameters give a finite likelihood";
		return;
	}
	if (want_se && !AtBound(theta, n) && !OutOfBudget(&obj) && FdHessian(&obj, theta, h))
	{
		/* the quasi-Newton Hessian can be off: polish with the one from differences */
		bool		fixed[CLV_MAX_PARAMS] = {0};

		if (Decrement(h, g, fixed, n) * data->total_weight >= STOP_TOL)
			(void) Minimise(&obj, theta, h, &have_h, STOP_TOL, &f, g, &result->iterations);
	}
	Finish(&obj, theta, h, want_se, result);
}

/* FitModel: fits spec to data from every parameter = 1, with standard errors. */
void
FitModel(const ModelSpec *spec, const FitData *data, FitResult *result)
{
	FitModelFrom(spec, data, NULL, NULL, true, result);
}

/* ClvInit: defines the settings of the model fits (called from _PG_init). */
void
ClvInit(void)
{
	DefineCustomIntVariable("retention.fit_time_limit",
							"Longest time a model fit may search for the maximum likelihood.",
							"A fit that reaches it stops with converged = false and a status saying so.",
							&fit_time_limit_ms, 60000, 1, INT_MAX, PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
}
