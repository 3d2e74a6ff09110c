//! LG106 task-host-pid: `pidMode: host`, a task-level setting.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{TaskFacts, TaskFindings};

/// Reports tasks with `pidMode: host`.
pub struct HostPid;

static META: RuleMeta = RuleMeta {
    code: "LG106",
    name: "task-host-pid",
    severity: Severity::High,
    summary: "The task shares the host's process namespace (`pidMode: host`)",
    rationale: "With the host's PID namespace a container sees every process on the host, and with enough privilege can signal, trace or read the memory and environment (including credentials) of processes outside the task. The ECS best-practice guide (task and container security) says to give containers only what they need.",
    remediation: "Remove `pidMode` or set it to `task` to share a namespace only between the task's own containers.",
};

impl Check for HostPid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        super::host_namespace(&META, facts, facts.task.pid_mode.as_deref(), "pidMode", out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_host_is_reported() {
        crate::taskdef::testing::reports_only_host(&super::HostPid, "pidMode");
    }
}
