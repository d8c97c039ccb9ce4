//! SQLite parser
use bumpalo::{collections::Vec, Bump};

pub mod ast;
pub mod parse {
    #![expect(unused_braces)]
    #![expect(clippy::absurd_extreme_comparisons)] // FIXME
    #![expect(clippy::needless_return)]
    #![expect(clippy::upper_case_acronyms)]
    #![expect(clippy::manual_range_patterns)]

    include!(concat!(env!("OUT_DIR"), "/parse.rs"));
}
mod stack;

use crate::dialect::Token;
use ast::{Cmd, ExplainKind, Name, Stmt};

/// Parser error
#[derive(Debug, PartialEq)]
pub enum ParserError {
    /// Syntax error
    SyntaxError(String),
    /// Unexpected EOF
    UnexpectedEof,
    /// Custom error
    Custom(String),
}

impl std::fmt::Display for ParserError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Self::SyntaxError(s) => {
                write!(f, "near \"{s}\": syntax error")
            }
            Self::UnexpectedEof => f.write_str("unexpected end of input"),
            Self::Custom(s) => f.write_str(s),
        }
    }
}

impl std::error::Error for ParserError {}

/// Custom error constructor
#[macro_export]
macro_rules! custom_err {
    ($msg:literal $(,)?) => {
        $crate::parser::ParserError::Custom($msg.to_owned())
    };
    ($err:expr $(,)?) => {
        $crate::parser::ParserError::Custom(format!($err))
    };
    ($fmt:expr, $($arg:tt)*) => {
        $crate::parser::ParserError::Custom(format!($fmt, $($arg)*))
    };
}

/// Parser context
pub struct Context<'input> {
    bump: &'input Bump,
    input: &'input [u8],
    explain: Option<ExplainKind>,
    stmt: Option<Stmt<'input>>,
    constraint_name: Option<Name<'input>>,         // transient
    module_arg: Option<(usize, usize)>,            // Complete text of a module argument
    module_args: Option<Vec<'input, &'input str>>, // CREATE VIRTUAL TABLE args
    done: bool,
    error: Option<ParserError>,
    /// SQLite's parameter numbering (sqlite3ExprAssignVarNumber), per statement, in
    /// textual order: the largest number so far and the named parameters seen.
    n_var: usize,
    var_names: std::vec::Vec<(&'input str, usize)>,
}

/// Prefix of a `Variable` whose number the parser assigned (Strata patch): anonymous `?`
/// becomes `"\u{1}N"`, a named parameter `"\u{1}N\u{1}name"`. `?NNN` stays digits.
pub const NUMBERED_VARIABLE: char = '\u{1}';

impl<'input> Context<'input> {
    pub fn new(bump: &'input Bump, input: &'input [u8]) -> Self {
        Context {
            bump,
            input,
            explain: None,
            stmt: None,
            constraint_name: None,
            module_arg: None,
            module_args: None,
            done: false,
            error: None,
            n_var: 0,
            var_names: std::vec::Vec::new(),
        }
    }

    /// Numbers a `VARIABLE` token's text the way SQLite does at parse time: `?` gets the
    /// next number, `?NNN` is NNN (and raises the next), a new name gets the next number
    /// and a repeated name its first one. Returns the text for `Expr::Variable`.
    fn number_variable(&mut self, text: &'input str) -> &'input str {
        if text.is_empty() {
            self.n_var += 1;
            return self
                .bump
                .alloc_str(&format!("{NUMBERED_VARIABLE}{}", self.n_var));
        }
        if text.bytes().all(|c| c.is_ascii_digit()) {
            if let Ok(n) = text.parse::<usize>() {
                self.n_var = self.n_var.max(n);
            }
            return text;
        }
        let n = match self.var_names.iter().find(|(name, _)| *name == text) {
            Some(&(_, n)) => n,
            None => {
                self.n_var += 1;
                self.var_names.push((text, self.n_var));
                self.n_var
            }
        };
        self.bump
            .alloc_str(&format!("{NUMBERED_VARIABLE}{n}{NUMBERED_VARIABLE}{text}"))
    }

    /// Strata patch: the input text between two token offsets with SQLite's whitespace
    /// trimmed at both ends (sqlite3DbSpanDup); comments inside or after stay, as in
    /// SQLite. Empty if the offsets are not a valid UTF-8 range (never for `&str` input).
    pub fn span(&self, start: usize, end: usize) -> &'input str {
        let input: &'input [u8] = self.input;
        let Some(bytes) = input.get(start..end.max(start)) else {
            return "";
        };
        let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
        let first = bytes.iter().position(|b| !is_space(b)).unwrap_or(bytes.len());
        let last = bytes.iter().rposition(|b| !is_space(b)).map_or(first, |i| i + 1);
        std::str::from_utf8(&bytes[first..last]).unwrap_or("")
    }

    pub fn new_vec<T>(&mut self, e: T) -> Vec<'input, T> {
        let mut vec = Vec::new_in(self.bump);
        vec.push(e);
        vec
    }

    /// Consume parsed command
    pub fn cmd(&mut self) -> Option<Cmd<'input>> {
        if let Some(stmt) = self.stmt.take() {
            match self.explain.take() {
                Some(ExplainKind::Explain) => Some(Cmd::Explain(stmt)),
                Some(ExplainKind::QueryPlan) => Some(Cmd::ExplainQueryPlan(stmt)),
                None => Some(Cmd::Stmt(stmt)),
            }
        } else {
            None
        }
    }

    fn constraint_name(&mut self) -> Option<Name<'input>> {
        self.constraint_name.take()
    }
    fn no_constraint_name(&self) -> bool {
        self.constraint_name.is_none()
    }

    fn vtab_arg_init(&mut self) {
        self.add_module_arg();
        self.module_arg = None;
    }
    fn vtab_arg_extend(&mut self, any: Token) {
        if let Some((_, ref mut n)) = self.module_arg {
            *n = any.2;
        } else {
            self.module_arg = Some((any.0, any.2));
        }
    }
    fn add_module_arg(&mut self) {
        if let Some((start, end)) = self.module_arg.take() {
            if let Ok(arg) = std::str::from_utf8(&self.input[start..end]) {
                self.module_args
                    .get_or_insert(Vec::new_in(self.bump))
                    .push(self.bump.alloc_str(arg));
            } // FIXME error handling
        }
    }
    fn module_args(&mut self) -> Option<Vec<'input, &'input str>> {
        self.add_module_arg();
        self.module_args.take()
    }

    /// This routine is called after a single SQL statement has been parsed.
    fn sqlite3_finish_coding(&mut self) {
        self.done = true;
    }

    /// Return `true` if parser completes either successfully or with an error.
    pub fn done(&self) -> bool {
        self.done || self.error.is_some()
    }

    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }

    /// Consume error generated by parser
    pub fn error(&mut self) -> Option<ParserError> {
        self.error.take()
    }

    pub fn reset(&mut self) {
        self.explain = None;
        self.stmt = None;
        self.constraint_name = None;
        self.module_arg = None;
        self.module_args = None;
        self.done = false;
        self.error = None;
        self.n_var = 0;
        self.var_names.clear();
    }
}
