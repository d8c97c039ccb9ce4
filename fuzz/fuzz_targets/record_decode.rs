//! Record decoding and ordering on arbitrary bytes.
//!
//! Input layout (so seeds can be written by hand, see tools/gen_seeds.py):
//! `[key-info byte][split: u16 LE][record a: split bytes][record b: the rest]`.
//! Must not panic; beyond that, the decoders and comparators must agree with each other
//! (parse vs decode_record, compare(a,b) vs compare(b,a), compare_records vs
//! compare_record_to_key, and decode -> encode -> decode round trips).
#![no_main]

use std::cmp::Ordering;

use libfuzzer_sys::fuzz_target;
use strata_btree::record::{
    compare_record_to_key, compare_records, encode_values, Collation, KeyInfo, SortOrder,
};
use strata_fuzz::{decode_both, same_value};

/// Up to 7 fields, collations and directions drawn from the bits of one byte, so the
/// fuzzer can flip them independently of the records.
fn key_info(b: u8) -> KeyInfo {
    let n = (b & 7) as usize;
    let fields = (0..n)
        .map(|i| {
            let c = match (b as usize >> 3).wrapping_add(i) % 3 {
                0 => Collation::Binary,
                1 => Collation::NoCase,
                _ => Collation::RTrim,
            };
            let o = if (b >> (5 + i % 3)) & 1 == 1 {
                SortOrder::Desc
            } else {
                SortOrder::Asc
            };
            (c, o)
        })
        .collect();
    KeyInfo::new(fields)
}

fn round_trip(values: &[strata_btree::record::Value]) {
    let mut out = Vec::new();
    encode_values(values, &mut out);
    let again = decode_both(&out).expect("a record we encoded must decode");
    assert_eq!(again.len(), values.len());
    for (x, y) in again.iter().zip(values) {
        assert!(
            same_value(x.as_ref(), y.as_ref()),
            "round trip changed {y:?} into {x:?}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let ki = key_info(data[0]);
    let split = u16::from_le_bytes([data[1], data[2]]) as usize;
    let rest = &data[3..];
    let (a, b) = rest.split_at(split.min(rest.len()));

    let va = decode_both(a);
    let vb = decode_both(b);
    if let Some(v) = &va {
        round_trip(v);
        assert_eq!(
            compare_records(a, a, &ki).unwrap(),
            Ordering::Equal,
            "a record must equal itself"
        );
    }
    if let Some(v) = &vb {
        round_trip(v);
    }
    let ab = compare_records(a, b, &ki);
    let ba = compare_records(b, a, &ki);
    if let (Ok(ab), Ok(ba)) = (&ab, &ba) {
        assert_eq!(*ab, ba.reverse(), "compare_records is not antisymmetric");
    }
    if let (Some(key), Ok(ab)) = (&vb, &ab) {
        // Against b unpacked: the same order, except that a record longer than the key
        // and equal on its fields is Equal (a prefix match) rather than Greater.
        if let Ok(rk) = compare_record_to_key(a, key, &ki) {
            assert!(
                rk == *ab || (rk == Ordering::Equal && *ab == Ordering::Greater),
                "compare_record_to_key = {rk:?}, compare_records = {ab:?}"
            );
        }
    }
});
