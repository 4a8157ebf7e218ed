/*-------------------------------------------------------------------------
 *
 * clv.h
 *	  Private declarations shared by the customer-lifetime-value sources: the fitting
 *	  aggregates' state (model_state.c), the special functions (model_special.c), the
 *	  likelihoods and their gradients (model_lik.c), the maximum-likelihood optimiser
 *	  (model_optim.c), and the per-model formulas the scoring, forecasting and evaluation
 *	  functions share (model_btyd.c).
 *
 * Layers, top-down: the SQL-callable scoring, forecast, evaluation and bootstrap functions
 * use the per-model formulas and the optimiser; the optimiser uses the likelihoods; the
 * likelihoods use the special functions and the data the state module describes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_CLV_H
#define PG_RETENTION_CLV_H

#include <math.h>

#include "access/tupdesc.h"
#include "fmgr.h"

/* Largest number of parameters of any fitted model. */
#define CLV_MAX_PARAMS 4

/* Largest number of values in one pattern of a fitting state (the weight excluded). */
#define CLV_MAX_COLS 3

/* Most entries of the BG/BB likelihood's per-frequency tables (see FitData). */
#define BGBB_TABLE_MAX (4 * 1024 * 1024)

/* Doubles per entry of those tables: log A, its gradient, log D, D's gradient share. */
#define BGBB_TABLE_WIDTH 10

/*
 * Largest weight of one pattern of a fitting state: 2^53 - 1, the largest whole number
 * up to which every whole number is exact in a double (the weights are stored as doubles).
 */
#define FIT_MAX_WEIGHT INT64CONST(9007199254740991)

/*
 * What the rows of a fitting state hold. Models that read the same data share a layout,
 * so one state can be fitted by several of them.
 */
typedef enum FitLayout
{
	FIT_LAYOUT_RFT = 1,			/* (frequency, recency, T): BG/NBD, Pareto/NBD, MBG/NBD */
	FIT_LAYOUT_SPEND = 2,		/* (frequency, mean spend): Gamma-Gamma */
	FIT_LAYOUT_SURVIVAL = 3,	/* (periods, churned 0/1): sBG */
	FIT_LAYOUT_DISCRETE = 4		/* (frequency, recency, periods): BG/BB */
} FitLayout;

/*
 * The state of a fitting aggregate: distinct data patterns with their weights.
 *
 * The patterns are stored as rows of (ncols + 1) doubles, the last one the pattern's
 * weight (number of customers), followed by a hash index of 2 * capacity int32 slots (0 for
 * empty, else a row number + 1). The varlena's size always covers `capacity` rows and the
 * slots, so that PostgreSQL's copies of the value (datumCopy) keep them valid; only the
 * first `npatterns` rows are in use, and they are always distinct. When `sorted` is set
 * they are also in ascending order.
 */
typedef struct FitState
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		layout;			/* a FitLayout */
	uint8		ncols;			/* values per pattern, weight excluded */
	uint8		sorted;			/* 1 when the used rows are in ascending order */
	uint8		spare;			/* reserved, always 0 */
	int32		npatterns;		/* rows in use */
	int32		capacity;		/* rows the value has room for (a power of two) */
	int32		padding;		/* keeps the rows 8-byte aligned; always 0 */
	double		rows[FLEXIBLE_ARRAY_MEMBER];	/* capacity * (ncols + 1) values, then the slots */
} FitState;

#define FIT_STATE_HDRSZ offsetof(FitState, rows)
#define FIT_ROW(st, i) (&(st)->rows[(size_t) (i) * ((st)->ncols + 1)])

/*
 * The data a model is fitted to: npatterns rows of (ncols + 1) doubles, the last one the
 * weight the state holds, and the weights the likelihoods use (w[i]: the state's weights,
 * or a bootstrap replicate's). The lookup tables let a likelihood compute a function of a
 * value once per distinct value instead of once per row.
 */
typedef struct FitData
{
	const double *rows;			/* npatterns rows, sorted */
	int			npatterns;		/* number of rows */
	int			ncols;			/* values per row, weight excluded */
	const double *w;			/* weight of each row used by the likelihoods */
	double		total_weight;	/* sum of w (customers) */
	int64		customers;		/* the sum of the state's weights, exact */

	/*
	 * Columns 1 and 2 of the RFT layout (recency, T): their sorted distinct values and
	 * each row's position among them, so that log(alpha + value) is computed once per
	 * distinct value; NULL for other layouts.
	 */
	const int32 *index[CLV_MAX_COLS];	/* per-row position in distinct[c] */
	const double *distinct[CLV_MAX_COLS];	/* sorted distinct values of column c */
	int			ndistinct[CLV_MAX_COLS];	/* number of distinct values of column c */

	/*
	 * RFT layout: the distinct (frequency, time) pairs among the rows' (x, recency) and
	 * (x, T), and each row's two positions among them, so that the Pareto/NBD's
	 * hypergeometric terms are computed once per distinct pair.
	 */
	int			npairs;			/* number of distinct pairs */
	const double *pair_x;		/* frequency of each pair */
	const double *pair_t;		/* time of each pair */
	const int32 *pair_of_recency;	/* row -> pair (x, recency) */
	const int32 *pair_of_age;	/* row -> pair (x, T) */

	/*
	 * DISCRETE layout (BG/BB), when the tables fit in BGBB_TABLE_MAX entries: for the k-th
	 * distinct frequency (index[0], distinct[0]), the opportunities j = table_first[k] ..
	 * table_first[k] + table_len[k] - 1 its rows' recency and periods span, stored from
	 * table_offset[k] on; NULL otherwise.
	 */
	const int32 *table_first;	/* first opportunity of each frequency's table */
	const int32 *table_len;		/* entries of each frequency's table */
	const int64 *table_offset;	/* where each frequency's table starts */
	int64		table_entries;	/* entries of all tables */

	const double *logcol1;		/* SPEND layout: per-row log of the mean spend, or NULL */
	double	   *scratch;		/* work space of the likelihoods (see FitDataFromRows) */
} FitData;

/* A model the optimiser can fit: its likelihood, gradient and where to start. */
typedef struct ModelSpec
{
	const char *name;			/* model name used in messages, e.g. "BG/NBD" */
	FitLayout	layout;			/* the data layout it reads */
	int			nparams;		/* number of (positive) parameters */

	/*
	 * total weighted log-likelihood at params, and (when grad is not NULL) its gradient
	 * with respect to the parameters (not their logarithms); -Inf or NaN where undefined
	 */
	double		(*loglik) (const double *params, const FitData *data, double *grad);
} ModelSpec;

/* The outcome of a fit. */
typedef struct FitResult
{
	double		params[CLV_MAX_PARAMS];	/* maximum-likelihood estimates */
	double		se[CLV_MAX_PARAMS];	/* standard errors, NaN where unavailable */
	double		log_likelihood; /* log-likelihood at params */
	bool		converged;		/* true when every convergence check passed */
	const char *status;			/* "converged" or why not */
	int			iterations;		/* optimiser iterations used */

	/*
	 * the Hessian of the negative log-likelihood per customer in log-parameters at the
	 * estimate (row-major), valid when hessian_ok: a bootstrap replicate starts from it
	 */
	double		hessian[CLV_MAX_PARAMS * CLV_MAX_PARAMS];
	bool		hessian_ok;		/* hessian holds a positive definite matrix */
} FitResult;

/*
 * A continuous-time purchase model's formulas for one customer (frequency x, recency
 * t_x, age T), parameters p: what the scoring, forecast and evaluation functions share.
 */
typedef struct PurchaseModel
{
	const ModelSpec *spec;		/* the fitted model */
	/* P(alive at T | x, t_x, T) */
	double		(*alive) (const double *p, double x, double tx, double T);
	/* expected purchases in (T, T + t] of the customer if alive at T */
	double		(*expected) (const double *p, double t, double x, double tx, double T);
	/* P(alive at T + t | alive at T, x, t_x, T) */
	double		(*survival) (const double *p, double t, double x, double tx, double T);
} PurchaseModel;

/* The arguments of clv and clv_schedule, read and checked (ReadClvArgs). */
typedef struct ClvArgs
{
	double		p[CLV_MAX_PARAMS];	/* the purchase model's parameters */
	double		x;				/* frequency */
	double		tx;				/* recency */
	double		T;				/* age */
	double		spend;			/* expected spend per purchase (Gamma-Gamma) */
	double		alive;			/* P(alive at T) */
	int32		periods;		/* discounting periods */
	double		rate;			/* discount rate per period */
	double		length;			/* period length in model time units */
} ClvArgs;

/* log(exp(a) + exp(b)) without overflow. */
static inline double
LogAddExp(double a, double b)
{
	if (a == -HUGE_VAL)
		return b;
	if (b == -HUGE_VAL)
		return a;
	return a > b ? a + log1p(exp(b - a)) : b + log1p(exp(a - b));
}

/* model_state.c */
extern void CheckPattern(FitLayout layout, const double *v, double weight);
extern FitState *FitStateCopyCompact(Datum d, FitLayout layout);
extern FitState *FitStateFromRows(FitState *st, int npatterns);
extern void FitDataFromState(const FitState *st, FitData *data);
extern void FitDataFromRows(const double *rows, int npatterns, FitLayout layout, FitData *data);
extern Datum FitFinal(FunctionCallInfo fcinfo, const ModelSpec *spec);
extern Datum FitResultDatum(FunctionCallInfo fcinfo, const ModelSpec *spec, const FitData *data,
							const FitResult *res, TupleDesc tupdesc);

/* model_special.c */
extern double LogBeta(double a, double b);
extern double Digamma(double x);
extern double Hyp2F1(double a, double b, double c, double z);
extern bool Hyp2F1Log(double a, double b, double c, double z, double *logf, double *dlog);
extern void GaussLegendre(int n, double *x, double *w);

/* model_optim.c */
extern int	fit_time_limit_ms;
extern void FitModel(const ModelSpec *spec, const FitData *data, FitResult *result);
extern void FitModelFrom(const ModelSpec *spec, const FitData *data, const double *start,
						 const double *hessian, bool want_se, FitResult *result);
extern void ClvInit(void);

/* model_lik.c: the fitted models */
extern const ModelSpec bgnbd_spec;
extern const ModelSpec mbgnbd_spec;
extern const ModelSpec pareto_spec;
extern const ModelSpec bgbb_spec;
extern const ModelSpec gg_spec;
extern const ModelSpec sbg_spec;
extern double BgbbLogL(const double *p, double x, double tx, double n);
extern double ParetoLogA0(double r, double alpha, double s, double beta, double x, double tx,
						  double T);

/* model_btyd.c: the per-model formulas and the reading of scoring arguments */
extern const PurchaseModel bgnbd_purchase;
extern const PurchaseModel mbgnbd_purchase;
extern const PurchaseModel pareto_purchase;
extern void ReadModel(FunctionCallInfo fcinfo, int argno, const ModelSpec *spec, double *p);
extern void ReadRft(FunctionCallInfo fcinfo, int first, double *x, double *tx, double *T);
extern void ReadDiscrete(FunctionCallInfo fcinfo, int first, double *x, double *tx, double *n);
extern void ReadClvArgs(FunctionCallInfo fcinfo, const PurchaseModel *m, ClvArgs *c);
extern void CheckHorizon(double t);
extern double Finite(double v, const char *model);
extern double BgbbExpected(const double *p, double m, double x, double tx, double n);

#endif							/* PG_RETENTION_CLV_H */
