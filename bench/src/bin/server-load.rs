//! The server-load benchmark (issue 10, must-show 4): `N` namespaces × `M` HTTP clients
//! against an in-process `strata-server` on 127.0.0.1, and the same statements submitted
//! straight to a `strata_runtime::Runtime`. See `strata_bench::server_load`.
//!
//! ```text
//! cargo run --release -p strata-bench --bin server-load -- --out DIR
//!     [--namespaces 1,10,100] [--clients 1] [--requests 200 | --total N] [--write-percent 10]
//!     [--modes http,in-process] [--max-secs 40] [--loops N] [--work DIR]
//! ```
//! Writes `DIR/server-load.csv` and prints a table.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use strata_bench::multitenant::{build_template, TENANT_DB_BYTES};
use strata_bench::server_load::{load_csv, load_table, rows_of, run, LoadConfig, LoadRow, Mode};

/// N namespaces × M clients: Hrana over HTTP on loopback vs the same statements in process.
#[derive(Parser, Debug)]
#[command(name = "server-load")]
struct Args {
    /// Numbers of namespaces to measure, comma-separated (each a separate run).
    #[arg(long, value_delimiter = ',', default_value = "100")]
    namespaces: Vec<usize>,
    /// HTTP clients (closed loops) per namespace.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Timed requests per client.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// Timed requests per run instead: each client gets total / (namespaces × clients)
    /// (rounded up), so small runs still have enough samples for p99.9.
    #[arg(long)]
    total: Option<usize>,
    /// Untimed reads per client before the timed part (plus one upsert if --write-percent > 0).
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Share of single-row upserts in percent (the rest are `SELECT * FROM users LIMIT 100`).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100))]
    write_percent: u32,
    /// Which runs: `http`, `in-process` (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "http,in-process")]
    modes: Vec<String>,
    /// Wall-clock cap of each run's timed part, in seconds (clients stop sending then).
    #[arg(long, default_value_t = 40)]
    max_secs: u64,
    /// Event loops of the server and the runtime (default: one per core).
    #[arg(long)]
    loops: Option<usize>,
    /// Tokio worker threads of the server (default: one per core).
    #[arg(long)]
    server_threads: Option<usize>,
    /// Tokio worker threads of the clients.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// Seed of the request mix.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Diagnostic, in-process runs only: each client keeps one connection (warm page
    /// cache) instead of a new one per request as the server's streams do.
    #[arg(long)]
    inproc_reuse_connections: bool,
    /// Diagnostic, in-process runs only: no fsync per commit (SyncMode::Normal).
    #[arg(long)]
    inproc_sync_normal: bool,
    /// Where the CSV goes.
    #[arg(long, default_value = "bench-out")]
    out: PathBuf,
    /// Where the databases go (default: a temporary directory).
    #[arg(long)]
    work: Option<PathBuf>,
}

fn main() {
    let args = Args::parse();
    let modes: Vec<Mode> = args
        .modes
        .iter()
        .map(|m| match m.as_str() {
            "http" => Mode::Http,
            "in-process" | "inproc" => Mode::InProcess,
            _ => {
                eprintln!("server-load: unknown mode {m:?} (http, in-process)");
                std::process::exit(2)
            }
        })
        .collect();
    if args.namespaces.contains(&0) || args.clients == 0 {
        eprintln!("server-load: --namespaces and --clients must be at least 1");
        std::process::exit(2)
    }
    let t0 = Instant::now();
    std::fs::create_dir_all(&args.out).expect("create --out directory");
    let tmp;
    let work = match &args.work {
        Some(w) => {
            std::fs::create_dir_all(w).expect("create --work directory");
            w.clone()
        }
        None => {
            tmp = tempfile::Builder::new()
                .prefix("strata-server-load")
                .tempdir()
                .expect("temp dir");
            tmp.path().to_path_buf()
        }
    };
    let template = work.join("template.db");
    let rows = build_template(&template, TENANT_DB_BYTES).expect("build template");
    let size = std::fs::metadata(&template).expect("template").len();
    let cores = strata_bench::cores();
    let loops = args.loops.unwrap_or(cores).max(1);
    let server_threads = args.server_threads.unwrap_or(cores).max(1);
    println!(
        "server-load: {cores} cores, namespaces {:?}, {} client(s) per namespace, {} \
         ({}% upserts), {loops} event loops, {server_threads} server / {} client tokio threads, cap {} s",
        args.namespaces,
        args.clients,
        match args.total {
            Some(t) => format!("{t} requests per run"),
            None => format!("{} requests per client", args.requests),
        },
        args.write_percent,
        args.client_threads,
        args.max_secs
    );
    println!(
        "namespace database: {rows} rows in users, {size} bytes; load average {}",
        load_average()
    );

    let mut table: Vec<LoadRow> = Vec::new();
    let mut failed = false;
    for &n in &args.namespaces {
        let cfg = LoadConfig {
            namespaces: n,
            clients_per_namespace: args.clients,
            requests_per_client: match args.total {
                Some(t) => t.div_ceil(n * args.clients).max(1),
                None => args.requests,
            },
            warmup_requests: args.warmup,
            write_percent: args.write_percent,
            max_wall: Duration::from_secs(args.max_secs.max(1)),
            loops,
            server_threads,
            client_threads: args.client_threads.max(1),
            seed: args.seed,
            reuse_connections: args.inproc_reuse_connections,
            sync_normal: args.inproc_sync_normal,
        };
        for &mode in &modes {
            println!(
                "-- {} × {} clients × {} requests, {}: running ...",
                n,
                args.clients,
                cfg.requests_per_client,
                mode.name()
            );
            let t = Instant::now();
            let r = match run(mode, &cfg, &template, rows, &work.join("db")) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("server-load: {} run failed: {e}", mode.name());
                    std::process::exit(1)
                }
            };
            for (op, s) in [("read", &r.reads), ("write", &r.writes)] {
                if let Some(e) = &s.first_error {
                    failed = true;
                    eprintln!(
                        "server-load: {} {op}s: {} errors, first: {e}",
                        mode.name(),
                        s.errors
                    );
                }
            }
            println!(
                "   {} of {} requests in {:.2} s{} (setup + teardown {:.2} s), load average {}",
                r.completed(),
                r.planned,
                r.wall.as_secs_f64(),
                if r.capped {
                    ", STOPPED BY THE WALL-CLOCK CAP"
                } else {
                    ""
                },
                (t.elapsed().saturating_sub(r.wall)).as_secs_f64(),
                load_average()
            );
            if !r.warmup_writes.is_empty() {
                let w = &r.warmup_writes;
                println!(
                    "   warm-up upserts (untimed; each namespace's first write creates its WAL): p50 {:.0} us, max {:.0} us",
                    w.value_at_quantile(0.5) as f64 / 1000.0,
                    w.max() as f64 / 1000.0
                );
            }
            if mode == Mode::InProcess {
                for (op, s) in [("reads", &r.reads), ("writes", &r.writes)] {
                    if s.ok == 0 {
                        continue;
                    }
                    let q = |p: f64| s.queue_wait.value_at_quantile(p) as f64 / 1000.0;
                    println!(
                        "   {op}: waiting for the loop (submit to first poll) p50 {:.0} us, p99 {:.0} us, p99.9 {:.0} us; {:.2} I/O parks per request",
                        q(0.5),
                        q(0.99),
                        q(0.999),
                        s.io_parks as f64 / s.ok as f64
                    );
                }
            }
            let new = rows_of(&r, &cfg);
            print!("{}", load_table(&new));
            table.extend(new);
            std::fs::write(args.out.join("server-load.csv"), load_csv(&table)).expect("write csv");
        }
    }
    println!();
    print!("{}", load_table(&table));
    println!(
        "\nwrote {} ({:.1} s)",
        args.out.join("server-load.csv").display(),
        t0.elapsed().as_secs_f64()
    );
    if failed {
        std::process::exit(1)
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".to_string())
}
