//! `PRAGMA journal_size_limit`: its values as SQLite reports them, and its effect on a
//! WAL database (SQLite's `walLimitSize`): when the log restarts from its first frame
//! after a checkpoint, the WAL file shrinks to the limit (or to the restart's frames, if
//! they are larger), where without a limit it keeps its high-water size.

mod common;
use common::*;

#[test]
fn values_as_sqlite() {
    check_script(
        "PRAGMA journal_size_limit;
         PRAGMA journal_size_limit = 1000;
         PRAGMA journal_size_limit;
         PRAGMA journal_size_limit = -5;
         PRAGMA journal_size_limit = 0;
         PRAGMA main.journal_size_limit;
         PRAGMA journal_size_limit = 2.5;
         PRAGMA journal_size_limit = '77';
         PRAGMA journal_size_limit = 0x10;
         PRAGMA temp.journal_size_limit;
         PRAGMA temp.journal_size_limit = 5;
         PRAGMA journal_size_limit;",
    );
}

/// The WAL file's size after a large transaction, a checkpoint and a small transaction
/// (which restarts the log), with the given limit (None: no pragma).
fn wal_size_after_restart(limit: Option<i64>) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let conn = strata::Connection::open(&path).unwrap();
    if let Some(l) = limit {
        conn.execute_batch(&format!("PRAGMA journal_size_limit = {l}"))
            .unwrap();
    }
    conn.execute_batch(
        "PRAGMA wal_autocheckpoint = 0;
         CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);
         BEGIN;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
           INSERT INTO t(b) SELECT printf('%0500d', i) FROM n;
         COMMIT;",
    )
    .unwrap();
    let wal = dir.path().join("db-wal");
    let big = std::fs::metadata(&wal).unwrap().len();
    assert!(big > 1_000_000, "the WAL should have grown: {big}");
    conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)")
        .unwrap();
    conn.execute_batch("INSERT INTO t(b) VALUES ('small')")
        .unwrap();
    let after = std::fs::metadata(&wal).unwrap().len();
    // The data is all there either way.
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2001);
    after
}

#[test]
fn the_wal_shrinks_to_the_limit_when_it_restarts() {
    let unlimited = wal_size_after_restart(None);
    let limited = wal_size_after_restart(Some(16 * 1024));
    let zero = wal_size_after_restart(Some(0));
    assert!(
        unlimited > 1_000_000,
        "no limit: the file keeps its size ({unlimited})"
    );
    assert_eq!(limited, 16 * 1024, "limit 16 KiB: truncated to it");
    // Limit 0: truncated to the end of the restart's frames (header + a few frames).
    assert!(zero > 32 && zero < 64 * 1024, "limit 0: {zero}");
}
