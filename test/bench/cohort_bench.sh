#!/usr/bin/env bash
# Cohort and retention benchmark: pg_retention against the plain-SQL baselines of
# test/bench/baseline.sql, both timed in this run on this server. Builds and installs the
# extension privately, starts its own cluster (build/pgNN/bench-cohort, port $PGR_PORT, default
# 55512), generates the seeded order table with gen_orders.sql, prints times and ratios, and
# checks that both sides computed the same figures. Asserts nothing about time.
# Usage: test/bench/cohort_bench.sh            (CUSTOMERS=1000000 by default)
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"

CUSTOMERS=${CUSTOMERS:-1000000}
export PGR_EXTRA_CONF="work_mem = 256MB
max_parallel_workers_per_gather = 2
jit = off"

bench_cluster bench-cohort 55512 test/bench/gen_orders.sql "$CUSTOMERS" orders
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
OUT="$VBUILD/cohort_bench.log"
: >"$OUT"

"${PSQL[@]}" -Atc "SELECT 'orders: ' || count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('orders')) FROM orders"

# Run one query ($2) in a fresh session with settings $3 (optional); print its result and
# remember its time in ms under name $1 (the best of $REPS runs).
REPS=${REPS:-2}
declare -A MS
timed() {
	local name=$1 sql=$2 settings=${3:-} best="" t res
	for _ in $(seq "$REPS"); do
		res=$("${PSQL[@]}" -At -c "$settings" -c '\timing on' -c "$sql" 2>&1)
		t=$(printf '%s\n' "$res" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
		[ -n "$t" ] || { printf '%s\n' "$res" >&2; die "no timing for $name"; }
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
	done
	MS[$name]=$best
	printf '%-34s %10.0f ms   %s\n' "$name" "$best" "$(printf '%s\n' "$res" | grep -v '^Time:' | tr '\n' ' ')" | tee -a "$OUT"
}

say "plain-SQL baselines (test/bench/baseline.sql)"
# baseline.sql's own queries, one at a time, taken from the file by their \echo labels
baseline() {	# the SQL text after the \echo line starting with "$1", up to the next \echo
	awk -v key="$1" '/^\\echo/ { on = index($0, "\\echo " key) == 1; next } on' test/bench/baseline.sql
}
timed "Q0 count(*) floor" "$(baseline 'Q0 floor: count')"
timed "Q1 monthly retention (plain)" "$(baseline 'Q1 ')"
timed "Q2 monthly cohort matrix (plain)" "$(baseline 'Q2 ')"

say "pg_retention"
ACT="retention.activity_agg(retention.customer_period(ordered_at, 'month'), amount)"
COHORT_SUM="SELECT count(*) FILTER (WHERE customers > 0), sum(customers) FROM retention.cohort_table"
RET_SUM="SELECT count(*), round(avg(retained::numeric / nullif(customers_start, 0)), 4) FROM retention.retention_table"
timed "cohort from orders (2-step)" \
	"$COHORT_SUM((SELECT retention.cohort_agg(a) FROM (SELECT $ACT AS a FROM orders GROUP BY customer_id) s))"
timed "retention from orders (2-step)" \
	"$RET_SUM((SELECT retention.retention_agg(a) FROM (SELECT $ACT AS a FROM orders GROUP BY customer_id) s))"
ONEPASS="retention.customer_period(ordered_at, 'month')"
timed "cohort from orders (one-pass)" \
	"$COHORT_SUM((SELECT retention.cohort_agg(customer_id, $ONEPASS, amount) FROM orders))"
timed "retention from orders (one-pass)" \
	"$RET_SUM((SELECT retention.retention_agg(customer_id, $ONEPASS) FROM orders))"
timed "cohort from orders (one-pass) serial" \
	"$COHORT_SUM((SELECT retention.cohort_agg(customer_id, $ONEPASS, amount) FROM orders))" \
	"SET max_parallel_workers_per_gather = 0"
REPS=1
timed "build customer_months" \
	"CREATE TABLE customer_months AS SELECT customer_id, $ACT AS activity FROM orders GROUP BY customer_id"
REPS=${REPS_STORED:-3}
"${PSQL[@]}" -c 'VACUUM ANALYZE customer_months'
"${PSQL[@]}" -Atc "SELECT 'customer_months: ' || count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('customer_months')) || ', avg activity ' || round(avg(pg_column_size(activity)), 1) || ' bytes' FROM customer_months" | tee -a "$OUT"
timed "cohort from customer_months" \
	"$COHORT_SUM((SELECT retention.cohort_agg(activity) FROM customer_months))"
timed "retention from customer_months" \
	"$RET_SUM((SELECT retention.retention_agg(activity) FROM customer_months))"
timed "cohort from customer_months serial" \
	"$COHORT_SUM((SELECT retention.cohort_agg(activity) FROM customer_months))" \
	"SET max_parallel_workers_per_gather = 0"
timed "cohort from orders (2-step) serial" \
	"$COHORT_SUM((SELECT retention.cohort_agg(a) FROM (SELECT $ACT AS a FROM orders GROUP BY customer_id) s))" \
	"SET max_parallel_workers_per_gather = 0"
"${PSQL[@]}" -c "EXPLAIN (COSTS OFF) SELECT retention.cohort_agg(activity) FROM customer_months" | tee -a "$OUT"
"${PSQL[@]}" -Atc "SELECT 'cohort state: ' || pg_column_size(retention.cohort_agg(activity)) || ' bytes, retention state: ' || pg_column_size(retention.retention_agg(activity)) || ' bytes' FROM customer_months" | tee -a "$OUT"

ratio() { awk -v a="${MS[$1]}" -v b="${MS[$2]}" 'BEGIN { printf "%.1f", a / b }'; }
say "ratios (plain SQL time / pg_retention time; same run, same server)"
{
	echo "monthly cohort matrix, from raw orders (2-step):      $(ratio 'Q2 monthly cohort matrix (plain)' 'cohort from orders (2-step)')x   (target >= 10x)"
	echo "monthly cohort matrix, from customer_months:          $(ratio 'Q2 monthly cohort matrix (plain)' 'cohort from customer_months')x   (target >= 40x)"
	echo "monthly cohort matrix, from raw orders (one-pass):    $(ratio 'Q2 monthly cohort matrix (plain)' 'cohort from orders (one-pass)')x   (target >= 10x)"
	echo "monthly CRR/churn series, from raw orders (2-step):   $(ratio 'Q1 monthly retention (plain)' 'retention from orders (2-step)')x   (target >= 10x)"
	echo "monthly CRR/churn series, from raw orders (one-pass): $(ratio 'Q1 monthly retention (plain)' 'retention from orders (one-pass)')x   (target >= 10x)"
	echo "monthly CRR/churn series, from customer_months:       $(ratio 'Q1 monthly retention (plain)' 'retention from customer_months')x"
	echo "2 parallel workers vs serial, from customer_months:   $(ratio 'cohort from customer_months serial' 'cohort from customer_months')x   (target >= 1.6x)"
	echo "2 parallel workers vs serial, from raw orders 2-step: $(ratio 'cohort from orders (2-step) serial' 'cohort from orders (2-step)')x"
	echo "2 parallel workers vs serial, raw orders one-pass:    $(ratio 'cohort from orders (one-pass) serial' 'cohort from orders (one-pass)')x"
} | tee -a "$OUT"
echo "(log: $OUT; the result columns after each time let you check both sides agree:"
echo " Q2 and the cohort queries print cells and customer-months; Q1 and the retention queries print periods and mean retention)"
stop_cluster
