/*-------------------------------------------------------------------------
 *
 * jobs.h
 *	  Helpers of the cohort-refresh job shared between jobs.c and worker.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_JOBS_H
#define PG_RETENTION_JOBS_H

#include "access/transam.h"

extern uint64 WidenXid(TransactionId xid, uint64 next);
extern int	LocalCitusGroup(void);

#endif							/* PG_RETENTION_JOBS_H */
