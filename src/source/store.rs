//! Random-access blob stores: a directory (OCI layout) or a tar file indexed once by member
//! offsets (OCI archive, `docker save` file). Every open is an independent reader, so layers can
//! be read on several threads at once.
//!
//! Two views of one store: [`Members`] reads documents by path, which only the source's own
//! resolution uses; [`BlobStore`] opens a layer by its descriptor, which is all the scan sees.

use super::{LayerDescriptor, source_error};
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

/// Where the scan reads layer blobs from.
pub trait BlobStore: Send + Sync {
    /// Opens the blob a descriptor names.
    fn open(&self, layer: &LayerDescriptor) -> Result<Box<dyn Read + Send + '_>>;

    /// How many bytes the blob holds, as far as is known before reading it: for planning the
    /// work, never for checking the blob.
    fn size_hint(&self, layer: &LayerDescriptor) -> Option<u64> {
        layer.size
    }
}

/// Members of an archive or files of a directory, by path.
pub trait Members: Send + Sync {
    /// Opens a member (`blobs/sha256/…`, `abc/layer.tar`) for reading.
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>>;

    /// True when the member exists.
    fn exists(&self, path: &str) -> bool;

    /// The member's size, where the container of members records it.
    fn size(&self, _path: &str) -> Option<u64> {
        None
    }

    /// Reads a small member whole, refusing more than `max` bytes.
    fn read_small(&self, path: &str, max: u64, image: &str) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.open(path)?
            .take(max + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::io(path, e))?;
        if out.len() as u64 > max {
            return Err(source_error(
                image,
                format!("{path} is larger than max_json_bytes ({max} bytes)"),
            ));
        }
        Ok(out)
    }
}

/// Layers named by their member path (`docker save`'s `<id>/layer.tar`).
pub struct ByLocation<M>(pub M);

impl<M: Members> BlobStore for ByLocation<M> {
    fn open(&self, layer: &LayerDescriptor) -> Result<Box<dyn Read + Send + '_>> {
        self.0.open(&layer.location)
    }

    fn size_hint(&self, layer: &LayerDescriptor) -> Option<u64> {
        layer.size.or_else(|| self.0.size(&layer.location))
    }
}

/// Layers named by digest, in an OCI layout's `blobs/<alg>/<hex>`.
pub struct ByDigest<M>(pub M);

/// The path of a blob in an OCI layout.
pub fn blob_path(digest: &crate::digest::Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

impl<M: Members> BlobStore for ByDigest<M> {
    fn open(&self, layer: &LayerDescriptor) -> Result<Box<dyn Read + Send + '_>> {
        match &layer.digest {
            Some(d) => self.0.open(&blob_path(d)),
            None => self.0.open(&layer.location),
        }
    }

    fn size_hint(&self, layer: &LayerDescriptor) -> Option<u64> {
        layer.size.or_else(|| match &layer.digest {
            Some(d) => self.0.size(&blob_path(d)),
            None => self.0.size(&layer.location),
        })
    }
}

/// Blob paths come from manifests, which are untrusted: refuse anything that leaves the root.
fn checked(path: &str, image: &str) -> Result<PathBuf> {
    let p = Path::new(path);
    if p.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        Ok(p.to_path_buf())
    } else {
        Err(source_error(
            image,
            format!("refusing blob path {path:?} outside the image"),
        ))
    }
}

/// An OCI layout directory.
pub struct DirMembers {
    root: PathBuf,
    image: String,
}

impl DirMembers {
    /// Opens `root`, which must be a directory.
    pub fn new(root: &Path, image: &str) -> Result<Self> {
        if !root.is_dir() {
            return Err(source_error(
                image,
                format!("{} is not a directory", root.display()),
            ));
        }
        Ok(DirMembers {
            root: root.to_path_buf(),
            image: image.to_owned(),
        })
    }
}

impl Members for DirMembers {
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>> {
        let full = self.root.join(checked(path, &self.image)?);
        let f = File::open(&full).map_err(|e| Error::io(full.display().to_string(), e))?;
        Ok(Box::new(f))
    }

    fn exists(&self, path: &str) -> bool {
        checked(path, &self.image).is_ok_and(|p| self.root.join(p).is_file())
    }

    fn size(&self, path: &str) -> Option<u64> {
        let full = self.root.join(checked(path, &self.image).ok()?);
        std::fs::metadata(full).ok().map(|m| m.len())
    }
}

/// A tar file whose members are found by one scan of its headers.
pub struct TarMembers {
    path: PathBuf,
    members: HashMap<String, (u64, u64)>,
}

impl TarMembers {
    /// Reads the headers of `path` (seeking over member data) and remembers each member's span.
    pub fn index(path: &Path, image: &str) -> Result<Self> {
        let io_error = |e| Error::io(path.display().to_string(), e);
        let mut file = File::open(path).map_err(io_error)?;
        let len = file.metadata().map_err(io_error)?.len();
        let mut magic = [0u8; 4];
        let got = file.read(&mut magic).map_err(io_error)?;
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
        if let Some(kind) = compressed(&magic[..got]) {
            return Err(source_error(
                image,
                format!(
                    "{} is {kind}-compressed, not a tar archive; decompress it first",
                    path.display()
                ),
            ));
        }
        let mut archive = tar::Archive::new(file);
        let mut members = HashMap::new();
        // The tar parser's own messages quote the header bytes it choked on; say it in words.
        let mut last: Option<String> = None;
        let bad = |last: &Option<String>| match last {
            None => source_error(image, format!("{} is not a tar archive", path.display())),
            Some(m) => source_error(
                image,
                format!("the tar archive is corrupt or truncated after member {m:?}"),
            ),
        };
        for entry in archive.entries_with_seek().map_err(|_| bad(&last))? {
            let entry = entry.map_err(|_| bad(&last))?;
            let name = String::from_utf8_lossy(&entry.path_bytes())
                .trim_start_matches("./")
                .to_owned();
            let end = entry.raw_file_position() + entry.size();
            if end > len {
                return Err(source_error(
                    image,
                    format!(
                        "the archive is truncated: member {name:?} ends at byte {end}, but the file has {len} bytes"
                    ),
                ));
            }
            if entry.header().entry_type().is_file() {
                members.insert(name.clone(), (entry.raw_file_position(), entry.size()));
            }
            last = Some(name);
        }
        if members.is_empty() {
            return Err(source_error(image, "archive holds no files"));
        }
        Ok(TarMembers {
            path: path.to_path_buf(),
            members,
        })
    }
}

impl Members for TarMembers {
    fn open(&self, member: &str) -> Result<Box<dyn Read + Send + '_>> {
        let member = member.trim_start_matches("./");
        let &(offset, size) = self.members.get(member).ok_or_else(|| Error::Io {
            path: format!("{}:{member}", self.path.display()),
            cause: io::Error::new(io::ErrorKind::NotFound, "no such member in the archive"),
        })?;
        let mut f =
            File::open(&self.path).map_err(|e| Error::io(self.path.display().to_string(), e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(self.path.display().to_string(), e))?;
        Ok(Box::new(f.take(size)))
    }

    fn exists(&self, member: &str) -> bool {
        self.members.contains_key(member.trim_start_matches("./"))
    }

    fn size(&self, member: &str) -> Option<u64> {
        self.members
            .get(member.trim_start_matches("./"))
            .map(|m| m.1)
    }
}

/// The compression a file's first bytes show, if any.
pub(crate) fn compressed(magic: &[u8]) -> Option<&'static str> {
    if magic.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else {
        None
    }
}

/// Documents kept in memory (a stream's JSON members), served by path.
pub struct MemMembers(pub HashMap<String, Vec<u8>>);

impl Members for MemMembers {
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>> {
        match self.0.get(path) {
            Some(b) => Ok(Box::new(&b[..])),
            None => Err(Error::io(
                path,
                io::Error::new(io::ErrorKind::NotFound, "not in the archive"),
            )),
        }
    }

    fn exists(&self, path: &str) -> bool {
        self.0.contains_key(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_know_their_blobs_sizes_before_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        let tar_path = dir.path().join("image.tar");
        let mut builder = tar::Builder::new(File::create(&tar_path).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, "abc/layer.tar", &b"12345"[..])
            .unwrap();
        builder.finish().unwrap();
        drop(builder);
        let layer = |location: &str, size| LayerDescriptor {
            location: location.to_owned(),
            digest: None,
            size,
            media_type: None,
        };
        let archive = ByLocation(TarMembers::index(&tar_path, "image.tar").unwrap());
        assert_eq!(archive.size_hint(&layer("abc/layer.tar", None)), Some(5));
        assert_eq!(archive.size_hint(&layer("abc/layer.tar", Some(9))), Some(9));
        assert_eq!(archive.size_hint(&layer("missing", None)), None);
        let layout = ByDigest(DirMembers::new(dir.path(), "layout").unwrap());
        let size_of_tar = std::fs::metadata(&tar_path).unwrap().len();
        assert_eq!(
            layout.size_hint(&layer("image.tar", None)),
            Some(size_of_tar)
        );
        assert_eq!(layout.size_hint(&layer("../escape", None)), None);
    }
}
