//! Crash points and I/O-error points of a hot-journal rollback: a rollback-journal
//! database and the journal a really crashed SQLite process left (made by this test
//! binary running SQLite in a child that aborts mid-transaction) are placed on the
//! simulator's disk, and opening them loses power after each I/O operation in turn (or
//! fails it). Whatever happens, the next open must finish the rollback: the database file
//! ends up byte-for-byte what SQLite's own rollback of the same files makes, and the
//! journal is gone.

use std::sync::Arc;

use simulator::{CrashMode, SimIo, SimIoOptions};
use strata_io::IO;
use strata_pager::{Storage, StorageOptions};

const CRASH_DB: &str = "HOT_JOURNAL_POINTS_DB";

/// The child half: a SQLite transaction that spills into the database file, then dies.
#[test]
#[ignore = "run as a child process by the hot-journal crash-point tests"]
fn crash_child() {
    let path = std::env::var(CRASH_DB).expect("run by the hot-journal tests");
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "PRAGMA cache_size=10; BEGIN; \
         UPDATE t SET b = b || ' changed', c = zeroblob(length(c) + 300); \
         INSERT INTO t(b, c) SELECT b, zeroblob(900) FROM t; \
         DELETE FROM t WHERE a % 3 = 0;",
    )
    .unwrap();
    std::process::abort();
}

/// (database as the crash left it, its journal, the database after SQLite's rollback)
fn crashed_files() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut sql = String::from(
            "PRAGMA page_size=1024; PRAGMA journal_mode=DELETE; BEGIN; \
             CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB); CREATE INDEX tb ON t(b);",
        );
        for i in 0..150 {
            sql.push_str(&format!(
                "INSERT INTO t(b, c) VALUES ('row {i}', zeroblob({}));",
                (i * 37) % 700
            ));
        }
        sql.push_str("COMMIT;");
        conn.execute_batch(&sql).unwrap();
    }
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--ignored", "--test-threads=1"])
        .env(CRASH_DB, &path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die before committing");
    let db = std::fs::read(&path).unwrap();
    let journal = std::fs::read(format!("{}-journal", path.display())).unwrap();
    assert_ne!(journal[0], 0, "a hot journal");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let ic: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ic, "ok");
    drop(conn);
    let rolled_back = std::fs::read(&path).unwrap();
    assert_ne!(
        rolled_back, db,
        "the crashed transaction wrote into the file"
    );
    (db, journal, rolled_back)
}

fn options() -> StorageOptions {
    StorageOptions {
        page_size: 1024,
        ..StorageOptions::default()
    }
}

/// Runs the open with a scheduled fault; returns whether the fault fired.
fn open_with_fault(
    io: &Arc<SimIo>,
    files: &(Vec<u8>, Vec<u8>, Vec<u8>),
    fault: impl Fn(&SimIo),
) -> bool {
    io.set_durable_contents("h.db", files.0.clone());
    io.set_durable_contents("h.db-journal", files.1.clone());
    fault(io);
    let before = io.stats();
    let opened = Storage::open(io.clone() as Arc<dyn IO>, "h.db", options());
    let after = io.stats();
    drop(opened);
    io.clear_scheduled();
    after.crashes > before.crashes || after.scheduled_errors > before.scheduled_errors
}

fn check_recovered(io: &Arc<SimIo>, files: &(Vec<u8>, Vec<u8>, Vec<u8>), what: &str) {
    let storage = Storage::open(io.clone() as Arc<dyn IO>, "h.db", options())
        .unwrap_or_else(|e| panic!("{what}: reopen failed: {e}"));
    assert!(
        io.file_contents("h.db-journal").is_none(),
        "{what}: the journal must be gone"
    );
    assert!(
        io.file_contents("h.db").unwrap() == files.2,
        "{what}: the database differs from SQLite's rollback"
    );
    drop(storage);
}

#[test]
fn hot_journal_rollback_survives_crashes_and_io_errors() {
    let files = crashed_files();
    let mut crash_points = 0;
    let mut n = 1;
    loop {
        let io = Arc::new(SimIo::new(SimIoOptions {
            crash_mode: CrashMode::Random,
            ..SimIoOptions::new(n)
        }));
        if !open_with_fault(&io, &files, |io| io.crash_after_op(n)) {
            break;
        }
        crash_points += 1;
        check_recovered(&io, &files, &format!("crash after operation {n}"));
        n += 1;
    }
    assert!(crash_points > 20, "only {crash_points} crash points");
    let mut error_points = 0;
    for n in 1..=crash_points + 1 {
        let io = Arc::new(SimIo::new(SimIoOptions::new(n)));
        if !open_with_fault(&io, &files, |io| io.fail_op(n)) {
            continue;
        }
        error_points += 1;
        // The failed open leaves the files for the next one to finish; then a power loss.
        check_recovered(&io, &files, &format!("operation {n} failed"));
        io.crash();
        check_recovered(
            &io,
            &files,
            &format!("operation {n} failed, then power loss"),
        );
    }
    assert!(error_points > 20, "only {error_points} error points");
    eprintln!("{crash_points} crash points, {error_points} error points");
}
