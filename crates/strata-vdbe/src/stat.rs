//! ANALYZE's statistics accumulator: what SQLite's `stat_init`, `stat_push` and
//! `stat_get` functions compute (analyze.c, SQLite 3.46 with SQLITE_ENABLE_STAT4), so
//! that `sqlite_stat1` and `sqlite_stat4` get the same rows as SQLite's for the same
//! index content.
//!
//! The VM feeds every entry of an index, in index order, to [`StatAccum::push`] (the
//! entry's fields: the key columns, then the rowid or the PRIMARY KEY columns). The
//! accumulator finds the first field that differs from the previous entry (under the
//! index's collations, NULLs equal), counts distinct prefixes for `sqlite_stat1`, and keeps
//! up to [`STAT4_SAMPLES`] samples: periodic ones (every `nEst/9 + 1` entries) and, per
//! column, the prefixes with the longest runs of equal values (ties broken by the
//! following columns' runs, then by a pseudo-random hash seeded as SQLite seeds it).
//!
//! SQLite locates a sample's table row afterwards to load its columns; here the entry's
//! fields are kept with the sample (the caller loads them as SQLite's
//! `sqlite3ExprCodeLoadIndexColumn` would: REAL columns with their real affinity), which
//! gives the same record.
//!
//! With `PRAGMA analysis_limit` N (not 0), as SQLite: no samples, and once more than N
//! entries (times the skips so far) were seen, [`StatAccum::push`] asks the caller to stop
//! (more than one distinct first-column value seen) or to skip past the current
//! first-column value; the stat1 text then starts with the exact entry count.
//!
//! Pure computation: nothing here does I/O, so an instruction using it never yields.

use std::cmp::Ordering;

use strata_btree::record::{Collation, TextEncoding, Value};

use crate::ops::compare_in;

/// SQLITE_STAT4_SAMPLES: the most samples kept per index.
pub const STAT4_SAMPLES: usize = 24;

/// One sample (SQLite's `StatSample`).
#[derive(Clone, Debug, Default)]
struct Sample {
    an_eq: Vec<u64>,
    an_lt: Vec<u64>,
    an_dlt: Vec<u64>,
    /// The entry's fields (SQLite keeps the rowid or the PRIMARY KEY record instead).
    key: Vec<Value>,
    is_psample: bool,
    /// Why a non-periodic sample was taken: the column whose run it stands for.
    i_col: usize,
    i_hash: u32,
}

impl Sample {
    fn new(n_col: usize) -> Sample {
        Sample {
            an_eq: vec![0; n_col],
            an_lt: vec![0; n_col],
            an_dlt: vec![0; n_col],
            ..Sample::default()
        }
    }

    /// `sampleCopy`: the counts, flags and key of `from` (keeping the allocations).
    fn copy_from(&mut self, from: &Sample) {
        self.an_eq.clone_from(&from.an_eq);
        self.an_lt.clone_from(&from.an_lt);
        self.an_dlt.clone_from(&from.an_dlt);
        self.key.clone_from(&from.key);
        self.is_psample = from.is_psample;
        self.i_col = from.i_col;
        self.i_hash = from.i_hash;
    }
}

/// The state of one index's analysis (SQLite's `StatAccum`, STAT4 build).
#[derive(Debug)]
pub struct StatAccum {
    n_est: u64,
    n_row: u64,
    /// `PRAGMA analysis_limit` (0: none).
    n_limit: u64,
    n_skip_ahead: u8,
    n_col: usize,
    n_key_col: usize,
    /// Collations of the fields compared between neighbouring entries (all but the last).
    collations: Vec<Collation>,
    enc: TextEncoding,
    /// Fields whose integral reals the samples hold as integers (see `Insn::StatInit`).
    int_real: Vec<usize>,
    current: Sample,
    /// The previous entry's compared fields (SQLite's `regPrev`).
    prev: Vec<Value>,
    n_psample: u64,
    mx_sample: usize,
    i_prn: u32,
    best: Vec<Sample>,
    i_min: usize,
    a: Vec<Sample>,
    n_max_eq_zero: usize,
    /// The next sample `next_sample` returns; `None` until the first call.
    i_get: Option<usize>,
}

/// One `sqlite_stat4` row's values (the sample record is made by the caller from `key`).
#[derive(Debug)]
pub struct StatRow<'a> {
    pub neq: Vec<u8>,
    pub nlt: Vec<u8>,
    pub ndlt: Vec<u8>,
    pub key: &'a [Value],
}

/// SQLite's REAL affinity as OP_Affinity applies it to a computed value: an integral real
/// within 48 bits is held as an integer (MEM_IntReal, stored with an integer serial type).
fn int_real(v: &mut Value) {
    const MAX: f64 = 140737488355327.0;
    const MIN: f64 = -140737488355328.0;
    if let Value::Real(r) = *v {
        if r.trunc() == r && (MIN..=MAX).contains(&r) {
            *v = Value::Integer(r as i64);
        }
    }
}

fn join_counts(v: &[u64]) -> Vec<u8> {
    let mut s = String::new();
    for (i, n) in v.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&n.to_string());
    }
    s.into_bytes()
}

impl StatAccum {
    /// `stat_init(N, K, C, L)`: `n_col` fields per entry (key columns plus the rowid or
    /// the PRIMARY KEY columns; for a WITHOUT ROWID table's own PRIMARY KEY, only its
    /// columns), `n_key_col` key columns, `n_est` the exact entry count, `limit` the
    /// analysis limit (0: none). `collations` holds (at least) the collations of the
    /// first `n_col - 1` fields.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        n_col: usize,
        n_key_col: usize,
        n_est: i64,
        limit: i64,
        collations: Vec<Collation>,
        int_real: Vec<usize>,
        enc: TextEncoding,
    ) -> StatAccum {
        let n_col = n_col.max(1);
        let mx_sample = if limit == 0 { STAT4_SAMPLES } else { 0 };
        let n_est_u = n_est as u64;
        // As SQLite: `sqlite3_value_int(argv[2])` truncates to 32 bits.
        let seed = (0x689e962d_u32.wrapping_mul(n_col as u32))
            ^ (0xd0944565_u32.wrapping_mul(n_est as i32 as u32));
        let best = (0..n_col)
            .map(|i| {
                let mut s = Sample::new(n_col);
                s.i_col = i;
                s
            })
            .collect();
        StatAccum {
            n_est: n_est_u,
            n_row: 0,
            // SQLite's `int nLimit` from `sqlite3_value_int64`.
            n_limit: limit as i32 as u64,
            n_skip_ahead: 0,
            n_col,
            n_key_col,
            collations,
            enc,
            int_real,
            current: Sample::new(n_col),
            prev: Vec::new(),
            n_psample: n_est_u / (STAT4_SAMPLES as u64 / 3 + 1) + 1,
            mx_sample,
            i_prn: seed,
            best,
            i_min: 0,
            a: Vec::with_capacity(mx_sample),
            n_max_eq_zero: 0,
            i_get: None,
        }
    }

    /// Fields per entry.
    pub fn n_col(&self) -> usize {
        self.n_col
    }

    /// `sampleIsBetterPost`: with equal runs in their own column, `new` is preferred if
    /// the following columns' runs are longer, else by hash.
    fn is_better_post(&self, new: &Sample, old: &Sample) -> bool {
        for i in new.i_col + 1..self.n_col {
            match new.an_eq[i].cmp(&old.an_eq[i]) {
                Ordering::Greater => return true,
                Ordering::Less => return false,
                Ordering::Equal => {}
            }
        }
        new.i_hash > old.i_hash
    }

    /// `sampleIsBetter` for two non-periodic samples.
    fn is_better(&self, new: &Sample, old: &Sample) -> bool {
        let eq_new = new.an_eq[new.i_col];
        let eq_old = old.an_eq[old.i_col];
        match eq_new.cmp(&eq_old) {
            Ordering::Greater => true,
            Ordering::Less => false,
            Ordering::Equal => {
                new.i_col < old.i_col || (new.i_col == old.i_col && self.is_better_post(new, old))
            }
        }
    }

    /// `sampleInsert`: add `new` to the samples, evicting the least desirable one when
    /// full; the first `n_eq_zero` of its nEq are not known yet (zero).
    fn insert(&mut self, new: &Sample, n_eq_zero: usize) {
        if n_eq_zero > self.n_max_eq_zero {
            self.n_max_eq_zero = n_eq_zero;
        }
        if !new.is_psample {
            // A sample sharing this prefix exists already: upgrade the best such one
            // instead.
            let mut upgrade: Option<usize> = None;
            for i in (0..self.a.len()).rev() {
                let old = &self.a[i];
                if old.an_eq[new.i_col] == 0 {
                    if old.is_psample {
                        return;
                    }
                    if upgrade.is_none_or(|u| self.is_better(old, &self.a[u])) {
                        upgrade = Some(i);
                    }
                }
            }
            if let Some(u) = upgrade {
                let c = new.i_col;
                self.a[u].i_col = c;
                self.a[u].an_eq[c] = new.an_eq[c];
                self.find_new_min();
                return;
            }
        }
        let mut slot = if self.a.len() >= self.mx_sample {
            self.a.remove(self.i_min)
        } else {
            Sample::new(self.n_col)
        };
        slot.copy_from(new);
        for e in slot.an_eq.iter_mut().take(n_eq_zero) {
            *e = 0;
        }
        self.a.push(slot);
        self.find_new_min();
    }

    fn find_new_min(&mut self) {
        if self.a.len() >= self.mx_sample {
            let mut i_min: Option<usize> = None;
            for i in 0..self.mx_sample {
                if self.a[i].is_psample {
                    continue;
                }
                if i_min.is_none_or(|m| self.is_better(&self.a[m], &self.a[i])) {
                    i_min = Some(i);
                }
            }
            self.i_min = i_min.unwrap_or(0);
        }
    }

    /// `samplePushPrevious`: field `i_chng` changed, so the runs ending at the previous
    /// entry are complete for columns `i_chng..`.
    fn push_previous(&mut self, i_chng: usize) {
        for i in (i_chng..self.n_col.saturating_sub(1)).rev() {
            let eq = self.current.an_eq[i];
            self.best[i].an_eq[i] = eq;
            let take = self.a.len() < self.mx_sample || {
                let b = &self.best[i];
                self.is_better(b, &self.a[self.i_min])
            };
            if take {
                let b = std::mem::take(&mut self.best[i]);
                self.insert(&b, i);
                self.best[i] = b;
            }
        }
        if i_chng < self.n_max_eq_zero {
            for s in self.a.iter_mut().rev() {
                for j in i_chng..self.n_col {
                    if s.an_eq[j] == 0 {
                        s.an_eq[j] = self.current.an_eq[j];
                    }
                }
            }
            self.n_max_eq_zero = i_chng;
        }
    }

    /// `stat_push`: the next entry's fields, in index order (`n_col` values). With an
    /// analysis limit, may answer `Some(1)` (stop scanning) or `Some(0)` (skip past
    /// the current first-column value).
    pub fn push(&mut self, values: &[Value]) -> Option<i64> {
        let n_col = self.n_col;
        let n_test = n_col - 1;
        let i_chng = if self.n_row == 0 {
            0
        } else {
            (0..n_test)
                .find(|&i| {
                    let a = values.get(i).unwrap_or(&Value::Null);
                    let b = self.prev.get(i).unwrap_or(&Value::Null);
                    let coll = self.collations.get(i).copied().unwrap_or_default();
                    compare_in(a, b, coll, self.enc) != Ordering::Equal
                })
                .unwrap_or(n_test)
        };
        // SQLite's regPrev: the fields from the changed one on take this entry's values.
        if self.prev.len() < n_test {
            self.prev.resize(n_test, Value::Null);
        }
        for i in i_chng..n_test {
            self.prev[i] = values.get(i).cloned().unwrap_or(Value::Null);
        }

        let sampling = self.mx_sample > 0;
        if self.n_row == 0 {
            self.current.an_eq.fill(1);
        } else {
            if sampling {
                self.push_previous(i_chng);
            }
            for i in 0..i_chng {
                self.current.an_eq[i] += 1;
            }
            for i in i_chng..n_col {
                self.current.an_dlt[i] += 1;
                if sampling {
                    self.current.an_lt[i] += self.current.an_eq[i];
                }
                self.current.an_eq[i] = 1;
            }
        }
        self.n_row += 1;
        if !sampling {
            if self.n_limit > 0 && self.n_row > self.n_limit * (u64::from(self.n_skip_ahead) + 1) {
                self.n_skip_ahead = self.n_skip_ahead.wrapping_add(1);
                return Some(i64::from(self.current.an_dlt[0] > 0));
            }
            return None;
        }

        self.current.key.clear();
        self.current.key.extend_from_slice(values);
        for &f in &self.int_real {
            if let Some(v) = self.current.key.get_mut(f) {
                int_real(v);
            }
        }
        self.i_prn = self.i_prn.wrapping_mul(1103515245).wrapping_add(12345);
        self.current.i_hash = self.i_prn;

        let n_lt = self.current.an_lt[n_col - 1];
        if n_lt / self.n_psample != (n_lt + 1) / self.n_psample {
            self.current.is_psample = true;
            self.current.i_col = 0;
            let cur = std::mem::take(&mut self.current);
            self.insert(&cur, n_col - 1);
            self.current = cur;
            self.current.is_psample = false;
        }

        for i in 0..n_col - 1 {
            self.current.i_col = i;
            if i >= i_chng || self.is_better_post(&self.current, &self.best[i]) {
                let cur = std::mem::take(&mut self.current);
                self.best[i].copy_from(&cur);
                self.current = cur;
            }
        }
        None
    }

    /// `stat_get(P, STAT_GET_STAT1)`: the `sqlite_stat1.stat` text.
    pub fn stat1(&self) -> Vec<u8> {
        let shown = if self.n_skip_ahead > 0 {
            self.n_est
        } else {
            self.n_row
        };
        let mut s = shown.to_string();
        for i in 0..self.n_key_col.min(self.n_col) {
            let n_distinct = self.current.an_dlt[i] + 1;
            let mut v = self.n_row.div_ceil(n_distinct);
            if v == 2 && self.n_row * 10 <= n_distinct * 11 {
                v = 1;
            }
            s.push(' ');
            s.push_str(&v.to_string());
        }
        s.into_bytes()
    }

    /// The next `sqlite_stat4` row (STAT_GET_ROWID, NEQ, NLT, NDLT), in index order;
    /// `None` when every sample was returned. No samples for an empty index.
    pub fn next_sample(&mut self) -> Option<StatRow<'_>> {
        if self.mx_sample == 0 {
            return None;
        }
        let i = match self.i_get {
            Some(i) => i,
            None => {
                if self.n_row > 0 {
                    self.push_previous(0);
                }
                0
            }
        };
        if i >= self.a.len() || self.n_row == 0 {
            self.i_get = Some(i);
            return None;
        }
        self.i_get = Some(i + 1);
        let s = &self.a[i];
        Some(StatRow {
            neq: join_counts(&s.an_eq),
            nlt: join_counts(&s.an_lt),
            ndlt: join_counts(&s.an_dlt),
            key: &s.key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(n_col: usize, n_key: usize, rows: &[Vec<i64>]) -> StatAccum {
        let mut a = StatAccum::new(
            n_col,
            n_key,
            rows.len() as i64,
            0,
            vec![Collation::Binary; n_col],
            Vec::new(),
            TextEncoding::Utf8,
        );
        for r in rows {
            let v: Vec<Value> = r.iter().map(|&x| Value::Integer(x)).collect();
            a.push(&v);
        }
        a
    }

    #[test]
    fn stat1_averages() {
        // (a, rowid): a = 1,1,1,2 -> 4 rows, 2 distinct: (4+2-1)/2 = 2.
        let a = acc(2, 1, &[vec![1, 1], vec![1, 2], vec![1, 3], vec![2, 4]]);
        assert_eq!(a.stat1(), b"4 2".to_vec());
        // Distinct values: 10 rows, 10 distinct -> 1.
        let rows: Vec<Vec<i64>> = (0..10).map(|i| vec![i, i]).collect();
        assert_eq!(acc(2, 1, &rows).stat1(), b"10 1".to_vec());
        // 11 rows, 10 distinct: (11+9)/10 = 2, but 110 <= 110 -> 1.
        let mut rows: Vec<Vec<i64>> = (0..10).map(|i| vec![i, i]).collect();
        rows.push(vec![9, 10]);
        assert_eq!(acc(2, 1, &rows).stat1(), b"11 1".to_vec());
        // 12 rows, 10 distinct: 2 (120 > 110).
        rows.push(vec![9, 11]);
        assert_eq!(acc(2, 1, &rows).stat1(), b"12 2".to_vec());
    }

    #[test]
    fn samples_are_in_index_order_and_empty_has_none() {
        let rows: Vec<Vec<i64>> = (0..100).map(|i| vec![i / 7, i]).collect();
        let mut a = acc(2, 1, &rows);
        let mut last = -1;
        let mut n = 0;
        while let Some(r) = a.next_sample() {
            let Value::Integer(k) = r.key[1] else {
                panic!()
            };
            assert!(k > last);
            last = k;
            n += 1;
        }
        assert!(n > 0 && n <= STAT4_SAMPLES);
        let mut e = acc(2, 1, &[]);
        assert!(e.next_sample().is_none());
        assert_eq!(e.stat1(), b"0 0".to_vec());
    }
}
