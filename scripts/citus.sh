# Citus for the "citus" test suite and the Citus benchmark: builds Citus from its source
# tarball once per (Citus, PostgreSQL) version into a cache outside the clone, and copies the
# built files into a private PostgreSQL install. Sourced after scripts/lib.sh, not run.
#
#   CITUS_TARBALL  the Citus source tarball (.ci/run: ../shared/vendor/citus-13.2.2.tar.gz)
#   PGR_CACHE      the cache's root (default /var/cache/pg_retention); the build lives in
#                  $PGR_CACHE/citus-VERSION-pgPGVERSION/: src/ (the unpacked, patched tree),
#                  stage/ (make install DESTDIR=stage), build.log, and stage/.pg_retention-build,
#                  written last, naming the tarball's checksum and pg_config: a run that finds
#                  it reuses the build without compiling anything.
#
# PostgreSQL 15.20 and later 15.x declare have_createdb_privilege(), which Citus 13.2.2's
# pg_version_compat.h defines again; test/citus/citus-pg15.20.patch guards that definition
# and is applied when the server is 15.20 or later.

CITUS_PACKAGES=(libcurl4-openssl-dev liblz4-dev libzstd-dev libkrb5-dev)

# citus_install PG_CONFIG DEST: build (or reuse) Citus for the PostgreSQL of PG_CONFIG and copy
# it into the install tree DEST (the DESTDIR of a private_install).
citus_install() {
	local pg_config=$1 dest=$2
	local tarball=${CITUS_TARBALL:-}
	[ -n "$tarball" ] || die "CITUS_TARBALL is not set: point it at the Citus source tarball (citus-13.2.2.tar.gz)"
	[ -f "$tarball" ] || die "CITUS_TARBALL=$tarball: no such file"
	local name pgver pgnum sum cache stage stamp want
	name=$(basename "$tarball" .tar.gz)
	pgver=$("$pg_config" --version | awk '{print $2}')
	pgnum=$("$pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+)\.([0-9]+).*/\1 \2/' | awk '{printf "%d%04d", $1, $2}')
	sum=$(sha256sum "$tarball" | cut -c1-16)
	cache=${PGR_CACHE:-/var/cache/pg_retention}/$name-pg$pgver
	stage=$cache/stage
	stamp=$stage/.pg_retention-build
	want="$sum $pg_config"
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		citus_build "$tarball" "$pg_config" "$pgnum" "$cache" || die "building Citus failed: see $cache/build.log"
		echo "$want" >"$stamp"
	else
		say "Citus: reusing the build in $cache"
	fi
	cp -a "$stage/." "$dest/"
	rm -f "$dest/.pg_retention-build"
	chmod -R a+rX "$dest"
}

# citus_build TARBALL PG_CONFIG PG_VERSION_NUM CACHE: unpack, patch, configure, make and stage
# Citus under CACHE (about 2 minutes on 2 cores).
citus_build() {
	local tarball=$1 pg_config=$2 pgnum=$3 cache=$4 tree log
	need_packages "${CITUS_PACKAGES[@]}"
	say "building Citus from $tarball into $cache (log: $cache/build.log)"
	rm -rf "$cache" && mkdir -p "$cache/src" "$cache/stage"
	log=$cache/build.log
	tar -C "$cache/src" -xzf "$tarball"
	tree=$(find "$cache/src" -mindepth 1 -maxdepth 1 -type d | head -n 1)
	(
		if [ "$pgnum" -ge 150020 ] && [ "$pgnum" -lt 160000 ]; then
			(cd "$tree" && patch -p1 <"$ROOT/test/citus/citus-pg15.20.patch")
		fi
		cd "$tree" &&
			./configure PG_CONFIG="$pg_config" &&
			make -j"${PGR_JOBS:-2}" &&
			make install DESTDIR="$cache/stage"
	) >"$log" 2>&1 || { tail -n 40 "$log" >&2; return 1; }
}

# citus_cluster NAME PORT: a throwaway Citus cluster for benchmarks: a coordinator on PORT and
# two workers on PORT+1 and PORT+2, each a start_cluster under build/pgNN/NAME-{coord,w1,w2} with
# shared_preload_libraries = 'citus,pg_retention' (PGBIN must hold Citus: citus_install), set up
# in the documented order (docs/citus.md): citus on every node, the workers added, then
# pg_retention created on the coordinator, which Citus propagates to the workers. Leaves
# PGHOST/PGPORT pointing at the coordinator; stop_citus_cluster stops all three.
citus_cluster() {
	local name=$1 port=$2 i
	CITUS_NODES=()
	for i in 2 1 0; do
		local n=$name-coord
		[ "$i" -gt 0 ] && n=$name-w$i
		# citus.local_hostname: Citus's connections to the node itself go to its socket
		PGR_PORT=$((port + i)) PGR_EXTRA_CONF="shared_preload_libraries = 'citus,pg_retention'
max_connections = 200
citus.shard_count = 32
citus.local_hostname = '$VBUILD/$n/sock'
${PGR_EXTRA_CONF:-}" start_cluster "$n"
		CITUS_NODES+=("$CLUSTER")
		trap stop_citus_cluster EXIT
		psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE EXTENSION citus'
	done
	psql -X -q -v ON_ERROR_STOP=1 -d postgres \
		-c "SELECT citus_set_coordinator_host('$PGHOST', $port)" \
		-c "SELECT citus_add_node('${CITUS_NODES[0]}/sock', $((port + 2)))" \
		-c "SELECT citus_add_node('${CITUS_NODES[1]}/sock', $((port + 1)))" \
		-c 'CREATE EXTENSION pg_retention' >/dev/null
}

stop_citus_cluster() {
	local c
	for c in "${CITUS_NODES[@]}"; do
		CLUSTER=$c stop_cluster
	done
}
