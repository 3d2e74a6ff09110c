//! rpm's own "ndb" package database (`Packages.db`: SUSE, and rpm 4.16+ built for it).
//!
//! Layout (little-endian, lib/backend/ndb/rpmpkg.c): a 32-byte header (`RpmP`, version 0,
//! generation, slot page count) at the start of the first of the 4 KiB slot pages; each slot is
//! 16 bytes (`Slot`, package index, block offset, block count), index 0 meaning free. A slot
//! points at a blob in 16-byte blocks: a head (`BlbS`, package index, generation, length), the
//! header blob, padding, and a tail (Adler-32 of everything before it, length, `BlbE`).

const PAGE_SIZE: usize = 4096;
const SLOT_SIZE: usize = 16;
const BLOCK: usize = 16;
const HEAD: usize = 16;
const TAIL: usize = 12;
/// rpm's own cap on slot pages.
const MAX_SLOT_PAGES: usize = 2048;

fn le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn magic(m: &[u8; 4]) -> u32 {
    u32::from_le_bytes(*m)
}

fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65521;
    let (mut a, mut b) = (1u32, 0u32);
    // 5552 bytes is the most that can be summed before b may overflow.
    for chunk in data.chunks(5552) {
        for &x in chunk {
            a += u32::from(x);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

/// `Packages.db` starts with this.
pub(super) fn is_ndb(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && le(bytes, 0) == magic(b"RpmP")
}

/// The header blob of every used slot of an ndb `Packages.db`.
pub(super) fn read_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.len() < PAGE_SIZE || !is_ndb(bytes) {
        return Err("not an rpm ndb database".into());
    }
    let version = le(bytes, 4);
    if version != 0 {
        return Err(format!("unsupported ndb version {version}"));
    }
    let slot_pages = le(bytes, 12) as usize;
    if slot_pages == 0 || slot_pages > MAX_SLOT_PAGES || slot_pages * PAGE_SIZE > bytes.len() {
        return Err(format!("implausible slot page count {slot_pages}"));
    }
    let mut blobs = Vec::new();
    // The first two slots' worth of bytes are the database header.
    for at in (2 * SLOT_SIZE..slot_pages * PAGE_SIZE).step_by(SLOT_SIZE) {
        if le(bytes, at) != magic(b"Slot") {
            return Err(format!("bad slot at offset {at}"));
        }
        let index = le(bytes, at + 4);
        if index == 0 {
            continue;
        }
        let (offset, count) = (le(bytes, at + 8) as usize, le(bytes, at + 12) as usize);
        blobs.push(
            read_blob(bytes, index, offset, count).map_err(|e| format!("package {index}: {e}"))?,
        );
    }
    Ok(blobs)
}

fn read_blob(bytes: &[u8], index: u32, offset: usize, count: usize) -> Result<Vec<u8>, String> {
    let start = offset.checked_mul(BLOCK).ok_or("blob offset overflows")?;
    let end = count
        .checked_mul(BLOCK)
        .and_then(|n| n.checked_add(start))
        .ok_or("blob size overflows")?;
    let block = bytes
        .get(start..end)
        .filter(|b| b.len() >= HEAD + TAIL)
        .ok_or("blob outside the file")?;
    if le(block, 0) != magic(b"BlbS") || le(block, 4) != index {
        return Err("bad blob head".into());
    }
    let len = le(block, 12) as usize;
    if (HEAD + len + TAIL).div_ceil(BLOCK) != count {
        return Err(format!("blob of {len} bytes in {count} blocks"));
    }
    let tail = block.len() - TAIL;
    if le(block, tail + 4) as usize != len || le(block, tail + 8) != magic(b"BlbE") {
        return Err("bad blob tail".into());
    }
    if adler32(&block[..tail]) != le(block, tail) {
        return Err("blob checksum mismatch".into());
    }
    Ok(block[HEAD..HEAD + len].to_vec())
}
