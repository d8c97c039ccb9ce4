//! Pager behaviour: persistence, snapshots, write locking, rollback, savepoints, eviction,
//! checkpoints and SQLite's view of what we write. Every test runs on each backend.

use std::sync::Arc;

use strata_io::{block_on, MemoryIo, Poll, SyscallIo, IO};
use strata_pager::{
    header, CheckpointMode, Error, PageRef, Pager, Storage, StorageOptions, SyncMode,
};

/// The backends every test runs on, each with a fresh directory for its files.
fn backends() -> Vec<(&'static str, Arc<dyn IO>)> {
    let mut v: Vec<(&'static str, Arc<dyn IO>)> = vec![
        ("syscall", Arc::new(SyscallIo::new())),
        ("memory-deferred", Arc::new(MemoryIo::new_deferred())),
    ];
    #[cfg(target_os = "linux")]
    match strata_io::UringIo::new() {
        Ok(io) => v.push(("uring", Arc::new(io))),
        Err(e) => eprintln!("io_uring unavailable, skipped: {e}"),
    }
    v
}

fn for_each_backend(test: impl Fn(&str, Arc<dyn IO>, &str)) {
    for (name, io) in backends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.db");
        test(name, io, path.to_str().unwrap());
    }
}

fn options() -> StorageOptions {
    StorageOptions {
        cache_size_pages: 16,
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

/// Appends `count` pages, each filled with its page number's low byte.
fn append_pages(pager: &Pager, count: u32) {
    pager.begin_write().unwrap();
    for _ in 0..count {
        let page = pager.append_page().unwrap();
        let fill = page.page_no() as u8;
        page.data_mut().fill(fill);
    }
    commit(pager);
}

fn byte_of(pager: &Pager, page_no: u32) -> u8 {
    get(pager, page_no).data()[10]
}

#[test]
fn new_database_has_one_page_and_survives_reopen() {
    for_each_backend(|name, io, path| {
        {
            let storage = Storage::open(io.clone(), path, options()).unwrap();
            let pager = storage.pager();
            pager.begin_read().unwrap();
            assert_eq!(pager.db_size_pages(), 1, "{name}");
            let page1 = get(&pager, 1);
            assert_eq!(&page1.data()[..16], header::MAGIC, "{name}");
            pager.end_read();
            append_pages(&pager, 40);
        }
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_read().unwrap();
        assert_eq!(pager.db_size_pages(), 41, "{name}");
        for page_no in 2..=41 {
            assert_eq!(
                byte_of(&pager, page_no),
                page_no as u8,
                "{name} page {page_no}"
            );
        }
        let page1 = get(&pager, 1);
        assert_eq!(
            header::read_u32(&page1.data(), header::OFFSET_DB_SIZE_PAGES),
            41,
            "{name}"
        );
    });
}

#[test]
fn second_open_of_the_same_file_is_refused() {
    for_each_backend(|name, io, path| {
        let _first = Storage::open(io.clone(), path, options()).unwrap();
        match Storage::open(io.clone(), path, options()) {
            Err(Error::Busy) => {}
            Err(e) => panic!("{name}: expected Busy, got {e}"),
            Ok(_) => panic!("{name}: second open succeeded"),
        }
    });
}

#[test]
fn readers_keep_their_snapshot_and_writers_are_exclusive() {
    for_each_backend(|name, io, path| {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let writer = storage.pager();
        let reader = storage.pager();
        append_pages(&writer, 3);

        reader.begin_read().unwrap();
        assert_eq!(byte_of(&reader, 2), 2);

        writer.begin_write().unwrap();
        let page = get(&writer, 2);
        writer.mark_dirty(&page).unwrap();
        page.data_mut().fill(0xAA);
        // A second writer is refused while the first holds the lock.
        let other = storage.pager();
        assert!(matches!(other.begin_write(), Err(Error::Busy)), "{name}");
        other.end_read();
        commit(&writer);

        // The reader's snapshot predates the commit.
        assert_eq!(byte_of(&reader, 2), 2, "{name}: reader saw a later commit");
        // Its snapshot is stale, so it may not write on top of it.
        assert!(matches!(reader.begin_write(), Err(Error::Busy)), "{name}");
        reader.end_read();
        reader.begin_read().unwrap();
        assert_eq!(
            byte_of(&reader, 2),
            0xAA,
            "{name}: new snapshot misses the commit"
        );
        reader.end_read();
    });
}

#[test]
fn rollback_restores_every_holder_of_a_page() {
    for_each_backend(|name, io, path| {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        append_pages(&pager, 2);
        pager.begin_write().unwrap();
        let held = get(&pager, 2);
        pager.mark_dirty(&held).unwrap();
        held.data_mut().fill(0x55);
        let grown = pager.append_page().unwrap();
        assert_eq!(grown.page_no(), 4);
        pager.rollback().unwrap();
        assert_eq!(held.data()[10], 2, "{name}: held reference not restored");
        pager.begin_read().unwrap();
        assert_eq!(pager.db_size_pages(), 3, "{name}");
        assert_eq!(byte_of(&pager, 2), 2, "{name}");
        pager.end_read();
    });
}

#[test]
fn savepoints_undo_only_their_own_changes() {
    for_each_backend(|name, io, path| {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        append_pages(&pager, 3);
        pager.begin_write().unwrap();
        let p2 = get(&pager, 2);
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0x22);
        pager.savepoint_begin().unwrap();
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0x33);
        let p3 = get(&pager, 3);
        pager.mark_dirty(&p3).unwrap();
        p3.data_mut().fill(0x33);
        pager.append_page().unwrap();
        pager.savepoint_rollback().unwrap();
        assert_eq!(p2.data()[10], 0x22, "{name}");
        assert_eq!(p3.data()[10], 3, "{name}");
        assert_eq!(pager.db_size_pages(), 4, "{name}");
        commit(&pager);
        pager.begin_read().unwrap();
        assert_eq!(byte_of(&pager, 2), 0x22, "{name}");
        assert_eq!(byte_of(&pager, 3), 3, "{name}");
        pager.end_read();
    });
}

/// `mark_dirty` skips its work for a page already dirtied since the last savepoint
/// boundary; every boundary must make it record images again. A page dirtied before two
/// nested savepoints, changed in the inner one, which is rolled back, then changed in the
/// outer one: rolling the outer one back must find its image (the fast path once skipped
/// it). And a change after `set_derived_in_sync` clears it.
#[test]
fn savepoint_boundaries_make_mark_dirty_record_images_again() {
    for_each_backend(|name, io, path| {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        append_pages(&pager, 3);
        pager.begin_write().unwrap();
        let p2 = get(&pager, 2);
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0x22);
        pager.savepoint_begin().unwrap();
        pager.savepoint_begin().unwrap();
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0x44);
        pager.savepoint_rollback().unwrap();
        assert_eq!(p2.data()[10], 0x22, "{name}: inner rollback");
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0x66);
        pager.savepoint_rollback().unwrap();
        assert_eq!(p2.data()[10], 0x22, "{name}: outer rollback");
        // Released savepoints hand their images to the parent.
        pager.savepoint_begin().unwrap();
        pager.savepoint_begin().unwrap();
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0x77);
        pager.savepoint_release().unwrap();
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0x88);
        pager.savepoint_rollback().unwrap();
        assert_eq!(p2.data()[10], 0x22, "{name}: rollback after a release");
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0x23);
        pager.set_derived_in_sync();
        assert!(pager.derived_in_sync());
        pager.mark_dirty(&p2).unwrap();
        assert!(
            !pager.derived_in_sync(),
            "{name}: a change must clear the sync mark"
        );
        p2.data_mut().fill(0x99);
        commit(&pager);
        pager.begin_read().unwrap();
        assert_eq!(byte_of(&pager, 2), 0x99, "{name}");
        pager.end_read();
        // A new transaction: the page is clean again and a rollback restores it.
        pager.begin_write().unwrap();
        let p2 = get(&pager, 2);
        pager.mark_dirty(&p2).unwrap();
        p2.data_mut().fill(0xaa);
        pager.rollback().unwrap();
        assert_eq!(
            p2.data()[10],
            0x99,
            "{name}: rollback of the next transaction"
        );
    });
}

#[test]
fn small_cache_evicts_and_rereads_correctly() {
    for_each_backend(|name, io, path| {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        append_pages(&pager, 200);
        pager.begin_read().unwrap();
        for round in 0..3 {
            for page_no in 2..=201u32 {
                assert_eq!(
                    byte_of(&pager, page_no),
                    page_no as u8,
                    "{name} round {round}"
                );
            }
        }
        assert!(
            pager.cached_pages() <= 16,
            "{name}: cache grew to {}",
            pager.cached_pages()
        );
        pager.end_read();
    });
}

#[test]
fn deferred_io_returns_pending_before_the_page() {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new_deferred());
    let storage = Storage::open(io.clone(), "deferred.db", options()).unwrap();
    let pager = storage.pager();
    append_pages(&pager, 5);
    let other = storage.pager();
    other.begin_read().unwrap();
    assert!(matches!(other.get_page(3), Ok(Poll::Pending)));
    // Asking again before the IO runs must not submit a second read or lose the first.
    assert!(matches!(other.get_page(3), Ok(Poll::Pending)));
    io.run_once().unwrap();
    match other.get_page(3).unwrap() {
        Poll::Ready(page) => assert_eq!(page.data()[10], 3),
        Poll::Pending => panic!("page not ready after run_once"),
    }
}

#[test]
fn out_of_range_pages_are_errors_not_panics() {
    for_each_backend(|name, io, path| {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_read().unwrap();
        assert!(
            matches!(pager.get_page(0), Err(Error::Corrupt(_))),
            "{name}"
        );
        assert!(
            matches!(pager.get_page(2), Err(Error::Corrupt(_))),
            "{name}"
        );
        assert!(
            matches!(pager.mark_dirty(&get(&pager, 1)), Err(Error::Misuse(_))),
            "{name}"
        );
        pager.end_read();
    });
}

#[test]
fn checkpoint_moves_pages_into_the_database_file() {
    for_each_backend(|name, io, path| {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        append_pages(&pager, 10);
        let result = block_on(io.as_ref(), || pager.checkpoint(CheckpointMode::Truncate)).unwrap();
        assert!(!result.busy, "{name}");
        let wal = io
            .open_file(&format!("{path}-wal"), strata_io::OpenFlags::READ_ONLY)
            .unwrap();
        assert_eq!(wal.size_bytes().unwrap(), 0, "{name}: WAL not truncated");
        pager.begin_read().unwrap();
        assert_eq!(pager.db_size_pages(), 11, "{name}");
        for page_no in 2..=11 {
            assert_eq!(byte_of(&pager, page_no), page_no as u8, "{name}");
        }
        pager.end_read();
    });
}

#[test]
fn sqlite_opens_what_we_create() {
    for sync_mode in [SyncMode::Full, SyncMode::Normal] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty.db");
        let path = path.to_str().unwrap();
        {
            let io: Arc<dyn IO> = Arc::new(SyscallIo::new());
            let storage = Storage::open(
                io,
                path,
                StorageOptions {
                    sync_mode,
                    ..options()
                },
            )
            .unwrap();
            let pager = storage.pager();
            // A commit that only touches page 1 (the user_version field).
            pager.begin_write().unwrap();
            let page1 = get(&pager, 1);
            pager.mark_dirty(&page1).unwrap();
            header::write_u32(&mut page1.data_mut(), header::OFFSET_USER_VERSION, 77);
            commit(&pager);
        }
        let conn = rusqlite::Connection::open(path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let user_version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(user_version, 77, "SQLite did not read our WAL frame");
        conn.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
}

#[test]
fn we_open_what_sqlite_creates() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sqlite.db");
    let path = path.to_str().unwrap();
    {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch(
            "PRAGMA page_size=1024; PRAGMA journal_mode=WAL; CREATE TABLE t(x); \
             INSERT INTO t SELECT zeroblob(900) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3);",
        )
        .unwrap();
    }
    let io: Arc<dyn IO> = Arc::new(SyscallIo::new());
    let storage = Storage::open(io, path, options()).unwrap();
    assert_eq!(storage.page_size(), 1024);
    let pager = storage.pager();
    pager.begin_read().unwrap();
    assert!(pager.db_size_pages() >= 4);
    let page1 = get(&pager, 1);
    assert_eq!(&page1.data()[..16], header::MAGIC);
    pager.end_read();
}

#[test]
fn garbage_is_refused_rollback_journal_and_utf16_files_opened() {
    let dir = tempfile::tempdir().unwrap();
    let io: Arc<dyn IO> = Arc::new(SyscallIo::new());
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    assert!(matches!(
        Storage::open(io.clone(), garbage.to_str().unwrap(), options()),
        Err(Error::Corrupt(_))
    ));
    let short = dir.path().join("short.db");
    std::fs::write(&short, b"SQLite format 3\0").unwrap();
    assert!(matches!(
        Storage::open(io.clone(), short.to_str().unwrap(), options()),
        Err(Error::Corrupt(_))
    ));
    // A rollback-journal database is opened, unchanged until its first commit switches it
    // to WAL (bytes 18/19 = 2, through the WAL).
    let legacy = dir.path().join("legacy.db");
    rusqlite::Connection::open(&legacy)
        .unwrap()
        .execute_batch("CREATE TABLE t(x)")
        .unwrap();
    {
        let storage = Storage::open(io.clone(), legacy.to_str().unwrap(), options()).unwrap();
        assert_eq!(storage.journal_mode(), strata_pager::JournalMode::Delete);
        assert!(!dir.path().join("legacy.db-wal").exists());
        let pager = storage.pager();
        append_pages(&pager, 1);
        assert_eq!(storage.journal_mode(), strata_pager::JournalMode::Wal);
        pager.begin_read().unwrap();
        let page1 = get(&pager, 1);
        assert_eq!(&page1.data()[18..20], &[2, 2]);
        pager.end_read();
    }
    let utf16 = dir.path().join("utf16.db");
    rusqlite::Connection::open(&utf16)
        .unwrap()
        .execute_batch("PRAGMA encoding='UTF-16be'; CREATE TABLE t(x)")
        .unwrap();
    // A UTF-16 one opens, and the storage knows its encoding (3 = UTF-16be).
    let storage = Storage::open(io.clone(), utf16.to_str().unwrap(), options()).unwrap();
    assert_eq!(storage.text_encoding(), 3);
    assert_eq!(storage.pager().text_encoding(), 3);
    drop(storage);
    // Writing an auto-vacuum database without maintaining its pointer maps corrupts it
    // (found by the compatibility suite): the B-tree keeps them through a commit hook; a
    // storage without that hook opens it for reading and refuses to commit a change,
    // leaving the file as it was.
    let vacuum = dir.path().join("autovacuum.db");
    rusqlite::Connection::open(&vacuum)
        .unwrap()
        .execute_batch("PRAGMA auto_vacuum=FULL; PRAGMA journal_mode=WAL; CREATE TABLE t(x);")
        .unwrap();
    let before = std::fs::read(&vacuum).unwrap();
    {
        let storage = Storage::open(io.clone(), vacuum.to_str().unwrap(), options()).unwrap();
        assert!(storage.auto_vacuum());
        let pager = storage.pager();
        pager.begin_write().unwrap();
        let page1 = get(&pager, 1);
        pager.mark_dirty(&page1).unwrap();
        match block_on(pager.io().as_ref(), || pager.commit()) {
            Err(Error::Unsupported(m)) => assert!(m.contains("auto-vacuum"), "{m}"),
            other => panic!("auto-vacuum commit without the hook not refused: {other:?}"),
        }
        pager.rollback().unwrap();
    }
    assert!(
        std::fs::read(&vacuum).unwrap() == before,
        "the file changed"
    );
}

#[test]
fn autocheckpoint_keeps_the_wal_bounded() {
    for_each_backend(|name, io, path| {
        let opts = StorageOptions {
            autocheckpoint_frames: 20,
            ..options()
        };
        let storage = Storage::open(io.clone(), path, opts).unwrap();
        let pager = storage.pager();
        for _ in 0..50 {
            append_pages(&pager, 3);
            // A commit adds at most 4 frames (3 pages + page 1) on top of the threshold.
            assert!(
                storage.wal().max_frame() < 20 + 4,
                "{name}: WAL grew to {}",
                storage.wal().max_frame()
            );
        }
        pager.begin_read().unwrap();
        assert_eq!(pager.db_size_pages(), 151, "{name}");
        for page_no in (2..=151).step_by(7) {
            assert_eq!(byte_of(&pager, page_no), page_no as u8, "{name}");
        }
        pager.end_read();
    });
}

#[test]
fn a_database_file_of_zeros_is_created_afresh() {
    // Power loss while creating a database can leave its first page's sectors unwritten:
    // a file of zeros. It holds no data, so opening starts a new database in it.
    for_each_backend(|name, io, path| {
        let zeros = io.open_file(path, strata_io::OpenFlags::CREATE).unwrap();
        let c = strata_io::Completion::write(vec![0; 4096]);
        zeros.pwrite(0, &c).unwrap();
        strata_io::wait(io.as_ref(), &c).unwrap();
        drop(zeros);
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        append_pages(&pager, 1);
        let result = block_on(io.as_ref(), || pager.checkpoint(CheckpointMode::Truncate)).unwrap();
        assert!(!result.busy, "{name}");
        let db = io.open_file(path, strata_io::OpenFlags::READ_ONLY).unwrap();
        assert_eq!(
            db.size_bytes().unwrap(),
            2 * 4096,
            "{name}: database file size"
        );
        pager.begin_read().unwrap();
        assert_eq!(pager.db_size_pages(), 2, "{name}");
        assert_eq!(byte_of(&pager, 2), 2, "{name}");
        pager.end_read();
    });
}

/// A page spilled in a write transaction and then reused inside a savepoint without being
/// read (`new_page_at`) has the savepoint's pre-image "its uncommitted frame": when the
/// page is spilled again inside the savepoint, its new image must go to a new frame, not
/// over that one (a re-spill otherwise rewrites the page's frame in place), so that
/// ROLLBACK TO finds the frame's old image.
#[test]
fn savepoint_pre_image_frame_survives_a_respill() {
    for_each_backend(|name, io, path| {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        storage.set_spill_min_pages(1);
        let pager = storage.pager();
        append_pages(&pager, 120);
        pager.begin_write().unwrap();
        // Change every page (dropping each reference, so the pages can be spilled): the
        // early ones, page 2 among them, leave memory for uncommitted frames.
        let touch = |range: std::ops::RangeInclusive<u32>, fill: u8| {
            for page_no in range {
                let page = get(&pager, page_no);
                pager.mark_dirty(&page).unwrap();
                page.data_mut().fill(fill);
            }
        };
        touch(2..=121, 0xA0);
        touch(60..=121, 0xA1);
        assert!(pager.spill_count() > 0, "{name}: the transaction spilled");
        pager.savepoint_begin().unwrap();
        // Reused without being read (a freelist page handed out): its savepoint pre-image
        // is its frame if it is spilled now.
        let page = pager.new_page_at(2).unwrap();
        page.data_mut().fill(0xB0);
        drop(page);
        let spills = pager.spill_count();
        touch(60..=121, 0xB1);
        touch(60..=121, 0xB2);
        assert!(
            pager.spill_count() > spills,
            "{name}: spilled inside the savepoint"
        );
        // The counter the simulator reports: this re-spill kept page 2's pinned frame.
        assert!(
            storage.spill_pinned_count() > 0,
            "{name}: the pinned-frame case was counted"
        );
        pager.savepoint_rollback().unwrap();
        assert_eq!(byte_of(&pager, 2), 0xA0, "{name}: page 2 after ROLLBACK TO");
        assert_eq!(
            byte_of(&pager, 100),
            0xA1,
            "{name}: page 100 after ROLLBACK TO"
        );
        commit(&pager);
        pager.begin_read().unwrap();
        assert_eq!(byte_of(&pager, 2), 0xA0, "{name}: page 2 committed");
        assert_eq!(byte_of(&pager, 3), 0xA0, "{name}: page 3 committed");
        assert_eq!(byte_of(&pager, 100), 0xA1, "{name}: page 100 committed");
        pager.end_read();
        // What the WAL holds, not this connection's memory: page 2's newest frame is the
        // savepoint's image it rolled back, so the commit must write page 2 again (a
        // commit that took that frame for its image committed 0xB0; mutation run).
        drop(pager);
        drop(storage);
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_read().unwrap();
        assert_eq!(byte_of(&pager, 2), 0xA0, "{name}: page 2 reopened");
        assert_eq!(byte_of(&pager, 100), 0xA1, "{name}: page 100 reopened");
        pager.end_read();
    });
}

/// A cache miss reads into the buffer of the last page evicted; a short read (a file
/// whose last page is partial) must still leave zeros after what was read, not the
/// evicted page's bytes.
#[test]
fn a_short_read_into_a_recycled_buffer_leaves_zeros() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test.db");
    let path = path.to_str().unwrap();
    let io: Arc<dyn IO> = Arc::new(SyscallIo::new());
    let page_size = StorageOptions::default().page_size;
    {
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        append_pages(&pager, 4);
        block_on(io.as_ref(), || pager.checkpoint(CheckpointMode::Truncate)).unwrap();
    }
    // The last page (5) keeps only its first 100 bytes.
    let file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.set_len(4 * page_size as u64 + 100).unwrap();
    drop(file);
    let storage = Storage::open(
        io.clone(),
        path,
        StorageOptions {
            cache_size_pages: 2,
            ..options()
        },
    )
    .unwrap();
    let pager = storage.pager();
    pager.begin_read().unwrap();
    assert_eq!(pager.db_size_pages(), 5);
    // Pages 2..=4 fill the cache and push pages out (their buffers full of 2s, 3s, 4s).
    for page_no in 2..=4 {
        assert!(get(&pager, page_no).data()[100..]
            .iter()
            .all(|&b| b == page_no as u8));
    }
    let last = get(&pager, 5);
    let data = last.data();
    assert!(data[..100].iter().all(|&b| b == 5));
    assert!(
        data[100..].iter().all(|&b| b == 0),
        "stale bytes after a short read"
    );
}
