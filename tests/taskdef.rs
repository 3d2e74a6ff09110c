//! `layerguard taskdef` (issue 12): the real binary on task definitions written by hand
//! for each check, in both input shapes, and on the ECS Developer Guide's examples.

use crate::support::{Scan, layerguard};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The outcome of a lint: what a scan's is, and the report as printed, for the other formats.
pub struct Lint {
    pub scan: Scan,
    pub stdout: String,
}

impl std::ops::Deref for Lint {
    type Target = Scan;

    fn deref(&self) -> &Scan {
        &self.scan
    }
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/taskdefs")
        .join(name)
}

/// `layerguard taskdef FILE` with `args` (`--format json` unless another format is given).
fn lint(file: &Path, args: &[&str]) -> Lint {
    lint_with(layerguard(), file.as_os_str(), args)
}

/// [`lint`] of any input (`ecs:…`, an ARN) with a prepared command (its environment).
pub fn lint_with(mut cmd: assert_cmd::Command, input: &std::ffi::OsStr, args: &[&str]) -> Lint {
    cmd.arg("taskdef").arg(input);
    if !args.contains(&"--format") {
        cmd.args(["--format", "json"]);
    }
    let out = cmd.args(args).output().expect("run layerguard");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    Lint {
        scan: Scan {
            code: out.status.code().expect("exit code"),
            json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stderr,
        },
        stdout,
    }
}

/// Writes `task` to a file in `dir` and lints it.
fn lint_json(dir: &tempfile::TempDir, task: &Value, args: &[&str]) -> Lint {
    let path = dir.path().join("task.json");
    std::fs::write(&path, serde_json::to_string_pretty(task).unwrap()).unwrap();
    lint(&path, args)
}

/// A task of one container, `container` merged over a name and image.
fn task_with(task: Value, container: Value) -> Value {
    let mut c =
        json!({"name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0"});
    c.as_object_mut()
        .unwrap()
        .extend(container.as_object().unwrap().clone());
    let mut t = json!({"family": "t", "containerDefinitions": [c]});
    t.as_object_mut()
        .unwrap()
        .extend(task.as_object().unwrap().clone());
    t
}

/// The same task as `describe-task-definition` prints it.
fn described(task: &Value) -> Value {
    json!({"taskDefinition": task, "tags": [{"key": "team", "value": "a"}]})
}

/// For every check: a task that has the problem and one that does not, each in both shapes.
#[test]
fn every_check_finds_its_positive_case_and_not_its_negative_in_both_shapes() {
    let fargate = json!({"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc"});
    let none = json!({});
    let cases: Vec<(&str, Value, Value, Value, Value, &str)> = vec![
        (
            "task-privileged",
            none.clone(),
            json!({"privileged": true}),
            none.clone(),
            json!({"privileged": false}),
            "containerDefinitions[0].privileged",
        ),
        (
            "task-root-user",
            none.clone(),
            json!({"user": "0:1000"}),
            none.clone(),
            json!({"user": "1000:0"}),
            "containerDefinitions[0].user",
        ),
        (
            "task-writable-root-fs",
            none.clone(),
            json!({}),
            none.clone(),
            json!({"readonlyRootFilesystem": true}),
            "containerDefinitions[0].readonlyRootFilesystem",
        ),
        (
            "task-secret-in-environment",
            none.clone(),
            json!({"environment": [{"name": "DB_PASSWORD", "value": "s3cr3t-pw"}]}),
            none.clone(),
            json!({"secrets": [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:db"}]}),
            "containerDefinitions[0].environment[0].value",
        ),
        (
            "task-host-network",
            json!({"networkMode": "host"}),
            none.clone(),
            json!({"networkMode": "awsvpc"}),
            none.clone(),
            "networkMode",
        ),
        (
            "task-host-pid",
            json!({"pidMode": "host"}),
            none.clone(),
            json!({"pidMode": "task"}),
            none.clone(),
            "pidMode",
        ),
        (
            "task-host-ipc",
            json!({"ipcMode": "host"}),
            none.clone(),
            json!({"ipcMode": "none"}),
            none.clone(),
            "ipcMode",
        ),
        (
            "task-added-capabilities",
            none.clone(),
            json!({"linuxParameters": {"capabilities": {"add": ["SYS_ADMIN"]}}}),
            none.clone(),
            json!({"linuxParameters": {"capabilities": {"drop": ["ALL"]}}}),
            "containerDefinitions[0].linuxParameters.capabilities.add",
        ),
        (
            "task-capabilities-not-dropped",
            none.clone(),
            json!({"linuxParameters": {"capabilities": {"drop": ["NET_RAW"]}}}),
            none.clone(),
            json!({"linuxParameters": {"capabilities": {"drop": ["ALL"]}}}),
            "containerDefinitions[0].linuxParameters.capabilities.drop",
        ),
        (
            "task-no-memory-limit",
            none.clone(),
            json!({"memoryReservation": 128}),
            none.clone(),
            json!({"memory": 256}),
            "containerDefinitions[0].memory",
        ),
        (
            "task-no-logging",
            none.clone(),
            json!({}),
            none.clone(),
            json!({"logConfiguration": {"logDriver": "awslogs"}}),
            "containerDefinitions[0].logConfiguration",
        ),
        (
            "task-mutable-image-tag",
            none.clone(),
            json!({"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:latest"}),
            none.clone(),
            json!({"image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1.0"}),
            "containerDefinitions[0].image",
        ),
        (
            "task-untrusted-registry",
            none.clone(),
            json!({"image": "library/redis:7.2"}),
            none.clone(),
            json!({"image": "public.ecr.aws/docker/library/redis:7.2"}),
            "containerDefinitions[0].image",
        ),
        (
            "task-no-healthcheck",
            none.clone(),
            json!({"portMappings": [{"containerPort": 80}]}),
            none.clone(),
            json!({"portMappings": [{"containerPort": 80}], "healthCheck": {"command": ["CMD", "true"]}}),
            "containerDefinitions[0].healthCheck",
        ),
        (
            "task-host-path-mount",
            json!({"volumes": [{"name": "docker", "host": {"sourcePath": "/var/run/docker.sock"}}]}),
            json!({"mountPoints": [{"sourceVolume": "docker", "containerPath": "/var/run/docker.sock"}]}),
            json!({"volumes": [{"name": "data", "host": {"sourcePath": "/srv/data"}}]}),
            json!({"mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}]}),
            "containerDefinitions[0].mountPoints[0].sourceVolume",
        ),
        (
            "task-no-new-privileges",
            none.clone(),
            json!({}),
            none.clone(),
            json!({"dockerSecurityOptions": ["no-new-privileges"]}),
            "containerDefinitions[0].dockerSecurityOptions",
        ),
        (
            "task-same-task-and-execution-role",
            json!({"taskRoleArn": "arn:aws:iam::1:role/r", "executionRoleArn": "arn:aws:iam::1:role/r"}),
            none.clone(),
            json!({"taskRoleArn": "arn:aws:iam::1:role/app", "executionRoleArn": "arn:aws:iam::1:role/exec"}),
            none.clone(),
            "taskRoleArn",
        ),
        (
            "task-efs-no-transit-encryption",
            json!({"volumes": [{"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1"}}]}),
            none.clone(),
            json!({"volumes": [{"name": "efs", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "ENABLED"}}]}),
            none.clone(),
            "volumes[0].efsVolumeConfiguration.transitEncryption",
        ),
        (
            "task-fargate-incompatible",
            json!({"requiresCompatibilities": ["FARGATE"], "networkMode": "bridge"}),
            none.clone(),
            fargate.clone(),
            none.clone(),
            "networkMode",
        ),
        (
            "task-secrets-without-execution-role",
            none.clone(),
            json!({"secrets": [{"name": "X", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/x"}]}),
            json!({"executionRoleArn": "arn:aws:iam::1:role/exec"}),
            json!({"secrets": [{"name": "X", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/x"}]}),
            "containerDefinitions[0].secrets",
        ),
        (
            "task-no-init-process",
            none.clone(),
            json!({}),
            none.clone(),
            json!({"linuxParameters": {"initProcessEnabled": true}}),
            "containerDefinitions[0].linuxParameters.initProcessEnabled",
        ),
        (
            "task-no-nofile-ulimit",
            none.clone(),
            json!({}),
            none.clone(),
            json!({"ulimits": [{"name": "nofile", "softLimit": 1024, "hardLimit": 4096}]}),
            "containerDefinitions[0].ulimits",
        ),
        (
            "task-awslogs-blocking",
            none.clone(),
            json!({"logConfiguration": {"logDriver": "awslogs"}}),
            none.clone(),
            json!({"logConfiguration": {"logDriver": "awslogs", "options": {"mode": "non-blocking"}}}),
            "containerDefinitions[0].logConfiguration.options.mode",
        ),
        (
            "task-metadata-reachable",
            json!({"networkMode": "bridge"}),
            none.clone(),
            json!({"networkMode": "awsvpc"}),
            none.clone(),
            "networkMode",
        ),
        (
            "task-environment-files",
            none.clone(),
            json!({"environmentFiles": [{"value": "arn:aws:s3:::b/app.env", "type": "s3"}]}),
            none.clone(),
            json!({}),
            "containerDefinitions[0].environmentFiles",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let listed = layerguard()
        .args(["rules", "--only", "taskdef", "--format", "json"])
        .output()
        .unwrap();
    let checks: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let names: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let covered: Vec<&str> = cases.iter().map(|c| c.0).collect();
    assert_eq!(names, covered, "every check has a case here, in code order");

    for (rule, pos_task, pos_container, neg_task, neg_container, field) in &cases {
        let positive = task_with(pos_task.clone(), pos_container.clone());
        let negative = task_with(neg_task.clone(), neg_container.clone());
        for (shape, prefix, wrap) in [
            ("register input", "", false),
            ("describe output", "taskDefinition.", true),
        ] {
            let doc = |t: &Value| if wrap { described(t) } else { t.clone() };
            let found = lint_json(&dir, &doc(&positive), &["--fail-on", "never"]);
            assert_eq!(found.code, 0, "{rule} ({shape}): {}", found.stderr);
            let hits = found.findings(rule);
            assert!(
                !hits.is_empty(),
                "{rule} ({shape}) missed: {}",
                found.json["findings"]
            );
            assert_eq!(
                hits[0]["field"],
                format!("{prefix}{field}"),
                "{rule} ({shape})"
            );
            assert!(hits[0]["line"].as_u64().unwrap() > 1, "{rule} ({shape})");
            let clean = lint_json(&dir, &doc(&negative), &["--fail-on", "never"]);
            assert!(
                clean.findings(rule).is_empty(),
                "{rule} ({shape}) false positive: {}",
                clean.json["findings"]
            );
        }
    }
}

#[test]
fn findings_carry_rule_code_severity_container_detail_message_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let task = task_with(
        json!({"networkMode": "host"}),
        json!({"name": "web", "environment": [{"name": "GH", "value": "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]}),
    );
    let s = lint_json(&dir, &task, &[]);
    assert_eq!(
        s.code, 1,
        "a critical finding fails the default --fail-on high"
    );
    assert_eq!(s.json["schema_version"], 1);
    assert_eq!(s.json["kind"], "task-definition");
    let secret = &s.findings("task-secret-in-environment")[0];
    assert_eq!(secret["code"], "LG104");
    assert_eq!(secret["severity"], "critical");
    assert_eq!(secret["container"], "web");
    assert_eq!(secret["detail"], "GH");
    assert!(secret["message"].as_str().unwrap().contains("GitHub token"));
    assert!(!s.stdout.contains("ghp_x"), "the value is never printed");
    let host = &s.findings("task-host-network")[0];
    assert!(host["container"].is_null() && host.get("container").is_some());
    assert!(host["detail"].is_null());
}

#[test]
fn the_guides_fargate_web_app_fails_only_on_what_it_leaves_out() {
    let s = lint(
        &testdata("aws-fargate-webapp.json"),
        &["--fail-on", "never"],
    );
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert_eq!(s.json["task_definition"]["launch_type"], "fargate");
    assert_eq!(
        s.rules(),
        [
            "task-awslogs-blocking",
            "task-capabilities-not-dropped",
            "task-no-healthcheck",
            "task-no-init-process",
            "task-no-nofile-ulimit",
            "task-root-user",
            "task-writable-root-fs",
        ]
    );
    // Fargate: no EC2-only advice, and ECR Public is trusted.
    assert_eq!(
        lint(&testdata("aws-fargate-webapp.json"), &[]).code,
        1,
        "writable root fs is high"
    );
}

#[test]
fn the_guides_firelens_router_is_root_only_as_advice() {
    let s = lint(&testdata("aws-firelens.json"), &["--fail-on", "never"]);
    let root: Vec<(&str, &str)> = s
        .findings("task-root-user")
        .iter()
        .map(|f| {
            (
                f["container"].as_str().unwrap(),
                f["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(root, [("app", "medium"), ("log_router", "info")]);
    // awsfirelens counts as logging; the app has only a soft memory limit on EC2.
    assert!(s.findings("task-no-logging").is_empty());
    assert_eq!(s.findings("task-no-memory-limit").len(), 2);
    let hub = s.findings("task-untrusted-registry");
    assert_eq!(
        (hub.len(), hub[0]["detail"].as_str()),
        (1, Some("docker.io"))
    );
}

#[test]
fn the_guides_app_mesh_task_trusts_its_ecr_proxy_and_its_uid() {
    let s = lint(&testdata("aws-appmesh-envoy.json"), &["--fail-on", "never"]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let root: Vec<&str> = s
        .findings("task-root-user")
        .iter()
        .map(|f| f["container"].as_str().unwrap())
        .collect();
    assert_eq!(root, ["app"], "envoy runs as 1337");
    let untrusted: Vec<&str> = s
        .findings("task-untrusted-registry")
        .iter()
        .map(|f| f["container"].as_str().unwrap())
        .collect();
    assert_eq!(untrusted, ["app"]);
    // requiresCompatibilities EC2 with awsvpc: EC2-only checks apply, IMDS advice does not.
    assert_eq!(s.findings("task-no-new-privileges").len(), 2);
    assert!(s.findings("task-metadata-reachable").is_empty());
    assert_eq!(s.findings("task-no-healthcheck").len(), 1);
}

#[test]
fn the_guides_windows_task_skips_linux_only_checks() {
    let s = lint(&testdata("aws-windows-iis.json"), &["--fail-on", "never"]);
    assert_eq!(s.json["task_definition"]["os"], "windows");
    for linux_only in [
        "task-writable-root-fs",
        "task-capabilities-not-dropped",
        "task-no-init-process",
        "task-no-nofile-ulimit",
        "task-no-new-privileges",
    ] {
        assert!(s.findings(linux_only).is_empty(), "{linux_only}");
    }
    assert_eq!(
        s.findings("task-root-user").len(),
        1,
        "no user means ContainerAdministrator"
    );
    assert_eq!(
        s.findings("task-untrusted-registry")[0]["detail"],
        "mcr.microsoft.com"
    );
}

#[test]
fn the_guides_efs_and_multi_container_tasks() {
    let efs = lint(&testdata("aws-efs.json"), &["--fail-on", "never"]);
    assert_eq!(
        efs.findings("task-efs-no-transit-encryption")[0]["detail"],
        "efs-html"
    );
    assert!(
        efs.findings("task-no-memory-limit").is_empty(),
        "memory 128 is a hard limit"
    );
    assert!(efs.findings("task-host-path-mount").is_empty());

    let multi = lint(&testdata("aws-multi-container.json"), &[]);
    assert_eq!(multi.code, 1);
    let secret = &multi.findings("task-secret-in-environment")[0];
    assert_eq!(
        (
            secret["container"].as_str(),
            secret["detail"].as_str(),
            secret["severity"].as_str()
        ),
        (Some("mysql"), Some("MYSQL_ROOT_PASSWORD"), Some("high"))
    );
    assert_eq!(multi.findings("task-mutable-image-tag").len(), 2);
    assert_eq!(
        multi.findings("task-metadata-reachable")[0]["detail"],
        "bridge"
    );
}

#[test]
fn describe_output_with_newer_fields_is_read_and_compatibilities_do_not_decide() {
    let s = lint(&testdata("describe-output.json"), &["--fail-on", "never"]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert_eq!(s.json["task_definition"]["shape"], "describe-output");
    assert_eq!(s.json["task_definition"]["revision"], 7);
    assert_eq!(
        s.json["task_definition"]["launch_type"], "ec2",
        "compatibilities lists FARGATE, requiresCompatibilities does not"
    );
    assert!(s.findings("task-fargate-incompatible").is_empty());
    assert_eq!(
        s.findings("task-privileged")[0]["field"],
        "taskDefinition.containerDefinitions[0].privileged"
    );
    assert_eq!(s.findings("task-privileged")[0]["line"], 22);
}

#[test]
fn baits_and_a_hardened_task_give_nothing_to_gate_on() {
    let baits = lint(&testdata("baits.json"), &["--fail-on", "info"]);
    assert_eq!(baits.code, 0, "{}", baits.json["findings"]);
    assert!(baits.json["findings"].as_array().unwrap().is_empty());
    let hardened = lint(&testdata("hardened.json"), &["--fail-on", "info"]);
    assert_eq!(hardened.code, 0, "{}", hardened.json["findings"]);
    let table = lint(&testdata("hardened.json"), &["--format", "table"]);
    assert!(
        table
            .stdout
            .contains("No findings: the task definition passed all 25 checks."),
        "{}",
        table.stdout
    );
}

#[test]
fn fargate_incompatible_settings_are_each_named_and_their_own_checks_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let task = task_with(
        json!({"requiresCompatibilities": ["FARGATE"], "networkMode": "host", "pidMode": "host"}),
        json!({"privileged": true, "linuxParameters": {"capabilities": {"add": ["SYS_PTRACE", "NET_ADMIN"]}}}),
    );
    let s = lint_json(&dir, &task, &[]);
    let details: Vec<&str> = s
        .findings("task-fargate-incompatible")
        .iter()
        .map(|f| f["detail"].as_str().unwrap())
        .collect();
    for expected in [
        "networkMode=host",
        "pidMode=host",
        "privileged",
        "capabilities.add=NET_ADMIN",
    ] {
        assert!(details.contains(&expected), "{expected}: {details:?}");
    }
    assert!(!details.iter().any(|d| d.contains("SYS_PTRACE")));
    for own in [
        "task-privileged",
        "task-host-pid",
        "task-host-network",
        "task-added-capabilities",
    ] {
        assert_eq!(s.findings(own).len(), 1, "{own}");
    }
    // Fargate: the EC2-only checks do not run.
    assert!(
        s.findings("task-no-new-privileges").is_empty()
            && s.findings("task-no-memory-limit").is_empty()
    );
}

#[test]
fn documents_that_are_not_task_definitions_exit_2_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"family\": \"web\", \"containerDefinitions\": [").unwrap();
    let list = dir.path().join("list.json");
    std::fs::write(
        &list,
        r#"{"taskDefinitionArns": ["arn:aws:ecs:us-east-1:1:task-definition/a:1"]}"#,
    )
    .unwrap();
    let typed = dir.path().join("typed.json");
    std::fs::write(
        &typed,
        r#"{"family": "a", "containerDefinitions": [{"name": "a", "memory": "lots"}]}"#,
    )
    .unwrap();
    for (file, says) in [
        (
            testdata("cloudformation.json"),
            "is a CloudFormation template, not a task definition",
        ),
        (broken.clone(), "is not valid JSON"),
        (list.clone(), "is not a task definition"),
        (typed.clone(), "is not a valid task definition"),
        (dir.path().join("missing.json"), "No such file"),
    ] {
        let s = lint(&file, &[]);
        assert_eq!(s.code, 2, "{}", file.display());
        let stderr = s.stderr.trim_end();
        assert!(
            stderr.contains(&*file.display().to_string()) && stderr.contains(says),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(s.stdout.is_empty());
    }
}

#[test]
fn a_template_on_standard_input_is_refused_naming_standard_input() {
    let text = std::fs::read_to_string(testdata("cloudformation.json")).unwrap();
    let out = layerguard()
        .args(["taskdef", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: standard input is a CloudFormation template"),
        "{stderr}"
    );
}

#[test]
fn no_containers_is_a_warning_not_an_error() {
    let s = lint(&testdata("empty-containers.json"), &[]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    assert!(
        s.json["warnings"][0]
            .as_str()
            .unwrap()
            .contains("containerDefinitions is empty")
    );
    let dir = tempfile::tempdir().unwrap();
    let missing = lint_json(
        &dir,
        &json!({"family": "f", "networkMode": "host"}),
        &["--fail-on", "never"],
    );
    assert_eq!(missing.code, 0);
    assert!(
        missing.json["warnings"][0]
            .as_str()
            .unwrap()
            .contains("missing")
    );
    assert_eq!(
        missing.findings("task-host-network").len(),
        1,
        "task-level checks still run"
    );
}

#[test]
fn standard_input_output_files_and_fail_on() {
    let text = std::fs::read_to_string(testdata("aws-multi-container.json")).unwrap();
    let out = layerguard()
        .args(["taskdef", "-", "--format", "json"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["task_definition"]["file"], "-");

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let s = lint(
        &testdata("aws-multi-container.json"),
        &[
            "--output",
            report.to_str().unwrap(),
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(s.code, 0, "nothing critical");
    assert!(s.stdout.is_empty());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(written["task_definition"]["family"], "hello_world");
    assert_eq!(
        lint(&testdata("aws-multi-container.json"), &["--fail-on", "low"]).code,
        1
    );
}

#[test]
fn the_config_trusts_registries_and_ignores_findings() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("layerguard.toml");
    std::fs::write(
        &config,
        "allowed_registries = [\"docker.io\"]\n\n[[ignore]]\nrule = \"task-secret-in-environment\"\nimage = \"mysql*\"\nreason = \"local demo only\"\n\n[[ignore]]\nrule = \"LG112\"\nreason = \"old\"\nexpires = 2001-01-01\n",
    )
    .unwrap();
    let s = lint(
        &testdata("aws-multi-container.json"),
        &["--config", config.to_str().unwrap(), "--fail-on", "high"],
    );
    assert!(s.findings("task-untrusted-registry").is_empty());
    assert!(s.findings("task-secret-in-environment").is_empty());
    assert_eq!(
        s.json["suppressed"][0]["rule"],
        "task-secret-in-environment"
    );
    assert_eq!(s.json["suppressed"][0]["reason"], "local demo only");
    assert_eq!(
        s.findings("task-mutable-image-tag").len(),
        2,
        "an expired ignore no longer suppresses"
    );
    assert!(s.json["warnings"].to_string().contains("expired"));
}

/// One `layerguard.toml` for a repository's image gate and its task-definition gate: each
/// command takes the ignores that are its own and leaves the other's, and both refuse a name
/// that is no rule at all.
#[test]
fn one_config_serves_scan_and_taskdef_and_a_typo_is_refused_by_both() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("layerguard.toml");
    let ignores = "[[ignore]]\nrule = \"task-secret-in-environment\"\nreason = \"demo\"\n\n\
                   [[ignore]]\nrule = \"no-healthcheck\"\nreason = \"batch job\"\n";
    std::fs::write(&config, ignores).unwrap();
    let config = config.to_str().unwrap();
    let task = lint(
        &testdata("aws-multi-container.json"),
        &["--config", config, "--fail-on", "never"],
    );
    assert_eq!(task.code, 0, "{}", task.stderr);
    assert!(task.findings("task-secret-in-environment").is_empty());
    let image = crate::support::scan(
        &crate::support::fixture("oci", "clean.oci:1"),
        &["--config", config, "--fail-on", "never"],
    );
    assert_eq!(image.code, 0, "{}", image.stderr);
    assert!(
        image.findings("no-healthcheck").is_empty(),
        "{}",
        image.json
    );

    std::fs::write(
        dir.path().join("layerguard.toml"),
        format!("{ignores}\n[[ignore]]\nrule = \"task-priviliged\"\nreason = \"typo\"\n"),
    )
    .unwrap();
    let task = lint(&testdata("aws-multi-container.json"), &["--config", config]);
    let image = crate::support::scan(
        &crate::support::fixture("oci", "clean.oci:1"),
        &["--config", config],
    );
    for (what, stderr, code) in [
        ("taskdef", &task.stderr, task.code),
        ("scan", &image.stderr, image.code),
    ] {
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(
            stderr.contains("unknown rule \"task-priviliged\""),
            "{what}: {stderr}"
        );
    }
}

#[test]
fn sarif_points_at_the_file_and_field_and_validates() {
    let s = lint(
        &testdata("aws-multi-container.json"),
        &["--format", "sarif"],
    );
    assert_eq!(s.code, 1);
    let log: Value = serde_json::from_str(&s.stdout).unwrap();
    let errors = crate::support::sarif_schema_errors(&log);
    assert!(errors.is_empty(), "{errors:#?}");
    let run = &log["runs"][0];
    assert_eq!(
        run["automationDetails"]["id"],
        "layerguard/task-definition/hello_world/"
    );
    let secret = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"].as_str().unwrap().starts_with("LG104"))
        .unwrap();
    let location = &secret["locations"][0];
    assert!(
        location["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("testdata/taskdefs/aws-multi-container.json")
    );
    assert_eq!(location["physicalLocation"]["region"]["startLine"], 23);
    assert_eq!(
        location["logicalLocations"][0]["name"],
        "containerDefinitions[1].environment[0].value"
    );
    assert_eq!(
        secret["ruleId"], "LG104/high",
        "a descriptor per severity used"
    );
}

#[test]
fn an_absolute_path_in_the_checkout_is_reported_relative_to_it() {
    let out = layerguard()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("taskdef")
        .arg(testdata("aws-efs.json"))
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    let uri = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"];
    assert_eq!(uri, "testdata/taskdefs/aws-efs.json");
}

#[test]
fn junit_has_a_case_per_check() {
    let s = lint(
        &testdata("aws-multi-container.json"),
        &["--format", "junit"],
    );
    let doc = roxmltree::Document::parse(&s.stdout).unwrap();
    let cases: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 25);
    let failing: Vec<&str> = cases
        .iter()
        .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
        .map(|c| c.attribute("name").unwrap())
        .collect();
    assert!(
        failing.contains(&"task-secret-in-environment"),
        "{failing:?}"
    );
    assert!(
        !failing.contains(&"task-mutable-image-tag"),
        "medium is below --fail-on high"
    );
}

#[test]
fn rules_and_explain_know_the_task_checks_and_the_readme_lists_them() {
    let out = layerguard()
        .args(["explain", "task-privileged"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("LG101 task-privileged (high)") && text.contains("How to fix"),
        "{text}"
    );
    let by_code = layerguard().args(["explain", "lg101"]).output().unwrap();
    assert_eq!(String::from_utf8(by_code.stdout).unwrap(), text);
    let all = layerguard().args(["rules"]).output().unwrap();
    let all = String::from_utf8(all.stdout).unwrap();
    assert!(all.contains("setuid-file") && all.contains("task-secrets-without-execution-role"));

    let table = layerguard()
        .args(["rules", "--format", "markdown", "--only", "taskdef"])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert!(
        readme.contains(&table),
        "README task-definition table is stale; paste `layerguard rules --format markdown --only taskdef`"
    );
}
