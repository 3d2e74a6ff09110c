//! The terminal report of a task-definition lint: the verdict first, then each finding with the
//! field to change and the fix beside it.

use super::TaskDefinitionReport;
use crate::finding::Severity;
use crate::report::table::{heading, paint, sanitize, summary_and_verdict, tag};
use std::fmt::Write as _;
use std::io::{self, Write};

pub(super) fn render(
    report: &TaskDefinitionReport,
    colour: bool,
    fail_on: Option<Severity>,
    quiet: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut s = String::new();
    let t = &report.task_definition;
    if !quiet {
        let _ = writeln!(
            s,
            "Task definition {}  file {}  {}  {}  {} container{}",
            sanitize(&report.name()),
            sanitize(&t.file),
            t.launch_type,
            t.os,
            t.containers.len(),
            if t.containers.len() == 1 { "" } else { "s" },
        );
        if let Some(images) = &report.images {
            let scanned = images.iter().filter(|i| i.report.is_some()).count();
            let _ = writeln!(
                s,
                "Images: {scanned} of {} scanned (their findings are listed below and count for the gate)",
                images.len()
            );
        }
        // The gate's verdict is the exit code's: the images' findings count too.
        let severities: Vec<Severity> = report
            .findings
            .iter()
            .map(|f| f.severity)
            .chain(
                report
                    .image_reports()
                    .flat_map(|(_, r)| r.findings.iter().map(|f| f.severity)),
            )
            .collect();
        summary_and_verdict(
            &mut s,
            &severities,
            report.suppressed.len(),
            report.warnings.len(),
            colour,
            fail_on,
        );
        s.push('\n');
    }
    if report.findings.is_empty() && !quiet {
        let _ = writeln!(
            s,
            "No findings: the task definition passed all {} checks.",
            report.rules.len()
        );
    }
    for severity in Severity::ALL.into_iter().rev() {
        let group: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        heading(&mut s, severity, group.len(), colour);
        for f in group {
            let container = f
                .container
                .as_deref()
                .map(|c| format!("  container {}", sanitize(c)))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {} {} ({}){container}",
                paint(&tag(severity), severity, colour),
                f.rule,
                f.code
            );
            let _ = writeln!(s, "      {}", sanitize(&f.message));
            let line = f.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            let _ = writeln!(s, "      at {}{line}", sanitize(&f.field));
            if let Some(rule) = report.rule(&f.code) {
                let _ = writeln!(s, "      fix: {}", rule.remediation);
            }
        }
        s.push('\n');
    }
    if !quiet {
        for w in &report.warnings {
            let _ = writeln!(s, "  warning: {}", sanitize(w));
        }
    }
    out.write_all(s.as_bytes())?;
    for (reference, image) in report.image_reports() {
        let heading = format!(
            "\n=== image {} (container {}) ===\n",
            sanitize(reference),
            sanitize(&report.containers_of(reference).join(", "))
        );
        out.write_all(heading.as_bytes())?;
        crate::report::table::render(
            image,
            crate::report::table::Style {
                colour,
                fail_on,
                quiet,
            },
            out,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_finding_shows_its_field_line_and_fix() {
        let mut out = Vec::new();
        render(
            &super::super::tests::sample(),
            false,
            Some(Severity::High),
            false,
            &mut out,
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "Task definition web  file deploy/web.json  ec2  linux  1 container\n"
            ),
            "{text}"
        );
        assert!(text.contains("Gate: FAIL"), "{text}");
        assert!(
            text.contains("task-privileged (LG101)  container app"),
            "{text}"
        );
        assert!(
            text.contains("at containerDefinitions[0].privileged (line 8)"),
            "{text}"
        );
        assert!(text.contains("fix: Remove `privileged`"), "{text}");
        assert!(!text.contains("hunter2"));
    }
}
