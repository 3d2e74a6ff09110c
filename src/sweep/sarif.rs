//! SARIF for a whole sweep: one run, whatever the number of images.
//!
//! GitHub code scanning takes at most 20 runs in an upload, and a sweep has hundreds of images,
//! so the images and repositories share one run, told apart by where their results sit: a file
//! of an image at `REGISTRY/REPOSITORY/PATH`, an image-level finding at
//! `REGISTRY/REPOSITORY/Dockerfile`, a repository's setting at `REGISTRY/REPOSITORY`. None of
//! these is in the checkout the upload goes with, so every result carries its own line hash
//! (GitHub's uploader only computes one for files it can read), and a result that is not about a
//! file takes a line of its own so that results of one rule at one place stay separate alerts,
//! as the image report's SARIF does. The run's category names the registries swept, so the next
//! night's sweep replaces this one's alerts and closes what was fixed.

use super::report::SweepReport;
use crate::finding::{Finding, Severity};
use crate::report::sarif::{
    CATEGORY_PREFIX, FINGERPRINT_KEY, INFORMATION_URI, LINE_HASH_KEY, SCHEMA_URI, descriptor_id,
    encode_uri_path, fingerprint_place, hash_parts, level, line_hash, rootfs_path, rule, sanitise,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

/// GitHub rejects a run with more results.
const RESULTS_PER_RUN: usize = 25_000;

/// One result to write.
struct Entry<'a> {
    /// `REGISTRY/REPOSITORY`: what the result is in.
    subject: String,
    /// The image's reference, for an image's finding.
    image: Option<&'a str>,
    finding: Finding,
    /// The ignore's reason, when one suppressed the finding.
    suppressed: Option<String>,
}

impl Entry<'_> {
    /// Where the result sits, and whether that is a file (rather than a slot for one result).
    fn uri(&self) -> (String, bool) {
        match (self.image, rootfs_path(&self.finding.location)) {
            (Some(_), Some(path)) => (format!("{}/{}", self.subject, path), true),
            (Some(_), None) => (format!("{}/Dockerfile", self.subject), false),
            (None, _) => (self.subject.clone(), false),
        }
    }
}

/// Writes `report` as one SARIF log of one run.
pub fn render(report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
    let mut entries = entries(report);
    entries.sort_by(|a, b| {
        (std::cmp::Reverse(a.finding.severity), &a.subject, a.image)
            .cmp(&(std::cmp::Reverse(b.finding.severity), &b.subject, b.image))
            .then_with(|| a.finding.sort_key().cmp(&b.finding.sort_key()))
    });
    let total = entries.len();
    // The most severe first, so what is cut is the least severe.
    entries.truncate(RESULTS_PER_RUN);

    let mut used: BTreeSet<(String, std::cmp::Reverse<Severity>)> = BTreeSet::new();
    for e in &entries {
        used.insert((
            e.finding.code.to_string(),
            std::cmp::Reverse(e.finding.severity),
        ));
    }
    let mut descriptors = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for (code, std::cmp::Reverse(severity)) in &used {
        if let Some(rule_ref) = crate::rules::find(code) {
            let meta = rule_ref.meta();
            index.insert(descriptor_id(meta, *severity), descriptors.len());
            descriptors.push(rule(meta, *severity));
        }
    }

    // The n-th result of a rule at one place: its line slot and its fingerprint's number.
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
    let results: Vec<Value> = entries
        .iter()
        .map(|e| {
            let code = e.finding.code.as_ref();
            let (uri, is_file) = e.uri();
            let n = {
                let count = seen.entry((code.to_owned(), uri.clone())).or_default();
                *count += 1;
                *count
            };
            let meta = crate::rules::find(code).map(|r| r.meta());
            let rule_id = meta.map_or_else(
                || code.to_owned(),
                |meta| descriptor_id(meta, e.finding.severity),
            );
            let place = fingerprint_place(&e.finding.location);
            let nth = n.to_string();
            let mut parts = vec![code, place.as_str(), e.subject.as_str()];
            if n > 1 {
                parts.push(&nth);
            }
            let mut properties = json!({
                "severity": e.finding.severity.as_str(),
                "repository": e.subject,
            });
            if let Some(image) = e.image {
                properties["image"] = json!(image);
            }
            let loc = &e.finding.location;
            if let Some(path) = &loc.path {
                properties["path"] = json!(path);
            }
            if let Some(layer) = loc.layer {
                properties["layer"] = json!(layer);
            }
            if let Some(config) = &loc.config {
                properties["config"] = json!(config);
            }
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": encode_uri_path(&uri) },
                    "region": { "startLine": if is_file { 1 } else { n } },
                },
            });
            if let Some(config) = &loc.config {
                location["logicalLocations"] = json!([{ "name": config, "kind": "resource" }]);
            }
            let mut result = json!({
                "ruleId": rule_id,
                "level": level(e.finding.severity),
                "message": { "text": e.finding.message },
                "locations": [location],
                "partialFingerprints": {
                    FINGERPRINT_KEY: hex::encode(hash_parts(&parts)),
                    LINE_HASH_KEY: format!("{}:{n}", line_hash(code, &uri)),
                },
                "properties": properties,
            });
            if let Some(&i) = index.get(&rule_id) {
                result["ruleIndex"] = json!(i);
            }
            if let Some(reason) = &e.suppressed {
                result["suppressions"] = json!([{ "kind": "external", "justification": reason }]);
            }
            result
        })
        .collect();

    let mut notifications: Vec<Value> = report
        .failures
        .iter()
        .map(|f| warning(&format!("{}: {}", f.subject, f.error)))
        .chain(report.repositories.iter().flat_map(|r| {
            r.warnings
                .iter()
                .map(move |w| warning(&format!("{}/{}: {w}", r.registry, r.name)))
        }))
        .collect();
    if total > results.len() {
        notifications.push(warning(&format!(
            "{} of {total} results left out to stay within GitHub code scanning's limit of \
             {RESULTS_PER_RUN} results per run, the least severe first; the JSON report lists \
             every finding",
            total - results.len()
        )));
    }

    let registries: BTreeSet<&str> = report
        .repositories
        .iter()
        .map(|r| r.registry.as_str())
        .collect();
    let swept = registries.iter().copied().collect::<Vec<_>>().join("+");
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "layerguard",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": descriptors,
                }
            },
            "automationDetails": {
                "id": format!("{CATEGORY_PREFIX}/sweep/{}/", sanitise(&swept)),
                "description": { "text": format!(
                    "layerguard sweep of {} repositories and {} images",
                    report.totals.repositories, report.totals.images
                ) },
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": { "totals": report.totals },
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

fn warning(text: &str) -> Value {
    json!({ "level": "warning", "message": { "text": text } })
}

/// Every finding of the sweep, suppressed ones included (so code scanning closes their alerts
/// rather than forgetting them), with what it is in.
fn entries(report: &SweepReport) -> Vec<Entry<'_>> {
    let mut entries = Vec::new();
    for r in &report.repositories {
        let subject = format!("{}/{}", r.registry, r.name);
        entries.extend(r.findings.iter().map(|f| Entry {
            subject: subject.clone(),
            image: None,
            finding: f.clone(),
            suppressed: None,
        }));
    }
    for image in &report.images {
        let subject = repository_of(&image.reference);
        let listed = |key: &str| {
            image.report[key]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
        };
        for value in listed("findings") {
            if let Ok(finding) = serde_json::from_value::<Finding>(value) {
                entries.push(Entry {
                    subject: subject.clone(),
                    image: Some(&image.reference),
                    finding,
                    suppressed: None,
                });
            }
        }
        for value in listed("suppressed") {
            let reason = value["reason"].as_str().unwrap_or_default().to_owned();
            if let Ok(finding) = serde_json::from_value::<Finding>(value) {
                entries.push(Entry {
                    subject: subject.clone(),
                    image: Some(&image.reference),
                    finding,
                    suppressed: Some(reason),
                });
            }
        }
    }
    entries
}

/// `REGISTRY/REPOSITORY` of `REGISTRY/REPOSITORY[:TAG][@DIGEST]`: alerts follow the repository
/// from one image to the next.
fn repository_of(reference: &str) -> String {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    match without_digest.rsplit_once(':') {
        // A colon after the last slash is a tag's; one before it is a registry port's.
        Some((name, tag)) if !tag.contains('/') => name.to_owned(),
        _ => without_digest.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Location;
    use crate::sweep::report::{ImageEntry, RepositoryEntry};

    fn finding(code: &str, name: &str, severity: Severity, location: Location) -> Value {
        serde_json::to_value(Finding {
            rule: name.to_owned().into(),
            code: code.to_owned().into(),
            severity,
            message: format!("{name} here"),
            location,
        })
        .unwrap()
    }

    fn sample() -> SweepReport {
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        let mut report = SweepReport::default();
        report.repositories.push(RepositoryEntry {
            registry: host.into(),
            name: "team/app".into(),
            posture: Default::default(),
            findings: vec![
                serde_json::from_value(finding(
                    "LG021",
                    "ecr-mutable-tags",
                    Severity::Medium,
                    Location::default(),
                ))
                .unwrap(),
            ],
            warnings: vec![
                "ecr:GetLifecyclePolicy denied; the lifecycle-policy check was skipped".into(),
            ],
        });
        for tag in ["1", "2"] {
            report.images.push(ImageEntry {
                reference: format!("{host}/team/app:{tag}@sha256:{tag}"),
                repository: format!("{host}/team/app"),
                digest: format!("sha256:{tag}"),
                tags: vec![tag.into()],
                pushed_at: None,
                error: None,
                report: json!({ "findings": [
                    finding("LG001", "setuid-file", Severity::Medium, Location::file("/usr/bin/su", 1)),
                    finding("LG002", "root-user", Severity::High, Location::config("config.User")),
                    finding("LG012", "no-healthcheck", Severity::Info, Location::config("config.Healthcheck")),
                ]}),
            });
        }
        report
    }

    fn rendered(report: &SweepReport) -> Value {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn one_run_holds_every_image_and_repository_each_at_its_own_place() {
        let log = rendered(&sample());
        let errors = crate::report::sarif::schema_errors(&log);
        assert!(errors.is_empty(), "{errors:#?}");
        let runs = log["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let results = runs[0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 7);
        let uris: BTreeSet<&str> = results
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        assert_eq!(
            uris,
            BTreeSet::from([
                format!("{host}/team/app").as_str(),
                format!("{host}/team/app/Dockerfile").as_str(),
                format!("{host}/team/app/usr/bin/su").as_str(),
            ])
        );
        // Two images of one repository with the same finding: two alerts, not one.
        let prints: BTreeSet<&str> = results
            .iter()
            .map(|r| r["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap())
            .collect();
        assert_eq!(prints.len(), results.len());
        for r in results {
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(runs[0]["tool"]["driver"]["rules"][index]["id"], r["ruleId"]);
            assert!(r["partialFingerprints"][LINE_HASH_KEY].is_string());
        }
        assert_eq!(
            runs[0]["invocations"][0]["toolExecutionNotifications"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert!(
            runs[0]["automationDetails"]["id"]
                .as_str()
                .unwrap()
                .starts_with("layerguard/sweep/123456789012.dkr.ecr.us-east-1.amazonaws.com")
        );
    }

    #[test]
    fn repositories_are_named_without_tag_or_digest_but_with_a_port() {
        assert_eq!(
            repository_of("r.example:5000/team/app:1@sha256:ab"),
            "r.example:5000/team/app"
        );
        assert_eq!(
            repository_of("r.example:5000/team/app"),
            "r.example:5000/team/app"
        );
        assert_eq!(repository_of("host/app@sha256:ab"), "host/app");
    }
}
