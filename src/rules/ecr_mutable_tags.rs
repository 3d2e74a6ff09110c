//! LG021 ecr-mutable-tags: the ECR repository lets a push move a tag to another image.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports ECR repositories whose tags are mutable.
pub struct EcrMutableTags;

static META: RuleMeta = RuleMeta {
    code: "LG021",
    name: "ecr-mutable-tags",
    severity: Severity::Medium,
    summary: "The image's ECR repository allows tags to be overwritten",
    rationale: "In a repository with mutable tags anyone with push rights can point an existing \
                tag at other code, and every task that starts from that tag runs it. The ECS \
                best-practice guide (task and container security) says to use immutable tags \
                (ECR tag immutability) so a tag always means the same image. Medium: it takes \
                push rights to exploit, and deployments by digest are not affected.",
    remediation: "Turn tag immutability on: `aws ecr put-image-tag-mutability --repository-name \
                  REPO --image-tag-mutability IMMUTABLE`; publish a new tag for each build \
                  instead of re-pushing one.",
};

impl Rule for EcrMutableTags {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let Some(posture) = &facts.image.posture else {
            return;
        };
        if posture.mutable_tags == Some(true) {
            out.push(
                &META,
                Location::config("repository.imageTagMutability"),
                format!(
                    "ECR repository {} has mutable tags, so a push can move any tag to another \
                     image; fix: aws ecr put-image-tag-mutability {} --image-tag-mutability \
                     IMMUTABLE",
                    posture.name(),
                    posture.cli_target()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    //! The tests of all five `ecr-*` rules: each judges one field of the same posture.
    use super::*;
    use crate::config::Settings;
    use crate::finding::Finding;
    use crate::image::Image;
    use crate::posture::{Encryption, RepositoryPolicy, RepositoryPosture};
    use crate::rules::ecr_no_lifecycle_policy::EcrNoLifecyclePolicy;
    use crate::rules::ecr_not_kms_encrypted::EcrNotKmsEncrypted;
    use crate::rules::ecr_public_policy::EcrPublicPolicy;
    use crate::rules::ecr_scanning_off::EcrScanningOff;

    const ARN: &str = "arn:aws:ecr:eu-west-1:123456789012:repository/team/app";

    fn run(rule: &dyn Rule, posture: Option<RepositoryPosture>) -> Vec<Finding> {
        let image = Image {
            posture,
            ..Image::default()
        };
        crate::rules::testing::check(rule, vec![], image, &Settings::default())
    }

    /// Every field as bad as it gets.
    fn weak() -> RepositoryPosture {
        RepositoryPosture {
            service: "ecr".into(),
            repository: ARN.into(),
            mutable_tags: Some(true),
            scanning: Some(false),
            encryption: Some(Encryption::Aes256),
            lifecycle_policy: Some(false),
            policy: Some(RepositoryPolicy::Public {
                statement: "PullForAll".into(),
            }),
            warnings: vec![],
        }
    }

    /// Every field as good as it gets.
    fn strong() -> RepositoryPosture {
        RepositoryPosture {
            mutable_tags: Some(false),
            scanning: Some(true),
            encryption: Some(Encryption::Kms {
                key: Some("arn:aws:kms:eu-west-1:123456789012:key/k".into()),
                customer_managed: Some(true),
            }),
            lifecycle_policy: Some(true),
            policy: Some(RepositoryPolicy::NotPublic),
            ..weak()
        }
    }

    /// Nothing could be read.
    fn unknown() -> RepositoryPosture {
        RepositoryPosture {
            service: "ecr".into(),
            repository: ARN.into(),
            warnings: vec!["ecr:DescribeRepositories denied".into()],
            ..RepositoryPosture::default()
        }
    }

    fn all() -> [&'static dyn Rule; 5] {
        [
            &EcrMutableTags,
            &EcrScanningOff,
            &EcrNotKmsEncrypted,
            &EcrNoLifecyclePolicy,
            &EcrPublicPolicy,
        ]
    }

    #[test]
    fn a_weak_repository_fails_every_rule_once_with_the_exact_fix() {
        let mut severities = Vec::new();
        for rule in all() {
            let found = run(rule, Some(weak()));
            assert_eq!(found.len(), 1, "{}: {found:?}", rule.meta().name);
            let message = &found[0].message;
            assert!(message.contains("team/app"), "{message}");
            assert!(
                message.contains("aws ecr ")
                    && message.contains("--repository-name team/app")
                    && message.contains("--region eu-west-1"),
                "{message}"
            );
            severities.push(found[0].severity);
        }
        assert_eq!(
            severities,
            [
                Severity::Medium,
                Severity::Medium,
                Severity::Low,
                Severity::Low,
                Severity::High
            ]
        );
        assert!(run(&EcrPublicPolicy, Some(weak()))[0].message.contains("PullForAll"));
    }

    #[test]
    fn a_strong_an_unread_or_a_missing_posture_fails_none() {
        for rule in all() {
            for posture in [Some(strong()), Some(unknown()), None] {
                let found = run(rule, posture.clone());
                assert!(found.is_empty(), "{}: {posture:?}: {found:?}", rule.meta().name);
            }
        }
        let absent = RepositoryPosture {
            policy: Some(RepositoryPolicy::Absent),
            ..weak()
        };
        assert!(run(&EcrPublicPolicy, Some(absent)).is_empty());
    }

    #[test]
    fn the_aws_managed_key_is_a_lower_finding_and_an_undescribed_key_none() {
        let kms = |customer_managed| RepositoryPosture {
            encryption: Some(Encryption::Kms {
                key: None,
                customer_managed,
            }),
            ..weak()
        };
        let found = run(&EcrNotKmsEncrypted, Some(kms(Some(false))));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(found[0].message.contains("customer-managed"), "{}", found[0].message);
        assert!(run(&EcrNotKmsEncrypted, Some(kms(None))).is_empty());
        let aes = run(&EcrNotKmsEncrypted, Some(weak()));
        assert!(aes[0].message.contains("AES-256"), "{}", aes[0].message);
    }
}
