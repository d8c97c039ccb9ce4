//! The WAL file's life: created by the first append (never by opening), removed by
//! `Wal::remove_file` only when nothing needs it (a database leaving WAL mode, as SQLite
//! deletes the log when `journal_mode` leaves WAL), and emptied by a TRUNCATE checkpoint.
//! cargo-mutants (issue 14) found none of this pinned by strata-wal's own tests.

mod common;

use std::sync::Arc;

use common::TestIo;
use strata_io::{block_on, OpenFlags, IO};
use strata_wal::{CheckpointMode, CheckpointResult, Error, SyncMode, Wal, WalOptions};

const PAGE_SIZE: usize = 512;
const WAL: &str = "life.db-wal";
const DB: &str = "life.db";

fn image(page_no: u32, tag: u8) -> Vec<u8> {
    let mut v = vec![tag; PAGE_SIZE];
    v[..4].copy_from_slice(&page_no.to_be_bytes());
    v
}

fn dyn_io(io: &Arc<TestIo>) -> &dyn IO {
    io.as_ref()
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
    let max_frame = block_on(dyn_io(io), || append.poll()).expect("append");
    wal.end_write();
    wal.end_read(&snapshot);
    max_frame
}

fn checkpoint(io: &Arc<TestIo>, wal: &Wal, mode: CheckpointMode) -> CheckpointResult {
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, mode);
    block_on(dyn_io(io), || ckpt.poll()).expect("checkpoint")
}

fn assert_busy(wal: &Wal, io: &TestIo, why: &str) {
    assert!(matches!(wal.remove_file(), Err(Error::Busy)), "{why}");
    assert!(wal.file_exists() && io.file_exists(WAL).unwrap(), "{why}");
}

/// A log whose every frame is in the database file, with nobody using it.
fn checkpointed_log(io: &Arc<TestIo>) -> Arc<Wal> {
    let wal = open(io);
    assert!(!wal.file_exists(), "opening creates no file");
    assert!(!io.file_exists(WAL).unwrap());
    commit(io, &wal, &[(1, 1), (2, 1)], 2);
    assert!(wal.file_exists());
    wal
}

#[test]
fn remove_file_deletes_a_checkpointed_log_and_the_next_append_recreates_it() {
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    // Frames not yet in the database file.
    assert_busy(&wal, &io, "frames not checkpointed");
    checkpoint(&io, &wal, CheckpointMode::Full);
    wal.remove_file().expect("remove_file");
    assert!(!wal.file_exists());
    assert!(!io.file_exists(WAL).unwrap());
    // The next append creates the file and starts the log again.
    assert_eq!(commit(&io, &wal, &[(2, 2)], 2), 1);
    assert!(io.file_exists(WAL).unwrap());
    drop(wal);
    let wal = open(&io);
    assert_eq!(wal.max_frame(), 1);
    assert_eq!(wal.frame_info(1).map(|f| f.page_no), Some(2));
}

/// Each of the five reasons alone keeps the file.
#[test]
fn remove_file_refuses_while_anything_uses_the_log() {
    // A reader of the WAL (its snapshot sees frames, although all are copied now).
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    let reader = wal.begin_read();
    assert!(reader.reads_wal);
    checkpoint(&io, &wal, CheckpointMode::Full);
    assert_eq!(wal.backfilled_frames(), wal.max_frame());
    assert_busy(&wal, &io, "a WAL reader");
    wal.end_read(&reader);
    wal.remove_file().expect("reader gone");

    // An append in flight.
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    checkpoint(&io, &wal, CheckpointMode::Full);
    io.set_deferred(true);
    let snapshot = wal.begin_read();
    wal.begin_write(&snapshot).unwrap();
    let mut append = wal.append(vec![(3, image(3, 3))], 3);
    assert!(append.poll().unwrap().is_pending());
    assert_busy(&wal, &io, "an append in flight");
    block_on(dyn_io(&io), || append.poll()).unwrap();
    wal.end_write();
    wal.end_read(&snapshot);

    // Uncommitted (spilled) frames of a write transaction.
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    checkpoint(&io, &wal, CheckpointMode::Full);
    let snapshot = wal.begin_read();
    wal.begin_write(&snapshot).unwrap();
    let mut spill = wal.append_uncommitted(vec![(3, image(3, 3))], Vec::new());
    block_on(dyn_io(&io), || spill.poll()).unwrap();
    assert_busy(&wal, &io, "uncommitted frames");
    wal.end_write();
    wal.end_read(&snapshot);
    wal.remove_file().expect("spill discarded");

    // A checkpoint still running (a TRUNCATE one whose truncation is in flight).
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    checkpoint(&io, &wal, CheckpointMode::Full);
    io.set_deferred(true);
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Truncate);
    assert!(ckpt.poll().unwrap().is_pending());
    assert_busy(&wal, &io, "a checkpoint running");
    assert!(matches!(
        block_on(dyn_io(&io), || ckpt.poll()),
        Ok(CheckpointResult { busy: false, .. })
    ));
    wal.remove_file().expect("checkpoint over");
}

/// After a TRUNCATE checkpoint the file holds no frame: `frame_info` reports none, even
/// though the index still lists them until the next append restarts the log.
#[test]
fn truncated_log_has_no_frames_to_ship() {
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    assert_eq!(wal.frame_info(2).map(|f| f.commit_db_size_pages), Some(2));
    assert_eq!(wal.frame_info(3), None);
    let result = checkpoint(&io, &wal, CheckpointMode::Truncate);
    assert_eq!((result.busy, result.wal_frames), (false, 0));
    assert!(io.bytes(WAL).is_empty());
    assert_eq!(wal.frame_info(1), None);
    assert_eq!(wal.frame_info(2), None);
}

/// `journal_size_limit`: the first commit after a restart truncates a longer file to the
/// limit, or to the end of its own frames if that is larger (SQLite's `walLimitSize`);
/// without a limit the file keeps its size. (cargo-mutants:
/// an empty `set_size_limit` survived: no strata-wal test set one.)
#[test]
fn size_limit_truncates_the_file_at_the_restart() {
    // With a limit below the restart's own frames, the file keeps those frames whole.
    // Deferred: the truncation and the frame writes complete in reverse order, so a
    // truncation below the frames would cut them.
    let cases = [(None, 1), (Some(2000), 1), (Some(1000), 3)];
    for (deferred, (limit, restart_pages)) in [false, true]
        .into_iter()
        .flat_map(|d| cases.map(|c| (d, c)))
    {
        let io = TestIo::new();
        io.set_deferred(deferred);
        let wal = open(&io);
        let pages: Vec<(u32, u8)> = (1..=10).map(|p| (p, 1)).collect();
        commit(&io, &wal, &pages, 10);
        let full_bytes = 32 + 10 * (24 + PAGE_SIZE);
        assert_eq!(io.bytes(WAL).len(), full_bytes);
        checkpoint(&io, &wal, CheckpointMode::Full);
        wal.set_size_limit(limit);
        assert_eq!(wal.size_limit(), limit);
        let pages: Vec<(u32, u8)> = (1..=restart_pages).map(|p| (p, 3)).collect();
        let max_frame = commit(&io, &wal, &pages, 10);
        assert_eq!(max_frame, u64::from(restart_pages), "restarted");
        let frames_end = 32 + restart_pages as usize * (24 + PAGE_SIZE);
        let expected = limit.map_or(full_bytes, |l| (l as usize).max(frames_end));
        assert_eq!(io.bytes(WAL).len(), expected, "limit {limit:?}");
        drop(wal);
        assert_eq!(open(&io).max_frame(), max_frame);
    }
}

/// A TRUNCATE checkpoint leaves the file alone (and reports busy) while an append is in
/// flight or a write transaction has spilled frames in it, and is not held back by an
/// earlier truncation that has completed. (cargo-mutants: both `||` -> `&&` and the
/// `delete !` in `Checkpoint::finish`'s guard survived.)
#[test]
fn truncate_checkpoint_spares_frames_being_written() {
    // An append in flight (it restarts the checkpointed log).
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    checkpoint(&io, &wal, CheckpointMode::Full);
    io.set_deferred(true);
    let snapshot = wal.begin_read();
    wal.begin_write(&snapshot).unwrap();
    let mut append = wal.append(vec![(3, image(3, 3))], 3);
    assert!(append.poll().unwrap().is_pending());
    assert!(checkpoint(&io, &wal, CheckpointMode::Truncate).busy);
    assert_eq!(block_on(dyn_io(&io), || append.poll()).unwrap(), 1);
    wal.end_write();
    wal.end_read(&snapshot);
    assert!(!io.bytes(WAL).is_empty());

    // Spilled frames of a write transaction.
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    checkpoint(&io, &wal, CheckpointMode::Full);
    let snapshot = wal.begin_read();
    wal.begin_write(&snapshot).unwrap();
    let mut spill = wal.append_uncommitted(vec![(3, image(3, 3))], Vec::new());
    block_on(dyn_io(&io), || spill.poll()).unwrap();
    assert!(checkpoint(&io, &wal, CheckpointMode::Truncate).busy);
    assert!(!io.bytes(WAL).is_empty());
    wal.end_write();
    wal.end_read(&snapshot);

    // A truncation left by a dropped checkpoint, completed since.
    let io = TestIo::new();
    let wal = checkpointed_log(&io);
    checkpoint(&io, &wal, CheckpointMode::Full);
    io.set_deferred(true);
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Truncate);
    assert!(ckpt.poll().unwrap().is_pending());
    drop(ckpt);
    io.run_once().unwrap();
    assert!(!checkpoint(&io, &wal, CheckpointMode::Truncate).busy);
}
