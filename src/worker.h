/*-------------------------------------------------------------------------
 *
 * worker.h
 *	  The job scheduler background worker and its settings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_WORKER_H
#define PG_RETENTION_WORKER_H

extern void RetentionWorkerInit(void);

#endif							/* PG_RETENTION_WORKER_H */
