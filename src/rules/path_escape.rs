//! LG019 path-escape: tar entries whose `..` components climb above the root.

use super::{ImageFacts, Rule, RuleMeta};
use crate::finding::{Findings, Location, Severity};

/// Reports layer entries crafted to be written outside the extraction directory.
pub struct PathEscape;

static META: RuleMeta = RuleMeta {
    code: "LG019",
    name: "path-escape",
    severity: Severity::High,
    summary: "A layer has tar entries whose `..` components climb above the root directory",
    rationale: "No build tool writes such names; they are a path-traversal attack on whatever \
                extracts the layer (a runtime, a scanner, a CI step unpacking the image), aimed \
                at overwriting files on that host. The ECS best-practice guide (task and \
                container security) says to use curated, trusted images; this one was crafted or \
                tampered with.",
    remediation: "Do not run or extract this image. Find out where it came from, rebuild it from \
                  a trusted Dockerfile and base image, and keep images in a private registry \
                  such as ECR.",
};

impl Rule for PathEscape {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_image(&self, facts: &ImageFacts<'_>, out: &mut Findings) {
        for (i, layer) in facts.layers.iter().enumerate() {
            for raw in layer.escapes {
                out.push(
                    &META,
                    Location {
                        path: Some(raw.clone()),
                        ..Location::layer(i)
                    },
                    format!("layer {i} has the entry {raw:?}, which climbs above the root"),
                );
            }
        }
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
    fn escaping_entries_are_reported_per_layer() {
        let layers = vec![
            layer(vec![file("/etc/passwd", 0o644, 1)], &[]),
            LayerContent {
                escapes: vec!["../../etc/cron.d/x".into()],
                ..Default::default()
            },
        ];
        let found = check(&PathEscape, layers, Image::default(), &Settings::default());
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].location,
            Location {
                path: Some("../../etc/cron.d/x".into()),
                ..Location::layer(1)
            }
        );
        assert_eq!(
            found[0].message,
            r#"layer 1 has the entry "../../etc/cron.d/x", which climbs above the root"#
        );

        let clean = vec![layer(vec![file("/etc/passwd", 0o644, 1)], &[])];
        assert!(check(&PathEscape, clean, Image::default(), &Settings::default()).is_empty());
    }
}
