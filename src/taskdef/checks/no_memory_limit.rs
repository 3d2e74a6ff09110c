//! LG110 task-no-memory-limit: an EC2 container with no hard memory limit anywhere.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports EC2 containers without `memory` in a task without task-level `memory`.
pub struct NoMemoryLimit;

static META: RuleMeta = RuleMeta {
    code: "LG110",
    name: "task-no-memory-limit",
    severity: Severity::Medium,
    summary: "An EC2 container has no hard memory limit, and neither has its task",
    rationale: "Without a hard limit a leaking or attacked container can take the instance's \
                memory and get its neighbours killed; `memoryReservation` is only a soft limit \
                used for placement. The ECS best-practice guide (task and container security) \
                says to set CPU and memory limits. Fargate always enforces the task size.",
    remediation: "Set a hard `memory` (MiB) on the container, or a task-level `memory`; keep \
                  `memoryReservation` for the amount it usually needs.",
};

fn is_set(value: Option<&serde_json::Value>) -> bool {
    match value {
        None | Some(serde_json::Value::Null) => false,
        Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

impl Check for NoMemoryLimit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if !facts.launch.ec2 || is_set(facts.task.memory.as_ref()) {
            return;
        }
        for c in facts.containers().filter(|c| c.def.memory.is_none()) {
            let soft = if c.def.memory_reservation.is_some() {
                " (memoryReservation is only a soft limit)"
            } else {
                ""
            };
            out.push(
                &META,
                Spot::container(&c, "memory"),
                format!(
                    "container {} has no hard memory limit and the task sets no memory{soft}",
                    c.name()
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{fargate, one, run};

    #[test]
    fn a_hard_limit_on_the_container_or_task_is_enough_and_fargate_is_skipped() {
        let soft = run(&NoMemoryLimit, &one(r#""memoryReservation":256"#));
        assert!(soft[0].message.contains("soft"), "{}", soft[0].message);
        assert!(run(&NoMemoryLimit, &one(r#""memory":512"#)).is_empty());
        let task_level = r#"{"family":"t","memory":"1024","containerDefinitions":[{"name":"a"}]}"#;
        assert!(run(&NoMemoryLimit, task_level).is_empty());
        assert!(run(&NoMemoryLimit, &fargate(r#""essential":true"#)).is_empty());
    }
}
