//! Gzip layers inflated by ISA-L's igzip (feature `isal`), which takes fewer CPU-seconds per
//! layer than zlib-rs (figures in the README's Performance section).
//!
//! The gzip framing is read here, in safe code, and ISA-L only inflates the raw deflate data
//! and checks each member's trailer (CRC-32 and ISIZE). ISA-L can parse gzip headers too, but
//! its stateful parser keeps the header flags in a local that is lost when a header is split
//! across two reads, which a member starting near the end of a buffer does.
//!
//! [`MultiGzDecoder`] behaves like `flate2::bufread::MultiGzDecoder`: members are decoded one
//! after the other until the input ends, and bytes after a member that do not start another
//! one are an error.

use std::io::{self, BufRead, Read};

/// What is wrong with a gzip stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GzipError {
    /// Not a gzip member header: wrong magic, method or reserved flags.
    #[error("invalid gzip header")]
    Header,
    /// The header's own CRC-16 (FHCRC) does not match it.
    #[error("corrupt gzip header does not have a matching checksum")]
    HeaderCrc,
    /// The deflate data cannot be decoded.
    #[error("corrupt deflate stream: {0}")]
    Deflate(&'static str),
    /// A member's trailer disagrees with the data decoded from it.
    #[error("corrupt gzip stream does not have a matching checksum or length")]
    Trailer,
    /// The input ends inside a member.
    #[error("unexpected EOF inside a gzip member")]
    Truncated,
    /// ISA-L neither took input nor gave output although it had both to work with.
    #[error("the ISA-L inflate made no progress")]
    Stalled,
    /// ISA-L reported something this module does not expect of raw deflate decoding.
    #[error("ISA-L inflate failed with code {0}")]
    Other(i32),
}

impl From<GzipError> for io::Error {
    fn from(e: GzipError) -> Self {
        let kind = if e == GzipError::Truncated {
            io::ErrorKind::UnexpectedEof
        } else {
            io::ErrorKind::InvalidData
        };
        io::Error::new(kind, e)
    }
}

/// Where the decoder is between reads.
enum Phase {
    /// A member header comes next.
    Header,
    /// Inside a member's deflate data or trailer.
    Body,
    /// A member just ended: another one follows unless the input does.
    Between,
    /// The input ended after a complete member.
    Done,
    /// A previous read failed: every later read fails the same way rather than look like the
    /// end of the stream.
    Failed(io::ErrorKind, String),
}

/// A reader of the decompressed bytes of concatenated gzip members.
pub struct MultiGzDecoder<R> {
    input: R,
    inflater: raw::Inflater,
    phase: Phase,
}

impl<R: BufRead> MultiGzDecoder<R> {
    /// Decodes `input`, which must start with a gzip member.
    pub fn new(input: R) -> Self {
        MultiGzDecoder {
            input,
            inflater: raw::Inflater::new(),
            phase: Phase::Header,
        }
    }

    /// The input reader, positioned after the last byte decoded.
    pub fn into_inner(self) -> R {
        self.input
    }

    fn step(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            match &self.phase {
                Phase::Failed(kind, message) => return Err(io::Error::new(*kind, message.clone())),
                Phase::Done => return Ok(0),
                Phase::Header => {
                    read_header(&mut self.input)?;
                    self.inflater.reset();
                    self.phase = Phase::Body;
                }
                Phase::Between => {
                    self.phase = if self.input.fill_buf()?.is_empty() {
                        Phase::Done
                    } else {
                        Phase::Header
                    };
                }
                Phase::Body => {
                    let input = self.input.fill_buf()?;
                    let at_end = input.is_empty();
                    let step = self.inflater.inflate(input, out)?;
                    self.input.consume(step.consumed);
                    if step.finished {
                        self.phase = Phase::Between;
                    } else if step.written == 0 && step.consumed == 0 {
                        // ISA-L takes every input byte it is given, and hands out pending
                        // output even when given none: no progress at all means the member
                        // was cut short, or (never seen) that ISA-L is stuck.
                        return Err(if at_end {
                            GzipError::Truncated
                        } else {
                            GzipError::Stalled
                        }
                        .into());
                    }
                    if step.written > 0 {
                        return Ok(step.written);
                    }
                }
            }
        }
    }
}

impl<R: BufRead> Read for MultiGzDecoder<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        self.step(out).inspect_err(|e| {
            if e.kind() != io::ErrorKind::Interrupted {
                self.phase = Phase::Failed(e.kind(), e.to_string());
            }
        })
    }
}

const FHCRC: u8 = 1 << 1;
const FEXTRA: u8 = 1 << 2;
const FNAME: u8 = 1 << 3;
const FCOMMENT: u8 = 1 << 4;
const FRESERVED: u8 = 0b1110_0000;

/// Reads one member header (RFC 1952, 2.3), checking its CRC-16 when it has one. Names and
/// comments are skipped, not kept, so a header of any length costs no memory.
fn read_header(input: &mut impl BufRead) -> io::Result<()> {
    let mut crc = flate2::Crc::new();
    let mut fixed = [0u8; 10];
    read_exact(input, &mut fixed, &mut crc)?;
    if fixed[..3] != [0x1f, 0x8b, 8] || fixed[3] & FRESERVED != 0 {
        return Err(GzipError::Header.into());
    }
    let flags = fixed[3];
    if flags & FEXTRA != 0 {
        let mut len = [0u8; 2];
        read_exact(input, &mut len, &mut crc)?;
        let mut left = usize::from(u16::from_le_bytes(len));
        while left > 0 {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                return Err(GzipError::Truncated.into());
            }
            let n = left.min(buf.len());
            crc.update(&buf[..n]);
            input.consume(n);
            left -= n;
        }
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            skip_to_nul(input, &mut crc)?;
        }
    }
    if flags & FHCRC != 0 {
        let want = crc.sum() as u16;
        let mut stored = [0u8; 2];
        read_exact(input, &mut stored, &mut flate2::Crc::new())?;
        if u16::from_le_bytes(stored) != want {
            return Err(GzipError::HeaderCrc.into());
        }
    }
    Ok(())
}

fn read_exact(input: &mut impl BufRead, buf: &mut [u8], crc: &mut flate2::Crc) -> io::Result<()> {
    let mut at = 0;
    while at < buf.len() {
        let avail = input.fill_buf()?;
        if avail.is_empty() {
            return Err(GzipError::Truncated.into());
        }
        let n = (buf.len() - at).min(avail.len());
        buf[at..at + n].copy_from_slice(&avail[..n]);
        input.consume(n);
        at += n;
    }
    crc.update(buf);
    Ok(())
}

fn skip_to_nul(input: &mut impl BufRead, crc: &mut flate2::Crc) -> io::Result<()> {
    loop {
        let avail = input.fill_buf()?;
        if avail.is_empty() {
            return Err(GzipError::Truncated.into());
        }
        let (n, found) = match memchr::memchr(0, avail) {
            Some(i) => (i + 1, true),
            None => (avail.len(), false),
        };
        crc.update(&avail[..n]);
        input.consume(n);
        if found {
            return Ok(());
        }
    }
}

/// The only unsafe code in the crate: ISA-L's stateful inflate behind a safe interface.
#[allow(unsafe_code)]
mod raw {
    use super::GzipError;
    use isal_sys::igzip_lib as ffi;

    /// The result of one [`Inflater::inflate`] call.
    pub(super) struct Step {
        /// Input bytes ISA-L took (it may keep some in its own state; they count as taken).
        pub consumed: usize,
        /// Output bytes written to the front of the buffer.
        pub written: usize,
        /// The member's deflate data ended and its trailer matched.
        pub finished: bool,
    }

    /// One ISA-L inflate state, decoding raw deflate followed by a gzip trailer.
    ///
    /// Invariants that make the calls below sound:
    /// * the state is boxed, so its address is stable, and fully initialised before use: zeroed
    ///   (a valid value for every field: integers, arrays, a union of integers, raw pointers)
    ///   and then set up by `isal_inflate_init`;
    /// * `next_in`/`avail_in` and `next_out`/`avail_out` are set from live slices right before
    ///   each `isal_inflate` call and read right after it, inside the borrows of those slices;
    ///   ISA-L keeps no pointer to them between calls (its history and pending output live in
    ///   the state's own buffers), so the stale pointers left behind are never dereferenced;
    /// * lengths given to ISA-L are clamped to `u32`, its field width, so it never sees more
    ///   than the slices hold; ISA-L reads at most `avail_in` and writes at most `avail_out`;
    /// * `&mut self` makes every call exclusive: the state is never shared between threads.
    pub(super) struct Inflater(Box<ffi::inflate_state>);

    impl Inflater {
        pub(super) fn new() -> Self {
            // Allocated zeroed in place: the state is 85 KiB, too big to build on the
            // stack and move.
            let layout = std::alloc::Layout::new::<ffi::inflate_state>();
            // SAFETY: the layout is not zero-sized; allocation failure is handled; all-zero
            // bytes are a valid `inflate_state` (see the type's invariants), and the global
            // allocator's block with this layout is what `Box` frees.
            let mut state = unsafe {
                let ptr = std::alloc::alloc_zeroed(layout).cast::<ffi::inflate_state>();
                if ptr.is_null() {
                    std::alloc::handle_alloc_error(layout);
                }
                Box::from_raw(ptr)
            };
            // SAFETY: `state` points to a live, exclusively borrowed `inflate_state`.
            unsafe { ffi::isal_inflate_init(&mut *state) };
            state.crc_flag = ffi::ISAL_GZIP_NO_HDR_VER;
            Inflater(state)
        }

        /// Ready for a new member; keeps the trailer checking set up by [`Inflater::new`].
        pub(super) fn reset(&mut self) {
            // SAFETY: as in `new`; `isal_inflate_reset` leaves `crc_flag` alone.
            unsafe { ffi::isal_inflate_reset(&mut *self.0) };
        }

        /// Inflates from `input` into `output` as far as either allows.
        pub(super) fn inflate(
            &mut self,
            input: &[u8],
            output: &mut [u8],
        ) -> Result<Step, GzipError> {
            let avail_in = u32::try_from(input.len()).unwrap_or(u32::MAX);
            let avail_out = u32::try_from(output.len()).unwrap_or(u32::MAX);
            let state = &mut *self.0;
            // ISA-L's `next_in` is `*mut` but it only reads through it.
            state.next_in = input.as_ptr().cast_mut();
            state.avail_in = avail_in;
            state.next_out = output.as_mut_ptr();
            state.avail_out = avail_out;
            // SAFETY: the pointers and lengths were just set from `input` and `output`, which
            // outlive the call; the rest of the state is ISA-L's own (see the type's invariants).
            let code = unsafe { ffi::isal_inflate(state) };
            let step = Step {
                consumed: (avail_in - state.avail_in) as usize,
                written: (avail_out - state.avail_out) as usize,
                finished: state.block_state == ffi::isal_block_state_ISAL_BLOCK_FINISH,
            };
            match code {
                0 => Ok(step),
                ffi::ISAL_INVALID_BLOCK => Err(GzipError::Deflate("invalid block")),
                ffi::ISAL_INVALID_SYMBOL => Err(GzipError::Deflate("invalid symbol")),
                ffi::ISAL_INVALID_LOOKBACK => Err(GzipError::Deflate("distance too far back")),
                ffi::ISAL_INCORRECT_CHECKSUM => Err(GzipError::Trailer),
                other => Err(GzipError::Other(other)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Write};

    /// A small xorshift generator: reproducible inputs without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// Data like a layer's: runs, repeats of earlier bytes (back-references near and far),
    /// text, and stretches of noise that deflate stores.
    fn data(rng: &mut Rng, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let n = (1 + rng.below(300)).min(len - out.len());
            match rng.below(4) {
                0 => out.extend((0..n).map(|_| rng.next() as u8)),
                1 if !out.is_empty() => {
                    let from = rng.below(out.len());
                    for i in 0..n {
                        out.push(out[from + i % (out.len() - from)]);
                    }
                }
                2 => out.extend(std::iter::repeat_n(rng.next() as u8, n)),
                _ => out.extend(b"usr/lib/x86_64-linux-gnu/".iter().cycle().take(n)),
            }
        }
        out
    }

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
        gz.write_all(data).unwrap();
        gz.finish().unwrap()
    }

    /// A member with every optional header field `flags` asks for, FHCRC included, which
    /// flate2's encoder does not write.
    fn member_with_header(flags: u8, data: &[u8]) -> Vec<u8> {
        let mut m = vec![0x1f, 0x8b, 8, flags, 1, 2, 3, 4, 0, 3];
        if flags & FEXTRA != 0 {
            m.extend([6, 0, b'L', b'G', 2, 0, 7, 7]);
        }
        if flags & FNAME != 0 {
            m.extend(b"layer.tar\0");
        }
        if flags & FCOMMENT != 0 {
            m.extend(b"a comment\0");
        }
        if flags & FHCRC != 0 {
            let mut crc = flate2::Crc::new();
            crc.update(&m);
            m.extend((crc.sum() as u16).to_le_bytes());
        }
        let mut body = flate2::write::DeflateEncoder::new(m, flate2::Compression::default());
        body.write_all(data).unwrap();
        let mut m = body.finish().unwrap();
        let mut crc = flate2::Crc::new();
        crc.update(data);
        m.extend(crc.sum().to_le_bytes());
        m.extend((data.len() as u32).to_le_bytes());
        m
    }

    fn reference(gz: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        flate2::bufread::MultiGzDecoder::new(gz).read_to_end(&mut out)?;
        Ok(out)
    }

    /// Decodes through an input buffer of `in_cap` bytes into reads of `out_len`, scribbling
    /// over the output buffer before each read so no decoder state can hide in it.
    fn isal(gz: &[u8], in_cap: usize, out_len: usize) -> io::Result<Vec<u8>> {
        let mut dec = MultiGzDecoder::new(BufReader::with_capacity(in_cap, gz));
        let mut buf = vec![0u8; out_len];
        let mut out = Vec::new();
        loop {
            buf.fill(0xa5);
            match dec.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// Both decoders succeed with the same bytes, or both fail.
    fn agree(gz: &[u8], in_cap: usize, out_len: usize) {
        match (reference(gz), isal(gz, in_cap, out_len)) {
            (Ok(a), Ok(b)) => assert!(a == b, "outputs differ ({} vs {} bytes)", a.len(), b.len()),
            (Err(_), Err(_)) => {}
            (a, b) => panic!(
                "flate2 {:?}, ISA-L {:?}",
                a.map(|v| v.len()),
                b.map(|v| v.len())
            ),
        }
    }

    #[test]
    fn random_data_at_every_level_decodes_as_flate2_does() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for (len, level) in [
            (0, 6),
            (1, 1),
            (1000, 0),
            (70_000, 9),
            (1 << 20, 6),
            (3 << 20, 1),
        ] {
            let plain = data(&mut rng, len);
            let gz = gzip(&plain, level);
            assert_eq!(
                isal(&gz, 256 << 10, 256 << 10).unwrap(),
                plain,
                "len {len} level {level}"
            );
            agree(&gz, 8192, 8192);
        }
    }

    #[test]
    fn members_are_concatenated_and_empty_ones_are_members_too() {
        let mut rng = Rng(7);
        let (a, b) = (data(&mut rng, 100_000), data(&mut rng, 33));
        let mut gz = gzip(&a, 6);
        gz.extend(gzip(b"", 6));
        gz.extend(gzip(&b, 1));
        gz.extend(gzip(b"", 0));
        let want = [a, b].concat();
        for (in_cap, out_len) in [
            (1, 1),
            (3, 7),
            (10, 1 << 16),
            (1 << 16, 5),
            (256 << 10, 256 << 10),
        ] {
            assert_eq!(
                isal(&gz, in_cap, out_len).unwrap(),
                want,
                "{in_cap}/{out_len}"
            );
        }
        let empties = [gzip(b"", 6), gzip(b"", 9)].concat();
        assert_eq!(isal(&empties, 1, 1).unwrap(), b"");
    }

    #[test]
    fn optional_header_fields_are_skipped_and_the_header_crc_checked() {
        let mut rng = Rng(11);
        let plain = data(&mut rng, 50_000);
        for flags in 0..32u8 {
            let gz = member_with_header(flags & !1, &plain);
            for (in_cap, out_len) in [(1, 3), (4, 1000), (1 << 16, 1 << 16)] {
                assert_eq!(
                    isal(&gz, in_cap, out_len).unwrap(),
                    plain,
                    "flags {flags:#x}"
                );
            }
        }
        let mut bad = member_with_header(FHCRC | FNAME, &plain);
        bad[10] ^= 1; // a byte of the name: the header CRC no longer matches
        let err = isal(&bad, 1 << 16, 1 << 16).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("header"), "{err}");
        assert!(reference(&bad).is_err());
    }

    #[test]
    fn every_truncation_is_an_unexpected_eof() {
        let mut rng = Rng(3);
        let gz = member_with_header(FEXTRA | FNAME | FHCRC, &data(&mut rng, 5000));
        for cut in 0..gz.len() {
            for (in_cap, out_len) in [(1, 1), (64, 4096)] {
                let err = isal(&gz[..cut], in_cap, out_len).unwrap_err();
                assert_eq!(
                    err.kind(),
                    io::ErrorKind::UnexpectedEof,
                    "cut at {cut}: {err}"
                );
            }
            assert!(
                reference(&gz[..cut]).is_err(),
                "flate2 accepts a cut at {cut}"
            );
        }
    }

    #[test]
    fn corrupted_bytes_fail_or_decode_exactly_as_flate2() {
        let mut rng = Rng(5);
        let plain = data(&mut rng, 20_000);
        let gz = gzip(&plain, 6);
        for at in 0..gz.len() {
            for bit in [0x01, 0x10, 0x80] {
                let mut bad = gz.clone();
                bad[at] ^= bit;
                agree(&bad, 97, 1000);
            }
        }
        // The CRC-32 and the length in the trailer are both checked.
        for at in [gz.len() - 8, gz.len() - 1] {
            let mut bad = gz.clone();
            bad[at] ^= 0x40;
            let err = isal(&bad, 1 << 16, 1 << 16).unwrap_err();
            assert!(err.to_string().contains("checksum"), "{err}");
        }
    }

    #[test]
    fn bytes_after_a_member_must_start_another() {
        let gz = gzip(b"hello", 6);
        for tail in [
            &b"\0"[..],
            b"\x1f",
            b"\x1f\x8b\x08",
            b"garbage after the stream",
        ] {
            let bad = [&gz[..], tail].concat();
            assert!(isal(&bad, 1 << 16, 1 << 16).is_err(), "{tail:?}");
            assert!(reference(&bad).is_err(), "{tail:?}");
        }
        assert!(isal(b"", 16, 16).is_err(), "no member at all");
    }

    #[test]
    fn a_failed_read_keeps_failing() {
        let gz = gzip(&[1u8; 100_000], 6);
        let mut dec = MultiGzDecoder::new(&gz[..gz.len() - 3]);
        let mut out = Vec::new();
        let first = dec.read_to_end(&mut out).unwrap_err();
        let again = dec.read(&mut [0u8; 10]).unwrap_err();
        assert_eq!(first.kind(), again.kind());
        assert_eq!(first.to_string(), again.to_string());
    }

    /// Random mutations of valid streams (bit flips, cuts, inserted and repeated bytes) read
    /// with random buffer sizes: never a panic, always flate2's answer.
    #[test]
    fn mutated_streams_never_panic_and_agree_with_flate2() {
        let mut rng = Rng(0xdead_beef);
        for round in 0..400 {
            let len = rng.below(20_000);
            let plain = data(&mut rng, len);
            let mut gz = if round % 3 == 0 {
                member_with_header(rng.below(32) as u8 & !1, &plain)
            } else {
                gzip(&plain, rng.below(10) as u32)
            };
            if round % 5 == 0 {
                gz.extend(gzip(&plain[..plain.len() / 2], 6));
            }
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(gz.len());
                match rng.below(4) {
                    0 => gz[at] ^= 1 << rng.below(8),
                    1 => gz.truncate(at),
                    2 => gz.insert(at, rng.next() as u8),
                    _ => {
                        let byte = gz[at];
                        gz.splice(at..at, std::iter::repeat_n(byte, 1 + rng.below(40)));
                    }
                }
                if gz.is_empty() {
                    break;
                }
            }
            agree(&gz, 1 + rng.below(5000), 1 + rng.below(70_000));
        }
    }
}
