//! # strata-pager: pages, transactions and the page cache, over the WAL
//!
//! The pager turns a database file plus its write-ahead log into numbered pages that the
//! B-tree reads and writes. It knows nothing of B-trees; the B-tree knows nothing of the WAL.
//!
//! ## Objects
//! - [`Storage`]: one per open database per process. Owns the database file (locked
//!   exclusively against other processes), the shared [`Wal`], and the configuration.
//! - [`Pager`]: one per connection. Owns a page cache and the connection's transaction.
//!   Connections of one storage see each other's commits through the WAL's snapshots.
//! - [`Page`]: a page image in memory, shared as [`PageRef`] (`Arc`) between the cache and
//!   whoever is using it (cursors). Page 1 begins with the 100-byte database header
//!   ([`header`]).
//!
//! ## Transactions
//! ```text
//!   (none) --begin_read--> Read --begin_write--> Write
//!     ^                     |                      |
//!     +------end_read-------+                      |
//!     +----commit (Ready) / rollback---------------+
//! ```
//! A read transaction pins a WAL snapshot: every page read comes from the newest WAL frame
//! visible in the snapshot, else from the database file. `begin_write` takes the WAL's single
//! write lock and fails with [`Error::Busy`] if another connection writes or committed since
//! our snapshot. Writes stay in memory (dirty pages are pinned in the cache) until `commit`
//! appends them to the WAL as one transaction; `rollback` restores the pre-images saved when
//! each page was first dirtied, so every `PageRef` held elsewhere sees the rolled-back bytes.
//! A transaction that outgrows the cache spills unpinned dirty pages to the WAL as
//! uncommitted frames and reads them back from there (module `spill`); the commit publishes
//! them with its own frames, a rollback discards them and re-reads the snapshot's images.
//! Savepoints nest inside a write transaction the same way (statement rollback).
//!
//! Before a write commit builds its frames it runs the storage's [`CommitHook`], if one is
//! installed: the B-tree's keeps auto-vacuum pointer maps and may shrink the database
//! ([`Pager::truncate_pages`]; the commit frame records the smaller size and the
//! checkpoint truncates the file). The hook sees which pages changed and the kinds the
//! B-tree recorded for them ([`Pager::set_page_kind`], undone by savepoint rollback like
//! page images). Without a hook, a change to an auto-vacuum database is refused at commit.
//!
//! After a write commit's frames are durable, and while the committer still holds the
//! WAL's write lock, the storage's [`CommitObserver`] (if any) is handed the committed
//! pages and the new database size: a totally ordered stream of exactly the committed
//! transactions (the server's replication log is built from it).
//!
//! ## Invariants
//! 1. A page in the cache holds the image of the current snapshot. A page changed by the
//!    write transaction lives in `dirty` instead (never in both), with a saved pre-image,
//!    or, when the transaction outgrew the cache, in an uncommitted WAL frame (module `spill`);
//!    dirty pages return to the cache at commit.
//! 2. `mark_dirty` precedes every change to a page's bytes (asserted in debug builds).
//! 3. Pages above `db_size_pages` are never handed out; new pages come from `append_page`.
//!    `truncate_pages` lowers the size in a write transaction: changed pages beyond it
//!    keep their pre-images (for rollback) but are neither committed nor cached.
//! 4. Between transactions the cache is revalidated against the WAL: pages written by other
//!    connections' commits since our last snapshot are dropped; a WAL restart drops all.
//! 5. A commit is reported only when the WAL reports its frames durable (per `SyncMode`).
//! 6. Resumable calls (`get_page`, `commit`, `checkpoint`) change nothing before a point
//!    where they may return `Pending`, or record their progress in the pager.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use strata_io::{Completion, File, IoError, LockKind, OpenFlags, Poll, IO};
pub use strata_wal::{CheckpointMode, CheckpointResult, SyncMode};
use strata_wal::{Snapshot, Wal, WalOptions};

mod cache;
mod close;
mod create;
pub mod header;
pub mod journal;
mod journal_mode;
mod pre_image;
mod sized_file;
mod spill;

pub use journal_mode::JournalMode;

use cache::PageCache;
use pre_image::{PreImage, PreImages};

/// Errors of the pager.
#[derive(Debug, Clone)]
pub enum Error {
    /// The IO failed.
    Io(IoError),
    /// Another connection or process holds a conflicting lock, or committed after our
    /// snapshot (SQLite's `SQLITE_BUSY`).
    Busy,
    /// The file is not a database, or is damaged.
    Corrupt(String),
    /// The caller broke the API's rules (e.g. wrote outside a write transaction).
    Misuse(String),
    /// A valid database using a feature we do not implement, refused before anything is
    /// written rather than risk writing it wrongly (none today: the variant stays for the
    /// next such feature).
    Unsupported(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(e) => write!(f, "disk I/O error: {e}"),
            Error::Busy => f.write_str("database is locked"),
            Error::Corrupt(m) => write!(f, "database disk image is malformed: {m}"),
            Error::Misuse(m) => write!(f, "bad use of the pager: {m}"),
            Error::Unsupported(m) => write!(f, "unsupported database: {m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<IoError> for Error {
    fn from(e: IoError) -> Self {
        if e.is_locked() {
            Error::Busy
        } else {
            Error::Io(e)
        }
    }
}

impl From<strata_wal::Error> for Error {
    fn from(e: strata_wal::Error) -> Self {
        match e {
            strata_wal::Error::Io(e) => Error::Io(e),
            strata_wal::Error::Busy => Error::Busy,
            strata_wal::Error::Corrupt(m) => Error::Corrupt(m),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// How to open a database.
#[derive(Clone, Copy, Debug)]
pub struct StorageOptions {
    /// Page size for a new database (ignored for an existing one).
    pub page_size: usize,
    /// Reserved bytes per page for a new database.
    pub reserved_bytes: u8,
    /// Page cache capacity per connection (a soft limit; pinned pages may exceed it).
    pub cache_size_pages: usize,
    pub sync_mode: SyncMode,
    /// Run a passive checkpoint after a commit leaves at least this many frames in the
    /// WAL; 0 disables. SQLite's default is 1000.
    pub autocheckpoint_frames: u64,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            page_size: 4096,
            reserved_bytes: 0,
            cache_size_pages: 2000,
            sync_mode: SyncMode::Full,
            autocheckpoint_frames: 1000,
        }
    }
}

/// One open database: the locked database file and its WAL.
pub struct Storage {
    io: Arc<dyn IO>,
    path: String,
    db_file: Arc<dyn File>,
    wal: Arc<Wal>,
    page_size: usize,
    reserved_bytes: usize,
    options: StorageOptions,
    /// The file is a rollback-journal database (header bytes 18/19 = 1): opened so, or
    /// made so by `PRAGMA journal_mode=DELETE` ([`journal_mode`]). The next commit
    /// switches it to WAL by writing page 1 with bytes 18/19 = 2 into the WAL.
    rollback_mode: AtomicBool,
    /// The file was an auto-vacuum database (header offset 52 non-zero) when opened.
    /// Informational only: the mode can change (`PRAGMA auto_vacuum` on an empty
    /// database), so the commit hook reads page 1 instead.
    auto_vacuum: bool,
    /// The database text encoding (header offset 56 as SQLite reads it: 1 UTF-8,
    /// 2 UTF-16le, 3 UTF-16be). Read at open; a commit that changes page 1's field (only
    /// `PRAGMA encoding` on an empty database does) updates it.
    text_encoding: AtomicU32,
    /// Run before every write commit ([`CommitHook`]); the B-tree layer installs the one
    /// that keeps auto-vacuum pointer maps and truncates the file.
    commit_hook: Mutex<Option<Arc<dyn CommitHook>>>,
    /// Told about every durable write commit, in commit order ([`CommitObserver`]).
    commit_observer: Mutex<Option<Arc<dyn CommitObserver>>>,
    /// Spills completed by every connection ([`Storage::spill_count`]).
    spills: AtomicU64,
    /// Re-spills that wrote a new frame because an open savepoint's pre-image is the
    /// page's previous frame ([`Storage::spill_pinned_count`]).
    spill_pinned: AtomicU64,
    /// Spills wait until a transaction holds more page images than this, whatever the
    /// cache size ([`Storage::set_spill_min_pages`]).
    spill_min_pages: AtomicUsize,
}

/// Work a layer above the pager must do before a write transaction commits, while it can
/// still change pages: the B-tree's pointer-map maintenance and auto-vacuum truncation
/// of auto-vacuum databases. The pager knows nothing of B-trees, so the B-tree installs
/// it ([`Storage::set_commit_hook`]).
///
/// Resumable like every pager call: `Pending` means a read is in flight and the pager's
/// `commit` returns `Pending`; the next `commit` calls the hook again, which must either
/// have changed nothing yet or continue from progress recorded in the pages themselves.
pub trait CommitHook: Send + Sync {
    fn before_commit(&self, pager: &Pager) -> Result<Poll<()>>;
}

/// One committed write transaction as the WAL holds it: the pages it wrote (each once,
/// in ascending page order, none beyond the new end) and the database size after it.
pub struct CommittedTxn<'a> {
    /// `(page number, page image)`; images are `page_size` bytes.
    pub pages: &'a [(u32, Vec<u8>)],
    /// The database size in pages after the commit (>= 1).
    pub db_size_pages: u32,
}

/// Told about every write transaction once its WAL frames are durable (as `SyncMode`
/// makes them), in commit order: it is called by the committing connection while it
/// still holds the WAL's write lock, so no other commit can run before it returns.
/// Rolled-back transactions and transactions that changed nothing are never reported.
/// The commit stands whatever the observer does (it cannot fail it), so an observer
/// that cannot record a transaction must remember that it missed one. It runs on the
/// committing thread, inside the committing connection's pager, and delays every
/// writer: keep it short, and do not use the database from it (that would deadlock).
pub trait CommitObserver: Send + Sync {
    fn committed(&self, txn: &CommittedTxn<'_>);

    /// A commit failed after its frames may have reached the WAL file (a write or
    /// fsync error): the transaction is rolled back in this process, but the file may
    /// hold it whole, and a later recovery (after a crash or a clean reopen) may find
    /// it committed, as SQLite's would. An observer keeping its own history must not
    /// trust it to match the file from then on. Default: nothing.
    fn commit_failed(&self) {}
}

impl Storage {
    /// Opens the database at `path`, creating it (in WAL mode) if it does not exist.
    /// A hot journal left by a crashed SQLite process is rolled back first ([`journal`]);
    /// a rollback-journal database is switched to WAL by its first commit
    /// ([`JournalMode`]). A database we cannot handle is refused with
    /// [`Error::Unsupported`] before any file is written or created; opening creates no
    /// file for an existing database (the WAL file is created by the first commit).
    /// Takes an exclusive OS lock on the file: a second open of the same file, in this
    /// process or another, fails with [`Error::Busy`] ("database is locked").
    /// Opening drives `io` until the header is read and the WAL recovered.
    pub fn open(io: Arc<dyn IO>, path: &str, options: StorageOptions) -> Result<Arc<Storage>> {
        if !header::is_valid_page_size(options.page_size) {
            return Err(Error::Misuse(format!(
                "invalid page size {}",
                options.page_size
            )));
        }
        // The size is remembered between our own writes: the exclusive lock below keeps
        // every other process out (see `sized_file`).
        let db_file: Arc<dyn File> = Arc::new(sized_file::SizeCachedFile::new(
            io.open_file(path, OpenFlags::CREATE)?,
        ));
        db_file.lock(LockKind::Exclusive).map_err(|e| {
            if e.is_locked() {
                Error::Busy
            } else {
                Error::Io(e)
            }
        })?;
        let opened = Self::open_locked(io.clone(), path, db_file.clone(), options);
        if opened.is_err() {
            let _ = db_file.unlock();
        }
        opened
    }

    fn open_locked(
        io: Arc<dyn IO>,
        path: &str,
        db_file: Arc<dyn File>,
        options: StorageOptions,
    ) -> Result<Arc<Storage>> {
        let wal_path = format!("{path}-wal");
        let wal_options = WalOptions {
            sync_mode: options.sync_mode,
        };
        if db_file.size_bytes()? > 0 {
            Self::roll_back_hot_journal(io.as_ref(), path, db_file.as_ref(), &options)?;
        }
        let mut file_size_bytes = db_file.size_bytes()?;
        if file_size_bytes > 0
            && create::holds_only_zeros(io.as_ref(), db_file.as_ref(), file_size_bytes)?
        {
            // Power loss during creation by an older Strata (no journal, module `create`)
            // could leave the new page 1's sectors unwritten: a file of zeros. It holds no
            // data, so starting afresh loses nothing (found by the crash-point tests).
            let c = Completion::truncate();
            db_file.truncate(0, &c)?;
            strata_io::wait(io.as_ref(), &c)?;
            file_size_bytes = 0;
        }
        if file_size_bytes == 0 {
            // A WAL beside an empty database file belongs to some other database (SQLite
            // deletes it in this case too); replaying it onto a fresh page 1 would corrupt.
            io.remove_file(&wal_path)?;
            // So is a journal: it holds nothing to restore into an empty file (SQLite's
            // `hasHotJournal` deletes it too).
            let journal_path = journal::journal_path(path);
            if io.file_exists(&journal_path)? {
                io.remove_file(&journal_path)?;
            }
            create::create_database(io.as_ref(), path, db_file.as_ref(), &options)?;
            let wal = Wal::open(io.clone(), &wal_path, options.page_size, wal_options)?;
            return Ok(Arc::new(Storage {
                io,
                path: path.to_string(),
                db_file,
                wal,
                page_size: options.page_size,
                reserved_bytes: options.reserved_bytes as usize,
                options,
                rollback_mode: AtomicBool::new(false),
                auto_vacuum: false,
                text_encoding: AtomicU32::new(header::TEXT_ENCODING_UTF8),
                commit_hook: Mutex::new(None),
                commit_observer: Mutex::new(None),
                spills: AtomicU64::new(0),
                spill_pinned: AtomicU64::new(0),
                spill_min_pages: AtomicUsize::new(spill::SPILL_MIN_PAGES),
            }));
        }
        let c = Completion::read(header::HEADER_SIZE);
        db_file.pread(0, &c)?;
        let n = strata_io::wait(io.as_ref(), &c)?;
        let file_header = header::DatabaseHeader::parse(&c.take_buf()[..n]);
        // Without a WAL the file's header is the whole truth: decide whether to refuse
        // before `Wal::open` creates the -wal file, so a refused open changes nothing.
        if !io.file_exists(&wal_path)? {
            let h = file_header.clone().map_err(Error::Corrupt)?;
            Self::check_supported(&h)?;
        }
        let page_size_hint = file_header
            .as_ref()
            .map_or(options.page_size, |h| h.page_size);
        // Opening an existing WAL only reads it (recovery writes nothing).
        let wal = Wal::open(io.clone(), &wal_path, page_size_hint, wal_options)?;
        // The newest page 1 may be in the WAL; then the file's copy may be stale, or even
        // torn by a checkpoint that lost power (SQLite reads page 1 through the WAL too).
        let h = match Self::wal_page1(io.as_ref(), &wal)? {
            Some(page1) => header::DatabaseHeader::parse(&page1).map_err(Error::Corrupt)?,
            None => file_header.map_err(Error::Corrupt)?,
        };
        Self::check_supported(&h)?;
        if wal.max_frame() > 0 && wal.page_size() != h.page_size {
            return Err(Error::Corrupt(format!(
                "WAL page size {} differs from database page size {}",
                wal.page_size(),
                h.page_size
            )));
        }
        let storage = Arc::new(Storage {
            io,
            path: path.to_string(),
            db_file,
            wal,
            page_size: h.page_size,
            reserved_bytes: h.reserved_bytes,
            options,
            // Switched to WAL by the first commit, so that reading a rollback-journal
            // database (or refusing its schema) changes nothing on disk.
            rollback_mode: AtomicBool::new(h.write_version == 1 || h.read_version == 1),
            auto_vacuum: h.auto_vacuum,
            text_encoding: AtomicU32::new(h.text_encoding),
            commit_hook: Mutex::new(None),
            commit_observer: Mutex::new(None),
            spills: AtomicU64::new(0),
            spill_pinned: AtomicU64::new(0),
            spill_min_pages: AtomicUsize::new(spill::SPILL_MIN_PAGES),
        });
        Ok(storage)
    }

    /// Plays back a hot journal left by a crashed SQLite process ([`journal`]), before
    /// anything reads the database. When there is no WAL, the restored page 1 is checked
    /// first, so a database we would refuse anyway is refused untouched.
    fn roll_back_hot_journal(
        io: &dyn IO,
        path: &str,
        db_file: &dyn File,
        options: &StorageOptions,
    ) -> Result<()> {
        let sync = options.sync_mode != SyncMode::Off;
        let Some(hot) = journal::HotJournal::find(io, path, db_file, sync)? else {
            return Ok(());
        };
        if !io.file_exists(&format!("{path}-wal"))? {
            let page1 = match hot.page1_after(io)? {
                Some(restored) => restored,
                None => {
                    let c = Completion::read(header::HEADER_SIZE);
                    db_file.pread(0, &c)?;
                    let n = strata_io::wait(io, &c)?;
                    let mut buf = c.take_buf();
                    buf.truncate(n);
                    Some(buf)
                }
            };
            if let Some(page1) = page1 {
                // A page 1 that does not parse is not a reason to keep the journal: SQLite
                // rolls back first and reports the damage after; so do we.
                let reason = header::DatabaseHeader::parse(&page1)
                    .ok()
                    .and_then(|h| h.unsupported_reason());
                if let Some(reason) = reason {
                    return Err(Error::Unsupported(format!(
                        "{reason}; its hot journal was left for sqlite3 to roll back"
                    )));
                }
            }
        }
        hot.roll_back(io, db_file, sync)
    }

    /// Refuses, with what to do instead, a valid database Strata cannot handle safely.
    fn check_supported(h: &header::DatabaseHeader) -> Result<()> {
        // Rollback-journal databases (bytes 18/19 = 1) are switched to WAL after opening.
        match h.unsupported_reason() {
            Some(reason) => Err(Error::Unsupported(reason)),
            None => Ok(()),
        }
    }

    /// Page 1 from the WAL, if the WAL holds a committed version of it.
    fn wal_page1(io: &dyn IO, wal: &Wal) -> Result<Option<Vec<u8>>> {
        if wal.max_frame() == 0 {
            return Ok(None);
        }
        let snapshot = wal.begin_read();
        let read = |frame_no: u64| -> Result<Vec<u8>> {
            let c = Completion::read(wal.page_size());
            wal.read_frame(frame_no, &c)?;
            strata_io::wait(io, &c)?;
            Ok(c.take_buf())
        };
        let page1 = wal.find_frame(&snapshot, 1).map(read).transpose();
        wal.end_read(&snapshot);
        page1
    }

    pub fn io(&self) -> &Arc<dyn IO> {
        &self.io
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Whether the database is an auto-vacuum one (header offset 52 non-zero at open).
    pub fn auto_vacuum(&self) -> bool {
        self.auto_vacuum
    }

    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The database text encoding as the header stores it: 1 UTF-8, 2 UTF-16le,
    /// 3 UTF-16be ([`header::encoding_name`]).
    pub fn text_encoding(&self) -> u32 {
        self.text_encoding.load(Ordering::Acquire)
    }

    /// A write transaction spills only past this many page images, even with a smaller
    /// cache (default 16: see module `spill` for why a tiny cache needs a floor). For
    /// storage-level tests whose operations hold every page they work with, 1 makes a
    /// one-page cache spill at every step.
    pub fn set_spill_min_pages(&self, pages: usize) {
        self.spill_min_pages.store(pages.max(1), Ordering::Relaxed);
    }

    /// `PRAGMA journal_size_limit`: `limit` >= 0 sets it (bytes; -1 removes it), anything
    /// else leaves it; returns the value now in force (-1: no limit). SQLite keeps it per
    /// connection; here it belongs to the database's storage, shared by its connections.
    pub fn journal_size_limit(&self, limit: Option<i64>) -> i64 {
        if let Some(l) = limit {
            self.wal.set_size_limit(u64::try_from(l).ok());
        }
        self.wal
            .size_limit()
            .map_or(-1, |l| i64::try_from(l).unwrap_or(i64::MAX))
    }

    /// Spills completed by all connections of this storage: writes of dirty pages to the
    /// WAL because a write transaction outgrew its cache (module `spill`).
    pub fn spill_count(&self) -> u64 {
        self.spills.load(Ordering::Relaxed)
    }

    /// Pages re-spilled to a new frame instead of over their previous one because an open
    /// savepoint's pre-image is that frame (`spill::frame_pinned`): a rare case, counted so
    /// that the simulator can show its workload reaches it.
    pub fn spill_pinned_count(&self) -> u64 {
        self.spill_pinned.load(Ordering::Relaxed)
    }

    /// Installs the hook every write commit of every connection runs first.
    pub fn set_commit_hook(&self, hook: Arc<dyn CommitHook>) {
        *self.commit_hook.lock().unwrap_or_else(|e| e.into_inner()) = Some(hook);
    }

    /// Installs (or with `None` removes) the observer told about every durable write
    /// commit ([`CommitObserver`]).
    pub fn set_commit_observer(&self, observer: Option<Arc<dyn CommitObserver>>) {
        *self
            .commit_observer
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = observer;
    }

    fn commit_observer(&self) -> Option<Arc<dyn CommitObserver>> {
        self.commit_observer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn commit_hook(&self) -> Option<Arc<dyn CommitHook>> {
        self.commit_hook
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Page size minus reserved bytes: SQLite's "usable size" U.
    pub fn usable_size(&self) -> usize {
        self.page_size - self.reserved_bytes
    }

    pub fn wal(&self) -> &Arc<Wal> {
        &self.wal
    }

    pub fn options(&self) -> &StorageOptions {
        &self.options
    }

    /// A new connection's pager.
    pub fn pager(self: &Arc<Self>) -> Arc<Pager> {
        Arc::new(Pager {
            storage: self.clone(),
            inner: Mutex::new(PagerInner {
                tx: TxState::None,
                snapshot: None,
                last_snapshot: None,
                db_size_pages: 0,
                tx_start_db_size_pages: 0,
                cache: PageCache::new(self.options.cache_size_pages),
                loading: Default::default(),
                dirty: cache::PageMap::default(),
                pre_images: PreImages::default(),
                savepoints: Vec::new(),
                spilled: BTreeMap::new(),
                spill_latest: BTreeMap::new(),
                commit_hold: BTreeMap::new(),
                spill: None,
                committing: false,
                spills: 0,
                image_pages_high_water: 0,
                known_auto_vacuum: None,
                kinds: BTreeMap::new(),
                derived_in_sync: false,
                verbatim: false,
                commit: None,
                checkpoint: None,
                auto_checkpoint: None,
                mode_switch: None,
                committing_encoding: 0,
                commit_sync_mode: None,
                autocheckpoint_frames: None,
            }),
            change_seq: AtomicU64::new(0),
            content_epoch: AtomicU64::new(next_epoch_base()),
            tx_mirror: AtomicU8::new(TX_NONE),
            dirty_epoch: AtomicU64::new(1),
        })
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        let _ = self.db_file.unlock();
    }
}

/// A page image in memory.
pub struct Page {
    page_no: u32,
    data: RwLock<Vec<u8>>,
    /// True while the page is in the current write transaction's dirty set.
    dirty: AtomicBool,
    /// Bumped whenever the bytes are borrowed for writing: a spill keeps the page's frame
    /// as its image only if nothing wrote it while the frame was being written.
    version: AtomicU64,
    /// Set whenever the pager hands out or dirties the page; a spill skips (and clears)
    /// it once, as a clock does, so the pages an operation is working with stay in memory
    /// while it is retried after `Pending`.
    referenced: AtomicBool,
    /// The pager's `dirty_epoch` when `mark_dirty` last did its full work on this page
    /// (see [`Pager::mark_dirty`]'s fast path); 0: never.
    dirty_mark: AtomicU64,
}

/// A shared reference to a page. Holding one keeps the page in memory.
pub type PageRef = Arc<Page>;

impl Page {
    fn new(page_no: u32, data: Vec<u8>) -> Page {
        Page {
            page_no,
            data: RwLock::new(data),
            dirty: AtomicBool::new(false),
            version: AtomicU64::new(0),
            referenced: AtomicBool::new(true),
            dirty_mark: AtomicU64::new(0),
        }
    }

    pub fn page_no(&self) -> u32 {
        self.page_no
    }

    /// The page's bytes (page size long).
    pub fn data(&self) -> RwLockReadGuard<'_, Vec<u8>> {
        self.data.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The page's bytes, for writing. [`Pager::mark_dirty`] must have been called on this
    /// page in the current write transaction.
    pub fn data_mut(&self) -> RwLockWriteGuard<'_, Vec<u8>> {
        debug_assert!(
            self.is_dirty(),
            "page {} written without mark_dirty",
            self.page_no
        );
        self.data_mut_unchecked()
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
    }

    fn data_mut_unchecked(&self) -> RwLockWriteGuard<'_, Vec<u8>> {
        self.version.fetch_add(1, Ordering::AcqRel);
        self.data.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Page {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Page")
            .field("page_no", &self.page_no)
            .field("dirty", &self.is_dirty())
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TxState {
    None,
    Read,
    Write,
}

struct Savepoint {
    db_size_pages: u32,
    pre_images: PreImages,
    /// Page kinds ([`Pager::set_page_kind`]) as they were when the savepoint began, for
    /// the pages whose kind changed since.
    pre_kinds: BTreeMap<u32, Option<u8>>,
    /// Pages that were clean in the write transaction until this savepoint dirtied them
    /// (their pre-image is the committed page). Rolling back must make them clean again,
    /// not leave them dirty with the old bytes: the commit hook reads every dirty page
    /// of an auto-vacuum file as a B-tree page to derive pointer-map entries, and a free
    /// page a rolled-back statement took off the freelist is none (found by the
    /// simulator's `churn` group: "page 29 changed in this transaction is not a B-tree
    /// page" at COMMIT after a failed INSERT inside BEGIN).
    first_dirtied: BTreeSet<u32>,
}

struct CommitInProgress {
    append: strata_wal::Append,
}

struct PagerInner {
    /// This connection's `PRAGMA synchronous` for its WAL commits, once set (else the
    /// storage's `sync_mode`).
    commit_sync_mode: Option<SyncMode>,
    /// This connection's `PRAGMA wal_autocheckpoint`, once set (else the storage's
    /// `autocheckpoint_frames`).
    autocheckpoint_frames: Option<u64>,
    tx: TxState,
    snapshot: Option<Snapshot>,
    /// The snapshot the cache was last valid for, to revalidate at the next transaction.
    last_snapshot: Option<Snapshot>,
    db_size_pages: u32,
    tx_start_db_size_pages: u32,
    cache: PageCache,
    /// Reads in flight: page number -> completion.
    loading: cache::PageMap<Completion>,
    /// The write transaction's changed pages. A hash map, looked up by every `get_page`
    /// and `mark_dirty` of a write transaction (a `BTreeMap` lookup cost ~150 instructions
    /// with a thousand pages dirty, issue 13); the few walks that need page order (the
    /// commit's frames, the spill's candidates, `dirty_pages`) sort what they collect.
    dirty: cache::PageMap<PageRef>,
    pre_images: PreImages,
    savepoints: Vec<Savepoint>,
    /// Pages of the write transaction whose current image is an uncommitted WAL frame
    /// (page -> frame): see module `spill` for the rules.
    spilled: BTreeMap<u32, u64>,
    /// The newest uncommitted frame written for each page in this write transaction,
    /// whether or not it is still the page's image (the commit publishes them all).
    spill_latest: BTreeMap<u32, u64>,
    /// Pages the commit writes again because their newest spilled frame is stale, loaded
    /// from the snapshot, held until the commit's frames are built.
    commit_hold: BTreeMap<u32, PageRef>,
    /// A spill whose frames are being written.
    spill: Option<spill::SpillInProgress>,
    /// `commit` has begun for this write transaction: no more spills (the commit decides
    /// which pages its frames hold).
    committing: bool,
    /// Spills completed by this connection (for tests and the simulator's report).
    spills: u64,
    /// The most page images held at once ([`Pager::page_memory_high_water_bytes`]).
    image_pages_high_water: usize,
    /// Whether page 1 said auto-vacuum when last seen in memory (`None`: unknown). Kept
    /// while page 1 is evicted; forgotten whenever page 1 may have changed since: another
    /// connection's commit of it, a WAL restart, our own commit or rollback of it.
    known_auto_vacuum: Option<bool>,
    /// What the layer above says each page changed in this write transaction now is
    /// ([`Pager::set_page_kind`]); cleared at commit and rollback.
    kinds: BTreeMap<u32, u8>,
    /// Set by the layer above when what it derives from the changed pages (pointer
    /// maps) is written; any page change clears it ([`Pager::set_derived_in_sync`]).
    derived_in_sync: bool,
    /// The transaction's pages are final images from elsewhere (an embedded replica
    /// applying its primary's commits): the commit writes them as they are, without
    /// stamping page 1's change counter and size ([`Pager::set_verbatim_commit`]).
    verbatim: bool,
    commit: Option<CommitInProgress>,
    checkpoint: Option<strata_wal::Checkpoint>,
    /// The passive checkpoint a commit started because the WAL passed the threshold.
    auto_checkpoint: Option<strata_wal::Checkpoint>,
    /// A switch to rollback-journal mode in progress (`PRAGMA journal_mode=DELETE`).
    mode_switch: Option<journal_mode::ModeSwitch>,
    /// The text encoding in the page 1 being committed (0: page 1 not in the commit).
    committing_encoding: u32,
}

/// One connection's view of the database.
const TX_NONE: u8 = 0;
const TX_READ: u8 = 1;
const TX_WRITE: u8 = 2;

pub struct Pager {
    storage: Arc<Storage>,
    inner: Mutex<PagerInner>,
    /// Bumped whenever a page's bytes may change or a transaction starts or ends: see
    /// [`Pager::change_seq`].
    change_seq: AtomicU64,
    /// `inner.tx` mirrored for `in_read_tx`/`in_write_tx`, which statements ask several
    /// times each (a lock per question was measurable); written only under the lock, with
    /// `inner.tx`.
    tx_mirror: AtomicU8,
    /// Moves whenever what this connection reads may differ from what it read before
    /// (see [`Pager::content_epoch`]). Starts at a value no other pager of the process
    /// starts at, so epochs of two pagers never compare equal by accident.
    content_epoch: AtomicU64,
    /// Moves whenever a page marked dirty may need `mark_dirty`'s full work again: a
    /// savepoint begins, is released or rolled back, the derived data is declared in sync,
    /// a write transaction begins, commits or rolls back. Written under the lock.
    dirty_epoch: AtomicU64,
}

/// A distinct start for each pager's `content_epoch`: 2^32 apart, far more than one
/// pager's transactions in a process's life.
fn next_epoch_base() -> u64 {
    static NEXT_BASE: AtomicU64 = AtomicU64::new(0);
    NEXT_BASE.fetch_add(1 << 32, Ordering::Relaxed)
}

impl Pager {
    fn lock(&self) -> MutexGuard<'_, PagerInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn storage(&self) -> &Arc<Storage> {
        &self.storage
    }

    /// How this connection's WAL commits sync: `PRAGMA synchronous` once set, else the
    /// storage's [`StorageOptions::sync_mode`].
    pub fn commit_sync_mode(&self) -> SyncMode {
        self.lock()
            .commit_sync_mode
            .unwrap_or(self.storage.options.sync_mode)
    }

    /// The WAL size in frames past which this connection's commits run a passive
    /// checkpoint (0: never): `PRAGMA wal_autocheckpoint` once set, else the storage's
    /// [`StorageOptions::autocheckpoint_frames`]. Per connection, as SQLite's.
    pub fn autocheckpoint_frames(&self) -> u64 {
        self.lock()
            .autocheckpoint_frames
            .unwrap_or(self.storage.options.autocheckpoint_frames)
    }

    /// Sets [`Pager::autocheckpoint_frames`] for this connection.
    pub fn set_autocheckpoint_frames(&self, frames: u64) {
        self.lock().autocheckpoint_frames = Some(frames);
    }

    /// Sets how this connection's later WAL commits sync (`PRAGMA synchronous`). Only
    /// the commit's own fsync changes: checkpoints keep the storage's mode, so a frame is
    /// on disk before the database file depends on it.
    pub fn set_commit_sync_mode(&self, mode: SyncMode) {
        self.lock().commit_sync_mode = Some(mode);
    }

    pub fn io(&self) -> &Arc<dyn IO> {
        &self.storage.io
    }

    pub fn page_size(&self) -> usize {
        self.storage.page_size
    }

    /// Page size minus reserved bytes: SQLite's "usable size" U.
    pub fn usable_size(&self) -> usize {
        self.storage.usable_size()
    }

    /// A counter that moves whenever any page of this connection may have changed
    /// (`mark_dirty`, new and appended pages, truncation, rollbacks) and at every
    /// transaction boundary. Unchanged between two reads means no page changed between
    /// them, so a B-tree cursor may keep trusting the path it holds (the append hint: an
    /// insert after `max_rowid` needs no second descent). Read without the pager's lock.
    pub fn change_seq(&self) -> u64 {
        self.change_seq.load(Ordering::Acquire)
    }

    fn changed(&self) {
        self.change_seq.fetch_add(1, Ordering::AcqRel);
    }

    /// Identifies the content this connection reads: it moves when a read transaction
    /// starts on a different snapshot than the last one this pager read (another
    /// connection committed, the WAL restarted) and when a write transaction of this
    /// connection begins and ends. Equal values mean every page reads as it did then:
    /// what a statement verified against the file (the schema cookie) still holds,
    /// except for the connection's own changes inside a write transaction, which it
    /// tracks itself. The same test lets the cache keep its pages across transactions.
    pub fn content_epoch(&self) -> u64 {
        self.content_epoch.load(Ordering::Acquire)
    }

    /// Sets the cache capacity in pages (`PRAGMA cache_size`).
    pub fn set_cache_size_pages(&self, capacity_pages: usize) {
        self.lock().cache.set_capacity(capacity_pages);
    }

    /// Pages currently cached.
    pub fn cached_pages(&self) -> usize {
        self.lock().cache.len()
    }

    /// Bytes of page images this connection holds now: cached pages, the write
    /// transaction's dirty pages in memory, and pre-images kept for rollback. Bounded by
    /// the cache size plus a few pages, except where module `spill` says otherwise.
    pub fn page_memory_bytes(&self) -> u64 {
        self.lock().image_pages() as u64 * self.storage.page_size as u64
    }

    /// The most [`Pager::page_memory_bytes`] held at once since the connection opened or
    /// the last [`Pager::reset_page_memory_high_water`].
    pub fn page_memory_high_water_bytes(&self) -> u64 {
        self.lock().image_pages_high_water as u64 * self.storage.page_size as u64
    }

    /// Restarts the high-water mark from what is held now.
    pub fn reset_page_memory_high_water(&self) {
        let mut inner = self.lock();
        inner.image_pages_high_water = inner.image_pages();
    }

    /// Spills completed by this connection: writes of dirty pages to the WAL because a
    /// write transaction outgrew the cache (module `spill`).
    pub fn spill_count(&self) -> u64 {
        self.lock().spills
    }

    /// The text encoding as this connection sees it (header value: 1 UTF-8, 2 UTF-16le,
    /// 3 UTF-16be): page 1's field if this write transaction changed page 1, else the
    /// committed one.
    pub fn text_encoding(&self) -> u32 {
        let inner = self.lock();
        if let Some(page1) = inner.dirty.get(&1) {
            let data = page1.data();
            if data.len() >= header::HEADER_SIZE {
                return header::text_encoding_of(&data);
            }
        }
        drop(inner);
        self.storage.text_encoding()
    }

    pub fn in_read_tx(&self) -> bool {
        self.tx_mirror.load(Ordering::Acquire) != TX_NONE
    }

    pub fn in_write_tx(&self) -> bool {
        self.tx_mirror.load(Ordering::Acquire) == TX_WRITE
    }

    /// Starts a read transaction on the newest committed state.
    pub fn begin_read(&self) -> Result<()> {
        let mut inner = self.lock();
        if inner.tx != TxState::None {
            return Err(Error::Misuse("begin_read inside a transaction".into()));
        }
        if inner.auto_checkpoint.is_some() {
            return Err(Error::Misuse(
                "begin_read before the last commit() returned Ready".into(),
            ));
        }
        let wal = &self.storage.wal;
        let snapshot = wal.begin_read();
        if inner.last_snapshot.as_ref() != Some(&snapshot) {
            self.content_epoch.fetch_add(1, Ordering::AcqRel);
        }
        match &inner.last_snapshot {
            Some(last) if *last == snapshot => {}
            Some(last) => match wal.pages_changed(last, &snapshot) {
                Some(pages) => {
                    for page_no in pages {
                        if page_no == 1 {
                            inner.known_auto_vacuum = None;
                        }
                        inner.cache.remove(page_no);
                    }
                }
                None => {
                    inner.cache.clear();
                    inner.known_auto_vacuum = None;
                }
            },
            None => {
                inner.cache.clear();
                inner.known_auto_vacuum = None;
            }
        }
        let db_size_pages = match snapshot.db_size_pages {
            Some(n) => n,
            None => match self.db_file_size_pages() {
                Ok(n) => n,
                Err(e) => {
                    wal.end_read(&snapshot);
                    return Err(e);
                }
            },
        };
        inner.db_size_pages = db_size_pages;
        inner.last_snapshot = Some(snapshot.clone());
        inner.snapshot = Some(snapshot);
        inner.tx = TxState::Read;
        self.tx_mirror.store(TX_READ, Ordering::Release);
        Ok(())
    }

    fn db_file_size_pages(&self) -> Result<u32> {
        let size_bytes = self.storage.db_file.size_bytes()?;
        // A partial last page counts, as in SQLite: a write of page 1 torn by power loss
        // can leave a valid header in a file shorter than a page, and rounding down would
        // make that database 0 pages long, so the next new page would overwrite page 1
        // (found by the crash-point tests).
        let pages = size_bytes.div_ceil(self.storage.page_size as u64);
        u32::try_from(pages).map_err(|_| Error::Corrupt("database file too large".into()))
    }

    /// Ends a read transaction (no-op outside one). Reads must not be in flight.
    pub fn end_read(&self) {
        let mut inner = self.lock();
        if inner.tx != TxState::Read {
            return;
        }
        self.finish_tx(&mut inner);
    }

    fn finish_tx(&self, inner: &mut PagerInner) {
        self.changed();
        if inner.tx == TxState::Write {
            // Committed or rolled back: this connection's changes are over either way.
            self.content_epoch.fetch_add(1, Ordering::AcqRel);
        }
        self.new_dirty_epoch();
        if let Some(snapshot) = inner.snapshot.take() {
            self.storage.wal.end_read(&snapshot);
        }
        // Reads still in flight belong to the old snapshot; forget them so a later
        // transaction cannot install a stale image.
        inner.loading.clear();
        // The transaction's uncommitted frames end with it (published or discarded): a
        // stale entry would make the next transaction's spill rewrite a frame that is not
        // its own (foreign_keys.rs seed 195: a savepoint rollback forgot every spilled
        // page, the commit then had nothing to write and discarded the frames).
        inner.spill_latest.clear();
        inner.tx = TxState::None;
        self.tx_mirror.store(TX_NONE, Ordering::Release);
        inner.cache.trim();
    }

    /// Upgrades to a write transaction (starting a read transaction first if needed).
    /// Fails with [`Error::Busy`] if another connection is writing or has committed since
    /// this connection's snapshot was taken.
    pub fn begin_write(&self) -> Result<()> {
        self.changed();
        if self.lock().tx == TxState::None {
            self.begin_read()?;
        }
        let mut inner = self.lock();
        match inner.tx {
            TxState::Write => return Ok(()),
            TxState::Read => {}
            TxState::None => return Err(Error::Misuse("no read transaction".into())),
        }
        let snapshot = inner
            .snapshot
            .clone()
            .ok_or_else(|| Error::Misuse("no snapshot".into()))?;
        self.storage.wal.begin_write(&snapshot)?;
        self.new_dirty_epoch();
        self.content_epoch.fetch_add(1, Ordering::AcqRel);
        inner.tx = TxState::Write;
        self.tx_mirror.store(TX_WRITE, Ordering::Release);
        inner.tx_start_db_size_pages = inner.db_size_pages;
        debug_assert!(inner.dirty.is_empty() && inner.pre_images.is_empty());
        Ok(())
    }

    /// Database size in pages in the current transaction.
    pub fn db_size_pages(&self) -> u32 {
        self.lock().db_size_pages
    }

    /// Returns page `page_no`, reading it if it is not cached. `Pending` means the read was
    /// submitted: drive the IO and call again.
    pub fn get_page(&self, page_no: u32) -> Result<Poll<PageRef>> {
        let mut inner = self.lock();
        if inner.tx == TxState::None {
            return Err(Error::Misuse(format!(
                "page {page_no} read outside a transaction"
            )));
        }
        // Make room (spill) here, before handing out a page (see `spill`). A page held
        // elsewhere is returned at once even while the spill's writes are in flight:
        // callers rely on a page they hold (loaded earlier) coming back without waiting,
        // and a page handed out meanwhile is simply not dropped when the spill completes.
        if (inner.spill.is_some() || inner.tx == TxState::Write) && self.spill_may_act(&inner) {
            let held = Self::held_elsewhere(&inner, page_no);
            if self.spill_step(&mut inner)?.is_pending() && !held {
                return Ok(Poll::Pending);
            }
        }
        if let Some(page) = inner.dirty.get(&page_no) {
            page.referenced.store(true, Ordering::Relaxed);
            return Ok(Poll::Ready(page.clone()));
        }
        if let Some(&frame_no) = inner.spilled.get(&page_no) {
            return self.read_spilled(&mut inner, page_no, frame_no);
        }
        if let Some(page) = inner.cache.get(page_no) {
            return Ok(Poll::Ready(page));
        }
        if page_no == 0 || page_no > inner.db_size_pages {
            return Err(Error::Corrupt(format!(
                "page {page_no} out of range (database has {} pages)",
                inner.db_size_pages
            )));
        }
        let completion = match inner.loading.get(&page_no) {
            Some(c) => c.clone(),
            None => {
                let c = Completion::read_into(inner.cache.take_buffer(self.storage.page_size));
                let snapshot = inner
                    .snapshot
                    .as_ref()
                    .ok_or_else(|| Error::Misuse("no snapshot".into()))?;
                match self.storage.wal.find_frame(snapshot, page_no) {
                    Some(frame_no) => self.storage.wal.read_frame(frame_no, &c)?,
                    None => {
                        let offset = (page_no as u64 - 1) * self.storage.page_size as u64;
                        self.storage.db_file.pread(offset, &c)?;
                    }
                }
                inner.loading.insert(page_no, c.clone());
                c
            }
        };
        match completion.result() {
            None => Ok(Poll::Pending),
            Some(Err(e)) => {
                inner.loading.remove(&page_no);
                Err(Error::Io(e))
            }
            Some(Ok(bytes_read)) => {
                inner.loading.remove(&page_no);
                let mut data = completion.take_buf();
                // A short read (the file ends early) leaves zeros, as in SQLite; the B-tree
                // then reports the page as corrupt if it is used as a tree page. (The
                // buffer may be a recycled page's: its tail is cleared.)
                if let Some(tail) = data.get_mut(bytes_read..) {
                    tail.fill(0);
                }
                if data.len() != self.storage.page_size {
                    return Err(Error::Io(IoError::new(
                        std::io::ErrorKind::Other,
                        format!(
                            "read of page {page_no} returned a buffer of {} bytes",
                            data.len()
                        ),
                    )));
                }
                let page = Arc::new(Page::new(page_no, data));
                inner.cache.insert(page.clone());
                inner.note_memory();
                Ok(Poll::Ready(page))
            }
        }
    }

    /// Whether page `page_no` is in memory and someone besides the pager holds it.
    fn held_elsewhere(inner: &PagerInner, page_no: u32) -> bool {
        match inner.dirty.get(&page_no) {
            Some(page) => Arc::strong_count(page) > 1,
            // `peek` adds a reference of its own.
            None => inner
                .cache
                .peek(page_no)
                .is_some_and(|page| Arc::strong_count(&page) > 2),
        }
    }

    /// Reads back page `page_no` of the write transaction from its uncommitted frame: it
    /// returns to `dirty`, still equal to the frame (`spilled` keeps it until changed).
    fn read_spilled(
        &self,
        inner: &mut PagerInner,
        page_no: u32,
        frame_no: u64,
    ) -> Result<Poll<PageRef>> {
        let completion = match inner.loading.get(&page_no) {
            Some(c) => c.clone(),
            None => {
                let c = Completion::read(self.storage.page_size);
                self.storage.wal.read_uncommitted_frame(frame_no, &c)?;
                inner.loading.insert(page_no, c.clone());
                c
            }
        };
        match completion.result() {
            None => Ok(Poll::Pending),
            Some(Err(e)) => {
                inner.loading.remove(&page_no);
                Err(Error::Io(e))
            }
            Some(Ok(bytes_read)) => {
                inner.loading.remove(&page_no);
                let data = completion.take_buf();
                if bytes_read != self.storage.page_size || data.len() != self.storage.page_size {
                    // The frame was written whole by this transaction: a short read means
                    // the file lost it.
                    return Err(Error::Corrupt(format!(
                        "spilled page {page_no}: WAL frame {frame_no} read {bytes_read} bytes"
                    )));
                }
                let page = Arc::new(Page::new(page_no, data));
                page.dirty.store(true, Ordering::Release);
                inner.dirty.insert(page_no, page.clone());
                inner.note_memory();
                Ok(Poll::Ready(page))
            }
        }
    }

    fn require_write(inner: &PagerInner, what: &str) -> Result<()> {
        if inner.tx != TxState::Write {
            return Err(Error::Misuse(format!("{what} outside a write transaction")));
        }
        if inner.commit.is_some() {
            return Err(Error::Misuse(format!("{what} during commit")));
        }
        Ok(())
    }

    /// Declares that `page` is about to change. Must precede every write to its bytes.
    ///
    /// Fast path: a page this transaction already dirtied, with no savepoint begun or
    /// ended since (nor anything else that moves `dirty_epoch`), has every pre-image it
    /// needs and is in the dirty set: nothing to do but count the change. (A connection
    /// is driven by one thread at a time; the epoch and the mark are written under the
    /// lock, and the page's dirty flag is cleared whenever it leaves the dirty set.) A
    /// large statement (CREATE INDEX, INSERT ... SELECT) dirties the same pages over and
    /// over: the lock and map lookups per call were 6-7 % of CREATE INDEX.
    pub fn mark_dirty(&self, page: &PageRef) -> Result<()> {
        self.changed();
        if page.is_dirty()
            && page.dirty_mark.load(Ordering::Acquire) == self.dirty_epoch.load(Ordering::Acquire)
        {
            page.referenced.store(true, Ordering::Relaxed);
            return Ok(());
        }
        let mut inner = self.lock();
        Self::require_write(&inner, "mark_dirty")?;
        let page_no = page.page_no();
        // A reference kept from an earlier transaction may be a stale copy of the page;
        // writing it would silently lose the current image.
        let current = inner
            .dirty
            .get(&page_no)
            .cloned()
            .or_else(|| inner.cache.get(page_no));
        let stale = match current {
            Some(current) => !Arc::ptr_eq(&current, page),
            // Spilled and not in memory: any copy outside the pager predates the spill.
            None => inner.spilled.contains_key(&page_no),
        };
        if stale {
            return Err(Error::Misuse(format!("page {page_no} reference is stale")));
        }
        // The page is about to change: its spilled frame (if any) is no longer its image.
        inner.spilled.remove(&page_no);
        // Dirty pages leave the clock: it then holds only evictable candidates, so a
        // transaction larger than the cache does not make every eviction scan pinned pages.
        inner.cache.remove(page_no);
        let needs_tx_image = !inner.pre_images.contains_key(&page_no);
        let needs_sp_image = inner
            .savepoints
            .last()
            .is_some_and(|sp| !sp.pre_images.contains_key(&page_no));
        if needs_tx_image || needs_sp_image {
            let image = page.data().clone();
            if needs_tx_image {
                inner
                    .pre_images
                    .insert(page_no, PreImage::Bytes(image.clone()));
            }
            if let Some(sp) = inner.savepoints.last_mut().filter(|_| needs_sp_image) {
                sp.pre_images.insert(page_no, PreImage::Bytes(image));
                if needs_tx_image {
                    sp.first_dirtied.insert(page_no);
                }
            }
        }
        page.dirty.store(true, Ordering::Release);
        page.referenced.store(true, Ordering::Relaxed);
        inner.dirty.insert(page_no, page.clone());
        inner.derived_in_sync = false;
        inner.note_memory();
        page.dirty_mark
            .store(self.dirty_epoch.load(Ordering::Acquire), Ordering::Release);
        Ok(())
    }

    /// Makes the next `mark_dirty` of every page take its full path (called under the
    /// lock wherever what that path establishes may stop holding).
    fn new_dirty_epoch(&self) {
        self.dirty_epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// A zeroed, dirty image for page `page_no` (at most the database size) whose current
    /// content is irrelevant, e.g. a free page being reused: no read is needed.
    pub fn new_page_at(&self, page_no: u32) -> Result<PageRef> {
        self.changed();
        let mut inner = self.lock();
        Self::require_write(&inner, "new_page_at")?;
        if page_no == 0 || page_no > inner.db_size_pages {
            return Err(Error::Misuse(format!(
                "new_page_at({page_no}) beyond the database"
            )));
        }
        if let Some(page) = inner
            .dirty
            .get(&page_no)
            .cloned()
            .or_else(|| inner.cache.get(page_no))
        {
            drop(inner);
            self.mark_dirty(&page)?;
            page.data_mut().fill(0);
            return Ok(page);
        }
        // Not cached: any other copy is stale; a read in flight would install old bytes.
        inner.loading.remove(&page_no);
        Ok(Self::insert_new_page(
            &mut inner,
            page_no,
            self.storage.page_size,
        ))
    }

    /// Grows the database by one page and returns it, zeroed and dirty.
    pub fn append_page(&self) -> Result<PageRef> {
        self.changed();
        let mut inner = self.lock();
        Self::require_write(&inner, "append_page")?;
        let page_no = inner
            .db_size_pages
            .checked_add(1)
            .ok_or_else(|| Error::Corrupt("database has the maximum number of pages".into()))?;
        inner.db_size_pages = page_no;
        Ok(Self::insert_new_page(
            &mut inner,
            page_no,
            self.storage.page_size,
        ))
    }

    fn insert_new_page(inner: &mut PagerInner, page_no: u32, page_size: usize) -> PageRef {
        inner.derived_in_sync = false;
        let page = Arc::new(Page::new(page_no, vec![0; page_size]));
        page.dirty.store(true, Ordering::Release);
        inner.pre_images.insert_if_absent(page_no, PreImage::Forget);
        // A page being replaced: a savepoint rollback brings back its image or frame.
        let sp_image = Self::replaced_pre_image(inner, page_no);
        if let Some(sp) = inner.savepoints.last_mut() {
            sp.pre_images.insert_if_absent(page_no, sp_image);
        }
        inner.spilled.remove(&page_no);
        inner.loading.remove(&page_no);
        inner.dirty.insert(page_no, page.clone());
        inner.note_memory();
        page
    }

    /// Opens a savepoint inside the write transaction (statement-level undo).
    pub fn savepoint_begin(&self) -> Result<()> {
        let mut inner = self.lock();
        Self::require_write(&inner, "savepoint")?;
        // Pages dirtied so far have no image in the new savepoint.
        self.new_dirty_epoch();
        let db_size_pages = inner.db_size_pages;
        inner.savepoints.push(Savepoint {
            db_size_pages,
            pre_images: PreImages::default(),
            pre_kinds: BTreeMap::new(),
            first_dirtied: BTreeSet::new(),
        });
        Ok(())
    }

    /// Keeps the innermost savepoint's changes and closes it.
    pub fn savepoint_release(&self) -> Result<()> {
        let mut inner = self.lock();
        self.new_dirty_epoch();
        let sp = inner
            .savepoints
            .pop()
            .ok_or_else(|| Error::Misuse("no savepoint".into()))?;
        if let Some(parent) = inner.savepoints.last_mut() {
            for (page_no, image) in sp.pre_images {
                parent.pre_images.insert_if_absent(page_no, image);
            }
            for (page_no, kind) in sp.pre_kinds {
                parent.pre_kinds.entry(page_no).or_insert(kind);
            }
            parent.first_dirtied.extend(sp.first_dirtied);
        }
        Ok(())
    }

    /// Undoes every change since the innermost savepoint began, and closes it.
    pub fn savepoint_rollback(&self) -> Result<()> {
        self.changed();
        let mut inner = self.lock();
        // Restored pages have no image in the savepoint now innermost.
        self.new_dirty_epoch();
        let sp = inner
            .savepoints
            .pop()
            .ok_or_else(|| Error::Misuse("no savepoint".into()))?;
        Self::restore(&mut inner, sp.pre_images);
        // Pages clean before the savepoint are clean again: their committed image is what
        // a read fetches (dropped from the cache too, like a page with no pre-image).
        for page_no in sp.first_dirtied {
            if let Some(page) = inner.dirty.remove(&page_no) {
                page.dirty.store(false, Ordering::Release);
            }
            inner.cache.remove(page_no);
            inner.pre_images.remove(&page_no);
            inner.spilled.remove(&page_no);
            inner.loading.remove(&page_no);
        }
        for (page_no, kind) in sp.pre_kinds {
            match kind {
                Some(k) => inner.kinds.insert(page_no, k),
                None => inner.kinds.remove(&page_no),
            };
        }
        inner.db_size_pages = sp.db_size_pages;
        inner.derived_in_sync = false;
        Ok(())
    }

    /// Whether the layer above said its derived data matches every changed page, with no
    /// page changed since ([`Pager::set_derived_in_sync`]).
    pub fn derived_in_sync(&self) -> bool {
        self.lock().derived_in_sync
    }

    /// Records that what the layer above derives from the changed pages (the B-tree's
    /// pointer maps) is up to date, so that a resumed commit need not derive it again.
    /// Cleared by any page change, size change or rollback.
    pub fn set_derived_in_sync(&self) {
        let mut inner = self.lock();
        // The next change of any page must clear it again.
        self.new_dirty_epoch();
        inner.derived_in_sync = true;
    }

    /// Marks this write transaction's pages as final images copied from another
    /// database (an embedded replica applying its primary's commits): the commit
    /// writes them byte for byte and does not stamp page 1 (change counter, size,
    /// version), so the replica's pages equal the primary's. The caller must include
    /// page 1 whenever the size changes, as the primary's own commit did.
    pub fn set_verbatim_commit(&self) -> Result<()> {
        let mut inner = self.lock();
        Self::require_write(&inner, "set_verbatim_commit")?;
        inner.verbatim = true;
        Ok(())
    }

    /// Records what page `page_no` now is, in the caller's own terms (the B-tree's
    /// pointer-map types), or forgets it (`None`). Kept for the write transaction, undone
    /// by savepoint rollback like page images, and cleared at commit and rollback: the
    /// B-tree derives its pointer-map entries from it at commit ([`CommitHook`]).
    pub fn set_page_kind(&self, page_no: u32, kind: Option<u8>) -> Result<()> {
        let mut inner = self.lock();
        Self::require_write(&inner, "set_page_kind")?;
        let old = match kind {
            Some(k) => inner.kinds.insert(page_no, k),
            None => inner.kinds.remove(&page_no),
        };
        if let Some(sp) = inner.savepoints.last_mut() {
            sp.pre_kinds.entry(page_no).or_insert(old);
        }
        Ok(())
    }

    /// The kinds recorded in this write transaction ([`Pager::set_page_kind`]).
    pub fn page_kinds(&self) -> Vec<(u32, u8)> {
        self.lock().kinds.iter().map(|(&p, &k)| (p, k)).collect()
    }

    /// The pages changed in this write transaction that are in memory, in page order:
    /// all of them unless the transaction spilled (module `spill`; never for an auto-vacuum
    /// database, the one user of this list).
    pub fn dirty_pages(&self) -> Vec<PageRef> {
        let inner = self.lock();
        let mut pages: Vec<PageRef> = inner.dirty.values().cloned().collect();
        pages.sort_unstable_by_key(|p| p.page_no());
        pages
    }

    /// Shrinks the database to `db_size_pages` pages in this write transaction (auto-vacuum
    /// truncation): changes to pages beyond it are dropped, the commit records the new
    /// size, and the checkpoint then truncates the file. The caller must have moved
    /// everything still in use below the new end.
    pub fn truncate_pages(&self, db_size_pages: u32) -> Result<()> {
        self.changed();
        let mut inner = self.lock();
        Self::require_write(&inner, "truncate_pages")?;
        if db_size_pages == 0 || db_size_pages > inner.db_size_pages {
            return Err(Error::Misuse(format!(
                "truncate_pages({db_size_pages}) of a {}-page database",
                inner.db_size_pages
            )));
        }
        // Changed pages beyond the end stay in `dirty` with their pre-images, so that a
        // (savepoint) rollback restores them; the commit writes no frame for them and
        // does not return them to the cache. Cached copies leave the cache: a later
        // growth must not find their old bytes.
        let cached: Vec<u32> = inner
            .cache
            .page_numbers()
            .into_iter()
            .filter(|&p| p > db_size_pages)
            .collect();
        for page_no in cached {
            inner.cache.remove(page_no);
        }
        inner.db_size_pages = db_size_pages;
        inner.derived_in_sync = false;
        Ok(())
    }

    fn restore(inner: &mut PagerInner, pre_images: PreImages) {
        for (page_no, image) in pre_images {
            if page_no == 1 {
                inner.known_auto_vacuum = None;
            }
            match image {
                PreImage::Bytes(bytes) => {
                    // The restored image is not what a spilled frame holds.
                    inner.spilled.remove(&page_no);
                    inner.loading.remove(&page_no);
                    match inner.dirty.get(&page_no) {
                        // In place: every `PageRef` held elsewhere sees the old bytes.
                        Some(page) => *page.data_mut_unchecked() = bytes,
                        // Spilled since (nobody held it then): back in memory, dirty.
                        None => {
                            let page = Arc::new(Page::new(page_no, bytes));
                            page.dirty.store(true, Ordering::Release);
                            inner.dirty.insert(page_no, page);
                        }
                    }
                }
                PreImage::Forget => {
                    if let Some(page) = inner.dirty.remove(&page_no) {
                        page.dirty.store(false, Ordering::Release);
                    }
                    inner.cache.remove(page_no);
                    inner.pre_images.remove(&page_no);
                    inner.spilled.remove(&page_no);
                    inner.loading.remove(&page_no);
                }
                PreImage::Frame(frame_no) => {
                    if let Some(page) = inner.dirty.remove(&page_no) {
                        page.dirty.store(false, Ordering::Release);
                    }
                    inner.cache.remove(page_no);
                    inner.loading.remove(&page_no);
                    inner.spilled.insert(page_no, frame_no);
                }
            }
        }
    }

    /// Commits the transaction: a write transaction's dirty pages are appended to the WAL
    /// as one transaction. `Pending` means I/O is in flight: drive the IO and call again.
    /// On error the write transaction stays open; call [`Pager::rollback`].
    ///
    /// When the commit leaves at least `autocheckpoint_frames` frames in the WAL, a passive
    /// checkpoint runs before the commit reports `Ready`. If that checkpoint fails, the
    /// error is returned although the commit itself stands (as in SQLite).
    pub fn commit(&self) -> Result<Poll<()>> {
        let mut inner = self.lock();
        if inner.auto_checkpoint.is_some() {
            return Self::poll_auto_checkpoint(&mut inner);
        }
        match inner.tx {
            TxState::None => return Ok(Poll::Ready(())),
            TxState::Read => {
                self.finish_tx(&mut inner);
                return Ok(Poll::Ready(()));
            }
            TxState::Write => {}
        }
        // A spill in flight finishes first; then no more spills in this transaction.
        if inner.spill.is_some() {
            strata_io::ready!(self.spill_step(&mut inner));
        }
        inner.committing = true;
        let has_changes = !inner.dirty.is_empty() || !inner.spilled.is_empty();
        if inner.commit.is_none() && has_changes {
            drop(inner);
            match self.storage.commit_hook() {
                Some(hook) => strata_io::ready!(hook.before_commit(self)),
                None => {
                    // Without the B-tree's hook nobody keeps an auto-vacuum file's pointer
                    // maps: refuse rather than commit a file SQLite finds corrupt.
                    let page1 = strata_io::ready!(self.get_page(1));
                    if header::read_u32(&page1.data(), header::OFFSET_LARGEST_ROOT) != 0 {
                        return Err(Error::Unsupported(
                            "an auto-vacuum database needs the B-tree's commit hook \
                             (strata_btree::autovacuum::install) to be written"
                                .into(),
                        ));
                    }
                }
            }
            inner = self.lock();
        }
        if inner.commit.is_none() {
            if inner.dirty.is_empty() && inner.spilled.is_empty() {
                inner.committing = false;
                self.storage.wal.end_write();
                self.finish_tx(&mut inner);
                return Ok(Poll::Ready(()));
            }
            if !inner.spilled.is_empty() {
                if inner.auto_vacuum_seen() == Some(true) {
                    // The hook derived pointer maps from the pages in memory only.
                    return Err(Error::Misuse(
                        "an auto-vacuum transaction spilled pages (spill is off for \
                         auto-vacuum databases)"
                            .into(),
                    ));
                }
                if let Some(observer) = self.storage.commit_observer() {
                    // Installed after this transaction spilled: it cannot be handed the
                    // spilled pages, so it must know it misses this commit.
                    observer.commit_failed();
                }
            }
            // The commit publishes every uncommitted frame. A page whose newest spilled
            // frame is no longer its image (a savepoint rollback restored an older image,
            // or the snapshot's) must be written again, after them: load those not in
            // memory (held until the frames are built).
            loop {
                let db_size = inner.db_size_pages;
                let missing = inner
                    .spill_latest
                    .iter()
                    .filter(|(&p, &f)| p <= db_size && inner.spilled.get(&p) != Some(&f))
                    .map(|(&p, _)| p)
                    .find(|p| !inner.dirty.contains_key(p) && !inner.commit_hold.contains_key(p));
                let Some(page_no) = missing else {
                    break;
                };
                drop(inner);
                let page = strata_io::ready!(self.get_page(page_no));
                inner = self.lock();
                if !inner.dirty.contains_key(&page_no) {
                    inner.commit_hold.insert(page_no, page);
                }
            }
            // Page 1 carries the database size and change counter; it must be part of any
            // commit that changes the size (SQLite readers of the database file rely on it).
            let size_changed =
                inner.db_size_pages != inner.tx_start_db_size_pages && !inner.verbatim;
            // The first commit to a rollback-journal database switches it to WAL (page 1
            // with bytes 18/19 = 2, as SQLite's `PRAGMA journal_mode=WAL` writes it).
            let to_wal = self.storage.rollback_mode.load(Ordering::Acquire);
            // The commit frame must come after every spilled frame: when every changed
            // page in memory is already in its frame (or none is in memory), page 1 is
            // written again as the commit frame (it is never spilled).
            let db_size = inner.db_size_pages;
            let would_write = inner
                .dirty
                .keys()
                .any(|p| *p <= db_size && !inner.image_is_latest_frame(*p))
                || inner.commit_hold.keys().any(|p| *p <= db_size);
            let needs_commit_frame =
                !would_write && inner.spill_latest.keys().any(|&p| p <= db_size);
            if (size_changed || to_wal || needs_commit_frame) && !inner.dirty.contains_key(&1) {
                drop(inner);
                let page1 = strata_io::ready!(self.get_page(1));
                self.mark_dirty(&page1)?;
                inner = self.lock();
            }
            let db_size_pages = inner.db_size_pages;
            let mut committing_encoding = 0;
            if let Some(page1) = inner.dirty.get(&1).filter(|_| !inner.verbatim) {
                let mut data = page1.data_mut_unchecked();
                let counter =
                    header::read_u32(&data, header::OFFSET_CHANGE_COUNTER).wrapping_add(1);
                header::write_u32(&mut data, header::OFFSET_CHANGE_COUNTER, counter);
                header::write_u32(&mut data, header::OFFSET_DB_SIZE_PAGES, db_size_pages);
                header::write_u32(&mut data, header::OFFSET_VERSION_VALID_FOR, counter);
                header::write_u32(
                    &mut data,
                    header::OFFSET_SQLITE_VERSION,
                    header::SQLITE_VERSION_NUMBER,
                );
                if to_wal {
                    data[header::OFFSET_WRITE_VERSION] = 2;
                    data[header::OFFSET_READ_VERSION] = 2;
                }
                committing_encoding = header::text_encoding_of(&data);
            } else if let Some(page1) = inner.dirty.get(&1) {
                committing_encoding = header::text_encoding_of(&page1.data());
            }
            inner.committing_encoding = committing_encoding;
            // Pages still equal to their newest spilled frame are in the WAL already.
            let mut frames: BTreeMap<u32, Vec<u8>> = inner
                .dirty
                .iter()
                .filter(|(&page_no, _)| {
                    page_no <= db_size_pages && !inner.image_is_latest_frame(page_no)
                })
                .map(|(&page_no, page)| (page_no, page.data().clone()))
                .collect();
            for (&page_no, page) in &inner.commit_hold {
                if page_no <= db_size_pages {
                    frames.entry(page_no).or_insert_with(|| page.data().clone());
                }
            }
            let frames: Vec<(u32, Vec<u8>)> = frames.into_iter().collect();
            if frames.is_empty() {
                // Nothing within the database changed (only pages beyond a truncated end):
                // spilled frames of such pages are not committed.
                self.storage.wal.discard_uncommitted();
            }
            let sync_mode = inner
                .commit_sync_mode
                .unwrap_or(self.storage.options.sync_mode);
            let append = self
                .storage
                .wal
                .append(frames, db_size_pages)
                .with_sync_mode(sync_mode);
            // No page may change from here on (`require_write` refuses it).
            self.new_dirty_epoch();
            inner.commit = Some(CommitInProgress { append });
        }
        let polled = match inner.commit.as_mut() {
            Some(c) => c.append.poll(),
            None => return Err(Error::Misuse("commit state lost".into())),
        };
        match polled {
            Ok(Poll::Pending) => Ok(Poll::Pending),
            Err(e) => {
                inner.commit = None;
                if let Some(observer) = self.storage.commit_observer() {
                    observer.commit_failed();
                }
                Err(e.into())
            }
            Ok(Poll::Ready(_max_frame)) => {
                inner.commit = None;
                // Durable and still under the write lock: tell the observer, in commit
                // order. `dirty` still holds exactly what the frames held.
                if let Some(observer) = self.storage.commit_observer() {
                    let db_size_pages = inner.db_size_pages;
                    let mut pages: Vec<(u32, Vec<u8>)> = inner
                        .dirty
                        .iter()
                        .filter(|(&page_no, _)| page_no <= db_size_pages)
                        .map(|(&page_no, page)| (page_no, page.data().clone()))
                        .collect();
                    pages.sort_unstable_by_key(|(page_no, _)| *page_no);
                    observer.committed(&CommittedTxn {
                        pages: &pages,
                        db_size_pages,
                    });
                }
                // Page 1 with bytes 18/19 = 2 is committed: the database is in WAL mode.
                // (Only the write-lock holder commits, so nobody raced us to it.)
                self.storage.rollback_mode.store(false, Ordering::Release);
                if inner.committing_encoding != 0 {
                    self.storage
                        .text_encoding
                        .store(inner.committing_encoding, Ordering::Release);
                    inner.committing_encoding = 0;
                }
                // Take the post-commit snapshot while we still hold the write lock, so no
                // other commit can slip in: our cache is exactly that state.
                let after = self.storage.wal.begin_read();
                self.storage.wal.end_read(&after);
                // Page 1 as committed says whether the database is auto-vacuum now.
                inner.auto_vacuum_seen();
                Self::return_dirty_to_cache(&mut inner);
                inner.spilled.clear();
                inner.spill_latest.clear();
                inner.commit_hold.clear();
                inner.committing = false;
                inner.pre_images.clear();
                inner.savepoints.clear();
                inner.kinds.clear();
                inner.derived_in_sync = false;
                inner.verbatim = false;
                self.storage.wal.end_write();
                self.finish_tx(&mut inner);
                inner.last_snapshot = Some(after);
                if self.wants_checkpoint(&inner) {
                    let checkpoint = self
                        .storage
                        .wal
                        .checkpoint(self.storage.db_file.clone(), CheckpointMode::Passive);
                    inner.auto_checkpoint = Some(checkpoint);
                    return Self::poll_auto_checkpoint(&mut inner);
                }
                Ok(Poll::Ready(()))
            }
        }
    }

    fn poll_auto_checkpoint(inner: &mut PagerInner) -> Result<Poll<()>> {
        let polled = match inner.auto_checkpoint.as_mut() {
            Some(c) => c.poll(),
            None => return Ok(Poll::Ready(())),
        };
        match polled {
            Ok(Poll::Pending) => Ok(Poll::Pending),
            Ok(Poll::Ready(_)) => {
                inner.auto_checkpoint = None;
                Ok(Poll::Ready(()))
            }
            Err(e) => {
                inner.auto_checkpoint = None;
                Err(e.into())
            }
        }
    }

    fn return_dirty_to_cache(inner: &mut PagerInner) {
        // In the map's order (deterministic: `PageMap` hashes with a fixed function), not
        // sorted: no order of a transaction's pages is a better guess for the clock than
        // another, and sorting cost an allocation per commit.
        let mut dirty = std::mem::take(&mut inner.dirty);
        for (page_no, page) in dirty.drain() {
            page.dirty.store(false, Ordering::Release);
            // Pages beyond a truncated end are gone, not cached.
            if page_no <= inner.db_size_pages {
                inner.cache.insert(page);
            }
        }
        // The emptied map keeps its capacity for the next transaction, unless a large one
        // grew it (an idle connection should not hold that memory).
        if dirty.capacity() <= 256 {
            inner.dirty = dirty;
        }
    }

    /// Whether the WAL has grown past this connection's autocheckpoint threshold (the
    /// caller holds the lock: `inner`).
    fn wants_checkpoint(&self, inner: &PagerInner) -> bool {
        let threshold = inner
            .autocheckpoint_frames
            .unwrap_or(self.storage.options.autocheckpoint_frames);
        threshold > 0 && self.storage.wal.max_frame() >= threshold
    }

    /// Abandons the transaction: every page changed in it gets its old image back.
    pub fn rollback(&self) -> Result<()> {
        self.changed();
        let mut inner = self.lock();
        self.new_dirty_epoch();
        match inner.tx {
            TxState::None => return Ok(()),
            TxState::Read => {
                self.finish_tx(&mut inner);
                return Ok(());
            }
            TxState::Write => {}
        }
        if inner.commit.is_some() {
            // A failed or abandoned append published nothing; drop it.
            inner.commit = None;
        }
        // An abandoned spill published nothing either; its frames, and those of finished
        // spills, are forgotten (the next append overwrites them).
        inner.spill = None;
        inner.committing = false;
        self.storage.wal.discard_uncommitted();
        // Spilled pages' pre-images say `Forget`: the next read fetches the snapshot's.
        let pre_images = std::mem::take(&mut inner.pre_images);
        Self::restore(&mut inner, pre_images);
        inner.spilled.clear();
        inner.spill_latest.clear();
        inner.commit_hold.clear();
        // What is left in `dirty` now holds restored, committed images: valid cache content.
        inner.db_size_pages = inner.tx_start_db_size_pages;
        Self::return_dirty_to_cache(&mut inner);
        inner.savepoints.clear();
        inner.kinds.clear();
        inner.derived_in_sync = false;
        inner.verbatim = false;
        self.storage.wal.end_write();
        self.finish_tx(&mut inner);
        Ok(())
    }

    /// Copies WAL frames into the database file. Must be called outside a transaction.
    /// `Pending` means I/O is in flight: drive the IO and call again.
    pub fn checkpoint(&self, mode: CheckpointMode) -> Result<Poll<CheckpointResult>> {
        let mut inner = self.lock();
        if inner.tx != TxState::None || inner.auto_checkpoint.is_some() {
            return Err(Error::Misuse("checkpoint inside a transaction".into()));
        }
        if inner.checkpoint.is_none() {
            inner.checkpoint = Some(
                self.storage
                    .wal
                    .checkpoint(self.storage.db_file.clone(), mode),
            );
        }
        let polled = match inner.checkpoint.as_mut() {
            Some(c) => c.poll(),
            None => return Err(Error::Misuse("checkpoint state lost".into())),
        };
        match polled {
            Ok(Poll::Pending) => Ok(Poll::Pending),
            Ok(Poll::Ready(result)) => {
                inner.checkpoint = None;
                Ok(Poll::Ready(result))
            }
            Err(e) => {
                inner.checkpoint = None;
                Err(e.into())
            }
        }
    }
}
