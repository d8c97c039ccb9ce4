//! The `strata` binary against `/usr/bin/sqlite3`: same SQL, same arguments, compare
//! stdout (and, where sqlite3's text carries nothing we cannot reproduce, stderr and the
//! exit status). Tests that compare with sqlite3 print a message and return when it is
//! not installed (under `CI=true` they fail instead).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const STRATA: &str = env!("CARGO_BIN_EXE_strata");
const SQLITE3: &str = "/usr/bin/sqlite3";

/// Whether sqlite3 is there to compare with. Missing, the comparison is skipped, except
/// under `CI=true`: there a skipped comparison would pass without checking anything, so
/// it fails (`.ci/run` installs the Debian package `sqlite3`).
fn have_sqlite3() -> bool {
    if Path::new(SQLITE3).exists() {
        true
    } else if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{SQLITE3} is not installed, and CI=true requires it (apt-get install -y sqlite3)");
    } else {
        eprintln!("skipping: {SQLITE3} is not installed");
        false
    }
}

fn run(bin: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(bin)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {bin}: {e}"));
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs both shells on fresh databases with the same arguments after the file name.
fn both(args: &[&str], stdin: Option<&str>) -> (Output, Output) {
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("strata.db");
    let theirs = dir.path().join("sqlite.db");
    let mut a = vec![ours.to_str().unwrap()];
    a.extend_from_slice(args);
    let mut b = vec![theirs.to_str().unwrap()];
    b.extend_from_slice(args);
    (run(STRATA, &a, stdin), run(SQLITE3, &b, stdin))
}

fn assert_same_stdout(args: &[&str], stdin: Option<&str>) {
    let (ours, theirs) = both(args, stdin);
    assert_eq!(
        text(&ours.stdout),
        text(&theirs.stdout),
        "stdout differs for {args:?} / {stdin:?}\nour stderr: {}",
        text(&ours.stderr)
    );
}

const SETUP: &str = "CREATE TABLE t(a, b); \
    INSERT INTO t VALUES (1, 'x'), (2.5, NULL), (1e20, x'41'), ('he said \"hi\"', 'a,b'), \
    (-3, 'long text here'), ('héllo', 0.1), ('two' || char(10) || 'lines', 1.0);";

#[test]
fn version_and_help_need_no_sql_engine() {
    let out = run(STRATA, &["-version"], None);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("strata "));
    let out = run(STRATA, &[":memory:", ".help"], None);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains(".tables ?TABLE?"));
    let out = run(STRATA, &[":memory:", ".frobnicate"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unknown command or invalid arguments:  \"frobnicate\""));
}

#[test]
fn every_output_mode_matches_sqlite3() {
    if !have_sqlite3() {
        return;
    }
    for mode in [
        "list", "csv", "column", "box", "table", "markdown", "json", "line", "quote", "tabs",
    ] {
        for headers in ["on", "off"] {
            let m = format!(".mode {mode}");
            let h = format!(".headers {headers}");
            assert_same_stdout(
                &[SETUP, &m, &h, "SELECT * FROM t; SELECT 1 AS one WHERE 0;"],
                None,
            );
        }
    }
}

#[test]
fn values_print_like_sqlite3() {
    if !have_sqlite3() {
        return;
    }
    assert_same_stdout(
        &[
            "SELECT 1.0, 0.1, 1e20, -0.0, 1e-7, 123456789012345678.0, 9223372036854775807, \
           -9223372036854775808, 'text', x'616263', NULL, 1/3.0, 2e308, -2e308;",
        ],
        None,
    );
}

#[test]
fn stdin_scripts_match_sqlite3_including_errors() {
    if !have_sqlite3() {
        return;
    }
    let script = "CREATE TABLE t(a UNIQUE);\n\
                  INSERT INTO t VALUES (1);\n\
                  SELECT * FROM t;\n\
                  SELECT * FROM nosuch;\n\
                  INSERT INTO t VALUES (1);\n\
                  SELECT count(*)\n  FROM t\n  ;\n\
                  .headers on\n\
                  SELECT a AS x FROM t; SELECT 2 AS y;\n\
                  -- a comment\n\
                  SELECT 'unterminated at end'";
    let (ours, theirs) = both(&[], Some(script));
    assert_eq!(text(&ours.stdout), text(&theirs.stdout));
    assert_eq!(text(&ours.stderr), text(&theirs.stderr));
    assert_eq!(ours.status.code(), theirs.status.code());
}

#[test]
fn argument_errors_match_sqlite3() {
    if !have_sqlite3() {
        return;
    }
    for args in [
        vec!["SELECT * FROM nosuch"],
        vec!["CREATE TABLE t(a UNIQUE); INSERT INTO t VALUES (1); INSERT INTO t VALUES (1);"],
        vec!["SELECT 1", "SELECT * FROM nosuch", "SELECT 2"],
    ] {
        let (ours, theirs) = both(&args, None);
        assert_eq!(text(&ours.stdout), text(&theirs.stdout), "{args:?}");
        assert_eq!(text(&ours.stderr), text(&theirs.stderr), "{args:?}");
        assert_eq!(ours.status.code(), theirs.status.code(), "{args:?}");
    }
    // Syntax errors: sqlite3 adds a caret line we cannot place; the first line agrees.
    let (ours, theirs) = both(&["SELEC 1"], None);
    assert_eq!(
        text(&ours.stderr).lines().next(),
        text(&theirs.stderr).lines().next()
    );
    assert_eq!(ours.status.code(), theirs.status.code());
}

#[test]
fn tables_and_schema_match_sqlite3() {
    if !have_sqlite3() {
        return;
    }
    let setup = "CREATE TABLE zeta(a); CREATE TABLE alpha(b INTEGER PRIMARY KEY, c); \
                 CREATE INDEX ia ON alpha(c); CREATE VIEW v1 AS SELECT 1; \
                 CREATE TABLE t1(x UNIQUE); CREATE TABLE t2(y);";
    assert_same_stdout(&[setup, ".tables"], None);
    assert_same_stdout(&[setup, ".tables t%"], None);
    assert_same_stdout(&[setup, ".schema"], None);
    assert_same_stdout(&[setup, ".schema alpha"], None);
    assert_same_stdout(&[setup, ".indexes"], None);
}

#[test]
fn read_and_multiline_input() {
    if !have_sqlite3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script.sql");
    std::fs::write(
        &file,
        "CREATE TABLE t(x);\nINSERT INTO t VALUES\n  (1),\n  (2);\nSELECT sum(x) FROM t;\n",
    )
    .unwrap();
    let read = format!(".read {}", file.display());
    assert_same_stdout(&[], Some(&format!("{read}\nSELECT 'after';\n")));
    // Statements split across lines, a ';' inside a string, a trigger body.
    assert_same_stdout(
        &[],
        Some(
            "CREATE TABLE t(x);\nCREATE TABLE log(m);\n\
             CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  INSERT INTO log VALUES ('a;b');\nEND;\n\
             INSERT INTO t VALUES (1);\nSELECT m\nFROM log;\n",
        ),
    );
}

#[test]
fn a_file_written_by_strata_reads_in_sqlite3() {
    if !have_sqlite3() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let p = path.to_str().unwrap();
    let out = run(
        STRATA,
        &[
            p,
            "CREATE TABLE t(a, b); INSERT INTO t VALUES (1, 'one'), (2, 'two');",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let ours = run(STRATA, &[p, "SELECT * FROM t ORDER BY a"], None);
    let theirs = run(
        SQLITE3,
        &[p, "PRAGMA integrity_check; SELECT * FROM t ORDER BY a"],
        None,
    );
    assert_eq!(text(&theirs.stdout), format!("ok\n{}", text(&ours.stdout)));
}
