//! A point select answered from the page cache makes no I/O call at all: no read, no
//! write, no `fstat` (issue 13: a checkpointed database asked the OS for its file size on
//! every statement). Counted with an IO backend that counts every call into it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use strata_io::{Completion, File, LockKind, MemoryIo, OpenFlags, Result, IO};

#[derive(Default)]
struct Calls(AtomicU64);

impl Calls {
    fn bump(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
    fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

struct CountingIo {
    inner: MemoryIo,
    calls: Arc<Calls>,
}

struct CountingFile {
    inner: Arc<dyn File>,
    calls: Arc<Calls>,
}

impl IO for CountingIo {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        self.calls.bump();
        Ok(Arc::new(CountingFile {
            inner: self.inner.open_file(path, flags)?,
            calls: self.calls.clone(),
        }))
    }
    fn remove_file(&self, path: &str) -> Result<()> {
        self.calls.bump();
        self.inner.remove_file(path)
    }
    fn file_exists(&self, path: &str) -> Result<bool> {
        self.calls.bump();
        self.inner.file_exists(path)
    }
    fn run_once(&self) -> Result<()> {
        self.calls.bump();
        self.inner.run_once()
    }
    fn now_micros(&self) -> u64 {
        self.inner.now_micros()
    }
    fn random_u64(&self) -> u64 {
        self.inner.random_u64()
    }
}

impl File for CountingFile {
    fn lock(&self, kind: LockKind) -> Result<()> {
        self.calls.bump();
        self.inner.lock(kind)
    }
    fn unlock(&self) -> Result<()> {
        self.calls.bump();
        self.inner.unlock()
    }
    fn pread(&self, offset: u64, c: &Completion) -> Result<()> {
        self.calls.bump();
        self.inner.pread(offset, c)
    }
    fn pwrite(&self, offset: u64, c: &Completion) -> Result<()> {
        self.calls.bump();
        self.inner.pwrite(offset, c)
    }
    fn sync(&self, c: &Completion) -> Result<()> {
        self.calls.bump();
        self.inner.sync(c)
    }
    fn truncate(&self, size_bytes: u64, c: &Completion) -> Result<()> {
        self.calls.bump();
        self.inner.truncate(size_bytes, c)
    }
    fn size_bytes(&self) -> Result<u64> {
        self.calls.bump();
        self.inner.size_bytes()
    }
}

#[test]
fn a_cached_point_select_makes_no_io_call() {
    let calls = Arc::new(Calls::default());
    let io = Arc::new(CountingIo {
        inner: MemoryIo::new(),
        calls: calls.clone(),
    });
    let db = strata::Database::open_with_io("c.db", io).unwrap();
    let conn = db.connect();
    conn.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
         CREATE INDEX tv ON t(v);
         INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');",
    )
    .unwrap();
    let mut by_rowid = conn.prepare("SELECT v FROM t WHERE id = ?").unwrap();
    let mut by_index = conn.prepare("SELECT id FROM t WHERE v = ?").unwrap();
    let mut run = |label: &str| {
        // Warm the cache, then count.
        let _: String = by_rowid.query_row([2], |r| r.get(0)).unwrap();
        let _: i64 = by_index.query_row(["c"], |r| r.get(0)).unwrap();
        let before = calls.get();
        for _ in 0..10 {
            let v: String = by_rowid.query_row([2], |r| r.get(0)).unwrap();
            assert_eq!(v, "b");
            let id: i64 = by_index.query_row(["c"], |r| r.get(0)).unwrap();
            assert_eq!(id, 3);
        }
        assert_eq!(
            calls.get() - before,
            0,
            "I/O calls for 20 cached point selects ({label})"
        );
    };
    // Frames in the WAL: the snapshot knows the database size.
    run("WAL with frames");
    // Checkpointed and truncated: the size comes from the database file.
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    run("checkpointed database");
    // A write, a checkpoint again: the remembered size follows the file.
    conn.execute_batch(
        "INSERT INTO t SELECT id + 3, v || id FROM t; PRAGMA wal_checkpoint(TRUNCATE)",
    )
    .unwrap();
    run("after a write and a checkpoint");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 6);
}
