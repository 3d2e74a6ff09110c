#!/usr/bin/env bash
# Called by testdata/fixtures/build.sh with the build context as $1.
# Builds two packages with dpkg-deb and lays them out the way distroless' package metadata
# standard (its PACKAGE_METADATA.md) says: the data extracted at /, the control fields at
# var/lib/dpkg/status.d/<package>, the control archive's md5sums at status.d/<package>.md5sums.
set -euo pipefail
ctx=$1
for tool in dpkg-deb md5sum; do
    command -v "$tool" >/dev/null || {
        echo "distroless/prepare.sh: $tool not found (needs Debian package dpkg)" >&2
        exit 1
    }
done
: "${BUSYBOX:?distroless/prepare.sh: BUSYBOX (a static busybox) not set}"
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT

# control NAME DESCRIPTION: a binary package's control file.
control() {
    mkdir -p "$w/$1/DEBIAN"
    cat >"$w/$1/DEBIAN/control" <<CONTROL
Package: $1
Version: 1.0.0-1
Architecture: amd64
Maintainer: layerguard <layerguard@example.invalid>
Source: lg-fixtures (2.0-1)
Description: layerguard distroless fixture
 $2
CONTROL
}

control lg-busybox "A package owning an executable."
mkdir -p "$w/lg-busybox/bin" "$w/lg-busybox/usr/share/doc/lg-busybox"
cp "$BUSYBOX" "$w/lg-busybox/bin/busybox"
chmod 0755 "$w/lg-busybox/bin/busybox"
echo "Fixture package; busybox is GPL-2.0-only." >"$w/lg-busybox/usr/share/doc/lg-busybox/copyright"
# As dh_md5sums writes it: every regular file outside DEBIAN, relative to the package root.
(cd "$w/lg-busybox" && find . -type f -not -path './DEBIAN/*' -printf '%P\n' | LC_ALL=C sort |
    xargs md5sum >DEBIAN/md5sums)
control lg-meta "A package without files."

mkdir -p "$ctx/pkgroot/var/lib/dpkg/status.d"
for pkg in lg-busybox lg-meta; do
    dpkg-deb --root-owner-group --build "$w/$pkg" "$w/$pkg.deb" >/dev/null
    dpkg-deb -x "$w/$pkg.deb" "$ctx/pkgroot"
    dpkg-deb --field "$w/$pkg.deb" >"$ctx/pkgroot/var/lib/dpkg/status.d/$pkg"
    rm -rf "$w/control"
    dpkg-deb --control "$w/$pkg.deb" "$w/control"
    if [[ -f $w/control/md5sums ]]; then
        cp "$w/control/md5sums" "$ctx/pkgroot/var/lib/dpkg/status.d/$pkg.md5sums"
    fi
done
[[ -f $ctx/pkgroot/var/lib/dpkg/status.d/lg-busybox.md5sums ]]
[[ ! -e $ctx/pkgroot/var/lib/dpkg/status.d/lg-meta.md5sums ]]
# The format is dpkg's own: the line for busybox is the one Debian's busybox-static ships.
if [[ -f /var/lib/dpkg/info/busybox-static.md5sums ]] &&
    cmp -s "$BUSYBOX" /bin/busybox; then
    grep -qxF "$(grep ' bin/busybox$' /var/lib/dpkg/info/busybox-static.md5sums)" \
        "$ctx/pkgroot/var/lib/dpkg/status.d/lg-busybox.md5sums"
fi
chmod -R u+rwX,go+rX,go-w "$ctx/pkgroot"

mkdir -p "$ctx/copied/bin" "$ctx/copied/local/bin"
cp "$BUSYBOX" "$ctx/copied/bin/busybox"
cp "$BUSYBOX" "$ctx/copied/local/bin/busybox"
chmod 0755 "$ctx/copied/bin/busybox" "$ctx/copied/local/bin/busybox"
