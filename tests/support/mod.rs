//! Shared helpers: where the fixtures are, and running the binary.

pub mod fault_proxy;
pub mod moto;
pub mod registry;
pub mod token_auth;

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The fixture directory, built once per test run by `testdata/fixtures/build.sh` (which skips
/// the work when nothing changed). `LAYERGUARD_FIXTURES` points at a prebuilt set.
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        if let Some(dir) = std::env::var_os("LAYERGUARD_FIXTURES") {
            return PathBuf::from(dir);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = root.join("target/fixtures");
        let status = std::process::Command::new(root.join("testdata/fixtures/build.sh"))
            .arg(&out)
            .status()
            .expect("run testdata/fixtures/build.sh (needs docker, skopeo, python3)");
        assert!(status.success(), "testdata/fixtures/build.sh failed");
        out
    })
}

/// `transport:` + a fixture path.
pub fn fixture(transport: &str, name: &str) -> String {
    format!("{transport}:{}", fixtures().join(name).display())
}

/// The binary under test.
pub fn layerguard() -> Command {
    let mut cmd = Command::cargo_bin("layerguard").expect("binary built");
    // A config in the developer's working directory must not leak into tests.
    cmd.current_dir(std::env::temp_dir());
    cmd.env_remove("NO_COLOR");
    // A sweep keeps layer records in the user cache directory: never the developer's.
    cmd.env(
        "XDG_CACHE_HOME",
        std::env::temp_dir().join(format!("layerguard-tests-{}", std::process::id())),
    );
    cmd
}

/// The outcome of a scan: exit code, parsed JSON (when it printed any) and stderr.
pub struct Scan {
    pub code: i32,
    pub json: Value,
    pub stderr: String,
}

impl Scan {
    /// Findings of `rule`.
    pub fn findings(&self, rule: &str) -> Vec<&Value> {
        self.json["findings"]
            .as_array()
            .map(|a| a.iter().filter(|f| f["rule"] == rule).collect())
            .unwrap_or_default()
    }

    /// Paths of the findings of `rule`.
    pub fn paths(&self, rule: &str) -> Vec<String> {
        self.findings(rule)
            .iter()
            .filter_map(|f| f["location"]["path"].as_str().map(str::to_owned))
            .collect()
    }

    /// The package the inventory says owns the binary at `path`: null when none does.
    pub fn owner(&self, path: &str) -> &Value {
        &self.json["inventory"]["binaries"]
            .as_array()
            .expect("binaries")
            .iter()
            .find(|b| b["path"] == path)
            .unwrap_or_else(|| panic!("no binary {path}"))["package"]
    }

    /// The paths the inventory found packages of type `kind` named `name` at.
    pub fn package_paths(&self, kind: &str, name: &str) -> Vec<&Value> {
        self.json["inventory"]["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .filter(|p| p["type"] == kind && p["name"] == name)
            .flat_map(|p| p["locations"].as_array().expect("locations"))
            .map(|l| &l["path"])
            .collect()
    }

    /// The rule names with at least one finding, sorted and deduplicated.
    pub fn rules(&self) -> Vec<String> {
        let mut r: Vec<String> = self.json["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect();
        r.sort();
        r.dedup();
        r
    }
}

/// The `diff_id` of every layer of a scanned image, in order.
pub fn diff_ids(s: &Scan) -> Vec<Value> {
    s.json["image"]["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|l| l["diff_id"].clone())
        .collect()
}

/// Scans `image` with `--format json` and any extra arguments.
pub fn scan(image: &str, extra: &[&str]) -> Scan {
    scan_with(layerguard(), image, extra)
}

/// Like [`scan`] with a prepared command (stdin, env).
pub fn scan_with(mut cmd: Command, image: &str, extra: &[&str]) -> Scan {
    let out = cmd
        .args(["scan", image, "--format", "json"])
        .args(extra)
        .output()
        .expect("run layerguard");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "panic: {stderr}");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    Scan {
        code: out.status.code().expect("exit code"),
        json,
        stderr,
    }
}

/// Writes a config file into a fresh temp dir and returns the dir (kept alive by the caller).
pub fn config(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layerguard.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// Runs a command that must succeed and returns its standard output.
pub fn run(cmd: &mut std::process::Command) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A one-layer image holding only this machine's dpkg database and os-release: hundreds of real
/// Debian packages whose ground truth `dpkg-query` gives. Built once per test run with
/// `docker import` and `docker save`; returns its `docker-archive:` reference.
pub fn host_dpkg_image() -> &'static str {
    static IMAGE: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &IMAGE
        .get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("rootfs");
            std::fs::create_dir_all(root.join("var/lib/dpkg")).unwrap();
            std::fs::create_dir_all(root.join("etc")).unwrap();
            std::fs::copy("/var/lib/dpkg/status", root.join("var/lib/dpkg/status")).unwrap();
            // The host's /etc/os-release is usually a symlink; copy follows it.
            std::fs::copy("/etc/os-release", root.join("etc/os-release")).unwrap();
            let rootfs_tar = dir.path().join("rootfs.tar");
            run(std::process::Command::new("tar")
                .arg("-cf")
                .arg(&rootfs_tar)
                .arg("-C")
                .arg(&root)
                .args(["etc", "var"]));
            let tag = "layerguard-test/dpkg:1";
            run(std::process::Command::new("docker")
                .arg("import")
                .arg(&rootfs_tar)
                .arg(tag));
            let archive = dir.path().join("dpkg.tar");
            run(std::process::Command::new("docker")
                .args(["save", "-o"])
                .arg(&archive)
                .arg(tag));
            let reference = format!("docker-archive:{}", archive.display());
            (dir, reference)
        })
        .1
}

/// A one-layer image of files copied from this machine at their own paths, for tests that need
/// what real tools installed here. Directories are added as entries, not with their contents;
/// a symlink stays a link and the file it points at is added too. `name` keeps the tag apart
/// from other images; the tag is removed once the image is saved. Returns the temp dir holding
/// the `docker save` archive and its `docker-archive:` reference.
pub fn host_files_image(name: &str, paths: &[PathBuf]) -> (tempfile::TempDir, String) {
    let mut members = std::collections::BTreeSet::new();
    for path in paths {
        let mut path = path.clone();
        loop {
            let relative = path.strip_prefix("/").unwrap_or(&path).to_owned();
            if relative.as_os_str().is_empty() || relative == Path::new(".") {
                break;
            }
            // Already there: also ends a symlink loop.
            if !members.insert(relative) {
                break;
            }
            let Ok(target) = std::fs::read_link(&path) else {
                break;
            };
            path = normalize(&path.parent().unwrap_or(Path::new("/")).join(target));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("members");
    let mut text = String::new();
    for member in &members {
        text.push_str(member.to_str().expect("UTF-8 path"));
        text.push('\n');
    }
    std::fs::write(&list, text).unwrap();
    let rootfs_tar = dir.path().join("rootfs.tar");
    run(std::process::Command::new("tar")
        .arg("-cf")
        .arg(&rootfs_tar)
        .args(["-C", "/", "--no-recursion", "-T"])
        .arg(&list));
    let tag = format!("layerguard-test/{name}:{}", std::process::id());
    run(std::process::Command::new("docker")
        .arg("import")
        .arg(&rootfs_tar)
        .arg(&tag));
    let archive = dir.path().join("image.tar");
    run(std::process::Command::new("docker")
        .args(["save", "-o"])
        .arg(&archive)
        .arg(&tag));
    run(std::process::Command::new("docker").args(["rmi", &tag]));
    let reference = format!("docker-archive:{}", archive.display());
    (dir, reference)
}

/// `a/b/../c` as `a/c`, without touching the filesystem (symlinked parents stay as spelled).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The files `dpkg -L` says `package` installed (directories included) that are present, and
/// its `/var/lib/dpkg/info/<package>[:<arch>].list`. Minimal systems drop some on install
/// (`path-exclude` of `/usr/share/doc`), and the list still names them.
pub fn dpkg_package_files(package: &str) -> Vec<PathBuf> {
    let listed = run(std::process::Command::new("dpkg").args(["-L", package]));
    let mut files: Vec<PathBuf> = String::from_utf8(listed)
        .unwrap()
        .lines()
        .map(PathBuf::from)
        .filter(|p| p.symlink_metadata().is_ok())
        .collect();
    let arch = run(std::process::Command::new("dpkg-query").args([
        "-W",
        "-f",
        "${Architecture}",
        package,
    ]));
    let arch = String::from_utf8(arch).unwrap();
    let info = Path::new("/var/lib/dpkg/info");
    let list = [
        info.join(format!("{package}:{arch}.list")),
        info.join(format!("{package}.list")),
    ]
    .into_iter()
    .find(|p| p.exists())
    .unwrap_or_else(|| panic!("no dpkg file list for {package}"));
    files.push(list);
    files
}

/// A one-layer image of this machine's dpkg database and os-release with the files of
/// `packages` (those `keep` accepts) at their own paths: real packages, real ground truth.
pub fn host_packages_image(
    name: &str,
    packages: &[&str],
    keep: impl Fn(&Path) -> bool,
) -> (tempfile::TempDir, String) {
    let mut paths = vec![
        PathBuf::from("/var/lib/dpkg/status"),
        PathBuf::from("/etc/os-release"),
    ];
    for package in packages {
        paths.extend(dpkg_package_files(package).into_iter().filter(|p| keep(p)));
    }
    host_files_image(name, &paths)
}

/// Where `log` breaks the official SARIF 2.1.0 schema, one line each; empty when it is valid.
pub fn sarif_schema_errors(log: &Value) -> Vec<String> {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema: Value =
            serde_json::from_str(include_str!("../schemas/sarif-schema-2.1.0.json")).unwrap();
        jsonschema::validator_for(&schema).unwrap()
    });
    validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}
