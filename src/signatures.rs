//! Detection data compiled into the binary: secret patterns, build-tool evidence and package-cache
//! locations, kept as TOML under `signatures/` so they read as data and are tested as data.
//!
//! Each file is parsed and compiled once, on first use. A bad record panics there, but the unit
//! tests below parse every file and run every example, so bad data fails `cargo test`, never a
//! user's scan. Examples are only deserialized under test; release builds ignore those keys.

use crate::finding::{Severity, redact};
use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::{LazyLock, OnceLock};

/// A digest of all the signature data compiled in: layer records made with other data are not
/// reused.
pub static DATA_DIGEST: LazyLock<crate::digest::Digest> = LazyLock::new(|| {
    let all = [SECRETS, BUILD_TOOLS, PACKAGE_CACHES, BINARIES, GO_PROGRAMS].join("\0");
    crate::digest::Digest::of(all.as_bytes())
});

const SECRETS: &str = include_str!("../signatures/secrets.toml");
const BUILD_TOOLS: &str = include_str!("../signatures/build_tools.toml");
const PACKAGE_CACHES: &str = include_str!("../signatures/package_caches.toml");

/// A kind of secret and how to spot it.
#[derive(Debug)]
pub struct SecretPattern {
    /// Stable id, like `github-pat`.
    pub id: String,
    /// What it is, for messages: `GitHub token`.
    pub title: String,
    /// How bad a leak of it is.
    pub severity: Severity,
    keywords: Vec<String>,
    regex: Regex,
    assignment: bool,
}

/// One secret found in a text.
#[derive(Debug, Clone, Copy)]
pub struct SecretMatch<'t> {
    /// What kind of secret it is.
    pub pattern: &'static SecretPattern,
    /// The secret itself: show it only through [`redact`].
    pub secret: &'t str,
    /// For a match made by its name alone, what the name calls it (`password`, `API key`).
    kind: Option<&'static str>,
    start: usize,
    end: usize,
}

impl SecretMatch<'_> {
    /// What was found, for messages: `GitHub token`, `password assignment`.
    pub fn title(&self) -> Cow<'static, str> {
        match self.kind {
            Some(kind) => Cow::Owned(format!("{kind} assignment")),
            None => Cow::Borrowed(self.pattern.title.as_str()),
        }
    }
}

/// Every secret pattern, most specific first.
pub static SECRET_PATTERNS: LazyLock<Vec<SecretPattern>> = LazyLock::new(|| {
    let file: SecretsFile = toml::from_str(SECRETS).expect("signatures/secrets.toml is valid");
    file.secret
        .into_iter()
        .map(|r| SecretPattern {
            regex: Regex::new(&r.regex).expect("signatures/secrets.toml is valid"),
            id: r.id,
            title: r.title,
            severity: r.severity,
            keywords: r.keywords,
            assignment: r.assignment,
        })
        .collect()
});

/// The pattern that reports `NAME=value` credentials by their name; its severity is the one for
/// any credential only a name points at.
pub fn assignment_pattern() -> &'static SecretPattern {
    SECRET_PATTERNS
        .iter()
        .find(|p| p.assignment)
        .expect("signatures/secrets.toml has an assignment record")
}

/// The secrets in `text`, in the order they appear. Where two patterns find the same value the
/// earlier, more specific, pattern keeps it.
pub fn find_secrets(text: &str) -> Vec<SecretMatch<'_>> {
    // One lowercase copy makes every keyword test a plain substring search, and most texts
    // contain no keyword at all, so most regexes never run.
    let lower = text.to_ascii_lowercase();
    let mut found: Vec<SecretMatch<'_>> = Vec::new();
    for pattern in SECRET_PATTERNS.iter() {
        if !pattern.keywords.iter().any(|k| lower.contains(k.as_str())) {
            continue;
        }
        for caps in pattern.regex.captures_iter(text) {
            let Some(m) = caps.name("secret").or_else(|| caps.get(0)) else {
                continue;
            };
            let kind = match (pattern.assignment, caps.name("name")) {
                (true, Some(name)) => match credential_by_name(name.as_str(), m.as_str()) {
                    Some(kind) => Some(kind),
                    None => continue,
                },
                _ => None,
            };
            if found.iter().any(|f| m.start() < f.end && f.start < m.end()) {
                continue;
            }
            found.push(SecretMatch {
                pattern,
                secret: m.as_str(),
                kind,
                start: m.start(),
                end: m.end(),
            });
        }
    }
    found.sort_by_key(|f| f.start);
    found
}

/// How `NAME=value` pairs are judged when only the name points at a credential.
struct AssignmentRules {
    kinds: Vec<[String; 2]>,
    about: Vec<String>,
    settings: Vec<String>,
}

static ASSIGNMENT_RULES: LazyLock<AssignmentRules> = LazyLock::new(|| {
    let file: SecretsFile = toml::from_str(SECRETS).expect("signatures/secrets.toml is valid");
    let rules = file.assignment;
    AssignmentRules {
        kinds: rules.kinds,
        about: rules.about,
        settings: rules.settings,
    }
});

/// What the credential in `name=value` is called (`password`, `API key`) when the name says the
/// value is one and the value could be: `None` for names without a credential part, for names
/// about a credential (`TOKEN_URL`, `PASSWORD_FILE`, `SECRET_ARN`) and for values that are
/// settings or references (numbers, booleans, versions, paths, ARNs, URLs without userinfo,
/// `$VARIABLES`).
pub fn credential_by_name(name: &str, value: &str) -> Option<&'static str> {
    let rules: &'static AssignmentRules = &ASSIGNMENT_RULES;
    let name = name_words(name);
    let kind = rules
        .kinds
        .iter()
        .find(|[part, _]| name.contains(part.as_str()))?[1]
        .as_str();
    // What follows the last credential part decides: in SECRET_ACCESS_KEY_ID it is `ID`.
    let after = rules
        .kinds
        .iter()
        .filter_map(|[part, _]| name.rfind(part.as_str()).map(|at| at + part.len()))
        .max()?;
    if name[after..]
        .split('_')
        .any(|word| rules.about.iter().any(|a| a == word))
    {
        return None;
    }
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    let setting = (kind != "password" && is_number(value)) || is_setting(rules, value);
    (!setting).then_some(kind)
}

/// True when `value` is a setting or a reference rather than a credential, whatever its name
/// says: empty, a number, a boolean-like word, a version, a duration, a path, an ARN, a URL
/// without userinfo or a `$VARIABLE`. For names that are credentials by convention
/// (`AWS_ACCESS_KEY_ID`), where only the value can say it is not one.
pub fn is_setting_value(value: &str) -> bool {
    let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
    is_number(value) || is_setting(&ASSIGNMENT_RULES, value)
}

fn is_setting(rules: &AssignmentRules, value: &str) -> bool {
    value.is_empty()
        || is_reference(value)
        || rules.settings.iter().any(|s| value.eq_ignore_ascii_case(s))
        || is_version(value)
        || is_duration(value)
}

/// `name` lowercase, camelCase split and `-`/`.` read as `_`: `clientSecretUrl` becomes
/// `client_secret_url`, `--api-key` `__api_key`.
fn name_words(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            out.push('_');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(match c {
            '-' | '.' => '_',
            c => c.to_ascii_lowercase(),
        });
    }
    out
}

/// A value that points at a credential kept elsewhere instead of being one.
fn is_reference(value: &str) -> bool {
    if let Some((_, rest)) = value.split_once("://") {
        // Userinfo makes a URL a credential: `https://user:pass@host`, `https://TOKEN@host`.
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        return !authority.contains('@');
    }
    value.starts_with('$')
        || value.contains("${")
        || value.starts_with("{{")
        || value.starts_with('<')
        || value.starts_with("arn:")
        || value.starts_with('/')
        || value.starts_with("./")
        || value.starts_with("../")
        || value.starts_with("~/")
}

fn is_number(value: &str) -> bool {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.matches('.').count() <= 1
}

/// `3.12.1`, `v1.22.0`, `16.2-1.pgdg120+1`, `1.25.4-1~bookworm`: numbers joined by dots, then
/// anything a packager appends.
fn is_version(value: &str) -> bool {
    static VERSION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[vV]?[0-9]+(?:\.[0-9]+)+(?:[-+~][0-9A-Za-z.+~-]*)?$").expect("valid regex")
    });
    VERSION.is_match(value)
}

/// `30s`, `15m`, `12h`, `7d`, `500ms`.
fn is_duration(value: &str) -> bool {
    let unit_at = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    unit_at > 0 && matches!(&value[unit_at..], "ms" | "s" | "m" | "h" | "d" | "w")
}

/// `text` with every secret replaced by its redacted form, for quoting text that may hold one
/// (a build instruction, say).
pub fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in find_secrets(text) {
        out.push_str(&text[last..m.start]);
        out.push_str(&redact(m.secret));
        last = m.end;
    }
    out.push_str(&text[last..]);
    out
}

/// What a piece of build-time evidence shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildEvidence {
    /// Compilers, build tools, development headers.
    Toolchain,
    /// Source files.
    Sources,
    /// Version-control metadata.
    Vcs,
}

/// A build-time file the final image should not need.
#[derive(Debug)]
pub struct BuildPath {
    /// Stable id, like `gcc`.
    pub id: String,
    /// What it is, for messages.
    pub title: String,
    /// What it shows.
    pub kind: BuildEvidence,
    /// How many files must match before the record counts.
    pub min_count: usize,
    exclude: PathGlobs,
}

/// A build command in the image history.
#[derive(Debug)]
pub struct BuildCommand {
    /// Stable id, like `go-build`.
    pub id: String,
    /// What it is, for messages.
    pub title: String,
    regex: Regex,
}

impl BuildCommand {
    /// True when `created_by` runs this command.
    pub fn is_match(&self, created_by: &str) -> bool {
        self.regex.is_match(created_by)
    }
}

/// `signatures/build_tools.toml`, compiled.
#[derive(Debug)]
pub struct BuildTools {
    /// File evidence, in file order.
    pub paths: Vec<BuildPath>,
    /// History evidence, in file order.
    pub commands: Vec<BuildCommand>,
    table: GlobTable,
}

impl BuildTools {
    /// The index in [`BuildTools::paths`] of the first record `path` matches.
    pub fn path_record(&self, path: &str) -> Option<usize> {
        self.table
            .first_match(path, |i, p| !self.paths[i].exclude.excluded(p))
    }
}

/// Build-tool evidence.
pub static BUILD_TOOLS_DATA: LazyLock<BuildTools> = LazyLock::new(|| {
    let file: BuildToolsFile =
        toml::from_str(BUILD_TOOLS).expect("signatures/build_tools.toml is valid");
    let mut table = GlobTableBuilder::new();
    let paths = file
        .path
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            for g in &r.globs {
                table
                    .add(g, i)
                    .expect("signatures/build_tools.toml is valid");
            }
            BuildPath {
                exclude: PathGlobs::new(&r.exclude).expect("signatures/build_tools.toml is valid"),
                id: r.id,
                title: r.title,
                kind: r.kind,
                min_count: r.min_count,
            }
        })
        .collect();
    let commands = file
        .command
        .into_iter()
        .map(|r| BuildCommand {
            regex: Regex::new(&r.regex).expect("signatures/build_tools.toml is valid"),
            id: r.id,
            title: r.title,
        })
        .collect();
    BuildTools {
        paths,
        commands,
        table: table.build().expect("signatures/build_tools.toml is valid"),
    }
});

/// A package manager whose cache should not ship.
#[derive(Debug)]
pub struct CacheEcosystem {
    /// Like `apt`.
    pub id: String,
    /// The command that cleans the cache.
    pub clean: String,
}

/// `signatures/package_caches.toml`, compiled.
#[derive(Debug)]
pub struct PackageCaches {
    /// Ecosystems, in file order.
    pub ecosystems: Vec<CacheEcosystem>,
    places: Vec<CachePlace>,
    table: GlobTable,
}

#[derive(Debug)]
struct CachePlace {
    ecosystem: usize,
    dir: GlobMatcher,
    exclude: PathGlobs,
}

impl PackageCaches {
    /// For a cached file: the index of its ecosystem and the cache directory it is in.
    pub fn locate<'p>(&self, path: &'p str) -> Option<(usize, &'p str)> {
        let place = self
            .table
            .first_match(path, |i, p| {
                !self.places[i]
                    .exclude
                    .excluded_under(&self.places[i].dir, p)
            })
            .map(|i| &self.places[i])?;
        // The shortest ancestor the directory glob matches is the one to clean: for
        // `**/.cache/pip` and `/root/.cache/pip/http/x` that is `/root/.cache/pip`.
        let dir = ancestors(path).find(|a| place.dir.is_match(a))?;
        Some((place.ecosystem, dir))
    }
}

/// Package-cache locations.
pub static PACKAGE_CACHES_DATA: LazyLock<PackageCaches> = LazyLock::new(|| {
    let file: CachesFile =
        toml::from_str(PACKAGE_CACHES).expect("signatures/package_caches.toml is valid");
    let mut table = GlobTableBuilder::new();
    let mut ecosystems = Vec::new();
    let mut places = Vec::new();
    for (e, eco) in file.ecosystem.into_iter().enumerate() {
        for place in eco.place {
            for f in &place.files {
                table
                    .add(&format!("{}/{f}", place.dir), places.len())
                    .expect("signatures/package_caches.toml is valid");
            }
            places.push(CachePlace {
                ecosystem: e,
                dir: glob(&place.dir)
                    .expect("signatures/package_caches.toml is valid")
                    .compile_matcher(),
                exclude: PathGlobs::new(&place.exclude)
                    .expect("signatures/package_caches.toml is valid"),
            });
        }
        ecosystems.push(CacheEcosystem {
            id: eco.id,
            clean: eco.clean,
        });
    }
    PackageCaches {
        ecosystems,
        places,
        table: table
            .build()
            .expect("signatures/package_caches.toml is valid"),
    }
});

/// The proper ancestors of an absolute path, shortest first: `/a/b/c` gives `/a`, `/a/b`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').skip(1).map(|(i, _)| &path[..i])
}

/// Path-aware globs: `*` stops at `/`, `**` crosses it, as in a shell.
fn glob(pattern: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(pattern).literal_separator(true).build()
}

/// Exclusion globs of one record.
#[derive(Debug)]
struct PathGlobs(GlobSet);

impl PathGlobs {
    fn new(patterns: &[String]) -> Result<Self, globset::Error> {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            b.add(glob(p)?);
        }
        Ok(PathGlobs(b.build()?))
    }

    fn excluded(&self, path: &str) -> bool {
        self.0.is_match(path)
    }

    /// Exclusions relative to the cache directory `path` is in.
    fn excluded_under(&self, dir: &GlobMatcher, path: &str) -> bool {
        !self.0.is_empty()
            && ancestors(path)
                .find(|a| dir.is_match(a))
                .is_some_and(|a| self.0.is_match(&path[a.len() + 1..]))
    }
}

/// Every record's globs in one set, so a path is tested against all records in one go.
#[derive(Debug)]
struct GlobTable {
    set: GlobSet,
    /// The record each glob of `set` belongs to.
    owner: Vec<usize>,
}

impl GlobTable {
    /// The lowest-numbered record that matches `path` and that `keep` accepts.
    fn first_match(&self, path: &str, keep: impl Fn(usize, &str) -> bool) -> Option<usize> {
        // `is_match` needs no allocation, and almost no path matches at all.
        if !self.set.is_match(path) {
            return None;
        }
        let mut records: Vec<usize> = self
            .set
            .matches(path)
            .into_iter()
            .map(|g| self.owner[g])
            .collect();
        records.sort_unstable();
        records.into_iter().find(|&r| keep(r, path))
    }
}

struct GlobTableBuilder {
    set: GlobSetBuilder,
    owner: Vec<usize>,
}

impl GlobTableBuilder {
    fn new() -> Self {
        GlobTableBuilder {
            set: GlobSetBuilder::new(),
            owner: Vec::new(),
        }
    }

    fn add(&mut self, pattern: &str, record: usize) -> Result<(), globset::Error> {
        self.set.add(glob(pattern)?);
        self.owner.push(record);
        Ok(())
    }

    fn build(self) -> Result<GlobTable, globset::Error> {
        Ok(GlobTable {
            set: self.set.build()?,
            owner: self.owner,
        })
    }
}

// The raw TOML shapes. Unknown keys are rejected under test only, because the examples they carry
// are only deserialized there.

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct SecretsFile {
    assignment: RawAssignment,
    secret: Vec<RawSecret>,
}

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct RawAssignment {
    kinds: Vec<[String; 2]>,
    about: Vec<String>,
    settings: Vec<String>,
    #[cfg(test)]
    examples: Vec<String>,
    #[cfg(test)]
    counterexamples: Vec<String>,
}

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct RawSecret {
    id: String,
    title: String,
    severity: Severity,
    keywords: Vec<String>,
    regex: String,
    #[serde(default)]
    assignment: bool,
    #[cfg(test)]
    #[serde(default)]
    examples: Vec<String>,
    #[cfg(test)]
    #[serde(default)]
    counterexamples: Vec<String>,
}

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct BuildToolsFile {
    path: Vec<RawBuildPath>,
    command: Vec<RawBuildCommand>,
}

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct RawBuildPath {
    id: String,
    kind: BuildEvidence,
    title: String,
    globs: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[serde(default = "one")]
    min_count: usize,
    #[cfg(test)]
    #[serde(default)]
    examples: Vec<String>,
    #[cfg(test)]
    #[serde(default)]
    counterexamples: Vec<String>,
}

fn one() -> usize {
    1
}

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct RawBuildCommand {
    id: String,
    title: String,
    regex: String,
    #[cfg(test)]
    #[serde(default)]
    examples: Vec<String>,
    #[cfg(test)]
    #[serde(default)]
    counterexamples: Vec<String>,
}

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct CachesFile {
    ecosystem: Vec<RawEcosystem>,
}

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct RawEcosystem {
    id: String,
    clean: String,
    place: Vec<RawPlace>,
}

#[derive(Deserialize)]
#[cfg_attr(test, serde(deny_unknown_fields))]
struct RawPlace {
    dir: String,
    #[serde(default = "everything")]
    files: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
    #[cfg(test)]
    #[serde(default)]
    examples: Vec<String>,
    #[cfg(test)]
    #[serde(default)]
    counterexamples: Vec<String>,
}

fn everything() -> Vec<String> {
    vec!["**".to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn assert_unique<'a>(file: &str, ids: impl IntoIterator<Item = &'a str>) {
        let mut seen = HashSet::new();
        for id in ids {
            assert!(seen.insert(id), "{file}: duplicate id {id}");
        }
    }

    #[test]
    fn secret_examples_match_and_counterexamples_do_not() {
        let file: SecretsFile = toml::from_str(SECRETS).unwrap();
        assert_unique("secrets.toml", file.secret.iter().map(|r| r.id.as_str()));
        assert_eq!(file.secret.len(), SECRET_PATTERNS.len());
        for raw in &file.secret {
            assert!(!raw.examples.is_empty(), "{} has no examples", raw.id);
            assert!(
                raw.keywords.iter().all(|k| *k == k.to_ascii_lowercase()),
                "{}: keywords are matched against lowercased text, so must be lowercase",
                raw.id
            );
            for example in &raw.examples {
                let found = find_secrets(example);
                assert!(
                    found.iter().any(|m| m.pattern.id == raw.id),
                    "{}: example {example:?} not found (found {:?})",
                    raw.id,
                    found.iter().map(|m| &m.pattern.id).collect::<Vec<_>>()
                );
            }
            for counter in &raw.counterexamples {
                assert!(
                    find_secrets(counter).iter().all(|m| m.pattern.id != raw.id),
                    "{}: counterexample {counter:?} matched",
                    raw.id
                );
            }
        }
    }

    #[test]
    fn assignment_examples_are_credentials_and_counterexamples_are_not() {
        let file: SecretsFile = toml::from_str(SECRETS).unwrap();
        let rules = &file.assignment;
        assert!(
            rules
                .kinds
                .iter()
                .chain(
                    rules
                        .about
                        .iter()
                        .map(|a| [a.clone(), a.clone()])
                        .collect::<Vec<_>>()
                        .iter()
                )
                .all(|[part, _]| *part == part.to_ascii_lowercase() && !part.contains(['-', '.'])),
            "names are compared lowercase with `_` between words"
        );
        for example in &rules.examples {
            let (name, value) = example.split_once('=').unwrap();
            assert!(
                credential_by_name(name, value).is_some(),
                "example {example:?} is not a credential"
            );
        }
        for counter in &rules.counterexamples {
            let (name, value) = counter.split_once('=').unwrap();
            assert_eq!(
                credential_by_name(name, value),
                None,
                "counterexample {counter:?}"
            );
        }
        assert_eq!(
            credential_by_name("apiKey", "Zm9vYmFyYmF6"),
            Some("API key")
        );
        assert_eq!(credential_by_name("PGPASSWORD", "x"), Some("password"));
        assert_eq!(
            credential_by_name("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"),
            Some("access key")
        );
    }

    #[test]
    fn name_only_matches_say_what_the_name_calls_them() {
        let titles = |text: &str| -> Vec<String> {
            find_secrets(text)
                .iter()
                .map(|m| m.title().into_owned())
                .collect()
        };
        assert_eq!(
            titles(
                "aws_access_key_id = AKIA1234567890ABCDEF\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            ),
            ["AWS access key ID", "AWS secret access key"]
        );
        assert_eq!(
            titles(
                "DB_PASSWORD=hunter2hunter2 API_TOKEN=9f8c2e1d7b6a --api-key=Zm9vYmFy SECRET_KEY_BASE=0a1b2c3d4e5f"
            ),
            [
                "password assignment",
                "token assignment",
                "API key assignment",
                "secret assignment"
            ]
        );
    }

    #[test]
    fn secrets_are_redacted_in_place() {
        let text = "|1 GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx /bin/sh -c make";
        let found = find_secrets(text);
        assert_eq!(
            found.len(),
            1,
            "the generic pattern must not report the same token again"
        );
        assert_eq!(found[0].pattern.id, "github-pat");
        assert_eq!(
            redact_secrets(text),
            "|1 GITHUB_TOKEN=ghp_***(40 chars) /bin/sh -c make"
        );
    }

    #[test]
    fn build_tool_examples_match_and_counterexamples_do_not() {
        let file: BuildToolsFile = toml::from_str(BUILD_TOOLS).unwrap();
        assert_unique("build_tools.toml", file.path.iter().map(|r| r.id.as_str()));
        assert_unique(
            "build_tools.toml",
            file.command.iter().map(|r| r.id.as_str()),
        );
        let data = &*BUILD_TOOLS_DATA;
        for raw in &file.path {
            assert!(!raw.examples.is_empty(), "{} has no examples", raw.id);
            for example in &raw.examples {
                let got = data.path_record(example).map(|r| data.paths[r].id.as_str());
                assert_eq!(got, Some(raw.id.as_str()), "example {example:?}");
            }
            for counter in &raw.counterexamples {
                let got = data.path_record(counter).map(|r| data.paths[r].id.as_str());
                assert_ne!(got, Some(raw.id.as_str()), "counterexample {counter:?}");
            }
        }
        for (raw, command) in file.command.iter().zip(&data.commands) {
            assert!(!raw.examples.is_empty(), "{} has no examples", raw.id);
            for example in &raw.examples {
                assert!(command.is_match(example), "{}: example {example:?}", raw.id);
            }
            for counter in &raw.counterexamples {
                assert!(
                    !command.is_match(counter),
                    "{}: counterexample {counter:?}",
                    raw.id
                );
            }
        }
    }

    #[test]
    fn package_cache_examples_match_and_counterexamples_do_not() {
        let file: CachesFile = toml::from_str(PACKAGE_CACHES).unwrap();
        assert_unique(
            "package_caches.toml",
            file.ecosystem.iter().map(|r| r.id.as_str()),
        );
        let data = &*PACKAGE_CACHES_DATA;
        for (e, raw) in file.ecosystem.iter().enumerate() {
            for place in &raw.place {
                assert!(
                    !place.examples.is_empty(),
                    "{} {} has no examples",
                    raw.id,
                    place.dir
                );
                for example in &place.examples {
                    assert_eq!(
                        data.locate(example).map(|(i, _)| i),
                        Some(e),
                        "example {example:?}"
                    );
                }
                for counter in &place.counterexamples {
                    assert_ne!(
                        data.locate(counter).map(|(i, _)| i),
                        Some(e),
                        "counterexample {counter:?}"
                    );
                }
            }
        }
        let (e, dir) = data.locate("/home/app/.cache/pip/http/a/b").unwrap();
        assert_eq!(
            (data.ecosystems[e].id.as_str(), dir),
            ("pip", "/home/app/.cache/pip")
        );
    }
}

const BINARIES: &str = include_str!("../signatures/binaries.toml");

#[derive(Deserialize)]
struct BinariesFile {
    classifier: Vec<ClassifierRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassifierRecord {
    id: String,
    purl: String,
    cpes: Vec<String>,
    files: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    path_version: Option<String>,
    /// Records whose packages this one's builds contain and whose patterns read the same
    /// strings (an OpenResty build is an nginx too).
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))]
    bundles: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code))]
    examples: Vec<ClassifierExample>,
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))]
    counterexamples: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(test), allow(dead_code))]
struct ClassifierExample {
    text: String,
    version: String,
}

/// One of a classifier's byte regexes with a `version` group. It is compiled the first time a
/// chunk holds its literal part: compiled, the ~200 patterns take about 2 MB, and an image meets
/// the software of a few records.
#[derive(Debug)]
struct VersionPattern {
    source: String,
    /// Bytes every match contains: a chunk without them is not searched.
    anchor: Option<memchr::memmem::Finder<'static>>,
    regex: OnceLock<regex::bytes::Regex>,
}

impl VersionPattern {
    fn new(source: &str) -> Self {
        VersionPattern {
            source: source.to_owned(),
            anchor: required_literal(source)
                .filter(|l| l.len() >= MIN_ANCHOR)
                .map(|l| memchr::memmem::Finder::new(&l).into_owned()),
            regex: OnceLock::new(),
        }
    }

    /// A pattern starting with `^` describes a file's first bytes: a chunk from the middle of
    /// a file is no start.
    fn describes_a_files_start(&self) -> bool {
        self.source.starts_with('^')
    }

    /// True when `bytes` may hold a match: they begin where one must, and hold the anchor.
    fn may_match(&self, bytes: &[u8], at_file_start: bool) -> bool {
        (at_file_start || !self.describes_a_files_start())
            && self
                .anchor
                .as_ref()
                .is_none_or(|finder| finder.find(bytes).is_some())
    }

    fn regex(&self) -> &regex::bytes::Regex {
        self.regex.get_or_init(|| {
            // Binaries are bytes, not text: classes and `.` match single bytes.
            regex::bytes::Regex::new(&format!("(?-u){}", self.source))
                .expect("signatures/binaries.toml is valid")
        })
    }
}

/// A version classifier for one well-known binary.
#[derive(Debug)]
pub struct BinaryClassifier {
    /// Stable id, like `openssl`.
    pub id: String,
    /// The package name reported, like `openssl`: the purl's name.
    pub name: String,
    /// The purl's namespace, if it has one.
    pub namespace: Option<String>,
    /// Byte regexes with a `version` group, tried in order.
    patterns: Vec<VersionPattern>,
    /// For software whose installer names its directory after the release, a regex over the
    /// path with a `version` group; its files' contents are not searched.
    path_version: Option<Regex>,
    cpes: Vec<String>,
}

impl BinaryClassifier {
    /// For a record that reads versions from paths: the version `path` names, if any.
    pub fn version_of_path(&self, path: &str) -> Option<Option<String>> {
        let regex = self.path_version.as_ref()?;
        Some(
            regex
                .captures(path)
                .and_then(|c| c.name("version"))
                .map(|v| v.as_str().to_owned()),
        )
    }

    /// The first version a pattern finds in `bytes`, all of the file or its end.
    pub fn version_in(&self, bytes: &[u8]) -> Option<String> {
        self.version_before(bytes, bytes.len() + 1, true)
    }

    /// The first version a pattern finds in `bytes` in a match that ends before `limit`. A
    /// match running to the end of the bytes seen so far may be cut short (`9.6` of `9.6.24`)
    /// and is left for a search that sees more. `at_file_start` says whether `bytes` begin
    /// where the file does.
    pub fn version_before(
        &self,
        bytes: &[u8],
        limit: usize,
        at_file_start: bool,
    ) -> Option<String> {
        // Most patterns start at a NUL or a digit, which every binary is full of; a substring
        // search for their literal part rules a chunk out many times faster than the regex.
        self.patterns
            .iter()
            .filter(|p| p.may_match(bytes, at_file_start))
            .find_map(|p| {
                p.regex()
                    .captures(bytes)
                    .filter(|c| c.get(0).is_some_and(|m| m.end() < limit))
                    .and_then(|c| c.name("version"))
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            })
    }

    /// The CPEs of `version`.
    pub fn cpes(&self, version: &str) -> Vec<String> {
        cpe_names(&self.cpes, version)
    }
}

/// Each CPE template with `{version}` replaced, escaped as CPE 2.3's formatted string binding
/// wants (`17.0.15+6` becomes `17.0.15\+6`).
fn cpe_names(templates: &[String], version: &str) -> Vec<String> {
    let mut escaped = String::with_capacity(version.len() + 4);
    for c in version.chars() {
        if !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    templates
        .iter()
        .map(|t| t.replace("{version}", &escaped))
        .collect()
}

/// Checks every CPE template of `file`'s record `id`: 13 fields with the version fifth.
#[cfg(test)]
fn assert_cpe_templates(file: &str, id: &str, templates: &[String]) {
    assert!(
        templates.iter().all(|t| t.starts_with("cpe:2.3:a:")
            && t.split(':').count() == 13
            && t.split(':').nth(5) == Some("{version}")),
        "{file}: {id}: CPE templates are 13 fields with the version fifth"
    );
}

/// Every classifier, and one glob set over all their file patterns: `matches[i]` says which
/// classifier a glob belongs to.
pub struct BinaryClassifiers {
    /// The classifiers.
    pub classifiers: Vec<BinaryClassifier>,
    globs: GlobSet,
    owners: Vec<usize>,
}

impl BinaryClassifiers {
    /// The classifiers whose file globs match `path`, deduplicated, in file order.
    pub fn for_path(&self, path: &str) -> Vec<&BinaryClassifier> {
        let mut ids: Vec<usize> = self
            .globs
            .matches(path)
            .into_iter()
            .map(|g| self.owners[g])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(|i| &self.classifiers[i]).collect()
    }

    /// True when some classifier's globs match `path`: cheap enough to ask for every file.
    pub fn wants(&self, path: &str) -> bool {
        self.globs.is_match(path)
    }
}

/// The longest run of literal bytes every match of `pattern` contains: literal characters
/// outside groups and classes, in a pattern without a top-level alternation, minus any a
/// quantifier makes optional. `None` when there is none.
fn required_literal(pattern: &str) -> Option<Vec<u8>> {
    let chars: Vec<char> = pattern.chars().collect();
    let (mut best, mut run): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
    let mut depth = 0usize;
    let mut i = 0;
    let end_run = |run: &mut Vec<u8>, best: &mut Vec<u8>| {
        if run.len() > best.len() {
            *best = std::mem::take(run);
        }
        run.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        // One literal byte, if `c` starts one: an escaped punctuation or control character,
        // `\xHH`, or a plain character.
        let (literal, width) = match c {
            '\\' => match chars.get(i + 1) {
                Some('x') => {
                    let hex: String = chars.iter().skip(i + 2).take(2).collect();
                    (u8::from_str_radix(&hex, 16).ok(), 4)
                }
                Some('n') => (Some(b'\n'), 2),
                Some('r') => (Some(b'\r'), 2),
                Some('t') => (Some(b'\t'), 2),
                Some(p) if p.is_ascii_punctuation() => (Some(*p as u8), 2),
                _ => (None, 2),
            },
            '[' => {
                // Skip the class: a `]` first in it, or escaped, does not close it.
                let mut j = i + 1;
                if chars.get(j) == Some(&'^') {
                    j += 1;
                }
                if chars.get(j) == Some(&']') {
                    j += 1;
                }
                while j < chars.len() && chars[j] != ']' {
                    j += if chars[j] == '\\' { 2 } else { 1 };
                }
                (None, j + 1 - i)
            }
            '(' => {
                depth += 1;
                (None, 1)
            }
            ')' => {
                depth = depth.saturating_sub(1);
                (None, 1)
            }
            '|' if depth == 0 => return None,
            '.' | '^' | '$' | '|' => (None, 1),
            '?' | '*' | '{' => {
                // What precedes is optional (or counted): drop it from the run.
                if depth == 0 {
                    run.pop();
                }
                end_run(&mut run, &mut best);
                let skip = if c == '{' {
                    chars[i..].iter().position(|&d| d == '}').unwrap_or(0) + 1
                } else {
                    1
                };
                i += skip;
                continue;
            }
            '+' => (None, 1),
            c if c.is_ascii() => (Some(c as u8), 1),
            _ => (None, 1),
        };
        match literal.filter(|_| depth == 0) {
            // A literal followed by a quantifier is handled when the quantifier is reached.
            Some(b) => run.push(b),
            None => end_run(&mut run, &mut best),
        }
        i += width;
    }
    end_run(&mut run, &mut best);
    (!best.is_empty()).then_some(best)
}

/// `pkg:generic/NAMESPACE/NAME` split into its namespace and name. Classifiers name software no
/// ecosystem owns, hence `generic`; a program of an ecosystem (a Go binary) is named by its own
/// metadata instead.
fn generic_purl(purl: &str) -> Option<(Option<String>, String)> {
    let path = purl.strip_prefix("pkg:generic/")?;
    if path.is_empty() || path.contains(['@', '?', '#']) {
        return None;
    }
    Some(match path.rsplit_once('/') {
        Some((ns, name)) => (Some(ns.to_owned()), name.to_owned()),
        None => (None, path.to_owned()),
    })
}

/// Shortest literal worth a substring search before the regex.
const MIN_ANCHOR: usize = 4;

/// The binary version classifiers from `signatures/binaries.toml`.
pub static BINARY_CLASSIFIERS: LazyLock<BinaryClassifiers> = LazyLock::new(|| {
    let file: BinariesFile = toml::from_str(BINARIES).expect("signatures/binaries.toml is valid");
    let mut globs = GlobSetBuilder::new();
    let mut owners = Vec::new();
    let mut classifiers = Vec::new();
    for (i, r) in file.classifier.into_iter().enumerate() {
        for g in &r.files {
            // `*` must not cross `/`, so `**/node` does not match `/usr/lib/node_modules/x`.
            globs.add(
                GlobBuilder::new(g)
                    .literal_separator(true)
                    .build()
                    .expect("signatures/binaries.toml is valid"),
            );
            owners.push(i);
        }
        let (namespace, name) =
            generic_purl(&r.purl).expect("signatures/binaries.toml purls are pkg:generic");
        classifiers.push(BinaryClassifier {
            id: r.id,
            name,
            namespace,
            patterns: r.patterns.iter().map(|p| VersionPattern::new(p)).collect(),
            path_version: r
                .path_version
                .as_deref()
                .map(|p| Regex::new(p).expect("signatures/binaries.toml is valid")),
            cpes: r.cpes,
        });
    }
    BinaryClassifiers {
        classifiers,
        globs: globs.build().expect("signatures/binaries.toml is valid"),
        owners,
    }
});

#[cfg(test)]
mod binary_classifier_tests {
    use super::*;

    fn compiled(id: &str) -> &'static BinaryClassifier {
        BINARY_CLASSIFIERS
            .classifiers
            .iter()
            .find(|c| c.id == id)
            .unwrap()
    }

    #[test]
    fn required_literals_are_what_every_match_contains() {
        let lit = |p: &str| required_literal(p).map(|l| String::from_utf8(l).unwrap());
        assert_eq!(
            lit(r"\x00node\.js/v(?P<version>[0-9]+)\x00").as_deref(),
            Some("\0node.js/v")
        );
        assert_eq!(lit(r"ab?cdef").as_deref(), Some("cdef"));
        assert_eq!(lit(r"(?:x|y)abc[^)]wxyz+q").as_deref(), Some("wxyz"));
        assert_eq!(lit(r"a|bcd"), None);
        assert_eq!(lit(r"\{vsn,(abc|d)\}").as_deref(), Some("{vsn,"));
        assert_eq!(lit(r"x{2,}yz").as_deref(), Some("yz"));
        assert_eq!(lit(r"[0-9]+\.[0-9]+"), Some(".".into()));
    }

    #[test]
    fn every_classifier_pattern_has_an_anchor() {
        let file: BinariesFile = toml::from_str(BINARIES).unwrap();
        let mut missing = Vec::new();
        for r in &file.classifier {
            for p in &r.patterns {
                let anchor = required_literal(p).unwrap_or_default();
                // A pattern anchored at the start of the file fails at once elsewhere.
                if anchor.len() < MIN_ANCHOR && !p.starts_with('^') {
                    missing.push(format!("{}: {p}", r.id));
                    continue;
                }
                // The regex agrees the anchor is required: a match without it is impossible.
                let stripped = regex::bytes::Regex::new(&format!("(?-u){p}")).unwrap();
                for ex in &r.examples {
                    if let Some(m) = stripped.find(ex.text.as_bytes()) {
                        assert!(
                            memchr::memmem::find(m.as_bytes(), &anchor).is_some(),
                            "{}: the match {:?} lacks {anchor:?}",
                            r.id,
                            m.as_bytes()
                        );
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "patterns without a literal of {MIN_ANCHOR} bytes to search for first:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn every_classifier_example_yields_its_version() {
        let file: BinariesFile = toml::from_str(BINARIES).unwrap();
        let mut ids = std::collections::HashSet::new();
        let mut failures = Vec::new();
        for r in &file.classifier {
            assert!(ids.insert(r.id.clone()), "duplicate id {}", r.id);
            assert!(!r.examples.is_empty(), "{} has no examples", r.id);
            let c = compiled(&r.id);
            assert_cpe_templates("binaries.toml", &r.id, &r.cpes);
            assert!(
                r.patterns.is_empty() != r.path_version.is_none(),
                "{}: versions come from contents or from paths",
                r.id
            );
            for ex in &r.examples {
                let found = c
                    .version_of_path(&ex.text)
                    .unwrap_or_else(|| c.version_in(ex.text.as_bytes()));
                if found.as_deref() != Some(ex.version.as_str()) {
                    failures.push(format!("{}: {:?} gives {found:?}", r.id, ex.text));
                }
            }
            for ex in &r.counterexamples {
                let found = c
                    .version_of_path(ex)
                    .unwrap_or_else(|| c.version_in(ex.as_bytes()));
                if let Some(v) = found {
                    failures.push(format!("{}: counterexample {ex:?} gives {v}", r.id));
                }
            }
        }
        // Records watching the same files must not claim each other's evidence: a MariaDB
        // client is no MySQL, a GraalVM launcher no OpenJDK.
        for a in &file.classifier {
            for b in &file.classifier {
                if a.id == b.id
                    || a.bundles.contains(&b.id)
                    || b.bundles.contains(&a.id)
                    || !a.files.iter().any(|g| b.files.contains(g))
                {
                    continue;
                }
                for ex in &a.examples {
                    if let Some(v) = compiled(&b.id).version_in(ex.text.as_bytes()) {
                        failures.push(format!("{}'s example {:?} is {} {v}", a.id, ex.text, b.id));
                    }
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
        assert_eq!(
            compiled("openjdk").cpes("17.0.15+6"),
            ["cpe:2.3:a:oracle:openjdk:17.0.15\\+6:*:*:*:*:*:*:*"]
        );
        let sets = &BINARY_CLASSIFIERS;
        assert_eq!(
            sets.for_path("/usr/lib/x86_64-linux-gnu/libcrypto.so.3")[0].id,
            "openssl"
        );
        assert!(!sets.wants("/usr/lib/node_modules/npm/package.json"));
        assert!(sets.wants("/usr/local/bin/node"));
    }
}

const GO_PROGRAMS: &str = include_str!("../signatures/go_programs.toml");

#[derive(Deserialize)]
struct GoProgramsFile {
    program: Vec<GoProgramRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GoProgramRecord {
    module: String,
    #[serde(default)]
    programs: Vec<String>,
    cpes: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code))]
    examples: Vec<GoProgramExample>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(not(test), allow(dead_code))]
struct GoProgramExample {
    module: String,
    program: String,
    version: String,
    cpes: Vec<String>,
}

/// A product a Go program is, named by its main module.
#[derive(Debug)]
pub struct GoProgram {
    module: String,
    programs: Vec<String>,
    cpes: Vec<String>,
}

impl GoProgram {
    /// The CPEs of `release` (`3.6.5`, not the module version `v3.6.5`).
    pub fn cpes(&self, release: &str) -> Vec<String> {
        cpe_names(&self.cpes, release)
    }
}

static GO_PROGRAM_TABLE: LazyLock<Vec<GoProgram>> = LazyLock::new(|| {
    let file: GoProgramsFile =
        toml::from_str(GO_PROGRAMS).expect("signatures/go_programs.toml is valid");
    file.program
        .into_iter()
        .map(|r| GoProgram {
            module: r.module,
            programs: r.programs,
            cpes: r.cpes,
        })
        .collect()
});

/// The product whose main module is `module`, from `signatures/go_programs.toml`. Where one
/// module builds several products, `names` (the file's name, the main package's last element)
/// pick one; when they pick none, or more than one, the program is no product of the table.
pub fn go_program(module: &str, names: &[&str]) -> Option<&'static GoProgram> {
    let module = without_major_suffix(module);
    let mut fitting = GO_PROGRAM_TABLE.iter().filter(|p| {
        p.module == module
            && (p.programs.is_empty() || p.programs.iter().any(|q| names.contains(&q.as_str())))
    });
    let first = fitting.next()?;
    fitting.next().is_none().then_some(first)
}

/// `github.com/traefik/traefik/v3` as `github.com/traefik/traefik`: Go's semantic import
/// versioning gives every major release from 2 on its own path, all one product.
fn without_major_suffix(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some((base, last))
            if last.strip_prefix('v').is_some_and(|n| {
                n.len() <= 3
                    && n.bytes().all(|b| b.is_ascii_digit())
                    && n.parse::<u32>().is_ok_and(|n| n >= 2)
                    && !n.starts_with('0')
            }) =>
        {
            base
        }
        _ => path,
    }
}

#[cfg(test)]
mod go_program_tests {
    use super::*;
    use crate::inventory::go_buildinfo::program_cpes;

    #[test]
    fn every_go_program_example_gives_its_cpes() {
        let file: GoProgramsFile = toml::from_str(GO_PROGRAMS).unwrap();
        let mut failures = Vec::new();
        for (i, r) in file.program.iter().enumerate() {
            assert_cpe_templates("go_programs.toml", &r.module, &r.cpes);
            assert!(!r.examples.is_empty(), "{} has no examples", r.module);
            assert_eq!(
                without_major_suffix(&r.module),
                r.module,
                "modules are named without their major version"
            );
            for ex in &r.examples {
                let names = [ex.program.as_str()];
                let found = go_program(&ex.module, &names);
                let cpes = program_cpes(&ex.module, &names, &ex.version);
                if !found.is_some_and(|p| std::ptr::eq(p, &GO_PROGRAM_TABLE[i])) || cpes != ex.cpes
                {
                    failures.push(format!(
                        "{} {} {}: {found:?}, {cpes:?}",
                        ex.module, ex.program, ex.version
                    ));
                }
            }
            // Records of one module are told apart by their programs alone.
            for other in &file.program[i + 1..] {
                if other.module == r.module {
                    assert!(
                        !r.programs.is_empty()
                            && !other.programs.is_empty()
                            && !r.programs.iter().any(|p| other.programs.contains(p)),
                        "{}: records of one module list disjoint programs",
                        r.module
                    );
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn programs_are_matched_by_module_and_name() {
        assert_eq!(without_major_suffix("helm.sh/helm/v3"), "helm.sh/helm");
        assert_eq!(without_major_suffix("example.com/v1"), "example.com/v1");
        assert_eq!(without_major_suffix("example.com/v02"), "example.com/v02");
        assert_eq!(
            without_major_suffix("example.com/vault"),
            "example.com/vault"
        );
        // A module nested under a known one is another program.
        assert!(go_program("github.com/elastic/beats/v7/kubebeat", &["filebeat"]).is_none());
        // One module, several products: the name decides, and two names that disagree decide
        // nothing.
        assert!(go_program("github.com/elastic/beats/v7", &["winlogbeat"]).is_none());
        assert!(go_program("github.com/elastic/beats/v7", &["filebeat", "metricbeat"]).is_none());
        assert!(go_program("github.com/elastic/beats/v7", &["filebeat", "filebeat"]).is_some());
    }
}
