//! The engine under test: Strata, through its public API on a fresh in-memory database.

use strata::{Connection, ValueRef};

use super::{Engine, QueryError, Value};

/// A Strata connection to a new in-memory database (`strata::Database::open_in_memory`).
pub struct StrataEngine {
    conn: Connection,
}

impl StrataEngine {
    pub fn open_in_memory() -> Result<StrataEngine, String> {
        let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        Ok(StrataEngine { conn })
    }

    /// See [`super::EngineKind::StrataCold`].
    pub fn open_cold() -> Result<StrataEngine, String> {
        let io = std::sync::Arc::new(strata_io::MemoryIo::new_shuffled(0x5eed));
        let db = strata::OpenOptions::new()
            .io(io)
            .page_size(512)
            .cache_size_pages(4)
            .open("cold.db")
            .map_err(|e| e.to_string())?;
        Ok(StrataEngine { conn: db.connect() })
    }
}

impl Engine for StrataEngine {
    fn name(&self) -> &str {
        "strata"
    }

    /// Like `sqlite3_exec`: every `;`-separated statement is stepped to completion in
    /// turn (rows dropped); the first error stops the batch.
    fn execute(&mut self, sql: &str) -> Result<(), String> {
        self.conn.execute_batch(sql).map_err(|e| e.to_string())
    }

    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, QueryError> {
        let mut stmt = self
            .conn
            .prepare(sql)
            .map_err(|e| QueryError::Prepare(e.to_string()))?;
        let ncol = stmt.column_count();
        // Binding (no parameters here) is still part of getting the statement ready.
        let mut rows = stmt
            .query(())
            .map_err(|e| QueryError::Prepare(e.to_string()))?;
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
