//! # strata-wal: the write-ahead log, in SQLite's WAL file format
//!
//! The pager is the only user of this crate. The WAL holds committed page images after the
//! database file; readers see a snapshot (a maximum frame number), one writer appends
//! whole transactions, and a checkpoint copies frames back into the database file.
//! The wal-index lives in process memory (no `-shm` file is ever written; SQLite rebuilds
//! its index from the WAL when it opens the file and finds no usable `-shm`), so a WAL
//! written here is readable by SQLite and the other way round.
//!
//! ## On-disk format (identical to SQLite's)
//! All integers are big-endian. The file is a 32-byte header followed by frames.
//!
//! WAL header (32 bytes, at offset 0):
//!
//! | offset | size | field                                                            |
//! |--------|------|------------------------------------------------------------------|
//! | 0      | 4    | magic: `0x377f0682` (checksum words little-endian) or `0x377f0683` (big-endian) |
//! | 4      | 4    | format version, always 3007000                                   |
//! | 8      | 4    | page size in bytes (power of two, 512..=65536)                   |
//! | 12     | 4    | checkpoint sequence number (incremented at each restart)         |
//! | 16     | 4    | salt-1 (incremented at each restart)                             |
//! | 20     | 4    | salt-2 (random at each restart)                                  |
//! | 24     | 4    | checksum-1 over bytes 0..24                                      |
//! | 28     | 4    | checksum-2 over bytes 0..24                                      |
//!
//! Frame `n` (numbered from 1) starts at `32 + (n - 1) * (24 + page_size)`:
//!
//! | offset | size      | field                                                       |
//! |--------|-----------|-------------------------------------------------------------|
//! | 0      | 4         | page number (never 0)                                       |
//! | 4      | 4         | commit frames: database size in pages after the commit; else 0 |
//! | 8      | 4         | salt-1, copied from the header                              |
//! | 12     | 4         | salt-2, copied from the header                              |
//! | 16     | 4         | checksum-1                                                  |
//! | 20     | 4         | checksum-2                                                  |
//! | 24     | page_size | the page image                                              |
//!
//! The checksum is SQLite's: over 32-bit words `x` (in the magic's byte order), for each
//! pair `s0 += x[i] + s1; s1 += x[i+1] + s0`, wrapping. The header's checksum starts from
//! (0, 0). Each frame's checksum covers its header bytes 0..8 and its page image, seeded
//! with the previous frame's checksum (the header's, for frame 1): the chain makes a frame
//! valid only if every frame before it is. A frame belongs to the log only if its salts
//! equal the header's and its checksum matches; the log ends at the last valid commit frame.
//!
//! ## Invariants (of the shared state, checked by `Shared::check_invariants`)
//! 1. `backfilled <= max_frame == index.len_frames()`; `max_frame` is 0 or a commit frame.
//! 2. Frames `1..=max_frame` are on disk, valid, and chained from the current header
//!    (unless `header_on_disk` is false: then the file holds no usable log, every frame was
//!    checkpointed, and the next append writes a new header).
//! 3. Nothing above `max_frame` is visible: an append publishes its frames only after they
//!    are written (and, with [`SyncMode::Full`], fsynced).
//! 4. A registered reader that reads the WAL (`reads_wal`) belongs to the current
//!    generation: the WAL restarts (overwriting frames) only when no such reader exists.
//! 5. A checkpoint never copies a frame above the oldest registered reader's `max_frame`,
//!    and copies nothing while a reader that reads only the database file is registered
//!    (SQLite's `WAL_READ_LOCK(0)`): copying would change that reader's pages under it.
//! 6. At most one writer, one append and one checkpoint at a time.
//! 7. The writer's uncommitted frames (`Shared::uncommitted`, a write transaction's spilled
//!    pages, [`Wal::append_uncommitted`]) lie right after `max_frame`, chained from it, and
//!    are in no index: only the writer reads them, the commit publishes them, rollback or
//!    `end_write` forgets them, and a truncating checkpoint waits while they exist.
//!
//! ## Concurrency
//! All connection-shared state sits in one [`std::sync::Mutex`]; it is never held across
//! an I/O wait. [`Append`] and [`Checkpoint`] are resumable state machines that record
//! their progress, so polling them again after `Pending` never repeats a step.
//!
//! ## The file
//! [`Wal::open`] opens an existing `-wal` file and recovers it, but never creates one: the
//! first append does, so opening a database (to read it, or to refuse it) creates no
//! file. [`Wal::remove_file`] deletes a fully checkpointed log (a database leaving WAL
//! mode); the next append creates a new one.

mod append;
mod checkpoint;
mod format;
mod index;
mod recovery;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use strata_io::{Completion, File, IoError, OpenFlags, Poll, IO};

pub use append::{Append, Overwrite};
pub use checkpoint::Checkpoint;
use format::{ByteOrder, Checksum, WalHeader, FRAME_HEADER_BYTES};
use index::FrameIndex;

/// Errors of the WAL layer.
#[derive(Debug, Clone)]
pub enum Error {
    /// The underlying IO failed.
    Io(IoError),
    /// Another writer holds the write lock, or the caller's snapshot is no longer the
    /// newest (someone committed after it was taken): SQLite's `SQLITE_BUSY(_SNAPSHOT)`.
    Busy,
    /// The WAL (or a frame it points at) is damaged in a way that is not a torn tail.
    Corrupt(String),
}

impl From<IoError> for Error {
    fn from(e: IoError) -> Self {
        Error::Io(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "disk I/O error: {e}"),
            Error::Busy => f.write_str("database is locked"),
            Error::Corrupt(m) => write!(f, "database disk image is malformed: {m}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// When commits reach stable storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// fsync the WAL at every commit before reporting it (SQLite `synchronous=FULL`).
    #[default]
    Full,
    /// No fsync at commit; the WAL is fsynced before each checkpoint writes the database
    /// file (SQLite `synchronous=NORMAL`): a power loss may lose the last commits, never
    /// corrupt the database.
    Normal,
    /// Never fsync (tests and throwaway data).
    Off,
}

#[derive(Clone, Copy, Debug)]
pub struct WalOptions {
    pub sync_mode: SyncMode,
}

/// A reader's view: the frames it may see. Obtained from [`Wal::begin_read`], returned
/// with [`Wal::end_read`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Highest frame (1-based) visible to this reader; frames above it are ignored.
    pub max_frame: u64,
    /// Database size in pages at this snapshot, from the last commit frame at or below
    /// `max_frame`; `None` when the snapshot sees no frame (then the database file's
    /// header is authoritative).
    pub db_size_pages: Option<u32>,
    /// Identifies the WAL's contents: changes whenever the WAL restarts (new salts), so a
    /// frame number from another generation means nothing.
    pub generation: u64,
    /// False when every visible frame had already been checkpointed when the snapshot was
    /// taken: the reader reads the database file only, and does not hold back a restart.
    pub reads_wal: bool,
}

/// One frame's header, as a replica needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    pub page_no: u32,
    /// For a commit frame, the database size in pages after the commit; 0 otherwise.
    pub commit_db_size_pages: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckpointMode {
    /// Copy what can be copied without waiting for readers.
    Passive,
    /// Copy everything; report `busy` if readers hold back part of the WAL.
    Full,
    /// Full, then make the next writer restart the WAL from its beginning.
    Restart,
    /// Restart, and truncate the WAL file to zero bytes.
    Truncate,
}

/// What a checkpoint did (SQLite's `PRAGMA wal_checkpoint` columns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CheckpointResult {
    /// True if readers or a writer prevented a complete checkpoint.
    pub busy: bool,
    /// Frames in the WAL.
    pub wal_frames: u64,
    /// Frames copied into the database file (in total, not just by this call).
    pub checkpointed_frames: u64,
}

// Connections on several threads share one `Wal`; the state machines move between threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Wal>();
    assert_send_sync::<Append>();
    assert_send_sync::<Checkpoint>();
};

/// State shared by every connection, behind `Inner::state`.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Header of the current generation (what the file's first 32 bytes hold when
    /// `header_on_disk`).
    pub header: WalHeader,
    /// False when the file holds no header for the current state (new, empty, damaged or
    /// truncated WAL): the next append must restart the log.
    pub header_on_disk: bool,
    /// Highest committed (published) frame.
    pub max_frame: u64,
    /// Frames `1..=backfilled` have been copied into the database file.
    pub backfilled: u64,
    /// Bumped whenever the WAL restarts over existing frames.
    pub generation: u64,
    /// Checksum of frame `max_frame` (of the header when `max_frame == 0`).
    pub last_checksum: Checksum,
    pub index: FrameIndex,
    /// The single write lock.
    pub writer: bool,
    /// An [`Append`] has planned its writes and not yet published or failed.
    pub append_in_progress: bool,
    /// A [`Checkpoint`] is between its start and its end.
    pub checkpoint_running: bool,
    /// A truncation of the WAL file submitted by a checkpoint; until it completes, no append
    /// may write (the truncation would wipe it).
    pub wal_truncate: Option<Completion>,
    /// Registered readers that read the WAL: `max_frame` -> number of readers.
    pub wal_readers: BTreeMap<u64, usize>,
    /// Registered readers that read only the database file.
    pub db_readers: usize,
    /// Operations left in flight by an append that failed or was dropped. The next append
    /// waits for them: a stale frame write landing after a newer one at the same offset
    /// would corrupt the WAL.
    pub orphaned_wal_io: Vec<Completion>,
    /// The same for checkpoints: a stale database write landing after a later checkpoint's
    /// newer version of the page would corrupt the database file.
    pub orphaned_db_io: Vec<Completion>,
    /// Frames the writer has written beyond `max_frame` without a commit frame (a write
    /// transaction's spilled pages, [`Wal::append_uncommitted`]). Never in `index`: no
    /// reader, checkpoint or recovery sees them; the writer's commit publishes them with
    /// its own frames, and its rollback forgets them ([`Wal::discard_uncommitted`]).
    pub uncommitted: Option<append::Uncommitted>,
    /// `PRAGMA journal_size_limit`: when the log restarts from its first frame, the file
    /// is truncated to this size (or to the end of the restart's frames, if larger), as
    /// SQLite's `walLimitSize` on the first commit after a restart. `None`: no limit.
    pub size_limit_bytes: Option<u64>,
}

impl Shared {
    /// Checks the invariants listed in the crate documentation (cheap ones always, the
    /// rest in debug builds).
    pub fn check_invariants(&self) {
        assert!(
            self.backfilled <= self.max_frame,
            "backfilled {} > max_frame {}",
            self.backfilled,
            self.max_frame
        );
        assert_eq!(
            self.max_frame,
            self.index.len_frames(),
            "index out of step with max_frame"
        );
        debug_assert!(
            self.max_frame == 0
                || self
                    .index
                    .get(self.max_frame)
                    .is_some_and(|f| f.commit_db_size_pages != 0),
            "max_frame {} is not a commit frame",
            self.max_frame
        );
        debug_assert!(
            self.wal_readers
                .keys()
                .all(|&r| r >= self.backfilled && r <= self.max_frame),
            "a WAL reader's snapshot lies outside backfilled..=max_frame"
        );
        debug_assert!(self.header_on_disk || self.backfilled == self.max_frame);
    }

    /// Whether the next append must start the log again from frame 1.
    pub fn append_must_restart(&self) -> bool {
        !self.header_on_disk
            || self.max_frame == 0
            || (self.backfilled == self.max_frame && self.wal_readers.is_empty())
    }

    /// Whether operations of `orphans` (one of the `orphaned_*` lists) are in flight.
    pub fn orphans_in_flight(orphans: &mut Vec<Completion>) -> bool {
        orphans.retain(|c| !c.is_done());
        !orphans.is_empty()
    }

    pub fn result(&self, busy: bool) -> CheckpointResult {
        CheckpointResult {
            busy,
            wal_frames: self.max_frame,
            checkpointed_frames: self.backfilled,
        }
    }
}

/// Everything an [`Append`] or [`Checkpoint`] needs, shared with the [`Wal`] handle so the
/// state machines carry no lifetime.
pub(crate) struct Inner {
    pub io: Arc<dyn IO>,
    /// The WAL file: opened by [`Wal::open`] if it exists, else created by the first
    /// append ([`Inner::file`]); `None` again after [`Wal::remove_file`].
    file: Mutex<Option<Arc<dyn File>>>,
    path: String,
    /// Page size of every frame in this WAL, fixed at open.
    pub page_size: usize,
    pub options: WalOptions,
    pub state: Mutex<Shared>,
}

impl Inner {
    /// The WAL file, created now if it does not exist (an append is about to write it).
    pub fn file(&self) -> Result<Arc<dyn File>> {
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(f) = file.as_ref() {
            return Ok(f.clone());
        }
        let f = self
            .io
            .open_file(&self.path, OpenFlags::CREATE)
            .map_err(|e| e.context(&self.path))?;
        *file = Some(f.clone());
        Ok(f)
    }

    /// The WAL file if it exists (reads, syncs and truncations of a log that was never
    /// written need none).
    pub fn existing_file(&self) -> Option<Arc<dyn File>> {
        self.file.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn lock(&self) -> MutexGuard<'_, Shared> {
        // A poisoned lock means a thread panicked while holding it. Every mutation of
        // `Shared` is a short sequence of field updates with no I/O, and the invariants are
        // re-checked on the next mutation, so carrying on is safer than spreading the panic.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the unfinished operations of an append (`wal == true`) or checkpoint that
    /// failed or is being dropped to the shared state, so the next one waits for them.
    pub fn orphan(&self, submitted: &mut Vec<Completion>, wal: bool) {
        submitted.retain(|c| !c.is_done());
        if !submitted.is_empty() {
            let mut s = self.lock();
            let orphans = if wal {
                &mut s.orphaned_wal_io
            } else {
                &mut s.orphaned_db_io
            };
            orphans.append(submitted);
        }
    }
}

/// The write-ahead log shared by every connection of one database in this process.
pub struct Wal {
    inner: Arc<Inner>,
}

fn invalid_input(message: String) -> Error {
    Error::Io(IoError::new(std::io::ErrorKind::InvalidInput, message))
}

impl Wal {
    /// Opens the WAL file at `wal_path` if it exists (else the first append creates it:
    /// opening a database must not create files) and recovers the frame index
    /// from its valid prefix: frames are accepted up to the last commit frame whose
    /// checksum chain and salts are intact; a torn or garbage tail is ignored (and later
    /// overwritten). Opening drives `io` until recovery is done.
    ///
    /// `page_size` is the database's page size, used when the WAL is empty or new. A valid
    /// WAL records its own page size, which [`Wal::page_size`] then reports.
    pub fn open(
        io: Arc<dyn IO>,
        wal_path: &str,
        page_size: usize,
        options: WalOptions,
    ) -> Result<Arc<Wal>> {
        if !format::is_valid_page_size(page_size) {
            return Err(invalid_input(format!(
                "page size {page_size} is not a power of two in 512..=65536"
            )));
        }
        // A missing WAL is created by the first append, not here: opening a database
        // (for reading, or to refuse it) must not create files.
        let file = if io.file_exists(wal_path)? {
            Some(
                io.open_file(wal_path, OpenFlags::READ_WRITE)
                    .map_err(|e| e.context(wal_path))?,
            )
        } else {
            None
        };
        let recovered = match &file {
            Some(file) => recovery::recover(io.as_ref(), file.as_ref())?,
            None => recovery::Recovered::empty(),
        };

        let mut index = FrameIndex::default();
        for frame in &recovered.frames {
            index.push(*frame);
        }
        let max_frame = index.len_frames();
        let (header, header_on_disk) = match recovered.header {
            // A log with committed frames fixes the page size; an empty one is rewritten by
            // the first append, so the database's page size wins.
            Some(h) if max_frame > 0 => (h, true),
            Some(h) => (WalHeader { page_size, ..h }, false),
            None => (
                WalHeader {
                    order: ByteOrder::Little,
                    page_size,
                    checkpoint_seq: 0,
                    // Random salts so that frames left over from an earlier log can never
                    // chain onto the header the first append writes.
                    salt1: io.random_u64() as u32,
                    salt2: io.random_u64() as u32,
                },
                false,
            ),
        };
        let shared = Shared {
            header,
            header_on_disk,
            max_frame,
            backfilled: 0,
            generation: 0,
            last_checksum: recovered.last_checksum,
            index,
            writer: false,
            append_in_progress: false,
            checkpoint_running: false,
            wal_truncate: None,
            wal_readers: BTreeMap::new(),
            db_readers: 0,
            orphaned_wal_io: Vec::new(),
            orphaned_db_io: Vec::new(),
            uncommitted: None,
            size_limit_bytes: None,
        };
        shared.check_invariants();
        let inner = Inner {
            io,
            file: Mutex::new(file),
            path: wal_path.to_string(),
            page_size: header.page_size,
            options,
            state: Mutex::new(shared),
        };
        Ok(Arc::new(Wal {
            inner: Arc::new(inner),
        }))
    }

    /// Page size of the frames, in bytes.
    pub fn page_size(&self) -> usize {
        self.inner.page_size
    }

    /// Starts a read transaction: the snapshot sees every commit finished so far.
    ///
    /// Every snapshot is registered until [`Wal::end_read`]: one that reads the WAL holds
    /// back checkpoints past its `max_frame` and WAL restarts; one that reads only the
    /// database file (`reads_wal == false`) holds back every checkpoint copy, since a copy
    /// would change the database file under it (as SQLite's `WAL_READ_LOCK(0)` does).
    pub fn begin_read(&self) -> Snapshot {
        let mut s = self.inner.lock();
        let reads_wal = s.backfilled < s.max_frame;
        if reads_wal {
            let max_frame = s.max_frame;
            *s.wal_readers.entry(max_frame).or_insert(0) += 1;
        } else {
            s.db_readers += 1;
        }
        Snapshot {
            max_frame: s.max_frame,
            db_size_pages: if reads_wal {
                s.index.db_size_at(s.max_frame)
            } else {
                None
            },
            generation: s.generation,
            reads_wal,
        }
    }

    /// Ends a read transaction started by [`Wal::begin_read`].
    pub fn end_read(&self, snapshot: &Snapshot) {
        let mut s = self.inner.lock();
        if snapshot.reads_wal {
            debug_assert_eq!(
                snapshot.generation, s.generation,
                "WAL restarted under a WAL reader"
            );
            match s.wal_readers.get_mut(&snapshot.max_frame) {
                Some(count) if *count > 1 => *count -= 1,
                Some(_) => {
                    s.wal_readers.remove(&snapshot.max_frame);
                }
                None => debug_assert!(false, "end_read of an unregistered snapshot"),
            }
        } else {
            debug_assert!(s.db_readers > 0, "end_read of an unregistered snapshot");
            s.db_readers = s.db_readers.saturating_sub(1);
        }
    }

    /// The newest frame holding `page_no` visible in `snapshot`, if any.
    pub fn find_frame(&self, snapshot: &Snapshot, page_no: u32) -> Option<u64> {
        if !snapshot.reads_wal {
            return None;
        }
        let s = self.inner.lock();
        // A registered WAL reader blocks restarts, so its generation is always current.
        debug_assert_eq!(
            snapshot.generation, s.generation,
            "snapshot of an older WAL generation"
        );
        if snapshot.generation != s.generation {
            return None;
        }
        debug_assert!(snapshot.max_frame <= s.max_frame);
        s.index.find(page_no, snapshot.max_frame)
    }

    /// Submits a read of frame `frame_no`'s page image into `c`
    /// (made by `Completion::read(page_size)`).
    pub fn read_frame(&self, frame_no: u64, c: &Completion) -> Result<()> {
        {
            let s = self.inner.lock();
            if frame_no == 0 || frame_no > s.max_frame || !s.header_on_disk {
                return Err(Error::Corrupt(format!(
                    "read of WAL frame {frame_no}, but frames 1..={} are readable",
                    if s.header_on_disk { s.max_frame } else { 0 }
                )));
            }
        }
        if c.len() != self.inner.page_size {
            return Err(invalid_input(format!(
                "frame read buffer of {} bytes, page size {}",
                c.len(),
                self.inner.page_size
            )));
        }
        let offset_bytes =
            format::frame_offset_bytes(frame_no, self.inner.page_size) + FRAME_HEADER_BYTES as u64;
        let file = self.inner.existing_file().ok_or_else(|| {
            Error::Corrupt(format!(
                "read of WAL frame {frame_no}, but there is no WAL file"
            ))
        })?;
        file.pread(offset_bytes, c)?;
        Ok(())
    }

    /// Header of frame `frame_no` (committed frames only), for shipping frames to replicas.
    pub fn frame_info(&self, frame_no: u64) -> Option<FrameInfo> {
        let s = self.inner.lock();
        if frame_no > s.max_frame || !s.header_on_disk {
            return None;
        }
        s.index.get(frame_no)
    }

    /// Deletes the WAL file, for a database leaving WAL mode (`PRAGMA journal_mode=DELETE`).
    /// The caller holds the write lock; every frame must have been checkpointed and no
    /// reader may use the WAL ([`Error::Busy`] otherwise). The next append creates a new
    /// file and restarts the log.
    pub fn remove_file(&self) -> Result<()> {
        let mut s = self.inner.lock();
        if s.backfilled != s.max_frame
            || !s.wal_readers.is_empty()
            || s.append_in_progress
            || s.uncommitted.is_some()
            || s.checkpoint_running
        {
            return Err(Error::Busy);
        }
        self.inner
            .io
            .remove_file(&self.inner.path)
            .map_err(|e| e.context(&self.inner.path))?;
        *self.inner.file.lock().unwrap_or_else(|e| e.into_inner()) = None;
        s.header_on_disk = false;
        s.check_invariants();
        Ok(())
    }

    /// Whether the WAL file exists (it is created by the first append).
    pub fn file_exists(&self) -> bool {
        self.inner.existing_file().is_some()
    }

    /// The highest committed frame.
    pub fn max_frame(&self) -> u64 {
        self.inner.lock().max_frame
    }

    /// Frames copied into the database file so far (of the current generation).
    pub fn backfilled_frames(&self) -> u64 {
        self.inner.lock().backfilled
    }

    /// Takes the single write lock. Fails with [`Error::Busy`] if another writer holds it
    /// or if `snapshot` is not the newest state (a writer must write on top of what it read).
    pub fn begin_write(&self, snapshot: &Snapshot) -> Result<()> {
        let mut s = self.inner.lock();
        if s.writer {
            return Err(Error::Busy);
        }
        if snapshot.generation != s.generation || snapshot.max_frame != s.max_frame {
            return Err(Error::Busy);
        }
        s.writer = true;
        Ok(())
    }

    /// Releases the write lock. Uncommitted frames still pending are discarded
    /// ([`Wal::discard_uncommitted`]).
    pub fn end_write(&self) {
        let mut s = self.inner.lock();
        debug_assert!(s.writer, "end_write without begin_write");
        Self::discard_uncommitted_locked(&mut s);
        s.writer = false;
    }

    /// Appends `pages` as frames WITHOUT a commit frame (a write transaction spilling dirty
    /// pages that do not fit its cache, as SQLite's cache spill does). Requires the write
    /// lock. The frames are written after `max_frame` and after earlier uncommitted frames
    /// of the same transaction, but never published: readers, checkpoints and recovery
    /// ignore them (recovery only accepts frames up to a commit frame). The next
    /// [`Wal::append`] (the commit) continues the checksum chain after them and publishes
    /// them with its own frames; [`Wal::discard_uncommitted`] (rollback) forgets them and
    /// the next append overwrites them. No fsync: the commit's fsync covers them.
    ///
    /// Completes with the frame number of the first page of `pages` (the others follow in
    /// order); readable with [`Wal::read_uncommitted_frame`] until commit or discard.
    ///
    /// `overwrites` rewrites frames of this transaction's earlier uncommitted appends in
    /// place (frame number, page number, image): a page spilled again takes its frame
    /// back instead of growing the log, as SQLite's `walFrames` rewrites a frame written
    /// since the last commit. The commit then re-chains the checksums from the lowest
    /// rewritten frame before writing its own. The caller must not rewrite a frame whose
    /// old image it may still need (a savepoint's pre-image).
    pub fn append_uncommitted(
        &self,
        pages: Vec<(u32, Vec<u8>)>,
        overwrites: Vec<append::Overwrite>,
    ) -> Append {
        Append::new_uncommitted(self.inner.clone(), pages, overwrites)
    }

    /// Submits a read of uncommitted frame `frame_no`'s page image into `c` (made by
    /// `Completion::read(page_size)`): only the writer's own spilled frames qualify.
    pub fn read_uncommitted_frame(&self, frame_no: u64, c: &Completion) -> Result<()> {
        {
            let s = self.inner.lock();
            let ok = s.uncommitted.as_ref().is_some_and(|u| u.contains(frame_no));
            if !ok {
                return Err(Error::Corrupt(format!(
                    "read of uncommitted WAL frame {frame_no}, which this transaction did \
                     not write"
                )));
            }
        }
        if c.len() != self.inner.page_size {
            return Err(invalid_input(format!(
                "frame read buffer of {} bytes, page size {}",
                c.len(),
                self.inner.page_size
            )));
        }
        let offset_bytes =
            format::frame_offset_bytes(frame_no, self.inner.page_size) + FRAME_HEADER_BYTES as u64;
        let file = self.inner.existing_file().ok_or_else(|| {
            Error::Corrupt(format!(
                "read of WAL frame {frame_no}, but there is no WAL file"
            ))
        })?;
        file.pread(offset_bytes, c)?;
        Ok(())
    }

    /// Forgets the frames written by [`Wal::append_uncommitted`] since the last commit (a
    /// rolled-back write transaction). They stay in the file until overwritten, but can
    /// never become part of the log: they hold no commit frame, and the next append writes
    /// over them, chaining from the last commit frame (so a stale frame after its end no
    /// longer chains either). If they began with a restart of the log, the file's header
    /// is the new one while the published state is the old, fully checkpointed log: the
    /// next append restarts again (fresh salts).
    pub fn discard_uncommitted(&self) {
        let mut s = self.inner.lock();
        Self::discard_uncommitted_locked(&mut s);
    }

    fn discard_uncommitted_locked(s: &mut Shared) {
        if let Some(u) = s.uncommitted.take() {
            if u.restarted() {
                // A restart needs every frame checkpointed and no WAL reader, and no new
                // WAL reader can appear (they see backfilled == max_frame): nothing reads
                // the old frames, so the log may be declared empty.
                debug_assert_eq!(s.backfilled, s.max_frame);
                s.header_on_disk = false;
            }
            s.check_invariants();
        }
    }

    /// Number of frames written by [`Wal::append_uncommitted`] and not yet committed or
    /// discarded.
    pub fn uncommitted_frames(&self) -> u64 {
        self.inner
            .lock()
            .uncommitted
            .as_ref()
            .map_or(0, |u| u.len_frames())
    }

    /// Appends one transaction: `pages` (page number, page image of `page_size` bytes; each
    /// page number at most once) as frames, the last marked as the commit frame carrying
    /// `db_size_pages`. Requires the write lock. Nothing is visible to readers until the
    /// returned [`Append`] completes; with [`SyncMode::Full`] it completes only after the
    /// frames are fsynced. If every frame was checkpointed and no reader uses the WAL, the
    /// WAL restarts from its first frame (new salts) instead of growing.
    ///
    /// An empty `pages` writes nothing and completes with the current `max_frame`.
    pub fn append(&self, pages: Vec<(u32, Vec<u8>)>, db_size_pages: u32) -> Append {
        Append::new(self.inner.clone(), pages, db_size_pages)
    }

    /// Pages written by frames between two snapshots of the same generation (exclusive of
    /// `from`, inclusive of `to`); `None` if the generations differ (the caller must then
    /// forget everything it cached).
    pub fn pages_changed(&self, from: &Snapshot, to: &Snapshot) -> Option<Vec<u32>> {
        if from.generation != to.generation {
            return None;
        }
        let s = self.inner.lock();
        if to.generation != s.generation {
            // The frames of that generation are gone from the index.
            return None;
        }
        s.index.pages_between(
            from.max_frame.min(to.max_frame),
            to.max_frame.max(from.max_frame),
        )
    }

    /// Sets `PRAGMA journal_size_limit` (`None`: no limit; see
    /// `Shared::size_limit_bytes`).
    pub fn set_size_limit(&self, limit_bytes: Option<u64>) {
        self.inner.lock().size_limit_bytes = limit_bytes;
    }

    /// The current `journal_size_limit` (`None`: no limit).
    pub fn size_limit(&self) -> Option<u64> {
        self.inner.lock().size_limit_bytes
    }

    /// Whether I/O of an abandoned append or checkpoint is still in flight (a new append
    /// or checkpoint waits for it). Once a process has lost power it never completes: a
    /// close must not wait for it.
    pub fn orphaned_io_in_flight(&self) -> bool {
        let mut s = self.inner.lock();
        let s = &mut *s;
        Shared::orphans_in_flight(&mut s.orphaned_db_io)
            || Shared::orphans_in_flight(&mut s.orphaned_wal_io)
    }

    /// Starts a checkpoint into `db_file`. Order of effects: WAL fsynced (unless
    /// [`SyncMode::Off`]), frames copied (the newest version of each page up to the oldest
    /// reader's snapshot), database file truncated/extended to the committed size and
    /// fsynced, then the frames are recorded as checkpointed.
    ///
    /// A checkpoint started while another runs completes at once with `busy == true`.
    pub fn checkpoint(&self, db_file: Arc<dyn File>, mode: CheckpointMode) -> Checkpoint {
        Checkpoint::new(self.inner.clone(), db_file, mode)
    }
}

/// Polls a batch of completions: `Ready` when all are done, `Pending` while any is in
/// flight, an error as soon as one has failed (the others' buffers belong to their
/// completions, so abandoning them is safe). A write must have moved its whole buffer.
pub(crate) fn poll_all(pending: &[Completion], what: &str) -> Result<Poll<()>> {
    let mut all_done = true;
    for c in pending {
        match c.poll()? {
            Poll::Pending => all_done = false,
            Poll::Ready(n) => {
                let expected = c.len();
                if c.kind() == strata_io::CompletionKind::Write && n != expected {
                    return Err(IoError::short(what, expected, n).into());
                }
            }
        }
    }
    Ok(if all_done {
        Poll::Ready(())
    } else {
        Poll::Pending
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open_wal() -> Arc<Wal> {
        let io: Arc<dyn IO> = Arc::new(strata_io::MemoryIo::new());
        let options = WalOptions {
            sync_mode: SyncMode::Full,
        };
        Wal::open(io, "t.db-wal", 512, options).expect("open")
    }

    /// The messages are SQLite's (`sqlite3ErrStr`), which callers show to users and match
    /// on. (cargo-mutants: an empty `Display` survived every test.)
    #[test]
    fn error_messages_are_sqlites() {
        let io = Error::Io(IoError::new(std::io::ErrorKind::Other, "disk on fire"));
        assert_eq!(io.to_string(), "disk I/O error: disk on fire");
        assert_eq!(Error::Busy.to_string(), "database is locked");
        assert_eq!(
            Error::Corrupt("frame 3".into()).to_string(),
            "database disk image is malformed: frame 3"
        );
    }

    /// `check_invariants` really checks (in release builds too, for the cheap ones): every
    /// mutation of the shared state calls it, so a checker that checks nothing would hide
    /// any bug that breaks them. (cargo-mutants: an empty `check_invariants` survived.)
    #[test]
    #[should_panic(expected = "backfilled 1 > max_frame 0")]
    fn invariant_check_catches_backfill_past_the_log() {
        let wal = open_wal();
        let mut s = wal.inner.lock();
        s.check_invariants();
        s.backfilled = 1;
        s.check_invariants();
    }

    #[test]
    #[should_panic(expected = "index out of step with max_frame")]
    fn invariant_check_catches_an_index_out_of_step() {
        let wal = open_wal();
        let mut s = wal.inner.lock();
        s.max_frame = 1;
        s.backfilled = 1;
        s.check_invariants();
    }
}
