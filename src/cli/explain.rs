//! `layerguard rules` and `layerguard explain`: the rule table and each rule's documentation,
//! generated from the rules themselves.

use super::ListFormat;
use crate::rules::{self, RULES, RuleMeta};
use anyhow::{Result, bail};
use std::io::Write;

/// The README's rules table; a test keeps the README in step with it.
pub fn markdown_table() -> String {
    let mut s =
        String::from("| code | name | severity | what it finds |\n| --- | --- | --- | --- |\n");
    for r in RULES {
        let m = r.meta();
        s.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            m.code, m.name, m.severity, m.summary
        ));
    }
    s
}

/// One line per rule, the columns padded to their widest entry and two spaces apart.
fn plain_table() -> String {
    let metas: Vec<&RuleMeta> = RULES.iter().map(|r| r.meta()).collect();
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

pub(super) fn list(format: ListFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Table => write!(out, "{}", plain_table())?,
        ListFormat::Markdown => write!(out, "{}", markdown_table())?,
        ListFormat::Json => {
            let rules: Vec<_> = RULES.iter().map(|r| meta_json(r.meta())).collect();
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
    let Some(r) = rules::find(rule) else {
        bail!("no rule named {rule:?}; `layerguard rules` lists them");
    };
    let m = r.meta();
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
        let table = plain_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), RULES.len());
        // Where each column starts on the line of every rule: the same place on all of them.
        let starts = |line: &str, m: &RuleMeta| {
            [
                line.find(m.name).unwrap(),
                line.find(&format!("  {}  ", m.severity)).unwrap() + 2,
                line.rfind(m.summary).unwrap(),
            ]
        };
        let first = starts(lines[0], RULES[0].meta());
        for (line, rule) in lines.iter().zip(RULES) {
            let m = rule.meta();
            assert!(line.starts_with(m.code), "{line}");
            assert_eq!(starts(line, m), first, "{line}");
            assert!(line.ends_with(m.summary), "{line}");
        }
        let critical = lines.iter().find(|l| l.contains(" critical ")).unwrap();
        assert!(critical.contains("critical  A "), "{critical}");
    }
}
