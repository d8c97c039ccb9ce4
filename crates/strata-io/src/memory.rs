//! `MemoryIo`: files as byte vectors, a deterministic clock and a seeded random source.
//!
//! It exists for tests and the simulator. In *deferred* mode nothing completes until
//! [`IO::run_once`], so every caller's `Pending` path runs; with a shuffle seed each
//! `run_once` completes a random non-empty subset of the queue in random order, so callers
//! that wrongly rely on completion order fail reproducibly.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{Completion, CompletionKind, File, IoError, LockKind, OpenFlags, Result, IO};

pub(crate) const SPLITMIX64_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// One step of splitmix64 on a shared state: small, fast, and good enough for simulation
/// and for seeding; lock-free so `random_u64` never contends.
pub(crate) fn splitmix64_next(state: &AtomicU64) -> u64 {
    let mut z = state
        .fetch_add(SPLITMIX64_GAMMA, Ordering::Relaxed)
        .wrapping_add(SPLITMIX64_GAMMA);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A memory file larger than this is a bug in the caller (a garbage offset), reported as
/// EFBIG instead of an allocation that aborts the process.
const MAX_FILE_BYTES: u64 = 1 << 36;

/// How a [`MemoryIo`] behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryIoOptions {
    /// Queue every operation and perform it only in `run_once`.
    pub defer: bool,
    /// With `defer`, each `run_once` completes a random non-empty subset of the queued
    /// operations in random order, drawn from this seed. `None`: all of them, FIFO.
    /// Setting it implies `defer`.
    pub shuffle_seed: Option<u64>,
    /// Seed of the `random_u64` sequence.
    pub random_seed: u64,
    /// What the first `now_micros` call returns.
    pub start_micros: u64,
    /// How far each `now_micros` call advances the clock, so code that waits for time to
    /// pass makes progress without a real clock.
    pub micros_per_call: u64,
}

impl Default for MemoryIoOptions {
    fn default() -> Self {
        MemoryIoOptions {
            defer: false,
            shuffle_seed: None,
            random_seed: 0x5EED_5EED_5EED_5EED,
            // 2023-11-14T22:13:20Z: a plausible "now" keeps date arithmetic realistic.
            start_micros: 1_700_000_000_000_000,
            micros_per_call: 1,
        }
    }
}

/// In-memory IO; see the module docs. Cheap to share: wrap in an `Arc`.
pub struct MemoryIo {
    shared: Arc<Shared>,
}

struct Shared {
    files: Mutex<HashMap<String, Arc<Node>>>,
    queue: Mutex<VecDeque<Pending>>,
    defer: bool,
    /// Present when completions are shuffled; separate from `random` so that the order of
    /// completions does not shift the sequence `random_u64` returns, and vice versa.
    shuffle_state: Option<AtomicU64>,
    random_state: AtomicU64,
    clock_micros: AtomicU64,
    micros_per_call: u64,
    next_handle_id: AtomicU64,
}

/// A file's contents and locks: the inode. A removed file stays readable through the
/// handles still open on it, as on Unix.
#[derive(Default)]
struct Node {
    data: Mutex<Vec<u8>>,
    /// Lock held by each open handle (by handle id).
    locks: Mutex<HashMap<u64, LockKind>>,
}

enum Op {
    Read { offset: u64 },
    Write { offset: u64 },
    Sync,
    Truncate { size_bytes: u64 },
}

struct Pending {
    node: Arc<Node>,
    path: Arc<str>,
    read_only: bool,
    op: Op,
    completion: Completion,
}

/// Rejects a completion of the wrong kind at submission, before anything happens.
pub(crate) fn expect_kind(c: &Completion, expected: CompletionKind) -> Result<()> {
    if c.kind() == expected {
        Ok(())
    } else {
        Err(IoError::new(
            std::io::ErrorKind::InvalidInput,
            format!("{:?} completion submitted as a {expected:?}", c.kind()),
        ))
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind; keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn os_error(errno: i32, context: &str) -> IoError {
    IoError::from(std::io::Error::from_raw_os_error(errno)).context(context)
}

impl MemoryIo {
    /// Inline mode: every operation completes before the submitting call returns.
    pub fn new() -> Self {
        Self::with_options(MemoryIoOptions::default())
    }

    /// Deferred mode, FIFO: operations complete only in `run_once`.
    pub fn new_deferred() -> Self {
        Self::with_options(MemoryIoOptions {
            defer: true,
            ..MemoryIoOptions::default()
        })
    }

    /// Deferred mode with completions in a random order drawn from `seed`.
    pub fn new_shuffled(seed: u64) -> Self {
        Self::with_options(MemoryIoOptions {
            defer: true,
            shuffle_seed: Some(seed),
            ..MemoryIoOptions::default()
        })
    }

    pub fn with_options(options: MemoryIoOptions) -> Self {
        MemoryIo {
            shared: Arc::new(Shared {
                files: Mutex::new(HashMap::new()),
                queue: Mutex::new(VecDeque::new()),
                defer: options.defer || options.shuffle_seed.is_some(),
                shuffle_state: options.shuffle_seed.map(AtomicU64::new),
                random_state: AtomicU64::new(options.random_seed),
                clock_micros: AtomicU64::new(options.start_micros),
                micros_per_call: options.micros_per_call,
                next_handle_id: AtomicU64::new(1),
            }),
        }
    }

    /// A copy of the file's bytes, or `None` if there is no such file.
    pub fn file_contents(&self, path: &str) -> Option<Vec<u8>> {
        let node = lock(&self.shared.files).get(path).cloned()?;
        let data = lock(&node.data).clone();
        Some(data)
    }

    /// Replaces the file's bytes (creating it if needed); open handles see the new bytes.
    pub fn set_file_contents(&self, path: &str, bytes: Vec<u8>) {
        let node = lock(&self.shared.files)
            .entry(path.to_string())
            .or_default()
            .clone();
        *lock(&node.data) = bytes;
    }

    /// Moves the clock forward.
    pub fn advance_clock(&self, micros: u64) {
        self.shared
            .clock_micros
            .fetch_add(micros, Ordering::Relaxed);
    }

    /// Operations submitted and not yet completed (always 0 in inline mode).
    pub fn pending_ops(&self) -> usize {
        lock(&self.shared.queue).len()
    }
}

impl Default for MemoryIo {
    fn default() -> Self {
        Self::new()
    }
}

impl IO for MemoryIo {
    fn open_file(&self, path: &str, flags: OpenFlags) -> Result<Arc<dyn File>> {
        let node = {
            let mut files = lock(&self.shared.files);
            match files.get(path) {
                Some(node) => node.clone(),
                // As with the OS backends, a read-only open never creates.
                None if flags.create && !flags.read_only => {
                    files.entry(path.to_string()).or_default().clone()
                }
                None => return Err(os_error(libc::ENOENT, path)),
            }
        };
        Ok(Arc::new(MemoryFile {
            shared: self.shared.clone(),
            node,
            path: Arc::from(path),
            handle_id: self.shared.next_handle_id.fetch_add(1, Ordering::Relaxed),
            read_only: flags.read_only,
        }))
    }

    fn remove_file(&self, path: &str) -> Result<()> {
        lock(&self.shared.files).remove(path);
        Ok(())
    }

    fn file_exists(&self, path: &str) -> Result<bool> {
        Ok(lock(&self.shared.files).contains_key(path))
    }

    fn run_once(&self) -> Result<()> {
        let batch: Vec<Pending> = {
            let mut queue = lock(&self.shared.queue);
            match &self.shared.shuffle_state {
                None => queue.drain(..).collect(),
                Some(state) if !queue.is_empty() => {
                    let mut all: Vec<Pending> = queue.drain(..).collect();
                    let count = all.len();
                    let take = 1 + (splitmix64_next(state) % count as u64) as usize;
                    // Partial Fisher-Yates: the first `take` slots become a random
                    // selection in random order.
                    for i in 0..take {
                        let j = i + (splitmix64_next(state) % (count - i) as u64) as usize;
                        all.swap(i, j);
                    }
                    queue.extend(all.drain(take..));
                    all
                }
                Some(_) => Vec::new(),
            }
        };
        for pending in batch {
            let result = perform(
                &pending.node,
                pending.read_only,
                &pending.op,
                &pending.completion,
            )
            .map_err(|e| e.context(&pending.path));
            pending.completion.complete(result);
        }
        Ok(())
    }

    fn now_micros(&self) -> u64 {
        self.shared
            .clock_micros
            .fetch_add(self.shared.micros_per_call, Ordering::Relaxed)
    }

    fn random_u64(&self) -> u64 {
        splitmix64_next(&self.shared.random_state)
    }
}

/// Carries out one operation against the file's bytes, with the errors a real file gives.
fn perform(node: &Node, read_only: bool, op: &Op, c: &Completion) -> Result<usize> {
    match *op {
        Op::Read { offset } => {
            let data = lock(&node.data);
            let mut buf = c.buf();
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(data.len());
            let count = buf.len().min(data.len() - start);
            buf[..count].copy_from_slice(&data[start..start + count]);
            Ok(count)
        }
        Op::Write { offset } => {
            if read_only {
                return Err(os_error(libc::EBADF, "write to a read-only file"));
            }
            let buf = c.buf();
            let end = offset
                .checked_add(buf.len() as u64)
                .filter(|&end| end <= MAX_FILE_BYTES)
                .ok_or_else(|| os_error(libc::EFBIG, "memory file write"))?;
            let (start, end) = (offset as usize, end as usize);
            let mut data = lock(&node.data);
            if data.len() < end {
                data.resize(end, 0);
            }
            data[start..end].copy_from_slice(&buf);
            Ok(buf.len())
        }
        Op::Sync => Ok(0),
        Op::Truncate { size_bytes } => {
            if read_only {
                // What ftruncate(2) reports for a descriptor not open for writing.
                return Err(os_error(libc::EINVAL, "truncate of a read-only file"));
            }
            if size_bytes > MAX_FILE_BYTES {
                return Err(os_error(libc::EFBIG, "memory file truncate"));
            }
            lock(&node.data).resize(size_bytes as usize, 0);
            Ok(0)
        }
    }
}

struct MemoryFile {
    shared: Arc<Shared>,
    node: Arc<Node>,
    path: Arc<str>,
    handle_id: u64,
    read_only: bool,
}

impl MemoryFile {
    fn submit(&self, op: Op, c: &Completion) {
        if self.shared.defer {
            lock(&self.shared.queue).push_back(Pending {
                node: self.node.clone(),
                path: self.path.clone(),
                read_only: self.read_only,
                op,
                completion: c.clone(),
            });
        } else {
            c.complete(
                perform(&self.node, self.read_only, &op, c).map_err(|e| e.context(&self.path)),
            );
        }
    }
}

impl File for MemoryFile {
    fn lock(&self, kind: LockKind) -> Result<()> {
        let mut locks = lock(&self.node.locks);
        let conflict = locks.iter().any(|(&holder, &held)| {
            holder != self.handle_id && (held == LockKind::Exclusive || kind == LockKind::Exclusive)
        });
        if conflict {
            // Like an OFD lock, a refused request leaves this handle's lock as it was.
            return Err(IoError::locked(&self.path));
        }
        locks.insert(self.handle_id, kind);
        Ok(())
    }

    fn unlock(&self) -> Result<()> {
        lock(&self.node.locks).remove(&self.handle_id);
        Ok(())
    }

    fn pread(&self, offset: u64, c: &Completion) -> Result<()> {
        expect_kind(c, CompletionKind::Read)?;
        self.submit(Op::Read { offset }, c);
        Ok(())
    }

    fn pwrite(&self, offset: u64, c: &Completion) -> Result<()> {
        expect_kind(c, CompletionKind::Write)?;
        self.submit(Op::Write { offset }, c);
        Ok(())
    }

    fn sync(&self, c: &Completion) -> Result<()> {
        expect_kind(c, CompletionKind::Sync)?;
        self.submit(Op::Sync, c);
        Ok(())
    }

    fn truncate(&self, size_bytes: u64, c: &Completion) -> Result<()> {
        expect_kind(c, CompletionKind::Truncate)?;
        self.submit(Op::Truncate { size_bytes }, c);
        Ok(())
    }

    fn size_bytes(&self) -> Result<u64> {
        Ok(lock(&self.node.data).len() as u64)
    }
}

impl Drop for MemoryFile {
    /// Closing a descriptor releases its lock; so does dropping a handle.
    fn drop(&mut self) {
        lock(&self.node.locks).remove(&self.handle_id);
    }
}
