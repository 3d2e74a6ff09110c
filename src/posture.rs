//! What a registry says about the repository an image came from: tag mutability, scanning,
//! encryption, lifecycle and access policy. Common vocabulary: the ECR source gathers it, the
//! `ecr-*` rules judge it. Every field is `None` when the registry could not be asked (a missing
//! IAM permission); the reason is then in `warnings`, and no rule guesses.

use serde::{Deserialize, Serialize};

/// One repository's settings, as far as they could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepositoryPosture {
    /// Which registry service answered (`ecr`).
    pub service: String,
    /// The repository's ARN or name, for messages.
    pub repository: String,
    /// True when tags can be overwritten (ECR `imageTagMutability` is `MUTABLE` or
    /// `MUTABLE_WITH_EXCLUSION`).
    pub mutable_tags: Option<bool>,
    /// True when pushes are scanned: the repository's scan-on-push or a registry-level scanning
    /// rule whose filter matches the repository.
    pub scanning: Option<bool>,
    /// How the repository is encrypted at rest.
    pub encryption: Option<Encryption>,
    /// True when a lifecycle policy exists.
    pub lifecycle_policy: Option<bool>,
    /// What the repository policy lets outsiders do.
    pub policy: Option<RepositoryPolicy>,
    /// What could not be read and the permission it needs, one sentence each.
    pub warnings: Vec<String>,
}

impl RepositoryPosture {
    /// The repository's name: what follows `repository/` in its ARN, or the whole name.
    pub fn name(&self) -> &str {
        self.repository
            .split_once(":repository/")
            .map_or(self.repository.as_str(), |(_, name)| name)
    }

    /// The `aws ecr` arguments that name this repository: `--repository-name`, and the
    /// registry and region when the ARN tells them.
    pub fn cli_target(&self) -> String {
        let mut target = format!("--repository-name {}", self.name());
        let arn: Vec<&str> = self.repository.splitn(6, ':').collect();
        if let ["arn", _, "ecr", region, account, _] = arn.as_slice() {
            target = format!("--registry-id {account} {target} --region {region}");
        }
        target
    }
}

/// Encryption at rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encryption {
    /// Service-managed AES-256.
    Aes256,
    /// A KMS key; `customer_managed` is `None` when the key could not be described.
    Kms {
        /// The key's ARN or ID; `None` when the registry names none, which means the
        /// AWS-managed `aws/ecr` key.
        key: Option<String>,
        /// True for a customer-managed key, false for the AWS-managed `aws/ecr` key.
        customer_managed: Option<bool>,
    },
}

/// The repository policy, as far as public access goes.
// An enum rather than `Option<Option<String>>`: JSON has one `null`, so "no public statement"
// and "not known" would read back as the same value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RepositoryPolicy {
    /// The repository has no policy: only the account's own IAM principals get in.
    Absent,
    /// A policy exists and every statement that allows something names who, or narrows it.
    NotPublic,
    /// A statement allows anyone (a `*` principal) with no narrowing condition.
    Public {
        /// The statement's `Sid`, or its position (`statement 2`) when it has none.
        statement: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_target_names_the_repository_exactly() {
        let posture = RepositoryPosture {
            repository: "arn:aws:ecr:eu-west-1:123456789012:repository/team/app".into(),
            ..RepositoryPosture::default()
        };
        assert_eq!(posture.name(), "team/app");
        assert_eq!(
            posture.cli_target(),
            "--registry-id 123456789012 --repository-name team/app --region eu-west-1"
        );
        let named = RepositoryPosture {
            repository: "app".into(),
            ..RepositoryPosture::default()
        };
        assert_eq!(named.cli_target(), "--repository-name app");
    }

    #[test]
    fn every_posture_reads_back_as_written() {
        let postures = [
            RepositoryPosture::default(),
            RepositoryPosture {
                service: "ecr".into(),
                repository: "arn:aws:ecr:eu-west-1:123456789012:repository/app".into(),
                mutable_tags: Some(true),
                scanning: Some(false),
                encryption: Some(Encryption::Kms {
                    key: Some("arn:aws:kms:eu-west-1:123456789012:key/k".into()),
                    customer_managed: None,
                }),
                lifecycle_policy: Some(false),
                policy: Some(RepositoryPolicy::Absent),
                warnings: vec!["kms:DescribeKey denied".into()],
            },
            RepositoryPosture {
                encryption: Some(Encryption::Aes256),
                policy: Some(RepositoryPolicy::Public {
                    statement: "PullForAll".into(),
                }),
                ..RepositoryPosture::default()
            },
            RepositoryPosture {
                policy: Some(RepositoryPolicy::NotPublic),
                ..RepositoryPosture::default()
            },
        ];
        for posture in postures {
            let json = serde_json::to_string(&posture).unwrap();
            let back: RepositoryPosture = serde_json::from_str(&json).unwrap();
            assert_eq!(back, posture, "{json}");
        }
    }
}
