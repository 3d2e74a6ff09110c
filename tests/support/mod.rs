//! Shared helpers: where the fixtures are, and running the binary.

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
