//! create_btree / drop_btree / clear_btree: every page (tree pages and overflow pages)
//! goes back to the freelist, freed pages are reused, and page accounting stays exact;
//! run on a deferred IO with a tiny cache so the step-wise destruction resumes.

mod common;

use std::sync::Arc;

use common::{check_db, commit, load_page, open_db, run, Db};
use strata_btree::record::{encode_record, KeyInfo, ValueRef};
use strata_btree::{
    clear_btree, create_btree, drop_btree, BTreeCursor, BTreeType, SeekOp, TreeKind,
};

#[test]
fn drop_and_clear_free_every_page() {
    let db = open_db(512, true);
    db.pager.set_cache_size_pages(8);
    let ki = Arc::new(KeyInfo::default());
    db.pager.begin_write().unwrap();
    let mut tables = Vec::new();
    let mut indexes = Vec::new();
    for t in 0..3i64 {
        let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
        let index = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
        let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
        let mut ic = BTreeCursor::new(db.pager.clone(), index, TreeKind::Index(ki.clone()));
        for k in 0..700i64 {
            let big = vec![b'x'; ((k * 37 + t) % 1400) as usize];
            run(&db.io, || tc.insert_rowid(k, &big)).unwrap();
            let mut key = Vec::new();
            // Index keys large enough to spill, so interior cells own overflow chains.
            encode_record(
                &[
                    ValueRef::Blob(&big[..big.len() % 700]),
                    ValueRef::Integer(k),
                ],
                &mut key,
            );
            run(&db.io, || ic.insert_index(&key)).unwrap();
        }
        tables.push(table);
        indexes.push(index);
    }
    commit(&db);
    let size_before = db.pager.db_size_pages();

    db.pager.begin_write().unwrap();
    run(&db.io, || drop_btree(&db.pager, tables[0])).unwrap();
    run(&db.io, || drop_btree(&db.pager, indexes[0])).unwrap();
    run(&db.io, || clear_btree(&db.pager, tables[1])).unwrap();
    run(&db.io, || clear_btree(&db.pager, indexes[1])).unwrap();
    let trees = [
        (tables[1], None),
        (indexes[1], Some(&*ki)),
        (tables[2], None),
        (indexes[2], Some(&*ki)),
    ];
    let stats = check_db(&db, &trees);
    assert_eq!(
        stats[0].pages,
        vec![tables[1]],
        "a cleared table is an empty root"
    );
    assert_eq!(
        stats[1].pages,
        vec![indexes[1]],
        "a cleared index is an empty root"
    );
    assert_eq!(stats[3].entries, 700);
    commit(&db);

    // Refill: freed pages are reused before the file grows.
    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), tables[1], TreeKind::Table);
    for k in 0..1000i64 {
        let big = vec![b'y'; ((k * 53) % 1400) as usize];
        run(&db.io, || tc.insert_rowid(k, &big)).unwrap();
    }
    check_db(&db, &trees);
    assert_eq!(db.pager.db_size_pages(), size_before, "freed pages reused");
    // Drop everything: the file is page 1 plus free pages.
    for &root in tables[1..].iter().chain(&indexes[1..]) {
        run(&db.io, || drop_btree(&db.pager, root)).unwrap();
    }
    check_db(&db, &[]);
    let page1 = common::load_page(&db, 1).unwrap();
    let free = u32::from_be_bytes(page1.data()[36..40].try_into().unwrap());
    assert_eq!(free, db.pager.db_size_pages() - 1);
    commit(&db);
    assert!(common::pending_count() > 100);
}

#[test]
fn cursor_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<BTreeCursor>();
}

/// The overflow chain of the table's first row: its root leaf's first cell.
fn first_chain_page(db: &Db, root: u32) -> u32 {
    use strata_btree::page::{parse_cell, PageHeader};
    let usable = db.pager.usable_size();
    let page = load_page(db, root).unwrap();
    let data = page.data();
    let h = PageHeader::parse(&data, root, usable).unwrap();
    let offset = h.cell_offset(&data, 0, usable).unwrap();
    parse_cell(&data, h.page_type, offset, usable)
        .unwrap()
        .overflow_page
}

/// Deleting a row frees its overflow chain: page 2 is a valid overflow page (the first
/// page after page 1, reused from the freelist), and a chain pointer past the end is
/// reported by the chain walk as an overflow page out of range.
#[test]
fn delete_frees_a_chain_through_page_2_and_refuses_one_past_the_end() {
    let db = open_db(512, false);
    db.pager.begin_write().unwrap();
    let first = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    assert_eq!((first, table), (2, 3));
    run(&db.io, || drop_btree(&db.pager, first)).unwrap();
    commit(&db);
    // Page 2 is the only free page: the row's first overflow page.
    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    run(&db.io, || tc.insert_rowid(1, &[7u8; 2000])).unwrap();
    assert_eq!(first_chain_page(&db, table), 2);
    check_db(&db, &[(table, None)]);
    commit(&db);
    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    assert!(run(&db.io, || tc.seek_rowid(1, SeekOp::EQ)).unwrap());
    run(&db.io, || tc.delete()).unwrap();
    let stats = check_db(&db, &[(table, None)]);
    assert_eq!(stats[0].entries, 0);
    commit(&db);
    // Again, with the first overflow page's next pointer damaged.
    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    run(&db.io, || tc.insert_rowid(1, &[8u8; 2000])).unwrap();
    let chain = first_chain_page(&db, table);
    let page = load_page(&db, chain).unwrap();
    db.pager.mark_dirty(&page).unwrap();
    page.data_mut()[0..4].copy_from_slice(&0x00FF_FFFFu32.to_be_bytes());
    drop(page);
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    assert!(run(&db.io, || tc.seek_rowid(1, SeekOp::EQ)).unwrap());
    match run(&db.io, || tc.delete()) {
        Err(strata_btree::Error::Corrupt(m)) => {
            assert!(m.contains("overflow page 16777215 out of range"), "{m}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    db.pager.rollback().unwrap();
}

/// A freelist trunk claiming one leaf more than a trunk can hold (U/4 - 1: its last leaf
/// would lie past the page's end) is corrupt when the freelist is used, never read past
/// the page.
#[test]
fn a_trunk_claiming_more_leaves_than_fit_is_corrupt() {
    let db = open_db(512, false);
    db.pager.begin_write().unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let scratch = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut sc = BTreeCursor::new(db.pager.clone(), scratch, TreeKind::Table);
    for k in 0..200i64 {
        run(&db.io, || sc.insert_rowid(k, &[1u8; 100])).unwrap();
    }
    run(&db.io, || drop_btree(&db.pager, scratch)).unwrap();
    commit(&db);
    db.pager.begin_write().unwrap();
    let page1 = load_page(&db, 1).unwrap();
    let trunk_no = u32::from_be_bytes(page1.data()[32..36].try_into().unwrap());
    assert_ne!(trunk_no, 0, "setup: a freelist");
    let trunk = load_page(&db, trunk_no).unwrap();
    db.pager.mark_dirty(&trunk).unwrap();
    let too_many = (db.pager.usable_size() / 4 - 1) as u32;
    trunk.data_mut()[4..8].copy_from_slice(&too_many.to_be_bytes());
    drop((page1, trunk));
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    let mut outcome = Ok(());
    for k in 0..100i64 {
        outcome = run(&db.io, || tc.insert_rowid(k, &[2u8; 100]));
        if outcome.is_err() {
            break;
        }
    }
    match outcome {
        Err(strata_btree::Error::Corrupt(m)) => {
            assert!(m.contains(&format!("claims {too_many} leaves")), "{m}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    db.pager.rollback().unwrap();
}

/// Freed pages fill the first trunk up to U/4 - 8 leaves, as SQLite fills it (files stay
/// readable by old versions), before the next freed page becomes a new first trunk: after
/// a tree of over 130 pages is dropped into an empty freelist, every trunk but the first
/// holds exactly U/4 - 8 leaves, and the counts add up to the header's.
#[test]
fn freed_pages_fill_each_trunk_as_sqlite_does() {
    let db = open_db(512, false);
    let fill = db.pager.usable_size() / 4 - 8;
    db.pager.begin_write().unwrap();
    let scratch = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut sc = BTreeCursor::new(db.pager.clone(), scratch, TreeKind::Table);
    for k in 0..300i64 {
        run(&db.io, || sc.insert_rowid(k, &[3u8; 200])).unwrap();
    }
    run(&db.io, || drop_btree(&db.pager, scratch)).unwrap();
    let page1 = load_page(&db, 1).unwrap();
    let word = |d: &[u8], at: usize| u32::from_be_bytes(d[at..at + 4].try_into().unwrap());
    let (mut trunk, free) = (word(&page1.data(), 32), word(&page1.data(), 36));
    assert!(free as usize > fill + 10, "setup: {free} free pages");
    let mut leaves = Vec::new();
    while trunk != 0 {
        let page = load_page(&db, trunk).unwrap();
        leaves.push(word(&page.data(), 4) as usize);
        trunk = word(&page.data(), 0);
    }
    assert!(leaves.len() >= 2, "one trunk for {free} pages: {leaves:?}");
    assert!(leaves[0] <= fill, "{leaves:?}");
    assert!(leaves[1..].iter().all(|&n| n == fill), "{leaves:?}");
    assert_eq!(
        leaves.iter().map(|n| n + 1).sum::<usize>(),
        free as usize,
        "{leaves:?}"
    );
    commit(&db);
}

/// A payload of `49 + 508 * c` bytes in a table on 512-byte pages: 49 bytes local (the
/// minimum 39 plus the remainder 10) and `c` whole overflow pages.
fn row_of_overflow_pages(c: usize, byte: u8) -> Vec<u8> {
    vec![byte; 49 + 508 * c]
}

/// Inserts rows (from rowid 1) into the cursor's table whose overflow chains take pages
/// off the freelist until its first trunk holds `leaves` leaves (at most the fill, 120,
/// and the freelist long enough); returns how many pages were taken.
fn take_to_first_trunk_leaves(db: &Db, tc: &mut BTreeCursor, leaves: usize) -> usize {
    let trunks = freelist_trunks(db);
    let take = if trunks[0].1 >= leaves {
        trunks[0].1 - leaves
    } else {
        trunks[0].1 + 1 + trunks[1].1 - leaves
    };
    let (mut left, mut rowid) = (take, 1i64);
    while left > 0 {
        let c = left.min(40);
        run(&db.io, || {
            tc.insert_rowid(rowid, &row_of_overflow_pages(c, 5))
        })
        .unwrap();
        left -= c;
        rowid += 1;
    }
    take
}

/// A table `table` and a freelist of over two trunks (a dropped tree of 500 rows),
/// committed.
fn table_and_freelist(db: &Db) -> u32 {
    table_and_freelist_of(db, 500, 4)
}

/// A table `table` and a freelist: a dropped tree of `rows` rows of 200 bytes `byte`,
/// committed.
fn table_and_freelist_of(db: &Db, rows: i64, byte: u8) -> u32 {
    db.pager.begin_write().unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let scratch = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut sc = BTreeCursor::new(db.pager.clone(), scratch, TreeKind::Table);
    for k in 0..rows {
        run(&db.io, || sc.insert_rowid(k, &[byte; 200])).unwrap();
    }
    run(&db.io, || drop_btree(&db.pager, scratch)).unwrap();
    commit(db);
    table
}

/// The trunks of the freelist, first to last: (page number, leaf count).
fn freelist_trunks(db: &Db) -> Vec<(u32, usize)> {
    let word = |d: &[u8], at: usize| u32::from_be_bytes(d[at..at + 4].try_into().unwrap());
    let mut trunk = word(&load_page(db, 1).unwrap().data(), 32);
    let mut trunks = Vec::new();
    while trunk != 0 {
        let page = load_page(db, trunk).unwrap();
        trunks.push((trunk, word(&page.data(), 4) as usize));
        trunk = word(&page.data(), 0);
    }
    trunks
}

/// An insert loads, before it changes anything, every freelist trunk its overflow chain
/// will take pages from. The chain's length is counted with U - 4 bytes per page: a row on
/// a 512-byte page whose local part is the minimum (39 bytes: the remainder 460 of its
/// spill over 508 would not fit) spills 30940 bytes, 61 pages; counted with U + 4 it would
/// be 60. With the first trunk holding 59 leaves (60 pages with the trunk itself), the
/// 61st page comes from the second trunk, which a deferred IO and a tiny cache keep out of
/// memory: the insert must wait for it (Pending) and then succeed, not fail with "freelist
/// page N used before it was loaded".
#[test]
fn an_insert_loads_every_trunk_its_overflow_chain_takes_pages_from() {
    let db = open_db(512, true);
    assert_eq!(db.pager.usable_size(), 512);
    let table = table_and_freelist(&db);

    // Take pages off the freelist until its first trunk holds 59 leaves and a second
    // trunk follows.
    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    let take = take_to_first_trunk_leaves(&db, &mut tc, 59);
    let trunks = freelist_trunks(&db);
    assert!(
        trunks.len() >= 2 && trunks[0].1 == 59,
        "setup: took {take} pages, trunks {trunks:?}"
    );
    let second = trunks[1].0;
    check_db(&db, &[(table, None)]);
    commit(&db);

    // Push the second trunk out of the cache (every page read since is clean; the
    // cursors' held pages go with them).
    drop(tc);
    db.pager.set_cache_size_pages(4);
    db.pager.begin_write().unwrap();
    for n in 2..=db.pager.db_size_pages() {
        if n != second {
            drop(load_page(&db, n).unwrap());
        }
    }

    let payload = vec![6u8; 39 + 30940];
    let pending_before = common::pending_count();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    run(&db.io, || tc.insert_rowid(1000, &payload)).unwrap();
    assert!(
        common::pending_count() > pending_before,
        "the insert read pages"
    );
    let trunks_after = freelist_trunks(&db);
    assert_eq!(
        trunks_after.first().map(|t| t.0),
        Some(second),
        "61 pages: the first trunk, its 59 leaves and the second trunk's last leaf"
    );
    assert_eq!(trunks_after[0].1, trunks[1].1 - 1, "{trunks_after:?}");
    check_db(&db, &[(table, None)]);
    commit(&db);
    db.pager.begin_read().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    assert!(run(&db.io, || tc.seek_rowid(1000, SeekOp::EQ)).unwrap());
    db.pager.end_read();
}

/// An insert loads only the freelist trunks its pages come from (as SQLite reads a trunk
/// only when it gets there): a row whose overflow chain takes exactly the first trunk's
/// leaves and the trunk itself goes in although the second trunk is damaged (claims more
/// leaves than a page holds); the next page taken comes from that trunk and is refused.
#[test]
fn an_insert_reads_no_trunk_past_the_pages_it_takes() {
    let db = open_db(512, false);
    let table = table_and_freelist(&db);
    db.pager.begin_write().unwrap();
    let trunks = freelist_trunks(&db);
    assert!(trunks.len() >= 2, "setup: {trunks:?}");
    let damaged = load_page(&db, trunks[1].0).unwrap();
    db.pager.mark_dirty(&damaged).unwrap();
    damaged.data_mut()[4..8].copy_from_slice(&1000u32.to_be_bytes());
    drop(damaged);
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    let chain = trunks[0].1 + 1;
    run(&db.io, || {
        tc.insert_rowid(1, &row_of_overflow_pages(chain, 7))
    })
    .unwrap_or_else(|e| panic!("a chain of {chain} pages, trunks {trunks:?}: {e:?}"));
    assert_eq!(freelist_trunks_first(&db), trunks[1].0);
    match run(&db.io, || tc.insert_rowid(2, &row_of_overflow_pages(1, 8))) {
        Err(strata_btree::Error::Corrupt(m)) => assert!(m.contains("claims 1000 leaves"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    db.pager.rollback().unwrap();
}

/// The first trunk's page number, from page 1.
fn freelist_trunks_first(db: &Db) -> u32 {
    u32::from_be_bytes(load_page(db, 1).unwrap().data()[32..36].try_into().unwrap())
}

/// A trunk may hold up to U/4 - 2 leaves (what SQLite accepts when reading, although it
/// fills trunks only to U/4 - 8): with the first trunk at exactly 126 leaves on 512-byte
/// pages, an insert takes its last leaf, and a delete frees its page as a new first trunk
/// (the full trunk takes no more leaves).
#[test]
fn a_trunk_of_the_most_leaves_sqlite_reads_is_used() {
    let db = open_db(512, false);
    let max = db.pager.usable_size() / 4 - 2;
    let table = table_and_freelist(&db);
    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    take_to_first_trunk_leaves(&db, &mut tc, 59);
    // Move leaves from the second trunk (full: 120) to the first until it holds `max`.
    let trunks = freelist_trunks(&db);
    assert!(
        trunks.len() >= 2 && trunks[0].1 == 59 && trunks[1].1 == 120,
        "{trunks:?}"
    );
    let moved = max - 59;
    let (first, second) = (
        load_page(&db, trunks[0].0).unwrap(),
        load_page(&db, trunks[1].0).unwrap(),
    );
    db.pager.mark_dirty(&first).unwrap();
    db.pager.mark_dirty(&second).unwrap();
    {
        let (mut f, mut s) = (first.data_mut(), second.data_mut());
        let from = 8 + 4 * (120 - moved);
        f[8 + 4 * 59..8 + 4 * max].copy_from_slice(&s[from..8 + 4 * 120]);
        f[4..8].copy_from_slice(&(max as u32).to_be_bytes());
        s[4..8].copy_from_slice(&((120 - moved) as u32).to_be_bytes());
    }
    let last_leaf = u32::from_be_bytes(first.data()[4 + 4 * max..8 + 4 * max].try_into().unwrap());
    drop((first, second));
    check_db(&db, &[(table, None)]);
    commit(&db);

    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    run(&db.io, || {
        tc.insert_rowid(1000, &row_of_overflow_pages(1, 9))
    })
    .unwrap();
    assert_eq!(freelist_trunks(&db)[0], (trunks[0].0, max - 1));
    check_db(&db, &[(table, None)]);
    let page_of_row = {
        use strata_btree::page::{parse_cell, PageHeader};
        let page = load_page(&db, table).unwrap();
        let data = page.data();
        let h = PageHeader::parse(&data, table, 512).unwrap();
        let offset = h.cell_offset(&data, h.cell_count - 1, 512).unwrap();
        parse_cell(&data, h.page_type, offset, 512)
            .unwrap()
            .overflow_page
    };
    assert_eq!(page_of_row, last_leaf, "the trunk's last leaf is taken");
    db.pager.rollback().unwrap();

    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    assert!(run(&db.io, || tc.seek_rowid(1, SeekOp::EQ)).unwrap());
    run(&db.io, || tc.delete()).unwrap();
    let trunks_after = freelist_trunks(&db);
    assert_eq!(trunks_after[1], (trunks[0].0, max), "{trunks_after:?}");
    check_db(&db, &[(table, None)]);
    db.pager.rollback().unwrap();
}

/// A freelist whose trunks form a cycle (two trunks of no leaves pointing at each other,
/// the header counting 2 free pages) is corrupt when an insert needs more pages than the
/// header counts: the walk stops after as many trunks as there are free pages (SQLite's
/// `nSearch > n` in allocateBtreePage), before anything changes, instead of handing the
/// first trunk out twice.
#[test]
fn a_cyclic_freelist_is_corrupt() {
    let db = open_db(512, false);
    db.pager.begin_write().unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let x = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let y = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    run(&db.io, || drop_btree(&db.pager, y)).unwrap();
    run(&db.io, || drop_btree(&db.pager, x)).unwrap();
    assert_eq!(db.pager.db_size_pages(), 4);
    for (page_no, next) in [(x, y), (y, x)] {
        let page = load_page(&db, page_no).unwrap();
        db.pager.mark_dirty(&page).unwrap();
        let mut d = page.data_mut();
        d[0..4].copy_from_slice(&next.to_be_bytes());
        d[4..8].copy_from_slice(&0u32.to_be_bytes());
    }
    let page1 = load_page(&db, 1).unwrap();
    db.pager.mark_dirty(&page1).unwrap();
    page1.data_mut()[32..36].copy_from_slice(&y.to_be_bytes());
    page1.data_mut()[36..40].copy_from_slice(&2u32.to_be_bytes());
    drop(page1);
    commit(&db);

    db.pager.begin_write().unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    match run(&db.io, || tc.insert_rowid(1, &row_of_overflow_pages(3, 1))) {
        Err(strata_btree::Error::Corrupt(m)) => {
            assert!(
                m.contains(&format!("freelist trunk {y} out of range or cyclic")),
                "{m}"
            )
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let page1 = load_page(&db, 1).unwrap();
    assert_eq!(
        &page1.data()[32..40],
        &[0, 0, 0, y as u8, 0, 0, 0, 2],
        "unchanged"
    );
    db.pager.rollback().unwrap();
}

/// Allocation goes by the header's free page count, as SQLite's allocateBtreePage does
/// (`n > 0` before it reads the trunk): with the count 0 but a (stale) first trunk left in
/// the header, an insert needing a page grows the file and leaves the header as it was,
/// never takes the trunk's leaves (and never counts the free pages down past 0).
#[test]
fn a_zero_free_count_grows_the_file_whatever_the_trunk_pointer() {
    let db = open_db(512, false);
    let table = table_and_freelist_of(&db, 20, 1);
    db.pager.begin_write().unwrap();
    let trunk = freelist_trunks_first(&db);
    assert_ne!(trunk, 0, "setup: a freelist");
    let page1 = load_page(&db, 1).unwrap();
    db.pager.mark_dirty(&page1).unwrap();
    page1.data_mut()[36..40].copy_from_slice(&0u32.to_be_bytes());
    drop(page1);
    commit(&db);

    db.pager.begin_write().unwrap();
    let size = db.pager.db_size_pages();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    run(&db.io, || tc.insert_rowid(1, &row_of_overflow_pages(1, 2))).unwrap();
    assert_eq!(db.pager.db_size_pages(), size + 1, "the file grew");
    assert_eq!(first_chain_page(&db, table), size + 1);
    let header = load_page(&db, 1).unwrap().data()[32..40].to_vec();
    let mut expected = trunk.to_be_bytes().to_vec();
    expected.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(header, expected, "first trunk and free count unchanged");
    db.pager.rollback().unwrap();
}

/// A freelist leaf entry that is no page a leaf can be (0, page 1, past the end, or the
/// trunk itself) is corrupt when an insert takes it, before anything changes: never page
/// 1 or a page past the end zeroed and handed out.
#[test]
fn a_freelist_leaf_out_of_range_is_corrupt() {
    let db = open_db(512, false);
    let table = table_and_freelist_of(&db, 20, 1);
    let trunks = freelist_trunks(&db_in_read(&db));
    db.pager.end_read();
    let (trunk, leaves) = trunks[0];
    assert!(leaves > 0, "setup: {trunks:?}");
    let size = db.pager.db_size_pages();
    for bad in [0, 1, size + 1, 0x00FF_FFFF, trunk] {
        db.pager.begin_write().unwrap();
        let page = load_page(&db, trunk).unwrap();
        db.pager.mark_dirty(&page).unwrap();
        let at = 8 + 4 * (leaves - 1);
        page.data_mut()[at..at + 4].copy_from_slice(&bad.to_be_bytes());
        drop(page);
        let page1_before = load_page(&db, 1).unwrap().data().to_vec();
        let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
        match run(&db.io, || tc.insert_rowid(1, &row_of_overflow_pages(1, 3))) {
            Err(strata_btree::Error::Corrupt(m)) => {
                assert!(
                    m.contains(&format!("freelist leaf {bad} out of range")),
                    "{m}"
                )
            }
            other => panic!("leaf {bad}: expected Corrupt, got {other:?}"),
        }
        assert_eq!(
            load_page(&db, 1).unwrap().data().to_vec(),
            page1_before,
            "leaf {bad}"
        );
        assert_eq!(db.pager.db_size_pages(), size, "leaf {bad}");
        db.pager.rollback().unwrap();
    }
}

/// `db` inside a read transaction (end it with `end_read`).
fn db_in_read(db: &Db) -> &Db {
    db.pager.begin_read().unwrap();
    db
}

/// Dropping a tree whose row's overflow pointer was damaged to 1 must not put page 1 on
/// the freelist (zeroed as a new trunk, the file's header gone): `free_page` refuses it as
/// corrupt, before it changes anything.
#[test]
fn dropping_a_chain_that_points_at_page_1_is_corrupt() {
    let db = open_db(512, false);
    db.pager.begin_write().unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    run(&db.io, || tc.insert_rowid(1, &row_of_overflow_pages(2, 4))).unwrap();
    drop(tc);
    commit(&db);
    db.pager.begin_write().unwrap();
    let chain = first_chain_page(&db, table);
    {
        let page = load_page(&db, table).unwrap();
        db.pager.mark_dirty(&page).unwrap();
        let mut d = page.data_mut();
        let at = d
            .windows(4)
            .rposition(|w| w == chain.to_be_bytes())
            .unwrap();
        d[at..at + 4].copy_from_slice(&1u32.to_be_bytes());
    }
    assert_eq!(first_chain_page(&db, table), 1, "setup");
    let page1_before = load_page(&db, 1).unwrap().data().to_vec();
    match run(&db.io, || drop_btree(&db.pager, table)) {
        Err(strata_btree::Error::Corrupt(m)) => {
            assert!(m.contains("freeing page 1, out of range"), "{m}")
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(load_page(&db, 1).unwrap().data().to_vec(), page1_before);
    db.pager.rollback().unwrap();
}

/// The reverse damage: a free page count with no first trunk. SQLite's allocateBtreePage
/// then asks for page 0 and reports corruption; growing the file instead (as Strata did,
/// found by the freelist mutants of session 16) would keep the wrong count for good. An
/// insert that needs a page, and a drop that frees one, are both refused as corrupt.
#[test]
fn a_free_count_without_a_trunk_is_corrupt() {
    let db = open_db(512, false);
    db.pager.begin_write().unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let scratch = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut sc = BTreeCursor::new(db.pager.clone(), scratch, TreeKind::Table);
    for k in 0..20i64 {
        run(&db.io, || sc.insert_rowid(k, &[1u8; 200])).unwrap();
    }
    let page1 = load_page(&db, 1).unwrap();
    db.pager.mark_dirty(&page1).unwrap();
    page1.data_mut()[32..40].copy_from_slice(&[0, 0, 0, 0, 0, 0, 0, 3]);
    drop(page1);
    commit(&db);

    db.pager.begin_write().unwrap();
    let size = db.pager.db_size_pages();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    let err = run(&db.io, || tc.insert_rowid(1, &row_of_overflow_pages(1, 2))).unwrap_err();
    assert!(err.to_string().contains("without a first trunk"), "{err}");
    assert_eq!(db.pager.db_size_pages(), size, "the file did not grow");
    db.pager.rollback().unwrap();

    db.pager.begin_write().unwrap();
    let err = run(&db.io, || drop_btree(&db.pager, scratch)).unwrap_err();
    assert!(err.to_string().contains("without a first trunk"), "{err}");
    db.pager.rollback().unwrap();
}

/// An insert, a replacement and a delete that take and free no page (no overflow chain,
/// no split) read no freelist page, as SQLite's do: with the first trunk damaged (claiming
/// more leaves than a page holds), a small row goes in, is replaced and is deleted; only
/// the next insert whose overflow page comes from that trunk finds the damage.
#[test]
fn a_write_that_takes_no_page_reads_no_freelist_trunk() {
    let db = open_db(512, false);
    let table = table_and_freelist(&db);
    db.pager.begin_write().unwrap();
    let first = freelist_trunks_first(&db);
    assert_ne!(first, 0, "setup: a freelist");
    let damaged = load_page(&db, first).unwrap();
    db.pager.mark_dirty(&damaged).unwrap();
    damaged.data_mut()[4..8].copy_from_slice(&1000u32.to_be_bytes());
    drop(damaged);
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    run(&db.io, || tc.insert_rowid(1, &[1u8; 40])).expect("insert");
    run(&db.io, || tc.insert_rowid(1, &[2u8; 60])).expect("replace");
    assert!(run(&db.io, || tc.seek_rowid(1, SeekOp::EQ)).unwrap());
    run(&db.io, || tc.delete()).expect("delete");
    match run(&db.io, || tc.insert_rowid(2, &row_of_overflow_pages(1, 8))) {
        Err(strata_btree::Error::Corrupt(m)) => assert!(m.contains("claims 1000 leaves"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    db.pager.rollback().unwrap();
}
