//! Runs the crate's own small sqllogictest corpus (`tests/slt/`, all passing,
//! and `tests/slt-must-fail/`, mostly failing on purpose) through the library
//! with the SQLite engine, and drives the command line (summary line, exit
//! status, ratchet, gzip input) the way CI will.

use std::io::Write;
use std::path::{Path, PathBuf};

use strata_slt::cli::main_with_args;
use strata_slt::{run_file, Counts, EngineKind, RunOptions};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

fn counts(passed: u64, failed: u64, skipped: u64) -> Counts {
    Counts {
        passed,
        failed,
        skipped,
    }
}

fn run(path: &Path) -> Counts {
    let report = run_file(
        path,
        EngineKind::Sqlite,
        RunOptions {
            collect_failures: true,
        },
    );
    assert!(
        report.error.is_none(),
        "{}: {:?}",
        path.display(),
        report.error
    );
    assert_eq!(
        report.failures.len() as u64,
        report.counts.failed,
        "every failure is described"
    );
    for f in &report.failures {
        eprintln!("{}:{}: {}", path.display(), f.line, f.message);
    }
    report.counts
}

/// Exact counts, so a runner that silently skipped or dropped records would
/// fail here too.
#[test]
fn own_corpus_passes_with_exact_counts() {
    let slt = dir("slt");
    assert_eq!(run(&slt.join("basic.test")), counts(13, 0, 0));
    assert_eq!(run(&slt.join("render.test")), counts(7, 0, 0));
    assert_eq!(run(&slt.join("hash.test")), counts(6, 0, 0));
    // CRLF file; two records skipped by conditions, two after `halt`.
    assert_eq!(run(&slt.join("conditions.test")), counts(4, 0, 4));
}

#[test]
fn deliberately_wrong_records_fail() {
    assert_eq!(
        run(&dir("slt-must-fail").join("wrong.test")),
        counts(2, 11, 0)
    );
}

/// Runs the CLI in-process; returns (status, stdout, stderr).
fn cli(args: &[&str]) -> (i32, String, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let status = main_with_args(args.iter().map(|s| s.to_string()), &mut out, &mut err);
    (
        status,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

#[test]
fn cli_prints_one_line_per_file_and_a_summary() {
    let slt = dir("slt");
    let (status, out, err) = cli(&["--engine", "sqlite", slt.to_str().unwrap()]);
    assert_eq!(status, 0, "{out}\n{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    // Sorted by path.
    assert!(
        lines[0].ends_with("basic.test: 13 passed, 0 failed, 0 skipped"),
        "{out}"
    );
    assert!(
        lines[1].ends_with("conditions.test: 4 passed, 0 failed, 4 skipped"),
        "{out}"
    );
    assert!(
        lines[2].ends_with("hash.test: 6 passed, 0 failed, 0 skipped"),
        "{out}"
    );
    assert!(
        lines[3].ends_with("render.test: 7 passed, 0 failed, 0 skipped"),
        "{out}"
    );
    assert_eq!(lines[4], "30 passed, 0 failed, 4 skipped");
}

#[test]
fn cli_fails_on_failed_records_and_describes_them_when_verbose() {
    let bad = dir("slt-must-fail");
    let (status, out, err) = cli(&["--verbose", "--jobs", "1", bad.to_str().unwrap()]);
    assert_eq!(status, 1);
    assert_eq!(out.lines().last(), Some("2 passed, 11 failed"));
    assert!(err.contains("wrong.test:19: wrong result"), "{err}");
}

#[test]
fn gzipped_files_run_like_plain_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = std::fs::read(dir("slt").join("conditions.test")).unwrap();
    let gz_path = tmp.path().join("conditions.test.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz_path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&plain).unwrap();
    enc.finish().unwrap();
    assert_eq!(run(&gz_path), counts(4, 0, 4));
}

#[test]
fn ratchet_fails_only_on_regressions_and_only_raises() {
    let tmp = tempfile::tempdir().unwrap();
    let ratchet = tmp.path().join("ratchet.txt");
    let ratchet_s = ratchet.to_str().unwrap();
    let bad = dir("slt-must-fail");
    let bad_s = bad.to_str().unwrap();

    // Without the file and without --update-ratchet: a setup error.
    let (status, _, err) = cli(&["--ratchet", ratchet_s, bad_s]);
    assert_eq!(status, 2, "{err}");

    // Creating it: failures are allowed in ratchet mode.
    let (status, _, _) = cli(&["--ratchet", ratchet_s, "--update-ratchet", bad_s]);
    assert_eq!(status, 0);
    assert_eq!(std::fs::read_to_string(&ratchet).unwrap(), "wrong.test 2\n");

    // A recorded count above what passes now is a regression...
    std::fs::write(&ratchet, "wrong.test 3\n").unwrap();
    let (status, _, err) = cli(&["--ratchet", ratchet_s, "--update-ratchet", bad_s]);
    assert_eq!(status, 1);
    assert!(
        err.contains("wrong.test: passed 2 records, down from 3"),
        "{err}"
    );
    // ...and updating never lowers it.
    assert_eq!(std::fs::read_to_string(&ratchet).unwrap(), "wrong.test 3\n");

    // A lower recorded count is fine and gets raised.
    std::fs::write(&ratchet, "wrong.test 1\nother.test 9\n").unwrap();
    let (status, _, _) = cli(&["--ratchet", ratchet_s, "--update-ratchet", bad_s]);
    assert_eq!(status, 0);
    assert_eq!(
        std::fs::read_to_string(&ratchet).unwrap(),
        "other.test 9\nwrong.test 2\n"
    );
}

#[test]
fn strata_engine_is_available() {
    assert_eq!(
        strata_slt::engine::EngineKind::Strata.check_available(),
        Ok(())
    );
}
