//! LG116 task-no-new-privileges: an EC2 Linux container may gain privileges through setuid files.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports EC2 Linux containers whose `dockerSecurityOptions` lack `no-new-privileges`.
pub struct NoNewPrivileges;

static META: RuleMeta = RuleMeta {
    code: "LG116",
    name: "task-no-new-privileges",
    severity: Severity::Low,
    summary: "An EC2 container's security options lack no-new-privileges",
    rationale: "Without `no-new-privileges` a process can gain privileges by running a setuid or \
                setgid binary, or one with file capabilities, which turns a foothold as a \
                non-root user into root in the container. The ECS best-practice guide (task and \
                container security) says to remove setuid bits and run without privileges; \
                `dockerSecurityOptions` is where EC2 tasks say so (Fargate does not take it).",
    remediation: "Add `\"no-new-privileges\"` to the container's `dockerSecurityOptions`.",
};

impl Check for NoNewPrivileges {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if !facts.launch.ec2 || !facts.launch.linux() {
            return;
        }
        for c in facts.containers().filter(|c| !c.privileged()) {
            let set = c.def.docker_security_options.iter().any(|o| {
                let o = o.trim();
                o == "no-new-privileges" || o == "no-new-privileges:true"
            });
            if !set {
                out.push(
                    &META,
                    Spot::container(&c, "dockerSecurityOptions"),
                    format!("container {} does not set no-new-privileges", c.name()),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{fargate, one, run};

    #[test]
    fn ec2_linux_containers_need_it_fargate_and_privileged_do_not() {
        assert_eq!(run(&NoNewPrivileges, &one(r#""dockerSecurityOptions":["label:type:x"]"#)).len(), 1);
        assert!(run(&NoNewPrivileges, &one(r#""dockerSecurityOptions":["no-new-privileges"]"#)).is_empty());
        assert!(run(&NoNewPrivileges, &one(r#""privileged":true"#)).is_empty());
        assert!(run(&NoNewPrivileges, &fargate(r#""essential":true"#)).is_empty());
    }
}
