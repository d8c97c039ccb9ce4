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
    Sql(String),
    /// A statement on a second connection (outside any transaction of the first).
    Other(String),
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
                strata
                    .execute_batch(sql)
                    .unwrap_or_else(|e| panic!("step {k}: {sql}: {e}"));
            }
            Other(sql) => {
                sqlite2.execute_batch(sql).unwrap();
                strata2
                    .execute_batch(sql)
                    .unwrap_or_else(|e| panic!("step {k}: {sql}: {e}"));
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
        Sql("BEGIN".into()),
        Insert { n: 400, len: 20 },
        // Rows at the end deleted: the next rowid is the new largest + 1.
        Sql("DELETE FROM t WHERE rowid > 350".into()),
        Insert { n: 5, len: 20 },
        // A larger rowid put there by another statement.
        Sql("INSERT INTO t(rowid, v) VALUES (100000, 'far')".into()),
        Insert { n: 3, len: 20 },
        // Another table written in between (other pages change, not this tree).
        Sql("INSERT INTO u VALUES (1), (2), (3)".into()),
        Insert { n: 3, len: 20 },
        // A savepoint's inserts rolled back: the end moves back.
        Sql("SAVEPOINT s".into()),
        Insert { n: 200, len: 20 },
        Sql("ROLLBACK TO s".into()),
        Insert { n: 2, len: 20 },
        Sql("RELEASE s".into()),
        Insert { n: 2, len: 20 },
        Sql("COMMIT".into()),
    ]);
}

#[test]
fn commits_and_other_connections_between_executions() {
    run(&[
        Sql("BEGIN".into()),
        Insert { n: 300, len: 30 },
        Sql("COMMIT".into()),
        Other("INSERT INTO t(rowid, v) VALUES (5000, 'other')".into()),
        Sql("BEGIN".into()),
        Insert { n: 10, len: 30 },
        Sql("ROLLBACK".into()),
        Other("DELETE FROM t WHERE rowid > 200".into()),
        Sql("BEGIN".into()),
        Insert { n: 10, len: 30 },
        Sql("COMMIT".into()),
        // Autocommit executions: each its own transaction.
        Insert { n: 5, len: 30 },
    ]);
}

#[test]
fn the_tree_shrinks_to_its_root_and_grows_with_overflow_rows() {
    run(&[
        Sql("BEGIN".into()),
        // Rows larger than a page: overflow chains and splits on every insert.
        Insert { n: 60, len: 5000 },
        Sql("DELETE FROM t".into()),
        Insert { n: 3, len: 10 },
        Sql("DELETE FROM t WHERE rowid < (SELECT max(rowid) FROM t)".into()),
        Insert { n: 500, len: 100 },
        Sql("UPDATE t SET v = v || 'y' WHERE rowid % 7 = 0".into()),
        Insert { n: 50, len: 3000 },
        Sql("COMMIT".into()),
    ]);
}

/// A small deterministic generator (xorshift), so each seed is one reproducible run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Random runs: the prepared insert interleaved with everything that can move the end of
/// the table or undo pages between two executions (deletes and inserts at the end,
/// updates that grow rows, transactions, nested savepoints rolled back or released,
/// another connection's writes between transactions).
#[test]
fn random_interleavings_match_sqlite() {
    for seed in 1..=30u64 {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut steps = Vec::new();
        let mut in_tx = false;
        let mut savepoints = 0u32;
        for _ in 0..120 {
            match r.below(12) {
                0..=3 => steps.push(Insert {
                    n: 1 + r.below(6) as usize,
                    len: [5, 40, 300, 2500][r.below(4) as usize],
                }),
                4 => steps.push(Sql(format!(
                    "DELETE FROM t WHERE rowid > (SELECT coalesce(max(rowid), 0) FROM t) - {}",
                    r.below(40)
                ))),
                5 => steps.push(Sql(format!(
                    "INSERT INTO t(rowid, v) VALUES ((SELECT coalesce(max(rowid), 0) FROM t) + {}, 'z')",
                    1 + r.below(1000)
                ))),
                6 => steps.push(Sql(format!(
                    "UPDATE t SET v = v || '{}' WHERE rowid % {} = 0",
                    "u".repeat(r.below(200) as usize),
                    2 + r.below(5)
                ))),
                7 if !in_tx => {
                    steps.push(Sql("BEGIN".into()));
                    in_tx = true;
                }
                7 => {
                    let end = if r.below(3) == 0 { "ROLLBACK" } else { "COMMIT" };
                    steps.push(Sql(end.into()));
                    in_tx = false;
                    savepoints = 0;
                }
                8 if in_tx => {
                    savepoints += 1;
                    steps.push(Sql(format!("SAVEPOINT s{savepoints}")));
                }
                9 if savepoints > 0 => {
                    let to = 1 + r.below(u64::from(savepoints)) as u32;
                    if r.below(2) == 0 {
                        steps.push(Sql(format!("ROLLBACK TO s{to}")));
                        savepoints = to;
                    } else {
                        steps.push(Sql(format!("RELEASE s{to}")));
                        savepoints = to - 1;
                    }
                }
                10 if !in_tx => steps.push(Other(format!(
                    "INSERT INTO t(rowid, v) VALUES ((SELECT coalesce(max(rowid), 0) FROM t) + {}, 'o')",
                    1 + r.below(50)
                ))),
                11 => steps.push(Sql(format!("DELETE FROM t WHERE rowid % {} = 1", 2 + r.below(4)))),
                _ => steps.push(Insert { n: 1, len: 10 }),
            }
        }
        if in_tx {
            steps.push(Sql("COMMIT".into()));
        }
        run(&steps);
    }
}
