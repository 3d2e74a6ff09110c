//! Stage 4: reports. Pure functions from a [`ScanReport`] to bytes; nothing here scans.

mod cyclonedx;
mod json;
mod junit;
/// SARIF building blocks are shared with the sweep's report, which writes one run for many
/// images.
pub(crate) mod sarif;
mod spdx;
mod table;
pub mod taskdef;

use crate::digest::Digest;
use crate::finding::{Finding, RuleMeta, Severity};
use crate::inventory::Inventory;
use crate::reference::ImageRef;
use serde::Serialize;
use std::io::{self, Write};

/// The version of the JSON report's shape. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A human-readable table (colour when `colour` is set).
    Table {
        /// Emit ANSI colour.
        colour: bool,
        /// The gate's threshold, for the verdict line (`None`: nothing fails).
        fail_on: Option<crate::finding::Severity>,
        /// Findings only: no header, summary or inventory line.
        quiet: bool,
    },
    /// The versioned JSON report.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// JUnit XML: one test case per rule.
    Junit {
        /// The least severity that fails a test case, as `--fail-on` sets it; `None` fails none.
        fail_on: Option<Severity>,
    },
    /// CycloneDX 1.6 JSON SBOM.
    CycloneDx,
    /// SPDX 2.3 JSON SBOM.
    SpdxJson,
}

/// The result of scanning one image; the only input of the report writers.
#[derive(Debug, Clone, Serialize)]
pub struct ScanReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The program that wrote it.
    pub tool: Tool,
    /// What was scanned.
    pub image: ImageSummary,
    /// The rules that ran, in code order: the formats that list rules (SARIF, JUnit, the
    /// table's summary) list these.
    #[serde(skip)]
    pub rules: Vec<&'static RuleMeta>,
    /// Findings that remain after ignores, most severe first.
    pub findings: Vec<Finding>,
    /// What is installed in the final filesystem: distribution and packages.
    pub inventory: Inventory,
    /// Findings an ignore entry suppressed, with its reason.
    pub suppressed: Vec<Suppressed>,
    /// Non-fatal problems: unreadable files, expired ignores.
    pub warnings: Vec<ScanWarning>,
    /// How this run got the layers' records, when it read the image (a report assessed from
    /// stored records has none). The one part of a report a layer cache changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read: Option<LayerReads>,
}

/// How the layers of a scan were obtained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LayerReads {
    /// Layers downloaded (or opened) and walked.
    pub layers_read: usize,
    /// Layers that repeat one read earlier in the same run.
    pub layers_shared: usize,
    /// Layers whose record came from the layer cache, not read at all.
    pub cache_hits: usize,
}

/// Name and version of the scanner.
#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    /// `layerguard`.
    pub name: &'static str,
    /// The crate version.
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

/// The scanned image.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageSummary {
    /// The image's own reference (repo tag or OCI ref name), else what the user typed.
    pub reference: String,
    /// The image's own reference, parsed, when it has one.
    #[serde(skip)]
    pub image_ref: Option<ImageRef>,
    /// What the user typed, like `docker-archive:app.tar`.
    pub source: String,
    /// The manifest digest, when the source has one.
    pub digest: Option<Digest>,
    /// The config digest (Docker's image ID).
    pub config_digest: Option<Digest>,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// Layers, bottom first.
    pub layers: Vec<LayerInfo>,
    /// Total sizes.
    pub size: Sizes,
    /// Files, directories and links in the final filesystem.
    pub files: usize,
}

/// One layer of the scanned image.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LayerInfo {
    /// 0-based position.
    pub index: usize,
    /// The blob digest.
    pub digest: Option<Digest>,
    /// The uncompressed digest.
    pub diff_id: Option<Digest>,
    /// Sizes of this layer.
    pub size: Sizes,
    /// The instruction that made it, when the history says.
    pub created_by: Option<String>,
}

/// Compressed and uncompressed byte counts.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Sizes {
    /// As stored or transferred.
    pub compressed: u64,
    /// As an uncompressed tar stream.
    pub uncompressed: u64,
}

/// A finding an ignore entry suppressed.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// The ignore's reason.
    pub reason: String,
}

/// A non-fatal problem worth telling the user about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ScanWarning {
    /// Where, when it concerns one file or layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// What happened.
    pub message: String,
}

impl ScanReport {
    /// The metadata of the rule a finding names, when that rule ran.
    pub fn rule(&self, code: &str) -> Option<&'static RuleMeta> {
        self.rules.iter().copied().find(|r| r.code == code)
    }
}

/// Writes `report` in `format`. A broken pipe is the caller's to treat as success.
pub fn render(report: &ScanReport, format: Format, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Table {
            colour,
            fail_on,
            quiet,
        } => table::render(
            report,
            table::Style {
                colour,
                fail_on,
                quiet,
            },
            out,
        ),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Junit { fail_on } => junit::render(report, fail_on, out),
        Format::CycloneDx => cyclonedx::render(report, out),
        Format::SpdxJson => spdx::render(report, out),
    }
}
