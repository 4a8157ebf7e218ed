/*-------------------------------------------------------------------------
 *
 * retention.h
 *	  Period retention figures read out of a retention_state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_RETENTION_H
#define PG_RETENTION_RETENTION_H

#include "cohort_state.h"

/* one period's figures for a given inactivity window */
typedef struct RetentionRow
{
	CustomerPeriod period;		/* the period */
	int64		customers_start;	/* S: counted at the previous period */
	int64		new_customers;	/* N: first active in the period */
	int64		customers_end;	/* E: counted at the period */
	int64		retained;		/* counted at both */
	int64		reactivated;	/* counted at the period, not before, not new */
	int64		lost;			/* L: counted at the previous period, not this one */
} RetentionRow;

extern RetentionRow *RetentionRows(TriState *t, int32 k);

#endif							/* PG_RETENTION_RETENTION_H */
