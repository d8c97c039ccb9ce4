//! Reading input: the interactive REPL (line editing and history via `rustyline`) and
//! non-interactive input (stdin, `.read FILE`), both through [`process_input`].

use std::io::{BufRead, Write};

use crate::dot::{self, DotOutcome};
use crate::shell::Shell;

/// A source of input lines (without their line terminator).
pub trait LineSource {
    /// The next line, or `None` at the end of input. `continuation` is true while a
    /// statement is incomplete (the REPL shows the continuation prompt).
    fn next_line(&mut self, continuation: bool) -> Option<String>;
}

/// Lines of a string (for `.read` and tests).
pub struct StrLines<'a> {
    lines: std::str::Lines<'a>,
}

impl<'a> StrLines<'a> {
    pub fn new(text: &'a str) -> Self {
        StrLines {
            lines: text.lines(),
        }
    }
}

impl LineSource for StrLines<'_> {
    fn next_line(&mut self, _continuation: bool) -> Option<String> {
        self.lines.next().map(|s| s.to_string())
    }
}

/// Lines of a reader (stdin when it is not a terminal). Bytes that are not UTF-8 are
/// replaced (SQL text must be UTF-8 for the parser anyway).
pub struct ReaderLines<R: BufRead> {
    reader: R,
}

impl<R: BufRead> ReaderLines<R> {
    pub fn new(reader: R) -> Self {
        ReaderLines { reader }
    }
}

impl<R: BufRead> LineSource for ReaderLines<R> {
    fn next_line(&mut self, _continuation: bool) -> Option<String> {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => None,
            Ok(_) => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                    if buf.last() == Some(&b'\r') {
                        buf.pop();
                    }
                }
                Some(String::from_utf8_lossy(&buf).into_owned())
            }
        }
    }
}

/// The terminal: prompts, line editing and history.
pub struct Interactive {
    editor: rustyline::DefaultEditor,
    history_path: Option<std::path::PathBuf>,
}

pub const PROMPT: &str = "strata> ";
pub const CONTINUATION_PROMPT: &str = "   ...> ";

impl Interactive {
    pub fn new() -> Option<Interactive> {
        let mut editor = rustyline::DefaultEditor::new().ok()?;
        let history_path =
            std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".strata_history"));
        if let Some(p) = &history_path {
            let _ = editor.load_history(p);
        }
        Some(Interactive {
            editor,
            history_path,
        })
    }
}

impl LineSource for Interactive {
    fn next_line(&mut self, continuation: bool) -> Option<String> {
        let prompt = if continuation {
            CONTINUATION_PROMPT
        } else {
            PROMPT
        };
        loop {
            match self.editor.readline(prompt) {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = self.editor.add_history_entry(line.as_str());
                    }
                    return Some(line);
                }
                // Ctrl-C abandons the current line (as sqlite3), Ctrl-D ends input.
                Err(rustyline::error::ReadlineError::Interrupted) => {
                    if continuation {
                        return Some(String::new());
                    }
                    continue;
                }
                Err(_) => return None,
            }
        }
    }
}

impl Drop for Interactive {
    fn drop(&mut self) {
        if let Some(p) = &self.history_path {
            let _ = self.editor.save_history(p);
        }
    }
}

/// How input processing ended.
#[derive(Debug, PartialEq, Eq)]
pub enum InputEnd {
    /// End of input; `errors` statements or commands failed.
    Eof { errors: usize },
    /// `.quit` / `.exit CODE` (or `.bail on` after an error, with code 1).
    Quit(i32),
}

fn all_whitespace(s: &str) -> bool {
    // sqlite3's _all_whitespace also skips comments; whitespace is what matters here.
    s.trim().is_empty()
}

/// sqlite3's `process_input`: dot commands at the start of a line (when no SQL is
/// pending), SQL accumulated over lines until [`strata::is_complete`], then run.
/// Errors print as `Parse error near line N: ...` / `Runtime error near line N: ...`
/// (without "near line N" when `interactive`).
pub fn process_input(shell: &mut Shell, input: &mut dyn LineSource, interactive: bool) -> InputEnd {
    let mut sql = String::new();
    let mut start_line = 0usize;
    let mut line_no = 0usize;
    let mut errors = 0usize;
    loop {
        let Some(line) = input.next_line(!sql.is_empty()) else {
            break;
        };
        line_no += 1;
        if sql.is_empty() {
            if all_whitespace(&line) {
                continue;
            }
            if line.starts_with('.') {
                match dot::run(shell, &line) {
                    DotOutcome::Continue => {}
                    DotOutcome::Quit(code) => return InputEnd::Quit(code),
                    DotOutcome::Failed => {
                        errors += 1;
                        if shell.bail {
                            return InputEnd::Quit(1);
                        }
                    }
                }
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            start_line = line_no;
            sql.push_str(line.trim_start());
        } else {
            sql.push('\n');
            sql.push_str(&line);
        }
        if strata::is_complete(&sql) {
            if !run_sql(shell, &sql, start_line, interactive) {
                errors += 1;
                if shell.bail {
                    return InputEnd::Quit(1);
                }
            }
            sql.clear();
        }
    }
    // Incomplete SQL at the end of input is run anyway (as sqlite3 does).
    if !all_whitespace(&sql) && !run_sql(shell, &sql, start_line, interactive) {
        errors += 1;
        if shell.bail {
            return InputEnd::Quit(1);
        }
    }
    InputEnd::Eof { errors }
}

fn run_sql(shell: &mut Shell, sql: &str, start_line: usize, interactive: bool) -> bool {
    match shell.exec(sql, true) {
        Ok(()) => true,
        Err(e) => {
            let _ = shell.out.flush();
            if interactive {
                eprintln!("{}: {}", e.kind(), e.detail());
            } else {
                eprintln!("{} near line {}: {}", e.kind(), start_line, e.detail());
            }
            false
        }
    }
}

/// The interactive session: banner, then input until `.quit` or end of input.
pub fn run_interactive(shell: &mut Shell) -> i32 {
    println!(
        "Strata version {}\nEnter \".help\" for usage hints.",
        env!("CARGO_PKG_VERSION")
    );
    if shell.db_name == ":memory:" {
        println!(
            "Connected to a transient in-memory database.\n\
             Use \".open FILENAME\" to reopen on a persistent database."
        );
    }
    let _ = std::io::stdout().flush();
    let Some(mut term) = Interactive::new() else {
        // No usable terminal editor: read plain lines.
        let stdin = std::io::stdin();
        let mut lines = ReaderLines::new(stdin.lock());
        return match process_input(shell, &mut lines, true) {
            InputEnd::Quit(code) => code,
            InputEnd::Eof { .. } => 0,
        };
    };
    match process_input(shell, &mut term, true) {
        InputEnd::Quit(code) => code,
        InputEnd::Eof { .. } => 0,
    }
}
