//! Every rule against real images: `kitchen-sink` breaks them, `clean` breaks none
//! (issue 2, "Rules"). Thresholds are lowered by config where the real defaults need big images.

use crate::support::*;
use std::sync::OnceLock;

fn kitchen_sink() -> &'static Scan {
    static S: OnceLock<Scan> = OnceLock::new();
    S.get_or_init(|| {
        let (_dir, cfg) = config(
            "max_layers = 5\nmax_image_size = \"1MiB\"\nwasted_space = \"1MiB\"\nallowed_registries = [\"registry.example.com\"]\n",
        );
        let s = scan(&fixture("docker-archive", "kitchen-sink.tar"), &["--config", cfg.to_str().unwrap()]);
        assert_eq!(s.code, 1, "{}", s.stderr);
        s
    })
}

fn clean() -> &'static Scan {
    static S: OnceLock<Scan> = OnceLock::new();
    S.get_or_init(|| {
        let s = scan(&fixture("docker-archive", "clean.tar"), &[]);
        assert_eq!(s.code, 0, "{}", s.stderr);
        s
    })
}

#[test]
fn clean_image_has_no_findings_but_a_low_mutable_tag() {
    let rules = clean().rules();
    assert!(rules.iter().all(|r| r == "mutable-tag"), "{rules:?}");
}

#[test]
fn every_rule_fires_on_the_kitchen_sink() {
    let fired = kitchen_sink().rules();
    for rule in [
        "setuid-file",
        "root-user",
        "excess-layers",
        "oversized-image",
        "wasted-space",
        "missing-multi-stage",
        "mutable-tag",
        "secret-in-config",
        "secret-file",
        "package-cache",
        "untrusted-registry",
        "no-healthcheck",
        "sensitive-volume",
        "sudo-installed",
        "ssh-server",
        "empty-password",
        "duplicate-id",
        "world-writable",
    ] {
        assert!(
            fired.contains(&rule.to_owned()),
            "{rule} did not fire: {fired:?}"
        );
    }
}

#[test]
fn setuid_reports_live_files_only_with_their_layer() {
    let s = kitchen_sink();
    let mut paths = s.paths("setuid-file");
    paths.sort();
    assert_eq!(
        paths,
        ["/usr/bin/fakesg", "/usr/bin/fakesu"],
        "a setuid file deleted later is not reported"
    );
    for f in s.findings("setuid-file") {
        assert!(f["location"]["layer"].is_u64());
    }
}

#[test]
fn setuid_allow_list_is_precise() {
    let (_d, cfg) = config("[setuid]\nallow = [\"/usr/bin/fakesu\"]\n");
    let s = scan(
        &fixture("docker-archive", "kitchen-sink.tar"),
        &["--config", cfg.to_str().unwrap(), "--fail-on", "never"],
    );
    assert_eq!(s.paths("setuid-file"), ["/usr/bin/fakesg"]);
}

#[test]
fn secret_file_deleted_later_is_still_reported_with_the_removing_layer() {
    let s = kitchen_sink();
    let key = s
        .findings("secret-file")
        .into_iter()
        .find(|f| f["location"]["path"] == "/root/.ssh/id_rsa")
        .expect("deleted private key reported");
    let added = key["location"]["layer"].as_u64().unwrap();
    let removed = key["location"]["removed_in_layer"]
        .as_u64()
        .expect("removed_in_layer");
    assert!(removed > added);
    let mut paths = s.paths("secret-file");
    paths.sort();
    for p in ["/app/.env", "/home/app/.npmrc", "/root/.aws/credentials"] {
        assert!(paths.contains(&p.to_owned()), "{p} missing from {paths:?}");
    }
}

#[test]
fn secrets_are_never_printed() {
    let s = kitchen_sink();
    let text = s.json.to_string();
    for secret in [
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "hunter2hunter2",
        "ghp_FakeGithubTokenForLayerguardFixture0",
        "npm_FakeNpmTokenForLayerguardFixtures000",
        "3f9a1c0e7b2d4a6f8e1c5b9d0a7f3e2c",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    let config_secrets = s.findings("secret-in-config");
    assert!(config_secrets.iter().any(|f| {
        f["location"]["config"]
            .as_str()
            .unwrap()
            .starts_with("config.Env")
    }));
    assert!(
        config_secrets.iter().any(|f| f["location"]["config"]
            .as_str()
            .unwrap()
            .starts_with("history[")),
        "a build arg in history is found"
    );
}

#[test]
fn root_user_in_every_form() {
    assert_eq!(kitchen_sink().findings("root-user").len(), 1);
    let named = scan(
        &fixture("docker-archive", "named-root.tar"),
        &["--fail-on", "never"],
    );
    assert_eq!(named.findings("root-user").len(), 1, "USER admin has uid 0");
    assert!(clean().findings("root-user").is_empty());
}

#[test]
fn excess_layers_uses_the_threshold() {
    let many = scan(
        &fixture("docker-archive", "many-layers.tar"),
        &["--fail-on", "never"],
    );
    assert_eq!(
        many.findings("excess-layers").len(),
        1,
        "{} layers",
        many.json["image"]["layers"]
    );
    assert!(clean().findings("excess-layers").is_empty());
}

#[test]
fn wasted_space_names_the_deleted_blob() {
    let f = kitchen_sink().findings("wasted-space");
    assert_eq!(f.len(), 1);
    assert!(
        f[0]["message"]
            .as_str()
            .unwrap()
            .contains("/var/tmp/build/blob.bin")
    );
}

#[test]
fn multi_stage_evidence_is_reported() {
    let text: String = kitchen_sink()
        .findings("missing-multi-stage")
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    for evidence in [
        "/usr/bin/gcc",
        "/src/app/.git",
        "/src/app/main.c",
        "history[",
    ] {
        assert!(text.contains(evidence), "{evidence} not in {text}");
    }
}

#[test]
fn package_caches_docker_hub_and_dockle_checks() {
    let s = kitchen_sink();
    assert!(s.findings("package-cache").len() >= 3);
    assert!(
        s.findings("untrusted-registry")
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("docker.io"))
    );
    assert!(
        s.paths("sudo-installed")
            .contains(&"/usr/bin/sudo".to_owned())
    );
    assert_eq!(s.findings("ssh-server").len(), 2, "sshd binary and port 22");
    assert_eq!(s.findings("empty-password").len(), 1);
    assert!(
        !s.json["findings"].to_string().contains("guest::"),
        "no shadow lines printed"
    );
    assert_eq!(
        s.findings("duplicate-id").len(),
        2,
        "uid 0 twice and gid 1000 twice"
    );
    let mut ww = s.paths("world-writable");
    ww.sort();
    assert_eq!(ww, ["/app/config.json", "/data/shared"]);
    assert_eq!(s.findings("sensitive-volume").len(), 1);
    for rule in [
        "package-cache",
        "untrusted-registry",
        "sudo-installed",
        "ssh-server",
        "empty-password",
        "duplicate-id",
        "world-writable",
        "sensitive-volume",
        "no-healthcheck",
        "setuid-file",
        "secret-file",
        "secret-in-config",
        "missing-multi-stage",
        "wasted-space",
    ] {
        assert!(clean().findings(rule).is_empty(), "{rule} fired on clean");
    }
}

#[test]
fn mutable_tag_severity_follows_the_reference() {
    let f = clean().findings("mutable-tag");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["severity"], "low", "a tag without a digest");
    let layout = scan(&fixture("oci", "clean.oci:1"), &["--fail-on", "never"]);
    let msg = layout.findings("mutable-tag")[0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains("sha256:"),
        "the digest to pin is printed: {msg}"
    );
}

/// A tag suffix no other test run uses: the Docker daemon is shared.
fn unique_tag_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

/// `docker import` of `entries` under `root`, owned by root, as `tag`.
fn import(root: &std::path::Path, entries: &[&str], tag: &str) {
    let rootfs = root.with_extension("tar");
    run(std::process::Command::new("tar")
        .arg("-cf")
        .arg(&rootfs)
        .args(["--owner=0", "--group=0", "-C"])
        .arg(root)
        .args(entries));
    run(std::process::Command::new("docker")
        .arg("import")
        .arg(&rootfs)
        .arg(tag));
}

/// `docker save` of `tag` into `dir`, then the tags are removed from the daemon; returns the
/// `docker-archive:` reference.
fn save_and_remove(dir: &std::path::Path, tag: &str, also_remove: &[&str]) -> String {
    let archive = dir.join("image.tar");
    run(std::process::Command::new("docker")
        .args(["save", "-o"])
        .arg(&archive)
        .arg(tag));
    run(std::process::Command::new("docker")
        .arg("rmi")
        .arg(tag)
        .args(also_remove));
    format!("docker-archive:{}", archive.display())
}

/// A `docker build` of ENVs and build arguments that official images and ordinary deployments
/// set, a few real-looking secrets among them, on a base imported from this machine's static
/// busybox. Built once per run under a unique tag, saved, and removed from the daemon again.
fn env_secrets_image() -> &'static str {
    static IMAGE: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &IMAGE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let unique = unique_tag_suffix();
            let base = format!("layerguard-test/env-secrets-base:{unique}");
            let tag = format!("layerguard-test/env-secrets:{unique}");
            let root = dir.path().join("rootfs");
            std::fs::create_dir_all(root.join("bin")).unwrap();
            std::fs::create_dir_all(root.join("etc")).unwrap();
            std::fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
            std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
            std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
            import(&root, &["bin", "etc"], &base);

            let context = dir.path().join("context");
            std::fs::create_dir_all(&context).unwrap();
            std::fs::write(
                context.join("Dockerfile"),
                format!(
                    r#"FROM {base}
ENV PYTHON_VERSION=3.12.1 \
    GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305 \
    PYTHON_SHA256=8dfb8f426fcd226657f9e2bd5f1e96e53264965176fa17d32658e873591aeb21 \
    NODE_VERSION=20.11.1 \
    RABBITMQ_PGP_KEY_ID=0x0A9AF2115F4687BD29803A206B73A36E6026DFCA \
    PGDATA=/var/lib/postgresql/data \
    REDIS_DOWNLOAD_URL=http://download.redis.io/releases/redis-7.2.4.tar.gz \
    AWS_REGION=us-east-1 \
    TOKEN_URL=https://auth.example.com/token \
    SECRET_ARN=arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf \
    PASSWORD_FILE=/run/secrets/db \
    API_KEY_HEADER=X-Api-Key \
    ENABLE_TOKEN=true \
    TOKEN_TTL=3600
ENV AWS_ACCESS_KEY_ID=AKIA1234567890ABCDEF \
    DB_PASSWORD=hunter2hunter2 \
    API_TOKEN=9f8c2e1d7b6a4f3e0c5d8b7a6e1f2c3d \
    DATABASE_URL=postgres://app:s3cr3t-passw0rd@db:5432/app
ARG CURL_VERSION=8.5.0-r0
ARG TOKEN_CLIENT_VERSION=2.4.1
RUN echo "curl=$CURL_VERSION token-client==$TOKEN_CLIENT_VERSION" > /etc/pins
USER 10001
"#
                ),
            )
            .unwrap();
            // The classic builder, as the fixtures use: every instruction is a history entry.
            run(std::process::Command::new("docker")
                .env("DOCKER_BUILDKIT", "0")
                .args(["build", "--quiet", "--pull=false", "-t", &tag])
                .arg(&context));
            let reference = save_and_remove(dir.path(), &tag, &[&base]);
            (dir, reference)
        })
        .1
}

#[test]
fn secret_in_config_reports_the_secrets_and_not_the_settings_of_a_built_image() {
    let s = scan(env_secrets_image(), &["--fail-on", "never"]);
    assert_eq!(s.code, 0, "{}", s.stderr);
    let mut found: Vec<(String, String, String)> = s
        .findings("secret-in-config")
        .iter()
        .map(|f| {
            (
                f["location"]["config"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    let expected = |config: &str, severity: &str, message: &str| {
        (config.to_owned(), severity.to_owned(), message.to_owned())
    };
    let env = "config.Env";
    // The import is history[0]; the second ENV, which holds the secrets, is history[2]. Nothing
    // in the first ENV, the build arguments or the RUN that uses them is a secret.
    let step = "history[2].created_by";
    let mut want = vec![
        expected(
            env,
            "critical",
            "ENV AWS_ACCESS_KEY_ID holds a secret (AWS access key ID): AKIA***(20 chars)",
        ),
        expected(
            env,
            "high",
            "ENV DB_PASSWORD holds a secret (password assignment): hu***(14 chars)",
        ),
        expected(
            env,
            "high",
            "ENV API_TOKEN holds a secret (token assignment): 9f8c***(32 chars)",
        ),
        expected(
            env,
            "critical",
            "ENV DATABASE_URL holds a secret (password in a URL): s3***(15 chars)",
        ),
        expected(
            step,
            "critical",
            "build step history[2] records a secret (AWS access key ID): AKIA***(20 chars)",
        ),
        expected(
            step,
            "high",
            "build step history[2] records a secret (password assignment): hu***(14 chars)",
        ),
        expected(
            step,
            "high",
            "build step history[2] records a secret (token assignment): 9f8c***(32 chars)",
        ),
        expected(
            step,
            "critical",
            "build step history[2] records a secret (password in a URL): s3***(15 chars)",
        ),
    ];
    want.sort();
    assert_eq!(found, want);
    let text = s.json.to_string();
    for secret in [
        "AKIA1234567890ABCDEF",
        "hunter2hunter2",
        "9f8c2e1d7b6a4f3e0c5d8b7a6e1f2c3d",
        "s3cr3t-passw0rd",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

/// A merged-/usr Debian userland as `docker import` makes it from this machine's own files:
/// dash as /bin/sh, shadow's useradd and Debian's adduser (which takes no `-D`), and os-release.
fn debian_userland_image() -> &'static str {
    static IMAGE: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &IMAGE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let tag = format!("layerguard-test/debian-userland:{}", unique_tag_suffix());
            let root = dir.path().join("rootfs");
            for d in ["usr/bin", "usr/sbin", "etc"] {
                std::fs::create_dir_all(root.join(d)).unwrap();
            }
            for f in ["usr/bin/dash", "usr/sbin/useradd", "usr/sbin/adduser"] {
                std::fs::copy(std::path::Path::new("/").join(f), root.join(f)).unwrap();
            }
            std::os::unix::fs::symlink("dash", root.join("usr/bin/sh")).unwrap();
            std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
            std::os::unix::fs::symlink("usr/sbin", root.join("sbin")).unwrap();
            std::fs::copy("/etc/os-release", root.join("etc/os-release")).unwrap();
            std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
            import(&root, &["bin", "sbin", "usr", "etc"], &tag);
            let reference = save_and_remove(dir.path(), &tag, &[]);
            (dir, reference)
        })
        .1
}

#[test]
fn root_user_fix_uses_the_user_tool_of_the_base() {
    let busybox = kitchen_sink().findings("root-user")[0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        busybox.contains("`RUN adduser -D -u 10001 app`") && busybox.ends_with("`USER 10001`"),
        "{busybox}"
    );
    let debian = scan(debian_userland_image(), &["--fail-on", "never"]);
    let message = debian.findings("root-user")[0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("`RUN useradd -u 10001 -m app`") && !message.contains("adduser -D"),
        "{message}"
    );
}
