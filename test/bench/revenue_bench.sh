#!/usr/bin/env bash
# Revenue benchmark: monthly MRR movements, GRR, NRR and quick ratio over 1M customers x 24
# months, pg_retention's revenue_agg/revenue_table against the plain-SQL window-function query
# of test/bench/revenue_baseline.sql, both timed in this run on this server. Builds and installs
# the extension privately, starts its own cluster (build/pgNN/bench-revenue, port $PGR_PORT, default
# 55514), generates seeded MRR with revenue_gen.sql, prints times and ratios, and checks that
# both sides computed the same figures. Asserts nothing about time.
# Usage: test/bench/revenue_bench.sh            (CUSTOMERS=1000000 by default)
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
cd "$ROOT"

CUSTOMERS=${CUSTOMERS:-1000000}
export PGR_EXTRA_CONF="work_mem = 256MB
max_parallel_workers_per_gather = 2
jit = off"

bench_cluster bench-revenue 55514 test/bench/revenue_gen.sql "$CUSTOMERS" mrr
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d postgres)
OUT="$VBUILD/revenue_bench.log"
: >"$OUT"

"${PSQL[@]}" -Atc "SELECT 'mrr: ' || count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('mrr')) FROM mrr" | tee -a "$OUT"

# Run one query ($2) in a fresh session; print a checksum of its result and remember its time
# in ms under name $1 (the best of $REPS runs).
REPS=${REPS:-1}
declare -A MS
timed() {
	local name=$1 sql=$2 best="" t res
	for _ in $(seq "$REPS"); do
		res=$("${PSQL[@]}" -At -c '\timing on' -c "$sql" 2>&1)
		t=$(printf '%s\n' "$res" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -1)
		[ -n "$t" ] || { printf '%s\n' "$res" >&2; die "no timing for $name"; }
		if [ -z "$best" ] || awk "BEGIN{exit !($t < $best)}"; then best=$t; fi
	done
	MS[$name]=$best
	printf '%-36s %10.0f ms   %s\n' "$name" "$best" "$(printf '%s\n' "$res" | grep -v '^Time:' | tr '\n' ' ')" | tee -a "$OUT"
}

# the same checksum of both sides: periods, total new, churned and end MRR, mean NRR and quick ratio
SUM="SELECT count(*), sum(new_mrr), sum(churned_mrr), sum(mrr_end), round(avg(nrr), 4), round(avg(quick_ratio), 4)"
BASE=$(cat test/bench/revenue_baseline.sql | grep -v '^--')
ACT="retention.activity_agg(retention.customer_period(month, 'month'), mrr)"

say "plain SQL (window functions)"
timed "plain SQL from mrr rows" "$SUM FROM ($BASE) b"

say "pg_retention"
timed "revenue from mrr rows (2-step)" \
	"$SUM FROM retention.revenue_table((SELECT retention.revenue_agg(a) FROM (SELECT $ACT AS a FROM mrr GROUP BY customer_id) s))"
timed "revenue from mrr rows (one-pass)" \
	"$SUM FROM retention.revenue_table((SELECT retention.revenue_agg(customer_id, retention.customer_period(month, 'month'), mrr) FROM mrr))"
timed "build customer_mrr" \
	"CREATE TABLE customer_mrr AS SELECT customer_id, $ACT AS activity FROM mrr GROUP BY customer_id"
"${PSQL[@]}" -c 'VACUUM ANALYZE customer_mrr'
"${PSQL[@]}" -Atc "SELECT 'customer_mrr: ' || count(*) || ' rows, ' || pg_size_pretty(pg_total_relation_size('customer_mrr')) FROM customer_mrr" | tee -a "$OUT"
timed "revenue from customer_mrr" \
	"$SUM FROM retention.revenue_table((SELECT retention.revenue_agg(activity) FROM customer_mrr))"
timed "cohort NRR from customer_mrr" \
	"SELECT count(*), round(avg(nrr), 4) FROM retention.cohort_nrr_table((SELECT retention.cohort_agg(activity) FROM customer_mrr))"
"${PSQL[@]}" -Atc "SELECT 'revenue state: ' || pg_column_size(retention.revenue_agg(activity)) || ' bytes' FROM customer_mrr" | tee -a "$OUT"

ratio() { awk -v a="${MS[$1]}" -v b="${MS[$2]}" 'BEGIN { printf "%.1f", a / b }'; }
say "ratios (plain SQL time / pg_retention time; same run, same server)"
{
	echo "MRR movements + NRR, from customer_mrr (stored activities): $(ratio 'plain SQL from mrr rows' 'revenue from customer_mrr')x   (target >= 5x)"
	echo "MRR movements + NRR, from raw mrr rows (one-pass):          $(ratio 'plain SQL from mrr rows' 'revenue from mrr rows (one-pass)')x   (target >= 5x)"
	echo "MRR movements + NRR, from raw mrr rows (2-step):            $(ratio 'plain SQL from mrr rows' 'revenue from mrr rows (2-step)')x"
} | tee -a "$OUT"
echo "(log: $OUT; the columns after each revenue time are the same checksum on both sides)"
stop_cluster
