//! LG025 ecr-public-policy: the ECR repository policy lets anyone in.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};
use crate::posture::RepositoryPolicy;

/// Reports ECR repository policies with an `Allow` for a `*` principal and no narrowing
/// condition.
pub struct EcrPublicPolicy;

static META: RuleMeta = RuleMeta {
    code: "LG025",
    name: "ecr-public-policy",
    severity: Severity::High,
    summary: "The image's ECR repository policy allows any AWS principal, with no condition narrowing it",
    rationale: "A repository policy statement with principal `*` and no condition on the \
                organisation, account, VPC endpoint or source lets every AWS account act on the \
                repository: anyone can pull the images (and whatever the image leaks), and with \
                push actions replace them. The ECS best-practice guide keeps approved images in \
                a private registry (task and container security) and grants least privilege \
                (IAM roles for tasks). High: it exposes the images to the whole internet without \
                any other foothold.",
    remediation: "Name the principals, or narrow the statement with a condition such as \
                  `\"Condition\":{\"StringEquals\":{\"aws:PrincipalOrgID\":\"o-…\"}}`: edit the \
                  output of `aws ecr get-repository-policy --repository-name REPO` and apply it \
                  with `aws ecr set-repository-policy --repository-name REPO --policy-text \
                  file://policy.json`, or remove the policy with `aws ecr \
                  delete-repository-policy --repository-name REPO`.",
};

impl Rule for EcrPublicPolicy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let Some(posture) = &facts.image.posture else {
            return;
        };
        if let Some(RepositoryPolicy::Public { statement }) = &posture.policy {
            out.push(
                &META,
                Location::config("repository.policy"),
                format!(
                    "the policy of ECR repository {name} lets anyone in: statement {statement} \
                     allows principal * with no narrowing condition; fix: narrow it with an \
                     aws:PrincipalOrgID condition and aws ecr set-repository-policy {target} \
                     --policy-text file://policy.json, or aws ecr delete-repository-policy \
                     {target}",
                    name = posture.name(),
                    target = posture.cli_target()
                ),
            );
        }
    }
}
