#!/usr/bin/env bash
# CLV benchmark: prints the time of each step and the ratios the CLV issue asks about, all
# measured in one run on one throwaway cluster (build/pgNN/bench-cluster, port $PGR_PORT, default
# 55511). Asserts nothing about wall time.
#
#   A. The CDNOW sample's raw orders tiled 100 times (691,900 orders, 235,700 customers):
#      building their RFM rows with rfm_agg, then fitting BG/NBD and Gamma-Gamma to them.
#   B. About 10M raw orders for 1M customers (test/bench/clv_gen_orders.sql, which follows the
#      BG/NBD story; the shared gen_orders.sql gives every customer about the same dropout
#      probability per purchase, where BG/NBD's a and b are not identified): raw orders ->
#      RFM in whole weeks -> BG/NBD and Gamma-Gamma fits -> 12-month CLV per customer, against
#      the plain SELECT customer_id, count(*), sum(amount) FROM orders GROUP BY 1.
#   C. Fits at scale: 150,000 customers of clv_gen_orders.sql summarised in days, so that
#      nearly every customer is a distinct pattern: the time of each model's fit against
#      building the RFM rows (the ratio the CLV issue asks for), BG/BB on the same customers
#      in weekly opportunities, 37 degenerate customers (frequency 79-81), and how long a
#      cancelled fit takes to stop (statement_timeout, measured from the timeout on).
#
# Usage: test/bench/clv_bench.sh [customers]   (default 1000000 for part B; 0 skips it)
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"
CUSTOMERS=${1:-1000000}
export PGR_PORT=${PGR_PORT:-55511}

need_packages
build
private_install
start_cluster bench-cluster
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE EXTENSION pg_retention'
# bench_ms(q): runs q and returns its time in ms on the server's clock (parts A and C time
# steps inside one session with it)
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
CREATE FUNCTION bench_ms(q text) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN EXECUTE q; RETURN 1000 * extract(epoch FROM clock_timestamp() - t0); END $$;
SQL

# run_timed LABEL SQL: runs SQL and prints (and remembers in T_<label>) its time in ms.
run_timed() {
	local label=$1 sql=$2 start end
	start=$(date +%s%N)
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "$sql" >/dev/null
	end=$(date +%s%N)
	printf -v "T_$label" '%d' $(((end - start) / 1000000))
	printf '%-58s %8d ms\n' "$label" $(((end - start) / 1000000))
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

say "A. CDNOW sample x 100"
tr -d '\r' <test/data/CDNOW_sample.txt | awk '{ print $2 "," $3 "," $5 }' |
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "
		CREATE TABLE cdnow_sample (id int, d text, amount numeric(10,2));
		COPY cdnow_sample FROM stdin WITH (FORMAT csv)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "
	CREATE TABLE tiled_orders AS
	SELECT id + 10000 * g AS customer_id, to_date(d, 'YYYYMMDD') AS ordered_on, amount
	FROM cdnow_sample, generate_series(0, 99) g;
	ANALYZE tiled_orders;
	SELECT count(*) AS orders, count(DISTINCT customer_id) AS customers FROM tiled_orders"
# Timed inside one session (server-side clock, warm caches, best and median of 5 rounds),
# so that psql start-up and connection set-up, a fixed ~10-20 ms each, do not blur steps of
# a few tens of milliseconds.
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d postgres <<'SQL'
CREATE TEMP TABLE runs (step text, ms float8);
DO $$
BEGIN
  FOR i IN 1..5 LOOP
    INSERT INTO runs VALUES ('build RFM rows from raw orders', bench_ms($q$
      CREATE TABLE tiled_rfm AS
      SELECT customer_id, (r).frequency, (r).recency, (r).t, (r).monetary_value
      FROM (SELECT customer_id, retention.rfm_agg(ordered_on, amount, '1997-09-30', 'week') AS r
            FROM tiled_orders GROUP BY customer_id) s$q$));
    INSERT INTO runs VALUES ('fit BG/NBD and Gamma-Gamma', bench_ms($q$
      CREATE TABLE tiled_models AS
      SELECT retention.bgnbd_fit(frequency, recency, t) AS bg,
             retention.gammagamma_fit(frequency, monetary_value) AS gg FROM tiled_rfm$q$));
    INSERT INTO runs VALUES ('fit both, no parallel workers', bench_ms($q$
      SET LOCAL max_parallel_workers_per_gather = 0;
      SELECT retention.bgnbd_fit(frequency, recency, t), retention.gammagamma_fit(frequency, monetary_value)
      FROM tiled_rfm$q$));
    INSERT INTO runs VALUES ('fit BG/NBD only', bench_ms($q$
      SELECT retention.bgnbd_fit(frequency, recency, t) FROM tiled_rfm$q$));
    IF i < 5 THEN
      DROP TABLE tiled_rfm, tiled_models;
    END IF;
  END LOOP;
END $$;
SELECT step, round(min(ms)::numeric, 1) AS best_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms
FROM runs GROUP BY step ORDER BY 3 DESC;
SELECT (bg).customers, (bg).patterns, round((bg).r::numeric, 3) AS r,
       round((bg).alpha::numeric, 3) AS alpha, round((bg).a::numeric, 3) AS a, round((bg).b::numeric, 3) AS b,
       round((gg).p::numeric, 2) AS p, round((gg).q::numeric, 2) AS q, round((gg).gamma::numeric, 2) AS gamma
FROM tiled_models;
WITH m AS (SELECT step, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS med, min(ms) AS best FROM runs GROUP BY step)
SELECT round(((SELECT med FROM m WHERE step LIKE 'fit BG/NBD and%') / (SELECT med FROM m WHERE step LIKE 'build%'))::numeric, 3) AS fit_over_rfm_median,
       round(((SELECT best FROM m WHERE step LIKE 'fit BG/NBD and%') / (SELECT best FROM m WHERE step LIKE 'build%'))::numeric, 3) AS fit_over_rfm_best,
       round(((SELECT med FROM m WHERE step LIKE 'fit both, no%') / (SELECT med FROM m WHERE step LIKE 'build%'))::numeric, 3) AS serial_fit_over_rfm_median,
       '< 0.10' AS issue_target;
SQL

say "C. fits at scale: 150,000 customers in days (test/bench/clv_gen_orders.sql)"
psql -X -q -v ON_ERROR_STOP=1 -v customers=150000 -d postgres -f test/bench/clv_gen_orders.sql
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "ALTER TABLE orders RENAME TO orders_c" -c "VACUUM ANALYZE orders_c"
psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d postgres <<'SQL'
CREATE TEMP TABLE runs (step text, ms float8);
CREATE TABLE degenerate AS
SELECT 79 + (i % 3) AS frequency, 300.0 + i AS recency, 400.0 + i AS t FROM generate_series(1, 37) i;
DO $$
BEGIN
  FOR i IN 1..5 LOOP
    INSERT INTO runs VALUES ('build RFM rows (days) from raw orders', bench_ms($q$
      CREATE TABLE rfm_c AS
      SELECT customer_id, (r).frequency, (r).recency, (r).t, (r).monetary_value
      FROM (SELECT customer_id, retention.rfm_agg(ordered_at::date, amount, '2026-01-01', 'day') AS r
            FROM orders_c GROUP BY customer_id) s$q$));
    INSERT INTO runs VALUES ('build RFM rows (weeks)', bench_ms($q$
      CREATE TABLE rfm_cw AS
      SELECT customer_id, (r).frequency, (r).recency::int AS recency, (r).t::int AS periods
      FROM (SELECT customer_id, retention.rfm_agg(ordered_at::date, amount, '2026-01-01', 'week', 'week') AS r
            FROM orders_c GROUP BY customer_id) s$q$));
    INSERT INTO runs VALUES ('fit BG/NBD', bench_ms($q$
      CREATE TABLE m_bg AS SELECT retention.bgnbd_fit(frequency, recency, t) AS m FROM rfm_c$q$));
    INSERT INTO runs VALUES ('fit MBG/NBD', bench_ms($q$
      CREATE TABLE m_mbg AS SELECT retention.mbgnbd_fit(frequency, recency, t) AS m FROM rfm_c$q$));
    INSERT INTO runs VALUES ('fit Pareto/NBD', bench_ms($q$
      CREATE TABLE m_pareto AS SELECT retention.paretonbd_fit(frequency, recency, t) AS m FROM rfm_c$q$));
    INSERT INTO runs VALUES ('fit Gamma-Gamma', bench_ms($q$
      CREATE TABLE m_gg AS SELECT retention.gammagamma_fit(frequency, monetary_value) AS m FROM rfm_c$q$));
    INSERT INTO runs VALUES ('fit BG/BB (weekly opportunities)', bench_ms($q$
      CREATE TABLE m_bgbb AS SELECT retention.bgbb_fit(frequency, recency, periods) AS m FROM rfm_cw WHERE periods >= 1$q$));
    INSERT INTO runs VALUES ('fit Pareto/NBD, 37 degenerate customers', bench_ms($q$
      SELECT retention.paretonbd_fit(frequency, recency, t) FROM degenerate$q$));
    INSERT INTO runs VALUES ('fit BG/NBD, 37 degenerate customers', bench_ms($q$
      SELECT retention.bgnbd_fit(frequency, recency, t) FROM degenerate$q$));
    IF i < 5 THEN
      DROP TABLE rfm_c, rfm_cw, m_bg, m_mbg, m_pareto, m_gg, m_bgbb;
    END IF;
  END LOOP;
END $$;
SELECT step, round(min(ms)::numeric, 1) AS best_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1) AS median_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)
              / (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FROM runs
                 WHERE step LIKE 'build RFM rows (days)%'))::numeric, 3) AS median_over_rfm_days
FROM runs GROUP BY step ORDER BY 3 DESC;
SELECT 'BG/NBD' AS model, (m).patterns, (m).converged, (m).iterations, round((m).log_likelihood::numeric, 1) AS ll FROM m_bg
UNION ALL SELECT 'MBG/NBD', (m).patterns, (m).converged, (m).iterations, round((m).log_likelihood::numeric, 1) FROM m_mbg
UNION ALL SELECT 'Pareto/NBD', (m).patterns, (m).converged, (m).iterations, round((m).log_likelihood::numeric, 1) FROM m_pareto
UNION ALL SELECT 'Gamma-Gamma', (m).patterns, (m).converged, (m).iterations, round((m).log_likelihood::numeric, 1) FROM m_gg
UNION ALL SELECT 'BG/BB', (m).patterns, (m).converged, (m).iterations, round((m).log_likelihood::numeric, 1) FROM m_bgbb;
SELECT (m).status AS degenerate_pareto_status FROM (SELECT retention.paretonbd_fit(frequency, recency, t) AS m FROM degenerate) s;
SQL
# Cancel latency: a fit longer than the timeout (the Pareto/NBD fit on four copies of the
# customers, with recency and T shifted so that the patterns stay distinct) is cancelled by
# statement_timeout; the time past the timeout is how long the cancel took to be honoured.
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE TABLE rfm_c4 AS
	SELECT frequency, recency + CASE WHEN frequency > 0 THEN k * 0.25 ELSE 0 END AS recency, t + k * 0.25 AS t
	FROM rfm_c, generate_series(0, 3) k"
for timeout in 100 250 400 550 700; do
	psql -X -q -d postgres -At -c "SET statement_timeout = $timeout" -c "DO \$\$
		DECLARE t0 timestamptz := statement_timestamp();
		BEGIN
			PERFORM retention.paretonbd_fit(frequency, recency, t) FROM rfm_c4;
			RAISE NOTICE 'cancel after % ms: the fit ended before it', $timeout;
		EXCEPTION WHEN query_canceled THEN
			RAISE NOTICE 'cancel after % ms: honoured % ms later', $timeout,
				round(1000 * extract(epoch FROM clock_timestamp() - t0) - $timeout, 1);
		END \$\$" 2>&1 | sed 's/^NOTICE:  //'
done

if [ "$CUSTOMERS" -gt 0 ]; then
	say "B. raw orders for $CUSTOMERS customers (test/bench/clv_gen_orders.sql)"
	psql -X -q -v ON_ERROR_STOP=1 -v customers="$CUSTOMERS" -d postgres -f test/bench/clv_gen_orders.sql
	psql -X -q -d postgres -c "VACUUM ANALYZE orders" -c "SELECT count(*) AS orders FROM orders"
	run_timed baseline_group_by "CREATE UNLOGGED TABLE baseline AS
		SELECT customer_id, count(*), sum(amount) FROM orders GROUP BY 1"
	run_timed pipeline_total "CREATE UNLOGGED TABLE rfm AS
		SELECT customer_id, (r).frequency, (r).recency, (r).t, (r).monetary_value
		FROM (SELECT customer_id, retention.rfm_agg(ordered_at::date, amount, '2026-01-01', 'week', 'week') AS r
		      FROM orders GROUP BY customer_id) s;
		CREATE UNLOGGED TABLE models AS
		SELECT retention.bgnbd_fit(frequency, recency, t) AS bg,
		       retention.gammagamma_fit(frequency, monetary_value) AS gg FROM rfm;
		CREATE UNLOGGED TABLE clv AS
		SELECT customer_id, retention.clv(bg, gg, frequency, recency, t, monetary_value, 12, 0.01, 4.345) AS clv
		FROM rfm, models"
	# the same pipeline step by step, for the breakdown (each step in its own session)
	run_timed step_rfm "CREATE UNLOGGED TABLE rfm2 AS
		SELECT customer_id, (r).frequency, (r).recency, (r).t, (r).monetary_value
		FROM (SELECT customer_id, retention.rfm_agg(ordered_at::date, amount, '2026-01-01', 'week', 'week') AS r
		      FROM orders GROUP BY customer_id) s"
	run_timed step_fits "CREATE UNLOGGED TABLE models2 AS
		SELECT retention.bgnbd_fit(frequency, recency, t) AS bg,
		       retention.gammagamma_fit(frequency, monetary_value) AS gg FROM rfm2"
	run_timed step_clv "CREATE UNLOGGED TABLE clv2 AS
		SELECT customer_id, retention.clv(bg, gg, frequency, recency, t, monetary_value, 12, 0.01, 4.345) AS clv
		FROM rfm2, models2"
	psql -X -d postgres -c "SELECT (bg).customers, (bg).patterns, (bg).converged, (gg).converged AS gg_converged,
		round((bg).r::numeric, 3) AS r, round((bg).alpha::numeric, 3) AS alpha,
		round((bg).a::numeric, 3) AS a, round((bg).b::numeric, 3) AS b FROM models2"
	echo "pipeline / GROUP BY ratio: $(ratio "$T_pipeline_total" "$T_baseline_group_by") (issue: <= 3)"
fi
stop_cluster
