/*-------------------------------------------------------------------------
 *
 * revenue.h
 *	  The flat period series behind revenue_state and span_state: for every
 *	  period of a covered range, a fixed number of int64 counters that add up
 *	  across customers. Its size depends on the number of periods covered,
 *	  never on the number of customers.
 *
 *	  revenue_state (SERIES_REVENUE), per period p (amounts in 1/10000 units):
 *		REV_ACTIVE		customers paying in p (MRR > 0)
 *		REV_MRR			their MRR in p
 *		REV_NEW_N/_AMT	customers whose first paying period is p, their MRR
 *		REV_EXP_N/_AMT	paying in p-1 and p with more MRR in p; the increase
 *		REV_CON_N/_AMT	paying in p-1 and p with less MRR in p; the decrease
 *		REV_REACT_N/_AMT paying in p, not in p-1, paying before; their MRR
 *		REV_LEAVE_N/_AMT paying in p, not in p+1 (churned in p+1); their MRR in p
 *
 *	  span_state (SERIES_SPAN), per period p:
 *		SPAN_END_DELTA	change of "subscribed on p's last day" from p-1 to p
 *						(prefix sums give customers at the end of each period,
 *						so open-ended subscriptions need no horizon)
 *		SPAN_NEW		first subscription starts in p
 *		SPAN_NEW_LOST	new in p and not subscribed at p's end
 *		SPAN_REACT		not subscribed at p's start, not new, subscribed at its end
 *		SPAN_LOST		subscribed at p's start, not at its end
 *		SPAN_CHURNED	customers with at least one subscription end in p
 *		SPAN_EVENTS		subscription ends in p (a customer may churn twice)
 *		SPAN_BACK		churned in p and subscribed again at p's end
 *		SPAN_CM_CHURNED churned in p, not new in p, not subscribed at p's end
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_REVENUE_H
#define PG_RETENTION_REVENUE_H

#include "fmgr.h"

#include "activity.h"
#include "compat.h"

#define SERIES_VERSION	1
#define SERIES_REVENUE	1
#define SERIES_SPAN		2

/* the most periods a series covers */
#define SERIES_MAX_PERIODS ACTIVITY_MAX_SPAN

enum
{
	REV_ACTIVE, REV_MRR, REV_NEW_N, REV_NEW_AMT, REV_EXP_N, REV_EXP_AMT,
	REV_CON_N, REV_CON_AMT, REV_REACT_N, REV_REACT_AMT, REV_LEAVE_N, REV_LEAVE_AMT,
	REV_NCOLS
};

enum
{
	SPAN_END_DELTA, SPAN_NEW, SPAN_NEW_LOST, SPAN_REACT, SPAN_LOST, SPAN_CHURNED,
	SPAN_EVENTS, SPAN_BACK, SPAN_CM_CHURNED,
	SPAN_NCOLS
};

#define SERIES_NCOLS(kind)	((kind) == SERIES_REVENUE ? REV_NCOLS : SPAN_NCOLS)

typedef struct SeriesState
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* SERIES_VERSION */
	uint8		kind;			/* SERIES_REVENUE or SERIES_SPAN */
	uint16		unit;			/* PeriodUnit of all periods */
	int32		base;			/* ordinal of the first covered period */
	int32		nperiods;		/* number of covered periods */
	int32		pad;			/* zero; keeps the counters 8-byte aligned */
	int64		cells[FLEXIBLE_ARRAY_MEMBER];	/* SERIES_NCOLS per period, in order */
} SeriesState;

/* pointer to the counters of period index i */
#define SERIES_ROW(t, i)	(&(t)->cells[(int64) (i) * SERIES_NCOLS((t)->kind)])

#define PG_GETARG_SERIES(n)	((SeriesState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

/* revenue_series.c */
extern SeriesState *SeriesAlloc(int kind, PeriodUnit unit, int32 base, int64 nperiods);
extern SeriesState *SeriesForUpdate(FunctionCallInfo fcinfo, int argno, int kind, PeriodUnit unit,
									int32 lo, int32 hi, const char *what);
extern SeriesState *SeriesTrim(SeriesState *t);
extern void SeriesCheckKind(const SeriesState *t, int kind);
extern SeriesState *SeriesCombine(FunctionCallInfo fcinfo, int kind, const char *what);
extern const char *SeriesTypeName(int kind);
CompatNoReturn extern void SeriesOutOfRange(int kind);
extern void SeriesCheckSums(const SeriesState *t);

/* span.c: churn conventions of span_table and retention_table */
#define CONV_STANDARD	0
#define CONV_CHARTMOGUL 1
#define CONV_STRIPE		2
extern int	ChurnConvention(text *name);

#endif							/* PG_RETENTION_REVENUE_H */
