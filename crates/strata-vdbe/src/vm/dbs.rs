//! The connection's databases, numbered as SQLite's `iDb`: 0 is main (the file, through
//! the connection's pager), 1 is temp.
//!
//! The temp database is a database of its own: a `Storage` on a private `MemoryIo`
//! (inline completion, so it never waits on the OS), created by the first instruction
//! that needs it, reachable only from this connection and dropped with it. Its B-trees
//! and its `sqlite_schema` (the SQL layer's `sqlite_temp_schema`) never touch the file.
//!
//! ## Transactions over both
//! Each program runs `Transaction { db }` for every database it uses (main first). Temp
//! begins its read or write transaction there, like main; the statement and transaction
//! ends (commit, rollback, statement savepoints, named savepoints) apply to every pager
//! in a transaction, main first. While temp is in a write transaction its savepoint
//! stack mirrors main's: one savepoint per named savepoint of the connection, then the
//! statement's own. When temp starts writing inside a transaction that already has
//! named savepoints, it opens one (empty) savepoint for each, so ROLLBACK TO undoes the
//! temp changes made since that savepoint too.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use strata_io::{MemoryIo, Poll};
use strata_pager::{Pager, Storage, StorageOptions, SyncMode};

use super::{Connection, Flow, Vm, VmError};
use crate::insn::{ErrorCode, MAIN_DB, TEMP_DB};

impl Connection {
    /// The temp database's pager, if it was created.
    pub fn temp_pager(&self) -> Option<Arc<Pager>> {
        if !self.temp_exists.load(Ordering::Acquire) {
            return None;
        }
        self.temp.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The pager of database `db`, creating the temp database on first use.
    pub fn pager_for(&self, db: usize) -> Result<Arc<Pager>, VmError> {
        match db {
            MAIN_DB => Ok(self.pager.clone()),
            TEMP_DB => {
                let mut slot = self.temp.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(p) = slot.as_ref() {
                    return Ok(p.clone());
                }
                // A fresh in-memory database; durability means nothing for it.
                let options = StorageOptions {
                    sync_mode: SyncMode::Off,
                    ..StorageOptions::default()
                };
                let storage = Storage::open(Arc::new(MemoryIo::new()), "temp", options)
                    .map_err(VmError::from_pager)?;
                // `PRAGMA temp.auto_vacuum` can make it an auto-vacuum database too.
                strata_btree::autovacuum::install(&storage);
                let pager = storage.pager();
                *slot = Some(pager.clone());
                self.temp_exists.store(true, Ordering::Release);
                Ok(pager)
            }
            _ => Err(VmError::new(
                ErrorCode::Misuse,
                format!("no database with index {db}"),
            )),
        }
    }

    /// Called after temp changes were rolled back (ROLLBACK, ROLLBACK TO, a statement
    /// undone): the cached schema may hold temp objects that no longer exist, or miss
    /// ones that exist again, and temp has no cookie that a main-only program checks.
    /// So the schema is reloaded and this connection's programs are expired, as SQLite
    /// resets its schemas after a rollback that undid schema changes.
    pub(crate) fn temp_undone(&self) {
        if self.temp_pager().is_some() {
            let mut st = self.state();
            st.schema_changed = true;
            st.schema_generation += 1;
        }
    }

    /// Closes the temp database (`PRAGMA temp_store` changed): its objects are gone, so
    /// the schema is reloaded and this connection's programs expire. The next use makes
    /// an empty one. The caller checked that temp is in no transaction.
    pub(crate) fn drop_temp(&self) {
        let dropped = {
            let mut slot = self.temp.lock().unwrap_or_else(|p| p.into_inner());
            self.temp_exists.store(false, Ordering::Release);
            slot.take()
        };
        if dropped.is_some() {
            let mut st = self.state();
            st.schema_changed = true;
            st.schema_generation += 1;
        }
    }

    /// The temp pager if it is in a write transaction.
    pub(crate) fn temp_writing(&self) -> Option<Arc<Pager>> {
        self.temp_pager().filter(|p| p.in_write_tx())
    }
}

impl Vm {
    /// `Transaction { db: 1 }`: the temp database's part of the statement's transaction.
    /// Only this connection uses temp, so it is never busy.
    pub(super) fn exec_temp_transaction(
        &mut self,
        write: bool,
        cookie: u32,
    ) -> Result<Flow, VmError> {
        let pager = self.conn.pager_for(TEMP_DB)?;
        if !self.txn.active {
            self.conn.state().active_statements += 1;
            self.txn.active = true;
        }
        if !pager.in_read_tx() {
            pager.begin_read().map_err(VmError::from_pager)?;
        }
        if write && !pager.in_write_tx() {
            pager.begin_write().map_err(VmError::from_pager)?;
            let named = self.conn.state().savepoints.len();
            for _ in 0..named {
                pager.savepoint_begin().map_err(VmError::from_pager)?;
            }
        }
        if write && !self.txn.wrote {
            self.conn.state().write_statements += 1;
            self.txn.wrote = true;
        }
        if let Poll::Pending = super::txn::check_schema_cookie(&pager, cookie)? {
            return Ok(Flow::Io);
        }
        if write
            && !self.txn.temp_savepoint
            && !self.program.no_stmt_journal
            && !self.conn.state().autocommit
        {
            pager.savepoint_begin().map_err(VmError::from_pager)?;
            self.txn.temp_savepoint = true;
        }
        self.pc += 1;
        Ok(Flow::Continue)
    }
}
