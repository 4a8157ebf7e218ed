-- rfm_agg and rfm_holdout_agg: RFM summaries from raw purchases.
SET extra_float_digits = 0;
CREATE TEMP TABLE sample_lines (line text);
\copy sample_lines FROM PROGRAM 'tr -d "\r" < test/data/CDNOW_sample.txt'
CREATE TEMP TABLE purchases AS
SELECT f[2]::int AS customer_id, to_date(f[3], 'YYYYMMDD') AS purchased_on, f[5]::numeric AS amount
FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM sample_lines) s;
CREATE TEMP TABLE summary (id int, frequency int, recency float8, t float8);
\copy summary FROM 'test/data/cdnow_customers_summary.csv' WITH (FORMAT csv, HEADER)
CREATE TEMP TABLE summary_m (id int, x int, t_x float8, t float8, zbar float8);
\copy summary_m FROM PROGRAM 'tr -d "\r" < test/data/cdnow_customers_summary_with_transactions.csv' WITH (FORMAT csv, HEADER)
SELECT count(*) AS purchases, count(DISTINCT customer_id) AS customers FROM purchases;

-- The CDNOW sample summarised to the end of the calibration period, 1997-09-30, in weeks
-- from purchase days, reproduces the published summary: frequency exactly, recency, T and
-- the mean repeat-purchase value to the files' two decimals.
CREATE TEMP TABLE rfm AS
SELECT customer_id AS id, (retention.rfm_agg(purchased_on, amount, '1997-09-30', 'week')).*
FROM purchases GROUP BY customer_id;
SELECT count(*) AS customers,
       count(*) FILTER (WHERE r.frequency = s.frequency) AS frequency_equal,
       count(*) FILTER (WHERE round(r.recency::numeric, 2) = s.recency::numeric) AS recency_equal,
       count(*) FILTER (WHERE round(r.t::numeric, 2) = s.t::numeric) AS t_equal,
       count(*) FILTER (WHERE round(r.monetary_value::numeric, 2) = m.zbar::numeric) AS monetary_equal
FROM rfm r JOIN summary s USING (id) JOIN summary_m m USING (id);
SELECT id, frequency, round(recency::numeric, 2) AS recency, round(t::numeric, 2) AS t,
       round(monetary_value::numeric, 2) AS monetary_value
FROM rfm ORDER BY id LIMIT 5;

-- Time units and periods: customer 1 bought on 1997-01-01, 1997-01-18, 1997-08-02 and
-- 1997-12-12 (after the end, ignored).
SELECT unit, (r).*
FROM (SELECT u AS unit, retention.rfm_agg(purchased_on, amount, '1997-09-30', u) AS r
      FROM purchases, unnest(ARRAY['day', 'week', 'month']) u
      WHERE customer_id = 1 GROUP BY u) s ORDER BY unit;
SELECT period, (r).*
FROM (SELECT p AS period, retention.rfm_agg(purchased_on, amount, '1997-09-30', p, p) AS r
      FROM purchases, unnest(ARRAY['day', 'week', 'month']) p
      WHERE customer_id = 1 GROUP BY p) s ORDER BY period;
-- same-period purchases count once and their amounts add up
SELECT (retention.rfm_agg(d, a, '2026-03-31', 'day', 'month')).*
FROM (VALUES ('2026-01-05'::date, 10.00), ('2026-02-01', 5.00), ('2026-02-27', 7.50), ('2026-03-31', 1.00)) v(d, a);
SELECT (retention.rfm_agg(d, a, '2026-01-18', 'week', 'week')).*
FROM (VALUES ('2026-01-04'::date, 10.00), ('2026-01-05', 5.00), ('2026-01-11', 7.50)) v(d, a);
-- purchases in any order: ten purchases in six ISO weeks are five repeat weeks, also when
-- the ninth distinct entry fills the state's first buffer and the tenth repeats the week
-- that compaction leaves last (it was once counted twice)
SELECT (retention.rfm_agg(d, 1.0, '2026-01-01', 'week', 'week' ORDER BY i)).*
FROM unnest('{2025-11-23,2025-12-15,2025-11-28,2025-12-28,2025-12-15,2025-12-08,2025-12-23,2025-12-24,2025-12-06,2025-12-25}'::date[])
     WITH ORDINALITY v(d, i);
SELECT count(*) AS orders_tried, count(*) FILTER (WHERE (r).frequency = 5 AND (r).recency = 5) AS correct
FROM (SELECT retention.rfm_agg(d, 1.0, '2026-01-01', 'week', 'week' ORDER BY k) AS r
      FROM (SELECT g, d, random() AS k
            FROM generate_series(1, 200) g,
                 unnest('{2025-11-23,2025-12-15,2025-11-28,2025-12-28,2025-12-15,2025-12-08,2025-12-23,2025-12-24,2025-12-06,2025-12-25}'::date[]) d) s
      GROUP BY g) t;
-- a customer whose purchases are all after the end has no summary; NULL rows are skipped
SELECT retention.rfm_agg(d, 1.0, '2026-01-01') IS NULL AS no_summary
FROM (VALUES ('2026-02-01'::date)) v(d);
SELECT (retention.rfm_agg(d, a, '2026-01-10')).*
FROM (VALUES ('2026-01-01'::date, 1.0), (NULL, 2.0), ('2026-01-03', NULL), ('2026-01-05', 4.0)) v(d, a);

-- Amounts become float8 exactly as numeric::float8 makes them (rfm_agg decodes numerics
-- itself): the monetary value of a single repeat purchase is its amount.
SELECT a, (retention.rfm_agg(d, x, '2026-01-10')).monetary_value = a::float8 AS exact
FROM (VALUES (0.10), (29.33), (99999999.99), (-0.01), (1e20), (123456789012345.6789),
             (0.000001), (7), (-1234.5), (0.0), (1e-30)) v(a),
     LATERAL (VALUES ('2026-01-01'::date, 0::numeric), ('2026-01-02', a)) w(d, x)
GROUP BY a ORDER BY a;
SELECT setseed(0.5);
SELECT count(*) AS values_checked, count(*) FILTER (WHERE ok) AS exact
FROM (SELECT a, (retention.rfm_agg(d, x, '2026-01-10')).monetary_value = a::float8 AS ok
      FROM (SELECT DISTINCT round((random() * 10 ^ (random() * 14 - 2))::numeric, (random() * 6)::int) AS a
            FROM generate_series(1, 2000)) v,
           LATERAL (VALUES ('2026-01-01'::date, 0::numeric), ('2026-01-02', a)) w(d, x)
      GROUP BY a) s;

-- Calibration and holdout, as lifetimes' calibration_and_holdout_data: customer 1 made one
-- repeat purchase (1997-12-12, 26.48) in the holdout weeks 40-78.
SELECT (retention.rfm_holdout_agg(purchased_on, amount, '1997-09-30', '1998-06-30', 'week')).*
FROM purchases WHERE customer_id = 1;
SELECT count(*) AS customers, sum((h).frequency_holdout) AS holdout_repeat_days,
       round(avg((h).duration_holdout)::numeric, 2) AS duration_weeks
FROM (SELECT retention.rfm_holdout_agg(purchased_on, amount, '1997-09-30', '1998-06-30', 'week') AS h
      FROM purchases GROUP BY customer_id) s;

-- The summaries feed the fitting aggregates directly.
SELECT round((m).r::numeric, 3) AS r, round((m).alpha::numeric, 3) AS alpha,
       round((m).a::numeric, 3) AS a, round((m).b::numeric, 3) AS b
FROM (SELECT retention.bgnbd_fit(frequency, recency, t) AS m FROM rfm) s;

-- Parallel: a Partial Aggregate plan gives the same summaries.
CREATE TABLE purchases_big AS SELECT * FROM purchases;
ANALYZE purchases_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF)
SELECT retention.rfm_agg(purchased_on, amount, '1997-09-30', 'week') FROM purchases_big;
SELECT (p.r).frequency = (s.r).frequency AND (p.r).recency = (s.r).recency
       AND (p.r).t = (s.r).t AND abs((p.r).monetary_value - (s.r).monetary_value) < 1e-9 AS parallel_equals_serial
FROM (SELECT retention.rfm_agg(purchased_on, amount, '1998-06-30', 'week') AS r FROM purchases_big) p,
     (SELECT retention.rfm_agg(purchased_on, amount, '1998-06-30', 'week') AS r FROM purchases) s;
RESET ALL;
DROP TABLE purchases_big;

-- Bad input.
SELECT retention.rfm_agg(d, 1.0, '2026-01-01', 'fortnight') FROM (VALUES ('2025-12-01'::date)) v(d);
SELECT retention.rfm_agg(d, 1.0, '2026-01-01', 'week', 'year') FROM (VALUES ('2025-12-01'::date)) v(d);
SELECT retention.rfm_agg(d, 1.0, e) FROM (VALUES ('2025-12-01'::date, '2026-01-01'::date), ('2025-12-02', '2026-01-02')) v(d, e);
SELECT retention.rfm_agg(d, 1.0, 'infinity') FROM (VALUES ('2025-12-01'::date)) v(d);
SELECT retention.rfm_holdout_agg(d, 1.0, '2026-02-01', '2026-01-01', 'day') FROM (VALUES ('2025-12-01'::date)) v(d);
