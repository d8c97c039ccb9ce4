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

const USAGE: &str = "usage: multitenant --out DIR [--quick] [--tenants LIST|MAX] [--queries N] \
[--warmup N] [--quantum N] [--engines a,b] [--caches warm,cold] [--cold-cache-pages N] \
[--warm-cache-pages N] [--threads N] [--work DIR]";

fn parse_list(s: &str) -> Vec<String> {
    s.split(',')
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
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
    let mut a = Args {
        tenants: tenant_series(100),
        queries: 1000,
        warmup: 2,
        quantum: 10,
        engines: parse_list("sqlite-threads,sqlite-pool,strata,strata-runtime"),
        caches: vec![Cache::Warm, Cache::Cold],
        cold_pages: 4,
        warm_pages: 2000,
        threads: strata_bench::cores(),
        out: PathBuf::from("bench-out"),
        work: None,
    };
    let mut tenants_set = false;
    let mut queries_set = false;
    let mut quick = false;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut val = || {
            it.next().unwrap_or_else(|| {
                eprintln!("{flag} needs a value\n{USAGE}");
                std::process::exit(2)
            })
        };
        let num = |s: String| -> usize {
            s.parse().unwrap_or_else(|_| {
                eprintln!("not a number: {s}\n{USAGE}");
                std::process::exit(2)
            })
        };
        match flag.as_str() {
            "--quick" => quick = true,
            "--tenants" => {
                let v = val();
                let list: Vec<usize> = parse_list(&v).into_iter().map(num).collect();
                a.tenants = if list.len() == 1 {
                    tenant_series(list[0])
                } else {
                    list
                };
                tenants_set = true;
            }
            "--queries" => {
                a.queries = num(val());
                queries_set = true;
            }
            "--warmup" => a.warmup = num(val()),
            "--quantum" => a.quantum = num(val()),
            "--engines" => a.engines = parse_list(&val()),
            "--caches" => {
                a.caches = parse_list(&val())
                    .iter()
                    .map(|c| match c.as_str() {
                        "warm" => Cache::Warm,
                        "cold" => Cache::Cold,
                        _ => {
                            eprintln!("unknown cache setting {c}\n{USAGE}");
                            std::process::exit(2)
                        }
                    })
                    .collect()
            }
            "--cold-cache-pages" => a.cold_pages = num(val()),
            "--warm-cache-pages" => a.warm_pages = num(val()),
            "--threads" => a.threads = num(val()),
            "--out" => a.out = PathBuf::from(val()),
            "--work" => a.work = Some(PathBuf::from(val())),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0)
            }
            _ => {
                eprintln!("unknown flag {flag}\n{USAGE}");
                std::process::exit(2)
            }
        }
    }
    if quick {
        if !tenants_set {
            a.tenants = vec![1, 10, 50, 100];
        }
        if !queries_set {
            a.queries = 100;
        }
    }
    for e in &a.engines {
        if !["sqlite-threads", "sqlite-pool", "strata", "strata-runtime"].contains(&e.as_str()) {
            eprintln!("unknown engine {e}\n{USAGE}");
            std::process::exit(2)
        }
    }
    a
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
