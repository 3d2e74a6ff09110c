//! The local Docker Engine: `GET /images/{name}/get` streamed straight into the `docker save`
//! stream reader, so nothing is written to disk. bollard is async; the export runs on a small
//! runtime thread and reaches the synchronous walker through a bounded channel.

use super::{ImageRef, Opened, ScanLayer, docker_archive, source_error};
use crate::error::Result;
use crate::limits::Limits;
use bytes_reader::ChannelReader;
use futures_util::StreamExt;

/// Exports `reference` from the daemon `DOCKER_HOST` names (or the default socket) and reads it.
pub fn open(
    reference: &ImageRef,
    name: &str,
    limits: &Limits,
    scan: &ScanLayer<'_>,
) -> Result<Opened> {
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
    let (tx, rx) = crossbeam_channel::bounded(16);
    let exporter = {
        let wanted = wanted.clone();
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let mut chunks = docker.export_image(&wanted);
                while let Some(chunk) = chunks.next().await {
                    let chunk = chunk.map_err(std::io::Error::other);
                    let failed = chunk.is_err();
                    if tx.send(chunk).is_err() || failed {
                        break;
                    }
                }
            })
        })
    };
    let result = docker_archive::stream(ChannelReader::new(rx), name, limits, scan);
    // The exporter stops on its own once the reader is dropped and its channel closes.
    let _ = exporter.join();
    let (mut image, layers) = result?;
    if image.reference.is_none() {
        image.reference = Some(reference.clone());
    }
    image.repo_digest = inspect.repo_digests.and_then(|d| d.into_iter().next());
    Ok(Opened::Streamed(image, layers))
}

mod bytes_reader {
    //! A `Read` over a channel of byte chunks.
    use std::io::{self, Read};

    pub struct ChannelReader {
        rx: crossbeam_channel::Receiver<io::Result<bytes::Bytes>>,
        current: bytes::Bytes,
    }

    impl ChannelReader {
        pub fn new(rx: crossbeam_channel::Receiver<io::Result<bytes::Bytes>>) -> Self {
            ChannelReader {
                rx,
                current: bytes::Bytes::new(),
            }
        }
    }

    impl Read for ChannelReader {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            while self.current.is_empty() {
                match self.rx.recv() {
                    Ok(chunk) => self.current = chunk?,
                    Err(_) => return Ok(0),
                }
            }
            let n = buf.len().min(self.current.len());
            buf[..n].copy_from_slice(&self.current[..n]);
            bytes::Buf::advance(&mut self.current, n);
            Ok(n)
        }
    }
}
