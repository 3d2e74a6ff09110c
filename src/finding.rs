//! Findings: what a rule reports, where, and how bad it is. The bottom of the crate: rules,
//! the scan, layer records and reports all speak in these types, and this module imports none
//! of them.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The documentation every rule carries; the CLI, README and SARIF are generated from it.
#[derive(Debug, PartialEq, Eq)]
pub struct RuleMeta {
    /// Stable code, `LG0xx`.
    pub code: &'static str,
    /// Stable kebab-case name; users' ignore files name rules by it.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what it finds.
    pub summary: &'static str,
    /// Why it matters, naming the practice it enforces.
    pub rationale: &'static str,
    /// How to fix it.
    pub remediation: &'static str,
}

impl RuleMeta {
    /// True when `code_or_name` names this rule (either spelling, any case).
    pub fn is_named(&self, code_or_name: &str) -> bool {
        self.code.eq_ignore_ascii_case(code_or_name) || self.name.eq_ignore_ascii_case(code_or_name)
    }
}

/// How bad a finding is. Ordered from least to most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; not a weakness by itself.
    Info,
    /// A weakness with little direct impact.
    Low,
    /// A weakness an attacker can use with some other foothold.
    Medium,
    /// A direct weakness.
    High,
    /// A direct weakness that gives away credentials or control.
    Critical,
}

impl Severity {
    /// All severities, least severe first.
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// The lowercase name used in output and config.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad`, so column widths like `{:<8}` apply.
        f.pad(self.as_str())
    }
}

/// Where a finding is. Any combination of the fields may be set.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Absolute path in the image filesystem, like `/usr/bin/su`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// 0-based index of the layer that added the file (or the layer the finding is about).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// The image config field, like `config.User` or `history[3].created_by`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// For a file no longer in the final filesystem: the layer that deleted or replaced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_in_layer: Option<usize>,
}

impl Location {
    /// A file path, layer unknown yet.
    pub fn path(path: impl Into<String>) -> Self {
        Location {
            path: Some(path.into()),
            ..Location::default()
        }
    }

    /// A file path added by `layer`.
    pub fn file(path: impl Into<String>, layer: usize) -> Self {
        Location {
            path: Some(path.into()),
            layer: Some(layer),
            ..Location::default()
        }
    }

    /// A config field.
    pub fn config(field: impl Into<String>) -> Self {
        Location {
            config: Some(field.into()),
            ..Location::default()
        }
    }

    /// A whole layer.
    pub fn layer(index: usize) -> Self {
        Location {
            layer: Some(index),
            ..Location::default()
        }
    }
}

/// One problem a rule found. It names its rule by code and name rather than pointing at the
/// rule's metadata, so a finding read back from a layer record is the same value as the one the
/// rule produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule's kebab-case name.
    pub rule: Cow<'static, str>,
    /// The rule's code, `LG0xx`.
    pub code: Cow<'static, str>,
    /// How bad it is (the rule's severity unless the rule raised or lowered it for this case).
    pub severity: Severity,
    /// What was found, for a person. Secret values only ever appear redacted.
    pub message: String,
    /// Where.
    pub location: Location,
}

impl Finding {
    /// The sort key that makes every report deterministic: most severe first, then rule, then place.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            std::cmp::Reverse(self.severity),
            &self.code,
            &self.location,
            &self.message,
        )
    }
}

/// The sink rules push findings into.
#[derive(Debug, Default)]
pub struct Findings {
    items: Vec<Finding>,
}

impl Findings {
    /// Reports a finding at the rule's own severity.
    pub fn push(
        &mut self,
        rule: &'static RuleMeta,
        location: Location,
        message: impl Into<String>,
    ) {
        self.push_with(rule, rule.severity, location, message);
    }

    /// Reports a finding at a severity of the rule's choosing.
    pub fn push_with(
        &mut self,
        rule: &'static RuleMeta,
        severity: Severity,
        location: Location,
        message: impl Into<String>,
    ) {
        self.items.push(Finding {
            rule: Cow::Borrowed(rule.name),
            code: Cow::Borrowed(rule.code),
            severity,
            message: message.into(),
            location,
        });
    }

    /// The findings so far.
    pub fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}

/// Shows a secret without giving it away: the first few characters, then its length.
pub fn redact(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    let shown = match chars.len() {
        0..=7 => 0,
        8..=15 => 2,
        _ => 4,
    };
    let prefix: String = chars[..shown].iter().collect();
    format!("{prefix}***({} chars)", chars.len())
}

/// Asserts what every table of rules holds: codes that start with `prefix`, five characters long,
/// unique and ascending; unique kebab-case names; a one-line summary, a rationale and a fix.
#[cfg(test)]
pub(crate) fn assert_rule_table(metas: &[&RuleMeta], prefix: &str) {
    let mut last = "";
    let mut names = std::collections::HashSet::new();
    for m in metas {
        assert!(m.code > last, "{} out of order", m.code);
        last = m.code;
        assert!(
            m.code.starts_with(prefix) && m.code.len() == 5,
            "{}",
            m.code
        );
        assert!(names.insert(m.name), "duplicate name {}", m.name);
        assert!(
            m.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{} is not kebab-case",
            m.name
        );
        assert!(!m.summary.is_empty() && !m.rationale.is_empty() && !m.remediation.is_empty());
        assert!(
            !m.summary.ends_with('.'),
            "{}: summary is one line without a period",
            m.name
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_never_shows_most_of_the_secret() {
        assert_eq!(redact("hunter2"), "***(7 chars)");
        assert_eq!(
            redact("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            "wJal***(40 chars)"
        );
        assert!(!redact("ghp_abcdefghijklmnop").contains("efgh"));
    }
}
