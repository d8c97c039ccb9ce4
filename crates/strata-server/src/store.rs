//! The file operations of the replication log ([`crate::replog`]), behind a small trait.
//!
//! The log is written from inside the engine's commit (the pager's `CommitObserver`
//! runs synchronously, after the WAL frames are durable and before the commit
//! completes), where the engine's completion-based `IO` trait cannot be polled: the
//! observer cannot return `Pending`. So the log does blocking file I/O, isolated here:
//! [`LogStore`] is everything it does to files, [`FsStore`] the `std::fs`
//! implementation. A simulator (or fault injector) can supply another one.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// `(length, modification time in nanoseconds since the epoch)` of a file.
pub type FileStamp = (u64, i128);

/// Every file operation of the replication log.
pub trait LogStore: Send + Sync {
    fn create_dir_all(&self, dir: &Path) -> std::io::Result<()>;
    /// Names of the entries of `dir`.
    fn list(&self, dir: &Path) -> std::io::Result<Vec<String>>;
    /// The whole file; `Ok(None)` if it does not exist.
    fn read(&self, path: &Path) -> std::io::Result<Option<Vec<u8>>>;
    /// `len` bytes at `offset` (an error if the file is shorter).
    fn read_at(&self, path: &Path, offset: u64, len: usize) -> std::io::Result<Vec<u8>>;
    /// Replaces `path` atomically and durably: temporary file, fsync, rename, fsync of
    /// the directory.
    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()>;
    /// Writes `bytes` at `offset` (creating the file) and fsyncs it.
    fn write_at_sync(&self, path: &Path, offset: u64, bytes: &[u8]) -> std::io::Result<()>;
    /// Cuts the file to `len` bytes and fsyncs it.
    fn truncate(&self, path: &Path, len: u64) -> std::io::Result<()>;
    /// Removes a file; a missing one is fine.
    fn remove(&self, path: &Path) -> std::io::Result<()>;
    /// Removes a directory and everything in it; a missing one is fine.
    fn remove_dir_all(&self, dir: &Path) -> std::io::Result<()>;
    /// Makes the directory's entries (creations, removals, renames) durable.
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()>;
    /// Length and modification time; `None` if the file does not exist.
    fn stamp(&self, path: &Path) -> std::io::Result<Option<FileStamp>>;
}

/// [`LogStore`] on `std::fs`.
pub struct FsStore;

fn missing_ok<T>(r: std::io::Result<T>, none: T) -> std::io::Result<T> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(none),
        r => r,
    }
}

impl LogStore for FsStore {
    fn create_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir)? {
            if let Some(name) = e?.file_name().to_str() {
                out.push(name.to_string());
            }
        }
        Ok(out)
    }

    fn read(&self, path: &Path) -> std::io::Result<Option<Vec<u8>>> {
        missing_ok(std::fs::read(path).map(Some), None)
    }

    fn read_at(&self, path: &Path, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0u8; len];
        f.read_exact(&mut buf)?;
        Ok(buf)
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, path)?;
        match path.parent() {
            Some(dir) => self.sync_dir(dir),
            None => Ok(()),
        }
    }

    fn write_at_sync(&self, path: &Path, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        f.write_all(bytes)?;
        f.sync_data()
    }

    fn truncate(&self, path: &Path, len: u64) -> std::io::Result<()> {
        let f = std::fs::OpenOptions::new().write(true).open(path)?;
        f.set_len(len)?;
        f.sync_all()
    }

    fn remove(&self, path: &Path) -> std::io::Result<()> {
        missing_ok(std::fs::remove_file(path), ())
    }

    fn remove_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        missing_ok(std::fs::remove_dir_all(dir), ())
    }

    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::File::open(dir)?.sync_all()
    }

    fn stamp(&self, path: &Path) -> std::io::Result<Option<FileStamp>> {
        let m = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mtime = m
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as i128)
            .unwrap_or(0);
        Ok(Some((m.len(), mtime)))
    }
}
