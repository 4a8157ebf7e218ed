-- Everything a user reads out of the database scenario.sql made: every stored state in its
-- text and binary forms, the reports computed from them, the periods (through their btree
-- index), the job and program definitions, the runs recorded by hand, and the tables the jobs
-- fill. Two runs of this file on the same data must print the same lines: before and after
-- ALTER EXTENSION UPDATE, pg_upgrade or a dump and restore. Run as a superuser with
-- psql -X -At -f (row level security would hide other roles' jobs).
\set ON_ERROR_STOP on
\set QUIET on
SET client_min_messages = warning;
SET timezone = 'UTC';
SET search_path = public, retention;
\pset null '(null)'

-- a base type's binary form (its send function), in hex
CREATE FUNCTION pg_temp.send_hex(v anyelement) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	f regproc;
	r text;
BEGIN
	SELECT typsend INTO f FROM pg_type WHERE oid = pg_typeof(v);
	EXECUTE format('SELECT encode(%s($1), ''hex'')', f) INTO r USING v;
	RETURN r;
END $$;

\echo == stored states: text and binary forms
SELECT 'cohort_state', cohorts::text, pg_temp.send_hex(cohorts) FROM stored_states;
SELECT 'retention_state', retention::text, pg_temp.send_hex(retention) FROM stored_states;
SELECT 'revenue_state', revenue::text, pg_temp.send_hex(revenue) FROM stored_states;
SELECT 'activity_map', activity_map::text, pg_temp.send_hex(activity_map) FROM stored_states;
SELECT 'span_state', spans::text, pg_temp.send_hex(spans) FROM stored_states;
SELECT 'models', bgnbd::text, gammagamma::text, sbg::text, nps::text, csat::text FROM stored_states;

\echo == reports from the stored states
SELECT 'cohort_table on', t::text FROM stored_states, cohort_table(cohorts) t;
SELECT 'cohort_table on_or_after', t::text FROM stored_states, cohort_table(cohorts, mode => 'on_or_after') t;
SELECT 'cohort_nrr_table', t::text FROM stored_states, cohort_nrr_table(cohorts) t;
SELECT 'retention_table', t::text FROM stored_states, retention_table(retention, inactivity => 2) t;
SELECT 'lifecycle_table', t::text FROM stored_states, lifecycle_table(retention) t;
SELECT 'revenue_table', t::text FROM stored_states, revenue_table(revenue) t;
SELECT 'span_table', t::text FROM stored_states, span_table(spans) t;
SELECT 'activity_map cohorts', t::text FROM stored_states, cohort_table(activity_map_cohort_final(activity_map)) t;
SELECT 'activity_map retention', t::text FROM stored_states, retention_table(activity_map_retention_final(activity_map)) t;
SELECT 'scores', p_alive(bgnbd, (rfm).frequency, (rfm).recency, (rfm).t)::numeric(12, 9),
       expected_purchases(bgnbd, 52, (rfm).frequency, (rfm).recency, (rfm).t)::numeric(12, 9)
FROM stored_states, customer_rfm ORDER BY customer_id LIMIT 20;

\echo == activities and RFM rows
SELECT customer_id, activity::text, pg_temp.send_hex(activity), first_period(activity), last_period(activity),
       active_periods(activity), orders(activity), revenue(activity)
FROM customer_months ORDER BY customer_id;
SELECT customer_id, rfm::text, holdout::text FROM customer_rfm ORDER BY customer_id;

\echo == periods, in index order
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT kind, period::text, pg_temp.send_hex(period), start_date(period), end_date(period)
FROM stored_periods ORDER BY period;
RESET enable_seqscan;
RESET enable_bitmapscan;

\echo == jobs, programs and the runs recorded by hand
SELECT job_name, job_type, owner, schedule, timezone, enabled, config FROM retention.jobs ORDER BY job_name;
SELECT j.job_name, r.run_id, r.owner, r.status, r.rows, r.sqlstate, r.message
FROM retention.job_runs r JOIN retention.jobs j USING (job_id) WHERE r.trigger = 'manual' ORDER BY r.run_id;
SELECT program_name, owner, source, customer_column, time_column, amount_column, timezone, exclude,
       qualification_window, window_months, fiscal_first_month, status_years, status_months,
       downgrade_policy, grace_days, match, base_tier, tiers, tier_table, history_table
FROM retention.loyalty_programs ORDER BY program_name;

\echo == the tables the jobs fill
SELECT 'monthly_activity', x::text FROM monthly_activity x ORDER BY 2;
SELECT 'monthly_cohorts', x::text FROM monthly_cohorts x ORDER BY 2;
SELECT 'weekly_activity', x::text FROM weekly_activity x ORDER BY 2;
SELECT 'weekly_cohorts', x::text FROM weekly_cohorts x ORDER BY 2;
SELECT 'club_tiers', x::text FROM club_tiers x ORDER BY 2;
SELECT 'club_tier_history', x::text FROM club_tier_history x ORDER BY 2;

\echo == loyalty as of the end of 2021
SELECT c, loyalty_status('club', c::bigint, date '2021-12-31')::text FROM generate_series(1, 200, 7) c;
SELECT c, h::text FROM generate_series(1, 200, 7) c, loyalty_history('club', c::bigint, date '2021-12-31') h;
