/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The pg_retention scheduler: a background worker, started when the
 *	  library is in shared_preload_libraries, that runs due jobs of
 *	  retention.jobs in the database named by retention.database, one at a
 *	  time, and records every run in retention.job_runs.
 *
 * The worker only schedules (DESIGN.md §1.6): the work of a job is done by
 * SQL functions (retention.job_execute and the refresh functions it calls).
 * Each run takes two transactions: the first claims the job (sets its next
 * run time and records a 'running' run, so monitoring sees it), the second
 * runs it as the job's owner and records the outcome. An error that escapes
 * the second (a cancel, a timeout) is recorded in a third. Runs that a crash
 * left 'running' are marked failed when the worker starts. docs/jobs.md has
 * the states and the crash analysis.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "worker.h"

PGDLLEXPORT void RetentionSchedulerMain(Datum arg);

/* settings */
static char *RetentionDatabase = NULL;	/* retention.database: where the jobs live */
static bool RetentionEnabled = true;	/* retention.enabled: run scheduled jobs */
static int	RetentionNaptime = 10;	/* retention.naptime: seconds between polls */

/* seconds before the postmaster restarts a scheduler that exited with an error */
#define SCHEDULER_RESTART_SECONDS 5

/* memory that lives across the scheduler's transactions, reset every poll */
static MemoryContext SchedulerContext = NULL;

/* true once the runs orphaned by an earlier crash have been marked failed */
static bool StartupDone = false;

/*
 * Define the settings and, when preloaded, register the scheduler.
 */
void
RetentionWorkerInit(void)
{
	BackgroundWorker worker;

	DefineCustomStringVariable("retention.database",
							   "Database in which the pg_retention scheduler runs jobs.",
							   "The extension must be installed there; jobs in other databases are run only by retention.run_job.",
							   &RetentionDatabase, "postgres",
	/* PGC_POSTMASTER settings can only be made while preloading; without it there is no scheduler */
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomBoolVariable("retention.enabled",
							 "Whether the pg_retention scheduler runs scheduled jobs.",
							 NULL, &RetentionEnabled, true, PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("retention.naptime",
							"Longest time the pg_retention scheduler sleeps between looks for due jobs.",
							NULL, &RetentionNaptime, 10, 1, 3600, PGC_SIGHUP, GUC_UNIT_S,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("retention");

	/*
	 * No scheduler without preloading, nor while pg_upgrade runs the server (binary upgrade
	 * mode): jobs must not run in, nor hold connections to, databases being dumped or
	 * restored.
	 */
	if (!process_shared_preload_libraries_in_progress || IsBinaryUpgrade)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = SCHEDULER_RESTART_SECONDS;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pg_retention");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "RetentionSchedulerMain");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pg_retention scheduler");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pg_retention scheduler");
	worker.bgw_main_arg = (Datum) 0;
	worker.bgw_notify_pid = 0;
	RegisterBackgroundWorker(&worker);
}

/*
 * Start a transaction with an active snapshot and SPI, reporting activity.
 */
static void
BeginStep(const char *activity)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, activity);
}

/*
 * Commit the transaction BeginStep started.
 */
static void
EndStep(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	/* the commit leaves TopMemoryContext current: back to ours, which is reset every poll */
	MemoryContextSwitchTo(SchedulerContext);
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Abort after an error caught in the scheduler: log it, clean up, and return
 * a copy of it in SchedulerContext (the caller may record it).
 */
static ErrorData *
AbortStep(void)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(SchedulerContext);
	edata = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(SchedulerContext);
	pgstat_report_activity(STATE_IDLE, NULL);
	return edata;
}

/*
 * Should the scheduler work in this database now? The extension must be
 * installed, and under Citus only the coordinator runs jobs. Runs inside a
 * transaction.
 */
static bool
SchedulerShouldRun(void)
{
	if (!OidIsValid(get_extension_oid("pg_retention", true)))
		return false;
	if (OidIsValid(get_extension_oid("citus", true)))
	{
		int			ret = SPI_execute("SELECT pg_catalog.to_regproc('pg_catalog.citus_is_coordinator') IS NOT NULL",
									  true, 1);
		bool		isnull;

		if (ret == SPI_OK_SELECT && SPI_processed == 1 &&
			DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		{
			ret = SPI_execute("SELECT pg_catalog.citus_is_coordinator()", true, 1);
			if (ret == SPI_OK_SELECT && SPI_processed == 1 &&
				!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
				return false;
		}
	}
	return true;
}

/*
 * Record an error that escaped a job's run, in a new transaction.
 */
static void
RecordEscapedFailure(int64 run_id, ErrorData *edata)
{
	Datum		args[4];
	Oid			types[4] = {INT8OID, TEXTOID, TEXTOID, BOOLOID};

	PG_TRY();
	{
		BeginStep("pg_retention: recording a failed run");
		args[0] = Int64GetDatum(run_id);
		args[1] = CStringGetTextDatum(edata->message ? edata->message : "unknown error");
		args[2] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
		args[3] = BoolGetDatum(true);
		SPI_execute_with_args("SELECT FROM retention.job_record_failure($1, $2, $3, $4)",
							  4, types, args, NULL, false, 0);
		EndStep();
	}
	PG_CATCH();
	{
		ErrorData  *again = AbortStep();

		ereport(LOG,
				(errmsg("pg_retention scheduler could not record the failure of run " INT64_FORMAT ": %s",
						run_id, again->message)));
	}
	PG_END_TRY();
}

/*
 * Claim the next due job and run it. Returns false when no job was due (or
 * the claim failed), true when one ran (successfully or not).
 */
static bool
RunOneJob(void)
{
	volatile int64 run_id = 0;
	volatile Oid owner = InvalidOid;
	char	   *volatile job_name = NULL;
	volatile bool claimed = false;

	/* transaction 1: claim */
	PG_TRY();
	{
		BeginStep("pg_retention: looking for due jobs");
		if (SPI_execute("SELECT run_id, owner, job_name FROM retention.scheduler_claim() WHERE run_id IS NOT NULL",
						false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not claim a pg_retention job");
		if (SPI_processed == 1)
		{
			bool		isnull;
			MemoryContext old = MemoryContextSwitchTo(SchedulerContext);

			run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			owner = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			job_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
			MemoryContextSwitchTo(old);
			claimed = true;
		}
		EndStep();
	}
	PG_CATCH();
	{
		ErrorData  *edata = AbortStep();

		ereport(LOG, (errmsg("pg_retention scheduler could not claim a job: %s", edata->message)));
		return false;
	}
	PG_END_TRY();
	if (!claimed)
		return false;

	/* transaction 2: run as the owner; job_execute records success or a caught error */
	PG_TRY();
	{
		Oid			save_userid;
		int			save_sec_context;
		Datum		arg = Int64GetDatum(run_id);
		Oid			argtype = INT8OID;

		BeginStep(psprintf("pg_retention: running job %s (run " INT64_FORMAT ")", job_name, run_id));
		if (!SearchSysCacheExists1(AUTHOID, ObjectIdGetDatum(owner)))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("the role that owns job \"%s\" no longer exists", job_name),
					 errhint("Drop the job with retention.drop_job as a superuser.")));
		GetUserIdAndSecContext(&save_userid, &save_sec_context);
		SetUserIdAndSecContext(owner, save_sec_context | SECURITY_LOCAL_USERID_CHANGE);
		if (SPI_execute_with_args("SELECT FROM retention.job_execute($1, true)",
								  1, &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not run pg_retention job \"%s\"", job_name);
		SetUserIdAndSecContext(save_userid, save_sec_context);
		EndStep();
	}
	PG_CATCH();
	{
		/* the abort also restores the user id */
		ErrorData  *edata = AbortStep();

		ereport(LOG,
				(errmsg("pg_retention job \"%s\" failed: %s", job_name, edata->message)));
		RecordEscapedFailure(run_id, edata);
	}
	PG_END_TRY();
	return true;
}

/*
 * One look at the jobs: at first, mark orphaned runs failed; then run every
 * due job. Returns how long to sleep, in milliseconds.
 */
static long
SchedulerPoll(void)
{
	volatile long sleep_ms = RetentionNaptime * 1000L;
	volatile bool ok = false;

	PG_TRY();
	{
		BeginStep("pg_retention: checking the database");
		ok = SchedulerShouldRun();
		if (ok && !StartupDone)
		{
			if (SPI_execute("SELECT retention.scheduler_startup()", false, 0) != SPI_OK_SELECT)
				elog(ERROR, "could not mark orphaned pg_retention runs");
			StartupDone = true;
		}
		EndStep();
	}
	PG_CATCH();
	{
		ErrorData  *edata = AbortStep();

		ereport(LOG, (errmsg("pg_retention scheduler: %s", edata->message)));
		ok = false;
	}
	PG_END_TRY();
	if (!ok)
		return sleep_ms;

	while (RetentionEnabled && RunOneJob())
	{
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		MemoryContextReset(SchedulerContext);
	}

	/* sleep until the next job is due, but no longer than the naptime */
	PG_TRY();
	{
		bool		isnull = true;
		Datum		next = (Datum) 0;

		BeginStep("pg_retention: computing the next wake-up");
		if (SPI_execute("SELECT retention.scheduler_next_due()", true, 1) == SPI_OK_SELECT &&
			SPI_processed == 1)
			next = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
		{
			TimestampTz now = GetCurrentTimestamp();
			long		ms = TimestampDifferenceMilliseconds(now, DatumGetTimestampTz(next));

			sleep_ms = Max(Min(sleep_ms, ms + 10), 10);
		}
		EndStep();
	}
	PG_CATCH();
	{
		ErrorData  *edata = AbortStep();

		ereport(LOG, (errmsg("pg_retention scheduler: %s", edata->message)));
	}
	PG_END_TRY();
	return sleep_ms;
}

/*
 * Main function of the scheduler worker.
 */
void
RetentionSchedulerMain(Datum arg)
{
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	BackgroundWorkerInitializeConnection(RetentionDatabase, NULL, 0);
	pgstat_report_appname("pg_retention scheduler");
	SchedulerContext = AllocSetContextCreate(TopMemoryContext, "pg_retention scheduler",
											 ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(SchedulerContext);
	ereport(LOG,
			(errmsg("pg_retention scheduler started in database \"%s\"", RetentionDatabase)));

	for (;;)
	{
		long		sleep_ms = RetentionNaptime * 1000L;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (RetentionEnabled && !RecoveryInProgress())
			sleep_ms = SchedulerPoll();
		MemoryContextReset(SchedulerContext);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
