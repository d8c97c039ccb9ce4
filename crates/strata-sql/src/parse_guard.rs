//! The one place a panic is caught: around the third-party parser. The `sqlite3-parser`
//! crate documents that it may panic on some malformed inputs, and a bad query (or a
//! damaged schema text) must be an error, never a crash. Only the parser runs under
//! `catch_unwind`: a panic in our own compiler is a bug and must reach the tests, the
//! simulator and the fuzzers as a panic, not turn into an error that looks like a
//! rejected statement.

use std::panic::{catch_unwind, AssertUnwindSafe};

use strata_vdbe::insn::ErrorCode;

use crate::SqlError;

/// Runs `parse` (a call into the parser), turning a panic into the error
/// "parser panicked". The parser is not used again after a panic.
pub(crate) fn guard_parser<T>(parse: impl FnOnce() -> T) -> Result<T, SqlError> {
    catch_unwind(AssertUnwindSafe(parse)).map_err(|_| SqlError {
        code: ErrorCode::Error,
        message: "parser panicked".into(),
        offset: None,
    })
}
