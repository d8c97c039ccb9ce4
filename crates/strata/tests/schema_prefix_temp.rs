//! Schema-qualified names (`main.t`, `temp.t`) and the TEMP schema, checked against
//! SQLite (rusqlite, bundled): every statement runs on both engines and must return the
//! same rows or fail with the same message; files Strata writes must open in SQLite with
//! `PRAGMA integrity_check` = ok and the same `sqlite_schema` rows SQLite writes.

mod common;
use common::{sqlite_rows, strata_rows, V};
use strata::Connection;

/// The statements of a script: separated by lines ending in `;`.
fn statements(script: &str) -> impl Iterator<Item = &str> {
    script.split(";\n").map(str::trim).filter(|s| !s.is_empty())
}

/// Runs `script` statement by statement on both connections: same rows, or the same
/// error message.
fn same_on(ours: &Connection, theirs: &rusqlite::Connection, script: &str) {
    for sql in statements(script) {
        let a = strata_rows(ours, sql);
        let b = sqlite_rows(theirs, sql);
        assert_eq!(a, b, "engines differ for: {sql}");
    }
}

/// [`same_on`] on two fresh in-memory databases.
fn same_as_sqlite(script: &str) {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    same_on(&ours, &theirs, script);
}

const SCHEMA_ROWS: &str =
    "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid";

#[test]
fn main_prefix_in_every_statement_kind() {
    same_as_sqlite(
        "CREATE TABLE main.t(a INTEGER PRIMARY KEY, b TEXT UNIQUE);
         CREATE TABLE main . \"t2\"(x);
         CREATE TABLE [main].t3(y);
         CREATE TABLE `MAIN`.t4 AS SELECT 1 AS one;
         CREATE TABLE IF NOT EXISTS main.t(z);
         CREATE TABLE main.t(z);
         CREATE INDEX main.i ON t2(x);
         CREATE UNIQUE INDEX \"main\".i2 ON t3(y);
         CREATE INDEX main.i ON t2(x);
         CREATE VIEW main.v AS SELECT main.t.a, t.b FROM main.t;
         CREATE TRIGGER main.tr AFTER INSERT ON main.t BEGIN INSERT INTO t2 VALUES (new.a); END;
         CREATE TRIGGER main.tr2 BEFORE DELETE ON t BEGIN INSERT INTO t3 VALUES (old.b); END;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         SELECT * FROM main.sqlite_master ORDER BY name;
         INSERT INTO main.t VALUES (1, 'one'), (2, 'two');
         INSERT INTO main.t(b) SELECT b || '!' FROM main.t;
         SELECT main.t.a, main.t.b, t.a, a FROM main.t ORDER BY 1;
         SELECT * FROM main.v ORDER BY a;
         SELECT x FROM main.t2 ORDER BY x;
         UPDATE main.t SET b = upper(b) WHERE a = 2;
         DELETE FROM main.t WHERE a = 1;
         SELECT * FROM t3;
         SELECT main.t.a FROM t;
         SELECT main.u.a FROM t AS u;
         SELECT main.t.a FROM t AS u;
         SELECT main.t.nosuch FROM t;
         SELECT main.t.a FROM (SELECT 1 AS a) AS t;
         SELECT main.t2.x, main.t.a FROM main.t2 JOIN main.t ON main.t2.x = main.t.a;
         PRAGMA main.table_info(t);
         PRAGMA main.index_list(t2);
         ALTER TABLE main.t3 ADD COLUMN w DEFAULT 5;
         ALTER TABLE main.t4 RENAME TO t5;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         REINDEX main.t;
         DROP TRIGGER main.tr2;
         DROP VIEW main.v;
         DROP INDEX main.i;
         DROP TABLE main.t5;
         DROP TABLE main.t2;
         DROP TABLE main.nosuch;
         DROP TABLE IF EXISTS main.nosuch;
         DROP INDEX main.nosuch;
         DROP VIEW main.nosuch;
         DROP TRIGGER main.nosuch;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;",
    );
}

#[test]
fn unknown_schema_names_fail_as_in_sqlite() {
    same_as_sqlite(
        "CREATE TABLE t(a);
         CREATE TABLE x.t(a);
         CREATE INDEX x.i ON t(a);
         CREATE VIEW x.v AS SELECT 1;
         CREATE TRIGGER x.tr AFTER INSERT ON t BEGIN SELECT 1; END;
         CREATE TRIGGER tr AFTER INSERT ON x.t BEGIN SELECT 1; END;
         CREATE TRIGGER tr AFTER INSERT ON main.nosuch BEGIN SELECT 1; END;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO main.t VALUES (1); END;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM main.t; END;
         CREATE INDEX main.i ON nosuch(a);
         INSERT INTO x.t VALUES (1);
         INSERT INTO main.nosuch VALUES (1);
         SELECT * FROM x.t;
         SELECT * FROM main.nosuch;
         SELECT x.t.a FROM t;
         SELECT * FROM main.sqlite_temp_master;
         UPDATE x.t SET a = 1;
         DELETE FROM x.t;
         DROP TABLE x.t;
         DROP TABLE IF EXISTS x.t;
         DROP INDEX x.i;
         DROP VIEW x.v;
         DROP TRIGGER x.tr;
         PRAGMA x.table_info(t);
         ALTER TABLE x.t ADD COLUMN b;
         REINDEX x.t;
         SELECT name FROM sqlite_schema;",
    );
}

/// Runs `script` on a Strata file and on a SQLite file; then SQLite opens Strata's file:
/// `integrity_check` must be ok and `sqlite_schema` must hold the rows SQLite wrote.
fn file_check(script: &str) {
    let dir = tempfile::tempdir().unwrap();
    let ours_path = dir.path().join("strata.db");
    let theirs_path = dir.path().join("sqlite.db");
    let theirs = rusqlite::Connection::open(&theirs_path).unwrap();
    {
        let ours = Connection::open(&ours_path).unwrap();
        same_on(&ours, &theirs, script);
    }
    let want = sqlite_rows(&theirs, SCHEMA_ROWS).unwrap();
    let sqlite = rusqlite::Connection::open(&ours_path).unwrap();
    assert_eq!(
        sqlite_rows(&sqlite, "PRAGMA integrity_check"),
        Ok(vec![vec![V::Text(b"ok".to_vec())]]),
        "SQLite's integrity_check on Strata's file after: {script}"
    );
    assert_eq!(
        sqlite_rows(&sqlite, SCHEMA_ROWS),
        Ok(want),
        "sqlite_schema of Strata's file"
    );
}

#[test]
fn main_prefixed_ddl_leaves_a_file_sqlite_reads() {
    file_check(
        "CREATE TABLE main.t(a INTEGER PRIMARY KEY, b UNIQUE);
         CREATE TABLE main . \"t2\"(x, y);
         CREATE INDEX main.i ON t2(x);
         CREATE UNIQUE INDEX main.\"i u\" ON t2(y);
         CREATE VIEW main.v AS SELECT * FROM main.t2;
         CREATE TRIGGER main.tr AFTER INSERT ON main.t BEGIN INSERT INTO t2 VALUES (new.a, new.b); END;
         INSERT INTO main.t VALUES (1, 'a'), (2, 'b');
         SELECT * FROM main.v ORDER BY x;
         CREATE TABLE main.gone(q);
         CREATE INDEX main.gone_i ON gone(q);
         CREATE VIEW main.gone_v AS SELECT 1;
         CREATE TRIGGER main.gone_tr AFTER DELETE ON gone BEGIN SELECT 1; END;
         INSERT INTO main.gone VALUES (1);
         DROP TRIGGER main.gone_tr;
         DROP VIEW main.gone_v;
         DROP INDEX main.gone_i;
         DROP TABLE main.gone;
         SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid;",
    );
}

#[test]
fn temp_objects_as_in_sqlite() {
    same_as_sqlite(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);
         INSERT INTO t VALUES (1, 'main one'), (2, 'main two');
         CREATE TEMP TABLE tt(x INTEGER PRIMARY KEY, y UNIQUE, z);
         CREATE TEMPORARY TABLE IF NOT EXISTS tt(q);
         CREATE TABLE temp.t2(k, v);
         CREATE TEMP TABLE main.bad(x);
         CREATE TABLE nosuch.t3(x);
         INSERT INTO tt VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30);
         INSERT INTO temp.tt(y, z) VALUES ('d', 40);
         INSERT INTO tt VALUES (9, 'a', 0);
         INSERT INTO temp.t2 SELECT a, b FROM main.t;
         SELECT * FROM tt ORDER BY x;
         SELECT * FROM temp.tt WHERE y = 'c';
         SELECT temp.tt.z, tt.y FROM temp.tt WHERE x > 2 ORDER BY 1;
         SELECT main.tt.z FROM tt;
         SELECT * FROM main.tt;
         SELECT t.b, t2.v FROM t JOIN temp.t2 ON t.a = t2.k ORDER BY t.a;
         UPDATE tt SET z = z + 1 WHERE y > 'b';
         DELETE FROM temp.tt WHERE x = 1;
         SELECT * FROM tt ORDER BY x;
         CREATE INDEX tt_z ON tt(z);
         CREATE INDEX temp.t2_v ON t2(v);
         CREATE INDEX temp.t_b ON t(b);
         CREATE INDEX main.t2_k ON t2(k);
         CREATE UNIQUE INDEX temp.tt_z ON tt(z);
         SELECT x FROM tt WHERE z = 31;
         SELECT k FROM t2 WHERE v = 'main two';
         CREATE TEMP VIEW tv AS SELECT x, z * 2 AS zz FROM tt;
         CREATE VIEW temp.tv2 AS SELECT b FROM main.t;
         SELECT * FROM tv ORDER BY x;
         SELECT * FROM temp.tv2 ORDER BY 1;
         CREATE TEMP TABLE log(m);
         CREATE TEMP TRIGGER on_main AFTER INSERT ON main.t BEGIN INSERT INTO log VALUES ('main ' || new.a); END;
         CREATE TRIGGER on_temp AFTER DELETE ON tt BEGIN INSERT INTO log VALUES ('temp ' || old.x); END;
         CREATE TRIGGER temp.on_t2 BEFORE UPDATE ON t2 BEGIN INSERT INTO log VALUES ('t2 ' || old.k); END;
         CREATE TEMP TRIGGER main.bad AFTER INSERT ON t BEGIN SELECT 1; END;
         CREATE TRIGGER main.bad AFTER INSERT ON temp.tt BEGIN SELECT 1; END;
         INSERT INTO t VALUES (3, 'main three');
         DELETE FROM tt WHERE x = 2;
         UPDATE t2 SET v = 'x' WHERE k = 1;
         SELECT * FROM log ORDER BY rowid;
         SELECT type, name, tbl_name, sql FROM sqlite_temp_master ORDER BY rowid;
         SELECT type, name, tbl_name, sql FROM temp.sqlite_schema ORDER BY rowid;
         SELECT type, name, tbl_name, sql FROM sqlite_temp_schema ORDER BY rowid;
         SELECT type, name, tbl_name, sql FROM temp.sqlite_master ORDER BY rowid;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         PRAGMA temp.table_info(tt);
         PRAGMA table_info(tt);
         PRAGMA main.table_info(tt);
         PRAGMA temp.index_list(tt);
         PRAGMA index_info(tt_z);
         CREATE TEMP TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, v);
         INSERT INTO seq(v) VALUES ('a'), ('b');
         DELETE FROM seq;
         INSERT INTO seq(v) VALUES ('c');
         SELECT * FROM seq;
         SELECT * FROM temp.sqlite_sequence;
         SELECT name FROM sqlite_schema WHERE name = 'sqlite_sequence';
         ALTER TABLE temp.t2 ADD COLUMN w DEFAULT 7;
         CREATE TEMP TABLE r(x);
         ALTER TABLE r RENAME TO r2;
         SELECT * FROM t2 ORDER BY k;
         SELECT type, name, tbl_name, sql FROM sqlite_temp_master ORDER BY rowid;
         DROP TRIGGER on_temp;
         DROP TRIGGER temp.on_t2;
         DROP VIEW tv;
         DROP VIEW temp.tv2;
         DROP INDEX temp.t2_v;
         DROP INDEX tt_z;
         DROP TABLE temp.t2;
         DROP TABLE main.t;
         SELECT type, name, tbl_name FROM sqlite_temp_master ORDER BY rowid;
         SELECT type, name FROM sqlite_schema ORDER BY rowid;
         DROP TABLE tt;
         DROP TABLE r2;
         DROP TABLE temp.nosuch;
         DROP TABLE IF EXISTS temp.nosuch;
         SELECT type, name FROM sqlite_temp_master ORDER BY rowid;",
    );
}

#[test]
fn temp_shadows_main() {
    same_as_sqlite(
        "CREATE TABLE t(a);
         INSERT INTO t VALUES ('main');
         CREATE TEMP TABLE t(a);
         INSERT INTO t VALUES ('temp');
         SELECT a FROM t;
         SELECT a FROM main.t;
         SELECT a FROM temp.t;
         SELECT main.t.a, temp.t.a FROM main.t, temp.t;
         SELECT a, a IN main.t, a IN temp.t, a IN t FROM main.t;
         SELECT 1 IN nope.t;
         SELECT 'temp' IN main.t, 'temp' IN temp.t, 'temp' IN t;
         CREATE INDEX ti ON t(a);
         SELECT type, name, tbl_name FROM sqlite_temp_master ORDER BY rowid;
         SELECT count(*) FROM sqlite_schema WHERE type = 'index';
         UPDATE t SET a = 'temp2';
         DELETE FROM main.t;
         SELECT (SELECT count(*) FROM main.t), (SELECT a FROM temp.t);
         CREATE TABLE t(b);
         CREATE TABLE main.v(x);
         CREATE TEMP VIEW v AS SELECT 'temp view' AS x;
         SELECT * FROM v;
         SELECT * FROM main.v;
         INSERT INTO v VALUES (1);
         INSERT INTO main.v VALUES (1);
         DROP TABLE t;
         SELECT a FROM t;
         INSERT INTO t VALUES ('main again');
         SELECT a FROM t;
         DROP VIEW v;
         SELECT * FROM v;",
    );
}

#[test]
fn transactions_cover_temp_changes() {
    same_as_sqlite(
        "CREATE TABLE m(a);
         CREATE TEMP TABLE t(a);
         INSERT INTO t VALUES (1);
         BEGIN;
         INSERT INTO t VALUES (2);
         INSERT INTO m VALUES (2);
         ROLLBACK;
         SELECT (SELECT group_concat(a) FROM t), (SELECT count(*) FROM m);
         BEGIN;
         INSERT INTO t VALUES (3);
         COMMIT;
         SELECT group_concat(a) FROM t;
         BEGIN;
         CREATE TEMP TABLE gone(x);
         INSERT INTO gone VALUES (1);
         ROLLBACK;
         SELECT * FROM gone;
         SELECT count(*) FROM sqlite_temp_master;
         SAVEPOINT a;
         INSERT INTO t VALUES (4);
         SAVEPOINT b;
         INSERT INTO t VALUES (5);
         INSERT INTO m VALUES (5);
         ROLLBACK TO b;
         SELECT (SELECT group_concat(a) FROM t), (SELECT count(*) FROM m);
         INSERT INTO t VALUES (6);
         RELEASE a;
         SELECT group_concat(a) FROM t;
         BEGIN;
         INSERT INTO m VALUES (7);
         SAVEPOINT s;
         INSERT INTO t VALUES (7);
         ROLLBACK TO s;
         INSERT INTO t VALUES (8);
         COMMIT;
         SELECT (SELECT group_concat(a) FROM t), (SELECT group_concat(a) FROM m);
         CREATE TEMP TABLE u(k UNIQUE);
         INSERT INTO u VALUES (1);
         BEGIN;
         INSERT INTO u VALUES (2);
         INSERT INTO u SELECT 3 UNION ALL SELECT 1;
         SELECT group_concat(k) FROM u;
         COMMIT;
         SELECT group_concat(k) FROM u;
         INSERT INTO u SELECT 4 UNION ALL SELECT 1;
         SELECT group_concat(k) FROM u;
         BEGIN;
         DROP TABLE u;
         ROLLBACK;
         SELECT group_concat(k) FROM u;
         BEGIN;
         INSERT INTO u VALUES (9);
         SAVEPOINT s;
         DROP TABLE u;
         CREATE TEMP TABLE u(other);
         ROLLBACK TO s;
         SELECT group_concat(k) FROM u;
         COMMIT;
         SELECT group_concat(k) FROM u;
         INSERT INTO m VALUES (1);
         SAVEPOINT a;
         CREATE TEMP TABLE m(z);
         INSERT INTO m VALUES ('temp');
         ROLLBACK TO a;
         SELECT group_concat(a) FROM m;
         RELEASE a;
         SELECT count(*) FROM sqlite_temp_master WHERE name = 'm';",
    );
}

/// Every DDL kind, created and dropped with `main.` and `temp.` prefixes (and TEMP):
/// nothing of temp reaches the file, which SQLite opens with integrity_check ok and the
/// same `sqlite_schema` rows.
#[test]
fn main_and_temp_ddl_leave_a_file_sqlite_reads() {
    file_check(
        "CREATE TABLE main.t(a INTEGER PRIMARY KEY, b UNIQUE);
         CREATE TABLE temp.t(a, b);
         CREATE TEMP TABLE tt(x UNIQUE, y);
         CREATE INDEX main.ti ON t(b);
         CREATE INDEX temp.tti ON tt(y);
         CREATE INDEX temp.ti ON t(a);
         CREATE VIEW main.v AS SELECT * FROM main.t;
         CREATE VIEW temp.tv AS SELECT * FROM tt;
         CREATE TEMP VIEW tv2 AS SELECT 1;
         CREATE TRIGGER main.tr AFTER INSERT ON main.t BEGIN SELECT 1; END;
         CREATE TRIGGER temp.ttr AFTER INSERT ON tt BEGIN INSERT INTO main.t(b) VALUES (new.x); END;
         CREATE TEMP TRIGGER ttr2 AFTER INSERT ON main.t BEGIN INSERT INTO tt VALUES (new.b, 0); END;
         INSERT INTO tt VALUES (1, 2);
         INSERT INTO main.t(b) VALUES (5);
         INSERT INTO temp.t SELECT x, y FROM tt;
         SELECT * FROM main.t ORDER BY a;
         SELECT * FROM temp.t ORDER BY a;
         SELECT * FROM tt ORDER BY x;
         DROP TRIGGER temp.ttr;
         DROP TRIGGER ttr2;
         DROP TRIGGER main.tr;
         DROP VIEW temp.tv;
         DROP VIEW tv2;
         DROP INDEX temp.tti;
         DROP INDEX temp.ti;
         DROP TABLE temp.t;
         DROP TABLE tt;
         SELECT count(*) FROM sqlite_temp_master;
         CREATE TEMP TABLE again(z);
         INSERT INTO again VALUES (1);
         SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid;",
    );
}

/// The same statements on two connections of one file, Strata and SQLite side by side:
/// temp objects are the connection's own, and gone when it closes.
#[test]
fn temp_is_private_to_its_connection_and_gone_on_close() {
    let dir = tempfile::tempdir().unwrap();
    let ours_path = dir.path().join("strata.db");
    let theirs_path = dir.path().join("sqlite.db");
    let db = strata::Database::open(&ours_path).unwrap();
    let (a, b) = (db.connect(), db.connect());
    let sa = rusqlite::Connection::open(&theirs_path).unwrap();
    let sb = rusqlite::Connection::open(&theirs_path).unwrap();
    let both = |sql: &str| {
        same_on(&a, &sa, sql);
    };
    both("CREATE TABLE t(v);\nINSERT INTO t VALUES ('main');");
    both(
        "CREATE TEMP TABLE t(v);\nINSERT INTO t VALUES ('temp of a');\nCREATE TEMP TABLE only_a(x)",
    );
    same_on(
        &b,
        &sb,
        "SELECT v FROM t;
         SELECT * FROM only_a;
         SELECT * FROM temp.t;
         SELECT count(*) FROM sqlite_temp_master;
         CREATE TEMP TABLE t(v);
         INSERT INTO t VALUES ('temp of b');
         SELECT v FROM t;",
    );
    both("SELECT v FROM t;\nSELECT v FROM main.t;\nSELECT count(*) FROM sqlite_temp_master");
    // b's temp writes take no write lock on main: a writes main meanwhile.
    same_on(&b, &sb, "BEGIN;\nINSERT INTO t VALUES ('b again');");
    both("INSERT INTO main.t VALUES ('from a');\nSELECT count(*) FROM main.t");
    same_on(&b, &sb, "COMMIT;\nSELECT group_concat(v) FROM t;");
    drop((a, sa));
    let (c, sc) = (
        db.connect(),
        rusqlite::Connection::open(&theirs_path).unwrap(),
    );
    same_on(
        &c,
        &sc,
        "SELECT * FROM only_a;
         SELECT group_concat(v) FROM t;
         SELECT count(*) FROM sqlite_temp_master;",
    );
}

/// Inside `BEGIN`, statements that touch only the TEMP database take no snapshot of main:
/// the schema reload a TEMP DDL causes at the next prepare does not pin one either
/// (SQLite's `sqlite3InitOne` ends the read transaction it opened). Main's snapshot is
/// taken by the first statement that reads main, so it sees what another connection
/// committed before it, and nothing committed after.
#[test]
fn temp_statements_take_no_main_snapshot() {
    for between in [
        "PRAGMA encoding",
        "SELECT count(*) FROM x",
        "INSERT INTO x VALUES (1)",
        "CREATE TEMP TABLE y(z)",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let db = strata::Database::open(dir.path().join("strata.db")).unwrap();
        let (a, b) = (db.connect(), db.connect());
        let theirs_path = dir.path().join("sqlite.db");
        let sa = rusqlite::Connection::open(&theirs_path).unwrap();
        let sb = rusqlite::Connection::open(&theirs_path).unwrap();
        same_on(
            &a,
            &sa,
            "PRAGMA journal_mode=WAL;\nCREATE TABLE t(v);\nINSERT INTO t VALUES ('first')",
        );
        same_on(
            &a,
            &sa,
            &format!("BEGIN;\nCREATE TEMP TABLE x(y);\n{between}"),
        );
        same_on(&b, &sb, "INSERT INTO t VALUES ('before the read')");
        same_on(&a, &sa, "SELECT group_concat(v) FROM t");
        same_on(&b, &sb, "INSERT INTO t VALUES ('after the read')");
        same_on(&a, &sa, "SELECT group_concat(v) FROM t;\nCOMMIT");
        same_on(&a, &sa, "SELECT group_concat(v) FROM t");
    }
}

/// A statement prepared before a TEMP table shadowed the main table it read is
/// recompiled, as in SQLite.
#[test]
fn prepared_statements_see_new_temp_objects() {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    same_on(
        &ours,
        &theirs,
        "CREATE TABLE t(v);\nINSERT INTO t VALUES ('main')",
    );
    let mut a = ours.prepare("SELECT v FROM t").unwrap();
    let mut b = theirs.prepare("SELECT v FROM t").unwrap();
    let run_a = |s: &mut strata::Statement| -> String { s.query_row((), |r| r.get(0)).unwrap() };
    let run_b = |s: &mut rusqlite::Statement| -> String { s.query_row([], |r| r.get(0)).unwrap() };
    assert_eq!(run_a(&mut a), run_b(&mut b));
    same_on(
        &ours,
        &theirs,
        "CREATE TEMP TABLE t(v);\nINSERT INTO t VALUES ('temp')",
    );
    assert_eq!(run_a(&mut a), "temp");
    assert_eq!(run_b(&mut b), "temp");
    same_on(&ours, &theirs, "DROP TABLE temp.t");
    assert_eq!(run_a(&mut a), run_b(&mut b));
}

/// Temp tables work with the main database on deferred-completion IO (every main read
/// returns Pending first).
#[test]
fn temp_with_deferred_main_io() {
    use std::sync::Arc;
    let io = Arc::new(strata_io::MemoryIo::new_deferred());
    let db = strata::OpenOptions::new()
        .io(io)
        .page_size(1024)
        .cache_size_pages(4)
        .open("deferred.db")
        .unwrap();
    let ours = db.connect();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    same_on(
        &ours,
        &theirs,
        "CREATE TABLE m(a INTEGER PRIMARY KEY, b);
         INSERT INTO m WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300) SELECT i, printf('%050d', i * 7) FROM c;
         CREATE TEMP TABLE t(a INTEGER PRIMARY KEY, b);
         CREATE INDEX temp.tb ON t(b);
         INSERT INTO t SELECT a, b FROM m WHERE a % 3 = 0;
         SELECT count(*), sum(a) FROM t;
         SELECT count(*) FROM m JOIN t USING (a);
         SELECT a FROM t WHERE b = printf('%050d', 21);
         BEGIN;
         DELETE FROM t WHERE a > 150;
         UPDATE m SET b = 'x' WHERE a IN (SELECT a FROM t);
         ROLLBACK;
         SELECT count(*), (SELECT count(*) FROM m WHERE b = 'x') FROM t;",
    );
}

/// Views and triggers of main read main's tables even when TEMP objects of the same
/// name shadow them for ordinary statements; TEMP ones resolve temp first.
#[test]
fn main_view_and_trigger_bodies_ignore_temp_shadowing() {
    same_as_sqlite(
        "CREATE TABLE m(x);
         INSERT INTO m VALUES (1);
         CREATE TABLE lg(v);
         CREATE VIEW mv AS SELECT x FROM m;
         CREATE TRIGGER tr AFTER INSERT ON m BEGIN INSERT INTO lg VALUES (new.x); END;
         CREATE TEMP TABLE m(y);
         INSERT INTO temp.m VALUES (2);
         CREATE TEMP TABLE lg(v);
         CREATE TEMP VIEW tv AS SELECT y FROM m;
         SELECT * FROM mv;
         SELECT * FROM tv;
         SELECT * FROM m;
         INSERT INTO main.m VALUES (3);
         SELECT * FROM main.lg;
         SELECT * FROM temp.lg;
         CREATE VIEW uses_temp AS SELECT * FROM tv;
         SELECT * FROM uses_temp;
         CREATE TEMP TRIGGER ttr AFTER INSERT ON main.m BEGIN INSERT INTO lg VALUES (-new.x); END;
         INSERT INTO main.m VALUES (4);
         SELECT * FROM main.lg ORDER BY v;
         SELECT * FROM temp.lg ORDER BY v;",
    );
}

/// A TEMP trigger stays on the table it was made on: a temp table of the same name made
/// later does not capture it, one made earlier does; dropping either table drops only
/// its own triggers.
#[test]
fn temp_trigger_keeps_its_table() {
    same_as_sqlite(
        "CREATE TABLE t(a);
         CREATE TEMP TABLE lg(v);
         CREATE TEMP TRIGGER on_main AFTER INSERT ON t BEGIN INSERT INTO lg VALUES ('main ' || new.a); END;
         CREATE TEMP TABLE t(a);
         CREATE TRIGGER on_temp AFTER INSERT ON t BEGIN INSERT INTO lg VALUES ('temp ' || new.a); END;
         INSERT INTO main.t VALUES (1);
         INSERT INTO temp.t VALUES (2);
         SELECT v FROM lg ORDER BY rowid;
         SELECT name, tbl_name FROM sqlite_temp_master WHERE type = 'trigger' ORDER BY name;
         DROP TABLE temp.t;
         SELECT name FROM sqlite_temp_master WHERE type = 'trigger' ORDER BY name;
         INSERT INTO t VALUES (3);
         DROP TABLE t;
         SELECT name FROM sqlite_temp_master WHERE type = 'trigger' ORDER BY name;
         SELECT v FROM lg ORDER BY rowid;",
    );
}

/// Views and triggers of main may not name temp objects; TEMP ones may name both.
#[test]
fn main_objects_may_not_reference_temp() {
    same_as_sqlite(
        "CREATE TABLE t(a);
         CREATE TEMP TABLE x(a);
         INSERT INTO x VALUES (1);
         CREATE VIEW v AS SELECT * FROM temp.x;
         CREATE VIEW v AS SELECT * FROM main.t, (SELECT * FROM temp.x);
         CREATE VIEW v AS SELECT * FROM nope.x;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT * FROM temp.x; END;
         CREATE TRIGGER tr AFTER INSERT ON t WHEN (SELECT count(*) FROM temp.x) BEGIN SELECT 1; END;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO nosuch VALUES (1); END;
         INSERT INTO t VALUES (1);
         DROP TRIGGER tr;
         CREATE TEMP VIEW tv AS SELECT * FROM temp.x, main.t;
         SELECT * FROM tv;
         CREATE TEMP TRIGGER ttr AFTER INSERT ON main.t BEGIN INSERT INTO x SELECT a + 10 FROM temp.x; END;
         INSERT INTO t VALUES (2);
         SELECT * FROM x ORDER BY a;
         SELECT name FROM sqlite_schema ORDER BY name;",
    );
}

#[test]
fn temp_ddl_errors_as_in_sqlite() {
    same_as_sqlite(
        "CREATE TABLE t(a);
         CREATE TEMP TRIGGER temp.tr AFTER INSERT ON t BEGIN SELECT 1; END;
         CREATE TEMP TRIGGER main.tr AFTER INSERT ON t BEGIN SELECT 1; END;
         CREATE TEMP VIEW main.v AS SELECT 1;
         CREATE TEMP TABLE temp.x(a);
         CREATE TEMP TABLE x(b);
         CREATE TEMP TABLE IF NOT EXISTS x(b);
         CREATE TEMP VIEW x AS SELECT 1;
         CREATE INDEX temp.i ON nosuch(a);
         CREATE UNIQUE INDEX temp.i ON t(a);
         CREATE INDEX main.i ON x(a);
         CREATE INDEX i ON x(a);
         CREATE INDEX i ON x(a);
         CREATE INDEX i ON t(a);
         CREATE INDEX x ON x(a);
         CREATE TEMP TABLE i(z);
         CREATE TEMP TABLE sqlite_x(a);
         CREATE TRIGGER tr AFTER INSERT ON temp.nosuch BEGIN SELECT 1; END;
         CREATE TEMP TRIGGER tr AFTER INSERT ON nosuch BEGIN SELECT 1; END;
         CREATE TEMP TRIGGER tr AFTER INSERT ON x BEGIN SELECT 1; END;
         CREATE TRIGGER tr AFTER INSERT ON x BEGIN SELECT 1; END;
         DROP INDEX i;
         DROP INDEX i;
         DROP INDEX main.i;
         DROP TRIGGER main.tr;
         DROP TRIGGER temp.tr;
         DROP VIEW temp.x;
         DROP TABLE temp.sqlite_temp_master;
         PRAGMA temp.page_size;
         SELECT name FROM sqlite_schema ORDER BY name;
         SELECT name FROM sqlite_temp_master ORDER BY name;",
    );
}

/// ALTER TABLE RENAME rewrites the table's triggers, `ON main.t` ones and TEMP ones too.
#[test]
fn rename_rewrites_qualified_and_temp_triggers() {
    same_as_sqlite(
        "CREATE TABLE t(a);
         CREATE TEMP TABLE lg(v);
         CREATE TRIGGER main.tr AFTER INSERT ON main.t BEGIN SELECT 1; END;
         CREATE TEMP TRIGGER tt AFTER INSERT ON t BEGIN INSERT INTO lg VALUES (new.a); END;
         CREATE TEMP TRIGGER tq AFTER DELETE ON main.t BEGIN INSERT INTO lg VALUES (-old.a); END;
         ALTER TABLE main.t RENAME TO t2;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         SELECT type, name, tbl_name, sql FROM sqlite_temp_master ORDER BY rowid;
         INSERT INTO t2 VALUES (5);
         DELETE FROM t2;
         SELECT v FROM lg ORDER BY rowid;
         CREATE TEMP TABLE tmp(x);
         CREATE TRIGGER tmp_tr BEFORE INSERT ON tmp BEGIN INSERT INTO lg VALUES ('tmp'); END;
         ALTER TABLE tmp RENAME TO tmp2;
         INSERT INTO tmp2 VALUES (1);
         SELECT type, name, tbl_name, sql FROM sqlite_temp_master ORDER BY rowid;
         SELECT v FROM lg ORDER BY rowid;",
    );
}
