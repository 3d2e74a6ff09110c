//! LG013 sensitive-volume: a VOLUME on a host-sensitive path.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports `VOLUME`s that would put system or credential directories on a mount.
pub struct SensitiveVolume;

static META: RuleMeta = RuleMeta {
    code: "LG013",
    name: "sensitive-volume",
    severity: Severity::Medium,
    summary: "A VOLUME is declared on a sensitive path such as /, /etc, /root/.ssh or the Docker socket",
    rationale: "A volume on a system or credential path invites a task definition to mount host \
                directories there (the Docker socket gives full control of the host), and makes \
                that part of the filesystem writable even with a read-only root filesystem. The \
                ECS best-practice guide (task and container security) says to use a read-only \
                root filesystem and not to give containers privileged access to the host.",
    remediation: "Remove the VOLUME instruction for that path; declare volumes only for \
                  application data directories such as /data, and never mount the Docker \
                  socket into a task.",
};

/// Paths a volume must not cover. `/var/run` is the classic spelling of `/run`.
const SENSITIVE: &[&str] = &[
    "/",
    "/etc",
    "/root",
    "/root/.ssh",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run",
    "/run",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/var/lib/docker",
];

impl Rule for SensitiveVolume {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        for volume in facts.config.config.volumes.iter().flatten().map(|(v, _)| v) {
            let path = match volume.trim_end_matches('/') {
                "" => "/",
                trimmed => trimmed,
            };
            if SENSITIVE.contains(&path) || is_home_ssh(path) {
                out.push(
                    &META,
                    Location::config("config.Volumes"),
                    format!("VOLUME {volume} is a sensitive path"),
                );
            }
        }
    }
}

/// `/home/<user>/.ssh`.
fn is_home_ssh(path: &str) -> bool {
    path.strip_prefix("/home/")
        .and_then(|rest| rest.strip_suffix("/.ssh"))
        .is_some_and(|user| !user.is_empty() && !user.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    fn run(volumes: &[&str]) -> Vec<String> {
        let mut image = Image::default();
        image.config.config.volumes = Some(
            volumes
                .iter()
                .map(|v| (v.to_string(), serde_json::json!({})))
                .collect(),
        );
        check(&SensitiveVolume, vec![], image, &Settings::default())
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn sensitive_volumes_are_reported() {
        assert_eq!(
            run(&["/etc/", "/home/app/.ssh", "/var/run/docker.sock", "/data"]),
            [
                "VOLUME /etc/ is a sensitive path",
                "VOLUME /home/app/.ssh is a sensitive path",
                "VOLUME /var/run/docker.sock is a sensitive path"
            ]
        );
        assert!(
            run(&[
                "/data",
                "/var/lib/postgresql/data",
                "/home/app/uploads",
                "/etc/app/conf.d"
            ])
            .is_empty()
        );
    }
}
