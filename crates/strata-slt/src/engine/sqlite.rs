//! The reference engine: SQLite itself, through rusqlite's bundled build.
//!
//! Running the corpus against SQLite is the runner's self-check: SQLite's own
//! harness passes all but one record of it, so any other failure here is a bug
//! in this runner (parsing, rendering, sorting, hashing), not in the engine.

use rusqlite::types::ValueRef;
use rusqlite::{Batch, Connection};

use super::{Engine, QueryError, Value};

/// Test files repeat the same query text (for example the same SELECT under
/// several `skipif`/`onlyif` variants, or re-run after updates), so keep a few
/// dozen compiled statements around. Most statements are unique INSERTs, so a
/// large cache would only cost memory.
const STATEMENT_CACHE_CAPACITY: usize = 64;

/// An SQLite connection to a fresh in-memory database.
pub struct SqliteEngine {
    conn: Connection,
}

impl SqliteEngine {
    pub fn open_in_memory() -> Result<SqliteEngine, String> {
        let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        Ok(SqliteEngine { conn })
    }
}

impl Engine for SqliteEngine {
    fn name(&self) -> &str {
        "sqlite"
    }

    /// Behaves like `sqlite3_exec`, which SQLite's harness uses for
    /// statements: every `;`-separated statement is run to completion in turn
    /// (rows, if any, are stepped through and dropped) and the first error
    /// stops the batch. rusqlite's `execute_batch` only steps each statement
    /// once, which would hide errors raised on later rows.
    fn execute(&mut self, sql: &str) -> Result<(), String> {
        let mut batch = Batch::new(&self.conn, sql);
        while let Some(mut stmt) = batch.next().map_err(|e| e.to_string())? {
            let mut rows = stmt.raw_query();
            while rows.next().map_err(|e| e.to_string())?.is_some() {}
        }
        Ok(())
    }

    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, QueryError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| QueryError::Prepare(e.to_string()))?;
        let ncol = stmt.column_count();
        let mut rows = stmt.raw_query();
        let mut out = Vec::new();
        let run = |e: &dyn std::fmt::Display| QueryError::Run(e.to_string());
        while let Some(row) = rows.next().map_err(|e| run(&e))? {
            let mut values = Vec::with_capacity(ncol);
            for i in 0..ncol {
                let v = row.get_ref(i).map_err(|e| run(&e))?;
                values.push(match v {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Integer(i),
                    ValueRef::Real(r) => Value::Real(r),
                    ValueRef::Text(t) => Value::Text(t.to_vec()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(values);
        }
        Ok(out)
    }
}
