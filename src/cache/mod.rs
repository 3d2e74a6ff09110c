//! Layer records kept between runs, so that a layer already read (by this machine or, through
//! S3, by another) is not downloaded or walked again.
//!
//! ```text
//! scan ──get(key)──► Tiered ──► DirCache (local directory) ──miss──► S3Cache ──hit──► DirCache
//!      ◄──put(key)──         ──► both
//! ```
//!
//! An entry is a [`LayerRecord`] (MessagePack, [`LayerRecord::to_bytes`]) compressed with zstd,
//! stored under a name made of its key's digests: the fingerprint first, so a new version of the
//! tool (or other rules, limits, signature data) looks in a directory of its own and the old one
//! ages out, then the diff_id. An entry that does not decode, or decodes to a record of another
//! key, is a miss: it is removed, told once as a warning, and written again once its layer has
//! been read. Nothing here fails a scan.
//!
//! The trait is [`crate::scan::RecordCache`]: the scan sees only the trait, and this module,
//! beside the scan, imports the record types from it.

mod dir;
mod s3;

pub use crate::scan::record::{CacheStats, RecordCache};
pub use dir::DirCache;
pub use s3::S3Cache;

use crate::scan::{LayerRecord, RecordKey};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Default bound on a cache directory's size: 2 GiB, some thousands of layers.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;

/// Decoded entries larger than this are refused as corrupt: the record of a layer of a million
/// files is about 30 MB, so this is only a guard against a damaged or hostile entry.
const MAX_RECORD_BYTES: u64 = 1 << 30;

/// Why a cache could not be set up. Only what the user wrote can be wrong: every other problem
/// is a warning once the scan runs.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The S3 location is not `s3://BUCKET[/PREFIX]`.
    #[error("cache location {url:?}: {reason}; expected s3://BUCKET/PREFIX")]
    Url {
        /// What was given.
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The runtime the S3 client runs on could not start.
    #[error("S3 cache: cannot start its runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// An object asked for by URL could not be read.
    #[error("{url}: {reason}")]
    Object {
        /// `s3://BUCKET/KEY`.
        url: String,
        /// Why, in AWS's words.
        reason: String,
    },
}

/// The user's cache directory for layerguard: `$XDG_CACHE_HOME/layerguard`, else
/// `~/.cache/layerguard`; `None` when neither variable gives an absolute path.
pub fn default_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|base| base.join("layerguard"))
}

/// Opens the tiers asked for: a directory (bounded to `max_bytes`), an S3 location, both, or
/// neither (`None`). Fails only on a malformed S3 location or a runtime that cannot start.
pub fn open(
    dir: Option<&Path>,
    s3: Option<&str>,
    max_bytes: u64,
) -> Result<Option<Arc<dyn RecordCache>>, CacheError> {
    let local = dir.map(|d| DirCache::open(d, max_bytes));
    let shared = s3.map(S3Cache::open).transpose()?;
    if local.is_none() && shared.is_none() {
        return Ok(None);
    }
    Ok(Some(Arc::new(Tiered::new(local, shared))))
}

/// A local directory in front of a shared S3 location: a record is looked for in the
/// directory, then in S3 (and copied to the directory when found there), and written to both.
pub struct Tiered {
    local: Option<DirCache>,
    shared: Option<S3Cache>,
    misses: AtomicUsize,
}

impl Tiered {
    /// Either tier may be absent.
    pub fn new(local: Option<DirCache>, shared: Option<S3Cache>) -> Self {
        Tiered {
            local,
            shared,
            misses: AtomicUsize::new(0),
        }
    }
}

impl RecordCache for Tiered {
    fn get(&self, key: &RecordKey) -> Option<LayerRecord> {
        if let Some(record) = self.local.as_ref().and_then(|l| l.get(key)) {
            return Some(record);
        }
        if let Some(shared) = &self.shared
            && let Some((record, stored)) = shared.get(key)
        {
            if let Some(local) = &self.local {
                local.put_stored(key, &stored);
            }
            return Some(record);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        None
    }

    fn put(&self, key: &RecordKey, record: &LayerRecord) {
        let stored = encode(record);
        if let Some(local) = &self.local {
            local.put_stored(key, &stored);
        }
        if let Some(shared) = &self.shared {
            shared.put_stored(key, stored);
        }
    }

    fn stats(&self) -> CacheStats {
        let mut stats = CacheStats {
            misses: self.misses.load(Ordering::Relaxed),
            ..CacheStats::default()
        };
        if let Some(local) = &self.local {
            local.counters.add_to(&mut stats, Tier::Local);
        }
        if let Some(shared) = &self.shared {
            shared.counters.add_to(&mut stats, Tier::S3);
        }
        stats
    }

    fn take_warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(local) = &self.local {
            out.extend(local.warnings.take());
        }
        if let Some(shared) = &self.shared {
            out.extend(shared.warnings.take());
        }
        out
    }
}

/// Where an entry lives below a cache's root, in a directory and in a bucket alike:
/// `records/FINGERPRINT/AB/DIFF_ID.zst`, with `AB` the diff_id's first two hex digits so that no
/// directory holds more than a few hundred entries.
fn entry_path(key: &RecordKey) -> String {
    let diff = key.diff_id.hex();
    format!(
        "records/{}/{}/{diff}.zst",
        key.fingerprint.hex(),
        &diff[..2]
    )
}

/// A record as stored: its MessagePack, zstd-compressed (about a fifth of the size).
fn encode(record: &LayerRecord) -> Vec<u8> {
    zstd::bulk::compress(&record.to_bytes(), 3).expect("zstd compresses in memory")
}

/// The record in a stored entry, or why it is unusable.
fn decode(stored: &[u8], key: &RecordKey) -> Result<LayerRecord, String> {
    let mut bytes = Vec::new();
    zstd::stream::read::Decoder::new(stored)
        .and_then(|d| d.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("not a zstd stream ({e})"))?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err("decompresses beyond any layer record".into());
    }
    LayerRecord::from_bytes(&bytes, key).map_err(|e| e.to_string())
}

/// Warnings said once each, kept until the scan takes them.
#[derive(Default)]
struct Warnings {
    said: Mutex<(HashSet<String>, Vec<String>)>,
}

impl Warnings {
    /// Keeps `message` unless a warning of the same `kind` was kept before.
    fn once(&self, kind: &str, message: String) {
        let mut said = self.said.lock().unwrap_or_else(|p| p.into_inner());
        if said.0.insert(kind.to_owned()) {
            said.1.push(message);
        }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.said.lock().unwrap_or_else(|p| p.into_inner()).1)
    }
}

#[derive(Clone, Copy)]
enum Tier {
    Local,
    S3,
}

/// One tier's counters.
#[derive(Default)]
struct Counters {
    hits: AtomicUsize,
    misses: AtomicUsize,
    writes: AtomicUsize,
    corrupt: AtomicUsize,
    errors: AtomicUsize,
}

impl Counters {
    fn bump(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn add_to(&self, stats: &mut CacheStats, tier: Tier) {
        let (hits, writes) = match tier {
            Tier::Local => (&mut stats.local_hits, &mut stats.local_writes),
            Tier::S3 => (&mut stats.s3_hits, &mut stats.s3_writes),
        };
        *hits += self.hits.load(Ordering::Relaxed);
        *writes += self.writes.load(Ordering::Relaxed);
        stats.corrupt += self.corrupt.load(Ordering::Relaxed);
        stats.errors += self.errors.load(Ordering::Relaxed);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::scan::{Fingerprint, ScanOptions};

    /// A small record under a key made from `seed`.
    pub(crate) fn record(seed: &str) -> LayerRecord {
        let tar = crate::layer::tar_of(&[("etc/motd", seed.as_bytes(), 0o644)]);
        crate::scan::record_of(&tar, &ScanOptions::default())
    }

    #[test]
    fn a_stored_record_decodes_under_its_key_only() {
        let r = record("a");
        let stored = encode(&r);
        assert_eq!(decode(&stored, &r.key).unwrap(), r);
        let other = Fingerprint::of(&ScanOptions::default()).key(Digest::of(b"other"));
        assert!(decode(&stored, &other).unwrap_err().contains("not"), "key");
        assert!(decode(&stored[..stored.len() / 2], &r.key).is_err(), "cut");
        assert!(decode(b"garbage", &r.key).unwrap_err().contains("zstd"));
    }

    #[test]
    fn entries_are_named_by_both_digests() {
        let r = record("a");
        let path = entry_path(&r.key);
        let diff = r.key.diff_id.hex();
        assert_eq!(
            path,
            format!(
                "records/{}/{}/{diff}.zst",
                r.key.fingerprint.hex(),
                &diff[..2]
            )
        );
    }

    #[test]
    fn the_default_dir_follows_xdg() {
        // Only checks the shape: the environment is shared with other tests.
        if let Some(dir) = default_dir() {
            assert!(dir.is_absolute() && dir.ends_with("layerguard"), "{dir:?}");
        }
    }

    #[test]
    fn nothing_asked_for_is_no_cache() {
        assert!(open(None, None, DEFAULT_MAX_BYTES).unwrap().is_none());
        for bad in ["s3://", "http://bucket/x", "s3:///prefix", "bucket/prefix"] {
            assert!(
                matches!(
                    open(None, Some(bad), DEFAULT_MAX_BYTES),
                    Err(CacheError::Url { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_tier_s_problems_and_counters_come_through_the_stack() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Tiered::new(Some(DirCache::open(dir.path(), DEFAULT_MAX_BYTES)), None);
        let r = record("a");
        let path = dir.path().join(entry_path(&r.key));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"torn").unwrap();
        assert!(cache.get(&r.key).is_none());
        cache.put(&r.key, &r);
        assert!(cache.get(&r.key).is_some());
        let s = cache.stats();
        let counts = (s.local_hits, s.misses, s.local_writes, s.corrupt, s.s3_hits);
        assert_eq!(counts, (1, 1, 1, 1, 0), "{s:?}");
        let warnings = cache.take_warnings();
        assert!(
            warnings.len() == 1 && warnings[0].contains("unusable"),
            "{warnings:?}"
        );
        assert!(cache.take_warnings().is_empty(), "taken once");
    }
}
