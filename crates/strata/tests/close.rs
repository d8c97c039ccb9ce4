//! Closing a database: when the last handle goes, the WAL is checkpointed into the
//! database file and deleted, as SQLite does at its last connection's close, so a closed
//! database is one file that SQLite (or Strata) opens without recovery.

use std::sync::Arc;

use strata::{Database, OpenOptions};

fn wal_of(path: &std::path::Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

fn fill(db: &Database) {
    let conn = db.connect();
    conn.execute_batch(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);
         CREATE INDEX tb ON t(b);
         INSERT INTO t WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2000)
           SELECT i, printf('%030d', i) FROM c;
         DELETE FROM t WHERE a % 7 = 0;",
    )
    .unwrap();
}

#[test]
fn the_last_close_checkpoints_and_deletes_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let db = OpenOptions::new()
        .autocheckpoint_frames(0)
        .open(&path)
        .unwrap();
    fill(&db);
    assert!(
        wal_of(&path).exists(),
        "the WAL holds the commits while open"
    );
    // A second handle and a connection keep it open.
    let other = db.clone();
    let conn = other.connect();
    drop(db);
    assert!(wal_of(&path).exists(), "still open through a clone");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2000 - 285);
    drop(conn);
    drop(other);
    assert!(!wal_of(&path).exists(), "closed: the WAL is gone");
    // The file alone holds everything: SQLite reads it and finds it intact.
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    let check: String = sqlite
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let (n, sum): (i64, i64) = sqlite
        .query_row("SELECT count(*), sum(a) FROM t", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(n, 2000 - 285);
    assert_eq!(sum, (1..=2000).filter(|i| i % 7 != 0).sum::<i64>());
    drop(sqlite);
    // And Strata reopens it.
    let db = Database::open(&path).unwrap();
    let n: i64 = db
        .connect()
        .query_row("SELECT count(*) FROM t WHERE b > ''", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2000 - 285);
}

#[test]
fn checkpoint_on_close_off_keeps_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.db");
    let db = OpenOptions::new()
        .autocheckpoint_frames(0)
        .checkpoint_on_close(false)
        .open(&path)
        .unwrap();
    fill(&db);
    drop(db);
    assert!(wal_of(&path).exists());
    // The next open recovers from it.
    let db = OpenOptions::new().open(&path).unwrap();
    let n: i64 = db
        .connect()
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2000 - 285);
    drop(db);
    assert!(!wal_of(&path).exists());
}

/// On IO that completes nothing inline (in a shuffled order) the close drives the IO
/// itself; the database then opens with no WAL and the same contents.
#[test]
fn close_on_deferred_io() {
    let io = Arc::new(strata::io::MemoryIo::new_shuffled(7));
    let db = OpenOptions::new()
        .io(io.clone())
        .page_size(1024)
        .cache_size_pages(8)
        .autocheckpoint_frames(0)
        .open("deferred.db")
        .unwrap();
    fill(&db);
    drop(db);
    use strata::io::IO;
    assert!(!io.file_exists("deferred.db-wal").unwrap());
    let db = OpenOptions::new().io(io).open("deferred.db").unwrap();
    let conn = db.connect();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2000 - 285);
    let check: String = conn
        .query_row("PRAGMA integrity_check", (), |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// `Connection::open` owns its database: dropping the connection closes it.
#[test]
fn a_connection_opened_alone_closes_its_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alone.db");
    let conn = strata::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1), (2);")
        .unwrap();
    assert!(wal_of(&path).exists());
    drop(conn);
    assert!(!wal_of(&path).exists());
}
