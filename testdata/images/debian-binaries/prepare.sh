#!/usr/bin/env bash
# Called by testdata/fixtures/build.sh with the build context as $1. Fetches Debian's builds of
# software the version classifiers name (`apt-get download`, so the candidate versions of this
# machine's sources) and unpacks them with `dpkg-deb -x` into root/, without their package
# database: the image holds real nginx, redis, postgres, … binaries that only a classifier can
# name. expected.tsv lists each package and its version for tests/debian_binaries.rs.
set -euo pipefail
ctx=$1
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
say() { echo "fixtures/debian-binaries: $*" >&2; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

packages=(
    nginx redis-tools postgresql-15 memcached haproxy lighttpd apache2-bin
    python3.11-minimal libpython3.11 libnode108 libssl3 openssl curl libcurl4
    bash gzip xz-utils zstd jq util-linux busybox mariadb-server-core slapd ldap-utils
    proftpd-core libsqlcipher0 libkrb5-3 libkrb5-26-heimdal libavcodec59 libavformat59
    libavutil57 libqt5core5a libruby3.1 php8.2-cli perl-base erlang-base elixir cabal-install pypy3
    swi-prolog-core
)

cd "$w"
# Stale package lists name versions the mirror no longer has: refresh once and try again.
if ! apt-get download -qq "${packages[@]}" >/dev/null 2>&1; then
    say "apt-get download failed; updating the package lists and trying again"
    as_root apt-get update -qq
    apt-get download -qq "${packages[@]}" >/dev/null
fi

mkdir -p "$ctx/root"
: >"$ctx/expected.tsv"
for deb in ./*.deb; do
    dpkg-deb -x "$deb" "$ctx/root"
    printf '%s\t%s\n' "$(dpkg-deb -f "$deb" Package)" "$(dpkg-deb -f "$deb" Version)" >>"$ctx/expected.tsv"
done
# Documentation, manuals and locales are most of the bytes and none of the evidence.
rm -rf "$ctx/root/usr/share/doc" "$ctx/root/usr/share/man" "$ctx/root/usr/share/locale" \
    "$ctx/root/usr/share/lintian"
say "$(wc -l <"$ctx/expected.tsv") packages unpacked"
