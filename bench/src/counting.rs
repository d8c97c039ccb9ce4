//! [`CountingIo`]: wraps an IO backend and counts the operations submitted through it.
//! Used once per run, outside the timed passes, to report how many reads a query really
//! issues under each cache setting.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use strata_io::{Completion, File, LockKind, OpenFlags, Result, IO};

/// Operation counters shared by a [`CountingIo`] and the files it opened.
#[derive(Default, Debug)]
pub struct Counters {
    pub reads: AtomicU64,
    pub writes: AtomicU64,
    pub syncs: AtomicU64,
    pub run_once: AtomicU64,
}

impl Counters {
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }
    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }
    pub fn run_once(&self) -> u64 {
        self.run_once.load(Ordering::Relaxed)
    }
}

/// An IO that forwards everything to `inner` and counts it.
pub struct CountingIo {
    inner: Arc<dyn IO>,
    pub counters: Arc<Counters>,
}

impl CountingIo {
    pub fn new(inner: Arc<dyn IO>) -> CountingIo {
        CountingIo {
            inner,
            counters: Arc::new(Counters::default()),
        }
    }
}

impl IO for CountingIo {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let inner = self.inner.open_file(path, flags)?;
        Ok(Arc::new(CountingFile {
            inner,
            counters: self.counters.clone(),
        }))
    }
    fn remove_file(&self, path: &str) -> Result<()> {
        self.inner.remove_file(path)
    }
    fn file_exists(&self, path: &str) -> Result<bool> {
        self.inner.file_exists(path)
    }
    fn run_once(&self) -> Result<()> {
        self.counters.run_once.fetch_add(1, Ordering::Relaxed);
        self.inner.run_once()
    }
    fn run_ready(&self) -> Result<bool> {
        self.inner.run_ready()
    }
    fn now_micros(&self) -> u64 {
        self.inner.now_micros()
    }
    fn random_u64(&self) -> u64 {
        self.inner.random_u64()
    }
}

struct CountingFile {
    inner: Arc<dyn File>,
    counters: Arc<Counters>,
}

impl File for CountingFile {
    fn lock(&self, kind: LockKind) -> Result<()> {
        self.inner.lock(kind)
    }
    fn unlock(&self) -> Result<()> {
        self.inner.unlock()
    }
    fn pread(&self, offset: u64, c: &Completion) -> Result<()> {
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.pread(offset, c)
    }
    fn pwrite(&self, offset: u64, c: &Completion) -> Result<()> {
        self.counters.writes.fetch_add(1, Ordering::Relaxed);
        self.inner.pwrite(offset, c)
    }
    fn sync(&self, c: &Completion) -> Result<()> {
        self.counters.syncs.fetch_add(1, Ordering::Relaxed);
        self.inner.sync(c)
    }
    fn truncate(&self, size_bytes: u64, c: &Completion) -> Result<()> {
        self.inner.truncate(size_bytes, c)
    }
    fn size_bytes(&self) -> Result<u64> {
        self.inner.size_bytes()
    }
}

/// `syscr` (read-family syscalls) of the calling thread, from `/proc/thread-self/io`;
/// `None` where that file is missing.
pub fn thread_read_syscalls() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/io").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("syscr: "))
        .and_then(|v| v.trim().parse().ok())
}
