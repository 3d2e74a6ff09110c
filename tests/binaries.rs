//! ELF binaries (issue 3, "Binaries"): the scan of `testdata/images/binaries` against what
//! `readelf`, `objcopy` and `go version -m` say about the very same files, which build.sh keeps
//! in `binaries-files/` next to the image. `/usr/bin/skopeo` (16 MiB) is read by the streaming
//! region path, the others whole. Large toolchain binaries of this machine whose `.dynstr` the
//! stream passes before their dynamic table (issue 7) are checked the same way.

use crate::support::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn binaries() -> &'static Scan {
    static S: OnceLock<Scan> = OnceLock::new();
    S.get_or_init(|| {
        let s = scan(&fixture("docker-archive", "binaries.tar"), &[]);
        assert!(s.json.is_object(), "{}", s.stderr);
        s
    })
}

/// The host copy of a file in the image, when the fixture build could make it (the Go and Rust
/// programs need go and cargo-auditable, which .ci/test installs; a skip is said out loud).
#[allow(clippy::disallowed_macros)]
fn host_copy(name: &str) -> Option<PathBuf> {
    let p = fixtures().join("binaries-files").join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipped: {} was not built (missing tool?)", p.display());
        None
    }
}

fn image_path(name: &str) -> String {
    if name == "skopeo" {
        "/usr/bin/skopeo".into()
    } else {
        format!("/opt/bin/{name}")
    }
}

fn binary(path: &str) -> &'static Value {
    binaries().json["inventory"]["binaries"]
        .as_array()
        .expect("binaries")
        .iter()
        .find(|b| b["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in the inventory"))
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn readelf(args: &[&str], file: &PathBuf) -> String {
    output(Command::new("readelf").args(args).arg(file))
}

/// `[value]` from readelf lines like `0x01 (NEEDED)  Shared library: [libc.so.6]`.
fn bracketed(dynamic: &str, tag: &str) -> Vec<String> {
    dynamic
        .lines()
        .filter(|l| l.contains(&format!("({tag})")))
        .filter_map(|l| Some(l[l.find('[')? + 1..l.rfind(']')?].to_owned()))
        .collect()
}

/// Search path lists split into their entries, as the report lists them.
fn path_entries(lists: Vec<String>) -> Vec<String> {
    lists
        .iter()
        .flat_map(|p| p.split(':').map(str::to_owned))
        .collect()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// Every ELF field the issue lists, for every binary, against readelf.
#[test]
fn elf_facts_match_readelf() {
    let names = [
        "hardened",
        "weak",
        "libgreet.so",
        "gohello",
        "rust-audited",
        "rust-plain",
        "skopeo",
    ];
    for name in names {
        let Some(file) = host_copy(name) else {
            continue;
        };
        let b = binary(&image_path(name));
        let dynamic = readelf(&["-dW"], &file);
        let segments = readelf(&["-lhW"], &file);
        let sections = readelf(&["-SW"], &file);
        let dynsyms = readelf(&["--dyn-syms", "-W"], &file);

        assert_eq!(
            strings(&b["needed"]),
            bracketed(&dynamic, "NEEDED"),
            "{name}"
        );
        assert_eq!(
            strings(&b["runpath"]),
            path_entries(bracketed(&dynamic, "RUNPATH")),
            "{name}"
        );
        assert_eq!(
            strings(&b["rpath"]),
            path_entries(bracketed(&dynamic, "RPATH")),
            "{name}"
        );
        assert_eq!(
            b["soname"].as_str().map(str::to_owned),
            bracketed(&dynamic, "SONAME").into_iter().next(),
            "{name}"
        );
        let interp = segments
            .lines()
            .find_map(|l| l.split("program interpreter: ").nth(1))
            .map(|s| s.trim_end_matches(']').to_owned());
        assert_eq!(
            b["interpreter"].as_str().map(str::to_owned),
            interp,
            "{name}"
        );

        let is_dyn = segments.contains("DYN (");
        let elf_type = if is_dyn { "dyn" } else { "exec" };
        assert_eq!(b["elf_type"], elf_type, "{name}");
        assert_eq!(b["machine"], "x86_64", "{name}");
        assert_eq!(b["static"], !segments.contains("  DYNAMIC"), "{name}");
        assert_eq!(b["stripped"], !sections.contains(".symtab"), "{name}");

        let h = &b["hardening"];
        let flags_1_pie = dynamic
            .lines()
            .any(|l| l.contains("(FLAGS_1)") && l.contains(" PIE"));
        assert_eq!(
            h["pie"],
            is_dyn && (interp.is_some() || flags_1_pie),
            "{name}"
        );
        let relro = segments.contains("GNU_RELRO");
        let now = dynamic.contains("(BIND_NOW)")
            || dynamic.lines().any(|l| {
                (l.contains("(FLAGS)") && l.contains("BIND_NOW"))
                    || (l.contains("(FLAGS_1)") && l.contains(" NOW"))
            });
        let want_relro = match (relro, now) {
            (false, _) => "none",
            (true, false) => "partial",
            (true, true) => "full",
        };
        assert_eq!(h["relro"], want_relro, "{name}");
        let stack = segments
            .lines()
            .find(|l| l.trim_start().starts_with("GNU_STACK"))
            .expect("GNU_STACK");
        assert_eq!(h["nx"], !stack.contains("RWE"), "{name}");
        assert_eq!(h["canary"], dynsyms.contains("__stack_chk_fail"), "{name}");
    }
}

#[test]
fn hardened_and_weak_c_programs_differ_as_built() {
    if host_copy("weak").is_none() {
        return;
    }
    let hardened = &binary("/opt/bin/hardened")["hardening"];
    assert_eq!(
        hardened,
        &serde_json::json!({"pie": true, "relro": "full", "nx": true, "canary": true, "fortify": true})
    );
    let weak = binary("/opt/bin/weak");
    assert_eq!(
        weak["hardening"],
        serde_json::json!({"pie": false, "relro": "none", "nx": false, "canary": false, "fortify": false})
    );
    assert_eq!(strings(&weak["insecure_runpath"]), ["lib", "/tmp/plugins"]);
    assert!(
        binary("/opt/bin/hardened")
            .get("insecure_runpath")
            .is_none()
    );
}

/// `dep`/`=>` lines of `go version -m`, as (path, version, sum) rows.
fn go_rows(text: &str) -> Vec<(String, String, String, String)> {
    text.lines()
        .map(|l| l.trim_start().split('\t').collect::<Vec<_>>())
        .filter(|f| matches!(f[0], "dep" | "=>" | "mod"))
        .map(|f| {
            let get = |i: usize| f.get(i).copied().unwrap_or_default().to_owned();
            (get(0), get(1), get(2), get(3))
        })
        .collect()
}

fn scanned_go_rows(go: &Value) -> Vec<(String, String, String, String)> {
    let row = |kind: &str, m: &Value| {
        (
            kind.to_owned(),
            m["path"].as_str().unwrap().to_owned(),
            m["version"].as_str().unwrap().to_owned(),
            m["sum"].as_str().unwrap_or_default().to_owned(),
        )
    };
    let mut rows = Vec::new();
    if go["main"].is_object() {
        rows.push(row("mod", &go["main"]));
    }
    for dep in go["deps"].as_array().unwrap() {
        rows.push(row("dep", dep));
        if dep["replace"].is_object() {
            rows.push(row("=>", &dep["replace"]));
        }
    }
    rows
}

/// Go modules with versions, sums and a replacement, exactly as `go version -m` lists them.
#[test]
fn go_buildinfo_matches_go_version_m() {
    for name in ["gohello", "skopeo"] {
        let Some(file) = host_copy(name) else {
            continue;
        };
        let go = &binary(&image_path(name))["go"];
        let truth = match Command::new("go")
            .arg("version")
            .arg("-m")
            .arg(&file)
            .output()
        {
            Ok(out) if out.status.success() => String::from_utf8(out.stdout).unwrap(),
            _ if name == "gohello" => {
                // Without go, the rows prepare.sh's local proxy produces (sums are content hashes).
                "\tmod\texample.com/gohello\t(devel)\t\n\
                 \tdep\texample.com/greet\tv1.2.3\th1:zZm8TDyRD0sjpN0wPN3EYz76SkMYT3jaLaHw6aZgtxY=\n\
                 \tdep\texample.com/shout\tv0.1.0\n\
                 \t=>\texample.com/loud\tv0.2.0\th1:qh9rUHaJJvo3xbL7HIrBSbXi4jvKoGzyQ9XD512/opY=\n"
                    .to_owned()
            }
            _ => continue,
        };
        assert_eq!(scanned_go_rows(go), go_rows(&truth), "{name}");
        let version = truth.lines().next().unwrap().rsplit(' ').next().unwrap();
        if truth.starts_with('/') {
            assert_eq!(go["go_version"], version, "{name}");
        }
    }
    if host_copy("gohello").is_some() {
        let purls = package_purls("/opt/bin/gohello");
        // The main module, built outside version control, is named without a version; the
        // standard library is the toolchain's release.
        let toolchain = binary(&image_path("gohello"))["go"]["go_version"]
            .as_str()
            .unwrap()
            .trim_start_matches("go")
            .to_owned();
        assert_eq!(
            purls,
            [
                "pkg:golang/example.com/gohello".to_owned(),
                "pkg:golang/example.com/greet@v1.2.3".to_owned(),
                "pkg:golang/example.com/loud@v0.2.0".to_owned(),
                format!("pkg:golang/stdlib@{toolchain}"),
            ]
        );
        let stdlib = binaries().json["inventory"]["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "stdlib")
            .unwrap();
        assert_eq!(
            stdlib["cpes"][0],
            format!("cpe:2.3:a:golang:go:{toolchain}:*:*:*:*:*:*:*")
        );
    }
    // Debian builds skopeo without module mode: a path and settings, no modules.
    let skopeo = &binary("/usr/bin/skopeo")["go"];
    assert_eq!(skopeo["path"], "github.com/containers/skopeo/cmd/skopeo");
}

/// A program whose main module is a known product carries its CPE, at the release its ldflags
/// stamp names (prepare.sh builds it outside version control, as release pipelines do).
#[test]
fn go_programs_are_named_by_their_main_module() {
    if host_copy("traefik").is_none() {
        return;
    }
    let traefik = package_at(
        "/opt/bin/traefik",
        "pkg:golang/github.com/traefik/traefik/v3@v3.6.5",
    );
    assert_eq!(
        traefik["cpes"],
        serde_json::json!(["cpe:2.3:a:traefik:traefik:3.6.5:*:*:*:*:*:*:*"])
    );
    // A main module the table does not know, or without a version, gets none.
    let gohello = package_at("/opt/bin/gohello", "pkg:golang/example.com/gohello");
    assert!(gohello["cpes"].is_null(), "{gohello}");
}

/// What ECS task images carry: the ECS agent names its release in a literal its version package
/// folds, the CloudWatch agent in a file of its own.
#[test]
fn aws_agents_are_classified() {
    if host_copy("traefik").is_some() {
        // Built by the same go as traefik.
        package_at("/agent", "pkg:generic/amazon-ecs-agent@1.61.0");
    }
    package_at(
        "/opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION",
        "pkg:generic/amazon-cloudwatch-agent@1.300073.2b1889",
    );
}

/// The package `purl` found at `location`.
fn package_at(location: &str, purl: &str) -> &'static Value {
    binaries().json["inventory"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["purl"] == purl
                && p["locations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|l| l["path"] == location)
        })
        .unwrap_or_else(|| panic!("{purl} not at {location}: {:?}", package_purls(location)))
}

fn package_purls(location: &str) -> Vec<String> {
    let mut purls: Vec<String> = binaries().json["inventory"]["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["locations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l["path"] == location)
        })
        .map(|p| p["purl"].as_str().unwrap().to_owned())
        .collect();
    purls.sort();
    purls
}

fn crates(b: &Value) -> BTreeSet<(String, String)> {
    b["rust"]["crates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["version"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `.dep-v0` decoded independently (objcopy + python zlib/json) gives the same crates; the
/// binary without it yields the registry crates from its panic paths, marked as inferred.
#[test]
fn rust_crates_match_dep_v0_and_panic_paths() {
    let Some(audited) = host_copy("rust-audited") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let section = dir.path().join("dep-v0");
    output(
        Command::new("objcopy")
            .arg(format!("--dump-section=.dep-v0={}", section.display()))
            .arg(&audited)
            .arg(dir.path().join("copy")),
    );
    let json = output(Command::new("python3").arg("-c").arg(
        "import json,sys,zlib\n\
         d=json.loads(zlib.decompress(open(sys.argv[1],'rb').read()))\n\
         print(json.dumps(sorted([p['name'],p['version'],p.get('source',''),p.get('root',False)] for p in d['packages'])))",
    ).arg(&section));
    let truth: Vec<(String, String, String, bool)> = serde_json::from_str(&json).unwrap();
    let b = binary("/opt/bin/rust-audited");
    assert_eq!(b["rust"]["source"], "cargo-auditable");
    let want: BTreeSet<_> = truth
        .iter()
        .map(|(n, v, _, _)| (n.clone(), v.clone()))
        .collect();
    assert_eq!(crates(b), want);
    // The crates.io dependencies and the root crate, the program itself.
    let mut packages: Vec<String> = truth
        .iter()
        .filter(|(_, _, s, root)| s == "crates.io" || *root)
        .map(|(n, v, _, _)| format!("pkg:cargo/{n}@{v}"))
        .collect();
    packages.sort();
    assert!(truth.iter().any(|(_, _, _, root)| *root), "{truth:?}");
    assert_eq!(package_purls("/opt/bin/rust-audited"), packages);

    if host_copy("rust-plain").is_some() {
        let plain = binary("/opt/bin/rust-plain");
        assert_eq!(plain["rust"]["source"], "panic-paths");
        let registry_crates: BTreeSet<_> = truth
            .iter()
            .filter(|(_, _, s, _)| s == "crates.io")
            .map(|(n, v, _, _)| (n.clone(), v.clone()))
            .collect();
        assert_eq!(crates(plain), registry_crates);
    }
}

/// `--no-inventory` drops the inventory from the report, not the rule that reads the binaries.
#[test]
fn binary_hardening_runs_without_the_inventory() {
    let s = scan(
        &fixture("docker-archive", "binaries.tar"),
        &["--no-inventory"],
    );
    assert_eq!(
        s.paths("binary-hardening"),
        binaries().paths("binary-hardening")
    );
    assert!(!s.paths("binary-hardening").is_empty());
    assert_eq!(s.json["inventory"]["binaries"], serde_json::json!([]));
}

/// LG020 fires on the weak C program and Debian's non-PIE skopeo, and on nothing built with
/// the defaults; Go and Rust programs are not blamed for a canary they never use.
#[test]
fn binary_hardening_lists_what_is_missing() {
    let s = binaries();
    let mut paths = s.paths("binary-hardening");
    paths.sort();
    assert_eq!(
        paths,
        ["/opt/bin/weak", "/usr/bin/skopeo"],
        "{:?}",
        s.findings("binary-hardening")
    );
    let weak = s
        .findings("binary-hardening")
        .into_iter()
        .find(|f| f["location"]["path"] == "/opt/bin/weak")
        .unwrap();
    let msg = weak["message"].as_str().unwrap();
    for part in [
        "no PIE",
        "no RELRO",
        "executable stack",
        "no stack canary",
        "lib, /tmp/plugins",
    ] {
        assert!(msg.contains(part), "{msg}");
    }
    assert_eq!(weak["severity"], "low");
    assert_eq!(weak["code"], "LG020");
    assert!(
        s.json["warnings"].as_array().unwrap().is_empty(),
        "{}",
        s.json["warnings"]
    );
}

/// An ELF `.note.package` names the package that built the binary; it is reported on the binary
/// and as a package located at it.
#[test]
fn package_note_is_read() {
    let note = &binary("/opt/bin/noted")["package_note"];
    assert_eq!(note["type"], "deb");
    assert_eq!(note["name"], "hello-noted");
    assert_eq!(note["version"], "1.2-3");
    let purls = package_purls("/opt/bin/noted");
    assert_eq!(purls.len(), 1, "{purls:?}");
    assert!(
        purls[0].starts_with("pkg:deb/") && purls[0].contains("/hello-noted@1.2-3"),
        "{purls:?}"
    );
}

/// The binary read limits in `layerguard.toml` reach the cataloger: with a tiny head window a
/// small binary goes through the region path, and says what it could not read.
#[test]
fn binary_limits_come_from_the_config() {
    let (_dir, cfg) = config("[limits]\nmax_binary_bytes = 4096\nbinary_head_bytes = 64\n");
    let s = scan(
        &fixture("docker-archive", "binaries.tar"),
        &["--config", cfg.to_str().unwrap(), "--fail-on", "never"],
    );
    assert_eq!(s.code, 0, "{}", s.stderr);
    let warnings = s.json["warnings"].to_string();
    assert!(
        warnings.contains("/bin/busybox: elf cataloger: program headers beyond the read window"),
        "{warnings}"
    );
}

/// With `--hash-binaries` (implied by the SBOM formats) each binary carries the SHA-256 of the
/// file, the same `sha256sum` gives (the large skopeo goes through the region path, the others
/// whole). Without it there is none: hashing costs CPU a plain scan need not spend.
#[test]
fn binary_hashes_match_sha256sum() {
    assert!(binary("/opt/bin/hardened").get("sha256").is_none());
    let hashed = scan(
        &fixture("docker-archive", "binaries.tar"),
        &["--hash-binaries", "--fail-on", "never"],
    );
    let by_path = |path: &str| {
        hashed.json["inventory"]["binaries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["path"] == path)
            .cloned()
            .unwrap_or_else(|| panic!("{path} not in the inventory"))
    };
    for name in ["hardened", "libgreet.so", "skopeo"] {
        let Some(file) = host_copy(name) else {
            continue;
        };
        let out = run(Command::new("sha256sum").arg(&file));
        let expected = String::from_utf8(out).unwrap();
        let expected = expected.split_whitespace().next().unwrap();
        assert_eq!(by_path(&image_path(name))["sha256"], expected, "{name}");
    }
}

/// The entries of `dir` whose file name `keep` accepts, sorted; none when it cannot be read.
fn entries(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    found.sort();
    found
}

/// File offset and size of section `name`, from `readelf -SW`.
fn section(sections: &str, name: &str) -> Option<(u64, u64)> {
    sections.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let i = fields.iter().position(|f| *f == name)?;
        let hex = |f: &str| u64::from_str_radix(f, 16).ok();
        Some((hex(fields.get(i + 3)?)?, hex(fields.get(i + 4)?)?))
    })
}

/// Whether a file is one the scan used to lose the libraries of: larger than the files read
/// whole, with a `.dynstr` that lies before `.dynamic` and ends beyond the head kept for headers.
fn dynstr_before_dynamic_beyond_head(file: &Path) -> bool {
    let limits = layerguard::limits::Limits::default();
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if size <= limits.max_binary_bytes {
        return false;
    }
    let sections = output(Command::new("readelf").arg("-SW").arg(file));
    match (
        section(&sections, ".dynstr"),
        section(&sections, ".dynamic"),
    ) {
        (Some((dynstr, len)), Some((dynamic, _))) => {
            dynstr < dynamic && dynstr + len > limits.binary_head_bytes
        }
        _ => false,
    }
}

/// One large binary of each kind this machine has: Docker's daemon (Go, externally linked), Go's
/// `go` (Go's own linker), libLLVM (a shared library with SONAME and RUNPATH) and GCC's `cc1`.
/// .ci/test installs the last three (golang-go, libllvm14, gcc); a kind that is missing or laid
/// out otherwise is said out loud.
#[allow(clippy::disallowed_macros)]
fn big_dynstr_binaries() -> Vec<PathBuf> {
    let usr_lib = Path::new("/usr/lib");
    let kinds: Vec<(&str, Vec<PathBuf>)> = vec![
        (
            "dockerd",
            vec!["/usr/sbin/dockerd".into(), "/usr/bin/dockerd".into()],
        ),
        (
            "go",
            entries(usr_lib, |n| n.starts_with("go-"))
                .into_iter()
                .map(|d| d.join("bin/go"))
                .chain([PathBuf::from("/usr/local/go/bin/go")])
                .collect(),
        ),
        (
            "libLLVM",
            entries(usr_lib, |n| n.ends_with("-linux-gnu"))
                .iter()
                .flat_map(|d| entries(d, |n| n.starts_with("libLLVM") && n.contains(".so")))
                .collect(),
        ),
        (
            "cc1",
            entries(&usr_lib.join("gcc"), |_| true)
                .iter()
                .flat_map(|d| entries(d, |_| true))
                .map(|d| d.join("cc1"))
                .collect(),
        ),
    ];
    let mut found: Vec<PathBuf> = Vec::new();
    for (kind, candidates) in kinds {
        let file = candidates
            .iter()
            .filter_map(|c| std::fs::canonicalize(c).ok())
            .find(|c| dynstr_before_dynamic_beyond_head(c));
        match file {
            Some(file) if !found.contains(&file) => found.push(file),
            Some(_) => {}
            None => eprintln!("skipped: no {kind} over 8 MiB with .dynstr before .dynamic"),
        }
    }
    found
}

/// The scan of an image made of [`big_dynstr_binaries`], and those files.
fn big_binaries() -> &'static (Vec<PathBuf>, Scan) {
    static S: OnceLock<(Vec<PathBuf>, Scan)> = OnceLock::new();
    S.get_or_init(|| {
        let files = big_dynstr_binaries();
        assert!(
            !files.is_empty(),
            "no large binary with .dynstr before .dynamic here (.ci/test installs gcc, golang-go \
             and libllvm14)"
        );
        let (_dir, image) = host_files_image("big-elf", &files);
        let s = scan(&image, &["--fail-on", "never"]);
        assert!(s.json.is_object(), "{}", s.stderr);
        (files, s)
    })
}

/// Large binaries whose `.dynstr` the stream passes before their dynamic table (libLLVM, cc1,
/// Go's `go`, dockerd) list the libraries, SONAME and search paths `readelf -d` gives, and the
/// stack-protector and fortify symbols `readelf --dyn-syms` gives, with no warning.
#[test]
fn big_binaries_keep_their_libraries() {
    let (files, s) = big_binaries();
    let inventory = s.json["inventory"]["binaries"].as_array().unwrap();
    let warnings = s.json["warnings"].as_array().unwrap();
    for file in files {
        let path = file.to_str().unwrap();
        let b = inventory
            .iter()
            .find(|b| b["path"] == path)
            .unwrap_or_else(|| panic!("{path} not in the inventory"));
        let dynamic = readelf(&["-dW"], file);
        assert!(!bracketed(&dynamic, "NEEDED").is_empty(), "{path}");
        assert_eq!(
            strings(&b["needed"]),
            bracketed(&dynamic, "NEEDED"),
            "{path}"
        );
        assert_eq!(
            b["soname"].as_str().map(str::to_owned),
            bracketed(&dynamic, "SONAME").into_iter().next(),
            "{path}"
        );
        assert_eq!(
            strings(&b["runpath"]),
            path_entries(bracketed(&dynamic, "RUNPATH")),
            "{path}"
        );
        assert_eq!(
            strings(&b["rpath"]),
            path_entries(bracketed(&dynamic, "RPATH")),
            "{path}"
        );
        // Go's symbol names are not all UTF-8.
        let symbols = run(Command::new("readelf").args(["--dyn-syms", "-W"]).arg(file));
        let symbols = String::from_utf8_lossy(&symbols);
        let names: Vec<&str> = symbols
            .lines()
            .filter_map(|l| l.split_whitespace().nth(7))
            .map(|n| n.split('@').next().unwrap())
            .collect();
        let canary = names
            .iter()
            .any(|n| matches!(*n, "__stack_chk_fail" | "__stack_chk_guard"));
        let fortify = names
            .iter()
            .any(|n| n.starts_with("__") && n.ends_with("_chk"));
        assert_eq!(b["hardening"]["canary"], canary, "{path}");
        assert_eq!(b["hardening"]["fortify"], fortify, "{path}");
        let about: Vec<&Value> = warnings
            .iter()
            .filter(|w| w["message"].as_str().unwrap().contains(path))
            .collect();
        assert!(about.is_empty(), "{path}: {about:?}");
    }
}
