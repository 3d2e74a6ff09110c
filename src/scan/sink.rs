//! Routes the walker's file events to the rules and catalogers that asked for them, collecting
//! the file-level findings, the layer's inventory and warnings: the part of a layer record that
//! is not the tar content itself.

use super::ScanOptions;
use crate::digest::DigestReader;
use crate::event::{FileEvent, FileKind, FileMeta, Interest};
use crate::finding::Findings;
use crate::inventory::classifier::{Observed, VersionScan};
use crate::inventory::{CatalogError, Cataloger, LayerInventory};
use crate::layer::{LayerSink, Plan};
use crate::limits::Limits;
use crate::rules::Rule;
use crate::signatures::BINARY_CLASSIFIERS;
use std::io::Read;

pub(super) struct ScanSink<'o> {
    hash_binaries: bool,
    limits: Limits,
    catalogers: &'o [&'static dyn Cataloger],
    classify: bool,
    rules: &'o [&'static dyn Rule],
    pub(super) findings: Findings,
    pub(super) inventory: LayerInventory,
    pub(super) warnings: Vec<String>,
}

impl<'o> ScanSink<'o> {
    pub(super) fn new(options: &'o ScanOptions) -> Self {
        ScanSink {
            hash_binaries: options.hash_binaries,
            limits: options.settings.limits,
            catalogers: &options.catalogers,
            classify: options.classify,
            rules: &options.rules,
            findings: Findings::default(),
            inventory: LayerInventory::default(),
            warnings: Vec::new(),
        }
    }

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

impl LayerSink for ScanSink<'_> {
    fn plan(&mut self, meta: &FileMeta) -> Plan {
        let rules = self
            .rules
            .iter()
            .map(|r| r.wants(meta))
            .max()
            .unwrap_or(Interest::None);
        // Package databases are read past max_file_bytes, up to max_database_bytes.
        let database = self.catalogers.iter().any(|c| c.wants(meta));
        let (interest, cap) = if database {
            (
                rules.max(Interest::Content),
                self.limits
                    .max_database_bytes
                    .max(self.limits.max_file_bytes),
            )
        } else {
            (rules, self.limits.max_file_bytes)
        };
        // Nothing to stream in an empty file; and the tests below cost more than the rest of the
        // plan, on images of millions of small files.
        let stream = meta.size > 0
            && (self.catalogers.iter().any(|c| c.streams(meta))
                || (self.classify
                    && meta.kind == FileKind::Regular
                    && BINARY_CLASSIFIERS.wants(&meta.path)));
        Plan {
            interest,
            cap,
            stream,
        }
    }

    fn stream(&mut self, meta: &FileMeta, reader: &mut dyn Read) -> std::io::Result<()> {
        let cataloger = self.catalogers.iter().find(|c| c.streams(meta)).copied();
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
                    self.run_streaming(c, meta, &mut observed)?;
                }
                if !observed.scan.done() {
                    std::io::copy(&mut observed, &mut std::io::sink())?;
                }
            }
            None => {
                if let Some(c) = cataloger {
                    self.run_streaming(c, meta, source)?;
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
