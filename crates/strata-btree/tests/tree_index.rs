//! Index B-trees against a sorted-vector model ordered by `compare_records`: random
//! inserts (equal keys replace), deletes (including entries on interior pages), prefix
//! seeks with all five operations, scans both ways; keys large enough to spill to
//! overflow pages; NOCASE and DESC columns; deferred IO with a tiny cache.

mod common;

use std::cmp::Ordering;
use std::sync::Arc;

use common::{check_db, commit, open_db, run, Db};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strata_btree::record::{
    compare_record_to_key, compare_records, encode_record, Collation, KeyInfo, SortOrder, Value,
};
use strata_btree::{create_btree, BTreeCursor, BTreeType, SeekOp, TreeKind};

fn key_info() -> KeyInfo {
    KeyInfo {
        fields: vec![
            (Collation::Binary, SortOrder::Asc),
            (Collation::NoCase, SortOrder::Desc),
            (Collation::Binary, SortOrder::Asc),
        ],
        ..Default::default()
    }
}

fn random_text(rng: &mut ChaCha8Rng, page_size: usize) -> Vec<u8> {
    let len = match rng.gen_range(0..100) {
        0..=69 => rng.gen_range(0..4),
        70..=94 => rng.gen_range(0..page_size / 4),
        _ => rng.gen_range(0..2 * page_size),
    };
    (0..len)
        .map(|_| *b"aAbB".get(rng.gen_range(0..4)).unwrap_or(&b'a'))
        .collect()
}

fn random_values(rng: &mut ChaCha8Rng, page_size: usize) -> Vec<Value> {
    let first = match rng.gen_range(0..10) {
        0 => Value::Null,
        1..=6 => Value::Integer(rng.gen_range(0..40)),
        7 => Value::Real(rng.gen_range(0..40) as f64 + 0.5),
        _ => Value::Text(random_text(rng, page_size)),
    };
    vec![
        first,
        Value::Text(random_text(rng, page_size)),
        Value::Integer(rng.gen_range(0..30)),
    ]
}

fn encode(values: &[Value]) -> Vec<u8> {
    let refs: Vec<_> = values.iter().map(|v| v.as_ref()).collect();
    let mut out = Vec::new();
    encode_record(&refs, &mut out);
    out
}

/// The model: records sorted by `compare_records`, no two equal.
struct Model {
    ki: KeyInfo,
    entries: Vec<Vec<u8>>,
}

impl Model {
    fn find(&self, rec: &[u8]) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| compare_records(e, rec, &self.ki).unwrap())
    }
    fn insert(&mut self, rec: Vec<u8>) {
        match self.find(&rec) {
            Ok(i) => self.entries[i] = rec,
            Err(i) => self.entries.insert(i, rec),
        }
    }
    fn cmp_key(&self, e: &[u8], key: &[Value]) -> Ordering {
        compare_record_to_key(e, key, &self.ki).unwrap()
    }
    fn seek(&self, key: &[Value], op: SeekOp) -> Option<&Vec<u8>> {
        let first_ge = self
            .entries
            .partition_point(|e| self.cmp_key(e, key) == Ordering::Less);
        let first_gt = self
            .entries
            .partition_point(|e| self.cmp_key(e, key) != Ordering::Greater);
        match op {
            SeekOp::GE => self.entries.get(first_ge),
            SeekOp::GT => self.entries.get(first_gt),
            SeekOp::LE => first_gt.checked_sub(1).and_then(|i| self.entries.get(i)),
            SeekOp::LT => first_ge.checked_sub(1).and_then(|i| self.entries.get(i)),
            SeekOp::EQ => self
                .entries
                .get(first_ge)
                .filter(|e| self.cmp_key(e, key) == Ordering::Equal),
        }
    }
}

fn current(db: &Db, c: &mut BTreeCursor) -> Option<Vec<u8>> {
    if c.is_eof() {
        return None;
    }
    Some(run(&db.io, || c.payload().map(|p| p.map(|b| b.to_vec()))).unwrap())
}

fn scan_matches(db: &Db, root: u32, ki: &Arc<KeyInfo>, model: &Model) {
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    run(&db.io, || c.rewind()).unwrap();
    let mut got = Vec::new();
    while let Some(e) = current(db, &mut c) {
        got.push(e);
        run(&db.io, || c.next()).unwrap();
    }
    assert_eq!(got.len(), model.entries.len(), "forward scan length");
    assert!(got == model.entries, "forward scan differs");
    run(&db.io, || c.last()).unwrap();
    let mut back = Vec::new();
    while let Some(e) = current(db, &mut c) {
        back.push(e);
        run(&db.io, || c.prev()).unwrap();
    }
    back.reverse();
    assert!(back == model.entries, "backward scan differs");
}

fn index_model_test(page_size: usize, seed: u64, batches: usize, ops_per_batch: usize) {
    let db = open_db(page_size, true);
    db.pager.set_cache_size_pages(8);
    let ki = Arc::new(key_info());
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    commit(&db);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut model = Model {
        ki: key_info(),
        entries: Vec::new(),
    };
    let mut committed = model.entries.clone();
    for batch in 0..batches {
        db.pager.begin_write().unwrap();
        let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
        let delete_heavy = batch % 4 == 3;
        for _ in 0..ops_per_batch {
            let r = rng.gen_range(0..100);
            let values = random_values(&mut rng, page_size);
            if r < (if delete_heavy { 15 } else { 55 }) {
                let rec = encode(&values);
                run(&db.io, || c.insert_index(&rec)).unwrap();
                assert_eq!(
                    current(&db, &mut c).as_ref(),
                    Some(&rec),
                    "cursor on the inserted entry"
                );
                model.insert(rec);
            } else if r < 80 {
                let prefix = &values[..rng.gen_range(1..=2)];
                if !run(&db.io, || c.seek_index(prefix, SeekOp::GE)).unwrap() {
                    continue;
                }
                let rec = current(&db, &mut c).unwrap();
                run(&db.io, || c.delete()).unwrap();
                let i = model.find(&rec).expect("deleted entry was in the model");
                model.entries.remove(i);
                if rng.gen_bool(0.5) {
                    run(&db.io, || c.next()).unwrap();
                    assert_eq!(
                        current(&db, &mut c).as_ref(),
                        model.entries.get(i),
                        "next after delete"
                    );
                } else {
                    run(&db.io, || c.prev()).unwrap();
                    let want = i.checked_sub(1).and_then(|j| model.entries.get(j));
                    assert_eq!(current(&db, &mut c).as_ref(), want, "prev after delete");
                }
            } else {
                let prefix = &values[..rng.gen_range(1..=3)];
                for op in [SeekOp::EQ, SeekOp::GE, SeekOp::GT, SeekOp::LE, SeekOp::LT] {
                    let found = run(&db.io, || c.seek_index(prefix, op)).unwrap();
                    let want = model.seek(prefix, op);
                    assert_eq!(found, want.is_some(), "seek {op:?} {prefix:?}");
                    assert_eq!(current(&db, &mut c).as_ref(), want, "seek {op:?}");
                }
            }
        }
        drop(c);
        scan_matches(&db, root, &ki, &model);
        let stats = check_db(&db, &[(root, Some(&ki))]);
        if batch == batches / 2 {
            eprintln!(
                "page size {page_size}: {} entries, depth {}, {} interior, {} leaf, {} overflow pages",
                stats[0].entries, stats[0].depth, stats[0].interior_pages, stats[0].leaf_pages, stats[0].overflow_pages
            );
            assert!(stats[0].depth >= 2 && stats[0].overflow_pages > 0);
        }
        if batch % 5 == 4 {
            db.pager.rollback().unwrap();
            model.entries = committed.clone();
            db.pager.begin_read().unwrap();
            scan_matches(&db, root, &ki, &model);
            db.pager.end_read();
        } else {
            commit(&db);
            committed = model.entries.clone();
        }
    }
    // Delete everything through a forward scan.
    db.pager.begin_write().unwrap();
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    run(&db.io, || c.rewind()).unwrap();
    let mut n = 0;
    while !c.is_eof() {
        run(&db.io, || c.delete()).unwrap();
        run(&db.io, || c.next()).unwrap();
        n += 1;
    }
    assert_eq!(n, model.entries.len());
    model.entries.clear();
    scan_matches(&db, root, &ki, &model);
    let stats = check_db(&db, &[(root, Some(&ki))]);
    assert_eq!(stats[0].pages, vec![root]);
    commit(&db);
    assert!(
        common::pending_count() > 500,
        "operations must have resumed after Pending"
    );
}

#[test]
fn index_model_512() {
    index_model_test(512, 11, 30, 800);
}

#[test]
fn index_model_1024() {
    index_model_test(1024, 12, 25, 800);
}

#[test]
fn index_model_4096() {
    index_model_test(4096, 13, 16, 1200);
}

#[test]
fn index_model_65536() {
    index_model_test(65536, 14, 8, 500);
}

/// `append_index` (CREATE INDEX's bulk load): ascending keys go at the right edge without
/// a descent; a key that does not sort after the last entry (out of order, equal, after a
/// seek moved the cursor) falls back to an ordinary insert. The tree always matches the
/// model and passes the integrity check, with overflow records and a tiny cache on the
/// deferred IO.
#[test]
fn append_index_matches_the_model() {
    for page_size in [512, 4096] {
        let db = open_db(page_size, true);
        db.pager.set_cache_size_pages(8);
        let ki = Arc::new(key_info());
        db.pager.begin_write().unwrap();
        let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(page_size as u64);
        let mut model = Model {
            ki: key_info(),
            entries: Vec::new(),
        };
        let mut sorted: Vec<Vec<u8>> = (0..3000)
            .map(|_| encode(&random_values(&mut rng, page_size)))
            .collect();
        sorted.sort_by(|a, b| compare_records(a, b, &ki).unwrap());
        let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
        for (i, rec) in sorted.iter().enumerate() {
            let rec = match i % 97 {
                // Out of order: an earlier key again (replaced) or a random one.
                5 => sorted[i / 2].clone(),
                6 => encode(&random_values(&mut rng, page_size)),
                _ => rec.clone(),
            };
            if i % 89 == 7 {
                // Another position of this cursor.
                let key = random_values(&mut rng, page_size);
                run(&db.io, || c.seek_index(&key[..1], SeekOp::GE)).unwrap();
            }
            run(&db.io, || c.append_index(&rec)).unwrap();
            assert_eq!(
                current(&db, &mut c).as_ref(),
                Some(&rec),
                "on the new entry"
            );
            model.insert(rec);
        }
        drop(c);
        scan_matches(&db, root, &ki, &model);
        let stats = check_db(&db, &[(root, Some(&ki))]);
        assert!(stats[0].depth >= 2, "a multi-level tree");
        commit(&db);
    }
}

/// `append_index` with another cursor writing the same tree between appends: the other
/// cursor's inserts land at the right edge and split the leaf (and the root) this cursor
/// holds. Both guards send such an append through a descent: the re-check of the held
/// path (each level on its right child, fresh headers) and the pager's change counter
/// (either alone passes this test; together they cover what each misses).
#[test]
fn append_index_with_another_writer_between_appends() {
    let page_size = 512;
    let db = open_db(page_size, true);
    db.pager.set_cache_size_pages(8);
    let ki = Arc::new(key_info());
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut model = Model {
        ki: key_info(),
        entries: Vec::new(),
    };
    let mut sorted: Vec<Vec<u8>> = (0..2000)
        .map(|_| encode(&random_values(&mut rng, page_size)))
        .collect();
    sorted.sort_by(|a, b| compare_records(a, b, &ki).unwrap());
    sorted.dedup_by(|a, b| compare_records(a, b, &ki).unwrap().is_eq());
    let mut a = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    let mut b = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    let (mine, theirs): (Vec<_>, Vec<_>) = sorted
        .chunks(2)
        .map(|p| (p[0].clone(), p.get(1).cloned()))
        .unzip();
    for (i, rec) in mine.iter().enumerate() {
        run(&db.io, || a.append_index(rec)).unwrap();
        model.insert(rec.clone());
        // Every few appends the other cursor puts a larger key at the right edge.
        if i % 3 == 0 {
            if let Some(Some(other)) = theirs.get(i) {
                run(&db.io, || b.insert_index(other)).unwrap();
                model.insert(other.clone());
            }
        }
    }
    drop((a, b));
    scan_matches(&db, root, &ki, &model);
    check_db(&db, &[(root, Some(&ki))]);
    commit(&db);
}

/// A sorted stream through `append_index` fills its leaves, as SQLite's bulk load does:
/// when the right-most leaf is full, the next key starts a new leaf and the full leaf's
/// last entry moves up as the divider (`split_at_edge`: no descent, no balance). The
/// general balance of an append fills them too, so this checks the property, not which
/// path ran; the model tests above run both paths (the split whenever the parent has
/// room) and the integrity check.
#[test]
fn append_index_fills_leaves_on_a_sorted_stream() {
    let page_size = 4096;
    let db = open_db(page_size, true);
    let ki = Arc::new(key_info());
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    let mut model = Model {
        ki: key_info(),
        entries: Vec::new(),
    };
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    let count = 20_000;
    let mut cell_bytes = 0;
    for i in 0..count {
        let rec = encode(&[
            Value::Integer(i),
            Value::Text(format!("value-{i:016x}").into_bytes()),
        ]);
        // Payload size varint, payload, cell pointer.
        cell_bytes += 1 + rec.len() + 2;
        run(&db.io, || c.append_index(&rec)).unwrap();
        model.insert(rec);
    }
    drop(c);
    scan_matches(&db, root, &ki, &model);
    let stats = check_db(&db, &[(root, Some(&ki))]);
    let full_leaves = cell_bytes.div_ceil(page_size - 8) as u64;
    assert!(
        stats[0].leaf_pages <= full_leaves + full_leaves / 20 + 1,
        "{} leaves where full ones would be {full_leaves}",
        stats[0].leaf_pages
    );
    commit(&db);
}

/// Integer first fields of every stored size (serial types 1-6, 8, 9; both signs, at each
/// size's limits) among NULLs, reals and texts, under ASC and DESC, on small and large
/// pages (interior levels too): every seek of every operation, for one- and two-field
/// prefix keys at, between and beyond the stored values, lands where the model says. The
/// descent reads such fields straight from the page (`index_cell_first_int`, issue 13);
/// this is the test of that shortcut's decoding and bounds.
#[test]
fn integer_first_fields_of_every_size_seek_as_the_model() {
    let mut ints: Vec<i64> = vec![0, 1, -1, 2];
    for bytes in [1u32, 2, 3, 4, 6, 8] {
        let max = if bytes == 8 {
            i64::MAX
        } else {
            (1i64 << (8 * bytes - 1)) - 1
        };
        let min = if bytes == 8 { i64::MIN } else { -max - 1 };
        ints.extend([max, min, max - 1, min + 1, max / 3, min / 3]);
    }
    ints.sort();
    ints.dedup();
    for (page_size, order) in [
        (512, SortOrder::Asc),
        (512, SortOrder::Desc),
        (4096, SortOrder::Asc),
    ] {
        let ki_value = KeyInfo {
            fields: vec![
                (Collation::Binary, order),
                (Collation::Binary, SortOrder::Asc),
            ],
            ..Default::default()
        };
        let ki = Arc::new(ki_value.clone());
        let db = open_db(page_size, false);
        db.pager.begin_write().unwrap();
        let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
        let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
        let mut model = Model {
            ki: ki_value,
            entries: Vec::new(),
        };
        let mut firsts: Vec<Value> = ints.iter().map(|&i| Value::Integer(i)).collect();
        firsts.extend([Value::Null, Value::Real(0.5), Value::Text(b"t".to_vec())]);
        for (n, first) in firsts.iter().enumerate() {
            // Enough entries per value for several leaves and an interior level.
            for second in 0..(12 + n as i64 % 5) {
                let rec = encode(&[first.clone(), Value::Integer(second * 7)]);
                run(&db.io, || c.insert_index(&rec)).unwrap();
                model.insert(rec);
            }
        }
        let stats = check_db(&db, &[(root, Some(&ki))]);
        assert!(stats[0].depth >= 2, "page size {page_size}: one level only");
        let mut probes: Vec<i64> = Vec::new();
        for &i in &ints {
            probes.extend([i, i.saturating_add(1), i.saturating_sub(1)]);
        }
        for &p in &probes {
            for key in [
                vec![Value::Integer(p)],
                vec![Value::Integer(p), Value::Integer(35)],
                vec![Value::Integer(p), Value::Integer(36)],
            ] {
                for op in [SeekOp::EQ, SeekOp::GE, SeekOp::GT, SeekOp::LE, SeekOp::LT] {
                    let found = run(&db.io, || c.seek_index(&key, op)).unwrap();
                    let want = model.seek(&key, op);
                    assert_eq!(
                        found,
                        want.is_some(),
                        "{page_size} {order:?}: seek {op:?} {key:?}"
                    );
                    assert_eq!(
                        current(&db, &mut c).as_ref(),
                        want,
                        "{page_size} {order:?}: seek {op:?} {key:?}"
                    );
                }
            }
        }
        drop(c);
        commit(&db);
    }
}

/// The child page numbers of an interior page, left to right (none for a leaf).
fn children(db: &Db, page_no: u32) -> Vec<u32> {
    use strata_btree::page::PageHeader;
    let usable = db.pager.usable_size();
    let page = common::load_page(db, page_no).unwrap();
    let data = page.data();
    let h = PageHeader::parse(&data, page_no, usable).unwrap();
    if h.page_type.is_leaf() {
        return Vec::new();
    }
    (0..=h.cell_count)
        .map(|i| h.child(&data, i, usable).unwrap())
        .collect()
}

/// `append_index` after another cursor reshaped the tree so that the path the appending
/// cursor holds passes every re-check but is no longer the right edge: the root split into
/// leaves 3 and 4 (the cursor holds root, cell 1 of 1, and leaf 4), the other cursor
/// deleted down to two entries (the root a leaf again, 4 and 3 freed), a new tree took page
/// 3, and the other cursor's inserts split the root into leaves 4 and 5. The held path
/// still reads as the right edge (the root on its child after its only cell, page 4 a leaf
/// whose last key sorts before the new one), but 4 is now the left leaf: only the pager's
/// change counter tells the cursor to descend. Without that check the key went at the end
/// of leaf 4, before the divider, and the scan came out of order.
#[test]
fn append_index_after_the_held_leaf_became_a_left_child() {
    let page_size = 512;
    let db = open_db(page_size, false);
    let ki = Arc::new(key_info());
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    let mut model = Model {
        ki: key_info(),
        entries: Vec::new(),
    };
    let rec = |k: i64| {
        encode(&[
            Value::Integer(k),
            Value::Text(format!("{k:030}").into_bytes()),
        ])
    };
    let mut a = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    let mut b = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    let mut k = 1000i64;
    let append = |a: &mut BTreeCursor, model: &mut Model, k: i64| {
        let r = rec(k);
        run(&db.io, || a.append_index(&r)).unwrap();
        model.insert(r);
    };
    while children(&db, root).is_empty() {
        k += 10;
        append(&mut a, &mut model, k);
    }
    // One more append, on the edge path: the cursor holds (root, 1), (4, last).
    k += 10;
    append(&mut a, &mut model, k);
    assert_eq!(children(&db, root), vec![3, 4]);
    while model.entries.len() > 2 {
        run(&db.io, || b.last()).unwrap();
        let e = current(&db, &mut b).unwrap();
        run(&db.io, || b.delete()).unwrap();
        let at = model.find(&e).unwrap();
        model.entries.remove(at);
    }
    assert!(children(&db, root).is_empty(), "the root is a leaf again");
    let other = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    assert_eq!(other, 3);
    let mut j = 0;
    while children(&db, root).is_empty() {
        j += 1;
        let r = rec(j);
        run(&db.io, || b.insert_index(&r)).unwrap();
        model.insert(r);
    }
    assert_eq!(
        children(&db, root),
        vec![4, 5],
        "the held leaf 4 is the left one"
    );
    k += 10;
    append(&mut a, &mut model, k);
    assert_eq!(current(&db, &mut a), Some(rec(k)), "on the new entry");
    drop((a, b));
    scan_matches(&db, root, &ki, &model);
    check_db(&db, &[(root, Some(&ki)), (other, Some(&ki))]);
    commit(&db);
}

/// `append_index` right after a seek that left the cursor on an entry of an interior page
/// (the root's last divider, found by `seek_index(EQ)`): no page changed since the last
/// append, so the change counter still vouches for the held path, but its top is that
/// interior page. The append must take the ordinary insert (a new key goes into a leaf);
/// without the check that the top is a leaf, the key went into the root as an interior
/// cell with no left child.
#[test]
fn append_index_after_a_seek_to_an_interior_entry() {
    use strata_btree::page::{parse_cell, PageHeader, PageType};
    let page_size = 512;
    let db = open_db(page_size, false);
    let ki = Arc::new(key_info());
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    let mut model = Model {
        ki: key_info(),
        entries: Vec::new(),
    };
    let rec_values = |k: i64| {
        vec![
            Value::Integer(k),
            Value::Text(format!("{k:030}").into_bytes()),
        ]
    };
    let mut a = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    let mut k = 0;
    while children(&db, root).len() < 4 {
        k += 10;
        let r = encode(&rec_values(k));
        run(&db.io, || a.append_index(&r)).unwrap();
        model.insert(r);
    }
    // The root's last divider, an entry of the tree.
    let divider = {
        let page = common::load_page(&db, root).unwrap();
        let data = page.data();
        let usable = db.pager.usable_size();
        let h = PageHeader::parse(&data, root, usable).unwrap();
        assert_eq!(h.page_type, PageType::IndexInterior);
        let off = h.cell_offset(&data, h.cell_count - 1, usable).unwrap();
        let info = parse_cell(&data, h.page_type, off, usable).unwrap();
        data[info.payload_offset..info.payload_offset + info.local_size].to_vec()
    };
    let values: Vec<Value> = strata_btree::record::decode_record(&divider)
        .unwrap()
        .iter()
        .map(|v| v.to_owned())
        .collect();
    assert!(run(&db.io, || a.seek_index(&values, SeekOp::EQ)).unwrap());
    assert_eq!(current(&db, &mut a), Some(divider));
    k += 10;
    let r = encode(&rec_values(k));
    run(&db.io, || a.append_index(&r)).unwrap();
    model.insert(r.clone());
    assert_eq!(current(&db, &mut a), Some(r), "on the new entry");
    drop(a);
    scan_matches(&db, root, &ki, &model);
    check_db(&db, &[(root, Some(&ki))]);
    commit(&db);
}

/// The shortcuts of an index insert are taken, not just harmless: a sorted stream through
/// `append_index` descends from the root once (its first key), every later key going to
/// the right edge by the fast path, its leaf split, or the held path (`at_append_point`);
/// an `insert_index` right after a `seek_index(EQ)` of its key that found nothing starts
/// where the probe ended (the probe hint). Each shortcut reaches the place a descent
/// would, so only `insert_descents` tells them apart from a descent.
#[test]
fn index_inserts_take_their_shortcuts() {
    let db = open_db(1024, false);
    let ki = Arc::new(key_info());
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    let rec_values = |k: i64| {
        vec![
            Value::Integer(k),
            Value::Text(format!("value-{k:016x}").into_bytes()),
        ]
    };
    let mut model = Model {
        ki: key_info(),
        entries: Vec::new(),
    };
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    for k in 0..5000i64 {
        let r = encode(&rec_values(2 * k));
        run(&db.io, || c.append_index(&r)).unwrap();
        model.insert(r);
    }
    assert_eq!(
        c.insert_descents(),
        1,
        "a sorted stream: only its first key descends"
    );
    let stats = check_db(&db, &[(root, Some(&ki))]);
    assert!(stats[0].depth >= 3, "a three-level tree");
    // Odd keys between the even ones: a UNIQUE-style probe, then the insert.
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    let mut inserted = 0;
    while inserted < 300 {
        let k = 2 * rng.gen_range(0..5000i64) + 1;
        let values = rec_values(k);
        if run(&db.io, || c.seek_index(&values, SeekOp::EQ)).unwrap() {
            continue;
        }
        let r = encode(&values);
        run(&db.io, || c.insert_index(&r)).unwrap();
        model.insert(r);
        inserted += 1;
    }
    assert_eq!(
        c.insert_descents(),
        0,
        "each insert where its failed probe ended"
    );
    drop(c);
    scan_matches(&db, root, &ki, &model);
    check_db(&db, &[(root, Some(&ki))]);
    commit(&db);
}

/// A delete of an index entry on an interior page walks down to its predecessor; the walk
/// is bounded (`DEPTH_MAX` = 20 levels, as the cursor's own stack), and a tree exactly that
/// deep is not "too deep". Built by hand on 512-byte pages: the entry's page holds one
/// entry, key 100, whose left subtree is a chain of cell-less interior pages (each one's
/// right child the next) ending in a leaf of keys 1-8, its right child a leaf of key 200;
/// above it, cell-less interior pages up to the root. The seek to 100 and the walk to its
/// predecessor, 8, which takes its place (the leaf keeps seven cells: no balance), go 20
/// levels down: with the entry in the root and 18 pages in the chain, and with the entry
/// two levels down and 16 in the chain (the walk's bound then counts the levels above).
#[test]
fn an_interior_delete_walks_to_a_predecessor_twenty_levels_down() {
    interior_delete_at_depth(0, 18);
    interior_delete_at_depth(2, 16);
}

fn interior_delete_at_depth(above: usize, chain: usize) {
    use strata_btree::page::{init_page, insert_cell, pad_cell, push_cell_header, PageType};
    let db = open_db(512, false);
    let usable = db.pager.usable_size();
    let ki = Arc::new(key_info());
    db.pager.begin_write().unwrap();
    let root = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    let rec = |k: i64| {
        encode(&[
            Value::Integer(k),
            Value::Text(format!("{k:030}").into_bytes()),
        ])
    };
    let cell = |page_type: PageType, left: u32, k: i64| {
        let r = rec(k);
        let mut c = Vec::new();
        push_cell_header(&mut c, page_type, left, 0, r.len() as u64);
        c.extend_from_slice(&r);
        pad_cell(&mut c);
        c
    };
    let new_page = |page_type: PageType, cells: &[Vec<u8>], right: u32| {
        let p = db.pager.append_page().unwrap();
        let no = p.page_no();
        let mut d = p.data_mut();
        init_page(&mut d, no, usable, page_type);
        if right != 0 {
            d[8..12].copy_from_slice(&right.to_be_bytes());
        }
        for (i, c) in cells.iter().enumerate() {
            assert!(insert_cell(&mut d, no, usable, i, c).unwrap());
        }
        no
    };
    let leaf_cells: Vec<_> = (1..=8).map(|k| cell(PageType::IndexLeaf, 0, k)).collect();
    let mut child = new_page(PageType::IndexLeaf, &leaf_cells, 0);
    for _ in 0..chain {
        child = new_page(PageType::IndexInterior, &[], child);
    }
    let right = new_page(PageType::IndexLeaf, &[cell(PageType::IndexLeaf, 0, 200)], 0);
    // The entry's page, then `above` cell-less interior pages over it, the root last.
    let mut pages = vec![(vec![cell(PageType::IndexInterior, child, 100)], right)];
    for _ in 0..above {
        pages.push((Vec::new(), 0));
    }
    let mut below = 0;
    for (i, (cells, right)) in pages.iter().enumerate() {
        let right = if i == 0 { *right } else { below };
        below = if i + 1 == pages.len() {
            let p = common::load_page(&db, root).unwrap();
            db.pager.mark_dirty(&p).unwrap();
            let mut d = p.data_mut();
            init_page(&mut d, root, usable, PageType::IndexInterior);
            d[8..12].copy_from_slice(&right.to_be_bytes());
            for (j, c) in cells.iter().enumerate() {
                assert!(insert_cell(&mut d, root, usable, j, c).unwrap());
            }
            root
        } else {
            new_page(PageType::IndexInterior, cells, right)
        };
    }
    let mut c = BTreeCursor::new(db.pager.clone(), root, TreeKind::Index(ki.clone()));
    let key: Vec<Value> = vec![
        Value::Integer(100),
        Value::Text(format!("{:030}", 100).into_bytes()),
    ];
    assert!(run(&db.io, || c.seek_index(&key, SeekOp::EQ)).unwrap());
    run(&db.io, || c.delete()).unwrap_or_else(|e| panic!("{above} above, {chain}: {e}"));
    let mut model = Model {
        ki: key_info(),
        entries: Vec::new(),
    };
    for k in (1..=8).chain([200]) {
        model.insert(rec(k));
    }
    drop(c);
    scan_matches(&db, root, &ki, &model);
}
