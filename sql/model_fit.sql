-- Fitting aggregates: published parameter values, fit statistics, the fit_state type,
-- parallel and combined fits, degenerate data and bad input.
SET extra_float_digits = 0;
CREATE TEMP TABLE cdnow (id int, frequency int, recency float8, t float8);
\copy cdnow FROM 'test/data/cdnow_customers_summary.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE cdnow_m (id int, x int, t_x float8, t float8, zbar float8);
\copy cdnow_m FROM PROGRAM 'tr -d "\r" < test/data/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE donations (frequency int, recency int, periods int, weights bigint);
\copy donations FROM 'test/data/donations.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE survival (year int, regular float8, highend float8);
\copy survival FROM 'test/data/sbg_fader_hardie_2007_survival.csv' WITH (FORMAT csv, HEADER)

-- BG/NBD on the CDNOW calibration summary (weeks): r 0.243, alpha 4.414, a 0.793,
-- b 2.426, log-likelihood -9582.4 (Fader, Hardie & Lee 2005); standard errors as in
-- lifetimes (0.013, 0.379, 0.186, 0.705).
CREATE TEMP TABLE bg AS SELECT retention.bgnbd_fit(frequency, recency, t) AS m FROM cdnow;
SELECT round((m).r::numeric, 3) AS r, round((m).alpha::numeric, 3) AS alpha,
       round((m).a::numeric, 3) AS a, round((m).b::numeric, 3) AS b,
       round((m).log_likelihood::numeric, 1) AS ll, (m).converged, (m).status,
       (m).customers, (m).patterns, (m).iterations > 0 AS iterated
FROM bg;
SELECT round((m).se_r::numeric, 3) AS se_r, round((m).se_alpha::numeric, 3) AS se_alpha,
       round((m).se_a::numeric, 3) AS se_a, round((m).se_b::numeric, 3) AS se_b
FROM bg;

-- Gamma-Gamma on the same customers' mean repeat-purchase values: p 6.25, q 3.74,
-- gamma 15.44; customers without repeat purchases are left out (946 of 2357 remain).
SELECT round((m).p::numeric, 2) AS p, round((m).q::numeric, 2) AS q,
       round((m).gamma::numeric, 2) AS gamma, (m).converged, (m).customers
FROM (SELECT retention.gammagamma_fit(x, zbar) AS m FROM cdnow_m) s;

-- sBG on Fader & Hardie (2007) Table 1, years 1-7 of 1,000 customers:
-- regular alpha 0.704, beta 1.182; high end alpha 0.668, beta 3.806.
CREATE TEMP TABLE sbg_rows AS
WITH s AS (
  SELECT year, round(regular * 10)::bigint AS reg, round(highend * 10)::bigint AS hi,
         lag(round(regular * 10)::bigint) OVER w AS reg_prev,
         lag(round(highend * 10)::bigint) OVER w AS hi_prev
  FROM survival WHERE year <= 7 WINDOW w AS (ORDER BY year))
SELECT year AS periods, true AS churned, reg_prev - reg AS regular, hi_prev - hi AS highend
FROM s WHERE year >= 1
UNION ALL
SELECT year, false, reg, hi FROM s WHERE year = 7;
SELECT segment, round((m).alpha::numeric, 3) AS alpha, round((m).beta::numeric, 3) AS beta,
       (m).converged, (m).customers
FROM (SELECT 'regular' AS segment, retention.sbg_fit(periods, churned, regular) AS m FROM sbg_rows
      UNION ALL
      SELECT 'high end', retention.sbg_fit(periods, churned, highend) FROM sbg_rows) s;

-- Pareto/NBD on CDNOW: log-likelihood -9595.0 (r 0.553, alpha 10.578, s 0.606, beta 11.669).
SELECT round((m).log_likelihood::numeric, 1) AS ll, round((m).r::numeric, 3) AS r,
       round((m).alpha::numeric, 3) AS alpha, round((m).s::numeric, 3) AS s,
       round((m).beta::numeric, 2) AS beta, (m).converged
FROM (SELECT retention.paretonbd_fit(frequency, recency, t) AS m FROM cdnow) s;

-- MBG/NBD on CDNOW: r 0.525, alpha 6.183, a 0.891, b 1.614 (BTYDplus, lifetimes).
SELECT round((m).r::numeric, 3) AS r, round((m).alpha::numeric, 3) AS alpha,
       round((m).a::numeric, 3) AS a, round((m).b::numeric, 3) AS b, (m).converged
FROM (SELECT retention.mbgnbd_fit(frequency, recency, t) AS m FROM cdnow) s;

-- BG/BB on the donations patterns (with weights): alpha 1.204, beta 0.750, gamma 0.657,
-- delta 2.783 (Fader, Hardie & Shang 2010).
SELECT round((m).alpha::numeric, 3) AS alpha, round((m).beta::numeric, 3) AS beta,
       round((m).gamma::numeric, 3) AS gamma, round((m).delta::numeric, 3) AS delta,
       (m).converged, (m).customers, (m).patterns
FROM (SELECT retention.bgbb_fit(frequency, recency, periods, weights) AS m FROM donations) s;

-- Weights are customer counts: the weighted patterns fit exactly like one row per customer.
SELECT (a.m).r = (b.m).r AND (a.m).b = (b.m).b AND (a.m).log_likelihood = (b.m).log_likelihood AS same_fit
FROM (SELECT retention.bgnbd_fit(frequency, recency, t) AS m FROM cdnow) a,
     (SELECT retention.bgnbd_fit(frequency, recency, t, n) AS m
      FROM (SELECT frequency, recency, t, count(*) AS n FROM cdnow GROUP BY 1, 2, 3) g) b;

-- Fits per group; an empty group gives NULL, as aggregates do.
SELECT frequency > 0 AS repeat_buyer, (retention.bgnbd_fit(frequency, recency, t)).status
FROM cdnow GROUP BY 1 ORDER BY 1;
SELECT retention.bgnbd_fit(frequency, recency, t) IS NULL AS is_null FROM cdnow WHERE false;

-- Degenerate data: no repeat purchases at all, one customer, two patterns.
SELECT (m).converged, (m).status, (m).r IS NULL AS r_null
FROM (SELECT retention.bgnbd_fit(0, 0, t) AS m FROM cdnow) s;
SELECT (m).converged, (m).status, (m).r IS NULL AS r_null, (m).se_r IS NULL AS se_null
FROM (SELECT retention.bgnbd_fit(2, 3.0, 10.0) AS m) s;
SELECT (m).converged, (m).status
FROM (SELECT retention.gammagamma_fit(x, 10.0) AS m FROM cdnow_m) s;
SELECT (m).converged, (m).status
FROM (SELECT retention.sbg_fit(3, true, 100) AS m) s;
-- NULL inputs are skipped
SELECT (retention.bgnbd_fit(f, r, t)).customers
FROM (VALUES (1, 1.0::float8, 2.0::float8), (NULL, 1.0, 2.0), (0, 0.0, NULL), (0, 0, 3), (2, 2, 4)) v(f, r, t);

-- Bad input: each is an error with a SQLSTATE.
\set VERBOSITY sqlstate
SELECT retention.bgnbd_fit(-1, 0, 5);
SELECT retention.bgnbd_fit(1, -2, 5);
SELECT retention.bgnbd_fit(1, 6, 5);
SELECT retention.bgnbd_fit(0, 2, 5);
SELECT retention.bgnbd_fit(1, 'NaN', 5);
SELECT retention.bgnbd_fit(1, 1, 'Infinity');
SELECT retention.bgnbd_fit(1, 1, 5, -3);
SELECT retention.bgnbd_fit(f, r, t, w) FROM (VALUES (1, 1.0::float8, 5.0::float8, 2::bigint), (1, 1.0, 5.0, -1)) v(f, r, t, w);
SELECT retention.bgnbd_fit(f, r, t) FROM (VALUES (1, 1.0::float8, 5.0::float8), (1, 'NaN', 5.0)) v(f, r, t);
SELECT retention.gammagamma_fit(2, 0);
SELECT retention.gammagamma_fit(2, -5.5);
SELECT retention.sbg_fit(0, true);
SELECT retention.sbg_fit(-1, false);
SELECT retention.bgbb_fit(3, 2, 6);
SELECT retention.bgbb_fit(1, 7, 6);
SELECT retention.bgbb_fit(1, 1, 0);
\set VERBOSITY default
SELECT retention.bgnbd_fit(1, 6, 5);
SELECT retention.gammagamma_fit(2, -5.5);

-- fit_state text form: canonical (sorted, merged), round-trips, validated.
SELECT 'rft:1,2,3,1;0,0,4,2;1,2,3,5'::retention.fit_state;
SELECT 'rft:'::retention.fit_state;
SELECT 'survival:1,1,10;4,0,90'::retention.fit_state::text::retention.fit_state;
SELECT (retention.sbg_fit_final('survival:1,1,369;2,1,163;7,0,241'::retention.fit_state)).converged;
SELECT retention.bgnbd_fit_final('spend:2,10,1'::retention.fit_state);
SELECT 'rft:1,2'::retention.fit_state;
SELECT 'rft:1,2,3,1;x'::retention.fit_state;
SELECT 'nonsense:1,2,3'::retention.fit_state;
SELECT 'rft:1,4,3,1'::retention.fit_state;
SELECT 'discrete:1,1,6,0'::retention.fit_state;
SELECT 'rft:1,2,3,1e999'::retention.fit_state;
SELECT retention.fit_state_combine('rft:1,2,3,1', 'spend:1,2,1');
-- combining adds the weights of equal patterns; a NULL side is the other side
SELECT retention.fit_state_combine('rft:1,2,3,1;0,0,5,2', 'rft:1,2,3,4;2,2,2,1') AS combined,
       retention.fit_state_combine(NULL, 'rft:0,0,1,1') AS left_null,
       retention.fit_state_combine('rft:0,0,1,1', NULL) AS right_null;

-- The state of a whole data set: text and binary round trips, compact pattern count.
CREATE TEMP TABLE states AS
SELECT retention.fit_state_rft_accum(NULL, 1, 1, 2) AS s;
SELECT s FROM states;
CREATE TEMP TABLE cdnow_state (s retention.fit_state);
INSERT INTO cdnow_state
SELECT ('rft:' || string_agg(format('%s,%s,%s,%s', frequency, recency, t, n), ';'))::retention.fit_state
FROM (SELECT frequency, recency, t, count(*) AS n FROM cdnow GROUP BY 1, 2, 3) g;
SELECT length(s::text) < 30000 AS compact, round((retention.bgnbd_fit_final(s)).log_likelihood::numeric, 1) AS ll
FROM cdnow_state;
COPY cdnow_state TO '/tmp/pg_retention_fit_state.bin' WITH (FORMAT binary);
CREATE TEMP TABLE cdnow_state2 (s retention.fit_state);
COPY cdnow_state2 FROM '/tmp/pg_retention_fit_state.bin' WITH (FORMAT binary);
SELECT a.s::text = b.s::text AS binary_round_trip FROM cdnow_state a, cdnow_state2 b;

-- Parallel aggregation: the plan has a Partial Aggregate and the fit equals the serial one.
CREATE TABLE cdnow_big AS SELECT c.* FROM cdnow c, generate_series(1, 20) g;
ANALYZE cdnow_big;
CREATE TEMP TABLE serial_fit AS SELECT retention.bgnbd_fit(frequency, recency, t) AS m FROM cdnow_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT retention.bgnbd_fit(frequency, recency, t) FROM cdnow_big;
SELECT (p.m).r = (s.m).r AND (p.m).alpha = (s.m).alpha AND (p.m).a = (s.m).a
       AND (p.m).b = (s.m).b AND (p.m).customers = 47140 AS parallel_equals_serial
FROM (SELECT retention.bgnbd_fit(frequency, recency, t) AS m FROM cdnow_big) p, serial_fit s;
RESET ALL;
DROP TABLE cdnow_big;

-- sBG from a survival table (Fader & Hardie 2007, regular customers, years 0-7).
SELECT round((m).alpha::numeric, 3) AS alpha, round((m).beta::numeric, 3) AS beta, (m).customers, (m).converged
FROM (SELECT retention.sbg_fit_survival(ARRAY[1000, 631, 468, 382, 326, 289, 262, 241]) AS m) s;
SELECT (retention.sbg_fit_survival(ARRAY[1000, 1000, 1000])).status;
SELECT retention.sbg_fit_survival(ARRAY[1000]);
SELECT retention.sbg_fit_survival(ARRAY[1000, 631, 700]);
SELECT retention.sbg_fit_survival(ARRAY[1000, NULL]);
SELECT retention.sbg_fit_survival(ARRAY[[1000, 600], [500, 400]]);
