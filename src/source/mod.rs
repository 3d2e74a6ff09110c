//! Stage 1 of the flow: where images come from.
//!
//! A source resolves what the user named to one [`Image`] (manifest, config and layer descriptors
//! for one platform) and hands over the layers' bytes — nothing more: it never reads a layer's
//! contents and knows nothing of the scan.
//!
//! - random access ([`Opened::Blobs`]): registries, OCI layouts, OCI archives and `docker save`
//!   files. Every blob can be opened on its own, so the scan reads layers concurrently;
//! - a single stream ([`Opened::Stream`]): `docker save` on standard input and the Docker
//!   daemon's export. Layers may arrive before the manifest that orders them, so the stream hands
//!   each layer member over as it passes and describes the image once it has ended — no temp
//!   file.
//!
//! [`manifest`] resolves index → platform → manifest → config for every source that has OCI
//! manifests, with the fetching injected; [`bridge`] turns an async byte stream into a `Read`.
//! [`ecs`] is where the task definitions that run images come from: it fetches one, and
//! nothing else.

pub mod bridge;
pub mod daemon;
pub mod docker_archive;
pub mod ecr;
pub mod ecs;
pub mod manifest;
pub mod oci_layout;
pub mod registry;
pub mod store;
pub mod transport;

pub use crate::image::{Image, LayerDescriptor, Platform};
pub use store::BlobStore;
pub use transport::Source;

use crate::error::{Error, Result};
use crate::limits::Limits;
use std::io::Read;

/// What opening a source gives the scan.
pub enum Opened {
    /// Layer blobs can be opened independently.
    Blobs(Box<Image>, Box<dyn BlobStore>),
    /// One stream holding the layers and the documents that describe them.
    Stream(Box<dyn LayerStream>),
}

/// A single stream of archive members, read once from start to end.
pub trait LayerStream {
    /// Reads the whole stream, handing every member that may be a layer blob to `visit` with a
    /// reader over its bytes (what `visit` leaves unread is skipped); the documents that describe
    /// the image are kept. An error from `visit` stops the stream and is returned as it is.
    fn for_each_layer(
        &mut self,
        visit: &mut dyn FnMut(&str, &mut dyn Read) -> Result<()>,
    ) -> Result<()>;

    /// The image the stream's documents describe; its layer descriptors' `location`s are the
    /// member names handed to `visit`. Only meaningful once [`LayerStream::for_each_layer`] has
    /// returned.
    fn image(self: Box<Self>) -> Result<Image>;

    /// Which layer of the image `member` is, when the documents read so far say (Docker writes
    /// its manifest last, skopeo and Docker 25+ may not): for naming a layer that failed.
    fn layer_index(&self, _member: &str) -> Option<usize> {
        None
    }
}

/// Opens `source`.
pub fn open(
    source: &Source,
    name: &str,
    platform: &Platform,
    limits: &Limits,
    registry: &registry::RegistryOptions,
) -> Result<Opened> {
    match source {
        Source::Registry(reference) => {
            let (image, store) = registry::open(reference, name, platform, limits, registry)?;
            Ok(Opened::Blobs(Box::new(image), store))
        }
        Source::DockerArchive(Some(path)) => {
            // A gzipped `docker save` (CI caches keep them) cannot be read at random: it is read
            // as one stream, like standard input.
            let file =
                std::fs::File::open(path).map_err(|e| Error::io(path.display().to_string(), e))?;
            let mut file = std::io::BufReader::with_capacity(256 << 10, file);
            if is_gzip(&mut file).map_err(|e| Error::io(path.display().to_string(), e))? {
                let archive = flate2::bufread::MultiGzDecoder::new(file);
                return Ok(Opened::Stream(Box::new(
                    docker_archive::ArchiveStream::new(archive, name, *limits),
                )));
            }
            let members = store::TarMembers::index(path, name)?;
            let image = docker_archive::resolve(&members, name, limits)?;
            Ok(Opened::Blobs(
                Box::new(image),
                Box::new(store::ByLocation(members)),
            ))
        }
        Source::DockerArchive(None) => {
            let mut stdin = std::io::BufReader::with_capacity(256 << 10, std::io::stdin());
            let gzip = is_gzip(&mut stdin).map_err(|e| Error::io("standard input", e))?;
            let stream: Box<dyn LayerStream> = if gzip {
                let archive = flate2::bufread::MultiGzDecoder::new(stdin);
                Box::new(docker_archive::ArchiveStream::new(archive, name, *limits))
            } else {
                Box::new(docker_archive::ArchiveStream::new(stdin, name, *limits))
            };
            Ok(Opened::Stream(stream))
        }
        Source::OciLayout(dir, tag) => {
            let members = store::DirMembers::new(dir, name)?;
            let image = oci_layout::resolve(&members, name, tag.as_deref(), platform, limits)?;
            Ok(Opened::Blobs(
                Box::new(image),
                Box::new(store::ByDigest(members)),
            ))
        }
        Source::OciArchive(path, tag) => {
            let members = store::TarMembers::index(path, name)?;
            let image = oci_layout::resolve(&members, name, tag.as_deref(), platform, limits)?;
            Ok(Opened::Blobs(
                Box::new(image),
                Box::new(store::ByDigest(members)),
            ))
        }
        Source::DockerDaemon(reference) => {
            Ok(Opened::Stream(Box::new(daemon::DaemonStream::open(
                reference.to_string(),
                Some(reference.clone()),
                name,
                *limits,
            )?)))
        }
        Source::DockerDaemonId(id) => Ok(Opened::Stream(Box::new(daemon::DaemonStream::open(
            id.to_string(),
            None,
            name,
            *limits,
        )?))),
    }
}

/// True when the stream starts with gzip's magic bytes (nothing is consumed).
fn is_gzip(reader: &mut impl std::io::BufRead) -> std::io::Result<bool> {
    Ok(reader.fill_buf()?.starts_with(&[0x1f, 0x8b]))
}

/// Parses a JSON document read from an image, naming it in the error.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    image: &str,
    what: &str,
) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|cause| Error::Json {
        image: image.to_owned(),
        what: what.to_owned(),
        cause,
    })
}

/// A source-level error.
pub(crate) fn source_error(image: &str, reason: impl Into<String>) -> Error {
    Error::Source {
        image: image.to_owned(),
        reason: reason.into(),
    }
}
