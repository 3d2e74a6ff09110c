//! LG111 task-no-logging: a container sends its logs nowhere.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports containers without `logConfiguration.logDriver`.
pub struct NoLogging;

static META: RuleMeta = RuleMeta {
    code: "LG111",
    name: "task-no-logging",
    severity: Severity::High,
    summary: "A container has no log configuration, so its logs are lost with the task",
    rationale: "Without a log driver a container's output stays on the instance (or, on Fargate, \
                nowhere) and disappears with the task: an incident leaves no trail. The ECS \
                best-practice guide (logging and monitoring) says to send logs to CloudWatch \
                Logs with awslogs or through FireLens.",
    remediation: "Add a `logConfiguration` with `\"logDriver\": \"awslogs\"` (and the group, \
                  region and stream prefix options) or `awsfirelens` with a log router \
                  container.",
};

impl Check for NoLogging {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for c in facts.containers() {
            let (field, how) = match &c.def.log_configuration {
                None => ("logConfiguration", "has no `logConfiguration`"),
                Some(l) if l.log_driver.as_deref().is_none_or(|d| d.trim().is_empty()) => {
                    ("logConfiguration.logDriver", "has a `logConfiguration` without a `logDriver`")
                }
                Some(_) => continue,
            };
            out.push(
                &META,
                Spot::container(&c, field),
                format!("container {} {how}", c.name()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{one, run};

    #[test]
    fn any_driver_counts_and_none_does_not() {
        assert_eq!(run(&NoLogging, &one(r#""essential":true"#))[0].field, "containerDefinitions[0].logConfiguration");
        assert_eq!(run(&NoLogging, &one(r#""logConfiguration":{"options":{}}"#))[0].field, "containerDefinitions[0].logConfiguration.logDriver");
        assert!(run(&NoLogging, &one(r#""logConfiguration":{"logDriver":"awsfirelens"}"#)).is_empty());
        assert!(run(&NoLogging, &one(r#""logConfiguration":{"logDriver":"awslogs"}"#)).is_empty());
    }
}
