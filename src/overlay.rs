//! The final filesystem: layer summaries merged in order, with whiteouts and opaque directories
//! applied the way overlayfs applies them. What the merge hides is kept too, because a secret a
//! later layer deleted is still in the image, and bytes a later layer replaced are wasted.

use crate::event::{FileKind, FileMeta};
use crate::layer::LayerSummary;
use std::collections::BTreeMap;

/// A file present in the final filesystem.
#[derive(Debug, Clone, Copy)]
pub struct LiveFile<'a> {
    /// Its metadata.
    pub meta: &'a FileMeta,
    /// The layer that put this version there.
    pub layer: usize,
}

/// A file version that a later layer deleted or replaced.
#[derive(Debug, Clone, Copy)]
pub struct HiddenFile<'a> {
    /// Its metadata.
    pub meta: &'a FileMeta,
    /// The layer that added it.
    pub layer: usize,
    /// The layer that deleted or replaced it.
    pub removed_in: usize,
    /// True for a deletion (whiteout, opaque dir), false for a replacement.
    pub deleted: bool,
}

/// Final-filesystem metadata, borrowed from the layer summaries.
#[derive(Debug, Default)]
pub struct FileIndex<'a> {
    live: BTreeMap<&'a str, LiveFile<'a>>,
    hidden: Vec<HiddenFile<'a>>,
}

impl<'a> FileIndex<'a> {
    /// Merges layers bottom to top.
    pub fn build(layers: &'a [LayerSummary]) -> Self {
        let mut index = FileIndex::default();
        for (i, layer) in layers.iter().enumerate() {
            // Whiteouts and opaque markers only ever affect lower layers, wherever they appear in
            // this layer's tar, so apply them before this layer's own files.
            for path in &layer.whiteouts {
                index.remove(path, true, i, true);
            }
            for dir in &layer.opaque_dirs {
                index.remove(dir, false, i, true);
            }
            for meta in &layer.files {
                let replaced = index.live.insert(&meta.path, LiveFile { meta, layer: i });
                if let Some(old) = replaced {
                    index.hidden.push(HiddenFile {
                        meta: old.meta,
                        layer: old.layer,
                        removed_in: i,
                        deleted: false,
                    });
                    if old.meta.kind == FileKind::Dir && meta.kind != FileKind::Dir {
                        index.remove(&meta.path, false, i, true);
                    }
                }
            }
        }
        index
    }

    fn remove(&mut self, path: &str, including_self: bool, by: usize, deleted: bool) {
        let mut doomed: Vec<&'a str> = Vec::new();
        if including_self && let Some((k, _)) = self.live.get_key_value(path) {
            doomed.push(k);
        }
        let prefix = if path == "/" {
            "/".to_owned()
        } else {
            format!("{path}/")
        };
        doomed.extend(
            self.live
                .range::<str, _>((
                    std::ops::Bound::Included(prefix.as_str()),
                    std::ops::Bound::<&str>::Unbounded,
                ))
                .take_while(|(k, _)| k.starts_with(&prefix))
                .map(|(k, _)| *k),
        );
        for key in doomed {
            if let Some(old) = self.live.remove(key) {
                self.hidden.push(HiddenFile {
                    meta: old.meta,
                    layer: old.layer,
                    removed_in: by,
                    deleted,
                });
            }
        }
    }

    /// The live version of `path`.
    pub fn get(&self, path: &str) -> Option<LiveFile<'a>> {
        self.live.get(path).copied()
    }

    /// Every live file, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = LiveFile<'a>> + '_ {
        self.live.values().copied()
    }

    /// Every hidden file version, in the order the merge hid them.
    pub fn hidden(&self) -> &[HiddenFile<'a>] {
        &self.hidden
    }

    /// Number of live files.
    pub fn len(&self) -> usize {
        self.live.len()
    }

    /// True when the final filesystem is empty.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// The layer that deleted or replaced the version of `path` added by `layer`, if any.
    pub fn removed_in(&self, path: &str, layer: usize) -> Option<usize> {
        self.hidden
            .iter()
            .find(|h| h.layer == layer && h.meta.path == path)
            .map(|h| h.removed_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> FileMeta {
        FileMeta {
            path: path.into(),
            kind: FileKind::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            link_target: None,
        }
    }

    fn dir(path: &str) -> FileMeta {
        FileMeta {
            kind: FileKind::Dir,
            ..file(path, 0)
        }
    }

    #[test]
    fn whiteouts_opaque_dirs_and_overwrites_are_applied() {
        let layers = vec![
            LayerSummary {
                files: vec![
                    dir("/opt"),
                    file("/opt/a", 10),
                    file("/etc/key", 5),
                    dir("/c"),
                    file("/c/x", 1),
                ],
                ..Default::default()
            },
            LayerSummary {
                files: vec![file("/opt/b", 3), file("/etc/key", 7)],
                whiteouts: vec!["/c".into()],
                opaque_dirs: vec!["/opt".into()],
                ..Default::default()
            },
        ];
        let index = FileIndex::build(&layers);
        assert!(index.get("/opt/a").is_none());
        assert_eq!(index.get("/opt/b").unwrap().layer, 1);
        assert!(
            index.get("/opt").is_some(),
            "opaque dir keeps the dir itself"
        );
        assert!(index.get("/c").is_none() && index.get("/c/x").is_none());
        assert_eq!(index.get("/etc/key").unwrap().meta.size, 7);
        assert_eq!(index.removed_in("/etc/key", 0), Some(1));
        assert_eq!(index.removed_in("/c/x", 0), Some(1));
        assert_eq!(index.hidden().len(), 4);
    }
}
