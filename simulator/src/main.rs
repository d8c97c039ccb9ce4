//! Command line of the simulator.
//!
//! ```text
//! simulator --seed N [--steps N] [--tenants N] [--connections N] [--faults none|errors|crash|all]
//!           [--torn-garbage] [--small-cache] [--verbose]
//! simulator loop --seeds A..B [same options]
//! ```
//! Each run prints its seed and parameters first and `digest: <hex>` last; a failing run
//! prints the command that replays it, and the process exits with status 1.

use std::process::ExitCode;

use simulator::trace::Digest;
use simulator::{run, FaultMode, RunConfig};

const USAGE: &str = "usage: simulator --seed N [--steps N] [--tenants N] [--connections N] [--faults none|errors|crash|all] [--torn-garbage] [--small-cache] [--verbose]\n       simulator loop --seeds A..B [--steps N] [--tenants N] [--connections N] [--faults ...]";

struct Args {
    config: RunConfig,
    seeds: Option<(u64, u64)>,
}

fn parse_num(flag: &str, value: Option<&String>) -> Result<u64, String> {
    let v = value.ok_or_else(|| format!("{flag} needs a value"))?;
    v.parse::<u64>()
        .map_err(|_| format!("{flag}: not a number: {v}"))
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut config = RunConfig::new(0);
    let mut seed = None;
    let mut seeds = None;
    let mut looping = false;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        let value = args.get(i + 1);
        match flag {
            "loop" if i == 0 => {
                looping = true;
                i += 1;
                continue;
            }
            "--seed" => seed = Some(parse_num(flag, value)?),
            "--steps" => config.steps = parse_num(flag, value)?,
            "--tenants" => config.tenants = parse_num(flag, value)?.clamp(1, 64) as usize,
            "--connections" => config.connections = parse_num(flag, value)?.clamp(1, 64) as usize,
            "--faults" => {
                let v = value.ok_or("--faults needs a value")?;
                config.faults =
                    FaultMode::parse(v).ok_or_else(|| format!("--faults: unknown mode {v}"))?;
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
            "--small-cache" => {
                config.small_cache = true;
                i += 1;
                continue;
            }
            "--verbose" => {
                config.verbose = true;
                i += 1;
                continue;
            }
            "--torn-garbage" => {
                config.torn_garbage = true;
                i += 1;
                continue;
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
        i += 2;
    }
    if looping {
        if seeds.is_none() {
            return Err("loop needs --seeds A..B".into());
        }
    } else {
        config.seed = seed.ok_or("--seed N is required")?;
        if seeds.is_some() {
            return Err("--seeds is for `loop`".into());
        }
    }
    Ok(Args { config, seeds })
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
    match args.seeds {
        None => {
            let report = run(&args.config);
            for line in report.lines() {
                println!("{line}");
            }
            if report.failure.is_some() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Some((a, b)) => {
            // A..B is half-open, like a Rust range.
            let mut failed = Vec::new();
            // The loop's own digest covers every run's digest, so the last line still
            // identifies the whole output.
            let mut digest = Digest::new();
            for seed in a..b {
                let config = RunConfig {
                    seed,
                    ..args.config
                };
                let report = run(&config);
                for line in report.lines() {
                    println!("{line}");
                }
                digest.event("run", &[seed, report.digest]);
                if report.failure.is_some() {
                    failed.push(config.replay_command());
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
