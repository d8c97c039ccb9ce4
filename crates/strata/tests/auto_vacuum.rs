//! Auto-vacuum databases (issue 17): files SQLite made with `auto_vacuum=FULL` or
//! `INCREMENTAL` open in Strata and read exactly as in SQLite (same rows, same
//! `PRAGMA auto_vacuum`), our `PRAGMA integrity_check` verifies their pointer maps as
//! SQLite's does, and writes of every kind give the same answers as the same writes in
//! SQLite, leaving a file SQLite finds intact (see also `auto_vacuum_write.rs`), VACUUM
//! included (`vacuum.rs`).
//!
//! Every database here is made by SQLite itself (rusqlite, bundled).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata::{Connection, Database, ValueRef};

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

/// Writes of every kind: each runs on Strata and on SQLite (a copy) alike.
const WRITES: [&str; 13] = [
    "INSERT INTO t(b, c) VALUES ('new', zeroblob(5000))",
    "DELETE FROM t WHERE a < 50",
    "UPDATE t SET b = b || '!' WHERE a = 1",
    "UPDATE u SET x = 'short' WHERE rowid = 10",
    "CREATE TABLE n(a, b)",
    "CREATE INDEX tc ON t(c)",
    "DROP TABLE u",
    "DROP INDEX tb",
    "PRAGMA user_version = 7",
    "BEGIN; INSERT INTO n VALUES ('a', 1); COMMIT",
    "PRAGMA auto_vacuum = INCREMENTAL",
    "PRAGMA incremental_vacuum(2)",
    "PRAGMA incremental_vacuum",
];

fn sqlite_db(dir: &Path, name: &str, setup: &str) -> PathBuf {
    let path = dir.join(name);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(setup).unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    path
}

fn expected(path: &Path) -> Vec<Result<Vec<Vec<V>>, String>> {
    let sq = rusqlite::Connection::open(path).unwrap();
    QUERIES.iter().map(|q| sqlite_rows(&sq, q)).collect()
}

/// The queries' answers on `conn` (Strata) equal SQLite's on `theirs`.
fn same_answers(what: &str, conn: &Connection, theirs: &rusqlite::Connection) {
    for q in QUERIES {
        assert_eq!(strata_rows(conn, q), sqlite_rows(theirs, q), "{what}: {q}");
    }
    let ic = strata_rows(conn, "PRAGMA integrity_check").unwrap();
    assert_eq!(text(&ic), "ok", "{what}: our integrity_check");
}

/// Reads through Strata and compares with `want`; checks our integrity_check; runs every
/// write on Strata and on `theirs` (SQLite on a copy of the file) and compares again;
/// then VACUUM, also switching the mode to NONE, as in SQLite.
fn read_and_write(
    what: &str,
    conn: &Connection,
    theirs: &rusqlite::Connection,
    want: &[Result<Vec<Vec<V>>, String>],
) {
    for (q, rows) in QUERIES.iter().zip(want) {
        assert_eq!(&strata_rows(conn, q), rows, "{what}: {q}");
    }
    same_answers(what, conn, theirs);
    for w in WRITES {
        conn.execute_batch(w)
            .unwrap_or_else(|e| panic!("{what}: {w}: {e}"));
        theirs.execute_batch(w).unwrap();
        same_answers(&format!("{what}: after {w}"), conn, theirs);
    }
    // VACUUM rebuilds the file in its mode (crates/strata/tests/vacuum.rs has more).
    conn.execute_batch("VACUUM")
        .unwrap_or_else(|e| panic!("{what}: VACUUM: {e}"));
    theirs.execute_batch("VACUUM").unwrap();
    same_answers(&format!("{what}: after VACUUM"), conn, theirs);
    // A mode change on a database with tables waits for the next VACUUM, as in SQLite.
    conn.execute_batch("PRAGMA auto_vacuum = NONE").unwrap();
    theirs.execute_batch("PRAGMA auto_vacuum = NONE").unwrap();
    same_answers(&format!("{what}: at the end"), conn, theirs);
    conn.execute_batch("VACUUM").unwrap();
    theirs.execute_batch("VACUUM").unwrap();
    same_answers(&format!("{what}: after VACUUM to NONE"), conn, theirs);
}

/// A SQLite connection on a copy of `path` (closed database: no WAL beside it), in `dir`.
fn sqlite_copy(path: &Path, dir: &Path) -> rusqlite::Connection {
    let copy = dir.join("theirs.db");
    std::fs::copy(path, &copy).unwrap();
    rusqlite::Connection::open(copy).unwrap()
}

#[test]
fn auto_vacuum_files_read_and_write_like_sqlite() {
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
                let other = tempfile::tempdir().unwrap();
                let theirs = sqlite_copy(&path, other.path());
                {
                    let db = Database::open(&path).unwrap_or_else(|e| panic!("{what}: open: {e}"));
                    let conn = db.connect();
                    read_and_write(&what, &conn, &theirs, &want);
                }
                let sq = rusqlite::Connection::open(&path).unwrap();
                let ic: String = sq
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(ic, "ok", "{what}: SQLite's integrity_check afterwards");
                drop(sq);
                let theirs_now: Vec<_> = QUERIES.iter().map(|q| sqlite_rows(&theirs, q)).collect();
                assert_eq!(
                    expected(&path),
                    theirs_now,
                    "{what}: SQLite's rows afterwards"
                );
            }
        }
    }
}

/// The same on IO that completes nothing until driven, in order and shuffled: every read
/// and write path, the commit-time pointer-map work and page moves included, is
/// resumable.
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
        let bytes = std::fs::read(&path).unwrap();
        for seed in [None, Some(1), Some(2)] {
            let other = tempfile::tempdir().unwrap();
            let theirs = sqlite_copy(&path, other.path());
            let what = format!("auto_vacuum={mode} on deferred IO, shuffle seed {seed:?}");
            let io = Arc::new(match seed {
                None => MemoryIo::new_deferred(),
                Some(s) => MemoryIo::new_shuffled(s),
            });
            io.set_file_contents("m.db", bytes.clone());
            {
                let db = Database::open_with_io("m.db", io.clone()).unwrap();
                let conn = db.connect();
                read_and_write(&what, &conn, &theirs, &want);
                conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                    .unwrap();
            }
            // SQLite finds the file intact.
            let out = tempfile::tempdir().unwrap();
            let a = out.path().join("a.db");
            std::fs::write(&a, io.file_contents("m.db").unwrap()).unwrap();
            if let Some(wal) = io.file_contents("m.db-wal") {
                std::fs::write(out.path().join("a.db-wal"), wal).unwrap();
            }
            let sq = rusqlite::Connection::open(&a).unwrap();
            let ic: String = sq
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ic, "ok", "{what}: SQLite's integrity_check afterwards");
            for q in QUERIES {
                assert_eq!(sqlite_rows(&sq, q), sqlite_rows(&theirs, q), "{what}: {q}");
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
/// against SQLite: on a database without tables it sets the mode, on one with tables it
/// changes nothing (SQLite needs a VACUUM for that).
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
    // Before the first table the mode is SQLite's to set (offsets 52 and 64); once set
    // to full or incremental (SQLite then writes page 1) only that choice can change.
    let sequences: [&[&str]; 2] = [
        &["FULL", "incremental", "1", "2", "NONE", "INCREMENTAL", "0"],
        &["NONE", "0", "FULL", "NONE"],
    ];
    for sets in sequences {
        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = rusqlite::Connection::open(fresh_dir.path().join("f.db")).unwrap();
        let new_db = Database::open(fresh_dir.path().join("n.db")).unwrap();
        let new_conn = new_db.connect();
        for set in sets {
            let sql = format!("PRAGMA auto_vacuum = {set}");
            strata_rows(&new_conn, &sql).unwrap();
            sqlite_rows(&fresh, &sql).unwrap();
            assert_eq!(
                strata_rows(&new_conn, "PRAGMA auto_vacuum"),
                sqlite_rows(&fresh, "PRAGMA auto_vacuum"),
                "{sets:?}: {sql}"
            );
        }
        // The first table makes both files; SQLite finds ours intact and of the mode.
        for c in ["CREATE TABLE t(x)", "INSERT INTO t VALUES (zeroblob(9000))"] {
            new_conn.execute_batch(c).unwrap();
            fresh.execute_batch(c).unwrap();
        }
        drop(new_conn);
        drop(new_db);
        let ours = rusqlite::Connection::open(fresh_dir.path().join("n.db")).unwrap();
        for q in [
            "PRAGMA integrity_check",
            "PRAGMA auto_vacuum",
            "SELECT length(x) FROM t",
        ] {
            assert_eq!(
                sqlite_rows(&ours, q),
                sqlite_rows(&fresh, q),
                "{sets:?}: {q}"
            );
        }
    }
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
/// pointer maps there, writes as SQLite does, and can hand the file back as a single file.
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
        // SQLite's view of the same pair of files, from a copy (kept for the writes).
        let copy = tempfile::tempdir().unwrap();
        std::fs::copy(&path, copy.path().join("av.db")).unwrap();
        std::fs::copy(dir.path().join("av.db-wal"), copy.path().join("av.db-wal")).unwrap();
        let want = expected(&copy.path().join("av.db"));
        let theirs = rusqlite::Connection::open(copy.path().join("av.db")).unwrap();
        {
            let db = Database::open(&path).unwrap_or_else(|e| panic!("{what}: {e}"));
            let conn = db.connect();
            for (q, rows) in QUERIES.iter().zip(&want) {
                assert_eq!(&strata_rows(&conn, q), rows, "{what}: {q}");
            }
            let ic = strata_rows(&conn, "PRAGMA integrity_check").unwrap();
            assert_eq!(text(&ic), "ok", "{what}: our integrity_check");
            // A write, the same on a SQLite copy.
            conn.execute_batch("DELETE FROM t WHERE a < 20").unwrap();
            theirs.execute_batch("DELETE FROM t WHERE a < 20").unwrap();
            let want: Vec<_> = QUERIES.iter().map(|q| sqlite_rows(&theirs, q)).collect();
            for (q, rows) in QUERIES.iter().zip(&want) {
                assert_eq!(&strata_rows(&conn, q), rows, "{what}: after a delete: {q}");
            }
            // Back to a single rollback-journal file: the WAL's pages go into the file
            // (a checkpoint) and bytes 18/19 become 1; no page is changed otherwise.
            assert_eq!(
                text(&strata_rows(&conn, "PRAGMA journal_mode = DELETE").unwrap()),
                "delete",
                "{what}"
            );
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
        let want: Vec<_> = QUERIES.iter().map(|q| sqlite_rows(&theirs, q)).collect();
        assert_eq!(expected(&path), want, "{what}: SQLite's rows afterwards");
    }
}
