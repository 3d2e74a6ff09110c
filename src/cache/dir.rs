//! The local tier: one file per record in a directory, shared safely by concurrent processes
//! and bounded in size.
//!
//! Writes go to a temporary file in the entry's own directory, renamed over the entry: a reader,
//! in this process or another, sees the whole old entry, the whole new one, or none. An entry's
//! modification time is when it was last written or used; past the size bound the oldest go
//! first.

use super::{Counters, MAX_RECORD_BYTES, RecordCache, Warnings, decode, encode, entry_path};
use crate::cache::CacheStats;
use crate::scan::{LayerRecord, RecordKey};
use std::fs::{self, File};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

/// A temporary file this old was left by a writer that died: no write takes this long.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Eviction goes down to this share of the bound, so that not every write past it walks the
/// directory again.
const LOW_WATER_PERCENT: u64 = 90;

/// Tells temporary files of one process apart.
static TEMP_SEQ: AtomicUsize = AtomicUsize::new(0);

/// Layer records in a local directory.
pub struct DirCache {
    root: PathBuf,
    max_bytes: u64,
    /// Bytes held, as last counted plus what this process wrote since; counted on the first
    /// write, so that a run that only reads never walks the directory.
    used: Mutex<Option<u64>>,
    /// False when the directory could not be created: every call is then a miss.
    usable: bool,
    pub(super) counters: Counters,
    pub(super) warnings: Warnings,
}

impl DirCache {
    /// The cache in `root` (created when missing), holding at most about `max_bytes`. A
    /// directory that cannot be created is a warning, and the cache stays empty.
    pub fn open(root: &Path, max_bytes: u64) -> DirCache {
        let cache = DirCache {
            root: root.to_owned(),
            max_bytes,
            used: Mutex::new(None),
            usable: true,
            counters: Counters::default(),
            warnings: Warnings::default(),
        };
        match fs::create_dir_all(root) {
            Ok(()) => cache,
            Err(e) => {
                cache.warnings.once(
                    "open",
                    format!(
                        "cache directory {} cannot be created ({e}); layers are read without it",
                        root.display()
                    ),
                );
                DirCache {
                    usable: false,
                    ..cache
                }
            }
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file holding `key`'s record.
    pub fn path_of(&self, key: &RecordKey) -> PathBuf {
        self.root.join(entry_path(key))
    }

    fn failed(&self, what: &str, path: &Path, e: std::io::Error) {
        Counters::bump(&self.counters.errors);
        self.warnings.once(
            what,
            format!(
                "cache directory {}: cannot {what} {} ({e}); the scan goes on without it",
                self.root.display(),
                path.display()
            ),
        );
    }

    /// Stores an entry as it is stored (compressed).
    pub(super) fn put_stored(&self, key: &RecordKey, stored: &[u8]) {
        if !self.usable {
            return;
        }
        let path = self.path_of(key);
        match write_atomically(&path, stored) {
            Ok(()) => {
                Counters::bump(&self.counters.writes);
                self.account(stored.len() as u64);
            }
            Err(e) => self.failed("write", &path, e),
        }
    }

    /// Adds a write to the bytes held, and evicts past the bound.
    fn account(&self, written: u64) {
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        let total = match *used {
            Some(u) => u + written,
            // The walk counts the entry just written.
            None => self.entries().iter().map(|e| e.1).sum(),
        };
        *used = Some(if total > self.max_bytes {
            self.evict()
        } else {
            total
        });
    }

    /// Every entry with its last use and size; stale temporary files are removed on the way.
    fn entries(&self) -> Vec<(SystemTime, u64, PathBuf)> {
        let mut out = Vec::new();
        let now = SystemTime::now();
        let mut dirs = vec![self.root.join("records")];
        while let Some(dir) = dirs.pop() {
            let Ok(listing) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in listing.flatten() {
                let Ok(meta) = entry.metadata() else {
                    continue;
                };
                let path = entry.path();
                if meta.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let modified = meta.modified().unwrap_or(now);
                if entry.file_name().to_string_lossy().ends_with(".tmp") {
                    if now.duration_since(modified).unwrap_or_default() > STALE_TEMP {
                        let _ = fs::remove_file(&path);
                    }
                    continue;
                }
                out.push((modified, meta.len(), path));
            }
        }
        out
    }

    /// Removes the least recently used entries until the directory is under its low-water mark,
    /// and returns the bytes left. Another process may be evicting too: an entry already gone
    /// counts as removed.
    fn evict(&self) -> u64 {
        let mut entries = self.entries();
        entries.sort();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        let target = self.max_bytes / 100 * LOW_WATER_PERCENT;
        for (_, size, path) in entries {
            if total <= target {
                break;
            }
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(_) => continue,
            }
            total -= size;
            // Directories of an older version empty out this way; a non-empty one stays.
            if let Some(shard) = path.parent()
                && fs::remove_dir(shard).is_ok()
                && let Some(version) = shard.parent()
            {
                let _ = fs::remove_dir(version);
            }
        }
        total
    }
}

/// Writes `bytes` to `path` through a temporary file beside it, renamed over it.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("entries are below the root");
    let name = path
        .file_name()
        .expect("entries have names")
        .to_string_lossy();
    let temp = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TEMP_SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let create = || File::options().write(true).create_new(true).open(&temp);
    let mut file = match create() {
        Ok(f) => f,
        // The entry's directory is new, or another process's eviction just removed it.
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::create_dir_all(dir)?;
            create()?
        }
        Err(e) => return Err(e),
    };
    // No fsync: an entry a crash cuts short is found corrupt, removed and written again, which
    // costs less than syncing every entry of a sweep.
    let written = file.write_all(bytes).and_then(|()| {
        drop(file);
        fs::rename(&temp, path)
    });
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

impl RecordCache for DirCache {
    fn get(&self, key: &RecordKey) -> Option<LayerRecord> {
        if !self.usable {
            return None;
        }
        let path = self.path_of(key);
        let miss = || {
            Counters::bump(&self.counters.misses);
            None
        };
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return miss(),
            Err(e) => {
                self.failed("read", &path, e);
                return miss();
            }
        };
        let mut stored = Vec::new();
        if let Err(e) = (&mut file).take(MAX_RECORD_BYTES).read_to_end(&mut stored) {
            self.failed("read", &path, e);
            return miss();
        }
        match decode(&stored, key) {
            Ok(record) => {
                // The entry's age is its last use: this is what makes eviction least recently
                // used. A file another user owns keeps its time, which only ages it sooner.
                let _ = file.set_modified(SystemTime::now());
                Counters::bump(&self.counters.hits);
                Some(record)
            }
            Err(reason) => {
                Counters::bump(&self.counters.corrupt);
                drop(file);
                let _ = fs::remove_file(&path);
                self.warnings.once(
                    &path.to_string_lossy(),
                    format!(
                        "cache entry {} is unusable ({reason}): ignored and removed; its layer \
                         is read again and the entry written anew",
                        path.display()
                    ),
                );
                miss()
            }
        }
    }

    fn put(&self, key: &RecordKey, record: &LayerRecord) {
        self.put_stored(key, &encode(record));
    }

    fn stats(&self) -> CacheStats {
        let mut stats = CacheStats {
            misses: self.counters.misses.load(Ordering::Relaxed),
            ..CacheStats::default()
        };
        self.counters.add_to(&mut stats, super::Tier::Local);
        stats
    }

    fn take_warnings(&self) -> Vec<String> {
        self.warnings.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::record;
    use std::sync::Arc;

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![dir.to_owned()];
        while let Some(d) = dirs.pop() {
            for e in fs::read_dir(d).unwrap().flatten() {
                if e.file_type().unwrap().is_dir() {
                    dirs.push(e.path());
                } else {
                    out.push(e.path());
                }
            }
        }
        out
    }

    #[test]
    fn a_record_is_written_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DirCache::open(dir.path(), super::super::DEFAULT_MAX_BYTES);
        let r = record("a");
        assert!(cache.get(&r.key).is_none());
        cache.put(&r.key, &r);
        assert_eq!(
            files_in(dir.path()),
            [cache.path_of(&r.key)],
            "no temp file left"
        );
        assert_eq!(cache.get(&r.key).unwrap(), r);
        let stats = cache.stats();
        assert_eq!(
            (stats.local_hits, stats.misses, stats.local_writes),
            (1, 1, 1)
        );
        assert!(cache.take_warnings().is_empty());
    }

    #[test]
    fn concurrent_writers_and_readers_never_see_part_of_an_entry() {
        let dir = tempfile::tempdir().unwrap();
        let r = Arc::new(record("shared"));
        // Two caches on one directory, as two processes would have.
        let caches: Vec<Arc<DirCache>> = (0..2)
            .map(|_| Arc::new(DirCache::open(dir.path(), u64::MAX)))
            .collect();
        std::thread::scope(|s| {
            for i in 0..8 {
                let (cache, r) = (caches[i % 2].clone(), r.clone());
                s.spawn(move || {
                    for _ in 0..50 {
                        if i % 2 == 0 {
                            cache.put(&r.key, &r);
                        } else if let Some(got) = cache.get(&r.key) {
                            assert_eq!(&got, r.as_ref());
                        }
                    }
                });
            }
        });
        for cache in &caches {
            assert_eq!(cache.stats().corrupt, 0);
            assert!(cache.take_warnings().is_empty());
        }
        assert_eq!(
            files_in(dir.path()).len(),
            1,
            "only the entry, no temp file"
        );
    }

    #[test]
    fn past_the_bound_the_least_recently_used_entries_go() {
        let dir = tempfile::tempdir().unwrap();
        let [a, b, c] = ["a", "b", "c"].map(record);
        let size = |r: &LayerRecord| encode(r).len() as u64;
        // Room for the three but one byte.
        let bound = size(&a) + size(&b) + size(&c) - 1;
        let cache = DirCache::open(dir.path(), bound);
        cache.put(&a.key, &a);
        cache.put(&b.key, &b);
        let age = |r: &LayerRecord, secs| {
            let file = File::options()
                .write(true)
                .open(cache.path_of(&r.key))
                .unwrap();
            file.set_modified(SystemTime::now() - Duration::from_secs(secs))
                .unwrap();
        };
        // a was written first, b after, then a was used.
        age(&a, 200);
        age(&b, 100);
        assert!(cache.get(&a.key).is_some());
        cache.put(&c.key, &c);
        assert!(cache.path_of(&a.key).exists(), "used last but one");
        assert!(!cache.path_of(&b.key).exists(), "least recently used");
        assert!(cache.path_of(&c.key).exists(), "just written");
        assert_eq!(*cache.used.lock().unwrap(), Some(size(&a) + size(&c)));
    }

    #[test]
    fn stale_temp_files_are_swept() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DirCache::open(dir.path(), 1);
        let r = record("a");
        let entry = cache.path_of(&r.key);
        fs::create_dir_all(entry.parent().unwrap()).unwrap();
        let stale = entry.with_file_name(".x.zst.1.0.tmp");
        let fresh = entry.with_file_name(".x.zst.2.0.tmp");
        fs::write(&stale, b"left by a dead writer").unwrap();
        fs::write(&fresh, b"being written").unwrap();
        File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(SystemTime::now() - 2 * STALE_TEMP)
            .unwrap();
        cache.put(&r.key, &r);
        assert!(!stale.exists() && fresh.exists());
    }

    fn assert_rebuilt(stored: &[u8], what: &str) {
        let dir = tempfile::tempdir().unwrap();
        let cache = DirCache::open(dir.path(), u64::MAX);
        let r = record("a");
        let path = cache.path_of(&r.key);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, stored).unwrap();

        assert!(cache.get(&r.key).is_none(), "{what}: a miss");
        assert!(!path.exists(), "{what}: removed");
        assert!(cache.get(&r.key).is_none(), "{what}: still a miss");
        let warnings = cache.take_warnings();
        assert_eq!(warnings.len(), 1, "{what}: warned once: {warnings:?}");
        assert!(
            warnings[0].contains(&path.display().to_string()),
            "{warnings:?}"
        );
        assert_eq!(cache.stats().corrupt, 1);

        cache.put(&r.key, &r);
        assert_eq!(cache.get(&r.key).unwrap(), r, "{what}: rebuilt");
        assert!(cache.take_warnings().is_empty());
    }

    #[test]
    fn a_corrupt_entry_is_a_miss_told_once_and_rebuilt() {
        assert_rebuilt(b"not a record at all", "garbage");
        let valid_zstd = zstd::bulk::compress(b"\x92\x01\x02", 3).unwrap();
        assert_rebuilt(&valid_zstd, "zstd of something else");
    }

    #[test]
    fn a_truncated_entry_is_a_miss_told_once_and_rebuilt() {
        let stored = encode(&record("a"));
        assert_rebuilt(&stored[..stored.len() - 7], "cut short");
        assert_rebuilt(&[], "empty");
    }

    #[test]
    fn an_entry_under_another_key_is_a_miss() {
        assert_rebuilt(&encode(&record("b")), "another key's record");
    }

    #[test]
    fn an_unusable_directory_is_one_warning_and_no_failure() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        fs::write(&file, b"").unwrap();
        let cache = DirCache::open(&file.join("cache"), u64::MAX);
        let r = record("a");
        cache.put(&r.key, &r);
        assert!(cache.get(&r.key).is_none());
        let warnings = cache.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("cannot be created"), "{warnings:?}");
    }

    #[test]
    fn an_unwritable_entry_directory_is_one_warning() {
        let dir = tempfile::tempdir().unwrap();
        let cache = DirCache::open(dir.path(), u64::MAX);
        // A file where the records directory should be: every write fails.
        fs::write(dir.path().join("records"), b"").unwrap();
        for seed in ["a", "b"] {
            let r = record(seed);
            cache.put(&r.key, &r);
        }
        let warnings = cache.take_warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("cannot write"), "{warnings:?}");
        assert_eq!(cache.stats().errors, 2);
    }
}
