#!/bin/sh
# Lays out the root filesystem of layerguard's image: the binary, exactly the shared libraries
# it loads, the CA bundle registries are checked against, and the non-root user it runs as.
#
#   docker/rootfs.sh BINARY DEST
#
# The binary links glibc dynamically: a static glibc cannot load the resolver modules, so it
# could not look up a registry's name. So the image carries the loader and the few libraries
# `ldd` names, copied from the machine that built the binary, which is what makes them match.
set -eu

binary=$1
dest=$2
uid=65532

mkdir -p "$dest/usr/local/bin" "$dest/etc/ssl/certs" "$dest/cache"
cp "$binary" "$dest/usr/local/bin/layerguard"
# Symbols and line tables only make the image bigger; a panic still names its message.
strip --strip-unneeded "$dest/usr/local/bin/layerguard" 2>/dev/null || true
chmod 0755 "$dest/usr/local/bin/layerguard"

# `ldd` prints `name => /path (addr)` for libraries and `/path (addr)` for the loader.
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
    while read -r lib; do
        mkdir -p "$dest$(dirname "$lib")"
        cp -L "$lib" "$dest$lib"
        chmod 0755 "$dest$lib"
    done

# Vulnerability scanners name the libraries by their package: as distroless images do, each
# owning package's dpkg paragraph goes in /var/lib/dpkg/status.d, with the os-release it is from,
# and beside it `<package>.md5sums` naming the files of that package the image holds (dpkg's
# md5sums format, paths relative to /), so that scanners know which files are the package's.
if command -v dpkg-query >/dev/null; then
    statusd="$dest/var/lib/dpkg/status.d"
    mkdir -p "$statusd"
    for lib in $(find "$dest/lib" "$dest/lib64" "$dest/usr/lib" -type f 2>/dev/null | LC_ALL=C sort); do
        owner=$(dpkg-query -S "${lib#"$dest"}" 2>/dev/null || dpkg-query -S "$(readlink -f "${lib#"$dest"}")" 2>/dev/null || true)
        owner=${owner%%:*}
        [ -n "$owner" ] || continue
        if [ ! -f "$statusd/$owner" ]; then
            dpkg-query -s "$owner" >"$statusd/$owner"
            : >"$statusd/$owner.md5sums"
            chmod 0644 "$statusd/$owner" "$statusd/$owner.md5sums"
        fi
        (cd "$dest" && md5sum "${lib#"$dest/"}") >>"$statusd/$owner.md5sums"
    done
    if [ -f /etc/os-release ]; then
        mkdir -p "$dest/usr/lib"
        cp -L /etc/os-release "$dest/usr/lib/os-release"
        ln -sf ../usr/lib/os-release "$dest/etc/os-release"
    fi
fi

for bundle in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
    if [ -f "$bundle" ]; then
        cp -L "$bundle" "$dest/etc/ssl/certs/ca-certificates.crt"
        break
    fi
done
[ -s "$dest/etc/ssl/certs/ca-certificates.crt" ] || {
    echo "rootfs.sh: no CA bundle on this machine (install ca-certificates)" >&2
    exit 1
}
chmod 0644 "$dest/etc/ssl/certs/ca-certificates.crt"

# No shell and no passwords: the accounts exist so that `id` and tools that look a uid up work.
printf 'root:x:0:0:root:/root:/sbin/nologin\nlayerguard:x:%s:%s:layerguard:/cache:/sbin/nologin\n' \
    "$uid" "$uid" >"$dest/etc/passwd"
printf 'root:x:0:\nlayerguard:x:%s:\n' "$uid" >"$dest/etc/group"
# ECS writes the task's /etc/hosts; look there before DNS.
printf 'hosts: files dns\n' >"$dest/etc/nsswitch.conf"
chmod 0644 "$dest/etc/passwd" "$dest/etc/group" "$dest/etc/nsswitch.conf"
