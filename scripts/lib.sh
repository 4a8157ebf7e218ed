# Shared helpers for scripts/demo.sh, scripts/test.sh and the benchmarks: packages, the
# PostgreSQL to build against, build, a private install tree and a throwaway cluster.
# Sourced, not run.
#
# PG_MAJOR picks the PostgreSQL major version (default 15). 15 is Debian 12's packages; 17, 18
# and 19 are built from Debian's source packages by scripts/build_postgres.sh and cached under
# $PGR_CACHE (default /var/cache/pg_retention). Everything of one version lives under
# build/pgNN/: the extension's objects (obj/), the private install (install/), test output
# and clusters, so the versions never share a file.

PG_MAJOR=${PG_MAJOR:-15}
PG_OLD_MAJOR=15	# the oldest supported major: the "before" side of the cross-version tests
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build"

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Install the Debian packages the build and the tests need, if any is missing. PostgreSQL 15's
# packages are always wanted: 15 is also the old side of the pg_upgrade and pg_dump tests.
need_packages() {
	local pkgs=(postgresql-$PG_OLD_MAJOR postgresql-server-dev-$PG_OLD_MAJOR libipc-run-perl make gcc "$@")
	local missing=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		say "installing ${missing[*]}"
		[ "$(id -u)" -eq 0 ] || die "packages missing (${missing[*]}): run as root or install them first"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
		# Debian's package starts a cluster of its own; the scripts use private ones only.
		command -v pg_ctlcluster >/dev/null && pg_ctlcluster $PG_OLD_MAJOR main stop 2>/dev/null || true
	fi
	choose_build_dir
	use_postgres "$PG_MAJOR"
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

# The bin directory of PostgreSQL major $1 (its pg_config is there): Debian's packages for
# 15, a cached build from Debian's source package for the others (built on first use).
pg_bindir() {
	case $1 in
	15) echo /usr/lib/postgresql/15/bin ;;
	*) bash "$ROOT/scripts/build_postgres.sh" "$1" ;;
	esac
}

# Select PostgreSQL major $1 for build, private_install and the test scripts: sets PG_MAJOR,
# PG_BINDIR (that PostgreSQL's bin directory), VBUILD (build/pgNN) and PGBIN (the private
# install's bin directory, valid after private_install).
use_postgres() {
	PG_MAJOR=$1
	local rc=0
	PG_BINDIR=$(pg_bindir "$1") || rc=$?
	# 3: Debian's source package could not be downloaded (scripts/build_postgres.sh)
	[ $rc -eq 3 ] && { echo "error: PostgreSQL $1 is unavailable: its source package could not be downloaded" >&2; exit 3; }
	[ $rc -eq 0 ] || die "PostgreSQL $1 could not be built (see ${PGR_CACHE:-/var/cache/pg_retention}/pg$1/build.log)"
	local v
	v=$("$PG_BINDIR/pg_config" --version)
	case $v in "PostgreSQL $1"*) ;; *) die "$PG_BINDIR/pg_config is $v, not PostgreSQL $1" ;; esac
	VBUILD="$BUILD/pg$1"
	mkdir -p "$VBUILD/obj"
	PGBIN="$VBUILD/install$PG_BINDIR"
}

# make in the extension's build directory for the selected version (a VPATH build: objects
# under build/pgNN/obj, sources read from the checkout).
ext_make() {
	make -C "$VBUILD/obj" -f "$ROOT/Makefile" -s PG_CONFIG="$PG_BINDIR/pg_config" "$@"
}

# Build the extension (warnings are errors when WERROR=1, as in CI). Objects of an in-tree
# build (plain `make` in the checkout) would be taken for the VPATH build's: remove them.
build() {
	say "building for PostgreSQL $("$PG_BINDIR/pg_config" --version | cut -d' ' -f2)"
	local flags="-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers"
	[ "${WERROR:-0}" = 1 ] && flags="$flags -Werror"
	if ls "$ROOT"/src/*.o >/dev/null 2>&1; then
		echo "removing the objects of an in-tree build from src/"
		rm -f "$ROOT"/src/*.o "$ROOT"/src/*.bc "$ROOT"/*.so
	fi
	ext_make PG_CFLAGS="$flags" >/dev/null
}

# Run a command as an OS user PostgreSQL accepts: root hands over to "postgres".
as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Copy the selected PostgreSQL into directory $1 (its bin, lib and share directories under the
# same paths), renewed when the PostgreSQL it was made from has changed. PostgreSQL finds its
# share and lib directories relative to its binaries, so the copy works.
copy_postgres() {
	local dest=$1 origin d
	origin=$("$PG_BINDIR/pg_config" --version; cat "$PG_BINDIR/../.pg_retention-build" 2>/dev/null;
		dpkg-query -W -f='${Version}' "postgresql-$PG_MAJOR" 2>/dev/null || true)
	if [ ! -x "$dest$PG_BINDIR/postgres" ] || [ "$(cat "$dest/.origin" 2>/dev/null)" != "$origin" ]; then
		say "copying PostgreSQL $PG_MAJOR into $dest"
		rm -rf "$dest"
		mkdir -p "$dest"
		for d in "$PG_BINDIR" "$("$PG_BINDIR/pg_config" --pkglibdir)" "$("$PG_BINDIR/pg_config" --sharedir)"; do
			mkdir -p "$dest$(dirname "$d")"
			cp -a "$d" "$dest$(dirname "$d")/"
		done
		printf '%s\n' "$origin" >"$dest/.origin"
	fi
}

# Make a private copy of the selected PostgreSQL under build/pgNN/install and install the
# extension into it, so tests exercise exactly this tree and leave the system alone.
private_install() {
	copy_postgres "$VBUILD/install"
	ext_make DESTDIR="$VBUILD/install" install >/dev/null
	chmod a+rx "$BUILD" "$VBUILD" && chmod -R a+rX "$VBUILD/install"
}

# Build the extension with UBSan in a VPATH directory of its own (build/pgNN/obj-ubsan, so the
# normal build's objects stay as they are) and install it into a private PostgreSQL of its
# own, build/pgNN/install-ubsan; sets PGBIN to it. Signed overflow and out-of-range
# float-to-integer casts then abort the backend with a report: -fno-wrapv comes after PGXS's
# -fwrapv (PG_CFLAGS is appended to CFLAGS), so signed overflow is undefined again and
# instrumented. with_llvm=no: no bitcode, so JIT cannot inline uninstrumented copies of our
# functions.
ubsan_install() {
	local obj="$VBUILD/obj-ubsan" dest="$VBUILD/install-ubsan"
	local san="-fsanitize=signed-integer-overflow,float-cast-overflow -fno-sanitize-recover=all"
	local flags="-Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers"
	[ "${WERROR:-0}" = 1 ] && flags="$flags -Werror"
	say "building with UBSan (-fno-wrapv) into $dest"
	mkdir -p "$obj"
	make -C "$obj" -f "$ROOT/Makefile" -s PG_CONFIG="$PG_BINDIR/pg_config" with_llvm=no \
		PG_CFLAGS="$flags $san -fno-wrapv" PG_LDFLAGS="$san" >/dev/null
	copy_postgres "$dest"
	make -C "$obj" -f "$ROOT/Makefile" -s PG_CONFIG="$PG_BINDIR/pg_config" with_llvm=no \
		DESTDIR="$dest" install >/dev/null
	chmod a+rx "$BUILD" "$VBUILD" && chmod -R a+rX "$dest"
	PGBIN="$dest$PG_BINDIR"
}

# Start a throwaway cluster in build/pgNN/$1 (a fresh data directory each time) on a private
# socket directory and port ($PGR_PORT, default 55432). Sets PGHOST, PGPORT, PGUSER.
start_cluster() {
	local name=$1
	CLUSTER="$VBUILD/$name"
	stop_cluster
	rm -rf "$CLUSTER"
	mkdir -p "$CLUSTER/sock"
	chmod a+rx "$BUILD" "$VBUILD"
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
	export PATH="$PGBIN:$PATH"	# psql and the other clients of the same version
	trap stop_cluster EXIT
}

stop_cluster() {
	if [ -n "${CLUSTER:-}" ] && [ -f "$CLUSTER/data/postmaster.pid" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
}

# Benchmarks' common set-up: build, install privately, start cluster build/pgNN/$1 on port $PGR_PORT
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
