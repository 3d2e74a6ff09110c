//! From async to `Read`: the layer pass is synchronous and pulls bytes, while bollard and the
//! registry client push them from an async runtime. A task drives the byte stream into a bounded
//! channel and [`ChannelReader`] reads it on a plain thread, so back-pressure holds memory to a
//! few chunks whatever the stream's size. The sender awaits room rather than blocking, so many
//! streams can share one runtime's workers.

use futures_util::{Stream, StreamExt};
use std::io::{self, Read};
use std::thread::JoinHandle;

/// Chunks in flight between the runtime thread and the reader.
const CHANNEL_CHUNKS: usize = 16;

/// A `Read` over a channel of byte chunks; a sent error ends the stream with that error. It must
/// be read outside the runtime (it blocks the calling thread while it waits).
pub struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<bytes::Bytes>>,
    current: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        bytes::Buf::advance(&mut self.current, n);
        Ok(n)
    }
}

/// The sending side handed to the task that produces the bytes.
pub struct ChunkSender(tokio::sync::mpsc::Sender<io::Result<bytes::Bytes>>);

/// A connected sender and reader.
pub fn channel() -> (ChunkSender, ChannelReader) {
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL_CHUNKS);
    (
        ChunkSender(tx),
        ChannelReader {
            rx,
            current: bytes::Bytes::new(),
        },
    )
}

impl ChunkSender {
    /// Sends one chunk (or the error that ends the stream); false when the reader has gone.
    pub async fn send(&self, chunk: io::Result<bytes::Bytes>) -> bool {
        self.0.send(chunk).await.is_ok()
    }

    /// Sends every chunk of `chunks` until it ends, fails (the error is sent too) or the reader
    /// goes away.
    pub async fn forward(self, chunks: impl Stream<Item = io::Result<bytes::Bytes>>) {
        futures_util::pin_mut!(chunks);
        while let Some(chunk) = chunks.next().await {
            let failed = chunk.is_err();
            if !self.send(chunk).await || failed {
                break;
            }
        }
    }
}

/// Runs the task `produce` makes on `runtime` in a new thread and returns a reader over the bytes
/// it sends, and the thread's handle. The channel is bounded: a producer that runs ahead waits.
pub fn spawn_reader<F, Fut>(
    runtime: tokio::runtime::Runtime,
    produce: F,
) -> (ChannelReader, JoinHandle<()>)
where
    F: FnOnce(ChunkSender) -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    let (tx, reader) = channel();
    let handle = std::thread::spawn(move || runtime.block_on(produce(tx)));
    (reader, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_arrive_in_order_and_an_error_ends_the_stream() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let (mut reader, handle) = spawn_reader(runtime, |tx| {
            tx.forward(futures_util::stream::iter(vec![
                Ok(bytes::Bytes::from_static(b"hello ")),
                Ok(bytes::Bytes::from_static(b"world")),
                Err(io::Error::other("cut off")),
                Ok(bytes::Bytes::from_static(b"never")),
            ]))
        });
        let mut out = Vec::new();
        let err = reader.read_to_end(&mut out).unwrap_err();
        assert_eq!(out, b"hello world");
        assert_eq!(err.to_string(), "cut off");
        handle.join().unwrap();
    }
}
