//! Go build information: the blob the Go linker writes into every binary (section
//! `.go.buildinfo`, found by its magic so stripped and section-less files work too).
//!
//! Layout since Go 1.18: a 32-byte header — the 14-byte magic `\xff Go buildinf:`, the pointer
//! size, a flags byte (bit 1: strings are inline) and padding — then two uvarint-length-prefixed
//! strings: the toolchain version and the module information. The module information is
//! wrapped in 16-byte sentinels and holds tab-separated lines (`path`, `mod`, `dep`, `=>`,
//! `build`), the text `go version -m` prints. Older toolchains stored pointers into the data
//! segment instead; those are reported as unsupported rather than guessed at.
//!
//! The blob is 16-byte aligned in the file; the ELF cataloger finds it while the file streams
//! past and hands this module a window starting at the magic.

use super::binary::{GoBuildInfo, GoModule};
use super::{PackageKind, PackageRecord, is_semver};
use crate::signatures::go_program;

/// The 14 bytes every buildinfo blob starts with.
pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";

/// The alignment of the blob in the file.
pub const ALIGN: u64 = 16;

/// The header before the inline strings.
const HEADER_LEN: usize = 32;

/// Parses a buildinfo blob. `data` starts at the magic and runs as far as the caller captured.
pub fn parse(data: &[u8]) -> Result<GoBuildInfo, String> {
    if data.len() < HEADER_LEN || !data.starts_with(MAGIC) {
        return Err("Go buildinfo header truncated".into());
    }
    let flags = data[15];
    if flags & 2 == 0 {
        return Err("Go < 1.18 buildinfo not supported (pointer format)".into());
    }
    let mut rest = &data[HEADER_LEN..];
    let version = read_string(&mut rest)?;
    let modinfo = read_string(&mut rest)?;
    let go_version = String::from_utf8_lossy(version).into_owned();
    // Go's debug/buildinfo strips the sentinels only when they can be there.
    let modinfo = if modinfo.len() >= 33 && modinfo[modinfo.len() - 17] == b'\n' {
        &modinfo[16..modinfo.len() - 16]
    } else {
        modinfo
    };
    let mut info = parse_modinfo(&String::from_utf8_lossy(modinfo));
    info.go_version = go_version;
    Ok(info)
}

/// Reads one uvarint-length-prefixed string, refusing lengths past the captured window.
fn read_string<'a>(rest: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let mut len: u64 = 0;
    let mut shift = 0u32;
    let mut used = 0;
    loop {
        let Some(&b) = rest.get(used) else {
            return Err("Go buildinfo string length truncated".into());
        };
        used += 1;
        if shift >= 64 {
            return Err("Go buildinfo string length overflows".into());
        }
        len |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    let body = &rest[used..];
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= body.len())
        .ok_or_else(|| {
            format!(
                "Go buildinfo string of {len} bytes runs past the {} bytes read",
                body.len()
            )
        })?;
    *rest = &body[len..];
    Ok(&body[..len])
}

/// Parses the module lines `go version -m` prints.
pub fn parse_modinfo(text: &str) -> GoBuildInfo {
    let mut info = GoBuildInfo::default();
    for line in text.lines() {
        let mut fields = line.split('\t');
        let module = |f: &mut std::str::Split<'_, char>| GoModule {
            path: f.next().unwrap_or_default().to_owned(),
            version: f.next().unwrap_or_default().to_owned(),
            sum: f.next().filter(|s| !s.is_empty()).map(str::to_owned),
            replace: None,
        };
        match fields.next() {
            Some("path") => info.path = fields.next().map(str::to_owned),
            Some("mod") => info.main = Some(module(&mut fields)),
            Some("dep") => info.deps.push(module(&mut fields)),
            // A replacement applies to the line before it: the last dep, or the main module.
            Some("=>") => {
                let replacement = Some(Box::new(module(&mut fields)));
                if let Some(last) = info.deps.last_mut() {
                    last.replace = replacement;
                } else if let Some(main) = &mut info.main {
                    main.replace = replacement;
                }
            }
            Some("build") => {
                if let Some((k, v)) = fields.next().and_then(|kv| kv.split_once('=')) {
                    info.settings.insert(k.to_owned(), v.to_owned());
                }
            }
            _ => {}
        }
    }
    info
}

/// The modules of a Go binary as package records: the main module, every dependency (its
/// replacement when that is a versioned module, since that is the code compiled in) and the
/// standard library at the toolchain's version, where most of a Go program's CVEs are
/// (`crypto/tls`, `net/http`). A main module built outside version control (`(devel)`) is
/// listed without a version: its name is true, and any version would be a guess. A main module
/// of `signatures/go_programs.toml` with a release version gets that product's CPEs; `program`
/// is the file's name, which tells apart the products one module builds.
pub fn packages(info: &GoBuildInfo, program: &str) -> Vec<PackageRecord> {
    let effective = |m: &GoModule| -> (String, String) {
        match &m.replace {
            Some(r) if !r.version.is_empty() => (r.path.clone(), r.version.clone()),
            _ => (m.path.clone(), m.version.clone()),
        }
    };
    let record = |(path, version): (String, String)| {
        let (namespace, name) = match path.rsplit_once('/') {
            Some((ns, name)) => (Some(ns.to_owned()), name.to_owned()),
            None => (None, path.clone()),
        };
        module_record(name, version, namespace)
    };
    let mut out: Vec<PackageRecord> = Vec::with_capacity(info.deps.len() + 2);
    if let Some(main) = info.main.as_ref().filter(|m| !m.path.is_empty()) {
        let (path, version) = effective(main);
        let version = match version.as_str() {
            "" | "(devel)" => ldflags_version(info, &main.path).unwrap_or_default(),
            _ => version,
        };
        // The main package's last element names the program even when the file was renamed.
        let package = info
            .path
            .as_deref()
            .and_then(|p| p.rsplit('/').next())
            .unwrap_or_default();
        let cpes = program_cpes(&main.path, &[program, package], &version);
        out.push(PackageRecord {
            cpes,
            ..record((path, version))
        });
    }
    out.extend(info.deps.iter().map(effective).map(record));
    if let Some(version) = stdlib_version(&info.go_version) {
        let mut stdlib = module_record("stdlib".to_owned(), version.to_owned(), None);
        stdlib.cpes = vec![format!("cpe:2.3:a:golang:go:{version}:*:*:*:*:*:*:*")];
        out.push(stdlib);
    }
    out
}

/// The CPEs of the product built from main module `module` (see [`go_program`]), at module
/// version `version`: none for a module the table does not know, for a version that is not a
/// release (empty, or a pseudo-version, which names a commit), and so never one with a `*`
/// version that would match every CVE of the product.
pub fn program_cpes(module: &str, names: &[&str], version: &str) -> Vec<String> {
    match (go_program(module, names), release(version)) {
        (Some(program), Some(release)) => program.cpes(release),
        _ => Vec::new(),
    }
}

/// The release a module version names: `v3.6.5` is 3.6.5, and so are `v3.6.5+dirty` (Go 1.24's
/// stamp of a modified checkout) and `v3.6.5+incompatible`, which say something of the build or
/// of the module, not of the release.
fn release(version: &str) -> Option<&str> {
    let v = version.strip_prefix('v')?;
    let v = v.split_once('+').map_or(v, |(core, _)| core);
    (is_release(v) && !is_pseudo_version(v)).then_some(v)
}

/// Go's pseudo-version forms (`0.0.0-20240101000000-abcdef123456`, `1.2.4-0.2024…-…`,
/// `1.2.3-pre.0.2024…-…`): a commit time and hash after the base version.
fn is_pseudo_version(v: &str) -> bool {
    let Some((rest, hash)) = v.rsplit_once('-') else {
        return false;
    };
    let Some(base) = rest.len().checked_sub(14).map(|at| rest.split_at(at)) else {
        return false;
    };
    hash.len() == 12
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && base.1.bytes().all(|b| b.is_ascii_digit())
        && base.0.ends_with(['-', '.'])
}

fn module_record(name: String, version: String, namespace: Option<String>) -> PackageRecord {
    PackageRecord {
        name,
        version,
        kind: PackageKind::Golang,
        arch: None,
        source: None,
        licenses: Vec::new(),
        files: 0,
        namespace,
        found_in: None,
        cpes: Vec::new(),
    }
}

/// The release a program built outside version control stamped into itself with
/// `-ldflags "-X <its package>.version=v1.2.3"`, the way helm, consul, traefik and most
/// release pipelines do, as a module version (`v1.2.3`). Only variables of the main module's
/// own packages (or `main`) count, and only when they agree: a dependency's version variable
/// or two different stamps name nothing certain.
fn ldflags_version(info: &GoBuildInfo, main_path: &str) -> Option<String> {
    let flags = info.settings.get("-ldflags")?;
    let flags = flags.trim_matches('"');
    let mut tokens = flags
        .split_whitespace()
        .map(|t| t.trim_matches(['\'', '"']));
    let mut found = std::collections::BTreeSet::new();
    while let Some(token) = tokens.next() {
        let assignment = match token.strip_prefix("-X") {
            Some("") => tokens.next().unwrap_or_default(),
            Some(rest) => rest.trim_start_matches('='),
            None => continue,
        };
        let Some((symbol, value)) = assignment.split_once('=') else {
            continue;
        };
        let Some((package, variable)) = symbol.rsplit_once('.') else {
            continue;
        };
        let own = package == "main"
            || package == main_path
            || package
                .strip_prefix(main_path)
                .is_some_and(|rest| rest.starts_with('/'));
        let variable = variable.to_ascii_lowercase();
        let named = matches!(
            variable.trim_start_matches("git"),
            "version" | "versionstr" | "versionstring" | "describe"
        );
        if own && named && is_release(value.trim_start_matches('v')) {
            found.insert(format!("v{}", value.trim_start_matches('v')));
        }
    }
    (found.len() == 1).then(|| found.pop_first()).flatten()
}

/// A semver whose pre-release and build parts use only the characters semver allows.
fn is_release(v: &str) -> bool {
    is_semver(v)
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'+' | b'.'))
}

/// The release a toolchain version names: `go1.19.8` and `go1.22.1 X:boringcrypto` are 1.19.8
/// and 1.22.1, `go1.21rc2` is 1.21rc2. A development toolchain (`devel go1.23-4f1ec0f`) or a
/// vendor's fork (`go1.21.0-bigcorp`) names no release, so none is listed.
pub fn stdlib_version(go_version: &str) -> Option<&str> {
    let release = go_version.split(' ').next()?.strip_prefix("go")?;
    let (core, pre) = match release.find(|c: char| c.is_ascii_alphabetic()) {
        Some(at) => release.split_at(at),
        None => (release, ""),
    };
    let numbers: Vec<&str> = core.split('.').collect();
    let core_ok = (2..=3).contains(&numbers.len())
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let pre_ok = pre.is_empty()
        || ["rc", "beta"].iter().any(|p| {
            pre.strip_prefix(p)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        });
    (core_ok && pre_ok).then_some(release)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(version: &str, modinfo: &str) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend([8, 2]);
        out.resize(HEADER_LEN, 0);
        for s in [version.as_bytes(), modinfo.as_bytes()] {
            let mut n = s.len();
            loop {
                let b = (n & 0x7f) as u8;
                n >>= 7;
                out.push(if n > 0 { b | 0x80 } else { b });
                if n == 0 {
                    break;
                }
            }
            out.extend_from_slice(s);
        }
        out
    }

    #[test]
    fn parses_go_version_m_lines_with_replacements_and_settings() {
        // The shape `go version -m` prints for a module with a replaced dependency.
        let mods = "path\texample.com/hello\n\
                    mod\texample.com/hello\t(devel)\t\n\
                    dep\tgolang.org/x/text\tv0.14.0\th1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=\n\
                    dep\texample.com/old\tv1.0.0\n\
                    =>\texample.com/new\tv1.2.0\th1:abc=\n\
                    build\t-compiler=gc\n\
                    build\tGOOS=linux\n";
        let text = format!("{}{mods}{}", "x".repeat(16), "y".repeat(16));
        let info = parse(&blob("go1.22.1", &text)).unwrap();
        assert_eq!(info.go_version, "go1.22.1");
        assert_eq!(info.path.as_deref(), Some("example.com/hello"));
        assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(info.deps.len(), 2);
        assert_eq!(
            info.deps[0].sum.as_deref(),
            Some("h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=")
        );
        assert_eq!(
            info.deps[1].replace.as_ref().unwrap().path,
            "example.com/new"
        );
        assert_eq!(info.settings["GOOS"], "linux");
        let pkgs = packages(&info, "hello");
        let rows: Vec<_> = pkgs
            .iter()
            .map(|p| {
                (
                    p.namespace.as_deref().unwrap_or(""),
                    p.name.as_str(),
                    p.version.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("example.com", "hello", ""),
                ("golang.org/x", "text", "v0.14.0"),
                ("example.com", "new", "v1.2.0"),
                ("", "stdlib", "1.22.1"),
            ],
            "the (devel) main module is listed without a version"
        );
        assert_eq!(pkgs[3].cpes, ["cpe:2.3:a:golang:go:1.22.1:*:*:*:*:*:*:*"]);
    }

    #[test]
    fn devel_main_modules_take_the_version_their_ldflags_stamp() {
        let version = |main: &str, ldflags: &str| {
            let mut info = parse_modinfo(&format!(
                "path\t{main}\nmod\t{main}\t(devel)\t\nbuild\t-ldflags={ldflags}\n"
            ));
            info.go_version = "go1.22.4".into();
            packages(&info, "app")[0].version.clone()
        };
        // consul's release build, as its buildinfo records it.
        assert_eq!(
            version(
                "github.com/hashicorp/consul",
                "\"-X github.com/hashicorp/consul/version.GitCommit=96505027 -X github.com/hashicorp/consul/version.GitDescribe=1.12.9\""
            ),
            "v1.12.9"
        );
        // helm's Makefile.
        assert_eq!(
            version(
                "helm.sh/helm/v3",
                "\"-w -s -X helm.sh/helm/v3/internal/version.version=v3.15.2 -X helm.sh/helm/v3/internal/version.gitCommit=f4ed7a5\""
            ),
            "v3.15.2"
        );
        assert_eq!(
            version("example.com/app", "\"-X main.version=1.4.0-rc.1\""),
            "v1.4.0-rc.1"
        );
        // A dependency's variable, a non-release value, and two different stamps name nothing.
        for ldflags in [
            "\"-X k8s.io/component-base/version.gitVersion=v1.30.0\"",
            "\"-X main.version=dev\"",
            "\"-X main.version=1.0.0 -X example.com/app/internal/v.Version=2.0.0\"",
        ] {
            assert_eq!(version("example.com/app", ldflags), "", "{ldflags}");
        }
    }

    #[test]
    fn known_main_modules_with_a_release_carry_their_products_cpes() {
        let main_cpes = |program: &str, modinfo: &str| {
            let info = parse_modinfo(modinfo);
            packages(&info, program)[0].cpes.clone()
        };
        let traefik = "path\tgithub.com/traefik/traefik/v3/cmd/traefik\n\
                       mod\tgithub.com/traefik/traefik/v3\tv3.6.5\t\n";
        assert_eq!(
            main_cpes("traefik", traefik),
            ["cpe:2.3:a:traefik:traefik:3.6.5:*:*:*:*:*:*:*"]
        );
        // The main package names the product whatever the file is called; a name that picks
        // another product of the module leaves it unknown.
        let beat = |version: &str| {
            format!(
                "path\tgithub.com/elastic/beats/v7/x-pack/filebeat\n\
                 mod\tgithub.com/elastic/beats/v7\t{version}\t\n"
            )
        };
        assert_eq!(
            main_cpes("beat", &beat("v8.15.0")),
            ["cpe:2.3:a:elastic:filebeat:8.15.0:*:*:*:*:*:*:*"]
        );
        assert!(main_cpes("metricbeat", &beat("v8.15.0")).is_empty());
        // No release, no CPE: a devel build without a stamp, and a pseudo-version.
        assert!(main_cpes("filebeat", &beat("(devel)")).is_empty());
        assert!(main_cpes("filebeat", &beat("v8.15.1-0.20240910154505-2e8e8f1fbd16")).is_empty());
        assert!(main_cpes("filebeat", &beat("v0.0.0-20240910154505-2e8e8f1fbd16")).is_empty());
        assert!(
            main_cpes(
                "filebeat",
                &beat("v8.15.0-rc.0.20240910154505-2e8e8f1fbd16")
            )
            .is_empty()
        );
        // A stamped devel build of a known module.
        let helm = "path\thelm.sh/helm/v3/cmd/helm\nmod\thelm.sh/helm/v3\t(devel)\t\n\
                    build\t-ldflags=\"-X helm.sh/helm/v3/internal/version.version=v3.15.2\"\n";
        assert_eq!(
            main_cpes("helm", helm),
            ["cpe:2.3:a:helm:helm:3.15.2:*:*:*:*:*:*:*"]
        );
        // Dependencies are not products, even of a known module.
        let info = parse_modinfo(
            "path\texample.com/app\nmod\texample.com/app\tv1.0.0\t\n\
             dep\tgithub.com/hashicorp/vault\tv1.20.2\t\n",
        );
        assert!(packages(&info, "vault").iter().all(|p| p.cpes.is_empty()));
    }

    #[test]
    fn only_release_toolchains_name_a_standard_library() {
        let cases = [
            ("go1.19.8", Some("1.19.8")),
            ("go1.22.1 X:boringcrypto", Some("1.22.1")),
            ("go1.21rc2", Some("1.21rc2")),
            ("go1.20", Some("1.20")),
            ("devel go1.23-4f1ec0f Tue", None),
            ("go1.21.0-bigcorp", None),
            ("go1", None),
            ("", None),
        ];
        for (toolchain, want) in cases {
            assert_eq!(stdlib_version(toolchain), want, "{toolchain}");
        }
    }

    #[test]
    fn hostile_blobs_are_errors_not_panics() {
        let good = blob("go1.21.0", "path\tx\n");
        for cut in 0..good.len() {
            let _ = parse(&good[..cut]);
        }
        let mut old = good.clone();
        old[15] = 0;
        assert!(parse(&old).unwrap_err().contains("1.18"));
        // A length prefix claiming 2^63 bytes.
        let mut huge = good[..HEADER_LEN].to_vec();
        huge.extend([0xff; 9]);
        huge.push(0x7f);
        assert!(parse(&huge).is_err());
        let mut endless = good[..HEADER_LEN].to_vec();
        endless.extend([0x80; 20]);
        assert!(parse(&endless).is_err());
    }
}
