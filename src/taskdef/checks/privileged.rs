//! LG101 task-privileged: a container runs privileged.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports containers with `privileged: true`.
pub struct Privileged;

static META: RuleMeta = RuleMeta {
    code: "LG101",
    name: "task-privileged",
    severity: Severity::High,
    summary: "A container runs privileged: every capability and every host device",
    rationale: "A privileged container gets all Linux capabilities and the host's devices, and \
                seccomp and AppArmor stop applying to it; escaping to the host from it is a few \
                commands. The ECS best-practice guide (task and container security) says not to \
                run containers as privileged.",
    remediation: "Remove `privileged` (or set it to false) and add only the capabilities the \
                  container needs under `linuxParameters.capabilities.add`.",
};

impl Check for Privileged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for c in facts.containers().filter(|c| c.privileged()) {
            out.push(
                &META,
                Spot::container(&c, "privileged"),
                format!("container {} runs privileged", c.name()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{one, run};

    #[test]
    fn privileged_containers_are_reported_others_not() {
        let found = run(&Privileged, &one(r#""privileged":true"#));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].field, "containerDefinitions[0].privileged");
        assert_eq!(found[0].container.as_deref(), Some("app"));
        assert!(run(&Privileged, &one(r#""privileged":false"#)).is_empty());
        assert!(run(&Privileged, &one(r#""user":"1000""#)).is_empty());
    }
}
