//! dpkg: `/var/lib/dpkg/status`, and distroless' `/var/lib/dpkg/status.d/<name>` (one paragraph
//! per file, because distroless images install packages without running dpkg).

use super::{
    Cataloger, LayerInventory, PackageKind, PackageRecord, clip, is_file, paragraphs,
    record_packages,
};
use crate::event::FileMeta;

const STATUS: &str = "/var/lib/dpkg/status";
pub(super) const STATUS_D: &str = "/var/lib/dpkg/status.d/";

/// True for the database whose packages' files `/var/lib/dpkg/info/*.list` name; distroless'
/// status.d paragraphs have `status.d/<name>.md5sums` instead, when they have any.
pub(super) fn has_info_lists(path: &str) -> bool {
    path == STATUS
}

/// True for a distroless paragraph, whose package's files its `.md5sums` sibling names.
pub(super) fn has_md5sums_lists(path: &str) -> bool {
    path.starts_with(STATUS_D)
}

/// Reads the dpkg status database.
pub struct DpkgCataloger;

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        "dpkg"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        if !is_file(file) {
            return false;
        }
        if file.path == STATUS {
            return true;
        }
        // status.d also holds `<name>.md5sums` next to each control paragraph, which
        // dpkg_md5sums reads.
        file.path
            .strip_prefix(STATUS_D)
            .is_some_and(|name| !name.contains('/') && !name.ends_with(".md5sums"))
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        // dpkg itself always writes Status; distroless' hand-made paragraphs may omit it.
        let status_required = path == STATUS;
        let text = String::from_utf8_lossy(content);
        record_packages(
            path,
            paragraphs(&text),
            |para: Vec<&str>| parse_paragraph(&para, status_required),
            "paragraphs",
            out,
        )
    }
}

/// One package paragraph; `Ok(None)` for a package that is known but not installed (removed
/// with its configuration files left, half-installed, ...).
fn parse_paragraph(lines: &[&str], status_required: bool) -> Result<Option<PackageRecord>, String> {
    let (mut name, mut version, mut arch, mut source, mut status) = (None, None, None, None, None);
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // Continuation of a multi-line field (Description, Conffiles): nothing we read.
            continue;
        }
        let Some((field, value)) = line.split_once(':') else {
            return Err(format!("line {:?} is not `Field: value`", clip(line)));
        };
        let value = value.trim();
        match field {
            "Package" => name = Some(value),
            "Version" => version = Some(value),
            "Architecture" => arch = Some(value),
            "Source" => source = Some(value),
            "Status" => status = Some(value),
            _ => {}
        }
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or("a paragraph has no Package field")?;
    match status {
        // `want flag state`: only the state word says whether the files are on disk.
        Some(s) if s.split_whitespace().nth(2) != Some("installed") => return Ok(None),
        None if status_required => return Err(format!("package {:?} has no Status", clip(name))),
        _ => {}
    }
    let version = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("package {:?} has no Version", clip(name)))?;
    Ok(Some(PackageRecord {
        name: name.to_owned(),
        version: version.to_owned(),
        kind: PackageKind::Deb,
        arch: arch.filter(|a| !a.is_empty()).map(str::to_owned),
        // `Source: util-linux (2.38.1-5)` names a source version only when it differs.
        source: source
            .and_then(|s| s.split_whitespace().next())
            .map(str::to_owned),
        licenses: Vec::new(),
        files: 0,
        namespace: None,
        found_in: None,
        cpes: Vec::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(path: &str, text: &[u8]) -> (Vec<PackageRecord>, Result<(), String>) {
        let mut out = LayerInventory::default();
        let r = DpkgCataloger.catalog(path, text, &mut out);
        (out.databases.remove(path).unwrap_or_default(), r)
    }

    #[test]
    fn status_file_lists_installed_packages_only() {
        let (pkgs, r) = catalog(STATUS, include_bytes!("../../testdata/files/dpkg-status"));
        r.unwrap();
        let names: Vec<_> = pkgs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["bsdutils", "libssl3"],
            "config-files package skipped"
        );
        assert_eq!(pkgs[0].version, "1:2.38.1-5+deb12u3");
        assert_eq!(pkgs[0].arch.as_deref(), Some("amd64"));
        assert_eq!(pkgs[0].source.as_deref(), Some("util-linux"));
        assert_eq!(pkgs[1].source.as_deref(), Some("openssl"));
        assert_eq!(pkgs[1].version, "3.0.11-1~deb12u2");
    }

    #[test]
    fn distroless_status_d_paragraph() {
        let (pkgs, r) = catalog(
            "/var/lib/dpkg/status.d/tzdata",
            b"Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n",
        );
        r.unwrap();
        assert_eq!(pkgs[0].name, "tzdata");
        assert_eq!(pkgs[0].arch.as_deref(), Some("all"));
    }

    #[test]
    fn malformed_paragraphs_are_skipped_with_a_warning() {
        let text = b"Package: ok\nStatus: install ok installed\nVersion: 1\n\n\xff\xfegarbage\n\n\
                     Package: nover\nStatus: install ok installed\n\nStatus: install ok installed\n";
        let (pkgs, r) = catalog(STATUS, text);
        assert_eq!(pkgs.len(), 1);
        let e = r.unwrap_err();
        assert!(e.starts_with("3 of 4 paragraphs"), "{e}");
        let (pkgs, r) = catalog(STATUS, &[b'x'; 100_000]);
        assert!(pkgs.is_empty());
        assert!(r.unwrap_err().len() < 300, "messages stay short");
    }

    #[test]
    fn wants_the_databases_only() {
        let meta = FileMeta::test_file;
        assert!(DpkgCataloger.wants(&meta(STATUS)));
        assert!(DpkgCataloger.wants(&meta("/var/lib/dpkg/status.d/base")));
        assert!(!DpkgCataloger.wants(&meta("/var/lib/dpkg/status.d/base.md5sums")));
        assert!(!DpkgCataloger.wants(&meta("/var/lib/dpkg/status-old")));
    }
}
