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
    /// A policy statement that allows anyone (`*` principal) with no narrowing condition, by its
    /// `Sid` or position.
    pub public_statement: Option<Option<String>>,
    /// What could not be read and the permission it needs, one sentence each.
    pub warnings: Vec<String>,
}

/// Encryption at rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encryption {
    /// Service-managed AES-256.
    Aes256,
    /// A KMS key; `customer_managed` is `None` when the key could not be described.
    Kms {
        /// The key's ARN or ID.
        key: Option<String>,
        /// True for a customer-managed key, false for the AWS-managed `aws/ecr` key.
        customer_managed: Option<bool>,
    },
}
