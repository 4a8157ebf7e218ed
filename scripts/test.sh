#!/usr/bin/env bash
# Runs every pg_retention test suite on one PostgreSQL major version: builds or reuses that
# PostgreSQL (15: Debian's packages; 17, 18, 19: scripts/build_postgres.sh), builds the
# extension for it, installs it into a private copy under build/pgNN/, starts a throwaway
# cluster and runs pg_regress, the isolation specs and the TAP tests against it. Stops the
# cluster afterwards; exits non-zero on any failure. "ubsan" runs pg_regress once more on a
# UBSan build (see ubsan_install in lib.sh).
#
# "citus" runs test/citus/t on a Citus cluster (a coordinator and two workers), with Citus
# built from $CITUS_TARBALL (default ../shared/vendor/citus-13.2.2.tar.gz beside the checkout)
# into a cache outside the clone and installed into the private PostgreSQL (scripts/citus.sh).
#
# Usage: [PG_MAJOR=18] scripts/test.sh [regress|isolation|tap|citus|fuzz|ubsan ...]
#        (default: PostgreSQL 15, every suite that version supports)
#        PGR_TAP_TESTS='t/010_*.pl' runs only those TAP tests (paths as under test/).
#
# The TAP tests that move a cluster across major versions (pg_upgrade, pg_dump) take their
# "before" cluster from PostgreSQL 15, which is therefore built for too.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

# The suites major version $1 runs by default. A suite that exists only for some versions
# is added here per version: the Citus suite where Citus supports that version.
version_suites() {
	local s="regress isolation tap fuzz"
	# Citus 13.2 supports PostgreSQL 15, 16 and 17
	case $1 in 15 | 16 | 17) s="$s citus" ;; esac
	# the UBSan build's regression suite once, on the oldest supported version
	[ "$1" = "$PG_OLD_MAJOR" ] && s="$s ubsan"
	echo "$s"
}

suites=("$@")
[ ${#suites[@]} -eq 0 ] && read -ra suites <<<"$(version_suites "$PG_MAJOR")"
want() { [[ " ${suites[*]} " == *" $1 "* ]]; }
for s in "${suites[@]}"; do
	case $s in regress | isolation | tap | citus | fuzz | ubsan) ;; *) die "unknown suite: $s" ;; esac
done

if want fuzz; then need_packages clang; else need_packages; fi
say "PostgreSQL $PG_MAJOR: $("$PG_BINDIR/pg_config" --version), suites: ${suites[*]}"
build
# The install script is generated from src/sql/; in CI the committed copy must match.
if [ "${CI:-}" = true ] && [ -d .git ] && ! git diff --quiet -- 'pg_retention--*.sql'; then
	git --no-pager diff --stat -- 'pg_retention--*.sql'
	die "pg_retention--*.sql is out of step with src/sql/: run make and commit it"
fi
private_install
# pg_regress and pg_isolation_regress run in the checkout (the tests read test/data/) and
# write their results under build/pgNN
test_make() {
	make -C "$ROOT" -s PG_CONFIG="$PG_BINDIR/pg_config" TEST_OUTPUT="$VBUILD" "$@"
}

passed=0 failed=0
count() {	# count the passed and failed tests of pg_regress output in file $1
	local p f	# "test x ... ok" / "... FAILED" (15), "ok 3 - x" / "not ok 3 - x" (16 and later)
	p=$(grep -cE '^ok [0-9]+ |^(test| ) .*\.\.\. +ok' "$1" || true)
	f=$(grep -cE '^not ok [0-9]+ |\.\.\. +FAILED' "$1" || true)
	passed=$((passed + p)); failed=$((failed + f))
}
status=0

# run_prove NAME DIR TESTS BIN BINDIR ENV [EXTRA_DIR]: prove TESTS (under t/) of test directory
# DIR with the PostgreSQL of BIN (its pg_config in BINDIR) and the environment assignment ENV;
# output in build/pgNN/NAME.log, counted. PostgreSQL::Test::Cluster makes its own clusters from
# the binaries first on PATH, under $TESTDIR/tmp_check (fresh each time: clusters left by a
# failed run would stop the tests). The tests run as "postgres", so they run from a copy (with
# EXTRA_DIR beside t/) under build/pgNN, which it can enter.
run_prove() {
	local name=$1 dir=$2 tests=$3 bin=$4 bindir=$5 env=${6:-PGR_NONE=} extra=${7:-} tapdir="$VBUILD/$1" pgxs p f
	rm -rf "$tapdir" && mkdir -p "$tapdir/tmp_check" && cp -r "$dir" "$tapdir/t"
	[ -z "$extra" ] || cp -r "$extra" "$tapdir/"
	[ "$(id -u)" -ne 0 ] || chown -R postgres "$tapdir"
	pgxs=$("$bindir/pg_config" --pkglibdir)/pgxs
	(cd "$tapdir" && as_pg env PATH="$bin:$PATH" PG_REGRESS="$pgxs/src/test/regress/pg_regress" \
		TESTDIR="$tapdir" PERL5LIB="$pgxs/src/test/perl" "$env" \
		prove --timer $tests) 2>&1 | sed "s|^\(\[[0-9:]*\] \)\?t/|\1$dir/|" | tee "$VBUILD/$name.log" || status=1
	# known problems, marked TODO in the tests: listed, so that they are not forgotten
	grep -h 'not ok .* # TODO' "$tapdir"/tmp_check/log/regress_log_* "$tapdir"/log/regress_log_* 2>/dev/null |
		sed 's/^\[[^]]*\]([^)]*) /known problem (TODO): /' | tee -a "$VBUILD/$name.log" || true
	# prove --timer prefixes "[hh:mm:ss] " and appends the time
	p=$(grep -cE "^(\[[0-9:]+\] )?$dir/.* ok( |\$)" "$VBUILD/$name.log" || true)
	f=$(grep -cE "^(\[[0-9:]+\] )?$dir/.*(Failed|Dubious)" "$VBUILD/$name.log" || true)
	passed=$((passed + p)); failed=$((failed + f))
}

if want regress || want isolation; then
	start_cluster test-cluster
fi
if want regress; then
	say "pg_regress (output: $VBUILD/results, $VBUILD/regression.diffs)"
	rm -f "$VBUILD/regression.diffs"
	test_make regresscheck 2>&1 | tee "$VBUILD/regress.log" || status=1
	count "$VBUILD/regress.log"
	[ -f "$VBUILD/regression.diffs" ] && head -n 200 "$VBUILD/regression.diffs"
fi
if want isolation && [ -n "$(ls test/isolation/specs/*.spec 2>/dev/null)" ]; then
	say "isolation (output: $VBUILD/isolation)"
	rm -f "$VBUILD/isolation/regression.diffs"
	test_make isolationcheck 2>&1 | tee "$VBUILD/isolation.log" || status=1
	count "$VBUILD/isolation.log"
	[ -f "$VBUILD/isolation/regression.diffs" ] && head -n 200 "$VBUILD/isolation/regression.diffs"
fi
stop_cluster

if want tap && [ -n "$(ls test/t/*.pl 2>/dev/null)" ]; then
	# The cross-version tests need the extension installed into PostgreSQL 15 as well.
	new_bin=$PGBIN new_bindir=$PG_BINDIR
	if [ "$PG_MAJOR" != "$PG_OLD_MAJOR" ]; then
		(use_postgres "$PG_OLD_MAJOR" && build >/dev/null && private_install) || status=1
	fi
	old_bin="$BUILD/pg$PG_OLD_MAJOR/install$(pg_bindir "$PG_OLD_MAJOR")"
	say "TAP (PostgreSQL $PG_MAJOR; old version for the upgrade tests: $PG_OLD_MAJOR)"
	run_prove tap test/t "${PGR_TAP_TESTS:-t/*.pl}" "$new_bin" "$new_bindir" "PGR_OLD_INSTALL=$(dirname "$old_bin")" test/upgrade
fi

if want citus; then
	# Citus (docs/citus.md): built once per Citus and PostgreSQL version into a cache outside
	# the clone and copied into the private install (scripts/citus.sh)
	. scripts/citus.sh
	CITUS_TARBALL=${CITUS_TARBALL:-$(cd "$ROOT/.." && pwd)/shared/vendor/citus-13.2.2.tar.gz}
	say "Citus (PostgreSQL $PG_MAJOR; a coordinator and two workers)"
	if (citus_install "$PG_BINDIR/pg_config" "$VBUILD/install"); then
		run_prove citus test/citus/t 't/*.pl' "$PGBIN" "$PG_BINDIR"
	else
		failed=$((failed + 1)); status=1
	fi
fi

if want ubsan; then
	# The regression suite on a build where a signed overflow or an out-of-range float cast
	# ends the backend (a failed test) with a "runtime error:" report on its stderr, which
	# the server log keeps; any report fails the suite. (UBSAN_OPTIONS cannot help: the
	# runtime reads it from /proc/self/environ, which a backend has overwritten with its
	# process title by then.)
	ubsan_install
	start_cluster ubsan-cluster
	say "pg_regress (UBSan build; output: $VBUILD/ubsan)"
	rm -f "$VBUILD/ubsan/regression.diffs"
	mkdir -p "$VBUILD/ubsan"
	make -C "$ROOT" -s PG_CONFIG="$PG_BINDIR/pg_config" TEST_OUTPUT="$VBUILD/ubsan" regresscheck 2>&1 |
		tee "$VBUILD/ubsan.log" || status=1
	count "$VBUILD/ubsan.log"
	[ -f "$VBUILD/ubsan/regression.diffs" ] && head -n 200 "$VBUILD/ubsan/regression.diffs"
	stop_cluster
	if grep -q 'runtime error:' "$CLUSTER/server.log"; then
		grep 'runtime error:' "$CLUSTER/server.log"
		say "UBSan reported undefined behaviour (see $CLUSTER/server.log)"
		failed=$((failed + 1)); status=1
	fi
fi

if want fuzz; then
	# a short smoke run of the libFuzzer harness keeps it building and finds shallow bugs;
	# the long runs are done by hand (test/fuzz/README.md)
	say "fuzz (30 s smoke run of test/fuzz/period_fuzzer, PostgreSQL $PG_MAJOR headers)"
	if PG_CONFIG="$PG_BINDIR/pg_config" test/fuzz/build.sh >"$VBUILD/fuzz.log" 2>&1 &&
		test/fuzz/period_fuzzer -max_total_time=30 -print_final_stats=1 test/fuzz/corpus >>"$VBUILD/fuzz.log" 2>&1; then
		grep -E '^Done|number_of_executed_units' "$VBUILD/fuzz.log" || true
		passed=$((passed + 1))
	else
		tail -n 30 "$VBUILD/fuzz.log"
		failed=$((failed + 1)); status=1
	fi
fi

[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
printf '\npg%s: %d passed, %d failed\n' "$PG_MAJOR" "$passed" "$failed"
exit "$status"
