//! LG123 task-awslogs-blocking: advisory, awslogs in its default blocking mode.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Notes containers logging with awslogs whose `mode` is not `non-blocking`.
pub struct AwslogsBlocking;

static META: RuleMeta = RuleMeta {
    code: "LG123",
    name: "task-awslogs-blocking",
    severity: Severity::Info,
    summary: "A container logs with awslogs in blocking mode",
    rationale: "In blocking mode, the default, a container's writes to stdout and stderr stop \
                when CloudWatch Logs cannot take them (throttling, an endpoint outage): the \
                application hangs on its next log line and health checks fail.",
    remediation: "Set `logConfiguration.options.mode` to `non-blocking` and size \
                  `max-buffer-size` (like `25m`) for the bursts you expect.",
};

impl Check for AwslogsBlocking {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for c in facts.containers() {
            let Some(logs) = &c.def.log_configuration else {
                continue;
            };
            if logs.log_driver.as_deref() != Some("awslogs") {
                continue;
            }
            let mode = logs.options.as_ref().and_then(|o| o.get("mode"));
            if mode.is_none_or(|m| m != "non-blocking") {
                out.push(
                    &META,
                    Spot::container(&c, "logConfiguration.options.mode"),
                    format!("container {} logs with awslogs in blocking mode", c.name()),
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
    fn only_non_blocking_awslogs_passes() {
        assert_eq!(run(&AwslogsBlocking, &one(r#""logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"g"}}"#)).len(), 1);
        assert!(run(&AwslogsBlocking, &one(r#""logConfiguration":{"logDriver":"awslogs","options":{"mode":"non-blocking"}}"#)).is_empty());
        assert!(run(&AwslogsBlocking, &one(r#""logConfiguration":{"logDriver":"awsfirelens"}"#)).is_empty());
    }
}
