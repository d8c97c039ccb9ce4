//! # strata-sql: SQL text to programs
//!
//! INTERFACE SKETCH (being implemented).

use strata_vdbe::insn::ErrorCode;
use strata_vdbe::program::Program;

/// The schema query the API runs (with [`Schema::bootstrap`]) to load a schema.
pub const SCHEMA_QUERY: &str = "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema";

/// One row of `sqlite_schema`.
#[derive(Clone, Debug)]
pub struct SchemaRow {
    pub kind: String,
    pub name: String,
    pub tbl_name: String,
    pub root_page: i64,
    pub sql: Option<String>,
}

/// The database schema as the compiler sees it.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub cookie: u32,
}

impl Schema {
    /// The schema every database starts with: just `sqlite_schema` on page 1.
    pub fn bootstrap() -> Schema {
        todo!()
    }
    /// Builds the schema from the rows of [`SCHEMA_QUERY`] and the schema cookie.
    pub fn from_rows(rows: Vec<SchemaRow>, cookie: u32) -> Result<Schema, SqlError> {
        let _ = (rows, cookie);
        todo!()
    }
}

/// A compile error, with SQLite's message text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqlError {
    pub code: ErrorCode,
    pub message: String,
}

/// A compiled statement and where the next statement of the text starts.
pub struct Prepared {
    pub program: Program,
    /// Byte offset in the input just past this statement (and its `;`).
    pub tail: usize,
}

/// Compiles the first statement of `sql`. `Ok(None)` if `sql` holds no statement (only
/// whitespace, comments or `;`).
pub fn prepare(schema: &Schema, sql: &str) -> Result<Option<Prepared>, SqlError> {
    let _ = (schema, sql);
    todo!()
}
