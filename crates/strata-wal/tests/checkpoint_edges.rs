//! Checkpoint edge cases that cargo-mutants showed no other strata-wal test pinned (issue
//! 14): the guard against a commit frame claiming an impossible database size, at its
//! exact boundary (SQLite's `walCheckpoint`: corrupt when the final size exceeds today's
//! file plus 64 KiB plus every frame of the log).

mod common;

use std::sync::Arc;

use common::TestIo;
use strata_io::{block_on, OpenFlags, IO};
use strata_wal::{CheckpointMode, CheckpointResult, Error, SyncMode, Wal, WalOptions};

const PAGE_SIZE: usize = 512;
const WAL: &str = "edge.db-wal";
const DB: &str = "edge.db";

fn image(page_no: u32, tag: u8) -> Vec<u8> {
    let mut v = vec![tag; PAGE_SIZE];
    v[..4].copy_from_slice(&page_no.to_be_bytes());
    v
}

fn open(io: &Arc<TestIo>) -> Arc<Wal> {
    let options = WalOptions {
        sync_mode: SyncMode::Full,
    };
    Wal::open(io.clone(), WAL, PAGE_SIZE, options).expect("open")
}

fn commit(io: &Arc<TestIo>, wal: &Wal, pages: &[(u32, u8)], db_size_pages: u32) -> u64 {
    let snapshot = wal.begin_read();
    wal.begin_write(&snapshot).expect("begin_write");
    let frames = pages.iter().map(|&(p, t)| (p, image(p, t))).collect();
    let mut append = wal.append(frames, db_size_pages);
    let max_frame = block_on(io.as_ref() as &dyn IO, || append.poll()).expect("append");
    wal.end_write();
    wal.end_read(&snapshot);
    max_frame
}

fn try_checkpoint(io: &Arc<TestIo>, wal: &Wal) -> Result<CheckpointResult, Error> {
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Full);
    block_on(io.as_ref() as &dyn IO, || ckpt.poll())
}

/// A database file of 4 pages and a log of 2 frames: the largest size a commit may claim
/// is (4 * 512 + 65,536 + 2 * 512) / 512 = 134 pages. 134 is checkpointed (the file grows
/// to it); 135 is corruption, reported before anything is written.
#[test]
fn final_size_guard_is_exact() {
    let limit_pages = (4 * PAGE_SIZE + 65_536 + 2 * PAGE_SIZE) / PAGE_SIZE;
    assert_eq!(limit_pages, 134);
    for deferred in [false, true] {
        for claimed in [limit_pages as u32, limit_pages as u32 + 1] {
            let io = TestIo::new();
            io.set_deferred(deferred);
            io.set_bytes(DB, vec![0xdb; 4 * PAGE_SIZE]);
            let wal = open(&io);
            assert_eq!(commit(&io, &wal, &[(1, 1), (2, 2)], claimed), 2);
            let result = try_checkpoint(&io, &wal);
            if claimed as usize <= limit_pages {
                let done = result.expect("a size within the guard is checkpointed");
                assert_eq!((done.wal_frames, done.checkpointed_frames), (2, 2));
                assert_eq!(io.bytes(DB).len(), claimed as usize * PAGE_SIZE);
                assert_eq!(io.bytes(DB)[..PAGE_SIZE], image(1, 1)[..]);
            } else {
                match result {
                    Err(Error::Corrupt(m)) => assert!(m.contains("claims 135 pages"), "{m}"),
                    other => panic!("claimed {claimed} pages: {other:?}"),
                }
                assert_eq!(io.bytes(DB), vec![0xdb; 4 * PAGE_SIZE], "nothing written");
                assert_eq!(wal.backfilled_frames(), 0);
            }
        }
    }
}

/// A checkpoint of more pages than one batch (64) copies every batch. (cargo-mutants:
/// `next + writes.len()` -> `-` in `Checkpoint::step`, which stopped after the first
/// batch, survived: no strata-wal test checkpointed more than 64 pages.)
#[test]
fn checkpoint_copies_every_batch() {
    for deferred in [false, true] {
        let io = TestIo::new();
        io.set_deferred(deferred);
        let wal = open(&io);
        let pages: Vec<(u32, u8)> = (1..=150).map(|p| (p, p as u8)).collect();
        commit(&io, &wal, &pages, 150);
        let done = try_checkpoint(&io, &wal).expect("checkpoint");
        assert_eq!((done.busy, done.checkpointed_frames), (false, 150));
        let db = io.bytes(DB);
        assert_eq!(db.len(), 150 * PAGE_SIZE);
        for (i, page) in db.chunks(PAGE_SIZE).enumerate() {
            let page_no = i as u32 + 1;
            assert_eq!(page, &image(page_no, page_no as u8)[..], "page {page_no}");
        }
    }
}

/// A checkpoint keeps at most one batch (64 pages) of reads in flight: its memory stays
/// bounded whatever the log's size. (cargo-mutants: `next + 64` -> `next - 64` in
/// `submit_reads`, which read every page in one batch, survived.)
#[test]
fn checkpoint_reads_one_batch_at_a_time() {
    let io = TestIo::new();
    let wal = open(&io);
    let pages: Vec<(u32, u8)> = (1..=150).map(|p| (p, p as u8)).collect();
    commit(&io, &wal, &pages, 150);
    io.set_deferred(true);
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Full);
    let mut most_in_flight = 0;
    loop {
        match ckpt.poll().expect("checkpoint") {
            strata_io::Poll::Ready(done) => {
                assert_eq!(done.checkpointed_frames, 150);
                break;
            }
            strata_io::Poll::Pending => {
                most_in_flight = most_in_flight.max(io.in_flight());
                io.run_once().unwrap();
            }
        }
    }
    assert_eq!(most_in_flight, 64);
}
