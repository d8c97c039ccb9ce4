//! The SQLite side of the file check (`oracle::sqlite_check_files`) sees schema-level
//! damage, not only damaged pages: a `main.` prefix stored in `sqlite_schema.sql` (what
//! Strata once wrote for `CREATE TABLE main.t`), a STRICT table holding a wrong-typed
//! value, and an object that should not be in the file (a TEMP table made persistent,
//! seen as a schema difference in the dump).

use simulator::oracle::{dump_sqlite, sqlite_check_files};

/// A database file written by SQLite, then `edit` applied with `writable_schema` on (what
/// a buggy engine could have written), as bytes.
fn file_with(edit: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER) STRICT;
         CREATE INDEX t_a ON t(a);
         INSERT INTO t VALUES (1, 10), (2, 20);",
    )
    .unwrap();
    db.execute_batch(&format!(
        "PRAGMA writable_schema=ON; {edit}; PRAGMA writable_schema=OFF;"
    ))
    .unwrap();
    drop(db);
    std::fs::read(&path).unwrap()
}

#[test]
fn clean_file_passes() {
    let bytes = file_with("SELECT 1");
    let dump = sqlite_check_files(&bytes, None, &["t".to_string()]).unwrap();
    assert_eq!(dump.0.len(), 2, "the table and the schema: {dump:?}");
}

#[test]
fn oracle_sees_schema_damage() {
    // `main.` stored in sqlite_schema: SQLite refuses the schema when it loads it.
    let bytes = file_with(
        "UPDATE sqlite_schema SET sql = 'CREATE TABLE main.t(id INTEGER PRIMARY KEY, a INTEGER) STRICT' WHERE name = 't'",
    );
    let err = sqlite_check_files(&bytes, None, &["t".to_string()]).unwrap_err();
    assert!(err.contains("malformed database schema"), "{err}");

    let bytes = file_with(
        "UPDATE sqlite_schema SET sql = 'CREATE INDEX main.t_a ON t(a)' WHERE name = 't_a'",
    );
    let err = sqlite_check_files(&bytes, None, &["t".to_string()]).unwrap_err();
    assert!(err.contains("malformed database schema"), "{err}");
}

#[test]
fn oracle_sees_wrong_type_in_strict_table() {
    // A TEXT value in an INTEGER column of a STRICT table (written as TEXT, then the
    // declared type changed under it), which SQLite's integrity_check reports.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.db");
    let db = rusqlite::Connection::open(&path).unwrap();
    db.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT) STRICT; INSERT INTO t VALUES (1, 'x');
         PRAGMA writable_schema=ON;
         UPDATE sqlite_schema SET sql = 'CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER) STRICT' WHERE name = 't';
         PRAGMA writable_schema=OFF;",
    )
    .unwrap();
    drop(db);
    let err =
        sqlite_check_files(&std::fs::read(&path).unwrap(), None, &["t".to_string()]).unwrap_err();
    assert!(err.contains("integrity_check"), "{err}");
}

#[test]
fn oracle_sees_an_extra_object() {
    // A table the model does not have (a TEMP table written into the file): the dumps'
    // schema rows differ.
    let bytes = file_with("CREATE TABLE tmp_a(x)");
    let got = sqlite_check_files(&bytes, None, &["t".to_string()]).unwrap();
    let model = rusqlite::Connection::open_in_memory().unwrap();
    model
        .execute_batch(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER) STRICT;
             CREATE INDEX t_a ON t(a);
             INSERT INTO t VALUES (1, 10), (2, 20);",
        )
        .unwrap();
    let want = dump_sqlite(&model, &["t".to_string()]).unwrap();
    assert_ne!(got, want);
    assert!(got.diff(&want).contains("tmp_a"), "{}", got.diff(&want));
}
