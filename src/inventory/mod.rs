//! Stage 3b: what is in the image.
//!
//! Catalogers see files during the same single pass the rules use. Each layer's findings are
//! recorded in its [`LayerInventory`], keyed by the database path, so a layer summary stays
//! self-contained and cacheable. Only at merge ([`Inventory::assemble`]) is it known which
//! databases the final filesystem still holds and which distribution the image is, so that is
//! where package URLs are built.

mod apk;
pub mod binary;
pub mod classifier;
mod dpkg;
mod dpkg_files;
mod dpkg_md5sums;
mod elf;
mod file_lists;
pub(crate) mod go_buildinfo;
mod java;
mod node;
mod os_release;
pub mod package_note;
mod php;
mod python;
mod rpm;
mod ruby;
mod rust_deps;

use crate::event::{FileKind, FileMeta};
use crate::overlay::FileIndex;
use crate::text::purl_encode as encode;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub use binary::Binary;
pub use file_lists::FileLists;
pub use os_release::OsRelease;

/// Reads one kind of file (a package database, `os-release`) into a [`LayerInventory`].
pub trait Cataloger: Send + Sync {
    /// A short name used in warnings.
    fn name(&self) -> &'static str;

    /// True for the files this cataloger reads. Called for every file of every layer, so it must
    /// be a cheap path test.
    fn wants(&self, file: &FileMeta) -> bool;

    /// Parses one file. What could be parsed is recorded even when an `Err` is returned; the
    /// error becomes a warning in the report.
    fn catalog(&self, path: &str, content: &[u8], out: &mut LayerInventory) -> Result<(), String>;

    /// True for files this cataloger reads as a stream instead of as a content slice (binaries
    /// and archives of any size). A cheap test, like [`Cataloger::wants`]. One streaming
    /// cataloger reads a given file: the first in [`CATALOGERS`] that claims it.
    fn streams(&self, _file: &FileMeta) -> bool {
        false
    }

    /// Reads a claimed file from `reader`, keeping only what it needs, within `limits`.
    fn catalog_stream(
        &self,
        _file: &FileMeta,
        _reader: &mut dyn std::io::Read,
        _limits: &crate::limits::Limits,
        _out: &mut LayerInventory,
    ) -> Result<(), CatalogError> {
        Ok(())
    }
}

/// Why a streaming cataloger stopped.
#[derive(Debug)]
pub enum CatalogError {
    /// The layer stream itself failed: the scan cannot be trusted and aborts.
    Read(std::io::Error),
    /// The file is not what the cataloger expected: a warning in the report.
    Parse(String),
}

impl From<std::io::Error> for CatalogError {
    fn from(e: std::io::Error) -> Self {
        CatalogError::Read(e)
    }
}

/// Every cataloger.
pub static CATALOGERS: &[&dyn Cataloger] = &[
    &os_release::OsReleaseCataloger,
    &dpkg::DpkgCataloger,
    &dpkg_files::DpkgFilesCataloger,
    &dpkg_md5sums::DpkgMd5sumsCataloger,
    &apk::ApkCataloger,
    &rpm::RpmCataloger,
    &elf::ElfCataloger,
    &python::PythonCataloger,
    &node::NodeCataloger,
    &ruby::GemCataloger,
    &php::ComposerCataloger,
    &java::JavaCataloger,
];

use crate::text::clip;

/// Records the packages a database's entries parse to, under the database's `path`. Entries
/// that fail to parse are skipped, not fatal: the rest of the database is still true. They are
/// counted into one warning that quotes the first problem; `what` names the entries
/// (`paragraphs`, `package headers`).
fn record_packages<T>(
    path: &str,
    entries: impl IntoIterator<Item = T>,
    mut parse: impl FnMut(T) -> Result<Option<PackageRecord>, String>,
    what: &str,
    out: &mut LayerInventory,
) -> Result<(), String> {
    let mut packages = Vec::new();
    let (mut total, mut bad, mut first_error) = (0usize, 0usize, None);
    for entry in entries {
        total += 1;
        match parse(entry) {
            Ok(Some(p)) => packages.push(p),
            Ok(None) => {}
            Err(e) => {
                bad += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    out.databases.insert(path.to_owned(), packages);
    match first_error {
        None => Ok(()),
        Some(e) => Err(format!(
            "{bad} of {total} {what} are malformed and were skipped (first: {e})"
        )),
    }
}

/// Catalogers read contents, which links and directories do not have.
fn is_file(file: &FileMeta) -> bool {
    file.kind == FileKind::Regular
}

/// The package ecosystem a package belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageKind {
    /// A Debian package from the dpkg database.
    Deb,
    /// An Alpine package from the apk database.
    Apk,
    /// An RPM package from the rpm database.
    Rpm,
    /// A Go module from a binary's build information.
    Golang,
    /// A Rust crate from a binary.
    Cargo,
    /// A Node.js package from `node_modules`.
    Npm,
    /// A Python distribution from `*.dist-info` or `*.egg-info`.
    Pypi,
    /// A Java artifact from a jar's Maven metadata.
    Maven,
    /// A Ruby gem from its gemspec.
    Gem,
    /// A PHP package from Composer's `installed.json`.
    Composer,
    /// A well-known binary that no package database owns, identified by a version classifier.
    Binary,
}

impl PackageKind {
    /// The purl type.
    pub fn purl_type(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Apk => "apk",
            PackageKind::Rpm => "rpm",
            PackageKind::Golang => "golang",
            PackageKind::Cargo => "cargo",
            PackageKind::Npm => "npm",
            PackageKind::Pypi => "pypi",
            PackageKind::Maven => "maven",
            PackageKind::Gem => "gem",
            PackageKind::Composer => "composer",
            PackageKind::Binary => "generic",
        }
    }

    /// True for distribution packages, whose purl namespace and `distro` qualifier come from
    /// the image's `os-release`.
    pub fn is_os(self) -> bool {
        matches!(self, PackageKind::Deb | PackageKind::Apk | PackageKind::Rpm)
    }

    /// The purl namespace used for OS packages when the image has no readable `os-release`.
    fn default_namespace(self) -> Option<&'static str> {
        match self {
            PackageKind::Deb => Some("debian"),
            PackageKind::Apk => Some("alpine"),
            PackageKind::Rpm => Some("redhat"),
            _ => None,
        }
    }
}

/// A package as one database records it, before the merge places it in the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRecord {
    /// Package name.
    pub name: String,
    /// Version exactly as the database spells it (epoch included).
    pub version: String,
    /// Ecosystem.
    #[serde(rename = "type")]
    pub kind: PackageKind,
    /// Architecture (`amd64`, `x86_64`, `all`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The source package it was built from, when it differs or is recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Licence expressions the database records (none for dpkg, whose status file has none).
    #[serde(default)]
    pub licenses: Vec<String>,
    /// Files the database says the package owns. A count, not the list, to keep reports small.
    pub files: usize,
    /// The purl namespace for language packages: Maven group, npm `@scope`, Go module path
    /// prefix, Composer vendor. OS packages take theirs from `os-release` at merge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// For a package inside a nested archive, its path within the file that lists it
    /// (`BOOT-INF/lib/inner.jar`). The merge moves it onto the package's location, so a report's
    /// packages never carry it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
    /// CPE 2.3 names vulnerability databases file this package under, for software whose purl
    /// alone (`pkg:generic/nginx`) matches nothing in them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpes: Vec<String>,
}

impl PackageRecord {
    /// The name an SBOM shows, as each ecosystem's own tools write it: a Go module by its whole
    /// path (`github.com/traefik/traefik/v3`, whose last element alone, `v3`, names nothing), an
    /// npm package with its scope (`@babel/core`), a Composer package with its vendor
    /// (`symfony/console`). Others by their name; a Maven group is CycloneDX's `group`.
    pub fn full_name(&self) -> std::borrow::Cow<'_, str> {
        match &self.namespace {
            Some(ns)
                if !ns.is_empty()
                    && matches!(
                        self.kind,
                        PackageKind::Golang | PackageKind::Npm | PackageKind::Composer
                    ) =>
            {
                format!("{ns}/{}", self.name).into()
            }
            _ => self.name.as_str().into(),
        }
    }
}

/// What the catalogers found in one layer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LayerInventory {
    /// Parsed `os-release` files, keyed by path.
    pub os_release: BTreeMap<String, OsRelease>,
    /// Packages of each package database file, keyed by the database's path.
    pub databases: BTreeMap<String, Vec<PackageRecord>>,
    /// Binaries, keyed by path (path and layer are filled in at merge).
    pub binaries: BTreeMap<String, Binary>,
    /// Files each dpkg package owns, from `/var/lib/dpkg/info/<package>[:<arch>].list` and
    /// keyed by that path; the merge copies live counts onto the `deb` packages and names the
    /// owner of each binary.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub dpkg_files: BTreeMap<String, Vec<String>>,
    /// Files the packages of each rpm and apk database own, keyed by the database's path, which
    /// records them itself, and the files of each distroless package, keyed by the path of its
    /// `status.d/<name>.md5sums`; the merge names the owner of each binary from them.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub file_lists: BTreeMap<String, FileLists>,
}

/// Where a component was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PackageLocation {
    /// The database file that lists it.
    pub path: String,
    /// The 0-based layer that provided that file.
    pub layer: usize,
    /// The nested archive inside `path` that holds it (`BOOT-INF/lib/inner.jar`, or
    /// `lib/a.jar!/lib/b.jar` deeper down).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_in: Option<String>,
}

/// A package installed in the final filesystem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// What the database says.
    #[serde(flatten)]
    pub record: PackageRecord,
    /// Package URL (`pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12`).
    pub purl: String,
    /// Every live database that lists it.
    pub locations: Vec<PackageLocation>,
}

/// What is in the image.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Inventory {
    /// The distribution, from `/etc/os-release` or `/usr/lib/os-release`.
    pub os: Option<OsRelease>,
    /// Installed packages sorted by name, version and purl.
    pub packages: Vec<Package>,
    /// ELF executables and libraries in the final filesystem, sorted by path.
    pub binaries: Vec<Binary>,
}

impl Inventory {
    /// Merges per-layer inventories, keeping only databases that are live in the final
    /// filesystem in the layer that provided them: a database a later layer replaced or deleted
    /// describes packages that are no longer installed.
    pub fn assemble(layers: &[&LayerInventory], files: &FileIndex<'_>) -> Inventory {
        let live_in = |path: &str, layer: usize| files.layer_of(path) == Some(layer);
        // `/etc/os-release` wins; on Debian it is a symlink, which has no parsed entry, so the
        // lookup falls through to the file it points at.
        let os = ["/etc/os-release", "/usr/lib/os-release"]
            .iter()
            .find_map(|path| layers.get(files.layer_of(path)?)?.os_release.get(*path))
            .cloned();
        let mut by_purl: BTreeMap<String, Package> = BTreeMap::new();
        let mut self_descriptions = Vec::new();
        let dpkg_lists = layers.iter().enumerate().any(|(i, layer)| {
            layer
                .dpkg_files
                .keys()
                .any(|path| dpkg_files::package_of(path).is_some() && live_in(path, i))
        });
        // As with info lists, one live md5sums file says the image's writer records them: a
        // paragraph without one is a package that ships no files.
        let md5sums_lists = layers.iter().enumerate().any(|(i, layer)| {
            layer
                .file_lists
                .keys()
                .any(|path| dpkg_md5sums::package_of(path).is_some() && live_in(path, i))
        });
        let mut unlisted_os_database = false;
        for (i, layer) in layers.iter().enumerate() {
            for (path, records) in &layer.databases {
                if !live_in(path, i) {
                    continue;
                }
                let listed = layer.file_lists.contains_key(path)
                    || (dpkg_lists && dpkg::has_info_lists(path))
                    || (md5sums_lists && dpkg::has_md5sums_lists(path));
                for record in records {
                    let purl = purl(record, os.as_ref());
                    let location = PackageLocation {
                        path: path.clone(),
                        layer: i,
                        found_in: record.found_in.clone(),
                    };
                    if describes_itself(record, path, layer) {
                        self_descriptions.push((record, purl, location));
                    } else {
                        unlisted_os_database |= record.kind.is_os() && !listed;
                        add(&mut by_purl, record, purl, location);
                    }
                }
            }
        }
        let owners = owners(layers, files, &live_in);
        // What a file says about itself (a classifier's version match, a `.note.package`)
        // duplicates what the package database that owns it says, with less precision, and a
        // note names the source package (`systemd`), not the one installed (`libsystemd0`).
        // A database that lists no files (distroless status.d without md5sums, a dpkg status
        // without info lists) leaves only the paths the distribution installs into to stand in
        // for ownership.
        for (record, purl, location) in self_descriptions {
            let owned = owners.contains_key(location.path.as_str())
                || (unlisted_os_database && classifier::distribution_path(&location.path));
            if !owned {
                add(&mut by_purl, record, purl, location);
            }
        }
        let mut packages: Vec<Package> = by_purl.into_values().collect();
        fill_dpkg_files(&mut packages, layers, &live_in);
        for p in &mut packages {
            p.locations.sort();
            p.locations.dedup();
        }
        packages.sort_by(|a, b| {
            (&a.record.name, &a.record.version, &a.purl).cmp(&(
                &b.record.name,
                &b.record.version,
                &b.purl,
            ))
        });
        let mut binaries = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            for (path, binary) in &layer.binaries {
                if live_in(path, i) {
                    binaries.push(Binary {
                        path: path.clone(),
                        layer: i,
                        package: owners.get(path.as_str()).map(|&p| p.to_owned()),
                        ..binary.clone()
                    });
                }
            }
        }
        binaries.sort_by(|a, b| a.path.cmp(&b.path));
        Inventory {
            os,
            packages,
            binaries,
        }
    }
}

/// Adds `record`, found at `location`, to the package with its purl.
fn add(
    by_purl: &mut BTreeMap<String, Package>,
    record: &PackageRecord,
    purl: String,
    location: PackageLocation,
) {
    by_purl
        .entry(purl.clone())
        .or_insert_with(|| Package {
            record: PackageRecord {
                found_in: None,
                ..record.clone()
            },
            purl,
            locations: Vec::new(),
        })
        .locations
        .push(location);
}

/// True for a record a file gives of itself rather than a database's entry: a classifier
/// match, or the package an ELF binary's `.note.package` names. Go modules and Rust crates found
/// in a binary are what it was built from, not the binary itself, and stay.
fn describes_itself(record: &PackageRecord, path: &str, layer: &LayerInventory) -> bool {
    record.kind == PackageKind::Binary || (record.kind.is_os() && layer.binaries.contains_key(path))
}

/// The package that owns each binary and each other file a record was found in, from the live
/// file lists of every database. Only those paths are looked up, so the lists are read through
/// once and no index of every owned path is built.
fn owners<'a>(
    layers: &[&'a LayerInventory],
    files: &FileIndex<'_>,
    live_in: &dyn Fn(&str, usize) -> bool,
) -> HashMap<&'a str, &'a str> {
    // A list may name a file through a symlinked directory (`/lib` on merged-/usr systems), so
    // where `/lib` is a symlink a file under `/usr/lib` is also looked for as `/lib/…`.
    let symlinked: Vec<&str> = ["/lib/", "/bin/", "/sbin/", "/lib64/"]
        .into_iter()
        .filter(|dir| {
            files
                .get(dir.trim_end_matches('/'))
                .is_some_and(|f| f.meta.kind == FileKind::Symlink)
        })
        .collect();
    let mut wanted: HashMap<(&str, &str), Vec<&'a str>> = HashMap::new();
    for (i, layer) in layers.iter().enumerate() {
        for path in layer.binaries.keys().chain(layer.databases.keys()) {
            if !live_in(path, i) {
                continue;
            }
            let path = path.as_str();
            let unaliased = path
                .strip_prefix("/usr")
                .filter(|rest| symlinked.iter().any(|dir| rest.starts_with(dir)));
            for name in std::iter::once(path).chain(unaliased) {
                if let Some(key) = file_lists::split(name) {
                    wanted.entry(key).or_default().push(path);
                }
            }
        }
    }
    let mut owners = HashMap::new();
    let mut claim = |package: &'a str, dir: &str, name: &str| {
        if let Some(paths) = wanted.get(&(dir, name)) {
            for path in paths {
                owners.insert(*path, package);
            }
        }
    };
    for (i, layer) in layers.iter().enumerate() {
        for (path, files) in &layer.dpkg_files {
            let Some((package, _)) = dpkg_files::package_of(path).filter(|_| live_in(path, i))
            else {
                continue;
            };
            for (dir, name) in files.iter().filter_map(|f| file_lists::split(f)) {
                claim(package, dir, name);
            }
        }
        for (path, lists) in &layer.file_lists {
            if live_in(path, i) {
                for (package, dir, name) in lists.files() {
                    claim(package, dir, name);
                }
            }
        }
    }
    owners
}

/// Sets `files` of each `deb` package from the live `/var/lib/dpkg/info/<name>[:<arch>].list`
/// or distroless `status.d/<name>.md5sums`.
fn fill_dpkg_files(
    packages: &mut [Package],
    layers: &[&LayerInventory],
    live_in: &dyn Fn(&str, usize) -> bool,
) {
    let mut counts: BTreeMap<(&str, Option<&str>), usize> = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        for (path, files) in &layer.dpkg_files {
            if live_in(path, i)
                && let Some(key) = dpkg_files::package_of(path)
            {
                counts.insert(key, files.len());
            }
        }
        for (path, lists) in &layer.file_lists {
            if dpkg_md5sums::package_of(path).is_some() && live_in(path, i) {
                for (package, count) in lists.counts() {
                    counts.insert((package, None), count);
                }
            }
        }
    }
    if counts.is_empty() {
        return;
    }
    for p in packages
        .iter_mut()
        .filter(|p| p.record.kind == PackageKind::Deb)
    {
        let name = p.record.name.as_str();
        // `Multi-Arch: same` packages have `<name>:<arch>.list`, all others `<name>.list`.
        let count = p
            .record
            .arch
            .as_deref()
            .and_then(|arch| counts.get(&(name, Some(arch))))
            .or_else(|| counts.get(&(name, None)));
        if let Some(&count) = count {
            p.record.files = count;
        }
    }
}

/// Builds a package URL per the purl spec: `pkg:type/namespace/name@version?qualifiers`, with
/// qualifiers sorted by key.
pub fn purl(record: &PackageRecord, os: Option<&OsRelease>) -> String {
    let os = os.filter(|o| record.kind.is_os() && !o.id.is_empty());
    let namespace = match os {
        Some(o) => Some(o.id.clone()),
        None => record
            .namespace
            .clone()
            .or_else(|| record.kind.default_namespace().map(str::to_owned)),
    };
    let mut out = format!("pkg:{}/", record.kind.purl_type());
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        // Namespace segments are encoded one by one: a Go module path keeps its slashes.
        let segments: Vec<String> = ns.split('/').map(encode).collect();
        out.push_str(&segments.join("/"));
        out.push('/');
    }
    // rpm versions carry their epoch as the `epoch` qualifier, per the purl spec's rpm type.
    let (epoch, version) = match record.version.split_once(':') {
        Some((e, v))
            if record.kind == PackageKind::Rpm && e.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (Some(e), v)
        }
        _ => (None, record.version.as_str()),
    };
    out.push_str(&encode(&record.name));
    // A package known only by name (a Go program built outside version control) has a purl
    // without a version, which the spec allows, rather than a made-up one.
    if !version.is_empty() {
        out.push('@');
        out.push_str(&encode(version));
    }
    let mut qualifiers = Vec::new();
    if let Some(arch) = &record.arch {
        qualifiers.push(format!("arch={}", encode(arch)));
    }
    if let Some(os) = os {
        let distro = match &os.version_id {
            Some(v) => format!("{}-{v}", os.id),
            None => os.id.clone(),
        };
        qualifiers.push(format!("distro={}", encode(&distro)));
    }
    if let Some(epoch) = epoch {
        qualifiers.push(format!("epoch={epoch}"));
    }
    if !qualifiers.is_empty() {
        out.push('?');
        out.push_str(&qualifiers.join("&"));
    }
    out
}

/// `MAJOR.MINOR.PATCH` optionally followed by `-pre` or `+build`.
fn is_semver(v: &str) -> bool {
    let core_end = v.find(['-', '+']).unwrap_or(v.len());
    let core: Vec<&str> = v[..core_end].split('.').collect();
    core.len() == 3
        && core
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && (core_end == v.len() || v.len() > core_end + 1)
}

/// Splits a control-file style text (dpkg status, `os-release` aside) into blank-line separated
/// paragraphs of lines.
fn paragraphs(text: &str) -> impl Iterator<Item = Vec<&str>> {
    let mut lines = text.lines().peekable();
    std::iter::from_fn(move || {
        while lines.peek().is_some_and(|l| l.trim().is_empty()) {
            lines.next();
        }
        let mut para = Vec::new();
        while let Some(l) = lines.next_if(|l| !l.trim().is_empty()) {
            para.push(l);
        }
        (!para.is_empty()).then_some(para)
    })
}

/// The name and file count of each package of an image whose layers hold `layers`' (path,
/// content) files, cataloged as a scan catalogs them, and the warnings the layers gave.
#[cfg(test)]
fn file_counts(layers: &[&[(&str, &[u8])]]) -> (Vec<(String, usize)>, Vec<String>) {
    let options = crate::scan::ScanOptions::default();
    let records: Vec<_> = layers
        .iter()
        .map(|entries| {
            let files: Vec<_> = entries.iter().map(|(p, d)| (*p, *d, 0o644)).collect();
            crate::scan::record_of(&crate::layer::tar_of(&files), &options)
        })
        .collect();
    let inventories: Vec<_> = records.iter().map(|l| &l.inventory).collect();
    let files = FileIndex::build(records.iter().map(|l| &l.content));
    let counts = Inventory::assemble(&inventories, &files)
        .packages
        .into_iter()
        .map(|p| (p.record.name, p.record.files))
        .collect();
    let warnings = records.into_iter().flat_map(|l| l.warnings).collect();
    (counts, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, version: &str, kind: PackageKind, arch: &str) -> PackageRecord {
        PackageRecord {
            name: name.into(),
            version: version.into(),
            kind,
            arch: Some(arch.into()),
            source: None,
            licenses: Vec::new(),
            files: 0,
            namespace: None,
            found_in: None,
            cpes: Vec::new(),
        }
    }

    #[test]
    fn language_purls_keep_namespaces_and_drop_distro() {
        let debian = OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            pretty_name: None,
        };
        let mut go = record("x", "v0.1.0", PackageKind::Golang, "amd64");
        go.arch = None;
        go.namespace = Some("golang.org/x".into());
        assert_eq!(purl(&go, Some(&debian)), "pkg:golang/golang.org/x/x@v0.1.0");
        let mut npm = record("core", "7.0.0", PackageKind::Npm, "");
        npm.arch = None;
        npm.namespace = Some("@babel".into());
        assert_eq!(purl(&npm, None), "pkg:npm/%40babel/core@7.0.0");
    }

    #[test]
    fn sbom_names_are_what_each_ecosystem_calls_its_packages() {
        let named = |name: &str, namespace: Option<&str>, kind| {
            let mut r = record(name, "1", kind, "");
            r.namespace = namespace.map(str::to_owned);
            r.full_name().into_owned()
        };
        assert_eq!(
            named(
                "v3",
                Some("github.com/traefik/traefik"),
                PackageKind::Golang
            ),
            "github.com/traefik/traefik/v3"
        );
        assert_eq!(
            named("core", Some("@babel"), PackageKind::Npm),
            "@babel/core"
        );
        assert_eq!(
            named("console", Some("symfony"), PackageKind::Composer),
            "symfony/console"
        );
        assert_eq!(
            named(
                "commons-lang3",
                Some("org.apache.commons"),
                PackageKind::Maven
            ),
            "commons-lang3"
        );
        assert_eq!(named("stdlib", None, PackageKind::Golang), "stdlib");
        assert_eq!(
            named("openssl", Some("debian"), PackageKind::Deb),
            "openssl"
        );
    }

    #[test]
    fn purls_follow_the_spec_examples() {
        let debian = OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            pretty_name: None,
        };
        let alpine = OsRelease {
            id: "alpine".into(),
            version_id: Some("3.19".into()),
            pretty_name: None,
        };
        assert_eq!(
            purl(
                &record("openssl", "3.0.11-1~deb12u2", PackageKind::Deb, "amd64"),
                Some(&debian)
            ),
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            purl(
                &record("musl", "1.2.4-r2", PackageKind::Apk, "x86_64"),
                Some(&alpine)
            ),
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19"
        );
        assert_eq!(
            purl(
                &record("libc6", "1:2.36+b1", PackageKind::Deb, "amd64"),
                None
            ),
            "pkg:deb/debian/libc6@1%3A2.36%2Bb1?arch=amd64"
        );
    }

    #[test]
    fn dpkg_lists_name_binary_owners_and_suppress_classifier_duplicates() {
        let meta = |path: &str| FileMeta {
            path: path.into(),
            kind: FileKind::Regular,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 1,
            link_target: None,
        };
        let mut inv = LayerInventory::default();
        // Merged /usr: the list says /bin/ls, the file lives at /usr/bin/ls.
        inv.dpkg_files.insert(
            "/var/lib/dpkg/info/coreutils.list".into(),
            vec!["/bin/ls".into()],
        );
        inv.binaries.insert("/usr/bin/ls".into(), Binary::default());
        inv.binaries.insert("/opt/tool".into(), Binary::default());
        let mut busybox = record("busybox", "1.36.1", PackageKind::Binary, "");
        busybox.arch = None;
        inv.databases
            .insert("/usr/bin/ls".into(), vec![busybox.clone()]);
        inv.databases.insert("/opt/tool".into(), vec![busybox]);
        let layers = vec![crate::layer::LayerContent {
            files: [
                FileMeta {
                    kind: FileKind::Symlink,
                    link_target: Some("usr/bin".into()),
                    ..meta("/bin")
                },
                meta("/var/lib/dpkg/info/coreutils.list"),
                meta("/usr/bin/ls"),
                meta("/opt/tool"),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        }];
        let files = FileIndex::build(&layers);
        let inventory = Inventory::assemble(&[&inv], &files);
        let owners: Vec<_> = inventory
            .binaries
            .iter()
            .map(|b| (b.path.as_str(), b.package.as_deref()))
            .collect();
        assert_eq!(
            owners,
            [("/opt/tool", None), ("/usr/bin/ls", Some("coreutils"))]
        );
        let found: Vec<_> = inventory
            .packages
            .iter()
            .flat_map(|p| &p.locations)
            .map(|l| l.path.as_str())
            .collect();
        assert_eq!(
            found,
            ["/opt/tool"],
            "the owned file's classifier match is dropped"
        );
    }

    /// (path, package name) pairs.
    type Found = Vec<(String, String)>;
    /// (binary path, owning package) pairs.
    type Owners = Vec<(String, Option<String>)>;

    /// The packages found at each path, and the owner each binary is given.
    fn assembled(inv: &LayerInventory) -> (Found, Owners) {
        let paths: std::collections::BTreeSet<_> = inv
            .databases
            .keys()
            .chain(inv.binaries.keys())
            .chain(inv.file_lists.keys())
            .collect();
        let layers = vec![crate::layer::LayerContent {
            files: paths.into_iter().map(|p| FileMeta::test_file(p)).collect(),
            ..Default::default()
        }];
        let files = FileIndex::build(&layers);
        let inventory = Inventory::assemble(&[inv], &files);
        let found = inventory
            .packages
            .iter()
            .flat_map(|p| {
                p.locations
                    .iter()
                    .map(|l| (l.path.clone(), p.record.name.clone()))
            })
            .collect();
        let owners = inventory
            .binaries
            .into_iter()
            .map(|b| (b.path, b.package))
            .collect();
        (found, owners)
    }

    /// A layer where the `busybox` classifier matched both `/usr/bin/busybox` and a copy of it
    /// at `/bin/busybox`, with an OS package database at `database`.
    fn two_busyboxes(database: &str, kind: PackageKind) -> LayerInventory {
        let mut inv = LayerInventory::default();
        let mut busybox = record("busybox", "1.36.1", PackageKind::Binary, "");
        busybox.arch = None;
        for path in ["/usr/bin/busybox", "/bin/busybox"] {
            inv.binaries.insert(path.into(), Binary::default());
            inv.databases.insert(path.into(), vec![busybox.clone()]);
        }
        inv.databases.insert(
            database.into(),
            vec![record("busybox-pkg", "1.36.1-1", kind, "x86_64")],
        );
        inv
    }

    #[test]
    fn rpm_apk_and_distroless_lists_name_owners_and_keep_unowned_classifier_matches() {
        let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
        };
        for (database, lists_at, kind) in [
            ("/var/lib/rpm/rpmdb.sqlite", None, PackageKind::Rpm),
            ("/lib/apk/db/installed", None, PackageKind::Apk),
            (
                "/var/lib/dpkg/status.d/busybox-pkg",
                Some("/var/lib/dpkg/status.d/busybox-pkg.md5sums"),
                PackageKind::Deb,
            ),
        ] {
            let mut inv = two_busyboxes(database, kind);
            let mut lists = file_lists::FileListsBuilder::default();
            let bin = lists.dir("/usr/bin/");
            lists.add("busybox-pkg", [(bin, "busybox")]);
            inv.file_lists
                .insert(lists_at.unwrap_or(database).into(), lists.finish());
            let (found, owners) = assembled(&inv);
            assert_eq!(
                found,
                pairs(&[("/bin/busybox", "busybox"), (database, "busybox-pkg")]),
                "{database}: the owned file's match is the package's; the copy's is kept"
            );
            assert_eq!(
                owners,
                [
                    ("/bin/busybox".into(), None),
                    ("/usr/bin/busybox".into(), Some("busybox-pkg".into()))
                ],
                "{database}"
            );
        }
    }

    #[test]
    fn without_file_lists_distribution_paths_stand_in_for_ownership() {
        // distroless before md5sums: status.d paragraphs, no lists.
        let inv = two_busyboxes("/var/lib/dpkg/status.d/busybox", PackageKind::Deb);
        let (found, owners) = assembled(&inv);
        assert_eq!(
            found,
            [(
                "/var/lib/dpkg/status.d/busybox".to_owned(),
                "busybox-pkg".to_owned()
            )]
        );
        assert!(owners.iter().all(|(_, owner)| owner.is_none()));
    }

    #[test]
    fn package_notes_of_owned_files_are_dropped_and_built_in_modules_kept() {
        let meta = FileMeta::test_file;
        const LIB: &str = "/usr/lib/x86_64-linux-gnu/libsystemd.so.0.35.0";
        // The note Debian 12's libsystemd0 carries.
        let note: package_note::PackageNote = serde_json::from_str(
            r#"{"type":"deb","os":"Debian","name":"systemd","version":"252.38-1~deb12u1","architecture":"amd64","debugInfoUrl":"https://debuginfod.debian.net"}"#,
        )
        .unwrap();
        let mut module = record("x", "v0.1.0", PackageKind::Golang, "");
        module.arch = None;
        let library = || {
            let mut inv = LayerInventory::default();
            inv.binaries.insert(LIB.into(), Binary::default());
            inv.databases
                .insert(LIB.into(), vec![note.record(), module.clone()]);
            inv
        };
        let names = |inv: &LayerInventory, paths: &[&str]| {
            let layers = vec![crate::layer::LayerContent {
                files: paths.iter().map(|p| meta(p)).collect(),
                ..Default::default()
            }];
            let files = FileIndex::build(&layers);
            let inventory = Inventory::assemble(&[inv], &files);
            inventory
                .packages
                .iter()
                .map(|p| p.record.name.clone())
                .collect::<Vec<_>>()
        };

        let mut owned = library();
        owned.databases.insert(
            "/var/lib/dpkg/status".into(),
            vec![record(
                "libsystemd0",
                "252.38-1~deb12u1",
                PackageKind::Deb,
                "amd64",
            )],
        );
        owned.dpkg_files.insert(
            "/var/lib/dpkg/info/libsystemd0:amd64.list".into(),
            vec![LIB.into()],
        );
        let paths = [
            LIB,
            "/var/lib/dpkg/status",
            "/var/lib/dpkg/info/libsystemd0:amd64.list",
        ];
        assert_eq!(names(&owned, &paths), ["libsystemd0", "x"]);

        // A library copied into an image without a package database is only known by its note,
        // and the note alone does not make the image one a distribution manages.
        assert_eq!(names(&library(), &[LIB]), ["systemd", "x"]);
    }

    #[test]
    fn paragraphs_skip_runs_of_blank_lines() {
        let p: Vec<_> = paragraphs("\n\na: 1\nb: 2\n\n \n\nc: 3").collect();
        assert_eq!(p, vec![vec!["a: 1", "b: 2"], vec!["c: 3"]]);
    }
}
