//! Hot-journal rollback: undoing a transaction that a crashed SQLite process left half
//! written in a rollback-journal (`journal_mode=DELETE`, SQLite's default) database.
//!
//! In rollback mode SQLite copies each page's original image into `<db>-journal` before it
//! changes the page in the database file, and deletes (or zeroes, or truncates) the journal
//! when the transaction commits. A journal that still exists with a non-zero first byte
//! while nobody holds a lock on the database is *hot*: its transaction never committed and
//! the database file may hold some of its changes. Before anything reads the database, the
//! original images are written back, exactly as SQLite's `pager_playback` does. Strata
//! holds an exclusive lock on the database file whenever this runs, so no SQLite process
//! can be in the middle of a transaction.
//!
//! ## Format (<https://www.sqlite.org/fileformat.html>, section 4; all integers big-endian)
//!
//! The journal is a sequence of *segments*. Each begins with a header padded to the sector
//! size, at an offset that is a multiple of the sector size:
//!
//! | offset | size | field                                                         |
//! |-------:|-----:|---------------------------------------------------------------|
//! |      0 |    8 | magic `d9 d5 05 f9 20 a1 63 d7`                               |
//! |      8 |    4 | nRec: page records in this segment; `0xffffffff`: up to EOF   |
//! |     12 |    4 | nonce: checksum initialiser                                   |
//! |     16 |    4 | database size in pages before the transaction                 |
//! |     20 |    4 | sector size (header size; first header only)                  |
//! |     24 |    4 | page size (first header only; 0 means the database's)         |
//!
//! followed by nRec page records, each `4` byte page number, the page's original image
//! (page size bytes) and a `4` byte checksum: the nonce plus the bytes at offsets
//! page size - 200, - 400, ... (> 0) of the image, as unsigned bytes, modulo 2^32.
//! A journal of a multi-database transaction ends with a super-journal record: page
//! number `PENDING_BYTE / page size + 1`, the super-journal's file name, its length, a
//! checksum of the name's bytes, and the magic again.
//!
//! ## Playback (SQLite's `hasHotJournal`, `pagerSyncHotJournal`, `pager_playback`)
//! 1. Hot means: the journal exists, the database file is not empty and the journal's
//!    first byte is not zero. (A journal beside an empty database is deleted.)
//! 2. The journal is fsynced (the crashed writer may not have), so every record counts.
//! 3. If it names a super-journal that no longer exists, the multi-database transaction
//!    committed: nothing is played back; the journal is only deleted.
//! 4. The first segment's database size truncates (or extends) the database file. Then
//!    each record is written back to its page, segment after segment. Playback stops,
//!    successfully, at the first sign of a journal the writer never finished: a header
//!    without the magic or with an impossible page or sector size, page number 0 or the
//!    pending-byte page, a record cut short by the end of the file, a wrong checksum.
//!    Records for pages beyond the original database size are skipped.
//! 5. The database file is fsynced, then the journal deleted (SQLite's default
//!    `journal_mode=DELETE` as the rolling-back connection's mode).
//! 6. After playing back a journal that names an existing super-journal, that
//!    super-journal is deleted unless one of the child journals it lists still exists and
//!    still names it (SQLite's `pager_delsuper`).
//!
//! Playback is planned read-only first ([`HotJournal::find`]), so the caller can decide
//! from the restored page 1 whether to refuse the database before anything is written.

use std::sync::Arc;

use strata_io::{Completion, File, OpenFlags, IO};

use crate::header;
use crate::{Error, Result};

const MAGIC: [u8; 8] = [0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7];

/// SQLite's `PENDING_BYTE`: the page holding it is never part of a database, and is the
/// page number of the super-journal record.
const PENDING_BYTE: u64 = 0x4000_0000;

/// The sector size SQLite assumes on Unix before it reads the journal's (its files have
/// `SQLITE_IOCAP_POWERSAFE_OVERWRITE`, which makes it 512).
const DEFAULT_SECTOR_SIZE: u64 = 512;

/// SQLite's `MAX_SECTOR_SIZE`.
const MAX_SECTOR_SIZE: u64 = 0x10000;

/// The longest super-journal name SQLite reads (Unix `mxPathname` + 1).
const MAX_SUPER_NAME: u64 = 513;

/// The journal's path for a database path.
pub fn journal_path(db_path: &str) -> String {
    format!("{db_path}-journal")
}

/// The journal that protects the creation of a new database (module `create`): one header,
/// padded to a 512-byte sector, recording an original size of 0 pages and no page records.
/// Played back (by us or by sqlite3) it truncates the database file to empty.
pub fn new_database_journal(page_size: usize, nonce: u32) -> Vec<u8> {
    let mut out = vec![0u8; DEFAULT_SECTOR_SIZE as usize];
    out[..8].copy_from_slice(&MAGIC);
    // nRec 0: in a hot journal SQLite reads it as "no records" (never as "up to EOF").
    out[8..12].copy_from_slice(&0u32.to_be_bytes());
    out[12..16].copy_from_slice(&nonce.to_be_bytes());
    out[16..20].copy_from_slice(&0u32.to_be_bytes());
    out[20..24].copy_from_slice(&(DEFAULT_SECTOR_SIZE as u32).to_be_bytes());
    out[24..28].copy_from_slice(&(page_size as u32).to_be_bytes());
    out
}

/// A hot journal, read and checked but not yet applied.
pub(crate) struct HotJournal {
    file: Arc<dyn File>,
    path: String,
    /// Page size of the journal's page images (the database's at the transaction's start).
    page_size: u64,
    /// The super-journal this journal names, when it exists (delete it after playback if
    /// no other child journal still needs it).
    super_journal: Option<String>,
    /// `None`: nothing to play back (a committed multi-database transaction, or a journal
    /// whose first header is incomplete); the journal is only deleted.
    playback: Option<Playback>,
}

struct Playback {
    /// The database size, in pages, before the transaction.
    db_size_pages: u32,
    /// `(page number, offset of the image in the journal)`, in playback order.
    records: Vec<(u32, u64)>,
}

fn read_at(io: &dyn IO, file: &dyn File, offset: u64, len: usize) -> Result<Vec<u8>> {
    let c = Completion::read(len);
    file.pread(offset, &c)?;
    let n = strata_io::wait(io, &c)?;
    let mut buf = c.take_buf();
    buf.truncate(n);
    Ok(buf)
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

/// SQLite's `pager_cksum`.
fn checksum(nonce: u32, image: &[u8]) -> u32 {
    let mut sum = nonce;
    let mut i = image.len() as i64 - 200;
    while i > 0 {
        sum = sum.wrapping_add(image[i as usize] as u32);
        i -= 200;
    }
    sum
}

/// SQLite's `readSuperJournal`: the super-journal name at the end of a journal, if it has
/// one with a matching checksum.
fn read_super_name(io: &dyn IO, file: &dyn File, size: u64) -> Result<Option<String>> {
    if size < 16 {
        return Ok(None);
    }
    let tail = read_at(io, file, size - 16, 16)?;
    if tail.len() < 16 || tail[8..16] != MAGIC {
        return Ok(None);
    }
    let len = be32(&tail[0..4]) as u64;
    if len == 0 || len >= MAX_SUPER_NAME || len > size - 16 {
        return Ok(None);
    }
    let name = read_at(io, file, size - 16 - len, len as usize)?;
    if name.len() as u64 != len {
        return Ok(None);
    }
    // The checksum adds the name's bytes as signed chars.
    let sum = name.iter().fold(be32(&tail[4..8]), |s, &b| {
        s.wrapping_sub(b as i8 as i32 as u32)
    });
    if sum != 0 {
        // A damaged name: SQLite plays the journal back as if there were none.
        return Ok(None);
    }
    // SQLite treats the name as a C string.
    let name = name.split(|&b| b == 0).next().unwrap_or_default();
    if name.is_empty() {
        return Ok(None);
    }
    Ok(Some(String::from_utf8_lossy(name).into_owned()))
}

/// Whether a super-journal or child journal is there, as SQLite's Unix `xAccess`
/// (`SQLITE_ACCESS_EXISTS`) decides it: `stat` succeeds and the file, if a regular one,
/// is not empty. So an empty super-journal counts as deleted (its transaction committed),
/// and a name `stat` cannot resolve (too long, a missing directory) as absent rather than
/// an error that would keep the database from opening: the name comes from a file a
/// crashed process left, not from the user.
fn sqlite_exists(io: &dyn IO, path: &str) -> Result<bool> {
    if !io.file_exists(path).unwrap_or(false) {
        return Ok(false);
    }
    match io.open_file(path, OpenFlags::READ_ONLY) {
        Ok(file) => Ok(file.size_bytes()? > 0),
        // `stat` can succeed where opening fails (permissions): what reads it reports it.
        Err(_) => Ok(true),
    }
}

/// SQLite's `pager_delsuper`: deletes the super-journal unless a child journal it lists
/// still exists and still names it.
fn delete_super_if_unused(io: &dyn IO, super_name: &str) -> Result<()> {
    let file = io.open_file(super_name, OpenFlags::READ_ONLY)?;
    let size = file.size_bytes()?;
    let children = read_at(io, file.as_ref(), 0, size as usize)?;
    for child in children.split(|&b| b == 0).filter(|c| !c.is_empty()) {
        let child = String::from_utf8_lossy(child).into_owned();
        if !sqlite_exists(io, &child)? {
            continue;
        }
        let child_file = io.open_file(&child, OpenFlags::READ_ONLY)?;
        let child_size = child_file.size_bytes()?;
        if read_super_name(io, child_file.as_ref(), child_size)?.as_deref() == Some(super_name) {
            return Ok(());
        }
    }
    drop(file);
    io.remove_file(super_name)?;
    Ok(())
}

impl HotJournal {
    /// Looks for a hot journal beside the database and plans its playback, reading only
    /// (but for the fsync of a cold journal, below). `db_file` must be locked exclusively
    /// and not empty (the caller deletes a journal beside an empty database, as SQLite
    /// does). `sync`: whether the database's sync mode makes anything durable.
    pub(crate) fn find(
        io: &dyn IO,
        db_path: &str,
        db_file: &dyn File,
        sync: bool,
    ) -> Result<Option<HotJournal>> {
        let path = journal_path(db_path);
        if !io.file_exists(&path)? {
            return Ok(None);
        }
        let file = io.open_file(&path, OpenFlags::READ_WRITE)?;
        let size = file.size_bytes()?;
        let first = read_at(io, file.as_ref(), 0, 1)?;
        if first.first().is_none_or(|&b| b == 0) {
            // Zeroed (journal_mode=PERSIST) or truncated (TRUNCATE, or our own creation's
            // journal, module `create`) after a commit: cold. That may not be durable yet
            // (its fsync failed, or a process died before it): a power loss could bring
            // the hot header back and roll back what is committed after this open. The
            // fsync makes the state about to be trusted durable (simulator finding F6).
            if sync {
                let c = Completion::sync();
                file.sync(&c)?;
                strata_io::wait(io, &c)?;
            }
            return Ok(None);
        }
        // Pre-3.5.8 journals give no page size; SQLite then uses the database's.
        let db_header = read_at(io, db_file, 0, header::HEADER_SIZE)?;
        let db_page_size = header::DatabaseHeader::parse(&db_header)
            .map(|h| h.page_size as u64)
            .unwrap_or(4096);
        let mut journal = HotJournal {
            file,
            path,
            page_size: db_page_size,
            super_journal: None,
            playback: None,
        };
        if let Some(name) = read_super_name(io, journal.file.as_ref(), size)? {
            if !sqlite_exists(io, &name)? {
                // The multi-database transaction committed (deleting its super-journal is
                // its commit point): nothing to undo, the journal is only deleted.
                return Ok(Some(journal));
            }
            journal.super_journal = Some(name);
        }
        journal.playback = journal.plan(io, size)?;
        Ok(Some(journal))
    }

    /// Reads every segment header and record the playback would apply.
    fn plan(&mut self, io: &dyn IO, size: u64) -> Result<Option<Playback>> {
        let file = self.file.clone();
        let mut sector_size = DEFAULT_SECTOR_SIZE;
        let mut offset = 0u64;
        let mut playback: Option<Playback> = None;
        loop {
            // SQLite's `journalHdrOffset`: the next multiple of the sector size.
            let hdr = if offset == 0 {
                0
            } else {
                (offset - 1) / sector_size * sector_size + sector_size
            };
            if hdr + sector_size > size {
                break;
            }
            let h = read_at(io, file.as_ref(), hdr, 28)?;
            if h.len() < 28 || h[..8] != MAGIC {
                break;
            }
            let mut n_rec = be32(&h[8..12]);
            let nonce = be32(&h[12..16]);
            let db_size_pages = be32(&h[16..20]);
            if hdr == 0 {
                let sector = be32(&h[20..24]) as u64;
                let page = match be32(&h[24..28]) as u64 {
                    0 => self.page_size,
                    p => p,
                };
                // Impossible sizes mean the header was never synced: nothing to undo.
                if !header::is_valid_page_size(page as usize)
                    || !(32..=MAX_SECTOR_SIZE).contains(&sector)
                    || !sector.is_power_of_two()
                {
                    break;
                }
                self.page_size = page;
                sector_size = sector;
            }
            offset = hdr + sector_size;
            let record_size = self.page_size + 8;
            if n_rec == 0xffff_ffff {
                // (A header sector larger than the file: no records, as SQLite finds.)
                n_rec = (size.saturating_sub(sector_size) / record_size) as u32;
            }
            let plan = playback.get_or_insert(Playback {
                db_size_pages,
                records: Vec::new(),
            });
            let pending_page = (PENDING_BYTE / self.page_size + 1) as u32;
            let mut finished = false;
            for _ in 0..n_rec {
                if offset + 4 + self.page_size > size {
                    // Cut short: the writer never finished (SQLite's short read).
                    finished = true;
                    break;
                }
                let pgno_bytes = read_at(io, file.as_ref(), offset, 4)?;
                let image_at = offset + 4;
                let pgno = be32(&pgno_bytes);
                offset += record_size;
                if pgno == 0 || pgno == pending_page {
                    finished = true;
                    break;
                }
                if pgno > plan.db_size_pages {
                    continue;
                }
                if offset > size {
                    finished = true;
                    break;
                }
                let image = read_at(io, file.as_ref(), image_at, self.page_size as usize + 4)?;
                if image.len() != self.page_size as usize + 4 {
                    finished = true;
                    break;
                }
                let (image, sum) = image.split_at(self.page_size as usize);
                if checksum(nonce, image) != be32(sum) {
                    finished = true;
                    break;
                }
                plan.records.push((pgno, image_at));
            }
            if finished {
                break;
            }
        }
        Ok(playback)
    }

    /// Page 1 as it will be after playback, when the journal restores it; `Some(None)`
    /// when the playback leaves an empty database; `None` when page 1 stays as it is.
    pub(crate) fn page1_after(&self, io: &dyn IO) -> Result<Option<Option<Vec<u8>>>> {
        let Some(plan) = &self.playback else {
            return Ok(None);
        };
        if plan.db_size_pages == 0 {
            return Ok(Some(None));
        }
        match plan.records.iter().rev().find(|(pgno, _)| *pgno == 1) {
            Some(&(_, at)) => {
                let image = read_at(io, self.file.as_ref(), at, self.page_size as usize)?;
                Ok(Some(Some(image)))
            }
            None => Ok(None),
        }
    }

    /// Plays the journal back into the database file, makes that durable, and deletes the
    /// journal. A failure leaves the journal in place, so the next open tries again.
    pub(crate) fn roll_back(self, io: &dyn IO, db_file: &dyn File, sync: bool) -> Result<()> {
        if sync {
            // SQLite's `pagerSyncHotJournal`: the crashed writer may not have synced it.
            let c = Completion::sync();
            self.file.sync(&c)?;
            strata_io::wait(io, &c)?;
        }
        if let Some(plan) = &self.playback {
            // SQLite's `pager_truncate`: back to the original size.
            let page_size = self.page_size;
            let current = db_file.size_bytes()?;
            let wanted = plan.db_size_pages as u64 * page_size;
            if current > wanted {
                let c = Completion::truncate();
                db_file.truncate(wanted, &c)?;
                strata_io::wait(io, &c)?;
            } else if current + page_size <= wanted {
                let c = Completion::write(vec![0; page_size as usize]);
                db_file.pwrite(wanted - page_size, &c)?;
                strata_io::wait(io, &c)?;
            }
            for &(pgno, at) in &plan.records {
                let image = read_at(io, self.file.as_ref(), at, page_size as usize)?;
                if image.len() != page_size as usize {
                    return Err(Error::Corrupt(format!(
                        "journal {} shrank during rollback",
                        self.path
                    )));
                }
                let c = Completion::write(image);
                db_file.pwrite((pgno as u64 - 1) * page_size, &c)?;
                strata_io::wait(io, &c)?;
            }
        }
        if sync {
            let c = Completion::sync();
            db_file.sync(&c)?;
            strata_io::wait(io, &c)?;
        }
        // The rolled-back database is durable: the journal has done its work.
        io.remove_file(&self.path)?;
        if let Some(name) = &self.super_journal {
            delete_super_if_unused(io, name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_samples_every_200th_byte_from_the_end() {
        let mut image = vec![0u8; 1024];
        image[824] = 1;
        image[624] = 2;
        image[24] = 4;
        image[0] = 100; // never sampled (the loop stops before offset 0)
        assert_eq!(checksum(10, &image), 10 + 1 + 2 + 4);
        assert_eq!(checksum(u32::MAX, &image), 6);
    }
}
