--
-- No user-reachable path raises an internal error (XX000): states no aggregate can produce
-- are refused at input, a fit_state of another layout given to a transition function is a
-- type mismatch, and activity_agg's transition function works outside an aggregate.
--
SET search_path = retention, public;
\set VERBOSITY default

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
  d text;
BEGIN
  EXECUTE q INTO r;
  RETURN 'ok: ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL;
  RETURN SQLSTATE || ': ' || SQLERRM || coalesce(' / ' || nullif(d, ''), '');
END $$;

-- a cohort or retention state without a customer: no aggregate returns one (they return
-- NULL), and no accessor could read one
SELECT label, pg_temp.try(q) FROM (VALUES
  ('empty cohort_state', $$SELECT 'FY2020/oct|1999|'::cohort_state::text$$),
  ('empty retention_state', $$SELECT '2024-01|1|'::retention_state::text$$),
  ('cohort_table of one', $$SELECT count(*) FROM cohort_table('FY2020/oct|1999|')$$),
  ('cohort_nrr_table of one', $$SELECT count(*) FROM cohort_nrr_table('2024-01|3|')$$),
  ('cohort_heatmap_svg of one', $$SELECT length(cohort_heatmap_svg('2024-01|3|'))$$),
  ('retention_table of one', $$SELECT count(*) FROM retention_table('2024-W01|2|')$$),
  ('lifecycle_table of one', $$SELECT count(*) FROM lifecycle_table('2024-W01|2|')$$),
  ('cohort_union of one', $$SELECT cohort_union(s)::text FROM (VALUES ('2024-01|2|'::cohort_state)) v(s)$$),
  ('empty cells listed', $$SELECT '2024-01|2|0.0:0,0,0;1.0:0,0,0'::cohort_state::text$$),
  -- for contrast: revenue and span states without customers are accepted (partial states
  -- may carry empty periods) and their accessors read them as no rows
  ('revenue_table of an empty revenue_state', $$SELECT count(*) FROM revenue_table('2024-01|2|')$$),
  ('span_table of an empty span_state', $$SELECT count(*) FROM span_table('2024-01|2|', 'standard')$$)
) v(label, q);

-- the same through binary input
SELECT '/tmp/pg_retention_state_errors_' || current_setting('port') || '.bin' AS binfile \gset
CREATE TEMP TABLE bad_bin (b bytea);
INSERT INTO bad_bin VALUES ('\x0101'::bytea || customer_period_send('2024-01') || int4send(3) || int4send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE cs_copy (cs cohort_state);
COPY cs_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x0102'::bytea || customer_period_send('2024-01') || int4send(2) || int4send(1)
                            || int4send(0) || int4send(1) || int8send(0) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE rs_copy (rs retention_state);
COPY rs_copy FROM :'binfile' WITH (FORMAT binary);
SELECT (SELECT count(*) FROM cs_copy) AS cohort_accepted, (SELECT count(*) FROM rs_copy) AS retention_accepted;
-- an inconsistent state in binary form is invalid binary input (22P03), as in text (22P02)
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x0101'::bytea || customer_period_send('2024-01') || int4send(1) || int4send(1)
                            || int4send(0) || int4send(0) || int8send(1) || int8send(2) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
\set VERBOSITY sqlstate
COPY cs_copy FROM :'binfile' WITH (FORMAT binary);
SELECT '2024-01|1|0.0:1,2,0'::cohort_state;
\set VERBOSITY default

-- a fit_state of one layout given to another layout's transition function
SELECT label, pg_temp.try(q) FROM (VALUES
  ('spend state to the rft transition', $$SELECT fit_state_rft_accum('spend:2,10,1', 1, 1, 2)::text$$),
  ('rft state to the spend transition', $$SELECT fit_state_spend_accum('rft:1,1,2,1', 2, 10, 3)::text$$),
  ('rft state to the survival transition', $$SELECT fit_state_survival_accum('rft:1,1,2,1', 2, true)::text$$),
  ('survival state to the discrete transition', $$SELECT fit_state_discrete_accum('survival:2,1,1', 1, 2, 3)::text$$),
  ('same layout: adds the pattern', $$SELECT fit_state_rft_accum('rft:1,1,2,1', 1, 1, 2, 4)::text$$)
) v(label, q);

-- activity_agg's transition function called directly: a new activity, the argument unchanged
SELECT label, pg_temp.try(q) FROM (VALUES
  ('no state yet', $$SELECT activity_agg_trans(NULL, '2024-01')::text$$),
  ('a later period', $$SELECT activity_agg_trans('2024-01|01|1:5', '2024-03', 2.5)::text$$),
  ('the same period', $$SELECT activity_agg_trans('2024-01|01|1:5', '2024-01', 2.5)::text$$),
  ('an earlier period', $$SELECT activity_agg_trans('2024-03|01|1:5', '2024-01', 1)::text$$),
  ('another kind', $$SELECT activity_agg_trans('2024-03|01|1:5', '2024-Q1', 1)::text$$)
) v(label, q);
CREATE TEMP TABLE one_act (a customer_activity);
INSERT INTO one_act VALUES ('2024-01|01|1:5');
SELECT activity_agg_trans(a, '2024-01', 1) AS added, a AS unchanged FROM one_act;
SELECT a FROM one_act;
-- and inside an aggregate as before
SELECT activity_agg(p, m) FROM (VALUES ('2024-03'::customer_period, 1::numeric), ('2024-01', 2), ('2024-01', 3)) v(p, m);
