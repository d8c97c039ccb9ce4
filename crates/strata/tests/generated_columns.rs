//! Generated columns (`b AS (a * 2) [VIRTUAL | STORED]`), statement by statement against
//! SQLite (rusqlite's bundled build): SQLite's errors, the stored SQL, `PRAGMA
//! table_info/table_xinfo`, every write computing the columns (constraints, indexes,
//! triggers, RETURNING, upsert), reads of VIRTUAL columns, ALTER TABLE, and the file
//! format both ways (SQLite reads Strata's records and its integrity_check passes;
//! Strata reads SQLite's).

mod common;
use common::*;

#[test]
fn create_errors_and_stored_sql() {
    check_script(
        "CREATE TABLE t(a INT, b INT AS (a*2), c TEXT GENERATED ALWAYS AS (upper(x)) STORED, d AS (a+1) VIRTUAL, x);
         CREATE TABLE e1(a, b AS (a) PRIMARY KEY);
         CREATE TABLE e1b(a, b PRIMARY KEY AS (a));
         CREATE TABLE e2(a, b AS (a) DEFAULT 3);
         CREATE TABLE e2b(a, b DEFAULT 3 AS (a));
         CREATE TABLE e3(a, b AS (b));
         CREATE TABLE e4(a, b AS (c), c AS (b));
         CREATE TABLE e5(a, b AS (random()));
         CREATE TABLE e6(a, b AS ((SELECT 1)));
         CREATE TABLE e7(a, b AS (sum(a)));
         CREATE TABLE e8(a, b AS (row_number() OVER ()));
         CREATE TABLE e9(b AS (1));
         CREATE TABLE e10(a, b AS (zz));
         CREATE TABLE e11(a, b AS (rowid));
         CREATE TABLE e12(a INTEGER PRIMARY KEY, b AS (a));
         CREATE TABLE e13(a, b AS (a) STORED, c AS (b) VIRTUAL);
         CREATE TABLE e14(a, b AS (?));
         CREATE TABLE e15(a, b AS (a) NOT NULL CHECK(b > 0) UNIQUE COLLATE nocase);
         CREATE TABLE e16(a, b AS (a), PRIMARY KEY(b));
         CREATE TABLE e18(a, b AS (e17.a));
         CREATE TABLE e19(a, b AS (a) REFERENCES t(a));
         CREATE TABLE e20(a, b AS (c), c AS (a));
         CREATE TABLE e21(a, b AS (a) FOO);
         CREATE TABLE e22(a, b AS (a) AS (a));
         CREATE TABLE e23(a INT, b INT AS (a)) STRICT;
         CREATE TABLE e24(a, b AS (e24.a));
         CREATE TABLE e25(a, b AS (a IN (1,2)));
         CREATE TABLE e26(a, b AS (changes()));
         SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid;
         PRAGMA table_info(t);
         PRAGMA table_xinfo(t);
         SELECT * FROM pragma_table_xinfo('e13');
         SELECT name, hidden FROM pragma_table_xinfo('e15');
         PRAGMA table_info(e12);
         INSERT INTO e3 VALUES (1);
         SELECT * FROM e3;
         INSERT INTO e4(a) VALUES (1);
         SELECT b FROM e4;
         SELECT c FROM e4;
         SELECT a FROM e4;
         INSERT INTO e20(a) VALUES (3);
         SELECT * FROM e20;",
    );
}

#[test]
fn inserts_updates_and_reads() {
    check_script(
        "CREATE TABLE t(a INT, b INT AS (a*2), c TEXT GENERATED ALWAYS AS (upper(x)) STORED, d AS (a+1) VIRTUAL, x);
         INSERT INTO t VALUES (1, 'hi');
         INSERT INTO t VALUES (1, 2, 3, 4, 5);
         INSERT INTO t(a, b) VALUES (1, 2);
         INSERT INTO t(c) VALUES (1);
         INSERT INTO t(a, x) VALUES (3, 'yo') RETURNING *;
         INSERT INTO t(x, a) SELECT 'q' || a, a + 10 FROM t;
         INSERT INTO t DEFAULT VALUES;
         INSERT INTO t VALUES ('7', 7.0);
         SELECT *, rowid FROM t ORDER BY rowid;
         SELECT typeof(a), typeof(b), typeof(c), typeof(d) FROM t ORDER BY rowid;
         SELECT a, d FROM t WHERE b > 5 ORDER BY d DESC;
         SELECT b, count(*) FROM t GROUP BY b ORDER BY b;
         SELECT t1.b, t2.c FROM t t1 JOIN t t2 ON t1.d = t2.a ORDER BY 1, 2;
         UPDATE t SET b = 1;
         UPDATE t SET c = 1 WHERE a = 1;
         UPDATE t SET a = a + 100 WHERE a > 10 RETURNING *;
         UPDATE t SET x = 'new' WHERE a = 3 RETURNING c, b;
         SELECT * FROM t ORDER BY rowid;
         DELETE FROM t WHERE d = 2 RETURNING *;
         SELECT * FROM t ORDER BY rowid;
         CREATE VIEW v AS SELECT b, c, d FROM t WHERE a IS NOT NULL;
         SELECT * FROM v ORDER BY 1;
         SELECT * FROM t WHERE b IN (SELECT b FROM t WHERE d < 50) ORDER BY rowid;
         CREATE TABLE w(a INTEGER PRIMARY KEY, g AS (a * 10) STORED, h AS (g + a), k);
         INSERT INTO w(k) VALUES ('x'), ('y');
         INSERT INTO w(a, k) VALUES (10, 'z');
         SELECT *, rowid FROM w;
         UPDATE w SET a = 20 WHERE a = 10;
         SELECT * FROM w;
         PRAGMA integrity_check;",
    );
}

#[test]
fn constraints_indexes_and_affinity() {
    check_script(
        "CREATE TABLE e15(a, b AS (a) NOT NULL CHECK(b > 0) UNIQUE COLLATE nocase);
         INSERT INTO e15(a) VALUES (0);
         INSERT INTO e15(a) VALUES (NULL);
         INSERT INTO e15(a) VALUES (1), (1);
         INSERT INTO e15(a) VALUES ('x'), ('X');
         INSERT OR IGNORE INTO e15(a) VALUES ('X'), (NULL), (-1), (5);
         INSERT OR REPLACE INTO e15(a) VALUES ('X');
         SELECT a, b FROM e15 ORDER BY rowid;
         SELECT a FROM e15 WHERE b = 'x';
         UPDATE e15 SET a = 5 WHERE a = 'X';
         UPDATE OR REPLACE e15 SET a = 5 WHERE a = 'X';
         SELECT a, b FROM e15 ORDER BY rowid;
         CREATE TABLE s(a INT, b INT AS (a) VIRTUAL, c TEXT AS (a) STORED, d REAL AS (a));
         INSERT INTO s(a) VALUES (1), ('2'), ('x'), (2.5), (NULL);
         SELECT a, b, c, d, typeof(b), typeof(c), typeof(d) FROM s ORDER BY rowid;
         CREATE TABLE st(a INT, b INT AS (a) VIRTUAL, c TEXT AS (a) STORED) STRICT;
         INSERT INTO st(a) VALUES (1);
         INSERT INTO st(a) VALUES ('x');
         SELECT b, c, typeof(b), typeof(c) FROM st;
         CREATE TABLE ix(a INTEGER PRIMARY KEY, b, v AS (b * 2), s AS (b || 'x') STORED);
         CREATE INDEX iv ON ix(v);
         CREATE INDEX is2 ON ix(s, v);
         CREATE UNIQUE INDEX iu ON ix(v + 1);
         INSERT INTO ix(b) VALUES (1), (2), (3), (NULL);
         INSERT INTO ix(b) VALUES (2);
         SELECT a FROM ix WHERE v = 4;
         SELECT a, s FROM ix WHERE s > '2' ORDER BY s;
         UPDATE ix SET b = 10 WHERE a = 1;
         SELECT * FROM ix WHERE v = 20;
         DELETE FROM ix WHERE v = 6;
         SELECT * FROM ix ORDER BY v;
         CREATE INDEX late ON ix(v, s);
         SELECT v, s FROM ix WHERE v > 0 ORDER BY v;
         PRAGMA integrity_check;",
    );
}

#[test]
fn upsert_replace_triggers_and_foreign_keys() {
    check_script(
        "CREATE TABLE u(a PRIMARY KEY, b AS (a * 10) UNIQUE, c);
         INSERT INTO u(a) VALUES (1) ON CONFLICT(a) DO UPDATE SET b = 5;
         INSERT INTO u(a, c) VALUES (1, 'x'), (1, 'y') ON CONFLICT(a) DO UPDATE SET c = excluded.b RETURNING *;
         INSERT INTO u(a, c) VALUES (1, 'z') ON CONFLICT(a) DO UPDATE SET a = excluded.b + 1 RETURNING *;
         INSERT OR REPLACE INTO u(a, c) VALUES (11, 'r');
         REPLACE INTO u(a, c) VALUES (2, 'q');
         SELECT * FROM u ORDER BY a;
         CREATE TABLE t(a, b AS (a * 2), c AS (a + 1) STORED);
         CREATE TABLE log(x);
         CREATE TRIGGER tb BEFORE INSERT ON t BEGIN INSERT INTO log VALUES ('bi ' || new.a || ' ' || quote(new.b) || ' ' || quote(new.c)); END;
         CREATE TRIGGER ta AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('ai ' || new.b || ' ' || new.c); END;
         CREATE TRIGGER tu BEFORE UPDATE ON t BEGIN INSERT INTO log VALUES ('bu ' || old.b || ' ' || old.c || ' ' || new.b || ' ' || new.c); END;
         CREATE TRIGGER tau AFTER UPDATE OF b ON t BEGIN INSERT INTO log VALUES ('au-of-b ' || old.b || ' ' || new.b); END;
         CREATE TRIGGER td AFTER DELETE ON t BEGIN INSERT INTO log VALUES ('ad ' || old.b || ' ' || old.c); END;
         INSERT INTO t(a) VALUES (1), (2);
         UPDATE t SET a = 5 WHERE a = 1;
         DELETE FROM t WHERE b = 4;
         SELECT * FROM log ORDER BY rowid;
         SELECT * FROM t;
         PRAGMA foreign_keys = ON;
         CREATE TABLE p(id INTEGER PRIMARY KEY, k AS (id * 2) STORED UNIQUE);
         CREATE TABLE ch(x, y AS (x + 1) REFERENCES p(k));
         INSERT INTO p(id) VALUES (1), (2);
         INSERT INTO ch(x) VALUES (1);
         INSERT INTO ch(x) VALUES (3);
         INSERT INTO ch(x) VALUES (2);
         SELECT * FROM ch;
         DELETE FROM p WHERE id = 1;
         UPDATE ch SET x = 3;
         PRAGMA foreign_key_check;",
    );
}

const MIXED: &str = "CREATE TABLE m(a INTEGER PRIMARY KEY, v1 AS (b * 2), b INT, s1 TEXT AS (b || c) STORED, c TEXT, v2 AS (s1 || v1) VIRTUAL, s2 AS (a + b) STORED, d);
CREATE INDEX mv ON m(v1, s2);
CREATE INDEX ms ON m(s1);
CREATE UNIQUE INDEX mu ON m(v2)";

fn ok_rows() -> Vec<Vec<V>> {
    vec![vec![V::Text(b"ok".to_vec())]]
}

/// SQLite writes a file with VIRTUAL and STORED columns among plain ones; Strata reads
/// every column as SQLite does, writes more rows, and SQLite's integrity_check (which
/// recomputes the indexes from the records) passes on the result.
#[test]
fn file_written_by_sqlite_read_and_extended_by_strata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let theirs = rusqlite::Connection::open(&path).unwrap();
        theirs.execute_batch(MIXED).unwrap();
        theirs
            .execute_batch(
                "INSERT INTO m(b, c, d) VALUES (1, 'x', 'd1'), (2, 'y', NULL), (NULL, 'z', 3.5);
                 INSERT INTO m(a, b, c, d) VALUES (10, 7, NULL, x'00ff');
                 ALTER TABLE m ADD COLUMN e AS (d || '!');",
            )
            .unwrap();
    }
    let q = "SELECT *, rowid FROM m ORDER BY a;
SELECT a, v2 FROM m WHERE v1 = 4;
SELECT a FROM m WHERE s1 = '1x';
SELECT v1, s2, v2, e FROM m ORDER BY v2;
PRAGMA table_xinfo(m)";
    // SQLite's answers first: the two engines do not share a file at once.
    let reference = rusqlite::Connection::open(&path).unwrap();
    let expected: Vec<_> = q.split(";\n").map(|s| sqlite_rows(&reference, s)).collect();
    drop(reference);
    let db = strata::Database::open(&path).unwrap();
    let ours = db.connect();
    for (s, want) in q.split(";\n").zip(expected) {
        assert_eq!(strata_rows(&ours, s), want, "{s}");
    }
    ours.execute_batch(
        "INSERT INTO m(b, c, d) VALUES (5, 'w', 'd5');
         UPDATE m SET b = b + 100 WHERE a = 2;
         DELETE FROM m WHERE a = 3;
         CREATE INDEX me ON m(e);",
    )
    .unwrap();
    let mine = strata_rows(&ours, "SELECT *, rowid FROM m ORDER BY a").unwrap();
    drop(ours);
    drop(db);
    let file = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite_rows(&file, "PRAGMA integrity_check").unwrap(),
        ok_rows()
    );
    assert_eq!(
        sqlite_rows(&file, "SELECT *, rowid FROM m ORDER BY a").unwrap(),
        mine
    );
    assert_eq!(
        sqlite_rows(&file, "SELECT a FROM m WHERE v1 = 204").unwrap(),
        vec![vec![V::Int(2)]]
    );
}

/// Strata writes the file; SQLite reads the values and its integrity_check passes.
#[test]
fn file_written_by_strata_read_by_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let script = "INSERT INTO m(b, c, d) VALUES (1, 'x', 'd1'), (2, 'y', NULL), (NULL, 'z', 3.5);
INSERT INTO m(a, b, c, d) VALUES (10, 7, NULL, x'00ff');
UPDATE m SET c = upper(c) WHERE b < 2;
INSERT INTO m(a, b, c) VALUES (10, 8, 'q') ON CONFLICT(a) DO UPDATE SET c = excluded.s1;
REPLACE INTO m(a, b, c) VALUES (1, 9, 'r');
ALTER TABLE m ADD COLUMN e AS (d || '!');
CREATE INDEX me ON m(e, v1)";
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    theirs.execute_batch(MIXED).unwrap();
    {
        let db = strata::Database::open(&path).unwrap();
        let ours = db.connect();
        ours.execute_batch(MIXED).unwrap();
        same_on(&ours, &theirs, script, true);
    }
    let file = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite_rows(&file, "PRAGMA integrity_check").unwrap(),
        ok_rows()
    );
    for q in [
        "SELECT *, rowid FROM m ORDER BY a",
        "SELECT a FROM m WHERE v1 = 4",
        "SELECT a, e FROM m WHERE e IS NOT NULL ORDER BY e",
    ] {
        assert_eq!(sqlite_rows(&file, q), sqlite_rows(&theirs, q), "{q}");
    }
}

/// Random rows, writes and queries on a table with VIRTUAL and STORED columns (some
/// indexed, one UNIQUE): every result as SQLite's, SQLite's integrity_check on Strata's
/// file.
#[test]
fn randomised_against_sqlite_and_its_integrity_check() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let mut rng = Rng(0x6e4e_c01d_5eed_0015);
    let db = strata::Database::open(&path).unwrap();
    let ours = db.connect();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let setup = "CREATE TABLE t(a INTEGER PRIMARY KEY, g1 AS (b + 1), b, g2 INT AS (coalesce(c, b)) STORED, c, g3 TEXT AS (g1 || '-' || g2), d, g4 AS (abs(d)) STORED);
CREATE INDEX i1 ON t(g1);
CREATE INDEX i2 ON t(g2, g3);
CREATE UNIQUE INDEX i3 ON t(g4);
CREATE INDEX i4 ON t(g3) WHERE g1 > 0";
    check_script_on(&ours, &theirs, &format!("{setup};\n"));
    let vals = [
        "NULL", "0", "1", "2", "3", "-4", "5", "'x'", "'Y'", "2.5", "'7'",
    ];
    let cols = ["g1", "g2", "g3", "g4", "b", "c", "d"];
    let mut script = String::new();
    for _ in 0..400 {
        let v = |r: &mut Rng| r.pick(&vals).to_string();
        let stmt = match rng.next(8) {
            0..=2 => format!(
                "INSERT OR {} INTO t(a, b, c, d) VALUES ({}, {}, {}, {})",
                rng.pick(&["IGNORE", "REPLACE", "ABORT"]),
                rng.next(40),
                v(&mut rng),
                v(&mut rng),
                v(&mut rng)
            ),
            3 => format!(
                "UPDATE OR {} t SET {} = {} WHERE {} = {}",
                rng.pick(&["IGNORE", "REPLACE", "ABORT"]),
                rng.pick(&["b", "c", "d"]),
                v(&mut rng),
                rng.pick(&cols),
                v(&mut rng)
            ),
            4 => format!(
                "DELETE FROM t WHERE {} > {}",
                rng.pick(&cols),
                v(&mut rng)
            ),
            5 => format!(
                "INSERT INTO t(a, b, d) VALUES ({}, {}, {}) ON CONFLICT DO UPDATE SET c = excluded.g1 RETURNING *",
                rng.next(40),
                v(&mut rng),
                v(&mut rng)
            ),
            _ => format!(
                "SELECT * FROM t WHERE {} {} {} ORDER BY a",
                rng.pick(&cols),
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
        ok_rows()
    );
    assert_eq!(
        sqlite_rows(&file, "SELECT * FROM t ORDER BY a"),
        sqlite_rows(&theirs, "SELECT * FROM t ORDER BY a")
    );
}

#[test]
fn alter_table_add_drop_rename() {
    check_script(
        "CREATE TABLE t(a INT, b INT AS (a*2), c TEXT GENERATED ALWAYS AS (upper(x)) STORED, d AS (a+1) VIRTUAL, x);
         INSERT INTO t(a, x) VALUES (1, 'p'), (NULL, 'q'), (3, NULL);
         ALTER TABLE t ADD COLUMN z AS (a) STORED;
         ALTER TABLE t ADD COLUMN z AS (a * 3);
         ALTER TABLE t ADD COLUMN z2 AS (a) NOT NULL;
         ALTER TABLE t ADD COLUMN z2 AS (random());
         ALTER TABLE t ADD COLUMN z2 AS (zz);
         ALTER TABLE t ADD COLUMN z2 AS (a) PRIMARY KEY;
         ALTER TABLE t ADD COLUMN z2 AS (a) DEFAULT 1;
         ALTER TABLE t ADD COLUMN z2 AS (a) UNIQUE;
         ALTER TABLE t ADD COLUMN z2 AS (coalesce(a, 0)) NOT NULL;
         ALTER TABLE t ADD COLUMN z3 AS (z2 + 1) CHECK (z3 > 1);
         ALTER TABLE t ADD COLUMN z3 AS (z2 + 1) CHECK (z3 > 0);
         SELECT sql FROM sqlite_schema WHERE name = 't';
         SELECT * FROM t ORDER BY rowid;
         PRAGMA table_xinfo(t);
         INSERT INTO t(a, x) VALUES (4, 'r');
         SELECT * FROM t ORDER BY rowid;
         ALTER TABLE t DROP COLUMN a;
         ALTER TABLE t DROP COLUMN x;
         ALTER TABLE t DROP COLUMN b;
         ALTER TABLE t DROP COLUMN c;
         SELECT * FROM t ORDER BY rowid;
         ALTER TABLE t RENAME COLUMN a TO aa;
         SELECT sql FROM sqlite_schema WHERE name = 't';
         SELECT * FROM t ORDER BY rowid;
         INSERT INTO t(aa, x) VALUES (5, 's');
         SELECT * FROM t ORDER BY rowid;
         PRAGMA integrity_check;
         CREATE TABLE g(a, b AS (1), c AS (2) STORED);
         INSERT INTO g VALUES (7);
         ALTER TABLE g DROP COLUMN a;
         ALTER TABLE g DROP COLUMN c;
         SELECT * FROM g;
         ALTER TABLE g DROP COLUMN b;
         SELECT sql FROM sqlite_schema WHERE name = 'g';
         SELECT * FROM g;
         CREATE TABLE h(a, b, c AS (b || 'x') STORED CHECK (c <> 'zx'), d AS (a + c));
         INSERT INTO h VALUES (1, 'q');
         CREATE INDEX hd ON h(d);
         ALTER TABLE h RENAME COLUMN b TO bb;
         ALTER TABLE h RENAME COLUMN c TO cc;
         SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = 'h';
         CREATE TABLE st(a, b AS (a + 1));
         ALTER TABLE st ADD COLUMN c AS (b * 10) STORED;
         INSERT INTO st(a) VALUES (1), (2);
         SELECT *, typeof(c) FROM st;
         ALTER TABLE st ADD COLUMN d AS (c) STORED;
         SELECT * FROM pragma_table_xinfo('st');
         PRAGMA integrity_check;
         CREATE TABLE l(a);
         INSERT INTO l VALUES (1);
         ALTER TABLE l ADD COLUMN b AS (b);
         SELECT * FROM l;
         SELECT a FROM l;
         INSERT INTO l VALUES (2);
         UPDATE l SET a = 3;
         INSERT INTO h VALUES (2, 'z');
         INSERT INTO h VALUES (2, 'y');
         SELECT * FROM h ORDER BY rowid;
         ALTER TABLE h DROP COLUMN d;
         ALTER TABLE h DROP COLUMN cc;
         SELECT * FROM h ORDER BY rowid;
         PRAGMA integrity_check;",
    );
}

/// ADD COLUMN ... STORED is refused once another connection has written a row.
#[test]
fn add_stored_column_sees_other_connections_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let db = strata::Database::open(&path).unwrap();
    let c0 = db.connect();
    let c2 = db.connect();
    c0.execute_batch(
        "PRAGMA encoding = 'UTF-16be'; PRAGMA auto_vacuum = FULL; CREATE TABLE gen(id INTEGER PRIMARY KEY, a INTEGER, v AS (a * 2), b TEXT, s TEXT AS (coalesce(b, 'none') || '-' || a) STORED);
         CREATE UNIQUE INDEX gen_u ON gen(s); SELECT * FROM gen;",
    )
    .unwrap();
    assert_eq!(
        strata_rows(&c0, "SELECT count(*) FROM gen").unwrap(),
        vec![vec![V::Int(0)]]
    );
    strata_rows(
        &c2,
        "INSERT OR IGNORE INTO gen(a, b) VALUES (0, '') RETURNING *",
    )
    .unwrap();
    assert_eq!(
        strata_rows(&c0, "SELECT count(*) FROM gen").unwrap(),
        vec![vec![V::Int(1)]]
    );
    assert_eq!(
        strata_rows(&c0, "ALTER TABLE gen ADD COLUMN g3 AS (a) STORED"),
        Err("cannot add a STORED column".to_string())
    );
}

/// STRICT does not check a generated column's value on write (SQLite's OP_TypeCheck
/// skips them; its integrity_check, which does, is not compared here).
#[test]
fn strict_table_generated_values_unchecked() {
    check_script(
        "CREATE TABLE st2(a INT, b INT AS ('x'), c INT AS ('y') STORED) STRICT;
         INSERT INTO st2(a) VALUES (1);
         INSERT INTO st2(a) VALUES ('z');
         SELECT *, typeof(b), typeof(c) FROM st2;",
    );
}

/// On an outer join's NULL row a VIRTUAL column is NULL (not its expression over NULLs),
/// as a STORED one is.
#[test]
fn outer_join_null_row() {
    check_script(
        "CREATE TABLE t1(x);
         INSERT INTO t1 VALUES (1), (2);
         CREATE TABLE t2(a, b AS (coalesce(a, 5)), c AS (coalesce(a, 6)) STORED);
         SELECT t1.x, t2.b, t2.c FROM t1 LEFT JOIN t2 ON 0;
         SELECT t1.x, t2.b, t2.c FROM t2 RIGHT JOIN t1 ON 0;
         INSERT INTO t2 VALUES (NULL), (2);
         CREATE INDEX t2b ON t2(b);
         SELECT t1.x, t2.b FROM t1 LEFT JOIN t2 ON t2.b = t1.x + 4 ORDER BY 1, 2;
         SELECT t1.x, t2.b FROM t1 FULL JOIN t2 ON t2.b = t1.x ORDER BY 1, 2;
         SELECT count(*) FROM t2 WHERE b = 5;",
    );
}

/// ADD COLUMN reports SQLite's result column (that of the nested SELECT its checks run)
/// and checks the existing rows against a new CHECK / a NOT NULL generated column.
#[test]
fn add_column_checks_and_result_columns() {
    let setup = "CREATE TABLE g(a, b CHECK (b IS NULL OR b > 0));
INSERT INTO g VALUES (1, 2), (-3, NULL);
CREATE TABLE s(a INT) STRICT";
    let ours = strata::Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    check_script_on(&ours, &theirs, &format!("{setup};\n"));
    for sql in [
        "ALTER TABLE g ADD COLUMN x AS (a) STORED",
        "ALTER TABLE g ADD COLUMN w AS (a) STORED NOT NULL",
        "ALTER TABLE g ADD COLUMN y AS (a)",
        "ALTER TABLE g ADD COLUMN y2 AS (a) CHECK (y2 > -5)",
        "ALTER TABLE g ADD COLUMN z AS (a) NOT NULL",
        "ALTER TABLE g ADD COLUMN q2 INT CHECK (q2 IS NULL)",
        "ALTER TABLE s ADD COLUMN v INT AS (a)",
        "ALTER TABLE s ADD COLUMN v2 INT",
        "ALTER TABLE g RENAME COLUMN a TO aa",
    ] {
        let mine: Vec<String> = ours
            .prepare(sql)
            .unwrap()
            .column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        let want: Vec<String> = theirs
            .prepare(sql)
            .unwrap()
            .column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(mine, want, "{sql}");
    }
    check_script_on(
        &ours,
        &theirs,
        "ALTER TABLE g ADD COLUMN y2 AS (a) CHECK (y2 > 0);
         ALTER TABLE g ADD COLUMN y2 AS (a) CHECK (y2 > -5);
         ALTER TABLE g ADD COLUMN q2 INT DEFAULT 4 CHECK (q2 < 4);
         ALTER TABLE g ADD COLUMN q2 INT DEFAULT 4 CHECK (q2 <= 4);
         ALTER TABLE g ADD COLUMN z AS (nullif(a, -3)) NOT NULL;
         ALTER TABLE g ADD COLUMN z AS (nullif(a, 7)) NOT NULL;
         SELECT * FROM g ORDER BY rowid;
         SELECT sql FROM sqlite_schema WHERE name = 'g';",
    );
}
