//! The `strata-slt` command line.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use crate::engine::EngineKind;
use crate::ratchet::Ratchet;
use crate::runner::{collect_test_files, run_files, Counts, RunOptions};

pub const USAGE: &str = "\
usage: strata-slt [--engine sqlite|strata|strata-cold] [--verbose] [--jobs N]
                  [--ratchet FILE [--update-ratchet]] FILE_OR_DIR...

Runs sqllogictest files (plain or .gz; directories recursively) and prints one
line per file and a final `N passed, N failed[, N skipped]` line.

  --engine NAME      engine under test: sqlite (default), strata, or
                     strata-cold (Strata on deferred shuffled IO with 512-byte
                     pages and a 4-page cache: every statement waits for reads)
  --verbose          describe every failed record on stderr
  --jobs N           files run in parallel (default 2)
  --ratchet FILE     exit non-zero only if some file's pass count fell below
                     the count recorded in FILE (`path passed_count` lines,
                     paths relative to the directory argument)
  --update-ratchet   also write the raised counts back to FILE

Exit status: 0 success, 1 failed records (or, with --ratchet, a regression),
2 usage or setup error.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub engine: EngineKind,
    pub verbose: bool,
    pub jobs: usize,
    pub ratchet: Option<PathBuf>,
    pub update_ratchet: bool,
    pub paths: Vec<PathBuf>,
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run(Args),
    Help,
}

pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut parsed = Args {
        engine: EngineKind::Sqlite,
        verbose: false,
        jobs: 2,
        ratchet: None,
        update_ratchet: false,
        paths: Vec::new(),
    };
    let mut args = args.into_iter();
    let mut only_paths = false;
    while let Some(arg) = args.next() {
        if only_paths || !arg.starts_with("--") {
            parsed.paths.push(PathBuf::from(arg));
            continue;
        }
        // Accept both `--opt value` and `--opt=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs {what}"))
        };
        match name.as_str() {
            "--" => only_paths = true,
            "--help" => return Ok(Command::Help),
            "--verbose" => parsed.verbose = true,
            "--update-ratchet" => parsed.update_ratchet = true,
            "--engine" => {
                let v = value("an engine name")?;
                parsed.engine = EngineKind::parse(&v)
                    .ok_or_else(|| format!("unknown engine `{v}` (choices: sqlite, strata)"))?;
            }
            "--jobs" => {
                let v = value("a number")?;
                parsed.jobs = v
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--jobs needs a positive number, got `{v}`"))?;
            }
            "--ratchet" => parsed.ratchet = Some(PathBuf::from(value("a file")?)),
            _ => return Err(format!("unknown option `{arg}`")),
        }
    }
    if parsed.update_ratchet && parsed.ratchet.is_none() {
        return Err("--update-ratchet needs --ratchet FILE".into());
    }
    if parsed.paths.is_empty() {
        return Err("no test files or directories given".into());
    }
    Ok(Command::Run(parsed))
}

/// The closing summary line.
pub fn summary_line(c: Counts) -> String {
    let mut s = format!("{} passed, {} failed", c.passed, c.failed);
    if c.skipped > 0 {
        s.push_str(&format!(", {} skipped", c.skipped));
    }
    s
}

/// Runs the command line; returns the process exit status.
pub fn main_with_args(
    args: impl IntoIterator<Item = String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let args = match parse_args(args) {
        Ok(Command::Run(a)) => a,
        Ok(Command::Help) => {
            let _ = writeln!(out, "{USAGE}");
            return 0;
        }
        Err(e) => {
            let _ = writeln!(err, "strata-slt: {e}\n\n{USAGE}");
            return 2;
        }
    };
    run(&args, out, err)
}

pub fn run(args: &Args, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if let Err(e) = args.engine.check_available() {
        let _ = writeln!(err, "strata-slt: {e}");
        return 2;
    }
    let mut ratchet = match &args.ratchet {
        Some(path) => match Ratchet::load(path, args.update_ratchet) {
            Ok(r) => Some(r),
            Err(e) => {
                let _ = writeln!(
                    err,
                    "strata-slt: cannot read ratchet {e} (use --update-ratchet to create it)"
                );
                return 2;
            }
        },
        None => None,
    };
    let files = match collect_test_files(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "strata-slt: {e}");
            return 2;
        }
    };
    if files.is_empty() {
        let _ = writeln!(err, "strata-slt: no .test or .test.gz files found");
        return 2;
    }

    let start = Instant::now();
    let mut total = Counts::default();
    let mut per_file: Vec<(String, u64)> = Vec::with_capacity(files.len());
    let opts = RunOptions {
        collect_failures: args.verbose,
    };
    run_files(&files, args.engine, args.jobs, opts, |file, report| {
        let path = file.path.display();
        for f in &report.failures {
            let _ = writeln!(err, "{path}:{}: {}", f.line, f.message);
        }
        if let Some(e) = &report.error {
            let _ = writeln!(err, "{path}: error: {e}");
        }
        let c = report.counts;
        let _ = writeln!(
            out,
            "{path}: {} passed, {} failed, {} skipped",
            c.passed, c.failed, c.skipped
        );
        let _ = out.flush();
        total.add(c);
        per_file.push((file.key.clone(), c.passed));
    });
    let _ = writeln!(
        err,
        "strata-slt: {} files on engine {} in {:.1}s",
        files.len(),
        args.engine.as_str(),
        start.elapsed().as_secs_f64()
    );

    let mut status = i32::from(total.failed > 0);
    if let (Some(ratchet), Some(path)) = (ratchet.as_mut(), &args.ratchet) {
        let results = per_file.iter().map(|(k, n)| (k.as_str(), *n));
        let regressions = ratchet.regressions(results.clone());
        for r in &regressions {
            let _ = writeln!(
                err,
                "ratchet: {}: passed {} records, down from {}",
                r.key, r.now, r.was
            );
        }
        // In ratchet mode failures are expected; only regressions fail.
        status = i32::from(!regressions.is_empty());
        if args.update_ratchet {
            ratchet.raise(results);
            if let Err(e) = std::fs::write(path, ratchet.to_text()) {
                let _ = writeln!(err, "strata-slt: cannot write {}: {e}", path.display());
                status = 2;
            }
        }
    }
    let _ = err.flush();
    let _ = writeln!(out, "{}", summary_line(total));
    let _ = out.flush();
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_options_and_paths() {
        let Command::Run(a) = parse(&[
            "--engine",
            "strata",
            "--verbose",
            "--ratchet=r.txt",
            "--update-ratchet",
            "--jobs",
            "1",
            "dir",
            "f.test",
        ])
        .unwrap() else {
            panic!("expected a run")
        };
        assert_eq!(a.engine, EngineKind::Strata);
        assert!(a.verbose && a.update_ratchet);
        assert_eq!(a.jobs, 1);
        assert_eq!(a.ratchet, Some(PathBuf::from("r.txt")));
        assert_eq!(a.paths, vec![PathBuf::from("dir"), PathBuf::from("f.test")]);
    }

    #[test]
    fn rejects_bad_command_lines() {
        assert!(parse(&[]).is_err());
        assert!(parse(&["--engine", "mysql", "x"]).is_err());
        assert!(parse(&["--engine"]).is_err());
        assert!(parse(&["--update-ratchet", "x"]).is_err());
        assert!(parse(&["--jobs", "0", "x"]).is_err());
        assert!(parse(&["--frobnicate", "x"]).is_err());
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
    }

    #[test]
    fn strata_engine_is_available() {
        // The engine opens (an in-memory database) without compiling any SQL.
        assert_eq!(EngineKind::Strata.check_available(), Ok(()));
    }

    #[test]
    fn summary_mentions_skipped_only_when_nonzero() {
        let c = Counts {
            passed: 3,
            failed: 1,
            skipped: 0,
        };
        assert_eq!(summary_line(c), "3 passed, 1 failed");
        let c = Counts { skipped: 2, ..c };
        assert_eq!(summary_line(c), "3 passed, 1 failed, 2 skipped");
    }
}
