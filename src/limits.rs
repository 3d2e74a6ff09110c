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
    /// Uncompressed/compressed ratio above which a layer gets a warning (default 200; most
    /// layers stay far below, zero-filled files and gzip bombs far above). Not an error: nothing
    /// decompressed is held, so a high ratio costs time, not memory; `max_layer_bytes` caps it.
    pub max_ratio: u64,
    /// Uncompressed bytes a layer must reach before its ratio counts (default 64 MiB).
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

/// How a limit is written in `[limits]`, and the least value that still lets a scan read
/// ordinary images: below it a scan fails or silently reads nothing, which no one means to ask for.
pub struct LimitKey {
    /// The key, like `max_entries`.
    pub name: &'static str,
    /// Written as a size (`"64MiB"` or bytes) rather than a count.
    pub bytes: bool,
    /// The least value accepted.
    pub min: u64,
    /// What a smaller value would do, completing "it must be at least N, …".
    pub below_min: &'static str,
    /// The field it sets.
    pub field: fn(&mut Limits) -> &mut u64,
}

/// Every limit, in the order the README lists them.
pub const LIMIT_KEYS: &[LimitKey] = &[
    LimitKey {
        name: "max_file_bytes",
        bytes: true,
        min: 1,
        below_min: "or no file is read and secrets in files go unseen",
        field: |l| &mut l.max_file_bytes,
    },
    LimitKey {
        name: "max_retained_bytes",
        bytes: true,
        min: 1,
        below_min: "or /etc/passwd and the other files image checks read are not kept",
        field: |l| &mut l.max_retained_bytes,
    },
    LimitKey {
        name: "max_database_bytes",
        bytes: true,
        min: 1,
        below_min: "or no package database is read",
        field: |l| &mut l.max_database_bytes,
    },
    LimitKey {
        name: "max_layer_bytes",
        bytes: true,
        min: 1 << 10,
        below_min: "the size of an empty layer's tar stream, or every layer fails the scan",
        field: |l| &mut l.max_layer_bytes,
    },
    LimitKey {
        name: "max_entries",
        bytes: false,
        min: 1,
        below_min: "or every layer that holds a file fails the scan",
        field: |l| &mut l.max_entries,
    },
    LimitKey {
        name: "max_ratio",
        bytes: false,
        min: 2,
        below_min: "or every compressed layer is taken for a decompression bomb",
        field: |l| &mut l.max_ratio,
    },
    LimitKey {
        name: "ratio_check_after",
        bytes: true,
        min: 0,
        below_min: "",
        field: |l| &mut l.ratio_check_after,
    },
    LimitKey {
        name: "max_json_bytes",
        bytes: true,
        min: 1 << 10,
        below_min: "or even small manifests and image configs are refused",
        field: |l| &mut l.max_json_bytes,
    },
    LimitKey {
        name: "max_binary_bytes",
        bytes: true,
        min: 0,
        below_min: "",
        field: |l| &mut l.max_binary_bytes,
    },
    LimitKey {
        name: "binary_head_bytes",
        bytes: true,
        min: 64,
        below_min: "the size of an ELF header",
        field: |l| &mut l.binary_head_bytes,
    },
];
