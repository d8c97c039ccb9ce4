//! The sorter behind `SorterOpen`/`SorterInsert`/`SorterSort`/`SorterNext`.
//!
//! Records are kept in memory and sorted with a stable sort on their first
//! `key_info.fields.len()` fields (later fields are payload and never compared), so rows
//! with equal keys come back in insertion order. There is no external merge: a sort
//! larger than memory is not supported yet.
//!
//! Speed (measured: the comparison was a third of a GROUP BY over 1M rows): all records
//! live in one arena (no allocation per row), and each entry carries its first key field
//! when that is an integer, so most comparisons of integer keys never decode a record
//! header. Integer-vs-integer is the only shortcut; every other case (and ties) takes the
//! full comparison, so the order is exactly `compare_prefix`'s.

use std::cmp::Ordering;
use std::sync::Arc;

use strata_btree::record::KeyInfo;

use super::cursor::{compare_prefix, RowCache};
use super::VmError;

/// One record: where it is in the arena, and its first key field if that is an integer.
#[derive(Clone, Copy)]
struct Entry {
    start: usize,
    len: usize,
    first_int: Option<i64>,
}

pub(crate) struct Sorter {
    key_info: Arc<KeyInfo>,
    arena: Vec<u8>,
    records: Vec<Entry>,
    pos: usize,
    sorted: bool,
    pub null_row: bool,
    pub row: RowCache,
}

impl Sorter {
    pub fn new(key_info: Arc<KeyInfo>) -> Self {
        Sorter {
            key_info,
            arena: Vec::new(),
            records: Vec::new(),
            pos: 0,
            sorted: false,
            null_row: false,
            row: RowCache::default(),
        }
    }

    pub fn insert(&mut self, record: &[u8]) {
        let start = self.arena.len();
        self.arena.extend_from_slice(record);
        self.records.push(Entry {
            start,
            len: record.len(),
            first_int: first_integer(record),
        });
        self.sorted = false;
    }

    /// Sorts and positions on the first record; `false` if there is none.
    pub fn sort(&mut self) -> Result<bool, VmError> {
        if !self.sorted {
            let n = self.key_info.fields.len();
            let ki = &*self.key_info;
            let first_order = ki.field(0).1;
            let arena = &self.arena;
            let mut err = None;
            // `sort_by` is stable: equal keys keep their insertion order.
            self.records.sort_by(|a, b| {
                if n > 0 {
                    if let (Some(x), Some(y)) = (a.first_int, b.first_int) {
                        if x != y {
                            return first_order.apply(x.cmp(&y));
                        }
                        if n == 1 {
                            // The only key field is equal: the records tie.
                            return Ordering::Equal;
                        }
                    }
                }
                let ra = &arena[a.start..a.start + a.len];
                let rb = &arena[b.start..b.start + b.len];
                match compare_prefix(ra, rb, ki, n) {
                    Ok(o) => o,
                    Err(e) => {
                        err.get_or_insert(e);
                        Ordering::Equal
                    }
                }
            });
            if let Some(e) = err {
                return Err(e);
            }
            self.sorted = true;
        }
        self.pos = 0;
        self.null_row = false;
        self.row.invalidate();
        Ok(!self.records.is_empty())
    }

    /// Advances; `true` while on a record.
    pub fn next(&mut self) -> bool {
        self.row.invalidate();
        if self.pos < self.records.len() {
            self.pos += 1;
        }
        self.pos < self.records.len()
    }

    pub fn current(&self) -> Option<&[u8]> {
        if !self.sorted {
            return None;
        }
        self.records
            .get(self.pos)
            .map(|e| &self.arena[e.start..e.start + e.len])
    }
}

/// The first field of a record if it is stored as an integer (serial types 1-6, 8, 9).
fn first_integer(record: &[u8]) -> Option<i64> {
    let (header_len, n) = strata_btree::varint::read_varint(record).ok()?;
    let (serial, m) = strata_btree::varint::read_varint(record.get(n..)?).ok()?;
    if header_len as usize > record.len() || n + m > header_len as usize {
        return None;
    }
    let body = record.get(header_len as usize..)?;
    let be = |len: usize| -> Option<i64> {
        let bytes = body.get(..len)?;
        let mut v: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
        for &b in bytes {
            v = (v << 8) | b as i64;
        }
        Some(v)
    };
    match serial {
        1 => be(1),
        2 => be(2),
        3 => be(3),
        4 => be(4),
        5 => be(6),
        6 => be(8),
        8 => Some(0),
        9 => Some(1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_btree::record::{encode_values, Collation, SortOrder, Value};

    fn rec(vals: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_values(vals, &mut out);
        out
    }

    #[test]
    fn first_integer_reads_every_integer_serial_type() {
        for v in [
            0i64,
            1,
            -1,
            127,
            -128,
            300,
            -70000,
            1 << 40,
            i64::MIN,
            i64::MAX,
        ] {
            assert_eq!(
                first_integer(&rec(&[Value::Integer(v), Value::Null])),
                Some(v),
                "{v}"
            );
        }
        assert_eq!(first_integer(&rec(&[Value::Real(1.5)])), None);
        assert_eq!(first_integer(&rec(&[Value::Text(b"7".to_vec())])), None);
        assert_eq!(first_integer(&rec(&[Value::Null])), None);
        assert_eq!(first_integer(&[]), None);
        assert_eq!(first_integer(&[0x05, 0x06]), None);
    }

    #[test]
    fn sort_order_equals_the_full_comparison_and_is_stable() {
        let vals = [
            Value::Integer(3),
            Value::Real(2.5),
            Value::Integer(-9),
            Value::Null,
            Value::Text(b"a".to_vec()),
            Value::Integer(3),
            Value::Real(3.0),
            Value::Integer(i64::MAX),
            Value::Blob(vec![1]),
            Value::Integer(0),
        ];
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let ki = Arc::new(KeyInfo {
                fields: vec![(Collation::Binary, order)],
                ..Default::default()
            });
            let mut s = Sorter::new(ki.clone());
            let recs: Vec<Vec<u8>> = vals
                .iter()
                .enumerate()
                .map(|(i, v)| rec(&[v.clone(), Value::Integer(i as i64)]))
                .collect();
            for r in &recs {
                s.insert(r);
            }
            assert!(s.sort().unwrap());
            let mut got = vec![s.current().unwrap().to_vec()];
            while s.next() {
                got.push(s.current().unwrap().to_vec());
            }
            let mut want = recs.clone();
            want.sort_by(|a, b| compare_prefix(a, b, &ki, 1).unwrap());
            assert_eq!(got, want, "{order:?}");
        }
    }
}
