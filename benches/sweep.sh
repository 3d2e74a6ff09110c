#!/usr/bin/env bash
# An ECR sweep of many images that share a base: moto serves the ECR and S3 APIs, Debian's
# docker-registry on 127.0.0.1 is ECR's data plane (--registry-mirror). Prints layers
# referenced / unique / read and the wall time of
#   a cold sweep                    target: reads each unique layer once
#   a warm sweep (local cache)      target: under 10% of the cold one
#   a second machine (S3 cache, fresh local directory)   target: reads no layer
#   each image scanned alone, summed (what a loop over `scan` costs)
#
#   benches/sweep.sh        SWEEP_IMAGES=N (default 50), SWEEP_ALONE=0 skips the one-by-one scans;
#                           needs moto (pip install moto flask flask-cors)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
N=${SWEEP_IMAGES:-50}
B=target/bench/sweep
PY=${LAYERGUARD_MOTO_PYTHON:-python3}
ACCOUNT=123456789012
HOST=$ACCOUNT.dkr.ecr.us-east-1.amazonaws.com

log() { printf '\n== %s\n' "$*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
verdict() { python3 -c "print('PASS' if $1 else 'MISS')"; }

"$PY" -c 'import moto, flask, flask_cors' || { echo "needs moto, flask, flask-cors for $PY" >&2; exit 2; }
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || { echo "needs docker-registry and skopeo" >&2; exit 2; }

log "build"
cargo build --release --quiet
LG=$ROOT/target/release/layerguard

log "images"
mkdir -p "$B/layers"
tarflags=(--create --sort=name --mtime=@1704067200 --owner=0 --group=0 --numeric-owner)
if [[ ! -f $B/layers/base.tar ]]; then
  # A real base: this machine's programs and their libraries' docs, about 200 MB.
  tar "${tarflags[@]}" --file="$B/layers/base.tar" -C / usr/bin usr/sbin etc/os-release 2>/dev/null || true
fi
for i in $(seq 0 $((N - 1))); do
  [[ -f $B/layers/app-$i.tar ]] && continue
  mkdir -p "$B/app/$i/app"
  echo "build $i" >"$B/app/$i/app/BUILD"
  head -c 200000 /dev/urandom >"$B/app/$i/app/bundle.bin"
  tar "${tarflags[@]}" --file="$B/layers/app-$i.tar" -C "$B/app/$i" app
done

REG=$(realpath -m "$B/registry")
rm -rf "$REG"; mkdir -p "$REG/data"
RPORT=$(free_port)
printf 'version: 0.1\nlog: { level: error }\nstorage: { filesystem: { rootdirectory: %s } }\nhttp: { addr: 127.0.0.1:%s }\n' \
  "$REG/data" "$RPORT" >"$REG/config.yml"
docker-registry serve "$REG/config.yml" >"$REG/log" 2>&1 &
REG_PID=$!
MPORT=$(free_port)
# Unbuffered: the log's request lines are how the warm sweep's API calls are counted.
PYTHONUNBUFFERED=1 "$PY" tests/support/moto_server.py "$MPORT" >"$B/moto.log" 2>&1 &
MOTO_PID=$!
trap 'kill $REG_PID $MOTO_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$RPORT/v2/" >/dev/null && curl -s "http://127.0.0.1:$MPORT/" >/dev/null && break; sleep 0.2; done

echo "pushing $N images (the base is uploaded once and then found in the registry)"
spec=$B/spec.json
printf '{"buckets": ["records"], "repositories": [' >"$spec"
for i in $(seq 0 $((N - 1))); do
  python3 benches/mkimage.py "$B/img.tar" "$B/layers/base.tar=base" "$B/layers/app-$i.tar=app $i" >/dev/null
  skopeo --insecure-policy copy --quiet --dest-tls-verify=false "docker-archive:$B/img.tar" \
    "docker://127.0.0.1:$RPORT/team/app-$i:1"
  manifest=$(curl -fs -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:$RPORT/v2/team/app-$i/manifests/1")
  ((i > 0)) && printf ',' >>"$spec"
  python3 -c 'import json,sys; print(json.dumps({"name": sys.argv[1], "images": [{"manifest": sys.argv[2], "tag": "1"}]}), end="")' \
    "team/app-$i" "$manifest" >>"$spec"
done
printf ']}' >>"$spec"
"$PY" tests/support/moto_setup.py "http://127.0.0.1:$MPORT" <"$spec" >/dev/null

export AWS_ENDPOINT_URL=http://127.0.0.1:$MPORT AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
  AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
MIRROR=(--registry-mirror "$HOST=http://127.0.0.1:$RPORT")

# sweep NAME ARGS...: wall seconds into $B/NAME.time, report into $B/NAME.json
sweep() {
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$LG" sweep ecr "${MIRROR[@]}" --format json --fail-on never --output "$B/$name.json" "$@"
  end=$(date +%s.%N)
  python3 -c "print(round($end - $start, 2))" >"$B/$name.time"
}
totals() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["totals"]; print(t["layers_referenced"], t["layers_unique"], t["layers_read"], t["cache_hits"])' "$1"; }

log "sweeps"
rm -rf "$B/cache-a" "$B/cache-b"
sweep cold --cache-dir "$B/cache-a" --cache s3://records/layerguard
calls_before=$(grep -c 'HTTP/1\.1' "$B/moto.log" || true)
sweep warm --cache-dir "$B/cache-a" --cache s3://records/layerguard
calls_warm=$(( $(grep -c 'HTTP/1\.1' "$B/moto.log" || true) - calls_before ))
sweep second --cache-dir "$B/cache-b" --cache s3://records/layerguard
alone=0
if [[ ${SWEEP_ALONE:-1} != 0 ]]; then
  start=$(date +%s.%N)
  for i in $(seq 0 $((N - 1))); do
    "$LG" scan "$HOST/team/app-$i:1" "${MIRROR[@]}" --format json --fail-on never >/dev/null
  done
  end=$(date +%s.%N)
  alone=$(python3 -c "print(round($end - $start, 2))")
fi

log "summary ($N images)"
read -r ref uniq read_cold hits_cold < <(totals "$B/cold.json")
read -r _ _ read_warm hits_warm < <(totals "$B/warm.json")
read -r _ _ read_second hits_second < <(totals "$B/second.json")
cold=$(cat "$B/cold.time"); warm=$(cat "$B/warm.time"); second=$(cat "$B/second.time")
printf '  %-34s %8s s   layers read %4s, from cache %4s\n' "cold sweep" "$cold" "$read_cold" "$hits_cold"
printf '  %-34s %8s s   layers read %4s, from cache %4s\n' "warm sweep (local cache)" "$warm" "$read_warm" "$hits_warm"
printf '  %-34s %8s s   layers read %4s, from cache %4s\n' "second machine (S3 cache)" "$second" "$read_second" "$hits_second"
[[ $alone != 0 ]] && printf '  %-34s %8s s\n' "each image scanned alone, summed" "$alone"
echo "  the warm sweep's calls to the ECR, KMS and S3 APIs: $calls_warm"
echo "  layers: $ref referenced, $uniq unique"
echo "cold sweep reads each unique layer once: $read_cold of $uniq $(verdict "$read_cold == $uniq")"
echo "warm sweep under 10% of cold: $(python3 -c "print(round($warm / $cold * 100, 1))")% $(verdict "$warm < 0.1 * $cold")"
echo "second machine reads no layer: $read_second $(verdict "$read_second == 0")"
[[ $alone != 0 ]] && echo "cold sweep vs scanning each alone: $(python3 -c "print(round($alone / $cold, 1))")x faster"
true
