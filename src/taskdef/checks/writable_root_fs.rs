//! LG103 task-writable-root-fs: a Linux container's root filesystem is writable.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports Linux containers without `readonlyRootFilesystem: true`.
pub struct WritableRootFs;

static META: RuleMeta = RuleMeta {
    code: "LG103",
    name: "task-writable-root-fs",
    severity: Severity::High,
    summary: "A container's root filesystem is writable: `readonlyRootFilesystem` is absent or false",
    rationale: "A writable root filesystem lets an attacker who got code execution drop tools, \
                replace binaries and persist in the container. The ECS best-practice guide (task \
                and container security) says to use a read-only root filesystem.",
    remediation: "Set `\"readonlyRootFilesystem\": true` and mount a volume (or a bind-mount \
                  volume without `sourcePath`) at the few paths the process writes, like /tmp.",
};

impl Check for WritableRootFs {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        // Windows containers cannot have a read-only root filesystem.
        if !facts.launch.linux() {
            return;
        }
        for c in facts.containers() {
            let how = match c.def.readonly_root_filesystem {
                Some(true) => continue,
                Some(false) => "sets `readonlyRootFilesystem` to false",
                None => "does not set `readonlyRootFilesystem`",
            };
            out.push(
                &META,
                Spot::container(&c, "readonlyRootFilesystem"),
                format!("container {} {how}: its root filesystem is writable", c.name()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{one, run};

    #[test]
    fn absent_or_false_is_writable_and_windows_is_skipped() {
        assert_eq!(run(&WritableRootFs, &one(r#""essential":true"#)).len(), 1);
        assert_eq!(
            run(&WritableRootFs, &one(r#""readonlyRootFilesystem":false"#))[0].field,
            "containerDefinitions[0].readonlyRootFilesystem"
        );
        assert!(run(&WritableRootFs, &one(r#""readonlyRootFilesystem":true"#)).is_empty());
        let windows = r#"{"family":"w","runtimePlatform":{"operatingSystemFamily":"WINDOWS_SERVER_2019_FULL"},"containerDefinitions":[{"name":"w"}]}"#;
        assert!(run(&WritableRootFs, windows).is_empty());
    }
}
