//! LG122 task-no-nofile-ulimit: advisory, a Linux container leaves its open-file limit default.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Notes Linux containers without a `nofile` entry in `ulimits`.
pub struct NoNofileUlimit;

static META: RuleMeta = RuleMeta {
    code: "LG122",
    name: "task-no-nofile-ulimit",
    severity: Severity::Info,
    summary: "A container sets no `nofile` ulimit, so its open-file limit is the host's default",
    rationale: "The open-file limit decides how many connections a server holds before it fails \
                with `too many open files`; left to the default it differs between EC2 AMIs, \
                Docker versions and Fargate, so the same task behaves differently on each.",
    remediation: "Add `{\"name\": \"nofile\", \"softLimit\": 65535, \"hardLimit\": 65535}` (or what \
                  the service needs) to `ulimits`.",
};

impl Check for NoNofileUlimit {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if !facts.launch.linux() {
            return;
        }
        for c in facts.containers() {
            let set = c
                .def
                .ulimits
                .iter()
                .any(|u| u.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case("nofile")));
            if !set {
                out.push(
                    &META,
                    Spot::container(&c, "ulimits"),
                    format!("container {} sets no nofile ulimit", c.name()),
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
    fn a_nofile_entry_passes() {
        assert_eq!(run(&NoNofileUlimit, &one(r#""ulimits":[{"name":"nproc","softLimit":1,"hardLimit":1}]"#)).len(), 1);
        assert!(run(&NoNofileUlimit, &one(r#""ulimits":[{"name":"nofile","softLimit":1,"hardLimit":1}]"#)).is_empty());
    }
}
