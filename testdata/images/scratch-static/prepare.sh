#!/usr/bin/env bash
# Called by testdata/fixtures/build.sh with the build context as $1.
set -euo pipefail
cp "${BUSYBOX:-/bin/busybox}" "$1/busybox"
chmod 0755 "$1/busybox"
