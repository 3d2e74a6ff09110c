//! What the binary catalogers record about one executable or shared library. Our own types, not
//! goblin's, so reports and SBOMs do not change shape when the parser does.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One ELF file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Binary {
    /// Absolute path in the image (filled in at merge).
    pub path: String,
    /// 0-based layer that provided the live version (filled in at merge).
    pub layer: usize,
    /// `exec`, `dyn` (shared object or PIE), `rel`, `core`.
    pub elf_type: ElfType,
    /// Machine, like `x86_64`, `aarch64`.
    pub machine: String,
    /// `PT_INTERP`, like `/lib64/ld-linux-x86-64.so.2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// `DT_NEEDED` entries in order.
    pub needed: Vec<String>,
    /// `DT_SONAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soname: Option<String>,
    /// `DT_RPATH` entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rpath: Vec<String>,
    /// `DT_RUNPATH` entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runpath: Vec<String>,
    /// `DT_RPATH`/`DT_RUNPATH` entries the loader would search although anyone may write there:
    /// empty or relative entries (resolved against the working directory, not the binary) and
    /// entries under `/tmp`, `/var/tmp` or `/dev/shm`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub insecure_runpath: Vec<String>,
    /// True when there is no `PT_DYNAMIC` (statically linked).
    #[serde(rename = "static")]
    pub is_static: bool,
    /// True when there is no `.symtab`.
    pub stripped: bool,
    /// Exploit mitigations the binary was built with.
    pub hardening: Hardening,
    /// Go build information, for Go binaries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub go: Option<GoBuildInfo>,
    /// Rust crates, for Rust binaries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rust: Option<RustDeps>,
    /// SHA-256 of the file, hex: lets SBOM consumers match the exact build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The package the binary says built it, from its `.note.package` ELF note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_note: Option<super::package_note::PackageNote>,
    /// The package that owns the file, when a package database lists it (filled in at merge).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

impl Binary {
    /// True for programs (as opposed to shared libraries): `ET_EXEC`, or a PIE, which is
    /// `ET_DYN` with an interpreter. Relocatable objects and core files never run. A library
    /// that can also be run to print its version (glibc's `libc.so.6` has an interpreter too)
    /// names itself with a `DT_SONAME`, which programs do not have, and is a library.
    pub fn is_executable(&self) -> bool {
        match self.elf_type {
            ElfType::Exec => true,
            ElfType::Dyn => self.interpreter.is_some() && self.soname.is_none(),
            _ => false,
        }
    }
}

/// The ELF header's `e_type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ElfType {
    /// `ET_EXEC`: a position-dependent executable.
    Exec,
    /// `ET_DYN`: a shared object, or a PIE when it has an interpreter.
    #[default]
    Dyn,
    /// `ET_REL`: an object file.
    Rel,
    /// `ET_CORE`: a core dump.
    Core,
    /// Any other value.
    Unknown(u16),
}

impl ElfType {
    /// From the header's `e_type`.
    pub fn from_header(e_type: u16) -> Self {
        match e_type {
            goblin::elf::header::ET_EXEC => ElfType::Exec,
            goblin::elf::header::ET_DYN => ElfType::Dyn,
            goblin::elf::header::ET_REL => ElfType::Rel,
            goblin::elf::header::ET_CORE => ElfType::Core,
            other => ElfType::Unknown(other),
        }
    }
}

impl fmt::Display for ElfType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfType::Exec => f.write_str("exec"),
            ElfType::Dyn => f.write_str("dyn"),
            ElfType::Rel => f.write_str("rel"),
            ElfType::Core => f.write_str("core"),
            ElfType::Unknown(n) => write!(f, "unknown({n})"),
        }
    }
}

impl Serialize for ElfType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ElfType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(match text.as_ref() {
            "exec" => ElfType::Exec,
            "dyn" => ElfType::Dyn,
            "rel" => ElfType::Rel,
            "core" => ElfType::Core,
            other => other
                .strip_prefix("unknown(")
                .and_then(|n| n.strip_suffix(')'))
                .and_then(|n| n.parse().ok())
                .map(ElfType::Unknown)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown ELF type {other:?}")))?,
        })
    }
}

/// RELRO level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relro {
    /// No `PT_GNU_RELRO`.
    #[default]
    None,
    /// `PT_GNU_RELRO` without immediate binding.
    Partial,
    /// `PT_GNU_RELRO` with `BIND_NOW`.
    Full,
}

/// Exploit mitigations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Hardening {
    /// Position-independent executable (or a shared object).
    pub pie: bool,
    /// Read-only relocations.
    pub relro: Relro,
    /// Non-executable stack (`PT_GNU_STACK` without `PF_X`).
    pub nx: bool,
    /// Stack protector (`__stack_chk_fail` imported or defined).
    pub canary: bool,
    /// `_FORTIFY_SOURCE` (`__*_chk` functions imported).
    pub fortify: bool,
}

/// A Go module.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GoModule {
    /// Module path.
    pub path: String,
    /// Version, like `v1.2.3` or `(devel)`.
    pub version: String,
    /// `h1:` checksum, when recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<String>,
    /// The replacement module, when `=>` replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace: Option<Box<GoModule>>,
}

/// Go build information.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GoBuildInfo {
    /// Toolchain, like `go1.22.1`.
    pub go_version: String,
    /// The main package's import path (the `path` line), like `github.com/containers/skopeo/cmd/skopeo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The main module.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main: Option<GoModule>,
    /// Dependency modules.
    pub deps: Vec<GoModule>,
    /// Build settings (`build` lines), like `GOOS=linux`, `-trimpath=true`, `vcs.revision=…`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub settings: std::collections::BTreeMap<String, String>,
}

/// Where a Rust binary's crate list came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RustSource {
    /// The `.dep-v0` section `cargo auditable` embeds: exact.
    CargoAuditable,
    /// Registry paths left in panic messages: inferred, possibly incomplete.
    PanicPaths,
}

/// A Rust crate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RustCrate {
    /// Crate name.
    pub name: String,
    /// Version.
    pub version: String,
}

/// The crates of a Rust binary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustDeps {
    /// How they were found.
    pub source: RustSource,
    /// Crates, sorted.
    pub crates: Vec<RustCrate>,
}
