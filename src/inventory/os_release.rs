//! `os-release(5)`: which distribution the image is, for purl namespaces and `distro=`.

use super::{Cataloger, LayerInventory, is_file};
use crate::event::FileMeta;
use serde::{Deserialize, Serialize};

/// The distribution named by `os-release`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID` (`debian`, `alpine`); `linux` when absent, as os-release(5) specifies.
    pub id: String,
    /// `VERSION_ID` (`12`, `3.19.1`); absent on rolling releases.
    pub version_id: Option<String>,
    /// `PRETTY_NAME`.
    pub pretty_name: Option<String>,
}

/// Reads `/etc/os-release` and `/usr/lib/os-release`.
pub struct OsReleaseCataloger;

impl Cataloger for OsReleaseCataloger {
    fn name(&self) -> &'static str {
        "os-release"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file)
            && matches!(
                file.path.as_str(),
                "/etc/os-release" | "/usr/lib/os-release"
            )
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let (os, bad) = parse(&String::from_utf8_lossy(content));
        let result = match (&os, bad) {
            (None, _) => Err("no KEY=value lines".to_owned()),
            (Some(_), 0) => Ok(()),
            (Some(_), n) => Err(format!("{n} lines are not KEY=value; they were skipped")),
        };
        if let Some(os) = os {
            out.os_release.insert(path.to_owned(), os);
        }
        result
    }
}

/// Parses the shell-like assignments; returns the release (None when nothing parsed) and the
/// number of lines that were not assignments.
fn parse(text: &str) -> (Option<OsRelease>, usize) {
    let mut os = OsRelease {
        id: String::new(),
        version_id: None,
        pretty_name: None,
    };
    let (mut any, mut bad) = (false, 0);
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            bad += 1;
            continue;
        };
        any = true;
        let value = unquote(value.trim());
        match key.trim() {
            "ID" => os.id = value,
            "VERSION_ID" => os.version_id = Some(value),
            "PRETTY_NAME" => os.pretty_name = Some(value),
            _ => {}
        }
    }
    if os.id.is_empty() {
        os.id = "linux".to_owned();
    }
    (any.then_some(os), bad)
}

/// Strips one level of shell quoting, undoing the escapes os-release(5) allows inside quotes.
fn unquote(v: &str) -> String {
    let quoted = v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')));
    if !quoted {
        return v.to_owned();
    }
    let inner = &v[1..v.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(path: &str, text: &[u8]) -> (LayerInventory, Result<(), String>) {
        let mut out = LayerInventory::default();
        let r = OsReleaseCataloger.catalog(path, text, &mut out);
        (out, r)
    }

    #[test]
    fn debian_and_alpine() {
        let (inv, r) = catalog(
            "/usr/lib/os-release",
            include_bytes!("../../testdata/files/os-release.debian12"),
        );
        r.unwrap();
        let os = &inv.os_release["/usr/lib/os-release"];
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id.as_deref(), Some("12"));
        assert_eq!(
            os.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        let (inv, r) = catalog(
            "/etc/os-release",
            include_bytes!("../../testdata/files/os-release.alpine"),
        );
        r.unwrap();
        let os = &inv.os_release["/etc/os-release"];
        assert_eq!(os.id, "alpine");
        assert_eq!(os.version_id.as_deref(), Some("3.19.1"));
    }

    #[test]
    fn garbage_is_a_warning() {
        let (inv, r) = catalog("/etc/os-release", b"\xff\xfe not an os release\n\0\0");
        assert!(r.is_err());
        assert!(inv.os_release.is_empty());
        let (inv, r) = catalog("/etc/os-release", b"junk\nID='it\\'s'\n");
        assert!(r.unwrap_err().contains("1 lines"));
        assert_eq!(inv.os_release["/etc/os-release"].id, "it's");
    }
}
