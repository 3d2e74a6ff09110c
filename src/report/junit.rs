//! JUnit XML: one test case per rule, so CI dashboards show which hardening checks fail.

use super::ScanReport;
use super::table::describe_location;
use crate::finding::{Finding, Severity};
use std::fmt::Write as _;
use std::io::{self, Write};

pub(super) fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let cases: Vec<(&str, &str, Vec<&Finding>)> = report
        .rules
        .iter()
        .map(|meta| {
            let found = report
                .findings
                .iter()
                .filter(|f| f.code == meta.code)
                .collect();
            (meta.code, meta.name, found)
        })
        .collect();
    let tests = cases.len();
    let failures = cases.iter().filter(|(_, _, f)| !f.is_empty()).count();
    let suite = format!("layerguard: {}", report.image.reference);

    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"layerguard\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        attr(&suite)
    );
    s.push_str("    <properties>\n");
    let image = &report.image;
    let digest = image.digest.as_ref().map(ToString::to_string);
    for (name, value) in [
        ("image.reference", Some(image.reference.as_str())),
        ("image.platform", Some(image.platform.as_str())),
        ("image.digest", digest.as_deref()),
    ] {
        if let Some(value) = value {
            let _ = writeln!(
                s,
                "      <property name=\"{name}\" value=\"{}\"/>",
                attr(value)
            );
        }
    }
    s.push_str("    </properties>\n");

    for (code, name, found) in &cases {
        let _ = write!(
            s,
            "    <testcase classname=\"layerguard.{}\" name=\"{}\"",
            attr(code),
            attr(name)
        );
        if found.is_empty() {
            s.push_str("/>\n");
            continue;
        }
        let worst = found
            .iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info);
        let _ = writeln!(
            s,
            ">\n      <failure message=\"{} finding(s)\" type=\"{}\">",
            found.len(),
            worst
        );
        for f in found {
            let line = format!(
                "[{}] {} ({})",
                f.severity,
                f.message,
                describe_location(&f.location)
            );
            let _ = writeln!(s, "{}", text(&line));
        }
        s.push_str("      </failure>\n    </testcase>\n");
    }

    // Not failures, but a reader of the CI log should know they exist.
    if !report.suppressed.is_empty() || !report.warnings.is_empty() {
        s.push_str("    <system-out>");
        for sup in &report.suppressed {
            let line = format!(
                "suppressed {} {}: {} ({})",
                sup.finding.code,
                describe_location(&sup.finding.location),
                sup.finding.message,
                sup.reason
            );
            let _ = writeln!(s, "{}", text(&line));
        }
        for w in &report.warnings {
            let line = match &w.location {
                Some(loc) => format!("warning {loc}: {}", w.message),
                None => format!("warning: {}", w.message),
            };
            let _ = writeln!(s, "{}", text(&line));
        }
        s.push_str("</system-out>\n");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    out.write_all(s.as_bytes())
}

/// XML 1.0 cannot carry these at all, not even as character references.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn text(s: &str) -> String {
    escape(s, false)
}

fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|&c| allowed(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Parsers normalise raw whitespace in attributes to spaces; references survive.
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::tests::sample_report;
    use crate::rules::RULES;

    fn rendered(report: &ScanReport) -> String {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn junit_is_well_formed_with_one_case_per_rule_and_right_counts() {
        let mut report = sample_report();
        report.image.reference = "app:<1> & \"2\"\u{0}\u{1b}".into();
        let xml = rendered(&report);
        let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));

        let suite = doc
            .descendants()
            .find(|n| n.has_tag_name("testsuite"))
            .unwrap();
        assert_eq!(suite.attribute("name"), Some("layerguard: app:<1> & \"2\""));
        assert_eq!(
            suite.attribute("tests"),
            Some(RULES.len().to_string().as_str())
        );
        assert_eq!(suite.attribute("failures"), Some("2"));

        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), RULES.len());
        for (case, rule) in cases.iter().zip(RULES) {
            let meta = rule.meta();
            assert_eq!(
                case.attribute("classname"),
                Some(format!("layerguard.{}", meta.code).as_str())
            );
            assert_eq!(case.attribute("name"), Some(meta.name));
        }

        let failure_of = |name: &str| {
            cases
                .iter()
                .find(|c| c.attribute("name") == Some(name))
                .and_then(|c| c.children().find(|n| n.has_tag_name("failure")))
                .unwrap()
        };
        let setuid = failure_of("setuid-file");
        assert_eq!(setuid.attribute("message"), Some("3 finding(s)"));
        assert_eq!(setuid.attribute("type"), Some("medium"));
        let body = setuid.text().unwrap();
        assert!(body.contains("/usr/bin/su is setuid root (/usr/bin/su, layer 1)"));
        assert!(body.contains("a <setuid> file & \"quotes\" 'here'"));
        assert!(body.contains("removed in layer 2"));

        let root = failure_of("root-user");
        assert_eq!(root.attribute("type"), Some("high"));
        assert!(root.text().unwrap().contains("(config.User)"));

        let out = suite
            .children()
            .find(|n| n.has_tag_name("system-out"))
            .unwrap();
        assert!(out.text().unwrap().contains("ping needs raw sockets"));
    }

    #[test]
    fn junit_passes_every_rule_without_findings() {
        let mut report = sample_report();
        report.findings.clear();
        let xml = rendered(&report);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.attribute("failures"), Some("0"));
        assert!(!doc.descendants().any(|n| n.has_tag_name("failure")));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("testcase"))
                .count(),
            RULES.len()
        );
    }

    #[test]
    fn escaping_keeps_whitespace_in_attributes_and_drops_forbidden_characters() {
        assert_eq!(attr("a\nb\tc\u{0}\u{1f}\u{FFFE}d'"), "a&#10;b&#9;cd&apos;");
        assert_eq!(text("a\nb\r<&>"), "a\nb&#13;&lt;&amp;&gt;");
    }
}
