//! PHP: Composer's record of what it installed, `vendor/composer/installed.json`. Composer 1
//! writes a JSON array of packages, Composer 2 an object with a `packages` array.

use super::{Cataloger, LayerInventory, PackageKind, PackageRecord, is_file};
use crate::event::FileMeta;
use serde_json::Value;

/// Reads Composer's installed packages.
pub struct ComposerCataloger;

impl Cataloger for ComposerCataloger {
    fn name(&self) -> &'static str {
        "composer"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file) && file.path.ends_with("/vendor/composer/installed.json")
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let json: Value =
            serde_json::from_slice(content).map_err(|e| format!("not valid JSON: {e}"))?;
        let packages = match &json {
            Value::Array(a) => a,
            Value::Object(o) => match o.get("packages") {
                Some(Value::Array(a)) => a,
                _ => return Err("no `packages` array".into()),
            },
            _ => return Err("neither an array nor an object with `packages`".into()),
        };
        let mut records = Vec::new();
        let mut bad = 0;
        for p in packages {
            match parse(p) {
                Some(r) => records.push(r),
                None => bad += 1,
            }
        }
        let total = packages.len();
        out.databases.insert(path.to_owned(), records);
        if bad == 0 {
            Ok(())
        } else {
            Err(format!(
                "{bad} of {total} packages lack a `vendor/name` name or a version; they were skipped"
            ))
        }
    }
}

fn parse(p: &Value) -> Option<PackageRecord> {
    let text = |k: &str| p.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (vendor, name) = text("name")?.split_once('/')?;
    let licenses = match p.get("license") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    Some(PackageRecord {
        name: name.to_owned(),
        // Kept as recorded (`v1.28.0`): the purl spec does not normalise Composer versions.
        version: text("version")?.to_owned(),
        kind: PackageKind::Composer,
        arch: None,
        source: None,
        licenses,
        files: 0,
        namespace: Some(vendor.to_owned()),
        found_in: None,
        cpes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::purl;

    const PATH: &str = "/app/vendor/composer/installed.json";

    fn catalog(text: &[u8]) -> (Vec<PackageRecord>, Result<(), String>) {
        let mut out = LayerInventory::default();
        let r = ComposerCataloger.catalog(PATH, text, &mut out);
        (out.databases.remove(PATH).unwrap_or_default(), r)
    }

    fn purls(records: &[PackageRecord]) -> Vec<String> {
        records.iter().map(|r| purl(r, None)).collect()
    }

    #[test]
    fn composer_2() {
        let (r, res) = catalog(include_bytes!(
            "../../testdata/files/composer-installed-v2.json"
        ));
        res.unwrap();
        assert_eq!(
            purls(&r),
            [
                "pkg:composer/monolog/monolog@3.5.0",
                "pkg:composer/psr/log@3.0.0"
            ]
        );
        assert_eq!(r[0].licenses, ["MIT"]);
    }

    #[test]
    fn composer_1() {
        let (r, res) = catalog(include_bytes!(
            "../../testdata/files/composer-installed-v1.json"
        ));
        res.unwrap();
        assert_eq!(purls(&r), ["pkg:composer/symfony/polyfill-ctype@v1.28.0"]);
    }

    #[test]
    fn malformed_files_are_errors() {
        assert!(catalog(b"{").1.unwrap_err().contains("JSON"));
        assert!(catalog(b"{\"packages\": 3}").1.is_err());
        let (r, res) = catalog(br#"[{"name":"a/b","version":"1"},{"name":"nover/x"},{"name":"noslash","version":"1"}]"#);
        assert_eq!(r.len(), 1);
        assert!(res.unwrap_err().starts_with("2 of 3"));
    }
}
