#!/usr/bin/env bash
# Rebuild testdata/sample/sample.tar, the one small committed `docker save`
# tarball (for README examples and quick manual runs; tests build their own
# fixtures with testdata/fixtures/build.sh).
#
# Contents (one layer, FROM scratch, no USER):
#   /etc/passwd, /etc/shadow, /etc/os-release   root only; ID=layerguard-sample
#   /app/.npmrc                                  fake npm token        -> secret-file
#   /usr/bin/demo-su                             text file, mode 4755  -> setuid-file
#   /var/lib/apt/lists/..._InRelease             apt list              -> package-cache
#   ENV AWS_SECRET_ACCESS_KEY (AWS example key)                        -> secret-in-config
#   no USER, no HEALTHCHECK                                            -> root-user, no-healthcheck
#
# Needs docker (classic builder). The result must stay small (checked below).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
max_bytes=24576 # the tarball is 20992 bytes today
tag=layerguard-sample:1

ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
umask 022
mkdir -p "$ctx"/rootfs/{etc,app,usr/bin,var/lib/apt/lists}
cd "$ctx/rootfs"

cat >etc/passwd <<'EOT'
root:x:0:0:root:/root:/bin/sh
EOT
cat >etc/shadow <<'EOT'
root:*:19000:0:99999:7:::
EOT
cat >etc/os-release <<'EOT'
NAME="layerguard sample"
ID=layerguard-sample
VERSION_ID=1
EOT
cat >app/.npmrc <<'EOT'
//registry.npmjs.org/:_authToken=npm_SampleNpmTokenForLayerguardDemo00000
EOT
cat >usr/bin/demo-su <<'EOT'
#!/bin/sh
echo "demo-su: not a real program"
EOT
cat >var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease <<'EOT'
Origin: Debian
Suite: stable
Codename: bookworm
EOT
chmod 0640 etc/shadow
chmod 4755 usr/bin/demo-su
# COPY drops the setuid bit on the way into the daemon; ADD of a local tar
# keeps modes. Owners and times are fixed here so the layer is reproducible.
tar -C "$ctx/rootfs" -cf "$ctx/rootfs.tar" --sort=name --mtime=@946684800 \
    --owner=0 --group=0 --numeric-owner .

cat >"$ctx/Dockerfile" <<'EOT'
FROM scratch
ADD rootfs.tar /
ENV AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
EOT

DOCKER_BUILDKIT=0 docker build -q -t "$tag" "$ctx" >/dev/null 2>"$ctx/build.log" ||
    { cat "$ctx/build.log" >&2; exit 1; }
docker save -o "$here/sample.tar" "$tag"
chmod 0644 "$here/sample.tar"

size=$(stat -c %s "$here/sample.tar")
if ((size > max_bytes)); then
    echo "sample.tar is $size bytes, over the $max_bytes byte budget" >&2
    exit 1
fi
echo "wrote $here/sample.tar ($size bytes)"
