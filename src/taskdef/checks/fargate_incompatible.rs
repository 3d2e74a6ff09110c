//! LG119 task-fargate-incompatible: a task that requires Fargate uses a setting Fargate rejects.

use super::{Check, RuleMeta, capability, network_mode};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports each setting Fargate refuses, on tasks whose `requiresCompatibilities` has FARGATE.
pub struct FargateIncompatible;

static META: RuleMeta = RuleMeta {
    code: "LG119",
    name: "task-fargate-incompatible",
    severity: Severity::High,
    summary: "A task that requires Fargate uses a setting Fargate rejects",
    rationale: "Fargate refuses to register, or to run, a task definition with settings only an \
                EC2 host can grant: a network mode other than awsvpc, host PID or any IPC mode, \
                privileged containers, Docker security options, capabilities other than \
                SYS_PTRACE and host paths. Each is also a weakness on EC2; on Fargate the \
                deployment fails. The ECS best-practice guide (Fargate) notes SYS_PTRACE is the \
                only capability Fargate lets a task add.",
    remediation: "Remove the setting, or drop FARGATE from `requiresCompatibilities` if the \
                  task really needs an EC2 host; use `\"networkMode\": \"awsvpc\"` on Fargate.",
};

impl Check for FargateIncompatible {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        if !facts.launch.fargate {
            return;
        }
        let mut task_setting = |field: &str, setting: String| {
            out.push(
                &META,
                Spot::task(facts, field).detail(&setting),
                format!("the task requires Fargate, which rejects {setting}"),
            );
        };
        let mode = network_mode(facts);
        if !mode.eq_ignore_ascii_case("awsvpc") {
            task_setting("networkMode", format!("networkMode={mode}"));
        }
        if let Some(pid) = facts.task.pid_mode.as_deref()
            && pid.eq_ignore_ascii_case("host")
        {
            task_setting("pidMode", format!("pidMode={pid}"));
        }
        if let Some(ipc) = facts.task.ipc_mode.as_deref() {
            task_setting("ipcMode", format!("ipcMode={ipc}"));
        }
        for (i, volume) in facts.task.volumes.iter().enumerate() {
            if volume.host.as_ref().is_some_and(|h| h.source_path.is_some()) {
                let name = volume.name.as_deref().unwrap_or("");
                task_setting(
                    &format!("volumes[{i}].host.sourcePath"),
                    format!("host.sourcePath (volume {name})"),
                );
            }
        }
        for c in facts.containers() {
            let mut container_setting = |field: &str, setting: String| {
                out.push(
                    &META,
                    Spot::container(&c, field).detail(&setting),
                    format!(
                        "container {} uses {setting}, which Fargate rejects",
                        c.name()
                    ),
                );
            };
            if c.privileged() {
                container_setting("privileged", "privileged".to_owned());
            }
            if !c.def.docker_security_options.is_empty() {
                container_setting("dockerSecurityOptions", "dockerSecurityOptions".to_owned());
            }
            for added in c.added_capabilities().iter().map(|a| capability(a)) {
                if added != "SYS_PTRACE" {
                    container_setting(
                        "linuxParameters.capabilities.add",
                        format!("capabilities.add={added}"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::{fargate, run};

    fn details(json: &str) -> Vec<String> {
        run(&FargateIncompatible, json)
            .into_iter()
            .map(|f| f.detail.unwrap())
            .collect()
    }

    #[test]
    fn every_setting_fargate_rejects_is_named() {
        let json = r#"{"family":"t","requiresCompatibilities":["FARGATE"],"networkMode":"bridge","pidMode":"host","ipcMode":"task",
            "volumes":[{"name":"sock","host":{"sourcePath":"/var/run/docker.sock"}},{"name":"scratch","host":{}}],
            "containerDefinitions":[{"name":"a","privileged":true,"dockerSecurityOptions":["no-new-privileges"],
              "linuxParameters":{"capabilities":{"add":["SYS_PTRACE","NET_ADMIN"]}}}]}"#;
        assert_eq!(
            details(json),
            [
                "networkMode=bridge",
                "pidMode=host",
                "ipcMode=task",
                "host.sourcePath (volume sock)",
                "privileged",
                "dockerSecurityOptions",
                "capabilities.add=NET_ADMIN",
            ]
        );
        let no_mode = r#"{"family":"t","requiresCompatibilities":["FARGATE"],"containerDefinitions":[]}"#;
        assert_eq!(details(no_mode), ["networkMode=bridge"]);
    }

    #[test]
    fn a_clean_fargate_task_and_any_ec2_task_pass() {
        assert!(details(&fargate(r#""linuxParameters":{"capabilities":{"add":["SYS_PTRACE"]}}"#)).is_empty());
        let ec2 = r#"{"family":"t","networkMode":"bridge","containerDefinitions":[{"name":"a","privileged":true}]}"#;
        assert!(details(ec2).is_empty());
    }
}
