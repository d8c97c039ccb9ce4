//! Dot commands (`.tables`, `.schema`, `.mode`, ...).

use std::io::Write;

use strata::Value;

use crate::output::Mode;
use crate::repl;
use crate::shell::{open_connection, ExplainMode, Shell};

/// What a dot command asks the input loop to do.
#[derive(Debug, PartialEq, Eq)]
pub enum DotOutcome {
    Continue,
    /// `.quit` / `.exit [CODE]`.
    Quit(i32),
    /// The command failed; the message has been printed.
    Failed,
}

pub const HELP: &str = "\
.bail on|off             Stop after hitting an error.  Default OFF
.exit ?CODE?             Exit this program with return-code CODE
.explain ?on|off|auto?   Change the EXPLAIN formatting mode.  Default: auto
.headers on|off          Turn display of headers on or off
.help                    Show this message
.indexes ?TABLE?         Show names of indexes
.mode MODE               Set output mode
     MODE is one of:
       box       Tables using unicode box-drawing characters
       csv       Comma-separated values
       column    Output in columns.  (See .width)
       json      Results in a JSON array
       line      One value per line
       list      Values delimited by \"|\"
       markdown  Markdown table format
       quote     Escape answers as for SQL
       table     ASCII-art table
       tabs      Tab-separated values
.nullvalue STRING        Use STRING in place of NULL values
.open FILE               Close existing database and reopen FILE
.print STRING...         Print literal STRING
.quit                    Exit this program
.read FILE               Read input from FILE
.schema ?PATTERN?        Show the CREATE statements matching PATTERN
.separator COL ?ROW?     Change the column and row separators
.tables ?TABLE?          List names of tables matching LIKE pattern TABLE
.timer on|off            Turn SQL timer on or off
";

/// Splits a dot-command line into arguments as sqlite3 does: whitespace-separated,
/// `'...'` taken literally, `"..."` with backslash escapes.
pub fn split_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        let mut arg = String::new();
        if c == '\'' || c == '"' {
            chars.next();
            while let Some(ch) = chars.next() {
                if ch == c {
                    break;
                }
                if c == '"' && ch == '\\' {
                    match chars.next() {
                        Some('n') => arg.push('\n'),
                        Some('t') => arg.push('\t'),
                        Some('r') => arg.push('\r'),
                        Some('\\') => arg.push('\\'),
                        Some('"') => arg.push('"'),
                        Some(o) => {
                            arg.push('\\');
                            arg.push(o);
                        }
                        None => arg.push('\\'),
                    }
                } else {
                    arg.push(ch);
                }
            }
        } else {
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                arg.push(ch);
                chars.next();
            }
        }
        args.push(arg);
    }
    args
}

/// sqlite3's `booleanValue`.
fn boolean(arg: &str) -> Option<bool> {
    match arg.to_ascii_lowercase().as_str() {
        "on" | "yes" | "true" => Some(true),
        "off" | "no" | "false" => Some(false),
        s => s.parse::<i64>().ok().map(|n| n != 0),
    }
}

fn fail(msg: impl std::fmt::Display) -> DotOutcome {
    eprintln!("{msg}");
    DotOutcome::Failed
}

/// Runs one dot-command line (starting with `.`).
pub fn run(shell: &mut Shell, line: &str) -> DotOutcome {
    let args = split_args(line.trim_start().strip_prefix('.').unwrap_or(line));
    let Some(cmd) = args.first().map(|s| s.as_str()) else {
        return DotOutcome::Continue;
    };
    let _ = shell.out.flush();
    let unknown = || {
        fail(format!(
            "Error: unknown command or invalid arguments:  \"{cmd}\". Enter \".help\" for help"
        ))
    };
    match cmd {
        "quit" | "q" => DotOutcome::Quit(0),
        "exit" => DotOutcome::Quit(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(0)),
        "help" => {
            let _ = shell.out.write_all(HELP.as_bytes());
            DotOutcome::Continue
        }
        "headers" | "header" => match args.get(1).and_then(|a| boolean(a)) {
            Some(on) if args.len() == 2 => {
                shell.cfg.headers = on;
                shell.headers_set = true;
                DotOutcome::Continue
            }
            _ => fail("Usage: .headers on|off"),
        },
        "bail" => match args.get(1).and_then(|a| boolean(a)) {
            Some(on) if args.len() == 2 => {
                shell.bail = on;
                DotOutcome::Continue
            }
            _ => fail("Usage: .bail on|off"),
        },
        "timer" => match args.get(1).and_then(|a| boolean(a)) {
            Some(on) if args.len() == 2 => {
                shell.timer = on;
                DotOutcome::Continue
            }
            _ => fail("Usage: .timer on|off"),
        },
        "mode" => mode(shell, &args),
        "nullvalue" => {
            if args.len() != 2 {
                return fail("Usage: .nullvalue STRING");
            }
            shell.cfg.null_value = args[1].clone();
            DotOutcome::Continue
        }
        "separator" => {
            if args.len() < 2 || args.len() > 3 {
                return fail("Usage: .separator COL ?ROW?");
            }
            shell.cfg.col_sep = args[1].clone();
            if let Some(r) = args.get(2) {
                shell.cfg.row_sep = r.clone();
            }
            DotOutcome::Continue
        }
        "print" => {
            let _ = writeln!(shell.out, "{}", args[1..].join(" "));
            DotOutcome::Continue
        }
        "explain" => {
            let setting = match args.get(1).map(|s| s.as_str()) {
                None => ExplainMode::On,
                Some("auto") => ExplainMode::Auto,
                Some(a) => match boolean(a) {
                    Some(true) => ExplainMode::On,
                    Some(false) => ExplainMode::Off,
                    None => return fail("Usage: .explain ?on|off|auto?"),
                },
            };
            match setting {
                ExplainMode::On => {
                    if shell.cfg.mode != Mode::Explain {
                        shell.mode_before_explain = Some(shell.cfg.mode);
                    }
                    shell.cfg.mode = Mode::Explain;
                }
                _ => {
                    if shell.cfg.mode == Mode::Explain {
                        shell.cfg.mode = shell.mode_before_explain.take().unwrap_or(Mode::List);
                    }
                }
            }
            shell.explain = setting;
            DotOutcome::Continue
        }
        "read" => {
            if args.len() != 2 {
                return fail("Usage: .read FILE");
            }
            match std::fs::read(&args[1]) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    let mut lines = repl::StrLines::new(&text);
                    match repl::process_input(shell, &mut lines, false) {
                        repl::InputEnd::Quit(code) => DotOutcome::Quit(code),
                        repl::InputEnd::Eof { errors } if errors > 0 => DotOutcome::Failed,
                        repl::InputEnd::Eof { .. } => DotOutcome::Continue,
                    }
                }
                Err(_) => fail(format!("Error: cannot open \"{}\"", args[1])),
            }
        }
        "open" => {
            let Some(name) = args.iter().skip(1).find(|a| !a.starts_with('-')) else {
                return match open_connection(":memory:") {
                    Ok(c) => {
                        shell.conn = c;
                        shell.db_name = ":memory:".into();
                        DotOutcome::Continue
                    }
                    Err(e) => fail(format!("Error: {e}")),
                };
            };
            match open_connection(name) {
                Ok(c) => {
                    shell.conn = c;
                    shell.db_name = name.clone();
                    DotOutcome::Continue
                }
                Err(e) => fail(format!("Error: unable to open database \"{name}\": {e}")),
            }
        }
        "tables" | "indexes" | "indices" => list_names(shell, cmd, args.get(1).map(|s| s.as_str())),
        "schema" => schema(shell, args.get(1).map(|s| s.as_str())),
        _ => unknown(),
    }
}

fn mode(shell: &mut Shell, args: &[String]) -> DotOutcome {
    let Some(name) = args.get(1) else {
        let _ = writeln!(shell.out, "current output mode: {}", shell.cfg.mode.name());
        return DotOutcome::Continue;
    };
    let Some(m) = Mode::parse(&name.to_ascii_lowercase()) else {
        return fail(
            "Error: mode should be one of: ascii box column csv html insert json line list \
             markdown qbox quote table tabs tcl",
        );
    };
    match m {
        Mode::List => {
            shell.cfg.col_sep = "|".into();
            shell.cfg.row_sep = "\n".into();
        }
        Mode::Column if !shell.headers_set => shell.cfg.headers = true,
        _ => {}
    }
    shell.cfg.mode = m;
    DotOutcome::Continue
}

/// `LIKE` as the shell's queries use it (case-insensitive for ASCII).
fn like(pattern: &str, subject: &str) -> bool {
    strata_vdbe::like::like(pattern.as_bytes(), subject.as_bytes(), None).unwrap_or(false)
}

fn is_internal(name: &str) -> bool {
    like("sqlite_%", name)
}

struct SchemaEntry {
    kind: String,
    name: String,
    tbl_name: String,
    sql: Option<String>,
}

fn schema_entries(shell: &Shell) -> strata::Result<Vec<SchemaEntry>> {
    let rows = shell.query_all("SELECT type, name, tbl_name, sql FROM sqlite_schema")?;
    let text = |v: &Value| match v {
        Value::Null => None,
        v => Some(v.to_string()),
    };
    Ok(rows
        .iter()
        .map(|r| SchemaEntry {
            kind: r.first().and_then(text).unwrap_or_default(),
            name: r.get(1).and_then(text).unwrap_or_default(),
            tbl_name: r.get(2).and_then(text).unwrap_or_default(),
            sql: r.get(3).and_then(text),
        })
        .collect())
}

/// `.tables` / `.indexes`: matching names, sorted, in columns across 80 characters.
fn list_names(shell: &mut Shell, cmd: &str, pattern: Option<&str>) -> DotOutcome {
    let entries = match schema_entries(shell) {
        Ok(e) => e,
        Err(e) => return fail(format!("Error: {e}")),
    };
    let mut names: Vec<String> = if cmd == "tables" {
        entries
            .iter()
            .filter(|e| e.kind == "table" || e.kind == "view")
            .filter(|e| !is_internal(&e.name))
            .filter(|e| pattern.is_none_or(|p| like(p, &e.name)))
            .map(|e| e.name.clone())
            .collect()
    } else {
        entries
            .iter()
            .filter(|e| e.kind == "index")
            .filter(|e| pattern.is_none_or(|p| like(p, &e.tbl_name)))
            .map(|e| e.name.clone())
            .collect()
    };
    names.sort();
    let _ = shell.out.write_all(format_name_columns(&names).as_bytes());
    DotOutcome::Continue
}

/// sqlite3's `.tables` layout: column-major, each name padded to the longest, two
/// spaces between columns, as many columns as fit in 80 characters.
pub fn format_name_columns(names: &[String]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let maxlen = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let ncol = (80 / (maxlen + 2)).max(1);
    let nrow = names.len().div_ceil(ncol);
    let mut s = String::new();
    for i in 0..nrow {
        let mut j = i;
        while j < names.len() {
            if j >= nrow {
                s.push_str("  ");
            }
            let n = &names[j];
            s.push_str(n);
            s.push_str(&" ".repeat(maxlen - n.chars().count()));
            j += nrow;
        }
        s.push('\n');
    }
    s
}

fn needs_quote(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return true,
    }
    !chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn quote_ident(name: &str) -> String {
    if needs_quote(name) {
        format!("\"{}\"", name.replace('"', "\"\""))
    } else {
        name.to_string()
    }
}

/// `.schema`: the `sql` of every object (matching PATTERN by name or table name), in
/// schema order, each followed by `;`. Views get sqlite3's `/* name(columns) */` note.
fn schema(shell: &mut Shell, pattern: Option<&str>) -> DotOutcome {
    let entries = match schema_entries(shell) {
        Ok(e) => e,
        Err(e) => return fail(format!("Error: {e}")),
    };
    let mut text = String::new();
    for e in &entries {
        let Some(sql) = &e.sql else { continue };
        if let Some(p) = pattern {
            if !like(p, &e.name) && !like(p, &e.tbl_name) {
                continue;
            }
        }
        text.push_str(sql);
        if e.kind == "view" {
            if let Ok(stmt) = shell
                .conn
                .prepare(&format!("SELECT * FROM {}", quote_ident(&e.name)))
            {
                let cols: Vec<String> =
                    stmt.column_names().iter().map(|c| quote_ident(c)).collect();
                text.push_str(&format!(
                    "\n/* {}({}) */",
                    quote_ident(&e.name),
                    cols.join(",")
                ));
            }
        }
        text.push_str(";\n");
    }
    let _ = shell.out.write_all(text.as_bytes());
    DotOutcome::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        assert_eq!(split_args("mode csv"), ["mode", "csv"]);
        assert_eq!(
            split_args("  print 'a b'  \"c\\td\" e"),
            ["print", "a b", "c\td", "e"]
        );
    }

    #[test]
    fn name_columns() {
        let names: Vec<String> = ["alpha", "t1", "t2", "t3", "v1", "zeta"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // sqlite3 3.40.1 output for these names.
        assert_eq!(
            format_name_columns(&names),
            "alpha  t1     t2     t3     v1     zeta \n"
        );
        let many: Vec<String> = (0..30).map(|i| format!("table_number_{i:02}")).collect();
        let s = format_name_columns(&many);
        assert_eq!(s.lines().count(), 8);
        assert!(s.starts_with("table_number_00  table_number_08  "));
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_ident("a"), "a");
        assert_eq!(quote_ident("a+1"), "\"a+1\"");
        assert_eq!(quote_ident("'x y'"), "\"'x y'\"");
    }

    #[test]
    fn booleans() {
        assert_eq!(boolean("ON"), Some(true));
        assert_eq!(boolean("0"), Some(false));
        assert_eq!(boolean("maybe"), None);
    }
}
