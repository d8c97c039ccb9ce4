//! The insert shortcuts that trust a cursor's held path across other trees' writes
//! (`strata_btree::probe_hint`): an index entry goes where its UNIQUE probe ended, and a
//! table cursor's right-most path (the append hint) and an index cursor's probe survive
//! another tree's leaf-only insert. Wrong trust would put an entry in the wrong place
//! (a corrupt index) or a row at the wrong end, so random runs of prepared upserts and
//! inserts on a table with several indexes (unique and not, an expression index, keys
//! long enough to overflow) are interleaved with everything that moves pages between
//! and within executions (deletes, updates, savepoints, rollbacks, commits), compared
//! with SQLite statement by statement, then checked by both engines' integrity_check.

use strata::params_from_iter;

mod common;
use common::{sqlite_rows, strata_rows, V};

const SCHEMA: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, k UNIQUE, u, v, w);\n\
    CREATE UNIQUE INDEX tu ON t(u);\n\
    CREATE INDEX tv ON t(v);\n\
    CREATE INDEX tw ON t(length(w), k)";

const UPSERT: &str = "INSERT INTO t(k, u, v, w) VALUES (?1, ?2, ?3, ?4) \
    ON CONFLICT(k) DO UPDATE SET v = excluded.v, w = w || 'x'";
const INSERT_OR_IGNORE: &str = "INSERT OR IGNORE INTO t(k, u, v, w) VALUES (?1, ?2, ?3, ?4)";
const REPLACE: &str = "INSERT OR REPLACE INTO t(k, u, v, w) VALUES (?1, ?2, ?3, ?4)";

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn key(r: &mut Rng) -> String {
    let n = r.below(400);
    // Some keys long enough to spill to overflow pages in the index.
    let pad = [0usize, 0, 0, 20, 3000][r.below(5) as usize];
    format!("{n:05}{}", "k".repeat(pad))
}

fn run_seed(seed: u64) {
    let dir =
        std::env::temp_dir().join(format!("strata-insert-hints-{}-{seed}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.db");
    let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    {
        let ours = strata::Connection::open(&path).unwrap();
        let theirs = rusqlite::Connection::open_in_memory().unwrap();
        ours.execute_batch(SCHEMA).unwrap();
        theirs.execute_batch(SCHEMA).unwrap();
        let sqls = [UPSERT, INSERT_OR_IGNORE, REPLACE];
        let mut ours_st: Vec<_> = sqls.iter().map(|s| ours.prepare(s).unwrap()).collect();
        let mut theirs_st: Vec<_> = sqls.iter().map(|s| theirs.prepare(s).unwrap()).collect();
        let mut in_tx = false;
        let mut savepoints = 0;
        for step in 0..400 {
            let sql: Option<String> = match r.below(20) {
                0..=11 => {
                    let which = [0, 0, 0, 1, 2][r.below(5) as usize];
                    let k = key(&mut r);
                    // u: unique too, NULL sometimes (NULLs never conflict).
                    let u = match r.below(4) {
                        0 => rusqlite::types::Value::Null,
                        _ => rusqlite::types::Value::Integer(r.below(600) as i64),
                    };
                    let v = r.below(50) as i64;
                    let w = "w".repeat(r.below(30) as usize);
                    let args = vec![
                        rusqlite::types::Value::Text(k.clone()),
                        u.clone(),
                        rusqlite::types::Value::Integer(v),
                        rusqlite::types::Value::Text(w.clone()),
                    ];
                    let a = theirs_st[which]
                        .execute(rusqlite::params_from_iter(args.iter()))
                        .map_err(common::sqlite_message);
                    let ours_args: Vec<strata::Value> = vec![
                        strata::Value::Text(k.into_bytes()),
                        match u {
                            rusqlite::types::Value::Integer(i) => strata::Value::Integer(i),
                            _ => strata::Value::Null,
                        },
                        strata::Value::Integer(v),
                        strata::Value::Text(w.into_bytes()),
                    ];
                    let b = ours_st[which]
                        .execute(params_from_iter(ours_args))
                        .map_err(|e| e.to_string());
                    assert_eq!(
                        b.is_ok(),
                        a.is_ok(),
                        "seed {seed} step {step}: {b:?} vs {a:?}"
                    );
                    None
                }
                12 => Some(format!("DELETE FROM t WHERE id % {} = 0", 2 + r.below(9))),
                13 => Some(format!(
                    "UPDATE t SET v = v + 1, w = w || '{}' WHERE id % {} = 1",
                    "y".repeat(r.below(40) as usize),
                    2 + r.below(5)
                )),
                14 if !in_tx => {
                    in_tx = true;
                    Some("BEGIN".into())
                }
                14 => {
                    in_tx = false;
                    savepoints = 0;
                    Some(
                        if r.below(3) == 0 {
                            "ROLLBACK"
                        } else {
                            "COMMIT"
                        }
                        .into(),
                    )
                }
                15 => {
                    savepoints += 1;
                    in_tx = true;
                    Some(format!("SAVEPOINT s{savepoints}"))
                }
                16 if savepoints > 0 => {
                    let s = savepoints;
                    Some(if r.below(2) == 0 {
                        format!("ROLLBACK TO s{s}")
                    } else {
                        savepoints -= 1;
                        if savepoints == 0 {
                            // Releasing the outermost savepoint outside BEGIN commits.
                            in_tx = false;
                        }
                        format!("RELEASE s{s}")
                    })
                }
                17 => Some(format!(
                    "DELETE FROM t WHERE k > '{:05}'",
                    300 + r.below(100)
                )),
                _ => Some("SELECT count(*), sum(v) FROM t".into()),
            };
            if let Some(sql) = sql {
                let a = sqlite_rows(&theirs, &sql);
                let b = strata_rows(&ours, &sql);
                assert_eq!(b, a, "seed {seed} step {step}: {sql}");
            }
        }
        if !theirs.is_autocommit() {
            theirs.execute_batch("COMMIT").unwrap();
            ours.execute_batch("COMMIT").unwrap();
        }
        let all = "SELECT id, k, u, v, w FROM t ORDER BY id";
        assert_eq!(
            strata_rows(&ours, all),
            sqlite_rows(&theirs, all),
            "seed {seed}: table"
        );
        let by_index = "SELECT k FROM t ORDER BY k";
        assert_eq!(strata_rows(&ours, by_index), sqlite_rows(&theirs, by_index));
        assert_eq!(
            strata_rows(&ours, "PRAGMA integrity_check").unwrap(),
            vec![vec![V::Text(b"ok".to_vec())]],
            "seed {seed}: Strata's integrity_check"
        );
    }
    let c = rusqlite::Connection::open(&path).unwrap();
    let report: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        report, "ok",
        "seed {seed}: SQLite's integrity_check of Strata's file"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn random_upserts_match_sqlite() {
    for seed in 1..=12 {
        run_seed(seed);
    }
}
