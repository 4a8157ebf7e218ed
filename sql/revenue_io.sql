--
-- revenue_state: text and binary forms, invalid values, and every user-facing error of the
-- revenue aggregates (negative MRR, NULLs, mixed period kinds, empty input).
--
SET search_path = retention, public;

CREATE TEMP TABLE rio (c int, p customer_period, mrr numeric);
INSERT INTO rio VALUES (1, '2024-01', 100), (1, '2024-02', 120), (2, '2024-02', 50.5), (2, '2024-04', 20),
                       (3, '2024-01', 0), (3, '2024-03', 10.0001);
CREATE TEMP TABLE rio_acts AS SELECT c, activity_agg(p, mrr) AS a FROM rio GROUP BY c;

-- text form: periods with data, 12 counters each (amounts in decimal)
SELECT revenue_agg(a) FROM rio_acts;
SELECT revenue_agg(a)::text::revenue_state::text = revenue_agg(a)::text AS text_round_trip FROM rio_acts;
SELECT period, mrr_start, new_mrr, expansion_mrr, churned_mrr, reactivation_mrr, mrr_end, nrr, quick_ratio
FROM revenue_table('2024-01|4|0:1,100,1,100,0,0,0,0,0,0,0,0;1:2,170.5,1,50.5,1,20,0,0,0,0,2,170.5;2:1,10.0001,1,10.0001,0,0,0,0,0,0,1,10.0001;3:1,20,0,0,0,0,0,0,1,20,1,20');
-- partial states (as Citus ships them) may carry empty periods: the accessor skips them
SELECT * FROM revenue_table('2024-01|1|');
SELECT period, mrr_start, new_mrr, mrr_end FROM revenue_table('2024-01|3|1:1,10,1,10,0,0,0,0,0,0,1,10');

-- binary round trip through COPY (FORMAT binary)
SELECT '/tmp/pg_retention_revenue_' || current_setting('port') || '.bin' AS binfile \gset
CREATE TEMP TABLE rstates AS SELECT revenue_agg(a) AS rs FROM rio_acts;
COPY rstates TO :'binfile' WITH (FORMAT binary);
CREATE TEMP TABLE rstates_copy (rs revenue_state);
COPY rstates_copy FROM :'binfile' WITH (FORMAT binary);
SELECT s.rs::text = c.rs::text AS binary_round_trip FROM rstates s, rstates_copy c;
-- a revenue state is no span state, nor a cohort state
CREATE TEMP TABLE span_only (ss span_state);
COPY span_only FROM :'binfile' WITH (FORMAT binary);
SELECT '2024-01|1|0:1,10,1,10,0,0,0,0,0,0,1,10'::span_state;
-- bad binary input: unknown version, then a period outside the range
CREATE TEMP TABLE bad_bin (b bytea);
INSERT INTO bad_bin VALUES ('\x0901'::bytea || customer_period_send('2024-01') || int4send(1) || int4send(0));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY rstates_copy FROM :'binfile' WITH (FORMAT binary);
TRUNCATE bad_bin;
INSERT INTO bad_bin VALUES ('\x0101'::bytea || customer_period_send('2024-01') || int4send(1) || int4send(1)
                            || int4send(3));
COPY bad_bin TO :'binfile' WITH (FORMAT binary);
COPY rstates_copy FROM :'binfile' WITH (FORMAT binary);

-- bad text input: syntax, then values no aggregate can produce
SELECT 'nonsense'::revenue_state;
SELECT '2024-01|0|'::revenue_state;
SELECT '2024-01|2|1:1,10,1,10,0,0,0,0,0,0,1,10;0:1,10,1,10,0,0,0,0,0,0,1,10'::revenue_state;
SELECT '2024-01|1|0:1,10,1,10,0,0,0,0,0,0,1'::revenue_state;
SELECT '2024-01|1|0:1,10,1,10,0,0,0,0,0,0,1,10x'::revenue_state;
SELECT '2024-13|1|0:1,10,1,10,0,0,0,0,0,0,1,10'::revenue_state;
SELECT '2024-01|1|0:1,-10,1,10,0,0,0,0,0,0,1,10'::revenue_state;
SELECT '2024-01|1|0:1,10,1,0,0,0,0,0,0,0,1,10'::revenue_state;
SELECT '2024-01|1|0:2,10,1,10,0,0,0,0,0,0,1,10'::revenue_state;
SELECT '2024-01|1|0:1,10,0,0,0,0,0,0,1,10,1,10'::revenue_state;
SELECT '2024-01|2|0:1,10,1,10,0,0,0,0,0,0,0,0;1:1,10,0,0,1,5,0,0,0,0,1,10'::revenue_state;
-- contraction beyond the MRR of the customers who stayed (the MRR still adds up: retained
-- MRR would be negative)
SELECT '2024-01|2|0:1,10,1,10,0,0,0,0,0,0,0,0;1:2,5,1,10,0,0,1,15,0,0,0,0'::revenue_state;

-- errors users can meet
-- negative MRR (refunds must be netted first)
SELECT revenue_agg(a) FROM (SELECT activity_agg(p, mrr) AS a FROM (VALUES ('2024-01'::customer_period, -5::numeric)) v(p, mrr)) s;
-- NULL MRR, NULL period
SELECT activity_agg(p, mrr) FROM (VALUES ('2024-01'::customer_period, NULL::numeric)) v(p, mrr);
SELECT activity_agg(p, mrr) FROM (VALUES (NULL::customer_period, 1::numeric)) v(p, mrr);
-- MRR with more than four decimal places, and NaN
SELECT activity_agg('2024-01', 1.00001);
SELECT activity_agg('2024-01', 'NaN');
-- mixed period kinds in one aggregate, and in a union of states
SELECT revenue_agg(a) FROM (SELECT activity_agg(p, 1) AS a FROM (VALUES ('2024-01'::customer_period), ('2024-Q1')) v(p) GROUP BY p) s;
SELECT revenue_union(s) FROM (VALUES ('2024-01|1|0:1,10,1,10,0,0,0,0,0,0,1,10'::revenue_state),
                                     ('2024-Q1|1|0:1,10,1,10,0,0,0,0,0,0,1,10'::revenue_state)) v(s);
-- a customer without revenue after a paying one of another kind
SELECT revenue_agg(a) FROM (SELECT activity_agg(p, m) AS a FROM (VALUES ('2024-01'::customer_period, 1), ('2024-Q1', 0)) v(p, m) GROUP BY p, m ORDER BY m DESC) s;

-- no input, NULL activities, customers who never paid: no state, no rows
SELECT revenue_agg(a) IS NULL AS no_state FROM rio_acts WHERE false;
SELECT revenue_agg(NULL::customer_activity) IS NULL AS no_state;
SELECT revenue_agg(a) IS NULL AS no_state FROM (SELECT activity_agg('2024-01'::customer_period, 0) AS a) s;
SELECT count(*) FROM revenue_table(NULL);
-- NULL activities are skipped among others
SELECT revenue_agg(a)::text = (SELECT revenue_agg(a) FROM rio_acts)::text AS nulls_skipped
FROM (SELECT a FROM rio_acts UNION ALL SELECT NULL) s;
-- cohort NRR where the cohort had no revenue at age 0: NULL rate
SELECT * FROM cohort_nrr_table((SELECT cohort_agg(a) FROM rio_acts)) ORDER BY cohort, age;
