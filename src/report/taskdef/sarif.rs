//! SARIF 2.1.0 for a task-definition lint, shaped for GitHub code scanning like the image
//! report: each result sits in the task-definition file (at the field's line when it is
//! written, the enclosing object's when it is missing), with the JSON field as its logical
//! location. The file is in the repository, so GitHub's uploader computes the line hashes itself.

use super::TaskDefinitionReport;
use crate::finding::Severity;
use crate::report::sarif::{
    FINGERPRINT_KEY, SCHEMA_URI, descriptor_id, encode_uri_path, hash_parts, level, rule,
    run_in_shared_upload, sanitise, tool,
};
use crate::taskdef::TaskFinding;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};

/// Where results of a task definition read from standard input sit: there is no file to name.
const STDIN_URI: &str = "task-definition.json";

pub(super) fn render(report: &TaskDefinitionReport, out: &mut dyn Write) -> io::Result<()> {
    let mut log = log(report);
    // Each image is a run of its own, exactly the run `scan` makes of it: its own category keeps
    // its alerts apart from the task definition's and the same as a scan of the image would
    // leave them, and GitHub takes up to 20 runs in an upload, more than a task's 10 containers.
    let images: Vec<_> = report.image_reports().collect();
    for (_, image) in &images {
        let run = run_in_shared_upload(image, images.len() + 1)?;
        if let Some(runs) = log["runs"].as_array_mut() {
            runs.push(run);
        }
    }
    let mut bytes = serde_json::to_vec_pretty(&log)?;
    bytes.push(b'\n');
    out.write_all(&bytes)
}

/// A relative URI reference for the file as the user named it; an absolute path becomes a
/// `file:` URI, which SARIF allows though GitHub wants paths in the checkout.
fn artifact_uri(file: &str) -> String {
    if file == "-" {
        return STDIN_URI.to_owned();
    }
    let path = file.trim_start_matches("./");
    if path.starts_with('/') {
        format!("file://{}", encode_uri_path(path))
    } else {
        encode_uri_path(path)
    }
}

fn log(report: &TaskDefinitionReport) -> Value {
    let all: Vec<(&TaskFinding, Option<&str>)> = report
        .findings
        .iter()
        .map(|f| (f, None))
        .chain(
            report
                .suppressed
                .iter()
                .map(|s| (&s.finding, Some(s.reason.as_str()))),
        )
        .collect();

    // Every check at its default severity, then one descriptor per other severity used: GitHub
    // takes an alert's severity from the descriptor only.
    let mut extra: BTreeSet<(usize, std::cmp::Reverse<Severity>)> = BTreeSet::new();
    for (f, _) in &all {
        if let Some(i) = report.rules.iter().position(|r| r.code == f.code)
            && f.severity != report.rules[i].severity
        {
            extra.insert((i, std::cmp::Reverse(f.severity)));
        }
    }
    let mut descriptors = Vec::new();
    let mut index = HashMap::new();
    let defaults = report.rules.iter().map(|&m| (m, m.severity));
    let others = extra
        .into_iter()
        .map(|(i, std::cmp::Reverse(s))| (report.rules[i], s));
    for (meta, severity) in defaults.chain(others) {
        index.insert(descriptor_id(meta, severity), descriptors.len());
        descriptors.push(rule(meta, severity));
    }

    let family = report
        .task_definition
        .family
        .clone()
        .unwrap_or_else(|| report.task_definition.file.clone());
    let uri = artifact_uri(&report.task_definition.file);
    let mut seen: HashMap<[u8; 32], usize> = HashMap::new();
    let results: Vec<Value> = all
        .iter()
        .map(|(f, suppressed)| {
            let id = report
                .rule(&f.code)
                .map_or_else(|| f.code.to_string(), |m| descriptor_id(m, f.severity));
            // The rule, the field and the detail name the place; a revision that moves the
            // field to another line keeps the alert.
            let detail = f.detail.as_deref().unwrap_or("");
            let key = hash_parts(&[&f.code, &f.field, detail, &family]);
            let n = seen.entry(key).or_default();
            *n += 1;
            let nth = n.to_string();
            let mut parts = vec![f.code.as_ref(), f.field.as_str(), detail, family.as_str()];
            if *n > 1 {
                parts.push(&nth);
            }
            let mut properties = json!({ "severity": f.severity.as_str(), "field": f.field });
            if let Some(c) = &f.container {
                properties["container"] = json!(c);
            }
            if let Some(d) = &f.detail {
                properties["detail"] = json!(d);
            }
            let mut r = json!({
                "ruleId": id,
                "level": level(f.severity),
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri },
                        "region": { "startLine": f.line.unwrap_or(1) },
                    },
                    "logicalLocations": [{ "name": f.field, "kind": "member" }],
                }],
                "partialFingerprints": { FINGERPRINT_KEY: hex::encode(hash_parts(&parts)) },
                "properties": properties,
            });
            if let Some(i) = index.get(&id) {
                r["ruleIndex"] = json!(i);
            }
            if let Some(reason) = suppressed {
                r["suppressions"] = json!([{ "kind": "external", "justification": reason }]);
            }
            r
        })
        .collect();
    let notifications: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| json!({ "level": "warning", "message": { "text": w } }))
        .collect();

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": tool(&report.tool, descriptors),
            // One category per family: GitHub keeps the latest analysis of each, and refuses
            // two runs of one category in an upload.
            "automationDetails": {
                "id": format!("layerguard/task-definition/{}/", sanitise(&family)),
                "description": { "text": format!("layerguard taskdef of {}", report.name()) },
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "taskDefinitionFile": report.task_definition.file,
                "family": report.task_definition.family,
                "launchType": report.task_definition.launch_type,
                "os": report.task_definition.os,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> Value {
        let mut out = Vec::new();
        render(&super::super::tests::sample(), &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn results_sit_in_the_file_at_the_field_with_distinct_fingerprints() {
        let log = rendered();
        let results = log["runs"][0]["results"].as_array().unwrap();
        let privileged = results.iter().find(|r| r["ruleId"] == "LG101").unwrap();
        let location = &privileged["locations"][0];
        assert_eq!(
            location["physicalLocation"]["artifactLocation"]["uri"],
            "deploy/web.json"
        );
        assert_eq!(location["physicalLocation"]["region"]["startLine"], 8);
        assert_eq!(
            location["logicalLocations"][0]["name"],
            "containerDefinitions[0].privileged"
        );
        let prints: BTreeSet<&str> = results
            .iter()
            .map(|r| r["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap())
            .collect();
        assert_eq!(prints.len(), results.len());
        for r in results {
            let rule = &log["runs"][0]["tool"]["driver"]["rules"]
                [r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
        }
        assert_eq!(artifact_uri("./a b.json"), "a%20b.json");
        assert_eq!(artifact_uri("/srv/t.json"), "file:///srv/t.json");
        assert_eq!(artifact_uri("-"), STDIN_URI);
    }

    #[test]
    fn output_is_valid_against_the_official_sarif_schema() {
        let errors = crate::report::sarif::schema_errors(&rendered());
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
