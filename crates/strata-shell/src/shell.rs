//! Shell state and running SQL text.

use std::io::{self, Write};
use std::time::Instant;

use strata::{Connection, StepResult, Value};

use crate::output::{self, Mode, OutputConfig};

/// `.explain` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainMode {
    /// EXPLAIN statements get the EXPLAIN layout (the default).
    Auto,
    /// Everything is printed in the EXPLAIN layout.
    On,
    /// EXPLAIN statements print in the current mode.
    Off,
}

/// Why running SQL text failed: at compile time or while stepping (sqlite3 reports
/// these as "Parse error" and "Runtime error").
#[derive(Debug)]
pub enum ExecError {
    Prepare(strata::Error),
    Step(strata::Error),
}

impl ExecError {
    fn error(&self) -> &strata::Error {
        match self {
            ExecError::Prepare(e) | ExecError::Step(e) => e,
        }
    }

    /// The message without its phase, with sqlite3's " (code)" suffix for codes > 1.
    pub fn detail(&self) -> String {
        let e = self.error();
        let code = e.sqlite_code();
        if code > 1 {
            format!("{e} ({code})")
        } else {
            e.to_string()
        }
    }

    /// sqlite3's `save_err_msg` text: "in prepare, ..." or "stepping, ...".
    pub fn message(&self) -> String {
        match self {
            ExecError::Prepare(_) => format!("in prepare, {}", self.detail()),
            ExecError::Step(_) => format!("stepping, {}", self.detail()),
        }
    }

    /// "Parse error" or "Runtime error".
    pub fn kind(&self) -> &'static str {
        match self {
            ExecError::Prepare(_) => "Parse error",
            ExecError::Step(_) => "Runtime error",
        }
    }

    /// SQLite's numeric result code (the shell's exit status in the argument form).
    pub fn code(&self) -> i32 {
        self.error().sqlite_code()
    }
}

/// The shell: a connection and the output settings.
pub struct Shell {
    pub conn: Connection,
    /// The file name given on the command line (":memory:" for none).
    pub db_name: String,
    pub cfg: OutputConfig,
    /// Set once `.headers` was given, so `.mode column` no longer turns headers on.
    pub headers_set: bool,
    pub explain: ExplainMode,
    /// The mode to restore on `.explain off`.
    pub mode_before_explain: Option<Mode>,
    pub timer: bool,
    pub bail: bool,
    pub out: Box<dyn Write>,
}

/// Opens `name` (":memory:" or empty = a new in-memory database).
pub fn open_connection(name: &str) -> strata::Result<Connection> {
    if name.is_empty() || name == ":memory:" {
        Connection::open_in_memory()
    } else {
        Connection::open(name)
    }
}

impl Shell {
    pub fn new(conn: Connection, db_name: String, out: Box<dyn Write>) -> Shell {
        Shell {
            conn,
            db_name,
            cfg: OutputConfig::default(),
            headers_set: false,
            explain: ExplainMode::Auto,
            mode_before_explain: None,
            timer: false,
            bail: false,
            out,
        }
    }

    /// Runs every statement of `sql`, printing rows, stopping at the first error (like
    /// sqlite3's `shell_exec`). With `timed`, prints a "Run Time" line per statement when
    /// `.timer` is on.
    pub fn exec(&mut self, sql: &str, timed: bool) -> Result<(), ExecError> {
        let mut rest = sql;
        loop {
            let (mut stmt, tail) = match self.conn.prepare_with_tail(rest) {
                Ok(Some(x)) => x,
                Ok(None) => return Ok(()),
                Err(e) => return Err(ExecError::Prepare(e)),
            };
            let started = (timed && self.timer).then(Timer::start);
            let names: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
            let kind = explain_kind(stmt.sql());
            let mut rows: Vec<Vec<Value>> = Vec::new();
            let mut failed = None;
            loop {
                match stmt.step_blocking() {
                    Ok(StepResult::Row) => rows.push(stmt.row().values()),
                    Ok(_) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            drop(stmt);
            self.print_rows(kind, &names, &rows);
            if let Some(t) = started {
                t.report(&mut self.out);
            }
            let _ = self.out.flush();
            if let Some(e) = failed {
                return Err(ExecError::Step(e));
            }
            rest = &rest[tail..];
        }
    }

    fn print_rows(&mut self, kind: ExplainKind, names: &[String], rows: &[Vec<Value>]) {
        if kind == ExplainKind::QueryPlan && self.explain != ExplainMode::Off {
            let _ = print_query_plan(&mut self.out, rows);
            return;
        }
        let mut cfg = self.cfg.clone();
        if kind == ExplainKind::Explain && self.explain == ExplainMode::Auto {
            cfg.mode = Mode::Explain;
        }
        let _ = output::print_result(&mut self.out, &cfg, names, rows);
    }

    /// Runs a query for the shell's own use (dot commands), returning all rows.
    pub fn query_all(&self, sql: &str) -> strata::Result<Vec<Vec<Value>>> {
        let mut stmt = self.conn.prepare(sql)?;
        let mut rows = stmt.query(())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(row.values());
        }
        Ok(out)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExplainKind {
    None,
    Explain,
    QueryPlan,
}

fn explain_kind(sql: &str) -> ExplainKind {
    let mut words = sql
        .trim_start()
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty());
    match words.next() {
        Some(w) if w.eq_ignore_ascii_case("explain") => {
            let a = words.next().unwrap_or("");
            let b = words.next().unwrap_or("");
            if a.eq_ignore_ascii_case("query") && b.eq_ignore_ascii_case("plan") {
                ExplainKind::QueryPlan
            } else {
                ExplainKind::Explain
            }
        }
        _ => ExplainKind::None,
    }
}

/// sqlite3's `eqp_render`: rows of (id, parent, notused, detail) as a tree.
fn print_query_plan(out: &mut dyn Write, rows: &[Vec<Value>]) -> io::Result<()> {
    let nodes: Vec<(i64, i64, String)> = rows
        .iter()
        .map(|r| {
            let int = |i: usize| r.get(i).and_then(|v| v.as_i64()).unwrap_or(0);
            let detail = r.get(3).map(|v| v.to_string()).unwrap_or_default();
            (int(0), int(1), detail)
        })
        .collect();
    fn render(
        out: &mut dyn Write,
        nodes: &[(i64, i64, String)],
        parent: i64,
        prefix: &str,
    ) -> io::Result<()> {
        let children: Vec<&(i64, i64, String)> = nodes.iter().filter(|n| n.1 == parent).collect();
        for (k, (id, _, detail)) in children.iter().enumerate() {
            let last = k + 1 == children.len();
            writeln!(out, "{prefix}{}{detail}", if last { "`--" } else { "|--" })?;
            if *id != parent {
                let p = format!("{prefix}{}", if last { "   " } else { "|  " });
                render(out, nodes, *id, &p)?;
            }
        }
        Ok(())
    }
    writeln!(out, "QUERY PLAN")?;
    render(out, &nodes, 0, "")
}

/// `.timer` measurement: wall clock plus user and system CPU time.
pub struct Timer {
    wall: Instant,
    cpu: (f64, f64),
}

fn cpu_times() -> (f64, f64) {
    // SAFETY: getrusage fills the struct we pass; a zeroed rusage is a valid value.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut ru) != 0 {
            return (0.0, 0.0);
        }
        let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        (t(ru.ru_utime), t(ru.ru_stime))
    }
}

impl Timer {
    pub fn start() -> Timer {
        Timer {
            wall: Instant::now(),
            cpu: cpu_times(),
        }
    }

    pub fn report(&self, out: &mut dyn Write) {
        let (u, s) = cpu_times();
        let _ = writeln!(
            out,
            "Run Time: real {:.3} user {:.6} sys {:.6}",
            self.wall.elapsed().as_secs_f64(),
            u - self.cpu.0,
            s - self.cpu.1
        );
    }
}
