//! LG008 secret-in-config: secrets in ENV, labels or the build history of the image config.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity, redact};
use crate::signatures::{assignment_pattern, credential_by_name, find_secrets};

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

impl Rule for SecretInConfig {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let config = facts.config;
        for entry in config.config.env.iter().flatten() {
            let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
            let found = find_secrets(entry);
            // The patterns need a value of some length; an ENV entry's name is certain, so a
            // short value under a credential name counts too.
            if found.is_empty()
                && let Some(kind) = credential_by_name(name, value)
            {
                out.push_with(
                    &META,
                    assignment_pattern().severity,
                    Location::config("config.Env"),
                    format!(
                        "ENV {name} holds a secret ({kind} assignment): {}",
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
                        m.title(),
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
                        m.title(),
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
                        m.title(),
                        redact(m.secret)
                    ),
                );
            }
        }
    }
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

    fn history(image: &mut Image, lines: &[&str]) {
        image.config.history = lines
            .iter()
            .map(|line| crate::image_config::History {
                created_by: Some((*line).to_owned()),
                ..Default::default()
            })
            .collect();
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
                (Some("config.Env".into()), "ENV DB_PASSWORD holds a secret (password assignment): ***(2 chars)".into()),
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

    /// Version pins, checksums, GPG fingerprints, download URLs and settings from the ENV and
    /// history of well-known official images, and settings whose names hold a credential word.
    const OFFICIAL_IMAGES: &str = include_str!("../../testdata/secrets/official-images.txt");

    #[test]
    fn official_images_env_and_history_hold_no_secret() {
        let lines: Vec<&str> = OFFICIAL_IMAGES
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        let mut image = Image::default();
        image.config.config.env = Some(
            lines
                .iter()
                .filter_map(|l| l.strip_prefix("ENV "))
                .map(str::to_owned)
                .collect(),
        );
        history(&mut image, &lines);
        let found = run(image);
        assert!(found.is_empty(), "{found:#?}");
    }

    #[test]
    fn credentials_are_found_and_named_for_what_they_are() {
        let mut image = Image::default();
        image.config.config.env = Some(
            [
                "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
                "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                // Hand-made ids use digits issued ids never have; they are still key ids.
                "AWS_ACCESS_KEY_ID=AKIA1234567890ABCDEF",
                "GITHUB_TOKEN=ghp_0123456789abcdefghijABCDEFGHIJ012345",
                "GH_TOKEN=github_pat_11ABCDEFG0123456789abc_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW",
                "DB_PASSWORD=hunter2hunter2",
                "MYSQL_ROOT_PASSWORD=123456",
                "API_TOKEN=9f8c2e1d7b6a4f3e0c5d8b7a6e1f2c3d",
                "STRIPE_API_KEY=Zm9vYmFyYmF6cXV4cXV1eA",
                "REGISTRY_URL=https://deploy:s3cr3t-passw0rd@registry.example.com/v2",
                "DATABASE_URL=postgres://app:hunter2hunter2@db:5432/app",
            ]
            .map(str::to_owned)
            .into(),
        );
        history(
            &mut image,
            &["RUN |2 API_TOKEN=9f8c2e1d7b6a4f3e0c5d8b7a6e1f2c3d TOOL_VERSION=1.2.3 /bin/sh -c make # buildkit"],
        );
        let found: Vec<String> = run(image).into_iter().map(|(_, m)| m).collect();
        assert_eq!(
            found,
            [
                "ENV AWS_ACCESS_KEY_ID holds a secret (AWS access key ID): AKIA***(20 chars)",
                "ENV AWS_SECRET_ACCESS_KEY holds a secret (AWS secret access key): wJal***(40 chars)",
                "ENV AWS_ACCESS_KEY_ID holds a secret (AWS access key ID): AKIA***(20 chars)",
                "ENV GITHUB_TOKEN holds a secret (GitHub token): ghp_***(40 chars)",
                "ENV GH_TOKEN holds a secret (GitHub token): gith***(93 chars)",
                "ENV DB_PASSWORD holds a secret (password assignment): hu***(14 chars)",
                "ENV MYSQL_ROOT_PASSWORD holds a secret (password assignment): ***(6 chars)",
                "ENV API_TOKEN holds a secret (token assignment): 9f8c***(32 chars)",
                "ENV STRIPE_API_KEY holds a secret (API key assignment): Zm9v***(22 chars)",
                "ENV REGISTRY_URL holds a secret (password in a URL): s3***(15 chars)",
                "ENV DATABASE_URL holds a secret (password in a URL): hu***(14 chars)",
                "build step history[0] records a secret (token assignment): 9f8c***(32 chars)",
            ]
        );
    }
}
