//! The task-definition checks: one file each plus one line in [`register!`] below, like the
//! image rules. A check reads [`TaskFacts`] and pushes [`TaskFindings`]; it never reads a file
//! or the network, so each is tested on a task definition written inline.

use super::{TaskFacts, TaskFindings};
pub use crate::finding::RuleMeta;

/// A task-definition check.
pub trait Check: Send + Sync {
    /// Its documentation.
    fn meta(&self) -> &'static RuleMeta;

    /// Judges one task definition.
    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings);
}

macro_rules! register {
    ($($module:ident :: $check:ident),* $(,)?) => {
        $(mod $module;)*
        /// Every check, in code order.
        pub static CHECKS: &[&dyn Check] = &[$(&$module::$check),*];
    };
}

register! {
    privileged::Privileged,
    root_user::RootUser,
    writable_root_fs::WritableRootFs,
    secret_in_environment::SecretInEnvironment,
    host_network::HostNetwork,
    host_pid::HostPid,
    host_ipc::HostIpc,
    added_capabilities::AddedCapabilities,
    capabilities_not_dropped::CapabilitiesNotDropped,
    no_memory_limit::NoMemoryLimit,
    no_logging::NoLogging,
    mutable_image_tag::MutableImageTag,
    untrusted_registry::UntrustedRegistry,
    no_healthcheck::NoHealthcheck,
    host_path_mount::HostPathMount,
    no_new_privileges::NoNewPrivileges,
    same_task_and_execution_role::SameTaskAndExecutionRole,
    efs_no_transit_encryption::EfsNoTransitEncryption,
    fargate_incompatible::FargateIncompatible,
    secrets_without_execution_role::SecretsWithoutExecutionRole,
    no_init_process::NoInitProcess,
    no_nofile_ulimit::NoNofileUlimit,
    awslogs_blocking::AwslogsBlocking,
    metadata_reachable::MetadataReachable,
    environment_files::EnvironmentFiles,
}

/// Finds a check by code (`LG101`) or name (`task-privileged`), case-insensitively.
pub fn find(code_or_name: &str) -> Option<&'static dyn Check> {
    CHECKS
        .iter()
        .copied()
        .find(|c| c.meta().is_named(code_or_name))
}

/// The network mode the task gets: ECS defaults to bridge on EC2 (Fargate requires awsvpc).
fn network_mode<'a>(facts: &TaskFacts<'a>) -> &'a str {
    facts.task.network_mode.as_deref().unwrap_or("bridge")
}

/// Reports a task-level namespace `setting` (`networkMode`, `pidMode`, `ipcMode`) set to `host`.
fn host_namespace(
    meta: &'static RuleMeta,
    facts: &TaskFacts<'_>,
    value: Option<&str>,
    setting: &str,
    out: &mut TaskFindings,
) {
    if value.is_some_and(|m| m.eq_ignore_ascii_case("host")) {
        out.push(
            meta,
            super::Spot::task(facts, setting),
            format!("the task sets `{setting}` to host, sharing the host's namespace"),
        );
    }
}

/// The capabilities Docker may add that give a container control of the host or its kernel.
const DANGEROUS_CAPABILITIES: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "SYS_TIME",
    "DAC_READ_SEARCH",
    "BPF",
    "PERFMON",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
];

/// `CAP_SYS_ADMIN` and `sys_admin` are how some people write `SYS_ADMIN`; Docker takes all three.
fn capability(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").unwrap_or(&upper).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_unique_sorted_and_documented() {
        let metas: Vec<&RuleMeta> = CHECKS.iter().map(|c| c.meta()).collect();
        crate::finding::assert_rule_table(&metas, "LG1");
        for m in metas {
            assert!(m.name.starts_with("task-"), "{}", m.name);
            assert!(
                crate::rules::find(m.name).is_none() && crate::rules::find(m.code).is_none(),
                "{} clashes with an image rule",
                m.name
            );
        }
    }

    #[test]
    fn capabilities_are_compared_as_docker_reads_them() {
        assert_eq!(capability("cap_sys_admin"), "SYS_ADMIN");
        assert_eq!(capability(" NET_ADMIN"), "NET_ADMIN");
    }
}
