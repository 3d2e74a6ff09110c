//! The human-readable terminal report.

use super::{ImageSummary, ScanReport};
use crate::finding::{Finding, Location, Severity};
use crate::text::human_size;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{self, Write};

const RESET: &str = "\x1b[0m";

/// How the table is drawn.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub colour: bool,
    pub fail_on: Option<Severity>,
    pub quiet: bool,
}

/// Past this many findings of one rule at one severity, the rest are counted, not listed.
const LISTED_PER_RULE: usize = 5;

pub(super) fn render(report: &ScanReport, style: Style, out: &mut dyn Write) -> io::Result<()> {
    // Built in memory so a broken pipe surfaces once, not halfway through a line.
    let mut s = String::new();
    if !style.quiet {
        // What a reader wants first: which image, how bad, and whether the gate passed.
        header(&mut s, &report.image);
        summary(&mut s, report, style);
        s.push('\n');
    }
    if report.findings.is_empty() {
        if !style.quiet {
            let _ = writeln!(
                s,
                "No findings: the image passed all {} rules.",
                report.rules.len()
            );
        }
    } else {
        findings(&mut s, report, style.colour);
    }
    if !style.quiet {
        trailer(&mut s, report);
    }
    out.write_all(s.as_bytes())
}

fn header(s: &mut String, image: &ImageSummary) {
    let digest = image
        .digest
        .as_ref()
        .map(|d| format!("sha256:{}", &d.hex()[..12]))
        .unwrap_or_else(|| "-".to_owned());
    let platform = if image.platform.is_empty() {
        "-"
    } else {
        &image.platform
    };
    let _ = writeln!(
        s,
        "Image {}  platform {}  digest {}  {} layer{}  {} compressed / {} uncompressed",
        sanitize(&image.reference),
        sanitize(platform),
        digest,
        image.layers.len(),
        if image.layers.len() == 1 { "" } else { "s" },
        human_size(image.size.compressed),
        human_size(image.size.uncompressed),
    );
}

fn findings(s: &mut String, report: &ScanReport, colour: bool) {
    let mut remediated: HashSet<&str> = HashSet::new();
    let mut listed: std::collections::HashMap<(&str, Severity), usize> = Default::default();
    for severity in Severity::ALL.into_iter().rev() {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        heading(s, severity, group.len(), colour);
        for f in &group {
            let shown = listed.entry((&f.code, severity)).or_default();
            *shown += 1;
            if *shown > LISTED_PER_RULE {
                if *shown == LISTED_PER_RULE + 1 {
                    let more = group.iter().filter(|g| g.code == f.code).count() - LISTED_PER_RULE;
                    let _ = writeln!(
                        s,
                        "  … and {more} more {} finding{} (every one is in --format json)",
                        f.rule,
                        if more == 1 { "" } else { "s" }
                    );
                }
                continue;
            }
            let _ = writeln!(
                s,
                "  {} {} ({})",
                paint(&tag(severity), severity, colour),
                f.rule,
                f.code
            );
            let _ = writeln!(s, "      {}", sanitize(&f.message));
            let _ = writeln!(s, "      at {}", describe_location(&f.location));
            // The layer's instruction is the Dockerfile line to change.
            if let Some(made_by) = f
                .location
                .layer
                .and_then(|i| report.image.layers.get(i))
                .and_then(|l| l.created_by.as_deref())
            {
                let _ = writeln!(
                    s,
                    "      layer {}: {}",
                    f.location.layer.unwrap_or_default(),
                    sanitize(&shorten(made_by, 100))
                );
            }
            if remediated.insert(&f.code)
                && let Some(rule) = report.rule(&f.code)
            {
                let _ = writeln!(s, "      fix: {}", rule.remediation);
            }
        }
        s.push('\n');
    }
}

fn summary(s: &mut String, report: &ScanReport, style: Style) {
    let severities: Vec<Severity> = report.findings.iter().map(|f| f.severity).collect();
    summary_and_verdict(
        s,
        &severities,
        report.suppressed.len(),
        report.warnings.len(),
        style.colour,
        style.fail_on,
    );
}

/// The counts by severity and the gate's verdict, from the severities of the findings.
pub(super) fn summary_and_verdict(
    s: &mut String,
    severities: &[Severity],
    suppressed: usize,
    warnings: usize,
    colour: bool,
    fail_on: Option<Severity>,
) {
    let counts: Vec<String> = Severity::ALL
        .into_iter()
        .rev()
        .map(|sev| {
            let n = severities.iter().filter(|&&f| f == sev).count();
            let text = format!("{n} {}", sev.as_str());
            if n > 0 {
                paint(&text, sev, colour)
            } else {
                text
            }
        })
        .collect();
    let _ = writeln!(
        s,
        "Summary: {}; {suppressed} suppressed; {warnings} warning{}",
        counts.join(", "),
        if warnings == 1 { "" } else { "s" },
    );
    let verdict = match fail_on {
        None => "Gate: not applied (--fail-on never)".to_owned(),
        Some(t) => {
            let failing = severities.iter().filter(|&&f| f >= t).count();
            match failing {
                0 => format!("Gate: PASS (nothing at or above {t})"),
                n => format!(
                    "Gate: FAIL ({n} finding{} at or above {t})",
                    if n == 1 { "" } else { "s" }
                ),
            }
        }
    };
    let _ = writeln!(s, "{verdict}");
}

fn trailer(s: &mut String, report: &ScanReport) {
    if let Some(line) = inventory_line(report) {
        let _ = writeln!(s, "{line}");
    }
    for w in &report.warnings {
        match &w.location {
            Some(loc) => {
                let _ = writeln!(s, "  warning: {}: {}", sanitize(loc), sanitize(&w.message));
            }
            None => {
                let _ = writeln!(s, "  warning: {}", sanitize(&w.message));
            }
        }
    }
}

/// At most `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// One line on what the inventory holds, e.g. `Inventory: Debian GNU/Linux 12 (bookworm); 744
/// packages (deb 700, pypi 44); 1,700 ELF binaries (12 executables lack hardening)`. `None` when
/// the inventory is empty (or turned off).
fn inventory_line(report: &ScanReport) -> Option<String> {
    let inv = &report.inventory;
    if inv.os.is_none() && inv.packages.is_empty() && inv.binaries.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if let Some(os) = &inv.os {
        parts.push(sanitize(os.pretty_name.as_deref().unwrap_or(&os.id)));
    }
    let mut by_type: std::collections::BTreeMap<&str, usize> = Default::default();
    for p in &inv.packages {
        *by_type.entry(p.record.kind.purl_type()).or_default() += 1;
    }
    let types: Vec<String> = by_type.iter().map(|(t, n)| format!("{t} {n}")).collect();
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    parts.push(match types.len() {
        0 => "no packages".to_owned(),
        _ => format!(
            "{} ({})",
            plural(inv.packages.len(), "package", "packages"),
            types.join(", ")
        ),
    });
    parts.push(plural(inv.binaries.len(), "ELF binary", "ELF binaries"));
    Some(format!(
        "Inventory: {} (the JSON, CycloneDX and SPDX formats list them)",
        parts.join("; ")
    ))
}

/// Where a finding is, in words, e.g. `/usr/bin/su, layer 2, removed in layer 4`.
pub(super) fn describe_location(loc: &Location) -> String {
    let mut parts = Vec::new();
    if let Some(path) = &loc.path {
        parts.push(sanitize(path));
    }
    if let Some(layer) = loc.layer {
        parts.push(format!("layer {layer}"));
    }
    if let Some(config) = &loc.config {
        parts.push(sanitize(config));
    }
    if let Some(layer) = loc.removed_in_layer {
        parts.push(format!("removed in layer {layer}"));
    }
    if parts.is_empty() {
        "the image".to_owned()
    } else {
        parts.join(", ")
    }
}

pub(super) fn tag(severity: Severity) -> String {
    // Padded so the rule names line up whatever the severity.
    format!(
        "{:<10}",
        format!("[{}]", severity.as_str().to_ascii_uppercase())
    )
}

/// The line that opens a severity's group of findings: `HIGH (3)`, in its colour.
pub(super) fn heading(s: &mut String, severity: Severity, count: usize, colour: bool) {
    let title = format!("{} ({count})", severity.as_str().to_ascii_uppercase());
    let _ = writeln!(s, "{}", paint(&title, severity, colour));
}

pub(super) fn paint(text: &str, severity: Severity, colour: bool) -> String {
    if !colour {
        return text.to_owned();
    }
    let code = match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    };
    format!("\x1b[{code}m{text}{RESET}")
}

/// Image paths, config values and messages come from the image, which an attacker may have
/// built: control characters in them must not reach the terminal, where escape sequences could
/// rewrite or hide earlier lines of the report.
pub(super) fn sanitize(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::report::{LayerInfo, SCHEMA_VERSION, ScanWarning, Sizes, Suppressed, Tool};
    use crate::rules::find;

    /// A report with a path finding, a config finding and a layer finding, shared by the
    /// format tests.
    pub(in crate::report) fn sample_report() -> ScanReport {
        let setuid = find("setuid-file").unwrap().meta();
        let root = find("root-user").unwrap().meta();
        let finding =
            |rule: &'static crate::finding::RuleMeta, severity, message: &str, location| Finding {
                rule: rule.name.into(),
                code: rule.code.into(),
                severity,
                message: message.to_owned(),
                location,
            };
        ScanReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool::default(),
            image: ImageSummary {
                reference: "registry.example/app:1.2".into(),
                image_ref: crate::reference::ImageRef::parse("registry.example/app:1.2").ok(),
                source: "docker-archive:app.tar".into(),
                digest: Some(Digest::of(b"manifest")),
                config_digest: Some(Digest::of(b"config")),
                platform: "linux/amd64".into(),
                layers: (0..3)
                    .map(|index| LayerInfo {
                        index,
                        ..LayerInfo::default()
                    })
                    .collect(),
                size: Sizes {
                    compressed: 3 * 1024 * 1024 + 300 * 1024,
                    uncompressed: 10 * 1024 * 1024,
                },
                files: 42,
            },
            inventory: Default::default(),
            rules: crate::rules::RULES.iter().map(|r| r.meta()).collect(),
            findings: vec![
                finding(
                    root,
                    Severity::High,
                    "USER is unset, so the container runs as root",
                    Location::config("config.User"),
                ),
                finding(
                    setuid,
                    Severity::Medium,
                    "/usr/bin/su is setuid root",
                    Location::file("/usr/bin/su", 1),
                ),
                finding(
                    setuid,
                    Severity::Medium,
                    "a <setuid> file & \"quotes\" 'here' \u{1b}[2J\u{0}",
                    Location {
                        path: Some("/opt/my app/run:me".into()),
                        layer: Some(1),
                        removed_in_layer: Some(2),
                        config: None,
                    },
                ),
                finding(
                    setuid,
                    Severity::Low,
                    "layer 2 adds setuid files",
                    Location::layer(2),
                ),
            ],
            suppressed: vec![Suppressed {
                finding: finding(
                    setuid,
                    Severity::Medium,
                    "/bin/ping is setuid root",
                    Location::file("/bin/ping", 0),
                ),
                reason: "ping needs raw sockets".into(),
            }],
            warnings: vec![ScanWarning {
                location: Some("layer 1".into()),
                message: "unreadable file /etc/shadow".into(),
            }],
            read: None,
        }
    }

    fn render_to_string(report: &ScanReport, colour: bool) -> String {
        render_styled(
            report,
            Style {
                colour,
                fail_on: Some(Severity::High),
                quiet: false,
            },
        )
    }

    fn render_styled(report: &ScanReport, style: Style) -> String {
        let mut out = Vec::new();
        render(report, style, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn table_groups_by_severity_and_shows_remediation_once() {
        let text = render_to_string(&sample_report(), false);
        assert!(
            text.starts_with(
                "Image registry.example/app:1.2  platform linux/amd64  digest sha256:"
            )
        );
        assert!(text.contains("3 layers  3.3 MiB compressed / 10.0 MiB uncompressed"));
        let high = text.find("HIGH (1)").unwrap();
        let medium = text.find("MEDIUM (2)").unwrap();
        let low = text.find("LOW (1)").unwrap();
        assert!(high < medium && medium < low);
        assert!(text.contains("[HIGH]     root-user (LG002)"));
        assert!(text.contains("at config.User"));
        assert!(text.contains("at /usr/bin/su, layer 1"));
        assert!(text.contains("layer 1, removed in layer 2"));
        assert!(text.contains("at layer 2"));
        assert_eq!(
            text.matches(find("setuid-file").unwrap().meta().remediation)
                .count(),
            1
        );
        assert_eq!(
            text.matches(find("root-user").unwrap().meta().remediation)
                .count(),
            1
        );
        assert!(text.contains(
            "Summary: 0 critical, 1 high, 2 medium, 1 low, 0 info; 1 suppressed; 1 warning"
        ));
        assert!(text.contains("warning: layer 1: unreadable file /etc/shadow"));
        assert!(
            !text.contains('\x1b'),
            "no ANSI codes without colour, and none from the image"
        );
        assert!(text.contains("\\u{1b}[2J"));
    }

    #[test]
    fn inventory_is_summed_up_in_one_line() {
        let mut report = sample_report();
        assert!(!render_to_string(&report, false).contains("Inventory:"));
        report.inventory.os = Some(crate::inventory::OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
        });
        let text = render_to_string(&report, false);
        assert!(
            text.contains("Inventory: Debian GNU/Linux 12 (bookworm); no packages; 0 ELF binaries"),
            "{text}"
        );
    }

    #[test]
    fn table_colours_only_when_asked() {
        let text = render_to_string(&sample_report(), true);
        assert!(text.contains("\x1b[31m[HIGH]"));
        assert!(text.contains("\x1b[36m1 low"));
        assert!(text.contains("0 critical, \x1b[31m1 high"));
        // The attacker-controlled escape is still neutralised when colour is on.
        assert!(!text.contains("\x1b[2J"));
    }

    #[test]
    fn table_says_clearly_when_there_is_nothing_to_report() {
        let mut report = sample_report();
        report.findings.clear();
        report.warnings.clear();
        let text = render_to_string(&report, false);
        assert!(text.contains("No findings"));
        assert!(text.contains(
            "Summary: 0 critical, 0 high, 0 medium, 0 low, 0 info; 1 suppressed; 0 warnings"
        ));
    }

    #[test]
    fn the_verdict_comes_first_and_quiet_leaves_only_findings() {
        let report = sample_report();
        let text = render_to_string(&report, false);
        let summary = text.find("Summary:").unwrap();
        assert!(summary < text.find("HIGH (1)").unwrap(), "{text}");
        assert!(
            text.contains("Gate: FAIL (1 finding at or above high)"),
            "{text}"
        );
        let quiet = render_styled(
            &report,
            Style {
                colour: false,
                fail_on: None,
                quiet: true,
            },
        );
        assert!(
            !quiet.contains("Summary:") && !quiet.contains("Image "),
            "{quiet}"
        );
        assert!(quiet.contains("HIGH (1)"), "{quiet}");
    }

    #[test]
    fn a_finding_in_a_layer_shows_its_instruction_and_repeats_are_counted() {
        let mut report = sample_report();
        report.image.layers[1].created_by = Some("RUN apt-get install -y sudo".into());
        let extra = report.findings[1].clone();
        for i in 0..7 {
            let mut f = extra.clone();
            f.location.path = Some(format!("/usr/bin/x{i}"));
            report.findings.push(f);
        }
        let text = render_to_string(&report, false);
        assert!(
            text.contains("      layer 1: RUN apt-get install -y sudo"),
            "{text}"
        );
        assert!(text.contains("… and 4 more setuid-file findings"), "{text}");
        assert_eq!(text.matches("/usr/bin/x").count(), 3, "{text}");
    }
}
