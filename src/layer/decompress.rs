//! Choosing the decompressor: the media type says what a layer should be, the first bytes say
//! what it is. Both must agree, so a mislabelled blob is an error rather than garbage fed to tar.

use std::io::{self, BufRead, Read};

/// The gzip inflate this build uses: ISA-L's igzip with the `isal` feature, else zlib-rs.
pub const GZIP_BACKEND: &str = if cfg!(feature = "isal") {
    "ISA-L igzip"
} else {
    "zlib-rs"
};

/// A reader of the decompressed bytes of `compressed`, one or more concatenated gzip members.
/// The one place the gzip backend is chosen: both check every member's header and trailer, and
/// fail alike on bytes after a member that do not start another.
pub fn gzip_decoder<'a>(compressed: impl BufRead + 'a) -> Box<dyn Read + 'a> {
    #[cfg(feature = "isal")]
    let decoder = super::isal::MultiGzDecoder::new(compressed);
    #[cfg(not(feature = "isal"))]
    let decoder = flate2::bufread::MultiGzDecoder::new(compressed);
    Box::new(decoder)
}

/// The compression of a layer blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// A plain tar stream.
    None,
    /// One or more concatenated gzip members.
    Gzip,
    /// Zstandard frames.
    Zstd,
}

impl Compression {
    /// The compression a layer media type declares; `Ok(None)` when the source does not say
    /// (docker-archive members), an error for media types that are not filesystem layers.
    pub fn from_media_type(media_type: Option<&str>) -> Result<Option<Self>, String> {
        let Some(mt) = media_type else {
            return Ok(None);
        };
        let compression = match mt {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar" => Compression::None,
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => Compression::Gzip,
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => Compression::Zstd,
            other => return Err(format!("unsupported layer media type {other:?}")),
        };
        Ok(Some(compression))
    }

    /// What the first bytes of a blob look like. Anything that is neither gzip nor zstd is taken
    /// for a tar stream; the tar walker rejects it if it is not.
    pub fn sniff(reader: &mut impl BufRead) -> io::Result<Self> {
        let head = reader.fill_buf()?;
        Ok(if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        })
    }

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed tar",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_map_and_unknown_ones_are_rejected() {
        assert_eq!(
            Compression::from_media_type(Some("application/vnd.oci.image.layer.v1.tar+zstd")),
            Ok(Some(Compression::Zstd))
        );
        assert_eq!(Compression::from_media_type(None), Ok(None));
        assert!(Compression::from_media_type(Some("application/x-foo")).is_err());
    }

    #[test]
    fn magic_bytes_are_recognised() {
        assert_eq!(
            Compression::sniff(&mut &[0x1f, 0x8b, 8][..]).unwrap(),
            Compression::Gzip
        );
        assert_eq!(
            Compression::sniff(&mut &[0x28, 0xb5, 0x2f, 0xfd][..]).unwrap(),
            Compression::Zstd
        );
        assert_eq!(
            Compression::sniff(&mut &b"etc/"[..]).unwrap(),
            Compression::None
        );
    }
}
