//! Rust crates in a binary, from one of two sources.
//!
//! * `cargo auditable` embeds the dependency tree as zlib-compressed JSON in the `.dep-v0`
//!   section: exact. It is inflated with a hard cap, because a hostile section can inflate to
//!   gigabytes (cargo-auditable's own reader has the same limit for the same reason).
//! * Without it, panic messages keep the source path of every crate that can panic, like
//!   `/root/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.197/src/de/mod.rs`.
//!   The `NAME-VERSION` directory after the registry directory names a crate: inferred, and
//!   incomplete (crates that never panic leave no path), and reported as such.

use super::binary::RustCrate;
use super::{PackageKind, PackageRecord, is_semver};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::io::Read;

/// The needle that starts a registry source path.
pub const REGISTRY_NEEDLE: &[u8] = b"/registry/src/";

/// Bytes after a needle that are enough to hold `index.crates.io-<hash>/NAME-VERSION/`.
pub const PATH_WINDOW: usize = 320;

/// Most crates recorded from panic paths for one binary.
pub const MAX_PANIC_CRATES: usize = 2000;

/// Most bytes of JSON a `.dep-v0` section may inflate to. Real ones hold a few hundred KiB for a
/// thousand crates.
pub const MAX_AUDIT_JSON: u64 = 8 << 20;

/// One package of the `cargo auditable` format.
#[derive(Debug, Deserialize)]
struct AuditPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    root: bool,
}

#[derive(Debug, Deserialize)]
struct AuditInfo {
    packages: Vec<AuditPackage>,
}

/// A crate from `.dep-v0`, with what decides whether it is an SBOM package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditedCrate {
    /// Name and version.
    pub krate: RustCrate,
    /// `crates.io`, `local`, `git`, `registry`, …
    pub source: String,
    /// `runtime` (the default) or `build`.
    pub build_only: bool,
    /// The crate the binary is: the package it belongs to, whatever its source.
    pub root: bool,
}

/// Inflates and parses a `.dep-v0` section.
pub fn parse_dep_v0(section: &[u8]) -> Result<Vec<AuditedCrate>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(section)
        .take(MAX_AUDIT_JSON + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!(".dep-v0 does not inflate: {e}"))?;
    if json.len() as u64 > MAX_AUDIT_JSON {
        return Err(format!(
            ".dep-v0 inflates to more than {MAX_AUDIT_JSON} bytes; its crates are not listed"
        ));
    }
    let info: AuditInfo =
        serde_json::from_slice(&json).map_err(|e| format!(".dep-v0 is not valid JSON: {e}"))?;
    let mut out: Vec<AuditedCrate> = info
        .packages
        .into_iter()
        .map(|p| AuditedCrate {
            krate: RustCrate {
                name: p.name,
                version: p.version,
            },
            source: p.source,
            build_only: p.kind.as_deref() == Some("build"),
            root: p.root,
        })
        .collect();
    out.sort_by(|a, b| a.krate.cmp(&b.krate));
    Ok(out)
}

/// Audited crates that are SBOM packages: the root crate (a local path or git checkout, but
/// what a published application's advisories are filed under) and the crates.io crates linked
/// into the binary.
pub fn audited_packages(crates: &[AuditedCrate]) -> Vec<PackageRecord> {
    crates
        .iter()
        .filter(|c| c.root || (c.source == "crates.io" && !c.build_only))
        .map(|c| PackageRecord {
            name: c.krate.name.clone(),
            version: c.krate.version.clone(),
            kind: PackageKind::Cargo,
            arch: None,
            source: None,
            licenses: Vec::new(),
            files: 0,
            namespace: None,
            found_in: None,
            cpes: Vec::new(),
        })
        .collect()
}

/// Collects crates from registry paths while a file streams past.
#[derive(Debug, Default)]
pub struct PanicPaths {
    /// Crates seen so far.
    pub crates: BTreeSet<RustCrate>,
    /// True when [`MAX_PANIC_CRATES`] was reached.
    pub capped: bool,
}

impl PanicPaths {
    /// Records the crate named by the bytes that follow a [`REGISTRY_NEEDLE`] match.
    pub fn record(&mut self, after: &[u8]) {
        if self.crates.len() >= MAX_PANIC_CRATES {
            self.capped = true;
            return;
        }
        if let Some(c) = crate_from_path(after) {
            self.crates.insert(c);
        }
    }
}

/// Parses `index.crates.io-<hash>/NAME-VERSION/...` (or any other registry directory).
pub fn crate_from_path(after: &[u8]) -> Option<RustCrate> {
    let mut parts = after.splitn(3, |&b| b == b'/');
    let registry = parts.next()?;
    let dir = parts.next()?;
    // The third part must exist: a directory name cut off by the end of a string proves nothing.
    parts.next()?;
    if registry.is_empty() || dir.is_empty() || dir.len() > 128 {
        return None;
    }
    let dir = std::str::from_utf8(dir).ok()?;
    if !dir
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+'))
    {
        return None;
    }
    // The first `-` whose remainder is a semver splits name from version: `sha-1-0.10.1` is
    // `sha-1` 0.10.1 and `tokio-1.37.0-rc.1` is `tokio` 1.37.0-rc.1.
    dir.match_indices('-').find_map(|(i, _)| {
        let (name, version) = (&dir[..i], &dir[i + 1..]);
        (!name.is_empty() && is_semver(version)).then(|| RustCrate {
            name: name.to_owned(),
            version: version.to_owned(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn krate(name: &str, version: &str) -> Option<RustCrate> {
        Some(RustCrate {
            name: name.into(),
            version: version.into(),
        })
    }

    #[test]
    fn registry_paths_name_crates() {
        let cases: &[(&str, Option<RustCrate>)] = &[
            (
                "index.crates.io-6f17d22bba15001f/serde-1.0.197/src/de/mod.rs",
                krate("serde", "1.0.197"),
            ),
            (
                "github.com-1ecc6299db9ec823/sha-1-0.10.1/src/lib.rs",
                krate("sha-1", "0.10.1"),
            ),
            (
                "index.crates.io-1949cf8c6b5b557f/tokio-1.37.0-rc.1/src/a.rs",
                krate("tokio", "1.37.0-rc.1"),
            ),
            (
                "index.crates.io-1949cf8c6b5b557f/regex-automata-0.4.9/src/x.rs",
                krate("regex-automata", "0.4.9"),
            ),
            ("index.crates.io-1949cf8c6b5b557f/serde-1.0.1", None),
            ("index.crates.io-x/notaversion/src", None),
            ("index.crates.io-x/bad name-1.0.0/src", None),
        ];
        for (path, want) in cases {
            assert_eq!(&crate_from_path(path.as_bytes()), want, "{path}");
        }
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn dep_v0_lists_crates_and_refuses_bombs() {
        let json = r#"{"packages":[
            {"name":"hello","version":"0.1.0","source":"local","dependencies":[1],"root":true},
            {"name":"itoa","version":"1.0.19","source":"crates.io"},
            {"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}]}"#;
        let crates = parse_dep_v0(&deflate(json.as_bytes())).unwrap();
        assert_eq!(crates.len(), 3);
        let pkgs = audited_packages(&crates);
        let names: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(names, [("hello", "0.1.0"), ("itoa", "1.0.19")]);

        // 64 MiB of spaces compress to about 64 KiB.
        let bomb = deflate(&vec![b' '; 64 << 20]);
        assert!(parse_dep_v0(&bomb).unwrap_err().contains("inflates"));
        assert!(parse_dep_v0(b"\x78\x9cgarbage").is_err());
        assert!(parse_dep_v0(&deflate(b"{\"packages\": 3}")).is_err());
    }
}
