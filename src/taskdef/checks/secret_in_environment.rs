//! LG104 task-secret-in-environment: a credential in a container's plain `environment`.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::signatures::{assignment_pattern, credential_by_name, find_secrets, is_setting_value};
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports environment variables whose value is a credential by its form or by its name.
pub struct SecretInEnvironment;

static META: RuleMeta = RuleMeta {
    code: "LG104",
    name: "task-secret-in-environment",
    severity: Severity::Critical,
    summary: "A credential is in a container's plain `environment` instead of `secrets`",
    rationale: "Plain environment values are stored in the task definition: anyone allowed \
                `ecs:DescribeTaskDefinition` reads them, they are copied into every revision, CI \
                logs and infrastructure code, and `docker inspect` on the host shows them. The \
                ECS best-practice guide (secrets management) says to keep secrets in Secrets \
                Manager or SSM Parameter Store and reference them from the task definition, \
                never in plain environment variables.",
    remediation: "Rotate the credential, store it in Secrets Manager or SSM Parameter Store, and \
                  move the variable from `environment` to `secrets` with `valueFrom` set to the \
                  secret's or parameter's ARN (the execution role needs permission to read it).",
};

/// Names that hold credentials by convention, whatever words they are made of.
const CREDENTIAL_NAMES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "ECS_ENGINE_AUTH_DATA",
];

/// How bad the variable is and what it holds, or `None` when it is no credential.
fn judge(name: &str, value: &str) -> Option<(Severity, String)> {
    if value.trim().is_empty() {
        return None;
    }
    // The value's form is certain; the name-only record is judged below, with the value rules
    // a task definition needs.
    let assignment = format!("{name}={value}");
    let by_form = find_secrets(&assignment)
        .into_iter()
        .filter(|m| !std::ptr::eq(m.pattern, assignment_pattern()))
        .max_by_key(|m| m.pattern.severity);
    if let Some(m) = by_form {
        return Some((m.pattern.severity, m.title().into_owned()));
    }
    if CREDENTIAL_NAMES.iter().any(|n| n.eq_ignore_ascii_case(name)) {
        return (!is_setting_value(value)).then(|| (Severity::High, "credential".to_owned()));
    }
    let kind = credential_by_name(name, value)?;
    (!is_setting_value(value)).then(|| (Severity::High, kind.to_owned()))
}

impl Check for SecretInEnvironment {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for c in facts.containers() {
            for (i, var) in c.def.environment.iter().enumerate() {
                let (Some(name), Some(value)) = (&var.name, &var.value) else {
                    continue;
                };
                let Some((severity, what)) = judge(name, value) else {
                    continue;
                };
                out.push_with(
                    &META,
                    severity,
                    Spot::container(&c, &format!("environment[{i}].value")).detail(name),
                    format!(
                        "container {} sets {name} in plain `environment`, and its value is a {what}",
                        c.name()
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{one, run};

    fn env(name: &str, value: &str) -> Vec<(Severity, String)> {
        let json = one(&format!(
            r#""environment":[{{"name":{},"value":{}}}]"#,
            serde_json::json!(name),
            serde_json::json!(value)
        ));
        run(&SecretInEnvironment, &json)
            .into_iter()
            .map(|f| (f.severity, f.detail.unwrap()))
            .collect()
    }

    #[test]
    fn credentials_by_form_are_critical() {
        for (name, value) in [
            ("KEY", "AKIAIOSFODNN7EXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
            ("TLS_KEY", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC\n-----END PRIVATE KEY-----"),
            ("GH", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
            ("PAYMENTS", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"),
            ("PAYMENTS_RESTRICTED", "rk_live_xxxxxxxxxxxxxxxxxxxxxxxx"),
            ("SLACK", "xoxb-0000000000-xxxxxxxxxxxx"),
        ] {
            assert_eq!(env(name, value), [(Severity::Critical, name.to_owned())], "{name}");
        }
    }

    #[test]
    fn credentials_by_name_are_high_and_references_are_not_credentials() {
        for (name, value) in [
            ("DB_PASSWORD", "hunter2hunter2"),
            ("AWS_ACCESS_KEY_ID", "notakeyid"),
            ("ECS_ENGINE_AUTH_DATA", r#"{"registry.example.com":{"username":"u","password":"p"}}"#),
            ("API_KEY", "abc"),
            ("apikey", "zzzzzz"),
            ("SERVICE_CREDENTIALS", "user:pw"),
            ("GITHUB_TOKEN", "abcdefgh"),
        ] {
            assert_eq!(env(name, value), [(Severity::High, name.to_owned())], "{name}");
        }
        for (name, value) in [
            ("DB_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf"),
            ("TOKEN_URL", "https://auth.example.com/oauth/token"),
            ("SESSION_TOKEN_TIMEOUT", "3600"),
            ("DB_PASSWORD", "12345"),
            ("USE_TOKEN", "true"),
            ("AWS_ACCESS_KEY_ID", ""),
            ("API_KEY", "arn:aws:ssm:us-east-1:123456789012:parameter/api-key"),
            ("LOG_LEVEL", "debug"),
            ("AWS_REGION", "us-east-1"),
        ] {
            assert!(env(name, value).is_empty(), "{name}={value}");
        }
    }

    #[test]
    fn secrets_from_value_from_are_never_findings_and_values_never_printed() {
        let json = one(
            r#""secrets":[{"name":"DB_PASSWORD","valueFrom":"arn:aws:secretsmanager:us-east-1:1:secret:db"}],"environment":[{"name":"DB_PASSWORD","value":"hunter2hunter2"}]"#,
        );
        let found = run(&SecretInEnvironment, &json);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "containerDefinitions[0].environment[0].value");
        assert!(!found[0].message.contains("hunter"), "{}", found[0].message);
        assert!(run(&SecretInEnvironment, &one(r#""secrets":[{"name":"DB_PASSWORD","valueFrom":"arn:aws:ssm:us-east-1:1:parameter/db"}]"#)).is_empty());
    }
}
