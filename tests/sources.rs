//! Every input form reads the same image to the same result (issue 2, "Inputs").

use crate::support::*;
use serde_json::Value;

/// Findings that do not depend on how the image is named.
fn content_findings(s: &Scan) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = s.json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] != "mutable-tag" && f["rule"] != "untrusted-registry")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn baseline(name: &str) -> Scan {
    let s = scan(
        &fixture("docker-archive", &format!("{name}.tar")),
        &["--fail-on", "never"],
    );
    assert_eq!(s.code, 0, "{}", s.stderr);
    s
}

#[test]
fn docker_archive_from_stdin_matches_the_file() {
    for name in ["clean", "kitchen-sink"] {
        let file = baseline(name);
        let mut cmd = layerguard();
        cmd.pipe_stdin(fixtures().join(format!("{name}.tar")))
            .unwrap();
        let piped = scan_with(cmd, "docker-archive:-", &["--fail-on", "never"]);
        assert_eq!(piped.code, 0, "{}", piped.stderr);
        assert_eq!(diff_ids(&piped), diff_ids(&file));
        assert_eq!(piped.json["findings"], file.json["findings"]);
    }
}

#[test]
fn docker_25_layout_reads_like_the_legacy_one() {
    for name in ["clean", "kitchen-sink"] {
        let legacy = baseline(name);
        let s = scan(
            &fixture("docker-archive", &format!("{name}.docker25.tar")),
            &["--fail-on", "never"],
        );
        assert_eq!(s.code, 0, "{}", s.stderr);
        assert_eq!(diff_ids(&s), diff_ids(&legacy));
        assert_eq!(content_findings(&s), content_findings(&legacy));
        assert!(
            s.json["image"]["digest"].is_string(),
            "the OCI manifest digest is reported"
        );

        let mut cmd = layerguard();
        cmd.pipe_stdin(fixtures().join(format!("{name}.docker25.tar")))
            .unwrap();
        let piped = scan_with(cmd, "docker-archive:-", &["--fail-on", "never"]);
        assert_eq!(piped.code, 0, "{}", piped.stderr);
        let mut expected = s.json["image"].clone();
        expected["source"] = Value::String("docker-archive:-".into());
        assert_eq!(piped.json["image"], expected);
        assert_eq!(piped.json["findings"], s.json["findings"]);
    }
}

#[test]
fn oci_layout_archive_and_zstd_read_like_docker_save() {
    for name in ["clean", "kitchen-sink"] {
        let legacy = baseline(name);
        for image in [
            fixture("oci", &format!("{name}.oci:1")),
            fixture("oci-archive", &format!("{name}.oci.tar:1")),
            fixture("oci", &format!("{name}.zstd.oci:1")),
        ] {
            let s = scan(&image, &["--fail-on", "never"]);
            assert_eq!(s.code, 0, "{image}: {}", s.stderr);
            assert_eq!(diff_ids(&s), diff_ids(&legacy), "{image}");
            assert_eq!(content_findings(&s), content_findings(&legacy), "{image}");
            // Layout layers are compressed, so the blob digest differs from the diff_id.
            let l0 = &s.json["image"]["layers"][0];
            assert_ne!(l0["digest"], l0["diff_id"], "{image}");
        }
    }
}

#[test]
fn docker_daemon_export_is_streamed_and_matches_the_archive() {
    // Compared with a `docker save` of the same image taken now: the fixture images hold random
    // bytes, so a rebuild elsewhere would make an older archive differ.
    let image = "layerguard-fixture/kitchen-sink:1";
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("saved.tar");
    run(std::process::Command::new("docker")
        .args(["save", "-o"])
        .arg(&archive)
        .arg(image));
    let legacy = scan(
        &format!("docker-archive:{}", archive.display()),
        &["--fail-on", "never"],
    );
    assert_eq!(legacy.code, 0, "{}", legacy.stderr);
    let s = scan(&format!("docker-daemon:{image}"), &["--fail-on", "never"]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert_eq!(diff_ids(&s), diff_ids(&legacy));
    assert_eq!(s.json["findings"], legacy.json["findings"]);

    let missing = scan("docker-daemon:layerguard-fixture/does-not-exist:1", &[]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("does-not-exist"),
        "{}",
        missing.stderr
    );
}

#[test]
fn platform_is_picked_from_an_index_and_a_missing_one_is_explained() {
    let image = fixture("oci", "multiarch.oci:1");
    let arm = scan(&image, &["--platform", "linux/arm64", "--fail-on", "never"]);
    assert_eq!(arm.code, 0, "{}", arm.stderr);
    assert!(
        arm.json["image"]["platform"]
            .as_str()
            .unwrap()
            .starts_with("linux/arm64")
    );
    let amd = scan(&image, &["--platform", "linux/amd64", "--fail-on", "never"]);
    assert_eq!(amd.json["image"]["platform"], "linux/amd64");

    let none = scan(&image, &["--platform", "linux/s390x"]);
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("linux/s390x")
            && none.stderr.contains("linux/arm64")
            && none.stderr.contains("linux/amd64"),
        "{}",
        none.stderr
    );
}

#[test]
fn unknown_or_malformed_references_exit_2_and_show_the_accepted_forms() {
    for bad in [
        "app.tar",
        "ftp:Bad Name",
        "docker-daemon:Bad Name",
        "docker-archive:",
    ] {
        let s = scan(bad, &[]);
        assert_eq!(s.code, 2, "{bad}");
        assert!(s.stderr.contains("oci-archive:PATH"), "{bad}: {}", s.stderr);
    }
    let s = scan("docker-archive:/nonexistent/app.tar", &[]);
    assert_eq!(s.code, 2);
    assert!(s.stderr.contains("/nonexistent/app.tar"), "{}", s.stderr);
}

#[test]
fn opaque_directory_hides_lower_contents_but_keeps_siblings() {
    // Layer 0: /opt, /opt/cache/{a,old/,old/x}, /opt/keep; layer 1 marks /opt/cache opaque and adds b.
    let s = scan(
        &fixture("docker-archive", "opaque-whiteout.tar"),
        &["--fail-on", "never"],
    );
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert_eq!(
        s.json["image"]["files"], 4,
        "/opt, /opt/cache, /opt/cache/b, /opt/keep"
    );
}
