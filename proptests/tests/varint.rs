//! Varint round trips over the whole `u64` range (proptest and quickcheck).

use proptest::prelude::*;
use strata_btree::varint::{push_varint, read_varint, varint_len, write_varint, VARINT_LEN_MAX};

/// Checks one value: encode, decode (also with trailing bytes and from the fixed-buffer
/// writer), and that every proper prefix of the encoding is reported as truncated.
fn check_round_trip(v: u64) -> Result<(), String> {
    let mut buf = Vec::new();
    push_varint(v, &mut buf);
    let len = buf.len();
    if len != varint_len(v) || !(1..=VARINT_LEN_MAX).contains(&len) {
        return Err(format!(
            "{v:#x}: encoded {len} bytes, varint_len says {}",
            varint_len(v)
        ));
    }
    if read_varint(&buf) != Ok((v, len)) {
        return Err(format!(
            "{v:#x}: read back {:?} from {buf:02x?}",
            read_varint(&buf)
        ));
    }
    let mut fixed = [0u8; VARINT_LEN_MAX];
    if write_varint(v, &mut fixed) != len || fixed[..len] != buf[..] {
        return Err(format!("{v:#x}: write_varint disagrees with push_varint"));
    }
    // Bytes after the varint must not be consumed.
    let mut padded = buf.clone();
    padded.extend_from_slice(&[0xff; 9]);
    if read_varint(&padded) != Ok((v, len)) {
        return Err(format!("{v:#x}: trailing bytes changed the result"));
    }
    for cut in 0..len {
        if read_varint(&buf[..cut]).is_ok() {
            return Err(format!("{v:#x}: prefix of {cut} bytes decoded"));
        }
    }
    // Encodings are ordered by length: one byte per 7 bits up to 8 bytes, then 9.
    let bits = 64 - v.leading_zeros() as usize;
    let want = if bits > 56 {
        9
    } else {
        bits.div_ceil(7).max(1)
    };
    if len != want {
        return Err(format!("{v:#x}: {len} bytes, expected {want}"));
    }
    Ok(())
}

/// Uniform u64s are almost all 9-byte varints; shifting covers every length.
fn any_width_u64() -> impl Strategy<Value = u64> {
    (any::<u64>(), 0u32..64).prop_map(|(v, s)| v >> s)
}

proptest! {
    #[test]
    fn varint_round_trip(v in any_width_u64()) {
        check_round_trip(v).map_err(TestCaseError::fail)?;
    }

    #[test]
    fn varint_round_trip_uniform(v in any::<u64>()) {
        check_round_trip(v).map_err(TestCaseError::fail)?;
    }

    /// Arbitrary bytes decode to something that re-encodes to a value-equal varint, or
    /// are truncated; never a panic.
    #[test]
    fn varint_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..12)) {
        match read_varint(&bytes) {
            Ok((v, n)) => {
                prop_assert!((1..=9).contains(&n) && n <= bytes.len());
                // Non-canonical encodings (leading 0x80 bytes) exist, so compare values.
                let mut again = Vec::new();
                push_varint(v, &mut again);
                prop_assert_eq!(read_varint(&again), Ok((v, again.len())));
                prop_assert!(again.len() <= n);
            }
            Err(_) => prop_assert!(bytes.len() < 9),
        }
    }
}

#[test]
fn varint_round_trip_quickcheck() {
    fn prop(v: u64, shift: u8) -> bool {
        check_round_trip(v >> (shift % 64)).is_ok()
    }
    quickcheck::QuickCheck::new()
        .tests(1000)
        .quickcheck(prop as fn(u64, u8) -> bool);
}

#[test]
fn varint_every_length_boundary() {
    for bits in 0..=64u32 {
        let top = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits).wrapping_sub(1)
        };
        for v in [top, top.wrapping_add(1), top.saturating_sub(1)] {
            check_round_trip(v).unwrap();
        }
    }
}
