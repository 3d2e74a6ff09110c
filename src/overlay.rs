//! The final filesystem: layer contents merged in order, with whiteouts and opaque directories
//! applied the way overlayfs applies them. What the merge hides is kept too, because a secret a
//! later layer deleted is still in the image, and bytes a later layer replaced are wasted.
//!
//! The index stores no paths of its own: each live file is a (layer, row) pair pointing into the
//! layers' [`FileTable`]s, kept in the tables' path order, so a lookup is a binary search and a
//! directory's contents are one contiguous run.

use crate::event::{FileKind, FileMeta};
use crate::layer::LayerContent;
use crate::layer::files::{FileTable, cmp_parts, cmp_path, is_within};
use std::cmp::Ordering;

/// A file present in the final filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveFile {
    /// Its metadata.
    pub meta: FileMeta,
    /// The layer that put this version there.
    pub layer: usize,
}

/// A file version that a later layer deleted or replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenFile {
    /// Its metadata.
    pub meta: FileMeta,
    /// The layer that added it.
    pub layer: usize,
    /// The layer that deleted or replaced it.
    pub removed_in: usize,
    /// True for a deletion (whiteout, opaque dir), false for a replacement.
    pub deleted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    layer: u32,
    row: u32,
}

#[derive(Debug, Clone, Copy)]
struct Hidden {
    slot: Slot,
    removed_in: u32,
    deleted: bool,
}

/// Final-filesystem metadata, pointing into the layers' contents.
#[derive(Debug, Default)]
pub struct FileIndex<'a> {
    layers: Vec<&'a LayerContent>,
    live: Vec<Slot>,
    hidden: Vec<Hidden>,
}

impl<'a> FileIndex<'a> {
    /// Merges layers bottom to top.
    pub fn build(layers: impl IntoIterator<Item = &'a LayerContent>) -> Self {
        let mut index = FileIndex::default();
        for (i, layer) in layers.into_iter().enumerate() {
            index.layers.push(layer);
            // Whiteouts and opaque markers only ever affect lower layers, wherever they appear in
            // this layer's tar, so apply them before this layer's own files.
            let roots: Vec<(&str, bool)> = layer
                .whiteouts
                .iter()
                .map(|p| (p.as_str(), true))
                .chain(layer.opaque_dirs.iter().map(|d| (d.as_str(), false)))
                .collect();
            index.remove(&roots, i);
            index.merge(i);
        }
        index
    }

    fn table(&self, slot: Slot) -> &'a FileTable {
        &self.layers[slot.layer as usize].files
    }

    fn parts(&self, slot: Slot) -> (&'a str, &'a str) {
        self.table(slot).parts(slot.row as usize)
    }

    /// The first live position whose path is not below `path` in component order.
    fn lower_bound(&self, path: &str) -> usize {
        self.live
            .partition_point(|&s| cmp_path(path, self.parts(s)) == Ordering::Greater)
    }

    /// Removes each root (itself too when its flag says so) and everything below it, in one
    /// pass over the index however many roots a layer deletes.
    fn remove(&mut self, roots: &[(&str, bool)], by: usize) {
        if roots.is_empty() {
            return;
        }
        let mut doomed = vec![false; self.live.len()];
        for &(root, including_self) in roots {
            let mut at = self.lower_bound(root);
            while at < self.live.len() && is_within(root, self.parts(self.live[at])) {
                if including_self || cmp_path(root, self.parts(self.live[at])) != Ordering::Equal {
                    doomed[at] = true;
                }
                at += 1;
            }
        }
        let live = std::mem::take(&mut self.live);
        let mut kept = Vec::with_capacity(live.len());
        for (slot, doomed) in live.into_iter().zip(doomed) {
            if doomed {
                self.hidden.push(Hidden {
                    slot,
                    removed_in: by as u32,
                    deleted: true,
                });
            } else {
                kept.push(slot);
            }
        }
        self.live = kept;
    }

    /// Adds layer `i`'s files, each replacing the lower version of its path.
    fn merge(&mut self, i: usize) {
        let table = &self.layers[i].files;
        let old = std::mem::take(&mut self.live);
        let mut live = Vec::with_capacity(old.len() + table.len());
        let mut pos = 0;
        for row in 0..table.len() {
            let parts = table.parts(row);
            // Rows and the index share one order, so each row's place is found by a binary
            // search over what is left: a small layer on a large index costs O(rows · log n).
            let at = pos
                + old[pos..]
                    .partition_point(|&s| cmp_parts(self.parts(s), parts) == Ordering::Less);
            live.extend_from_slice(&old[pos..at]);
            pos = at;
            if pos < old.len() && cmp_parts(self.parts(old[pos]), parts) == Ordering::Equal {
                let replaced = old[pos];
                pos += 1;
                self.hidden.push(Hidden {
                    slot: replaced,
                    removed_in: i as u32,
                    deleted: false,
                });
                let was_dir = self.table(replaced).kind(replaced.row as usize) == FileKind::Dir;
                if was_dir && table.kind(row) != FileKind::Dir {
                    let path = table.path(row);
                    while pos < old.len() && is_within(&path, self.parts(old[pos])) {
                        self.hidden.push(Hidden {
                            slot: old[pos],
                            removed_in: i as u32,
                            deleted: true,
                        });
                        pos += 1;
                    }
                }
            }
            live.push(Slot {
                layer: i as u32,
                row: row as u32,
            });
        }
        live.extend_from_slice(&old[pos..]);
        self.live = live;
    }

    fn find(&self, path: &str) -> Option<Slot> {
        let at = self.lower_bound(path);
        let slot = *self.live.get(at)?;
        (cmp_path(path, self.parts(slot)) == Ordering::Equal).then_some(slot)
    }

    fn live_file(&self, slot: Slot) -> LiveFile {
        LiveFile {
            meta: self.table(slot).meta(slot.row as usize),
            layer: slot.layer as usize,
        }
    }

    /// The live version of `path`.
    pub fn get(&self, path: &str) -> Option<LiveFile> {
        self.find(path).map(|s| self.live_file(s))
    }

    /// The layer that holds the live version of `path`.
    pub fn layer_of(&self, path: &str) -> Option<usize> {
        self.find(path).map(|s| s.layer as usize)
    }

    /// The retained contents of `path` as the final filesystem holds it.
    pub fn content(&self, path: &str) -> Option<&'a [u8]> {
        let slot = self.find(path)?;
        self.layers[slot.layer as usize]
            .retained
            .get(path)
            .map(|r| r.0.as_slice())
    }

    /// Every live file, sorted by path (component order: a directory, then what it holds).
    pub fn iter(&self) -> impl Iterator<Item = LiveFile> + '_ {
        self.live.iter().map(|&s| self.live_file(s))
    }

    /// Every hidden file version, in the order the merge hid them.
    pub fn hidden(&self) -> impl Iterator<Item = HiddenFile> + '_ {
        self.hidden.iter().map(|h| HiddenFile {
            meta: self.table(h.slot).meta(h.slot.row as usize),
            layer: h.slot.layer as usize,
            removed_in: h.removed_in as usize,
            deleted: h.deleted,
        })
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
            .find(|h| {
                h.slot.layer as usize == layer
                    && cmp_path(path, self.parts(h.slot)) == Ordering::Equal
            })
            .map(|h| h.removed_in as usize)
    }

    /// Bytes the index itself holds (the layers' tables aside).
    pub fn heap_bytes(&self) -> usize {
        self.live.capacity() * std::mem::size_of::<Slot>()
            + self.hidden.capacity() * std::mem::size_of::<Hidden>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> FileMeta {
        FileMeta {
            size,
            ..FileMeta::test_file(path)
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
            LayerContent {
                files: [
                    dir("/opt"),
                    file("/opt/a", 10),
                    file("/etc/key", 5),
                    dir("/c"),
                    file("/c/x", 1),
                ]
                .into_iter()
                .collect(),
                ..Default::default()
            },
            LayerContent {
                files: [file("/opt/b", 3), file("/etc/key", 7)]
                    .into_iter()
                    .collect(),
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
        assert_eq!(index.hidden().count(), 4);
        let live: Vec<String> = index.iter().map(|f| f.meta.path).collect();
        assert_eq!(live, ["/etc/key", "/opt", "/opt/b"]);
    }

    #[test]
    fn a_directory_replaced_by_a_file_takes_its_contents_with_it() {
        let mut link = file("/srv", 0);
        link.kind = FileKind::Symlink;
        let layers = [
            LayerContent {
                files: [dir("/srv"), file("/srv/a", 1), file("/srv-b", 1)]
                    .into_iter()
                    .collect(),
                ..Default::default()
            },
            LayerContent {
                files: [link].into_iter().collect(),
                ..Default::default()
            },
        ];
        let index = FileIndex::build(&layers);
        let live: Vec<String> = index.iter().map(|f| f.meta.path).collect();
        assert_eq!(live, ["/srv", "/srv-b"]);
        assert_eq!(index.get("/srv").unwrap().layer, 1);
        assert_eq!(index.removed_in("/srv/a", 0), Some(1));
    }

    #[test]
    fn many_whiteouts_of_one_layer_are_applied_together() {
        let lower: Vec<FileMeta> = (0..2000)
            .flat_map(|d| [dir(&format!("/d{d}")), file(&format!("/d{d}/f"), 1)])
            .collect();
        let mut upper = LayerContent {
            whiteouts: (0..2000).step_by(2).map(|d| format!("/d{d}")).collect(),
            ..Default::default()
        };
        // A whiteout inside a deleted directory, and one of a path that never existed.
        upper.whiteouts.push("/d0/f".into());
        upper.whiteouts.push("/nowhere".into());
        let layers = [
            LayerContent {
                files: lower.into_iter().collect(),
                ..Default::default()
            },
            upper,
        ];
        let index = FileIndex::build(&layers);
        assert_eq!(
            index.len(),
            2000,
            "the odd directories and their files stay"
        );
        assert!(index.get("/d1/f").is_some() && index.get("/d2").is_none());
        assert_eq!(index.hidden().count(), 2000);
        assert_eq!(index.removed_in("/d0/f", 0), Some(1));
    }
}
