//! Amazon ECS: a registered task definition, fetched with `DescribeTaskDefinition`.
//!
//! The document handed on is the response body exactly as ECS sent it, which is the
//! `describe-task-definition` output a user would save to a file: rebuilding it from the SDK's
//! types would drop every field the SDK's model does not know yet, and the loader is meant to
//! see what ECS has, not what this build of the SDK understands. Credentials and endpoints come
//! from the SDK's standard chain and overrides (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_ECS`),
//! like every other AWS call of the crate.

use super::ecr::Failure;
use crate::error::{Error, Result};
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecs::config::interceptors::AfterDeserializationInterceptorContextRef;
use aws_sdk_ecs::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_ecs::error::BoxError;
use std::sync::{Arc, Mutex};

/// A registered task definition as the user named it: `ecs:FAMILY[:REVISION]` or its ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDefinitionName {
    /// What `DescribeTaskDefinition` is asked for: `FAMILY`, `FAMILY:REVISION` or the ARN.
    pub asked: String,
    /// The region of an ARN; `None` leaves the region to the SDK's default chain.
    pub region: Option<String>,
}

impl TaskDefinitionName {
    /// Recognises `ecs:…` and `arn:…`; `None` for anything else (a file), an error for either
    /// form written wrong.
    pub fn parse(input: &str) -> Option<Result<TaskDefinitionName>> {
        let invalid = |reason: &str| Error::TaskDefinition {
            file: input.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(rest) = input.strip_prefix("ecs:") {
            let (family, revision) = match rest.split_once(':') {
                Some((f, r)) => (f, Some(r)),
                None => (rest, None),
            };
            return Some(if !valid_family(family) {
                Err(invalid(
                    "is not a task definition: a family is 1 to 255 letters, digits, - and _",
                ))
            } else if revision.is_some_and(|r| !valid_revision(r)) {
                Err(invalid(
                    "is not a task definition: a revision is a number from 1",
                ))
            } else {
                Ok(TaskDefinitionName {
                    asked: rest.to_owned(),
                    region: None,
                })
            });
        }
        if !input.starts_with("arn:") {
            return None;
        }
        // arn:PARTITION:ecs:REGION:ACCOUNT:task-definition/FAMILY[:REVISION]
        let parts: Vec<&str> = input.splitn(6, ':').collect();
        let (family, revision) = match parts
            .get(5)
            .and_then(|r| r.strip_prefix("task-definition/"))
        {
            Some(rest) => match rest.split_once(':') {
                Some((f, r)) => (f, Some(r)),
                None => (rest, None),
            },
            None => ("", None),
        };
        let well_formed = parts.len() == 6
            && parts[2] == "ecs"
            && !parts[3].is_empty()
            && valid_family(family)
            && revision.is_none_or(valid_revision);
        Some(if well_formed {
            Ok(TaskDefinitionName {
                asked: input.to_owned(),
                region: Some(parts[3].to_owned()),
            })
        } else {
            Err(invalid(
                "is not a task-definition ARN \
                 (arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION)",
            ))
        })
    }
}

fn valid_family(family: &str) -> bool {
    (1..=255).contains(&family.len())
        && family
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn valid_revision(revision: &str) -> bool {
    revision.parse::<u64>().is_ok_and(|r| r >= 1)
}

/// A task definition as ECS described it.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The `describe-task-definition` output, as ECS sent it.
    pub text: String,
    /// `ecs:FAMILY:REVISION` of the revision ECS answered with: what reports locate it by,
    /// since `ecs:FAMILY` alone means a different revision after the next deployment.
    pub located: String,
}

/// Keeps the body of the response the SDK deserialized: the one place the SDK still has it.
#[derive(Debug, Default, Clone)]
struct KeepBody(Arc<Mutex<Option<Vec<u8>>>>);

impl Intercept for KeepBody {
    fn name(&self) -> &'static str {
        "KeepBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(bytes) = context.response().body().bytes() {
            *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(bytes.to_vec());
        }
        Ok(())
    }
}

/// Describes `name`, without its tags, which no check reads. An error is one sentence naming the task definition, the
/// region asked and the AWS error code, never a credential.
pub fn fetch(name: &TaskDefinitionName) -> Result<Fetched> {
    let shown = match &name.region {
        Some(_) => name.asked.clone(),
        None => format!("ecs:{}", name.asked),
    };
    let failed = |reason: String| Error::TaskDefinitionFetch {
        name: shown.clone(),
        reason,
    };
    let runtime = super::registry::runtime()?;
    let loader = aws_config::defaults(BehaviorVersion::latest());
    let loader = match &name.region {
        Some(region) => loader.region(Region::new(region.clone())),
        None => loader,
    };
    let sdk = runtime.block_on(loader.load());
    let Some(region) = sdk.region().map(ToString::to_string) else {
        return Err(failed(
            "no AWS region is configured; set AWS_REGION or give the task definition's ARN"
                .to_owned(),
        ));
    };
    let body = KeepBody::default();
    let client = aws_sdk_ecs::Client::from_conf(
        aws_sdk_ecs::config::Builder::from(&sdk)
            .interceptor(body.clone())
            .build(),
    );
    let described = runtime.block_on(
        client
            .describe_task_definition()
            .task_definition(&name.asked)
            .send(),
    );
    let out = described.map_err(|e| {
        failed(format!(
            "ecs:DescribeTaskDefinition in {region} failed: {}",
            Failure::of(&e)
        ))
    })?;
    let Some(task) = out.task_definition() else {
        return Err(failed(format!(
            "ecs:DescribeTaskDefinition in {region} returned no task definition"
        )));
    };
    let located = match (task.family(), task.revision()) {
        (Some(family), revision) if revision > 0 => format!("ecs:{family}:{revision}"),
        _ => shown.clone(),
    };
    let bytes = body
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| failed("the response body was not kept".to_owned()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| failed("ecs:DescribeTaskDefinition answered with non-UTF-8".to_owned()))?;
    Ok(Fetched { text, located })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_revisions_and_arns_parse_and_files_are_left_alone() {
        let parsed = |s: &str| TaskDefinitionName::parse(s).map(|r| r.map_err(|e| e.to_string()));
        assert_eq!(
            parsed("ecs:web").unwrap().unwrap(),
            TaskDefinitionName {
                asked: "web".into(),
                region: None
            }
        );
        assert_eq!(
            parsed("ecs:web_2-a:14").unwrap().unwrap().asked,
            "web_2-a:14"
        );
        let arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3";
        let name = parsed(arn).unwrap().unwrap();
        assert_eq!(
            (name.asked.as_str(), name.region.as_deref()),
            (arn, Some("eu-west-1"))
        );
        assert!(parsed("task.json").is_none());
        assert!(parsed("./ecs:web").is_none());
        for bad in [
            "ecs:",
            "ecs:web:0",
            "ecs:web:x",
            "ecs:we b",
            "arn:aws:ecr:eu-west-1:123456789012:repository/web",
            "arn:aws:ecs:eu-west-1:123456789012:service/web",
            "arn:aws:ecs::123456789012:task-definition/web:1",
        ] {
            let err = parsed(bad).unwrap().unwrap_err();
            assert!(
                err.starts_with(bad) && err.contains("is not a task"),
                "{err}"
            );
        }
    }
}
