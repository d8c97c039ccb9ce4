//! Write transactions at the pager's level, for what the B-tree and the server build on:
//! page kinds and their savepoint undo, verbatim commits (embedded replicas), the commit
//! hook, the commit observer, page 1's stamps, the text encoding a commit changes, and the
//! API's refusals.
//!
//! Written for the mutation run of issue 14: these were reached only through SQL (the
//! `strata` crate's and the server's tests), so strata-pager's own tests missed their
//! mutants in lib.rs.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use common::{commit, get, Recording};
use strata_io::{block_on, MemoryIo, Poll, SyscallIo, IO};
use strata_pager::{
    header, CheckpointMode, CommitHook, CommitObserver, CommittedTxn, Error, Pager, Storage,
    StorageOptions,
};

const PAGE: usize = 1024;

fn options() -> StorageOptions {
    StorageOptions {
        page_size: PAGE,
        cache_size_pages: 64,
        autocheckpoint_frames: 0,
        ..StorageOptions::default()
    }
}

fn open(io: Arc<dyn IO>, dir: &Path) -> Arc<Storage> {
    Storage::open(io, dir.join("db").to_str().unwrap(), options()).unwrap()
}

fn set(pager: &Pager, page_no: u32, fill: u8) {
    let page = get(pager, page_no);
    pager.mark_dirty(&page).unwrap();
    page.data_mut()[100..].fill(fill);
}

/// A database with pages 2..=4 committed.
fn four_pages(dir: &Path) -> Arc<Storage> {
    let storage = open(Arc::new(SyscallIo::new()), dir);
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 0..3 {
        pager.append_page().unwrap().data_mut().fill(0x10);
    }
    commit(&pager);
    storage
}

fn is_misuse<T: std::fmt::Debug>(r: strata_pager::Result<T>, what: &str) {
    match r {
        Err(Error::Misuse(m)) => assert!(m.contains(what), "{m} (wanted {what})"),
        other => panic!("{what}: {other:?}"),
    }
}

#[test]
fn page_kinds_follow_savepoints_and_end_with_the_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let pager = storage.pager();
    is_misuse(
        pager.set_page_kind(2, Some(1)),
        "outside a write transaction",
    );
    pager.begin_write().unwrap();
    pager.set_page_kind(3, Some(5)).unwrap();
    pager.set_page_kind(2, Some(1)).unwrap();
    assert_eq!(pager.page_kinds(), vec![(2, 1), (3, 5)]);
    // A savepoint's changes, undone: a kind replaced, one forgotten, one added.
    pager.savepoint_begin().unwrap();
    pager.set_page_kind(2, Some(4)).unwrap();
    pager.set_page_kind(3, None).unwrap();
    pager.set_page_kind(4, Some(2)).unwrap();
    pager.set_page_kind(4, Some(3)).unwrap();
    assert_eq!(pager.page_kinds(), vec![(2, 4), (4, 3)]);
    pager.savepoint_rollback().unwrap();
    assert_eq!(pager.page_kinds(), vec![(2, 1), (3, 5)]);
    // Released into the outer savepoint, then undone with it.
    pager.savepoint_begin().unwrap();
    pager.set_page_kind(2, Some(6)).unwrap();
    pager.savepoint_begin().unwrap();
    pager.set_page_kind(3, Some(7)).unwrap();
    pager.set_page_kind(2, Some(8)).unwrap();
    pager.savepoint_release().unwrap();
    assert_eq!(pager.page_kinds(), vec![(2, 8), (3, 7)]);
    pager.savepoint_rollback().unwrap();
    assert_eq!(pager.page_kinds(), vec![(2, 1), (3, 5)]);
    // A released savepoint with no parent keeps its changes.
    pager.savepoint_begin().unwrap();
    pager.set_page_kind(4, Some(9)).unwrap();
    pager.savepoint_release().unwrap();
    assert_eq!(pager.page_kinds(), vec![(2, 1), (3, 5), (4, 9)]);
    is_misuse(pager.savepoint_release(), "no savepoint");
    is_misuse(pager.savepoint_rollback(), "no savepoint");
    set(&pager, 2, 0x20);
    commit(&pager);
    pager.begin_write().unwrap();
    assert!(pager.page_kinds().is_empty(), "cleared at commit");
    pager.set_page_kind(2, Some(1)).unwrap();
    pager.rollback().unwrap();
    pager.begin_write().unwrap();
    assert!(pager.page_kinds().is_empty(), "cleared at rollback");
    pager.rollback().unwrap();
}

/// A savepoint's pre-images merge into the outer savepoint at release: rolling the outer
/// one back restores pages first changed in the inner one, and pages it changed before
/// keep the image from before the outer one.
#[test]
fn released_savepoint_images_roll_back_with_the_outer_one() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let pager = storage.pager();
    pager.begin_write().unwrap();
    set(&pager, 2, 0x21);
    pager.savepoint_begin().unwrap();
    set(&pager, 3, 0x31);
    pager.savepoint_begin().unwrap();
    set(&pager, 3, 0x32);
    set(&pager, 4, 0x41);
    pager.savepoint_release().unwrap();
    pager.savepoint_rollback().unwrap();
    assert_eq!(get(&pager, 2).data()[100], 0x21);
    assert_eq!(get(&pager, 3).data()[100], 0x10);
    assert_eq!(get(&pager, 4).data()[100], 0x10);
    // Pages the savepoint first dirtied are clean again: the commit writes page 2 only.
    commit(&pager);
    assert_eq!(storage.wal().max_frame(), 4 + 1);
}

/// Without a commit hook, a change to an auto-vacuum database (header offset 52 non-zero)
/// is refused at commit: nobody would keep its pointer maps.
#[test]
fn auto_vacuum_needs_the_commit_hook() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let pager = storage.pager();
    pager.begin_write().unwrap();
    let page1 = get(&pager, 1);
    pager.mark_dirty(&page1).unwrap();
    header::write_u32(&mut page1.data_mut(), header::OFFSET_LARGEST_ROOT, 3);
    drop(page1);
    match block_on(pager.io().as_ref(), || pager.commit()) {
        Err(Error::Unsupported(m)) => assert!(m.contains("commit hook"), "{m}"),
        other => panic!("{other:?}"),
    }
    pager.rollback().unwrap();
    assert_eq!(storage.wal().max_frame(), 4);
}

struct Hook {
    calls: Mutex<u32>,
}

impl CommitHook for Hook {
    /// `Pending` at the first call; then changes page 4 (as the B-tree's pointer-map
    /// upkeep does).
    fn before_commit(&self, pager: &Pager) -> strata_pager::Result<Poll<()>> {
        let mut calls = self.calls.lock().unwrap();
        *calls += 1;
        if *calls == 1 {
            return Ok(Poll::Pending);
        }
        assert!(pager.in_write_tx());
        let page = strata_io::ready!(pager.get_page(4));
        pager.mark_dirty(&page)?;
        page.data_mut()[100..].fill(0x4f);
        Ok(Poll::Ready(()))
    }
}

#[test]
fn the_commit_hook_runs_before_every_commit_that_changes_pages() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let hook = Arc::new(Hook {
        calls: Mutex::new(0),
    });
    storage.set_commit_hook(hook.clone());
    let pager = storage.pager();
    // Nothing changed: no hook, no frame.
    pager.begin_write().unwrap();
    commit(&pager);
    pager.begin_read().unwrap();
    commit(&pager);
    assert_eq!(*hook.calls.lock().unwrap(), 0);
    pager.begin_write().unwrap();
    set(&pager, 2, 0x2f);
    assert!(
        pager.commit().unwrap().is_pending(),
        "the hook said Pending"
    );
    commit(&pager);
    assert_eq!(*hook.calls.lock().unwrap(), 2);
    pager.begin_read().unwrap();
    assert_eq!(get(&pager, 2).data()[100], 0x2f);
    assert_eq!(
        get(&pager, 4).data()[100],
        0x4f,
        "the hook's change committed"
    );
    pager.end_read();
}

#[derive(Default)]
struct Observer {
    committed: Mutex<Vec<(Vec<u32>, u32)>>,
    failed: Mutex<u32>,
}

impl CommitObserver for Observer {
    fn committed(&self, txn: &CommittedTxn<'_>) {
        for (_, image) in txn.pages {
            assert_eq!(image.len(), PAGE);
        }
        let pages = txn.pages.iter().map(|(p, _)| *p).collect();
        self.committed
            .lock()
            .unwrap()
            .push((pages, txn.db_size_pages));
    }
    fn commit_failed(&self) {
        *self.failed.lock().unwrap() += 1;
    }
}

#[test]
fn the_observer_sees_each_durable_commit_and_each_failed_one() {
    let dir = tempfile::tempdir().unwrap();
    let rec = Recording::new(Arc::new(SyscallIo::new()));
    let storage = open(rec.clone(), dir.path());
    let observer = Arc::new(Observer::default());
    storage.set_commit_observer(Some(observer.clone()));
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 0..3 {
        pager.append_page().unwrap().data_mut().fill(0x10);
    }
    commit(&pager);
    // Changes beyond a truncated end are not committed, nor reported.
    pager.begin_write().unwrap();
    set(&pager, 3, 0x33);
    set(&pager, 4, 0x44);
    pager.truncate_pages(3).unwrap();
    commit(&pager);
    // Rolled back, or nothing changed: not reported.
    pager.begin_write().unwrap();
    set(&pager, 2, 0x22);
    pager.rollback().unwrap();
    pager.begin_write().unwrap();
    commit(&pager);
    assert_eq!(
        *observer.committed.lock().unwrap(),
        vec![(vec![1, 2, 3, 4], 4), (vec![1, 3], 3)]
    );
    assert_eq!(*observer.failed.lock().unwrap(), 0);
    // A commit whose fsync fails: reported as failed, not committed.
    rec.fail("sync db-wal", None);
    pager.begin_write().unwrap();
    set(&pager, 2, 0x23);
    assert!(block_on(pager.io().as_ref(), || pager.commit()).is_err());
    pager.rollback().unwrap();
    assert_eq!(*observer.failed.lock().unwrap(), 1);
    assert_eq!(observer.committed.lock().unwrap().len(), 2);
    // Removed: told nothing more.
    storage.set_commit_observer(None);
    pager.begin_write().unwrap();
    set(&pager, 2, 0x24);
    commit(&pager);
    assert_eq!(observer.committed.lock().unwrap().len(), 2);
}

/// Every commit that writes page 1 stamps it as SQLite does: change counter + 1, the
/// database size, version-valid-for = the counter, the library version. A verbatim commit
/// (an embedded replica applying its primary's pages) writes page 1 as given, once.
#[test]
fn page_1_is_stamped_unless_the_commit_is_verbatim() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let pager = storage.pager();
    let page1_now = |pager: &Pager| {
        pager.begin_read().unwrap();
        let bytes = get(pager, 1).data().clone();
        pager.end_read();
        bytes
    };
    let before = page1_now(&pager);
    let counter = header::read_u32(&before, header::OFFSET_CHANGE_COUNTER);
    is_misuse(pager.set_verbatim_commit(), "outside a write transaction");
    // Growing the database writes page 1 even if the transaction did not change it.
    pager.begin_write().unwrap();
    pager.append_page().unwrap().data_mut().fill(0x55);
    commit(&pager);
    let after = page1_now(&pager);
    assert_eq!(
        header::read_u32(&after, header::OFFSET_CHANGE_COUNTER),
        counter + 1
    );
    assert_eq!(header::read_u32(&after, header::OFFSET_DB_SIZE_PAGES), 5);
    assert_eq!(
        header::read_u32(&after, header::OFFSET_VERSION_VALID_FOR),
        counter + 1
    );
    assert_eq!(
        header::read_u32(&after, header::OFFSET_SQLITE_VERSION),
        header::SQLITE_VERSION_NUMBER
    );
    // Verbatim: page 1 exactly as written (a size the primary's commit had, a counter
    // of its own), and page 6 appended without page 1 being stamped for it.
    pager.begin_write().unwrap();
    pager.set_verbatim_commit().unwrap();
    let page1 = get(&pager, 1);
    pager.mark_dirty(&page1).unwrap();
    let mut image = after.clone();
    header::write_u32(&mut image, header::OFFSET_CHANGE_COUNTER, 77);
    header::write_u32(&mut image, header::OFFSET_DB_SIZE_PAGES, 6);
    header::write_u32(&mut image, header::OFFSET_VERSION_VALID_FOR, 77);
    page1.data_mut().copy_from_slice(&image);
    drop(page1);
    pager.append_page().unwrap().data_mut().fill(0x66);
    commit(&pager);
    assert_eq!(page1_now(&pager), image);
    // The next commit is stamped again.
    pager.begin_write().unwrap();
    set(&pager, 1, 0);
    commit(&pager);
    let last = page1_now(&pager);
    assert_eq!(header::read_u32(&last, header::OFFSET_CHANGE_COUNTER), 78);
}

/// `PRAGMA encoding` on an empty database changes page 1's field: the connection sees it
/// at once, the storage (every connection) once it is committed, and a rollback forgets it.
#[test]
fn a_committed_text_encoding_becomes_the_databases() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let pager = storage.pager();
    let set_encoding = |enc: u32| {
        pager.begin_write().unwrap();
        let page1 = get(&pager, 1);
        pager.mark_dirty(&page1).unwrap();
        header::write_u32(&mut page1.data_mut(), header::OFFSET_TEXT_ENCODING, enc);
    };
    set_encoding(2);
    assert_eq!(pager.text_encoding(), 2);
    assert_eq!(storage.pager().text_encoding(), 1);
    pager.rollback().unwrap();
    assert_eq!(pager.text_encoding(), 1);
    assert_eq!(storage.text_encoding(), 1);
    set_encoding(3);
    commit(&pager);
    assert_eq!(storage.text_encoding(), 3);
    assert_eq!(storage.pager().text_encoding(), 3);
    // A commit without page 1 leaves it.
    pager.begin_write().unwrap();
    set(&pager, 2, 0x29);
    commit(&pager);
    assert_eq!(storage.text_encoding(), 3);
}

#[test]
fn the_api_refuses_calls_out_of_turn() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let pager = storage.pager();
    is_misuse(pager.get_page(2), "outside a transaction");
    let page = {
        pager.begin_read().unwrap();
        let p = get(&pager, 2);
        is_misuse(pager.begin_read(), "inside a transaction");
        is_misuse(
            pager.checkpoint(CheckpointMode::Passive),
            "inside a transaction",
        );
        is_misuse(pager.mark_dirty(&p), "outside a write transaction");
        is_misuse(pager.append_page(), "outside a write transaction");
        is_misuse(pager.new_page_at(2), "outside a write transaction");
        is_misuse(pager.truncate_pages(2), "outside a write transaction");
        pager.end_read();
        p
    };
    pager.begin_write().unwrap();
    is_misuse(pager.new_page_at(0), "beyond the database");
    is_misuse(pager.new_page_at(5), "beyond the database");
    // The last page may be reused: zeroed and dirty, with no read.
    let last = pager.new_page_at(4).unwrap();
    assert!(last.is_dirty() && last.data().iter().all(|&b| b == 0));
    drop(last);
    is_misuse(pager.truncate_pages(0), "of a 4-page database");
    is_misuse(pager.truncate_pages(5), "of a 4-page database");
    // To the current size: allowed, and changes nothing.
    pager.truncate_pages(4).unwrap();
    assert_eq!(pager.db_size_pages(), 4);
    assert_eq!(get(&pager, 4).page_no(), 4);
    pager.rollback().unwrap();
    // A reference from an earlier transaction is stale once another connection changed
    // the page: writing it would lose that change.
    let other = storage.pager();
    other.begin_write().unwrap();
    set(&other, 2, 0x2a);
    commit(&other);
    pager.begin_write().unwrap();
    // (Caught when the current image is in memory; a stale reference to a page not in
    // memory is not detected.)
    get(&pager, 2);
    is_misuse(pager.mark_dirty(&page), "stale");
    pager.rollback().unwrap();
    assert!(matches!(
        pager.get_page(5).map(|_| ()),
        Err(Error::Misuse(_))
    ));
    pager.begin_read().unwrap();
    assert!(matches!(
        pager.get_page(5).map(|_| ()),
        Err(Error::Corrupt(_))
    ));
    assert!(matches!(
        pager.get_page(0).map(|_| ()),
        Err(Error::Corrupt(_))
    ));
    pager.end_read();
}

/// While a commit's frames are being written nothing may change a page, and until its
/// automatic checkpoint is done no transaction may begin.
#[test]
fn no_change_during_a_commit_and_no_transaction_during_its_checkpoint() {
    let mem = Arc::new(MemoryIo::new_deferred());
    let storage = Storage::open(
        mem.clone(),
        "/mem/db",
        StorageOptions {
            autocheckpoint_frames: 1,
            ..options()
        },
    )
    .unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    let page = pager.append_page().unwrap();
    page.data_mut().fill(0x12);
    // Page 1 in memory: the commit goes straight to writing its frames.
    get(&pager, 1);
    assert!(pager.commit().unwrap().is_pending());
    is_misuse(pager.append_page(), "during commit");
    // Drive until the commit is durable and its checkpoint under way.
    let mut saw_checkpoint = false;
    loop {
        mem.run_once().unwrap();
        if !pager.in_read_tx() && !saw_checkpoint {
            saw_checkpoint = true;
            is_misuse(
                pager.begin_read(),
                "before the last commit() returned Ready",
            );
            is_misuse(
                pager.checkpoint(CheckpointMode::Passive),
                "inside a transaction",
            );
        }
        if pager.commit().unwrap().is_ready() {
            break;
        }
    }
    assert!(saw_checkpoint);
    assert_eq!(storage.wal().backfilled_frames(), storage.wal().max_frame());
    pager.begin_read().unwrap();
    pager.end_read();
}

#[test]
fn a_page_says_whether_it_is_dirty() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let pager = storage.pager();
    pager.begin_write().unwrap();
    let page = get(&pager, 3);
    assert_eq!(page.page_no(), 3);
    assert!(!page.is_dirty());
    assert_eq!(format!("{page:?}"), "Page { page_no: 3, dirty: false }");
    pager.mark_dirty(&page).unwrap();
    assert!(page.is_dirty());
    assert_eq!(format!("{page:?}"), "Page { page_no: 3, dirty: true }");
    commit(&pager);
    assert!(!page.is_dirty(), "clean once committed");
    pager.begin_write().unwrap();
    pager.mark_dirty(&page).unwrap();
    pager.rollback().unwrap();
    assert!(!page.is_dirty(), "clean once rolled back");
}

/// `dirty_pages`: the pages this write transaction changed, in page order, each the page
/// itself (the auto-vacuum commit hook derives pointer maps from them); none before the
/// first change and none after the commit.
#[test]
fn dirty_pages_lists_the_changed_pages_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let storage = four_pages(dir.path());
    let pager = storage.pager();
    pager.begin_write().unwrap();
    assert!(pager.dirty_pages().is_empty(), "nothing changed yet");
    let four = get(&pager, 4);
    pager.mark_dirty(&four).unwrap();
    set(&pager, 2, 0x22);
    get(&pager, 3); // read, not changed
    let new = pager.append_page().unwrap();
    let listed = pager.dirty_pages();
    let numbers: Vec<u32> = listed.iter().map(|p| p.page_no()).collect();
    assert_eq!(numbers, vec![2, 4, 5]);
    assert!(Arc::ptr_eq(&listed[1], &four) && Arc::ptr_eq(&listed[2], &new));
    assert!(listed.iter().all(|p| p.is_dirty()));
    assert_eq!(listed[0].data()[100], 0x22);
    drop((listed, four, new));
    commit(&pager);
    pager.begin_write().unwrap();
    assert!(pager.dirty_pages().is_empty(), "none after the commit");
    pager.rollback().unwrap();
}
