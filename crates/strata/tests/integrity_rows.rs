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

#[test]
fn values_their_columns_never_hold() {
    // Untyped columns took any value; declared as typed ones they now hold values those
    // types never store: numbers in TEXT, a NULL in NOT NULL.
    check(
        "types",
        "CREATE TABLE d(a INTEGER PRIMARY KEY, t, n, x, nn);\n\
         INSERT INTO d VALUES(1, 5, 12, 'q', 1), (2, 'ok', 7, 4, NULL),\n\
         (3, 1.5, 'abc', x'00', 2), (4, NULL, NULL, NULL, 3);",
        "UPDATE sqlite_schema SET sql = 'CREATE TABLE d(a INTEGER PRIMARY KEY, t TEXT, n INTEGER, x NUMERIC, nn INT NOT NULL)' WHERE name = 'd'",
        true,
    );
}

/// Text that numeric affinity would have converted, in a numeric column ("TEXT value in
/// T.C"): SQLite 3.46 reports only some such values (here the INTEGER column's, not the
/// REAL one's after a problem earlier in the row; found comparing the two, the cause
/// not pinned down), Strata every one. Strata's report must hold all of SQLite's.
#[test]
fn numeric_text_in_numeric_columns() {
    let dir = std::env::temp_dir().join(format!("strata-integrity-{}-numtext", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE d(a INTEGER PRIMARY KEY, t, n, r, x);\n\
             INSERT INTO d VALUES(1, 5, '12', ' 3.5 ', 'q'), (2, 'ok', 7, 2.5, 4),\n\
             (3, 1.5, 'abc', '1e3', x'00'), (4, NULL, ' 8', NULL, '0x10');\n\
             PRAGMA writable_schema = ON;\n\
             UPDATE sqlite_schema SET sql = 'CREATE TABLE d(a INTEGER PRIMARY KEY, t TEXT, n INTEGER, r REAL, x NUMERIC)' WHERE name = 'd';",
        )
        .unwrap();
    }
    let theirs = sqlite_report(&path, "PRAGMA integrity_check");
    let ours = strata_report(&path, "PRAGMA integrity_check");
    assert!(
        theirs.contains(&"TEXT value in d.n".to_string()),
        "{theirs:?}"
    );
    for line in &theirs {
        assert!(
            ours.contains(line),
            "Strata's report {ours:?} lacks {line:?}"
        );
    }
    let mut expected = vec![
        "NUMERIC value in d.t",
        "NUMERIC value in d.t",
        "TEXT value in d.n",
        "TEXT value in d.n",
        "TEXT value in d.r",
        "TEXT value in d.r",
    ];
    expected.sort();
    assert_eq!(ours, expected);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn strict_columns_with_other_types() {
    check(
        "strict",
        "CREATE TABLE s(a INTEGER PRIMARY KEY, i, r, t, b, y);\n\
         INSERT INTO s VALUES(1, 1, 2, 'x', x'01', 5), (2, 'one', 2.5, 3, 'b', 'any'),\n\
         (3, 2.5, 'r', x'02', 4, NULL), (4, NULL, NULL, NULL, NULL, NULL);",
        "UPDATE sqlite_schema SET sql = 'CREATE TABLE s(a INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, y ANY) STRICT' WHERE name = 's'",
        true,
    );
}

#[test]
fn rows_that_fail_a_check_constraint() {
    check(
        "check",
        "CREATE TABLE c(a INTEGER PRIMARY KEY, x, y);\n\
         INSERT INTO c VALUES(1, 5, 1), (2, -1, 1), (3, NULL, 1), (4, 3, 9);",
        "UPDATE sqlite_schema SET sql = 'CREATE TABLE c(a INTEGER PRIMARY KEY, x CHECK (x > 0), y, CHECK (y < x))' WHERE name = 'c'",
        true,
    );
}

/// `PRAGMA integrity_check(TABLE)` checks that table and its indexes alone (Strata once
/// read a table name as the default limit and checked everything): a sound table is "ok"
/// beside a damaged one, and the pages of a table whose schema row is gone ("never used"
/// in a whole check) are not reported, as in SQLite.
#[test]
fn one_table_alone() {
    let dir = std::env::temp_dir().join(format!("strata-integrity-{}-one", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(&format!(
            "{ROWS}CREATE INDEX tk ON t(k); CREATE INDEX tw ON t(w);\n\
             CREATE TABLE u(x INTEGER PRIMARY KEY, y UNIQUE); CREATE INDEX uy2 ON u(y, x);\n\
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40) INSERT INTO u(y) SELECT printf('%.500c', 'a') || i FROM n;\n\
             CREATE TABLE gone(z); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) INSERT INTO gone SELECT zeroblob(3000) FROM n;\n\
             DELETE FROM u WHERE x % 3 = 0;\n\
             PRAGMA writable_schema = ON;\n\
             UPDATE sqlite_schema SET sql = 'CREATE INDEX tk ON t(w)' WHERE name = 'tk';\n\
             UPDATE sqlite_schema SET sql = 'CREATE INDEX tw ON t(k)' WHERE name = 'tw';\n\
             DELETE FROM sqlite_schema WHERE name = 'gone';\n\
             PRAGMA writable_schema = OFF;"
        ))
        .unwrap();
    }
    for pragma in [
        "PRAGMA integrity_check",
        "PRAGMA integrity_check(t)",
        "PRAGMA integrity_check(u)",
        "PRAGMA integrity_check('U')",
        "PRAGMA quick_check(t)",
        "PRAGMA quick_check(u)",
        "PRAGMA integrity_check(sqlite_schema)",
        "PRAGMA integrity_check(sqlite_master)",
        "PRAGMA integrity_check(0)",
        "PRAGMA integrity_check(-3)",
    ] {
        let theirs = sqlite_report(&path, pragma);
        let ours = strata_report(&path, pragma);
        assert_eq!(ours, theirs, "{pragma}");
    }
    assert_eq!(sqlite_report(&path, "PRAGMA integrity_check(u)"), ["ok"]);
    assert_ne!(sqlite_report(&path, "PRAGMA integrity_check"), ["ok"]);
    // An unknown table: SQLite's error.
    let c = rusqlite::Connection::open(&path).unwrap();
    let theirs = c
        .prepare("PRAGMA integrity_check(nosuch)")
        .map(|_| ())
        .unwrap_err()
        .to_string();
    let db = strata::Database::open(&path).unwrap();
    let ours = db
        .connect()
        .prepare("PRAGMA integrity_check(nosuch)")
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(ours.contains(&theirs), "{ours} vs {theirs}");
    let _ = std::fs::remove_dir_all(&dir);
}
