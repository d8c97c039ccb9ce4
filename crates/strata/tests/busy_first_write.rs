//! A transaction whose first statement is a write refused with "database is locked"
//! (another connection holds the write lock) has no snapshot afterwards, as in SQLite
//! (sqlite3BtreeBeginTrans ends the read transaction it began when the write lock is
//! refused): its next statement sees what the other connection committed meanwhile.
//! Compared with SQLite (rusqlite) doing the same on a file of its own.

use std::time::Duration;

mod common;
use common::{sqlite_rows, strata_rows, V};

fn run(first_write: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("ours.db");
    let theirs = dir.path().join("theirs.db");
    let setup =
        "CREATE TABLE t(a); INSERT INTO t VALUES (1); CREATE VIEW IF NOT EXISTS vx AS SELECT 1";
    let db = strata::Database::open(ours.to_str().unwrap()).unwrap();
    let o1 = db.connect();
    o1.execute_batch(setup).unwrap();
    let o2 = db.connect();
    o2.busy_timeout(Duration::ZERO);
    let s1 = rusqlite::Connection::open(&theirs).unwrap();
    s1.execute_batch(&format!("PRAGMA journal_mode=WAL; {setup}"))
        .unwrap();
    let s2 = rusqlite::Connection::open(&theirs).unwrap();
    s2.busy_timeout(Duration::ZERO).unwrap();
    let steps: &[(u8, &str)] = &[
        (1, "BEGIN"),
        (1, "INSERT INTO t VALUES (2)"),
        (2, "BEGIN"),
        (2, first_write),
        (1, "COMMIT"),
        (2, "SELECT count(*) FROM t"),
        (2, first_write),
        (2, "SELECT count(*) FROM t"),
        (2, "COMMIT"),
        (2, "SELECT count(*) FROM t"),
    ];
    for (i, (c, sql)) in steps.iter().enumerate() {
        // The refused write retried on one prepared statement, reset between tries (as
        // an app stepping without blocking does).
        if i == 3 {
            let mut st = o2.prepare(sql).unwrap();
            for _ in 0..3 {
                assert!(st.step_blocking().is_err());
                st.reset();
            }
        }
        let (a, b) = if *c == 1 {
            (strata_rows(&o1, sql), sqlite_rows(&s1, sql))
        } else {
            (strata_rows(&o2, sql), sqlite_rows(&s2, sql))
        };
        let ok = |r: Result<Vec<Vec<V>>, String>| r.map_err(|e| e.contains("locked"));
        let (x, y) = (ok(a.clone()), ok(b.clone()));
        assert_eq!(x, y, "connection {c}: {sql}: strata {a:?} sqlite {b:?}");
    }
}

#[test]
fn busy_first_write_leaves_no_snapshot() {
    for w in [
        "INSERT INTO t VALUES (3)",
        "CREATE VIEW IF NOT EXISTS vw AS SELECT a FROM t",
        "CREATE TABLE IF NOT EXISTS u(x)",
        "DROP VIEW IF EXISTS vx",
        "CREATE INDEX IF NOT EXISTS ti ON t(a)",
        "UPDATE t SET a = a + 1 WHERE a > 100",
    ] {
        run(w);
    }
}

/// The refused first write retried on the same prepared statement after the other
/// writer committed: it must go through (a fresh snapshot), as SQLite's does.
#[test]
fn busy_first_write_retried_after_commit() {
    for w in [
        "INSERT INTO t VALUES (3)",
        "CREATE VIEW IF NOT EXISTS vw AS SELECT a FROM t",
        "CREATE TABLE IF NOT EXISTS u(x)",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = strata::Database::open(dir.path().join("o.db").to_str().unwrap()).unwrap();
        let (o1, o2) = (db.connect(), db.connect());
        o1.execute_batch(
            "CREATE TABLE t(a); INSERT INTO t VALUES (1); CREATE VIEW vw AS SELECT 1; DROP VIEW vw",
        )
        .unwrap();
        o2.busy_timeout(Duration::ZERO);
        o1.execute_batch("BEGIN; INSERT INTO t VALUES (2)").unwrap();
        o2.execute_batch("BEGIN").unwrap();
        let mut st = o2.prepare(w).unwrap();
        for _ in 0..3 {
            assert!(st.step_blocking().is_err(), "{w}: refused while o1 writes");
            st.reset();
        }
        o1.execute_batch("COMMIT").unwrap();
        st.step_blocking()
            .unwrap_or_else(|e| panic!("{w}: after the commit: {e}"));
        drop(st);
        assert_eq!(
            strata_rows(&o2, "SELECT count(*) FROM t").unwrap()[0][0],
            V::Int(if w.starts_with("INSERT") { 3 } else { 2 })
        );
        o2.execute_batch("COMMIT").unwrap();
    }
}
