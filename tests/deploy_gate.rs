//! `layerguard taskdef` on registered task definitions (`ecs:FAMILY[:REVISION]`, ARNs) fetched
//! from moto's ECS, and the deploy gate (`--scan-images`): each container's image pulled from a
//! real registry, or from the ECR emulation (moto's login and repository settings, the registry
//! as ECR's data plane through `--registry-mirror`), scanned, and judged with its task.

use crate::support::moto::Moto;
use crate::support::registry::Registry;
use crate::support::{fixture, layerguard};
use crate::taskdef::{Lint, lint_with};
use serde_json::{Value, json};

/// moto's default account and region.
const ECR_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// The image entry of `container` in a deploy-gate report.
fn image_of<'a>(lint: &'a Lint, container: &str) -> &'a Value {
    lint.json["images"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["container"] == container))
        .unwrap_or_else(|| panic!("no image entry for {container}: {}", lint.json))
}

fn run(cmd: assert_cmd::Command, input: &str, args: &[&str]) -> Lint {
    lint_with(cmd, input.as_ref(), args)
}

/// Writes `task` to a file in `dir` and gates it with `--scan-images`.
fn gate(cmd: assert_cmd::Command, dir: &tempfile::TempDir, task: &Value, args: &[&str]) -> Lint {
    let path = dir.path().join("task.json");
    std::fs::write(&path, serde_json::to_string_pretty(task).unwrap()).unwrap();
    let mut all = vec!["--scan-images", "--no-cache"];
    all.extend_from_slice(args);
    run(cmd, path.to_str().unwrap(), &all)
}

/// A container that passes every task check but the registry's: only its image can fail it.
fn hardened(name: &str, image: &str) -> Value {
    json!({
        "name": name,
        "image": image,
        "user": "10001",
        "readonlyRootFilesystem": true,
        "memory": 256,
        "linuxParameters": {"capabilities": {"drop": ["ALL"]}, "initProcessEnabled": true},
        "dockerSecurityOptions": ["no-new-privileges"],
        "ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 1024}],
        "logConfiguration": {"logDriver": "awslogs", "options": {"mode": "non-blocking"}},
    })
}

/// `container` without its `user`, so the image's USER decides.
fn without_user(mut container: Value) -> Value {
    container.as_object_mut().unwrap().remove("user");
    container
}

fn task(family: &str, containers: Vec<Value>, cpu_architecture: Option<&str>) -> Value {
    let mut task =
        json!({"family": family, "networkMode": "awsvpc", "containerDefinitions": containers});
    if let Some(arch) = cpu_architecture {
        task["runtimePlatform"] =
            json!({"operatingSystemFamily": "LINUX", "cpuArchitecture": arch});
    }
    task
}

/// `layerguard` in moto's environment with only the ECS endpoint override, the variable a user
/// pointing ECS at a VPC endpoint sets.
fn ecs_only(moto: &Moto, region: &str) -> assert_cmd::Command {
    let mut cmd = moto.layerguard();
    cmd.env_remove("AWS_ENDPOINT_URL")
        .env("AWS_ENDPOINT_URL_ECS", &moto.endpoint)
        .env("AWS_REGION", region);
    cmd
}

#[test]
fn registered_task_definitions_are_fetched_by_family_revision_and_arn() {
    let Some(moto) =
        Moto::start("registered_task_definitions_are_fetched_by_family_revision_and_arn")
    else {
        return;
    };
    let container = |privileged: bool| json!({"name": "app", "image": "nginx:1.27", "memory": 128, "privileged": privileged});
    let created = moto.setup(&json!({"task_definitions": [
        {"definition": {"family": "web", "containerDefinitions": [container(false)]}},
        {"definition": {"family": "web", "containerDefinitions": [container(true)],
                        "tags": [{"key": "team", "value": "payments"}]}},
        {"region": "eu-west-1",
         "definition": {"family": "batch", "containerDefinitions": [container(true)]}},
    ]}));
    let batch_arn = created["task_definitions"][2].as_str().unwrap();
    assert!(batch_arn.contains(":eu-west-1:"), "{batch_arn}");

    // The latest revision, located by the revision ECS answered with.
    let latest = run(
        ecs_only(&moto, "us-east-1"),
        "ecs:web",
        &["--fail-on", "never"],
    );
    assert_eq!(latest.code, 0, "{}", latest.stderr);
    let summary = &latest.json["task_definition"];
    assert_eq!(summary["file"], "ecs:web:2", "{summary}");
    assert_eq!(summary["shape"], "describe-output");
    assert_eq!(summary["revision"], 2);
    let privileged = latest.findings("task-privileged");
    assert_eq!(privileged.len(), 1, "{}", latest.json["findings"]);
    assert_eq!(
        privileged[0]["field"],
        "taskDefinition.containerDefinitions[0].privileged"
    );
    assert!(
        privileged[0].get("line").is_none(),
        "no file, so no line: {}",
        privileged[0]
    );

    let first = run(
        ecs_only(&moto, "us-east-1"),
        "ecs:web:1",
        &["--fail-on", "never"],
    );
    assert_eq!(
        first.json["task_definition"]["file"], "ecs:web:1",
        "{}",
        first.stderr
    );
    assert!(first.findings("task-privileged").is_empty());

    // The ARN's region wins over the environment's.
    let arn = run(
        ecs_only(&moto, "us-east-1"),
        batch_arn,
        &["--fail-on", "high"],
    );
    assert_eq!(arn.code, 1, "{}", arn.stderr);
    assert_eq!(arn.json["task_definition"]["file"], "ecs:batch:1");

    let sarif = run(
        ecs_only(&moto, "us-east-1"),
        "ecs:web",
        &["--format", "sarif"],
    );
    let log: Value = serde_json::from_str(&sarif.stdout).expect("SARIF");
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);

    for (input, code) in [
        ("ecs:missing", "ClientException"),
        ("ecs:web:9", "ClientException"),
    ] {
        let missing = run(ecs_only(&moto, "us-east-1"), input, &[]);
        assert_eq!(missing.code, 2, "{input}: {}", missing.stdout);
        let line = missing.stderr.trim();
        assert!(
            !line.contains('\n')
                && line.starts_with(&format!("error: task definition {input}: "))
                && line.contains("ecs:DescribeTaskDefinition")
                && line.contains(code),
            "{line}"
        );
    }
    let no_region = {
        let mut cmd = ecs_only(&moto, "us-east-1");
        cmd.env_remove("AWS_REGION");
        run(cmd, "ecs:web", &[])
    };
    assert_eq!(no_region.code, 2);
    assert!(
        no_region.stderr.contains("AWS_REGION"),
        "{}",
        no_region.stderr
    );
    let bad = run(
        layerguard(),
        "arn:aws:ecs:us-east-1:123456789012:service/web",
        &[],
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("is not a task-definition ARN"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_denied_describe_is_an_error_naming_the_task_definition_and_the_code() {
    let Some(moto) =
        Moto::start("a_denied_describe_is_an_error_naming_the_task_definition_and_the_code")
    else {
        return;
    };
    let created = moto.setup(&json!({
        "denied_user": ["ecs:DescribeTaskDefinition"],
        "task_definitions": [{"definition": {"family": "web", "containerDefinitions": [
            {"name": "app", "image": "nginx:1.27", "memory": 128}]}}],
    }));
    let secret = created["access_key"]["secret"].as_str().unwrap();
    let mut cmd = ecs_only(&moto, "us-east-1");
    cmd.env(
        "AWS_ACCESS_KEY_ID",
        created["access_key"]["id"].as_str().unwrap(),
    )
    .env("AWS_SECRET_ACCESS_KEY", secret);
    let denied = run(cmd, "ecs:web:1", &[]);
    assert_eq!(denied.code, 2, "{}", denied.stdout);
    let line = denied.stderr.trim();
    assert!(
        line.starts_with("error: task definition ecs:web:1: ecs:DescribeTaskDefinition in us-east-1 failed: AccessDenied"),
        "{line}"
    );
    assert!(!line.contains(secret) && !line.contains('\n'), "{line}");
}

/// The gate against Debian's registry: the image's USER decides the root check both ways, its
/// findings fail the gate, an unpullable image is a warning, and every format shows the images.
#[test]
fn the_gate_scans_each_image_judges_it_with_its_container_and_survives_a_missing_one() {
    let registry = Registry::plain();
    let host = registry.host();
    registry.skopeo_copy(&fixture("oci", "clean.oci:1"), "app:1", &[]);
    registry.skopeo_copy(&fixture("oci", "kitchen-sink.oci:1"), "tools:1", &[]);
    let dir = tempfile::tempdir().unwrap();
    let image = |repo: &str| format!("{host}/{repo}:1");

    // Linted alone, the hardened task passes; only its images can fail it.
    let alone = task("shop", vec![hardened("app", &image("app"))], None);
    std::fs::write(dir.path().join("alone.json"), alone.to_string()).unwrap();
    let lint = run(
        layerguard(),
        dir.path().join("alone.json").to_str().unwrap(),
        &[],
    );
    assert_eq!(lint.code, 0, "{}", lint.json["findings"]);
    assert!(lint.json.get("images").is_none());

    let shop = task(
        "shop",
        vec![
            without_user(hardened("app", &image("app"))),
            without_user(hardened("tools", &image("tools"))),
            hardened("sidecar", &image("tools")),
            hardened("gone", &image("missing")),
            hardened("templated", "${IMAGE}"),
        ],
        None,
    );
    let gated = gate(layerguard(), &dir, &shop, &[]);
    assert_eq!(
        gated.code, 1,
        "the image's findings fail the gate: {}",
        gated.stderr
    );
    let images = gated.json["images"].as_array().unwrap();
    assert_eq!(images.len(), 5, "{}", gated.json["images"]);
    let templated = image_of(&gated, "templated");
    assert!(
        templated["report"].is_null()
            && templated["error"]
                .as_str()
                .is_some_and(|e| e.contains("is not an image reference") && !e.contains('\n')),
        "{templated}"
    );

    let app = image_of(&gated, "app");
    assert_eq!(app["ref"], image("app"));
    assert!(app["error"].is_null(), "{}", app["error"]);
    assert_eq!(app["report"]["image"]["platform"], "linux/amd64");
    assert!(app["report"]["findings"].is_array());
    let tools = image_of(&gated, "tools");
    assert!(
        tools["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "root-user" && f["severity"] == "high"),
        "{}",
        tools["report"]["findings"]
    );
    assert_eq!(
        image_of(&gated, "sidecar")["report"],
        tools["report"],
        "one pull, shared"
    );

    // USER 1000 in the image makes the unset `user` harmless; no USER confirms root.
    let root: Vec<&str> = gated
        .findings("task-root-user")
        .iter()
        .map(|f| f["container"].as_str().unwrap())
        .collect();
    assert_eq!(root, ["tools"], "{}", gated.json["findings"]);
    let message = gated.findings("task-root-user")[0]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("image sets no USER"), "{message}");

    let gone = image_of(&gated, "gone");
    assert!(gone["report"].is_null());
    let error = gone["error"].as_str().unwrap();
    assert!(error.contains("missing"), "{error}");
    assert!(
        gated.json["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w.as_str().unwrap().contains("container gone")),
        "{}",
        gated.json["warnings"]
    );

    // Without the failing images, and with the clean one pinned (a tag alone fails the image's
    // mutable-tag), the gate passes: the findings that failed were the images'.
    let pinned = format!(
        "{}@{}",
        image("app"),
        app["report"]["image"]["digest"].as_str().unwrap()
    );
    let clean = task("shop", vec![without_user(hardened("app", &pinned))], None);
    let passed = gate(layerguard(), &dir, &clean, &[]);
    assert_eq!(passed.code, 0, "{}", passed.json);
    assert!(passed.findings("task-root-user").is_empty());

    // Every format shows the images: a SARIF run and a JUnit suite per distinct image scanned.
    let sarif = gate(layerguard(), &dir, &shop, &["--format", "sarif"]);
    let log: Value = serde_json::from_str(&sarif.stdout).expect("SARIF");
    let runs = log["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "the task and two images");
    let categories: std::collections::BTreeSet<&str> = runs
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(categories.len(), 3, "{categories:?}");
    assert!(
        runs[1..].iter().any(|r| r["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["ruleId"].as_str().unwrap().starts_with("LG002"))),
        "the image's root-user is in its run"
    );
    let junit = gate(layerguard(), &dir, &shop, &["--format", "junit"]);
    let doc = roxmltree::Document::parse(&junit.stdout).expect("JUnit");
    let suites = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .count();
    assert_eq!(suites, 3, "{}", junit.stdout);
    let root = doc.root_element();
    let failures: usize = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| n.attribute("failures").unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(root.attribute("failures").unwrap(), failures.to_string());
    let table = gate(
        layerguard(),
        &dir,
        &shop,
        &["--format", "table", "--color", "never"],
    );
    assert!(
        table.stdout.contains(&format!(
            "=== image {} (container tools, sidecar) ===",
            image("tools")
        )),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("Images: 3 of 5 scanned"),
        "{}",
        table.stdout
    );
    assert!(
        table
            .stdout
            .contains("warning: the image of container gone"),
        "{}",
        table.stdout
    );
}

/// `runtimePlatform` picks the platform from a multi-platform index.
#[test]
fn the_task_runtime_platform_picks_the_image_platform_from_an_index() {
    let registry = Registry::plain();
    let reference = format!("{}/multi:1", registry.host());
    registry.skopeo_copy(&fixture("oci", "multiarch.oci:1"), "multi:1", &["--all"]);
    let dir = tempfile::tempdir().unwrap();
    for (arch, platform) in [
        (Some("ARM64"), "linux/arm64/v8"),
        (Some("X86_64"), "linux/amd64"),
        (None, "linux/amd64"),
    ] {
        let multi = task("multi", vec![hardened("app", &reference)], arch);
        let gated = gate(layerguard(), &dir, &multi, &["--fail-on", "never"]);
        assert_eq!(gated.code, 0, "{}", gated.stderr);
        let report = &image_of(&gated, "app")["report"];
        assert_eq!(
            report["image"]["platform"],
            platform,
            "{arch:?}: {}",
            image_of(&gated, "app")
        );
    }
}

/// The ECR emulation: the task definition registered in moto's ECS, its images in moto's ECR
/// (login and settings) with the registry as the data plane. A versioned tag in a repository
/// whose tags can move is low with the digest to pin; in an immutable one it is nothing.
#[test]
fn the_gate_on_ecr_joins_the_repository_settings_and_the_image_user() {
    let Some(moto) =
        Moto::start("the_gate_on_ecr_joins_the_repository_settings_and_the_image_user")
    else {
        return;
    };
    let registry = Registry::tls_basic_auth_as("AWS", "123456789012-auth-token");
    let mut repositories = Vec::new();
    let mut digests = Vec::new();
    for (name, mutability, fixture_name) in [
        ("svc", "MUTABLE", "clean.oci:1"),
        ("pinned", "IMMUTABLE", "clean.oci:1"),
        ("root", "IMMUTABLE", "kitchen-sink.oci:1"),
    ] {
        registry.skopeo_copy(&fixture("oci", fixture_name), &format!("{name}:1.0"), &[]);
        let manifest =
            String::from_utf8(registry.get(&format!("/v2/{name}/manifests/1.0"))).unwrap();
        digests.push(format!("sha256:{}", hex_sha256(manifest.as_bytes())));
        repositories.push(json!({"name": name, "mutability": mutability,
                                 "images": [{"manifest": manifest, "tag": "1.0"}]}));
    }
    let containers: Vec<Value> = ["svc", "pinned", "root"]
        .iter()
        .map(|name| without_user(hardened(name, &format!("{ECR_HOST}/{name}:1.0"))))
        .collect();
    let definition = json!({"family": "gate", "networkMode": "awsvpc",
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
        "containerDefinitions": containers});
    moto.setup(&json!({"repositories": repositories,
                       "task_definitions": [{"definition": definition}]}));

    let ca = registry.tls().expect("a TLS registry").ca_cert.clone();
    let mut cmd = moto.layerguard();
    cmd.env("AWS_REGION", "us-east-1");
    let gated = run(
        cmd,
        "ecs:gate",
        &[
            "--scan-images",
            "--no-cache",
            "--registry-mirror",
            &format!("{ECR_HOST}={}", registry.base_url()),
            "--ca-cert",
            ca.to_str().unwrap(),
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(gated.code, 0, "{}", gated.stderr);
    assert_eq!(gated.json["task_definition"]["file"], "ecs:gate:1");
    for name in ["svc", "pinned", "root"] {
        assert!(
            image_of(&gated, name)["error"].is_null(),
            "{}",
            image_of(&gated, name)
        );
    }
    assert!(
        image_of(&gated, "svc")["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "ecr-mutable-tags"),
        "the repository's settings were read"
    );
    let tags = gated.findings("task-mutable-image-tag");
    assert_eq!(tags.len(), 1, "{}", gated.json["findings"]);
    assert_eq!(tags[0]["container"], "svc");
    assert_eq!(tags[0]["severity"], "low");
    let message = tags[0]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("pin it as @{}", digests[0])),
        "{message}"
    );

    let root: Vec<&str> = gated
        .findings("task-root-user")
        .iter()
        .map(|f| f["container"].as_str().unwrap())
        .collect();
    assert_eq!(root, ["root"], "{}", gated.json["findings"]);
    assert!(!gated.stdout.contains("auth-token") && !gated.stderr.contains("auth-token"));
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The image scan resolves a named USER through the image's /etc/passwd: `admin` with uid 0 is
/// root, so a container that leaves `user` to it runs as root.
#[test]
fn an_image_user_named_but_uid_zero_confirms_the_root_check() {
    let registry = Registry::plain();
    let reference = format!("{}/admin:1", registry.host());
    registry.skopeo_copy(&fixture("docker-archive", "named-root.tar"), "admin:1", &[]);
    let dir = tempfile::tempdir().unwrap();
    let admin = task(
        "admin",
        vec![without_user(hardened("app", &reference))],
        None,
    );
    let gated = gate(layerguard(), &dir, &admin, &["--fail-on", "never"]);
    assert_eq!(gated.code, 0, "{}", gated.stderr);
    let root = gated.findings("task-root-user");
    assert_eq!(root.len(), 1, "{}", gated.json["findings"]);
    let message = root[0]["message"].as_str().unwrap();
    assert!(message.contains(r#"USER "admin" is root"#), "{message}");
}
