/*-------------------------------------------------------------------------
 *
 * cohort_state.h
 *	  The triangular period x period matrix behind cohort_state and
 *	  retention_state: for every period r of the covered range (row) and every
 *	  distance s = 0 .. nperiods-1-r from it (slot), a few int64 counters.
 *	  Its size depends on the number of periods covered, never on the number
 *	  of customers.
 *
 *	  cohort_state (TRI_COHORT), row = cohort, slot = age:
 *		col 0  customers of the cohort active at that age
 *		col 1  customers of the cohort whose last active period is at that age
 *		col 2  revenue of the cohort at that age, 1/10000 units
 *	  retention_state (TRI_RETENTION), row = period q, slot = gap g:
 *		col 0  customers active in q whose next active period is q + g
 *			   (g = 0: no later active period)
 *		col 1  slot 0 only: customers whose first active period is q
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_COHORT_STATE_H
#define PG_RETENTION_COHORT_STATE_H

#include "common/int.h"
#include "fmgr.h"

#include "activity.h"
#include "compat.h"

#define TRI_VERSION		1
#define TRI_COHORT		1
#define TRI_RETENTION	2

/* the most periods a cohort or retention state covers (its size grows with the square) */
#define TRI_MAX_PERIODS 2000

#define TRI_NCOLS(kind)	((kind) == TRI_COHORT ? 3 : 2)

typedef struct TriState
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	uint8		version;		/* TRI_VERSION */
	uint8		kind;			/* TRI_COHORT or TRI_RETENTION */
	uint16		unit;			/* PeriodUnit of all periods */
	int32		base;			/* ordinal of the first covered period */
	int32		nperiods;		/* number of covered periods */
	int64		cells[FLEXIBLE_ARRAY_MEMBER];	/* TRI_NCOLS per cell, rows in order */
} TriState;

/* number of cells of a triangle over n periods */
#define TRI_NCELLS(n)			((int64) (n) * ((n) + 1) / 2)
/* index of the first cell of row r */
#define TRI_ROW(t, r)			((int64) (r) * (t)->nperiods - (int64) (r) * ((r) - 1) / 2)
/* pointer to the counters of cell (r, s) */
#define TRI_CELL(t, r, s)		(&(t)->cells[(TRI_ROW(t, r) + (s)) * TRI_NCOLS((t)->kind)])

#define PG_GETARG_TRI(n)		((TriState *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

extern TriState *TriTrim(TriState *t);
extern TriState *TriAlloc(int kind, PeriodUnit unit, int32 base, int64 nperiods);
extern TriState *TriForUpdate(FunctionCallInfo fcinfo, int argno, int kind, PeriodUnit unit,
							  int32 lo, int32 hi, const char *what);
extern Datum TriAggTrans(FunctionCallInfo fcinfo, int kind, const char *what);
extern TriState *TriCombine(FunctionCallInfo fcinfo, int kind, const char *what);
extern void TriCheckKind(TriState *t, int kind);
CompatNoReturn extern void TriOutOfRange(int kind);
extern void TriCheckTotal(const TriState *t);

/* add one to counter *c of a state of this kind (a per-customer increment), checked */
static inline void
TriIncrement(int64 *c, int kind)
{
	if (unlikely(pg_add_s64_overflow(*c, 1, c)))
		TriOutOfRange(kind);
}

/* cohort.c, retention.c: add one customer's sorted active periods to a state covering them */
extern void CohortAdd(TriState *t, const ActivityEntry *e, int n);
extern void RetentionAdd(TriState *t, const ActivityEntry *e, int n);

#endif							/* PG_RETENTION_COHORT_STATE_H */
