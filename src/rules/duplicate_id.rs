//! LG017 duplicate-id: two users share a uid or two groups share a gid.

use super::{ImageFacts, Rule, RuleMeta};
use crate::event::{FileMeta, Interest};
use crate::finding::{Findings, Location, Severity};
use std::collections::BTreeMap;

/// Reports uids and gids that more than one name maps to.
pub struct DuplicateId;

static META: RuleMeta = RuleMeta {
    code: "LG017",
    name: "duplicate-id",
    severity: Severity::Medium,
    summary: "Several users share a uid in /etc/passwd, or several groups share a gid in /etc/group",
    rationale: "The kernel only sees numbers, so a second name for uid 0 (or for any uid) is the \
                same account under another name: it hides root, and a \"non-root\" USER can be \
                root after all. The ECS best-practice guide (task and container security) says \
                to run as a non-root user, which is only true if its uid is unique.",
    remediation: "Give every user and group its own id (`adduser -u`, `addgroup -g`), and remove \
                  extra entries that reuse an existing id.",
};

impl Rule for DuplicateId {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn wants(&self, file: &FileMeta) -> Interest {
        if file.path == "/etc/passwd" || file.path == "/etc/group" {
            Interest::Retain
        } else {
            Interest::None
        }
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        for (path, what, names) in [
            ("/etc/passwd", "uid", "users"),
            ("/etc/group", "gid", "groups"),
        ] {
            let (Some(text), Some(live)) = (facts.text(path), facts.files.get(path)) else {
                continue;
            };
            for (id, owners) in duplicates(&text) {
                out.push(
                    &META,
                    Location::file(path, live.layer),
                    format!(
                        "{what} {id} is shared by {names} {} in {path}",
                        owners.join(", ")
                    ),
                );
            }
        }
    }
}

/// Ids (the third field) that more than one name (the first field) uses, in id order.
fn duplicates(text: &str) -> Vec<(u64, Vec<&str>)> {
    let mut by_id: BTreeMap<u64, Vec<&str>> = BTreeMap::new();
    for line in text.lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(id)) = (fields.next(), fields.nth(1)) else {
            continue;
        };
        if let Ok(id) = id.trim().parse() {
            by_id.entry(id).or_default().push(name);
        }
    }
    by_id
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    fn run(passwd: &str, group: &str) -> Vec<String> {
        let layers = vec![layer(
            vec![file("/etc/passwd", 0o644, 1), file("/etc/group", 0o644, 1)],
            &[("/etc/passwd", passwd), ("/etc/group", group)],
        )];
        check(&DuplicateId, layers, Image::default(), &Settings::default())
            .into_iter()
            .map(|f| f.message)
            .collect()
    }

    #[test]
    fn shared_uids_and_gids_are_reported_with_their_names() {
        let passwd =
            "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n";
        let group = "root:x:0:\nwheel:x:10:root\nadmin:x:10:\n";
        assert_eq!(
            run(passwd, group),
            [
                "uid 0 is shared by users root, toor in /etc/passwd",
                "gid 10 is shared by groups wheel, admin in /etc/group"
            ]
        );
    }

    #[test]
    fn unique_ids_are_fine() {
        assert!(
            run(
                "root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n",
                "root:x:0:\napp:x:1000:\n"
            )
            .is_empty()
        );
    }
}
