//! The layer record: everything one pass over one layer produced — the tar content's facts, the
//! file-level findings, the layer's inventory and its warnings — keyed so that a cache can hand
//! it back instead of reading the layer again.
//!
//! The key is the layer's diff_id (the content, whichever blob carried it) plus a fingerprint of
//! everything else that can change the record: the tool and record format versions, the rules
//! and catalogers that ran, the classifier and hashing switches, the limits and the signature
//! data compiled in. Settings that only image-level checks read (thresholds, allow-lists,
//! ignores) are not in it: those checks run again on every assessment.
//!
//! Records are stored as MessagePack with field names: compact (the file table is columns of
//! small integers and one string of names), fast, and tolerant of fields added later.

use super::ScanOptions;
use crate::digest::Digest;
use crate::finding::Finding;
use crate::inventory::LayerInventory;
use crate::layer::LayerContent;
use crate::limits::Limits;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Bumped whenever what a record means changes, so old records stop matching.
pub const RECORD_FORMAT: u32 = 4;

/// What scanning one layer produced, independent of the image and the layer's position in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    /// The key it was made under.
    pub key: RecordKey,
    /// The tar content's facts.
    pub content: LayerContent,
    /// Findings of file-level checks, located by path only (the layer index is added on merge).
    pub findings: Vec<Finding>,
    /// What the catalogers found, before the merge decides what is still live.
    pub inventory: LayerInventory,
    /// Non-fatal problems found while reading this layer.
    pub warnings: Vec<String>,
}

/// Why stored bytes are not a usable record.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The bytes do not decode.
    #[error("undecodable layer record: {0}")]
    Decode(#[from] rmp_serde::decode::Error),
    /// The bytes decode to a record made under another key.
    #[error("layer record is for {found}, not {wanted}")]
    Key {
        /// The key asked for.
        wanted: Box<RecordKey>,
        /// The key the record carries.
        found: Box<RecordKey>,
    },
}

impl LayerRecord {
    /// The stored form.
    pub fn to_bytes(&self) -> Vec<u8> {
        rmp_serde::to_vec_named(self).expect("records hold only serialisable data")
    }

    /// Reads a stored record, refusing one made under another key.
    pub fn from_bytes(bytes: &[u8], wanted: &RecordKey) -> Result<Self, RecordError> {
        let record: LayerRecord = rmp_serde::from_slice(bytes)?;
        if &record.key != wanted {
            return Err(RecordError::Key {
                wanted: Box::new(wanted.clone()),
                found: Box::new(record.key),
            });
        }
        Ok(record)
    }
}

/// A layer record's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordKey {
    /// The layer's diff_id.
    pub diff_id: Digest,
    /// [`Fingerprint::digest`] of the options it was made with.
    pub fingerprint: Digest,
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}+{}", self.diff_id, &self.fingerprint.hex()[..16])
    }
}

/// Everything besides the layer's bytes that can change its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// The tool's version.
    pub tool: String,
    /// Codes of the rules whose file-level checks ran.
    pub rules: Vec<String>,
    /// Names of the catalogers that ran.
    pub catalogers: Vec<String>,
    /// Binary version classifiers on.
    pub classify: bool,
    /// Binary SHA-256s computed.
    pub hash_binaries: bool,
    /// The read limits.
    pub limits: Limits,
    /// [`crate::signatures::DATA_DIGEST`].
    pub signatures: Digest,
}

impl Fingerprint {
    /// The fingerprint of a scan's options.
    pub fn of(options: &ScanOptions) -> Self {
        Fingerprint {
            format: RECORD_FORMAT,
            tool: env!("CARGO_PKG_VERSION").to_owned(),
            rules: options
                .rules
                .iter()
                .map(|r| r.meta().code.to_owned())
                .collect(),
            catalogers: options
                .catalogers
                .iter()
                .map(|c| c.name().to_owned())
                .collect(),
            classify: options.classify,
            hash_binaries: options.hash_binaries,
            limits: options.settings.limits,
            signatures: crate::signatures::DATA_DIGEST.clone(),
        }
    }

    /// Its digest, the second half of a [`RecordKey`].
    pub fn digest(&self) -> Digest {
        Digest::of(&serde_json::to_vec(self).expect("plain data serialises"))
    }

    /// The key of the layer with `diff_id` under this fingerprint.
    pub fn key(&self, diff_id: Digest) -> RecordKey {
        RecordKey {
            diff_id,
            fingerprint: self.digest(),
        }
    }
}

/// Where layer records are kept between runs. The scan asks it for a layer's record before
/// reading the layer and hands it every record it makes.
///
/// A cache can never fail a scan: whatever goes wrong is a miss (`get`) or a record not kept
/// (`put`), and is told once through [`RecordCache::take_warnings`]. Implementations are in
/// the `cache` module; the trait is here so that the scan depends on no implementation of it.
pub trait RecordCache: Send + Sync {
    /// The record stored under `key`, or `None`: not stored, or stored but unusable.
    fn get(&self, key: &RecordKey) -> Option<LayerRecord>;
    /// Keeps `record` under `key`.
    fn put(&self, key: &RecordKey, record: &LayerRecord);
    /// What the cache has done so far.
    fn stats(&self) -> CacheStats {
        CacheStats::default()
    }
    /// Problems not yet reported (a corrupt entry, an unwritable directory, an unreachable
    /// bucket), each once; taking them empties the list.
    fn take_warnings(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Counters of a [`RecordCache`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Records found in the local directory.
    pub local_hits: usize,
    /// Records found in S3 (and copied to the local directory).
    pub s3_hits: usize,
    /// Keys found in no tier.
    pub misses: usize,
    /// Records written to the local directory.
    pub local_writes: usize,
    /// Records written to S3.
    pub s3_writes: usize,
    /// Stored entries that were unreadable or under another key, ignored and removed.
    pub corrupt: usize,
    /// Reads and writes that failed for other reasons (I/O, the network, permissions).
    pub errors: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fingerprint_input_changes_the_key() {
        let options = ScanOptions::default();
        let base = Fingerprint::of(&options);
        let diff_id = Digest::of(b"layer");
        let key = base.key(diff_id.clone());
        let mut variants: Vec<Fingerprint> = Vec::new();
        let mut push = |change: &dyn Fn(&mut Fingerprint)| {
            let mut f = base.clone();
            change(&mut f);
            variants.push(f);
        };
        push(&|f| f.format += 1);
        push(&|f| f.tool.push_str("-dev"));
        push(&|f| {
            f.rules.pop();
        });
        push(&|f| {
            f.catalogers.pop();
        });
        push(&|f| f.classify = !f.classify);
        push(&|f| f.hash_binaries = !f.hash_binaries);
        push(&|f| f.limits.max_file_bytes += 1);
        push(&|f| f.limits.max_entries -= 1);
        push(&|f| f.limits.binary_head_bytes += 1);
        push(&|f| f.signatures = Digest::of(b"other data"));
        for (i, v) in variants.iter().enumerate() {
            assert_ne!(v.key(diff_id.clone()), key, "change {i} kept the key");
        }
        assert_ne!(base.key(Digest::of(b"other layer")), key);
        assert_eq!(Fingerprint::of(&options).key(diff_id), key, "stable");

        // The options that feed the fingerprint reach it.
        let mut fewer = ScanOptions::default();
        fewer.rules.pop();
        assert_ne!(Fingerprint::of(&fewer), base);
        let no_classify = ScanOptions {
            classify: false,
            ..ScanOptions::default()
        };
        assert_ne!(Fingerprint::of(&no_classify), base);
        let hashing = ScanOptions {
            hash_binaries: true,
            ..ScanOptions::default()
        };
        assert_ne!(Fingerprint::of(&hashing), base);
        let mut limits = ScanOptions::default();
        limits.settings.limits.max_json_bytes += 1;
        assert_ne!(Fingerprint::of(&limits), base);
    }

    #[test]
    fn a_record_is_refused_under_another_key() {
        let fp = Fingerprint::of(&ScanOptions::default());
        let record = LayerRecord {
            key: fp.key(Digest::of(b"a")),
            content: LayerContent::default(),
            findings: Vec::new(),
            inventory: LayerInventory::default(),
            warnings: vec!["w".into()],
        };
        let bytes = record.to_bytes();
        assert_eq!(
            LayerRecord::from_bytes(&bytes, &record.key).unwrap(),
            record
        );
        assert!(matches!(
            LayerRecord::from_bytes(&bytes, &fp.key(Digest::of(b"b"))),
            Err(RecordError::Key { .. })
        ));
        assert!(LayerRecord::from_bytes(&bytes[..bytes.len() / 2], &record.key).is_err());
    }
}
