//! Opening database files that SQLite made with settings other than Strata's own
//! (issue 17): every file is either opened and handled exactly as SQLite would handle it,
//! opened read-only (auto-vacuum files: every write refused before anything is written), or
//! refused at open with a message that says what to do, and a refused open or write leaves
//! the directory byte-for-byte unchanged (no -wal, -shm or -journal created, no file
//! written, no modification time changed).
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
fn expect_refused(what: &str, dir: &Path, path: &Path, expect: &[&str], sqlite_reads: bool) {
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
    if !sqlite_reads {
        eprintln!("{what}: refused: {err}");
        return;
    }
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

/// Files of a future format (header read/write version 3, which SQLite itself refuses to
/// read or to write) are refused before anything is written.
#[test]
fn future_file_formats_are_refused_untouched() {
    for (offset, what) in [(19usize, "read version 3"), (18, "write version 3")] {
        let (dir, path) = sqlite_db(&format!("PRAGMA journal_mode=DELETE; {CONTENT}"));
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[offset] = 3;
        std::fs::write(&path, &bytes).unwrap();
        // SQLite opens a write-version-3 file read-only and can still check it; a
        // read-version-3 file it cannot read at all.
        expect_refused(
            what,
            dir.path(),
            &path,
            &["unsupported file format"],
            offset == 18,
        );
    }
}

/// A UTF-16 database whose page 1 is only in the WAL (a live SQLite connection's files,
/// copied as a crash would leave them) opens in its encoding and reads like SQLite.
#[test]
fn utf16_with_page1_in_the_wal_opens_and_reads() {
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
    let db = Database::open(&path).unwrap();
    let c = db.connect();
    assert_eq!(strata_one(&c, "PRAGMA encoding").unwrap(), "UTF-16le");
    assert_eq!(
        strata_one(
            &c,
            "SELECT group_concat(b) FROM (SELECT b FROM t ORDER BY b)"
        )
        .unwrap(),
        "héllo,wörld"
    );
    assert_eq!(
        strata_one(&c, "SELECT hex(b) FROM t WHERE b > 'w'").unwrap(),
        "7700F60072006C006400"
    );
}

/// Auto-vacuum databases open, read and write (crates/strata/tests/auto_vacuum.rs and
/// auto_vacuum_write.rs have the rest); SQLite finds the written file intact.
#[test]
fn auto_vacuum_databases_open_read_and_write() {
    for mode in ["FULL", "INCREMENTAL"] {
        for journal in ["DELETE", "WAL"] {
            let (_dir, path) = sqlite_db(&format!(
                "PRAGMA auto_vacuum={mode}; PRAGMA journal_mode={journal}; {CONTENT}"
            ));
            let what = format!("auto_vacuum={mode}, journal_mode={journal}");
            {
                let db = Database::open(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
                let conn = db.connect();
                assert_eq!(
                    strata_one(&conn, "SELECT group_concat(b) FROM t").unwrap(),
                    "héllo,wörld",
                    "{what}"
                );
                conn.execute_batch("INSERT INTO t(b) VALUES ('x')")
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
            }
            let conn = rusqlite::Connection::open(&path).unwrap();
            let ic: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ic, "ok", "{what}");
            let b: String = conn
                .query_row("SELECT group_concat(b) FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(b, "héllo,wörld,x", "{what}");
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
    for mode in ["TRUNCATE", "PERSIST", "pers", "MEMORY", "OFF"] {
        let err = strata_one(&conn, &format!("PRAGMA journal_mode = {mode}"))
            .expect_err("a journal mode other than WAL or DELETE must be refused");
        assert!(err.contains("WAL"), "{mode}: {err}");
        assert_eq!(strata_one(&conn, "PRAGMA journal_mode").unwrap(), "wal");
    }
    drop(conn);
    drop(db);
    // The file on disk agrees: SQLite sees WAL mode.
    let sq = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(sqlite_one(&sq, "PRAGMA journal_mode").unwrap(), "wal");
    assert_eq!(sqlite_one(&sq, "PRAGMA encoding").unwrap(), "UTF-8");
    drop(sq);

    // An empty database can be made UTF-16 (crates/strata/tests/utf16.rs has more).
    let empty = Database::open(dir.path().join("empty.db")).unwrap();
    strata_one(&empty.connect(), "PRAGMA encoding = 'UTF-16le'").unwrap();
    assert_eq!(
        strata_one(&empty.connect(), "PRAGMA encoding").unwrap(),
        "UTF-16le"
    );
}

// --- Rollback-journal databases (journal_mode=DELETE, SQLite's default) ---

#[derive(Debug, PartialEq, Clone)]
enum V {
    Null,
    Int(i64),
    Real(u64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

fn strata_rows(conn: &Connection, sql: &str) -> Vec<Vec<V>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    let mut rows = stmt.query(()).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap_or_else(|e| panic!("{sql}: {e}")) {
        out.push(
            (0..n)
                .map(|i| match row.get_ref(i).unwrap() {
                    ValueRef::Null => V::Null,
                    ValueRef::Integer(i) => V::Int(i),
                    ValueRef::Real(f) => V::Real(f.to_bits()),
                    ValueRef::Text(t) => V::Text(t.to_vec()),
                    ValueRef::Blob(b) => V::Blob(b.to_vec()),
                })
                .collect(),
        );
    }
    out
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<V>> {
    use rusqlite::types::ValueRef as R;
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        out.push(
            (0..n)
                .map(|i| match row.get_ref(i).unwrap() {
                    R::Null => V::Null,
                    R::Integer(i) => V::Int(i),
                    R::Real(f) => V::Real(f.to_bits()),
                    R::Text(t) => V::Text(t.to_vec()),
                    R::Blob(b) => V::Blob(b.to_vec()),
                })
                .collect(),
        );
    }
    out
}

/// Rows, some with overflow pages, in a table with two indexes.
fn populate_sql(rows: usize) -> String {
    // One transaction: a commit per row would fsync the journal and file each time.
    let mut sql = String::from(
        "BEGIN; CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB, d REAL); \
         CREATE INDEX tb ON t(b); CREATE UNIQUE INDEX td ON t(d);",
    );
    for i in 0..rows {
        let blob_len = if i % 7 == 0 { 3000 } else { i % 90 };
        sql.push_str(&format!(
            "INSERT INTO t VALUES ({i}, 'row {i} {}', zeroblob({blob_len}), {i}.5);",
            "x".repeat(i % 40)
        ));
    }
    sql.push_str("COMMIT;");
    sql
}

const CHECK_QUERIES: [&str; 4] = [
    "SELECT a, b, length(c), d FROM t ORDER BY a",
    "SELECT b FROM t ORDER BY b",
    "SELECT name, sql FROM sqlite_schema ORDER BY name",
    "SELECT * FROM u ORDER BY k",
];

/// Writes that free pages (deletes of rows with overflow), grow the file, and add a
/// table and an index.
const WRITES: [&str; 5] = [
    "DELETE FROM t WHERE a % 7 = 0 OR a % 5 = 1",
    "UPDATE t SET b = b || ' updated' WHERE a % 3 = 0",
    "INSERT INTO t(b, c, d) SELECT b || ' copy', zeroblob(length(c) * 2), d + 100000 FROM t WHERE a < 200",
    "CREATE TABLE u(k TEXT PRIMARY KEY, v)",
    "CREATE INDEX uv ON u(v)",
];

fn u_rows_sql() -> String {
    let rows: String = (0..300)
        .map(|i| format!("INSERT INTO u VALUES ('key {i}', {});", i * 37 % 101))
        .collect();
    format!("BEGIN; {rows} COMMIT;")
}

#[test]
fn rollback_journal_databases_are_read_written_and_switched_to_wal() {
    for page_size in [512, 4096, 65536] {
        let what = format!("journal_mode=DELETE page_size={page_size}");
        let (dir, path) = sqlite_db(&format!(
            "PRAGMA page_size={page_size}; PRAGMA journal_mode=DELETE; {}",
            populate_sql(1500)
        ));
        // The same file, kept by SQLite, receives the same writes: the oracle.
        let mirror = dir.path().join("mirror.db");
        std::fs::copy(&path, &mirror).unwrap();
        let sq = rusqlite::Connection::open(&mirror).unwrap();
        let mode: String = sq
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete", "{what}: setup");

        // Reading changes nothing on disk: the file stays a rollback-journal database
        // (and says so) until the first write.
        let before = dir_state(dir.path());
        {
            let db = Database::open(&path).unwrap();
            let conn = db.connect();
            for sql in ["PRAGMA journal_mode", CHECK_QUERIES[0], CHECK_QUERIES[1]] {
                assert_eq!(
                    strata_rows(&conn, sql),
                    sqlite_rows(&sq, sql),
                    "{what}: {sql}"
                );
            }
        }
        assert!(
            before == dir_state(dir.path()),
            "{what}: reading a rollback-journal database changed the directory"
        );

        let db = Database::open(&path).unwrap();
        let conn = db.connect();
        for sql in &CHECK_QUERIES[..3] {
            assert_eq!(
                strata_rows(&conn, sql),
                sqlite_rows(&sq, sql),
                "{what}: {sql}"
            );
        }
        // The first write switches the file to WAL.
        for sql in WRITES {
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("{what}: {sql}: {e}"));
            sq.execute_batch(sql).unwrap();
        }
        conn.execute_batch(&u_rows_sql()).unwrap();
        sq.execute_batch(&u_rows_sql()).unwrap();
        for sql in CHECK_QUERIES {
            assert_eq!(
                strata_rows(&conn, sql),
                sqlite_rows(&sq, sql),
                "{what}: {sql}"
            );
        }
        assert_eq!(
            strata_one(&conn, "PRAGMA journal_mode").unwrap(),
            "wal",
            "{what}"
        );
        let expected: Vec<_> = CHECK_QUERIES.iter().map(|q| sqlite_rows(&sq, q)).collect();
        drop(conn);
        drop(db);

        // SQLite opens what Strata wrote: a WAL database, intact, with the same rows.
        let back = rusqlite::Connection::open(&path).unwrap();
        let mode: String = back
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal", "{what}: SQLite sees the switched mode");
        let ic: String = back
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ic, "ok", "{what}: SQLite's integrity_check");
        for (sql, rows) in CHECK_QUERIES.iter().zip(&expected) {
            assert_eq!(&sqlite_rows(&back, sql), rows, "{what}: SQLite reads {sql}");
        }
        eprintln!("{what}: ok");
    }
}

/// Env vars by which the crash tests run [`crash_child`] in a child process.
const CRASH_DB: &str = "OPEN_ANY_FILE_CRASH_DB";
const CRASH_SQL: &str = "OPEN_ANY_FILE_CRASH_SQL";

/// The child half of the crash tests: SQLite begins a transaction in rollback-journal
/// mode, with a cache so small that changed pages spill into the database file (each
/// spill syncs the journal and starts a new segment), then the process dies.
#[test]
#[ignore = "run as a child process by the hot-journal tests"]
fn crash_child() {
    let path = std::env::var(CRASH_DB).expect("run by the hot-journal tests");
    let sql = std::env::var(CRASH_SQL).unwrap();
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA cache_size=10; BEGIN;").unwrap();
    conn.execute_batch(&sql).unwrap();
    std::process::abort();
}

/// Runs `sql` in a SQLite process that dies before committing; returns the journal.
fn crash_sqlite_mid_transaction(path: &Path, sql: &str) -> Vec<u8> {
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_DB, path)
        .env(CRASH_SQL, sql)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die before committing");
    let journal = std::fs::read(format!("{}-journal", path.display()))
        .expect("the crashed transaction leaves a journal");
    assert_ne!(journal[0], 0, "the journal must be hot");
    journal
}

/// Segment headers in a journal (magic at sector-size multiples).
fn journal_segments(journal: &[u8]) -> usize {
    const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];
    let sector = u32::from_be_bytes(journal[20..24].try_into().unwrap()) as usize;
    (0..journal.len())
        .step_by(sector)
        .filter(|&o| journal.len() >= o + 8 && journal[o..o + 8] == MAGIC)
        .count()
}

/// The transaction the crashed process was running: changes every page of `t`, grows the
/// file and frees pages.
const CRASHED_TX: &str = "UPDATE t SET b = b || ' changed', c = zeroblob(length(c) + 500); \
     INSERT INTO t(b, c, d) SELECT b, zeroblob(4000), d + 1e6 FROM t; \
     DELETE FROM t WHERE a % 4 = 0; CREATE TABLE lost(x);";

#[test]
fn hot_journal_of_a_crashed_sqlite_is_rolled_back() {
    for (page_size, enc) in [(512, "UTF-8"), (4096, "UTF-16le"), (65536, "UTF-16be")] {
        let what = format!("hot journal, page_size={page_size}, {enc}");
        let (dir, path) = sqlite_db(&format!(
            "PRAGMA encoding='{enc}'; PRAGMA page_size={page_size}; PRAGMA journal_mode=DELETE; {}",
            populate_sql(800)
        ));
        let before_bytes = std::fs::read(&path).unwrap();
        let expected: Vec<_> = {
            let sq = rusqlite::Connection::open(&path).unwrap();
            CHECK_QUERIES[..3]
                .iter()
                .map(|q| sqlite_rows(&sq, q))
                .collect()
        };
        let journal = crash_sqlite_mid_transaction(&path, CRASHED_TX);
        let crashed_bytes = std::fs::read(&path).unwrap();
        assert_ne!(
            crashed_bytes, before_bytes,
            "{what}: the crashed transaction must have written into the database file"
        );
        assert!(
            journal_segments(&journal) > 1,
            "{what}: expected a journal with several segments"
        );
        // SQLite's own recovery of a copy of the crashed files: the reference result.
        let reference = dir.path().join("reference.db");
        std::fs::copy(&path, &reference).unwrap();
        std::fs::write(format!("{}-journal", reference.display()), &journal).unwrap();
        {
            let sq = rusqlite::Connection::open(&reference).unwrap();
            for (sql, rows) in CHECK_QUERIES[..3].iter().zip(&expected) {
                assert_eq!(
                    &sqlite_rows(&sq, sql),
                    rows,
                    "{what}: SQLite's rollback: {sql}"
                );
            }
        }

        let db = Database::open(&path).unwrap();
        assert!(
            !Path::new(&format!("{}-journal", path.display())).exists(),
            "{what}: the journal must be gone after the rollback"
        );
        // The database file is exactly what SQLite's rollback makes of it (the switch to
        // WAL goes into the WAL, not into the file).
        assert!(
            std::fs::read(&path).unwrap() == std::fs::read(&reference).unwrap(),
            "{what}: the rolled-back file differs from SQLite's rollback"
        );
        let conn = db.connect();
        for (sql, rows) in CHECK_QUERIES[..3].iter().zip(&expected) {
            assert_eq!(&strata_rows(&conn, sql), rows, "{what}: Strata reads {sql}");
        }
        conn.execute_batch("INSERT INTO t(b, c, d) VALUES ('after', x'00', -1)")
            .unwrap();
        let after = strata_rows(&conn, CHECK_QUERIES[0]);
        drop(conn);
        drop(db);
        let sq = rusqlite::Connection::open(&path).unwrap();
        let ic: String = sq
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ic, "ok", "{what}: SQLite's integrity_check");
        assert_eq!(sqlite_rows(&sq, CHECK_QUERIES[0]), after, "{what}");
        eprintln!("{what}: ok ({} journal bytes)", journal.len());
    }
}

/// An auto-vacuum database with a hot journal: rolled back exactly as SQLite does (the
/// file cut back to its size before the crashed transaction), then written as SQLite
/// writes it.
#[test]
fn hot_journal_of_an_auto_vacuum_database_is_rolled_back() {
    for mode in ["FULL", "INCREMENTAL"] {
        let what = format!("hot journal, auto_vacuum={mode}");
        let (dir, path) = sqlite_db(&format!(
            "PRAGMA page_size=1024; PRAGMA auto_vacuum={mode}; PRAGMA journal_mode=DELETE; {}",
            populate_sql(400)
        ));
        let expected: Vec<_> = {
            let sq = rusqlite::Connection::open(&path).unwrap();
            CHECK_QUERIES[..3]
                .iter()
                .map(|q| sqlite_rows(&sq, q))
                .collect()
        };
        let journal = crash_sqlite_mid_transaction(&path, CRASHED_TX);
        let reference = dir.path().join("reference.db");
        std::fs::copy(&path, &reference).unwrap();
        std::fs::write(format!("{}-journal", reference.display()), &journal).unwrap();
        rusqlite::Connection::open(&reference)
            .unwrap()
            .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
            .unwrap();
        let db = Database::open(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            std::fs::read(&path).unwrap() == std::fs::read(&reference).unwrap(),
            "{what}: the rolled-back file differs from SQLite's rollback"
        );
        let conn = db.connect();
        for (sql, rows) in CHECK_QUERIES[..3].iter().zip(&expected) {
            assert_eq!(&strata_rows(&conn, sql), rows, "{what}: Strata reads {sql}");
        }
        assert_eq!(strata_one(&conn, "PRAGMA integrity_check").unwrap(), "ok");
        let write = "INSERT INTO t(b, c, d) VALUES ('after', x'00', -1)";
        conn.execute_batch(write)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        drop(conn);
        drop(db);
        let theirs = rusqlite::Connection::open(&reference).unwrap();
        theirs.execute_batch(write).unwrap();
        let sq = rusqlite::Connection::open(&path).unwrap();
        let ic: String = sq
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ic, "ok", "{what}: SQLite's integrity_check");
        assert_eq!(
            sqlite_rows(&sq, CHECK_QUERIES[0]),
            sqlite_rows(&theirs, CHECK_QUERIES[0]),
            "{what}"
        );
    }
}

/// One crashed database and its journal, copied into a fresh directory.
fn place(dir: &Path, db: &[u8], journal: &[u8]) -> PathBuf {
    let path = dir.join("test.db");
    std::fs::write(&path, db).unwrap();
    std::fs::write(dir.join("test.db-journal"), journal).unwrap();
    path
}

fn super_record(page_size: u32, name: &str) -> Vec<u8> {
    const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];
    let mut rec = (0x4000_0000 / page_size + 1).to_be_bytes().to_vec();
    rec.extend_from_slice(name.as_bytes());
    rec.extend_from_slice(&(name.len() as u32).to_be_bytes());
    let sum = name
        .bytes()
        .fold(0u32, |s, b| s.wrapping_add(b as i8 as i32 as u32));
    rec.extend_from_slice(&sum.to_be_bytes());
    rec.extend_from_slice(&MAGIC);
    rec
}

/// Damaged, truncated and unusual journals: Strata's rollback leaves the same database
/// file (byte for byte) and the same files as SQLite's rollback of an identical copy.
#[test]
fn damaged_hot_journals_roll_back_exactly_like_sqlite() {
    let page_size = 1024u32;
    let (dir, path) = sqlite_db(&format!(
        "PRAGMA page_size={page_size}; PRAGMA journal_mode=DELETE; {}",
        populate_sql(400)
    ));
    let journal = crash_sqlite_mid_transaction(&path, CRASHED_TX);
    let crashed = std::fs::read(&path).unwrap();
    let sector = u32::from_be_bytes(journal[20..24].try_into().unwrap()) as usize;
    let record = page_size as usize + 8;
    let len = journal.len();

    let mut variants: Vec<(String, Vec<u8>)> = vec![("intact".into(), journal.clone())];
    for cut in [
        1,
        27,
        sector - 1,
        sector,
        sector + 4,
        sector + record - 1,
        sector + record,
        sector + 3 * record + 100,
        len / 3,
        len / 2,
        len - 1,
    ] {
        variants.push((format!("cut at {cut}"), journal[..cut.min(len)].to_vec()));
    }
    let flip = |at: usize, what: &str| {
        let mut j = journal.clone();
        j[at] ^= 0x5a;
        (format!("byte {at} flipped ({what})"), j)
    };
    variants.push(flip(0, "magic"));
    variants.push(flip(11, "nRec"));
    variants.push(flip(15, "nonce"));
    variants.push(flip(19, "original size"));
    variants.push(flip(23, "sector size"));
    variants.push(flip(26, "page size"));
    variants.push(flip(sector + 2, "first page number"));
    variants.push(flip(sector + 4 + page_size as usize - 200, "sampled byte"));
    variants.push(flip(sector + 4 + 1, "unsampled byte"));
    variants.push(flip(sector + record + 4 + 824, "second record"));
    let mut j = journal.clone();
    j[0] = 0;
    variants.push(("first byte zero (cold)".into(), j));
    let mut j = journal.clone();
    j[8..12].copy_from_slice(&0xffff_ffffu32.to_be_bytes());
    variants.push(("nRec = -1 (no-sync journal)".into(), j));
    let mut j = journal.clone();
    j[8..12].copy_from_slice(&0u32.to_be_bytes());
    variants.push(("nRec = 0".into(), j));
    let mut j = journal.clone();
    j[24..28].copy_from_slice(&0u32.to_be_bytes());
    variants.push(("page size 0 (pre-3.5.8)".into(), j));
    let mut j = journal.clone();
    j[20..24].copy_from_slice(&4096u32.to_be_bytes());
    variants.push(("sector size 4096".into(), j));
    let mut j = journal.clone();
    j[8..12].copy_from_slice(&0xffff_ffffu32.to_be_bytes());
    j[20..24].copy_from_slice(&65536u32.to_be_bytes());
    variants.push(("sector size 65536, nRec = -1".into(), j[..40_000].to_vec()));
    let mut j = journal.clone();
    j[24..28].copy_from_slice(&2048u32.to_be_bytes());
    variants.push(("page size 2048 (not the database's)".into(), j));

    let mut tested = 0;
    for (what, variant) in &variants {
        for super_kind in ["none", "missing", "present", "present, other child"] {
            if super_kind != "none" && what != "intact" {
                continue;
            }
            let a = tempfile::tempdir().unwrap();
            let b = tempfile::tempdir().unwrap();
            let mut results = Vec::new();
            for (side, d) in [("sqlite", a.path()), ("strata", b.path())] {
                let super_path = d.join("test.db-mj0123");
                let mut j = variant.clone();
                if super_kind != "none" {
                    // Records end on a sector boundary before the super-journal name in
                    // full-sync mode; any offset works for reading it.
                    j.extend(super_record(page_size, super_path.to_str().unwrap()));
                }
                let path = place(d, &crashed, &j);
                match super_kind {
                    "present" => {
                        let child = format!("{}-journal\0", path.display());
                        std::fs::write(&super_path, child).unwrap();
                    }
                    "present, other child" => {
                        // Another database's journal still names the super-journal.
                        let other = d.join("other.db-journal");
                        let mut oj = journal[..sector].to_vec();
                        oj.extend(super_record(page_size, super_path.to_str().unwrap()));
                        std::fs::write(&other, oj).unwrap();
                        let children = format!("{}-journal\0{}\0", path.display(), other.display());
                        std::fs::write(&super_path, children).unwrap();
                    }
                    _ => {}
                }
                if side == "sqlite" {
                    let conn = rusqlite::Connection::open(&path).unwrap();
                    let _ = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                        r.get::<_, i64>(0)
                    });
                    drop(conn);
                } else {
                    let _ = Database::open(&path);
                }
                let mut names: Vec<String> = std::fs::read_dir(d)
                    .unwrap()
                    .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .filter(|n| n != "test.db-wal" && n != "test.db-shm")
                    .collect();
                names.sort();
                results.push((std::fs::read(&path).unwrap(), names));
            }
            let ctx = format!("{what}, super-journal {super_kind}");
            assert_eq!(results[0].1, results[1].1, "{ctx}: files left");
            assert!(
                results[0].0 == results[1].0,
                "{ctx}: the database files differ after rollback ({} vs {} bytes)",
                results[0].0.len(),
                results[1].0.len()
            );
            let rolled_back = results[1].0 != crashed;
            eprintln!("{ctx}: rolled back {rolled_back}, files {:?}", results[1].1);
            // The branches the variants are meant to reach are reached.
            let expect_rollback = match (what.as_str(), super_kind) {
                ("intact", "missing") => Some(false),
                ("intact", _) => Some(true),
                ("first byte zero (cold)", _) => Some(false),
                _ => None,
            };
            if let Some(expected) = expect_rollback {
                assert_eq!(rolled_back, expected, "{ctx}: rolled back");
            }
            let super_left = results[1].1.iter().any(|n| n == "test.db-mj0123");
            match super_kind {
                "present" => assert!(!super_left, "{ctx}: unused super-journal kept"),
                "present, other child" => assert!(super_left, "{ctx}: super-journal deleted"),
                _ => {}
            }
            tested += 1;
        }
    }
    eprintln!("{tested} journal variants roll back like SQLite");
    drop(dir);
}

/// `PRAGMA journal_mode=DELETE` makes the file a complete rollback-journal database:
/// everything checkpointed, the WAL removed, header bytes 18/19 = 1. The next write (or
/// `PRAGMA journal_mode=WAL`) switches it back to WAL, the only mode Strata writes in.
#[test]
fn journal_mode_delete_hands_over_a_single_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let db = Database::open(&path).unwrap();
    let conn = db.connect();
    conn.execute_batch(&populate_sql(500)).unwrap();
    let expected = strata_rows(&conn, CHECK_QUERIES[0]);
    // The same statements on SQLite, for its answers.
    let sq_dir = tempfile::tempdir().unwrap();
    let sq = rusqlite::Connection::open(sq_dir.path().join("w.db")).unwrap();
    sq.execute_batch(&format!("PRAGMA journal_mode=WAL; {}", populate_sql(500)))
        .unwrap();

    // Not inside a transaction (SQLite's rule and message).
    for sql in [
        "BEGIN",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA journal_mode = WAL",
        "ROLLBACK",
        "PRAGMA journal_mode",
    ] {
        assert_eq!(strata_one(&conn, sql), sqlite_one(&sq, sql), "{sql}");
    }

    // Another connection's reader keeps the WAL alive: busy, nothing changes.
    let other = db.connect();
    other.execute_batch("BEGIN").unwrap();
    assert_eq!(strata_rows(&other, "SELECT count(*) FROM t").len(), 1);
    conn.busy_timeout(std::time::Duration::from_millis(50));
    let err = strata_one(&conn, "PRAGMA journal_mode = DELETE").unwrap_err();
    assert!(err.contains("locked"), "{err}");
    assert_eq!(strata_one(&conn, "PRAGMA journal_mode").unwrap(), "wal");
    other.execute_batch("COMMIT").unwrap();

    for sql in [
        "PRAGMA journal_mode = DELETE",
        "PRAGMA journal_mode",
        "PRAGMA journal_mode = DELETE",
    ] {
        assert_eq!(strata_one(&conn, sql), sqlite_one(&sq, sql), "{sql}");
    }
    assert!(
        !dir.path().join("w.db-wal").exists(),
        "the WAL must be removed"
    );
    let header = std::fs::read(&path).unwrap();
    assert_eq!(&header[18..20], &[1, 1], "header bytes 18/19");
    assert_eq!(strata_rows(&conn, CHECK_QUERIES[0]), expected);
    assert_eq!(strata_rows(&other, CHECK_QUERIES[0]), expected);
    assert_eq!(strata_one(&other, "PRAGMA journal_mode").unwrap(), "delete");

    // The file alone, copied elsewhere, is a complete database for SQLite.
    let alone = tempfile::tempdir().unwrap();
    let copy = alone.path().join("copy.db");
    std::fs::copy(&path, &copy).unwrap();
    {
        let sq = rusqlite::Connection::open(&copy).unwrap();
        assert_eq!(sqlite_one(&sq, "PRAGMA journal_mode").unwrap(), "delete");
        assert_eq!(sqlite_one(&sq, "PRAGMA integrity_check").unwrap(), "ok");
        assert_eq!(sqlite_rows(&sq, CHECK_QUERIES[0]), expected);
    }

    // A write switches back to WAL (Strata has no rollback-journal writer).
    conn.execute_batch("INSERT INTO t(b) VALUES ('after delete')")
        .unwrap();
    assert_eq!(strata_one(&other, "PRAGMA journal_mode").unwrap(), "wal");
    assert!(dir.path().join("w.db-wal").exists(), "a new WAL");
    // And back and forth by pragma, as SQLite answers.
    for sql in [
        "PRAGMA journal_mode = DELETE",
        "PRAGMA journal_mode = WAL",
        "PRAGMA journal_mode",
        "PRAGMA journal_mode = DELETE",
    ] {
        assert_eq!(strata_one(&conn, sql), sqlite_one(&sq, sql), "{sql}");
    }
    let rows = strata_rows(&conn, CHECK_QUERIES[0]);
    assert_eq!(rows.len(), expected.len() + 1);
    drop(conn);
    drop(other);
    drop(db);
    let back = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(sqlite_one(&back, "PRAGMA journal_mode").unwrap(), "delete");
    assert_eq!(sqlite_one(&back, "PRAGMA integrity_check").unwrap(), "ok");
    assert_eq!(sqlite_rows(&back, CHECK_QUERIES[0]), rows);
    drop(back);

    // Reopened by Strata and written: WAL again, and SQLite agrees.
    let db = Database::open(&path).unwrap();
    let conn = db.connect();
    assert_eq!(strata_one(&conn, "PRAGMA journal_mode").unwrap(), "delete");
    conn.execute_batch("INSERT INTO t(b) VALUES ('by strata')")
        .unwrap();
    assert_eq!(strata_one(&conn, "PRAGMA journal_mode").unwrap(), "wal");
    let rows = strata_rows(&conn, CHECK_QUERIES[0]);
    drop(conn);
    drop(db);
    let sq = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(sqlite_one(&sq, "PRAGMA journal_mode").unwrap(), "wal");
    assert_eq!(sqlite_one(&sq, "PRAGMA integrity_check").unwrap(), "ok");
    assert_eq!(sqlite_rows(&sq, CHECK_QUERIES[0]), rows);
}

/// A database whose schema Strata cannot load (here a virtual table) is refused at its
/// first statement; opening it changed nothing on disk.
#[test]
fn unloadable_schemas_leave_the_directory_untouched() {
    for journal in ["DELETE", "WAL"] {
        let (dir, path) = sqlite_db(&format!(
            "PRAGMA journal_mode={journal}; {CONTENT} \
             CREATE VIRTUAL TABLE k USING rtree(id, x0, x1); INSERT INTO k VALUES (1, 2, 3);"
        ));
        let before = dir_state(dir.path());
        std::thread::sleep(std::time::Duration::from_millis(20));
        {
            let db = Database::open(&path).unwrap();
            let err = strata_one(&db.connect(), "SELECT * FROM t").unwrap_err();
            assert!(err.contains("virtual table"), "{journal}: {err}");
            let err = db
                .connect()
                .execute_batch("INSERT INTO t(b) VALUES ('x')")
                .unwrap_err();
            assert!(
                err.to_string().contains("virtual table"),
                "{journal}: {err}"
            );
        }
        let after = dir_state(dir.path());
        assert!(
            before == after,
            "journal_mode={journal}: the refused database's directory changed:\n before {:?}\n after  {:?}",
            describe(&before),
            describe(&after)
        );
    }
}

/// The rollback and the switch to rollback mode are resumable: the same on IO that
/// completes nothing until driven, in a shuffled order.
#[test]
fn hot_journal_and_mode_switch_on_deferred_io() {
    use std::sync::Arc;
    use strata::io::MemoryIo;

    let (dir, path) = sqlite_db(&format!(
        "PRAGMA page_size=1024; PRAGMA journal_mode=DELETE; {}",
        populate_sql(300)
    ));
    let expected: Vec<_> = {
        let sq = rusqlite::Connection::open(&path).unwrap();
        CHECK_QUERIES[..3]
            .iter()
            .map(|q| sqlite_rows(&sq, q))
            .collect()
    };
    let journal = crash_sqlite_mid_transaction(&path, CRASHED_TX);
    let crashed = std::fs::read(&path).unwrap();
    let reference = dir.path().join("reference.db");
    std::fs::write(&reference, &crashed).unwrap();
    std::fs::write(format!("{}-journal", reference.display()), &journal).unwrap();
    rusqlite::Connection::open(&reference)
        .unwrap()
        .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
        .unwrap();
    let rolled_back = std::fs::read(&reference).unwrap();

    for seed in [None, Some(1), Some(2)] {
        let what = format!("deferred IO, shuffle seed {seed:?}");
        let io = Arc::new(match seed {
            None => MemoryIo::new_deferred(),
            Some(s) => MemoryIo::new_shuffled(s),
        });
        io.set_file_contents("m.db", crashed.clone());
        io.set_file_contents("m.db-journal", journal.clone());
        let db = Database::open_with_io("m.db", io.clone()).unwrap();
        assert!(
            io.file_contents("m.db-journal").is_none(),
            "{what}: journal deleted"
        );
        assert!(
            io.file_contents("m.db").unwrap() == rolled_back,
            "{what}: the rolled-back file differs from SQLite's rollback"
        );
        let conn = db.connect();
        for (sql, rows) in CHECK_QUERIES[..3].iter().zip(&expected) {
            assert_eq!(&strata_rows(&conn, sql), rows, "{what}: {sql}");
        }
        conn.execute_batch("INSERT INTO t(b) VALUES ('after')")
            .unwrap();
        let after = strata_rows(&conn, CHECK_QUERIES[0]);
        assert_eq!(
            strata_one(&conn, "PRAGMA journal_mode = DELETE").unwrap(),
            "delete",
            "{what}"
        );
        assert!(
            io.file_contents("m.db-wal").is_none(),
            "{what}: WAL removed"
        );
        let bytes = io.file_contents("m.db").unwrap();
        assert_eq!(&bytes[18..20], &[1, 1], "{what}");
        // Back to WAL by pragma, out again, and back by a write.
        for (sql, mode) in [
            ("PRAGMA journal_mode = WAL", "wal"),
            ("PRAGMA journal_mode = DELETE", "delete"),
        ] {
            assert_eq!(strata_one(&conn, sql).unwrap(), mode, "{what}: {sql}");
        }
        conn.execute_batch("INSERT INTO t(b) VALUES ('after delete')")
            .unwrap();
        assert_eq!(strata_one(&conn, "PRAGMA journal_mode").unwrap(), "wal");
        let after_write = strata_rows(&conn, CHECK_QUERIES[0]);
        assert_eq!(after_write.len(), after.len() + 1, "{what}");
        drop(conn);
        drop(db);
        // The single file is a complete database for SQLite.
        let out = dir.path().join(format!("out-{}.db", seed.unwrap_or(0)));
        std::fs::write(&out, bytes).unwrap();
        let sq = rusqlite::Connection::open(&out).unwrap();
        assert_eq!(sqlite_one(&sq, "PRAGMA journal_mode").unwrap(), "delete");
        assert_eq!(sqlite_one(&sq, "PRAGMA integrity_check").unwrap(), "ok");
        assert_eq!(sqlite_rows(&sq, CHECK_QUERIES[0]), after, "{what}");
    }
}

/// `PRAGMA journal_mode=WAL` commits page 1; with an autocheckpoint threshold of one
/// frame that commit also checkpoints, on IO that completes nothing until driven.
#[test]
fn journal_mode_wal_with_an_automatic_checkpoint_on_deferred_io() {
    use std::sync::Arc;
    use strata::io::MemoryIo;
    for seed in [None, Some(3)] {
        let io = Arc::new(match seed {
            None => MemoryIo::new_deferred(),
            Some(s) => MemoryIo::new_shuffled(s),
        });
        let db = strata::OpenOptions::new()
            .io(io.clone())
            .autocheckpoint_frames(1)
            .open("a.db")
            .unwrap();
        let conn = db.connect();
        conn.execute_batch(&populate_sql(50)).unwrap();
        let rows = strata_rows(&conn, CHECK_QUERIES[0]);
        for (sql, mode) in [
            ("PRAGMA journal_mode = DELETE", "delete"),
            ("PRAGMA journal_mode = WAL", "wal"),
            ("PRAGMA journal_mode = DELETE", "delete"),
            ("PRAGMA journal_mode", "delete"),
        ] {
            assert_eq!(strata_one(&conn, sql).unwrap(), mode, "{seed:?}: {sql}");
        }
        conn.execute_batch("INSERT INTO t(b) VALUES ('x')").unwrap();
        assert_eq!(strata_one(&conn, "PRAGMA journal_mode").unwrap(), "wal");
        assert_eq!(strata_rows(&conn, CHECK_QUERIES[0]).len(), rows.len() + 1);
        assert_eq!(
            strata_one(&conn, "PRAGMA integrity_check").unwrap(),
            "ok",
            "{seed:?}"
        );
    }
}

/// Random damage (bytes flipped anywhere, cuts anywhere) to a real hot journal: Strata's
/// rollback leaves the same files, byte for byte, as SQLite's.
#[test]
fn randomly_damaged_hot_journals_roll_back_exactly_like_sqlite() {
    let (_dir, path) = sqlite_db(&format!(
        "PRAGMA page_size=512; PRAGMA journal_mode=DELETE; {}",
        populate_sql(150)
    ));
    let journal = crash_sqlite_mid_transaction(&path, CRASHED_TX);
    let crashed = std::fs::read(&path).unwrap();
    // xorshift64*: a fixed, dependency-free sequence.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |bound: usize| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_f491_4f6c_dd1d) % bound as u64) as usize
    };
    let mut differ_from_crashed = 0;
    for case in 0..120 {
        let mut j = journal.clone();
        // Damage near the start (headers, first records) more often than far away.
        let span = if case % 2 == 0 {
            4096.min(j.len())
        } else {
            j.len()
        };
        for _ in 0..1 + next(3) {
            let at = next(span);
            j[at] ^= 1 + next(255) as u8;
        }
        if case % 3 == 0 {
            j.truncate(next(j.len()) + 1);
        }
        let mut results = Vec::new();
        for side in ["sqlite", "strata"] {
            let d = tempfile::tempdir().unwrap();
            let p = place(d.path(), &crashed, &j);
            if side == "sqlite" {
                let conn = rusqlite::Connection::open(&p).unwrap();
                let _ = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| {
                    r.get::<_, i64>(0)
                });
            } else {
                let _ = Database::open(&p);
            }
            let journal_left = d.path().join("test.db-journal").exists();
            results.push((std::fs::read(&p).unwrap(), journal_left));
        }
        assert_eq!(results[0].1, results[1].1, "case {case}: journal left");
        assert!(
            results[0].0 == results[1].0,
            "case {case}: the database files differ after rollback"
        );
        differ_from_crashed += (results[1].0 != crashed) as usize;
    }
    assert!(
        differ_from_crashed > 30,
        "{differ_from_crashed} cases rolled back anything"
    );
}

/// A WAL whose commit frame claims 0xFFFFFFF0 pages over a 3-page database (SQLite wrote
/// the database; the log is the `wal_file` fuzz target's regression input, with a
/// self-linked overflow page under a 2 GB payload). Reads fail as corrupt, integrity_check
/// answers with at most its error limit (it allocated a byte per claimed page and a message
/// per page never used), and the checkpoint of the last close refuses the size instead of
/// extending the database file to 4 TiB, as SQLite's `walCheckpoint` does.
#[test]
fn wal_commit_frame_claiming_2_pow_32_pages_is_corrupt_not_huge() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let base = include_bytes!("../../../fuzz/fixtures/wal_base.db");
    std::fs::write(&path, base).unwrap();
    std::fs::write(
        dir.path().join("test.db-wal"),
        include_bytes!("../../../fuzz/regressions/wal_file/overflow_cycle_under_wal_db_size.wal"),
    )
    .unwrap();
    {
        let db = Database::open(&path).unwrap();
        let conn = db.connect();
        let err = strata_one(&conn, "SELECT length(c) FROM t").unwrap_err();
        assert!(err.contains("malformed"), "{err}");
        let check = strata_one(&conn, "PRAGMA integrity_check").unwrap();
        assert!(
            check.lines().count() <= 101,
            "{} lines",
            check.lines().count()
        );
        assert_ne!(check, "ok");
        let check = strata_one(&conn, "PRAGMA integrity_check(5)").unwrap();
        assert!(check.lines().count() <= 6, "{check}");
        let err = strata_one(&conn, "PRAGMA wal_checkpoint(TRUNCATE)").unwrap_err();
        assert!(err.contains("malformed"), "{err}");
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), base.len() as u64);
}
