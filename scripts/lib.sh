# Shared helpers for scripts/demo.sh and scripts/test.sh: packages, build, a private install
# tree and a throwaway PostgreSQL cluster. Sourced, not run.

PG_MAJOR=15
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build"
PGBIN_SYS=/usr/lib/postgresql/$PG_MAJOR/bin

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install the Debian packages the build and the tests need, if any is missing.
need_packages() {
	local pkgs=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR libipc-run-perl make gcc "$@")
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && { choose_build_dir; return 0; }
	say "installing ${missing[*]}"
	[ "$(id -u)" -eq 0 ] || die "packages missing (${missing[*]}): run as root or install them first"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	# Debian's package starts a cluster of its own; the scripts use private ones only.
	command -v pg_ctlcluster >/dev/null && pg_ctlcluster $PG_MAJOR main stop 2>/dev/null || true
	choose_build_dir
}

# The server runs as "postgres" and reads the private install and the cluster from $BUILD:
# when root runs the scripts from a directory "postgres" cannot enter (under /root, say),
# use a directory under /tmp instead of build/.
choose_build_dir() {
	if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$ROOT"; then
		BUILD="${TMPDIR:-/tmp}/pg_retention-build-$(printf '%s' "$ROOT" | md5sum | cut -c1-8)"
		mkdir -p "$BUILD"
	fi
}

# Build the extension (warnings are errors when WERROR=1, as in CI).
build() {
	say "building"
	local flags="-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers"
	[ "${WERROR:-0}" = 1 ] && flags="$flags -Werror"
	make -C "$ROOT" -s PG_CONFIG=$PGBIN_SYS/pg_config PG_CFLAGS="$flags" >/dev/null
}

# Run a command as an OS user PostgreSQL accepts: root hands over to "postgres".
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Make a private copy of the PostgreSQL installation under build/install and install the
# extension into it, so tests exercise exactly this tree and leave the system alone.
# PostgreSQL finds its share and lib directories relative to its binaries, so the copy works.
private_install() {
	local dest="$BUILD/install"
	if [ ! -x "$dest$PGBIN_SYS/postgres" ]; then
		say "copying PostgreSQL $PG_MAJOR into build/install"
		mkdir -p "$dest/usr/lib/postgresql" "$dest/usr/share/postgresql"
		cp -a /usr/lib/postgresql/$PG_MAJOR "$dest/usr/lib/postgresql/"
		cp -a /usr/share/postgresql/$PG_MAJOR "$dest/usr/share/postgresql/"
	fi
	make -C "$ROOT" -s PG_CONFIG=$PGBIN_SYS/pg_config DESTDIR="$dest" install >/dev/null
	chmod a+rx "$BUILD" && chmod -R a+rX "$dest"
	PGBIN="$dest$PGBIN_SYS"
}

# Build the extension with UBSan from a copy of the tree under build/ubsan (so the normal
# build's objects stay as they are) and install it into a private PostgreSQL of its own,
# build/install-ubsan; sets PGBIN to it. Signed overflow and out-of-range float-to-integer
# casts then abort the backend with a report: -fno-wrapv comes after PGXS's -fwrapv (PG_CFLAGS
# is appended to CFLAGS), so signed overflow is undefined again and instrumented.
ubsan_install() {
	local copy="$BUILD/ubsan/tree" dest="$BUILD/install-ubsan"
	local san="-fsanitize=signed-integer-overflow,float-cast-overflow -fno-sanitize-recover=all"
	local flags="-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers"
	[ "${WERROR:-0}" = 1 ] && flags="$flags -Werror"
	say "building with UBSan (-fno-wrapv) into build/install-ubsan"
	rm -rf "$copy" && mkdir -p "$copy"
	cp -r "$ROOT/Makefile" "$ROOT"/*.control "$ROOT"/pg_retention--*.sql "$ROOT/src" "$copy/"
	find "$copy/src" \( -name '*.o' -o -name '*.bc' -o -name '*.so' \) -delete
	# with_llvm=no: no bitcode, so JIT cannot inline uninstrumented copies of our functions
	make -C "$copy" -s PG_CONFIG=$PGBIN_SYS/pg_config PG_CFLAGS="$flags $san -fno-wrapv" \
		PG_LDFLAGS="$san" with_llvm=no >/dev/null
	if [ ! -x "$dest$PGBIN_SYS/postgres" ]; then
		mkdir -p "$dest/usr/lib/postgresql" "$dest/usr/share/postgresql"
		cp -a /usr/lib/postgresql/$PG_MAJOR "$dest/usr/lib/postgresql/"
		cp -a /usr/share/postgresql/$PG_MAJOR "$dest/usr/share/postgresql/"
	fi
	make -C "$copy" -s PG_CONFIG=$PGBIN_SYS/pg_config DESTDIR="$dest" install >/dev/null
	chmod a+rx "$BUILD" && chmod -R a+rX "$dest"
	PGBIN="$dest$PGBIN_SYS"
}

# Start a throwaway cluster in build/$1 (a fresh data directory each time) on a private
# socket directory and port ($PGR_PORT, default 55432). Sets PGHOST, PGPORT, PGUSER.
start_cluster() {
	local name=$1
	CLUSTER="$BUILD/$name"
	stop_cluster
	rm -rf "$CLUSTER"
	mkdir -p "$CLUSTER/sock"
	chmod a+rx "$BUILD"
	[ "$(id -u)" -eq 0 ] && chown -R postgres "$CLUSTER"
	as_pg "$PGBIN/initdb" -D "$CLUSTER/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
	cat >>"$CLUSTER/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$CLUSTER/sock'
port = ${PGR_PORT:-55432}
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = ${PGR_SHARED_BUFFERS:-256MB}
work_mem = 64MB
max_worker_processes = 16
max_parallel_workers = 8
log_min_messages = warning
CONF
	[ -n "${PGR_EXTRA_CONF:-}" ] && printf '%s\n' "$PGR_EXTRA_CONF" >>"$CLUSTER/data/postgresql.conf"
	as_pg "$PGBIN/pg_ctl" -D "$CLUSTER/data" -l "$CLUSTER/server.log" -w start >/dev/null ||
		{ cat "$CLUSTER/server.log" >&2; die "the cluster did not start"; }
	export PGHOST="$CLUSTER/sock" PGPORT=${PGR_PORT:-55432} PGUSER=postgres
	trap stop_cluster EXIT
}

stop_cluster() {
	if [ -n "${CLUSTER:-}" ] && [ -f "$CLUSTER/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# Benchmarks' common set-up: build, install privately, start cluster build/$1 on port $PGR_PORT
# (default $2) with 2GB of shared buffers unless PGR_SHARED_BUFFERS says otherwise, create the
# extension, run generator $3 with customers=$4 and VACUUM ANALYZE the table $5 it makes.
bench_cluster() {
	local name=$1 port=$2 gen=$3 customers=$4 table=$5
	need_packages
	build
	private_install
	PGR_PORT=${PGR_PORT:-$port} PGR_SHARED_BUFFERS=${PGR_SHARED_BUFFERS:-2GB} start_cluster "$name"
	say "generating data for $customers customers ($gen)"
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE EXTENSION pg_retention'
	psql -X -q -v ON_ERROR_STOP=1 -v customers="$customers" -d postgres -f "$gen" >/dev/null
	psql -X -q -d postgres -c "VACUUM ANALYZE $table"
}
