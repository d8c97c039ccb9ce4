//! `Storage` and `Pager` (lib.rs) at the pager's level: opening and creating files, what
//! is refused and what changes on disk meanwhile, the error texts, and the per-connection
//! settings.
//!
//! Written for the mutation run of issue 14 (each test catches mutants of lib.rs that
//! strata-pager's other tests missed).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{commit, get, Recording};
use strata_io::{block_on, IoError, SyscallIo};
use strata_pager::{header, Error, JournalMode, Pager, Storage, StorageOptions, SyncMode};

const PAGE: usize = 1024;

fn options() -> StorageOptions {
    StorageOptions {
        page_size: PAGE,
        cache_size_pages: 64,
        autocheckpoint_frames: 0,
        ..StorageOptions::default()
    }
}

fn path_in(dir: &Path, name: &str) -> String {
    dir.join(name).to_str().unwrap().to_string()
}

#[test]
fn error_messages_are_sqlites() {
    let io = IoError::new(std::io::ErrorKind::Other, "boom");
    assert_eq!(Error::Io(io).to_string(), "disk I/O error: boom");
    assert_eq!(Error::Busy.to_string(), "database is locked");
    assert_eq!(
        Error::Corrupt("page 3".into()).to_string(),
        "database disk image is malformed: page 3"
    );
    assert_eq!(
        Error::Misuse("x".into()).to_string(),
        "bad use of the pager: x"
    );
    assert_eq!(
        Error::Unsupported("y".into()).to_string(),
        "unsupported database: y"
    );
    // A lock conflict from the IO is SQLITE_BUSY; any other I/O error stays one.
    assert!(matches!(Error::from(IoError::locked("db")), Error::Busy));
    assert!(matches!(
        Error::from(IoError::new(std::io::ErrorKind::Other, "z")),
        Error::Io(_)
    ));
}

#[test]
fn creating_a_database_syncs_page_1_unless_sync_is_off() {
    // Page 1's write is protected by a journal recording an original size of 0 pages,
    // synced before it and emptied (a lost unlink leaves a cold journal) after it.
    let journaled = &[
        "write db-journal",
        "sync db-journal",
        "write db",
        "sync db",
        "truncate db-journal",
        "sync db-journal",
        "remove db-journal",
    ][..];
    for (sync_mode, want) in [
        (SyncMode::Full, journaled),
        (SyncMode::Normal, journaled),
        (SyncMode::Off, &["write db"][..]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recording::new(Arc::new(SyscallIo::new()));
        let opts = StorageOptions {
            sync_mode,
            ..options()
        };
        let storage = Storage::open(rec.clone(), &path_in(dir.path(), "db"), opts).unwrap();
        // The WAL file is not created before the first commit.
        let events: Vec<String> = rec
            .take_events()
            .into_iter()
            .filter(|e| e != "remove db-wal")
            .collect();
        assert_eq!(events, want, "{sync_mode:?}");
        assert_eq!(
            std::fs::read(path_in(dir.path(), "db")).unwrap(),
            header::new_database_page1(PAGE, 0)
        );
        assert!(!Path::new(&path_in(dir.path(), "db-journal")).exists());
        drop(storage);
    }
}

#[test]
fn garbage_without_a_wal_is_refused_without_creating_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path(), "db");
    std::fs::write(&path, vec![0x42; 2 * PAGE]).unwrap();
    match Storage::open(Arc::new(SyscallIo::new()), &path, options()) {
        Err(Error::Corrupt(_)) => {}
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("garbage opened"),
    }
    assert!(!Path::new(&format!("{path}-wal")).exists());
    assert_eq!(std::fs::read(&path).unwrap(), vec![0x42; 2 * PAGE]);
}

/// A WAL database whose committed page 1 is in the WAL: the file's page 1 may be stale or
/// torn (a checkpoint cut by power loss), and it is not what decides (SQLite reads page 1
/// through the WAL too).
#[test]
fn page_1_in_the_wal_wins_over_a_torn_one_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path(), "db");
    {
        let storage = Storage::open(Arc::new(SyscallIo::new()), &path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_write().unwrap();
        pager.append_page().unwrap().data_mut().fill(0x33);
        commit(&pager);
    }
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[..PAGE].fill(0xee);
    std::fs::write(&path, &bytes).unwrap();
    let storage = Storage::open(Arc::new(SyscallIo::new()), &path, options()).unwrap();
    let pager = storage.pager();
    pager.begin_read().unwrap();
    assert_eq!(pager.db_size_pages(), 2);
    assert_eq!(get(&pager, 2).data()[0], 0x33);
    assert_eq!(&get(&pager, 1).data()[..16], b"SQLite format 3\0");
    pager.end_read();
}

/// Frames of one page size beside a database header of another: the WAL belongs to some
/// other database (or one of them is damaged), and reading pages through it would hand
/// out pages of the wrong size.
#[test]
fn a_wal_of_another_page_size_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path(), "db");
    {
        let storage = Storage::open(Arc::new(SyscallIo::new()), &path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_write().unwrap();
        for _ in 0..3 {
            pager.append_page().unwrap().data_mut().fill(0x33);
        }
        commit(&pager);
        block_on(pager.io().as_ref(), || {
            pager.checkpoint(strata_pager::CheckpointMode::Passive)
        })
        .unwrap();
        // A commit of page 2 alone: the WAL does not hold page 1.
        pager.begin_write().unwrap();
        let page = get(&pager, 2);
        pager.mark_dirty(&page).unwrap();
        page.data_mut().fill(0x44);
        drop(page);
        commit(&pager);
        // The WAL restarted after the checkpoint: one frame, page 2.
        assert_eq!(storage.wal().max_frame(), 1);
    }
    // The file's header now says 2048-byte pages (big-endian u16 at offset 16).
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[16..18].copy_from_slice(&2048u16.to_be_bytes());
    std::fs::write(&path, &bytes).unwrap();
    match Storage::open(Arc::new(SyscallIo::new()), &path, options()) {
        Err(Error::Corrupt(m)) => assert!(m.contains("WAL page size 1024"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("opened with a WAL of another page size"),
    }
}

/// Header bytes 18/19 (write and read version): 1 in either is a rollback-journal
/// database, switched to WAL by its first commit; 2 in both is a WAL database.
#[test]
fn version_bytes_decide_the_journal_mode_at_open() {
    for (write_version, read_version, want) in [
        (1, 1, JournalMode::Delete),
        (1, 2, JournalMode::Delete),
        (2, 1, JournalMode::Delete),
        (2, 2, JournalMode::Wal),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path(), "db");
        let mut page1 = header::new_database_page1(PAGE, 0);
        page1[header::OFFSET_WRITE_VERSION] = write_version;
        page1[header::OFFSET_READ_VERSION] = read_version;
        std::fs::write(&path, &page1).unwrap();
        let storage = Storage::open(Arc::new(SyscallIo::new()), &path, options()).unwrap();
        assert_eq!(
            storage.journal_mode(),
            want,
            "{write_version}/{read_version}"
        );
    }
}

/// A file of zeros (power loss before page 1's sectors reached the disk) is created afresh
/// when it is at most one page of the largest size; a longer one was a database with
/// data, and is refused rather than overwritten.
#[test]
fn only_a_file_of_zeros_up_to_the_largest_page_is_created_afresh() {
    for (len, fresh) in [
        (512, true),
        (65_536, true),
        (65_537, false),
        (2 * 65_536, false),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path(), "db");
        std::fs::write(&path, vec![0; len]).unwrap();
        let opened = Storage::open(Arc::new(SyscallIo::new()), &path, options());
        if fresh {
            assert!(opened.is_ok(), "{len}");
            assert_eq!(
                std::fs::read(&path).unwrap(),
                header::new_database_page1(PAGE, 0),
                "{len}"
            );
        } else {
            assert!(matches!(opened, Err(Error::Corrupt(_))), "{len}");
            assert_eq!(std::fs::read(&path).unwrap(), vec![0; len], "{len}");
        }
    }
}

#[test]
fn storage_reports_what_it_was_opened_with() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(dir.path(), "db");
    let opts = StorageOptions {
        reserved_bytes: 8,
        ..options()
    };
    let storage = Storage::open(Arc::new(SyscallIo::new()), &path, opts).unwrap();
    assert_eq!(storage.path(), path);
    assert_eq!(storage.page_size(), PAGE);
    assert_eq!(storage.usable_size(), PAGE - 8);
    assert_eq!(storage.pager().usable_size(), PAGE - 8);
    assert_eq!(storage.pager().page_size(), PAGE);
    assert_eq!(storage.options().cache_size_pages, 64);
    assert!(!storage.auto_vacuum());
    assert_eq!(storage.text_encoding(), header::TEXT_ENCODING_UTF8);
    drop(storage);
    // An existing database keeps its own page size and reserved bytes, whatever the
    // options say; header offset 52 non-zero is an auto-vacuum database.
    let mut page1 = std::fs::read(&path).unwrap();
    page1[52..56].copy_from_slice(&1u32.to_be_bytes());
    page1[56..60].copy_from_slice(&2u32.to_be_bytes());
    std::fs::write(&path, &page1).unwrap();
    let opts = StorageOptions {
        page_size: 4096,
        reserved_bytes: 0,
        ..options()
    };
    let storage = Storage::open(Arc::new(SyscallIo::new()), &path, opts).unwrap();
    assert_eq!(storage.page_size(), PAGE);
    assert_eq!(storage.pager().page_size(), PAGE);
    assert_eq!(storage.usable_size(), PAGE - 8);
    assert!(storage.auto_vacuum());
    assert_eq!(storage.text_encoding(), 2);
    assert_eq!(storage.pager().text_encoding(), 2);
}

/// `PRAGMA journal_size_limit`: -1 is no limit; a value >= 0 sets it; any negative value
/// removes it (SQLite clamps below -1 to -1); no value only reads it.
#[test]
fn journal_size_limit_is_set_read_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(
        Arc::new(SyscallIo::new()),
        &path_in(dir.path(), "db"),
        options(),
    )
    .unwrap();
    assert_eq!(storage.journal_size_limit(None), -1);
    assert_eq!(storage.journal_size_limit(Some(0)), 0);
    assert_eq!(storage.journal_size_limit(None), 0);
    assert_eq!(storage.journal_size_limit(Some(65_536)), 65_536);
    assert_eq!(storage.wal().size_limit(), Some(65_536));
    assert_eq!(storage.journal_size_limit(None), 65_536);
    assert_eq!(storage.journal_size_limit(Some(-1)), -1);
    assert_eq!(storage.wal().size_limit(), None);
    storage.journal_size_limit(Some(7));
    assert_eq!(storage.journal_size_limit(Some(-5)), -1);
}

/// `PRAGMA synchronous` and `PRAGMA wal_autocheckpoint` per connection: the storage's
/// options until set, then the connection's own, and they act on its commits only.
#[test]
fn per_connection_sync_mode_and_autocheckpoint() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recording::new(Arc::new(SyscallIo::new()));
    let opts = StorageOptions {
        autocheckpoint_frames: 1000,
        ..options()
    };
    let storage = Storage::open(rec.clone(), &path_in(dir.path(), "db"), opts).unwrap();
    let quiet = storage.pager();
    let other = storage.pager();
    assert_eq!(quiet.commit_sync_mode(), SyncMode::Full);
    assert_eq!(quiet.autocheckpoint_frames(), 1000);
    quiet.set_commit_sync_mode(SyncMode::Off);
    quiet.set_autocheckpoint_frames(2);
    assert_eq!(quiet.commit_sync_mode(), SyncMode::Off);
    assert_eq!(quiet.autocheckpoint_frames(), 2);
    assert_eq!(other.commit_sync_mode(), SyncMode::Full);
    assert_eq!(other.autocheckpoint_frames(), 1000);
    let append = |pager: &Pager| {
        pager.begin_write().unwrap();
        pager.append_page().unwrap().data_mut().fill(0x21);
        commit(pager);
    };
    rec.take_events();
    // 2 frames (the new page and page 1): not fsynced by the commit, and at the
    // threshold a checkpoint copies them (it syncs the WAL first and the database file
    // after: checkpoints keep the storage's mode).
    append(&quiet);
    let events = rec.take_events();
    let wal_syncs = events.iter().filter(|e| *e == "sync db-wal").count();
    assert_eq!(wal_syncs, 1, "the checkpoint's only: {events:?}");
    assert_eq!(storage.wal().backfilled_frames(), 2, "{events:?}");
    assert!(events.contains(&"write db".to_string()), "{events:?}");
    // The other connection's commit is fsynced and left in the WAL.
    append(&other);
    let events = rec.take_events();
    assert!(events.contains(&"sync db-wal".to_string()), "{events:?}");
    assert!(!events.contains(&"write db".to_string()), "{events:?}");
    assert_eq!(storage.wal().max_frame(), 2);
    assert_eq!(storage.wal().backfilled_frames(), 0);
    // 0 turns the automatic checkpoint off.
    quiet.set_autocheckpoint_frames(0);
    for _ in 0..3 {
        append(&quiet);
    }
    assert_eq!(storage.wal().backfilled_frames(), 0);
    assert_eq!(storage.wal().max_frame(), 8);
}

/// What statements ask between calls without taking the pager's lock: whether a
/// transaction is open, whether any page may have changed, and whether what the
/// connection reads may differ from what it read before (`content_epoch`: a new
/// snapshot, or a write transaction's start and end; not a read transaction that sees
/// what the last one saw).
#[test]
fn transaction_state_and_change_counters() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(
        Arc::new(SyscallIo::new()),
        &path_in(dir.path(), "db"),
        options(),
    )
    .unwrap();
    let pager = storage.pager();
    assert!(!pager.in_read_tx() && !pager.in_write_tx());
    let epoch0 = pager.content_epoch();
    pager.begin_read().unwrap();
    assert!(pager.in_read_tx() && !pager.in_write_tx());
    let epoch1 = pager.content_epoch();
    assert_ne!(epoch1, epoch0, "the first snapshot");
    let seq = pager.change_seq();
    get(&pager, 1);
    assert_eq!(pager.change_seq(), seq, "a read changes nothing");
    assert_eq!(pager.content_epoch(), epoch1, "same transaction");
    pager.end_read();
    pager.begin_read().unwrap();
    assert_eq!(pager.content_epoch(), epoch1, "the same snapshot again");
    pager.begin_write().unwrap();
    assert!(pager.in_read_tx() && pager.in_write_tx());
    let epoch_w = pager.content_epoch();
    assert_ne!(epoch_w, epoch1, "a write transaction begins");
    let seq = pager.change_seq();
    let page = pager.append_page().unwrap();
    let after_append = pager.change_seq();
    assert!(after_append > seq);
    pager.mark_dirty(&page).unwrap();
    assert!(pager.change_seq() > after_append);
    assert_eq!(
        pager.content_epoch(),
        epoch_w,
        "within the write transaction"
    );
    drop(page);
    commit(&pager);
    assert!(!pager.in_read_tx() && !pager.in_write_tx());
    let epoch2 = pager.content_epoch();
    assert_ne!(epoch2, epoch_w, "the write transaction ended");
    pager.begin_read().unwrap();
    assert_eq!(
        pager.content_epoch(),
        epoch2,
        "its own commit is what it saw"
    );
    let seq = pager.change_seq();
    pager.end_read();
    assert!(
        pager.change_seq() > seq,
        "the transaction boundary moves it"
    );
    assert!(!pager.in_read_tx());
    // Another connection's commit: the next read transaction sees new content.
    let other = storage.pager();
    other.begin_write().unwrap();
    let page = other.append_page().unwrap();
    other.mark_dirty(&page).unwrap();
    drop(page);
    commit(&other);
    pager.begin_read().unwrap();
    assert_ne!(
        pager.content_epoch(),
        epoch2,
        "another connection committed"
    );
    pager.end_read();
    // Two pagers' epochs never meet by accident.
    assert_ne!(other.content_epoch(), pager.content_epoch());
}
