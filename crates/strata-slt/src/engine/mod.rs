//! The engine abstraction: what the runner needs from an SQL engine.
//!
//! An engine executes statements and returns query rows as [`Value`]s; all
//! rendering (type coercion, number formatting, sorting, hashing) happens in the
//! runner, so every engine is judged by the same rules.
//!
//! Adding an engine is one file: write `src/engine/<name>.rs` with a type
//! implementing [`Engine`], declare it below with `mod <name>;`, and replace the
//! error arm for its [`EngineKind`] in [`EngineKind::connect`] with a constructor
//! call.

mod sqlite;
mod strata;

pub use self::strata::StrataEngine;
pub use sqlite::SqliteEngine;

use std::fmt;

/// One value of a query result, as the engine returned it (before rendering).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

/// An SQL engine under test. One engine instance serves one test file: the
/// runner creates a fresh one per file so files cannot leak state into each
/// other.
pub trait Engine {
    /// A human-readable engine name for messages (not the name matched by
    /// `skipif`/`onlyif`: every engine runs records as `sqlite`).
    fn name(&self) -> &str;
    /// Runs one `statement` record's SQL (possibly several `;`-separated
    /// statements), discarding any rows.
    fn execute(&mut self, sql: &str) -> Result<(), String>;
    /// Runs one `query` record's SQL and returns its rows; an error says whether the
    /// statement failed to compile or failed while running.
    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, QueryError>;
}

/// A failed query. The corpus README lets a query that fails *while executing* pass
/// against an empty expected result (SQLite's harness stops reading rows at a step
/// error); one that does not compile (a syntax error, an unknown table, an unsupported
/// feature reported by `prepare`) never passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryError {
    /// `prepare` (or binding) refused the statement.
    Prepare(String),
    /// A step failed after the statement compiled.
    Run(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Prepare(m) => write!(f, "{m} (while preparing)"),
            QueryError::Run(m) => write!(f, "{m} (while running)"),
        }
    }
}

/// The engines the command line can select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    Sqlite,
    Strata,
    /// Strata on IO that completes nothing inline, in a seeded shuffled order, with
    /// 512-byte pages and a 4-page cache: nearly every page access of every statement
    /// waits for a read (or a spill), so each resumable operation is interrupted
    /// everywhere it can be. Same answers required.
    StrataCold,
}

/// An engine that could not be started. The CLI exits with status 2 on this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineUnavailable(pub String);

impl fmt::Display for EngineUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EngineUnavailable {}

impl EngineKind {
    /// Parses a `--engine` argument.
    pub fn parse(name: &str) -> Option<EngineKind> {
        match name {
            "sqlite" => Some(EngineKind::Sqlite),
            "strata" => Some(EngineKind::Strata),
            "strata-cold" => Some(EngineKind::StrataCold),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Sqlite => "sqlite",
            EngineKind::Strata => "strata",
            EngineKind::StrataCold => "strata-cold",
        }
    }

    /// Checks, before any file runs, that this engine can be created at all, so
    /// the CLI can fail once with a clear message instead of once per file.
    pub fn check_available(self) -> Result<(), EngineUnavailable> {
        self.connect().map(|_| ())
    }

    /// Creates a fresh engine instance with an empty database.
    pub fn connect(self) -> Result<Box<dyn Engine>, EngineUnavailable> {
        match self {
            EngineKind::Sqlite => SqliteEngine::open_in_memory()
                .map(|e| Box::new(e) as Box<dyn Engine>)
                .map_err(EngineUnavailable),
            EngineKind::Strata => StrataEngine::open_in_memory()
                .map(|e| Box::new(e) as Box<dyn Engine>)
                .map_err(EngineUnavailable),
            EngineKind::StrataCold => StrataEngine::open_cold()
                .map(|e| Box::new(e) as Box<dyn Engine>)
                .map_err(EngineUnavailable),
        }
    }
}
