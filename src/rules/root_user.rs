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
                  `RUN adduser -D -u 10001 app` then `USER 10001` (a numeric uid lets runtimes \
                  verify it is not root without reading /etc/passwd).",
};

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
        out.push(&META, Location::config("config.User"), message);
    }
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
    use crate::rules::testing::*;
    use crate::image::Image;

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
}
