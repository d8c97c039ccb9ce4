//! The B-tree layer's error type.

use std::fmt;

use strata_io::IoError;

use crate::record::RecordError;

/// Errors of B-tree operations.
#[derive(Debug, Clone)]
pub enum Error {
    /// The IO failed.
    Io(IoError),
    /// Another connection holds a conflicting lock (SQLite's `SQLITE_BUSY`).
    Busy,
    /// The database file is damaged: a page, cell, record or chain is malformed.
    Corrupt(String),
    /// The caller broke the API's rules (e.g. wrote outside a write transaction, asked a
    /// table cursor for an index operation).
    Misuse(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "disk I/O error: {e}"),
            Error::Busy => f.write_str("database is locked"),
            Error::Corrupt(m) => write!(f, "database disk image is malformed: {m}"),
            Error::Misuse(m) => write!(f, "bad use of the B-tree: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<IoError> for Error {
    fn from(e: IoError) -> Self {
        if e.is_locked() {
            Error::Busy
        } else {
            Error::Io(e)
        }
    }
}

impl From<strata_pager::Error> for Error {
    fn from(e: strata_pager::Error) -> Self {
        match e {
            strata_pager::Error::Io(e) => Error::Io(e),
            strata_pager::Error::Busy => Error::Busy,
            strata_pager::Error::Corrupt(m) => Error::Corrupt(m),
            strata_pager::Error::Misuse(m) => Error::Misuse(m),
            strata_pager::Error::Unsupported(m) => {
                Error::Misuse(format!("unsupported database: {m}"))
            }
        }
    }
}

/// A record that cannot be decoded is damaged data on disk.
impl From<RecordError> for Error {
    fn from(e: RecordError) -> Self {
        Error::Corrupt(e.0)
    }
}

/// Builds a [`Error::Corrupt`]; cold because it only runs on damaged files.
#[cold]
pub(crate) fn corrupt(msg: impl Into<String>) -> Error {
    Error::Corrupt(msg.into())
}
