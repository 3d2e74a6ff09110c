//! LG124 task-metadata-reachable: advisory, bridge or host networking reaches the instance's IMDS.

use super::{Check, RuleMeta, network_mode};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Notes EC2 tasks in bridge or host network mode.
pub struct MetadataReachable;

static META: RuleMeta = RuleMeta {
    code: "LG124",
    name: "task-metadata-reachable",
    severity: Severity::Info,
    summary: "In bridge or host network mode the containers can reach the instance metadata service unless the host blocks it",
    rationale: "From the instance metadata service a container gets the EC2 instance role's \
                credentials, which are usually broader than its task role. The task definition \
                cannot block it; the host must. The ECS best-practice guide (IAM roles for \
                tasks) says to block containers from the metadata service.",
    remediation: "On the container instances, for bridge mode add an iptables rule dropping \
                  traffic from docker+ interfaces to 169.254.169.254; for host mode set \
                  `ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST=false`; or move the task to awsvpc \
                  and set `ECS_AWSVPC_BLOCK_IMDS=true`.",
};

impl Check for MetadataReachable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if !facts.launch.ec2 {
            return;
        }
        let mode = network_mode(facts);
        if mode.eq_ignore_ascii_case("bridge") || mode.eq_ignore_ascii_case("host") {
            out.push(
                &META,
                Spot::task(facts, "networkMode").detail(mode),
                format!(
                    "in {mode} network mode the containers reach the instance metadata service \
                     unless the container instance blocks it"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::run;

    #[test]
    fn bridge_by_default_and_host_are_noted_awsvpc_is_not() {
        assert_eq!(run(&MetadataReachable, r#"{"family":"f"}"#)[0].detail.as_deref(), Some("bridge"));
        assert_eq!(run(&MetadataReachable, r#"{"family":"f","networkMode":"host"}"#).len(), 1);
        assert!(run(&MetadataReachable, r#"{"family":"f","networkMode":"awsvpc"}"#).is_empty());
    }
}
