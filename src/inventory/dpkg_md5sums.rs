//! distroless' per-package file lists, `/var/lib/dpkg/status.d/<package>.md5sums`: the md5sums
//! file of the package's control archive, copied next to its paragraph because distroless images
//! have no `info/` directory (their `PACKAGE_METADATA.md` standard). Each line is what `md5sum`
//! prints, `<32 hex digits>  <path relative to />`, one per regular file the package ships.
//!
//! The lists are kept with rpm's and apk's ([`super::file_lists`]), keyed by the md5sums file's
//! own path: it may be replaced or deleted apart from its paragraph, and only a live one says
//! what the package owns now.

use super::file_lists::{self, FileListsBuilder};
use super::{Cataloger, LayerInventory, dpkg, is_file};
use crate::event::FileMeta;
use crate::text::clip;

const SUFFIX: &str = ".md5sums";

/// Reads distroless' md5sums files.
pub struct DpkgMd5sumsCataloger;

impl Cataloger for DpkgMd5sumsCataloger {
    fn name(&self) -> &'static str {
        "dpkg-md5sums"
    }

    fn wants(&self, file: &FileMeta) -> bool {
        is_file(file) && package_of(&file.path).is_some()
    }

    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String> {
        let package = package_of(path).ok_or("not a status.d md5sums file")?;
        let (mut files, mut total, mut bad, mut first_error) = (Vec::new(), 0usize, 0usize, None);
        for (i, line) in content.split(|&b| b == b'\n').enumerate() {
            if line.is_empty() {
                continue;
            }
            total += 1;
            match parse_line(line) {
                Ok(file) => files.push(file),
                Err(e) => {
                    bad += 1;
                    first_error.get_or_insert(format!("line {}: {e}", i + 1));
                }
            }
        }
        let mut lists = FileListsBuilder::default();
        let owned: Vec<_> = files
            .iter()
            .filter_map(|f| file_lists::split(f))
            .map(|(dir, name)| (lists.dir(dir), name))
            .collect();
        lists.add(package, owned);
        // Recorded even when some lines are bad: the package is still installed and the good
        // lines still name its files; only the bad lines' files go unowned.
        out.file_lists.insert(path.to_owned(), lists.finish());
        match first_error {
            None => Ok(()),
            Some(e) => Err(format!(
                "{bad} of {total} lines are not `<md5>  <path>` and were skipped, so their files \
                 are not known to be {package:?}'s (first: {e})"
            )),
        }
    }
}

/// The package whose files `status.d/<package>.md5sums` lists. distroless names both files after
/// the package alone, never with an `:<arch>` as dpkg's `info/` does.
pub(super) fn package_of(path: &str) -> Option<&str> {
    let name = path.strip_prefix(dpkg::STATUS_D)?.strip_suffix(SUFFIX)?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// Why a line of an md5sums file names no file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
enum LineError {
    #[error("{0:?} does not start with 32 hex digits and a separator")]
    Digest(String),
    #[error("no path after the digest")]
    NoPath,
    #[error("the path is not UTF-8")]
    NotUtf8,
    #[error("{0:?} holds an escape md5sum does not write")]
    Escape(String),
    #[error("{0:?} names a directory or holds a NUL")]
    NotAFile(String),
}

/// The absolute path one line names. `md5sum` separates digest and name by two spaces (a space
/// and `*` in binary mode), and marks a line whose name holds a newline or a backslash by a
/// leading `\`, escaping those in the name.
fn parse_line(line: &[u8]) -> Result<String, LineError> {
    let bad_digest = || LineError::Digest(clip(&String::from_utf8_lossy(line)).to_owned());
    let (escaped, rest) = match line.strip_prefix(b"\\") {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let (digest, rest) = rest.split_at_checked(32).ok_or_else(bad_digest)?;
    let name = rest
        .strip_prefix(b"  ")
        .or_else(|| rest.strip_prefix(b" *"))
        .filter(|_| digest.iter().all(u8::is_ascii_hexdigit))
        .ok_or_else(bad_digest)?;
    let name = std::str::from_utf8(name).map_err(|_| LineError::NotUtf8)?;
    let name = if escaped {
        unescape(name).ok_or_else(|| LineError::Escape(clip(name).to_owned()))?
    } else {
        name.to_owned()
    };
    // dpkg writes paths relative to the root; an absolute one means the same file.
    let relative = name.trim_start_matches('/');
    if relative.is_empty() {
        return Err(LineError::NoPath);
    }
    if relative.ends_with('/') || relative.contains('\0') {
        return Err(LineError::NotAFile(clip(relative).to_owned()));
    }
    Ok(format!("/{relative}"))
}

/// `\\` → `\`, `\n` → newline, `\r` → carriage return; `None` for any other escape.
fn unescape(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next()? {
            '\\' => '\\',
            'n' => '\n',
            'r' => '\r',
            _ => return None,
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5SUMS: &str = "/var/lib/dpkg/status.d/libc6.md5sums";

    fn catalog(text: &[u8]) -> (Vec<String>, Result<(), String>) {
        let mut out = LayerInventory::default();
        let r = DpkgMd5sumsCataloger.catalog(MD5SUMS, text, &mut out);
        (out.file_lists[MD5SUMS].paths_of("libc6"), r)
    }

    #[test]
    fn lines_name_absolute_paths() {
        let (paths, r) = catalog(
            b"d41d8cd98f00b204e9800998ecf8427e  usr/lib/x86_64-linux-gnu/libc.so.6\n\
              D41D8CD98F00B204E9800998ECF8427E *lib64/ld-linux-x86-64.so.2\n\
              d41d8cd98f00b204e9800998ecf8427e  /usr/share/doc/libc6/copyright\n",
        );
        r.unwrap();
        assert_eq!(
            paths,
            [
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2",
                "/usr/share/doc/libc6/copyright"
            ]
        );
    }

    /// The md5sums file Debian 12's busybox-static ships, as dpkg installed it.
    #[test]
    fn a_real_md5sums_file() {
        let (paths, r) = catalog(include_bytes!(
            "../../testdata/files/dpkg-busybox-static.md5sums"
        ));
        r.unwrap();
        assert_eq!(paths.len(), 18);
        assert_eq!(paths[0], "/bin/busybox");
        assert!(paths.iter().skip(1).all(|p| p.starts_with("/usr/share/")));
    }

    #[test]
    fn escaped_names_are_unescaped() {
        let (paths, r) = catalog(b"\\d41d8cd98f00b204e9800998ecf8427e  usr/share/a\\nb\\\\c\n");
        r.unwrap();
        assert_eq!(paths, ["/usr/share/a\nb\\c"]);
    }

    #[test]
    fn a_malformed_line_warns_once_and_keeps_the_others() {
        let text = b"d41d8cd98f00b204e9800998ecf8427e  usr/bin/ok\n\
                     not a digest at all, but long enough to be split\n\
                     d41d8cd98f00b204e9800998ecf8427e usr/bin/one-space\n\
                     d41d8cd98f00b204e9800998ecf8427e  \n\
                     d41d8cd98f00b204e9800998ecf8427e  usr/\xff\n\
                     d41d8cd98f00b204e9800998ecf8427e  usr/share/doc/\n\
                     \\d41d8cd98f00b204e9800998ecf8427e  usr/bad\\escape\n\
                     short\n\
                     \n\
                     d41d8cd98f00b204e9800998ecf8427e  usr/bin/also-ok\n";
        let (paths, r) = catalog(text);
        assert_eq!(paths, ["/usr/bin/ok", "/usr/bin/also-ok"]);
        let e = r.unwrap_err();
        assert!(e.starts_with("7 of 9 lines"), "{e}");
        assert!(
            e.contains("\"libc6\"") && e.contains("(first: line 2:"),
            "{e}"
        );
    }

    #[test]
    fn messages_stay_short_and_nothing_panics() {
        let mut long = b"d41d8cd98f00b204e9800998ecf8427e  ".to_vec();
        long.extend([b'/'; 10_000]);
        for text in [
            &[b'x'; 100_000][..],
            &long,
            b"\\",
            b"\\d41d8cd98f00b204e9800998ecf8427e  a\\",
        ] {
            let (paths, r) = catalog(text);
            assert!(paths.is_empty());
            assert!(r.unwrap_err().len() < 400, "messages stay short");
        }
    }

    #[test]
    fn an_empty_file_lists_nothing() {
        let (paths, r) = catalog(b"");
        r.unwrap();
        assert!(paths.is_empty());
    }

    #[test]
    fn wants_status_d_md5sums_only() {
        let meta = FileMeta::test_file;
        assert!(DpkgMd5sumsCataloger.wants(&meta(MD5SUMS)));
        for other in [
            "/var/lib/dpkg/status.d/libc6",
            "/var/lib/dpkg/status.d/.md5sums",
            "/var/lib/dpkg/status.d/x/libc6.md5sums",
            "/var/lib/dpkg/info/libc6:amd64.md5sums",
        ] {
            assert!(!DpkgMd5sumsCataloger.wants(&meta(other)), "{other}");
        }
        assert_eq!(package_of(MD5SUMS), Some("libc6"));
    }
}

#[cfg(test)]
mod merge_tests {
    /// Counts come from the live md5sums files, and a package whose writer left none (it ships
    /// no files) keeps none.
    #[test]
    fn live_md5sums_fill_deb_file_counts() {
        let (counts, warnings) = crate::inventory::file_counts(&[
            &[
                (
                    "var/lib/dpkg/status.d/libc6",
                    b"Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\n",
                ),
                (
                    "var/lib/dpkg/status.d/libc6.md5sums",
                    b"d41d8cd98f00b204e9800998ecf8427e  lib/a.so\n",
                ),
                (
                    "var/lib/dpkg/status.d/meta",
                    b"Package: meta\nVersion: 1\nArchitecture: all\n",
                ),
            ],
            &[(
                "var/lib/dpkg/status.d/libc6.md5sums",
                b"d41d8cd98f00b204e9800998ecf8427e  lib/a.so\n\
                  d41d8cd98f00b204e9800998ecf8427e  lib/b.so\n",
            )],
        ]);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(counts, [("libc6".into(), 2), ("meta".into(), 0)]);
    }
}
