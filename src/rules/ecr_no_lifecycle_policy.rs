//! LG024 ecr-no-lifecycle-policy: old images stay in the ECR repository for ever.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports ECR repositories without a lifecycle policy.
pub struct EcrNoLifecyclePolicy;

/// Expires untagged images two weeks after their push.
const POLICY: &str = r#"{"rules":[{"rulePriority":1,"description":"expire untagged images","selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;

static META: RuleMeta = RuleMeta {
    code: "LG024",
    name: "ecr-no-lifecycle-policy",
    severity: Severity::Low,
    summary: "The image's ECR repository has no lifecycle policy, so old images are never expired",
    rationale: "Without a lifecycle policy every image ever pushed stays pullable, unpatched \
                builds included, and a task definition or a typo can still start one. The ECS \
                best-practice guide (task and container security) says to run curated images an \
                administrator approved; a repository that keeps everything is no longer curated. \
                Low: the guide does not name lifecycle policies, and old images do harm only \
                when something deploys them.",
    remediation: "Expire what is not deployed, for example untagged images after 14 days: `aws \
                  ecr put-lifecycle-policy --repository-name REPO --lifecycle-policy-text \
                  '{\"rules\":[{\"rulePriority\":1,\"description\":\"expire untagged images\",\"selection\":{\"tagStatus\":\"untagged\",\"countType\":\"sinceImagePushed\",\"countUnit\":\"days\",\"countNumber\":14},\"action\":{\"type\":\"expire\"}}]}'`.",
};

impl Rule for EcrNoLifecyclePolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let Some(posture) = &facts.image.posture else {
            return;
        };
        if posture.lifecycle_policy == Some(false) {
            out.push(
                &META,
                Location::config("repository.lifecyclePolicy"),
                format!(
                    "ECR repository {} has no lifecycle policy, so every image ever pushed stays \
                     pullable; fix: aws ecr put-lifecycle-policy {} --lifecycle-policy-text \
                     '{POLICY}'",
                    posture.name(),
                    posture.cli_target()
                ),
            );
        }
    }
}
