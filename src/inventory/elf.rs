//! ELF executables and shared libraries: what they link against, how they were hardened, and
//! for Go and Rust programs, which modules and crates they were built from.
//!
//! The walker hands this cataloger each candidate file as a stream, once. Memory stays bounded
//! whatever the file size:
//!
//! * a file up to [`Limits::max_binary_bytes`] is kept whole, so every table is available;
//! * a larger one keeps its first [`Limits::binary_head_bytes`] (the ELF header, program headers,
//!   `.interp`), plus the regions the program headers point at further on (`PT_DYNAMIC`,
//!   `PT_INTERP`, `PT_NOTE`), the section header table and the last MiB (where linkers put
//!   `.shstrtab`), each capped;
//! * `.dynstr` usually lies before the dynamic table that says where it is, and in large files
//!   (libLLVM, cc1, Go programs) it is megabytes long and ends beyond the head. So while the bytes
//!   before `PT_DYNAMIC` pass, a [`StringRecord`] keeps, by file offset, only the strings that
//!   can be a library name, a search path or a hardening symbol, up to [`RECORD_CAP`]; the
//!   dynamic table's entries are resolved against it once the stream is done. A string the
//!   record did not keep is a warning, never a second read;
//! * every byte passes two substring searches on the way: the Go buildinfo magic
//!   ([`go_buildinfo`]) and Rust registry paths ([`rust_deps`]), with an overlap carried across
//!   chunk boundaries so no match is lost.
//!
//! Offsets and sizes come from an untrusted file: every one is bounds-checked against what was
//! captured, and no allocation is sized by a value read from the file.

use super::binary::{Binary, ElfType, Hardening, Relro, RustCrate, RustDeps, RustSource};
use super::{
    CatalogError, Cataloger, LayerInventory, go_buildinfo, is_file, package_note, rust_deps,
};
use crate::event::FileMeta;
use crate::limits::Limits;
use goblin::container::Ctx;
use goblin::elf::program_header::{
    PT_DYNAMIC, PT_GNU_RELRO, PT_GNU_STACK, PT_INTERP, PT_LOAD, PT_NOTE,
};
use goblin::elf::section_header::SHT_SYMTAB;
use goblin::elf::{Elf, ProgramHeader, SectionHeader, dynamic as dt, header};
use memchr::memmem;
use std::io::{self, Read};

/// Reads ELF files into [`Binary`] records and Go/Rust package records.
pub struct ElfCataloger;

/// Most bytes kept of one region beyond the head (dynamic table, section headers, tail).
const REGION_CAP: u64 = 1 << 20;
/// Most bytes a [`StringRecord`] keeps for one file, its index included. What it keeps up to the
/// end of `.dynstr` takes under 20 KiB in libLLVM, cc1, dockerd and Go's `go`; dockerd's
/// `.rodata` after the table holds more than the cap, but the record keeps the first strings,
/// so only a file built to exhaust it loses names (with a warning).
const RECORD_CAP: usize = 256 << 10;
/// Longest string a [`StringRecord`] keeps: a `RUNPATH` of many store paths (Nix, Guix) runs to
/// a few KiB, and longer runs of text are `.rodata`, not names.
const MAX_RECORDED_STRING: usize = 16 << 10;
/// Bytes kept from the end of a large file.
const TAIL_BYTES: u64 = 1 << 20;
/// Bytes kept from a Go buildinfo magic onwards: the blob and its inline strings.
const GO_WINDOW: u64 = 256 << 10;
/// Aligned magic matches kept per file (a Go tool that embeds the magic as a constant has more
/// than one; the first that parses wins).
const MAX_GO_CANDIDATES: usize = 4;
/// Bytes read at a time.
const CHUNK: usize = 64 << 10;
/// Bytes carried from one chunk to the next for the substring searches.
const CARRY: usize = rust_deps::PATH_WINDOW + 16;

impl Cataloger for ElfCataloger {
    fn name(&self) -> &'static str {
        "elf"
    }

    fn wants(&self, _file: &FileMeta) -> bool {
        false
    }

    fn catalog(&self, _: &str, _: &[u8], _: &mut LayerInventory) -> Result<(), String> {
        Ok(())
    }

    /// Executables (any x bit) and shared objects (`.so` in the name); not archives or scripts a
    /// later streaming cataloger wants, whatever their mode.
    fn streams(&self, file: &FileMeta) -> bool {
        if !is_file(file) || file.size < 64 {
            return false;
        }
        let name = file.file_name();
        const NOT_ELF: &[&str] = &[
            ".jar", ".war", ".ear", ".zip", ".whl", ".egg", ".tar", ".gz", ".py", ".sh", ".js",
            ".pl", ".rb", ".txt",
        ];
        if NOT_ELF.iter().any(|ext| name.ends_with(ext)) {
            return false;
        }
        file.mode & 0o111 != 0 || name.contains(".so")
    }

    fn catalog_stream(
        &self,
        file: &FileMeta,
        reader: &mut dyn Read,
        limits: &Limits,
        out: &mut LayerInventory,
    ) -> Result<(), CatalogError> {
        let Some(found) = read(file.size, file.file_name(), reader, limits)? else {
            return Ok(());
        };
        let Found {
            binary,
            packages,
            warnings,
        } = found;
        if !packages.is_empty() {
            out.databases.insert(file.path.clone(), packages);
        }
        out.binaries.insert(file.path.clone(), binary);
        if warnings.is_empty() {
            Ok(())
        } else {
            Err(CatalogError::Parse(warnings.join("; ")))
        }
    }
}

/// What one ELF file yields.
pub struct Found {
    /// The binary record.
    pub binary: Binary,
    /// Go modules and Rust crates as package records.
    pub packages: Vec<super::PackageRecord>,
    /// Problems that left part of the record empty.
    pub warnings: Vec<String>,
}

/// A byte range of the file being kept as the stream passes it.
struct Capture {
    offset: u64,
    want: u64,
    /// Grows as bytes arrive, never sized from `want` up front.
    data: Vec<u8>,
}

impl Capture {
    fn new(offset: u64, want: u64) -> Self {
        Capture {
            offset,
            want,
            data: Vec::new(),
        }
    }

    fn complete(&self) -> bool {
        self.data.len() as u64 >= self.want
    }

    /// Copies what this capture still needs from `bytes`, which start at file offset `at`.
    fn feed(&mut self, at: u64, bytes: &[u8]) {
        if self.complete() {
            return;
        }
        let next = self.offset + self.data.len() as u64;
        let end = at + bytes.len() as u64;
        if at > next || end <= next {
            return;
        }
        let from = (next - at) as usize;
        let room = (self.want - self.data.len() as u64).min((bytes.len() - from) as u64) as usize;
        self.data.extend_from_slice(&bytes[from..from + room]);
    }
}

/// The captured parts of a file, addressed by file offset.
struct View<'a> {
    regions: Vec<(u64, &'a [u8])>,
}

impl<'a> View<'a> {
    /// `len` bytes at `offset`, when one captured region holds them all.
    fn get(&self, offset: u64, len: u64) -> Option<&'a [u8]> {
        let end = offset.checked_add(len)?;
        self.regions.iter().find_map(|&(at, data)| {
            let data_end = at + data.len() as u64;
            (at <= offset && end <= data_end)
                .then(|| &data[(offset - at) as usize..(end - at) as usize])
        })
    }
}

/// One string kept by a [`StringRecord`].
struct RecordedString {
    /// File offset of its first byte.
    offset: u64,
    /// Its bytes in [`StringRecord::bytes`], without the NUL.
    start: u32,
    len: u32,
}

/// Index bytes counted against [`RECORD_CAP`] per recorded string.
const RECORDED_STRING_COST: usize = std::mem::size_of::<RecordedString>();

/// The NUL-terminated strings, among the bytes before the dynamic table, that a `DT_NEEDED`,
/// `DT_SONAME`, `DT_RPATH` or `DT_RUNPATH` entry or the hardening checks could want, keyed by
/// file offset. The stream passes `.dynstr` before anything says where it is; keeping these few
/// instead of the whole table is what bounds the memory of a file with a 6 MiB `.dynstr`.
///
/// Strings are found by what can begin them (`/`, `$` or `_` after a NUL) or by a `.so` inside
/// them, not by splitting the bytes at every NUL: machine code is dense with NULs, and looking at
/// each run between them costs more than everything else the stream does.
struct StringRecord {
    /// File offset where recording stops: the dynamic table itself.
    end: u64,
    /// File offset of the next byte expected.
    next: u64,
    /// The unfinished string left at the end of the bytes read so far (when it can still be
    /// kept), followed by the piece being read.
    window: Vec<u8>,
    /// File offset of `window[0]`.
    window_at: u64,
    /// `window[0]` begins a string: it follows a NUL or is the file's first byte.
    window_begins: bool,
    /// The kept strings, in file order, their bytes in `bytes`.
    strings: Vec<RecordedString>,
    bytes: Vec<u8>,
    /// A string was dropped because [`RECORD_CAP`] was reached; nothing is recorded after it.
    full: bool,
}

impl StringRecord {
    fn new(end: u64) -> Self {
        StringRecord {
            end,
            next: 0,
            window: Vec::with_capacity(MAX_RECORDED_STRING + CHUNK),
            window_at: 0,
            window_begins: true,
            strings: Vec::new(),
            bytes: Vec::new(),
            full: false,
        }
    }

    /// Reads `bytes`, which start at file offset `at`: the parts already read or at or beyond
    /// [`Self::end`] are ignored, and a gap (which the stream never leaves) stops recording.
    fn feed(&mut self, at: u64, bytes: &[u8]) {
        let stop = self.end.min(at.saturating_add(bytes.len() as u64));
        if self.full || at > self.next || stop <= self.next {
            return;
        }
        let fresh = &bytes[(self.next - at) as usize..(stop - at) as usize];
        self.next = stop;
        for piece in fresh.chunks(CHUNK) {
            self.window.extend_from_slice(piece);
            self.record_window();
            if self.full {
                self.window = Vec::new();
                return;
            }
            self.keep_unfinished();
        }
    }

    /// Keeps the strings that begin and end in the window.
    fn record_window(&mut self) {
        let window = std::mem::take(&mut self.window);
        let first_begins = self.window_begins;
        let mut anchored = memchr::memchr3_iter(b'/', b'$', b'_', &window)
            .filter(|&p| {
                if p == 0 {
                    first_begins
                } else {
                    window[p - 1] == 0
                }
            })
            .peekable();
        let mut dotted = so_string_begins(&window, first_begins).peekable();
        let mut last = None;
        loop {
            let begin = match (anchored.peek(), dotted.peek()) {
                (Some(a), Some(d)) if a <= d => anchored.next(),
                (_, Some(_)) => dotted.next(),
                (Some(_), None) => anchored.next(),
                (None, None) => break,
            };
            let Some(begin) = begin.filter(|&b| last != Some(b)) else {
                continue;
            };
            last = Some(begin);
            // A string without its NUL here is either too long or unfinished; an unfinished one
            // is looked at again with the next piece.
            let limit = (begin + MAX_RECORDED_STRING + 1).min(window.len());
            if let Some(len) = memchr::memchr(0, &window[begin..limit]) {
                self.consider(self.window_at + begin as u64, &window[begin..begin + len]);
                if self.full {
                    break;
                }
            }
        }
        drop((anchored, dotted));
        self.window = window;
    }

    /// Drops the window but for the unfinished string at its end, when it can still be kept.
    fn keep_unfinished(&mut self) {
        let mut keep_from = match memchr::memrchr(0, &self.window) {
            Some(nul) => {
                self.window_begins = true;
                nul + 1
            }
            None if self.window_begins => 0,
            None => self.window.len(),
        };
        if self.window.len() - keep_from > MAX_RECORDED_STRING {
            keep_from = self.window.len();
            self.window_begins = false;
        }
        self.window.drain(..keep_from);
        self.window_at += keep_from as u64;
    }

    fn consider(&mut self, offset: u64, string: &[u8]) {
        if self.full || !may_be_dynamic_string(string) {
            return;
        }
        // What is allocated counts against the cap, not only what is used.
        let fits = reserve_within(
            &mut self.strings,
            1,
            RECORD_CAP.saturating_sub(self.bytes.capacity()) / RECORDED_STRING_COST,
        ) && reserve_within(
            &mut self.bytes,
            string.len(),
            RECORD_CAP.saturating_sub(self.strings.capacity() * RECORDED_STRING_COST),
        );
        if !fits {
            self.full = true;
            return;
        }
        self.strings.push(RecordedString {
            offset,
            start: self.bytes.len() as u32,
            len: string.len() as u32,
        });
        self.bytes.extend_from_slice(string);
    }

    /// The string at file `offset`, which may be the tail of a kept string (linkers merge a
    /// name into a longer one that ends with it) or its terminating NUL (an empty string).
    fn string_at(&self, offset: u64) -> Option<&[u8]> {
        let i = self
            .strings
            .partition_point(|s| s.offset <= offset)
            .checked_sub(1)?;
        let s = &self.strings[i];
        let skip = usize::try_from(offset - s.offset).ok()?;
        let len = s.len as usize;
        (skip <= len).then(|| &self.bytes[s.start as usize + skip..s.start as usize + len])
    }

    /// The kept strings that start in `[from, to)`.
    fn strings_in(&self, from: u64, to: u64) -> impl Iterator<Item = &[u8]> {
        let first = self.strings.partition_point(|s| s.offset < from);
        self.strings[first..]
            .iter()
            .take_while(move |s| s.offset < to)
            .map(|s| &self.bytes[s.start as usize..(s.start + s.len) as usize])
    }

    /// Bytes held, the index and the window included.
    #[cfg(test)]
    fn weight(&self) -> usize {
        self.bytes.capacity()
            + self.strings.capacity() * RECORDED_STRING_COST
            + self.window.capacity()
    }
}

/// Where the strings holding a `.so` begin, in order, once per `.so` (the caller drops
/// repeats). Each backward search for a string's NUL stops at the previous `.so`, so the whole
/// window is searched once however many there are. `first_begins` says whether `window[0]`
/// begins a string.
fn so_string_begins(window: &[u8], first_begins: bool) -> impl Iterator<Item = usize> + '_ {
    let mut searched_from = 0;
    let mut begin = first_begins.then_some(0);
    memmem::find_iter(window, b".so").filter_map(move |dot| {
        if let Some(nul) = memchr::memrchr(0, &window[searched_from..dot]) {
            begin = Some(searched_from + nul + 1);
        }
        searched_from = dot;
        begin
    })
}

/// Makes room in `v` for `additional` more items, doubling as usual but never past a capacity
/// of `most`. False when that is not enough.
fn reserve_within<T>(v: &mut Vec<T>, additional: usize, most: usize) -> bool {
    let needed = v.len() + additional;
    if needed > v.capacity() {
        if needed > most {
            return false;
        }
        let want = (v.capacity() * 2).max(needed).max(64).min(most);
        v.reserve_exact(want - v.len());
    }
    true
}

/// Whether a string can be what a [`StringRecord`] keeps: a library name, a search path (`/…`,
/// `$ORIGIN/…`, `${LIB}`), or a symbol the hardening checks look for. A relative search path
/// such as `lib` looks like any symbol name and is left out.
fn may_be_dynamic_string(string: &[u8]) -> bool {
    let Some(&first) = string.first() else {
        return false;
    };
    let shaped = first == b'/'
        || first == b'$'
        || hardening_symbol(string).is_some()
        || memchr::memchr_iter(b'.', string).any(|dot| string[dot + 1..].starts_with(b"so"));
    shaped && string.len() <= MAX_RECORDED_STRING && string.iter().all(|&b| b >= 0x20 && b != 0x7f)
}

/// Streaming state: captures and substring searches.
struct Reading {
    size: u64,
    pos: u64,
    captures: Vec<Capture>,
    go: Vec<usize>,
    /// The last bytes of the previous chunk followed by the current one.
    scan: Vec<u8>,
    rust: rust_deps::PanicPaths,
    /// File offset after the last registry path recorded, so a carried match counts once.
    rust_done: u64,
    go_finder: memmem::Finder<'static>,
    rust_finder: memmem::Finder<'static>,
    /// Strings kept from the bytes before a dynamic table that lies beyond the head.
    record: Option<StringRecord>,
}

impl Reading {
    /// Reading a file of `size` bytes whose first `head_len` are kept.
    fn new(size: u64, head_len: u64) -> Self {
        Reading {
            size,
            pos: 0,
            captures: vec![Capture::new(0, head_len)],
            go: Vec::new(),
            scan: Vec::with_capacity(CHUNK + CARRY),
            rust: rust_deps::PanicPaths::default(),
            rust_done: 0,
            go_finder: memmem::Finder::new(go_buildinfo::MAGIC),
            rust_finder: memmem::Finder::new(rust_deps::REGISTRY_NEEDLE),
            record: None,
        }
    }

    fn process(&mut self, chunk: &[u8]) {
        let at = self.pos;
        for c in &mut self.captures {
            c.feed(at, chunk);
        }
        if let Some(record) = &mut self.record {
            record.feed(at, chunk);
        }
        self.pos += chunk.len() as u64;
        let carried = self.scan.len().min(CARRY);
        self.scan.drain(..self.scan.len() - carried);
        self.scan.extend_from_slice(chunk);
        self.search(carried, false);
    }

    /// File offset of `scan[0]`.
    fn scan_at(&self) -> u64 {
        self.pos - self.scan.len() as u64
    }

    fn search(&mut self, carried: usize, eof: bool) {
        let scan_at = self.scan_at();
        let magic_len = go_buildinfo::MAGIC.len();
        let hits: Vec<usize> = self.go_finder.find_iter(&self.scan).collect();
        for s in hits {
            // A match wholly inside the carried bytes was handled with the previous chunk.
            if s + magic_len <= carried || eof {
                continue;
            }
            let offset = scan_at + s as u64;
            if offset % go_buildinfo::ALIGN != 0 || self.go.len() >= MAX_GO_CANDIDATES {
                continue;
            }
            let mut c = Capture::new(offset, GO_WINDOW.min(self.size.saturating_sub(offset)));
            c.feed(scan_at, &self.scan);
            self.go.push(self.captures.len());
            self.captures.push(c);
        }
        let needle = rust_deps::REGISTRY_NEEDLE.len();
        for s in self.rust_finder.find_iter(&self.scan) {
            let offset = scan_at + s as u64;
            if offset < self.rust_done {
                continue;
            }
            // Wait for the bytes after the match unless the file ends first; the match stays in
            // the carried bytes until then.
            if s + rust_deps::PATH_WINDOW > self.scan.len() && !eof {
                break;
            }
            let end = (s + rust_deps::PATH_WINDOW).min(self.scan.len());
            self.rust.record(&self.scan[s + needle..end]);
            self.rust_done = offset + 1;
        }
    }

    fn add_capture(&mut self, offset: u64, len: u64) {
        let mut c = Capture::new(offset, len);
        c.feed(0, &self.captures[0].data);
        let scan_at = self.scan_at();
        c.feed(scan_at, &self.scan);
        self.captures.push(c);
    }
}

/// Reads until `buf` is full or the stream ends.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match reader.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Reads one file of declared `size` named `name` (which tells apart the products one Go module
/// builds). `None` when it is not ELF.
pub fn read(
    size: u64,
    name: &str,
    reader: &mut dyn Read,
    limits: &Limits,
) -> Result<Option<Found>, CatalogError> {
    let mut first = [0u8; 64];
    let n = read_full(reader, &mut first)?;
    if n < first.len() || !first.starts_with(b"\x7fELF") {
        return Ok(None);
    }
    let header =
        Elf::parse_header(&first).map_err(|e| CatalogError::Parse(format!("ELF header: {e}")))?;
    let whole = size <= limits.max_binary_bytes;
    let head_len = if whole {
        size
    } else {
        size.min(limits.binary_head_bytes.max(64))
    };
    let mut r = Reading::new(size, head_len);
    r.process(&first);
    let mut planned = whole;
    let mut strtab_pending = false;
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = read_full(reader, &mut chunk)?;
        if n == 0 {
            break;
        }
        r.process(&chunk[..n]);
        if !planned && r.captures[0].complete() {
            planned = true;
            strtab_pending = plan(&header, &mut r);
        }
        if strtab_pending {
            strtab_pending = capture_strtab(&header, &mut r);
        }
    }
    // Registry paths near the end were waiting for bytes that will not come. (A file that ended
    // inside the head was never planned: everything it has was kept.)
    r.search(CARRY, true);
    Ok(Some(analyse(&header, &r, name)))
}

/// Registers the regions beyond the head that the headers point at. Returns true when the
/// dynamic string table's place is still to be learnt from a dynamic table not yet read.
fn plan(header: &header::Header, r: &mut Reading) -> bool {
    let head_end = r.captures[0].want;
    let mut wanted = Vec::new();
    let mut dynamic_beyond = false;
    // Where the last dynamic table starts (the one the loader and `analyse` use), when beyond
    // the head: its string table may lie anywhere before it.
    let mut record_until = None;
    if let Some(phdrs) = program_headers(header, &view_of(r)).ok().flatten() {
        for ph in &phdrs {
            if matches!(ph.p_type, PT_INTERP | PT_DYNAMIC | PT_NOTE)
                && ph.p_offset.saturating_add(ph.p_filesz) > head_end
            {
                wanted.push((ph.p_offset, ph.p_filesz.min(REGION_CAP)));
                dynamic_beyond |= ph.p_type == PT_DYNAMIC;
            }
            if ph.p_type == PT_DYNAMIC {
                record_until = (ph.p_offset > head_end).then_some(ph.p_offset.min(r.size));
            }
        }
    }
    if let Some(end) = record_until {
        let mut record = StringRecord::new(end);
        record.feed(0, &r.captures[0].data);
        record.feed(r.scan_at(), &r.scan);
        r.record = Some(record);
    }
    let sh_len = u64::from(header.e_shnum) * u64::from(header.e_shentsize);
    if header.e_shoff != 0 && header.e_shoff.saturating_add(sh_len) > head_end {
        wanted.push((header.e_shoff, sh_len.min(REGION_CAP)));
    }
    if r.size > head_end {
        let tail = r.size.saturating_sub(TAIL_BYTES).max(head_end);
        wanted.push((tail, r.size - tail));
    }
    for (offset, len) in wanted {
        r.add_capture(offset, len);
    }
    dynamic_beyond
}

/// Once a dynamic table beyond the head is complete, registers its string table when that still
/// lies ahead in the stream. Returns true while it should be asked again.
fn capture_strtab(header: &header::Header, r: &mut Reading) -> bool {
    let view = view_of(r);
    let Ok(Some(phdrs)) = program_headers(header, &view) else {
        return false;
    };
    let Some(dynamic) = phdrs.iter().find(|p| p.p_type == PT_DYNAMIC) else {
        return false;
    };
    let Some(entries) = view.get(dynamic.p_offset, dynamic.p_filesz.min(REGION_CAP)) else {
        // Not complete yet.
        return true;
    };
    let d = parse_dynamic(entries, header);
    let (Some(addr), Some(len)) = (d.strtab, d.strsz) else {
        return false;
    };
    let Some(offset) = vaddr_to_offset(&phdrs, addr) else {
        return false;
    };
    if offset >= r.scan_at() && view.get(offset, len).is_none() {
        r.add_capture(offset, len.min(REGION_CAP));
    }
    false
}

fn view_of(r: &Reading) -> View<'_> {
    View {
        regions: r
            .captures
            .iter()
            .map(|c| (c.offset, c.data.as_slice()))
            .collect(),
    }
}

fn ctx_of(header: &header::Header) -> Option<Ctx> {
    Some(Ctx::new(
        header.container().ok()?,
        header.endianness().ok()?,
    ))
}

/// The program headers, `Ok(None)` when the file has none.
fn program_headers(
    header: &header::Header,
    view: &View<'_>,
) -> Result<Option<Vec<ProgramHeader>>, String> {
    if header.e_phoff == 0 || header.e_phnum == 0 {
        return Ok(None);
    }
    let ctx = ctx_of(header).ok_or("ELF header: bad class or byte order")?;
    if usize::from(header.e_phentsize) != ProgramHeader::size(ctx) {
        return Err(format!(
            "program header entry size {} is not {}",
            header.e_phentsize,
            ProgramHeader::size(ctx)
        ));
    }
    let len = u64::from(header.e_phnum) * u64::from(header.e_phentsize);
    let bytes = view
        .get(header.e_phoff, len)
        .ok_or("program headers beyond the read window")?;
    ProgramHeader::parse(bytes, 0, usize::from(header.e_phnum), ctx)
        .map(Some)
        .map_err(|e| format!("program headers: {e}"))
}

/// The section headers, empty when the file has none.
fn section_headers(header: &header::Header, view: &View<'_>) -> Result<Vec<SectionHeader>, String> {
    if header.e_shoff == 0 || header.e_shnum == 0 {
        return Ok(Vec::new());
    }
    let ctx = ctx_of(header).ok_or("ELF header: bad class or byte order")?;
    if usize::from(header.e_shentsize) != SectionHeader::size(ctx) {
        return Err(format!(
            "section header entry size {} is not {}",
            header.e_shentsize,
            SectionHeader::size(ctx)
        ));
    }
    let len = u64::from(header.e_shnum) * u64::from(header.e_shentsize);
    let bytes = view
        .get(header.e_shoff, len)
        .ok_or("section headers beyond the read window")?;
    SectionHeader::parse_from(bytes, 0, usize::from(header.e_shnum), ctx)
        .map_err(|e| format!("section headers: {e}"))
}

/// The dynamic entries this cataloger uses.
#[derive(Default)]
struct Dynamic {
    needed: Vec<u64>,
    soname: Option<u64>,
    rpath: Vec<u64>,
    runpath: Vec<u64>,
    strtab: Option<u64>,
    strsz: Option<u64>,
    bind_now: bool,
    pie_flag: bool,
}

fn parse_dynamic(bytes: &[u8], header: &header::Header) -> Dynamic {
    let is64 = header.e_ident[header::EI_CLASS] == header::ELFCLASS64;
    let le = header.e_ident[header::EI_DATA] != header::ELFDATA2MSB;
    let word = if is64 { 8 } else { 4 };
    let read = |b: &[u8]| -> u64 {
        if is64 {
            let a: [u8; 8] = b.try_into().unwrap_or_default();
            if le {
                u64::from_le_bytes(a)
            } else {
                u64::from_be_bytes(a)
            }
        } else {
            let a: [u8; 4] = b.try_into().unwrap_or_default();
            u64::from(if le {
                u32::from_le_bytes(a)
            } else {
                u32::from_be_bytes(a)
            })
        }
    };
    let mut d = Dynamic::default();
    for entry in bytes.chunks_exact(2 * word) {
        let (tag, val) = (read(&entry[..word]), read(&entry[word..]));
        match tag {
            dt::DT_NULL => break,
            dt::DT_NEEDED => d.needed.push(val),
            dt::DT_SONAME => d.soname = Some(val),
            dt::DT_RPATH => d.rpath.push(val),
            dt::DT_RUNPATH => d.runpath.push(val),
            dt::DT_STRTAB => d.strtab = Some(val),
            dt::DT_STRSZ => d.strsz = Some(val),
            dt::DT_BIND_NOW => d.bind_now = true,
            dt::DT_FLAGS => d.bind_now |= val & dt::DF_BIND_NOW != 0,
            dt::DT_FLAGS_1 => {
                d.bind_now |= val & dt::DF_1_NOW != 0;
                d.pie_flag |= val & dt::DF_1_PIE != 0;
            }
            _ => {}
        }
    }
    d
}

/// Maps a virtual address to a file offset through the `PT_LOAD` segment that holds it.
fn vaddr_to_offset(phdrs: &[ProgramHeader], addr: u64) -> Option<u64> {
    phdrs
        .iter()
        .filter(|p| p.p_type == PT_LOAD)
        .find(|p| addr >= p.p_vaddr && addr - p.p_vaddr < p.p_filesz)
        .and_then(|p| p.p_offset.checked_add(addr - p.p_vaddr))
}

/// The NUL-terminated string at `offset` of a string table.
fn string_at(table: &[u8], offset: u64) -> Option<String> {
    let rest = table.get(usize::try_from(offset).ok()?..)?;
    let end = memchr::memchr(0, rest)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// Stack-protector and fortify symbols among the names of a string table.
fn scan_symbols<'a>(names: impl Iterator<Item = &'a [u8]>, hardening: &mut Hardening) {
    for name in names {
        match hardening_symbol(name) {
            Some(HardeningSymbol::Canary) => hardening.canary = true,
            Some(HardeningSymbol::Fortify) => hardening.fortify = true,
            None => {}
        }
    }
}

/// What a symbol name says about how the binary was built.
enum HardeningSymbol {
    Canary,
    Fortify,
}

fn hardening_symbol(name: &[u8]) -> Option<HardeningSymbol> {
    if name == b"__stack_chk_fail" || name == b"__stack_chk_guard" {
        Some(HardeningSymbol::Canary)
    } else if name.starts_with(b"__") && name.ends_with(b"_chk") {
        Some(HardeningSymbol::Fortify)
    } else {
        None
    }
}

/// Where the strings a dynamic table points at are read from.
enum DynamicStrings<'a> {
    /// The whole table was captured.
    Table(&'a [u8]),
    /// The table, at file `offset`, lay before the dynamic table and was not captured whole:
    /// only the strings the record kept from it are known.
    Recorded {
        record: &'a StringRecord,
        offset: u64,
        len: u64,
    },
}

impl DynamicStrings<'_> {
    /// The string at `index` in the table.
    fn get(&self, index: u64) -> Option<String> {
        match *self {
            DynamicStrings::Table(table) => string_at(table, index),
            DynamicStrings::Recorded {
                record,
                offset,
                len,
            } => {
                let bytes = record.string_at(offset.checked_add(index)?)?;
                // Its NUL must lie in the table too.
                (index.checked_add(bytes.len() as u64)? < len)
                    .then(|| String::from_utf8_lossy(bytes).into_owned())
            }
        }
    }

    fn scan_symbols(&self, hardening: &mut Hardening) {
        match *self {
            DynamicStrings::Table(table) => scan_symbols(table.split(|&b| b == 0), hardening),
            DynamicStrings::Recorded {
                record,
                offset,
                len,
            } => scan_symbols(
                record.strings_in(offset, offset.saturating_add(len)),
                hardening,
            ),
        }
    }

    /// The warning for `missing` entries whose string could not be read.
    fn missing_warning(&self, missing: usize) -> String {
        match self {
            DynamicStrings::Table(_) => {
                format!("{missing} dynamic entries point outside the dynamic string table")
            }
            DynamicStrings::Recorded { record, .. } if record.full => format!(
                "{missing} library names or search paths of the dynamic table were not kept: \
                 the {} KiB record of the strings before it filled up",
                RECORD_CAP >> 10
            ),
            DynamicStrings::Recorded { .. } => format!(
                "{missing} library names or search paths of the dynamic table are not among the \
                 strings kept from the stream (relative paths and names without .so are not)"
            ),
        }
    }
}

fn machine_name(header: &header::Header) -> String {
    let is64 = header.e_ident[header::EI_CLASS] == header::ELFCLASS64;
    let le = header.e_ident[header::EI_DATA] != header::ELFDATA2MSB;
    match header.e_machine {
        header::EM_X86_64 => "x86_64",
        header::EM_386 => "x86",
        header::EM_AARCH64 => "aarch64",
        header::EM_ARM => "arm",
        header::EM_RISCV if is64 => "riscv64",
        header::EM_RISCV => "riscv32",
        header::EM_PPC64 if le => "ppc64le",
        header::EM_PPC64 => "ppc64",
        header::EM_PPC => "ppc",
        header::EM_S390 if is64 => "s390x",
        header::EM_S390 => "s390",
        header::EM_MIPS if is64 => "mips64",
        header::EM_MIPS => "mips",
        header::EM_LOONGARCH => "loongarch64",
        other => return format!("unknown({other})"),
    }
    .to_owned()
}

/// A search path entry anyone could plant a library in.
fn insecure_path_entry(entry: &str) -> bool {
    let under = |dir: &str| entry == dir || entry.starts_with(&format!("{dir}/"));
    entry.is_empty()
        || !(entry.starts_with('/')
            || entry.starts_with("$ORIGIN")
            || entry.starts_with("${ORIGIN}"))
        || ["/tmp", "/var/tmp", "/dev/shm"].iter().any(|d| under(d))
}

/// Builds the record from the captured regions.
fn analyse(header: &header::Header, r: &Reading, name: &str) -> Found {
    let view = view_of(r);
    let mut warnings = Vec::new();
    let mut b = Binary {
        elf_type: ElfType::from_header(header.e_type),
        machine: machine_name(header),
        ..Binary::default()
    };
    let phdrs = match program_headers(header, &view) {
        Ok(p) => p.unwrap_or_default(),
        Err(e) => {
            warnings.push(e);
            Vec::new()
        }
    };
    let sections = section_headers(header, &view).unwrap_or_else(|e| {
        warnings.push(e);
        Vec::new()
    });
    let mut dynamic = None;
    for ph in &phdrs {
        match ph.p_type {
            PT_INTERP => match view.get(ph.p_offset, ph.p_filesz.min(4096)) {
                Some(bytes) => {
                    let end = memchr::memchr(0, bytes).unwrap_or(bytes.len());
                    b.interpreter = Some(String::from_utf8_lossy(&bytes[..end]).into_owned());
                }
                None => warnings.push("interpreter beyond the read window".into()),
            },
            PT_DYNAMIC => dynamic = Some(ph),
            PT_NOTE if b.package_note.is_none() => {
                let little = header.endianness().is_ok_and(|e| e.is_little());
                match view
                    .get(ph.p_offset, ph.p_filesz.min(REGION_CAP))
                    .and_then(|notes| package_note::find(notes, little))
                {
                    Some(Ok(note)) => b.package_note = Some(note),
                    Some(Err(e)) => warnings.push(e),
                    None => {}
                }
            }
            PT_GNU_RELRO => b.hardening.relro = Relro::Partial,
            PT_GNU_STACK => b.hardening.nx = ph.p_flags & goblin::elf::program_header::PF_X == 0,
            _ => {}
        }
    }
    b.is_static = dynamic.is_none();
    match dynamic.map(|ph| view.get(ph.p_offset, ph.p_filesz)) {
        None => {}
        Some(None) => warnings.push("dynamic table beyond the read window".into()),
        Some(Some(entries)) => {
            let d = parse_dynamic(entries, header);
            if d.bind_now && b.hardening.relro == Relro::Partial {
                b.hardening.relro = Relro::Full;
            }
            b.hardening.pie = header.e_type == header::ET_DYN
                && (phdrs.iter().any(|p| p.p_type == PT_INTERP) || d.pie_flag);
            let table = d.strtab.and_then(|addr| {
                let offset = vaddr_to_offset(&phdrs, addr)?;
                let len = d.strsz?;
                match (view.get(offset, len), &r.record) {
                    (Some(table), _) => Some(DynamicStrings::Table(table)),
                    (None, Some(record)) if offset < record.end => Some(DynamicStrings::Recorded {
                        record,
                        offset,
                        len,
                    }),
                    (None, _) => None,
                }
            });
            match table {
                Some(strings) => {
                    let mut missing = 0;
                    let mut names = |list: &[u64]| -> Vec<String> {
                        let found: Vec<String> =
                            list.iter().filter_map(|&o| strings.get(o)).collect();
                        missing += list.len() - found.len();
                        found
                    };
                    let split = |list: Vec<String>| -> Vec<String> {
                        list.iter()
                            .flat_map(|p| p.split(':').map(str::to_owned).collect::<Vec<_>>())
                            .collect()
                    };
                    b.needed = names(&d.needed);
                    b.soname = names(d.soname.as_slice()).pop();
                    b.rpath = split(names(&d.rpath));
                    b.runpath = split(names(&d.runpath));
                    if missing > 0 {
                        warnings.push(strings.missing_warning(missing));
                    }
                    b.insecure_runpath = b
                        .rpath
                        .iter()
                        .chain(&b.runpath)
                        .filter(|e| insecure_path_entry(e))
                        .cloned()
                        .collect();
                    strings.scan_symbols(&mut b.hardening);
                }
                None if d.strtab.is_some() => {
                    warnings.push("dynamic string table beyond the read window".into());
                }
                None => {}
            }
        }
    }
    // A static PIE has no interpreter but is ET_DYN with DF_1_PIE; handled above. A static
    // ET_DYN without PT_DYNAMIC cannot relocate itself, so it is not counted as PIE.
    let symtab = sections.iter().find(|s| s.sh_type == SHT_SYMTAB);
    b.stripped = symtab.is_none();
    if let Some(strtab) = symtab.and_then(|s| sections.get(s.sh_link as usize))
        && let Some(t) = view.get(strtab.sh_offset, strtab.sh_size)
    {
        scan_symbols(t.split(|&b| b == 0), &mut b.hardening);
    }

    let mut packages: Vec<_> = b.package_note.iter().map(|n| n.record()).collect();
    // Go.
    let mut go_errors = Vec::new();
    for &i in &r.go {
        match go_buildinfo::parse(&r.captures[i].data) {
            Ok(info) => {
                packages.extend(go_buildinfo::packages(&info, name));
                b.go = Some(info);
                break;
            }
            Err(e) => go_errors.push(e),
        }
    }
    if b.go.is_none()
        && let Some(e) = go_errors.into_iter().next()
    {
        warnings.push(e);
    }
    // Rust: `.dep-v0` first, panic paths otherwise.
    let shstrtab = sections
        .get(usize::from(header.e_shstrndx))
        .and_then(|s| view.get(s.sh_offset, s.sh_size));
    let dep_v0 = shstrtab.and_then(|names| {
        sections
            .iter()
            .find(|s| string_at(names, s.sh_name as u64).as_deref() == Some(".dep-v0"))
    });
    if let Some(section) = dep_v0 {
        match view.get(section.sh_offset, section.sh_size) {
            Some(bytes) => match rust_deps::parse_dep_v0(bytes) {
                Ok(crates) => {
                    packages.extend(rust_deps::audited_packages(&crates));
                    b.rust = Some(RustDeps {
                        source: RustSource::CargoAuditable,
                        crates: crates.into_iter().map(|c| c.krate).collect(),
                    });
                }
                Err(e) => warnings.push(e),
            },
            None => warnings.push(".dep-v0 beyond the read window".into()),
        }
    }
    if b.rust.is_none() && !r.rust.crates.is_empty() {
        if r.rust.capped {
            warnings.push(format!(
                "more than {} crates in panic paths; the rest are not listed",
                rust_deps::MAX_PANIC_CRATES
            ));
        }
        b.rust = Some(RustDeps {
            source: RustSource::PanicPaths,
            crates: r.rust.crates.iter().cloned().collect::<Vec<RustCrate>>(),
        });
    }
    Found {
        binary: b,
        packages,
        warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8], limits: &Limits) -> Option<Found> {
        read(bytes.len() as u64, "test", &mut &bytes[..], limits).unwrap()
    }

    /// Streaming limits under which a synthetic library's `.dynstr` lies beyond the head.
    fn streaming(head: u64) -> Limits {
        Limits {
            max_binary_bytes: 128,
            binary_head_bytes: head,
            ..Limits::default()
        }
    }

    /// Where a synthetic library keeps its tables.
    struct Layout {
        dynstr_at: usize,
        dynamic_at: usize,
    }

    /// Small enough for the tail capture to hold the whole file.
    const SMALL: Layout = Layout {
        dynstr_at: 0x400,
        dynamic_at: 0x1000,
    };
    /// `.dynstr` beyond the head and far enough from the end for the tail capture to miss it:
    /// only the string record can give its strings.
    const BIG: Layout = Layout {
        dynstr_at: 0x400,
        dynamic_at: TAIL_BYTES as usize + 0x1000,
    };
    const LOAD_VADDR: u64 = 0x20_0000;

    /// A `.dynstr` like a linker writes: symbol names around the library names and paths, a
    /// fortify symbol, and `/opt/llvm/lib` stored as the tail of the `RUNPATH`.
    const DYNSTR: &[u8] = b"\0_ZN4llvm3fooEv\0libLLVM-14.so.1\0libc.so.6\0memcpy\0\
        $ORIGIN/../lib:/opt/llvm/lib\0__memcpy_chk\0libz.so.1\0GLIBC_2.14\0";

    fn index_of(table: &[u8], name: &[u8]) -> u64 {
        memmem::find(table, name).expect("name in table") as u64
    }

    /// The dynamic entries naming `DYNSTR`'s libraries and paths.
    fn dynstr_entries(layout: &Layout) -> Vec<(u64, u64)> {
        vec![
            (dt::DT_NEEDED, index_of(DYNSTR, b"libc.so.6\0")),
            (dt::DT_NEEDED, index_of(DYNSTR, b"libz.so.1\0")),
            (dt::DT_SONAME, index_of(DYNSTR, b"libLLVM-14.so.1\0")),
            (dt::DT_RUNPATH, index_of(DYNSTR, b"$ORIGIN")),
            (dt::DT_RPATH, index_of(DYNSTR, b"/opt/llvm/lib\0")),
            (dt::DT_STRTAB, LOAD_VADDR + layout.dynstr_at as u64),
            (dt::DT_STRSZ, DYNSTR.len() as u64),
        ]
    }

    /// A minimal x86-64 shared library: the ELF header, a `PT_LOAD` over the whole file and a
    /// `PT_DYNAMIC`, `dynstr` at `layout.dynstr_at` and the dynamic table at
    /// `layout.dynamic_at`. What lies between is `.rodata`-like filler holding strings the
    /// record keeps (`__stack_chk_fail`, a path) that are not in the string table.
    fn synthetic_library(layout: &Layout, dynstr: &[u8], dynamic: &[(u64, u64)]) -> Vec<u8> {
        let mut f = vec![0u8; layout.dynamic_at];
        let filler = b"\0__stack_chk_fail\0/usr/share/locale\0%s: cannot open\0";
        let dynstr_end = layout.dynstr_at + dynstr.len();
        for at in [0x100, dynstr_end + 0x10, layout.dynamic_at - 0x100] {
            f[at..at + filler.len()].copy_from_slice(filler);
        }
        f[layout.dynstr_at..dynstr_end].copy_from_slice(dynstr);
        for &(tag, value) in dynamic.iter().chain(&[(dt::DT_NULL, 0)]) {
            f.extend_from_slice(&tag.to_le_bytes());
            f.extend_from_slice(&value.to_le_bytes());
        }
        let len = f.len() as u64;
        let put = |f: &mut Vec<u8>, at: usize, bytes: &[u8]| {
            f[at..at + bytes.len()].copy_from_slice(bytes);
        };
        put(&mut f, 0, b"\x7fELF\x02\x01\x01");
        put(&mut f, 16, &header::ET_DYN.to_le_bytes());
        put(&mut f, 18, &header::EM_X86_64.to_le_bytes());
        put(&mut f, 20, &1u32.to_le_bytes());
        put(&mut f, 32, &64u64.to_le_bytes()); // e_phoff
        put(&mut f, 52, &64u16.to_le_bytes()); // e_ehsize
        put(&mut f, 54, &56u16.to_le_bytes()); // e_phentsize
        put(&mut f, 56, &2u16.to_le_bytes()); // e_phnum
        put(&mut f, 58, &64u16.to_le_bytes()); // e_shentsize
        let dynamic_at = layout.dynamic_at as u64;
        let phdrs: [(u32, u32, u64, u64); 2] = [
            (PT_LOAD, 5, 0, len),
            (PT_DYNAMIC, 6, dynamic_at, len - dynamic_at),
        ];
        for (i, (kind, flags, offset, size)) in phdrs.into_iter().enumerate() {
            let at = 64 + i * 56;
            put(&mut f, at, &kind.to_le_bytes());
            put(&mut f, at + 4, &flags.to_le_bytes());
            for (field, value) in [offset, LOAD_VADDR + offset, LOAD_VADDR + offset, size, size]
                .into_iter()
                .enumerate()
            {
                put(&mut f, at + 8 + field * 8, &value.to_le_bytes());
            }
            put(&mut f, at + 48, &8u64.to_le_bytes());
        }
        f
    }

    /// What a record says about the dynamic table.
    fn dynamic_facts(found: &Found) -> (Vec<String>, Option<String>, Vec<String>, Vec<String>) {
        let b = &found.binary;
        (
            b.needed.clone(),
            b.soname.clone(),
            b.runpath.clone(),
            b.rpath.clone(),
        )
    }

    fn kept(record: &StringRecord) -> Vec<(u64, String)> {
        record
            .strings
            .iter()
            .map(|s| {
                let bytes = record.string_at(s.offset).unwrap();
                (s.offset, String::from_utf8(bytes.to_vec()).unwrap())
            })
            .collect()
    }

    #[test]
    fn string_record_keeps_names_and_paths_wherever_the_stream_is_cut() {
        let mut bytes =
            b"\x7fELF\0\0_ZN4llvm3fooEv\0libc.so.6\0/usr/lib\0$ORIGIN/../lib\0".to_vec();
        bytes.extend_from_slice(b"__stack_chk_fail\0__printf_chk\0malloc\0lib\0\x01bad.so\0");
        bytes.extend_from_slice(b"\0\0libso\0no.sox\0");
        // The longest string kept, and one byte more.
        let longest = [b"/".as_slice(), &[b'a'; MAX_RECORDED_STRING - 1]].concat();
        let too_long = [b"/".as_slice(), &[b'b'; MAX_RECORDED_STRING]].concat();
        let mut long_ranges = Vec::new();
        for long in [&longest, &too_long] {
            long_ranges.push(bytes.len()..bytes.len() + long.len());
            bytes.extend_from_slice(long);
            bytes.extend_from_slice(b"\0");
        }
        bytes.extend_from_slice(b"libm.so.6\0/unterminated");
        let want: Vec<(u64, String)> = [
            "libc.so.6",
            "/usr/lib",
            "$ORIGIN/../lib",
            "__stack_chk_fail",
            "__printf_chk",
            "no.sox",
            std::str::from_utf8(&longest).unwrap(),
            "libm.so.6",
        ]
        .iter()
        .map(|s| (index_of(&bytes, s.as_bytes()), (*s).to_owned()))
        .collect();

        let mut whole = StringRecord::new(u64::MAX);
        whole.feed(0, &bytes);
        assert_eq!(kept(&whole), want);
        // Every cut, but inside the long strings only near their ends.
        let cuts = (0..=bytes.len()).filter(|&cut| {
            long_ranges
                .iter()
                .all(|r| cut <= r.start + 2 || cut + 2 >= r.end)
        });
        for cut in cuts {
            let mut split = StringRecord::new(u64::MAX);
            split.feed(0, &bytes[..cut]);
            split.feed(cut as u64, &bytes[cut..]);
            assert_eq!(kept(&split), want, "cut at {cut}");
        }
        for piece in [1, 3, 7, 64, 4096] {
            let mut pieces = StringRecord::new(u64::MAX);
            for (i, chunk) in bytes.chunks(piece).enumerate() {
                pieces.feed((i * piece) as u64, chunk);
            }
            assert_eq!(kept(&pieces), want, "pieces of {piece}");
        }
        // Bytes fed again or out of order are ignored; the record stops at `end`.
        let mut again = StringRecord::new(u64::MAX);
        again.feed(0, &bytes[..40]);
        again.feed(0, &bytes);
        again.feed(10_000_000, b"\0/far.so\0");
        assert_eq!(kept(&again), want);
        let libm = index_of(&bytes, b"libm.so.6");
        let mut ended = StringRecord::new(libm + 4);
        ended.feed(0, &bytes);
        assert_eq!(kept(&ended), want[..want.len() - 1]);
    }

    #[test]
    fn string_record_resolves_tails_and_nothing_else() {
        let bytes = b"\0$ORIGIN/../lib:/opt/lib\0junk\0libz.so.1\0";
        let mut record = StringRecord::new(u64::MAX);
        record.feed(100, b"");
        record.feed(0, bytes);
        let at = |s: &[u8]| index_of(bytes, s);
        let text = |o: u64| {
            record
                .string_at(o)
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        assert_eq!(
            text(at(b"$ORIGIN")).as_deref(),
            Some("$ORIGIN/../lib:/opt/lib")
        );
        assert_eq!(text(at(b"/opt/lib")).as_deref(), Some("/opt/lib"));
        assert_eq!(text(at(b"\0junk")).as_deref(), Some(""));
        assert_eq!(text(at(b"junk")), None);
        assert_eq!(text(0), None);
        assert_eq!(text(u64::MAX), None);
        assert_eq!(
            record.strings_in(at(b"junk"), u64::MAX).collect::<Vec<_>>(),
            [b"libz.so.1".as_slice()]
        );
        assert_eq!(record.strings_in(u64::MAX, 0).count(), 0);
    }

    #[test]
    fn string_record_memory_stays_under_its_cap() {
        // Four MiB of strings it keeps, then one long run of text without a NUL.
        let mut record = StringRecord::new(u64::MAX);
        let mut at = 0;
        let name = b"/usr/lib/x86_64-linux-gnu/libexample.so.1\0";
        while at < 4 << 20 {
            record.feed(at, name);
            at += name.len() as u64;
        }
        let text = vec![b'a'; 1 << 20];
        record.feed(at, &text);
        assert!(record.full);
        let bound = RECORD_CAP + MAX_RECORDED_STRING + CHUNK;
        assert!(record.weight() <= bound, "{} > {bound}", record.weight());
        assert_eq!(record.string_at(0).map(<[u8]>::len), Some(name.len() - 1));

        // Runs of `.so` without a NUL, and strings of one `/`: linear work, and the same cap.
        let mut dense = StringRecord::new(u64::MAX);
        let dots = b".so".repeat(1 << 20);
        dense.feed(0, &dots);
        let slashes = b"\0/".repeat(1 << 20);
        dense.feed(dots.len() as u64, &slashes);
        assert!(dense.full && dense.strings.len() > 1000);
        assert_eq!(
            dense.string_at(dots.len() as u64 + 1),
            Some(b"/".as_slice())
        );
        assert!(dense.weight() <= bound, "{}", dense.weight());

        let mut text_only = StringRecord::new(u64::MAX);
        for (i, chunk) in text.chunks(4096).enumerate() {
            text_only.feed(i as u64 * 4096, chunk);
        }
        text_only.feed(text.len() as u64, b"\0/lib/libc.so.6\0");
        assert!(text_only.weight() <= bound, "{}", text_only.weight());
        assert_eq!(
            kept(&text_only),
            [(text.len() as u64 + 1, "/lib/libc.so.6".into())]
        );
    }

    /// The synthetic library gives the same dynamic facts whole and streamed with its `.dynstr`
    /// beyond the head, straddling the head's end, straddling a chunk boundary, or in the head.
    #[test]
    fn dynstr_before_the_dynamic_table_resolves_when_streamed() {
        let want = (
            vec!["libc.so.6".to_owned(), "libz.so.1".to_owned()],
            Some("libLLVM-14.so.1".to_owned()),
            vec!["$ORIGIN/../lib".to_owned(), "/opt/llvm/lib".to_owned()],
            vec!["/opt/llvm/lib".to_owned()],
        );
        let across_chunks = Layout {
            dynstr_at: CHUNK - 20,
            dynamic_at: CHUNK + TAIL_BYTES as usize + 0x1000,
        };
        for layout in [SMALL, BIG, across_chunks] {
            let file = synthetic_library(&layout, DYNSTR, &dynstr_entries(&layout));
            let whole = run(&file, &Limits::default()).unwrap();
            assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
            assert_eq!(dynamic_facts(&whole), want);
            let at = layout.dynstr_at as u64;
            for head in [256, at, at + 7, at + DYNSTR.len() as u64] {
                let streamed = run(&file, &streaming(head)).unwrap();
                assert!(
                    streamed.warnings.is_empty(),
                    "{head}: {:?}",
                    streamed.warnings
                );
                assert_eq!(dynamic_facts(&streamed), want, "head {head}");
                assert_eq!(
                    streamed.binary.hardening, whole.binary.hardening,
                    "head {head}"
                );
            }
            // Only the table's own symbols count: the filler's `__stack_chk_fail` does not.
            assert!(whole.binary.hardening.fortify && !whole.binary.hardening.canary);
        }
    }

    /// What the record does not keep is said, not silently dropped.
    #[test]
    fn names_the_record_left_out_are_warnings() {
        let dynstr = b"\0libc.so.6\0lib:/tmp/plugins\0";
        let entries = [
            (dt::DT_NEEDED, 1),
            (dt::DT_RUNPATH, index_of(dynstr, b"lib:")),
            (dt::DT_STRTAB, LOAD_VADDR + BIG.dynstr_at as u64),
            (dt::DT_STRSZ, dynstr.len() as u64),
        ];
        let file = synthetic_library(&BIG, dynstr, &entries);
        let whole = run(&file, &Limits::default()).unwrap();
        assert_eq!(whole.binary.insecure_runpath, ["lib", "/tmp/plugins"]);
        let streamed = run(&file, &streaming(256)).unwrap();
        assert_eq!(streamed.binary.needed, ["libc.so.6"]);
        assert_eq!(
            streamed.warnings,
            [
                "1 library names or search paths of the dynamic table are not among the strings \
              kept from the stream (relative paths and names without .so are not)"
            ]
        );

        // A file that fills the record with paths before its `.dynstr`.
        let mut dynstr = b"\0".to_vec();
        let filler = b"/usr/share/doc/example/README\0";
        while dynstr.len() < 2 * RECORD_CAP {
            dynstr.extend_from_slice(filler);
        }
        let libc = dynstr.len() as u64;
        dynstr.extend_from_slice(b"libc.so.6\0");
        let full = Layout {
            dynstr_at: 0x400,
            dynamic_at: 0x400 + dynstr.len() + TAIL_BYTES as usize,
        };
        let entries = [
            (dt::DT_NEEDED, libc),
            (dt::DT_STRTAB, LOAD_VADDR + full.dynstr_at as u64),
            (dt::DT_STRSZ, dynstr.len() as u64),
        ];
        let file = synthetic_library(&full, &dynstr, &entries);
        assert_eq!(
            run(&file, &Limits::default()).unwrap().binary.needed,
            ["libc.so.6"]
        );
        let streamed = run(&file, &streaming(256)).unwrap();
        assert!(streamed.binary.needed.is_empty());
        assert_eq!(streamed.warnings.len(), 1);
        assert!(streamed.warnings[0].contains("record of the strings before it filled up"));
    }

    /// Truncation at every byte, and absurd offsets, sizes and indexes in the headers and the
    /// dynamic table: warnings, never a panic.
    #[test]
    fn hostile_synthetic_libraries_are_warnings() {
        let limits = streaming(256);
        let small = synthetic_library(&SMALL, DYNSTR, &dynstr_entries(&SMALL));
        let big = synthetic_library(&BIG, DYNSTR, &dynstr_entries(&BIG));
        let dynstr_end = BIG.dynstr_at + DYNSTR.len();
        // Every cut of the small file; of the big one, every cut of its headers, `.dynstr` and
        // dynamic table.
        let big_cuts = (0..0x200)
            .chain(BIG.dynstr_at - 8..dynstr_end + 8)
            .chain(BIG.dynamic_at - 8..big.len());
        let cuts = (0..small.len())
            .map(|cut| (&small, cut))
            .chain(big_cuts.map(|cut| (&big, cut)));
        for (file, cut) in cuts {
            let _ = run(&file[..cut], &limits);
            // Declared whole, but the stream ends early.
            let _ = read(file.len() as u64, "test", &mut &file[..cut], &limits).unwrap();
        }
        let absurd = [0, 1, 0x7fff_ffff, u64::MAX / 2, u64::MAX - 1, u64::MAX];
        let entries = dynstr_entries(&BIG);
        for i in 0..entries.len() {
            for value in absurd {
                let mut changed = entries.clone();
                changed[i].1 = value;
                let file = synthetic_library(&BIG, DYNSTR, &changed);
                let whole = run(&file, &Limits::default()).unwrap();
                let streamed = run(&file, &limits).unwrap();
                if changed[i].0 == dt::DT_NEEDED && value > DYNSTR.len() as u64 {
                    assert!(!whole.warnings.is_empty() && !streamed.warnings.is_empty());
                }
            }
        }
        // Program header fields: p_offset, p_vaddr, p_filesz of each segment.
        for (phdr, field) in [(0, 8), (0, 16), (0, 32), (1, 8), (1, 16), (1, 32)] {
            for value in absurd {
                let mut bad = big.clone();
                let at = 64 + phdr * 56 + field;
                bad[at..at + 8].copy_from_slice(&value.to_le_bytes());
                let _ = run(&bad, &Limits::default());
                let _ = run(&bad, &limits);
            }
        }
    }

    #[test]
    fn non_elf_files_are_not_errors() {
        assert!(run(&[b'#'; 100], &Limits::default()).is_none());
        assert!(run(b"\x7fELF", &Limits::default()).is_none());
    }

    #[test]
    fn captures_only_copy_contiguous_bytes() {
        let mut c = Capture::new(10, 5);
        c.feed(0, &[0; 8]);
        assert!(c.data.is_empty());
        c.feed(8, &[1, 2, 3, 4]);
        assert_eq!(c.data, [3, 4]);
        c.feed(12, &[5, 6, 7, 8, 9]);
        assert_eq!(c.data, [3, 4, 5, 6, 7]);
        assert!(c.complete());
    }

    #[test]
    fn matches_across_chunk_boundaries_are_found_once() {
        // A registry path straddling the chunk boundary, and a Go magic at an aligned offset.
        let mut file = b"\x7fELF".to_vec();
        file.resize(CHUNK + 64 - 5, 0);
        file.extend_from_slice(
            b"/root/.cargo/registry/src/index.crates.io-1/itoa-1.0.19/src/lib.rs\0",
        );
        file.extend_from_slice(
            b"/root/.cargo/registry/src/index.crates.io-1/itoa-1.0.19/src/udiv.rs\0",
        );
        while file.len() % 16 != 0 {
            file.push(0);
        }
        let mut r = Reading::new(file.len() as u64 + 64, 0);
        let go_at = file.len();
        file.extend_from_slice(go_buildinfo::MAGIC);
        file.resize(file.len() + 64, 0);
        for chunk in file.chunks(CHUNK) {
            r.process(chunk);
        }
        r.search(CARRY, true);
        assert_eq!(r.rust.crates.len(), 1);
        assert_eq!(r.go.len(), 1);
        assert_eq!(r.captures[r.go[0]].offset, go_at as u64);
    }

    #[test]
    fn truncated_and_absurd_headers_are_warnings() {
        let exe = std::fs::read("/proc/self/exe").unwrap();
        // Cut at many points: the record may be partial, but nothing panics.
        for cut in [64, 65, 100, 200, 1000, 4096, exe.len() / 2] {
            let _ = run(&exe[..cut.min(exe.len())], &Limits::default());
        }
        // Absurd program and section header counts and offsets.
        let mut bad = exe[..4096.min(exe.len())].to_vec();
        bad[0x20..0x28].copy_from_slice(&u64::MAX.to_le_bytes()); // e_phoff
        bad[0x28..0x30].copy_from_slice(&(u64::MAX - 10).to_le_bytes()); // e_shoff
        bad[0x38..0x3a].copy_from_slice(&u16::MAX.to_le_bytes()); // e_phnum
        let found = run(&bad, &Limits::default()).unwrap();
        assert!(!found.warnings.is_empty());
        // The same through the streaming region path, whose captures start at those offsets.
        let small = Limits {
            max_binary_bytes: 128,
            binary_head_bytes: 256,
            ..Limits::default()
        };
        let found = run(&bad, &small).unwrap();
        assert!(!found.warnings.is_empty());
        for cut in [64, 300, 1000, exe.len() / 3] {
            let _ = run(&exe[..cut.min(exe.len())], &small);
        }
    }

    #[test]
    fn the_test_binary_parses_the_same_whole_and_streamed() {
        let exe = std::fs::read("/proc/self/exe").unwrap();
        let whole = run(&exe, &Limits::default()).unwrap();
        let small = Limits {
            max_binary_bytes: 4096,
            binary_head_bytes: 64 << 10,
            ..Limits::default()
        };
        // A 4 KiB head leaves the test binary's `.dynstr` to the string record.
        for head in [64 << 10, 4 << 10] {
            let small = Limits {
                binary_head_bytes: head,
                ..small
            };
            let streamed = run(&exe, &small).unwrap();
            assert!(streamed.warnings.is_empty(), "{:?}", streamed.warnings);
            assert_eq!(dynamic_facts(&whole), dynamic_facts(&streamed));
            assert_eq!(whole.binary.interpreter, streamed.binary.interpreter);
            assert_eq!(whole.binary.hardening, streamed.binary.hardening);
        }
        assert!(!whole.binary.needed.is_empty());
        assert!(whole.binary.needed.iter().any(|n| n.starts_with("libc.so")));
        assert!(whole.binary.hardening.pie && whole.binary.hardening.nx);
        // Test binaries link crates from the registry, which leave panic paths.
        let rust = whole.binary.rust.as_ref().expect("panic paths");
        assert_eq!(rust.source, RustSource::PanicPaths);
    }
}
