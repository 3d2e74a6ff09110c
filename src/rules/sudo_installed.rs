//! LG014 sudo-installed: sudo or doas in the final filesystem.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports privilege-escalation tools the container does not need.
pub struct SudoInstalled;

static META: RuleMeta = RuleMeta {
    code: "LG014",
    name: "sudo-installed",
    severity: Severity::Medium,
    summary: "sudo or doas is installed in the image",
    rationale: "A container runs one process as one user; sudo and doas only exist to switch to \
                root, so they turn a compromise of the unprivileged user into root (often with \
                no password in images). The ECS best-practice guide (task and container \
                security) says to run as a non-root user, use minimal images and remove paths \
                to privilege escalation.",
    remediation: "Do not install sudo or doas: run root-only setup steps in the Dockerfile \
                  before `USER`, and use `gosu`/`setpriv` in an entrypoint only to drop \
                  privileges, never to gain them.",
};

const BINARIES: &[&str] = &[
    "/usr/bin/sudo",
    "/bin/sudo",
    "/usr/sbin/sudo",
    "/usr/local/bin/sudo",
    "/usr/bin/doas",
    "/bin/doas",
    "/usr/sbin/doas",
    "/usr/local/bin/doas",
];

impl Rule for SudoInstalled {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        for path in BINARIES {
            if let Some(live) = facts.files.get(path) {
                let name = live.meta.file_name();
                out.push(
                    &META,
                    Location::file(*path, live.layer),
                    format!("{name} is installed at {path} (layer {})", live.layer),
                );
            }
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
    fn sudo_and_doas_are_reported() {
        let layers = vec![layer(
            vec![
                file("/usr/bin/sudo", 0o4755, 1),
                file("/usr/bin/doas", 0o4755, 1),
            ],
            &[],
        )];
        assert_eq!(
            check(
                &SudoInstalled,
                layers,
                Image::default(),
                &Settings::default()
            )
            .len(),
            2
        );
        let layers = vec![layer(
            vec![
                file("/usr/sbin/gosu", 0o755, 1),
                file("/usr/bin/sudoku", 0o755, 1),
            ],
            &[],
        )];
        assert!(
            check(
                &SudoInstalled,
                layers,
                Image::default(),
                &Settings::default()
            )
            .is_empty()
        );
    }
}
