//! Node.js: `package.json` of installed packages, that is those directly under a directory node
//! resolves packages from: any `node_modules` (a project's, or npm's global
//! `/usr/lib/node_modules` and `/usr/local/lib/node_modules`), and the global folders Debian's
//! `node-*` packages install into, `/usr/share/nodejs`, `/usr/lib/<multiarch>/nodejs` and
//! `/usr/lib/nodejs`. Scoped packages sit one level deeper (`node_modules/@babel/core`).
//! Other `package.json` files inside a package (`dist/esm/package.json` saying only
//! `"type": "module"`) and packages under a package's test, fixture or example directories
//! describe nothing installed and are not read.

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

/// Directories in a package that hold test inputs or samples, whose `node_modules` are not the
/// package's dependencies.
const NOT_INSTALLED: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "fixtures",
    "__fixtures__",
    "example",
    "examples",
];

/// `<root>/<name>/package.json` or `<root>/@scope/<name>/package.json`, where `<root>` is a
/// `node_modules` directory or a Debian global folder, and the package is not under a test,
/// fixture or example directory of another package.
fn is_installed_manifest(path: &str) -> bool {
    let Some(dir) = path.strip_suffix("/package.json") else {
        return false;
    };
    let Some(mut rest) = strip_first_root(dir) else {
        return false;
    };
    loop {
        let (package, inside) = split_package(rest);
        if !is_package_dir(package) {
            return false;
        }
        let Some(inside) = inside else {
            return true;
        };
        // Only a `node_modules` inside the package holds more packages; any other
        // `package.json` in it is a build detail, not a package root.
        let Some((between, nested)) = split_at_node_modules(inside) else {
            return false;
        };
        if between.split('/').any(|d| NOT_INSTALLED.contains(&d)) {
            return false;
        }
        rest = nested;
    }
}

/// `name` or `@scope/name`, as [`split_package`] cuts it.
fn is_package_dir(package: &str) -> bool {
    let (scope, name) = match package.split_once('/') {
        Some((scope, name)) => (Some(scope), name),
        None => (None, package),
    };
    scope.is_none_or(|s| s.len() > 1)
        && !name.is_empty()
        && name != "node_modules"
        && !name.starts_with('@')
}

/// What follows the first directory packages are resolved from, if `dir` is under one.
fn strip_first_root(dir: &str) -> Option<&str> {
    for global in ["/usr/share/nodejs/", "/usr/lib/nodejs/"] {
        if let Some(rest) = dir.strip_prefix(global) {
            return Some(rest);
        }
    }
    // `/usr/lib/x86_64-linux-gnu/nodejs`: Debian's folder for compiled addons.
    if let Some((multiarch, rest)) = dir
        .strip_prefix("/usr/lib/")
        .and_then(|r| r.split_once('/'))
        && multiarch.contains("-linux-")
        && let Some(rest) = rest.strip_prefix("nodejs/")
    {
        return Some(rest);
    }
    split_at_node_modules(dir).map(|(_, rest)| rest)
}

/// Splits at the first `node_modules` component: what precedes it and what follows it.
fn split_at_node_modules(dir: &str) -> Option<(&str, &str)> {
    if let Some(rest) = dir.strip_prefix("node_modules/") {
        return Some(("", rest));
    }
    let at = dir.find("/node_modules/")?;
    Some((&dir[..at], &dir[at + "/node_modules/".len()..]))
}

/// Splits `name/…` or `@scope/name/…` into the package directory and what is inside it.
fn split_package(rest: &str) -> (&str, Option<&str>) {
    let name_end = if rest.starts_with('@') {
        rest.find('/')
            .and_then(|slash| rest[slash + 1..].find('/').map(|i| slash + 1 + i))
    } else {
        rest.find('/')
    };
    match name_end {
        Some(end) => (&rest[..end], Some(&rest[end + 1..])),
        None => (rest, None),
    }
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
        cpes: Vec::new(),
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
        let meta = FileMeta::test_file;
        let w = |p: &str| NodeCataloger.wants(&meta(p));
        assert!(w("/app/node_modules/express/package.json"));
        assert!(w("/app/node_modules/@babel/core/package.json"));
        assert!(w("/app/node_modules/a/node_modules/b/package.json"));
        assert!(!w("/app/package.json"));
        assert!(!w("/app/node_modules/express/test/fixtures/package.json"));
        assert!(!w("/app/node_modules/@babel/package.json"));
        assert!(!w("/app/node_modules/package.json"));
        assert!(!w("/app/node_modules/express/package.json.bak"));
        assert!(!w("/app/node_modules/@/core/package.json"));
        // A package may be called `test`; a package's own `test` directory is not installed.
        assert!(w("/app/node_modules/test/package.json"));
        assert!(w("/app/node_modules/test/node_modules/a/package.json"));
        assert!(w("/app/test/node_modules/a/package.json"));
        for fixture in [
            "test",
            "tests",
            "__tests__",
            "fixtures",
            "example",
            "examples",
        ] {
            assert!(!w(&format!(
                "/app/node_modules/a/{fixture}/node_modules/b/package.json"
            )));
            assert!(!w(&format!(
                "/usr/share/nodejs/a/lib/{fixture}/node_modules/@s/b/package.json"
            )));
        }
        // A package root's `"type": "module"` markers are not packages.
        assert!(!w("/app/node_modules/glob/dist/esm/package.json"));
        assert!(!w("/usr/share/nodejs/tslib/modules/package.json"));
    }

    #[test]
    fn wants_debian_global_folders_and_npm_global_installs() {
        let meta = FileMeta::test_file;
        let w = |p: &str| NodeCataloger.wants(&meta(p));
        assert!(w("/usr/share/nodejs/semver/package.json"));
        assert!(w("/usr/share/nodejs/@types/semver/package.json"));
        assert!(w("/usr/share/nodejs/cliui/node_modules/gts/package.json"));
        assert!(w("/usr/lib/nodejs/ws/package.json"));
        assert!(w(
            "/usr/lib/x86_64-linux-gnu/nodejs/bufferutil/package.json"
        ));
        assert!(w("/usr/lib/aarch64-linux-gnu/nodejs/@a/b/package.json"));
        assert!(w("/usr/lib/node_modules/npm/package.json"));
        assert!(w(
            "/usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json"
        ));
        assert!(w("/usr/local/lib/node_modules/corepack/package.json"));
        assert!(!w("/usr/share/nodejs/package.json"));
        assert!(!w("/usr/share/nodejs/@types/package.json"));
        assert!(!w("/usr/lib/x86_64-linux-gnu/nodejs/package.json"));
        assert!(!w("/usr/lib/x86_64-linux-gnu/perl/a/package.json"));
        assert!(!w("/usr/share/doc/nodejs/a/package.json"));
    }
}
