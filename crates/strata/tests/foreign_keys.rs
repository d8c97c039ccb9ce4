//! FOREIGN KEY constraints, checked against SQLite itself: each script runs statement by
//! statement on Strata and on rusqlite (bundled SQLite); every statement must return the
//! same rows (values and storage classes) or fail with the same message on both, and
//! leave both connections in the same transaction state (autocommit or not).

use strata::{Connection, ValueRef};

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
        let mut r = Vec::new();
        for i in 0..n {
            r.push(match row.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Null => V::Null,
                ValueRef::Integer(i) => V::Int(i),
                ValueRef::Real(f) => V::Real(f.to_bits()),
                ValueRef::Text(t) => V::Text(t.to_vec()),
                ValueRef::Blob(b) => V::Blob(b.to_vec()),
            });
        }
        out.push(r);
    }
    Ok(out)
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Result<Vec<Vec<V>>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut r = Vec::new();
        for i in 0..n {
            use rusqlite::types::ValueRef as R;
            r.push(match row.get_ref(i).map_err(|e| e.to_string())? {
                R::Null => V::Null,
                R::Integer(i) => V::Int(i),
                R::Real(f) => V::Real(f.to_bits()),
                R::Text(t) => V::Text(t.to_vec()),
                R::Blob(b) => V::Blob(b.to_vec()),
            });
        }
        out.push(r);
    }
    Ok(out)
}

/// An in-memory SQLite connection with SQLite's default `foreign_keys = OFF`: rusqlite's
/// bundled build turns the default on (`SQLITE_DEFAULT_FOREIGN_KEYS=1`), while SQLite's
/// own default, which Strata follows, is off.
fn sqlite_connection() -> rusqlite::Connection {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    c.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    c
}

/// Runs `script` (statements separated by lines ending in `;`) on both engines and
/// compares each statement's rows or error message, and the transaction state after it.
/// Returns how many statements failed (the same on both), so a script can assert that
/// the failures it is about did happen.
fn same_as_sqlite(script: &str) -> usize {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = sqlite_connection();
    let mut failures = 0;
    for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let a = strata_rows(&ours, sql);
        let b = sqlite_rows(&theirs, sql);
        match (&a, &b) {
            (Ok(x), Ok(y)) => assert_eq!(x, y, "results differ for: {sql}"),
            (Err(x), Err(y)) => {
                assert_eq!(x, y, "error messages differ for: {sql}");
                failures += 1;
            }
            _ => panic!("one engine failed for: {sql}\n strata: {a:?}\n sqlite: {b:?}"),
        }
        assert_eq!(
            ours.is_autocommit(),
            theirs.is_autocommit(),
            "transaction state differs after: {sql}"
        );
    }
    failures
}

#[test]
fn pragma_foreign_keys_is_per_connection_and_off_by_default() {
    let n = same_as_sqlite(
        "PRAGMA foreign_keys;
         CREATE TABLE p(id INTEGER PRIMARY KEY, v);
         CREATE TABLE c(x INTEGER REFERENCES p(id));
         INSERT INTO c VALUES (1);
         SELECT * FROM c;
         PRAGMA foreign_keys = ON;
         PRAGMA foreign_keys;
         INSERT INTO c VALUES (2);
         INSERT INTO p VALUES (2, 'two');
         INSERT INTO c VALUES (2);
         BEGIN;
         PRAGMA foreign_keys = OFF;
         PRAGMA foreign_keys;
         INSERT INTO c VALUES (3);
         COMMIT;
         PRAGMA foreign_keys = 0;
         PRAGMA foreign_keys;
         INSERT INTO c VALUES (3);
         PRAGMA foreign_keys = yes;
         PRAGMA foreign_keys;
         SELECT * FROM c ORDER BY rowid;
         PRAGMA foreign_key_check;",
    );
    assert_eq!(n, 2);
    // A second connection to the same database has its own setting.
    let db = strata::Database::open_in_memory().unwrap();
    let a = db.connect();
    a.execute_batch(
        "PRAGMA foreign_keys = ON;
         CREATE TABLE p(id INTEGER PRIMARY KEY);
         CREATE TABLE c(x REFERENCES p);",
    )
    .unwrap();
    let e = a.execute("INSERT INTO c VALUES (1)", ()).unwrap_err();
    assert_eq!(e.to_string(), "FOREIGN KEY constraint failed");
    let b = db.connect();
    b.execute("INSERT INTO c VALUES (1)", ()).unwrap();
    let n: i64 = a
        .query_row("SELECT count(*) FROM c", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn child_and_parent_checks_immediate() {
    let n = same_as_sqlite(
        "PRAGMA foreign_keys = ON;
         CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT UNIQUE);
         CREATE TABLE c(id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p, pname TEXT REFERENCES p(name));
         INSERT INTO p VALUES (1, 'a'), (2, 'b');
         INSERT INTO c VALUES (10, 1, 'a');
         INSERT INTO c VALUES (11, 3, 'a');
         INSERT INTO c VALUES (12, 1, 'z');
         INSERT INTO c VALUES (13, NULL, NULL);
         INSERT INTO c VALUES (14, '2', 'b');
         INSERT INTO c VALUES (15, 2, 'b'), (16, 9, 'b');
         SELECT * FROM c ORDER BY id;
         UPDATE c SET pid = 5 WHERE id = 10;
         UPDATE c SET pid = 2 WHERE id = 10;
         DELETE FROM p WHERE id = 1;
         DELETE FROM p WHERE id = 2;
         UPDATE p SET name = 'q' WHERE id = 1;
         UPDATE p SET id = 7 WHERE id = 2;
         DELETE FROM c WHERE id = 10;
         DELETE FROM p WHERE id = 1;
         SELECT * FROM p ORDER BY id;
         SELECT changes();
         BEGIN;
         INSERT INTO c VALUES (20, 2, 'b');
         INSERT INTO c VALUES (21, 42, 'b');
         SELECT * FROM c ORDER BY id;
         COMMIT;
         SELECT * FROM c ORDER BY id;",
    );
    assert!(n >= 8, "{n}");
}
