//! LG120 task-secrets-without-execution-role: the agent must fetch something but has no role.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports each kind of agent-fetched data a container uses in a task without
/// `executionRoleArn`.
pub struct SecretsWithoutExecutionRole;

static META: RuleMeta = RuleMeta {
    code: "LG120",
    name: "task-secrets-without-execution-role",
    severity: Severity::Medium,
    summary: "A container uses secrets, registry credentials or S3 environment files and the task has no execution role",
    rationale: "The ECS agent fetches `secrets`, `repositoryCredentials`, \
                `logConfiguration.secretOptions` and `environmentFiles` with the task's \
                execution role before the container starts; without one the task fails to \
                start, which is how a deployment that moved secrets out of `environment` the \
                right way still breaks. The ECS best-practice guide (IAM roles for tasks) says \
                the execution role is the agent's.",
    remediation: "Set `executionRoleArn` to a role with the `AmazonECSTaskExecutionRolePolicy` \
                  and permission to read the secrets, parameters or S3 objects named.",
};

impl Check for SecretsWithoutExecutionRole {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if facts
            .task
            .execution_role_arn
            .as_deref()
            .is_some_and(|r| !r.trim().is_empty())
        {
            return;
        }
        for c in facts.containers() {
            let uses = [
                ("secrets", !c.def.secrets.is_empty()),
                ("repositoryCredentials", c.def.repository_credentials.as_ref().is_some_and(|r| !r.is_null())),
                (
                    "logConfiguration.secretOptions",
                    c.def.log_configuration.as_ref().is_some_and(|l| !l.secret_options.is_empty()),
                ),
                ("environmentFiles", !c.def.environment_files.is_empty()),
            ];
            for (what, _) in uses.into_iter().filter(|(_, used)| *used) {
                out.push(
                    &META,
                    Spot::container(&c, what).detail(what),
                    format!(
                        "container {} uses {what}, which the agent fetches with the execution \
                         role, and the task has no executionRoleArn: it would fail to start",
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
    use crate::taskdef::testing::run;

    #[test]
    fn each_use_is_named_and_a_role_silences_them() {
        let container = r#"{"name":"a","secrets":[{"name":"X","valueFrom":"arn:aws:ssm:us-east-1:1:parameter/x"}],
            "repositoryCredentials":{"credentialsParameter":"arn:aws:secretsmanager:us-east-1:1:secret:r"},
            "logConfiguration":{"logDriver":"splunk","secretOptions":[{"name":"splunk-token","valueFrom":"arn:x"}]},
            "environmentFiles":[{"value":"arn:aws:s3:::bucket/app.env","type":"s3"}]}"#;
        let without = format!(r#"{{"family":"f","containerDefinitions":[{container}]}}"#);
        let details: Vec<String> = run(&SecretsWithoutExecutionRole, &without)
            .into_iter()
            .map(|f| f.detail.unwrap())
            .collect();
        assert_eq!(details, ["secrets", "repositoryCredentials", "logConfiguration.secretOptions", "environmentFiles"]);
        let with = format!(r#"{{"family":"f","executionRoleArn":"arn:aws:iam::1:role/exec","containerDefinitions":[{container}]}}"#);
        assert!(run(&SecretsWithoutExecutionRole, &with).is_empty());
    }
}
