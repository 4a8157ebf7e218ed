/*-------------------------------------------------------------------------
 *
 * run_as.h
 *	  Running code that a role controls as that role, in PostgreSQL's
 *	  security-restricted context (src/run_as.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_RETENTION_RUN_AS_H
#define PG_RETENTION_RUN_AS_H

#include "fmgr.h"

/* the work RunAsOwner does; arg is the caller's */
typedef Datum (*OwnerWork) (void *arg);

extern Datum RunAsOwner(Oid owner, const char *what, OwnerWork work, void *arg);
extern bool CanRunAs(Oid role);
extern void CheckCanRunAs(Oid owner, const char *what);
extern int	PinSearchPath(void);
extern void UnpinSearchPath(int nestlevel);

#endif							/* PG_RETENTION_RUN_AS_H */
