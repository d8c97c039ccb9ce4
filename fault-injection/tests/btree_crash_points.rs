//! Crash points over a B-tree workload, with SQLite as the integrity oracle.
//!
//! One table `t(a INTEGER PRIMARY KEY, b BLOB)` (registered in sqlite_schema, so SQLite
//! knows every page), rows inserted (some with overflow chains) and deleted over a few
//! dozen transactions with checkpoints. For every crash point: reopen, scan the table and
//! require the rows of the last acknowledged commit or of the commit in flight; then hand
//! the surviving database and WAL bytes to SQLite and require `PRAGMA integrity_check` =
//! `ok` and the same rows.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simulator::{CrashMode, SimIo, SimIoOptions};
use strata_btree::record::{encode_record, ValueRef};
use strata_btree::{create_btree, BTreeCursor, BTreeType, SeekOp, TreeKind};
use strata_io::{Poll, IO};
use strata_pager::{CheckpointMode, Pager, Storage, StorageOptions};

const DB: &str = "bt.db";
const PAGE_SIZE: usize = 512;
const TXNS: u64 = 24;

type Rows = BTreeMap<i64, u64>;

/// Drives a resumable operation, mapping every error to a string.
fn drive<T, E: std::fmt::Display>(
    io: &SimIo,
    mut op: impl FnMut() -> Result<Poll<T>, E>,
) -> Result<T, String> {
    loop {
        match op().map_err(|e| e.to_string())? {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending => io.run_once().map_err(|e| e.to_string())?,
        }
    }
}

/// Column b of row `rowid` written by `txn`. Lengths up to ~3 pages, so some rows need
/// overflow chains.
fn blob(rowid: i64, txn: u64) -> Vec<u8> {
    let len = 20 + ((rowid as u64 * 131 + txn * 17) % 1400) as usize;
    (0..len)
        .map(|i| (rowid as u64 * 31 + txn * 7 + i as u64) as u8)
        .collect()
}

/// The row's record as SQLite stores it: (NULL for the rowid alias a, b).
fn payload(rowid: i64, txn: u64) -> Vec<u8> {
    let mut out = Vec::new();
    encode_record(
        &[ValueRef::Null, ValueRef::Blob(&blob(rowid, txn))],
        &mut out,
    );
    out
}

fn options() -> StorageOptions {
    StorageOptions {
        page_size: PAGE_SIZE,
        autocheckpoint_frames: 0,
        ..StorageOptions::default()
    }
}

struct Run {
    io: Arc<SimIo>,
    /// Allowed states: last acknowledged first, then the commit in flight.
    candidates: Vec<Rows>,
    root: Option<u32>,
}

/// Creates the table (acknowledged before any crash point counts) and runs the workload.
fn workload(run: &mut Run) -> Result<(), String> {
    let io: Arc<dyn IO> = run.io.clone();
    let storage = Storage::open(io, DB, options()).map_err(|e| e.to_string())?;
    let pager = storage.pager();
    pager.begin_write().map_err(|e| e.to_string())?;
    let root = drive(&run.io, || create_btree(&pager, BTreeType::Table))?;
    let mut rec = Vec::new();
    encode_record(
        &[
            ValueRef::Text(b"table"),
            ValueRef::Text(b"t"),
            ValueRef::Text(b"t"),
            ValueRef::Integer(i64::from(root)),
            ValueRef::Text(b"CREATE TABLE t(a INTEGER PRIMARY KEY, b BLOB)"),
        ],
        &mut rec,
    );
    let mut schema = BTreeCursor::new(pager.clone(), 1, TreeKind::Table);
    drive(&run.io, || schema.insert_rowid(1, &rec))?;
    drop(schema);
    let page1 = drive(&run.io, || pager.get_page(1))?;
    pager.mark_dirty(&page1).map_err(|e| e.to_string())?;
    {
        let mut d = page1.data_mut();
        let cookie = u32::from_be_bytes([d[40], d[41], d[42], d[43]]) + 1;
        d[40..44].copy_from_slice(&cookie.to_be_bytes());
        if d[44..48] == [0, 0, 0, 0] {
            d[44..48].copy_from_slice(&4u32.to_be_bytes());
        }
    }
    drop(page1);
    run.candidates.push(Rows::new());
    drive(&run.io, || pager.commit())?;
    run.candidates = vec![Rows::new()];
    run.root = Some(root);

    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut rows = Rows::new();
    for txn in 1..=TXNS {
        pager.begin_write().map_err(|e| e.to_string())?;
        let mut work = rows.clone();
        let mut cursor = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
        for _ in 0..rng.gen_range(1..=6) {
            let rowid = rng.gen_range(1..=60i64);
            if rng.gen_bool(0.3) && work.contains_key(&rowid) {
                let found = drive(&run.io, || cursor.seek_rowid(rowid, SeekOp::EQ))?;
                if !found {
                    return Err(format!("row {rowid} missing before delete"));
                }
                drive(&run.io, || cursor.delete())?;
                work.remove(&rowid);
            } else {
                let data = payload(rowid, txn);
                drive(&run.io, || cursor.insert_rowid(rowid, &data))?;
                work.insert(rowid, txn);
            }
        }
        drop(cursor);
        if rng.gen_range(0..100) < 15 {
            pager.rollback().map_err(|e| e.to_string())?;
        } else {
            run.candidates.push(work.clone());
            drive(&run.io, || pager.commit())?;
            run.candidates = vec![work.clone()];
            rows = work;
        }
        if std::env::var("BTREE_CHECK_EACH").is_ok() {
            if let Err(e) = sqlite_check(&run.io, &rows) {
                return Err(format!("after txn {txn}: {e}"));
            }
        }
        if txn % 5 == 0 {
            let mode = [
                CheckpointMode::Passive,
                CheckpointMode::Full,
                CheckpointMode::Restart,
                CheckpointMode::Truncate,
            ][(txn / 5 % 4) as usize];
            drive(&run.io, || pager.checkpoint(mode))?;
        }
    }
    Ok(())
}

/// Scans the table through a fresh storage: rowid -> txn (checked against the payload).
fn scan(io: &Arc<SimIo>, pager: &Arc<Pager>, root: u32) -> Result<Rows, String> {
    let mut rows = Rows::new();
    let mut cursor = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
    drive(io, || cursor.rewind())?;
    while !cursor.is_eof() {
        let rowid = cursor.rowid().map_err(|e| e.to_string())?;
        let data = drive(io, || cursor.payload().map(|p| p.map(|b| b.to_vec())))?;
        let txn = (1..=TXNS)
            .find(|&t| payload(rowid, t) == data)
            .ok_or_else(|| format!("row {rowid} holds a payload no transaction wrote"))?;
        rows.insert(rowid, txn);
        drive(io, || cursor.next())?;
    }
    Ok(rows)
}

/// SQLite's view of the surviving files: integrity_check and the rows.
fn sqlite_check(io: &SimIo, expected: &Rows) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join(DB);
    std::fs::write(&path, io.file_contents(DB).unwrap_or_default()).map_err(|e| e.to_string())?;
    if let Some(wal) = io.file_contents(&format!("{DB}-wal")) {
        std::fs::write(dir.path().join(format!("{DB}-wal")), wal).map_err(|e| e.to_string())?;
    }
    if let Ok(keep) = std::env::var("BTREE_CRASH_KEEP") {
        // Debugging aid: keep a copy of the files SQLite is given.
        let _ = std::fs::copy(&path, format!("{keep}/{DB}"));
        let _ = std::fs::copy(
            dir.path().join(format!("{DB}-wal")),
            format!("{keep}/{DB}-wal"),
        );
    }
    let conn = rusqlite::Connection::open(&path).map_err(|e| e.to_string())?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("integrity_check: {e}"))?;
    if check != "ok" {
        return Err(format!("SQLite integrity_check: {check}"));
    }
    let mut stmt = conn
        .prepare("SELECT a, b FROM t ORDER BY a")
        .map_err(|e| e.to_string())?;
    let got: Vec<(i64, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(|e| e.to_string())?
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let want: Vec<(i64, Vec<u8>)> = expected.iter().map(|(&r, &t)| (r, blob(r, t))).collect();
    if got != want {
        return Err(format!(
            "SQLite sees {} rows, expected {}",
            got.len(),
            want.len()
        ));
    }
    Ok(())
}

/// What one point checked.
struct Point {
    /// Operations the workload performed.
    performed: u64,
    /// Whether the table existed (its creation was acknowledged), so rows and SQLite's
    /// integrity_check were verified.
    verified: bool,
}

/// Crash after operation `n` (`None`: no crash); reopen; check rows and SQLite integrity.
fn crash_point(n: Option<u64>, mode: CrashMode) -> Result<Point, String> {
    let mut o = SimIoOptions::new(9);
    o.crash_mode = mode;
    let io = Arc::new(SimIo::new(o));
    if let Some(n) = n {
        io.crash_after_op(n);
    }
    let mut run = Run {
        io: io.clone(),
        candidates: Vec::new(),
        root: None,
    };
    let result = workload(&mut run);
    let performed = io.stats().performed;
    match (result, n) {
        (Ok(()), None) => {}
        (Err(e), None) => return Err(format!("fault-free run failed: {e}")),
        (_, Some(_)) if io.stats().crashes == 0 => return Err("the crash never happened".into()),
        (_, Some(_)) => {}
    }
    io.clear_scheduled();
    let Some(root) = run.root else {
        // Crashed before the table was acknowledged: nothing to verify beyond opening.
        let dyn_io: Arc<dyn IO> = io.clone();
        Storage::open(dyn_io, DB, options()).map_err(|e| format!("reopen: {e}"))?;
        return Ok(Point {
            performed,
            verified: false,
        });
    };
    let dyn_io: Arc<dyn IO> = io.clone();
    let storage = Storage::open(dyn_io, DB, options()).map_err(|e| format!("reopen: {e}"))?;
    let pager = storage.pager();
    pager.begin_read().map_err(|e| e.to_string())?;
    let rows = scan(&io, &pager, root)?;
    pager.end_read();
    if !run.candidates.contains(&rows) {
        return Err(format!(
            "recovered rows {rows:?}, allowed (last acknowledged first): {:?}",
            run.candidates
        ));
    }
    drop(pager);
    drop(storage);
    sqlite_check(&io, &rows)?;
    Ok(Point {
        performed,
        verified: true,
    })
}

#[test]
fn btree_crash_points_pass_sqlite_integrity_check() {
    let total = crash_point(None, CrashMode::Random)
        .expect("fault-free run")
        .performed;
    assert!(total > 100, "workload too small: {total}");
    let mut failures = Vec::new();
    let mut verified = 0u64;
    for mode in [
        CrashMode::DropUnsynced,
        CrashMode::TearUnsynced,
        CrashMode::Random,
    ] {
        // From the first operation after creating the database (see finding F3).
        for n in 3..=total {
            match crash_point(Some(n), mode) {
                Ok(p) => verified += p.verified as u64,
                Err(e) => failures.push(format!("{mode:?} after op {n}: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    // Only the points before the table's creation was acknowledged skip the SQLite check.
    assert!(
        verified + 3 * 10 > 3 * (total - 2),
        "SQLite verified only {verified} points of {}",
        3 * (total - 2)
    );
    eprintln!(
        "{total} operations; {verified} crash points verified by scan and SQLite integrity_check"
    );
}
