//! The engine drives one scan: source → layers (concurrently, bounded by cores) → verification →
//! merge → image checks → ignores → [`ScanReport`]. All per-scan state lives here and is dropped
//! with the scan, so scanning many images in one process cannot leak state between them.

use crate::config::Settings;
use crate::digest::{Digest, DigestReader};
use crate::error::{Error, Result};
use crate::event::FileKind;
use crate::event::{FileEvent, FileMeta, Interest};
use crate::finding::{Finding, Findings};
use crate::inventory::classifier::{Observed, VersionScan};
use crate::inventory::{CATALOGERS, CatalogError, Cataloger, Inventory, LayerInventory};
use crate::layer::decompress::Compression;
use crate::layer::{self, LayerSink, LayerSummary, WalkError};
use crate::overlay::FileIndex;
use crate::report::{ImageSummary, LayerInfo, ScanReport, ScanWarning, Sizes, Suppressed, Tool};
use crate::rules::{ImageFacts, Rule};
use crate::signatures::BINARY_CLASSIFIERS;
use crate::source::store::BlobStore;
use crate::source::{self, Image, Opened, Platform, Source};
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What a scan needs besides the source.
#[derive(Clone)]
pub struct ScanOptions {
    /// Thresholds, allow-lists, ignores and limits.
    pub settings: Settings,
    /// The platform to pick from an image index.
    pub platform: Platform,
    /// Layers read at once.
    pub threads: usize,
    /// Today as `YYYY-MM-DD`, for ignore expiry (injected so tests can fix it).
    pub today: String,
    /// The rules to run.
    pub rules: &'static [&'static dyn Rule],
    /// The catalogers to run; empty (with `classify` off) turns the inventory off.
    pub catalogers: &'static [&'static dyn Cataloger],
    /// Run the binary version classifiers.
    pub classify: bool,
    /// Compute each binary's SHA-256 (for SBOMs).
    pub hash_binaries: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            settings: Settings::default(),
            platform: Platform::host(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            today: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            rules: crate::rules::RULES,
            catalogers: CATALOGERS,
            classify: true,
            hash_binaries: false,
        }
    }
}

/// Routes file events to the rules and catalogers that asked for them, collecting file-level
/// findings and the layer's inventory.
struct ScanSink {
    hash_binaries: bool,
    limits: crate::limits::Limits,
    catalogers: &'static [&'static dyn Cataloger],
    classify: bool,
    rules: &'static [&'static dyn Rule],
    findings: Findings,
    inventory: LayerInventory,
    warnings: Vec<String>,
}

impl LayerSink for ScanSink {
    fn interest(&self, meta: &FileMeta) -> Interest {
        let rules = self
            .rules
            .iter()
            .map(|r| r.wants(meta))
            .max()
            .unwrap_or(Interest::None);
        if self.is_database(meta) {
            rules.max(Interest::Content)
        } else {
            rules
        }
    }

    fn is_database(&self, meta: &FileMeta) -> bool {
        self.catalogers.iter().any(|c| c.wants(meta))
    }

    fn wants_stream(&self, meta: &FileMeta) -> bool {
        self.catalogers.iter().any(|c| c.streams(meta))
            || (self.classify
                && meta.kind == FileKind::Regular
                && BINARY_CLASSIFIERS.wants(&meta.path))
    }

    fn stream(&mut self, meta: &FileMeta, reader: &mut dyn Read) -> std::io::Result<()> {
        let cataloger = self.catalogers.iter().find(|c| c.streams(meta));
        let mut scan = VersionScan::for_path(&meta.path).filter(|_| self.classify);
        if cataloger.is_none() && scan.is_none() {
            return Ok(());
        }
        // Binaries get a SHA-256 when an SBOM wants it. The ELF cataloger reads them to the end
        // anyway, so hashing what passes through costs no second read, only the hashing itself
        // (about a fifth of a scan's CPU on a binary-heavy image, hence not by default).
        let mut hashed: Option<DigestReader<&mut dyn Read>> = None;
        let source: &mut dyn Read = if self.hash_binaries {
            hashed.insert(DigestReader::new(reader))
        } else {
            reader
        };
        match scan.as_mut() {
            // The version classifier watches the bytes the cataloger reads, then whatever it
            // left, so the file is still read once.
            Some(scan) => {
                let mut observed = Observed {
                    inner: source,
                    scan,
                };
                if let Some(c) = cataloger {
                    self.run_streaming(*c, meta, &mut observed)?;
                }
                if !observed.scan.done() {
                    std::io::copy(&mut observed, &mut std::io::sink())?;
                }
            }
            None => {
                if let Some(c) = cataloger {
                    self.run_streaming(*c, meta, source)?;
                }
            }
        }
        if let Some(hashed) = hashed
            && let Some(binary) = self.inventory.binaries.get_mut(&meta.path)
        {
            let (digest, _) = hashed.finish()?;
            binary.sha256 = Some(digest.hex());
        }
        let records = scan.map(VersionScan::finish).unwrap_or_default();
        if !records.is_empty() {
            self.inventory
                .databases
                .entry(meta.path.clone())
                .or_default()
                .extend(records);
        }
        Ok(())
    }

    fn file(&mut self, event: &FileEvent<'_>, _: Interest) {
        for rule in self.rules {
            if rule.wants(event.meta) > Interest::None {
                rule.check_file(event, &mut self.findings);
            }
        }
        for cataloger in self.catalogers.iter().filter(|c| c.wants(event.meta)) {
            let path = &event.meta.path;
            // A half-read database would list a plausible but wrong set of packages.
            if event.truncated {
                self.warnings.push(format!(
                    "{path}: {} bytes, over max_database_bytes ({}); its packages are not listed",
                    event.meta.size, self.limits.max_database_bytes
                ));
                continue;
            }
            let content = event.content.unwrap_or_default();
            if let Err(e) = cataloger.catalog(path, content, &mut self.inventory) {
                self.warnings
                    .push(format!("{path}: {} cataloger: {e}", cataloger.name()));
            }
        }
    }
}

impl ScanSink {
    fn run_streaming(
        &mut self,
        cataloger: &dyn Cataloger,
        meta: &FileMeta,
        reader: &mut dyn Read,
    ) -> std::io::Result<()> {
        match cataloger.catalog_stream(meta, reader, &self.limits, &mut self.inventory) {
            Ok(()) => Ok(()),
            Err(CatalogError::Read(e)) => Err(e),
            Err(CatalogError::Parse(e)) => {
                self.warnings.push(format!(
                    "{}: {} cataloger: {e}",
                    meta.path,
                    cataloger.name()
                ));
                Ok(())
            }
        }
    }
}

/// Summarises one layer blob: the unit of work a worker thread does, and the unit a cache keyed
/// by digest would store.
pub fn scan_layer(
    blob: &mut dyn Read,
    declared: Option<Compression>,
    options: &ScanOptions,
) -> Result<LayerSummary, WalkError> {
    let limits = &options.settings.limits;
    let mut sink = ScanSink {
        hash_binaries: options.hash_binaries,
        limits: *limits,
        catalogers: options.catalogers,
        classify: options.classify,
        rules: options.rules,
        findings: Findings::default(),
        inventory: LayerInventory::default(),
        warnings: Vec::new(),
    };
    let mut summary = layer::walk(blob, declared, limits, &mut sink)?;
    summary.findings = sink.findings.into_vec();
    summary.inventory = sink.inventory;
    summary.warnings.extend(sink.warnings);
    Ok(summary)
}

fn layer_error(image: &Image, index: usize, e: WalkError) -> Error {
    let desc = image.layers.get(index);
    let digest = desc
        .and_then(|d| d.digest.as_ref().map(Digest::to_string))
        .or_else(|| desc.map(|d| d.location.clone()))
        .unwrap_or_default();
    if e.limit {
        Error::Limit {
            image: image.name.clone(),
            layer: index,
            reason: e.reason,
        }
    } else {
        Error::Layer {
            image: image.name.clone(),
            layer: index,
            digest,
            path: e.path,
            reason: e.reason,
        }
    }
}

/// Reads every layer of a random-access image, `threads` at a time, and returns them in order.
fn scan_blobs(
    image: &Image,
    store: &dyn BlobStore,
    options: &ScanOptions,
) -> Result<Vec<LayerSummary>> {
    let n = image.layers.len();
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<LayerSummary>>>> =
        (0..n).map(|_| Mutex::new(None)).collect();
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= n {
            break;
        }
        let desc = &image.layers[i];
        let result = (|| {
            let declared =
                Compression::from_media_type(desc.media_type.as_deref()).map_err(|reason| {
                    layer_error(
                        image,
                        i,
                        WalkError {
                            path: None,
                            reason,
                            limit: false,
                        },
                    )
                })?;
            let mut blob = store.open(&desc.location)?;
            scan_layer(&mut blob, declared, options).map_err(|e| layer_error(image, i, e))
        })();
        let failed = result.is_err();
        *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
        if failed {
            // Stop handing out work: the scan is going to fail anyway.
            next.store(n, Ordering::Relaxed);
        }
    };
    std::thread::scope(|s| {
        for _ in 1..options.threads.clamp(1, n.max(1)) {
            s.spawn(work);
        }
        work();
    });
    let mut out = Vec::with_capacity(n);
    for (i, slot) in results.into_iter().enumerate() {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(r) => out.push(r?),
            None => {
                return Err(layer_error(
                    image,
                    i,
                    WalkError {
                        path: None,
                        reason: "not read because another layer failed".into(),
                        limit: false,
                    },
                ));
            }
        }
    }
    Ok(out)
}

/// Checks both digests of every layer. Nothing from a layer is reported unless this passes.
fn verify(image: &Image, layers: &[LayerSummary]) -> Result<()> {
    let diff_ids = &image.config.rootfs.diff_ids;
    if diff_ids.len() != layers.len() {
        return Err(source::source_error(
            &image.name,
            format!(
                "the manifest lists {} layers but the config's rootfs.diff_ids lists {}",
                layers.len(),
                diff_ids.len()
            ),
        ));
    }
    for (i, (summary, desc)) in layers.iter().zip(&image.layers).enumerate() {
        let mismatch = |what, expected: Digest, actual: &Option<Digest>| Error::DigestMismatch {
            image: image.name.clone(),
            layer: i,
            what,
            expected,
            actual: actual.clone().expect("walk sets both digests"),
        };
        if let Some(expected) = &desc.digest
            && summary.blob_digest.as_ref() != Some(expected)
        {
            return Err(mismatch(
                "compressed",
                expected.clone(),
                &summary.blob_digest,
            ));
        }
        let expected: Digest = diff_ids[i]
            .parse()
            .map_err(|e| source::source_error(&image.name, format!("rootfs.diff_ids[{i}]: {e}")))?;
        if summary.diff_id.as_ref() != Some(&expected) {
            return Err(mismatch("uncompressed", expected, &summary.diff_id));
        }
    }
    Ok(())
}

/// Scans one image. `name` is how the user named it, used in every message.
pub fn scan(source: &Source, name: &str, options: &ScanOptions) -> Result<ScanReport> {
    let scan_one =
        |blob: &mut dyn Read, declared: Option<Compression>| scan_layer(blob, declared, options);
    let opened = source::open(
        source,
        name,
        &options.platform,
        &options.settings.limits,
        &scan_one,
    )?;
    let (image, layers) = match opened {
        Opened::Blobs(image, store) => {
            let layers = scan_blobs(&image, store.as_ref(), options)?;
            (image, layers)
        }
        Opened::Streamed(image, layers) => (image, layers),
    };
    verify(&image, &layers)?;
    Ok(assess(&image, &layers, options))
}

/// Merges verified layers and runs the image-level checks. Separate from [`scan`] so layer
/// summaries from any origin (a cache, another process) can be assessed the same way.
pub fn assess(image: &Image, layers: &[LayerSummary], options: &ScanOptions) -> ScanReport {
    let files = FileIndex::build(layers);
    let inventory = Inventory::assemble(layers, &files);
    let mut findings: Vec<Finding> = Vec::new();
    let mut warnings: Vec<ScanWarning> = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        for f in &layer.findings {
            let mut f = f.clone();
            f.location.layer = Some(i);
            if let Some(path) = &f.location.path {
                f.location.removed_in_layer = files.removed_in(path, i);
            }
            findings.push(f);
        }
        warnings.extend(layer.warnings.iter().map(|w| ScanWarning {
            location: Some(format!("layer {i}")),
            message: w.clone(),
        }));
    }
    let facts = ImageFacts {
        image,
        config: &image.config,
        layers,
        files: &files,
        settings: &options.settings,
        inventory: &inventory,
    };
    let mut out = Findings::default();
    for rule in options.rules {
        rule.check_image(&facts, &mut out);
    }
    findings.extend(out.into_vec());

    let reference = image
        .reference
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| image.name.clone());
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for f in findings {
        match options.settings.ignore_for(&f, &reference) {
            Some(ig) if ig.expired(&options.today) => {
                warnings.push(ScanWarning {
                    location: None,
                    message: format!(
                        "ignore for {} expired on {}; the finding is reported again ({})",
                        ig.rule,
                        ig.expires.as_deref().unwrap_or(""),
                        ig.reason
                    ),
                });
                kept.push(f);
            }
            Some(ig) => suppressed.push(Suppressed {
                finding: f,
                reason: ig.reason.clone(),
            }),
            None => kept.push(f),
        }
    }
    kept.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    kept.dedup();
    suppressed.sort_by(|a, b| a.finding.sort_key().cmp(&b.finding.sort_key()));
    warnings.sort();
    warnings.dedup();

    let history = image.config.layer_history();
    let layer_infos: Vec<LayerInfo> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerInfo {
            index: i,
            digest: l.blob_digest.clone(),
            diff_id: l.diff_id.clone(),
            size: Sizes {
                compressed: l.blob_size,
                uncompressed: l.tar_size,
            },
            // Build arguments leak into history, so instructions are shown with secrets redacted.
            created_by: history
                .get(i)
                .copied()
                .flatten()
                .and_then(|h| image.config.instruction(h))
                .map(|text| crate::signatures::redact_secrets(&text)),
        })
        .collect();
    ScanReport {
        schema_version: crate::report::SCHEMA_VERSION,
        tool: Tool::default(),
        image: ImageSummary {
            reference,
            source: image.name.clone(),
            digest: image.manifest_digest.clone(),
            config_digest: image.config_digest.clone(),
            platform: image.platform(),
            size: Sizes {
                compressed: layers.iter().map(|l| l.blob_size).sum(),
                uncompressed: layers.iter().map(|l| l.tar_size).sum(),
            },
            layers: layer_infos,
            files: files.len(),
        },
        findings: kept,
        inventory,
        suppressed,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn layer(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let files: Vec<_> = entries.iter().map(|(p, d)| (*p, *d, 0o644)).collect();
        crate::layer::tar_of(&files)
    }

    const STATUS: &[u8] = b"Package: a\nStatus: install ok installed\nVersion: 1\n";

    #[test]
    fn databases_are_read_past_max_file_bytes_but_not_past_max_database_bytes() {
        let mut options = ScanOptions::default();
        options.settings.limits = Limits {
            max_file_bytes: 8,
            max_database_bytes: 64,
            ..Limits::default()
        };
        let tar = layer(&[("var/lib/dpkg/status", STATUS)]);
        let s = scan_layer(&mut &tar[..], None, &options).unwrap();
        assert_eq!(s.inventory.databases["/var/lib/dpkg/status"].len(), 1);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);

        let big = [STATUS, &[b'\n'; 64][..]].concat();
        let tar = layer(&[("var/lib/dpkg/status", &big)]);
        let s = scan_layer(&mut &tar[..], None, &options).unwrap();
        assert!(s.inventory.databases.is_empty());
        assert!(
            s.warnings[0].contains("max_database_bytes"),
            "{:?}",
            s.warnings
        );
    }

    #[test]
    fn only_databases_live_in_the_final_filesystem_count() {
        let options = ScanOptions::default();
        let layers: Vec<LayerSummary> = [
            layer(&[
                ("var/lib/dpkg/status", STATUS),
                ("var/lib/dpkg/status.d/gone", b"Package: gone\nVersion: 1\n"),
                ("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
            ]),
            layer(&[
                (
                    "var/lib/dpkg/status",
                    b"Package: b\nStatus: install ok installed\nVersion: 2+x\nArchitecture: amd64\n",
                ),
                ("var/lib/dpkg/status.d/.wh.gone", b""),
            ]),
        ]
        .iter()
        .map(|t| scan_layer(&mut &t[..], None, &options).unwrap())
        .collect();
        let files = FileIndex::build(&layers);
        let inv = Inventory::assemble(&layers, &files);
        assert_eq!(inv.os.as_ref().unwrap().id, "debian");
        assert_eq!(inv.packages.len(), 1, "{:?}", inv.packages);
        let p = &inv.packages[0];
        assert_eq!(p.record.name, "b");
        assert_eq!(p.purl, "pkg:deb/debian/b@2%2Bx?arch=amd64&distro=debian-12");
        assert_eq!(p.locations[0].layer, 1);
    }
}
