-- Jobs and roles: each role sees and changes only its own jobs and runs (superusers all),
-- a job runs with its owner's privileges (also when a superuser runs it), and editing a
-- job's row cannot make it run as someone else.
SET TIME ZONE 'UTC';
\set SHOW_CONTEXT never
CREATE ROLE regress_retention_alice;
CREATE ROLE regress_retention_bob;
GRANT CREATE ON SCHEMA public TO regress_retention_alice, regress_retention_bob;
CREATE TABLE shop_orders (customer_id int, ordered_at timestamptz, amount numeric);
INSERT INTO shop_orders VALUES (1, '2026-01-01', 10), (2, '2026-02-01', 20);
GRANT SELECT ON shop_orders TO regress_retention_alice;

SET ROLE regress_retention_alice;
SELECT retention.create_cohort_job('alice_job', 'shop_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'alice_activity', 'alice_cohorts', '1 hour') > 0 AS created;
SELECT status, rows FROM retention.run_job('alice_job');
SELECT job_name, owner FROM retention.jobs;
SELECT count(*) AS alice_runs FROM retention.job_runs;
RESET ROLE;

-- bob sees nothing of alice's, and every API call answers "does not exist"
SET ROLE regress_retention_bob;
SELECT count(*) AS visible_jobs FROM retention.jobs;
SELECT count(*) AS visible_runs FROM retention.job_runs;
\set VERBOSITY sqlstate
SELECT retention.run_job('alice_job');
SELECT retention.refresh_cohort_job('alice_job');
SELECT retention.alter_job('alice_job', schedule => '1 minute');
SELECT retention.pause_job('alice_job');
SELECT retention.resume_job('alice_job');
SELECT retention.drop_job('alice_job');
SELECT * FROM alice_cohorts;
-- direct writes to the tables are filtered too
UPDATE retention.jobs SET schedule = '1 minute';
DELETE FROM retention.jobs;
DELETE FROM retention.job_runs;
-- bob cannot create a job that runs as alice, nor move one of his to her
INSERT INTO retention.jobs (job_name, job_type, owner, schedule, config)
VALUES ('fake', 'cohort_refresh', 'regress_retention_alice', '1 hour', '{}');
-- bob cannot create a job on a table he cannot read
SELECT retention.create_cohort_job('bob_job', 'shop_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'bob_activity', 'bob_cohorts', '1 hour');
\set VERBOSITY default
SELECT retention.create_cohort_job('bob_job', 'shop_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'bob_activity', 'bob_cohorts', '1 hour');
CREATE TABLE bob_orders (customer_id int, ordered_at timestamptz, amount numeric);
SELECT retention.create_cohort_job('bob_job', 'bob_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'bob_activity', 'bob_cohorts', '1 hour') > 0 AS created;
\set VERBOSITY sqlstate
UPDATE retention.jobs SET owner = 'regress_retention_alice';
\set VERBOSITY default
-- pointing his job at alice's tables runs it as bob, who may not read them: a recorded failure
UPDATE retention.jobs SET config = jsonb_set(config, '{source}', '"public.shop_orders"');
SELECT status, sqlstate, message FROM retention.run_job('bob_job');
UPDATE retention.jobs SET config = jsonb_set(config, '{source}', '"public.bob_orders"');
UPDATE retention.jobs SET config = jsonb_set(config, '{cohort_table}', '"public.alice_cohorts"');
SELECT status, sqlstate, message FROM retention.run_job('bob_job');
SELECT job_name, owner FROM retention.jobs;
RESET ROLE;

-- alice's table is unchanged; the superuser sees every job and run
SELECT cohort, age, customers FROM alice_cohorts ORDER BY 1, 2;
SELECT job_name, owner FROM retention.jobs ORDER BY job_id;
SELECT j.job_name, r.owner, r.status FROM retention.job_runs r JOIN retention.jobs j USING (job_id) ORDER BY run_id;

-- a job runs with its owner's privileges: once alice loses SELECT on the source, her job
-- fails, also when a superuser runs it
REVOKE SELECT ON shop_orders FROM regress_retention_alice;
INSERT INTO shop_orders VALUES (3, '2026-03-01', 30);
SELECT status, sqlstate, message FROM retention.run_job('alice_job');
SET ROLE regress_retention_alice;
SELECT status, sqlstate, message FROM retention.run_job('alice_job');
SELECT last_status, consecutive_failures FROM retention.jobs;
RESET ROLE;
GRANT SELECT ON shop_orders TO regress_retention_alice;
SELECT status, rows FROM retention.run_job('alice_job');
SELECT count(*) AS alice_customers FROM alice_activity;
-- the superuser's session is left as it was
SELECT current_user, current_setting('role') AS role;

-- role names that need quoting work alike
CREATE ROLE "Regress Retention Carol";
GRANT SELECT ON shop_orders TO "Regress Retention Carol";
GRANT CREATE ON SCHEMA public TO "Regress Retention Carol";
SET ROLE "Regress Retention Carol";
SELECT retention.create_cohort_job('carol_job', 'shop_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'carol_activity', 'carol_cohorts', '1 hour') > 0 AS created;
SELECT job_name, owner FROM retention.jobs;
SELECT status FROM retention.run_job('carol_job');
RESET ROLE;
SELECT status FROM retention.run_job('carol_job');
SELECT j.job_name, r.owner, r.status FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
WHERE j.job_name = 'carol_job' ORDER BY run_id;
SELECT retention.drop_job('carol_job', true);
REVOKE CREATE ON SCHEMA public FROM "Regress Retention Carol";
REVOKE SELECT ON shop_orders FROM "Regress Retention Carol";
DROP ROLE "Regress Retention Carol";

-- the API is SECURITY INVOKER with a pinned search_path (create_cohort_job creates tables where
-- the caller would), and the tables have row level security
SELECT p.proname, p.prosecdef, p.proconfig FROM pg_proc p
WHERE p.pronamespace = 'retention'::regnamespace
  AND p.proname IN ('create_cohort_job', 'alter_job', 'pause_job', 'resume_job', 'drop_job', 'run_job',
                    'refresh_cohort_job', 'job_execute', 'job_record_failure', 'job_lookup')
ORDER BY 1;
SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('jobs', 'job_runs')
  AND relnamespace = 'retention'::regnamespace ORDER BY 1;

-- drop_job drops only tables owned by the job's owner (bob's config points at alice's table)
SELECT retention.drop_job('bob_job', true);
SELECT to_regclass('alice_cohorts') IS NOT NULL AS alice_table_kept, to_regclass('bob_activity') IS NULL AS bob_table_dropped;
SELECT retention.drop_job('alice_job', true);
DROP TABLE shop_orders, bob_orders, bob_cohorts;
REVOKE CREATE ON SCHEMA public FROM regress_retention_alice, regress_retention_bob;
DROP ROLE regress_retention_alice;
DROP ROLE regress_retention_bob;
