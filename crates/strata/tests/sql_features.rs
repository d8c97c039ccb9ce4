//! SQL features beyond the sqllogictest corpus, checked against SQLite itself: each
//! script runs statement by statement on Strata and on rusqlite (bundled SQLite), and
//! every statement must either fail on both or return the same rows (values and
//! storage classes).

mod common;
use common::*;
use strata::Connection;

#[test]
fn triggers() {
    same_as_sqlite(
        "CREATE TABLE t(x INTEGER PRIMARY KEY, y);
         CREATE TABLE log(m);
         CREATE TRIGGER ti AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('ins ' || new.x || ' ' || new.y); END;
         CREATE TRIGGER tu BEFORE UPDATE OF y ON t WHEN new.y > 100 BEGIN SELECT RAISE(ABORT, 'too big'); END;
         CREATE TRIGGER tu2 AFTER UPDATE ON t BEGIN INSERT INTO log VALUES ('upd ' || old.y || '->' || new.y); END;
         CREATE TRIGGER td AFTER DELETE ON t BEGIN INSERT INTO log VALUES ('del ' || old.x); END;
         CREATE TRIGGER tig BEFORE INSERT ON t WHEN new.y = 'skip' BEGIN SELECT RAISE(IGNORE); END;
         INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'skip');
         UPDATE t SET y = 5 WHERE x = 1;
         UPDATE t SET y = 500 WHERE x = 1;
         DELETE FROM t WHERE x = 2;
         SELECT changes();
         SELECT * FROM log ORDER BY rowid;
         SELECT * FROM t ORDER BY x;
         DROP TRIGGER tu2;
         UPDATE t SET y = 6;
         SELECT count(*) FROM log;
         DROP TABLE t;
         SELECT name FROM sqlite_schema ORDER BY name;",
    );
}

#[test]
fn returning_autoincrement_and_aliases() {
    same_as_sqlite(
        "CREATE TABLE a(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT, n INT DEFAULT 7);
         INSERT INTO a(v) VALUES ('x'), ('y') RETURNING id, v, n * 2 AS dbl;
         INSERT INTO a VALUES (10, 'z', 1);
         DELETE FROM a WHERE id = 10 RETURNING *;
         INSERT INTO a(v) VALUES ('w') RETURNING id;
         UPDATE a SET n = n + 1 WHERE v < 'y' RETURNING v, n;
         SELECT * FROM sqlite_sequence;
         SELECT v AS k, count(*) AS c FROM a GROUP BY k HAVING c >= 1 ORDER BY k;
         SELECT n * 10 AS w FROM a WHERE w > 75 ORDER BY w;
         SELECT changes(), total_changes(), last_insert_rowid();",
    );
}

#[test]
fn upsert_and_conflicts() {
    same_as_sqlite(
        "CREATE TABLE kv(k TEXT PRIMARY KEY, v INT, hits INT DEFAULT 0);
         CREATE UNIQUE INDEX kv_v ON kv(v);
         INSERT INTO kv(k, v) VALUES ('a', 1), ('b', 2);
         INSERT INTO kv(k, v) VALUES ('a', 10) ON CONFLICT(k) DO UPDATE SET v = excluded.v, hits = hits + 1;
         INSERT INTO kv(k, v) VALUES ('c', 2) ON CONFLICT(k) DO NOTHING;
         INSERT INTO kv(k, v) VALUES ('c', 2) ON CONFLICT DO NOTHING;
         INSERT OR REPLACE INTO kv(k, v) VALUES ('d', 2);
         INSERT OR IGNORE INTO kv(k, v) VALUES ('a', 99);
         INSERT INTO kv(k, v) VALUES ('e', 10);
         SELECT * FROM kv ORDER BY k;
         UPDATE OR REPLACE kv SET v = 10 WHERE k = 'd';
         SELECT * FROM kv ORDER BY k;
         CREATE TABLE c(x INTEGER NOT NULL CHECK (x > 0), y TEXT NOT NULL DEFAULT 'dflt');
         INSERT INTO c(x) VALUES (1);
         INSERT INTO c(x) VALUES (0);
         INSERT INTO c(x, y) VALUES (NULL, 'n');
         INSERT OR REPLACE INTO c(x, y) VALUES (2, NULL);
         SELECT * FROM c ORDER BY x;
         CREATE TABLE u(id INTEGER PRIMARY KEY, k INTEGER UNIQUE);
         INSERT INTO u VALUES (1, 1);
         INSERT INTO u VALUES (1, 1) ON CONFLICT(k) DO NOTHING;
         INSERT INTO u VALUES (1, 2) ON CONFLICT(k) DO NOTHING;
         INSERT INTO u VALUES (2, 1) ON CONFLICT(k) DO UPDATE SET k = 5;
         SELECT * FROM u ORDER BY id;
         PRAGMA integrity_check;",
    );
}

#[test]
fn schema_and_pragmas() {
    same_as_sqlite(
        "CREATE TABLE p(a INTEGER PRIMARY KEY, b TEXT NOT NULL, c REAL DEFAULT 1.5, UNIQUE(b, c));
         CREATE INDEX p_c ON p(c DESC);
         CREATE VIEW pv AS SELECT a, b FROM p WHERE c > 1;
         PRAGMA table_info(p);
         PRAGMA index_list(p);
         PRAGMA index_info(p_c);
         INSERT INTO p(b, c) VALUES ('x', 2.0), ('y', 0.5), ('z', 3);
         SELECT * FROM pv ORDER BY a;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name;
         PRAGMA user_version = 42;
         PRAGMA user_version;
         CREATE TABLE q AS SELECT a * 2 AS d, b FROM p;
         SELECT * FROM q ORDER BY d;
         DROP VIEW pv;
         DROP INDEX p_c;
         SELECT name FROM sqlite_schema ORDER BY name;",
    );
}

#[test]
fn begin_immediate_takes_the_write_lock() {
    let db = strata::Database::open_in_memory().unwrap();
    let a = db.connect();
    let b = db.connect();
    a.execute_batch("CREATE TABLE t(x)").unwrap();
    a.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut stmt = b.prepare("BEGIN IMMEDIATE").unwrap();
    assert_eq!(stmt.step().unwrap(), strata::StepResult::Busy);
    drop(stmt);
    a.execute_batch("INSERT INTO t VALUES (1); COMMIT").unwrap();
    b.execute_batch("BEGIN IMMEDIATE; INSERT INTO t VALUES (2); COMMIT")
        .unwrap();
    let n: i64 = a
        .query_row("SELECT count(*) FROM t", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

#[test]
fn common_table_expressions() {
    same_as_sqlite(
        "WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt WHERE x < 100) SELECT sum(x), count(*) FROM cnt;
         WITH RECURSIVE cnt(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM cnt LIMIT 5 OFFSET 2) SELECT group_concat(x) FROM cnt;
         WITH a AS (SELECT 1 AS v UNION ALL SELECT 2), b(w) AS (SELECT v * 10 FROM a) SELECT * FROM a, b ORDER BY v, w;
         CREATE TABLE emp(id INTEGER PRIMARY KEY, boss INT, name TEXT);
         INSERT INTO emp VALUES (1, NULL, 'ceo'), (2, 1, 'vp'), (3, 2, 'dev'), (4, 2, 'qa'), (5, 3, 'intern');
         WITH RECURSIVE chain(id, name, depth) AS (SELECT id, name, 0 FROM emp WHERE boss IS NULL UNION ALL SELECT e.id, e.name, c.depth + 1 FROM emp e JOIN chain c ON e.boss = c.id) SELECT name, depth FROM chain ORDER BY depth, name;
         WITH RECURSIVE r(n) AS (SELECT 1 UNION SELECT n % 3 + 1 FROM r) SELECT n FROM r ORDER BY n;
         SELECT (WITH t(x) AS (SELECT 42) SELECT x FROM t);
         WITH big AS (SELECT id FROM emp WHERE id > 2) DELETE FROM emp WHERE id IN (SELECT id FROM big);
         WITH n(v) AS (VALUES (7), (8)) INSERT INTO emp(boss, name) SELECT v, 'new' || v FROM n;
         SELECT * FROM emp ORDER BY id;",
    );
}

#[test]
fn date_and_time() {
    same_as_sqlite(
        "SELECT date('2024-02-28', '+1 day'), time('12:34:56.789'), datetime('2000-01-01 00:00:00', '+1 month', 'start of month');
         SELECT julianday('2024-01-01'), unixepoch('2024-01-01 00:00:00'), strftime('%Y-%m-%d %H:%M:%f %j %w %W', '2024-03-10 10:20:30.456');
         SELECT date(0, 'unixepoch'), datetime(1700000000, 'unixepoch'), date('junk'), timediff('2024-03-01', '2024-01-01');
         SELECT typeof(CURRENT_TIMESTAMP), length(CURRENT_DATE), typeof(julianday('now'));",
    );
}

#[test]
fn savepoints() {
    same_as_sqlite(
        "CREATE TABLE s(x);
         SAVEPOINT a;
         INSERT INTO s VALUES (1);
         SAVEPOINT b;
         INSERT INTO s VALUES (2);
         ROLLBACK TO b;
         INSERT INTO s VALUES (3);
         SELECT * FROM s ORDER BY x;
         RELEASE a;
         SELECT * FROM s ORDER BY x;
         BEGIN;
         INSERT INTO s VALUES (4);
         SAVEPOINT c;
         INSERT INTO s VALUES (5);
         ROLLBACK TO SAVEPOINT c;
         RELEASE SAVEPOINT c;
         COMMIT;
         SELECT * FROM s ORDER BY x;
         RELEASE nothing;
         SAVEPOINT d;
         INSERT INTO s VALUES (6);
         ROLLBACK;
         SELECT * FROM s ORDER BY x;",
    );
}

#[test]
fn alter_table() {
    same_as_sqlite(
        "CREATE TABLE t(a INTEGER PRIMARY KEY AUTOINCREMENT, b TEXT);
         CREATE INDEX tb ON t(b);
         CREATE TRIGGER tt AFTER INSERT ON t BEGIN SELECT 1; END;
         INSERT INTO t(b) VALUES ('x'), ('y');
         ALTER TABLE t ADD COLUMN c INT DEFAULT 7;
         ALTER TABLE t ADD d TEXT NOT NULL DEFAULT 'dd';
         ALTER TABLE t ADD COLUMN e NOT NULL;
         ALTER TABLE t ADD COLUMN f DEFAULT (random());
         SELECT * FROM t ORDER BY a;
         UPDATE t SET b = 'z' WHERE a = 1;
         INSERT INTO t(b) VALUES ('w');
         SELECT * FROM t ORDER BY a;
         CREATE INDEX tc ON t(c, d);
         SELECT a FROM t WHERE c = 7 AND d = 'dd' ORDER BY a;
         ALTER TABLE t RENAME TO u;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name;
         SELECT * FROM u ORDER BY a;
         SELECT * FROM sqlite_sequence;
         INSERT INTO u(b) VALUES ('v');
         SELECT a, b FROM u WHERE b = 'v';
         SELECT * FROM t;
         PRAGMA integrity_check;",
    );
}

#[test]
fn syntax_errors_carry_sqlite_text_and_position() {
    let conn = Connection::open_in_memory().unwrap();
    let e = conn.prepare("SELECT 1 FROM").err().expect("an error");
    assert_eq!(e.code(), strata::ErrorCode::Error);
    assert!(
        e.to_string().contains("syntax error") || e.to_string().contains("incomplete input"),
        "{e}"
    );
    let e = conn.prepare("SELEC 1").err().expect("an error");
    assert_eq!(e.to_string(), "near \"SELEC\": syntax error");
    assert_eq!(e.offset(), Some(0));
    let e = conn.prepare("SELECT 1;\n  SELECT * FROM WHERE").err();
    // The first statement is fine; prepare compiles only it.
    assert!(e.is_none());
    let (_, tail) = conn
        .prepare_with_tail(
            "SELECT 1;
  SELECT * FROM WHERE x",
        )
        .unwrap()
        .expect("a statement");
    let rest = &"SELECT 1;\n  SELECT * FROM WHERE x"[tail..];
    let e = conn.prepare(rest).err().expect("an error");
    assert_eq!(e.to_string(), "near \"WHERE\": syntax error");
    assert_eq!(&rest[e.offset().unwrap()..e.offset().unwrap() + 5], "WHERE");
}

#[test]
fn failed_statements_inside_a_transaction() {
    same_as_sqlite(
        "CREATE TABLE u(id INTEGER PRIMARY KEY, k TEXT UNIQUE NOT NULL, n INT CHECK (n >= 0));
         BEGIN;
         INSERT INTO u VALUES (1, 'a', 1);
         INSERT INTO u VALUES (1, 'b', 1);
         INSERT INTO u VALUES (2, 'a', 1);
         INSERT INTO u VALUES (3, NULL, 1);
         INSERT INTO u VALUES (4, 'd', -1);
         INSERT INTO u VALUES ('x', 'e', 1);
         INSERT INTO u VALUES (5, 'e', 1);
         INSERT INTO u VALUES (6, 'f', 1), (7, 'a', 1);
         UPDATE u SET k = 'a' WHERE id = 5;
         SELECT * FROM u ORDER BY id;
         COMMIT;
         SELECT * FROM u ORDER BY id;
         PRAGMA integrity_check;",
    );
}
