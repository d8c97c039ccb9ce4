//! Acceptance tests for the SQL engine: the EXPLAIN listing (SQLite's eight columns and
//! the asynchronous Async/Await instruction pairs), and queries of every kind run to
//! completion on an IO that defers every completion, with a tiny page cache, giving
//! exactly the rows an inline IO and SQLite give.

use std::sync::Arc;

use strata::io::{MemoryIo, MemoryIoOptions};
use strata::{Connection, Database, OpenOptions, StepResult, Value};

/// One EXPLAIN row.
#[derive(Debug, Clone)]
struct Op {
    addr: i64,
    opcode: String,
    p1: i64,
    p2: i64,
    #[allow(dead_code)]
    p3: i64,
    #[allow(dead_code)]
    p4: Option<String>,
    #[allow(dead_code)]
    p5: i64,
}

fn explain(conn: &Connection, sql: &str) -> Vec<Op> {
    let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
    assert_eq!(stmt.column_count(), 8);
    assert_eq!(
        stmt.column_names(),
        ["addr", "opcode", "p1", "p2", "p3", "p4", "p5", "comment"]
    );
    let mut rows = stmt.query(()).unwrap();
    let mut ops = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        let v = row.values();
        assert_eq!(v.len(), 8);
        let int = |i: usize| match &v[i] {
            Value::Integer(x) => *x,
            other => panic!("column {i} of {v:?} is not an integer: {other:?}"),
        };
        let opt_text = |i: usize| match &v[i] {
            Value::Null => None,
            Value::Text(t) => Some(String::from_utf8(t.clone()).unwrap()),
            other => panic!("column {i} of {v:?} is neither NULL nor text: {other:?}"),
        };
        let opcode = opt_text(1).expect("opcode is never NULL");
        // The comment column is NULL or text.
        let _ = opt_text(7);
        ops.push(Op {
            addr: int(0),
            opcode,
            p1: int(2),
            p2: int(3),
            p3: int(4),
            p4: opt_text(5),
            p5: int(6),
        });
    }
    ops
}

fn listing(ops: &[Op]) -> String {
    ops.iter()
        .map(|o| format!("{:>3} {:<16} {} {} {}", o.addr, o.opcode, o.p1, o.p2, o.p3))
        .collect::<Vec<_>>()
        .join("\n")
}

fn position(ops: &[Op], opcode: &str) -> usize {
    let found: Vec<usize> = (0..ops.len())
        .filter(|&i| ops[i].opcode == opcode)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected exactly one {opcode} in\n{}",
        listing(ops)
    );
    found[0]
}

#[test]
fn explain_select_star_lists_async_await_pairs_in_order() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch("CREATE TABLE users (id INT PRIMARY KEY, username TEXT)")
        .unwrap();
    let root: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = 'users'",
            (),
            |r| r.get(0),
        )
        .unwrap();

    let ops = explain(&conn, "SELECT * FROM users");
    let text = listing(&ops);
    // Addresses are 0, 1, 2, ... in order.
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(op.addr, i as i64, "{text}");
    }
    assert_eq!(ops[0].opcode, "Init", "{text}");

    let open_async = position(&ops, "OpenReadAsync");
    let open_await = position(&ops, "OpenReadAwait");
    let rewind_async = position(&ops, "RewindAsync");
    let rewind_await = position(&ops, "RewindAwait");
    let result_row = position(&ops, "ResultRow");
    let next_async = position(&ops, "NextAsync");
    let next_await = position(&ops, "NextAwait");
    let halt = position(&ops, "Halt");
    let transaction = position(&ops, "Transaction");
    assert!(
        open_async < open_await
            && open_await < rewind_async
            && rewind_async < rewind_await
            && rewind_await < result_row
            && result_row < next_async
            && next_async < next_await
            && next_await < halt,
        "Async/Await pairs out of order:\n{text}"
    );
    // Each Await directly follows its Async.
    assert_eq!(open_await, open_async + 1, "{text}");
    assert_eq!(rewind_await, rewind_async + 1, "{text}");
    assert_eq!(next_await, next_async + 1, "{text}");

    // Operands as SQLite places them: the cursor in p1 of every pair, the table's root
    // page in p2 of the open, jump targets in p2.
    let cursor = ops[open_async].p1;
    for i in [
        open_await,
        rewind_async,
        rewind_await,
        next_async,
        next_await,
    ] {
        assert_eq!(ops[i].p1, cursor, "cursor of {}:\n{text}", ops[i].opcode);
    }
    assert_eq!(ops[open_async].p2, root, "root page of users:\n{text}");
    // Rewind on an empty table jumps past the loop; Next jumps back into the body.
    assert!(ops[rewind_await].p2 as usize > next_await, "{text}");
    let back = ops[next_await].p2 as usize;
    assert!(
        back > rewind_await && back <= result_row,
        "NextAwait jumps back to the loop body:\n{text}"
    );
    // ResultRow returns both columns.
    assert_eq!(ops[result_row].p2, 2, "{text}");
    // Init jumps to the Transaction (SQLite's layout: the transaction is begun at the
    // end, then control goes back to the start of the program).
    assert!(ops[0].p2 as usize <= transaction, "{text}");
    assert!(transaction > halt, "{text}");
    for op in &ops {
        if op.opcode.ends_with("Goto") || op.opcode == "Init" {
            assert!((op.p2 as usize) < ops.len(), "jump out of range:\n{text}");
        }
    }

    // EXPLAIN does not run the statement: the table is untouched and still empty, and
    // the listing is the same on a table with rows.
    conn.execute("INSERT INTO users VALUES (1, 'ada'), (2, 'bob')", ())
        .unwrap();
    let again = explain(&conn, "SELECT * FROM users");
    assert_eq!(
        again.iter().map(|o| &o.opcode).collect::<Vec<_>>(),
        ops.iter().map(|o| &o.opcode).collect::<Vec<_>>()
    );
    let n: i64 = conn
        .query_row("SELECT count(*) FROM users", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn explain_of_index_seek_and_write_shows_async_pairs() {
    let conn = Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE users (id INT PRIMARY KEY, username TEXT);
         CREATE INDEX users_name ON users(username);",
    )
    .unwrap();
    // An index seek: the opcodes are all Async/Await or synchronous, and the listing ends
    // in Halt ... Transaction like the scan's.
    let ops = explain(&conn, "SELECT id FROM users WHERE username = 'ada'");
    let text = listing(&ops);
    assert_eq!(ops[0].opcode, "Init", "{text}");
    let opens = ops.iter().filter(|o| o.opcode == "OpenReadAsync").count();
    let awaits = ops.iter().filter(|o| o.opcode == "OpenReadAwait").count();
    assert!(opens >= 1 && opens == awaits, "{text}");
    for (i, op) in ops.iter().enumerate() {
        if let Some(base) = op.opcode.strip_suffix("Async") {
            assert_eq!(
                ops[i + 1].opcode,
                format!("{base}Await"),
                "{} at {i} is not followed by its Await:\n{text}",
                op.opcode
            );
        }
    }
    assert!(ops.iter().any(|o| o.opcode == "Halt"), "{text}");
    assert!(ops.iter().any(|o| o.opcode == "Transaction"), "{text}");

    // An INSERT writes through Async/Await pairs too and begins a write transaction.
    let ops = explain(&conn, "INSERT INTO users VALUES (1, 'ada')");
    let text = listing(&ops);
    assert!(ops.iter().any(|o| o.opcode == "OpenWriteAsync"), "{text}");
    assert!(ops.iter().any(|o| o.opcode == "OpenWriteAwait"), "{text}");
    for (i, op) in ops.iter().enumerate() {
        if let Some(base) = op.opcode.strip_suffix("Async") {
            assert_eq!(ops[i + 1].opcode, format!("{base}Await"), "{text}");
        }
    }
    let tx = position(&ops, "Transaction");
    assert_ne!(
        ops[tx].p2, 0,
        "an INSERT begins a write transaction:\n{text}"
    );
    // And the EXPLAIN inserted nothing.
    let n: i64 = conn
        .query_row("SELECT count(*) FROM users", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

// ---------------------------------------------------------------------------------------
// Deferred IO
// ---------------------------------------------------------------------------------------

/// A value comparable across Strata and SQLite (the type is part of the value).
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Int(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl From<Value> for V {
    fn from(v: Value) -> V {
        match v {
            Value::Null => V::Null,
            Value::Integer(i) => V::Int(i),
            Value::Real(r) => V::Real(r),
            Value::Text(t) => V::Text(t),
            Value::Blob(b) => V::Blob(b),
        }
    }
}

impl From<rusqlite::types::ValueRef<'_>> for V {
    fn from(v: rusqlite::types::ValueRef<'_>) -> V {
        use rusqlite::types::ValueRef as R;
        match v {
            R::Null => V::Null,
            R::Integer(i) => V::Int(i),
            R::Real(r) => V::Real(r),
            R::Text(t) => V::Text(t.to_vec()),
            R::Blob(b) => V::Blob(b.to_vec()),
        }
    }
}

/// Runs `sql` with the non-blocking `step()`, driving the IO by hand on `Io`. Returns the
/// rows and how many times `step()` returned `Io`.
fn run_stepping(conn: &Connection, sql: &str) -> (Vec<Vec<V>>, usize) {
    let mut stmt = conn.prepare(sql).unwrap();
    let mut rows = Vec::new();
    let mut io_steps = 0;
    loop {
        match stmt.step().unwrap_or_else(|e| panic!("{sql}: {e}")) {
            StepResult::Row => rows.push(stmt.row().values().into_iter().map(V::from).collect()),
            StepResult::Done => break,
            StepResult::Io => {
                io_steps += 1;
                conn.io().run_once().unwrap();
            }
            StepResult::Busy => panic!("{sql}: unexpected Busy"),
        }
    }
    (rows, io_steps)
}

fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<V>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        out.push((0..n).map(|i| V::from(row.get_ref(i).unwrap())).collect());
    }
    out
}

const SCHEMA: &str = "
    CREATE TABLE t(id INTEGER PRIMARY KEY, grp INT NOT NULL, name TEXT, score REAL, pad TEXT);
    CREATE INDEX t_name ON t(name);
    CREATE INDEX t_grp_score ON t(grp, score DESC);
    CREATE TABLE u(gid INTEGER PRIMARY KEY, label TEXT UNIQUE);
    CREATE TABLE dst(id INTEGER PRIMARY KEY, name TEXT, score REAL);
";

const ROWS: i64 = 2000;

/// The rows of `t`: (id, grp, name, score, pad). Scores are multiples of 1/4 so that sums
/// are exact whatever the order of addition.
fn t_row(i: i64) -> (i64, i64, String, Option<f64>, String) {
    let id = i + 1;
    let grp = (i * 7919) % 37;
    // Names repeat (every 500) so the name index has duplicates.
    let name = format!("name {:04}", (i * 13) % 500);
    let score = if i % 11 == 0 {
        None
    } else {
        Some(((i * 31) % 1000) as f64 / 4.0 - 50.0)
    };
    let pad = format!("{i:05}-{}", "p".repeat(40 + (i % 60) as usize));
    (id, grp, name, score, pad)
}

fn populate_strata(conn: &Connection) {
    conn.execute_batch(SCHEMA).unwrap();
    let tx = conn.transaction().unwrap();
    {
        let mut ins = tx
            .prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)")
            .unwrap();
        for i in 0..ROWS {
            let (id, grp, name, score, pad) = t_row(i);
            ins.execute(strata::params![id, grp, name, score, pad])
                .unwrap();
        }
        let mut ins = tx.prepare("INSERT INTO u VALUES (?1, ?2)").unwrap();
        for g in 0..30i64 {
            ins.execute(strata::params![g, format!("group {g}")])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

fn populate_sqlite(conn: &rusqlite::Connection) {
    conn.execute_batch(SCHEMA).unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut ins = tx
            .prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)")
            .unwrap();
        for i in 0..ROWS {
            let (id, grp, name, score, pad) = t_row(i);
            ins.execute(rusqlite::params![id, grp, name, score, pad])
                .unwrap();
        }
        let mut ins = tx.prepare("INSERT INTO u VALUES (?1, ?2)").unwrap();
        for g in 0..30i64 {
            ins.execute(rusqlite::params![g, format!("group {g}")])
                .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Every statement is deterministic (total orders), so results compare as lists.
const QUERIES: &[&str] = &[
    // Full scans.
    "SELECT * FROM t",
    "SELECT id, grp, name, score, pad FROM t ORDER BY id",
    "SELECT count(*), sum(length(pad)) FROM t",
    // Rowid seeks and ranges.
    "SELECT * FROM t WHERE id = 1234",
    "SELECT id, name FROM t WHERE id BETWEEN 700 AND 950",
    // Index seeks: equality on duplicates, ranges, a two-column index with DESC.
    "SELECT id, name, score FROM t WHERE name = 'name 0077' ORDER BY id",
    "SELECT name, id FROM t INDEXED BY t_name WHERE name >= 'name 0200' AND name < 'name 0230' ORDER BY name, id",
    "SELECT grp, score, id FROM t INDEXED BY t_grp_score WHERE grp = 5 AND score > 10 ORDER BY score DESC, id",
    "SELECT count(*) FROM t WHERE name > 'name 0450'",
    // ORDER BY needing a sorter.
    "SELECT id, score FROM t ORDER BY score DESC, id",
    "SELECT pad, id FROM t ORDER BY pad DESC LIMIT 25 OFFSET 100",
    // GROUP BY and aggregates.
    "SELECT grp, count(*), count(score), sum(score), min(name), max(name), avg(score) FROM t GROUP BY grp ORDER BY grp",
    "SELECT name, count(*) AS c FROM t GROUP BY name HAVING c > 3 ORDER BY c DESC, name",
    "SELECT count(DISTINCT grp), total(score), max(score), min(score) FROM t",
    // Joins.
    "SELECT t.id, u.label FROM t JOIN u ON t.grp = u.gid WHERE t.id % 7 = 0 ORDER BY t.id",
    "SELECT u.label, count(t.id) FROM u LEFT JOIN t ON t.grp = u.gid AND t.score > 100 GROUP BY u.gid ORDER BY u.gid",
    "SELECT a.id, b.id FROM t AS a JOIN t AS b ON a.name = b.name AND a.id < b.id WHERE a.id < 300 ORDER BY a.id, b.id",
    // Subqueries.
    "SELECT id FROM t WHERE grp IN (SELECT gid FROM u WHERE label LIKE 'group 1%') ORDER BY id",
];

/// Writes run under deferred IO too; each is followed by a check of the table.
const WRITES: &[(&str, &str)] = &[
    (
        "INSERT INTO dst SELECT id, name, score FROM t WHERE id % 3 = 0",
        "SELECT * FROM dst ORDER BY id",
    ),
    (
        "INSERT INTO dst(name, score) SELECT t.name || '/' || u.label, t.score FROM t JOIN u ON u.gid = t.grp WHERE t.id % 17 = 1 ORDER BY t.id",
        "SELECT * FROM dst ORDER BY id",
    ),
    (
        "UPDATE t SET pad = pad || '-updated', score = score + 1 WHERE grp = 3",
        "SELECT id, pad, score FROM t WHERE grp = 3 ORDER BY id",
    ),
    (
        "DELETE FROM t WHERE id % 5 = 2",
        "SELECT count(*), sum(id), sum(score) FROM t",
    ),
];

fn deferred_db(options: MemoryIoOptions) -> Database {
    let io = Arc::new(MemoryIo::with_options(options));
    OpenOptions::new()
        .io(io)
        .page_size(1024)
        .cache_size_pages(4)
        .open("deferred.db")
        .unwrap()
}

fn check_deferred_against_inline_and_sqlite(options: MemoryIoOptions) {
    let deferred = deferred_db(options);
    populate_strata(&deferred.connect());

    let inline = OpenOptions::new()
        .io(Arc::new(MemoryIo::new()))
        .page_size(1024)
        .open("inline.db")
        .unwrap();
    let inline_conn = inline.connect();
    populate_strata(&inline_conn);

    let sqlite = rusqlite::Connection::open_in_memory().unwrap();
    populate_sqlite(&sqlite);

    let check = |sql: &str| {
        // A fresh connection each time: a cold cache of four pages.
        let conn = deferred.connect();
        let (rows, io_steps) = run_stepping(&conn, sql);
        assert!(
            io_steps > 0,
            "{sql}: step() never returned Io under deferred IO"
        );
        let (inline_rows, _) = run_stepping(&inline_conn, sql);
        assert_eq!(rows, inline_rows, "{sql}: deferred vs inline IO");
        assert_eq!(rows, sqlite_rows(&sqlite, sql), "{sql}: Strata vs SQLite");
        rows
    };

    for sql in QUERIES {
        let rows = check(sql);
        assert!(!rows.is_empty(), "{sql}: the workload should return rows");
    }
    for (write, verify) in WRITES {
        let conn = deferred.connect();
        let (out, io_steps) = run_stepping(&conn, write);
        assert!(out.is_empty());
        assert!(io_steps > 0, "{write}: step() never returned Io");
        let changes = conn.changes();
        run_stepping(&inline_conn, write);
        let sqlite_changes = sqlite.execute(write, []).unwrap();
        assert_eq!(changes, sqlite_changes as u64, "{write}: changes()");
        assert_eq!(changes, inline_conn.changes(), "{write}: changes()");
        check(verify);
    }
    // And everything again after the writes.
    for sql in QUERIES {
        check(sql);
    }
    // The deferred database is consistent.
    let (rows, _) = run_stepping(&deferred.connect(), "PRAGMA integrity_check");
    assert_eq!(rows, [[V::Text(b"ok".to_vec())]]);
}

#[test]
fn deferred_io_gives_the_same_rows_as_inline_io_and_sqlite() {
    check_deferred_against_inline_and_sqlite(MemoryIoOptions {
        defer: true,
        ..MemoryIoOptions::default()
    });
}

#[test]
fn shuffled_deferred_io_gives_the_same_rows_as_inline_io_and_sqlite() {
    // Completions in random order and random batches.
    check_deferred_against_inline_and_sqlite(MemoryIoOptions {
        defer: true,
        shuffle_seed: Some(0xC0FFEE),
        ..MemoryIoOptions::default()
    });
}

#[test]
fn deferred_io_interleaves_two_statements_on_one_thread() {
    // Two statements of two connections stepped alternately on one thread, each
    // returning Io while the other makes progress.
    let db = deferred_db(MemoryIoOptions {
        defer: true,
        ..MemoryIoOptions::default()
    });
    populate_strata(&db.connect());
    let a = db.connect();
    let b = db.connect();
    let mut sa = a.prepare("SELECT id FROM t ORDER BY id").unwrap();
    let mut sb = b
        .prepare("SELECT id FROM t INDEXED BY t_name ORDER BY name DESC, id DESC")
        .unwrap();
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    let (mut done_a, mut done_b) = (false, false);
    let mut io_steps = 0;
    while !(done_a && done_b) {
        for (stmt, out, done) in [
            (&mut sa, &mut ra, &mut done_a),
            (&mut sb, &mut rb, &mut done_b),
        ] {
            if *done {
                continue;
            }
            match stmt.step().unwrap() {
                StepResult::Row => out.push(stmt.row().get::<_, i64>(0).unwrap()),
                StepResult::Done => *done = true,
                StepResult::Io => io_steps += 1,
                StepResult::Busy => panic!("unexpected Busy"),
            }
        }
        a.io().run_once().unwrap();
    }
    assert!(io_steps > 0);
    assert_eq!(ra, (1..=ROWS).collect::<Vec<_>>());
    let mut expected: Vec<(String, i64)> = (0..ROWS)
        .map(|i| {
            let (id, _, name, _, _) = t_row(i);
            (name, id)
        })
        .collect();
    expected.sort();
    expected.reverse();
    assert_eq!(
        rb,
        expected.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    );
}
