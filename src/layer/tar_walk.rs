//! Tar entries to file events. Paths are normalised here, once, so that nothing downstream ever
//! sees `./`, `//` or `..`; whiteouts become deletions instead of files.

use crate::event::{FileKind, FileMeta};

/// What one tar entry means for the filesystem.
#[derive(Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A file, directory, link or device.
    File(FileMeta),
    /// `.wh.NAME`: delete `NAME` (and everything under it) from lower layers.
    Whiteout(String),
    /// `.wh..wh..opq`: hide everything lower layers put in this directory.
    OpaqueDir(String),
    /// Overlay bookkeeping (`.wh..wh.plnk` and friends) that is not part of the filesystem.
    Ignored,
}

/// Normalises a tar path to an absolute path. `Err` carries the raw name when `..` climbs above
/// the root: a runtime would clamp or refuse it, so it is reported rather than followed.
pub fn normalise(raw: &[u8]) -> Result<String, String> {
    let text = String::from_utf8_lossy(raw);
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(text.into_owned());
                }
            }
            p => parts.push(p),
        }
    }
    let mut out = String::with_capacity(text.len() + 1);
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// Classifies an entry whose path is already normalised.
pub fn classify(path: String, header: &tar::Header, size: u64, link: Option<String>) -> EntryKind {
    let (dir, name) = match path.rsplit_once('/') {
        Some((d, n)) => (if d.is_empty() { "/" } else { d }, n),
        None => ("/", path.as_str()),
    };
    if name == ".wh..wh..opq" {
        return EntryKind::OpaqueDir(dir.to_owned());
    }
    if name.starts_with(".wh..wh.") {
        return EntryKind::Ignored;
    }
    if let Some(hidden) = name.strip_prefix(".wh.") {
        let target = if dir == "/" {
            format!("/{hidden}")
        } else {
            format!("{dir}/{hidden}")
        };
        return EntryKind::Whiteout(target);
    }
    let kind = match header.entry_type() {
        tar::EntryType::Directory => FileKind::Dir,
        tar::EntryType::Symlink => FileKind::Symlink,
        tar::EntryType::Link => FileKind::HardLink,
        tar::EntryType::Char => FileKind::CharDevice,
        tar::EntryType::Block => FileKind::BlockDevice,
        tar::EntryType::Fifo => FileKind::Fifo,
        _ => FileKind::Regular,
    };
    let size = if kind == FileKind::Regular { size } else { 0 };
    EntryKind::File(FileMeta {
        path,
        kind,
        mode: header.mode().unwrap_or(0) & 0o7777,
        uid: header.uid().unwrap_or(0),
        gid: header.gid().unwrap_or(0),
        size,
        link_target: link,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_and_escapes_reported() {
        assert_eq!(normalise(b"./usr//bin/./su").unwrap(), "/usr/bin/su");
        assert_eq!(normalise(b"usr/bin/").unwrap(), "/usr/bin");
        assert_eq!(normalise(b"a/b/../c").unwrap(), "/a/c");
        assert_eq!(normalise(b"./").unwrap(), "/");
        assert_eq!(normalise(b"../../etc/evil").unwrap_err(), "../../etc/evil");
        assert!(normalise(b"a/../../escape").is_err());
    }

    #[test]
    fn whiteouts_are_recognised() {
        let h = tar::Header::new_gnu();
        assert_eq!(
            classify("/etc/.wh.shadow".into(), &h, 0, None),
            EntryKind::Whiteout("/etc/shadow".into())
        );
        assert_eq!(
            classify("/.wh.tmp".into(), &h, 0, None),
            EntryKind::Whiteout("/tmp".into())
        );
        assert_eq!(
            classify("/opt/cache/.wh..wh..opq".into(), &h, 0, None),
            EntryKind::OpaqueDir("/opt/cache".into())
        );
        assert_eq!(
            classify("/.wh..wh.plnk".into(), &h, 0, None),
            EntryKind::Ignored
        );
    }
}
