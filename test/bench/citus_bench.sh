#!/usr/bin/env bash
# Benchmark: the main reports on a Citus cluster against the same reports on one node, in one
# run. A coordinator and two workers (scripts/citus.sh citus_cluster, ports PGR_PORT..+2,
# default 55443..55445; Citus built from $CITUS_TARBALL, default ../shared/vendor/), all on
# this machine, so the cluster has no more cores than one node: the ratios show what
# distribution costs or saves here, not a scale-out. gen_orders.sql's ~9.5M orders of 1M
# customers are generated on the coordinator as the local table orders_local, then copied into
# orders, distributed by customer_id over 32 shards. Each query runs on both tables in the
# same session, alternately, 3 times (median):
#   cohort one-pass     cohort_table(cohort_agg(customer_id, period, amount)) from raw orders
#   cohort two-step     cohort_table((SELECT cohort_agg(a) FROM (SELECT activity_agg ... GROUP
#                       BY customer_id))): the per-customer step runs whole on the shards
#   CRR series          retention_table of the two-step retention_agg
#   revenue             revenue_table of the two-step revenue_agg
#   RFM                 rfm_agg per customer (what the CLV models are fitted on; the fit itself
#                       runs on the coordinator either way)
# and, once each (they write): a loyalty program's first refresh, a next-day incremental
# refresh after a day of new orders, a full refresh; a cohort job's first refresh and its
# incremental refresh after the same new orders. The distributed jobs' tables are compared
# with the local ones (0 rows must differ). Usage: test/bench/citus_bench.sh [customers]
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
. "$ROOT/scripts/citus.sh"
cd "$ROOT"
customers=${1:-1000000}
CITUS_TARBALL=${CITUS_TARBALL:-$(cd "$ROOT/.." && pwd)/shared/vendor/citus-13.2.2.tar.gz}

need_packages
build
private_install
citus_install "$PG_BINDIR/pg_config" "$VBUILD/install"
PGR_SHARED_BUFFERS=${PGR_SHARED_BUFFERS:-1GB} citus_cluster citus-bench "${PGR_PORT:-55443}"

say "generating data for $customers customers"
psql -X -q -v ON_ERROR_STOP=1 -v customers="$customers" -d postgres -f test/bench/gen_orders.sql >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
ALTER TABLE orders RENAME TO orders_local;
CREATE TABLE orders (LIKE orders_local);
SELECT create_distributed_table('orders', 'customer_id');
INSERT INTO orders SELECT * FROM orders_local;
VACUUM ANALYZE orders_local;
VACUUM ANALYZE orders;
SQL

say "timing"
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d postgres <<'SQL'
SET TIME ZONE 'UTC';
SET client_min_messages = error;	-- Citus warns that functions in pg_temp stay on this node
CREATE FUNCTION pg_temp.ms(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN 1000 * extract(epoch FROM clock_timestamp() - t0);
END $$;
CREATE TEMP TABLE runs (report text, kind text, ms float8);
CREATE TEMP TABLE reports (report text, ord int, q text);
INSERT INTO reports VALUES
 ('cohort one-pass', 1, $q$SELECT count(*) FROM retention.cohort_table((SELECT retention.cohort_agg(customer_id, retention.customer_period(ordered_at, 'month', 'UTC'), amount) FROM %s))$q$),
 ('cohort two-step', 2, $q$SELECT count(*) FROM retention.cohort_table((SELECT retention.cohort_agg(a) FROM (SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) AS a FROM %s GROUP BY customer_id) x))$q$),
 ('CRR series', 3, $q$SELECT count(*) FROM retention.retention_table((SELECT retention.retention_agg(a) FROM (SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC')) AS a FROM %s GROUP BY customer_id) x))$q$),
 ('revenue', 4, $q$SELECT count(*) FROM retention.revenue_table((SELECT retention.revenue_agg(a) FROM (SELECT customer_id, retention.activity_agg(retention.customer_period(ordered_at, 'month', 'UTC'), amount) AS a FROM %s GROUP BY customer_id) x))$q$),
 ('RFM', 5, $q$SELECT count(*), sum((r).frequency) FROM (SELECT customer_id, retention.rfm_agg(retention.local_date(ordered_at, 'UTC'), amount, '2026-01-01', 'week') AS r FROM %s GROUP BY customer_id) x$q$);
-- warm both tables' caches, then alternate one node / cluster three times
SELECT pg_temp.ms(format(q, t)) FROM reports, unnest(ARRAY['orders_local', 'orders']) t WHERE ord = 1;
INSERT INTO runs SELECT report, CASE t WHEN 'orders' THEN 'cluster' ELSE 'one node' END, pg_temp.ms(format(q, t))
FROM generate_series(1, 3) i, reports, unnest(ARRAY['orders_local', 'orders']) t ORDER BY i, ord, t DESC;

-- writing refreshes, once each: a loyalty program and a cohort job on each table
SELECT retention.create_loyalty_program(n, s, 'customer_id', 'ordered_at', 'amount', 'rolling_months',
  '[{"name": "bronze", "rank": 1, "min_amount": 0.01}, {"name": "silver", "rank": 2, "min_amount": 350},
    {"name": "gold", "rank": 3, "min_amount": 1000}]', window_months => 12, base_tier => 'none',
  timezone => 'Asia/Tokyo', tier_table => n || '_tiers', history_table => n || '_history') > 0
FROM (VALUES ('club_local', 'orders_local'), ('club', 'orders')) v(n, s);
SELECT retention.create_cohort_job(n, s, 'customer_id', 'ordered_at', 'amount', 'month', n || '_activity', n || '_cohorts',
  '1 day', timezone => 'Asia/Tokyo', targets => t) > 0
FROM (VALUES ('job_local', 'orders_local', 'local'), ('job', 'orders', 'local'), ('job_dt', 'orders', 'distributed')) v(n, s, t);
INSERT INTO runs SELECT 'loyalty first refresh', k, pg_temp.ms(format('SELECT retention.refresh_loyalty(%L, %L)', n, '2025-12-31'))
FROM (VALUES ('club_local', 'one node'), ('club', 'cluster')) v(n, k);
INSERT INTO runs SELECT 'cohort job first refresh' || x, k, pg_temp.ms(format('SELECT retention.refresh_cohort_job(%L)', n))
FROM (VALUES ('job_local', 'one node', ''), ('job', 'cluster', ''), ('job_dt', 'cluster', ', distributed targets')) v(n, k, x);
-- a day of new orders (the data's average per day), the same rows in both tables
SELECT setseed(0.5);
CREATE TEMP TABLE day AS
SELECT 1 + (random() * 1000000)::bigint AS customer_id, timestamptz '2026-01-01' + random() * interval '1 day' AS ordered_at,
       round((5 + random() * 95)::numeric, 2) AS amount
FROM generate_series(1, (SELECT (count(*) / 1096)::int FROM orders_local));
INSERT INTO orders_local SELECT * FROM day;
INSERT INTO orders SELECT * FROM day;
INSERT INTO runs SELECT 'loyalty next-day refresh', k, pg_temp.ms(format('SELECT retention.refresh_loyalty(%L, %L)', n, '2026-01-01'))
FROM (VALUES ('club_local', 'one node'), ('club', 'cluster')) v(n, k);
INSERT INTO runs SELECT 'cohort job incremental refresh' || x, k, pg_temp.ms(format('SELECT retention.refresh_cohort_job(%L)', n))
FROM (VALUES ('job_local', 'one node', ''), ('job', 'cluster', ''), ('job_dt', 'cluster', ', distributed targets')) v(n, k, x);
INSERT INTO runs SELECT 'loyalty full refresh', k, pg_temp.ms(format('SELECT retention.refresh_loyalty(%L, %L, full_refresh => true)', n, '2026-01-01'))
FROM (VALUES ('club_local', 'one node'), ('club', 'cluster')) v(n, k);

-- the distributed source's tables equal the local source's
SELECT count(*) AS tier_rows_differing FROM ((SELECT * FROM club_tiers EXCEPT ALL SELECT * FROM club_local_tiers)
  UNION ALL (SELECT * FROM club_local_tiers EXCEPT ALL SELECT * FROM club_tiers)) d;
SELECT t AS job, (SELECT count(*) FROM ((SELECT * FROM job_local_cohorts EXCEPT ALL SELECT * FROM job_cohorts)
  UNION ALL (SELECT * FROM job_cohorts EXCEPT ALL SELECT * FROM job_local_cohorts)) d) AS cohort_rows_differing FROM (VALUES ('job')) v(t)
UNION ALL SELECT 'job_dt', (SELECT count(*) FROM ((SELECT * FROM job_local_cohorts EXCEPT ALL SELECT * FROM job_dt_cohorts)
  UNION ALL (SELECT * FROM job_dt_cohorts EXCEPT ALL SELECT * FROM job_local_cohorts)) d);
SELECT (SELECT count(*) FROM orders) AS orders, (SELECT count(*) FROM club_tiers) AS tier_rows;

-- medians; a distributed-targets job is compared with the local job of the same step
WITH m AS (SELECT report, kind, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
                  string_agg(round(ms)::text, ' ' ORDER BY ms) AS all_ms FROM runs GROUP BY report, kind)
SELECT c.report, round(o.ms::numeric) AS one_node_ms, round(c.ms::numeric) AS cluster_ms,
       round((c.ms / o.ms)::numeric, 2) AS cluster_over_one_node, o.all_ms AS one_node_runs, c.all_ms AS cluster_runs
FROM m c JOIN m o ON o.kind = 'one node' AND o.report = split_part(c.report, ',', 1)
WHERE c.kind = 'cluster'
ORDER BY CASE split_part(c.report, ',', 1) WHEN 'cohort one-pass' THEN 1 WHEN 'cohort two-step' THEN 2 WHEN 'CRR series' THEN 3
  WHEN 'revenue' THEN 4 WHEN 'RFM' THEN 5 WHEN 'loyalty first refresh' THEN 6 WHEN 'loyalty next-day refresh' THEN 7
  WHEN 'loyalty full refresh' THEN 8 WHEN 'cohort job first refresh' THEN 9 ELSE 10 END, c.report;
SQL
