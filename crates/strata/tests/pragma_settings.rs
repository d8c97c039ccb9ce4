//! `PRAGMA synchronous`, `wal_autocheckpoint` and `busy_timeout`: every read and write
//! answers as SQLite's (rusqlite, bundled), and each setting takes effect on this
//! connection: `synchronous` decides whether its WAL commits fsync, `wal_autocheckpoint`
//! when its commits checkpoint, `busy_timeout` how long its blocking calls wait.
//! (Before, the three were accepted and answered with no row.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use strata::{Connection, Database, ValueRef};
use strata_io::{Completion, File, LockKind, MemoryIo, OpenFlags, Result as IoResult, IO};

fn strata_rows(conn: &Connection, sql: &str) -> Result<Vec<String>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let mut rows = stmt.query(()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        out.push(match r.get_ref(0).map_err(|e| e.to_string())? {
            ValueRef::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        });
    }
    Ok(out)
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Result<Vec<String>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        out.push(match r.get_ref(0).map_err(|e| e.to_string())? {
            rusqlite::types::ValueRef::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        });
    }
    Ok(out)
}

#[test]
fn reads_and_writes_answer_as_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let strata = db.connect();
    for setup in ["PRAGMA journal_mode = WAL", "CREATE TABLE t(x)"] {
        sqlite.execute_batch(setup).unwrap();
        strata.execute_batch(setup).unwrap();
    }
    let mut statements = vec![
        "PRAGMA synchronous".to_string(),
        "PRAGMA main.synchronous".to_string(),
        "PRAGMA wal_autocheckpoint".to_string(),
    ];
    let values = [
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "7",
        "8",
        "255",
        "256",
        "-1",
        "-0",
        "+3",
        "3.7",
        "0x10",
        "0x7fffffff",
        "0x80000000",
        "0X1f",
        "2147483647",
        "2147483648",
        "99999999999",
        "'12abc'",
        "'abc'",
        "off",
        "OFF",
        "no",
        "false",
        "on",
        "yes",
        "true",
        "normal",
        "full",
        "FULL",
        "extra",
        "'bogus'",
        "''",
        "-0x10",
        "+0x10",
        "00000000042",
    ];
    for v in values {
        for p in ["synchronous", "wal_autocheckpoint", "busy_timeout"] {
            statements.push(format!("PRAGMA {p} = {v}"));
            statements.push(format!("PRAGMA {p}"));
            statements.push(format!("PRAGMA main.{p}({v})"));
        }
    }
    statements.extend(
        [
            "BEGIN",
            "PRAGMA synchronous = OFF",
            "PRAGMA synchronous",
            "PRAGMA synchronous = 2",
            "PRAGMA wal_autocheckpoint = 10",
            "PRAGMA busy_timeout = 10",
            "INSERT INTO t VALUES (1)",
            "COMMIT",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA synchronous",
        ]
        .map(String::from),
    );
    let mut previous = "";
    for sql in &statements {
        let sql_and_previous = format!("{sql} (after {previous})");
        previous = sql;
        let sql = &sql_and_previous;
        let expected = sqlite_rows(&sqlite, previous);
        let got = strata_rows(&strata, previous);
        match (&expected, &got) {
            (Ok(e), Ok(g)) => assert_eq!(g, e, "{sql}"),
            (Err(e), Err(g)) => assert_eq!(g, e, "{sql}"),
            _ => panic!("{sql}: SQLite {expected:?}, Strata {got:?}"),
        }
    }
}

/// Counts `sync` calls on every file, wrapping a MemoryIo.
struct SyncCounting {
    inner: MemoryIo,
    syncs: Arc<AtomicU64>,
}

struct SyncCountingFile {
    inner: Arc<dyn File>,
    syncs: Arc<AtomicU64>,
}

impl IO for SyncCounting {
    fn open_file(&self, path: &str, flags: OpenFlags) -> IoResult<Arc<dyn File>> {
        Ok(Arc::new(SyncCountingFile {
            inner: self.inner.open_file(path, flags)?,
            syncs: self.syncs.clone(),
        }))
    }
    fn remove_file(&self, path: &str) -> IoResult<()> {
        self.inner.remove_file(path)
    }
    fn file_exists(&self, path: &str) -> IoResult<bool> {
        self.inner.file_exists(path)
    }
    fn run_once(&self) -> IoResult<()> {
        self.inner.run_once()
    }
    fn now_micros(&self) -> u64 {
        self.inner.now_micros()
    }
    fn random_u64(&self) -> u64 {
        self.inner.random_u64()
    }
}

impl File for SyncCountingFile {
    fn lock(&self, kind: LockKind) -> IoResult<()> {
        self.inner.lock(kind)
    }
    fn unlock(&self) -> IoResult<()> {
        self.inner.unlock()
    }
    fn pread(&self, offset: u64, c: &Completion) -> IoResult<()> {
        self.inner.pread(offset, c)
    }
    fn pwrite(&self, offset: u64, c: &Completion) -> IoResult<()> {
        self.inner.pwrite(offset, c)
    }
    fn sync(&self, c: &Completion) -> IoResult<()> {
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.inner.sync(c)
    }
    fn truncate(&self, size_bytes: u64, c: &Completion) -> IoResult<()> {
        self.inner.truncate(size_bytes, c)
    }
    fn size_bytes(&self) -> IoResult<u64> {
        self.inner.size_bytes()
    }
}

#[test]
fn synchronous_decides_whether_a_commit_fsyncs() {
    let syncs = Arc::new(AtomicU64::new(0));
    let io = Arc::new(SyncCounting {
        inner: MemoryIo::new(),
        syncs: syncs.clone(),
    });
    let db = Database::open_with_io("s.db", io).unwrap();
    let conn = db.connect();
    conn.execute_batch(
        "PRAGMA wal_autocheckpoint = 0; CREATE TABLE t(x); INSERT INTO t VALUES (0)",
    )
    .unwrap();
    let commits_syncing = |level: &str| {
        conn.execute_batch(&format!("PRAGMA synchronous = {level}"))
            .unwrap();
        let before = syncs.load(Ordering::Relaxed);
        for i in 0..10 {
            conn.execute_batch(&format!("INSERT INTO t VALUES ({i})"))
                .unwrap();
        }
        syncs.load(Ordering::Relaxed) - before
    };
    assert_eq!(commits_syncing("FULL"), 10, "one fsync per commit");
    assert_eq!(commits_syncing("OFF"), 0);
    assert_eq!(
        commits_syncing("NORMAL"),
        0,
        "NORMAL syncs at checkpoints only"
    );
    assert_eq!(commits_syncing("EXTRA"), 10);
    // Another connection keeps its own level (the storage's default: FULL).
    let other = db.connect();
    assert_eq!(strata_rows(&other, "PRAGMA synchronous").unwrap(), ["2"]);
    let before = syncs.load(Ordering::Relaxed);
    other.execute_batch("INSERT INTO t VALUES (99)").unwrap();
    assert_eq!(syncs.load(Ordering::Relaxed) - before, 1);
    // A checkpoint still syncs the log before the database file depends on it.
    let before = syncs.load(Ordering::Relaxed);
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA wal_checkpoint")
        .unwrap();
    assert!(syncs.load(Ordering::Relaxed) > before);
}

#[test]
fn wal_autocheckpoint_decides_when_commits_checkpoint() {
    let memory = Arc::new(MemoryIo::new());
    let db = Database::open_with_io("a.db", memory.clone()).unwrap();
    let conn = db.connect();
    conn.execute_batch("PRAGMA wal_autocheckpoint = 0; CREATE TABLE t(x)")
        .unwrap();
    let db_bytes = || memory.file_contents("a.db").map_or(0, |b| b.len());
    let before = db_bytes();
    for i in 0..20 {
        conn.execute_batch(&format!("INSERT INTO t VALUES (randomblob(3000 + {i}))"))
            .unwrap();
    }
    assert_eq!(
        db_bytes(),
        before,
        "autocheckpoint off: nothing reaches the database file"
    );
    conn.execute_batch("PRAGMA wal_autocheckpoint = 5").unwrap();
    conn.execute_batch("INSERT INTO t VALUES (1)").unwrap();
    assert!(
        db_bytes() > before + 20 * 3000,
        "the commit past 5 frames checkpointed"
    );
    // Per connection: another one still has the default of 1000 frames.
    let other = db.connect();
    assert_eq!(
        strata_rows(&other, "PRAGMA wal_autocheckpoint").unwrap(),
        ["1000"]
    );
}

#[test]
fn busy_timeout_is_the_api_setting() {
    let db = Database::open_with_io("b.db", Arc::new(MemoryIo::new())).unwrap();
    let conn = db.connect();
    conn.busy_timeout(std::time::Duration::from_millis(1234));
    assert_eq!(strata_rows(&conn, "PRAGMA busy_timeout").unwrap(), ["1234"]);
    assert_eq!(
        strata_rows(&conn, "PRAGMA busy_timeout = 0").unwrap(),
        ["0"]
    );
    // With no timeout a write meeting another connection's write transaction fails at
    // once with "database is locked".
    let holder = db.connect();
    holder
        .execute_batch("CREATE TABLE t(x); BEGIN IMMEDIATE")
        .unwrap();
    let start = std::time::Instant::now();
    let err = conn.execute_batch("INSERT INTO t VALUES (1)").unwrap_err();
    assert!(err.to_string().contains("locked"), "{err}");
    assert!(start.elapsed() < std::time::Duration::from_secs(1));
}
