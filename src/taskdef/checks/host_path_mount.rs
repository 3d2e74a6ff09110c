//! LG115 task-host-path-mount: a container mounts a sensitive path of the host.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports each mount of a host volume whose `sourcePath` gives away the host.
pub struct HostPathMount;

static META: RuleMeta = RuleMeta {
    code: "LG115",
    name: "task-host-path-mount",
    severity: Severity::High,
    summary: "A container mounts the container runtime's socket or a sensitive host path",
    rationale: "The Docker or containerd socket is root on the host for whoever can write to it, \
                and `/`, `/etc`, `/proc`, `/sys`, `/dev`, `/root`, `/boot` or `/var/lib/docker` \
                expose the host's credentials, kernel settings and other containers. The ECS \
                best-practice guide (task and container security) says to give a container \
                only what it needs.",
    remediation: "Remove the host volume, or point its `sourcePath` at a directory made for the \
                  container; if an agent truly needs the socket, run it on dedicated instances \
                  and mount it read-only.",
};

/// Paths whose mount is sensitive itself.
const EXACT: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/",
    "/proc",
    "/sys",
    "/dev",
    "/etc",
    "/root",
    "/boot",
    "/var/lib/docker",
];

/// Paths below which every mount is sensitive too.
const BELOW: &[&str] = &["/proc", "/sys", "/etc", "/root", "/var/lib/docker"];

/// `//etc/` and `/etc/./` are `/etc` to the kernel.
fn normalise(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// True for a host path this check reports.
fn sensitive(path: &str) -> bool {
    let path = normalise(path);
    EXACT.contains(&path.as_str())
        || BELOW
            .iter()
            .any(|b| path.strip_prefix(b).is_some_and(|rest| rest.starts_with('/')))
}

impl Check for HostPathMount {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        for c in facts.containers() {
            for (i, mount) in c.def.mount_points.iter().enumerate() {
                let Some(source) = facts
                    .task
                    .volumes
                    .iter()
                    .find(|v| v.name.is_some() && v.name == mount.source_volume)
                    .and_then(|v| v.host.as_ref())
                    .and_then(|h| h.source_path.as_deref())
                    .filter(|p| sensitive(p))
                else {
                    continue;
                };
                let access = if mount.read_only == Some(true) {
                    "read-only"
                } else {
                    "read-write"
                };
                out.push(
                    &META,
                    Spot::container(&c, &format!("mountPoints[{i}].sourceVolume")).detail(source),
                    format!(
                        "container {} mounts the host path {source} {access} (volume {})",
                        c.name(),
                        mount.source_volume.as_deref().unwrap_or("")
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::run;

    fn mounting(path: &str) -> Vec<String> {
        let json = format!(
            r#"{{"family":"t","volumes":[{{"name":"v","host":{{"sourcePath":"{path}"}}}},{{"name":"w"}}],
               "containerDefinitions":[{{"name":"a","mountPoints":[{{"sourceVolume":"v","containerPath":"/x"}},{{"sourceVolume":"w","containerPath":"/y"}}]}}]}}"#
        );
        run(&HostPathMount, &json)
            .into_iter()
            .map(|f| f.detail.unwrap())
            .collect()
    }

    #[test]
    fn sockets_and_system_paths_are_reported_harmless_paths_are_not() {
        for path in ["/var/run/docker.sock", "/run/containerd/containerd.sock", "/", "/proc", "/proc/1", "/etc/ssh", "//etc/", "/root/.aws", "/var/lib/docker/volumes", "/dev", "/boot"] {
            assert_eq!(mounting(path), [path], "{path}");
        }
        for path in ["/data", "/var/log/app", "/ecs/cache", "/etcetera", "/dev/shm/x", "/devices", "/var/lib/dockerd"] {
            assert!(mounting(path).is_empty(), "{path}");
        }
    }
}
