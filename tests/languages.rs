//! Language packages (issue: "Language packages: Python, Node, Java (jars, including nested
//! ones), Ruby gemspecs, PHP composer/installed.json"), read from an image built by
//! `docker build` with archives made by the JDK's `jar` and Info-ZIP's `zip`
//! (testdata/images/languages).

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn languages() -> Scan {
    scan(&fixture("docker-archive", "languages.tar"), &[])
}

fn packages(s: &Scan) -> BTreeMap<String, &Value> {
    s.json["inventory"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| (p["purl"].as_str().expect("purl").to_owned(), p))
        .collect()
}

/// Every component carries a purl, the path and layer where it was found, and its licence.
#[test]
fn language_packages_have_purls_paths_and_licences() {
    let s = languages();
    let mut pkgs = packages(&s);
    // The base image's /bin/busybox, which no package owns, at whatever version the host's
    // busybox-static is.
    let busybox: Vec<String> = pkgs
        .keys()
        .filter(|p| p.starts_with("pkg:generic/busybox@"))
        .cloned()
        .collect();
    assert_eq!(busybox.len(), 1, "{busybox:?}");
    assert_eq!(pkgs[&busybox[0]]["locations"][0]["path"], "/bin/busybox");
    pkgs.remove(&busybox[0]);
    let purls: Vec<&str> = pkgs.keys().map(String::as_str).collect();
    assert_eq!(
        purls,
        [
            "pkg:composer/monolog/monolog@3.5.0",
            "pkg:composer/psr/log@3.0.0",
            "pkg:deb/busybox-fixture/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=busybox-fixture-1",
            "pkg:gem/rake@13.1.0",
            "pkg:maven/commons-lang3@3.14.0",
            "pkg:maven/org.example/demo-util@0.3.1",
            "pkg:maven/org.example/demo@1.0.0",
            "pkg:maven/org.example/shop@2.0.0",
            "pkg:npm/%40babel/core@7.23.2",
            "pkg:npm/express@4.18.2",
            "pkg:pypi/pyjwt@2.6.0",
            "pkg:pypi/python-apt@2.6.0",
            "pkg:pypi/requests@2.31.0",
            "pkg:rpm/busybox-fixture/zlib@1.2.13-4.fc39?arch=x86_64&distro=busybox-fixture-1",
        ],
        "{}",
        s.stderr
    );
    let at = |purl: &str| {
        let l = &pkgs[purl]["locations"][0];
        (
            l["path"].as_str().unwrap().to_owned(),
            l["layer"].as_u64().unwrap(),
        )
    };
    assert_eq!(
        at("pkg:pypi/requests@2.31.0"),
        (
            "/usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA".into(),
            1
        )
    );
    assert_eq!(
        at("pkg:npm/%40babel/core@7.23.2"),
        ("/app/node_modules/@babel/core/package.json".into(), 1)
    );
    // A nested jar is found in the archive the filesystem holds.
    assert_eq!(
        at("pkg:maven/org.example/demo-util@0.3.1"),
        ("/app/demo.jar".into(), 2)
    );
    assert_eq!(
        at("pkg:maven/commons-lang3@3.14.0"),
        ("/srv/shop.war".into(), 3)
    );
    let licences = |purl: &str| pkgs[purl]["licenses"].clone();
    assert_eq!(
        licences("pkg:pypi/requests@2.31.0"),
        serde_json::json!(["Apache 2.0"])
    );
    assert_eq!(
        licences("pkg:npm/express@4.18.2"),
        serde_json::json!(["MIT"])
    );
    assert_eq!(licences("pkg:gem/rake@13.1.0"), serde_json::json!(["MIT"]));
    assert_eq!(
        licences("pkg:composer/monolog/monolog@3.5.0"),
        serde_json::json!(["MIT"])
    );
    assert_eq!(pkgs["pkg:pypi/requests@2.31.0"]["type"], "pypi");
    assert_eq!(
        pkgs["pkg:maven/org.example/demo@1.0.0"]["namespace"],
        "org.example"
    );
}

/// dpkg's `info/<package>.list` and rpm's header give the files a package owns (directories not
/// counted), and rpm the source package and licence.
#[test]
fn os_packages_count_their_files() {
    let s = languages();
    let pkgs = packages(&s);
    let zlib =
        &pkgs["pkg:rpm/busybox-fixture/zlib@1.2.13-4.fc39?arch=x86_64&distro=busybox-fixture-1"];
    assert_eq!(zlib["files"], 2, "{zlib}");
    assert_eq!(zlib["source"], "zlib-1.2.13-4.fc39.src.rpm");
    assert_eq!(zlib["licenses"], serde_json::json!(["zlib and Boost"]));
    assert_eq!(
        zlib["locations"][0]["path"],
        "/usr/lib/sysimage/rpm/rpmdb.sqlite"
    );
    let tzdata =
        &pkgs["pkg:deb/busybox-fixture/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=busybox-fixture-1"];
    assert_eq!(tzdata["files"], 3, "{tzdata}");
}

/// A malformed metadata file or archive is a warning naming the file, never a failed scan.
#[test]
fn malformed_language_files_are_warnings() {
    let s = languages();
    assert!(s.json.is_object(), "{}", s.stderr);
    let warnings: Vec<&str> = s.json["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["message"].as_str())
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings.iter().any(|w| w.starts_with(
            "/usr/lib/python3.11/site-packages/broken-1.0.dist-info/METADATA: python"
        )),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("/app/broken.jar: java cataloger: not a zip archive")),
        "{warnings:?}"
    );
}

/// Debian's `node-*` packages: the dpkg database with the files of `node-semver` (which also
/// ships `@types/semver`) and `node-tslib` (whose `modules/package.json` only says
/// `"type": "module"`), installed by `.ci/test`.
fn debian_node_image() -> &'static str {
    static IMAGE: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &IMAGE
        .get_or_init(|| host_packages_image("debian-node", &DEBIAN_NODE_PACKAGES, |_| true))
        .1
}

const DEBIAN_NODE_PACKAGES: [&str; 2] = ["node-semver", "node-tslib"];

/// Every module Debian installed under `/usr/share/nodejs` is listed, once, at its own
/// `package.json`; a `package.json` inside a module that names no package is not.
#[test]
fn debian_node_modules_match_their_package_json_files() {
    let mut expected = BTreeMap::new();
    let mut not_packages = Vec::new();
    for package in DEBIAN_NODE_PACKAGES {
        for path in dpkg_package_files(package) {
            if path.file_name().is_none_or(|n| n != "package.json") {
                continue;
            }
            let json: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            let path = path.to_str().unwrap().to_owned();
            match (json["name"].as_str(), json["version"].as_str()) {
                (Some(name), Some(version)) => {
                    expected.insert(path, format!("{name}@{version}"));
                }
                _ => not_packages.push(path),
            }
        }
    }
    assert!(
        expected.keys().any(|p| p.contains("/@types/")),
        "a scoped module: {expected:?}"
    );
    assert!(
        !not_packages.is_empty(),
        "a package.json that is no package"
    );

    let s = scan(debian_node_image(), &[]);
    let mut found = BTreeMap::new();
    for p in s.json["inventory"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["type"] == "npm")
    {
        let name = match p["namespace"].as_str() {
            Some(scope) => format!("{scope}/{}", p["name"].as_str().unwrap()),
            None => p["name"].as_str().unwrap().to_owned(),
        };
        for l in p["locations"].as_array().unwrap() {
            let previous = found.insert(
                l["path"].as_str().unwrap().to_owned(),
                format!("{name}@{}", p["version"].as_str().unwrap()),
            );
            assert_eq!(previous, None, "{l}");
        }
    }
    assert_eq!(found, expected, "{}", s.stderr);
    assert_eq!(s.json["warnings"], serde_json::json!([]), "{}", s.stderr);
}
