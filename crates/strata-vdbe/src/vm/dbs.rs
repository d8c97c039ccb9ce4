//! The connection's databases, numbered as SQLite's `iDb`: 0 is main (the file, through
//! the connection's pager), 1 is temp, 2.. the attached databases in order of
//! attachment (`ATTACH`; `DETACH` closes the gap, as SQLite's
//! sqlite3CollapseDatabaseArray does, and the schema is reloaded).
//!
//! An attached database is a pager of its own over a `Storage` the connection's
//! [`AttachOpener`] hands out (the `strata` crate opens files there the way it opens
//! main's), or over a private `MemoryIo` for `':memory:'` and `''`. Its transactions
//! follow main's: `Transaction { db }` begins them (it may be busy), the statement and
//! transaction ends apply to every database in a transaction, and its statement
//! savepoints and named savepoints mirror main's as temp's do.
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

/// Opens the file an `ATTACH` names (the path as written) as a shared `Storage`, with
/// what keeps the file open (the opening layer's handle: dropped at `DETACH`, so the
/// file is closed, and its lock released, then as in SQLite); set by the layer that opens
/// main's file ([`Connection::set_attach_opener`]).
pub type AttachOpener = Arc<
    dyn Fn(&str) -> Result<(Arc<Storage>, Box<dyn std::any::Any + Send + Sync>), VmError>
        + Send
        + Sync
        + 'static,
>;

/// Gives the IO on which `VACUUM INTO` creates its file (main's, or the disk's for a
/// private in-memory main); set by the layer that opens main's file.
pub type FileIo = Arc<dyn Fn() -> Arc<dyn strata_io::IO> + Send + Sync + 'static>;

/// SQLite's SQLITE_MAX_ATTACHED default.
pub const MAX_ATTACHED: usize = 10;

/// One attached database (`iDb` 2 and up).
pub struct AttachedDb {
    /// The schema name (`AS name`), as written.
    pub name: String,
    /// What `PRAGMA database_list` shows: the file's absolute path, "" in memory.
    pub file: String,
    pub pager: Arc<Pager>,
    /// The opener's handle of the file (see [`AttachOpener`]); declared after `pager`, so
    /// dropped after it: a last handle's close wants this connection's pager gone.
    pub(crate) _keep: Option<Box<dyn std::any::Any + Send + Sync>>,
}

/// A private in-memory database (temp, or an attached `':memory:'`).
fn memory_storage(name: &str) -> Result<Arc<Storage>, VmError> {
    let options = StorageOptions {
        sync_mode: SyncMode::Off,
        ..StorageOptions::default()
    };
    let storage =
        Storage::open(Arc::new(MemoryIo::new()), name, options).map_err(VmError::from_pager)?;
    strata_btree::autovacuum::install(&storage);
    Ok(storage)
}

/// An attached database must have main's text encoding (text is compared and stored in
/// one encoding per connection). A new, empty one takes main's, as SQLite gives an
/// attached database without a header main's encoding when it first writes it: its
/// page 1 is rewritten with it now. Another is refused with SQLite's message. (Found
/// by sql_diff's attach group: a file attached to a UTF-16 main was created UTF-8 and
/// then written in UTF-16, a file SQLite called malformed.)
fn same_encoding(pager: &Arc<Pager>, main_encoding: u32) -> Result<(), VmError> {
    let main_encoding = main_encoding.max(1);
    if pager.text_encoding().max(1) == main_encoding {
        return Ok(());
    }
    let io = pager.io().clone();
    let pager_err = VmError::from_pager;
    let btree = |e: strata_pager::Error| VmError::from_btree(e.into());
    pager.begin_read().map_err(pager_err)?;
    let empty = pager.db_size_pages() <= 1 && {
        let p1 = match strata_io::block_on(io.as_ref(), || pager.get_page(1)) {
            Ok(p) => p,
            Err(e) => {
                pager.end_read();
                return Err(btree(e));
            }
        };
        let cells = strata_pager::header::read_u16(&p1.data(), 103);
        cells == 0
    };
    if !empty {
        pager.end_read();
        return Err(VmError::error(
            "attached databases must use the same text encoding as main database",
        ));
    }
    let adopt = || -> Result<(), VmError> {
        pager.begin_write().map_err(pager_err)?;
        let p1 = strata_io::block_on(io.as_ref(), || pager.get_page(1)).map_err(btree)?;
        pager.mark_dirty(&p1).map_err(pager_err)?;
        strata_pager::header::write_u32(&mut p1.data_mut(), 56, main_encoding);
        drop(p1);
        strata_io::block_on(io.as_ref(), || pager.commit()).map_err(btree)?;
        Ok(())
    };
    let r = adopt();
    if r.is_err() && pager.in_write_tx() {
        let _ = pager.rollback();
    }
    pager.end_read();
    r
}

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
                // `PRAGMA temp.auto_vacuum` can make it an auto-vacuum database too.
                let storage = memory_storage("temp")?;
                let pager = storage.pager();
                *slot = Some(pager.clone());
                self.temp_exists.store(true, Ordering::Release);
                drop(slot);
                // `PRAGMA database_list` lists temp from now on: reload the schema
                // before the next compile (no program expires: nothing changed).
                self.state().schema_changed = true;
                Ok(pager)
            }
            _ => self
                .attached()
                .get(db - 2)
                .map(|a| a.pager.clone())
                .ok_or_else(|| {
                    VmError::new(ErrorCode::Misuse, format!("no database with index {db}"))
                }),
        }
    }

    /// The attached databases, in order (`iDb` 2 and up).
    pub fn attached(&self) -> std::sync::MutexGuard<'_, Vec<AttachedDb>> {
        self.attached.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Installs what opens the files `ATTACH` names.
    pub fn set_attach_opener(&self, opener: Option<AttachOpener>) {
        *self.attach_opener.lock().unwrap_or_else(|p| p.into_inner()) = opener;
    }

    /// Installs where `VACUUM INTO` writes its file (see [`FileIo`]).
    pub fn set_file_io(&self, io: Option<FileIo>) {
        *self.file_io.lock().unwrap_or_else(|p| p.into_inner()) = io;
    }

    /// The IO for `VACUUM INTO`'s file, if files may be written.
    pub(crate) fn file_io(&self) -> Option<Arc<dyn strata_io::IO>> {
        let f = self
            .file_io
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        f.map(|f| f())
    }

    /// Every database besides main that has a pager, with its index: temp (if it was
    /// created), then the attached ones.
    pub fn other_pagers(&self) -> Vec<(usize, Arc<Pager>)> {
        let mut v = Vec::new();
        if let Some(t) = self.temp_pager() {
            v.push((TEMP_DB, t));
        }
        if self.attached_count.load(Ordering::Acquire) > 0 {
            for (i, a) in self.attached().iter().enumerate() {
                v.push((i + 2, a.pager.clone()));
            }
        }
        v
    }

    /// The databases besides main that are in a write transaction.
    pub(crate) fn others_writing(&self) -> Vec<(usize, Arc<Pager>)> {
        let mut v = self.other_pagers();
        v.retain(|(_, p)| p.in_write_tx());
        v
    }

    /// `ATTACH file AS name`: SQLite's checks and messages (attach.c attachFunc).
    pub(crate) fn attach(&self, file: &str, name: &str) -> Result<(), VmError> {
        let mut list = self.attached();
        if list.len() >= MAX_ATTACHED {
            return Err(VmError::error(format!(
                "too many attached databases - max {MAX_ATTACHED}"
            )));
        }
        let in_use = name.eq_ignore_ascii_case("main")
            || name.eq_ignore_ascii_case("temp")
            || list.iter().any(|a| a.name.eq_ignore_ascii_case(name));
        if in_use {
            return Err(VmError::error(format!("database {name} is already in use")));
        }
        let (storage, shown, keep) = if file.is_empty() || file == ":memory:" {
            (memory_storage(name)?, String::new(), None)
        } else {
            let opener = self
                .attach_opener
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .ok_or_else(|| VmError::error("ATTACH of a database file is disabled"))?;
            let (storage, keep) = opener(file)?;
            let shown = storage.path().to_string();
            (storage, shown, Some(keep))
        };
        let pager = storage.pager();
        same_encoding(&pager, self.pager.text_encoding())?;
        list.push(AttachedDb {
            name: name.to_string(),
            file: shown,
            pager,
            _keep: keep,
        });
        self.attached_count.store(list.len(), Ordering::Release);
        drop(list);
        let mut st = self.state();
        st.schema_changed = true;
        st.schema_generation += 1;
        Ok(())
    }

    /// `DETACH name`: SQLite's checks and messages (attach.c detachFunc).
    pub(crate) fn detach(&self, name: &str) -> Result<(), VmError> {
        let mut list = self.attached();
        let Some(i) = list.iter().position(|a| a.name.eq_ignore_ascii_case(name)) else {
            let temp_open = self.temp_exists.load(Ordering::Acquire);
            if name.eq_ignore_ascii_case("main") || (name.eq_ignore_ascii_case("temp") && temp_open)
            {
                return Err(VmError::error(format!("cannot detach database {name}")));
            }
            return Err(VmError::error(format!("no such database: {name}")));
        };
        if list[i].pager.in_read_tx() || list[i].pager.in_write_tx() {
            return Err(VmError::error(format!("database {name} is locked")));
        }
        let gone = list.remove(i);
        self.attached_count.store(list.len(), Ordering::Release);
        drop(list);
        // Closed now (unless another connection has the file attached or open), as
        // SQLite's DETACH closes it: not at some later statement.
        drop(gone);
        let mut st = self.state();
        st.schema_changed = true;
        st.schema_generation += 1;
        Ok(())
    }

    /// Called after temp changes were rolled back (ROLLBACK, ROLLBACK TO, a statement
    /// undone): the cached schema may hold temp objects that no longer exist, or miss
    /// ones that exist again, and temp has no cookie that a main-only program checks.
    /// So the schema is reloaded and this connection's programs are expired, as SQLite
    /// resets its schemas after a rollback that undid schema changes.
    pub(crate) fn temp_undone(&self) {
        if self.temp_pager().is_some() || self.attached_count.load(Ordering::Acquire) > 0 {
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
}

impl Vm {
    /// `Transaction { db }` for temp (1) or an attached database (2..): that database's
    /// part of the statement's transaction. Only this connection uses temp, so it is
    /// never busy; an attached file may be.
    pub(super) fn exec_temp_transaction(
        &mut self,
        db: usize,
        write: bool,
        cookie: u32,
    ) -> Result<Flow, VmError> {
        let pager = self.conn.pager_for(db)?;
        if !self.txn.active {
            let mut st = self.conn.state();
            if st.schema_generation != self.schema_generation {
                return Err(VmError::new(
                    ErrorCode::Schema,
                    "database schema has changed",
                ));
            }
            st.active_statements += 1;
            self.txn.active = true;
        }
        let started_read = !pager.in_read_tx();
        if started_read {
            match pager.begin_read() {
                Ok(()) => {}
                Err(strata_pager::Error::Busy) => return Ok(Flow::Busy),
                Err(e) => return Err(VmError::from_pager(e)),
            }
        }
        if write && !pager.in_write_tx() {
            match pager.begin_write() {
                Ok(()) => {}
                Err(strata_pager::Error::Busy) => {
                    if started_read {
                        pager.end_read();
                    }
                    return Ok(Flow::Busy);
                }
                Err(e) => return Err(VmError::from_pager(e)),
            }
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
        let bit = 1u32 << db;
        if write
            && self.txn.other_savepoints & bit == 0
            && !self.program.no_stmt_journal
            && !self.conn.state().autocommit
        {
            pager.savepoint_begin().map_err(VmError::from_pager)?;
            self.txn.other_savepoints |= bit;
        }
        self.pc += 1;
        Ok(Flow::Continue)
    }
}
