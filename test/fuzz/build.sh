#!/usr/bin/env bash
# Builds the libFuzzer harness for customer_period's text input (needs clang; Debian: apt-get
# install clang). Usage: test/fuzz/build.sh && test/fuzz/period_fuzzer -max_total_time=600 test/fuzz/corpus
# PG_CONFIG picks the PostgreSQL whose headers and libpgport it uses (default: Debian's 15).
set -euo pipefail
cd "$(dirname "$0")"
pg_config=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
inc=$("$pg_config" --includedir-server)
# Debian keeps libpgport.a in the package's lib directory, a source build in libdir
pgport=$("$pg_config" --pkglibdir)/libpgport.a
[ -f "$pgport" ] || pgport=$("$pg_config" --libdir)/libpgport.a
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Wno-ignored-attributes -I"$inc" -I../../src -o period_fuzzer \
	period_fuzzer.c pg_stubs.c pg_unreachable.c ../../src/period.c \
	"$pgport" -lm
mkdir -p corpus
# seed corpus: one literal of every form (byte 0 even) and a few kind names (byte 0 odd)
i=0
for s in 2026-03-05 2026-W10 2026-W10/sun 2026-03 2026-Q1 2026-H1 2026 FY2026-M01/apr FY2026-Q1/apr \
	FY2026-H1/apr FY2026/apr R2023-W53 R2023-P12 R2023-Q4 R2023 0001-01-01 9999-12-31; do
	printf '\0%s' "$s" >corpus/seed_$((i++))
done
for k in day week week:sun month fiscal_quarter:apr fiscal_year:10 retail_period iso_week; do
	printf '\1%s' "$k" >corpus/seed_$((i++))
done
echo "built test/fuzz/period_fuzzer"
