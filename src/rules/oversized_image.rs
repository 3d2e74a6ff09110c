//! LG004 oversized-image: the uncompressed image is larger than the configured maximum.

use super::{ImageFacts, Rule, RuleMeta, describe_layers, human_size};
use crate::event::FileKind;
use crate::finding::{Findings, Location, Severity};
use std::cmp::Reverse;

/// Reports images whose layers add up to more than `max_image_size`, with the biggest culprits.
pub struct OversizedImage;

static META: RuleMeta = RuleMeta {
    code: "LG004",
    name: "oversized-image",
    severity: Severity::Low,
    summary: "The image's uncompressed size is above the configured maximum",
    rationale: "Every task start on a new host pulls and extracts the whole image, so its size \
                bounds how fast a service can scale out, and every extra file is more to attack. \
                The ECS best-practice guide (capacity and availability: image size; task and \
                container security: minimal images) says to keep images small.",
    remediation: "Start `FROM` a smaller base (slim, distroless, scratch), use a multi-stage build \
                  that copies only the built artefact into the last stage, and fetch large data \
                  at start-up (e.g. from S3) instead of baking it in. Raise `max_image_size` in \
                  layerguard.toml if the size is deliberate.",
};

const LAYERS_SHOWN: usize = 3;
const FILES_SHOWN: usize = 5;

impl Rule for OversizedImage {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        let total: u64 = facts.layers.iter().map(|l| l.tar_size).sum();
        if total <= facts.settings.max_image_size {
            return;
        }
        let described = describe_layers(facts.config, facts.layers.len());
        let mut layers: Vec<usize> = (0..facts.layers.len()).collect();
        layers.sort_by_key(|&i| Reverse(facts.layers[i].tar_size));
        let layers: Vec<String> = layers
            .iter()
            .take(LAYERS_SHOWN)
            .map(|&i| {
                format!(
                    "layer {i} {} ({})",
                    human_size(facts.layers[i].tar_size),
                    described[i]
                )
            })
            .collect();

        // The largest few, kept as the files stream past: an image can hold millions.
        let mut files: Vec<_> = Vec::with_capacity(FILES_SHOWN + 1);
        for f in facts
            .files
            .iter()
            .filter(|f| f.meta.kind == FileKind::Regular)
        {
            files.push(f);
            files.sort_by(|a, b| {
                (Reverse(a.meta.size), &a.meta.path).cmp(&(Reverse(b.meta.size), &b.meta.path))
            });
            files.truncate(FILES_SHOWN);
        }
        let files: Vec<String> = files
            .iter()
            .take(FILES_SHOWN)
            .map(|f| {
                format!(
                    "{} {} (layer {})",
                    f.meta.path,
                    human_size(f.meta.size),
                    f.layer
                )
            })
            .collect();

        let mut message = format!(
            "the image is {} uncompressed, above the limit of {}; largest layers: {}",
            human_size(total),
            human_size(facts.settings.max_image_size),
            layers.join(", ")
        );
        if !files.is_empty() {
            message.push_str(&format!("; largest files: {}", files.join(", ")));
        }
        out.push(&META, Location::default(), message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use crate::rules::testing::*;

    #[test]
    fn reports_images_above_the_limit_with_their_largest_parts() {
        let settings = Settings::from_toml("max_image_size = \"10MiB\"\n", "t").unwrap();
        let layers = vec![
            sized_layer(vec![file("/bin/sh", 0o755, 1 << 20)], 2 << 20),
            sized_layer(vec![file("/data/model.bin", 0o644, 9 << 20)], 9 << 20),
        ];
        let image = image_with_history(&["apk add busybox", "curl -o /data/model.bin $URL"]);
        let found = check(&OversizedImage, layers.clone(), image.clone(), &settings);
        assert_eq!(found.len(), 1);
        let message = &found[0].message;
        assert!(
            message.starts_with("the image is 11.0 MiB uncompressed, above the limit of 10.0 MiB"),
            "{message}"
        );
        assert!(
            message.contains(
                "largest layers: layer 1 9.0 MiB (`curl -o /data/model.bin $URL`), layer 0"
            ),
            "{message}"
        );
        assert!(
            message.contains("largest files: /data/model.bin 9.0 MiB (layer 1), /bin/sh"),
            "{message}"
        );

        assert!(check(&OversizedImage, layers, image, &Settings::default()).is_empty());
    }
}
