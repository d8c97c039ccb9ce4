//! Helpers shared by the two operating-system backends ([`crate::SyscallIo`] and
//! `UringIo`): opening, locking, positioned full reads and writes, the clock and the
//! random source.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read};
use std::os::unix::fs::FileExt;
use std::os::unix::io::AsRawFd;
use std::sync::atomic::AtomicU64;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::memory::splitmix64_next;
use crate::{IoError, LockKind, OpenFlags, Result};

/// Opens `path` as the flags ask, with the path in any error message.
pub(crate) fn open(path: &str, flags: OpenFlags) -> Result<std::fs::File> {
    let mut options = OpenOptions::new();
    options.read(true);
    if !flags.read_only {
        options.write(true);
        // `create` needs write access; a read-only open of a missing file must fail.
        options.create(flags.create);
    }
    options
        .open(path)
        .map_err(|e| IoError::from(e).context(path))
}

pub(crate) fn remove_file(path: &str) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(IoError::from(e).context(path)),
    }
}

pub(crate) fn file_exists(path: &str) -> Result<bool> {
    std::fs::exists(path).map_err(|e| IoError::from(e).context(path))
}

pub(crate) fn size_bytes(file: &std::fs::File) -> Result<u64> {
    Ok(file.metadata()?.len())
}

/// Reads until `buf` is full or the file ends; returns the bytes read.
pub(crate) fn read_full_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> Result<usize> {
    let mut done_bytes = 0;
    while done_bytes < buf.len() {
        match file.read_at(&mut buf[done_bytes..], offset + done_bytes as u64) {
            Ok(0) => break,
            Ok(n) => done_bytes += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done_bytes)
}

/// Writes all of `buf`; a write that makes no progress is an error rather than a loop.
pub(crate) fn write_all_at(file: &std::fs::File, buf: &[u8], offset: u64) -> Result<usize> {
    let mut done_bytes = 0;
    while done_bytes < buf.len() {
        match file.write_at(&buf[done_bytes..], offset + done_bytes as u64) {
            Ok(0) => return Err(IoError::short("write", buf.len(), done_bytes)),
            Ok(n) => done_bytes += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(done_bytes)
}

/// fdatasync, retried on EINTR: it covers the data and the size, which is what reading the
/// data back needs (contract point 6), without forcing timestamps to disk.
pub(crate) fn sync_data(file: &std::fs::File) -> Result<usize> {
    loop {
        match file.sync_data() {
            Ok(()) => return Ok(0),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

pub(crate) fn truncate(file: &std::fs::File, size_bytes: u64) -> Result<usize> {
    loop {
        match file.set_len(size_bytes) {
            Ok(()) => return Ok(0),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// Whole-file lock on Linux through open-file-description (OFD) fcntl locks. Unlike
/// `flock`, converting shared to exclusive is atomic: a refused upgrade keeps the shared
/// lock instead of silently dropping it. Like `flock`, OFD locks belong to the open file
/// description, so two `open_file` handles in one process conflict, which is what keeps a
/// second `Storage::open` of the same database out.
#[cfg(target_os = "linux")]
fn set_lock(file: &std::fs::File, path: &str, lock_type: libc::c_int) -> Result<()> {
    // SAFETY: `flock` is a plain C struct for which all-zero bytes are a valid value
    // (l_pid must be 0 for OFD locks; l_start = l_len = 0 means the whole file).
    let mut lock: libc::flock = unsafe { std::mem::zeroed() };
    lock.l_type = lock_type as libc::c_short;
    lock.l_whence = libc::SEEK_SET as libc::c_short;
    loop {
        // SAFETY: the fd is open for as long as `file` is borrowed, and `lock` is a valid,
        // initialised struct that outlives the call.
        let rc = unsafe { libc::fcntl(file.as_raw_fd(), libc::F_OFD_SETLK, &mut lock) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EAGAIN) | Some(libc::EACCES) => return Err(IoError::locked(path)),
            _ => return Err(IoError::from(err).context(path)),
        }
    }
}

#[cfg(target_os = "linux")]
pub(crate) fn lock(file: &std::fs::File, path: &str, kind: LockKind) -> Result<()> {
    let lock_type = match kind {
        LockKind::Shared => libc::F_RDLCK,
        LockKind::Exclusive => libc::F_WRLCK,
    };
    set_lock(file, path, lock_type)
}

#[cfg(target_os = "linux")]
pub(crate) fn unlock(file: &std::fs::File, path: &str) -> Result<()> {
    set_lock(file, path, libc::F_UNLCK)
}

/// Elsewhere, `flock`: also per open file description, but an upgrade is not atomic.
#[cfg(not(target_os = "linux"))]
fn flock(file: &std::fs::File, path: &str, operation: libc::c_int) -> Result<()> {
    loop {
        // SAFETY: the fd is open for as long as `file` is borrowed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), operation) };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EWOULDBLOCK) => return Err(IoError::locked(path)),
            _ => return Err(IoError::from(err).context(path)),
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn lock(file: &std::fs::File, path: &str, kind: LockKind) -> Result<()> {
    let operation = match kind {
        LockKind::Shared => libc::LOCK_SH,
        LockKind::Exclusive => libc::LOCK_EX,
    };
    flock(file, path, operation | libc::LOCK_NB)
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn unlock(file: &std::fs::File, path: &str) -> Result<()> {
    flock(file, path, libc::LOCK_UN)
}

pub(crate) fn now_micros() -> u64 {
    // A clock before 1970 is a misconfigured machine; 0 is a better answer than a panic.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// A splitmix64 stream seeded once from the OS: random numbers here feed things like salts
/// and file names, not keys, so one good seed and a fast lock-free generator are enough.
pub(crate) struct OsRandom {
    state: AtomicU64,
}

impl OsRandom {
    pub(crate) fn new() -> Self {
        let mut seed = [0u8; 8];
        let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut seed));
        let seed = match from_os {
            Ok(()) => u64::from_le_bytes(seed),
            // No /dev/urandom (a bare chroot): mix the clock with an address, so two
            // processes started together still diverge.
            Err(_) => now_micros() ^ ((&seed as *const _ as u64).rotate_left(32)),
        };
        OsRandom {
            state: AtomicU64::new(seed),
        }
    }

    pub(crate) fn next_u64(&self) -> u64 {
        splitmix64_next(&self.state)
    }
}
