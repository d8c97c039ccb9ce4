//! `strata`: a sqlite3-like shell for Strata databases.
//!
//! ```text
//! strata [OPTIONS] [FILENAME [SQL...]]
//! ```
//! - With SQL arguments, runs each (an argument starting with `.` is a dot command),
//!   printing rows; the first error prints `Error: in prepare, ...` / `Error: stepping,
//!   ...` to stderr and exits with SQLite's result code (as sqlite3 3.40 does).
//! - Else, when stdin is not a terminal, runs the SQL read from it; errors print as
//!   `Parse error near line N: ...` / `Runtime error near line N: ...`, processing goes
//!   on (unless `-bail`), and the exit status is 1 if anything failed.
//! - Else opens a REPL with line editing and history (`~/.strata_history`).
//!
//! Without FILENAME (or with `:memory:`) the database is a new in-memory one.
//! Output defaults to sqlite3's `list` mode; see `.help`.

mod dot;
mod output;
mod repl;
mod shell;

use std::io::{BufWriter, IsTerminal, Write};

use output::Mode;
use shell::{open_connection, Shell};

const USAGE: &str = "\
Usage: strata [OPTIONS] FILENAME [SQL...]
FILENAME is the name of a Strata (SQLite-format) database. A new database is
created if the file does not previously exist. Without FILENAME, or with
:memory:, the database is a transient in-memory one.
OPTIONS include:
   -bail                stop after hitting an error
   -box                 set output mode to 'box'
   -cmd COMMAND         run \"COMMAND\" before reading stdin
   -column              set output mode to 'column'
   -csv                 set output mode to 'csv'
   -header              turn headers on
   -help                show this message
   -json                set output mode to 'json'
   -line                set output mode to 'line'
   -list                set output mode to 'list'
   -markdown            set output mode to 'markdown'
   -noheader            turn headers off
   -nullvalue TEXT      set text string for NULL values. Default ''
   -quote               set output mode to 'quote'
   -separator SEP       set output column separator. Default: '|'
   -table               set output mode to 'table'
   -tabs                set output mode to 'tabs'
   -version             show Strata version
";

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut db_name: Option<String> = None;
    let mut sql_args: Vec<String> = Vec::new();
    let mut cmds: Vec<String> = Vec::new();
    let mut mode: Option<Mode> = None;
    let mut headers: Option<bool> = None;
    let mut bail = false;
    let mut null_value: Option<String> = None;
    let mut separator: Option<String> = None;
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        if a.starts_with('-') && a.len() > 1 {
            let opt = a.trim_start_matches('-');
            let mut value = || -> Option<String> {
                let v = args.get(i).cloned();
                i += 1;
                v
            };
            match opt {
                "bail" => bail = true,
                "header" | "headers" => headers = Some(true),
                "noheader" | "noheaders" => headers = Some(false),
                "version" => {
                    println!("strata {}", env!("CARGO_PKG_VERSION"));
                    return 0;
                }
                "help" => {
                    print!("{USAGE}");
                    return 0;
                }
                "cmd" | "nullvalue" | "separator" => match value() {
                    Some(v) => match opt {
                        "cmd" => cmds.push(v),
                        "nullvalue" => null_value = Some(v),
                        _ => separator = Some(v),
                    },
                    None => {
                        eprintln!("strata: Error: missing argument to {a}");
                        return 1;
                    }
                },
                other => {
                    match Mode::parse(other) {
                        Some(m) => mode = Some(m),
                        None => {
                            eprintln!("strata: Error: unknown option: {a}\nUse -help for a list of options.");
                            return 1;
                        }
                    }
                }
            }
        } else if db_name.is_none() {
            db_name = Some(a.clone());
        } else {
            sql_args.push(a.clone());
        }
    }
    let db_name = db_name.unwrap_or_else(|| ":memory:".to_string());
    let conn = match open_connection(&db_name) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: unable to open database \"{db_name}\": {e}");
            return 1;
        }
    };
    let stdout = std::io::stdout();
    let mut shell = Shell::new(conn, db_name, Box::new(BufWriter::new(stdout)));
    shell.bail = bail;
    if let Some(m) = mode {
        shell.cfg.mode = m;
        if m == Mode::Column && headers.is_none() {
            shell.cfg.headers = true;
        }
    }
    if let Some(h) = headers {
        shell.cfg.headers = h;
        shell.headers_set = true;
    }
    if let Some(n) = null_value {
        shell.cfg.null_value = n;
    }
    if let Some(s) = separator {
        shell.cfg.col_sep = s;
    }

    for c in &cmds {
        if let Some(code) = run_argument(&mut shell, c) {
            return code;
        }
    }
    if !sql_args.is_empty() {
        for a in &sql_args {
            if let Some(code) = run_argument(&mut shell, a) {
                return code;
            }
        }
        let _ = shell.out.flush();
        return 0;
    }

    let stdin = std::io::stdin();
    let code = if stdin.is_terminal() {
        repl::run_interactive(&mut shell)
    } else {
        let mut lines = repl::ReaderLines::new(stdin.lock());
        match repl::process_input(&mut shell, &mut lines, false) {
            repl::InputEnd::Quit(code) => code,
            repl::InputEnd::Eof { errors } => i32::from(errors > 0),
        }
    };
    let _ = shell.out.flush();
    code
}

/// Runs one command-line SQL argument (or dot command). `Some(exit code)` to stop.
fn run_argument(shell: &mut Shell, arg: &str) -> Option<i32> {
    if arg.starts_with('.') {
        let r = dot::run(shell, arg);
        let _ = shell.out.flush();
        return match r {
            dot::DotOutcome::Continue => None,
            dot::DotOutcome::Quit(code) => Some(code),
            dot::DotOutcome::Failed => Some(1),
        };
    }
    match shell.exec(arg, false) {
        Ok(()) => None,
        Err(e) => {
            let _ = shell.out.flush();
            eprintln!("Error: {}", e.message());
            Some(e.code().max(1))
        }
    }
}
