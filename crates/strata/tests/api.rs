//! The public API end to end: opening, parameters, queries, transactions, concurrency,
//! errors, deferred I/O, and SQLite compatibility of what we write.

use std::sync::Arc;
use std::time::Duration;

use strata::io::{MemoryIo, MemoryIoOptions};
use strata::{
    named_params, params, Connection, Database, Error, ErrorCode, OpenOptions, StepResult, Value,
    ValueRef,
};

fn mem() -> Connection {
    Connection::open_in_memory().expect("open in memory")
}

#[test]
fn handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Database>();
    send_sync::<Connection>();
    send::<strata::Statement>();
    send_sync::<Error>();
    send_sync::<Value>();
}

#[test]
fn open_connect_and_roundtrip() {
    let db = Database::open_in_memory().unwrap();
    let conn = db.connect();
    conn.execute_batch("CREATE TABLE t(a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'one');")
        .unwrap();
    let (a, b): (i64, String) = conn
        .query_row("SELECT a, b FROM t", (), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((a, b.as_str()), (1, "one"));
    // A second connection of the same database sees the commit.
    let other = db.connect();
    let n: i64 = other
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn open_file_with_options() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opts.db");
    {
        let db = OpenOptions::new()
            .page_size(1024)
            .cache_size_pages(10)
            .sync_mode(strata::SyncMode::Normal)
            .open(&path)
            .unwrap();
        assert_eq!(db.page_size(), 1024);
        db.connect()
            .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (7);")
            .unwrap();
    }
    // Reopen with the default IO (io_uring or syscalls).
    let conn = Connection::open(&path).unwrap();
    let x: i64 = conn.query_row("SELECT x FROM t", (), |r| r.get(0)).unwrap();
    assert_eq!(x, 7);
    assert_eq!(conn.database().page_size(), 1024);
}

#[test]
fn second_open_of_a_file_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.db");
    let _db = Database::open(&path).unwrap();
    let err = Database::open(&path).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Busy);
    assert_eq!(err.to_string(), "database is locked");
}

#[test]
fn parameters_of_every_style() {
    let conn = mem();
    // Anonymous, positional via params!, arrays, tuples, slices.
    let v: i64 = conn
        .query_row("SELECT ? + ?", params![40, 2], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 42);
    let v: i64 = conn
        .query_row("SELECT ? * ?", [6, 7], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 42);
    let v: String = conn
        .query_row("SELECT ? || ?", ("a", 1), |r| r.get(0))
        .unwrap();
    assert_eq!(v, "a1");
    let vals = vec![Value::Integer(1), Value::text("x")];
    let v: String = conn
        .query_row("SELECT ?2 || ?1", &vals[..], |r| r.get(0))
        .unwrap();
    assert_eq!(v, "x1");
    // ?NNN: the count is the largest index.
    let mut stmt = conn.prepare("SELECT ?3, ?1").unwrap();
    assert_eq!(stmt.parameter_count(), 3);
    let (a, b): (i64, i64) = stmt
        .query_row([10, 20, 30], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!((a, b), (30, 10));
    // Wrong count.
    assert!(matches!(
        stmt.query_row([1], |_| Ok(())),
        Err(Error::InvalidParameterCount {
            given: 1,
            expected: 3
        })
    ));
    // Named: : @ $ via named_params! and bind_by_name.
    let v: String = conn
        .query_row(
            "SELECT :a || @b || $c",
            named_params! {":a": "x", "@b": 2, "$c": 3.5},
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, "x23.5");
    let mut stmt = conn.prepare("SELECT :a, :b, :a").unwrap();
    assert_eq!(stmt.parameter_count(), 2);
    assert_eq!(stmt.parameter_index(":a"), Some(1));
    assert_eq!(stmt.parameter_index(":b"), Some(2));
    assert_eq!(stmt.parameter_index(":zz"), None);
    assert_eq!(stmt.parameter_name(2), Some(":b"));
    stmt.bind_by_name(":a", "p").unwrap();
    stmt.bind(2, None::<i64>).unwrap();
    let row: (String, Option<i64>, String) = stmt
        .query_row((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    assert_eq!(row, ("p".to_string(), None, "p".to_string()));
    assert!(matches!(
        stmt.bind_by_name(":nope", 1),
        Err(Error::InvalidParameterName(_))
    ));
    assert_eq!(stmt.bind(3, 1).unwrap_err().code(), ErrorCode::Range);
    // Bindings survive reset; clear_bindings sets them to NULL.
    let v: String = stmt.query_row((), |r| r.get(0)).unwrap();
    assert_eq!(v, "p");
    stmt.clear_bindings();
    let v: Option<String> = stmt.query_row((), |r| r.get(0)).unwrap();
    assert_eq!(v, None);
    // Blobs, reals, bools.
    let (b, r, t): (Vec<u8>, f64, bool) = conn
        .query_row("SELECT ?, ?, ?", params![vec![1u8, 2, 3], 0.5, true], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((b, r, t), (vec![1, 2, 3], 0.5, true));
}

#[test]
fn query_map_rows_and_column_metadata() {
    let conn = mem();
    conn.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL);
         INSERT INTO t(name, score) VALUES ('a', 1.5), ('b', NULL), ('c', 3);",
    )
    .unwrap();
    let names: Vec<String> = conn
        .query_map("SELECT name FROM t ORDER BY id", (), |r| r.get(0))
        .unwrap()
        .collect::<strata::Result<_>>()
        .unwrap();
    assert_eq!(names, ["a", "b", "c"]);

    let mut stmt = conn
        .prepare("SELECT id, name AS n, score FROM t WHERE id >= ?")
        .unwrap();
    assert_eq!(stmt.column_count(), 3);
    assert_eq!(stmt.column_name(1).unwrap(), "n");
    assert_eq!(stmt.column_names(), ["id", "n", "score"]);
    assert!(stmt.column_name(3).is_err());
    let scores: Vec<Option<f64>> = stmt
        .query_map([2], |r| r.get("score"))
        .unwrap()
        .collect::<strata::Result<_>>()
        .unwrap();
    assert_eq!(scores, [None, Some(3.0)]);

    let mut rows = stmt.query([1]).unwrap();
    let mut seen = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        seen.push(row.values());
        assert!(matches!(row.get_ref(0).unwrap(), ValueRef::Integer(_)));
        // Type mismatch is an error, not a conversion.
        assert!(matches!(
            row.get::<_, String>(0),
            Err(Error::InvalidColumnType { index: 0, .. })
        ));
        assert!(matches!(
            row.get::<_, i64>(9),
            Err(Error::InvalidColumnIndex(9))
        ));
    }
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[0],
        vec![Value::Integer(1), Value::text("a"), Value::Real(1.5)]
    );
    drop(rows);

    assert!(matches!(
        conn.query_row("SELECT 1 FROM t WHERE 0", (), |r| r.get::<_, i64>(0)),
        Err(Error::QueryReturnedNoRows)
    ));
    assert!(stmt.exists([3]).unwrap());
    assert!(!stmt.exists([4]).unwrap());
}

#[test]
fn last_insert_rowid_and_changes() {
    let conn = mem();
    conn.execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, v)")
        .unwrap();
    assert_eq!(conn.last_insert_rowid(), 0);
    assert_eq!(
        conn.execute("INSERT INTO t(v) VALUES (1), (2), (3)", ())
            .unwrap(),
        3
    );
    assert_eq!(conn.last_insert_rowid(), 3);
    assert_eq!(conn.changes(), 3);
    conn.execute("INSERT INTO t(id, v) VALUES (10, 4)", ())
        .unwrap();
    assert_eq!(conn.last_insert_rowid(), 10);
    assert_eq!(
        conn.execute("UPDATE t SET v = v + 1 WHERE id < 10", ())
            .unwrap(),
        3
    );
    assert_eq!(conn.execute("DELETE FROM t WHERE id = 2", ()).unwrap(), 1);
    assert_eq!(conn.total_changes(), 3 + 1 + 3 + 1);
}

#[test]
fn transactions_commit_rollback_and_drop() {
    let conn = mem();
    conn.execute_batch("CREATE TABLE t(x)").unwrap();
    let count = |c: &Connection| -> i64 {
        c.query_row("SELECT count(*) FROM t", (), |r| r.get(0))
            .unwrap()
    };
    {
        let tx = conn.transaction().unwrap();
        assert!(!tx.is_autocommit());
        tx.execute("INSERT INTO t VALUES (1)", ()).unwrap();
        tx.commit().unwrap();
    }
    assert!(conn.is_autocommit());
    assert_eq!(count(&conn), 1);
    {
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO t VALUES (2)", ()).unwrap();
        assert_eq!(count(&tx), 2);
        tx.rollback().unwrap();
    }
    assert_eq!(count(&conn), 1);
    {
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO t VALUES (3)", ()).unwrap();
        // dropped: rolled back
    }
    assert!(conn.is_autocommit());
    assert_eq!(count(&conn), 1);
    // Plain SQL transactions.
    conn.execute_batch("BEGIN; INSERT INTO t VALUES (4); INSERT INTO t VALUES (5);")
        .unwrap();
    assert!(!conn.is_autocommit());
    conn.execute_batch("ROLLBACK").unwrap();
    assert_eq!(count(&conn), 1);
    conn.execute_batch("BEGIN; INSERT INTO t VALUES (6); COMMIT;")
        .unwrap();
    assert_eq!(count(&conn), 2);
}

#[test]
fn reader_snapshot_and_busy_second_writer() {
    let db = Database::open_in_memory().unwrap();
    let a = db.connect();
    let b = db.connect();
    a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();

    // b opens a read transaction and keeps its snapshot while a commits.
    b.execute_batch("BEGIN").unwrap();
    let n: i64 = b
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    a.execute("INSERT INTO t VALUES (2)", ()).unwrap();
    let n: i64 = b
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "reader sees its snapshot");
    b.execute_batch("COMMIT").unwrap();
    let n: i64 = b
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2, "a new transaction sees the commit");

    // a holds the write lock; b's write gets Busy from the non-blocking step.
    a.execute_batch("BEGIN; INSERT INTO t VALUES (3);").unwrap();
    let mut stmt = b.prepare("INSERT INTO t VALUES (4)").unwrap();
    let r = loop {
        match stmt.step() {
            Ok(StepResult::Io) => b.io().run_once().unwrap(),
            other => break other,
        }
    };
    assert_eq!(r.unwrap(), StepResult::Busy);
    stmt.reset();
    // The blocking layer gives up after the busy timeout.
    b.busy_timeout(Duration::from_millis(50));
    let err = b.execute("INSERT INTO t VALUES (4)", ()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Busy);
    assert_eq!(err.to_string(), "database is locked");
    a.execute_batch("COMMIT").unwrap();
    // Now b can write.
    b.execute("INSERT INTO t VALUES (4)", ()).unwrap();
    let n: i64 = a
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
}

#[test]
fn schema_changes_from_another_connection() {
    let db = Database::open_in_memory().unwrap();
    let a = db.connect();
    let b = db.connect();
    a.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    // b loads its schema now.
    let n: i64 = b
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    // A statement prepared by b before a's schema change is recompiled transparently.
    let mut stmt = b.prepare("SELECT count(*) FROM t").unwrap();
    a.execute_batch("CREATE TABLE u(y); CREATE INDEX t_x ON t(x);")
        .unwrap();
    let n: i64 = stmt.query_row((), |r| r.get(0)).unwrap();
    assert_eq!(n, 1);
    // A table created by another connection is found.
    b.execute("INSERT INTO u VALUES (5)", ()).unwrap();
    let y: i64 = b.query_row("SELECT y FROM u", (), |r| r.get(0)).unwrap();
    assert_eq!(y, 5);
    let x: i64 = b
        .query_row("SELECT x FROM t INDEXED BY t_x WHERE x = 1", (), |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(x, 1);
}

#[test]
fn errors_carry_sqlite_messages() {
    let conn = mem();
    let e = conn.prepare("SELECT * FROM nosuch").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Error);
    assert_eq!(e.to_string(), "no such table: nosuch");
    let e = conn.execute_batch("SELEC 1").unwrap_err();
    assert_eq!(e.code(), ErrorCode::Error);
    assert_eq!(e.to_string(), "near \"SELEC\": syntax error");
    conn.execute_batch("CREATE TABLE t(a UNIQUE)").unwrap();
    conn.execute("INSERT INTO t VALUES (1)", ()).unwrap();
    let e = conn.execute("INSERT INTO t VALUES (1)", ()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Constraint);
    assert_eq!(e.sqlite_code(), 19);
    assert_eq!(e.to_string(), "UNIQUE constraint failed: t.a");
    // The connection is still usable and the failed statement changed nothing.
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
    // Empty text is not a statement; prepare_with_tail reports it as None.
    assert!(conn.prepare("  -- nothing\n ; ").is_err());
    assert!(conn.prepare_with_tail("  ;  ").unwrap().is_none());
    // execute_batch stops at the first error.
    let e = conn
        .execute_batch(
            "INSERT INTO t VALUES (2); INSERT INTO nosuch VALUES (1); INSERT INTO t VALUES (3);",
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "no such table: nosuch");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn garbage_sql_is_an_error_not_a_panic() {
    let conn = mem();
    for sql in [
        "SELECT (((((",
        "\u{0}\u{1}\u{2}",
        "CREATE TABLE",
        "SELECT 'unterminated",
        "WITH RECURSIVE",
        "SELECT * FROM t WHERE x IN (SELECT",
    ] {
        assert!(conn.execute_batch(sql).is_err(), "{sql:?}");
    }
}

#[test]
fn prepare_with_tail_walks_statements() {
    let conn = mem();
    let sql = "SELECT 1; SELECT 'two' ; -- end\n";
    let mut rest = sql;
    let mut results = Vec::new();
    while let Some((mut stmt, tail)) = conn.prepare_with_tail(rest).unwrap() {
        let v: Value = stmt.query_row((), |r| r.get(0)).unwrap();
        results.push(v);
        rest = &rest[tail..];
    }
    assert_eq!(results, [Value::Integer(1), Value::text("two")]);
}

#[test]
fn deferred_io_returns_io_and_still_gives_the_right_rows() {
    let io = Arc::new(MemoryIo::with_options(MemoryIoOptions {
        defer: true,
        ..MemoryIoOptions::default()
    }));
    // A small cache so the query must read pages again.
    let db = OpenOptions::new()
        .io(io.clone())
        .cache_size_pages(4)
        .page_size(512)
        .open("deferred.db")
        .unwrap();
    let writer = db.connect();
    writer
        .execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, pad TEXT)")
        .unwrap();
    {
        let tx = writer.transaction().unwrap();
        let mut ins = tx.prepare("INSERT INTO t(pad) VALUES (?)").unwrap();
        for i in 0..500 {
            ins.execute([format!("row {i} {}", "x".repeat(40))])
                .unwrap();
        }
        drop(ins);
        tx.commit().unwrap();
    }
    // A fresh connection has a cold cache.
    let conn = db.connect();
    let mut stmt = conn.prepare("SELECT id, pad FROM t ORDER BY id").unwrap();
    let mut io_steps = 0;
    let mut ids = Vec::new();
    loop {
        match stmt.step().unwrap() {
            StepResult::Row => {
                let row = stmt.row();
                ids.push(row.get::<_, i64>(0).unwrap());
                let pad: String = row.get(1).unwrap();
                assert!(pad.starts_with(&format!("row {} ", ids.len() - 1)));
            }
            StepResult::Done => break,
            StepResult::Io => {
                io_steps += 1;
                conn.io().run_once().unwrap();
            }
            StepResult::Busy => panic!("unexpected Busy"),
        }
    }
    assert!(io_steps > 0, "deferred IO must make step() return Io");
    assert_eq!(ids, (1..=500).collect::<Vec<i64>>());
}

#[test]
fn file_written_by_strata_passes_sqlite_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("compat.db");
    let expected: Vec<(i64, String, Option<f64>, Vec<u8>)> = (0..300)
        .map(|i| {
            (
                i,
                format!("name {i} {}", "y".repeat(i as usize % 50)),
                if i % 3 == 0 {
                    None
                } else {
                    Some(i as f64 / 4.0)
                },
                vec![i as u8; (i % 7) as usize],
            )
        })
        .collect();
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, data BLOB);
             CREATE INDEX t_name ON t(name);",
        )
        .unwrap();
        let tx = conn.transaction().unwrap();
        for (id, name, score, data) in &expected {
            tx.execute(
                "INSERT INTO t VALUES (?1, ?2, ?3, ?4)",
                params![id, name, score, data],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        conn.execute("DELETE FROM t WHERE id % 10 = 5", ()).unwrap();
    }
    let expected: Vec<_> = expected.into_iter().filter(|r| r.0 % 10 != 5).collect();

    let sqlite = rusqlite::Connection::open(&path).unwrap();
    let check: String = sqlite
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let mut stmt = sqlite
        .prepare("SELECT id, name, score, data FROM t ORDER BY id")
        .unwrap();
    let got: Vec<(i64, String, Option<f64>, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(got, expected);
    // The index is usable by SQLite too.
    let n: i64 = sqlite
        .query_row(
            "SELECT count(*) FROM t INDEXED BY t_name WHERE name >= ''",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n as usize, expected.len());
}
