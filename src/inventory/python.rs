//! Python: installed distributions' core metadata, `*.dist-info/METADATA` (wheels, pip) and
//! `*.egg-info/PKG-INFO` or a bare `*.egg-info` file (setuptools, distro packages).
//!
//! Both are RFC 822 style headers ending at the first blank line; the body after it is the long
//! description, which may itself contain `Name:` lines and is never read.

use super::{Cataloger, LayerInventory, PackageKind, PackageRecord, clip, is_file};
use crate::event::FileMeta;

/// Reads Python package metadata.
pub struct PythonCataloger;

impl Cataloger for PythonCataloger {
    fn name(&self) -> &'static str {
        "python"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file)
            && (file.path.ends_with(".dist-info/METADATA")
                || file.path.ends_with(".egg-info/PKG-INFO")
                || file.path.ends_with(".egg-info"))
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let record = parse(&String::from_utf8_lossy(content))?;
        out.databases.insert(path.to_owned(), vec![record]);
        Ok(())
    }
}

/// The licence fields in order of preference: an SPDX expression (metadata 2.4), the free-text
/// `License` when it is a short name rather than a pasted licence text, then trove classifiers.
fn parse(text: &str) -> Result<PackageRecord, String> {
    let (mut name, mut version, mut expression, mut license) = (None, None, None, None);
    let mut classifiers = Vec::new();
    let mut license_lines = 0;
    let mut last = "";
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if last == "License" {
                license_lines += 1;
            }
            continue;
        }
        let Some((field, value)) = line.split_once(':') else {
            return Err(format!("line {:?} is not `Field: value`", clip(line)));
        };
        last = field;
        let value = value.trim();
        match field {
            "Name" => name = Some(value),
            "Version" => version = Some(value),
            "License-Expression" => expression = Some(value),
            "License" => license = Some(value),
            "Classifier" => {
                if let Some(l) = value
                    .strip_prefix("License :: ")
                    .and_then(|l| l.rsplit(" :: ").next())
                {
                    classifiers.push(l.to_owned());
                }
            }
            _ => {}
        }
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or("no Name header")?
        .to_owned();
    let version = version
        .filter(|v| !v.is_empty())
        .ok_or_else(|| format!("distribution {:?} has no Version header", clip(&name)))?
        .to_owned();
    let license = license.filter(|l| {
        license_lines == 0 && !l.is_empty() && l.len() <= 100 && !l.eq_ignore_ascii_case("UNKNOWN")
    });
    let licenses = match expression.filter(|e| !e.is_empty()).or(license) {
        Some(l) => vec![l.to_owned()],
        None => classifiers,
    };
    Ok(PackageRecord {
        name: normalise(&name),
        version,
        kind: PackageKind::Pypi,
        arch: None,
        source: None,
        licenses,
        files: 0,
        namespace: None,
        found_in: None,
        cpes: Vec::new(),
    })
}

/// PEP 503 name normalisation, which the purl spec prescribes for `pkg:pypi`: lowercase, and
/// runs of `-`, `_` and `.` become one `-` (`Flask_SQLAlchemy` → `flask-sqlalchemy`).
fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::purl;

    fn catalog(text: &[u8]) -> Result<PackageRecord, String> {
        let path = "/usr/lib/python3/site-packages/x.dist-info/METADATA";
        let mut out = LayerInventory::default();
        PythonCataloger.catalog(path, text, &mut out)?;
        Ok(out.databases.remove(path).unwrap().remove(0))
    }

    #[test]
    fn dist_info_metadata() {
        let r = catalog(include_bytes!(
            "../../testdata/files/python-requests-METADATA"
        ))
        .unwrap();
        assert_eq!(purl(&r, None), "pkg:pypi/requests@2.31.0");
        assert_eq!(r.licenses, ["Apache 2.0"]);
    }

    #[test]
    fn license_expression_wins() {
        let r = catalog(include_bytes!("../../testdata/files/python-attrs-METADATA")).unwrap();
        assert_eq!(purl(&r, None), "pkg:pypi/attrs@26.1.0");
        assert_eq!(r.licenses, ["MIT"]);
    }

    #[test]
    fn egg_info_pkg_info_normalises_the_name() {
        let r = catalog(include_bytes!("../../testdata/files/python-PyJWT-PKG-INFO")).unwrap();
        assert_eq!(purl(&r, None), "pkg:pypi/pyjwt@2.6.0");
        assert_eq!(r.licenses, ["MIT"]);
        assert_eq!(normalise("Flask__SQL.Alchemy"), "flask-sql-alchemy");
    }

    #[test]
    fn classifiers_when_license_is_a_pasted_text() {
        let r = catalog(
            b"Name: x\nVersion: 1\nLicense: Copyright (c) someone\n        Permission is hereby granted\n\
              Classifier: License :: OSI Approved :: MIT License\n",
        )
        .unwrap();
        assert_eq!(r.licenses, ["MIT License"]);
    }

    #[test]
    fn malformed_metadata_is_an_error() {
        assert!(catalog(b"Version: 1\n").unwrap_err().contains("Name"));
        assert!(catalog(b"Name: x\n").unwrap_err().contains("Version"));
        assert!(catalog(&[0xff; 10_000]).unwrap_err().len() < 300);
        assert!(catalog(b"").is_err());
    }

    #[test]
    fn wants_metadata_files_only() {
        let meta = FileMeta::test_file;
        let c = PythonCataloger;
        assert!(c.wants(&meta(
            "/usr/lib/python3/dist-packages/a-1.dist-info/METADATA"
        )));
        assert!(c.wants(&meta(
            "/usr/lib/python3/dist-packages/b-1.egg-info/PKG-INFO"
        )));
        assert!(c.wants(&meta("/usr/lib/python3/dist-packages/c-1.egg-info")));
        assert!(!c.wants(&meta("/usr/lib/python3/dist-packages/a-1.dist-info/RECORD")));
    }
}
