//! A new database's file stays empty until its first commit, as SQLite's does: opening (or
//! attaching) a file that does not exist creates it empty, a database of 0 pages whose
//! schema is empty; the first commit writes page 1 to the file (then its frames to the
//! WAL); a first transaction that rolls back leaves the file empty. Each step compared
//! with SQLite (rusqlite), and the files checked by SQLite at the end.

mod common;

use common::{sqlite_rows, strata_rows, V};

fn size_bytes(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(u64::MAX)
}

/// The same statements on each side; the answers and both files' sizes after each.
#[test]
fn a_new_file_stays_empty_until_the_first_commit() {
    let dir = tempfile::tempdir().unwrap();
    let (ours_path, theirs_path) = (dir.path().join("ours.db"), dir.path().join("theirs.db"));
    let ours = strata::Connection::open(&ours_path).unwrap();
    let theirs = rusqlite::Connection::open(&theirs_path).unwrap();
    let steps: &[(&str, bool)] = &[
        ("PRAGMA page_count", false),
        ("SELECT * FROM sqlite_schema", false),
        ("PRAGMA integrity_check", false),
        ("PRAGMA quick_check", false),
        ("PRAGMA freelist_count", false),
        ("PRAGMA schema_version", false),
        ("PRAGMA user_version", false),
        ("BEGIN", false),
        ("CREATE TABLE x(a)", false),
        ("INSERT INTO x VALUES (1)", false),
        ("ROLLBACK", false),
        ("PRAGMA page_count", false),
        ("SELECT count(*) FROM sqlite_schema", false),
        // The first commit: now both files hold the database.
        ("CREATE TABLE t(a)", true),
        ("INSERT INTO t VALUES (1), (2)", true),
        ("SELECT * FROM t", true),
        ("PRAGMA integrity_check", true),
    ];
    for &(sql, written) in steps {
        let (a, b) = (strata_rows(&ours, sql), sqlite_rows(&theirs, sql));
        assert_eq!(a, b, "{sql}");
        // Strata's frames are in the WAL: page 1 (the empty database) is in the file.
        let (ours_size, theirs_size) = (size_bytes(&ours_path), size_bytes(&theirs_path));
        if written {
            assert!(
                ours_size >= 4096 && theirs_size >= 4096,
                "{sql}: {ours_size} {theirs_size}"
            );
        } else {
            assert_eq!((ours_size, theirs_size), (0, 0), "{sql}");
        }
    }
    drop(ours);
    let check = rusqlite::Connection::open(&ours_path).unwrap();
    assert_eq!(
        sqlite_rows(&check, "PRAGMA integrity_check"),
        Ok(vec![vec![V::Text("ok".into())]])
    );
    assert_eq!(
        sqlite_rows(&check, "SELECT a FROM t ORDER BY a"),
        Ok(vec![vec![V::Int(1)], vec![V::Int(2)]])
    );
}

/// Reopening a file that was created and never written: still the empty database, and
/// still an empty file (nothing written by the reopen either).
#[test]
fn a_reopened_empty_file_is_still_the_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.db");
    for _ in 0..2 {
        let c = strata::Connection::open(&path).unwrap();
        assert_eq!(
            strata_rows(&c, "SELECT count(*) FROM sqlite_schema"),
            Ok(vec![vec![V::Int(0)]])
        );
        drop(c);
        assert_eq!(size_bytes(&path), 0);
    }
    let c = strata::Connection::open(&path).unwrap();
    c.execute_batch("PRAGMA user_version = 5").unwrap();
    drop(c);
    let check = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite_rows(&check, "PRAGMA user_version"),
        Ok(vec![vec![V::Int(5)]])
    );
    assert_eq!(
        sqlite_rows(&check, "PRAGMA integrity_check"),
        Ok(vec![vec![V::Text("ok".into())]])
    );
}

/// A file attached before anything was written to it is empty, so `VACUUM INTO` it
/// fills it, as SQLite does (sql_diff found Strata refusing: "output file already
/// exists"; input `fuzz/regressions/sql_diff/vacuum-into-attached-empty`).
#[test]
fn vacuum_into_a_file_attached_but_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let ours = strata::Connection::open(dir.path().join("ours.db")).unwrap();
    let theirs = rusqlite::Connection::open(dir.path().join("theirs.db")).unwrap();
    let (ours_vac, theirs_vac) = (
        dir.path().join("ours-vac.db"),
        dir.path().join("theirs-vac.db"),
    );
    for (sql_ours, sql_theirs) in [
        (
            "CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 'x'), (2, 'y')".to_string(),
            None,
        ),
        (
            format!("ATTACH '{}' AS vac", ours_vac.display()),
            Some(format!("ATTACH '{}' AS vac", theirs_vac.display())),
        ),
        ("SELECT count(*) FROM vac.sqlite_schema".to_string(), None),
        ("DETACH vac".to_string(), None),
        (
            format!("VACUUM INTO '{}'", ours_vac.display()),
            Some(format!("VACUUM INTO '{}'", theirs_vac.display())),
        ),
    ] {
        let sql_theirs = sql_theirs.unwrap_or_else(|| sql_ours.clone());
        let a = ours.execute_batch(&sql_ours).map_err(|e| e.to_string());
        let b = theirs.execute_batch(&sql_theirs).map_err(|e| e.to_string());
        assert_eq!(a.is_ok(), b.is_ok(), "{sql_ours}: {a:?} {b:?}");
        if sql_ours.starts_with("PRAGMA") || sql_ours.starts_with("SELECT") {
            assert_eq!(
                strata_rows(&ours, &sql_ours),
                sqlite_rows(&theirs, &sql_theirs),
                "{sql_ours}"
            );
        }
    }
    assert_eq!(size_bytes(&ours_vac), size_bytes(&theirs_vac));
    let check = rusqlite::Connection::open(&ours_vac).unwrap();
    assert_eq!(
        sqlite_rows(&check, "SELECT a, b FROM t ORDER BY a"),
        Ok(vec![
            vec![V::Int(1), V::Text("x".into())],
            vec![V::Int(2), V::Text("y".into())]
        ])
    );
}
