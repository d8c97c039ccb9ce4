//! Byte layout of the WAL file: the 32-byte file header, the 24-byte frame header, and
//! SQLite's WAL checksum. Everything here is pure (no I/O) so that recovery, append and the
//! tests share one definition of the format.
//!
//! All integer fields are stored big-endian. Only the checksum *words* depend on the magic:
//! [`MAGIC_LITTLE_ENDIAN`] means the checksum reads the data as little-endian 32-bit words,
//! [`MAGIC_BIG_ENDIAN`] as big-endian words.

/// Size of the WAL file header.
pub const WAL_HEADER_BYTES: usize = 32;
/// Size of the header in front of every frame's page image.
pub const FRAME_HEADER_BYTES: usize = 24;

/// Magic number of a WAL whose checksums use little-endian words.
pub const MAGIC_LITTLE_ENDIAN: u32 = 0x377f_0682;
/// Magic number of a WAL whose checksums use big-endian words.
pub const MAGIC_BIG_ENDIAN: u32 = 0x377f_0683;
/// The only WAL format version SQLite has ever written.
pub const FORMAT_VERSION: u32 = 3_007_000;

/// Smallest and largest page sizes SQLite accepts.
pub const PAGE_SIZE_MIN: usize = 512;
pub const PAGE_SIZE_MAX: usize = 65_536;

// WAL header field offsets, chained so that each follows the previous one.
pub const HDR_MAGIC_OFFSET: usize = 0;
pub const HDR_VERSION_OFFSET: usize = HDR_MAGIC_OFFSET + 4;
pub const HDR_PAGE_SIZE_OFFSET: usize = HDR_VERSION_OFFSET + 4;
pub const HDR_CHECKPOINT_SEQ_OFFSET: usize = HDR_PAGE_SIZE_OFFSET + 4;
pub const HDR_SALT1_OFFSET: usize = HDR_CHECKPOINT_SEQ_OFFSET + 4;
pub const HDR_SALT2_OFFSET: usize = HDR_SALT1_OFFSET + 4;
pub const HDR_CHECKSUM1_OFFSET: usize = HDR_SALT2_OFFSET + 4;
pub const HDR_CHECKSUM2_OFFSET: usize = HDR_CHECKSUM1_OFFSET + 4;
const _: () = assert!(HDR_CHECKSUM2_OFFSET + 4 == WAL_HEADER_BYTES);

// Frame header field offsets.
pub const FRAME_PAGE_NO_OFFSET: usize = 0;
pub const FRAME_COMMIT_SIZE_OFFSET: usize = FRAME_PAGE_NO_OFFSET + 4;
pub const FRAME_SALT1_OFFSET: usize = FRAME_COMMIT_SIZE_OFFSET + 4;
pub const FRAME_SALT2_OFFSET: usize = FRAME_SALT1_OFFSET + 4;
pub const FRAME_CHECKSUM1_OFFSET: usize = FRAME_SALT2_OFFSET + 4;
pub const FRAME_CHECKSUM2_OFFSET: usize = FRAME_CHECKSUM1_OFFSET + 4;
const _: () = assert!(FRAME_CHECKSUM2_OFFSET + 4 == FRAME_HEADER_BYTES);
/// The frame checksum covers the frame header up to (not including) the salts.
pub const FRAME_CHECKSUMMED_HEADER_BYTES: usize = FRAME_SALT1_OFFSET;

/// Byte order of the 32-bit words the checksum is computed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    pub fn magic(self) -> u32 {
        match self {
            ByteOrder::Little => MAGIC_LITTLE_ENDIAN,
            ByteOrder::Big => MAGIC_BIG_ENDIAN,
        }
    }

    fn from_magic(magic: u32) -> Option<ByteOrder> {
        match magic {
            MAGIC_LITTLE_ENDIAN => Some(ByteOrder::Little),
            MAGIC_BIG_ENDIAN => Some(ByteOrder::Big),
            _ => None,
        }
    }
}

/// The running checksum: SQLite's pair (s0, s1).
pub type Checksum = (u32, u32);

/// Whether `page_size` is one SQLite can use: a power of two in 512..=65536.
pub fn is_valid_page_size(page_size: usize) -> bool {
    page_size.is_power_of_two() && (PAGE_SIZE_MIN..=PAGE_SIZE_MAX).contains(&page_size)
}

/// Size of one frame (header plus page image) in bytes.
pub fn frame_bytes(page_size: usize) -> u64 {
    (FRAME_HEADER_BYTES + page_size) as u64
}

/// File offset of frame `frame_no`'s header (frames are numbered from 1).
pub fn frame_offset_bytes(frame_no: u64, page_size: usize) -> u64 {
    debug_assert!(frame_no >= 1, "frames are numbered from 1");
    WAL_HEADER_BYTES as u64 + (frame_no - 1) * frame_bytes(page_size)
}

pub fn get_u32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes([
        bytes[offset],
        bytes[offset + 1],
        bytes[offset + 2],
        bytes[offset + 3],
    ])
}

pub fn put_u32(bytes: &mut [u8], offset: usize, value: u32) {
    bytes[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

/// SQLite's WAL checksum (`walChecksumBytes`), continuing from `seed`.
///
/// `data.len()` must be a multiple of 8: the checksum consumes pairs of 32-bit words.
/// Every caller passes a header prefix (8 or 24 bytes) or a page (a power of two >= 512).
pub fn checksum(order: ByteOrder, data: &[u8], seed: Checksum) -> Checksum {
    debug_assert!(
        data.len() & 7 == 0, // a multiple of 8 (`is_multiple_of` is newer than our MSRV)
        "checksummed length {} not a multiple of 8",
        data.len()
    );
    let word = |b: &[u8]| match order {
        ByteOrder::Little => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        ByteOrder::Big => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
    };
    let (mut s0, mut s1) = seed;
    for pair in data.chunks_exact(8) {
        s0 = s0.wrapping_add(word(&pair[0..4])).wrapping_add(s1);
        s1 = s1.wrapping_add(word(&pair[4..8])).wrapping_add(s0);
    }
    (s0, s1)
}

/// The decoded WAL file header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalHeader {
    pub order: ByteOrder,
    pub page_size: usize,
    pub checkpoint_seq: u32,
    pub salt1: u32,
    pub salt2: u32,
}

impl WalHeader {
    /// The header's bytes and its checksum (the seed of frame 1's checksum).
    pub fn encode(&self) -> ([u8; WAL_HEADER_BYTES], Checksum) {
        assert!(
            is_valid_page_size(self.page_size),
            "page size {} invalid",
            self.page_size
        );
        let mut bytes = [0u8; WAL_HEADER_BYTES];
        put_u32(&mut bytes, HDR_MAGIC_OFFSET, self.order.magic());
        put_u32(&mut bytes, HDR_VERSION_OFFSET, FORMAT_VERSION);
        // 65536 fits in the 32-bit field as is (unlike the database header's 16-bit one).
        put_u32(&mut bytes, HDR_PAGE_SIZE_OFFSET, self.page_size as u32);
        put_u32(&mut bytes, HDR_CHECKPOINT_SEQ_OFFSET, self.checkpoint_seq);
        put_u32(&mut bytes, HDR_SALT1_OFFSET, self.salt1);
        put_u32(&mut bytes, HDR_SALT2_OFFSET, self.salt2);
        let sum = checksum(self.order, &bytes[..HDR_CHECKSUM1_OFFSET], (0, 0));
        put_u32(&mut bytes, HDR_CHECKSUM1_OFFSET, sum.0);
        put_u32(&mut bytes, HDR_CHECKSUM2_OFFSET, sum.1);
        (bytes, sum)
    }

    /// Decodes and validates a header; `None` for anything SQLite would not accept
    /// (short input, bad magic, unknown version, bad page size, checksum mismatch).
    pub fn decode(bytes: &[u8]) -> Option<(WalHeader, Checksum)> {
        if bytes.len() < WAL_HEADER_BYTES {
            return None;
        }
        let order = ByteOrder::from_magic(get_u32(bytes, HDR_MAGIC_OFFSET))?;
        if get_u32(bytes, HDR_VERSION_OFFSET) != FORMAT_VERSION {
            return None;
        }
        let page_size = get_u32(bytes, HDR_PAGE_SIZE_OFFSET) as usize;
        if !is_valid_page_size(page_size) {
            return None;
        }
        let sum = checksum(order, &bytes[..HDR_CHECKSUM1_OFFSET], (0, 0));
        let stored = (
            get_u32(bytes, HDR_CHECKSUM1_OFFSET),
            get_u32(bytes, HDR_CHECKSUM2_OFFSET),
        );
        if sum != stored {
            return None;
        }
        let header = WalHeader {
            order,
            page_size,
            checkpoint_seq: get_u32(bytes, HDR_CHECKPOINT_SEQ_OFFSET),
            salt1: get_u32(bytes, HDR_SALT1_OFFSET),
            salt2: get_u32(bytes, HDR_SALT2_OFFSET),
        };
        Some((header, sum))
    }
}

/// Writes one frame (header then page image) into `out`, which must be exactly
/// `FRAME_HEADER_BYTES + page.len()` long, and returns the frame's checksum (the seed of
/// the next frame).
pub fn encode_frame(
    out: &mut [u8],
    header: &WalHeader,
    page_no: u32,
    commit_db_size_pages: u32,
    page: &[u8],
    seed: Checksum,
) -> Checksum {
    assert_eq!(
        out.len(),
        FRAME_HEADER_BYTES + page.len(),
        "frame buffer size"
    );
    debug_assert!(page_no != 0, "page 0 does not exist");
    put_u32(out, FRAME_PAGE_NO_OFFSET, page_no);
    put_u32(out, FRAME_COMMIT_SIZE_OFFSET, commit_db_size_pages);
    put_u32(out, FRAME_SALT1_OFFSET, header.salt1);
    put_u32(out, FRAME_SALT2_OFFSET, header.salt2);
    let sum = checksum(header.order, &out[..FRAME_CHECKSUMMED_HEADER_BYTES], seed);
    let sum = checksum(header.order, page, sum);
    put_u32(out, FRAME_CHECKSUM1_OFFSET, sum.0);
    put_u32(out, FRAME_CHECKSUM2_OFFSET, sum.1);
    out[FRAME_HEADER_BYTES..].copy_from_slice(page);
    sum
}

/// A frame that passed validation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecodedFrame {
    pub page_no: u32,
    pub commit_db_size_pages: u32,
    pub checksum: Checksum,
}

/// Validates one frame (`frame.len()` = header + page) against the WAL header's salts and
/// the checksum chained from `seed`. `None` means the frame is not part of the log: the
/// end of the valid prefix (a torn write, garbage, or a frame of an older generation).
pub fn decode_frame(frame: &[u8], header: &WalHeader, seed: Checksum) -> Option<DecodedFrame> {
    if frame.len() != FRAME_HEADER_BYTES + header.page_size {
        return None;
    }
    let page_no = get_u32(frame, FRAME_PAGE_NO_OFFSET);
    if page_no == 0 {
        return None;
    }
    if get_u32(frame, FRAME_SALT1_OFFSET) != header.salt1
        || get_u32(frame, FRAME_SALT2_OFFSET) != header.salt2
    {
        return None;
    }
    let sum = checksum(header.order, &frame[..FRAME_CHECKSUMMED_HEADER_BYTES], seed);
    let sum = checksum(header.order, &frame[FRAME_HEADER_BYTES..], sum);
    let stored = (
        get_u32(frame, FRAME_CHECKSUM1_OFFSET),
        get_u32(frame, FRAME_CHECKSUM2_OFFSET),
    );
    if sum != stored {
        return None;
    }
    Some(DecodedFrame {
        page_no,
        commit_db_size_pages: get_u32(frame, FRAME_COMMIT_SIZE_OFFSET),
        checksum: sum,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(order: ByteOrder) -> WalHeader {
        WalHeader {
            order,
            page_size: 512,
            checkpoint_seq: 7,
            salt1: 0xdead_beef,
            salt2: 42,
        }
    }

    #[test]
    fn header_round_trips_in_both_byte_orders() {
        for order in [ByteOrder::Little, ByteOrder::Big] {
            let h = header(order);
            let (bytes, sum) = h.encode();
            assert_eq!(WalHeader::decode(&bytes), Some((h, sum)));
        }
    }

    #[test]
    fn header_rejects_damage() {
        let (bytes, _) = header(ByteOrder::Little).encode();
        for i in 0..WAL_HEADER_BYTES {
            let mut damaged = bytes;
            damaged[i] ^= 0x10;
            assert!(
                WalHeader::decode(&damaged).is_none(),
                "flip in byte {i} accepted"
            );
        }
        assert!(WalHeader::decode(&bytes[..31]).is_none());
    }

    #[test]
    fn frame_round_trips_and_rejects_damage() {
        let h = header(ByteOrder::Big);
        let page: Vec<u8> = (0..512).map(|i| (i * 7) as u8).collect();
        let mut frame = vec![0u8; FRAME_HEADER_BYTES + 512];
        let seed = (1, 2);
        let sum = encode_frame(&mut frame, &h, 3, 9, &page, seed);
        let decoded = decode_frame(&frame, &h, seed).expect("valid frame");
        assert_eq!(
            decoded,
            DecodedFrame {
                page_no: 3,
                commit_db_size_pages: 9,
                checksum: sum
            }
        );
        // A different seed (broken chain) or salt must be rejected.
        assert!(decode_frame(&frame, &h, (1, 3)).is_none());
        let other = WalHeader { salt2: 43, ..h };
        assert!(decode_frame(&frame, &other, seed).is_none());
        let mut damaged = frame.clone();
        damaged[300] ^= 1;
        assert!(decode_frame(&damaged, &h, seed).is_none());
    }

    #[test]
    fn checksum_matches_sqlite_definition() {
        // Two word pairs, worked by hand: s0 = 1 + 0 = 1, s1 = 2 + 1 = 3;
        // s0 = 1 + 3 + 3 = 7, s1 = 3 + 4 + 7 = 14.
        let mut data = Vec::new();
        for w in [1u32, 2, 3, 4] {
            data.extend_from_slice(&w.to_le_bytes());
        }
        assert_eq!(checksum(ByteOrder::Little, &data, (0, 0)), (7, 14));
        let mut be = Vec::new();
        for w in [1u32, 2, 3, 4] {
            be.extend_from_slice(&w.to_be_bytes());
        }
        assert_eq!(checksum(ByteOrder::Big, &be, (0, 0)), (7, 14));
    }
}
