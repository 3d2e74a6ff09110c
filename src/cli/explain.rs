//! `layerguard rules` and `layerguard explain`: the rule table and each rule's documentation,
//! generated from the rules themselves.

use super::{ListFormat, RuleSet};
use crate::rules::{self, RULES, RuleMeta};
use crate::taskdef::checks::CHECKS;
use anyhow::{Result, bail};
use std::io::Write;

/// The rules of `only`, or all of them: image rules first, then task-definition checks.
fn metas(only: Option<RuleSet>) -> Vec<&'static RuleMeta> {
    let image = RULES.iter().map(|r| r.meta());
    let task = CHECKS.iter().map(|c| c.meta());
    match only {
        Some(RuleSet::Image) => image.collect(),
        Some(RuleSet::Taskdef) => task.collect(),
        None => image.chain(task).collect(),
    }
}

/// The README's rules table for `metas`; a test keeps the README in step with it.
fn markdown_table(metas: &[&RuleMeta]) -> String {
    let mut s =
        String::from("| code | name | severity | what it finds |\n| --- | --- | --- | --- |\n");
    for m in metas {
        s.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            m.code, m.name, m.severity, m.summary
        ));
    }
    s
}

/// One line per rule, the columns padded to their widest entry and two spaces apart.
fn plain_table(metas: &[&RuleMeta]) -> String {
    let width = |column: fn(&RuleMeta) -> usize| metas.iter().map(|&m| column(m)).max();
    let code = width(|m| m.code.len()).unwrap_or(0);
    let name = width(|m| m.name.len()).unwrap_or(0);
    let severity = width(|m| m.severity.as_str().len()).unwrap_or(0);
    metas
        .iter()
        .map(|m| {
            format!(
                "{:<code$}  {:<name$}  {:<severity$}  {}\n",
                m.code,
                m.name,
                m.severity.as_str(),
                m.summary
            )
        })
        .collect()
}

pub(super) fn list(format: ListFormat, only: Option<RuleSet>) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let metas = metas(only);
    match format {
        ListFormat::Table => write!(out, "{}", plain_table(&metas))?,
        // The README keeps the two tables in their own sections.
        ListFormat::Markdown if only.is_none() => write!(
            out,
            "{}\n{}",
            markdown_table(&self::metas(Some(RuleSet::Image))),
            markdown_table(&self::metas(Some(RuleSet::Taskdef)))
        )?,
        ListFormat::Markdown => write!(out, "{}", markdown_table(&metas))?,
        ListFormat::Json => {
            let rules: Vec<_> = metas.iter().map(|m| meta_json(m)).collect();
            serde_json::to_writer_pretty(&mut out, &rules)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

fn meta_json(m: &RuleMeta) -> serde_json::Value {
    serde_json::json!({
        "code": m.code,
        "name": m.name,
        "severity": m.severity,
        "summary": m.summary,
        "rationale": m.rationale,
        "remediation": m.remediation,
    })
}

pub(super) fn explain(rule: &str) -> Result<()> {
    let found = rules::find(rule)
        .map(|r| r.meta())
        .or_else(|| crate::taskdef::checks::find(rule).map(|c| c.meta()));
    let Some(m) = found else {
        bail!("no rule named {rule:?}; `layerguard rules` lists them");
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} {} ({})\n", m.code, m.name, m.severity)?;
    writeln!(out, "{}\n", m.summary)?;
    writeln!(out, "Why it matters:\n  {}\n", m.rationale)?;
    writeln!(out, "How to fix:\n  {}", m.remediation)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rules_table_lines_up_every_column() {
        let all = metas(None);
        let table = plain_table(&all);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), RULES.len() + CHECKS.len());
        // Where each column starts on the line of every rule: the same place on all of them.
        let starts = |line: &str, m: &RuleMeta| {
            [
                line.find(m.name).unwrap(),
                line.find(&format!("  {}  ", m.severity)).unwrap() + 2,
                line.rfind(m.summary).unwrap(),
            ]
        };
        let first = starts(lines[0], all[0]);
        for (line, &m) in lines.iter().zip(&all) {
            assert!(line.starts_with(m.code), "{line}");
            assert_eq!(starts(line, m), first, "{line}");
            assert!(line.ends_with(m.summary), "{line}");
        }
        let critical = lines.iter().find(|l| l.contains(" critical ")).unwrap();
        assert!(critical.contains("critical  A "), "{critical}");
    }
}
