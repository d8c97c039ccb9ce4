//! A sequence of B-tree operations on a fresh 512-byte-page database, checked against a
//! model (`BTreeMap` for the table, `BTreeSet` for the index).
//!
//! The IO is a shuffled deferred MemoryIo (seed from the input): every read goes Pending
//! and completions arrive in random order, so every resume path runs. Operations: inserts
//! and replaces (payloads up to ~3 pages, so overflow chains), deletes by seek, runs of
//! delete-then-step (the cursor's "deleted" position), seeks with every op followed by
//! steps, full scans, index inserts/deletes, savepoints, commit, rollback, checkpoints of
//! every mode, a second connection holding an old snapshot, and close + reopen (WAL
//! recovery). After each commit, checkpoint and reopen the whole file is checked
//! structurally (`check_tree` on every tree, the freelist, every page used exactly once)
//! and against the model. There is no damage here: any error, panic or mismatch is a bug.
#![no_main]

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::sync::Arc;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use strata_btree::check::{check_freelist, check_page_usage, check_tree};
use strata_btree::record::{decode_record, encode_values, KeyInfo, Value};
use strata_btree::{create_btree, BTreeCursor, BTreeType, SeekOp, TreeKind};
use strata_fuzz::drive;
use strata_io::{MemoryIo, IO};
use strata_pager::{CheckpointMode, Pager, Storage, StorageOptions, SyncMode};

const PAGE_SIZE: usize = 512;
const MAX_OPS: usize = 256;
/// Up to a little over three pages: local part plus an overflow chain of several pages.
const MAX_PAYLOAD: usize = 3 * PAGE_SIZE + 100;
/// Index keys above ~(U-12)*64/255-23 = 102 bytes spill to overflow pages too.
const MAX_INDEX_BLOB: usize = 600;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Key {
    /// A small key space so that replaces, deletes and seeks mostly hit existing rows.
    Small(u8),
    Any(i64),
}

impl Key {
    fn get(self) -> i64 {
        match self {
            Key::Small(k) => k as i64 - 64,
            Key::Any(k) => k,
        }
    }
}

#[derive(Arbitrary, Debug)]
enum Op {
    Insert {
        key: Key,
        len: u16,
        salt: u8,
    },
    Delete {
        key: Key,
    },
    DeleteRun {
        key: Key,
        count: u8,
        backward: bool,
    },
    Seek {
        key: Key,
        op: u8,
        steps: u8,
        backward: bool,
    },
    Scan,
    IndexInsert {
        k: i8,
        len: u16,
    },
    IndexDelete {
        k: i8,
        len: u16,
    },
    SavepointBegin,
    SavepointRelease,
    SavepointRollback,
    Commit,
    Rollback,
    Checkpoint {
        mode: u8,
    },
    Reopen,
    ReaderBegin,
    ReaderCheck,
    ReaderEnd,
}

#[derive(Arbitrary, Debug)]
struct Input {
    shuffle_seed: u64,
    autocheckpoint: u8,
    ops: Vec<Op>,
}

type Table = BTreeMap<i64, Vec<u8>>;
type Index = BTreeSet<(i64, Vec<u8>)>;

#[derive(Clone, Default, PartialEq, Debug)]
struct Model {
    table: Table,
    index: Index,
}

fn payload_for(rowid: i64, len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (rowid as usize).wrapping_mul(31).wrapping_add(i * 7) as u8 ^ salt)
        .collect()
}

/// An index record (k, blob): with BINARY ASC fields its order is exactly the tuple order
/// of `(i64, Vec<u8>)` (integers numerically, then blobs by memcmp then length).
fn index_record(k: i64, blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_values(&[Value::Integer(k), Value::Blob(blob.to_vec())], &mut out);
    out
}

fn index_entry(k: i8, len: u16) -> (i64, Vec<u8>) {
    let len = len as usize % (MAX_INDEX_BLOB + 1);
    (k as i64 % 16, payload_for(k as i64, len, 0x5a))
}

fn seek_op(op: u8) -> SeekOp {
    [SeekOp::EQ, SeekOp::GE, SeekOp::GT, SeekOp::LE, SeekOp::LT][op as usize % 5]
}

fn expected_seek(model: &Table, key: i64, op: SeekOp) -> Option<i64> {
    let hit = match op {
        SeekOp::EQ => model.get_key_value(&key),
        SeekOp::GE => model.range(key..).next(),
        SeekOp::GT => model.range((Bound::Excluded(key), Bound::Unbounded)).next(),
        SeekOp::LE => model.range(..=key).next_back(),
        SeekOp::LT => model.range(..key).next_back(),
    };
    hit.map(|(k, _)| *k)
}

struct Db {
    io: Arc<dyn IO>,
    storage: Arc<Storage>,
    pager: Arc<Pager>,
    options: StorageOptions,
    table_root: u32,
    index_root: u32,
    key_info: Arc<KeyInfo>,
}

impl Db {
    fn table_cursor(&self) -> BTreeCursor {
        BTreeCursor::new(self.pager.clone(), self.table_root, TreeKind::Table)
    }

    fn index_cursor(&self) -> BTreeCursor {
        BTreeCursor::new(
            self.pager.clone(),
            self.index_root,
            TreeKind::Index(self.key_info.clone()),
        )
    }

    fn ensure_write(&self) {
        if !self.pager.in_write_tx() {
            self.pager.begin_write().expect("begin_write");
        }
    }

    fn entry(&self, c: &mut BTreeCursor) -> (i64, Vec<u8>) {
        let rowid = c.rowid().expect("rowid");
        let payload = drive(self.io.as_ref(), || {
            c.payload().map(|p| p.map(|b| b.to_vec()))
        })
        .expect("payload");
        (rowid, payload)
    }
}

/// Full forward and backward scans of both trees must equal the model.
fn scan_matches(db: &Db, pager: &Arc<Pager>, model: &Model, what: &str) {
    let io = db.io.as_ref();
    let mut c = BTreeCursor::new(pager.clone(), db.table_root, TreeKind::Table);
    drive(io, || c.rewind()).expect("rewind");
    let mut got = Vec::new();
    while !c.is_eof() {
        assert!(
            got.len() <= model.table.len(),
            "{what}: scan longer than the model"
        );
        got.push(db.entry(&mut c));
        drive(io, || c.next()).expect("next");
    }
    let want: Vec<(i64, Vec<u8>)> = model.table.iter().map(|(k, v)| (*k, v.clone())).collect();
    assert!(
        got == want,
        "{what}: table scan has {} rows, model {}; first difference at {:?}",
        got.len(),
        want.len(),
        got.iter().zip(&want).position(|(a, b)| a != b)
    );
    drive(io, || c.last()).expect("last");
    let mut back = Vec::new();
    while !c.is_eof() {
        assert!(
            back.len() <= model.table.len(),
            "{what}: backward scan longer than the model"
        );
        back.push(c.rowid().expect("rowid"));
        drive(io, || c.prev()).expect("prev");
    }
    back.reverse();
    assert!(
        back == model.table.keys().copied().collect::<Vec<_>>(),
        "{what}: backward table scan differs"
    );
    assert_eq!(
        drive(io, || c.max_rowid()).expect("max_rowid"),
        model.table.keys().next_back().copied(),
        "{what}: max_rowid"
    );

    let mut c = BTreeCursor::new(
        pager.clone(),
        db.index_root,
        TreeKind::Index(db.key_info.clone()),
    );
    drive(io, || c.rewind()).expect("rewind index");
    let mut got = Vec::new();
    while !c.is_eof() {
        assert!(
            got.len() <= model.index.len(),
            "{what}: index scan longer than the model"
        );
        let p = drive(io, || c.payload().map(|p| p.map(|b| b.to_vec()))).expect("index payload");
        let v = decode_record(&p).expect("index record");
        match (
            v.first().map(|x| x.to_value()),
            v.get(1).map(|x| x.to_value()),
        ) {
            (Some(Value::Integer(k)), Some(Value::Blob(b))) if v.len() == 2 => got.push((k, b)),
            _ => panic!("{what}: index entry is not (integer, blob): {v:?}"),
        }
        drive(io, || c.next()).expect("next index");
    }
    let want: Vec<(i64, Vec<u8>)> = model.index.iter().cloned().collect();
    assert!(
        got == want,
        "{what}: index scan has {} entries, model {}",
        got.len(),
        want.len()
    );
}

/// Structural check of the whole file plus model comparison, in a read transaction of its
/// own (the caller is outside any transaction).
fn check_committed(db: &Db, model: &Model, what: &str) {
    let pager = &db.pager;
    pager.begin_read().expect("begin_read for check");
    let io = db.io.as_ref();
    let usable = pager.usable_size();
    let size = pager.db_size_pages();
    let mut load = |n: u32| drive(io, || Ok(pager.get_page(n)?));
    let mut used = Vec::new();
    for (root, ki) in [
        (1, None),
        (db.table_root, None),
        (db.index_root, Some(db.key_info.as_ref())),
    ] {
        let stats = check_tree(&mut load, usable, size, root, ki)
            .unwrap_or_else(|e| panic!("{what}: tree {root}: {e}"));
        used.extend_from_slice(&stats.pages);
    }
    used.extend(
        check_freelist(&mut load, usable, size).unwrap_or_else(|e| panic!("{what}: freelist: {e}")),
    );
    check_page_usage(size, &used).unwrap_or_else(|e| panic!("{what}: page usage: {e}"));
    scan_matches(db, pager, model, what);
    pager.end_read();
}

fn open(io: Arc<dyn IO>, options: StorageOptions) -> (Arc<Storage>, Arc<Pager>) {
    let storage = Storage::open(io, "ops.db", options).expect("open");
    let pager = storage.pager();
    (storage, pager)
}

fuzz_target!(|input: Input| {
    let io: Arc<dyn IO> = Arc::new(MemoryIo::new_shuffled(input.shuffle_seed));
    let options = StorageOptions {
        page_size: PAGE_SIZE,
        // A small cache so pages are evicted and re-read (and go Pending again).
        cache_size_pages: 16,
        sync_mode: SyncMode::Full,
        // 0 disables; small values make commits run passive checkpoints themselves.
        autocheckpoint_frames: (input.autocheckpoint % 40) as u64,
        ..StorageOptions::default()
    };
    let (storage, pager) = open(io.clone(), options);
    pager.begin_write().expect("begin_write");
    let table_root =
        drive(io.as_ref(), || create_btree(&pager, BTreeType::Table)).expect("create table");
    let index_root =
        drive(io.as_ref(), || create_btree(&pager, BTreeType::Index)).expect("create index");
    drive(io.as_ref(), || pager.commit()).expect("commit");
    let mut db = Db {
        io,
        storage,
        pager,
        options,
        table_root,
        index_root,
        key_info: Arc::new(KeyInfo::default()),
    };

    let mut committed = Model::default();
    let mut current = Model::default();
    let mut savepoints: Vec<Model> = Vec::new();
    let mut reader: Option<(Arc<Pager>, Model)> = None;

    for (n, op) in input.ops.iter().take(MAX_OPS).enumerate() {
        let what = format!("op {n} {op:?}");
        let io = db.io.clone();
        let io = io.as_ref();
        match *op {
            Op::Insert { key, len, salt } => {
                db.ensure_write();
                let rowid = key.get();
                let payload = payload_for(rowid, len as usize % (MAX_PAYLOAD + 1), salt);
                let mut c = db.table_cursor();
                drive(io, || c.insert_rowid(rowid, &payload))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(
                    db.entry(&mut c),
                    (rowid, payload.clone()),
                    "{what}: cursor not on the new entry"
                );
                current.table.insert(rowid, payload);
            }
            Op::Delete { key } => {
                db.ensure_write();
                let rowid = key.get();
                let mut c = db.table_cursor();
                let found = drive(io, || c.seek_rowid(rowid, SeekOp::EQ))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(found, current.table.contains_key(&rowid), "{what}: seek EQ");
                if found {
                    drive(io, || c.delete()).unwrap_or_else(|e| panic!("{what}: {e}"));
                    current.table.remove(&rowid);
                }
            }
            Op::DeleteRun {
                key,
                count,
                backward,
            } => {
                db.ensure_write();
                let start = key.get();
                let op = if backward { SeekOp::LE } else { SeekOp::GE };
                let mut c = db.table_cursor();
                drive(io, || c.seek_rowid(start, op)).unwrap_or_else(|e| panic!("{what}: {e}"));
                for _ in 0..count % 32 {
                    let want = if backward {
                        current.table.range(..=start).next_back()
                    } else {
                        current.table.range(start..).next()
                    }
                    .map(|(k, _)| *k);
                    match want {
                        None => {
                            assert!(
                                c.is_eof(),
                                "{what}: cursor on an entry the model does not have"
                            );
                            break;
                        }
                        Some(w) => {
                            assert!(!c.is_eof(), "{what}: cursor at EOF, model has {w}");
                            assert_eq!(c.rowid().expect("rowid"), w, "{what}: delete run position");
                        }
                    }
                    drive(io, || c.delete()).unwrap_or_else(|e| panic!("{what}: delete: {e}"));
                    current.table.remove(&want.unwrap());
                    let r = if backward {
                        drive(io, || c.prev())
                    } else {
                        drive(io, || c.next())
                    };
                    r.unwrap_or_else(|e| panic!("{what}: step after delete: {e}"));
                }
            }
            Op::Seek {
                key,
                op,
                steps,
                backward,
            } => {
                let started_read = !db.pager.in_read_tx();
                if started_read {
                    db.pager.begin_read().expect("begin_read");
                }
                let rowid = key.get();
                let op = seek_op(op);
                let mut c = db.table_cursor();
                let found =
                    drive(io, || c.seek_rowid(rowid, op)).unwrap_or_else(|e| panic!("{what}: {e}"));
                let want = expected_seek(&current.table, rowid, op);
                assert_eq!(found, want.is_some(), "{what}: found");
                let mut at = want;
                for _ in 0..=(steps % 16) {
                    let Some(w) = at else {
                        assert!(c.is_eof(), "{what}: not EOF where the model ends");
                        break;
                    };
                    let (r, p) = db.entry(&mut c);
                    assert_eq!(r, w, "{what}: position");
                    assert!(p == current.table[&w], "{what}: payload of {w}");
                    at = if backward {
                        drive(io, || c.prev()).expect("prev");
                        current.table.range(..w).next_back().map(|(k, _)| *k)
                    } else {
                        drive(io, || c.next()).expect("next");
                        current
                            .table
                            .range((Bound::Excluded(w), Bound::Unbounded))
                            .next()
                            .map(|(k, _)| *k)
                    };
                }
                if started_read {
                    db.pager.end_read();
                }
            }
            Op::Scan => {
                let started_read = !db.pager.in_read_tx();
                if started_read {
                    db.pager.begin_read().expect("begin_read");
                }
                scan_matches(&db, &db.pager, &current, &what);
                if started_read {
                    db.pager.end_read();
                }
            }
            Op::IndexInsert { k, len } => {
                db.ensure_write();
                let (k, blob) = index_entry(k, len);
                let rec = index_record(k, &blob);
                let mut c = db.index_cursor();
                drive(io, || c.insert_index(&rec)).unwrap_or_else(|e| panic!("{what}: {e}"));
                current.index.insert((k, blob));
            }
            Op::IndexDelete { k, len } => {
                db.ensure_write();
                let (k, blob) = index_entry(k, len);
                let key = [Value::Integer(k), Value::Blob(blob.clone())];
                let mut c = db.index_cursor();
                let found = drive(io, || c.seek_index(&key, SeekOp::EQ))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(
                    found,
                    current.index.contains(&(k, blob.clone())),
                    "{what}: index seek EQ"
                );
                if found {
                    drive(io, || c.delete()).unwrap_or_else(|e| panic!("{what}: {e}"));
                    current.index.remove(&(k, blob));
                }
            }
            Op::SavepointBegin => {
                db.ensure_write();
                db.pager.savepoint_begin().expect("savepoint_begin");
                savepoints.push(current.clone());
            }
            Op::SavepointRelease => {
                if savepoints.pop().is_some() {
                    db.pager.savepoint_release().expect("savepoint_release");
                }
            }
            Op::SavepointRollback => {
                if let Some(m) = savepoints.pop() {
                    db.pager.savepoint_rollback().expect("savepoint_rollback");
                    current = m;
                }
            }
            Op::Commit | Op::Checkpoint { .. } => {
                if db.pager.in_write_tx() {
                    drive(io, || db.pager.commit())
                        .unwrap_or_else(|e| panic!("{what}: commit: {e}"));
                    committed = current.clone();
                    savepoints.clear();
                }
                if let Op::Checkpoint { mode } = *op {
                    let mode = [
                        CheckpointMode::Passive,
                        CheckpointMode::Full,
                        CheckpointMode::Restart,
                        CheckpointMode::Truncate,
                    ][mode as usize % 4];
                    drive(io, || db.pager.checkpoint(mode))
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                }
                check_committed(&db, &committed, &what);
            }
            Op::Rollback => {
                db.pager.rollback().expect("rollback");
                current = committed.clone();
                savepoints.clear();
            }
            Op::Reopen => {
                // Closing without commit abandons the write transaction, as a crash would.
                reader = None;
                db.pager.rollback().expect("rollback before close");
                current = committed.clone();
                savepoints.clear();
                let Db {
                    io: dio,
                    storage,
                    pager,
                    options,
                    table_root,
                    index_root,
                    key_info,
                } = db;
                // Every handle on the old Storage must be gone: it holds the file's
                // exclusive lock, and reopening must not see any of its in-memory state.
                drop(pager);
                drop(storage);
                let (storage, pager) = open(dio.clone(), options);
                db = Db {
                    io: dio,
                    storage,
                    pager,
                    options,
                    table_root,
                    index_root,
                    key_info,
                };
                check_committed(&db, &committed, &what);
            }
            Op::ReaderBegin => {
                if reader.is_none() {
                    let p = db.storage.pager();
                    p.begin_read().expect("reader begin_read");
                    reader = Some((p, committed.clone()));
                }
            }
            Op::ReaderCheck => {
                if let Some((p, m)) = &reader {
                    scan_matches(&db, p, m, &format!("{what} (reader snapshot)"));
                }
            }
            Op::ReaderEnd => {
                if let Some((p, _)) = reader.take() {
                    p.end_read();
                }
            }
        }
    }
});
