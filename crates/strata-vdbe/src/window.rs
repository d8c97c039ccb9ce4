//! Window functions over a buffered set of rows, with SQLite's semantics (`window.c`).
//!
//! The compiler materialises each input row of a SELECT with window functions as one
//! row of values (the expressions the functions and the rest of the query need), then
//! [`compute`] appends one value per window-function call to every row. Nothing here
//! touches storage: the VM keeps the rows in memory (like its sorter) and calls this
//! once all rows are in.
//!
//! Per window definition (distinct PARTITION BY / ORDER BY / frame), rows are sorted
//! (stably) by partition then order keys and each partition is walked:
//! - ranking functions (row_number, rank, dense_rank, percent_rank, cume_dist, ntile)
//!   and lag/lead look at the partition only, as in SQLite (frames do not apply);
//! - first_value, last_value, nth_value and aggregates see their frame, ROWS, RANGE or
//!   GROUPS, with EXCLUDE. Aggregates whose frame start never moves are stepped
//!   incrementally; count/sum/total/avg over a sliding frame step and *inverse* rows as
//!   SQLite does (so a sum stays a real once a real entered its frame, as in SQLite);
//!   min/max/group_concat over a sliding frame and every frame with EXCLUDE are
//!   recomputed per row (O(rows * frame)).
//!
//! Several window definitions are processed from the last to the first, each a stable
//! sort of the previous order, so the rows come out in the first window's order, as
//! SQLite's nested window subqueries return them.

use std::cmp::Ordering;

use strata_btree::record::{Collation, SortOrder, TextEncoding, Value};

use crate::affinity::numeric_value_of_text;
use crate::aggregate::{Accumulator, AggKind};
use crate::conv::truth;
use crate::functions::FunctionError;
use crate::ops::{arith, compare_in, Arith};

/// ROWS, RANGE or GROUPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameUnit {
    Rows,
    Range,
    Groups,
}

/// The offset "column" of a bound whose offset SQLite's parser replaced by NULL (not a
/// constant expression): it fails the offset check as soon as there is a row.
pub const NULL_OFFSET: usize = usize::MAX;

/// One end of a frame; offsets are input columns (constant per query), or
/// [`NULL_OFFSET`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameBound {
    UnboundedPreceding,
    Preceding(usize),
    CurrentRow,
    Following(usize),
    UnboundedFollowing,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclude {
    NoOthers,
    CurrentRow,
    Group,
    Ties,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    pub unit: FrameUnit,
    pub start: FrameBound,
    pub end: FrameBound,
    pub exclude: Exclude,
}

impl Frame {
    /// SQLite's default: RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW.
    pub const DEFAULT: Frame = Frame {
        unit: FrameUnit::Range,
        start: FrameBound::UnboundedPreceding,
        end: FrameBound::CurrentRow,
        exclude: Exclude::NoOthers,
    };
}

/// A window function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WinFunc {
    RowNumber,
    Rank,
    DenseRank,
    PercentRank,
    CumeDist,
    Ntile,
    Lag,
    Lead,
    FirstValue,
    LastValue,
    NthValue,
    Agg(AggKind),
}

impl WinFunc {
    /// Resolves a built-in window function (not the aggregates) by name and argument
    /// count: `Ok(None)` if the name is not one, `Err(())` for a wrong argument count.
    #[allow(clippy::result_unit_err)]
    pub fn lookup(name: &str, nargs: usize) -> Result<Option<WinFunc>, ()> {
        let n = name.to_ascii_lowercase();
        let (f, ok) = match n.as_str() {
            "row_number" => (WinFunc::RowNumber, nargs == 0),
            "rank" => (WinFunc::Rank, nargs == 0),
            "dense_rank" => (WinFunc::DenseRank, nargs == 0),
            "percent_rank" => (WinFunc::PercentRank, nargs == 0),
            "cume_dist" => (WinFunc::CumeDist, nargs == 0),
            "ntile" => (WinFunc::Ntile, nargs == 1),
            "lag" => (WinFunc::Lag, (1..=3).contains(&nargs)),
            "lead" => (WinFunc::Lead, (1..=3).contains(&nargs)),
            "first_value" => (WinFunc::FirstValue, nargs == 1),
            "last_value" => (WinFunc::LastValue, nargs == 1),
            "nth_value" => (WinFunc::NthValue, nargs == 2),
            _ => return Ok(None),
        };
        if ok {
            Ok(Some(f))
        } else {
            Err(())
        }
    }
}

/// One window-function call: its arguments and FILTER as input columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WinCall {
    pub func: WinFunc,
    pub args: Vec<usize>,
    pub filter: Option<usize>,
    /// min()/max() comparison collation.
    pub collation: Collation,
}

/// One window definition and the calls over it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowDef {
    pub partition: Vec<(usize, Collation)>,
    pub order: Vec<(usize, Collation, SortOrder)>,
    pub frame: Frame,
    pub calls: Vec<WinCall>,
}

/// Everything `WindowOpen` needs: the input row width and the windows. Results are
/// appended to each row in window order, then call order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowSpec {
    pub width: usize,
    pub windows: Vec<WindowDef>,
}

impl WindowSpec {
    pub fn result_count(&self) -> usize {
        self.windows.iter().map(|w| w.calls.len()).sum()
    }
}

fn err(m: &str) -> FunctionError {
    FunctionError::Error(m.to_string())
}

/// `OP_MustBeInt`: the value as an integer if it is one (or converts to one exactly).
fn must_be_int(v: &Value) -> Option<i64> {
    let conv;
    let v = match v {
        Value::Text(t) => {
            conv = numeric_value_of_text(t, true)?;
            &conv
        }
        _ => v,
    };
    match v {
        Value::Integer(i) => Some(*i),
        Value::Real(r) => {
            let i = *r as i64;
            if i as f64 == *r && r.is_finite() && *r > -9.2e18 && *r < 9.2e18 {
                Some(i)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Checks a frame offset as SQLite's `windowCheckValue` does.
fn check_offset(v: &Value, unit: FrameUnit, start: bool) -> Result<(), FunctionError> {
    let ok = if unit == FrameUnit::Range {
        match v {
            Value::Integer(i) => *i >= 0,
            Value::Real(r) => *r >= 0.0,
            _ => false,
        }
    } else {
        must_be_int(v).is_some_and(|i| i >= 0)
    };
    if ok {
        return Ok(());
    }
    Err(err(match (unit == FrameUnit::Range, start) {
        (false, true) => "frame starting offset must be a non-negative integer",
        (false, false) => "frame ending offset must be a non-negative integer",
        (true, true) => "frame starting offset must be a non-negative number",
        (true, false) => "frame ending offset must be a non-negative number",
    }))
}

/// Computes every call of `spec` over `rows` (each `spec.width` wide; results are
/// appended) and returns the order the rows come out in.
pub fn compute(
    rows: &mut [Vec<Value>],
    spec: &WindowSpec,
    enc: TextEncoding,
) -> Result<Vec<usize>, FunctionError> {
    let total = spec.result_count();
    for r in rows.iter_mut() {
        r.resize(spec.width + total, Value::Null);
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut out_base = total;
    for w in spec.windows.iter().rev() {
        out_base -= w.calls.len();
        if let Some(first) = rows.first() {
            for (b, start) in [(w.frame.start, true), (w.frame.end, false)] {
                if let FrameBound::Preceding(c) | FrameBound::Following(c) = b {
                    let v = first.get(c).unwrap_or(&Value::Null);
                    check_offset(v, w.frame.unit, start)?;
                }
            }
        }
        let key_cmp = |a: &[Value], b: &[Value]| -> Ordering {
            for &(c, coll) in &w.partition {
                let o = compare_in(&a[c], &b[c], coll, enc);
                if o != Ordering::Equal {
                    return o;
                }
            }
            for &(c, coll, so) in &w.order {
                let o = so.order(
                    compare_in(&a[c], &b[c], coll, enc),
                    matches!(a[c], Value::Null),
                    matches!(b[c], Value::Null),
                );
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        };
        order.sort_by(|&a, &b| key_cmp(&rows[a], &rows[b]));
        let mut i = 0;
        while i < order.len() {
            let mut j = i + 1;
            while j < order.len()
                && w.partition.iter().all(|&(c, coll)| {
                    compare_in(&rows[order[i]][c], &rows[order[j]][c], coll, enc) == Ordering::Equal
                })
            {
                j += 1;
            }
            partition(rows, &order[i..j], w, spec.width + out_base, enc)?;
            i = j;
        }
    }
    Ok(order)
}

/// The frame of each position: half-open `[start, end)` (empty when start >= end).
fn frames(
    rows: &[Vec<Value>],
    part: &[usize],
    w: &WindowDef,
    gs: &[usize],
    ge: &[usize],
    gid: &[usize],
    enc: TextEncoding,
) -> Vec<(usize, usize)> {
    let m = part.len();
    let f = w.frame;
    let off = |c: usize, k: usize| -> i64 { must_be_int(&rows[part[k]][c]).unwrap_or(0) };
    // Group boundaries for GROUPS: start position of each group id.
    let mut group_start = Vec::new();
    for k in 0..m {
        if k == 0 || gid[k] != gid[k - 1] {
            group_start.push(k);
        }
    }
    let ngroups = group_start.len();
    let group_end = |g: usize| -> usize {
        if g + 1 < ngroups {
            group_start[g + 1]
        } else {
            m
        }
    };
    let mut out = Vec::with_capacity(m);
    for k in 0..m {
        let start: usize = match (f.unit, f.start) {
            (_, FrameBound::UnboundedPreceding) => 0,
            (_, FrameBound::UnboundedFollowing) => m,
            (FrameUnit::Rows, FrameBound::CurrentRow) => k,
            (_, FrameBound::CurrentRow) => gs[k],
            (FrameUnit::Rows, FrameBound::Preceding(c)) => {
                (k as i64).saturating_sub(off(c, k)).max(0) as usize
            }
            (FrameUnit::Rows, FrameBound::Following(c)) => {
                ((k as i64).saturating_add(off(c, k))).min(m as i64) as usize
            }
            (FrameUnit::Groups, FrameBound::Preceding(c)) => {
                let g = (gid[k] as i64).saturating_sub(off(c, k));
                if g <= 0 {
                    0
                } else {
                    group_start[g as usize]
                }
            }
            (FrameUnit::Groups, FrameBound::Following(c)) => {
                let g = (gid[k] as i64).saturating_add(off(c, k));
                if g >= ngroups as i64 {
                    m
                } else {
                    group_start[g as usize]
                }
            }
            (FrameUnit::Range, FrameBound::Preceding(c)) => {
                range_bound(rows, part, w, k, c, false, true, enc)
            }
            (FrameUnit::Range, FrameBound::Following(c)) => {
                range_bound(rows, part, w, k, c, true, true, enc)
            }
        };
        let end: usize = match (f.unit, f.end) {
            (_, FrameBound::UnboundedFollowing) => m,
            (_, FrameBound::UnboundedPreceding) => 0,
            (FrameUnit::Rows, FrameBound::CurrentRow) => k + 1,
            (_, FrameBound::CurrentRow) => ge[k],
            (FrameUnit::Rows, FrameBound::Preceding(c)) => {
                ((k as i64 + 1).saturating_sub(off(c, k))).max(0) as usize
            }
            (FrameUnit::Rows, FrameBound::Following(c)) => {
                ((k as i64 + 1).saturating_add(off(c, k))).min(m as i64) as usize
            }
            (FrameUnit::Groups, FrameBound::Preceding(c)) => {
                let g = (gid[k] as i64).saturating_sub(off(c, k));
                if g < 0 {
                    0
                } else {
                    group_end(g as usize)
                }
            }
            (FrameUnit::Groups, FrameBound::Following(c)) => {
                let g = (gid[k] as i64).saturating_add(off(c, k));
                if g >= ngroups as i64 {
                    m
                } else {
                    group_end(g as usize)
                }
            }
            (FrameUnit::Range, FrameBound::Preceding(c)) => {
                range_bound(rows, part, w, k, c, false, false, enc)
            }
            (FrameUnit::Range, FrameBound::Following(c)) => {
                range_bound(rows, part, w, k, c, true, false, enc)
            }
        };
        out.push((start, end.max(start)));
    }
    out
}

/// A RANGE bound with an offset (one ORDER BY key): the current key plus or minus the
/// offset (text, blobs and NULL are left as they are), then the first position at or
/// after it (a start) or the position after the last one at or before it (an end), in
/// the sort's direction with NULLs where the sort puts them (`windowCodeRangeTest`).
#[allow(clippy::too_many_arguments)]
fn range_bound(
    rows: &[Vec<Value>],
    part: &[usize],
    w: &WindowDef,
    k: usize,
    off_col: usize,
    following: bool,
    is_start: bool,
    enc: TextEncoding,
) -> usize {
    let Some(&(c, coll, so)) = w.order.first() else {
        // The compiler refuses RANGE offsets without exactly one ORDER BY term.
        return if is_start { 0 } else { part.len() };
    };
    let cur = &rows[part[k]][c];
    let off = &rows[part[k]][off_col];
    let desc = so.is_desc();
    let big_null = matches!(so, SortOrder::AscNullsLast | SortOrder::DescNullsFirst);
    let target = match cur {
        Value::Integer(_) | Value::Real(_) => {
            let op = if following != desc {
                Arith::Add
            } else {
                Arith::Sub
            };
            arith(op, cur, off)
        }
        _ => cur.clone(),
    };
    // Ascending comparison with NULL smallest (or largest under NULLS LAST / DESC
    // NULLS FIRST), NULL equal to NULL.
    let cmp = |a: &Value| -> Ordering {
        match (matches!(a, Value::Null), matches!(target, Value::Null)) {
            (true, true) => Ordering::Equal,
            (true, false) => {
                if big_null {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (false, true) => {
                if big_null {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (false, false) => compare_in(a, &target, coll, enc),
        }
    };
    let key = |j: usize| -> Ordering {
        let o = cmp(&rows[part[j]][c]);
        if desc {
            o.reverse()
        } else {
            o
        }
    };
    // In sort order, key(j) goes Less..Equal..Greater.
    if is_start {
        partition_point(part.len(), |j| key(j) == Ordering::Less)
    } else {
        partition_point(part.len(), |j| key(j) != Ordering::Greater)
    }
}

fn partition_point(n: usize, pred: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Computes the calls of `w` over one partition (`part`: row indices in sort order).
fn partition(
    rows: &mut [Vec<Value>],
    part: &[usize],
    w: &WindowDef,
    out_base: usize,
    enc: TextEncoding,
) -> Result<(), FunctionError> {
    let m = part.len();
    // Peer groups: rows with equal ORDER BY keys (all rows without ORDER BY).
    let mut gid = vec![0usize; m];
    for k in 1..m {
        let same = w.order.iter().all(|&(c, coll, _)| {
            compare_in(&rows[part[k - 1]][c], &rows[part[k]][c], coll, enc) == Ordering::Equal
        });
        gid[k] = gid[k - 1] + usize::from(!same);
    }
    let mut gs = vec![0usize; m];
    let mut ge = vec![m; m];
    for k in 1..m {
        gs[k] = if gid[k] == gid[k - 1] { gs[k - 1] } else { k };
    }
    for k in (0..m.saturating_sub(1)).rev() {
        ge[k] = if gid[k] == gid[k + 1] {
            ge[k + 1]
        } else {
            k + 1
        };
    }
    let needs_frame = w.calls.iter().any(|c| {
        matches!(
            c.func,
            WinFunc::FirstValue | WinFunc::LastValue | WinFunc::NthValue | WinFunc::Agg(_)
        )
    });
    let fr = if needs_frame {
        frames(rows, part, w, &gs, &ge, &gid, enc)
    } else {
        Vec::new()
    };
    let excluded = |k: usize, j: usize| -> bool {
        match w.frame.exclude {
            Exclude::NoOthers => false,
            Exclude::CurrentRow => j == k,
            Exclude::Group => j >= gs[k] && j < ge[k],
            Exclude::Ties => j != k && j >= gs[k] && j < ge[k],
        }
    };
    for (ci, call) in w.calls.iter().enumerate() {
        let out = out_base + ci;
        let arg = |rows: &[Vec<Value>], k: usize, a: usize| -> Value {
            call.args
                .get(a)
                .map(|&c| rows[part[k]][c].clone())
                .unwrap_or(Value::Null)
        };
        let passes = |rows: &[Vec<Value>], j: usize| -> bool {
            call.filter
                .is_none_or(|f| truth(&rows[part[j]][f]).unwrap_or(false))
        };
        match call.func {
            WinFunc::RowNumber => {
                for k in 0..m {
                    rows[part[k]][out] = Value::Integer(k as i64 + 1);
                }
            }
            WinFunc::Rank => {
                for k in 0..m {
                    rows[part[k]][out] = Value::Integer(gs[k] as i64 + 1);
                }
            }
            WinFunc::DenseRank => {
                for k in 0..m {
                    rows[part[k]][out] = Value::Integer(gid[k] as i64 + 1);
                }
            }
            WinFunc::PercentRank => {
                for k in 0..m {
                    let v = if m > 1 {
                        gs[k] as f64 / (m - 1) as f64
                    } else {
                        0.0
                    };
                    rows[part[k]][out] = Value::Real(v);
                }
            }
            WinFunc::CumeDist => {
                for k in 0..m {
                    rows[part[k]][out] = Value::Real(ge[k] as f64 / m as f64);
                }
            }
            WinFunc::Ntile => {
                // ntileStepFunc: N is read from the partition's first row.
                let n = crate::conv::value_int64(&arg(rows, 0, 0));
                if n <= 0 {
                    return Err(err("argument of ntile must be a positive integer"));
                }
                let total = m as i64;
                let size = total / n;
                for k in 0..m {
                    let row = k as i64;
                    let v = if size == 0 {
                        row + 1
                    } else {
                        let large = total - n * size;
                        let small = large * (size + 1);
                        if row < small {
                            1 + row / (size + 1)
                        } else {
                            1 + large + (row - small) / size
                        }
                    };
                    rows[part[k]][out] = Value::Integer(v);
                }
            }
            WinFunc::Lag | WinFunc::Lead => {
                let lead = call.func == WinFunc::Lead;
                let mut vals = Vec::with_capacity(m);
                for k in 0..m {
                    let rowid = Value::Integer(k as i64 + 1);
                    let target = if call.args.len() < 2 {
                        Value::Integer(k as i64 + if lead { 2 } else { 0 })
                    } else {
                        let o = arg(rows, k, 1);
                        arith(if lead { Arith::Add } else { Arith::Sub }, &rowid, &o)
                    };
                    // OP_SeekRowid: only an integer rowid inside the partition is found.
                    let v = match target {
                        Value::Integer(t) if t >= 1 && t <= m as i64 => {
                            arg(rows, t as usize - 1, 0)
                        }
                        _ => arg(rows, k, 2),
                    };
                    vals.push(v);
                }
                for (k, v) in vals.into_iter().enumerate() {
                    rows[part[k]][out] = v;
                }
            }
            WinFunc::FirstValue | WinFunc::LastValue | WinFunc::NthValue => {
                let mut vals = Vec::with_capacity(m);
                for k in 0..m {
                    let (s, e) = fr[k];
                    let mut it = (s..e).filter(|&j| !excluded(k, j));
                    let pos = match call.func {
                        WinFunc::FirstValue => it.next(),
                        WinFunc::LastValue => it.next_back(),
                        _ => {
                            let n = must_be_int(&arg(rows, k, 1))
                                .filter(|&n| n > 0)
                                .ok_or_else(|| {
                                    err("second argument to nth_value must be a positive integer")
                                })?;
                            it.nth(usize::try_from(n - 1).unwrap_or(usize::MAX))
                        }
                    };
                    vals.push(pos.map(|j| arg(rows, j, 0)).unwrap_or(Value::Null));
                }
                for (k, v) in vals.into_iter().enumerate() {
                    rows[part[k]][out] = v;
                }
            }
            WinFunc::Agg(kind) => {
                let nargs = call.args.len();
                let args_of = |rows: &[Vec<Value>], j: usize| -> Vec<Value> {
                    (0..nargs).map(|a| arg(rows, j, a)).collect()
                };
                let mut vals = Vec::with_capacity(m);
                let fixed_start = w.frame.start == FrameBound::UnboundedPreceding;
                let new_acc = || WinAcc::new(kind, call.collation, enc);
                // min()/max() over a frame whose start moves keep the frame's values in
                // an ordered set (SQLite's ephemeral index), which ignores FILTER.
                let sliding_minmax = matches!(kind, AggKind::Min | AggKind::Max)
                    && !fixed_start
                    && w.frame.exclude == Exclude::NoOthers;
                let passes = |rows: &[Vec<Value>], j: usize| sliding_minmax || passes(rows, j);
                if w.frame.exclude != Exclude::NoOthers
                    || (!fixed_start && !sliding_minmax && !WinAcc::has_inverse(kind))
                {
                    // SQLite's full scan of each frame (`windowFullScan`, which EXCLUDE
                    // takes): a fresh aggregate finalized per row.
                    for k in 0..m {
                        let mut acc = new_acc();
                        let (s, e) = fr[k];
                        for j in s..e {
                            if !excluded(k, j) && passes(rows, j) {
                                acc.step(&args_of(rows, j));
                            }
                        }
                        vals.push(acc.finish()?);
                    }
                } else {
                    // Frames whose ends only move forward: rows leaving are removed
                    // (inverse), then rows entering are stepped, in SQLite's order; the
                    // start never moves when it is UNBOUNDED.
                    let mut acc = if sliding_minmax {
                        WinAcc::MinMax(MinMaxWin {
                            max: kind == AggKind::Max,
                            collation: call.collation,
                            enc,
                            entries: Vec::new(),
                            counter: 0,
                        })
                    } else {
                        new_acc()
                    };
                    let (mut lo, mut hi) = (0usize, 0usize);
                    for k in 0..m {
                        let (s, e) = fr[k];
                        let (s, e) = (s.max(lo), e.max(s).max(hi));
                        for j in lo..s.min(hi) {
                            if passes(rows, j) {
                                acc.inverse(&args_of(rows, j));
                            }
                        }
                        for j in hi.max(s)..e {
                            if passes(rows, j) {
                                acc.step(&args_of(rows, j));
                            }
                        }
                        lo = s;
                        hi = e;
                        vals.push(acc.value()?);
                    }
                }
                for (k, v) in vals.into_iter().enumerate() {
                    rows[part[k]][out] = v;
                }
            }
        }
    }
    Ok(())
}

/// An aggregate as a window function: the plain accumulator, except group_concat, whose
/// window form keeps SQLite's bookkeeping (see [`ConcatWin`]).
enum WinAcc {
    Std(Accumulator),
    Concat(ConcatWin),
    MinMax(MinMaxWin),
}

impl WinAcc {
    fn new(kind: AggKind, collation: Collation, enc: TextEncoding) -> WinAcc {
        if kind == AggKind::GroupConcat {
            WinAcc::Concat(ConcatWin::default())
        } else {
            WinAcc::Std(Accumulator::new_in(kind, collation, enc))
        }
    }

    fn has_inverse(kind: AggKind) -> bool {
        kind == AggKind::GroupConcat || Accumulator::has_inverse(kind)
    }

    fn step(&mut self, args: &[Value]) {
        match self {
            WinAcc::Std(a) => {
                a.step(args);
            }
            WinAcc::Concat(c) => c.step(args),
            WinAcc::MinMax(m) => m.step(args),
        }
    }

    fn inverse(&mut self, args: &[Value]) {
        match self {
            WinAcc::Std(a) => a.inverse(args),
            WinAcc::Concat(c) => c.inverse(args),
            WinAcc::MinMax(m) => m.inverse(args),
        }
    }

    /// The current value (`xValue`, the aggregate stays usable).
    fn value(&self) -> Result<Value, FunctionError> {
        match self {
            WinAcc::Std(a) => a.finish(),
            WinAcc::Concat(c) => c.value(),
            WinAcc::MinMax(m) => Ok(m.value()),
        }
    }

    /// The final value (`xFinalize`, as SQLite's full frame scans return).
    fn finish(&self) -> Result<Value, FunctionError> {
        match self {
            WinAcc::Std(a) => a.finish(),
            WinAcc::Concat(c) => c.finish(),
            WinAcc::MinMax(m) => Ok(m.value()),
        }
    }
}

/// group_concat as SQLite's `groupConcatStep`/`groupConcatInverse`/`groupConcatValue`
/// keep it: the separator lengths are tracked so that removing the first value also
/// removes the separator after it; once the text is empty the next value is again a
/// "first term" (no separator); the value of an empty text is NULL.
#[derive(Default)]
struct ConcatWin {
    text: Vec<u8>,
    /// `str.mxAlloc != 0`: a value was stepped since the text was last emptied.
    started: bool,
    /// A row was ever stepped (the aggregate context exists).
    stepped: bool,
    first_sep_len: usize,
    /// Separator lengths once they vary (`pnSepLengths`).
    sep_lens: Option<Vec<usize>>,
    accum: i64,
    too_big: bool,
}

impl ConcatWin {
    fn step(&mut self, args: &[Value]) {
        let v = args.first().unwrap_or(&Value::Null);
        if matches!(v, Value::Null) {
            return;
        }
        self.stepped = true;
        let first = !self.started;
        self.started = true;
        match args.get(1) {
            None => {
                if !first {
                    self.text.push(b',');
                } else {
                    self.first_sep_len = 1;
                }
            }
            Some(sep) => {
                let mut sep_text = Vec::new();
                crate::conv::append_text(sep, &mut sep_text);
                if !first {
                    self.text.extend_from_slice(&sep_text);
                    let n = sep_text.len();
                    if n != self.first_sep_len || self.sep_lens.is_some() {
                        let k = self.accum.max(0) as usize;
                        let lens = self
                            .sep_lens
                            .get_or_insert_with(|| vec![self.first_sep_len; k.saturating_sub(1)]);
                        if k > 0 {
                            lens.resize(k, 0);
                            lens[k - 1] = n;
                        }
                    }
                } else {
                    self.first_sep_len = sep_text.len();
                }
            }
        }
        self.accum += 1;
        crate::conv::append_text(v, &mut self.text);
        if self.text.len() > crate::printf::MAX_LENGTH {
            self.too_big = true;
            self.text.clear();
        }
    }

    fn inverse(&mut self, args: &[Value]) {
        let v = args.first().unwrap_or(&Value::Null);
        if matches!(v, Value::Null) {
            return;
        }
        let mut vt = Vec::new();
        crate::conv::append_text(v, &mut vt);
        let mut n = vt.len();
        self.accum -= 1;
        match &mut self.sep_lens {
            Some(lens) => {
                if self.accum > 0 && !lens.is_empty() {
                    n += lens.remove(0);
                }
            }
            None => n += self.first_sep_len,
        }
        if n >= self.text.len() {
            self.text.clear();
        } else {
            self.text.drain(..n);
        }
        if self.text.is_empty() {
            self.started = false;
            self.sep_lens = None;
        }
    }

    fn value(&self) -> Result<Value, FunctionError> {
        if self.too_big {
            return Err(FunctionError::TooBig);
        }
        Ok(if self.text.is_empty() {
            Value::Null
        } else {
            Value::Text(self.text.clone())
        })
    }

    fn finish(&self) -> Result<Value, FunctionError> {
        if self.too_big {
            return Err(FunctionError::TooBig);
        }
        Ok(if self.stepped {
            Value::Text(self.text.clone())
        } else {
            Value::Null
        })
    }
}

/// min()/max() over a sliding frame as SQLite computes it: the frame's non-NULL values
/// in an ordered set keyed by (value, insertion counter); the result is the set's last
/// entry in its order (the largest value for max, the smallest for min, the latest
/// inserted among equal ones), and removing a value removes the oldest equal entry.
struct MinMaxWin {
    max: bool,
    collation: Collation,
    enc: TextEncoding,
    entries: Vec<(Value, u64)>,
    counter: u64,
}

impl MinMaxWin {
    fn step(&mut self, args: &[Value]) {
        let v = args.first().unwrap_or(&Value::Null);
        if matches!(v, Value::Null) {
            return;
        }
        self.counter += 1;
        self.entries.push((v.clone(), self.counter));
    }

    fn inverse(&mut self, args: &[Value]) {
        let v = args.first().unwrap_or(&Value::Null);
        if matches!(v, Value::Null) {
            return;
        }
        // Entries are in insertion order: the first equal one is the oldest.
        if let Some(i) = self
            .entries
            .iter()
            .position(|(e, _)| compare_in(e, v, self.collation, self.enc) == Ordering::Equal)
        {
            self.entries.remove(i);
        }
    }

    fn value(&self) -> Value {
        let mut best: Option<&Value> = None;
        for (e, _) in &self.entries {
            let take = match best {
                None => true,
                Some(b) => {
                    let c = compare_in(e, b, self.collation, self.enc);
                    // Later entries win ties (they sort after in the set).
                    if self.max {
                        c != Ordering::Less
                    } else {
                        c != Ordering::Greater
                    }
                }
            };
            if take {
                best = Some(e);
            }
        }
        best.cloned().unwrap_or(Value::Null)
    }
}
