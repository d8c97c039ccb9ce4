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
CREATE TABLE eleven(x);
CREATE INDEX eleven_x ON eleven(x);
INSERT INTO eleven VALUES(1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(10);
CREATE TABLE twelve(x);
CREATE INDEX twelve_x ON twelve(x);
INSERT INTO twelve SELECT x FROM eleven UNION ALL SELECT 10;
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
ALTER TABLE t RENAME TO t2;
{c}
DROP INDEX ta;
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

/// `PRAGMA analysis_limit`: SQLite scans part of each index (skipping past a first
/// column that fills the limit alone) and writes no samples.
#[test]
fn analysis_limit() {
    let (ours, theirs) = pair();
    let mut s = String::from(
        "CREATE TABLE t(a, b TEXT COLLATE NOCASE, c REAL);
CREATE INDEX ta ON t(a, b);
CREATE INDEX tb ON t(b DESC, c);
CREATE INDEX tc ON t(c) WHERE c > 2;
CREATE UNIQUE INDEX tu ON t(c, a, b);
CREATE TABLE one(x, y);
CREATE INDEX one_x ON one(x, y);
CREATE TABLE w(k PRIMARY KEY, v) WITHOUT ROWID;
CREATE INDEX wv ON w(v);
CREATE TABLE e(x);
CREATE INDEX ex ON e(x);
BEGIN;
",
    );
    let mut rng = Rng(5);
    for i in 0..700 {
        s.push_str(&format!(
            "INSERT INTO t VALUES({}, {}, {i}.5);\n",
            random_value(&mut rng, 6),
            random_value(&mut rng, 3)
        ));
        // The first column is the same for the first 400 rows.
        s.push_str(&format!(
            "INSERT INTO one VALUES({}, {});\n",
            if i < 400 { 7 } else { i % 13 },
            i % 5
        ));
        s.push_str(&format!(
            "INSERT OR IGNORE INTO w VALUES({i}, {});\n",
            i % 4
        ));
    }
    s.push_str("COMMIT;\n");
    check_script_on(&ours, &theirs, &s);
    let c = checks();
    for limit in [1, 2, 3, 10, 99, 250, 1000, 0, 5] {
        check_script_on(
            &ours,
            &theirs,
            &format!(
                "PRAGMA analysis_limit = {limit};\nANALYZE;\n{c}ANALYZE one_x;\nANALYZE w;\n{c}"
            ),
        );
    }
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
    for seed in 1..=30u64 {
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

/// A script with data in several kinds of tables and indexes, for the file tests.
fn file_script() -> String {
    let mut rng = Rng(99);
    let mut s = String::from(
        "CREATE TABLE t(a INTEGER, b TEXT COLLATE NOCASE, c REAL);
CREATE INDEX ta ON t(a, b DESC);
CREATE INDEX tc ON t(c) WHERE c > 1;
CREATE TABLE w(k, v, PRIMARY KEY(k)) WITHOUT ROWID;
CREATE INDEX wv ON w(v);
CREATE TABLE n(x);
BEGIN;
",
    );
    for i in 0..2000 {
        s.push_str(&format!(
            "INSERT INTO t VALUES({}, {}, {});\n",
            random_value(&mut rng, 30),
            random_value(&mut rng, 5),
            random_value(&mut rng, 10)
        ));
        if i % 3 == 0 {
            s.push_str(&format!(
                "INSERT OR IGNORE INTO w VALUES({}, {});\n",
                random_value(&mut rng, 500),
                random_value(&mut rng, 8)
            ));
        }
        if i % 10 == 0 {
            s.push_str(&format!("INSERT INTO n VALUES({i});\n"));
        }
    }
    s.push_str("COMMIT;\n");
    s
}

fn run(conn: &Connection, script: &str) {
    for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        strata_rows(conn, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

fn run_sqlite(conn: &rusqlite::Connection, script: &str) {
    for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        sqlite_rows(conn, sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

#[test]
fn sqlite_reads_strata_file_after_analyze() {
    let dir = tempfile::tempdir().unwrap();
    let ours_path = dir.path().join("ours.db");
    let theirs_path = dir.path().join("theirs.db");
    let script = format!("{}ANALYZE;\n", file_script());
    {
        let ours = Connection::open(&ours_path).unwrap();
        run(&ours, &script);
    }
    let theirs = rusqlite::Connection::open(&theirs_path).unwrap();
    run_sqlite(&theirs, &script);
    let reader = rusqlite::Connection::open(&ours_path).unwrap();
    assert_eq!(
        sqlite_rows(&reader, "PRAGMA integrity_check").unwrap(),
        sqlite_rows(&theirs, "PRAGMA integrity_check").unwrap()
    );
    let ok = sqlite_rows(&reader, "PRAGMA integrity_check").unwrap();
    assert_eq!(format!("{ok:?}"), "[[\"ok\"]]");
    for q in [STAT1, STAT4, MASTER] {
        let a = sqlite_rows(&reader, q).unwrap();
        assert_eq!(a, sqlite_rows(&theirs, q).unwrap(), "{q}");
        assert!(!a.is_empty(), "{q}");
    }
    // SQLite loads the statistics (ANALYZE's tables are read when a statement is
    // prepared) and answers queries from them as from its own.
    for q in [
        "SELECT count(*) FROM t WHERE a = 3 AND b = 'a'",
        "SELECT count(*) FROM t WHERE c > 2",
        "SELECT count(*) FROM w WHERE v = 1",
        "ANALYZE sqlite_schema",
    ] {
        assert_eq!(sqlite_rows(&reader, q), sqlite_rows(&theirs, q), "{q}");
    }
}

#[test]
fn analyze_over_sqlite_stat_tables() {
    let dir = tempfile::tempdir().unwrap();
    let made = dir.path().join("made.db");
    {
        let c = rusqlite::Connection::open(&made).unwrap();
        run_sqlite(&c, &format!("{}ANALYZE;\n", file_script()));
    }
    let ours_path = dir.path().join("ours.db");
    let theirs_path = dir.path().join("theirs.db");
    std::fs::copy(&made, &ours_path).unwrap();
    std::fs::copy(&made, &theirs_path).unwrap();
    let ours = Connection::open(&ours_path).unwrap();
    let theirs = rusqlite::Connection::open(&theirs_path).unwrap();
    let c = checks();
    let s = format!(
        "{c}
DELETE FROM t WHERE rowid % 3 = 0;
INSERT INTO w VALUES('new', 1), ('new2', 1);
ANALYZE t;
{c}
ANALYZE wv;
{c}
ANALYZE main.w;
{c}
ANALYZE;
{c}
DROP INDEX tc;
{c}
DROP TABLE w;
{c}
DELETE FROM sqlite_stat1 WHERE idx IS NULL;
INSERT INTO sqlite_stat1 VALUES('n', NULL, '7');
UPDATE sqlite_stat4 SET neq = '1 1 1' WHERE rowid = 1;
{c}
ANALYZE ta;
{c}
DROP TABLE sqlite_stat4;
{c}
ANALYZE n;
{c}
ANALYZE;
{c}
"
    );
    check_script_on(&ours, &theirs, &s);
    drop(ours);
    let reader = rusqlite::Connection::open(&ours_path).unwrap();
    let ok = sqlite_rows(&reader, "PRAGMA integrity_check").unwrap();
    assert_eq!(format!("{ok:?}"), "[[\"ok\"]]");
}

#[test]
fn attached_databases() {
    let d_ours = tempfile::tempdir().unwrap();
    let d_theirs = tempfile::tempdir().unwrap();
    let ours = Connection::open(d_ours.path().join("main.db")).unwrap();
    let theirs = rusqlite::Connection::open(d_theirs.path().join("main.db")).unwrap();
    let attach = |d: &tempfile::TempDir| {
        format!(
            "ATTACH '{}' AS aux",
            d.path().join("aux.db").to_str().unwrap()
        )
    };
    strata_rows(&ours, &attach(&d_ours)).unwrap();
    sqlite_rows(&theirs, &attach(&d_theirs)).unwrap();
    let c = checks();
    let aux = "SELECT * FROM aux.sqlite_stat1 ORDER BY tbl, idx;
SELECT tbl, idx, neq, nlt, ndlt, sample FROM aux.sqlite_stat4 ORDER BY tbl, idx, sample;
SELECT type, name, tbl_name, sql FROM aux.sqlite_master ORDER BY name;
";
    let s = format!(
        "CREATE TABLE t(a);
CREATE INDEX ta ON t(a);
INSERT INTO t VALUES(1), (1), (2);
CREATE TABLE aux.u(x, y);
CREATE INDEX aux.ux ON u(x);
INSERT INTO u VALUES(1, 1), (2, 2), (2, 3), (NULL, 4);
CREATE TABLE aux.t(z);
INSERT INTO aux.t VALUES(5), (6);
ANALYZE aux;
{aux}
{c}
ANALYZE;
{aux}
{c}
INSERT INTO u VALUES(3, 3);
ANALYZE aux.u;
{aux}
ANALYZE ux;
ANALYZE aux.ux;
ANALYZE t;
ANALYZE aux.t;
ANALYZE aux.nosuch;
{aux}
{c}
"
    );
    check_script_on(&ours, &theirs, &s);
}

#[test]
fn utf16_database() {
    let (ours, theirs) = pair();
    let c = checks();
    let s = format!(
        "PRAGMA encoding = 'UTF-16le';
CREATE TABLE t(a TEXT COLLATE NOCASE, b);
CREATE INDEX tab ON t(a, b);
INSERT INTO t VALUES('abc', 1), ('ABC', 2), ('é', 3), ('x', NULL), (NULL, 5), ('abc', 6);
ANALYZE;
{c}
"
    );
    check_script_on(&ours, &theirs, &s);
}

#[test]
fn expression_and_generated_columns() {
    let (ours, theirs) = pair();
    let c = checks();
    let mut s = String::from(
        "CREATE TABLE t(a REAL, b INT, g REAL AS (a * 2), s REAL AS (b + 0.5) STORED);
CREATE INDEX t1 ON t(+a);
CREATE INDEX t2 ON t(a + 0, b);
CREATE INDEX t3 ON t(g);
CREATE INDEX t4 ON t(s, a);
CREATE INDEX t5 ON t(CAST(b AS REAL));
",
    );
    for i in 0..200 {
        s.push_str(&format!(
            "INSERT INTO t(a, b) VALUES({}, {});\n",
            i % 9,
            i % 4
        ));
    }
    s.push_str(&format!("ANALYZE;\n{c}"));
    check_script_on(&ours, &theirs, &s);
}

#[test]
fn names_as_sqlite_resolves_them() {
    let (ours, theirs) = pair();
    let c = checks();
    let s = format!(
        "CREATE TABLE wr(k, v, PRIMARY KEY(k)) WITHOUT ROWID;
INSERT INTO wr VALUES(1, 2), (2, 2), (3, 3);
ANALYZE;
{c}
ANALYZE sqlite_autoindex_wr_1;
{c}
ANALYZE main.sqlite_autoindex_wr_1;
{c}
CREATE TABLE x(a UNIQUE);
INSERT INTO x VALUES(1),(2),(NULL),(NULL);
ANALYZE sqlite_autoindex_x_1;
{c}
ANALYZE sqlite_schema;
ANALYZE sqlite_temp_master;
ANALYZE temp.sqlite_master;
ANALYZE \"main\".\"x\";
ANALYZE 'x';
{c}
"
    );
    check_script_on(&ours, &theirs, &s);
}

/// 200,000 rows: many periodic samples, long runs, and sample replacement at scale.
#[test]
fn large_table_same_statistics() {
    let (ours, theirs) = pair();
    let s = "CREATE TABLE t(a, b, c);
CREATE INDEX ta ON t(a);
CREATE INDEX tbc ON t(b, c);
CREATE INDEX tcab ON t(c, a, b);
INSERT INTO t SELECT value % 1000, value % 37, 'text' || (value % 5000) FROM (WITH RECURSIVE s(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM s WHERE value < 200000) SELECT value FROM s)";
    for sql in s.split(";\n") {
        strata_rows(&ours, sql).unwrap();
        sqlite_rows(&theirs, sql).unwrap();
    }
    strata_rows(&ours, "ANALYZE").unwrap();
    sqlite_rows(&theirs, "ANALYZE").unwrap();
    assert_eq!(strata_rows(&ours, STAT4), sqlite_rows(&theirs, STAT4));
    assert_eq!(strata_rows(&ours, STAT1), sqlite_rows(&theirs, STAT1));
}

/// A prepared ANALYZE run again after its first run created the stat tables (its program
/// is then stale and is made again), and after other changes.
#[test]
fn prepared_analyze_runs_again() {
    let (ours, theirs) = pair();
    let setup = "CREATE TABLE t(a, b);
CREATE INDEX ta ON t(a);
INSERT INTO t VALUES(1, 1), (1, 2), (2, 3);
";
    check_script_on(&ours, &theirs, setup);
    let mut a = ours.prepare("ANALYZE").unwrap();
    let mut b = theirs.prepare("ANALYZE").unwrap();
    for round in 0..3 {
        a.execute(()).unwrap();
        b.execute([]).unwrap();
        check_script_on(&ours, &theirs, &checks());
        let more = format!("INSERT INTO t VALUES({round}, 9);\nCREATE INDEX tb{round} ON t(b);\n");
        check_script_on(&ours, &theirs, &more);
    }
}

/// A whole-database ANALYZE visits the tables in the order SQLite's schema hash
/// iterates them, which the stat rows' rowids show (found by sql_diff: with the
/// fuzzer's 12 tables the rowids differed from SQLite's).
#[test]
fn stat_rows_in_sqlite_hash_order() {
    let mut script = String::new();
    for i in 0..14 {
        script.push_str(&format!(
            "CREATE TABLE tab{i}(a, b); CREATE INDEX tab{i}_a ON tab{i}(a);\n\
             INSERT INTO tab{i} VALUES ({i}, 1), ({i}, 2), (1, 3);\n"
        ));
    }
    script.push_str(
        "CREATE TABLE wr(p PRIMARY KEY, q) WITHOUT ROWID;\n\
         INSERT INTO wr VALUES (1, 2), (3, 4);\n\
         ANALYZE;\n\
         SELECT rowid, * FROM sqlite_stat1 ORDER BY rowid;\n\
         SELECT rowid, tbl, idx, neq, nlt, ndlt FROM sqlite_stat4 ORDER BY rowid;\n\
         CREATE TEMP TABLE tt(x UNIQUE);\n\
         INSERT INTO tt VALUES (1), (2);\n\
         ANALYZE temp;\n\
         SELECT rowid, * FROM temp.sqlite_stat1 ORDER BY rowid",
    );
    let script = script.replace(";\n", ";\n");
    common::same_as_sqlite(&script);
}

/// A WITHOUT ROWID table's PRIMARY KEY is analyzed where SQLite's index list has it:
/// placed as the CREATE TABLE made it among the automatic indexes (found by sql_diff:
/// `wr(..., s UNIQUE, PRIMARY KEY(p, q DESC))` gave other stat1 rowids than SQLite's).
#[test]
fn without_rowid_primary_key_in_index_list_order() {
    common::same_as_sqlite(
        "CREATE TABLE wr(p TEXT COLLATE NOCASE, q INTEGER, r, s UNIQUE, PRIMARY KEY(p, q DESC)) WITHOUT ROWID;
         CREATE INDEX wr_r ON wr(r);
         CREATE TABLE w2(a PRIMARY KEY, b UNIQUE, c UNIQUE ON CONFLICT REPLACE, d UNIQUE) WITHOUT ROWID;
         CREATE TABLE r1(a UNIQUE ON CONFLICT REPLACE, b UNIQUE, c);
         CREATE INDEX r1_c ON r1(c);
         INSERT INTO wr VALUES ('a', 1, 1, 1), ('B', 2, NULL, 2), ('ab', 0, 2.5, NULL);
         INSERT INTO w2 VALUES (1, 2, 3, 4), (2, 3, 4, 5);
         INSERT INTO r1 VALUES (1, 2, 3), (4, 5, 6);
         ANALYZE;
         SELECT rowid, * FROM sqlite_stat1 ORDER BY rowid;
         SELECT rowid, tbl, idx, neq, nlt, ndlt FROM sqlite_stat4 ORDER BY rowid",
    );
}
