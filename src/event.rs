//! File events: the only view of a layer that rules and catalogers get. The tar walker turns each
//! entry into a [`FileMeta`], asks every consumer for its [`Interest`], and reads the contents once,
//! only when someone asked, sharing the bytes between everyone who did.

use serde::Serialize;

/// What kind of filesystem object an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A regular file.
    Regular,
    /// A directory.
    Dir,
    /// A symbolic link; the target is in [`FileMeta::link_target`].
    Symlink,
    /// A hard link to another path of the same layer, named in [`FileMeta::link_target`].
    HardLink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
}

/// Metadata of one file as a layer records it. Paths are absolute and normalised (`/usr/bin/su`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileMeta {
    /// Absolute, normalised path (no `.`/`..` components, no trailing slash).
    pub path: String,
    /// The kind of object.
    pub kind: FileKind,
    /// Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000).
    pub mode: u32,
    /// Owner uid.
    pub uid: u64,
    /// Owner gid.
    pub gid: u64,
    /// Size of the contents in bytes (0 for links and directories).
    pub size: u64,
    /// Symlink or hard-link target, as recorded in the tar header.
    pub link_target: Option<String>,
}

impl FileMeta {
    /// True when the setuid or setgid bit is set on a regular file.
    pub fn is_setid(&self) -> bool {
        self.kind == FileKind::Regular && self.mode & 0o6000 != 0
    }

    /// The file name (last path component).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }
}

/// How much of a file a rule or cataloger needs. Ordered: the walker serves the largest request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Interest {
    /// Not interested.
    None,
    /// Call `check_file` with metadata only.
    Meta,
    /// Read the contents (up to the limit) and call `check_file` with them.
    Content,
    /// Read the contents and also keep them in the layer summary, so image-level checks can read
    /// the version the final filesystem holds (small files such as `/etc/passwd`).
    Retain,
}

/// One file as it streams past, with its contents when someone asked for them.
#[derive(Debug, Clone, Copy)]
pub struct FileEvent<'a> {
    /// The file's metadata.
    pub meta: &'a FileMeta,
    /// The contents, when the largest interest was `Content` or `Retain`.
    pub content: Option<&'a [u8]>,
    /// True when `content` stops at the read limit rather than at the end of the file.
    pub truncated: bool,
}

#[cfg(test)]
impl FileMeta {
    /// A one-byte regular file, mode 0644, owned by root: what most cataloger tests need.
    pub(crate) fn test_file(path: &str) -> Self {
        FileMeta {
            path: path.into(),
            kind: FileKind::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 1,
            link_target: None,
        }
    }
}
