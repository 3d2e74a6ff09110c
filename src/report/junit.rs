//! JUnit XML: one test case per rule, so CI dashboards show which hardening checks fail.
//!
//! A test case fails only for findings at or above the `--fail-on` threshold, the same ones that
//! fail the exit code, so Jenkins and GitLab agree with the gate; findings below it pass, with
//! their detail in the case's `system-out`.

use super::ScanReport;
use super::sarif::stable_image_name;
use super::table::describe_location;
use crate::finding::{Finding, Severity};
use std::fmt::Write as _;
use std::io::{self, Write};

/// One rule's test case.
struct Case<'a> {
    code: &'a str,
    name: &'a str,
    remediation: &'a str,
    /// At or above the threshold, most severe first.
    failing: Vec<&'a Finding>,
    below: Vec<&'a Finding>,
}

/// `fail_on` is the least severity that fails; `None` fails nothing.
pub(super) fn render(
    report: &ScanReport,
    fail_on: Option<Severity>,
    out: &mut dyn Write,
) -> io::Result<()> {
    out.write_all(document(&[suite(report, fail_on)]).as_bytes())
}

/// One `<testsuite>` and its counts, for a document of one suite or several.
pub(super) struct Suite {
    pub xml: String,
    pub tests: usize,
    pub failures: usize,
}

/// The JUnit document of `suites`, whose totals are theirs added up.
pub(super) fn document(suites: &[Suite]) -> String {
    let tests: usize = suites.iter().map(|s| s.tests).sum();
    let failures: usize = suites.iter().map(|s| s.failures).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"layerguard\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
    );
    for suite in suites {
        s.push_str(&suite.xml);
    }
    s.push_str("</testsuites>\n");
    s
}

/// The suite of one image: a test case per rule.
pub(super) fn suite(report: &ScanReport, fail_on: Option<Severity>) -> Suite {
    let cases: Vec<Case> = report
        .rules
        .iter()
        .map(|meta| {
            let (failing, below) = report
                .findings
                .iter()
                .filter(|f| f.code == meta.code)
                .partition(|f| fail_on.is_some_and(|t| f.severity >= t));
            Case {
                code: meta.code,
                name: meta.name,
                remediation: meta.remediation,
                failing,
                below,
            }
        })
        .collect();
    let tests = cases.len();
    let failures = cases.iter().filter(|c| !c.failing.is_empty()).count();
    let suite = format!("layerguard: {}", report.image.reference);
    // Jenkins reads everything before the last dot as the package and the rest as the class, so
    // each image is a package and each rule a class in it; the image is the repository without
    // its tag, so a rebuild's cases continue the history of the last build's.
    let package = format!("layerguard.{}", stable_image_name(&report.image));

    let mut s = String::new();
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        attr(&suite)
    );
    s.push_str("    <properties>\n");
    let image = &report.image;
    let digest = image.digest.as_ref().map(ToString::to_string);
    let threshold = fail_on.map_or("never", Severity::as_str);
    for (name, value) in [
        ("image.reference", Some(image.reference.as_str())),
        ("image.platform", Some(image.platform.as_str())),
        ("image.digest", digest.as_deref()),
        ("fail-on", Some(threshold)),
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

    for case in &cases {
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\"",
            attr(&format!("{package}.{}", case.code)),
            attr(case.name)
        );
        if case.failing.is_empty() && case.below.is_empty() {
            s.push_str("/>\n");
            continue;
        }
        s.push_str(">\n");
        let fix = format!("Fix: {}", case.remediation);
        if let Some(worst) = case.failing.iter().map(|f| f.severity).max() {
            let _ = writeln!(
                s,
                "      <failure message=\"{} finding(s) at or above {threshold}\" type=\"{worst}\">",
                case.failing.len(),
            );
            for f in &case.failing {
                let _ = writeln!(s, "{}", text(&describe(f)));
            }
            let _ = writeln!(s, "\n{}", text(&fix));
            s.push_str("      </failure>\n");
        }
        if !case.below.is_empty() {
            s.push_str("      <system-out>");
            let n = case.below.len();
            let _ = match fail_on {
                Some(_) => writeln!(s, "{n} finding(s) below --fail-on {threshold}:"),
                None => writeln!(s, "{n} finding(s), none failing with --fail-on never:"),
            };
            for f in &case.below {
                let _ = writeln!(s, "{}", text(&describe(f)));
            }
            // The fix is in the failure when there is one; said once is enough.
            if case.failing.is_empty() {
                let _ = writeln!(s, "\n{}", text(&fix));
            }
            s.push_str("</system-out>\n");
        }
        s.push_str("    </testcase>\n");
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
    s.push_str("  </testsuite>\n");
    Suite {
        xml: s,
        tests,
        failures,
    }
}

fn describe(f: &Finding) -> String {
    format!(
        "[{}] {} ({})",
        f.severity,
        f.message,
        describe_location(&f.location)
    )
}

/// XML 1.0 cannot carry these at all, not even as character references.
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

pub(super) fn text(s: &str) -> String {
    escape(s, false)
}

pub(super) fn attr(s: &str) -> String {
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
    use crate::rules::{RULES, find};

    fn rendered(report: &ScanReport, fail_on: Option<Severity>) -> String {
        let mut out = Vec::new();
        render(report, fail_on, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn cases<'a>(doc: &'a roxmltree::Document) -> Vec<roxmltree::Node<'a, 'a>> {
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect()
    }

    fn case<'a>(doc: &'a roxmltree::Document, name: &str) -> roxmltree::Node<'a, 'a> {
        cases(doc)
            .into_iter()
            .find(|c| c.attribute("name") == Some(name))
            .unwrap()
    }

    fn child<'a>(node: roxmltree::Node<'a, 'a>, tag: &str) -> Option<roxmltree::Node<'a, 'a>> {
        node.children().find(|n| n.has_tag_name(tag))
    }

    #[test]
    fn junit_is_well_formed_with_one_case_per_rule_and_right_counts() {
        let mut report = sample_report();
        report.image.reference = "app:<1> & \"2\"\u{0}\u{1b}".into();
        let xml = rendered(&report, Some(Severity::Low));
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

        let cases = cases(&doc);
        assert_eq!(cases.len(), RULES.len());
        for (case, rule) in cases.iter().zip(RULES) {
            let meta = rule.meta();
            assert_eq!(
                case.attribute("classname"),
                Some(format!("layerguard.registry.example/app.{}", meta.code).as_str())
            );
            assert_eq!(case.attribute("name"), Some(meta.name));
        }

        let setuid = child(case(&doc, "setuid-file"), "failure").unwrap();
        assert_eq!(
            setuid.attribute("message"),
            Some("3 finding(s) at or above low")
        );
        assert_eq!(setuid.attribute("type"), Some("medium"));
        let body = setuid.text().unwrap();
        assert!(body.contains("/usr/bin/su is setuid root (/usr/bin/su, layer 1)"));
        assert!(body.contains("a <setuid> file & \"quotes\" 'here'"));
        assert!(body.contains("removed in layer 2"));

        let root = child(case(&doc, "root-user"), "failure").unwrap();
        assert_eq!(root.attribute("type"), Some("high"));
        assert!(root.text().unwrap().contains("(config.User)"));

        let out = child(suite, "system-out").unwrap();
        assert!(out.text().unwrap().contains("ping needs raw sockets"));
    }

    #[test]
    fn only_findings_at_or_above_fail_on_fail_and_the_rest_pass_with_their_detail() {
        let report = sample_report();
        let xml = rendered(&report, Some(Severity::High));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().attribute("failures"), Some("1"));
        let property = doc
            .descendants()
            .find(|n| n.attribute("name") == Some("fail-on"))
            .unwrap();
        assert_eq!(property.attribute("value"), Some("high"));

        let root = case(&doc, "root-user");
        let failure = child(root, "failure").unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("1 finding(s) at or above high")
        );
        let remediation = find("root-user").unwrap().meta().remediation;
        assert!(
            failure
                .text()
                .unwrap()
                .contains(&format!("Fix: {remediation}"))
        );
        assert!(child(root, "system-out").is_none());

        // Medium and low setuid findings: the case passes and says what it saw.
        let setuid = case(&doc, "setuid-file");
        assert!(child(setuid, "failure").is_none());
        assert!(child(setuid, "skipped").is_none());
        let out = child(setuid, "system-out").unwrap().text().unwrap();
        assert!(out.starts_with("3 finding(s) below --fail-on high:"));
        assert!(out.contains("[medium] /usr/bin/su is setuid root (/usr/bin/su, layer 1)"));
        assert!(out.contains("[low] layer 2 adds setuid files (layer 2)"));
        let remediation = find("setuid-file").unwrap().meta().remediation;
        assert!(out.contains(&format!("Fix: {remediation}")));

        // A rule with findings on both sides: the failure has the severe ones, the rest go out.
        let xml = rendered(&report, Some(Severity::Medium));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let setuid = case(&doc, "setuid-file");
        let failure = child(setuid, "failure").unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some("2 finding(s) at or above medium")
        );
        assert!(!failure.text().unwrap().contains("[low]"));
        let out = child(setuid, "system-out").unwrap().text().unwrap();
        assert!(out.contains("[low] layer 2 adds setuid files"));
        assert!(!out.contains("[medium]"));
        assert!(!out.contains("Fix:"), "the fix is in the failure already");
    }

    #[test]
    fn fail_on_never_fails_nothing() {
        let xml = rendered(&sample_report(), None);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(doc.root_element().attribute("failures"), Some("0"));
        assert!(!doc.descendants().any(|n| n.has_tag_name("failure")));
        let root = child(case(&doc, "root-user"), "system-out").unwrap();
        assert!(
            root.text()
                .unwrap()
                .contains("1 finding(s), none failing with --fail-on never:")
        );
    }

    #[test]
    fn two_images_do_not_share_case_names_but_two_builds_of_one_do() {
        let classnames = |reference: &str| -> Vec<String> {
            let mut report = sample_report();
            report.image.reference = reference.to_owned();
            report.image.image_ref = crate::reference::ImageRef::parse(reference).ok();
            let xml = rendered(&report, Some(Severity::High));
            let doc = roxmltree::Document::parse(&xml).unwrap();
            cases(&doc)
                .iter()
                .map(|c| c.attribute("classname").unwrap().to_owned())
                .collect()
        };
        let app = classnames("registry.example/app:1.2");
        assert_eq!(app, classnames("registry.example/app:1.3"));
        let worker = classnames("registry.example/worker:1.2");
        assert!(app.iter().all(|c| !worker.contains(c)));
    }

    #[test]
    fn junit_passes_every_rule_without_findings() {
        let mut report = sample_report();
        report.findings.clear();
        let xml = rendered(&report, Some(Severity::Info));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.attribute("failures"), Some("0"));
        assert!(!doc.descendants().any(|n| n.has_tag_name("failure")));
        assert_eq!(cases(&doc).len(), RULES.len());
        assert!(cases(&doc).iter().all(|c| !c.has_children()));
    }

    #[test]
    fn escaping_keeps_whitespace_in_attributes_and_drops_forbidden_characters() {
        assert_eq!(attr("a\nb\tc\u{0}\u{1f}\u{FFFE}d'"), "a&#10;b&#9;cd&apos;");
        assert_eq!(text("a\nb\r<&>"), "a\nb&#13;&lt;&amp;&gt;");
    }
}
