//! Layer records survive storage: every fixture image, scanned, its records encoded and decoded,
//! and assessed again, gives reports identical to the byte to the direct scan's. Also: a layer
//! two images share is read once.

use crate::support::fixtures;
use layerguard::report::{self, Format};
use layerguard::scan::{self, LayerRecord, ScanOptions, ScannedImage};
use layerguard::source::Source;
use std::sync::Arc;

/// Every fixture that scans, with its transport.
fn fixture_images() -> Vec<String> {
    let mut images = Vec::new();
    for entry in std::fs::read_dir(fixtures()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let transport = if name.ends_with(".oci.tar") {
            "oci-archive"
        } else if name.ends_with(".oci") {
            "oci"
        } else if name.ends_with(".tar") {
            "docker-archive"
        } else {
            continue;
        };
        images.push(format!("{transport}:{}", path.display()));
    }
    images.sort();
    images
}

fn rendered(report: &report::ScanReport) -> Vec<Vec<u8>> {
    // SPDX is left out: it must carry the time it was written.
    [
        Format::Json,
        Format::Sarif,
        Format::Junit {
            fail_on: Some(layerguard::finding::Severity::High),
        },
        Format::Table {
            colour: false,
            fail_on: Some(layerguard::finding::Severity::High),
            quiet: false,
        },
        Format::CycloneDx,
    ]
    .into_iter()
    .map(|format| {
        let mut out = Vec::new();
        report::render(report, format, &mut out).unwrap();
        out
    })
    .collect()
}

#[test]
fn reports_from_stored_records_are_identical() {
    let options = ScanOptions {
        hash_binaries: true,
        today: "2026-06-01".into(),
        ..ScanOptions::default()
    };
    let mut compared = 0;
    for image in fixture_images() {
        let source = Source::parse(&image).unwrap();
        let Ok(direct) = scan::read(&source, &image, &options) else {
            continue; // the hostile fixtures
        };
        let stored = ScannedImage {
            image: direct.image.clone(),
            layers: direct
                .layers
                .iter()
                .map(|l| {
                    let bytes = l.record.to_bytes();
                    let back = LayerRecord::from_bytes(&bytes, &l.record.key).unwrap();
                    assert_eq!(
                        &back,
                        l.record.as_ref(),
                        "{image}: record changed in storage"
                    );
                    scan::ScannedLayer {
                        blob: l.blob.clone(),
                        record: Arc::new(back),
                    }
                })
                .collect(),
        };
        let a = rendered(&scan::assess(&direct, &options));
        let b = rendered(&scan::assess(&stored, &options));
        assert!(a == b, "{image}: a report from stored records differs");
        compared += 1;
    }
    assert!(compared >= 15, "only {compared} fixtures scanned");
}

#[test]
fn a_layer_two_images_share_is_read_once() {
    let options = ScanOptions::default();
    let targets: Vec<(Source, String)> = ["clean.tar", "kitchen-sink.tar", "clean.oci"]
        .iter()
        .map(|name| {
            let image = format!("{}", fixtures().join(name).display());
            let transport = if name.ends_with(".oci") {
                "oci"
            } else {
                "docker-archive"
            };
            let image = format!("{transport}:{image}");
            (Source::parse(&image).unwrap(), image)
        })
        .collect();
    let (images, stats) = scan::read_many(&targets, &options);
    let images: Vec<ScannedImage> = images.into_iter().map(Result::unwrap).collect();
    let total: usize = images.iter().map(|i| i.layers.len()).sum();
    assert_eq!(stats.layers_read + stats.layers_shared, total);
    // The same image in two formats shares every layer; both fixtures share the base.
    assert!(
        stats.layers_shared > images[0].layers.len(),
        "{stats:?} for {total} layers"
    );
    let shared = Arc::ptr_eq(&images[0].layers[0].record, &images[2].layers[0].record);
    assert!(shared, "the docker-archive and OCI copies share one record");
    for (image, (source, name)) in images.iter().zip(&targets) {
        let alone = scan::read(source, name, &options).unwrap();
        assert_eq!(
            rendered(&scan::assess(image, &options)),
            rendered(&scan::assess(&alone, &options)),
            "{name}: reading it with others changed its report"
        );
    }
}
