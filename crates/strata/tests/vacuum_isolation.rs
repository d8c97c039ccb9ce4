//! A VACUUM refused inside a transaction leaves that transaction isolated. (Checked while
//! investigating simulator seeds 71 and 103, whose difference turned out to be a read
//! recompiled after another connection's VACUUM taking its snapshot late, as SQLite's
//! re-prepare does: see `late_snapshot_matches` in simulator/src/sql_sim.rs.)

use strata::Database;

fn count(conn: &strata::Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap()
}

#[test]
fn refused_vacuum_inside_a_transaction_keeps_it_isolated() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("v.db")).unwrap();
    let c0 = db.connect();
    let c1 = db.connect();
    c0.execute_batch(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y');",
    )
    .unwrap();
    c1.execute("BEGIN", ()).unwrap();
    assert_eq!(count(&c1), 2);
    let e = c1
        .execute("VACUUM", ())
        .expect_err("VACUUM inside a transaction");
    assert!(
        e.to_string()
            .contains("cannot VACUUM from within a transaction"),
        "{e}"
    );
    c1.execute("INSERT INTO t VALUES (3, 'z')", ()).unwrap();
    assert_eq!(count(&c1), 3);
    assert_eq!(
        count(&c0),
        2,
        "another connection must not see the uncommitted insert"
    );
    c1.execute("ROLLBACK", ()).unwrap();
    assert_eq!(count(&c0), 2);
    assert_eq!(count(&c1), 2);
}
