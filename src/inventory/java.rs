//! Java: archives (`*.jar`, `*.war`, `*.ear`) read as a stream, one local file header after
//! another, so a 200 MB Spring Boot jar costs a few buffers, not its size.
//!
//! A zip's table of contents (the central directory) is at its end, which a stream only reaches
//! after everything else, so this reader walks the local headers in order instead, the way
//! `java.util.zip.ZipInputStream` does. What it keeps from each archive:
//! - `META-INF/maven/<groupId>/<artifactId>/pom.properties`: one Maven package each (a shaded
//!   jar carries several),
//! - `META-INF/MANIFEST.MF`: the package when there is no `pom.properties`, and `Bundle-License`,
//! - nested archives (`BOOT-INF/lib/*.jar`, `WEB-INF/lib/*.jar`, `lib/*.jar`), read the same
//!   way from inside the outer stream, [`MAX_DEPTH`] levels deep at most.
//!
//! Everything else is skipped without being kept. Entries written with a data descriptor (as
//! the `jar` tool does) have no size in their header; they are inflated to find where they end.
//! Every package is recorded under the outer archive's path, which is the file the final
//! filesystem holds.

use super::{CatalogError, Cataloger, LayerInventory, PackageKind, PackageRecord, clip, is_file};
use crate::event::FileMeta;
use flate2::bufread::DeflateDecoder;
use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

/// How deep nested archives are followed (outer archive = 1).
const MAX_DEPTH: usize = 3;
/// Largest `pom.properties` or `MANIFEST.MF` read; bigger ones are not what they claim to be.
const MAX_METADATA_BYTES: u64 = 1 << 20;
/// Entries read per outer archive, nested ones included.
const MAX_ENTRIES: u64 = 500_000;
/// Bytes inflated per outer archive, to bound the CPU a zip bomb can take.
const MAX_INFLATED_BYTES: u64 = 8 << 30;
/// Packages recorded per outer archive.
const MAX_PACKAGES: usize = 10_000;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIR: u32 = 0x0605_4b50;
const ZIP64_END_OF_CENTRAL_DIR: u32 = 0x0606_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;

/// Reads Java archives.
pub struct JavaCataloger;

impl Cataloger for JavaCataloger {
    fn name(&self) -> &'static str {
        "java"
    }

    fn wants(&self, _file: &FileMeta) -> bool {
        false
    }

    fn catalog(&self, _: &str, _: &[u8], _: &mut LayerInventory) -> Result<(), String> {
        Ok(())
    }

    fn streams(&self, file: &FileMeta) -> bool {
        is_file(file) && is_archive(&file.path)
    }

    fn catalog_stream(
        &self,
        file: &FileMeta,
        reader: &mut dyn Read,
        _limits: &crate::limits::Limits,
        out: &mut LayerInventory,
    ) -> Result<(), CatalogError> {
        let mut source = Tracked {
            inner: reader,
            failed: None,
        };
        let mut scan = Scan {
            entries: Cell::new(0),
            inflated: Rc::default(),
            records: Vec::new(),
            warnings: Vec::new(),
            nesting: Vec::new(),
        };
        let result = {
            let mut r = BufReader::with_capacity(64 * 1024, &mut source);
            read_archive(&mut r, file.file_name(), 1, &mut scan)
        };
        if !scan.records.is_empty() {
            out.databases.insert(file.path.clone(), scan.records);
        }
        // An error of the layer stream itself aborts the layer; anything else is this file's.
        if let Some((kind, message)) = source.failed {
            return Err(CatalogError::Read(io::Error::new(kind, message)));
        }
        if let Err(e) = result {
            scan.warnings.insert(0, e);
        }
        match scan.warnings.len() {
            0 => Ok(()),
            1 => Err(CatalogError::Parse(scan.warnings.remove(0))),
            n => Err(CatalogError::Parse(format!(
                "{} (and {} more problems in nested archives)",
                scan.warnings[0],
                n - 1
            ))),
        }
    }
}

fn is_archive(path: &str) -> bool {
    [".jar", ".war", ".ear"].iter().any(|ext| {
        path.len() > ext.len()
            && path.is_char_boundary(path.len() - ext.len())
            && path[path.len() - ext.len()..].eq_ignore_ascii_case(ext)
    })
}

/// Remembers an error of the underlying layer stream, so it can be told apart from a corrupt
/// archive (which flate2 also reports as an `io::Error`).
struct Tracked<'a> {
    inner: &'a mut dyn Read,
    failed: Option<(io::ErrorKind, String)>,
}

impl Read for Tracked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            self.failed.get_or_insert((e.kind(), e.to_string()));
        })
    }
}

/// State shared by an outer archive and everything nested in it.
struct Scan {
    entries: Cell<u64>,
    inflated: Rc<Cell<u64>>,
    records: Vec<PackageRecord>,
    warnings: Vec<String>,
    /// Entry names of the nested archives being read, outermost first.
    nesting: Vec<String>,
}

/// Counts inflated bytes against [`MAX_INFLATED_BYTES`].
struct Counted<R> {
    inner: R,
    inflated: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.inflated.get() + n as u64;
        self.inflated.set(total);
        if total > MAX_INFLATED_BYTES {
            return Err(io::Error::other(format!(
                "inflates to more than {MAX_INFLATED_BYTES} bytes; the rest is not read"
            )));
        }
        Ok(n)
    }
}

/// What an entry is to us.
#[derive(Debug, PartialEq)]
enum EntryKind {
    Pom,
    Manifest,
    Nested,
    Skip,
}

fn classify(name: &str, depth: usize) -> EntryKind {
    if name == "META-INF/MANIFEST.MF" {
        return EntryKind::Manifest;
    }
    if let Some(rest) = name
        .strip_prefix("META-INF/maven/")
        .and_then(|r| r.strip_suffix("/pom.properties"))
        && rest.split('/').count() == 2
    {
        return EntryKind::Pom;
    }
    if depth < MAX_DEPTH && is_archive(name) && !name.ends_with('/') {
        return EntryKind::Nested;
    }
    EntryKind::Skip
}

/// One local file header, after its signature.
struct Header {
    flags: u16,
    method: u16,
    compressed: u64,
    zip64: bool,
    name: String,
}

fn read_archive(
    r: &mut dyn BufRead,
    archive: &str,
    depth: usize,
    scan: &mut Scan,
) -> Result<(), String> {
    let mut poms: Vec<Vec<u8>> = Vec::new();
    let mut manifest: Option<Vec<u8>> = None;
    let mut first = true;
    let result = loop {
        let sig = match read_u32_or_eof(r) {
            Ok(Some(sig)) => sig,
            Ok(None) if first => break Err("empty file, not a zip archive".to_owned()),
            // A stream cut short after whole entries still yields what those entries held.
            Ok(None) => break Ok(()),
            Err(e) => break Err(e.to_string()),
        };
        match sig {
            LOCAL_HEADER => {}
            CENTRAL_HEADER | END_OF_CENTRAL_DIR | ZIP64_END_OF_CENTRAL_DIR => break Ok(()),
            _ if first => break Err("not a zip archive".to_owned()),
            _ => break Err(format!("unexpected signature {sig:#010x} after an entry")),
        }
        first = false;
        scan.entries.set(scan.entries.get() + 1);
        if scan.entries.get() > MAX_ENTRIES {
            break Err(format!(
                "more than {MAX_ENTRIES} entries; the rest is not read"
            ));
        }
        let header = match read_header(r) {
            Ok(h) => h,
            Err(e) => break Err(e.to_string()),
        };
        if let Err(e) = read_entry(r, &header, depth, scan, &mut poms, &mut manifest) {
            break Err(format!("{}: {e}", clip(&header.name)));
        }
    };
    let first_new = scan.records.len();
    add_records(archive, &poms, manifest.as_deref(), &mut scan.records);
    if !scan.nesting.is_empty() {
        let inner = scan.nesting.join("!/");
        for record in &mut scan.records[first_new..] {
            record.found_in = Some(inner.clone());
        }
    }
    result.map_err(|e| {
        if depth == 1 {
            e
        } else {
            format!("nested {}: {e}", clip(archive))
        }
    })
}

fn read_header(r: &mut dyn BufRead) -> io::Result<Header> {
    let mut h = [0u8; 26];
    r.read_exact(&mut h)?;
    let u16_at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
    let (flags, method) = (u16_at(2), u16_at(4));
    let (compressed, uncompressed) = (u32_at(14), u32_at(18));
    let (name_len, extra_len) = (u16_at(22) as usize, u16_at(24) as usize);
    let mut name = vec![0; name_len];
    r.read_exact(&mut name)?;
    let mut extra = vec![0; extra_len];
    r.read_exact(&mut extra)?;
    let mut compressed = u64::from(compressed);
    // The zip64 extra field holds the sizes that did not fit, uncompressed size first.
    let zip64 = zip64_field(&extra);
    if let Some(field) = zip64 {
        let mut at = 0;
        let mut next = || {
            let v = field
                .get(at..at + 8)
                .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
            at += 8;
            v
        };
        if uncompressed == u32::MAX {
            next();
        }
        if compressed == u64::from(u32::MAX) {
            compressed = next().ok_or_else(|| invalid("zip64 extra field is too short"))?;
        }
    }
    Ok(Header {
        flags,
        method,
        compressed,
        zip64: zip64.is_some(),
        name: String::from_utf8_lossy(&name).into_owned(),
    })
}

fn zip64_field(mut extra: &[u8]) -> Option<&[u8]> {
    while extra.len() >= 4 {
        let id = u16::from_le_bytes([extra[0], extra[1]]);
        let len = u16::from_le_bytes([extra[2], extra[3]]) as usize;
        let data = extra.get(4..4 + len)?;
        if id == 0x0001 {
            return Some(data);
        }
        extra = &extra[4 + len..];
    }
    None
}

fn read_entry(
    r: &mut dyn BufRead,
    h: &Header,
    depth: usize,
    scan: &mut Scan,
    poms: &mut Vec<Vec<u8>>,
    manifest: &mut Option<Vec<u8>>,
) -> io::Result<()> {
    let descriptor = h.flags & 0x08 != 0;
    let kind = classify(&h.name, depth);
    let readable = h.flags & 0x01 == 0 && matches!(h.method, 0 | 8);
    if !descriptor && (kind == EntryKind::Skip || !readable) {
        // The size is known: skip the bytes without looking at them.
        skip(&mut (&mut *r).take(h.compressed))?;
        return Ok(());
    }
    if !readable {
        return Err(invalid(
            "encrypted or unsupported compression with a data descriptor; cannot find its end",
        ));
    }
    if h.method == 0 {
        if descriptor {
            // Only deflated data marks its own end; `jar` and `zip` never write this.
            return Err(invalid("stored entry with a data descriptor"));
        }
        let mut data = (&mut *r).take(h.compressed);
        use_entry(&mut data, kind, &h.name, depth, scan, poms, manifest)?;
        skip(&mut data)?;
    } else if descriptor {
        let inflate = Counted {
            inner: DeflateDecoder::new(&mut *r),
            inflated: Rc::clone(&scan.inflated),
        };
        let mut data = BufReader::new(inflate);
        use_entry(&mut data, kind, &h.name, depth, scan, poms, manifest)?;
        skip(&mut data)?;
        drop(data);
        skip_descriptor(r, h.zip64)?;
    } else {
        let mut raw = (&mut *r).take(h.compressed);
        let inflate = Counted {
            inner: DeflateDecoder::new(&mut raw),
            inflated: Rc::clone(&scan.inflated),
        };
        let mut data = BufReader::new(inflate);
        use_entry(&mut data, kind, &h.name, depth, scan, poms, manifest)?;
        skip(&mut data)?;
        drop(data);
        skip(&mut raw)?;
    }
    Ok(())
}

/// Reads what we keep from one entry's data; the caller skips whatever is left.
fn use_entry(
    data: &mut dyn BufRead,
    kind: EntryKind,
    name: &str,
    depth: usize,
    scan: &mut Scan,
    poms: &mut Vec<Vec<u8>>,
    manifest: &mut Option<Vec<u8>>,
) -> io::Result<()> {
    match kind {
        EntryKind::Pom | EntryKind::Manifest => {
            let mut buf = Vec::new();
            data.take(MAX_METADATA_BYTES + 1).read_to_end(&mut buf)?;
            if buf.len() as u64 > MAX_METADATA_BYTES {
                scan.warnings.push(format!(
                    "{}: over {MAX_METADATA_BYTES} bytes, not read",
                    clip(name)
                ));
            } else if kind == EntryKind::Pom {
                poms.push(buf);
            } else {
                *manifest = Some(buf);
            }
        }
        EntryKind::Nested => {
            let file_name = name.rsplit('/').next().unwrap_or(name);
            scan.nesting.push(name.to_owned());
            let result = read_archive(data, file_name, depth + 1, scan);
            scan.nesting.pop();
            if let Err(e) = result {
                scan.warnings.push(e);
            }
        }
        EntryKind::Skip => {}
    }
    Ok(())
}

/// Skips a data descriptor: an optional signature, the CRC and both sizes (8 bytes each in a
/// zip64 entry).
fn skip_descriptor(r: &mut dyn BufRead, zip64: bool) -> io::Result<()> {
    let buf = r.fill_buf()?;
    if buf.len() >= 4 && buf[..4] == DATA_DESCRIPTOR.to_le_bytes() {
        r.consume(4);
    }
    let len = if zip64 { 4 + 16 } else { 4 + 8 };
    let mut d = [0u8; 20];
    r.read_exact(&mut d[..len])
}

fn skip(r: &mut dyn Read) -> io::Result<()> {
    io::copy(r, &mut io::sink()).map(drop)
}

fn read_u32_or_eof(r: &mut dyn BufRead) -> io::Result<Option<u32>> {
    if r.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(Some(u32::from_le_bytes(b)))
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

/// Turns one archive's metadata into packages: each valid `pom.properties`, else the manifest,
/// else a `name-1.2.3.jar` file name.
fn add_records(
    archive: &str,
    poms: &[Vec<u8>],
    manifest: Option<&[u8]>,
    out: &mut Vec<PackageRecord>,
) {
    let manifest = manifest.map(parse_manifest).unwrap_or_default();
    let get = |k: &str| {
        manifest
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let license: Vec<String> = get("Bundle-License")
        .map(str::to_owned)
        .into_iter()
        .collect();
    let mut found = Vec::new();
    for pom in poms {
        let props = parse_properties(pom);
        let prop = |k: &str| {
            props
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        if let (Some(group), Some(artifact), Some(version)) =
            (prop("groupId"), prop("artifactId"), prop("version"))
        {
            found.push(maven(artifact, version, Some(group), Vec::new()));
        }
    }
    if found.len() == 1 {
        found[0].licenses = license.clone();
    }
    if found.is_empty() {
        let from_file = name_version_from_file(archive);
        let name = get("Implementation-Title")
            .or_else(|| get("Bundle-SymbolicName").map(|n| n.split(';').next().unwrap_or(n)))
            .map(str::to_owned)
            .or_else(|| from_file.as_ref().map(|(n, _)| n.clone()));
        let version = get("Implementation-Version")
            .or_else(|| get("Bundle-Version"))
            .map(str::to_owned)
            .or_else(|| from_file.map(|(_, v)| v));
        if let (Some(name), Some(version)) = (name, version) {
            let group = get("Implementation-Vendor-Id").map(str::to_owned);
            found.push(maven(name.trim().to_owned(), version, group, license));
        }
    }
    let room = MAX_PACKAGES.saturating_sub(out.len());
    out.extend(found.into_iter().take(room));
}

fn maven(
    name: String,
    version: String,
    group: Option<String>,
    licenses: Vec<String>,
) -> PackageRecord {
    PackageRecord {
        name,
        version,
        kind: PackageKind::Maven,
        arch: None,
        source: None,
        licenses,
        files: 0,
        namespace: group,
        found_in: None,
        cpes: Vec::new(),
    }
}

/// `commons-lang3-3.14.0.jar` → (`commons-lang3`, `3.14.0`): the version starts at the first
/// `-` followed by a digit.
fn name_version_from_file(file: &str) -> Option<(String, String)> {
    let stem = file.get(..file.len().checked_sub(4)?)?;
    let at = stem
        .char_indices()
        .find(|&(i, c)| {
            c == '-'
                && i > 0
                && stem[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(|d| d.is_ascii_digit())
        })?
        .0;
    Some((stem[..at].to_owned(), stem[at + 1..].to_owned()))
}

/// The main section of a manifest: `Name: value` lines, continued by lines that start with one
/// space (the 72-byte line limit), ending at the first blank line.
fn parse_manifest(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if let Some(more) = line.strip_prefix(' ') {
            if let Some((_, v)) = out.last_mut() {
                v.push_str(more);
            }
        } else if let Some((k, v)) = line.split_once(':') {
            out.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    for (_, v) in &mut out {
        *v = v.trim().to_owned();
    }
    out
}

/// Java `.properties` as Maven writes `pom.properties`: `key=value`, `#` comments.
fn parse_properties(bytes: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with(['#', '!']))
        .filter_map(|l| l.split_once(['=', ':']))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::FileKind;
    use crate::inventory::purl;
    use flate2::Compression;
    use flate2::write::DeflateEncoder;
    use std::io::Write;

    /// A minimal zip writer: stored entries with sizes, or deflated entries followed by a data
    /// descriptor (what `java.util.zip.ZipOutputStream` writes).
    fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, data, deflate) in entries {
            let body = if *deflate {
                let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
                e.write_all(data).unwrap();
                e.finish().unwrap()
            } else {
                data.to_vec()
            };
            let (flags, method, size) = if *deflate {
                (8u16, 8u16, 0u32)
            } else {
                (0, 0, body.len() as u32)
            };
            out.extend(LOCAL_HEADER.to_le_bytes());
            out.extend(20u16.to_le_bytes());
            out.extend(flags.to_le_bytes());
            out.extend(method.to_le_bytes());
            out.extend([0u8; 8]); // time, date, crc
            out.extend(size.to_le_bytes());
            out.extend(size.to_le_bytes());
            out.extend((name.len() as u16).to_le_bytes());
            out.extend(0u16.to_le_bytes());
            out.extend(name.as_bytes());
            out.extend(&body);
            if *deflate {
                out.extend(DATA_DESCRIPTOR.to_le_bytes());
                out.extend([0u8; 4]);
                out.extend((body.len() as u32).to_le_bytes());
                out.extend((data.len() as u32).to_le_bytes());
            }
        }
        out.extend(CENTRAL_HEADER.to_le_bytes());
        out.extend([0u8; 64]);
        out
    }

    fn catalog(bytes: &[u8]) -> (Vec<String>, Result<(), CatalogError>) {
        let meta = FileMeta {
            path: "/app/app.jar".into(),
            kind: FileKind::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: bytes.len() as u64,
            link_target: None,
        };
        let mut out = LayerInventory::default();
        let r = JavaCataloger.catalog_stream(
            &meta,
            &mut &bytes[..],
            &crate::limits::Limits::default(),
            &mut out,
        );
        let purls = out
            .databases
            .remove("/app/app.jar")
            .unwrap_or_default()
            .iter()
            .map(|p| purl(p, None))
            .collect();
        (purls, r)
    }

    const POM: &[u8] = b"#Generated by Maven\n#Tue Oct 10 10:10:10 UTC 2023\n\
        artifactId=demo\ngroupId=org.example\nversion=1.0.0\n";
    const MANIFEST: &[u8] = b"Manifest-Version: 1.0\r\nCreated-By: 17 (Eclipse Adoptium)\r\n\
        Implementation-Title: guava\r\nImplementation-Version: 33.0.0-j\r\n re\r\n\
        Bundle-License: https://www.apache.org/licenses/LICENSE-2.0.txt\r\n\r\nName: x\r\n";

    #[test]
    fn pom_properties_and_nested_jars() {
        let inner = zip(&[
            ("META-INF/", b"", false),
            ("META-INF/MANIFEST.MF", MANIFEST, true),
            ("com/google/A.class", &[0xca, 0xfe, 0xba, 0xbe], true),
        ]);
        let deflated_inner = zip(&[(
            "META-INF/MANIFEST.MF",
            b"Bundle-SymbolicName: org.x.y;singleton:=true\nBundle-Version: 2.1\n",
            true,
        )]);
        let jar = zip(&[
            ("META-INF/MANIFEST.MF", b"Main-Class: x\n", true),
            ("org/example/Main.class", &[0u8; 5000], true),
            ("META-INF/maven/org.example/demo/pom.properties", POM, true),
            ("BOOT-INF/lib/guava-33.0.0-jre.jar", &inner, false),
            ("WEB-INF/lib/y.jar", &deflated_inner, true),
            (
                "lib/commons-io-2.15.1.jar",
                &zip(&[("a.txt", b"a", false)]),
                false,
            ),
        ]);
        let (purls, r) = catalog(&jar);
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(
            purls,
            [
                "pkg:maven/guava@33.0.0-jre",
                "pkg:maven/org.x.y@2.1",
                "pkg:maven/commons-io@2.15.1",
                "pkg:maven/org.example/demo@1.0.0",
            ]
        );
    }

    #[test]
    fn nested_packages_say_which_inner_archive_holds_them() {
        let deepest = zip(&[(
            "META-INF/maven/g/b/pom.properties",
            b"groupId=g\nartifactId=b\nversion=2\n",
            false,
        )]);
        let middle = zip(&[("lib/b.jar", &deepest, false)]);
        let jar = zip(&[
            ("META-INF/maven/org.example/demo/pom.properties", POM, true),
            ("BOOT-INF/lib/a.jar", &middle, false),
        ]);
        let meta = FileMeta {
            path: "/app/app.jar".into(),
            kind: FileKind::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: jar.len() as u64,
            link_target: None,
        };
        let mut out = LayerInventory::default();
        let limits = crate::limits::Limits::default();
        JavaCataloger
            .catalog_stream(&meta, &mut &jar[..], &limits, &mut out)
            .unwrap();
        let found: Vec<(&str, Option<&str>)> = out.databases["/app/app.jar"]
            .iter()
            .map(|r| (r.name.as_str(), r.found_in.as_deref()))
            .collect();
        assert_eq!(
            found,
            [("b", Some("BOOT-INF/lib/a.jar!/lib/b.jar")), ("demo", None)]
        );
    }

    #[test]
    fn licence_from_the_manifest() {
        let mut out = Vec::new();
        add_records("x.jar", &[POM.to_vec()], Some(MANIFEST), &mut out);
        assert_eq!(
            out[0].licenses,
            ["https://www.apache.org/licenses/LICENSE-2.0.txt"]
        );
    }

    #[test]
    fn depth_is_capped() {
        let mut jar = zip(&[(
            "META-INF/maven/g/deep/pom.properties",
            b"groupId=g\nartifactId=deep\nversion=1\n",
            false,
        )]);
        for _ in 0..4 {
            jar = zip(&[("lib/n.jar", &jar, false)]);
        }
        let (purls, r) = catalog(&jar);
        assert!(purls.is_empty() && r.is_ok(), "{purls:?} {r:?}");
    }

    #[test]
    fn malformed_archives_are_warnings_not_read_errors() {
        for bad in [
            &b"not a zip at all"[..],
            &b""[..],
            &LOCAL_HEADER.to_le_bytes()[..],
        ] {
            let (purls, r) = catalog(bad);
            assert!(purls.is_empty());
            assert!(matches!(r, Err(CatalogError::Parse(_))), "{r:?}");
        }
        // Corrupt deflate data after a good entry: the good entry is kept.
        let mut jar = zip(&[("META-INF/maven/org.example/demo/pom.properties", POM, false)]);
        jar.truncate(jar.len() - 68);
        jar.extend(zip(&[("x", &[7u8; 100], true)])[..40].iter());
        jar.extend([0xff; 64]);
        let (purls, r) = catalog(&jar);
        assert_eq!(purls, ["pkg:maven/org.example/demo@1.0.0"]);
        assert!(matches!(r, Err(CatalogError::Parse(_))), "{r:?}");
        // A broken nested archive is reported, and the outer one still read.
        let jar = zip(&[
            ("lib/broken.jar", b"garbage", false),
            ("META-INF/maven/org.example/demo/pom.properties", POM, false),
        ]);
        let (purls, r) = catalog(&jar);
        assert_eq!(purls, ["pkg:maven/org.example/demo@1.0.0"]);
        let Err(CatalogError::Parse(e)) = r else {
            panic!("{r:?}")
        };
        assert!(e.contains("broken.jar"), "{e}");
    }

    #[test]
    fn a_failing_layer_stream_is_a_read_error() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "truncated layer",
                ))
            }
        }
        let meta = FileMeta {
            path: "/a.jar".into(),
            kind: FileKind::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 10,
            link_target: None,
        };
        let r = JavaCataloger.catalog_stream(
            &meta,
            &mut Failing,
            &crate::limits::Limits::default(),
            &mut LayerInventory::default(),
        );
        assert!(matches!(r, Err(CatalogError::Read(_))), "{r:?}");
    }

    #[test]
    fn file_names_and_paths() {
        assert_eq!(
            name_version_from_file("commons-lang3-3.14.0.jar"),
            Some(("commons-lang3".into(), "3.14.0".into()))
        );
        assert_eq!(name_version_from_file("app.jar"), None);
        assert!(is_archive("/x/APP.JAR") && is_archive("/x/a.war") && !is_archive(".jar"));
        assert_eq!(
            classify("META-INF/maven/g/a/pom.properties", 1),
            EntryKind::Pom
        );
        assert_eq!(
            classify("META-INF/maven/a/pom.properties", 1),
            EntryKind::Skip
        );
        assert_eq!(classify("BOOT-INF/lib/x.jar", 3), EntryKind::Skip);
    }
}
