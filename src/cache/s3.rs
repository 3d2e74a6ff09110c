//! The shared tier: records as objects in an S3 bucket, so that machines sweeping one account
//! read each layer once between them.
//!
//! The client is the AWS SDK's with the standard credential chain and region (defaulting to
//! `us-east-1`); `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`) points it elsewhere, and then it
//! addresses buckets by path, which S3-compatible servers expect. The scan calls in from plain
//! worker threads, so the tier has its own small runtime.
//!
//! Objects are immutable by key: a record is only written after its layer was read, which
//! means the object was missing or unusable moments before, so a put is never preceded by a
//! check. A missing object is a miss; so is an unreadable one, told once. A request that cannot
//! reach S3 at all turns the tier off for the rest of the run, since every other request would
//! wait the same way.

use super::{CacheError, Counters, MAX_RECORD_BYTES, Warnings, decode, entry_path};
use crate::scan::{LayerRecord, RecordKey};
use aws_config::meta::region::RegionProviderChain;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Layer records in S3, below `s3://BUCKET/PREFIX`.
pub struct S3Cache {
    bucket: String,
    prefix: String,
    client: aws_sdk_s3::Client,
    /// `Some` until dropped (see [`Drop`]).
    runtime: Option<tokio::runtime::Runtime>,
    /// Set when S3 could not be reached: no more requests this run.
    off: AtomicBool,
    pub(super) counters: Counters,
    pub(super) warnings: Warnings,
}

/// `s3://BUCKET[/PREFIX]` as (bucket, prefix without slashes at either end).
fn parse_url(url: &str) -> Result<(String, String), CacheError> {
    let bad = |reason| CacheError::Url {
        url: url.to_owned(),
        reason,
    };
    let rest = url.strip_prefix("s3://").ok_or(bad("not an s3:// URL"))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(bad("no bucket"));
    }
    Ok((bucket.to_owned(), prefix.trim_matches('/').to_owned()))
}

impl S3Cache {
    /// The tier at `url` (`s3://BUCKET/PREFIX`). Nothing is requested yet: an unreachable or
    /// missing bucket shows on the first lookup, as a warning.
    pub fn open(url: &str) -> Result<S3Cache, CacheError> {
        S3Cache::build(url, |config| config)
    }

    /// [`S3Cache::open`], with the client's settings adjusted after the environment's.
    fn build(
        url: &str,
        adjust: impl FnOnce(aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder + Send,
    ) -> Result<S3Cache, CacheError> {
        let (bucket, prefix) = parse_url(url)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("layerguard-s3")
            .enable_all()
            .build()
            .map_err(CacheError::Runtime)?;
        let client = block_on(&runtime, async {
            let region = RegionProviderChain::default_provider().or_else(Region::new("us-east-1"));
            // The SDK retries throttling and 5xx; these bound a connection and a whole request
            // so that a silent endpoint costs seconds, not the scan.
            let timeouts = TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .operation_timeout(Duration::from_secs(180))
                .build();
            let sdk = aws_config::defaults(BehaviorVersion::latest())
                .region(region)
                .timeout_config(timeouts)
                .load()
                .await;
            let overridden = sdk.endpoint_url().is_some()
                || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some_and(|v| !v.is_empty());
            let config = aws_sdk_s3::config::Builder::from(&sdk).force_path_style(overridden);
            aws_sdk_s3::Client::from_conf(adjust(config).build())
        });
        Ok(S3Cache {
            bucket,
            prefix,
            client,
            runtime: Some(runtime),
            off: AtomicBool::new(false),
            counters: Counters::default(),
            warnings: Warnings::default(),
        })
    }

    /// A client for the one object at `url`, `s3://BUCKET/KEY`: its key is the prefix.
    fn for_object(url: &str) -> Result<S3Cache, CacheError> {
        let store = S3Cache::open(url)?;
        if store.prefix.is_empty() {
            return Err(CacheError::Url {
                url: url.to_owned(),
                reason: "no object key",
            });
        }
        Ok(store)
    }

    /// The whole object at `url` (`s3://BUCKET/KEY`), with the tier's client and credentials:
    /// what `sweep merge` reads shards' reports with.
    pub fn read_object(url: &str) -> Result<Vec<u8>, CacheError> {
        let store = S3Cache::for_object(url)?;
        let failed = |reason: String| CacheError::Object {
            url: url.to_owned(),
            reason,
        };
        store.run(async {
            let out = store
                .client
                .get_object()
                .bucket(&store.bucket)
                .key(&store.prefix)
                .send()
                .await
                .map_err(|e| failed(request_failure("GetObject", &e)))?;
            let body = out
                .body
                .collect()
                .await
                .map_err(|e| failed(format!("the object could not be read whole: {e}")))?;
            Ok(body.to_vec())
        })
    }

    /// Writes `bytes` as the object at `url` (`s3://BUCKET/KEY`): where a sweep's shard leaves
    /// its report for `sweep merge`.
    pub fn write_object(url: &str, bytes: Vec<u8>) -> Result<(), CacheError> {
        let store = S3Cache::for_object(url)?;
        store
            .run(
                store
                    .client
                    .put_object()
                    .bucket(&store.bucket)
                    .key(&store.prefix)
                    .body(bytes.into())
                    .send(),
            )
            .map(|_| ())
            .map_err(|e| CacheError::Object {
                url: url.to_owned(),
                reason: request_failure("PutObject", &e),
            })
    }

    fn object_key(&self, key: &RecordKey) -> String {
        match self.prefix.as_str() {
            "" => entry_path(key),
            prefix => format!("{prefix}/{}", entry_path(key)),
        }
    }

    fn location(&self) -> String {
        match self.prefix.as_str() {
            "" => format!("s3://{}", self.bucket),
            prefix => format!("s3://{}/{prefix}", self.bucket),
        }
    }

    fn run<F: Future + Send>(&self, f: F) -> F::Output
    where
        F::Output: Send,
    {
        block_on(self.runtime.as_ref().expect("dropped only once"), f)
    }

    /// Counts a failed request and says so once per operation; an S3 that cannot be reached
    /// is not asked again.
    fn failed<E: ProvideErrorMetadata + std::error::Error + 'static>(
        &self,
        op: &str,
        e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) {
        Counters::bump(&self.counters.errors);
        let unreachable = matches!(e, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_));
        let why = match e.code() {
            Some(code) => format!("{code}: {}", e.message().unwrap_or("no message")),
            None => DisplayErrorContext(e).to_string(),
        };
        if unreachable {
            self.off.store(true, Ordering::Relaxed);
            self.warnings.once(
                "unreachable",
                format!(
                    "S3 cache {}: {op} could not reach S3 ({why}); not used for the rest of this \
                     run",
                    self.location()
                ),
            );
        } else {
            self.warnings.once(
                op,
                format!(
                    "S3 cache {}: {op} failed ({why}); a miss, and the scan goes on",
                    self.location()
                ),
            );
        }
    }

    /// The record stored under `key`, with its stored bytes (for the local tier).
    pub(super) fn get(&self, key: &RecordKey) -> Option<(LayerRecord, Vec<u8>)> {
        if self.off.load(Ordering::Relaxed) {
            return None;
        }
        let object = self.object_key(key);
        let fetched = self.run(async {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&object)
                .send()
                .await?;
            if out
                .content_length()
                .is_some_and(|n| n as u64 > MAX_RECORD_BYTES)
            {
                return Ok(None);
            }
            Ok(out.body.collect().await.ok().map(|b| b.to_vec()))
        });
        let stored = match fetched {
            Ok(Some(stored)) => stored,
            Ok(None) => {
                Counters::bump(&self.counters.errors);
                self.warnings.once(
                    "body",
                    format!(
                        "S3 cache {}: object {object} could not be read whole; a miss",
                        self.location()
                    ),
                );
                return None;
            }
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => return None,
            Err(e) => {
                self.failed("GetObject", &e);
                return None;
            }
        };
        match decode(&stored, key) {
            Ok(record) => {
                Counters::bump(&self.counters.hits);
                Some((record, stored))
            }
            Err(reason) => {
                Counters::bump(&self.counters.corrupt);
                self.warnings.once(
                    &object,
                    format!(
                        "S3 cache {}: object {object} is unusable ({reason}): ignored; it is \
                         written anew once its layer is read",
                        self.location()
                    ),
                );
                None
            }
        }
    }

    /// Stores an entry as it is stored (compressed).
    pub(super) fn put_stored(&self, key: &RecordKey, stored: Vec<u8>) {
        if self.off.load(Ordering::Relaxed) {
            return;
        }
        let object = self.object_key(key);
        let put = self.run(
            self.client
                .put_object()
                .bucket(&self.bucket)
                .key(&object)
                .content_type("application/zstd")
                .body(stored.into())
                .send(),
        );
        match put {
            Ok(_) => Counters::bump(&self.counters.writes),
            Err(e) => self.failed("PutObject", &e),
        }
    }
}

/// `OPERATION failed: CODE: MESSAGE`, in AWS's words, never a credential.
fn request_failure<E, R>(operation: &str, e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match e.code() {
        Some(code) => format!(
            "{operation} failed: {code}: {}",
            e.message().unwrap_or("no message")
        ),
        None => format!("{operation} failed: {}", DisplayErrorContext(e)),
    }
}

/// Runs `f` to completion on `runtime` from sync code. Inside an async context (a caller on a
/// runtime's thread) blocking that thread is not allowed, so the wait moves to a plain thread.
fn block_on<F: Future + Send>(runtime: &tokio::runtime::Runtime, f: F) -> F::Output
where
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return runtime.block_on(f);
    }
    std::thread::scope(|s| {
        s.spawn(|| runtime.block_on(f))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

impl Drop for S3Cache {
    /// Dropping a runtime blocks until its tasks end, which panics inside an async context: the
    /// last reference to a cache may well be dropped there, so the runtime is let go instead.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_bucket_and_a_prefix() {
        let ok = |url: &str| parse_url(url).unwrap();
        assert_eq!(ok("s3://b"), ("b".into(), "".into()));
        assert_eq!(ok("s3://b/"), ("b".into(), "".into()));
        assert_eq!(
            ok("s3://b/team/layers/"),
            ("b".into(), "team/layers".into())
        );
        for bad in ["s3://", "s3:///x", "https://b/x", "b/x"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    /// A cache whose S3 refuses connections: nothing listens on the discard port.
    fn unreachable() -> S3Cache {
        S3Cache::build("s3://bucket/p", |config| {
            config
                .endpoint_url("http://127.0.0.1:9")
                .force_path_style(true)
                .credentials_provider(aws_sdk_s3::config::Credentials::new(
                    "test", "test", None, None, "test",
                ))
        })
        .unwrap()
    }

    #[test]
    fn an_unreachable_s3_is_a_miss_said_once_and_not_asked_again() {
        let cache = unreachable();
        let record = crate::cache::tests::record("a");
        assert!(cache.get(&record.key).is_none());
        cache.put_stored(&record.key, vec![1, 2, 3]);
        assert!(cache.get(&record.key).is_none());
        let warnings = cache.warnings.take();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("S3 cache s3://bucket/p: GetObject could not reach S3"),
            "{warnings:?}"
        );
        assert_eq!(cache.counters.errors.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn it_works_and_drops_inside_an_async_context() {
        let outer = tokio::runtime::Runtime::new().unwrap();
        let cache = unreachable();
        outer.block_on(async move {
            let record = crate::cache::tests::record("a");
            // On the outer runtime's thread: the request waits on a plain thread.
            assert!(cache.get(&record.key).is_none());
            assert_eq!(cache.warnings.take().len(), 1);
            drop(cache);
        });
    }
}
