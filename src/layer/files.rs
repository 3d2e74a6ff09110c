//! The files of one layer, stored compactly: a cache holds one table per layer and the merged
//! index of an image points into them, so a path is stored once, as an interned directory and a
//! file name, and each file's metadata is a few small integers in columns.
//!
//! Rows are sorted by path in *component order*: byte order with `/` below every other byte, so
//! `/a/b`, `/a/b/c`, `/a/b.txt` — the order a directory walk produces. Tar writers (Docker's,
//! BuildKit's, GNU tar with `--sort=name`) emit exactly that, so sorting is usually a check; and
//! a directory's descendants follow it directly, which makes a whiteout one range.

use crate::event::{FileKind, FileMeta};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::HashMap;

/// The files of one layer, sorted by path, one row per path (the tar's last entry wins).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FileColumns", into = "FileColumns")]
pub struct FileTable {
    cols: FileColumns,
}

/// The stored form. Directory `d`'s path is `dir_text[dir_ends[d-1]..dir_ends[d]]` (the root is
/// the empty string, so a path is always `dir + "/" + name`); row `i`'s name is
/// `names[name_ends[i-1]..name_ends[i]]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct FileColumns {
    dir_text: String,
    dir_ends: Vec<u32>,
    names: String,
    name_ends: Vec<u32>,
    dir: Vec<u32>,
    /// Permission bits (12) and [`FileKind`] (3 bits above them).
    mode_kind: Vec<u16>,
    uid: Vec<u32>,
    gid: Vec<u32>,
    size: Vec<u64>,
    /// Link targets of the rows that have one, sorted by row.
    links: Vec<(u32, String)>,
}

/// Why a stored table was refused: it came from a cache, which may be stale or corrupt, and a
/// bad offset must not become a panic later.
#[derive(Debug, thiserror::Error)]
#[error("malformed file table: {0}")]
pub struct BadTable(&'static str);

impl TryFrom<FileColumns> for FileTable {
    type Error = BadTable;

    fn try_from(cols: FileColumns) -> Result<Self, BadTable> {
        let rows = cols.name_ends.len();
        if [
            cols.dir.len(),
            cols.mode_kind.len(),
            cols.uid.len(),
            cols.gid.len(),
            cols.size.len(),
        ]
        .iter()
        .any(|&n| n != rows)
        {
            return Err(BadTable("columns differ in length"));
        }
        check_ends(&cols.dir_text, &cols.dir_ends)?;
        check_ends(&cols.names, &cols.name_ends)?;
        if cols.dir.iter().any(|&d| d as usize >= cols.dir_ends.len()) {
            return Err(BadTable("row names a directory that does not exist"));
        }
        if cols
            .mode_kind
            .iter()
            .any(|&m| kind_from_bits(m >> 12).is_none())
        {
            return Err(BadTable("unknown file kind"));
        }
        if !cols.links.windows(2).all(|w| w[0].0 < w[1].0)
            || cols.links.last().is_some_and(|l| l.0 as usize >= rows)
        {
            return Err(BadTable("link rows out of order"));
        }
        let table = FileTable { cols };
        if (1..rows).any(|i| table.cmp_rows(i - 1, i) != Ordering::Less) {
            return Err(BadTable("rows out of order"));
        }
        Ok(table)
    }
}

fn check_ends(text: &str, ends: &[u32]) -> Result<(), BadTable> {
    let mut start = 0usize;
    for &end in ends {
        let end = end as usize;
        if end < start || end > text.len() || !text.is_char_boundary(end) {
            return Err(BadTable("string offsets out of range"));
        }
        start = end;
    }
    Ok(())
}

impl From<FileTable> for FileColumns {
    fn from(t: FileTable) -> Self {
        t.cols
    }
}

fn kind_bits(kind: FileKind) -> u16 {
    match kind {
        FileKind::Regular => 0,
        FileKind::Dir => 1,
        FileKind::Symlink => 2,
        FileKind::HardLink => 3,
        FileKind::CharDevice => 4,
        FileKind::BlockDevice => 5,
        FileKind::Fifo => 6,
    }
}

fn kind_from_bits(bits: u16) -> Option<FileKind> {
    Some(match bits {
        0 => FileKind::Regular,
        1 => FileKind::Dir,
        2 => FileKind::Symlink,
        3 => FileKind::HardLink,
        4 => FileKind::CharDevice,
        5 => FileKind::BlockDevice,
        6 => FileKind::Fifo,
        _ => return None,
    })
}

fn slice<'a>(text: &'a str, ends: &[u32], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &text[start..ends[i] as usize]
}

/// Splits an absolute, normalised path into its directory (`""` for the root) and name.
fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// Component order over byte sequences: `/` sorts below every byte, so a directory's
/// descendants come right after it.
fn key(b: u8) -> u16 {
    if b == b'/' { 0 } else { u16::from(b) + 1 }
}

/// Compares the path `dir + "/" + name` with another such path in component order.
pub(crate) fn cmp_parts(a: (&str, &str), b: (&str, &str)) -> Ordering {
    if a.0 == b.0 {
        return a.1.cmp(b.1);
    }
    let left = a.0.bytes().chain([b'/']).chain(a.1.bytes()).map(key);
    let right = b.0.bytes().chain([b'/']).chain(b.1.bytes()).map(key);
    left.cmp(right)
}

/// Compares an absolute path with `dir + "/" + name` in component order.
pub(crate) fn cmp_path(path: &str, b: (&str, &str)) -> Ordering {
    let right = b.0.bytes().chain([b'/']).chain(b.1.bytes()).map(key);
    path.bytes().map(key).cmp(right)
}

/// True when `dir + "/" + name` is `root` or lies below it.
pub(crate) fn is_within(root: &str, parts: (&str, &str)) -> bool {
    if root == "/" {
        return true;
    }
    let (dir, name) = parts;
    let below = |d: &str| d == root || (d.starts_with(root) && d.as_bytes()[root.len()] == b'/');
    below(dir) || (split(root) == (dir, name))
}

impl FileTable {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.cols.name_ends.len()
    }

    /// True when the layer holds no files.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i`'s path as (directory, name); the path is `dir + "/" + name`.
    pub fn parts(&self, i: usize) -> (&str, &str) {
        let c = &self.cols;
        (
            slice(&c.dir_text, &c.dir_ends, c.dir[i] as usize),
            slice(&c.names, &c.name_ends, i),
        )
    }

    /// Row `i`'s absolute path.
    pub fn path(&self, i: usize) -> String {
        let (dir, name) = self.parts(i);
        let mut out = String::with_capacity(dir.len() + 1 + name.len());
        out.push_str(dir);
        out.push('/');
        out.push_str(name);
        out
    }

    /// Row `i`'s kind.
    pub fn kind(&self, i: usize) -> FileKind {
        kind_from_bits(self.cols.mode_kind[i] >> 12).unwrap_or(FileKind::Regular)
    }

    /// Row `i`'s size in bytes.
    pub fn size(&self, i: usize) -> u64 {
        self.cols.size[i]
    }

    /// Row `i` as the walker saw it.
    pub fn meta(&self, i: usize) -> FileMeta {
        let c = &self.cols;
        let link_target = c
            .links
            .binary_search_by_key(&(i as u32), |l| l.0)
            .ok()
            .map(|at| c.links[at].1.clone());
        FileMeta {
            path: self.path(i),
            kind: self.kind(i),
            mode: u32::from(c.mode_kind[i] & 0o7777),
            uid: u64::from(c.uid[i]),
            gid: u64::from(c.gid[i]),
            size: c.size[i],
            link_target,
        }
    }

    /// Every row, in path order.
    pub fn iter(&self) -> impl Iterator<Item = FileMeta> + '_ {
        (0..self.len()).map(|i| self.meta(i))
    }

    /// The row holding `path`.
    pub fn find(&self, path: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match cmp_path(path, self.parts(mid)) {
                Ordering::Less => hi = mid,
                Ordering::Greater => lo = mid + 1,
                Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    fn cmp_rows(&self, i: usize, j: usize) -> Ordering {
        if self.cols.dir[i] == self.cols.dir[j] {
            return self.parts(i).1.cmp(self.parts(j).1);
        }
        cmp_parts(self.parts(i), self.parts(j))
    }

    /// Bytes held, for sizing caches and benchmarks.
    pub fn heap_bytes(&self) -> usize {
        let c = &self.cols;
        c.dir_text.capacity()
            + c.names.capacity()
            + 4 * (c.dir_ends.capacity() + c.name_ends.capacity() + c.dir.capacity())
            + 2 * c.mode_kind.capacity()
            + 4 * (c.uid.capacity() + c.gid.capacity())
            + 8 * c.size.capacity()
            + c.links.iter().map(|l| 8 + l.1.capacity()).sum::<usize>()
    }
}

/// Why a file could not be added.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TableFull {
    /// Names are addressed with 32-bit offsets.
    #[error("the layer's file names exceed 4 GiB")]
    Names,
}

/// Collects rows in tar order; [`FileTableBuilder::finish`] sorts them and keeps the last entry
/// of each path.
#[derive(Debug, Default)]
pub struct FileTableBuilder {
    cols: FileColumns,
    dirs: HashMap<Box<str>, u32>,
    last_dir: Option<u32>,
}

impl FileTableBuilder {
    /// Appends a file; its path must be absolute and normalised.
    pub fn push(&mut self, meta: &FileMeta) -> Result<(), TableFull> {
        let (dir, name) = split(&meta.path);
        let dir = self.intern_dir(dir)?;
        let c = &mut self.cols;
        let end = c.names.len() + name.len();
        let end = u32::try_from(end).map_err(|_| TableFull::Names)?;
        let row = c.name_ends.len() as u32;
        c.names.push_str(name);
        c.name_ends.push(end);
        c.dir.push(dir);
        c.mode_kind
            .push((meta.mode & 0o7777) as u16 | kind_bits(meta.kind) << 12);
        // Linux ids are 32-bit; a tar header can spell more, which no runtime could apply.
        c.uid.push(u32::try_from(meta.uid).unwrap_or(u32::MAX));
        c.gid.push(u32::try_from(meta.gid).unwrap_or(u32::MAX));
        c.size.push(meta.size);
        if let Some(target) = &meta.link_target {
            c.links.push((row, target.clone()));
        }
        Ok(())
    }

    fn intern_dir(&mut self, dir: &str) -> Result<u32, TableFull> {
        // Tar entries come directory by directory, so the previous entry's directory usually
        // matches and the hash lookup is skipped.
        if let Some(last) = self.last_dir
            && slice(&self.cols.dir_text, &self.cols.dir_ends, last as usize) == dir
        {
            return Ok(last);
        }
        let id = match self.dirs.get(dir) {
            Some(&id) => id,
            None => {
                let c = &mut self.cols;
                let end =
                    u32::try_from(c.dir_text.len() + dir.len()).map_err(|_| TableFull::Names)?;
                c.dir_text.push_str(dir);
                c.dir_ends.push(end);
                let id = (c.dir_ends.len() - 1) as u32;
                self.dirs.insert(dir.into(), id);
                id
            }
        };
        self.last_dir = Some(id);
        Ok(id)
    }

    /// Sorts by path and drops every entry of a path but the last.
    pub fn finish(self) -> FileTable {
        let mut table = FileTable { cols: self.cols };
        let rows = table.len();
        if (1..rows).all(|i| table.cmp_rows(i - 1, i) == Ordering::Less) {
            table.cols.shrink_to_fit();
            return table;
        }
        let mut order: Vec<u32> = (0..rows as u32).collect();
        order.sort_unstable_by(|&a, &b| table.cmp_rows(a as usize, b as usize).then(a.cmp(&b)));
        // Among equal paths the highest row (the tar's last entry) sorts last; keep it.
        let mut keep = Vec::with_capacity(order.len());
        for (k, &row) in order.iter().enumerate() {
            let next_same = order
                .get(k + 1)
                .is_some_and(|&n| table.cmp_rows(row as usize, n as usize) == Ordering::Equal);
            if !next_same {
                keep.push(row);
            }
        }
        table.cols = gather(&table.cols, &keep);
        table.cols.shrink_to_fit();
        table
    }
}

impl FileColumns {
    /// Records are kept for the whole scan (and by caches): drop the growth slack.
    fn shrink_to_fit(&mut self) {
        self.dir_text.shrink_to_fit();
        self.dir_ends.shrink_to_fit();
        self.names.shrink_to_fit();
        self.name_ends.shrink_to_fit();
        self.dir.shrink_to_fit();
        self.mode_kind.shrink_to_fit();
        self.uid.shrink_to_fit();
        self.gid.shrink_to_fit();
        self.size.shrink_to_fit();
        self.links.shrink_to_fit();
    }
}

fn gather(c: &FileColumns, order: &[u32]) -> FileColumns {
    let mut out = FileColumns {
        dir_text: c.dir_text.clone(),
        dir_ends: c.dir_ends.clone(),
        names: String::with_capacity(c.names.len()),
        name_ends: Vec::with_capacity(order.len()),
        dir: Vec::with_capacity(order.len()),
        mode_kind: Vec::with_capacity(order.len()),
        uid: Vec::with_capacity(order.len()),
        gid: Vec::with_capacity(order.len()),
        size: Vec::with_capacity(order.len()),
        links: Vec::new(),
    };
    for (new_row, &old) in order.iter().enumerate() {
        let old = old as usize;
        out.names.push_str(slice(&c.names, &c.name_ends, old));
        out.name_ends.push(out.names.len() as u32);
        out.dir.push(c.dir[old]);
        out.mode_kind.push(c.mode_kind[old]);
        out.uid.push(c.uid[old]);
        out.gid.push(c.gid[old]);
        out.size.push(c.size[old]);
        if let Ok(at) = c.links.binary_search_by_key(&(old as u32), |l| l.0) {
            out.links.push((new_row as u32, c.links[at].1.clone()));
        }
    }
    out
}

impl FromIterator<FileMeta> for FileTable {
    /// For tests and tools: builds a table from files in any order.
    fn from_iter<I: IntoIterator<Item = FileMeta>>(iter: I) -> Self {
        let mut b = FileTableBuilder::default();
        for meta in iter {
            b.push(&meta).expect("test tables are small");
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> FileMeta {
        FileMeta {
            path: path.into(),
            kind: FileKind::Regular,
            mode: 0o4755,
            uid: 1000,
            gid: 7,
            size: 3,
            link_target: None,
        }
    }

    #[test]
    fn rows_sort_in_component_order_and_the_last_entry_wins() {
        let mut link = file("/a/l");
        link.kind = FileKind::Symlink;
        link.link_target = Some("../b".into());
        let mut later = file("/a/b");
        later.size = 9;
        let t: FileTable = [
            file("/a/b.txt"),
            file("/a/b"),
            link.clone(),
            file("/a/b/c"),
            later,
        ]
        .into_iter()
        .collect();
        let paths: Vec<String> = t.iter().map(|m| m.path).collect();
        assert_eq!(paths, ["/a/b", "/a/b/c", "/a/b.txt", "/a/l"]);
        assert_eq!(t.meta(0).size, 9);
        assert_eq!(t.meta(3), link);
        assert_eq!(t.find("/a/b.txt"), Some(2));
        assert_eq!(t.find("/a"), None);
        assert_eq!(t.meta(1).mode, 0o4755);
    }

    #[test]
    fn a_round_trip_keeps_the_table_and_a_corrupt_one_is_refused() {
        let t: FileTable = [file("/x"), file("/etc/passwd")].into_iter().collect();
        let json = serde_json::to_string(&t).unwrap();
        let back: FileTable = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        let corrupt = json.replace("\"name_ends\":[6,7]", "\"name_ends\":[60,7]");
        assert_ne!(corrupt, json);
        assert!(serde_json::from_str::<FileTable>(&corrupt).is_err());
    }

    #[test]
    fn descendants_are_within_their_root() {
        assert!(is_within("/a", ("/a", "b")));
        assert!(is_within("/a", ("", "a")));
        assert!(is_within("/a", ("/a/b", "c")));
        assert!(!is_within("/a", ("", "ab")));
        assert!(!is_within("/a", ("/ab", "c")));
        assert!(is_within("/", ("/x", "y")));
    }
}
