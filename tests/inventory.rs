//! The inventory built in the same pass as the rules (issue 3, "Inventory"): os-release and
//! package databases, checked against what the real package manager says.

use crate::support::*;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;

#[test]
fn kitchen_sink_names_its_os_and_has_no_packages() {
    let s = scan(&fixture("docker-archive", "kitchen-sink.tar"), &[]);
    let inv = &s.json["inventory"];
    assert_eq!(inv["os"]["id"], "busybox-fixture", "{inv}");
    assert!(inv["packages"].is_array(), "{inv}");
    assert!(inv["binaries"].is_array(), "{inv}");
}

/// Name and version of each package `dpkg-query` says is installed on this machine.
fn installed_by_dpkg_query() -> BTreeMap<String, String> {
    let query = run(Command::new("dpkg-query").args([
        "-W",
        "-f",
        "${db:Status-Abbrev} ${Package} ${Version}\n",
    ]));
    // The second letter is the state: `ii` and held `hi` both have their files installed.
    let installed: BTreeMap<String, String> = String::from_utf8(query)
        .unwrap()
        .lines()
        .filter(|l| l.as_bytes().get(1) == Some(&b'i'))
        .filter_map(|l| {
            let mut f = l.split_whitespace().skip(1);
            Some((f.next()?.to_owned(), f.next()?.to_owned()))
        })
        .collect();
    assert!(
        !installed.is_empty(),
        "dpkg-query lists no installed package"
    );
    installed
}

/// This machine's dpkg database, imported as a one-layer image, must list exactly the packages
/// `dpkg-query` says are installed.
#[test]
fn host_dpkg_database_matches_dpkg_query() {
    let expected = installed_by_dpkg_query();
    let s = scan(host_dpkg_image(), &[]);
    let inv = &s.json["inventory"];
    let found: BTreeMap<String, String> = inv["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            assert_eq!(p["type"], "deb");
            assert_eq!(p["locations"][0]["path"], "/var/lib/dpkg/status");
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(found.len(), expected.len());
    assert_eq!(found, expected);

    let os = std::fs::read_to_string("/etc/os-release").unwrap();
    let id = os
        .lines()
        .find_map(|l| l.strip_prefix("ID="))
        .unwrap()
        .trim_matches('"');
    assert_eq!(inv["os"]["id"], id);
    let purl = inv["packages"][0]["purl"].as_str().unwrap();
    assert!(purl.starts_with(&format!("pkg:deb/{id}/")), "{purl}");
    assert!(purl.contains("&distro="), "{purl}");
}

/// This machine's dpkg database with the real `libsystemd0` and `libudev1` libraries and their
/// file lists. Both libraries carry a `.note.package` naming `systemd`, the source package.
fn host_systemd_libraries_image() -> &'static str {
    static IMAGE: OnceLock<(tempfile::TempDir, String)> = OnceLock::new();
    &IMAGE
        .get_or_init(|| {
            host_packages_image("systemd-libraries", &["libsystemd0", "libudev1"], |p| {
                !p.starts_with("/usr/share/doc")
            })
        })
        .1
}

/// A library's package note names the package that built it (`systemd`), which need not be the
/// one installed (`libsystemd0`): for a file the dpkg database owns, the database is the truth,
/// so the note adds no package and no location.
#[test]
fn package_notes_of_dpkg_owned_libraries_add_no_packages() {
    let s = scan(host_systemd_libraries_image(), &[]);
    let inv = &s.json["inventory"];
    let binaries = inv["binaries"].as_array().expect("binaries");
    let owners: BTreeMap<&str, &str> = binaries
        .iter()
        .map(|b| {
            (
                b["path"].as_str().unwrap(),
                b["package"].as_str().unwrap_or(""),
            )
        })
        .collect();
    let owner_of = |soname: &str| {
        owners
            .iter()
            .find(|(path, _)| path.contains(&format!("/{soname}")))
            .map(|(_, owner)| *owner)
    };
    assert_eq!(
        owner_of("libsystemd.so.0"),
        Some("libsystemd0"),
        "{owners:?}"
    );
    assert_eq!(owner_of("libudev.so.1"), Some("libudev1"), "{owners:?}");
    for b in binaries {
        assert_eq!(b["package_note"]["name"], "systemd", "{b}");
    }

    let packages = inv["packages"].as_array().expect("packages");
    for p in packages {
        let paths: Vec<&str> = p["locations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["path"].as_str().unwrap())
            .collect();
        assert_eq!(paths, ["/var/lib/dpkg/status"], "{p}");
    }
    let found: BTreeMap<String, String> = packages
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // `systemd` is listed exactly when dpkg says it is installed here.
    assert_eq!(found, installed_by_dpkg_query());
    assert!(found.contains_key("libsystemd0") && found.contains_key("libudev1"));
}
