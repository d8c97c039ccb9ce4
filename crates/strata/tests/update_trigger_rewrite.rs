//! UPDATE (and an upsert's DO UPDATE) when a BEFORE UPDATE trigger changes the row being
//! updated, and which unique indexes an UPDATE checks. SQLite re-reads the columns SET
//! does not assign after the BEFORE triggers and rewrites index entries from the row as
//! it is then; Strata once kept the values read before the triggers, so it answered the
//! old values and left the trigger's index entries behind (a file SQLite's
//! `integrity_check` called corrupt: "row 1 missing from index", "wrong # of entries").
//! Each script runs on a Strata file and on rusqlite, statement by statement; then
//! SQLite checks the file Strata wrote.

mod common;

use common::{sqlite_rows, strata_rows};

fn check(name: &str, script: &str) {
    let dir = std::env::temp_dir().join(format!(
        "strata-update-trigger-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.db");
    {
        let ours = strata::Connection::open(&path).unwrap();
        let theirs = rusqlite::Connection::open_in_memory().unwrap();
        for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
            let a = strata_rows(&ours, sql);
            let b = sqlite_rows(&theirs, sql);
            assert_eq!(a, b, "{name}: results differ for: {sql}");
        }
        // Strata's own check agrees with SQLite's.
        let ok = vec![vec![common::V::Text(b"ok".to_vec())]];
        assert_eq!(
            strata_rows(&ours, "PRAGMA integrity_check").unwrap(),
            ok,
            "{name}: Strata's integrity_check"
        );
    }
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    let report: Vec<String> = sqlite
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(
        report,
        ["ok"],
        "{name}: SQLite's integrity_check of Strata's file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const SETUP: &str = "CREATE TABLE t(a INTEGER PRIMARY KEY, k UNIQUE, v, w);\n\
INSERT INTO t VALUES(1, 10, 0, 'x'), (2, 30, 0, 'y'), (3, 50, 0, 'z');\n";

#[test]
fn trigger_changes_an_unassigned_indexed_column() {
    check(
        "unassigned",
        &format!(
            "{SETUP}CREATE TRIGGER tr BEFORE UPDATE ON t WHEN old.a = 1 BEGIN \
             UPDATE t SET k = 20, w = 'trig' WHERE a = old.a; END;\n\
             UPDATE t SET v = 5;\n\
             SELECT * FROM t ORDER BY a;\n\
             SELECT k FROM t WHERE k = 20;\n\
             SELECT k FROM t WHERE k = 10;\n"
        ),
    );
}

#[test]
fn trigger_changes_an_assigned_indexed_column() {
    check(
        "assigned",
        &format!(
            "{SETUP}CREATE TRIGGER tr BEFORE UPDATE ON t WHEN old.a = 1 BEGIN \
             UPDATE t SET k = 20 WHERE a = old.a; END;\n\
             UPDATE t SET k = 40, v = 1 WHERE a = 1;\n\
             SELECT * FROM t ORDER BY a;\n\
             SELECT a FROM t WHERE k IN (10, 20, 40);\n"
        ),
    );
}

#[test]
fn trigger_changes_the_row_under_an_upsert() {
    check(
        "upsert",
        &format!(
            "{SETUP}CREATE TRIGGER tr BEFORE UPDATE ON t WHEN old.a = 1 BEGIN \
             UPDATE t SET k = 20 WHERE a = old.a; END;\n\
             INSERT INTO t VALUES(1, 99, 9, 'n') ON CONFLICT(a) DO UPDATE SET v = 7;\n\
             INSERT INTO t VALUES(9, 30, 9, 'n') ON CONFLICT(k) DO UPDATE SET v = excluded.v;\n\
             SELECT * FROM t ORDER BY a;\n\
             SELECT a FROM t WHERE k = 20;\n"
        ),
    );
}

#[test]
fn trigger_deletes_the_row() {
    check(
        "deleted",
        &format!(
            "{SETUP}CREATE TRIGGER tr BEFORE UPDATE ON t WHEN old.a = 2 BEGIN \
             DELETE FROM t WHERE a = old.a; END;\n\
             UPDATE t SET v = v + 1;\n\
             SELECT * FROM t ORDER BY a;\n"
        ),
    );
}

#[test]
fn trigger_changes_columns_partial_and_expression_indexes_read() {
    check(
        "partial",
        "CREATE TABLE t(a INTEGER PRIMARY KEY, k, v, w);\n\
         CREATE UNIQUE INDEX tp ON t(k) WHERE w > 0;\n\
         CREATE INDEX te ON t(k + w);\n\
         INSERT INTO t VALUES(1, 10, 0, 1), (2, 30, 0, 0), (3, 50, 0, 1);\n\
         CREATE TRIGGER tr BEFORE UPDATE ON t BEGIN \
         UPDATE t SET w = 1 - w, k = k + 1 WHERE a = old.a; END;\n\
         UPDATE t SET v = 5 WHERE a < 3;\n\
         SELECT * FROM t ORDER BY a;\n\
         SELECT a FROM t WHERE k = 31 AND w > 0;\n\
         SELECT a FROM t WHERE k + w = 11;\n",
    );
}

#[test]
fn trigger_changes_what_an_indexed_generated_column_reads() {
    check(
        "generated",
        "CREATE TABLE t(a INTEGER PRIMARY KEY, k, v, g AS (k * 2) STORED, h AS (k + v));\n\
         CREATE INDEX tg ON t(g);\n\
         CREATE INDEX th ON t(h);\n\
         INSERT INTO t(a, k, v) VALUES(1, 10, 0), (2, 30, 0);\n\
         CREATE TRIGGER tr BEFORE UPDATE ON t WHEN old.a = 1 BEGIN \
         UPDATE t SET k = 20 WHERE a = old.a; END;\n\
         UPDATE t SET v = 5;\n\
         SELECT * FROM t ORDER BY a;\n\
         SELECT a FROM t WHERE g = 40;\n\
         SELECT a FROM t WHERE h = 25;\n",
    );
}

/// The unique indexes an UPDATE does not rewrite are not checked (as SQLite); those it
/// rewrites still are, with every conflict resolution.
#[test]
fn unique_checks_only_for_rewritten_indexes() {
    check(
        "unique",
        &format!(
            "{SETUP}CREATE UNIQUE INDEX tw ON t(w);\n\
             UPDATE t SET v = v + 1;\n\
             UPDATE t SET k = 30 WHERE a = 1;\n\
             UPDATE OR IGNORE t SET k = 30 WHERE a = 1;\n\
             UPDATE OR REPLACE t SET k = 30, w = 'q' WHERE a = 1;\n\
             SELECT * FROM t ORDER BY a;\n\
             UPDATE t SET a = 7 WHERE a = 3;\n\
             UPDATE t SET a = 1 WHERE a = 7;\n\
             UPDATE t SET w = 'q' WHERE a = 1;\n\
             UPDATE t SET w = 'zz' WHERE a = 1;\n\
             SELECT * FROM t ORDER BY a;\n\
             INSERT INTO t VALUES(5, 30, 1, 'm') ON CONFLICT(k) DO UPDATE SET v = v + 100;\n\
             INSERT INTO t VALUES(6, 30, 1, 'm') ON CONFLICT(k) DO UPDATE SET w = 'zz';\n\
             SELECT * FROM t ORDER BY a;\n"
        ),
    );
}
