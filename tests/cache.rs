//! The layer cache through the binary: a second scan with `--cache-dir` reads no layer and
//! reports the same; a corrupt entry is a warning, a correct report, and is rebuilt; the S3 tier,
//! on a real moto server, serves a machine whose local directory is empty.

use crate::support::moto::{Moto, aws_isolation};
use crate::support::*;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The report without what the cache changes: how the layers were obtained, and warnings.
fn content(s: &Scan) -> Value {
    let mut json = s.json.clone();
    let object = json.as_object_mut().expect("a JSON report");
    object.remove("read");
    object.remove("warnings");
    json
}

fn read(s: &Scan) -> (u64, u64) {
    let read = &s.json["read"];
    (
        read["layers_read"].as_u64().expect("layers_read"),
        read["cache_hits"].as_u64().expect("cache_hits"),
    )
}

fn layers(s: &Scan) -> u64 {
    s.json["image"]["layers"].as_array().unwrap().len() as u64
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_owned()];
    while let Some(d) = dirs.pop() {
        let Ok(listing) = std::fs::read_dir(d) else {
            continue;
        };
        for e in listing.flatten() {
            if e.file_type().unwrap().is_dir() {
                dirs.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

fn scan_cached(image: &str, cache: &[&str]) -> Scan {
    let s = scan(image, &[&["--fail-on", "never"], cache].concat());
    assert_eq!(s.code, 0, "{image}: {}", s.stderr);
    s
}

#[test]
fn a_second_scan_with_a_cache_dir_reads_no_layer_and_reports_the_same() {
    // An OCI layout states every blob's digest and size; Docker 25's archive names each
    // (uncompressed) blob by its digest, which is then its diff_id.
    for image in [
        fixture("oci", "kitchen-sink.oci"),
        fixture("docker-archive", "kitchen-sink.docker25.tar"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().to_str().unwrap();
        let uncached = scan_cached(&image, &[]);
        let n = layers(&uncached);
        assert!(n > 1);
        assert_eq!(read(&uncached), (n, 0), "{image}");

        let first = scan_cached(&image, &["--cache-dir", cache]);
        assert_eq!(read(&first), (n, 0), "{image}: an empty cache");
        let second = scan_cached(&image, &["--cache-dir", cache]);
        assert_eq!(
            read(&second),
            (0, n),
            "{image}: nothing read the second time"
        );
        for s in [&first, &second] {
            assert_eq!(content(s), content(&uncached), "{image}");
            assert_eq!(s.json["warnings"], uncached.json["warnings"], "{image}");
        }
        let stored = entries(dir.path());
        assert_eq!(stored.len() as u64, n, "{image}: one entry a layer");
        assert!(
            stored
                .iter()
                .all(|p| p.extension().is_some_and(|e| e == "zst"))
        );
    }

    // A legacy `docker save` names no blob by its digest: only reading a layer tells what the
    // report says of its blob, so it is read every time (and its record stored).
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_str().unwrap();
    let legacy = fixture("docker-archive", "kitchen-sink.tar");
    let uncached = scan_cached(&legacy, &[]);
    let n = layers(&uncached);
    for _ in 0..2 {
        let s = scan_cached(&legacy, &["--cache-dir", cache]);
        assert_eq!(read(&s), (n, 0));
        assert_eq!(content(&s), content(&uncached));
    }
    assert_eq!(entries(dir.path()).len() as u64, n);
}

#[test]
fn a_cached_layer_serves_its_content_under_any_compression_but_not_other_options() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_str().unwrap();
    let gzip = fixture("oci", "kitchen-sink.oci");
    let filled = scan_cached(&gzip, &["--cache-dir", cache]);
    let n = layers(&filled);

    // The same layers compressed with zstd: the same diff_ids, so the same records; the blobs
    // reported are the zstd ones, as the manifest states them.
    let zstd = fixture("oci", "kitchen-sink.zstd.oci");
    let cached = scan_cached(&zstd, &["--cache-dir", cache]);
    assert_eq!(read(&cached), (0, n));
    assert_eq!(content(&cached), content(&scan_cached(&zstd, &[])));
    assert_ne!(
        cached.json["image"]["layers"],
        filled.json["image"]["layers"]
    );

    // Options that change a layer's record (here binary hashing) make other keys.
    let hashed = scan_cached(&gzip, &["--cache-dir", cache, "--hash-binaries"]);
    assert_eq!(read(&hashed), (n, 0));
    let hashed = scan_cached(&gzip, &["--cache-dir", cache, "--hash-binaries"]);
    assert_eq!(read(&hashed), (0, n));
}

#[test]
fn a_corrupt_entry_is_a_warning_a_correct_report_and_is_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_str().unwrap();
    let image = fixture("oci", "kitchen-sink.oci");
    let first = scan_cached(&image, &["--cache-dir", cache]);
    let n = layers(&first);
    let stored = entries(dir.path());
    assert!(!stored.is_empty());
    // Cut one entry short, as a crash or a full disk would.
    let victim = &stored[0];
    let bytes = std::fs::read(victim).unwrap();
    std::fs::write(victim, &bytes[..bytes.len() / 2]).unwrap();

    let second = scan_cached(&image, &["--cache-dir", cache]);
    assert_eq!(
        read(&second),
        (1, n - 1),
        "only the broken entry's layer is read"
    );
    assert_eq!(content(&second), content(&first));
    let warnings: Vec<&Value> = second.json["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["location"] == "cache")
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let message = warnings[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&victim.display().to_string()) && message.contains("unusable"),
        "{message}"
    );

    let third = scan_cached(&image, &["--cache-dir", cache]);
    assert_eq!(read(&third), (0, n), "the entry was rebuilt");
    assert_eq!(third.json["warnings"], first.json["warnings"]);
    assert_eq!(std::fs::read(victim).unwrap(), bytes);
}

#[test]
fn cache_flags_are_checked() {
    let image = fixture("oci", "clean.oci");
    let s = scan(&image, &["--no-cache", "--cache-dir", "/tmp"]);
    assert_eq!(s.code, 2, "{}", s.stderr);
    let s = scan(&image, &["--cache", "https://bucket/x"]);
    assert_eq!(s.code, 2);
    assert!(s.stderr.contains("s3://BUCKET/PREFIX"), "{}", s.stderr);
    let s = scan(&image, &["--cache-dir", "/tmp", "--cache-max-size", "lots"]);
    assert_eq!(s.code, 2);
    assert!(s.stderr.contains("--cache-max-size"), "{}", s.stderr);
    let s = scan(&image, &["--no-cache", "--fail-on", "never"]);
    assert_eq!(read(&s), (layers(&s), 0));
}

/// `layerguard` with an AWS environment that leads to moto's S3 and nowhere else.
fn in_moto(moto: &Moto) -> assert_cmd::Command {
    let mut cmd = layerguard();
    let (inherited, isolation) = aws_isolation();
    for key in inherited {
        cmd.env_remove(key);
    }
    // The S3 endpoint alone: the client must honour the per-service override.
    cmd.envs(isolation)
        .env("AWS_ENDPOINT_URL_S3", &moto.endpoint);
    for (key, value) in moto.env() {
        if key != "AWS_ENDPOINT_URL" {
            cmd.env(key, value);
        }
    }
    cmd
}

#[test]
fn the_s3_tier_serves_a_machine_with_an_empty_directory() {
    let Some(moto) = Moto::start("the_s3_tier_serves_a_machine_with_an_empty_directory") else {
        return;
    };
    moto.setup(&json!({ "buckets": ["layer-records"] }));
    let image = fixture("oci", "kitchen-sink.oci");
    let shared = "s3://layer-records/team/layerguard";
    let run = |local: &Path, s3: &str| {
        let s = scan_with(
            in_moto(&moto),
            &image,
            &[
                "--fail-on",
                "never",
                "--cache-dir",
                local.to_str().unwrap(),
                "--cache",
                s3,
            ],
        );
        assert_eq!(s.code, 0, "{}", s.stderr);
        s
    };

    let first_machine = tempfile::tempdir().unwrap();
    let first = run(first_machine.path(), shared);
    let n = layers(&first);
    assert_eq!(read(&first), (n, 0));
    assert_eq!(
        first.json["warnings"],
        scan_cached(&image, &[]).json["warnings"]
    );

    let second_machine = tempfile::tempdir().unwrap();
    let second = run(second_machine.path(), shared);
    assert_eq!(read(&second), (0, n), "every record came from S3");
    assert_eq!(content(&second), content(&first));
    assert_eq!(second.json["warnings"], first.json["warnings"]);
    assert_eq!(
        entries(second_machine.path()).len(),
        entries(first_machine.path()).len(),
        "S3's records were kept locally"
    );

    // An object cut short is a miss, told once, and written again by the machine that read
    // its layer instead.
    let entry = &entries(first_machine.path())[0];
    let relative = entry.strip_prefix(first_machine.path()).unwrap();
    let object = format!("team/layerguard/{}", relative.display());
    let whole = std::fs::read(entry).unwrap();
    moto.put_object("layer-records", &object, &whole[..whole.len() / 2]);
    let third_machine = tempfile::tempdir().unwrap();
    let torn = run(third_machine.path(), shared);
    assert_eq!(read(&torn), (1, n - 1));
    assert_eq!(content(&torn), content(&first));
    let warnings = torn.json["warnings"].to_string();
    assert!(
        warnings.contains(&object) && warnings.contains("unusable"),
        "{warnings}"
    );
    let fourth_machine = tempfile::tempdir().unwrap();
    assert_eq!(
        read(&run(fourth_machine.path(), shared)),
        (0, n),
        "rewritten"
    );

    // A bucket that does not exist is a miss with a warning, never a failure.
    let fifth_machine = tempfile::tempdir().unwrap();
    let missing = run(fifth_machine.path(), "s3://no-such-bucket/x");
    assert_eq!(read(&missing), (n, 0));
    assert_eq!(content(&missing), content(&first));
    let warnings = missing.json["warnings"].to_string();
    assert!(
        warnings.contains("S3 cache s3://no-such-bucket/x") && warnings.contains("NoSuchBucket"),
        "{warnings}"
    );
}
