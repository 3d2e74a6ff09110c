//! layerguard's own image, built from the project's `Dockerfile` by the Docker Engine, runs
//! where its users run it and passes its own gate.
//!
//! No Rust image can be pulled here, so the build takes the binary under test through the
//! Dockerfile's `prebuilt` stage, laid out by the same `docker/rootfs.sh` the compile stage
//! runs; everything after that stage is what every build of the image does.

use crate::support::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// The README's task definition for the nightly sweep: what users copy should pass the gate
/// layerguard puts on task definitions, at every severity.
#[test]
fn the_readmes_sweep_task_definition_passes_the_task_definition_gate() {
    let readme = include_str!("../README.md");
    let at = readme
        .find(r#""family": "layerguard-sweep""#)
        .expect("the README shows the sweep's task definition");
    let start = readme[..at].rfind("```json").unwrap() + "```json".len();
    let end = at + readme[at..].find("```").unwrap();
    // The README leaves the digest to the reader.
    let pinned = format!("@sha256:{}", "a".repeat(64));
    let text = readme[start..end].replace("@sha256:…", &pinned);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layerguard-sweep.json");
    std::fs::write(&path, text).unwrap();
    let out = layerguard()
        .args([
            "taskdef",
            path.to_str().unwrap(),
            "--format",
            "json",
            "--fail-on",
            "info",
        ])
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{:#}", report["findings"]);
}

/// The `docker` client to build with: stages the image does not need must be skipped, which
/// takes BuildKit, and a client without the buildx plugin only has it built in before 23.0.
fn build(context: &Path, tag: &str) -> Result<(), String> {
    let dockerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("Dockerfile");
    let mut clients: Vec<String> = vec!["docker".into()];
    clients.extend(
        ["/usr/bin/docker", "/usr/local/bin/docker"]
            .iter()
            .filter(|c| Path::new(c).exists())
            .map(|c| c.to_string()),
    );
    let mut errors = Vec::new();
    for client in clients {
        let out = Command::new(&client)
            .env("DOCKER_BUILDKIT", "1")
            .args(["build", "--quiet", "--tag", tag])
            .args(["--build-arg", "BINARY=prebuilt"])
            .args(["--build-arg", "PREBUILT_DIR=rootfs"])
            .arg("--file")
            .arg(&dockerfile)
            .arg(context)
            .output()
            .map_err(|e| format!("{client}: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        errors.push(format!(
            "{client}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Err(errors.join("\n"))
}

#[test]
fn the_projects_image_runs_read_only_and_passes_its_own_gate_at_low() {
    let context = tempfile::tempdir().unwrap();
    let rootfs = context.path().join("rootfs");
    run(Command::new("sh")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/rootfs.sh"))
        .arg(env!("CARGO_BIN_EXE_layerguard"))
        .arg(&rootfs));
    let tag = "layerguard-test/own-image:build";
    build(context.path(), tag).unwrap_or_else(|e| panic!("docker build failed:\n{e}"));
    let id = String::from_utf8(run(
        Command::new("docker").args(["image", "inspect", "--format", "{{.Id}}", tag])
    ))
    .unwrap()
    .trim()
    .to_owned();
    // The tag only names the build; what is run and scanned is the immutable ID.

    // As the README's task definition runs it: read-only, no capabilities, as its own user.
    let version = run(Command::new("docker").args([
        "run",
        "--rm",
        "--read-only",
        "--cap-drop",
        "ALL",
        "--security-opt",
        "no-new-privileges",
        &id,
        "--version",
    ]));
    let version = String::from_utf8(version).unwrap();
    let user = String::from_utf8(run(Command::new("docker").args([
        "image",
        "inspect",
        "--format",
        "{{.Config.User}}",
        &id,
    ])))
    .unwrap();

    let scan = scan(
        &format!("docker-daemon:{id}"),
        &["--fail-on", "low", "--no-cache"],
    );
    run(Command::new("docker").args(["rmi", "--force", tag]));

    assert!(
        version.starts_with(&format!("layerguard {}", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
    assert_eq!(user.trim(), "65532:65532");
    assert_eq!(scan.code, 0, "{}\n{:#}", scan.stderr, scan.json["findings"]);
    let findings = scan.json["findings"].as_array().unwrap();
    assert!(
        findings.iter().all(|f| f["severity"] == "info"),
        "{findings:#?}"
    );
    // Scanners name the libraries it carries by their Debian packages, as in distroless images.
    let packages: Vec<&str> = scan.json["inventory"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["type"] == "deb")
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(packages.contains(&"libc6"), "{packages:?}");
    // Their status.d md5sums say which package each library is; the binary is nobody's.
    let owners: Vec<(&str, &Value)> = scan.json["inventory"]["binaries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["path"].as_str().unwrap(), &b["package"]))
        .collect();
    assert!(
        owners
            .iter()
            .any(|(path, owner)| path.ends_with("/libc.so.6") && *owner == "libc6"),
        "{owners:?}"
    );
    assert!(
        owners
            .iter()
            .all(|(path, owner)| owner.is_string() != (*path == "/usr/local/bin/layerguard")),
        "{owners:?}"
    );
    // Two layers: the filesystem and the user's cache directory.
    assert_eq!(
        scan.json["image"]["layers"].as_array().unwrap().len(),
        2,
        "{:#}",
        scan.json["image"]["layers"]
    );
}
