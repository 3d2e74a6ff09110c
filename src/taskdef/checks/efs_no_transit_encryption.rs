//! LG118 task-efs-no-transit-encryption: an EFS volume is mounted without TLS.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports each EFS volume whose `transitEncryption` is not ENABLED.
pub struct EfsNoTransitEncryption;

static META: RuleMeta = RuleMeta {
    code: "LG118",
    name: "task-efs-no-transit-encryption",
    severity: Severity::Medium,
    summary: "An EFS volume is mounted without encryption in transit",
    rationale: "Without transit encryption the NFS traffic between the task and EFS is plain \
                text on the network, and IAM authorization for the mount cannot be used (it \
                requires TLS). The ECS best-practice guide asks for encryption of data the task \
                handles; EFS in a task definition is off unless asked for.",
    remediation: "Set `efsVolumeConfiguration.transitEncryption` to `ENABLED` (and consider \
                  `authorizationConfig.iam` with an access point).",
};

impl Check for EfsNoTransitEncryption {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for (i, volume) in facts.task.volumes.iter().enumerate() {
            let Some(efs) = &volume.efs_volume_configuration else {
                continue;
            };
            if efs
                .transit_encryption
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case("ENABLED"))
            {
                continue;
            }
            let name = volume.name.clone().unwrap_or_else(|| format!("volumes[{i}]"));
            out.push(
                &META,
                Spot::task(facts, &format!("volumes[{i}].efsVolumeConfiguration.transitEncryption"))
                    .detail(&name),
                format!("EFS volume {name} does not enable transit encryption"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::run;

    #[test]
    fn only_enabled_passes() {
        let efs = |config: &str| {
            run(&EfsNoTransitEncryption, &format!(r#"{{"family":"f","volumes":[{{"name":"data","efsVolumeConfiguration":{{"fileSystemId":"fs-1"{config}}}}},{{"name":"scratch"}}]}}"#))
        };
        assert_eq!(efs("")[0].detail.as_deref(), Some("data"));
        assert_eq!(efs(r#","transitEncryption":"DISABLED""#).len(), 1);
        assert!(efs(r#","transitEncryption":"ENABLED""#).is_empty());
    }
}
