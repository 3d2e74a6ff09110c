//! Version classifiers: find the version of well-known binaries (busybox, openssl, glibc, curl,
//! python, node, …) that no package database owns, from the strings their builds embed. The
//! records live in `signatures/binaries.toml`.
//!
//! A classifier watches bytes as they stream past — the same bytes the ELF cataloger reads, so
//! a 100 MB `node` is not read twice and never held whole — keeping only a short overlap so a
//! version string split across two chunks is still found.

use super::{PackageKind, PackageRecord};
use crate::signatures::{BINARY_CLASSIFIERS, BinaryClassifier};
use std::io::{self, Read};

/// Longest match a pattern is expected to span across a chunk boundary.
const OVERLAP: usize = 256;

/// The classifiers interested in one file, and what they have found so far.
pub struct VersionScan {
    pending: Vec<&'static BinaryClassifier>,
    found: Vec<(&'static BinaryClassifier, String)>,
    tail: Vec<u8>,
    boundary: Vec<u8>,
    /// Bytes of the file fed so far.
    fed: u64,
}

impl VersionScan {
    /// A scan for the classifiers whose globs match `path`, if any. Those that read the
    /// version from the path have their answer before the first byte.
    pub fn for_path(path: &str) -> Option<Self> {
        let mut pending = BINARY_CLASSIFIERS.for_path(path);
        let mut found = Vec::new();
        pending.retain(|c| match c.version_of_path(path) {
            None => true,
            Some(version) => {
                found.extend(version.map(|v| (*c, v)));
                false
            }
        });
        (!pending.is_empty() || !found.is_empty()).then(|| VersionScan {
            pending,
            found,
            tail: Vec::with_capacity(OVERLAP),
            boundary: Vec::with_capacity(2 * OVERLAP),
            fed: 0,
        })
    }

    /// True once every classifier has found its version: the rest of the file is not needed.
    pub fn done(&self) -> bool {
        self.pending.is_empty()
    }

    /// Looks at the next bytes of the file.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.done() || chunk.is_empty() {
            return;
        }
        // Matches straddling the previous chunk's end are searched in a small stitched buffer;
        // the chunk itself is searched in place, without a copy.
        self.boundary.clear();
        self.boundary.extend_from_slice(&self.tail);
        self.boundary
            .extend_from_slice(&chunk[..chunk.len().min(OVERLAP)]);
        let boundary = std::mem::take(&mut self.boundary);
        let at_start = self.fed == 0;
        self.search(&boundary, boundary.len(), at_start);
        self.boundary = boundary;
        self.search(chunk, chunk.len(), at_start);
        self.fed += chunk.len() as u64;
        let keep = chunk.len().min(OVERLAP);
        if keep == OVERLAP {
            self.tail.clear();
        } else {
            let excess = (self.tail.len() + keep).saturating_sub(OVERLAP);
            self.tail.drain(..excess);
        }
        self.tail.extend_from_slice(&chunk[chunk.len() - keep..]);
    }

    /// Records the versions found in `bytes` by matches ending before `limit`.
    fn search(&mut self, bytes: &[u8], limit: usize, at_file_start: bool) {
        let mut i = 0;
        while i < self.pending.len() {
            let classifier = self.pending[i];
            match classifier.version_before(bytes, limit, at_file_start) {
                Some(v) => {
                    self.found.push((classifier, v));
                    self.pending.swap_remove(i);
                }
                None => i += 1,
            }
        }
    }

    /// The packages identified.
    pub fn finish(mut self) -> Vec<PackageRecord> {
        // Only now is a match running to the last byte known to be whole.
        let tail = std::mem::take(&mut self.tail);
        // The tail is the whole file when the file is no longer than it.
        let whole = self.fed == tail.len() as u64;
        self.search(&tail, tail.len() + 1, whole);
        self.found
            .into_iter()
            .map(|(c, version)| PackageRecord {
                name: c.name.clone(),
                cpes: c.cpes(&version),
                version,
                kind: PackageKind::Binary,
                arch: None,
                source: None,
                licenses: Vec::new(),
                files: 1,
                namespace: c.namespace.clone(),
                found_in: None,
            })
            .collect()
    }
}

/// A reader that shows every byte it passes to a [`VersionScan`].
pub struct Observed<'a> {
    /// The file being read.
    pub inner: &'a mut dyn Read,
    /// The scan watching it.
    pub scan: &'a mut VersionScan,
}

impl Read for Observed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan.feed(&buf[..n]);
        Ok(n)
    }
}

/// True for paths a distribution's package manager installs into. A classifier match there is
/// left to the package database, which names the exact package and version; matches under
/// `/usr/local`, `/opt`, an app directory or a home directory are what databases miss.
pub fn distribution_path(path: &str) -> bool {
    let local = [
        "/usr/local/",
        "/opt/",
        "/app/",
        "/home/",
        "/root/",
        "/srv/",
        "/go/",
    ];
    (path.starts_with("/usr/")
        || path.starts_with("/bin/")
        || path.starts_with("/sbin/")
        || path.starts_with("/lib"))
        && !local.iter().any(|p| path.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(found: &[PackageRecord]) -> (&str, &str) {
        (found[0].name.as_str(), found[0].version.as_str())
    }

    #[test]
    fn versions_split_across_chunks_are_found() {
        let mut scan = VersionScan::for_path("/usr/local/bin/busybox").unwrap();
        let text = b"\x00\x01junk BusyBox v1.36.1 (2023) multi-call";
        for piece in text.chunks(5) {
            scan.feed(piece);
        }
        assert!(scan.done());
        assert_eq!(first(&scan.finish()), ("busybox", "1.36.1"));
        assert!(VersionScan::for_path("/usr/bin/ls").is_none());
    }

    #[test]
    fn launcher_and_library_of_one_install_agree() {
        // What Temurin 25's launcher and libjvm.so carry: one version, so one package.
        let version = |path: &str, text: &[u8]| {
            let mut scan = VersionScan::for_path(path).unwrap();
            scan.feed(text);
            let found = scan.finish();
            let (name, version) = first(&found);
            (name.to_owned(), version.to_owned())
        };
        assert_eq!(
            version(
                "/opt/java/openjdk/bin/java",
                b"%s\0openjdk\0java\x000.0\x0025.0.3+9-LTS\0\0\x01"
            ),
            version(
                "/opt/java/openjdk/lib/server/libjvm.so",
                b"interpreted mode, sharing\x0025.0.3+9-LTS\0linux-amd64\0server\0"
            )
        );
    }

    #[test]
    fn versions_named_by_paths_need_no_bytes() {
        let scan = VersionScan::for_path("/usr/local/aws-cli/v2/2.15.30/dist/aws").unwrap();
        assert!(scan.done());
        assert_eq!(first(&scan.finish()), ("aws-cli", "2.15.30"));
        assert!(VersionScan::for_path("/usr/local/aws-cli/v2/current/dist/aws").is_none());
    }

    /// The first version found in the file at `path` when its bytes arrive in `pieces`.
    fn fed_in_pieces(path: &str, pieces: &[&[u8]]) -> Option<String> {
        let mut scan = VersionScan::for_path(path).unwrap();
        for piece in pieces {
            scan.feed(piece);
        }
        scan.finish().first().map(|p| p.version.clone())
    }

    #[test]
    fn a_file_that_is_a_version_is_read_whole() {
        let version = |pieces: &[&[u8]]| {
            fed_in_pieces(
                "/opt/aws/amazon-cloudwatch-agent/bin/CWAGENT_VERSION",
                pieces,
            )
        };
        // A piece that looks like a version on its own (`0.3.4`) is not the file.
        assert_eq!(version(&[b"1", b"0.3.4\n"]).as_deref(), Some("10.3.4"));
        assert_eq!(
            version(&[b"1.300073.2b1889\n"]).as_deref(),
            Some("1.300073.2b1889")
        );
        assert_eq!(version(&[&[b'x'; 300], b"\n1.2.3\n"]), None);
    }

    #[test]
    fn a_pattern_for_a_files_start_ignores_later_chunks() {
        // A Go toolchain's `VERSION` file starts `go1.21.3`; a read of the `go` binary that
        // happens to begin with those bytes is not that file.
        let scan = |pieces: &[&[u8]]| fed_in_pieces("/usr/local/go/bin/go", pieces);
        assert_eq!(scan(&[b"\x7fELF\x02\x01", b"go1.21.3 is here"]), None);
        assert_eq!(scan(&[b"go1.21.3 is here"]).as_deref(), Some("1.21.3"));
    }

    #[test]
    fn distribution_paths_are_told_apart() {
        assert!(distribution_path("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
        assert!(!distribution_path("/usr/local/bin/node"));
        assert!(!distribution_path("/opt/java/lib/server/libjvm.so"));
    }
}
