//! `PRAGMA integrity_check` / `quick_check` report what SQLite's report about rows, not
//! only about pages: an index missing a row's entry, an index with the wrong number of
//! entries, a duplicate in a unique index, a NULL in a NOT NULL column. Strata once
//! checked only the trees' structure and answered "ok" for a file SQLite called corrupt.
//! Each case damages a file with SQLite (`writable_schema`: a declaration that no longer
//! matches the data, so every page stays well formed), then compares both engines'
//! reports (as sets: SQLite visits tables in its hash order).

use std::path::Path;

fn sqlite_report(path: &Path, pragma: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(path).unwrap();
    let mut s = c.prepare(pragma).unwrap();
    let mut v: Vec<String> = s
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    v.sort();
    v
}

fn strata_report(path: &Path, pragma: &str) -> Vec<String> {
    let db = strata::Database::open(path).unwrap();
    let c = db.connect();
    let mut s = c.prepare(pragma).unwrap();
    let mut rows = s.query(()).unwrap();
    let mut v = Vec::new();
    while let Some(r) = rows.next().unwrap() {
        v.push(r.get::<_, String>(0).unwrap());
    }
    v.sort();
    v
}

/// Builds the file with `setup`, then rewrites declarations with `damage` (run with
/// `writable_schema` on), and compares every form of the check.
fn check(name: &str, setup: &str, damage: &str, expect_problems: bool) {
    let dir = std::env::temp_dir().join(format!("strata-integrity-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(setup).unwrap();
        if !damage.is_empty() {
            c.execute_batch(&format!(
                "PRAGMA writable_schema = ON; {damage}; PRAGMA writable_schema = OFF;"
            ))
            .unwrap();
        }
    }
    for pragma in [
        "PRAGMA integrity_check",
        "PRAGMA quick_check",
        "PRAGMA integrity_check(1)",
        "PRAGMA integrity_check(2)",
    ] {
        let theirs = sqlite_report(&path, pragma);
        let ours = strata_report(&path, pragma);
        assert_eq!(ours, theirs, "{name}: {pragma}");
        if pragma == "PRAGMA integrity_check" {
            assert_eq!(
                theirs != ["ok"],
                expect_problems,
                "{name}: the case damages the file"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const ROWS: &str = "CREATE TABLE t(a INTEGER PRIMARY KEY, k, v, w);\n\
    INSERT INTO t VALUES(1, 10, 'a', 1), (2, 20, 'b', NULL), (3, 30, 'c', 3), (4, 10, 'd', 4);\n";

#[test]
fn sound_files_are_ok() {
    check(
        "sound",
        &format!(
            "{ROWS}CREATE INDEX tk ON t(k); CREATE UNIQUE INDEX tv ON t(v);\n\
             CREATE INDEX tp ON t(w) WHERE w > 1; CREATE INDEX te ON t(k + w);\n\
             CREATE TABLE u(x NOT NULL, y UNIQUE); INSERT INTO u VALUES(1, NULL), (2, NULL);"
        ),
        "",
        false,
    );
}

#[test]
fn index_entries_of_another_column() {
    // Two indexes over columns of different values swap trees: every entry is well
    // formed but belongs to no row.
    check(
        "swapped",
        &format!("{ROWS}CREATE INDEX tk ON t(k); CREATE INDEX tw ON t(w);"),
        "UPDATE sqlite_schema SET sql = 'CREATE INDEX tk ON t(w)' WHERE name = 'tk';\n\
         UPDATE sqlite_schema SET sql = 'CREATE INDEX tw ON t(k)' WHERE name = 'tw'",
        true,
    );
}

#[test]
fn partial_index_declared_whole() {
    // Fewer entries than rows, and the rows it lacks are reported.
    check(
        "partial",
        &format!("{ROWS}CREATE INDEX tp ON t(k) WHERE w > 1;"),
        "UPDATE sqlite_schema SET sql = 'CREATE INDEX tp ON t(k)' WHERE name = 'tp'",
        true,
    );
}

#[test]
fn duplicates_in_a_unique_index() {
    check(
        "unique",
        &format!("{ROWS}CREATE INDEX tk ON t(k);"),
        "UPDATE sqlite_schema SET sql = 'CREATE UNIQUE INDEX tk ON t(k)' WHERE name = 'tk'",
        true,
    );
}

#[test]
fn null_in_a_not_null_column() {
    check(
        "notnull",
        ROWS,
        "UPDATE sqlite_schema SET sql = 'CREATE TABLE t(a INTEGER PRIMARY KEY, k, v, w NOT NULL)' WHERE name = 't'",
        true,
    );
}

#[test]
fn more_problems_than_the_limit() {
    // 200 rows missing from an index: the report stops at the limit (100 by default).
    let mut setup = String::from("CREATE TABLE t(a INTEGER PRIMARY KEY, k, w);\n");
    for i in 0..200 {
        setup.push_str(&format!("INSERT INTO t VALUES({i}, {i}, {});\n", i % 2));
    }
    setup.push_str("CREATE INDEX tp ON t(k) WHERE w = 7;");
    check(
        "limit",
        &setup,
        "UPDATE sqlite_schema SET sql = 'CREATE INDEX tp ON t(k)' WHERE name = 'tp'",
        true,
    );
}
