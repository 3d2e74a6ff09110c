//! Reports of a task-definition lint: the same formats as an image scan (table, JSON, SARIF,
//! JUnit), written from a [`TaskDefinitionReport`] alone.

mod junit;
mod sarif;
mod table;

use super::{Format, ScanReport, Tool};
use crate::finding::{RuleMeta, Severity};
use crate::taskdef::{InputShape, Launch, Lint, Loaded, SuppressedTaskFinding, TaskFinding};
use serde::Serialize;
use std::io::{self, Write};

/// The version of the task-definition JSON report's shape. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// The result of linting one task definition; the only input of the writers below.
#[derive(Debug, Clone, Serialize)]
pub struct TaskDefinitionReport {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// `task-definition`, so a consumer reading reports of both kinds tells them apart.
    pub kind: &'static str,
    /// The program that wrote it.
    pub tool: Tool,
    /// What was linted.
    pub task_definition: TaskDefinitionSummary,
    /// The checks that ran, in code order.
    #[serde(skip)]
    pub rules: Vec<&'static RuleMeta>,
    /// Findings that remain after ignores, most severe first.
    pub findings: Vec<TaskFinding>,
    /// Findings an ignore suppressed, with its reason.
    pub suppressed: Vec<SuppressedTaskFinding>,
    /// Non-fatal problems: no containers, expired ignores, images that could not be scanned.
    pub warnings: Vec<String>,
    /// With `--scan-images`: each container's image and its scan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<ImageEntry>>,
}

/// One container's image in a deploy-gate report.
#[derive(Debug, Clone, Serialize)]
pub struct ImageEntry {
    /// The container's name.
    pub container: String,
    /// The image reference, as the task definition writes it.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The image's scan report, as `scan --format json` writes it; `None` when it could not be
    /// scanned.
    pub report: Option<ScanReport>,
    /// Why it could not be scanned.
    pub error: Option<String>,
}

/// The linted task definition.
#[derive(Debug, Clone, Serialize)]
pub struct TaskDefinitionSummary {
    /// The file as the user named it (`-` for standard input), or `ecs:FAMILY:REVISION` for
    /// one fetched from ECS.
    pub file: String,
    /// Which shape it had.
    pub shape: InputShape,
    /// Its family.
    pub family: Option<String>,
    /// Its revision, when the file says.
    pub revision: Option<u64>,
    /// `fargate` when `requiresCompatibilities` has FARGATE, else `ec2` (EC2-only checks ran).
    pub launch_type: &'static str,
    /// `linux` or `windows`.
    pub os: &'static str,
    /// Its containers, in order.
    pub containers: Vec<ContainerSummary>,
}

/// One container of the linted task definition.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerSummary {
    /// Its name.
    pub name: Option<String>,
    /// Its image reference, as written.
    pub image: Option<String>,
}

impl TaskDefinitionReport {
    /// The report of `lint` run on `loaded`, read from `file`.
    pub fn new(file: &str, loaded: &Loaded, lint: Lint) -> Self {
        let task = &loaded.definition;
        let launch = Launch::of(task);
        let mut warnings = loaded.warnings.clone();
        warnings.extend(lint.warnings);
        TaskDefinitionReport {
            schema_version: SCHEMA_VERSION,
            kind: "task-definition",
            tool: Tool::default(),
            task_definition: TaskDefinitionSummary {
                file: file.to_owned(),
                shape: loaded.shape,
                family: task.family.clone(),
                revision: task.revision,
                launch_type: if launch.fargate { "fargate" } else { "ec2" },
                os: if launch.windows { "windows" } else { "linux" },
                containers: task
                    .container_definitions
                    .iter()
                    .flatten()
                    .map(|c| ContainerSummary {
                        name: c.name.clone(),
                        image: c.image.clone(),
                    })
                    .collect(),
            },
            rules: crate::taskdef::checks::CHECKS
                .iter()
                .map(|c| c.meta())
                .collect(),
            findings: lint.findings,
            suppressed: lint.suppressed,
            warnings,
            images: None,
        }
    }

    /// The same report with the scanned images: their findings count for [`Self::fails`], and
    /// an image that could not be scanned is a warning.
    pub fn with_images(mut self, images: Vec<ImageEntry>) -> Self {
        for image in &images {
            if let Some(error) = &image.error {
                self.warnings.push(format!(
                    "the image of container {} ({}) was not scanned: {error}",
                    image.container, image.reference
                ));
            }
        }
        self.images = Some(images);
        self
    }

    /// The scan reports of the images with the references the task writes, each distinct
    /// reference once (containers that share an image share its scan).
    pub fn image_reports(&self) -> impl Iterator<Item = (&str, &ScanReport)> {
        let mut seen = std::collections::HashSet::new();
        self.images
            .iter()
            .flatten()
            .filter(move |i| seen.insert(i.reference.as_str()))
            .filter_map(|i| Some((i.reference.as_str(), i.report.as_ref()?)))
    }

    /// The containers that run `reference`.
    pub fn containers_of(&self, reference: &str) -> Vec<&str> {
        self.images
            .iter()
            .flatten()
            .filter(|i| i.reference == reference)
            .map(|i| i.container.as_str())
            .collect()
    }

    /// The metadata of the check a finding names.
    pub fn rule(&self, code: &str) -> Option<&'static RuleMeta> {
        self.rules.iter().copied().find(|r| r.code == code)
    }

    /// `family:revision`, `family`, or the file when the task definition has no family.
    pub fn name(&self) -> String {
        let t = &self.task_definition;
        match (&t.family, t.revision) {
            (Some(f), Some(r)) => format!("{f}:{r}"),
            (Some(f), None) => f.clone(),
            (None, _) => t.file.clone(),
        }
    }

    /// True when a finding at or above `threshold` remains.
    pub fn fails(&self, threshold: Option<Severity>) -> bool {
        threshold.is_some_and(|t| {
            self.findings.iter().any(|f| f.severity >= t)
                || self
                    .image_reports()
                    .any(|(_, r)| r.findings.iter().any(|f| f.severity >= t))
        })
    }
}

/// Writes `report` in `format`; the SBOM formats have nothing to say of a task definition.
pub fn render(
    report: &TaskDefinitionReport,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Table {
            colour,
            fail_on,
            quiet,
        } => table::render(report, colour, fail_on, quiet, out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        Format::Sarif => sarif::render(report, out),
        Format::Junit { fail_on } => junit::render(report, fail_on, out),
        Format::CycloneDx | Format::SpdxJson => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a task definition has no SBOM; use table, json, sarif or junit",
        )),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A report of a small task with findings at several severities.
    pub fn sample() -> TaskDefinitionReport {
        let text = r#"{
  "family": "web",
  "networkMode": "host",
  "containerDefinitions": [
    {
      "name": "app",
      "image": "nginx",
      "privileged": true,
      "environment": [{"name": "DB_PASSWORD", "value": "hunter2hunter2"}]
    }
  ]
}
"#;
        let loaded = crate::taskdef::load(text, "deploy/web.json").unwrap();
        let lint = crate::taskdef::lint(&loaded, &[], &Default::default(), "2025-01-01");
        TaskDefinitionReport::new("deploy/web.json", &loaded, lint)
    }

    #[test]
    fn the_json_report_is_versioned_and_names_fields_and_containers() {
        let mut out = Vec::new();
        render(&sample(), Format::Json, &mut out).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(json["schema_version"], SCHEMA_VERSION);
        assert_eq!(json["kind"], "task-definition");
        assert_eq!(json["task_definition"]["launch_type"], "ec2");
        let findings = json["findings"].as_array().unwrap();
        let privileged = findings
            .iter()
            .find(|f| f["rule"] == "task-privileged")
            .unwrap();
        assert_eq!(privileged["container"], "app");
        assert_eq!(privileged["field"], "containerDefinitions[0].privileged");
        assert_eq!(privileged["line"], 8);
        let host = findings
            .iter()
            .find(|f| f["rule"] == "task-host-network")
            .unwrap();
        assert!(host["container"].is_null() && host.get("container").is_some());
        assert!(!String::from_utf8(out).unwrap().contains("hunter2"));
        assert!(json.get("images").is_none(), "only with --scan-images");
    }

    #[test]
    fn scanned_images_are_listed_and_their_findings_fail_the_gate() {
        let image = crate::report::table::tests::sample_report();
        let worst = image.findings.iter().map(|f| f.severity).max().unwrap();
        let mut report = sample();
        report.findings.clear();
        assert!(!report.fails(Some(Severity::Info)));
        let report = report.with_images(vec![
            ImageEntry {
                container: "app".into(),
                reference: "nginx".into(),
                report: Some(image),
                error: None,
            },
            ImageEntry {
                container: "proxy".into(),
                reference: "envoy:9".into(),
                report: None,
                error: Some("registry docker.io: denied".into()),
            },
        ]);
        assert!(report.fails(Some(worst)));
        assert!(
            report.warnings.iter().any(|w| w
                == "the image of container proxy (envoy:9) was not scanned: registry docker.io: denied"),
            "{:?}",
            report.warnings
        );
        let json = serde_json::to_value(&report).unwrap();
        let images = json["images"].as_array().unwrap();
        assert_eq!(images[0]["ref"], "nginx");
        assert!(images[0]["error"].is_null() && images[0]["report"]["findings"].is_array());
        assert!(images[1]["report"].is_null() && images[1].get("report").is_some());
    }
}
