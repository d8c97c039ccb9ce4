//! `VACUUM` (issue 17: the auto-vacuum mode is settable by VACUUM, and VACUUM must not be
//! a silent no-op): Strata rebuilds the database like SQLite. For files SQLite made, in
//! every auto-vacuum mode, text encoding and a few page sizes, after deletes that leave
//! free pages: Strata's VACUUM leaves no free page, the same rows and schema SQL as
//! SQLite's own VACUUM of a copy, user_version and application_id kept, a new schema
//! cookie, and a file SQLite finds intact and keeps writing. A `PRAGMA auto_vacuum`
//! issued on a database with tables is applied by the next VACUUM, as in SQLite.

mod common;

use std::path::{Path, PathBuf};

use common::{same_on, sqlite_rows, strata_rows, V};
use strata::Database;

fn populate() -> String {
    let mut sql = String::from(
        "PRAGMA user_version = 77; PRAGMA application_id = 1234; BEGIN; \
         CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB); CREATE INDEX tb ON t(b); \
         CREATE TABLE s(x TEXT PRIMARY KEY, y) ; CREATE TABLE z(q INTEGER PRIMARY KEY AUTOINCREMENT, r); \
         CREATE VIEW v AS SELECT a, b FROM t WHERE a % 2 = 0; \
         CREATE TRIGGER tr AFTER INSERT ON z BEGIN UPDATE s SET y = y + 1 WHERE x = 'k1'; END;",
    );
    for i in 0..300 {
        let blob = if i % 11 == 0 { 5000 } else { i % 50 };
        let text = ["é", "Ā", "a", "日本"][i % 4].repeat(i % 20);
        sql.push_str(&format!(
            "INSERT INTO t VALUES ({i}, 'r{i}{text}', zeroblob({blob})); \
             INSERT INTO s VALUES ('k{i}', {i}); INSERT INTO z(r) VALUES ({i});"
        ));
    }
    sql.push_str("COMMIT; DELETE FROM t WHERE a % 3 <> 0; DELETE FROM s WHERE y > 100;");
    sql
}

fn sqlite_db(dir: &Path, setup: &str) -> PathBuf {
    let path = dir.join("test.db");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(setup).unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    path
}

fn one_int(c: &rusqlite::Connection, sql: &str) -> i64 {
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

const CHECKS: [&str; 6] = [
    "SELECT a, b, length(c) FROM t ORDER BY a",
    "SELECT x, y FROM s ORDER BY x",
    "SELECT q, r FROM z ORDER BY q",
    "SELECT name, seq FROM sqlite_sequence",
    "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name",
    "SELECT * FROM v ORDER BY a",
];

#[test]
fn vacuum_rebuilds_like_sqlite() {
    for mode in ["NONE", "FULL", "INCREMENTAL"] {
        for enc in ["UTF-8", "UTF-16le"] {
            for page_size in [512, 4096] {
                let what = format!("auto_vacuum={mode}, {enc}, page_size={page_size}");
                let dir = tempfile::tempdir().unwrap();
                let path = sqlite_db(
                    dir.path(),
                    &format!(
                        "PRAGMA encoding='{enc}'; PRAGMA page_size={page_size}; \
                         PRAGMA auto_vacuum={mode}; PRAGMA journal_mode=WAL; {}",
                        populate()
                    ),
                );
                let ref_dir = tempfile::tempdir().unwrap();
                let ref_path = ref_dir.path().join("ref.db");
                std::fs::copy(&path, &ref_path).unwrap();
                let (pages_before, cookie_before) = {
                    let c = rusqlite::Connection::open(&path).unwrap();
                    let free = one_int(&c, "PRAGMA freelist_count");
                    if mode != "FULL" {
                        assert!(free > 0, "{what}: the deletes must leave free pages");
                    }
                    (
                        one_int(&c, "PRAGMA page_count"),
                        one_int(&c, "PRAGMA schema_version"),
                    )
                };
                let theirs = rusqlite::Connection::open(&ref_path).unwrap();
                {
                    let db = Database::open(&path).unwrap();
                    let ours = db.connect();
                    same_on(&ours, &theirs, "VACUUM", true);
                    // Statements compiled again against the new roots give the same answers.
                    for q in CHECKS {
                        same_on(&ours, &theirs, q, true);
                    }
                    same_on(
                        &ours,
                        &theirs,
                        "SELECT b FROM t WHERE b > 'r2' ORDER BY b LIMIT 5;\n\
                         INSERT INTO z(r) VALUES (1000);\n\
                         SELECT y FROM s WHERE x = 'k1';\n\
                         PRAGMA integrity_check;\n\
                         PRAGMA freelist_count",
                        true,
                    );
                }
                let back = rusqlite::Connection::open(&path).unwrap();
                let ic: String = back
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(ic, "ok", "{what}: SQLite's integrity_check after VACUUM");
                assert_eq!(one_int(&back, "PRAGMA freelist_count"), 0, "{what}");
                assert!(
                    one_int(&back, "PRAGMA page_count") < pages_before,
                    "{what}: VACUUM must shrink the file"
                );
                assert!(one_int(&back, "PRAGMA schema_version") > cookie_before);
                for q in CHECKS {
                    assert_eq!(
                        sqlite_rows(&back, q),
                        sqlite_rows(&theirs, q),
                        "{what}: {q}"
                    );
                }
                for q in [
                    "PRAGMA user_version",
                    "PRAGMA application_id",
                    "PRAGMA auto_vacuum",
                    "PRAGMA encoding",
                    "PRAGMA page_size",
                ] {
                    assert_eq!(
                        sqlite_rows(&back, q),
                        sqlite_rows(&theirs, q),
                        "{what}: {q}"
                    );
                }
                // SQLite keeps writing the vacuumed file.
                back.execute_batch(
                    "INSERT INTO t SELECT a + 10000, b, c FROM t; DELETE FROM s; \
                     CREATE TABLE after(x); PRAGMA incremental_vacuum;",
                )
                .unwrap();
                let ic: String = back
                    .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(ic, "ok", "{what}: after SQLite's writes");
                eprintln!("{what}: ok");
            }
        }
    }
}

/// `PRAGMA auto_vacuum` on a database with tables changes nothing by itself, and the next
/// VACUUM rebuilds the file in the new mode, both ways, as SQLite does.
#[test]
fn vacuum_applies_a_pending_auto_vacuum_mode() {
    for (from, to, want) in [
        ("NONE", "FULL", 1),
        ("NONE", "INCREMENTAL", 2),
        ("FULL", "NONE", 0),
        ("INCREMENTAL", "NONE", 0),
    ] {
        let what = format!("{from} -> {to}");
        let dir = tempfile::tempdir().unwrap();
        let path = sqlite_db(
            dir.path(),
            &format!(
                "PRAGMA auto_vacuum={from}; PRAGMA journal_mode=WAL; {}",
                populate()
            ),
        );
        let ref_dir = tempfile::tempdir().unwrap();
        let ref_path = ref_dir.path().join("ref.db");
        std::fs::copy(&path, &ref_path).unwrap();
        let theirs = rusqlite::Connection::open(&ref_path).unwrap();
        {
            let db = Database::open(&path).unwrap();
            let ours = db.connect();
            same_on(
                &ours,
                &theirs,
                &format!(
                    "PRAGMA auto_vacuum = {to};\nPRAGMA auto_vacuum;\nVACUUM;\nPRAGMA auto_vacuum"
                ),
                true,
            );
            assert_eq!(
                strata_rows(&ours, "PRAGMA auto_vacuum").unwrap(),
                vec![vec![V::Int(want)]],
                "{what}"
            );
            same_on(
                &ours,
                &theirs,
                "DELETE FROM t WHERE a < 150;\nPRAGMA incremental_vacuum;\nPRAGMA integrity_check",
                false,
            );
        }
        let back = rusqlite::Connection::open(&path).unwrap();
        assert_eq!(one_int(&back, "PRAGMA auto_vacuum"), want, "{what}");
        let ic: String = back
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ic, "ok", "{what}");
        if want != 0 {
            assert_eq!(one_int(&back, "PRAGMA freelist_count"), 0, "{what}");
        }
        for q in CHECKS {
            assert_eq!(
                sqlite_rows(&back, q),
                sqlite_rows(&theirs, q),
                "{what}: {q}"
            );
        }
    }
}

/// SQLite's refusals, with its messages; and VACUUM of the temp database or in a new
/// empty database.
#[test]
fn vacuum_refusals_and_edge_cases() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("e.db")).unwrap();
    let ours = db.connect();
    let theirs = rusqlite::Connection::open(dir.path().join("theirs.db")).unwrap();
    same_on(
        &ours,
        &theirs,
        "VACUUM;\nVACUUM main;\nVACUUM temp;\nVACUUM nosuch;\nCREATE TABLE t(x);\n\
         INSERT INTO t VALUES (1), (2);\nBEGIN;\nVACUUM;\nROLLBACK;\nVACUUM;\nSELECT * FROM t",
        true,
    );
    // Another statement of the connection still running.
    let mut stmt = ours.prepare("SELECT x FROM t").unwrap();
    let mut rows = stmt.query(()).unwrap();
    assert!(rows.next().unwrap().is_some());
    let err = ours.execute_batch("VACUUM").unwrap_err().to_string();
    assert!(
        err.contains("cannot VACUUM - SQL statements in progress"),
        "{err}"
    );
}
