//! WITHOUT ROWID tables in files SQLite made (issue 15; "we read what sqlite3 writes").
//! Strata once refused the whole schema of such a file, so no table of it could be read.
//! Now it reads them as SQLite does (a scan in PRIMARY KEY order; the key and secondary
//! indexes for seeks; the schema pragmas; integrity_check), keeps the rest of the file
//! fully usable, and refuses what it does not do yet (writing rows of such a table,
//! creating one, indexing one, DROP COLUMN, a RIGHT JOIN of one) with a clear error.
//!
//! Every file is made by SQLite (rusqlite, bundled); every query runs on both engines
//! over the same file and the results are compared value by value, in order where the
//! query orders them (as sets otherwise: a scan's order is the plan's).

mod common;

use std::path::{Path, PathBuf};

use common::{sqlite_rows, strata_rows, V};
use strata::Database;

const SCHEMA: &str = "
    CREATE TABLE w(a, b TEXT COLLATE NOCASE, c, d UNIQUE, PRIMARY KEY(b DESC, a)) WITHOUT ROWID;
    CREATE INDEX wc ON w(c);
    CREATE INDEX wca ON w(c, a);
    CREATE TABLE k(id INTEGER PRIMARY KEY, name TEXT NOT NULL, note) WITHOUT ROWID;
    CREATE TABLE one(x TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE dup(p, q, r, PRIMARY KEY(p, q, p)) WITHOUT ROWID;
    CREATE TABLE g(a INT PRIMARY KEY, b INT, v AS (a * 10 + b), s AS (b - a) STORED)
        WITHOUT ROWID;
    CREATE INDEX gv ON g(v);
    CREATE TABLE st(id TEXT PRIMARY KEY, n INTEGER, r REAL) STRICT, WITHOUT ROWID;
    CREATE TABLE big(key TEXT PRIMARY KEY, payload BLOB) WITHOUT ROWID;
    CREATE TABLE r(id INTEGER PRIMARY KEY, kid INT REFERENCES k(id), wv TEXT);
    CREATE TABLE child(x PRIMARY KEY, kid REFERENCES k(id)) WITHOUT ROWID;
";

/// A file made by SQLite with the schema above and rows in every table.
fn sqlite_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wr.db");
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = OFF;")
        .unwrap();
    c.execute_batch(SCHEMA).unwrap();
    let tx = c.unchecked_transaction().unwrap();
    for i in 0..600i64 {
        let b = format!("{}{}", if i % 3 == 0 { "K" } else { "k" }, i % 97);
        tx.execute(
            "INSERT INTO w VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![i, b, i % 13, if i % 7 == 0 { None } else { Some(i) }],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO k VALUES (?1, ?2, ?3)",
            rusqlite::params![
                i * 3 - 500,
                format!("n{i}"),
                if i % 2 == 0 { Some(i) } else { None }
            ],
        )
        .unwrap();
        tx.execute(
            "INSERT INTO r VALUES (?1, ?2, ?3)",
            rusqlite::params![i, i * 3 - 500 + (i % 4), format!("k{}", i % 50)],
        )
        .unwrap();
    }
    tx.execute_batch(
        "INSERT INTO one VALUES ('a'), ('b'), ('k5'), ('zz');
         INSERT INTO dup VALUES (1, 1, 'x'), (1, 2, 'y'), (2, 1, 'z');
         INSERT INTO g(a, b) VALUES (1, 5), (2, 3), (3, 9), (-4, 2);
         INSERT INTO st VALUES ('p', 1, 1.5), ('q', 2, 2.0);
         INSERT INTO child VALUES ('c1', -500), ('c2', -497), ('c3', 99999), ('c4', NULL);",
    )
    .unwrap();
    for i in 0..40i64 {
        // Keys and rows past a page: overflow chains in an index tree.
        let key = format!("{}{}", "K".repeat(1500 + i as usize * 37), i);
        tx.execute(
            "INSERT INTO big VALUES (?1, zeroblob(?2))",
            rusqlite::params![key, 3000 + i * 100],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    // An ADD COLUMN after the rows: old records are one field short.
    c.execute_batch("ALTER TABLE k ADD COLUMN extra DEFAULT 'dflt';")
        .unwrap();
    c.execute_batch("INSERT INTO k VALUES (100000, 'new', 1, 'set');")
        .unwrap();
    drop(c);
    (dir, path)
}

fn sorted(mut v: Vec<Vec<V>>) -> Vec<Vec<V>> {
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

/// Runs every query on Strata, then (Strata closed: it holds the file's lock while open)
/// on SQLite, and compares: in order where `ordered`, else as multisets; errors by
/// message.
fn compare(path: &Path, queries: &[(&str, bool)]) {
    let ours: Vec<_> = {
        let db = Database::open(path).unwrap();
        let c = db.connect();
        queries.iter().map(|(q, _)| strata_rows(&c, q)).collect()
    };
    let c = rusqlite::Connection::open(path).unwrap();
    for ((sql, ordered), a) in queries.iter().zip(ours) {
        match (a, sqlite_rows(&c, sql)) {
            (Ok(x), Ok(y)) => {
                let (x, y) = if *ordered {
                    (x, y)
                } else {
                    (sorted(x), sorted(y))
                };
                assert!(
                    x == y,
                    "results differ for: {sql}\n strata: {x:?}\n sqlite: {y:?}"
                );
            }
            (Err(x), Err(y)) => assert_eq!(x, y, "error messages differ for: {sql}"),
            (a, b) => panic!(
                "one engine failed for: {sql}\n strata: {:?}\n sqlite: {:?}",
                a.map(|r| r.len()),
                b.map(|r| r.len())
            ),
        }
    }
}

fn ordered<'a>(qs: &[&'a str]) -> Vec<(&'a str, bool)> {
    qs.iter().map(|q| (*q, true)).collect()
}

#[test]
fn queries_read_what_sqlite_wrote() {
    let (_dir, path) = sqlite_file();
    let ordered_queries = [
        "SELECT * FROM w ORDER BY b DESC, a",
        "SELECT * FROM w ORDER BY b, a DESC",
        "SELECT a, b FROM w WHERE b = 'K5' ORDER BY a",
        "SELECT a, b FROM w WHERE b = 'k5' AND a = 5",
        "SELECT * FROM w WHERE b > 'k90' ORDER BY b, a",
        "SELECT * FROM w WHERE c = 3 ORDER BY a",
        "SELECT a, c FROM w WHERE c = 4 AND a > 100 ORDER BY a",
        "SELECT d FROM w WHERE d BETWEEN 100 AND 140 ORDER BY d",
        "SELECT * FROM w WHERE d IS NULL ORDER BY a",
        "SELECT c, count(*), sum(a), min(b), max(b) FROM w GROUP BY c ORDER BY c",
        "SELECT DISTINCT c FROM w ORDER BY c",
        "SELECT count(*) FROM w",
        "SELECT count(*) FROM big",
        "SELECT * FROM k ORDER BY id LIMIT 20",
        "SELECT * FROM k WHERE id = -497",
        "SELECT * FROM k WHERE id BETWEEN -10 AND 40 ORDER BY id",
        "SELECT id, extra FROM k WHERE id > 1000 ORDER BY id",
        "SELECT * FROM k WHERE id = '-497'",
        "SELECT * FROM one ORDER BY x",
        "SELECT * FROM dup ORDER BY p, q",
        "SELECT * FROM g ORDER BY a",
        "SELECT a, v, s FROM g WHERE v = 25",
        "SELECT * FROM st ORDER BY id",
        "SELECT length(key), length(payload) FROM big ORDER BY key",
        "SELECT length(payload) FROM big WHERE key = (SELECT max(key) FROM big)",
        "SELECT r.id, k.name FROM r JOIN k ON k.id = r.kid WHERE r.id < 30 ORDER BY r.id",
        "SELECT k.id, r.id FROM k LEFT JOIN r ON r.kid = k.id WHERE k.id < -450 ORDER BY k.id, r.id",
        "SELECT w.a, one.x FROM w JOIN one ON one.x = w.b ORDER BY w.a",
        "SELECT count(*) FROM r WHERE kid IN (SELECT id FROM k WHERE note IS NULL)",
        "SELECT b IN one, count(*) FROM w GROUP BY 1 ORDER BY 1",
        "SELECT (SELECT name FROM k WHERE k.id = r.kid) FROM r WHERE id < 10 ORDER BY id",
        "SELECT a FROM w WHERE b = 'k5' UNION SELECT id FROM k WHERE id < -490 ORDER BY 1",
        "SELECT x, row_number() OVER (ORDER BY x DESC) FROM one ORDER BY x",
    ];
    let mut queries = ordered(&ordered_queries);
    let unordered = [
        "SELECT * FROM w",
        "SELECT * FROM w WHERE c = 7",
        "SELECT b, c FROM w WHERE c > 10",
        "SELECT * FROM k",
        "SELECT * FROM w, one WHERE w.b = one.x",
        "SELECT * FROM child",
        "SELECT * FROM g WHERE v > 0",
        // No rowid: SQLite's error.
        "SELECT rowid FROM w",
        "SELECT oid, _rowid_ FROM k",
    ];
    queries.extend(unordered.iter().map(|q| (*q, false)));
    compare(&path, &queries);
}

#[test]
fn schema_pragmas_and_integrity_match_sqlite() {
    let (_dir, path) = sqlite_file();
    let mut queries: Vec<String> = Vec::new();
    for t in ["w", "k", "one", "dup", "g", "st", "big", "child"] {
        for p in [
            "table_info",
            "table_xinfo",
            "index_list",
            "foreign_key_list",
            "table_list",
        ] {
            queries.push(format!("PRAGMA {p}({t})"));
        }
    }
    // Collation names aside (SQLite shows them as written, Strata in capitals), the
    // index pragmas agree, the PRIMARY KEY index's included.
    for ix in [
        "sqlite_autoindex_w_1",
        "sqlite_autoindex_w_2",
        "wc",
        "wca",
        "sqlite_autoindex_k_1",
        "sqlite_autoindex_dup_1",
        "gv",
    ] {
        for p in ["index_info", "index_xinfo"] {
            queries.push(format!("SELECT seqno, cid, name FROM pragma_{p}('{ix}')"));
        }
        queries.push(format!(
            "SELECT seqno, desc, upper(coll), key FROM pragma_index_xinfo('{ix}')"
        ));
    }
    let mut q: Vec<(&str, bool)> = queries.iter().map(|s| (s.as_str(), true)).collect();
    for p in [
        "PRAGMA table_list",
        "PRAGMA integrity_check",
        "PRAGMA quick_check",
        "PRAGMA foreign_key_check",
        "PRAGMA foreign_key_check(child)",
    ] {
        q.push((p, false));
    }
    compare(&path, &q);
}

/// A composite PRIMARY KEY of a rowid table: `pk` is the place in the key, not in the
/// table (Strata numbered them in table order).
#[test]
fn table_info_numbers_primary_key_columns_in_key_order() {
    common::same_as_sqlite(
        "CREATE TABLE t(a, b, c, PRIMARY KEY(c, a));\n\
         PRAGMA table_info(t);\n\
         CREATE TABLE u(a, b INTEGER PRIMARY KEY);\n\
         PRAGMA table_info(u);\n",
    );
}

#[test]
fn the_rest_of_the_file_stays_usable() {
    let (_dir, path) = sqlite_file();
    let r_before = {
        let c = rusqlite::Connection::open(&path).unwrap();
        sqlite_rows(&c, "SELECT * FROM r ORDER BY id").unwrap()
    };
    {
        let db = Database::open(&path).unwrap();
        let ours = db.connect();
        // A rowid table referencing a WITHOUT ROWID parent: foreign key checks find the
        // parent through its PRIMARY KEY.
        ours.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        ours.execute_batch("INSERT INTO r VALUES (1000, -497, 'x')")
            .unwrap();
        let e = ours
            .execute_batch("INSERT INTO r VALUES (1001, 12345, 'y')")
            .unwrap_err();
        assert!(
            e.to_string().contains("FOREIGN KEY constraint failed"),
            "{e}"
        );
        ours.execute_batch(
            "UPDATE r SET wv = upper(wv) WHERE id % 5 = 0; DELETE FROM r WHERE id % 7 = 1;",
        )
        .unwrap();
        assert_ne!(
            strata_rows(&ours, "SELECT * FROM r ORDER BY id").unwrap(),
            r_before
        );
        ours.execute_batch("ALTER TABLE one RENAME TO uno").unwrap();
        ours.execute_batch("ALTER TABLE k RENAME COLUMN note TO remark")
            .unwrap();
        ours.execute_batch("ALTER TABLE g ADD COLUMN z DEFAULT 7")
            .unwrap();
        ours.execute_batch("DROP TABLE dup").unwrap();
        ours.execute_batch("DROP INDEX wca").unwrap();
    }
    compare(
        &path,
        &ordered(&[
            "PRAGMA integrity_check",
            "SELECT * FROM r ORDER BY id",
            "SELECT * FROM uno ORDER BY x",
            "SELECT id, remark FROM k ORDER BY id LIMIT 10",
            "SELECT * FROM g ORDER BY a",
            "SELECT name FROM sqlite_schema ORDER BY name",
            "PRAGMA index_list(w)",
            "SELECT * FROM w WHERE c = 5 ORDER BY a",
        ]),
    );
    // VACUUM copies the index trees as index trees: SQLite finds the same file.
    let before = {
        let c = rusqlite::Connection::open(&path).unwrap();
        sqlite_rows(&c, "SELECT * FROM w ORDER BY b, a").unwrap()
    };
    {
        let db = Database::open(&path).unwrap();
        db.connect().execute_batch("VACUUM").unwrap();
    }
    let c = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite_rows(&c, "PRAGMA integrity_check").unwrap(),
        vec![vec![V::Text(b"ok".to_vec())]]
    );
    assert_eq!(
        sqlite_rows(&c, "SELECT * FROM w ORDER BY b, a").unwrap(),
        before
    );
}

/// A refused DROP COLUMN (an index names the column) fails with SQLite's error before
/// anything is written (DROP COLUMN of a WITHOUT ROWID table itself is supported now: see
/// `without_rowid_more.rs`); a trigger on another table writes a WITHOUT ROWID table.
#[test]
fn refused_drop_column_and_trigger_writes() {
    let (_dir, path) = sqlite_file();
    let db = Database::open(&path).unwrap();
    let ours = db.connect();
    let before = strata_rows(&ours, "SELECT * FROM k ORDER BY id").unwrap();
    // SQLite's message (its form is compared with SQLite in without_rowid_more.rs).
    let e = strata_rows(&ours, "ALTER TABLE w DROP COLUMN c").unwrap_err();
    assert_eq!(e, "error in index wc after drop column: no such column: c");
    assert_eq!(
        strata_rows(&ours, "SELECT * FROM k ORDER BY id").unwrap(),
        before
    );
    // A trigger on another table writes one.
    ours.execute_batch(
        "CREATE TRIGGER tr AFTER INSERT ON r BEGIN INSERT INTO one VALUES (new.wv); END",
    )
    .unwrap();
    ours.execute_batch("INSERT INTO r VALUES (5000, NULL, 'tw')")
        .unwrap();
    assert_eq!(
        strata_rows(&ours, "SELECT x FROM one WHERE x = 'tw'").unwrap(),
        vec![vec![V::Text(b"tw".to_vec())]]
    );
    common::same_as_sqlite_with_messages(
        "CREATE TABLE e1(x) WITHOUT ROWID;\n\
         CREATE TABLE e2(x INTEGER PRIMARY KEY AUTOINCREMENT) WITHOUT ROWID;\n\
         CREATE TABLE e3(x PRIMARY KEY, y PRIMARY KEY) WITHOUT ROWID;\n",
    );
}
