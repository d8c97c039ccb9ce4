//! Shared helpers for the B-tree tests: a database on `MemoryIo`, blocking drivers, and a
//! whole-file structural check.
#![allow(dead_code)]

use std::sync::Arc;

use strata_btree::check::{check_freelist, check_page_usage, check_tree, TreeStats};
use strata_btree::record::KeyInfo;
use strata_btree::{Error, Result};
use strata_io::{MemoryIo, Poll, IO};
use strata_pager::{PageRef, Pager, Storage, StorageOptions};

pub struct Db {
    pub io: Arc<dyn IO>,
    pub storage: Arc<Storage>,
    pub pager: Arc<Pager>,
}

/// A new database of `page_size` on a deferred (every completion in `run_once`) MemoryIo.
pub fn open_db(page_size: usize, deferred: bool) -> Db {
    let io: Arc<dyn IO> = if deferred {
        Arc::new(MemoryIo::new_deferred())
    } else {
        Arc::new(MemoryIo::new())
    };
    open_db_on(io, page_size)
}

/// A new database on `io`.
pub fn open_db_on(io: Arc<dyn IO>, page_size: usize) -> Db {
    let options = StorageOptions {
        page_size,
        autocheckpoint_frames: 200,
        ..StorageOptions::default()
    };
    let storage = Storage::open(io.clone(), "test.db", options).expect("open");
    let pager = storage.pager();
    Db { io, storage, pager }
}

// How many times `run` saw `Pending` (per thread: tests run in parallel threads).
thread_local! {
    pub static PENDING_COUNT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

pub fn pending_count() -> u64 {
    PENDING_COUNT.with(|c| c.get())
}

/// Drives a resumable B-tree call to completion, counting how often it was Pending.
pub fn run<T>(io: &Arc<dyn IO>, mut op: impl FnMut() -> Result<Poll<T>>) -> Result<T> {
    loop {
        match op()? {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending => {
                PENDING_COUNT.with(|c| c.set(c.get() + 1));
                io.run_once().map_err(Error::from)?
            }
        }
    }
}

pub fn load_page(db: &Db, page_no: u32) -> Result<PageRef> {
    let pager = db.pager.clone();
    run(&db.io, || Ok(pager.get_page(page_no)?))
}

/// Checks every tree in `trees` (root, key info) and the freelist, and that together with
/// page 1's tree (included if listed) they use every page exactly once.
pub fn check_db(db: &Db, trees: &[(u32, Option<&KeyInfo>)]) -> Vec<TreeStats> {
    let usable = db.pager.usable_size();
    let size = db.pager.db_size_pages();
    let mut load = |n: u32| load_page(db, n);
    let mut used = Vec::new();
    let mut stats = Vec::new();
    for &(root, ki) in trees {
        let s = check_tree(&mut load, usable, size, root, ki)
            .unwrap_or_else(|e| panic!("tree {root}: {e}"));
        used.extend_from_slice(&s.pages);
        stats.push(s);
    }
    if !trees.iter().any(|&(r, _)| r == 1) {
        let s = check_tree(&mut load, usable, size, 1, None).expect("page 1 tree");
        used.extend_from_slice(&s.pages);
    }
    used.extend(check_freelist(&mut load, usable, size).expect("freelist"));
    check_page_usage(size, &used).expect("page usage");
    stats
}

pub fn commit(db: &Db) {
    let pager = db.pager.clone();
    run(&db.io, || Ok(pager.commit()?)).expect("commit");
}
