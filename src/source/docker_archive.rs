//! `docker save` tarballs, in both layouts Docker writes:
//!
//! - legacy (Docker < 25): `manifest.json`, `<config-hex>.json`, `<layer-id>/layer.tar`;
//! - Docker 25+: an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/…`) with the
//!   legacy `manifest.json` beside it pointing into `blobs/`.
//!
//! `manifest.json` describes both, so it is the one entry point. Docker writes it last, which is
//! why [`ArchiveStream`] hands layers over before it knows their order.

use super::manifest::{self, LayoutFetch};
use super::store::{MemMembers, Members, blob_path};
use super::{Image, LayerDescriptor, LayerStream, parse_json, source_error};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image_config::ImageConfig;
use crate::limits::Limits;
use crate::reference::ImageRef;
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
pub fn resolve(store: &dyn Members, name: &str, limits: &Limits) -> Result<Image> {
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
        .and_then(|t| ImageRef::parse(t).ok())
        .map(ImageRef::familiar);
    let mut image = Image {
        name: name.to_owned(),
        reference,
        local: true,
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
fn read_oci_manifest(store: &dyn Members, image: &mut Image, limits: &Limits) -> Result<()> {
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
    let path = blob_path(&digest);
    if !store.exists(&path) {
        return Ok(());
    }
    let fetch = LayoutFetch {
        members: store,
        image: &name,
    };
    let bytes = manifest::read_manifest(&fetch, &digest, &name, limits)?;
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

/// A `docker save` stream read once, from start to end: JSON members are kept, layer members
/// are handed over as they pass, and the manifest (usually last) describes the image after.
pub struct ArchiveStream<R> {
    reader: Option<R>,
    name: String,
    limits: Limits,
    json: HashMap<String, Vec<u8>>,
}

impl<R: Read> ArchiveStream<R> {
    /// A stream over `reader`; `name` is how the user named the image.
    pub fn new(reader: R, name: &str, limits: Limits) -> Self {
        ArchiveStream {
            reader: Some(reader),
            name: name.to_owned(),
            limits,
            json: HashMap::new(),
        }
    }
}

impl<R: Read> LayerStream for ArchiveStream<R> {
    fn for_each_layer(
        &mut self,
        visit: &mut dyn FnMut(&str, &mut dyn Read) -> Result<()>,
    ) -> Result<()> {
        let Some(reader) = self.reader.take() else {
            return Ok(());
        };
        let name = self.name.as_str();
        let limits = &self.limits;
        let mut archive = tar::Archive::new(reader);
        // The tar parser's own messages quote the bytes it choked on; say it in words.
        let mut last: Option<String> = None;
        let bad = |last: &Option<String>, e: std::io::Error| match last {
            None => source_error(name, "the stream is not a tar archive"),
            Some(m) if e.kind() == std::io::ErrorKind::UnexpectedEof => source_error(
                name,
                format!("the stream is truncated: it ends inside or after member {m:?}"),
            ),
            Some(m) => source_error(
                name,
                format!("the tar stream is corrupt after member {m:?}"),
            ),
        };
        let entries = archive.entries().map_err(|e| bad(&last, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| bad(&last, e))?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let member = String::from_utf8_lossy(&entry.path_bytes())
                .trim_start_matches("./")
                .to_owned();
            last = Some(member.clone());
            let size = entry.size();
            let mut entry = BufReader::with_capacity(64 << 10, entry);
            // `docker save` names layers `<id>/layer.tar` (Docker 25+: `blobs/sha256/<hex>`);
            // skopeo writes `<hex>.tar` with `<id>/layer.tar` symlinks to it.
            let could_be_layer = member.ends_with(".tar") || member.starts_with("blobs/");
            let head = entry.fill_buf().map_err(|e| Error::io(&member, e))?;
            let looks_json = head.first() == Some(&b'{') || head.first() == Some(&b'[');
            if could_be_layer && !(looks_json && size <= limits.max_json_bytes) {
                visit(&member, &mut entry)?;
                // Whatever the visitor left unread belongs to this member, not the next.
                std::io::copy(&mut entry, &mut std::io::sink())
                    .map_err(|e| Error::io(&member, e))?;
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
                self.json.insert(member, buf);
            } else {
                std::io::copy(&mut entry, &mut std::io::sink())
                    .map_err(|e| Error::io(&member, e))?;
            }
        }
        Ok(())
    }

    fn image(self: Box<Self>) -> Result<Image> {
        let store = MemMembers(self.json);
        resolve(&store, &self.name, &self.limits)
    }

    fn layer_index(&self, member: &str) -> Option<usize> {
        let entries: Vec<ManifestEntry> =
            serde_json::from_slice(self.json.get("manifest.json")?).ok()?;
        entries.first()?.layers.iter().position(|l| l == member)
    }
}
