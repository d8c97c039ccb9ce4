//! How cost grows with the table (issue 13): point selects, inserts and a full scan on
//! tables of 10^4 .. 10^7 rows, Strata beside SQLite in one run.
//!
//! ```text
//! cargo run --release -p strata-bench --bin growth -- [--rows 10000,1000000,10000000]
//!     [--rounds 3] [--ops 20000] [--dir /tmp] [--out docs/bench/growth]
//! ```
//! For each size, SQLite builds the micro benchmarks' table (`t(id INTEGER PRIMARY KEY,
//! k, grp, val, name)` with index `t_k`, `k` a permutation of the ids; `build_big`),
//! checkpointed, and the file is copied byte for byte for Strata. Both engines: 4 KiB
//! pages, a 2000-page cache (so from 10^6 rows on, point selects miss the page cache and
//! read through the OS page cache), WAL, `synchronous=NORMAL`; Strata on io_uring.
//! Per case, the median of `--rounds` rounds, engines interleaved within a round:
//!
//! - `point_rowid`: `SELECT name, val FROM t WHERE id = ?`, random ids, µs per query;
//! - `point_index`: `SELECT id, name FROM t WHERE k = ?`, random keys, µs per query;
//! - `insert`: `--ops / 2` inserts of new rows (rowid appended, `k` random, so the index
//!   insert lands anywhere) in one transaction, µs per insert; the transaction is then
//!   rolled back (not timed), so every round sees the same table;
//! - `scan`: `SELECT count(*), sum(val) FROM t`, ns per row.
//!
//! The point queries' results are folded into a checksum that must match between the
//! engines (a difference fails the run). Prints a table and writes `growth.csv`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use strata::SyncMode;
use strata_bench::micro::{build_big, sqlite_open, strata_open, Engine};
use strata_bench::{fold_sqlite, fold_strata, Rng};

#[derive(Parser, Debug)]
#[command(about = "Point select, insert and scan cost by table size: Strata vs SQLite")]
struct Args {
    /// Table sizes in rows, comma-separated.
    #[arg(long, default_value = "10000,1000000", value_delimiter = ',')]
    rows: Vec<usize>,
    /// Rounds per case (the median is reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Point queries per round (inserts: half as many).
    #[arg(long, default_value_t = 20_000)]
    ops: usize,
    /// Directory for the database files (removed afterwards).
    #[arg(long, default_value = "/tmp")]
    dir: PathBuf,
    /// Where the CSV goes.
    #[arg(long, default_value = "docs/bench/growth")]
    out: PathBuf,
    /// Cases to run, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    cases: Vec<String>,
}

const CASES: [&str; 4] = ["point_rowid", "point_index", "insert", "scan"];

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// One round of `case` on SQLite: (time per unit in ns, checksum).
fn sqlite_round(
    conn: &rusqlite::Connection,
    case: &str,
    rows: usize,
    ops: usize,
    seed: u64,
) -> (f64, u64) {
    let mut rng = Rng::new(seed);
    let mut sum = 0u64;
    let start = Instant::now();
    let units = match case {
        "point_rowid" | "point_index" => {
            let sql = if case == "point_rowid" {
                "SELECT name, val FROM t WHERE id = ?1"
            } else {
                "SELECT id, name FROM t WHERE k = ?1"
            };
            let mut st = conn.prepare_cached(sql).expect("prepare");
            for _ in 0..ops {
                let key = rng.below(rows as u64) as i64 + 1;
                let mut q = st.query([key]).expect("query");
                while let Some(r) = q.next().expect("row") {
                    sum = sum.wrapping_add(fold_sqlite(r.get_ref(1).expect("col")));
                }
            }
            ops
        }
        "insert" => {
            let n = ops / 2;
            conn.execute_batch("BEGIN").expect("begin");
            let mut st = conn
                .prepare_cached("INSERT INTO t(k, grp, val, name) VALUES (?1, 1, 0.5, 'new row')")
                .expect("prepare");
            let start = Instant::now();
            for _ in 0..n {
                st.execute([rng.below(rows as u64 * 4) as i64])
                    .expect("insert");
            }
            let ns = start.elapsed().as_nanos() as f64 / n as f64;
            conn.execute_batch("ROLLBACK").expect("rollback");
            return (ns, 0);
        }
        _ => {
            let (c, s): (i64, f64) = conn
                .query_row("SELECT count(*), sum(val) FROM t", [], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .expect("scan");
            sum = c as u64 ^ s.to_bits();
            rows
        }
    };
    (start.elapsed().as_nanos() as f64 / units as f64, sum)
}

fn strata_round(
    conn: &strata::Connection,
    case: &str,
    rows: usize,
    ops: usize,
    seed: u64,
) -> (f64, u64) {
    let mut rng = Rng::new(seed);
    let mut sum = 0u64;
    let start = Instant::now();
    let units = match case {
        "point_rowid" | "point_index" => {
            let sql = if case == "point_rowid" {
                "SELECT name, val FROM t WHERE id = ?1"
            } else {
                "SELECT id, name FROM t WHERE k = ?1"
            };
            let mut st = conn.prepare(sql).expect("prepare");
            for _ in 0..ops {
                let key = rng.below(rows as u64) as i64 + 1;
                let mut q = st.query(strata::params![key]).expect("query");
                while let Some(r) = q.next().expect("row") {
                    sum = sum.wrapping_add(fold_strata(r.get_ref(1).expect("col")));
                }
            }
            ops
        }
        "insert" => {
            let n = ops / 2;
            conn.execute_batch("BEGIN").expect("begin");
            let mut st = conn
                .prepare("INSERT INTO t(k, grp, val, name) VALUES (?1, 1, 0.5, 'new row')")
                .expect("prepare");
            let start = Instant::now();
            for _ in 0..n {
                st.execute(strata::params![rng.below(rows as u64 * 4) as i64])
                    .expect("insert");
            }
            let ns = start.elapsed().as_nanos() as f64 / n as f64;
            drop(st);
            conn.execute_batch("ROLLBACK").expect("rollback");
            return (ns, 0);
        }
        _ => {
            let mut st = conn
                .prepare("SELECT count(*), sum(val) FROM t")
                .expect("prepare");
            let mut q = st.query(()).expect("query");
            let r = q.next().expect("row").expect("one row");
            let c: i64 = r.get(0).expect("count");
            let s: f64 = r.get(1).expect("sum");
            sum = c as u64 ^ s.to_bits();
            rows
        }
    };
    (start.elapsed().as_nanos() as f64 / units as f64, sum)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).expect("create --out");
    let mut csv = String::from("rows,case,engine,ns_per_unit\n");
    let mut table = Vec::new();
    let mut failed = false;
    for &rows in &args.rows {
        let sqlite_path = args.dir.join(format!("growth-{rows}-sqlite.db"));
        let strata_path = args.dir.join(format!("growth-{rows}-strata.db"));
        eprintln!("building {rows} rows with SQLite ...");
        let t0 = Instant::now();
        build_big(&sqlite_path, rows).expect("build");
        remove_db(&strata_path);
        std::fs::copy(&sqlite_path, &strata_path).expect("copy");
        eprintln!("  built in {:.1} s", t0.elapsed().as_secs_f64());
        let sq = sqlite_open(&sqlite_path, false);
        let st = strata_open(&strata_path, Engine::Strata, SyncMode::Normal);
        for case in CASES {
            if !args.cases.is_empty() && !args.cases.iter().any(|c| c == case) {
                continue;
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for round in 0..args.rounds {
                let seed = 100 + round as u64;
                let (ns_sqlite, sum_sqlite) = sqlite_round(&sq, case, rows, args.ops, seed);
                let (ns_strata, sum_strata) = strata_round(&st, case, rows, args.ops, seed);
                if sum_sqlite != sum_strata {
                    eprintln!("MISMATCH: {case} at {rows} rows: results differ");
                    failed = true;
                }
                a.push(ns_sqlite);
                b.push(ns_strata);
            }
            let (ms, mt) = (median(a), median(b));
            eprintln!("  {rows} {case}: sqlite {ms:.0} ns, strata {mt:.0} ns");
            csv.push_str(&format!(
                "{rows},{case},sqlite,{ms:.1}\n{rows},{case},strata,{mt:.1}\n"
            ));
            table.push((rows, case, ms, mt));
        }
        drop((sq, st));
        remove_db(&sqlite_path);
        remove_db(&strata_path);
    }
    println!("| rows | case | unit | SQLite | Strata | ratio |");
    println!("|--:|---|---|--:|--:|--:|");
    for (rows, case, ms, mt) in table {
        let (unit, div) = if case == "scan" {
            ("ns/row", 1.0)
        } else {
            ("µs/op", 1000.0)
        };
        println!(
            "| {rows} | {case} | {unit} | {:.3} | {:.3} | {:.2}x |",
            ms / div,
            mt / div,
            mt / ms
        );
    }
    std::fs::write(args.out.join("growth.csv"), csv).expect("write csv");
    if failed {
        std::process::exit(1);
    }
}
