//! Closing a WAL database as SQLite does when its last connection closes: checkpoint every
//! frame into the database file, then delete the WAL, so a closed database is one file
//! (`sqlite3WalClose`: a checkpoint under the exclusive lock, then the WAL is deleted
//! unless `SQLITE_FCNTL_PERSIST_WAL`). Strata holds the database file's lock for as long
//! as the [`Storage`] lives, so when nothing but the caller holds the `Storage` no other
//! connection (of this or another process) can be reading or writing the WAL.
//!
//! A failure anywhere leaves the WAL in place: the next open recovers from it, as after a
//! crash. That is also what happens when the process dies after a power loss (the
//! simulator drops a crashed process's handles, whose I/O then fails): the close never
//! deletes a WAL whose frames it could not copy and sync.

use std::sync::Arc;

use strata_wal::CheckpointMode;

use crate::{JournalMode, Result, Storage};

impl Storage {
    /// Checkpoints the whole WAL into the database file (TRUNCATE mode: copied, synced,
    /// the WAL emptied) and deletes the WAL file. Only when `self` is the last reference
    /// to this storage (else nothing is done: another holder may still use the WAL) and
    /// the database is in WAL mode. Blocks on the IO backend until done.
    ///
    /// `Ok(true)`: the WAL is gone; `Ok(false)`: nothing to do, or a reader or writer
    /// prevented a complete checkpoint, or I/O of an abandoned operation is still in
    /// flight (the WAL stays); an error: an I/O error (the WAL stays, complete, for the
    /// next open to recover).
    pub fn checkpoint_and_remove_wal(self: &Arc<Self>) -> Result<bool> {
        if Arc::strong_count(self) != 1 || self.journal_mode() != JournalMode::Wal {
            return Ok(false);
        }
        // I/O an abandoned operation left in flight: the checkpoint would wait for it,
        // and after a power loss (the simulator's dead handles) it never completes.
        if self.wal.orphaned_io_in_flight() {
            return Ok(false);
        }
        let wal_path = format!("{}-wal", self.path());
        if !self.io.file_exists(&wal_path)? {
            return Ok(false);
        }
        let pager = self.pager();
        let result = strata_io::block_on(self.io.as_ref(), || {
            pager.checkpoint(CheckpointMode::Truncate)
        });
        drop(pager);
        let result = result?;
        if result.busy || result.checkpointed_frames < result.wal_frames {
            return Ok(false);
        }
        self.io.remove_file(&wal_path)?;
        Ok(true)
    }
}
