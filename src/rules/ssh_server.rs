//! LG015 ssh-server: an SSH daemon in the image or port 22 exposed.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports SSH servers and an exposed SSH port.
pub struct SshServer;

static META: RuleMeta = RuleMeta {
    code: "LG015",
    name: "ssh-server",
    severity: Severity::Medium,
    summary: "An SSH server is installed or port 22 is exposed",
    rationale: "An SSH daemon is a second, long-lived way into the task with its own keys and \
                passwords to manage, and a sign the container is treated as a server to log \
                into. The ECS best-practice guide (task and container security) says to use \
                minimal images with only what the application needs; ECS Exec gives audited \
                shell access without one.",
    remediation: "Remove openssh-server/dropbear and the `EXPOSE 22`; use ECS Exec (`aws ecs \
                  execute-command`) for interactive access when it is really needed.",
};

const DAEMONS: &[&str] = &[
    "/usr/sbin/sshd",
    "/usr/bin/sshd",
    "/sbin/sshd",
    "/usr/local/sbin/sshd",
    "/usr/sbin/dropbear",
    "/usr/bin/dropbear",
    "/usr/bin/dropbearmulti",
];

impl Rule for SshServer {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        for path in DAEMONS {
            if let Some(live) = facts.files.get(path) {
                out.push(
                    &META,
                    Location::file(*path, live.layer),
                    format!("SSH server {path} is installed (layer {})", live.layer),
                );
            }
        }
        let ports = facts
            .config
            .config
            .exposed_ports
            .iter()
            .flatten()
            .map(|(p, _)| p);
        for port in ports.filter(|p| matches!(p.as_str(), "22" | "22/tcp")) {
            out.push(
                &META,
                Location::config("config.ExposedPorts"),
                format!("port {port} (SSH) is exposed"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    #[test]
    fn ssh_daemons_and_port_22_are_reported_separately() {
        let mut image = Image::default();
        image.config.config.exposed_ports =
            Some([("22/tcp".to_owned(), serde_json::json!({}))].into());
        let layers = vec![layer(vec![file("/usr/sbin/sshd", 0o755, 1)], &[])];
        let found = check(&SshServer, layers, image, &Settings::default());
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "SSH server /usr/sbin/sshd is installed (layer 0)",
                "port 22/tcp (SSH) is exposed"
            ]
        );

        let mut image = Image::default();
        image.config.config.exposed_ports =
            Some([("8080/tcp".to_owned(), serde_json::json!({}))].into());
        let layers = vec![layer(vec![file("/usr/bin/ssh", 0o755, 1)], &[])];
        assert!(
            check(&SshServer, layers, image, &Settings::default()).is_empty(),
            "the client is fine"
        );
    }
}
