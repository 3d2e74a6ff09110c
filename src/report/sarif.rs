//! SARIF 2.1.0, shaped for GitHub code scanning.
//!
//! GitHub drops results without a physical location and rejects absolute or region-less ones, so
//! every result points somewhere: the file's path in the image, relative to the `ROOTFS` base, or
//! the `Dockerfile` that fixes image-level problems. The image-side truth (the config field, the
//! layer) travels in `logicalLocations` and `properties`.
//!
//! What GitHub does with the file, and what each part below answers:
//!
//! - It keeps one analysis per tool and category and refuses a second run of the same category
//!   in one upload, so each run's `automationDetails.id` names its image and platform.
//! - It takes an alert's severity only from the rule descriptor the result points to, never from
//!   the result. A rule whose findings come at several severities therefore gets one descriptor
//!   per severity used: `LG007` at the rule's default, `LG007/low` for its low findings.
//! - It rejects a run with more than 25,000 results and an upload above 10 MB gzipped. Rather
//!   than cut silently, the rules with the most results are trimmed to a common cap and each
//!   trimmed rule gets one result counting what was left out, plus a warning notification.
//! - It tells alerts apart, and follows them across commits, by rule and
//!   `partialFingerprints.primaryLocationLineHash`; `Place` says how that is kept distinct.

use super::{ImageSummary, ScanReport};
use crate::finding::{Finding, Location, RuleMeta, Severity};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};

pub(crate) const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub(crate) const INFORMATION_URI: &str = "https://github.com/layerguard/layerguard";
const ROOTFS: &str = "ROOTFS";
const FALLBACK_URI: &str = "Dockerfile";
pub(crate) const FINGERPRINT_KEY: &str = "layerguard/v1";
pub(crate) const LINE_HASH_KEY: &str = "primaryLocationLineHash";
pub(crate) const CATEGORY_PREFIX: &str = "layerguard";

/// What GitHub code scanning accepts in one upload.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Results in one run.
    results_per_run: usize,
    /// The file's size once gzipped, as the uploader sends it.
    gzipped_bytes: usize,
}

/// GitHub's published hard limits ("SARIF support for code scanning"). Above 5,000 results it
/// also stores only the most severe 5,000, but says so in the upload's status itself.
const GITHUB_LIMITS: Limits = Limits {
    results_per_run: 25_000,
    gzipped_bytes: 10 * 1024 * 1024,
};

pub(super) fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    out.write_all(&encode(report, GITHUB_LIMITS)?)
}

/// The run of `report` as `scan --format sarif` writes it, for a log of several runs that share
/// one upload: it gets `1/share` of the upload's size limit.
pub(crate) fn run_in_shared_upload(report: &ScanReport, share: usize) -> io::Result<Value> {
    let limits = Limits {
        gzipped_bytes: GITHUB_LIMITS.gzipped_bytes / share.max(1),
        ..GITHUB_LIMITS
    };
    let mut log: Value = serde_json::from_slice(&encode(report, limits)?)?;
    Ok(log["runs"][0].take())
}

/// The smallest trimming that fits: the result count decides first; only a file too big even
/// then is trimmed further, in proportion to how far over it is.
fn encode(report: &ScanReport, limits: Limits) -> io::Result<Vec<u8>> {
    let mut budget = limits.results_per_run;
    loop {
        let mut bytes = serde_json::to_vec_pretty(&log(report, budget, limits))?;
        bytes.push(b'\n');
        // JSON only shrinks under gzip, so a file under the limit as it is needs no compressing.
        if bytes.len() <= limits.gzipped_bytes {
            return Ok(bytes);
        }
        let gzipped = gzipped_len(&bytes)?;
        let results = count_results(report);
        if gzipped <= limits.gzipped_bytes || budget == 0 || results == 0 {
            return Ok(bytes);
        }
        let scaled =
            budget.min(results) as u128 * limits.gzipped_bytes as u128 * 9 / (gzipped as u128 * 10);
        budget = (scaled as usize).min(budget.min(results) - 1);
    }
}

fn count_results(report: &ScanReport) -> usize {
    report.findings.len() + report.suppressed.len()
}

fn gzipped_len(bytes: &[u8]) -> io::Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    Ok(encoder.finish()?.len())
}

/// One result to write.
enum Item<'a> {
    /// A finding, with the ignore's reason when one suppressed it.
    Finding {
        finding: &'a Finding,
        suppressed: Option<&'a str>,
    },
    /// How many results of a rule were left out to stay within the limits.
    Omitted {
        code: &'a str,
        /// The most severe of those left out.
        severity: Severity,
        count: usize,
        of: usize,
    },
}

impl<'a> Item<'a> {
    fn code(&self) -> &'a str {
        match self {
            Item::Finding { finding, .. } => &finding.code,
            Item::Omitted { code, .. } => code,
        }
    }

    fn severity(&self) -> Severity {
        match self {
            Item::Finding { finding, .. } => finding.severity,
            Item::Omitted { severity, .. } => *severity,
        }
    }

    fn location(&self) -> Option<&'a Location> {
        match self {
            Item::Finding { finding, .. } => Some(&finding.location),
            Item::Omitted { .. } => None,
        }
    }

    /// The order that numbers results sharing a place: it ignores whether an ignore suppressed
    /// a finding, so suppressing one does not renumber the others; the count of left-out
    /// results comes last.
    fn order_key(&self) -> (bool, Option<&'a Location>, &'a str) {
        match self {
            Item::Finding { finding, .. } => (false, Some(&finding.location), &finding.message),
            Item::Omitted { .. } => (true, None, ""),
        }
    }
}

/// Every result when they fit in `budget`; otherwise at most `cap` results of each rule, its most
/// severe first, and one counting the rest, with `cap` the largest that fits.
fn select(report: &ScanReport, budget: usize) -> Vec<Item<'_>> {
    let all: Vec<Item> = report
        .findings
        .iter()
        .map(|finding| Item::Finding {
            finding,
            suppressed: None,
        })
        .chain(report.suppressed.iter().map(|s| Item::Finding {
            finding: &s.finding,
            suppressed: Some(&s.reason),
        }))
        .collect();
    if all.len() <= budget {
        return all;
    }
    let mut per_rule: BTreeMap<&str, usize> = BTreeMap::new();
    for item in &all {
        *per_rule.entry(item.code()).or_default() += 1;
    }
    let needed = |cap: usize| -> usize {
        per_rule
            .values()
            .map(|&n| if n > cap { cap + 1 } else { n })
            .sum()
    };
    // `needed` grows with `cap`, and the largest rule's size is known not to fit.
    let (mut fits, mut too_big) = (0, per_rule.values().copied().max().unwrap_or(0));
    while too_big - fits > 1 {
        let mid = fits + (too_big - fits) / 2;
        if needed(mid) <= budget {
            fits = mid;
        } else {
            too_big = mid;
        }
    }
    let cap = fits;

    let mut listed: BTreeMap<&str, usize> = BTreeMap::new();
    let mut omitted: BTreeMap<&str, (Severity, usize)> = BTreeMap::new();
    let mut items = Vec::with_capacity(budget);
    for item in all {
        let code = item.code();
        let n = listed.entry(code).or_default();
        if *n < cap {
            *n += 1;
            items.push(item);
        } else {
            let (worst, count) = omitted.entry(code).or_insert((item.severity(), 0));
            *worst = (*worst).max(item.severity());
            *count += 1;
        }
    }
    items.extend(
        omitted
            .into_iter()
            .map(|(code, (severity, count))| Item::Omitted {
                code,
                severity,
                count,
                of: per_rule[code],
            }),
    );
    items
}

/// Where a result sits, and how GitHub tells it apart from the others.
///
/// GitHub's uploader fills in `primaryLocationLineHash` only for files in the repository
/// checkout: it hashes the text of the line at `region.startLine`, appends how many earlier lines
/// of the file hashed the same (`…:1`, `…:2`), and warns when a preset value disagrees. Hence:
///
/// - A file in the image is not in the checkout, so its result carries its own line hash, made
///   from the rule and the path alone (it survives a rebuild that moves the file to another
///   layer or rewords the message), with GitHub's `:n` numbering a second finding of one rule on
///   one path.
/// - A result about the config, a layer or the whole image sits in the `Dockerfile`, whose hash
///   is the uploader's to compute. Results on one line would all get that line's hash and merge
///   into one alert, so each such result of a rule takes a line of its own: the n-th of them
///   takes line n. The line is a slot that keeps findings apart, not a claim about what the
///   Dockerfile says there (the config field is the logical location). Beyond the Dockerfile's
///   last line the uploader has nothing to hash, and the results still differ in location.
enum Place {
    Rootfs { uri: String, line_hash: String },
    Dockerfile { line: usize },
}

/// The path relative to `ROOTFS`, unless it is the root itself or climbs out of it with `..`
/// (a hostile layer's entry), which must not resolve to a file beside the consumer's checkout.
pub(crate) fn rootfs_path(location: &Location) -> Option<&str> {
    let relative = location.path.as_deref()?.trim_start_matches('/');
    let climbs = relative.split('/').any(|part| part == "..");
    (!relative.is_empty() && !climbs).then_some(relative)
}

fn places(items: &[Item]) -> Vec<Place> {
    let mut groups: BTreeMap<(&str, Option<&str>), Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let path = item.location().and_then(rootfs_path);
        groups.entry((item.code(), path)).or_default().push(i);
    }
    // Every item is in exactly one group, so each of these is overwritten.
    let mut places: Vec<Place> = items
        .iter()
        .map(|_| Place::Dockerfile { line: 1 })
        .collect();
    for ((code, path), mut members) in groups {
        members.sort_by(|&a, &b| items[a].order_key().cmp(&items[b].order_key()));
        for (n, i) in (1..).zip(members) {
            places[i] = match path {
                Some(path) => Place::Rootfs {
                    uri: encode_uri_path(path),
                    line_hash: format!("{}:{n}", line_hash(code, path)),
                },
                None => Place::Dockerfile { line: n },
            };
        }
    }
    places
}

/// Sixteen hex digits, the width of the hashes GitHub's uploader writes.
pub(crate) fn line_hash(code: &str, path: &str) -> String {
    let digest = hash_parts(&[code, path]);
    hex::encode(&digest[..8])
}

/// The `layerguard/v1` fingerprint of each item: the rule, the place in the image and the
/// repository, and, for the second and later findings of a rule at one place, their number.
fn fingerprints(report: &ScanReport, items: &[Item]) -> Vec<String> {
    // The repository, not the tag or digest: a new build of the same image keeps its alerts.
    let repository = report
        .image
        .image_ref
        .as_ref()
        .and_then(|r| r.repository_name())
        .unwrap_or_else(|| report.image.reference.clone());
    let mut groups: BTreeMap<(&str, String), Vec<usize>> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let place = match item.location() {
            Some(location) => fingerprint_place(location),
            None => "omitted".to_owned(),
        };
        groups.entry((item.code(), place)).or_default().push(i);
    }
    let mut prints = vec![String::new(); items.len()];
    for ((code, place), mut members) in groups {
        members.sort_by(|&a, &b| items[a].order_key().cmp(&items[b].order_key()));
        for (n, i) in (1usize..).zip(members) {
            // The first keeps the value earlier versions gave it, so existing alerts stay matched.
            let nth = n.to_string();
            let mut parts = vec![code, place.as_str(), repository.as_str()];
            if n > 1 {
                parts.push(&nth);
            }
            prints[i] = hex::encode(hash_parts(&parts));
        }
    }
    prints
}

/// Code scanning matches alerts across runs by this, so it leaves out what changes between builds
/// of the same image: the layer index, the message wording, and the tag or digest of the
/// reference.
pub(crate) fn fingerprint_place(loc: &Location) -> String {
    match (&loc.path, &loc.config, loc.layer) {
        (Some(path), _, _) => format!("path:{path}"),
        (None, Some(config), _) => format!("config:{config}"),
        (None, None, Some(layer)) => format!("layer:{layer}"),
        (None, None, None) => "image".to_owned(),
    }
}

pub(crate) fn hash_parts(parts: &[&str]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        // A separator that cannot occur in the parts, so `a`+`bc` never collides with `ab`+`c`.
        h.update([0u8]);
    }
    h.finalize().into()
}

/// The rule descriptors: every rule that ran at its default severity, in the report's order (so
/// a rule's index is its position in `report.rules`), then one per other severity a result uses.
struct Descriptors {
    rules: Vec<Value>,
    index: HashMap<String, usize>,
}

pub(crate) fn descriptor_id(meta: &RuleMeta, severity: Severity) -> String {
    if severity == meta.severity {
        meta.code.to_owned()
    } else {
        format!("{}/{severity}", meta.code)
    }
}

impl Descriptors {
    fn new(report: &ScanReport, items: &[Item]) -> Self {
        let mut extra: BTreeSet<(usize, std::cmp::Reverse<Severity>)> = BTreeSet::new();
        for item in items {
            if let Some(position) = report.rules.iter().position(|r| r.code == item.code())
                && item.severity() != report.rules[position].severity
            {
                extra.insert((position, std::cmp::Reverse(item.severity())));
            }
        }
        let used = report.rules.iter().map(|&meta| (meta, meta.severity));
        let others = extra
            .into_iter()
            .map(|(position, std::cmp::Reverse(severity))| (report.rules[position], severity));
        let mut rules = Vec::new();
        let mut index = HashMap::new();
        for (meta, severity) in used.chain(others) {
            index.insert(descriptor_id(meta, severity), rules.len());
            rules.push(rule(meta, severity));
        }
        Descriptors { rules, index }
    }

    /// The `ruleId` and, when the rule ran, `ruleIndex` of a result.
    fn reference(
        &self,
        report: &ScanReport,
        code: &str,
        severity: Severity,
    ) -> (String, Option<usize>) {
        match report.rule(code) {
            Some(meta) => {
                let id = descriptor_id(meta, severity);
                let index = self.index.get(&id).copied();
                (id, index)
            }
            None => (code.to_owned(), None),
        }
    }
}

fn log(report: &ScanReport, budget: usize, limits: Limits) -> Value {
    let items = select(report, budget);
    let places = places(&items);
    let prints = fingerprints(report, &items);
    let descriptors = Descriptors::new(report, &items);

    let results: Vec<Value> = items
        .iter()
        .zip(&places)
        .zip(&prints)
        .map(|((item, place), print)| result(report, &descriptors, item, place, print))
        .collect();

    let mut notifications: Vec<Value> = report
        .warnings
        .iter()
        .map(|w| {
            let text = match &w.location {
                Some(loc) => format!("{loc}: {}", w.message),
                None => w.message.clone(),
            };
            json!({ "level": "warning", "message": { "text": text } })
        })
        .collect();
    for item in &items {
        if let Item::Omitted {
            code, count, of, ..
        } = item
        {
            let name = report.rule(code).map_or(*code, |m| m.name);
            let mut n = json!({
                "level": "warning",
                "message": { "text": format!(
                    "{name} ({code}): {count} of {of} results left out to stay within GitHub code \
                     scanning's limits ({} results per run, {} MB gzipped); one result counts \
                     them, and the JSON report lists every finding",
                    limits.results_per_run,
                    limits.gzipped_bytes / (1024 * 1024),
                ) },
            });
            if let Some(index) = report.rules.iter().position(|r| r.code == *code) {
                n["associatedRule"] = json!({ "id": code, "index": index });
            }
            notifications.push(n);
        }
    }

    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": tool(&report.tool, descriptors.rules),
            "automationDetails": {
                "id": category(&report.image),
                "description": { "text": format!(
                    "layerguard scan of {} ({})", report.image.reference, report.image.platform
                ) },
            },
            "originalUriBaseIds": {
                // No `uri`: the root is inside an image, not anywhere on the consumer's disk.
                ROOTFS: { "description": { "text": "The root of the scanned image's filesystem." } }
            },
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": run_properties(report),
        }],
    })
}

/// The run's `tool`: the driver and the rule descriptors its results point into.
pub(super) fn tool(tool: &super::Tool, rules: Vec<Value>) -> Value {
    json!({
        "driver": {
            "name": tool.name,
            "version": tool.version,
            "semanticVersion": tool.version,
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }
    })
}

/// The run's code scanning category, `layerguard/<image>/<platform>/`: GitHub keeps the latest
/// analysis of each category and refuses two runs of one category in an upload, so every image,
/// and every platform of it, needs its own; and it must not change between builds of the same
/// image, or the alerts of the last build would never be closed.
fn category(image: &ImageSummary) -> String {
    let mut id = format!("{CATEGORY_PREFIX}/{}/", sanitise(&stable_image_name(image)));
    if !image.platform.is_empty() {
        id.push_str(&sanitise(&image.platform.replace('/', "-")));
        id.push('/');
    }
    id
}

/// A name for the image that survives a rebuild: the repository without tag or digest, else (for
/// an archive without a repository tag, or an OCI layout's bare tag) the archive's or layout's
/// file name.
pub(super) fn stable_image_name(image: &ImageSummary) -> String {
    if let Some(name) = image.image_ref.as_ref().and_then(|r| r.repository_name()) {
        return name;
    }
    let (transport, rest) = image
        .source
        .split_once(':')
        .unwrap_or(("", image.source.as_str()));
    let file = rest
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(rest);
    // `oci:DIR:TAG` and `oci-archive:PATH:TAG`: the tag changes between builds.
    let file = match transport {
        "oci" | "oci-archive" => file.split(':').next().unwrap_or(file),
        _ => file,
    };
    match file {
        "" | "-" => "image".to_owned(),
        file => file.to_owned(),
    }
}

/// Keeps what reads well in a category and cannot be mistaken for its structure.
pub(crate) fn sanitise(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn run_properties(report: &ScanReport) -> Value {
    let image = &report.image;
    let mut p = json!({
        "imageReference": image.reference,
        "imageSource": image.source,
        "platform": image.platform,
    });
    if let Some(d) = &image.digest {
        p["imageDigest"] = json!(d.to_string());
    }
    if let Some(d) = &image.config_digest {
        p["imageConfigDigest"] = json!(d.to_string());
    }
    p
}

pub(crate) fn rule(meta: &RuleMeta, severity: Severity) -> Value {
    let mut descriptor = json!({
        "id": descriptor_id(meta, severity),
        "name": meta.name,
        "shortDescription": { "text": meta.summary },
        "fullDescription": { "text": meta.rationale },
        "help": {
            "text": meta.remediation,
            "markdown": format!("**Remediation:** {}\n\n{}", meta.remediation, meta.rationale),
        },
        "defaultConfiguration": { "level": level(severity) },
        "properties": {
            "security-severity": security_severity(severity),
            "severity": severity.as_str(),
            "tags": ["security", "container"],
        },
    });
    if severity != meta.severity {
        descriptor["shortDescription"]["text"] = json!(format!("{} ({severity})", meta.summary));
    }
    descriptor
}

fn result(
    report: &ScanReport,
    descriptors: &Descriptors,
    item: &Item,
    place: &Place,
    fingerprint: &str,
) -> Value {
    let (rule_id, rule_index) = descriptors.reference(report, item.code(), item.severity());
    let (artifact, start_line) = match place {
        Place::Rootfs { uri, .. } => (json!({ "uri": uri, "uriBaseId": ROOTFS }), 1),
        Place::Dockerfile { line } => (json!({ "uri": FALLBACK_URI }), *line),
    };
    let mut location = json!({
        "physicalLocation": {
            "artifactLocation": artifact,
            "region": { "startLine": start_line },
        },
    });

    let mut properties = json!({ "severity": item.severity().as_str() });
    let message = match item {
        Item::Finding { finding, .. } => {
            let loc = &finding.location;
            let mut logical = Vec::new();
            if let Some(config) = &loc.config {
                logical.push(json!({ "name": config, "kind": "resource" }));
            }
            if let Some(layer) = loc.layer {
                logical.push(json!({ "name": format!("layer {layer}"), "kind": "resource" }));
            }
            if !logical.is_empty() {
                location["logicalLocations"] = Value::Array(logical);
            }
            if let Some(path) = &loc.path {
                properties["path"] = json!(path);
            }
            if let Some(layer) = loc.layer {
                properties["layer"] = json!(layer);
                if let Some(digest) = report
                    .image
                    .layers
                    .get(layer)
                    .and_then(|l| l.digest.as_ref())
                {
                    properties["layerDigest"] = json!(digest.to_string());
                }
            }
            if let Some(config) = &loc.config {
                properties["config"] = json!(config);
            }
            if let Some(layer) = loc.removed_in_layer {
                properties["removedInLayer"] = json!(layer);
            }
            finding.message.clone()
        }
        Item::Omitted {
            code, count, of, ..
        } => {
            properties["omitted"] = json!(count);
            let name = report.rule(code).map_or(*code, |m| m.name);
            format!(
                "{count} more {name} results (of {of}) are not listed here, to stay within GitHub \
                 code scanning's limits; the JSON report lists every finding"
            )
        }
    };

    let mut fingerprints = json!({ FINGERPRINT_KEY: fingerprint });
    if let Place::Rootfs { line_hash, .. } = place {
        fingerprints[LINE_HASH_KEY] = json!(line_hash);
    }
    let mut r = json!({
        "ruleId": rule_id,
        "level": level(item.severity()),
        "message": { "text": message },
        "locations": [location],
        "partialFingerprints": fingerprints,
        "properties": properties,
    });
    if let Some(index) = rule_index {
        r["ruleIndex"] = json!(index);
    }
    if let Item::Finding {
        suppressed: Some(reason),
        ..
    } = item
    {
        // Kept rather than dropped so code scanning closes the alert instead of forgetting it.
        r["suppressions"] = json!([{ "kind": "external", "justification": reason }]);
    }
    r
}

pub(crate) fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub reads these bands: 9.0 and above critical, 7.0 high, 4.0 medium, above 0.0 low; 0.0
/// itself means no severity at all, so info sits in the low band too.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Percent-encodes everything but unreserved characters and `/`, so any file name, including one
/// with spaces, `%`, `#` or a `:` that would read as a scheme, is a valid relative URI reference.
pub(crate) fn encode_uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Where `log` breaks the official SARIF 2.1.0 schema, one line each: what every SARIF writer's
/// tests check.
#[cfg(test)]
pub(crate) fn schema_errors(log: &Value) -> Vec<String> {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    let validator = VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/schemas/sarif-schema-2.1.0.json"
        )))
        .unwrap();
        jsonschema::validator_for(&schema).unwrap()
    });
    validator
        .iter_errors(log)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::report::Suppressed;
    use crate::report::table::tests::sample_report;
    use crate::rules::{RULES, find};

    fn rendered(report: &ScanReport) -> Value {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    fn rendered_within(report: &ScanReport, limits: Limits) -> Value {
        serde_json::from_slice(&encode(report, limits).unwrap()).unwrap()
    }

    fn results(log: &Value) -> &Vec<Value> {
        log["runs"][0]["results"].as_array().unwrap()
    }

    fn descriptor<'a>(log: &'a Value, id: &str) -> &'a Value {
        log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("no descriptor {id}"))
    }

    fn uri(result: &Value) -> &str {
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
    }

    fn start_line(result: &Value) -> u64 {
        result["locations"][0]["physicalLocation"]["region"]["startLine"]
            .as_u64()
            .unwrap()
    }

    fn finding(rule: &str, severity: Severity, message: &str, location: Location) -> Finding {
        let meta = find(rule).unwrap().meta();
        Finding {
            rule: meta.name.into(),
            code: meta.code.into(),
            severity,
            message: message.to_owned(),
            location,
        }
    }

    #[test]
    fn every_result_has_what_github_code_scanning_requires() {
        let report = sample_report();
        let log = rendered(&report);
        assert_eq!(log["$schema"], SCHEMA_URI);
        assert_eq!(log["version"], "2.1.0");
        let runs = log["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "layerguard");
        let rules = driver["rules"].as_array().unwrap();
        assert!(rules.len() > RULES.len());
        for (rule, meta) in rules.iter().zip(&report.rules) {
            assert_eq!(rule["id"], meta.code);
            let sev = rule["properties"]["security-severity"].as_str().unwrap();
            assert!(sev.parse::<f64>().is_ok());
        }

        let results = results(&log);
        assert_eq!(
            results.len(),
            report.findings.len() + report.suppressed.len()
        );
        for r in results {
            let id = r["ruleId"].as_str().unwrap();
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], id, "ruleIndex points at ruleId");
            assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap()));
            assert!(!r["message"]["text"].as_str().unwrap().is_empty());
            let uri = uri(r);
            assert!(!uri.is_empty() && !uri.starts_with('/'), "{uri}");
            assert!(!uri.contains(' ') && !uri.contains(':'), "{uri}");
            assert!(start_line(r) >= 1);
            let fp = r["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap();
            assert_eq!(fp.len(), 64);
        }

        let path = &results[1];
        assert_eq!(path["ruleId"], "LG001");
        assert_eq!(path["level"], "warning");
        let artifact = &path["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uri"], "usr/bin/su");
        assert_eq!(artifact["uriBaseId"], ROOTFS);
        assert_eq!(path["properties"]["layer"], 1);

        let config = &results[0];
        assert_eq!(config["level"], "error");
        let location = &config["locations"][0];
        assert_eq!(uri(config), "Dockerfile");
        assert_eq!(location["logicalLocations"][0]["name"], "config.User");
        assert_eq!(location["logicalLocations"][0]["kind"], "resource");
        assert_eq!(config["properties"]["config"], "config.User");

        let odd = &results[2];
        assert_eq!(uri(odd), "opt/my%20app/run%3Ame");
        assert_eq!(odd["properties"]["removedInLayer"], 2);

        let layer = &results[3];
        assert_eq!(layer["level"], "note");
        assert_eq!(
            layer["locations"][0]["logicalLocations"][0]["name"],
            "layer 2"
        );

        let suppressed = &results[4];
        assert_eq!(suppressed["suppressions"][0]["kind"], "external");

        assert_eq!(
            run["properties"]["imageReference"],
            "registry.example/app:1.2"
        );
        assert_eq!(run["properties"]["platform"], "linux/amd64");
        assert!(
            run["properties"]["imageDigest"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
        assert_eq!(
            run["invocations"][0]["toolExecutionNotifications"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn each_result_shows_at_its_own_severity_through_its_rule_descriptor() {
        let mut report = sample_report();
        report.findings.push(finding(
            "mutable-tag",
            Severity::Low,
            "the tag 1.2 can move",
            Location::config("reference"),
        ));
        report.findings.push(finding(
            "no-healthcheck",
            Severity::Info,
            "no HEALTHCHECK",
            Location::config("config.Healthcheck"),
        ));
        let log = rendered(&report);
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();

        // Every rule that ran keeps its default descriptor, at the index it always had.
        for (i, meta) in report.rules.iter().enumerate() {
            assert_eq!(rules[i]["id"], meta.code);
            assert_eq!(
                rules[i]["defaultConfiguration"]["level"],
                level(meta.severity)
            );
        }
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(&ids[RULES.len()..], ["LG001/low", "LG007/low"]);

        let low_tag = descriptor(&log, "LG007/low");
        assert_eq!(low_tag["name"], "mutable-tag");
        assert_eq!(low_tag["defaultConfiguration"]["level"], "note");
        assert_eq!(low_tag["properties"]["security-severity"], "3.0");
        assert_eq!(
            descriptor(&log, "LG007")["properties"]["security-severity"],
            "8.0"
        );

        for r in results(&log) {
            let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
            assert_eq!(rule["properties"]["severity"], r["properties"]["severity"]);
            assert_eq!(rule["defaultConfiguration"]["level"], r["level"]);
        }
        let tag = results(&log)
            .iter()
            .find(|r| r["properties"]["config"] == "reference")
            .unwrap();
        assert_eq!(tag["ruleId"], "LG007/low");
    }

    #[test]
    fn every_severity_has_a_score_github_reads_as_a_severity() {
        for severity in Severity::ALL {
            let score: f64 = security_severity(severity).parse().unwrap();
            let band = match score {
                s if s >= 9.0 => Severity::Critical,
                s if s >= 7.0 => Severity::High,
                s if s >= 4.0 => Severity::Medium,
                s if s > 0.0 => Severity::Low,
                _ => panic!("{severity}: {score} means no severity to GitHub"),
            };
            assert_eq!(band, severity.max(Severity::Low), "{severity}");
        }
    }

    #[test]
    fn the_category_names_the_image_and_platform_and_survives_a_new_tag() {
        let report = sample_report();
        let log = rendered(&report);
        assert_eq!(
            log["runs"][0]["automationDetails"]["id"],
            "layerguard/registry.example/app/linux-amd64/"
        );

        let mut retagged = report.clone();
        retagged.image.reference = format!("registry.example/app:1.3@{}", Digest::of(b"x"));
        retagged.image.image_ref =
            crate::reference::ImageRef::parse(&retagged.image.reference).ok();
        assert_eq!(category(&retagged.image), category(&report.image));

        let mut other = report.clone();
        other.image.image_ref = crate::reference::ImageRef::parse("localhost:5000/worker").ok();
        assert_eq!(
            category(&other.image),
            "layerguard/localhost-5000/worker/linux-amd64/"
        );
        let mut arm = report.clone();
        arm.image.platform = "linux/arm64/v8".into();
        assert_eq!(
            category(&arm.image),
            "layerguard/registry.example/app/linux-arm64-v8/"
        );

        // No repository: the layout's or archive's name, not its directory or tag.
        let mut layout = report.clone();
        layout.image.image_ref = crate::reference::ImageRef::parse("x").ok().map(|mut r| {
            r.repository = None;
            r
        });
        layout.image.source = "oci:/tmp/build-1234/app.oci:1.2".into();
        assert_eq!(category(&layout.image), "layerguard/app.oci/linux-amd64/");
        layout.image.image_ref = None;
        layout.image.source = "docker-archive:/tmp/run 9/app.tar".into();
        assert_eq!(category(&layout.image), "layerguard/app.tar/linux-amd64/");
    }

    #[test]
    fn image_files_carry_their_line_hash_and_dockerfile_results_get_a_line_each() {
        let mut report = sample_report();
        for (i, secret) in ["AWS key", "GitHub token", "npm token"].iter().enumerate() {
            report.findings.push(finding(
                "secret-in-config",
                Severity::Critical,
                &format!("history[3] records a secret ({secret}): ab***({i} chars)"),
                Location::config("history[3].created_by"),
            ));
        }
        report.findings.push(finding(
            "setuid-file",
            Severity::Medium,
            "/usr/bin/su is setuid root, again, from layer 2",
            Location::file("/usr/bin/su", 2),
        ));
        report.findings.push(finding(
            "path-escape",
            Severity::High,
            "an entry climbs out of the root",
            Location::file("../../etc/evil", 0),
        ));
        let log = rendered(&report);
        let results = results(&log);

        let mut seen = std::collections::HashSet::new();
        for r in results {
            let in_checkout = uri(r) == FALLBACK_URI;
            let line_hash = r["partialFingerprints"][LINE_HASH_KEY].as_str();
            if in_checkout {
                assert!(
                    line_hash.is_none(),
                    "the uploader hashes the Dockerfile: {r}"
                );
            } else {
                assert_eq!(
                    r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
                    ROOTFS
                );
                let hash = line_hash.unwrap();
                let (hex, n) = hash.split_once(':').unwrap();
                assert_eq!(hex.len(), 16);
                assert!(n.parse::<u32>().unwrap() >= 1);
            }
            let primary = line_hash
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{}:{}", uri(r), start_line(r)));
            let rule = r["ruleId"].as_str().unwrap().split('/').next().unwrap();
            assert!(seen.insert((rule.to_owned(), primary)), "shared: {r}");
        }

        let su: Vec<&str> = results
            .iter()
            .filter(|r| uri(r) == "usr/bin/su")
            .map(|r| r["partialFingerprints"][LINE_HASH_KEY].as_str().unwrap())
            .collect();
        assert_eq!(su.len(), 2);
        assert_eq!(su[0].split(':').next(), su[1].split(':').next());
        assert_ne!(su[0], su[1]);

        let mut lines: Vec<u64> = results
            .iter()
            .filter(|r| r["ruleId"] == "LG008")
            .map(start_line)
            .collect();
        lines.sort();
        assert_eq!(lines, [1, 2, 3]);

        let escape = results.iter().find(|r| r["ruleId"] == "LG019").unwrap();
        assert_eq!(uri(escape), FALLBACK_URI);
        assert_eq!(escape["properties"]["path"], "../../etc/evil");
    }

    #[test]
    fn suppressing_a_finding_keeps_the_others_where_they_were() {
        let mut report = sample_report();
        report.suppressed.clear();
        for n in 0..4 {
            report.findings.push(finding(
                "secret-in-config",
                Severity::Critical,
                &format!("build step history[{n}] records a secret"),
                Location::config(format!("history[{n}].created_by")),
            ));
        }
        let place = |log: &Value, message: &str| {
            let r = results(log)
                .iter()
                .find(|r| r["message"]["text"] == message)
                .unwrap();
            (start_line(r), r["partialFingerprints"].clone())
        };
        let before = rendered(&report);
        let mut ignored = report.clone();
        let at = ignored
            .findings
            .iter()
            .position(|f| f.message.contains("history[1]"))
            .unwrap();
        let finding = ignored.findings.remove(at);
        ignored.suppressed.push(Suppressed {
            finding,
            reason: "a test key".into(),
        });
        let after = rendered(&ignored);
        for n in 0..4 {
            let message = format!("build step history[{n}] records a secret");
            assert_eq!(
                place(&before, &message),
                place(&after, &message),
                "{message}"
            );
        }
    }

    #[test]
    fn fingerprints_survive_a_new_tag_and_layer_but_not_a_new_place() {
        let prints = |report: &ScanReport| fingerprints(report, &select(report, usize::MAX));
        let report = sample_report();
        let mut retagged = report.clone();
        retagged.image.reference = format!("registry.example/app:1.3@{}", Digest::of(b"x"));
        retagged.image.image_ref =
            crate::reference::ImageRef::parse(&retagged.image.reference).ok();
        assert!(retagged.image.image_ref.is_some());
        retagged.findings[1].location.layer = Some(5);
        retagged.findings[1].message = "reworded".into();
        assert_eq!(prints(&report), prints(&retagged));
        let unique: std::collections::HashSet<String> = prints(&report).into_iter().collect();
        assert_eq!(
            unique.len(),
            report.findings.len() + report.suppressed.len()
        );

        // A second finding of a rule at one place (here, one that sorts after the first) gets a
        // print of its own, and the first keeps its.
        let mut twice = report.clone();
        twice.findings.push(finding(
            "root-user",
            Severity::High,
            "USER names uid 0 under another name",
            Location::config("config.User"),
        ));
        let more = prints(&twice);
        assert_eq!(more[0], prints(&report)[0]);
        let unique: std::collections::HashSet<&String> = more.iter().collect();
        assert_eq!(unique.len(), more.len());
    }

    fn crowded_report(setuid: usize, suid_low: usize, roots: usize) -> ScanReport {
        let mut report = sample_report();
        report.findings.clear();
        report.suppressed.clear();
        for i in 0..setuid {
            report.findings.push(finding(
                "setuid-file",
                Severity::Medium,
                &format!("/usr/bin/tool{i} is setuid root"),
                Location::file(format!("/usr/bin/tool{i}"), 1),
            ));
        }
        for i in 0..suid_low {
            report.findings.push(finding(
                "setuid-file",
                Severity::Low,
                &format!("/opt/low{i} is setgid"),
                Location::file(format!("/opt/low{i}"), 1),
            ));
        }
        for i in 0..roots {
            report.findings.push(finding(
                "world-writable",
                Severity::Medium,
                &format!("/tmp/w{i} is world-writable"),
                Location::file(format!("/tmp/w{i}"), 1),
            ));
        }
        report
    }

    #[test]
    fn too_many_results_are_counted_per_rule_with_a_warning_not_cut_silently() {
        let report = crowded_report(30, 5, 3);
        let limits = Limits {
            results_per_run: 10,
            gzipped_bytes: GITHUB_LIMITS.gzipped_bytes,
        };
        let log = rendered_within(&report, limits);
        let results = results(&log);
        assert!(results.len() <= 10, "{}", results.len());

        // The small rule is whole; the big one lists its most severe and counts the rest.
        let writable = results.iter().filter(|r| r["ruleId"] == "LG018").count();
        assert_eq!(writable, 3);
        let setuid: Vec<&Value> = results
            .iter()
            .filter(|r| r["ruleId"].as_str().unwrap().starts_with("LG001"))
            .collect();
        let (counted, listed): (Vec<&Value>, Vec<&Value>) = setuid
            .iter()
            .partition(|r| r["properties"].get("omitted").is_some());
        assert_eq!(counted.len(), 1);
        assert!(listed.iter().all(|r| r["ruleId"] == "LG001"));
        let omitted = counted[0]["properties"]["omitted"].as_u64().unwrap() as usize;
        assert_eq!(listed.len() + omitted, 35);
        assert_eq!(counted[0]["ruleId"], "LG001", "the worst of those left out");
        assert_eq!(uri(counted[0]), FALLBACK_URI);
        assert!(
            counted[0]["message"]["text"]
                .as_str()
                .unwrap()
                .contains(&format!("{omitted} more setuid-file results (of 35)"))
        );

        let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
            .as_array()
            .unwrap();
        let warning = notes
            .iter()
            .find(|n| n["associatedRule"]["id"] == "LG001")
            .unwrap();
        assert_eq!(warning["level"], "warning");
        assert!(
            warning["message"]["text"]
                .as_str()
                .unwrap()
                .contains(&format!("{omitted} of 35 results left out"))
        );
        assert_eq!(warning["associatedRule"]["index"], 0);
    }

    #[test]
    fn a_file_too_big_for_the_upload_is_trimmed_until_it_fits() {
        let report = crowded_report(400, 0, 0);
        let whole = encode(&report, GITHUB_LIMITS).unwrap();
        let limit = gzipped_len(&whole).unwrap() / 3;
        let limits = Limits {
            results_per_run: GITHUB_LIMITS.results_per_run,
            gzipped_bytes: limit,
        };
        let bytes = encode(&report, limits).unwrap();
        assert!(gzipped_len(&bytes).unwrap() <= limit);
        let log: Value = serde_json::from_slice(&bytes).unwrap();
        let results = results(&log);
        assert!(
            // The cut is coarse (a common cap per rule), so how many fit depends on how well
            // the output compresses; it must still keep a fair share.
            results.len() < 400 && results.len() >= 20,
            "{}",
            results.len()
        );
        assert!(
            results.last().unwrap()["properties"]["omitted"]
                .as_u64()
                .unwrap()
                > 0
        );
    }

    #[test]
    fn a_huge_image_stays_within_github_results_per_run() {
        assert_eq!(GITHUB_LIMITS.results_per_run, 25_000);
        assert_eq!(GITHUB_LIMITS.gzipped_bytes, 10 << 20);
        let report = crowded_report(GITHUB_LIMITS.results_per_run + 10, 0, 2);
        let items = select(&report, GITHUB_LIMITS.results_per_run);
        assert_eq!(items.len(), GITHUB_LIMITS.results_per_run);
        assert_eq!(items.iter().filter(|i| i.code() == "LG018").count(), 2);
        let Some(Item::Omitted { count, of, .. }) = items.last() else {
            panic!("no count of what was left out");
        };
        // 25,000 = 2 world-writable + 24,997 setuid listed + 1 counting the other 13.
        assert_eq!((*count, *of), (13, GITHUB_LIMITS.results_per_run + 10));
    }

    #[test]
    fn output_is_valid_against_the_official_sarif_schema() {
        let mut empty = sample_report();
        empty.findings.clear();
        empty.suppressed.clear();
        empty.warnings.clear();
        empty.image.digest = None;
        let trimmed = rendered_within(
            &crowded_report(30, 5, 3),
            Limits {
                results_per_run: 10,
                gzipped_bytes: GITHUB_LIMITS.gzipped_bytes,
            },
        );
        for instance in [rendered(&sample_report()), rendered(&empty), trimmed] {
            let errors = schema_errors(&instance);
            assert!(errors.is_empty(), "{errors:#?}");
        }

        // Proves the schema is in force rather than vacuously accepting anything.
        let mut broken = rendered(&sample_report());
        broken["runs"][0]["results"][0]["level"] = json!("fatal");
        assert!(!schema_errors(&broken).is_empty());
    }
}
