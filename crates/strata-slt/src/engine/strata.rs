//! The engine under test: Strata, through its public API on a fresh in-memory database.

use strata::{Connection, ValueRef};

use super::{Engine, Value};

/// A Strata connection to a new in-memory database (`strata::Database::open_in_memory`).
pub struct StrataEngine {
    conn: Connection,
}

impl StrataEngine {
    pub fn open_in_memory() -> Result<StrataEngine, String> {
        let conn = Connection::open_in_memory().map_err(|e| e.to_string())?;
        Ok(StrataEngine { conn })
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

    fn query(&mut self, sql: &str) -> Result<Vec<Vec<Value>>, String> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| e.to_string())?;
        let ncol = stmt.column_count();
        let mut rows = stmt.query(()).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| e.to_string())? {
            let mut values = Vec::with_capacity(ncol);
            for i in 0..ncol {
                let v = row.get_ref(i).map_err(|e| e.to_string())?;
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
