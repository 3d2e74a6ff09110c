#!/usr/bin/env bash
# Called by testdata/fixtures/build.sh with the build context as $1.
# Writes id_rsa: the armour of an OpenSSH private key around random base64.
# It is not a key; it only has to look like one to a secret scanner.
set -euo pipefail
kind="OPENSSH PRIVATE KEY"
{
    echo "-----BEGIN $kind-----"
    head -c 1200 /dev/urandom | base64 -w 70
    echo "-----END $kind-----"
} >"$1/id_rsa"
chmod 0600 "$1/id_rsa"
