#!/usr/bin/env bash
# Benchmark: a loyalty-tier refresh (retention.refresh_loyalty, rolling 12-month window,
# writing the tier table and the tier-history table) against the plain SQL that only sums
# each customer's spend over the window and buckets it (baseline.sql Q4), on ~9.5M generated
# orders (gen_orders.sql, 1M customers, 2023-2025). The program's tiers are Q4's buckets, so
# both give the same tier counts (printed). Timed in one session on the same data:
#   Q4                 the baseline, 3 runs (median), with the default parallel settings and serial
#   first refresh      empty tables, as of 2025-12-31: every customer replayed from all its rows,
#                      every tier row and the full history written (a one-time build)
#   next-day refresh   a day's orders (as many as an average day of the data, a tenth of them
#                      from new customers) and 100 late orders dated in 2025 are appended, then
#                      the program is refreshed as of 2026-01-01: the daily job's steady state
#                      (incremental: only customers with something new are replayed)
#   same-day refresh   nothing new: the cost of finding that out
#   full refresh       full_refresh => true as of the same day: every customer replayed again;
#                      its tier table is compared with the incremental one (must be 0 differences)
#   rebuild            rebuild => true: the same, and the history deleted and recorded again; it
#                      is compared with the incremental history (must be 0 differences)
# Each refresh runs once (it writes, so repeats would not be alike). Prints the times and
# refresh / Q4 ratios. Usage: test/bench/loyalty_bench.sh [customers]   (PGR_PORT, default 55442)
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
customers=${1:-1000000}

bench_cluster loyalty-bench-cluster 55442 test/bench/gen_orders.sql "$customers" orders

say "timing"
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d postgres <<'SQL'
SET TIME ZONE 'UTC';
CREATE FUNCTION pg_temp.ms(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN 1000 * extract(epoch FROM clock_timestamp() - t0);
END $$;
CREATE TEMP TABLE runs (test text, ms float8, rows_written bigint);
-- Q4 of baseline.sql: spend since 2025-01-01 (the 12 months up to the data's end, 2025-12-31)
\set q4 'SELECT tier, count(*) FROM (SELECT customer_id, CASE WHEN s >= 1000 THEN ''gold'' WHEN s >= 350 THEN ''silver'' WHEN s > 0 THEN ''bronze'' END tier FROM (SELECT customer_id, sum(amount) s FROM orders WHERE ordered_at >= timestamptz ''2025-01-01'' GROUP BY 1) x) y GROUP BY 1 ORDER BY 1'
SELECT pg_temp.ms(:'q4');	-- warm the cache
INSERT INTO runs SELECT 'Q4', pg_temp.ms(:'q4'), NULL FROM generate_series(1, 3);
SET max_parallel_workers_per_gather = 0;
INSERT INTO runs SELECT 'Q4 serial', pg_temp.ms(:'q4'), NULL FROM generate_series(1, 3);
RESET max_parallel_workers_per_gather;

SELECT retention.create_loyalty_program('bench', 'orders', 'customer_id', 'ordered_at', 'amount', 'rolling_months',
  '[{"name": "bronze", "rank": 1, "min_amount": 0.01}, {"name": "silver", "rank": 2, "min_amount": 350},
    {"name": "gold", "rank": 3, "min_amount": 1000}]', window_months => 12, base_tier => 'none') > 0 AS created;
CREATE FUNCTION pg_temp.refresh(d date, rebuild boolean DEFAULT false, OUT ms float8, OUT n bigint) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  n := retention.refresh_loyalty('bench', d, rebuild);
  ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
END $$;
INSERT INTO runs SELECT 'first refresh', ms, n FROM pg_temp.refresh('2025-12-31');
-- the same tiers as Q4 (customers without spend in the window are in the base tier "none")
SELECT tier, count(*) FROM bench_tiers WHERE tier <> 'none' GROUP BY 1 ORDER BY 1;
:q4;
VACUUM ANALYZE bench_tiers, bench_tier_history;
-- a day of new orders (the data's average per day) and 100 late ones
SELECT setseed(0.5);
INSERT INTO orders
SELECT CASE WHEN random() < 0.1 THEN 2000000000 + (random() * 5000)::bigint
            ELSE 1 + (random() * (SELECT max(customer_id) FROM orders WHERE customer_id < 2000000000))::bigint END,
       timestamptz '2026-01-01' + random() * interval '1 day', round((5 + random() * 95)::numeric, 2)
FROM generate_series(1, (SELECT (count(*) / 1096)::int FROM orders));
INSERT INTO orders
SELECT 1 + (random() * 100000)::bigint, timestamptz '2025-01-01' + random() * interval '364 days', round((5 + random() * 500)::numeric, 2)
FROM generate_series(1, 100);
INSERT INTO runs SELECT 'next-day refresh', ms, n FROM pg_temp.refresh('2026-01-01');
INSERT INTO runs SELECT 'same-day refresh', ms, n FROM pg_temp.refresh('2026-01-01');
CREATE TEMP TABLE incremental_tiers AS SELECT * FROM bench_tiers;
CREATE TEMP TABLE incremental_history AS SELECT * FROM bench_tier_history;
CREATE FUNCTION pg_temp.full_refresh(d date, OUT ms float8, OUT n bigint) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  n := retention.refresh_loyalty('bench', d, full_refresh => true);
  ms := 1000 * extract(epoch FROM clock_timestamp() - t0);
END $$;
INSERT INTO runs SELECT 'full refresh', ms, n FROM pg_temp.full_refresh('2026-01-01');
SELECT count(*) AS tier_rows_differing
FROM ((TABLE incremental_tiers EXCEPT TABLE bench_tiers) UNION ALL (TABLE bench_tiers EXCEPT TABLE incremental_tiers)) d;
-- the history against a rebuild, which deletes it and records every change again
INSERT INTO runs SELECT 'rebuild', ms, n FROM pg_temp.refresh('2026-01-01', true);
SELECT count(*) AS history_rows_differing
FROM ((TABLE incremental_history EXCEPT TABLE bench_tier_history) UNION ALL (TABLE bench_tier_history EXCEPT TABLE incremental_history)) d;
SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM bench_tiers) AS tier_rows,
       (SELECT count(*) FROM bench_tier_history) AS history_rows;

WITH q AS (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE test = 'Q4') AS q4,
                  percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE test = 'Q4 serial') AS q4s FROM runs)
SELECT r.test, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms)::numeric) AS ms, max(r.rows_written) AS rows_written,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms) / min(q.q4))::numeric, 2) AS ratio_to_q4,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms) / min(q.q4s))::numeric, 2) AS ratio_to_q4_serial
FROM runs r, q GROUP BY r.test ORDER BY CASE r.test WHEN 'Q4' THEN 0 WHEN 'Q4 serial' THEN 1
  WHEN 'first refresh' THEN 2 WHEN 'next-day refresh' THEN 3 WHEN 'same-day refresh' THEN 4 WHEN 'full refresh' THEN 5 ELSE 6 END;
SQL
stop_cluster
