//! The API's error type.

use std::fmt;

pub use strata_vdbe::insn::ErrorCode;

use crate::value::{FromValueError, Type};

/// Everything that can go wrong, with SQLite's message text.
///
/// [`Error::Sql`] covers what the engine reports (compile errors, constraint violations,
/// busy, I/O, corruption); its `Display` is exactly SQLite's message ("no such table: t",
/// "UNIQUE constraint failed: t.a", "database is locked"). The other variants are the
/// API's own (reading a column as the wrong type, a bad parameter name...), in the
/// spirit of rusqlite's.
///
/// ```
/// use strata::{Error, ErrorCode};
/// let e = Error::new(ErrorCode::Constraint, "UNIQUE constraint failed: t.a");
/// assert_eq!(e.code(), ErrorCode::Constraint);
/// assert_eq!(e.sqlite_code(), 19);
/// assert_eq!(e.to_string(), "UNIQUE constraint failed: t.a");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// An error reported by the SQL engine. `offset`: for a syntax error, the byte offset
    /// in the SQL text where parsing stopped (SQLite's `sqlite3_error_offset`).
    Sql {
        code: ErrorCode,
        message: String,
        offset: Option<usize>,
    },
    /// `query_row` found no row.
    QueryReturnedNoRows,
    /// A column index past the last column.
    InvalidColumnIndex(usize),
    /// A column name that the statement does not return.
    InvalidColumnName(String),
    /// A column value could not be converted to the requested type.
    InvalidColumnType {
        index: usize,
        name: String,
        actual: Type,
    },
    /// An integer column does not fit the requested integer type.
    IntegralValueOutOfRange { index: usize, value: i64 },
    /// A text column holding invalid UTF-8 was read as `String`.
    Utf8 { index: usize },
    /// A named parameter the statement does not have.
    InvalidParameterName(String),
    /// Positional parameters given do not match the statement's parameter count.
    InvalidParameterCount { given: usize, expected: usize },
}

/// SQLite's numeric primary result code for an [`ErrorCode`] (`SQLITE_ERROR` = 1, ...).
pub fn sqlite_code(code: ErrorCode) -> i32 {
    match code {
        ErrorCode::Error => 1,
        ErrorCode::Busy => 5,
        ErrorCode::Io => 10,
        ErrorCode::Corrupt => 11,
        ErrorCode::Schema => 17,
        ErrorCode::TooBig => 18,
        ErrorCode::Constraint => 19,
        ErrorCode::Mismatch => 20,
        ErrorCode::Misuse => 21,
        ErrorCode::Range => 25,
        ErrorCode::Auth => 23,
    }
}

impl Error {
    /// An engine error with `code` and SQLite's `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::Sql {
            code,
            message: message.into(),
            offset: None,
        }
    }

    /// For a syntax error, the byte offset in the SQL text where parsing stopped.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Error::Sql { offset, .. } => *offset,
            _ => None,
        }
    }

    /// The SQLite error class.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Sql { code, .. } => *code,
            Error::QueryReturnedNoRows => ErrorCode::Error,
            Error::InvalidColumnIndex(_)
            | Error::InvalidParameterName(_)
            | Error::InvalidParameterCount { .. } => ErrorCode::Range,
            Error::InvalidColumnName(_) => ErrorCode::Error,
            Error::InvalidColumnType { .. }
            | Error::IntegralValueOutOfRange { .. }
            | Error::Utf8 { .. } => ErrorCode::Mismatch,
        }
    }

    /// SQLite's numeric result code (see [`sqlite_code`]).
    pub fn sqlite_code(&self) -> i32 {
        sqlite_code(self.code())
    }

    /// True for "database is locked".
    pub fn is_busy(&self) -> bool {
        self.code() == ErrorCode::Busy
    }

    pub(crate) fn busy() -> Error {
        Error::new(ErrorCode::Busy, "database is locked")
    }

    pub(crate) fn misuse(message: impl Into<String>) -> Error {
        Error::new(ErrorCode::Misuse, message)
    }

    pub(crate) fn from_conversion(
        e: FromValueError,
        index: usize,
        name: &str,
        actual: Type,
    ) -> Error {
        match e {
            FromValueError::InvalidType => Error::InvalidColumnType {
                index,
                name: name.to_string(),
                actual,
            },
            FromValueError::OutOfRange(value) => Error::IntegralValueOutOfRange { index, value },
            FromValueError::Utf8 => Error::Utf8 { index },
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sql { message, .. } => f.write_str(message),
            Error::QueryReturnedNoRows => f.write_str("Query returned no rows"),
            Error::InvalidColumnIndex(i) => write!(f, "Invalid column index: {i}"),
            Error::InvalidColumnName(n) => write!(f, "Invalid column name: {n}"),
            Error::InvalidColumnType {
                index,
                name,
                actual,
            } => write!(
                f,
                "Invalid column type {actual} at index: {index}, name: {name}"
            ),
            Error::IntegralValueOutOfRange { index, value } => {
                write!(f, "Integer {value} out of range at index {index}")
            }
            Error::Utf8 { index } => write!(f, "Invalid UTF-8 text at index {index}"),
            Error::InvalidParameterName(n) => write!(f, "Invalid parameter name: {n}"),
            Error::InvalidParameterCount { given, expected } => write!(
                f,
                "Wrong number of parameters passed to query. Got {given}, needed {expected}"
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<strata_vdbe::vm::VmError> for Error {
    fn from(e: strata_vdbe::vm::VmError) -> Error {
        let (code, message) = e.into_parts();
        Error::Sql {
            code,
            message,
            offset: None,
        }
    }
}

impl From<strata_sql::SqlError> for Error {
    fn from(e: strata_sql::SqlError) -> Error {
        Error::Sql {
            code: e.code,
            message: e.message,
            offset: e.offset,
        }
    }
}

impl From<strata_pager::Error> for Error {
    fn from(e: strata_pager::Error) -> Error {
        let code = match &e {
            strata_pager::Error::Io(_) => ErrorCode::Io,
            strata_pager::Error::Busy => ErrorCode::Busy,
            strata_pager::Error::Corrupt(_) => ErrorCode::Corrupt,
            strata_pager::Error::Misuse(_) => ErrorCode::Misuse,
            strata_pager::Error::Unsupported(_) => ErrorCode::Error,
        };
        Error::new(code, e.to_string())
    }
}

impl From<strata_io::IoError> for Error {
    fn from(e: strata_io::IoError) -> Error {
        if e.is_locked() {
            Error::busy()
        } else {
            Error::new(ErrorCode::Io, format!("disk I/O error: {e}"))
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
