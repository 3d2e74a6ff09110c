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
    /// What was asked for; `None` for an image ID, which no tag can move.
    reference: Option<ImageRef>,
    repo_digest: Option<String>,
}

impl DaemonStream {
    /// Asks the daemon `DOCKER_HOST` names (or the default socket) for `wanted` (a reference,
    /// or an image ID when `reference` is `None`) and starts its export.
    pub fn open(
        wanted: String,
        reference: Option<ImageRef>,
        name: &str,
        limits: Limits,
    ) -> Result<Self> {
        let daemon_error = |e: bollard::errors::Error| {
            let said = match e {
                // The daemon's own message, without bollard's status-code preamble.
                bollard::errors::Error::DockerResponseServerError { message, .. } => message,
                other => other.to_string(),
            };
            source_error(name, format!("docker daemon: {}", said_once(&said)))
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| source_error(name, format!("cannot start the I/O runtime: {e}")))?;
        let docker = bollard::Docker::connect_with_defaults().map_err(daemon_error)?;
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
            reference: reference.map(ImageRef::familiar),
            repo_digest: inspect.repo_digests.and_then(|d| d.into_iter().next()),
        })
    }
}

/// Docker wraps errors in their own text (`no such image: x: No such image: x`): keep one.
fn said_once(message: &str) -> String {
    for (at, _) in message.match_indices(": ") {
        let (first, second) = (&message[..at], &message[at + 2..]);
        if first.eq_ignore_ascii_case(second) {
            return first.to_owned();
        }
    }
    message.to_owned()
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

    fn layer_index(&self, member: &str) -> Option<usize> {
        self.archive.layer_index(member)
    }

    fn image(self: Box<Self>) -> Result<Image> {
        let DaemonStream {
            archive,
            reference,
            repo_digest,
            ..
        } = *self;
        let mut image = Box::new(archive).image()?;
        // The export lists every tag the image has, in no useful order; the user named one.
        image.reference = reference;
        image.repo_digest = repo_digest;
        Ok(image)
    }
}

#[cfg(test)]
mod tests {
    use super::said_once;

    #[test]
    fn a_wrapped_daemon_message_is_said_once() {
        assert_eq!(
            said_once("no such image: nope/x:1: No such image: nope/x:1"),
            "no such image: nope/x:1"
        );
        assert_eq!(said_once("connection refused"), "connection refused");
    }
}
