#!/usr/bin/env bash
# Registry pulls against local reads: the bench image (benches/run.sh builds it under
# target/bench/) pushed with skopeo to Debian's docker-registry on 127.0.0.1, then scanned from
# the registry and from its OCI layout, and by trivy from the same registry. Prints:
#   registry / OCI layout wall ratio    target >= 0.8 (downloading overlaps scanning)
#   layerguard peak RSS from the registry  target <= 64 MiB
#   trivy remote scan of the same image, for comparison
#
#   benches/registry.sh            (BENCH_REPEAT=N keeps the best of N runs, default 2)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
B=${BENCH_DIR:-target/bench}   # where benches/run.sh left the image
IMAGE_OCI=${BENCH_IMAGE:-$B/big.oci}   # an OCI layout with tag 1
REPEAT=${BENCH_REPEAT:-2}
RSS_GOAL_MIB=64

log() { printf '\n== %s\n' "$*"; }
calc() { python3 -c "print(round($1, 2))"; }

[[ -d $IMAGE_OCI ]] || { echo "no $IMAGE_OCI: run benches/run.sh once first (it builds the image)" >&2; exit 2; }
command -v docker-registry >/dev/null || apt-get install -y -qq docker-registry >/dev/null
command -v skopeo >/dev/null || apt-get install -y -qq skopeo >/dev/null
[[ -x /usr/bin/time ]] || apt-get install -y -qq time >/dev/null

log "build"
cargo build --release --quiet
LG=$ROOT/target/release/layerguard

log "registry"
REG=$(realpath -m "$B/registry")
rm -rf "$REG"; mkdir -p "$REG/data"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$REG/config.yml" <<EOF
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $REG/data } }
http: { addr: 127.0.0.1:$PORT }
EOF
docker-registry serve "$REG/config.yml" >"$REG/log" 2>&1 &
REG_PID=$!
trap 'kill $REG_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done
skopeo --insecure-policy copy --quiet --dest-tls-verify=false "oci:$IMAGE_OCI:1" "docker://127.0.0.1:$PORT/bench/big:1"
REF=127.0.0.1:$PORT/bench/big:1
echo "pushed $REF"

# best of REPEAT: "wall_seconds peak_kib"
measure() {
  local best=""
  for _ in $(seq "$REPEAT"); do
    local out
    /usr/bin/time -o "$B/time.out" -f '%e %M' "$@" >/dev/null 2>"$B/scan.err" || { cat "$B/scan.err" >&2; exit 1; }
    out=$(tail -1 "$B/time.out")
    if [[ -z $best ]] || python3 -c "import sys; sys.exit(0 if float('${out% *}') < float('${best% *}') else 1)"; then
      best=$out
    fi
  done
  echo "$best"
}

log "scans"
oci=$(measure "$LG" scan "oci:$IMAGE_OCI:1" --format json --fail-on never)
reg=$(measure "$LG" scan "$REF" --format json --fail-on never)
echo "layerguard OCI layout: ${oci% *} s, $(( ${oci#* } / 1024 )) MiB"
echo "layerguard registry:   ${reg% *} s, $(( ${reg#* } / 1024 )) MiB"
TRIVY=${TRIVY_BIN:-$B/venv/bin/trivy}   # benches/run.sh installs it there
if [[ -x $TRIVY ]]; then
  tri=$(measure env TRIVY_INSECURE=true TRIVY_NON_SSL=true "$TRIVY" image --quiet --cache-backend memory \
    --skip-db-update --offline-scan --skip-check-update --scanners misconfig,secret "$REF")
  echo "trivy remote:          ${tri% *} s, $(( ${tri#* } / 1024 )) MiB"
fi

log "summary"
ratio=$(calc "${oci% *} / ${reg% *}")
verdict() { python3 -c "print('PASS' if $1 else 'MISS')"; }
echo "registry vs OCI layout speed: ${ratio}x  (target >= 0.8) $(verdict "$ratio >= 0.8")"
rss=$(( ${reg#* } / 1024 ))
echo "peak RSS from the registry: ${rss} MiB  (target <= $RSS_GOAL_MIB) $(verdict "$rss <= $RSS_GOAL_MIB")"
if [[ -n ${tri:-} ]]; then
  echo "trivy remote / layerguard registry wall: $(calc "${tri% *} / ${reg% *}")x"
fi
