//! Report formats: deterministic JSON, SARIF GitHub accepts, JUnit, a readable table.

use crate::support::*;

fn render(format: &str) -> (i32, String) {
    let out = layerguard()
        .args([
            "scan",
            &fixture("docker-archive", "kitchen-sink.tar"),
            "--format",
            format,
            "--fail-on",
            "never",
        ])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn json_is_deterministic_and_has_the_documented_fields() {
    let (_, a) = render("json");
    let (_, b) = render("json");
    assert_eq!(a, b);
    let v: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert_eq!(v["schema_version"], 1);
    for field in ["reference", "digest", "platform", "layers", "size"] {
        assert!(v["image"].get(field).is_some(), "image.{field}");
    }
    assert!(
        v["image"]["size"]["compressed"].is_u64() && v["image"]["size"]["uncompressed"].is_u64()
    );
    for f in v["findings"].as_array().unwrap() {
        for field in ["rule", "code", "severity", "message", "location"] {
            assert!(f.get(field).is_some(), "finding.{field}");
        }
        if let Some(p) = f["location"]["path"].as_str() {
            assert!(p.starts_with('/') || f["rule"] == "path-escape", "{p}");
        }
    }
}

#[test]
fn sarif_results_all_have_locations() {
    let (_, text) = render("sarif");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(!uri.starts_with('/'), "{uri}");
    }
}

#[test]
fn junit_has_one_case_per_rule() {
    let (_, text) = render("junit");
    assert!(text.starts_with("<?xml"));
    assert!(text.contains("<testsuite") && text.contains("<failure"));
    assert!(!text.contains("hunter2hunter2"));
}

#[test]
fn table_is_plain_when_not_a_terminal_and_output_file_works() {
    let (_, text) = render("table");
    assert!(!text.contains('\u{1b}'), "no colour codes when piped");
    assert!(text.contains("setuid-file"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.sarif");
    let out = layerguard()
        .args([
            "scan",
            &fixture("docker-archive", "clean.tar"),
            "--format",
            "sarif",
            "--output",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("\"2.1.0\"")
    );
}
