--
-- Counts near 2^63: every sum of counts is checked (SQLSTATE 22003, never a wrapped
-- number), in transition, combine, input and accessors, and input refuses a state whose
-- counts the accessors could not add up. One line per case: what it gives, or its error.
--
SET search_path = retention, public;
\set VERBOSITY default

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r text;
BEGIN
  EXECUTE q INTO r;
  RETURN 'ok: ' || coalesce(r, 'NULL');
EXCEPTION WHEN OTHERS THEN
  RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- fitting aggregates: a pattern's weight is held exactly up to 2^53 - 1 (the weights are
-- doubles), the customers of a fit add up exactly as an int64
SELECT label, pg_temp.try(q) FROM (VALUES
  ('two weights of 2^63 - 1',
   $$SELECT (bgnbd_fit(f, r, t, w)).customers FROM (VALUES (1, 1.0::float8, 2.0::float8, 9223372036854775807::bigint),
                                                        (2, 1.5, 3.0, 9223372036854775807)) v(f, r, t, w)$$),
  ('survival table of 2^63 - 1 customers',
   $$SELECT (sbg_fit_survival(ARRAY[9223372036854775807, 1])).customers$$),
  ('a weight of 2^53 + 1 (a double would round it)',
   $$SELECT (sbg_fit(p, c, w)).customers FROM (VALUES (1, true, 9007199254740993::bigint), (2, false, 1)) v(p, c, w)$$),
  ('a weight of 2^53 - 1: exact',
   $$SELECT (sbg_fit(p, c, w)).customers FROM (VALUES (1, true, 9007199254740991::bigint), (2, false, 5)) v(p, c, w)$$),
  ('one pattern summed past 2^53 - 1',
   $$SELECT (sbg_fit(p, c, w)).customers FROM (VALUES (1, true, 9007199254740991::bigint), (1, true, 1), (2, false, 1)) v(p, c, w)$$),
  ('1025 patterns of 2^53 - 1: more than 2^63 - 1 customers',
   $$SELECT (bgnbd_fit(1, 1, g, 9007199254740991)).customers FROM generate_series(1, 1025) g$$),
  ('1024 patterns of 2^53 - 1: 2^63 - 1024 customers, exact',
   $$SELECT (bgnbd_fit(1, 1, g, 9007199254740991)).customers FROM generate_series(1, 1024) g$$),
  ('text input: a weight above 2^53 - 1',
   $$SELECT 'survival:1,1,9007199254740992'::fit_state::text$$),
  ('text input: repeated patterns summed past 2^53 - 1',
   $$SELECT 'survival:1,1,9007199254740991;1,1,1'::fit_state::text$$),
  ('text input: weights adding up past 2^63 - 1',
   $$SELECT (SELECT ('rft:' || string_agg(format('1,1,%s,9007199254740991', g), ';'))::fit_state
             FROM generate_series(1, 1025) g) IS NOT NULL$$),
  ('combine: one pattern summed past 2^53 - 1',
   $$SELECT fit_state_combine('survival:1,1,9007199254740991', 'survival:1,1,1')::text$$),
  ('BG/BB data of more than 2^31 - 1 periods (the likelihood loops over them)',
   $$SELECT 'discrete:1,1,3000000000,1'::fit_state::text$$),
  ('combine: weights adding up past 2^63 - 1',
   $$SELECT fit_state_combine(a, b) IS NOT NULL
     FROM (SELECT ('rft:' || string_agg(format('1,1,%s,9007199254740991', g), ';'))::fit_state AS a
           FROM generate_series(1, 513) g) x,
          (SELECT ('rft:' || string_agg(format('1,1,%s,9007199254740991', g), ';'))::fit_state AS b
           FROM generate_series(514, 1026) g) y$$)
) v(label, q);

-- scoring loops that run up to 2^31 - 1 times count with 64-bit counters (an int one
-- overflowed at the end of the BG/BB sum) and can be cancelled
SET statement_timeout = '200ms';
SELECT expected_purchases(ROW(1, 1, 1, 1, 0, true, 'converged', 1, 1, 1, NULL, NULL, NULL, NULL)::bgbb_model,
                          2147483647, 1, 1, 2);
SELECT p_alive(ROW(1, 1, 1, 1, 0, true, 'converged', 1, 1, 1, NULL, NULL, NULL, NULL)::bgbb_model, 1, 1, 2147483647);
SELECT prob_purchases(ROW(1, 1, 1, 1, 0, true, 'converged', 1, 1, 1, NULL, NULL, NULL, NULL)::bgnbd_model, 2147483647, 1);
RESET statement_timeout;

-- retention_state: input refuses counts whose sums (per period, and all customers) do not
-- fit; combine and direct calls of the transition check the same; a state that passes
-- reads back without overflow
SELECT label, pg_temp.try(q) FROM (VALUES
  ('gaps of one period summed past 2^63 - 1 (wrapping back to valid)',
   $$SELECT string_agg(lost::text, ',') FROM retention_table('2024-01|3|0.0:9223372036854775807,1;0.1:9223372036854775807,0;0.2:3,0;1.0:9223372036854775807,0;2.0:3,0')$$),
  ('customers of all periods summed past 2^63 - 1',
   $$SELECT string_agg(customers_end::text, ',') FROM retention_table('2024-01|2|0.0:9223372036854775807,9223372036854775807;1.0:1,1', 2)$$),
  ('2^63 - 1 customers: the largest state',
   $$SELECT string_agg(customers_end::text || '/' || lost::text, ',') FROM retention_table('2024-01|2|0.0:9223372036854775806,9223372036854775806;1.0:1,1', 2)$$),
  ('combine past 2^63 - 1 customers',
   $$SELECT retention_combine('2024-01|1|0.0:9223372036854775807,9223372036854775807', '2024-02|1|0.0:1,1')::text$$),
  ('retention_union past 2^63 - 1 customers',
   $$SELECT retention_union(s)::text FROM (VALUES ('2024-01|1|0.0:9223372036854775807,9223372036854775807'::retention_state), ('2024-02|1|0.0:1,1')) v(s)$$),
  ('transition called directly: one more customer past 2^63 - 1',
   $$SELECT retention_agg_trans('2024-01|1|0.0:9223372036854775807,9223372036854775807', '2024-02|01|1:1')::text$$),
  ('transition called directly: a counter past 2^63 - 1',
   $$SELECT retention_agg_trans('2024-01|1|0.0:9223372036854775807,9223372036854775807', '2024-01|01|1:1')::text$$)
) v(label, q);

-- cohort_state: the per-customer increments are checked; a cohort of 2^63 - 1 customers
-- active at every age is valid (and nothing sums across its ages)
SELECT label, pg_temp.try(q) FROM (VALUES
  ('transition called directly: a counter past 2^63 - 1',
   $$SELECT cohort_agg_trans('2024-01|1|0.0:9223372036854775807,9223372036854775807,0', '2024-01|01|1:1')::text$$),
  ('combine: a counter past 2^63 - 1',
   $$SELECT cohort_combine('2024-01|1|0.0:9223372036854775807,9223372036854775807,0', '2024-01|1|0.0:1,1,0')::text$$),
  ('2^63 - 1 periods',
   $$SELECT '2024-01|9223372036854775807|'::cohort_state::text$$),
  ('a cohort of 2^63 - 1 active at every age',
   $$SELECT string_agg(customers::text, ',') FROM cohort_table('2024-01|3|0.0:9223372036854775807,0,922337203685477.5807;0.1:9223372036854775807,0,0;0.2:9223372036854775807,9223372036854775807,0', 'on_or_after')$$)
) v(label, q);

-- revenue_state and span_state: input refuses movements whose running sums do not fit;
-- combine and direct calls of the transition check the same
SELECT label, pg_temp.try(q) FROM (VALUES
  ('revenue: paying customers summed past 2^63 - 1 (wrapping back to valid)',
   $$SELECT string_agg(mrr_gained::text, ',') FROM revenue_table('2024-01|2|0:9223372036854775807,922337203685477.5807,9223372036854775807,922337203685477.5807,0,0,0,0,0,0,0,0;1:0,0,9223372036854775807,922337203685477.5807,0,0,0,0,2,0.0002,0,0')$$),
  ('revenue: transition called directly past 2^63 - 1',
   $$SELECT revenue_agg_trans('2024-01|1|0:9223372036854775807,922337203685477.5807,9223372036854775807,922337203685477.5807,0,0,0,0,0,0,9223372036854775807,922337203685477.5807', '2024-01|01|1:1')::text$$),
  ('span: subscribers summed past 2^63 - 1 (wrapping back to valid)',
   $$SELECT string_agg(customers_end::text, ',') FROM span_table('2024-01|2|0:9223372036854775807,9223372036854775807,0,0,0,0,0,0,0;1:2,2,0,0,0,0,0,0,0', 'standard')$$),
  ('span: subscribers at the start plus new ones past 2^63 - 1',
   $$SELECT string_agg(coalesce(churn_rate::text, '-'), ',') FROM span_table('2024-01|2|0:9223372036854775807,9223372036854775807,0,0,0,0,0,0,0;1:0,1,1,0,0,1,1,0,0', 'stripe')$$),
  ('span: combine past 2^63 - 1 subscribers',
   $$SELECT span_combine('2024-01|1|0:9223372036854775807,9223372036854775807,0,0,0,0,0,0,0', '2024-02|1|0:1,1,0,0,0,0,0,0,0')::text$$),
  ('span: transition called directly, one more subscriber past 2^63 - 1',
   $$SELECT span_agg_trans('2024-01|1|0:9223372036854775807,9223372036854775807,0,0,0,0,0,0,0', datemultirange(daterange('2024-02-01', NULL)), 'month')::text$$),
  ('span: transition called directly, a counter past 2^63 - 1',
   $$SELECT span_agg_trans('2024-01|1|0:0,9223372036854775807,9223372036854775807,0,0,9223372036854775807,9223372036854775807,0,0', datemultirange(daterange('2024-01-01', '2024-01-05')), 'month')::text$$)
) v(label, q);

-- score histograms and activities
SELECT label, pg_temp.try(q) FROM (VALUES
  ('nps: transition called directly, a count past 2^63 - 1',
   $$SELECT nps_trans('{0,10,9223372036854775807,0,0,0,0,0,0,0,0,0,0}', 0)::text$$),
  ('csat: transition called directly, a count past 2^63 - 1',
   $$SELECT csat_trans('{1,3,0,0,9223372036854775807}', 3, 3)::text$$),
  ('nps: a histogram whose scale width overflows',
   $$SELECT nps_trans('{-9223372036854775807,9223372036854775807,0}', 0)::text$$),
  ('nps: responses summed past 2^63 - 1 in the final function',
   $$SELECT nps_final('{0,10,0,0,0,0,0,0,0,0,0,9223372036854775807,1}')::text$$),
  ('activity: order counts of 2^31 - 1 per period add up',
   $$SELECT orders('2024-01|03|2147483647:1,2147483647:1')::text$$),
  ('activity: merged order counts past 2^31 - 1',
   $$SELECT activity_merge('2024-01|01|2147483647:1', '2024-01|01|1:1')::text$$)
) v(label, q);

-- binary input is checked like text input: the first retention_state above, through COPY
SELECT '/tmp/pg_retention_overflow_' || current_setting('port') || '.bin' AS binfile \gset
CREATE TEMP TABLE bad_bin (b bytea);
INSERT INTO bad_bin VALUES ('\x0102'::bytea || customer_period_send('2024-01') || int4send(3) || int4send(5)
  || int4send(0) || int4send(0) || int8send(9223372036854775807) || int8send(1)
  || int4send(0) || int4send(1) || int8send(9223372036854775807) || int8send(0)
  || int4send(0) || int4send(2) || int8send(3) || int8send(0)
  || int4send(1) || int4send(0) || int8send(9223372036854775807) || int8send(0)
  || int4send(2) || int4send(0) || int8send(3) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE rs_copy (rs retention_state);
COPY rs_copy FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS accepted FROM rs_copy;
-- and the same for a fit_state with two weights of 2^53
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x03'::bytea || int4send(2) || float8send(1) || float8send(1) || float8send(9007199254740992)
  || float8send(2) || float8send(0) || float8send(9007199254740992));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE fs_copy (fs fit_state);
COPY fs_copy FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) AS accepted FROM fs_copy;
