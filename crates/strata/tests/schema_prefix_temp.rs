//! Schema-qualified names (`main.t`, `temp.t`) and the TEMP schema, checked against
//! SQLite (rusqlite, bundled): every statement runs on both engines and must return the
//! same rows or fail with the same message; files Strata writes must open in SQLite with
//! `PRAGMA integrity_check` = ok and the same `sqlite_schema` rows SQLite writes.

use strata::{Connection, ValueRef};

#[derive(PartialEq, Clone)]
enum V {
    Null,
    Int(i64),
    Real(u64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl std::fmt::Debug for V {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            V::Null => write!(f, "NULL"),
            V::Int(i) => write!(f, "{i}"),
            V::Real(r) => write!(f, "{}", f64::from_bits(*r)),
            V::Text(t) => write!(f, "{:?}", String::from_utf8_lossy(t)),
            V::Blob(b) => write!(f, "x{b:02x?}"),
        }
    }
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
    let mut stmt = conn.prepare(sql).map_err(sqlite_message)?;
    let n = stmt.column_count();
    let mut rows = stmt.query([]).map_err(sqlite_message)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(sqlite_message)? {
        let mut r = Vec::new();
        for i in 0..n {
            use rusqlite::types::ValueRef as R;
            r.push(match row.get_ref(i).map_err(sqlite_message)? {
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

/// SQLite's own message (rusqlite's `Display` of a failure is that message).
fn sqlite_message(e: rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m,
        rusqlite::Error::SqlInputError { msg, .. } => msg,
        e => e.to_string(),
    }
}

/// The statements of a script: separated by lines ending in `;`.
fn statements(script: &str) -> impl Iterator<Item = &str> {
    script.split(";\n").map(str::trim).filter(|s| !s.is_empty())
}

/// Runs `script` statement by statement on both connections: same rows, or the same
/// error message.
fn same_on(ours: &Connection, theirs: &rusqlite::Connection, script: &str) {
    for sql in statements(script) {
        let a = strata_rows(ours, sql);
        let b = sqlite_rows(theirs, sql);
        assert_eq!(a, b, "engines differ for: {sql}");
    }
}

/// [`same_on`] on two fresh in-memory databases.
fn same_as_sqlite(script: &str) {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    same_on(&ours, &theirs, script);
}

const SCHEMA_ROWS: &str =
    "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid";

#[test]
fn main_prefix_in_every_statement_kind() {
    same_as_sqlite(
        "CREATE TABLE main.t(a INTEGER PRIMARY KEY, b TEXT UNIQUE);
         CREATE TABLE main . \"t2\"(x);
         CREATE TABLE [main].t3(y);
         CREATE TABLE `MAIN`.t4 AS SELECT 1 AS one;
         CREATE TABLE IF NOT EXISTS main.t(z);
         CREATE TABLE main.t(z);
         CREATE INDEX main.i ON t2(x);
         CREATE UNIQUE INDEX \"main\".i2 ON t3(y);
         CREATE INDEX main.i ON t2(x);
         CREATE VIEW main.v AS SELECT main.t.a, t.b FROM main.t;
         CREATE TRIGGER main.tr AFTER INSERT ON main.t BEGIN INSERT INTO t2 VALUES (new.a); END;
         CREATE TRIGGER main.tr2 BEFORE DELETE ON t BEGIN INSERT INTO t3 VALUES (old.b); END;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         SELECT * FROM main.sqlite_master ORDER BY name;
         INSERT INTO main.t VALUES (1, 'one'), (2, 'two');
         INSERT INTO main.t(b) SELECT b || '!' FROM main.t;
         SELECT main.t.a, main.t.b, t.a, a FROM main.t ORDER BY 1;
         SELECT * FROM main.v ORDER BY a;
         SELECT x FROM main.t2 ORDER BY x;
         UPDATE main.t SET b = upper(b) WHERE a = 2;
         DELETE FROM main.t WHERE a = 1;
         SELECT * FROM t3;
         SELECT main.t.a FROM t;
         SELECT main.u.a FROM t AS u;
         SELECT main.t.a FROM t AS u;
         SELECT main.t.nosuch FROM t;
         SELECT main.t.a FROM (SELECT 1 AS a) AS t;
         SELECT main.t2.x, main.t.a FROM main.t2 JOIN main.t ON main.t2.x = main.t.a;
         PRAGMA main.table_info(t);
         PRAGMA main.index_list(t2);
         ALTER TABLE main.t3 ADD COLUMN w DEFAULT 5;
         ALTER TABLE main.t4 RENAME TO t5;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         REINDEX main.t;
         DROP TRIGGER main.tr2;
         DROP VIEW main.v;
         DROP INDEX main.i;
         DROP TABLE main.t5;
         DROP TABLE main.t2;
         DROP TABLE main.nosuch;
         DROP TABLE IF EXISTS main.nosuch;
         DROP INDEX main.nosuch;
         DROP VIEW main.nosuch;
         DROP TRIGGER main.nosuch;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;",
    );
}

#[test]
fn unknown_schema_names_fail_as_in_sqlite() {
    same_as_sqlite(
        "CREATE TABLE t(a);
         CREATE TABLE x.t(a);
         CREATE INDEX x.i ON t(a);
         CREATE VIEW x.v AS SELECT 1;
         CREATE TRIGGER x.tr AFTER INSERT ON t BEGIN SELECT 1; END;
         CREATE TRIGGER tr AFTER INSERT ON x.t BEGIN SELECT 1; END;
         CREATE TRIGGER tr AFTER INSERT ON main.nosuch BEGIN SELECT 1; END;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO main.t VALUES (1); END;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM main.t; END;
         CREATE INDEX main.i ON nosuch(a);
         INSERT INTO x.t VALUES (1);
         INSERT INTO main.nosuch VALUES (1);
         SELECT * FROM x.t;
         SELECT * FROM main.nosuch;
         SELECT x.t.a FROM t;
         SELECT * FROM main.sqlite_temp_master;
         UPDATE x.t SET a = 1;
         DELETE FROM x.t;
         DROP TABLE x.t;
         DROP TABLE IF EXISTS x.t;
         DROP INDEX x.i;
         DROP VIEW x.v;
         DROP TRIGGER x.tr;
         PRAGMA x.table_info(t);
         ALTER TABLE x.t ADD COLUMN b;
         REINDEX x.t;
         SELECT name FROM sqlite_schema;",
    );
}

/// Runs `script` on a Strata file and on a SQLite file; then SQLite opens Strata's file:
/// `integrity_check` must be ok and `sqlite_schema` must hold the rows SQLite wrote.
fn file_check(script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ours_path = dir.path().join("strata.db");
    let theirs_path = dir.path().join("sqlite.db");
    let theirs = rusqlite::Connection::open(&theirs_path).unwrap();
    {
        let ours = Connection::open(&ours_path).unwrap();
        same_on(&ours, &theirs, script);
    }
    let want = sqlite_rows(&theirs, SCHEMA_ROWS).unwrap();
    let sqlite = rusqlite::Connection::open(&ours_path).unwrap();
    assert_eq!(
        sqlite_rows(&sqlite, "PRAGMA integrity_check"),
        Ok(vec![vec![V::Text(b"ok".to_vec())]]),
        "SQLite's integrity_check on Strata's file after: {script}"
    );
    assert_eq!(
        sqlite_rows(&sqlite, SCHEMA_ROWS),
        Ok(want),
        "sqlite_schema of Strata's file"
    );
}

#[test]
fn main_prefixed_ddl_leaves_a_file_sqlite_reads() {
    file_check(
        "CREATE TABLE main.t(a INTEGER PRIMARY KEY, b UNIQUE);
         CREATE TABLE main . \"t2\"(x, y);
         CREATE INDEX main.i ON t2(x);
         CREATE UNIQUE INDEX main.\"i u\" ON t2(y);
         CREATE VIEW main.v AS SELECT * FROM main.t2;
         CREATE TRIGGER main.tr AFTER INSERT ON main.t BEGIN INSERT INTO t2 VALUES (new.a, new.b); END;
         INSERT INTO main.t VALUES (1, 'a'), (2, 'b');
         SELECT * FROM main.v ORDER BY x;
         CREATE TABLE main.gone(q);
         CREATE INDEX main.gone_i ON gone(q);
         CREATE VIEW main.gone_v AS SELECT 1;
         CREATE TRIGGER main.gone_tr AFTER DELETE ON gone BEGIN SELECT 1; END;
         INSERT INTO main.gone VALUES (1);
         DROP TRIGGER main.gone_tr;
         DROP VIEW main.gone_v;
         DROP INDEX main.gone_i;
         DROP TABLE main.gone;
         SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid;",
    );
}

/// Interim: the TEMP schema is not built, so every TEMP form is an error and the file is
/// never touched.
#[test]
fn temp_forms_are_refused_and_leave_the_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strata.db");
    let refused = [
        "CREATE TEMP TABLE x(a)",
        "CREATE TEMPORARY TABLE x(a)",
        "CREATE TABLE temp.x(a)",
        "CREATE TEMP TABLE x AS SELECT 1",
        "CREATE TEMP VIEW v AS SELECT 1",
        "CREATE VIEW temp.v AS SELECT 1",
        "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
        "CREATE TRIGGER temp.tr AFTER INSERT ON t BEGIN SELECT 1; END",
        "CREATE TRIGGER tr AFTER INSERT ON temp.t BEGIN SELECT 1; END",
        "CREATE INDEX temp.i ON t(a)",
        "DROP TABLE temp.t",
        "DROP INDEX temp.i",
        "DROP VIEW temp.v",
        "DROP TRIGGER temp.tr",
        "INSERT INTO temp.t VALUES (1)",
        "UPDATE temp.t SET a = 1",
        "DELETE FROM temp.t",
        "SELECT * FROM temp.t",
        "SELECT * FROM temp.sqlite_master",
        "SELECT * FROM sqlite_temp_master",
        "SELECT * FROM sqlite_temp_schema",
        "PRAGMA temp.table_info(t)",
        "ALTER TABLE temp.t ADD COLUMN b",
    ];
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t(a); INSERT INTO t VALUES (1)")
            .unwrap();
        for sql in refused {
            let e = conn.execute_batch(sql).expect_err(sql);
            assert_eq!(e.to_string(), "TEMP objects are not supported", "{sql}");
        }
    }
    let sqlite = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite_rows(&sqlite, "PRAGMA integrity_check"),
        Ok(vec![vec![V::Text(b"ok".to_vec())]])
    );
    assert_eq!(
        sqlite_rows(&sqlite, "SELECT name, sql FROM sqlite_schema"),
        Ok(vec![vec![
            V::Text(b"t".to_vec()),
            V::Text(b"CREATE TABLE t(a)".to_vec())
        ]])
    );
}
