//! LG113 task-untrusted-registry: a container's image comes from a registry nobody curates.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::reference::{DOCKER_HUB, ImageRef, allowed_by};
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports images outside private ECR, ECR Public and `allowed_registries`.
pub struct UntrustedRegistry;

static META: RuleMeta = RuleMeta {
    code: "LG113",
    name: "task-untrusted-registry",
    severity: Severity::Medium,
    summary: "A container's image comes from a registry that is not ECR and not on the allow-list",
    rationale: "Anyone can publish to a public registry, and a tag there can be replaced or \
                typosquatted, so what the task runs is only as trustworthy as the registry; a \
                pull from Docker Hub is also rate-limited and can fail a deployment. The ECS \
                best-practice guide (task and container security) says to use curated images \
                kept in a private registry such as ECR.",
    remediation: "Copy the image into ECR (a pull-through cache rule or a curated repository) \
                  and refer to that copy; list other registries you trust under \
                  `allowed_registries` in layerguard.toml.",
};

/// Private ECR in any region and partition, and ECR Public.
fn is_ecr(registry: &str) -> bool {
    let registry = registry.to_ascii_lowercase();
    registry == "public.ecr.aws"
        || [".amazonaws.com", ".amazonaws.com.cn"].iter().any(|suffix| {
            registry.strip_suffix(suffix).is_some_and(|head| {
                let parts: Vec<&str> = head.split('.').collect();
                matches!(parts.as_slice(), [account, "dkr", "ecr", region]
                    if !account.is_empty() && !region.is_empty())
            })
        })
}

impl Check for UntrustedRegistry {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        let allowed = &facts.settings.allowed_registries;
        for c in facts.containers() {
            let Some(reference) = c.def.image.as_deref().and_then(|i| ImageRef::parse(i).ok())
            else {
                continue;
            };
            let registry = reference.registry_or_hub().unwrap_or(DOCKER_HUB);
            if is_ecr(registry) || allowed.iter().any(|a| allowed_by(a, registry, &reference)) {
                continue;
            }
            let from = if registry == DOCKER_HUB {
                "Docker Hub".to_owned()
            } else {
                registry.to_owned()
            };
            out.push(
                &META,
                Spot::container(&c, "image").detail(registry),
                format!(
                    "container {} pulls {reference} from {from}, which is neither ECR nor in \
                     allowed_registries",
                    c.name()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::taskdef::testing::{image, run, run_with};

    #[test]
    fn ecr_is_trusted_docker_hub_and_others_are_not() {
        for trusted in [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1",
            "public.ecr.aws/nginx/nginx:1.25",
        ] {
            assert!(run(&UntrustedRegistry, &image(trusted)).is_empty(), "{trusted}");
        }
        for (untrusted, registry) in [
            ("redis", "docker.io"),
            ("library/redis:7", "docker.io"),
            ("index.docker.io/team/app:1", "docker.io"),
            ("ghcr.io/o/app:1", "ghcr.io"),
            ("registry.example.com:5000/app", "registry.example.com:5000"),
            ("evil.dkr.ecr.us-east-1.amazonaws.com.attacker.net/app", "evil.dkr.ecr.us-east-1.amazonaws.com.attacker.net"),
        ] {
            let found = run(&UntrustedRegistry, &image(untrusted));
            assert_eq!(found[0].detail.as_deref(), Some(registry), "{untrusted}");
        }
    }

    #[test]
    fn allowed_registries_globs_are_trusted() {
        let mut settings = Settings::default();
        settings.allowed_registries = vec!["*.example.com".into(), "ghcr.io/acme".into()];
        let run = |i: &str| run_with(&UntrustedRegistry, &image(i), &[], &settings);
        assert!(run("registry.example.com/app:1").is_empty());
        assert!(run("ghcr.io/acme/app:1").is_empty());
        assert_eq!(run("ghcr.io/other/app:1").len(), 1);
    }
}
