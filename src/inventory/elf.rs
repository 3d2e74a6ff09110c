//! ELF executables and shared libraries: what they link against, how they were hardened, and
//! for Go and Rust programs, which modules and crates they were built from.
//!
//! The walker hands this cataloger each candidate file as a stream, once. Memory stays bounded
//! whatever the file size:
//!
//! * a file up to [`Limits::max_binary_bytes`] is kept whole, so every table is available;
//! * a larger one keeps its first [`Limits::binary_head_bytes`] (the ELF header, program headers,
//!   `.interp`, `.dynsym` and `.dynstr` of every toolchain we know lie there), plus the regions
//!   the program headers point at further on (`PT_DYNAMIC`, `PT_INTERP`), the section header
//!   table and the last MiB (where linkers put `.shstrtab`), each capped. A table that lies
//!   before the point where the stream learnt it was needed cannot be read in one pass; that is
//!   a warning, never a second read;
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
/// Most bytes kept, beyond the head, of a large file's first read-only segment when its dynamic
/// table lies further on: that segment holds `.dynsym` and `.dynstr`, which the stream passes
/// before the dynamic table can say where they are.
const SPECULATIVE_CAP: u64 = 8 << 20;
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
        let Some(found) = read(file.size, reader, limits)? else {
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
}

impl Reading {
    fn process(&mut self, chunk: &[u8]) {
        let at = self.pos;
        for c in &mut self.captures {
            c.feed(at, chunk);
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

/// Reads one file of declared `size`. `None` when it is not ELF.
pub fn read(
    size: u64,
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
    let mut r = Reading {
        size,
        pos: 0,
        captures: vec![Capture::new(0, head_len)],
        go: Vec::new(),
        scan: Vec::with_capacity(CHUNK + CARRY),
        rust: rust_deps::PanicPaths::default(),
        rust_done: 0,
        go_finder: memmem::Finder::new(go_buildinfo::MAGIC),
        rust_finder: memmem::Finder::new(rust_deps::REGISTRY_NEEDLE),
    };
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
    Ok(Some(analyse(&header, &r)))
}

/// Registers the regions beyond the head that the headers point at. Returns true when the
/// dynamic string table's place is still to be learnt from a dynamic table not yet read.
fn plan(header: &header::Header, r: &mut Reading) -> bool {
    let head_end = r.captures[0].want;
    let mut wanted = Vec::new();
    let mut dynamic_beyond = false;
    if let Some(phdrs) = program_headers(header, &view_of(r)).ok().flatten() {
        for ph in &phdrs {
            if matches!(ph.p_type, PT_INTERP | PT_DYNAMIC | PT_NOTE)
                && ph.p_offset.saturating_add(ph.p_filesz) > head_end
            {
                wanted.push((ph.p_offset, ph.p_filesz.min(REGION_CAP)));
                dynamic_beyond |= ph.p_type == PT_DYNAMIC;
            }
        }
    }
    if dynamic_beyond
        && let Some(phdrs) = program_headers(header, &view_of(r)).ok().flatten()
        && let Some(first) = phdrs.iter().find(|p| {
            p.p_type == PT_LOAD
                && p.p_flags & goblin::elf::program_header::PF_X == 0
                && p.p_offset <= head_end
                && p.p_offset.saturating_add(p.p_filesz) > head_end
        })
    {
        let end = first.p_offset.saturating_add(first.p_filesz);
        wanted.push((head_end, (end - head_end).min(SPECULATIVE_CAP)));
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
fn scan_symbols(table: &[u8], hardening: &mut Hardening) {
    for name in table.split(|&b| b == 0) {
        if name == b"__stack_chk_fail" || name == b"__stack_chk_guard" {
            hardening.canary = true;
        } else if name.starts_with(b"__") && name.ends_with(b"_chk") {
            hardening.fortify = true;
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
fn analyse(header: &header::Header, r: &Reading) -> Found {
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
                view.get(offset, d.strsz?)
            });
            match table {
                Some(t) => {
                    let names = |list: &[u64]| -> Vec<String> {
                        list.iter().filter_map(|&o| string_at(t, o)).collect()
                    };
                    let paths = |list: &[u64]| -> Vec<String> {
                        names(list)
                            .iter()
                            .flat_map(|p| p.split(':').map(str::to_owned).collect::<Vec<_>>())
                            .collect()
                    };
                    b.needed = names(&d.needed);
                    b.soname = d.soname.and_then(|o| string_at(t, o));
                    b.rpath = paths(&d.rpath);
                    b.runpath = paths(&d.runpath);
                    b.insecure_runpath = b
                        .rpath
                        .iter()
                        .chain(&b.runpath)
                        .filter(|e| insecure_path_entry(e))
                        .cloned()
                        .collect();
                    scan_symbols(t, &mut b.hardening);
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
        scan_symbols(t, &mut b.hardening);
    }

    let mut packages: Vec<_> = b.package_note.iter().map(|n| n.record()).collect();
    // Go.
    let mut go_errors = Vec::new();
    for &i in &r.go {
        match go_buildinfo::parse(&r.captures[i].data) {
            Ok(info) => {
                packages.extend(go_buildinfo::packages(&info));
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
        read(bytes.len() as u64, &mut &bytes[..], limits).unwrap()
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
        let mut r = Reading {
            size: file.len() as u64 + 64,
            pos: 0,
            captures: vec![Capture::new(0, 0)],
            go: Vec::new(),
            scan: Vec::new(),
            rust: rust_deps::PanicPaths::default(),
            rust_done: 0,
            go_finder: memmem::Finder::new(go_buildinfo::MAGIC),
            rust_finder: memmem::Finder::new(rust_deps::REGISTRY_NEEDLE),
        };
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
        let streamed = run(&exe, &small).unwrap();
        assert_eq!(whole.binary.needed, streamed.binary.needed);
        assert_eq!(whole.binary.interpreter, streamed.binary.interpreter);
        assert_eq!(whole.binary.hardening, streamed.binary.hardening);
        assert!(!whole.binary.needed.is_empty());
        assert!(whole.binary.needed.iter().any(|n| n.starts_with("libc.so")));
        assert!(whole.binary.hardening.pie && whole.binary.hardening.nx);
        // Test binaries link crates from the registry, which leave panic paths.
        let rust = whole.binary.rust.as_ref().expect("panic paths");
        assert_eq!(rust.source, RustSource::PanicPaths);
    }
}
