//! Indexes on expressions (`CREATE INDEX i ON t(a + b, lower(c))`), statement by
//! statement against SQLite (rusqlite's bundled build): SQLite's errors on the
//! expressions, the stored SQL, `PRAGMA index_info/xinfo`, maintenance by every write
//! (UNIQUE over the expression's values), the planner's use of the index when a query
//! compares the same expression, and SQLite's `integrity_check` on Strata's file (which
//! recomputes every expression key).

mod common;
use common::*;
use strata::Connection;

#[test]
fn create_expression_index_errors_and_stored_sql() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b INT, c TEXT);
         CREATE TABLE u(a);
         INSERT INTO t VALUES (1, 2, 'X'), (2, 3, 'y'), (3, NULL, NULL);
         CREATE INDEX e1 ON t(random());
         CREATE INDEX e2 ON t(b + ?);
         CREATE INDEX e3 ON t((SELECT 1));
         CREATE INDEX e4 ON t(count(*));
         CREATE INDEX e5 ON t(u.a + 1);
         CREATE INDEX e6 ON t(t.b + 1);
         CREATE INDEX e6b ON t(main.u.a + 1);
         CREATE INDEX e6c ON t(main.t.b + 1);
         CREATE INDEX e7 ON t(z + 1);
         CREATE INDEX e8 ON t(rowid + 1);
         CREATE INDEX e9 ON t(b IN (SELECT a FROM u));
         CREATE INDEX e10 ON t(nosuch(b));
         CREATE INDEX e11 ON t(max(b));
         CREATE INDEX e12 ON t(changes() + b);
         SELECT count(*) FROM sqlite_schema WHERE name LIKE 'e%';
         CREATE INDEX i1 ON t(b + a);
         CREATE INDEX i2 ON t(lower(c) COLLATE NOCASE DESC, b);
         CREATE INDEX i3 ON t((b));
         CREATE INDEX i4 ON t(1);
         CREATE UNIQUE INDEX i5 ON t(b * 2, abs(a));
         CREATE INDEX i6 ON t(c || 'x', b - 1) WHERE b > 0;
         CREATE INDEX i7 ON t(CASE WHEN b > 2 THEN 'big' ELSE c END, CAST(b AS TEXT));
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         PRAGMA index_info(i1);
         PRAGMA index_xinfo(i2);
         PRAGMA index_info(i3);
         SELECT * FROM pragma_index_xinfo('i6');
         PRAGMA index_list(t);
         CREATE UNIQUE INDEX u1 ON t(b % 2);
         CREATE UNIQUE INDEX u2 ON t(a % 2);
         SELECT count(*) FROM sqlite_schema WHERE name LIKE 'u%';
         PRAGMA integrity_check;",
    );
}

#[test]
fn writes_maintain_expression_indexes() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b INT, c TEXT);
         CREATE UNIQUE INDEX ul ON t(lower(c));
         CREATE INDEX ib ON t(b + a, c);
         CREATE UNIQUE INDEX ub ON t(b * 10 + length(c)) WHERE b > 0;
         INSERT INTO t VALUES (1, 1, 'A'), (2, 2, 'bb'), (3, NULL, 'c');
         INSERT INTO t VALUES (4, 7, 'a');
         INSERT INTO t VALUES (4, 1, 'd');
         INSERT INTO t VALUES (5, 1, 'e');
         INSERT OR IGNORE INTO t VALUES (6, 1, 'B');
         INSERT OR REPLACE INTO t VALUES (7, 5, 'BB');
         SELECT * FROM t ORDER BY a;
         UPDATE t SET c = 'C' WHERE a = 1;
         UPDATE t SET c = upper(c);
         UPDATE t SET b = b + 1;
         UPDATE OR REPLACE t SET c = 'c' WHERE a = 7;
         SELECT * FROM t ORDER BY a;
         INSERT INTO t VALUES (8, 0, 'Zz') ON CONFLICT DO UPDATE SET b = 99;
         INSERT INTO t VALUES (9, 0, 'zz') ON CONFLICT DO UPDATE SET b = 98;
         SELECT * FROM t ORDER BY a;
         DELETE FROM t WHERE lower(c) = 'c';
         DELETE FROM t WHERE b + a > 100;
         SELECT * FROM t ORDER BY a;
         INSERT INTO t SELECT a + 10, b + 10, c || a FROM t;
         SELECT * FROM t ORDER BY a;
         SELECT c FROM t WHERE lower(c) = 'zz';
         SELECT a FROM t WHERE b + a BETWEEN 10 AND 30 ORDER BY a;
         PRAGMA integrity_check;",
    );
}

/// Queries comparing the indexed expression (or something close to it): same rows.
#[test]
fn planner_results_with_expression_indexes() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b INT, c TEXT, d);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
           INSERT INTO t SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 17 END,
             char(65 + i % 5, 97 + i % 3), CASE i % 3 WHEN 0 THEN i WHEN 1 THEN 'x' || i ELSE i * 0.5 END FROM n;
         CREATE INDEX ie ON t(b + 1);
         CREATE INDEX il ON t(lower(c), b);
         CREATE INDEX id ON t(d * 2);
         CREATE INDEX ic ON t(c || '') ;
         SELECT a FROM t WHERE b + 1 = 5 ORDER BY a;
         SELECT a FROM t WHERE 5 = b + 1 ORDER BY a;
         SELECT a FROM t WHERE b + 1 > 15 ORDER BY a;
         SELECT a FROM t WHERE b + 1 BETWEEN 3 AND 4 ORDER BY a;
         SELECT a FROM t WHERE b + 1 = '5' ORDER BY a;
         SELECT a FROM t WHERE b + 1 = 5.0 ORDER BY a;
         SELECT a FROM t WHERE 1 + b = 5 ORDER BY a;
         SELECT a FROM t WHERE b + 1 IS NULL ORDER BY a;
         SELECT a, b FROM t WHERE lower(c) = 'ab' ORDER BY a;
         SELECT a, b FROM t WHERE lower(c) = 'ab' AND b = 3 ORDER BY a;
         SELECT a, b FROM t WHERE lower(c) > 'd' ORDER BY a;
         SELECT a, b FROM t WHERE LOWER(c) = 'ab' COLLATE nocase ORDER BY a;
         SELECT a FROM t WHERE d * 2 = 6 ORDER BY a;
         SELECT a FROM t WHERE d * 2 = '6' ORDER BY a;
         SELECT a FROM t WHERE d * 2 > 590 ORDER BY a;
         SELECT a FROM t WHERE c || '' = 'Ab' ORDER BY a;
         SELECT a FROM t WHERE c || '' = 'ab' COLLATE nocase ORDER BY a;
         SELECT a FROM t WHERE c || '' > 1 ORDER BY a;
         SELECT x.a, y.a FROM t x JOIN t y ON y.b + 1 = x.a WHERE x.a < 10 ORDER BY 1, 2;
         SELECT x.a, y.a FROM t x LEFT JOIN t y ON y.b + 1 = x.a + 100 WHERE x.a < 5 ORDER BY 1, 2;
         UPDATE t SET b = b + 1 WHERE b + 1 = 5;
         DELETE FROM t WHERE lower(c) = 'ab' AND b > 10;
         SELECT a FROM t WHERE b + 1 = 6 ORDER BY a;
         SELECT count(*) FROM t WHERE lower(c) = 'ab';
         PRAGMA integrity_check;",
    );
}

/// The program seeks the expression index when the query has the same expression.
#[test]
fn plan_opens_expression_index_for_the_same_expression() {
    let c = Connection::open_in_memory().unwrap();
    for sql in [
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c)",
        "CREATE INDEX ie ON t(b + 1)",
        "CREATE INDEX il ON t(lower(c))",
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
    assert!(opens("SELECT a FROM t WHERE b + 1 = 4", "ie"));
    assert!(opens("SELECT a FROM t WHERE 4 < (b + 1)", "ie"));
    assert!(opens("SELECT a FROM t WHERE lower(c) = 'x'", "il"));
    assert!(!opens("SELECT a FROM t WHERE b + 2 = 4", "ie"));
    assert!(!opens("SELECT a FROM t WHERE 1 + b = 4", "ie"));
    assert!(!opens("SELECT a FROM t WHERE upper(c) = 'x'", "il"));
}

/// Random rows, writes and queries on a table with expression indexes (some UNIQUE,
/// some partial): every result as SQLite's, and SQLite's integrity_check passes on
/// Strata's file.
#[test]
fn randomised_against_sqlite_and_its_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.db");
    let mut rng = Rng(0x0ddb_a11c_afe0_0042);
    let db = strata::Database::open(&path).unwrap();
    let ours = db.connect();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let exprs = [
        "b + 1",
        "lower(c)",
        "b * 2 - d",
        "coalesce(b, d)",
        "length(c)",
        "c || b",
        "abs(d)",
    ];
    let vals = [
        "NULL", "0", "1", "2", "3", "-4", "5", "'x'", "'Y'", "'y'", "2.5",
    ];
    let mut script = String::from("CREATE TABLE t(a INTEGER PRIMARY KEY, b, c, d);\n");
    for k in 0..4 {
        let unique = if k == 1 { "UNIQUE " } else { "" };
        let part = if k == 2 { " WHERE d > 0" } else { "" };
        script.push_str(&format!(
            "CREATE {unique}INDEX i{k} ON t({}, {}){part};\n",
            rng.pick(&exprs),
            rng.pick(&["b", "c", "d", "a", "lower(c)"])
        ));
    }
    for _ in 0..300 {
        let v = |r: &mut Rng| r.pick(&vals).to_string();
        let e = rng.pick(&exprs);
        let stmt = match rng.next(7) {
            0..=2 => format!(
                "INSERT OR {} INTO t VALUES ({}, {}, {}, {})",
                rng.pick(&["IGNORE", "REPLACE", "ABORT"]),
                rng.next(40),
                v(&mut rng),
                v(&mut rng),
                v(&mut rng)
            ),
            3 => format!(
                "UPDATE OR {} t SET {} = {} WHERE {e} = {}",
                rng.pick(&["IGNORE", "REPLACE", "ABORT"]),
                rng.pick(&["b", "c", "d"]),
                v(&mut rng),
                v(&mut rng)
            ),
            4 => format!("DELETE FROM t WHERE {e} > {}", v(&mut rng)),
            _ => format!(
                "SELECT * FROM t WHERE {e} {} {} ORDER BY a",
                rng.pick(&["=", ">", "<=", ">="]),
                v(&mut rng)
            ),
        };
        script.push_str(&stmt);
        script.push_str(";\n");
    }
    script.push_str("SELECT * FROM t ORDER BY a;\nPRAGMA integrity_check;\n");
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

/// ALTER TABLE RENAME COLUMN rewrites the expressions; DROP COLUMN refuses a column
/// they use.
#[test]
fn alter_column_and_expression_indexes() {
    check_script(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c, d);
         INSERT INTO t VALUES (1, 1, 'x', 0), (2, NULL, 'y', 1);
         CREATE INDEX i1 ON t(b + d, lower(c));
         ALTER TABLE t RENAME COLUMN b TO bb;
         ALTER TABLE t RENAME c TO cc;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         ALTER TABLE t DROP COLUMN bb;
         ALTER TABLE t DROP COLUMN cc;
         ALTER TABLE t RENAME TO t2;
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         INSERT INTO t2 VALUES (3, 3, 'Z', 2);
         SELECT a FROM t2 WHERE bb + d = 5 AND lower(cc) = 'z';
         PRAGMA integrity_check;",
    );
}
