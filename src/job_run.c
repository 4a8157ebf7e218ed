/*-------------------------------------------------------------------------
 *
 * job_run.c
 *	  The entry points that run a job's or a loyalty program's code: run_job,
 *	  job_execute (the scheduler's), refresh_cohort_job, refresh_loyalty,
 *	  refresh_loyalty_job, loyalty_evaluate, loyalty_check_exclusion.
 *
 * Each finds the job or program as the caller sees it (row level security:
 * its owner, roles that may become the owner, superusers), checks that the
 * caller may run it (CanRunAs), and then calls the SQL function that does
 * the work -- retention.*_as_owner, not executable by PUBLIC, so reachable
 * only from here -- as the owner in the restricted context of run_as.c.
 * The SQL these functions run themselves is schema-qualified and runs with
 * a pinned search_path.
 *
 * A run of a job (run_job, or job_execute from the scheduler) is recorded
 * in retention.job_runs by retention.job_run_start and job_run_finish,
 * SECURITY DEFINER functions that no user may call: users can read their
 * runs, never write them. The job's work runs in a subtransaction, so that
 * its failure is recorded and the caller goes on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "run_as.h"

/* the schema of the extension (fixed: the control file says relocatable = false) */
#define EXT_SCHEMA "retention"

/* a call of one of the extension's SQL functions, through the function manager */
typedef struct InternalCall
{
	const char *name;			/* function name in the extension's schema */
	int			nargs;			/* number of arguments (at most 5) */
	Oid			argtypes[5];	/* declared argument types, to find the function */
	Datum		args[5];		/* argument values */
	bool		nulls[5];		/* argument NULL flags */
	fmNodePtr	expr;			/* call expression giving polymorphic arguments' types, or NULL */
	bool		isnull;			/* out: the result is NULL */
} InternalCall;

/* what a job or program lookup found */
typedef struct OwnedObject
{
	int64		id;				/* job_id or program_id */
	Oid			owner;			/* the owner role */
	char	   *type;			/* job_type (jobs only) */
	char	   *what;			/* "job \"name\"" or "loyalty program \"name\"", for messages */
} OwnedObject;

/*
 * Call retention.<name>(args) through the function manager: no EXECUTE
 * check, so this reaches the internal functions that PUBLIC may not call;
 * SECURITY DEFINER and SET options of the function apply as usual.
 */
static Datum
CallInternal(InternalCall *call)
{
	Oid			fn;
	FmgrInfo	flinfo;
	LOCAL_FCINFO(fcinfo, 5);
	Datum		result;
	int			i;

	Assert(call->nargs <= 5);
	fn = LookupFuncName(list_make2(makeString(EXT_SCHEMA), makeString(pstrdup(call->name))),
						call->nargs, call->argtypes, false);
	fmgr_info(fn, &flinfo);
	if (call->expr != NULL)
		fmgr_info_set_expr(call->expr, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, call->nargs, InvalidOid, NULL, NULL);
	for (i = 0; i < call->nargs; i++)
	{
		fcinfo->args[i].value = call->args[i];
		fcinfo->args[i].isnull = call->nulls[i];
	}
	result = FunctionCallInvoke(fcinfo);
	call->isnull = fcinfo->isnull;
	return result;
}

/* CallInternal as an OwnerWork */
static Datum
CallInternalWork(void *arg)
{
	return CallInternal((InternalCall *) arg);
}

/* add an argument to a call */
static void
AddArg(InternalCall *call, Oid type, Datum value, bool isnull)
{
	call->argtypes[call->nargs] = type;
	call->args[call->nargs] = value;
	call->nulls[call->nargs] = isnull;
	call->nargs++;
}

/*
 * Find a job or a loyalty program by name as the caller sees it, through
 * retention.job_lookup or retention.loyalty_lookup (which raise "does not
 * exist" and "ambiguous"), and check that the caller may run it.
 */
static void
LookupOwned(bool job, text *name, OwnedObject *obj)
{
	MemoryContext outer = CurrentMemoryContext;
	int			nestlevel = PinSearchPath();
	Oid			argtype = TEXTOID;
	Datum		arg = PointerGetDatum(name);
	bool		isnull;
	HeapTuple	tup;
	TupleDesc	desc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(job ?
							  "SELECT job_id, owner, job_type FROM " EXT_SCHEMA ".job_lookup($1)" :
							  "SELECT program_id, owner, NULL::text FROM " EXT_SCHEMA ".loyalty_lookup($1)",
							  1, &argtype, &arg, name ? NULL : "n", false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "lookup of a pg_retention %s failed", job ? "job" : "program");
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	obj->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	obj->owner = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
	obj->type = NULL;
	if (job)
		obj->type = MemoryContextStrdup(outer, SPI_getvalue(tup, desc, 3));
	SPI_finish();
	UnpinSearchPath(nestlevel);
	/* (a NULL name was reported by the lookup) */
	obj->what = psprintf("%s \"%s\"", job ? "job" : "loyalty program", text_to_cstring(name));
	CheckCanRunAs(obj->owner, obj->what);
}

/*
 * Record the end of a run through retention.job_run_finish: succeeded with
 * rows when edata is NULL, else failed with its error. Returns the run row.
 */
static Datum
FinishRun(int64 run_id, int64 rows, ErrorData *edata, bool scheduled, bool *isnull)
{
	InternalCall call = {.name = "job_run_finish"};
	Datum		result;

	AddArg(&call, INT8OID, Int64GetDatum(run_id), false);
	AddArg(&call, INT8OID, Int64GetDatum(rows), edata != NULL);
	AddArg(&call, TEXTOID, edata ? CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode)) : (Datum) 0,
		   edata == NULL);
	AddArg(&call, TEXTOID, edata ? CStringGetTextDatum(edata->message ? edata->message : "unknown error") : (Datum) 0,
		   edata == NULL);
	AddArg(&call, BOOLOID, BoolGetDatum(scheduled), false);
	result = CallInternal(&call);
	*isnull = call.isnull;
	return result;
}

/*
 * Run the job of a 'running' run row as its owner in a subtransaction, and
 * record the outcome. Returns the run row; a query cancel is not caught (the
 * scheduler records it, a manual run is rolled back).
 */
static Datum
ExecuteRun(int64 run_id, bool scheduled, bool *isnull)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	int			nestlevel;
	Oid			argtype = INT8OID;
	Datum		arg = Int64GetDatum(run_id);
	bool		null;
	HeapTuple	tup;
	TupleDesc	desc;
	char	   *status;
	OwnedObject job;
	InternalCall call = {0};
	volatile int64 rows = 0;
	ErrorData  *volatile edata = NULL;

	/* the run and its job, as the caller sees them */
	nestlevel = PinSearchPath();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT r.status, j.job_id, j.owner, j.job_type, j.job_name "
							  "FROM " EXT_SCHEMA ".job_runs r JOIN " EXT_SCHEMA ".jobs j ON j.job_id = r.job_id "
							  "WHERE r.run_id = $1", 1, &argtype, &arg, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "lookup of a pg_retention job run failed");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("job run " INT64_FORMAT " does not exist", run_id)));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	status = SPI_getvalue(tup, desc, 1);
	if (strcmp(status, "running") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job run " INT64_FORMAT " has already finished", run_id),
				 errdetail("Its status is %s; a run is executed once.", status)));
	job.id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &null));
	job.owner = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &null));
	job.type = MemoryContextStrdup(oldcontext, SPI_getvalue(tup, desc, 4));
	job.what = MemoryContextStrdup(oldcontext, psprintf("job \"%s\"", SPI_getvalue(tup, desc, 5)));
	SPI_finish();
	UnpinSearchPath(nestlevel);

	call.name = strcmp(job.type, "cohort_refresh") == 0 ?
		"refresh_cohort_job_as_owner" : "refresh_loyalty_job_as_owner";
	AddArg(&call, INT8OID, Int64GetDatum(job.id), false);
	if (strcmp(job.type, "cohort_refresh") == 0)
		AddArg(&call, BOOLOID, BoolGetDatum(false), false);
	AddArg(&call, TIMESTAMPTZOID, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	PG_TRY();
	{
		CheckCanRunAs(job.owner, job.what);
		rows = DatumGetInt64(RunAsOwner(job.owner, job.what, CallInternalWork, &call));
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED)
			ReThrowError(edata);
	}
	PG_END_TRY();

	return FinishRun(run_id, rows, edata, scheduled, isnull);
}

PG_FUNCTION_INFO_V1(run_job);

/*
 * run_job(job_name text) returns retention.job_runs: run a job now in the
 * calling session, as its owner, and record the run. A failure is recorded,
 * reported as a WARNING and returned; it does not abort the caller.
 */
Datum
run_job(PG_FUNCTION_ARGS)
{
	OwnedObject job;
	InternalCall start = {.name = "job_run_start"};
	int64		run_id;
	Datum		result;
	bool		isnull;

	LookupOwned(true, PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0), &job);
	AddArg(&start, INT8OID, Int64GetDatum(job.id), false);
	AddArg(&start, TEXTOID, CStringGetTextDatum("manual"), false);
	run_id = DatumGetInt64(CallInternal(&start));

	result = ExecuteRun(run_id, false, &isnull);
	if (isnull)
		PG_RETURN_NULL();
	{
		HeapTupleHeader run = DatumGetHeapTupleHeader(result);
		bool		null;
		char	   *status = TextDatumGetCString(GetAttributeByName(run, "status", &null));

		if (strcmp(status, "failed") == 0)
		{
			Datum		state = GetAttributeByName(run, "sqlstate", &null);
			Datum		message = GetAttributeByName(run, "message", &null);

			ereport(WARNING,
					(errmsg("%s failed: %s", job.what, TextDatumGetCString(message)),
					 errdetail("SQLSTATE %s; the failure is recorded as run " INT64_FORMAT " in retention.job_runs.",
							   TextDatumGetCString(state), run_id)));
		}
	}
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(job_execute);

/*
 * job_execute(run_id bigint, scheduled boolean) returns retention.job_runs:
 * run the job of a run row the scheduler has claimed, once, and record the
 * outcome. Not executable by PUBLIC.
 */
Datum
job_execute(PG_FUNCTION_ARGS)
{
	Datum		result;
	bool		isnull;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("run_id and scheduled must not be NULL")));
	result = ExecuteRun(PG_GETARG_INT64(0), PG_GETARG_BOOL(1), &isnull);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

/*
 * The common shape of the entry points below: the SQL function f(name text,
 * args...) finds the job (job = true) or loyalty program called name, checks
 * that the caller may run it, and calls retention.<body>(id bigint, args...)
 * as its owner, restricted. The body's other arguments are the entry point's
 * own, with the same declared types; its call expression is passed on, so a
 * polymorphic argument keeps its actual type.
 */
static Datum
CallAsOwner(FunctionCallInfo fcinfo, bool job, const char *body)
{
	OwnedObject obj;
	InternalCall call = {.name = body};
	Oid		   *argtypes;
	int			nargs;
	Datum		result;

	get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &nargs);
	LookupOwned(job, PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0), &obj);
	AddArg(&call, INT8OID, Int64GetDatum(obj.id), false);
	for (int i = 1; i < nargs; i++)
		AddArg(&call, argtypes[i], PG_GETARG_DATUM(i), PG_ARGISNULL(i));
	call.expr = fcinfo->flinfo->fn_expr;
	result = RunAsOwner(obj.owner, obj.what, CallInternalWork, &call);
	if (call.isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(result);
}

PG_FUNCTION_INFO_V1(refresh_cohort_job);

/*
 * refresh_cohort_job(job_name text, full_refresh boolean, now timestamptz)
 * returns bigint: refresh a cohort job's tables in the calling transaction,
 * as the job's owner, without recording a run.
 */
Datum
refresh_cohort_job(PG_FUNCTION_ARGS)
{
	return CallAsOwner(fcinfo, true, "refresh_cohort_job_as_owner");
}

PG_FUNCTION_INFO_V1(refresh_loyalty_job);

/*
 * refresh_loyalty_job(job_name text, now timestamptz) returns bigint: run a
 * loyalty-tier job's refresh in the calling transaction, as the job's owner.
 */
Datum
refresh_loyalty_job(PG_FUNCTION_ARGS)
{
	return CallAsOwner(fcinfo, true, "refresh_loyalty_job_as_owner");
}

PG_FUNCTION_INFO_V1(refresh_loyalty);

/*
 * refresh_loyalty(program_name text, as_of date, rebuild boolean,
 * full_refresh boolean) returns bigint: bring a loyalty program's tables up
 * to a date in the calling transaction, as the program's owner.
 */
Datum
refresh_loyalty(PG_FUNCTION_ARGS)
{
	return CallAsOwner(fcinfo, false, "refresh_loyalty_as_owner");
}

PG_FUNCTION_INFO_V1(loyalty_evaluate);

/*
 * loyalty_evaluate(program_name text, customer anyelement, as_of date)
 * returns retention.loyalty_result: one customer's standing and history in
 * a program, evaluated as the program's owner (its exclusion expression and
 * its source are the owner's). The customer's actual type comes from the
 * call expression.
 */
Datum
loyalty_evaluate(PG_FUNCTION_ARGS)
{
	if (fcinfo->flinfo->fn_expr == NULL)
		elog(ERROR, "loyalty_evaluate needs its call expression");
	return CallAsOwner(fcinfo, false, "loyalty_evaluate_as_owner");
}

/* the statements that check an exclusion expression against its source */
typedef struct ExclusionCheck
{
	const char *source;			/* the source, quoted and qualified */
	const char *exclude;		/* the expression */
} ExclusionCheck;

/*
 * Plan (and start, LIMIT 0) an exclusion expression as a value and as a
 * condition over its source, aliased s; an error when it is not a valid
 * boolean expression there.
 */
static Datum
CheckExclusionWork(void *arg)
{
	ExclusionCheck *check = (ExclusionCheck *) arg;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	SPI_execute(psprintf("SELECT (%s)::boolean FROM %s s LIMIT 0", check->exclude, check->source), true, 0);
	SPI_execute(psprintf("SELECT count(*) FROM (SELECT 1 FROM %s s WHERE (%s) LIMIT 0) x",
						 check->source, check->exclude), true, 0);
	SPI_finish();
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(loyalty_check_exclusion);

/*
 * loyalty_check_exclusion(owner regrole, source regclass, exclude text):
 * check a loyalty program's exclusion expression against its source as the
 * program's owner, restricted (the expression is the owner's code). Used by
 * the validation trigger of retention.loyalty_programs.
 */
Datum
loyalty_check_exclusion(PG_FUNCTION_ARGS)
{
	Oid			owner = PG_GETARG_OID(0);
	Oid			source = PG_GETARG_OID(1);
	ExclusionCheck check;
	char	   *relname = get_rel_name(source);

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", source)));
	CheckCanRunAs(owner, "a loyalty program's exclusion as its owner");
	check.source = quote_qualified_identifier(get_namespace_name(get_rel_namespace(source)), relname);
	check.exclude = text_to_cstring(PG_GETARG_TEXT_PP(2));
	RunAsOwner(owner, "the loyalty program being validated", CheckExclusionWork, &check);
	PG_RETURN_VOID();
}
