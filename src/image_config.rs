//! The image configuration (the JSON blob a manifest's `config` points at), typed for what the
//! rules read. Deliberately lenient: Docker writes fields the OCI spec lacks (`Healthcheck`) and
//! old images omit fields the spec calls required, and neither should fail a scan.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An image configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ImageConfig {
    /// CPU architecture, like `amd64`.
    pub architecture: String,
    /// Operating system, like `linux`.
    pub os: String,
    /// Architecture variant, like `v8`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The runtime configuration.
    pub config: RuntimeConfig,
    /// The layers' uncompressed digests, bottom first.
    pub rootfs: RootFs,
    /// One entry per Dockerfile instruction, including those that made no layer.
    pub history: Vec<History>,
}

/// `config` inside the image configuration.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RuntimeConfig {
    /// `USER`.
    #[serde(rename = "User")]
    pub user: Option<String>,
    /// `ENV`, as `KEY=value`.
    #[serde(rename = "Env")]
    pub env: Option<Vec<String>>,
    /// `LABEL`.
    #[serde(rename = "Labels")]
    pub labels: Option<BTreeMap<String, String>>,
    /// `EXPOSE`, keys like `22/tcp`.
    #[serde(rename = "ExposedPorts")]
    pub exposed_ports: Option<BTreeMap<String, serde_json::Value>>,
    /// `VOLUME`.
    #[serde(rename = "Volumes")]
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    /// `HEALTHCHECK` (Docker only).
    #[serde(rename = "Healthcheck")]
    pub healthcheck: Option<Healthcheck>,
    /// `ENTRYPOINT`.
    #[serde(rename = "Entrypoint")]
    pub entrypoint: Option<Vec<String>>,
    /// `CMD`.
    #[serde(rename = "Cmd")]
    pub cmd: Option<Vec<String>>,
}

/// `HEALTHCHECK`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Healthcheck {
    /// `["NONE"]` disables a health check inherited from the base image.
    #[serde(rename = "Test")]
    pub test: Option<Vec<String>>,
}

/// `rootfs`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RootFs {
    /// Uncompressed layer digests, as strings (parsed when verified).
    pub diff_ids: Vec<String>,
}

/// One `history` entry.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct History {
    /// The instruction, like `/bin/sh -c make`.
    pub created_by: Option<String>,
    /// True when the instruction made no layer.
    pub empty_layer: bool,
    /// A free-form comment.
    pub comment: Option<String>,
}

impl ImageConfig {
    /// The environment as `(key, value)` pairs.
    pub fn env(&self) -> impl Iterator<Item = (&str, &str)> {
        self.config
            .env
            .iter()
            .flatten()
            .map(|kv| kv.split_once('=').unwrap_or((kv.as_str(), "")))
    }

    /// The history entry that made each layer, by layer index (`None` when history is short).
    pub fn layer_history(&self) -> Vec<Option<usize>> {
        let mut out = Vec::new();
        for (i, h) in self.history.iter().enumerate() {
            if !h.empty_layer {
                out.push(Some(i));
            }
        }
        out.resize(self.rootfs.diff_ids.len().max(out.len()), None);
        out
    }

    /// The `created_by` text with Docker's `/bin/sh -c #(nop) ` noise removed.
    pub fn instruction(&self, history_index: usize) -> Option<String> {
        let raw = self.history.get(history_index)?.created_by.as_deref()?;
        let text = raw
            .trim_start_matches("/bin/sh -c ")
            .trim_start_matches("#(nop) ")
            .trim();
        Some(text.to_owned())
    }
}
