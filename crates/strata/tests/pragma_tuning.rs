//! The tuning pragmas (`temp_store`, `locking_mode`, `automatic_index`, `cache_spill`,
//! `mmap_size`, `threads`, `optimize`, `analysis_limit`, `soft_heap_limit`,
//! `hard_heap_limit`, `reverse_unordered_selects`, `legacy_file_format`): every read and
//! set form answers as SQLite's (rusqlite, bundled): the same columns, rows and errors,
//! per connection (reset by a reopen, not seen by a second connection) or per process
//! for the heap limits. (Before, all of them were accepted and answered no row.) Where
//! Strata refuses a value (`reverse_unordered_selects = 1`, `locking_mode = EXCLUSIVE`,
//! the debug mask of `optimize` when a table qualifies) it is a clear error.

use std::path::Path;

use strata::{Database, ValueRef};

/// Column names, then the rows, as text; or the error message.
fn strata_answer(conn: &strata::Connection, sql: &str) -> Result<Vec<String>, String> {
    let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let mut out = vec![stmt.column_names().join(",")];
    let mut rows = stmt.query(()).map_err(|e| e.to_string())?;
    while let Some(r) = rows.next().map_err(|e| e.to_string())? {
        let mut row = Vec::new();
        for i in 0..n {
            row.push(match r.get_ref(i).map_err(|e| e.to_string())? {
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                other => format!("{other:?}"),
            });
        }
        out.push(row.join("|"));
    }
    Ok(out)
}

fn sqlite_message(e: rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m,
        e => e.to_string(),
    }
}

fn sqlite_answer(conn: &rusqlite::Connection, sql: &str) -> Result<Vec<String>, String> {
    let mut stmt = conn.prepare(sql).map_err(sqlite_message)?;
    let n = stmt.column_count();
    let mut out = vec![stmt.column_names().join(",")];
    let mut rows = stmt.query([]).map_err(sqlite_message)?;
    while let Some(r) = rows.next().map_err(sqlite_message)? {
        let mut row = Vec::new();
        for i in 0..n {
            row.push(match r.get_ref(i).map_err(sqlite_message)? {
                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                other => format!("{other:?}"),
            });
        }
        out.push(row.join("|"));
    }
    Ok(out)
}

/// A Strata connection and a SQLite connection on files of their own in one directory.
struct Pair {
    strata: strata::Connection,
    sqlite: rusqlite::Connection,
}

impl Pair {
    fn open(db: &Database, dir: &Path) -> Pair {
        Pair {
            strata: db.connect(),
            sqlite: rusqlite::Connection::open(dir.join("s.db")).unwrap(),
        }
    }

    /// Runs `sql` on both; the answers (or error messages) must be the same.
    fn same(&self, sql: &str) {
        let expected = sqlite_answer(&self.sqlite, sql);
        let got = strata_answer(&self.strata, sql);
        assert_eq!(got, expected, "{sql}");
    }

    /// Runs `sql` on both. Where SQLite ends up with a value Strata does not run with
    /// (`read` answers differently), Strata must have refused `sql` with an error
    /// containing `refusal`, and `restore` puts SQLite back; otherwise the answers agree.
    fn same_or_refused(&self, sql: &str, read: &str, refusal: &str, restore: &str) {
        let expected = sqlite_answer(&self.sqlite, sql);
        let got = strata_answer(&self.strata, sql);
        if sqlite_answer(&self.sqlite, read) == strata_answer(&self.strata, read) {
            assert_eq!(got, expected, "{sql}");
        } else {
            match got {
                Err(e) => assert!(e.contains(refusal), "{sql}: {e}"),
                Ok(rows) => panic!("{sql}: SQLite {expected:?}, Strata {rows:?}"),
            }
            self.sqlite.execute_batch(restore).unwrap();
            self.same(read);
        }
    }
}

const TUNING: [&str; 9] = [
    "temp_store",
    "automatic_index",
    "cache_spill",
    "mmap_size",
    "threads",
    "analysis_limit",
    "locking_mode",
    "optimize",
    "legacy_file_format",
];

/// Numbers (signs, hex, overflow, garbage after them) and words, as each pragma's
/// parser (SQLite's `sqlite3GetInt32`, `sqlite3DecOrHexToI64`, `sqlite3GetBoolean`,
/// `getTempStore`, `getLockingMode`) reads them.
const VALUES: [&str; 57] = [
    "0",
    "1",
    "2",
    "3",
    "4",
    "7",
    "8",
    "9",
    "100",
    "255",
    "256",
    "-1",
    "-0",
    "+3",
    "3.7",
    "0x10",
    "0x7fffffff",
    "0x80000000",
    "0X1f",
    "'0x'",
    "2147483647",
    "2147483648",
    "99999999999",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "99999999999999999999",
    "0xffffffffffffffff",
    "0x1ffffffffffffffff",
    "'12abc'",
    "'abc'",
    "' 12'",
    "'12 '",
    "off",
    "OFF",
    "no",
    "false",
    "on",
    "yes",
    "true",
    "normal",
    "NORMAL",
    "full",
    "extra",
    "file",
    "FILE",
    "memory",
    "Memory",
    "default",
    "DEFAULT",
    "exclusive",
    "'bogus'",
    "''",
    "-0x10",
    "+0x10",
    "00000000042",
    "-50",
];

/// Every read and set form of `p`, with and without a schema.
fn forms(p: &str, v: &str) -> [String; 6] {
    [
        format!("PRAGMA {p} = {v}"),
        format!("PRAGMA {p}"),
        format!("PRAGMA main.{p}({v})"),
        format!("PRAGMA temp.{p} = {v}"),
        format!("PRAGMA {p}"),
        format!("PRAGMA temp.{p}"),
    ]
}

/// Reads every setting, with each schema.
fn read_all(pair: &Pair) {
    for p in TUNING.iter().chain(&["reverse_unordered_selects"]) {
        for schema in ["", "main.", "temp."] {
            pair.same(&format!("PRAGMA {schema}{p}"));
        }
    }
}

#[test]
fn every_form_answers_as_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    read_all(&pair);
    for v in VALUES {
        for p in TUNING {
            for sql in forms(p, v) {
                if p == "locking_mode" {
                    // EXCLUSIVE is refused (Strata does not hold the lock).
                    pair.same_or_refused(
                        &sql,
                        "PRAGMA main.locking_mode",
                        "locking_mode = EXCLUSIVE is not supported",
                        "PRAGMA locking_mode = NORMAL; PRAGMA main.locking_mode = NORMAL",
                    );
                } else {
                    pair.same(&sql);
                }
            }
        }
        for sql in forms("reverse_unordered_selects", v) {
            // Reversing unordered scans would change answers: only the default runs.
            pair.same_or_refused(
                &sql,
                "PRAGMA reverse_unordered_selects",
                "reverse_unordered_selects = ",
                "PRAGMA reverse_unordered_selects = 0",
            );
        }
    }
    read_all(&pair);
}

/// Values set on one connection are its own: a second connection, and the same
/// connection reopened, read the defaults.
#[test]
fn values_are_per_connection() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    let sets = [
        "PRAGMA temp_store = MEMORY",
        "PRAGMA automatic_index = off",
        "PRAGMA cache_spill = 5000",
        "PRAGMA temp.cache_spill = 6000",
        "PRAGMA mmap_size = 65536",
        "PRAGMA threads = 3",
        "PRAGMA analysis_limit = 400",
    ];
    for sql in sets {
        pair.same(sql);
    }
    read_all(&pair);
    let second = Pair::open(&db, dir.path());
    read_all(&second);
    drop(second);
    drop(pair);
    drop(db);
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    read_all(&pair);
}

/// `cache_spill` reports the larger of the cache size and the spill threshold, both in
/// SQLite's pages (KiB counted with its per-page overhead), or 0 when spilling is off.
#[test]
fn cache_spill_follows_cache_size() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    for sql in [
        "CREATE TABLE t(x)",
        "PRAGMA cache_spill",
        "PRAGMA cache_size = -100",
        "PRAGMA cache_spill",
        "PRAGMA cache_spill = -50",
        "PRAGMA cache_spill",
        "PRAGMA cache_spill = -5000",
        "PRAGMA cache_spill",
        "PRAGMA cache_size = 10",
        "PRAGMA cache_spill",
        "PRAGMA cache_spill = 1",
        "PRAGMA cache_spill",
        "PRAGMA cache_spill = 0",
        "PRAGMA cache_spill",
        "PRAGMA cache_spill = 'yes'",
        "PRAGMA cache_spill",
        "PRAGMA cache_size = -1000000",
        "PRAGMA cache_spill",
        "PRAGMA cache_size = 0",
        "PRAGMA cache_spill",
        "PRAGMA temp.cache_spill",
        "PRAGMA temp.cache_spill = -9000",
        "PRAGMA temp.cache_spill",
        "PRAGMA cache_spill",
        "BEGIN",
        "PRAGMA cache_spill = 300",
        "INSERT INTO t VALUES (1)",
        "PRAGMA cache_spill",
        "COMMIT",
    ] {
        pair.same(sql);
    }
}

/// Changing `temp_store` drops the temp database (its tables are gone), as SQLite's
/// does; inside a transaction that is an error, and setting the same value is not a
/// change.
#[test]
fn temp_store_change_drops_temp() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    for sql in [
        "CREATE TABLE t(x)",
        "CREATE TEMP TABLE tt(y)",
        "INSERT INTO tt VALUES (1)",
        "PRAGMA temp_store = 0",
        "SELECT * FROM tt",
        "PRAGMA temp_store = FILE",
        "SELECT * FROM tt",
        "CREATE TEMP TABLE tt(y)",
        "CREATE TEMP VIEW v AS SELECT 1",
        "INSERT INTO tt VALUES (2)",
        "BEGIN",
        "PRAGMA temp_store = 1",
        "PRAGMA temp_store = 2",
        "PRAGMA temp_store",
        "INSERT INTO tt VALUES (3)",
        "COMMIT",
        "SELECT * FROM tt",
        "SELECT name FROM sqlite_temp_master ORDER BY name",
        "PRAGMA temp_store = memory",
        "SELECT * FROM tt",
        "SELECT name FROM sqlite_temp_master",
        "SELECT * FROM v",
        "CREATE TEMP TABLE tt(z)",
        "SELECT * FROM tt",
        "PRAGMA temp_store",
        "SELECT * FROM t",
    ] {
        pair.same(sql);
    }
}

/// `optimize` answers no row (Strata's runs no ANALYZE, SQLite's may); its debug mask is
/// refused when a table qualifies, since SQLite's list depends on statistics.
#[test]
fn optimize_answers_as_sqlite_or_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    for sql in [
        "PRAGMA optimize",
        "PRAGMA optimize(3)",
        "PRAGMA optimize(-1)",
        "PRAGMA optimize(0x10003)",
        "CREATE TABLE t(x)",
        "PRAGMA optimize(3)",
        "PRAGMA optimize(0x10002)",
        "CREATE INDEX i ON t(x)",
        "PRAGMA optimize",
        "PRAGMA main.optimize(2)",
        "PRAGMA temp.optimize(3)",
        "PRAGMA optimize(1)",
        "PRAGMA optimize(0)",
    ] {
        pair.same(sql);
    }
    let err = strata_answer(&pair.strata, "PRAGMA optimize(3)").unwrap_err();
    assert!(err.contains("PRAGMA optimize with the 0x01 bit"), "{err}");
    let err = strata_answer(&pair.strata, "PRAGMA locking_mode = exclusive").unwrap_err();
    assert!(err.contains("EXCLUSIVE is not supported"), "{err}");
    pair.same("PRAGMA temp.locking_mode = exclusive");
}

/// The heap limits are per process in both engines: they run in a child process (this
/// test binary again) so that setting them affects no other test, and the hard limit,
/// which SQL cannot remove, dies with it.
#[test]
fn heap_limits_answer_as_sqlite() {
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "heap_limits_child",
            "--include-ignored",
            "--nocapture",
        ])
        .env("STRATA_HEAP_LIMITS_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "run by heap_limits_answer_as_sqlite in a child process"]
fn heap_limits_child() {
    if std::env::var("STRATA_HEAP_LIMITS_CHILD").is_err() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    let other = Pair::open(&db, dir.path());
    let mut statements = Vec::new();
    for v in VALUES {
        statements.push(format!("PRAGMA soft_heap_limit = {v}"));
        statements.push("PRAGMA soft_heap_limit".into());
        statements.push(format!("PRAGMA main.soft_heap_limit({v})"));
        statements.push(format!("PRAGMA temp.soft_heap_limit = {v}"));
    }
    statements.extend(
        [
            "PRAGMA soft_heap_limit = 5000000",
            "PRAGMA hard_heap_limit",
            "PRAGMA hard_heap_limit = 0",
            "PRAGMA hard_heap_limit = -5",
            "PRAGMA hard_heap_limit = 'abc'",
            "PRAGMA hard_heap_limit = 9000000",
            "PRAGMA soft_heap_limit",
            "PRAGMA soft_heap_limit = 10000000",
            "PRAGMA soft_heap_limit = 0",
            "PRAGMA soft_heap_limit = 100",
            "PRAGMA hard_heap_limit = 20000000",
            "PRAGMA hard_heap_limit = 0",
            "PRAGMA hard_heap_limit = 0x100000",
            "PRAGMA soft_heap_limit",
            "PRAGMA temp.hard_heap_limit = 4096",
            "PRAGMA main.hard_heap_limit",
            "PRAGMA soft_heap_limit = -1",
            "PRAGMA soft_heap_limit",
        ]
        .map(String::from),
    );
    for sql in &statements {
        pair.same(sql);
        // Per process: the other connection reads the same.
        other.same("PRAGMA soft_heap_limit");
        other.same("PRAGMA hard_heap_limit");
    }
    // The API, as SQLite's, can remove the hard limit the pragma cannot (the soft limit,
    // lowered to the new hard one, goes too).
    assert_eq!(strata::soft_heap_limit64(-1), 100);
    assert_eq!(strata::hard_heap_limit64(0), 4096);
    assert_eq!(strata::soft_heap_limit64(-1), 0);
    assert_eq!(
        strata_answer(&pair.strata, "PRAGMA hard_heap_limit").unwrap()[1],
        "0"
    );
    assert_eq!(
        strata_answer(&pair.strata, "PRAGMA soft_heap_limit").unwrap()[1],
        "0"
    );
}

/// While a statement is reading the temp database, changing `temp_store` would drop it
/// under that statement: refused, as SQLite's (its temp B-tree is in a read transaction).
#[test]
fn temp_store_change_while_temp_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    for sql in ["CREATE TEMP TABLE tt(y)", "INSERT INTO tt VALUES (1), (2)"] {
        pair.same(sql);
    }
    let change = "PRAGMA temp_store = MEMORY";
    let expected = {
        let mut stmt = pair.sqlite.prepare("SELECT y FROM tt").unwrap();
        let mut rows = stmt.query([]).unwrap();
        rows.next().unwrap().unwrap();
        sqlite_answer(&pair.sqlite, change)
    };
    let got = {
        let mut stmt = pair.strata.prepare("SELECT y FROM tt").unwrap();
        let mut rows = stmt.query(()).unwrap();
        rows.next().unwrap().unwrap();
        strata_answer(&pair.strata, change)
    };
    assert_eq!(got, expected);
    assert!(expected.is_err(), "{expected:?}");
    for sql in [
        "SELECT * FROM tt",
        "PRAGMA temp_store",
        change,
        "SELECT * FROM tt",
    ] {
        pair.same(sql);
    }
}

/// `PRAGMA cache_size` reads back the value last set on the connection (it answered
/// SQLite's default -2000 whatever was set), every value form read as SQLite's
/// `sqlite3Atoi` reads it.
#[test]
fn cache_size_reads_back_what_was_set() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    for sql in [
        "PRAGMA cache_size",
        "PRAGMA cache_size = 500",
        "PRAGMA cache_size",
        "PRAGMA main.cache_size = -4000",
        "PRAGMA main.cache_size",
        "PRAGMA cache_size = '77'",
        "PRAGMA cache_size",
        "PRAGMA cache_size = '12abc'",
        "PRAGMA cache_size",
        "PRAGMA cache_size = 0x10",
        "PRAGMA cache_size",
        "PRAGMA cache_size = +30",
        "PRAGMA cache_size",
        "PRAGMA cache_size = 'garbage'",
        "PRAGMA cache_size",
        "CREATE TABLE t(x)",
        "BEGIN",
        "PRAGMA cache_size = 9",
        "INSERT INTO t VALUES (1)",
        "ROLLBACK",
        "PRAGMA cache_size",
    ] {
        pair.same(sql);
    }
}

/// `PRAGMA page_size = N` answers no row as SQLite's does (it answered the current size)
/// when N is the current size or not a valid size (SQLite ignores those too); a different
/// valid size is refused (Strata chooses the size when the database is opened) instead of
/// being silently not applied.
#[test]
fn page_size_set_form() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("t.db")).unwrap();
    let pair = Pair::open(&db, dir.path());
    for sql in [
        "CREATE TABLE t(x)",
        "PRAGMA page_size",
        "PRAGMA page_size = 4096",
        "PRAGMA page_size = 1000",
        "PRAGMA page_size = 'x'",
        "PRAGMA page_size = 0",
        "PRAGMA page_size",
    ] {
        pair.same(sql);
    }
    // A database with a schema: SQLite ignores the request, so does Strata (no row).
    let conn = db.connect();
    assert_eq!(
        strata_answer(&conn, "PRAGMA page_size = 8192"),
        Ok(vec![String::new()])
    );
    // A new database (no schema yet), where SQLite would take the size: refused.
    let fresh = Database::open(dir.path().join("fresh.db")).unwrap();
    let err = fresh
        .connect()
        .execute_batch("PRAGMA page_size = 8192")
        .unwrap_err();
    assert!(err.to_string().contains("not supported"), "{err}");
}

/// Runs each statement of `script` (one per line) on fresh in-memory databases of both
/// engines; column names, rows and errors must be the same. Every difference is
/// reported at once.
fn check_script(script: &str) {
    let ours = strata::Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let mut bad = Vec::new();
    for (i, sql) in script
        .lines()
        .map(|l| l.trim().trim_end_matches(';'))
        .enumerate()
    {
        if sql.is_empty() {
            continue;
        }
        let a = strata_answer(&ours, sql);
        let b = sqlite_answer(&theirs, sql);
        if a != b {
            bad.push(format!(
                "line {}: {sql}\n  strata: {a:?}\n  sqlite: {b:?}",
                i + 1
            ));
        }
    }
    assert!(bad.is_empty(), "{} differ:\n{}", bad.len(), bad.join("\n"));
}

/// In-memory databases answer the file pragmas as SQLite's `:memory:` does: no mmap,
/// journal mode "memory" (only "off" and "memory" take), the locking mode set.
#[test]
fn in_memory_database_file_pragmas() {
    check_script(
        "PRAGMA main.locking_mode;
PRAGMA locking_mode;
PRAGMA main.locking_mode = normal;
PRAGMA locking_mode;
PRAGMA mmap_size;
PRAGMA mmap_size = 1048576;
PRAGMA mmap_size;
PRAGMA main.mmap_size;
PRAGMA locking_mode;
PRAGMA locking_mode = exclusive;
PRAGMA locking_mode;
PRAGMA main.locking_mode;
PRAGMA locking_mode = normal;
PRAGMA locking_mode;
PRAGMA locking_mode = bogus;
PRAGMA journal_mode;
PRAGMA main.journal_mode;
PRAGMA journal_mode = wal;
PRAGMA journal_mode;
PRAGMA journal_mode = delete;
PRAGMA journal_mode = truncate;
PRAGMA journal_mode = persist;
PRAGMA journal_mode = off;
PRAGMA journal_mode;
PRAGMA journal_mode = memory;
PRAGMA journal_mode;
PRAGMA journal_mode = bogus;
CREATE TABLE t(x);
PRAGMA journal_mode = OFF;
PRAGMA journal_mode;
PRAGMA journal_mode = del;
PRAGMA main.journal_mode = mem;
PRAGMA journal_mode;
BEGIN;
INSERT INTO t VALUES (1);
PRAGMA journal_mode = off;
ROLLBACK;
SELECT count(*) FROM t;
PRAGMA journal_mode;
PRAGMA locking_mode = exclusive;
PRAGMA temp.locking_mode;
PRAGMA temp.mmap_size;
",
    );
}

/// `PRAGMA temp.freelist_count` before and after the temp database is used: its
/// header's count, 0 before. (`temp.page_count` stays refused: Strata's new temp
/// database has page 1 at once, SQLite's none until written, as for main.)
#[test]
fn temp_freelist_count() {
    check_script(
        "PRAGMA temp.freelist_count;
CREATE TEMP TABLE tt(x);
PRAGMA temp.freelist_count;
INSERT INTO tt SELECT zeroblob(3000) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3);
CREATE TEMP TABLE tu(y);
PRAGMA temp.freelist_count;
DROP TABLE tt;
PRAGMA temp.freelist_count;
PRAGMA main.freelist_count;
",
    );
}

/// `PRAGMA temp.X` before anything created the temp database: SQLite opens it (empty)
/// and answers for it.
#[test]
#[ignore = "not done (session 10, sqlfix): temp.cache_size, page_count, \
            journal_mode, auto_vacuum, integrity_check, quick_check, encoding, ... are refused \
            ('PRAGMA temp.X is not supported'); the per-database ones already answer"]
fn temp_schema_pragmas_before_any_temp_table() {
    let mut bad = Vec::new();
    for sql in [
        "PRAGMA temp.cache_size",
        "PRAGMA temp.page_count",
        "PRAGMA temp.page_size",
        "PRAGMA temp.table_info(t)",
        "PRAGMA temp.table_list",
        "PRAGMA temp.index_list(t)",
        "PRAGMA temp.schema_version",
        "PRAGMA temp.user_version",
        "PRAGMA temp.journal_mode",
        "PRAGMA temp.auto_vacuum",
        "PRAGMA temp.integrity_check",
        "PRAGMA temp.quick_check",
        "PRAGMA temp.encoding",
        "PRAGMA temp.max_page_count",
        "PRAGMA temp.application_id",
    ] {
        // A fresh pair per statement: the first temp pragma is the one under test.
        let ours = strata::Connection::open_in_memory().unwrap();
        let theirs = rusqlite::Connection::open_in_memory().unwrap();
        ours.execute_batch("CREATE TABLE t(x)").unwrap();
        theirs.execute_batch("CREATE TABLE t(x)").unwrap();
        for q in [sql, "PRAGMA temp.freelist_count"] {
            let (a, b) = (strata_answer(&ours, q), sqlite_answer(&theirs, q));
            if a != b {
                bad.push(format!("{sql}: {q}\n  strata: {a:?}\n  sqlite: {b:?}"));
            }
        }
    }
    assert!(bad.is_empty(), "{} differ:\n{}", bad.len(), bad.join("\n"));
}
