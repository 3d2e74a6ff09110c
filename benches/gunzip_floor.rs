//! Decode-only floor for layerguard's gzip throughput.
//!
//! Reads each gzip blob named on the command line, decodes it with the gzip backend this build
//! of layerguard uses (`layer::decompress::gzip_decoder`: zlib-rs through flate2 by default,
//! ISA-L with `--features isal`) and throws the output away. Everything runs on this one
//! thread, and what is timed is its CPU time (the kernel's schedstat; wall time where that is
//! missing), so the figure holds while other processes share the cores: the most compressed
//! MB per CPU-second a single core can get out of that backend, i.e. the ceiling for
//! layerguard's own per-core throughput.
//!
//! The variants timed per blob, the fastest being the floor (so it is strict):
//!   * `bufread`: the backend's decoder over a `BufReader<File>` with the 256 KiB input and
//!     output buffers layerguard's layer walker uses;
//!   * `read` (zlib-rs only): `flate2::read::MultiGzDecoder<File>` → `io::copy` → `io::sink()`
//!     (flate2's own 32 KiB input buffer, std's 8 KiB copy buffer).
//!
//! A third variant, `bufread+sha256`, is for information only and never the floor: the same
//! decode plus SHA-256 of the compressed blob and of the decoded tar (what verifying the blob
//! digest and the diff_id costs, which layerguard does on its single pass). The gap between
//! it and the floor shows how much of the per-core budget digest verification takes.
//!
//! Output: one line per blob and variant, then machine-readable lines
//! `BACKEND name=...`, `FLOOR compressed_bytes=N decoded_bytes=N seconds=S mb_per_s=X
//! variant=V` and `WITH_SHA256 ... mb_per_s=X`.
//!
//! Registered in Cargo.toml as `[[bench]] name = "gunzip_floor" harness = false`; run with
//! `cargo bench [--features isal] --bench gunzip_floor -- BLOB...` or via benches/run.sh.

// A benchmark program reports on the terminal; the library-wide print ban does not apply.
#![allow(clippy::disallowed_macros)]

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::time::{Duration, Instant};

use layerguard::layer::decompress::{GZIP_BACKEND, gzip_decoder};
use sha2::{Digest as _, Sha256};

const BUF: usize = 256 << 10;

fn decode_read(path: &str) -> io::Result<u64> {
    let mut dec = flate2::read::MultiGzDecoder::new(File::open(path)?);
    io::copy(&mut dec, &mut io::sink())
}

/// Reads `dec` to its end in layerguard's buffer size, handing each chunk to `seen`.
fn drain(mut dec: impl Read, mut seen: impl FnMut(&[u8])) -> io::Result<u64> {
    let mut out = vec![0u8; BUF];
    let mut total = 0u64;
    loop {
        match dec.read(&mut out) {
            Ok(0) => return Ok(total),
            Ok(n) => {
                seen(&out[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn decode_bufread(path: &str) -> io::Result<u64> {
    let input = BufReader::with_capacity(BUF, File::open(path)?);
    drain(gzip_decoder(input), |_| {})
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
    let mut blob = HashRead {
        inner: File::open(path)?,
        hash: Sha256::new(),
    };
    let mut tar_hash = Sha256::new();
    let total = drain(
        gzip_decoder(BufReader::with_capacity(BUF, &mut blob)),
        |chunk| tar_hash.update(chunk),
    )?;
    let blob_digest = blob.hash.finalize();
    let diff_id = tar_hash.finalize();
    // Keep the digests observable so the hashing cannot be optimised away.
    std::hint::black_box((blob_digest, diff_id));
    Ok(total)
}

/// The CPU time this thread has run so far, if the kernel reports it.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Times one decode: this thread's CPU time, else wall time.
struct Clock {
    cpu: Option<Duration>,
    wall: Instant,
}

impl Clock {
    fn start() -> Self {
        Clock {
            cpu: thread_cpu(),
            wall: Instant::now(),
        }
    }

    fn elapsed(&self) -> Duration {
        match (self.cpu, thread_cpu()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => self.wall.elapsed(),
        }
    }
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
    let mut variants: Vec<(&str, Decode)> = vec![("bufread", decode_bufread)];
    // flate2's own `read` decoder is zlib-rs whatever this build's backend is: a floor only
    // for the zlib-rs build.
    if !cfg!(feature = "isal") {
        variants.push(("read", decode_read));
    }
    variants.push(("bufread+sha256", decode_sha256));
    println!("BACKEND name={}", GZIP_BACKEND.replace(' ', "-"));
    let mut best: Option<(&str, u64, u64, Duration)> = None;
    for (name, decode) in variants {
        let (mut compressed, mut decoded, mut elapsed) = (0u64, 0u64, Duration::ZERO);
        for path in &paths {
            let size = std::fs::metadata(path)?.len();
            let start = Clock::start();
            let out = decode(path)?;
            let took = start.elapsed();
            println!(
                "{name:14} {path}: {size} compressed -> {out} decoded in {:.3} CPU-s ({:.1} MB/s compressed)",
                took.as_secs_f64(),
                size as f64 / 1e6 / took.as_secs_f64()
            );
            compressed += size;
            decoded += out;
            elapsed += took;
        }
        println!(
            "{name:14} total: {compressed} compressed -> {decoded} decoded in {:.3} CPU-s ({:.1} MB/s compressed)",
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
