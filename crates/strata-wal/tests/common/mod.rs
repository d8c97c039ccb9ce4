//! A small in-memory IO for the WAL tests, with the knobs these tests need: a deferred mode
//! (every completion fires only in `run_once`, in reverse submission order, so every resume
//! path and every ordering assumption is exercised), failure injection on the Nth write or
//! every sync, and direct access to file bytes.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use strata_io::{Completion, File, IoError, LockKind, OpenFlags, IO};

#[derive(Clone, Copy, Debug)]
enum OpKind {
    Read(u64),
    Write(u64),
    Sync,
    Truncate(u64),
}

struct Op {
    file: Arc<MemFile>,
    kind: OpKind,
    c: Completion,
}

#[derive(Default)]
struct Core {
    deferred: AtomicBool,
    queue: Mutex<Vec<Op>>,
    /// Operations held back from `run_once` (a slow disk), see `TestIo::hold`.
    held: Mutex<Vec<Op>>,
    /// Writes still allowed before every further write fails; `u64::MAX` = never fail.
    writes_before_failure: AtomicU64,
    fail_syncs: AtomicBool,
    /// Every write moves only the first half of its buffer and reports that (a short
    /// write, as a full disk can cause).
    short_writes: AtomicBool,
    /// Bytes `size_bytes` adds to every file's real size: a file that shrank between the
    /// size query and the reads that follow it (see `TestIo::overstate_sizes`).
    size_overstated_by: AtomicU64,
    writes: AtomicU64,
    reads: AtomicU64,
    /// Bytes asked for by reads (their buffers' lengths, whatever came back).
    read_bytes_requested: AtomicU64,
    syncs: AtomicU64,
}

pub struct MemFile {
    data: Mutex<Vec<u8>>,
    core: Arc<Core>,
}

impl MemFile {
    fn execute(&self, kind: OpKind, c: &Completion) {
        let mut data = self.data.lock().unwrap();
        let result = match kind {
            OpKind::Read(offset) => {
                let offset = offset as usize;
                let mut buf = c.buf();
                let n = data.len().saturating_sub(offset).min(buf.len());
                buf[..n].copy_from_slice(&data[offset..offset + n]);
                Ok(n)
            }
            OpKind::Write(offset) => {
                let allowed = self.core.writes_before_failure.load(Ordering::SeqCst);
                if allowed == 0 {
                    Err(IoError::new(
                        std::io::ErrorKind::Other,
                        "injected write failure",
                    ))
                } else {
                    if allowed != u64::MAX {
                        self.core
                            .writes_before_failure
                            .store(allowed - 1, Ordering::SeqCst);
                    }
                    let buf = c.buf();
                    let len = if self.core.short_writes.load(Ordering::SeqCst) {
                        buf.len() / 2
                    } else {
                        buf.len()
                    };
                    let offset = offset as usize;
                    if data.len() < offset + len {
                        data.resize(offset + len, 0);
                    }
                    data[offset..offset + len].copy_from_slice(&buf[..len]);
                    Ok(len)
                }
            }
            OpKind::Sync => {
                if self.core.fail_syncs.load(Ordering::SeqCst) {
                    Err(IoError::new(
                        std::io::ErrorKind::Other,
                        "injected fsync failure",
                    ))
                } else {
                    Ok(0)
                }
            }
            OpKind::Truncate(size) => {
                data.resize(size as usize, 0);
                Ok(0)
            }
        };
        drop(data);
        c.complete(result);
    }

    fn submit(self: &Arc<Self>, kind: OpKind, c: &Completion) {
        match kind {
            OpKind::Read(_) => {
                self.core
                    .read_bytes_requested
                    .fetch_add(c.len() as u64, Ordering::SeqCst);
                self.core.reads.fetch_add(1, Ordering::SeqCst)
            }
            OpKind::Write(_) => self.core.writes.fetch_add(1, Ordering::SeqCst),
            OpKind::Sync => self.core.syncs.fetch_add(1, Ordering::SeqCst),
            OpKind::Truncate(_) => 0,
        };
        if self.core.deferred.load(Ordering::SeqCst) {
            self.core.queue.lock().unwrap().push(Op {
                file: self.clone(),
                kind,
                c: c.clone(),
            });
        } else {
            self.execute(kind, c);
        }
    }
}

/// `File` is implemented on a handle so that `submit` can queue an `Arc` of the file.
pub struct MemHandle(Arc<MemFile>);

impl File for MemHandle {
    fn lock(&self, _kind: LockKind) -> strata_io::Result<()> {
        Ok(())
    }
    fn unlock(&self) -> strata_io::Result<()> {
        Ok(())
    }
    fn pread(&self, offset: u64, c: &Completion) -> strata_io::Result<()> {
        self.0.submit(OpKind::Read(offset), c);
        Ok(())
    }
    fn pwrite(&self, offset: u64, c: &Completion) -> strata_io::Result<()> {
        self.0.submit(OpKind::Write(offset), c);
        Ok(())
    }
    fn sync(&self, c: &Completion) -> strata_io::Result<()> {
        self.0.submit(OpKind::Sync, c);
        Ok(())
    }
    fn truncate(&self, size_bytes: u64, c: &Completion) -> strata_io::Result<()> {
        self.0.submit(OpKind::Truncate(size_bytes), c);
        Ok(())
    }
    fn size_bytes(&self) -> strata_io::Result<u64> {
        let extra = self.0.core.size_overstated_by.load(Ordering::SeqCst);
        Ok(self.0.data.lock().unwrap().len() as u64 + extra)
    }
}

pub struct TestIo {
    core: Arc<Core>,
    files: Mutex<HashMap<String, Arc<MemFile>>>,
    random_state: AtomicU64,
}

impl TestIo {
    pub fn new() -> Arc<TestIo> {
        let core = Core {
            writes_before_failure: AtomicU64::new(u64::MAX),
            ..Default::default()
        };
        Arc::new(TestIo {
            core: Arc::new(core),
            files: Mutex::new(HashMap::new()),
            random_state: AtomicU64::new(0x5eed),
        })
    }

    /// Every completion fires only in `run_once`.
    pub fn new_deferred() -> Arc<TestIo> {
        let io = Self::new();
        io.set_deferred(true);
        io
    }

    pub fn set_deferred(&self, deferred: bool) {
        self.core.deferred.store(deferred, Ordering::SeqCst);
    }

    /// After `n` more successful writes, every write fails.
    pub fn fail_writes_after(&self, n: u64) {
        self.core.writes_before_failure.store(n, Ordering::SeqCst);
    }

    pub fn stop_failing(&self) {
        self.core
            .writes_before_failure
            .store(u64::MAX, Ordering::SeqCst);
        self.core.fail_syncs.store(false, Ordering::SeqCst);
    }

    /// Every file's `size_bytes` reports `extra` bytes more than it holds, as if another
    /// process truncated it right after the size was taken: reads near the end come back
    /// short.
    pub fn overstate_sizes(&self, extra: u64) {
        self.core.size_overstated_by.store(extra, Ordering::SeqCst);
    }

    /// Every write from now on moves half its buffer (see `Core::short_writes`).
    pub fn short_writes(&self, short: bool) {
        self.core.short_writes.store(short, Ordering::SeqCst);
    }

    pub fn fail_syncs(&self) {
        self.core.fail_syncs.store(true, Ordering::SeqCst);
    }

    pub fn write_count(&self) -> u64 {
        self.core.writes.load(Ordering::SeqCst)
    }
    pub fn read_count(&self) -> u64 {
        self.core.reads.load(Ordering::SeqCst)
    }
    pub fn read_bytes_requested(&self) -> u64 {
        self.core.read_bytes_requested.load(Ordering::SeqCst)
    }
    pub fn sync_count(&self) -> u64 {
        self.core.syncs.load(Ordering::SeqCst)
    }

    /// Holds every queued operation back: `run_once` ignores them until `release`.
    pub fn hold(&self) {
        let mut queue = self.core.queue.lock().unwrap();
        self.core.held.lock().unwrap().append(&mut queue);
    }

    /// Queues the held operations again so that they complete *after* everything queued
    /// now (`run_once` runs the queue in reverse).
    pub fn release(&self) {
        let mut held = std::mem::take(&mut *self.core.held.lock().unwrap());
        let mut queue = self.core.queue.lock().unwrap();
        held.append(&mut queue);
        *queue = held;
    }

    /// Operations submitted but not yet completed (deferred mode).
    pub fn in_flight(&self) -> usize {
        self.core.queue.lock().unwrap().len()
    }

    pub fn bytes(&self, path: &str) -> Vec<u8> {
        self.files
            .lock()
            .unwrap()
            .get(path)
            .map(|f| f.data.lock().unwrap().clone())
            .unwrap_or_default()
    }

    pub fn set_bytes(&self, path: &str, bytes: Vec<u8>) {
        let file = self.file(path);
        *file.data.lock().unwrap() = bytes;
    }

    fn file(&self, path: &str) -> Arc<MemFile> {
        self.files
            .lock()
            .unwrap()
            .entry(path.to_string())
            .or_insert_with(|| {
                Arc::new(MemFile {
                    data: Mutex::new(Vec::new()),
                    core: self.core.clone(),
                })
            })
            .clone()
    }
}

impl IO for TestIo {
    fn open_file(&self, path: &str, flags: OpenFlags) -> strata_io::Result<Arc<dyn File>> {
        if !flags.create && !self.files.lock().unwrap().contains_key(path) {
            return Err(IoError::new(std::io::ErrorKind::NotFound, path.to_string()));
        }
        Ok(Arc::new(MemHandle(self.file(path))))
    }

    fn remove_file(&self, path: &str) -> strata_io::Result<()> {
        self.files.lock().unwrap().remove(path);
        Ok(())
    }

    fn file_exists(&self, path: &str) -> strata_io::Result<bool> {
        Ok(self.files.lock().unwrap().contains_key(path))
    }

    fn run_once(&self) -> strata_io::Result<()> {
        let ops: Vec<Op> = std::mem::take(&mut *self.core.queue.lock().unwrap());
        // Reverse order: nothing in flight together is ordered.
        for op in ops.into_iter().rev() {
            op.file.execute(op.kind, &op.c);
        }
        Ok(())
    }

    fn now_micros(&self) -> u64 {
        0
    }

    fn random_u64(&self) -> u64 {
        let mut z = self
            .random_state
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::SeqCst);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// An independent implementation of SQLite's WAL checksum, to build WAL files by hand.
pub fn sqlite_checksum(big_endian: bool, data: &[u8], seed: (u32, u32)) -> (u32, u32) {
    let (mut s1, mut s2) = seed;
    let mut i = 0;
    while i + 8 <= data.len() {
        let w = |j: usize| {
            let b = [data[j], data[j + 1], data[j + 2], data[j + 3]];
            if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            }
        };
        s1 = s1.wrapping_add(w(i)).wrapping_add(s2);
        s2 = s2.wrapping_add(w(i + 4)).wrapping_add(s1);
        i += 8;
    }
    (s1, s2)
}

pub fn be32(bytes: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes(bytes[offset..offset + 4].try_into().unwrap())
}
