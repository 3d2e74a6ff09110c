//! LG125 task-environment-files: advisory, variables come from S3 files this lint cannot read.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Notes containers with `environmentFiles`.
pub struct EnvironmentFiles;

static META: RuleMeta = RuleMeta {
    code: "LG125",
    name: "task-environment-files",
    severity: Severity::Info,
    summary: "A container reads environment files from S3, which this check cannot see into",
    rationale: "Variables from `environmentFiles` are as plain as `environment`: whoever can \
                read the S3 object reads them, and a credential there escapes \
                task-secret-in-environment because the file is not in the task definition.",
    remediation: "Keep credentials out of the files and in `secrets` (valueFrom Secrets Manager \
                  or SSM); restrict and encrypt the S3 objects.",
};

impl Check for EnvironmentFiles {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for c in facts.containers().filter(|c| !c.def.environment_files.is_empty()) {
            out.push(
                &META,
                Spot::container(&c, "environmentFiles"),
                format!(
                    "container {} reads {} environment file(s) from S3, not checked for secrets",
                    c.name(),
                    c.def.environment_files.len()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{one, run};

    #[test]
    fn files_are_noted() {
        assert_eq!(run(&EnvironmentFiles, &one(r#""environmentFiles":[{"value":"arn:aws:s3:::b/a.env","type":"s3"}]"#)).len(), 1);
        assert!(run(&EnvironmentFiles, &one(r#""environment":[]"#)).is_empty());
    }
}
