-- Loyalty programs and roles. A program's exclusion expression and source are its owner's code
-- and data: every evaluation (refresh_loyalty, loyalty_status, loyalty_history, tier jobs, the
-- validation of an edited program) runs as the owner in a security-restricted operation,
-- whoever asks; roles are compared by OID; a program reads only what its owner may read.
-- Every attack below was reproduced on 0.1.0 (issue 11) and is refused here.
SET TIME ZONE 'UTC';
SET datestyle = 'ISO, YMD';
\set SHOW_CONTEXT never
CREATE ROLE regress_loyal_alice;
CREATE ROLE regress_loyal_bob;
CREATE ROLE regress_loyal_dave IN ROLE regress_loyal_alice;
GRANT CREATE ON SCHEMA public TO regress_loyal_alice, regress_loyal_bob, regress_loyal_dave;
\set tiers '[{"name": "gold", "rank": 1, "min_amount": 100}]'

CREATE TABLE alice_sales (customer_id int, sold_on date, amount numeric);
INSERT INTO alice_sales VALUES (1, '2026-01-05', 150), (2, '2026-01-06', 50);
ALTER TABLE alice_sales OWNER TO regress_loyal_alice;

-- bob's program: its exclusion calls bob's functions, which log who runs them and try to
-- become superuser; one is IMMUTABLE, so the planner folds it, running it while planning
SET ROLE regress_loyal_bob;
CREATE TABLE bob_sales (customer_id int, sold_on date, amount numeric);
INSERT INTO bob_sales VALUES (1, '2026-01-05', 150), (2, '2026-01-06', -20), (2, '2026-01-07', 200);
CREATE TABLE bob_log (n serial, what text, outcome text);
CREATE FUNCTION bob_try(what text) RETURNS boolean LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
	BEGIN
		ALTER ROLE regress_loyal_bob SUPERUSER;
		INSERT INTO bob_log (what, outcome) VALUES (what, 'superuser granted by ' || current_user);
	EXCEPTION WHEN OTHERS THEN
		INSERT INTO bob_log (what, outcome) VALUES (what, format('as %s: %s: %s', current_user, SQLSTATE,
			regexp_replace(SQLERRM, '^must be superuser to alter superuser roles.*', 'permission denied to alter role')));
	END;
	BEGIN
		RESET ROLE;
		INSERT INTO bob_log (what, outcome) VALUES (what, 'role reset to ' || current_user);
	EXCEPTION WHEN OTHERS THEN
		INSERT INTO bob_log (what, outcome) VALUES (what, format('as %s: %s: %s', current_user, SQLSTATE,
			regexp_replace(SQLERRM, '^must be superuser to alter superuser roles.*', 'permission denied to alter role')));
	END;
	RETURN false;
END $$;
CREATE FUNCTION bob_fold() RETURNS boolean LANGUAGE plpgsql IMMUTABLE SET search_path = public AS $$
BEGIN
	RETURN public.bob_try('planner folds an immutable call');
END $$;
CREATE FUNCTION bob_row(amount numeric) RETURNS boolean LANGUAGE plpgsql SET search_path = public AS $$
BEGIN
	PERFORM public.bob_try('called per row');
	RETURN amount < 0;
END $$;
SELECT retention.create_loyalty_program('bob_prog', 'bob_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers', exclude => 'public.bob_fold() OR public.bob_row(s.amount)') > 0 AS created;
SELECT DISTINCT what, outcome FROM bob_log ORDER BY 1, 2;
TRUNCATE bob_log;
GRANT INSERT ON bob_log TO PUBLIC;
GRANT USAGE ON SEQUENCE bob_log_n_seq TO PUBLIC;
SELECT retention.create_loyalty_job('bob_daily', 'bob_prog', '1 day') > 0 AS created;
RESET ROLE;

-- the superuser refreshes bob's program, asks for a status and a history, runs his tier job
-- and edits his program: each time bob's functions run as bob, restricted
SELECT retention.refresh_loyalty('bob_prog', '2026-02-01') > 0 AS refreshed;
SELECT (retention.loyalty_status('bob_prog', 2, '2026-02-01')).tier;
SELECT count(*) AS changes FROM retention.loyalty_history('bob_prog', 2, '2026-02-01');
SELECT status FROM retention.run_job('bob_daily');
SELECT retention.refresh_loyalty_job('bob_daily', '2026-02-02') >= 0 AS refreshed;
UPDATE retention.loyalty_programs SET grace_days = 3 WHERE program_name = 'bob_prog';
SELECT DISTINCT what, outcome FROM bob_log ORDER BY 1, 2;
SELECT rolsuper FROM pg_roles WHERE rolname = 'regress_loyal_bob';
SELECT current_user, current_setting('role') AS role;
TRUNCATE bob_log;

-- Finding 6: a program reads only what its owner may read, checked when it is defined (also
-- by a direct INSERT) and at every refresh, as the owner
SET ROLE regress_loyal_bob;
\set VERBOSITY sqlstate
SELECT retention.create_loyalty_program('steal', 'alice_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers');
INSERT INTO retention.loyalty_programs (program_name, source, customer_column, time_column, amount_column,
  qualification_window, tiers, tier_table, history_table)
VALUES ('steal', 'public.alice_sales', 'customer_id', 'sold_on', 'amount', 'calendar_year', :'tiers', 'x', 'y');
UPDATE retention.loyalty_programs SET source = 'public.alice_sales' WHERE program_name = 'bob_prog';
-- nor can bob define a program as alice (the validation would run his expression as her)
INSERT INTO retention.loyalty_programs (program_name, owner, source, customer_column, time_column, amount_column,
  qualification_window, tiers, tier_table, history_table, exclude)
VALUES ('as_alice', 'regress_loyal_alice', 'public.bob_sales', 'customer_id', 'sold_on', 'amount', 'calendar_year',
  :'tiers', 'x', 'y', 'public.bob_row(s.amount)');
\set VERBOSITY default
SELECT retention.create_loyalty_program('steal', 'alice_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers');
INSERT INTO retention.loyalty_programs (program_name, source, customer_column, time_column, amount_column,
  qualification_window, tiers, tier_table, history_table)
VALUES ('steal', 'public.alice_sales', 'customer_id', 'sold_on', 'amount', 'calendar_year', :'tiers', 'x', 'y');
RESET ROLE;
SELECT count(*) AS bob_log_rows FROM bob_log;
-- bob had SELECT when he defined a program over alice's table; he has it no longer: the
-- superuser's refresh reads as bob and fails, and tells nothing
GRANT SELECT ON alice_sales TO regress_loyal_bob;
SET ROLE regress_loyal_bob;
SELECT retention.create_loyalty_program('was_allowed', 'alice_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers') > 0 AS created;
RESET ROLE;
REVOKE SELECT ON alice_sales FROM regress_loyal_bob;
SELECT retention.refresh_loyalty('was_allowed', '2026-02-01');
SELECT retention.loyalty_status('was_allowed', 1, '2026-02-01');
SELECT count(*) AS tier_rows FROM was_allowed_tiers;

-- who may use a program: its owner, roles that may become the owner (dave, for alice: it
-- runs as alice), superusers; bob sees nothing of alice's
SET ROLE regress_loyal_alice;
SELECT retention.create_loyalty_program('alice_prog', 'alice_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers') > 0 AS created;
RESET ROLE;
SET ROLE regress_loyal_dave;
SELECT program_name, owner FROM retention.loyalty_programs;
SELECT retention.refresh_loyalty('alice_prog', '2026-02-01') > 0 AS refreshed;
SELECT (retention.loyalty_status('alice_prog', 1, '2026-02-01')).tier;
SELECT retention.create_loyalty_job('alice_daily', 'alice_prog', '1 day') > 0 AS created;
SELECT job_name, owner FROM retention.jobs WHERE job_name = 'alice_daily';
RESET ROLE;
SET ROLE regress_loyal_bob;
SELECT program_name FROM retention.loyalty_programs ORDER BY 1;
\set VERBOSITY sqlstate
SELECT retention.refresh_loyalty('alice_prog');
SELECT retention.loyalty_status('alice_prog', 1);
SELECT retention.create_loyalty_job('bob_on_alice', 'alice_prog', '1 day');
SELECT retention.refresh_loyalty_as_owner(1, '2026-02-01', false, false);
SELECT retention.loyalty_evaluate_as_owner(1, 1, '2026-02-01');
SELECT retention.loyalty_check_exclusion('regress_loyal_alice', 'bob_sales', 'true');
\set VERBOSITY default
-- program names are per owner: bob may call his program like alice's
SELECT retention.create_loyalty_program('alice_prog', 'bob_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers', tier_table => 'bob_alice_tiers', history_table => 'bob_alice_history') > 0 AS created;
SELECT retention.refresh_loyalty('alice_prog', '2026-02-01') > 0 AS refreshed;
RESET ROLE;
SELECT retention.refresh_loyalty('alice_prog', '2026-02-01');

-- Finding 2: roles by OID. A role named like bob with capitals sees none of bob's programs; a
-- role whose name needs quoting defines and refreshes one; a role named like the superuser,
-- quotes included, neither sees nor edits the superuser's program.
CREATE ROLE "Regress_Loyal_Bob";
SET ROLE "Regress_Loyal_Bob";
SELECT count(*) AS visible_programs FROM retention.loyalty_programs;
RESET ROLE;
CREATE ROLE "regress.loyal.john";
GRANT SELECT ON bob_sales TO "regress.loyal.john";
GRANT CREATE ON SCHEMA public TO "regress.loyal.john";
SET ROLE "regress.loyal.john";
SELECT retention.create_loyalty_program('john_prog', 'bob_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers', exclude => 's.amount < 0') > 0 AS created;
SELECT program_name, owner FROM retention.loyalty_programs;
SELECT retention.refresh_loyalty('john_prog', '2026-02-01') > 0 AS refreshed;
RESET ROLE;
SELECT retention.drop_loyalty_program('john_prog', true);
REVOKE CREATE ON SCHEMA public FROM "regress.loyal.john";
REVOKE SELECT ON bob_sales FROM "regress.loyal.john";
CREATE TABLE su_sales (customer_id int, sold_on date, amount numeric);
SELECT retention.create_loyalty_program('su_prog', 'su_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers') > 0 AS created;
SELECT format('CREATE ROLE %I', '"' || current_user || '"') \gexec
SELECT format('SET ROLE %I', '"' || current_user || '"') \gexec
SELECT count(*) AS visible_programs FROM retention.loyalty_programs;
UPDATE retention.loyalty_programs SET exclude = 'true' WHERE program_name = 'su_prog';
RESET ROLE;
SELECT exclude FROM retention.loyalty_programs WHERE program_name = 'su_prog';
SELECT format('DROP ROLE %I', '"' || current_user || '"') \gexec

-- Finding 3: create_loyalty_program resolves nothing through the caller's search_path
SET ROLE regress_loyal_bob;
CREATE FUNCTION public.has_table_privilege(regclass, text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO public.bob_log (what, outcome) VALUES ('planted has_table_privilege', 'called as ' || current_user);
	RETURN true;
END $$;
RESET ROLE;
SET search_path = public, pg_catalog;
SELECT retention.create_loyalty_program('su_prog2', 'su_sales', 'customer_id', 'sold_on', 'amount',
  'calendar_year', :'tiers') > 0 AS created;
SELECT retention.refresh_loyalty('su_prog2', '2026-02-01') >= 0 AS refreshed;
SELECT retention.loyalty_status('su_prog2', 1, '2026-02-01');
RESET search_path;
SELECT count(*) AS planted_calls FROM bob_log;
DROP FUNCTION public.has_table_privilege(regclass, text);

-- clean up
SELECT retention.drop_loyalty_program('su_prog', true), retention.drop_loyalty_program('su_prog2', true);
SET ROLE regress_loyal_bob;
SELECT retention.drop_job('bob_daily');
SELECT retention.drop_loyalty_program('bob_prog', true), retention.drop_loyalty_program('was_allowed', true),
       retention.drop_loyalty_program('alice_prog', true);
DROP TABLE bob_sales, bob_log;
DROP FUNCTION bob_try(text), bob_fold(), bob_row(numeric);
RESET ROLE;
SET ROLE regress_loyal_alice;
SELECT retention.drop_job('alice_daily');
SELECT retention.drop_loyalty_program('alice_prog', true);
RESET ROLE;
DROP TABLE alice_sales, su_sales;
REVOKE CREATE ON SCHEMA public FROM regress_loyal_alice, regress_loyal_bob, regress_loyal_dave;
DROP ROLE regress_loyal_alice, regress_loyal_bob, regress_loyal_dave, "Regress_Loyal_Bob", "regress.loyal.john";
