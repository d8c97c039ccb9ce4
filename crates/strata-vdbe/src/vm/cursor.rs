//! The VM's cursors: B-tree table and index cursors (over [`BTreeCursor`]), ephemeral
//! tables and indexes (in memory), sorters and pseudo cursors, plus the per-row record
//! cache that `Column` reads from.
//!
//! Every cursor caches the parsed header of its current row ([`RowCache`]): it is parsed
//! once per row position, and each `Column` then decodes one field without allocating.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

pub(crate) use strata_btree::record::encode_values_in;
use strata_btree::record::{
    compare_key_values_in, serial_type_len, KeyInfo, TextCmp, TextEncoding, Value, ValueRef,
};
use strata_btree::varint::read_varint;
use strata_btree::{BTreeCursor, SeekOp};

use super::sorter::Sorter;
use super::VmError;
use crate::insn::{Addr, InsertFlags, Reg};

// ---------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------

#[cold]
pub(crate) fn malformed() -> VmError {
    VmError::corrupt()
}

/// Parsed header of the current row: (serial type, body offset) per field.
#[derive(Default, Debug)]
pub(crate) struct RowCache {
    pub valid: bool,
    /// The fields parsed so far: serial type and body offset.
    pub cols: Vec<(u64, usize)>,
    /// Where the header's next serial type starts (`hdr_end` once all are parsed).
    next_type: usize,
    /// Where the header ends (the first field's body offset).
    hdr_end: usize,
    /// Where the body of the next field to parse starts.
    next_body: usize,
}

/// How many fields past the one asked for `RowCache` parses in one go.
const PARSE_AHEAD_FIELDS: usize = 7;

impl RowCache {
    #[inline]
    pub fn invalidate(&mut self) {
        self.valid = false;
    }

    /// Starts on `buf`'s record: reads the header's size only. The serial types are
    /// parsed as columns ask for them (SQLite's `nHdrParsed`), a few ahead: a query
    /// reading the third of forty columns parses ten. As in SQLite, a record whose body size
    /// disagrees with its header is reported once the whole header has been parsed
    /// (a column at or past the last was asked for), not before.
    pub fn parse(&mut self, buf: &[u8]) -> Result<(), VmError> {
        self.cols.clear();
        self.valid = false;
        let (h, n) = read_varint(buf).map_err(|_| malformed())?;
        if h < n as u64 || h > buf.len() as u64 {
            return Err(malformed());
        }
        self.hdr_end = h as usize;
        self.next_type = n;
        self.next_body = self.hdr_end;
        self.valid = true;
        Ok(())
    }

    /// Parses serial types until field `i` is known or the header ends (validated like
    /// `Record::parse`: every field's body inside `buf`, and at the header's end the
    /// body ending exactly at `buf`'s end). On an error the cache is invalid.
    #[inline(never)]
    fn parse_through(&mut self, buf: &[u8], i: usize) -> Result<(), VmError> {
        let r = self.parse_through_inner(buf, i);
        if r.is_err() {
            self.valid = false;
        }
        r
    }

    fn parse_through_inner(&mut self, buf: &[u8], i: usize) -> Result<(), VmError> {
        let hdr_end = self.hdr_end;
        if self.cols.capacity() == 0 {
            // At most one field per header byte: one allocation for a new cursor's
            // first row instead of the vector doubling its way up. Capped: a damaged
            // header's length is no reason to reserve ahead of the fields parsed.
            self.cols.reserve((hdr_end - self.next_type).min(64));
        }
        let header = buf.get(..hdr_end).ok_or_else(malformed)?;
        let mut pos = self.next_type;
        let mut body = self.next_body;
        // A few fields past the one asked for: columns are mostly read in order, and
        // one call per field cost more than parsing a short header whole (`SELECT *`
        // of five columns, issue 13), while a wide table still parses only the head
        // of its header for its first columns.
        let through = i.saturating_add(PARSE_AHEAD_FIELDS);
        while self.cols.len() <= through && pos < hdr_end {
            let (st, k) = read_varint(&header[pos..]).map_err(|_| malformed())?;
            pos += k;
            let len = serial_type_len(st).map_err(|_| malformed())?;
            self.cols.push((st, body));
            body = body.checked_add(len).ok_or_else(malformed)?;
            if body > buf.len() {
                return Err(malformed());
            }
        }
        self.next_type = pos;
        self.next_body = body;
        if pos >= hdr_end && body != buf.len() {
            return Err(malformed());
        }
        Ok(())
    }

    /// Field `i` of `buf` (the record `parse` started on), `None` past the last field.
    /// Always inlined: returned through memory, its `Result<Option<ValueRef>>` was written
    /// piecewise and read back whole, a store-forwarding stall that was half of
    /// `exec_column`'s time in a full scan.
    #[inline(always)]
    pub fn get<'a>(&mut self, buf: &'a [u8], i: usize) -> Result<Option<ValueRef<'a>>, VmError> {
        if i >= self.cols.len() {
            if self.next_type >= self.hdr_end {
                return Ok(None);
            }
            self.parse_through(buf, i)?;
        }
        let Some(&(st, off)) = self.cols.get(i) else {
            return Ok(None);
        };
        let len = serial_type_len(st).map_err(|_| malformed())?;
        let data = buf.get(off..off + len).ok_or_else(malformed)?;
        Ok(Some(decode_value(st, data)))
    }
}

/// Decodes one field's content (`data` has exactly the serial type's length). Always
/// inlined for the same store-forwarding reason as `RowCache::get`.
#[inline(always)]
pub(crate) fn decode_value(serial_type: u64, data: &[u8]) -> ValueRef<'_> {
    match serial_type {
        0 | 10 | 11 => ValueRef::Null,
        1..=6 => {
            let mut v = match data.first() {
                Some(&b) => b as i8 as i64,
                None => 0,
            };
            for &b in data.iter().skip(1) {
                v = (v << 8) | b as i64;
            }
            ValueRef::Integer(v)
        }
        7 => {
            let mut b = [0u8; 8];
            if data.len() == 8 {
                b.copy_from_slice(data);
            }
            let r = f64::from_bits(u64::from_be_bytes(b));
            if r.is_nan() {
                ValueRef::Null
            } else {
                ValueRef::Real(r)
            }
        }
        8 => ValueRef::Integer(0),
        9 => ValueRef::Integer(1),
        n if n & 1 == 0 => ValueRef::Blob(data),
        _ => ValueRef::Text(data),
    }
}

/// Lazily walks a record's fields (for comparisons).
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    hdr_end: usize,
    body: usize,
}

impl<'a> Fields<'a> {
    #[inline]
    pub fn new(buf: &'a [u8]) -> Result<Self, VmError> {
        let (h, n) = read_varint(buf).map_err(|_| malformed())?;
        if h < n as u64 || h > buf.len() as u64 {
            return Err(malformed());
        }
        Ok(Fields {
            buf,
            pos: n,
            hdr_end: h as usize,
            body: h as usize,
        })
    }

    #[inline]
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<ValueRef<'a>>, VmError> {
        if self.pos >= self.hdr_end {
            return Ok(None);
        }
        let (st, k) = read_varint(&self.buf[self.pos..self.hdr_end]).map_err(|_| malformed())?;
        self.pos += k;
        let len = serial_type_len(st).map_err(|_| malformed())?;
        let end = self.body.checked_add(len).ok_or_else(malformed)?;
        let data = self.buf.get(self.body..end).ok_or_else(malformed)?;
        self.body = end;
        Ok(Some(decode_value(st, data)))
    }
}

/// Compares the first `n` fields of two records per `ki` (a record that ends first sorts
/// first). Fields after the `n`th are ignored (sorter payload columns).
pub(crate) fn compare_prefix(
    a: &[u8],
    b: &[u8],
    ki: &KeyInfo,
    n: usize,
) -> Result<Ordering, VmError> {
    let mut fa = Fields::new(a)?;
    let mut fb = Fields::new(b)?;
    for i in 0..n {
        let (x, y) = match (fa.next()?, fb.next()?) {
            (None, None) => return Ok(Ordering::Equal),
            (None, Some(_)) => return Ok(Ordering::Less),
            (Some(_), None) => return Ok(Ordering::Greater),
            (Some(x), Some(y)) => (x, y),
        };
        let (coll, order) = ki.field(i);
        let c = compare_key_values_in(x, y, coll, order, TextCmp::stored(ki.encoding));
        if c != Ordering::Equal {
            return Ok(c);
        }
    }
    Ok(Ordering::Equal)
}

/// Compares a record's first `key.len()` fields with `key` (the record's order relative
/// to the key). A record with fewer fields, equal so far, is Less.
pub(crate) fn compare_record_key(
    rec: &[u8],
    key: &[Value],
    ki: &KeyInfo,
) -> Result<Ordering, VmError> {
    let mut f = Fields::new(rec)?;
    for (i, k) in key.iter().enumerate() {
        let Some(v) = f.next()? else {
            return Ok(Ordering::Less);
        };
        let (coll, order) = ki.field(i);
        let c = compare_key_values_in(
            v,
            k.as_ref(),
            coll,
            order,
            TextCmp::stored_vs_key(ki.encoding),
        );
        if c != Ordering::Equal {
            return Ok(c);
        }
    }
    Ok(Ordering::Equal)
}

/// The last field of a record as an integer (the rowid of an index entry).
pub(crate) fn last_field_int(rec: &[u8]) -> Result<Option<i64>, VmError> {
    let mut f = Fields::new(rec)?;
    let mut last = None;
    while let Some(v) = f.next()? {
        last = Some(v);
    }
    match last {
        Some(ValueRef::Integer(i)) => Ok(Some(i)),
        None | Some(ValueRef::Null) => Ok(None),
        Some(_) => Err(malformed()),
    }
}

/// Stores the record field `v` into a register: [`store`], with text converted from the
/// database encoding `enc` to UTF-8.
#[inline]
pub(crate) fn store_field(dst: &mut Value, v: ValueRef<'_>, enc: TextEncoding) {
    match v {
        ValueRef::Text(t) if !enc.is_utf8() => {
            let mut b = match std::mem::replace(dst, Value::Null) {
                Value::Text(b) => b,
                _ => Vec::new(),
            };
            b.clear();
            strata_btree::text_encoding::append_to_utf8(t, enc, &mut b);
            *dst = Value::Text(b);
        }
        _ => store(dst, v),
    }
}

/// Stores `v` into a register, reusing its text/blob buffer when it has one. Always
/// inlined: `Column`'s common case (a number) is then a store, not a call.
#[inline(always)]
pub(crate) fn store(dst: &mut Value, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => *dst = Value::Null,
        ValueRef::Integer(i) => *dst = Value::Integer(i),
        ValueRef::Real(r) => *dst = Value::Real(r),
        ValueRef::Text(t) => {
            if let Value::Text(b) = dst {
                b.clear();
                b.extend_from_slice(t);
            } else {
                *dst = Value::Text(t.to_vec());
            }
        }
        ValueRef::Blob(t) => {
            if let Value::Blob(b) = dst {
                b.clear();
                b.extend_from_slice(t);
            } else {
                *dst = Value::Blob(t.to_vec());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Cursors
// ---------------------------------------------------------------------------------------

/// Where a table seek goes after numeric affinity was applied to its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TableSeek {
    /// Seek the rowid with the op.
    Rowid(i64, SeekOp),
    /// No row can satisfy the seek.
    None,
    /// Every row satisfies it; position at the last (LT/LE with a text key).
    Last,
}

/// An operation started by an `...Async` half, finished by its `...Await` half.
#[derive(Clone, Debug, Default)]
pub(crate) enum PendingOp {
    #[default]
    None,
    Open,
    Rewind,
    Last,
    Next,
    Prev,
    /// `SeekRowid`: `None` when the key is not an integer (not found).
    SeekRowid(Option<i64>),
    /// `SeekRowid` on a WITHOUT ROWID table's cursor: the entry whose first fields equal
    /// these (the row's PRIMARY KEY, decoded from the record the register held).
    SeekKey(Vec<Value>),
    SeekTable(TableSeek),
    /// Index seek: the key is the registers `key_start..key_start+key_count`, which must
    /// not change before the Await half.
    SeekIndex {
        op: SeekOp,
        key_start: Reg,
        key_count: usize,
    },
    NewRowid {
        dest: Reg,
        min: Option<i64>,
        candidate: Option<i64>,
        tries: u32,
    },
    /// Insert `rowid -> buf` (the record is copied into the cursor's `buf`).
    Insert {
        rowid: i64,
        flags: InsertFlags,
    },
    /// Insert the record in `buf` into an index.
    IdxInsert,
    /// `Insert` into a WITHOUT ROWID table (an index tree): the record in `buf`, the row
    /// counted as `Insert`'s flags say (no rowid, so no last_insert_rowid).
    IdxInsertRow {
        count: crate::insn::RowCount,
    },
    /// The same, appending at the tree's right edge when it can (`IdxAppendAsync`).
    IdxAppend,
    Delete {
        count: crate::insn::RowCount,
    },
    IdxDelete {
        key_start: Reg,
        key_count: usize,
        found: bool,
    },
}

/// A cursor over a B-tree of the database file.
pub(crate) struct BTreeCur {
    pub bt: BTreeCursor,
    pub key_info: Option<Arc<KeyInfo>>,
    pub writable: bool,
    pub pending: PendingOp,
    pub null_row: bool,
    pub row: RowCache,
    pub buf: Vec<u8>,
}

impl BTreeCur {
    /// Makes this cursor what `VmCursor::new_btree(BTreeCursor::new(pager, root, kind),
    /// key_info, writable)` would hold, reusing its allocations (see `Vm::recycled`).
    pub fn reopen(
        &mut self,
        pager: Arc<strata_pager::Pager>,
        root: u32,
        kind: strata_btree::TreeKind,
        key_info: Option<Arc<KeyInfo>>,
        writable: bool,
    ) {
        self.bt.reopen(pager, root, kind);
        self.reset_to(key_info, writable);
    }

    /// Releases every page and all state, keeping the allocations for `reopen`.
    pub fn park(&mut self) {
        self.bt.park();
        self.reset_to(None, false);
    }

    /// Every field but `bt` as `VmCursor::new_btree` sets it (the destructuring names
    /// every field, so a field added later must be reset here).
    fn reset_to(&mut self, ki: Option<Arc<KeyInfo>>, write: bool) {
        let BTreeCur {
            bt: _,
            key_info,
            writable,
            pending,
            null_row,
            row,
            buf,
        } = self;
        *key_info = ki;
        *writable = write;
        *pending = PendingOp::Open;
        *null_row = false;
        row.valid = false;
        keep_empty(&mut row.cols, 256);
        keep_empty(buf, strata_btree::KEEP_BUFFER_BYTES);
    }
}

/// Empties `v`, freeing it if it grew past `max_len` elements (a parked cursor keeps
/// little memory).
fn keep_empty<T>(v: &mut Vec<T>, max_len: usize) {
    v.clear();
    if v.capacity() > max_len {
        *v = Vec::new();
    }
}

/// Position in an ephemeral table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EphPos {
    Eof,
    At(i64),
    /// The row at this key was deleted; `next`/`prev` move from here.
    Deleted(i64),
}

/// An in-memory rowid table.
pub(crate) struct EphTable {
    pub rows: BTreeMap<i64, Vec<u8>>,
    pub pos: EphPos,
    pub pending: PendingOp,
    pub null_row: bool,
    pub row: RowCache,
    pub buf: Vec<u8>,
}

/// A record ordered by its key info.
#[derive(Clone, Debug)]
pub(crate) struct EKey {
    pub rec: Vec<u8>,
    pub ki: Arc<KeyInfo>,
}

impl PartialEq for EKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for EKey {}
impl PartialOrd for EKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for EKey {
    fn cmp(&self, other: &Self) -> Ordering {
        // Records in an ephemeral index were built by MakeRecord and are well-formed; a
        // malformed one (impossible) falls back to byte order to keep the order total.
        strata_btree::record::compare_records(&self.rec, &other.rec, &self.ki)
            .unwrap_or_else(|_| self.rec.cmp(&other.rec))
    }
}

/// An in-memory index: a set of records.
pub(crate) struct EphIndex {
    pub ki: Arc<KeyInfo>,
    pub set: BTreeMap<EKey, ()>,
    /// The current entry (a copy of its key).
    pub pos: Option<EKey>,
    /// The current entry was deleted: `next`/`prev` move from `pos`.
    pub deleted: bool,
    pub pending: PendingOp,
    pub null_row: bool,
    pub row: RowCache,
    pub buf: Vec<u8>,
}

impl EphIndex {
    fn key(&self, rec: Vec<u8>) -> EKey {
        EKey {
            rec,
            ki: self.ki.clone(),
        }
    }

    pub fn first(&mut self) -> bool {
        self.deleted = false;
        self.row.invalidate();
        self.pos = self.set.keys().next().cloned();
        self.pos.is_some()
    }

    pub fn last(&mut self) -> bool {
        self.deleted = false;
        self.row.invalidate();
        self.pos = self.set.keys().next_back().cloned();
        self.pos.is_some()
    }

    pub fn step(&mut self, forward: bool) -> bool {
        self.row.invalidate();
        let Some(cur) = self.pos.take() else {
            return false;
        };
        self.deleted = false;
        self.pos = if forward {
            self.set
                .range((Bound::Excluded(&cur), Bound::Unbounded))
                .next()
                .map(|(k, _)| k.clone())
        } else {
            self.set
                .range((Bound::Unbounded, Bound::Excluded(&cur)))
                .next_back()
                .map(|(k, _)| k.clone())
        };
        self.pos.is_some()
    }

    /// The first entry whose first `key.len()` fields are >= key.
    fn lower_bound(&self, key: &[Value]) -> Result<Option<&EKey>, VmError> {
        let mut probe = Vec::new();
        encode_values_in(key, self.ki.encoding, &mut probe);
        let probe = self.key(probe);
        // Entries equal on the prefix are longer than the probe, so they sort after it.
        Ok(self.set.range(&probe..).next().map(|(k, _)| k))
    }

    /// Seek with a prefix key; `true` if an entry satisfies `op`.
    pub fn seek(&mut self, op: SeekOp, key: &[Value]) -> Result<bool, VmError> {
        self.deleted = false;
        self.row.invalidate();
        let mut probe = Vec::new();
        encode_values_in(key, self.ki.encoding, &mut probe);
        let probe = self.key(probe);
        let ki = self.ki.clone();
        let eq = |k: &EKey| -> Result<bool, VmError> {
            Ok(compare_record_key(&k.rec, key, &ki)? == Ordering::Equal)
        };
        let mut found: Option<EKey> = None;
        match op {
            SeekOp::GE | SeekOp::EQ => {
                if let Some((k, _)) = self.set.range(&probe..).next() {
                    if op == SeekOp::GE || eq(k)? {
                        found = Some(k.clone());
                    }
                }
            }
            SeekOp::GT => {
                for (k, _) in self.set.range(&probe..) {
                    if !eq(k)? {
                        found = Some(k.clone());
                        break;
                    }
                }
            }
            SeekOp::LT => {
                found = self.set.range(..&probe).next_back().map(|(k, _)| k.clone());
            }
            SeekOp::LE => {
                let mut last_eq = None;
                for (k, _) in self.set.range(&probe..) {
                    if eq(k)? {
                        last_eq = Some(k);
                    } else {
                        break;
                    }
                }
                found = match last_eq {
                    Some(k) => Some(k.clone()),
                    None => self.set.range(..&probe).next_back().map(|(k, _)| k.clone()),
                };
            }
        }
        self.pos = found;
        Ok(self.pos.is_some())
    }

    /// Whether an entry's first `key.len()` fields equal `key`; positions on it if so.
    pub fn probe(&mut self, key: &[Value]) -> Result<bool, VmError> {
        let hit = match self.lower_bound(key)? {
            Some(k) if compare_record_key(&k.rec, key, &self.ki)? == Ordering::Equal => {
                Some(k.clone())
            }
            _ => None,
        };
        if let Some(k) = hit {
            self.deleted = false;
            self.row.invalidate();
            self.pos = Some(k);
            return Ok(true);
        }
        Ok(false)
    }

    pub fn insert(&mut self, rec: &[u8]) {
        let k = self.key(rec.to_vec());
        // Set semantics: an equal record replaces the one held.
        self.set.remove(&k);
        self.set.insert(k, ());
    }

    pub fn delete_current(&mut self) {
        if let Some(k) = &self.pos {
            self.set.remove(k);
            self.deleted = true;
            self.row.invalidate();
        }
    }

    pub fn current(&self) -> Option<&[u8]> {
        match &self.pos {
            Some(k) if !self.deleted => Some(&k.rec),
            _ => None,
        }
    }
}

impl EphTable {
    pub fn first(&mut self) -> bool {
        self.row.invalidate();
        self.pos = match self.rows.keys().next() {
            Some(&k) => EphPos::At(k),
            None => EphPos::Eof,
        };
        self.pos != EphPos::Eof
    }

    pub fn last(&mut self) -> bool {
        self.row.invalidate();
        self.pos = match self.rows.keys().next_back() {
            Some(&k) => EphPos::At(k),
            None => EphPos::Eof,
        };
        self.pos != EphPos::Eof
    }

    pub fn step(&mut self, forward: bool) -> bool {
        self.row.invalidate();
        let k = match self.pos {
            EphPos::Eof => return false,
            EphPos::At(k) | EphPos::Deleted(k) => k,
        };
        let next = if forward {
            self.rows
                .range((Bound::Excluded(k), Bound::Unbounded))
                .next()
                .map(|(&k, _)| k)
        } else {
            self.rows.range(..k).next_back().map(|(&k, _)| k)
        };
        self.pos = next.map_or(EphPos::Eof, EphPos::At);
        self.pos != EphPos::Eof
    }

    pub fn seek(&mut self, s: TableSeek) -> bool {
        self.row.invalidate();
        let hit = match s {
            TableSeek::None => None,
            TableSeek::Last => self.rows.keys().next_back().copied(),
            TableSeek::Rowid(r, op) => match op {
                SeekOp::EQ => self.rows.contains_key(&r).then_some(r),
                SeekOp::GE => self.rows.range(r..).next().map(|(&k, _)| k),
                SeekOp::GT => self
                    .rows
                    .range((Bound::Excluded(r), Bound::Unbounded))
                    .next()
                    .map(|(&k, _)| k),
                SeekOp::LE => self.rows.range(..=r).next_back().map(|(&k, _)| k),
                SeekOp::LT => self.rows.range(..r).next_back().map(|(&k, _)| k),
            },
        };
        self.pos = hit.map_or(EphPos::Eof, EphPos::At);
        hit.is_some()
    }

    pub fn current(&self) -> Option<(i64, &[u8])> {
        match self.pos {
            EphPos::At(k) => self.rows.get(&k).map(|r| (k, r.as_slice())),
            _ => None,
        }
    }
}

/// A cursor over one record held in a register.
pub(crate) struct Pseudo {
    pub content_reg: Reg,
    pub null_row: bool,
    pub row: RowCache,
}

/// Every kind of VM cursor.
pub(crate) enum VmCursor {
    BTree(Box<BTreeCur>),
    EphTable(Box<EphTable>),
    EphIndex(Box<EphIndex>),
    Sorter(Box<Sorter>),
    Pseudo(Pseudo),
    /// A window-function buffer (`WindowOpen`); read only by `WindowNext`.
    Window(Box<super::window::WinBuf>),
}

impl VmCursor {
    pub fn new_btree(bt: BTreeCursor, key_info: Option<Arc<KeyInfo>>, writable: bool) -> Self {
        VmCursor::BTree(Box::new(BTreeCur {
            bt,
            key_info,
            writable,
            pending: PendingOp::Open,
            null_row: false,
            row: RowCache::default(),
            buf: Vec::new(),
        }))
    }

    pub fn new_eph_table() -> Self {
        VmCursor::EphTable(Box::new(EphTable {
            rows: BTreeMap::new(),
            pos: EphPos::Eof,
            pending: PendingOp::None,
            null_row: false,
            row: RowCache::default(),
            buf: Vec::new(),
        }))
    }

    pub fn new_eph_index(ki: Arc<KeyInfo>) -> Self {
        VmCursor::EphIndex(Box::new(EphIndex {
            ki,
            set: BTreeMap::new(),
            pos: None,
            deleted: false,
            pending: PendingOp::None,
            null_row: false,
            row: RowCache::default(),
            buf: Vec::new(),
        }))
    }

    /// The pending-op slot of cursors that have Async/Await pairs.
    pub fn pending_mut(&mut self) -> Option<&mut PendingOp> {
        match self {
            VmCursor::BTree(c) => Some(&mut c.pending),
            VmCursor::EphTable(c) => Some(&mut c.pending),
            VmCursor::EphIndex(c) => Some(&mut c.pending),
            VmCursor::Sorter(_) | VmCursor::Pseudo(_) | VmCursor::Window(_) => None,
        }
    }

    pub fn set_null_row(&mut self) {
        match self {
            VmCursor::BTree(c) => c.null_row = true,
            VmCursor::EphTable(c) => c.null_row = true,
            VmCursor::EphIndex(c) => c.null_row = true,
            VmCursor::Sorter(c) => c.null_row = true,
            VmCursor::Pseudo(c) => c.null_row = true,
            VmCursor::Window(c) => c.null_row = true,
        }
    }
}

/// Where a cursor's Await half jumps, if anywhere.
#[inline]
pub(crate) fn jump_if(cond: bool, target: Addr, pc: usize) -> usize {
    if cond {
        target
    } else {
        pc + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_btree::record::encode_record;

    fn record(values: &[ValueRef<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(values, &mut out);
        out
    }

    /// Fields come back whatever order they are asked in, the header parsed only as far
    /// as asked, and `None` past the last field.
    #[test]
    fn row_cache_parses_the_header_as_far_as_asked() {
        let big = vec![7u8; 300];
        let rec = record(&[
            ValueRef::Integer(5),
            ValueRef::Null,
            ValueRef::Text(b"abc"),
            ValueRef::Real(2.5),
            ValueRef::Blob(&big),
            ValueRef::Integer(-1_000_000_000_000),
        ]);
        for order in [
            [0usize, 1, 2, 3, 4, 5, 6],
            [6, 5, 4, 3, 2, 1, 0],
            [2, 0, 5, 1, 6, 3, 4],
        ] {
            let mut row = RowCache::default();
            row.parse(&rec).unwrap();
            for i in order {
                let v = row.get(&rec, i).unwrap();
                let want = match i {
                    0 => Some(ValueRef::Integer(5)),
                    1 => Some(ValueRef::Null),
                    2 => Some(ValueRef::Text(b"abc")),
                    3 => Some(ValueRef::Real(2.5)),
                    4 => Some(ValueRef::Blob(&big)),
                    5 => Some(ValueRef::Integer(-1_000_000_000_000)),
                    _ => None,
                };
                assert_eq!(v, want, "field {i} in order {order:?}");
            }
        }
        let mut row = RowCache::default();
        row.parse(&rec).unwrap();
        row.get(&rec, 1).unwrap();
        assert_eq!(row.cols.len(), 6, "a short header is parsed whole");
        let wide: Vec<ValueRef> = (0..40).map(ValueRef::Integer).collect();
        let wide = record(&wide);
        row.parse(&wide).unwrap();
        assert_eq!(row.get(&wide, 2).unwrap(), Some(ValueRef::Integer(2)));
        assert_eq!(row.cols.len(), 2 + 1 + PARSE_AHEAD_FIELDS, "fields parsed");
        assert_eq!(row.get(&wide, 39).unwrap(), Some(ValueRef::Integer(39)));
        assert_eq!(row.get(&wide, 40).unwrap(), None);
    }

    /// A body longer or shorter than the header says is malformed once the header has
    /// been parsed to its end (SQLite's OP_Column): asking for the last field or past it
    /// reports it, earlier fields do not. A field past the body is malformed at once.
    #[test]
    fn row_cache_reports_a_body_that_disagrees_with_the_header() {
        let mut fields = vec![ValueRef::Integer(300)];
        fields.extend((0..PARSE_AHEAD_FIELDS + 2).map(|_| ValueRef::Text(b"hello")));
        let last = fields.len() - 1;
        let rec = record(&fields);
        let mut longer = rec.clone();
        longer.push(0);
        let mut row = RowCache::default();
        row.parse(&longer).unwrap();
        assert_eq!(row.get(&longer, 0).unwrap(), Some(ValueRef::Integer(300)));
        assert!(row.get(&longer, last).is_err());
        assert!(!row.valid, "an error leaves the cache invalid");
        row.parse(&longer).unwrap();
        assert!(row.get(&longer, last + 1).is_err());
        let shorter = &rec[..rec.len() - 1];
        row.parse(shorter).unwrap();
        assert!(row.get(shorter, last).is_err());
        // A short record is parsed whole at its first field: the mismatch shows at once.
        let two = record(&[ValueRef::Integer(300), ValueRef::Text(b"hello")]);
        let mut two_longer = two.clone();
        two_longer.push(0);
        row.parse(&two_longer).unwrap();
        assert!(row.get(&two_longer, 0).is_err());
        // A header size past the record, and a serial type cut by the header's end.
        assert!(row.parse(&[9, 1]).is_err());
        let cut = [2u8, 0x81];
        row.parse(&cut).unwrap();
        assert!(row.get(&cut, 0).is_err());
        // An empty record has no fields.
        let empty = record(&[]);
        row.parse(&empty).unwrap();
        assert_eq!(row.get(&empty, 0).unwrap(), None);
    }
}
