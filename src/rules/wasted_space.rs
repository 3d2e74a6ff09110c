//! LG005 wasted-space: bytes lower layers store that the final filesystem never shows.

use super::{ImageFacts, Rule, RuleMeta, human_size};
use crate::event::FileKind;
use crate::finding::{Findings, Location, Severity};
use std::cmp::Reverse;
use std::collections::BTreeMap;

/// Reports images that ship more than `wasted_space` bytes of deleted or overwritten files.
pub struct WastedSpace;

static META: RuleMeta = RuleMeta {
    code: "LG005",
    name: "wasted-space",
    severity: Severity::Low,
    summary: "Lower layers hold files that later layers delete or overwrite",
    rationale: "Deleting a file in a later layer does not shrink the image: the bytes stay in the \
                layer that added them and are pulled on every task start. The ECS best-practice \
                guide (capacity and availability: image size) says to keep images small, using \
                multi-stage builds and chaining commands in one layer.",
    remediation: "Delete temporary files in the same `RUN` that creates them (`RUN curl … && tar \
                  x … && rm archive.tgz`), avoid `chmod`/`chown` of large trees in a later layer \
                  (use `COPY --chmod/--chown`), or build in a separate stage and copy only the \
                  result.",
};

const PATHS_SHOWN: usize = 5;

impl Rule for WastedSpace {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        // Per path: bytes hidden, and the layer that hid the largest version.
        let mut by_path: BTreeMap<String, (u64, u64, usize)> = BTreeMap::new();
        for hidden in facts.files.hidden() {
            if hidden.meta.kind != FileKind::Regular || hidden.meta.size == 0 {
                continue;
            }
            let entry = by_path
                .entry(hidden.meta.path.clone())
                .or_insert((0, 0, hidden.removed_in));
            entry.0 += hidden.meta.size;
            if hidden.meta.size > entry.1 {
                entry.1 = hidden.meta.size;
                entry.2 = hidden.removed_in;
            }
        }
        let wasted: u64 = by_path.values().map(|e| e.0).sum();
        if wasted <= facts.settings.wasted_space {
            return;
        }
        let content: u64 = facts.layers.iter().map(|l| l.content_size).sum();
        let share = wasted as f64 * 100.0 / content.max(1) as f64;

        let mut paths: Vec<_> = by_path.into_iter().collect();
        paths.sort_by(|(pa, (ba, ..)), (pb, (bb, ..))| (Reverse(ba), pa).cmp(&(Reverse(bb), pb)));
        let listed: Vec<String> = paths
            .iter()
            .take(PATHS_SHOWN)
            .map(|(path, (bytes, _, by))| {
                format!("{path} {} (hidden by layer {by})", human_size(*bytes))
            })
            .collect();
        out.push(
            &META,
            Location::default(),
            format!(
                "{} ({share:.0}% of all file content) is in files later layers delete or \
                 overwrite, above the limit of {}; largest: {}",
                human_size(wasted),
                human_size(facts.settings.wasted_space),
                listed.join(", ")
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::layer::LayerContent;
    use crate::rules::testing::*;
    use crate::image::Image;

    #[test]
    fn reports_deleted_and_overwritten_bytes_above_the_limit() {
        let settings = Settings::from_toml("wasted_space = \"1MiB\"\n", "t").unwrap();
        let layers = vec![
            sized_layer(
                vec![
                    file("/src.tgz", 0o644, 3 << 20),
                    file("/app", 0o755, 1 << 20),
                ],
                0,
            ),
            LayerContent {
                whiteouts: vec!["/src.tgz".into()],
                ..sized_layer(vec![file("/app", 0o755, 1 << 20)], 0)
            },
        ];
        let found = check(&WastedSpace, layers.clone(), Image::default(), &settings);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].message,
            "4.0 MiB (80% of all file content) is in files later layers delete or overwrite, above \
             the limit of 1.0 MiB; largest: /src.tgz 3.0 MiB (hidden by layer 1), /app 1.0 MiB \
             (hidden by layer 1)"
        );

        assert!(check(&WastedSpace, layers, Image::default(), &Settings::default()).is_empty());
    }
}
