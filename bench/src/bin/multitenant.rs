//! The multi-tenant latency benchmark (Limbo paper, EdgeSys '24, Figure 3, and more).
//!
//! ```text
//! cargo run --release -p strata-bench --bin multitenant -- --out DIR [--quick]
//!     [--tenants 1,10,50,100 | --tenants 100] [--queries 1000] [--quantum 10]
//!     [--engines sqlite-threads,sqlite-pool,strata,strata-runtime] [--caches warm,cold]
//!     [--cold-cache-pages 4] [--warm-cache-pages 2000] [--threads N] [--work DIR]
//! ```
//! Writes `DIR/multitenant.csv`, `DIR/multitenant.svg` and prints a table.

use std::path::PathBuf;
use std::time::Instant;

use strata_bench::multitenant::{
    build_template, make_tenant_files, reads_per_query, run_sqlite_pool, run_sqlite_threads,
    run_strata, run_strata_runtime, Cache, RunConfig, TENANT_DB_BYTES,
};
use strata_bench::report::{to_csv, to_svg, to_table, ResultRow, Summary};

struct Args {
    tenants: Vec<usize>,
    queries: usize,
    warmup: usize,
    quantum: usize,
    engines: Vec<String>,
    caches: Vec<Cache>,
    cold_pages: usize,
    warm_pages: usize,
    threads: usize,
    out: PathBuf,
    work: Option<PathBuf>,
}

const ENGINES: [&str; 4] = ["sqlite-threads", "sqlite-pool", "strata", "strata-runtime"];

/// The command line (clap); turned into [`Args`] by [`parse_args`].
#[derive(clap::Parser, Debug)]
#[command(about = "The multi-tenant latency benchmark (Limbo paper, Figure 3)")]
struct Cli {
    /// Directory for multitenant.csv and multitenant.svg.
    #[arg(long, default_value = "bench-out")]
    out: PathBuf,
    /// Tenants 1,10,50,100 and 100 queries each (unless --tenants/--queries say otherwise).
    #[arg(long)]
    quick: bool,
    /// A list of tenant counts (1,10,50) or one maximum (100: 1, 10, 20, ..., 100).
    #[arg(long, value_delimiter = ',')]
    tenants: Vec<usize>,
    /// Queries per tenant (default 1000; 100 with --quick).
    #[arg(long)]
    queries: Option<usize>,
    /// Warm-up queries per tenant, not measured.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Steps (rows) a tenant runs before the hand-written Strata loop switches tenants.
    #[arg(long, default_value_t = 10)]
    quantum: usize,
    /// Engines, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "sqlite-threads,sqlite-pool,strata,strata-runtime",
          value_parser = clap::builder::PossibleValuesParser::new(ENGINES))]
    engines: Vec<String>,
    /// Page-cache settings to run: warm, cold.
    #[arg(long, value_delimiter = ',', default_value = "warm,cold",
          value_parser = clap::builder::PossibleValuesParser::new(["warm", "cold"]))]
    caches: Vec<String>,
    /// Cache size in pages per tenant in the cold runs.
    #[arg(long = "cold-cache-pages", default_value_t = 4)]
    cold_cache_pages: usize,
    /// Cache size in pages per tenant in the warm runs.
    #[arg(long = "warm-cache-pages", default_value_t = 2000)]
    warm_cache_pages: usize,
    /// Worker threads of the pool engines (default: the number of cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Where the tenants' files go (default: a temporary directory).
    #[arg(long)]
    work: Option<PathBuf>,
}

fn tenant_series(max: usize) -> Vec<usize> {
    let mut v = vec![1];
    let mut t = 10;
    while t <= max {
        v.push(t);
        t += 10;
    }
    if *v.last().unwrap() != max {
        v.push(max);
    }
    v
}

fn parse_args() -> Args {
    let cli = <Cli as clap::Parser>::parse();
    let tenants = match cli.tenants.as_slice() {
        [] if cli.quick => vec![1, 10, 50, 100],
        [] => tenant_series(100),
        [max] => tenant_series(*max),
        list => list.to_vec(),
    };
    let queries = cli.queries.unwrap_or(if cli.quick { 100 } else { 1000 });
    Args {
        tenants,
        queries,
        warmup: cli.warmup,
        quantum: cli.quantum,
        engines: cli.engines,
        caches: cli
            .caches
            .iter()
            .map(|c| {
                if c == "warm" {
                    Cache::Warm
                } else {
                    Cache::Cold
                }
            })
            .collect(),
        cold_pages: cli.cold_cache_pages,
        warm_pages: cli.warm_cache_pages,
        threads: cli.threads.unwrap_or_else(strata_bench::cores),
        out: cli.out,
        work: cli.work,
    }
}

fn main() {
    let args = parse_args();
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
                .prefix("strata-multitenant")
                .tempdir()
                .expect("temp dir");
            tmp.path().to_path_buf()
        }
    };
    let max_tenants = *args.tenants.iter().max().unwrap_or(&1);
    let template = work.join("template.db");
    let rows = build_template(&template, TENANT_DB_BYTES).expect("build template");
    let size = std::fs::metadata(&template).unwrap().len();
    let sqlite_files = make_tenant_files(&template, &work.join("sqlite"), max_tenants).unwrap();
    let strata_files = make_tenant_files(&template, &work.join("strata"), max_tenants).unwrap();
    println!(
        "multitenant: {} cores, tenants {:?}, {} queries per tenant, quantum {}, {} event loops / pool threads",
        strata_bench::cores(),
        args.tenants,
        args.queries,
        args.quantum,
        args.threads
    );
    println!(
        "tenant database: {rows} rows in users, {size} bytes ({} pages of 4096); query: {}",
        size / 4096,
        strata_bench::multitenant::QUERY
    );

    // Reads per query under each cache setting (outside the timed runs).
    for cache in &args.caches {
        let pages = match cache {
            Cache::Warm => args.warm_pages,
            Cache::Cold => args.cold_pages,
        };
        let probe = work.join("probe");
        let s = make_tenant_files(&template, &probe.join("s"), 1).unwrap();
        let k = make_tenant_files(&template, &probe.join("k"), 1).unwrap();
        let (strata_reads, sqlite_reads) = reads_per_query(&k[0], &s[0], pages, 20);
        println!(
            "{} cache ({pages} pages): reads per query: strata {strata_reads:.1} (IO preads), sqlite {} (read syscalls)",
            cache.name(),
            sqlite_reads.map_or("n/a".to_string(), |r| format!("{r:.1}"))
        );
    }

    let mut results: Vec<ResultRow> = Vec::new();
    let write_outputs = |results: &[ResultRow]| {
        std::fs::write(args.out.join("multitenant.csv"), to_csv(results)).expect("write csv");
        let title = format!(
            "SELECT * FROM users LIMIT 100, {} queries per tenant, {} cores",
            args.queries,
            strata_bench::cores()
        );
        std::fs::write(args.out.join("multitenant.svg"), to_svg(results, &title))
            .expect("write svg");
    };
    for &cache in &args.caches {
        let cfg = RunConfig {
            queries: args.queries,
            warmup_queries: args.warmup,
            cache_pages: match cache {
                Cache::Warm => args.warm_pages,
                Cache::Cold => args.cold_pages,
            },
            quantum: args.quantum,
            threads: args.threads,
        };
        for &n in &args.tenants {
            for engine in &args.engines {
                let r = match engine.as_str() {
                    "sqlite-threads" => run_sqlite_threads(&sqlite_files[..n], &cfg),
                    "sqlite-pool" => run_sqlite_pool(&sqlite_files[..n], &cfg),
                    "strata" => run_strata(&strata_files[..n], &cfg),
                    "strata-runtime" => run_strata_runtime(&strata_files[..n], &cfg),
                    _ => unreachable!(),
                };
                assert_eq!(r.histogram.len() as usize, n * args.queries);
                let row = ResultRow {
                    engine: engine.clone(),
                    cache: cache.name().to_string(),
                    tenants: n,
                    summary: Summary::of(&r.histogram),
                    throughput_qps: (n * args.queries) as f64 / r.wall.as_secs_f64(),
                };
                let m = &row.summary;
                let mut line = format!(
                    "{:<14} {:<4} {:>3} tenants: p50 {:>9.1} us  p90 {:>9.1}  p99 {:>9.1}  p99.9 {:>9.1}  max {:>9.1}  {:>7.0} q/s",
                    engine, row.cache, n, m.p50_us, m.p90_us, m.p99_us, m.p999_us, m.max_us, row.throughput_qps
                );
                if engine == "strata" {
                    let s = r.loop_stats;
                    let q = s.queries.max(1) as f64;
                    line.push_str(&format!(
                        "  [per query: {:.1} steps, {:.2} io yields, {:.2} run_once]",
                        s.steps as f64 / q,
                        s.io_yields as f64 / q,
                        s.run_once as f64 / q
                    ));
                }
                println!("{line}");
                results.push(row);
                write_outputs(&results);
            }
        }
    }
    println!();
    print!("{}", to_table(&results));
    println!(
        "\nwrote {} and {} ({:.1} s)",
        args.out.join("multitenant.csv").display(),
        args.out.join("multitenant.svg").display(),
        t0.elapsed().as_secs_f64()
    );
}
