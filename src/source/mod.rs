//! Stage 1 of the flow: where images come from.
//!
//! A source resolves what the user named to one [`Image`] (manifest, config and layer descriptors
//! for one platform) and says how its layer blobs can be read:
//!
//! - random access ([`Opened::Blobs`]): OCI layouts, OCI archives and `docker save` files. Every
//!   blob can be opened on its own, so the engine reads layers concurrently;
//! - a single stream ([`Opened::Streamed`]): `docker save` on standard input and the Docker
//!   daemon's export. Layers may arrive before the manifest that orders them, so each is summarised
//!   as it streams past and put in order once the manifest is known — no temp file.

pub mod daemon;
pub mod docker_archive;
pub mod oci_layout;
pub mod reference;
pub mod store;

pub use reference::{ImageRef, Source};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::ImageConfig;
use crate::layer::decompress::Compression;
use crate::layer::{LayerSummary, WalkError};
use crate::limits::Limits;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use store::BlobStore;

/// One layer as the manifest describes it; nothing read yet.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LayerDescriptor {
    /// Where the blob is (archive member or blob path), for messages.
    pub location: String,
    /// The blob digest the manifest promises, when the source states one.
    pub digest: Option<Digest>,
    /// The compressed size the manifest promises.
    pub size: Option<u64>,
    /// The media type, when the source states one.
    pub media_type: Option<String>,
}

/// An image for one platform.
#[derive(Debug, Clone, Default)]
pub struct Image {
    /// How the user named it (`docker-archive:app.tar`), for messages.
    pub name: String,
    /// The image's own reference (repo tag, OCI ref name), for tag and registry rules.
    pub reference: Option<ImageRef>,
    /// The manifest digest, when the source has a manifest.
    pub manifest_digest: Option<Digest>,
    /// A registry digest users can pin to (`repo@sha256:…`), when known.
    pub repo_digest: Option<String>,
    /// The config blob's digest (Docker's image ID).
    pub config_digest: Option<Digest>,
    /// The parsed config.
    pub config: ImageConfig,
    /// Manifest annotations (`org.opencontainers.image.base.name` among them).
    pub annotations: BTreeMap<String, String>,
    /// Layers, bottom first.
    pub layers: Vec<LayerDescriptor>,
}

impl Image {
    /// `os/arch[/variant]`.
    pub fn platform(&self) -> String {
        let c = &self.config;
        match &c.variant {
            Some(v) => format!("{}/{}/{v}", c.os, c.architecture),
            None => format!("{}/{}", c.os, c.architecture),
        }
    }
}

/// What opening a source gives the engine.
pub enum Opened {
    /// Layer blobs can be opened independently.
    Blobs(Image, Box<dyn BlobStore>),
    /// Layers were summarised while the single stream was read, already in manifest order.
    Streamed(Image, Vec<LayerSummary>),
}

/// The layer scanner a streaming source calls for each layer blob as it passes.
pub type ScanLayer<'a> =
    dyn Fn(&mut dyn Read, Option<Compression>) -> Result<LayerSummary, WalkError> + Sync + 'a;

/// A target platform, `os/arch[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    /// Like `linux`.
    pub os: String,
    /// Like `amd64`.
    pub architecture: String,
    /// Like `v8`.
    pub variant: Option<String>,
}

impl Platform {
    /// The platform this program runs on, in OCI's spelling.
    pub fn host() -> Self {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform {
                os: (*os).into(),
                architecture: (*arch).into(),
                variant: None,
            }),
            [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(Platform {
                os: (*os).into(),
                architecture: (*arch).into(),
                variant: Some((*v).into()),
            }),
            _ => Err(format!(
                "invalid platform {s:?}: expected os/arch[/variant]"
            )),
        }
    }

    /// True when an image for `os/arch/variant` runs here. A missing variant on either side
    /// matches any.
    pub fn matches(&self, os: &str, arch: &str, variant: Option<&str>) -> bool {
        self.os == os
            && self.architecture == arch
            && match (&self.variant, variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Opens `source`. `scan` is used only by streaming sources.
pub fn open(
    source: &Source,
    name: &str,
    platform: &Platform,
    limits: &Limits,
    scan: &ScanLayer<'_>,
) -> Result<Opened> {
    match source {
        Source::DockerArchive(Some(path)) => {
            let store = store::TarStore::index(path, name)?;
            let image = docker_archive::resolve(&store, name, limits)?;
            Ok(Opened::Blobs(image, Box::new(store)))
        }
        Source::DockerArchive(None) => {
            let stdin = std::io::stdin().lock();
            let (image, layers) = docker_archive::stream(stdin, name, limits, scan)?;
            Ok(Opened::Streamed(image, layers))
        }
        Source::OciLayout(dir, tag) => {
            let store = store::DirStore::new(dir, name)?;
            let image = oci_layout::resolve(&store, name, tag.as_deref(), platform, limits)?;
            Ok(Opened::Blobs(image, Box::new(store)))
        }
        Source::OciArchive(path, tag) => {
            let store = store::TarStore::index(path, name)?;
            let image = oci_layout::resolve(&store, name, tag.as_deref(), platform, limits)?;
            Ok(Opened::Blobs(image, Box::new(store)))
        }
        Source::DockerDaemon(reference) => daemon::open(reference, name, limits, scan),
    }
}

/// Parses a JSON document read from an image, naming it in the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    image: &str,
    what: &str,
) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::Json {
        image: image.to_owned(),
        what: what.to_owned(),
        source,
    })
}

/// A source-level error.
pub(crate) fn source_error(image: &str, reason: impl Into<String>) -> Error {
    Error::Source {
        image: image.to_owned(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match() {
        let p = Platform::parse("linux/arm64/v8").unwrap();
        assert!(p.matches("linux", "arm64", None));
        assert!(p.matches("linux", "arm64", Some("v8")));
        assert!(!p.matches("linux", "amd64", None));
        assert!(Platform::parse("linux").is_err());
        assert_eq!(p.to_string(), "linux/arm64/v8");
    }
}
