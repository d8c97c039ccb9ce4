//! Time and peak memory as the data grows (issue 16): the five pieces of work of the
//! issue's table, at several row counts, Strata beside SQLite (rusqlite) in the same run.
//!
//! ```text
//! cargo run --release -p strata-bench --bin scale -- [--rows 100000,1000000,10000000]
//!     [--engines sqlite,strata] [--dir /tmp] [--out docs/bench/scale]
//! ```
//! The table is `t(id INTEGER PRIMARY KEY, k INT, v TEXT)` with an index on `k`; `v` has
//! one distinct value per four rows (so `GROUP BY v` makes N/4 groups and `ORDER BY v`
//! sorts N rows). Both engines use their defaults (WAL mode, 4 KiB pages, default cache
//! size and sorter settings); nothing is tuned for the benchmark. The works, in order:
//!
//! | work | what |
//! |---|---|
//! | `insert_1tx` | create the table and index, insert N rows in one transaction |
//! | `insert_20tx` | the same into a fresh file as 20 transactions |
//! | `order_by` | `SELECT v FROM t ORDER BY v`, every row read |
//! | `group_by` | `SELECT v, count(*) FROM t GROUP BY v`, every row read |
//! | `create_index` | `CREATE INDEX tv ON t(v)` |
//!
//! Each (engine, size, work) runs in a child process of its own (this binary re-executed
//! with `--child`), so the peak resident set (`VmHWM`) is that work's alone, including the
//! process's own baseline (a few MB, printed as `baseline`). The reading works run on the
//! file `insert_1tx` made by the same engine; the results of `order_by` and `group_by`
//! are folded into an order-sensitive checksum and must be equal for both engines (a
//! difference fails the run). Prints a table per size and writes `scale.csv` into `--out`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Parser;

#[derive(Parser, Debug)]
#[command(about = "Time and peak RSS of large inserts, sorts and index builds: Strata vs SQLite")]
struct Args {
    /// Row counts, comma-separated.
    #[arg(long, default_value = "100000,1000000", value_delimiter = ',')]
    rows: Vec<u64>,
    /// Engines, comma-separated (sqlite, strata).
    #[arg(long, default_value = "sqlite,strata", value_delimiter = ',')]
    engines: Vec<String>,
    /// Directory for the database files (removed afterwards).
    #[arg(long, default_value = "/tmp")]
    dir: PathBuf,
    /// Where the CSV goes.
    #[arg(long, default_value = "docs/bench/scale")]
    out: PathBuf,
    /// Internal: run one work with one engine and print one result line.
    #[arg(long, hide = true)]
    child: Option<String>,
    #[arg(long, hide = true)]
    work: Option<String>,
}

const WORKS: [&str; 5] = [
    "insert_1tx",
    "insert_20tx",
    "order_by",
    "group_by",
    "create_index",
];

const SCHEMA: &str =
    "CREATE TABLE t(id INTEGER PRIMARY KEY, k INT, v TEXT); CREATE INDEX tk ON t(k);";
const INSERT: &str = "INSERT INTO t(k, v) VALUES (?1, ?2)";

/// Row `i`'s values: a pseudo-random `k` and a `v` shared by four rows.
fn row(i: u64) -> (i64, String) {
    let mix = |x: u64| {
        let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let k = (mix(i) >> 1) as i64;
    (k, format!("value-{:016x}", mix(i / 4 + (1 << 40))))
}

/// `VmHWM` (peak resident set) of this process, bytes.
fn peak_rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

fn db_path(dir: &Path, engine: &str, work: &str, rows: u64) -> PathBuf {
    let file = if work == "insert_20tx" { "20tx" } else { "1tx" };
    dir.join(format!("scale-{engine}-{rows}-{file}.db"))
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

/// Order-sensitive fold of a result stream.
fn fold(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x100_0000_01b3).rotate_left(5)
}

fn fold_text(h: u64, s: &[u8]) -> u64 {
    s.iter().fold(h, |h, &b| fold(h, b as u64))
}

/// Runs one work; returns a checksum of what it read (0 for writes).
fn run_sqlite(work: &str, path: &Path, rows: u64) -> u64 {
    if work.starts_with("insert") {
        remove_db(path);
    }
    let conn = rusqlite::Connection::open(path).expect("sqlite open");
    conn.execute_batch("PRAGMA journal_mode=WAL;").expect("wal");
    let mut sum = 0u64;
    match work {
        "insert_1tx" | "insert_20tx" => {
            conn.execute_batch(SCHEMA).expect("schema");
            let batches = if work == "insert_1tx" { 1 } else { 20 };
            let per = rows.div_ceil(batches);
            let mut st = conn.prepare(INSERT).expect("prepare");
            let mut i = 0;
            while i < rows {
                conn.execute_batch("BEGIN").expect("begin");
                for j in i..(i + per).min(rows) {
                    let (k, v) = row(j);
                    st.execute(rusqlite::params![k, v]).expect("insert");
                }
                conn.execute_batch("COMMIT").expect("commit");
                i += per;
            }
        }
        "order_by" | "group_by" => {
            let sql = if work == "order_by" {
                "SELECT v FROM t ORDER BY v"
            } else {
                "SELECT v, count(*) FROM t GROUP BY v"
            };
            let mut st = conn.prepare(sql).expect("prepare");
            let mut q = st.query([]).expect("query");
            while let Some(r) = q.next().expect("row") {
                sum = fold_text(sum, r.get_ref(0).expect("v").as_bytes().expect("text"));
                if work == "group_by" {
                    sum = fold(sum, r.get::<_, i64>(1).expect("count") as u64);
                }
            }
        }
        "create_index" => conn
            .execute_batch("CREATE INDEX tv ON t(v)")
            .expect("index"),
        _ => panic!("unknown work {work}"),
    }
    sum
}

fn run_strata(work: &str, path: &Path, rows: u64) -> u64 {
    if work.starts_with("insert") {
        remove_db(path);
    }
    let db = strata::OpenOptions::new().open(path).expect("strata open");
    let conn = db.connect();
    let mut sum = 0u64;
    match work {
        "insert_1tx" | "insert_20tx" => {
            conn.execute_batch(SCHEMA).expect("schema");
            let batches = if work == "insert_1tx" { 1 } else { 20 };
            let per = rows.div_ceil(batches);
            let mut st = conn.prepare(INSERT).expect("prepare");
            let mut i = 0;
            while i < rows {
                conn.execute_batch("BEGIN").expect("begin");
                for j in i..(i + per).min(rows) {
                    let (k, v) = row(j);
                    st.execute(strata::params![k, v]).expect("insert");
                }
                conn.execute_batch("COMMIT").expect("commit");
                i += per;
            }
        }
        "order_by" | "group_by" => {
            let sql = if work == "order_by" {
                "SELECT v FROM t ORDER BY v"
            } else {
                "SELECT v, count(*) FROM t GROUP BY v"
            };
            let mut st = conn.prepare(sql).expect("prepare");
            let mut q = st.query(()).expect("query");
            while let Some(r) = q.next().expect("row") {
                let v: String = r.get(0).expect("v");
                sum = fold_text(sum, v.as_bytes());
                if work == "group_by" {
                    sum = fold(sum, r.get::<_, i64>(1).expect("count") as u64);
                }
            }
        }
        "create_index" => conn
            .execute_batch("CREATE INDEX tv ON t(v)")
            .expect("index"),
        _ => panic!("unknown work {work}"),
    }
    sum
}

fn child(engine: &str, work: &str, dir: &Path, rows: u64) {
    let baseline = peak_rss_bytes();
    let path = db_path(dir, engine, work, rows);
    let start = Instant::now();
    let sum = match engine {
        "strata" => run_strata(work, &path, rows),
        _ => run_sqlite(work, &path, rows),
    };
    let secs = start.elapsed().as_secs_f64();
    println!("RESULT {secs} {} {baseline} {sum}", peak_rss_bytes());
}

struct Outcome {
    secs: f64,
    peak_bytes: u64,
    baseline_bytes: u64,
    sum: u64,
}

fn spawn(engine: &str, work: &str, dir: &Path, rows: u64) -> Result<Outcome, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args([
            "--child",
            engine,
            "--work",
            work,
            "--rows",
            &rows.to_string(),
        ])
        .arg("--dir")
        .arg(dir)
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .ok_or_else(|| {
            format!(
                "{engine} {work} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
    let f: Vec<&str> = line.split_whitespace().collect();
    let parse = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    Ok(Outcome {
        secs: parse(0),
        peak_bytes: parse(1) as u64,
        baseline_bytes: parse(2) as u64,
        sum: f.get(3).and_then(|s| s.parse().ok()).unwrap_or(0),
    })
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() {
    let args = Args::parse();
    let rows_of_child = args.rows.first().copied().unwrap_or(0);
    if let Some(engine) = &args.child {
        child(
            engine,
            args.work.as_deref().unwrap_or(""),
            &args.dir,
            rows_of_child,
        );
        return;
    }
    std::fs::create_dir_all(&args.out).expect("create --out");
    let mut csv = String::from("rows,work,engine,secs,peak_rss_bytes,baseline_rss_bytes\n");
    let mut failed = false;
    for &rows in &args.rows {
        println!("\n### {rows} rows\n");
        println!("| work | engine | time | peak RSS | time ratio | RSS ratio |");
        println!("|---|---|--:|--:|--:|--:|");
        for work in WORKS {
            let mut sqlite: Option<Outcome> = None;
            for engine in &args.engines {
                match spawn(engine, work, &args.dir, rows) {
                    Ok(o) => {
                        let (tr, mr) = match &sqlite {
                            Some(s) if engine != "sqlite" => (
                                format!("{:.2}x", o.secs / s.secs),
                                format!("{:.2}x", o.peak_bytes as f64 / s.peak_bytes as f64),
                            ),
                            _ => (String::new(), String::new()),
                        };
                        if let Some(s) = &sqlite {
                            if engine != "sqlite" && s.sum != o.sum {
                                println!("MISMATCH: {work} at {rows} rows: {engine}'s result differs from SQLite's");
                                failed = true;
                            }
                        }
                        println!(
                            "| {work} | {engine} | {:.2} s | {:.1} MB | {tr} | {mr} |",
                            o.secs,
                            mb(o.peak_bytes)
                        );
                        csv.push_str(&format!(
                            "{rows},{work},{engine},{:.4},{},{}\n",
                            o.secs, o.peak_bytes, o.baseline_bytes
                        ));
                        if engine == "sqlite" {
                            sqlite = Some(o);
                        }
                    }
                    Err(e) => {
                        println!("| {work} | {engine} | failed: {e} | | | |");
                        failed = true;
                    }
                }
                let _ = std::io::stdout().flush();
            }
        }
        for engine in &args.engines {
            for work in ["insert_1tx", "insert_20tx"] {
                remove_db(&db_path(&args.dir, engine, work, rows));
            }
        }
    }
    std::fs::write(args.out.join("scale.csv"), csv).expect("write csv");
    if failed {
        std::process::exit(1);
    }
}
