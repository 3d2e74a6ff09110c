//! The version classifiers (issue 11) on Debian's own builds. testdata/images/debian-binaries
//! unpacks real `.deb` packages without their package database, as a `COPY --from` of a
//! runtime leaves them, and the fixture build writes what `dpkg-deb -f` says of each package
//! next to the image (`debian-binaries-expected.tsv`). The packages' versions come from this
//! machine's Debian sources, so they are whatever the mirror holds today: nothing here pins one.

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// Each Debian package, the name its program is reported under, and, where the build names
/// itself otherwise than the package's upstream version, the version it must report.
const EXPECTED: &[(&str, &str, Option<&str>)] = &[
    ("apache2-bin", "httpd", None),
    ("bash", "bash", None),
    ("busybox", "busybox", None),
    ("cabal-install", "cabal", None),
    ("curl", "curl", None),
    ("erlang-base", "erlang", None),
    ("elixir", "elixir", None),
    ("gzip", "gzip", None),
    ("haproxy", "haproxy", None),
    ("jq", "jq", None),
    ("ldap-utils", "openldap", None),
    ("libavcodec59", "ffmpeg", None),
    ("libkrb5-3", "krb5", None),
    // A snapshot of Heimdal's tree after 7.8.0, which still calls itself 7.8.0.
    ("libkrb5-26-heimdal", "heimdal", Some("7.8.0")),
    ("libnode108", "node", None),
    ("libpython3.11", "python", None),
    ("libqt5core5a", "qt", None),
    ("libruby3.1", "ruby", None),
    ("libsqlcipher0", "sqlcipher", None),
    ("libssl3", "openssl", None),
    ("lighttpd", "lighttpd", None),
    ("mariadb-server-core", "mariadb", None),
    ("memcached", "memcached", None),
    ("nginx", "nginx", None),
    ("perl-base", "perl", None),
    ("php8.2-cli", "php", None),
    ("postgresql-15", "postgresql", None),
    ("proftpd-core", "proftpd", None),
    ("pypy3", "pypy", None),
    ("redis-tools", "redis", None),
    ("swi-prolog-core", "swipl", None),
    ("util-linux", "util-linux", None),
    ("xz-utils", "xz", None),
    ("zstd", "zstd", None),
];

/// The upstream part of a Debian version: no epoch, no Debian revision, no repack suffix
/// (`+dfsg`, `.dfsg`, `~deb12u1`), and the real version of a `+really` rollback.
fn upstream(debian: &str) -> &str {
    let v = debian.split_once(':').map_or(debian, |(_, v)| v);
    let v = v.rsplit_once('-').map_or(v, |(v, _)| v);
    let v = v.split_once("+really").map_or(v, |(_, v)| v);
    let v = v.split(['+', '~']).next().unwrap_or(v);
    v.split_once(".dfsg").map_or(v, |(v, _)| v)
}

/// True when a reported version is the expected one, or it with a release suffix of the
/// software's own (`3.1.2p20` for Ruby 3.1.2): never another number.
fn agrees(found: &str, expected: &str) -> bool {
    found == expected
        || found
            .strip_prefix(expected)
            .and_then(|rest| rest.chars().next())
            .is_some_and(|c| c.is_ascii_alphabetic())
}

fn debian_versions() -> BTreeMap<String, String> {
    let path = fixtures().join("debian-binaries-expected.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (testdata/fixtures/build.sh downloads the packages)",
            path.display()
        )
    });
    text.lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(p, v)| (p.to_owned(), v.to_owned()))
        .collect()
}

/// Every classified package of the scan: name, version and the paths it was found at.
fn classified() -> Vec<(String, String, Vec<String>)> {
    let s = scan(&fixture("docker-archive", "debian-binaries.tar"), &[]);
    assert!(s.json.is_object(), "{}", s.stderr);
    s.json["inventory"]["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| p["type"] == "binary")
        .map(|p| {
            let paths = p["locations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["path"].as_str().map(str::to_owned))
                .collect();
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (text(&p["name"]), text(&p["version"]), paths)
        })
        .collect()
}

/// Each program is named, at its Debian version, and nothing is named that the packages do
/// not hold: no second package, no other version.
#[test]
fn debian_builds_are_named_at_their_debian_versions() {
    let debian = debian_versions();
    let found = classified();
    let mut wrong = Vec::new();
    for (package, name, own) in EXPECTED {
        let Some(version) = debian.get(*package) else {
            wrong.push(format!("{package}: not downloaded by the fixture build"));
            continue;
        };
        let want = own.unwrap_or_else(|| upstream(version));
        let hits: Vec<_> = found.iter().filter(|(n, ..)| n == name).collect();
        if !hits.iter().any(|(_, v, _)| agrees(v, want)) {
            wrong.push(format!("{package} {version}: no {name} {want} in {hits:?}"));
        }
    }
    for (name, version, paths) in &found {
        let expected = EXPECTED
            .iter()
            .filter(|(_, n, _)| n == name)
            .filter_map(|(p, _, own)| own.or_else(|| debian.get(*p).map(|v| upstream(v))))
            .collect::<Vec<_>>();
        if !expected.iter().any(|want| agrees(version, want)) {
            wrong.push(format!(
                "{name} {version} at {paths:?}: the packages hold {expected:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn upstream_versions_drop_what_debian_adds() {
    for (debian, want) in [
        ("5:7.0.15-1~deb12u10", "7.0.15"),
        ("1:10.11.19-0+deb12u1", "10.11.19"),
        ("18.20.4+dfsg-1~deb12u3", "18.20.4"),
        ("3.1.7+really3.1.2-0+deb12u1", "3.1.2"),
        ("1.12-1", "1.12"),
        ("1.14.0.dfsg-2", "1.14.0"),
        ("2.5.13+dfsg-5", "2.5.13"),
    ] {
        assert_eq!(upstream(debian), want, "{debian}");
    }
    assert!(agrees("3.1.2p20", "3.1.2"));
    assert!(!agrees("3.1.20", "3.1.2"));
    assert!(!agrees("3.1.2.1", "3.1.2"));
}
