//! Images in an OCI distribution registry (Docker Hub, ECR, any v2 registry), pulled without a
//! daemon and without temp files: the manifest module resolves index → platform → manifest →
//! config over `/manifests/` and `/blobs/`, and each layer blob is one HTTP GET whose body
//! streams into the layer pass, several at once (as many as the scan reads in parallel).
//!
//! A body cut short is resumed with `Range` where the registry allows it, so a dropped
//! connection costs a retry, not the layer; the layer pass checks the blob's digest as the bytes
//! arrive, whatever path they took.

pub mod auth;
mod client;

use super::manifest::{self, Fetch};
use super::store::BlobStore;
use super::{LayerDescriptor, Platform, source_error};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::limits::Limits;
use crate::reference::{DOCKER_HUB, ImageRef};
pub use auth::{Credential, Secret};
use client::Client;
use oci_spec::image::{Descriptor, DescriptorBuilder, MediaType};
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to reach registries: what the command line and the environment say.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// A login given on the command line; it wins over every other source of credentials.
    pub credential: Option<Credential>,
    /// Logins for particular registry hosts (a sweep logs in to each registry once).
    pub logins: Vec<(String, Credential)>,
    /// Extra CA certificates (path, PEM bytes) trusted beside the system's.
    pub ca_certs: Vec<(PathBuf, Vec<u8>)>,
    /// Hosts (`host[:port]`) that may be spoken to over plain HTTP.
    pub insecure: Vec<String>,
    /// Registry host → base URL to use instead (pull-through caches, tests).
    pub mirrors: Vec<(String, String)>,
    /// How long a connection or a body may stall before it is retried.
    pub timeout: Option<Duration>,
    /// Do not ask the registry for the repository's settings (a sweep judges each repository
    /// once, not with every image).
    pub skip_repository_checks: bool,
}

/// The runtime every registry request runs on, one per process however many images it pulls:
/// a few threads of network I/O, the layer pass runs on the scan's own threads. It lives as
/// long as the process, so no task can outlive it.
pub fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    if let Some(r) = RUNTIME.get() {
        return Ok(r);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("registry")
        .enable_all()
        .build()
        .map_err(|e| Error::io("the registry client's runtime", e))?;
    Ok(RUNTIME.get_or_init(|| built))
}

/// Media types asked for, most specific first; schema 1 is asked for only to say it is not
/// supported rather than to get a 404.
const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json;q=0.9, \
    application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1, \
    application/vnd.docker.distribution.manifest.v1+json;q=0.1";

/// True for `localhost`, `127.0.0.0/8` and `::1`, with or without a port: Docker speaks plain
/// HTTP to them without being told.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        }),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A reference with Docker's defaults filled in: registry `docker.io`, `library/` for official
/// images, tag `latest` when neither tag nor digest is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The registry host as named (`docker.io` for Docker Hub).
    pub registry: String,
    /// The repository path on that registry.
    pub repository: String,
    /// The tag, if any.
    pub tag: Option<String>,
    /// The pinned digest, if any.
    pub digest: Option<Digest>,
}

impl Target {
    /// Fills in Docker's defaults.
    pub fn of(reference: &ImageRef) -> Result<Target> {
        let registry = reference.registry_or_hub().unwrap_or(DOCKER_HUB).to_owned();
        let mut repository = reference.repository.clone().unwrap_or_default();
        if registry == DOCKER_HUB && !repository.contains('/') {
            repository = format!("library/{repository}");
        }
        let digest = reference
            .digest
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|e: crate::digest::ParseDigest| Error::Reference {
                input: reference.to_string(),
                reason: e.to_string(),
            })?;
        let tag = match (&reference.tag, &digest) {
            (None, None) => Some("latest".to_owned()),
            (t, _) => t.clone(),
        };
        Ok(Target {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The reference as reports show it (Docker Hub's short form).
    pub fn image_ref(&self) -> ImageRef {
        ImageRef {
            registry: Some(self.registry.clone()),
            repository: Some(self.repository.clone()),
            tag: self.tag.clone(),
            digest: self.digest.as_ref().map(Digest::to_string),
        }
        .familiar()
    }

    fn error(&self, failure: impl std::fmt::Display) -> Error {
        Error::Registry {
            registry: self.registry.clone(),
            repository: self.repository.clone(),
            reason: failure.to_string(),
        }
    }
}

/// Resolves `reference` on its registry to the image for `platform`, and a store whose `open`
/// streams a layer blob.
pub fn open(
    reference: &ImageRef,
    name: &str,
    platform: &Platform,
    limits: &Limits,
    options: &RegistryOptions,
) -> Result<(Image, Box<dyn BlobStore>)> {
    let target = Target::of(reference)?;
    let runtime = runtime()?;
    let ecr = super::ecr::EcrHost::parse(&target.registry);
    let (credential, posture) = runtime.block_on(async {
        // A login given (a sweep logs in once per registry) and no posture wanted: no AWS call.
        let logged_in = options.credential.is_some()
            || options
                .logins
                .iter()
                .any(|(host, _)| host.eq_ignore_ascii_case(&target.registry));
        let needs_sdk = !logged_in || !options.skip_repository_checks;
        let sdk = match &ecr {
            Some(host) if needs_sdk => Some(super::ecr::sdk_config(&host.region).await),
            _ => None,
        };
        let given = options.credential.clone().or_else(|| {
            options
                .logins
                .iter()
                .find(|(host, _)| host.eq_ignore_ascii_case(&target.registry))
                .map(|(_, c)| c.clone())
        });
        let credential = match (&given, &ecr, &sdk) {
            (Some(c), _, _) => Some(c.clone()),
            (None, Some(host), Some(sdk)) => {
                let login = super::ecr::login(host, sdk).await?;
                Some(Credential::Basic {
                    username: login.username,
                    password: Secret::new(login.password),
                })
            }
            _ => auth::from_docker_config(&target.registry).map_err(|e| target.error(e))?,
        };
        let posture = match (&ecr, &sdk) {
            (Some(host), Some(sdk)) if !options.skip_repository_checks => {
                Some(super::ecr::posture(host, &target.repository, sdk).await)
            }
            _ => None,
        };
        Ok::<_, Error>((credential, posture))
    })?;
    let client = runtime
        .block_on(Client::connect(
            &target.registry,
            &target.repository,
            credential,
            options,
        ))
        .map_err(|f| target.error(f))?;
    let blobs = RegistryBlobs {
        runtime,
        shared: Arc::new(Shared {
            client,
            target: target.clone(),
            documents: Mutex::new(HashMap::new()),
        }),
    };
    let (top, top_digest) = blobs.top_manifest(limits)?;
    let resolved = manifest::resolve(&blobs, &top, platform, name, limits)?;
    let repo_digest = {
        let mut pinned = target.image_ref();
        pinned.tag = None;
        pinned.digest = Some(top_digest.to_string());
        pinned.to_string()
    };
    let image = Image {
        name: name.to_owned(),
        reference: Some(target.image_ref()),
        manifest_digest: Some(resolved.manifest_digest),
        repo_digest: Some(repo_digest),
        config_digest: Some(resolved.config_digest),
        config: resolved.config,
        annotations: resolved.annotations,
        layers: resolved.layers,
        local: false,
        posture,
    };
    Ok((image, Box::new(blobs)))
}

/// What the download tasks share.
struct Shared {
    client: Client,
    target: Target,
    /// Manifests already fetched, by digest: the top manifest is fetched by tag and then asked
    /// for again by digest.
    documents: Mutex<HashMap<Digest, Vec<u8>>>,
}

/// One repository's blobs and manifests.
struct RegistryBlobs {
    runtime: &'static tokio::runtime::Runtime,
    shared: Arc<Shared>,
}

impl RegistryBlobs {
    /// Fetches what the reference names, checks it against a pinned digest and makes the
    /// descriptor resolution starts from.
    fn top_manifest(&self, limits: &Limits) -> Result<(Descriptor, Digest)> {
        let s = &self.shared;
        let target = &s.target;
        let reference = match (&target.digest, &target.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        };
        let (bytes, content_type) = self
            .runtime
            .block_on(s.client.get_small(
                "manifests",
                &reference,
                Some(ACCEPT_MANIFESTS),
                limits.max_json_bytes,
            ))
            .map_err(|f| target.error(f))?;
        let digest = Digest::of(&bytes);
        if let Some(pinned) = &target.digest
            && pinned != &digest
        {
            return Err(target.error(format!(
                "the manifest for {pinned} hashes to {digest}: digest mismatch"
            )));
        }
        let media_type = media_type_of(&bytes, content_type.as_deref())
            .map_err(|reason| target.error(format!("manifests/{reference}: {reason}")))?;
        let descriptor = DescriptorBuilder::default()
            .media_type(MediaType::from(media_type.as_str()))
            .digest(
                digest
                    .to_string()
                    .parse::<oci_spec::image::Digest>()
                    .map_err(|e| source_error(&target.repository, e.to_string()))?,
            )
            .size(bytes.len() as u64)
            .build()
            .map_err(|e| source_error(&target.repository, e.to_string()))?;
        s.documents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(digest.clone(), bytes);
        Ok((descriptor, digest))
    }

    fn fetch_small(&self, kind: &str, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        let s = &self.shared;
        if let Some(bytes) = s
            .documents
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
        {
            return Ok(bytes.clone());
        }
        let accept = (kind == "manifests").then_some(ACCEPT_MANIFESTS);
        self.runtime
            .block_on(s.client.get_small(kind, &digest.to_string(), accept, max))
            .map(|(bytes, _)| bytes)
            .map_err(|f| s.target.error(f))
    }
}

/// The manifest's media type: the `mediaType` field when it has one, else the response's
/// `Content-Type`, else its shape. Schema 1 is refused here, with the way out.
fn media_type_of(bytes: &[u8], content_type: Option<&str>) -> std::result::Result<String, String> {
    #[derive(serde::Deserialize)]
    struct Shape {
        #[serde(rename = "schemaVersion")]
        schema_version: Option<u32>,
        #[serde(rename = "mediaType")]
        media_type: Option<String>,
        manifests: Option<serde_json::Value>,
        layers: Option<serde_json::Value>,
    }
    let shape: Shape =
        serde_json::from_slice(bytes).map_err(|e| format!("the manifest is not JSON ({e})"))?;
    let schema1 = shape.schema_version == Some(1)
        || content_type
            .is_some_and(|t| t.starts_with("application/vnd.docker.distribution.manifest.v1+"));
    if schema1 {
        return Err(
            "this is a Docker schema 1 manifest, which is deprecated and not supported; \
                    push the image again with a current Docker or skopeo"
                .into(),
        );
    }
    if let Some(t) = shape.media_type {
        return Ok(t);
    }
    if let Some(t) = content_type.filter(|t| t.starts_with("application/vnd.")) {
        return Ok(t.to_owned());
    }
    Ok(if shape.manifests.is_some() {
        "application/vnd.oci.image.index.v1+json".into()
    } else if shape.layers.is_some() {
        "application/vnd.oci.image.manifest.v1+json".into()
    } else {
        return Err("the document is neither an image manifest nor an index".into());
    })
}

impl Fetch for RegistryBlobs {
    fn manifest(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        self.fetch_small("manifests", digest, max)
    }

    fn blob(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        self.fetch_small("blobs", digest, max)
    }

    fn describe(&self, digest: &Digest) -> String {
        digest.to_string()
    }
}

impl BlobStore for RegistryBlobs {
    fn open(&self, layer: &LayerDescriptor) -> Result<Box<dyn Read + Send + '_>> {
        let Some(digest) = layer.digest.clone() else {
            return Err(self
                .shared
                .target
                .error(format!("layer {} has no digest", layer.location)));
        };
        let (tx, reader) = super::bridge::channel();
        let shared = Arc::clone(&self.shared);
        self.runtime.spawn(async move {
            stream_blob(&shared, &digest, tx).await;
        });
        Ok(Box::new(reader))
    }
}

/// Streams one blob into `tx`, resuming after a dropped connection from the byte it reached.
/// Whatever ends the stream early is sent as an error naming the registry and the blob.
async fn stream_blob(shared: &Shared, digest: &Digest, tx: super::bridge::ChunkSender) {
    use futures_util::StreamExt;
    let reference = digest.to_string();
    let mut offset = 0u64;
    let mut resumes = 0;
    let fail = |reason: String| {
        std::io::Error::other(format!(
            "registry {}, repository {}: {reason}",
            shared.target.registry, shared.target.repository
        ))
    };
    loop {
        let response = match shared
            .client
            .get("blobs", &reference, None, Some(offset))
            .await
        {
            Ok(r) => r,
            Err(f) => {
                tx.send(Err(fail(f.reason))).await;
                return;
            }
        };
        // A registry that ignores `Range` sends the whole blob again: skip what was sent.
        let mut skip = if offset > 0 && response.status() != reqwest::StatusCode::PARTIAL_CONTENT {
            offset
        } else {
            0
        };
        let mut body = response.bytes_stream();
        let cut = loop {
            match body.next().await {
                Some(Ok(mut chunk)) => {
                    if skip > 0 {
                        let n = skip.min(chunk.len() as u64);
                        bytes::Buf::advance(&mut chunk, n as usize);
                        skip -= n;
                        if chunk.is_empty() {
                            continue;
                        }
                    }
                    offset += chunk.len() as u64;
                    if !tx.send(Ok(chunk)).await {
                        return;
                    }
                }
                Some(Err(e)) => break client::describe(&e),
                None => return,
            }
        };
        resumes += 1;
        if resumes >= 5 {
            tx.send(Err(fail(format!(
                "GET blobs/{reference}: the body was cut off at byte {offset} five times ({cut})"
            ))))
            .await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(250 * resumes)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_defaults_fill_in() {
        let t = Target::of(&ImageRef::parse("alpine").unwrap()).unwrap();
        assert_eq!(t.registry, "docker.io");
        assert_eq!(t.repository, "library/alpine");
        assert_eq!(t.tag.as_deref(), Some("latest"));
        assert_eq!(t.image_ref().to_string(), "alpine:latest");
        let t = Target::of(
            &ImageRef::parse(&format!(
                "localhost:5000/team/app@sha256:{}",
                "a".repeat(64)
            ))
            .unwrap(),
        )
        .unwrap();
        assert_eq!(t.registry, "localhost:5000");
        assert_eq!(t.repository, "team/app");
        assert_eq!(t.tag, None, "a digest alone means no tag");
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "registry.example.com",
            "10.0.0.1:5000",
            "localhost.example.com",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn manifest_kinds_are_told_apart_and_schema_1_is_refused() {
        assert_eq!(
            media_type_of(
                br#"{"schemaVersion":2,"manifests":[]}"#,
                Some("application/json")
            )
            .unwrap(),
            "application/vnd.oci.image.index.v1+json"
        );
        assert_eq!(
            media_type_of(
                br#"{"schemaVersion":2,"layers":[]}"#,
                Some("application/vnd.docker.distribution.manifest.v2+json")
            )
            .unwrap(),
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert_eq!(
            media_type_of(
                br#"{"schemaVersion":2,"config":{},"layers":[]}"#,
                Some("application/vnd.oci.image.manifest.v1+json")
            )
            .unwrap(),
            "application/vnd.oci.image.manifest.v1+json"
        );
        let err = media_type_of(br#"{"schemaVersion":1,"fsLayers":[]}"#, None).unwrap_err();
        assert!(err.contains("schema 1"), "{err}");
    }
}
