//! Partial indexes (`CREATE [UNIQUE] INDEX ... WHERE expr`), statement by statement
//! against SQLite (rusqlite's bundled build): the WHERE's restrictions and their
//! messages, the stored SQL, maintenance by every kind of write (only rows the WHERE
//! holds for have entries; UNIQUE among those rows only), upsert targets with a WHERE,
//! `PRAGMA index_list`, and the planner's use of such an index only when the query's
//! WHERE implies the index's (checked through the results, and through SQLite's
//! `integrity_check` on Strata's file, which compares every index with its table).

mod common;
use common::*;
use strata::Connection;

const SCHEMA: &str = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid";

#[test]
fn create_partial_index_errors_and_stored_sql() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c TEXT);
         CREATE TABLE u(a, z);
         CREATE INDEX e1 ON t(b) WHERE b IN (SELECT 1);
         CREATE INDEX e2 ON t(b) WHERE EXISTS (SELECT 1);
         CREATE INDEX e3 ON t(b) WHERE (SELECT 1) > b;
         CREATE INDEX e4 ON t(b) WHERE random() > 0;
         CREATE INDEX e5 ON t(b) WHERE b > changes();
         CREATE INDEX e6 ON t(b) WHERE ? > b;
         CREATE INDEX e7 ON t(b) WHERE u.a > 0;
         CREATE INDEX e8 ON t(b) WHERE zz > 0;
         CREATE INDEX e9 ON t(b) WHERE count(*) > 0;
         CREATE INDEX e10 ON t(b) WHERE max(b) > 0;
         CREATE INDEX e11 ON t(b) WHERE nosuch(b);
         CREATE INDEX e12 ON t(b) WHERE b IN u;
         CREATE INDEX e13 ON t(b) WHERE last_insert_rowid() > 1;
         CREATE INDEX e14 ON t(b) WHERE randomblob(2) > b;
         SELECT count(*) FROM sqlite_schema WHERE name LIKE 'e%';
         CREATE INDEX i1 ON t(b) WHERE b IS NOT NULL;
         CREATE UNIQUE INDEX  i2 ON t ( c )   WHERE  c > 'm' AND b<>0 ;
         CREATE INDEX i3 ON t(c, b) WHERE t.b > 0 OR main.t.c = 'x';
         CREATE INDEX i4 ON t(b) WHERE rowid > 3 AND _rowid_ < 100 AND oid <> 5 AND a > 0;
         CREATE INDEX i5 ON t(c COLLATE nocase) WHERE c LIKE 'a%' COLLATE nocase;
         CREATE INDEX i6 ON t(b) WHERE max(b, 3) > abs(-2) AND (b, c) > (1, 'a');
         CREATE INDEX IF NOT EXISTS i1 ON t(c) WHERE c;
         CREATE INDEX i7 ON t(b) WHERE \"c\" > 1 AND [b] NOTNULL;
         CREATE INDEX i8 ON t(b) WHERE b BETWEEN 1 AND 9 AND c IN ('a', 'b') AND b IS NOT 4;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         PRAGMA index_list(t);
         SELECT * FROM pragma_index_list('t') ORDER BY name;
         PRAGMA index_info(i3);
         PRAGMA integrity_check;",
    );
}

/// Every write keeps only the rows the WHERE holds for, and UNIQUE applies among them.
#[test]
fn writes_maintain_partial_indexes() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c, d);
         INSERT INTO t VALUES (1, 1, 'x', 0), (2, NULL, 'x', 1), (3, 3, 'y', 1), (4, 4, 'x', NULL);
         CREATE INDEX ib ON t(b) WHERE b IS NOT NULL;
         CREATE UNIQUE INDEX uc ON t(c) WHERE d = 1;
         CREATE UNIQUE INDEX uc2 ON t(c) WHERE d = 1;
         CREATE UNIQUE INDEX uc3 ON t(c, b) WHERE d > 5;
         SELECT * FROM t ORDER BY a;
         INSERT INTO t VALUES (5, 5, 'x', 1);
         INSERT INTO t VALUES (6, 6, 'x', 0);
         INSERT INTO t VALUES (7, 7, 'y', 0);
         INSERT OR IGNORE INTO t VALUES (8, 8, 'x', 1);
         INSERT OR REPLACE INTO t VALUES (9, 9, 'y', 1);
         SELECT * FROM t ORDER BY a;
         UPDATE t SET d = 1 WHERE a = 6;
         UPDATE t SET d = 1 WHERE a = 1;
         UPDATE t SET d = 0 WHERE a = 2;
         UPDATE t SET d = 1 WHERE a = 1;
         UPDATE OR REPLACE t SET d = 1 WHERE a = 4;
         UPDATE t SET b = NULL WHERE a = 3;
         UPDATE t SET b = 30 WHERE a = 2;
         UPDATE t SET a = a + 100 WHERE a > 4;
         SELECT * FROM t ORDER BY a;
         SELECT b FROM t WHERE b IS NOT NULL ORDER BY b;
         SELECT b FROM t WHERE b > 2 ORDER BY b;
         SELECT c, a FROM t WHERE d = 1 AND c = 'x';
         SELECT c, a FROM t WHERE d = 1 ORDER BY c;
         DELETE FROM t WHERE a = 1;
         DELETE FROM t WHERE b IS NULL;
         INSERT INTO t VALUES (1, 1, 'x', 1);
         SELECT * FROM t ORDER BY a;
         REPLACE INTO t VALUES (50, 50, 'x', 1);
         SELECT * FROM t ORDER BY a;
         SELECT c, a FROM t WHERE d = 1 AND c = 'x';
         INSERT INTO t SELECT a + 1000, b, c || a, 1 FROM t;
         SELECT count(*) FROM t WHERE d = 1 AND c > 'x';
         DELETE FROM t WHERE d = 1;
         SELECT * FROM t ORDER BY a;
         PRAGMA integrity_check;
         CREATE TABLE w(a INTEGER PRIMARY KEY, b, c, d);
         CREATE UNIQUE INDEX w1 ON w(c) WHERE b NOTNULL;
         CREATE UNIQUE INDEX w2 ON w(d) WHERE b NOTNULL;
         INSERT INTO w VALUES (1, 1, 1, 1);
         INSERT INTO w VALUES (2, 1, 1, 1);
         INSERT INTO w VALUES (2, NULL, 1, 1);
         CREATE TABLE w2(a INTEGER PRIMARY KEY, b, c, d);
         CREATE UNIQUE INDEX w21 ON w2(c);
         CREATE UNIQUE INDEX w22 ON w2(d);
         INSERT INTO w2 VALUES (1, 1, 1, 1);
         INSERT INTO w2 VALUES (2, 1, 1, 1);",
    );
}

#[test]
fn upsert_targets_with_where() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, k, v, live);
         CREATE UNIQUE INDEX uk ON t(k) WHERE live = 1;
         INSERT INTO t VALUES (1, 'a', 1, 1), (2, 'a', 2, 0);
         INSERT INTO t VALUES (3, 'a', 3, 1) ON CONFLICT (k) DO NOTHING;
         INSERT INTO t VALUES (3, 'a', 3, 1) ON CONFLICT (k) WHERE live = 0 DO NOTHING;
         INSERT INTO t VALUES (3, 'a', 3, 1) ON CONFLICT (k) WHERE live = 1 DO NOTHING;
         INSERT INTO t VALUES (4, 'a', 4, 1) ON CONFLICT (k) WHERE live = 1 DO UPDATE SET v = v + excluded.v;
         INSERT INTO t VALUES (5, 'a', 5, 0) ON CONFLICT (k) WHERE live = 1 DO UPDATE SET v = 99;
         INSERT INTO t VALUES (6, 'b', 6, 1) ON CONFLICT (k) WHERE live = 1 DO UPDATE SET v = 99;
         INSERT INTO t VALUES (6, 'c', 6, 1) ON CONFLICT (a) WHERE live = 1 DO UPDATE SET v = 77;
         INSERT INTO t VALUES (7, 'c', 7, 1) ON CONFLICT DO UPDATE SET v = 55;
         SELECT * FROM t ORDER BY a;
         CREATE UNIQUE INDEX full ON t(v);
         INSERT INTO t VALUES (8, 'z', 55, 0) ON CONFLICT (v) WHERE live = 1 DO UPDATE SET k = 'zz';
         SELECT * FROM t ORDER BY a;
         PRAGMA integrity_check;",
    );
}

/// Queries whose WHERE does or does not imply the index's: same rows as SQLite.
#[test]
fn planner_uses_partial_index_only_when_implied() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b INT, c TEXT, d INT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
           INSERT INTO t SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE i % 13 END,
             char(97 + i % 7), i % 4 FROM n;
         CREATE INDEX pb ON t(b) WHERE b IS NOT NULL;
         CREATE INDEX pd ON t(b) WHERE d = 2;
         CREATE INDEX pc ON t(c, b) WHERE c > 'c' AND d <> 0;
         CREATE INDEX po ON t(d) WHERE b = 3 OR c = 'a';
         SELECT a FROM t WHERE b = 4 ORDER BY a;
         SELECT a FROM t WHERE b > 10 ORDER BY a;
         SELECT count(*) FROM t WHERE b IS NULL;
         SELECT a FROM t WHERE b = 4 AND d = 2 ORDER BY a;
         SELECT a FROM t WHERE d = 2 AND b BETWEEN 3 AND 5 ORDER BY a;
         SELECT a FROM t WHERE d = 3 AND b = 4 ORDER BY a;
         SELECT a, b FROM t WHERE c > 'c' AND d <> 0 AND c = 'e' ORDER BY a;
         SELECT a, b FROM t WHERE c = 'e' ORDER BY a;
         SELECT a, b FROM t WHERE c > 'c' AND c = 'e' ORDER BY a;
         SELECT a FROM t WHERE (b = 3) AND d = 1 ORDER BY a;
         SELECT a FROM t WHERE c = 'a' AND d = 1 ORDER BY a;
         SELECT a FROM t WHERE d = 1 ORDER BY a;
         SELECT b FROM t WHERE b IS NOT NULL ORDER BY b, a;
         SELECT b FROM t ORDER BY b, a;
         SELECT b, count(*) FROM t WHERE b > 0 GROUP BY b;
         SELECT x.a, y.a FROM t x JOIN t y ON y.b = x.b AND y.d = 2 WHERE x.a < 20 ORDER BY 1, 2;
         SELECT x.a, y.a FROM t x LEFT JOIN t y ON y.b = x.b AND y.d = 2 WHERE x.a < 20 ORDER BY 1, 2;
         SELECT x.a, y.a FROM t x LEFT JOIN t y ON y.b = x.b WHERE y.d = 2 AND x.a < 30 ORDER BY 1, 2;
         SELECT x.a, y.a FROM t x LEFT JOIN t y ON y.b = x.b + 100 WHERE y.b IS NULL AND x.a < 10 ORDER BY 1, 2;
         SELECT x.a, y.a FROM t x JOIN t y ON y.b = x.b WHERE x.d = 2 AND x.a < 30 ORDER BY 1, 2;
         SELECT x.a, y.a FROM t x RIGHT JOIN t y ON y.b = x.b AND y.d = 2 AND x.a < 20 ORDER BY 1, 2;
         SELECT x.a, y.a FROM t x FULL JOIN t y ON y.b = x.b AND y.d = 2 AND x.d = 2 AND x.a < 40 ORDER BY 1, 2;
         SELECT x.a, y.a FROM t x RIGHT JOIN t y ON y.b = x.b AND x.d = 2 WHERE y.a < 30 ORDER BY 1, 2;
         SELECT a FROM t WHERE a IN (SELECT y.a FROM t y WHERE y.b = t.b AND y.d = 2) ORDER BY a;
         SELECT a FROM t AS z WHERE z.b = 3 AND z.d = 2 ORDER BY a;
         SELECT (SELECT count(*) FROM t y WHERE y.b = x.b AND x.d = 2) FROM t x ORDER BY a;
         UPDATE t SET d = 2 WHERE b = 4 AND d = 1;
         DELETE FROM t WHERE b = 6 AND d = 2;
         SELECT a FROM t WHERE b = 4 AND d = 2 ORDER BY a;
         SELECT a FROM t WHERE b = 6 ORDER BY a;
         PRAGMA integrity_check;",
    );
}

/// Strata uses the partial index when the WHERE implies it (the program opens it), and
/// not when it does not.
#[test]
fn plan_opens_partial_index_only_when_implied() {
    let c = Connection::open_in_memory().unwrap();
    for sql in [
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b, d)",
        "CREATE INDEX pd ON t(b) WHERE d = 2",
        "CREATE INDEX pn ON t(d) WHERE b IS NOT NULL",
    ] {
        strata_rows(&c, sql).unwrap();
    }
    let root = |name: &str| {
        strata_rows(
            &c,
            &format!("SELECT rootpage FROM sqlite_schema WHERE name = '{name}'"),
        )
        .unwrap()[0][0]
            .clone()
    };
    let opens = |sql: &str, name: &str| {
        let r = root(name);
        strata_rows(&c, &format!("EXPLAIN {sql}"))
            .unwrap()
            .iter()
            .any(|op| op[1] == V::Text(b"OpenReadAsync".to_vec()) && op[3] == r)
    };
    assert!(opens("SELECT a FROM t WHERE b = 4 AND d = 2", "pd"));
    assert!(opens("SELECT a FROM t WHERE (d = 2) AND b = 5", "pd"));
    assert!(!opens("SELECT a FROM t WHERE b = 4", "pd"));
    assert!(!opens("SELECT a FROM t WHERE b = 4 AND d = 3", "pd"));
    assert!(!opens("SELECT a FROM t WHERE b = 4 OR d = 2", "pd"));
    assert!(!opens("SELECT a FROM t WHERE b = 4 AND d >= 2", "pd"));
    assert!(opens("SELECT a FROM t WHERE d = 1 AND b > 3", "pn"));
    assert!(!opens("SELECT a FROM t WHERE d = 1", "pn"));
    assert!(!opens("SELECT a FROM t WHERE d = 1 AND b IS NULL", "pn"));
    assert!(!opens("SELECT a FROM t WHERE d = 1 AND b IS NOT 3", "pn"));
}

/// Random rows, random writes and random queries (whose WHERE may or may not imply an
/// index's) on tables with partial indexes: every result as SQLite's, and SQLite's
/// integrity_check passes on the file Strata wrote.
#[test]
fn randomised_against_sqlite_and_its_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let db = strata::Database::open(&path).unwrap();
    let ours = db.connect();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let wheres = [
        "b IS NOT NULL",
        "b > 3",
        "c = 'x'",
        "b > 2 AND c <> 'y'",
        "d = 1 OR b < 2",
        "b NOTNULL",
        "b BETWEEN 2 AND 6",
        "c IN ('x', 'z')",
    ];
    let vals = [
        "NULL", "0", "1", "2", "3", "4", "5", "7", "'x'", "'y'", "'z'", "2.5",
    ];
    let mut script = String::from("CREATE TABLE t(a INTEGER PRIMARY KEY, b, c, d);\n");
    for k in 0..4 {
        let unique = if k % 2 == 1 { "UNIQUE " } else { "" };
        let cols = rng.pick(&["b", "c", "b, c", "c, d", "d"]);
        script.push_str(&format!(
            "CREATE {unique}INDEX i{k} ON t({cols}) WHERE {};\n",
            rng.pick(&wheres)
        ));
    }
    for _ in 0..300 {
        let v = |r: &mut Rng| r.pick(&vals).to_string();
        let stmt = match rng.next(8) {
            0..=2 => format!(
                "INSERT OR {} INTO t VALUES ({}, {}, {}, {})",
                rng.pick(&["IGNORE", "REPLACE", "ABORT"]),
                rng.next(40),
                v(&mut rng),
                v(&mut rng),
                v(&mut rng)
            ),
            3 => format!(
                "UPDATE OR {} t SET {} = {} WHERE {}",
                rng.pick(&["IGNORE", "REPLACE", "ABORT"]),
                rng.pick(&["b", "c", "d", "a"]),
                v(&mut rng),
                rng.pick(&wheres)
            ),
            4 => format!(
                "DELETE FROM t WHERE a % 7 = {} AND {}",
                rng.next(7),
                rng.pick(&wheres)
            ),
            5 => format!(
                "INSERT INTO t VALUES ({}, {}, {}, {}) ON CONFLICT DO UPDATE SET d = {}",
                rng.next(40),
                v(&mut rng),
                v(&mut rng),
                v(&mut rng),
                v(&mut rng)
            ),
            _ => format!(
                "SELECT * FROM t WHERE {} AND {} ORDER BY a",
                rng.pick(&wheres),
                rng.pick(&wheres)
            ),
        };
        script.push_str(&stmt);
        script.push_str(";\n");
        if rng.next(10) == 0 {
            script.push_str(&format!(
                "SELECT a, b, c FROM t WHERE {} ORDER BY {}, a;\n",
                rng.pick(&wheres),
                rng.pick(&["b", "c", "d"])
            ));
        }
    }
    script.push_str("SELECT * FROM t ORDER BY a;\nPRAGMA integrity_check;\n");
    script.push_str(SCHEMA);
    script.push_str(";\n");
    if let Ok(p) = std::env::var("PIDX_DUMP") {
        std::fs::write(p, &script).unwrap();
    }
    check_script_on(&ours, &theirs, &script);
    drop(ours);
    drop(db);
    let file = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite_rows(&file, "PRAGMA integrity_check").unwrap(),
        vec![vec![V::Text(b"ok".to_vec())]]
    );
    assert_eq!(
        sqlite_rows(&file, "SELECT * FROM t ORDER BY a"),
        sqlite_rows(&theirs, "SELECT * FROM t ORDER BY a")
    );
}

/// ALTER TABLE RENAME COLUMN rewrites a partial index's WHERE; DROP COLUMN refuses a
/// column it names.
#[test]
fn alter_column_and_partial_indexes() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c, d);
         INSERT INTO t VALUES (1, 1, 'x', 0), (2, NULL, 'y', 1);
         CREATE INDEX i1 ON t(c) WHERE b IS NOT NULL AND \"b\" > 0;
         CREATE UNIQUE INDEX i2 ON t(d) WHERE t.b > 0 OR c = 'y' OR main.t.c = 'q';
         ALTER TABLE t RENAME COLUMN b TO bb;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         ALTER TABLE t RENAME c TO cc;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         ALTER TABLE t DROP COLUMN bb;
         ALTER TABLE t DROP COLUMN cc;
         ALTER TABLE t DROP COLUMN d;
         ALTER TABLE t ADD COLUMN e;
         CREATE INDEX i3 ON t(e) WHERE e > 0;
         ALTER TABLE t DROP COLUMN e;
         DROP INDEX i3;
         ALTER TABLE t DROP COLUMN e;
         INSERT INTO t VALUES (3, 3, 'z', 2);
         SELECT cc, a FROM t WHERE bb IS NOT NULL AND bb > 0 ORDER BY cc;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         ALTER TABLE t RENAME TO t2;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         INSERT INTO t2 VALUES (4, 4, 'w', 3);
         SELECT cc, a FROM t2 WHERE bb IS NOT NULL AND bb > 0 ORDER BY cc;
         PRAGMA integrity_check;",
    );
}
