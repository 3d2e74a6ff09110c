//! Node.js: `package.json` of installed packages, that is those directly under a `node_modules`
//! directory (`node_modules/express/package.json`, `node_modules/@babel/core/package.json`).
//! Other `package.json` files inside a package (test fixtures, examples) describe nothing
//! installed and are not read.

use super::{Cataloger, LayerInventory, PackageKind, PackageRecord, is_file};
use crate::event::FileMeta;
use serde_json::Value;

/// Reads installed npm packages.
pub struct NodeCataloger;

impl Cataloger for NodeCataloger {
    fn name(&self) -> &'static str {
        "node"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file) && is_installed_manifest(&file.path)
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let json: Value =
            serde_json::from_slice(content).map_err(|e| format!("not valid JSON: {e}"))?;
        if let Some(record) = parse(&json)? {
            out.databases.insert(path.to_owned(), vec![record]);
        }
        Ok(())
    }
}

/// `…/node_modules/<name>/package.json` or `…/node_modules/@scope/<name>/package.json`.
fn is_installed_manifest(path: &str) -> bool {
    let Some(dir) = path.strip_suffix("/package.json") else {
        return false;
    };
    let mut parts = dir.rsplit('/');
    let (Some(name), Some(parent)) = (parts.next(), parts.next()) else {
        return false;
    };
    if name.is_empty() || name == "node_modules" || name.starts_with('@') {
        return false;
    }
    if parent == "node_modules" {
        return true;
    }
    parent.len() > 1 && parent.starts_with('@') && parts.next() == Some("node_modules")
}

/// `Ok(None)` for a manifest without a name or version: npm allows that for private packages,
/// which are never published and have no purl.
fn parse(json: &Value) -> Result<Option<PackageRecord>, String> {
    let Some(obj) = json.as_object() else {
        return Err("package.json is not a JSON object".into());
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let (Some(full), Some(version)) = (text("name"), text("version")) else {
        return Ok(None);
    };
    let (namespace, name) = match full.split_once('/') {
        Some((scope, name)) if scope.starts_with('@') => (Some(scope.to_owned()), name),
        _ => (None, full),
    };
    Ok(Some(PackageRecord {
        name: name.to_owned(),
        version: version.to_owned(),
        kind: PackageKind::Npm,
        arch: None,
        source: None,
        licenses: licenses(obj),
        files: 0,
        namespace,
        found_in: None,
    }))
}

/// `"license": "MIT"`, the deprecated `"license": {"type": "MIT"}`, and the older
/// `"licenses": [{"type": "MIT"}, …]`.
fn licenses(obj: &serde_json::Map<String, Value>) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    let mut out: Vec<String> = match obj.get("license") {
        Some(v) => one(v).into_iter().collect(),
        None => match obj.get("licenses") {
            Some(Value::Array(a)) => a.iter().filter_map(one).collect(),
            _ => Vec::new(),
        },
    };
    out.retain(|l| !l.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::FileKind;
    use crate::inventory::purl;

    fn catalog(text: &[u8]) -> Result<Option<PackageRecord>, String> {
        let path = "/app/node_modules/x/package.json";
        let mut out = LayerInventory::default();
        NodeCataloger.catalog(path, text, &mut out)?;
        Ok(out.databases.remove(path).map(|mut v| v.remove(0)))
    }

    #[test]
    fn plain_and_scoped_packages() {
        let r = catalog(include_bytes!(
            "../../testdata/files/npm-express-package.json"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(purl(&r, None), "pkg:npm/express@4.18.2");
        assert_eq!(r.licenses, ["MIT"]);
        let r = catalog(include_bytes!(
            "../../testdata/files/npm-babel-core-package.json"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(purl(&r, None), "pkg:npm/%40babel/core@7.23.2");
        assert_eq!(r.namespace.as_deref(), Some("@babel"));
    }

    #[test]
    fn licence_objects_and_arrays() {
        let r = catalog(br#"{"name":"a","version":"1","license":{"type":"ISC"}}"#)
            .unwrap()
            .unwrap();
        assert_eq!(r.licenses, ["ISC"]);
        let r = catalog(
            br#"{"name":"a","version":"1","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!(r.licenses, ["MIT", "Apache-2.0"]);
    }

    #[test]
    fn private_packages_without_version_are_skipped() {
        assert_eq!(catalog(br#"{"name":"app","private":true}"#), Ok(None));
    }

    #[test]
    fn malformed_json_is_an_error() {
        assert!(catalog(b"{\"name\": ").unwrap_err().contains("JSON"));
        assert!(catalog(b"[1, 2]").is_err());
        assert!(catalog(&[0xff; 1000]).is_err());
    }

    #[test]
    fn wants_installed_manifests_only() {
        let meta = |path: &str| FileMeta {
            path: path.into(),
            kind: FileKind::Regular,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: 1,
            link_target: None,
        };
        let w = |p: &str| NodeCataloger.wants(&meta(p));
        assert!(w("/app/node_modules/express/package.json"));
        assert!(w("/app/node_modules/@babel/core/package.json"));
        assert!(w("/app/node_modules/a/node_modules/b/package.json"));
        assert!(!w("/app/package.json"));
        assert!(!w("/app/node_modules/express/test/fixtures/package.json"));
        assert!(!w("/app/node_modules/@babel/package.json"));
        assert!(!w("/app/node_modules/package.json"));
        assert!(!w("/app/node_modules/express/package.json.bak"));
    }
}
