/*-------------------------------------------------------------------------
 *
 * run_as.c
 *	  Run code that a role controls as that role, restricted the way
 *	  PostgreSQL restricts the query of REFRESH MATERIALIZED VIEW.
 *
 * A job or a loyalty program belongs to a role, its owner, and its refresh
 * runs code the owner controls: triggers, defaults and rules of the target
 * tables, functions in a view over the source, a program's exclusion
 * expression. Whoever starts the refresh (the scheduler's superuser, a
 * superuser calling run_job, a member of the owner role), that code runs
 * with exactly the owner's rights and cannot reach out of the refresh:
 *
 *	- the user id is the owner's (SECURITY_LOCAL_USERID_CHANGE), so the
 *	  owner's privileges and row level security apply;
 *	- SECURITY_RESTRICTED_OPERATION refuses SET ROLE, RESET ROLE, SET
 *	  SESSION AUTHORIZATION (also through set_config), temporary objects,
 *	  and the other operations PostgreSQL refuses in that context, so the
 *	  code can neither take the caller's identity back nor plant objects
 *	  that the caller's session would find later;
 *	- a new GUC nest level is rolled back when the work ends, however it
 *	  ends: every setting the code made, SET LOCAL or session-wide
 *	  (set_config(..., false)), is undone before the caller goes on;
 *	- search_path is pg_catalog, pg_temp while the work runs.
 *
 * This is what PostgreSQL does for REFRESH MATERIALIZED VIEW, autovacuum's
 * index expressions and REINDEX (CVE-2022-1552). Who may start such a run:
 * the owner, roles that may become the owner with SET ROLE, superusers
 * (CanRunAs) -- none of them gains anything the owner does not have.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "compat.h"
#include "run_as.h"

/* the search_path of the extension's own code and of the code it runs as an owner */
#define PINNED_SEARCH_PATH "pg_catalog, pg_temp"

/*
 * Start a GUC nest level with search_path pinned to pg_catalog, pg_temp, so
 * that the SQL that C code runs resolves names and operators in the catalog
 * only, whatever the caller's search_path. Returns the level to pass to
 * UnpinSearchPath.
 */
int
PinSearchPath(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", PINNED_SEARCH_PATH, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * End the nest level PinSearchPath started, undoing every setting made in it.
 */
void
UnpinSearchPath(int nestlevel)
{
	AtEOXact_GUC(false, nestlevel);
}

/*
 * May the current user start work that runs as role? The role itself, roles
 * that may SET ROLE to it, and superusers may.
 */
bool
CanRunAs(Oid role)
{
	return CompatMemberCanSetRole(GetUserId(), role);
}

/*
 * Raise an error unless the current user may start work that runs as owner.
 * what names the owned object for the message ("job \"x\"").
 */
void
CheckCanRunAs(Oid owner, const char *what)
{
	if (!CanRunAs(owner))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run %s", what),
				 errdetail("Only its owner, roles that may SET ROLE to the owner, and superusers may run it.")));
}

/*
 * Run work(arg) as owner in a security-restricted operation with its own GUC
 * nest level and a pinned search_path; the caller's user id, security
 * context and settings are back when it returns or throws. An error when the
 * owner role no longer exists; what names the owned object ("job \"x\"").
 */
Datum
RunAsOwner(Oid owner, const char *what, OwnerWork work, void *arg)
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
	volatile Datum result = (Datum) 0;

	if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(owner)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the role that owns %s no longer exists", what),
				 errhint("Drop it as a superuser, or give it to an existing role.")));

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save_nestlevel = PinSearchPath();
	PG_TRY();
	{
		result = work(arg);
	}
	PG_FINALLY();
	{
		UnpinSearchPath(save_nestlevel);
		SetUserIdAndSecContext(save_userid, save_sec_context);
	}
	PG_END_TRY();
	return result;
}

PG_FUNCTION_INFO_V1(current_role_id);

/*
 * current_role_id() returns regrole: the current user, by OID. The owner
 * columns' default; unlike current_user::text::regrole it does not parse
 * the role's name again (which misreads names that need quoting).
 */
Datum
current_role_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_OID(GetUserId());
}

PG_FUNCTION_INFO_V1(can_run_as);

/*
 * can_run_as(role regrole) returns boolean: may the current user see and
 * run what role owns (the row level security policy of jobs and programs)?
 */
Datum
can_run_as(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(CanRunAs(PG_GETARG_OID(0)));
}
