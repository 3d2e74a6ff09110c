//! Scanning straight from registries (issue 9): Debian's `docker-registry` on 127.0.0.1, plain
//! and behind TLS with basic auth, filled by `skopeo copy` and `docker push`, and a proxy that
//! breaks blob downloads. A registry image must give the report its layout or archive gives.

use crate::support::fault_proxy::{Fault, FaultProxy};
use crate::support::registry::{PASSWORD, Registry, USERNAME};
use crate::support::*;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The plain registry with the fixtures pushed once per test run, and their manifest digests.
struct Plain {
    registry: Registry,
    /// `lgreg/clean:1` and `:latest`, from `oci:clean.oci:1`.
    clean: String,
    /// `lgreg/kitchen-sink:1`, from `docker-archive:kitchen-sink.tar`.
    kitchen_sink: String,
    /// `lgreg/clean-zstd:1`, from `oci:clean.zstd.oci:1`.
    clean_zstd: String,
    /// `lgreg/multiarch:1`, the image index from `oci:multiarch.oci:1` (`--all`).
    multiarch: String,
}

fn plain() -> &'static Plain {
    static P: OnceLock<Plain> = OnceLock::new();
    P.get_or_init(|| {
        let registry = Registry::plain();
        let clean = registry.skopeo_copy(&fixture("oci", "clean.oci:1"), "lgreg/clean:1", &[]);
        registry.skopeo_copy(&fixture("oci", "clean.oci:1"), "lgreg/clean:latest", &[]);
        let kitchen_sink = registry.skopeo_copy(
            &fixture("docker-archive", "kitchen-sink.tar"),
            "lgreg/kitchen-sink:1",
            &[],
        );
        // Not `--dest-compress-format zstd` from a gzip source: skopeo 1.9 keeps any layer the
        // registry already holds as gzip, so the image would be mixed. The zstd layout is copied
        // as it is.
        let clean_zstd = registry.skopeo_copy(
            &fixture("oci", "clean.zstd.oci:1"),
            "lgreg/clean-zstd:1",
            &[],
        );
        let multiarch = registry.skopeo_copy(
            &fixture("oci", "multiarch.oci:1"),
            "lgreg/multiarch:1",
            &["--all"],
        );
        Plain {
            registry,
            clean,
            kitchen_sink,
            clean_zstd,
            multiarch,
        }
    })
}

/// The TLS registry with `lgreg/clean:1` pushed, and its digest.
fn tls() -> &'static (Registry, String) {
    static T: OnceLock<(Registry, String)> = OnceLock::new();
    T.get_or_init(|| {
        let registry = Registry::tls_basic_auth();
        let digest = registry.skopeo_copy(&fixture("oci", "clean.oci:1"), "lgreg/clean:1", &[]);
        (registry, digest)
    })
}

fn ca_cert(registry: &Registry) -> String {
    registry.tls().unwrap().ca_cert.display().to_string()
}

/// The binary with no credentials from this machine and no proxy between it and 127.0.0.1.
fn lg() -> assert_cmd::Command {
    static EMPTY: OnceLock<tempfile::TempDir> = OnceLock::new();
    let empty = EMPTY.get_or_init(|| tempfile::tempdir().unwrap());
    let mut cmd = layerguard();
    cmd.env("DOCKER_CONFIG", empty.path());
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// A scan plus everything it printed, for tests about what must never be printed.
struct Output {
    scan: Scan,
    all: String,
    took: Duration,
}

fn scan_output(mut cmd: assert_cmd::Command, image: &str, extra: &[&str]) -> Output {
    let start = Instant::now();
    let out = cmd
        .args(["scan", image, "--format", "json"])
        .args(extra)
        .output()
        .expect("run layerguard");
    let took = start.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    Output {
        all: format!("{stdout}\n{stderr}"),
        scan: Scan {
            code: out.status.code().expect("exit code"),
            json: serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
            stderr,
        },
        took,
    }
}

fn remote(image: &str, extra: &[&str]) -> Scan {
    scan_with(lg(), image, extra)
}

fn ok(s: Scan, what: &str) -> Scan {
    assert_eq!(s.code, 0, "{what}: {}", s.stderr);
    s
}

fn never(image: &str) -> Scan {
    ok(remote(image, &["--fail-on", "never"]), image)
}

/// Findings that do not depend on how or where the image is named.
fn content_findings(s: &Scan) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = s.json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule"] != "mutable-tag" && f["rule"] != "untrusted-registry")
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                f["location"].to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The same image: layers, config, findings and inventory.
fn assert_same_image(remote: &Scan, local: &Scan, what: &str) {
    assert_eq!(diff_ids(remote), diff_ids(local), "{what}: layers");
    assert_eq!(
        remote.json["image"]["config_digest"], local.json["image"]["config_digest"],
        "{what}: config"
    );
    assert_eq!(
        content_findings(remote),
        content_findings(local),
        "{what}: findings"
    );
    assert_eq!(
        remote.json["inventory"], local.json["inventory"],
        "{what}: inventory"
    );
    assert_eq!(remote.json["image"]["files"], local.json["image"]["files"]);
}

/// [`assert_same_image`] against the local `image`, and the pulled manifest's digest reported
/// so users can pin it.
fn assert_pulled(remote: &Scan, image: &str, digest: &str) {
    assert_same_image(remote, &local(image), image);
    assert_eq!(remote.json["image"]["digest"], digest, "{image}");
}

fn local(image: &str) -> Scan {
    ok(scan(image, &["--fail-on", "never"]), image)
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A curl GET through `url`, as `(curl exit code, HTTP status, headers, body)`.
fn curl(url: &str, extra: &[&str]) -> (i32, u16, String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let (headers, body) = (dir.path().join("headers"), dir.path().join("body"));
    let out = Command::new("curl")
        .args(["-s", "--max-time", "10", "-o"])
        .arg(&body)
        .arg("-D")
        .arg(&headers)
        .args(["-w", "%{http_code}"])
        .args(extra)
        .arg(url)
        .output()
        .expect("run curl");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).parse().unwrap_or(0),
        std::fs::read_to_string(&headers).unwrap_or_default(),
        std::fs::read(&body).unwrap_or_default(),
    )
}

fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn port_closed(addr: std::net::SocketAddr) -> bool {
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err()
}

// --- the support code itself (passes without the registry source) --------------------------

#[test]
fn registry_support_works() {
    // Plain registry: anonymous, pushed to by skopeo, digest as the registry reports it.
    let plain = Registry::plain();
    assert_eq!(plain.status("GET", "/v2/", false), 200);
    let digest = plain.skopeo_copy(&fixture("oci", "clean.oci:1"), "lgreg/support:1", &[]);
    assert_eq!(plain.manifest_digest("lgreg/support", "1"), digest);
    let manifest_bytes = plain.get(&format!("/v2/lgreg/support/manifests/{digest}"));
    assert_eq!(sha256(&manifest_bytes), digest);
    let manifest = plain.manifest("lgreg/support", "1");
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    let layer_size = manifest["layers"][0]["size"].as_u64().unwrap() as usize;
    assert_eq!(
        plain.status("GET", "/v2/lgreg/nothing/manifests/1", false),
        404
    );

    // TLS registry: 401 without credentials, 200 with them, refused without its CA.
    let secure = Registry::tls_basic_auth();
    assert_eq!(secure.status("GET", "/v2/", false), 401, "{}", secure.log());
    assert_eq!(secure.status("GET", "/v2/", true), 200, "{}", secure.log());
    let (code, ..) = curl(&format!("{}/v2/", secure.base_url()), &[]);
    assert_ne!(code, 0, "curl trusted the test CA without being told to");
    let tls_digest = secure.skopeo_copy(&fixture("oci", "clean.oci:1"), "lgreg/support:1", &[]);
    assert_eq!(
        tls_digest, digest,
        "skopeo copies the layout's manifest unchanged"
    );
    assert_eq!(secure.manifest_digest("lgreg/support", "1"), digest);

    // The proxy relays manifests and blobs, Range included.
    let proxy = FaultProxy::start(plain.addr(), Fault::None);
    let base = format!("http://{}", proxy.host());
    let blob_url = format!("{base}/v2/lgreg/support/blobs/{layer}");
    let (_, status, _, _) = curl(&format!("{base}/v2/"), &[]);
    assert_eq!(status, 200);
    let (_, status, headers, body) = curl(&blob_url, &[]);
    assert_eq!(status, 200);
    assert_eq!(sha256(&body), layer);
    assert_eq!(body.len(), layer_size);
    assert_eq!(header(&headers, "accept-ranges"), Some("bytes"));
    let (_, status, headers, tail) = curl(&blob_url, &["-H", "Range: bytes=100-"]);
    assert_eq!(status, 206);
    assert_eq!(tail, body[100..]);
    assert!(header(&headers, "content-range").is_some(), "{headers}");
    let ranged = proxy.blob_gets();
    assert_eq!(ranged.last().unwrap().range.as_deref(), Some("bytes=100-"));

    // N x 500, counted per blob, then the blob.
    proxy.set_fault(Fault::ServerError { times: 2 });
    let statuses: Vec<u16> = (0..3).map(|_| curl(&blob_url, &[]).1).collect();
    assert_eq!(statuses, [500, 500, 200]);
    // Without this Accept the registry answers 404 for an OCI manifest.
    let oci = "Accept: application/vnd.oci.image.manifest.v1+json";
    let (_, status, ..) = curl(
        &format!("{base}/v2/lgreg/support/manifests/1"),
        &["-H", oci],
    );
    assert_eq!(status, 200, "only blob GETs are faulted");

    // 429 with Retry-After, then the blob.
    proxy.set_fault(Fault::TooManyRequests {
        times: 1,
        retry_after: 1,
    });
    let (_, status, headers, _) = curl(&blob_url, &[]);
    assert_eq!(status, 429);
    assert_eq!(header(&headers, "retry-after"), Some("1"));
    assert_eq!(sha256(&curl(&blob_url, &[]).3), layer);

    // Cut halfway: curl sees a short body (exit 18); the resumed request gets the rest.
    proxy.set_fault(Fault::CutHalfway { times: 1 });
    let (code, status, _, half) = curl(&blob_url, &[]);
    assert_eq!(
        (code, status),
        (18, 200),
        "curl: transfer closed with bytes left"
    );
    assert_eq!(half.len(), layer_size / 2);
    let (_, status, _, rest) = curl(&blob_url, &["-H", &format!("Range: bytes={}-", half.len())]);
    assert_eq!(status, 206);
    assert_eq!(sha256(&[half, rest].concat()), layer);

    // Wrong bytes: same length, another digest.
    proxy.set_fault(Fault::FlipByte { times: 1 });
    let (_, status, _, wrong) = curl(&blob_url, &[]);
    assert_eq!(status, 200);
    assert_eq!(wrong.len(), layer_size);
    assert_ne!(sha256(&wrong), layer);

    // A stall outlasts the client's patience (curl exit 28: timeout).
    proxy.set_fault(Fault::Stall { times: 1, secs: 5 });
    let start = Instant::now();
    let (code, ..) = curl(&blob_url, &["--max-time", "1"]);
    assert_eq!(code, 28);
    assert!(start.elapsed() < Duration::from_secs(4));
    assert_eq!(
        sha256(&curl(&blob_url, &[]).3),
        layer,
        "passes after the stall"
    );

    // TLS probing of a loopback registry must get a quick answer, not a hang.
    let start = Instant::now();
    let (code, ..) = curl(&format!("https://{}/v2/", proxy.host()), &["-k"]);
    assert_ne!(code, 0);
    assert!(start.elapsed() < Duration::from_secs(3));

    assert_eq!(proxy.faults_injected(), 6, "{:?}", proxy.requests());

    // Bearer tokens: the challenge names the realm, and the registry accepts what it issues.
    let token = Registry::plain_token();
    let (_, status, headers, _) = curl(&format!("{}/v2/", token.base_url()), &[]);
    assert_eq!(status, 401);
    let challenge = header(&headers, "www-authenticate").unwrap_or_default();
    let realm = token.token_server().unwrap().realm();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(&realm),
        "{headers}"
    );
    let token_digest = token.skopeo_copy(&fixture("oci", "clean.oci:1"), "lgreg/support:1", &[]);
    assert_eq!(token_digest, digest, "{}", token.log());
    assert!(!token.token_server().unwrap().issued().is_empty());

    // Dropped: nothing listens any more and no registry process is left.
    let addrs = [plain.addr(), secure.addr(), token.addr()];
    let proxy_addr = proxy.addr();
    drop(proxy);
    drop((plain, secure, token));
    assert!(addrs.into_iter().all(port_closed));
    // The accept loop ends on the connection that wakes it; the next one finds nobody.
    std::thread::sleep(Duration::from_millis(200));
    assert!(port_closed(proxy_addr));
}

// --- images from the registry read like their local copies --------------------------------

#[test]
fn pushed_images_scan_like_their_layout_and_archive() {
    let p = plain();
    let clean = never(&p.registry.reference("lgreg/clean:1"));
    assert_pulled(&clean, &fixture("oci", "clean.oci:1"), &p.clean);

    let kitchen = never(&p.registry.reference("lgreg/kitchen-sink:1"));
    assert_pulled(
        &kitchen,
        &fixture("docker-archive", "kitchen-sink.tar"),
        &p.kitchen_sink,
    );
    assert_eq!(
        kitchen.json["image"]["reference"],
        p.registry.reference("lgreg/kitchen-sink:1")
    );

    let prefixed = never(&format!(
        "docker://{}",
        p.registry.reference("lgreg/kitchen-sink:1")
    ));
    assert_same_image(&prefixed, &kitchen, "docker:// prefix");
}

#[test]
fn docker_pushed_image_scans_like_its_docker_save() {
    let p = plain();
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("saved.tar");
    // Saved from a tag of our own, so a fixture rebuild elsewhere cannot change the image
    // between the save and the push.
    let source = format!("lgreg-kitchen-sink:{}", std::process::id());
    run(Command::new("docker").args(["tag", "layerguard-fixture/kitchen-sink:1", &source]));
    run(Command::new("docker")
        .args(["save", "-o"])
        .arg(&archive)
        .arg(&source));
    let digest = p.registry.docker_push(&source, "lgreg/docker-pushed:1");
    run(Command::new("docker").args(["rmi", &source]));

    let pulled = never(&p.registry.reference("lgreg/docker-pushed:1"));
    assert_pulled(
        &pulled,
        &format!("docker-archive:{}", archive.display()),
        &digest,
    );
}

#[test]
fn pinned_digest_scans_and_a_wrong_one_exits_2() {
    let p = plain();
    let pinned = never(&p.registry.reference(&format!("lgreg/clean@{}", p.clean)));
    assert_pulled(&pinned, &fixture("oci", "clean.oci:1"), &p.clean);
    assert!(
        pinned.findings("mutable-tag").is_empty(),
        "{:?}",
        pinned.json
    );
    let both = never(&p.registry.reference(&format!("lgreg/clean:1@{}", p.clean)));
    assert_eq!(diff_ids(&both), diff_ids(&pinned));

    let zeros = format!("sha256:{}", "0".repeat(64));
    // Another repository's manifest: digests are only valid within their repository.
    for wrong in [zeros, p.kitchen_sink.clone()] {
        for image in [
            p.registry.reference(&format!("lgreg/clean@{wrong}")),
            p.registry.reference(&format!("lgreg/clean:1@{wrong}")),
        ] {
            let s = remote(&image, &[]);
            assert_eq!(s.code, 2, "{image}: {}", s.stderr);
            assert!(s.json.is_null(), "{image}: no report on a failure");
            assert!(s.stderr.contains(&p.registry.host()), "{}", s.stderr);
            assert!(s.stderr.contains("lgreg/clean"), "{}", s.stderr);
        }
    }
}

#[test]
fn missing_repository_exits_2_naming_registry_repository_and_status() {
    let p = plain();
    let s = remote(&p.registry.reference("lgreg/does-not-exist:1"), &[]);
    assert_eq!(s.code, 2, "{}", s.stderr);
    for part in [p.registry.host().as_str(), "lgreg/does-not-exist", "404"] {
        assert!(s.stderr.contains(part), "{part}: {}", s.stderr);
    }
    assert_eq!(
        s.stderr.trim().lines().count(),
        1,
        "one sentence: {}",
        s.stderr
    );

    let tag = remote(&p.registry.reference("lgreg/clean:no-such-tag"), &[]);
    assert_eq!(tag.code, 2, "{}", tag.stderr);
    assert!(tag.stderr.contains("404"), "{}", tag.stderr);
}

// --- authentication and TLS ----------------------------------------------------------------

/// `PASSWORD` in every form a client might leak it.
fn assert_no_secret(out: &Output, password: &str) {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{password}"));
    for secret in [password, basic.as_str()] {
        assert!(
            !out.all.contains(secret),
            "{secret} was printed:\n{}",
            out.all
        );
    }
}

fn with_password(password: &str, debug: bool) -> assert_cmd::Command {
    let mut cmd = lg();
    cmd.write_stdin(format!("{password}\n"));
    if debug {
        cmd.env("RUST_LOG", "debug");
    }
    cmd
}

fn docker_config(auths_host: &str, password: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{password}"));
    let config = serde_json::json!({ "auths": { auths_host: { "auth": auth } } });
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

#[test]
fn wrong_password_is_401_and_never_printed() {
    let (registry, _) = tls();
    let image = registry.reference("lgreg/clean:1");
    let ca = ca_cert(registry);
    let wrong = "Wrong-lgreg-3b7d90aa-pw";
    let login = [
        "--username",
        USERNAME,
        "--password-stdin",
        "--ca-cert",
        ca.as_str(),
    ];
    for debug in [false, true] {
        let out = scan_output(with_password(wrong, debug), &image, &login);
        assert_eq!(out.scan.code, 2, "{}", out.scan.stderr);
        let host = registry.host();
        let parts = [host.as_str(), "lgreg/clean", "401"];
        assert!(
            out.scan
                .stderr
                .lines()
                .any(|l| parts.iter().all(|p| l.contains(p))),
            "one message names the registry, the repository and 401: {}",
            out.scan.stderr
        );
        assert_no_secret(&out, wrong);
        assert_no_secret(&out, PASSWORD);
    }

    let config = docker_config(&registry.host(), wrong);
    let mut cmd = lg();
    cmd.env("DOCKER_CONFIG", config.path())
        .env("RUST_LOG", "debug");
    let out = scan_output(cmd, &image, &["--ca-cert", &ca]);
    assert_eq!(out.scan.code, 2, "{}", out.scan.stderr);
    assert!(out.scan.stderr.contains("401"), "{}", out.scan.stderr);
    assert_no_secret(&out, wrong);

    let anonymous = scan_output(lg(), &image, &["--ca-cert", &ca]);
    assert_eq!(anonymous.scan.code, 2, "{}", anonymous.scan.stderr);
    assert!(
        anonymous.scan.stderr.contains("401"),
        "{}",
        anonymous.scan.stderr
    );
}

#[test]
fn right_password_from_stdin_or_docker_config_pulls() {
    let (registry, digest) = tls();
    let image = registry.reference("lgreg/clean:1");
    let ca = ca_cert(registry);
    let clean = fixture("oci", "clean.oci:1");

    let out = scan_output(
        with_password(PASSWORD, true),
        &image,
        &[
            "--username",
            USERNAME,
            "--password-stdin",
            "--ca-cert",
            &ca,
            "--fail-on",
            "never",
        ],
    );
    assert_eq!(out.scan.code, 0, "{}", out.scan.stderr);
    assert_pulled(&out.scan, &clean, digest);
    assert_no_secret(&out, PASSWORD);

    let config = docker_config(&registry.host(), PASSWORD);
    let mut cmd = lg();
    cmd.env("DOCKER_CONFIG", config.path())
        .env("RUST_LOG", "debug");
    let out = scan_output(cmd, &image, &["--ca-cert", &ca, "--fail-on", "never"]);
    assert_eq!(out.scan.code, 0, "{}", out.scan.stderr);
    assert_pulled(&out.scan, &clean, digest);
    assert_no_secret(&out, PASSWORD);
}

#[test]
fn bearer_token_realm_is_followed_and_the_token_never_printed() {
    static T: OnceLock<(Registry, String)> = OnceLock::new();
    let (registry, digest) = T.get_or_init(|| {
        let registry = Registry::plain_token();
        let digest = registry.skopeo_copy(&fixture("oci", "clean.oci:1"), "lgreg/clean:1", &[]);
        (registry, digest)
    });
    let mut cmd = lg();
    cmd.env("RUST_LOG", "debug");
    let out = scan_output(
        cmd,
        &registry.reference("lgreg/clean:1"),
        &["--fail-on", "never"],
    );
    assert_eq!(out.scan.code, 0, "{}", out.scan.stderr);
    assert_pulled(&out.scan, &fixture("oci", "clean.oci:1"), digest);
    let issued = registry.token_server().unwrap().issued();
    assert!(issued.len() >= 2, "skopeo's token and the scanner's");
    for token in issued {
        // The signature is the part no two tokens share.
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !out.all.contains(signature),
            "a token was printed:\n{}",
            out.all
        );
    }
}

#[test]
fn tls_registry_needs_its_ca() {
    let (registry, _) = tls();
    let image = registry.reference("lgreg/clean:1");
    let config = docker_config(&registry.host(), PASSWORD);
    let mut cmd = lg();
    cmd.env("DOCKER_CONFIG", config.path());
    let s = scan_with(cmd, &image, &[]);
    assert_eq!(s.code, 2, "{}", s.stderr);
    assert!(s.json.is_null());
    let lower = s.stderr.to_lowercase();
    assert!(
        lower.contains("certificate") || lower.contains("tls"),
        "names the TLS failure: {}",
        s.stderr
    );
    assert!(s.stderr.contains(&registry.host()), "{}", s.stderr);
    assert!(
        !s.stderr.contains("HTTP 401"),
        "must not fall back to plain HTTP for a TLS registry: {}",
        s.stderr
    );

    let mut cmd = lg();
    cmd.env("DOCKER_CONFIG", config.path());
    let ca = ca_cert(registry);
    ok(
        scan_with(cmd, &image, &["--ca-cert", &ca, "--fail-on", "never"]),
        "with --ca-cert",
    );
}

#[test]
fn registry_mirror_maps_a_host_to_the_local_registry() {
    let p = plain();
    let mirror = format!("registry.example.test={}", p.registry.base_url());
    let s = ok(
        remote(
            "registry.example.test/lgreg/clean:1",
            &["--registry-mirror", &mirror, "--fail-on", "never"],
        ),
        "mirror",
    );
    assert_same_image(&s, &local(&fixture("oci", "clean.oci:1")), "clean mirrored");
    assert_eq!(
        s.json["image"]["reference"],
        "registry.example.test/lgreg/clean:1"
    );
}

// --- manifests: index, zstd, mutable tags ---------------------------------------------------

#[test]
fn platform_is_picked_from_a_pushed_index() {
    let p = plain();
    let image = p.registry.reference("lgreg/multiarch:1");
    let layout = fixture("oci", "multiarch.oci:1");
    for platform in ["linux/arm64", "linux/amd64"] {
        let args = ["--platform", platform, "--fail-on", "never"];
        let s = ok(remote(&image, &args), platform);
        let l = ok(scan(&layout, &args), platform);
        assert!(
            s.json["image"]["platform"]
                .as_str()
                .unwrap()
                .starts_with(platform),
            "{platform}: {}",
            s.json["image"]
        );
        assert_eq!(s.json["image"]["platform"], l.json["image"]["platform"]);
        assert_same_image(&s, &l, platform);
    }
    let pinned = ok(
        remote(
            &p.registry
                .reference(&format!("lgreg/multiarch@{}", p.multiarch)),
            &["--platform", "linux/arm64", "--fail-on", "never"],
        ),
        "pinned index",
    );
    assert!(
        pinned.json["image"]["platform"]
            .as_str()
            .unwrap()
            .starts_with("linux/arm64")
    );

    let none = remote(&image, &["--platform", "linux/s390x"]);
    assert_eq!(none.code, 2);
    for part in ["linux/s390x", "linux/arm64", "linux/amd64"] {
        assert!(none.stderr.contains(part), "{part}: {}", none.stderr);
    }
}

#[test]
fn zstd_layers_scan_like_gzip() {
    let p = plain();
    let manifest = p.registry.manifest("lgreg/clean-zstd", &p.clean_zstd);
    for layer in manifest["layers"].as_array().unwrap() {
        assert!(
            layer["mediaType"].as_str().unwrap().ends_with("+zstd"),
            "{manifest}"
        );
    }
    let zstd = never(&p.registry.reference("lgreg/clean-zstd:1"));
    let gzip = never(&p.registry.reference("lgreg/clean:1"));
    assert_same_image(&zstd, &gzip, "clean zstd");
    assert_ne!(
        zstd.json["image"]["layers"][0]["digest"],
        gzip.json["image"]["layers"][0]["digest"]
    );
    assert_eq!(zstd.json["image"]["digest"], p.clean_zstd.as_str());
}

#[test]
fn mutable_tag_is_high_for_a_registry_tag() {
    let p = plain();
    for image in [
        p.registry.reference("lgreg/clean:latest"),
        p.registry.reference("lgreg/clean"),
    ] {
        let s = never(&image);
        let tags = s.findings("mutable-tag");
        assert_eq!(tags.len(), 1, "{image}: {}", s.json);
        assert_eq!(tags[0]["severity"], "high", "{image}");
        assert!(
            tags[0]["message"].as_str().unwrap().contains(&p.clean[..]),
            "the advice names the digest to pin: {}",
            tags[0]["message"]
        );
        let gate = remote(&image, &[]);
        assert_eq!(gate.code, 1, "{image}: the default gate fails on it");
    }
    let versioned = never(&p.registry.reference("lgreg/clean:1"));
    let tags = versioned.findings("mutable-tag");
    assert_eq!(tags.len(), 1, "{}", versioned.json);
    assert!(
        !tags[0]["message"]
            .as_str()
            .unwrap()
            .contains("only a local name"),
        "a registry tag is what deployments pull: {}",
        tags[0]["message"]
    );
}

// --- faults between the scanner and the registry ---------------------------------------------

/// A proxy with `fault` in front of the plain registry, and the reference of the clean image
/// through it.
fn faulty(fault: Fault) -> (FaultProxy, String) {
    let p = plain();
    let proxy = FaultProxy::start(p.registry.addr(), fault);
    let image = format!("{}/lgreg/clean:1", proxy.host());
    (proxy, image)
}

fn direct_clean() -> &'static Scan {
    static S: OnceLock<Scan> = OnceLock::new();
    S.get_or_init(|| never(&plain().registry.reference("lgreg/clean:1")))
}

/// Every blob got `times` faulted GETs and then at least one that went through.
fn assert_retried_every_blob(proxy: &FaultProxy, times: usize) {
    let gets = proxy.blob_gets();
    let mut blobs: Vec<&str> = gets.iter().map(|r| r.path.as_str()).collect();
    blobs.sort();
    blobs.dedup();
    assert!(blobs.len() >= 3, "config and two layers: {gets:?}");
    for blob in blobs {
        let of_blob: Vec<_> = gets.iter().filter(|r| r.path == blob).collect();
        let faulted = of_blob.iter().filter(|r| r.faulted).count();
        assert_eq!(faulted, times, "{blob}: {of_blob:?}");
        assert!(
            of_blob
                .iter()
                .any(|r| !r.faulted && matches!(r.status, 200 | 206)),
            "{blob}: retried after the fault: {of_blob:?}"
        );
    }
}

/// A failed scan, after meeting the fault: exit 2, a message naming the registry, and no
/// report at all.
fn assert_clean_failure(out: &Output, proxy: &FaultProxy) {
    assert!(
        proxy.faults_injected() > 0,
        "the scan never met the fault: {}",
        out.scan.stderr
    );
    assert_eq!(out.scan.code, 2, "{}", out.scan.stderr);
    assert!(
        out.scan.json.is_null(),
        "no partial report: {}",
        out.scan.json
    );
    assert!(
        out.scan.stderr.contains(&proxy.host()),
        "{}",
        out.scan.stderr
    );
}

#[test]
fn server_errors_are_retried() {
    let (proxy, image) = faulty(Fault::ServerError { times: 2 });
    let s = ok(remote(&image, &["--fail-on", "never"]), "after 500s");
    assert_same_image(&s, direct_clean(), "after 500s");
    assert_retried_every_blob(&proxy, 2);
}

#[test]
fn endless_server_errors_exit_2_with_the_status() {
    let (proxy, image) = faulty(Fault::ServerError { times: usize::MAX });
    let out = scan_output(lg(), &image, &[]);
    assert_clean_failure(&out, &proxy);
    assert!(out.scan.stderr.contains("500"), "{}", out.scan.stderr);
    assert!(
        out.took < Duration::from_secs(120),
        "gave up in {:?}",
        out.took
    );
    assert!(
        proxy.blob_gets().len() > 1,
        "retried first: {:?}",
        proxy.blob_gets()
    );
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let (proxy, image) = faulty(Fault::TooManyRequests {
        times: 1,
        retry_after: 1,
    });
    let out = scan_output(lg(), &image, &["--fail-on", "never"]);
    assert_eq!(out.scan.code, 0, "{}", out.scan.stderr);
    assert_same_image(&out.scan, direct_clean(), "after 429");
    assert_retried_every_blob(&proxy, 1);
    assert!(
        out.took >= Duration::from_secs(1),
        "Retry-After: 1 honoured, took {:?}",
        out.took
    );
}

#[test]
fn a_dropped_connection_is_resumed_with_range() {
    let (proxy, image) = faulty(Fault::CutHalfway { times: 1 });
    let s = ok(remote(&image, &["--fail-on", "never"]), "after a cut");
    assert_same_image(&s, direct_clean(), "after a cut");
    assert_retried_every_blob(&proxy, 1);
    // The registry answers `Accept-Ranges: bytes`, so the bytes already read are not fetched
    // again.
    let resumed: Vec<_> = proxy
        .blob_gets()
        .into_iter()
        .filter(|r| !r.faulted && r.range.is_some())
        .collect();
    assert!(!resumed.is_empty(), "{:?}", proxy.blob_gets());
    for r in resumed {
        let range = r.range.as_deref().unwrap();
        let start: u64 = range
            .strip_prefix("bytes=")
            .and_then(|s| s.strip_suffix('-'))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("an open range from an offset: {range}"));
        assert!(start > 0, "{range}");
        assert_eq!(r.status, 206, "{r:?}");
    }
}

#[test]
fn a_stalled_body_times_out_with_exit_2() {
    let (proxy, image) = faulty(Fault::Stall {
        times: usize::MAX,
        secs: 120,
    });
    let mut cmd = lg();
    cmd.env("LAYERGUARD_REGISTRY_TIMEOUT_SECS", "2");
    let out = scan_output(cmd, &image, &[]);
    assert_clean_failure(&out, &proxy);
    assert!(
        out.took < Duration::from_secs(60),
        "the stall timeout applies, took {:?}",
        out.took
    );
}

#[test]
fn wrong_bytes_are_a_digest_mismatch() {
    for times in [1, usize::MAX] {
        let (proxy, image) = faulty(Fault::FlipByte { times });
        let out = scan_output(lg(), &image, &["--fail-on", "never"]);
        if times == 1 && out.scan.code == 0 {
            // Fetching the blob again is also right, as long as the report is.
            assert_same_image(&out.scan, direct_clean(), "after wrong bytes");
            assert_retried_every_blob(&proxy, 1);
            continue;
        }
        assert_clean_failure(&out, &proxy);
        assert!(
            out.scan.stderr.to_lowercase().contains("digest"),
            "{}",
            out.scan.stderr
        );
    }
}

/// ECR answers a blob GET with a redirect to a presigned S3 URL. The client follows it
/// without taking the registry's credential to the other host, and a refused redirect is an
/// error that never shows the URL's signature.
#[test]
fn a_redirected_blob_is_fetched_without_the_credential_and_its_url_never_printed() {
    let p = plain();
    let redirecting = Fault::Redirect {
        times: usize::MAX,
        storage_status: 200,
    };
    let proxy = FaultProxy::start_with(p.registry.addr(), redirecting, true);
    let image = format!("{}/lgreg/clean:1", proxy.host());
    let login = [
        "--username",
        USERNAME,
        "--password-stdin",
        "--fail-on",
        "never",
    ];
    let out = scan_output(with_password(PASSWORD, false), &image, &login);
    assert_eq!(out.scan.code, 0, "{}", out.scan.stderr);
    assert_same_image(&out.scan, direct_clean(), "through redirects");
    let requests = proxy.requests();
    let stored: Vec<_> = requests
        .iter()
        .filter(|r| r.path.starts_with("/storage/"))
        .collect();
    assert!(
        stored.len() >= 3,
        "config and layers redirected: {requests:?}"
    );
    assert!(
        stored.iter().all(|r| !r.authorized),
        "the registry's credential went to the storage host: {stored:?}"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.authorized && r.path.starts_with("/v2/")),
        "the registry itself got the credential: {requests:?}"
    );

    proxy.set_fault(Fault::Redirect {
        times: usize::MAX,
        storage_status: 403,
    });
    for debug in [false, true] {
        let out = scan_output(with_password(PASSWORD, debug), &image, &login);
        assert_eq!(out.scan.code, 2, "{}", out.scan.stderr);
        assert!(out.scan.stderr.contains("403"), "{}", out.scan.stderr);
        for secret in [
            crate::support::fault_proxy::REDIRECT_SIGNATURE,
            "f00dfeed",
            PASSWORD,
        ] {
            assert!(!out.all.contains(secret), "{secret} printed: {}", out.all);
        }
    }
}
