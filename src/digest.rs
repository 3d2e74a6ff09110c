//! Content digests: a validated `sha256:<hex>` newtype and a `Read` adapter that hashes every byte
//! that passes through it, so verification costs no second pass over a layer.

use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

/// A `sha256:<64 lowercase hex>` digest, validated when parsed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Digest(Sha256::digest(bytes).into())
    }

    /// A digest computed elsewhere.
    pub(crate) fn from_bytes(bytes: [u8; 32]) -> Self {
        Digest(bytes)
    }

    /// The 64 hex characters without the algorithm prefix.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Why a string is not a digest we can verify.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseDigest {
    /// Only sha256 is used by OCI and Docker images in practice.
    #[error("unsupported digest algorithm in {0:?} (only sha256)")]
    Algorithm(String),
    /// The hex part is not 64 lowercase hex characters.
    #[error("malformed digest {0:?}")]
    Malformed(String),
}

impl FromStr for Digest {
    type Err = ParseDigest;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some(hex_part) = s.strip_prefix("sha256:") else {
            return Err(ParseDigest::Algorithm(s.to_owned()));
        };
        // Uppercase hex is rejected: the OCI spec requires lowercase, and accepting it would let
        // two spellings of one digest compare unequal elsewhere.
        if hex_part.len() != 64
            || !hex_part
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(ParseDigest::Malformed(s.to_owned()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_part, &mut out)
            .map_err(|_| ParseDigest::Malformed(s.to_owned()))?;
        Ok(Digest(out))
    }
}

/// A `Read` adapter that hashes and counts the bytes read through it.
///
/// The caller compares [`DigestReader::finish`] against what the manifest promised once the
/// stream is at EOF; nothing derived from the stream may be trusted before that.
pub struct DigestReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> DigestReader<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        DigestReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads whatever is left (so the digest covers the whole stream) and returns the digest and
    /// total byte count.
    pub fn finish(mut self) -> io::Result<(Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((Digest(self.hasher.finalize().into()), self.bytes))
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Hashes what the consumer takes, not what is buffered: a decoder reading through `fill_buf`
/// and `consume` needs no second buffer and no copy.
impl<R: io::BufRead> io::BufRead for DigestReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if amount == 0 {
            return;
        }
        // The bytes being consumed are still the front of the buffer: asking again reads nothing.
        if let Ok(buf) = self.inner.fill_buf() {
            let n = amount.min(buf.len());
            self.hasher.update(&buf[..n]);
            self.bytes += n as u64;
        }
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_round_trips_and_rejects_bad_input() {
        let d = Digest::of(b"");
        let s = d.to_string();
        assert_eq!(
            s,
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(s.parse::<Digest>().unwrap(), d);
        assert!(matches!(
            "md5:abc".parse::<Digest>(),
            Err(ParseDigest::Algorithm(_))
        ));
        assert!(matches!(
            "sha256:abc".parse::<Digest>(),
            Err(ParseDigest::Malformed(_))
        ));
        assert!(
            s.to_uppercase()
                .replace("SHA256", "sha256")
                .parse::<Digest>()
                .is_err()
        );
    }

    #[test]
    fn buffered_consumers_are_hashed_exactly_once() {
        use std::io::BufRead;
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut r = DigestReader::new(io::BufReader::with_capacity(4096, &data[..]));
        let mut head = [0u8; 10];
        r.read_exact(&mut head).unwrap();
        let n = r.fill_buf().unwrap().len().min(1000);
        r.consume(n);
        r.consume(0);
        let (d, total) = r.finish().unwrap();
        assert_eq!(total, data.len() as u64);
        assert_eq!(d, Digest::of(&data));
    }

    #[test]
    fn reader_hashes_what_passes_and_the_rest_at_finish() {
        let mut r = DigestReader::new(&b"hello world"[..]);
        let mut first = [0u8; 5];
        r.read_exact(&mut first).unwrap();
        let (d, n) = r.finish().unwrap();
        assert_eq!(n, 11);
        assert_eq!(d, Digest::of(b"hello world"));
    }
}
