-- RFM quintile scores, named segments and the at-risk reasons, on the CDNOW sample's
-- customers at the end of observation (1998-06-30): weeks since the last purchase, purchase
-- days, total spend.
SET extra_float_digits = 0;
CREATE TEMP TABLE sample_lines (line text);
\copy sample_lines FROM PROGRAM 'tr -d "\r" < test/data/CDNOW_sample.txt'
CREATE TEMP TABLE customers AS
SELECT customer_id, (r).t - (r).recency AS since_last, ((r).frequency + 1)::float8 AS purchases,
       spend::float8 AS monetary
FROM (SELECT f[2]::int AS customer_id,
             retention.rfm_agg(to_date(f[3], 'YYYYMMDD'), f[5]::numeric, '1998-06-30', 'week') AS r,
             sum(f[5]::numeric) AS spend
      FROM (SELECT regexp_split_to_array(btrim(line), '\s+') AS f FROM sample_lines) s
      GROUP BY 1) x;
CREATE TEMP TABLE scores AS
SELECT retention.rfm_score_agg(since_last, purchases, monetary) AS s FROM customers;
SELECT (s).customers, (s).recency_thresholds, (s).frequency_thresholds,
       (s).monetary_thresholds::numeric(10,2)[] AS monetary_thresholds
FROM scores;

-- The thresholds are the values at positions ceil(k N / 5) from worst to best, what
-- percentile_disc gives (recency: smaller is better, so counted from the largest).
SELECT array_agg(percentile_disc ORDER BY k) = (SELECT (s).recency_thresholds FROM scores) AS recency,
       (SELECT array_agg(v ORDER BY k) FROM (SELECT k, percentile_disc(k / 5.0) WITHIN GROUP (ORDER BY purchases) AS v
                                             FROM customers, generate_series(1, 4) k GROUP BY k) f)
       = (SELECT (s).frequency_thresholds FROM scores) AS frequency,
       (SELECT array_agg(v ORDER BY k) FROM (SELECT k, percentile_disc(k / 5.0) WITHIN GROUP (ORDER BY monetary) AS v
                                             FROM customers, generate_series(1, 4) k GROUP BY k) m)
       = (SELECT (s).monetary_thresholds FROM scores) AS monetary
FROM (SELECT k, percentile_disc(k / 5.0) WITHIN GROUP (ORDER BY since_last DESC)
      FROM customers, generate_series(1, 4) k GROUP BY k) r;

-- Scores: 1 plus the thresholds a value is better than, the same as written out in SQL;
-- ties get the same score, so the many customers with one purchase day share F = 1.
CREATE TEMP TABLE scored AS
SELECT c.*, (retention.rfm_score(s, since_last, purchases, monetary)).*
FROM customers c, scores;
SELECT count(*) FILTER (WHERE r = 1 + (SELECT count(*) FROM unnest((s).recency_thresholds) t WHERE since_last < t)
                          AND f = 1 + (SELECT count(*) FROM unnest((s).frequency_thresholds) t WHERE purchases > t)
                          AND m = 1 + (SELECT count(*) FROM unnest((s).monetary_thresholds) t WHERE monetary > t)) AS written_out_equal,
       count(*) AS customers
FROM scored, scores;
SELECT score, count(*) FILTER (WHERE r = score) AS r, count(*) FILTER (WHERE f = score) AS f,
       count(*) FILTER (WHERE m = score) AS m
FROM scored, generate_series(1, 5) score GROUP BY score ORDER BY score;

-- Segments, GROUP BY in one pass over the customers.
SELECT retention.rfm_segment(s, since_last, purchases, monetary) AS segment, count(*) AS customers,
       round(avg(purchases)::numeric, 2) AS avg_purchases, round(avg(since_last)::numeric, 1) AS avg_weeks_since_last,
       round(avg(monetary)::numeric, 2) AS avg_spend
FROM customers, scores GROUP BY 1 ORDER BY 2 DESC, 1;
SELECT bool_and(segment = retention.rfm_segment(s, since_last, purchases, monetary)) AS same_segment
FROM scored, scores;
-- the grid: recency score by the frequency-monetary class floor((F + M) / 2)
SELECT r, retention.rfm_segment(r, 1, 1) AS fm_1, retention.rfm_segment(r, 2, 2) AS fm_2,
       retention.rfm_segment(r, 3, 3) AS fm_3, retention.rfm_segment(r, 4, 4) AS fm_4,
       retention.rfm_segment(r, 5, 5) AS fm_5
FROM generate_series(5, 1, -1) r;
SELECT count(DISTINCT retention.rfm_segment(r, f, m)) AS segments_used,
       bool_and(retention.rfm_segment(r, f, m) = retention.rfm_segment(r, (f + m) / 2, (f + m + 1) / 2)) AS depends_on_fm_class
FROM generate_series(1, 5) r, generate_series(1, 5) f, generate_series(1, 5) m;

-- Parallel aggregation gives the same thresholds; the state's text and binary forms.
CREATE TABLE customers_big AS SELECT c.* FROM customers c, generate_series(1, 10) g;
ANALYZE customers_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT retention.rfm_score_agg(since_last, purchases, monetary) FROM customers_big;
SELECT (p.s).customers = 10 * (x.s).customers AS all_customers,
       (p.s).recency_thresholds = (x.s).recency_thresholds AND (p.s).frequency_thresholds = (x.s).frequency_thresholds
       AND (p.s).monetary_thresholds = (x.s).monetary_thresholds AS same_thresholds
FROM (SELECT retention.rfm_score_agg(since_last, purchases, monetary) AS s FROM customers_big) p, scores x;
RESET ALL;
SET extra_float_digits = 0;
DROP TABLE customers_big;
SELECT retention.rfm_quantile_combine(retention.rfm_quantile_accum(retention.rfm_quantile_accum(NULL, 3, 1, 10), 1, 1, 10.5),
                                      retention.rfm_quantile_accum(NULL, 3, 2, 0)) AS state;
SELECT '2|0:1,1:1|1:2|0:2'::retention.rfm_quantile_state::text AS text_round_trip,
       retention.rfm_score_final('5|0:1,1:1,2:1,3:1,4:1|1:5|0:1,1:1,2:1,3:1,4:1') AS final;
SELECT '/tmp/pg_retention_rfm_segment_' || current_setting('port') || '.bin' AS binfile \gset
CREATE TEMP TABLE qs (s retention.rfm_quantile_state);
INSERT INTO qs VALUES ('3|0:1,5:2|1:3|0.5:1,2:2');
COPY qs TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE qs2 (s retention.rfm_quantile_state);
COPY qs2 FROM :'binfile' WITH (FORMAT binary);
SELECT a.s::text = b.s::text AS binary_round_trip FROM qs a, qs2 b;
SELECT retention.rfm_score_agg(a, b, c) IS NULL AS no_customers FROM (VALUES (1.0::float8, NULL::float8, 1.0::float8)) v(a, b, c);

-- At risk: the reasons, in order, and NULL when none holds (a first scoring has no
-- previous values).
SELECT retention.at_risk(0.4, 0.9, 1.0, 1.1, 50) AS p_alive_fell,
       retention.at_risk(0.8, 0.85, 0.3, 1.0, 50) AS expected_fell,
       retention.at_risk(0.2, 0.25, 0.9, 1.0, 500, high_value => 400) AS valuable,
       retention.at_risk(0.8, 0.85, 0.9, 1.0, 500, high_value => 400) AS fine,
       retention.at_risk(0.2, NULL, 0.9, NULL, 50) AS first_scoring,
       retention.at_risk(0.5, 0.6, 0.5, 0.6, 50, p_alive_drop => 0.05) AS tighter;

-- Errors.
\set VERBOSITY sqlstate
SELECT retention.rfm_score_agg(-1, 1, 1);
SELECT retention.rfm_score_agg(1, 'NaN', 1);
SELECT retention.rfm_score_agg(1, 1, 'Infinity');
SELECT retention.rfm_score(s, -2, 1, 1) FROM scores;
SELECT retention.rfm_segment(ROW(10, '{1,2,3}', '{1,2,3,4}', '{1,2,3,4}')::retention.rfm_scores, 1, 1, 1);
SELECT retention.rfm_segment(ROW(10, '{4,3,2,1}', '{1,2,3,NULL}', '{1,2,3,4}')::retention.rfm_scores, 1, 1, 1);
SELECT retention.rfm_segment(ROW(10, '{1,2,3,4}', '{1,2,3,4}', '{1,2,3,4}')::retention.rfm_scores, 1, 1, 1);
SELECT retention.rfm_segment(ROW(10, NULL, '{1,2,3,4}', '{1,2,3,4}')::retention.rfm_scores, 1, 1, 1);
SELECT retention.rfm_segment(0, 1, 1);
SELECT retention.rfm_segment(1, 6, 1);
SELECT 'x'::retention.rfm_quantile_state;
SELECT '2|0:1|1:2|0:2'::retention.rfm_quantile_state;
SELECT '1|0:1|1:1'::retention.rfm_quantile_state;
SELECT '1|-1:1|1:1|0:1'::retention.rfm_quantile_state;
SELECT '1|0:0|1:1|0:1'::retention.rfm_quantile_state;
TRUNCATE qs2;
CREATE TEMP TABLE bad_bin (b bytea);
INSERT INTO bad_bin VALUES (int8send(1) || int4send(-1));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY qs2 FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES (int8send(2) || int4send(1) || float8send(1) || int8send(1)
                            || int4send(1) || float8send(1) || int8send(2) || int4send(1) || float8send(1) || int8send(2));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY qs2 FROM :'binfile' WITH (FORMAT binary);
\set VERBOSITY default
SELECT retention.rfm_segment(ROW(10, '{1,2,3,4}', '{1,2,3,4}', '{1,2,3,4}')::retention.rfm_scores, 1, 1, 1);
SELECT retention.rfm_score_agg(-1, 1, 1);
