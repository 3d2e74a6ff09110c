//! SARIF 2.1.0, shaped for GitHub code scanning.
//!
//! GitHub drops results without a physical location and rejects absolute or region-less ones, so
//! every result points somewhere in the repository: the file's path in the image, relative to the
//! `ROOTFS` base, or the `Dockerfile` that fixes image-level problems. The image-side truth (the
//! config field, the layer) travels in `logicalLocations` and `properties`.

use super::ScanReport;
use crate::finding::RuleMeta;
use crate::finding::{Finding, Severity};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::io::{self, Write};

const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const INFORMATION_URI: &str = "https://github.com/layerguard/layerguard";
const ROOTFS: &str = "ROOTFS";
const FALLBACK_URI: &str = "Dockerfile";
const FINGERPRINT_KEY: &str = "layerguard/v1";

pub(super) fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(report))?;
    writeln!(out)
}

fn log(report: &ScanReport) -> Value {
    let mut results: Vec<Value> = report.findings.iter().map(|f| result(report, f)).collect();
    results.extend(report.suppressed.iter().map(|s| {
        let mut r = result(report, &s.finding);
        // Kept rather than dropped so code scanning closes the alert instead of forgetting it.
        r["suppressions"] = json!([{ "kind": "external", "justification": s.reason }]);
        r
    }));
    let notifications: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| {
            let text = match &w.location {
                Some(loc) => format!("{loc}: {}", w.message),
                None => w.message.clone(),
            };
            json!({ "level": "warning", "message": { "text": text } })
        })
        .collect();

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": report.tool.name,
                    "version": report.tool.version,
                    "semanticVersion": report.tool.version,
                    "informationUri": INFORMATION_URI,
                    "rules": report.rules.iter().map(|r| rule(r)).collect::<Vec<_>>(),
                }
            },
            "originalUriBaseIds": {
                // No `uri`: the root is inside an image, not anywhere on the consumer's disk.
                ROOTFS: { "description": { "text": "The root of the scanned image's filesystem." } }
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": run_properties(report),
        }],
    })
}

fn run_properties(report: &ScanReport) -> Value {
    let image = &report.image;
    let mut p = json!({
        "imageReference": image.reference,
        "imageSource": image.source,
        "platform": image.platform,
    });
    if let Some(d) = &image.digest {
        p["imageDigest"] = json!(d.to_string());
    }
    if let Some(d) = &image.config_digest {
        p["imageConfigDigest"] = json!(d.to_string());
    }
    p
}

fn rule(meta: &RuleMeta) -> Value {
    json!({
        "id": meta.code,
        "name": meta.name,
        "shortDescription": { "text": meta.summary },
        "fullDescription": { "text": meta.rationale },
        "help": {
            "text": meta.remediation,
            "markdown": format!("**Remediation:** {}\n\n{}", meta.remediation, meta.rationale),
        },
        "defaultConfiguration": { "level": level(meta.severity) },
        "properties": {
            "security-severity": security_severity(meta.severity),
            "tags": ["security", "container"],
        },
    })
}

fn result(report: &ScanReport, f: &Finding) -> Value {
    let loc = &f.location;
    let relative = loc
        .path
        .as_deref()
        .map(|p| p.trim_start_matches('/'))
        .filter(|p| !p.is_empty());
    let artifact = match relative {
        Some(p) => json!({ "uri": encode_uri_path(p), "uriBaseId": ROOTFS }),
        None => json!({ "uri": FALLBACK_URI }),
    };

    let mut logical = Vec::new();
    if let Some(config) = &loc.config {
        logical.push(json!({ "name": config, "kind": "resource" }));
    }
    if let Some(layer) = loc.layer {
        logical.push(json!({ "name": format!("layer {layer}"), "kind": "resource" }));
    }
    let mut location = json!({
        "physicalLocation": { "artifactLocation": artifact, "region": { "startLine": 1 } },
    });
    if !logical.is_empty() {
        location["logicalLocations"] = Value::Array(logical);
    }

    let mut properties = json!({ "severity": f.severity.as_str() });
    if let Some(path) = &loc.path {
        properties["path"] = json!(path);
    }
    if let Some(layer) = loc.layer {
        properties["layer"] = json!(layer);
        if let Some(digest) = report
            .image
            .layers
            .get(layer)
            .and_then(|l| l.digest.as_ref())
        {
            properties["layerDigest"] = json!(digest.to_string());
        }
    }
    if let Some(config) = &loc.config {
        properties["config"] = json!(config);
    }
    if let Some(layer) = loc.removed_in_layer {
        properties["removedInLayer"] = json!(layer);
    }

    let mut r = json!({
        "ruleId": f.code,
        "level": level(f.severity),
        "message": { "text": f.message },
        "locations": [location],
        "partialFingerprints": { FINGERPRINT_KEY: fingerprint(report, f) },
        "properties": properties,
    });
    if let Some(index) = report.rules.iter().position(|r| r.code == f.code) {
        r["ruleIndex"] = json!(index);
    }
    r
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "0.0",
    }
}

/// Code scanning matches alerts across runs by this, so it leaves out what changes between builds
/// of the same image: the layer index, the message wording, and the tag or digest of the
/// reference.
fn fingerprint(report: &ScanReport, f: &Finding) -> String {
    let loc = &f.location;
    let place = match (&loc.path, &loc.config, loc.layer) {
        (Some(path), _, _) => format!("path:{path}"),
        (None, Some(config), _) => format!("config:{config}"),
        (None, None, Some(layer)) => format!("layer:{layer}"),
        (None, None, None) => "image".to_owned(),
    };
    let mut h = Sha256::new();
    // The repository, not the tag or digest: a new build of the same image keeps its alerts.
    let repository = report
        .image
        .image_ref
        .as_ref()
        .and_then(|r| r.repository_name())
        .unwrap_or_else(|| report.image.reference.clone());
    for part in [&f.code, place.as_str(), repository.as_str()] {
        h.update(part.as_bytes());
        // A separator that cannot occur in the parts, so `a`+`bc` never collides with `ab`+`c`.
        h.update([0u8]);
    }
    let digest: [u8; 32] = h.finalize().into();
    hex::encode(digest)
}

/// Percent-encodes everything but unreserved characters and `/`, so any file name, including one
/// with spaces, `%`, `#` or a `:` that would read as a scheme, is a valid relative URI reference.
fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::report::table::tests::sample_report;

    fn rendered(report: &ScanReport) -> Value {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn every_result_has_what_github_code_scanning_requires() {
        let report = sample_report();
        let log = rendered(&report);
        assert_eq!(log["$schema"], SCHEMA_URI);
        assert_eq!(log["version"], "2.1.0");
        let runs = log["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "layerguard");
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), crate::rules::RULES.len());
        for (rule, meta) in rules.iter().zip(&report.rules) {
            assert_eq!(rule["id"], meta.code);
            let sev = rule["properties"]["security-severity"].as_str().unwrap();
            assert!(sev.parse::<f64>().is_ok());
        }

        let results = run["results"].as_array().unwrap();
        assert_eq!(
            results.len(),
            report.findings.len() + report.suppressed.len()
        );
        for r in results {
            let id = r["ruleId"].as_str().unwrap();
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], id, "ruleIndex points at ruleId");
            assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
            assert!(!r["message"]["text"].as_str().unwrap().is_empty());
            let physical = &r["locations"][0]["physicalLocation"];
            let uri = physical["artifactLocation"]["uri"].as_str().unwrap();
            assert!(!uri.is_empty() && !uri.starts_with('/'), "{uri}");
            assert!(!uri.contains(' ') && !uri.contains(':'), "{uri}");
            assert!(physical["region"]["startLine"].as_u64().unwrap() >= 1);
            let fp = r["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap();
            assert_eq!(fp.len(), 64);
        }

        let path = &results[1];
        assert_eq!(path["ruleId"], "LG001");
        assert_eq!(path["level"], "warning");
        let artifact = &path["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uri"], "usr/bin/su");
        assert_eq!(artifact["uriBaseId"], ROOTFS);
        assert_eq!(path["properties"]["layer"], 1);

        let config = &results[0];
        assert_eq!(config["level"], "error");
        let location = &config["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "Dockerfile"
        );
        assert_eq!(location["logicalLocations"][0]["name"], "config.User");
        assert_eq!(location["logicalLocations"][0]["kind"], "resource");
        assert_eq!(config["properties"]["config"], "config.User");

        let odd = &results[2];
        assert_eq!(
            odd["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "opt/my%20app/run%3Ame"
        );
        assert_eq!(odd["properties"]["removedInLayer"], 2);

        let layer = &results[3];
        assert_eq!(layer["level"], "note");
        assert_eq!(
            layer["locations"][0]["logicalLocations"][0]["name"],
            "layer 2"
        );

        let suppressed = &results[4];
        assert_eq!(suppressed["suppressions"][0]["kind"], "external");

        assert_eq!(
            run["properties"]["imageReference"],
            "registry.example/app:1.2"
        );
        assert_eq!(run["properties"]["platform"], "linux/amd64");
        assert!(
            run["properties"]["imageDigest"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
        assert_eq!(
            run["invocations"][0]["toolExecutionNotifications"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn fingerprints_survive_a_new_tag_and_layer_but_not_a_new_place() {
        let report = sample_report();
        let mut retagged = report.clone();
        retagged.image.reference = format!("registry.example/app:1.3@{}", Digest::of(b"x"));
        retagged.image.image_ref =
            crate::reference::ImageRef::parse(&retagged.image.reference).ok();
        assert!(retagged.image.image_ref.is_some());
        retagged.findings[1].location.layer = Some(5);
        retagged.findings[1].message = "reworded".into();
        assert_eq!(
            fingerprint(&report, &report.findings[1]),
            fingerprint(&retagged, &retagged.findings[1])
        );
        let prints: std::collections::HashSet<String> = report
            .findings
            .iter()
            .map(|f| fingerprint(&report, f))
            .collect();
        assert_eq!(prints.len(), report.findings.len());
    }

    #[test]
    fn output_is_valid_against_the_official_sarif_schema() {
        let schema: Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemas/sarif-schema-2.1.0.json"
        )))
        .unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();

        let mut empty = sample_report();
        empty.findings.clear();
        empty.suppressed.clear();
        empty.warnings.clear();
        empty.image.digest = None;
        for report in [sample_report(), empty] {
            let instance = rendered(&report);
            let errors: Vec<String> = validator
                .iter_errors(&instance)
                .map(|e| format!("{} at {}", e, e.instance_path))
                .collect();
            assert!(errors.is_empty(), "{errors:#?}");
        }

        // Proves the schema is in force rather than vacuously accepting anything.
        let mut broken = rendered(&sample_report());
        broken["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!validator.is_valid(&broken));
    }
}
