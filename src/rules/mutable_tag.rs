//! LG007 mutable-tag: the image is referred to by a tag that can move, not by digest.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports references that are not pinned to a digest.
pub struct MutableTag;

static META: RuleMeta = RuleMeta {
    code: "LG007",
    name: "mutable-tag",
    severity: Severity::High,
    summary: "The image reference is a tag that can be moved to another image, not a digest",
    rationale: "A tag is a pointer anyone with push rights can move, so the same task definition \
                can start different code on different hosts, or code nobody reviewed; `latest` \
                moves on every push. The ECS best-practice guide (task and container security) \
                says to use immutable tags (ECR tag immutability) so a tag always means the same \
                image.",
    remediation: "Refer to the image by digest in the task definition (`repo@sha256:…`), turn on \
                  tag immutability in the ECR repository, and use a versioned tag instead of \
                  `latest`.",
};

impl Rule for MutableTag {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let Some(reference) = &facts.image.reference else {
            return;
        };
        if reference.digest.is_some() {
            return;
        }
        let pin = match (&facts.image.repo_digest, &facts.image.manifest_digest) {
            (Some(repo_digest), _) => format!("pin it as {repo_digest}"),
            (None, Some(manifest)) => format!("pin it as @{manifest}"),
            (None, None) => "pin it to its registry digest (@sha256:…)".to_owned(),
        };
        let (severity, what) = match reference.tag.as_deref() {
            None => (
                Severity::High,
                "has no tag or digest, so it means `latest`".to_owned(),
            ),
            Some("latest") => (Severity::High, "uses the tag `latest`".to_owned()),
            // A registry that refuses to move tags (ECR tag immutability) keeps this one
            // meaning this image; elsewhere any tag can be pushed over.
            Some(tag)
                if facts
                    .image
                    .posture
                    .as_ref()
                    .is_some_and(|p| p.mutable_tags == Some(false)) =>
            {
                (
                    Severity::Low,
                    format!("uses the tag `{tag}` without a digest (the repository's tags are immutable)"),
                )
            }
            Some(tag) => (
                Severity::High,
                format!("uses the tag `{tag}` without a digest"),
            ),
        };
        // An archive's or the daemon's tag only names the image on this machine; what a task
        // definition will pull is decided when it is pushed, so the advice stands but cannot fail
        // a build of the image itself.
        let (severity, message) = if facts.image.local {
            (
                Severity::Low,
                format!(
                    "{reference} {what}; here that is only a local name, but a deployment by tag \
                     can be moved to another image: deploy it by digest ({pin})"
                ),
            )
        } else {
            (
                severity,
                format!("{reference} {what}, which can be moved to another image; {pin}"),
            )
        };
        out.push_with(&META, severity, Location::config("reference"), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::reference::ImageRef;
    use crate::image::Image;

    fn run(reference: Option<&str>, repo_digest: Option<&str>) -> Vec<(Severity, String)> {
        let image = Image {
            reference: reference.map(|r| ImageRef::parse(r).unwrap()),
            repo_digest: repo_digest.map(str::to_owned),
            ..Image::default()
        };
        crate::rules::testing::check(&MutableTag, vec![], image, &Settings::default())
            .into_iter()
            .map(|f| (f.severity, f.message))
            .collect()
    }

    #[test]
    fn a_local_name_is_low_with_the_same_advice() {
        let image = Image {
            reference: ImageRef::parse("app:latest").ok(),
            local: true,
            ..Image::default()
        };
        let found = crate::rules::testing::check(&MutableTag, vec![], image, &Settings::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Low);
        assert!(found[0].message.contains("deploy it by digest"), "{}", found[0].message);
    }

    #[test]
    fn an_immutable_repository_makes_a_tag_low() {
        let image = Image {
            reference: ImageRef::parse("registry.example.com/app:1.2").ok(),
            posture: Some(crate::posture::RepositoryPosture {
                mutable_tags: Some(false),
                ..Default::default()
            }),
            ..Image::default()
        };
        let found = crate::rules::testing::check(&MutableTag, vec![], image, &Settings::default());
        assert_eq!(found[0].severity, Severity::Low);
        assert!(found[0].message.contains("immutable"), "{}", found[0].message);
    }

    #[test]
    fn pulled_tags_are_high_digests_fine() {
        let found = run(Some("app"), None);
        assert_eq!(found[0].0, Severity::High);
        assert!(
            found[0].1.contains("pin it to its registry digest"),
            "{}",
            found[0].1
        );
        assert_eq!(run(Some("ghcr.io/o/app:latest"), None)[0].0, Severity::High);
        let digest = format!("sha256:{}", "a".repeat(64));
        let found = run(Some("app:1.2"), Some(&format!("app@{digest}")));
        assert_eq!(
            found,
            [(
                Severity::High,
                format!(
                    "app:1.2 uses the tag `1.2` without a digest, which can be moved to another image; pin it as app@{digest}"
                )
            )]
        );

        assert!(run(Some(&format!("app:1.2@{digest}")), None).is_empty());
        assert!(run(None, None).is_empty());
    }
}
