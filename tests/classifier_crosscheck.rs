//! The binary classifiers against syft's classifier test snippets (issue 11): real byte
//! excerpts of real builds, each with the version syft's tests expect. How many we identify is
//! printed; that none gets a wrong version is asserted.
//!
//! The snippets are not vendored. Point `LAYERGUARD_SYFT_CLASSIFIERS` at syft's
//! `syft/pkg/cataloger/binary` directory (which holds `classifier_cataloger_test.go` and
//! `testdata/classifiers/snippets/`) to run it:
//!
//! ```text
//! git clone --depth 1 https://github.com/anchore/syft /tmp/syft
//! LAYERGUARD_SYFT_CLASSIFIERS=/tmp/syft/syft/pkg/cataloger/binary \
//!     cargo test --test integration classifier_crosscheck -- --nocapture
//! ```

use layerguard::inventory::classifier::VersionScan;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What the snippet manager writes before the excerpt.
const SNIPPET_MARK: &[u8] = b"### byte snippet to follow ###\n";

/// Each fixture of syft's positive test table and the packages (name, version) it expects.
fn expected(test_go: &str) -> Vec<(String, BTreeSet<(String, String)>)> {
    // Only the first table: later ones build images or use custom classifiers.
    let table = test_go
        .split("func Test_Cataloger_DefaultClassifiers_PositiveCases_Image")
        .next()
        .unwrap_or_default();
    let fixture = regex::Regex::new(r#"logicalFixture:\s*"([^"]+)""#).unwrap();
    let package = regex::Regex::new(r#"Name:\s*"([^"]+)",\s*Version:\s*"([^"]+)""#).unwrap();
    let starts: Vec<_> = fixture.captures_iter(table).collect();
    starts
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let from = c.get(0).unwrap().end();
            let to = starts
                .get(i + 1)
                .map_or(table.len(), |n| n.get(0).unwrap().start());
            let packages = package
                .captures_iter(&table[from..to])
                .map(|p| (p[1].to_owned(), p[2].to_owned()))
                .collect();
            (c[1].to_owned(), packages)
        })
        .collect()
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// What the classifiers say about each file of a fixture directory, presented under `/opt`
/// the way a tarball install would put it.
fn classify(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    let mut found = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(&file).unwrap();
        let body = memchr::memmem::find(&bytes, SNIPPET_MARK)
            .map_or(&bytes[..], |at| &bytes[at + SNIPPET_MARK.len()..]);
        let Some(mut scan) = VersionScan::for_path(&format!("/opt/app/{rel}")) else {
            continue;
        };
        for chunk in body.chunks(64 << 10) {
            scan.feed(chunk);
        }
        found.extend(scan.finish().into_iter().map(|r| {
            let name = match r.namespace {
                Some(ns) if ns == "haskell" => format!("{ns}/{}", r.name),
                _ => r.name,
            };
            (name, r.version)
        }));
    }
    found
}

/// Packages syft names otherwise.
const SYFT_NAMES: &[(&str, &str)] = &[
    ("mysql", "mysql-server"),
    ("heimdal", "heimdal-krb5"),
    ("qt", "qtbase"),
    ("istio", "pilot-agent"),
    ("istio", "pilot-discovery"),
    ("ingress-nginx", "nginx-ingress-controller"),
];

fn same_package(ours: &str, theirs: &str) -> bool {
    ours == theirs || SYFT_NAMES.contains(&(ours, theirs))
}

/// Ours agrees with syft's when equal, or when syft's only adds a vendor's suffix
/// (`11.0.17+8` for `11.0.17+8-LTS`).
fn agrees(ours: &str, theirs: &str) -> bool {
    ours == theirs
        || theirs
            .strip_prefix(ours)
            .is_some_and(|rest| rest.starts_with('-'))
}

#[test]
#[allow(clippy::disallowed_macros)] // The figures it measures are what it is for.
fn syft_snippets_are_identified_without_a_wrong_version() {
    let Some(root) = std::env::var_os("LAYERGUARD_SYFT_CLASSIFIERS") else {
        eprintln!("LAYERGUARD_SYFT_CLASSIFIERS is not set: the cross-check is skipped");
        return;
    };
    let root = PathBuf::from(root);
    let test_go = std::fs::read_to_string(root.join("classifier_cataloger_test.go")).unwrap();
    let snippets = root.join("testdata/classifiers/snippets");
    let (mut total, mut exact, mut close, mut missing) = (0, 0, 0, Vec::new());
    let (mut wrong, mut others) = (Vec::new(), Vec::new());
    let mut classes: BTreeMap<String, bool> = BTreeMap::new();
    for (fixture, packages) in expected(&test_go) {
        let dir = snippets.join(&fixture);
        if !dir.is_dir() || packages.is_empty() {
            continue;
        }
        total += 1;
        let class = fixture.split('/').next().unwrap_or_default().to_owned();
        let found = classify(&dir);
        // A package syft names too must have its version; one syft does not name (the
        // OpenResty a build of nginx is) is listed for a reader to judge.
        for (name, v) in &found {
            let same_name: Vec<_> = packages
                .iter()
                .filter(|(n, _)| same_package(name, n))
                .collect();
            if same_name.is_empty() {
                others.push(format!("{fixture}: {name} {v}"));
            } else if !same_name.iter().any(|(_, e)| agrees(v, e)) {
                wrong.push(format!("{fixture}: {name} {v}, expected {packages:?}"));
            }
        }
        let versions: BTreeSet<&str> = packages.iter().map(|(_, v)| v.as_str()).collect();
        let hit = if found.iter().any(|(_, v)| versions.contains(v.as_str())) {
            exact += 1;
            true
        } else if found
            .iter()
            .any(|(_, v)| versions.iter().any(|e| agrees(v, e)))
        {
            close += 1;
            true
        } else {
            missing.push(fixture.clone());
            false
        };
        *classes.entry(class).or_default() |= hit;
    }
    let classes_hit = classes.values().filter(|h| **h).count();
    eprintln!(
        "syft snippets: {} of {total} fixtures identified ({exact} exact, {close} without the \
         vendor suffix), {classes_hit} of {} classes; {} wrong",
        exact + close,
        classes.len(),
        wrong.len()
    );
    eprintln!("not identified: {}", missing.join(" "));
    eprintln!("named otherwise than syft:\n  {}", others.join("\n  "));
    assert!(total > 0, "no fixtures under {}", snippets.display());
    assert!(wrong.is_empty(), "wrong versions:\n{}", wrong.join("\n"));
}

/// What this machine's own programs say their version is, against what the classifiers read
/// from their bytes: each program found must agree. Programs the machine lacks are skipped.
#[test]
#[allow(clippy::disallowed_macros)] // The figures it measures are what it is for.
fn host_programs_agree_with_their_own_version_output() {
    // (program to run, arguments, what its output calls the version, files it vouches for)
    let cases: &[(&str, &[&str], &str, &[&str])] = &[
        ("node", &["--version"], r"^v(\S+)", &[]),
        ("perl", &["-e", "print $^V"], r"^v(\S+)", &[]),
        (
            "java",
            &["-version"],
            r"\(build ([^)]+)\)",
            &["../lib/server/libjvm.so"],
        ),
        ("go", &["version"], r"go version go(\S+)", &["../VERSION"]),
        ("openssl", &["version"], r"^OpenSSL (\S+)", &[]),
        ("curl", &["--version"], r"^curl (\S+)", &[]),
        ("bash", &["--version"], r"version (\d+\.\d+\.\d+)", &[]),
        ("gzip", &["--version"], r"^gzip (\S+)", &[]),
        ("xz", &["--version"], r"^xz \(XZ Utils\) (\S+)", &[]),
        ("zstd", &["--version"], r" v(\d+\.\d+\.\d+),", &[]),
        ("jq", &["--version"], r"^jq-(\S+)", &[]),
        ("busybox", &[], r"BusyBox v(\S+)", &[]),
        ("getopt", &["--version"], r"util-linux (\S+)", &[]),
        ("postgres", &["--version"], r"\(PostgreSQL\) (\S+)", &[]),
        ("gcc", &["--version"], r"\) (\d+\.\d+\.\d+)", &[]),
    ];
    let path_dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let extra = [PathBuf::from("/usr/lib/postgresql/15/bin")];
    let (mut checked, mut identified, mut disagree, mut unnamed) = (0, 0, Vec::new(), Vec::new());
    for (program, args, said, companions) in cases {
        let Some(file) = path_dirs
            .iter()
            .chain(&extra)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
            .and_then(|p| std::fs::canonicalize(p).ok())
        else {
            continue;
        };
        let Ok(out) = std::process::Command::new(&file).args(*args).output() else {
            continue;
        };
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let Some(truth) = regex::Regex::new(&format!("(?m){said}"))
            .unwrap()
            .captures(&text)
            .map(|c| c[1].to_owned())
        else {
            continue;
        };
        let dir = file.parent().unwrap().to_owned();
        let files = std::iter::once(file).chain(
            companions
                .iter()
                .filter_map(|c| std::fs::canonicalize(dir.join(c)).ok()),
        );
        for file in files {
            checked += 1;
            let path = file.to_string_lossy().into_owned();
            let Some(mut scan) = VersionScan::for_path(&path) else {
                unnamed.push(path);
                continue;
            };
            let mut reader = std::fs::File::open(&file).unwrap();
            let mut buf = vec![0; 64 << 10];
            loop {
                let n = std::io::Read::read(&mut reader, &mut buf).unwrap();
                if n == 0 || scan.done() {
                    break;
                }
                scan.feed(&buf[..n]);
            }
            let records = scan.finish();
            if records.is_empty() {
                unnamed.push(path.clone());
            }
            for record in records {
                identified += 1;
                if !agrees(&record.version, &truth) {
                    disagree.push(format!(
                        "{path}: {} {} but it says {truth}",
                        record.name, record.version
                    ));
                }
            }
        }
    }
    eprintln!(
        "host programs: {identified} versions read from {checked} files, {} disagree",
        disagree.len()
    );
    eprintln!("not identified: {}", unnamed.join(" "));
    assert!(disagree.is_empty(), "{}", disagree.join("\n"));
}
