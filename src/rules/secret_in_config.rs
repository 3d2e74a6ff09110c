//! LG008 secret-in-config: secrets in ENV, labels or the build history of the image config.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity, redact};
use crate::signatures::find_secrets;

/// Reports secrets anyone who can pull the image can read with `docker inspect`.
pub struct SecretInConfig;

static META: RuleMeta = RuleMeta {
    code: "LG008",
    name: "secret-in-config",
    severity: Severity::Critical,
    summary: "A secret is in the image config: an ENV value, a label or a build argument in history",
    rationale: "The image config is readable by anyone who can pull the image (`docker inspect`, \
                `docker history`), and build arguments used by a `RUN` are recorded in its \
                history. The ECS best-practice guide (secrets management) says to keep secrets \
                in AWS Secrets Manager or SSM Parameter Store and reference them from the task \
                definition, never bake them into the image or plain environment variables.",
    remediation: "Rotate the secret now: it is public to everyone who could pull the image. Then \
                  remove it from ENV, LABEL and ARG; pass it at run time with the task \
                  definition's `secrets` (valueFrom a Secrets Manager or SSM ARN), and at build \
                  time with `RUN --mount=type=secret`.",
};

/// Substrings of ENV names that say the value is a credential.
const SECRET_NAMES: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "PRIVATE_KEY",
];

/// Name suffixes that say the value points at a credential instead of being one.
const REFERENCE_SUFFIXES: &[&str] = &["_FILE", "_PATH", "_DIR", "_ARN"];

/// Value prefixes that refer to a secret kept elsewhere.
const REFERENCE_PREFIXES: &[&str] = &[
    "$",
    "arn:aws:secretsmanager:",
    "arn:aws:ssm:",
    "/run/secrets/",
];

impl Rule for SecretInConfig {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let config = facts.config;
        for entry in config.config.env.iter().flatten() {
            let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
            let found = find_secrets(entry);
            if found.is_empty() && named_secret(name, value) {
                out.push(
                    &META,
                    Location::config("config.Env"),
                    format!(
                        "ENV {name} holds a secret (so its name says): {}",
                        redact(value)
                    ),
                );
            }
            for m in found {
                out.push_with(
                    &META,
                    m.pattern.severity,
                    Location::config("config.Env"),
                    format!(
                        "ENV {name} holds a secret ({}): {}",
                        m.pattern.title,
                        redact(m.secret)
                    ),
                );
            }
        }
        for (key, value) in config.config.labels.iter().flatten() {
            for m in find_secrets(&format!("{key}={value}")) {
                out.push_with(
                    &META,
                    m.pattern.severity,
                    Location::config(format!("config.Labels.{key}")),
                    format!(
                        "label {key} holds a secret ({}): {}",
                        m.pattern.title,
                        redact(m.secret)
                    ),
                );
            }
        }
        for (i, entry) in config.history.iter().enumerate() {
            let Some(created_by) = entry.created_by.as_deref() else {
                continue;
            };
            // Only the redacted secret is shown: the instruction itself would give it away.
            for m in find_secrets(created_by) {
                out.push_with(
                    &META,
                    m.pattern.severity,
                    Location::config(format!("history[{i}].created_by")),
                    format!(
                        "build step history[{i}] records a secret ({}): {}",
                        m.pattern.title,
                        redact(m.secret)
                    ),
                );
            }
        }
    }
}

/// True when an ENV entry's name says it is a credential and its value is one, not a reference.
fn named_secret(name: &str, value: &str) -> bool {
    let name = name.to_ascii_uppercase();
    let value = value.trim();
    SECRET_NAMES.iter().any(|s| name.contains(s))
        && !REFERENCE_SUFFIXES.iter().any(|s| name.ends_with(s))
        && !value.is_empty()
        && !REFERENCE_PREFIXES.iter().any(|p| value.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    fn run(image: Image) -> Vec<(Option<String>, String)> {
        check(&SecretInConfig, vec![], image, &Settings::default())
            .into_iter()
            .map(|f| (f.location.config, f.message))
            .collect()
    }

    #[test]
    fn secrets_in_env_labels_and_history_are_reported_redacted() {
        let mut image = image_with_history(&[
            "#(nop)  ARG GITHUB_TOKEN",
            "|1 GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx /bin/sh -c make",
        ]);
        image.config.config.env = Some(vec![
            "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE".into(),
            "DB_PASSWORD=pw".into(),
            "PATH=/usr/bin".into(),
        ]);
        image.config.config.labels = Some(
            [(
                "deploy.token".to_owned(),
                "glpat-xxxxxxxxxxxxxxxxxxxx".to_owned(),
            )]
            .into(),
        );
        let found = run(image);
        assert_eq!(
            found,
            [
                (Some("config.Env".into()), "ENV AWS_ACCESS_KEY_ID holds a secret (AWS access key ID): AKIA***(20 chars)".into()),
                (Some("config.Env".into()), "ENV DB_PASSWORD holds a secret (so its name says): ***(2 chars)".into()),
                (Some("config.Labels.deploy.token".into()), "label deploy.token holds a secret (GitLab personal access token): glpa***(26 chars)".into()),
                (Some("history[1].created_by".into()), "build step history[1] records a secret (GitHub token): ghp_***(40 chars)".into()),
            ]
        );
        assert!(
            found
                .iter()
                .all(|(_, m)| !m.contains("xxxx") && !m.contains("IOSF"))
        );
    }

    #[test]
    fn references_and_ordinary_settings_are_not_secrets() {
        let mut image = image_with_history(&["apt-get install -y curl"]);
        image.config.config.env = Some(vec![
            "DB_PASSWORD=$DB_PASSWORD".into(),
            "API_TOKEN=arn:aws:secretsmanager:us-east-1:123456789012:secret:api".into(),
            "DB_PASSWORD_FILE=/run/secrets/db".into(),
            "GITHUB_TOKEN=".into(),
            "PATH=/usr/local/bin:/usr/bin".into(),
        ]);
        assert!(run(image).is_empty());
    }
}
