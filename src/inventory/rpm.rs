//! rpm: the package database, at `/var/lib/rpm/` or, since Fedora 36 and on SUSE,
//! `/usr/lib/sysimage/rpm/`, in any of its three formats:
//!
//! - SQLite (`rpmdb.sqlite`, rpm 4.16+: RHEL 9, Fedora 33+, Amazon Linux 2023, CBL-Mariner 2),
//!   opened from the bytes the walker read inside SQLite's in-memory VFS (nothing is written to
//!   disk); each row of its `Packages` table holds one header blob;
//! - Berkeley DB hash (`Packages`: RHEL/CentOS 7 and 8, Amazon Linux 2), read by [`bdb`];
//! - ndb (`Packages.db`: SUSE), read by [`ndb`].
//!
//! The format is told from the content, not the name. The header blobs are decoded here.

use super::file_lists::FileListsBuilder;
use super::{Cataloger, LayerInventory, PackageKind, PackageRecord, is_file, record_packages};
use crate::event::FileMeta;
use rusqlite::{Connection, OpenFlags};

#[path = "rpm_bdb.rs"]
mod bdb;
#[path = "rpm_ndb.rs"]
mod ndb;

const PATHS: [&str; 6] = [
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/var/lib/rpm/Packages",
    "/usr/lib/sysimage/rpm/Packages",
    "/var/lib/rpm/Packages.db",
    "/usr/lib/sysimage/rpm/Packages.db",
];

// Header tags (rpmtag.h).
const NAME: u32 = 1000;
const VERSION: u32 = 1001;
const RELEASE: u32 = 1002;
const EPOCH: u32 = 1003;
const LICENSE: u32 = 1014;
const ARCH: u32 = 1022;
const FILEMODES: u32 = 1030;
const SOURCERPM: u32 = 1044;
const DIRINDEXES: u32 = 1116;
const BASENAMES: u32 = 1117;
const DIRNAMES: u32 = 1118;

// Header data types.
const INT16: u32 = 3;
const INT32: u32 = 4;
const STRING: u32 = 6;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;

/// rpm's own limits on a header (`hdrblobVerifyInfo`): at most this many index entries and this
/// much data.
const MAX_INDEX_ENTRIES: usize = 0xffff;
const MAX_DATA_BYTES: usize = 256 << 20;

/// Reads the rpm package database (SQLite, Berkeley DB or ndb).
pub struct RpmCataloger;

impl Cataloger for RpmCataloger {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file) && PATHS.contains(&file.path.as_str())
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let blobs = if content.starts_with(b"SQLite format 3\0") {
            read_blobs(content)?
        } else if ndb::is_ndb(content) {
            ndb::read_blobs(content).map_err(|e| format!("rpm ndb database: {e}"))?
        } else if bdb::is_bdb(content) {
            bdb::read_blobs(content).map_err(|e| format!("rpm Berkeley DB database: {e}"))?
        } else {
            return Err("not an rpm database (SQLite, Berkeley DB or ndb)".into());
        };
        let mut lists = FileListsBuilder::default();
        let (mut unlisted, mut first_error) = (0usize, None);
        let packages = record_packages(
            path,
            &blobs,
            |blob| {
                let header = Header::parse(blob)?;
                let Some(record) = parse_header(&header)? else {
                    return Ok(None);
                };
                // A package whose file list is unreadable is still installed: it is kept, and
                // only which files it owns is lost.
                match header.regular_files() {
                    Ok(files) => {
                        let files: Vec<_> = files
                            .into_iter()
                            .map(|(dir, name)| (lists.dir(dir), name))
                            .collect();
                        lists.add(&record.name, files);
                    }
                    Err(e) => {
                        unlisted += 1;
                        first_error.get_or_insert(format!("{}: {e}", record.name));
                    }
                }
                Ok(Some(record))
            },
            "package headers",
            out,
        );
        out.file_lists.insert(path.to_owned(), lists.finish());
        let lists = first_error.map(|e| {
            format!("{unlisted} packages' file lists are unreadable, so no file is known to be theirs (first: {e})")
        });
        match (packages, lists) {
            (Ok(()), None) => Ok(()),
            (Err(e), None) | (Ok(()), Some(e)) => Err(e),
            (Err(a), Some(b)) => Err(format!("{a}; {b}")),
        }
    }
}

/// The header blob of every row of `Packages`.
fn read_blobs(content: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if !content.starts_with(b"SQLite format 3\0") {
        return Err("not an SQLite database".into());
    }
    let mut db = content.to_vec();
    // rpm keeps the database in WAL mode (bytes 18 and 19 of the file header are 2). A
    // deserialized database has no WAL file, and SQLite refuses to read one marked WAL; with the
    // write-ahead log checkpointed into the file, as in an image, marking it as a rollback
    // journal database (1) reads the same data.
    if db.len() >= 100 && db[18] == 2 && db[19] == 2 {
        db[18] = 1;
        db[19] = 1;
    }
    let sqlite = |e: rusqlite::Error| format!("not a readable SQLite database: {e}");
    let mut conn = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    let len = db.len();
    conn.deserialize_read_exact("main", &db[..], len, true)
        .map_err(sqlite)?;
    drop(db);
    let mut stmt = conn
        .prepare("SELECT blob FROM Packages")
        .map_err(|e| format!("no readable Packages table: {e}"))?;
    let rows = stmt
        .query_map([], |row| row.get::<_, Vec<u8>>(0))
        .map_err(sqlite)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sqlite)
}

/// One index entry of a header.
struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

/// A parsed header: the index and the data store it points into.
struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

impl<'a> Header<'a> {
    /// Layout (big-endian): index entry count, data length, the entries (tag, type, offset,
    /// count; 16 bytes each), then the data. The database stores headers without the 8-byte
    /// magic that header files on disk start with.
    fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let be = |at: usize| -> Option<u32> {
            Some(u32::from_be_bytes(blob.get(at..at + 4)?.try_into().ok()?))
        };
        let too_short = || "header blob is shorter than it says".to_owned();
        let il = be(0).ok_or_else(too_short)? as usize;
        let dl = be(4).ok_or_else(too_short)? as usize;
        if il == 0 || il > MAX_INDEX_ENTRIES || dl > MAX_DATA_BYTES {
            return Err(format!("implausible header: {il} entries, {dl} data bytes"));
        }
        let data_start = 8 + il * 16;
        let data = blob
            .get(data_start..data_start + dl)
            .ok_or_else(too_short)?;
        let entries = (0..il)
            .map(|i| {
                let at = 8 + i * 16;
                Some(Entry {
                    tag: be(at)?,
                    kind: be(at + 4)?,
                    offset: be(at + 8)? as usize,
                    count: be(at + 12)? as usize,
                })
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(too_short)?;
        Ok(Header { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.entries.iter().find(|e| e.tag == tag)
    }

    /// A NUL-terminated string from `at`, or `None` when it runs past the data.
    fn c_str(&self, at: usize) -> Option<(&'a str, usize)> {
        let rest = self.data.get(at..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        Some((std::str::from_utf8(&rest[..end]).ok()?, at + end + 1))
    }

    fn string(&self, tag: u32) -> Result<Option<&'a str>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        match e.kind {
            // An i18n string is an array of translations; the first is the untranslated one.
            STRING | STRING_ARRAY | I18NSTRING => self
                .c_str(e.offset)
                .map(|(s, _)| Some(s))
                .ok_or_else(|| format!("tag {tag}: string outside the header data")),
            k => Err(format!("tag {tag}: type {k}, not a string")),
        }
    }

    fn int32(&self, tag: u32) -> Result<Option<u32>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        if e.kind != INT32 || e.count == 0 {
            return Err(format!("tag {tag}: type {}, not an int32", e.kind));
        }
        let b = self
            .data
            .get(e.offset..e.offset + 4)
            .ok_or_else(|| format!("tag {tag}: value outside the header data"))?;
        Ok(Some(u32::from_be_bytes(b.try_into().expect("4 bytes"))))
    }

    /// The `count` NUL-terminated strings of a string-array tag.
    fn strings(&self, tag: u32) -> Result<Option<Vec<&'a str>>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        // Each string takes at least its NUL, which bounds a hostile count by the data.
        if e.kind != STRING_ARRAY || e.count > self.data.len() {
            return Err(format!(
                "tag {tag}: type {} with {} values, not a string array",
                e.kind, e.count
            ));
        }
        let mut at = e.offset;
        let mut out = Vec::with_capacity(e.count);
        for _ in 0..e.count {
            let (s, next) = self.c_str(at).ok_or_else(|| {
                format!("tag {tag}: a string outside the header data or not UTF-8")
            })?;
            out.push(s);
            at = next;
        }
        Ok(Some(out))
    }

    /// The values of an integer-array tag of `width` bytes (2 or 4) each.
    fn integers(&self, tag: u32, kind: u32, width: usize) -> Result<Option<Vec<u32>>, String> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        let bytes = e
            .count
            .checked_mul(width)
            .and_then(|len| self.data.get(e.offset..e.offset.checked_add(len)?))
            .filter(|_| e.kind == kind)
            .ok_or_else(|| {
                format!(
                    "tag {tag}: type {} with {} values outside the header data",
                    e.kind, e.count
                )
            })?;
        Ok(Some(
            bytes
                .chunks_exact(width)
                .map(|b| b.iter().fold(0u32, |v, &byte| (v << 8) | u32::from(byte)))
                .collect(),
        ))
    }

    /// The regular files the package owns, as (directory with its trailing `/`, base name).
    /// Directories and symlinks are left out: ownership is asked about the files catalogers
    /// read, which are regular files.
    fn regular_files(&self) -> Result<Vec<(&'a str, &'a str)>, String> {
        let Some(names) = self.strings(BASENAMES)? else {
            return Ok(Vec::new());
        };
        let dirs = self.strings(DIRNAMES)?.unwrap_or_default();
        let dir_of = self.integers(DIRINDEXES, INT32, 4)?.unwrap_or_default();
        if dir_of.len() != names.len() {
            return Err(format!(
                "{} file names but {} directory indexes",
                names.len(),
                dir_of.len()
            ));
        }
        let modes = self
            .integers(FILEMODES, INT16, 2)?
            .filter(|modes| modes.len() == names.len());
        let mut files = Vec::with_capacity(names.len());
        for (i, (name, &dir)) in names.iter().zip(&dir_of).enumerate() {
            if modes.as_ref().is_some_and(|m| m[i] & 0o170000 != 0o100000) {
                continue;
            }
            let dir = dirs
                .get(dir as usize)
                .ok_or_else(|| format!("directory index {dir} of {} directories", dirs.len()))?;
            files.push((*dir, *name));
        }
        Ok(files)
    }

    /// Files the package owns, directories left out (as for dpkg): the basenames, less those
    /// whose mode is a directory's.
    fn file_count(&self) -> usize {
        let Some(names) = self.entry(BASENAMES).filter(|e| e.kind == STRING_ARRAY) else {
            return 0;
        };
        let dirs = self
            .entry(FILEMODES)
            .filter(|m| m.kind == INT16 && m.count == names.count)
            .and_then(|m| self.data.get(m.offset..m.offset.checked_add(m.count * 2)?))
            .map_or(0, |modes| {
                modes
                    .chunks_exact(2)
                    .filter(|m| u16::from_be_bytes([m[0], m[1]]) & 0o170000 == 0o040000)
                    .count()
            });
        names.count.min(self.data.len()).saturating_sub(dirs)
    }
}

/// `Ok(None)` for the `gpg-pubkey` pseudo-packages rpm records for imported signing keys.
fn parse_header(h: &Header<'_>) -> Result<Option<PackageRecord>, String> {
    let name = h
        .string(NAME)?
        .filter(|n| !n.is_empty())
        .ok_or("a header has no name")?;
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let version = h
        .string(VERSION)?
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("package {name:?} has no version"))?;
    let mut full = match h.int32(EPOCH)? {
        Some(epoch) => format!("{epoch}:{version}"),
        None => version.to_owned(),
    };
    if let Some(release) = h.string(RELEASE)?.filter(|r| !r.is_empty()) {
        full = format!("{full}-{release}");
    }
    let some = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
    Ok(Some(PackageRecord {
        name: name.to_owned(),
        version: full,
        kind: PackageKind::Rpm,
        arch: some(h.string(ARCH)?),
        // The source rpm's file name as recorded (`curl-7.76.0-6.cm2.src.rpm`).
        source: some(h.string(SOURCERPM)?),
        licenses: some(h.string(LICENSE)?).into_iter().collect(),
        files: h.file_count(),
        namespace: None,
        found_in: None,
        cpes: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::purl;

    /// Encodes a header the way rpm stores it in the database.
    fn header(tags: &[(u32, u32, Vec<u8>, usize)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, kind, value, count) in tags {
            if *kind == INT32 {
                while data.len() % 4 != 0 {
                    data.push(0);
                }
            }
            for v in [*tag, *kind, data.len() as u32, *count as u32] {
                index.extend(v.to_be_bytes());
            }
            data.extend(value);
        }
        let mut out = Vec::new();
        out.extend((tags.len() as u32).to_be_bytes());
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn s(v: &str) -> Vec<u8> {
        [v.as_bytes(), b"\0"].concat()
    }

    fn curl() -> Vec<u8> {
        let modes: Vec<u8> = [0o100755u16, 0o040755, 0o100644]
            .iter()
            .flat_map(|m| m.to_be_bytes())
            .collect();
        header(&[
            (NAME, STRING, s("curl"), 1),
            (VERSION, STRING, s("7.76.0"), 1),
            (RELEASE, STRING, s("6.cm2"), 1),
            (LICENSE, STRING, s("MIT"), 1),
            (ARCH, STRING, s("x86_64"), 1),
            (SOURCERPM, STRING, s("curl-7.76.0-6.cm2.src.rpm"), 1),
            (EPOCH, INT32, 1u32.to_be_bytes().to_vec(), 1),
            (FILEMODES, INT16, modes, 3),
            (
                BASENAMES,
                STRING_ARRAY,
                [s("curl"), s("curl"), s("COPYING")].concat(),
                3,
            ),
            (DIRINDEXES, INT32, int32s(&[0, 1, 2]), 3),
            (
                DIRNAMES,
                STRING_ARRAY,
                [
                    s("/usr/bin/"),
                    s("/usr/share/doc/"),
                    s("/usr/share/doc/curl/"),
                ]
                .concat(),
                3,
            ),
        ])
    }

    fn int32s(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// An rpmdb.sqlite as rpm writes it: WAL mode, headers in `Packages`.
    fn rpmdb(blobs: &[Vec<u8>]) -> Vec<u8> {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL);",
        )
        .unwrap();
        for b in blobs {
            conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [b])
                .unwrap();
        }
        let mut bytes = conn.serialize("main").unwrap().to_vec();
        bytes[18] = 2;
        bytes[19] = 2;
        bytes
    }

    fn catalog(db: &[u8]) -> (Vec<PackageRecord>, Result<(), String>) {
        let mut out = LayerInventory::default();
        let r = RpmCataloger.catalog(PATHS[0], db, &mut out);
        (out.databases.remove(PATHS[0]).unwrap_or_default(), r)
    }

    #[test]
    fn file_lists_hold_regular_files_by_directory() {
        let mut out = LayerInventory::default();
        RpmCataloger
            .catalog(PATHS[0], &rpmdb(&[curl()]), &mut out)
            .unwrap();
        assert_eq!(
            out.file_lists[PATHS[0]].paths_of("curl"),
            ["/usr/bin/curl", "/usr/share/doc/curl/COPYING"],
            "the directory /usr/share/doc/curl is not a file"
        );
    }

    #[test]
    fn an_unreadable_file_list_keeps_the_package_and_warns() {
        let broken = |dir_indexes: Vec<u8>, count: usize| {
            header(&[
                (NAME, STRING, s("odd"), 1),
                (VERSION, STRING, s("1"), 1),
                (BASENAMES, STRING_ARRAY, [s("a"), s("b")].concat(), 2),
                (DIRINDEXES, INT32, dir_indexes, count),
                (DIRNAMES, STRING_ARRAY, s("/usr/bin/"), 1),
            ])
        };
        for (what, blob) in [
            ("index past the directories", broken(int32s(&[0, 9]), 2)),
            ("fewer indexes than names", broken(int32s(&[0]), 1)),
            ("indexes past the data", broken(int32s(&[0]), 0x4000_0000)),
        ] {
            let mut out = LayerInventory::default();
            let r = RpmCataloger.catalog(PATHS[0], &rpmdb(&[blob, curl()]), &mut out);
            let names: Vec<_> = out.databases[PATHS[0]]
                .iter()
                .map(|p| p.name.as_str())
                .collect();
            assert_eq!(names, ["odd", "curl"], "{what}");
            assert!(
                r.unwrap_err().starts_with("1 packages' file lists"),
                "{what}"
            );
            let lists = &out.file_lists[PATHS[0]];
            assert!(lists.paths_of("odd").is_empty(), "{what}");
            assert_eq!(lists.paths_of("curl").len(), 2, "{what}");
        }
    }

    #[test]
    fn sqlite_database_in_wal_mode() {
        let key = header(&[
            (NAME, STRING, s("gpg-pubkey"), 1),
            (VERSION, STRING, s("1"), 1),
        ]);
        let (pkgs, r) = catalog(&rpmdb(&[curl(), key]));
        r.unwrap();
        assert_eq!(pkgs.len(), 1, "gpg-pubkey skipped");
        let p = &pkgs[0];
        assert_eq!(p.version, "1:7.76.0-6.cm2");
        assert_eq!(p.source.as_deref(), Some("curl-7.76.0-6.cm2.src.rpm"));
        assert_eq!(p.licenses, ["MIT"]);
        assert_eq!(p.files, 2, "the directory is not a file");
        assert_eq!(
            purl(p, None),
            "pkg:rpm/redhat/curl@7.76.0-6.cm2?arch=x86_64&epoch=1"
        );
    }

    #[test]
    fn malformed_headers_are_skipped_with_a_warning() {
        let mut truncated = curl();
        truncated.truncate(40);
        let wrong_type = header(&[(NAME, INT32, vec![0, 0, 0, 1], 1)]);
        let huge = [0xff; 16].to_vec();
        let (pkgs, r) = catalog(&rpmdb(&[curl(), truncated, wrong_type, huge, Vec::new()]));
        assert_eq!(pkgs.len(), 1);
        assert!(r.unwrap_err().starts_with("4 of 5"));
    }

    #[test]
    fn not_a_database_is_an_error() {
        assert!(catalog(b"not sqlite").1.unwrap_err().contains("SQLite"));
        let (_, r) = catalog(&[]);
        assert!(r.is_err());
        let mut db = rpmdb(&[curl()]);
        db.truncate(db.len() / 2);
        let (_, r) = catalog(&db);
        assert!(r.is_err());
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (x);").unwrap();
        let other = conn.serialize("main").unwrap().to_vec();
        assert!(catalog(&other).1.unwrap_err().contains("Packages"));
    }

    /// A Berkeley DB hash file as rpm's bdb backend leaves it (little-endian, 512-byte pages):
    /// page 1 holds the instance-0 counter, `inline` on the page and the first of `big` in an
    /// overflow chain over pages 2.. .
    fn bdb(inline: &[u8], big: &[u8]) -> Vec<u8> {
        const PS: usize = 512;
        let chunks: Vec<&[u8]> = big.chunks(PS - 26).collect();
        let mut f = vec![0u8; PS * (2 + chunks.len())];
        let put32 =
            |f: &mut Vec<u8>, at: usize, v: u32| f[at..at + 4].copy_from_slice(&v.to_le_bytes());
        let put16 = |f: &mut Vec<u8>, at: usize, v: usize| {
            f[at..at + 2].copy_from_slice(&(v as u16).to_le_bytes())
        };
        put32(&mut f, 12, 0x061561);
        put32(&mut f, 16, 9);
        put32(&mut f, 20, PS as u32);
        f[25] = 8;
        put32(&mut f, 32, (1 + chunks.len()) as u32);
        // Page 1: items packed down from the end, offsets after the header.
        let mut items: Vec<Vec<u8>> = Vec::new();
        for (key, data) in [
            (0u32, vec![1, 3, 0, 0, 0]),
            (1, [&[1u8][..], inline].concat()),
        ] {
            items.push([&[1u8][..], &key.to_le_bytes()].concat());
            items.push(if key == 0 { data } else { data.clone() });
        }
        let mut off = [0u8; 12].to_vec();
        off[0] = 3;
        off[4..8].copy_from_slice(&2u32.to_le_bytes());
        off[8..12].copy_from_slice(&(big.len() as u32).to_le_bytes());
        items.push([&[1u8][..], &2u32.to_le_bytes()].concat());
        items.push(off);
        let base = PS;
        put32(&mut f, base + 8, 1);
        f[base + 25] = 13;
        put16(&mut f, base + 20, items.len());
        let mut end = PS;
        for (i, item) in items.iter().enumerate() {
            end -= item.len();
            f[base + end..base + end + item.len()].copy_from_slice(item);
            put16(&mut f, base + 26 + 2 * i, end);
        }
        for (i, c) in chunks.iter().enumerate() {
            let (n, at) = (2 + i, (2 + i) * PS);
            put32(&mut f, at + 8, n as u32);
            let next = if i + 1 < chunks.len() {
                n as u32 + 1
            } else {
                0
            };
            put32(&mut f, at + 16, next);
            put16(&mut f, at + 22, c.len());
            f[at + 25] = 7;
            f[at + 26..at + 26 + c.len()].copy_from_slice(c);
        }
        f
    }

    fn small() -> Vec<u8> {
        header(&[
            (NAME, STRING, s("tiny"), 1),
            (VERSION, STRING, s("1"), 1),
            (RELEASE, STRING, s("2"), 1),
        ])
    }

    fn big() -> Vec<u8> {
        let names: Vec<u8> = (0..200).flat_map(|i| s(&format!("file-{i}"))).collect();
        header(&[
            (NAME, STRING, s("big"), 1),
            (VERSION, STRING, s("3"), 1),
            (BASENAMES, STRING_ARRAY, names, 200),
            (DIRINDEXES, INT32, int32s(&[0; 200]), 200),
            (DIRNAMES, STRING_ARRAY, s("/usr/share/big/"), 1),
        ])
    }

    #[test]
    fn berkeley_db_hash_inline_and_overflow_items() {
        let db = bdb(&small(), &big());
        let (pkgs, r) = catalog(&db);
        r.unwrap();
        let got: Vec<_> = pkgs.iter().map(|p| (p.name.as_str(), p.files)).collect();
        assert_eq!(got, [("tiny", 0), ("big", 200)], "counter record skipped");
        // The magic sets the byte order of everything else: a big-endian magic on these
        // little-endian pages reads as nonsense, which must be an error, not a panic.
        let mut swapped = db.clone();
        swapped[12..16].copy_from_slice(&0x061561u32.to_be_bytes());
        assert!(
            catalog(&swapped).1.is_err(),
            "little-endian pages read as big-endian"
        );
    }

    #[test]
    fn hostile_berkeley_db_files_are_errors() {
        let good = bdb(&small(), &big());
        let last_overflow = good.len() / 512 - 1;
        type Spoil = Box<dyn Fn(&mut Vec<u8>)>;
        let cases: Vec<(&str, Spoil)> = vec![
            ("truncated", Box::new(|f| f.truncate(f.len() - 512))),
            (
                "page size",
                Box::new(|f| f[20..24].copy_from_slice(&3000u32.to_le_bytes())),
            ),
            ("entries", Box::new(|f| f[512 + 20] = 0xff)),
            (
                "loop",
                Box::new(move |f| {
                    let at = last_overflow * 512 + 16;
                    f[at..at + 4].copy_from_slice(&2u32.to_le_bytes());
                    f[last_overflow * 512 + 22] = 0xfe; // a full page, so the length is not reached
                    f[last_overflow * 512 + 23] = 0x01;
                }),
            ),
            (
                "length",
                Box::new(|f| {
                    // The last index entry is the overflow item; its length field is 8 bytes in.
                    let item = u16::from_le_bytes([f[512 + 26 + 10], f[512 + 26 + 11]]) as usize;
                    let at = 512 + item + 8;
                    f[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
                }),
            ),
            (
                "btree",
                Box::new(|f| f[12..16].copy_from_slice(&0x053162u32.to_le_bytes())),
            ),
        ];
        for (what, spoil) in cases {
            let mut f = good.clone();
            spoil(&mut f);
            let (pkgs, r) = catalog(&f);
            assert!(r.is_err() && pkgs.is_empty(), "{what}: {r:?}");
        }
        for cut in [0, 11, 100, 600, 1500] {
            let _ = catalog(&good[..cut.min(good.len())]);
        }
    }

    /// An ndb `Packages.db` as rpmpkg.c writes it.
    fn ndb(blobs: &[Vec<u8>]) -> Vec<u8> {
        let mut f = vec![0u8; 4096];
        f[0..4].copy_from_slice(b"RpmP");
        f[8..12].copy_from_slice(&1u32.to_le_bytes());
        f[12..16].copy_from_slice(&1u32.to_le_bytes());
        for slot in 2..256 {
            f[slot * 16..slot * 16 + 4].copy_from_slice(b"Slot");
        }
        for (i, blob) in blobs.iter().enumerate() {
            let count = (16 + blob.len() + 12).div_ceil(16);
            let mut body = Vec::new();
            body.extend(b"BlbS");
            body.extend((i as u32 + 1).to_le_bytes());
            body.extend(0u32.to_le_bytes());
            body.extend((blob.len() as u32).to_le_bytes());
            body.extend(blob);
            body.resize(count * 16 - 12, 0);
            let (mut a, mut b) = (1u32, 0u32);
            for &x in &body {
                a = (a + u32::from(x)) % 65521;
                b = (b + a) % 65521;
            }
            body.extend(((b << 16) | a).to_le_bytes());
            body.extend((blob.len() as u32).to_le_bytes());
            body.extend(b"BlbE");
            let slot = (2 + i) * 16;
            let fields = [i as u32 + 1, (f.len() / 16) as u32, count as u32];
            for (k, v) in fields.iter().enumerate() {
                f[slot + 4 + 4 * k..slot + 8 + 4 * k].copy_from_slice(&v.to_le_bytes());
            }
            f.extend(body);
        }
        f
    }

    #[test]
    fn ndb_database() {
        let (pkgs, r) = catalog(&ndb(&[small(), big(), curl()]));
        r.unwrap();
        let names: Vec<_> = pkgs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["tiny", "big", "curl"]);
    }

    #[test]
    fn hostile_ndb_files_are_errors() {
        let good = ndb(&[small(), big()]);
        let flip = |at: usize| {
            let mut f = good.clone();
            f[at] ^= 0x40;
            f
        };
        let huge_count = {
            let mut f = good.clone();
            f[32 + 12..32 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
            f
        };
        let huge_offset = {
            let mut f = good.clone();
            f[32 + 8..32 + 12].copy_from_slice(&u32::MAX.to_le_bytes());
            f
        };
        let pages = {
            let mut f = good.clone();
            f[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
            f
        };
        for (what, f) in [
            ("checksum", flip(4096 + 40)),
            ("slot magic", flip(48)),
            ("blob magic", flip(4096)),
            ("count", huge_count),
            ("offset", huge_offset),
            ("pages", pages),
            ("truncated", good[..good.len() - 1].to_vec()),
        ] {
            let (pkgs, r) = catalog(&f);
            assert!(r.is_err() && pkgs.is_empty(), "{what}: {r:?}");
        }
    }
}
