/*-------------------------------------------------------------------------
 *
 * clv.h
 *	  Private declarations shared by the customer-lifetime-value sources: the fitting
 *	  aggregates' state (model_state.c), the maximum-likelihood optimiser (model_optim.c),
 *	  the special functions and the model definitions (model_btyd.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_CLV_H
#define PG_RETENTION_CLV_H

#include "fmgr.h"

/* Largest number of parameters of any fitted model. */
#define CLV_MAX_PARAMS 4

/* Largest number of values in one pattern of a fitting state (the weight excluded). */
#define CLV_MAX_COLS 3

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

/* The data a model is fitted to: rows of (ncols + 1) doubles, the last one a weight. */
typedef struct FitData
{
	const double *rows;			/* npatterns rows */
	int			npatterns;		/* number of rows */
	int			ncols;			/* values per row, weight excluded */
	double		total_weight;	/* sum of the weights (customers) */
	int64		customers;		/* the same sum, exact */
	double		max_value[CLV_MAX_COLS];	/* largest value of each column */

	/*
	 * Optional lookup tables (NULL when absent): for column c, its distinct values in
	 * distinct[c] (ndistinct[c] of them) and each row's position among them in
	 * index[c], so a likelihood can compute a function of the column once per distinct
	 * value; scratch has room for the largest ndistinct[c] * 2 doubles.
	 */
	const int32 *index[CLV_MAX_COLS];	/* per-row position in distinct[c] */
	const double *distinct[CLV_MAX_COLS];	/* sorted distinct values of column c */
	int			ndistinct[CLV_MAX_COLS];	/* number of distinct values of column c */
	double	   *scratch;		/* work space for the likelihood */
	const double *logcol1;		/* per-row log of column 1 where positive, or NULL */
} FitData;

/* A model the optimiser can fit: its likelihood and where to start. */
typedef struct ModelSpec
{
	const char *name;			/* model name used in messages, e.g. "BG/NBD" */
	FitLayout	layout;			/* the data layout it reads */
	int			nparams;		/* number of (positive) parameters */
	/* total weighted log-likelihood at params, or -Inf/NaN where undefined */
	double		(*loglik) (const double *params, const FitData *data);
	/* checks for a parameter set, or NULL: returns false where params are invalid */
	bool		(*valid) (const double *params);
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
} FitResult;

/* model_state.c */
extern void CheckPattern(FitLayout layout, const double *v, double weight);
extern FitState *FitStateCopyCompact(Datum d, FitLayout layout);
extern void FitDataFromState(const FitState *st, FitData *data);
extern Datum FitFinal(FunctionCallInfo fcinfo, const ModelSpec *spec);

/* model_optim.c */
extern void FitModel(const ModelSpec *spec, const FitData *data, FitResult *result);

/* model_btyd.c */
extern double LogBeta(double a, double b);
extern double Hyp2F1(double a, double b, double c, double z);

#endif							/* PG_RETENTION_CLV_H */
