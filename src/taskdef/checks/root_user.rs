//! LG102 task-root-user: a container runs as root (Linux) or ContainerAdministrator (Windows).

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Container, Spot, TaskFacts, TaskFindings};

/// Reports containers whose user is root or left to the image.
pub struct RootUser;

static META: RuleMeta = RuleMeta {
    code: "LG102",
    name: "task-root-user",
    severity: Severity::Medium,
    summary: "A container runs as root: `user` is absent, root, 0 or uid 0 with any group",
    rationale: "A process running as root inside the container is root on the host once it \
                escapes, and can write anywhere the container can; left unset, `user` falls back \
                to the image's USER, which is root for most images. The ECS best-practice guide \
                (task and container security) says to run the container's process as a non-root \
                user.",
    remediation: "Set `user` to a non-root uid, like `\"user\": \"1000:1000\"` (on Windows, an \
                  account other than ContainerAdministrator, such as ContainerUser), and make \
                  sure the image's files are readable by it.",
};

/// What the user says, judged as the OS reads it: `Some(reason)` when it is root.
fn root_reason(user: Option<&str>, windows: bool) -> Option<String> {
    let user = user.map(str::trim).filter(|u| !u.is_empty());
    match (user, windows) {
        (None, _) => Some("does not set `user`, so it runs as the image's user, root unless the image says otherwise".to_owned()),
        (Some(u), true) if u.eq_ignore_ascii_case("ContainerAdministrator") => {
            Some(format!("runs as {u}"))
        }
        (Some(_), true) => None,
        (Some(u), false) => {
            let name = u.split(':').next().unwrap_or(u);
            (name == "root" || name == "0").then(|| format!("runs as `{u}`, which is uid 0"))
        }
    }
}

/// What the image a scan pulled says of a container that leaves `user` unset: `Some(None)` when
/// its USER is not root, `Some(Some(reason))` when it is, `None` when no scan ran.
fn image_verdict(c: &Container<'_>, windows: bool) -> Option<Option<String>> {
    let image = c.image?;
    let user = image.user.as_deref()?.trim();
    let root = image
        .user_is_root
        .unwrap_or_else(|| root_reason(Some(user), windows).is_some());
    Some(root.then(|| {
        if user.is_empty() {
            "does not set `user` and its image sets no USER, so it runs as root".to_owned()
        } else {
            format!("does not set `user` and its image's USER {user:?} is root")
        }
    }))
}

impl Check for RootUser {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        let windows = facts.launch.windows;
        for c in facts.containers() {
            let Some(mut reason) = root_reason(c.def.user.as_deref(), windows) else {
                continue;
            };
            if c.def.user.is_none() {
                match image_verdict(&c, windows) {
                    Some(None) => continue,
                    Some(Some(because)) => reason = because,
                    None => {}
                }
            }
            // Fluent Bit and Fluentd as a FireLens router read other containers' log files
            // and need uid 0; worth knowing, not a weakness to gate on.
            let severity = if c.log_router() {
                Severity::Info
            } else {
                META.severity
            };
            let suffix = if c.log_router() {
                " (a FireLens log router, which needs uid 0)"
            } else {
                ""
            };
            out.push_with(
                &META,
                severity,
                Spot::container(&c, "user"),
                format!("container {} {reason}{suffix}", c.name()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::ContainerImageFacts;
    use crate::taskdef::testing::{one, run, run_with};

    fn user(u: &str) -> String {
        one(&format!(r#""user":"{u}""#))
    }

    #[test]
    fn uid_zero_in_any_spelling_is_root_and_a_group_of_zero_is_not() {
        for root in ["root", "0", "0:0", "root:root", "0:1000"] {
            assert_eq!(run(&RootUser, &user(root)).len(), 1, "{root}");
        }
        for not_root in ["1000", "1000:0", "app", "nobody:nogroup"] {
            assert!(run(&RootUser, &user(not_root)).is_empty(), "{not_root}");
        }
        let unset = run(&RootUser, &one(r#""essential":true"#));
        assert_eq!(unset[0].severity, Severity::Medium);
        assert_eq!(unset[0].field, "containerDefinitions[0].user");
    }

    #[test]
    fn windows_judges_the_account_and_firelens_is_info() {
        let windows = |fields: &str| {
            format!(
                r#"{{"family":"w","runtimePlatform":{{"operatingSystemFamily":"WINDOWS_SERVER_2022_CORE"}},"containerDefinitions":[{{"name":"w",{fields}}}]}}"#
            )
        };
        assert_eq!(run(&RootUser, &windows(r#""user":"containeradministrator""#)).len(), 1);
        assert_eq!(run(&RootUser, &windows(r#""image":"x""#)).len(), 1);
        assert!(run(&RootUser, &windows(r#""user":"ContainerUser""#)).is_empty());
        assert!(run(&RootUser, &windows(r#""user":"0""#)).is_empty());

        let router = run(&RootUser, &one(r#""user":"0","firelensConfiguration":{"type":"fluentbit"}"#));
        assert_eq!(router[0].severity, Severity::Info);
    }

    #[test]
    fn the_image_user_decides_when_the_task_leaves_user_unset() {
        let json = one(r#""essential":true"#);
        let image = |u: &str| {
            vec![Some(ContainerImageFacts {
                user: Some(u.to_owned()),
                ..Default::default()
            })]
        };
        let settings = crate::config::Settings::default();
        assert!(run_with(&RootUser, &json, &image("1000"), &settings).is_empty());
        let unset = run_with(&RootUser, &json, &image(""), &settings);
        assert!(unset[0].message.contains("image sets no USER"), "{}", unset[0].message);
        let root = run_with(&RootUser, &json, &image("root"), &settings);
        assert!(root[0].message.contains(r#"USER "root" is root"#), "{}", root[0].message);
        // A name the image scan found to be uid 0 in the image's /etc/passwd.
        let admin = vec![Some(ContainerImageFacts {
            user: Some("admin".to_owned()),
            user_is_root: Some(true),
            ..Default::default()
        })];
        assert_eq!(run_with(&RootUser, &json, &admin, &settings).len(), 1);
        // The task's own `user` wins over the image's.
        let set = one(r#""user":"0""#);
        assert_eq!(run_with(&RootUser, &set, &image("1000"), &settings).len(), 1);
    }
}
