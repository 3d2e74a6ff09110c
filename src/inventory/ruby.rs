//! Ruby: installed gems' specifications, `…/specifications/<name>-<version>.gemspec`. RubyGems
//! writes them as Ruby code (`s.name = "rake".freeze`); the few assignments we need are read
//! with regexes, never evaluated.

use super::{Cataloger, LayerInventory, PackageKind, PackageRecord, is_file};
use crate::event::FileMeta;
use regex::Regex;
use std::sync::LazyLock;

/// `  s.name = "rake".freeze`, `  s.licenses = ["MIT".freeze]`, `  s.version = %q{1.0}`.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*\w+\.(name|version|licenses?)\s*=\s*(.+)$").expect("valid regex")
});
/// The string literals on the right-hand side of an assignment.
static STRING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""([^"]*)"|'([^']*)'|%q\{([^}]*)\}"#).expect("valid regex"));

/// Reads installed gem specifications.
pub struct GemCataloger;

impl Cataloger for GemCataloger {
    fn name(&self) -> &'static str {
        "gem"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file)
            && file.path.ends_with(".gemspec")
            && file
                .path
                .rsplit('/')
                .nth(1)
                .is_some_and(|dir| dir == "specifications")
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let record = parse(&String::from_utf8_lossy(content))?;
        out.databases.insert(path.to_owned(), vec![record]);
        Ok(())
    }
}

fn parse(text: &str) -> Result<PackageRecord, String> {
    let (mut name, mut version, mut licenses) = (None, None, Vec::new());
    for line in text.lines() {
        let Some(c) = ASSIGNMENT.captures(line) else {
            continue;
        };
        let strings = STRING.captures_iter(&c[2]).filter_map(|s| {
            s.iter()
                .skip(1)
                .flatten()
                .next()
                .map(|m| m.as_str().to_owned())
        });
        match &c[1] {
            "name" if name.is_none() => name = strings.take(1).next(),
            "version" if version.is_none() => version = strings.take(1).next(),
            "license" | "licenses" if licenses.is_empty() => {
                licenses = strings.filter(|l| !l.is_empty()).collect()
            }
            _ => {}
        }
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or("no `s.name = \"…\"` assignment")?;
    let version = version
        .filter(|v| !v.is_empty())
        .ok_or("no `s.version = \"…\"` assignment")?;
    Ok(PackageRecord {
        name,
        version,
        kind: PackageKind::Gem,
        arch: None,
        source: None,
        licenses,
        files: 0,
        namespace: None,
        found_in: None,
        cpes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::purl;

    fn catalog(text: &[u8]) -> Result<PackageRecord, String> {
        let path = "/usr/local/bundle/specifications/x.gemspec";
        let mut out = LayerInventory::default();
        GemCataloger.catalog(path, text, &mut out)?;
        Ok(out.databases.remove(path).unwrap().remove(0))
    }

    #[test]
    fn installed_gemspec() {
        let r = catalog(include_bytes!("../../testdata/files/gem-rake.gemspec")).unwrap();
        assert_eq!(purl(&r, None), "pkg:gem/rake@13.1.0");
        assert_eq!(r.licenses, ["MIT"]);
    }

    #[test]
    fn old_style_percent_q_literals() {
        let r = catalog(b"  s.name = %q{json}\n  s.version = \"2.6.3\"\n  s.license = 'Ruby'\n")
            .unwrap();
        assert_eq!((r.name.as_str(), r.version.as_str()), ("json", "2.6.3"));
        assert_eq!(r.licenses, ["Ruby"]);
    }

    #[test]
    fn malformed_gemspec_is_an_error() {
        assert!(
            catalog(b"s.version = \"1\"\n")
                .unwrap_err()
                .contains("name")
        );
        assert!(
            catalog(b"s.name = \"x\"\n")
                .unwrap_err()
                .contains("version")
        );
        assert!(catalog(&[0xff; 10_000]).is_err());
    }

    #[test]
    fn wants_specifications_only() {
        let meta = FileMeta::test_file;
        let w = |p: &str| GemCataloger.wants(&meta(p));
        assert!(w(
            "/usr/local/lib/ruby/gems/3.2.0/specifications/rake-13.1.0.gemspec"
        ));
        assert!(!w("/src/app/rake.gemspec"));
        assert!(!w(
            "/usr/local/lib/ruby/gems/3.2.0/gems/rake-13.1.0/rake.gemspec"
        ));
    }
}
