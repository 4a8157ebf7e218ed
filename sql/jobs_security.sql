-- Jobs and roles. Each role sees and changes only the jobs of roles it may become (superusers
-- all); a job runs as its owner in a security-restricted operation, also when a superuser or a
-- member of the owner role runs it, and its code can neither take the caller's rights nor
-- leave anything behind in the caller's session; run history is written by the extension only.
-- Every attack below was reproduced on 0.1.0 (issue 11) and is refused here.
SET TIME ZONE 'UTC';
\set SHOW_CONTEXT never
CREATE ROLE regress_retention_alice;
CREATE ROLE regress_retention_bob;
CREATE ROLE regress_retention_dave IN ROLE regress_retention_alice;	-- may SET ROLE alice
CREATE ROLE regress_retention_eve BYPASSRLS;						-- sees every row, may become nobody
GRANT CREATE ON SCHEMA public TO regress_retention_alice, regress_retention_bob, regress_retention_dave;
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
-- direct writes to the job table are filtered
UPDATE retention.jobs SET schedule = '1 minute';
DELETE FROM retention.jobs;
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
INSERT INTO bob_orders VALUES (7, '2026-01-03', 5);
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
UPDATE retention.jobs SET config = jsonb_set(config, '{cohort_table}', '"public.bob_cohorts"');
SELECT job_name, owner FROM retention.jobs;

-- run history is the extension's: bob can read his runs but not write any, not even for his
-- own job, and the scheduler's internals are not his to call (finding 7)
\set VERBOSITY sqlstate
INSERT INTO retention.job_runs (job_id, owner, trigger, status)
SELECT job_id, owner, 'manual', 'failed' FROM retention.jobs;
INSERT INTO retention.job_runs (job_id, owner, trigger, status)
VALUES ((SELECT min(job_id) FROM retention.jobs) - 1, 'regress_retention_alice', 'manual', 'failed');
UPDATE retention.job_runs SET status = 'succeeded';
DELETE FROM retention.job_runs;
SELECT retention.job_execute(1, false);
SELECT retention.job_run_start(1, 'manual');
SELECT retention.job_run_finish(1, NULL, 'XX000', 'forged', true);
SELECT retention.refresh_cohort_job_as_owner(1, false, now());
\set VERBOSITY default
-- job names are per owner: bob's job of alice's job's name neither fails nor tells him hers exists
SELECT retention.create_cohort_job('alice_job', 'bob_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'bob_activity2', 'bob_cohorts2', '1 hour') > 0 AS created;
SELECT status FROM retention.run_job('alice_job');
SELECT retention.drop_job('alice_job', true);
RESET ROLE;

-- alice's table is unchanged, her run history is hers; the superuser sees every job and run
SELECT cohort, age, customers FROM alice_cohorts ORDER BY 1, 2;
SELECT job_name, owner FROM retention.jobs ORDER BY job_id;
SELECT j.job_name, r.owner, r.status, r.sqlstate FROM retention.job_runs r JOIN retention.jobs j USING (job_id) ORDER BY run_id;

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

-- who may run a job by hand: its owner, roles that may become the owner (dave, a member of
-- alice: the job still runs as alice), superusers; not a role that merely sees every row
SET ROLE regress_retention_dave;
SELECT job_name, owner FROM retention.jobs;
SELECT status FROM retention.run_job('alice_job');
SELECT r.owner, r.trigger FROM retention.job_runs r ORDER BY run_id DESC LIMIT 1;
RESET ROLE;
SET ROLE regress_retention_eve;
SELECT count(*) > 0 AS eve_sees_jobs FROM retention.jobs;
SELECT retention.run_job('alice_job');
SELECT retention.refresh_cohort_job('alice_job');
RESET ROLE;

-- Finding 1: code the owner controls runs as the owner, restricted, whoever starts the run.
-- bob's activity table gets a statement trigger and a column default that try, each time
-- they run, to take back the caller's identity and become superuser, to leave settings and
-- a temporary table behind in the caller's session; every attempt is logged by bob_try.
-- (PostgreSQL 15 words the refusal of ALTER ROLE differently; bob_try prints 16's words.
-- Code a job runs sees search_path = pg_catalog, pg_temp, as a materialized view's query does
-- in PostgreSQL 17: bob's functions set their own.)
SET ROLE regress_retention_bob;
CREATE TABLE bob_log (n serial, what text, outcome text);
CREATE FUNCTION bob_try(what text, cmd text) RETURNS void LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
	EXECUTE cmd;
	INSERT INTO bob_log (what, outcome) VALUES (what, format('done as %s (session %s)', current_user, session_user));
EXCEPTION WHEN OTHERS THEN
	INSERT INTO bob_log (what, outcome) VALUES (what, SQLSTATE || ': ' || regexp_replace(SQLERRM, '^must be superuser to alter superuser roles.*', 'permission denied to alter role'));
END $$;
CREATE FUNCTION bob_attack() RETURNS trigger LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
	PERFORM bob_try('who am I', 'SELECT 1');
	PERFORM bob_try('RESET ROLE', 'RESET ROLE');
	PERFORM bob_try('role none', $q$SELECT set_config('role', 'none', false)$q$);
	PERFORM bob_try('session authorization', 'SET SESSION AUTHORIZATION DEFAULT');
	PERFORM bob_try('become superuser', 'ALTER ROLE regress_retention_bob SUPERUSER');
	PERFORM bob_try('temporary table', 'CREATE TEMP TABLE bob_tmp (x int)');
	-- session-wide settings, which outlive a function's SET clause
	PERFORM set_config('statement_timeout', '4711s', false), set_config('default_transaction_read_only', 'on', false);
	INSERT INTO bob_log (what, outcome) VALUES ('settings in the run', format('statement_timeout %s, read only %s',
		current_setting('statement_timeout'), current_setting('default_transaction_read_only')));
	PERFORM set_config('search_path', 'bob_path', false);
	RETURN NULL;
END $$;
CREATE FUNCTION bob_default() RETURNS text LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
	PERFORM bob_try('default: become superuser', 'ALTER ROLE regress_retention_bob SUPERUSER');
	RETURN 'x';
END $$;
CREATE TRIGGER attack AFTER INSERT OR UPDATE OR DELETE ON bob_activity
	FOR EACH STATEMENT EXECUTE FUNCTION bob_attack();
ALTER TABLE bob_activity ADD COLUMN note text DEFAULT bob_default();
INSERT INTO bob_orders VALUES (8, '2026-02-03', 6);
RESET ROLE;
-- the superuser runs bob's job by hand, then refreshes it directly
SELECT status, rows FROM retention.run_job('bob_job');
SELECT what, count(*), min(outcome) AS outcome FROM bob_log GROUP BY what ORDER BY min(n);
SELECT current_setting('statement_timeout') AS statement_timeout, current_setting('search_path') AS search_path;
TRUNCATE bob_log;
INSERT INTO bob_orders VALUES (9, '2026-02-04', 7);
SELECT retention.refresh_cohort_job('bob_job') AS rows;
SELECT retention.refresh_cohort_job('bob_job', full_refresh => true) AS rows;
SELECT what, count(*), min(outcome) AS outcome FROM bob_log GROUP BY what ORDER BY min(n);
-- nothing of it reached the superuser's session, and bob is no superuser
SELECT current_user, session_user = current_user AS same_session, current_setting('role') AS role,
       current_setting('statement_timeout') AS statement_timeout,
       current_setting('default_transaction_read_only') AS read_only,
       current_setting('search_path') AS search_path, to_regclass('pg_temp.bob_tmp') AS temp_table;
SELECT rolname, rolsuper FROM pg_roles WHERE rolname = 'regress_retention_bob';
-- a failing trigger fails the run (recorded), and the caller's session is still its own
SET ROLE regress_retention_bob;
CREATE FUNCTION bob_fail() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM set_config('statement_timeout', '4711s', false);
	RAISE EXCEPTION 'bob says no';
END $$;
CREATE TRIGGER fail AFTER INSERT OR UPDATE ON bob_activity FOR EACH STATEMENT EXECUTE FUNCTION bob_fail();
RESET ROLE;
INSERT INTO bob_orders VALUES (10, '2026-02-05', 8);
SELECT status, sqlstate, message FROM retention.run_job('bob_job');
SELECT current_setting('statement_timeout') AS statement_timeout;
SET ROLE regress_retention_bob;
DROP TRIGGER fail ON bob_activity;
DROP TRIGGER attack ON bob_activity;
RESET ROLE;

-- Finding 2: roles are compared by OID. "Regress_Retention_Bob" is not regress_retention_bob;
-- a role whose name needs quoting (a dot, capitals, quotes) works; a role named like the
-- superuser, quotes included, is not the superuser.
CREATE ROLE "Regress_Retention_Bob";
SET ROLE "Regress_Retention_Bob";
SELECT count(*) AS visible_jobs FROM retention.jobs;
RESET ROLE;
CREATE ROLE "regress.retention.john";
GRANT SELECT ON shop_orders TO "regress.retention.john";
GRANT CREATE ON SCHEMA public TO "regress.retention.john";
SET ROLE "regress.retention.john";
SELECT retention.create_cohort_job('john_job', 'shop_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'john_activity', 'john_cohorts', '1 hour') > 0 AS created;
SELECT job_name, owner FROM retention.jobs;
SELECT status FROM retention.run_job('john_job');
RESET ROLE;
SELECT status FROM retention.run_job('john_job');
SELECT j.job_name, r.owner, r.status FROM retention.job_runs r JOIN retention.jobs j USING (job_id)
WHERE j.job_name = 'john_job' ORDER BY run_id;
SELECT retention.drop_job('john_job', true);
REVOKE CREATE ON SCHEMA public FROM "regress.retention.john";
REVOKE SELECT ON shop_orders FROM "regress.retention.john";
SELECT format('CREATE ROLE %I', '"' || current_user || '"') \gexec
SELECT format('SET ROLE %I', '"' || current_user || '"') \gexec
SELECT count(*) AS visible_jobs FROM retention.jobs;
\set VERBOSITY sqlstate
INSERT INTO retention.jobs (job_name, job_type, owner, schedule, config)
VALUES ('fake', 'cohort_refresh', session_user::text::regrole, '1 hour', '{}');
\set VERBOSITY default
RESET ROLE;
SELECT format('DROP ROLE %I', '"' || current_user || '"') \gexec

-- Finding 3: the API resolves nothing through the caller's search_path. bob plants a
-- has_table_privilege that would win over the built-in for a regclass argument, and an
-- operator = on text, in public; a superuser and alice with public first on their path
-- create, run and alter jobs, and bob's functions are never called.
SET ROLE regress_retention_bob;
CREATE FUNCTION public.has_table_privilege(regclass, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.bob_log (what, outcome) VALUES ('planted has_table_privilege', 'called as ' || current_user);
	RETURN true;
END $$;
CREATE FUNCTION public.bob_texteq(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.bob_log (what, outcome) VALUES ('planted =', 'called as ' || current_user);
	RETURN $1 OPERATOR(pg_catalog.=) $2;
END $$;
CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.bob_texteq);
GRANT INSERT ON bob_log TO PUBLIC;
GRANT USAGE ON SEQUENCE bob_log_n_seq TO PUBLIC;
RESET ROLE;
TRUNCATE bob_log;
SET search_path = public, pg_catalog;
SELECT retention.create_cohort_job('su_job', 'shop_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'su_activity', 'su_cohorts', '1 hour') > 0 AS created;
SELECT status FROM retention.run_job('su_job');
SELECT status FROM retention.run_job('alice_job');
SELECT retention.refresh_cohort_job('alice_job') >= 0 AS refreshed;
SELECT enabled FROM retention.pause_job('alice_job');
SELECT enabled FROM retention.resume_job('alice_job');
SELECT retention.drop_job('su_job', true);
SET ROLE regress_retention_alice;
SELECT retention.create_cohort_job('alice_job2', 'shop_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'alice_activity2', 'alice_cohorts2', '1 hour') > 0 AS created;
SELECT status FROM retention.run_job('alice_job2');
SELECT retention.drop_job('alice_job2', true);
RESET ROLE;
RESET search_path;
SELECT count(*) AS planted_calls FROM bob_log;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_retention_bob';
DROP OPERATOR public.= (text, text);
DROP FUNCTION public.bob_texteq(text, text), public.has_table_privilege(regclass, text);

-- Finding 5: the tuple-header test reads only tables the caller may read in full, locks
-- them, and answers for a missing relation with an error, not an assertion
SET ROLE regress_retention_bob;
\set VERBOSITY sqlstate
-- (transaction 3 in the window [1, max): the test must look at the tuple to answer)
SELECT retention.xmin_is_new('pg_authid'::regclass, '(0,1)', '3', '1', '18446744073709551615');
SELECT retention.xmin_is_new('shop_orders'::regclass, '(0,1)', '3', '1', '18446744073709551615');
SELECT retention.xmin_is_new(4294967295, '(0,1)', '3', '1', '18446744073709551615');
SELECT count(*) FROM retention.new_rows(NULL::shop_orders, '0', '18446744073709551615');
\set VERBOSITY default
SELECT retention.xmin_is_new('shop_orders'::regclass, '(0,1)', '3', '1', '18446744073709551615');
SELECT retention.xmin_is_new(4294967295, '(0,1)', '3', '1', '18446744073709551615');
-- where the answer needs no tuple, nothing is read and nothing is refused
SELECT retention.xmin_is_new('pg_authid'::regclass, '(0,1)', '1', '0', '18446744073709551615') AS frozen_id_is_old;
-- rows of bob's own table: the test works (frozen rows count as old, others by transaction)
SELECT count(*) FILTER (WHERE retention.xmin_is_new(tableoid, ctid, xmin, '0', pg_snapshot_xmin(pg_current_snapshot()))) AS all_new,
       count(*) FILTER (WHERE retention.xmin_is_new(tableoid, ctid, xmin, pg_snapshot_xmin(pg_current_snapshot()), '18446744073709551615')) AS none_later
FROM bob_orders;
-- a table bob reads through a row level security policy: refused (its hidden rows' headers)
RESET ROLE;
CREATE TABLE guarded (customer_id int, ordered_at timestamptz, amount numeric);
INSERT INTO guarded VALUES (1, '2026-01-01', 1), (2, '2026-01-02', 2);
ALTER TABLE guarded ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_one ON guarded USING (customer_id = 1);
GRANT SELECT ON guarded TO regress_retention_bob;
SET ROLE regress_retention_bob;
\set VERBOSITY sqlstate
SELECT retention.xmin_is_new('guarded'::regclass, '(0,2)', '3', '1', '18446744073709551615');
\set VERBOSITY default
-- a job of bob's over it reads what the policy shows him, in full every run
SELECT retention.create_cohort_job('bob_guarded', 'guarded', 'customer_id', 'ordered_at', 'amount',
       'month', 'bob_guarded_activity', 'bob_guarded_cohorts', '1 hour') > 0 AS created;
SELECT status, rows FROM retention.run_job('bob_guarded');
SELECT status, rows FROM retention.run_job('bob_guarded');
SELECT customer_id FROM bob_guarded_activity;
SELECT retention.drop_job('bob_guarded', true);
RESET ROLE;
DROP TABLE guarded;

-- several roles' jobs of one name: the superuser must say whose (run it as that role)
SET ROLE regress_retention_bob;
SELECT retention.create_cohort_job('alice_job', 'bob_orders', 'customer_id', 'ordered_at', 'amount',
       'month', 'bob_activity3', 'bob_cohorts3', '1 hour') > 0 AS created;
RESET ROLE;
SELECT retention.run_job('alice_job');
SET ROLE regress_retention_bob;
SELECT retention.drop_job('alice_job', true);
RESET ROLE;

-- the API functions are SECURITY INVOKER with a pinned search_path, or C functions that pin
-- it themselves, or bodies bound at creation (create_cohort_job); the tables have row level
-- security (sql/catalog.sql checks every function of the extension)
SELECT p.proname, p.prosecdef, (SELECT lanname FROM pg_language WHERE oid = p.prolang) AS language,
       p.prosqlbody IS NOT NULL AS bound_body, p.proconfig
FROM pg_proc p
WHERE p.pronamespace = 'retention'::regnamespace
  AND p.proname IN ('create_cohort_job', 'alter_job', 'pause_job', 'resume_job', 'drop_job', 'run_job',
                    'refresh_cohort_job', 'job_execute', 'job_lookup', 'job_run_start', 'job_run_finish')
ORDER BY 1;
SELECT relname, relrowsecurity FROM pg_class WHERE relname IN ('jobs', 'job_runs')
  AND relnamespace = 'retention'::regnamespace ORDER BY 1;
SELECT p.proname, has_function_privilege('regress_retention_bob', p.oid, 'execute') AS bob_may_call
FROM pg_proc p WHERE p.pronamespace = 'retention'::regnamespace
  AND p.proname IN ('job_execute', 'job_run_start', 'job_run_finish', 'refresh_cohort_job_as_owner',
                    'scheduler_claim', 'run_job', 'refresh_cohort_job')
ORDER BY 1;

-- drop_job drops only tables owned by the job's owner (bob's config points at alice's table)
SET ROLE regress_retention_bob;
UPDATE retention.jobs SET config = jsonb_set(config, '{cohort_table}', '"public.alice_cohorts"');
RESET ROLE;
SELECT retention.drop_job('bob_job', true);
SELECT to_regclass('alice_cohorts') IS NOT NULL AS alice_table_kept, to_regclass('bob_activity') IS NULL AS bob_table_dropped;
SELECT retention.drop_job('alice_job', true);
DROP TABLE shop_orders, bob_orders, bob_cohorts, bob_log;
DROP FUNCTION bob_try(text, text), bob_attack(), bob_default(), bob_fail();
REVOKE CREATE ON SCHEMA public FROM regress_retention_alice, regress_retention_bob, regress_retention_dave;
DROP ROLE regress_retention_alice, regress_retention_bob, regress_retention_dave, regress_retention_eve,
  "Regress_Retention_Bob", "regress.retention.john";
