//! Running records against an engine and judging the results.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use flate2::read::GzDecoder;
use md5::{Digest, Md5};

use crate::engine::{Engine, EngineKind, QueryError};
use crate::parser::{Expected, Parser, Record, RecordKind, SortMode};
use crate::render::{render, ColumnType};

/// The engine name `skipif`/`onlyif` lines are matched against. Every engine
/// runs as `sqlite`: Strata aims to behave exactly like SQLite, so it must
/// pass the records written for SQLite and may skip the ones SQLite skips.
pub const CONDITION_ENGINE_NAME: &str = "sqlite";

/// SQLite's harness default; `hash-threshold` records change it. Expected
/// blocks already say whether they are hashed, so the threshold only decides
/// how an unexpected result is shown in failure reports.
pub const DEFAULT_HASH_THRESHOLD: usize = 8;

/// How many values of an actual result a failure report lists.
const MAX_VALUES_SHOWN: usize = 20;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: u64,
    pub failed: u64,
    pub skipped: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped += other.skipped;
    }
}

/// One failed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Line of the record's first line.
    pub line: usize,
    /// What went wrong, possibly several lines (SQL, expected, actual).
    pub message: String,
}

/// The outcome of running one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileReport {
    pub counts: Counts,
    /// Failed records, in file order; empty unless failure details were
    /// asked for.
    pub failures: Vec<Failure>,
    /// The file could not be opened or read to the end (a corrupt gzip stream,
    /// say). Counted as one failure on top of the records that did run.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RunOptions {
    /// Keep a description of each failed record in [`FileReport::failures`].
    pub collect_failures: bool,
}

/// Runs every record readable from `reader` against `engine`.
pub fn run_reader<R: BufRead>(reader: R, engine: &mut dyn Engine, opts: RunOptions) -> FileReport {
    let mut report = FileReport::default();
    let mut hash_threshold = DEFAULT_HASH_THRESHOLD;
    let mut halted = false;
    for record in Parser::new(reader) {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                report.error = Some(format!("read error: {e}"));
                report.counts.failed += 1;
                break;
            }
        };
        let skipped = halted
            || record
                .conditions
                .iter()
                .any(|c| c.skips(CONDITION_ENGINE_NAME));
        if skipped {
            if record.is_test() {
                report.counts.skipped += 1;
            }
            continue;
        }
        let outcome = match &record.kind {
            RecordKind::HashThreshold(n) => {
                hash_threshold = *n;
                continue;
            }
            RecordKind::Halt => {
                // Everything after an applicable `halt` is reported as skipped,
                // so the file's totals stay comparable between runs.
                halted = true;
                continue;
            }
            RecordKind::Invalid { message } => Err(format!("malformed record: {message}")),
            RecordKind::Statement { expect_ok, sql } => run_statement(engine, *expect_ok, sql),
            RecordKind::Query {
                types,
                sort,
                sql,
                expected,
                ..
            } => run_query(engine, types, *sort, sql, expected, hash_threshold),
        };
        match outcome {
            Ok(()) => report.counts.passed += 1,
            Err(message) => {
                report.counts.failed += 1;
                if opts.collect_failures {
                    report.failures.push(Failure {
                        line: record.line,
                        message: describe_failure(&record, &message),
                    });
                }
            }
        }
    }
    report
}

fn run_statement(engine: &mut dyn Engine, expect_ok: bool, sql: &str) -> Result<(), String> {
    match (engine.execute(sql), expect_ok) {
        (Ok(()), true) | (Err(_), false) => Ok(()),
        (Err(e), true) => Err(format!("statement failed: {e}")),
        (Ok(()), false) => Err("statement succeeded but an error was expected".to_string()),
    }
}

/// Runs a query and compares its rendered, sorted values with the expected
/// block, in whichever form (value list or hash) the block uses.
fn run_query(
    engine: &mut dyn Engine,
    types: &[ColumnType],
    sort: SortMode,
    sql: &str,
    expected: &Expected,
    hash_threshold: usize,
) -> Result<(), String> {
    let rows = match engine.query(sql) {
        Ok(rows) => rows,
        // SQLite's harness stops reading rows at an execution error and
        // compares what it has; with nothing expected, that passes. Only an
        // error while running: one while preparing never ran (corpus README).
        Err(QueryError::Run(_)) if expected.is_empty() => return Ok(()),
        Err(e) => return Err(format!("query failed: {e}")),
    };
    let mut values = Vec::with_capacity(rows.len() * types.len());
    for row in &rows {
        if row.len() != types.len() {
            return Err(format!(
                "wrong number of columns: the type string has {} but the query returned {}",
                types.len(),
                row.len()
            ));
        }
        values.extend(row.iter().zip(types).map(|(v, t)| render(v, *t)));
    }
    sort_values(&mut values, types.len(), sort);
    compare(&values, expected, hash_threshold)
}

/// Sorts rendered values as the sort mode asks. Strings compare bytewise,
/// like the harness's `strcmp`.
pub fn sort_values(values: &mut Vec<String>, columns: usize, mode: SortMode) {
    match mode {
        SortMode::NoSort => {}
        SortMode::ValueSort => values.sort_unstable(),
        SortMode::RowSort => {
            if columns <= 1 {
                values.sort_unstable();
                return;
            }
            // Row-major chunks compare column by column, which is exactly
            // slice ordering.
            let mut rows: Vec<&[String]> = values.chunks(columns).collect();
            rows.sort();
            let sorted: Vec<String> = rows.concat();
            *values = sorted;
        }
    }
}

/// The MD5 of every value followed by `\n`, as lowercase hex.
pub fn hash_values(values: &[String]) -> String {
    let mut md5 = Md5::new();
    for v in values {
        md5.update(v.as_bytes());
        md5.update(b"\n");
    }
    md5.finalize()
        .iter()
        .fold(String::with_capacity(32), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn compare(values: &[String], expected: &Expected, hash_threshold: usize) -> Result<(), String> {
    match expected {
        Expected::Values(lines) => {
            if values == lines.as_slice() {
                return Ok(());
            }
            let mut msg = format!(
                "wrong result: expected {} values, got {}",
                lines.len(),
                values.len()
            );
            if let Some(i) = (0..lines.len().min(values.len())).find(|&i| values[i] != lines[i]) {
                let _ = write!(
                    msg,
                    "; value {} is `{}`, expected `{}`",
                    i + 1,
                    values[i],
                    lines[i]
                );
            }
            msg.push_str(&show_actual(values, hash_threshold));
            Err(msg)
        }
        Expected::Hash { count, md5 } => {
            let actual = hash_values(values);
            if values.len() == *count && actual == *md5 {
                return Ok(());
            }
            Err(format!(
                "wrong result hash: expected {count} values hashing to {md5}, got {} values hashing to {actual}{}",
                values.len(),
                show_actual(values, hash_threshold)
            ))
        }
    }
}

/// The actual result for a failure report: values (a prefix of them if
/// long), plus the hash line when the harness would have hashed them.
fn show_actual(values: &[String], hash_threshold: usize) -> String {
    let mut s = String::from("\n  actual:");
    for v in values.iter().take(MAX_VALUES_SHOWN) {
        let _ = write!(s, "\n    {v}");
    }
    if values.len() > MAX_VALUES_SHOWN {
        let _ = write!(s, "\n    ... {} more", values.len() - MAX_VALUES_SHOWN);
    }
    if hash_threshold > 0 && values.len() > hash_threshold {
        let _ = write!(
            s,
            "\n    ({} values hashing to {})",
            values.len(),
            hash_values(values)
        );
    }
    s
}

fn describe_failure(record: &Record, message: &str) -> String {
    let sql = match &record.kind {
        RecordKind::Statement { sql, .. } | RecordKind::Query { sql, .. } => sql.as_str(),
        _ => "",
    };
    if sql.is_empty() {
        return message.to_string();
    }
    let indented = sql.replace('\n', "\n    ");
    format!("{message}\n  sql:\n    {indented}")
}

/// Opens a test file, decompressing it on the fly if its name ends in `.gz`.
pub fn open_test_file(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path)?;
    const BUF: usize = 256 * 1024;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(BufReader::with_capacity(
            BUF,
            GzDecoder::new(file),
        )))
    } else {
        Ok(Box::new(BufReader::with_capacity(BUF, file)))
    }
}

/// Runs one test file against a fresh engine of the given kind.
pub fn run_file(path: &Path, kind: EngineKind, opts: RunOptions) -> FileReport {
    let failed = |error: String| FileReport {
        counts: Counts {
            failed: 1,
            ..Counts::default()
        },
        failures: Vec::new(),
        error: Some(error),
    };
    let reader = match open_test_file(path) {
        Ok(r) => r,
        Err(e) => return failed(format!("cannot open: {e}")),
    };
    let mut engine = match kind.connect() {
        Ok(e) => e,
        Err(e) => return failed(e.to_string()),
    };
    run_reader(reader, engine.as_mut(), opts)
}

/// A test file found on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFile {
    /// Path to open (and to print).
    pub path: PathBuf,
    /// Ratchet key: the path relative to the directory argument it was found
    /// under, with `/` separators; a file argument is keyed by its path as
    /// given.
    pub key: String,
}

/// Whether a file found while walking a directory is a test file.
fn is_test_file_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".test") || name.ends_with(".test.gz")
}

/// Expands the command-line paths: files are taken as they are; directories
/// are walked recursively for `*.test` and `*.test.gz`, sorted by path.
pub fn collect_test_files(args: &[PathBuf]) -> io::Result<Vec<TestFile>> {
    let mut out = Vec::new();
    for arg in args {
        let meta = std::fs::metadata(arg)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", arg.display())))?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(arg, &mut found)?;
            found.sort();
            for path in found {
                let key = path
                    .strip_prefix(arg)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push(TestFile { path, key });
            }
        } else {
            out.push(TestFile {
                path: arg.clone(),
                key: arg.to_string_lossy().into_owned(),
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        // Follows symlinks, so a linked corpus directory is walked too.
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            walk(&path, out)?;
        } else if is_test_file_name(&path) {
            out.push(path);
        }
    }
    Ok(())
}

/// Runs `files` on `jobs` threads, each file on a fresh engine, and hands
/// each report to `on_report` in file order (so output is deterministic
/// whatever the scheduling).
pub fn run_files(
    files: &[TestFile],
    kind: EngineKind,
    jobs: usize,
    opts: RunOptions,
    mut on_report: impl FnMut(&TestFile, &FileReport),
) {
    let jobs = jobs.clamp(1, files.len().max(1));
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<(usize, FileReport)>();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else { break };
                let report = run_file(&file.path, kind, opts);
                if tx.send((i, report)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        // Reports arrive in completion order; hold early ones back until
        // every file before them has been reported.
        let mut pending = BTreeMap::new();
        let mut next_out = 0;
        for (i, report) in rx {
            pending.insert(i, report);
            while let Some(report) = pending.remove(&next_out) {
                on_report(&files[next_out], &report);
                next_out += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Value;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn rowsort_sorts_rows_column_by_column() {
        let mut v = strings(&["b", "1", "a", "2", "a", "10", "b", "0"]);
        sort_values(&mut v, 2, SortMode::RowSort);
        // Strings, not numbers: "10" < "2".
        assert_eq!(v, strings(&["a", "10", "a", "2", "b", "0", "b", "1"]));
    }

    #[test]
    fn valuesort_ignores_rows_and_nosort_keeps_order() {
        let mut v = strings(&["b", "1", "a", "NULL"]);
        let original = v.clone();
        sort_values(&mut v, 2, SortMode::NoSort);
        assert_eq!(v, original);
        sort_values(&mut v, 2, SortMode::ValueSort);
        assert_eq!(v, strings(&["1", "NULL", "a", "b"]));
    }

    #[test]
    fn md5_of_values_each_followed_by_newline() {
        // md5("") and md5("1\n2\n"), computed independently (coreutils md5sum).
        assert_eq!(hash_values(&[]), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            hash_values(&strings(&["1", "2"])),
            "6ddb4095eb719e2a9f0a3f95677d24e0"
        );
    }

    #[test]
    fn compare_by_hash_checks_count_and_digest() {
        let values = strings(&["1", "2"]);
        let good = Expected::Hash {
            count: 2,
            md5: "6ddb4095eb719e2a9f0a3f95677d24e0".into(),
        };
        assert!(compare(&values, &good, 8).is_ok());
        let wrong_count = Expected::Hash {
            count: 3,
            md5: "6ddb4095eb719e2a9f0a3f95677d24e0".into(),
        };
        assert!(compare(&values, &wrong_count, 8).is_err());
        let wrong_hash = Expected::Hash {
            count: 2,
            md5: "00000000000000000000000000000000".into(),
        };
        assert!(compare(&values, &wrong_hash, 8).is_err());
        assert!(compare(&values, &Expected::Values(strings(&["1", "2"])), 8).is_ok());
        assert!(compare(&values, &Expected::Values(strings(&["1"])), 8).is_err());
        assert!(compare(&values, &Expected::Values(strings(&["1", "2", "3"])), 8).is_err());
    }

    /// An engine with canned answers, to test the runner's judging without
    /// SQLite.
    struct Canned {
        rows: Vec<Vec<Value>>,
        fail_queries: bool,
        executed: Vec<String>,
    }

    impl Engine for Canned {
        fn name(&self) -> &str {
            "canned"
        }
        fn execute(&mut self, sql: &str) -> Result<(), String> {
            self.executed.push(sql.to_string());
            if sql.contains("bad") {
                Err("syntax error".into())
            } else {
                Ok(())
            }
        }
        fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, QueryError> {
            if sql.contains("bad") {
                Err(QueryError::Prepare("syntax error".into()))
            } else if self.fail_queries {
                Err(QueryError::Run("boom".into()))
            } else {
                Ok(self.rows.clone())
            }
        }
    }

    fn run_text(text: &str, engine: &mut Canned) -> FileReport {
        run_reader(
            text.as_bytes(),
            engine,
            RunOptions {
                collect_failures: true,
            },
        )
    }

    #[test]
    fn statements_pass_and_fail_as_expected() {
        let mut e = Canned {
            rows: vec![],
            fail_queries: false,
            executed: vec![],
        };
        let r = run_text(
            "statement ok\nSELECT 1\n\nstatement error\nbad\n\nstatement ok\nbad\n\nstatement error\nfine\n",
            &mut e,
        );
        assert_eq!(
            r.counts,
            Counts {
                passed: 2,
                failed: 2,
                skipped: 0
            }
        );
        assert_eq!(
            r.failures.iter().map(|f| f.line).collect::<Vec<_>>(),
            [7, 10]
        );
    }

    #[test]
    fn skipif_onlyif_and_halt() {
        let mut e = Canned {
            rows: vec![],
            fail_queries: false,
            executed: vec![],
        };
        let text = "skipif sqlite\nstatement ok\nA\n\nonlyif mysql\nstatement ok\nB\n\n\
                    onlyif sqlite\nstatement ok\nC\n\nskipif mysql # comment\nstatement ok\nD\n\n\
                    onlyif mssql\nhalt\n\nstatement ok\nE\n\nhalt\n\nstatement ok\nF\n\nquery I\nG\n----\n";
        let r = run_text(text, &mut e);
        assert_eq!(e.executed, ["C", "D", "E"]);
        assert_eq!(
            r.counts,
            Counts {
                passed: 3,
                failed: 0,
                skipped: 4
            }
        );
    }

    #[test]
    fn failing_query_passes_only_against_an_empty_result() {
        let mut e = Canned {
            rows: vec![],
            fail_queries: true,
            executed: vec![],
        };
        let text = "query I\nSELECT x\n----\n\nquery I\nSELECT x\n----\n1\n";
        let r = run_text(text, &mut e);
        assert_eq!(
            r.counts,
            Counts {
                passed: 1,
                failed: 1,
                skipped: 0
            }
        );
        assert!(r.failures[0].message.contains("query failed: boom"));
    }

    #[test]
    fn query_that_does_not_compile_fails_even_against_an_empty_result() {
        // Only an error while running may pass against an empty result (corpus README);
        // an error while preparing is a failure whatever is expected.
        for fail_queries in [false, true] {
            let mut e = Canned {
                rows: vec![],
                fail_queries,
                executed: vec![],
            };
            let r = run_text(
                "query I\nSELECT bad\n----\n\nquery I\nSELECT x\n----\n",
                &mut e,
            );
            assert_eq!(
                r.counts,
                Counts {
                    passed: 1,
                    failed: 1,
                    skipped: 0
                }
            );
            assert_eq!(r.failures[0].line, 1);
            assert!(r.failures[0].message.contains("while preparing"));
        }
    }

    #[test]
    fn column_count_must_match_the_type_string() {
        let mut e = Canned {
            rows: vec![vec![Value::Integer(1), Value::Integer(2)]],
            fail_queries: false,
            executed: vec![],
        };
        // Two values would also fit "I" twice over; the row shape must match.
        let r = run_text(
            "query I\nSELECT 1, 2\n----\n1\n2\n\nquery II\nSELECT 1, 2\n----\n1\n2\n",
            &mut e,
        );
        assert_eq!(r.counts.passed, 1);
        assert_eq!(r.counts.failed, 1);
        assert!(r.failures[0].message.contains("wrong number of columns"));
    }

    #[test]
    fn malformed_record_counts_as_failure_and_run_continues() {
        let mut e = Canned {
            rows: vec![],
            fail_queries: false,
            executed: vec![],
        };
        let r = run_text("query Z\nSELECT 1\n\nstatement ok\nSELECT 1\n", &mut e);
        assert_eq!(r.counts.failed, 1);
        assert_eq!(r.counts.passed, 1);
        assert!(r.failures[0].message.contains("malformed record"));
    }

    #[test]
    fn truncated_gzip_is_a_read_error_not_a_panic() {
        use flate2::write::GzEncoder;
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all("statement ok\nSELECT 1\n\n".repeat(2000).as_bytes())
            .unwrap();
        let gz = enc.finish().unwrap();
        let truncated = &gz[..gz.len() / 2];
        let mut e = Canned {
            rows: vec![],
            fail_queries: false,
            executed: vec![],
        };
        let r = run_reader(
            BufReader::new(GzDecoder::new(truncated)),
            &mut e,
            RunOptions::default(),
        );
        assert!(r.error.is_some());
        assert_eq!(r.counts.failed, 1);
        assert!(r.counts.passed > 0 && r.counts.passed < 2000);
    }
}
