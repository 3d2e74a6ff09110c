//! JUnit XML for a task-definition lint: one test case per check, failing for findings at or
//! above `--fail-on` exactly as the exit code does, like the image report.

use super::TaskDefinitionReport;
use crate::finding::Severity;
use crate::report::junit::{Suite, attr, document, suite, text};
use crate::taskdef::TaskFinding;
use std::fmt::Write as _;
use std::io::{self, Write};

fn describe(f: &TaskFinding) -> String {
    format!("[{}] {} (at {})", f.severity, f.message, f.field)
}

pub(super) fn render(
    report: &TaskDefinitionReport,
    fail_on: Option<Severity>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let threshold = fail_on.map_or("never", Severity::as_str);
    let failing_case = |code: &str| {
        report
            .findings
            .iter()
            .any(|f| f.code == code && fail_on.is_some_and(|t| f.severity >= t))
    };
    let tests = report.rules.len();
    let failures = report.rules.iter().filter(|m| failing_case(m.code)).count();
    // Jenkins reads the part before the last dot as the package: one package per family, so a
    // new revision's cases continue the last one's history.
    let family = report
        .task_definition
        .family
        .as_deref()
        .unwrap_or("task-definition");
    let package = format!("layerguard.taskdef.{family}");

    let mut s = String::new();
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        attr(&format!("layerguard taskdef: {}", report.name()))
    );
    s.push_str("    <properties>\n");
    for (name, value) in [
        ("task-definition.file", report.task_definition.file.as_str()),
        (
            "task-definition.launch-type",
            report.task_definition.launch_type,
        ),
        ("fail-on", threshold),
    ] {
        let _ = writeln!(
            s,
            "      <property name=\"{name}\" value=\"{}\"/>",
            attr(value)
        );
    }
    s.push_str("    </properties>\n");
    for meta in &report.rules {
        let (failing, below): (Vec<&TaskFinding>, Vec<&TaskFinding>) = report
            .findings
            .iter()
            .filter(|f| f.code == meta.code)
            .partition(|f| fail_on.is_some_and(|t| f.severity >= t));
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\"",
            attr(&format!("{package}.{}", meta.code)),
            attr(meta.name)
        );
        if failing.is_empty() && below.is_empty() {
            s.push_str("/>\n");
            continue;
        }
        s.push_str(">\n");
        let fix = format!("Fix: {}", meta.remediation);
        if let Some(worst) = failing.iter().map(|f| f.severity).max() {
            let _ = writeln!(
                s,
                "      <failure message=\"{} finding(s) at or above {threshold}\" type=\"{worst}\">",
                failing.len()
            );
            for f in &failing {
                let _ = writeln!(s, "{}", text(&describe(f)));
            }
            let _ = writeln!(s, "\n{}", text(&fix));
            s.push_str("      </failure>\n");
        }
        if !below.is_empty() {
            s.push_str("      <system-out>");
            let _ = writeln!(s, "{} finding(s) below --fail-on {threshold}:", below.len());
            for f in &below {
                let _ = writeln!(s, "{}", text(&describe(f)));
            }
            if failing.is_empty() {
                let _ = writeln!(s, "\n{}", text(&fix));
            }
            s.push_str("</system-out>\n");
        }
        s.push_str("    </testcase>\n");
    }
    if !report.suppressed.is_empty() || !report.warnings.is_empty() {
        s.push_str("    <system-out>");
        for sup in &report.suppressed {
            let line = format!(
                "suppressed {} at {}: {} ({})",
                sup.finding.code, sup.finding.field, sup.finding.message, sup.reason
            );
            let _ = writeln!(s, "{}", text(&line));
        }
        for w in &report.warnings {
            let _ = writeln!(s, "{}", text(&format!("warning: {w}")));
        }
        s.push_str("</system-out>\n");
    }
    s.push_str("  </testsuite>\n");
    // Each image is a suite of its own, exactly as `scan` reports it.
    let suites: Vec<Suite> = std::iter::once(Suite {
        xml: s,
        tests,
        failures,
    })
    .chain(
        report
            .image_reports()
            .map(|(_, image)| suite(image, fail_on)),
    )
    .collect();
    out.write_all(document(&suites).as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_per_check_failing_as_the_gate_does() {
        let mut out = Vec::new();
        render(
            &super::super::tests::sample(),
            Some(Severity::High),
            &mut out,
        )
        .unwrap();
        let xml = String::from_utf8(out).unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), crate::taskdef::checks::CHECKS.len());
        let failed = |name: &str| {
            cases
                .iter()
                .find(|c| c.attribute("name") == Some(name))
                .unwrap()
                .children()
                .any(|n| n.has_tag_name("failure"))
        };
        assert!(failed("task-privileged"));
        assert!(
            !failed("task-host-network"),
            "medium is below --fail-on high"
        );
        assert!(!xml.contains("hunter2"));
    }
}
