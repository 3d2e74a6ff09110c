//! A sweep's report and its formats: one JSON document, JSON Lines (what shards write and
//! `sweep merge` reads: one line per repository, image and failure, then the totals), and a
//! table for people. SARIF is `sarif.rs`; `render.rs` picks among them.

use crate::finding::{Finding, Severity};
use crate::posture::RepositoryPosture;
use serde::{Deserialize, Serialize};
use std::io::{self, BufRead, Write};

/// Version of the sweep report's layout: 2 nests each repository's images in it.
pub const SWEEP_SCHEMA_VERSION: u32 = 2;

/// A whole sweep (or one shard of it).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SweepReport {
    /// What the sweep did and found, in numbers.
    pub totals: Totals,
    /// Every repository swept, with its settings and `ecr-*` findings.
    pub repositories: Vec<RepositoryEntry>,
    /// Every image scanned, each with its `scan` report (the JSON report, schema version 1).
    pub images: Vec<ImageEntry>,
    /// What could not be listed or read; the sweep went on without it.
    pub failures: Vec<SweepFailure>,
}

/// The numbers of a sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Repositories judged.
    pub repositories: usize,
    /// Images scanned.
    pub images: usize,
    /// Layer references across the scanned images.
    pub layers_referenced: usize,
    /// Distinct layers (by diff_id) among them.
    pub layers_unique: usize,
    /// Layers actually downloaded and walked.
    pub layers_read: usize,
    /// Layers whose record came from the cache.
    pub cache_hits: usize,
    /// Compressed bytes of the layers downloaded and walked.
    pub bytes_read: u64,
    /// Compressed bytes of the distinct layers, read or served from the cache.
    pub bytes_unique: u64,
    /// Entries in `failures`.
    pub failures: usize,
}

/// One repository.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RepositoryEntry {
    /// The registry host.
    pub registry: String,
    /// The repository name.
    pub name: String,
    /// Its settings, as far as they could be read.
    pub posture: RepositoryPosture,
    /// The `ecr-*` findings.
    pub findings: Vec<Finding>,
    /// What could not be read (missing permissions).
    pub warnings: Vec<String>,
}

/// One image and its scan report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageEntry {
    /// `registry/repository:tag@digest`.
    pub reference: String,
    /// `registry/repository`: the repository it was listed in.
    #[serde(default)]
    pub repository: String,
    /// The manifest digest it was listed and pulled by.
    #[serde(default)]
    pub digest: String,
    /// Its tags when it was listed.
    #[serde(default)]
    pub tags: Vec<String>,
    /// When it was pushed, seconds since the epoch.
    #[serde(default)]
    pub pushed_at: Option<i64>,
    /// Why it could not be scanned (deleted since the listing, unreadable); then `report` is
    /// null.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The scan's JSON report.
    pub report: serde_json::Value,
}

/// Something the sweep could not do.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepFailure {
    /// The region, repository or image.
    pub subject: String,
    /// Why, in one sentence.
    pub error: String,
}

/// One line of the JSON Lines form, and what a sweep hands on as it goes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SweepLine {
    /// A repository, judged.
    Repository(RepositoryEntry),
    /// An image, scanned.
    Image(ImageEntry),
    /// Something that could not be done.
    Failure(SweepFailure),
    /// The numbers, last.
    Totals(Totals),
}

impl SweepLine {
    /// The severities of the line's findings.
    pub fn severities(&self) -> Vec<Severity> {
        match self {
            SweepLine::Repository(r) => r.findings.iter().map(|f| f.severity).collect(),
            SweepLine::Image(i) => image_severities(i).collect(),
            SweepLine::Failure(_) | SweepLine::Totals(_) => Vec::new(),
        }
    }

    /// Writes the line as one line of JSON.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer(&mut *out, self)?;
        writeln!(out)
    }
}

fn image_severities(image: &ImageEntry) -> impl Iterator<Item = Severity> + '_ {
    image.report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| severity(f["severity"].as_str()?))
}

impl SweepReport {
    /// Every finding's severity: the repositories' and the images'.
    pub fn severities(&self) -> impl Iterator<Item = Severity> + '_ {
        let repositories = self
            .repositories
            .iter()
            .flat_map(|r| r.findings.iter().map(|f| f.severity));
        let images = self.images.iter().flat_map(image_severities);
        repositories.chain(images)
    }

    /// The one JSON document: each repository with its `uri` and its images, each image with
    /// its digest, tags, push time, findings and full scan report, or its `error`.
    pub(super) fn document(&self) -> serde_json::Value {
        use serde_json::{Value, json};
        let mut nested: Vec<Value> = Vec::with_capacity(self.repositories.len());
        let mut index = std::collections::HashMap::new();
        for r in &self.repositories {
            let uri = format!("{}/{}", r.registry, r.name);
            let mut entry = serde_json::to_value(r).unwrap_or_default();
            entry["uri"] = json!(uri);
            entry["images"] = json!([]);
            index.insert(uri, nested.len());
            nested.push(entry);
        }
        let mut unlisted = Vec::new();
        for image in &self.images {
            let mut entry = serde_json::to_value(image).unwrap_or_default();
            entry["findings"] = image.report["findings"].clone();
            if entry["findings"].is_null() {
                entry["findings"] = json!([]);
            }
            match index.get(&image.repository) {
                Some(&i) => {
                    if let Some(images) = nested[i]["images"].as_array_mut() {
                        images.push(entry);
                    }
                }
                None => unlisted.push(entry),
            }
        }
        let mut doc = json!({
            "schema_version": SWEEP_SCHEMA_VERSION,
            "tool": {"name": "layerguard", "version": env!("CARGO_PKG_VERSION")},
            "totals": self.totals,
            "repositories": nested,
            "failures": self.failures,
        });
        // Only a report joined from shards of different sweeps has images whose repository it
        // does not list.
        if !unlisted.is_empty() {
            doc["images"] = Value::Array(unlisted);
        }
        doc
    }

    /// Adds a line to the report: lines in any order make the same report.
    pub fn push(&mut self, line: SweepLine) {
        match line {
            SweepLine::Repository(r) => self.repositories.push(r),
            SweepLine::Image(i) => self.images.push(i),
            SweepLine::Failure(f) => self.failures.push(f),
            SweepLine::Totals(t) => self.totals = t,
        }
    }

    pub(super) fn table(&self, out: &mut dyn Write) -> io::Result<()> {
        let t = &self.totals;
        writeln!(
            out,
            "Sweep: {} repositor{}, {} image{}; layers: {} referenced, {} unique, {} read, {} from cache; {} failure{}",
            t.repositories,
            if t.repositories == 1 { "y" } else { "ies" },
            t.images,
            plural(t.images),
            t.layers_referenced,
            t.layers_unique,
            t.layers_read,
            t.cache_hits,
            t.failures,
            plural(t.failures)
        )?;
        for r in &self.repositories {
            if r.findings.is_empty() && r.warnings.is_empty() {
                continue;
            }
            writeln!(out, "\nrepository {}/{}", r.registry, r.name)?;
            for f in &r.findings {
                writeln!(
                    out,
                    "  {:<8} {}  {}",
                    f.severity.to_string().to_uppercase(),
                    f.rule,
                    f.message
                )?;
            }
            for w in &r.warnings {
                writeln!(out, "  warning  {w}")?;
            }
        }
        for i in &self.images {
            if let Some(error) = &i.error {
                writeln!(out, "\nimage {}: not scanned: {error}", i.reference)?;
                continue;
            }
            let findings = i.report["findings"].as_array().cloned().unwrap_or_default();
            let mut counts = [0usize; 5];
            for f in &findings {
                if let Some(s) = f["severity"].as_str().and_then(severity) {
                    counts[s as usize] += 1;
                }
            }
            writeln!(
                out,
                "\nimage {}: {} finding{} (critical {}, high {}, medium {}, low {}, info {})",
                i.reference,
                findings.len(),
                plural(findings.len()),
                counts[Severity::Critical as usize],
                counts[Severity::High as usize],
                counts[Severity::Medium as usize],
                counts[Severity::Low as usize],
                counts[Severity::Info as usize],
            )?;
            for f in findings.iter().filter(|f| {
                f["severity"]
                    .as_str()
                    .and_then(severity)
                    .is_some_and(|s| s >= Severity::High)
            }) {
                writeln!(
                    out,
                    "  {:<8} {}  {}",
                    f["severity"].as_str().unwrap_or("").to_uppercase(),
                    f["rule"].as_str().unwrap_or(""),
                    f["message"].as_str().unwrap_or("")
                )?;
            }
        }
        for f in &self.failures {
            writeln!(out, "\nfailed: {}: {}", f.subject, f.error)?;
        }
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn severity(name: &str) -> Option<Severity> {
    match name {
        "critical" => Some(Severity::Critical),
        "high" => Some(Severity::High),
        "medium" => Some(Severity::Medium),
        "low" => Some(Severity::Low),
        "info" => Some(Severity::Info),
        _ => None,
    }
}

/// Reads one shard's JSON Lines; `what` names it in errors.
pub fn read_lines(input: impl BufRead, what: &str) -> Result<SweepReport, String> {
    let mut report = SweepReport::default();
    let mut saw_totals = false;
    for (n, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("{what}: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: SweepLine = serde_json::from_str(&line)
            .map_err(|e| format!("{what}: line {}: not a sweep report line ({e})", n + 1))?;
        saw_totals |= matches!(parsed, SweepLine::Totals(_));
        report.push(parsed);
    }
    if !saw_totals {
        return Err(format!(
            "{what}: no totals line: the shard's report is incomplete (did the sweep finish?)"
        ));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::render::SweepFormat;

    #[test]
    fn json_lines_read_back_and_an_unfinished_shard_is_refused() {
        let mut report = SweepReport::default();
        report.images.push(ImageEntry {
            reference: "r/app@sha256:1".into(),
            repository: "r/app".into(),
            digest: "sha256:1".into(),
            tags: Vec::new(),
            pushed_at: None,
            error: None,
            report: serde_json::json!({"findings": [{"severity": "high"}],
                "image": {"layers": [{"diff_id": "sha256:x"}]}}),
        });
        report.totals.images = 1;
        let mut bytes = Vec::new();
        report.render(SweepFormat::JsonLines, &mut bytes).unwrap();
        let back = read_lines(&bytes[..], "shard").unwrap();
        assert_eq!(back.images.len(), 1);
        assert_eq!(back.totals.images, 1);
        assert_eq!(back.severities().collect::<Vec<_>>(), [Severity::High]);
        let cut = &bytes[..bytes.len() / 2];
        assert!(read_lines(cut, "shard").is_err());
    }
}
