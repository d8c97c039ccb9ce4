//! `PRAGMA journal_mode` (`journal_mode.rs`) and the close that checkpoints and deletes the
//! WAL (`close.rs`) at the pager's level: what lands in the files and in what order, the
//! refusals, `Pending` resumption, and I/O errors.
//!
//! Written for the mutation run of issue 14: both modules were reached only through SQL
//! (the `strata` crate's tests), so every one of their mutants survived strata-pager's own
//! tests.

use std::path::Path;
use std::sync::Arc;

mod common;

use common::{commit, get, Recording};
use strata_io::{block_on, MemoryIo, Poll, SyscallIo, IO};
use strata_pager::{
    header, CheckpointMode, Error, JournalMode, Pager, Storage, StorageOptions, SyncMode,
};

const PAGE: usize = 1024;

fn options(sync_mode: SyncMode) -> StorageOptions {
    StorageOptions {
        page_size: PAGE,
        cache_size_pages: 64,
        autocheckpoint_frames: 0,
        sync_mode,
        ..StorageOptions::default()
    }
}

/// Appends `count` pages filled with `fill`.
fn append_pages(pager: &Pager, count: u32, fill: u8) {
    pager.begin_write().unwrap();
    for _ in 0..count {
        pager.append_page().unwrap().data_mut().fill(fill);
    }
    commit(pager);
}

fn set_mode(pager: &Pager, mode: JournalMode) -> strata_pager::Result<JournalMode> {
    block_on(pager.io().as_ref(), || pager.set_journal_mode(mode))
}

/// A database in WAL mode with pages 2..=4 committed to its WAL, on a recording IO.
fn wal_database(
    io: Arc<dyn IO>,
    dir: &Path,
    sync_mode: SyncMode,
) -> (Arc<Recording>, Arc<Storage>, String) {
    let rec = Recording::new(io);
    let path = dir.join("db").to_str().unwrap().to_string();
    let storage = Storage::open(rec.clone(), &path, options(sync_mode)).unwrap();
    append_pages(&storage.pager(), 3, 0x5a);
    rec.take_events();
    (rec, storage, path)
}

fn disk_bytes(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn mode_names_are_sqlites() {
    assert_eq!(JournalMode::Wal.name(), "wal");
    assert_eq!(JournalMode::Delete.name(), "delete");
}

#[test]
fn leaving_wal_mode_checkpoints_removes_the_wal_then_writes_the_version_bytes() {
    for sync_mode in [SyncMode::Full, SyncMode::Off] {
        let dir = tempfile::tempdir().unwrap();
        let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), sync_mode);
        let pager = storage.pager();
        assert_eq!(storage.journal_mode(), JournalMode::Wal);
        assert_eq!(
            set_mode(&pager, JournalMode::Delete).unwrap(),
            JournalMode::Delete
        );
        assert_eq!(storage.journal_mode(), JournalMode::Delete);
        assert!(!pager.journal_mode_switching());
        let events = rec.take_events();
        // The checkpoint copies the 4 pages and empties the WAL; SQLite's order after it:
        // the WAL goes first, then bytes 18/19 (one write), then their fsync.
        let remove = events.iter().position(|e| e == "remove db-wal").unwrap();
        let tail: Vec<&str> = events[remove..].iter().map(|s| s.as_str()).collect();
        let want: &[&str] = match sync_mode {
            SyncMode::Off => &["remove db-wal", "write db"],
            _ => &["remove db-wal", "write db", "sync db"],
        };
        assert_eq!(tail, want, "{sync_mode:?}: {events:?}");
        assert!(
            events[..remove].iter().filter(|e| *e == "write db").count() >= 4,
            "{sync_mode:?}: the checkpoint copied the frames first: {events:?}"
        );
        assert!(!Path::new(&format!("{path}-wal")).exists());
        let bytes = disk_bytes(&path);
        assert_eq!(bytes.len(), 4 * PAGE);
        assert_eq!(
            (
                bytes[header::OFFSET_WRITE_VERSION],
                bytes[header::OFFSET_READ_VERSION]
            ),
            (1, 1)
        );
        assert!(bytes[PAGE..].iter().all(|&b| b == 0x5a));
        // SQLite reads it as a rollback-journal database with the pages.
        drop(pager);
        drop(storage);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
        let pages: u32 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        assert_eq!(pages, 4);
    }
}

#[test]
fn leaving_wal_mode_releases_the_write_lock() {
    let dir = tempfile::tempdir().unwrap();
    let (_rec, storage, _path) =
        wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let pager = storage.pager();
    set_mode(&pager, JournalMode::Delete).unwrap();
    assert!(!pager.in_read_tx());
    let other = storage.pager();
    other.begin_write().unwrap();
    other.rollback().unwrap();
    pager.begin_write().unwrap();
    pager.rollback().unwrap();
}

#[test]
fn the_mode_in_force_is_returned_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, _path) =
        wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let pager = storage.pager();
    assert_eq!(
        pager.set_journal_mode(JournalMode::Wal).unwrap(),
        Poll::Ready(JournalMode::Wal)
    );
    assert!(
        rec.take_events().is_empty(),
        "nothing to do, nothing written"
    );
    // Inside a transaction, too: nothing changes, so nothing is refused (SQLite's answer).
    pager.begin_read().unwrap();
    assert_eq!(
        pager.set_journal_mode(JournalMode::Wal).unwrap(),
        Poll::Ready(JournalMode::Wal)
    );
    pager.end_read();
    set_mode(&pager, JournalMode::Delete).unwrap();
    rec.take_events();
    assert_eq!(
        pager.set_journal_mode(JournalMode::Delete).unwrap(),
        Poll::Ready(JournalMode::Delete)
    );
    assert!(rec.take_events().is_empty());
}

#[test]
fn no_switch_inside_a_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, _path) =
        wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let pager = storage.pager();
    for begin in [Pager::begin_read, Pager::begin_write] {
        begin(&pager).unwrap();
        match pager.set_journal_mode(JournalMode::Delete) {
            Err(Error::Misuse(m)) => {
                assert_eq!(m, "cannot change out of wal mode from within a transaction")
            }
            other => panic!("{other:?}"),
        }
        pager.rollback().unwrap();
    }
    assert!(rec.take_events().is_empty());
    assert_eq!(storage.journal_mode(), JournalMode::Wal);
    set_mode(&pager, JournalMode::Delete).unwrap();
    pager.begin_read().unwrap();
    match pager.set_journal_mode(JournalMode::Wal) {
        Err(Error::Misuse(m)) => {
            assert_eq!(m, "cannot change into wal mode from within a transaction")
        }
        other => panic!("{other:?}"),
    }
    pager.end_read();
    assert_eq!(storage.journal_mode(), JournalMode::Delete);
}

#[test]
fn another_connections_reader_makes_leaving_wal_mode_busy() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let reader = storage.pager();
    reader.begin_read().unwrap();
    // A commit after the reader's snapshot: the reader pins frames the checkpoint cannot
    // copy past.
    append_pages(&storage.pager(), 1, 0x66);
    rec.take_events();
    let pager = storage.pager();
    assert!(matches!(
        set_mode(&pager, JournalMode::Delete),
        Err(Error::Busy)
    ));
    assert_eq!(storage.journal_mode(), JournalMode::Wal);
    assert!(Path::new(&format!("{path}-wal")).exists());
    assert!(!rec.take_events().contains(&"remove db-wal".to_string()));
    assert!(!pager.journal_mode_switching());
    reader.end_read();
    assert_eq!(
        set_mode(&pager, JournalMode::Delete).unwrap(),
        JournalMode::Delete
    );
}

#[test]
fn back_to_wal_commits_page_1_with_the_wal_version_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let pager = storage.pager();
    set_mode(&pager, JournalMode::Delete).unwrap();
    pager.begin_read().unwrap();
    let counter = header::read_u32(&get(&pager, 1).data(), header::OFFSET_CHANGE_COUNTER);
    pager.end_read();
    rec.take_events();
    assert_eq!(
        set_mode(&pager, JournalMode::Wal).unwrap(),
        JournalMode::Wal
    );
    assert_eq!(storage.journal_mode(), JournalMode::Wal);
    assert!(!pager.journal_mode_switching());
    assert!(!pager.in_read_tx(), "the switch's transaction ended");
    // One commit of page 1 into a new WAL; the database file is untouched.
    let events = rec.take_events();
    assert!(events.iter().all(|e| e.ends_with("db-wal")), "{events:?}");
    assert_eq!(storage.wal().max_frame(), 1);
    pager.begin_read().unwrap();
    let page1 = get(&pager, 1);
    assert_eq!(
        (
            page1.data()[header::OFFSET_WRITE_VERSION],
            page1.data()[header::OFFSET_READ_VERSION]
        ),
        (2, 2)
    );
    assert_eq!(
        header::read_u32(&page1.data(), header::OFFSET_CHANGE_COUNTER),
        counter + 1
    );
    drop(page1);
    pager.end_read();
    // Reopened (and read by SQLite) as a WAL database.
    drop(pager);
    drop(storage);
    let storage = Storage::open(rec.clone(), &path, options(SyncMode::Full)).unwrap();
    assert_eq!(storage.journal_mode(), JournalMode::Wal);
    drop(storage);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_switch_that_returned_pending_continues_where_it_stopped() {
    let mem = Arc::new(MemoryIo::new_deferred());
    let dir = Path::new("/mem");
    let (rec, storage, path) = wal_database(mem.clone(), dir, SyncMode::Full);
    let pager = storage.pager();
    let mut pendings = 0;
    loop {
        match pager.set_journal_mode(JournalMode::Delete).unwrap() {
            Poll::Ready(mode) => {
                assert_eq!(mode, JournalMode::Delete);
                break;
            }
            Poll::Pending => {
                pendings += 1;
                mem.run_once().unwrap();
            }
        }
    }
    assert!(
        pendings > 2,
        "checkpoint, version write and sync wait: {pendings}"
    );
    assert!(!pager.journal_mode_switching());
    let events = rec.take_events();
    let tail = &events[events.len() - 3..];
    assert_eq!(tail, ["remove db-wal", "write db", "sync db"], "{events:?}");
    assert_eq!(events.iter().filter(|e| *e == "remove db-wal").count(), 1);
    let bytes = mem.file_contents(&path).unwrap();
    assert_eq!(bytes[header::OFFSET_WRITE_VERSION], 1);
    // Between two calls the switch is in progress: once the version write is submitted,
    // a call with the other mode still finishes this one.
    let mut saw_switching = false;
    loop {
        match pager.set_journal_mode(JournalMode::Wal).unwrap() {
            Poll::Ready(mode) => {
                assert_eq!(mode, JournalMode::Wal);
                break;
            }
            Poll::Pending => {
                saw_switching |= pager.journal_mode_switching();
                mem.run_once().unwrap();
            }
        }
    }
    assert!(saw_switching);
    assert!(!pager.journal_mode_switching());
    assert_eq!(storage.journal_mode(), JournalMode::Wal);
    assert_eq!(storage.wal().max_frame(), 1);
}

#[test]
fn failed_version_write_or_sync_ends_the_switch_and_releases_the_lock() {
    for event in ["write db", "sync db"] {
        let dir = tempfile::tempdir().unwrap();
        let (rec, storage, _path) =
            wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
        let pager = storage.pager();
        // The checkpoint writes and syncs the database first: fail only after the WAL
        // is removed.
        rec.fail(event, Some("remove db-wal"));
        match set_mode(&pager, JournalMode::Delete) {
            Err(Error::Io(e)) => assert!(e.message().contains("injected"), "{e}"),
            other => panic!("{event}: {other:?}"),
        }
        assert!(!pager.journal_mode_switching(), "{event}");
        assert!(!pager.in_read_tx(), "{event}");
        let other = storage.pager();
        other.begin_write().unwrap();
        other.rollback().unwrap();
    }
}

#[test]
fn failed_wal_removal_keeps_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let pager = storage.pager();
    rec.fail("remove db-wal", None);
    assert!(matches!(
        set_mode(&pager, JournalMode::Delete),
        Err(Error::Io(_))
    ));
    assert_eq!(storage.journal_mode(), JournalMode::Wal);
    assert!(!pager.journal_mode_switching());
    assert_eq!(disk_bytes(&path)[header::OFFSET_WRITE_VERSION], 2);
    assert!(!pager.in_read_tx());
    let other = storage.pager();
    other.begin_write().unwrap();
    other.rollback().unwrap();
}

#[test]
fn failed_commit_of_the_switch_to_wal_rolls_back() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let pager = storage.pager();
    set_mode(&pager, JournalMode::Delete).unwrap();
    rec.take_events();
    rec.fail("sync db-wal", None);
    assert!(matches!(
        set_mode(&pager, JournalMode::Wal),
        Err(Error::Io(_))
    ));
    assert!(!pager.journal_mode_switching());
    assert!(!pager.in_read_tx(), "rolled back");
    assert_eq!(storage.journal_mode(), JournalMode::Delete);
    // The next attempt starts afresh and succeeds.
    assert_eq!(
        set_mode(&pager, JournalMode::Wal).unwrap(),
        JournalMode::Wal
    );
    assert_eq!(storage.journal_mode(), JournalMode::Wal);
    assert_eq!(
        disk_bytes(&path)[header::OFFSET_WRITE_VERSION],
        1,
        "the WAL says 2"
    );
}

// ---- close.rs: checkpoint_and_remove_wal ----

#[test]
fn close_checkpoints_everything_and_removes_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    assert!(storage.checkpoint_and_remove_wal().unwrap());
    let events = rec.take_events();
    assert_eq!(events.last().map(String::as_str), Some("remove db-wal"));
    assert!(events.contains(&"sync db".to_string()), "{events:?}");
    assert!(!Path::new(&format!("{path}-wal")).exists());
    let bytes = disk_bytes(&path);
    assert_eq!(bytes.len(), 4 * PAGE);
    assert!(bytes[PAGE..].iter().all(|&b| b == 0x5a));
    // Nothing left to do.
    assert!(!storage.checkpoint_and_remove_wal().unwrap());
}

#[test]
fn close_removes_a_wal_already_emptied() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let pager = storage.pager();
    let r = block_on(pager.io().as_ref(), || {
        pager.checkpoint(CheckpointMode::Truncate)
    })
    .unwrap();
    assert_eq!((r.busy, r.wal_frames), (false, 0));
    drop(pager);
    assert!(Path::new(&format!("{path}-wal")).exists());
    rec.take_events();
    assert!(storage.checkpoint_and_remove_wal().unwrap());
    assert!(!Path::new(&format!("{path}-wal")).exists());
}

#[test]
fn close_does_nothing_while_the_storage_is_shared_or_not_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    let pager = storage.pager();
    assert!(!storage.checkpoint_and_remove_wal().unwrap());
    assert!(rec.take_events().is_empty());
    assert!(Path::new(&format!("{path}-wal")).exists());
    drop(pager);
    // A new database before its first commit has no WAL file.
    let fresh = dir.path().join("fresh").to_str().unwrap().to_string();
    let fresh_storage = Storage::open(rec.clone(), &fresh, options(SyncMode::Full)).unwrap();
    rec.take_events();
    assert!(!fresh_storage.checkpoint_and_remove_wal().unwrap());
    assert!(rec.take_events().is_empty());
    // Rollback-journal mode: the WAL is gone already; a stray file named like it (left
    // by another program) is not ours to remove.
    let pager = storage.pager();
    set_mode(&pager, JournalMode::Delete).unwrap();
    drop(pager);
    std::fs::write(format!("{path}-wal"), b"").unwrap();
    rec.take_events();
    assert!(!storage.checkpoint_and_remove_wal().unwrap());
    assert!(rec.take_events().is_empty());
    assert!(Path::new(&format!("{path}-wal")).exists());
}

#[test]
fn close_keeps_the_wal_when_the_checkpoint_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (rec, storage, path) = wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
    rec.fail("sync db", None);
    assert!(storage.checkpoint_and_remove_wal().is_err());
    assert!(Path::new(&format!("{path}-wal")).exists());
    assert!(!rec.take_events().contains(&"remove db-wal".to_string()));
    // Recovered at the next open, then closed properly.
    drop(storage);
    let storage = Storage::open(rec.clone(), &path, options(SyncMode::Full)).unwrap();
    assert!(storage.checkpoint_and_remove_wal().unwrap());
    assert!(disk_bytes(&path)[PAGE..].iter().all(|&b| b == 0x5a));
}

/// Found by `failed_commit_of_the_switch_to_wal_rolls_back`, which hung: an fsync whose
/// submission failed (an error from `File::sync` itself, not from its completion) was
/// kept as the abandoned append's I/O in flight, and it never completes, so every later
/// commit waited for it forever (`Pending` with nothing submitted). The same held for
/// every operation the WAL's appends and checkpoints submit.
#[test]
fn a_failed_submission_does_not_hold_up_later_commits_and_checkpoints() {
    for event in ["write db-wal", "sync db-wal", "write db", "sync db"] {
        let dir = tempfile::tempdir().unwrap();
        let (rec, storage, path) =
            wal_database(Arc::new(SyscallIo::new()), dir.path(), SyncMode::Full);
        let pager = storage.pager();
        rec.fail(event, None);
        let wal_side = event.ends_with("wal");
        if wal_side {
            pager.begin_write().unwrap();
            pager.append_page().unwrap().data_mut().fill(0x11);
            assert!(pager.commit().is_err(), "{event}");
            pager.rollback().unwrap();
        } else {
            assert!(
                pager.checkpoint(CheckpointMode::Truncate).is_err(),
                "{event}"
            );
        }
        // Bounded: the bug made these `Pending` forever.
        let io = pager.io().clone();
        let bounded = |mut f: Box<dyn FnMut() -> strata_pager::Result<Poll<()>>>| {
            for _ in 0..1000 {
                if let Poll::Ready(()) = f().unwrap() {
                    return;
                }
                io.run_once().unwrap();
            }
            panic!("{event}: still pending after 1000 rounds");
        };
        pager.begin_write().unwrap();
        pager.append_page().unwrap().data_mut().fill(0x22);
        bounded(Box::new(|| pager.commit()));
        bounded(Box::new(|| {
            pager
                .checkpoint(CheckpointMode::Truncate)
                .map(|p| p.map(|r| assert!(!r.busy && r.checkpointed_frames == r.wal_frames)))
        }));
        let bytes = disk_bytes(&path);
        assert_eq!(bytes.len(), 5 * PAGE, "{event}");
        assert!(bytes[4 * PAGE..].iter().all(|&b| b == 0x22), "{event}");
    }
}
