#!/usr/bin/env bash
# The pg_retention demo: installs what is missing, builds and installs the extension, starts a
# throwaway cluster (data under build/pg15/demo-cluster; build/pgNN/ with PG_MAJOR=NN), loads
# the CDNOW orders and prints reports.
# Each report is a file in scripts/demo/, run in file-name order.
# PGR_KEEP=1 leaves the cluster running afterwards (the script prints how to connect and stop it).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

need_packages
build
if [ "$PG_MAJOR" = 15 ]; then
	say "installing into $("$PG_BINDIR/pg_config" --pkglibdir)"
	[ "$(id -u)" -eq 0 ] || die "make install needs root: run the demo as root (or with sudo)"
	ext_make install >/dev/null
	PGBIN=$PG_BINDIR
else
	# another version (PG_MAJOR) is a cached build shared by every checkout: install privately
	private_install
fi
PGR_PORT=${PGR_PORT:-55433}
# preload the library so the scheduler background worker runs the demo's cohort job
PGR_EXTRA_CONF=${PGR_EXTRA_CONF:-"shared_preload_libraries = 'pg_retention'
retention.naptime = '1s'"}
start_cluster demo-cluster

say "loading CDNOW (test/data/CDNOW_master.txt: 23,570 customers, 69,659 orders, 1997-01 to 1998-06)"
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
CREATE EXTENSION pg_retention;
CREATE TABLE orders (customer_id int NOT NULL, ordered_on date NOT NULL, cds int NOT NULL, amount numeric(10,2) NOT NULL);
SQL
tail -n +2 test/data/CDNOW_master.txt | tr -d '\r' | awk '{ print $1 "," $2 "," $3 "," $4 }' |
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c '\copy orders FROM stdin WITH (FORMAT csv)'
psql -X -q -d postgres -c 'ANALYZE orders'

for f in scripts/demo/*.sql; do
	psql -X -q -v ON_ERROR_STOP=1 -P pager=off -d postgres -f "$f"
done

if [ "${PGR_KEEP:-0}" = 1 ]; then
	trap - EXIT
	say "the cluster keeps running: psql -h $PGHOST -p $PGPORT -U postgres postgres"
	echo "    stop it with: runuser -u postgres -- $PGBIN/pg_ctl -D $CLUSTER/data stop"
else
	say "done (PGR_KEEP=1 keeps the cluster running for a look around)"
fi
