//! The replica's side files (`<db>-info`, `<db>-primary`, `<db>.bootstrap`): whole-file
//! reads and atomic, durable replacements. [`FsStore`] is the file system; a simulator
//! substitutes its own store (with its own crash semantics) through
//! [`Builder::store`](super::Builder::store).

use std::io::Write;
use std::path::{Path, PathBuf};

/// Small files beside the replica's database.
pub trait ReplicaStore: Send + Sync {
    fn exists(&self, path: &Path) -> std::io::Result<bool>;
    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>>;
    /// Replaces `path` with `data` so that after a crash it holds its old content or
    /// all of `data`, and once this returns, `data` survives a crash.
    fn write_atomic(&self, path: &Path, data: &[u8]) -> std::io::Result<()>;
    /// Renames `from` to `to` (replacing it), durably once this returns.
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()>;
    fn remove(&self, path: &Path) -> std::io::Result<()>;
}

/// The file system: a temporary file, fsync, rename, fsync of the directory.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsStore;

/// `path` with `suffix` appended to its last component (`db` -> `db-info`).
pub(crate) fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::File::open(&dir)?.sync_all()
}

impl ReplicaStore for FsStore {
    fn exists(&self, path: &Path) -> std::io::Result<bool> {
        path.try_exists()
    }

    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn write_atomic(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        let tmp = with_suffix(path, ".tmp");
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        sync_dir(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)?;
        sync_dir(to)
    }

    fn remove(&self, path: &Path) -> std::io::Result<()> {
        std::fs::remove_file(path)?;
        sync_dir(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fs_store_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x-info");
        let s = FsStore;
        assert!(!s.exists(&p).unwrap());
        s.write_atomic(&p, b"one").unwrap();
        s.write_atomic(&p, b"two").unwrap();
        assert_eq!(s.read(&p).unwrap(), b"two");
        assert!(!with_suffix(&p, ".tmp").exists());
        let q = dir.path().join("y");
        s.rename(&p, &q).unwrap();
        assert!(!s.exists(&p).unwrap() && s.exists(&q).unwrap());
        s.remove(&q).unwrap();
        assert!(!s.exists(&q).unwrap());
    }
}
