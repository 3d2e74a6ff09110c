//! LG006 missing-multi-stage: build toolchains, sources or build steps in the final image.

use super::{ImageFacts, Rule, RuleMeta};
use crate::event::FileKind;
use crate::finding::{Findings, Location, Severity};
use crate::signatures::{BUILD_TOOLS_DATA, BuildEvidence};
use std::collections::BTreeMap;

/// Reports evidence that the image was built in the stage it ships from.
pub struct MissingMultiStage;

static META: RuleMeta = RuleMeta {
    code: "LG006",
    name: "missing-multi-stage",
    severity: Severity::Medium,
    summary: "The final image holds build toolchains, source trees or version-control metadata",
    rationale: "Compilers, headers and sources make an image larger and hand an attacker who gets \
                in the tools to build exploits on the spot; `.git` directories can leak history \
                and credentials. The ECS best-practice guide (capacity and availability: image \
                size; task and container security: minimal images) says to use multi-stage \
                builds that leave build intermediates behind.",
    remediation: "Build in one stage and copy only the artefact into a minimal last stage: \
                  `FROM golang:1.22 AS build` … `FROM gcr.io/distroless/static` then `COPY \
                  --from=build /out/app /app`. Add `.git` and sources to `.dockerignore`.",
};

const EXAMPLES_SHOWN: usize = 5;

impl Rule for MissingMultiStage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let data = &*BUILD_TOOLS_DATA;
        // Per record: how many live files match, and the first (path order) of them.
        let mut hits: BTreeMap<usize, (usize, String)> = BTreeMap::new();
        for live in facts.files.iter().filter(|f| f.meta.kind != FileKind::Dir) {
            if let Some(record) = data.path_record(&live.meta.path) {
                hits.entry(record)
                    .or_insert_with(|| (0, live.meta.path.clone()))
                    .0 += 1;
            }
        }
        for (kind, what) in [
            (BuildEvidence::Toolchain, "build toolchain"),
            (BuildEvidence::Sources, "source files"),
            (BuildEvidence::Vcs, "version-control metadata"),
        ] {
            let examples: Vec<String> = hits
                .iter()
                .map(|(&i, hit)| (&data.paths[i], hit))
                .filter(|(record, (count, _))| record.kind == kind && *count >= record.min_count)
                .map(|(record, (count, first))| match count {
                    1 => format!("{} ({first})", record.title),
                    _ => format!("{} ({first} and {} more)", record.title, count - 1),
                })
                .collect();
            if let Some(message) = listing(what, "in the final filesystem", &examples) {
                out.push(&META, Location::default(), message);
            }
        }

        let mut commands: Vec<String> = Vec::new();
        for (i, entry) in facts.config.history.iter().enumerate() {
            let Some(created_by) = entry.created_by.as_deref() else {
                continue;
            };
            // `#(nop)` entries are metadata instructions (ENV, LABEL, COPY), not commands.
            if created_by.contains("#(nop)") {
                continue;
            }
            if let Some(command) = data.commands.iter().find(|c| c.is_match(created_by)) {
                commands.push(format!("{} (history[{i}])", command.title));
            }
        }
        if let Some(message) = listing("build commands", "in this image's own history", &commands) {
            out.push(&META, Location::config("history"), message);
        }
    }
}

/// `"<what> <where>: a, b, c and 2 more"`, or nothing when there are no examples.
fn listing(what: &str, place: &str, examples: &[String]) -> Option<String> {
    if examples.is_empty() {
        return None;
    }
    let shown = examples.len().min(EXAMPLES_SHOWN);
    let mut message = format!("{what} {place}: {}", examples[..shown].join(", "));
    if examples.len() > shown {
        message.push_str(&format!(" and {} more", examples.len() - shown));
    }
    Some(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;
    use crate::image::Image;

    #[test]
    fn reports_one_finding_per_kind_of_build_evidence() {
        let layers = vec![layer(
            vec![
                file("/usr/bin/gcc-12", 0o755, 1),
                symlink("/usr/bin/gcc", "gcc-12"),
                file("/app/main.go", 0o644, 1),
                file("/app/.git/HEAD", 0o644, 1),
                file("/usr/include/stdio.h", 0o644, 1),
                file("/usr/local/go/src/fmt/print.go", 0o644, 1),
            ],
            &[],
        )];
        let image = image_with_history(&[
            "apt-get install -y gcc",
            "go build -o /app ./...",
            "#(nop)  ENV make=1",
        ]);
        let found = check(&MissingMultiStage, layers, image, &Settings::default());
        let messages: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "build toolchain in the final filesystem: GCC (/usr/bin/gcc and 1 more)",
                "source files in the final filesystem: source files (/app/main.go)",
                "version-control metadata in the final filesystem: version-control metadata (/app/.git/HEAD)",
                "build commands in this image's own history: go build (history[1])",
            ],
            "one header is not a toolchain, and the Go toolchain's own sources are not the app's"
        );
    }

    #[test]
    fn a_runtime_only_image_is_clean() {
        let layers = vec![layer(
            vec![file("/app/server", 0o755, 1), file("/etc/passwd", 0o644, 1)],
            &[],
        )];
        let image = image_with_history(&["#(nop) COPY file:abc in /app/server"]);
        assert!(check(&MissingMultiStage, layers, image, &Settings::default()).is_empty());
        assert!(
            check(
                &MissingMultiStage,
                vec![],
                Image::default(),
                &Settings::default()
            )
            .is_empty()
        );
    }
}
