//! Broken and hostile images: each gives a clear error and exit 2, never a panic or a partial
//! report (issue 2, "Hostile input").

use crate::support::*;

fn fails_with(image: String, needles: &[&str]) {
    fails_with_args(&image, &[], needles);
}

fn fails_with_args(image: &str, args: &[&str], needles: &[&str]) {
    let s = scan(image, args);
    assert_eq!(
        s.code, 2,
        "{image}: expected an error, got {} / {}",
        s.code, s.stderr
    );
    assert!(
        s.json.is_null(),
        "{image}: no report may be printed on error"
    );
    for n in needles {
        assert!(s.stderr.contains(n), "{image}: {n:?} not in {}", s.stderr);
    }
}

#[test]
fn wrong_layer_digest_names_layer_and_both_digests() {
    fails_with(
        fixture("oci", "bad-layer-digest.oci:1"),
        &[
            "layer 0",
            "compressed digest mismatch",
            "expected sha256:",
            "got sha256:",
        ],
    );
}

#[test]
fn wrong_diff_id_is_rejected() {
    fails_with(
        fixture("docker-archive", "bad-diff-id.tar"),
        &["uncompressed digest mismatch", "expected sha256:"],
    );
}

#[test]
fn truncated_gzip_is_rejected() {
    fails_with(fixture("oci", "truncated-gzip.oci:1"), &["layer 0"]);
}

#[test]
fn tar_entry_larger_than_its_layer_is_rejected() {
    fails_with(
        fixture("docker-archive", "entry-larger-than-layer.tar"),
        &["layer 0", "unexpected"],
    );
}

#[test]
fn a_layer_that_compresses_extremely_well_scans_with_a_warning_and_max_layer_bytes_stops_it() {
    // 2 GiB of zeros in 2 MiB of gzip: what a sparse /var/log/lastlog looks like, and a bomb.
    let image = fixture("oci", "gzip-bomb.oci:1");
    let s = scan(&image, &["--fail-on", "never"]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let warned = s.json["warnings"].as_array().unwrap().iter().any(|w| {
        w["message"].as_str().unwrap().contains("decompresses") && w["location"] == "layer 0"
    });
    assert!(warned, "{}", s.json["warnings"]);
    let (_dir, config) = crate::support::config("[limits]\nmax_layer_bytes = 1073741824\n");
    let config = config.display().to_string();
    fails_with_args(&image, &["--config", &config], &["max_layer_bytes"]);
}

#[test]
fn malformed_json_is_named() {
    fails_with(
        fixture("docker-archive", "malformed-manifest.tar"),
        &["malformed manifest.json"],
    );
    fails_with(
        fixture("docker-archive", "malformed-config.tar"),
        &["malformed config"],
    );
}

#[test]
fn unknown_media_type_is_rejected() {
    fails_with(
        fixture("oci", "unknown-media-type.oci:1"),
        &["unsupported layer media type", "application/x-foo"],
    );
}

#[test]
fn dotdot_names_are_findings_not_crashes() {
    let s = scan(
        &fixture("docker-archive", "dotdot.tar"),
        &["--fail-on", "never"],
    );
    assert_eq!(s.code, 0, "{}", s.stderr);
    let escapes: Vec<String> = s
        .findings("path-escape")
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(escapes.len(), 2, "{escapes:?}");
    assert!(escapes.iter().any(|m| m.contains("../../etc/evil")));
}

#[test]
fn multi_member_gzip_layers_are_read_whole() {
    let s = scan(
        &fixture("oci", "gzip-multimember.oci:1"),
        &["--fail-on", "never"],
    );
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert!(s.json["image"]["files"].as_u64().unwrap() >= 2);
}
