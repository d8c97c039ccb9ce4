//! # strata-io: the IO contract every layer shares
//!
//! Strata never performs I/O, reads the clock or draws a random number except through an
//! [`IO`] object supplied by the application. That single rule is what lets the
//! deterministic simulator replay a whole run from one seed, and what lets one thread serve
//! many tenants: nothing below the public API ever blocks on the operating system.
//!
//! ## The completion model
//! [`File::pread`], [`File::pwrite`], [`File::sync`] and [`File::truncate`] *submit* an
//! operation described by a [`Completion`] and return at once. The operation finishes later,
//! when the backend records its result in the completion; the submitter learns this by
//! polling [`Completion::is_done`]. Backends differ only in *when* that happens:
//!
//! | backend        | when a completion fires                                          |
//! |----------------|------------------------------------------------------------------|
//! | `SyscallIo`    | before `pread`/`pwrite` returns (inline; the fast path is a plain syscall) |
//! | `UringIo`      | in [`IO::run_once`], as the kernel reports completions           |
//! | `MemoryIo`     | inline, or (deferred mode) only in `run_once`, to test every resume path |
//!
//! Code above this layer must therefore work whichever way round it happens: after
//! submitting, it checks the completion and, if it is not done, returns [`Poll::Pending`]
//! up the stack so the caller can drive the IO ([`IO::run_once`]) or run other work.
//!
//! ## Contract (every backend, checked by the shared conformance tests)
//! 1. A read completes with the number of bytes read. It is shorter than requested only
//!    when the file ends; partial reads from the OS are resubmitted by the backend.
//! 2. A write completes with the full length, or with an error. Partial writes are
//!    resubmitted by the backend; a write that cannot make progress is an error.
//! 3. Errors reach the completion (or the submitting call) as [`IoError`], keeping the
//!    `std::io::ErrorKind`. A backend never panics on an I/O failure.
//! 4. Any number of operations may be in flight at once, on one or many files. There is
//!    no ordering guarantee between operations in flight together; a layer that needs
//!    order (write then fsync) waits for the first completion before submitting the second.
//! 5. A completion's buffer is owned by the completion, not the caller, so it stays alive
//!    and in place until the operation finishes, whatever the caller does meanwhile.
//! 6. `sync` makes every write that *completed* before it was submitted durable.
//! 7. Time ([`IO::now_micros`]) and randomness ([`IO::random_u64`]) come from the IO object.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

mod error;
mod memory;
mod syscall;
mod unix;
#[cfg(target_os = "linux")]
mod uring;

pub use error::{IoError, Result};
pub use memory::{MemoryIo, MemoryIoOptions};
pub use std::task::Poll;
pub use syscall::SyscallIo;
#[cfg(target_os = "linux")]
pub use uring::UringIo;

/// How to open a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFlags {
    /// Create the file if it does not exist.
    pub create: bool,
    /// Open without write access.
    pub read_only: bool,
}

impl OpenFlags {
    /// Read-write, creating the file if it is missing.
    pub const CREATE: OpenFlags = OpenFlags {
        create: true,
        read_only: false,
    };
    /// Read-write; the file must exist.
    pub const READ_WRITE: OpenFlags = OpenFlags {
        create: false,
        read_only: false,
    };
    /// Read-only; the file must exist.
    pub const READ_ONLY: OpenFlags = OpenFlags {
        create: false,
        read_only: true,
    };
}

/// An advisory, whole-file lock between processes (or between `open_file` handles of a
/// [`MemoryIo`]). Used to keep a second process away from a database we have open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockKind {
    Shared,
    Exclusive,
}

/// The I/O module: files, the clock and the random source.
///
/// Implementations are shared between connections and threads, hence `Send + Sync`.
#[allow(clippy::upper_case_acronyms)]
pub trait IO: Send + Sync {
    /// Opens (or creates) a file. Opening is synchronous: it happens once per database.
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>>;

    /// Removes a file; removing a missing file is not an error.
    fn remove_file(&self, path: &str) -> Result<()>;

    /// Whether a file exists.
    fn file_exists(&self, path: &str) -> Result<bool>;

    /// Drives the backend: fires every completion that is ready. If operations are in
    /// flight and none is ready, waits until at least one is. Returns at once when nothing
    /// is in flight.
    fn run_once(&self) -> Result<()>;

    /// Drives the backend without ever waiting: hands queued operations to the OS and
    /// fires the completions that are already ready. Returns true if any fired.
    ///
    /// For schedulers that keep running other work while operations are in flight (the
    /// server's event loops): without it, queued operations would only start, and their
    /// completions only fire, when the scheduler runs out of work and calls
    /// [`IO::run_once`]. The default does nothing, which is right for backends whose
    /// operations complete inside the submitting call and leaves the others driven by
    /// `run_once` alone, as before.
    fn run_ready(&self) -> Result<bool> {
        Ok(false)
    }

    /// Wall-clock time in microseconds since the Unix epoch.
    fn now_micros(&self) -> u64;

    /// A random 64-bit number. Simulated IOs return a seeded sequence.
    fn random_u64(&self) -> u64;
}

/// An open file. All offsets and lengths are in bytes.
pub trait File: Send + Sync {
    /// Takes an advisory lock without waiting; fails with [`IoError::is_locked`] errors
    /// when another holder conflicts.
    fn lock(&self, kind: LockKind) -> Result<()>;

    /// Releases the lock taken by [`File::lock`].
    fn unlock(&self) -> Result<()>;

    /// Submits a read of `c.len()` bytes at `offset` into the completion's buffer.
    /// `c` must have been made by [`Completion::read`].
    fn pread(&self, offset: u64, c: &Completion) -> Result<()>;

    /// Submits a write of the completion's buffer at `offset`.
    /// `c` must have been made by [`Completion::write`].
    fn pwrite(&self, offset: u64, c: &Completion) -> Result<()>;

    /// Submits an fsync (data and metadata needed to read the data back).
    fn sync(&self, c: &Completion) -> Result<()>;

    /// Submits a truncation (or extension with zeros) to `size_bytes`.
    fn truncate(&self, size_bytes: u64, c: &Completion) -> Result<()>;

    /// The current size of the file.
    fn size_bytes(&self) -> Result<u64>;
}

/// What a [`Completion`] describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionKind {
    Read,
    Write,
    Sync,
    Truncate,
}

/// One submitted I/O operation and, once it finishes, its result.
///
/// Cloning is cheap (an `Arc`); the submitter keeps one clone to poll and a backend may
/// keep another while the operation is in flight.
#[derive(Clone)]
pub struct Completion {
    inner: Arc<CompletionInner>,
}

struct CompletionInner {
    kind: CompletionKind,
    /// For reads, the destination (its length is the requested length); for writes, the
    /// source. Empty for sync and truncate.
    buf: Mutex<Vec<u8>>,
    /// Set exactly once, by the backend: bytes transferred, or the error.
    result: OnceLock<Result<usize>>,
}

impl Completion {
    fn new(kind: CompletionKind, buf: Vec<u8>) -> Self {
        Completion {
            inner: Arc::new(CompletionInner {
                kind,
                buf: Mutex::new(buf),
                result: OnceLock::new(),
            }),
        }
    }

    /// A read of `len_bytes` bytes into a zeroed buffer owned by the completion.
    pub fn read(len_bytes: usize) -> Self {
        Self::new(CompletionKind::Read, vec![0; len_bytes])
    }

    /// A read of `buf.len()` bytes into `buf`, a buffer the caller recycles (its old bytes
    /// are overwritten by what is read; a short read leaves the rest as it was, so the
    /// caller must clear what the result does not cover). Saves a zeroed allocation per
    /// read: a page-cache miss that reuses an evicted page's buffer.
    pub fn read_into(buf: Vec<u8>) -> Self {
        Self::new(CompletionKind::Read, buf)
    }

    /// A write of `data`.
    pub fn write(data: Vec<u8>) -> Self {
        Self::new(CompletionKind::Write, data)
    }

    /// An fsync.
    pub fn sync() -> Self {
        Self::new(CompletionKind::Sync, Vec::new())
    }

    /// A truncation.
    pub fn truncate() -> Self {
        Self::new(CompletionKind::Truncate, Vec::new())
    }

    pub fn kind(&self) -> CompletionKind {
        self.inner.kind
    }

    /// Requested length in bytes (reads and writes), 0 otherwise.
    pub fn len(&self) -> usize {
        self.lock_buf().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the operation has finished (successfully or not).
    pub fn is_done(&self) -> bool {
        self.inner.result.get().is_some()
    }

    /// The result once finished: `Some(Ok(bytes))` or `Some(Err(..))`; `None` while in flight.
    pub fn result(&self) -> Option<Result<usize>> {
        self.inner.result.get().cloned()
    }

    /// `Ready(Ok(bytes))` when done, `Pending` while in flight.
    pub fn poll(&self) -> Result<Poll<usize>> {
        match self.inner.result.get() {
            None => Ok(Poll::Pending),
            Some(Ok(n)) => Ok(Poll::Ready(*n)),
            Some(Err(e)) => Err(e.clone()),
        }
    }

    /// The buffer. For a read, call only once the completion is done: until then a backend
    /// may be writing into it.
    pub fn buf(&self) -> MutexGuard<'_, Vec<u8>> {
        self.lock_buf()
    }

    /// Takes the buffer out (a read's data, once done), leaving an empty one.
    pub fn take_buf(&self) -> Vec<u8> {
        std::mem::take(&mut *self.lock_buf())
    }

    /// For backends: records the result. A second call is ignored (the first result wins),
    /// so a backend that reports twice cannot corrupt state.
    pub fn complete(&self, result: Result<usize>) {
        let _ = self.inner.result.set(result);
    }

    /// For backends: a raw pointer to the buffer and its length, for kernel-driven I/O.
    ///
    /// # Safety
    /// The caller must not create a Rust reference to the buffer (through [`Completion::buf`]
    /// or otherwise) while it uses the pointer, and must stop using it before calling
    /// [`Completion::complete`]. The buffer is never resized while an operation is in
    /// flight, so the pointer stays valid as long as a clone of this completion is alive.
    pub unsafe fn raw_buf(&self) -> (*mut u8, usize) {
        let mut guard = self.lock_buf();
        (guard.as_mut_ptr(), guard.len())
    }

    fn lock_buf(&self) -> MutexGuard<'_, Vec<u8>> {
        // A poisoned lock only means another thread panicked while holding it; the bytes
        // are still bytes, so carry on rather than propagate the panic.
        self.inner.buf.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("kind", &self.inner.kind)
            .field("result", &self.inner.result.get())
            .finish()
    }
}

/// Blocks (by driving `io`) until `c` is done, and returns its result. For tests and for
/// the few one-time operations (opening a database) that are allowed to block.
pub fn wait(io: &dyn IO, c: &Completion) -> Result<usize> {
    loop {
        if let Some(r) = c.result() {
            return r;
        }
        io.run_once()?;
    }
}

/// Drives a resumable operation to completion: calls `op` until it returns `Ready`,
/// running the IO between attempts. For tests and blocking conveniences.
pub fn block_on<T, E: From<IoError>>(
    io: &dyn IO,
    mut op: impl FnMut() -> std::result::Result<Poll<T>, E>,
) -> std::result::Result<T, E> {
    loop {
        match op()? {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending => io.run_once()?,
        }
    }
}

/// Unwraps `Result<Poll<T>, E>` inside a function returning `Result<Poll<U>, E>`:
/// errors propagate with `?`, `Pending` returns `Ok(Poll::Pending)` at once.
///
/// The calling function must be safe to call again from the start (or from a recorded
/// state) after it returns `Pending`: it may not have changed anything before this point.
#[macro_export]
macro_rules! ready {
    ($e:expr) => {
        match $e? {
            $crate::Poll::Ready(v) => v,
            $crate::Poll::Pending => return Ok($crate::Poll::Pending),
        }
    };
}
