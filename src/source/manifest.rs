//! Index → platform → manifest → config, for every source with OCI (or Docker v2) manifests:
//! OCI layouts and archives, Docker 25+ `docker save` files, and registries. How a document is
//! fetched is injected ([`Fetch`]): a layout reads `blobs/`, a registry asks its `/manifests/`
//! and `/blobs/` endpoints. Every document is checked against its digest before it is believed.

use super::store::{Members, blob_path};
use super::{LayerDescriptor, Platform, parse_json, source_error};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::ImageConfig;
use crate::limits::Limits;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};
use std::collections::BTreeMap;

/// Fetches documents by digest.
pub trait Fetch {
    /// A manifest or image index, at most `max` bytes.
    fn manifest(&self, digest: &Digest, max: u64) -> Result<Vec<u8>>;
    /// A blob (the image config), at most `max` bytes.
    fn blob(&self, digest: &Digest, max: u64) -> Result<Vec<u8>>;
    /// How a document is named in messages.
    fn describe(&self, digest: &Digest) -> String {
        digest.to_string()
    }
}

/// An OCI layout's `blobs/` directory (in a directory or an archive).
pub struct LayoutFetch<'a> {
    /// The layout's files.
    pub members: &'a dyn Members,
    /// The image name, for messages.
    pub image: &'a str,
}

impl Fetch for LayoutFetch<'_> {
    fn manifest(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        self.members.read_small(&blob_path(digest), max, self.image)
    }

    fn blob(&self, digest: &Digest, max: u64) -> Result<Vec<u8>> {
        self.members.read_small(&blob_path(digest), max, self.image)
    }

    fn describe(&self, digest: &Digest) -> String {
        blob_path(digest)
    }
}

/// One platform's image, resolved.
#[derive(Debug)]
pub struct Resolved {
    /// The image manifest's digest.
    pub manifest_digest: Digest,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The config blob's digest.
    pub config_digest: Digest,
    /// The parsed config.
    pub config: ImageConfig,
    /// The layers, bottom first; `location` is the blob's name in messages.
    pub layers: Vec<LayerDescriptor>,
}

/// A descriptor's digest, validated.
pub fn descriptor_digest(desc: &Descriptor, image: &str) -> Result<Digest> {
    desc.digest()
        .to_string()
        .parse()
        .map_err(|e| source_error(image, format!("descriptor digest: {e}")))
}

/// True for an OCI image index or a Docker manifest list.
pub fn is_index(desc: &Descriptor) -> bool {
    matches!(desc.media_type(), MediaType::ImageIndex)
        || desc.media_type().to_string()
            == "application/vnd.docker.distribution.manifest.list.v2+json"
}

/// Fetches a manifest or index and checks it against its digest.
pub fn read_manifest(
    fetch: &dyn Fetch,
    digest: &Digest,
    image: &str,
    limits: &Limits,
) -> Result<Vec<u8>> {
    let bytes = fetch.manifest(digest, limits.max_json_bytes)?;
    verified(fetch, bytes, digest, image)
}

fn verified(fetch: &dyn Fetch, bytes: Vec<u8>, digest: &Digest, image: &str) -> Result<Vec<u8>> {
    let actual = Digest::of(&bytes);
    if &actual != digest {
        return Err(source_error(
            image,
            format!(
                "{}: digest mismatch: expected {digest}, got {actual}",
                fetch.describe(digest)
            ),
        ));
    }
    Ok(bytes)
}

/// Picks the descriptor for `platform` among an index's manifests, or explains which exist.
pub fn choose_platform<'a>(
    manifests: &'a [Descriptor],
    platform: &Platform,
    image: &str,
) -> Result<&'a Descriptor> {
    // Attestation manifests (buildx provenance) carry an `unknown/unknown` platform.
    let candidates: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| {
            d.platform()
                .as_ref()
                .is_none_or(|p| p.os().to_string() != "unknown")
        })
        .collect();
    if let [only] = candidates.as_slice()
        && only.platform().is_none()
    {
        return Ok(only);
    }
    if let Some(found) = candidates.iter().find(|d| {
        d.platform().as_ref().is_some_and(|p| {
            platform.matches(
                &p.os().to_string(),
                &p.architecture().to_string(),
                p.variant().as_deref(),
            )
        })
    }) {
        return Ok(found);
    }
    let available: Vec<String> = candidates
        .iter()
        .filter_map(|d| d.platform().as_ref())
        .map(|p| match p.variant() {
            Some(v) => format!("{}/{}/{v}", p.os(), p.architecture()),
            None => format!("{}/{}", p.os(), p.architecture()),
        })
        .collect();
    Err(Error::Platform {
        image: image.to_owned(),
        wanted: platform.to_string(),
        available: if available.is_empty() {
            "none".into()
        } else {
            available.join(", ")
        },
    })
}

/// Follows `top` (an image manifest, or an index to choose from) to the image for `platform`,
/// and reads its config.
pub fn resolve(
    fetch: &dyn Fetch,
    top: &Descriptor,
    platform: &Platform,
    image: &str,
    limits: &Limits,
) -> Result<Resolved> {
    let mut desc = top.clone();
    // Indexes can nest (index.json → image index → manifest); bound the depth against loops.
    for _ in 0..4 {
        if !is_index(&desc) {
            break;
        }
        let digest = descriptor_digest(&desc, image)?;
        let bytes = read_manifest(fetch, &digest, image, limits)?;
        let nested: ImageIndex = parse_json(&bytes, image, "image index")?;
        desc = choose_platform(nested.manifests(), platform, image)?.clone();
    }
    let manifest_digest = descriptor_digest(&desc, image)?;
    let bytes = read_manifest(fetch, &manifest_digest, image, limits)?;
    let manifest: ImageManifest = parse_json(&bytes, image, "image manifest")?;
    let config_digest = descriptor_digest(manifest.config(), image)?;
    let config_bytes = fetch.blob(&config_digest, limits.max_json_bytes)?;
    let config_bytes = verified(fetch, config_bytes, &config_digest, image)?;
    let config: ImageConfig = parse_json(&config_bytes, image, "image config")?;
    let layers = manifest
        .layers()
        .iter()
        .map(|l| {
            let digest = descriptor_digest(l, image)?;
            Ok(LayerDescriptor {
                location: fetch.describe(&digest),
                digest: Some(digest),
                size: Some(l.size()),
                media_type: Some(l.media_type().to_string()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Resolved {
        manifest_digest,
        annotations: manifest
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        config_digest,
        config,
        layers,
    })
}
