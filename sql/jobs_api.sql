-- The job API: create, alter, pause, resume, run, drop; run history; and every bad argument
-- with its SQLSTATE.
SET TIME ZONE 'UTC';
\set SHOW_CONTEXT never
CREATE TABLE sales (cust bigint, at timestamptz, total numeric, label text, day date);
INSERT INTO sales VALUES (1, '2026-01-03', 10, 'x', '2026-01-03'), (2, '2026-02-03', 20, 'y', '2026-02-03'),
  (1, '2026-03-03', 5, 'z', '2026-03-03');
SELECT retention.create_cohort_job('sales_monthly', 'sales', 'cust', 'at', 'total', 'month',
       'sales_activity', 'sales_cohorts', '*/15 * * * *', 'Europe/Paris') AS job_id \gset
SELECT job_name, job_type, owner, schedule, timezone, enabled, config, next_run > now() AS scheduled,
       watermark, last_status, consecutive_failures
FROM retention.jobs WHERE job_id = :job_id;
-- the next run is the next quarter hour
SELECT next_run = retention.next_run_time('*/15 * * * *', now(), 'Europe/Paris') AS on_schedule
FROM retention.jobs WHERE job_id = :job_id;

-- run_job: runs now, records the run
SELECT run_id > 0 AS has_id, job_id = :job_id AS same_job, trigger, status, rows, message,
       finished_at >= started_at AS finished
FROM retention.run_job('sales_monthly');
SELECT cohort, age, cohort_size, customers, retention, revenue FROM sales_cohorts ORDER BY 1, 2;
SELECT last_status, consecutive_failures, last_run_id IS NOT NULL AS has_last_run FROM retention.jobs;
INSERT INTO sales VALUES (3, '2026-03-09', 1, 'w', '2026-03-09');
SELECT status, rows FROM retention.run_job('sales_monthly');
SELECT count(*) AS customers FROM sales_activity;

-- alter, pause, resume
SELECT schedule, timezone, enabled FROM retention.alter_job('sales_monthly', schedule => '1 hour', timezone => 'UTC');
SELECT next_run BETWEEN now() + interval '59 minutes' AND now() + interval '61 minutes' AS in_an_hour
FROM retention.jobs;
SELECT enabled FROM retention.pause_job('sales_monthly');
SELECT enabled, next_run > now() AS rescheduled FROM retention.resume_job('sales_monthly');
SELECT job_name FROM retention.alter_job('sales_monthly', new_name => 'sales_by_month');
SELECT status FROM retention.run_job('sales_by_month');
-- a paused job still runs by hand
SELECT enabled FROM retention.pause_job('sales_by_month');
SELECT status FROM retention.run_job('sales_by_month');
SELECT enabled FROM retention.resume_job('sales_by_month');

-- a failing run is recorded, reported as a warning, and counted; the next success resets it
ALTER TABLE sales RENAME COLUMN total TO amount_total;
SELECT status, sqlstate, message FROM retention.run_job('sales_by_month');
SELECT status, sqlstate, message FROM retention.run_job('sales_by_month');
SELECT last_status, consecutive_failures FROM retention.jobs;
ALTER TABLE sales RENAME COLUMN amount_total TO total;
SELECT status FROM retention.run_job('sales_by_month');
SELECT last_status, consecutive_failures FROM retention.jobs;
SELECT trigger, status, rows IS NOT NULL AS has_rows, sqlstate FROM retention.job_runs ORDER BY run_id;
-- scheduled failures back off: 10 s, 20 s, 40 s, ... capped at 1 hour (the scheduler's
-- bookkeeping, called here as the superuser it runs as)
SELECT retention.job_run_start(job_id, 'schedule') AS fake_run FROM retention.jobs \gset
SELECT status, message FROM retention.job_run_finish(:fake_run, NULL, 'XX000', 'boom', true);
SELECT consecutive_failures, next_run - clock_timestamp() BETWEEN interval '8 seconds' AND interval '10 seconds' AS retry_in_10s
FROM retention.jobs;
UPDATE retention.jobs SET consecutive_failures = 30;
SELECT retention.job_run_start(job_id, 'schedule') AS fake_run FROM retention.jobs \gset
SELECT status FROM retention.job_run_finish(:fake_run, NULL, 'XX000', 'boom', true);
SELECT consecutive_failures, next_run - clock_timestamp() BETWEEN interval '59 minutes' AND interval '60 minutes' AS retry_in_1h
FROM retention.jobs;
-- a finished run is finished once, and executed never again
\set VERBOSITY sqlstate
SELECT retention.job_run_finish(:fake_run, 1, NULL, NULL, true);
SELECT retention.job_execute(:fake_run, true);
\set VERBOSITY default
SELECT retention.job_execute(:fake_run, true);
-- the failure count saturates instead of overflowing
UPDATE retention.jobs SET consecutive_failures = 2147483647;
SELECT retention.job_run_start(job_id, 'schedule') AS fake_run FROM retention.jobs \gset
SELECT status FROM retention.job_run_finish(:fake_run, NULL, 'XX000', 'boom', true);
SELECT consecutive_failures FROM retention.jobs;
UPDATE retention.jobs SET consecutive_failures = 0;

-- a date column and no amount column
SELECT retention.create_cohort_job('sales_daily', 'public.sales', 'cust', 'day', NULL, 'quarter',
       'myschema_missing_is_fine', 'sales_q', '@daily') > 0 AS created;
SELECT status, rows FROM retention.run_job('sales_daily');
SELECT cohort, age, cohort_size, customers, revenue FROM sales_q ORDER BY 1, 2;
-- schema-qualified targets, quoted identifiers
CREATE SCHEMA "Report Schema";
CREATE TABLE "Odd ""Source""" ("Customer Id" int, "When" timestamptz, "Amount $" numeric);
INSERT INTO "Odd ""Source""" VALUES (1, '2026-01-01', 1);
SELECT retention.create_cohort_job('odd', '"Odd ""Source"""', 'Customer Id', 'When', 'Amount $', 'year',
       '"Report Schema"."Activity ""A"""', '"Report Schema".cohorts', '1 day') > 0 AS created;
SELECT config->>'source' AS source, config->>'activity_table' AS act, config->>'cohort_table' AS coh
FROM retention.jobs WHERE job_name = 'odd';
SELECT status, rows FROM retention.run_job('odd');
SELECT * FROM "Report Schema"."Activity ""A""";

-- bad arguments
\set VERBOSITY sqlstate
SELECT retention.create_cohort_job('', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job(NULL, 'sales', 'cust', 'at', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('sales_by_month', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'no_such_table', 'cust', 'at', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales_cust_seq_missing', 'cust', 'at', 'total', 'month', 'a1', 'c1', '1 day');
CREATE SEQUENCE a_sequence;
SELECT retention.create_cohort_job('j', 'a_sequence', 'cust', 'at', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'customer', 'at', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'when', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'label', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'amount', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'label', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'fortnight', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'c1', '1 day', 'UTC', 'sometimes');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'c1', 'whenever');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'c1', '61 * * * *');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'c1', '1 day', 'Nowhere/Town');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'sales_activity', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'sales', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'a1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'a.b.c', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', '', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'no_schema.a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'a1', 'c1', NULL);
SELECT count(*) AS no_leftover_tables FROM pg_class WHERE relname IN ('a1', 'c1');
SELECT retention.alter_job('no_such_job', schedule => '1 day');
SELECT retention.alter_job('sales_by_month', schedule => 'bad');
SELECT retention.alter_job('sales_by_month', timezone => 'Bad/Zone');
SELECT retention.alter_job('sales_by_month', new_name => 'sales_daily');
SELECT retention.alter_job('sales_by_month', new_name => '');
SELECT retention.pause_job('no_such_job');
SELECT retention.resume_job('no_such_job');
SELECT retention.run_job('no_such_job');
SELECT retention.drop_job('no_such_job');
SELECT retention.refresh_cohort_job('no_such_job');
SELECT retention.job_execute(-1, false);
DROP TABLE sales_q;
SELECT retention.refresh_cohort_job('sales_daily');
\set VERBOSITY default
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'label', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'customer', 'at', 'total', 'month', 'a1', 'c1', '1 day');
SELECT retention.create_cohort_job('j', 'sales', 'cust', 'at', 'total', 'month', 'sales_activity', 'c1', '1 day');
SELECT retention.refresh_cohort_job('sales_daily');
SELECT retention.run_job('no_such_job');

-- the scheduler's internal functions are not for users
SELECT has_function_privilege('public', 'retention.scheduler_claim()', 'execute') AS claim,
       has_function_privilege('public', 'retention.scheduler_startup()', 'execute') AS startup,
       has_function_privilege('public', 'retention.run_job(text)', 'execute') AS run_job;
-- configuration tables are dumped by pg_dump
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) r JOIN pg_class c ON c.oid = r
WHERE e.extname = 'pg_retention' ORDER BY 1;

-- drop_job: with and without the tables; runs go with the job
SELECT retention.drop_job('sales_daily');
SELECT to_regclass('myschema_missing_is_fine') IS NOT NULL AS kept;
SELECT retention.drop_job('sales_by_month', drop_tables => true);
SELECT retention.drop_job('odd', true);
SELECT to_regclass('sales_activity') IS NULL AS dropped, (SELECT count(*) FROM retention.job_runs) AS runs;
DROP TABLE sales, myschema_missing_is_fine, "Odd ""Source""";
DROP SEQUENCE a_sequence;
DROP SCHEMA "Report Schema";
