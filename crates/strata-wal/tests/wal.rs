//! Behaviour of the WAL: append, snapshots, recovery, restart, checkpoint, failures.
//! Every scenario that does I/O runs twice: with completions firing inline and with every
//! completion deferred to `run_once` (which exercises each resume path).

mod common;

use std::sync::Arc;

use common::{be32, sqlite_checksum, TestIo};
use strata_io::{block_on, Completion, OpenFlags, Poll, IO};
use strata_wal::{CheckpointMode, CheckpointResult, Error, Snapshot, SyncMode, Wal, WalOptions};

const PAGE_SIZE: usize = 512;
const FRAME_BYTES: usize = 24 + PAGE_SIZE;
const WAL: &str = "test.db-wal";
const DB: &str = "test.db";

/// A recognisable page image: the tag everywhere, the page number in the first 4 bytes.
fn image(page_no: u32, tag: u8) -> Vec<u8> {
    let mut v = vec![tag; PAGE_SIZE];
    v[..4].copy_from_slice(&page_no.to_be_bytes());
    v
}

fn options(sync_mode: SyncMode) -> WalOptions {
    WalOptions { sync_mode }
}

fn open(io: &Arc<TestIo>) -> Arc<Wal> {
    Wal::open(io.clone(), WAL, PAGE_SIZE, options(SyncMode::Full)).expect("open")
}

fn dyn_io(io: &Arc<TestIo>) -> &dyn IO {
    io.as_ref()
}

/// Commits `pages` (page number, tag) as one transaction through the public protocol.
fn commit(
    io: &Arc<TestIo>,
    wal: &Wal,
    pages: &[(u32, u8)],
    db_size_pages: u32,
) -> Result<u64, Error> {
    let snapshot = wal.begin_read();
    let result = commit_on(io, wal, &snapshot, pages, db_size_pages);
    wal.end_read(&snapshot);
    result
}

fn commit_on(
    io: &Arc<TestIo>,
    wal: &Wal,
    snapshot: &Snapshot,
    pages: &[(u32, u8)],
    db_size_pages: u32,
) -> Result<u64, Error> {
    wal.begin_write(snapshot)?;
    let frames = pages.iter().map(|&(p, tag)| (p, image(p, tag))).collect();
    let mut append = wal.append(frames, db_size_pages);
    let result = block_on(dyn_io(io), || append.poll());
    wal.end_write();
    result
}

fn read_frame(io: &Arc<TestIo>, wal: &Wal, frame_no: u64) -> Vec<u8> {
    let c = Completion::read(PAGE_SIZE);
    wal.read_frame(frame_no, &c).expect("read_frame");
    assert_eq!(strata_io::wait(dyn_io(io), &c).expect("read"), PAGE_SIZE);
    c.take_buf()
}

/// The page as `snapshot` sees it in the WAL (None: the reader would use the database file).
fn wal_page(io: &Arc<TestIo>, wal: &Wal, snapshot: &Snapshot, page_no: u32) -> Option<Vec<u8>> {
    wal.find_frame(snapshot, page_no)
        .map(|f| read_frame(io, wal, f))
}

fn checkpoint(io: &Arc<TestIo>, wal: &Wal, mode: CheckpointMode) -> CheckpointResult {
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, mode);
    block_on(dyn_io(io), || ckpt.poll()).expect("checkpoint")
}

fn db_page(io: &Arc<TestIo>, page_no: u32) -> Vec<u8> {
    let bytes = io.bytes(DB);
    let start = (page_no as usize - 1) * PAGE_SIZE;
    bytes[start..start + PAGE_SIZE].to_vec()
}

fn both_modes(test: impl Fn(Arc<TestIo>)) {
    test(TestIo::new());
    test(TestIo::new_deferred());
}

#[test]
fn append_then_read_back() {
    both_modes(|io| {
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 0);
        assert_eq!(wal.page_size(), PAGE_SIZE);
        let empty = wal.begin_read();
        assert!(!empty.reads_wal);
        assert_eq!(empty.db_size_pages, None);
        assert_eq!(wal.find_frame(&empty, 1), None);
        wal.end_read(&empty);

        assert_eq!(
            commit(&io, &wal, &[(1, 0xa1), (2, 0xa2), (3, 0xa3)], 3).unwrap(),
            3
        );
        let snap = wal.begin_read();
        assert!(snap.reads_wal);
        assert_eq!(snap.max_frame, 3);
        assert_eq!(snap.db_size_pages, Some(3));
        for p in 1..=3u32 {
            assert_eq!(
                wal_page(&io, &wal, &snap, p),
                Some(image(p, 0xa0 + p as u8))
            );
        }
        assert_eq!(wal.find_frame(&snap, 4), None);
        assert_eq!(wal.frame_info(3).unwrap().commit_db_size_pages, 3);
        assert_eq!(wal.frame_info(1).unwrap().commit_db_size_pages, 0);
        assert_eq!(wal.frame_info(4), None);
        wal.end_read(&snap);

        // The file is exactly header + 3 frames, and the header is SQLite's.
        let bytes = io.bytes(WAL);
        assert_eq!(bytes.len(), 32 + 3 * FRAME_BYTES);
        assert_eq!(be32(&bytes, 0), 0x377f0682);
        assert_eq!(be32(&bytes, 4), 3007000);
        assert_eq!(be32(&bytes, 8), PAGE_SIZE as u32);
    });
}

#[test]
fn append_is_invisible_until_complete() {
    let io = TestIo::new_deferred();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let writer_snap = wal.begin_read();
    wal.begin_write(&writer_snap).unwrap();
    let mut append = wal.append(vec![(1, image(1, 2)), (2, image(2, 2))], 2);
    assert!(matches!(append.poll(), Ok(Poll::Pending)));
    assert!(io.in_flight() > 0);
    // Written or not, nothing is published before the append reports Ready.
    io.run_once().unwrap();
    assert_eq!(wal.max_frame(), 1);
    let reader = wal.begin_read();
    assert_eq!(reader.max_frame, 1);
    assert_eq!(wal_page(&io, &wal, &reader, 1), Some(image(1, 1)));
    let max_frame = block_on(dyn_io(&io), || append.poll()).unwrap();
    assert_eq!(max_frame, 3);
    assert!(io.sync_count() >= 1, "SyncMode::Full fsyncs the commit");
    wal.end_write();
    // The old reader keeps its view.
    assert_eq!(wal_page(&io, &wal, &reader, 1), Some(image(1, 1)));
    assert_eq!(wal.find_frame(&reader, 2), None);
    wal.end_read(&reader);
    wal.end_read(&writer_snap);
}

#[test]
fn snapshot_isolation_and_pages_changed() {
    both_modes(|io| {
        let wal = open(&io);
        commit(&io, &wal, &[(1, 1), (2, 1)], 2).unwrap();
        let old = wal.begin_read();
        commit(&io, &wal, &[(2, 2), (3, 2)], 3).unwrap();
        commit(&io, &wal, &[(1, 3)], 3).unwrap();
        let new = wal.begin_read();
        assert_eq!(old.max_frame, 2);
        assert_eq!(new.max_frame, 5);
        assert_eq!(old.db_size_pages, Some(2));
        assert_eq!(new.db_size_pages, Some(3));
        assert_eq!(wal_page(&io, &wal, &old, 1), Some(image(1, 1)));
        assert_eq!(wal_page(&io, &wal, &old, 2), Some(image(2, 1)));
        assert_eq!(wal.find_frame(&old, 3), None);
        assert_eq!(wal_page(&io, &wal, &new, 1), Some(image(1, 3)));
        assert_eq!(wal_page(&io, &wal, &new, 2), Some(image(2, 2)));
        assert_eq!(wal_page(&io, &wal, &new, 3), Some(image(3, 2)));
        assert_eq!(wal.pages_changed(&old, &new), Some(vec![1, 2, 3]));
        assert_eq!(wal.pages_changed(&new, &new), Some(vec![]));
        wal.end_read(&old);
        wal.end_read(&new);
    });
}

/// The first log of a database (nothing to overwrite) is the same generation as the empty
/// one before it: a cache from before the first commit learns exactly which pages
/// changed instead of being dropped. (cargo-mutants: `max_frame > 0` -> `>=` for the
/// generation bump in `Append::start` survived.)
#[test]
fn first_log_keeps_the_generation() {
    both_modes(|io| {
        let wal = open(&io);
        let before = wal.begin_read();
        wal.end_read(&before);
        commit(&io, &wal, &[(1, 1), (2, 1)], 2).unwrap();
        let after = wal.begin_read();
        assert_eq!(after.generation, before.generation);
        assert_eq!(wal.pages_changed(&before, &after), Some(vec![1, 2]));
        wal.end_read(&after);
    });
}

#[test]
fn writer_locking() {
    let io = TestIo::new();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let a = wal.begin_read();
    let b = wal.begin_read();
    wal.begin_write(&a).unwrap();
    // Two writers: the second is refused.
    assert!(matches!(wal.begin_write(&b), Err(Error::Busy)));
    let frames = vec![(1, image(1, 2))];
    let mut append = wal.append(frames, 1);
    block_on(dyn_io(&io), || append.poll()).unwrap();
    wal.end_write();
    // b's snapshot predates a's commit: it may not write on top of what it did not see.
    assert!(matches!(wal.begin_write(&b), Err(Error::Busy)));
    wal.end_read(&a);
    wal.end_read(&b);
    let fresh = wal.begin_read();
    wal.begin_write(&fresh).unwrap();
    wal.end_write();
    wal.end_read(&fresh);
}

#[test]
fn stale_db_only_snapshot_cannot_write() {
    let io = TestIo::new();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    checkpoint(&io, &wal, CheckpointMode::Full);
    let stale = wal.begin_read();
    assert!(!stale.reads_wal);
    commit(&io, &wal, &[(1, 2)], 1).unwrap();
    assert!(matches!(wal.begin_write(&stale), Err(Error::Busy)));
    wal.end_read(&stale);
}

#[test]
fn recovery_rebuilds_the_same_index() {
    both_modes(|io| {
        let wal = open(&io);
        let mut expected = Vec::new();
        for txn in 0..20u32 {
            let pages: Vec<(u32, u8)> = (0..(txn % 4 + 1))
                .map(|i| ((txn * 3 + i) % 7 + 1, txn as u8))
                .collect();
            let mut unique = pages.clone();
            unique.sort();
            unique.dedup_by_key(|p| p.0);
            commit(&io, &wal, &unique, 7).unwrap();
        }
        for f in 1..=wal.max_frame() {
            expected.push((wal.frame_info(f).unwrap(), read_frame(&io, &wal, f)));
        }
        let snap = wal.begin_read();
        let finds: Vec<_> = (1..=8).map(|p| wal.find_frame(&snap, p)).collect();
        wal.end_read(&snap);
        drop(wal);

        let reopened = open(&io);
        assert_eq!(reopened.max_frame(), expected.len() as u64);
        for (i, (info, data)) in expected.iter().enumerate() {
            let f = i as u64 + 1;
            assert_eq!(reopened.frame_info(f).as_ref(), Some(info));
            assert_eq!(&read_frame(&io, &reopened, f), data);
        }
        let snap = reopened.begin_read();
        assert_eq!(
            (1..=8)
                .map(|p| reopened.find_frame(&snap, p))
                .collect::<Vec<_>>(),
            finds
        );
        reopened.end_read(&snap);
        // Recovery reads in big chunks, not one read per frame.
        // (Counted on a fresh open: header + ceil(frames / 64) reads.)
        let reads_before = io.read_count();
        let again = open(&io);
        assert!(
            io.read_count() - reads_before <= 3,
            "{} reads",
            io.read_count() - reads_before
        );
        drop(again);
        // Appends continue the chain after recovery.
        commit(&io, &reopened, &[(1, 0xee)], 7).unwrap();
        drop(reopened);
        let third = open(&io);
        assert_eq!(third.max_frame(), expected.len() as u64 + 1);
    });
}

/// Five transactions of two frames each (frames 1..=10, commits at even frames).
fn five_transactions(io: &Arc<TestIo>) -> Vec<u8> {
    let wal = open(io);
    for txn in 0..5u32 {
        commit(io, &wal, &[(txn + 1, txn as u8), (txn + 10, txn as u8)], 20).unwrap();
    }
    io.bytes(WAL)
}

fn recovered_max_frame(bytes: Vec<u8>) -> u64 {
    let io = TestIo::new();
    io.set_bytes(WAL, bytes);
    open(&io).max_frame()
}

#[test]
fn recovery_keeps_transactions_before_damage() {
    let bytes = five_transactions(&TestIo::new());
    assert_eq!(bytes.len(), 32 + 10 * FRAME_BYTES);
    assert_eq!(recovered_max_frame(bytes.clone()), 10);
    for damaged_frame in 1..=10usize {
        // Transactions wholly before the damaged frame survive.
        let expected = ((damaged_frame - 1) / 2 * 2) as u64;
        let frame_start = 32 + (damaged_frame - 1) * FRAME_BYTES;
        // Damage in the header's page number, commit size, salts, checksums, and the page.
        for offset_in_frame in [0, 5, 9, 14, 17, 22, 24, 300, FRAME_BYTES - 1] {
            let mut damaged = bytes.clone();
            damaged[frame_start + offset_in_frame] ^= 0x40;
            assert_eq!(
                recovered_max_frame(damaged),
                expected,
                "byte {offset_in_frame} of frame {damaged_frame}"
            );
        }
        // A torn write: the file ends inside the frame.
        for cut in [1, 24, FRAME_BYTES - 1] {
            assert_eq!(
                recovered_max_frame(bytes[..frame_start + cut].to_vec()),
                expected
            );
        }
        assert_eq!(recovered_max_frame(bytes[..frame_start].to_vec()), expected);
    }
}

#[test]
fn recovery_after_damage_then_append() {
    let io = TestIo::new();
    let mut bytes = five_transactions(&io);
    bytes[32 + 6 * FRAME_BYTES + 100] ^= 1; // frame 7
    io.set_bytes(WAL, bytes);
    let wal = open(&io);
    assert_eq!(wal.max_frame(), 6);
    // The next append overwrites the garbage from frame 7 on and chains from frame 6.
    commit(&io, &wal, &[(5, 0x55)], 20).unwrap();
    drop(wal);
    let wal = open(&io);
    assert_eq!(wal.max_frame(), 7);
    assert_eq!(read_frame(&io, &wal, 7), image(5, 0x55));
}

#[test]
fn damaged_header_means_empty_wal() {
    let good = five_transactions(&TestIo::new());
    for (what, offset) in [
        ("magic", 3),
        ("version", 5),
        ("page size", 10),
        ("salt", 17),
        ("checksum", 29),
    ] {
        let mut bytes = good.clone();
        bytes[offset] ^= 0x01;
        let io = TestIo::new();
        io.set_bytes(WAL, bytes);
        let wal = Wal::open(io.clone(), WAL, PAGE_SIZE, options(SyncMode::Full)).expect(what);
        assert_eq!(wal.max_frame(), 0, "{what}");
        // The first append rewrites the header; old frames never come back.
        commit(&io, &wal, &[(9, 9)], 9).unwrap();
        drop(wal);
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 1, "{what}");
        assert_eq!(read_frame(&io, &wal, 1), image(9, 9));
    }
    // Too short for a header.
    assert_eq!(recovered_max_frame(good[..31].to_vec()), 0);
    assert_eq!(recovered_max_frame(Vec::new()), 0);
}

/// A WAL that holds a valid header and no frame (what SQLite leaves after a checkpoint
/// that reset the log, or a crash right after the header's fsync): recovery keeps the
/// header, so the next log continues its checkpoint sequence and moves its salt-1 on, as
/// after any restart. (cargo-mutants: `size_bytes < 32` -> `<=` in `recover` dropped the
/// header of a 32-byte WAL and survived every other test.)
#[test]
fn header_only_wal_keeps_its_sequence() {
    both_modes(|io| {
        let header_only = big_endian_wal(PAGE_SIZE, &[]);
        assert_eq!(header_only.len(), 32);
        assert_eq!(be32(&header_only, 12), 5, "checkpoint sequence");
        io.set_bytes(WAL, header_only);
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 0);
        commit(&io, &wal, &[(1, 0x11)], 1).unwrap();
        drop(wal);
        let bytes = io.bytes(WAL);
        assert_eq!(be32(&bytes, 12), 6, "checkpoint sequence continues");
        assert_eq!(be32(&bytes, 16), 0x1234_5679, "salt-1 moves on");
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 1);
        assert_eq!(read_frame(&io, &wal, 1), image(1, 0x11));
    });
}

/// A WAL without a committed frame does not fix the page size: the database's wins (the
/// first append rewrites the header), as when SQLite finds an empty log. (cargo-mutants:
/// the `max_frame > 0` guard in `Wal::open` replaced by `true` survived.)
#[test]
fn empty_wal_takes_the_database_page_size() {
    both_modes(|io| {
        // A header for 1024-byte pages, and one frame that no commit confirms.
        let other = vec![(1, 0, vec![7u8; 1024])];
        io.set_bytes(WAL, big_endian_wal(1024, &other));
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 0);
        assert_eq!(wal.page_size(), PAGE_SIZE);
        commit(&io, &wal, &[(1, 0x11)], 1).unwrap();
        drop(wal);
        let bytes = io.bytes(WAL);
        assert_eq!(be32(&bytes, 8), PAGE_SIZE as u32, "header rewritten");
        let wal = open(&io);
        assert_eq!((wal.max_frame(), wal.page_size()), (1, PAGE_SIZE));
        assert_eq!(read_frame(&io, &wal, 1), image(1, 0x11));
    });
}

/// A WAL that shrinks between recovery's size query and its reads (another process
/// truncating it) recovers the whole frames the reads return, without an error.
/// (cargo-mutants: `read_bytes > len_bytes` -> `<` in `read_blocking` turned every short
/// read into an error and survived: no test had a read come back short.)
#[test]
fn recovery_of_a_wal_that_shrinks_under_it() {
    both_modes(|io| {
        let bytes = five_transactions(&TestIo::new());
        io.set_bytes(WAL, bytes);
        // Three frames and a half more than the file holds.
        io.overstate_sizes(3 * FRAME_BYTES as u64 + 100);
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 10);
        io.overstate_sizes(0);
        assert_eq!(read_frame(&io, &wal, 10), image(14, 4));
    });
}

/// Recovery reads the header and each whole frame exactly once, in batches of 64 frames,
/// and nothing past the last whole frame (a torn tail is not read). (cargo-mutants: four
/// mutants of the frame count and batch size in `recover` changed only how much was
/// read, which no test looked at: they read past the end or in many small batches.)
#[test]
fn recovery_reads_each_whole_frame_once() {
    let io = TestIo::new();
    let wal = open(&io);
    // 130 frames: two full batches and a partial one.
    for txn in 0..65u32 {
        commit(&io, &wal, &[(1, txn as u8), (2 + txn % 5, txn as u8)], 20).unwrap();
    }
    drop(wal);
    let mut bytes = io.bytes(WAL);
    assert_eq!(bytes.len(), 32 + 130 * FRAME_BYTES);
    // A torn frame after them: most of a frame, not a whole one.
    bytes.extend(std::iter::repeat_n(0x5a, FRAME_BYTES - 36));
    both_modes(|io| {
        io.set_bytes(WAL, bytes.clone());
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 130);
        assert_eq!(io.read_count(), 1 + 3, "header, then 64 + 64 + 2 frames");
        assert_eq!(
            io.read_bytes_requested(),
            32 + 130 * FRAME_BYTES as u64,
            "only the header and the whole frames"
        );
    });
}

/// Builds a WAL by hand with big-endian checksum words (magic 0x377f0683).
fn big_endian_wal(page_size: usize, frames: &[(u32, u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in [
        0x377f0683u32,
        3007000,
        page_size as u32,
        5,
        0x1234_5678,
        0x9abc_def0,
    ] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut sum = sqlite_checksum(true, &out, (0, 0));
    out.extend_from_slice(&sum.0.to_be_bytes());
    out.extend_from_slice(&sum.1.to_be_bytes());
    for (page_no, commit, data) in frames {
        let mut header = Vec::new();
        for v in [*page_no, *commit, 0x1234_5678, 0x9abc_def0] {
            header.extend_from_slice(&v.to_be_bytes());
        }
        sum = sqlite_checksum(true, &header[..8], sum);
        sum = sqlite_checksum(true, data, sum);
        header.extend_from_slice(&sum.0.to_be_bytes());
        header.extend_from_slice(&sum.1.to_be_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
    }
    out
}

#[test]
fn big_endian_checksums_are_readable_and_extendable() {
    both_modes(|io| {
        let frames = vec![
            (1, 0, image(1, 1)),
            (2, 2, image(2, 1)),
            (1, 2, image(1, 2)),
            (3, 0, image(3, 3)),
        ];
        io.set_bytes(WAL, big_endian_wal(PAGE_SIZE, &frames));
        let wal = open(&io);
        // Frame 4 has no commit after it: ignored.
        assert_eq!(wal.max_frame(), 3);
        let snap = wal.begin_read();
        assert_eq!(wal_page(&io, &wal, &snap, 1), Some(image(1, 2)));
        assert_eq!(wal_page(&io, &wal, &snap, 2), Some(image(2, 1)));
        assert_eq!(wal.find_frame(&snap, 3), None);
        wal.end_read(&snap);
        // Appending continues the big-endian chain.
        commit(&io, &wal, &[(3, 0x33)], 3).unwrap();
        drop(wal);
        let bytes = io.bytes(WAL);
        assert_eq!(be32(&bytes, 0), 0x377f0683);
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 4);
        assert_eq!(read_frame(&io, &wal, 4), image(3, 0x33));
    });
}

#[test]
fn little_endian_wal_matches_independent_checksum() {
    let bytes = five_transactions(&TestIo::new());
    let mut sum = sqlite_checksum(false, &bytes[..24], (0, 0));
    assert_eq!((be32(&bytes, 24), be32(&bytes, 28)), sum);
    for f in 0..10 {
        let start = 32 + f * FRAME_BYTES;
        sum = sqlite_checksum(false, &bytes[start..start + 8], sum);
        sum = sqlite_checksum(false, &bytes[start + 24..start + FRAME_BYTES], sum);
        assert_eq!(
            (be32(&bytes, start + 16), be32(&bytes, start + 20)),
            sum,
            "frame {}",
            f + 1
        );
        assert_eq!(be32(&bytes, start + 8), be32(&bytes, 16), "salt-1");
        assert_eq!(be32(&bytes, start + 12), be32(&bytes, 20), "salt-2");
    }
}

#[test]
fn checkpoint_copies_newest_committed_versions() {
    both_modes(|io| {
        let wal = open(&io);
        commit(&io, &wal, &[(1, 1), (2, 1), (3, 1)], 3).unwrap();
        commit(&io, &wal, &[(2, 2)], 3).unwrap();
        commit(&io, &wal, &[(3, 3), (4, 3)], 4).unwrap();
        let result = checkpoint(&io, &wal, CheckpointMode::Passive);
        assert_eq!(
            result,
            CheckpointResult {
                busy: false,
                wal_frames: 6,
                checkpointed_frames: 6
            }
        );
        assert_eq!(io.bytes(DB).len(), 4 * PAGE_SIZE);
        assert_eq!(db_page(&io, 1), image(1, 1));
        assert_eq!(db_page(&io, 2), image(2, 2));
        assert_eq!(db_page(&io, 3), image(3, 3));
        assert_eq!(db_page(&io, 4), image(4, 3));
        // Everything is backfilled: new readers read the database file only.
        let snap = wal.begin_read();
        assert!(!snap.reads_wal);
        assert_eq!(wal.find_frame(&snap, 1), None);
        wal.end_read(&snap);
        // A second checkpoint has nothing to do.
        let again = checkpoint(&io, &wal, CheckpointMode::Full);
        assert_eq!(
            again,
            CheckpointResult {
                busy: false,
                wal_frames: 6,
                checkpointed_frames: 6
            }
        );
    });
}

#[test]
fn checkpoint_shrinks_database_to_committed_size() {
    let io = TestIo::new();
    io.set_bytes(DB, vec![0xff; 10 * PAGE_SIZE]);
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1), (5, 5)], 5).unwrap();
    commit(&io, &wal, &[(1, 2)], 2).unwrap();
    checkpoint(&io, &wal, CheckpointMode::Passive);
    assert_eq!(io.bytes(DB).len(), 2 * PAGE_SIZE);
    assert_eq!(db_page(&io, 1), image(1, 2));
}

#[test]
fn restart_after_full_checkpoint_without_readers() {
    both_modes(|io| {
        let wal = open(&io);
        commit(&io, &wal, &[(1, 1), (2, 1)], 2).unwrap();
        commit(&io, &wal, &[(2, 2)], 2).unwrap();
        let before = io.bytes(WAL);
        let old = wal.begin_read();
        wal.end_read(&old);
        checkpoint(&io, &wal, CheckpointMode::Restart);
        assert_eq!(
            commit(&io, &wal, &[(1, 7)], 2).unwrap(),
            1,
            "the WAL restarts at frame 1"
        );
        let after = io.bytes(WAL);
        assert_eq!(
            be32(&after, 12),
            be32(&before, 12) + 1,
            "checkpoint sequence"
        );
        assert_eq!(
            be32(&after, 16),
            be32(&before, 16).wrapping_add(1),
            "salt-1"
        );
        assert_ne!(be32(&after, 20), be32(&before, 20), "salt-2");
        assert_eq!(
            after.len(),
            before.len(),
            "frames are overwritten, not appended"
        );
        let new = wal.begin_read();
        assert_ne!(new.generation, old.generation);
        assert_eq!(wal.pages_changed(&old, &new), None);
        assert_eq!(wal_page(&io, &wal, &new, 1), Some(image(1, 7)));
        assert_eq!(
            wal.find_frame(&new, 2),
            None,
            "page 2 now comes from the database file"
        );
        wal.end_read(&new);
        // The stale frame 2 of the old generation is not recovered.
        drop(wal);
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 1);
        assert_eq!(read_frame(&io, &wal, 1), image(1, 7));
    });
}

#[test]
fn wal_readers_block_restart() {
    let io = TestIo::new();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let reader = wal.begin_read();
    assert!(reader.reads_wal);
    // The reader sees everything, so a full copy is safe, but it pins the WAL.
    let result = checkpoint(&io, &wal, CheckpointMode::Restart);
    assert_eq!(
        result,
        CheckpointResult {
            busy: true,
            wal_frames: 1,
            checkpointed_frames: 1
        }
    );
    assert_eq!(
        commit(&io, &wal, &[(1, 2)], 1).unwrap(),
        2,
        "no restart under a WAL reader"
    );
    assert_eq!(wal_page(&io, &wal, &reader, 1), Some(image(1, 1)));
    wal.end_read(&reader);
    checkpoint(&io, &wal, CheckpointMode::Passive);
    assert_eq!(
        commit(&io, &wal, &[(1, 3)], 1).unwrap(),
        1,
        "restart once the reader left"
    );
}

#[test]
fn passive_checkpoint_stops_at_oldest_reader() {
    both_modes(|io| {
        let wal = open(&io);
        commit(&io, &wal, &[(1, 1), (2, 1)], 2).unwrap();
        let reader = wal.begin_read();
        commit(&io, &wal, &[(1, 2), (3, 2)], 3).unwrap();
        let result = checkpoint(&io, &wal, CheckpointMode::Passive);
        assert_eq!(
            result,
            CheckpointResult {
                busy: true,
                wal_frames: 4,
                checkpointed_frames: 2
            }
        );
        assert_eq!(db_page(&io, 1), image(1, 1), "version the reader sees");
        let full = checkpoint(&io, &wal, CheckpointMode::Full);
        assert!(full.busy);
        assert_eq!(full.checkpointed_frames, 2);
        wal.end_read(&reader);
        let result = checkpoint(&io, &wal, CheckpointMode::Full);
        assert_eq!(
            result,
            CheckpointResult {
                busy: false,
                wal_frames: 4,
                checkpointed_frames: 4
            }
        );
        assert_eq!(db_page(&io, 1), image(1, 2));
        assert_eq!(db_page(&io, 3), image(3, 2));
    });
}

#[test]
fn db_only_reader_blocks_copying() {
    let io = TestIo::new();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    checkpoint(&io, &wal, CheckpointMode::Full);
    let reader = wal.begin_read();
    assert!(!reader.reads_wal);
    commit(&io, &wal, &[(1, 2)], 1).unwrap();
    // Copying frame 1 of the new generation would change page 1 under the reader.
    let result = checkpoint(&io, &wal, CheckpointMode::Passive);
    assert!(result.busy);
    assert_eq!(result.checkpointed_frames, 0);
    assert_eq!(db_page(&io, 1), image(1, 1));
    wal.end_read(&reader);
    assert!(!checkpoint(&io, &wal, CheckpointMode::Passive).busy);
    assert_eq!(db_page(&io, 1), image(1, 2));
}

#[test]
fn truncate_checkpoint_empties_the_wal_file() {
    both_modes(|io| {
        let wal = open(&io);
        commit(&io, &wal, &[(1, 1), (2, 1)], 2).unwrap();
        commit(&io, &wal, &[(2, 2)], 2).unwrap();
        let result = checkpoint(&io, &wal, CheckpointMode::Truncate);
        assert_eq!(
            result,
            CheckpointResult {
                busy: false,
                wal_frames: 0,
                checkpointed_frames: 0
            }
        );
        assert_eq!(io.bytes(WAL).len(), 0);
        assert_eq!(db_page(&io, 2), image(2, 2));
        let snap = wal.begin_read();
        assert!(!snap.reads_wal);
        wal.end_read(&snap);
        // The next append writes a fresh header and starts at frame 1.
        assert_eq!(commit(&io, &wal, &[(2, 3)], 2).unwrap(), 1);
        assert_eq!(io.bytes(WAL).len(), 32 + FRAME_BYTES);
        drop(wal);
        let wal = open(&io);
        assert_eq!(wal.max_frame(), 1);
        assert_eq!(read_frame(&io, &wal, 1), image(2, 3));
    });
}

#[test]
fn truncate_checkpoint_with_reader_is_busy_and_keeps_the_file() {
    let io = TestIo::new();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let reader = wal.begin_read();
    let result = checkpoint(&io, &wal, CheckpointMode::Truncate);
    assert!(result.busy);
    assert_eq!(io.bytes(WAL).len(), 32 + FRAME_BYTES);
    assert_eq!(wal_page(&io, &wal, &reader, 1), Some(image(1, 1)));
    wal.end_read(&reader);
}

#[test]
fn concurrent_checkpoints_are_refused() {
    let io = TestIo::new_deferred();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut first = wal.checkpoint(db.clone(), CheckpointMode::Full);
    assert!(first.poll().unwrap().is_pending());
    let mut second = wal.checkpoint(db.clone(), CheckpointMode::Full);
    let second_result = block_on(dyn_io(&io), || second.poll()).unwrap();
    assert!(second_result.busy);
    let first_result = block_on(dyn_io(&io), || first.poll()).unwrap();
    assert!(!first_result.busy);
    // Dropping a checkpoint midway releases the flag.
    commit(&io, &wal, &[(1, 2)], 1).unwrap();
    let mut dropped = wal.checkpoint(db.clone(), CheckpointMode::Full);
    let _ = dropped.poll();
    drop(dropped);
    io.run_once().unwrap();
    let mut third = wal.checkpoint(db, CheckpointMode::Full);
    assert!(!block_on(dyn_io(&io), || third.poll()).unwrap().busy);
}

#[test]
fn checkpoint_never_copies_unpublished_frames() {
    let io = TestIo::new_deferred();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    wal.end_read(&snap);
    let mut append = wal.append(vec![(1, image(1, 9)), (2, image(2, 9))], 2);
    assert!(append.poll().unwrap().is_pending());
    io.run_once().unwrap(); // frames written, not yet fsynced/published
    let result = checkpoint(&io, &wal, CheckpointMode::Full);
    assert_eq!(result.wal_frames, 1);
    assert_eq!(db_page(&io, 1), image(1, 1));
    assert_eq!(io.bytes(DB).len(), PAGE_SIZE);
    block_on(dyn_io(&io), || append.poll()).unwrap();
    wal.end_write();
    assert_eq!(wal.max_frame(), 3);
}

#[test]
fn failed_append_is_not_published_and_next_append_overwrites() {
    for deferred in [false, true] {
        for sync_fails in [false, true] {
            let io = TestIo::new();
            io.set_deferred(deferred);
            let wal = open(&io);
            commit(&io, &wal, &[(1, 1), (2, 1)], 2).unwrap();
            if sync_fails {
                io.fail_syncs();
            } else {
                io.fail_writes_after(0);
            }
            // Many frames, so the append needs several writes.
            let pages: Vec<(u32, u8)> = (1..=100).map(|p| (p, 2)).collect();
            let err = commit(&io, &wal, &pages, 100).unwrap_err();
            assert!(matches!(err, Error::Io(_)), "{err:?}");
            assert_eq!(wal.max_frame(), 2);
            let snap = wal.begin_read();
            assert_eq!(wal_page(&io, &wal, &snap, 1), Some(image(1, 1)));
            assert_eq!(wal.find_frame(&snap, 3), None);
            wal.end_read(&snap);
            io.stop_failing();
            io.run_once().unwrap();
            assert_eq!(commit(&io, &wal, &[(3, 3)], 3).unwrap(), 3);
            drop(wal);
            let wal = open(&io);
            assert_eq!(
                wal.max_frame(),
                3,
                "deferred={deferred} sync_fails={sync_fails}"
            );
            assert_eq!(read_frame(&io, &wal, 3), image(3, 3));
            assert_eq!(read_frame(&io, &wal, 1), image(1, 1));
        }
    }
}

#[test]
fn failed_restart_is_not_published() {
    let io = TestIo::new();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    checkpoint(&io, &wal, CheckpointMode::Full);
    io.fail_writes_after(0);
    assert!(commit(&io, &wal, &[(1, 2)], 1).is_err());
    io.stop_failing();
    assert_eq!(wal.max_frame(), 1);
    assert_eq!(commit(&io, &wal, &[(1, 3)], 1).unwrap(), 1);
    drop(wal);
    let wal = open(&io);
    assert_eq!(wal.max_frame(), 1);
    assert_eq!(read_frame(&io, &wal, 1), image(1, 3));
}

#[test]
fn failed_checkpoint_does_not_advance_backfill() {
    let io = TestIo::new();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1), (2, 1)], 2).unwrap();
    io.fail_writes_after(1);
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Full);
    assert!(block_on(dyn_io(&io), || ckpt.poll()).is_err());
    io.stop_failing();
    let snap = wal.begin_read();
    assert!(snap.reads_wal, "nothing was recorded as checkpointed");
    wal.end_read(&snap);
    let result = checkpoint(&io, &wal, CheckpointMode::Full);
    assert_eq!(result.checkpointed_frames, 2);
}

#[test]
fn sync_modes_control_fsyncs() {
    // The first commit starts the log: its header is fsynced before any frame is written
    // (unless syncing is off), so a torn restart can never resurrect old frames.
    for (mode, commit_syncs, checkpoint_syncs) in [
        (SyncMode::Full, 2, 2),
        (SyncMode::Normal, 1, 2),
        (SyncMode::Off, 0, 0),
    ] {
        let io = TestIo::new();
        let wal = Wal::open(io.clone(), WAL, PAGE_SIZE, options(mode)).unwrap();
        let before = io.sync_count();
        commit(&io, &wal, &[(1, 1)], 1).unwrap();
        assert_eq!(io.sync_count() - before, commit_syncs, "{mode:?} commit");
        let before = io.sync_count();
        checkpoint(&io, &wal, CheckpointMode::Passive);
        assert_eq!(
            io.sync_count() - before,
            checkpoint_syncs,
            "{mode:?} checkpoint"
        );
    }
}

#[test]
fn large_transaction_uses_few_writes() {
    let io = TestIo::new();
    let wal = open(&io);
    let before = io.write_count();
    let pages: Vec<(u32, u8)> = (1..=200).map(|p| (p, 1)).collect();
    commit(&io, &wal, &pages, 200).unwrap();
    // One header write (the log starts here) plus ceil(200 / 64) frame writes.
    assert!(
        io.write_count() - before <= 5,
        "{} writes for 200 frames",
        io.write_count() - before
    );
}

#[test]
fn invalid_arguments_are_errors_not_panics() {
    let io = TestIo::new();
    assert!(Wal::open(io.clone(), WAL, 1000, options(SyncMode::Full)).is_err());
    let wal = open(&io);
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    let mut short = wal.append(vec![(1, vec![0; 100])], 1);
    assert!(short.poll().is_err());
    let mut zero = wal.append(vec![(0, image(0, 0))], 1);
    assert!(zero.poll().is_err());
    let mut no_size = wal.append(vec![(1, image(1, 0))], 0);
    assert!(no_size.poll().is_err());
    wal.end_write();
    wal.end_read(&snap);
    let c = Completion::read(PAGE_SIZE);
    assert!(wal.read_frame(1, &c).is_err());
    assert!(wal.read_frame(0, &c).is_err());
}

/// A deterministic model check: random transactions, checkpoints and reopens, compared
/// against a map of the newest committed image of each page.
#[test]
fn random_workload_matches_model() {
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let io = TestIo::new();
    io.set_deferred(true);
    let mut wal = open(&io);
    // Newest committed image per page (the tag), whether in the WAL or the db file.
    let mut model: std::collections::BTreeMap<u32, u8> = Default::default();
    let mut db_size = 0u32;
    for step in 0..400u32 {
        match next() % 10 {
            0 => {
                let mode = [
                    CheckpointMode::Passive,
                    CheckpointMode::Full,
                    CheckpointMode::Restart,
                    CheckpointMode::Truncate,
                ][(next() % 4) as usize];
                checkpoint(&io, &wal, mode);
            }
            1 => {
                drop(wal);
                wal = open(&io);
            }
            _ => {
                let count = next() % 5 + 1;
                let mut pages: Vec<u32> = (0..count).map(|_| (next() % 12 + 1) as u32).collect();
                pages.sort_unstable();
                pages.dedup();
                let tag = (step % 251) as u8;
                let txn: Vec<(u32, u8)> = pages.iter().map(|&p| (p, tag)).collect();
                db_size = db_size.max(*pages.last().unwrap());
                commit(&io, &wal, &txn, db_size).unwrap();
                for p in pages {
                    model.insert(p, tag);
                }
            }
        }
        // Check the whole state as a reader sees it.
        let snap = wal.begin_read();
        for (&p, &tag) in &model {
            let data = match wal.find_frame(&snap, p) {
                Some(f) => read_frame(&io, &wal, f),
                None => db_page(&io, p),
            };
            assert_eq!(data, image(p, tag), "page {p} after step {step}");
        }
        wal.end_read(&snap);
    }
}

/// `orphaned_io_in_flight` reports an abandoned append's or checkpoint's I/O until it
/// completes (what a close must not wait for after a power loss). (cargo-mutants: the
/// constants `true` and `false` for it survived.)
#[test]
fn orphaned_io_is_reported_until_it_completes() {
    let io = TestIo::new_deferred();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    assert!(!wal.orphaned_io_in_flight());
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    let mut abandoned = wal.append(vec![(2, image(2, 0xdd))], 2);
    assert!(abandoned.poll().unwrap().is_pending());
    drop(abandoned);
    assert!(wal.orphaned_io_in_flight(), "the append's write");
    io.run_once().unwrap();
    assert!(!wal.orphaned_io_in_flight());
    wal.end_write();
    wal.end_read(&snap);
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Full);
    assert!(ckpt.poll().unwrap().is_pending());
    drop(ckpt);
    assert!(wal.orphaned_io_in_flight(), "the checkpoint's fsync");
    io.run_once().unwrap();
    assert!(!wal.orphaned_io_in_flight());
}

/// A write that moves only part of its buffer is an error, for the log's frames and for
/// the checkpoint's database pages: nothing is published on top of it. (cargo-mutants:
/// `==` -> `!=` in `poll_all`'s write check survived: no test had a short write.)
#[test]
fn short_writes_are_errors() {
    both_modes(|io| {
        let wal = open(&io);
        commit(&io, &wal, &[(1, 1)], 1).unwrap();
        io.short_writes(true);
        assert!(matches!(commit(&io, &wal, &[(2, 2)], 2), Err(Error::Io(_))));
        assert_eq!(wal.max_frame(), 1);
        let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
        let mut ckpt = wal.checkpoint(db, CheckpointMode::Full);
        assert!(matches!(
            block_on(dyn_io(&io), || ckpt.poll()),
            Err(Error::Io(_))
        ));
        assert_eq!(wal.backfilled_frames(), 0);
        io.short_writes(false);
        assert_eq!(commit(&io, &wal, &[(2, 2)], 2).unwrap(), 2);
        checkpoint(&io, &wal, CheckpointMode::Full);
        assert_eq!(db_page(&io, 2), image(2, 2));
    });
}

/// An append or checkpoint polled again while its I/O is in flight still hands that I/O
/// over when dropped, so the next one waits for it. (cargo-mutants: `delete !` in
/// `Append::poll`'s `retain(|c| !c.is_done())`, which forgets in-flight operations at the
/// second poll, survived: every test dropped after a single poll.)
#[test]
fn repolled_then_dropped_still_orphans_its_io() {
    let io = TestIo::new_deferred();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    let mut abandoned = wal.append(vec![(2, image(2, 0xdd))], 2);
    assert!(abandoned.poll().unwrap().is_pending());
    assert!(abandoned.poll().unwrap().is_pending());
    drop(abandoned);
    assert!(wal.orphaned_io_in_flight(), "the append's write");
    let mut next = wal.append(vec![(2, image(2, 0x22))], 2);
    assert_eq!(block_on(dyn_io(&io), || next.poll()).unwrap(), 2);
    wal.end_write();
    wal.end_read(&snap);
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Full);
    assert!(ckpt.poll().unwrap().is_pending());
    assert!(ckpt.poll().unwrap().is_pending());
    drop(ckpt);
    assert!(wal.orphaned_io_in_flight(), "the checkpoint's fsync");
    drop(wal);
    let wal = open(&io);
    assert_eq!(read_frame(&io, &wal, 2), image(2, 0x22));
}

/// A commit whose checksum pass over rewritten spilled frames fails after its first batch
/// resumes, on the next try, from the checksum that batch recorded: every frame chains and
/// recovers. (cargo-mutants: `next - first_frame` -> `next / first_frame` in
/// `rechain_step`, which records the batch's checksums in the wrong slots, survived: no
/// test interrupted the pass.)
#[test]
fn interrupted_checksum_pass_resumes_on_the_right_seed() {
    let io = TestIo::new();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    // Frames 2..=101, then frame 5 rewritten: the pass covers 5..=68, then 69..=101.
    let pages = (2..=101).map(|p| (p, image(p, 2))).collect();
    let mut spill = wal.append_uncommitted(pages, Vec::new());
    assert_eq!(block_on(dyn_io(&io), || spill.poll()).unwrap(), 2);
    let mut rewrite = wal.append_uncommitted(Vec::new(), vec![(5, 5, image(5, 3))]);
    block_on(dyn_io(&io), || rewrite.poll()).unwrap();
    io.fail_writes_after(1);
    let mut failed = wal.append(vec![(1, image(1, 5))], 101);
    assert!(block_on(dyn_io(&io), || failed.poll()).is_err());
    drop(failed);
    io.stop_failing();
    let mut retry = wal.append(vec![(1, image(1, 5))], 101);
    assert_eq!(block_on(dyn_io(&io), || retry.poll()).unwrap(), 102);
    wal.end_write();
    wal.end_read(&snap);
    drop(wal);
    let wal = open(&io);
    assert_eq!(wal.max_frame(), 102, "every frame chains");
    assert_eq!(read_frame(&io, &wal, 5), image(5, 3));
    assert_eq!(read_frame(&io, &wal, 101), image(101, 2));
    assert_eq!(read_frame(&io, &wal, 102), image(1, 5));
}

#[test]
fn dropped_append_cannot_overwrite_the_next_one() {
    let io = TestIo::new_deferred();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    let mut abandoned = wal.append(vec![(2, image(2, 0xdd))], 2);
    assert!(abandoned.poll().unwrap().is_pending());
    assert!(io.in_flight() > 0);
    drop(abandoned); // its write is still queued in the backend
    assert_eq!(wal.max_frame(), 1);
    // The next append targets the same frame; it must wait for the stale write, which
    // this backend would otherwise complete after (over) the new one.
    let mut next = wal.append(vec![(2, image(2, 0x22))], 2);
    assert_eq!(block_on(dyn_io(&io), || next.poll()).unwrap(), 2);
    wal.end_write();
    wal.end_read(&snap);
    drop(wal);
    let wal = open(&io);
    assert_eq!(wal.max_frame(), 2);
    assert_eq!(read_frame(&io, &wal, 2), image(2, 0x22));
}

#[test]
fn dropped_checkpoint_cannot_overwrite_the_next_one() {
    let io = TestIo::new_deferred();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut abandoned = wal.checkpoint(db, CheckpointMode::Passive);
    // Drive it until its database write is in flight (sync WAL, read frame, write page).
    let writes_before = io.write_count();
    for _ in 0..10 {
        assert!(abandoned.poll().unwrap().is_pending());
        if io.write_count() > writes_before {
            break;
        }
        io.run_once().unwrap();
    }
    assert_eq!(
        io.write_count(),
        writes_before + 1,
        "the database write is in flight"
    );
    io.hold(); // a slow disk: the stale write of page 1 lingers
    drop(abandoned);
    commit(&io, &wal, &[(1, 2)], 1).unwrap();
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut next = wal.checkpoint(db, CheckpointMode::Passive);
    for _ in 0..10 {
        if next.poll().unwrap().is_ready() {
            break;
        }
        io.run_once().unwrap();
    }
    // The stale write lands now; the new checkpoint must not have copied before it.
    io.release();
    let result = block_on(dyn_io(&io), || next.poll()).unwrap();
    assert!(!result.busy);
    io.run_once().unwrap();
    assert_eq!(db_page(&io, 1), image(1, 2));
}

#[test]
fn append_waits_for_an_in_flight_wal_truncation() {
    let io = TestIo::new_deferred();
    let wal = open(&io);
    commit(&io, &wal, &[(1, 1)], 1).unwrap();
    let db = io.open_file(DB, OpenFlags::CREATE).unwrap();
    let mut ckpt = wal.checkpoint(db, CheckpointMode::Truncate);
    // Drive the checkpoint until it has published and submitted the WAL truncation.
    for _ in 0..20 {
        assert!(ckpt.poll().unwrap().is_pending());
        if wal.backfilled_frames() == wal.max_frame() && io.in_flight() > 0 {
            break;
        }
        io.run_once().unwrap();
    }
    assert_eq!(wal.backfilled_frames(), 1);
    io.hold(); // the truncation lingers on a slow disk
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    let mut append = wal.append(vec![(1, image(1, 2))], 1);
    assert!(
        append.poll().unwrap().is_pending(),
        "the append waits for the truncation"
    );
    io.release();
    assert_eq!(block_on(dyn_io(&io), || append.poll()).unwrap(), 1);
    wal.end_write();
    wal.end_read(&snap);
    block_on(dyn_io(&io), || ckpt.poll()).unwrap();
    drop(wal);
    let wal = open(&io);
    assert_eq!(wal.max_frame(), 1);
    assert_eq!(read_frame(&io, &wal, 1), image(1, 2));
}
