//! `layerguard.toml`: thresholds, allow-lists and ignores. Parsed into a raw form, then validated
//! into [`Settings`] (globs compiled, sizes parsed), so rules never see an invalid value.

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::limits::Limits;
use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;

/// The file name looked for in the working directory.
pub const FILE_NAME: &str = "layerguard.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    max_layers: Option<usize>,
    max_image_size: Option<Size>,
    wasted_space: Option<Size>,
    allowed_registries: Vec<String>,
    setuid: RawSetuid,
    world_writable: RawAllow,
    ignore: Vec<RawIgnore>,
    limits: Option<Limits>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawSetuid {
    allow: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawAllow {
    allow: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIgnore {
    rule: String,
    path: Option<String>,
    image: Option<String>,
    reason: String,
    expires: Option<toml::value::Datetime>,
}

/// A byte size written as an integer or as a string like `"1GiB"`, `"500 MB"`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum Size {
    Bytes(u64),
    Text(SizeText),
}

#[derive(Debug, Clone, Copy)]
struct SizeText(u64);

impl<'de> Deserialize<'de> for SizeText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        parse_size(&s)
            .map(SizeText)
            .map_err(serde::de::Error::custom)
    }
}

impl Size {
    fn bytes(self) -> u64 {
        match self {
            Size::Bytes(b) => b,
            Size::Text(SizeText(b)) => b,
        }
    }
}

/// Parses `"1GiB"`, `"500MB"`, `"10 MiB"`, `"4096"`.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num.parse().map_err(|_| format!("invalid size {s:?}"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?} in {s:?}")),
    };
    Ok((num * mult as f64) as u64)
}

/// One ignore entry, validated.
#[derive(Debug, Clone)]
pub struct Ignore {
    /// Rule name or code as written.
    pub rule: String,
    path: Option<GlobMatcher>,
    image: Option<GlobMatcher>,
    /// Why the finding is accepted.
    pub reason: String,
    /// `YYYY-MM-DD` after which the ignore stops suppressing.
    pub expires: Option<String>,
}

/// Validated settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `excess-layers` threshold.
    pub max_layers: usize,
    /// `oversized-image` threshold in uncompressed bytes.
    pub max_image_size: u64,
    /// `wasted-space` threshold in bytes.
    pub wasted_space: u64,
    /// Registries images may come from; empty means only Docker Hub is flagged.
    pub allowed_registries: Vec<String>,
    setuid_allow: GlobSet,
    world_writable_allow: GlobSet,
    /// Ignores, in file order.
    pub ignores: Vec<Ignore>,
    /// Reading limits.
    pub limits: Limits,
    /// The file the settings came from, for messages (empty for the defaults).
    pub origin: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_layers: 20,
            max_image_size: 1 << 30,
            wasted_space: 10 << 20,
            allowed_registries: Vec::new(),
            setuid_allow: GlobSet::empty(),
            world_writable_allow: GlobSet::empty(),
            ignores: Vec::new(),
            limits: Limits::default(),
            origin: String::new(),
        }
    }
}

fn glob(pattern: &str, origin: &str) -> Result<Glob> {
    Glob::new(pattern).map_err(|e| Error::Config {
        path: origin.to_owned(),
        reason: format!("invalid glob {pattern:?}: {e}"),
    })
}

fn glob_set(patterns: &[String], origin: &str) -> Result<GlobSet> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(glob(p, origin)?);
    }
    b.build().map_err(|e| Error::Config {
        path: origin.to_owned(),
        reason: e.to_string(),
    })
}

impl Settings {
    /// Parses and validates a config file's text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| Error::Config {
            path: origin.to_owned(),
            reason: e.to_string(),
        })?;
        let defaults = Settings::default();
        let mut ignores = Vec::new();
        for ig in raw.ignore {
            let expires = match ig.expires {
                Some(d) => match d.date {
                    Some(date) if d.time.is_none() => Some(date.to_string()),
                    _ => {
                        return Err(Error::Config {
                            path: origin.to_owned(),
                            reason: format!("expires must be a date like 2026-12-31, got {d}"),
                        });
                    }
                },
                None => None,
            };
            ignores.push(Ignore {
                rule: ig.rule,
                path: ig
                    .path
                    .as_deref()
                    .map(|p| glob(p, origin))
                    .transpose()?
                    .map(|g| g.compile_matcher()),
                image: ig
                    .image
                    .as_deref()
                    .map(|p| glob(p, origin))
                    .transpose()?
                    .map(|g| g.compile_matcher()),
                reason: ig.reason,
                expires,
            });
        }
        Ok(Settings {
            max_layers: raw.max_layers.unwrap_or(defaults.max_layers),
            max_image_size: raw
                .max_image_size
                .map_or(defaults.max_image_size, Size::bytes),
            wasted_space: raw.wasted_space.map_or(defaults.wasted_space, Size::bytes),
            allowed_registries: raw.allowed_registries,
            setuid_allow: glob_set(&raw.setuid.allow, origin)?,
            world_writable_allow: glob_set(&raw.world_writable.allow, origin)?,
            ignores,
            limits: raw.limits.unwrap_or_default(),
            origin: origin.to_owned(),
        })
    }

    /// True when `path` is on the setuid allow-list.
    pub fn setuid_allowed(&self, path: &str) -> bool {
        self.setuid_allow.is_match(path)
    }

    /// True when `path` is on the world-writable allow-list.
    pub fn world_writable_allowed(&self, path: &str) -> bool {
        self.world_writable_allow.is_match(path)
    }

    /// The ignore that matches a finding, if any. `today` is `YYYY-MM-DD`.
    pub fn ignore_for(&self, finding: &Finding, image: &str) -> Option<&Ignore> {
        self.ignores.iter().find(|ig| {
            let rule_ok = ig.rule.eq_ignore_ascii_case(&finding.rule)
                || ig.rule.eq_ignore_ascii_case(&finding.code);
            let path_ok = match (&ig.path, &finding.location.path) {
                (None, _) => true,
                (Some(g), Some(p)) => g.is_match(p),
                (Some(_), None) => false,
            };
            let image_ok = ig.image.as_ref().is_none_or(|g| g.is_match(image));
            rule_ok && path_ok && image_ok
        })
    }
}

impl Ignore {
    /// True when the ignore has expired on `today` (`YYYY-MM-DD`).
    pub fn expired(&self, today: &str) -> bool {
        self.expires.as_deref().is_some_and(|e| e < today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("500 MB"), Ok(500_000_000));
        assert_eq!(parse_size("42"), Ok(42));
        assert!(parse_size("12 parsecs").is_err());
    }

    #[test]
    fn full_config_parses_and_bad_ones_are_rejected() {
        let s = Settings::from_toml(
            r#"
max_layers = 10
max_image_size = "200MiB"
allowed_registries = ["123456789012.dkr.ecr.us-east-1.amazonaws.com"]
[setuid]
allow = ["/usr/bin/passwd"]
[[ignore]]
rule = "root-user"
reason = "legacy image"
expires = 2026-01-31
"#,
            "t",
        )
        .unwrap();
        assert_eq!(s.max_layers, 10);
        assert_eq!(s.max_image_size, 200 << 20);
        assert!(s.setuid_allowed("/usr/bin/passwd"));
        assert!(s.ignores[0].expired("2026-02-01"));
        assert!(!s.ignores[0].expired("2026-01-31"));
        assert!(Settings::from_toml("bogus = 1\n", "t").is_err());
    }
}
