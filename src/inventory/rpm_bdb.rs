//! The Berkeley DB hash database rpm used before 4.16 (`/var/lib/rpm/Packages`: RHEL/CentOS 7
//! and 8, Amazon Linux 2): key = 4-byte package instance number, value = the header blob.
//!
//! Only what rpm writes is read: the metadata page (page 0) for the page size, the last page
//! number and the byte order, then every hash page in file order, whose entries come in (key,
//! data) pairs. Data is either on the page (`H_KEYDATA`) or in a chain of overflow pages
//! (`H_OFFPAGE`). Every offset, length and chain is checked against the file: a damaged or
//! hostile file gives an error, never more output than the file holds.

const HASH_MAGIC: u32 = 0x0006_1561;
const BTREE_MAGIC: u32 = 0x0005_3162;
/// Page header size (`PAGE` in db_page.h); entries' offsets follow it.
const PAGE_HEADER: usize = 26;

// Page types.
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;

// Hash item types.
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

struct Db<'a> {
    bytes: &'a [u8],
    page_size: usize,
    pages: usize,
    big_endian: bool,
}

impl<'a> Db<'a> {
    fn u16(&self, at: usize) -> Option<usize> {
        let b: [u8; 2] = self.bytes.get(at..at + 2)?.try_into().ok()?;
        Some(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        } as usize)
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn page(&self, n: usize) -> &'a [u8] {
        &self.bytes[n * self.page_size..(n + 1) * self.page_size]
    }

    /// The `total` bytes of an overflow chain starting at page `first`.
    fn overflow(&self, first: u32, total: usize) -> Result<Vec<u8>, String> {
        if total > self.bytes.len() {
            return Err(format!("an overflow item claims {total} bytes"));
        }
        let mut out = Vec::with_capacity(total);
        let mut next = first as usize;
        // A chain visits each page at most once; more steps means a loop.
        for _ in 0..self.pages {
            if out.len() == total {
                return Ok(out);
            }
            if next == 0 || next >= self.pages {
                return Err(format!("overflow chain points to page {next}"));
            }
            let start = next * self.page_size;
            let page = self.page(next);
            if page[25] != P_OVERFLOW || self.u32(start + 8) != Some(next as u32) {
                return Err(format!("page {next} is not an overflow page"));
            }
            // On an overflow page, the "high free offset" field holds the bytes it carries.
            let len = self.u16(start + 22).unwrap_or(0);
            if len == 0 || len > self.page_size - PAGE_HEADER || len > total - out.len() {
                return Err(format!("overflow page {next} holds {len} bytes"));
            }
            out.extend_from_slice(&page[PAGE_HEADER..PAGE_HEADER + len]);
            next = self.u32(start + 16).unwrap_or(0) as usize;
        }
        if out.len() == total {
            Ok(out)
        } else {
            Err("overflow chain loops".into())
        }
    }

    /// An item of hash page `n` at `[off, end)`: inline bytes or an overflow chain.
    fn item(&self, n: usize, off: usize, end: usize) -> Result<Vec<u8>, String> {
        let page = self.page(n);
        if off < PAGE_HEADER || off >= end || end > self.page_size {
            return Err(format!(
                "page {n}: item at {off}..{end} is outside the page"
            ));
        }
        let start = n * self.page_size + off;
        match page[off] {
            H_KEYDATA => Ok(page[off + 1..end].to_vec()),
            H_OFFPAGE if end - off >= 12 => {
                let first = self.u32(start + 4).expect("in page");
                let total = self.u32(start + 8).expect("in page") as usize;
                self.overflow(first, total)
            }
            t => Err(format!("page {n}: unsupported item type {t}")),
        }
    }
}

/// A Berkeley DB file (hash or btree, either byte order): its magic is at offset 12.
pub(super) fn is_bdb(bytes: &[u8]) -> bool {
    bytes.get(12..16).is_some_and(|m| {
        let m = u32::from_le_bytes(m.try_into().expect("4 bytes"));
        [HASH_MAGIC, BTREE_MAGIC]
            .iter()
            .any(|&x| m == x || m == x.swap_bytes())
    })
}

/// The header blobs of a Berkeley DB hash `Packages` file.
pub(super) fn read_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    if bytes.len() < 512 {
        return Err("too short for a Berkeley DB file".into());
    }
    let magic = u32::from_le_bytes(bytes[12..16].try_into().expect("4 bytes"));
    let big_endian = match magic {
        HASH_MAGIC => false,
        m if m == HASH_MAGIC.swap_bytes() => true,
        m if m == BTREE_MAGIC || m == BTREE_MAGIC.swap_bytes() => {
            return Err("a Berkeley DB btree, not the hash database rpm writes".into());
        }
        _ => return Err("not a Berkeley DB hash database".into()),
    };
    let mut db = Db {
        bytes,
        page_size: 0,
        pages: 0,
        big_endian,
    };
    let version = db.u32(16).expect("in file");
    if !(8..=10).contains(&version) {
        return Err(format!("unsupported hash version {version}"));
    }
    if bytes[24] != 0 {
        return Err("encrypted Berkeley DB".into());
    }
    let page_size = db.u32(20).expect("in file") as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("implausible page size {page_size}"));
    }
    let last = db.u32(32).expect("in file") as usize;
    if (last + 1).saturating_mul(page_size) > bytes.len() {
        return Err(format!(
            "truncated: the last page is {last}, the file holds {} pages of {page_size} bytes",
            bytes.len() / page_size
        ));
    }
    db.page_size = page_size;
    db.pages = last + 1;

    let mut blobs = Vec::new();
    let mut total = 0usize;
    for n in 1..db.pages {
        let page = db.page(n);
        if !matches!(page[25], P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let start = n * page_size;
        let entries = db.u16(start + 20).expect("in page");
        if entries % 2 != 0 || PAGE_HEADER + entries * 2 > page_size {
            return Err(format!("page {n}: {entries} entries"));
        }
        let offset = |i: usize| db.u16(start + PAGE_HEADER + 2 * i).expect("in page");
        // Items are packed from the end of the page down: each ends where the previous begins.
        for pair in (0..entries).step_by(2) {
            let key_end = if pair == 0 {
                page_size
            } else {
                offset(pair - 1)
            };
            let (key_off, data_off) = (offset(pair), offset(pair + 1));
            let key = db.item(n, key_off, key_end)?;
            // Instance 0 is rpm's counter record, not a package.
            if key.len() == 4 && key == [0; 4] {
                continue;
            }
            let blob = db.item(n, data_off, key_off)?;
            total += blob.len();
            // Each page's bytes belong to one item: more output than input means a crafted
            // file sharing chains between items.
            if total > bytes.len() {
                return Err("items add up to more than the file holds".into());
            }
            blobs.push(blob);
        }
    }
    Ok(blobs)
}
