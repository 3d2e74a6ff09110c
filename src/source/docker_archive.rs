//! `docker save` tarballs, in both layouts Docker writes:
//!
//! - legacy (Docker < 25): `manifest.json`, `<config-hex>.json`, `<layer-id>/layer.tar`;
//! - Docker 25+: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) with the
//!   legacy `manifest.json` beside it pointing into `blobs/`.
//!
//! `manifest.json` describes both, so it is the one entry point. Docker writes it last, which is
//! why [`stream`] summarises layers before it knows their order.

use super::store::BlobStore;
use super::{Image, ImageRef, LayerDescriptor, ScanLayer, parse_json, source_error};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::ImageConfig;
use crate::layer::LayerSummary;
use crate::limits::Limits;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

#[derive(Debug, Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// The digest a member's name promises: `blobs/sha256/<hex>` or legacy `<hex>.json`.
fn digest_in_name(member: &str) -> Option<Digest> {
    let hex = member
        .strip_prefix("blobs/sha256/")
        .or_else(|| member.strip_suffix(".json"))?;
    format!("sha256:{hex}").parse().ok()
}

/// Reads `manifest.json` and the config from a store and describes the image.
pub fn resolve(store: &dyn BlobStore, name: &str, limits: &Limits) -> Result<Image> {
    if !store.exists("manifest.json") {
        return Err(source_error(
            name,
            "no manifest.json: not a `docker save` archive (for an OCI layout use oci-archive:)",
        ));
    }
    let bytes = store.read_small("manifest.json", limits.max_json_bytes, name)?;
    let entries: Vec<ManifestEntry> = parse_json(&bytes, name, "manifest.json")?;
    let entry = match entries.as_slice() {
        [one] => one,
        [] => return Err(source_error(name, "manifest.json lists no images")),
        many => {
            let tags: Vec<String> = many
                .iter()
                .map(|e| e.repo_tags.clone().unwrap_or_default().join(","))
                .collect();
            return Err(source_error(
                name,
                format!(
                    "archive holds {} images ({}); save one image per archive",
                    many.len(),
                    tags.join("; ")
                ),
            ));
        }
    };
    let config_bytes = store.read_small(&entry.config, limits.max_json_bytes, name)?;
    let config_digest = Digest::of(&config_bytes);
    if let Some(expected) = digest_in_name(&entry.config)
        && expected != config_digest
    {
        return Err(source_error(
            name,
            format!(
                "config {} does not match its digest (got {config_digest})",
                entry.config
            ),
        ));
    }
    let config: ImageConfig = parse_json(&config_bytes, name, &format!("config {}", entry.config))?;
    let reference = entry
        .repo_tags
        .as_ref()
        .and_then(|t| t.first())
        .and_then(|t| ImageRef::parse(t).ok());
    let mut image = Image {
        name: name.to_owned(),
        reference,
        config_digest: Some(config_digest),
        config,
        layers: entry
            .layers
            .iter()
            .map(|l| LayerDescriptor {
                location: l.clone(),
                digest: digest_in_name(l),
                size: None,
                media_type: None,
            })
            .collect(),
        ..Image::default()
    };
    read_oci_manifest(store, &mut image, limits)?;
    Ok(image)
}

/// Docker 25+ archives also carry the OCI manifest: take its digest and annotations.
fn read_oci_manifest(store: &dyn BlobStore, image: &mut Image, limits: &Limits) -> Result<()> {
    if !store.exists("index.json") {
        return Ok(());
    }
    let name = image.name.clone();
    let bytes = store.read_small("index.json", limits.max_json_bytes, &name)?;
    let index: oci_spec::image::ImageIndex = parse_json(&bytes, &name, "index.json")?;
    let [desc] = index.manifests().as_slice() else {
        return Ok(());
    };
    let Ok(digest) = desc.digest().to_string().parse::<Digest>() else {
        return Ok(());
    };
    let path = format!("blobs/sha256/{}", digest.hex());
    if !store.exists(&path) {
        return Ok(());
    }
    let bytes = store.read_small(&path, limits.max_json_bytes, &name)?;
    if Digest::of(&bytes) != digest {
        return Err(source_error(
            &name,
            format!("{path} does not match its digest"),
        ));
    }
    let manifest: oci_spec::image::ImageManifest = parse_json(&bytes, &name, &path)?;
    // Only trust it if it describes the same config manifest.json named.
    if manifest.config().digest().to_string()
        == image
            .config_digest
            .as_ref()
            .map(Digest::to_string)
            .unwrap_or_default()
    {
        image.manifest_digest = Some(digest);
        image.annotations = manifest
            .annotations()
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
    }
    Ok(())
}

/// JSON documents kept while streaming, served to [`resolve`] afterwards.
struct MemStore(HashMap<String, Vec<u8>>);

impl BlobStore for MemStore {
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>> {
        match self.0.get(path) {
            Some(b) => Ok(Box::new(&b[..])),
            None => Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "not in the archive"),
            )),
        }
    }

    fn exists(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }
}

/// Reads a `docker save` stream once, from start to end: JSON members are kept, layer members
/// are summarised as they pass, and the manifest (usually last) puts the summaries in order.
pub fn stream(
    reader: impl Read,
    name: &str,
    limits: &Limits,
    scan: &ScanLayer<'_>,
) -> Result<(Image, Vec<LayerSummary>)> {
    let mut archive = tar::Archive::new(reader);
    let mut json: HashMap<String, Vec<u8>> = HashMap::new();
    let mut layers: HashMap<String, LayerSummary> = HashMap::new();
    let bad = |e: std::io::Error| source_error(name, format!("not a readable tar stream: {e}"));
    for (position, entry) in archive.entries().map_err(bad)?.enumerate() {
        let entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let member = String::from_utf8_lossy(&entry.path_bytes())
            .trim_start_matches("./")
            .to_owned();
        let size = entry.size();
        let mut entry = BufReader::with_capacity(64 << 10, entry);
        let could_be_layer = member.ends_with("/layer.tar") || member.starts_with("blobs/");
        let head = entry.fill_buf().map_err(|e| Error::io(&member, e))?;
        let looks_json = head.first() == Some(&b'{') || head.first() == Some(&b'[');
        if could_be_layer && !(looks_json && size <= limits.max_json_bytes) {
            let summary = scan(&mut entry, None).map_err(|e| {
                let limit = e.limit;
                let reason = e.reason;
                if limit {
                    Error::Limit {
                        image: name.to_owned(),
                        layer: position,
                        reason: format!("{member}: {reason}"),
                    }
                } else {
                    Error::Layer {
                        image: name.to_owned(),
                        layer: position,
                        digest: member.clone(),
                        path: e.path,
                        reason,
                    }
                }
            })?;
            layers.insert(member, summary);
        } else if member.ends_with(".json")
            || member.starts_with("blobs/")
            || member == "repositories"
        {
            if size > limits.max_json_bytes {
                return Err(source_error(
                    name,
                    format!(
                        "{member} is larger than max_json_bytes ({} bytes)",
                        limits.max_json_bytes
                    ),
                ));
            }
            let mut buf = Vec::with_capacity(size as usize);
            entry
                .read_to_end(&mut buf)
                .map_err(|e| Error::io(&member, e))?;
            json.insert(member, buf);
        } else {
            std::io::copy(&mut entry, &mut std::io::sink()).map_err(|e| Error::io(&member, e))?;
        }
    }
    let store = MemStore(json);
    let image = resolve(&store, name, limits)?;
    let mut ordered = Vec::with_capacity(image.layers.len());
    for (i, desc) in image.layers.iter().enumerate() {
        let summary = layers
            .get(&desc.location)
            .cloned()
            .ok_or_else(|| Error::Layer {
                image: name.to_owned(),
                layer: i,
                digest: desc.location.clone(),
                path: None,
                reason: "manifest.json names a layer the archive does not contain".into(),
            })?;
        ordered.push(summary);
    }
    Ok((image, ordered))
}
