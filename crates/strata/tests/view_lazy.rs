//! CREATE VIEW is resolved where the view is used, as in SQLite: a view may name tables,
//! columns and functions that do not exist yet; using it fails with SQLite's message
//! until they do, and works once they do. Checked statement by statement against SQLite
//! (rusqlite, bundled): results and error messages must be the same.

mod common;
use common::*;
use strata::Connection;

#[test]
fn views_naming_missing_objects() {
    check_script(
        "CREATE TABLE t(a, b);
INSERT INTO t VALUES (1, 'x'), (2, 'y');
CREATE VIEW v AS SELECT * FROM nosuch;
SELECT * FROM v;
SELECT a FROM v;
SELECT count(*) FROM t, v;
SELECT * FROM t WHERE a IN (SELECT x FROM v);
PRAGMA table_info(v);
SELECT name, ncol FROM pragma_table_list WHERE name = 'v';
SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name;
CREATE TABLE nosuch(x, y);
SELECT * FROM v;
INSERT INTO nosuch VALUES (1, 2), (3, 4);
SELECT * FROM v ORDER BY x;
SELECT t.a, v.y FROM t JOIN v ON v.x = t.a;
PRAGMA table_info(v);
DROP TABLE nosuch;
SELECT * FROM v;
DROP VIEW v;
SELECT * FROM v;
CREATE VIEW v3 AS SELECT nosuchcol FROM t;
SELECT * FROM v3;
CREATE VIEW v4 AS SELECT nosuchfn(a) FROM t;
SELECT * FROM v4;
CREATE VIEW v10 AS SELECT sum(a) OVER w FROM t;
SELECT * FROM v10;
CREATE VIEW v11 AS SELECT a FROM t GROUP BY nosuch;
SELECT * FROM v11;
CREATE VIEW v13 AS SELECT a FROM t UNION SELECT a, b FROM t;
SELECT * FROM v13;
CREATE VIEW v14 AS WITH c AS (SELECT 1) SELECT * FROM c, nosuch;
SELECT * FROM v14;
CREATE VIEW v15 AS SELECT * FROM t ORDER BY 5;
SELECT * FROM v15;
CREATE VIEW v17 AS SELECT a FROM t AS x JOIN t AS y USING (nosuch);
SELECT * FROM v17;
CREATE VIEW v18 AS SELECT * FROM json_each(nosuch);
SELECT * FROM v18;
CREATE VIEW v19 AS SELECT * FROM nosuch_tvf(1);
SELECT * FROM v19;
CREATE VIEW v21(p, q) AS SELECT * FROM later;
SELECT * FROM v21;
CREATE TABLE later(m, n, o);
SELECT * FROM v21;
CREATE TABLE later2(m);
DROP TABLE later;
CREATE TABLE later(m, n);
INSERT INTO later VALUES (5, 6);
SELECT * FROM v21;
PRAGMA table_info(v21);
CREATE TEMP VIEW tv AS SELECT * FROM nosuch2;
SELECT * FROM tv;
CREATE TEMP TABLE nosuch2(z);
INSERT INTO nosuch2 VALUES ('temp');
SELECT * FROM tv;
",
    );
}

#[test]
fn circular_views() {
    check_script(
        "CREATE VIEW v7 AS SELECT * FROM v7;
SELECT * FROM v7;
CREATE VIEW v8 AS SELECT * FROM v9;
SELECT * FROM v8;
CREATE VIEW v9 AS SELECT * FROM v8;
SELECT * FROM v8;
SELECT * FROM v9;
PRAGMA table_info(v9);
CREATE VIEW va AS SELECT 1 AS one UNION ALL SELECT * FROM vb;
CREATE VIEW vb AS SELECT * FROM va;
SELECT * FROM va;
DROP VIEW v9;
SELECT * FROM v8;
",
    );
}

/// What SQLite still checks at CREATE VIEW.
#[test]
fn checks_made_at_create() {
    check_script(
        "CREATE TABLE t(a, b);
CREATE TEMP TABLE tt(x);
CREATE VIEW v5 AS SELECT ?1;
CREATE VIEW v5b AS SELECT a FROM t WHERE b = :name;
CREATE VIEW v6 AS SELECT * FROM temp.tt;
CREATE VIEW v6b AS SELECT * FROM aux.x;
CREATE VIEW v6c AS SELECT * FROM t WHERE a IN (SELECT x FROM temp.tt);
CREATE TEMP VIEW tv6 AS SELECT * FROM temp.tt, main.t;
CREATE VIEW sqlite_v AS SELECT 1;
CREATE VIEW t AS SELECT 1;
CREATE VIEW v AS SELECT 1;
CREATE VIEW v AS SELECT * FROM nosuch;
CREATE VIEW IF NOT EXISTS v AS SELECT * FROM nosuch;
CREATE VIEW v2(a, a) AS SELECT 1, 2;
CREATE VIEW v2b(a, b) AS SELECT 1;
SELECT * FROM v2b;
CREATE VIEW v20 AS SELECT a, a FROM t;
SELECT * FROM v20;
CREATE VIEW v22 AS SELECT * FROM nosuch WHERE x = (SELECT max(y) FROM nosuch_either);
SELECT * FROM v22;
SELECT type, name FROM sqlite_schema ORDER BY name;
",
    );
}

/// Statements that reach a view naming something missing: triggers, DML through INSTEAD
/// OF triggers, and ALTER TABLE (SQLite tests every view of the schema first).
#[test]
fn use_sites_and_alter() {
    check_script(
        "CREATE TABLE t(a, b);
CREATE TABLE w(x);
CREATE VIEW v3 AS SELECT nosuchcol FROM t;
CREATE TRIGGER trg AFTER INSERT ON w BEGIN INSERT INTO w SELECT * FROM v3; END;
INSERT INTO w VALUES (1);
SELECT * FROM w;
SELECT * FROM t WHERE a IN (SELECT * FROM v3);
ALTER TABLE t RENAME TO t2;
ALTER TABLE w RENAME TO w2;
ALTER TABLE t RENAME COLUMN a TO aa;
ALTER TABLE w ADD COLUMN z;
SELECT type, name, sql FROM sqlite_schema ORDER BY name;
DROP VIEW v3;
ALTER TABLE t RENAME TO t2;
SELECT type, name, sql FROM sqlite_schema ORDER BY name;
CREATE VIEW vl AS SELECT x, y FROM later;
CREATE TRIGGER vl_i INSTEAD OF INSERT ON vl BEGIN INSERT INTO later VALUES (new.x, new.y); END;
INSERT INTO vl VALUES (1, 2);
CREATE TABLE later(x, y);
INSERT INTO vl VALUES (1, 2);
SELECT * FROM vl;
DELETE FROM vl;
SELECT * FROM later;
",
    );
}

/// A database whose schema holds a view naming a missing table opens and is used as
/// SQLite uses it: the file SQLite wrote, read by Strata, and the other way round.
#[test]
fn broken_view_survives_reopen() {
    let dir = std::env::temp_dir().join(format!("strata-view-lazy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("v.db");
    let _ = std::fs::remove_file(&path);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE t(a); CREATE VIEW v AS SELECT * FROM later, t;")
            .unwrap();
    }
    let ours = Connection::open(path.to_str().unwrap()).unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    theirs
        .execute_batch("CREATE TABLE t(a); CREATE VIEW v AS SELECT * FROM later, t;")
        .unwrap();
    check_script_on(
        &ours,
        &theirs,
        "SELECT * FROM v;
CREATE TABLE later(b);
INSERT INTO later VALUES (1);
INSERT INTO t VALUES (2);
SELECT * FROM v;
CREATE VIEW v2 AS SELECT nosuchfn(b) FROM later;
",
    );
    drop(ours);
    let c = rusqlite::Connection::open(&path).unwrap();
    let n: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, "ok");
    let err = c.prepare("SELECT * FROM v2").err().map(sqlite_message);
    assert_eq!(err.as_deref(), Some("no such function: nosuchfn"));
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
}
