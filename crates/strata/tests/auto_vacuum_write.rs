//! Writing auto-vacuum databases (issue 17): after every Strata write, SQLite finds the
//! file intact (`PRAGMA integrity_check`, which verifies every pointer-map entry), holds
//! the same rows as a SQLite run of the same statements (root pages included: new roots
//! go after the largest one, a dropped root's slot takes the largest one), has no free
//! page in FULL mode, and keeps writing it; Strata's own integrity check agrees.
//!
//! Databases are made by SQLite (rusqlite, bundled); the same statements then run on
//! Strata (file A) and on SQLite (a copy B), and A is checked with SQLite after each.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{sqlite_rows, strata_rows, V};
use strata::{Connection, Database};

/// Pseudo-random bytes as an SQL blob literal (the same on both engines).
fn blob(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut s = String::with_capacity(len * 2 + 3);
    s.push_str("X'");
    for _ in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.push_str(&format!("{:02x}", (x >> 24) as u8));
    }
    s.push('\'');
    s
}

/// Rows for a page size: many for small pages (several pointer-map pages), fewer for
/// large ones (each big row there is hundreds of KiB).
fn rows_for(page_size: usize) -> u64 {
    match page_size {
        512 => 500,
        1024 => 300,
        4096 => 150,
        _ => 40,
    }
}

fn insert_t(page_size: usize, from: u64, to: u64, salt: u64) -> String {
    let big = page_size * 5 / 2 + 100;
    let mut sql = String::new();
    for i in from..to {
        let len = if i % 5 == 0 { big } else { (i % 97) as usize };
        sql.push_str(&format!(
            "INSERT INTO t VALUES({i}, 'row {i} {}', {});\n",
            "x".repeat((i % 50) as usize),
            blob(i * 31 + salt, len)
        ));
    }
    sql
}

fn setup_sql(page_size: usize, mode: &str) -> String {
    let n = rows_for(page_size);
    let mut sql = format!(
        "PRAGMA page_size={page_size}; PRAGMA auto_vacuum={mode}; PRAGMA journal_mode=WAL;
         BEGIN;
         CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB);
         CREATE INDEX tb ON t(b);
         CREATE TABLE u(x TEXT, y);
         CREATE INDEX uy ON u(y, x);
         CREATE TABLE mid(z);
         CREATE TABLE last(w);
         INSERT INTO last VALUES(1),(2);\n"
    );
    sql.push_str(&insert_t(page_size, 1, n, 0));
    for i in 1..n / 2 {
        let len = if i % 10 == 0 {
            page_size + 10
        } else {
            i as usize
        };
        sql.push_str(&format!(
            "INSERT INTO u VALUES('{}', {});\n",
            "u".repeat(len),
            i * 7 % 31
        ));
    }
    for i in 0..n / 3 {
        sql.push_str(&format!(
            "INSERT INTO mid VALUES({});\n",
            blob(i + 999, 300)
        ));
    }
    sql.push_str("COMMIT;");
    sql
}

/// The write steps, each run as one batch on both engines.
fn steps(page_size: usize, incremental: bool) -> Vec<String> {
    let n = rows_for(page_size);
    let mut steps = vec![
        insert_t(page_size, n, n + n / 4, 7),
        "DELETE FROM t WHERE a % 3 = 0".to_string(),
        format!(
            "CREATE TABLE n(k INTEGER PRIMARY KEY, v);
             CREATE INDEX nv ON n(v);
             INSERT INTO n VALUES(1, {}), (2, 'two'), (3, {});",
            blob(1, page_size * 3),
            blob(2, 10)
        ),
        // `mid` is not the last table: the largest root page moves into its slot.
        "DROP TABLE mid".to_string(),
        format!(
            "UPDATE t SET c = {} WHERE a % 4 = 1;
             UPDATE t SET c = x'00' WHERE a % 7 = 2;",
            blob(77, page_size * 4 + 3)
        ),
        "DELETE FROM u WHERE rowid % 2 = 0; DROP INDEX tb;".to_string(),
        format!(
            "BEGIN;
             INSERT INTO n VALUES(4, {});
             DELETE FROM t WHERE a > {};
             CREATE TABLE late(q);
             INSERT INTO late VALUES({});
             COMMIT;",
            blob(4, page_size * 2),
            n / 2,
            blob(5, page_size + 1)
        ),
        "DROP TABLE n".to_string(),
    ];
    if incremental {
        steps.insert(2, "PRAGMA incremental_vacuum(5)".to_string());
        steps.insert(5, "PRAGMA incremental_vacuum(1)".to_string());
        steps.push("PRAGMA incremental_vacuum".to_string());
    }
    steps
}

const QUERIES: [&str; 7] = [
    "SELECT a, b, c FROM t ORDER BY a",
    "SELECT rowid, x, y FROM u ORDER BY rowid",
    "SELECT y, x FROM u WHERE y > 3 ORDER BY y, x",
    "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY name",
    "SELECT count(*), sum(length(c)) FROM t",
    "SELECT * FROM last",
    "PRAGMA auto_vacuum",
];

fn sqlite_answers(conn: &rusqlite::Connection) -> Vec<Result<Vec<Vec<V>>, String>> {
    QUERIES.iter().map(|q| sqlite_rows(conn, q)).collect()
}

fn strata_answers(conn: &Connection) -> Vec<Result<Vec<Vec<V>>, String>> {
    QUERIES.iter().map(|q| strata_rows(conn, q)).collect()
}

fn one_int(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// SQLite's verdict on file A: integrity ok, FULL mode without free pages.
fn sqlite_check(what: &str, path: &Path, full: bool) -> Vec<Result<Vec<Vec<V>>, String>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let ic: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(ic, vec!["ok".to_string()], "{what}: SQLite integrity_check");
    if full {
        assert_eq!(
            one_int(&conn, "PRAGMA freelist_count"),
            0,
            "{what}: free pages left by a FULL auto-vacuum commit"
        );
    }
    assert_ne!(one_int(&conn, "PRAGMA auto_vacuum"), 0, "{what}: mode lost");
    sqlite_answers(&conn)
}

fn strata_check(what: &str, conn: &Connection) {
    let ic = strata_rows(conn, "PRAGMA integrity_check").unwrap();
    assert_eq!(
        ic,
        vec![vec![V::Text(b"ok".to_vec())]],
        "{what}: Strata integrity_check"
    );
}

fn sqlite_db(path: &Path, setup: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(setup).unwrap();
}

fn copy_db(from: &Path, to: &Path) {
    // SQLite closed its connection: the WAL was checkpointed and removed.
    std::fs::copy(from, to).unwrap();
}

fn run_scenario(page_size: usize, mode: &str) {
    let dir = tempfile::tempdir().unwrap();
    let a: PathBuf = dir.path().join("a.db");
    let b: PathBuf = dir.path().join("b.db");
    sqlite_db(&a, &setup_sql(page_size, mode));
    copy_db(&a, &b);
    let full = mode == "FULL";
    let theirs = rusqlite::Connection::open(&b).unwrap();
    {
        let db = Database::open(&a).unwrap();
        let conn = db.connect();
        assert_eq!(
            strata_answers(&conn),
            sqlite_answers(&theirs),
            "{mode}/{page_size}: Strata reads SQLite's file"
        );
    }
    for (i, step) in steps(page_size, !full).iter().enumerate() {
        let what = format!(
            "{mode}/{page_size} step {i} ({})",
            &step[..step.len().min(60)]
        );
        {
            let db = Database::open(&a).unwrap();
            let conn = db.connect();
            conn.execute_batch(step)
                .unwrap_or_else(|e| panic!("{what}: Strata: {e:?}"));
            strata_check(&what, &conn);
            theirs
                .execute_batch(step)
                .unwrap_or_else(|e| panic!("{what}: SQLite: {e}"));
            assert_eq!(
                strata_answers(&conn),
                sqlite_answers(&theirs),
                "{what}: Strata's answers"
            );
        }
        assert_eq!(
            sqlite_check(&what, &a, full),
            sqlite_answers(&theirs),
            "{what}: SQLite reading Strata's file"
        );
    }
    // SQLite keeps writing the file Strata wrote; then Strata reads and checks it.
    let more = format!(
        "INSERT INTO t VALUES(100000, 'sqlite', {}); DELETE FROM t WHERE a % 2 = 0;
         CREATE TABLE s(x); INSERT INTO s VALUES({}); DROP TABLE late;",
        blob(9, page_size * 3),
        blob(10, page_size + 5)
    );
    {
        let conn = rusqlite::Connection::open(&a).unwrap();
        conn.execute_batch(&more).unwrap();
        theirs.execute_batch(&more).unwrap();
    }
    let what = format!("{mode}/{page_size} after SQLite wrote");
    assert_eq!(
        sqlite_check(&what, &a, full),
        sqlite_answers(&theirs),
        "{what}"
    );
    let db = Database::open(&a).unwrap();
    let conn = db.connect();
    strata_check(&what, &conn);
    assert_eq!(strata_answers(&conn), sqlite_answers(&theirs), "{what}");
}

#[test]
fn full_512() {
    run_scenario(512, "FULL");
}

#[test]
fn full_4096() {
    run_scenario(4096, "FULL");
}

#[test]
fn full_65536() {
    run_scenario(65536, "FULL");
}

#[test]
fn incremental_512() {
    run_scenario(512, "INCREMENTAL");
}

#[test]
fn incremental_4096() {
    run_scenario(4096, "INCREMENTAL");
}

#[test]
fn incremental_65536() {
    run_scenario(65536, "INCREMENTAL");
}

/// With 512-byte pages a pointer map covers 102 pages: the file spans many of them, and
/// a delete of most rows truncates across several pointer-map pages, down to SQLite's
/// finalDbSize.
#[test]
fn truncation_crosses_pointer_map_pages() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    sqlite_db(&a, &setup_sql(512, "FULL"));
    let pages_before = {
        let c = rusqlite::Connection::open(&a).unwrap();
        one_int(&c, "PRAGMA page_count")
    };
    // 102 entries per pointer-map page: several of them.
    assert!(pages_before > 600, "{pages_before} pages");
    {
        let db = Database::open(&a).unwrap();
        let conn = db.connect();
        // Another connection, its cache warm with pages the truncation removes.
        let reader = db.connect();
        let q = "SELECT count(*), sum(length(c)) FROM t";
        let before = strata_rows(&reader, q).unwrap();
        strata_check("reader before", &reader);
        conn.execute_batch("DELETE FROM t WHERE a > 20; DELETE FROM mid;")
            .unwrap();
        strata_check("big delete", &conn);
        // The reader's next transaction sees the smaller file (its integrity_check
        // would report pages past the end as never used otherwise).
        strata_check("reader after", &reader);
        let after = strata_rows(&reader, q).unwrap();
        assert_ne!(before, after);
        assert_eq!(after, strata_rows(&conn, q).unwrap());
        // New rows after the truncation grow the file again, then it shrinks again.
        conn.execute_batch(&insert_t(512, 5000, 5040, 1)).unwrap();
        strata_check("regrown", &reader);
        conn.execute_batch("DELETE FROM t WHERE a >= 5000").unwrap();
        strata_check("shrunk again", &reader);
        assert_eq!(after, strata_rows(&reader, q).unwrap());
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }
    let c = rusqlite::Connection::open(&a).unwrap();
    let pages_after = one_int(&c, "PRAGMA page_count");
    assert!(
        pages_after < pages_before / 2,
        "{pages_before} -> {pages_after} pages"
    );
    assert_eq!(one_int(&c, "PRAGMA freelist_count"), 0);
    let ic: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ic, "ok");
    drop(c);
    // The file itself was truncated by the checkpoint.
    let len = std::fs::metadata(&a).unwrap().len();
    assert_eq!(len, pages_after as u64 * 512, "file length");
}

/// A database Strata creates and makes auto-vacuum before its first table.
#[test]
fn strata_created_auto_vacuum_database() {
    for mode in ["FULL", "INCREMENTAL"] {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.db");
        let b = dir.path().join("b.db");
        let theirs = rusqlite::Connection::open(&b).unwrap();
        let script = [
            format!("PRAGMA auto_vacuum={mode}"),
            "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c BLOB)".to_string(),
            "CREATE INDEX tb ON t(b)".to_string(),
            insert_t(4096, 1, 60, 3),
            "DELETE FROM t WHERE a % 2 = 0".to_string(),
            "CREATE TABLE u(x); INSERT INTO u VALUES(1)".to_string(),
            "DROP TABLE t".to_string(),
        ];
        let db = Database::open(&a).unwrap();
        let conn = db.connect();
        for (i, sql) in script.iter().enumerate() {
            conn.execute_batch(sql)
                .unwrap_or_else(|e| panic!("{mode} {i}: {e}"));
            theirs.execute_batch(sql).unwrap();
            strata_check(&format!("{mode} {i}"), &conn);
            for q in [
                "PRAGMA auto_vacuum",
                "SELECT * FROM sqlite_schema ORDER BY name",
                "SELECT * FROM t ORDER BY a",
                "SELECT * FROM u",
            ] {
                assert_eq!(
                    strata_rows(&conn, q),
                    sqlite_rows(&theirs, q),
                    "{mode} {i}: {q}"
                );
            }
        }
        drop(conn);
        drop(db);
        let what = format!("Strata-created {mode}");
        let c = rusqlite::Connection::open(&a).unwrap();
        let ic: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ic, "ok", "{what}");
        assert_eq!(
            one_int(&c, "PRAGMA auto_vacuum"),
            if mode == "FULL" { 1 } else { 2 },
            "{what}"
        );
    }
}

/// The whole write path on a deferred-completion IO (every read returns `Pending`
/// first): the commit-time pointer-map work and page moves are resumable.
#[test]
fn auto_vacuum_writes_on_deferred_io() {
    use strata::io::MemoryIo;
    for mode in ["FULL", "INCREMENTAL"] {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src.db");
        let b = dir.path().join("b.db");
        sqlite_db(&src, &setup_sql(512, mode));
        copy_db(&src, &b);
        let theirs = rusqlite::Connection::open(&b).unwrap();
        let io = Arc::new(MemoryIo::new_deferred());
        io.set_file_contents("m.db", std::fs::read(&src).unwrap());
        {
            let db = Database::open_with_io("m.db", io.clone()).unwrap();
            let conn = db.connect();
            for (i, step) in steps(512, mode == "INCREMENTAL").iter().enumerate() {
                conn.execute_batch(step)
                    .unwrap_or_else(|e| panic!("{mode} deferred step {i}: {e}"));
                theirs.execute_batch(step).unwrap();
                strata_check(&format!("{mode} deferred step {i}"), &conn);
                assert_eq!(
                    strata_answers(&conn),
                    sqlite_answers(&theirs),
                    "{mode} deferred step {i}"
                );
            }
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .unwrap();
        }
        let a = dir.path().join("a.db");
        std::fs::write(&a, io.file_contents("m.db").unwrap()).unwrap();
        if let Some(wal) = io.file_contents("m.db-wal") {
            std::fs::write(dir.path().join("a.db-wal"), wal).unwrap();
        }
        let what = format!("{mode} deferred");
        assert_eq!(
            sqlite_check(&what, &a, mode == "FULL"),
            sqlite_answers(&theirs),
            "{what}"
        );
    }
}

/// SQLite's finalDbSize, exactly: an INCREMENTAL file with free pages spread over several
/// pointer-map ranges is switched to FULL (`PRAGMA auto_vacuum=FULL` writes offset 64, and
/// that commit vacuums every free page) by Strata and by SQLite (on a copy): both files end
/// with the same number of pages, no free page, and intact.
#[test]
fn full_commit_truncates_to_sqlites_final_size() {
    for (page_size, deletes) in [
        (512usize, "DELETE FROM t WHERE a % 2 = 0 OR a > 300"),
        (512, "DELETE FROM t WHERE a > 5; DELETE FROM mid"),
        (1024, "DELETE FROM t WHERE a % 3 <> 1"),
        (4096, "DELETE FROM t WHERE a > 10; DELETE FROM u"),
    ] {
        let what = format!("{page_size}: {deletes}");
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.db");
        let b = dir.path().join("b.db");
        sqlite_db(&a, &setup_sql(page_size, "INCREMENTAL"));
        {
            let c = rusqlite::Connection::open(&a).unwrap();
            c.execute_batch(deletes).unwrap();
            assert!(one_int(&c, "PRAGMA freelist_count") > 20, "{what}: setup");
        }
        copy_db(&a, &b);
        {
            let db = Database::open(&a).unwrap();
            let conn = db.connect();
            conn.execute_batch("PRAGMA auto_vacuum = FULL").unwrap();
            strata_check(&what, &conn);
        }
        let theirs = rusqlite::Connection::open(&b).unwrap();
        theirs.execute_batch("PRAGMA auto_vacuum = FULL").unwrap();
        let ours = rusqlite::Connection::open(&a).unwrap();
        for q in [
            "PRAGMA integrity_check",
            "PRAGMA freelist_count",
            "PRAGMA page_count",
            "PRAGMA auto_vacuum",
        ] {
            assert_eq!(
                sqlite_rows(&ours, q),
                sqlite_rows(&theirs, q),
                "{what}: {q}"
            );
        }
        assert_eq!(sqlite_answers(&ours), sqlite_answers(&theirs), "{what}");
    }
}

/// Inside explicit transactions: a statement that fails after writing overflow pages is
/// undone alone (its page kinds with its pages), a dropped table's moved root is used by
/// later statements of the same transaction, ROLLBACK restores everything, and
/// incremental_vacuum runs mid-transaction.
#[test]
fn statement_and_transaction_rollback() {
    for mode in ["FULL", "INCREMENTAL"] {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.db");
        let b = dir.path().join("b.db");
        sqlite_db(&a, &setup_sql(1024, mode));
        copy_db(&a, &b);
        let theirs = rusqlite::Connection::open(&b).unwrap();
        let big = blob(42, 5000);
        let script = [
            "CREATE TABLE uq(x UNIQUE, y)".to_string(),
            // The new root's slot may hold a page of `t`, moved while `t` is read.
            "CREATE TABLE cpy AS SELECT a, b, c FROM t WHERE a < 200".to_string(),
            "SELECT * FROM cpy ORDER BY a".to_string(),
            "CREATE INDEX cpyb ON cpy(b, c)".to_string(),
            "SELECT b FROM cpy ORDER BY b, c".to_string(),
            "BEGIN".to_string(),
            format!("INSERT INTO uq VALUES({big}, 1)"),
            // Fails on the second row, after the first wrote its overflow pages.
            format!("INSERT INTO uq VALUES({}, 2), ({big}, 3)", blob(43, 7000)),
            "DELETE FROM t WHERE a % 2 = 1".to_string(),
            "DROP TABLE mid".to_string(),
            "INSERT INTO last VALUES(3)".to_string(),
            "DELETE FROM u WHERE y > 10".to_string(),
            "PRAGMA incremental_vacuum(3)".to_string(),
            "SELECT count(*), sum(length(x)) FROM uq".to_string(),
            "COMMIT".to_string(),
            "BEGIN".to_string(),
            "DROP TABLE t".to_string(),
            format!("INSERT INTO last VALUES({big})"),
            "ROLLBACK".to_string(),
            "DROP TABLE u".to_string(),
        ];
        {
            let db = Database::open(&a).unwrap();
            let conn = db.connect();
            for sql in &script {
                let what = format!("{mode}: {}", &sql[..sql.len().min(50)]);
                let ours = strata_rows(&conn, sql);
                let exp = sqlite_rows(&theirs, sql);
                assert_eq!(ours.is_ok(), exp.is_ok(), "{what}: {ours:?} / {exp:?}");
                if let (Ok(x), Ok(y)) = (&ours, &exp) {
                    assert_eq!(x, y, "{what}");
                }
                assert_eq!(strata_answers(&conn), sqlite_answers(&theirs), "{what}");
            }
            strata_check(mode, &conn);
        }
        assert_eq!(
            sqlite_check(mode, &a, mode == "FULL"),
            sqlite_answers(&theirs),
            "{mode}"
        );
    }
}

/// `PRAGMA integrity_check` inside a write transaction, before the commit brought the
/// pointer maps up to date: it checks the entries the commit would write (SQLite's maps
/// are current at every point), so it answers `ok` as SQLite's does after every statement
/// (new pages of a split, overflow chains, freed pages, a dropped table, a statement undone
/// by its savepoint, ROLLBACK TO), at each page size with several pointer-map pages.
#[test]
fn integrity_check_inside_a_transaction() {
    for (mode, page_size) in [("FULL", 512), ("INCREMENTAL", 512), ("FULL", 4096)] {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.db");
        let b = dir.path().join("b.db");
        sqlite_db(&a, &setup_sql(page_size, mode));
        copy_db(&a, &b);
        let theirs = rusqlite::Connection::open(&b).unwrap();
        let big = blob(7, page_size * 3);
        let script = [
            "BEGIN".to_string(),
            insert_t(page_size, 10_000, 10_040, 3),
            format!("INSERT INTO u VALUES('o', {big})"),
            "DELETE FROM t WHERE a % 3 = 0".to_string(),
            "SAVEPOINT s".to_string(),
            "DROP TABLE mid".to_string(),
            format!("INSERT INTO last VALUES({big})"),
            "ROLLBACK TO s".to_string(),
            "CREATE TABLE uq(x UNIQUE)".to_string(),
            // Fails on the second row, after the first wrote its overflow pages.
            format!("INSERT INTO uq VALUES({big}), ({big})"),
            "UPDATE t SET b = b || 'longer' WHERE a % 5 = 1".to_string(),
            "COMMIT".to_string(),
            "BEGIN".to_string(),
            "DELETE FROM u".to_string(),
            "PRAGMA incremental_vacuum(2)".to_string(),
            "COMMIT".to_string(),
        ];
        let db = Database::open(&a).unwrap();
        let conn = db.connect();
        for sql in &script {
            let what = format!("{mode}/{page_size}: {}", &sql[..sql.len().min(50)]);
            // A batch of inserts runs statement by statement on both.
            let ours = conn.execute_batch(sql).map_err(|e| e.to_string());
            let exp = theirs.execute_batch(sql).map_err(|e| e.to_string());
            assert_eq!(ours.is_ok(), exp.is_ok(), "{what}: {ours:?} / {exp:?}");
            let ic = "PRAGMA integrity_check";
            assert_eq!(
                strata_rows(&conn, ic),
                sqlite_rows(&theirs, ic),
                "{what}: integrity_check"
            );
            assert_eq!(strata_answers(&conn), sqlite_answers(&theirs), "{what}");
        }
        drop(conn);
        drop(db);
        assert_eq!(
            sqlite_check(mode, &a, mode == "FULL"),
            sqlite_answers(&theirs),
            "{mode}/{page_size}"
        );
    }
}

/// `PRAGMA incremental_vacuum(N)` takes pages off exactly as SQLite's does: after each
/// call the file has the same page count and free page count as SQLite's copy, the same
/// rows answered (one without columns per step), and is intact.
#[test]
fn incremental_vacuum_steps_like_sqlite() {
    for (page_size, deletes) in [
        (
            512usize,
            "DELETE FROM t WHERE a % 2 = 0 OR a > 300; DELETE FROM mid",
        ),
        (1024, "DELETE FROM t WHERE a % 3 <> 1"),
        (4096, "DELETE FROM t WHERE a > 10; DELETE FROM u"),
    ] {
        let what = format!("{page_size}: {deletes}");
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.db");
        let b = dir.path().join("b.db");
        sqlite_db(&a, &setup_sql(page_size, "INCREMENTAL"));
        {
            let c = rusqlite::Connection::open(&a).unwrap();
            c.execute_batch(deletes).unwrap();
        }
        copy_db(&a, &b);
        let theirs = rusqlite::Connection::open(&b).unwrap();
        for step in [
            "PRAGMA incremental_vacuum(1)",
            "PRAGMA incremental_vacuum(7)",
            "PRAGMA incremental_vacuum(-3)",
            "PRAGMA incremental_vacuum",
        ] {
            let what = format!("{what}: {step}");
            {
                let db = Database::open(&a).unwrap();
                let conn = db.connect();
                assert_eq!(
                    strata_rows(&conn, step),
                    sqlite_rows(&theirs, step),
                    "{what}"
                );
                strata_check(&what, &conn);
            }
            let ours = rusqlite::Connection::open(&a).unwrap();
            for q in [
                "PRAGMA integrity_check",
                "PRAGMA freelist_count",
                "PRAGMA page_count",
            ] {
                assert_eq!(
                    sqlite_rows(&ours, q),
                    sqlite_rows(&theirs, q),
                    "{what}: {q}"
                );
            }
            assert_eq!(sqlite_answers(&ours), sqlite_answers(&theirs), "{what}");
        }
    }
}

/// A statement that fails inside BEGIN after reusing pages of the freelist (rows with
/// overflow chains deleted before) is rolled back to its savepoint; the pages it dirtied
/// for the first time must be clean again. They stayed dirty with their old bytes, and
/// COMMIT of the INCREMENTAL file then read a free page as a B-tree page to derive its
/// pointer-map entries: "database disk image is malformed" (simulator, `churn` group,
/// seed 12). The exact statements of the shrunk simulator run, on three connections.
#[test]
fn failed_statement_in_transaction_after_freelist_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let db = strata::OpenOptions::new()
        .page_size(512)
        .autocheckpoint_frames(32)
        .cache_size_pages(2000)
        .open(a.to_str().unwrap())
        .unwrap();
    let c0 = db.connect();
    c0.execute_batch("PRAGMA foreign_keys=ON").unwrap();
    let c1 = db.connect();
    c1.execute_batch("PRAGMA foreign_keys=ON").unwrap();
    let c2 = db.connect();
    c2.execute_batch("PRAGMA foreign_keys=ON").unwrap();
    let schema = [
        "PRAGMA encoding = 'UTF-16be'; PRAGMA auto_vacuum = INCREMENTAL",
        "CREATE TABLE main.t0(id INTEGER, k INTEGER UNIQUE, a INTEGER DEFAULT 7, b TEXT DEFAULT 'dflt', c REAL DEFAULT (0.25 * 6)) STRICT",
        "CREATE UNIQUE INDEX t0_id ON t0(id)",
  "CREATE TABLE t1(id INTEGER, k INTEGER UNIQUE, a INTEGER DEFAULT 7, b TEXT DEFAULT 'dflt', c REAL DEFAULT (0.25 * 6), p INTEGER REFERENCES t0(k) ON DELETE CASCADE ON UPDATE NO ACTION) STRICT",
  "CREATE UNIQUE INDEX t1_id ON t1(id)",
  "CREATE INDEX main.t1_a ON t1(a)",
  "CREATE INDEX t1_ba ON t1(b, a)",
  "CREATE INDEX main.t1_c ON t1(c, id)",
  "CREATE INDEX t1_p ON t1(p)",
  "CREATE TABLE main.t2(id INTEGER, k INTEGER UNIQUE, a INTEGER DEFAULT 7, b TEXT DEFAULT 'dflt', c REAL DEFAULT (0.25 * 6), p INTEGER REFERENCES t0(k) ON DELETE RESTRICT ON UPDATE SET DEFAULT) STRICT",
        "CREATE UNIQUE INDEX t2_id ON t2(id)",
        "CREATE INDEX t2_a ON t2(a)",
        "CREATE INDEX t2_p ON t2(p)",
  "CREATE VIEW main.v0 AS SELECT id, k, a, b FROM t0 WHERE a IS NOT NULL",
  "CREATE TRIGGER main.t0_tr AFTER UPDATE OF b ON t0 WHEN new.b = 'never' BEGIN DELETE FROM t0 WHERE 0; END",
    ];
    for s in schema {
        c0.execute_batch(s).unwrap();
    }
    let steps: &[(usize, &str)] = &[
        (1, "INSERT INTO t0(id, k, a, b, c) VALUES (34, 16, 8, 'xyz', -0.25), (9, 18, 6, NULL, NULL)"),
        (2, "INSERT INTO t2(k, a, b, c) VALUES (NULL, 1, replace(hex(zeroblob(642)), '00', 'xy'), NULL), (NULL, 8, replace(hex(zeroblob(2614)), '00', 'xy'), 0), (NULL, 4, replace(hex(zeroblob(978)), '00', 'xy'), NULL), (NULL, 5, replace(hex(zeroblob(1894)), '00', 'xy'), -3)"),
        (1, "DELETE FROM t2 WHERE (c < 0.5 OR a = 7) OR id = 9"),
        (1, "INSERT INTO t2(id, k, a, b, c) VALUES (39, 20, 9, 'a😀', 1) ON CONFLICT(k) DO NOTHING"),
        (0, "INSERT OR REPLACE INTO t2(k, a, b, c) VALUES (2, 1, NULL, -3.75), (17, 2, '😀', 1) RETURNING rowid, a * 2, b || 'r'"),
        (0, "INSERT OR REPLACE INTO t0(id, k, a, b, c) VALUES (37, NULL, 1, 'r', 0.5)"),
        (0, "BEGIN"),
        (0, "INSERT INTO t2(id, k, a, b, c) VALUES (17, 3, 0, '日本', 1), (39, 15, 3, 'a😀', 2.5)"),
        (0, "COMMIT"),
        (0, "PRAGMA integrity_check"),
        (1, "SELECT count(*), sum(length(b)) FROM t2"),
    ];
    let conns = [&c0, &c1, &c2];
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    theirs
        .execute_batch("PRAGMA encoding = 'UTF-16be'")
        .unwrap();
    for s in &schema[1..] {
        theirs.execute_batch(s).unwrap();
    }
    for (c, s) in steps {
        // One SQLite connection: the steps run one after the other, so the other
        // connections' autocommit statements see the same states.
        assert_eq!(
            strata_rows(conns[*c], s),
            sqlite_rows(&theirs, s),
            "conn {c}: {s}"
        );
    }
    for q in [
        "SELECT rowid, * FROM t2 ORDER BY rowid",
        "SELECT rowid, * FROM t0 ORDER BY rowid",
    ] {
        assert_eq!(strata_rows(&c0, q), sqlite_rows(&theirs, q), "{q}");
    }
    drop((c0, c1, c2, db));
    let file = rusqlite::Connection::open(&a).unwrap();
    assert_eq!(
        sqlite_rows(&file, "PRAGMA integrity_check").unwrap(),
        vec![vec![V::Text(b"ok".to_vec())]]
    );
}

/// ROLLBACK TO a savepoint around an incremental vacuum that took pages off the end and
/// inserts that grew the file back over them, inside a transaction that changed pages
/// before the savepoint: the same rows and an intact file as SQLite. Written for the
/// pager bug the mutation run of strata-pager found (a page `truncate_pages` cut off and
/// `append_page` grew back got nothing to restore at ROLLBACK TO: see
/// strata-pager/tests/spill.rs::savepoint_rollback_of_a_truncated_and_regrown_page), but
/// it passes without that fix: the regrown pages here were not changed before the
/// savepoint. No SQL reproduction of the bug was found.
#[test]
fn rollback_to_after_vacuum_and_regrowth() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    sqlite_db(&a, &setup_sql(1024, "INCREMENTAL"));
    copy_db(&a, &b);
    let theirs = rusqlite::Connection::open(&b).unwrap();
    let big = blob(77, 9000);
    let script = [
        "BEGIN".to_string(),
        "DELETE FROM t WHERE a > 150".to_string(),
        "UPDATE t SET b = b || '!' WHERE a > 100".to_string(),
        "SAVEPOINT s".to_string(),
        "PRAGMA incremental_vacuum(40)".to_string(),
        format!("INSERT INTO last VALUES({big})"),
        format!("INSERT INTO u VALUES('grown', {big})"),
        "ROLLBACK TO s".to_string(),
        "RELEASE s".to_string(),
        "SELECT a, b, length(c) FROM t WHERE a > 90 ORDER BY a".to_string(),
        "COMMIT".to_string(),
        "PRAGMA incremental_vacuum".to_string(),
    ];
    {
        let db = Database::open(&a).unwrap();
        let conn = db.connect();
        for sql in &script {
            let what = sql[..sql.len().min(50)].to_string();
            let ours = strata_rows(&conn, sql);
            let exp = sqlite_rows(&theirs, sql);
            assert_eq!(ours.is_ok(), exp.is_ok(), "{what}: {ours:?} / {exp:?}");
            if let (Ok(x), Ok(y)) = (&ours, &exp) {
                assert_eq!(x, y, "{what}");
            }
            assert_eq!(strata_answers(&conn), sqlite_answers(&theirs), "{what}");
        }
        strata_check("INCREMENTAL", &conn);
    }
    assert_eq!(
        sqlite_check("INCREMENTAL", &a, false),
        sqlite_answers(&theirs),
        "after"
    );
}
