//! OCI image layouts (a directory, or the same in a tar): `index.json` → (image index →)
//! manifest for the chosen platform → config and layers in `blobs/<alg>/<hex>`. Every JSON blob
//! is checked against its digest before it is believed.

use super::store::BlobStore;
use super::{Image, ImageRef, LayerDescriptor, Platform, parse_json, source_error};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::ImageConfig;
use crate::limits::Limits;
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

fn blob_path(desc: &Descriptor, image: &str) -> Result<(String, Digest)> {
    let digest: Digest = desc
        .digest()
        .to_string()
        .parse()
        .map_err(|e| source_error(image, format!("descriptor digest: {e}")))?;
    Ok((format!("blobs/sha256/{}", digest.hex()), digest))
}

fn read_verified(
    store: &dyn BlobStore,
    desc: &Descriptor,
    image: &str,
    limits: &Limits,
) -> Result<(Vec<u8>, Digest)> {
    let (path, digest) = blob_path(desc, image)?;
    let bytes = store.read_small(&path, limits.max_json_bytes, image)?;
    let actual = Digest::of(&bytes);
    if actual != digest {
        return Err(source_error(
            image,
            format!("{path}: digest mismatch: expected {digest}, got {actual}"),
        ));
    }
    Ok((bytes, digest))
}

fn is_index(desc: &Descriptor) -> bool {
    matches!(desc.media_type(), MediaType::ImageIndex)
        || desc.media_type().to_string()
            == "application/vnd.docker.distribution.manifest.list.v2+json"
}

/// Picks the descriptor for `platform` among an index's manifests, or explains which exist.
fn choose_platform<'a>(
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

/// Resolves a layout to one image.
pub fn resolve(
    store: &dyn BlobStore,
    name: &str,
    tag: Option<&str>,
    platform: &Platform,
    limits: &Limits,
) -> Result<Image> {
    if !store.exists("index.json") {
        return Err(source_error(name, "no index.json: not an OCI image layout"));
    }
    let bytes = store.read_small("index.json", limits.max_json_bytes, name)?;
    let index: ImageIndex = parse_json(&bytes, name, "index.json")?;
    let tagged: Vec<&Descriptor> = match tag {
        Some(t) => index
            .manifests()
            .iter()
            .filter(|d| {
                d.annotations().as_ref().is_some_and(|a| {
                    a.get(REF_NAME)
                        .is_some_and(|r| r == t || r.ends_with(&format!(":{t}")))
                })
            })
            .collect(),
        None => index.manifests().iter().collect(),
    };
    if tagged.is_empty() {
        let tags: Vec<String> = index
            .manifests()
            .iter()
            .filter_map(|d| d.annotations().as_ref()?.get(REF_NAME).cloned())
            .collect();
        return Err(source_error(
            name,
            format!(
                "no manifest tagged {:?}; tags present: {}",
                tag.unwrap_or(""),
                if tags.is_empty() {
                    "none".into()
                } else {
                    tags.join(", ")
                }
            ),
        ));
    }
    let top: Vec<Descriptor> = tagged.iter().map(|d| (*d).clone()).collect();
    let ref_name = top[0]
        .annotations()
        .as_ref()
        .and_then(|a| a.get(CONTAINERD_NAME).or_else(|| a.get(REF_NAME)).cloned());
    // Several manifests at the top (untagged multi-platform layout) are treated as an index.
    let mut desc = if top.len() == 1 {
        top[0].clone()
    } else {
        choose_platform(&top, platform, name)?.clone()
    };
    // Indexes can nest (index.json → image index → manifest); bound the depth against loops.
    for _ in 0..4 {
        if !is_index(&desc) {
            break;
        }
        let (bytes, _) = read_verified(store, &desc, name, limits)?;
        let nested: ImageIndex = parse_json(&bytes, name, "image index")?;
        desc = choose_platform(nested.manifests(), platform, name)?.clone();
    }
    let (bytes, manifest_digest) = read_verified(store, &desc, name, limits)?;
    let manifest: ImageManifest = parse_json(&bytes, name, "image manifest")?;
    let (config_bytes, config_digest) = read_verified(store, manifest.config(), name, limits)?;
    let config: ImageConfig = parse_json(&config_bytes, name, "image config")?;
    let layers = manifest
        .layers()
        .iter()
        .map(|l| {
            let (path, digest) = blob_path(l, name)?;
            Ok(LayerDescriptor {
                location: path,
                digest: Some(digest),
                size: Some(l.size()),
                media_type: Some(l.media_type().to_string()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let reference = ref_name.map(|r| {
        ImageRef::parse(&r).unwrap_or(ImageRef {
            tag: Some(r),
            ..ImageRef::default()
        })
    });
    let repo_digest = reference
        .as_ref()
        .and_then(|r| r.repository.as_ref())
        .map(|_| format!("@{manifest_digest}"));
    Ok(Image {
        name: name.to_owned(),
        reference,
        repo_digest,
        manifest_digest: Some(manifest_digest),
        config_digest: Some(config_digest),
        config,
        annotations: manifest
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        layers,
    })
}
