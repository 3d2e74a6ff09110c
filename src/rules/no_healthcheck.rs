//! LG012 no-healthcheck: the image defines no HEALTHCHECK.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports images without a health check, or with the inherited one switched off.
pub struct NoHealthcheck;

static META: RuleMeta = RuleMeta {
    code: "LG012",
    name: "no-healthcheck",
    severity: Severity::Info,
    summary: "The image has no HEALTHCHECK, or disables the one it inherits",
    rationale: "Without a health check the orchestrator only knows whether the process is \
                running, not whether it serves, so a hung task keeps receiving traffic. The ECS \
                best-practice guide (capacity and availability) recommends container health \
                checks with short intervals so unhealthy tasks are replaced quickly.",
    remediation: "Add `HEALTHCHECK CMD [\"/app\", \"healthcheck\"]` to the Dockerfile, or define \
                  `healthCheck` in the ECS task definition's container definition.",
};

impl Rule for NoHealthcheck {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let test = facts
            .config
            .config
            .healthcheck
            .as_ref()
            .and_then(|h| h.test.as_deref());
        let message = match test {
            None | Some([]) => "the image defines no HEALTHCHECK",
            Some([none]) if none == "NONE" => {
                "HEALTHCHECK NONE disables the base image's health check"
            }
            Some(_) => return,
        };
        out.push(&META, Location::config("config.Healthcheck"), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::image_config::Healthcheck;
    use crate::rules::testing::*;
    use crate::image::Image;

    fn run(test: Option<&[&str]>) -> usize {
        let mut image = Image::default();
        image.config.config.healthcheck = test.map(|t| Healthcheck {
            test: Some(t.iter().map(|s| s.to_string()).collect()),
        });
        check(&NoHealthcheck, vec![], image, &Settings::default()).len()
    }

    #[test]
    fn missing_or_disabled_health_checks_are_reported() {
        assert_eq!(run(None), 1);
        assert_eq!(run(Some(&["NONE"])), 1);
        assert_eq!(run(Some(&["CMD", "/app", "healthcheck"])), 0);
        assert_eq!(
            run(Some(&["CMD-SHELL", "curl -f http://localhost/ || exit 1"])),
            0
        );
    }
}
