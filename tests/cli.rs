//! Exit codes, config ignores and the rules commands (issue 2, "Output and exit codes").

use crate::support::*;

#[test]
fn fail_on_sets_the_exit_code() {
    let image = fixture("docker-archive", "kitchen-sink.tar");
    assert_eq!(scan(&image, &[]).code, 1);
    assert_eq!(scan(&image, &["--fail-on", "never"]).code, 0);
    let clean = fixture("docker-archive", "clean.tar");
    assert_eq!(scan(&clean, &["--fail-on", "high"]).code, 0);
    assert_eq!(
        scan(&clean, &["--fail-on", "low"]).code,
        1,
        "the low mutable-tag finding"
    );
}

#[test]
fn ignores_suppress_and_expired_ones_say_so() {
    let image = fixture("docker-archive", "named-root.tar");
    let (_d, cfg) = config(
        "[[ignore]]\nrule = \"root-user\"\nreason = \"legacy base, ticket OPS-1\"\nexpires = 2999-01-01\n\n[[ignore]]\nrule = \"LG007\"\nreason = \"old\"\nexpires = 2001-01-01\n",
    );
    let s = scan(
        &image,
        &["--config", cfg.to_str().unwrap(), "--fail-on", "never"],
    );
    assert!(s.findings("root-user").is_empty());
    assert_eq!(s.json["suppressed"][0]["rule"], "root-user");
    assert_eq!(
        s.json["suppressed"][0]["reason"],
        "legacy base, ticket OPS-1"
    );
    assert_eq!(
        s.findings("mutable-tag").len(),
        1,
        "expired ignore no longer suppresses"
    );
    assert!(s.json["warnings"].to_string().contains("expired"));
}

#[test]
fn config_is_found_in_the_working_directory_and_bad_config_exits_2() {
    let (dir, _) = config("max_layers = 1\n");
    let mut cmd = layerguard();
    cmd.current_dir(dir.path());
    let s = scan_with(
        cmd,
        &fixture("docker-archive", "clean.tar"),
        &["--fail-on", "never"],
    );
    assert_eq!(s.findings("excess-layers").len(), 1);

    let (_d, bad) = config("max_layers = \"many\"\n");
    let s = scan(
        &fixture("docker-archive", "clean.tar"),
        &["--config", bad.to_str().unwrap()],
    );
    assert_eq!(s.code, 2);
    assert!(s.stderr.contains("layerguard.toml"), "{}", s.stderr);
}

#[test]
fn config_values_are_checked_when_the_file_loads() {
    let clean = fixture("docker-archive", "clean.tar");
    for (text, key, accepted) in [
        (
            "max_image_size = \"1 gigabyte\"\n",
            "max_image_size",
            "like \"500MB\" or \"1GiB\"",
        ),
        (
            "[limits]\nmax_entries = 0\n",
            "[limits] max_entries = 0",
            "at least 1",
        ),
        (
            "[limits]\nmax_ratio = 1\n",
            "[limits] max_ratio = 1",
            "at least 2",
        ),
        ("max_layers = 0\n", "max_layers = 0", "at least 1"),
        (
            "[[ignore]]\nrule = \"root-user\"\nreason = \"\"\n",
            "empty reason",
            "say why the finding is accepted",
        ),
    ] {
        let (_d, cfg) = config(text);
        let s = scan(&clean, &["--config", cfg.to_str().unwrap()]);
        assert_eq!(s.code, 2, "{text}: {}", s.stderr);
        let stderr = s.stderr.trim();
        assert_eq!(stderr.lines().count(), 1, "one sentence: {stderr}");
        assert!(
            stderr.contains("layerguard.toml") && stderr.contains(key) && stderr.contains(accepted),
            "{text}: {stderr}"
        );
    }
}

#[test]
fn rules_and_explain_list_every_rule() {
    let out = layerguard()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rules.as_array().unwrap().len() >= 18);
    let out = layerguard()
        .args(["explain", "setuid-file"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("LG001") && text.contains("How to fix"));
    let same = layerguard().args(["explain", "lg001"]).output().unwrap();
    assert_eq!(String::from_utf8(same.stdout).unwrap(), text);
    assert_eq!(
        layerguard()
            .args(["explain", "nope"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn readme_rules_table_is_current() {
    let out = layerguard()
        .args(["rules", "--format", "markdown", "--only", "image"])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&table),
        "README rules table is stale; paste `layerguard rules --format markdown --only image`"
    );
}

#[test]
fn bundled_sample_scans() {
    let s = scan(
        concat!(
            "docker-archive:",
            env!("CARGO_MANIFEST_DIR"),
            "/testdata/sample/sample.tar"
        ),
        &[],
    );
    assert_eq!(s.code, 1);
    assert!(s.rules().contains(&"setuid-file".to_owned()));
}

#[test]
fn no_inventory_keeps_the_findings_and_drops_the_inventory() {
    let image = fixture("docker-archive", "kitchen-sink.tar");
    let full = scan(&image, &["--fail-on", "never"]);
    let rules_only = scan(&image, &["--fail-on", "never", "--no-inventory"]);
    assert_eq!(rules_only.json["findings"], full.json["findings"]);
    assert!(full.json["inventory"]["os"].is_object());
    assert!(
        rules_only.json["inventory"]["packages"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
