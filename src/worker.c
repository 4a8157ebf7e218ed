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
 * runs it -- job_execute runs the job's code as its owner in a
 * security-restricted operation with its own GUC nest level (src/run_as.c),
 * so nothing a job does outlives it -- and records the outcome. An error
 * that escapes the second (a cancel, a timeout) is recorded in a third. Runs
 * that a crash left 'running' are marked failed when the worker starts.
 * docs/jobs.md has the states and the crash analysis.
 *
 * The worker's own queries run with settings fixed at start-up (below), so
 * that database or role defaults (a statement_timeout, read-only
 * transactions) cannot stop it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
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
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "jobs.h"
#include "worker.h"

PGDLLEXPORT void RetentionSchedulerMain(Datum arg);

/* settings */
static char *RetentionDatabase = NULL;	/* retention.database: where the jobs live */
static bool RetentionEnabled = true;	/* retention.enabled: run scheduled jobs */
static int	RetentionNaptime = 10;	/* retention.naptime: seconds between polls */

/* seconds before the postmaster restarts a scheduler that exited with an error */
#define SCHEDULER_RESTART_SECONDS 5

/* first wait after a failed claim, in milliseconds; it doubles up to retention.naptime */
#define CLAIM_RETRY_MS 1000

/*
 * Settings the scheduler's transactions run with, whatever ALTER DATABASE or
 * ALTER ROLE says: nothing may time them out, make them read-only or change
 * how the extension's SQL is read. (A job's own settings are confined to its
 * run by job_execute.) Settings unknown to this server version are skipped.
 */
static const char *const SchedulerSettings[][2] = {
	{"search_path", "pg_catalog, pg_temp"},
	{"statement_timeout", "0"},
	{"lock_timeout", "0"},
	{"idle_in_transaction_session_timeout", "0"},
	{"transaction_timeout", "0"},
	{"default_transaction_read_only", "off"},
	{"default_transaction_isolation", "read committed"},
	{"default_transaction_deferrable", "off"},
	{"session_replication_role", "origin"},
	{"row_security", "on"},
	{"exit_on_error", "off"},
	{"standard_conforming_strings", "on"},
	{"check_function_bodies", "on"},
	{"plpgsql.extra_errors", "none"},
	{"plpgsql.extra_warnings", "none"},
};

/* consecutive failed claims (drives the back-off between them) */
static int	ClaimFailures = 0;

/* memory that lives across the scheduler's transactions, reset every poll */
static MemoryContext SchedulerContext = NULL;

/* true once the runs orphaned by an earlier crash have been marked failed */
static bool StartupDone = false;

/*
 * Fix the settings of SchedulerSettings for the scheduler's whole life, as
 * defaults (PGC_S_OVERRIDE: RESET goes back to them).
 */
static void
FixSchedulerSettings(void)
{
	for (size_t i = 0; i < lengthof(SchedulerSettings); i++)
	{
		const char *name = SchedulerSettings[i][0];

		/* placeholders of a library not loaded yet are taken over when it loads */
		if (GetConfigOption(name, true, false) == NULL && strchr(name, '.') == NULL)
			continue;
		SetConfigOption(name, SchedulerSettings[i][1], PGC_SUSET, PGC_S_OVERRIDE);
	}
}

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
	/* under Citus, only the coordinator (node group 0) schedules */
	if (LocalCitusGroup() > 0)
		return false;
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
		SPI_execute_with_args("SELECT FROM retention.job_run_finish($1, NULL, $3, $2, $4)",
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

/* what RunOneJob did */
typedef enum ClaimResult
{
	CLAIM_NONE,					/* no job was due */
	CLAIM_RAN,					/* a job ran, successfully or not */
	CLAIM_FAILED				/* the claim itself failed */
} ClaimResult;

/*
 * Claim the next due job and run it.
 */
static ClaimResult
RunOneJob(void)
{
	volatile int64 run_id = 0;
	char	   *volatile job_name = NULL;
	volatile bool claimed = false;

	/* transaction 1: claim */
	PG_TRY();
	{
		BeginStep("pg_retention: looking for due jobs");
		if (SPI_execute("SELECT run_id, job_name FROM retention.scheduler_claim() WHERE run_id IS NOT NULL",
						false, 1) != SPI_OK_SELECT)
			elog(ERROR, "could not claim a pg_retention job");
		if (SPI_processed == 1)
		{
			bool		isnull;
			MemoryContext old = MemoryContextSwitchTo(SchedulerContext);

			run_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
			job_name = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			MemoryContextSwitchTo(old);
			claimed = true;
		}
		EndStep();
	}
	PG_CATCH();
	{
		ErrorData  *edata = AbortStep();

		ereport(LOG, (errmsg("pg_retention scheduler could not claim a job: %s", edata->message)));
		return CLAIM_FAILED;
	}
	PG_END_TRY();
	if (!claimed)
		return CLAIM_NONE;

	/*
	 * transaction 2: job_execute runs the job as its owner, restricted, and
	 * records success or a caught error
	 */
	PG_TRY();
	{
		Datum		arg = Int64GetDatum(run_id);
		Oid			argtype = INT8OID;

		BeginStep(psprintf("pg_retention: running job %s (run " INT64_FORMAT ")", job_name, run_id));
		if (SPI_execute_with_args("SELECT FROM retention.job_execute($1, true)",
								  1, &argtype, &arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not run pg_retention job \"%s\"", job_name);
		EndStep();
	}
	PG_CATCH();
	{
		ErrorData  *edata = AbortStep();

		ereport(LOG,
				(errmsg("pg_retention job \"%s\" failed: %s", job_name, edata->message)));
		RecordEscapedFailure(run_id, edata);
	}
	PG_END_TRY();
	return CLAIM_RAN;
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

	while (RetentionEnabled)
	{
		ClaimResult claim = RunOneJob();

		if (claim == CLAIM_FAILED)
		{
			/* back off (1 s, doubling up to the naptime) instead of retrying at once */
			ClaimFailures = Min(ClaimFailures + 1, 30);
			return Min(sleep_ms, (long) CLAIM_RETRY_MS << Min(ClaimFailures - 1, 20));
		}
		ClaimFailures = 0;
		if (claim == CLAIM_NONE)
			break;
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
	FixSchedulerSettings();
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
