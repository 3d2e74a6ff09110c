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

pub(super) fn list(format: ListFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        ListFormat::Table => {
            for r in RULES {
                let m = r.meta();
                writeln!(
                    out,
                    "{}  {:<22} {:<8} {}",
                    m.code, m.name, m.severity, m.summary
                )?;
            }
        }
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
