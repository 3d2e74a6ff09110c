//! LG003 excess-layers: more filesystem layers than the configured limit.

use super::{ImageFacts, Rule, RuleMeta, describe_layers};
use crate::finding::{Findings, Location, Severity};
use std::ops::Range;

/// Reports images with more layers than `max_layers`, naming the runs that could be merged.
pub struct ExcessLayers;

static META: RuleMeta = RuleMeta {
    code: "LG003",
    name: "excess-layers",
    severity: Severity::Low,
    summary: "The image has more filesystem layers than the configured maximum",
    rationale: "Every layer is a separate download and extraction when a task starts, and files \
                one layer writes and a later one changes are stored twice. The ECS best-practice \
                guide (capacity and availability: image size) says to chain commands with `&&` in \
                one layer to keep the layer count down, so tasks scale out faster.",
    remediation: "Merge adjacent `RUN` instructions into one `RUN a && b && c`, copy files in one \
                  `COPY` where possible, or use a multi-stage build whose last stage copies only \
                  the result. Raise `max_layers` in layerguard.toml if the count is deliberate.",
};

/// Layers smaller than this are cheap to merge into a neighbour.
const SMALL_LAYER: u64 = 1 << 20;

/// Most runs of small layers a message lists, and most instructions it quotes per run.
const RUNS_SHOWN: usize = 5;
const STEPS_SHOWN: usize = 4;

impl Rule for ExcessLayers {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let count = facts.layers.len();
        if count <= facts.settings.max_layers {
            return;
        }
        let mut message = format!(
            "the image has {count} layers, more than the limit of {}",
            facts.settings.max_layers
        );
        let runs = small_runs(facts.layers.iter().map(|l| l.tar_size));
        if !runs.is_empty() {
            let described = describe_layers(facts.config, count);
            let listed: Vec<String> = runs
                .iter()
                .take(RUNS_SHOWN)
                .map(|run| {
                    let mut steps: Vec<&str> = described[run.clone()]
                        .iter()
                        .take(STEPS_SHOWN)
                        .map(String::as_str)
                        .collect();
                    let more = format!("{} more", run.len().saturating_sub(STEPS_SHOWN));
                    if run.len() > STEPS_SHOWN {
                        steps.push(&more);
                    }
                    format!(
                        "layers {}-{} ({})",
                        run.start,
                        run.end - 1,
                        steps.join(", ")
                    )
                })
                .collect();
            message.push_str(&format!(
                "; {} run(s) of adjacent layers under 1 MiB each could be one `RUN … && …`: {}",
                runs.len(),
                listed.join("; ")
            ));
        }
        out.push(&META, Location::default(), message);
    }
}

/// Index ranges of two or more adjacent layers, each smaller than [`SMALL_LAYER`].
fn small_runs(sizes: impl Iterator<Item = u64>) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    let mut end = 0;
    for (i, size) in sizes.enumerate() {
        end = i + 1;
        match (size < SMALL_LAYER, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= 2 {
                    runs.push(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start
        && end - s >= 2
    {
        runs.push(s..end);
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;

    #[test]
    fn reports_too_many_layers_and_names_mergeable_runs() {
        let settings = Settings::from_toml("max_layers = 3\n", "t").unwrap();
        let sizes = [50 << 20, 10, 20, 30, 50 << 20];
        let layers: Vec<_> = sizes.iter().map(|&s| sized_layer(vec![], s)).collect();
        let image = image_with_history(&[
            "apt-get update",
            "mkdir /a",
            "mkdir /b",
            "mkdir /c",
            "cp x y",
        ]);
        let found = check(&ExcessLayers, layers.clone(), image.clone(), &settings);
        assert_eq!(found.len(), 1);
        let message = &found[0].message;
        assert!(
            message.contains("5 layers, more than the limit of 3"),
            "{message}"
        );
        assert!(
            message.contains("layers 1-3 (`mkdir /a`, `mkdir /b`, `mkdir /c`)"),
            "{message}"
        );

        assert!(check(&ExcessLayers, layers, image, &Settings::default()).is_empty());
    }

    #[test]
    fn runs_need_two_small_neighbours() {
        let big = 2 << 20;
        assert_eq!(
            small_runs([1, big, 1, 1, big, 1, 1].into_iter()),
            [2..4, 5..7]
        );
        assert!(small_runs([big, 1, big].into_iter()).is_empty());
    }
}
