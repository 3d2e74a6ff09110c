//! LG105 task-host-network: `networkMode: host`, a task-level setting.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{TaskFacts, TaskFindings};

/// Reports tasks with `networkMode: host`.
pub struct HostNetwork;

static META: RuleMeta = RuleMeta {
    code: "LG105",
    name: "task-host-network",
    severity: Severity::Medium,
    summary: "The task uses the host's network namespace (`networkMode: host`)",
    rationale: "With host networking the containers share the host's network stack: they can reach services bound to the host's loopback, the instance metadata service and every port, and no security group separates them from the host. The ECS best-practice guide (network mode) calls host mode a security risk and recommends `awsvpc`, which gives each task its own ENI and security group.",
    remediation: "Use `\"networkMode\": \"awsvpc\"` and a security group per service; if you need bridge's density, use `bridge` with dynamic ports.",
};

impl Check for HostNetwork {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        super::host_namespace(&META, facts, facts.task.network_mode.as_deref(), "networkMode", out);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_host_is_reported() {
        crate::taskdef::testing::reports_only_host(&super::HostNetwork, "networkMode");
    }
}
