#!/usr/bin/env bash
# Runs every pg_retention test suite: builds the extension, installs it into a private copy
# of PostgreSQL under build/, starts a throwaway cluster and runs pg_regress, the isolation
# specs and the TAP tests against it. Stops the cluster afterwards; exits non-zero on any
# failure; "ubsan" runs pg_regress once more on a UBSan build (see ubsan_install in lib.sh);
# "citus" runs test/citus/t on a Citus cluster (a coordinator and two workers), with Citus
# built from $CITUS_TARBALL (default ../shared/vendor/citus-13.2.2.tar.gz beside the checkout)
# into a cache outside the clone and installed into the private PostgreSQL (scripts/citus.sh).
# Usage: scripts/test.sh [regress|isolation|tap|citus|fuzz|ubsan ...]   (default: all suites)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(regress isolation tap citus fuzz ubsan)
want() { [[ " ${suites[*]} " == *" $1 "* ]]; }

if want fuzz; then need_packages clang; else need_packages; fi
build
# The install script is generated from src/sql/; in CI the committed copy must match.
if [ "${CI:-}" = true ] && [ -d .git ] && ! git diff --quiet -- 'pg_retention--*.sql'; then
	git --no-pager diff --stat -- 'pg_retention--*.sql'
	die "pg_retention--*.sql is out of step with src/sql/: run make and commit it"
fi
private_install
start_cluster test-cluster

passed=0 failed=0
count() {	# count "ok"/"FAILED" result lines of pg_regress-style output in file $1
	local p f
	p=$(grep -cE '^(ok|not ok|test| ) .*\.\.\. +ok' "$1" || true)
	f=$(grep -cE '\.\.\. +FAILED' "$1" || true)
	passed=$((passed + p)); failed=$((failed + f))
}
status=0
mk() { make -s PG_CONFIG=$PGBIN_SYS/pg_config "$@"; }

if want regress; then
	say "pg_regress"
	mk regresscheck 2>&1 | tee "$BUILD/regress.log" || status=1
	count "$BUILD/regress.log"
	[ -f regression.diffs ] && head -n 200 regression.diffs
fi
if want isolation && [ -n "$(ls test/isolation/specs/*.spec 2>/dev/null)" ]; then
	say "isolation"
	mk isolationcheck 2>&1 | tee "$BUILD/isolation.log" || status=1
	count "$BUILD/isolation.log"
	[ -f test/isolation/output/regression.diffs ] && head -n 200 test/isolation/output/regression.diffs
fi
# run_prove DIR NAME: run the TAP tests DIR/*.pl with prove, output in $BUILD/NAME.log.
# PostgreSQL::Test::Cluster makes its own clusters from the binaries first on PATH, under
# $TESTDIR/tmp_check (fresh each time: clusters left by a failed run would stop the tests).
# The tests run as "postgres", so they run from a copy under $BUILD, which it can enter.
run_prove() {
	local dir=$1 name=$2 tapdir="$BUILD/$2" p f
	rm -rf "$tapdir" && mkdir -p "$tapdir/tmp_check" && cp -r "$dir" "$tapdir/t"
	[ "$(id -u)" -ne 0 ] || chown -R postgres "$tapdir"
	(cd "$tapdir" && as_pg env PATH="$PGBIN:$PATH" PG_REGRESS="$PGBIN_SYS/../lib/pgxs/src/test/regress/pg_regress" \
		TESTDIR="$tapdir" PERL5LIB="$PGBIN_SYS/../lib/pgxs/src/test/perl" \
		prove --timer t/*.pl) 2>&1 | sed "s|^\(\[[0-9:]*\] \)\?t/|\1$dir/|" | tee "$BUILD/$name.log" || status=1
	# prove --timer prefixes "[hh:mm:ss] " and appends the time
	p=$(grep -cE "^(\[[0-9:]+\] )?$dir/.* ok( |\$)" "$BUILD/$name.log" || true)
	f=$(grep -cE "^(\[[0-9:]+\] )?$dir/.*(Failed|Dubious)" "$BUILD/$name.log" || true)
	passed=$((passed + p)); failed=$((failed + f))
}
if want tap && [ -n "$(ls test/t/*.pl 2>/dev/null)" ]; then
	say "TAP"
	run_prove test/t tap
fi
if want citus; then
	say "Citus (a coordinator and two workers; test/citus/t)"
	. scripts/citus.sh
	CITUS_TARBALL=${CITUS_TARBALL:-$(cd "$ROOT/.." && pwd)/shared/vendor/citus-13.2.2.tar.gz}
	citus_install "$PGBIN_SYS/pg_config" "$BUILD/install"
	run_prove test/citus/t citus
fi

stop_cluster

if want ubsan; then
	# The regression suite on a build where a signed overflow or an out-of-range float cast
	# ends the backend (a failed test) with a "runtime error:" report on its stderr, which
	# the server log keeps; any report fails the suite. (UBSAN_OPTIONS cannot help: the
	# runtime reads it from /proc/self/environ, which a backend has overwritten with its
	# process title by then.)
	ubsan_install
	start_cluster ubsan-cluster
	say "pg_regress (UBSan build)"
	mk regresscheck 2>&1 | tee "$BUILD/ubsan.log" || status=1
	count "$BUILD/ubsan.log"
	[ -f regression.diffs ] && head -n 200 regression.diffs
	stop_cluster
	if grep -q 'runtime error:' "$CLUSTER/server.log"; then
		grep 'runtime error:' "$CLUSTER/server.log"
		say "UBSan reported undefined behaviour (see build/ubsan-cluster/server.log)"
		failed=$((failed + 1)); status=1
	fi
fi

if want fuzz; then
	# a short smoke run of the libFuzzer harness keeps it building and finds shallow bugs;
	# the long runs are done by hand (test/fuzz/README.md)
	say "fuzz (30 s smoke run of test/fuzz/period_fuzzer)"
	if test/fuzz/build.sh >"$BUILD/fuzz.log" 2>&1 &&
		test/fuzz/period_fuzzer -max_total_time=30 -print_final_stats=1 test/fuzz/corpus >>"$BUILD/fuzz.log" 2>&1; then
		grep -E '^Done|number_of_executed_units' "$BUILD/fuzz.log" || true
		passed=$((passed + 1))
	else
		tail -n 30 "$BUILD/fuzz.log"
		failed=$((failed + 1)); status=1
	fi
fi

[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
printf '\ntests: %d passed, %d failed\n' "$passed" "$failed"
exit "$status"
