//! The image as its source describes it: manifest, config and layer descriptors for one
//! platform, before any layer is read. Common vocabulary: sources produce it, the scan reads its
//! layers, rules judge its reference and config.

use crate::digest::Digest;
use crate::image_config::ImageConfig;
use crate::reference::ImageRef;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

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
    /// True when the reference is only a name on this machine (an archive's tag, a layout's
    /// ref name, the daemon's tag), not where a deployment pulls the image from.
    pub local: bool,
    /// The settings of the registry repository the image was pulled from, when the registry
    /// tells them (ECR).
    pub posture: Option<crate::posture::RepositoryPosture>,
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
