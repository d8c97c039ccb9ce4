//! Uncommitted frames (`Wal::append_uncommitted`, a write transaction's spilled pages):
//! invisible to readers, checkpoints and recovery until the commit publishes them with
//! its own frames; discarded by a rollback, after which the next commit overwrites them
//! and recovery never finds them, including after a restart of the log.

use std::sync::Arc;

use strata_io::{block_on, Completion, MemoryIo, OpenFlags, IO};
use strata_wal::{CheckpointMode, SyncMode, Wal, WalOptions};

const PAGE_SIZE: usize = 1024;
const WAL: &str = "u.db-wal";
const DB: &str = "u.db";

fn image(page_no: u32, tag: u8) -> Vec<u8> {
    let mut v = vec![tag; PAGE_SIZE];
    v[..4].copy_from_slice(&page_no.to_be_bytes());
    v
}

fn open(io: &Arc<dyn IO>) -> Arc<Wal> {
    Wal::open(
        io.clone(),
        WAL,
        PAGE_SIZE,
        WalOptions {
            sync_mode: SyncMode::Full,
        },
    )
    .unwrap()
}

fn commit(io: &Arc<dyn IO>, wal: &Wal, pages: Vec<(u32, Vec<u8>)>, size: u32) -> u64 {
    let mut append = wal.append(pages, size);
    block_on(io.as_ref(), || append.poll()).unwrap()
}

fn spill(io: &Arc<dyn IO>, wal: &Wal, pages: Vec<(u32, Vec<u8>)>) -> u64 {
    let mut append = wal.append_uncommitted(pages, Vec::new());
    block_on(io.as_ref(), || append.poll()).unwrap()
}

fn read(io: &Arc<dyn IO>, wal: &Wal, frame: u64, uncommitted: bool) -> Vec<u8> {
    let c = Completion::read(PAGE_SIZE);
    if uncommitted {
        wal.read_uncommitted_frame(frame, &c).unwrap();
    } else {
        wal.read_frame(frame, &c).unwrap();
    }
    strata_io::wait(io.as_ref(), &c).unwrap();
    c.take_buf()
}

/// The newest committed image of `page_no` as a new reader sees it (None: not in the WAL).
fn committed(io: &Arc<dyn IO>, wal: &Wal, page_no: u32) -> Option<Vec<u8>> {
    let snapshot = wal.begin_read();
    let frame = wal.find_frame(&snapshot, page_no);
    let image = frame.map(|f| read(io, wal, f, false));
    wal.end_read(&snapshot);
    image
}

#[test]
fn uncommitted_frames_are_invisible_until_commit() {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new_deferred());
    let wal = open(&io);
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    commit(&io, &wal, vec![(1, image(1, 1)), (2, image(2, 1))], 2);
    wal.end_write();
    wal.end_read(&snap);

    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    let first = spill(&io, &wal, vec![(2, image(2, 2)), (3, image(3, 2))]);
    assert_eq!(first, 3);
    let next = spill(&io, &wal, vec![(2, image(2, 3))]);
    assert_eq!(next, 5);
    assert_eq!(wal.uncommitted_frames(), 3);
    // The writer reads its frames back; nobody else sees them.
    assert_eq!(read(&io, &wal, 3, true), image(2, 2));
    assert_eq!(read(&io, &wal, 5, true), image(2, 3));
    assert_eq!(wal.max_frame(), 2);
    assert_eq!(committed(&io, &wal, 2), Some(image(2, 1)));
    assert_eq!(committed(&io, &wal, 3), None);
    let c = Completion::read(PAGE_SIZE);
    assert!(wal.read_frame(3, &c).is_err(), "frame 3 is not committed");
    // A checkpoint copies only committed frames and does not truncate the log away.
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Truncate);
    let result = block_on(io.as_ref(), || ckpt.poll()).unwrap();
    assert!(
        result.busy,
        "a truncation must wait for the writer's uncommitted frames"
    );
    assert_eq!(result.checkpointed_frames, 2);
    // Recovery of the file as it is now sees the committed log only.
    let copy = open(&io);
    assert_eq!(copy.max_frame(), 2);
    drop(copy);
    // The commit publishes them, its own frames after them.
    let max = commit(&io, &wal, vec![(1, image(1, 4))], 3);
    assert_eq!(max, 6);
    wal.end_write();
    wal.end_read(&snap);
    assert_eq!(committed(&io, &wal, 2), Some(image(2, 3)));
    assert_eq!(committed(&io, &wal, 3), Some(image(3, 2)));
    assert_eq!(committed(&io, &wal, 1), Some(image(1, 4)));
    let reopened = open(&io);
    assert_eq!(reopened.max_frame(), 6);
}

#[test]
fn discarded_frames_are_never_recovered() {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new());
    let wal = open(&io);
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    commit(&io, &wal, vec![(1, image(1, 1))], 1);
    wal.end_write();
    wal.end_read(&snap);
    // A spilled transaction rolled back.
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    spill(&io, &wal, (2..40).map(|p| (p, image(p, 9))).collect());
    wal.discard_uncommitted();
    wal.end_write();
    wal.end_read(&snap);
    assert_eq!(wal.uncommitted_frames(), 0);
    // Power loss now: the frames are in the file, but not a commit.
    assert_eq!(open(&io).max_frame(), 1);
    // The next commit overwrites the first of them; the rest still lie beyond it.
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    commit(&io, &wal, vec![(2, image(2, 5))], 2);
    wal.end_write();
    wal.end_read(&snap);
    let recovered = open(&io);
    assert_eq!(recovered.max_frame(), 2);
    assert_eq!(committed(&io, &recovered, 2), Some(image(2, 5)));
    assert_eq!(committed(&io, &recovered, 3), None);
}

/// The first spill of a transaction restarts a fully checkpointed log (new header); a
/// rollback then leaves the file with the new header and no commit, and the next commit
/// restarts again: no frame of the old log or of the discarded spill is ever recovered.
#[test]
fn discarded_spill_that_restarted_the_log() {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new());
    let wal = open(&io);
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    commit(&io, &wal, vec![(1, image(1, 1)), (2, image(2, 1))], 2);
    wal.end_write();
    wal.end_read(&snap);
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Full);
    assert!(!block_on(io.as_ref(), || ckpt.poll()).unwrap().busy);

    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    assert_eq!(
        spill(&io, &wal, vec![(2, image(2, 7))]),
        1,
        "restarts at frame 1"
    );
    wal.discard_uncommitted();
    // The file's frame 1 is now the discarded spill: the old log's frames are gone
    // (cargo-mutants: `Uncommitted::restarted` -> `false` kept them readable).
    assert_eq!(wal.frame_info(1), None);
    assert!(wal.read_frame(1, &Completion::read(PAGE_SIZE)).is_err());
    wal.end_write();
    wal.end_read(&snap);
    assert_eq!(open(&io).max_frame(), 0, "nothing to recover");
    let snap = wal.begin_read();
    assert!(!snap.reads_wal);
    wal.begin_write(&snap).unwrap();
    assert_eq!(commit(&io, &wal, vec![(1, image(1, 8))], 2), 1);
    wal.end_write();
    wal.end_read(&snap);
    let recovered = open(&io);
    assert_eq!(recovered.max_frame(), 1);
    assert_eq!(committed(&io, &recovered, 1), Some(image(1, 8)));
    assert_eq!(committed(&io, &recovered, 2), None);
}

/// A page spilled again rewrites its uncommitted frame in place (the log does not grow);
/// the commit re-chains the checksums from the lowest rewritten frame, so recovery finds
/// the whole transaction with the rewritten images. Before the commit a power loss
/// recovers nothing of it. Runs on a shuffled deferred IO, with more frames than one
/// batch of the checksum pass.
#[test]
fn rewritten_frames_are_rechained_by_the_commit() {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new_shuffled(7));
    let wal = open(&io);
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    commit(&io, &wal, vec![(1, image(1, 1))], 1);
    wal.end_write();
    wal.end_read(&snap);

    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    // Frames 2..=201: pages 2..=201.
    assert_eq!(
        spill(&io, &wal, (2..202).map(|p| (p, image(p, 2))).collect()),
        2
    );
    let len_before = io
        .open_file(WAL, OpenFlags::CREATE)
        .unwrap()
        .size_bytes()
        .unwrap();
    // Pages 5 and 150 spilled again: frames 5 and 150 rewritten; page 300 is new.
    let mut rewrite = wal.append_uncommitted(
        vec![(300, image(300, 3))],
        vec![(5, 5, image(5, 3)), (150, 150, image(150, 3))],
    );
    assert_eq!(block_on(io.as_ref(), || rewrite.poll()).unwrap(), 202);
    assert_eq!(wal.uncommitted_frames(), 201);
    assert_eq!(read(&io, &wal, 5, true), image(5, 3));
    assert_eq!(read(&io, &wal, 150, true), image(150, 3));
    // Only-rewrite appends are fine too.
    let mut again = wal.append_uncommitted(Vec::new(), vec![(7, 7, image(7, 4))]);
    block_on(io.as_ref(), || again.poll()).unwrap();
    let len_after = io
        .open_file(WAL, OpenFlags::CREATE)
        .unwrap()
        .size_bytes()
        .unwrap();
    assert_eq!(
        len_after - len_before,
        (24 + PAGE_SIZE) as u64,
        "one new frame"
    );
    // A frame of another page, or a committed frame, is refused.
    let mut bad = wal.append_uncommitted(Vec::new(), vec![(6, 9, image(9, 1))]);
    assert!(block_on(io.as_ref(), || bad.poll()).is_err());
    drop(bad);
    let mut bad = wal.append_uncommitted(Vec::new(), vec![(1, 1, image(1, 1))]);
    assert!(block_on(io.as_ref(), || bad.poll()).is_err());
    drop(bad);
    // Power loss before the commit: nothing of the transaction.
    assert_eq!(open(&io).max_frame(), 1);
    let max = commit(&io, &wal, vec![(1, image(1, 5))], 300);
    assert_eq!(max, 203);
    wal.end_write();
    wal.end_read(&snap);
    let recovered = open(&io);
    assert_eq!(
        recovered.max_frame(),
        203,
        "the rechained frames all recover"
    );
    for (page, tag) in [(2, 2), (5, 3), (7, 4), (150, 3), (201, 2), (300, 3), (1, 5)] {
        assert_eq!(
            committed(&io, &recovered, page),
            Some(image(page, tag)),
            "page {page}"
        );
    }
}

/// A rollback that keeps the write lock (the transaction goes on) forgets the spilled
/// frames at once: the next commit starts right after the last commit frame and
/// publishes none of them. (cargo-mutants: an empty `discard_uncommitted` survived, as
/// every other test calls `end_write`, which discards too, right after it.)
#[test]
fn discard_keeps_the_write_lock_and_forgets_the_spill() {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new());
    let wal = open(&io);
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    assert_eq!(commit(&io, &wal, vec![(1, image(1, 1))], 1), 1);
    spill(&io, &wal, vec![(2, image(2, 9)), (3, image(3, 9))]);
    assert_eq!(wal.uncommitted_frames(), 2);
    wal.discard_uncommitted();
    assert_eq!(wal.uncommitted_frames(), 0);
    assert_eq!(commit(&io, &wal, vec![(4, image(4, 4))], 4), 2);
    wal.end_write();
    wal.end_read(&snap);
    assert_eq!(committed(&io, &wal, 2), None);
    assert_eq!(committed(&io, &wal, 4), Some(image(4, 4)));
    assert_eq!(open(&io).max_frame(), 2);
}

/// Only the writer's own spilled frames read as uncommitted: a committed frame, or one
/// past the spill, is refused. (cargo-mutants: `Uncommitted::contains` -> `true`, and its
/// `&&` -> `||`, survived.)
#[test]
fn only_spilled_frames_read_as_uncommitted() {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new());
    let wal = open(&io);
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    assert_eq!(commit(&io, &wal, vec![(1, image(1, 1))], 1), 1);
    // Frames 2..=4 (three, so that `first + len` and `first * len` differ).
    let pages = (2..5).map(|p| (p, image(p, p as u8))).collect();
    assert_eq!(spill(&io, &wal, pages), 2);
    for frame in 2..5 {
        assert_eq!(
            read(&io, &wal, frame, true),
            image(frame as u32, frame as u8)
        );
    }
    for frame in [0, 1, 5, 6] {
        let c = Completion::read(PAGE_SIZE);
        assert!(
            matches!(
                wal.read_uncommitted_frame(frame, &c),
                Err(strata_wal::Error::Corrupt(_))
            ),
            "frame {frame}"
        );
    }
    wal.end_write();
    wal.end_read(&snap);
}

/// An uncommitted append of nothing writes nothing and completes at once with the frame
/// its first page would have had. (cargo-mutants: `+` -> `-` and `+` -> `*` in both
/// cases survived.)
#[test]
fn empty_spill_reports_the_next_frame() {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new());
    let wal = open(&io);
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    assert_eq!(commit(&io, &wal, vec![(1, image(1, 1))], 1), 1);
    assert_eq!(spill(&io, &wal, Vec::new()), 2, "after the last commit");
    let pages = (2..5).map(|p| (p, image(p, 2))).collect();
    assert_eq!(spill(&io, &wal, pages), 2);
    assert_eq!(spill(&io, &wal, Vec::new()), 5, "after the spilled frames");
    assert_eq!(wal.uncommitted_frames(), 3);
    wal.end_write();
    wal.end_read(&snap);
}
