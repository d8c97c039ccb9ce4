//! Dirty-page spill (`spill.rs`) at the pager's level: what `page_memory_bytes` counts, a
//! write transaction many times the cache's size staying within it, committing whole
//! (read back through a fresh open) and writing each page once, and rolling back.
//!
//! Written for the mutation run of issue 14: the spill was tested through SQL only
//! (crates/strata/tests/spill.rs), so strata-pager's own tests missed most of `spill.rs`'s
//! mutants (the memory accounting, the high-water mark, which pages the commit writes).

use std::sync::Arc;

use strata_io::{block_on, MemoryIo, SyscallIo, IO};
use strata_pager::{PageRef, Pager, Storage, StorageOptions};

const PAGE: usize = 1024;
const CACHE: usize = 32;

fn options() -> StorageOptions {
    StorageOptions {
        page_size: PAGE,
        cache_size_pages: CACHE,
        autocheckpoint_frames: 0,
        ..StorageOptions::default()
    }
}

fn backends() -> Vec<(&'static str, Arc<dyn IO>)> {
    vec![
        ("syscall", Arc::new(SyscallIo::new())),
        ("memory-deferred", Arc::new(MemoryIo::new_deferred())),
        ("memory-shuffled", Arc::new(MemoryIo::new_shuffled(7))),
    ]
}

fn get(pager: &Pager, page_no: u32) -> PageRef {
    block_on(pager.io().as_ref(), || pager.get_page(page_no)).unwrap()
}

fn commit(pager: &Pager) {
    block_on(pager.io().as_ref(), || pager.commit()).unwrap()
}

/// Page `page_no`'s content in round `round`: distinct per page and round.
fn fill(page_no: u32, round: u8) -> u8 {
    (page_no as u8)
        .wrapping_mul(7)
        .wrapping_add(round.wrapping_mul(31))
        | 1
}

fn set(pager: &Pager, page_no: u32, round: u8) {
    let page = get(pager, page_no);
    pager.mark_dirty(&page).unwrap();
    page.data_mut()[8..].fill(fill(page_no, round));
}

fn check_all(pager: &Pager, pages: u32, round: impl Fn(u32) -> u8, what: &str) {
    pager.begin_read().unwrap();
    for page_no in 2..=pages {
        let page = get(pager, page_no);
        let want = fill(page_no, round(page_no));
        assert_eq!(page.data()[100], want, "{what}: page {page_no}");
    }
    pager.end_read();
}

#[test]
fn page_memory_counts_cache_dirty_pages_and_pre_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db");
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new());
    let path = path.to_str().unwrap();
    let storage = Storage::open(io.clone(), path, options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 0..6 {
        drop(pager.append_page().unwrap());
    }
    commit(&pager);
    drop(pager);
    drop(storage);
    // A fresh connection: nothing cached but what beginning a transaction reads.
    let storage = Storage::open(io, path, options()).unwrap();
    let pager = storage.pager();
    pager.set_cache_size_pages(1000);
    pager.begin_write().unwrap();
    let base = pager.page_memory_bytes() / PAGE as u64;
    let held = |want: u64, what: &str| {
        assert_eq!(
            pager.page_memory_bytes() / PAGE as u64,
            base + want,
            "{what}"
        );
    };
    let pages: Vec<PageRef> = (2..=4).map(|p| get(&pager, p)).collect();
    held(3, "three pages read: cached");
    pager.mark_dirty(&pages[0]).unwrap();
    held(4, "one dirtied: out of the cache, dirty, and its pre-image");
    pager.savepoint_begin().unwrap();
    pager.mark_dirty(&pages[1]).unwrap();
    held(
        6,
        "one more in a savepoint: dirty, its pre-image and the savepoint's",
    );
    pager.mark_dirty(&pages[0]).unwrap();
    held(7, "the first again: the savepoint's pre-image of it");
    drop(pager.append_page().unwrap());
    held(8, "a new page: dirty, nothing to restore");
    assert_eq!(
        pager.page_memory_high_water_bytes() / PAGE as u64,
        base + 8,
        "high water while growing"
    );
    pager.savepoint_rollback().unwrap();
    drop(pages);
    pager.rollback().unwrap();
    assert!(pager.page_memory_bytes() / (PAGE as u64) < base + 8);
    assert_eq!(
        pager.page_memory_high_water_bytes() / PAGE as u64,
        base + 8,
        "the high water stays"
    );
    pager.reset_page_memory_high_water();
    assert_eq!(
        pager.page_memory_high_water_bytes(),
        pager.page_memory_bytes()
    );
}

#[test]
fn large_transaction_spills_within_the_cache_and_commits_each_page_once() {
    const PAGES: u32 = 400;
    for (name, io) in backends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let path = path.to_str().unwrap();
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_write().unwrap();
        for _ in 1..PAGES {
            let page = pager.append_page().unwrap();
            let page_no = page.page_no();
            page.data_mut()[8..].fill(fill(page_no, 0));
        }
        commit(&pager);
        pager.reset_page_memory_high_water();
        let frames_before = storage.wal().max_frame();
        let spills_before = pager.spill_count();
        // Every page changed three times in a scrambled order, page 7 left at round 0.
        pager.begin_write().unwrap();
        for round in 1..=3u8 {
            for i in 0..PAGES {
                let page_no = (i * 97 + round as u32 * 13) % PAGES + 1;
                if page_no >= 2 && page_no != 7 {
                    set(&pager, page_no, round);
                }
            }
        }
        assert!(pager.spill_count() > spills_before, "{name}: spilled");
        // Then every page read and left unchanged: what memory holds at the commit is
        // mostly pages read back from their frames, which the commit must not write again.
        for page_no in 2..=PAGES {
            drop(get(&pager, page_no));
        }
        commit(&pager);
        let high = pager.page_memory_high_water_bytes() / PAGE as u64;
        assert!(
            high <= (CACHE + 16) as u64,
            "{name}: {high} page images held at once for a cache of {CACHE}"
        );
        // Each changed page (and page 1) in one frame: a re-spill overwrites the page's
        // frame, and the commit does not write again a page its newest frame holds.
        let frames = storage.wal().max_frame() - frames_before;
        assert!(
            frames <= (PAGES - 1) as u64,
            "{name}: {frames} frames for {} changed pages",
            PAGES - 2
        );
        // No savepoint: no re-spill had to keep a frame a savepoint may restore.
        assert_eq!(
            storage.spill_pinned_count(),
            0,
            "{name}: pinned frames counted"
        );
        let round = |p: u32| if p == 7 { 0 } else { 3 };
        check_all(&pager, PAGES, round, name);
        drop(pager);
        drop(storage);
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        check_all(&storage.pager(), PAGES, round, &format!("{name}, reopened"));
    }
}

#[test]
fn rollback_of_a_spilled_transaction_reads_the_snapshot_again() {
    const PAGES: u32 = 200;
    for (name, io) in backends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let path = path.to_str().unwrap();
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_write().unwrap();
        for _ in 1..PAGES {
            let page = pager.append_page().unwrap();
            let page_no = page.page_no();
            page.data_mut()[8..].fill(fill(page_no, 0));
        }
        commit(&pager);
        let spills = pager.spill_count();
        pager.begin_write().unwrap();
        for page_no in 2..=PAGES {
            set(&pager, page_no, 1);
        }
        assert!(pager.spill_count() > spills, "{name}: spilled");
        pager.rollback().unwrap();
        check_all(&pager, PAGES, |_| 0, &format!("{name}: rolled back"));
        // The next transaction commits over the discarded frames.
        pager.begin_write().unwrap();
        for page_no in (2..=PAGES).step_by(3) {
            set(&pager, page_no, 2);
        }
        commit(&pager);
        let round = |p: u32| if (p - 2) % 3 == 0 { 2 } else { 0 };
        check_all(&pager, PAGES, round, name);
        drop(pager);
        drop(storage);
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        check_all(&storage.pager(), PAGES, round, &format!("{name}, reopened"));
    }
}

/// Counts the pages each commit reports.
struct Observer(std::sync::Mutex<Vec<usize>>);

impl strata_pager::CommitObserver for Observer {
    fn committed(&self, txn: &strata_pager::CommittedTxn<'_>) {
        self.0.lock().unwrap().push(txn.pages.len());
    }
}

/// Transactions that must keep every dirty page in memory never spill: in an
/// auto-vacuum database (the B-tree's commit hook derives the pointer maps from them),
/// in a rollback-journal database before its first commit switches it to WAL, and with
/// a commit observer (it must be handed every page of the commit).
#[test]
fn transactions_that_keep_their_pages_do_not_spill() {
    for (what, setup) in [
        (
            "auto-vacuum",
            "PRAGMA auto_vacuum=FULL; PRAGMA journal_mode=WAL;",
        ),
        ("rollback journal", "PRAGMA journal_mode=DELETE;"),
        ("commit observer", "PRAGMA journal_mode=WAL;"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(&format!(
                "PRAGMA page_size=1024; {setup} CREATE TABLE t(x);"
            ))
            .unwrap();
        let storage = Storage::open(
            Arc::new(SyscallIo::new()),
            path.to_str().unwrap(),
            options(),
        )
        .unwrap();
        let observer = Arc::new(Observer(std::sync::Mutex::new(Vec::new())));
        if what == "commit observer" {
            storage.set_commit_observer(Some(observer.clone()));
        }
        let pager = storage.pager();
        pager.begin_write().unwrap();
        // Page 1 read (as the B-tree always does): the spill learns from it whether the
        // database is auto-vacuum, and spills nothing until it knows.
        drop(get(&pager, 1));
        for _ in 0..200 {
            let page = pager.append_page().unwrap();
            page.data_mut()[8..].fill(0x5a);
        }
        for page_no in 3..=200 {
            drop(get(&pager, page_no));
        }
        assert_eq!(pager.spill_count(), 0, "{what}: spilled");
        assert!(pager.page_memory_bytes() >= 200 * PAGE as u64, "{what}");
        if what == "auto-vacuum" {
            pager.rollback().unwrap();
            continue;
        }
        commit(&pager);
        if what == "commit observer" {
            assert_eq!(
                *observer.0.lock().unwrap(),
                vec![201],
                "{what}: pages reported (200 new and page 1)"
            );
        }
    }
}

/// Over the cache, clean pages are evicted only down to what makes room: those that fit
/// beside the transaction's dirty pages and pre-images stay cached.
#[test]
fn eviction_for_a_spill_keeps_the_clean_pages_that_fit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.db");
    let storage =
        Storage::open(Arc::new(MemoryIo::new()), path.to_str().unwrap(), options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 0..60 {
        drop(pager.append_page().unwrap());
    }
    commit(&pager);
    pager.begin_write().unwrap();
    // 8 dirty pages (16 images with their pre-images), then clean reads past the cache.
    for page_no in 2..=9 {
        set(&pager, page_no, 1);
    }
    for page_no in 10..=40 {
        drop(get(&pager, page_no));
    }
    let images = pager.page_memory_bytes() / PAGE as u64;
    let cached = pager.cached_pages();
    // Evicted down to exactly what fits beside the 16 images (16), plus the page the
    // last read brought in.
    assert_eq!(images, CACHE as u64 + 1, "images held");
    assert_eq!(cached, CACHE - 16 + 1, "clean pages kept");
    pager.rollback().unwrap();
}

/// A page changed while the spill writing it is in flight (reached through a page held
/// elsewhere, which `get_page` returns at once, and `dirty_pages`) stays dirty in memory
/// when the spill completes: its frame holds the image from before the change.
#[test]
fn a_page_changed_while_its_spill_is_in_flight_stays_dirty() {
    const PAGES: u32 = 100;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.db");
    let path = path.to_str().unwrap();
    let mem = Arc::new(MemoryIo::new_deferred());
    let io: Arc<dyn IO> = mem.clone();
    let storage = Storage::open(io.clone(), path, options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..PAGES {
        let page = pager.append_page().unwrap();
        let page_no = page.page_no();
        page.data_mut()[8..].fill(fill(page_no, 0));
    }
    commit(&pager);
    pager.begin_write().unwrap();
    let held = get(&pager, 2);
    // Pages dirtied without a read (`new_page_at`: no `get_page`, so no spill yet).
    let next = 61;
    for page_no in 3..next {
        let page = pager.new_page_at(page_no).unwrap();
        page.data_mut()[8..].fill(fill(page_no, 1));
    }
    // The first `get_page` clears their second-chance bits, a later one starts the spill;
    // the held page comes back at once with its writes in flight.
    for _ in 0..3 {
        match pager.get_page(2).unwrap() {
            std::task::Poll::Ready(p) => drop(p),
            std::task::Poll::Pending => panic!("a held page must come back at once"),
        }
        if mem.pending_ops() > 0 {
            break;
        }
    }
    assert!(mem.pending_ops() > 0, "no spill started");
    let spills = pager.spill_count();
    // Change every dirty page while the spill's writes are in flight.
    let changed: Vec<u32> = pager
        .dirty_pages()
        .into_iter()
        .map(|page| {
            pager.mark_dirty(&page).unwrap();
            page.data_mut()[8..].fill(fill(page.page_no(), 2));
            page.page_no()
        })
        .collect();
    while pager.spill_count() == spills {
        io.run_once().unwrap();
        drop(pager.get_page(2).unwrap());
    }
    drop(held);
    commit(&pager);
    drop(pager);
    drop(storage);
    let storage = Storage::open(io, path, options()).unwrap();
    let round = |p: u32| {
        if changed.contains(&p) {
            2
        } else if (3..next).contains(&p) {
            1
        } else {
            0
        }
    };
    check_all(&storage.pager(), PAGES, round, "reopened");
}

/// A dirty page the caller holds comes back at once while a spill's writes are in flight
/// (`held_elsewhere` for a dirty page): the B-tree relies on a page it holds never
/// answering `Pending`. (The clean held page of the test above takes the cache's path.)
#[test]
fn a_held_dirty_page_comes_back_while_a_spill_is_in_flight() {
    const PAGES: u32 = 100;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let path = path.to_str().unwrap();
    let mem = Arc::new(MemoryIo::new_deferred());
    let io: Arc<dyn IO> = mem.clone();
    let storage = Storage::open(io.clone(), path, options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..PAGES {
        let page = pager.append_page().unwrap();
        let page_no = page.page_no();
        page.data_mut()[8..].fill(fill(page_no, 0));
    }
    commit(&pager);
    pager.begin_write().unwrap();
    let held = get(&pager, 2);
    pager.mark_dirty(&held).unwrap();
    held.data_mut()[8..].fill(fill(2, 1));
    let next = 61;
    for page_no in 3..next {
        let page = pager.new_page_at(page_no).unwrap();
        page.data_mut()[8..].fill(fill(page_no, 1));
    }
    // Ask for the held dirty page until a spill is in flight, then once more: each time
    // it must come back at once.
    let mut asked_in_flight = 0;
    for _ in 0..6 {
        match pager.get_page(2).unwrap() {
            std::task::Poll::Ready(p) => {
                assert!(Arc::ptr_eq(&p, &held), "the held page itself");
                drop(p);
            }
            std::task::Poll::Pending => panic!("a held dirty page must come back at once"),
        }
        if mem.pending_ops() > 0 {
            asked_in_flight += 1;
            if asked_in_flight == 2 {
                break;
            }
        }
    }
    assert_eq!(asked_in_flight, 2, "no spill in flight");
    pager.mark_dirty(&held).unwrap();
    held.data_mut()[8..].fill(fill(2, 2));
    drop(held);
    commit(&pager);
    drop(pager);
    drop(storage);
    let storage = Storage::open(io, path, options()).unwrap();
    let round = |p: u32| match p {
        2 => 2,
        p if p < next => 1,
        _ => 0,
    };
    check_all(&storage.pager(), PAGES, round, "reopened");
}

/// A dirty page someone holds (a cursor's page) is never dropped by a spill, however
/// many spills pass while it is held: the holder's later changes must land in the page
/// the pager commits, not in a copy it forgot. Nor is page 1, held or not: the
/// transaction's text encoding is read from it.
#[test]
fn held_dirty_pages_are_not_spilled() {
    const PAGES: u32 = 300;
    for (name, io) in backends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let path = path.to_str().unwrap();
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_write().unwrap();
        for _ in 1..PAGES {
            let page = pager.append_page().unwrap();
            let page_no = page.page_no();
            page.data_mut()[8..].fill(fill(page_no, 0));
        }
        commit(&pager);
        let spills = pager.spill_count();
        pager.begin_write().unwrap();
        let page1 = get(&pager, 1);
        pager.mark_dirty(&page1).unwrap();
        page1.data_mut()[56..60].copy_from_slice(&2u32.to_be_bytes());
        drop(page1);
        assert_eq!(pager.text_encoding(), 2, "{name}");
        let held = get(&pager, 2);
        pager.mark_dirty(&held).unwrap();
        held.data_mut()[8..].fill(fill(2, 1));
        for round in 1..=2 {
            for page_no in 3..=PAGES {
                set(&pager, page_no, round);
            }
        }
        assert!(
            pager.spill_count() >= spills + 4,
            "{name}: spilled repeatedly"
        );
        assert_eq!(pager.text_encoding(), 2, "{name}: page 1 left memory");
        pager.mark_dirty(&held).unwrap();
        held.data_mut()[8..].fill(fill(2, 2));
        drop(held);
        commit(&pager);
        drop(pager);
        drop(storage);
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        check_all(&storage.pager(), PAGES, |_| 2, &format!("{name}, reopened"));
    }
}

/// Second chance: a dirty page used since the last spill check is skipped once, so an
/// operation retried after `Pending` finds the pages it just worked with still in memory
/// (with caches of a few pages, spilling them again kept an UPDATE from ever finishing).
#[test]
fn pages_used_since_the_last_spill_check_stay_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let mem = Arc::new(MemoryIo::new_deferred());
    let io: Arc<dyn IO> = mem.clone();
    let storage = Storage::open(io.clone(), path.to_str().unwrap(), options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..100 {
        drop(pager.append_page().unwrap());
    }
    commit(&pager);
    pager.begin_write().unwrap();
    let held = get(&pager, 2);
    let mut working = Vec::new();
    for page_no in 3..=60 {
        let page = pager.new_page_at(page_no).unwrap();
        if page_no <= 10 {
            working.push(page);
        }
    }
    let ready = |page_no: u32| match pager.get_page(page_no).unwrap() {
        std::task::Poll::Ready(p) => drop(p),
        std::task::Poll::Pending => panic!("page {page_no} not in memory"),
    };
    // This check clears every page's bit (all were just used): nothing spilled.
    ready(2);
    assert_eq!(
        mem.pending_ops(),
        0,
        "spilled pages used since the last check"
    );
    // Pages 3..=10 used again (changed through references an operation kept, without a
    // check in between), then let go; the next check spills the others.
    for page in working.drain(..) {
        pager.mark_dirty(&page).unwrap();
        page.data_mut()[8] = 1;
    }
    ready(2);
    assert!(mem.pending_ops() > 0, "no spill started");
    let spills = pager.spill_count();
    while pager.spill_count() == spills {
        io.run_once().unwrap();
        ready(2);
    }
    for page_no in 3..=10 {
        ready(page_no);
    }
    drop(held);
    pager.rollback().unwrap();
}

/// A spill frees a batch of at least an eighth of the cache (4 pages of 32) or waits:
/// a cache filled by what cannot be spilled must not turn every read into a spill of the
/// few pages an operation just read.
#[test]
fn a_spill_waits_for_a_batch_of_an_eighth_of_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.db");
    let mem = Arc::new(MemoryIo::new_deferred());
    let io: Arc<dyn IO> = mem.clone();
    let storage = Storage::open(io.clone(), path.to_str().unwrap(), options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..100 {
        drop(pager.append_page().unwrap());
    }
    commit(&pager);
    pager.begin_write().unwrap();
    let held = get(&pager, 2);
    let ready = || match pager.get_page(2).unwrap() {
        std::task::Poll::Ready(p) => drop(p),
        std::task::Poll::Pending => panic!("page 2 is held"),
    };
    // 40 dirty pages held (not spillable) and 3 that could go: too few.
    let pinned: Vec<PageRef> = (3..=42).map(|p| pager.new_page_at(p).unwrap()).collect();
    for page_no in 43..=45 {
        drop(pager.new_page_at(page_no).unwrap());
    }
    ready();
    ready();
    assert_eq!(mem.pending_ops(), 0, "spilled 3 pages");
    // A fourth: the batch is big enough.
    drop(pager.new_page_at(46).unwrap());
    ready();
    ready();
    assert!(mem.pending_ops() > 0, "4 pages not spilled");
    let spills = pager.spill_count();
    while pager.spill_count() == spills {
        io.run_once().unwrap();
        ready();
    }
    drop(pinned);
    drop(held);
    pager.rollback().unwrap();
}

/// A page changed in the transaction, cut off by `truncate_pages` inside a savepoint and
/// grown back by `append_page`: rolling back to the savepoint restores the transaction's
/// image of it (the savepoint's pre-image of the replaced page is that image).
#[test]
fn savepoint_rollback_of_a_truncated_and_regrown_page() {
    for spilled in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let storage =
            Storage::open(Arc::new(MemoryIo::new()), path.to_str().unwrap(), options()).unwrap();
        let pager = storage.pager();
        pager.begin_write().unwrap();
        for _ in 1..60 {
            drop(pager.append_page().unwrap());
        }
        commit(&pager);
        pager.begin_write().unwrap();
        set(&pager, 60, 1);
        if spilled {
            // Page 60 spilled, then read back unchanged (in memory and in its frame).
            let spills = pager.spill_count();
            for page_no in 2..=59 {
                set(&pager, page_no, 1);
            }
            assert!(pager.spill_count() > spills);
            drop(get(&pager, 60));
        }
        pager.savepoint_begin().unwrap();
        pager.truncate_pages(59).unwrap();
        let page = pager.append_page().unwrap();
        assert_eq!(page.page_no(), 60);
        page.data_mut()[8..].fill(0xee);
        drop(page);
        pager.savepoint_rollback().unwrap();
        assert_eq!(
            get(&pager, 60).data()[100],
            fill(60, 1),
            "spilled {spilled}: after ROLLBACK TO"
        );
        pager.rollback().unwrap();
    }
}

/// `set_cache_size_pages` bounds the clean pages a connection keeps, both ways.
#[test]
fn cache_size_bounds_the_clean_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("z.db");
    let storage =
        Storage::open(Arc::new(MemoryIo::new()), path.to_str().unwrap(), options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..60 {
        drop(pager.append_page().unwrap());
    }
    commit(&pager);
    for (capacity, want) in [(8, 8), (100, 60), (CACHE, CACHE)] {
        pager.set_cache_size_pages(capacity);
        pager.begin_read().unwrap();
        for page_no in 1..=60 {
            drop(get(&pager, page_no));
        }
        pager.end_read();
        assert_eq!(pager.cached_pages(), want, "cache of {capacity}");
    }
}

/// A connection's cached pages do not outlive a WAL restart by another connection: the
/// restart overwrites the frames the cache was filled from, so the next read transaction
/// drops the whole cache (it cannot tell which pages changed).
#[test]
fn a_wal_restart_by_another_connection_empties_the_cache() {
    for (name, io) in backends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let storage = Storage::open(io, path.to_str().unwrap(), options()).unwrap();
        let (reader, writer) = (storage.pager(), storage.pager());
        writer.begin_write().unwrap();
        for _ in 1..10 {
            let page = writer.append_page().unwrap();
            let page_no = page.page_no();
            page.data_mut()[8..].fill(fill(page_no, 0));
        }
        commit(&writer);
        check_all(&reader, 10, |_| 0, name);
        // Page 5 changed, the log checkpointed and truncated, page 6 changed in a new log.
        writer.begin_write().unwrap();
        set(&writer, 5, 1);
        commit(&writer);
        block_on(writer.io().as_ref(), || {
            writer.checkpoint(strata_pager::CheckpointMode::Truncate)
        })
        .unwrap();
        writer.begin_write().unwrap();
        set(&writer, 6, 1);
        commit(&writer);
        let round = |p: u32| u8::from(p == 5 || p == 6);
        check_all(&reader, 10, round, &format!("{name}: after the restart"));
    }
}

/// After `truncate_pages`, a page past the new end is out of range even if a clean copy
/// of it was cached (the copies leave the cache).
#[test]
fn truncated_pages_leave_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db");
    let storage =
        Storage::open(Arc::new(MemoryIo::new()), path.to_str().unwrap(), options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..10 {
        drop(pager.append_page().unwrap());
    }
    commit(&pager);
    pager.begin_write().unwrap();
    drop(get(&pager, 9));
    drop(get(&pager, 10));
    pager.truncate_pages(8).unwrap();
    for page_no in [9, 10] {
        assert!(
            block_on(pager.io().as_ref(), || pager.get_page(page_no)).is_err(),
            "page {page_no} past the end read"
        );
    }
    pager.rollback().unwrap();
}

/// A transaction spills only past `spill_min_pages` page images, whatever the cache size;
/// the storage counts the spills of all its connections.
#[test]
fn spills_wait_for_the_floor_and_the_storage_counts_every_connections() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions {
        cache_size_pages: 4,
        ..options()
    };
    let storage = Storage::open(
        Arc::new(SyscallIo::new()),
        dir.path().join("db").to_str().unwrap(),
        opts,
    )
    .unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 0..12 {
        pager.append_page().unwrap();
    }
    commit(&pager);
    let dirty_all = |pager: &Pager, round: u8, last: u32| {
        pager.begin_write().unwrap();
        // A spill needs to know the database is not auto-vacuum: page 1 seen.
        get(pager, 1);
        for page_no in 2..=last {
            set(pager, page_no, round);
        }
        commit(pager);
    };
    // 5 dirty pages and their 5 pre-images beside a 4-page cache: more than the cache,
    // under the default floor of 16 images: no spill.
    dirty_all(&pager, 1, 6);
    assert_eq!((pager.spill_count(), storage.spill_count()), (0, 0));
    storage.set_spill_min_pages(1);
    dirty_all(&pager, 2, 6);
    let first = pager.spill_count();
    assert!(first > 0);
    assert_eq!(storage.spill_count(), first);
    let other = storage.pager();
    dirty_all(&other, 3, 13);
    assert!(other.spill_count() > 0);
    assert_eq!(storage.spill_count(), first + other.spill_count());
    check_all(&pager, 13, |_| 3, "after the spills");
}

/// Leaves every page as it is: enough for a database whose page 1 says auto-vacuum to be
/// committed without the B-tree.
struct NoHook;

impl strata_pager::CommitHook for NoHook {
    fn before_commit(&self, _: &Pager) -> strata_pager::Result<strata_io::Poll<()>> {
        Ok(strata_io::Poll::Ready(()))
    }
}

/// Another connection made the database auto-vacuum (page 1, `PRAGMA auto_vacuum` on an
/// empty database) while this one's page 1 had left its cache: what this connection knew
/// of page 1 is forgotten at its next transaction, so it does not spill (the commit hook
/// keeps an auto-vacuum file's pointer maps from the pages in memory).
#[test]
fn another_connections_change_of_page_1_is_not_taken_for_known() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions {
        cache_size_pages: 4,
        ..options()
    };
    let storage = Storage::open(
        Arc::new(SyscallIo::new()),
        dir.path().join("db").to_str().unwrap(),
        opts,
    )
    .unwrap();
    storage.set_commit_hook(Arc::new(NoHook));
    storage.set_spill_min_pages(1);
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 0..12 {
        pager.append_page().unwrap();
    }
    commit(&pager);
    // Page 1 (not auto-vacuum) was in the commit; reading 12 pages evicts it.
    pager.begin_read().unwrap();
    for page_no in 2..=13 {
        get(&pager, page_no);
    }
    pager.end_read();
    let other = storage.pager();
    other.begin_write().unwrap();
    let page1 = get(&other, 1);
    other.mark_dirty(&page1).unwrap();
    page1.data_mut()[52..56].copy_from_slice(&1u32.to_be_bytes());
    drop(page1);
    commit(&other);
    pager.begin_write().unwrap();
    for page_no in 2..=13 {
        set(&pager, page_no, 4);
    }
    commit(&pager);
    assert_eq!(pager.spill_count(), 0, "an auto-vacuum database spilled");
}

/// A spilled page whose frame reads back short (the WAL file lost it under us) is an
/// error, never a page of zeros.
#[test]
fn a_spilled_frame_read_back_short_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db").to_str().unwrap().to_string();
    let opts = StorageOptions {
        cache_size_pages: 4,
        ..options()
    };
    let storage = Storage::open(Arc::new(SyscallIo::new()), &path, opts).unwrap();
    storage.set_spill_min_pages(1);
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 0..12 {
        pager.append_page().unwrap();
    }
    commit(&pager);
    pager.begin_write().unwrap();
    get(&pager, 1);
    for page_no in 2..=13 {
        set(&pager, page_no, 5);
    }
    assert!(pager.spill_count() > 0);
    // No more spills: one would write a frame past the cut, and the frames in between
    // would read back as whole frames of zeros.
    storage.set_spill_min_pages(usize::MAX);
    // Cut the WAL after its committed frames: the spilled frames are gone.
    let committed = storage.wal().max_frame();
    let wal = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("{path}-wal"))
        .unwrap();
    wal.set_len(32 + committed * (24 + PAGE as u64)).unwrap();
    let errors: Vec<String> = (2..=13)
        .filter_map(
            |page_no| match block_on(pager.io().as_ref(), || pager.get_page(page_no)) {
                Ok(page) => {
                    assert_eq!(page.data()[100], fill(page_no, 5), "page {page_no}");
                    None
                }
                Err(e) => Some(e.to_string()),
            },
        )
        .collect();
    assert!(!errors.is_empty(), "every spilled page read back");
    for e in &errors {
        assert!(e.contains("spilled page"), "{e}");
    }
    pager.rollback().unwrap();
}

/// A rolled-back change of page 1 is forgotten with it (`restore`): a transaction that
/// made the database look auto-vacuum (no spill allowed) and rolled back must not leave
/// the next transaction believing it once page 1 has left the cache; that one spills.
#[test]
fn a_rolled_back_change_of_page_1_is_not_taken_for_known() {
    let dir = tempfile::tempdir().unwrap();
    let opts = StorageOptions {
        cache_size_pages: 4,
        ..options()
    };
    let path = dir.path().join("db");
    let storage = Storage::open(Arc::new(SyscallIo::new()), path.to_str().unwrap(), opts).unwrap();
    storage.set_spill_min_pages(1);
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 0..12 {
        pager.append_page().unwrap();
    }
    commit(&pager);
    // Page 1 says auto-vacuum in this transaction, the only page it changes; reading
    // more pages than the cache holds makes the pager look at it (a spill is considered).
    pager.begin_write().unwrap();
    let page1 = get(&pager, 1);
    pager.mark_dirty(&page1).unwrap();
    page1.data_mut()[52..56].copy_from_slice(&3u32.to_be_bytes());
    drop(page1);
    for page_no in 2..=13 {
        drop(get(&pager, page_no));
    }
    pager.rollback().unwrap();
    // The next transaction reads page 1 (the rollback's cache of 4 may have dropped it),
    // then clean pages until page 1 is evicted, then changes them: page 1 as committed
    // says "not auto-vacuum", so the changes spill.
    pager.begin_write().unwrap();
    drop(get(&pager, 1));
    for page_no in 2..=13 {
        drop(get(&pager, page_no));
    }
    for page_no in 2..=13 {
        set(&pager, page_no, 2);
    }
    assert!(
        pager.spill_count() > 0,
        "the rolled-back page 1 was taken for known"
    );
    commit(&pager);
    check_all(&pager, 13, |_| 2, "after the spilled commit");
}

/// Pages changed and spilled inside a savepoint that is then rolled back: the commit
/// publishes every spilled frame, so each such page must be written again after them with
/// the image the rollback restored (the snapshot's for a page first changed in the
/// savepoint, in memory or not; the transaction's own for a page changed before it).
#[test]
fn commit_after_rolling_back_spilled_pages_writes_the_restored_images() {
    const PAGES: u32 = 120;
    for (name, io) in backends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sp.db");
        let path = path.to_str().unwrap();
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        let pager = storage.pager();
        pager.begin_write().unwrap();
        for _ in 1..PAGES {
            let page = pager.append_page().unwrap();
            let page_no = page.page_no();
            page.data_mut()[8..].fill(fill(page_no, 0));
        }
        commit(&pager);
        let spills = pager.spill_count();
        pager.begin_write().unwrap();
        // Pages 2..=20 changed before the savepoint (round 1), the rest only inside it.
        for page_no in 2..=20 {
            set(&pager, page_no, 1);
        }
        pager.savepoint_begin().unwrap();
        for page_no in 2..=PAGES {
            set(&pager, page_no, 2);
        }
        assert!(
            pager.spill_count() > spills,
            "{name}: spilled in the savepoint"
        );
        pager.savepoint_rollback().unwrap();
        // One more change after the rollback, so the commit has pages of its own.
        set(&pager, PAGES, 3);
        commit(&pager);
        let round = |p: u32| match p {
            PAGES => 3,
            2..=20 => 1,
            _ => 0,
        };
        check_all(&pager, PAGES, round, name);
        drop(pager);
        drop(storage);
        let storage = Storage::open(io.clone(), path, options()).unwrap();
        check_all(&storage.pager(), PAGES, round, &format!("{name}, reopened"));
    }
}

/// Page 1's change counter (its bytes 24..28) as committed.
fn change_counter(pager: &Pager) -> u32 {
    pager.begin_read().unwrap();
    let c = u32::from_be_bytes(get(pager, 1).data()[24..28].try_into().unwrap());
    pager.end_read();
    c
}

/// A spilled transaction's commit frame must come after its spilled frames. When some
/// changed page in memory is not in its frame yet, that page's frame ends the commit and
/// page 1 is not written (its change counter stays); when every changed page in memory
/// is already in its frame, page 1 is written as the commit frame (the counter moves).
#[test]
fn a_spilled_commit_writes_page_1_only_when_it_needs_a_commit_frame() {
    const PAGES: u32 = 120;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.db");
    let storage =
        Storage::open(Arc::new(MemoryIo::new()), path.to_str().unwrap(), options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..PAGES {
        let page = pager.append_page().unwrap();
        let page_no = page.page_no();
        page.data_mut()[8..].fill(fill(page_no, 0));
    }
    commit(&pager);
    let counter = change_counter(&pager);
    // Every page changed once: the last ones are still in memory, not yet in a frame.
    let spills = pager.spill_count();
    pager.begin_write().unwrap();
    for page_no in 2..=PAGES {
        set(&pager, page_no, 1);
    }
    assert!(pager.spill_count() > spills, "spilled");
    let frames = storage.wal().max_frame();
    commit(&pager);
    assert_eq!(change_counter(&pager), counter, "page 1 written needlessly");
    assert!(storage.wal().max_frame() > frames);
    check_all(&pager, PAGES, |_| 1, "first commit");
    // Every page changed, then all read back: memory holds only pages equal to their
    // frames, so page 1 is the commit frame.
    let spills = pager.spill_count();
    pager.begin_write().unwrap();
    for page_no in 2..=PAGES {
        set(&pager, page_no, 2);
    }
    assert!(pager.spill_count() > spills, "spilled again");
    for page_no in 2..=PAGES {
        drop(get(&pager, page_no));
    }
    commit(&pager);
    assert_eq!(change_counter(&pager), counter + 1, "no commit frame");
    check_all(&pager, PAGES, |_| 2, "second commit");
}

/// The pages a commit loads again (`commit_hold`: spilled in a savepoint that rolled
/// back, not in memory) end the commit after the spilled frames: page 1 is not written
/// for a commit frame although every changed page in memory is already in its frame.
#[test]
fn pages_written_again_after_a_savepoint_rollback_end_the_commit() {
    const PAGES: u32 = 120;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let storage =
        Storage::open(Arc::new(MemoryIo::new()), path.to_str().unwrap(), options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..PAGES {
        let page = pager.append_page().unwrap();
        let page_no = page.page_no();
        page.data_mut()[8..].fill(fill(page_no, 0));
    }
    commit(&pager);
    let counter = change_counter(&pager);
    let spills = pager.spill_count();
    pager.begin_write().unwrap();
    // Pages 2..=60 changed and spilled, then read back: in memory, equal to their frames.
    for page_no in 2..=60 {
        set(&pager, page_no, 1);
    }
    for page_no in 2..=60 {
        drop(get(&pager, page_no));
    }
    assert!(pager.spill_count() > spills, "spilled");
    // Pages 61..=120 replaced (not read) in a savepoint, spilled, and rolled back.
    pager.savepoint_begin().unwrap();
    for page_no in 61..=PAGES {
        let page = pager.new_page_at(page_no).unwrap();
        page.data_mut()[8..].fill(fill(page_no, 2));
    }
    let spills = pager.spill_count();
    for page_no in 2..=60 {
        drop(get(&pager, page_no));
    }
    assert!(pager.spill_count() > spills, "spilled in the savepoint");
    pager.savepoint_rollback().unwrap();
    commit(&pager);
    let round = |p: u32| u8::from(p <= 60);
    check_all(&pager, PAGES, round, "committed");
    assert_eq!(change_counter(&pager), counter, "page 1 written needlessly");
}

/// Pages a transaction changed and then cut off with `truncate_pages` are not cached by
/// its commit: the next transaction finds them out of range, and grown back they are new
/// pages, not the old bytes.
#[test]
fn a_commit_does_not_cache_pages_past_a_truncated_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let storage =
        Storage::open(Arc::new(MemoryIo::new()), path.to_str().unwrap(), options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    for _ in 1..10 {
        drop(pager.append_page().unwrap());
    }
    commit(&pager);
    pager.begin_write().unwrap();
    for page_no in 2..=10 {
        set(&pager, page_no, 1);
    }
    pager.truncate_pages(8).unwrap();
    commit(&pager);
    pager.begin_write().unwrap();
    assert_eq!(pager.db_size_pages(), 8);
    for page_no in [9, 10] {
        assert!(
            block_on(pager.io().as_ref(), || pager.get_page(page_no)).is_err(),
            "page {page_no} past the end read"
        );
    }
    assert_eq!(get(&pager, 8).data()[100], fill(8, 1), "page 8 kept");
    let page = pager.append_page().unwrap();
    assert_eq!(page.page_no(), 9);
    assert!(
        page.data().iter().all(|&b| b == 0),
        "grown back: a new page"
    );
    drop(page);
    pager.rollback().unwrap();
}
