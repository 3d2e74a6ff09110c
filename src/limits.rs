//! Safety limits. Every scan reads untrusted input, so each quantity that could grow without bound
//! has a cap with a documented default. A limit that is hit is an error naming the layer, never a
//! silently shorter report.

use serde::{Deserialize, Serialize};

/// Caps enforced while reading layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Most bytes of one file read into memory for rules that asked for its contents
    /// (default 1 MiB). Longer files are read up to this and marked truncated.
    pub max_file_bytes: u64,
    /// Most bytes kept per retained file such as `/etc/passwd` (default 4 MiB).
    pub max_retained_bytes: u64,
    /// Most bytes of one package database (dpkg `status`, apk `installed`) read into memory
    /// (default 32 MiB). Real databases reach a few MiB, well over `max_file_bytes`; a larger one
    /// is left out of the inventory with a warning rather than parsed half-read.
    pub max_database_bytes: u64,
    /// Most uncompressed bytes in one layer (default 64 GiB).
    pub max_layer_bytes: u64,
    /// Most tar entries in one layer (default 2,000,000).
    pub max_entries: u64,
    /// Highest uncompressed/compressed ratio tolerated once a layer has produced
    /// `ratio_check_after` bytes (default 200; real layers stay far below, gzip bombs exceed 1000).
    pub max_ratio: u64,
    /// Uncompressed bytes after which the ratio is checked (default 64 MiB).
    pub ratio_check_after: u64,
    /// Most bytes of a JSON document (manifest, index, config) read into memory (default 8 MiB).
    pub max_json_bytes: u64,
    /// ELF files up to this size are kept in memory whole while the binary cataloger reads them
    /// (default 8 MiB), so every table and section is available to the parser. Larger files are
    /// read as a stream that keeps only the regions the ELF headers point at.
    pub max_binary_bytes: u64,
    /// Leading bytes of a larger ELF file kept for its headers, program headers and interpreter
    /// (default 2 MiB). A `.dynstr` that runs past them (libLLVM, cc1, Go programs) is not kept
    /// whole: of the bytes before the dynamic table, only strings that can be library names,
    /// search paths or hardening symbols are, 256 KiB at most per file.
    pub binary_head_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 1 << 20,
            max_retained_bytes: 4 << 20,
            max_database_bytes: 32 << 20,
            max_layer_bytes: 64 << 30,
            max_entries: 2_000_000,
            max_ratio: 200,
            ratio_check_after: 64 << 20,
            max_json_bytes: 8 << 20,
            max_binary_bytes: 8 << 20,
            binary_head_bytes: 2 << 20,
        }
    }
}
