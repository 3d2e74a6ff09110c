//! LG108 task-added-capabilities: a container adds Linux capabilities.

use super::{Check, DANGEROUS_CAPABILITIES, RuleMeta, capability};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports each container that adds capabilities, high when one of them controls the host.
pub struct AddedCapabilities;

static META: RuleMeta = RuleMeta {
    code: "LG108",
    name: "task-added-capabilities",
    severity: Severity::High,
    summary: "A container adds Linux capabilities beyond Docker's default set",
    rationale: "Each added capability widens what a compromised process may do to the kernel; \
                SYS_ADMIN, NET_ADMIN, SYS_MODULE, SYS_PTRACE, BPF and the like are enough to \
                leave the container. The ECS best-practice guide (task and container security) \
                says to drop the capabilities a container does not need, let alone add more.",
    remediation: "Remove the capabilities from `linuxParameters.capabilities.add` unless the \
                  container cannot work without them; prefer a narrow one (NET_BIND_SERVICE) \
                  over a broad one, and never ALL or SYS_ADMIN.",
};

impl Check for AddedCapabilities {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if !facts.launch.linux() {
            return;
        }
        for c in facts.containers() {
            let added: Vec<String> = c.added_capabilities().iter().map(|a| capability(a)).collect();
            if added.is_empty() {
                continue;
            }
            let dangerous = added
                .iter()
                .any(|a| DANGEROUS_CAPABILITIES.contains(&a.as_str()));
            let severity = if dangerous {
                Severity::High
            } else {
                Severity::Medium
            };
            let list = added.join(",");
            out.push_with(
                &META,
                severity,
                Spot::container(&c, "linuxParameters.capabilities.add").detail(&list),
                format!("container {} adds the capabilities {list}", c.name()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{one, run};

    fn adds(caps: &str) -> Vec<(Severity, String)> {
        run(
            &AddedCapabilities,
            &one(&format!(r#""linuxParameters":{{"capabilities":{{"add":[{caps}]}}}}"#)),
        )
        .into_iter()
        .map(|f| (f.severity, f.detail.unwrap()))
        .collect()
    }

    #[test]
    fn dangerous_ones_are_high_others_medium_none_nothing() {
        assert_eq!(adds(r#""NET_BIND_SERVICE","CAP_SYS_ADMIN""#), [(Severity::High, "NET_BIND_SERVICE,SYS_ADMIN".to_owned())]);
        assert_eq!(adds(r#""ALL""#)[0].0, Severity::High);
        assert_eq!(adds(r#""SYS_PTRACE""#)[0].0, Severity::High);
        assert_eq!(adds(r#""NET_BIND_SERVICE","CHOWN""#), [(Severity::Medium, "NET_BIND_SERVICE,CHOWN".to_owned())]);
        assert!(adds("").is_empty());
        assert!(run(&AddedCapabilities, &one(r#""linuxParameters":{"capabilities":{"drop":["ALL"]}}"#)).is_empty());
    }
}
