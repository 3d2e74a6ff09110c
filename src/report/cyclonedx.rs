//! CycloneDX 1.6 JSON: the image as the root component, every package and ELF binary as a
//! component, and a dependency graph image → OS → OS packages, image → binaries → the shared
//! libraries they load, the package that owns them and the Go modules or Rust crates built in.
//!
//! The output is deterministic: no timestamp, and a serial number derived from the image.
//! The graph helpers here are shared with the SPDX writer.

use super::ScanReport;
use crate::inventory::{Binary, Package, PackageKind};
use crate::text::purl_encode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeSet;
use std::io::{self, Write};

/// Writes `report` as a CycloneDX 1.6 JSON BOM.
///
/// The document is written piece by piece: the head, then each component and each dependency as
/// it is built. A BOM of thousands of binaries would otherwise exist twice in memory, once as a
/// JSON tree and once as text, and cost more than the scan that found them.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let inv = &report.inventory;
    let graph = Graph::new(report);
    let root_ref = graph.image_ref.clone();
    let head = json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial_number(report),
        "version": 1,
        "metadata": {
            "tools": {
                "components": [{
                    "type": "application",
                    "name": report.tool.name,
                    "version": report.tool.version,
                }],
            },
            "component": image_component(report, &root_ref),
        },
    });
    let head = serde_json::to_string_pretty(&head)?;
    // Reopen the head object: drop its closing brace and append the two arrays.
    let open = head
        .trim_end()
        .strip_suffix('}')
        .unwrap_or(&head)
        .trim_end();
    out.write_all(open.as_bytes())?;

    let os = inv.os.as_ref().map(|os| {
        let mut c = json!({
            "type": "operating-system",
            "bom-ref": OS_REF,
            "name": os.id,
        });
        if let Some(v) = &os.version_id {
            c["version"] = json!(v);
        }
        if let Some(p) = &os.pretty_name {
            c["description"] = json!(p);
        }
        c
    });
    let components = os
        .into_iter()
        .chain(inv.packages.iter().map(package_component))
        .chain(inv.binaries.iter().map(binary_component));
    write_array(out, "components", components)?;

    let root = json!({ "ref": root_ref, "dependsOn": graph.top_level_refs() });
    let os_deps = inv.os.as_ref().map(|_| {
        let os_packages: Vec<&str> = graph
            .os_packages()
            .map(|i| inv.packages[i].purl.as_str())
            .collect();
        json!({ "ref": OS_REF, "dependsOn": os_packages })
    });
    let binary_deps = inv.binaries.iter().enumerate().map(|(i, b)| {
        let mut refs: Vec<String> = graph
            .libraries(i)
            .into_iter()
            .map(|l| binary_ref(&inv.binaries[l]))
            .collect();
        refs.extend(
            graph
                .owners(i)
                .into_iter()
                .chain(graph.modules(i))
                .map(|p| inv.packages[p].purl.clone()),
        );
        dedup_in_order(&mut refs);
        json!({ "ref": binary_ref(b), "dependsOn": refs })
    });
    let dependencies = std::iter::once(root).chain(os_deps).chain(binary_deps);
    write_array(out, "dependencies", dependencies)?;
    out.write_all(b"\n}\n")
}

/// Writes `,\n  "name": [` then each item on its own line, then `]`.
fn write_array(
    out: &mut dyn Write,
    name: &str,
    items: impl Iterator<Item = Value>,
) -> io::Result<()> {
    write!(out, ",\n  \"{name}\": [")?;
    for (i, item) in items.enumerate() {
        out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut *out, &item)?;
    }
    out.write_all(b"\n  ]")
}

/// The `bom-ref` of the operating-system component.
const OS_REF: &str = "os";

fn image_component(report: &ScanReport, bom_ref: &str) -> Value {
    let image = &report.image;
    let mut c = json!({
        "type": "container",
        "bom-ref": bom_ref,
        "name": image.reference,
    });
    if let Some(d) = image.digest.as_ref().or(image.config_digest.as_ref()) {
        c["version"] = json!(d.to_string());
    }
    if let Some(purl) = image_purl(report) {
        c["purl"] = json!(purl);
    }
    let mut props = vec![prop("layerguard:image:source", &image.source)];
    if let Some(d) = &image.digest {
        props.push(prop("layerguard:image:digest", &d.to_string()));
    }
    if let Some(d) = &image.config_digest {
        props.push(prop("layerguard:image:config-digest", &d.to_string()));
    }
    if !image.platform.is_empty() {
        props.push(prop("layerguard:image:platform", &image.platform));
    }
    c["properties"] = json!(props);
    c
}

fn package_component(p: &Package) -> Value {
    let r = &p.record;
    let mut c = json!({
        "type": "library",
        "bom-ref": p.purl,
        "name": r.full_name(),
        "purl": p.purl,
    });
    if let (PackageKind::Maven, Some(group)) = (r.kind, &r.namespace) {
        c["group"] = json!(group);
    }
    if !r.version.is_empty() {
        c["version"] = json!(r.version);
    }
    // A component has one `cpe`; the others a vulnerability database may use go in properties.
    if let Some(first) = r.cpes.first() {
        c["cpe"] = json!(first);
    }
    if let Some(licenses) = cyclonedx_licenses(&r.licenses) {
        c["licenses"] = licenses;
    }
    let mut props = vec![prop("layerguard:package:type", r.kind.purl_type())];
    props.extend(r.cpes.iter().skip(1).map(|c| prop("layerguard:cpe23", c)));
    if let Some(a) = &r.arch {
        props.push(prop("layerguard:package:arch", a));
    }
    if let Some(s) = &r.source {
        props.push(prop("layerguard:package:source", s));
    }
    for l in &p.locations {
        props.push(prop("layerguard:location:path", &l.path));
        props.push(prop("layerguard:location:layer", &l.layer.to_string()));
        if let Some(inner) = &l.found_in {
            props.push(prop("layerguard:location:found-in", inner));
        }
    }
    c["properties"] = json!(props);
    c
}

fn binary_component(b: &Binary) -> Value {
    let h = &b.hardening;
    let yes_no = |v: bool| if v { "true" } else { "false" };
    let relro = serde_json::to_value(h.relro)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut props = vec![
        prop("layerguard:location:path", &b.path),
        prop("layerguard:location:layer", &b.layer.to_string()),
        prop("layerguard:elf:type", &b.elf_type.to_string()),
        prop("layerguard:elf:machine", &b.machine),
        prop("layerguard:elf:static", yes_no(b.is_static)),
        prop("layerguard:elf:stripped", yes_no(b.stripped)),
        prop("layerguard:hardening:pie", yes_no(h.pie)),
        prop("layerguard:hardening:relro", &relro),
        prop("layerguard:hardening:nx", yes_no(h.nx)),
        prop("layerguard:hardening:canary", yes_no(h.canary)),
        prop("layerguard:hardening:fortify", yes_no(h.fortify)),
    ];
    if let Some(i) = &b.interpreter {
        props.push(prop("layerguard:elf:interpreter", i));
    }
    if let Some(s) = &b.soname {
        props.push(prop("layerguard:elf:soname", s));
    }
    for n in &b.needed {
        props.push(prop("layerguard:elf:needed", n));
    }
    if let Some(go) = &b.go {
        props.push(prop("layerguard:go:version", &go.go_version));
    }
    if let Some(p) = &b.package {
        props.push(prop("layerguard:package", p));
    }
    let mut c = json!({
        "type": if b.is_executable() { "application" } else { "file" },
        "bom-ref": binary_ref(b),
        "name": b.path,
        "properties": props,
    });
    if let Some(sha) = &b.sha256 {
        c["hashes"] = json!([{ "alg": "SHA-256", "content": sha }]);
    }
    c
}

fn prop(name: &str, value: &str) -> Value {
    json!({ "name": name, "value": value })
}

/// The `bom-ref` of a binary.
fn binary_ref(b: &Binary) -> String {
    format!("file:{}", b.path)
}

/// CycloneDX `licenses`: one SPDX `expression`, or a list of licences by SPDX id or by name.
fn cyclonedx_licenses(licenses: &[String]) -> Option<Value> {
    if licenses.is_empty() {
        return None;
    }
    if licenses.iter().all(|l| is_license_id(l)) {
        let list: Vec<Value> = licenses
            .iter()
            .map(|l| json!({ "license": { "id": l } }))
            .collect();
        return Some(json!(list));
    }
    if let Some(expression) = license_expression(licenses) {
        return Some(json!([{ "expression": expression }]));
    }
    let list: Vec<Value> = licenses
        .iter()
        .map(|l| {
            if is_license_id(l) {
                json!({ "license": { "id": l } })
            } else {
                json!({ "license": { "name": l } })
            }
        })
        .collect();
    Some(json!(list))
}

/// True when `s` is exactly one identifier of the SPDX license list.
pub(super) fn is_license_id(s: &str) -> bool {
    spdx::license_id(s).is_some_and(|id| id.name == s)
}

/// All of `licenses` as one valid SPDX expression (`A AND (B OR C)`), or `None` when there are
/// none or any of them is not a valid expression.
pub(super) fn license_expression(licenses: &[String]) -> Option<String> {
    let mut parts = Vec::new();
    for l in licenses {
        let l = l.trim();
        spdx::Expression::parse(l).ok()?;
        if licenses.len() > 1 && l.contains(' ') {
            parts.push(format!("({l})"));
        } else {
            parts.push(l.to_owned());
        }
    }
    let mut parts_dedup = Vec::new();
    for p in parts {
        if !parts_dedup.contains(&p) {
            parts_dedup.push(p);
        }
    }
    (!parts_dedup.is_empty()).then(|| parts_dedup.join(" AND "))
}

fn dedup_in_order(v: &mut Vec<String>) {
    let mut seen = BTreeSet::new();
    v.retain(|s| seen.insert(s.clone()));
}

/// A deterministic `urn:uuid:` from the image: the first 128 bits of a SHA-256 over the tool
/// and the image's identity, with the version (8, RFC 9562 custom/hash-based) and variant bits
/// set.
fn serial_number(report: &ScanReport) -> String {
    let mut h = Sha256::new();
    h.update(b"layerguard-cyclonedx\0");
    h.update(report.tool.version.as_bytes());
    h.update(b"\0");
    h.update(image_identity(report).as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &x[..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..]
    )
}

/// What identifies the scanned image: its manifest digest, else its config digest, else the
/// reference and the digests of its layers.
pub(super) fn image_identity(report: &ScanReport) -> String {
    let image = &report.image;
    if let Some(d) = image.digest.as_ref().or(image.config_digest.as_ref()) {
        return d.to_string();
    }
    let mut s = image.reference.clone();
    for l in &image.layers {
        if let Some(d) = l.diff_id.as_ref().or(l.digest.as_ref()) {
            s.push(' ');
            s.push_str(&d.to_string());
        }
    }
    s
}

/// `pkg:oci/<name>@<digest>?arch=…&repository_url=…` when the manifest digest is known and the
/// image's own reference names a repository (not an OCI layout's bare tag).
pub(super) fn image_purl(report: &ScanReport) -> Option<String> {
    let image = &report.image;
    let digest = image.digest.as_ref()?;
    let reference = image.image_ref.as_ref()?;
    let repo = reference.repository_name()?;
    let name = repo.rsplit('/').next()?.to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    let mut out = format!(
        "pkg:oci/{}@{}",
        purl_encode(&name),
        purl_encode(&digest.to_string())
    );
    let mut qualifiers = Vec::new();
    if let Some(arch) = image.platform.split('/').nth(1) {
        qualifiers.push(format!("arch={}", purl_encode(arch)));
    }
    qualifiers.push(format!("repository_url={}", purl_encode(&repo)));
    if let Some(tag) = &reference.tag {
        qualifiers.push(format!("tag={}", purl_encode(tag)));
    }
    out.push('?');
    out.push_str(&qualifiers.join("&"));
    Some(out)
}

/// The relations between the inventory's packages and binaries, by index, shared by the SBOM
/// writers.
pub(super) struct Graph<'a> {
    report: &'a ScanReport,
    /// The root component's reference.
    pub image_ref: String,
    /// Packages that a binary embeds (Go modules, Rust crates): listed under that binary.
    embedded: BTreeSet<usize>,
}

impl<'a> Graph<'a> {
    pub fn new(report: &'a ScanReport) -> Self {
        let image_ref = image_purl(report).unwrap_or_else(|| "image".to_owned());
        let mut g = Graph {
            report,
            image_ref,
            embedded: BTreeSet::new(),
        };
        let embedded: BTreeSet<usize> = (0..report.inventory.binaries.len())
            .flat_map(|i| g.modules(i))
            .collect();
        g.embedded = embedded;
        g
    }

    /// True when package `i` is listed under the OS component.
    pub fn is_os_package(&self, i: usize) -> bool {
        self.report.inventory.os.is_some() && self.report.inventory.packages[i].record.kind.is_os()
    }

    /// Indexes of the OS packages (only when the image has an `os-release`).
    pub fn os_packages(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.report.inventory.packages.len()).filter(|&i| self.is_os_package(i))
    }

    /// Indexes of packages neither the OS nor a binary accounts for.
    pub fn top_level_packages(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.report.inventory.packages.len())
            .filter(|&i| !self.is_os_package(i) && !self.embedded.contains(&i))
    }

    /// CycloneDX references of what the root component directly depends on.
    fn top_level_refs(&self) -> Vec<String> {
        let inv = &self.report.inventory;
        let mut refs = Vec::new();
        if inv.os.is_some() {
            refs.push(OS_REF.to_owned());
        }
        refs.extend(
            self.top_level_packages()
                .map(|i| inv.packages[i].purl.clone()),
        );
        refs.extend(inv.binaries.iter().map(binary_ref));
        dedup_in_order(&mut refs);
        refs
    }

    /// Binaries satisfying binary `i`'s `DT_NEEDED` entries: those whose `DT_SONAME` is the
    /// needed name, else those whose file name is.
    pub fn libraries(&self, i: usize) -> Vec<usize> {
        let bins = &self.report.inventory.binaries;
        let mut out = Vec::new();
        for needed in &bins[i].needed {
            let by_soname: Vec<usize> = (0..bins.len())
                .filter(|&j| j != i && bins[j].soname.as_deref() == Some(needed.as_str()))
                .collect();
            let found = if by_soname.is_empty() {
                (0..bins.len())
                    .filter(|&j| j != i && bins[j].path.rsplit('/').next() == Some(needed.as_str()))
                    .collect()
            } else {
                by_soname
            };
            for j in found {
                if !out.contains(&j) {
                    out.push(j);
                }
            }
        }
        out
    }

    /// Packages named as binary `i`'s owner.
    pub fn owners(&self, i: usize) -> Vec<usize> {
        let inv = &self.report.inventory;
        let Some(name) = &inv.binaries[i].package else {
            return Vec::new();
        };
        let all: Vec<usize> = (0..inv.packages.len())
            .filter(|&p| &inv.packages[p].record.name == name)
            .collect();
        // A database owner is an OS package; prefer those when a language package shares a name.
        let os: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&p| inv.packages[p].record.kind.is_os())
            .collect();
        if os.is_empty() { all } else { os }
    }

    /// Packages found inside binary `i` (Go modules, Rust crates): their location is its path.
    pub fn modules(&self, i: usize) -> Vec<usize> {
        let inv = &self.report.inventory;
        let path = &inv.binaries[i].path;
        (0..inv.packages.len())
            .filter(|&p| {
                !inv.packages[p].record.kind.is_os()
                    && inv.packages[p].locations.iter().any(|l| &l.path == path)
            })
            .collect()
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::inventory::binary::{GoBuildInfo, Hardening, Relro};
    use crate::inventory::{Inventory, OsRelease, PackageKind, PackageLocation, PackageRecord};
    use crate::report::table::tests::sample_report;

    fn package(
        name: &str,
        version: &str,
        kind: PackageKind,
        licenses: &[&str],
        path: &str,
    ) -> Package {
        let record = PackageRecord {
            name: name.into(),
            version: version.into(),
            kind,
            arch: kind.is_os().then(|| "amd64".to_owned()),
            source: None,
            licenses: licenses.iter().map(|s| s.to_string()).collect(),
            files: 0,
            namespace: (kind == PackageKind::Golang).then(|| "golang.org/x".to_owned()),
            found_in: None,
            cpes: Vec::new(),
        };
        let os = OsRelease {
            id: "debian".into(),
            version_id: Some("12".into()),
            pretty_name: None,
        };
        Package {
            purl: crate::inventory::purl(&record, Some(&os)),
            record,
            locations: vec![PackageLocation {
                path: path.into(),
                layer: 1,
                found_in: None,
            }],
        }
    }

    fn binary(path: &str, soname: Option<&str>, needed: &[&str], package: Option<&str>) -> Binary {
        Binary {
            path: path.into(),
            layer: 1,
            elf_type: crate::inventory::binary::ElfType::Dyn,
            machine: "x86_64".into(),
            interpreter: soname
                .is_none()
                .then(|| "/lib64/ld-linux-x86-64.so.2".to_owned()),
            needed: needed.iter().map(|s| s.to_string()).collect(),
            soname: soname.map(str::to_owned),
            hardening: Hardening {
                pie: true,
                relro: Relro::Full,
                nx: true,
                canary: true,
                fortify: false,
            },
            package: package.map(str::to_owned),
            // Present so the schema tests cover the hash fields of both formats.
            sha256: Some("5e".repeat(32)),
            ..Binary::default()
        }
    }

    /// The shared sample report with an inventory: a Debian OS, two deb packages, a Go module
    /// inside a binary and three binaries linking to each other.
    pub(in crate::report) fn sbom_report() -> ScanReport {
        let mut report = sample_report();
        let dpkg = "/var/lib/dpkg/status";
        let mut go_bin = binary("/usr/local/bin/tool", None, &[], None);
        go_bin.is_static = true;
        go_bin.interpreter = None;
        go_bin.elf_type = crate::inventory::binary::ElfType::Exec;
        go_bin.go = Some(GoBuildInfo {
            go_version: "go1.22.1".into(),
            ..GoBuildInfo::default()
        });
        report.inventory = Inventory {
            os: Some(OsRelease {
                id: "debian".into(),
                version_id: Some("12".into()),
                pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            }),
            packages: vec![
                package("libc6", "2.36-9+deb12u4", PackageKind::Deb, &[], dpkg),
                package(
                    "openssl",
                    "3.0.11-1~deb12u2",
                    PackageKind::Deb,
                    &["Apache-2.0"],
                    dpkg,
                ),
                package(
                    "text",
                    "v0.14.0",
                    PackageKind::Golang,
                    &["BSD-3-Clause OR MIT", "Custom licence"],
                    "/usr/local/bin/tool",
                ),
                package(
                    "requests",
                    "2.31.0",
                    PackageKind::Pypi,
                    &["Apache-2.0"],
                    "/usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
                ),
            ],
            binaries: vec![
                binary(
                    "/lib/x86_64-linux-gnu/libc.so.6",
                    Some("libc.so.6"),
                    &[],
                    Some("libc6"),
                ),
                binary(
                    "/usr/bin/openssl",
                    None,
                    &["libssl.so.3", "libc.so.6"],
                    Some("openssl"),
                ),
                binary(
                    "/usr/lib/x86_64-linux-gnu/libssl.so.3",
                    None,
                    &["libc.so.6"],
                    Some("openssl"),
                ),
                go_bin,
            ],
        };
        // libssl found by file name, not soname.
        report.inventory.binaries[2].interpreter = None;
        report
    }

    pub(in crate::report) fn validator(
        main: &str,
        extra: &[(&str, &str)],
    ) -> jsonschema::Validator {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/");
        let load = |file: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}{file}")).unwrap()).unwrap()
        };
        let mut options = jsonschema::options().should_validate_formats(true);
        for (uri, file) in extra {
            options = options.with_resource(
                *uri,
                jsonschema::Resource::from_contents(load(file)).unwrap(),
            );
        }
        options.build(&load(main)).unwrap()
    }

    fn cdx_validator() -> jsonschema::Validator {
        validator(
            "bom-1.6.schema.json",
            &[
                (
                    "http://cyclonedx.org/schema/spdx.schema.json",
                    "spdx.schema.json",
                ),
                (
                    "http://cyclonedx.org/schema/jsf-0.82.schema.json",
                    "jsf-0.82.schema.json",
                ),
            ],
        )
    }

    fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
        v.iter_errors(instance)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect()
    }

    fn rendered(report: &ScanReport) -> Value {
        let mut out = Vec::new();
        render(report, &mut out).unwrap();
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn output_is_valid_against_the_official_cyclonedx_schema() {
        let v = cdx_validator();
        let mut bare = sample_report();
        bare.image.digest = None;
        bare.image.config_digest = None;
        for report in [sbom_report(), sample_report(), bare] {
            let bom = rendered(&report);
            let e = errors(&v, &bom);
            assert!(e.is_empty(), "{e:#?}\n{bom:#}");
        }
        // The schema is in force: a bad component type and a bad licence id are rejected.
        let mut broken = rendered(&sbom_report());
        broken["components"][1]["type"] = json!("gadget");
        assert!(!v.is_valid(&broken));
        let mut broken = rendered(&sbom_report());
        broken["components"][2]["licenses"] = json!([{ "license": { "id": "Not-A-Licence" } }]);
        assert!(!v.is_valid(&broken));
    }

    #[test]
    fn bom_has_the_image_as_root_and_every_component() {
        let report = sbom_report();
        let bom = rendered(&report);
        assert_eq!(bom["bomFormat"], "CycloneDX");
        assert_eq!(bom["specVersion"], "1.6");
        let root = &bom["metadata"]["component"];
        assert_eq!(root["type"], "container");
        assert_eq!(root["name"], "registry.example/app:1.2");
        let digest = report.image.digest.as_ref().unwrap().to_string();
        assert_eq!(root["version"], digest.as_str());
        assert_eq!(
            root["purl"],
            format!(
                "pkg:oci/app@sha256%3A{}?arch=amd64&repository_url=registry.example%2Fapp&tag=1.2",
                digest.trim_start_matches("sha256:")
            )
        );
        let components = bom["components"].as_array().unwrap();
        assert_eq!(components.len(), 1 + 4 + 4);
        assert_eq!(components[0]["type"], "operating-system");
        let refs: BTreeSet<&str> = components
            .iter()
            .map(|c| c["bom-ref"].as_str().unwrap())
            .collect();
        assert_eq!(refs.len(), components.len(), "bom-refs are unique");

        let by_ref = |r: &str| components.iter().find(|c| c["bom-ref"] == r).unwrap();
        let openssl = by_ref("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12");
        assert_eq!(
            openssl["licenses"],
            json!([{ "license": { "id": "Apache-2.0" } }])
        );
        let text = by_ref("pkg:golang/golang.org/x/text@v0.14.0");
        assert_eq!(
            text["licenses"],
            json!([
                { "license": { "name": "BSD-3-Clause OR MIT" } },
                { "license": { "name": "Custom licence" } }
            ])
        );
        assert_eq!(by_ref("file:/usr/bin/openssl")["type"], "application");
        assert_eq!(
            by_ref("file:/lib/x86_64-linux-gnu/libc.so.6")["type"],
            "file"
        );

        let deps = bom["dependencies"].as_array().unwrap();
        let depends_on = |r: &str| -> Vec<&str> {
            deps.iter()
                .find(|d| d["ref"] == r)
                .unwrap_or_else(|| panic!("no entry for {r}"))["dependsOn"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect()
        };
        let root_deps = depends_on(root["bom-ref"].as_str().unwrap());
        assert!(root_deps.contains(&"os"));
        assert!(
            root_deps.contains(&"pkg:pypi/requests@2.31.0"),
            "{root_deps:?}"
        );
        assert!(!root_deps.contains(&"pkg:golang/golang.org/x/text@v0.14.0"));
        assert_eq!(depends_on("os").len(), 2);
        assert_eq!(
            depends_on("file:/usr/bin/openssl"),
            [
                "file:/usr/lib/x86_64-linux-gnu/libssl.so.3",
                "file:/lib/x86_64-linux-gnu/libc.so.6",
                "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12",
            ]
        );
        assert_eq!(
            depends_on("file:/usr/local/bin/tool"),
            ["pkg:golang/golang.org/x/text@v0.14.0"]
        );
        // Every reference in the graph names a component or the root.
        for d in deps {
            for r in d["dependsOn"].as_array().unwrap() {
                assert!(refs.contains(r.as_str().unwrap()), "{r}");
            }
        }
    }

    #[test]
    fn output_is_deterministic_and_the_serial_follows_the_image() {
        let a = rendered(&sbom_report());
        assert_eq!(a, rendered(&sbom_report()));
        let serial = a["serialNumber"].as_str().unwrap();
        assert_eq!(&serial[23..24], "8", "{serial}");
        let mut other = sbom_report();
        other.image.digest = Some(crate::digest::Digest::of(b"other"));
        assert_ne!(rendered(&other)["serialNumber"], a["serialNumber"]);
    }

    #[test]
    fn licences_become_ids_expressions_or_names() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(cyclonedx_licenses(&[]), None);
        assert_eq!(
            cyclonedx_licenses(&s(&["MIT", "Zlib"])),
            Some(json!([{ "license": { "id": "MIT" } }, { "license": { "id": "Zlib" } }]))
        );
        assert_eq!(
            cyclonedx_licenses(&s(&[
                "MIT",
                "GPL-2.0-or-later WITH Classpath-exception-2.0"
            ])),
            Some(
                json!([{ "expression": "MIT AND (GPL-2.0-or-later WITH Classpath-exception-2.0)" }])
            )
        );
        assert_eq!(
            cyclonedx_licenses(&s(&["GPL"])),
            Some(json!([{ "license": { "name": "GPL" } }]))
        );
        assert_eq!(
            license_expression(&s(&["MIT", "MIT"])).as_deref(),
            Some("MIT")
        );
        assert_eq!(license_expression(&s(&["MIT", "GPL"])), None);
    }

    #[test]
    fn image_purl_needs_a_digest_and_a_name() {
        use crate::reference::ImageRef;
        let mut r = sample_report();
        r.image.image_ref = Some(ImageRef {
            registry: Some("localhost:5000".into()),
            repository: Some("Team/App".into()),
            ..ImageRef::default()
        });
        let purl = image_purl(&r).unwrap();
        assert!(purl.starts_with("pkg:oci/app@sha256%3A"), "{purl}");
        assert!(
            purl.ends_with("repository_url=localhost%3A5000%2FTeam%2FApp"),
            "{purl}"
        );
        r.image.image_ref = None;
        assert_eq!(image_purl(&r), None, "no reference of its own");
        r.image.image_ref = Some(ImageRef {
            tag: Some("1".into()),
            ..ImageRef::default()
        });
        assert_eq!(image_purl(&r), None, "a bare tag names no repository");
        let mut r = sample_report();
        r.image.digest = None;
        assert_eq!(image_purl(&r), None);
    }
}
