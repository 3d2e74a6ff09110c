//! LG114 task-no-healthcheck: an essential container that serves ports has no health check.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports essential containers with `portMappings` and no `healthCheck`.
pub struct NoHealthcheck;

static META: RuleMeta = RuleMeta {
    code: "LG114",
    name: "task-no-healthcheck",
    severity: Severity::Low,
    summary: "An essential container publishes ports but has no health check",
    rationale: "Without a container health check ECS counts a hung process as healthy: it keeps \
                the task, and a deployment rolls forward onto it. The ECS best-practice guide \
                (capacity and availability) recommends health checks with short intervals.",
    remediation: "Add a `healthCheck` with a command that exercises the service, like \
                  `[\"CMD-SHELL\", \"curl -f http://localhost:8080/health || exit 1\"]`, with a \
                  short interval and a start period that covers start-up.",
};

impl Check for NoHealthcheck {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for c in facts.containers() {
            if c.essential() && !c.def.port_mappings.is_empty() && c.def.health_check.is_none() {
                out.push(
                    &META,
                    Spot::container(&c, "healthCheck"),
                    format!("essential container {} publishes ports and has no healthCheck", c.name()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{one, run};

    #[test]
    fn only_essential_containers_with_ports_need_one() {
        let ports = r#""portMappings":[{"containerPort":80}]"#;
        assert_eq!(run(&NoHealthcheck, &one(ports)).len(), 1);
        assert!(run(&NoHealthcheck, &one(&format!(r#"{ports},"healthCheck":{{"command":["CMD","true"]}}"#))).is_empty());
        assert!(run(&NoHealthcheck, &one(&format!(r#"{ports},"essential":false"#))).is_empty());
        assert!(run(&NoHealthcheck, &one(r#""essential":true"#)).is_empty());
    }
}
