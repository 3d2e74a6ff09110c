//! LG107 task-host-ipc: `ipcMode: host`, a task-level setting.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{TaskFacts, TaskFindings};

/// Reports tasks with `ipcMode: host`.
pub struct HostIpc;

static META: RuleMeta = RuleMeta {
    code: "LG107",
    name: "task-host-ipc",
    severity: Severity::Medium,
    summary: "The task shares the host's IPC namespace (`ipcMode: host`)",
    rationale: "With the host's IPC namespace a container can read and write the shared memory, semaphores and message queues of processes on the host, outside the task. The ECS best-practice guide (task and container security) says to give containers only what they need.",
    remediation: "Remove `ipcMode` or set it to `task` (shared between the task's containers) or `none`.",
};

impl Check for HostIpc {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        super::host_namespace(&META, facts, facts.task.ipc_mode.as_deref(), "ipcMode", out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_host_is_reported() {
        crate::taskdef::testing::reports_only_host(&super::HostIpc, "ipcMode");
    }
}
