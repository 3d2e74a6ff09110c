//! Layer records survive storage: every fixture image, scanned, its records encoded and decoded,
//! and assessed again, gives reports identical to the byte to the direct scan's. Also: a layer
//! two images share is read once, and a batch read again through a cache reads none.

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

#[test]
fn a_batch_read_again_through_a_cache_reads_no_layer() {
    let dir = tempfile::tempdir().unwrap();
    let cache = layerguard::cache::open(Some(dir.path()), None, u64::MAX)
        .unwrap()
        .expect("a directory was given");
    let options = ScanOptions {
        cache: Some(cache.clone()),
        ..ScanOptions::default()
    };
    let targets: Vec<(Source, String)> = ["clean.oci", "kitchen-sink.oci", "kitchen-sink.zstd.oci"]
        .iter()
        .map(|name| {
            let image = format!("oci:{}", fixtures().join(name).display());
            (Source::parse(&image).unwrap(), image)
        })
        .collect();
    let (cold, cold_stats) = scan::read_many(&targets, &options);
    let (warm, warm_stats) = scan::read_many(&targets, &options);
    let unique = cold_stats.layers_read;
    assert_eq!(cold_stats.cache_hits, 0);
    assert_eq!(
        (warm_stats.layers_read, warm_stats.cache_hits),
        (0, unique),
        "{warm_stats:?}"
    );
    assert_eq!(warm_stats.layers_shared, cold_stats.layers_shared);
    let stats = cache.stats();
    assert_eq!((stats.local_writes, stats.local_hits), (unique, unique));
    assert!(cache.take_warnings().is_empty());
    for ((cold, warm), (_, name)) in cold.into_iter().zip(warm).zip(&targets) {
        let (cold, warm) = (cold.unwrap(), warm.unwrap());
        assert_eq!(
            rendered(&scan::assess(&cold, &options)),
            rendered(&scan::assess(&warm, &options)),
            "{name}: a report from cached records differs"
        );
    }
}
