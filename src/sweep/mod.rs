//! `layerguard sweep ecr`: every repository of one or more ECR registries judged by its settings,
//! and the images that matter in each scanned through the same pass as `scan`, with the work
//! shared by layer: every selected image's manifest and config are fetched first, then each
//! distinct layer (by diff_id, whatever its compression) is read once for the whole sweep.
//!
//! A sweep's report is a collection: the repositories with their `ecr-*` findings, and one
//! `scan` report per image. Shards write it as JSON Lines, and [`merge`] joins shards into the
//! report of the whole sweep.

pub mod render;
pub mod report;
pub mod sarif;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::finding::{Finding, Findings};
use crate::image::Image;
use crate::inventory::Inventory;
use crate::overlay::FileIndex;
use crate::posture::RepositoryPosture;
use crate::reference::ImageRef;
use crate::rules::ImageFacts;
use crate::scan::{self, ScanOptions};
use crate::scan::{CacheStats, LayerRecord, RecordCache, RecordKey};
use crate::source::Source;
use crate::source::ecr::{self, EcrHost, ListedImage};
use crate::source::registry::{self, Credential, Secret};
pub use report::{ImageEntry, RepositoryEntry, SweepFailure, SweepLine, SweepReport, Totals};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Repositories whose settings and images are asked for at once.
const REPOSITORIES_AT_ONCE: usize = 16;

/// Which images of a repository are scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// The most recently pushed image.
    Latest,
    /// Every image with at least one tag.
    Tagged,
    /// Every image.
    All,
}

/// One of N deterministic slices of the repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based index.
    pub index: u32,
    /// How many shards there are.
    pub count: u32,
}

impl Shard {
    /// Parses `I/N` (0 ≤ I < N).
    pub fn parse(text: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("invalid shard {text:?}: expected I/N with 0 <= I < N");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let shard = Shard {
            index: i.trim().parse().map_err(|_| bad())?,
            count: n.trim().parse().map_err(|_| bad())?,
        };
        if shard.count == 0 || shard.index >= shard.count {
            return Err(bad());
        }
        Ok(shard)
    }

    /// True when this shard covers `repository` of `registry_id`: a hash of the name, the same
    /// on every machine, so N tasks split an account with no coordination.
    pub fn covers(&self, registry_id: &str, repository: &str) -> bool {
        let digest = crate::digest::Digest::of(format!("{registry_id}/{repository}").as_bytes());
        let hex = digest.hex();
        let value = u64::from_str_radix(&hex[..16], 16).unwrap_or(0);
        value % u64::from(self.count) == u64::from(self.index)
    }
}

/// What to sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Regions to list (at least one).
    pub regions: Vec<String>,
    /// The registry (account) to list; `None` is the caller's own.
    pub registry_id: Option<String>,
    /// Repository name globs; empty means every repository.
    pub repositories: Vec<String>,
    /// Which images of each repository.
    pub images: Selection,
    /// Only images pushed this recently.
    pub pushed_since: Option<Duration>,
    /// At most this many images per repository, newest first.
    pub max_images_per_repo: Option<usize>,
    /// Images scanned together: layers shared within a batch are read once, and a record read
    /// in one batch serves the next from memory, so batches cost nothing in reads; what they
    /// bound is the memory images and their reports take, whatever the account's size.
    pub images_at_once: usize,
    /// This task's slice of the repositories.
    pub shard: Option<Shard>,
    /// Now, seconds since the epoch (injected so tests can fix it).
    pub now: i64,
}

/// How far a sweep has got, for a progress display. Layers are told of through
/// [`ScanOptions::progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SweepStep {
    /// A region's repositories were listed: this many more are to be judged.
    RepositoriesListed(usize),
    /// One more repository was judged and its images listed.
    RepositoryJudged,
    /// Every image to scan is known: this many.
    ImagesChosen(usize),
}

/// Runs a sweep, handing each repository, image and failure to `out` as soon as it is done and
/// the totals last. Errors only when nothing at all could be listed; every other failure (a
/// repository's images, an image that vanished or cannot be read) is a line.
pub fn run(
    sweep: &SweepOptions,
    options: &ScanOptions,
    progress: &(dyn Fn(SweepStep) + Sync),
    out: &mut dyn FnMut(SweepLine),
) -> Result<Totals> {
    let runtime = registry::runtime()?;
    let globs = compile_globs(&sweep.repositories)?;
    let mut totals = Totals::default();
    let mut targets: Vec<(Source, String)> = Vec::new();
    // Beside each target: the repository it was listed in and what the listing said of it.
    let mut listed: Vec<(String, ListedImage)> = Vec::new();
    let mut listed_any = false;
    let mut listing_errors = Vec::new();
    let mut options = options.clone();
    options.registry.skip_repository_checks = true;
    for region in &sweep.regions {
        let sdk = runtime.block_on(ecr::sdk_config(region));
        let lister = EcrHost {
            account: sweep.registry_id.clone().unwrap_or_default(),
            region: region.clone(),
            fips: false,
            host: String::new(),
        };
        let repositories = match runtime.block_on(ecr::list_repositories(&lister, &sdk)) {
            Ok(r) => r,
            Err(e) => {
                listing_errors.push(e.to_string());
                fail(&mut totals, out, format!("region {region}"), e.to_string());
                continue;
            }
        };
        listed_any = true;
        let mut logged_in: HashSet<String> = HashSet::new();
        let chosen_repositories: Vec<(EcrHost, ecr::ListedRepository)> = repositories
            .into_iter()
            .filter(|listed| globs.is_empty() || globs.is_match(&listed.name))
            .filter(|listed| {
                sweep
                    .shard
                    .is_none_or(|s| s.covers(&listed.registry_id, &listed.name))
            })
            .filter_map(|listed| {
                let host = EcrHost::parse(&registry_host(&listed.registry_id, region))?;
                Some((host, listed))
            })
            .collect();
        progress(SweepStep::RepositoriesListed(chosen_repositories.len()));
        // What the repositories of a registry share (its scanning configuration, the scanning
        // applied to each, their KMS keys) is asked once per registry, in batches.
        let mut by_registry: HashMap<String, (EcrHost, Vec<&ecr::ListedRepository>)> =
            HashMap::new();
        for (host, listed) in &chosen_repositories {
            by_registry
                .entry(host.host.clone())
                .or_insert_with(|| (host.clone(), Vec::new()))
                .1
                .push(listed);
        }
        let shared: HashMap<String, ecr::RegistryReads> = runtime.block_on(async {
            let reads = by_registry.values().map(|(host, listed)| {
                let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
                let keys: Vec<&str> = listed
                    .iter()
                    .filter_map(|l| ecr::customer_key(&l.description))
                    .collect();
                let sdk = &sdk;
                async move {
                    (
                        host.host.clone(),
                        ecr::read_registry(host, &names, &keys, sdk).await,
                    )
                }
            });
            futures_util::future::join_all(reads)
                .await
                .into_iter()
                .collect()
        });
        // Each repository is then two settings and its image list, calls that wait on the
        // network: several repositories at once, in listing order.
        let asked = runtime.block_on(async {
            use futures_util::StreamExt;
            futures_util::stream::iter(&chosen_repositories)
                .map(|(host, listed)| {
                    let sdk = &sdk;
                    let registry = &shared[&host.host];
                    async move {
                        let (posture, images) = tokio::join!(
                            ecr::assemble(
                                host,
                                &listed.name,
                                Ok(Some(listed.description.clone())),
                                registry,
                                sdk
                            ),
                            ecr::list_images(host, &listed.name, sdk)
                        );
                        progress(SweepStep::RepositoryJudged);
                        (host.clone(), listed.name.clone(), posture, images)
                    }
                })
                .buffered(REPOSITORIES_AT_ONCE)
                .collect::<Vec<_>>()
                .await
        });
        for (host, name, posture, images) in asked {
            let (findings, warnings) = judge_repository(&posture, &options.settings);
            totals.repositories += 1;
            out(SweepLine::Repository(RepositoryEntry {
                registry: host.host.clone(),
                name: name.clone(),
                posture,
                findings,
                warnings,
            }));
            let images = match images {
                Ok(images) => images,
                Err(e) => {
                    fail(
                        &mut totals,
                        out,
                        format!("{}/{name}", host.host),
                        e.to_string(),
                    );
                    continue;
                }
            };
            let chosen = select(images, sweep);
            if chosen.is_empty() {
                continue;
            }
            if logged_in.insert(host.host.clone())
                && !options
                    .registry
                    .logins
                    .iter()
                    .any(|(h, _)| h.eq_ignore_ascii_case(&host.host))
            {
                match runtime.block_on(ecr::login(&host, &sdk)) {
                    Ok(login) => options.registry.logins.push((
                        host.host.clone(),
                        Credential::Basic {
                            username: login.username,
                            password: Secret::new(login.password),
                        },
                    )),
                    Err(e) => fail(&mut totals, out, host.host.clone(), e.to_string()),
                }
            }
            for image in chosen {
                let reference = ImageRef {
                    registry: Some(host.host.clone()),
                    repository: Some(name.clone()),
                    tag: image.tags.first().cloned(),
                    digest: Some(image.digest.clone()),
                };
                let shown = reference.to_string();
                targets.push((Source::Registry(reference), shown));
                listed.push((format!("{}/{name}", host.host), image));
            }
        }
    }
    if !listed_any {
        return Err(Error::Source {
            image: "sweep".into(),
            reason: format!(
                "no repository could be listed: {}",
                listing_errors.join("; ")
            ),
        });
    }

    progress(SweepStep::ImagesChosen(targets.len()));
    let memo = Arc::new(Memo::new(options.cache.take()));
    options.cache = Some(memo.clone());
    let mut diff_ids = HashSet::new();
    let batch_size = sweep.images_at_once.max(1);
    for (batch, about) in targets.chunks(batch_size).zip(listed.chunks(batch_size)) {
        let (scanned, stats) = scan::read_many(batch, &options);
        totals.layers_read += stats.layers_read;
        totals.bytes_read += stats.bytes_read;
        for (((_, name), (repository, image)), result) in batch.iter().zip(about).zip(scanned) {
            let mut entry = ImageEntry {
                reference: name.clone(),
                repository: repository.clone(),
                digest: image.digest.clone(),
                tags: image.tags.clone(),
                pushed_at: image.pushed_at,
                error: None,
                report: serde_json::Value::Null,
            };
            match result {
                Ok(image) => {
                    totals.images += 1;
                    totals.layers_referenced += image.layers.len();
                    for layer in &image.layers {
                        if diff_ids.insert(layer.record.key.diff_id.clone()) {
                            totals.bytes_unique += layer.blob.size;
                        }
                    }
                    let assessed = scan::assess(&image, &options);
                    entry.report = serde_json::to_value(&assessed).unwrap_or_default();
                }
                // Deleted since the listing, unreadable, refused: the image says why, the
                // sweep goes on.
                Err(e) => {
                    totals.failures += 1;
                    entry.error = Some(e.to_string());
                }
            }
            out(SweepLine::Image(entry));
        }
    }
    totals.layers_unique = diff_ids.len();
    totals.cache_hits = memo.stored_hits();
    for warning in memo.take_warnings() {
        fail(&mut totals, out, "cache".into(), warning);
    }
    out(SweepLine::Totals(totals));
    Ok(totals)
}

/// Hands on a failure and counts it.
fn fail(totals: &mut Totals, out: &mut dyn FnMut(SweepLine), subject: String, error: String) {
    totals.failures += 1;
    out(SweepLine::Failure(SweepFailure { subject, error }));
}

/// The sweep's own record store in front of the user's cache: a record read (or fetched from the
/// cache) for one batch of images serves the later batches from memory. It holds each distinct
/// layer's record once, which is what scanning all images at once held too.
struct Memo {
    stored: Option<Arc<dyn RecordCache>>,
    records: Mutex<HashMap<RecordKey, LayerRecord>>,
    stored_hits: AtomicUsize,
}

impl Memo {
    fn new(stored: Option<Arc<dyn RecordCache>>) -> Self {
        Memo {
            stored,
            records: Mutex::new(HashMap::new()),
            stored_hits: AtomicUsize::new(0),
        }
    }

    /// Records that came from the user's cache rather than from memory or a read.
    fn stored_hits(&self) -> usize {
        self.stored_hits.load(Ordering::Relaxed)
    }

    fn records(&self) -> std::sync::MutexGuard<'_, HashMap<RecordKey, LayerRecord>> {
        self.records.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl RecordCache for Memo {
    fn get(&self, key: &RecordKey) -> Option<LayerRecord> {
        if let Some(record) = self.records().get(key) {
            return Some(record.clone());
        }
        let record = self.stored.as_ref()?.get(key)?;
        self.stored_hits.fetch_add(1, Ordering::Relaxed);
        self.records().insert(key.clone(), record.clone());
        Some(record)
    }

    fn put(&self, key: &RecordKey, record: &LayerRecord) {
        self.records().insert(key.clone(), record.clone());
        if let Some(stored) = &self.stored {
            stored.put(key, record);
        }
    }

    fn stats(&self) -> CacheStats {
        self.stored.as_ref().map(|s| s.stats()).unwrap_or_default()
    }

    fn take_warnings(&self) -> Vec<String> {
        self.stored
            .as_ref()
            .map(|s| s.take_warnings())
            .unwrap_or_default()
    }
}

/// The host an account's registry has in a region (the `.cn` partition for China regions).
fn registry_host(account: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    format!("{account}.dkr.ecr.{region}.{suffix}")
}

fn compile_globs(patterns: &[String]) -> Result<globset::GlobSet> {
    let mut builder = globset::GlobSetBuilder::new();
    for p in patterns {
        let glob = globset::GlobBuilder::new(p)
            .literal_separator(false)
            .build()
            .map_err(|e| Error::Config {
                path: "--repository".into(),
                reason: format!("{p:?}: {e}"),
            })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| Error::Config {
        path: "--repository".into(),
        reason: e.to_string(),
    })
}

/// The images of one repository the sweep scans, newest first.
fn select(mut images: Vec<ListedImage>, sweep: &SweepOptions) -> Vec<ListedImage> {
    images.sort_by(|a, b| {
        b.pushed_at
            .cmp(&a.pushed_at)
            .then_with(|| a.digest.cmp(&b.digest))
    });
    if let Some(since) = sweep.pushed_since {
        let oldest = sweep.now - since.as_secs() as i64;
        images.retain(|i| i.pushed_at.is_some_and(|t| t >= oldest));
    }
    match sweep.images {
        Selection::Latest => images.truncate(1),
        Selection::Tagged => images.retain(|i| !i.tags.is_empty()),
        Selection::All => {}
    }
    if let Some(max) = sweep.max_images_per_repo {
        images.truncate(max);
    }
    images
}

/// The repository-level rules (`ecr-*`) on a repository's settings alone, once per repository
/// rather than with every image; returns the findings and the posture's warnings.
pub fn judge_repository(
    posture: &RepositoryPosture,
    settings: &Settings,
) -> (Vec<Finding>, Vec<String>) {
    let image = Image {
        name: posture.repository.clone(),
        posture: Some(posture.clone()),
        local: false,
        ..Image::default()
    };
    let files = FileIndex::build(std::iter::empty());
    let inventory = Inventory::assemble(&[], &files);
    let facts = ImageFacts {
        image: &image,
        config: &image.config,
        layers: &[],
        files: &files,
        settings,
        inventory: &inventory,
    };
    let mut out = Findings::default();
    for rule in crate::rules::RULES {
        if rule.meta().name.starts_with("ecr-") {
            rule.check_image(&facts, &mut out);
        }
    }
    (out.into_vec(), posture.warnings.clone())
}

/// Joins shards' reports into one: repositories, images and failures side by side, totals
/// summed, and the unique layers counted again across shards (they share base layers).
pub fn merge(parts: Vec<SweepReport>) -> SweepReport {
    let mut out = SweepReport::default();
    for part in parts {
        out.totals.layers_referenced += part.totals.layers_referenced;
        out.totals.layers_read += part.totals.layers_read;
        out.totals.cache_hits += part.totals.cache_hits;
        out.totals.bytes_read += part.totals.bytes_read;
        out.repositories.extend(part.repositories);
        out.images.extend(part.images);
        out.failures.extend(part.failures);
    }
    let mut unique: HashSet<&str> = HashSet::new();
    let mut bytes_unique = 0;
    for layer in out
        .images
        .iter()
        .flat_map(|i| i.report["image"]["layers"].as_array().into_iter().flatten())
    {
        if let Some(diff_id) = layer["diff_id"].as_str()
            && unique.insert(diff_id)
        {
            bytes_unique += layer["size"]["compressed"].as_u64().unwrap_or(0);
        }
    }
    out.totals.bytes_unique = bytes_unique;
    out.totals.layers_unique = unique.len();
    out.totals.repositories = out.repositories.len();
    let not_scanned = out.images.iter().filter(|i| i.error.is_some()).count();
    out.totals.images = out.images.len() - not_scanned;
    out.totals.failures = out.failures.len() + not_scanned;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(digest: &str, tags: &[&str], pushed_at: i64) -> ListedImage {
        ListedImage {
            digest: digest.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            pushed_at: Some(pushed_at),
        }
    }

    fn options(images: Selection) -> SweepOptions {
        SweepOptions {
            regions: vec!["us-east-1".into()],
            registry_id: None,
            repositories: vec![],
            images,
            pushed_since: None,
            max_images_per_repo: None,
            images_at_once: 64,
            shard: None,
            now: 10_000,
        }
    }

    #[test]
    fn images_are_chosen_newest_first() {
        let images = vec![
            listed("sha256:a", &["1"], 100),
            listed("sha256:b", &[], 300),
            listed("sha256:c", &["2", "latest"], 200),
        ];
        let digests = |s: Vec<ListedImage>| s.into_iter().map(|i| i.digest).collect::<Vec<_>>();
        assert_eq!(
            digests(select(images.clone(), &options(Selection::Latest))),
            ["sha256:b"]
        );
        assert_eq!(
            digests(select(images.clone(), &options(Selection::Tagged))),
            ["sha256:c", "sha256:a"]
        );
        let mut o = options(Selection::All);
        o.max_images_per_repo = Some(2);
        assert_eq!(
            digests(select(images.clone(), &o)),
            ["sha256:b", "sha256:c"]
        );
        let mut o = options(Selection::All);
        o.pushed_since = Some(Duration::from_secs(10_000 - 150));
        assert_eq!(digests(select(images, &o)), ["sha256:b", "sha256:c"]);
    }

    #[test]
    fn shards_split_every_repository_exactly_once() {
        let names: Vec<String> = (0..200).map(|i| format!("team/app-{i}")).collect();
        let shards: Vec<Shard> = (0..3).map(|i| Shard { index: i, count: 3 }).collect();
        for name in &names {
            let covering = shards.iter().filter(|s| s.covers("123", name)).count();
            assert_eq!(covering, 1, "{name}");
        }
        let first = names.iter().filter(|n| shards[0].covers("123", n)).count();
        assert!((40..100).contains(&first), "roughly a third: {first}");
        assert_eq!(Shard::parse("1/4").unwrap(), Shard { index: 1, count: 4 });
        assert!(Shard::parse("4/4").is_err());
        assert!(Shard::parse("x").is_err());
    }

    #[test]
    fn china_regions_have_their_own_partition() {
        assert_eq!(
            registry_host("123456789012", "cn-north-1"),
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"
        );
    }

    #[test]
    fn a_weak_repository_is_judged_without_an_image() {
        let posture = RepositoryPosture {
            repository: "arn:aws:ecr:us-east-1:123456789012:repository/app".into(),
            mutable_tags: Some(true),
            ..Default::default()
        };
        let (findings, _) = judge_repository(&posture, &Settings::default());
        assert_eq!(
            findings.iter().map(|f| f.rule.as_ref()).collect::<Vec<_>>(),
            ["ecr-mutable-tags"]
        );
    }
}
