#!/usr/bin/env bash
# Called by testdata/fixtures/build.sh with the build context as $1. Builds, offline:
#   bin/hardened      gcc, PIE, full RELRO, canary, FORTIFY, RUNPATH $ORIGIN/../lib
#   bin/weak          gcc, no PIE, no RELRO, executable stack, no canary, RUNPATH lib:/tmp/plugins
#   bin/libgreet.so   a shared library with a SONAME
#   bin/noted         gcc with an ELF .note.package (FDO packaging metadata)
#   bin/gohello       Go module with two dependencies (one replaced) from a local file proxy,
#                     so the buildinfo carries real versions and h1: sums   (needs go)
#   bin/traefik       a module named github.com/traefik/traefik/v3 built outside version control,
#                     its release stamped by -ldflags into its pkg/version   (needs go)
#   rootfs/agent      a module named github.com/aws/amazon-ecs-agent/agent with the agent's
#                     version package, at the ECS agent image's path        (needs go)
#   rootfs/opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION
#                     the version file the CloudWatch agent's packages install
#   bin/rust-audited  cargo auditable build with hex and base64 (.dep-v0)    (needs cargo-auditable)
#   bin/rust-plain    the same without auditable: crates only in panic paths (needs cargo)
#   skopeo            copy of /usr/bin/skopeo
# A missing optional tool skips its binary with a message; tests/binaries.rs checks what is there.
set -euo pipefail
ctx=$1
mkdir -p "$ctx/bin" "$ctx/rootfs"
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
say() { echo "fixtures/binaries: $*" >&2; }

cp /usr/bin/skopeo "$ctx/skopeo"

# --- C -------------------------------------------------------------------------------
cat >"$w/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    char buf[64];
    strcpy(buf, argc > 1 ? argv[1] : "world");
    printf("hello %s\n", buf);
    return 0;
}
C
cat >"$w/greet.c" <<'C'
int greet(int x) { return x + 1; }
C
gcc -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE -pie -Wl,-z,relro,-z,now \
    -Wl,-rpath,'$ORIGIN/../lib' -o "$ctx/bin/hardened" "$w/hello.c"
gcc -O0 -no-pie -fno-stack-protector -U_FORTIFY_SOURCE -Wl,-z,norelro -z execstack \
    -Wl,-rpath,'lib:/tmp/plugins' -o "$ctx/bin/weak" "$w/hello.c"
gcc -O2 -shared -fPIC -Wl,-soname,libgreet.so.1 -o "$ctx/bin/libgreet.so" "$w/greet.c"
# An ELF package note (systemd.io/ELF_PACKAGE_METADATA), as Fedora's and Debian's package-notes
# tooling writes it; -Xlinker keeps the JSON's commas away from -Wl's splitting.
gcc -O2 -fstack-protector-strong -fPIE -pie -Wl,-z,relro,-z,now -o "$ctx/bin/noted" "$w/hello.c" \
    -Xlinker '--package-metadata={"type":"deb","name":"hello-noted","version":"1.2-3","architecture":"amd64"}'


# --- Go --------------------------------------------------------------------------------
if command -v go >/dev/null; then
    proxy="$w/proxy"
    python3 - "$proxy" <<'PY'
import json, os, sys, zipfile
proxy = sys.argv[1]
mods = {
    ("example.com/greet", "v1.2.3"): 'package greet\n\nfunc Hello() string { return "hello" }\n',
    ("example.com/loud", "v0.2.0"): 'package shout\n\nfunc Shout(s string) string { return s + "!" }\n',
}
for (path, ver), src in mods.items():
    d = os.path.join(proxy, path, "@v")
    os.makedirs(d, exist_ok=True)
    gomod = f"module {path}\n\ngo 1.19\n"
    if path.endswith("loud"):
        gomod = "module example.com/shout\n\ngo 1.19\n"
    with open(os.path.join(d, "list"), "w") as f:
        f.write(ver + "\n")
    with open(os.path.join(d, ver + ".info"), "w") as f:
        json.dump({"Version": ver, "Time": "2024-01-01T00:00:00Z"}, f)
    with open(os.path.join(d, ver + ".mod"), "w") as f:
        f.write(gomod)
    with zipfile.ZipFile(os.path.join(d, ver + ".zip"), "w") as z:
        z.writestr(f"{path}@{ver}/go.mod", gomod)
        z.writestr(f"{path}@{ver}/lib.go", src)
PY
    mkdir -p "$w/gohello"
    cat >"$w/gohello/go.mod" <<'GO'
module example.com/gohello

go 1.19

require (
	example.com/greet v1.2.3
	example.com/shout v0.1.0
)

replace example.com/shout v0.1.0 => example.com/loud v0.2.0
GO
    cat >"$w/gohello/main.go" <<'GO'
package main

import (
	"fmt"

	"example.com/greet"
	"example.com/shout"
)

func main() { fmt.Println(shout.Shout(greet.Hello())) }
GO
    (
        cd "$w/gohello"
        export GOPROXY="file://$proxy" GOSUMDB=off GOFLAGS=-mod=mod GOPATH="$w/gopath" \
            GOCACHE="$w/gocache" CGO_ENABLED=0 GOTOOLCHAIN=local
        go mod tidy >/dev/null 2>&1 || true
        go build -trimpath -o "$ctx/bin/gohello" .
    )

    # A program named by its main module, its version in the ldflags stamp (no VCS here), and
    # the ECS agent, whose version is a constant of its version package.
    mkdir -p "$w/traefik/pkg/version" "$w/ecs-agent/version"
    cat >"$w/traefik/go.mod" <<'GO'
module github.com/traefik/traefik/v3

go 1.19
GO
    cat >"$w/traefik/pkg/version/version.go" <<'GO'
package version

// Version is stamped by the release build.
var Version = "dev"
GO
    cat >"$w/traefik/main.go" <<'GO'
package main

import (
	"fmt"

	"github.com/traefik/traefik/v3/pkg/version"
)

func main() { fmt.Println("traefik", version.Version) }
GO
    cat >"$w/ecs-agent/go.mod" <<'GO'
module github.com/aws/amazon-ecs-agent/agent

go 1.19
GO
    # The shape of the agent's generated version.go and its String(): constants the compiler
    # folds into one literal.
    cat >"$w/ecs-agent/version/version.go" <<'GO'
package version

const Version = "1.61.0"

const GitDirty = false

const GitShortHash = "b00e06d9"

func String() string {
	ret := "Amazon ECS Agent - v" + Version + " ("
	if GitDirty {
		ret += "*"
	}
	return ret + GitShortHash + ")"
}
GO
    cat >"$w/ecs-agent/main.go" <<'GO'
package main

import (
	"fmt"

	"github.com/aws/amazon-ecs-agent/agent/version"
)

func main() { fmt.Println(version.String()) }
GO
    (
        export GOPATH="$w/gopath" GOCACHE="$w/gocache" CGO_ENABLED=0 GOTOOLCHAIN=local \
            GOPROXY=off GOFLAGS=-mod=mod
        cd "$w/traefik"
        # Without -trimpath: since Go 1.19 a -trimpath build leaves -ldflags out of its
        # buildinfo, and with it the stamp.
        go build \
            -ldflags "-X github.com/traefik/traefik/v3/pkg/version.Version=v3.6.5" \
            -o "$ctx/bin/traefik" .
        cd "$w/ecs-agent"
        go build -trimpath -o "$ctx/rootfs/agent" .
    )
    chmod -R u+w "$w/gopath" 2>/dev/null || true
else
    say "go not found; skipping bin/gohello, bin/traefik and rootfs/agent"
fi

# --- not ELF ------------------------------------------------------------------------
mkdir -p "$ctx/rootfs/opt/aws/amazon-cloudwatch-agent/bin"
echo "1.300073.2b1889" >"$ctx/rootfs/opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION"

# --- Rust -----------------------------------------------------------------------------
if command -v cargo >/dev/null; then
    mkdir -p "$w/rusthello/src"
    cat >"$w/rusthello/Cargo.toml" <<'TOML'
[package]
name = "rusthello"
version = "0.1.0"
edition = "2021"

[dependencies]
hex = "=0.4.3"
base64 = "=0.22.1"

[profile.release]
strip = false
TOML
    cat >"$w/rusthello/src/main.rs" <<'RS'
use base64::Engine;
fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    let bytes = hex::decode(&arg).unwrap_or_default();
    println!("{}", base64::engine::general_purpose::STANDARD.encode(bytes));
}
RS
    (
        cd "$w/rusthello"
        export CARGO_TARGET_DIR="$w/rust-target"
        cargo build --release --offline --quiet
        cp "$w/rust-target/release/rusthello" "$ctx/bin/rust-plain"
        if cargo auditable --version >/dev/null 2>&1; then
            cargo clean --quiet --release -p rusthello
            cargo auditable build --release --offline --quiet
            cp "$w/rust-target/release/rusthello" "$ctx/bin/rust-audited"
        else
            say "cargo-auditable not found; skipping bin/rust-audited"
        fi
    ) || say "rust build failed; skipping the Rust binaries"
else
    say "cargo not found; skipping the Rust binaries"
fi
