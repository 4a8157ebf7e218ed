--
-- Every aggregate runs as a parallel aggregate (Partial Aggregate in the workers, Finalize
-- Aggregate combining their states) and gives exactly the serial result.
--
SET search_path = public, retention;

SELECT setseed(0.25);
CREATE TABLE par_orders AS
SELECT s.c, date '2022-01-01' + s.start + floor(random() * s.life)::int AS d,
       round((random() * 80)::numeric, 2) AS amt
FROM (SELECT c, floor(random() * 900)::int AS start, 1 + floor(random() * 400)::int AS life,
             1 + floor(random() * 6)::int AS n
      FROM generate_series(1, 6000) c) s, generate_series(1, s.n);
ALTER TABLE par_orders SET (parallel_workers = 2);
ANALYZE par_orders;

-- serial results first
SET max_parallel_workers_per_gather = 0;
CREATE TABLE par_acts AS
SELECT c, activity_agg(customer_period(d, 'month'), amt) AS a FROM par_orders GROUP BY c;
ALTER TABLE par_acts SET (parallel_workers = 2);
ANALYZE par_acts;
CREATE TEMP TABLE serial_states AS
SELECT cohort_agg(a)::text AS cs, retention_agg(a)::text AS rs, activity_union(a)::text AS au,
       count(*) AS customers
FROM par_acts;
CREATE TEMP TABLE serial_union AS
SELECT cohort_union(cs)::text AS cu, retention_union(rs)::text AS ru
FROM (SELECT cohort_agg(a) AS cs, retention_agg(a) AS rs FROM par_acts GROUP BY c % 50) s;

-- now force parallel plans, with the workers (not the leader) doing the scanning
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;

EXPLAIN (COSTS OFF) SELECT cohort_agg(a), retention_agg(a), activity_union(a) FROM par_acts;
SELECT cohort_agg(a)::text = s.cs AS cohort_same, retention_agg(a)::text = s.rs AS retention_same,
       activity_union(a)::text = s.au AS union_same, count(*) = s.customers AS all_rows
FROM par_acts, serial_states s GROUP BY s.cs, s.rs, s.au, s.customers;

-- the one-pass aggregates over raw rows: each worker builds a map of the customers it saw,
-- the leader merges the maps (customers seen by several workers are united)
EXPLAIN (COSTS OFF)
SELECT cohort_agg(c, customer_period(d, 'month'), amt), retention_agg(c, customer_period(d, 'month')),
       activity_map_agg(c, customer_period(d, 'month'), amt) FROM par_orders;
SELECT cohort_agg(c, customer_period(d, 'month'), amt)::text = s.cs AS one_pass_cohort_same,
       retention_agg(c, customer_period(d, 'month'))::text = s.rs AS one_pass_retention_same,
       activity_map_agg(c, customer_period(d, 'month'), amt)::text
       = (SELECT string_agg(c || '=' || a::text, ';' ORDER BY c) FROM par_acts) AS map_same
FROM par_orders, serial_states s GROUP BY s.cs, s.rs;
-- rows of one customer spread over all workers
EXPLAIN (COSTS OFF)
SELECT cohort_agg(c % 7, customer_period(d, 'month'), amt) FROM par_orders;
SELECT cohort_agg(c % 7, customer_period(d, 'month'), amt)::text = s.cs AS spread_same
FROM par_orders, (SELECT cohort_agg(a)::text AS cs
                  FROM (SELECT activity_agg(customer_period(d, 'month'), amt) a FROM par_orders GROUP BY c % 7) x) s
GROUP BY s.cs;

-- activity_agg per customer: partial activities from the workers are merged per customer
-- (a table with many orders per customer, so that partial grouping pays off; tuples moved
-- through Gather priced as usual)
SET parallel_tuple_cost = 0.1;
CREATE TABLE par_many AS
SELECT g % 100 AS c, date '2022-01-01' + (g * 7919) % 700 AS d, ((g * 31) % 10000 / 100.0)::numeric(6, 2) AS amt
FROM generate_series(1, 100000) g;
ALTER TABLE par_many SET (parallel_workers = 2);
ANALYZE par_many;
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE serial_acts AS
SELECT c, activity_agg(customer_period(d, 'month'), amt)::text AS a, activity_agg(customer_period(d, 'quarter'))::text AS q
FROM par_many GROUP BY c;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF)
SELECT c, activity_agg(customer_period(d, 'month'), amt), activity_agg(customer_period(d, 'quarter')) FROM par_many GROUP BY c;
SELECT count(*) AS customers, count(*) FILTER (WHERE p.a <> s.a OR p.q <> s.q) AS differ
FROM (SELECT c, activity_agg(customer_period(d, 'month'), amt)::text AS a, activity_agg(customer_period(d, 'quarter'))::text AS q
      FROM par_many GROUP BY c) p
JOIN serial_acts s USING (c);

-- rolling states up in parallel
SET parallel_tuple_cost = 0;
CREATE TABLE par_states AS
SELECT c % 50 AS segment, cohort_agg(a) AS cs, retention_agg(a) AS rs FROM par_acts GROUP BY c % 50;
ALTER TABLE par_states SET (parallel_workers = 2);
EXPLAIN (COSTS OFF) SELECT cohort_union(cs), retention_union(rs) FROM par_states;
SELECT cohort_union(p.cs)::text = u.cu AS cohort_union_same, retention_union(p.rs)::text = u.ru AS retention_union_same,
       cohort_union(p.cs)::text = s.cs AS equals_whole
FROM par_states p, serial_union u, serial_states s GROUP BY u.cu, u.ru, s.cs;

DROP TABLE par_orders, par_acts, par_states, par_many;
RESET ALL;
