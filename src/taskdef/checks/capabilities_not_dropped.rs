//! LG109 task-capabilities-not-dropped: a Linux container keeps Docker's default capabilities.

use super::{Check, RuleMeta, capability};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports containers whose `capabilities.drop` lacks ALL.
pub struct CapabilitiesNotDropped;

static META: RuleMeta = RuleMeta {
    code: "LG109",
    name: "task-capabilities-not-dropped",
    severity: Severity::Low,
    summary: "A container does not drop ALL capabilities, so it keeps Docker's default set",
    rationale: "Docker's default set (CHOWN, DAC_OVERRIDE, FOWNER, SETUID, SETGID, NET_RAW, …) is \
                more than most services use, and each is a step in a privilege escalation. The \
                ECS best-practice guide (task and container security) says to drop the Linux \
                capabilities the container does not need.",
    remediation: "Set `linuxParameters.capabilities.drop` to `[\"ALL\"]` and add back only what \
                  the process needs under `add`.",
};

impl Check for CapabilitiesNotDropped {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if !facts.launch.linux() {
            return;
        }
        // Docker ignores drops on a privileged container; task-privileged says what matters.
        for c in facts.containers().filter(|c| !c.privileged()) {
            let drops_all = c
                .def
                .linux_parameters
                .as_ref()
                .and_then(|l| l.capabilities.as_ref())
                .is_some_and(|caps| caps.drop.iter().any(|d| capability(d) == "ALL"));
            if !drops_all {
                out.push(
                    &META,
                    Spot::container(&c, "linuxParameters.capabilities.drop"),
                    format!("container {} does not drop ALL capabilities", c.name()),
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
    fn drop_all_passes_partial_drops_and_none_do_not() {
        assert_eq!(run(&CapabilitiesNotDropped, &one(r#""essential":true"#)).len(), 1);
        assert_eq!(run(&CapabilitiesNotDropped, &one(r#""linuxParameters":{"capabilities":{"drop":["NET_RAW"]}}"#)).len(), 1);
        assert!(run(&CapabilitiesNotDropped, &one(r#""linuxParameters":{"capabilities":{"drop":["all"]}}"#)).is_empty());
        assert!(run(&CapabilitiesNotDropped, &one(r#""privileged":true"#)).is_empty());
    }
}
