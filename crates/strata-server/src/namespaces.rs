//! Namespaces: one database file each, `<db-path>/<name>.db`.
//!
//! The set of existing namespaces is read from the directory at startup and changed only
//! through the admin API, so a request for an unknown namespace is a 404 without touching
//! the disk. Names are 1 to 64 characters of ASCII letters, digits, `-` and `_` (they
//! become file names and Host labels).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub const DEFAULT_NAMESPACE: &str = "default";

pub struct Namespaces {
    root: PathBuf,
    names: Mutex<BTreeSet<String>>,
}

pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Namespaces {
    /// Reads the namespaces present under `root` (created if missing).
    pub fn load(root: &Path) -> std::io::Result<Namespaces> {
        std::fs::create_dir_all(root)?;
        let mut names = BTreeSet::new();
        for entry in std::fs::read_dir(root)? {
            let entry = entry?;
            let file = entry.file_name();
            let Some(file) = file.to_str() else { continue };
            if let Some(name) = file.strip_suffix(".db") {
                if valid_name(name) && entry.file_type()?.is_file() {
                    names.insert(name.to_string());
                }
            }
        }
        Ok(Namespaces {
            root: root.to_path_buf(),
            names: Mutex::new(names),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.names.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn path_of(root: &Path, name: &str) -> PathBuf {
        root.join(format!("{name}.db"))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn exists(&self, name: &str) -> bool {
        self.lock().contains(name)
    }

    /// Records a namespace whose database was created; false if it already existed.
    pub fn add(&self, name: &str) -> bool {
        self.lock().insert(name.to_string())
    }

    /// Forgets a namespace; false if it did not exist.
    pub fn remove(&self, name: &str) -> bool {
        self.lock().remove(name)
    }

    /// Deletes a namespace's files (database, WAL, rollback journal, replication log).
    pub fn delete_files(&self, name: &str) -> std::io::Result<()> {
        let db = Self::path_of(&self.root, name);
        for suffix in ["", "-wal", "-journal", "-shm"] {
            let mut p = db.clone().into_os_string();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        // The replication log (`crate::replog`).
        match std::fs::remove_dir_all(crate::replog::dir_of(&db)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }
}
