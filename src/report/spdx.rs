//! SPDX 2.3 JSON. The image is the described package (purpose `CONTAINER`); the OS, every
//! package and every ELF binary are packages too. Binaries are packages with
//! `filesAnalyzed: false` rather than SPDX files, because SPDX 2.3 requires a SHA-1 checksum for
//! every file and the scan does not hash file contents.
//!
//! Relationships: the document `DESCRIBES` the image; the image `CONTAINS` everything; the OS
//! `CONTAINS` its packages; a binary `DEPENDS_ON` the shared libraries it loads and `CONTAINS`
//! the Go modules or Rust crates built into it; the package that owns a binary `CONTAINS` it.
//!
//! Everything is deterministic except `creationInfo.created`, which SPDX requires: the time of
//! writing, to the second.

use super::ScanReport;
use super::cyclonedx::{Graph, image_identity, image_purl, is_license_id, license_expression};
use crate::inventory::{Binary, Package};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::io::{self, Write};

const NOASSERTION: &str = "NOASSERTION";
const IMAGE_ID: &str = "SPDXRef-Image";
const OS_ID: &str = "SPDXRef-OperatingSystem";

/// Writes `report` as an SPDX 2.3 JSON document created now.
pub fn render(report: &ScanReport, out: &mut dyn Write) -> io::Result<()> {
    let created = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    serde_json::to_writer_pretty(&mut *out, &document(report, &created))?;
    out.write_all(b"\n")
}

/// The document as a JSON value, with `created` as its creation time.
pub(super) fn document(report: &ScanReport, created: &str) -> Value {
    let inv = &report.inventory;
    let graph = Graph::new(report);
    let package_ids: Vec<String> = inv
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| format!("SPDXRef-Package-{}-{i}", sanitise(&p.record.name)))
        .collect();
    let binary_ids: Vec<String> = inv
        .binaries
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let name = b.path.rsplit('/').next().unwrap_or(&b.path);
            format!("SPDXRef-Binary-{}-{i}", sanitise(name))
        })
        .collect();

    let mut packages = vec![image_package(report)];
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", IMAGE_ID)];
    if let Some(os) = &inv.os {
        let mut p = json!({
            "SPDXID": OS_ID,
            "name": os.id,
            "downloadLocation": NOASSERTION,
            "filesAnalyzed": false,
            "primaryPackagePurpose": "OPERATING_SYSTEM",
        });
        if let Some(v) = &os.version_id {
            p["versionInfo"] = json!(v);
        }
        if let Some(d) = &os.pretty_name {
            p["description"] = json!(d);
        }
        packages.push(p);
        relationships.push(relationship(IMAGE_ID, "CONTAINS", OS_ID));
    }
    for (i, p) in inv.packages.iter().enumerate() {
        packages.push(package(p, &package_ids[i]));
        let parent = if graph.is_os_package(i) {
            OS_ID
        } else {
            IMAGE_ID
        };
        relationships.push(relationship(parent, "CONTAINS", &package_ids[i]));
    }
    for (i, b) in inv.binaries.iter().enumerate() {
        packages.push(binary(b, &binary_ids[i]));
        relationships.push(relationship(IMAGE_ID, "CONTAINS", &binary_ids[i]));
    }
    for i in 0..inv.binaries.len() {
        for l in graph.libraries(i) {
            relationships.push(relationship(&binary_ids[i], "DEPENDS_ON", &binary_ids[l]));
        }
        for p in graph.owners(i) {
            relationships.push(relationship(&package_ids[p], "CONTAINS", &binary_ids[i]));
        }
        for p in graph.modules(i) {
            relationships.push(relationship(&binary_ids[i], "CONTAINS", &package_ids[p]));
        }
    }

    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": report.image.reference,
        "documentNamespace": namespace(report),
        "creationInfo": {
            "created": created,
            "creators": [format!("Tool: {}-{}", report.tool.name, report.tool.version)],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

/// `https://layerguard.dev/spdx/<hex>`: the image digest, else a hash of what identifies it.
fn namespace(report: &ScanReport) -> String {
    let image = &report.image;
    let hex = match image.digest.as_ref().or(image.config_digest.as_ref()) {
        Some(d) => d.hex(),
        None => hex::encode(Sha256::digest(image_identity(report).as_bytes())),
    };
    format!("https://layerguard.dev/spdx/{hex}")
}

fn image_package(report: &ScanReport) -> Value {
    let image = &report.image;
    let mut p = json!({
        "SPDXID": IMAGE_ID,
        "name": image.reference,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "primaryPackagePurpose": "CONTAINER",
    });
    if let Some(d) = image.digest.as_ref().or(image.config_digest.as_ref()) {
        p["versionInfo"] = json!(d.to_string());
    }
    if let Some(purl) = image_purl(report) {
        p["externalRefs"] = json!([purl_ref(&purl)]);
    }
    let mut comment = format!("source: {}", image.source);
    if !image.platform.is_empty() {
        comment.push_str(&format!("; platform: {}", image.platform));
    }
    if let Some(d) = &image.config_digest {
        comment.push_str(&format!("; config digest: {d}"));
    }
    p["comment"] = json!(comment);
    p
}

fn package(p: &Package, id: &str) -> Value {
    let r = &p.record;
    let declared = license_expression(&r.licenses).unwrap_or_else(|| NOASSERTION.to_owned());
    let mut out = json!({
        "SPDXID": id,
        "name": r.full_name(),
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": declared,
        "copyrightText": NOASSERTION,
        "externalRefs": std::iter::once(purl_ref(&p.purl))
            .chain(r.cpes.iter().map(|c| cpe_ref(c)))
            .collect::<Vec<_>>(),
        "primaryPackagePurpose": "LIBRARY",
    });
    if !r.version.is_empty() {
        out["versionInfo"] = json!(r.version);
    }
    if let Some(s) = &r.source {
        out["sourceInfo"] = json!(format!("built from source package {s}"));
    }
    let mut comment: Vec<String> = p
        .locations
        .iter()
        .map(|l| format!("listed in {} (layer {})", l.path, l.layer))
        .collect();
    let unparsed: Vec<&str> = r
        .licenses
        .iter()
        .filter(|l| !is_license_id(l) && spdx::Expression::parse(l).is_err())
        .map(String::as_str)
        .collect();
    if !unparsed.is_empty() {
        comment.push(format!("licences as recorded: {}", r.licenses.join("; ")));
    }
    out["comment"] = json!(comment.join("; "));
    out
}

fn binary(b: &Binary, id: &str) -> Value {
    let h = &b.hardening;
    let relro = serde_json::to_value(h.relro)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut comment = format!(
        "ELF {} {} in layer {}; pie={} relro={} nx={} canary={} fortify={} static={} stripped={}",
        b.elf_type,
        b.machine,
        b.layer,
        h.pie,
        relro,
        h.nx,
        h.canary,
        h.fortify,
        b.is_static,
        b.stripped
    );
    if let Some(go) = &b.go {
        comment.push_str(&format!("; Go {}", go.go_version));
    }
    let mut p = json!({
        "SPDXID": id,
        "name": b.path,
        "packageFileName": b.path,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": false,
        "primaryPackagePurpose": if b.is_executable() { "APPLICATION" } else { "LIBRARY" },
        "comment": comment,
    });
    if let Some(s) = &b.soname {
        p["summary"] = json!(format!("soname {s}"));
    }
    if let Some(sha) = &b.sha256 {
        p["checksums"] = json!([{ "algorithm": "SHA256", "checksumValue": sha }]);
    }
    p
}

fn purl_ref(purl: &str) -> Value {
    json!({
        "referenceCategory": "PACKAGE-MANAGER",
        "referenceType": "purl",
        "referenceLocator": purl,
    })
}

fn cpe_ref(cpe: &str) -> Value {
    json!({
        "referenceCategory": "SECURITY",
        "referenceType": "cpe23Type",
        "referenceLocator": cpe,
    })
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({
        "spdxElementId": from,
        "relationshipType": kind,
        "relatedSpdxElement": to,
    })
}

/// Keeps the characters an SPDX id allows (`[A-Za-z0-9.-]`), replacing the rest with `-`.
fn sanitise(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if out.is_empty() { "x".to_owned() } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::cyclonedx::tests::{sbom_report, validator};
    use crate::report::table::tests::sample_report;
    use std::collections::BTreeSet;

    const CREATED: &str = "2024-01-02T03:04:05Z";

    fn spdx_validator() -> jsonschema::Validator {
        validator("spdx-schema-v2.3.json", &[])
    }

    #[test]
    fn output_is_valid_against_the_official_spdx_schema() {
        let v = spdx_validator();
        let mut bare = sample_report();
        bare.image.digest = None;
        bare.image.config_digest = None;
        for report in [sbom_report(), sample_report(), bare] {
            let doc = document(&report, CREATED);
            let e: Vec<String> = v
                .iter_errors(&doc)
                .map(|e| format!("{} at {}", e, e.instance_path))
                .collect();
            assert!(e.is_empty(), "{e:#?}\n{doc:#}");
        }
        let mut broken = document(&sbom_report(), CREATED);
        broken["packages"][1]["primaryPackagePurpose"] = json!("GADGET");
        assert!(!v.is_valid(&broken));

        // What render writes parses and validates too, with a real timestamp.
        let mut out = Vec::new();
        render(&sbom_report(), &mut out).unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert!(v.is_valid(&doc));
        let created = doc["creationInfo"]["created"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(created).is_ok(),
            "{created}"
        );
    }

    #[test]
    fn document_describes_the_image_and_relates_everything() {
        let report = sbom_report();
        let doc = document(&report, CREATED);
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert_eq!(
            doc["documentNamespace"],
            format!(
                "https://layerguard.dev/spdx/{}",
                report.image.digest.as_ref().unwrap().hex()
            )
        );
        let packages = doc["packages"].as_array().unwrap();
        assert_eq!(packages.len(), 1 + 1 + 4 + 4);
        let ids: BTreeSet<&str> = packages
            .iter()
            .map(|p| p["SPDXID"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), packages.len(), "SPDX ids are unique");
        for id in &ids {
            let rest = id.strip_prefix("SPDXRef-").unwrap();
            assert!(
                rest.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'),
                "{id}"
            );
        }
        let by_name = |n: &str| packages.iter().find(|p| p["name"] == n).unwrap();
        assert_eq!(
            by_name("registry.example/app:1.2")["primaryPackagePurpose"],
            "CONTAINER"
        );
        assert_eq!(
            by_name("debian")["primaryPackagePurpose"],
            "OPERATING_SYSTEM"
        );
        let openssl = by_name("openssl");
        assert_eq!(openssl["licenseDeclared"], "Apache-2.0");
        assert_eq!(
            openssl["externalRefs"][0]["referenceLocator"],
            "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
        );
        assert_eq!(by_name("golang.org/x/text")["licenseDeclared"], NOASSERTION);
        assert_eq!(
            by_name("/usr/bin/openssl")["primaryPackagePurpose"],
            "APPLICATION"
        );

        let rels: Vec<(String, String, String)> = doc["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let s = |k: &str| r[k].as_str().unwrap().to_owned();
                (
                    s("spdxElementId"),
                    s("relationshipType"),
                    s("relatedSpdxElement"),
                )
            })
            .collect();
        for (from, _, to) in &rels {
            assert!(
                from == "SPDXRef-DOCUMENT" || ids.contains(from.as_str()),
                "{from}"
            );
            assert!(ids.contains(to.as_str()), "{to}");
        }
        let id = |n: &str| by_name(n)["SPDXID"].as_str().unwrap().to_owned();
        let has = |a: String, k: &str, b: String| {
            assert!(
                rels.contains(&(a.clone(), k.to_owned(), b.clone())),
                "{a} {k} {b}"
            )
        };
        has("SPDXRef-DOCUMENT".into(), "DESCRIBES", IMAGE_ID.into());
        has(OS_ID.into(), "CONTAINS", id("openssl"));
        has(IMAGE_ID.into(), "CONTAINS", id("requests"));
        has(
            id("/usr/bin/openssl"),
            "DEPENDS_ON",
            id("/usr/lib/x86_64-linux-gnu/libssl.so.3"),
        );
        has(
            id("/usr/bin/openssl"),
            "DEPENDS_ON",
            id("/lib/x86_64-linux-gnu/libc.so.6"),
        );
        has(id("openssl"), "CONTAINS", id("/usr/bin/openssl"));
        has(
            id("/usr/local/bin/tool"),
            "CONTAINS",
            id("golang.org/x/text"),
        );
    }

    #[test]
    fn only_the_creation_time_varies() {
        assert_eq!(
            document(&sbom_report(), CREATED),
            document(&sbom_report(), CREATED)
        );
        assert_eq!(sanitise("lib++/x_y"), "lib---x-y");
    }
}
