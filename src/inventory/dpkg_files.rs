//! dpkg's per-package file lists, `/var/lib/dpkg/info/<package>[:<arch>].list`: how many files
//! each package owns. The status file does not say; the merge copies the count of each live list
//! onto the matching package ([`super::Inventory::assemble`]).
//!
//! A list names directories as well as files (`/.`, `/usr`, `/usr/bin`); a line counts as a
//! directory when another line lies below it, so an empty directory a package owns is counted as
//! a file, the one inexactness of reading lists without the filesystem.

use super::{Cataloger, LayerInventory, is_file};
use crate::event::FileMeta;
use std::collections::HashSet;

const INFO: &str = "/var/lib/dpkg/info/";

/// Reads dpkg's file lists.
pub struct DpkgFilesCataloger;

impl Cataloger for DpkgFilesCataloger {
    fn name(&self) -> &'static str {
        "dpkg-files"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file)
            && file
                .path
                .strip_prefix(INFO)
                .is_some_and(|name| !name.contains('/') && name.ends_with(".list"))
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let text = std::str::from_utf8(content)
            .map_err(|_| "not UTF-8 text; its files are not counted".to_owned())?;
        out.dpkg_files.insert(path.to_owned(), owned_files(text));
        Ok(())
    }
}

/// The files (not directories) a list names. Kept as paths, not just counted, so the merge can
/// say which package owns each binary.
fn owned_files(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('/') && *l != "/.")
        .collect();
    let parents: HashSet<&str> = lines
        .iter()
        .filter_map(|l| l.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    lines
        .iter()
        .filter(|l| !parents.contains(*l))
        .map(|l| (*l).to_owned())
        .collect()
}

#[cfg(test)]
fn count_files(text: &str) -> usize {
    owned_files(text).len()
}

/// The package name and architecture a list's path names: `libc6:amd64.list` → (`libc6`,
/// `Some("amd64")`), `tzdata.list` → (`tzdata`, `None`).
pub(super) fn package_of(path: &str) -> Option<(&str, Option<&str>)> {
    let name = path.strip_prefix(INFO)?.strip_suffix(".list")?;
    Some(match name.split_once(':') {
        Some((name, arch)) => (name, Some(arch)),
        None => (name, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_files_not_directories() {
        assert_eq!(
            count_files("/.\n/usr\n/usr/bin\n/usr/bin/a\n/usr/bin/b\n/usr-x\n"),
            3
        );
        let real = include_str!("../../testdata/files/dpkg-info-coreutils.list");
        // `dpkg -L coreutils` on Debian 12: 454 lines, 310 of them files and symlinks.
        assert_eq!(count_files(real), 310);
    }

    #[test]
    fn malformed_list_is_an_error() {
        let mut out = LayerInventory::default();
        let path = "/var/lib/dpkg/info/x.list";
        assert!(
            DpkgFilesCataloger
                .catalog(path, b"/a\n\xff\xfe", &mut out)
                .is_err()
        );
        assert!(out.dpkg_files.is_empty());
        DpkgFilesCataloger
            .catalog(path, b"garbage\n", &mut out)
            .unwrap();
        assert!(out.dpkg_files[path].is_empty());
    }

    #[test]
    fn paths_name_package_and_arch() {
        assert_eq!(
            package_of("/var/lib/dpkg/info/libc6:amd64.list"),
            Some(("libc6", Some("amd64")))
        );
        assert_eq!(
            package_of("/var/lib/dpkg/info/tzdata.list"),
            Some(("tzdata", None))
        );
        let meta = FileMeta::test_file;
        assert!(DpkgFilesCataloger.wants(&meta("/var/lib/dpkg/info/libc6:amd64.list")));
        assert!(!DpkgFilesCataloger.wants(&meta("/var/lib/dpkg/info/libc6:amd64.md5sums")));
    }
}

#[cfg(test)]
mod merge_tests {
    /// The count comes from the list the final filesystem holds, matched by name and arch.
    #[test]
    fn live_lists_fill_deb_file_counts() {
        let status = b"Package: libc6\nStatus: install ok installed\nVersion: 2.36\nArchitecture: amd64\n\n\
                       Package: tzdata\nStatus: install ok installed\nVersion: 2024a\nArchitecture: all\n";
        let (counts, _) = crate::inventory::file_counts(&[
            &[
                ("var/lib/dpkg/status", status),
                (
                    "var/lib/dpkg/info/libc6:amd64.list",
                    b"/.\n/lib\n/lib/a.so\n",
                ),
                ("var/lib/dpkg/info/tzdata.list", b"/usr\n/usr/a\n/usr/b\n"),
            ],
            &[(
                "var/lib/dpkg/info/tzdata.list",
                b"/usr\n/usr/a\n/usr/b\n/usr/c\n",
            )],
        ]);
        assert_eq!(counts, [("libc6".into(), 1), ("tzdata".into(), 3)]);
    }
}
