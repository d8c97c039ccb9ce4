//! `Database::set_commit_observer`: every committed write transaction is reported once,
//! in commit order, with exactly the pages it wrote; rolled-back work never is. Applying
//! the reported pages to an empty file rebuilds the database, which SQLite (rusqlite)
//! reads with the same rows.

use std::sync::{Arc, Mutex};

use strata::{CommitObserver, CommittedTxn, Database};

#[derive(Default)]
struct Recorder(Mutex<Vec<(Vec<(u32, Vec<u8>)>, u32)>>);

impl CommitObserver for Recorder {
    fn committed(&self, txn: &CommittedTxn<'_>) {
        self.0
            .lock()
            .unwrap()
            .push((txn.pages.to_vec(), txn.db_size_pages));
    }
}

/// Applies reported transactions to a fresh file, as a replica applies frames.
fn rebuild(txns: &[(Vec<(u32, Vec<u8>)>, u32)], path: &std::path::Path, page_size: usize) {
    let mut image: Vec<u8> = Vec::new();
    for (pages, size) in txns {
        let size = *size as usize * page_size;
        if image.len() < size {
            image.resize(size, 0);
        }
        for (no, data) in pages {
            let at = (*no as usize - 1) * page_size;
            assert!(at + page_size <= size, "page {no} beyond the commit's size");
            image[at..at + page_size].copy_from_slice(data);
        }
        image.truncate(size);
    }
    std::fs::write(path, &image).unwrap();
}

fn rows(conn: &rusqlite::Connection) -> Vec<(i64, String)> {
    conn.prepare("SELECT a, b FROM t ORDER BY a")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn observer_sees_exactly_the_committed_transactions() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("p.db")).unwrap();
    committed_transactions(db, dir.path());
}

/// The same on a deferred-completion IO (every operation completes only when the IO is
/// driven), as the rest of the engine's tests run.
#[test]
fn observer_on_deferred_io() {
    let dir = tempfile::tempdir().unwrap();
    let io = Arc::new(strata::io::MemoryIo::new_deferred());
    let db = Database::open_with_io("p.db", io).unwrap();
    committed_transactions(db, dir.path());
}

fn committed_transactions(db: Database, dir: &std::path::Path) {
    let rec = Arc::new(Recorder::default());
    db.set_commit_observer(Some(rec.clone()));
    let c = db.connect();
    c.execute_batch("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)")
        .unwrap();
    assert_eq!(rec.0.lock().unwrap().len(), 1);
    for i in 0..50 {
        c.execute(
            "INSERT INTO t VALUES (?1, ?2)",
            (i, "x".repeat(200 + i as usize)),
        )
        .unwrap();
    }
    assert_eq!(rec.0.lock().unwrap().len(), 51);
    // Rolled back: nothing reported.
    c.execute_batch("BEGIN; INSERT INTO t VALUES (1000, 'gone'); ROLLBACK")
        .unwrap();
    assert_eq!(rec.0.lock().unwrap().len(), 51);
    // A savepoint rolled back inside a committed transaction: only the kept work.
    c.execute_batch(
        "BEGIN; INSERT INTO t VALUES (2000, 'kept'); SAVEPOINT s; \
         INSERT INTO t VALUES (2001, 'undone'); ROLLBACK TO s; RELEASE s; COMMIT",
    )
    .unwrap();
    assert_eq!(rec.0.lock().unwrap().len(), 52);
    // A transaction that changes nothing commits nothing.
    c.execute_batch("BEGIN IMMEDIATE; COMMIT").unwrap();
    c.execute("UPDATE t SET b = 'none' WHERE a < 0", ())
        .unwrap();
    assert_eq!(rec.0.lock().unwrap().len(), 52);
    // A checkpoint copies frames; it is no transaction.
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", (), |_| Ok(()))
        .unwrap();
    c.execute("DELETE FROM t WHERE a % 2 = 0", ()).unwrap();
    assert_eq!(rec.0.lock().unwrap().len(), 53);
    // Pages are ascending and unique in each report.
    for (pages, size) in rec.0.lock().unwrap().iter() {
        assert!(pages.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(pages
            .iter()
            .all(|(no, d)| *no >= 1 && *no <= *size && d.len() == 4096));
    }
    let copy = dir.join("copy.db");
    rebuild(&rec.0.lock().unwrap(), &copy, db.page_size());
    let lite = rusqlite::Connection::open(&copy).unwrap();
    let ok: String = lite
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mut want: Vec<(i64, String)> = (0..50)
        .filter(|i| i % 2 == 1)
        .map(|i| (i, "x".repeat(200 + i as usize)))
        .collect();
    assert!(!want.is_empty());
    want.sort();
    assert_eq!(rows(&lite), want);
    // Removing the observer stops reports.
    db.set_commit_observer(None);
    c.execute("INSERT INTO t VALUES (5000, 'late')", ())
        .unwrap();
    assert_eq!(rec.0.lock().unwrap().len(), 53);
}

#[test]
fn observer_order_matches_commit_order_across_connections() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("p.db")).unwrap();
    let rec = Arc::new(Recorder::default());
    db.set_commit_observer(Some(rec.clone()));
    db.connect()
        .execute_batch("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)")
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                let c = db.connect();
                for i in 0..25 {
                    c.execute("INSERT INTO t VALUES (?1, 'v')", (t * 100 + i,))
                        .unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let txns = rec.0.lock().unwrap().clone();
    assert_eq!(txns.len(), 101);
    let copy = dir.path().join("copy.db");
    rebuild(&txns, &copy, db.page_size());
    let lite = rusqlite::Connection::open(&copy).unwrap();
    let n: i64 = lite
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 100);
    let ok: String = lite
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}
