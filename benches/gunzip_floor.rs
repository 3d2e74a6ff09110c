//! Decode-only floor for layerguard's gzip throughput.
//!
//! Reads each gzip blob named on the command line, decodes it with the same flate2 backend
//! layerguard uses (the crate's own `flate2` dependency, feature `zlib-rs`) and throws the
//! output away. Everything runs on this one thread, so wall time here is CPU time: the
//! figure is the most compressed MB per CPU-second a single core can get out of flate2,
//! i.e. the ceiling for layerguard's own per-core throughput.
//!
//! Two variants are timed per blob and the faster one is the floor (so it is strict):
//!   * `read`:    `flate2::read::MultiGzDecoder<File>` → `io::copy` → `io::sink()`
//!     (flate2's own 32 KiB input buffer, std's 8 KiB copy buffer)
//!   * `bufread`: `flate2::bufread::MultiGzDecoder<BufReader<File>>` with the 256 KiB input
//!     and output buffers layerguard's layer walker uses.
//!
//! A third variant, `bufread+sha256`, is for information only and never the floor: the same
//! decode plus SHA-256 of the compressed blob and of the decoded tar (what verifying the blob
//! digest and the diff_id costs, which layerguard does on its single pass). The gap between
//! it and the floor shows how much of the per-core budget digest verification takes.
//!
//! Output: one line per blob and variant, then machine-readable lines
//! `FLOOR compressed_bytes=N decoded_bytes=N seconds=S mb_per_s=X variant=V` and
//! `WITH_SHA256 ... mb_per_s=X`.
//!
//! Registered in Cargo.toml as `[[bench]] name = "gunzip_floor" harness = false`; run with
//! `cargo bench --bench gunzip_floor -- BLOB...` or via benches/run.sh.

// A benchmark program reports on the terminal; the library-wide print ban does not apply.
#![allow(clippy::disallowed_macros)]

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

const BUF: usize = 256 << 10;

fn decode_read(path: &str) -> io::Result<u64> {
    let mut dec = flate2::read::MultiGzDecoder::new(File::open(path)?);
    io::copy(&mut dec, &mut io::sink())
}

fn decode_bufread(path: &str) -> io::Result<u64> {
    let input = BufReader::with_capacity(BUF, File::open(path)?);
    let mut dec = flate2::bufread::MultiGzDecoder::new(input);
    let mut out = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        match dec.read(&mut out) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Hashes everything read through it (the compressed side of `decode_sha256`).
struct HashRead<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for HashRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

fn decode_sha256(path: &str) -> io::Result<u64> {
    let blob = HashRead {
        inner: File::open(path)?,
        hash: Sha256::new(),
    };
    let mut dec = flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(BUF, blob));
    let mut tar_hash = Sha256::new();
    let mut out = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        match dec.read(&mut out) {
            Ok(0) => break,
            Ok(n) => {
                tar_hash.update(&out[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let blob_digest = dec.into_inner().into_inner().hash.finalize();
    let diff_id = tar_hash.finalize();
    // Keep the digests observable so the hashing cannot be optimised away.
    std::hint::black_box((blob_digest, diff_id));
    Ok(total)
}

fn main() -> io::Result<()> {
    // `cargo bench` appends `--bench` to the arguments of harness = false targets; skip flags.
    let paths: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if paths.is_empty() {
        eprintln!("usage: gunzip_floor BLOB...");
        std::process::exit(2);
    }
    type Decode = fn(&str) -> io::Result<u64>;
    let variants: [(&str, Decode); 3] = [
        ("read", decode_read),
        ("bufread", decode_bufread),
        ("bufread+sha256", decode_sha256),
    ];
    let mut best: Option<(&str, u64, u64, Duration)> = None;
    for (name, decode) in variants {
        let (mut compressed, mut decoded, mut elapsed) = (0u64, 0u64, Duration::ZERO);
        for path in &paths {
            let size = std::fs::metadata(path)?.len();
            let start = Instant::now();
            let out = decode(path)?;
            let took = start.elapsed();
            println!(
                "{name:14} {path}: {size} compressed -> {out} decoded in {:.3}s ({:.1} MB/s compressed)",
                took.as_secs_f64(),
                size as f64 / 1e6 / took.as_secs_f64()
            );
            compressed += size;
            decoded += out;
            elapsed += took;
        }
        println!(
            "{name:14} total: {compressed} compressed -> {decoded} decoded in {:.3}s ({:.1} MB/s compressed)",
            elapsed.as_secs_f64(),
            compressed as f64 / 1e6 / elapsed.as_secs_f64()
        );
        if name == "bufread+sha256" {
            println!(
                "WITH_SHA256 compressed_bytes={compressed} decoded_bytes={decoded} seconds={:.4} mb_per_s={:.2}",
                elapsed.as_secs_f64(),
                compressed as f64 / 1e6 / elapsed.as_secs_f64()
            );
        } else if best.is_none_or(|(_, _, _, b)| elapsed < b) {
            best = Some((name, compressed, decoded, elapsed));
        }
    }
    let (name, compressed, decoded, elapsed) = best.expect("the floor variants ran");
    println!(
        "FLOOR compressed_bytes={compressed} decoded_bytes={decoded} seconds={:.4} mb_per_s={:.2} variant={name}",
        elapsed.as_secs_f64(),
        compressed as f64 / 1e6 / elapsed.as_secs_f64()
    );
    Ok(())
}
