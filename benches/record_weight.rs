//! What layer records weigh: for each image named on the command line, scans it with the
//! default options and prints, per layer, the files it holds, its record's stored size
//! (MessagePack, as a cache would keep it), that size zstd-compressed (level 3), the time to
//! encode and decode it, and what its file table holds in memory.
//!
//! Output: one line per layer, then `RECORDS image=… layers=N files=N bytes=N zstd_bytes=N`.
//! Registered in Cargo.toml as `[[bench]] name = "record_weight" harness = false`; run with
//! `cargo bench --bench record_weight -- docker-archive:IMAGE.tar ...` or via benches/run.sh.

// A benchmark program reports on the terminal; the library-wide print ban does not apply.
#![allow(clippy::disallowed_macros)]

use layerguard::scan::{self, LayerRecord, ScanOptions};
use layerguard::source::Source;
use std::time::Instant;

fn main() {
    let options = ScanOptions::default();
    let mut failed = false;
    for image in std::env::args().skip(1) {
        let scanned = match Source::parse(&image).and_then(|s| scan::read(&s, &image, &options)) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{image}: {e}");
                failed = true;
                continue;
            }
        };
        let (mut files, mut bytes, mut packed) = (0, 0, 0);
        for (i, layer) in scanned.layers.iter().enumerate() {
            let record = &layer.record;
            let started = Instant::now();
            let stored = record.to_bytes();
            let encoded = started.elapsed();
            let started = Instant::now();
            let back = LayerRecord::from_bytes(&stored, &record.key).expect("own record decodes");
            let decoded = started.elapsed();
            assert_eq!(&back, record.as_ref());
            let zstd = zstd::bulk::compress(&stored, 3)
                .expect("zstd compresses")
                .len();
            let n = record.content.files.len();
            println!(
                "layer {i}: {n} files, record {} B ({:.1} B/file), zstd {zstd} B, encode {:.1} ms, \
                 decode {:.1} ms, file table in memory {} B",
                stored.len(),
                stored.len() as f64 / n.max(1) as f64,
                encoded.as_secs_f64() * 1e3,
                decoded.as_secs_f64() * 1e3,
                record.content.files.heap_bytes(),
            );
            files += n;
            bytes += stored.len();
            packed += zstd;
        }
        println!(
            "RECORDS image={image} layers={} files={files} bytes={bytes} zstd_bytes={packed}",
            scanned.layers.len()
        );
    }
    if failed {
        std::process::exit(2);
    }
}
