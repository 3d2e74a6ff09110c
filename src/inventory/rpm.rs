//! rpm: the SQLite package database of rpm 4.16+ (`rpmdb.sqlite`: RHEL 9, Fedora 33+, Amazon
//! Linux 2023, CBL-Mariner 2), at `/var/lib/rpm/` or, since Fedora 36, `/usr/lib/sysimage/rpm/`.
//!
//! The database is opened from the bytes the walker read, inside SQLite's in-memory VFS: nothing
//! is written to disk. Each row of its `Packages` table holds one package header blob, whose
//! tags are decoded here. The Berkeley DB (`Packages`) and ndb (`Packages.db`) formats of older
//! releases are not read yet.

use super::{Cataloger, LayerInventory, PackageKind, PackageRecord, is_file};
use crate::event::FileMeta;
use rusqlite::{Connection, OpenFlags};

const PATHS: [&str; 2] = [
    "/var/lib/rpm/rpmdb.sqlite",
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
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
const BASENAMES: u32 = 1117;

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

/// Reads the rpm SQLite database.
pub struct RpmCataloger;

impl Cataloger for RpmCataloger {
    fn name(&self) -> &'static str {
        "rpm"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file) && PATHS.contains(&file.path.as_str())
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let blobs = read_blobs(content)?;
        let total = blobs.len();
        let mut packages = Vec::new();
        let (mut bad, mut first_error) = (0usize, None);
        for blob in &blobs {
            match parse_header(blob) {
                Ok(Some(p)) => packages.push(p),
                Ok(None) => {}
                Err(e) => {
                    bad += 1;
                    first_error.get_or_insert(e);
                }
            }
        }
        out.databases.insert(path.to_owned(), packages);
        match first_error {
            None => Ok(()),
            Some(e) => Err(format!(
                "{bad} of {total} package headers are malformed and were skipped (first: {e})"
            )),
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
fn parse_header(blob: &[u8]) -> Result<Option<PackageRecord>, String> {
    let h = Header::parse(blob)?;
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
        ])
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
}
