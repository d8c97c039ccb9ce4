//! ALTER TABLE RENAME COLUMN and DROP COLUMN, statement by statement against SQLite
//! (rusqlite's bundled build): results, error messages, and the `sqlite_schema` rows
//! (type, name, tbl_name, sql: the stored text must be SQLite's byte for byte).

mod common;
use common::*;
use strata::Connection;

const SCHEMA: &str = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid";
const TEMP_SCHEMA: &str = "SELECT type, name, tbl_name, sql FROM sqlite_temp_schema ORDER BY rowid";

/// Runs the script (each ALTER followed by a dump of the schema) on both engines.
fn check_alters(script: &str) {
    let mut full = String::new();
    for stmt in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        full.push_str(stmt);
        full.push_str(";\n");
        if stmt.to_ascii_uppercase().starts_with("ALTER") {
            full.push_str(SCHEMA);
            full.push_str(";\n");
        }
    }
    check_script(&full);
}

#[test]
fn rename_column_rewrites_table_indexes_views_triggers() {
    check_alters(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT NOT NULL, \"c\" INT check(c>0), unique(b,c));
         CREATE INDEX i ON t(b, \"c\" DESC);
         CREATE INDEX j ON t(b COLLATE nocase, a);
         CREATE VIEW v AS SELECT c, [c] AS c2, c c3, t.c, t.b FROM t, (SELECT 1) x2 WHERE c>0 AND t.c < 9 ORDER BY c;
         CREATE VIEW v2 AS SELECT x.c, y.b FROM t AS x, t y WHERE x.c = y.c;
         CREATE TRIGGER tr AFTER UPDATE OF c ON t WHEN new.c > 0 BEGIN UPDATE t SET c = new.c + old.c WHERE c = 1; INSERT INTO t(b, c) VALUES ('x', 1); END;
         CREATE TABLE u(x, y REFERENCES t(c) ON DELETE CASCADE, FOREIGN KEY(x) REFERENCES t(c, b));
         INSERT INTO t VALUES (1, 'one', 5), (2, 'two', 6);
         ALTER TABLE t RENAME c TO \"d e\";
         ALTER TABLE t RENAME COLUMN \"d e\" TO d;
         ALTER TABLE t RENAME COLUMN d TO [x];
         ALTER TABLE t RENAME COLUMN b TO bb;
         ALTER TABLE t RENAME COLUMN a TO id;
         SELECT * FROM t ORDER BY id;
         SELECT * FROM v;
         SELECT * FROM v2;
         UPDATE t SET x = 7 WHERE id = 1;
         SELECT * FROM t ORDER BY id;
         PRAGMA table_info(t);
         PRAGMA integrity_check;",
    );
}

#[test]
fn rename_column_errors() {
    check_alters(
        "CREATE TABLE t(a, b);
         CREATE VIEW v AS SELECT a FROM t;
         ALTER TABLE t RENAME COLUMN zz TO c;
         ALTER TABLE t RENAME COLUMN \"zz\" TO c;
         ALTER TABLE t RENAME a TO b;
         ALTER TABLE t RENAME a TO B;
         ALTER TABLE t RENAME b TO a;
         ALTER TABLE t RENAME a TO a;
         ALTER TABLE t RENAME a TO A;
         ALTER TABLE v RENAME a TO c;
         ALTER TABLE nope RENAME a TO c;
         ALTER TABLE sqlite_schema RENAME type TO x;
         SELECT * FROM v;",
    );
}

#[test]
fn rename_column_keeps_other_tables_columns() {
    check_alters(
        "CREATE TABLE t(a, b);
         CREATE TABLE s(a, z);
         CREATE VIEW v1 AS SELECT s.a, t.b FROM s, t;
         CREATE VIEW v2 AS SELECT a FROM s WHERE z > 0;
         CREATE VIEW v3 AS SELECT b AS a FROM t ORDER BY a;
         CREATE TRIGGER ts AFTER INSERT ON s BEGIN INSERT INTO t(a) VALUES (new.a); DELETE FROM t WHERE a = new.z; END;
         CREATE INDEX si ON s(a);
         ALTER TABLE t RENAME a TO q;
         ALTER TABLE s RENAME a TO r;
         INSERT INTO s VALUES (1, 2);
         SELECT * FROM t;
         SELECT * FROM v1;
         SELECT * FROM v2;",
    );
}

#[test]
fn drop_column_rewrites_rows() {
    check_alters(
        "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL, d BLOB, e INT DEFAULT 3);
         INSERT INTO t VALUES (1, 'x', 1.5, x'00ff', 9), (2, NULL, 2, NULL, NULL), (3, 'long', 3.0, zeroblob(3000), 1);
         INSERT INTO t(b) SELECT b || 'y' FROM t;
         CREATE INDEX ib ON t(b);
         CREATE TABLE u(p, q REFERENCES t(d), r, FOREIGN KEY(r) REFERENCES t(c));
         ALTER TABLE t ADD COLUMN f TEXT DEFAULT 'dflt';
         ALTER TABLE t DROP COLUMN c;
         SELECT *, typeof(e) FROM t ORDER BY a;
         ALTER TABLE t DROP d;
         SELECT * FROM t ORDER BY a;
         ALTER TABLE t DROP COLUMN f;
         SELECT * FROM t ORDER BY a;
         ALTER TABLE t ADD COLUMN g DEFAULT 5;
         ALTER TABLE t DROP COLUMN e;
         SELECT * FROM t ORDER BY a;
         SELECT * FROM t WHERE b = 'xy';
         INSERT INTO t VALUES (10, 'ten', 10);
         SELECT * FROM t ORDER BY a;
         PRAGMA integrity_check;
         CREATE TABLE w(x, y UNIQUE, z, CHECK (x > 0), CONSTRAINT k UNIQUE (x, z));
         ALTER TABLE w DROP COLUMN y;
         ALTER TABLE w DROP COLUMN z;
         ALTER TABLE w DROP COLUMN x;
         CREATE TABLE w2(x, y, z);
         ALTER TABLE w2 DROP COLUMN z;
         ALTER TABLE w2 DROP COLUMN x;
         ALTER TABLE w2 DROP COLUMN y;
         ALTER TABLE w2 DROP COLUMN nope;",
    );
}

#[test]
fn drop_column_errors() {
    check_alters(
        "CREATE TABLE t(a, b, c int check(c>0), d, e, f, g, unique(b,c), FOREIGN KEY(g) REFERENCES t(a));
         CREATE INDEX i ON t(d);
         CREATE INDEX j ON t(a, e DESC);
         CREATE VIEW v AS SELECT T.f FROM t;
         CREATE VIEW v2 AS SELECT x.a FROM t AS x;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT new.b; END;
         CREATE TRIGGER tr2 AFTER UPDATE OF a ON t BEGIN UPDATE t SET a = 1; INSERT INTO t(a) VALUES (1); END;
         ALTER TABLE t DROP COLUMN zz;
         ALTER TABLE t DROP COLUMN b;
         ALTER TABLE t DROP COLUMN c;
         ALTER TABLE t DROP COLUMN d;
         ALTER TABLE t DROP COLUMN e;
         ALTER TABLE t DROP COLUMN f;
         ALTER TABLE t DROP COLUMN g;
         ALTER TABLE t DROP COLUMN a;
         DROP VIEW v2;
         ALTER TABLE t DROP COLUMN a;
         CREATE TABLE p(a PRIMARY KEY, b UNIQUE, c);
         ALTER TABLE p DROP COLUMN a;
         ALTER TABLE p DROP COLUMN b;
         CREATE TABLE p2(a, b, c, PRIMARY KEY(b, c));
         ALTER TABLE p2 DROP COLUMN c;
         ALTER TABLE p2 DROP COLUMN a;
         CREATE TABLE p3(a INTEGER PRIMARY KEY, b UNIQUE, c);
         ALTER TABLE p3 DROP COLUMN a;
         ALTER TABLE p3 DROP COLUMN b;
         ALTER TABLE p3 DROP COLUMN c;
         CREATE TABLE one(a);
         ALTER TABLE one DROP COLUMN a;
         CREATE VIEW vv AS SELECT 1 AS a;
         ALTER TABLE vv DROP COLUMN a;
         ALTER TABLE sqlite_schema DROP COLUMN sql;",
    );
}

#[test]
fn alter_in_transactions_rolls_back() {
    check_alters(
        "CREATE TABLE t(a, b, c);
         CREATE INDEX ic ON t(c);
         INSERT INTO t VALUES (1, 2, 3), (4, 5, 6);
         BEGIN;
         ALTER TABLE t DROP COLUMN b;
         ALTER TABLE t RENAME c TO cc;
         SELECT * FROM t;
         ROLLBACK;
         SELECT * FROM t;
         BEGIN;
         SAVEPOINT s;
         ALTER TABLE t RENAME COLUMN a TO aa;
         ALTER TABLE t DROP COLUMN b;
         ROLLBACK TO s;
         SELECT * FROM t;
         ALTER TABLE t DROP COLUMN b;
         COMMIT;
         SELECT * FROM t;
         PRAGMA integrity_check;",
    );
}

#[test]
fn temp_views_and_triggers_follow_main() {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let script = format!(
        "CREATE TABLE t(a, b, c);
         CREATE TABLE log(m);
         CREATE TEMP VIEW tv AS SELECT a, b FROM t;
         CREATE TEMP TRIGGER tt AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.a); END;
         ALTER TABLE t RENAME COLUMN a TO x;
         {SCHEMA};
         {TEMP_SCHEMA};
         INSERT INTO t VALUES (1, 2, 3);
         SELECT * FROM log;
         SELECT * FROM tv;
         ALTER TABLE t DROP COLUMN b;
         ALTER TABLE t DROP COLUMN c;
         {SCHEMA};
         {TEMP_SCHEMA};
         SELECT * FROM t;
         "
    );
    check_script_on(&ours, &theirs, &script);
}

#[test]
fn other_connections_reload_after_alter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let db = strata::Database::open(&path).unwrap();
    let c1 = db.connect();
    let c2 = db.connect();
    let rows = |c: &Connection, sql: &str| strata_rows(c, sql).unwrap();
    rows(&c1, "CREATE TABLE t(a, b, c)");
    rows(&c1, "INSERT INTO t VALUES (1, 2, 3)");
    assert_eq!(rows(&c2, "SELECT * FROM t").len(), 1);
    rows(&c1, "ALTER TABLE t RENAME COLUMN a TO z");
    rows(&c1, "ALTER TABLE t DROP COLUMN b");
    assert_eq!(
        rows(&c2, "SELECT z, c FROM t"),
        vec![vec![V::Int(1), V::Int(3)]]
    );
    assert!(strata_rows(&c2, "SELECT b FROM t").is_err());
}

/// SQLite reads the file Strata wrote after drops: integrity_check passes and every row
/// reads the same.
#[test]
fn sqlite_reads_strata_file_after_drops() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    {
        let db = strata::Database::open(&path).unwrap();
        let c = db.connect();
        for sql in [
            "CREATE TABLE t(a INTEGER PRIMARY KEY, b, c, d, e)",
            "CREATE INDEX id ON t(d, a)",
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
             INSERT INTO t SELECT i, printf('%.*c', i % 700, 'x'), i * 1.5, i % 7, zeroblob(i % 50) FROM n",
            "ALTER TABLE t ADD COLUMN f DEFAULT 'later'",
            "ALTER TABLE t DROP COLUMN b",
            "ALTER TABLE t DROP COLUMN e",
            "ALTER TABLE t RENAME COLUMN c TO cc",
            "DELETE FROM t WHERE a % 11 = 0",
        ] {
            strata_rows(&c, sql).unwrap();
        }
    }
    let queries = [
        "SELECT * FROM t ORDER BY a",
        "SELECT d, a FROM t WHERE d = 3 ORDER BY a",
        SCHEMA,
    ];
    let ours: Vec<_> = {
        let c = Connection::open(&path).unwrap();
        queries.iter().map(|q| strata_rows(&c, q)).collect()
    };
    let theirs = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite_rows(&theirs, "PRAGMA integrity_check").unwrap(),
        vec![vec![V::Text(b"ok".to_vec())]]
    );
    for (q, mine) in queries.iter().zip(ours) {
        assert_eq!(mine, sqlite_rows(&theirs, q), "{q}");
    }
}

/// Random schemas with indexes, views and triggers; random renames and drops; after
/// each, the schema rows and the data must match SQLite's.
#[test]
fn random_renames_and_drops() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    // More rounds (and another seed) on demand: STRATA_ALTER_ROUNDS, STRATA_ALTER_SEED.
    let rounds: usize = std::env::var("STRATA_ALTER_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(80);
    if let Some(s) = std::env::var("STRATA_ALTER_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        seed ^= s.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1;
    }
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for _round in 0..rounds {
        let ours = Connection::open_in_memory().unwrap();
        let theirs = rusqlite::Connection::open_in_memory().unwrap();
        let ncols = 2 + next(5) as usize;
        let mut cols: Vec<String> = (0..ncols).map(|i| format!("c{i}")).collect();
        let mut script = String::new();
        let defs: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| match next(6) {
                0 if i > 0 => format!("{c} INT CHECK ({c} IS NOT 99)"),
                1 => format!("\"{c}\" TEXT"),
                2 => format!("{c} DEFAULT 7"),
                3 if i == 0 => format!("{c} INTEGER PRIMARY KEY"),
                4 => format!("[{c}] REAL NOT NULL DEFAULT 0"),
                _ => c.clone(),
            })
            .collect();
        // Foreign keys off: `child` names any column of `t` as its parent key (the text
        // is what is compared), which need not be unique.
        script.push_str("PRAGMA foreign_keys = OFF;\n");
        script.push_str(&format!("CREATE TABLE t({});\n", defs.join(", ")));
        script.push_str("CREATE TABLE other(c1, z);\n");
        for r in 0..6 {
            let vals: Vec<String> = (0..ncols)
                .map(|i| {
                    if i == 0 {
                        format!("{}", r + 1)
                    } else {
                        format!("{}", next(50))
                    }
                })
                .collect();
            script.push_str(&format!("INSERT INTO t VALUES ({});\n", vals.join(", ")));
        }
        for k in 0..next(3) {
            let c = &cols[next(ncols as u64) as usize];
            script.push_str(&format!("CREATE INDEX ix{k} ON t({c});\n"));
        }
        if next(2) == 0 {
            let c = &cols[next(ncols as u64) as usize];
            script.push_str(&format!(
                "CREATE VIEW v AS SELECT {c}, t.{c} AS q FROM t WHERE {c} > 3;\n"
            ));
        }
        if next(2) == 0 {
            let c = &cols[next(ncols as u64) as usize];
            script.push_str(&format!(
                "CREATE TRIGGER tr AFTER UPDATE OF {c} ON t BEGIN UPDATE other SET z = new.{c}; END;\n"
            ));
        }
        if next(2) == 0 {
            let c = &cols[next(ncols as u64) as usize];
            let d = &cols[next(ncols as u64) as usize];
            script.push_str(&format!(
                "CREATE VIEW vj AS SELECT x.{c}, other.z, x.\"{d}\" AS dd FROM t AS x JOIN other ON other.c1 = x.{c} WHERE x.{d} IS NOT NULL ORDER BY x.{c}, other.rowid, x.rowid;\n"
            ));
        }
        if next(2) == 0 {
            let c = &cols[next(ncols as u64) as usize];
            let d = &cols[next(ncols as u64) as usize];
            script.push_str(&format!(
                "CREATE TRIGGER tr2 AFTER INSERT ON other WHEN new.z > 0 BEGIN UPDATE t SET {c} = {d} + 1 WHERE {d} IS NOT NULL AND rowid = new.z; INSERT INTO t({c}) SELECT z FROM other WHERE z < 0; END;\n"
            ));
        }
        if next(2) == 0 {
            let c = &cols[next(ncols as u64) as usize];
            let d = &cols[next(ncols as u64) as usize];
            script.push_str(&format!(
                "CREATE VIEW vg AS SELECT count(*) AS n, {c}, max(\"{d}\") m FROM t WHERE {d} IN (SELECT {c} FROM t WHERE {c} > 1) GROUP BY {c} HAVING {c} IS NOT NULL ORDER BY {c};\n"
            ));
        }
        if next(2) == 0 {
            let c = &cols[next(ncols as u64) as usize];
            let d = &cols[next(ncols as u64) as usize];
            script.push_str(&format!(
                "CREATE TRIGGER tr3 BEFORE UPDATE ON t FOR EACH ROW WHEN old.{c} IS NOT new.{c} BEGIN INSERT INTO other(c1, z) VALUES (old.\"{d}\", new.{c}); END;\n"
            ));
        }
        if next(3) == 0 {
            let c = &cols[next(ncols as u64) as usize];
            script.push_str(&format!(
                "CREATE TABLE child(q REFERENCES t({c}) ON DELETE CASCADE);\n"
            ));
        }
        for _ in 0..4 {
            let i = next(cols.len() as u64) as usize;
            if next(2) == 0 {
                let new = format!("r{}", next(1000));
                let q = if next(3) == 0 {
                    format!("\"{new}\"")
                } else {
                    new.clone()
                };
                script.push_str(&format!(
                    "ALTER TABLE t RENAME COLUMN {} TO {q};\n",
                    cols[i]
                ));
                // Both engines agree on failure too; the model follows success only
                // when the name is new.
                if !cols.iter().any(|c| c == &new) {
                    cols[i] = new;
                }
            } else {
                script.push_str(&format!("ALTER TABLE t DROP COLUMN {};\n", cols[i]));
            }
            script.push_str("SELECT * FROM t ORDER BY rowid;\n");
            script.push_str("INSERT INTO other VALUES (1, 2);\n");
            script.push_str("SELECT * FROM vj;\n");
            script.push_str("SELECT * FROM vg;\n");
            script.push_str(&format!(
                "UPDATE t SET {} = 5 WHERE rowid = 2;\n",
                cols[next(cols.len() as u64) as usize]
            ));
            script.push_str("SELECT * FROM other ORDER BY rowid;\n");
            script.push_str("PRAGMA integrity_check;\n");
            // A failed drop leaves the column; the model may drift from the engines,
            // which only makes later statements fail on both.
        }
        let mut full = String::new();
        for stmt in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
            full.push_str(stmt);
            full.push_str(";\n");
            if stmt.starts_with("ALTER") {
                full.push_str(SCHEMA);
                full.push_str(";\n");
            }
        }
        eprintln!("ROUND SCRIPT:\n{full}");
        check_script_on(&ours, &theirs, &full);
    }
}

#[test]
fn rename_edge_cases() {
    check_alters(
        "CREATE TABLE t(a b UNIQUE, b a /* a */, \"key\" INT, x CONSTRAINT a CHECK (x <> 'a') DEFAULT 'a', y TEXT COLLATE nocase REFERENCES t(a));
         CREATE TABLE s(k, FOREIGN KEY (k) REFERENCES t (a) ON UPDATE CASCADE, CONSTRAINT fk2 FOREIGN KEY(k) REFERENCES \"T\"(\"A\"));
         CREATE VIEW v AS SELECT a, b, -- a comment a
           t.\"a\" AS \"A\", count(a) AS n, max(b) a FROM t GROUP BY a HAVING a > 0;
         CREATE VIEW w AS SELECT t.a, s.k FROM t JOIN s ON s.k = t.a WHERE t.a IN (SELECT a FROM t);
         CREATE VIEW w2 AS SELECT * FROM t LEFT JOIN s ON k = a;
         CREATE TRIGGER tr BEFORE DELETE ON s FOR EACH ROW WHEN old.k IS NOT NULL BEGIN DELETE FROM t WHERE a = old.k; UPDATE t SET b = 1, a = 2 WHERE a = 3; INSERT INTO s SELECT a FROM t; END;
         ALTER TABLE t RENAME COLUMN a TO key2;
         ALTER TABLE t RENAME COLUMN key TO a;
         ALTER TABLE t RENAME COLUMN \"key2\" TO [Quoted Name];
         ALTER TABLE t RENAME COLUMN b TO `b2`;
         ALTER TABLE s RENAME COLUMN k TO kk;
         INSERT INTO t VALUES (1, 2, 3, 'q', NULL);
         INSERT INTO s VALUES (1);
         SELECT * FROM v;
         SELECT * FROM w;
         SELECT * FROM w2;
         DELETE FROM s;
         SELECT * FROM t;",
    );
}

#[test]
fn drop_edge_cases() {
    check_alters(
        "CREATE TABLE t(a INTEGER PRIMARY KEY AUTOINCREMENT, b, c, d, CONSTRAINT pk UNIQUE (d));
         INSERT INTO t(b, c, d) VALUES (1, 2, 3), (4, 5, 6);
         CREATE TABLE t2 (x   INT   ,   y TEXT DEFAULT 'a, b'   ,  z  ) ;
         INSERT INTO t2 VALUES (1, 'one', 1.5);
         ALTER TABLE t2 DROP COLUMN z;
         ALTER TABLE t2 DROP COLUMN x;
         SELECT * FROM t2;
         ALTER TABLE t DROP COLUMN c;
         ALTER TABLE t DROP COLUMN b;
         ALTER TABLE t DROP COLUMN d;
         INSERT INTO t(d) VALUES (9);
         SELECT * FROM t;
         SELECT * FROM sqlite_sequence;
         CREATE TABLE t3(a, b, c);
         CREATE VIEW v3 AS SELECT * FROM t3;
         CREATE VIEW v4 AS SELECT a, c FROM t3;
         ALTER TABLE t3 DROP COLUMN b;
         SELECT * FROM v3;
         ALTER TABLE t3 DROP COLUMN c;
         CREATE TABLE t4(a, b);
         CREATE TRIGGER t4t AFTER INSERT ON t4 BEGIN INSERT INTO t3(a) VALUES (new.a); END;
         ALTER TABLE t4 DROP COLUMN a;
         ALTER TABLE t4 DROP COLUMN b;
         ALTER TABLE t3 DROP COLUMN a;",
    );
}

/// Where the flat name resolution cannot tell what a view's or trigger's name means,
/// the ALTER is refused with a clear error (SQLite would rewrite it): never a guessed
/// rewrite, and nothing changes.
#[test]
fn unsure_dependents_are_refused() {
    refused(
        "CREATE TABLE t(a, b);
         CREATE TABLE s(a, c);
         CREATE VIEW v AS SELECT a FROM s WHERE c IN (SELECT b FROM t)",
        "ALTER TABLE t RENAME COLUMN a TO z",
        "view v uses it in a way this version does not resolve yet",
    );
    refused(
        "CREATE TABLE t(a, b);
         CREATE VIEW v AS WITH w AS (SELECT a FROM t) SELECT a FROM w",
        "ALTER TABLE t RENAME COLUMN a TO z",
        "view v uses it in a way this version does not resolve yet",
    );
    refused(
        "CREATE TABLE t(a, b);
         CREATE VIEW v AS WITH w AS (SELECT a FROM t) SELECT a FROM w",
        "ALTER TABLE t DROP COLUMN a",
        "view v uses it in a way this version does not resolve yet",
    );
    // Nothing changed: the table still has its column under the old name.
    let ours = Connection::open_in_memory().unwrap();
    strata_rows(&ours, "CREATE TABLE t(a, b)").unwrap();
    strata_rows(&ours, "CREATE TABLE s(a, c)").unwrap();
    strata_rows(
        &ours,
        "CREATE VIEW v AS SELECT a FROM s WHERE c IN (SELECT b FROM t)",
    )
    .unwrap();
    assert!(strata_rows(&ours, "ALTER TABLE t RENAME COLUMN a TO z").is_err());
    assert!(strata_rows(&ours, "SELECT a, b FROM t").is_ok());
}

/// SQLite first rewrites double-quoted strings (its DQS fallback: a double-quoted word
/// that names no column) in single quotes in every object of the schema.
#[test]
fn double_quoted_strings_are_requoted() {
    check_alters(
        "CREATE TABLE t(a, b CHECK (b <> \"zz\" AND b <> \"a\"), c DEFAULT \"d\");
         CREATE VIEW v AS SELECT a, \"lit\", \"b\" FROM t WHERE a <> \"q\";
         CREATE TRIGGER tr AFTER INSERT ON t WHEN new.a = \"w\" BEGIN INSERT INTO t(a) VALUES (\"ins\"); END;
         CREATE TABLE u(x CHECK (x <> \"y\"), z);
         ALTER TABLE t RENAME COLUMN c TO cc;
         INSERT INTO t VALUES ('w', 'k', 1);
         SELECT * FROM t ORDER BY rowid;
         SELECT * FROM v;
         CREATE TABLE u2(x CHECK (x <> \"y\"\"'\"), z);
         CREATE VIEW v2 AS SELECT \"it's\"'x' FROM u;
         ALTER TABLE u DROP COLUMN z;
         SELECT * FROM v2;",
    );
}

/// A double-quoted name left without its column: SQLite reads it as a string in a view
/// or trigger (the drop succeeds, the text stays) and refuses it in an index or CHECK.
#[test]
fn drop_column_named_in_double_quotes() {
    check_alters(
        "CREATE TABLE t(a, b, \"c\", d, e CHECK (\"e\" > 0), f);
         CREATE INDEX i ON t(\"d\");
         CREATE VIEW v AS SELECT \"c\" FROM t;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT \"f\" FROM t; END;
         ALTER TABLE t DROP COLUMN c;
         ALTER TABLE t DROP COLUMN d;
         ALTER TABLE t DROP COLUMN e;
         ALTER TABLE t DROP COLUMN f;
         SELECT * FROM v;",
    );
}

/// SQLite checks the whole schema before it edits it: a view or trigger left naming a
/// dropped table fails any RENAME/DROP COLUMN in that database.
#[test]
fn broken_dependents_fail_the_alter() {
    check_alters(
        "CREATE TABLE a(x);
         CREATE TABLE b(y, w);
         CREATE VIEW v AS SELECT x FROM a;
         CREATE TRIGGER tr AFTER INSERT ON b BEGIN INSERT INTO a VALUES (new.y); END;
         DROP TABLE a;
         ALTER TABLE b RENAME COLUMN y TO z;
         ALTER TABLE b DROP COLUMN w;
         DROP VIEW v;
         ALTER TABLE b RENAME COLUMN y TO z;
         ALTER TABLE b DROP COLUMN w;
         INSERT INTO b VALUES (1);",
    );
}

#[test]
fn rename_in_trigger_upsert() {
    check_alters(
        "CREATE TABLE t(k UNIQUE, v);
         CREATE TABLE log(x);
         CREATE TRIGGER tr AFTER INSERT ON log BEGIN INSERT INTO t(k, v) VALUES (new.x, 1) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v WHERE k > 0; END;
         INSERT INTO log VALUES (1), (1), (2);
         ALTER TABLE t RENAME COLUMN v TO w;
         ALTER TABLE t RENAME COLUMN k TO kk;
         INSERT INTO log VALUES (1), (3);
         SELECT * FROM t ORDER BY kk;",
    );
}
