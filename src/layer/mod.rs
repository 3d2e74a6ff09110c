//! Stage 2 of the flow: one pass over one layer.
//!
//! ```text
//! blob bytes ─► DigestReader (blob digest) ─► gzip | zstd | none ─► DigestReader (diff_id)
//!            ─► Guard (size and ratio limits) ─► tar entries ─► FileMeta ─► LayerSink
//! ```
//!
//! The walker takes any byte stream — a file slice, standard input, a registry response — and
//! never touches the disk. It asks its [`LayerSink`] one question per file ([`LayerSink::plan`]),
//! reads contents only as far as the answer says, and reads the blob to its very end so both
//! digests cover every byte. It knows nothing of rules, catalogers or images: what it returns is
//! the tar content's own facts ([`LayerContent`], keyed by its diff_id, the same whichever blob
//! carried it) and, apart, the blob's ([`BlobFacts`]).

pub mod decompress;
pub mod files;
mod hash_thread;
#[cfg(feature = "isal")]
pub mod isal;
pub mod tar_walk;

use crate::digest::{Digest, DigestReader};
use crate::event::{FileEvent, FileMeta, Interest};
use crate::limits::Limits;
use decompress::Compression;
use files::{FileTable, FileTableBuilder};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read};
use tar_walk::EntryKind;

/// What the tar stream of one layer holds. Nothing here depends on the blob that carried it
/// (compression, blob digest), on the image, or on the layer's position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerContent {
    /// sha256 of the uncompressed tar stream (the config's `rootfs.diff_ids` entry).
    pub diff_id: Option<Digest>,
    /// Bytes in the uncompressed tar stream.
    pub tar_size: u64,
    /// Sum of regular-file sizes.
    pub content_size: u64,
    /// Files, directories and links, sorted by path; a path the tar repeats keeps its last entry.
    pub files: FileTable,
    /// Paths deleted from lower layers (`.wh.NAME`).
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer contents are hidden (`.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
    /// Raw names whose `..` components climb above the root; not part of the filesystem.
    pub escapes: Vec<String>,
    /// Contents of small files kept for image-level checks, keyed by path.
    pub retained: BTreeMap<String, Retained>,
}

/// The kept contents of one file; stored as bytes, not as a list of numbers, by binary encoders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Retained(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// What one pass learned about the blob as stored, apart from its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobFacts {
    /// sha256 of the blob as stored (compressed).
    pub digest: Digest,
    /// Bytes in the blob as stored.
    pub size: u64,
    /// The compression found.
    pub compression: Compression,
}

/// What the walker does with one file: the single question it asks a [`LayerSink`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Skip it, pass its metadata, read its contents, or read and keep them.
    pub interest: Interest,
    /// Most content bytes read for [`LayerSink::file`] when `interest` is `Content` or above;
    /// a longer file's event is marked truncated.
    pub cap: u64,
    /// Afterwards, hand the whole file to [`LayerSink::stream`] (binaries, archives): the sink
    /// keeps only the regions it needs, so a file of any size costs bounded memory.
    pub stream: bool,
}

impl Plan {
    /// Nothing to do with this file.
    pub const SKIP: Plan = Plan {
        interest: Interest::None,
        cap: 0,
        stream: false,
    };
}

/// The consumer the walker pushes files into.
pub trait LayerSink {
    /// What to do with this file.
    fn plan(&mut self, meta: &FileMeta) -> Plan;
    /// Called for every file whose plan's interest is above `None`.
    fn file(&mut self, event: &FileEvent<'_>, interest: Interest);
    /// Reads a file whose plan asked to stream it. `reader` yields the whole file, from its first
    /// byte, even when part of it was already read for [`LayerSink::file`]; whatever the sink
    /// leaves unread is skipped. Only read errors may be returned: they abort the layer.
    fn stream(&mut self, _meta: &FileMeta, _reader: &mut dyn Read) -> io::Result<()> {
        Ok(())
    }
}

/// Why a layer could not be read. The scan adds the image name and layer index.
#[derive(Debug, thiserror::Error)]
#[error("{}{reason}", path.as_deref().map(|p| format!("{p}: ")).unwrap_or_default())]
pub struct WalkError {
    /// The tar path being read, when the failure happened inside an entry.
    pub path: Option<String>,
    /// What went wrong.
    pub reason: String,
    /// True when a [`Limits`] cap was hit (as opposed to bad or truncated data).
    pub limit: bool,
}

impl WalkError {
    fn io(path: Option<&str>, err: io::Error) -> Self {
        // The guard reports limits through io::Error so that they surface from deep inside the
        // decoder; recover the distinction here.
        let limit = err
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<LimitHit>().is_some());
        let text = err.to_string();
        let reason =
            if err.kind() == io::ErrorKind::UnexpectedEof || text.contains("unexpected EOF") {
                format!("the data ends early: the layer is truncated ({text})")
            } else {
                text
            };
        WalkError {
            path: path.map(str::to_owned),
            reason,
            limit,
        }
    }
}

#[derive(Debug)]
struct LimitHit(String);

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitHit {}

/// Enforces the layer size limit on the decompressed stream. A high compression ratio alone is
/// no reason to stop: nothing decompressed is held, so a layer of zeros (a sparse `lastlog`)
/// only costs the time to inflate it; the scan reports the ratio as a warning instead.
struct Guard<R> {
    inner: R,
    out: u64,
    limits: Limits,
}

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.out += n as u64;
        if self.out > self.limits.max_layer_bytes {
            return Err(io::Error::other(LimitHit(format!(
                "uncompressed layer exceeds max_layer_bytes ({} bytes)",
                self.limits.max_layer_bytes
            ))));
        }
        Ok(n)
    }
}

/// Where the walk computes its two digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hashing {
    /// On the walking thread.
    Inline,
    /// On a second thread, for when a core would otherwise be idle: the walk then costs about
    /// a quarter less wall time for a few percent more CPU.
    Threaded,
}

/// Reads one layer blob to its end and returns what it holds, hashing on this thread.
///
/// `declared` is the compression the media type promises (`None` when the source does not say);
/// it must match the blob's magic bytes.
pub fn walk(
    blob: impl Read,
    declared: Option<Compression>,
    limits: &Limits,
    sink: &mut dyn LayerSink,
) -> Result<(BlobFacts, LayerContent), WalkError> {
    walk_with(blob, declared, limits, sink, Hashing::Inline)
}

/// [`walk`], choosing where the digests are computed.
pub fn walk_with(
    blob: impl Read,
    declared: Option<Compression>,
    limits: &Limits,
    sink: &mut dyn LayerSink,
    hashing: Hashing,
) -> Result<(BlobFacts, LayerContent), WalkError> {
    if hashing == Hashing::Threaded {
        return std::thread::scope(|scope| walk_hashing_aside(scope, blob, declared, limits, sink));
    }
    let mut raw = BufReader::with_capacity(256 << 10, blob);
    let found = sniff(&mut raw, declared)?;
    let mut content = LayerContent::default();
    let (diff_id, tar_size, digest, size);
    match found {
        // The blob is the tar stream: one SHA-256 is both digests (half the CPU of a
        // `docker save` layer).
        Compression::None => {
            let mut tar = DigestReader::new(&mut raw);
            walk_counted(&mut tar, limits, sink, &mut content)?;
            (diff_id, tar_size) = tar.finish().map_err(|e| WalkError::io(None, e))?;
            (digest, size) = (diff_id.clone(), tar_size);
        }
        Compression::Gzip | Compression::Zstd => {
            let mut hashed = DigestReader::new(&mut raw);
            {
                let mut tar = DigestReader::new(decoder(&mut hashed, found)?);
                walk_counted(&mut tar, limits, sink, &mut content)?;
                (diff_id, tar_size) = tar.finish().map_err(|e| WalkError::io(None, e))?;
            }
            // Bytes after the compressed stream's end are still part of the blob digest.
            (digest, size) = hashed.finish().map_err(|e| WalkError::io(None, e))?;
        }
    }
    content.diff_id = Some(diff_id);
    content.tar_size = tar_size;
    let facts = BlobFacts {
        digest,
        size,
        compression: found,
    };
    Ok((facts, content))
}

/// The walk with both digests computed on a hashing thread in `scope`.
fn walk_hashing_aside<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    blob: impl Read,
    declared: Option<Compression>,
    limits: &Limits,
    sink: &mut dyn LayerSink,
) -> Result<(BlobFacts, LayerContent), WalkError> {
    let io = |e| WalkError::io(None, e);
    let (tx, hashes) = hash_thread::spawn(scope);
    let mut raw = BufReader::with_capacity(
        256 << 10,
        hash_thread::Sending::new(blob, hash_thread::Stream::Blob, tx.clone()),
    );
    let found = sniff(&mut raw, declared)?;
    let mut content = LayerContent::default();
    if found == Compression::None {
        walk_counted(&mut raw, limits, sink, &mut content)?;
    } else {
        let mut tar = hash_thread::Sending::new(
            decoder(&mut raw, found)?,
            hash_thread::Stream::Tar,
            tx.clone(),
        );
        walk_counted(&mut tar, limits, sink, &mut content)?;
        tar.finish().map_err(io)?;
    }
    // What the buffer holds was already handed over; the rest of the blob is read here.
    raw.into_inner().finish().map_err(io)?;
    drop(tx);
    let [(digest, size), tar] = hashes.join().map_err(|_| WalkError {
        path: None,
        reason: "the hashing thread failed".into(),
        limit: false,
    })?;
    // An uncompressed blob is its tar stream: its one digest is both.
    let (diff_id, tar_size) = if found == Compression::None {
        (digest.clone(), size)
    } else {
        tar
    };
    content.diff_id = Some(diff_id);
    content.tar_size = tar_size;
    Ok((
        BlobFacts {
            digest,
            size,
            compression: found,
        },
        content,
    ))
}

/// The blob's compression from its first bytes, which must agree with what the media type says.
fn sniff(raw: &mut impl BufRead, declared: Option<Compression>) -> Result<Compression, WalkError> {
    let found = Compression::sniff(raw).map_err(|e| WalkError::io(None, e))?;
    if let Some(declared) = declared
        && declared != found
    {
        return Err(WalkError {
            path: None,
            reason: format!(
                "media type declares {} but the blob is {}",
                declared.name(),
                found.name()
            ),
            limit: false,
        });
    }
    Ok(found)
}

/// The decompressing reader over a blob of `found` compression.
fn decoder<'a>(
    compressed: impl BufRead + 'a,
    found: Compression,
) -> Result<Box<dyn Read + 'a>, WalkError> {
    Ok(match found {
        Compression::None => Box::new(compressed),
        Compression::Gzip => decompress::gzip_decoder(compressed),
        Compression::Zstd => {
            Box::new(zstd::Decoder::with_buffer(compressed).map_err(|e| WalkError::io(None, e))?)
        }
    })
}

/// Walks a decompressed tar stream and reads it to its end: trailing bytes after the tar's
/// end-of-archive blocks are still part of the diff_id.
fn walk_counted(
    decoded: &mut dyn Read,
    limits: &Limits,
    sink: &mut dyn LayerSink,
    content: &mut LayerContent,
) -> Result<(), WalkError> {
    let mut guarded = Guard {
        inner: decoded,
        out: 0,
        limits: *limits,
    };
    walk_tar(
        BufReader::with_capacity(256 << 10, &mut guarded),
        limits,
        sink,
        content,
    )?;
    io::copy(&mut guarded, &mut io::sink()).map_err(|e| WalkError::io(None, e))?;
    Ok(())
}

fn walk_tar(
    stream: impl Read,
    limits: &Limits,
    sink: &mut dyn LayerSink,
    summary: &mut LayerContent,
) -> Result<(), WalkError> {
    let mut files = FileTableBuilder::default();
    let mut archive = tar::Archive::new(stream);
    let mut content = Vec::new();
    let mut last_path: Option<String> = None;
    let entries = archive.entries().map_err(|e| WalkError::io(None, e))?;
    for (count, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| WalkError::io(last_path.as_deref(), e))?;
        if count as u64 >= limits.max_entries {
            return Err(WalkError {
                path: None,
                reason: format!("more than max_entries ({}) tar entries", limits.max_entries),
                limit: true,
            });
        }
        let raw = entry.path_bytes().into_owned();
        let path = match tar_walk::normalise(&raw) {
            Ok(p) => p,
            Err(escaped) => {
                summary.escapes.push(escaped);
                continue;
            }
        };
        if path == "/" {
            continue;
        }
        last_path = Some(path.clone());
        let link = match entry.link_name_bytes() {
            Some(l) if entry.header().entry_type() == tar::EntryType::Link => {
                Some(tar_walk::normalise(&l).unwrap_or_else(|e| e))
            }
            Some(l) => Some(String::from_utf8_lossy(&l).into_owned()),
            None => None,
        };
        let size = entry.size();
        match tar_walk::classify(path, entry.header(), size, link) {
            EntryKind::File(meta) => {
                summary.content_size += meta.size;
                let plan = sink.plan(&meta);
                let interest = plan.interest;
                let mut prefix_len = 0;
                if interest >= Interest::Content && meta.size > 0 {
                    content.clear();
                    (&mut entry)
                        .take(plan.cap)
                        .read_to_end(&mut content)
                        .map_err(|e| WalkError::io(Some(&meta.path), e))?;
                    let event = FileEvent {
                        meta: &meta,
                        content: Some(&content),
                        truncated: meta.size > plan.cap,
                    };
                    sink.file(&event, interest);
                    prefix_len = content.len();
                    if interest == Interest::Retain {
                        let keep = (limits.max_retained_bytes as usize).min(content.len());
                        summary
                            .retained
                            .insert(meta.path.clone(), Retained(content[..keep].to_vec()));
                    }
                } else if interest > Interest::None {
                    let event = FileEvent {
                        meta: &meta,
                        content: None,
                        truncated: false,
                    };
                    sink.file(&event, interest);
                }
                if meta.size > 0 && plan.stream {
                    // The bytes already read for `file` are replayed first, so the streaming
                    // consumer sees the file from its start without a second read of the layer.
                    let mut whole = (&content[..prefix_len]).chain(&mut entry);
                    sink.stream(&meta, &mut whole)
                        .map_err(|e| WalkError::io(Some(&meta.path), e))?;
                }
                files.push(&meta).map_err(|e| WalkError {
                    path: Some(meta.path.clone()),
                    reason: e.to_string(),
                    limit: true,
                })?;
            }
            EntryKind::Whiteout(p) => summary.whiteouts.push(p),
            EntryKind::OpaqueDir(p) => summary.opaque_dirs.push(p),
            EntryKind::Ignored => {}
        }
    }
    // Make the truncated-entry case visible: tar's iterator stops quietly if the stream ends
    // mid-entry only when the missing bytes are skipped, so force the reader to drain now.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(|e| WalkError::io(last_path.as_deref(), e))?;
    summary.files = files.finish();
    Ok(())
}

/// A layer tar of regular files `(path, contents, mode)`, for tests across the crate.
#[cfg(test)]
pub(crate) fn tar_of(entries: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data, mode) in entries {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(*mode);
        h.set_entry_type(tar::EntryType::Regular);
        b.append_data(&mut h, path, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Everything(Vec<String>);
    impl LayerSink for Everything {
        fn plan(&mut self, meta: &FileMeta) -> Plan {
            let interest = if meta.path.ends_with("passwd") {
                Interest::Retain
            } else {
                Interest::Meta
            };
            Plan {
                interest,
                cap: 1 << 20,
                stream: false,
            }
        }
        fn file(&mut self, event: &FileEvent<'_>, _: Interest) {
            self.0.push(event.meta.path.clone());
        }
    }

    #[test]
    fn plain_and_gzip_layers_give_the_same_summary() {
        let tar = tar_of(&[
            ("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644),
            ("usr/bin/su", b"x", 0o4755),
            ("etc/.wh.shadow", b"", 0o644),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let limits = Limits::default();
        let mut sink = Everything(Vec::new());
        let (plain_blob, plain) =
            walk(&tar[..], Some(Compression::None), &limits, &mut sink).unwrap();
        let (zipped_blob, zipped) =
            walk(&gz[..], Some(Compression::Gzip), &limits, &mut sink).unwrap();
        assert_eq!(plain, zipped, "the content does not depend on the blob");
        assert_eq!(plain.diff_id, Some(Digest::of(&tar)));
        assert_eq!(plain_blob.digest, Digest::of(&tar));
        assert_eq!(zipped_blob.digest, Digest::of(&gz));
        assert_eq!(zipped_blob.compression, Compression::Gzip);
        assert_eq!(plain.files.len(), 2);
        assert_eq!(plain.whiteouts, vec!["/etc/shadow".to_string()]);
        assert!(plain.retained["/etc/passwd"].0.starts_with(b"root:"));
        assert_eq!(sink.0.len(), 4);
    }

    #[test]
    fn hashing_aside_gives_the_same_result_for_every_compression() {
        let tar = tar_of(&[
            ("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", 0o644),
            ("data/big", &vec![9u8; 3 << 20], 0o644),
        ]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&tar[..], 1).unwrap();
        let limits = Limits::default();
        for blob in [&tar, &gz, &zst] {
            let inline = walk_with(
                &blob[..],
                None,
                &limits,
                &mut Everything(Vec::new()),
                Hashing::Inline,
            );
            let aside = walk_with(
                &blob[..],
                None,
                &limits,
                &mut Everything(Vec::new()),
                Hashing::Threaded,
            );
            let (inline, aside) = (inline.unwrap(), aside.unwrap());
            assert_eq!(inline, aside);
            assert_eq!(aside.0.digest, Digest::of(blob));
            assert_eq!(aside.1.diff_id, Some(Digest::of(&tar)));
        }
        let err = walk_with(
            &gz[..gz.len() / 2],
            None,
            &limits,
            &mut Everything(Vec::new()),
            Hashing::Threaded,
        )
        .unwrap_err();
        assert!(err.reason.contains("truncated"), "{}", err.reason);
    }

    #[test]
    fn long_names_hard_links_and_symlinks_keep_their_meaning() {
        let long = format!("usr/share/{}/{}.txt", "d".repeat(120), "n".repeat(150));
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        b.append_data(&mut h, &long, &b"hi"[..]).unwrap();
        let mut link = tar::Header::new_gnu();
        link.set_entry_type(tar::EntryType::Link);
        link.set_size(0);
        b.append_link(&mut link, "app/hard", &long).unwrap();
        let mut sym = tar::Header::new_gnu();
        sym.set_entry_type(tar::EntryType::Symlink);
        sym.set_size(0);
        b.append_link(&mut sym, "app/soft", "../etc/passwd")
            .unwrap();
        let tar = b.into_inner().unwrap();
        let (_, s) = walk(
            &tar[..],
            None,
            &Limits::default(),
            &mut Everything(Vec::new()),
        )
        .unwrap();
        let files: Vec<FileMeta> = s.files.iter().collect();
        assert_eq!(files[2].path, format!("/{long}"));
        assert_eq!(files[2].size, 2);
        assert_eq!(files[0].kind, crate::event::FileKind::HardLink);
        assert_eq!(
            files[0].link_target.as_deref(),
            Some(format!("/{long}").as_str())
        );
        assert_eq!(files[1].kind, crate::event::FileKind::Symlink);
        assert_eq!(
            files[1].link_target.as_deref(),
            Some("../etc/passwd"),
            "symlink targets stay raw"
        );
    }

    #[test]
    fn mislabelled_and_truncated_blobs_are_errors() {
        let tar = tar_of(&[("a", &[7u8; 5000], 0o644)]);
        let mut sink = Everything(Vec::new());
        let limits = Limits::default();
        let err = walk(&tar[..], Some(Compression::Gzip), &limits, &mut sink).unwrap_err();
        assert!(err.reason.contains("declares gzip"), "{}", err.reason);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        let err = walk(&gz[..gz.len() / 2], None, &limits, &mut sink).unwrap_err();
        assert!(!err.limit);
    }

    #[test]
    fn a_layer_that_compresses_well_is_read_and_one_too_large_is_refused() {
        let zeros = vec![0u8; 8 << 20];
        let tar = tar_of(&[("var/log/lastlog", &zeros, 0o644)]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        let gz = gz.finish().unwrap();
        assert!(tar.len() / gz.len() > 200, "a ratio the old guard refused");
        let (blob, content) = walk(
            &gz[..],
            None,
            &Limits::default(),
            &mut Everything(Vec::new()),
        )
        .unwrap();
        assert_eq!(content.tar_size, tar.len() as u64);
        assert_eq!(blob.size, gz.len() as u64);
        let limits = Limits {
            max_layer_bytes: 1 << 20,
            ..Limits::default()
        };
        let err = walk(&gz[..], None, &limits, &mut Everything(Vec::new())).unwrap_err();
        assert!(err.limit, "{}", err.reason);
        assert!(err.reason.contains("max_layer_bytes"), "{}", err.reason);
    }
}
