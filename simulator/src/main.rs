//! Command line of the simulator.
//!
//! ```text
//! simulator --seed N [--workload sql|storage|replication] [--replicas N] [--steps N] [--tenants N] [--connections N]
//!           [--faults none|errors|crash|all] [--torn-garbage] [--small-cache] [--no-shrink] [--verbose]
//!           [--features all|none|A,B,...] [--no-feature NAME]... [--only-feature NAME]...
//! simulator --plan FILE          replay a (shrunk) plan a failing run printed
//! simulator loop --seeds A..B [same options]
//! ```
//! Each run prints its seed and parameters first and `digest: <hex>` last; a failing run
//! prints the command that replays it (and, for the SQL workload, a shrunk plan), and the
//! process exits with status 1.

use std::process::ExitCode;

use simulator::plan::{Plan, SqlConfig};
use simulator::replication::{self, ReplConfig};
use simulator::sql_sim;
use simulator::trace::Digest;
use simulator::{run, FaultMode, RunConfig};

const USAGE: &str = "usage: simulator --seed N [--workload sql|storage|replication] [--replicas N] [--steps N] [--tenants N] [--connections N] [--faults none|errors|crash|all] [--torn-garbage] [--small-cache] [--no-shrink] [--verbose] [--features all|none|A,B] [--no-feature NAME]... [--only-feature NAME]...\n       feature groups (SQL generator): returning default-values nulls-order limit-comma bare-minmax filter schema-prefix temp foreign-keys strict pragmas window json churn row-values update-from outer-join views alter-column cte agg-order generated savepoints without-rowid attach math\n       simulator --plan FILE [--verbose]\n       simulator loop --seeds A..B [same options]";

/// Runs the shrinker may spend on one failure.
const SHRINK_RUNS: usize = 400;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    Sql,
    Storage,
    Replication,
}

struct Args {
    workload: Workload,
    storage: RunConfig,
    sql: SqlConfig,
    repl: ReplConfig,
    seeds: Option<(u64, u64)>,
    plan: Option<String>,
}

fn parse_num(flag: &str, value: Option<&String>) -> Result<u64, String> {
    let v = value.ok_or_else(|| format!("{flag} needs a value"))?;
    v.parse::<u64>()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut storage = RunConfig::new(0);
    let mut sql = SqlConfig::new(0);
    let mut repl = ReplConfig::new(0);
    let mut workload = Workload::Sql;
    let mut seed = None;
    let mut seeds = None;
    let mut plan = None;
    let mut looping = false;
    let mut steps = None;
    let mut tenants = None;
    let mut connections = None;
    let mut only_seen = false;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        let value = args.get(i + 1);
        let mut switch = true;
        match flag {
            "loop" if i == 0 => looping = true,
            "--small-cache" => {
                storage.small_cache = true;
                sql.small_cache = true;
            }
            "--verbose" => {
                storage.verbose = true;
                sql.verbose = true;
                repl.verbose = true;
            }
            "--torn-garbage" => {
                storage.torn_garbage = true;
                sql.torn_garbage = true;
            }
            "--no-shrink" => sql.shrink = false,
            "-h" | "--help" => return Err(String::new()),
            _ => switch = false,
        }
        if switch {
            i += 1;
            continue;
        }
        match flag {
            "--seed" => seed = Some(parse_num(flag, value)?),
            "--features" => {
                sql.features =
                    simulator::sqlgen::Features::parse(value.ok_or("--features needs a list")?)?
            }
            "--no-feature" => sql
                .features
                .set(value.ok_or("--no-feature needs a name")?, false)?,
            "--only-feature" => {
                // The first --only-feature starts from none; later ones add.
                if !only_seen {
                    sql.features = simulator::sqlgen::Features::NONE;
                    only_seen = true;
                }
                sql.features
                    .set(value.ok_or("--only-feature needs a name")?, true)?
            }
            "--steps" => steps = Some(parse_num(flag, value)?),
            "--tenants" => tenants = Some(parse_num(flag, value)?.clamp(1, 64) as usize),
            "--connections" => connections = Some(parse_num(flag, value)?.clamp(1, 64) as usize),
            "--replicas" => repl.replicas = Some(parse_num(flag, value)?.clamp(1, 5) as usize),
            "--workload" => {
                workload = match value.map(|s| s.as_str()) {
                    Some("sql") => Workload::Sql,
                    Some("storage") => Workload::Storage,
                    Some("replication") => Workload::Replication,
                    _ => return Err("--workload: sql, storage or replication".into()),
                }
            }
            "--plan" => plan = Some(value.ok_or("--plan needs a file")?.clone()),
            "--faults" => {
                let v = value.ok_or("--faults needs a value")?;
                let f = FaultMode::parse(v).ok_or_else(|| format!("--faults: unknown mode {v}"))?;
                storage.faults = f;
                sql.faults = f;
                // Replication: `errors` are network faults, `crash` node power losses.
                repl.net_faults = f.errors();
                repl.crashes = f.crashes();
            }
            "--seeds" => {
                let v = value.ok_or("--seeds needs A..B")?;
                let (a, b) = v
                    .split_once("..")
                    .ok_or_else(|| format!("--seeds: expected A..B, got {v}"))?;
                let a = a
                    .parse::<u64>()
                    .map_err(|_| format!("--seeds: bad start {a}"))?;
                let b = b
                    .parse::<u64>()
                    .map_err(|_| format!("--seeds: bad end {b}"))?;
                seeds = Some((a, b));
            }
            other => return Err(format!("unknown argument {other}")),
        }
        i += 2;
    }
    if let Some(s) = steps {
        storage.steps = s;
        sql.statements = s;
        repl.steps = s;
    }
    if let Some(t) = tenants {
        storage.tenants = t;
        sql.tenants = t;
    }
    if let Some(c) = connections {
        storage.connections = c;
        sql.connections = c;
        repl.clients = Some(c.min(4));
    }
    repl.shrink = sql.shrink;
    if looping {
        if seeds.is_none() {
            return Err("loop needs --seeds A..B".into());
        }
    } else if plan.is_none() {
        let s = seed.ok_or("--seed N (or --plan FILE) is required")?;
        storage.seed = s;
        sql.seed = s;
        repl.seed = s;
        if seeds.is_some() {
            return Err("--seeds is for `loop`".into());
        }
    }
    Ok(Args {
        workload,
        storage,
        sql,
        repl,
        seeds,
        plan,
    })
}

fn plan_path(seed: u64) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("strata-sim-seed-{seed}.plan"))
}

/// One SQL run with its output; shrinks a failure when `shrink` is on. Returns the
/// digest and whether it failed.
fn sql_run(config: &SqlConfig, plan: Option<&Plan>, replay: String) -> (u64, bool) {
    let report = match plan {
        Some(p) => sql_sim::run_plan(config, p),
        None => sql_sim::run(config),
    };
    for line in report.header() {
        println!("{line}");
    }
    for line in report.body() {
        println!("{line}");
    }
    match &report.failure {
        None => println!("result: ok"),
        Some(msg) => {
            println!("result: FAILED: {msg}");
            println!("replay: {replay}");
            if config.shrink {
                let s = sql_sim::shrink(config, &report.plan, msg, SHRINK_RUNS);
                let path = plan_path(config.seed);
                let text = s.plan.to_text(&s.config);
                let saved = std::fs::write(&path, &text).is_ok();
                println!(
                    "shrunk in {} runs: {} statements, {} power losses, faults {} (from {} items): {}",
                    s.runs,
                    s.plan.statements(),
                    s.plan.items.len() - s.plan.statements(),
                    s.config.faults.name(),
                    report.plan.items.len(),
                    s.failure
                );
                for line in text.lines() {
                    println!("plan| {line}");
                }
                if saved {
                    println!(
                        "replay shrunk: cargo run --release -p simulator -- --plan {}",
                        path.display()
                    );
                }
            }
        }
    }
    println!("digest: {:016x}", report.digest);
    (report.digest, report.failure.is_some())
}

/// One replication run with its output; a failure is shrunk (fewer steps, replicas and
/// clients) when `shrink` is on. Returns the digest and whether it failed.
fn repl_run(config: &ReplConfig) -> (u64, bool) {
    let report = replication::run(config);
    for line in &report.lines {
        println!("{line}");
    }
    match &report.failure {
        None => println!("result: ok"),
        Some(msg) => {
            println!("result: FAILED: {msg}");
            println!("replay: {}", config.replay_command());
            if config.shrink {
                let (small, runs, why) = replication::shrink(config, SHRINK_RUNS / 10);
                println!("shrunk in {runs} runs to: {why}");
                println!("replay shrunk: {}", small.replay_command());
            }
        }
    }
    println!("digest: {:016x}", report.digest);
    (report.digest, report.failure.is_some())
}

fn main() -> ExitCode {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse(&raw) {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("{msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if let Some(path) = &args.plan {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        };
        let (plan, mut config) = match Plan::parse(&text) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{path}: {e}");
                return ExitCode::from(2);
            }
        };
        config.verbose = args.sql.verbose;
        config.shrink = false;
        let (_, failed) = sql_run(
            &config,
            Some(&plan),
            format!("cargo run --release -p simulator -- --plan {path}"),
        );
        return if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        };
    }
    match args.seeds {
        None => {
            let failed = match args.workload {
                Workload::Sql => sql_run(&args.sql, None, args.sql.replay_command()).1,
                Workload::Storage => {
                    let report = run(&args.storage);
                    for line in report.lines() {
                        println!("{line}");
                    }
                    report.failure.is_some()
                }
                Workload::Replication => repl_run(&args.repl).1,
            };
            if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Some((a, b)) => {
            // A..B is half-open, like a Rust range. The loop's own digest covers every
            // run's digest, so the last line still identifies the whole output.
            let mut failed = Vec::new();
            let mut digest = Digest::new();
            for seed in a..b {
                let (d, f, cmd) = match args.workload {
                    Workload::Sql => {
                        let config = SqlConfig {
                            seed,
                            shrink: false,
                            ..args.sql
                        };
                        let (d, f) = sql_run(&config, None, config.replay_command());
                        (d, f, config.replay_command())
                    }
                    Workload::Storage => {
                        let config = RunConfig {
                            seed,
                            ..args.storage
                        };
                        let report = run(&config);
                        for line in report.lines() {
                            println!("{line}");
                        }
                        (
                            report.digest,
                            report.failure.is_some(),
                            config.replay_command() + " --workload storage",
                        )
                    }
                    Workload::Replication => {
                        let config = ReplConfig {
                            seed,
                            shrink: false,
                            ..args.repl.clone()
                        };
                        let (d, f) = repl_run(&config);
                        (d, f, config.replay_command())
                    }
                };
                digest.event("run", &[seed, d]);
                if f {
                    failed.push(cmd);
                }
            }
            println!(
                "seeds run: {} failed: {}",
                b.saturating_sub(a),
                failed.len()
            );
            for cmd in &failed {
                println!("replay: {cmd}");
            }
            println!("digest: {:016x}", digest.value());
            if failed.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
    }
}
