//! LG002 root-user: the container's process would run as root.

use super::{ImageFacts, Rule, RuleMeta};
use crate::event::{FileMeta, Interest};
use crate::finding::{Findings, Location, Severity};

/// Reports images whose `USER` resolves to uid 0.
pub struct RootUser;

static META: RuleMeta = RuleMeta {
    code: "LG002",
    name: "root-user",
    severity: Severity::High,
    summary: "The image runs as root: USER is unset, root, 0, or a name with uid 0",
    rationale: "A process running as root inside the container is one kernel or runtime flaw away \
                from root on the host, and can rewrite everything in the image. The ECS \
                best-practice guide (task and container security) says to run containers as a \
                non-root user.",
    remediation: "Create an unprivileged user and switch to it at the end of the Dockerfile: \
                  `RUN useradd -u 10001 -m app` on Debian, Ubuntu, RHEL and their kin, \
                  `RUN adduser -D -u 10001 app` on Alpine and BusyBox, then `USER 10001` (a \
                  numeric uid lets runtimes verify it is not root without reading /etc/passwd). \
                  An image without a shell (distroless, scratch) only needs `USER 10001`. Each \
                  finding gives the command that works on the image's own base.",
};

/// Where shadow-utils puts `useradd`; `/sbin` and `/usr/sbin` are one directory on merged-/usr
/// bases, but the tar holds only one of the two names.
const USERADD: &[&str] = &["/usr/sbin/useradd", "/sbin/useradd", "/usr/bin/useradd"];
/// Files that show a BusyBox userland, whose `adduser` takes `-D`.
const BUSYBOX: &[&str] = &["/bin/busybox", "/usr/bin/busybox", "/sbin/apk"];
const SHELLS: &[&str] = &["/bin/sh", "/usr/bin/sh"];
/// Package managers that can install `useradd` on a base that lacks it (ubi-minimal, Amazon
/// Linux 2023), and how.
const USERADD_PACKAGES: &[(&str, &str)] = &[
    ("/usr/bin/microdnf", "microdnf install -y shadow-utils"),
    ("/usr/bin/dnf", "dnf install -y shadow-utils"),
    ("/usr/bin/tdnf", "tdnf install -y shadow-utils"),
    ("/usr/bin/yum", "yum install -y shadow-utils"),
    ("/usr/bin/zypper", "zypper install -y shadow"),
    ("/usr/bin/apt-get", "apt-get update && apt-get install -y passwd"),
];

impl Rule for RootUser {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.path == "/etc/passwd" {
            Interest::Retain
        } else {
            Interest::None
        }
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let user = facts.config.config.user.as_deref().unwrap_or("").trim();
        let name = user.split(':').next().unwrap_or("");
        let message = if name.is_empty() {
            "USER is not set, so the container runs as root".to_owned()
        } else if name == "root" || name.parse::<u64>() == Ok(0) {
            format!("USER is {user:?}, which is root")
        } else if name.parse::<u64>().is_ok() {
            return;
        } else {
            match facts.text("/etc/passwd").and_then(|p| uid_of(&p, name)) {
                Some(0) => format!("USER is {user:?}, whose uid in /etc/passwd is 0"),
                _ => return,
            }
        };
        out.push(
            &META,
            Location::config("config.User"),
            format!("{message}; {}", fix_for_base(facts)),
        );
    }
}

/// How to add an unprivileged user on this image's base. The files decide, not os-release: a
/// Debian base has an `adduser` that rejects `-D`, an Alpine one may have shadow's `useradd`
/// installed, and distroless images call themselves Debian but have no shell to run either.
fn fix_for_base(facts: &ImageFacts<'_>) -> String {
    let present = |path: &&str| facts.files.get(path).is_some();
    let add_user = if USERADD.iter().any(present) {
        "`RUN useradd -u 10001 -m app` (the image has useradd)".to_owned()
    } else if BUSYBOX.iter().any(present) {
        "`RUN adduser -D -u 10001 app` (the image has BusyBox adduser)".to_owned()
    } else if !SHELLS.iter().any(present) {
        return "the image has no shell to add a user with, so end the Dockerfile with \
                `USER 10001` (a numeric uid needs no /etc/passwd entry)"
            .to_owned();
    } else if let Some((_, install)) = USERADD_PACKAGES.iter().find(|(p, _)| present(p)) {
        format!("`RUN {install} && useradd -u 10001 -m app` (the image has no useradd yet)")
    } else {
        "`RUN useradd -u 10001 -m app` (`adduser -D -u 10001 app` on BusyBox)".to_owned()
    };
    format!("add a user with {add_user} and end the Dockerfile with `USER 10001`")
}

/// The uid `/etc/passwd` gives `name`.
pub(crate) fn uid_of(passwd: &str, name: &str) -> Option<u64> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        (fields.next()? == name).then_some(())?;
        fields.nth(1)?.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::image::Image;
    use crate::rules::testing::*;

    fn run(user: Option<&str>, passwd: &str) -> usize {
        let mut image = Image::default();
        image.config.config.user = user.map(str::to_owned);
        let layers = vec![layer(vec![file("/etc/passwd", 0o644, 1)], &[("/etc/passwd", passwd)])];
        check(&RootUser, layers, image, &Settings::default()).len()
    }

    #[test]
    fn root_in_every_spelling_is_reported() {
        let passwd = "root:x:0:0::/root:/bin/sh\nadmin:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n";
        for user in [None, Some(""), Some("root"), Some("0"), Some("0:0"), Some("root:root"), Some("admin")] {
            assert_eq!(run(user, passwd), 1, "{user:?}");
        }
        for user in [Some("app"), Some("1000"), Some("1000:1000"), Some("nobody")] {
            assert_eq!(run(user, passwd), 0, "{user:?}");
        }
    }

    /// The message for an image without USER whose final filesystem holds `paths`.
    fn message(paths: &[&str]) -> String {
        let layers = vec![layer(paths.iter().map(|p| file(p, 0o755, 1)).collect(), &[])];
        check(&RootUser, layers, Image::default(), &Settings::default())
            .remove(0)
            .message
    }

    #[test]
    fn the_fix_uses_the_user_tool_of_the_base() {
        let debian = ["/usr/bin/sh", "/usr/sbin/useradd", "/usr/sbin/adduser", "/usr/bin/apt-get"];
        assert_eq!(
            message(&debian),
            "USER is not set, so the container runs as root; add a user with \
             `RUN useradd -u 10001 -m app` (the image has useradd) and end the Dockerfile with \
             `USER 10001`"
        );
        let alpine = ["/bin/busybox", "/bin/sh", "/sbin/apk", "/usr/sbin/adduser"];
        assert_eq!(
            message(&alpine),
            "USER is not set, so the container runs as root; add a user with \
             `RUN adduser -D -u 10001 app` (the image has BusyBox adduser) and end the \
             Dockerfile with `USER 10001`"
        );
        assert!(
            message(&[&alpine[..], &["/usr/sbin/useradd"]].concat()).contains("`RUN useradd"),
            "an Alpine base with shadow installed has useradd"
        );
        assert!(
            message(&["/usr/bin/sh", "/usr/bin/microdnf"])
                .contains("`RUN microdnf install -y shadow-utils && useradd -u 10001 -m app`"),
            "ubi-minimal has no useradd"
        );
        assert_eq!(
            message(&["/etc/passwd", "/etc/os-release", "/usr/bin/app"]),
            "USER is not set, so the container runs as root; the image has no shell to add a \
             user with, so end the Dockerfile with `USER 10001` (a numeric uid needs no \
             /etc/passwd entry)"
        );
    }
}
