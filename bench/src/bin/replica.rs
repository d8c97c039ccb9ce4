//! Embedded-replica benchmark (issue 11): what a local replica buys over asking the
//! primary over HTTP, and what syncing costs.
//!
//! ```text
//! cargo run --release -p strata-bench --bin replica -- [--rows 8000] [--reads 50000]
//!     [--http-reads 5000] [--starts 10] [--sync-txns 2000] [--out docs/bench/replica]
//! ```
//! One process: a `strata-server` on 127.0.0.1 (port chosen by the OS; no other address
//! is contacted) with the "now playing" table `users(username TEXT PRIMARY KEY,
//! last_seen INT, playing TEXT)` of about 1 MiB, and Strata replicas of it in temporary
//! directories. Measured:
//! - point read by primary key on a synced replica (local), p50/p99/p99.9, against the
//!   same read through the primary over loopback HTTP (Hrana `/v2/pipeline`, one
//!   keep-alive connection);
//! - cold start: `Builder::build` on an empty directory (download the export image,
//!   sync to the primary's position) plus the first query; warm start: `build` on the
//!   existing files plus the first query;
//! - sync throughput: frames per second a `sync()` applies after `--sync-txns`
//!   single-row upserts (one transaction each) and after one large transaction.
//!
//! Prints a table and writes `replica.csv` into `--out`.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use hdrhistogram::Histogram;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "Embedded replica: local reads vs HTTP, cold/warm start, sync throughput")]
struct Args {
    /// Rows in the users table (8000 rows is about 1 MiB).
    #[arg(long, default_value_t = 8000)]
    rows: u64,
    /// Local point reads measured.
    #[arg(long, default_value_t = 50_000)]
    reads: u64,
    /// Point reads through the primary over HTTP measured.
    #[arg(long, default_value_t = 5_000)]
    http_reads: u64,
    /// Cold and warm starts measured (each).
    #[arg(long, default_value_t = 10)]
    starts: u32,
    /// Single-row upsert transactions on the primary before the timed sync.
    #[arg(long, default_value_t = 2_000)]
    sync_txns: u64,
    /// Directory for replica.csv.
    #[arg(long, default_value = "target/bench-results/replica")]
    out: PathBuf,
}

struct Primary {
    rt: tokio::runtime::Runtime,
    server: Option<strata_server::Server>,
    url: String,
    agent: ureq::Agent,
    _dir: tempfile::TempDir,
}

impl Primary {
    fn start() -> Primary {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = strata_server::Config::new(dir.path().join("data"));
        config.http_listen_addr = "127.0.0.1:0".parse().expect("loopback");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio");
        let server = rt
            .block_on(strata_server::Server::start(config))
            .expect("server starts");
        let url = format!("http://{}", server.http_addr);
        Primary {
            rt,
            server: Some(server),
            url,
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
            _dir: dir,
        }
    }

    /// Runs one statement through `/v2/pipeline`; returns the execute result.
    fn execute(&self, sql: &str, args: serde_json::Value) -> serde_json::Value {
        let body = json!({"requests": [
            {"type": "execute", "stmt": {"sql": sql, "args": args}},
            {"type": "close"},
        ]});
        let r: serde_json::Value = self
            .agent
            .post(&format!("{}/v2/pipeline", self.url))
            .send_json(body)
            .expect("pipeline request")
            .into_json()
            .expect("pipeline JSON");
        let first = &r["results"][0];
        assert_eq!(first["type"], "ok", "{sql}: {first}");
        first["response"]["result"].clone()
    }
}

impl Drop for Primary {
    fn drop(&mut self) {
        if let Some(s) = self.server.take() {
            self.rt.block_on(s.shutdown());
        }
    }
}

fn key(i: u64) -> String {
    format!("user{i:06}")
}

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("histogram")
}

fn us(h: &Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1000.0
}

/// A cheap deterministic sequence of keys (no randomness source needed).
fn nth_key(i: u64, rows: u64) -> String {
    key(i.wrapping_mul(2_654_435_761) % rows)
}

fn main() {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).expect("--out directory");
    let primary = Primary::start();
    println!("primary at {} (in process)", primary.url);
    primary.execute(
        "CREATE TABLE users(username TEXT PRIMARY KEY, last_seen INT, playing TEXT)",
        json!([]),
    );
    primary.execute(
        "WITH RECURSIVE s(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM s WHERE v < ?) \
         INSERT INTO users SELECT printf('user%06d', v - 1), v, hex(randomblob(40)) FROM s",
        json!([{"type": "integer", "value": args.rows.to_string()}]),
    );
    let work = tempfile::tempdir().expect("temp dir");
    let mut rows_csv: Vec<(String, String, f64, String)> = Vec::new();

    // Cold and warm starts.
    let mut cold = hist();
    let mut warm = hist();
    let mut db_bytes = 0u64;
    for i in 0..args.starts {
        let path = work.path().join(format!("cold{i}.db"));
        let t = Instant::now();
        let db = strata::Builder::new_remote_replica(&path, &primary.url, "")
            .build()
            .expect("replica builds");
        let n: i64 = db
            .connect()
            .query_row("SELECT count(*) FROM users", (), |r| r.get(0))
            .expect("first query");
        cold.record(t.elapsed().as_nanos() as u64).unwrap();
        assert_eq!(n as u64, args.rows);
        drop(db);
        // The replica's data: its file and its WAL (the pulled frames).
        let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        db_bytes = size(&path) + size(&path.with_extension("db-wal"));
        let t = Instant::now();
        let db = strata::Builder::new_remote_replica(&path, &primary.url, "")
            .build()
            .expect("warm start");
        let _: i64 = db
            .connect()
            .query_row(
                "SELECT last_seen FROM users WHERE username = 'user000001'",
                (),
                |r| r.get(0),
            )
            .expect("first query");
        warm.record(t.elapsed().as_nanos() as u64).unwrap();
    }
    println!(
        "database: {} rows, replica file + WAL {:.2} MiB",
        args.rows,
        db_bytes as f64 / (1024.0 * 1024.0)
    );

    // Local point reads on a synced replica.
    let path = work.path().join("reads.db");
    let db = strata::Builder::new_remote_replica(&path, &primary.url, "")
        .build()
        .expect("replica");
    let conn = db.connect();
    let mut stmt = conn
        .prepare("SELECT username, last_seen, playing FROM users WHERE username = ?")
        .expect("prepare");
    let mut local = hist();
    for i in 0..args.reads + args.reads / 10 {
        let k = nth_key(i, args.rows);
        let t = Instant::now();
        let mut rows = stmt.query([k.as_str()]).expect("query");
        let row = rows.next().expect("step").expect("a row");
        let _: i64 = row.get(1).expect("last_seen");
        drop(rows);
        if i >= args.reads / 10 {
            local.record(t.elapsed().as_nanos() as u64).unwrap();
        }
    }
    drop(stmt);

    // The same read through the primary over loopback HTTP.
    let mut http = hist();
    for i in 0..args.http_reads + args.http_reads / 10 {
        let k = nth_key(i, args.rows);
        let t = Instant::now();
        let r = primary.execute(
            "SELECT username, last_seen, playing FROM users WHERE username = ?",
            json!([{"type": "text", "value": k}]),
        );
        assert_eq!(r["rows"].as_array().map(Vec::len), Some(1));
        if i >= args.http_reads / 10 {
            http.record(t.elapsed().as_nanos() as u64).unwrap();
        }
    }

    // Sync throughput: many small transactions, then one large one.
    for i in 0..args.sync_txns {
        primary.execute(
            "INSERT INTO users VALUES (?, ?, 'song') ON CONFLICT(username) DO UPDATE \
             SET last_seen = excluded.last_seen, playing = excluded.playing",
            json!([
                {"type": "text", "value": nth_key(i, args.rows)},
                {"type": "integer", "value": (i + 1_000_000).to_string()},
            ]),
        );
    }
    let t = Instant::now();
    let small = db.sync().expect("sync");
    let small_secs = t.elapsed().as_secs_f64();
    primary.execute("UPDATE users SET playing = hex(randomblob(40))", json!([]));
    let t = Instant::now();
    let large = db.sync().expect("sync");
    let large_secs = t.elapsed().as_secs_f64();
    let check: i64 = conn
        .query_row("SELECT count(*) FROM users", (), |r| r.get(0))
        .expect("count");
    assert_eq!(check as u64, args.rows);

    println!();
    println!("| measurement | p50 | p99 | p99.9 | n |");
    println!("|---|---|---|---|---|");
    let mut line = |name: &str, h: &Histogram<u64>| {
        println!(
            "| {name} | {:.1} us | {:.1} us | {:.1} us | {} |",
            us(h, 0.5),
            us(h, 0.99),
            us(h, 0.999),
            h.len()
        );
        for (q, label) in [(0.5, "p50"), (0.99, "p99"), (0.999, "p99.9")] {
            rows_csv.push((name.to_string(), label.to_string(), us(h, q), "us".into()));
        }
    };
    line("point read, local replica", &local);
    line("point read, primary over HTTP", &http);
    line("cold start (build + first query)", &cold);
    line("warm start (build + first query)", &warm);
    let ratio = us(&http, 0.5) / us(&local, 0.5);
    println!();
    println!("local vs HTTP at p50: {ratio:.0}x faster");
    let small_fps = small.frames_synced as f64 / small_secs;
    let large_fps = large.frames_synced as f64 / large_secs;
    println!(
        "sync after {} one-row transactions: {} frames in {:.1} ms = {:.0} frames/s",
        args.sync_txns,
        small.frames_synced,
        small_secs * 1000.0,
        small_fps
    );
    println!(
        "sync after one {}-row UPDATE: {} frames in {:.1} ms = {:.0} frames/s",
        args.rows,
        large.frames_synced,
        large_secs * 1000.0,
        large_fps
    );
    rows_csv.push((
        "local vs HTTP p50".into(),
        "ratio".into(),
        ratio,
        "x".into(),
    ));
    rows_csv.push((
        "sync, small transactions".into(),
        "throughput".into(),
        small_fps,
        "frames/s".into(),
    ));
    rows_csv.push((
        "sync, one large transaction".into(),
        "throughput".into(),
        large_fps,
        "frames/s".into(),
    ));
    let mut f = std::fs::File::create(args.out.join("replica.csv")).expect("csv");
    writeln!(f, "measurement,statistic,value,unit").unwrap();
    for (m, s, v, u) in rows_csv {
        writeln!(f, "\"{m}\",{s},{v:.3},{u}").unwrap();
    }
    println!("wrote {}", args.out.join("replica.csv").display());
}
