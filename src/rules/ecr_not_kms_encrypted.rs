//! LG023 ecr-not-kms-encrypted: the ECR repository is not encrypted with a customer-managed key.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};
use crate::posture::Encryption;

/// Reports ECR repositories encrypted with AES-256 (low) or the AWS-managed KMS key (info).
pub struct EcrNotKmsEncrypted;

static META: RuleMeta = RuleMeta {
    code: "LG023",
    name: "ecr-not-kms-encrypted",
    severity: Severity::Low,
    summary: "The image's ECR repository is encrypted with AES-256 or the AWS-managed key, not a customer-managed KMS key",
    rationale: "With service-managed AES-256 or the AWS-managed `aws/ecr` key, who may decrypt \
                the images is decided by ECR permissions alone: no key policy of yours stands in \
                between, and CloudTrail shows no decryption you control. The ECS best-practice \
                guide (task and container security) says to encrypt ECR images with a \
                customer-managed KMS key. Low, info for the AWS-managed key: images are \
                encrypted at rest either way, and this is defence in depth.",
    remediation: "A repository's encryption is fixed when it is created: create a new one with \
                  `aws ecr create-repository --repository-name REPO --encryption-configuration \
                  encryptionType=KMS,kmsKey=KEY_ARN`, copy the images into it (`skopeo copy \
                  --all docker://OLD docker://NEW`) and move the tasks over.",
};

impl Rule for EcrNotKmsEncrypted {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let Some(posture) = &facts.image.posture else {
            return;
        };
        let (severity, what) = match &posture.encryption {
            Some(Encryption::Aes256) => (
                Severity::Low,
                "is encrypted with service-managed AES-256, not a KMS key",
            ),
            Some(Encryption::Kms {
                customer_managed: Some(false),
                ..
            }) => (
                Severity::Info,
                "is encrypted with the AWS-managed KMS key aws/ecr; a customer-managed key is \
                 best, so its key policy decides who may decrypt",
            ),
            _ => return,
        };
        out.push_with(
            &META,
            severity,
            Location::config("repository.encryptionConfiguration"),
            format!(
                "ECR repository {} {what}; fix (encryption is set at creation): aws ecr \
                 create-repository {} --encryption-configuration encryptionType=KMS,kmsKey=KEY_ARN \
                 under a new name, then copy the images",
                posture.name(),
                posture.cli_target()
            ),
        );
    }
}
