//! Opening database files that SQLite made with settings other than Strata's own
//! (issue 17): every file is either opened and handled exactly as SQLite would handle it,
//! or refused at open with a message that says what to do, and a refused open leaves the
//! directory byte-for-byte unchanged (no -wal, -shm or -journal created, no file written,
//! no modification time changed).
//!
//! Every database here is made by SQLite itself (rusqlite, bundled).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use strata::{Connection, Database, ValueRef};

/// Every file in `dir`: name -> (contents, modification time).
type DirState = BTreeMap<String, (Vec<u8>, SystemTime)>;

fn dir_state(dir: &Path) -> DirState {
    let mut state = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        let meta = entry.metadata().unwrap();
        let bytes = std::fs::read(entry.path()).unwrap();
        state.insert(name, (bytes, meta.modified().unwrap()));
    }
    state
}

fn describe(state: &DirState) -> Vec<String> {
    state
        .iter()
        .map(|(name, (bytes, mtime))| format!("{name} ({} bytes, {mtime:?})", bytes.len()))
        .collect()
}

/// A fresh directory with `db` made by SQLite running `sql`.
fn sqlite_db(sql: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    (dir, path)
}

/// Opens `path` with Strata, expects a refusal whose message contains every string of
/// `expect`, and checks that the directory did not change at all.
fn expect_refused(what: &str, dir: &Path, path: &Path, expect: &[&str]) {
    let before = dir_state(dir);
    // Coarse file-system timestamps could hide a write made within the same tick.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let err = match Database::open(path) {
        Ok(_) => panic!("{what}: opened, but must be refused"),
        Err(e) => e.to_string(),
    };
    for needle in expect {
        assert!(
            err.contains(needle),
            "{what}: refusal message {err:?} lacks {needle:?}"
        );
    }
    let after = dir_state(dir);
    assert!(
        before == after,
        "{what}: the refused open changed the directory:\n before {:?}\n after  {:?}",
        describe(&before),
        describe(&after)
    );
    // Still a good database for SQLite.
    let conn = rusqlite::Connection::open(path).unwrap();
    let ic: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        ic, "ok",
        "{what}: SQLite's integrity_check after the refusal"
    );
    eprintln!("{what}: refused: {err}");
}

const CONTENT: &str = "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT); \
     INSERT INTO t(b) VALUES ('héllo'), ('wörld'); CREATE INDEX tb ON t(b);";

#[test]
fn utf16_databases_are_refused_untouched() {
    for enc in ["UTF-16le", "UTF-16be"] {
        for journal in ["DELETE", "WAL"] {
            let (dir, path) = sqlite_db(&format!(
                "PRAGMA encoding='{enc}'; PRAGMA journal_mode={journal}; {CONTENT}"
            ));
            let what = format!("{enc} database, journal_mode={journal}");
            expect_refused(&what, dir.path(), &path, &[enc, "UTF-8", "sqlite3"]);
        }
    }
}

#[test]
fn utf16_with_page1_in_the_wal_is_refused_untouched() {
    // A live SQLite connection's WAL (page 1 only in the WAL): copy the files while it is
    // open, as a crash would leave them.
    let src = tempfile::tempdir().unwrap();
    let src_path = src.path().join("test.db");
    let conn = rusqlite::Connection::open(&src_path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA encoding='UTF-16le'; PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; {CONTENT}"
    ))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    std::fs::copy(&src_path, &path).unwrap();
    std::fs::copy(
        src.path().join("test.db-wal"),
        dir.path().join("test.db-wal"),
    )
    .unwrap();
    drop(conn);
    expect_refused(
        "UTF-16le database with page 1 in the WAL",
        dir.path(),
        &path,
        &["UTF-16le"],
    );
}

#[test]
fn auto_vacuum_databases_are_refused_untouched() {
    for mode in ["FULL", "INCREMENTAL"] {
        for journal in ["DELETE", "WAL"] {
            let (dir, path) = sqlite_db(&format!(
                "PRAGMA auto_vacuum={mode}; PRAGMA journal_mode={journal}; {CONTENT}"
            ));
            let what = format!("auto_vacuum={mode}, journal_mode={journal}");
            expect_refused(&what, dir.path(), &path, &["auto-vacuum", "sqlite3"]);
        }
    }
}

#[test]
fn files_that_are_not_databases_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "These are my notes, not a database.\n".repeat(200)).unwrap();
    let before = dir_state(dir.path());
    let err = Database::open(&path)
        .err()
        .expect("a text file must be refused");
    assert!(err.to_string().contains("not a database"), "{err}");
    assert!(
        before == dir_state(dir.path()),
        "refusing a text file changed the directory"
    );
}

fn strata_one(conn: &Connection, sql: &str) -> Result<String, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let mut rows = stmt.query(()).map_err(|e| e.to_string())?;
    let row = rows.next().map_err(|e| e.to_string())?;
    match row {
        None => Ok("<no row>".into()),
        Some(r) => match r.get_ref(0).map_err(|e| e.to_string())? {
            ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
            other => Ok(format!("{other:?}")),
        },
    }
}

fn sqlite_one(conn: &rusqlite::Connection, sql: &str) -> Result<String, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    match rows.next().map_err(|e| e.to_string())? {
        None => Ok("<no row>".into()),
        Some(r) => match r.get_ref(0).map_err(|e| e.to_string())? {
            rusqlite::types::ValueRef::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
            other => Ok(format!("{other:?}")),
        },
    }
}

#[test]
fn journal_mode_and_encoding_pragmas_tell_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let db = Database::open(&path).unwrap();
    let conn = db.connect();
    conn.execute_batch(CONTENT).unwrap();
    // Statements SQLite answers the same way on a WAL database with content.
    let sq_dir = tempfile::tempdir().unwrap();
    let sq = rusqlite::Connection::open(sq_dir.path().join("p.db")).unwrap();
    sq.execute_batch(&format!("PRAGMA journal_mode=WAL; {CONTENT}"))
        .unwrap();
    for sql in [
        "PRAGMA journal_mode",
        "PRAGMA main.journal_mode",
        "PRAGMA journal_mode = WAL",
        "PRAGMA journal_mode = wal",
        "PRAGMA journal_mode = nonsense",
        "PRAGMA encoding",
        "PRAGMA encoding = 'UTF-8'",
        // A database with a schema keeps its encoding; SQLite ignores the request.
        "PRAGMA encoding = 'UTF-16le'",
        "PRAGMA encoding",
        "PRAGMA encoding = 'latin1'",
        "PRAGMA journal_mode",
    ] {
        assert_eq!(strata_one(&conn, sql), sqlite_one(&sq, sql), "{sql}");
    }
    // Modes Strata cannot be in are refused, and the mode stays what it is.
    for mode in [
        "DELETE", "delete", "del", "TRUNCATE", "PERSIST", "MEMORY", "OFF",
    ] {
        let err = strata_one(&conn, &format!("PRAGMA journal_mode = {mode}"))
            .expect_err("a journal mode other than WAL must be refused");
        assert!(err.contains("WAL"), "{mode}: {err}");
        assert_eq!(strata_one(&conn, "PRAGMA journal_mode").unwrap(), "wal");
    }
    drop(conn);
    drop(db);
    // The file on disk agrees: SQLite sees WAL mode.
    let sq = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(sqlite_one(&sq, "PRAGMA journal_mode").unwrap(), "wal");
    assert_eq!(sqlite_one(&sq, "PRAGMA encoding").unwrap(), "UTF-8");

    // An empty database cannot be made UTF-16 (SQLite would convert it).
    let empty = Database::open(dir.path().join("empty.db")).unwrap();
    let err = strata_one(&empty.connect(), "PRAGMA encoding = 'UTF-16le'").unwrap_err();
    assert!(err.contains("UTF-16"), "{err}");
    assert_eq!(
        strata_one(&empty.connect(), "PRAGMA encoding").unwrap(),
        "UTF-8"
    );
}
