//! ECS task definitions: the model, reading one from a file, and the lint that judges it.
//!
//! A task definition arrives in one of two shapes: the object `aws ecs register-task-definition
//! --cli-input-json` takes, or the `describe-task-definition` output that wraps it in
//! `{"taskDefinition": …, "tags": …}`. Only the fields the checks read are modelled, every one
//! optional, so a newer field or one this model does not know is ignored rather than rejected.
//! What is rejected is a document that is not a task definition at all (a CloudFormation
//! template, a list output): linting it as one would report nonsense, or worse, nothing.
//!
//! The lint ([`lint`]) takes the parsed task definition and, per container, the facts an image
//! scan may add ([`ContainerImageFacts`]); without them each check judges the task definition
//! alone.

pub mod checks;
pub mod lines;

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::finding::{Finding, RuleMeta, Severity};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A task definition as far as the checks read it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskDefinition {
    /// The family name.
    pub family: Option<String>,
    /// The revision, in the describe output.
    pub revision: Option<u64>,
    /// The role the containers' code runs with.
    pub task_role_arn: Option<String>,
    /// The role the agent uses to pull images, fetch secrets and ship logs.
    pub execution_role_arn: Option<String>,
    /// `awsvpc`, `bridge`, `host` or `none`; absent means `bridge` on EC2.
    pub network_mode: Option<String>,
    /// `host` or `task`.
    pub pid_mode: Option<String>,
    /// `host`, `task` or `none`.
    pub ipc_mode: Option<String>,
    /// The launch types the task must run on; this, not the describe output's computed
    /// `compatibilities`, says what the task asks for.
    #[serde(default)]
    pub requires_compatibilities: Vec<String>,
    /// Operating system and CPU architecture.
    pub runtime_platform: Option<RuntimePlatform>,
    /// Task-level CPU units (a string or a number in the wild).
    pub cpu: Option<serde_json::Value>,
    /// Task-level hard memory limit in MiB (a string or a number in the wild).
    pub memory: Option<serde_json::Value>,
    /// The containers; `None` when the document has no such field.
    pub container_definitions: Option<Vec<ContainerDefinition>>,
    /// Volumes the containers may mount.
    #[serde(default)]
    pub volumes: Vec<Volume>,
}

/// Where the task runs.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuntimePlatform {
    /// `LINUX`, `WINDOWS_SERVER_2022_CORE`, …
    pub operating_system_family: Option<String>,
    /// `X86_64` or `ARM64`.
    pub cpu_architecture: Option<String>,
}

/// One container of the task.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDefinition {
    /// The container name.
    pub name: Option<String>,
    /// The image reference.
    pub image: Option<String>,
    /// Whether the task stops when this container stops; absent means true.
    pub essential: Option<bool>,
    /// `user`, `uid`, `user:group`, `uid:gid`, … (Windows: an account name).
    pub user: Option<String>,
    /// Runs with all the host's privileges.
    pub privileged: Option<bool>,
    /// Mounts the root filesystem read-only.
    pub readonly_root_filesystem: Option<bool>,
    /// Plain environment variables.
    #[serde(default)]
    pub environment: Vec<EnvironmentVariable>,
    /// Files of variables in S3, read by the agent at start.
    #[serde(default)]
    pub environment_files: Vec<serde_json::Value>,
    /// Variables whose values the agent fetches from Secrets Manager or SSM.
    #[serde(default)]
    pub secrets: Vec<serde_json::Value>,
    /// Linux-specific settings.
    pub linux_parameters: Option<LinuxParameters>,
    /// The hard memory limit in MiB.
    pub memory: Option<u64>,
    /// The soft memory limit in MiB.
    pub memory_reservation: Option<u64>,
    /// Where logs go.
    pub log_configuration: Option<LogConfiguration>,
    /// Published ports.
    #[serde(default)]
    pub port_mappings: Vec<serde_json::Value>,
    /// The container's health check.
    pub health_check: Option<serde_json::Value>,
    /// Volume mounts.
    #[serde(default)]
    pub mount_points: Vec<MountPoint>,
    /// `no-new-privileges`, SELinux and AppArmor labels, seccomp profiles.
    #[serde(default)]
    pub docker_security_options: Vec<String>,
    /// Resource limits.
    #[serde(default)]
    pub ulimits: Vec<Ulimit>,
    /// Set on a FireLens log router.
    pub firelens_configuration: Option<serde_json::Value>,
    /// A private registry's credentials, in Secrets Manager.
    pub repository_credentials: Option<serde_json::Value>,
}

/// A plain environment variable.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EnvironmentVariable {
    /// Its name.
    pub name: Option<String>,
    /// Its literal value.
    pub value: Option<String>,
}

/// `linuxParameters`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxParameters {
    /// Capabilities added to and dropped from Docker's default set.
    pub capabilities: Option<Capabilities>,
    /// Runs an init process as PID 1 that reaps zombies and forwards signals.
    pub init_process_enabled: Option<bool>,
}

/// `linuxParameters.capabilities`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Capabilities {
    /// Added capabilities.
    #[serde(default)]
    pub add: Vec<String>,
    /// Dropped capabilities.
    #[serde(default)]
    pub drop: Vec<String>,
}

/// `logConfiguration`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogConfiguration {
    /// `awslogs`, `awsfirelens`, `splunk`, …
    pub log_driver: Option<String>,
    /// The driver's options.
    pub options: Option<std::collections::BTreeMap<String, String>>,
    /// Driver options whose values come from Secrets Manager or SSM.
    #[serde(default)]
    pub secret_options: Vec<serde_json::Value>,
}

/// A volume mount.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountPoint {
    /// The volume's name.
    pub source_volume: Option<String>,
    /// Where it appears in the container.
    pub container_path: Option<String>,
    /// Mounted read-only.
    pub read_only: Option<bool>,
}

/// A resource limit.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ulimit {
    /// `nofile`, `nproc`, …
    pub name: Option<String>,
}

/// A task volume.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Volume {
    /// Its name, as mount points refer to it.
    pub name: Option<String>,
    /// A bind mount of the host (or, without `sourcePath`, a Docker-managed path).
    pub host: Option<HostVolume>,
    /// An EFS file system.
    pub efs_volume_configuration: Option<EfsVolume>,
}

/// `volumes[].host`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostVolume {
    /// The path on the host.
    pub source_path: Option<String>,
}

/// `volumes[].efsVolumeConfiguration`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EfsVolume {
    /// `ENABLED` or `DISABLED`; absent means disabled.
    pub transit_encryption: Option<String>,
}

/// Which of the two documented shapes the file had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputShape {
    /// A bare task definition, as `register-task-definition` takes it.
    RegisterInput,
    /// `{"taskDefinition": …, "tags": …}`, as `describe-task-definition` prints it.
    DescribeOutput,
}

/// A task definition read from a document, and what was odd about it.
#[derive(Debug)]
pub struct Loaded {
    /// The task definition.
    pub definition: TaskDefinition,
    /// Its shape.
    pub shape: InputShape,
    /// Where in the document the task definition starts: `taskDefinition.` for the describe
    /// output, empty for a bare one; the prefix of every field a finding names.
    pub root: &'static str,
    /// Non-fatal problems, like a task definition without containers.
    pub warnings: Vec<String>,
    /// The line of each field in the text, for findings to point at.
    pub lines: lines::FieldLines,
}

/// Fields only a task definition has: a document with none of them is something else.
const TASK_FIELDS: &[&str] = &[
    "containerDefinitions",
    "family",
    "taskRoleArn",
    "executionRoleArn",
    "networkMode",
    "requiresCompatibilities",
    "taskDefinitionArn",
    "runtimePlatform",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "ephemeralStorage",
    "inferenceAccelerators",
    "placementConstraints",
];

/// Reads a task definition from `text`; `file` names it in errors.
pub fn load(text: &str, file: &str) -> Result<Loaded> {
    let invalid = |reason: String| Error::TaskDefinition {
        file: file.to_owned(),
        reason,
    };
    let document: serde_json::Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("is not valid JSON ({e})")))?;
    let Some(object) = document.as_object() else {
        return Err(invalid(format!(
            "holds a JSON {}, not a task definition object",
            json_kind(&document)
        )));
    };
    if object.contains_key("AWSTemplateFormatVersion") || object.contains_key("Resources") {
        return Err(invalid(
            "is a CloudFormation template, not a task definition; give the task definition \
             itself (the register-task-definition input or the describe-task-definition output)"
                .to_owned(),
        ));
    }
    let (body, shape, root) = match object.get("taskDefinition") {
        Some(inner @ serde_json::Value::Object(_)) => {
            (inner, InputShape::DescribeOutput, "taskDefinition.")
        }
        Some(other) => {
            return Err(invalid(format!(
                "has a taskDefinition that is a JSON {}, not an object",
                json_kind(other)
            )));
        }
        None => (&document, InputShape::RegisterInput, ""),
    };
    let fields = body.as_object().map(|o| o.keys().collect::<Vec<_>>());
    if !fields
        .iter()
        .flatten()
        .any(|k| TASK_FIELDS.contains(&k.as_str()))
    {
        return Err(invalid(format!(
            "is not a task definition: it has none of the fields one has ({})",
            TASK_FIELDS[..5].join(", ")
        )));
    }
    let definition: TaskDefinition = serde_json::from_value(body.clone())
        .map_err(|e| invalid(format!("is not a valid task definition: {e}")))?;
    let mut warnings = Vec::new();
    match &definition.container_definitions {
        None => warnings.push(format!(
            "{root}containerDefinitions is missing: only the task-level settings were checked"
        )),
        Some(c) if c.is_empty() => warnings.push(format!(
            "{root}containerDefinitions is empty: only the task-level settings were checked"
        )),
        Some(_) => {}
    }
    Ok(Loaded {
        definition,
        shape,
        root,
        warnings,
        lines: lines::FieldLines::scan(text),
    })
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// What scanning a container's image adds to the judgement of its task definition. The lint
/// takes one per container; a fact left `None` is unknown and the task definition alone decides.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerImageFacts {
    /// The image config's USER: `Some("")` when the image sets none.
    pub user: Option<String>,
    /// Whether that USER is uid 0 as the image scan resolved it, a name through the image's
    /// /etc/passwd; `None` leaves it to the USER as written.
    pub user_is_root: Option<bool>,
    /// Whether the image's ECR repository refuses to move tags.
    pub tags_immutable: Option<bool>,
    /// The manifest digest the tag resolved to, to advise pinning.
    pub digest: Option<String>,
}

/// Where the task runs, as the checks need to know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Launch {
    /// The task requires Fargate.
    pub fargate: bool,
    /// EC2-only checks apply: `requiresCompatibilities` is absent or lacks FARGATE.
    pub ec2: bool,
    /// The task runs Windows containers, so Linux-only checks do not apply.
    pub windows: bool,
}

impl Launch {
    /// Decided by `requiresCompatibilities` and `runtimePlatform`.
    pub fn of(task: &TaskDefinition) -> Self {
        let fargate = task
            .requires_compatibilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case("FARGATE"));
        let windows = task
            .runtime_platform
            .as_ref()
            .and_then(|p| p.operating_system_family.as_deref())
            .is_some_and(|f| f.to_ascii_uppercase().starts_with("WINDOWS"));
        Launch {
            fargate,
            ec2: !fargate,
            windows,
        }
    }

    /// Linux-only checks apply.
    pub fn linux(self) -> bool {
        !self.windows
    }
}

/// One container as a check sees it.
#[derive(Debug, Clone, Copy)]
pub struct Container<'a> {
    /// Its position in `containerDefinitions`.
    pub index: usize,
    /// Its definition.
    pub def: &'a ContainerDefinition,
    /// What an image scan found, when one ran.
    pub image: Option<&'a ContainerImageFacts>,
    root: &'a str,
}

impl Container<'_> {
    /// The container's name, else its position.
    pub fn name(&self) -> String {
        self.def
            .name
            .clone()
            .unwrap_or_else(|| format!("containerDefinitions[{}]", self.index))
    }

    /// The JSON field `rest` of this container: `containerDefinitions[1].privileged`.
    pub fn field(&self, rest: &str) -> String {
        format!("{}containerDefinitions[{}].{rest}", self.root, self.index)
    }

    /// Essential unless it says otherwise.
    pub fn essential(&self) -> bool {
        self.def.essential.unwrap_or(true)
    }

    /// Runs privileged: Docker then ignores capability drops and security options.
    pub fn privileged(&self) -> bool {
        self.def.privileged == Some(true)
    }

    /// A FireLens log router.
    pub fn log_router(&self) -> bool {
        self.def
            .firelens_configuration
            .as_ref()
            .is_some_and(|f| !f.is_null())
    }

    /// The added capabilities, as written.
    pub fn added_capabilities(&self) -> &[String] {
        self.def
            .linux_parameters
            .as_ref()
            .and_then(|l| l.capabilities.as_ref())
            .map_or(&[], |c| c.add.as_slice())
    }
}

/// Everything a check may look at.
pub struct TaskFacts<'a> {
    /// The task definition.
    pub task: &'a TaskDefinition,
    /// Its launch type and operating system.
    pub launch: Launch,
    /// The user's allow-lists.
    pub settings: &'a Settings,
    containers: Vec<Container<'a>>,
    root: &'a str,
}

impl<'a> TaskFacts<'a> {
    /// The task's containers, in order.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + '_ {
        self.containers.iter().copied()
    }

    /// The task-level JSON field `rest`: `networkMode`, `volumes[0].host.sourcePath`.
    pub fn field(&self, rest: &str) -> String {
        format!("{}{rest}", self.root)
    }
}

/// One problem a task-definition check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskFinding {
    /// The check's kebab-case name.
    pub rule: Cow<'static, str>,
    /// The check's code, `LG1xx`.
    pub code: Cow<'static, str>,
    /// How bad it is.
    pub severity: Severity,
    /// The container's name; `None` for a task-level finding.
    pub container: Option<String>,
    /// What in particular: a variable's name, a capability list, a path, a volume, a setting.
    pub detail: Option<String>,
    /// What was found, for a person; never a secret's value.
    pub message: String,
    /// The JSON field it is about, like `containerDefinitions[1].readonlyRootFilesystem`.
    pub field: String,
    /// The line of the file the field (or, when it is missing, the object that lacks it) is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl TaskFinding {
    /// The order reports list findings in: most severe first, then check, then place.
    pub fn sort_key(&self) -> impl Ord + '_ {
        (
            std::cmp::Reverse(self.severity),
            &self.code,
            &self.field,
            &self.detail,
            &self.message,
        )
    }

    /// The same finding in the image scan's vocabulary, so the config's ignores match it.
    fn as_finding(&self) -> Finding {
        Finding {
            rule: self.rule.clone(),
            code: self.code.clone(),
            severity: self.severity,
            message: self.message.clone(),
            location: crate::finding::Location::config(self.field.clone()),
        }
    }
}

/// The sink checks push findings into.
#[derive(Debug, Default)]
pub struct TaskFindings {
    items: Vec<TaskFinding>,
}

/// Where a finding is and what in particular it is about.
#[derive(Debug, Clone, Default)]
pub struct Spot {
    /// The container, for a container-level finding.
    pub container: Option<String>,
    /// The JSON field.
    pub field: String,
    /// The detail, when the check has one.
    pub detail: Option<String>,
}

impl Spot {
    /// A task-level field.
    pub fn task(facts: &TaskFacts<'_>, field: &str) -> Self {
        Spot {
            container: None,
            field: facts.field(field),
            detail: None,
        }
    }

    /// A field of one container.
    pub fn container(container: &Container<'_>, field: &str) -> Self {
        Spot {
            container: Some(container.name()),
            field: container.field(field),
            detail: None,
        }
    }

    /// The same place, with a detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

impl TaskFindings {
    /// Reports a finding at the check's own severity.
    pub fn push(&mut self, meta: &'static RuleMeta, spot: Spot, message: impl Into<String>) {
        self.push_with(meta, meta.severity, spot, message);
    }

    /// Reports a finding at a severity of the check's choosing.
    pub fn push_with(
        &mut self,
        meta: &'static RuleMeta,
        severity: Severity,
        spot: Spot,
        message: impl Into<String>,
    ) {
        self.items.push(TaskFinding {
            rule: Cow::Borrowed(meta.name),
            code: Cow::Borrowed(meta.code),
            severity,
            container: spot.container,
            detail: spot.detail,
            message: message.into(),
            field: spot.field,
            line: None,
        });
    }

    /// The findings so far.
    pub fn into_vec(self) -> Vec<TaskFinding> {
        self.items
    }
}

/// A finding an ignore entry suppressed.
#[derive(Debug, Clone, Serialize)]
pub struct SuppressedTaskFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: TaskFinding,
    /// The ignore's reason.
    pub reason: String,
}

/// What the lint of one task definition found.
#[derive(Debug, Clone, Default)]
pub struct Lint {
    /// Findings that remain after ignores, most severe first.
    pub findings: Vec<TaskFinding>,
    /// Findings an ignore suppressed.
    pub suppressed: Vec<SuppressedTaskFinding>,
    /// Non-fatal problems, like an expired ignore.
    pub warnings: Vec<String>,
}

/// Runs every check on `loaded`. `images` holds one entry per container (missing entries are
/// unknown); `today` (`YYYY-MM-DD`) decides which ignores have expired.
pub fn lint(
    loaded: &Loaded,
    images: &[Option<ContainerImageFacts>],
    settings: &Settings,
    today: &str,
) -> Lint {
    let task = &loaded.definition;
    let containers = task
        .container_definitions
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, def)| Container {
            index,
            def,
            image: images.get(index).and_then(Option::as_ref),
            root: loaded.root,
        })
        .collect();
    let facts = TaskFacts {
        task,
        launch: Launch::of(task),
        settings,
        containers,
        root: loaded.root,
    };
    let mut out = TaskFindings::default();
    for check in checks::CHECKS {
        check.check(&facts, &mut out);
    }
    let mut lint = Lint::default();
    for mut finding in out.into_vec() {
        finding.line = loaded.lines.line(&finding.field);
        // An ignore's `image` glob is matched against the container's image, or for a
        // task-level finding the family, the names a user knows the deployment by.
        let subject = finding
            .container
            .as_ref()
            .and_then(|name| {
                facts
                    .containers()
                    .find(|c| &c.name() == name)
                    .and_then(|c| c.def.image.clone())
            })
            .or_else(|| task.family.clone())
            .unwrap_or_default();
        match settings.ignore_for(&finding.as_finding(), &subject) {
            Some(ig) if ig.expired(today) => {
                lint.warnings.push(format!(
                    "ignore for {} expired on {}; the finding is reported again ({})",
                    ig.rule,
                    ig.expires.as_deref().unwrap_or(""),
                    ig.reason
                ));
                lint.findings.push(finding);
            }
            Some(ig) => lint.suppressed.push(SuppressedTaskFinding {
                finding,
                reason: ig.reason.clone(),
            }),
            None => lint.findings.push(finding),
        }
    }
    lint.findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    lint.findings.dedup();
    lint.suppressed
        .sort_by(|a, b| a.finding.sort_key().cmp(&b.finding.sort_key()));
    lint.warnings.sort();
    lint.warnings.dedup();
    lint
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs one check on a task definition written as JSON, so each check's tests read like the
    //! task definitions they judge.
    use super::*;

    /// The findings of `check` on `json`.
    pub fn run(check: &dyn checks::Check, json: &str) -> Vec<TaskFinding> {
        run_with(check, json, &[], &Settings::default())
    }

    /// Like [`run`] with image facts and settings.
    pub fn run_with(
        check: &dyn checks::Check,
        json: &str,
        images: &[Option<ContainerImageFacts>],
        settings: &Settings,
    ) -> Vec<TaskFinding> {
        let loaded = load(json, "test.json").expect("a task definition");
        let task = &loaded.definition;
        let facts = TaskFacts {
            task,
            launch: Launch::of(task),
            settings,
            containers: task
                .container_definitions
                .iter()
                .flatten()
                .enumerate()
                .map(|(index, def)| Container {
                    index,
                    def,
                    image: images.get(index).and_then(Option::as_ref),
                    root: loaded.root,
                })
                .collect(),
            root: loaded.root,
        };
        let mut out = TaskFindings::default();
        check.check(&facts, &mut out);
        out.into_vec()
    }

    /// Asserts that `check` reports the task-level `setting` when it is `host` and not otherwise.
    pub fn reports_only_host(check: &dyn checks::Check, setting: &str) {
        let task = |value: &str| {
            format!(r#"{{"family":"t","{setting}":"{value}","containerDefinitions":[]}}"#)
        };
        let found = run(check, &task("host"));
        assert_eq!(found.len(), 1, "{setting}");
        assert_eq!(found[0].field, setting);
        assert_eq!(found[0].container, None);
        assert!(run(check, &task("task")).is_empty(), "{setting}");
        assert!(run(check, r#"{"family":"t","containerDefinitions":[]}"#).is_empty());
    }

    /// A task of one container with the given fields (a JSON object's inside), on EC2.
    pub fn one(container: &str) -> String {
        format!(
            r#"{{"family":"t","containerDefinitions":[{{"name":"app","image":"x",{container}}}]}}"#
        )
    }

    /// A task of one container named `a` running `image`.
    pub fn image(image: &str) -> String {
        format!(r#"{{"family":"t","containerDefinitions":[{{"name":"a","image":"{image}"}}]}}"#)
    }

    /// Like [`one`], on Fargate.
    pub fn fargate(container: &str) -> String {
        format!(
            r#"{{"family":"t","requiresCompatibilities":["FARGATE"],"networkMode":"awsvpc","containerDefinitions":[{{"name":"app","image":"x",{container}}}]}}"#
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_load_and_name_fields_from_their_root() {
        let bare = load(r#"{"family":"web","containerDefinitions":[]}"#, "a.json").unwrap();
        assert_eq!((bare.shape, bare.root), (InputShape::RegisterInput, ""));
        assert!(bare.warnings[0].contains("empty"));
        let wrapped = load(
            r#"{"taskDefinition":{"family":"web","compatibilities":["EC2","FARGATE"],"newField":{"x":1},"containerDefinitions":[{"name":"a"}]},"tags":[]}"#,
            "b.json",
        )
        .unwrap();
        assert_eq!(wrapped.shape, InputShape::DescribeOutput);
        assert_eq!(wrapped.root, "taskDefinition.");
        assert!(wrapped.warnings.is_empty());
        // `compatibilities` is what the task could run on, not what it asked for.
        assert!(Launch::of(&wrapped.definition).ec2);
    }

    #[test]
    fn documents_that_are_not_task_definitions_are_refused_in_a_sentence() {
        let err = |text: &str| load(text, "x.json").unwrap_err().to_string();
        assert!(
            err(r#"{"AWSTemplateFormatVersion":"2010-09-09","Resources":{}}"#)
                .contains("CloudFormation template")
        );
        assert!(err("{\"family\": ").starts_with("x.json is not valid JSON"));
        assert!(err("[1]").contains("JSON array"));
        assert!(err(r#"{"taskDefinitionArns":[]}"#).contains("none of the fields"));
        let wrong = err(r#"{"family":"a","containerDefinitions":[{"privileged":"yes"}]}"#);
        assert!(wrong.contains("invalid type"), "{wrong}");
        let missing = load(r#"{"family":"a"}"#, "x.json").unwrap();
        assert!(missing.warnings[0].contains("missing"));
    }

    #[test]
    fn launch_type_and_os_decide_which_checks_apply() {
        let launch = |json: &str| Launch::of(&load(json, "x").unwrap().definition);
        assert!(launch(r#"{"family":"a"}"#).ec2);
        let both = launch(r#"{"family":"a","requiresCompatibilities":["EC2","FARGATE"]}"#);
        assert!(both.fargate && !both.ec2);
        let windows = launch(
            r#"{"family":"a","runtimePlatform":{"operatingSystemFamily":"WINDOWS_SERVER_2019_CORE"}}"#,
        );
        assert!(windows.windows && !windows.linux());
    }
}
