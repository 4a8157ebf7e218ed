/*-------------------------------------------------------------------------
 *
 * pg_retention.c
 *	  Module entry point of pg_retention: the module magic block and _PG_init.
 *
 * Each concern (periods, activities, models, the scheduler, ...) lives in its own
 * source file; this one only ties the shared library together.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "clv.h"
#include "worker.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/*
 * _PG_init: called when the library is loaded. Settings and the scheduler's registration
 * (when preloaded) are added here as those parts arrive.
 */
void
_PG_init(void)
{
	ClvInit();
	RetentionWorkerInit();
}
