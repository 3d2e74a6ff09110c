//! layerguard: a streaming container image hardening scanner.
//!
//! ```text
//! Source ──open──► Image (manifest, config, layer descriptors)
//!                    │ each layer, concurrently
//!                    ▼
//! blob ─► DigestReader ─► gzip|zstd|none ─► DigestReader ─► tar walk ─► FileEvent
//!                    │                                   rules' file checks ◄─┘
//!                    ▼
//!          LayerSummary[] ─► verify digests ─► FileIndex (whiteouts applied)
//!                    ▼
//!          ImageFacts ─► rules' image checks ─► ignores ─► ScanReport ─► report::render
//!          LayerInventory[] ─► live databases, os-release ─► Inventory (purls) ──┘
//! ```
//!
//! Data flows one way. Layers are read once, never extracted to disk; only metadata and the
//! contents of files a rule or cataloger asked for are held in memory.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cli;
pub mod config;
pub mod digest;
pub mod engine;
pub mod error;
pub mod event;
pub mod finding;
pub mod image_config;
pub mod inventory;
pub mod layer;
pub mod limits;
pub mod overlay;
pub mod report;
pub mod rules;
pub mod signatures;
pub mod source;

pub use engine::{ScanOptions, scan};
pub use error::{Error, Result};
