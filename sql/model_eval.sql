-- Holdout evaluation and tracking: how good a fitted model is on the CDNOW data,
-- calibration to 1997-09-30 and a 39-week holdout (Fader, Hardie & Lee 2005).
SET extra_float_digits = 0;
CREATE TEMP TABLE sample_lines (line text);
\copy sample_lines FROM PROGRAM 'tr -d "\r" < test/data/CDNOW_sample.txt'
CREATE TEMP TABLE purchases AS
SELECT f[2]::int AS customer_id, to_date(f[3], 'YYYYMMDD') AS purchased_on, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM sample_lines) s;
CREATE TABLE holdout AS
SELECT customer_id, retention.rfm_holdout_agg(purchased_on, amount, '1997-09-30', '1998-06-30', 'week') AS h
FROM purchases GROUP BY customer_id;
CREATE TEMP TABLE models AS
SELECT retention.paretonbd_fit((h).frequency_cal, (h).recency_cal, (h).t_cal) AS pareto,
       retention.bgnbd_fit((h).frequency_cal, (h).recency_cal, (h).t_cal) AS bg,
       retention.mbgnbd_fit((h).frequency_cal, (h).recency_cal, (h).t_cal) AS mbg
FROM holdout;
SELECT round((pareto).r::numeric, 3) AS r, round((pareto).alpha::numeric, 2) AS alpha,
       round((pareto).s::numeric, 3) AS s, round((pareto).beta::numeric, 2) AS beta
FROM models;

-- Pareto/NBD, actual against expected holdout purchases by calibration frequency, as the
-- BTYD walkthrough (Dziurzynski, Wadsworth & McCarthy, "BTYD: Implementing Buy 'Til You
-- Die Models", pnbd.PlotFreqVsConditionalExpectedFrequency, censor 7) publishes them:
--   act 0.237 0.697 1.393 1.560 2.532 2.947 3.862 6.359
--   exp 0.138 0.600 1.196 1.714 2.399 2.907 3.819 6.403
--   bin 1411  439   214   100   62    38    29    64
-- (BTYD's estimates, r 0.553, alpha 10.580, s 0.606, beta 11.656, differ from ours in the
-- fourth digit, which moves two expected means by 0.001.)
CREATE TEMP TABLE eval AS
SELECT retention.holdout_agg(pareto, h) AS pareto, retention.holdout_agg(bg, h) AS bg,
       retention.holdout_agg(mbg, h) AS mbg
FROM holdout, models;
SELECT frequency, and_more, customers, actual, round(mean_actual::numeric, 3) AS act,
       round(mean_predicted::numeric, 3) AS exp
FROM eval, retention.holdout_table(pareto) ORDER BY frequency;
-- the totals and errors: 1,882 actual repeat purchase days in the holdout
SELECT 'Pareto/NBD' AS model, customers, actual, round(predicted::numeric, 1) AS predicted,
       round(mae::numeric, 4) AS mae, round(rmse::numeric, 4) AS rmse, round(bias::numeric, 4) AS bias,
       round(correlation::numeric, 4) AS correlation
FROM eval, retention.holdout_metrics(pareto)
UNION ALL
SELECT 'BG/NBD', customers, actual, round(predicted::numeric, 1), round(mae::numeric, 4), round(rmse::numeric, 4),
       round(bias::numeric, 4), round(correlation::numeric, 4)
FROM eval, retention.holdout_metrics(bg)
UNION ALL
SELECT 'MBG/NBD', customers, actual, round(predicted::numeric, 1), round(mae::numeric, 4), round(rmse::numeric, 4),
       round(bias::numeric, 4), round(correlation::numeric, 4)
FROM eval, retention.holdout_metrics(mbg);
-- the same figures computed in plain SQL from each customer's prediction
SELECT sum(a) AS actual, round(sum(p)::numeric, 1) AS predicted, round(avg(abs(p - a))::numeric, 4) AS mae,
       round(sqrt(avg((p - a) ^ 2))::numeric, 4) AS rmse, round(avg(p - a)::numeric, 4) AS bias,
       round(corr(p, a)::numeric, 4) AS correlation
FROM (SELECT (h).frequency_holdout AS a,
             retention.expected_purchases(bg, (h).duration_holdout, (h).frequency_cal, (h).recency_cal, (h).t_cal) AS p
      FROM holdout, models) s;
SELECT frequency, customers, actual, round(mean_predicted::numeric, 3) AS bg_exp
FROM eval, retention.holdout_table(bg, 3) ORDER BY frequency;
-- explicit columns give the same state as rfm_holdout rows
SELECT (SELECT retention.holdout_agg(bg, (h).frequency_cal, (h).recency_cal, (h).t_cal, (h).duration_holdout, (h).frequency_holdout)
        FROM holdout, models)::text = (SELECT bg::text FROM eval) AS columns_equal_rows;

-- BG/BB with weeks as transaction opportunities: 39 calibration weeks, 39 holdout weeks.
CREATE TEMP TABLE weekly AS
SELECT customer_id, retention.rfm_holdout_agg(purchased_on, amount, '1997-09-30', '1998-06-30', 'week', 'week') AS h
FROM purchases GROUP BY customer_id;
CREATE TEMP TABLE bgbb AS
SELECT retention.bgbb_fit((h).frequency_cal, (h).recency_cal::int, (h).t_cal::int) AS m FROM weekly WHERE (h).t_cal >= 1;
SELECT (m).converged, customers, actual, round(predicted::numeric, 1) AS predicted, round(mae::numeric, 4) AS mae
FROM bgbb, retention.holdout_metrics((SELECT retention.holdout_agg(m, (h).frequency_cal, (h).recency_cal::int, (h).t_cal::int,
                                                                (h).duration_holdout::int, (h).frequency_holdout)
                                      FROM weekly, bgbb WHERE (h).t_cal >= 1));

-- The state: text and binary round trips, parallel aggregation, combining.
SELECT bg::text::retention.holdout_state::text = bg::text AS text_round_trip FROM eval;
SELECT '/tmp/pg_retention_model_eval_' || current_setting('port') || '.bin' AS binfile \gset
CREATE TEMP TABLE eval_copy (s retention.holdout_state);
INSERT INTO eval_copy SELECT bg FROM eval;
COPY eval_copy TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE eval_copy2 (s retention.holdout_state);
COPY eval_copy2 FROM :'binfile' WITH (FORMAT binary);
SELECT a.s::text = b.s::text AS binary_round_trip FROM eval_copy a, eval_copy2 b;
SELECT 'none:0,0,0,0|0,0,0,0,0,0,0,0,0,0|'::retention.holdout_state AS empty_state,
       (retention.holdout_metrics('none:0,0,0,0|0,0,0,0,0,0,0,0,0,0|')).*;
CREATE TABLE holdout_big AS SELECT * FROM holdout, generate_series(1, 8) g;
ANALYZE holdout_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT retention.holdout_agg((SELECT bg FROM models), h) FROM holdout_big;
SELECT p.customers = 8 * 2357 AS all_customers, p.actual = 8 * 1882 AS all_purchases,
       round(p.predicted::numeric, 6) = round((8 * s.predicted)::numeric, 6) AS predicted_equal,
       round(p.correlation::numeric, 9) = round(s.correlation::numeric, 9) AS correlation_equal
FROM retention.holdout_metrics((SELECT retention.holdout_agg((SELECT bg FROM models), h) FROM holdout_big)) p,
     eval, retention.holdout_metrics(eval.bg) s;
RESET ALL;
SET extra_float_digits = 0;
DROP TABLE holdout_big;
SELECT (retention.holdout_metrics(retention.holdout_combine(bg, bg))).actual AS combined_actual,
       retention.holdout_combine(NULL, bg)::text = bg::text AS null_left,
       retention.holdout_combine(bg, NULL)::text = bg::text AS null_right
FROM eval;

-- Tracking: weekly repeat purchases of the cohort, actual against BG/NBD's expected, weeks
-- 1-78 from 1997-01-01 (FHL 2005, Figure 1). At the end of calibration (week 39) the
-- expected cumulative equals the sum of each customer's new-customer expectation over
-- their T (an independent formula), and the actual cumulative is the 2,457 calibration
-- repeat purchases; by week 78 it is 2,457 + 1,882 = 4,339.
CREATE TEMP TABLE activities AS
SELECT customer_id, retention.activity_agg(retention.customer_period(purchased_on, 'day')) AS a
FROM purchases GROUP BY customer_id;
CREATE TEMP TABLE tracking AS SELECT retention.tracking_agg(a) AS s FROM activities;
CREATE TEMP TABLE series AS
SELECT t.* FROM tracking, models, retention.tracking_table(bg, s, 'week', 7, '1997-09-30') t;
SELECT period, period_start, period_end, round(expected::numeric, 1) AS expected, actual,
       round(cumulative_expected::numeric, 1) AS cumulative_expected, cumulative_actual, holdout
FROM series WHERE period IN (1, 2, 12, 13, 39, 40, 77, 78) ORDER BY period;
SELECT count(*) AS weeks, count(*) FILTER (WHERE holdout) AS holdout_weeks, sum(actual) AS actual,
       round(sum(expected)::numeric, 6) = round(max(cumulative_expected)::numeric, 6) AS expected_adds_up,
       (SELECT round(sum(retention.expected_purchases(bg, (h).t_cal))::numeric, 1) FROM holdout, models) AS independent_week_39,
       round(max(cumulative_expected) FILTER (WHERE period = 39)::numeric, 1) AS tracking_week_39,
       (SELECT sum((h).frequency_cal) FROM holdout) AS calibration_repeats,
       max(cumulative_actual) FILTER (WHERE period = 39) AS tracking_actual_week_39
FROM series;
-- the other models, and BG/BB with weeks as opportunities (weekly activities)
SELECT 'Pareto/NBD' AS model, round(max(cumulative_expected)::numeric, 1) AS week_78
FROM tracking, models, retention.tracking_table(pareto, s, 'week', 7)
UNION ALL SELECT 'MBG/NBD', round(max(cumulative_expected)::numeric, 1)
FROM tracking, models, retention.tracking_table(mbg, s, 'week', 7)
UNION ALL SELECT 'BG/BB, weekly', round(max(cumulative_expected)::numeric, 1)
FROM bgbb, (SELECT retention.tracking_agg(retention.activity_agg(retention.customer_period(purchased_on, 'week')))
                   OVER () AS s FROM purchases GROUP BY customer_id LIMIT 1) w,
     retention.tracking_table(m, s, 1, '1997-09-30');
-- a month-long report, and rows beyond the data (the expected curve goes on)
SELECT count(*) AS rows, max(period_end) AS last_day, max(cumulative_actual) AS actual,
       round(max(cumulative_expected)::numeric, 1) > 4160 AS expected_keeps_growing
FROM tracking, models, retention.tracking_table(bg, s, 'week', 28, NULL, 25);
-- the state's text and binary forms, and parallel aggregation
SELECT length(s::text) < 5000 AS compact, s::text::retention.tracking_state::text = s::text AS text_round_trip,
       '1997-01-01:1,0;0,2'::retention.tracking_state AS small
FROM tracking;
CREATE TEMP TABLE tracking_copy (s retention.tracking_state);
INSERT INTO tracking_copy SELECT s FROM tracking;
COPY tracking_copy TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE tracking_copy2 (s retention.tracking_state);
COPY tracking_copy2 FROM :'binfile' WITH (FORMAT binary);
SELECT a.s::text = b.s::text AS binary_round_trip FROM tracking_copy a, tracking_copy2 b;
CREATE TABLE activities_big AS SELECT * FROM activities, generate_series(1, 10) g;
ANALYZE activities_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT retention.tracking_agg(a) FROM activities_big;
SELECT (SELECT sum(actual) FROM retention.tracking_table((SELECT bg FROM models),
                                                       (SELECT retention.tracking_agg(a) FROM activities_big))) AS parallel_actual;
RESET ALL;
SET extra_float_digits = 0;
DROP TABLE activities_big;
SELECT count(*) AS no_state FROM models, retention.tracking_table(bg, NULL);
SELECT retention.tracking_svg(bg, NULL) IS NULL AS no_chart FROM models;

-- The chart: well-formed XML, one point per week, the holdout marked, text escaped.
SELECT xml_is_well_formed_document(svg) AS well_formed,
       (length(svg) - length(replace(svg, '<circle', ''))) / length('<circle') AS points,
       svg LIKE '%>holdout</text>%' AS holdout_marked,
       svg LIKE '%stroke-dasharray="6,4"%' AS expected_dashed
FROM (SELECT retention.tracking_svg(bg, s, 'week', 7, '1997-09-30') AS svg FROM tracking, models) c;
SELECT retention.tracking_svg(bg, s, 'week', 7, '1997-09-30', NULL, true, 'Cumulative <CDNOW> & co')
       LIKE '%Cumulative &lt;CDNOW&gt; &amp; co%' AS title_escaped
FROM tracking, models;

-- Errors.
\set VERBOSITY sqlstate
SELECT retention.holdout_agg(bg, 2, 30.0, 38.0, 39, -1) FROM models;
SELECT retention.holdout_agg(bg, 2, 30.0, 38.0, -39, 1) FROM models;
SELECT retention.holdout_agg(bg, 2, 40.0, 38.0, 39, 1) FROM models;
SELECT retention.holdout_agg(m, 2, 3, 1, 5, 1) FROM bgbb;
SELECT retention.holdout_agg(b, 2, 30.0, 38.0, 39, 1)
FROM (SELECT bg AS b FROM models UNION ALL SELECT ROW(0.25, 4.4, 0.8, 2.4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)::retention.bgnbd_model) v;
SELECT retention.holdout_combine(bg, mbg) FROM eval;
SELECT * FROM eval, retention.holdout_table(bg, 0);
SELECT * FROM eval, retention.holdout_table(bg, 101);
SELECT 'bgnbd:1,2,3,4'::retention.holdout_state;
SELECT 'xyz:1,2,3,4|0,0,0,0,0,0,0,0,0,0|'::retention.holdout_state;
SELECT 'bgnbd:1,2,3,4|1,1,0,0,0,0,0,0,0,0|'::retention.holdout_state;
SELECT 'bgnbd:1,2,3,-4|1,1,0,0,0,0,0,0,0,0|0:1,1,0'::retention.holdout_state;
SELECT 'bgnbd:1,2,3,4|1,1,0,0,0,0,0,0,0,0|200:1,1,0'::retention.holdout_state;
SELECT 'bgnbd:1,2,3,4|1,1.5,0,0,0,0,0,0,0,0|0:1,1,0'::retention.holdout_state;
SELECT 'none:0,0,0,0|0,0,0,0,0,0,0,0,0,0|0:0,0,0'::retention.holdout_state;
TRUNCATE eval_copy;
CREATE TEMP TABLE bad_bin (b bytea);
INSERT INTO bad_bin VALUES ('\x0201'::bytea);
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY eval_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x0101'::bytea || float8send(1) || float8send(2) || float8send(3) || float8send(4)
                            || int8send(1) || int8send(1) || float8send(0) || float8send(0) || float8send(0)
                            || float8send(0) || float8send(0) || float8send(0) || float8send(0) || float8send(0)
                            || int4send(1) || int4send(0) || int8send(2) || int8send(1) || float8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY eval_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x0101'::bytea || float8send(1) || float8send(2) || float8send(3) || float8send(4)
                            || int8send(1) || int8send(1) || float8send(0) || float8send(0) || float8send(0)
                            || float8send(0) || float8send(0) || float8send(0) || float8send(0) || float8send(0)
                            || int4send(200));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY eval_copy FROM :'binfile' WITH (FORMAT binary);
SELECT count(*) FROM tracking, models, retention.tracking_table(bg, s, 'fortnight');
SELECT count(*) FROM tracking, models, retention.tracking_table(bg, s, NULL);
SELECT count(*) FROM tracking, models, retention.tracking_table(bg, s, 'week', 0);
SELECT count(*) FROM tracking, models, retention.tracking_table(bg, s, 'week', 7, NULL, 0);
SELECT count(*) FROM tracking, models, retention.tracking_table(bg, s, 'week', 7, NULL, 100000);
SELECT retention.tracking_svg(bg, s, 'week', 1, NULL, 3000) FROM tracking, models;
SELECT count(*) FROM models, retention.tracking_table(bg, (SELECT retention.tracking_agg(a) FROM (
         SELECT retention.activity_agg(retention.customer_period(purchased_on, 'retail_period')) AS a
         FROM purchases GROUP BY customer_id) x));
SELECT retention.tracking_agg(a)
FROM (SELECT retention.activity_agg(retention.customer_period(d, k))
      FROM (VALUES (date '2024-01-05', 'day'), (date '2024-01-05', 'week')) v(d, k) GROUP BY k) x(a);
SELECT retention.tracking_agg(a)
FROM (SELECT retention.activity_agg(retention.customer_period(d, 'day'))
      FROM (VALUES (date '1700-01-05'), (date '2024-01-05')) v(d) GROUP BY d) x(a);
SELECT '1997-01-01'::retention.tracking_state;
SELECT '1997-01-01:1,0;x'::retention.tracking_state;
SELECT '1997-01-01:1,0;0,2;'::retention.tracking_state;
SELECT '1997-01-01:1,0 junk'::retention.tracking_state;
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES (int2send(256::int2) || int4send(0) || int4send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY tracking_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES (int2send(256::int2) || int4send(0) || int4send(1) || int8send(-1) || int8send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY tracking_copy FROM :'binfile' WITH (FORMAT binary);
\set VERBOSITY default
SELECT retention.holdout_combine(bg, mbg) FROM eval;
SELECT count(*) FROM tracking, models, retention.tracking_table(bg, s, 'fortnight');
DROP TABLE holdout;
