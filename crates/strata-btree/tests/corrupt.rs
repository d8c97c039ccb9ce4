//! Opening garbage or damaged files returns a clear error (`Corrupt`) through the public API
//! (`Storage::open` or a cursor), never a panic or a hang; a WAL with a bad checksum, bad
//! salt or torn tail has its invalid tail ignored, exactly as SQLite ignores it.
//!
//! Every scenario runs on every backend (test names `<scenario>::<backend>`). Each runs in
//! its own thread with a time limit, so a panic is reported as a failure and an endless loop
//! (a cycle of child pointers) as a hang.

mod compat_harness;

use std::sync::mpsc;
use std::time::Duration;

use compat_harness::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{config::DbConfig, Connection};
use strata_btree::record::Value;
use strata_btree::varint::read_varint;
use strata_btree::{BTreeCursor, TreeKind};
use strata_pager::{Storage, SyncMode};

const PS: usize = 4096;

/// How a scenario ended.
#[derive(Debug)]
enum Outcome {
    /// Opened and scanned every tree: the rows of every table, by name.
    Scanned(Vec<(String, Vec<(i64, Vec<Value>)>)>),
    OpenFailed(strata_pager::Error),
    ScanFailed(strata_btree::Error),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Scanned(tables) => {
                write!(f, "Scanned without error:")?;
                for (name, rows) in tables {
                    let last: Vec<i64> = rows.iter().rev().take(3).map(|(r, _)| *r).collect();
                    write!(
                        f,
                        " {name}: {} rows (last rowids, reversed: {last:?});",
                        rows.len()
                    )?;
                }
                Ok(())
            }
            Outcome::OpenFailed(e) => write!(f, "Storage::open failed: {e:?}"),
            Outcome::ScanFailed(e) => write!(f, "scan failed: {e:?}"),
        }
    }
}

impl Outcome {
    fn is_corrupt(&self) -> bool {
        matches!(
            self,
            Outcome::OpenFailed(strata_pager::Error::Corrupt(_))
                | Outcome::ScanFailed(strata_btree::Error::Corrupt(_))
        )
    }
}

/// Runs `f` in a thread; fails the test if it panics or does not finish in time.
fn guarded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let r = f();
        let _ = tx.send(());
        r
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => handle.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let err = handle.join().err().expect("thread ended without result");
            let msg = err
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{what}: PANICKED on corrupt input (must be an error): {msg}");
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            // The runaway thread may be allocating without bound (an endless descent):
            // stop the whole process rather than let it take the machine down.
            eprintln!("{what}: HUNG for 60 s on corrupt input (must be an error); aborting the test binary");
            std::process::exit(101);
        }
    }
}

/// Opens `path` and reads everything: schema, every table (forward), every index.
fn open_and_scan(b: &Backend, path: &str) -> Outcome {
    let storage = match Storage::open(b.io.clone(), path, options(PS, SyncMode::Off)) {
        Ok(s) => s,
        Err(e) => return Outcome::OpenFailed(e),
    };
    let pager = storage.pager();
    if let Err(e) = pager.begin_read() {
        return Outcome::ScanFailed(e.into());
    }
    let r = (|| -> BResult<Vec<(String, Vec<(i64, Vec<Value>)>)>> {
        // The schema's records are decoded fallibly, as the SQL layer will: a damaged file
        // can hold cells whose payload is no record at all (a page cut short reads as
        // zeros past the cut), which must surface as Corrupt.
        let schema = dump_table_raw(&pager, 1)?;
        let mut out = Vec::new();
        for (_, payload) in schema {
            let row: Vec<Value> = strata_btree::record::decode_record(&payload)?
                .into_iter()
                .map(|x| x.to_value())
                .collect();
            let (Some(Value::Text(kind)), Some(Value::Text(name)), Some(Value::Integer(root))) =
                (row.first(), row.get(1), row.get(3))
            else {
                continue;
            };
            let name = String::from_utf8_lossy(name).into_owned();
            if kind == b"table" {
                // Raw payloads: a damaged record is the B-tree's to report or not; here we
                // check the tree structure.
                let rows = dump_table_raw(&pager, *root as u32)?;
                let rows = rows
                    .into_iter()
                    .map(|(r, p)| {
                        (
                            r,
                            strata_btree::record::decode_record(&p)
                                .map(|v| v.into_iter().map(|x| x.to_value()).collect())
                                .unwrap_or_default(),
                        )
                    })
                    .collect();
                out.push((name, rows));
            } else if kind == b"index" {
                let n = dump_index_with(&pager, *root as u32, key_info_for(1))?.len();
                out.push((name, vec![(n as i64, Vec::new())]));
            }
        }
        Ok(out)
    })();
    pager.end_read();
    match r {
        Ok(v) => Outcome::Scanned(v),
        Err(e) => Outcome::ScanFailed(e),
    }
}

/// A WAL-mode database made by SQLite, fully checkpointed (no WAL left).
fn sqlite_db(path: &str, sql: &str) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA page_size={PS};"))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch(sql).unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    assert!(
        !std::path::Path::new(&format!("{path}-wal")).exists()
            || std::fs::metadata(format!("{path}-wal")).unwrap().len() == 0
    );
}

fn root_page(path: &str, name: &str) -> u32 {
    let conn = Connection::open(path).unwrap();
    let r: i64 = conn
        .query_row(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?1",
            [name],
            |r| r.get(0),
        )
        .unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    r as u32
}

fn patch(path: &str, offset: usize, bytes: &[u8]) {
    let mut data = std::fs::read(path).unwrap();
    data[offset..offset + bytes.len()].copy_from_slice(bytes);
    std::fs::write(path, data).unwrap();
}

fn page_offset(page_no: u32) -> usize {
    (page_no as usize - 1) * PS
}

const SMALL_TABLE: &str = "CREATE TABLE t(a INTEGER, b TEXT);
    INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');
    CREATE INDEX ti ON t(b);";

const BIG_TABLE: &str = "CREATE TABLE t(a INTEGER, b TEXT);
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3000)
    INSERT INTO t SELECT i, printf('%0100d', i) FROM c;";

struct Case {
    dir: tempfile::TempDir,
    path: String,
}

fn case() -> Case {
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("c.db"));
    Case { dir, path }
}

/// Loads the damaged files into the backend, opens and scans them, and requires `Corrupt`.
fn expect_corrupt(backend_name: &str, what: &str, c: Case) {
    expect_corrupt_saying(backend_name, what, c, "");
}

/// As [`expect_corrupt`], and the error's text must contain `needle` (which check found it).
fn expect_corrupt_saying(backend_name: &str, what: &str, c: Case, needle: &str) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let what = format!("[corrupt {what} backend={backend_name}]");
    b.load(&c.path);
    let path = c.path.clone();
    let outcome = guarded(&what, move || {
        let _keep = c.dir;
        open_and_scan(&b, &path)
    });
    assert!(
        outcome.is_corrupt(),
        "{what}: expected a Corrupt error, got {outcome}"
    );
    assert!(
        outcome.to_string().contains(needle),
        "{what}: expected an error saying {needle:?}, got {outcome}"
    );
    eprintln!("{what}: ok: {outcome}");
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

fn random_bytes_file(backend: &str) {
    let c = case();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let bytes: Vec<u8> = (0..3 * PS).map(|_| rng.gen()).collect();
    std::fs::write(&c.path, bytes).unwrap();
    expect_corrupt(backend, "random bytes", c);
}

fn bad_page_size(backend: &str) {
    for raw in [0u16, 3, 256, 1000, 768, 0x8001] {
        let c = case();
        sqlite_db(&c.path, SMALL_TABLE);
        patch(&c.path, 16, &raw.to_be_bytes());
        expect_corrupt(backend, &format!("header page size {raw}"), c);
    }
}

fn truncated_half_page(backend: &str) {
    let c = case();
    sqlite_db(&c.path, BIG_TABLE);
    let data = std::fs::read(&c.path).unwrap();
    assert!(data.len() > 10 * PS);
    std::fs::write(&c.path, &data[..PS / 2]).unwrap();
    expect_corrupt(backend, "file truncated to half a page", c);
}

fn truncated_mid_file(backend: &str) {
    let c = case();
    sqlite_db(&c.path, BIG_TABLE);
    let data = std::fs::read(&c.path).unwrap();
    std::fs::write(&c.path, &data[..data.len() / 2 + PS / 2]).unwrap();
    expect_corrupt(backend, "file truncated mid-file", c);
}

fn cell_pointer_out_of_range(backend: &str) {
    for bad in [0xFFF0u16, PS as u16 - 1, 0] {
        let c = case();
        sqlite_db(&c.path, SMALL_TABLE);
        let root = root_page(&c.path, "t");
        // Leaf header is 8 bytes; the cell pointer array follows.
        let data = std::fs::read(&c.path).unwrap();
        assert_eq!(
            data[page_offset(root)],
            0x0D,
            "t's root should be a table leaf"
        );
        patch(&c.path, page_offset(root) + 8, &bad.to_be_bytes());
        expect_corrupt(backend, &format!("cell pointer {bad:#x}"), c);
    }
}

fn bad_page_type(backend: &str) {
    for bad in [0x00u8, 0x07, 0x01, 0xFF] {
        let c = case();
        sqlite_db(&c.path, SMALL_TABLE);
        let root = root_page(&c.path, "t");
        patch(&c.path, page_offset(root), &[bad]);
        expect_corrupt(backend, &format!("page type byte {bad:#x}"), c);
    }
}

/// Offset within the file of the overflow page pointer of the first cell of table leaf
/// `page_no` (the cell's payload must overflow).
fn overflow_pointer_offset(data: &[u8], page_no: u32) -> usize {
    let base = page_offset(page_no);
    let hdr = if page_no == 1 { base + 100 } else { base };
    assert_eq!(data[hdr], 0x0D, "expected a table leaf");
    let cell = base + u16::from_be_bytes([data[hdr + 8], data[hdr + 9]]) as usize;
    let (payload_len, n1) = read_varint(&data[cell..]).unwrap();
    let (_rowid, n2) = read_varint(&data[cell + n1..]).unwrap();
    let u = PS as u64;
    let x = u - 35;
    let m = ((u - 12) * 32 / 255) - 23;
    assert!(payload_len > x, "payload must overflow");
    let k = m + ((payload_len - m) % (u - 4));
    let local = if k <= x { k } else { m };
    cell + n1 + n2 + local as usize
}

fn overflow_past_end(backend: &str) {
    for bad in [0x00FF_FFFFu32, 0xFFFF_FFFF, 0] {
        let c = case();
        sqlite_db(
            &c.path,
            "CREATE TABLE big(x); INSERT INTO big VALUES (randomblob(20000));",
        );
        let root = root_page(&c.path, "big");
        let data = std::fs::read(&c.path).unwrap();
        let off = overflow_pointer_offset(&data, root);
        let first = u32::from_be_bytes(data[off..off + 4].try_into().unwrap());
        assert!(
            first > 1 && (first as usize) * PS <= data.len(),
            "sanity: overflow page {first}"
        );
        patch(&c.path, off, &bad.to_be_bytes());
        // Found by the chain walk (the pager's own range check would say "page N out of
        // range", without naming the chain).
        expect_corrupt_saying(
            backend,
            &format!("overflow pointer {bad:#x}"),
            c,
            &if bad == 0 {
                // Refused with the cell, before the walk.
                "overflow page number 0".to_string()
            } else {
                format!("overflow page {bad} out of range")
            },
        );
    }
}

fn overflow_chain_ends_early(backend: &str) {
    // The second overflow page's "next" pointer is 0 although the payload needs more.
    let c = case();
    sqlite_db(
        &c.path,
        "CREATE TABLE big(x); INSERT INTO big VALUES (randomblob(20000));",
    );
    let root = root_page(&c.path, "big");
    let data = std::fs::read(&c.path).unwrap();
    let off = overflow_pointer_offset(&data, root);
    let first = u32::from_be_bytes(data[off..off + 4].try_into().unwrap());
    patch(&c.path, page_offset(first), &0u32.to_be_bytes());
    expect_corrupt_saying(
        backend,
        "overflow chain ends before the payload does",
        c,
        "overflow page 0 out of range",
    );
}

fn child_pointer_cycle(backend: &str) {
    // (right-most child, first cell's left child) pointing at the root itself, and at a
    // non-existent page. (A child pointing at another valid page of the same kind, e.g.
    // page 1, is not detected by SQLite's cursors either; only integrity_check finds it.)
    for (which, target) in [
        ("right child -> self", None),
        ("left child -> self", None),
        ("right child -> past the end", Some(0xFFFF_FF00u32)),
    ] {
        let c = case();
        sqlite_db(&c.path, BIG_TABLE);
        let root = root_page(&c.path, "t");
        let data = std::fs::read(&c.path).unwrap();
        let base = page_offset(root);
        assert_eq!(
            data[base], 0x05,
            "t's root should be an interior table page"
        );
        let target = target.unwrap_or(root);
        if which.starts_with("right") {
            patch(&c.path, base + 8, &target.to_be_bytes());
        } else {
            let cell = base + u16::from_be_bytes([data[base + 12], data[base + 13]]) as usize;
            patch(&c.path, cell, &target.to_be_bytes());
        }
        expect_corrupt(backend, &format!("child pointer cycle ({which})"), c);
    }
}

fn freelist_trunk_out_of_range(backend: &str) {
    let Some(b) = backend_by(backend) else { return };
    for (trunk, count) in [(100_000u32, 3u32), (0xFFFF_FFFF, 1)] {
        let c = case();
        sqlite_db(&c.path, SMALL_TABLE);
        patch(&c.path, 32, &trunk.to_be_bytes());
        patch(&c.path, 36, &count.to_be_bytes());
        b.load(&c.path);
        let what = format!("[corrupt freelist trunk {trunk:#x} backend={}]", b.name);
        let root = root_page(&c.path, "t");
        let io = b.io.clone();
        let path = c.path.clone();
        let w = what.clone();
        let r = guarded(&what, move || -> Result<(), String> {
            let storage = Storage::open(io.clone(), &path, options(PS, SyncMode::Off))
                .map_err(|e| format!("open: {e:?}"))?;
            let pager = storage.pager();
            pager
                .begin_write()
                .map_err(|e| format!("begin_write: {e:?}"))?;
            let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
            // Enough rows to need new pages: allocation must consult the freelist.
            for rowid in 100..2100i64 {
                let rec = encode(&[Value::Integer(rowid), Value::Text(vec![b'x'; 200])]);
                match drive(io.as_ref(), || cur.insert_rowid(rowid, &rec)) {
                    Ok(()) => {}
                    Err(strata_btree::Error::Corrupt(m)) => {
                        let _ = pager.rollback();
                        return Err(format!("Corrupt: {m}"));
                    }
                    Err(e) => {
                        return Err(format!(
                            "{w}: insert_rowid({rowid}) failed with a non-Corrupt error: {e:?}"
                        ))
                    }
                }
            }
            drive(io.as_ref(), || pager.commit()).map_err(|e| format!("commit: {e:?}"))?;
            Ok(())
        });
        drop(c);
        match r {
            Err(m) if m.starts_with("Corrupt") => eprintln!("{what}: ok: {m}"),
            other => {
                panic!("{what}: expected Corrupt when allocating from the freelist, got {other:?}")
            }
        }
    }
}

fn backend_by(name: &str) -> Option<Backend> {
    backend(name)
}

// --- WAL damage: the invalid tail is ignored, exactly as SQLite ignores it ---------------

/// Database whose table `t` was checkpointed empty, then two transactions in the WAL:
/// rows 1..=100, then rows 101..=200. Returns (commit frame of the first transaction,
/// frames in the WAL).
fn wal_db(path: &str) -> (usize, usize) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA page_size={PS};"))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch(
        "PRAGMA wal_autocheckpoint=0;
         CREATE TABLE t(a INTEGER, b TEXT);
         PRAGMA wal_checkpoint(TRUNCATE);
         BEGIN;
         WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)
         INSERT INTO t SELECT i, printf('first %d', i) FROM c;
         COMMIT;
         BEGIN;
         WITH RECURSIVE c(i) AS (SELECT 101 UNION ALL SELECT i + 1 FROM c WHERE i < 200)
         INSERT INTO t SELECT i, printf('second %0500d', i) FROM c;
         COMMIT;",
    )
    .unwrap();
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    let wal = std::fs::read(format!("{path}-wal")).unwrap();
    let frame = 24 + PS;
    let frames = (wal.len() - 32) / frame;
    let commits: Vec<usize> = (0..frames)
        .filter(|&i| {
            u32::from_be_bytes(
                wal[32 + i * frame + 4..32 + i * frame + 8]
                    .try_into()
                    .unwrap(),
            ) != 0
        })
        .map(|i| i + 1)
        .collect();
    assert_eq!(
        commits.len(),
        2,
        "setup: expected two commit frames, got {commits:?}"
    );
    assert_eq!(commits[1], frames);
    (commits[0], frames)
}

/// What SQLite reads from a copy of the (damaged) files: rows of `t`.
fn sqlite_view(path: &str) -> Vec<(i64, Vec<Value>)> {
    let copy = format!("{path}.sqlite-view");
    copy_db(path, &copy);
    let conn = Connection::open(&copy).unwrap();
    let rows = sqlite_rows(&conn, "SELECT rowid, a, b FROM t ORDER BY rowid");
    drop(conn);
    rows.into_iter()
        .map(|mut r| {
            (
                match r.remove(0) {
                    Value::Integer(i) => i,
                    v => panic!("{v:?}"),
                },
                r,
            )
        })
        .collect()
}

fn expect_wal_prefix(
    backend_name: &str,
    what: &str,
    c: Case,
    expect_rows: usize,
    expect_max_frame: u64,
) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let what = format!("[corrupt WAL: {what} backend={backend_name}]");
    let sqlite = sqlite_view(&c.path);
    assert_eq!(
        sqlite.len(),
        expect_rows,
        "{what}: setup: SQLite's view has {} rows",
        sqlite.len()
    );
    b.load(&c.path);
    let path = c.path.clone();
    let io = b.io.clone();
    let (outcome, max_frame) = guarded(&what, move || {
        let _keep = c.dir;
        let max_frame = Storage::open(io, &path, options(PS, SyncMode::Off))
            .map(|s| s.wal().max_frame())
            .ok();
        (open_and_scan(&b, &path), max_frame)
    });
    let Outcome::Scanned(tables) = outcome else {
        panic!("{what}: a damaged WAL tail must be ignored, got {outcome}");
    };
    assert_eq!(
        max_frame,
        Some(expect_max_frame),
        "{what}: recovered max_frame"
    );
    let ours = &tables.iter().find(|(n, _)| n == "t").expect("table t").1;
    assert_eq!(ours.len(), expect_rows, "{what}: rows we see");
    assert_eq!(
        ours, &sqlite,
        "{what}: our rows vs SQLite's rows of the same files"
    );
}

fn wal_bad_frame_checksum(backend: &str) {
    let c = case();
    let (first_commit, frames) = wal_db(&c.path);
    assert!(frames > first_commit);
    // A byte of page data in the first frame of the second transaction.
    let off = 32 + first_commit * (24 + PS) + 24 + 1000;
    let mut wal = std::fs::read(format!("{}-wal", c.path)).unwrap();
    wal[off] ^= 0x55;
    std::fs::write(format!("{}-wal", c.path), wal).unwrap();
    expect_wal_prefix(
        backend,
        "bad checksum in 2nd transaction",
        c,
        100,
        first_commit as u64,
    );
}

fn wal_bad_checksum_last_frame(backend: &str) {
    let c = case();
    let (first_commit, frames) = wal_db(&c.path);
    // The stored checksum of the last (commit) frame.
    let off = 32 + (frames - 1) * (24 + PS) + 20;
    let mut wal = std::fs::read(format!("{}-wal", c.path)).unwrap();
    wal[off] ^= 0x01;
    std::fs::write(format!("{}-wal", c.path), wal).unwrap();
    expect_wal_prefix(
        backend,
        "bad checksum in the last commit frame",
        c,
        100,
        first_commit as u64,
    );
}

fn wal_bad_salt(backend: &str) {
    let c = case();
    let (first_commit, _) = wal_db(&c.path);
    let off = 32 + first_commit * (24 + PS) + 8;
    let mut wal = std::fs::read(format!("{}-wal", c.path)).unwrap();
    wal[off] ^= 0x80;
    std::fs::write(format!("{}-wal", c.path), wal).unwrap();
    expect_wal_prefix(
        backend,
        "bad salt in 2nd transaction",
        c,
        100,
        first_commit as u64,
    );
}

fn wal_bad_header_checksum(backend: &str) {
    let c = case();
    wal_db(&c.path);
    let mut wal = std::fs::read(format!("{}-wal", c.path)).unwrap();
    wal[28] ^= 0x01;
    std::fs::write(format!("{}-wal", c.path), wal).unwrap();
    expect_wal_prefix(backend, "bad WAL header checksum", c, 0, 0);
}

fn wal_torn_tail(backend: &str) {
    let c = case();
    let (first_commit, frames) = wal_db(&c.path);
    let wal = std::fs::read(format!("{}-wal", c.path)).unwrap();
    // Cut in the middle of the last frame's page data.
    let cut = 32 + (frames - 1) * (24 + PS) + 24 + PS / 2;
    std::fs::write(format!("{}-wal", c.path), &wal[..cut]).unwrap();
    expect_wal_prefix(backend, "torn last frame", c, 100, first_commit as u64);
}

fn wal_garbage_tail(backend: &str) {
    // Frames of random bytes appended after the valid WAL.
    let c = case();
    let (_, frames) = wal_db(&c.path);
    let mut wal = std::fs::read(format!("{}-wal", c.path)).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    wal.extend((0..3 * (24 + PS)).map(|_| rng.gen::<u8>()));
    std::fs::write(format!("{}-wal", c.path), wal).unwrap();
    expect_wal_prefix(
        backend,
        "garbage after the last frame",
        c,
        200,
        frames as u64,
    );
}

// --- Valid databases in settings other than Strata's own: opened, read, untouched ---

fn utf16_db(backend_name: &str) {
    // A UTF-16 rollback-journal database opens (text is converted above this layer, see
    // crates/strata/tests/utf16.rs); scanning its trees changes nothing.
    let c = case();
    let conn = Connection::open(&c.path).unwrap();
    conn.execute_batch(&format!(
        "PRAGMA page_size={PS}; PRAGMA encoding='UTF-16le'; PRAGMA journal_mode=DELETE; {SMALL_TABLE}"
    ))
    .unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    let Some(b) = backend(backend_name) else {
        return;
    };
    let what = format!("[UTF-16le backend={backend_name}]");
    let before = std::fs::read(&c.path).unwrap();
    b.load(&c.path);
    let path = c.path.clone();
    let (outcome, after) = guarded(&what, move || {
        let _keep = c.dir;
        let outcome = open_and_scan(&b, &path);
        (outcome, b.read_file(&path).unwrap())
    });
    assert!(
        matches!(outcome, Outcome::Scanned(_)),
        "{what}: expected a scan, got {outcome}"
    );
    assert!(after == before, "{what}: reading modified the file");
}

fn auto_vacuum_db(backend_name: &str) {
    // Auto-vacuum databases are opened and read (writes are refused by the pager, see
    // crates/strata/tests/auto_vacuum.rs); reading scans every row and changes nothing.
    for mode in ["FULL", "INCREMENTAL"] {
        let c = case();
        let conn = Connection::open(&c.path).unwrap();
        conn.execute_batch(&format!("PRAGMA page_size={PS}; PRAGMA auto_vacuum={mode}; PRAGMA journal_mode=WAL; {SMALL_TABLE}"))
            .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
        let Some(b) = backend(backend_name) else {
            return;
        };
        let what = format!("[auto_vacuum={mode} backend={backend_name}]");
        let before = std::fs::read(&c.path).unwrap();
        b.load(&c.path);
        let path = c.path.clone();
        let (outcome, after) = guarded(&what, move || {
            let _keep = c.dir;
            let outcome = open_and_scan(&b, &path);
            (outcome, b.read_file(&path).unwrap())
        });
        match &outcome {
            Outcome::Scanned(tables) => assert!(!tables.is_empty(), "{what}: no tables"),
            other => panic!("{what}: expected a scan, got {other}"),
        }
        assert!(after == before, "{what}: reading modified the file");
    }
}

#[test]
fn sanity_undamaged_files_scan() {
    // The scenarios' base files are readable when undamaged (so "Corrupt" above is caused
    // by the damage, not by the setup).
    for b in backend_list() {
        for sql in [
            SMALL_TABLE,
            BIG_TABLE,
            "CREATE TABLE big(x); INSERT INTO big VALUES (randomblob(20000));",
        ] {
            let c = case();
            sqlite_db(&c.path, sql);
            b.load(&c.path);
            match open_and_scan(&b, &c.path) {
                Outcome::Scanned(t) => assert!(!t.is_empty()),
                other => panic!("[{}] undamaged database: {other}", b.name),
            }
        }
        let c = case();
        let (_, frames) = wal_db(&c.path);
        b.load(&c.path);
        expect_wal_prefix(b.name, "undamaged", c, 200, frames as u64);
    }
}

macro_rules! per_backend {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            #[test]
            fn syscall() {
                super::$scenario("syscall");
            }
            #[test]
            fn uring() {
                super::$scenario("uring");
            }
            #[test]
            fn memory() {
                super::$scenario("memory");
            }
        }
    )*};
}

per_backend!(
    random_bytes_file,
    bad_page_size,
    truncated_half_page,
    truncated_mid_file,
    cell_pointer_out_of_range,
    bad_page_type,
    overflow_past_end,
    overflow_chain_ends_early,
    child_pointer_cycle,
    freelist_trunk_out_of_range,
    wal_bad_frame_checksum,
    wal_bad_checksum_last_frame,
    wal_bad_salt,
    wal_bad_header_checksum,
    wal_torn_tail,
    wal_garbage_tail,
    utf16_db,
    auto_vacuum_db,
);

/// Differential crash test against SQLite: a WAL SQLite wrote (six transactions) is cut at
/// many byte positions around frame boundaries; for each cut, what we recover must equal
/// what SQLite recovers from the same bytes.
fn wal_cut_points_match_sqlite(backend_name: &str) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let base = case();
    {
        let conn = Connection::open(&base.path).unwrap();
        conn.execute_batch(&format!("PRAGMA page_size={PS};"))
            .unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        conn.execute_batch("PRAGMA wal_autocheckpoint=0; CREATE TABLE t(a INTEGER, b TEXT); PRAGMA wal_checkpoint(TRUNCATE);")
            .unwrap();
        for tx in 0..6i64 {
            conn.execute_batch(&format!(
                "BEGIN;
                 WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n})
                 INSERT INTO t SELECT {tx} * 10000 + i, printf('tx{tx} %0{w}d', i) FROM c;
                 DELETE FROM t WHERE a % 7 = {tx};
                 COMMIT;",
                n = 20 + tx * 60,
                w = 10 + tx * 90
            ))
            .unwrap();
        }
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    let wal = std::fs::read(format!("{}-wal", base.path)).unwrap();
    let frame = 24 + PS;
    let frames = (wal.len() - 32) / frame;
    let mut cuts: Vec<usize> = vec![0, 16, 31, 32, 33];
    for f in 1..=frames {
        let end = 32 + f * frame;
        for c in [end - frame + 10, end - 1, end, end + 1] {
            if c <= wal.len() {
                cuts.push(c);
            }
        }
    }
    cuts.sort();
    cuts.dedup();
    let mut distinct = std::collections::BTreeSet::new();
    for cut in cuts {
        let c = case();
        std::fs::copy(&base.path, &c.path).unwrap();
        std::fs::write(format!("{}-wal", c.path), &wal[..cut]).unwrap();
        let sqlite = sqlite_view(&c.path);
        // sqlite_view worked on a copy; the files at c.path are untouched.
        distinct.insert(sqlite.len());
        let be = backend(b.name).unwrap();
        be.load(&c.path);
        let what = format!(
            "[WAL cut at byte {cut} of {} backend={}]",
            wal.len(),
            b.name
        );
        let path = c.path.clone();
        let outcome = guarded(&what, move || {
            let _keep = c.dir;
            open_and_scan(&be, &path)
        });
        let Outcome::Scanned(tables) = outcome else {
            panic!("{what}: a torn WAL must be recovered, got {outcome}");
        };
        let ours = &tables.iter().find(|(n, _)| n == "t").expect("table t").1;
        assert!(
            ours == &sqlite,
            "{what}: we recover {} rows, SQLite recovers {}",
            ours.len(),
            sqlite.len()
        );
    }
    assert!(
        distinct.len() >= 6,
        "setup: the cuts should expose several committed prefixes, saw {distinct:?}"
    );
}

#[test]
fn wal_cut_points_match_sqlite_memory() {
    wal_cut_points_match_sqlite("memory");
}

#[test]
fn wal_cut_points_match_sqlite_syscall() {
    wal_cut_points_match_sqlite("syscall");
}
