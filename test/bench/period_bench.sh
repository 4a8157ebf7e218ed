#!/usr/bin/env bash
# Benchmark: customer_period(ts, 'month') against date_trunc('month', ts) on ~9.5M generated
# orders (gen_orders.sql, 1M customers), alone and under GROUP BY, serial and with 2 parallel
# workers, in a fixed-offset session time zone (UTC) and one with daylight saving time
# (America/New_York). Both sides run in the same session on the same data, alternating, 7 times each;
# the script prints median times, their ratio (period / date_trunc: below 1.0 is faster) and
# the ratio of the fastest runs, which other load on the machine disturbs least. The row
# "day: local_date" compares retention.local_date(ts, zone) (column period_ms) with the cast
# ts::date in the same session zone (column date_trunc_ms): what a loyalty refresh computes the
# day of each order with.
# Usage: test/bench/period_bench.sh [customers]   (PGR_PORT picks the port, default 55440)
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
customers=${1:-1000000}

bench_cluster bench-cluster 55440 test/bench/gen_orders.sql "$customers" orders

say "timing"
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d postgres <<'SQL'
SET work_mem = '256MB';
CREATE FUNCTION pg_temp.ms(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  EXECUTE q;
  RETURN 1000 * extract(epoch FROM clock_timestamp() - t0);
END $$;
CREATE TEMP TABLE runs (zone text, test text, workers int, side text, ms float8);
CREATE TEMP TABLE tests (test text, period_q text, trunc_q text);
INSERT INTO tests VALUES
 ('per row', 'SELECT count(retention.customer_period(ordered_at, ''month'')) FROM orders',
             'SELECT count(date_trunc(''month'', ordered_at)) FROM orders'),
 ('GROUP BY', 'SELECT retention.customer_period(ordered_at, ''month''), count(*) FROM orders GROUP BY 1',
              'SELECT date_trunc(''month'', ordered_at), count(*) FROM orders GROUP BY 1'),
 ('day: local_date', 'SELECT count(retention.local_date(ordered_at, ''$ZONE'')) FROM orders',
                     'SELECT count(ordered_at::date) FROM orders');
DO $$
DECLARE t record; w int; i int; z text;
BEGIN
  FOREACH z IN ARRAY ARRAY['UTC', 'America/New_York'] LOOP
  PERFORM set_config('timezone', z, false);
  FOREACH w IN ARRAY ARRAY[0, 2] LOOP
    PERFORM set_config('max_parallel_workers_per_gather', w::text, false);
    FOR t IN SELECT * FROM tests LOOP
      PERFORM pg_temp.ms(t.trunc_q);   -- warm the cache
      FOR i IN 1..7 LOOP
        IF i % 2 = 0 THEN
          INSERT INTO runs VALUES (z, t.test, w, 'period', pg_temp.ms(replace(t.period_q, '$ZONE', z)));
          INSERT INTO runs VALUES (z, t.test, w, 'date_trunc', pg_temp.ms(t.trunc_q));
        ELSE
          INSERT INTO runs VALUES (z, t.test, w, 'date_trunc', pg_temp.ms(t.trunc_q));
          INSERT INTO runs VALUES (z, t.test, w, 'period', pg_temp.ms(replace(t.period_q, '$ZONE', z)));
        END IF;
      END LOOP;
    END LOOP;
  END LOOP;
  END LOOP;
END $$;
SELECT (SELECT count(*) FROM orders) AS orders,
       (SELECT count(*) FROM (SELECT retention.customer_period(ordered_at, 'month') FROM orders GROUP BY 1) s) AS months,
       (SELECT count(*) FROM (SELECT date_trunc('month', ordered_at) FROM orders GROUP BY 1) s) AS months_date_trunc;
SELECT zone, test, workers,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'period')::numeric) AS period_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'date_trunc')::numeric) AS date_trunc_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'period') /
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE side = 'date_trunc'))::numeric, 2) AS ratio,
       round((min(ms) FILTER (WHERE side = 'period') / min(ms) FILTER (WHERE side = 'date_trunc'))::numeric, 2) AS ratio_of_fastest
FROM runs GROUP BY zone, test, workers ORDER BY zone DESC, workers, test;
SQL
stop_cluster
