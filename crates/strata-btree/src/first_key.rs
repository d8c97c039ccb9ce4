//! A record's first field located without decoding the record, and the comparison
//! shortcuts it allows: sorts and bulk loads compare records many times, and most such
//! comparisons are decided by an integer or BINARY text first field.

use std::cmp::Ordering;

use crate::record::{Collation, KeyInfo, TextEncoding};

/// A record's first field, located once (when the record enters the sorter or is read
/// back from a run) so that most comparisons need not parse a record header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstKey {
    /// Stored as an integer (serial types 1-6, 8, 9).
    Int(i64),
    /// Stored as text: its bytes are `record[off..off + len]`.
    Text { off: u32, len: u32 },
    /// Anything else (or a header this does not read): the full comparison decides.
    Other,
}

/// Locates a record's first field (see [`FirstKey`]). A malformed header gives `Other`,
/// and the full comparison then reports it.
pub fn first_key(record: &[u8]) -> FirstKey {
    // One-byte varints cover headers under 128 bytes and texts under 57 bytes; longer
    // ones take the general decoder.
    let (header_len, n) = match record.first() {
        Some(&b) if b < 0x80 => (b as u64, 1),
        _ => match crate::varint::read_varint(record) {
            Ok(v) => v,
            Err(_) => return FirstKey::Other,
        },
    };
    let (serial, m) = match record.get(n) {
        Some(&b) if b < 0x80 => (b as u64, 1),
        _ => match record
            .get(n..)
            .and_then(|h| crate::varint::read_varint(h).ok())
        {
            Some(v) => v,
            None => return FirstKey::Other,
        },
    };
    let Ok(header_len) = usize::try_from(header_len) else {
        return FirstKey::Other;
    };
    if header_len > record.len() || n + m > header_len {
        return FirstKey::Other;
    }
    let body = &record[header_len..];
    let be = |len: usize| -> FirstKey {
        let Some(bytes) = body.get(..len) else {
            return FirstKey::Other;
        };
        let mut v: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
        for &b in bytes {
            v = (v << 8) | b as i64;
        }
        FirstKey::Int(v)
    };
    match serial {
        1 => be(1),
        2 => be(2),
        3 => be(3),
        4 => be(4),
        5 => be(6),
        6 => be(8),
        8 => FirstKey::Int(0),
        9 => FirstKey::Int(1),
        s if s >= 13 && s % 2 == 1 => {
            let len = (s - 13) / 2;
            match (u32::try_from(header_len), u32::try_from(len)) {
                (Ok(off), Ok(len)) if len as usize <= body.len() => FirstKey::Text { off, len },
                _ => FirstKey::Other,
            }
        }
        _ => FirstKey::Other,
    }
}

/// Compares the first fields of records `a` and `b` (located by [`first_key`]) when a
/// shortcut applies: two integers, or two UTF-8 texts under BINARY collation (a `memcmp`
/// of the stored bytes, which is what BINARY is). `Some(Equal)`: the first fields are
/// equal. `None`: no shortcut; the caller compares in full.
#[inline]
pub fn compare_first(
    ki: &KeyInfo,
    a: &[u8],
    a_key: FirstKey,
    b: &[u8],
    b_key: FirstKey,
) -> Option<Ordering> {
    match (a_key, b_key) {
        (FirstKey::Int(x), FirstKey::Int(y)) => Some(ki.field(0).1.apply(x.cmp(&y))),
        (FirstKey::Text { off: ao, len: al }, FirstKey::Text { off: bo, len: bl }) => {
            let (coll, order) = ki.field(0);
            if coll != Collation::Binary || ki.encoding != TextEncoding::Utf8 {
                return None;
            }
            let x = a.get(ao as usize..ao as usize + al as usize)?;
            let y = b.get(bo as usize..bo as usize + bl as usize)?;
            Some(order.apply(x.cmp(y)))
        }
        _ => None,
    }
}
