//! Writing WITHOUT ROWID tables: random statements (INSERT with every conflict clause,
//! upserts on the key and on a UNIQUE column, UPDATE of key and non-key columns, DELETE,
//! REPLACE, triggers, RETURNING, savepoints) on tables whose keys are composite, DESC,
//! NOCASE, text long enough to overflow, with UNIQUE constraints and secondary indexes,
//! run on Strata's file and on SQLite side by side, compared statement by statement
//! (results, errors, changes()), then the file Strata wrote is checked by SQLite's
//! integrity_check and read back by SQLite, row for row.

mod common;

use common::{same_as_sqlite_with_messages, sqlite_rows, strata_rows, V};

const SCHEMA: &str = "
    CREATE TABLE w(a INT, b TEXT COLLATE NOCASE, c, d UNIQUE, PRIMARY KEY(b DESC, a)) WITHOUT ROWID;
    CREATE INDEX wc ON w(c);
    CREATE INDEX wcb ON w(c, b);
    CREATE TABLE k(id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INT DEFAULT 0) WITHOUT ROWID;
    CREATE UNIQUE INDEX kn ON k(name);
    CREATE TABLE log(x);
    CREATE TRIGGER kt AFTER UPDATE ON k BEGIN INSERT INTO log VALUES (old.name || '>' || new.name); END;
    CREATE TABLE g(p TEXT PRIMARY KEY, q, v AS (length(p) + q), s AS (q * 2) STORED) WITHOUT ROWID;
    CREATE INDEX gv ON g(v);
    CREATE TRIGGER wb BEFORE UPDATE ON w WHEN new.c = 7 BEGIN
        INSERT INTO log VALUES ('w ' || old.b || ' ' || old.a);
        UPDATE w SET c = c + 1000 WHERE d = old.d + 1;
    END;
    CREATE TRIGGER gd BEFORE DELETE ON g BEGIN INSERT INTO log VALUES ('g ' || old.p); END;
";

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn text(r: &mut Rng) -> String {
    let n = r.below(40);
    let case = if r.below(2) == 0 { "k" } else { "K" };
    let pad = [0usize, 0, 0, 0, 2500][r.below(5) as usize];
    format!("{case}{n:02}{}", "z".repeat(pad))
}

fn statement(r: &mut Rng) -> String {
    let t = text(r);
    let a = r.below(6);
    let c = r.below(9);
    let d = r.below(30);
    let id = r.below(50) as i64 - 10;
    match r.below(26) {
        0 => format!("INSERT INTO w VALUES ({a}, '{t}', {c}, {d})"),
        1 => format!("INSERT OR IGNORE INTO w VALUES ({a}, '{t}', {c}, {d})"),
        2 => format!("INSERT OR REPLACE INTO w VALUES ({a}, '{t}', {c}, {d})"),
        3 => format!(
            "INSERT INTO w VALUES ({a}, '{t}', {c}, {d}) ON CONFLICT(b, a) DO UPDATE SET c = c + 100"
        ),
        4 => format!(
            "INSERT INTO w VALUES ({a}, '{t}', {c}, {d}) ON CONFLICT(d) DO UPDATE SET a = excluded.a, c = -1 RETURNING a, b, c, d"
        ),
        5 => format!("INSERT INTO w VALUES ({a}, '{t}', {c}, {d}) ON CONFLICT DO NOTHING"),
        6 => format!("UPDATE w SET c = c + 1 WHERE c = {c}"),
        7 => format!("UPDATE w SET a = a + 1 WHERE b = '{t}'"),
        8 => format!("UPDATE OR IGNORE w SET b = upper(b) WHERE a = {a}"),
        9 => format!("UPDATE OR REPLACE w SET d = {d} WHERE c = {c}"),
        10 => format!("DELETE FROM w WHERE c = {c} RETURNING a, b"),
        11 => format!("DELETE FROM w WHERE b > '{t}' AND a < {a}"),
        12 => format!("INSERT INTO k(id, name) VALUES ({id}, 'n{d}')"),
        13 => format!("INSERT OR REPLACE INTO k VALUES ({id}, 'n{d}', {c})"),
        14 => format!("INSERT INTO k VALUES ({id}, 'n{d}', 1) ON CONFLICT(id) DO UPDATE SET n = n + 1"),
        15 => format!("UPDATE k SET name = 'm' || name WHERE id % 7 = {}", c % 7),
        16 => format!("UPDATE OR REPLACE k SET id = id + 5 WHERE n = {c}"),
        17 => format!("DELETE FROM k WHERE id = {id}"),
        18 => format!("INSERT OR REPLACE INTO g(p, q) VALUES ('{t}', {c})"),
        19 => format!("UPDATE g SET q = q + 1 WHERE v > {d}"),
        20 => format!("UPDATE g SET p = p || 'x' WHERE q = {c}"),
        21 => format!("INSERT INTO w SELECT a + 10, b, c + 1, d + 100 FROM w WHERE c = {c} ORDER BY b, a"),
        22 => format!("DELETE FROM g WHERE q = {c}"),
        23 => format!("UPDATE w SET c = 7 WHERE d = {d}"),
        24 => format!("UPDATE OR REPLACE w SET b = '{t}', a = {a} WHERE d = {d}"),
        _ => format!("INSERT INTO k VALUES ({id}, NULL, 0)"),
    }
}

fn run_seed(seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.db");
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let checks = [
        "SELECT * FROM w ORDER BY b DESC, a",
        "SELECT * FROM k ORDER BY id",
        "SELECT * FROM log ORDER BY rowid",
        "SELECT * FROM g ORDER BY p",
        "SELECT c, count(*) FROM w GROUP BY c ORDER BY c",
    ];
    {
        let ours = strata::Connection::open(&path).unwrap();
        let theirs = rusqlite::Connection::open_in_memory().unwrap();
        // Odd seeds in UTF-16: a row's key record holds its text in the file's
        // encoding (seeking by it once compared UTF-16 bytes with UTF-8 ones).
        if seed % 2 == 1 {
            ours.execute_batch("PRAGMA encoding = 'UTF-16le'").unwrap();
            theirs
                .execute_batch("PRAGMA encoding = 'UTF-16le'")
                .unwrap();
        }
        ours.execute_batch(SCHEMA).unwrap();
        theirs.execute_batch(SCHEMA).unwrap();
        let mut savepoint = false;
        let mut changed = 0;
        for step in 0..400 {
            let sql = match r.below(40) {
                0 if !savepoint => {
                    savepoint = true;
                    "SAVEPOINT s".to_string()
                }
                1 if savepoint => {
                    savepoint = false;
                    if r.below(2) == 0 {
                        "ROLLBACK TO s; RELEASE s".to_string()
                    } else {
                        "RELEASE s".to_string()
                    }
                }
                _ => statement(&mut r),
            };
            let mut a = Ok(Vec::new());
            let mut b = Ok(Vec::new());
            for part in sql.split("; ") {
                a = strata_rows(&ours, part);
                b = sqlite_rows(&theirs, part);
            }
            match (&a, &b) {
                (Ok(x), Ok(y)) => assert_eq!(x, y, "seed {seed} step {step}: {sql}"),
                (Err(x), Err(y)) => assert_eq!(x, y, "seed {seed} step {step}: {sql}\n{:?}", sqlite_rows(&theirs, "SELECT a, substr(b, 1, 4), length(b), c, d FROM w WHERE c = 7 OR c = 8 OR d > 100")),
                _ => panic!("seed {seed} step {step}: {sql}\n strata: {a:?}\n sqlite: {b:?}"),
            }
            let changes = "SELECT changes(), last_insert_rowid(), total_changes()";
            let n = strata_rows(&ours, changes).unwrap();
            assert_eq!(
                n,
                sqlite_rows(&theirs, changes).unwrap(),
                "seed {seed} step {step}: changes() after {sql}"
            );
            if a.is_ok() && n[0][0] != V::Int(0) {
                changed += 1;
            }
            if step % 50 == 49 {
                for q in checks {
                    assert_eq!(
                        strata_rows(&ours, q).unwrap(),
                        sqlite_rows(&theirs, q).unwrap(),
                        "seed {seed} step {step}: {q}"
                    );
                }
            }
        }
        // The run writes (most statements change rows), not only fails.
        assert!(
            changed > 150,
            "seed {seed}: only {changed} statements changed rows"
        );
        if savepoint {
            ours.execute_batch("RELEASE s").unwrap();
            theirs.execute_batch("RELEASE s").unwrap();
        }
        for q in checks {
            assert_eq!(
                strata_rows(&ours, q).unwrap(),
                sqlite_rows(&theirs, q).unwrap(),
                "seed {seed}: {q}"
            );
        }
        assert_eq!(
            strata_rows(&ours, "PRAGMA integrity_check").unwrap(),
            vec![vec![V::Text(b"ok".to_vec())]]
        );
        let expected: Vec<_> = checks
            .iter()
            .map(|q| sqlite_rows(&theirs, q).unwrap())
            .collect();
        drop(ours);
        // SQLite reads Strata's file: sound, and the same rows.
        let back = rusqlite::Connection::open(&path).unwrap();
        assert_eq!(
            sqlite_rows(&back, "PRAGMA integrity_check").unwrap(),
            vec![vec![V::Text(b"ok".to_vec())]],
            "seed {seed}: SQLite's integrity_check of Strata's file"
        );
        for (q, rows) in checks.iter().zip(expected) {
            assert_eq!(
                sqlite_rows(&back, q).unwrap(),
                rows,
                "seed {seed}: {q} read by SQLite"
            );
        }
    }
}

#[test]
fn random_writes_match_sqlite() {
    for seed in 1..=20 {
        run_seed(seed);
    }
}

/// Creating one, with SQLite's schema rows (no row for the PRIMARY KEY index, whose
/// number is skipped), and indexing one.
#[test]
fn create_and_index_like_sqlite() {
    same_as_sqlite_with_messages(
        "CREATE TABLE t(x TEXT UNIQUE, y INT, z, PRIMARY KEY(y, x), UNIQUE(z)) WITHOUT ROWID;\n\
         SELECT type, name, tbl_name, sql IS NULL FROM sqlite_schema ORDER BY name;\n\
         PRAGMA index_list(t);\n\
         INSERT INTO t VALUES ('a', 1, 10), ('b', 1, 20), ('a', 2, 30);\n\
         INSERT INTO t VALUES ('a', 1, 40);\n\
         INSERT INTO t VALUES ('c', 3, 10);\n\
         INSERT INTO t VALUES (NULL, 3, 50);\n\
         CREATE INDEX tz ON t(z DESC, y);\n\
         CREATE UNIQUE INDEX tzu ON t(z);\n\
         SELECT * FROM t ORDER BY z DESC;\n\
         SELECT * FROM t WHERE z = 20;\n\
         PRAGMA index_xinfo(tz);\n\
         PRAGMA integrity_check;\n\
         SELECT rowid FROM t;\n\
         INSERT INTO t(rowid, x, y) VALUES (1, 'q', 9);\n\
         UPDATE t SET rowid = 5;\n\
         DELETE FROM t WHERE y = 1;\n\
         SELECT changes();\n\
         DELETE FROM t;\n\
         SELECT changes(), count(*) FROM t;\n",
    );
}
