//! Model-based property tests of the B-tree: a table B-tree against a `BTreeMap` and an
//! index B-tree against a `BTreeSet`, under random insert / delete / seek / scan / commit /
//! rollback sequences, on `MemoryIo` in deferred mode (every page read goes through
//! `Pending`) with 512-byte pages so that splits, merges and overflow chains are frequent.
//! proptest shrinks a failing sequence to a minimal one; one quickcheck property as well.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use strata_btree::record::{decode_record, encode_values, Collation, KeyInfo, SortOrder, Value};
use strata_btree::{BTreeCursor, SeekOp, TreeKind};
use strata_io::{MemoryIo, Poll, IO};
use strata_pager::{Pager, Storage, StorageOptions, SyncMode};

const PAGE_SIZE: usize = 512;
const PATH: &str = "/model.db";

fn drive<T, E: std::fmt::Debug>(
    io: &dyn IO,
    mut op: impl FnMut() -> Result<Poll<T>, E>,
) -> Result<T, E> {
    let mut n = 0u64;
    loop {
        match op()? {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending => {
                n += 1;
                assert!(n < 1_000_000, "operation stuck in Pending");
                // Every other time, call again *before* any I/O completes: a resumable
                // operation must not have changed anything (or must continue, not repeat).
                if n % 2 == 1 {
                    continue;
                }
                io.run_once().unwrap();
            }
        }
    }
}

fn payload_of(io: &dyn IO, cur: &mut BTreeCursor) -> Vec<u8> {
    loop {
        match cur.payload().expect("payload") {
            Poll::Ready(p) => return p.to_vec(),
            Poll::Pending => io.run_once().unwrap(),
        }
    }
}

fn options() -> StorageOptions {
    StorageOptions {
        page_size: PAGE_SIZE,
        reserved_bytes: 0,
        cache_size_pages: 64,
        sync_mode: SyncMode::Off,
        autocheckpoint_frames: 50,
    }
}

/// A fresh database with one empty tree of the given kind, committed.
fn setup(kind: strata_btree::BTreeType) -> (Arc<MemoryIo>, Arc<Storage>, Arc<Pager>, u32) {
    setup_io(kind, None)
}

/// As [`setup`]; `shuffle`: complete I/O in a random order drawn from this seed.
fn setup_io(
    kind: strata_btree::BTreeType,
    shuffle: Option<u64>,
) -> (Arc<MemoryIo>, Arc<Storage>, Arc<Pager>, u32) {
    let mem = Arc::new(match shuffle {
        Some(seed) => MemoryIo::new_shuffled(seed),
        None => MemoryIo::new_deferred(),
    });
    let io: Arc<dyn IO> = mem.clone();
    let storage = Storage::open(io.clone(), PATH, options()).unwrap();
    let pager = storage.pager();
    pager.begin_write().unwrap();
    let root = drive(io.as_ref(), || strata_btree::create_btree(&pager, kind)).unwrap();
    drive(io.as_ref(), || pager.commit()).unwrap();
    (mem, storage, pager, root)
}

/// Deterministic payload: length `len`, bytes derived from the rowid and a tag.
fn payload(rowid: i64, len: usize, tag: u8) -> Vec<u8> {
    let seed = (rowid as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ tag as u64;
    (0..len)
        .map(|i| (seed.rotate_left((i % 64) as u32) as u8).wrapping_add(i as u8))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Table B-tree vs BTreeMap
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum TableOp {
    Insert {
        rowid: i64,
        len: usize,
        tag: u8,
    },
    /// Delete the existing entry at position `pick % len`, then step `forward` or back.
    Delete {
        pick: usize,
        forward: bool,
    },
    DeleteMissing {
        rowid: i64,
    },
    Seek {
        rowid: i64,
        op: usize,
    },
    Scan,
    ScanBack,
    Commit,
    Rollback,
}

fn rowid_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => -20i64..400,
        1 => any::<i64>(),
        1 => Just(i64::MIN),
        1 => Just(i64::MAX),
    ]
}

fn len_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![
        6 => 0usize..60,
        2 => 60usize..480,
        2 => 480usize..3000,
    ]
}

fn table_op() -> impl Strategy<Value = TableOp> {
    prop_oneof![
        40 => (rowid_strategy(), len_strategy(), any::<u8>()).prop_map(|(rowid, len, tag)| TableOp::Insert { rowid, len, tag }),
        20 => (any::<usize>(), any::<bool>()).prop_map(|(pick, forward)| TableOp::Delete { pick, forward }),
        2 => rowid_strategy().prop_map(|rowid| TableOp::DeleteMissing { rowid }),
        15 => (rowid_strategy(), 0usize..5).prop_map(|(rowid, op)| TableOp::Seek { rowid, op }),
        3 => Just(TableOp::Scan),
        2 => Just(TableOp::ScanBack),
        3 => Just(TableOp::Commit),
        2 => Just(TableOp::Rollback),
    ]
}

const OPS: [SeekOp; 5] = [SeekOp::GE, SeekOp::GT, SeekOp::LE, SeekOp::LT, SeekOp::EQ];

fn expected_seek(model: &BTreeMap<i64, Vec<u8>>, key: i64, op: SeekOp) -> Option<i64> {
    match op {
        SeekOp::GE => model.range(key..).next(),
        SeekOp::GT => model
            .range((std::ops::Bound::Excluded(key), std::ops::Bound::Unbounded))
            .next(),
        SeekOp::LE => model.range(..=key).next_back(),
        SeekOp::LT => model.range(..key).next_back(),
        SeekOp::EQ => model.get_key_value(&key),
    }
    .map(|(&k, _)| k)
}

fn scan_table(io: &dyn IO, pager: &Arc<Pager>, root: u32, backward: bool) -> Vec<(i64, Vec<u8>)> {
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
    if backward {
        drive(io, || cur.last()).unwrap();
    } else {
        drive(io, || cur.rewind()).unwrap();
    }
    let mut out = Vec::new();
    while !cur.is_eof() {
        let r = cur.rowid().unwrap();
        out.push((r, payload_of(io, &mut cur)));
        if backward {
            drive(io, || cur.prev()).unwrap();
        } else {
            drive(io, || cur.next()).unwrap();
        }
    }
    if backward {
        out.reverse();
    }
    out
}

fn check_table_scan(
    io: &dyn IO,
    pager: &Arc<Pager>,
    root: u32,
    model: &BTreeMap<i64, Vec<u8>>,
    backward: bool,
) -> Result<(), TestCaseError> {
    let ours = scan_table(io, pager, root, backward);
    let ours_keys: Vec<i64> = ours.iter().map(|(k, _)| *k).collect();
    let model_keys: Vec<i64> = model.keys().copied().collect();
    prop_assert_eq!(&ours_keys, &model_keys, "rowids (backward={})", backward);
    for ((k, p), (_, m)) in ours.iter().zip(model) {
        prop_assert!(
            p == m,
            "payload of rowid {} differs (len {} vs {})",
            k,
            p.len(),
            m.len()
        );
    }
    Ok(())
}

fn run_table_ops(ops: &[TableOp], shuffle: Option<u64>) -> Result<(), TestCaseError> {
    let (mem, storage, pager, root) = setup_io(strata_btree::BTreeType::Table, shuffle);
    let io: Arc<dyn IO> = mem.clone();
    let io = io.as_ref();
    let mut model: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
    let mut committed = model.clone();
    pager.begin_write().unwrap();
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
    for (step, op) in ops.iter().enumerate() {
        match *op {
            TableOp::Insert { rowid, len, tag } => {
                let p = payload(rowid, len, tag);
                drive(io, || cur.insert_rowid(rowid, &p)).unwrap();
                prop_assert!(!cur.is_eof(), "step {}: cursor not on inserted row", step);
                prop_assert_eq!(
                    cur.rowid().unwrap(),
                    rowid,
                    "step {}: cursor after insert",
                    step
                );
                model.insert(rowid, p);
            }
            TableOp::Delete { pick, forward } => {
                if model.is_empty() {
                    continue;
                }
                let key = *model.keys().nth(pick % model.len()).unwrap();
                let found = drive(io, || cur.seek_rowid(key, SeekOp::EQ)).unwrap();
                prop_assert!(found, "step {}: existing rowid {} not found", step, key);
                drive(io, || cur.delete()).unwrap();
                model.remove(&key);
                // Contract: after delete, next() gives the entry that followed, prev() the
                // one that preceded.
                let want = if forward {
                    drive(io, || cur.next()).unwrap();
                    model.range(key..).next().map(|(&k, _)| k)
                } else {
                    drive(io, || cur.prev()).unwrap();
                    model.range(..key).next_back().map(|(&k, _)| k)
                };
                match want {
                    None => prop_assert!(
                        cur.is_eof(),
                        "step {}: after delete of {} expected EOF",
                        step,
                        key
                    ),
                    Some(w) => {
                        prop_assert!(
                            !cur.is_eof(),
                            "step {}: after delete of {} expected {}, got EOF",
                            step,
                            key,
                            w
                        );
                        prop_assert_eq!(
                            cur.rowid().unwrap(),
                            w,
                            "step {}: neighbour after delete of {} (forward={})",
                            step,
                            key,
                            forward
                        );
                    }
                }
            }
            TableOp::DeleteMissing { rowid } => {
                let found = drive(io, || cur.seek_rowid(rowid, SeekOp::EQ)).unwrap();
                prop_assert_eq!(
                    found,
                    model.contains_key(&rowid),
                    "step {}: seek EQ {}",
                    step,
                    rowid
                );
            }
            TableOp::Seek { rowid, op } => {
                let op = OPS[op];
                let found = drive(io, || cur.seek_rowid(rowid, op)).unwrap();
                let want = expected_seek(&model, rowid, op);
                prop_assert_eq!(
                    found,
                    want.is_some(),
                    "step {}: seek_rowid({}, {:?}) found",
                    step,
                    rowid,
                    op
                );
                match want {
                    None => prop_assert!(cur.is_eof(), "step {}: seek not found but not EOF", step),
                    Some(w) => {
                        prop_assert_eq!(
                            cur.rowid().unwrap(),
                            w,
                            "step {}: seek_rowid({}, {:?})",
                            step,
                            rowid,
                            op
                        );
                        let p = payload_of(io, &mut cur);
                        prop_assert!(p == model[&w], "step {}: payload after seek", step);
                    }
                }
            }
            TableOp::Scan => check_table_scan(io, &pager, root, &model, false)?,
            TableOp::ScanBack => check_table_scan(io, &pager, root, &model, true)?,
            TableOp::Commit => {
                drop(cur);
                drive(io, || pager.commit()).unwrap();
                committed = model.clone();
                pager.begin_write().unwrap();
                cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
            }
            TableOp::Rollback => {
                drop(cur);
                pager.rollback().unwrap();
                model = committed.clone();
                pager.begin_write().unwrap();
                cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
                check_table_scan(io, &pager, root, &model, false)?;
            }
        }
        let max = drive(io, || cur.max_rowid()).unwrap();
        prop_assert_eq!(
            max,
            model.keys().next_back().copied(),
            "step {}: max_rowid",
            step
        );
    }
    check_table_scan(io, &pager, root, &model, false)?;
    drop(cur);
    drive(io, || pager.commit()).unwrap();
    // Durable: a new Storage over the same files (WAL recovery) sees the same tree.
    drop(pager);
    drop(storage);
    let storage = Storage::open(mem.clone(), PATH, options()).unwrap();
    let pager = storage.pager();
    pager.begin_read().unwrap();
    check_table_scan(io, &pager, root, &model, false)?;
    pager.end_read();
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Index B-tree vs BTreeSet: records (a INTEGER DESC, b TEXT ASC, rowid)
// ---------------------------------------------------------------------------------------

type IdxKey = (Reverse<i64>, Vec<u8>, i64);

fn key_info() -> Arc<KeyInfo> {
    Arc::new(KeyInfo {
        fields: vec![
            (Collation::Binary, SortOrder::Desc),
            (Collation::Binary, SortOrder::Asc),
        ],
        ..Default::default()
    })
}

fn text(n: usize, tag: u8) -> Vec<u8> {
    (0..n)
        .map(|i| b'a' + ((i as u8).wrapping_mul(7).wrapping_add(tag) % 3))
        .collect()
}

fn record_of(k: &IdxKey) -> Vec<u8> {
    let mut out = Vec::new();
    encode_values(
        &[
            Value::Integer(k.0 .0),
            Value::Text(k.1.clone()),
            Value::Integer(k.2),
        ],
        &mut out,
    );
    out
}

fn key_of_record(rec: &[u8]) -> IdxKey {
    let v = decode_record(rec).expect("index record decodes");
    assert_eq!(v.len(), 3, "index record has 3 fields");
    match (v[0].to_value(), v[1].to_value(), v[2].to_value()) {
        (Value::Integer(a), Value::Text(b), Value::Integer(r)) => (Reverse(a), b, r),
        other => panic!("unexpected index record {other:?}"),
    }
}

#[derive(Clone, Debug)]
enum IndexOp {
    Insert {
        a: i64,
        blen: usize,
        tag: u8,
        rowid: i64,
    },
    Delete {
        pick: usize,
    },
    /// Seek with a prefix of 1, 2 or 3 fields of an existing entry (or of a made-up key).
    Seek {
        pick: usize,
        fields: usize,
        op: usize,
        existing: bool,
        a: i64,
    },
    Scan,
    ScanBack,
    Commit,
    Rollback,
}

fn index_op() -> impl Strategy<Value = IndexOp> {
    prop_oneof![
        40 => (-30i64..30, prop_oneof![6 => 0usize..8, 2 => 8usize..200, 2 => 400usize..1500], 0u8..3, 0i64..50)
            .prop_map(|(a, blen, tag, rowid)| IndexOp::Insert { a, blen, tag, rowid }),
        20 => any::<usize>().prop_map(|pick| IndexOp::Delete { pick }),
        20 => (any::<usize>(), 1usize..=3, 0usize..5, any::<bool>(), -31i64..31)
            .prop_map(|(pick, fields, op, existing, a)| IndexOp::Seek { pick, fields, op, existing, a }),
        3 => Just(IndexOp::Scan),
        2 => Just(IndexOp::ScanBack),
        3 => Just(IndexOp::Commit),
        2 => Just(IndexOp::Rollback),
    ]
}

/// Order of an entry relative to a prefix key of 1..=3 fields.
fn cmp_prefix(e: &IdxKey, key: &[Value]) -> Ordering {
    for (i, k) in key.iter().enumerate() {
        let o = match (i, k) {
            (0, Value::Integer(a)) => e.0 .0.cmp(a).reverse(),
            (1, Value::Text(b)) => e.1.as_slice().cmp(b.as_slice()),
            (2, Value::Integer(r)) => e.2.cmp(r),
            _ => unreachable!(),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

fn expected_index_seek(model: &BTreeSet<IdxKey>, key: &[Value], op: SeekOp) -> Option<IdxKey> {
    let c = |e: &&IdxKey| cmp_prefix(e, key);
    match op {
        SeekOp::GE => model.iter().find(|e| c(e) != Ordering::Less),
        SeekOp::GT => model.iter().find(|e| c(e) == Ordering::Greater),
        SeekOp::LE => model.iter().rev().find(|e| c(e) != Ordering::Greater),
        SeekOp::LT => model.iter().rev().find(|e| c(e) == Ordering::Less),
        SeekOp::EQ => model.iter().find(|e| c(e) == Ordering::Equal),
    }
    .cloned()
}

fn scan_index(io: &dyn IO, pager: &Arc<Pager>, root: u32, backward: bool) -> Vec<IdxKey> {
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(key_info()));
    if backward {
        drive(io, || cur.last()).unwrap();
    } else {
        drive(io, || cur.rewind()).unwrap();
    }
    let mut out = Vec::new();
    while !cur.is_eof() {
        out.push(key_of_record(&payload_of(io, &mut cur)));
        if backward {
            drive(io, || cur.prev()).unwrap();
        } else {
            drive(io, || cur.next()).unwrap();
        }
    }
    if backward {
        out.reverse();
    }
    out
}

fn check_index_scan(
    io: &dyn IO,
    pager: &Arc<Pager>,
    root: u32,
    model: &BTreeSet<IdxKey>,
    backward: bool,
) -> Result<(), TestCaseError> {
    let ours = scan_index(io, pager, root, backward);
    let want: Vec<IdxKey> = model.iter().cloned().collect();
    if ours != want {
        let i = ours
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(want.len()));
        let short = |k: Option<&IdxKey>| k.map(|k| (k.0 .0, k.1.len(), k.2));
        return Err(TestCaseError::fail(format!(
            "index scan (backward={backward}) differs at {i}: ours {:?} vs model {:?} (lengths {} vs {})",
            short(ours.get(i)),
            short(want.get(i)),
            ours.len(),
            want.len()
        )));
    }
    Ok(())
}

fn run_index_ops(ops: &[IndexOp], shuffle: Option<u64>) -> Result<(), TestCaseError> {
    let (mem, _storage, pager, root) = setup_io(strata_btree::BTreeType::Index, shuffle);
    let io: Arc<dyn IO> = mem.clone();
    let io = io.as_ref();
    let mut model: BTreeSet<IdxKey> = BTreeSet::new();
    let mut committed = model.clone();
    pager.begin_write().unwrap();
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(key_info()));
    for (step, op) in ops.iter().enumerate() {
        match *op {
            IndexOp::Insert {
                a,
                blen,
                tag,
                rowid,
            } => {
                let k: IdxKey = (Reverse(a), text(blen, tag), rowid);
                let rec = record_of(&k);
                drive(io, || cur.insert_index(&rec)).unwrap();
                model.insert(k);
            }
            IndexOp::Delete { pick } => {
                if model.is_empty() {
                    continue;
                }
                let k = model.iter().nth(pick % model.len()).unwrap().clone();
                let key = [
                    Value::Integer(k.0 .0),
                    Value::Text(k.1.clone()),
                    Value::Integer(k.2),
                ];
                let found = drive(io, || cur.seek_index(&key, SeekOp::EQ)).unwrap();
                prop_assert!(found, "step {}: existing index entry not found", step);
                prop_assert_eq!(
                    key_of_record(&payload_of(io, &mut cur)),
                    k.clone(),
                    "step {}: EQ seek landed elsewhere",
                    step
                );
                drive(io, || cur.delete()).unwrap();
                model.remove(&k);
            }
            IndexOp::Seek {
                pick,
                fields,
                op,
                existing,
                a,
            } => {
                let op = OPS[op];
                let key: Vec<Value> = if existing && !model.is_empty() {
                    let k = model.iter().nth(pick % model.len()).unwrap();
                    vec![
                        Value::Integer(k.0 .0),
                        Value::Text(k.1.clone()),
                        Value::Integer(k.2),
                    ][..fields]
                        .to_vec()
                } else {
                    vec![
                        Value::Integer(a),
                        Value::Text(text(pick % 5, (pick % 3) as u8)),
                        Value::Integer((pick % 60) as i64),
                    ][..fields]
                        .to_vec()
                };
                let found = drive(io, || cur.seek_index(&key, op)).unwrap();
                let want = expected_index_seek(&model, &key, op);
                prop_assert_eq!(
                    found,
                    want.is_some(),
                    "step {}: seek_index({:?} fields, {:?}) found",
                    step,
                    fields,
                    op
                );
                match want {
                    None => prop_assert!(cur.is_eof(), "step {}: seek not found but not EOF", step),
                    Some(w) => {
                        let got = key_of_record(&payload_of(io, &mut cur));
                        prop_assert!(
                            got == w,
                            "step {}: seek_index {:?} ({} fields) landed on {:?} want {:?}",
                            step,
                            op,
                            fields,
                            (got.0 .0, got.1.len(), got.2),
                            (w.0 .0, w.1.len(), w.2)
                        );
                    }
                }
            }
            IndexOp::Scan => check_index_scan(io, &pager, root, &model, false)?,
            IndexOp::ScanBack => check_index_scan(io, &pager, root, &model, true)?,
            IndexOp::Commit => {
                drop(cur);
                drive(io, || pager.commit()).unwrap();
                committed = model.clone();
                pager.begin_write().unwrap();
                cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(key_info()));
            }
            IndexOp::Rollback => {
                drop(cur);
                pager.rollback().unwrap();
                model = committed.clone();
                pager.begin_write().unwrap();
                cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(key_info()));
                check_index_scan(io, &pager, root, &model, false)?;
            }
        }
    }
    check_index_scan(io, &pager, root, &model, false)?;
    check_index_scan(io, &pager, root, &model, true)?;
    drop(cur);
    drive(io, || pager.commit()).unwrap();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, max_shrink_iters: 2000, ..ProptestConfig::default() })]

    #[test]
    fn table_btree_matches_btreemap(ops in proptest::collection::vec(table_op(), 1..500), shuffle in any::<Option<u64>>()) {
        run_table_ops(&ops, shuffle)?;
    }

    #[test]
    fn index_btree_matches_btreeset(ops in proptest::collection::vec(index_op(), 1..500), shuffle in any::<Option<u64>>()) {
        run_index_ops(&ops, shuffle)?;
    }
}

// ---------------------------------------------------------------------------------------
// quickcheck: inserting any multiset of rowids and deleting them all
// ---------------------------------------------------------------------------------------

/// Inserting `rowids` (payload sizes from `sizes`) gives a tree that scans as the sorted,
/// de-duplicated rowids with the last payload written for each; deleting them all in the
/// given order leaves an empty tree, and the pages freed are reused (the file does not
/// grow when the same data is inserted again).
fn prop_insert_delete_all(rowids: Vec<i64>, sizes: Vec<u16>) -> bool {
    let (mem, _storage, pager, root) = setup(strata_btree::BTreeType::Table);
    let io: Arc<dyn IO> = mem.clone();
    let io = io.as_ref();
    pager.begin_write().unwrap();
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
    let mut model = BTreeMap::new();
    let size_of = |i: usize| {
        sizes
            .get(i % sizes.len().max(1))
            .map_or(10, |&s| (s % 2000) as usize)
    };
    for (i, &r) in rowids.iter().enumerate() {
        let p = payload(r, size_of(i), i as u8);
        drive(io, || cur.insert_rowid(r, &p)).unwrap();
        model.insert(r, p);
    }
    let scanned = scan_table(io, &pager, root, false);
    if scanned
        != model
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect::<Vec<_>>()
    {
        return false;
    }
    let pages_full = pager.db_size_pages();
    for &r in &rowids {
        if drive(io, || cur.seek_rowid(r, SeekOp::EQ)).unwrap() {
            drive(io, || cur.delete()).unwrap();
        }
    }
    if !scan_table(io, &pager, root, false).is_empty()
        || drive(io, || cur.max_rowid()).unwrap().is_some()
    {
        return false;
    }
    // Insert the same data again: freed pages must be reused, not appended.
    for (i, &r) in rowids.iter().enumerate() {
        let p = payload(r, size_of(i), i as u8);
        drive(io, || cur.insert_rowid(r, &p)).unwrap();
    }
    let pages_again = pager.db_size_pages();
    drop(cur);
    drive(io, || pager.commit()).unwrap();
    pages_again <= pages_full + 2
}

#[test]
fn quickcheck_insert_delete_all() {
    quickcheck::QuickCheck::new()
        .tests(60)
        .quickcheck(prop_insert_delete_all as fn(Vec<i64>, Vec<u16>) -> bool);
}

// ---------------------------------------------------------------------------------------
// Deleting during a scan (what `DELETE FROM t WHERE ...` does): every entry is visited
// exactly once, in order, whatever rebalancing the deletes cause.
// ---------------------------------------------------------------------------------------

fn run_delete_while_scanning(
    rows: &[(i64, usize)],
    doomed: &[bool],
    backward: bool,
    index: bool,
) -> Result<(), TestCaseError> {
    let kind = if index {
        strata_btree::BTreeType::Index
    } else {
        strata_btree::BTreeType::Table
    };
    let (mem, _storage, pager, root) = setup(kind);
    let io: Arc<dyn IO> = mem.clone();
    let io = io.as_ref();
    pager.begin_write().unwrap();
    let tree_kind = if index {
        TreeKind::Index(key_info())
    } else {
        TreeKind::Table
    };
    let mut cur = BTreeCursor::new(pager.clone(), root, tree_kind.clone());
    // Keys: table rowids, or index records (a, text, rowid) in DESC-a order.
    let mut model: BTreeMap<IdxKey, ()> = BTreeMap::new();
    let mut table_model: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
    for &(k, len) in rows {
        if index {
            let key: IdxKey = (Reverse(k % 50), text(len, (k % 3) as u8), k);
            drive(io, || cur.insert_index(&record_of(&key))).unwrap();
            model.insert(key, ());
        } else {
            let p = payload(k, len, 1);
            drive(io, || cur.insert_rowid(k, &p)).unwrap();
            table_model.insert(k, p);
        }
    }
    drive(io, || pager.commit()).unwrap();
    pager.begin_write().unwrap();
    let mut cur = BTreeCursor::new(pager.clone(), root, tree_kind);
    if backward {
        drive(io, || cur.last()).unwrap();
    } else {
        drive(io, || cur.rewind()).unwrap();
    }
    // The expected visiting order, as positions in the model's order.
    let n = if index {
        model.len()
    } else {
        table_model.len()
    };
    let mut visited = 0usize;
    let mut kept_table = table_model.clone();
    let mut kept_index = model.clone();
    let order_table: Vec<i64> = if backward {
        table_model.keys().rev().copied().collect()
    } else {
        table_model.keys().copied().collect()
    };
    let order_index: Vec<IdxKey> = if backward {
        model.keys().rev().cloned().collect()
    } else {
        model.keys().cloned().collect()
    };
    while !cur.is_eof() {
        prop_assert!(visited < n, "scan visits more than {} entries", n);
        if index {
            let got = key_of_record(&payload_of(io, &mut cur));
            prop_assert!(
                got == order_index[visited],
                "visit {}: index entry out of order (a={}, rowid={} vs a={}, rowid={})",
                visited,
                got.0 .0,
                got.2,
                order_index[visited].0 .0,
                order_index[visited].2
            );
        } else {
            let got = cur.rowid().unwrap();
            prop_assert_eq!(
                got,
                order_table[visited],
                "visit {}: rowid out of order",
                visited
            );
        }
        if doomed[visited % doomed.len()] {
            drive(io, || cur.delete()).unwrap();
            if index {
                kept_index.remove(&order_index[visited]);
            } else {
                kept_table.remove(&order_table[visited]);
            }
        }
        visited += 1;
        if backward {
            drive(io, || cur.prev()).unwrap();
        } else {
            drive(io, || cur.next()).unwrap();
        }
    }
    prop_assert_eq!(
        visited,
        n,
        "scan with deletes visited {} of {} entries",
        visited,
        n
    );
    if index {
        check_index_scan(
            io,
            &pager,
            root,
            &kept_index.keys().cloned().collect(),
            false,
        )?;
    } else {
        check_table_scan(io, &pager, root, &kept_table, false)?;
    }
    drop(cur);
    drive(io, || pager.commit()).unwrap();
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn delete_while_scanning_visits_each_entry_once(
        rows in proptest::collection::vec((0i64..5000, prop_oneof![6 => 0usize..50, 2 => 50usize..400, 1 => 400usize..1500]), 1..700),
        doomed in proptest::collection::vec(prop_oneof![3 => Just(true), 1 => Just(false)], 1..16),
        backward in any::<bool>(),
        index in any::<bool>(),
    ) {
        run_delete_while_scanning(&rows, &doomed, backward, index)?;
    }
}
