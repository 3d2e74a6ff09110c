//! layerguard: a streaming container image hardening scanner.
//!
//! ```text
//! source ──open──► Image (manifest, config, layer descriptors) + blob bytes
//!                    │ each distinct layer once, concurrently
//!                    ▼
//! layer:  blob ─► DigestReader ─► gzip|zstd|none ─► DigestReader ─► tar walk ─► FileMeta ─► sink
//!                    ▼
//! scan:   LayerRecord { content, file findings, layer inventory } keyed by (diff_id, fingerprint)
//!         ─► verify ─► FileIndex (whiteouts applied) + Inventory
//!                    ▼
//! rules:  image checks on ImageFacts ─► ignores ─► ScanReport ─► report::render
//! ```
//!
//! Data flows one way and so do the imports. At the bottom is the vocabulary every stage
//! speaks — [`digest`], [`finding`], [`reference`], [`event`], [`image`], [`image_config`], [`posture`],
//! [`limits`], [`config`], [`signatures`], [`text`], [`error`]. [`source`] and [`layer`] know only
//! the vocabulary and nothing of each other: a source hands over bytes, the layer pass turns
//! bytes into facts. [`overlay`] merges layer contents into the final filesystem. [`rules`] and
//! [`inventory`] see files and images through the vocabulary and the overlay, never through a
//! source or a layer type. [`scan`] drives them all and builds the [`report::ScanReport`], which
//! the writers in [`report`] only format. [`cache`] keeps layer records between runs, beside the
//! scan: the scan knows only the trait it implements ([`scan::RecordCache`]). [`sweep`] runs many
//! images through [`scan`] at once and collects their reports. [`taskdef`] reads ECS task
//! definitions and lints them from the vocabulary alone, beside the image pipeline; [`report`]
//! writes its reports too. [`deploy`] joins the two: it scans a task definition's images
//! through [`scan`] and hands what they show to the lint. [`cli`] sits on top. Layers are read once, never extracted to disk;
//! only metadata and the contents of files a rule or cataloger asked for are held in memory.

// The `isal` feature's FFI lives in one module that allows it (layer::isal); everything else
// may not, and without the feature nothing may.
#![cfg_attr(not(feature = "isal"), forbid(unsafe_code))]
#![cfg_attr(feature = "isal", deny(unsafe_code))]
#![warn(missing_docs)]

pub mod cache;
pub mod cli;
pub mod config;
pub mod deploy;
pub mod digest;
pub mod error;
pub mod event;
pub mod finding;
pub mod image;
pub mod image_config;
pub mod inventory;
pub mod layer;
pub mod limits;
pub mod overlay;
pub mod posture;
pub mod reference;
pub mod report;
pub mod rules;
pub mod scan;
pub mod signatures;
pub mod source;
pub mod sweep;
pub mod taskdef;
pub mod text;

pub use error::{Error, Result};
pub use scan::{ScanOptions, scan};
