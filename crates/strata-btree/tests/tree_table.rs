//! Table B-trees against a `BTreeMap` model: random inserts, replaces, deletes, seeks
//! and scans with payloads from 0 bytes to 3 pages, on several page sizes, on a deferred
//! MemoryIo with a tiny page cache so that reads really go Pending and every resume path
//! runs. Commits and rollbacks in between; full structural checks after each batch.

mod common;

use std::collections::BTreeMap;
use std::ops::Bound;

use common::{check_db, commit, open_db, run, Db};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strata_btree::{create_btree, BTreeCursor, BTreeType, SeekOp, TreeKind};

fn payload_for(rowid: i64, len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (rowid as usize).wrapping_mul(31).wrapping_add(i * 7) as u8 ^ salt)
        .collect()
}

fn random_len(rng: &mut ChaCha8Rng, page_size: usize) -> usize {
    match rng.gen_range(0..100) {
        0..=59 => rng.gen_range(0..40),
        60..=89 => rng.gen_range(0..page_size / 4),
        _ => rng.gen_range(0..3 * page_size),
    }
}

fn cursor_entry(db: &Db, c: &mut BTreeCursor) -> Option<(i64, Vec<u8>)> {
    if c.is_eof() {
        return None;
    }
    let rowid = c.rowid().unwrap();
    let payload = run(&db.io, || c.payload().map(|p| p.map(|b| b.to_vec()))).unwrap();
    Some((rowid, payload))
}

fn expected_seek(model: &BTreeMap<i64, Vec<u8>>, key: i64, op: SeekOp) -> Option<(i64, Vec<u8>)> {
    let hit = match op {
        SeekOp::EQ => model.get_key_value(&key),
        SeekOp::GE => model.range(key..).next(),
        SeekOp::GT => model.range((Bound::Excluded(key), Bound::Unbounded)).next(),
        SeekOp::LE => model.range(..=key).next_back(),
        SeekOp::LT => model.range(..key).next_back(),
    };
    hit.map(|(k, v)| (*k, v.clone()))
}

fn full_scan_matches(db: &Db, root: u32, model: &BTreeMap<i64, Vec<u8>>) {
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
    run(&db.io, || c.rewind()).unwrap();
    let mut got = Vec::new();
    while let Some(e) = cursor_entry(db, &mut c) {
        got.push(e);
        run(&db.io, || c.next()).unwrap();
    }
    let want: Vec<(i64, Vec<u8>)> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
    assert_eq!(got.len(), want.len(), "forward scan length");
    assert!(got == want, "forward scan differs");
    run(&db.io, || c.last()).unwrap();
    let mut back = Vec::new();
    while let Some((k, _)) = cursor_entry(db, &mut c) {
        back.push(k);
        run(&db.io, || c.prev()).unwrap();
    }
    let want_back: Vec<i64> = model.keys().rev().copied().collect();
    assert_eq!(back, want_back, "backward scan");
    let max = run(&db.io, || c.max_rowid()).unwrap();
    assert_eq!(max, model.keys().next_back().copied());
}

fn model_test(page_size: usize, seed: u64, batches: usize, ops_per_batch: usize, key_range: i64) {
    model_test_on(
        open_db(page_size, true),
        seed,
        batches,
        ops_per_batch,
        key_range,
    );
}

fn model_test_on(db: Db, seed: u64, batches: usize, ops_per_batch: usize, key_range: i64) {
    let page_size = db.pager.page_size();
    db.pager.set_cache_size_pages(8);
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    commit(&db);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut model: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
    let mut committed = model.clone();
    for batch in 0..batches {
        db.pager.begin_write().unwrap();
        let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
        // Some batches mostly delete so that trees shrink back and pages get freed.
        let delete_heavy = batch % 4 == 3;
        for _ in 0..ops_per_batch {
            let r = rng.gen_range(0..100);
            let key = rng.gen_range(-key_range / 8..key_range);
            if r < (if delete_heavy { 15 } else { 55 }) {
                let len = random_len(&mut rng, page_size);
                let payload = payload_for(key, len, batch as u8);
                run(&db.io, || c.insert_rowid(key, &payload)).unwrap();
                assert_eq!(c.rowid().unwrap(), key, "cursor on the inserted entry");
                model.insert(key, payload);
            } else if r < 80 {
                let found = run(&db.io, || c.seek_rowid(key, SeekOp::GE)).unwrap();
                if !found {
                    continue;
                }
                let k = c.rowid().unwrap();
                run(&db.io, || c.delete()).unwrap();
                model.remove(&k);
                if rng.gen_bool(0.5) {
                    run(&db.io, || c.next()).unwrap();
                    let want = model
                        .range((Bound::Excluded(k), Bound::Unbounded))
                        .next()
                        .map(|(k, v)| (*k, v.clone()));
                    assert_eq!(cursor_entry(&db, &mut c), want, "next after delete of {k}");
                } else {
                    run(&db.io, || c.prev()).unwrap();
                    let want = model.range(..k).next_back().map(|(k, v)| (*k, v.clone()));
                    assert_eq!(cursor_entry(&db, &mut c), want, "prev after delete of {k}");
                }
            } else {
                for op in [SeekOp::EQ, SeekOp::GE, SeekOp::GT, SeekOp::LE, SeekOp::LT] {
                    let found = run(&db.io, || c.seek_rowid(key, op)).unwrap();
                    let want = expected_seek(&model, key, op);
                    assert_eq!(found, want.is_some(), "seek {op:?} {key}");
                    assert_eq!(cursor_entry(&db, &mut c), want, "seek {op:?} {key}");
                }
                // A short scan from there.
                for _ in 0..3 {
                    if c.is_eof() {
                        break;
                    }
                    let k = c.rowid().unwrap();
                    run(&db.io, || c.next()).unwrap();
                    let want = model
                        .range((Bound::Excluded(k), Bound::Unbounded))
                        .next()
                        .map(|(k, _)| *k);
                    assert_eq!(
                        if c.is_eof() {
                            None
                        } else {
                            Some(c.rowid().unwrap())
                        },
                        want
                    );
                }
            }
        }
        drop(c);
        full_scan_matches(&db, root, &model);
        check_db(&db, &[(root, None)]);
        if batch % 5 == 4 {
            db.pager.rollback().unwrap();
            model = committed.clone();
            db.pager.begin_read().unwrap();
            full_scan_matches(&db, root, &model);
            check_db(&db, &[(root, None)]);
            db.pager.end_read();
        } else {
            commit(&db);
            committed = model.clone();
        }
    }
    // Empty the tree completely: every page must go back to the freelist.
    db.pager.begin_write().unwrap();
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
    run(&db.io, || c.rewind()).unwrap();
    while !c.is_eof() {
        run(&db.io, || c.delete()).unwrap();
        run(&db.io, || c.next()).unwrap();
    }
    model.clear();
    full_scan_matches(&db, root, &model);
    let stats = check_db(&db, &[(root, None)]);
    assert_eq!(stats[0].pages, vec![root], "an empty tree is its root leaf");
    commit(&db);
    let pendings = common::pending_count();
    eprintln!("page size {page_size}: {pendings} Pending results resumed");
    assert!(
        pendings > 500,
        "the deferred IO must make operations resume ({pendings})"
    );
}

#[test]
fn table_model_512() {
    model_test(512, 1, 40, 800, 3000);
}

#[test]
fn table_model_1024() {
    model_test(1024, 2, 30, 800, 5000);
}

#[test]
fn table_model_4096() {
    model_test(4096, 3, 20, 1500, 20000);
}

#[test]
fn table_model_65536() {
    model_test(65536, 4, 12, 600, 4000);
}

/// Completions in a random order (several reads in flight resolve out of order).
#[test]
fn table_model_shuffled_io() {
    let io: std::sync::Arc<dyn strata_io::IO> =
        std::sync::Arc::new(strata_io::MemoryIo::new_shuffled(77));
    model_test_on(common::open_db_on(io, 1024), 5, 15, 600, 4000);
}

#[test]
fn sequential_append_and_reverse_delete() {
    let db = open_db(1024, true);
    db.pager.set_cache_size_pages(8);
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
    for k in 0..5000i64 {
        let p = payload_for(k, (k % 50) as usize, 0);
        run(&db.io, || c.insert_rowid(k, &p)).unwrap();
    }
    let stats = check_db(&db, &[(root, None)]);
    assert_eq!(stats[0].entries, 5000);
    assert!(stats[0].depth >= 3, "depth {}", stats[0].depth);
    // In-order appends split off only the new cell (balance_quick): leaves stay full.
    // ~31 bytes per entry with its pointer, 1016 bytes per leaf: ~160 leaves when full.
    assert!(
        stats[0].leaf_pages < 190,
        "{} leaves: appends leave pages half empty",
        stats[0].leaf_pages
    );
    commit(&db);
    db.pager.begin_write().unwrap();
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
    run(&db.io, || c.last()).unwrap();
    let mut n = 0;
    while !c.is_eof() {
        run(&db.io, || c.delete()).unwrap();
        run(&db.io, || c.prev()).unwrap();
        n += 1;
        if n % 997 == 0 {
            check_db(&db, &[(root, None)]);
        }
    }
    assert_eq!(n, 5000);
    let stats = check_db(&db, &[(root, None)]);
    assert_eq!(stats[0].entries, 0);
    commit(&db);
}

/// The append fast path (`max_rowid` then inserting a larger rowid skips the descent):
/// appends through one cursor interleaved with another cursor's writes to the same tree
/// (a trigger inserting into its own table) must still land where a descent would put
/// them. Cursor `a` takes the hint, `b` appends past it (splitting leaves) or deletes the
/// last entries, then `a` inserts the rowid it computed: stale hints would append a
/// duplicate rowid at the end of a leaf that is no longer the right-most one.
#[test]
fn append_hint_survives_other_cursors_writes() {
    let db = open_db(512, true);
    db.pager.set_cache_size_pages(8);
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    commit(&db);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut model: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
    for batch in 0..12u8 {
        db.pager.begin_write().unwrap();
        let mut a = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
        let mut b = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
        for _ in 0..300 {
            let max = run(&db.io, || a.max_rowid()).unwrap();
            assert_eq!(max, model.keys().next_back().copied(), "max_rowid");
            let next = max.unwrap_or(0) + 1;
            match rng.gen_range(0..10) {
                // `b` appends a few rows past `a`'s idea of the end.
                0 => {
                    for k in next..next + rng.gen_range(1..20) {
                        let p = payload_for(k, rng.gen_range(0..200), batch ^ 0x55);
                        run(&db.io, || b.insert_rowid(k, &p)).unwrap();
                        model.insert(k, p);
                    }
                }
                // `b` deletes the last entry.
                1 => {
                    run(&db.io, || b.last()).unwrap();
                    if !b.is_eof() {
                        model.remove(&b.rowid().unwrap());
                        run(&db.io, || b.delete()).unwrap();
                    }
                }
                _ => {}
            }
            let p = payload_for(next, random_len(&mut rng, 512), batch);
            run(&db.io, || a.insert_rowid(next, &p)).unwrap();
            assert_eq!(a.rowid().unwrap(), next, "cursor on the inserted entry");
            model.insert(next, p);
        }
        drop((a, b));
        full_scan_matches(&db, root, &model);
        check_db(&db, &[(root, None)]);
        commit(&db);
    }
}

/// All rows of the tree under `c`, by rowid.
fn scan(db: &Db, c: &mut BTreeCursor) -> Vec<(i64, Vec<u8>)> {
    let mut out = Vec::new();
    run(&db.io, || c.rewind()).unwrap();
    while !c.is_eof() {
        let rowid = c.rowid().unwrap();
        let p = run(&db.io, || c.payload().map(|p| p.map(|b| b.to_vec()))).unwrap();
        out.push((rowid, p));
        run(&db.io, || c.next()).unwrap();
    }
    out
}

/// `reopen` and `park` (a statement's cursor kept for its next execution, issue 13) make
/// a cursor that behaves as a new one on the given tree, whatever the old one held: a
/// position with its payload read, an append hint, a large payload buffer.
#[test]
fn reopened_cursor_is_a_new_cursor() {
    let db = open_db(1024, true);
    db.pager.begin_write().unwrap();
    let a = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let b = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut c = BTreeCursor::new(db.pager.clone(), a, TreeKind::Table);
    for k in 1..=300i64 {
        // Row 150 spills to overflow pages (its payload buffer grows past 64 KiB).
        let len = if k == 150 { 70_000 } else { (k % 40) as usize };
        run(&db.io, || c.insert_rowid(k, &payload_for(k, len, 1))).unwrap();
    }
    let mut w = BTreeCursor::new(db.pager.clone(), b, TreeKind::Table);
    for k in [5i64, 1_000, 77] {
        run(&db.io, || w.insert_rowid(k, &payload_for(k, 9, 2))).unwrap();
    }
    let want_a = scan(
        &db,
        &mut BTreeCursor::new(db.pager.clone(), a, TreeKind::Table),
    );
    let want_b = scan(
        &db,
        &mut BTreeCursor::new(db.pager.clone(), b, TreeKind::Table),
    );
    assert_eq!(want_a.len(), 300);
    assert_eq!(want_b.len(), 3);

    // Positioned on the big row with its payload read, and an append hint taken.
    run(&db.io, || c.seek_rowid(150, SeekOp::EQ)).unwrap();
    let big = run(&db.io, || c.payload().map(|p| p.map(|b| b.len()))).unwrap();
    assert_eq!(big, 70_000);
    assert_eq!(run(&db.io, || c.max_rowid()).unwrap(), Some(300));
    c.reopen(db.pager.clone(), b, TreeKind::Table);
    assert!(c.is_eof(), "a reopened cursor is on no entry");
    assert_eq!(scan(&db, &mut c), want_b);
    assert_eq!(run(&db.io, || c.max_rowid()).unwrap(), Some(1_000));
    // Parked, then reopened on the first tree: its rows, and appends land at its end.
    c.park();
    assert!(c.is_eof());
    c.reopen(db.pager.clone(), a, TreeKind::Table);
    assert_eq!(run(&db.io, || c.max_rowid()).unwrap(), Some(300));
    run(&db.io, || c.insert_rowid(301, &payload_for(301, 3, 1))).unwrap();
    let mut want = want_a.clone();
    want.push((301, payload_for(301, 3, 1)));
    assert_eq!(scan(&db, &mut c), want);
    // The second tree is unchanged by any of it.
    c.reopen(db.pager.clone(), b, TreeKind::Table);
    assert_eq!(scan(&db, &mut c), want_b);
    check_db(&db, &[(a, None), (b, None)]);
    commit(&db);
}

/// An insert that fits in its leaf with no overflow chain reports itself as a leaf-only
/// write (`take_local_write`, what lets cursors on other trees keep their hints); one
/// that writes an overflow chain does not.
#[test]
fn only_an_insert_without_overflow_is_a_local_write() {
    let db = open_db(1024, false);
    db.pager.begin_write().unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    run(&db.io, || tc.insert_rowid(1, &[1u8; 50])).unwrap();
    let w = tc.take_local_write().expect("a small row: leaf-only");
    assert!(w.after > w.before);
    assert!(tc.take_local_write().is_none(), "taken once");
    run(&db.io, || tc.insert_rowid(2, &[2u8; 3000])).unwrap();
    assert!(
        tc.take_local_write().is_none(),
        "an overflow chain written: not leaf-only"
    );
    commit(&db);
}

/// With the append hint held (`max_rowid`, then appends through the same cursor, as a
/// multi-row INSERT does), an insert of a rowid that is not above the largest one is an
/// ordinary insert: the largest rowid itself replaces its row, and a smaller one goes in
/// its place, neither appended after the last entry.
#[test]
fn an_insert_not_past_the_largest_rowid_ignores_the_append_hint() {
    let db = open_db(512, false);
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
    let mut model = BTreeMap::new();
    for k in (2..=80i64).step_by(2) {
        let max = run(&db.io, || c.max_rowid()).unwrap();
        assert_eq!(max, model.keys().next_back().copied());
        let p = payload_for(k, 30, 1);
        run(&db.io, || c.insert_rowid(k, &p)).unwrap();
        model.insert(k, p);
    }
    for (k, salt) in [(80i64, 2u8), (79, 3), (80, 4), (40, 5)] {
        // The hint taken again before each.
        assert_eq!(run(&db.io, || c.max_rowid()).unwrap(), Some(80));
        let p = payload_for(k, 30, salt);
        run(&db.io, || c.insert_rowid(k, &p)).unwrap();
        assert_eq!(c.rowid().unwrap(), k, "cursor on the inserted entry");
        model.insert(k, p);
    }
    full_scan_matches(&db, root, &model);
    check_db(&db, &[(root, None)]);
    commit(&db);
}

/// Only a write that neither writes nor frees an overflow chain is leaf-only: an insert
/// whose overflow chain is written while its local part fits in the leaf, and a
/// replacement that frees the old row's chain (the new row has none), both change
/// freelist or overflow pages besides the leaf.
#[test]
fn a_write_that_writes_or_frees_a_chain_is_not_a_local_write() {
    let db = open_db(1024, false);
    db.pager.begin_write().unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut tc = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    // 1100 bytes on 1024-byte pages: 103 bytes local (the minimum), one overflow page.
    run(&db.io, || tc.insert_rowid(1, &payload_for(1, 1100, 1))).unwrap();
    assert!(
        tc.take_local_write().is_none(),
        "an overflow chain written: not leaf-only"
    );
    run(&db.io, || tc.insert_rowid(1, &payload_for(1, 20, 2))).unwrap();
    assert!(
        tc.take_local_write().is_none(),
        "the old row's chain freed: not leaf-only"
    );
    run(&db.io, || tc.insert_rowid(1, &payload_for(1, 30, 3))).unwrap();
    assert!(
        tc.take_local_write().is_some(),
        "a small row over a small row"
    );
    let stats = check_db(&db, &[(table, None)]);
    assert_eq!(stats[0].entries, 1);
    commit(&db);
}

/// Rows inserted past the largest rowid after `max_rowid` (an INSERT's NewRowid, then
/// Insert) go to the end of the right-most leaf by the append hint, never descending from
/// the root, splits and all; a rowid inside the table descends. Both reach the place a
/// descent would, so only `insert_descents` tells them apart.
#[test]
fn appends_after_max_rowid_take_the_append_hint() {
    let db = open_db(1024, false);
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Table);
    let mut model = BTreeMap::new();
    for k in 1..=3000i64 {
        let next = run(&db.io, || c.max_rowid()).unwrap().unwrap_or(0) + 1;
        assert_eq!(next, k);
        let p = payload_for(k, 40, 1);
        run(&db.io, || c.insert_rowid(k, &p)).unwrap();
        model.insert(k, p);
    }
    // The first, into the empty tree, descends (`max_rowid` found no leaf to hold).
    assert_eq!(c.insert_descents(), 1, "appends by the hint");
    let p = payload_for(1500, 40, 2);
    run(&db.io, || c.insert_rowid(1500, &p)).unwrap();
    model.insert(1500, p);
    assert_eq!(
        c.insert_descents(),
        2,
        "a replacement inside the table descends"
    );
    drop(c);
    full_scan_matches(&db, root, &model);
    let stats = check_db(&db, &[(root, None)]);
    assert!(stats[0].depth >= 2);
    commit(&db);
}
