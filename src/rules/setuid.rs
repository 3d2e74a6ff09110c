//! LG001 setuid-file: files with the setuid or setgid bit in the final filesystem.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports setuid/setgid files the container can run.
pub struct SetuidFile;

static META: RuleMeta = RuleMeta {
    code: "LG001",
    name: "setuid-file",
    severity: Severity::Medium,
    summary: "A file in the final filesystem has the setuid or setgid bit",
    rationale: "A setuid or setgid binary runs with its owner's privileges whoever starts it, so a \
                flaw in it is a path from the container's user to root. The ECS best-practice \
                guide (task and container security) says to remove these bits from images.",
    remediation: "Remove the bits in the Dockerfile, e.g. `RUN find / -xdev -perm /6000 -type f \
                  -exec chmod a-s {} + || true`, or allow-list the few files you need under \
                  `[setuid] allow` in layerguard.toml.",
};

impl Rule for SetuidFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        // Only the final filesystem counts: a setuid file a later layer deleted can never run.
        for live in facts.files.iter().filter(|f| f.meta.is_setid()) {
            if facts.settings.setuid_allowed(&live.meta.path) {
                continue;
            }
            let m = live.meta;
            let bits = match (m.mode & 0o4000 != 0, m.mode & 0o2000 != 0) {
                (true, true) => "setuid and setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            out.push(
                &META,
                Location::file(&m.path, live.layer),
                format!(
                    "{} is {bits} (mode {:04o}, owner {}:{}), set in layer {}",
                    m.path, m.mode, m.uid, m.gid, live.layer
                ),
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
    fn reports_live_setid_files_and_honours_the_allow_list() {
        let layers = vec![
            layer(vec![file("/usr/bin/su", 0o4755, 1), file("/usr/bin/wall", 0o2755, 1), file("/bin/ls", 0o755, 1), file("/gone", 0o4755, 1)], &[]),
            whiteout_layer("/gone"),
        ];
        let found = check(&SetuidFile, layers.clone(), Image::default(), &Settings::default());
        let paths: Vec<_> = found.iter().map(|f| f.location.path.clone().unwrap()).collect();
        assert_eq!(paths, ["/usr/bin/su", "/usr/bin/wall"]);

        let settings = Settings::from_toml("[setuid]\nallow = [\"/usr/bin/w*\"]\n", "t").unwrap();
        let found = check(&SetuidFile, layers, Image::default(), &settings);
        assert_eq!(found.len(), 1);
    }

    fn whiteout_layer(path: &str) -> crate::layer::LayerContent {
        crate::layer::LayerContent {
            whiteouts: vec![path.into()],
            ..Default::default()
        }
    }
}
