//! The sorter behind `SorterOpen`/`SorterInsert`/`SorterSort`/`SorterNext`: an external
//! merge sort whose memory is bounded by a budget, whatever the input size.
//!
//! Records are compared on their first `key_info.fields.len()` fields (later fields are
//! payload and never compared), and rows with equal keys come back in insertion order.
//!
//! ## In memory, then runs on disk
//! Records accumulate in one arena (no allocation per row) with an entry each. When the
//! next record would take the arena and entries past the budget (less the write buffer's
//! share), the entries are sorted (stably: ties in insertion order) and written as one
//! *run* to the sorter's temporary file (`sorter_file.rs`: created through the IO trait
//! beside the database, removed when the sorter is dropped, so also when the statement
//! fails or is reset), and the arena is reused. A sort that fits the budget never touches
//! a file.
//!
//! At `SorterSort`, if anything was spilled, the last run is spilled too and the runs are
//! merged: while there are more than `fan_in` runs, consecutive groups of `fan_in` runs
//! are merged into longer runs appended to the file (one pass per level, groups in order,
//! so the merge stays stable); the last `fan_in` or fewer are merged as the output,
//! streamed record by record. Each run is read through a buffer of `read_chunk` bytes
//! and the writer's buffer is `write_chunk` bytes, chosen so that fan-in readers plus
//! the writer fit the budget. Merge ties go to the lower run index: runs hold insertion
//! order, so equal keys keep it.
//!
//! ## Resuming
//! `insert`, `sort` and `next` may have to wait for a write or read: they return
//! `Poll::Pending` with their progress recorded (a spill in progress, a merge pass in
//! progress, a reader's consumed record), and the VM runs the same instruction again.
//!
//! ## Memory accounting
//! The bytes held (arena and entry capacities, write buffers including one in flight,
//! read buffers, heap) are tracked; their maximum goes to the connection's high-water
//! mark (`Connection::sorter_memory_high_water`). The only excess over the budget is one
//! record larger than the budget (it is held whole) and the buffers' rounding.
//!
//! ## Speed
//! (Measured: the comparison was a third of a GROUP BY over 1M rows.) Each entry carries
//! its first key field located once (`SortKey`: the integer, or where the text is), so
//! most comparisons of integer keys, and of UTF-8 text keys under BINARY, never decode a
//! record header; the merge's readers carry it too. Every other case (and ties) takes
//! the full comparison, so the order is exactly `compare_prefix`'s.

use std::cmp::Ordering;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::Arc;

use strata_btree::record::KeyInfo;
use strata_io::{Poll, IO};

use super::cursor::RowCache;
use super::sorter_file::{
    compare_records, ready, sort_key, Merger, Run, RunWriter, SortKey, TempFile,
};
use super::VmError;
use crate::insn::ErrorCode;

/// One record: where it is in the arena, and its first key field located.
#[derive(Clone, Copy)]
struct Entry {
    start: usize,
    len: usize,
    key: SortKey,
}

const ENTRY: usize = std::mem::size_of::<Entry>();

/// The smallest budget honoured (a smaller setting is raised to it): room for a few
/// records and the merge's buffers.
pub const MIN_BUDGET_BYTES: usize = 4 * 1024;

/// What a sorter needs from its connection.
#[derive(Clone)]
pub(crate) struct SorterEnv {
    pub io: Arc<dyn IO>,
    /// The main database's path: temporary files are named after it.
    pub db_path: String,
    /// Bytes the sorter may hold in memory.
    pub budget: usize,
    /// The connection's high-water mark of bytes held by any one sorter.
    pub high_water: Arc<AtomicUsize>,
}

/// Where the sorter is in its life.
enum Stage {
    /// Taking records (some runs may be on disk already).
    Filling,
    /// Merge passes: merging consecutive groups of `level`'s runs into `out`.
    Passes {
        level: Vec<Run>,
        next_group: usize,
        out: Vec<Run>,
        pass: Option<Pass>,
    },
    /// The final merge, streamed to the caller. `started`: its first records are read.
    Final {
        runs: Vec<Run>,
        merger: Merger,
        started: bool,
    },
}

/// One merge of a group of runs into a new run at the end of the file.
struct Pass {
    merger: Merger,
    group_len: usize,
    start: u64,
    /// The merger's current record is in the writer: advance before the next copy.
    copied: bool,
}

/// A spill of the in-memory records in progress: the next entry to write and where the
/// run began.
struct Spill {
    next: usize,
    start: u64,
}

pub(crate) struct Sorter {
    key_info: Arc<KeyInfo>,
    env: SorterEnv,
    /// Bytes the arena and entries may take (the budget less the writer's share).
    mem_limit: usize,
    write_chunk: usize,
    read_chunk: usize,
    fan_in: usize,
    arena: Vec<u8>,
    records: Vec<Entry>,
    pos: usize,
    sorted: bool,
    file: Option<TempFile>,
    writer: Option<RunWriter>,
    runs: Vec<Run>,
    spill: Option<Spill>,
    stage: Stage,
    /// This sorter's peak of bytes held (published to `env.high_water`).
    peak: usize,
    pub null_row: bool,
    pub row: RowCache,
}

impl Sorter {
    pub fn new(key_info: Arc<KeyInfo>, env: SorterEnv) -> Self {
        let budget = env.budget.max(MIN_BUDGET_BYTES);
        // The writer holds up to two chunks (one filling, one in flight).
        let write_chunk = (budget / 16).clamp(512, 64 * 1024);
        let merge_room = budget - 2 * write_chunk;
        // Each reader holds up to about three chunks (the unconsumed tail, the buffer,
        // a read in flight). Reads under 512 bytes are not worth it: fewer, larger
        // readers instead (more passes).
        let fan_in = (merge_room / (3 * 512)).clamp(2, 16);
        let read_chunk = (merge_room / (3 * fan_in)).min(256 * 1024);
        Sorter {
            key_info,
            mem_limit: budget - 2 * write_chunk,
            write_chunk,
            read_chunk,
            fan_in,
            env,
            arena: Vec::new(),
            records: Vec::new(),
            pos: 0,
            sorted: false,
            file: None,
            writer: None,
            runs: Vec::new(),
            spill: None,
            stage: Stage::Filling,
            peak: 0,
            null_row: false,
            row: RowCache::default(),
        }
    }

    /// Bytes held now.
    fn memory(&self) -> usize {
        let mut m = self.arena.capacity() + self.records.capacity() * ENTRY;
        if let Some(w) = &self.writer {
            m += w.memory();
        }
        match &self.stage {
            Stage::Filling => {}
            Stage::Passes { pass, .. } => {
                m += pass.as_ref().map_or(0, |p| p.merger.memory());
            }
            Stage::Final { merger, .. } => m += merger.memory(),
        }
        m
    }

    fn note_memory(&mut self) {
        let m = self.memory();
        if m > self.peak {
            self.peak = m;
            self.env.high_water.fetch_max(m, AtomicOrdering::Relaxed);
        }
    }

    /// Adds a record. May spill the records held so far to a run first (and then return
    /// `Pending` until the run is written; the record is added by the call that finds
    /// the spill done).
    pub fn insert(&mut self, record: &[u8]) -> Result<Poll<()>, VmError> {
        if !matches!(self.stage, Stage::Filling) {
            return Err(VmError::new(
                ErrorCode::Misuse,
                "SorterInsert after SorterSort on a sorter that spilled to disk",
            ));
        }
        if self.spill.is_some() {
            ready!(self.drive_spill());
        }
        let need_arena = self.arena.len() + record.len();
        let need_entries = self.records.len() + 1;
        let mut arena_cap = self.arena.capacity();
        let mut entries_cap = self.records.capacity();
        if need_arena > arena_cap {
            let room = self.mem_limit.saturating_sub(entries_cap * ENTRY);
            arena_cap = need_arena.max((arena_cap * 2).max(4096).min(room));
        }
        if need_entries > entries_cap {
            let room = self.mem_limit.saturating_sub(arena_cap) / ENTRY;
            entries_cap = need_entries.max((entries_cap * 2).max(64).min(room));
        }
        if arena_cap + entries_cap * ENTRY > self.mem_limit && !self.records.is_empty() {
            self.start_spill()?;
            ready!(self.drive_spill());
            return self.insert(record);
        }
        let grew = arena_cap > self.arena.capacity() || entries_cap > self.records.capacity();
        if arena_cap > self.arena.capacity() {
            self.arena.reserve_exact(arena_cap - self.arena.len());
        }
        if entries_cap > self.records.capacity() {
            self.records.reserve_exact(entries_cap - self.records.len());
        }
        let start = self.arena.len();
        self.arena.extend_from_slice(record);
        self.records.push(Entry {
            start,
            len: record.len(),
            key: sort_key(record),
        });
        self.sorted = false;
        if grew {
            self.note_memory();
        }
        Ok(Poll::Ready(()))
    }

    /// Sorts the in-memory entries (stable).
    fn sort_in_memory(&mut self) -> Result<(), VmError> {
        if self.sorted {
            return Ok(());
        }
        let n = self.key_info.fields.len();
        let ki = &*self.key_info;
        let arena = &self.arena;
        let mut err = None;
        // Equal keys keep their insertion order: ties go by arena offset, which grows
        // with insertion. (An unstable sort with that tie-break is stable, sorts in place
        // where `sort_by` allocates a scratch copy of the entries outside the budget, and
        // is faster.)
        self.records.sort_unstable_by(|a, b| {
            let ra = &arena[a.start..a.start + a.len];
            let rb = &arena[b.start..b.start + b.len];
            match compare_records(ki, n, ra, a.key, rb, b.key) {
                Ok(Ordering::Equal) => a.start.cmp(&b.start),
                Ok(o) => o,
                Err(e) => {
                    err.get_or_insert(e);
                    a.start.cmp(&b.start)
                }
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
        self.sorted = true;
        Ok(())
    }

    /// Sorts the records held and begins writing them as a run (the temporary file is
    /// created by the first spill).
    fn start_spill(&mut self) -> Result<(), VmError> {
        self.sort_in_memory()?;
        if self.file.is_none() {
            self.file = Some(TempFile::create(&self.env.io, &self.env.db_path)?);
            self.writer = Some(RunWriter::new(0, self.write_chunk));
        }
        let start = self.writer.as_ref().map_or(0, |w| w.offset);
        self.spill = Some(Spill { next: 0, start });
        Ok(())
    }

    /// Writes the spill in progress to its end; then the arena is empty again.
    fn drive_spill(&mut self) -> Result<Poll<()>, VmError> {
        let (Some(sp), Some(w), Some(f)) = (&mut self.spill, &mut self.writer, &self.file) else {
            return Ok(Poll::Ready(()));
        };
        loop {
            ready!(w.poll_inflight());
            if sp.next == self.records.len() {
                if !w.is_empty() {
                    w.submit(&*f.file)?;
                    continue;
                }
                self.runs.push(Run {
                    start: sp.start,
                    end: w.offset,
                });
                self.spill = None;
                self.records.clear();
                self.arena.clear();
                self.sorted = false;
                return Ok(Poll::Ready(()));
            }
            while sp.next < self.records.len() && !w.is_full() {
                let e = self.records[sp.next];
                w.push(&self.arena[e.start..e.start + e.len]);
                sp.next += 1;
            }
            if w.is_full() || sp.next == self.records.len() {
                w.submit(&*f.file)?;
                let m = self.arena.capacity() + self.records.capacity() * ENTRY + w.memory();
                if m > self.peak {
                    self.peak = m;
                    self.env.high_water.fetch_max(m, AtomicOrdering::Relaxed);
                }
            }
        }
    }

    /// Sorts and positions on the first record: `Ready(false)` if there is none.
    pub fn sort(&mut self) -> Result<Poll<bool>, VmError> {
        self.null_row = false;
        self.row.invalidate();
        if self.file.is_none() {
            self.sort_in_memory()?;
            self.pos = 0;
            return Ok(Poll::Ready(!self.records.is_empty()));
        }
        loop {
            match &mut self.stage {
                Stage::Filling => {
                    if self.spill.is_none() && !self.records.is_empty() {
                        self.start_spill()?;
                    }
                    ready!(self.drive_spill());
                    // Everything is on disk: give the arena's memory to the merge.
                    self.arena = Vec::new();
                    self.records = Vec::new();
                    self.stage = Stage::Passes {
                        level: std::mem::take(&mut self.runs),
                        next_group: 0,
                        out: Vec::new(),
                        pass: None,
                    };
                }
                Stage::Passes { .. } => ready!(self.drive_passes()),
                Stage::Final {
                    runs,
                    merger,
                    started,
                } => {
                    if *started {
                        // Sorted again (a rewind): restart the final merge.
                        *merger = Merger::new(runs, self.read_chunk);
                        *started = false;
                    }
                    let f = self.file.as_ref().expect("a spilled sorter has a file");
                    let n = self.key_info.fields.len();
                    let on = ready!(merger.start(&*f.file, &self.key_info, n));
                    *started = true;
                    self.note_memory();
                    return Ok(Poll::Ready(on));
                }
            }
        }
    }

    /// Runs the merge passes until at most `fan_in` runs are left, then sets up the
    /// final merge.
    fn drive_passes(&mut self) -> Result<Poll<()>, VmError> {
        let n = self.key_info.fields.len();
        let fan_in = self.fan_in;
        let read_chunk = self.read_chunk;
        loop {
            let Stage::Passes {
                level,
                next_group,
                out,
                pass,
            } = &mut self.stage
            else {
                return Ok(Poll::Ready(()));
            };
            let f = self.file.as_ref().expect("a spilled sorter has a file");
            let w = self.writer.as_mut().expect("a spilled sorter has a writer");
            let Some(p) = pass else {
                if *next_group == 0 && level.len() <= fan_in {
                    let runs = std::mem::take(level);
                    let merger = Merger::new(&runs, read_chunk);
                    // Nothing more is written: free the writer's buffer for the merge.
                    self.writer = None;
                    self.stage = Stage::Final {
                        runs,
                        merger,
                        started: false,
                    };
                    return Ok(Poll::Ready(()));
                }
                if *next_group >= level.len() {
                    *level = std::mem::take(out);
                    *next_group = 0;
                    continue;
                }
                let end = (*next_group + fan_in).min(level.len());
                let group = &level[*next_group..end];
                if group.len() == 1 {
                    // A lone run needs no copy.
                    out.push(group[0]);
                    *next_group = end;
                    continue;
                }
                *pass = Some(Pass {
                    merger: Merger::new(group, read_chunk),
                    group_len: group.len(),
                    start: w.offset,
                    copied: false,
                });
                continue;
            };
            ready!(w.poll_inflight());
            ready!(p.merger.start(&*f.file, &self.key_info, n));
            loop {
                ready!(w.poll_inflight());
                if p.copied {
                    ready!(p.merger.next(&*f.file, &self.key_info, n));
                    p.copied = false;
                }
                match p.merger.current() {
                    Some(rec) => {
                        w.push(rec);
                        p.copied = true;
                        if w.is_full() {
                            w.submit(&*f.file)?;
                            let m = w.memory() + p.merger.memory();
                            if m > self.peak {
                                self.peak = m;
                                self.env.high_water.fetch_max(m, AtomicOrdering::Relaxed);
                            }
                        }
                    }
                    None => {
                        if !w.is_empty() {
                            w.submit(&*f.file)?;
                            continue;
                        }
                        break;
                    }
                }
            }
            out.push(Run {
                start: p.start,
                end: w.offset,
            });
            *next_group += p.group_len;
            let m = w.memory() + p.merger.memory();
            *pass = None;
            if m > self.peak {
                self.peak = m;
                self.env.high_water.fetch_max(m, AtomicOrdering::Relaxed);
            }
        }
    }

    /// Advances: `Ready(true)` while on a record.
    pub fn next(&mut self) -> Result<Poll<bool>, VmError> {
        self.row.invalidate();
        match &mut self.stage {
            Stage::Final { merger, .. } => {
                let f = self.file.as_ref().expect("a spilled sorter has a file");
                let n = self.key_info.fields.len();
                let on = ready!(merger.next(&*f.file, &self.key_info, n));
                let m = merger.memory();
                if m > self.peak {
                    self.peak = m;
                    self.env.high_water.fetch_max(m, AtomicOrdering::Relaxed);
                }
                Ok(Poll::Ready(on))
            }
            _ => {
                if self.pos < self.records.len() {
                    self.pos += 1;
                }
                Ok(Poll::Ready(self.pos < self.records.len()))
            }
        }
    }

    pub fn current(&self) -> Option<&[u8]> {
        match &self.stage {
            Stage::Final {
                merger,
                started: true,
                ..
            } => merger.current(),
            Stage::Filling if self.file.is_none() && self.sorted => self
                .records
                .get(self.pos)
                .map(|e| &self.arena[e.start..e.start + e.len]),
            _ => None,
        }
    }
}

/// The first field of a record if it is stored as an integer (serial types 1-6, 8, 9).
#[cfg(test)]
pub(super) fn first_integer(record: &[u8]) -> Option<i64> {
    match sort_key(record) {
        SortKey::Int(v) => Some(v),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vm::cursor::compare_prefix;
    use strata_btree::record::{encode_values, Collation, SortOrder, Value};
    use strata_io::MemoryIo;

    fn env(io: &Arc<dyn IO>, budget: usize) -> SorterEnv {
        SorterEnv {
            io: io.clone(),
            db_path: "test.db".into(),
            budget,
            high_water: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Runs an operation to completion on `io`, counting the `Pending`s.
    fn drive<T>(
        io: &Arc<dyn IO>,
        pendings: &mut usize,
        mut op: impl FnMut() -> Result<Poll<T>, VmError>,
    ) -> T {
        loop {
            match op().unwrap() {
                Poll::Ready(v) => return v,
                Poll::Pending => {
                    *pendings += 1;
                    io.run_once().unwrap();
                }
            }
        }
    }

    /// Inserts, sorts and reads back everything.
    fn sort_all(s: &mut Sorter, io: &Arc<dyn IO>, recs: &[Vec<u8>]) -> (Vec<Vec<u8>>, usize) {
        let mut pendings = 0;
        for r in recs {
            drive(io, &mut pendings, || s.insert(r));
        }
        let mut got = Vec::new();
        let mut on = drive(io, &mut pendings, || s.sort());
        while on {
            got.push(s.current().unwrap().to_vec());
            on = drive(io, &mut pendings, || s.next());
        }
        (got, pendings)
    }

    fn rec(vals: &[Value]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_values(vals, &mut out);
        out
    }

    #[test]
    pub(super) fn first_integer_reads_every_integer_serial_type() {
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
        // Text keys are located (offset and length in the record); a text longer than
        // the record is not.
        let r = rec(&[Value::Text(b"abc".to_vec()), Value::Integer(1)]);
        assert_eq!(sort_key(&r), SortKey::Text { off: 3, len: 3 });
        assert_eq!(&r[3..6], b"abc");
        let long = rec(&[Value::Text(vec![b'x'; 300])]);
        let SortKey::Text { off, len } = sort_key(&long) else {
            panic!("a long text is located too")
        };
        assert_eq!(&long[off as usize..(off + len) as usize], &[b'x'; 300][..]);
        assert_eq!(sort_key(&long[..long.len() - 1]), SortKey::Other);
        assert_eq!(sort_key(&rec(&[Value::Blob(vec![1])])), SortKey::Other);
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
            Value::Text(b"".to_vec()),
            Value::Text(b"ab".to_vec()),
            Value::Text(b"a".to_vec()),
            Value::Text("é".as_bytes().to_vec()),
            Value::Text(b"B".to_vec()),
            Value::Text(b"ab".to_vec()),
            Value::Text(vec![b'x'; 300]),
            Value::Text(vec![b'x'; 299]),
        ];
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let ki = Arc::new(KeyInfo {
                fields: vec![(Collation::Binary, order)],
                ..Default::default()
            });
            let io: Arc<dyn IO> = Arc::new(MemoryIo::new());
            let mut s = Sorter::new(ki.clone(), env(&io, 1 << 20));
            let recs: Vec<Vec<u8>> = vals
                .iter()
                .enumerate()
                .map(|(i, v)| rec(&[v.clone(), Value::Integer(i as i64)]))
                .collect();
            let (got, _) = sort_all(&mut s, &io, &recs);
            assert!(s.file.is_none(), "a small sort stays in memory");
            let mut want = recs.clone();
            want.sort_by(|a, b| compare_prefix(a, b, &ki, 1).unwrap());
            assert_eq!(got, want, "{order:?}");
            // Two key fields: ties on the first (equal integers, equal texts) are
            // decided by the second.
            let ki2 = Arc::new(KeyInfo {
                fields: vec![(Collation::Binary, order), (Collation::Binary, order)],
                ..Default::default()
            });
            let mut s = Sorter::new(ki2.clone(), env(&io, 1 << 20));
            let (got, _) = sort_all(&mut s, &io, &recs);
            let mut want = recs.clone();
            want.sort_by(|a, b| compare_prefix(a, b, &ki2, 2).unwrap());
            assert_eq!(got, want, "{order:?}, two fields");
        }
    }

    /// Many runs (more than the fan-in, so merge passes run), on a deferred IO (every
    /// write and read returns `Pending` first): the order is the stable in-memory order,
    /// memory stays under the budget, and the temporary file is gone after the drop.
    #[test]
    fn external_sort_is_stable_bounded_and_cleans_up() {
        let budget = MIN_BUDGET_BYTES;
        let mut seed = 7u64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let recs: Vec<Vec<u8>> = (0..20_000)
            .map(|i| {
                let k = match rnd() % 4 {
                    0 => Value::Integer((rnd() % 50) as i64 - 25),
                    1 => Value::Text(format!("t{}", rnd() % 40).into_bytes()),
                    2 => Value::Real((rnd() % 30) as f64 / 4.0),
                    _ => Value::Null,
                };
                // A large record now and then (bigger than a read chunk).
                let pad = if i % 997 == 0 { 3000 } else { 8 };
                rec(&[k, Value::Integer(i), Value::Blob(vec![7; pad])])
            })
            .collect();
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let ki = Arc::new(KeyInfo {
                fields: vec![(Collation::Binary, order)],
                ..Default::default()
            });
            let io: Arc<dyn IO> = Arc::new(MemoryIo::new_deferred());
            let e = env(&io, budget);
            let hw = e.high_water.clone();
            let mut s = Sorter::new(ki.clone(), e);
            let (got, pendings) = sort_all(&mut s, &io, &recs);
            assert!(pendings > 0, "the deferred IO made operations wait");
            let path = s.file.as_ref().unwrap().path().to_string();
            assert!(io.file_exists(&path).unwrap());
            // Merge passes ran: the file holds the data more than once.
            let data: usize = recs.iter().map(|r| r.len() + 1).sum();
            let size = s.file.as_ref().unwrap().file.size_bytes().unwrap() as usize;
            assert!(size > data * 3 / 2, "file {size} bytes, data {data}");
            let mut want = recs.clone();
            want.sort_by(|a, b| compare_prefix(a, b, &ki, 1).unwrap());
            assert_eq!(got.len(), want.len());
            assert!(got == want, "{order:?}: order differs");
            let peak = hw.load(AtomicOrdering::Relaxed);
            assert!(peak > 0 && peak <= budget + 8 * 1024, "peak {peak}");
            drop(s);
            assert!(!io.file_exists(&path).unwrap(), "temporary file removed");
        }
    }
}
