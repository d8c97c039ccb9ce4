//! Helpers shared by the fuzz targets: driving resumable calls with a bound, and a bounded
//! "open and read everything" pass over a database (schema, every tree forward and backward,
//! seeks, record decoding, the structural checker).
//!
//! Everything here is bounded per input, whatever the bytes say: a damaged file may describe
//! a cycle or a DAG of pages whose in-order walk is exponentially long, so scans stop after
//! [`MAX_ENTRIES`] entries and drivers after [`MAX_POLLS`] `Pending`s. Hitting a limit is
//! not a bug; running past one (a hang) or panicking is.

use std::sync::Arc;

use strata_btree::check::{check_freelist, check_page_usage, check_tree};
use strata_btree::record::{decode_record, KeyInfo, Record, Value, ValueRef};
use strata_btree::{BTreeCursor, SeekOp, TreeKind};
use strata_io::{Poll, IO};
use strata_pager::{PageRef, Pager, Storage, StorageOptions};

/// Entries read per scan direction per tree.
pub const MAX_ENTRIES: usize = 2_000;
/// Schema rows whose trees are opened.
pub const MAX_TREES: usize = 24;
/// `Pending` results tolerated for a single call. Every `run_once` completes at least one
/// queued operation, so an honest resumable call needs about one per page it reads; far
/// more means it re-submits forever (a livelock), which is a bug.
pub const MAX_POLLS: usize = 100_000;

/// Drives a resumable call to completion. Panics (a fuzz finding) if it never finishes.
pub fn drive<T, E: From<strata_io::IoError>>(
    io: &dyn IO,
    mut op: impl FnMut() -> Result<Poll<T>, E>,
) -> Result<T, E> {
    for _ in 0..MAX_POLLS {
        match op()? {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending => io.run_once()?,
        }
    }
    panic!("resumable call still Pending after {MAX_POLLS} polls: livelock");
}

/// Decodes a record both ways (`Record::parse` + `get`, and `decode_record`) and checks the
/// two agree: they share the header walker, but `get` re-derives each column's bounds.
/// Returns the owned values when the record is well-formed.
pub fn decode_both(buf: &[u8]) -> Option<Vec<Value>> {
    let parsed = Record::parse(buf);
    let decoded = decode_record(buf);
    match (&parsed, &decoded) {
        (Ok(rec), Ok(values)) => {
            assert_eq!(
                rec.len(),
                values.len(),
                "Record::parse and decode_record disagree on length"
            );
            for (i, v) in values.iter().enumerate() {
                let got = rec.get(i).expect("column of a parsed record");
                assert!(
                    same_value(got, *v),
                    "column {i}: get() = {got:?}, decode_record = {v:?}"
                );
                assert!(same_value(rec.get_or_null(i).unwrap(), *v));
            }
            assert!(
                rec.get(values.len()).is_err(),
                "get past the last column must fail"
            );
            assert!(matches!(rec.get_or_null(values.len()), Ok(ValueRef::Null)));
            Some(values.iter().map(|v| v.to_value()).collect())
        }
        (Err(_), Err(_)) => None,
        _ => panic!(
            "Record::parse = {:?} but decode_record = {:?}",
            parsed.as_ref().map(|r| r.len()),
            decoded.as_ref().map(|v| v.len())
        ),
    }
}

/// Equality that treats NaN as equal to itself (a stored NaN must decode the same way
/// through both paths) and distinguishes -0.0 from 0.0 bitwise.
pub fn same_value(a: ValueRef<'_>, b: ValueRef<'_>) -> bool {
    match (a, b) {
        (ValueRef::Real(x), ValueRef::Real(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// A schema row's tree.
struct TreeRef {
    root: u32,
    kind: TreeKind,
}

/// Opens `path` on `io` and reads everything reachable, within the limits. Returns a
/// transcript of what was seen (entries, errors), so that two runs of the same bytes on
/// differently behaving IOs can be compared. Errors are outcomes, not failures.
pub fn scan_database(io: Arc<dyn IO>, path: &str, cache_size_pages: usize) -> String {
    let mut t = String::new();
    let options = StorageOptions {
        cache_size_pages,
        ..StorageOptions::default()
    };
    let storage = match Storage::open(io.clone(), path, options) {
        Ok(s) => s,
        Err(e) => return format!("open: {e:?}"),
    };
    let pager = storage.pager();
    if let Err(e) = pager.begin_read() {
        return format!("begin_read: {e:?}");
    }
    let io = io.as_ref();
    // sqlite_schema: type, name, tbl_name, rootpage, sql.
    let schema = scan_tree(io, &pager, 1, TreeKind::Table, &mut t);
    let mut trees = Vec::new();
    for row in schema.iter().take(MAX_TREES) {
        let (Some(Value::Text(ty)), Some(Value::Integer(root))) = (row.first(), row.get(3)) else {
            continue;
        };
        let Ok(root) = u32::try_from(*root) else {
            continue;
        };
        if root == 0 {
            continue; // views and triggers have no tree
        }
        let without_rowid = matches!(row.get(4), Some(Value::Text(sql))
            if String::from_utf8_lossy(sql).to_ascii_uppercase().contains("WITHOUT ROWID"));
        let kind = if ty.as_slice() == b"table" && !without_rowid {
            TreeKind::Table
        } else {
            // Indexes and WITHOUT ROWID tables. The collations and directions are in the SQL
            // text, which the SQL layer will parse; BINARY ASC still exercises every path.
            TreeKind::Index(Arc::new(KeyInfo::default()))
        };
        trees.push(TreeRef { root, kind });
    }
    for tree in &trees {
        t.push_str(&format!("\ntree {}:", tree.root));
        scan_tree(io, &pager, tree.root, tree.kind.clone(), &mut t);
    }
    check_all(io, &pager, &trees, &mut t);
    pager.end_read();
    t
}

/// Scans one tree forward and backward (each at most [`MAX_ENTRIES`]), decoding each
/// payload as a record and seeking to a sample of the keys seen. Returns the decoded
/// records of the forward scan (for the schema).
fn scan_tree(
    io: &dyn IO,
    pager: &Arc<Pager>,
    root: u32,
    kind: TreeKind,
    t: &mut String,
) -> Vec<Vec<Value>> {
    let is_table = matches!(kind, TreeKind::Table);
    let mut records = Vec::new();
    let mut forward: Vec<(i64, Vec<u8>)> = Vec::new();
    let fwd_done = walk(io, pager, root, &kind, true, &mut forward, t);
    for (_, payload) in &forward {
        if let Some(values) = decode_both(payload) {
            records.push(values);
        } else {
            records.push(Vec::new());
        }
    }
    let mut backward = Vec::new();
    let back_done = walk(io, pager, root, &kind, false, &mut backward, t);
    // Both walks read the same pages in mirrored order, so when both completed they must
    // have seen the same entries.
    if fwd_done && back_done {
        backward.reverse();
        assert!(
            forward == backward,
            "tree {root}: forward and backward scans differ ({} vs {} entries)",
            forward.len(),
            backward.len()
        );
    }
    // Seeks to a sample of the keys seen (every op): on a damaged tree the result may be
    // anything, but it must be a result.
    let mut cursor = BTreeCursor::new(pager.clone(), root, kind.clone());
    let step = (forward.len() / 8).max(1);
    for (rowid, payload) in forward.iter().step_by(step).take(8) {
        // The index key, decoded once for the five seeks.
        let key = if is_table {
            Vec::new()
        } else {
            decode_record(payload)
                .map(|v| v.iter().map(|x| x.to_value()).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        for op in [SeekOp::EQ, SeekOp::GE, SeekOp::GT, SeekOp::LE, SeekOp::LT] {
            let r = if is_table {
                drive(io, || cursor.seek_rowid(*rowid, op))
            } else {
                drive(io, || cursor.seek_index(&key, op))
            };
            match r {
                Ok(found) => {
                    t.push_str(&format!(" s{}", found as u8));
                    if found {
                        let p = drive(io, || cursor.payload().map(|p| p.map(|b| b.len())));
                        t.push_str(&format!(":{p:?}"));
                    }
                }
                Err(e) => t.push_str(&format!(" seek-err {e:?}")),
            }
        }
    }
    if is_table {
        let r = drive(io, || cursor.max_rowid());
        t.push_str(&format!(" max {r:?}"));
    }
    records
}

/// One direction of a scan. Returns true if it reached the end without error or limit.
fn walk(
    io: &dyn IO,
    pager: &Arc<Pager>,
    root: u32,
    kind: &TreeKind,
    forward: bool,
    out: &mut Vec<(i64, Vec<u8>)>,
    t: &mut String,
) -> bool {
    let is_table = matches!(kind, TreeKind::Table);
    let mut c = BTreeCursor::new(pager.clone(), root, kind.clone());
    let start = if forward {
        drive(io, || c.rewind())
    } else {
        drive(io, || c.last())
    };
    if let Err(e) = start {
        t.push_str(&format!(" start-err {e:?}"));
        return false;
    }
    while !c.is_eof() {
        if out.len() >= MAX_ENTRIES {
            t.push_str(" limit");
            return false;
        }
        let rowid = if is_table {
            match c.rowid() {
                Ok(r) => r,
                Err(e) => {
                    t.push_str(&format!(" rowid-err {e:?}"));
                    return false;
                }
            }
        } else {
            0
        };
        match drive(io, || c.payload().map(|p| p.map(|b| b.to_vec()))) {
            Ok(p) => out.push((rowid, p)),
            Err(e) => {
                t.push_str(&format!(" payload-err {e:?}"));
                return false;
            }
        }
        let r = if forward {
            drive(io, || c.next())
        } else {
            drive(io, || c.prev())
        };
        if let Err(e) = r {
            t.push_str(&format!(" step-err {e:?}"));
            return false;
        }
    }
    t.push_str(&format!(
        " {}:{}",
        if forward { "f" } else { "b" },
        out.len()
    ));
    true
}

/// Runs the structural checker (what `PRAGMA integrity_check` will use) over every tree and
/// the freelist; a damaged file must give an error from it, not a panic or a hang.
fn check_all(io: &dyn IO, pager: &Arc<Pager>, trees: &[TreeRef], t: &mut String) {
    let usable = pager.usable_size();
    let size = pager.db_size_pages();
    let mut load =
        |n: u32| -> strata_btree::Result<PageRef> { drive(io, || Ok(pager.get_page(n)?)) };
    let mut used = Vec::new();
    let mut ok = true;
    let schema = [TreeRef {
        root: 1,
        kind: TreeKind::Table,
    }];
    for tree in schema.iter().chain(trees) {
        let ki = match &tree.kind {
            TreeKind::Table => None,
            TreeKind::Index(ki) => Some(ki.as_ref()),
        };
        match check_tree(&mut load, usable, size, tree.root, ki) {
            Ok(stats) => used.extend_from_slice(&stats.pages),
            Err(e) => {
                ok = false;
                t.push_str(&format!("\ncheck {}: {e:?}", tree.root));
            }
        }
    }
    match check_freelist(&mut load, usable, size) {
        Ok(pages) => used.extend_from_slice(&pages),
        Err(e) => {
            ok = false;
            t.push_str(&format!("\nfreelist: {e:?}"));
        }
    }
    if ok {
        // Only meaningful when every part was walked; `check_page_usage` allocates one flag
        // per page of the (possibly huge, per a WAL commit frame) claimed size, so cap it.
        if size <= 1 << 20 {
            t.push_str(&format!(
                "\nusage: {:?}",
                check_page_usage(size, &used).map_err(|e| e.to_string())
            ));
        }
    }
}

/// Runs every `;`-separated statement of `sql` on a Strata connection with a bounded
/// number of steps, collecting each statement's rows (as text) or its error class. Stepping
/// is non-blocking: `Io` drives the IO, `Busy` ends the statement (one connection: it
/// cannot happen), and a statement stepping past `max_steps` is a hang (a panic).
pub fn strata_run(
    conn: &strata::Connection,
    sql: &str,
    max_steps: usize,
) -> Vec<Result<Vec<String>, String>> {
    let mut out = Vec::new();
    let mut rest = sql;
    for _ in 0..64 {
        let (mut stmt, tail) = match conn.prepare_with_tail(rest) {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                out.push(Err(format!("{:?}", e.code())));
                break;
            }
        };
        rest = &rest[tail.min(rest.len())..];
        let result = strata_step_all(conn, &mut stmt, max_steps);
        out.push(result);
    }
    out
}

/// Steps a prepared statement to the end with [`strata_run`]'s rules (at most `max_steps`
/// steps, else a panic: a hang), collecting its rows as text (the first 10,000) or its
/// error class.
pub fn strata_step_all(
    conn: &strata::Connection,
    stmt: &mut strata::Statement,
    max_steps: usize,
) -> Result<Vec<String>, String> {
    let mut rows = Vec::new();
    let mut steps = 0usize;
    loop {
        steps += 1;
        assert!(
            steps < max_steps,
            "statement still running after {max_steps} steps: {}",
            stmt.sql()
        );
        match stmt.step() {
            Ok(strata::StepResult::Row) => {
                if rows.len() < 10_000 {
                    let vals: Vec<String> = stmt.row().values().iter().map(value_text).collect();
                    rows.push(vals.join("|"));
                }
            }
            Ok(strata::StepResult::Done) => return Ok(rows),
            Ok(strata::StepResult::Io) => {
                if let Err(e) = conn.io().run_once() {
                    return Err(format!("io: {e}"));
                }
            }
            Ok(strata::StepResult::Busy) => return Err("busy".into()),
            Err(e) => return Err(format!("{:?}", e.code())),
        }
    }
}

/// A value as text for comparisons: integers and text exactly, reals rounded to 12
/// significant digits (formatting is not what the differential target checks).
pub fn value_text(v: &strata::Value) -> String {
    match v {
        strata::Value::Null => "NULL".into(),
        strata::Value::Integer(i) => format!("i{i}"),
        strata::Value::Real(r) => format!("r{:.11e}", if *r == 0.0 { 0.0 } else { *r }),
        strata::Value::Text(t) => format!("t{}", String::from_utf8_lossy(t)),
        strata::Value::Blob(b) => format!("b{b:02x?}"),
    }
}

/// The same for a SQLite value.
pub fn sqlite_value_text(v: rusqlite::types::ValueRef<'_>) -> String {
    use rusqlite::types::ValueRef as V;
    match v {
        V::Null => "NULL".into(),
        V::Integer(i) => format!("i{i}"),
        V::Real(r) => format!("r{:.11e}", if r == 0.0 { 0.0 } else { r }),
        V::Text(t) => format!("t{}", String::from_utf8_lossy(t)),
        V::Blob(b) => format!("b{b:02x?}"),
    }
}
