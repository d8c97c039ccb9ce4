//! Opening databases: [`Database`] and [`OpenOptions`].

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use strata_io::{MemoryIo, SyscallIo, IO};
use strata_pager::{CommitObserver, Storage, StorageOptions, SyncMode};

use crate::connection::Connection;
use crate::error::{Error, ErrorCode, Result};

/// How long a blocking call waits for a lock before failing with "database is locked",
/// unless configured otherwise.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// An open database: the file, its WAL and its configuration, shared by every
/// [`Connection`] made from it.
///
/// A database file may be open in at most one `Database` at a time (per process and
/// across processes: the file is locked exclusively); open it once and call
/// [`Database::connect`] for each connection. Cloning a `Database` is cheap (an `Arc`),
/// and it is `Send + Sync`.
///
/// ```no_run
/// # fn main() -> strata::Result<()> {
/// let db = strata::Database::open("app.db")?;
/// let writer = db.connect();
/// let reader = db.connect();
/// writer.execute_batch("CREATE TABLE IF NOT EXISTS t(x); INSERT INTO t VALUES (1)")?;
/// let n: i64 = reader.query_row("SELECT count(*) FROM t", (), |r| r.get(0))?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Database {
    inner: Arc<DbInner>,
}

struct DbInner {
    storage: Arc<Storage>,
    busy_timeout_ms: u64,
    /// Checkpoint and delete the WAL when the last handle goes ([`OpenOptions::
    /// checkpoint_on_close`]); never for in-memory databases.
    checkpoint_on_close: bool,
    /// Connections may `ATTACH` database files ([`OpenOptions::attach_files`]).
    attach_files: bool,
    /// The database lives on a private `MemoryIo` (`open_in_memory` without an IO):
    /// the files its connections ATTACH are opened on the default IO (the disk), as
    /// SQLite's in-memory database attaches real files.
    private_memory: bool,
    /// Set once when the database is an embedded replica ([`crate::Builder`]).
    #[cfg(feature = "replica")]
    replica: std::sync::OnceLock<Arc<crate::replica::Replica>>,
}

impl Database {
    /// Opens (creating if missing) the database at `path` with default options, on
    /// io_uring when the kernel allows it, else on plain syscalls.
    pub fn open(path: impl AsRef<Path>) -> Result<Database> {
        OpenOptions::new().open(path)
    }

    /// Opens the database at `path` on the given IO backend.
    ///
    /// ```
    /// # fn main() -> strata::Result<()> {
    /// use std::sync::Arc;
    /// let io = Arc::new(strata::io::MemoryIo::new());
    /// let db = strata::Database::open_with_io("test.db", io)?;
    /// # Ok(()) }
    /// ```
    pub fn open_with_io(path: impl AsRef<Path>, io: Arc<dyn IO>) -> Result<Database> {
        OpenOptions::new().io(io).open(path)
    }

    /// A new, empty database held in memory ([`MemoryIo`]) and gone when the last
    /// handle is dropped. It is still in WAL mode with the normal file format.
    ///
    /// ```
    /// let db = strata::Database::open_in_memory().unwrap();
    /// let conn = db.connect();
    /// assert!(conn.is_autocommit());
    /// ```
    pub fn open_in_memory() -> Result<Database> {
        OpenOptions::new().open_in_memory()
    }

    /// A new connection. Connections of one database see each other's commits; each
    /// has its own page cache, transaction and prepared statements.
    pub fn connect(&self) -> Connection {
        Connection::from_storage(
            self.clone(),
            Duration::from_millis(self.inner.busy_timeout_ms),
        )
    }

    /// The storage layer underneath (for tools and tests).
    pub fn storage(&self) -> &Arc<Storage> {
        &self.inner.storage
    }

    /// The IO backend.
    pub fn io(&self) -> &Arc<dyn IO> {
        self.inner.storage.io()
    }

    /// The path the database was opened with.
    pub fn path(&self) -> &str {
        self.inner.storage.path()
    }

    /// True while something besides this handle keeps the database open: another clone,
    /// a connection, or a statement (an idle-database cache may close this handle only
    /// when false, or the file would stay open and a new open of it would be refused).
    pub fn is_shared(&self) -> bool {
        Arc::strong_count(&self.inner) > 1
    }

    /// The page size in bytes.
    pub fn page_size(&self) -> usize {
        self.inner.storage.page_size()
    }

    /// Installs (or with `None` removes) an observer told about every committed write
    /// transaction of every connection of this database: the page images it wrote and
    /// the database size after it, once the WAL frames are durable, in commit order
    /// (the committer still holds the write lock while the observer runs). Rolled-back
    /// transactions are never reported. The commit stands whatever the observer does;
    /// it runs on the committing thread, so it delays that commit's completion, and it
    /// must not use this database (it runs inside the commit: that would deadlock).
    /// `strata-server` builds its replication log with it.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// struct Count(Mutex<Vec<u32>>);
    /// impl strata::CommitObserver for Count {
    ///     fn committed(&self, txn: &strata::CommittedTxn<'_>) {
    ///         self.0.lock().unwrap().push(txn.db_size_pages);
    ///     }
    /// }
    /// let db = strata::Database::open_in_memory().unwrap();
    /// let seen = Arc::new(Count(Mutex::new(Vec::new())));
    /// db.set_commit_observer(Some(seen.clone()));
    /// db.connect().execute_batch("CREATE TABLE t(x)").unwrap();
    /// assert_eq!(*seen.0.lock().unwrap(), vec![2]);
    /// ```
    pub fn set_commit_observer(&self, observer: Option<Arc<dyn CommitObserver>>) {
        self.inner.storage.set_commit_observer(observer);
    }
}

impl Database {
    /// [`OpenOptions::attach_files`].
    pub(crate) fn attach_files(&self) -> bool {
        self.inner.attach_files
    }

    /// The IO backend the files its connections ATTACH are opened on: this database's
    /// (the blocking layer drives that one only), or for a private in-memory database
    /// the disk's through plain syscalls, which complete inline and need no driving.
    pub(crate) fn attach_io(&self) -> Arc<dyn IO> {
        static DISK: std::sync::OnceLock<Arc<dyn IO>> = std::sync::OnceLock::new();
        if self.inner.private_memory {
            DISK.get_or_init(|| Arc::new(SyscallIo::new())).clone()
        } else {
            self.io().clone()
        }
    }

    /// True if this is an embedded replica (writes run on the primary).
    pub fn is_replica(&self) -> bool {
        #[cfg(feature = "replica")]
        {
            self.inner.replica.get().is_some()
        }
        #[cfg(not(feature = "replica"))]
        {
            false
        }
    }
}

#[cfg(feature = "replica")]
impl Database {
    pub(crate) fn busy_timeout_ms(&self) -> u64 {
        self.inner.busy_timeout_ms
    }

    pub(crate) fn replica(&self) -> Option<&Arc<crate::replica::Replica>> {
        self.inner.replica.get()
    }

    pub(crate) fn attach_replica(&self, replica: Arc<crate::replica::Replica>) {
        let _ = self.inner.replica.set(replica);
    }

    /// Brings an embedded replica up to date with its primary (see [`crate::replica`]).
    /// An error on a database that is not a replica.
    pub fn sync(&self) -> Result<crate::replica::Replicated> {
        match self.inner.replica.get() {
            Some(r) => r.sync(),
            None => Err(Error::new(
                ErrorCode::Misuse,
                "sync() on a database that is not a replica",
            )),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path())
            .finish()
    }
}

/// Options for opening a [`Database`] (a builder).
///
/// ```
/// # fn main() -> strata::Result<()> {
/// use strata::{OpenOptions, SyncMode};
/// let db = OpenOptions::new()
///     .page_size(8192)
///     .cache_size_pages(500)
///     .sync_mode(SyncMode::Normal)
///     .busy_timeout(std::time::Duration::from_millis(100))
///     .open_in_memory()?;
/// assert_eq!(db.page_size(), 8192);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct OpenOptions {
    storage: StorageOptions,
    busy_timeout: Duration,
    io: Option<Arc<dyn IO>>,
    checkpoint_on_close: bool,
    journal_size_limit_bytes: Option<i64>,
    attach_files: bool,
    private_memory: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions::new()
    }
}

impl OpenOptions {
    pub fn new() -> OpenOptions {
        OpenOptions {
            storage: StorageOptions::default(),
            busy_timeout: DEFAULT_BUSY_TIMEOUT,
            io: None,
            checkpoint_on_close: true,
            journal_size_limit_bytes: None,
            attach_files: true,
            private_memory: false,
        }
    }

    /// `PRAGMA journal_size_limit` from the start (bytes; -1, the default, is no limit):
    /// when the WAL restarts from its first frame after a checkpoint, its file is
    /// truncated to this size (or to the restart's frames, if larger), as SQLite does.
    pub fn journal_size_limit(mut self, bytes: i64) -> Self {
        self.journal_size_limit_bytes = Some(bytes.max(-1));
        self
    }

    /// Whether closing the database (dropping its last [`Database`] handle, connection
    /// and statement) checkpoints the whole WAL into the database file and deletes the
    /// WAL, as SQLite does when its last connection closes, so a closed database is a
    /// single file (default true). The close blocks on the IO until the checkpoint is
    /// done; a failed checkpoint leaves the WAL for the next open to recover. Off: the
    /// WAL stays as it is (SQLite's `SQLITE_FCNTL_PERSIST_WAL`).
    pub fn checkpoint_on_close(mut self, on: bool) -> Self {
        self.checkpoint_on_close = on;
        self
    }

    /// Whether this database's connections may `ATTACH` database files (default true):
    /// the file is opened on this database's IO backend, by the path as written
    /// (relative to the process's working directory, as SQLite's). Off, `ATTACH` of a
    /// file fails ("ATTACH of a database file is disabled"); `':memory:'` and `''`
    /// (private in-memory databases) still attach. A server whose clients send SQL
    /// turns it off: a client could otherwise open any file the process can.
    pub fn attach_files(mut self, on: bool) -> Self {
        self.attach_files = on;
        self
    }

    /// Page size for a new database (a power of two, 512..=65536; default 4096). An
    /// existing database keeps its own.
    pub fn page_size(mut self, bytes: usize) -> Self {
        self.storage.page_size = bytes;
        self
    }

    /// Page cache capacity per connection, in pages (default 2000).
    pub fn cache_size_pages(mut self, pages: usize) -> Self {
        self.storage.cache_size_pages = pages;
        self
    }

    /// When commits are fsynced (default [`SyncMode::Full`]).
    pub fn sync_mode(mut self, mode: SyncMode) -> Self {
        self.storage.sync_mode = mode;
        self
    }

    /// Checkpoint after a commit leaves at least this many WAL frames (default 1000;
    /// 0 disables).
    pub fn autocheckpoint_frames(mut self, frames: u64) -> Self {
        self.storage.autocheckpoint_frames = frames;
        self
    }

    /// How long blocking calls retry on a lock before failing with "database is
    /// locked" (default 5 s; zero fails at once). Non-blocking [`Statement::step`]
    /// (crate::Statement::step) never waits: it returns `StepResult::Busy`.
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The IO backend to use (default: io_uring if available, else syscalls).
    pub fn io(mut self, io: Arc<dyn IO>) -> Self {
        self.io = Some(io);
        self
    }

    /// Opens (creating if missing) the database at `path`.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<Database> {
        let path = path.as_ref();
        let path = path
            .to_str()
            .ok_or_else(|| Error::new(ErrorCode::Misuse, "database path is not valid UTF-8"))?;
        let io = match &self.io {
            Some(io) => io.clone(),
            None => default_io(),
        };
        self.open_on(io, path)
    }

    /// A new in-memory database (on a private [`MemoryIo`] unless an IO was given, in
    /// which case a fresh file name on that IO is used).
    pub fn open_in_memory(&self) -> Result<Database> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let io = match &self.io {
            Some(io) => io.clone(),
            None => Arc::new(MemoryIo::new()) as Arc<dyn IO>,
        };
        // Gone at close anyway: no checkpoint.
        let mut options = self.clone();
        options.checkpoint_on_close = false;
        options.private_memory = self.io.is_none();
        options.open_on(io, &format!(":memory:{n}"))
    }

    fn open_on(&self, io: Arc<dyn IO>, path: &str) -> Result<Database> {
        let db = self.open_unregistered(io.clone(), path)?;
        register(&io, path, &db);
        Ok(db)
    }

    fn open_unregistered(&self, io: Arc<dyn IO>, path: &str) -> Result<Database> {
        let storage = Storage::open(io, path, self.storage).map_err(|e| match e {
            strata_pager::Error::Busy => Error::new(ErrorCode::Busy, "database is locked"),
            e => Error::from(e),
        })?;
        // Auto-vacuum databases keep their pointer maps through this commit hook.
        strata_btree::autovacuum::install(&storage);
        if let Some(limit) = self.journal_size_limit_bytes {
            storage.journal_size_limit(Some(limit));
        }
        Ok(Database {
            inner: Arc::new(DbInner {
                storage,
                busy_timeout_ms: self.busy_timeout.as_millis().min(u64::MAX as u128) as u64,
                checkpoint_on_close: self.checkpoint_on_close,
                attach_files: self.attach_files,
                private_memory: self.private_memory,
                #[cfg(feature = "replica")]
                replica: std::sync::OnceLock::new(),
            }),
        })
    }
}

impl Drop for DbInner {
    /// The last handle is gone: checkpoint and delete the WAL (see
    /// [`OpenOptions::checkpoint_on_close`]). Best effort: an error leaves the WAL, which
    /// the next open recovers.
    fn drop(&mut self) {
        // A replica's machinery may hold the storage; it goes first.
        #[cfg(feature = "replica")]
        drop(self.replica.take());
        if !self.checkpoint_on_close {
            return;
        }
        // Nothing to report to: an error leaves a complete WAL for the next open.
        let _ = self.storage.checkpoint_and_remove_wal();
    }
}

/// The databases open in this process, by IO backend and absolute path: `ATTACH` of a
/// file that is open already shares its `Database` (the file is locked exclusively, so
/// a second open would be refused), as SQLite's connections share a file.
#[allow(clippy::type_complexity)]
static OPEN: Mutex<Vec<(usize, String, Weak<DbInner>)>> = Mutex::new(Vec::new());

fn io_key(io: &Arc<dyn IO>) -> usize {
    Arc::as_ptr(io) as *const () as usize
}

/// The absolute form of `path` (what `PRAGMA database_list` shows, and the registry's
/// key); in-memory names as they are.
pub(crate) fn absolute_path(path: &str) -> String {
    if path.starts_with(":memory:") {
        return path.to_string();
    }
    std::path::absolute(path)
        .ok()
        .and_then(|p| p.to_str().map(str::to_string))
        .unwrap_or_else(|| path.to_string())
}

fn register(io: &Arc<dyn IO>, path: &str, db: &Database) {
    let key = absolute_path(path);
    let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    open.retain(|(_, _, w)| w.strong_count() > 0);
    open.push((io_key(io), key, Arc::downgrade(&db.inner)));
}

/// The database at `path` on `io` for an `ATTACH`: the one open on that IO in this
/// process if any, else opened (and registered) with default options. (A file open on
/// another IO backend is locked: that attach fails with "database is locked".)
pub(crate) fn open_for_attach(io: &Arc<dyn IO>, path: &str) -> Result<Database> {
    let key = absolute_path(path);
    let mut open = OPEN.lock().unwrap_or_else(|p| p.into_inner());
    open.retain(|(_, _, w)| w.strong_count() > 0);
    let k = io_key(io);
    if let Some(inner) = open
        .iter()
        .filter(|(i, p, _)| *i == k && *p == key)
        .find_map(|(_, _, w)| w.upgrade())
    {
        return Ok(Database { inner });
    }
    let db = OpenOptions::new().open_unregistered(io.clone(), path)?;
    open.push((k, key, Arc::downgrade(&db.inner)));
    Ok(db)
}

/// io_uring on Linux when a ring can be created (kernels and sandboxes may refuse), else
/// positioned-I/O syscalls.
pub(crate) fn default_io() -> Arc<dyn IO> {
    #[cfg(target_os = "linux")]
    {
        if let Ok(io) = strata_io::UringIo::new() {
            return Arc::new(io);
        }
    }
    Arc::new(SyscallIo::new())
}
