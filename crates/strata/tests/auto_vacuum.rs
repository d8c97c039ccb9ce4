//! Auto-vacuum databases (issue 17): files SQLite made with `auto_vacuum=FULL` or
//! `INCREMENTAL` open in Strata and read exactly as in SQLite (same rows, same
//! `PRAGMA auto_vacuum`), our `PRAGMA integrity_check` verifies their pointer maps as
//! SQLite's does, and every write is refused with a clear error before any byte is written:
//! Strata does not maintain pointer maps yet, and a stale pointer map is a corrupt file.
//! After all that, the directory is byte-for-byte unchanged and SQLite finds the file intact.
//!
//! Every database here is made by SQLite itself (rusqlite, bundled).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use strata::{Connection, Database, ValueRef};

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

#[derive(Debug, PartialEq, Clone)]
enum V {
    Null,
    Int(i64),
    Real(u64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

fn strata_rows(conn: &Connection, sql: &str) -> Result<Vec<Vec<V>>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let mut rows = stmt.query(()).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
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
    Ok(out)
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Result<Vec<Vec<V>>, String> {
    use rusqlite::types::ValueRef as R;
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
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
    Ok(out)
}

fn text(rows: &[Vec<V>]) -> String {
    rows.iter()
        .map(|r| match &r[0] {
            V::Text(t) => String::from_utf8_lossy(t).into_owned(),
            other => format!("{other:?}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Several tables and indexes, rows with overflow chains (in tables and in an index),
/// deletes that free pages (FULL moves them to the end and truncates; INCREMENTAL keeps
/// them on the freelist), and a dropped table.
fn content_sql(page_size: usize) -> String {
    let big = page_size * 2 + 100;
    format!(
        "BEGIN;
         CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB);
         CREATE INDEX tb ON t(b);
         CREATE TABLE u(x TEXT, y);
         CREATE INDEX uy ON u(y, x);
         CREATE TABLE gone(z);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
         INSERT INTO t SELECT i, printf('row %d %.*c', i, i % 50, 'x'),
             CASE WHEN i % 5 = 0 THEN randomblob({big}) ELSE randomblob(i % 97) END FROM n;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150)
         INSERT INTO u SELECT printf('%.*c', CASE WHEN i % 10 = 0 THEN {idx_big} ELSE i END, 'u'),
             i * 7 % 31 FROM n;
         INSERT INTO gone SELECT randomblob(300) FROM t;
         COMMIT;
         DELETE FROM t WHERE a % 3 = 0;
         DELETE FROM u WHERE rowid > 100;
         DROP TABLE gone;",
        idx_big = page_size + 10,
    )
}

const QUERIES: [&str; 7] = [
    "SELECT a, b, c FROM t ORDER BY a",
    "SELECT b, a FROM t ORDER BY b, a",
    "SELECT rowid, x, y FROM u ORDER BY rowid",
    "SELECT y, x FROM u WHERE y > 3 ORDER BY y, x",
    "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY name",
    "SELECT count(*), sum(length(c)) FROM t",
    "PRAGMA auto_vacuum",
];

/// Writes of every kind, each of which must be refused before anything changes.
const WRITES: [&str; 12] = [
    "INSERT INTO t(b, c) VALUES ('new', randomblob(5000))",
    "DELETE FROM t WHERE a < 50",
    "UPDATE t SET b = b || '!' WHERE a = 1",
    "UPDATE u SET x = 'short' WHERE rowid = 10",
    "CREATE TABLE n(a, b)",
    "CREATE INDEX tc ON t(c)",
    "DROP TABLE u",
    "DROP INDEX tb",
    "PRAGMA user_version = 7",
    "BEGIN; INSERT INTO u VALUES ('a', 1); COMMIT",
    "PRAGMA auto_vacuum = INCREMENTAL",
    "VACUUM",
];

fn sqlite_db(dir: &Path, name: &str, setup: &str) -> PathBuf {
    let path = dir.join(name);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(setup).unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    path
}

fn free_pages(path: &Path) -> bool {
    let sq = rusqlite::Connection::open(path).unwrap();
    sq.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0))
        .unwrap()
        > 0
}

fn expected(path: &Path) -> Vec<Result<Vec<Vec<V>>, String>> {
    let sq = rusqlite::Connection::open(path).unwrap();
    QUERIES.iter().map(|q| sqlite_rows(&sq, q)).collect()
}

/// Reads through Strata and compares with `want`; checks our integrity_check; tries every
/// write and expects a refusal naming auto-vacuum; then the session still reads the same.
fn read_and_refuse(
    what: &str,
    conn: &Connection,
    want: &[Result<Vec<Vec<V>>, String>],
    has_free_pages: bool,
) {
    for (q, rows) in QUERIES.iter().zip(want) {
        assert_eq!(&strata_rows(conn, q), rows, "{what}: {q}");
    }
    let ic = strata_rows(conn, "PRAGMA integrity_check").unwrap();
    assert_eq!(text(&ic), "ok", "{what}: our integrity_check");
    for w in WRITES {
        let err = conn.execute_batch(w).expect_err(&format!(
            "{what}: {w}: a write to an auto-vacuum database must be refused"
        ));
        let msg = err.to_string();
        assert!(
            msg.contains("auto-vacuum") && msg.contains("sqlite3"),
            "{what}: {w}: refusal message {msg:?}"
        );
        // An explicit transaction left open by the refused statement is rolled back.
        let _ = conn.execute_batch("ROLLBACK");
    }
    // incremental_vacuum would move pages when there are free ones in incremental mode;
    // otherwise SQLite does nothing, and neither do we.
    let av = &want[6];
    let incremental = av == &Ok(vec![vec![V::Int(2)]]);
    for sql in ["PRAGMA incremental_vacuum", "PRAGMA incremental_vacuum(2)"] {
        match conn.execute_batch(sql) {
            Ok(()) => assert!(!incremental || !has_free_pages, "{what}: {sql} pretended"),
            Err(e) => {
                assert!(incremental && has_free_pages, "{what}: {sql}: {e}");
                assert!(e.to_string().contains("auto-vacuum"), "{what}: {sql}: {e}");
            }
        }
    }
    // A no-op setting behaves as SQLite's (applied only by a VACUUM).
    conn.execute_batch("PRAGMA auto_vacuum = NONE").unwrap();
    for (q, rows) in QUERIES.iter().zip(want) {
        assert_eq!(
            &strata_rows(conn, q),
            rows,
            "{what}: after the refusals: {q}"
        );
    }
}

#[test]
fn auto_vacuum_files_read_like_sqlite_and_refuse_writes_untouched() {
    for mode in ["FULL", "INCREMENTAL"] {
        for page_size in [512usize, 4096, 65536] {
            let journals: &[&str] = if page_size == 4096 {
                &["DELETE", "WAL"]
            } else {
                &["DELETE"]
            };
            for journal in journals {
                let what = format!("auto_vacuum={mode} page_size={page_size} journal={journal}");
                let dir = tempfile::tempdir().unwrap();
                let path = sqlite_db(
                    dir.path(),
                    "av.db",
                    &format!(
                        "PRAGMA page_size={page_size}; PRAGMA auto_vacuum={mode}; \
                         PRAGMA journal_mode={journal}; {}",
                        content_sql(page_size)
                    ),
                );
                let want = expected(&path);
                let av = if mode == "FULL" { 1 } else { 2 };
                assert_eq!(
                    want[6],
                    Ok(vec![vec![V::Int(av)]]),
                    "{what}: setup: SQLite's auto_vacuum"
                );
                if mode == "INCREMENTAL" {
                    let sq = rusqlite::Connection::open(&path).unwrap();
                    let free: i64 = sq
                        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
                        .unwrap();
                    assert!(free > 0, "{what}: setup: the deletes left free pages");
                }
                let free = free_pages(&path);
                let before = dir_state(dir.path());
                std::thread::sleep(std::time::Duration::from_millis(20));
                {
                    let db = Database::open(&path).unwrap_or_else(|e| panic!("{what}: open: {e}"));
                    let conn = db.connect();
                    read_and_refuse(&what, &conn, &want, free);
                }
                assert!(
                    before == dir_state(dir.path()),
                    "{what}: the directory changed"
                );
                let sq = rusqlite::Connection::open(&path).unwrap();
                let ic: String = sq
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(ic, "ok", "{what}: SQLite's integrity_check afterwards");
                drop(sq);
                assert_eq!(expected(&path), want, "{what}: SQLite's rows afterwards");
            }
        }
    }
}

/// The same on IO that completes nothing until driven, in order and shuffled: every read
/// path and every refusal is resumable.
#[test]
fn auto_vacuum_on_deferred_io() {
    use strata::io::MemoryIo;
    for mode in ["FULL", "INCREMENTAL"] {
        let dir = tempfile::tempdir().unwrap();
        let path = sqlite_db(
            dir.path(),
            "av.db",
            &format!(
                "PRAGMA page_size=1024; PRAGMA auto_vacuum={mode}; PRAGMA journal_mode=DELETE; {}",
                content_sql(1024)
            ),
        );
        let want = expected(&path);
        let free = free_pages(&path);
        let bytes = std::fs::read(&path).unwrap();
        for seed in [None, Some(1), Some(2)] {
            let what = format!("auto_vacuum={mode} on deferred IO, shuffle seed {seed:?}");
            let io = Arc::new(match seed {
                None => MemoryIo::new_deferred(),
                Some(s) => MemoryIo::new_shuffled(s),
            });
            io.set_file_contents("m.db", bytes.clone());
            {
                let db = Database::open_with_io("m.db", io.clone()).unwrap();
                let conn = db.connect();
                read_and_refuse(&what, &conn, &want, free);
            }
            assert!(
                io.file_contents("m.db").unwrap() == bytes,
                "{what}: the file changed"
            );
            for other in ["m.db-wal", "m.db-journal", "m.db-shm"] {
                assert!(io.file_contents(other).is_none(), "{what}: {other} created");
            }
        }
    }
}

/// Our integrity_check finds a damaged pointer map as SQLite's does, with SQLite's words.
#[test]
fn integrity_check_verifies_pointer_maps_as_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let good = sqlite_db(
        dir.path(),
        "good.db",
        &format!(
            "PRAGMA page_size=1024; PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=DELETE; {}",
            content_sql(1024)
        ),
    );
    let bytes = std::fs::read(&good).unwrap();
    let page_count = bytes.len() / 1024;
    // Damage entries on the first pointer-map page (page 2): each entry is 5 bytes at
    // 1024 + 5 * (page - 3). A parent changed, a type changed, a type made invalid.
    type Damage = Box<dyn Fn(&mut [u8])>;
    // 1024-byte pages: a map page covers the next 205 pages; maps are pages 2, 207, 412...
    let entry_offset = |page: usize| {
        let map = (page - 2) / 205 * 205 + 2;
        map * 1024 - 1024 + 5 * (page - map - 1)
    };
    let mut damages: Vec<(&str, usize, Damage)> = vec![
        ("parent of page 3", 3, Box::new(|e: &mut [u8]| e[4] ^= 1)),
        (
            "type of page 4",
            4,
            Box::new(|e: &mut [u8]| e[0] = if e[0] == 5 { 3 } else { 5 }),
        ),
        (
            "invalid type of page 5",
            5,
            Box::new(|e: &mut [u8]| e[0] = 9),
        ),
        (
            "a later page's entry",
            page_count.min(150),
            Box::new(|e: &mut [u8]| e[1..5].copy_from_slice(&[0, 0, 1, 0])),
        ),
    ];
    assert!(
        page_count > 215,
        "setup: a second pointer-map page ({page_count} pages)"
    );
    damages.push((
        "an entry on the second map page",
        210,
        Box::new(|e: &mut [u8]| e[4] ^= 2),
    ));
    // Child pages (type 5: a left child or a right-most child) and later overflow pages
    // (type 4), found in the good file's maps: the first and the last of each.
    let is_map = |p: usize| (p - 2) % 205 == 0;
    let of_type = |t: u8| -> Vec<usize> {
        (3..=page_count)
            .filter(|&p| !is_map(p) && bytes[entry_offset(p)] == t)
            .collect()
    };
    let (children, later) = (of_type(5), of_type(4));
    assert!(
        children.len() > 1 && later.len() > 1,
        "setup: children and chains"
    );
    for page in [
        children[0],
        *children.last().unwrap(),
        later[0],
        *later.last().unwrap(),
    ] {
        damages.push((
            "a child or overflow entry",
            page,
            Box::new(|e: &mut [u8]| e[4] ^= 4),
        ));
    }
    for (what, page, damage) in damages {
        let mut damaged = bytes.clone();
        let off = entry_offset(page);
        damage(&mut damaged[off..off + 5]);
        let path = dir.path().join("damaged.db");
        std::fs::write(&path, &damaged).unwrap();
        let sq = rusqlite::Connection::open(&path).unwrap();
        let theirs = text(&sqlite_rows(&sq, "PRAGMA integrity_check").unwrap());
        drop(sq);
        let db = Database::open(&path).unwrap();
        let ours = text(&strata_rows(&db.connect(), "PRAGMA integrity_check").unwrap());
        drop(db);
        eprintln!("{what}:\n SQLite: {theirs:?}\n Strata: {ours:?}");
        assert_ne!(theirs, "ok", "{what}: setup: SQLite sees the damage");
        // The same lines, prefixes included (the order of trees may differ).
        let msgs = |s: &str| -> Vec<String> {
            let mut v: Vec<String> = s
                .lines()
                .filter(|l| l.contains("ptr map") || l.contains("ptrmap"))
                .map(str::to_string)
                .collect();
            v.sort();
            v
        };
        assert!(
            !msgs(&theirs).is_empty(),
            "{what}: SQLite reports the pointer map"
        );
        assert_eq!(msgs(&ours), msgs(&theirs), "{what}: pointer-map messages");
    }
    // The header's largest root page is checked too.
    let mut damaged = bytes.clone();
    damaged[52..56].copy_from_slice(&(page_count as u32 + 3).to_be_bytes());
    let path = dir.path().join("root.db");
    std::fs::write(&path, &damaged).unwrap();
    let sq = rusqlite::Connection::open(&path).unwrap();
    let theirs = text(&sqlite_rows(&sq, "PRAGMA integrity_check").unwrap());
    drop(sq);
    let db = Database::open(&path).unwrap();
    let ours = text(&strata_rows(&db.connect(), "PRAGMA integrity_check").unwrap());
    eprintln!("largest root:\n SQLite: {theirs:?}\n Strata: {ours:?}");
    let line = |s: &str| {
        s.lines()
            .find(|l| l.contains("max rootpage"))
            .map(str::to_string)
    };
    assert!(line(&theirs).is_some(), "setup: SQLite reports the header");
    assert_eq!(line(&ours), line(&theirs));
}

/// `PRAGMA auto_vacuum` on databases that are not auto-vacuum ones, statement by statement
/// against SQLite where SQLite's answer is one Strata can give; setting it on a new database
/// (which would make an auto-vacuum file Strata cannot write) is an error, not a pretence.
#[test]
fn auto_vacuum_pragma_on_other_databases() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let db = Database::open(&path).unwrap();
    let conn = db.connect();
    assert_eq!(
        text(&strata_rows(&conn, "PRAGMA auto_vacuum").unwrap()),
        "Int(0)"
    );
    for set in ["FULL", "incremental", "1", "2"] {
        let err = strata_rows(&conn, &format!("PRAGMA auto_vacuum = {set}")).unwrap_err();
        assert!(err.contains("auto-vacuum"), "{set}: {err}");
    }
    conn.execute_batch("PRAGMA auto_vacuum = NONE; PRAGMA auto_vacuum = 0")
        .unwrap();
    conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
        .unwrap();
    let sq_path = dir.path().join("q.db");
    let sq = rusqlite::Connection::open(&sq_path).unwrap();
    sq.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1)")
        .unwrap();
    // On a database with tables, SQLite changes nothing without a VACUUM.
    for sql in [
        "PRAGMA auto_vacuum",
        "PRAGMA auto_vacuum = FULL",
        "PRAGMA auto_vacuum",
        "PRAGMA auto_vacuum = INCREMENTAL",
        "PRAGMA auto_vacuum = 7",
        "PRAGMA auto_vacuum",
        "PRAGMA auto_vacuum = NONE",
        "PRAGMA auto_vacuum",
        "PRAGMA incremental_vacuum",
        "PRAGMA incremental_vacuum(3)",
        "VACUUM",
        "PRAGMA auto_vacuum",
        "SELECT x FROM t",
    ] {
        assert_eq!(strata_rows(&conn, sql), sqlite_rows(&sq, sql), "{sql}");
    }
    drop(conn);
    drop(db);
    let sq = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        text(&sqlite_rows(&sq, "PRAGMA integrity_check").unwrap()),
        "ok"
    );
    assert_eq!(
        text(&sqlite_rows(&sq, "PRAGMA auto_vacuum").unwrap()),
        "Int(0)"
    );
}

/// A WAL that SQLite left beside an auto-vacuum database (copied while its connection was
/// open, as a crash would leave it): Strata reads the pages through the WAL, verifies the
/// pointer maps there, refuses writes, and can hand the file back as a single file.
#[test]
fn auto_vacuum_with_sqlite_wal_and_journal_mode_switches() {
    for mode in ["FULL", "INCREMENTAL"] {
        let what = format!("auto_vacuum={mode} with a WAL");
        let src = tempfile::tempdir().unwrap();
        let src_path = src.path().join("av.db");
        let live = rusqlite::Connection::open(&src_path).unwrap();
        live.execute_batch(&format!(
            "PRAGMA page_size=1024; PRAGMA auto_vacuum={mode}; PRAGMA journal_mode=WAL; \
             PRAGMA wal_autocheckpoint=0; {}",
            content_sql(1024)
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("av.db");
        std::fs::copy(&src_path, &path).unwrap();
        std::fs::copy(src.path().join("av.db-wal"), dir.path().join("av.db-wal")).unwrap();
        drop(live);
        assert!(
            std::fs::metadata(dir.path().join("av.db-wal"))
                .unwrap()
                .len()
                > 0,
            "{what}: setup: the WAL holds the transactions"
        );
        // SQLite's view of the same pair of files, from a copy.
        let want = {
            let copy = tempfile::tempdir().unwrap();
            std::fs::copy(&path, copy.path().join("av.db")).unwrap();
            std::fs::copy(dir.path().join("av.db-wal"), copy.path().join("av.db-wal")).unwrap();
            expected(&copy.path().join("av.db"))
        };
        {
            let db = Database::open(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
            let conn = db.connect();
            for (q, rows) in QUERIES.iter().zip(&want) {
                assert_eq!(&strata_rows(&conn, q), rows, "{what}: {q}");
            }
            let ic = strata_rows(&conn, "PRAGMA integrity_check").unwrap();
            assert_eq!(text(&ic), "ok", "{what}: our integrity_check");
            let err = conn.execute_batch("DELETE FROM t").unwrap_err().to_string();
            assert!(err.contains("auto-vacuum"), "{what}: {err}");
            // Back to a single rollback-journal file: the WAL's pages go into the file
            // (a checkpoint) and bytes 18/19 become 1; no page is changed otherwise.
            assert_eq!(
                text(&strata_rows(&conn, "PRAGMA journal_mode = DELETE").unwrap()),
                "delete",
                "{what}"
            );
            // Switching to WAL writes page 1 through the pager: refused like any write.
            let err = conn
                .execute_batch("PRAGMA journal_mode = WAL")
                .unwrap_err()
                .to_string();
            assert!(err.contains("auto-vacuum"), "{what}: {err}");
            for (q, rows) in QUERIES.iter().zip(&want) {
                assert_eq!(
                    &strata_rows(&conn, q),
                    rows,
                    "{what}: after the switch: {q}"
                );
            }
        }
        assert!(
            !dir.path().join("av.db-wal").exists(),
            "{what}: the WAL is gone after the switch to DELETE"
        );
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[18..20], &[1, 1], "{what}");
        let sq = rusqlite::Connection::open(&path).unwrap();
        let ic: String = sq
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ic, "ok", "{what}: SQLite's integrity_check");
        drop(sq);
        assert_eq!(expected(&path), want, "{what}: SQLite's rows afterwards");
    }
}
