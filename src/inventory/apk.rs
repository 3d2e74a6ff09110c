//! apk: `/lib/apk/db/installed`, one blank-line separated record per package of single-letter
//! `K:value` lines (apk-tools' "installed database" format). A package's files follow its
//! metadata: an `F:` line names a directory (relative to `/`), each `R:` line after it a file
//! in that directory.

use super::file_lists::FileListsBuilder;
use super::{Cataloger, LayerInventory, PackageKind, PackageRecord, is_file, paragraphs};
use crate::event::FileMeta;

const INSTALLED: &str = "/lib/apk/db/installed";

/// Reads the apk installed database.
pub struct ApkCataloger;

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        "apk"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file) && file.path == INSTALLED
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let text = String::from_utf8_lossy(content);
        let mut packages = Vec::new();
        let mut lists = FileListsBuilder::default();
        let (mut total, mut bad) = (0usize, 0usize);
        for para in paragraphs(&text) {
            total += 1;
            match parse_record(&para) {
                Some((package, files)) => {
                    let files: Vec<_> = files
                        .into_iter()
                        .map(|(dir, name)| (lists.dir(&directory(dir)), name))
                        .collect();
                    lists.add(&package.name, files);
                    packages.push(package);
                }
                None => bad += 1,
            }
        }
        out.databases.insert(path.to_owned(), packages);
        out.file_lists.insert(path.to_owned(), lists.finish());
        if bad == 0 {
            Ok(())
        } else {
            Err(format!(
                "{bad} of {total} records lack P: or V: or hold lines that are not `K:value`; \
                 they were skipped"
            ))
        }
    }
}

/// `F:` values are relative (`usr/bin`); the lists store directories as absolute paths ending in
/// `/`, the root as `/`.
fn directory(folder: &str) -> String {
    let folder = folder.trim_matches('/');
    if folder.is_empty() {
        "/".to_owned()
    } else {
        format!("/{folder}/")
    }
}

/// One package and its files as (`F:` directory, `R:` name); a file before any `F:` line lies
/// in the root.
fn parse_record<'a>(lines: &[&'a str]) -> Option<(PackageRecord, Vec<(&'a str, &'a str)>)> {
    let (mut name, mut version, mut arch, mut origin, mut license) = (None, None, None, None, None);
    let mut folder = "";
    let mut files = Vec::new();
    for line in lines {
        let (key, value) = line.split_once(':')?;
        match key {
            "P" => name = Some(value),
            "V" => version = Some(value),
            "A" => arch = Some(value),
            "o" => origin = Some(value),
            "L" => license = Some(value),
            // Directories are not owned files: only `R:` lines count.
            "F" => folder = value,
            "R" => files.push((folder, value)),
            k if k.len() == 1 => {}
            _ => return None,
        }
    }
    let some = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_owned);
    let package = PackageRecord {
        name: some(name)?,
        version: some(version)?,
        kind: PackageKind::Apk,
        arch: some(arch),
        source: some(origin),
        licenses: some(license).into_iter().collect(),
        files: files.len(),
        namespace: None,
        found_in: None,
        cpes: Vec::new(),
    };
    Some((package, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(text: &[u8]) -> (Vec<PackageRecord>, Result<(), String>) {
        let mut out = LayerInventory::default();
        let r = ApkCataloger.catalog(INSTALLED, text, &mut out);
        (out.databases.remove(INSTALLED).unwrap_or_default(), r)
    }

    #[test]
    fn installed_db() {
        let (pkgs, r) = catalog(include_bytes!("../../testdata/files/apk-installed"));
        r.unwrap();
        assert_eq!(pkgs.len(), 2);
        let musl = &pkgs[0];
        assert_eq!(musl.name, "musl");
        assert_eq!(musl.version, "1.2.4_git20230717-r4");
        assert_eq!(musl.arch.as_deref(), Some("x86_64"));
        assert_eq!(musl.source.as_deref(), Some("musl"));
        assert_eq!(musl.licenses, ["MIT"]);
        assert_eq!(musl.files, 2);
        let mut out = LayerInventory::default();
        ApkCataloger
            .catalog(
                INSTALLED,
                include_bytes!("../../testdata/files/apk-installed"),
                &mut out,
            )
            .unwrap();
        let lists = &out.file_lists[INSTALLED];
        assert_eq!(
            lists.paths_of("busybox"),
            ["/bin/busybox", "/etc/securetty", "/etc/udhcpd.conf"]
        );
        assert_eq!(
            lists.paths_of("musl"),
            ["/lib/ld-musl-x86_64.so.1", "/lib/libc.musl-x86_64.so.1"]
        );
        let bb = &pkgs[1];
        assert_eq!(bb.name, "busybox");
        assert_eq!(bb.licenses, ["GPL-2.0-only"]);
        assert_eq!(bb.files, 3);
    }

    #[test]
    fn files_before_any_folder_lie_in_the_root() {
        let mut out = LayerInventory::default();
        ApkCataloger
            .catalog(INSTALLED, b"P:a\nV:1\nR:init\nF:usr/bin/\nR:x\n", &mut out)
            .unwrap();
        assert_eq!(
            out.file_lists[INSTALLED].paths_of("a"),
            ["/init", "/usr/bin/x"]
        );
    }

    #[test]
    fn malformed_records_are_skipped_with_a_warning() {
        let (pkgs, r) = catalog(b"P:a\nV:1\n\nnot a record\n\nP:b\n\n\xff\xff\xff");
        assert_eq!(pkgs.len(), 1);
        assert!(r.unwrap_err().starts_with("3 of 4 records"));
    }
}
