//! LG112 task-mutable-image-tag: a container's image is named by `latest` or no tag, not a digest.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::reference::ImageRef;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports images without a digest whose tag is absent or `latest`.
pub struct MutableImageTag;

static META: RuleMeta = RuleMeta {
    code: "LG112",
    name: "task-mutable-image-tag",
    severity: Severity::Medium,
    summary: "A container's image has no digest and its tag is `latest` or absent",
    rationale: "`latest` (what no tag means) moves on every push, so two tasks of one revision \
                can run different code, and a rollback to the revision does not roll back the \
                code. The ECS best-practice guide (task and container security) says to use \
                immutable tags so a tag always means the same image.",
    remediation: "Refer to the image by digest (`repo@sha256:…`) or by a versioned tag in an ECR \
                  repository with tag immutability turned on.",
};

impl Check for MutableImageTag {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for c in facts.containers() {
            // An image the grammar refuses (a template placeholder, say) names no tag to judge.
            let Some(reference) = c.def.image.as_deref().and_then(|i| ImageRef::parse(i).ok())
            else {
                continue;
            };
            if reference.digest.is_some() {
                continue;
            }
            let pin = c
                .image
                .and_then(|i| i.digest.as_deref())
                .map(|d| format!("; pin it as @{d}"))
                .unwrap_or_default();
            let (severity, what) = match reference.tag.as_deref() {
                None => (META.severity, "has no tag or digest, so it means `latest`".to_owned()),
                Some("latest") => (META.severity, "uses the tag `latest`".to_owned()),
                // A scan of the repository can tell that even a versioned tag can move.
                Some(tag) if c.image.and_then(|i| i.tags_immutable) == Some(false) => (
                    Severity::Low,
                    format!("uses the tag `{tag}` of a repository whose tags can be overwritten"),
                ),
                Some(_) => continue,
            };
            out.push_with(
                &META,
                severity,
                Spot::container(&c, "image").detail(reference.to_string()),
                format!("container {} image {reference} {what}{pin}", c.name()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::ContainerImageFacts;
    use crate::taskdef::testing::{image, run, run_with};

    #[test]
    fn latest_or_no_tag_is_reported_versions_and_digests_are_not() {
        assert_eq!(run(&MutableImageTag, &image("redis"))[0].severity, Severity::Medium);
        assert_eq!(run(&MutableImageTag, &image("localhost:5000/app:latest")).len(), 1);
        assert!(run(&MutableImageTag, &image("redis:7.2")).is_empty());
        let digest = format!("sha256:{}", "a".repeat(64));
        assert!(run(&MutableImageTag, &image(&format!("redis:latest@{digest}"))).is_empty());
        assert!(run(&MutableImageTag, &image("${IMAGE}")).is_empty());
    }

    #[test]
    fn a_mutable_repository_makes_a_versioned_tag_low_with_the_digest() {
        let facts = vec![Some(ContainerImageFacts {
            tags_immutable: Some(false),
            digest: Some(format!("sha256:{}", "b".repeat(64))),
            ..Default::default()
        })];
        let found = run_with(&MutableImageTag, &image("app:1.2"), &facts, &Default::default());
        assert_eq!(found[0].severity, Severity::Low);
        assert!(found[0].message.contains("@sha256:bbbb"), "{}", found[0].message);
    }
}
