//! `layerguard.toml`: thresholds, allow-lists and ignores. Parsed into a raw form, then validated
//! into [`Settings`] (globs compiled, sizes parsed), so rules never see an invalid value.

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::limits::{LIMIT_KEYS, Limits};
use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;

/// The file name looked for in the working directory.
pub const FILE_NAME: &str = "layerguard.toml";

// Scalar values are kept as TOML values and checked here, so an error can name the key and say
// what it accepts; serde's own messages ("data did not match any variant of untagged enum")
// name neither.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    max_layers: Option<toml::Value>,
    max_image_size: Option<toml::Value>,
    wasted_space: Option<toml::Value>,
    allowed_registries: Vec<String>,
    setuid: RawAllow,
    world_writable: RawAllow,
    ignore: Vec<RawIgnore>,
    limits: toml::Table,
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

const SIZE_FORM: &str = "a number of bytes or a number with a unit (B, kB, MB, GB, TB, KiB, MiB, \
                         GiB, TiB), like \"500MB\" or \"1GiB\"";

/// A whole number of at least `min`; `small` says what a smaller value would do.
fn whole_number(key: &str, value: &toml::Value, min: u64, small: &str) -> Result<u64, String> {
    let n = match value {
        toml::Value::Integer(n) => u64::try_from(*n)
            .map_err(|_| format!("{key} = {n} is negative; it must be a whole number, like 20"))?,
        toml::Value::String(text) => {
            return Err(format!(
                "{key} = {text:?} is not a whole number; write one without quotes, like 20"
            ));
        }
        other => return Err(format!("{key} = {other} is not a whole number, like 20")),
    };
    at_least(key, n, &n.to_string(), &min.to_string(), min, small)
}

/// A byte size of at least `min` bytes, written as an integer or as text like `"1GiB"`.
fn byte_size(key: &str, value: &toml::Value, min: u64, small: &str) -> Result<u64, String> {
    let n = match value {
        toml::Value::Integer(n) => {
            u64::try_from(*n).map_err(|_| format!("{key} = {n} is negative; write {SIZE_FORM}"))?
        }
        toml::Value::String(text) => parse_size(text).map_err(|reason| {
            format!("{key} = {text:?} is not a size ({reason}); write {SIZE_FORM}")
        })?,
        other => return Err(format!("{key} = {other} is not a size; write {SIZE_FORM}")),
    };
    let min_shown = match min {
        m if m >= 1 << 20 && m % (1 << 20) == 0 => format!("\"{}MiB\"", m >> 20),
        m if m >= 1 << 10 && m % (1 << 10) == 0 => format!("\"{}KiB\"", m >> 10),
        m => m.to_string(),
    };
    at_least(key, n, &value.to_string(), &min_shown, min, small)
}

fn at_least(
    key: &str,
    n: u64,
    written: &str,
    min_shown: &str,
    min: u64,
    small: &str,
) -> Result<u64, String> {
    if n < min {
        return Err(format!(
            "{key} = {written} is too small: it must be at least {min_shown}, {small}"
        ));
    }
    Ok(n)
}

/// Parses `"1GiB"`, `"500MB"`, `"10 MiB"`, `"1.5 GB"`, `"4096"`.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num
        .parse()
        .map_err(|_| "it does not start with a number".to_owned())?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" | "k" => 1 << 10,
        "mib" | "m" => 1 << 20,
        "gib" | "g" => 1 << 30,
        "tib" | "t" => 1 << 40,
        other => return Err(format!("unknown unit {other:?}")),
    };
    let bytes = num * mult as f64;
    if bytes >= u64::MAX as f64 {
        return Err("it is too large".to_owned());
    }
    Ok(bytes as u64)
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
        let invalid = |reason: String| Error::Config {
            path: origin.to_owned(),
            reason,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| invalid(toml_error(text, &e)))?;
        let defaults = Settings::default();
        let mut ignores = Vec::new();
        for (i, ig) in raw.ignore.into_iter().enumerate() {
            let entry = format!("[[ignore]] number {} (rule {:?})", i + 1, ig.rule);
            if ig.rule.trim().is_empty() {
                return Err(invalid(format!(
                    "{entry} names no rule; give a rule name or code, like rule = \"root-user\""
                )));
            }
            if ig.reason.trim().is_empty() {
                return Err(invalid(format!(
                    "{entry} has an empty reason; say why the finding is accepted, like \
                     reason = \"vendor image, ticket OPS-142\""
                )));
            }
            let expires = match ig.expires {
                Some(d) => match d.date {
                    Some(date) if d.time.is_none() => Some(date.to_string()),
                    _ => {
                        return Err(invalid(format!(
                            "{entry}: expires = {d} is not a date; write one like 2026-12-31"
                        )));
                    }
                },
                None => None,
            };
            let matcher = |key: &str, pattern: Option<String>| -> Result<Option<GlobMatcher>> {
                match pattern {
                    Some(p) if p.trim().is_empty() => Err(invalid(format!(
                        "{entry} has an empty {key}; give a glob, like {key} = \"{}\", or \
                         leave {key} out",
                        if key == "path" {
                            "/opt/app/**"
                        } else {
                            "legacy/*"
                        }
                    ))),
                    Some(p) => Ok(Some(glob(&p, origin)?.compile_matcher())),
                    None => Ok(None),
                }
            };
            ignores.push(Ignore {
                path: matcher("path", ig.path)?,
                image: matcher("image", ig.image)?,
                rule: ig.rule,
                reason: ig.reason,
                expires,
            });
        }
        for entry in &raw.allowed_registries {
            if entry.trim().is_empty() || entry.contains("://") {
                return Err(invalid(format!(
                    "allowed_registries has {entry:?}; write a registry host, optionally with a \
                     path, and no scheme, like \"registry.example.com/base-images\""
                )));
            }
        }
        let every_image = "or every image is reported";
        let max_layers = raw
            .max_layers
            .map(|v| whole_number("max_layers", &v, 1, every_image))
            .transpose()
            .map_err(invalid)?;
        let max_image_size = raw
            .max_image_size
            .map(|v| byte_size("max_image_size", &v, 1, every_image))
            .transpose()
            .map_err(invalid)?;
        let wasted_space = raw
            .wasted_space
            .map(|v| byte_size("wasted_space", &v, 0, ""))
            .transpose()
            .map_err(invalid)?;
        Ok(Settings {
            max_layers: max_layers.map_or(defaults.max_layers, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
            max_image_size: max_image_size.unwrap_or(defaults.max_image_size),
            wasted_space: wasted_space.unwrap_or(defaults.wasted_space),
            allowed_registries: raw.allowed_registries,
            setuid_allow: glob_set(&raw.setuid.allow, origin)?,
            world_writable_allow: glob_set(&raw.world_writable.allow, origin)?,
            ignores,
            limits: limits(&raw.limits).map_err(invalid)?,
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

/// The `[limits]` table over the defaults.
fn limits(table: &toml::Table) -> std::result::Result<Limits, String> {
    let mut limits = Limits::default();
    for (name, value) in table {
        let Some(key) = LIMIT_KEYS.iter().find(|k| k.name == name) else {
            let known: Vec<&str> = LIMIT_KEYS.iter().map(|k| k.name).collect();
            return Err(format!(
                "[limits] has no setting {name:?}; the limits are {}",
                known.join(", ")
            ));
        };
        let shown = format!("[limits] {name}");
        *(key.field)(&mut limits) = if key.bytes {
            byte_size(&shown, value, key.min, key.below_min)?
        } else {
            whole_number(&shown, value, key.min, key.below_min)?
        };
    }
    Ok(limits)
}

/// A TOML syntax or shape error as one line: where it is and what is wrong.
fn toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim_end_matches('.');
    match error.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message.to_owned(),
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
        assert_eq!(parse_size("1.5 GB"), Ok(1_500_000_000));
        assert_eq!(parse_size("2TiB"), Ok(2 << 40));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("1 gigabyte").is_err());
        assert!(parse_size("-1").is_err());
        assert!(parse_size("99999999999TiB").is_err());
    }

    fn error(text: &str) -> String {
        let e = Settings::from_toml(text, "layerguard.toml").unwrap_err();
        let Error::Config { path, reason } = e else {
            panic!("not a config error: {e}");
        };
        assert_eq!(path, "layerguard.toml");
        reason
    }

    #[test]
    fn bad_values_are_named_with_what_is_accepted() {
        assert_eq!(
            error("max_image_size = \"1 gigabyte\"\n"),
            "max_image_size = \"1 gigabyte\" is not a size (unknown unit \"gigabyte\"); write a \
             number of bytes or a number with a unit (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB), \
             like \"500MB\" or \"1GiB\""
        );
        assert_eq!(
            error("[limits]\nmax_entries = 0\n"),
            "[limits] max_entries = 0 is too small: it must be at least 1, or every layer that \
             holds a file fails the scan"
        );
        assert_eq!(
            error("[[ignore]]\nrule = \"root-user\"\nreason = \" \"\n"),
            "[[ignore]] number 1 (rule \"root-user\") has an empty reason; say why the finding \
             is accepted, like reason = \"vendor image, ticket OPS-142\""
        );
        assert_eq!(
            error("max_layers = \"many\"\n"),
            "max_layers = \"many\" is not a whole number; write one without quotes, like 20"
        );
        assert_eq!(
            error("max_layers = 0\n"),
            "max_layers = 0 is too small: it must be at least 1, or every image is reported"
        );
        assert_eq!(
            error("max_image_size = -5\n"),
            "max_image_size = -5 is negative; write a number of bytes or a number with a unit \
             (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB), like \"500MB\" or \"1GiB\""
        );
        assert_eq!(
            error("[limits]\nmax_json_bytes = \"100B\"\n"),
            "[limits] max_json_bytes = \"100B\" is too small: it must be at least \"1KiB\", or \
             even small manifests and image configs are refused"
        );
        assert_eq!(
            error("[limits]\nmax_ratio = 1\n"),
            "[limits] max_ratio = 1 is too small: it must be at least 2, or every compressed \
             layer is taken for a decompression bomb"
        );
        assert!(error("[limits]\nmax_entrys = 5\n").starts_with(
            "[limits] has no setting \"max_entrys\"; the limits are max_file_bytes, "
        ));
        assert!(
            error("[[ignore]]\nrule = \"x\"\nreason = \"y\"\npath = \"\"\n")
                .contains("has an empty path")
        );
        assert!(
            error("allowed_registries = [\"https://registry.example.com\"]\n")
                .contains("no scheme")
        );
        assert_eq!(
            error("max_layers = 1\nbogus = 1\n").split(':').next(),
            Some("line 2"),
            "syntax and shape errors say where they are"
        );
        for reason in [
            error("max_image_size = 0\n"),
            error("[limits]\nmax_file_bytes = 0\n"),
            error("[limits]\nmax_layer_bytes = 10\n"),
            error("[limits]\nbinary_head_bytes = 8\n"),
        ] {
            assert!(!reason.contains('\n'), "one line: {reason}");
            assert!(reason.contains("too small"), "{reason}");
        }
    }

    #[test]
    fn limits_take_sizes_and_keep_the_other_defaults() {
        let s = Settings::from_toml(
            "wasted_space = 0\n[limits]\nmax_layer_bytes = \"2GiB\"\nmax_entries = 10\nratio_check_after = 0\n",
            "t",
        )
        .unwrap();
        assert_eq!(s.wasted_space, 0, "no waste at all tolerated is a choice");
        assert_eq!(s.limits.max_layer_bytes, 2 << 30);
        assert_eq!(s.limits.max_entries, 10);
        assert_eq!(s.limits.ratio_check_after, 0);
        assert_eq!(
            Limits {
                max_layer_bytes: 2 << 30,
                max_entries: 10,
                ratio_check_after: 0,
                ..Limits::default()
            },
            s.limits
        );
        assert_eq!(LIMIT_KEYS.len(), 10, "every field has a key");
        let mut seen = Limits::default();
        for (i, key) in LIMIT_KEYS.iter().enumerate() {
            *(key.field)(&mut seen) = i as u64 + 1_000_000;
        }
        let fields = serde_json::to_value(seen).unwrap();
        for (i, key) in LIMIT_KEYS.iter().enumerate() {
            assert_eq!(
                fields[key.name],
                i as u64 + 1_000_000,
                "{} sets its own field",
                key.name
            );
        }
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
