//! A prepared `INSERT` run in a loop inside a transaction keeps its table cursor (with the
//! right-most path and the largest rowid) from one execution to the next, so the next
//! new rowid needs no descent (issue 13). These runs make the kept path wrong in every
//! way another statement can between two executions (deletes at the end, a larger rowid
//! inserted elsewhere, a rolled-back savepoint, a commit and another connection's write,
//! a tree that shrinks to its root, overflow rows and splits) and compare every rowid and
//! the final table with SQLite (rusqlite), then have SQLite check the file.

use strata::Database;

/// One step of a run, done the same way on both engines.
enum Step {
    /// The prepared insert, `n` times, with values of `len` bytes.
    Insert { n: usize, len: usize },
    /// Another statement on the same connection.
    Sql(&'static str),
    /// A statement on a second connection (outside any transaction of the first).
    Other(&'static str),
}

use Step::*;

fn value(i: usize, len: usize) -> String {
    format!("{i:06}-{}", "x".repeat(len))
}

fn run(steps: &[Step]) {
    let dir = tempfile::tempdir().unwrap();
    let spath = dir.path().join("s.db");
    let tpath = dir.path().join("t.db");
    let setup = "PRAGMA journal_mode = WAL; CREATE TABLE t(v TEXT); CREATE TABLE u(w)";
    let sqlite = rusqlite::Connection::open(&spath).unwrap();
    sqlite.execute_batch(setup).unwrap();
    let sqlite2 = rusqlite::Connection::open(&spath).unwrap();
    let db = Database::open(&tpath).unwrap();
    let strata = db.connect();
    strata.execute_batch(setup).unwrap();
    let strata2 = db.connect();

    let mut s_ins = sqlite.prepare("INSERT INTO t(v) VALUES (?1)").unwrap();
    let mut t_ins = strata.prepare("INSERT INTO t(v) VALUES (?1)").unwrap();
    let mut counter = 0usize;
    for (k, step) in steps.iter().enumerate() {
        match step {
            Insert { n, len } => {
                for _ in 0..*n {
                    counter += 1;
                    let v = value(counter, *len);
                    s_ins.execute([&v]).unwrap();
                    t_ins.execute([&v]).unwrap();
                    assert_eq!(
                        strata.last_insert_rowid(),
                        sqlite.last_insert_rowid(),
                        "step {k}: rowid of insert {counter}"
                    );
                }
            }
            Sql(sql) => {
                sqlite.execute_batch(sql).unwrap();
                strata.execute_batch(sql).unwrap();
            }
            Other(sql) => {
                sqlite2.execute_batch(sql).unwrap();
                strata2.execute_batch(sql).unwrap();
            }
        }
    }
    drop(s_ins);
    drop(t_ins);

    let q = "SELECT rowid, v FROM t ORDER BY rowid";
    let mut st = sqlite.prepare(q).unwrap();
    let want: Vec<(i64, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let got: Vec<(i64, String)> = strata
        .prepare(q)
        .unwrap()
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(got.len(), want.len(), "row count");
    assert!(got == want, "table contents differ from SQLite's");
    drop(strata);
    drop(strata2);
    drop(db);
    let check = rusqlite::Connection::open(&tpath).unwrap();
    let ok: String = check
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn other_statements_between_executions_move_the_end() {
    run(&[
        Sql("BEGIN"),
        Insert { n: 400, len: 20 },
        // Rows at the end deleted: the next rowid is the new largest + 1.
        Sql("DELETE FROM t WHERE rowid > 350"),
        Insert { n: 5, len: 20 },
        // A larger rowid put there by another statement.
        Sql("INSERT INTO t(rowid, v) VALUES (100000, 'far')"),
        Insert { n: 3, len: 20 },
        // Another table written in between (other pages change, not this tree).
        Sql("INSERT INTO u VALUES (1), (2), (3)"),
        Insert { n: 3, len: 20 },
        // A savepoint's inserts rolled back: the end moves back.
        Sql("SAVEPOINT s"),
        Insert { n: 200, len: 20 },
        Sql("ROLLBACK TO s"),
        Insert { n: 2, len: 20 },
        Sql("RELEASE s"),
        Insert { n: 2, len: 20 },
        Sql("COMMIT"),
    ]);
}

#[test]
fn commits_and_other_connections_between_executions() {
    run(&[
        Sql("BEGIN"),
        Insert { n: 300, len: 30 },
        Sql("COMMIT"),
        Other("INSERT INTO t(rowid, v) VALUES (5000, 'other')"),
        Sql("BEGIN"),
        Insert { n: 10, len: 30 },
        Sql("ROLLBACK"),
        Other("DELETE FROM t WHERE rowid > 200"),
        Sql("BEGIN"),
        Insert { n: 10, len: 30 },
        Sql("COMMIT"),
        // Autocommit executions: each its own transaction.
        Insert { n: 5, len: 30 },
    ]);
}

#[test]
fn the_tree_shrinks_to_its_root_and_grows_with_overflow_rows() {
    run(&[
        Sql("BEGIN"),
        // Rows larger than a page: overflow chains and splits on every insert.
        Insert { n: 60, len: 5000 },
        Sql("DELETE FROM t"),
        Insert { n: 3, len: 10 },
        Sql("DELETE FROM t WHERE rowid < (SELECT max(rowid) FROM t)"),
        Insert { n: 500, len: 100 },
        Sql("UPDATE t SET v = v || 'y' WHERE rowid % 7 = 0"),
        Insert { n: 50, len: 3000 },
        Sql("COMMIT"),
    ]);
}
