//! The sorter behind `SorterOpen`/`SorterInsert`/`SorterSort`/`SorterNext`.
//!
//! Records are kept in memory and sorted with a stable sort on their first
//! `key_info.fields.len()` fields (later fields are payload and never compared), so rows
//! with equal keys come back in insertion order. There is no external merge: a sort
//! larger than memory is not supported yet.

use std::cmp::Ordering;
use std::sync::Arc;

use strata_btree::record::KeyInfo;

use super::cursor::{compare_prefix, RowCache};
use super::VmError;

pub(crate) struct Sorter {
    key_info: Arc<KeyInfo>,
    records: Vec<Vec<u8>>,
    pos: usize,
    sorted: bool,
    pub null_row: bool,
    pub row: RowCache,
}

impl Sorter {
    pub fn new(key_info: Arc<KeyInfo>) -> Self {
        Sorter {
            key_info,
            records: Vec::new(),
            pos: 0,
            sorted: false,
            null_row: false,
            row: RowCache::default(),
        }
    }

    pub fn insert(&mut self, record: &[u8]) {
        self.records.push(record.to_vec());
        self.sorted = false;
    }

    /// Sorts and positions on the first record; `false` if there is none.
    pub fn sort(&mut self) -> Result<bool, VmError> {
        if !self.sorted {
            let n = self.key_info.fields.len();
            let ki = &*self.key_info;
            let mut err = None;
            // `sort_by` is stable: equal keys keep their insertion order.
            self.records
                .sort_by(|a, b| match compare_prefix(a, b, ki, n) {
                    Ok(o) => o,
                    Err(e) => {
                        err.get_or_insert(e);
                        Ordering::Equal
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
        self.records.get(self.pos).map(|r| r.as_slice())
    }
}
