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
        match read_be_int(body, len) {
            Some(v) => FirstKey::Int(v),
            None => FirstKey::Other,
        }
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

/// The big-endian two's-complement integer of `len` bytes (1-8) at the start of `bytes`,
/// as a record stores integers; `None` if `bytes` is shorter. With 8 bytes at hand it is
/// one load and one arithmetic shift instead of a loop per byte.
#[inline(always)]
pub(crate) fn read_be_int(bytes: &[u8], len: usize) -> Option<i64> {
    debug_assert!((1..=8).contains(&len));
    if let Some(word) = bytes.first_chunk::<8>() {
        if (1..=8).contains(&len) {
            // The top `len` bytes, sign-extended by the shift.
            return Some(i64::from_be_bytes(*word) >> (64 - 8 * len as u32));
        }
    }
    let bytes = bytes.get(..len)?;
    let mut v: i64 = if bytes.first()? & 0x80 != 0 { -1 } else { 0 };
    for &b in bytes {
        v = (v << 8) | b as i64;
    }
    Some(v)
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

/// A seek key's first field in the forms [`compare_first_to_key`] compares directly.
#[derive(Clone, Copy, Debug)]
pub(crate) enum KeyFirst<'a> {
    Int(i64),
    Text(&'a [u8]),
}

/// Orders an index record (a cell's payload, wholly on its page) against a seek key by
/// their first fields alone, when that decides: two integers, or two UTF-8 texts under
/// BINARY (a `memcmp`), which is what a B-tree descent compares most of the time.
/// SQLite's `vdbeRecordCompareInt` / `vdbeRecordCompareString` play the same part: the
/// general comparison decoded both headers field by field, ~500 instructions per cell,
/// an upsert's probe 12,000 (issue 13).
///
/// `Some(order)` is the record's order relative to the key, exactly what the full
/// comparison gives. First fields equal decide only for a prefix key of one field
/// (`prefix_len == Some(1)`: the record matches it); otherwise, and for every other
/// type, collation or encoding, or a header this does not read, `None`: the caller
/// compares in full (which also reports any damage).
#[inline]
pub(crate) fn compare_first_to_key(
    record: &[u8],
    key: KeyFirst<'_>,
    prefix_len: Option<usize>,
    ki: &KeyInfo,
) -> Option<Ordering> {
    let ord = match (first_key(record), key) {
        (FirstKey::Int(x), KeyFirst::Int(y)) => x.cmp(&y),
        (FirstKey::Text { off, len }, KeyFirst::Text(y)) => {
            if ki.field(0).0 != Collation::Binary || ki.encoding != TextEncoding::Utf8 {
                return None;
            }
            record
                .get(off as usize..off as usize + len as usize)?
                .cmp(y)
        }
        _ => return None,
    };
    first_field_order(ord, prefix_len, ki)
}

/// A record's order relative to a seek key, given the order of their first fields
/// (neither NULL): what [`compare_first_to_key`] answers from it (see there).
#[inline(always)]
pub(crate) fn first_field_order(
    ord: Ordering,
    prefix_len: Option<usize>,
    ki: &KeyInfo,
) -> Option<Ordering> {
    if ord == Ordering::Equal {
        return (prefix_len == Some(1)).then_some(Ordering::Equal);
    }
    // Neither value is NULL, so the direction applies plainly.
    Some(ki.field(0).1.apply(ord))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{
        compare_record_to_fields, compare_record_to_key, compare_records, decode_record,
        encode_record, SortOrder, Value, ValueRef as V,
    };

    /// Whenever the shortcut answers, it answers what the full comparisons answer: for
    /// prefix keys of one and two fields, decoded whole keys and whole records, over
    /// records of every storage class (integers of each serial size, reals equal to
    /// integers, texts that differ by case, length and a NUL, blobs, NULLs), under ASC,
    /// DESC, NOCASE and UTF-16 key infos. And it does answer for the common cases.
    #[test]
    fn shortcut_agrees_with_the_full_comparisons() {
        let firsts = [
            V::Null,
            V::Integer(0),
            V::Integer(1),
            V::Integer(-1),
            V::Integer(127),
            V::Integer(-129),
            V::Integer(40_000),
            V::Integer(-8_388_609),
            V::Integer(1 << 40),
            V::Integer(i64::MIN),
            V::Integer(i64::MAX),
            V::Real(1.0),
            V::Real(0.5),
            V::Text(b""),
            V::Text(b"abc"),
            V::Text(b"ABC"),
            V::Text(b"abc\0"),
            V::Text(b"abd"),
            V::Blob(b"abc"),
        ];
        let mut records = Vec::new();
        for a in &firsts {
            for tail in [&[][..], &[V::Integer(5)][..], &[V::Text(b"x"), V::Null][..]] {
                let mut fields = vec![*a];
                fields.extend_from_slice(tail);
                let mut out = Vec::new();
                encode_record(&fields, &mut out);
                records.push(out);
            }
        }
        let mut utf16 = KeyInfo::default();
        utf16.encoding = TextEncoding::Utf16le;
        let infos = [
            KeyInfo::default(),
            KeyInfo::new(vec![(Collation::Binary, SortOrder::Desc)]),
            KeyInfo::new(vec![(Collation::NoCase, SortOrder::Asc)]),
            KeyInfo::new(vec![(Collation::Binary, SortOrder::AscNullsLast)]),
            utf16,
        ];
        let mut answered = 0;
        for ki in &infos {
            for a in &records {
                for b in &records {
                    let fields = decode_record(b).unwrap();
                    let key = match fields[0] {
                        V::Integer(i) => KeyFirst::Int(i),
                        V::Text(t) => KeyFirst::Text(t),
                        _ => continue,
                    };
                    let values: Vec<Value> = fields.iter().map(|f| f.to_owned()).collect();
                    for n in [1, values.len()] {
                        let want = compare_record_to_key(a, &values[..n], ki).unwrap();
                        if let Some(got) = compare_first_to_key(a, key, Some(n), ki) {
                            assert_eq!(got, want, "prefix {n} of {b:?} vs {a:?}");
                            answered += 1;
                        }
                    }
                    if let Some(got) = compare_first_to_key(a, key, None, ki) {
                        assert_eq!(got, compare_records(a, b, ki).unwrap(), "{a:?} vs {b:?}");
                        let whole = compare_record_to_fields(a, &fields, ki).unwrap();
                        assert_eq!(got, whole, "{a:?} vs fields of {b:?}");
                        answered += 1;
                    }
                }
            }
        }
        assert!(
            answered > 5_000,
            "the shortcut answered only {answered} times"
        );
    }
}
