//! A prepared statement keeps its B-tree cursors' allocations from one execution to the
//! next (`Vm::recycled`), and skips re-reading the schema cookie while nothing this
//! connection reads has changed (`Pager::content_epoch`): issue 13. These runs re-execute
//! prepared statements across everything that could make a kept cursor or a skipped
//! check wrong (schema changes by this and another connection, a table dropped and made
//! again at another root, writes by another connection between executions, executions
//! abandoned part-way, rows larger than the kept buffers, subqueries that reopen their
//! cursor per outer row) and compare every answer with SQLite (rusqlite).

use strata::Database;

type Rows = Vec<Vec<String>>;

fn strata_rows(st: &mut strata::Statement, params: &[i64], limit: usize) -> Result<Rows, String> {
    let mut rows = st.query(params).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while out.len() < limit {
        match rows.next().map_err(|e| e.to_string())? {
            Some(r) => {
                let n = r.column_count();
                out.push(
                    (0..n)
                        .map(|i| format!("{:?}", r.get::<_, strata::Value>(i).unwrap()))
                        .collect(),
                );
            }
            None => break,
        }
    }
    Ok(out)
}

fn sqlite_rows(st: &mut rusqlite::Statement, params: &[i64], limit: usize) -> Result<Rows, String> {
    let n = st.column_count();
    let mut rows = st
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while out.len() < limit {
        match rows.next().map_err(|e| e.to_string())? {
            Some(r) => out.push(
                (0..n)
                    .map(|i| {
                        let v: rusqlite::types::Value = r.get(i).unwrap();
                        format!("{:?}", strata_value(v))
                    })
                    .collect(),
            ),
            None => break,
        }
    }
    Ok(out)
}

fn strata_value(v: rusqlite::types::Value) -> strata::Value {
    use rusqlite::types::Value as V;
    match v {
        V::Null => strata::Value::Null,
        V::Integer(i) => strata::Value::Integer(i),
        V::Real(r) => strata::Value::Real(r),
        V::Text(t) => strata::Value::Text(t.into_bytes()),
        V::Blob(b) => strata::Value::Blob(b),
    }
}

/// Two engines, two connections each, on files in WAL mode.
struct Pair {
    _dir: tempfile::TempDir,
    s1: rusqlite::Connection,
    s2: rusqlite::Connection,
    _db: Database,
    t1: strata::Connection,
    t2: strata::Connection,
}

impl Pair {
    fn new(setup: &str) -> Pair {
        let dir = tempfile::tempdir().unwrap();
        let s1 = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
        s1.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        s1.execute_batch(setup).unwrap();
        let s2 = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
        let db = Database::open(dir.path().join("t.db")).unwrap();
        let t1 = db.connect();
        t1.execute_batch(setup).unwrap();
        let t2 = db.connect();
        Pair {
            _dir: dir,
            s1,
            s2,
            _db: db,
            t1,
            t2,
        }
    }

    /// The same SQL on connection 1 (`other` false) or 2 of both engines.
    fn exec(&self, other: bool, sql: &str) {
        let (s, t) = if other {
            (&self.s2, &self.t2)
        } else {
            (&self.s1, &self.t1)
        };
        s.execute_batch(sql).unwrap();
        t.execute_batch(sql).unwrap();
    }
}

/// Runs `sql` prepared once on connection 1 of both engines, with each step's
/// parameters, after each step's SQL (on connection 1 or 2), reading at most `limit`
/// rows (fewer than the result: the execution is abandoned part-way).
fn check(setup: &str, sql: &str, steps: &[(bool, &str, &[i64], usize)]) {
    let p = Pair::new(setup);
    let mut s_st = p.s1.prepare(sql).unwrap();
    let mut t_st = p.t1.prepare(sql).unwrap();
    for (k, (other, between, params, limit)) in steps.iter().enumerate() {
        if !between.is_empty() {
            p.exec(*other, between);
        }
        let want = sqlite_rows(&mut s_st, params, *limit);
        let got = strata_rows(&mut t_st, params, *limit);
        assert_eq!(got, want, "step {k}: after {between:?} with {params:?}");
    }
}

const SETUP: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b INT);
    CREATE INDEX t_b ON t(b);
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500)
    INSERT INTO t SELECT i, 'row' || i, i % 37 FROM c;";

#[test]
fn point_selects_follow_other_connections_writes_and_schema_changes() {
    let sql = "SELECT a, b FROM t WHERE id = ?1";
    check(
        SETUP,
        sql,
        &[
            (false, "", &[7], 10),
            (false, "", &[7], 10),
            (true, "UPDATE t SET a = 'changed' WHERE id = 7", &[7], 10),
            (true, "", &[8], 10),
            // Another connection adds a column: the statement is compiled again.
            (true, "ALTER TABLE t ADD COLUMN c DEFAULT 'd'", &[7], 10),
            (
                true,
                "INSERT INTO t(id, a, b) VALUES (1000, 'new', 1)",
                &[1000],
                10,
            ),
            // Dropped and made again: the table's root page moves.
            (
                true,
                "CREATE TABLE pad(x); INSERT INTO pad VALUES (zeroblob(5000));
                 DROP TABLE t; CREATE TABLE t(id INTEGER PRIMARY KEY, b INT, a TEXT);
                 INSERT INTO t VALUES (7, 70, 'seven')",
                &[7],
                10,
            ),
            (false, "DROP TABLE pad", &[7], 10),
            (false, "CREATE INDEX t_a ON t(a)", &[7], 10),
            (false, "", &[8], 10),
        ],
    );
}

#[test]
fn scans_abandoned_part_way_and_run_again() {
    let sql = "SELECT id, a FROM t WHERE b = ?1 ORDER BY id";
    check(
        SETUP,
        sql,
        &[
            (false, "", &[3], 2),
            (false, "", &[3], 100),
            (false, "", &[4], 0),
            (false, "", &[4], 1),
            (true, "DELETE FROM t WHERE id % 2 = 0", &[3], 100),
            (false, "BEGIN; DELETE FROM t WHERE id < 100", &[3], 3),
            (false, "", &[3], 100),
            (false, "ROLLBACK", &[3], 100),
            (false, "DROP INDEX t_b", &[3], 5),
            (false, "", &[3], 100),
        ],
    );
}

#[test]
fn rows_larger_than_the_kept_buffers() {
    // 100 KiB and 300 KiB rows (past the 64 KiB a parked cursor keeps) between small ones.
    let sql = "SELECT id, length(a), substr(a, -3), b FROM t WHERE id BETWEEN ?1 AND ?2";
    check(
        SETUP,
        sql,
        &[
            (
                false,
                "UPDATE t SET a = hex(zeroblob(50000)) || 'end' WHERE id = 5",
                &[4, 6],
                10,
            ),
            (false, "", &[1, 3], 10),
            (
                false,
                "UPDATE t SET a = hex(zeroblob(150000)) || 'END' WHERE id = 2",
                &[1, 3],
                10,
            ),
            (false, "", &[5, 5], 10),
            (true, "UPDATE t SET a = 'small' WHERE id = 5", &[4, 6], 10),
        ],
    );
}

#[test]
fn correlated_subqueries_reopen_their_cursors_per_row() {
    let setup = "CREATE TABLE p(id INTEGER PRIMARY KEY, n INT);
        CREATE TABLE c(pid INT, v TEXT);
        CREATE INDEX c_pid ON c(pid);
        WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 60)
        INSERT INTO p SELECT i, i % 7 FROM k;
        WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 400)
        INSERT INTO c SELECT i % 61, 'v' || i FROM k;";
    let sql = "SELECT id,
            (SELECT count(*) FROM c WHERE c.pid = p.id),
            (SELECT max(v) FROM c WHERE c.pid = p.id AND v > 'v2'),
            EXISTS (SELECT 1 FROM c WHERE c.pid = p.id + ?1)
        FROM p WHERE n <> ?2 ORDER BY id";
    check(
        setup,
        sql,
        &[
            (false, "", &[1, 3], 1000),
            (false, "", &[2, 4], 7),
            (true, "DELETE FROM c WHERE pid % 3 = 0", &[1, 3], 1000),
            (false, "DROP INDEX c_pid", &[1, 3], 1000),
            (false, "", &[0, 0], 1000),
        ],
    );
}
