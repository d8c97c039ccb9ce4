//! In-memory stand-ins for the two non-`IO` file layers of a deployment: the primary's
//! replication log ([`strata_server::store::LogStore`]) and a replica's side files
//! ([`strata::replica::ReplicaStore`]).
//!
//! Crash model: every operation of these traits is durable when it returns (that is
//! their contract: `write_at_sync`, `write_atomic`, `truncate` fsync before returning),
//! so a power loss between two calls loses nothing. A power loss *inside* an append is
//! modelled by [`SimLogStore::tear_next_append`]: the next `write_at_sync` leaves a
//! random prefix of its bytes (whole 512-byte sectors) and fails, as a machine that lost
//! power mid-write would. Directory entries are durable at once (as `SimIo` files).

use std::collections::BTreeMap;
use std::io::{Error, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use strata_server::store::{FileStamp, LogStore};

use crate::sim_io::SimIo;

fn key(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn hash(bytes: &[u8]) -> i128 {
    // FNV-1a: a stand-in for a modification time that changes when the content does.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    i128::from(h)
}

#[derive(Default)]
struct LogFiles {
    files: BTreeMap<String, Vec<u8>>,
    dirs: BTreeMap<String, ()>,
    /// `Some(sectors)`: the next append keeps only this many of its sectors, then fails.
    tear: Option<u64>,
    /// Set by a torn append: the node lost power; every later call fails until restart.
    dead: bool,
    appends: u64,
}

/// The primary's replication-log files, in memory. Reads and stamps of the database and
/// its WAL (which live on the primary's [`SimIo`]) are answered from that disk; a stamp
/// is the length and a content hash standing in for the modification time.
#[derive(Clone)]
pub struct SimLogStore {
    inner: Arc<Mutex<LogFiles>>,
    io: Arc<SimIo>,
}

impl SimLogStore {
    pub fn new(io: Arc<SimIo>) -> SimLogStore {
        SimLogStore {
            inner: Arc::new(Mutex::new(LogFiles::default())),
            io,
        }
    }

    fn lock(&self) -> MutexGuard<'_, LogFiles> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live(&self) -> std::io::Result<MutexGuard<'_, LogFiles>> {
        let g = self.lock();
        if g.dead {
            return Err(Error::other("replication log: the node lost power"));
        }
        Ok(g)
    }

    /// The next append is torn after `sectors` sectors (a power loss mid-append).
    pub fn tear_next_append(&self, sectors: u64) {
        self.lock().tear = Some(sectors);
    }

    /// Cancels a torn append not yet done (faults stop).
    pub fn clear_tear(&self) {
        self.lock().tear = None;
    }

    /// Whether a torn append killed the node (the deployment then restarts it).
    pub fn take_dead(&self) -> bool {
        let mut g = self.lock();
        std::mem::take(&mut g.dead)
    }

    pub fn appends(&self) -> u64 {
        self.lock().appends
    }
}

impl LogStore for SimLogStore {
    fn create_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        self.live()?.dirs.insert(key(dir), ());
        Ok(())
    }

    fn list(&self, dir: &Path) -> std::io::Result<Vec<String>> {
        let g = self.live()?;
        let prefix = format!("{}/", key(dir));
        Ok(g.files
            .keys()
            .filter_map(|k| k.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_string)
            .collect())
    }

    fn read(&self, path: &Path) -> std::io::Result<Option<Vec<u8>>> {
        let g = self.live()?;
        if let Some(f) = g.files.get(&key(path)) {
            return Ok(Some(f.clone()));
        }
        drop(g);
        // The database itself (read for an export) is on the simulated disk.
        Ok(self.io.file_contents(&key(path)))
    }

    fn read_at(&self, path: &Path, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let g = self.live()?;
        let f = g
            .files
            .get(&key(path))
            .ok_or_else(|| Error::new(ErrorKind::NotFound, key(path)))?;
        let start = offset as usize;
        let end = start
            .checked_add(len)
            .filter(|e| *e <= f.len())
            .ok_or_else(|| Error::new(ErrorKind::UnexpectedEof, "read past the end"))?;
        Ok(f[start..end].to_vec())
    }

    fn write_atomic(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        self.live()?.files.insert(key(path), bytes.to_vec());
        Ok(())
    }

    fn write_at_sync(&self, path: &Path, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
        let mut g = self.live()?;
        g.appends += 1;
        let (bytes, torn) = match g.tear.take() {
            Some(sectors) => {
                let keep = (sectors as usize * 512).min(bytes.len());
                (&bytes[..keep], true)
            }
            None => (bytes, false),
        };
        let f = g.files.entry(key(path)).or_default();
        let start = offset as usize;
        if f.len() < start {
            f.resize(start, 0);
        }
        let end = start + bytes.len();
        if f.len() < end {
            f.resize(end, 0);
        }
        f[start..end].copy_from_slice(bytes);
        if torn {
            g.dead = true;
            return Err(Error::other("replication log: power lost mid-append"));
        }
        Ok(())
    }

    fn truncate(&self, path: &Path, len: u64) -> std::io::Result<()> {
        let mut g = self.live()?;
        let f = g
            .files
            .get_mut(&key(path))
            .ok_or_else(|| Error::new(ErrorKind::NotFound, key(path)))?;
        f.truncate(len as usize);
        Ok(())
    }

    fn remove(&self, path: &Path) -> std::io::Result<()> {
        self.live()?.files.remove(&key(path));
        Ok(())
    }

    fn remove_dir_all(&self, dir: &Path) -> std::io::Result<()> {
        let mut g = self.live()?;
        let prefix = format!("{}/", key(dir));
        g.files.retain(|k, _| !k.starts_with(&prefix));
        g.dirs.remove(&key(dir));
        Ok(())
    }

    fn sync_dir(&self, _dir: &Path) -> std::io::Result<()> {
        self.live().map(|_| ())
    }

    fn stamp(&self, path: &Path) -> std::io::Result<Option<FileStamp>> {
        let g = self.live()?;
        if let Some(f) = g.files.get(&key(path)) {
            return Ok(Some((f.len() as u64, hash(f))));
        }
        drop(g);
        // The database and its WAL are on the simulated disk.
        Ok(self
            .io
            .file_contents(&key(path))
            .map(|b| (b.len() as u64, hash(&b))))
    }
}

/// A replica's side files (`-info`, `-primary`, the bootstrap image), in memory; kept
/// across the replica's crashes (each write is atomic and durable on return).
#[derive(Clone, Default)]
pub struct SimReplicaStore {
    files: Arc<Mutex<BTreeMap<PathBuf, Vec<u8>>>>,
}

impl SimReplicaStore {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<PathBuf, Vec<u8>>> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A file's content (the oracle reads the replica's metadata).
    pub fn get(&self, path: &Path) -> Option<Vec<u8>> {
        self.lock().get(path).cloned()
    }
}

impl strata::replica::ReplicaStore for SimReplicaStore {
    fn exists(&self, path: &Path) -> std::io::Result<bool> {
        Ok(self.lock().contains_key(path))
    }

    fn read(&self, path: &Path) -> std::io::Result<Vec<u8>> {
        self.lock()
            .get(path)
            .cloned()
            .ok_or_else(|| Error::new(ErrorKind::NotFound, path.display().to_string()))
    }

    fn write_atomic(&self, path: &Path, data: &[u8]) -> std::io::Result<()> {
        self.lock().insert(path.to_path_buf(), data.to_vec());
        Ok(())
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        let mut g = self.lock();
        let data = g
            .remove(from)
            .ok_or_else(|| Error::new(ErrorKind::NotFound, from.display().to_string()))?;
        g.insert(to.to_path_buf(), data);
        Ok(())
    }

    fn remove(&self, path: &Path) -> std::io::Result<()> {
        self.lock().remove(path);
        Ok(())
    }
}
