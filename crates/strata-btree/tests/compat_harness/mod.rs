//! Shared harness for the SQLite compatibility suites (compat_read, compat_write, corrupt).
//! (Kept apart from `tests/common/mod.rs`, which holds the B-tree unit suites' helpers.)
//!
//! - [`backends`] / [`backend_list`]: every IO backend the storage engine runs on. The memory
//!   backend runs in deferred mode, so every resumable operation goes through `Pending`.
//! - [`Backend::load`] / [`Backend::dump`]: move a database (and its `-wal`) between the real
//!   disk (where rusqlite works) and the backend's files (a no-op for disk backends).
//! - [`drive`]: the blocking driver for resumable operations.
//! - [`read_schema`], [`dump_table`], [`dump_index`]: whole-tree reads through our cursors.
//! - [`oracle_cmp`]: an independent implementation of SQLite's value order, used only to
//!   compute expected seek results over lists that SQLite itself sorted.
#![allow(dead_code)]

use std::cmp::Ordering;
use std::path::Path;
use std::sync::Arc;

use strata_btree::record::{decode_record, Collation, KeyInfo, SortOrder, Value};
use strata_btree::{BTreeCursor, SeekOp, TreeKind};
use strata_io::{MemoryIo, Poll, SyscallIo, IO};
use strata_pager::{Pager, Storage, StorageOptions, SyncMode};

pub type BResult<T> = Result<T, strata_btree::Error>;

/// One IO backend, plus (for the memory backend) the concrete object to move files in/out.
pub struct Backend {
    pub name: &'static str,
    pub io: Arc<dyn IO>,
    pub mem: Option<Arc<MemoryIo>>,
}

impl Backend {
    /// Makes the on-disk database at `path` (and `path-wal` if present) visible to this
    /// backend under the same path. Disk backends see the disk already.
    pub fn load(&self, path: &str) {
        if let Some(mem) = &self.mem {
            for p in [path.to_string(), format!("{path}-wal")] {
                match std::fs::read(&p) {
                    Ok(bytes) => mem.set_file_contents(&p, bytes),
                    Err(_) => {
                        let _ = self.io.remove_file(&p);
                    }
                }
            }
        }
    }

    /// Writes this backend's files for `path` (and `path-wal`) back to the disk, so that
    /// rusqlite can open them. A no-op for disk backends.
    pub fn dump(&self, path: &str) {
        if let Some(mem) = &self.mem {
            for p in [path.to_string(), format!("{path}-wal")] {
                match mem.file_contents(&p) {
                    Some(bytes) => std::fs::write(&p, bytes).expect("write dumped file"),
                    None => {
                        let _ = std::fs::remove_file(&p);
                    }
                }
            }
        }
    }

    /// Bytes of a file as this backend sees it.
    pub fn read_file(&self, path: &str) -> Option<Vec<u8>> {
        match &self.mem {
            Some(mem) => mem.file_contents(path),
            None => std::fs::read(path).ok(),
        }
    }

    /// Replaces a file as this backend sees it.
    pub fn write_file(&self, path: &str, bytes: Vec<u8>) {
        match &self.mem {
            Some(mem) => mem.set_file_contents(path, bytes),
            None => std::fs::write(path, bytes).expect("write file"),
        }
    }
}

pub fn memory_backend() -> Backend {
    // STRATA_MEMORY_SHUFFLE=<seed>: complete operations in a random order (still deferred).
    let mem = match std::env::var("STRATA_MEMORY_SHUFFLE") {
        Ok(s) => Arc::new(MemoryIo::new_shuffled(
            s.parse().expect("STRATA_MEMORY_SHUFFLE must be a u64"),
        )),
        Err(_) => Arc::new(MemoryIo::new_deferred()),
    };
    Backend {
        name: "memory",
        io: mem.clone(),
        mem: Some(mem),
    }
}

pub fn syscall_backend() -> Backend {
    Backend {
        name: "syscall",
        io: Arc::new(SyscallIo::new()),
        mem: None,
    }
}

#[cfg(target_os = "linux")]
pub fn uring_backend() -> Option<Backend> {
    match strata_io::UringIo::new() {
        Ok(io) => Some(Backend {
            name: "uring",
            io: Arc::new(io),
            mem: None,
        }),
        Err(e) => {
            eprintln!("SKIP uring backend: UringIo::new() failed: {e}");
            None
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn uring_backend() -> Option<Backend> {
    eprintln!("SKIP uring backend: not Linux");
    None
}

/// A backend by name ("syscall", "uring", "memory"); `None` if it is unavailable here.
pub fn backend(name: &str) -> Option<Backend> {
    match name {
        "syscall" => Some(syscall_backend()),
        "uring" => uring_backend(),
        "memory" => Some(memory_backend()),
        other => panic!("unknown backend {other}"),
    }
}

/// Every backend available on this machine.
pub fn backend_list() -> Vec<Backend> {
    ["syscall", "uring", "memory"]
        .into_iter()
        .filter_map(backend)
        .collect()
}

/// Every backend available on this machine, as (name, IO).
pub fn backends() -> Vec<(&'static str, Arc<dyn IO>)> {
    backend_list().into_iter().map(|b| (b.name, b.io)).collect()
}

pub fn options(page_size: usize, sync_mode: SyncMode) -> StorageOptions {
    StorageOptions {
        page_size,
        reserved_bytes: 0,
        cache_size_pages: 500,
        sync_mode,
        autocheckpoint_frames: 0,
    }
}

/// Consecutive `Pending` results after which [`drive`] declares the operation stuck.
const PENDING_LIMIT: u64 = 5_000_000;

/// Drives a resumable operation to completion: calls `op` until it is `Ready`, running the
/// IO in between. Panics if the IO itself fails to run or the operation never finishes.
pub fn drive<T, E>(io: &dyn IO, mut op: impl FnMut() -> Result<Poll<T>, E>) -> Result<T, E> {
    let mut pending = 0u64;
    loop {
        match op()? {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending => {
                pending += 1;
                assert!(
                    pending < PENDING_LIMIT,
                    "operation returned Pending {pending} times in a row"
                );
                // Every other time, call again at once, before any I/O could complete: a
                // resumable call changes nothing before it may return Pending (or records
                // its progress), so an early repeat must be harmless.
                if pending % 2 == 1 {
                    continue;
                }
                io.run_once().expect("IO::run_once failed");
            }
        }
    }
}

/// The current entry's whole payload, copied out.
pub fn payload(io: &dyn IO, cur: &mut BTreeCursor) -> BResult<Vec<u8>> {
    let mut pending = 0u64;
    loop {
        match cur.payload()? {
            Poll::Ready(p) => return Ok(p.to_vec()),
            Poll::Pending => {
                pending += 1;
                assert!(
                    pending < PENDING_LIMIT,
                    "payload() returned Pending {pending} times in a row"
                );
                io.run_once().expect("IO::run_once failed");
            }
        }
    }
}

pub fn decode_owned(buf: &[u8]) -> Vec<Value> {
    decode_record(buf)
        .unwrap_or_else(|e| panic!("record does not decode: {e}"))
        .into_iter()
        .map(|v| v.to_value())
        .collect()
}

pub fn encode(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    strata_btree::record::encode_values(values, &mut out);
    out
}

/// A row of `sqlite_schema`.
#[derive(Clone, Debug, PartialEq)]
pub struct SchemaRow {
    pub kind: String,
    pub name: String,
    pub tbl_name: String,
    pub rootpage: i64,
    pub sql: Option<String>,
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Text(t) => String::from_utf8(t.clone()).expect("schema text is UTF-8"),
        other => panic!("expected TEXT in sqlite_schema, got {other:?}"),
    }
}

/// A `sqlite_schema` row from its 5 values.
pub fn schema_row(r: &[Value]) -> SchemaRow {
    assert_eq!(
        r.len(),
        5,
        "sqlite_schema row has {} columns: {r:?}",
        r.len()
    );
    SchemaRow {
        kind: text_of(&r[0]),
        name: text_of(&r[1]),
        tbl_name: text_of(&r[2]),
        rootpage: match r[3] {
            Value::Integer(i) => i,
            ref other => panic!("rootpage is {other:?}"),
        },
        sql: match &r[4] {
            Value::Null => None,
            v => Some(text_of(v)),
        },
    }
}

/// Reads `sqlite_schema` (the table B-tree rooted at page 1). Needs a read transaction.
pub fn read_schema(pager: &Arc<Pager>) -> BResult<Vec<SchemaRow>> {
    Ok(dump_table(pager, 1)?
        .into_iter()
        .map(|(_, r)| schema_row(&r))
        .collect())
}

/// Forward scan of a table B-tree: (rowid, raw payload). Needs a read transaction.
pub fn dump_table_raw(pager: &Arc<Pager>, root: u32) -> BResult<Vec<(i64, Vec<u8>)>> {
    let io = pager.io().clone();
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
    drive(io.as_ref(), || cur.rewind())?;
    let mut out = Vec::new();
    while !cur.is_eof() {
        let rowid = cur.rowid()?;
        let p = payload(io.as_ref(), &mut cur)?;
        out.push((rowid, p));
        drive(io.as_ref(), || cur.next())?;
    }
    Ok(out)
}

/// Forward scan of a table B-tree, records decoded. Needs a read transaction.
pub fn dump_table(pager: &Arc<Pager>, root: u32) -> BResult<Vec<(i64, Vec<Value>)>> {
    Ok(dump_table_raw(pager, root)?
        .into_iter()
        .map(|(r, p)| (r, decode_owned(&p)))
        .collect())
}

/// Backward scan (last/prev) of a table B-tree, records decoded.
pub fn dump_table_rev(pager: &Arc<Pager>, root: u32) -> BResult<Vec<(i64, Vec<Value>)>> {
    let io = pager.io().clone();
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
    drive(io.as_ref(), || cur.last())?;
    let mut out = Vec::new();
    while !cur.is_eof() {
        let rowid = cur.rowid()?;
        let p = payload(io.as_ref(), &mut cur)?;
        out.push((rowid, decode_owned(&p)));
        drive(io.as_ref(), || cur.prev())?;
    }
    Ok(out)
}

pub fn key_info_for(ncols: usize) -> Arc<KeyInfo> {
    Arc::new(KeyInfo {
        fields: vec![(Collation::Binary, SortOrder::Asc); ncols],
        ..Default::default()
    })
}

/// Forward scan of an index B-tree with the given key description, records decoded.
pub fn dump_index_with(
    pager: &Arc<Pager>,
    root: u32,
    key_info: Arc<KeyInfo>,
) -> BResult<Vec<Vec<Value>>> {
    let io = pager.io().clone();
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(key_info));
    drive(io.as_ref(), || cur.rewind())?;
    let mut out = Vec::new();
    while !cur.is_eof() {
        let p = payload(io.as_ref(), &mut cur)?;
        out.push(decode_owned(&p));
        drive(io.as_ref(), || cur.next())?;
    }
    Ok(out)
}

/// Backward scan of an index B-tree, records decoded.
pub fn dump_index_rev(
    pager: &Arc<Pager>,
    root: u32,
    key_info: Arc<KeyInfo>,
) -> BResult<Vec<Vec<Value>>> {
    let io = pager.io().clone();
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(key_info));
    drive(io.as_ref(), || cur.last())?;
    let mut out = Vec::new();
    while !cur.is_eof() {
        let p = payload(io.as_ref(), &mut cur)?;
        out.push(decode_owned(&p));
        drive(io.as_ref(), || cur.prev())?;
    }
    Ok(out)
}

/// Forward scan of an index B-tree of `ncols` indexed columns (plus the rowid).
pub fn dump_index(pager: &Arc<Pager>, root: u32, ncols: usize) -> BResult<Vec<Vec<Value>>> {
    let rows = dump_index_with(pager, root, key_info_for(ncols))?;
    for r in &rows {
        assert_eq!(
            r.len(),
            ncols + 1,
            "index record {r:?} should have {ncols} columns + rowid"
        );
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------
// SQLite side
// ---------------------------------------------------------------------------------------

pub fn from_sqlite(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef as R;
    match v {
        R::Null => Value::Null,
        R::Integer(i) => Value::Integer(i),
        R::Real(r) => Value::Real(r),
        R::Text(t) => Value::Text(t.to_vec()),
        R::Blob(b) => Value::Blob(b.to_vec()),
    }
}

pub fn to_sqlite(v: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as S;
    match v {
        Value::Null => S::Null,
        Value::Integer(i) => S::Integer(*i),
        Value::Real(r) => S::Real(*r),
        Value::Text(t) => S::Text(String::from_utf8(t.clone()).expect("test text is UTF-8")),
        Value::Blob(b) => S::Blob(b.clone()),
    }
}

/// Every row of a query, as values.
pub fn sqlite_rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn
        .prepare(sql)
        .unwrap_or_else(|e| panic!("prepare {sql}: {e}"));
    let n = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        out.push(
            (0..n)
                .map(|i| from_sqlite(row.get_ref(i).unwrap()))
                .collect(),
        );
    }
    out
}

pub fn integrity_check(conn: &rusqlite::Connection) -> Vec<String> {
    let mut stmt = conn.prepare("PRAGMA integrity_check(20)").unwrap();
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).unwrap();
    rows.map(|r| r.unwrap()).collect()
}

/// Short printable form of a value (long texts/blobs abbreviated) for failure messages.
pub fn show(v: &Value) -> String {
    match v {
        Value::Text(t) if t.len() > 40 => {
            format!(
                "Text[{} bytes: {:?}..]",
                t.len(),
                String::from_utf8_lossy(&t[..40])
            )
        }
        Value::Blob(b) if b.len() > 40 => format!("Blob[{} bytes: {:02x?}..]", b.len(), &b[..16]),
        other => format!("{other:?}"),
    }
}

pub fn show_row(r: &[Value]) -> String {
    let parts: Vec<String> = r.iter().map(show).collect();
    format!("[{}]", parts.join(", "))
}

/// Asserts two row lists are equal, reporting the first difference compactly.
pub fn assert_rows_eq(what: &str, ours: &[Vec<Value>], expected: &[Vec<Value>]) {
    for (i, (a, b)) in ours.iter().zip(expected).enumerate() {
        if a != b {
            panic!(
                "{what}: row {i} differs\n  ours:     {}\n  expected: {}",
                show_row(a),
                show_row(b)
            );
        }
    }
    if ours.len() != expected.len() {
        let extra = if ours.len() > expected.len() {
            format!("first extra of ours: {}", show_row(&ours[expected.len()]))
        } else {
            format!(
                "first missing from ours: {}",
                show_row(&expected[ours.len()])
            )
        };
        panic!(
            "{what}: we have {} rows, SQLite/model has {}; {extra}",
            ours.len(),
            expected.len()
        );
    }
}

// ---------------------------------------------------------------------------------------
// An independent oracle of SQLite's value order (for expected seek positions)
// ---------------------------------------------------------------------------------------

fn class_rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Integer(_) | Value::Real(_) => 1,
        Value::Text(_) => 2,
        Value::Blob(_) => 3,
    }
}

/// Exact integer-vs-real comparison (no rounding of the integer).
pub fn cmp_int_real(i: i64, r: f64) -> Ordering {
    if r.is_nan() {
        return Ordering::Greater;
    }
    if r < -9223372036854775808.0 {
        return Ordering::Greater;
    }
    if r >= 9223372036854775808.0 {
        return Ordering::Less;
    }
    let fl = r.floor();
    let ri = fl as i64; // exact: |fl| < 2^63 and fl is integral
    match i.cmp(&ri) {
        Ordering::Equal => {
            if r > fl {
                Ordering::Less
            } else {
                Ordering::Equal
            }
        }
        o => o,
    }
}

fn fold(b: &[u8]) -> Vec<u8> {
    b.iter().map(|c| c.to_ascii_lowercase()).collect()
}

fn rtrim(b: &[u8]) -> &[u8] {
    let mut n = b.len();
    while n > 0 && b[n - 1] == b' ' {
        n -= 1;
    }
    &b[..n]
}

pub fn oracle_cmp(a: &Value, b: &Value, coll: Collation) -> Ordering {
    let (ra, rb) = (class_rank(a), class_rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Integer(x), Value::Integer(y)) => x.cmp(y),
        (Value::Real(x), Value::Real(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Value::Integer(x), Value::Real(y)) => cmp_int_real(*x, *y),
        (Value::Real(x), Value::Integer(y)) => cmp_int_real(*y, *x).reverse(),
        (Value::Text(x), Value::Text(y)) => match coll {
            Collation::Binary => x.as_slice().cmp(y.as_slice()),
            Collation::NoCase => fold(x).cmp(&fold(y)),
            Collation::RTrim => rtrim(x).cmp(rtrim(y)),
        },
        (Value::Blob(x), Value::Blob(y)) => x.cmp(y),
        _ => unreachable!(),
    }
}

/// Compares the first `key.len()` fields of `entry` with `key` under `ki`.
pub fn oracle_cmp_prefix(entry: &[Value], key: &[Value], ki: &KeyInfo) -> Ordering {
    for (i, k) in key.iter().enumerate() {
        let (coll, order) = ki.field(i);
        let e = entry.get(i).unwrap_or(&Value::Null);
        let o = oracle_cmp(e, k, coll);
        let o = match order {
            SortOrder::Asc => o,
            SortOrder::Desc => o.reverse(),
            other => unreachable!("index keys never sort {other:?}"),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

/// Expected index of the entry a seek lands on in a sorted list, per the contract.
pub fn expected_index_seek(
    entries: &[Vec<Value>],
    key: &[Value],
    ki: &KeyInfo,
    op: SeekOp,
) -> Option<usize> {
    let cmp = |e: &Vec<Value>| oracle_cmp_prefix(e, key, ki);
    match op {
        SeekOp::GE => entries.iter().position(|e| cmp(e) != Ordering::Less),
        SeekOp::GT => entries.iter().position(|e| cmp(e) == Ordering::Greater),
        SeekOp::LE => entries.iter().rposition(|e| cmp(e) != Ordering::Greater),
        SeekOp::LT => entries.iter().rposition(|e| cmp(e) == Ordering::Less),
        SeekOp::EQ => entries.iter().position(|e| cmp(e) == Ordering::Equal),
    }
}

/// Expected index of the entry `seek_rowid` lands on in an ascending rowid list.
pub fn expected_rowid_seek(rowids: &[i64], key: i64, op: SeekOp) -> Option<usize> {
    match op {
        SeekOp::GE => rowids.iter().position(|&r| r >= key),
        SeekOp::GT => rowids.iter().position(|&r| r > key),
        SeekOp::LE => rowids.iter().rposition(|&r| r <= key),
        SeekOp::LT => rowids.iter().rposition(|&r| r < key),
        SeekOp::EQ => rowids.iter().position(|&r| r == key),
    }
}

pub const SEEK_OPS: [SeekOp; 5] = [SeekOp::GE, SeekOp::GT, SeekOp::LE, SeekOp::LT, SeekOp::EQ];

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

pub fn path_str(p: &Path) -> String {
    p.to_str().expect("UTF-8 temp path").to_string()
}

/// Copies `src` and `src-wal` (if present) to `dst` and `dst-wal`; removes a stale `dst-wal`
/// and `dst-shm`.
pub fn copy_db(src: &str, dst: &str) {
    std::fs::copy(src, dst).expect("copy db");
    let _ = std::fs::remove_file(format!("{dst}-wal"));
    let _ = std::fs::remove_file(format!("{dst}-shm"));
    if Path::new(&format!("{src}-wal")).exists() {
        std::fs::copy(format!("{src}-wal"), format!("{dst}-wal")).expect("copy wal");
    }
}

/// Opens `path` with our layers on `backend`, asserting success.
pub fn open_storage(b: &Backend, path: &str, page_size: usize) -> Arc<Storage> {
    Storage::open(b.io.clone(), path, options(page_size, SyncMode::Normal))
        .unwrap_or_else(|e| panic!("[{}] Storage::open({path}) failed: {e}", b.name))
}

/// Seed for a test: fixed, but overridable with STRATA_TEST_SEED to replay a failure.
pub fn seed(default: u64) -> u64 {
    match std::env::var("STRATA_TEST_SEED") {
        Ok(s) => s.parse().expect("STRATA_TEST_SEED must be a u64"),
        Err(_) => default,
    }
}

/// Gives SQLite's new database `conn` `reserved` bytes at the end of every page (as
/// encryption or checksum extensions use), before its first write.
pub fn sqlite_reserve_bytes(conn: &rusqlite::Connection, reserved: usize) {
    const SQLITE_FCNTL_RESERVE_BYTES: i32 = 38;
    let mut n: std::os::raw::c_int = reserved as _;
    // SAFETY: a valid open connection handle, a NUL-terminated schema name and an int
    // argument, as SQLITE_FCNTL_RESERVE_BYTES expects.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            SQLITE_FCNTL_RESERVE_BYTES,
            &mut n as *mut std::os::raw::c_int as *mut std::os::raw::c_void,
        )
    };
    assert_eq!(rc, 0, "setup: SQLITE_FCNTL_RESERVE_BYTES");
}
