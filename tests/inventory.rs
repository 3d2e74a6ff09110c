//! The inventory built in the same pass as the rules (issue 3, "Inventory"): os-release and
//! package databases, checked against what the real package manager says.

use crate::support::*;
use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn kitchen_sink_names_its_os_and_has_no_packages() {
    let s = scan(&fixture("docker-archive", "kitchen-sink.tar"), &[]);
    let inv = &s.json["inventory"];
    assert_eq!(inv["os"]["id"], "busybox-fixture", "{inv}");
    assert!(inv["packages"].is_array(), "{inv}");
    assert!(inv["binaries"].is_array(), "{inv}");
}

/// This machine's dpkg database, imported as a one-layer image, must list exactly the packages
/// `dpkg-query` says are installed.
#[test]
fn host_dpkg_database_matches_dpkg_query() {
    let query = run(Command::new("dpkg-query").args([
        "-W",
        "-f",
        "${db:Status-Abbrev} ${Package} ${Version}\n",
    ]));
    // The second letter is the state: `ii` and held `hi` both have their files installed.
    let expected: BTreeMap<String, String> = String::from_utf8(query)
        .unwrap()
        .lines()
        .filter(|l| l.as_bytes().get(1) == Some(&b'i'))
        .filter_map(|l| {
            let mut f = l.split_whitespace().skip(1);
            Some((f.next()?.to_owned(), f.next()?.to_owned()))
        })
        .collect();
    assert!(
        !expected.is_empty(),
        "dpkg-query lists no installed package"
    );

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
