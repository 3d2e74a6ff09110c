//! The local Docker Engine: `GET /images/{name}/get` streamed straight into the `docker save`
//! stream reader, so nothing is written to disk. bollard is async; [`super::bridge`] carries its
//! bytes to the synchronous layer pass.

use super::bridge::{self, ChannelReader};
use super::docker_archive::ArchiveStream;
use super::{Image, LayerStream, source_error};
use crate::error::Result;
use crate::limits::Limits;
use crate::reference::ImageRef;
use futures_util::StreamExt;
use std::io::Read;
use std::thread::JoinHandle;

/// An image being exported by the daemon.
pub struct DaemonStream {
    archive: ArchiveStream<ChannelReader>,
    exporter: Option<JoinHandle<()>>,
    reference: ImageRef,
    repo_digest: Option<String>,
}

impl DaemonStream {
    /// Asks the daemon `DOCKER_HOST` names (or the default socket) for `reference` and starts
    /// its export.
    pub fn open(reference: &ImageRef, name: &str, limits: Limits) -> Result<Self> {
        let daemon_error =
            |e: bollard::errors::Error| source_error(name, format!("docker daemon: {e}"));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| source_error(name, format!("cannot start the I/O runtime: {e}")))?;
        let docker = bollard::Docker::connect_with_defaults().map_err(daemon_error)?;
        let wanted = reference.to_string();
        let inspect = runtime
            .block_on(docker.inspect_image(&wanted))
            .map_err(daemon_error)?;
        let (reader, exporter) = bridge::spawn_reader(runtime, move |tx| async move {
            let chunks = docker
                .export_image(&wanted)
                .map(|chunk| chunk.map_err(std::io::Error::other));
            tx.forward(chunks).await;
        });
        Ok(DaemonStream {
            archive: ArchiveStream::new(reader, name, limits),
            exporter: Some(exporter),
            reference: reference.clone(),
            repo_digest: inspect.repo_digests.and_then(|d| d.into_iter().next()),
        })
    }
}

impl LayerStream for DaemonStream {
    fn for_each_layer(
        &mut self,
        visit: &mut dyn FnMut(&str, &mut dyn Read) -> Result<()>,
    ) -> Result<()> {
        let result = self.archive.for_each_layer(visit);
        if result.is_ok()
            && let Some(exporter) = self.exporter.take()
        {
            let _ = exporter.join();
        }
        result
    }

    fn image(self: Box<Self>) -> Result<Image> {
        let DaemonStream {
            archive,
            reference,
            repo_digest,
            ..
        } = *self;
        let mut image = Box::new(archive).image()?;
        if image.reference.is_none() {
            image.reference = Some(reference);
        }
        image.repo_digest = repo_digest;
        Ok(image)
    }
}
