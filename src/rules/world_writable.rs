//! LG018 world-writable: files and directories any user can write.

use super::{ImageFacts, Rule, RuleMeta};
use crate::event::FileKind;
use crate::finding::{Findings, Location, Severity};

/// Reports world-writable files and non-sticky world-writable directories.
pub struct WorldWritable;

static META: RuleMeta = RuleMeta {
    code: "LG018",
    name: "world-writable",
    severity: Severity::Medium,
    summary: "A file or a directory without the sticky bit is writable by every user",
    rationale: "Any process in the container, whatever its user, can replace a world-writable \
                file or swap files in a world-writable directory, which turns a foothold as one \
                user into code running as another (a script root runs, a library the app loads). \
                The ECS best-practice guide (task and container security) says to run as \
                non-root with a read-only root filesystem and to remove paths to privilege \
                escalation.",
    remediation: "Drop the write bit for others: `RUN chmod o-w PATH` (or `COPY --chmod=0644`), \
                  give shared scratch directories the sticky bit (`chmod 1777`), or allow-list \
                  paths under `[world_writable] allow` in layerguard.toml.",
};

/// Trees that are world-writable by design or replaced by the runtime.
const EXEMPT: &[&str] = &["/tmp", "/var/tmp", "/dev/shm", "/proc", "/sys", "/dev"];

/// One finding per path up to this many; the rest are summarised in one more.
const MAX_LISTED: usize = 50;

impl Rule for WorldWritable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let writable = facts.files.iter().filter(|live| {
            let m = &live.meta;
            let writable = match m.kind {
                FileKind::Regular => m.mode & 0o002 != 0,
                FileKind::Dir => m.mode & 0o002 != 0 && m.mode & 0o1000 == 0,
                _ => false,
            };
            writable && !exempt(&m.path) && !facts.settings.world_writable_allowed(&m.path)
        });
        let mut unlisted = 0;
        for (i, live) in writable.enumerate() {
            if i >= MAX_LISTED {
                unlisted += 1;
                continue;
            }
            let m = &live.meta;
            let what = if m.kind == FileKind::Dir {
                "directory"
            } else {
                "file"
            };
            out.push(
                &META,
                Location::file(&m.path, live.layer),
                format!(
                    "{what} {} is world-writable (mode {:04o}, owner {}:{})",
                    m.path, m.mode, m.uid, m.gid
                ),
            );
        }
        if unlisted > 0 {
            out.push(
                &META,
                Location::default(),
                format!("… and {unlisted} more world-writable paths not listed"),
            );
        }
    }
}

fn exempt(path: &str) -> bool {
    EXEMPT.iter().any(|e| {
        path.strip_prefix(e)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    #[test]
    fn world_writable_files_and_non_sticky_dirs_are_reported() {
        let layers = vec![layer(
            vec![
                file("/app/run.sh", 0o777, 1),
                dir("/app/uploads", 0o777),
                dir("/app/shared", 0o1777),
                dir("/tmp", 0o777),
                file("/tmp/x", 0o666, 1),
                file("/etc/app.conf", 0o644, 1),
                symlink("/app/link", "run.sh"),
                file("/opt/ok", 0o666, 1),
            ],
            &[],
        )];
        let settings =
            Settings::from_toml("[world_writable]\nallow = [\"/opt/*\"]\n", "t").unwrap();
        let found = check(&WorldWritable, layers, Image::default(), &settings);
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "file /app/run.sh is world-writable (mode 0777, owner 0:0)",
                "directory /app/uploads is world-writable (mode 0777, owner 0:0)"
            ]
        );
    }

    #[test]
    fn the_listing_is_capped() {
        let files = (0..MAX_LISTED + 3)
            .map(|i| file(&format!("/data/{i:03}"), 0o666, 1))
            .collect();
        let found = check(
            &WorldWritable,
            vec![layer(files, &[])],
            Image::default(),
            &Settings::default(),
        );
        assert_eq!(found.len(), MAX_LISTED + 1);
        assert_eq!(
            found[MAX_LISTED].message,
            "… and 3 more world-writable paths not listed"
        );
    }
}
