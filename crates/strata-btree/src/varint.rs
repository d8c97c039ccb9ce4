//! SQLite's variable-length integers.
//!
//! A varint is 1 to 9 bytes, big-endian. In the first eight bytes the high bit says
//! "another byte follows" and the low seven bits are data; a ninth byte, if reached,
//! contributes all eight bits. So 0..=127 takes one byte and any `u64` at most nine.
//! Signed values (rowids) are stored as their two's-complement `u64`.

use std::fmt;

/// The longest encoding in bytes.
pub const VARINT_LEN_MAX: usize = 9;

/// A varint ran past the end of its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VarintTruncated;

impl fmt::Display for VarintTruncated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("varint runs past the end of its buffer")
    }
}

/// Decodes the varint at the start of `buf`: the value and its length in bytes.
///
/// The one-byte case (record header sizes, most serial types, small rowids) is always
/// inlined; the rest is out of line. Left to the compiler the whole function was called,
/// and reading its 24-byte result back from memory stalled on store forwarding (about a
/// tenth of a full scan).
#[inline(always)]
pub fn read_varint(buf: &[u8]) -> Result<(u64, usize), VarintTruncated> {
    match buf.first() {
        Some(&b) if b < 0x80 => Ok((b as u64, 1)),
        _ => read_varint_long(buf),
    }
}

/// [`read_varint`] with the two- and three-byte cases inline as well (SQLite's `getVarint`
/// keeps two inline): for rowids, which are one byte only below 128, read per cell by
/// every table search (a point select read ~40 in out-of-line calls, issue 13).
#[inline(always)]
pub fn read_varint_rowid(buf: &[u8]) -> Result<(u64, usize), VarintTruncated> {
    match *buf {
        [b0, ..] if b0 < 0x80 => Ok((b0 as u64, 1)),
        [b0, b1, ..] if b1 < 0x80 => Ok((((b0 & 0x7f) as u64) << 7 | b1 as u64, 2)),
        [b0, b1, b2, ..] if b2 < 0x80 => Ok((
            ((b0 & 0x7f) as u64) << 14 | ((b1 & 0x7f) as u64) << 7 | b2 as u64,
            3,
        )),
        _ => read_varint_long(buf),
    }
}

#[inline(never)]
fn read_varint_long(buf: &[u8]) -> Result<(u64, usize), VarintTruncated> {
    if buf.is_empty() {
        return Err(VarintTruncated);
    }
    let mut value: u64 = 0;
    for i in 0..8 {
        let b = *buf.get(i).ok_or(VarintTruncated)?;
        value = (value << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    let b = *buf.get(8).ok_or(VarintTruncated)?;
    Ok(((value << 8) | b as u64, 9))
}

/// Bytes needed to encode `value`.
#[inline]
pub fn varint_len(value: u64) -> usize {
    if value <= 0x7f {
        return 1;
    }
    if value > 0x00ff_ffff_ffff_ffff {
        return 9;
    }
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Encodes `value` into the start of `out` (which must hold [`varint_len`] bytes) and
/// returns the length written.
#[inline]
pub fn write_varint(value: u64, out: &mut [u8]) -> usize {
    let len = varint_len(value);
    assert!(out.len() >= len, "varint buffer too small");
    if len == 9 {
        out[8] = value as u8;
        let mut v = value >> 8;
        for i in (0..8).rev() {
            out[i] = (v as u8 & 0x7f) | 0x80;
            v >>= 7;
        }
        return 9;
    }
    let mut v = value;
    for i in (0..len).rev() {
        out[i] = (v as u8 & 0x7f) | if i == len - 1 { 0 } else { 0x80 };
        v >>= 7;
    }
    len
}

/// Appends the encoding of `value` to `out`.
#[inline]
pub fn push_varint(value: u64, out: &mut Vec<u8>) {
    let mut tmp = [0u8; VARINT_LEN_MAX];
    let len = write_varint(value, &mut tmp);
    out.extend_from_slice(&tmp[..len]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_round_trip() {
        let cases: &[(u64, usize)] = &[
            (0, 1),
            (0x7f, 1),
            (0x80, 2),
            (0x3fff, 2),
            (0x4000, 3),
            (0x1f_ffff, 3),
            (0x0fff_ffff, 4),
            (0x00ff_ffff_ffff_ffff, 8),
            (0x0100_0000_0000_0000, 9),
            (u64::MAX, 9),
            (-1i64 as u64, 9),
        ];
        for &(v, len) in cases {
            let mut buf = Vec::new();
            push_varint(v, &mut buf);
            assert_eq!(buf.len(), len, "length of {v:#x}");
            assert_eq!(varint_len(v), len);
            assert_eq!(read_varint(&buf), Ok((v, len)));
            assert_eq!(read_varint_rowid(&buf), Ok((v, len)));
            // Followed by other bytes, as in a cell.
            buf.extend_from_slice(&[0xff, 0x01]);
            assert_eq!(read_varint_rowid(&buf), Ok((v, len)));
            assert_eq!(read_varint_rowid(&buf[..len - 1]), Err(VarintTruncated));
        }
        // Every two- and three-byte form, non-minimal ones included (0x80 0x05 is 5).
        for b0 in 0x80..=0xffu8 {
            for b1 in (0..=0xffu8).step_by(7) {
                for buf in [vec![b0, b1, 0x11], vec![b0, b1]] {
                    assert_eq!(read_varint_rowid(&buf), read_varint(&buf), "{buf:x?}");
                }
            }
        }
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert_eq!(read_varint(&[]), Err(VarintTruncated));
        assert_eq!(read_varint(&[0x81]), Err(VarintTruncated));
        assert_eq!(read_varint(&[0xff; 8]), Err(VarintTruncated));
    }
}
