//! Stage 3: the scan. It opens sources, runs the layer pass over each layer blob with a sink that
//! feeds the rules' file checks and the catalogers, and keeps one [`LayerRecord`] per layer;
//! then it verifies both digests of every layer, merges the records over the final filesystem,
//! runs the image-level checks and the ignores, and produces the [`ScanReport`].
//!
//! ```text
//! Opened ─► jobs (one per distinct RecordKey) ─► layer::walk + ScanSink ─► LayerRecord
//!        ─► verify ─► FileIndex + Inventory ─► rules' image checks ─► ignores ─► ScanReport
//! ```
//!
//! The work is a queue of layer jobs keyed by [`RecordKey`]: a layer that several images (or one
//! image, twice) contain is read once. A record depends on nothing but its key, so [`assess`]
//! gives the same report from records read back from storage as from records just made. All
//! per-scan state lives here and is dropped with the scan, so scanning many images in one
//! process cannot leak state between them.

pub mod record;
mod sink;

pub use record::{CacheStats, Fingerprint, LayerRecord, RecordCache, RecordKey};

use crate::config::Settings;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::finding::{Finding, Findings, RuleMeta};
use crate::image::{Image, LayerDescriptor, Platform};
use crate::inventory::{CATALOGERS, Cataloger, Inventory};
use crate::layer::decompress::Compression;
use crate::layer::{self, Hashing, WalkError};
use crate::overlay::FileIndex;
use crate::report::{ImageSummary, LayerInfo, ScanReport, ScanWarning, Sizes, Suppressed, Tool};
use crate::rules::{ImageFacts, LayerFacts, Rule};
use crate::source::{self, BlobStore, Opened, Source};
use sink::ScanSink;
use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// What a scan needs besides the source.
#[derive(Clone)]
pub struct ScanOptions {
    /// Thresholds, allow-lists, ignores and limits.
    pub settings: Settings,
    /// The platform the user asked for: picked from an image index, and required of a
    /// single-platform image. `None` picks this host's platform from an index and takes a
    /// single-platform image as it is.
    pub platform: Option<Platform>,
    /// Layers read at once.
    pub threads: usize,
    /// Today as `YYYY-MM-DD`, for ignore expiry (injected so tests can fix it).
    pub today: String,
    /// The rules to run.
    pub rules: Vec<&'static dyn Rule>,
    /// The catalogers to run.
    pub catalogers: Vec<&'static dyn Cataloger>,
    /// Run the binary version classifiers.
    pub classify: bool,
    /// Compute each binary's SHA-256 (for SBOMs).
    pub hash_binaries: bool,
    /// Put the inventory in the report. Rules that read it get it either way.
    pub report_inventory: bool,
    /// Told of each layer read, for a progress display; called from reading threads.
    pub progress: Option<Arc<dyn Fn(LayerDone) + Send + Sync>>,
    /// Credentials, CAs, mirrors and timeouts for registry pulls.
    pub registry: crate::source::registry::RegistryOptions,
    /// Layer records kept between runs (the `cache` module has the stores); `None` reads every
    /// layer.
    pub cache: Option<Arc<dyn RecordCache>>,
}

/// One layer blob done, as progress reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayerDone {
    /// Bytes of the blob as stored.
    pub blob_bytes: u64,
    /// Bytes of its tar stream.
    pub tar_bytes: u64,
    /// Its record came from the cache: the blob was not downloaded.
    pub from_cache: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            settings: Settings::default(),
            platform: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            today: chrono::Utc::now().format("%Y-%m-%d").to_string(),
            rules: crate::rules::RULES.to_vec(),
            catalogers: CATALOGERS.to_vec(),
            classify: true,
            hash_binaries: false,
            report_inventory: true,
            progress: None,
            registry: Default::default(),
            cache: None,
        }
    }
}

impl ScanOptions {
    /// Rules only: the report lists no inventory, and only the catalogers an enabled rule reads
    /// from (the ELF cataloger for `binary-hardening`) still run.
    pub fn without_inventory(mut self) -> Self {
        let needed: Vec<&str> = self
            .rules
            .iter()
            .flat_map(|r| r.needs_catalogers().iter().copied())
            .collect();
        self.catalogers.retain(|c| needed.contains(&c.name()));
        self.classify = false;
        self.report_inventory = false;
        self
    }

    /// Where a layer's digests are computed: on a second thread when a core would otherwise be
    /// idle, never with one thread (`--threads 1` means one core).
    fn hashing(&self, core_idle: bool) -> Hashing {
        if self.threads > 1 && core_idle {
            Hashing::Threaded
        } else {
            Hashing::Inline
        }
    }

    /// Refuses ignores that name no rule of this scan: a typo would silently suppress nothing.
    pub fn check_ignores(&self) -> Result<()> {
        for ig in &self.settings.ignores {
            if !self.rules.iter().any(|r| r.meta().is_named(&ig.rule)) {
                return Err(Error::Config {
                    path: self.settings.origin.clone(),
                    reason: format!("ignore names unknown rule {:?}", ig.rule),
                });
            }
        }
        Ok(())
    }
}

/// A layer blob as the image stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its digest, when read or promised by the manifest.
    pub digest: Option<Digest>,
    /// Its size in bytes.
    pub size: u64,
}

/// One layer of a scanned image.
#[derive(Debug, Clone)]
pub struct ScannedLayer {
    /// The blob that carried it.
    pub blob: BlobInfo,
    /// What reading it produced; shared by every image that has this layer.
    pub record: Arc<LayerRecord>,
}

/// An image whose layers have all been read and verified.
#[derive(Debug, Clone)]
pub struct ScannedImage {
    /// The image as its source describes it.
    pub image: Image,
    /// Its layers, bottom first.
    pub layers: Vec<ScannedLayer>,
}

/// How much reading a batch of images took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Layer blobs downloaded (or opened) and walked.
    pub layers_read: usize,
    /// Layers whose record came from another image (or an earlier position) of the batch.
    pub layers_shared: usize,
    /// Layers whose record came from [`ScanOptions::cache`]: neither downloaded nor walked.
    pub cache_hits: usize,
    /// Bytes of the layer blobs read (as stored: compressed).
    pub bytes_read: u64,
}

impl From<ReadStats> for crate::report::LayerReads {
    fn from(s: ReadStats) -> Self {
        crate::report::LayerReads {
            layers_read: s.layers_read,
            layers_shared: s.layers_shared,
            cache_hits: s.cache_hits,
        }
    }
}

/// Scans one image. `name` is how the user named it, used in every message.
pub fn scan(source: &Source, name: &str, options: &ScanOptions) -> Result<ScanReport> {
    options.check_ignores()?;
    let (mut images, stats) = read_many(&[(source.clone(), name.to_owned())], options);
    let scanned = images.pop().expect("one result per image")?;
    let mut report = assess(&scanned, options);
    report.read = Some(stats.into());
    if let Some(cache) = &options.cache {
        report.warnings.extend(
            cache
                .take_warnings()
                .into_iter()
                .map(|message| ScanWarning {
                    location: Some("cache".into()),
                    message,
                }),
        );
        report.warnings.sort();
    }
    Ok(report)
}

/// Reads and verifies every layer of one image.
pub fn read(source: &Source, name: &str, options: &ScanOptions) -> Result<ScannedImage> {
    let (mut images, _) = read_many(&[(source.clone(), name.to_owned())], options);
    images.pop().expect("one result per image")
}

/// Reads and verifies every layer of several images, reading each distinct layer once. One
/// image's failure does not stop the others.
pub fn read_many(
    targets: &[(Source, String)],
    options: &ScanOptions,
) -> (Vec<Result<ScannedImage>>, ReadStats) {
    let fingerprint = Fingerprint::of(options);
    let mut stats = ReadStats::default();
    let mut results: Vec<Option<Result<ScannedImage>>> = Vec::new();
    let mut random: Vec<(usize, Image, Box<dyn BlobStore>)> = Vec::new();
    let platform = options.platform.clone().unwrap_or_else(Platform::host);
    // Registry images are resolved side by side: each is a few small requests that wait on
    // the network, and a sweep has hundreds.
    let mut pulled = open_registry_images(targets, &platform, options);
    for (i, (source, name)) in targets.iter().enumerate() {
        results.push(None);
        if let Some(opened) = pulled[i].take() {
            match opened.and_then(|(image, store)| {
                check_platform(&image, options)?;
                Ok((image, store))
            }) {
                Ok((image, store)) => random.push((i, image, store)),
                Err(e) => results[i] = Some(Err(e)),
            }
            continue;
        }
        match source::open(
            source,
            name,
            &platform,
            &options.settings.limits,
            &options.registry,
        ) {
            Ok(Opened::Blobs(image, store)) => match check_platform(&image, options) {
                Ok(()) => random.push((i, *image, store)),
                Err(e) => results[i] = Some(Err(e)),
            },
            Ok(Opened::Stream(stream)) => {
                let scanned = read_stream(stream, name, options, &fingerprint);
                if let Ok(s) = &scanned {
                    stats.layers_read += s.layers.len();
                }
                results[i] = Some(scanned);
            }
            Err(e) => results[i] = Some(Err(e)),
        }
    }
    for (i, result) in read_blobs(&random, options, &fingerprint, &mut stats) {
        results[i] = Some(result);
    }
    let results = results
        .into_iter()
        .map(|r| r.expect("every image is read or failed"))
        .collect();
    (results, stats)
}

/// Resolves every registry target's manifest and config, several at once; `None` for the
/// other sources, which are opened in turn.
#[allow(clippy::type_complexity)]
fn open_registry_images(
    targets: &[(Source, String)],
    platform: &Platform,
    options: &ScanOptions,
) -> Vec<Option<Result<(Image, Box<dyn BlobStore>)>>> {
    const AT_ONCE: usize = 8;
    let wanted: Vec<usize> = (0..targets.len())
        .filter(|&i| matches!(targets[i].0, Source::Registry(_)))
        .collect();
    let mut out: Vec<Option<Result<(Image, Box<dyn BlobStore>)>>> =
        (0..targets.len()).map(|_| None).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE.min(wanted.len()) {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = wanted.get(n) else { break };
                    let (Source::Registry(reference), name) = &targets[i] else {
                        continue;
                    };
                    let opened = source::registry::open(
                        reference,
                        name,
                        platform,
                        &options.settings.limits,
                        &options.registry,
                    );
                    done.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push((i, opened));
                }
            });
        }
    });
    for (i, opened) in done.into_inner().unwrap_or_else(|p| p.into_inner()) {
        out[i] = Some(opened);
    }
    out
}

/// An explicit `--platform` holds for single-platform images too: scanning the amd64 image when
/// arm64 was asked for would pass a gate for an image that is not the one deployed.
fn check_platform(image: &Image, options: &ScanOptions) -> Result<()> {
    let Some(wanted) = &options.platform else {
        return Ok(());
    };
    let c = &image.config;
    if wanted.matches(&c.os, &c.architecture, c.variant.as_deref()) {
        return Ok(());
    }
    Err(Error::Platform {
        image: image.name.clone(),
        wanted: wanted.to_string(),
        available: image.platform(),
    })
}

/// Maps a layer-pass error to the crate's error, naming the image and layer: the one place
/// this translation happens.
fn layer_error(image: &str, index: usize, location: &str, e: WalkError) -> Error {
    if e.limit {
        Error::Limit {
            image: image.to_owned(),
            layer: index,
            reason: match e.path {
                Some(p) => format!("{p}: {}", e.reason),
                None => e.reason,
            },
        }
    } else {
        Error::Layer {
            image: image.to_owned(),
            layer: index,
            digest: location.to_owned(),
            path: e.path,
            reason: e.reason,
        }
    }
}

/// Runs the layer pass over one blob and makes its record.
fn make_record(
    blob: &mut dyn Read,
    declared: Option<Compression>,
    options: &ScanOptions,
    fingerprint: &Fingerprint,
    hashing: Hashing,
) -> std::result::Result<(layer::BlobFacts, LayerRecord), WalkError> {
    let mut sink = ScanSink::new(options);
    let limits = &options.settings.limits;
    let (facts, content) = layer::walk_with(blob, declared, limits, &mut sink, hashing)?;
    if let Some(progress) = &options.progress {
        progress(LayerDone {
            blob_bytes: facts.size,
            tar_bytes: content.tar_size,
            from_cache: false,
        });
    }
    let diff_id = content.diff_id.clone().expect("the walk sets the diff_id");
    let record = LayerRecord {
        key: fingerprint.key(diff_id),
        content,
        findings: sink.findings.into_vec(),
        inventory: sink.inventory,
        warnings: sink.warnings,
    };
    Ok((facts, record))
}

/// The config's diff_ids, checked against the manifest's layer count.
fn diff_ids(image: &Image) -> Result<Vec<Digest>> {
    let ids = &image.config.rootfs.diff_ids;
    if ids.len() != image.layers.len() {
        return Err(source::source_error(
            &image.name,
            format!(
                "the manifest lists {} layers but the config's rootfs.diff_ids lists {}",
                image.layers.len(),
                ids.len()
            ),
        ));
    }
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            id.parse().map_err(|e| {
                source::source_error(&image.name, format!("rootfs.diff_ids[{i}]: {e}"))
            })
        })
        .collect()
}

/// Checks what was read against what the image promised: nothing from a layer is reported
/// unless its blob digest matches the manifest and its diff_id matches the config.
fn verify(
    image: &Image,
    index: usize,
    expected_diff_id: &Digest,
    read: &layer::BlobFacts,
    record: &LayerRecord,
) -> Result<()> {
    let mismatch = |what, expected: Digest, actual: Digest| Error::DigestMismatch {
        image: image.name.clone(),
        layer: index,
        what,
        expected,
        actual,
    };
    if let Some(expected) = &image.layers[index].digest
        && &read.digest != expected
    {
        return Err(mismatch(
            "compressed",
            expected.clone(),
            read.digest.clone(),
        ));
    }
    if &record.key.diff_id != expected_diff_id {
        return Err(mismatch(
            "uncompressed",
            expected_diff_id.clone(),
            record.key.diff_id.clone(),
        ));
    }
    Ok(())
}

/// A finished (or skipped) job: the blob read and its record, or why not.
type JobOutcome = std::result::Result<(layer::BlobFacts, Arc<LayerRecord>), Option<Error>>;

struct Job {
    /// Which of the random-access images, and which of its layers.
    image: usize,
    layer: usize,
    key: RecordKey,
}

/// A layer's record from the cache, with the blob facts its descriptor states: a hit is not
/// read, so only layers whose blob the image describes are looked up. The record is as
/// trustworthy as a fresh one: its key holds the diff_id the verified config promises.
fn cached(
    options: &ScanOptions,
    desc: &LayerDescriptor,
    declared: Option<Compression>,
    key: &RecordKey,
) -> Option<(layer::BlobFacts, LayerRecord)> {
    let cache = options.cache.as_ref()?;
    let digest = desc.digest.clone()?;
    // An uncompressed blob named by its content (`docker save` since Docker 25) is its own tar
    // stream, so its size is the record's; any other blob needs the size the manifest states.
    if desc.size.is_none() && digest != key.diff_id {
        return None;
    }
    // Whatever the implementation, a record made under another key is no answer for this one.
    let record = cache.get(key).filter(|r| &r.key == key)?;
    let facts = layer::BlobFacts {
        digest,
        size: desc.size.unwrap_or(record.content.tar_size),
        compression: declared.unwrap_or(Compression::None),
    };
    Some((facts, record))
}

/// Reads the layers of random-access images through one queue of jobs, one job per distinct
/// record key, `threads` at a time.
fn read_blobs(
    images: &[(usize, Image, Box<dyn BlobStore>)],
    options: &ScanOptions,
    fingerprint: &Fingerprint,
    stats: &mut ReadStats,
) -> Vec<(usize, Result<ScannedImage>)> {
    let mut out = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    let mut job_of: HashMap<RecordKey, usize> = HashMap::new();
    // Per image: its diff_ids, or the error that stops it before any layer is read.
    let mut plans: Vec<Result<Vec<RecordKey>>> = Vec::new();
    for (n, (_, image, _)) in images.iter().enumerate() {
        let plan = diff_ids(image).map(|ids| {
            ids.into_iter()
                .enumerate()
                .map(|(layer, diff_id)| {
                    let key = fingerprint.key(diff_id);
                    job_of.entry(key.clone()).or_insert_with(|| {
                        jobs.push(Job {
                            image: n,
                            layer,
                            key: key.clone(),
                        });
                        jobs.len() - 1
                    });
                    key
                })
                .collect()
        });
        plans.push(plan);
    }
    let single = images.len() == 1;
    let idle_core = idle_core_during(
        &jobs
            .iter()
            .map(|job| {
                let (_, image, store) = &images[job.image];
                store.size_hint(&image.layers[job.layer])
            })
            .collect::<Vec<_>>(),
        options.threads,
    );
    let done = run_jobs(&jobs, options.threads, single, |job, i| {
        let (_, image, store) = &images[job.image];
        let desc = &image.layers[job.layer];
        let location = desc
            .digest
            .as_ref()
            .map_or_else(|| desc.location.clone(), ToString::to_string);
        let location = location.as_str();
        let declared =
            Compression::from_media_type(desc.media_type.as_deref()).map_err(|reason| {
                layer_error(
                    &image.name,
                    job.layer,
                    location,
                    WalkError {
                        path: None,
                        reason,
                        limit: false,
                    },
                )
            })?;
        if let Some((facts, record)) = cached(options, desc, declared, &job.key) {
            if let Some(progress) = &options.progress {
                progress(LayerDone {
                    blob_bytes: facts.size,
                    tar_bytes: record.content.tar_size,
                    from_cache: true,
                });
            }
            return Ok((facts, record, true));
        }
        let mut blob = store.open(desc)?;
        let hashing = options.hashing(idle_core[i]);
        let (facts, record) = make_record(&mut blob, declared, options, fingerprint, hashing)
            .map_err(|e| layer_error(&image.name, job.layer, location, e))?;
        // Under the diff_id read, not the one promised: the record is true to its key even when
        // the image lied, and verify below fails the image.
        if let Some(cache) = &options.cache {
            cache.put(&record.key, &record);
        }
        Ok((facts, record, false))
    });
    let hits = done
        .iter()
        .filter(|r| matches!(r, Some(Ok((_, _, true)))))
        .count();
    stats.bytes_read += done
        .iter()
        .filter_map(|r| match r {
            Some(Ok((facts, _, false))) => Some(facts.size),
            _ => None,
        })
        .sum::<u64>();
    // `Err(None)`: never run, because another job of the one image failed first.
    let mut done: Vec<JobOutcome> = done
        .into_iter()
        .map(|r| match r {
            Some(r) => r
                .map(|(facts, record, _)| (facts, Arc::new(record)))
                .map_err(Some),
            None => Err(None),
        })
        .collect();
    stats.cache_hits += hits;
    stats.layers_read += done.iter().filter(|r| r.is_ok()).count() - hits;
    // A failed job fails every image that has the layer: the first (which made the job) gets the
    // error itself, the others its text.
    let mut failures: HashMap<usize, String> = HashMap::new();
    for (n, ((slot, image, _), plan)) in images.iter().zip(plans).enumerate() {
        let result = plan.and_then(|keys| {
            let mut layers = Vec::with_capacity(keys.len());
            for (i, key) in keys.iter().enumerate() {
                let j = job_of[key];
                let location = &image.layers[i].location;
                let (facts, record) = match &mut done[j] {
                    Ok(ok) => &*ok,
                    Err(e) => {
                        let reason = match e.take() {
                            Some(e) => {
                                failures.insert(j, e.to_string());
                                return Err(e);
                            }
                            None => failures
                                .get(&j)
                                .cloned()
                                .unwrap_or_else(|| "not read because another layer failed".into()),
                        };
                        return Err(Error::Layer {
                            image: image.name.clone(),
                            layer: i,
                            digest: location.clone(),
                            path: None,
                            reason,
                        });
                    }
                };
                let own = jobs[j].image == n && jobs[j].layer == i;
                if own {
                    verify(image, i, &key.diff_id, facts, record)?;
                } else {
                    stats.layers_shared += 1;
                }
                let desc = &image.layers[i];
                let blob = if own {
                    BlobInfo {
                        digest: Some(facts.digest.clone()),
                        size: facts.size,
                    }
                } else {
                    // Another blob with the same content was read; this image's own blob is
                    // described by its manifest.
                    BlobInfo {
                        digest: desc.digest.clone().or_else(|| Some(facts.digest.clone())),
                        size: desc.size.unwrap_or(facts.size),
                    }
                };
                layers.push(ScannedLayer {
                    blob,
                    record: record.clone(),
                });
            }
            Ok(ScannedImage {
                image: image.clone(),
                layers,
            })
        });
        out.push((*slot, result));
    }
    out
}

/// For each job of a queue taken in order by `threads` threads, whether a core will go idle
/// while it runs: when fewer jobs are left than threads, or when the bytes of the jobs after it
/// are too few to keep the other threads busy that long. A `docker save` of three big layers
/// on two cores is the second case: the third layer would otherwise run alone on one core.
/// Without every size, only the count says.
fn idle_core_during(sizes: &[Option<u64>], threads: usize) -> Vec<bool> {
    let n = sizes.len();
    let others = threads.saturating_sub(1) as u64;
    let mut after: Option<u64> = Some(0);
    let mut idle = vec![false; n];
    for i in (0..n).rev() {
        let by_bytes = match (sizes[i], after) {
            (Some(size), Some(after)) => after < size.saturating_mul(others),
            _ => false,
        };
        idle[i] = n - i < threads || by_bytes;
        after = after.zip(sizes[i]).map(|(a, s)| a + s);
    }
    idle
}

/// Runs `work` over `jobs` on up to `threads` threads and returns the results in job order;
/// `work` also learns the index of the job it is given. With
/// `stop_on_error`, the first failure stops handing out work (the one image is failing anyway)
/// and the jobs never started are `None`.
fn run_jobs<J: Sync, T: Send>(
    jobs: &[J],
    threads: usize,
    stop_on_error: bool,
    work: impl Fn(&J, usize) -> Result<T> + Sync,
) -> Vec<Option<Result<T>>> {
    let n = jobs.len();
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<T>>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let worker = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            let result = work(&jobs[i], i);
            let failed = result.is_err();
            *slots[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
            if failed && stop_on_error {
                next.store(n, Ordering::Relaxed);
            }
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads.clamp(1, n.max(1)) {
            s.spawn(worker);
        }
        worker();
    });
    slots
        .into_iter()
        .map(|slot| slot.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// Reads a single-stream source: each layer member is read as it passes, and put in order once
/// the stream's documents say which member is which layer. No cache here: which layer a member
/// is, and so its key, may be known only once the stream has passed it.
fn read_stream(
    mut stream: Box<dyn source::LayerStream>,
    name: &str,
    options: &ScanOptions,
    fingerprint: &Fingerprint,
) -> Result<ScannedImage> {
    let mut read: HashMap<String, (layer::BlobFacts, Arc<LayerRecord>)> = HashMap::new();
    let mut failed: Option<(String, WalkError)> = None;
    let streamed = stream.for_each_layer(&mut |member, blob| {
        // A single stream is read one layer at a time, so a second core is free.
        let hashing = options.hashing(true);
        match make_record(blob, None, options, fingerprint, hashing) {
            Ok((facts, record)) => {
                read.insert(member.to_owned(), (facts, Arc::new(record)));
                Ok(())
            }
            Err(e) => {
                failed = Some((member.to_owned(), e));
                // Stops the stream; the error is built below, once it is known which layer failed.
                Err(source::source_error(name, ""))
            }
        }
    });
    if let Some((member, e)) = failed {
        // Layers arrive in archive order, not image order: only the documents tell which layer
        // this was, and Docker writes them last, so say which member when they are not known.
        let index = stream.layer_index(&member);
        return Err(match index {
            Some(i) => layer_error(name, i, &member, e),
            None => Error::StreamLayer {
                image: name.to_owned(),
                member,
                path: e.path,
                reason: e.reason,
            },
        });
    }
    streamed?;
    let image = stream.image()?;
    check_platform(&image, options)?;
    let ids = diff_ids(&image)?;
    let mut layers = Vec::with_capacity(image.layers.len());
    for (i, desc) in image.layers.iter().enumerate() {
        let Some((facts, record)) = read.get(&desc.location) else {
            return Err(Error::Layer {
                image: name.to_owned(),
                layer: i,
                digest: desc.location.clone(),
                path: None,
                reason: "manifest.json names a layer the archive does not contain".into(),
            });
        };
        verify(&image, i, &ids[i], facts, record)?;
        layers.push(ScannedLayer {
            blob: BlobInfo {
                digest: Some(facts.digest.clone()),
                size: facts.size,
            },
            record: record.clone(),
        });
    }
    Ok(ScannedImage { image, layers })
}

/// Merges a scanned image's records and runs the image-level checks. Separate from [`read`] so
/// records from any origin (a cache, another process) are assessed the same way.
pub fn assess(scanned: &ScannedImage, options: &ScanOptions) -> ScanReport {
    let image = &scanned.image;
    let layers = &scanned.layers;
    let files = FileIndex::build(layers.iter().map(|l| &l.record.content));
    let inventories: Vec<_> = layers.iter().map(|l| &l.record.inventory).collect();
    let inventory = Inventory::assemble(&inventories, &files);
    let mut findings: Vec<Finding> = Vec::new();
    let mut warnings: Vec<ScanWarning> = Vec::new();
    for (i, layer) in layers.iter().enumerate() {
        for f in &layer.record.findings {
            let mut f = f.clone();
            f.location.layer = Some(i);
            if let Some(path) = &f.location.path {
                f.location.removed_in_layer = files.removed_in(path, i);
            }
            findings.push(f);
        }
        warnings.extend(layer.record.warnings.iter().map(|w| ScanWarning {
            location: Some(format!("layer {i}")),
            message: w.clone(),
        }));
    }
    if let Some(posture) = &image.posture {
        warnings.extend(posture.warnings.iter().map(|w| ScanWarning {
            location: Some(posture.repository.clone()),
            message: w.clone(),
        }));
    }
    let limits = &options.settings.limits;
    for (i, layer) in layers.iter().enumerate() {
        let (tar, blob) = (layer.record.content.tar_size, layer.blob.size.max(1));
        if tar > limits.ratio_check_after && tar / blob > limits.max_ratio {
            warnings.push(ScanWarning {
                location: Some(format!("layer {i}")),
                message: format!(
                    "decompresses {}:1 ({} from {}); read to the end, as every layer is, but \
                     such ratios are rare outside zero-filled files and decompression bombs",
                    tar / blob,
                    crate::text::human_size(tar),
                    crate::text::human_size(layer.blob.size)
                ),
            });
        }
    }
    let layer_facts: Vec<LayerFacts<'_>> = layers
        .iter()
        .map(|l| LayerFacts {
            tar_size: l.record.content.tar_size,
            content_size: l.record.content.content_size,
            escapes: &l.record.content.escapes,
        })
        .collect();
    let facts = ImageFacts {
        image,
        config: &image.config,
        layers: &layer_facts,
        files: &files,
        settings: &options.settings,
        inventory: &inventory,
    };
    let mut out = Findings::default();
    for rule in &options.rules {
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
            digest: l.blob.digest.clone(),
            diff_id: Some(l.record.key.diff_id.clone()),
            size: Sizes {
                compressed: l.blob.size,
                uncompressed: l.record.content.tar_size,
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
    let rules: Vec<&'static RuleMeta> = options.rules.iter().map(|r| r.meta()).collect();
    ScanReport {
        schema_version: crate::report::SCHEMA_VERSION,
        tool: Tool::default(),
        image: ImageSummary {
            reference,
            image_ref: image.reference.clone(),
            source: image.name.clone(),
            digest: image.manifest_digest.clone(),
            config_digest: image.config_digest.clone(),
            platform: image.platform(),
            size: Sizes {
                compressed: layers.iter().map(|l| l.blob.size).sum(),
                uncompressed: layers.iter().map(|l| l.record.content.tar_size).sum(),
            },
            layers: layer_infos,
            files: files.len(),
        },
        rules,
        findings: kept,
        inventory: if options.report_inventory {
            inventory
        } else {
            Inventory::default()
        },
        suppressed,
        warnings,
        read: None,
    }
}

/// The record of one layer tar, for tests across the crate.
#[cfg(test)]
pub(crate) fn record_of(tar: &[u8], options: &ScanOptions) -> LayerRecord {
    let fp = Fingerprint::of(options);
    make_record(&mut &tar[..], None, options, &fp, Hashing::Inline)
        .unwrap()
        .1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    fn layer(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let files: Vec<_> = entries.iter().map(|(p, d)| (*p, *d, 0o644)).collect();
        crate::layer::tar_of(&files)
    }

    use record_of as record;

    const STATUS: &[u8] = b"Package: a\nStatus: install ok installed\nVersion: 1\n";

    #[test]
    fn a_core_goes_idle_when_too_few_bytes_are_left_for_the_others() {
        let mb = |n: u64| Some(n << 20);
        // The bench image's `docker save`: three big layers, then a small one, two threads. The
        // third big layer starts when the second thread is nearly done with the first.
        assert_eq!(
            idle_core_during(&[mb(745), mb(575), mb(794), Some(61_440)], 2),
            [false, false, true, true]
        );
        // Equal layers keep both cores busy up to the last one.
        assert_eq!(
            idle_core_during(&[mb(100); 5], 2),
            [false, false, false, false, true]
        );
        // Without every size, only the count of jobs left says.
        assert_eq!(
            idle_core_during(&[mb(900), None, mb(10)], 2),
            [false, false, true]
        );
        // One thread never has a core to spare.
        assert_eq!(idle_core_during(&[mb(1), mb(9)], 1), [false, false]);
    }

    #[test]
    fn databases_are_read_past_max_file_bytes_but_not_past_max_database_bytes() {
        let mut options = ScanOptions::default();
        options.settings.limits = Limits {
            max_file_bytes: 8,
            max_database_bytes: 64,
            ..Limits::default()
        };
        let s = record(&layer(&[("var/lib/dpkg/status", STATUS)]), &options);
        assert_eq!(s.inventory.databases["/var/lib/dpkg/status"].len(), 1);
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);

        let big = [STATUS, &[b'\n'; 64][..]].concat();
        let s = record(&layer(&[("var/lib/dpkg/status", &big)]), &options);
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
        let layers: Vec<LayerRecord> = [
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
        .map(|t| record(t, &options))
        .collect();
        let files = FileIndex::build(layers.iter().map(|l| &l.content));
        let inventories: Vec<_> = layers.iter().map(|l| &l.inventory).collect();
        let inv = Inventory::assemble(&inventories, &files);
        assert_eq!(inv.os.as_ref().unwrap().id, "debian");
        assert_eq!(inv.packages.len(), 1, "{:?}", inv.packages);
        let p = &inv.packages[0];
        assert_eq!(p.record.name, "b");
        assert_eq!(p.purl, "pkg:deb/debian/b@2%2Bx?arch=amd64&distro=debian-12");
        assert_eq!(p.locations[0].layer, 1);
    }

    #[test]
    fn an_ignore_must_name_a_rule_that_runs() {
        let text = "[[ignore]]\nrule = \"nope\"\nreason = \"x\"\n";
        let options = ScanOptions {
            settings: Settings::from_toml(text, "layerguard.toml").unwrap(),
            ..ScanOptions::default()
        };
        let err = options.check_ignores().unwrap_err().to_string();
        assert_eq!(
            err,
            "config layerguard.toml: ignore names unknown rule \"nope\""
        );
        let text = "[[ignore]]\nrule = \"LG001\"\nreason = \"x\"\n";
        let mut options = ScanOptions {
            settings: Settings::from_toml(text, "t").unwrap(),
            ..ScanOptions::default()
        };
        assert!(options.check_ignores().is_ok());
        options.rules.retain(|r| r.meta().code != "LG001");
        assert!(options.check_ignores().is_err(), "the rule does not run");
    }

    #[test]
    fn without_inventory_keeps_the_catalogers_enabled_rules_read() {
        let options = ScanOptions::default().without_inventory();
        let names: Vec<&str> = options.catalogers.iter().map(|c| c.name()).collect();
        assert_eq!(names, ["elf"]);
        assert!(!options.classify && !options.report_inventory);
    }
}
