//! LG022 ecr-scanning-off: nothing scans the images pushed to the ECR repository.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports ECR repositories that neither scan on push nor fall under a registry scanning rule.
pub struct EcrScanningOff;

static META: RuleMeta = RuleMeta {
    code: "LG022",
    name: "ecr-scanning-off",
    severity: Severity::Medium,
    summary: "The image's ECR repository has no scan on push and no registry scanning rule covers it",
    rationale: "Unscanned images reach tasks with whatever known vulnerabilities their packages \
                carry, and nobody is told when a new one is published. The ECS best-practice \
                guide (task and container security) says to scan images for vulnerabilities, \
                application packages and libraries too, which ECR's enhanced scanning does \
                continuously. Medium: it lets known vulnerabilities through unseen rather than \
                adding one.",
    remediation: "Scan the registry with Amazon Inspector: `aws ecr \
                  put-registry-scanning-configuration --scan-type ENHANCED --rules \
                  '[{\"scanFrequency\":\"CONTINUOUS_SCAN\",\"repositoryFilters\":[{\"filter\":\"*\",\"filterType\":\"WILDCARD\"}]}]'`, \
                  or at least scan this repository on push: `aws ecr \
                  put-image-scanning-configuration --repository-name REPO \
                  --image-scanning-configuration scanOnPush=true`.",
};

impl Rule for EcrScanningOff {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let Some(posture) = &facts.image.posture else {
            return;
        };
        if posture.scanning == Some(false) {
            out.push(
                &META,
                Location::config("repository.imageScanningConfiguration"),
                format!(
                    "ECR repository {} scans nothing: no scan on push and no registry scanning \
                     rule matches it; fix: aws ecr put-image-scanning-configuration {} \
                     --image-scanning-configuration scanOnPush=true (or an ENHANCED registry \
                     scanning rule)",
                    posture.name(),
                    posture.cli_target()
                ),
            );
        }
    }
}
