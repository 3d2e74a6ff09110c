//! SHA-256 on a second core. A layer's two digests cost about as much CPU as inflating it; when
//! a core would otherwise sit idle (one big layer, the last layer, a single stream), the bytes
//! are handed to a hashing thread in large shared chunks instead, and the walk only copies them.

use crate::digest::Digest;
use bytes::{Bytes, BytesMut};
use sha2::{Digest as _, Sha256};
use std::io::{self, Read};

/// Bytes gathered before a chunk is handed over: large enough that the channel costs nothing.
const CHUNK: usize = 256 << 10;
/// Chunks in flight, per thread: bounds the memory a slow hasher can pile up.
const IN_FLIGHT: usize = 16;

/// Which of the two digests a chunk belongs to.
#[derive(Debug, Clone, Copy)]
pub(super) enum Stream {
    /// The blob as stored.
    Blob = 0,
    /// The uncompressed tar stream.
    Tar = 1,
}

/// Where readers send their bytes.
#[derive(Clone)]
pub(super) struct HashSender(crossbeam_channel::Sender<(Stream, Bytes)>);

/// Starts the hashing thread in `scope`; it ends when every sender is gone and returns both
/// digests with their byte counts.
pub(super) fn spawn<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
) -> (
    HashSender,
    std::thread::ScopedJoinHandle<'scope, [(Digest, u64); 2]>,
) {
    let (tx, rx) = crossbeam_channel::bounded::<(Stream, Bytes)>(IN_FLIGHT);
    let handle = scope.spawn(move || {
        let mut hashers = [Sha256::new(), Sha256::new()];
        let mut counts = [0u64; 2];
        for (stream, chunk) in rx {
            hashers[stream as usize].update(&chunk);
            counts[stream as usize] += chunk.len() as u64;
        }
        let [blob, tar] = hashers;
        [
            (Digest::from_bytes(blob.finalize().into()), counts[0]),
            (Digest::from_bytes(tar.finalize().into()), counts[1]),
        ]
    });
    (HashSender(tx), handle)
}

/// A `Read` that passes its bytes on to the hashing thread.
pub(super) struct Sending<R> {
    inner: R,
    stream: Stream,
    tx: HashSender,
    pending: BytesMut,
}

impl<R: Read> Sending<R> {
    pub(super) fn new(inner: R, stream: Stream, tx: HashSender) -> Self {
        Sending {
            inner,
            stream,
            tx,
            pending: BytesMut::with_capacity(CHUNK),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.pending, BytesMut::with_capacity(CHUNK)).freeze();
        self.tx
            .0
            .send((self.stream, chunk))
            .map_err(|_| io::Error::other("the hashing thread stopped"))
    }

    /// Reads what is left, so the digest covers the whole stream, and hands over the last chunk.
    pub(super) fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        self.flush()
    }
}

impl<R: Read> Read for Sending<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() >= CHUNK {
            self.flush()?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_streams_hash_like_inline_digests() {
        let blob: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7) as u8).collect();
        let tar: Vec<u8> = (0..700_001u32).map(|i| (i * 13) as u8).collect();
        let digests = std::thread::scope(|s| {
            let (tx, handle) = spawn(s);
            let mut a = Sending::new(&blob[..], Stream::Blob, tx.clone());
            let mut b = Sending::new(&tar[..], Stream::Tar, tx);
            let mut head = [0u8; 100];
            a.read_exact(&mut head).unwrap();
            b.read_exact(&mut head).unwrap();
            a.finish().unwrap();
            b.finish().unwrap();
            handle.join().unwrap()
        });
        assert_eq!(digests[0], (Digest::of(&blob), blob.len() as u64));
        assert_eq!(digests[1], (Digest::of(&tar), tar.len() as u64));
    }
}
