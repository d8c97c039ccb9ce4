//! Command line of the simulator.
//!
//! ```text
//! simulator --seed N [--workload sql|storage|replication] [--replicas N] [--steps N] [--tenants N] [--connections N]
//!           [--faults none|errors|crash|all] [--torn-garbage] [--small-cache] [--no-shrink] [--verbose]
//!           [--features all|none|A,B,...] [--no-feature NAME]... [--only-feature NAME]...
//! simulator --plan FILE          replay a (shrunk) plan a failing run printed
//! simulator loop --seeds A..B [same options]
//! ```
//! (`simulator --help` lists every flag; the parsing is clap's.)
//! Each run prints its seed and parameters first and `digest: <hex>` last; a failing run
//! prints the command that replays it (and, for the SQL workload, a shrunk plan), and the
//! process exits with status 1.

use std::process::ExitCode;

use simulator::plan::{Plan, SqlConfig};
use simulator::replication::{self, ReplConfig};
use simulator::sql_sim;
use simulator::trace::Digest;
use simulator::{run, FaultMode, RunConfig};

/// Runs the shrinker may spend on one failure.
const SHRINK_RUNS: usize = 400;

const FEATURE_GROUPS: &str = "feature groups (SQL generator): returning default-values \
    nulls-order limit-comma bare-minmax filter schema-prefix temp foreign-keys strict pragmas \
    window json churn row-values update-from outer-join views alter-column cte agg-order \
    generated savepoints without-rowid attach math";

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    Sql,
    Storage,
    Replication,
}

/// Deterministic simulation of Strata against SQLite: one seed decides a whole run.
#[derive(clap::Parser)]
#[command(
    name = "simulator",
    args_conflicts_with_subcommands = true,
    after_help = FEATURE_GROUPS
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunFlags,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Runs the seeds A..B (half-open) with the same options; prints a line per failure.
    Loop {
        /// The seeds, A..B (half-open, like a Rust range).
        #[arg(long, value_parser = parse_seeds)]
        seeds: (u64, u64),
        #[command(flatten)]
        run: RunFlags,
    },
}

#[derive(clap::Args)]
struct RunFlags {
    /// The seed of a single run (required unless --plan is given or under `loop`).
    #[arg(long)]
    seed: Option<u64>,
    /// Replays a (shrunk) plan that a failing SQL run printed.
    #[arg(long, value_name = "FILE")]
    plan: Option<String>,
    #[arg(long, value_enum, default_value = "sql")]
    workload: Workload,
    /// Replicas of the replication workload (1-5).
    #[arg(long)]
    replicas: Option<u64>,
    /// Steps (storage, replication) or statements (SQL).
    #[arg(long)]
    steps: Option<u64>,
    /// Databases (1-64).
    #[arg(long)]
    tenants: Option<u64>,
    /// Connections per database (1-64; replication: clients, at most 4).
    #[arg(long)]
    connections: Option<u64>,
    /// Injected faults: none, errors, crash (power losses) or all.
    #[arg(long, value_parser = parse_faults)]
    faults: Option<FaultMode>,
    /// Torn writes may leave garbage in the sectors they cover.
    #[arg(long)]
    torn_garbage: bool,
    /// Small page caches (eviction and re-reading in the run).
    #[arg(long)]
    small_cache: bool,
    /// Do not shrink a failure.
    #[arg(long)]
    no_shrink: bool,
    #[arg(long)]
    verbose: bool,
    /// SQL generator feature groups: all, none or a comma-separated list.
    #[arg(long, value_name = "all|none|A,B")]
    features: Option<String>,
    /// Switches a feature group off (repeatable; applied last).
    #[arg(long = "no-feature", value_name = "NAME")]
    no_feature: Vec<String>,
    /// Only these feature groups (repeatable; the first starts from none).
    #[arg(long = "only-feature", value_name = "NAME")]
    only_feature: Vec<String>,
}

struct Args {
    workload: Workload,
    storage: RunConfig,
    sql: SqlConfig,
    repl: ReplConfig,
    seeds: Option<(u64, u64)>,
    plan: Option<String>,
}

fn parse_seeds(v: &str) -> Result<(u64, u64), String> {
    let (a, b) = v
        .split_once("..")
        .ok_or_else(|| format!("expected A..B, got {v}"))?;
    let a = a.parse::<u64>().map_err(|_| format!("bad start {a}"))?;
    let b = b.parse::<u64>().map_err(|_| format!("bad end {b}"))?;
    Ok((a, b))
}

fn parse_faults(v: &str) -> Result<FaultMode, String> {
    FaultMode::parse(v).ok_or_else(|| format!("unknown mode {v} (none, errors, crash, all)"))
}

/// The run configurations the flags describe.
fn configure(flags: RunFlags, seeds: Option<(u64, u64)>) -> Result<Args, String> {
    let mut storage = RunConfig::new(0);
    let mut sql = SqlConfig::new(0);
    let mut repl = ReplConfig::new(0);
    storage.small_cache = flags.small_cache;
    sql.small_cache = flags.small_cache;
    storage.verbose = flags.verbose;
    sql.verbose = flags.verbose;
    repl.verbose = flags.verbose;
    storage.torn_garbage = flags.torn_garbage;
    sql.torn_garbage = flags.torn_garbage;
    if flags.no_shrink {
        sql.shrink = false;
    }
    if let Some(list) = &flags.features {
        sql.features = simulator::sqlgen::Features::parse(list)?;
    }
    if !flags.only_feature.is_empty() {
        sql.features = simulator::sqlgen::Features::NONE;
        for name in &flags.only_feature {
            sql.features.set(name, true)?;
        }
    }
    for name in &flags.no_feature {
        sql.features.set(name, false)?;
    }
    if let Some(f) = flags.faults {
        storage.faults = f;
        sql.faults = f;
        // Replication: `errors` are network faults, `crash` node power losses.
        repl.net_faults = f.errors();
        repl.crashes = f.crashes();
    }
    if let Some(r) = flags.replicas {
        repl.replicas = Some(r.clamp(1, 5) as usize);
    }
    if let Some(s) = flags.steps {
        storage.steps = s;
        sql.statements = s;
        repl.steps = s;
    }
    if let Some(t) = flags.tenants {
        let t = t.clamp(1, 64) as usize;
        storage.tenants = t;
        sql.tenants = t;
    }
    if let Some(c) = flags.connections {
        let c = c.clamp(1, 64) as usize;
        storage.connections = c;
        sql.connections = c;
        repl.clients = Some(c.min(4));
    }
    repl.shrink = sql.shrink;
    if seeds.is_none() && flags.plan.is_none() {
        let s = flags.seed.ok_or("--seed N (or --plan FILE) is required")?;
        storage.seed = s;
        sql.seed = s;
        repl.seed = s;
    }
    Ok(Args {
        workload: flags.workload,
        storage,
        sql,
        repl,
        seeds,
        plan: flags.plan,
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
    use clap::{CommandFactory, Parser};
    let cli = Cli::parse();
    let configured = match cli.command {
        Some(Command::Loop { seeds, run }) => configure(run, Some(seeds)),
        None => configure(cli.run, None),
    };
    let args = match configured {
        Ok(a) => a,
        Err(msg) => {
            Cli::command()
                .error(clap::error::ErrorKind::ValueValidation, msg)
                .exit();
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
