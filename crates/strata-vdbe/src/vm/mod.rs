//! The virtual machine: runs a [`Program`] against a connection's pager.
//!
//! INTERFACE SKETCH (bodies are being implemented; signatures are the contract the SQL
//! compiler and the public API build on).

use std::sync::{Arc, Mutex};

use strata_btree::record::Value;
use strata_pager::Pager;

use crate::insn::ErrorCode;
use crate::program::Program;

/// What one `step()` produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepResult {
    /// A result row is ready: read it with [`Vm::row`].
    Row,
    /// The statement finished.
    Done,
    /// I/O is in flight: drive the IO (`IO::run_once`) or do other work, then step again.
    Io,
    /// Another connection holds a lock: step again later (nothing was changed).
    Busy,
}

/// A statement failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmError {
    pub code: ErrorCode,
    pub message: String,
}

impl std::fmt::Display for VmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VmError {}

/// Per-connection state shared by all statements of one connection.
#[derive(Debug)]
pub struct ConnState {
    pub autocommit: bool,
    pub last_insert_rowid: i64,
    pub changes: i64,
    pub total_changes: i64,
    pub schema_changed: bool,
    pub case_sensitive_like: bool,
}

/// The VM's view of a connection: its pager and shared state.
pub struct Connection {
    pager: Arc<Pager>,
    state: Mutex<ConnState>,
}

impl Connection {
    pub fn new(pager: Arc<Pager>) -> Arc<Connection> {
        Arc::new(Connection {
            pager,
            state: Mutex::new(ConnState {
                autocommit: true,
                last_insert_rowid: 0,
                changes: 0,
                total_changes: 0,
                schema_changed: false,
                case_sensitive_like: false,
            }),
        })
    }
    pub fn pager(&self) -> &Arc<Pager> {
        &self.pager
    }
    pub fn state(&self) -> std::sync::MutexGuard<'_, ConnState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One execution of a program.
pub struct Vm {
    program: Arc<Program>,
    conn: Arc<Connection>,
}

impl Vm {
    pub fn new(program: Arc<Program>, conn: Arc<Connection>) -> Vm {
        Vm { program, conn }
    }
    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }
    /// Binds parameter `index` (1-based).
    pub fn bind(&mut self, index: usize, value: Value) -> Result<(), VmError> {
        let _ = (index, value, &self.conn);
        todo!()
    }
    pub fn clear_bindings(&mut self) {
        todo!()
    }
    pub fn step(&mut self) -> Result<StepResult, VmError> {
        todo!()
    }
    /// The current row (after `StepResult::Row`).
    pub fn row(&self) -> &[Value] {
        todo!()
    }
    /// Back to the start; bindings are kept.
    pub fn reset(&mut self) {
        todo!()
    }
}
