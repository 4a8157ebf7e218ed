#!/usr/bin/env bash
# Fetches, builds and caches one PostgreSQL major version from Debian's source package, for the
# test and benchmark scripts (PostgreSQL 15 comes from Debian 12's binary packages instead).
#
# Usage: scripts/build_postgres.sh MAJOR      (17, 18 or 19; prints the install's bin directory)
# Exits 3 when the source package cannot be downloaded, 1 on any other failure.
#
# Everything lives under $PGR_CACHE/pgMAJOR (default /var/cache/pg_retention/pgMAJOR), outside
# the clone, so every checkout and every later run shares it:
#   apt/        a private apt configuration: sources.list with the deb-src lines of the Debian
#               suite that carries this major, and apt's own lists and cache directories.  The
#               machine's /etc/apt is never read for sources nor written.
#   src/        the downloaded source package (.dsc, upstream tarball, Debian tarball) and the
#               upstream tree unpacked from it; Debian's patches are not applied.
#   install/    the installation (./configure --prefix=...), with the TAP test modules,
#               pg_regress and pg_isolation_regress under lib/postgresql/pgxs
#   build.log   configure, make and make install output
#   install/.pg_retention-build   written last: the Debian version and configure options; a
#               run that finds it with the same options reuses the install without touching
#               the network.  PGR_REBUILD=1 fetches and builds again.
set -euo pipefail

major=${1:?usage: build_postgres.sh MAJOR}
cache=${PGR_CACHE:-/var/cache/pg_retention}/pg$major
prefix=$cache/install
stamp=$prefix/.pg_retention-build

# The Debian suites that carry each major as a source package.
case $major in
17) suites=("debian trixie" "debian trixie-updates" "debian-security trixie-security") ;;
18) suites=("debian sid") ;;
19) suites=("debian experimental") ;;
*) echo "build_postgres.sh: no Debian source package is known for PostgreSQL $major" >&2; exit 2 ;;
esac

# What the test suites need: TAP tests (--enable-tap-tests), and the libraries Debian's own
# packages are built with, so that the same regression output is expected everywhere.
configure_opts=(--enable-tap-tests --enable-debug --with-openssl --with-libxml --with-icu
	--with-lz4 --with-zstd --with-readline --with-zlib)
want="configure: ${configure_opts[*]}"

if [ "${PGR_REBUILD:-0}" != 1 ] && [ -f "$stamp" ] && grep -qxF "$want" "$stamp"; then
	echo "$prefix/bin"
	exit 0
fi

say() { printf '\n==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "building PostgreSQL $major needs root (build dependencies, $cache)"

# Build dependencies, from the machine's own (Debian 12) package sources.
deps=(bison flex gcc make perl pkg-config curl libreadline-dev zlib1g-dev libssl-dev libxml2-dev
	libicu-dev liblz4-dev libzstd-dev libipc-run-perl dpkg-dev)
missing=()
for p in "${deps[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	say "installing build dependencies: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A private apt configuration: only our sources list (no sources.list.d), our own lists and
# cache directories.  The archive keyring of Debian 12 signs trixie, sid and experimental.
aptdir=$cache/apt
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/sources.list.d"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
for s in "${suites[@]}"; do
	set -- $s
	echo "deb-src [signed-by=$keyring] http://deb.debian.org/$1 $2 main"
done >"$aptdir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=$aptdir/sources.list.d"
	-o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
	-o "APT::Sandbox::User=root" -o "Acquire::Languages=none" -o "Acquire::Retries=3")

say "fetching the source package postgresql-$major (${suites[*]})"
unavailable() { printf 'error: %s\n' "$*" >&2; exit 3; }
apt-get "${apt_opts[@]}" -qq update >&2 || unavailable "apt-get update failed for $aptdir/sources.list"
version=$(apt-cache "${apt_opts[@]}" showsrc "postgresql-$major" 2>/dev/null |
	sed -n 's/^Version: //p' | sort -V | tail -n 1)
[ -n "$version" ] || unavailable "no source package postgresql-$major in ${suites[*]}"
rm -rf "$cache/src"
mkdir -p "$cache/src"

# Fetch an earlier point release of the same suite from the pool when the mirror lists a
# version it does not serve (seen here: trixie's index names 17.12-0+deb13u1 while the
# mirror serves 17.9 to 17.11 only). The index's signature covers only the version it
# lists, so such a package is checked against its own .dsc's SHA-256 sums but its .dsc is
# not signature-checked: good enough to test against, and said in the build log.
fetch_older() {
	local listed=$1 minor rest v pool=http://deb.debian.org/debian/pool/main/p/postgresql-$major f sum
	minor=${listed#"$major".}
	rest=-${minor#*-}
	minor=${minor%%-*}
	case $minor in '' | *[!0-9]*) return 1 ;; esac
	for ((m = minor - 1; m >= 0 && m >= minor - 6; m--)); do
		v=$major.$m$rest
		(cd "$cache/src" && curl -fsS -O "$pool/postgresql-${major}_$v.dsc") 2>/dev/null || continue
		say "postgresql-$major=$listed is listed but not served; using $v from the pool"
		sed -n '/^Checksums-Sha256:/,/^[^ ]/p' "$cache/src/postgresql-${major}_$v.dsc" | grep '^ ' |
			while read -r sum _ f; do
				(cd "$cache/src" && curl -fsS -O "$pool/$f" && echo "$sum  $f" | sha256sum -c --quiet -) || exit 1
			done || return 1
		version=$v
		echo "fetched $v directly from the pool (listed: $listed); checked against its .dsc's SHA-256 sums, .dsc not signature-checked" >"$cache/src/NOTE"
		return 0
	done
	return 1
}
if ! (cd "$cache/src" && apt-get "${apt_opts[@]}" -qq source --download-only "postgresql-$major=$version" >&2); then
	rm -f "$cache/src"/*
	fetch_older "$version" ||
		unavailable "could not download the source package postgresql-$major=$version (or an earlier point release) from deb.debian.org"
fi

# The upstream tree, without Debian's patches (they concern Debian's packaging: socket
# directory, library paths, man pages).
orig=$(ls "$cache/src"/postgresql-"$major"_*.orig.tar.* | head -n 1)
tar -C "$cache/src" -xf "$orig"
tree=$(find "$cache/src" -mindepth 1 -maxdepth 1 -type d -name 'postgresql-*' | head -n 1)
[ -x "$tree/configure" ] || die "no configure script in $orig"

say "building PostgreSQL $version in $tree (log: $cache/build.log)"
rm -rf "$prefix"
log=$cache/build.log
{
	echo "postgresql-$major $version from ${suites[*]}, $(date -u +%FT%TZ)"
	cat "$cache/src/NOTE" 2>/dev/null
	cd "$tree"
	./configure --prefix="$prefix" "${configure_opts[@]}" &&
		make -j"${PGR_JOBS:-2}" &&
		make install
} >"$log" 2>&1 || { tail -n 40 "$log" >&2; die "building PostgreSQL $major failed: see $log"; }
printf 'postgresql-%s %s\n%s\n' "$major" "$version" "$want" >"$stamp"
# the server runs as "postgres": it must be able to read the whole installation
chmod -R a+rX "$cache"
say "PostgreSQL $version installed in $prefix"
echo "$prefix/bin"
