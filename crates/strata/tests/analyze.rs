//! ANALYZE compared with SQLite (rusqlite, bundled, SQLITE_ENABLE_STAT4): the rows of
//! `sqlite_stat1` and `sqlite_stat4` and the stat tables' `sqlite_schema` rows must be
//! the same for the same data, for every form of the statement, with the same errors.
//! Files Strata writes after ANALYZE must pass SQLite's integrity_check and be readable
//! by SQLite; ANALYZE over stat tables SQLite made must work.

mod common;
use common::{check_script_on, sqlite_rows, strata_rows, Rng};
use strata::Connection;

const STAT1: &str = "SELECT * FROM sqlite_stat1 ORDER BY tbl, idx";
const STAT4: &str =
    "SELECT tbl, idx, neq, nlt, ndlt, sample FROM sqlite_stat4 ORDER BY tbl, idx, sample";
/// (Not the root pages: Strata's B-trees split pages elsewhere than SQLite's, so a
/// database with data may have a different page count; `fresh_database_root_pages`
/// compares them where the files agree.)
const MASTER: &str = "SELECT type, name, tbl_name, sql FROM sqlite_master \
                      WHERE name LIKE 'sqlite_stat%' ORDER BY name";
const MASTER_ROOTS: &str = "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master \
                            ORDER BY name";

fn pair() -> (Connection, rusqlite::Connection) {
    (
        Connection::open_in_memory().unwrap(),
        rusqlite::Connection::open_in_memory().unwrap(),
    )
}

/// The three checks after an ANALYZE, as script lines.
fn checks() -> String {
    format!("{STAT1};\n{STAT4};\n{MASTER};\n")
}

const SETUP: &str = "
CREATE TABLE t1(a INTEGER, b TEXT, c REAL, d);
CREATE INDEX t1a ON t1(a);
CREATE INDEX t1bc ON t1(b, c);
CREATE INDEX t1cd ON t1(c DESC, d);
CREATE INDEX t1bn ON t1(b COLLATE NOCASE);
CREATE UNIQUE INDEX t1u ON t1(d);
CREATE INDEX t1p ON t1(a) WHERE a > 3;
CREATE INDEX t1e ON t1(a + 1, lower(b));
CREATE TABLE noidx(x, y);
CREATE TABLE empty(x, y);
CREATE TABLE emptyidx(x, y);
CREATE INDEX emptyidx_x ON emptyidx(x);
CREATE TABLE emptypart(x, y);
CREATE INDEX emptypart_x ON emptypart(x) WHERE x > 0;
CREATE TABLE onlypart(x, y);
CREATE INDEX onlypart_x ON onlypart(x) WHERE x > 2;
CREATE TABLE wr(k TEXT, j INT, v REAL, PRIMARY KEY(k, j)) WITHOUT ROWID;
CREATE INDEX wr_v ON wr(v);
CREATE TABLE wr1(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE uq(p INTEGER PRIMARY KEY, q UNIQUE, r NOT NULL, s NOT NULL, UNIQUE(r, s), PRIMARY KEY2 TEXT);
CREATE TABLE pk(p TEXT PRIMARY KEY, q);
CREATE VIEW v1 AS SELECT * FROM t1;
";

fn fill(rng: &mut Rng, table: &str, cols: usize, rows: usize) -> String {
    let mut s = String::new();
    for i in 0..rows {
        let vals: Vec<String> = (0..cols)
            .map(|c| match rng.next(9) {
                0 => "NULL".to_string(),
                1 | 2 => format!("{}", rng.next(5)),
                3 => format!("{}.0", rng.next(4)),
                4 => format!("{}.5", rng.next(3)),
                5 => format!("'{}'", rng.pick(&["a", "A", "b", "B", "abc", "ABC", "x"])),
                6 => format!("x'{:02x}'", rng.next(3)),
                7 => format!("{}", i * 7 + c),
                _ => format!("{}", rng.next(40)),
            })
            .collect();
        s.push_str(&format!(
            "INSERT INTO {table} VALUES({});\n",
            vals.join(",")
        ));
    }
    s
}

#[test]
fn forms_and_errors() {
    let (ours, theirs) = pair();
    let setup = SETUP.replace("PRIMARY KEY2 TEXT", "z TEXT");
    let mut rng = Rng(7);
    let mut script = setup.clone();
    for i in 0..300 {
        script.push_str(&format!(
            "INSERT INTO t1 VALUES({}, {}, {}, {});\n",
            i % 7,
            ["'a'", "'A'", "'b'", "NULL", "'c'"][i % 5],
            if i % 3 == 0 {
                "NULL".to_string()
            } else {
                format!("{}", i % 11)
            },
            i
        ));
    }
    script.push_str(&fill(&mut rng, "noidx", 2, 50));
    script.push_str(&fill(&mut rng, "onlypart", 2, 40));
    for i in 0..60 {
        script.push_str(&format!(
            "INSERT INTO wr VALUES('{}', {i}, {});\n",
            ["p", "q", "r"][i % 3],
            i % 4
        ));
        script.push_str(&format!("INSERT INTO wr1 VALUES({i}, {});\n", i % 3));
        script.push_str(&format!(
            "INSERT INTO uq VALUES(NULL, {}, {}, {}, 'z');\n",
            if i % 4 == 0 {
                "NULL".to_string()
            } else {
                i.to_string()
            },
            i % 5,
            i
        ));
        script.push_str(&format!("INSERT INTO pk VALUES('k{i}', {});\n", i % 2));
    }
    check_script_on(&ours, &theirs, &script);
    let c = checks();
    let s = format!(
        "{STAT1};
ANALYZE;
{c}
INSERT INTO t1 VALUES(100, 'zz', 1.5, 1000);
INSERT INTO noidx VALUES(1, 2);
ANALYZE t1;
{c}
ANALYZE main.noidx;
{c}
ANALYZE t1bc;
{c}
ANALYZE main.t1p;
{c}
ANALYZE emptypart_x;
{c}
ANALYZE main;
{c}
ANALYZE MAIN;
ANALYZE \"t1\";
ANALYZE T1;
{c}
ANALYZE v1;
{c}
ANALYZE sqlite_master;
ANALYZE sqlite_stat1;
{c}
ANALYZE nosuch;
ANALYZE main.nosuch;
ANALYZE nosuchdb.t1;
ANALYZE temp;
ANALYZE temp.t1;
ANALYZE wr;
ANALYZE wr_v;
{c}
DELETE FROM t1 WHERE a < 3;
ANALYZE;
{c}
DELETE FROM t1;
DELETE FROM noidx;
ANALYZE;
{c}
"
    );
    check_script_on(&ours, &theirs, &s);
}

#[test]
fn fresh_database_root_pages() {
    let (ours, theirs) = pair();
    let s = format!(
        "CREATE TABLE t(a, b);
CREATE INDEX ta ON t(a);
INSERT INTO t VALUES(1, 2), (1, 3), (2, NULL);
ANALYZE;
{MASTER_ROOTS};
PRAGMA page_count;
{STAT1};
{STAT4};
CREATE TABLE u(x PRIMARY KEY, y);
ANALYZE;
{MASTER_ROOTS};
PRAGMA schema_version;
{STAT1};
{STAT4};
"
    );
    check_script_on(&ours, &theirs, &s);
}

#[test]
fn transactions_and_rollback() {
    let (ours, theirs) = pair();
    let c = checks();
    let s = format!(
        "CREATE TABLE t(a, b);
CREATE INDEX ta ON t(a);
INSERT INTO t VALUES(1, 2), (1, 3), (2, NULL), (3, 'x');
BEGIN;
ANALYZE;
{c}
ROLLBACK;
{STAT1};
SELECT count(*) FROM sqlite_master;
BEGIN;
ANALYZE;
COMMIT;
{c}
INSERT INTO t VALUES(5, 5), (5, 6);
BEGIN;
ANALYZE t;
{c}
ROLLBACK;
{c}
BEGIN;
INSERT INTO t VALUES(7, 7);
SAVEPOINT s;
ANALYZE ta;
{c}
ROLLBACK TO s;
{c}
ANALYZE;
COMMIT;
{c}
CREATE TABLE u(x);
INSERT INTO u VALUES(1),(2);
ANALYZE u;
{c}
DROP TABLE u;
{c}
ANALYZE;
{c}
"
    );
    check_script_on(&ours, &theirs, &s);
}

#[test]
fn temp_database_and_views() {
    let (ours, theirs) = pair();
    let c = checks();
    let s = format!(
        "CREATE TABLE t(a);
INSERT INTO t VALUES(1),(1),(2);
CREATE INDEX ta ON t(a);
CREATE TEMP TABLE tt(x, y);
CREATE INDEX temp.ttx ON tt(x, y);
INSERT INTO tt VALUES(1, 'a'), (1, 'b'), (2, 'b'), (NULL, NULL);
ANALYZE;
{c}
SELECT * FROM temp.sqlite_master WHERE name LIKE 'sqlite_stat%';
ANALYZE temp;
SELECT * FROM temp.sqlite_stat1 ORDER BY tbl, idx;
SELECT tbl, idx, neq, nlt, ndlt, sample FROM temp.sqlite_stat4 ORDER BY tbl, idx, sample;
SELECT type, name, tbl_name, sql FROM temp.sqlite_master ORDER BY name;
INSERT INTO tt VALUES(3, 'c');
ANALYZE tt;
ANALYZE temp.ttx;
SELECT * FROM temp.sqlite_stat1 ORDER BY tbl, idx;
SELECT tbl, idx, neq, nlt, ndlt, sample FROM temp.sqlite_stat4 ORDER BY tbl, idx, sample;
ANALYZE temp.t;
ANALYZE main.tt;
ANALYZE main.ta;
{c}
"
    );
    check_script_on(&ours, &theirs, &s);
}

#[test]
fn analysis_limit_is_refused() {
    let ours = Connection::open_in_memory().unwrap();
    strata_rows(&ours, "CREATE TABLE t(a)").unwrap();
    strata_rows(&ours, "CREATE INDEX ta ON t(a)").unwrap();
    strata_rows(&ours, "PRAGMA analysis_limit = 100").unwrap();
    let e = strata_rows(&ours, "ANALYZE").unwrap_err();
    assert!(e.contains("analysis_limit"), "{e}");
    // Nothing was written.
    assert!(strata_rows(&ours, STAT1).is_err());
    strata_rows(&ours, "PRAGMA analysis_limit = 0").unwrap();
    strata_rows(&ours, "ANALYZE").unwrap();
    assert_eq!(strata_rows(&ours, STAT1).unwrap().len(), 0);
}

/// A random table definition and its indexes (SQL statements).
fn random_schema(rng: &mut Rng, t: usize) -> (String, usize) {
    let types = ["", "INTEGER", "TEXT", "REAL", "NUMERIC", "BLOB"];
    let ncols = 2 + rng.next(4) as usize;
    let mut cols = Vec::new();
    for c in 0..ncols {
        let coll = if rng.next(5) == 0 {
            " COLLATE NOCASE"
        } else {
            ""
        };
        cols.push(format!("c{c} {}{coll}", rng.pick(&types)));
    }
    let without_rowid = rng.next(4) == 0;
    let mut sql = if without_rowid {
        cols.push("id INTEGER NOT NULL".into());
        format!(
            "CREATE TABLE r{t}({}, PRIMARY KEY(c0, id)) WITHOUT ROWID;\n",
            cols.join(", ")
        )
    } else {
        cols.push("id INTEGER UNIQUE".into());
        format!("CREATE TABLE r{t}({});\n", cols.join(", "))
    };
    let nidx = 1 + rng.next(4);
    for i in 0..nidx {
        let k = 1 + rng.next(3) as usize;
        let mut parts = Vec::new();
        for _ in 0..k {
            let c = rng.next(ncols as u64);
            let dir = if rng.next(3) == 0 { " DESC" } else { "" };
            let part = match rng.next(8) {
                0 => format!("c{c} COLLATE NOCASE{dir}"),
                1 => format!("(c{c} || 'x')"),
                _ => format!("c{c}{dir}"),
            };
            parts.push(part);
        }
        let unique = if rng.next(6) == 0 { "UNIQUE " } else { "" };
        let unique = if unique.is_empty() {
            ""
        } else {
            parts.push("id".into());
            unique
        };
        let part = if rng.next(5) == 0 {
            " WHERE c1 IS NOT NULL"
        } else {
            ""
        };
        sql.push_str(&format!(
            "CREATE {unique}INDEX r{t}i{i} ON r{t}({}){part};\n",
            parts.join(", ")
        ));
    }
    (sql, ncols)
}

fn random_value(rng: &mut Rng, spread: u64) -> String {
    match rng.next(10) {
        0 | 1 => "NULL".into(),
        2 | 3 | 4 => format!("{}", rng.next(spread)),
        5 => format!("{}.0", rng.next(spread)),
        6 => format!("{}.25", rng.next(spread)),
        7 | 8 => format!(
            "'{}'",
            rng.pick(&["a", "A", "b", "B", "abc", "ABC", "x", "xyz", "10", " 5", "5"])
        ),
        _ => format!("x'{:02x}{:02x}'", rng.next(4), rng.next(256)),
    }
}

#[test]
fn random_tables_same_statistics() {
    for seed in 1..=10u64 {
        let (ours, theirs) = pair();
        let mut rng = Rng(seed * 0x9e37_79b9_7f4a_7c15 + 1);
        let mut script = String::new();
        let ntables = 1 + rng.next(3) as usize;
        let mut shapes = Vec::new();
        for t in 0..ntables {
            let (sql, ncols) = random_schema(&mut rng, t);
            script.push_str(&sql);
            shapes.push(ncols);
        }
        check_script_on(&ours, &theirs, &script);
        let mut data = String::from("BEGIN;\n");
        for (t, &ncols) in shapes.iter().enumerate() {
            let rows = [10, 30, 100, 500, 1000, 2500, 5000][rng.next(7) as usize];
            let spread = [2, 5, 20, 1000][rng.next(4) as usize];
            for id in 0..rows {
                let vals: Vec<String> =
                    (0..ncols).map(|_| random_value(&mut rng, spread)).collect();
                data.push_str(&format!(
                    "INSERT OR IGNORE INTO r{t} VALUES({}, {id});\n",
                    vals.join(", ")
                ));
            }
        }
        data.push_str("COMMIT;\n");
        check_script_on(&ours, &theirs, &data);
        let c = checks();
        check_script_on(&ours, &theirs, &format!("ANALYZE;\n{c}"));
        // Changes, then the forms that replace only part of the rows.
        let mut more = String::new();
        for _ in 0..50 {
            let t = rng.next(ntables as u64);
            more.push_str(&format!(
                "DELETE FROM r{t} WHERE rowid IN (SELECT rowid FROM r{t} ORDER BY rowid LIMIT 1 OFFSET {});\n",
                rng.next(20)
            ));
        }
        more.push_str("ANALYZE r0;\nANALYZE r0i0;\n");
        check_script_on(&ours, &theirs, &format!("{more}{c}"));
    }
}
