//! # strata-wal: the write-ahead log, in SQLite's WAL file format
//!
//! API CONTRACT (the bodies are being implemented; signatures are fixed, additions welcome).
//!
//! The pager is the only user of this crate. The WAL holds committed page images after the
//! database file; readers see a snapshot (a maximum frame number), one writer appends
//! whole transactions, and a checkpoint copies frames back into the database file.
//! The wal-index lives in process memory (no `-shm` file is ever written; SQLite rebuilds
//! its index from the WAL when it opens the file and finds no usable `-shm`).

use std::sync::Arc;

use strata_io::{Completion, File, IoError, Poll, IO};

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

/// The write-ahead log shared by every connection of one database in this process.
pub struct Wal {
    _private: (),
}

impl Wal {
    /// Opens (creating if missing) the WAL file at `wal_path` and recovers the frame index
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
        let _ = (io, wal_path, page_size, options);
        todo!()
    }

    /// Page size of the frames, in bytes.
    pub fn page_size(&self) -> usize {
        todo!()
    }

    /// Starts a read transaction: the snapshot sees every commit finished so far.
    pub fn begin_read(&self) -> Snapshot {
        todo!()
    }

    /// Ends a read transaction started by [`Wal::begin_read`].
    pub fn end_read(&self, snapshot: &Snapshot) {
        let _ = snapshot;
        todo!()
    }

    /// The newest frame holding `page_no` visible in `snapshot`, if any.
    pub fn find_frame(&self, snapshot: &Snapshot, page_no: u32) -> Option<u64> {
        let _ = (snapshot, page_no);
        todo!()
    }

    /// Submits a read of frame `frame_no`'s page image into `c`
    /// (made by `Completion::read(page_size)`).
    pub fn read_frame(&self, frame_no: u64, c: &Completion) -> Result<()> {
        let _ = (frame_no, c);
        todo!()
    }

    /// Header of frame `frame_no` (committed frames only), for shipping frames to replicas.
    pub fn frame_info(&self, frame_no: u64) -> Option<FrameInfo> {
        let _ = frame_no;
        todo!()
    }

    /// The highest committed frame.
    pub fn max_frame(&self) -> u64 {
        todo!()
    }

    /// Takes the single write lock. Fails with [`Error::Busy`] if another writer holds it
    /// or if `snapshot` is not the newest state (a writer must write on top of what it read).
    pub fn begin_write(&self, snapshot: &Snapshot) -> Result<()> {
        let _ = snapshot;
        todo!()
    }

    /// Releases the write lock.
    pub fn end_write(&self) {
        todo!()
    }

    /// Appends one transaction: `pages` (page number, page image of `page_size` bytes; each
    /// page number at most once) as frames, the last marked as the commit frame carrying
    /// `db_size_pages`. Requires the write lock. Nothing is visible to readers until the
    /// returned [`Append`] completes; with [`SyncMode::Full`] it completes only after the
    /// frames are fsynced. If every frame was checkpointed and no reader uses the WAL, the
    /// WAL restarts from its first frame (new salts) instead of growing.
    pub fn append(&self, pages: Vec<(u32, Vec<u8>)>, db_size_pages: u32) -> Append {
        let _ = (pages, db_size_pages);
        todo!()
    }

    /// Pages written by frames between two snapshots of the same generation (exclusive of
    /// `from`, inclusive of `to`); `None` if the generations differ (the caller must then
    /// forget everything it cached).
    pub fn pages_changed(&self, from: &Snapshot, to: &Snapshot) -> Option<Vec<u32>> {
        let _ = (from, to);
        todo!()
    }

    /// Starts a checkpoint into `db_file`. Order of effects: WAL fsynced (unless
    /// [`SyncMode::Off`]), frames copied (the newest version of each page up to the oldest
    /// reader's snapshot), database file truncated/extended to the committed size and
    /// fsynced, then the frames are recorded as checkpointed.
    pub fn checkpoint(&self, db_file: Arc<dyn File>, mode: CheckpointMode) -> Checkpoint {
        let _ = (db_file, mode);
        todo!()
    }
}

/// An append in progress. Poll until `Ready`; the value is the new highest committed frame.
pub struct Append {
    _private: (),
}

impl Append {
    pub fn poll(&mut self) -> Result<Poll<u64>> {
        todo!()
    }
}

/// A checkpoint in progress. Poll until `Ready`.
pub struct Checkpoint {
    _private: (),
}

impl Checkpoint {
    pub fn poll(&mut self) -> Result<Poll<CheckpointResult>> {
        todo!()
    }
}
