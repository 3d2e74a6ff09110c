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

/// The exit code and standard output of a scan of `image` with `args`.
fn report_of(image: &str, args: &[&str]) -> (i32, String) {
    let out = layerguard()
        .arg("scan")
        .arg(image)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn junit_has_one_case_per_rule() {
    let (_, text) = render("junit");
    assert!(text.starts_with("<?xml"));
    assert!(text.contains("<testsuite"));
    assert!(!text.contains("hunter2hunter2"));
}

#[test]
fn reports_junit_fails_only_what_fail_on_fails() {
    let image = fixture("docker-archive", "kitchen-sink.tar");
    let truth = scan(&image, &["--fail-on", "never"]);
    let findings = truth.json["findings"].as_array().unwrap();
    let severe =
        |f: &serde_json::Value| ["critical", "high"].contains(&f["severity"].as_str().unwrap());
    assert!(findings.iter().any(severe) && !findings.iter().all(severe));
    for severity in ["medium", "low", "info"] {
        assert!(
            findings.iter().any(|f| f["severity"] == severity),
            "the fixture has {severity} findings"
        );
    }

    let (code, xml) = report_of(&image, &["--format", "junit", "--fail-on", "high"]);
    assert_eq!(code, 1, "the gate fails on the high findings");
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let mut failing_rules = 0;
    for case in &cases {
        let classname = case.attribute("classname").unwrap();
        assert!(
            classname.contains("layerguard-fixture/kitchen-sink"),
            "{classname}"
        );
        let rule = case.attribute("name").unwrap();
        let of_rule: Vec<_> = findings.iter().filter(|f| f["rule"] == rule).collect();
        let failure = case.children().find(|n| n.has_tag_name("failure"));
        let out = case.children().find(|n| n.has_tag_name("system-out"));
        let body = failure.and_then(|f| f.text()).unwrap_or("");
        let detail = out.and_then(|o| o.text()).unwrap_or("");
        for f in &of_rule {
            let message = f["message"].as_str().unwrap();
            if severe(f) {
                assert!(body.contains(message), "{rule}: {message} fails");
            } else {
                assert!(!body.contains(message), "{rule}: {message} passes");
                assert!(
                    detail.contains(message),
                    "{rule}: {message} is in system-out"
                );
            }
        }
        let severe_here = of_rule.iter().filter(|f| severe(f)).count();
        assert_eq!(failure.is_some(), severe_here > 0, "{rule}");
        if let Some(failure) = failure {
            failing_rules += 1;
            assert!(body.contains("Fix: "), "{rule}: the fix is in the failure");
            assert_eq!(
                failure.attribute("message").unwrap(),
                format!("{severe_here} finding(s) at or above high")
            );
        }
    }
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    assert_eq!(
        suite.attribute("failures"),
        Some(failing_rules.to_string().as_str())
    );
    assert!(!xml.contains("hunter2hunter2"));

    let (code, xml) = report_of(&image, &["--format", "junit", "--fail-on", "never"]);
    assert_eq!(code, 0);
    let doc = roxmltree::Document::parse(&xml).unwrap();
    assert!(!doc.descendants().any(|n| n.has_tag_name("failure")));
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
}

fn sarif_of(name: &str) -> serde_json::Value {
    let (_, text) = report_of(
        &fixture("docker-archive", name),
        &["--format", "sarif", "--fail-on", "never"],
    );
    serde_json::from_str(&text).unwrap()
}

#[test]
fn reports_sarif_is_what_github_code_scanning_needs_to_keep_findings_apart() {
    let kitchen = sarif_of("kitchen-sink.tar");
    let clean = sarif_of("clean.tar");

    for log in [&kitchen, &clean] {
        let errors = crate::support::sarif_schema_errors(log);
        assert!(errors.is_empty(), "{errors:#?}");
    }

    // Two images uploaded from one job need two categories.
    let category = |log: &serde_json::Value| {
        log["runs"][0]["automationDetails"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_ne!(category(&kitchen), category(&clean));
    assert!(category(&kitchen).starts_with("layerguard/layerguard-fixture/kitchen-sink/"));
    assert!(category(&kitchen).ends_with('/'));

    let run = &kitchen["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    let mut bands = std::collections::BTreeSet::new();
    let mut seen = std::collections::HashSet::new();
    for r in results {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
        // GitHub shows the descriptor's severity, so it must be the result's own.
        assert_eq!(rule["defaultConfiguration"]["level"], r["level"]);
        assert_eq!(rule["properties"]["severity"], r["properties"]["severity"]);
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(score > 0.0, "{}", rule["id"]);
        bands.insert(r["properties"]["severity"].as_str().unwrap().to_owned());

        let physical = &r["locations"][0]["physicalLocation"];
        let artifact = &physical["artifactLocation"];
        let line_hash = r["partialFingerprints"]["primaryLocationLineHash"].as_str();
        let primary = if artifact["uriBaseId"] == "ROOTFS" {
            line_hash
                .expect("a file in the image carries its own line hash")
                .to_owned()
        } else {
            assert_eq!(artifact["uri"], "Dockerfile");
            assert!(line_hash.is_none(), "the uploader hashes the Dockerfile");
            format!("Dockerfile:{}", physical["region"]["startLine"])
        };
        let rule_code = r["ruleId"].as_str().unwrap().split('/').next().unwrap();
        assert!(
            seen.insert((rule_code.to_owned(), primary.clone())),
            "{rule_code} {primary} is shared by two findings"
        );
    }
    assert_eq!(
        bands.len(),
        5,
        "the fixture has findings at every severity: {bands:?}"
    );

    let tag = results
        .iter()
        .find(|r| r["ruleId"].as_str().unwrap().starts_with("LG007"))
        .unwrap();
    assert_eq!(tag["level"], "note");
    assert_eq!(tag["ruleId"], "LG007/low");
    let rule = &rules[tag["ruleIndex"].as_u64().unwrap() as usize];
    assert_eq!(rule["defaultConfiguration"]["level"], "note");
    let score: f64 = rule["properties"]["security-severity"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((0.1..4.0).contains(&score), "low band: {score}");
    // The rule keeps its default descriptor for images where the tag is the high kind.
    assert!(
        rules
            .iter()
            .any(|r| r["id"] == "LG007" && r["defaultConfiguration"]["level"] == "error")
    );
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

#[test]
fn output_dash_colour_and_quiet_do_what_ci_logs_want() {
    let image = fixture("docker-archive", "kitchen-sink.tar");
    let table = |extra: &[&str], env: Option<(&str, &str)>| {
        let mut cmd = layerguard();
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd
            .args(["scan", &image, "--fail-on", "never"])
            .args(extra)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let dash = table(&["--output", "-"], None);
    assert!(dash.starts_with("Image "), "{dash}");
    assert!(!dir.path().join("-").exists());

    let coloured = table(&["--color", "always"], None);
    assert!(
        coloured.contains('\u{1b}'),
        "always colours, even into a pipe"
    );
    let never = table(&["--color", "never"], Some(("TERM", "xterm-256color")));
    assert!(!never.contains('\u{1b}'));

    let quiet = table(&["--quiet"], None);
    assert!(
        !quiet.contains("Summary:") && quiet.contains("setuid-file"),
        "{quiet}"
    );
    let full = table(&[], None);
    let first_finding = full.find("  [").unwrap();
    assert!(
        full.find("Gate:").unwrap() < first_finding,
        "verdict first: {full}"
    );
}
