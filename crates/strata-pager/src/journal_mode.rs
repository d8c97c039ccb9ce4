//! `PRAGMA journal_mode`: a database's mode, and leaving WAL mode so the database file can
//! go, alone, to tools that want a single file.
//!
//! Strata writes only in WAL mode. A rollback-journal database (header bytes 18/19 = 1)
//! stays one while it is only read; its first commit switches it to WAL by committing
//! page 1 with bytes 18/19 = 2 through the WAL (what SQLite's `PRAGMA journal_mode=WAL`
//! writes), so a crash leaves either the untouched rollback-journal file or a WAL database
//! (SQLite, like Strata, reads page 1 through an existing WAL). `PRAGMA journal_mode=WAL`
//! does the same at once.
//!
//! `PRAGMA journal_mode=DELETE` turns a WAL database into a rollback-journal database, as
//! SQLite does: every WAL frame is copied into the database file and the WAL truncated (a
//! `TRUNCATE` checkpoint; other connections' readers make it fail with `Busy`), the WAL
//! file is removed under the write lock, and header bytes 18/19 become 1 (fsynced). The
//! file is then a complete rollback-journal database, and `PRAGMA journal_mode` says
//! `delete`. Strata has no rollback-journal writer: the next commit switches the database
//! back to WAL, as for any rollback-journal file.
//!
//! Crash safety follows SQLite's order (WAL deleted first, then the version bytes): a
//! crash before the WAL is removed leaves a WAL database with a fully checkpointed WAL;
//! after it, a WAL database without a WAL (bytes still 2) or a rollback-journal database
//! (bytes 1). Only bytes 18 and 19 are written, within one sector.

use std::sync::atomic::Ordering;

use strata_io::{Completion, Poll};

use crate::header;
use crate::{CheckpointMode, Error, Pager, Result, Storage, SyncMode, TxState};

/// The journal modes a Strata database can be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JournalMode {
    /// Write-ahead log (header bytes 18/19 = 2): the mode Strata writes in.
    Wal,
    /// Rollback journal (bytes 18/19 = 1): until the next commit switches it to WAL.
    Delete,
}

impl JournalMode {
    /// SQLite's name for the mode (`PRAGMA journal_mode`'s result).
    pub fn name(self) -> &'static str {
        match self {
            JournalMode::Wal => "wal",
            JournalMode::Delete => "delete",
        }
    }
}

/// Progress of a journal-mode switch, kept in the pager so that a call repeated after
/// `Pending` continues where it stopped.
pub(crate) enum ModeSwitch {
    /// To WAL: a write transaction begun to commit page 1 (the commit sets bytes 18/19).
    ToWal,
    /// To WAL: page 1 marked dirty, the commit under way (it may run an automatic
    /// checkpoint after the transaction ended, so nothing before it is repeated).
    ToWalCommit,
    /// To rollback mode: bytes 18/19 = 1 being written into the database file.
    WriteVersion(Completion),
    /// To rollback mode: the database file being fsynced.
    SyncVersion(Completion),
}

impl Storage {
    /// The database's journal mode.
    pub fn journal_mode(&self) -> JournalMode {
        if self.rollback_mode.load(Ordering::Acquire) {
            JournalMode::Delete
        } else {
            JournalMode::Wal
        }
    }
}

impl Pager {
    /// Whether a [`Pager::set_journal_mode`] call returned `Pending` and must be repeated.
    pub fn journal_mode_switching(&self) -> bool {
        self.lock().mode_switch.is_some()
    }

    /// Sets the journal mode (`PRAGMA journal_mode = mode`), returning the mode now in
    /// force. Must be called outside a transaction. `Pending`: drive the IO and call again
    /// with the same argument. `Busy`: other connections are reading or writing.
    pub fn set_journal_mode(&self, mode: JournalMode) -> Result<Poll<JournalMode>> {
        let switching = self.lock().mode_switch.is_some();
        let current = self.storage.journal_mode();
        if !switching {
            if current == mode {
                return Ok(Poll::Ready(mode));
            }
            if self.lock().tx != TxState::None {
                let direction = match mode {
                    JournalMode::Wal => "into",
                    JournalMode::Delete => "out of",
                };
                return Err(Error::Misuse(format!(
                    "cannot change {direction} wal mode from within a transaction"
                )));
            }
            if mode == JournalMode::Wal {
                return self.switch_to_wal();
            }
            strata_io::ready!(self.start_rollback_mode());
        } else if matches!(
            self.lock().mode_switch,
            Some(ModeSwitch::ToWal | ModeSwitch::ToWalCommit)
        ) {
            return self.switch_to_wal();
        }
        self.finish_rollback_mode()
            .map(|p| p.map(|()| JournalMode::Delete))
    }

    /// Commits page 1 unchanged in a write transaction: the commit of a rollback-journal
    /// database sets bytes 18/19 = 2 ([`Pager::commit`]).
    fn switch_to_wal(&self) -> Result<Poll<JournalMode>> {
        let result = (|| {
            if self.lock().mode_switch.is_none() {
                self.begin_write()?;
                self.lock().mode_switch = Some(ModeSwitch::ToWal);
            }
            if matches!(self.lock().mode_switch, Some(ModeSwitch::ToWal)) {
                let page1 = strata_io::ready!(self.get_page(1));
                self.mark_dirty(&page1)?;
                self.lock().mode_switch = Some(ModeSwitch::ToWalCommit);
            }
            strata_io::ready!(self.commit());
            Ok(Poll::Ready(JournalMode::Wal))
        })();
        match result {
            Ok(Poll::Pending) => Ok(Poll::Pending),
            Ok(Poll::Ready(mode)) => {
                self.lock().mode_switch = None;
                Ok(Poll::Ready(mode))
            }
            Err(e) => {
                self.lock().mode_switch = None;
                let _ = self.rollback();
                Err(e)
            }
        }
    }

    /// Checkpoints everything, takes the write lock, removes the WAL and submits the
    /// version bytes' write. `Pending` until the checkpoint is done.
    fn start_rollback_mode(&self) -> Result<Poll<()>> {
        let result = strata_io::ready!(self.checkpoint(CheckpointMode::Truncate));
        if result.busy {
            return Err(Error::Busy);
        }
        // The write lock keeps every other connection from appending to the WAL while it
        // is removed (and for good, once the storage is in rollback mode).
        if let Err(e) = self.begin_write() {
            let _ = self.rollback();
            return Err(e);
        }
        let wal = &self.storage.wal;
        if wal.backfilled_frames() != wal.max_frame() {
            // A commit slipped in between the checkpoint and the lock: try again later.
            // (With every frame backfilled, readers read only the database file.)
            let _ = self.rollback();
            return Err(Error::Busy);
        }
        if let Err(e) = wal.remove_file() {
            let _ = self.rollback();
            return Err(e.into());
        }
        // The next commit writes page 1 with bytes 18/19 = 2 into a new WAL.
        self.storage.rollback_mode.store(true, Ordering::Release);
        let c = Completion::write(vec![1, 1]);
        if let Err(e) = self
            .storage
            .db_file
            .pwrite(header::OFFSET_WRITE_VERSION as u64, &c)
        {
            let _ = self.rollback();
            return Err(e.into());
        }
        self.lock().mode_switch = Some(ModeSwitch::WriteVersion(c));
        Ok(Poll::Ready(()))
    }

    /// Waits for the version bytes and their fsync, then releases the write lock.
    fn finish_rollback_mode(&self) -> Result<Poll<()>> {
        loop {
            let mut inner = self.lock();
            let (c, writing) = match &inner.mode_switch {
                Some(ModeSwitch::WriteVersion(c)) => (c.clone(), true),
                Some(ModeSwitch::SyncVersion(c)) => (c.clone(), false),
                Some(ModeSwitch::ToWal | ModeSwitch::ToWalCommit) | None => {
                    return Ok(Poll::Ready(()))
                }
            };
            let outcome = match c.result() {
                None => return Ok(Poll::Pending),
                Some(r) => r,
            };
            if let Err(e) = outcome {
                inner.mode_switch = None;
                drop(inner);
                let _ = self.rollback();
                return Err(Error::Io(e));
            }
            if writing && self.storage.options.sync_mode != SyncMode::Off {
                let sync = Completion::sync();
                inner.mode_switch = Some(ModeSwitch::SyncVersion(sync.clone()));
                drop(inner);
                if let Err(e) = self.storage.db_file.sync(&sync) {
                    self.lock().mode_switch = None;
                    let _ = self.rollback();
                    return Err(e.into());
                }
                continue;
            }
            inner.mode_switch = None;
            drop(inner);
            // No page changed: this only releases the write lock.
            self.rollback()?;
            return Ok(Poll::Ready(()));
        }
    }
}
