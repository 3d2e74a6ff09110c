//! `layerguard sweep ecr` against moto's ECR (the listing, the repositories' settings, the
//! login) with a real registry as ECR's data plane: many repositories holding images that share
//! their layers, each distinct layer read once, shards that merge into the whole.

use crate::support::moto::Moto;
use crate::support::registry::Registry;
use crate::support::{fixture, layerguard};
use serde_json::{Value, json};

const HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// Every repository of moto's default region, reported as JSON, never failing on findings.
const WHOLE_SWEEP: &[&str] = &[
    "ecr",
    "--region",
    "us-east-1",
    "--format",
    "json",
    "--fail-on",
    "never",
];

/// Runs `layerguard sweep …` in moto's environment through the mirror; returns the exit code,
/// the parsed JSON (or Null) and stderr.
fn sweep(moto: &Moto, registry: &Registry, args: &[&str]) -> (i32, Value, String) {
    let ca = registry.tls().expect("a TLS registry").ca_cert.clone();
    let out = moto
        .layerguard()
        .args(["sweep"])
        .args(args)
        // Every sweep here starts cold unless it names its own cache.
        .args((args[0] == "ecr" && !args.contains(&"--cache-dir")).then_some("--no-cache"))
        .args([
            "--registry-mirror",
            &format!("{HOST}={}", registry.base_url()),
            "--ca-cert",
            ca.to_str().unwrap(),
        ])
        .output()
        .expect("run layerguard sweep");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), json, stderr)
}

/// The images a JSON sweep report scanned, from every repository.
fn scanned(report: &Value) -> Vec<&Value> {
    report["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["images"].as_array().unwrap())
        .filter(|i| i["error"].is_null())
        .collect()
}

#[test]
fn a_sweep_reads_each_shared_layer_once_and_shards_merge_into_the_whole() {
    let Some(moto) =
        Moto::start("a_sweep_reads_each_shared_layer_once_and_shards_merge_into_the_whole")
    else {
        return;
    };
    let registry = Registry::tls_basic_auth_as("AWS", "123456789012-auth-token");
    let clean = fixture("oci", "clean.oci:1");
    let kitchen = fixture("oci", "kitchen-sink.oci:1");
    // Eight repositories with the same image, one with another: two distinct images, whose
    // layers are what the sweep must read, once each.
    let mut repositories = Vec::new();
    for i in 0..9 {
        let name = format!("team/app-{i}");
        let source = if i == 8 { &kitchen } else { &clean };
        registry.skopeo_copy(source, &format!("{name}:1"), &[]);
        let manifest = String::from_utf8(registry.get(&format!("/v2/{name}/manifests/1"))).unwrap();
        repositories.push(json!({
            "name": name,
            "mutability": if i % 2 == 0 { "MUTABLE" } else { "IMMUTABLE" },
            "scan_on_push": i % 2 == 1,
            "images": [{"manifest": manifest, "tag": "1"}],
        }));
    }
    // A repository that lists an image its registry does not have: a failure, not a stop.
    repositories.push(json!({
        "name": "team/gone",
        "images": [{"manifest": String::from_utf8(registry.get("/v2/team/app-0/manifests/1")).unwrap(), "tag": "1"}],
    }));
    moto.setup(&json!({ "repositories": repositories }));

    // In batches of two images: a layer read for one batch serves the others.
    let batched = [WHOLE_SWEEP, &["--images-at-once", "2"]].concat();
    let (code, whole, stderr) = sweep(&moto, &registry, &batched);
    assert_eq!(code, 0, "{stderr}");
    let totals = &whole["totals"];
    assert_eq!(totals["repositories"], 10, "{totals}");
    assert_eq!(totals["images"], 9, "{totals}");
    assert_eq!(totals["failures"], 1, "{}", whole["failures"]);
    // The image its repository lists but the registry lost is in the report with its error.
    let gone: Vec<&Value> = whole["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["name"] == "team/gone")
        .flat_map(|r| r["images"].as_array().unwrap())
        .collect();
    assert_eq!(gone.len(), 1, "{whole:#}");
    assert!(
        gone[0]["error"].as_str().unwrap().contains("team/gone"),
        "{}",
        gone[0]
    );
    assert!(gone[0]["report"].is_null() && gone[0]["findings"] == json!([]));
    for repository in whole["repositories"].as_array().unwrap() {
        assert_eq!(
            repository["uri"],
            format!("{HOST}/{}", repository["name"].as_str().unwrap())
        );
        for image in repository["images"].as_array().unwrap() {
            assert!(image["digest"].as_str().unwrap().starts_with("sha256:"));
            assert_eq!(image["tags"], json!(["1"]));
            assert!(image["pushed_at"].is_i64(), "{image}");
        }
    }
    let unique = totals["layers_unique"].as_u64().unwrap();
    assert!(unique >= 2, "{totals}");
    assert_eq!(
        totals["layers_read"], unique,
        "each distinct layer read once: {totals}"
    );
    let referenced: usize = scanned(&whole)
        .into_iter()
        .map(|i| i["report"]["image"]["layers"].as_array().unwrap().len())
        .sum();
    assert_eq!(totals["layers_referenced"], referenced, "{totals}");
    // Seven of the eight copies of one image add references and nothing to read.
    assert!(referenced as u64 >= unique + 7 * 2, "{totals}");
    // The repositories' settings are judged once each, not with every image.
    let mutable: Vec<&str> = whole["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["findings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["rule"] == "ecr-mutable-tags")
        })
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(mutable.len(), 6, "{mutable:?}");
    for image in scanned(&whole) {
        let findings = image["report"]["findings"].as_array().unwrap();
        assert!(
            !findings
                .iter()
                .any(|f| f["rule"].as_str().unwrap().starts_with("ecr-")),
            "{}",
            image["reference"]
        );
        assert!(
            !findings.iter().any(|f| f["rule"] == "mutable-tag"),
            "swept by digest: {}",
            image["reference"]
        );
    }
    assert!(!stderr.contains("auth-token"));

    // The next night: every record comes from the cache, no layer is read.
    let cache = tempfile::tempdir().unwrap();
    let cache_dir = cache.path().to_str().unwrap();
    let common = [WHOLE_SWEEP, &["--cache-dir", cache_dir]].concat();
    let (_, first, _) = sweep(&moto, &registry, &common);
    let (code, second, stderr) = sweep(&moto, &registry, &common);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        first["totals"]["layers_read"], unique,
        "{}",
        first["totals"]
    );
    assert_eq!(second["totals"]["layers_read"], 0, "{}", second["totals"]);
    assert_eq!(
        second["totals"]["cache_hits"], unique,
        "{}",
        second["totals"]
    );

    // Two shards, then the merge: the same repositories and images as the whole sweep.
    let dir = tempfile::tempdir().unwrap();
    let mut parts = Vec::new();
    let shard_sweep = |shard: &str, output: &str| {
        sweep(
            &moto,
            &registry,
            &[
                "ecr",
                "--region",
                "us-east-1",
                "--shard",
                shard,
                "--format",
                "jsonl",
                "--output",
                output,
                "--fail-on",
                "never",
            ],
        )
    };
    for shard in ["0/2", "1/2"] {
        let path = dir.path().join(format!("shard-{}.jsonl", &shard[..1]));
        let (code, _, stderr) = shard_sweep(shard, path.to_str().unwrap());
        assert_eq!(code, 0, "{stderr}");
        parts.push(path);
    }
    let merged = layerguard()
        .args(["sweep", "merge", "--format", "json", "--fail-on", "never"])
        .args(&parts)
        .output()
        .unwrap();
    assert!(
        merged.status.success(),
        "{}",
        String::from_utf8_lossy(&merged.stderr)
    );
    let merged: Value = serde_json::from_slice(&merged.stdout).unwrap();
    for key in [
        "repositories",
        "images",
        "failures",
        "layers_unique",
        "layers_referenced",
    ] {
        assert_eq!(
            merged["totals"][key], whole["totals"][key],
            "{key}: {}",
            merged["totals"]
        );
    }

    // Shards of a Batch array job leave their reports in S3; the merge reads them there and
    // writes the whole sweep as one SARIF run that code scanning accepts.
    moto.setup(&json!({ "buckets": ["sweeps"] }));
    // `{shard}` names each Batch child's object, since they all get the same command.
    let urls = [
        "s3://sweeps/nightly/shard-0-of-2.jsonl",
        "s3://sweeps/nightly/shard-1-of-2.jsonl",
    ];
    let (code, _, stderr) = shard_sweep("0/2", "s3://sweeps/nightly/shard-{shard}.jsonl");
    assert_eq!(code, 0, "{stderr}");
    moto.put_object(
        "sweeps",
        "nightly/shard-1-of-2.jsonl",
        &std::fs::read(&parts[1]).unwrap(),
    );
    let sarif = moto
        .layerguard()
        .args(["sweep", "merge", "--format", "sarif", "--fail-on", "never"])
        .args(urls)
        .output()
        .unwrap();
    assert!(
        sarif.status.success(),
        "{}",
        String::from_utf8_lossy(&sarif.stderr)
    );
    let sarif: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    let errors = crate::support::sarif_schema_errors(&sarif);
    assert!(errors.is_empty(), "{errors:#?}");
    let runs = sarif["runs"].as_array().unwrap();
    assert_eq!(
        runs.len(),
        1,
        "GitHub takes at most 20 runs; a sweep is one"
    );
    let findings = |v: &Value| v["findings"].as_array().map_or(0, Vec::len);
    let expected: usize = whole["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(findings)
        .chain(scanned(&whole).into_iter().map(|i| findings(&i["report"])))
        .sum();
    assert_eq!(runs[0]["results"].as_array().unwrap().len(), expected);
    let missing = moto
        .layerguard()
        .args(["sweep", "merge", "s3://sweeps/nightly/no-such-shard.jsonl"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("s3://sweeps/nightly/no-such-shard.jsonl") && stderr.contains("NoSuchKey"),
        "{stderr}"
    );
}

#[test]
fn merge_refuses_an_unfinished_shard() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.jsonl");
    std::fs::write(
        &path,
        "{\"type\":\"failure\",\"subject\":\"x\",\"error\":\"y\"}\n",
    )
    .unwrap();
    let out = layerguard()
        .args(["sweep", "merge"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no totals line"), "{stderr}");
}

/// ECR throttles busy accounts: `DescribeImages` answering `ThrottlingException` twice per
/// repository is retried with backoff and the sweep completes as if nothing happened.
#[test]
fn throttled_listing_is_retried() {
    let Some((moto, registry)) = one_repository(
        "throttled_listing_is_retried",
        &[("LAYERGUARD_MOTO_THROTTLE", "2")],
    ) else {
        return;
    };
    let (code, report, stderr) = sweep(&moto, &registry, WHOLE_SWEEP);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["totals"]["images"], 1, "{}", report["failures"]);
    assert_eq!(report["totals"]["failures"], 0, "{}", report["failures"]);
}

/// One repository holding the clean image, in a fresh moto with `env`.
fn one_repository(test: &str, env: &[(&str, &str)]) -> Option<(Moto, Registry)> {
    let moto = Moto::start_with(test, env)?;
    let registry = Registry::tls_basic_auth_as("AWS", "123456789012-auth-token");
    registry.skopeo_copy(&fixture("oci", "clean.oci:1"), "team/busy:1", &[]);
    let manifest = String::from_utf8(registry.get("/v2/team/busy/manifests/1")).unwrap();
    moto.setup(&json!({ "repositories": [
        {"name": "team/busy", "images": [{"manifest": manifest, "tag": "1"}]}
    ]}));
    Some((moto, registry))
}

#[test]
fn server_errors_are_retried_and_past_the_retries_skip_one_check() {
    // Two failures: the SDK's third attempt answers, and nothing is lost.
    let Some((moto, registry)) = one_repository(
        "server_errors_are_retried",
        &[("LAYERGUARD_MOTO_FAIL_500", "2")],
    ) else {
        return;
    };
    let (code, report, stderr) = sweep(&moto, &registry, WHOLE_SWEEP);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["totals"]["images"], 1, "{}", report["failures"]);
    let warnings = &report["repositories"][0]["warnings"];
    assert_eq!(warnings, &json!([]), "{warnings}");
    assert_eq!(
        report["repositories"][0]["posture"]["lifecycle_policy"],
        false
    );

    // An ECR that keeps failing: the two checks are skipped with a warning each, naming the
    // permission and the error, and the images are still scanned.
    let Some((moto, registry)) = one_repository(
        "server_errors_past_the_retries",
        &[("LAYERGUARD_MOTO_FAIL_500", "1000")],
    ) else {
        return;
    };
    let (code, report, stderr) = sweep(&moto, &registry, WHOLE_SWEEP);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["totals"]["images"], 1, "{}", report["failures"]);
    let warnings = report["repositories"][0]["warnings"].to_string();
    for permission in [
        "ecr:GetLifecyclePolicy failed (ServerException",
        "ecr:GetRegistryScanningConfiguration failed (ServerException",
    ] {
        assert!(warnings.contains(permission), "{warnings}");
    }
    assert!(
        report["repositories"][0]["posture"]["lifecycle_policy"].is_null(),
        "unknown, not absent: {}",
        report["repositories"][0]["posture"]
    );
}

#[test]
fn two_sweeps_at_once_share_one_cache_directory() {
    let Some((moto, registry)) = one_repository("two_sweeps_at_once", &[]) else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let args = [
        WHOLE_SWEEP,
        &["--cache-dir", cache.path().to_str().unwrap()],
    ]
    .concat();
    let (first, second) = std::thread::scope(|s| {
        let a = s.spawn(|| sweep(&moto, &registry, &args));
        let b = s.spawn(|| sweep(&moto, &registry, &args));
        (a.join().unwrap(), b.join().unwrap())
    });
    for (code, report, stderr) in [&first, &second] {
        assert_eq!(*code, 0, "{stderr}");
        assert_eq!(report["totals"]["failures"], 0, "{}", report["failures"]);
    }
    let findings = |report: &Value| -> Vec<(Value, Value)> {
        scanned(report)
            .into_iter()
            .map(|i| (i["reference"].clone(), i["report"]["findings"].clone()))
            .collect()
    };
    assert_eq!(findings(&first.1), findings(&second.1));
    // Whatever each wrote, the directory holds whole records: the next sweep reads nothing.
    let (code, third, stderr) = sweep(&moto, &registry, &args);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(third["totals"]["layers_read"], 0, "{}", third["totals"]);
    assert_eq!(third["totals"]["failures"], 0, "{}", third["failures"]);
    assert_eq!(findings(&third), findings(&first.1));
}
