//! LG011 untrusted-registry: the image or its base comes from Docker Hub or an unlisted registry.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};
use crate::reference::{DOCKER_HUB, ImageRef, allowed_by as allows};

/// Reports images and base images pulled from registries outside the allow-list.
pub struct UntrustedRegistry;

static META: RuleMeta = RuleMeta {
    code: "LG011",
    name: "untrusted-registry",
    severity: Severity::Medium,
    summary: "The image or its base image comes from Docker Hub or a registry not on the allow-list",
    rationale: "Anyone can publish to a public registry, and a tag there can be replaced or \
                typosquatted, so what a build pulls is only as trustworthy as the registry. The \
                ECS best-practice guide (task and container security) says not to pull from \
                Docker Hub directly but to use curated images an administrator approved, kept in \
                a private registry such as ECR.",
    remediation: "Mirror approved base images into ECR (ECR pull-through cache or a curated \
                  repository) and build `FROM` those; list the registries you trust under \
                  `allowed_registries` in layerguard.toml.",
};

/// Where the OCI annotation convention records the base image.
const BASE_NAME: &str = "org.opencontainers.image.base.name";

impl Rule for UntrustedRegistry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let base = facts
            .image
            .annotations
            .get(BASE_NAME)
            .map(|b| (b, "annotations"))
            .or_else(|| {
                let labels = facts.config.config.labels.as_ref()?;
                Some((labels.get(BASE_NAME)?, "config.Labels"))
            });
        if let Some((name, field)) = base
            && let Ok(reference) = ImageRef::parse(name)
        {
            self.check(
                &reference,
                "base image",
                &format!("{field}.{BASE_NAME}"),
                facts,
                out,
            );
        }
        // A local name (an archive's tag, the daemon's) says nothing of where the image was
        // pulled from: only an image pulled from a registry is judged (an unqualified one came
        // from Docker Hub), the base-image annotation above either way.
        if let Some(reference) = &facts.image.reference
            && !facts.image.local
        {
            self.check(reference, "image", "reference", facts, out);
        }
    }
}

impl UntrustedRegistry {
    fn check(
        &self,
        reference: &ImageRef,
        what: &str,
        field: &str,
        facts: &ImageFacts<'_>,
        out: &mut Findings,
    ) {
        let registry = reference.registry_or_hub().unwrap_or(DOCKER_HUB);
        let allowed = &facts.settings.allowed_registries;
        let message = if registry == DOCKER_HUB {
            format!(
                "the {what} {reference} is pulled from Docker Hub directly; use a curated copy in \
                 a private registry such as ECR"
            )
        } else if !allowed.is_empty() && !allowed.iter().any(|a| allows(a, registry, reference)) {
            format!(
                "the {what} {reference} comes from {registry}, which is not in allowed_registries ({})",
                allowed.join(", ")
            )
        } else {
            return;
        };
        out.push(&META, Location::config(field), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    const ECR: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

    fn run(reference: Option<&str>, base: Option<&str>, allowed: &[&str]) -> Vec<String> {
        let mut image = Image {
            reference: reference.map(|r| ImageRef::parse(r).unwrap()),
            ..Image::default()
        };
        if let Some(base) = base {
            image.annotations.insert(BASE_NAME.into(), base.into());
        }
        let mut settings = Settings::default();
        settings.allowed_registries = allowed.iter().map(|a| a.to_string()).collect();
        check(&UntrustedRegistry, vec![], image, &settings)
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn a_local_name_is_no_pull_source_but_the_base_annotation_is() {
        let local = |base: Option<&str>| {
            let mut image = Image {
                reference: ImageRef::parse("docker.io/team/app:1.0").ok(),
                local: true,
                ..Image::default()
            };
            if let Some(base) = base {
                image.annotations.insert(BASE_NAME.into(), base.into());
            }
            check(&UntrustedRegistry, vec![], image, &Settings::default())
        };
        assert!(local(None).is_empty());
        let found = local(Some("docker.io/library/debian:12"));
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("base image"), "{}", found[0].message);
    }

    #[test]
    fn docker_hub_is_always_flagged_and_others_against_the_allow_list() {
        let found = run(None, Some("alpine:3.19"), &[]);
        assert_eq!(
            found,
            [
                "the base image alpine:3.19 is pulled from Docker Hub directly; use a curated copy in a private registry such as ECR"
            ]
        );
        assert_eq!(
            run(Some("index.docker.io/library/nginx:1"), None, &[ECR]).len(),
            1
        );
        let found = run(Some("ghcr.io/o/app:1"), None, &[ECR]);
        assert!(
            found[0].contains("comes from ghcr.io, which is not in allowed_registries"),
            "{found:?}"
        );
        assert!(
            run(
                Some(&format!("{ECR}/team/app:1")),
                None,
                &[&format!("{ECR}/other")]
            )
            .len()
                == 1
        );
    }

    #[test]
    fn allowed_registries_may_be_host_globs() {
        let every_ecr = ["*.dkr.ecr.*.amazonaws.com"];
        assert!(run(Some(&format!("{ECR}/team/app:1")), None, &every_ecr).is_empty());
        assert_eq!(run(Some("ghcr.io/o/app:1"), None, &every_ecr).len(), 1);
        assert!(
            run(Some(&format!("{ECR}/team/app:1")), None, &["*.DKR.ecr.*.amazonaws.com/team"])
                .is_empty()
        );
    }

    #[test]
    fn a_pulled_image_without_a_registry_came_from_docker_hub() {
        let image = Image {
            reference: ImageRef::parse("alpine:latest").ok(),
            local: false,
            ..Image::default()
        };
        let found = check(&UntrustedRegistry, vec![], image, &Settings::default());
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("Docker Hub"), "{}", found[0].message);
    }

    #[test]
    fn allowed_and_unqualified_references_pass() {
        assert!(
            run(
                Some(&format!("{ECR}/team/app:1")),
                Some(&format!("{ECR}/base/al2023:1")),
                &[ECR]
            )
            .is_empty()
        );
        assert!(
            run(
                Some(&format!("{ECR}/team/app:1")),
                None,
                &[&format!("{ECR}/team")]
            )
            .is_empty()
        );
        assert!(
            run(Some("ghcr.io/o/app:1"), None, &[]).is_empty(),
            "no allow-list: only Docker Hub is flagged"
        );
    }
}
