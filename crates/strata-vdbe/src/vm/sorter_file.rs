//! The on-disk half of the sorter (see `sorter.rs`): a temporary file of sorted runs, a
//! buffered writer that appends a run, a buffered reader that streams one back, and the
//! k-way merge of runs.
//!
//! ## File format
//! One temporary file per sorter holds every run, one after another (merge passes append
//! their output runs after the input runs). A run is a byte range of the file: records,
//! each preceded by its length as a LEB128 varint. The file is private to the sorter and
//! never outlives it (it is removed when the sorter is dropped: statement done, failed or
//! reset), so the format has no header and no versioning. A malformed run (which only a
//! failing device can produce) is reported as corruption, never a panic.
//!
//! ## Resuming
//! Every operation here may have to wait for I/O: it returns `Poll::Pending` with its
//! progress recorded in its own fields (the in-flight completion, the reader's consumed
//! record) and is simply called again. No operation consumes anything before a point where
//! it may return `Pending` without recording that it did.

use std::cmp::Ordering;
use std::sync::Arc;

use strata_btree::first_key::{compare_first, first_key, FirstKey};
use strata_btree::record::KeyInfo;
use strata_io::{Completion, File, OpenFlags, Poll, IO};

use super::cursor::compare_prefix;
use super::VmError;
use crate::insn::ErrorCode;

/// `Result<Poll<T>, VmError>`'s `?` for `Poll`: returns `Pending` at once.
macro_rules! ready {
    ($e:expr) => {
        match $e? {
            Poll::Ready(v) => v,
            Poll::Pending => return Ok(Poll::Pending),
        }
    };
}
pub(super) use ready;

/// An I/O error on the temporary file: SQLite's message for any I/O error.
#[cold]
pub(super) fn io_error(_e: strata_io::IoError) -> VmError {
    VmError::new(ErrorCode::Io, "disk I/O error")
}

/// A run that does not read back as written (only a failing device does that): SQLite
/// reports damage to its temporary files as corruption too.
#[cold]
fn malformed_run() -> VmError {
    VmError::corrupt()
}

/// The sorter's temporary file; removed when dropped.
pub(super) struct TempFile {
    io: Arc<dyn IO>,
    path: String,
    pub file: Arc<dyn File>,
}

impl TempFile {
    /// Creates a new temporary file beside the database (`<db>-sorter-<random hex>`),
    /// through the IO object so that simulated IOs see and fault it.
    pub fn create(io: &Arc<dyn IO>, db_path: &str) -> Result<TempFile, VmError> {
        // A name already in use (another sorter of any connection) is never reused: draw
        // again. Collisions of 64 random bits are only a concern for seeded IOs, whose
        // sequence is shared by all their users.
        for _ in 0..16 {
            let path = format!("{db_path}-sorter-{:016x}", io.random_u64());
            if io.file_exists(&path).map_err(io_error)? {
                continue;
            }
            let file = io.open_file(&path, OpenFlags::CREATE).map_err(io_error)?;
            return Ok(TempFile {
                io: io.clone(),
                path,
                file,
            });
        }
        Err(VmError::new(
            ErrorCode::Io,
            "unable to open a temporary file for the sorter",
        ))
    }

    #[cfg(test)]
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Nothing to report to: the statement is over. A failed removal leaves a file
        // that no one will read (its name is random).
        let _ = self.io.remove_file(&self.path);
    }
}

/// A byte range of the temporary file holding one sorted run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Run {
    pub start: u64,
    pub end: u64,
}

/// Appends records to the end of the temporary file through a buffer of about `chunk`
/// bytes, with at most one write in flight.
pub(super) struct RunWriter {
    /// Where the next submitted chunk goes (the file's end once all writes land).
    pub offset: u64,
    buf: Vec<u8>,
    chunk: usize,
    inflight: Option<(Completion, usize)>,
}

impl RunWriter {
    pub fn new(offset: u64, chunk: usize) -> RunWriter {
        RunWriter {
            offset,
            buf: Vec::new(),
            chunk,
            inflight: None,
        }
    }

    /// Bytes this writer holds (its buffer and the in-flight one).
    pub fn memory(&self) -> usize {
        self.buf.capacity() + self.inflight.as_ref().map_or(0, |(_, n)| *n)
    }

    pub fn is_full(&self) -> bool {
        self.buf.len() >= self.chunk
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Adds one record (length-prefixed) to the buffer. The buffer is allowed past
    /// `chunk` by one record (a record larger than a chunk is written whole).
    pub fn push(&mut self, record: &[u8]) {
        if self.buf.capacity() == 0 {
            self.buf.reserve_exact(self.chunk + 10);
        }
        let mut n = record.len() as u64;
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                self.buf.push(b);
                break;
            }
            self.buf.push(b | 0x80);
        }
        self.buf.extend_from_slice(record);
    }

    /// Submits the buffer as one write. The previous write must have landed
    /// (`poll_inflight` returned `Ready`).
    pub fn submit(&mut self, file: &dyn File) -> Result<(), VmError> {
        debug_assert!(self.inflight.is_none());
        let data = std::mem::take(&mut self.buf);
        let len = data.len();
        let c = Completion::write(data);
        file.pwrite(self.offset, &c).map_err(io_error)?;
        self.offset += len as u64;
        self.inflight = Some((c, len));
        Ok(())
    }

    /// Waits for the write in flight, if any; its buffer is kept for the next chunk.
    pub fn poll_inflight(&mut self) -> Result<Poll<()>, VmError> {
        if let Some((c, len)) = &self.inflight {
            let n = match c.poll().map_err(io_error)? {
                Poll::Pending => return Ok(Poll::Pending),
                Poll::Ready(n) => n,
            };
            if n != *len {
                return Err(VmError::new(ErrorCode::Io, "disk I/O error"));
            }
            let mut buf = c.take_buf();
            buf.clear();
            if self.buf.capacity() == 0 && buf.capacity() <= self.chunk * 2 + 10 {
                // Reuse the allocation (an oversized record's is dropped).
                self.buf = buf;
            }
            self.inflight = None;
        }
        Ok(Poll::Ready(()))
    }
}

/// Streams the records of one run through a buffer of about `chunk` bytes.
pub(super) struct RunReader {
    /// The next file offset to read from, and the run's end.
    pos: u64,
    end: u64,
    chunk: usize,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes of `buf`.
    at: usize,
    /// The current record: `buf[cur.0..cur.1]`, and its first key field.
    cur: Option<(usize, usize)>,
    pub key: SortKey,
    inflight: Option<Completion>,
}

impl RunReader {
    pub fn new(run: Run, chunk: usize) -> RunReader {
        RunReader {
            pos: run.start,
            end: run.end,
            chunk,
            buf: Vec::new(),
            at: 0,
            cur: None,
            key: SortKey::Other,
            inflight: None,
        }
    }

    pub fn memory(&self) -> usize {
        self.buf.capacity()
            + self
                .inflight
                .as_ref()
                .map_or(0, |c| if c.is_done() { 0 } else { c.len() })
    }

    pub fn current(&self) -> Option<&[u8]> {
        self.cur.map(|(s, e)| &self.buf[s..e])
    }

    /// Moves to the next record (the first one on a new reader): `Ready(true)` when on
    /// a record, `Ready(false)` at the end of the run. The current record is consumed
    /// before anything may return `Pending`, and remembered as consumed, so calling
    /// again after `Pending` continues rather than skips.
    pub fn advance(&mut self, file: &dyn File) -> Result<Poll<bool>, VmError> {
        if let Some((_, e)) = self.cur.take() {
            self.at = e;
            self.key = SortKey::Other;
        }
        loop {
            if let Some(c) = &self.inflight {
                let n = match c.poll().map_err(io_error)? {
                    Poll::Pending => return Ok(Poll::Pending),
                    Poll::Ready(n) => n,
                };
                if n != c.len() {
                    // The run is shorter than what was written: the file was truncated.
                    return Err(malformed_run());
                }
                let data = c.take_buf();
                self.inflight = None;
                self.pos += n as u64;
                // Keep the unconsumed tail, then the new bytes, in a buffer of exactly
                // that size (growing in place could double it past the memory budget).
                let tail = &self.buf[self.at..];
                if tail.is_empty() {
                    self.buf = data;
                    self.at = 0;
                    continue;
                }
                let mut nb = Vec::with_capacity(tail.len() + data.len());
                nb.extend_from_slice(tail);
                nb.extend_from_slice(&data);
                self.buf = nb;
                self.at = 0;
            }
            let avail = &self.buf[self.at..];
            // The length prefix, then the record.
            let mut len: u64 = 0;
            let mut k = 0;
            let mut complete = false;
            while k < avail.len() && k < 10 {
                let b = avail[k];
                len |= ((b & 0x7f) as u64) << (7 * k);
                k += 1;
                if b & 0x80 == 0 {
                    complete = true;
                    break;
                }
            }
            if !complete && k == 10 {
                return Err(malformed_run());
            }
            let need = if complete {
                match k.checked_add(usize::try_from(len).map_err(|_| malformed_run())?) {
                    Some(n) => n,
                    None => return Err(malformed_run()),
                }
            } else {
                k + 1
            };
            if complete && avail.len() >= need {
                let s = self.at + k;
                let e = self.at + need;
                self.cur = Some((s, e));
                self.key = sort_key(&self.buf[s..e]);
                return Ok(Poll::Ready(true));
            }
            if self.pos >= self.end {
                if avail.is_empty() {
                    self.buf = Vec::new();
                    self.at = 0;
                    return Ok(Poll::Ready(false));
                }
                // A record runs past the end of its run.
                return Err(malformed_run());
            }
            let missing = need - avail.len();
            let want = (self.chunk.max(missing) as u64).min(self.end - self.pos) as usize;
            if (want as u64) < missing as u64 {
                return Err(malformed_run());
            }
            let c = Completion::read(want);
            file.pread(self.pos, &c).map_err(io_error)?;
            self.inflight = Some(c);
        }
    }
}

/// A record's first field located once (`strata_btree::first_key`).
pub(super) type SortKey = FirstKey;

/// Locates a record's first field (see [`FirstKey`]).
#[inline]
pub(super) fn sort_key(record: &[u8]) -> SortKey {
    first_key(record)
}

/// Compares two sorter records: the first `n` key fields per `ki`, with the shortcuts of
/// [`compare_first`] (two integer first fields; two UTF-8 text first fields under BINARY
/// collation) from the keys located by [`sort_key`]. Anything else, and ties when more
/// fields follow, takes `compare_prefix`, so the order is exactly its order.
#[inline]
pub(super) fn compare_records(
    ki: &KeyInfo,
    n: usize,
    a: &[u8],
    a_key: SortKey,
    b: &[u8],
    b_key: SortKey,
) -> Result<Ordering, VmError> {
    if n > 0 {
        if let Some(c) = compare_first(ki, a, a_key, b, b_key) {
            if c != Ordering::Equal || n == 1 {
                return Ok(c);
            }
        }
    }
    compare_prefix(a, b, ki, n)
}

/// A k-way merge of runs (k is small: the sorter's fan-in) with a binary heap of reader
/// indexes. Equal keys come out in run order (the lower index first), so a merge of
/// consecutive runs in insertion order is stable.
pub(super) struct Merger {
    pub readers: Vec<RunReader>,
    /// Readers primed with their first record (a prefix of `readers`).
    primed: usize,
    /// Heap of indexes of readers that are on a record; `heap[0]` is the least.
    heap: Vec<usize>,
    started: bool,
}

impl Merger {
    pub fn new(runs: &[Run], chunk: usize) -> Merger {
        Merger {
            readers: runs.iter().map(|r| RunReader::new(*r, chunk)).collect(),
            primed: 0,
            heap: Vec::new(),
            started: false,
        }
    }

    pub fn memory(&self) -> usize {
        self.readers.iter().map(RunReader::memory).sum::<usize>()
            + self.heap.capacity() * std::mem::size_of::<usize>()
    }

    /// Reads every run's first record and builds the heap: `Ready(true)` when there is a
    /// record.
    pub fn start(
        &mut self,
        file: &dyn File,
        ki: &KeyInfo,
        n: usize,
    ) -> Result<Poll<bool>, VmError> {
        if !self.started {
            while self.primed < self.readers.len() {
                let i = self.primed;
                let on = ready!(self.readers[i].advance(file));
                if on {
                    self.heap.push(i);
                }
                self.primed += 1;
            }
            // Heapify (bottom-up).
            for i in (0..self.heap.len() / 2).rev() {
                self.sift_down(i, ki, n)?;
            }
            self.started = true;
        }
        Ok(Poll::Ready(!self.heap.is_empty()))
    }

    pub fn current(&self) -> Option<&[u8]> {
        self.heap.first().and_then(|&i| self.readers[i].current())
    }

    /// Moves past the current record: `Ready(true)` while on one.
    pub fn next(&mut self, file: &dyn File, ki: &KeyInfo, n: usize) -> Result<Poll<bool>, VmError> {
        let Some(&top) = self.heap.first() else {
            return Ok(Poll::Ready(false));
        };
        // The reader records that its record was consumed, so a resume continues here.
        let on = ready!(self.readers[top].advance(file));
        if !on {
            let last = self.heap.pop().expect("heap is not empty");
            if !self.heap.is_empty() {
                self.heap[0] = last;
            }
        }
        if !self.heap.is_empty() {
            self.sift_down(0, ki, n)?;
        }
        Ok(Poll::Ready(!self.heap.is_empty()))
    }

    /// `a` before `b`: by key, ties by run index.
    fn less(&self, a: usize, b: usize, ki: &KeyInfo, n: usize) -> Result<bool, VmError> {
        let (ra, rb) = (&self.readers[a], &self.readers[b]);
        let (Some(x), Some(y)) = (ra.current(), rb.current()) else {
            return Err(malformed_run());
        };
        Ok(match compare_records(ki, n, x, ra.key, y, rb.key)? {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => a < b,
        })
    }

    fn sift_down(&mut self, mut i: usize, ki: &KeyInfo, n: usize) -> Result<(), VmError> {
        let len = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= len {
                return Ok(());
            }
            let r = l + 1;
            let mut m = l;
            if r < len && self.less(self.heap[r], self.heap[l], ki, n)? {
                m = r;
            }
            if self.less(self.heap[m], self.heap[i], ki, n)? {
                self.heap.swap(m, i);
                i = m;
            } else {
                return Ok(());
            }
        }
    }
}
