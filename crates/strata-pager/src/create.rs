//! Creating a new database: writing page 1 into an empty file so that no power loss can
//! leave a file that never opens again.
//!
//! Page 1 is written into an empty file and fsynced. A power loss between the write and
//! the fsync can tear it: each 512-byte sector old (zeros), new, or garbage. A page of
//! zeros is recognised at open, but garbage makes "file is not a database" forever (found
//! by the simulator once opens met faults). And when the fsync fails, the page is in the
//! OS's cache but not on disk: a reopen would trust it, commits would go to a WAL beside
//! it, and a later power loss could take page 1 and, with it, acknowledged commits.
//!
//! So the first write is protected as SQLite protects every write in rollback mode:
//! 1. A rollback journal (`<db>-journal`, SQLite's format, module [`crate::journal`]) whose
//!    only header records an original database size of 0 pages and no page records is
//!    written and fsynced.
//! 2. Page 1 is written and fsynced.
//! 3. The journal is truncated to 0 bytes, fsynced, and deleted. (An empty journal is
//!    cold, so a deletion lost with an unsynced directory leaves nothing to roll back.)
//!
//! A power loss or I/O error anywhere before 3 leaves a hot journal beside a non-empty
//! file, or any journal beside an empty one. The next open (ours or sqlite3's:
//! `hasHotJournal`, `pager_playback`) rolls a hot journal back, which truncates the file
//! to its original 0 pages; a journal beside an empty file is deleted. Then the database
//! is created again. Nothing is lost: the database was new and held nothing.
//!
//! With `SyncMode::Off` nothing is promised after a power loss, and page 1 is written alone.

use strata_io::{Completion, File, OpenFlags, IO};

use crate::{header, journal, Result, StorageOptions, SyncMode};

/// Writes page 1 of a new database into the empty `db_file`, durably (module docs).
pub(crate) fn create_database(
    io: &dyn IO,
    db_path: &str,
    db_file: &dyn File,
    options: &StorageOptions,
) -> Result<()> {
    let page1 = header::new_database_page1(options.page_size, options.reserved_bytes as usize);
    if options.sync_mode == SyncMode::Off {
        write(io, db_file, 0, page1)?;
        return Ok(());
    }
    let journal_path = journal::journal_path(db_path);
    let journal_file = io.open_file(&journal_path, OpenFlags::CREATE)?;
    // A journal found at open was deleted before this runs; a stale tail would only be
    // ignored (the header says no records), but the file is rewritten from its start.
    truncate(io, journal_file.as_ref(), 0)?;
    let nonce = io.random_u64() as u32;
    write(
        io,
        journal_file.as_ref(),
        0,
        journal::new_database_journal(options.page_size, nonce),
    )?;
    sync(io, journal_file.as_ref())?;
    write(io, db_file, 0, page1)?;
    sync(io, db_file)?;
    truncate(io, journal_file.as_ref(), 0)?;
    sync(io, journal_file.as_ref())?;
    drop(journal_file);
    io.remove_file(&journal_path)?;
    Ok(())
}

/// Whether a file no larger than one page holds nothing but zero bytes: what a power loss
/// during the creation of a database by an older Strata (no journal) could leave. It holds
/// no data, so the caller starts afresh.
pub(crate) fn holds_only_zeros(
    io: &dyn IO,
    db_file: &dyn File,
    file_size_bytes: u64,
) -> Result<bool> {
    if file_size_bytes > header::PAGE_SIZE_MAX as u64 {
        return Ok(false);
    }
    let c = Completion::read(file_size_bytes as usize);
    db_file.pread(0, &c)?;
    let n = strata_io::wait(io, &c)?;
    let all_zero = c.buf()[..n].iter().all(|&b| b == 0);
    Ok(all_zero)
}

fn write(io: &dyn IO, file: &dyn File, offset: u64, data: Vec<u8>) -> Result<()> {
    let c = Completion::write(data);
    file.pwrite(offset, &c)?;
    strata_io::wait(io, &c)?;
    Ok(())
}

fn sync(io: &dyn IO, file: &dyn File) -> Result<()> {
    let c = Completion::sync();
    file.sync(&c)?;
    strata_io::wait(io, &c)?;
    Ok(())
}

fn truncate(io: &dyn IO, file: &dyn File, size_bytes: u64) -> Result<()> {
    if file.size_bytes()? == size_bytes {
        return Ok(());
    }
    let c = Completion::truncate();
    file.truncate(size_bytes, &c)?;
    strata_io::wait(io, &c)?;
    Ok(())
}
