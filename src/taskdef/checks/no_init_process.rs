//! LG121 task-no-init-process: advisory, a Linux container runs without an init process.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Notes Linux containers without `linuxParameters.initProcessEnabled`.
pub struct NoInitProcess;

static META: RuleMeta = RuleMeta {
    code: "LG121",
    name: "task-no-init-process",
    severity: Severity::Info,
    summary: "A container runs without an init process (`initProcessEnabled` is not set)",
    rationale: "Without an init process the application is PID 1: it does not reap orphaned \
                children, which pile up as zombies, and signals without a handler are ignored, \
                so ECS waits out the stop timeout and kills it. ECS Exec also expects an init \
                process.",
    remediation: "Set `linuxParameters.initProcessEnabled` to true.",
};

impl Check for NoInitProcess {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if !facts.launch.linux() {
            return;
        }
        for c in facts.containers() {
            let enabled = c.def.linux_parameters.as_ref().and_then(|l| l.init_process_enabled);
            if enabled != Some(true) {
                out.push(
                    &META,
                    Spot::container(&c, "linuxParameters.initProcessEnabled"),
                    format!("container {} runs without an init process", c.name()),
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
    fn enabled_passes() {
        assert_eq!(run(&NoInitProcess, &one(r#""essential":true"#))[0].severity, Severity::Info);
        assert!(run(&NoInitProcess, &one(r#""linuxParameters":{"initProcessEnabled":true}"#)).is_empty());
    }
}
