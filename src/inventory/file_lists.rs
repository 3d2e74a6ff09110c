//! The files rpm and apk databases and distroless' md5sums files say each package owns, kept so the merge can name the package
//! that owns a binary ([`super::Inventory::assemble`]).
//!
//! A Fedora image owns some 30 000 paths, so they are stored the way both databases record them:
//! each directory once, and per file only its base name and its directory's index. The base
//! names of one package share one string, so a file costs its name and a small integer rather
//! than a `String` of its whole path.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The files of every package of one database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileLists {
    /// Every directory the lists use, once, with its trailing `/` (`/usr/bin/`).
    dirs: Vec<String>,
    /// Each package's files, in database order.
    packages: Vec<PackageFiles>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PackageFiles {
    package: String,
    /// Base names, each ended by a NUL, the one byte no file name holds.
    names: String,
    /// Each base name's directory, an index into [`FileLists::dirs`].
    dirs: Vec<u32>,
}

impl FileLists {
    /// Every file as (owning package, directory with its trailing `/`, base name).
    pub(super) fn files(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.packages.iter().flat_map(move |p| {
            p.names
                .split_terminator('\0')
                .zip(&p.dirs)
                .filter_map(move |(name, &dir)| {
                    Some((
                        p.package.as_str(),
                        self.dirs.get(dir as usize)?.as_str(),
                        name,
                    ))
                })
        })
    }

    /// Each package with how many files it owns.
    pub(super) fn counts(&self) -> impl Iterator<Item = (&str, usize)> {
        self.packages
            .iter()
            .map(|p| (p.package.as_str(), p.dirs.len()))
    }

    #[cfg(test)]
    pub(super) fn paths_of(&self, package: &str) -> Vec<String> {
        self.files()
            .filter(|(p, _, _)| *p == package)
            .map(|(_, dir, name)| format!("{dir}{name}"))
            .collect()
    }
}

/// Builds [`FileLists`], sharing each directory among the packages that use it.
#[derive(Default)]
pub(super) struct FileListsBuilder {
    lists: FileLists,
    index: HashMap<String, u32>,
}

impl FileListsBuilder {
    /// The index of `dir`, which must end in `/`.
    pub(super) fn dir(&mut self, dir: &str) -> u32 {
        if let Some(&i) = self.index.get(dir) {
            return i;
        }
        let i = self.lists.dirs.len() as u32;
        self.lists.dirs.push(dir.to_owned());
        self.index.insert(dir.to_owned(), i);
        i
    }

    /// Records that `package` owns `files`, each a directory index from [`Self::dir`] and a
    /// base name. Names that are empty or hold a NUL are no file's and are left out.
    pub(super) fn add<'a>(
        &mut self,
        package: &str,
        files: impl IntoIterator<Item = (u32, &'a str)>,
    ) {
        let mut entry = PackageFiles {
            package: package.to_owned(),
            names: String::new(),
            dirs: Vec::new(),
        };
        for (dir, name) in files {
            if name.is_empty() || name.contains('\0') || dir as usize >= self.lists.dirs.len() {
                continue;
            }
            entry.names.push_str(name);
            entry.names.push('\0');
            entry.dirs.push(dir);
        }
        if !entry.dirs.is_empty() {
            entry.names.shrink_to_fit();
            entry.dirs.shrink_to_fit();
            self.lists.packages.push(entry);
        }
    }

    pub(super) fn finish(mut self) -> FileLists {
        self.lists.dirs.shrink_to_fit();
        self.lists.packages.shrink_to_fit();
        self.lists
    }
}

/// Splits a path into its directory, with the trailing `/`, and its base name, the way the
/// lists store them.
pub(super) fn split(path: &str) -> Option<(&str, &str)> {
    let cut = path.rfind('/')? + 1;
    Some((&path[..cut], &path[cut..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_are_shared_and_paths_come_back_whole() {
        let mut b = FileListsBuilder::default();
        let bin = b.dir("/usr/bin/");
        let lib = b.dir("/usr/lib/");
        b.add("curl", [(bin, "curl"), (lib, "libcurl.so.4")]);
        assert_eq!(b.dir("/usr/bin/"), bin);
        b.add(
            "bash",
            [(bin, "bash"), (bin, ""), (bin, "a\0b"), (7, "nowhere")],
        );
        b.add("empty", []);
        let lists = b.finish();
        assert_eq!(lists.dirs.len(), 2);
        assert_eq!(
            lists.paths_of("curl"),
            ["/usr/bin/curl", "/usr/lib/libcurl.so.4"]
        );
        assert_eq!(lists.paths_of("bash"), ["/usr/bin/bash"]);
        assert_eq!(
            lists.counts().collect::<Vec<_>>(),
            [("curl", 2), ("bash", 1)]
        );
        assert_eq!(
            lists.packages.len(),
            2,
            "a package without files takes no room"
        );
    }

    #[test]
    fn paths_split_after_the_last_slash() {
        assert_eq!(split("/usr/bin/ls"), Some(("/usr/bin/", "ls")));
        assert_eq!(split("/init"), Some(("/", "init")));
        assert_eq!(split("relative"), None);
    }
}
