//! Runs every micro case on every engine in one process and prints Strata time / SQLite
//! time per case.
//!
//! ```text
//! cargo run --release -p strata-bench --bin ratios -- [--rounds 5] [--target-ms 300]
//!     [--cases point_select_rowid,...] [--engines sqlite,strata,strata-syscall]
//!     [--iters N]
//! ```
//! `--iters N` fixes the iterations per round (no calibration run), e.g. to count
//! syscalls per operation under strace.
//! Each round runs every engine once, in turn, for the same number of iterations
//! (calibrated so that SQLite takes about `--target-ms`); the reported time per
//! iteration is the median over the rounds. Sizes come from `STRATA_BENCH_*` (see `strata_bench::micro`).

use std::time::{Duration, Instant};

use strata_bench::micro::{Case, Engine, Fixture, Sizes};

/// Iterations for about `target` on `run`, and the trial runs' sizes: trials grow
/// fourfold until one takes an eighth of the target (so a fixed per-call part does not
/// dominate the estimate).
fn calibrate(run: &mut dyn FnMut(u64) -> Duration, target: Duration) -> (u64, Vec<u64>) {
    let mut n = 1u64;
    let mut trials = Vec::new();
    loop {
        let d = run(n).as_secs_f64().max(1e-9);
        trials.push(n);
        if d >= target.as_secs_f64() / 8.0 || n >= 10_000_000 {
            let iters = ((target.as_secs_f64() / d * n as f64) as u64).clamp(1, 10_000_000);
            return (iters, trials);
        }
        n *= 4;
    }
}

fn fmt_time(d: f64) -> String {
    if d >= 1.0 {
        format!("{d:.2} s")
    } else if d >= 1e-3 {
        format!("{:.2} ms", d * 1e3)
    } else if d >= 1e-6 {
        format!("{:.2} us", d * 1e6)
    } else {
        format!("{:.0} ns", d * 1e9)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Strata time / SQLite time for each micro case, every engine in one process.
#[derive(clap::Parser, Debug)]
#[command(about = "Micro benchmarks: Strata time / SQLite time per case, one process")]
struct Args {
    /// Rounds per case (the reported time is the median over rounds).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// About how long each engine runs per round, in milliseconds.
    #[arg(long, default_value_t = 300)]
    target_ms: u64,
    /// Fixed iterations per round (no calibration run), e.g. to count syscalls.
    #[arg(long)]
    iters: Option<u64>,
    /// Cases to run, comma-separated (default: all).
    #[arg(long, value_delimiter = ',', value_parser = parse_case)]
    cases: Vec<Case>,
    /// Engines, comma-separated: sqlite, strata, strata-syscall (sqlite always runs).
    #[arg(long, value_delimiter = ',', value_parser = parse_engine)]
    engines: Vec<Engine>,
}

fn parse_case(name: &str) -> Result<Case, String> {
    Case::by_name(name).ok_or_else(|| {
        let all: Vec<&str> = Case::ALL.iter().map(|c| c.name()).collect();
        format!("unknown case {name:?} (cases: {})", all.join(", "))
    })
}

fn parse_engine(name: &str) -> Result<Engine, String> {
    match name {
        "sqlite" => Ok(Engine::Sqlite),
        "strata" => Ok(Engine::Strata),
        "strata-syscall" => Ok(Engine::StrataSyscall),
        _ => Err(format!(
            "unknown engine {name:?} (engines: sqlite, strata, strata-syscall)"
        )),
    }
}

fn main() {
    let args = <Args as clap::Parser>::parse();
    let rounds = args.rounds;
    let target = Duration::from_millis(args.target_ms);
    let fixed_iters = args.iters;
    let cases: Vec<Case> = if args.cases.is_empty() {
        Case::ALL.to_vec()
    } else {
        args.cases
    };
    let mut engines = if args.engines.is_empty() {
        vec![Engine::Sqlite, Engine::Strata, Engine::StrataSyscall]
    } else {
        args.engines
    };
    if !engines.contains(&Engine::Sqlite) {
        engines.insert(0, Engine::Sqlite);
    }
    let sizes = Sizes::from_env();
    let t0 = Instant::now();
    let fx = Fixture::new(sizes);
    println!(
        "ratios: {} rows, {} insert rows, {} upsert keys; fixture built in {:.1} s; {rounds} rounds of ~{} ms per engine",
        sizes.rows,
        sizes.insert_rows,
        sizes.upsert_keys,
        t0.elapsed().as_secs_f64(),
        target.as_millis()
    );
    let bad = fx.cross_check();
    for b in &bad {
        println!("RESULT MISMATCH: {b}");
    }

    let others: Vec<Engine> = engines
        .iter()
        .copied()
        .filter(|e| *e != Engine::Sqlite)
        .collect();
    let mut header = format!("| {:<24} | {:>12} |", "case", "sqlite");
    let mut rule = format!("|{:-<26}|{:->13}:|", "", "");
    for e in &others {
        header.push_str(&format!(" {:>12} | {:>8} |", e.name(), "ratio"));
        rule.push_str(&format!("{:->13}:|{:->9}:|", "", ""));
    }
    let mut lines = vec![header, rule];
    let mut descr = Vec::new();
    for &case in &cases {
        let mut runners: Vec<_> = engines.iter().map(|&e| fx.runner(case, e)).collect();
        // Every engine runs the same number of iterations per round, calibrated on SQLite
        // (engine 0) to about `target`: a case whose call has a fixed part (the upsert's
        // BEGIN .. COMMIT around its iterations) then costs each engine the same work.
        // Calibrating each engine alone from one iteration made that fixed part decide
        // the count, so engines ran different amounts of work per commit and their
        // per-iteration times were not comparable (the upsert's io_uring and syscall
        // backends differed by 2x from that alone). Each other engine gets one warm-up
        // iteration.
        let (iters, trials) = match fixed_iters {
            Some(n) => (n, vec![1]),
            None => calibrate(&mut runners[0], target),
        };
        // The others repeat SQLite's trial runs: a case that changes its data (the
        // upsert's table grows) then starts the rounds from the same state everywhere.
        for r in runners.iter_mut().skip(1) {
            for &n in &trials {
                r(n);
            }
        }
        let mut per_iter: Vec<Vec<f64>> = vec![Vec::new(); engines.len()];
        for _ in 0..rounds {
            for (i, r) in runners.iter_mut().enumerate() {
                let d = r(iters);
                per_iter[i].push(d.as_secs_f64() / iters as f64);
            }
        }
        drop(runners);
        let med: Vec<f64> = per_iter.into_iter().map(median).collect();
        let base = med[0];
        let mut line = format!("| {:<24} | {:>12} |", case.name(), fmt_time(base));
        for (i, _) in others.iter().enumerate() {
            let m = med[i + 1];
            line.push_str(&format!(" {:>12} | {:>7.2}x |", fmt_time(m), m / base));
        }
        println!("{line}");
        lines.push(line);
        descr.push(format!("- `{}`: {}", case.name(), case.describe(&sizes)));
    }
    println!();
    for l in &lines {
        println!("{l}");
    }
    println!();
    for d in &descr {
        println!("{d}");
    }
    println!(
        "\nratio = engine time / sqlite time (lower is better for Strata; 1.00x = parity). Total {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}
