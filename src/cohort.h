/*-------------------------------------------------------------------------
 *
 * cohort.h
 *	  What cohort.c shares with the heatmap: reading counts out of a
 *	  cohort_state.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_COHORT_H
#define PG_RETENTION_COHORT_H

#include "cohort_state.h"

extern bool CohortModeOnOrAfter(text *mode);
extern int64 CohortCount(TriState *t, int r, int s, bool on_or_after, int64 *later);

#endif							/* PG_RETENTION_COHORT_H */
