//! Pragma table-valued functions (`pragma_table_info('t')`, `pragma_table_list`, ...)
//! and `PRAGMA table_list`, checked against SQLite itself: every statement runs on
//! Strata and on rusqlite (bundled SQLite) and must return the same rows (values and
//! storage classes, in order) or fail on both with the same message; result column
//! names are compared too.

mod common;
use common::*;

const SETUP: &str = "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT UNIQUE NOT NULL DEFAULT 'x', c REFERENCES t(a) ON DELETE CASCADE);
CREATE TABLE u(id INTEGER PRIMARY KEY, t_a INT REFERENCES t, n NUMERIC, UNIQUE(n, t_a));
CREATE INDEX tb ON t(b DESC, c);
CREATE INDEX un ON u(n COLLATE NOCASE);
CREATE VIEW v AS SELECT a, b AS bee FROM t;
CREATE TABLE s(x INT, y TEXT) STRICT;
";

/// Runs `script` on both engines (as `check_script`) and also compares each
/// statement's result column names.
fn check_with_names(script: &str) {
    let ours = strata::Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    check_script_on(&ours, &theirs, script);
    let mut bad = Vec::new();
    for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let a: Option<Vec<String>> = ours.prepare(sql).ok().map(|s| {
            (0..s.column_count())
                .map(|i| s.column_name(i).unwrap().to_string())
                .collect()
        });
        let b: Option<Vec<String>> = theirs
            .prepare(sql)
            .ok()
            .map(|s| s.column_names().iter().map(|n| n.to_string()).collect());
        if let (Some(a), Some(b)) = (a, b) {
            if a != b {
                bad.push(format!("{sql}\n  strata: {a:?}\n  sqlite: {b:?}"));
            }
        }
    }
    assert!(bad.is_empty(), "column names differ:\n{}", bad.join("\n"));
}

#[test]
fn each_function() {
    check_with_names(&format!(
        "{SETUP}
SELECT * FROM pragma_table_info('t');
SELECT * FROM pragma_table_info('T');
SELECT *, arg, schema FROM pragma_table_info('t');
SELECT * FROM pragma_table_info('t', 'main');
SELECT * FROM pragma_table_info('t', 'temp');
SELECT * FROM pragma_table_info('t', NULL);
SELECT * FROM pragma_table_info('t', 'nosuch');
SELECT * FROM pragma_table_info('v');
SELECT * FROM pragma_table_info('s');
SELECT * FROM pragma_table_info('nosuch');
SELECT * FROM pragma_table_info;
SELECT * FROM pragma_table_info();
SELECT * FROM pragma_table_info(NULL);
SELECT * FROM pragma_table_info(1);
SELECT * FROM pragma_table_info('t', 'main', 3);
SELECT * FROM pragma_table_xinfo('u');
SELECT * FROM pragma_table_info('sqlite_schema');
SELECT * FROM pragma_index_list('t');
SELECT * FROM pragma_index_list('u');
SELECT *, arg FROM pragma_index_list('u');
SELECT * FROM pragma_index_info('tb');
SELECT * FROM pragma_index_info('un');
SELECT * FROM pragma_index_info('sqlite_autoindex_u_1');
SELECT * FROM pragma_index_xinfo('tb');
SELECT * FROM pragma_index_xinfo('un');
SELECT * FROM pragma_index_info('t');
SELECT * FROM pragma_foreign_key_list('t');
SELECT * FROM pragma_foreign_key_list('u');
SELECT * FROM pragma_foreign_key_list('v');
SELECT * FROM pragma_table_list;
SELECT * FROM pragma_table_list('t');
SELECT * FROM pragma_table_list('V');
SELECT * FROM pragma_table_list() ORDER BY name;
SELECT *, arg FROM pragma_table_list('s');
SELECT * FROM pragma_table_list('t', 'main');
PRAGMA table_list;
PRAGMA table_list(s);
PRAGMA main.table_list;
PRAGMA temp.table_list;
PRAGMA table_xinfo(pragma_table_info);
PRAGMA table_info(pragma_table_list);
PRAGMA table_xinfo(pragma_foreign_key_list);
SELECT * FROM pragma_nosuch;
SELECT * FROM pragma_nosuch('t');
"
    ));
}

#[test]
fn in_queries() {
    check_with_names(&format!(
        "{SETUP}
SELECT name, type FROM pragma_table_info('t') WHERE pk = 0 ORDER BY cid DESC;
SELECT count(*), group_concat(name) FROM pragma_table_info('u');
SELECT p.name FROM pragma_table_info('t') AS p WHERE p.notnull;
SELECT * FROM pragma_table_info WHERE arg = 't';
SELECT * FROM pragma_table_info AS p WHERE p.arg = 'U' AND p.pk;
SELECT arg, name FROM pragma_table_info WHERE 'v' = arg;
SELECT s.name, p.* FROM sqlite_schema s, pragma_table_info(s.name) p ORDER BY 1, 2;
SELECT s.name, p.name FROM sqlite_schema s JOIN pragma_table_info(s.name) AS p WHERE p.pk ORDER BY 1;
SELECT s.name, p.name FROM sqlite_schema AS s LEFT JOIN pragma_index_list(s.name) AS p ORDER BY 1, 2;
SELECT m.name, i.name, c.name FROM sqlite_schema m, pragma_index_list(m.name) i, pragma_index_info(i.name) c WHERE m.type = 'table' ORDER BY 1, 2, 3;
SELECT m.name, f.* FROM sqlite_schema AS m JOIN pragma_foreign_key_list(m.name) AS f ORDER BY m.name, f.id, f.seq;
SELECT * FROM pragma_foreign_key_list('u') AS f, pragma_table_info('u') AS c WHERE c.name = f.\"from\";
SELECT m.name, p.name FROM sqlite_schema m LEFT JOIN pragma_table_info AS p ON p.arg = m.name ORDER BY 1, 2;
SELECT m.name, p.name FROM sqlite_schema m LEFT JOIN pragma_index_list AS p ON p.arg = m.name AND p.schema = 'main' ORDER BY 1, 2;
SELECT m.name, p.name FROM sqlite_schema m LEFT JOIN pragma_table_info(m.name) AS p ON p.pk ORDER BY 1, 2;
CREATE TABLE names(x);
INSERT INTO names VALUES (0), (1);
UPDATE names SET x = p.name FROM pragma_table_info AS p WHERE p.arg = 't' AND p.pk;
UPDATE names SET x = p.type FROM pragma_table_info('u') AS p WHERE p.cid = names.rowid;
SELECT * FROM names ORDER BY rowid;
DROP TABLE names;
SELECT name FROM pragma_table_info WHERE arg IS 't';
SELECT count(*) FROM pragma_table_list WHERE arg IS NULL;
SELECT (SELECT count(*) FROM pragma_table_info(x)) FROM (SELECT 't' AS x UNION ALL SELECT 'v' UNION ALL SELECT 'nope');
SELECT name FROM sqlite_schema WHERE EXISTS (SELECT 1 FROM pragma_table_info(name) WHERE type = 'TEXT') ORDER BY 1;
SELECT t.name, (SELECT group_concat(name) FROM pragma_table_info(t.name)) FROM pragma_table_list AS t ORDER BY 1;
SELECT * FROM pragma_table_info(lower('T'));
SELECT * FROM pragma_table_info('t' || '');
WITH n(x) AS (VALUES ('t'), ('u'), ('s')) SELECT x, count(*) FROM n, pragma_table_info(n.x) GROUP BY x ORDER BY x;
CREATE TEMP TABLE tt(q, r);
SELECT * FROM pragma_table_info('tt');
SELECT * FROM pragma_table_info('tt', 'temp');
SELECT * FROM pragma_table_info('tt', 'main');
SELECT * FROM pragma_table_list ORDER BY schema, name;
CREATE TEMP TABLE t(z);
SELECT * FROM pragma_table_info('t');
SELECT * FROM pragma_table_info WHERE arg = 't' AND schema = 'main';
SELECT *, schema FROM pragma_table_info('t') WHERE schema = 'main';
SELECT *, schema FROM pragma_table_info('t') WHERE schema = 'temp';
SELECT * FROM pragma_table_info('tt') AS p WHERE p.schema = 'main';
SELECT * FROM pragma_table_info WHERE schema = 'main';
SELECT * FROM pragma_table_info('t') WHERE schema = 'nosuch';
SELECT * FROM pragma_index_list('u') WHERE schema = 'main';
SELECT * FROM pragma_table_info('t', 'main');
SELECT * FROM pragma_table_list;
ALTER TABLE t ADD COLUMN extra TEXT DEFAULT 'e';
SELECT * FROM pragma_table_info('t');
DROP TABLE s;
SELECT * FROM pragma_table_info('s');
SELECT * FROM pragma_table_list;
CREATE VIEW bad AS SELECT 1 AS one;
SELECT * FROM pragma_table_list('bad');
"
    ));
}

/// A tiny deterministic generator (xorshift) so the statements are the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Random schemas (tables, indexes, views, foreign keys; more than ten objects, so
/// SQLite's schema hash has buckets) and random queries over the pragma functions,
/// compared with SQLite.
#[test]
fn randomised_against_sqlite() {
    let mut rng = Rng(0x9A6_0FF1CE_2026);
    let types = ["INT", "TEXT", "REAL", "", "BLOB", "NUMERIC", "VARCHAR(5)"];
    let mut script = String::new();
    let mut tables = Vec::new();
    for i in 0..12 {
        let n = 1 + rng.below(4);
        let mut cols = Vec::new();
        for c in 0..n {
            let mut def = format!("c{c} {}", rng.pick(&types));
            match rng.below(5) {
                0 => def.push_str(" NOT NULL"),
                1 => def.push_str(" DEFAULT 7"),
                2 if i > 0 => def.push_str(&format!(" REFERENCES tab{}(c0)", rng.below(i))),
                _ => {}
            }
            cols.push(def);
        }
        if rng.below(3) == 0 {
            cols.push(format!("UNIQUE(c0{})", if n > 1 { ", c1" } else { "" }));
        }
        script.push_str(&format!("CREATE TABLE tab{i}({});\n", cols.join(", ")));
        if rng.below(2) == 0 {
            script.push_str(&format!(
                "CREATE INDEX ix{i} ON tab{i}(c0 {});\n",
                rng.pick(&["ASC", "DESC", "COLLATE NOCASE", ""])
            ));
        }
        if rng.below(3) == 0 {
            script.push_str(&format!(
                "CREATE VIEW view{i} AS SELECT c0, c0 + 1 FROM tab{i};\n"
            ));
        }
        tables.push(format!("tab{i}"));
    }
    let funcs = [
        "pragma_table_info",
        "pragma_table_xinfo",
        "pragma_index_list",
        "pragma_foreign_key_list",
    ];
    for _ in 0..60 {
        let f = rng.pick(&funcs);
        let q = match rng.below(4) {
            0 => format!(
                "SELECT * FROM {f}('{}')",
                tables[rng.below(tables.len() as u64) as usize]
            ),
            1 => format!(
                "SELECT m.name, p.* FROM sqlite_schema AS m, {f}(m.name) AS p WHERE m.type = '{}' ORDER BY m.name",
                rng.pick(&["table", "view", "index"])
            ),
            2 => format!(
                "SELECT count(*) FROM pragma_table_list AS l JOIN {f}(l.name) AS p ON l.type = 'table'"
            ),
            _ => format!(
                "SELECT l.name, l.ncol, (SELECT count(*) FROM {f}(l.name)) FROM pragma_table_list l ORDER BY 1"
            ),
        };
        script.push_str(&q);
        script.push_str(";\n");
    }
    script.push_str("SELECT * FROM pragma_table_list;\nPRAGMA table_list;\n");
    check_with_names(&script);
}

/// `arg IN (...)` without an argument in the call: SQLite runs the pragma once per
/// value; Strata refuses it clearly rather than answer with no rows.
#[test]
fn arg_in_list_is_refused() {
    for sql in [
        "SELECT * FROM pragma_table_info WHERE arg IN ('t', 'u')",
        "SELECT * FROM pragma_table_list WHERE arg = 't' OR arg = 'u'",
    ] {
        refused(SETUP, sql, "is not supported yet");
    }
}
