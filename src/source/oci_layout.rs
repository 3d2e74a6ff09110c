//! OCI image layouts (a directory, or the same in a tar): `index.json` → (image index →)
//! manifest for the chosen platform → config and layers in `blobs/<alg>/<hex>`. Every JSON blob
//! is checked against its digest before it is believed.

use super::manifest::{self, LayoutFetch};
use super::store::Members;
use super::{Image, Platform, parse_json, source_error};
use crate::error::Result;
use crate::limits::Limits;
use crate::reference::ImageRef;
use oci_spec::image::{Descriptor, ImageIndex};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Resolves a layout to one image.
pub fn resolve(
    store: &dyn Members,
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
    let desc = if top.len() == 1 {
        top[0].clone()
    } else {
        manifest::choose_platform(&top, platform, name)?.clone()
    };
    let fetch = LayoutFetch {
        members: store,
        image: name,
    };
    let resolved = manifest::resolve(&fetch, &desc, platform, name, limits)?;
    // `ref.name` is usually a bare tag (`1.2.3`, `latest`); only a name with a repository part
    // (`registry.example.com/app:1.2`, `app:1`) is a full reference.
    let reference = ref_name.map(|r| {
        let full = r.contains('/') || r.contains(':');
        match ImageRef::parse(&r) {
            Ok(parsed) if full => parsed.familiar(),
            _ => ImageRef {
                tag: Some(r),
                ..ImageRef::default()
            },
        }
    });
    let repo_digest = reference
        .as_ref()
        .and_then(|r| r.repository.as_ref())
        .map(|_| format!("@{}", resolved.manifest_digest));
    Ok(Image {
        name: name.to_owned(),
        reference,
        local: true,
        repo_digest,
        manifest_digest: Some(resolved.manifest_digest),
        config_digest: Some(resolved.config_digest),
        config: resolved.config,
        annotations: resolved.annotations,
        layers: resolved.layers,
        posture: None,
    })
}
