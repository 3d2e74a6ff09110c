//! rpm package databases in all three formats (issue: "rpm (the sqlite rpmdb.sqlite …, and the
//! older Berkeley DB and ndb formats …)"), made by real tools in testdata/images/rpmdb: packages
//! built by `rpmbuild`, recorded by `rpm -i --justdb`, the Berkeley DB written by `db5.3_load`.
//! The ground truth is what `rpm -qa` said about each database when it was made (stored in the
//! image), and, when rpm is installed here, what it says now about the very bytes in the image.

use crate::support::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

const QF: &str =
    "%{NAME}\\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{LICENSE}\\t%{SOURCERPM}\\n";

/// The files at `wanted` paths (no leading slash) in the `docker save` archive `image`, the
/// topmost layer winning.
fn image_files(image: &Path, wanted: &[&str]) -> BTreeMap<String, Vec<u8>> {
    let mut outer = tar::Archive::new(std::fs::File::open(image).expect("open image"));
    let mut blobs = BTreeMap::new();
    for entry in outer.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).expect("read");
        blobs.insert(path, bytes);
    }
    let manifest: Value = serde_json::from_slice(&blobs["manifest.json"]).expect("manifest");
    let mut found = BTreeMap::new();
    for layer in manifest[0]["Layers"].as_array().expect("layers") {
        let layer = &blobs[layer.as_str().expect("layer path")];
        let mut archive = tar::Archive::new(&layer[..]);
        for entry in archive.entries().expect("layer entries") {
            let mut entry = entry.expect("layer entry");
            let path = entry.path().expect("path").to_string_lossy().into_owned();
            let path = path.trim_start_matches("./").to_owned();
            if wanted.contains(&path.as_str()) {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).expect("read");
                found.insert(path, bytes);
            }
        }
    }
    found
}

/// `rpm -qa` lines as (name, version as layerguard writes it, arch, licence, source rpm):
/// rpm prints epoch 0 for "no epoch", where layerguard leaves the epoch out.
fn parse_qa(text: &str) -> BTreeSet<[String; 5]> {
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "{l:?}");
            let version = f[1].strip_prefix("0:").unwrap_or(f[1]);
            [f[0], version, f[2], f[3], f[4]].map(str::to_owned)
        })
        .collect()
}

/// What layerguard found in the database at `path`.
fn scanned(s: &Scan, path: &str) -> BTreeSet<[String; 5]> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    s.json["inventory"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| {
            p["locations"]
                .as_array()
                .is_some_and(|l| l.iter().any(|l| l["path"] == path))
        })
        .map(|p| {
            let licenses: Vec<String> = p["licenses"]
                .as_array()
                .map(|l| l.iter().map(text).collect())
                .unwrap_or_default();
            [
                text(&p["name"]),
                text(&p["version"]),
                text(&p["arch"]),
                licenses.join(" "),
                text(&p["source"]),
            ]
        })
        .collect()
}

#[test]
fn all_three_rpmdb_formats_match_rpm() {
    let image = fixtures().join("rpmdb.tar");
    let s = scan(&format!("docker-archive:{}", image.display()), &[]);
    assert!(s.json.is_object(), "{}", s.stderr);
    let warnings = s.json["warnings"].to_string();
    assert!(!warnings.contains("rpm"), "{warnings}");
    let files = image_files(
        &image,
        &[
            "usr/share/rpmdb-fixture/sqlite.txt",
            "usr/share/rpmdb-fixture/bdb.txt",
            "usr/share/rpmdb-fixture/ndb.txt",
            "var/lib/rpm/Packages",
        ],
    );
    for (name, db, count) in [
        ("sqlite", "/var/lib/rpm/rpmdb.sqlite", 3),
        ("bdb", "/var/lib/rpm/Packages", 3),
        ("ndb", "/usr/lib/sysimage/rpm/Packages.db", 2),
    ] {
        let expected = files[&format!("usr/share/rpmdb-fixture/{name}.txt")].clone();
        let expected = parse_qa(&String::from_utf8(expected).expect("utf-8"));
        assert_eq!(expected.len(), count, "{name}");
        assert_eq!(scanned(&s, db), expected, "{name}: {db}");
    }

    // The big headers span several Berkeley DB overflow pages and ndb blocks; their file lists
    // survive whole.
    let files_of = |name: &str| {
        s.json["inventory"]["packages"]
            .as_array()
            .expect("packages")
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["files"].clone())
    };
    assert_eq!(files_of("bdb-bravo"), Some(300.into()));
    assert_eq!(files_of("ndb-bravo"), Some(200.into()));

    // Independently: rpm's own Berkeley DB reader on the bytes in the image.
    if std::process::Command::new("rpm")
        .arg("--version")
        .output()
        .is_ok()
    {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("Packages"), &files["var/lib/rpm/Packages"]).expect("write");
        let out = std::process::Command::new("rpm")
            .args([
                "-qa",
                "--define",
                "_db_backend bdb_ro",
                "--qf",
                QF,
                "--dbpath",
            ])
            .arg(dir.path())
            .output()
            .expect("run rpm");
        let listed = parse_qa(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(scanned(&s, "/var/lib/rpm/Packages"), listed);
    }
}

/// sq-busybox's header lists `/usr/bin/busybox`, and the image holds that file; the base
/// image's `/bin/busybox` is the same program, owned by no package. The packaged one is
/// attributed to its package and its classifier match dropped as the package's duplicate; the
/// unowned one is listed as busybox, under a directory the distribution installs into.
#[test]
fn rpm_file_lists_tell_packaged_binaries_from_copied_ones() {
    let image = fixtures().join("rpmdb.tar");
    let s = scan(&format!("docker-archive:{}", image.display()), &[]);
    assert!(s.json.is_object(), "{}", s.stderr);
    assert_eq!(s.owner("/usr/bin/busybox"), "sq-busybox");
    assert_eq!(s.owner("/bin/busybox"), &Value::Null);
    assert_eq!(s.package_paths("binary", "busybox"), ["/bin/busybox"]);
}
