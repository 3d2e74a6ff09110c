//! The deploy gate: a task definition's container images pulled from their registries and
//! scanned as `scan` scans them, and what the scans found handed to the task-definition lint as
//! [`ContainerImageFacts`], so the two are judged together.
//!
//! Every image of the task is pulled for the one platform the task runs on (its
//! `runtimePlatform`), side by side, with each layer the images share read once. An image that
//! cannot be pulled or read fails alone: its container is judged by the task definition alone,
//! and the others are still scanned.

use crate::image::Platform;
use crate::reference::ImageRef;
use crate::report::ScanReport;
use crate::scan::{self, ScanOptions, ScannedImage};
use crate::source::Source;
use crate::taskdef::{ContainerImageFacts, Launch, Loaded, TaskDefinition};
use std::collections::HashMap;

/// The image rule whose finding says the image's USER resolves to uid 0.
const IMAGE_ROOT_USER: &str = "root-user";

/// One container's image, scanned or not.
#[derive(Debug, Clone)]
pub struct ContainerImage {
    /// The container's position in `containerDefinitions`.
    pub index: usize,
    /// The container's name, else its position.
    pub container: String,
    /// The image reference, as the task definition writes it.
    pub reference: String,
    /// The image's scan report and what it tells the lint, or why it could not be scanned.
    pub outcome: Result<(ScanReport, ContainerImageFacts), String>,
}

/// The platform ECS pulls the task's images for: `runtimePlatform.cpuArchitecture` `ARM64` is
/// linux/arm64, `X86_64` or none linux/amd64, and a `WINDOWS_*` operating system family windows.
pub fn platform(task: &TaskDefinition) -> Platform {
    let arm = task
        .runtime_platform
        .as_ref()
        .and_then(|p| p.cpu_architecture.as_deref())
        .is_some_and(|a| a.eq_ignore_ascii_case("ARM64"));
    Platform {
        os: if Launch::of(task).windows {
            "windows"
        } else {
            "linux"
        }
        .to_owned(),
        architecture: if arm { "arm64" } else { "amd64" }.to_owned(),
        variant: None,
    }
}

/// Pulls and scans the image of every container that names one. `options` are `scan`'s; its
/// platform is replaced by the task's.
pub fn scan_images(loaded: &Loaded, options: &ScanOptions) -> Vec<ContainerImage> {
    let task = &loaded.definition;
    let mut options = options.clone();
    options.platform = Some(platform(task));
    let containers: Vec<(usize, String, String)> = task
        .container_definitions
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(index, c)| {
            let image = c.image.clone()?;
            let name = c
                .name
                .clone()
                .unwrap_or_else(|| format!("containerDefinitions[{index}]"));
            Some((index, name, image))
        })
        .collect();
    // Sidecars often share an image: each distinct reference is pulled once.
    let mut targets: Vec<(Source, String)> = Vec::new();
    let mut target_of: HashMap<&str, Result<usize, String>> = HashMap::new();
    for (_, _, image) in &containers {
        target_of.entry(image).or_insert_with(|| {
            // Not the error's own text: it lists `scan`'s input forms, which a task's image is not.
            let reference = ImageRef::parse(image).map_err(|e| match e {
                crate::Error::Reference { reason, .. } => {
                    format!("{image:?} is not an image reference: {reason}")
                }
                other => other.to_string(),
            })?;
            targets.push((Source::Registry(reference), image.clone()));
            Ok(targets.len() - 1)
        });
    }
    let (read, _) = scan::read_many(&targets, &options);
    let outcomes: Vec<Result<(ScanReport, ContainerImageFacts), String>> = read
        .into_iter()
        .map(|r| {
            r.map(|scanned| {
                let report = scan::assess(&scanned, &options);
                let facts = facts(&scanned, &report);
                (report, facts)
            })
            .map_err(|e| e.to_string())
        })
        .collect();
    containers
        .iter()
        .map(|(index, container, image)| ContainerImage {
            index: *index,
            container: container.clone(),
            reference: image.clone(),
            outcome: match &target_of[image.as_str()] {
                Ok(i) => outcomes[*i].clone(),
                Err(e) => Err(e.clone()),
            },
        })
        .collect()
}

/// What the lint takes from an image: its USER (and whether the image scan resolved it to
/// root), whether its repository lets tags move, and the digest to pin.
fn facts(scanned: &ScannedImage, report: &ScanReport) -> ContainerImageFacts {
    let image = &scanned.image;
    let user = image.config.config.user.clone().unwrap_or_default();
    // The image rule resolves a named USER through the image's /etc/passwd; an ignore of that
    // finding is a judgement about the image, not a fact that changes who the process runs as.
    let root_by_scan = report
        .findings
        .iter()
        .chain(report.suppressed.iter().map(|s| &s.finding))
        .any(|f| f.rule == IMAGE_ROOT_USER);
    ContainerImageFacts {
        user_is_root: (image.config.os != "windows").then_some(root_by_scan),
        user: Some(user),
        tags_immutable: image
            .posture
            .as_ref()
            .and_then(|p| p.mutable_tags)
            .map(|mutable| !mutable),
        // The digest the tag points at (an index's, for a multi-platform image), which is what
        // a pinned reference must name for ECS to pull the same platform-resolved image.
        digest: image
            .repo_digest
            .as_deref()
            .and_then(|d| d.rsplit_once('@'))
            .map(|(_, digest)| digest.to_owned()),
    }
}

/// The facts of each container, in `containerDefinitions` order, for [`crate::taskdef::lint`].
pub fn container_facts(
    loaded: &Loaded,
    images: &[ContainerImage],
) -> Vec<Option<ContainerImageFacts>> {
    let count = loaded
        .definition
        .container_definitions
        .iter()
        .flatten()
        .count();
    let mut facts = vec![None; count];
    for image in images {
        if let (Some(slot), Ok((_, f))) = (facts.get_mut(image.index), &image.outcome) {
            *slot = Some(f.clone());
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_runtime_platform_picks_the_platform() {
        let of = |json: &str| platform(&crate::taskdef::load(json, "t").unwrap().definition);
        assert_eq!(of(r#"{"family":"a"}"#).to_string(), "linux/amd64");
        assert_eq!(
            of(r#"{"family":"a","runtimePlatform":{"cpuArchitecture":"ARM64"}}"#).to_string(),
            "linux/arm64"
        );
        assert_eq!(
            of(r#"{"family":"a","runtimePlatform":{"cpuArchitecture":"X86_64","operatingSystemFamily":"WINDOWS_SERVER_2022_CORE"}}"#)
                .to_string(),
            "windows/amd64"
        );
    }
}
