#!/usr/bin/env bash
# Benchmark of the cohort-refresh job: on ~9.5M generated orders (gen_orders.sql, 1M customers),
# the time of a full refresh against an incremental refresh after appending 1% new orders
# (existing and new customers, dates spread over the whole history, so many rows are "late").
# The full refresh is timed on the same data as the incremental one (after the append), and the
# incremental result is checked against it. Prints both times and the ratio incremental / full.
# Usage: test/bench/jobs_bench.sh [customers]   (PGR_PORT picks the port, default 55441)
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
customers=${1:-1000000}

bench_cluster jobs-bench-cluster 55441 test/bench/gen_orders.sql "$customers" orders

say "timing"
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d postgres <<'SQL'
SET work_mem = '256MB';
SET TIME ZONE 'UTC';
CREATE FUNCTION pg_temp.ms(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN 1000 * extract(epoch FROM clock_timestamp() - t0);
END $$;
CREATE TEMP TABLE times (step text, rows bigint, ms float8);
SELECT retention.create_cohort_job('bench', 'orders', 'customer_id', 'ordered_at', 'amount', 'month',
       'bench_activity', 'bench_cohorts', '1 day') IS NOT NULL AS created;
-- the first run is a full build (the cold one, not compared)
INSERT INTO times SELECT 'initial build', (SELECT count(*) FROM orders),
       pg_temp.ms($$SELECT retention.refresh_cohort_job('bench')$$);
-- append 1% new orders: a third from new customers, the rest from existing ones
INSERT INTO orders
SELECT CASE WHEN random() < 0.33 THEN 1000000000 + (random() * 30000)::bigint
            ELSE 1 + (random() * (SELECT max(customer_id) FROM orders WHERE customer_id < 1000000000))::bigint END,
       timestamptz '2023-01-01' + random() * interval '1095 days',
       round((5 + random() * 95)::numeric, 2)
FROM generate_series(1, (SELECT count(*) / 100 FROM orders));
CHECKPOINT;
INSERT INTO times SELECT 'incremental, +1% orders', (SELECT count(*) / 101 FROM orders),
       pg_temp.ms($$SELECT retention.refresh_cohort_job('bench')$$);
CREATE TEMP TABLE incremental_result AS SELECT * FROM bench_cohorts;
CREATE TEMP TABLE incremental_activity AS SELECT customer_id, activity::text AS a FROM bench_activity;
INSERT INTO times SELECT 'full, same data', (SELECT count(*) FROM orders),
       pg_temp.ms($$SELECT retention.refresh_cohort_job('bench', full_refresh => true)$$);
SELECT step, rows, round(ms) AS ms FROM times;
SELECT round(((SELECT ms FROM times WHERE step LIKE 'incremental%') /
             (SELECT ms FROM times WHERE step = 'full, same data'))::numeric, 4) AS ratio_incremental_to_full;
SELECT (SELECT count(*) FROM ((TABLE incremental_result EXCEPT TABLE bench_cohorts)
                              UNION ALL (TABLE bench_cohorts EXCEPT TABLE incremental_result)) d) AS cohort_cells_differing,
       (SELECT count(*) FROM ((TABLE incremental_activity EXCEPT SELECT customer_id, activity::text FROM bench_activity)
                              UNION ALL (SELECT customer_id, activity::text FROM bench_activity EXCEPT TABLE incremental_activity)) d)
         AS activities_differing;
SQL
stop_cluster
