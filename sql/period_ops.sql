--
-- customer_period operators, functions and index support.
--
SET search_path = retention, public;
SET datestyle = ISO;

-- comparison orders by kind, then by time
SELECT a, b, a < b AS lt, a <= b AS le, a = b AS eq, a <> b AS ne, a >= b AS ge, a > b AS gt
FROM (VALUES ('2026-03'::customer_period, '2026-04'::customer_period),
             ('2026-04', '2026-03'), ('2026-03', '2026-03'), ('2025-W52', '2026-W01')) v(a, b);
SELECT p FROM unnest(ARRAY['2026-02', '2025-12', '2026-W01', '2025-W52', '2026', '2026-01-01',
                           'R2025', 'FY2026/apr']::customer_period[]) p ORDER BY p;

-- arithmetic: + and - whole periods, p - q counts periods of one kind
SELECT '2026-03'::customer_period + 10 AS plus, 10 + '2026-03'::customer_period AS plus_commuted,
       '2026-03'::customer_period - 3 AS minus, '2026-01'::customer_period - '2024-11'::customer_period AS months,
       '2026-W01'::customer_period - 1 AS week_before, 'R2023-P12'::customer_period + 1 AS next_period,
       'R2023-W53'::customer_period + 1 AS next_week, 'FY2026-Q4/oct'::customer_period + 1 AS next_quarter,
       '2026-Q1'::customer_period - '2026-Q1'::customer_period AS zero,
       '2024-02-28'::customer_period + 1 AS leap_day;

-- start, end, kind, daterange, containment
SELECT p, start_date(p), end_date(p), p::daterange, kind(p),
       p @> start_date(p) AS has_start, p @> (end_date(p) - 1) AS has_last,
       p @> end_date(p) AS has_end, (end_date(p) - 1) <@ p AS last_in
FROM unnest(ARRAY['2026-03-05', '2026-W10', '2026-W10/sun', '2026-03', '2026-Q1', '2026-H2', '2026',
                  'FY2026-Q1/apr', 'R2023-P12', 'R2023-W53']::customer_period[]) p;
SELECT '2026-03'::customer_period @> 'infinity'::date AS infinite_date;

-- periods(from, to): inclusive, in order; empty when from > to
SELECT * FROM periods('2025-11', '2026-02');
SELECT * FROM periods('R2023-P11', 'R2024-P02');
SELECT count(*) AS weeks_2026 FROM periods('2026-W01', '2026-W53');
SELECT count(*) AS empty FROM periods('2026-03', '2026-01');
SELECT count(*) AS one FROM periods('2026-03', '2026-03');
SELECT count(*) AS all_days FROM periods('0001-01-01', '9999-12-31');

-- sorting, grouping, DISTINCT, indexes and joins
CREATE TEMP TABLE events AS
SELECT i, customer_period(date '2024-01-01' + (i * 7919 % 800), 'month') AS p
FROM generate_series(1, 5000) i;
CREATE INDEX ON events (p);
CREATE INDEX events_p_hash ON events USING hash (p);
ANALYZE events;
SELECT count(DISTINCT p) AS months, min(p), max(p) FROM events;
SELECT min(p), max(p) FROM (VALUES (NULL::customer_period)) v(p) WHERE false;
SELECT p, count(*) FROM events GROUP BY p ORDER BY p LIMIT 3;

SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM events WHERE p = '2024-06';
SELECT count(*) FROM events WHERE p = '2024-06';
EXPLAIN (COSTS OFF) SELECT count(*) FROM events WHERE p BETWEEN '2024-06' AND '2024-08';
SELECT count(*) FROM events WHERE p BETWEEN '2024-06' AND '2024-08';
EXPLAIN (COSTS OFF) SELECT p FROM events ORDER BY p DESC LIMIT 1;
DROP INDEX events_p_idx;
EXPLAIN (COSTS OFF) SELECT count(*) FROM events WHERE p = '2024-06';
SELECT count(*) FROM events WHERE p = '2024-06';
RESET enable_seqscan;
RESET enable_bitmapscan;

SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT p, count(*) FROM events GROUP BY p;
SELECT sum(n) AS grouped_total FROM (SELECT p, count(*) n FROM events GROUP BY p) s;
RESET enable_sort;
SET enable_hashagg = off;
EXPLAIN (COSTS OFF) SELECT p, count(*) FROM events GROUP BY p;
RESET enable_hashagg;

CREATE TEMP TABLE month_names AS
SELECT p, to_char(start_date(p), 'Mon YYYY') AS label FROM periods('2024-01', '2026-12') p;
ANALYZE month_names;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM events e JOIN month_names m USING (p);
SELECT count(*) FROM events e JOIN month_names m USING (p);
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM events e JOIN month_names m USING (p);
SELECT count(*) FROM events e JOIN month_names m USING (p);
RESET enable_hashjoin;
RESET enable_nestloop;

-- the hash functions agree with equality, and the seeded hash depends on the seed
SELECT customer_period_hash('2026-03') = customer_period_hash('2026-03'::text::customer_period) AS same_hash,
       customer_period_hash_extended('2026-03', 0) <> customer_period_hash_extended('2026-03', 1) AS seeded,
       customer_period_hash_extended('2026-03', 0) <> customer_period_hash_extended('2026-04', 0) AS distinct_values;

-- selectivity: the planner estimates from the column's statistics, not a default guess
CREATE FUNCTION pg_temp.estimate(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
  RETURN (plan -> 0 -> 'Plan' ->> 'Plan Rows')::float8;
END $$;
SELECT q, round(pg_temp.estimate('SELECT * FROM events WHERE ' || q)::numeric / actual, 1) AS estimate_over_actual
FROM (VALUES ('p < ''2024-03''', (SELECT count(*) FROM events WHERE p < '2024-03')),
             ('p >= ''2025-12''', (SELECT count(*) FROM events WHERE p >= '2025-12')),
             ('p = ''2024-06''', (SELECT count(*) FROM events WHERE p = '2024-06')),
             ('p <> ''2024-06''', (SELECT count(*) FROM events WHERE p <> '2024-06'))) v(q, actual);
-- min and max use the btree index (the plan without InitPlan's "(returns $0)", which
-- PostgreSQL 17 and later no longer print)
SET enable_seqscan = off;
CREATE INDEX events_p_idx2 ON events (p);
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
    RETURN NEXT regexp_replace(line, ' \(returns \$\d+\)$', '');
  END LOOP;
END $$;
SELECT * FROM pg_temp.plan('SELECT max(p) FROM events');
RESET enable_seqscan;

-- mixing kinds in arithmetic is an error; comparison of different kinds is a total order
SELECT '2026-03'::customer_period - '2026-Q1'::customer_period;
SELECT * FROM periods('2026-01', '2026-Q4');
SELECT '2026-03'::customer_period < '2026-Q1'::customer_period AS month_before_quarter;

-- arithmetic beyond the supported range
SELECT '9999-12'::customer_period + 1;
SELECT '0001-01'::customer_period - 1;
SELECT '2026-01'::customer_period + 2147483647;
SELECT 'R9998'::customer_period + 1;
