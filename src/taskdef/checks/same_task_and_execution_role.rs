//! LG117 task-same-task-and-execution-role: one role for the agent and for the code.

use super::{Check, RuleMeta};
use crate::finding::Severity;
use crate::taskdef::{Spot, TaskFacts, TaskFindings};

/// Reports tasks whose `taskRoleArn` equals their `executionRoleArn`.
pub struct SameTaskAndExecutionRole;

static META: RuleMeta = RuleMeta {
    code: "LG117",
    name: "task-same-task-and-execution-role",
    severity: Severity::Low,
    summary: "The task role and the execution role are the same role",
    rationale: "The execution role is the agent's: it pulls images, reads the task's secrets and \
                writes its logs. Given to the containers' code as the task role too, every \
                process in the task can read every secret and pull any image the agent can. The \
                ECS best-practice guide (IAM roles for tasks) says the execution role is for the \
                agent and to grant least privilege.",
    remediation: "Create a separate task role with only the permissions the application uses, \
                  and keep the execution role for ECS.",
};

impl Check for SameTaskAndExecutionRole {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, facts: &TaskFacts<'_>, out: &mut TaskFindings) {
        let task = facts.task;
        if let (Some(a), Some(b)) = (&task.task_role_arn, &task.execution_role_arn)
            && !a.trim().is_empty()
            && a.trim() == b.trim()
        {
            out.push(
                &META,
                Spot::task(facts, "taskRoleArn"),
                format!("the task role and the execution role are both {}", a.trim()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::taskdef::testing::run;

    #[test]
    fn equal_roles_are_reported_distinct_or_missing_are_not() {
        let roles = |t: &str, e: &str| {
            run(&SameTaskAndExecutionRole, &format!(r#"{{"family":"f","taskRoleArn":"{t}","executionRoleArn":"{e}"}}"#))
        };
        let r = "arn:aws:iam::123456789012:role/app";
        assert_eq!(roles(r, r)[0].field, "taskRoleArn");
        assert!(roles(r, "arn:aws:iam::123456789012:role/ecsTaskExecutionRole").is_empty());
        assert!(run(&SameTaskAndExecutionRole, &format!(r#"{{"family":"f","taskRoleArn":"{r}"}}"#)).is_empty());
    }
}
