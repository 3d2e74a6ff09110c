//! LG016 empty-password: accounts anyone can log in to without a password.

use super::{ImageFacts, Rule, RuleMeta};
use crate::event::{FileMeta, Interest};
use crate::finding::{Findings, Location, Severity};

/// Reports `/etc/shadow` and `/etc/passwd` entries with an empty password field.
pub struct EmptyPassword;

static META: RuleMeta = RuleMeta {
    code: "LG016",
    name: "empty-password",
    severity: Severity::High,
    summary: "An account in /etc/shadow or /etc/passwd has an empty password field",
    rationale: "An empty password field lets anyone become that user with `su` or a login \
                service, without knowing anything, which is a direct path to privilege \
                escalation inside the container. The ECS best-practice guide (task and container \
                security) says to remove paths to privilege escalation from images.",
    remediation: "Lock the account instead: `RUN passwd -l USER` (or `usermod -p '!' USER`), so \
                  its password field is `!` or `*`.",
};

impl Rule for EmptyPassword {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.path == "/etc/shadow" || file.path == "/etc/passwd" {
            Interest::Retain
        } else {
            Interest::None
        }
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let mut reported: Vec<String> = Vec::new();
        // passwd first: an empty field there means the shadow entry is never consulted.
        for path in ["/etc/passwd", "/etc/shadow"] {
            let (Some(text), Some(live)) = (facts.text(path), facts.files.get(path)) else {
                continue;
            };
            for user in empty_password_users(&text) {
                if reported.iter().any(|r| r == user) {
                    continue;
                }
                out.push(
                    &META,
                    Location::file(path, live.layer),
                    format!("user {user} has an empty password field in {path}: anyone can log in as {user} without a password"),
                );
                reported.push(user.to_owned());
            }
        }
    }
}

/// Users whose second field (the password or its hash) is empty. Only names are returned, so
/// no hash can end up in a message.
fn empty_password_users(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let mut fields = line.split(':');
        let user = fields.next()?;
        let password = fields.next()?;
        (!user.is_empty() && !user.starts_with('#') && password.is_empty()).then_some(user)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    fn run(passwd: &str, shadow: &str) -> Vec<String> {
        let layers = vec![layer(
            vec![file("/etc/passwd", 0o644, 1), file("/etc/shadow", 0o640, 1)],
            &[("/etc/passwd", passwd), ("/etc/shadow", shadow)],
        )];
        check(
            &EmptyPassword,
            layers,
            Image::default(),
            &Settings::default(),
        )
        .into_iter()
        .map(|f| f.message)
        .collect()
    }

    #[test]
    fn empty_password_fields_are_reported_without_hashes() {
        let passwd =
            "root:x:0:0::/root:/bin/sh\nguest::1001:1001::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n";
        let shadow = "root:::0:::::\nguest:::0:::::\napp:$6$salt$hash:19000:0:99999:7:::\n";
        let found = run(passwd, shadow);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("user guest has an empty password field in /etc/passwd"));
        assert!(found[1].starts_with("user root has an empty password field in /etc/shadow"));
        assert!(found.iter().all(|m| !m.contains('$')));
    }

    #[test]
    fn locked_and_hashed_accounts_are_fine() {
        let passwd = "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n";
        assert!(run(passwd, "root:*:19000:0:99999:7:::\napp:!:19000::::::\n").is_empty());
    }
}
