//! `Storage` and `Pager` (lib.rs) at the pager's level: opening and creating files, what
//! is refused and what changes on disk meanwhile, the error texts, and the per-connection
//! settings.
//!
//! Written for the mutation run of issue 14 (each test catches mutants of lib.rs that
//! strata-pager's other tests missed).

mod common;

use std::path::Path;
use std::sync::Arc;

use common::Recording;
use strata_io::{block_on, IoError, SyscallIo};
use strata_pager::{header, Error, JournalMode, PageRef, Pager, Storage, StorageOptions, SyncMode};

const PAGE: usize = 1024;

fn options() -> StorageOptions {
    StorageOptions {
        page_size: PAGE,
        cache_size_pages: 64,
        autocheckpoint_frames: 0,
        ..StorageOptions::default()
    }
}

fn get(pager: &Pager, page_no: u32) -> PageRef {
    block_on(pager.io().as_ref(), || pager.get_page(page_no)).unwrap()
}

fn commit(pager: &Pager) {
    block_on(pager.io().as_ref(), || pager.commit()).unwrap()
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
    for (sync_mode, want) in [
        (SyncMode::Full, &["write db", "sync db"][..]),
        (SyncMode::Normal, &["write db", "sync db"][..]),
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
