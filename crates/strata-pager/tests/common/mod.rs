//! Shared by the storage-level tests: an IO that records what reaches the files and
//! fails the operations a test names.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};

use strata_io::{block_on, Completion, File, IoError, LockKind, OpenFlags, IO};
use strata_pager::{PageRef, Pager};

/// Page `page_no`, driving the pager's IO until it is read.
pub fn get(pager: &Pager, page_no: u32) -> PageRef {
    block_on(pager.io().as_ref(), || pager.get_page(page_no)).unwrap()
}

/// Commits the pager's write transaction, driving its IO.
pub fn commit(pager: &Pager) {
    block_on(pager.io().as_ref(), || pager.commit()).unwrap()
}

/// Records the writes, syncs, truncations and removals reaching the files (by file name),
/// and fails the operations a test asks it to.
pub struct Recording {
    inner: Arc<dyn IO>,
    state: Arc<Mutex<RecState>>,
}

#[derive(Default)]
pub struct RecState {
    events: Vec<String>,
    /// An event (e.g. "sync db") that fails once, and the event that must have been
    /// recorded before it (none: the next one fails).
    fail: Option<(String, Option<String>)>,
}

pub struct RecordingFile {
    inner: Arc<dyn File>,
    name: String,
    state: Arc<Mutex<RecState>>,
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// Records `event`; an error if it is the one set to fail.
fn record(state: &Mutex<RecState>, event: String) -> strata_io::Result<()> {
    let mut s = state.lock().unwrap();
    let fails = match &s.fail {
        Some((what, after)) if *what == event => {
            after.as_ref().is_none_or(|a| s.events.contains(a))
        }
        _ => false,
    };
    if fails {
        s.fail = None;
        return Err(IoError::new(
            std::io::ErrorKind::Other,
            format!("injected: {event}"),
        ));
    }
    s.events.push(event);
    Ok(())
}

impl Recording {
    pub fn new(inner: Arc<dyn IO>) -> Arc<Recording> {
        Arc::new(Recording {
            inner,
            state: Default::default(),
        })
    }

    pub fn take_events(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().events)
    }

    /// Fails the next `event` recorded after `after` (after nothing: the next one).
    pub fn fail(&self, event: &str, after: Option<&str>) {
        self.state.lock().unwrap().fail = Some((event.to_string(), after.map(String::from)));
    }
}

impl IO for Recording {
    fn open_file(&self, path: &str, flags: OpenFlags) -> strata_io::Result<Arc<dyn File>> {
        Ok(Arc::new(RecordingFile {
            inner: self.inner.open_file(path, flags)?,
            name: file_name(path),
            state: self.state.clone(),
        }))
    }
    fn remove_file(&self, path: &str) -> strata_io::Result<()> {
        record(&self.state, format!("remove {}", file_name(path)))?;
        self.inner.remove_file(path)
    }
    fn file_exists(&self, path: &str) -> strata_io::Result<bool> {
        self.inner.file_exists(path)
    }
    fn run_once(&self) -> strata_io::Result<()> {
        self.inner.run_once()
    }
    fn now_micros(&self) -> u64 {
        self.inner.now_micros()
    }
    fn random_u64(&self) -> u64 {
        self.inner.random_u64()
    }
}

impl File for RecordingFile {
    fn lock(&self, kind: LockKind) -> strata_io::Result<()> {
        self.inner.lock(kind)
    }
    fn unlock(&self) -> strata_io::Result<()> {
        self.inner.unlock()
    }
    fn pread(&self, offset: u64, c: &Completion) -> strata_io::Result<()> {
        self.inner.pread(offset, c)
    }
    fn pwrite(&self, offset: u64, c: &Completion) -> strata_io::Result<()> {
        record(&self.state, format!("write {}", self.name))?;
        self.inner.pwrite(offset, c)
    }
    fn sync(&self, c: &Completion) -> strata_io::Result<()> {
        record(&self.state, format!("sync {}", self.name))?;
        self.inner.sync(c)
    }
    fn truncate(&self, size_bytes: u64, c: &Completion) -> strata_io::Result<()> {
        record(&self.state, format!("truncate {}", self.name))?;
        self.inner.truncate(size_bytes, c)
    }
    fn size_bytes(&self) -> strata_io::Result<u64> {
        self.inner.size_bytes()
    }
}
