//! SQLite's record format and the ordering of values and records.
//!
//! A record is a header followed by a body. The header starts with a varint giving the
//! header's length in bytes (that varint included), followed by one varint "serial type"
//! per column. The body holds the columns' contents back to back, each as long as its
//! serial type says:
//!
//! | serial type   | content                                              | bytes     |
//! |---------------|------------------------------------------------------|-----------|
//! | 0             | NULL                                                 | 0         |
//! | 1..=6         | big-endian two's-complement integer                  | 1,2,3,4,6,8 |
//! | 7             | big-endian IEEE 754 double                           | 8         |
//! | 8, 9          | the integers 0 and 1 (schema format 4)               | 0         |
//! | 10, 11        | reserved; a record using them is malformed           | -         |
//! | N >= 12 even  | BLOB of (N-12)/2 bytes                               | (N-12)/2  |
//! | N >= 13 odd   | TEXT of (N-13)/2 bytes (any bytes, not checked UTF-8)| (N-13)/2  |
//!
//! Everything that reads a record is bounds-checked: malformed input is a
//! [`RecordError`], never a panic. A stored NaN decodes as NULL, as in SQLite (which never
//! stores NaN: binding one yields NULL).

use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

pub use crate::collation::{Collation, SortOrder};
pub use crate::text_encoding::{TextEncoding, TextForm};
use crate::varint::{push_varint, read_varint, varint_len};

/// An owned SQL value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    /// Text as stored: bytes, not necessarily valid UTF-8.
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

/// A borrowed SQL value, typically pointing into a record buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl Value {
    #[inline]
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(r) => ValueRef::Real(*r),
            Value::Text(t) => ValueRef::Text(t),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl ValueRef<'_> {
    /// Copies the value out of the buffer it borrows from. (Inherent, so it takes
    /// precedence over the blanket `ToOwned` for this `Copy` type.)
    #[inline]
    pub fn to_owned(&self) -> Value {
        self.to_value()
    }

    /// Same as [`ValueRef::to_owned`], under a name that cannot be confused with
    /// `ToOwned::to_owned`.
    pub fn to_value(&self) -> Value {
        match *self {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(r) => Value::Real(r),
            ValueRef::Text(t) => Value::Text(t.to_vec()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        }
    }
}

impl<'a> From<&'a Value> for ValueRef<'a> {
    fn from(v: &'a Value) -> Self {
        v.as_ref()
    }
}

impl From<ValueRef<'_>> for Value {
    fn from(v: ValueRef<'_>) -> Self {
        v.to_value()
    }
}

/// How an index compares its fields. Fields beyond `fields` compare BINARY, ascending
/// (e.g. the rowid SQLite appends to every index record).
///
/// `encoding` is the database text encoding: records compared under this key info hold
/// text in it, keys given as [`Value`]s hold UTF-8, and BINARY is the byte order of the
/// encoding (see [`crate::text_encoding`]). Compilers leave it UTF-8; the VM sets it when
/// it opens a cursor on a database in another encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyInfo {
    pub fields: Vec<(Collation, SortOrder)>,
    pub encoding: TextEncoding,
}

impl KeyInfo {
    /// Key info over `fields`, in a UTF-8 database.
    pub fn new(fields: Vec<(Collation, SortOrder)>) -> KeyInfo {
        KeyInfo {
            fields,
            encoding: TextEncoding::Utf8,
        }
    }

    /// This key info for a database in `encoding` (shared when nothing changes).
    pub fn in_encoding(self: &Arc<Self>, encoding: TextEncoding) -> Arc<KeyInfo> {
        if self.encoding == encoding {
            self.clone()
        } else {
            Arc::new(KeyInfo {
                fields: self.fields.clone(),
                encoding,
            })
        }
    }

    /// Collation and direction of field `i`.
    #[inline]
    pub fn field(&self, i: usize) -> (Collation, SortOrder) {
        self.fields.get(i).copied().unwrap_or_default()
    }
}

/// A record could not be decoded. The message starts with "malformed record: ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError(pub String);

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecordError {}

// Errors are built only on the failure path, so formatting there costs nothing normally.
#[cold]
fn malformed(what: fmt::Arguments<'_>) -> RecordError {
    RecordError(format!("malformed record: {what}"))
}

// ---------------------------------------------------------------------------------------
// Serial types
// ---------------------------------------------------------------------------------------

/// The serial type SQLite would store `v` under: the smallest integer type that holds the
/// value (8 and 9 for 0 and 1, as in schema format 4), 7 for a real, `2n+12` for an
/// `n`-byte blob, `2n+13` for `n` bytes of text. A NaN real is NULL (0): SQLite cannot
/// store NaN.
#[inline]
pub fn serial_type_of(v: ValueRef<'_>) -> u64 {
    match v {
        ValueRef::Null => 0,
        ValueRef::Integer(i) => int_serial_type(i),
        ValueRef::Real(r) if r.is_nan() => 0,
        ValueRef::Real(_) => 7,
        ValueRef::Text(t) => t.len() as u64 * 2 + 13,
        ValueRef::Blob(b) => b.len() as u64 * 2 + 12,
    }
}

#[inline]
fn int_serial_type(i: i64) -> u64 {
    match i {
        0 => 8,
        1 => 9,
        _ => {
            // Same trick as sqlite3VdbeSerialType: for negatives `!i` is the magnitude
            // minus one, so one threshold per width covers both signs.
            let u = if i < 0 { !i } else { i } as u64;
            if u <= 0x7f {
                1
            } else if u <= 0x7fff {
                2
            } else if u <= 0x7f_ffff {
                3
            } else if u <= 0x7fff_ffff {
                4
            } else if u <= 0x7fff_ffff_ffff {
                5
            } else {
                6
            }
        }
    }
}

/// Body bytes of the fixed-size serial types 0..=11 (10 and 11 unused: reserved).
const FIXED_LEN: [u8; 12] = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, 0, 0];

/// Content length in bytes of a serial type, `None` for the reserved types and for
/// lengths beyond the address space.
#[inline(always)]
fn content_len(serial_type: u64) -> Option<usize> {
    match serial_type {
        10 | 11 => None,
        0..=9 => Some(FIXED_LEN[serial_type as usize] as usize),
        n => usize::try_from((n - 12) / 2).ok(),
    }
}

/// Number of body bytes a column of `serial_type` occupies. The reserved types 10 and 11
/// are an error.
/// Always inlined: called per field read (a scan's `Column`), where the call was a
/// tenth of the field's cost.
#[inline(always)]
pub fn serial_type_len(serial_type: u64) -> Result<usize, RecordError> {
    content_len(serial_type).ok_or_else(|| bad_serial_type(serial_type))
}

#[cold]
fn bad_serial_type(serial_type: u64) -> RecordError {
    if serial_type == 10 || serial_type == 11 {
        malformed(format_args!("reserved serial type {serial_type}"))
    } else {
        malformed(format_args!("serial type {serial_type} too large"))
    }
}

/// Decodes a column's content. `data` must be exactly `content_len(serial_type)` bytes
/// and `serial_type` not reserved (both checked by the callers while walking the header).
#[inline]
fn decode_value(serial_type: u64, data: &[u8]) -> ValueRef<'_> {
    match serial_type {
        0 | 10 | 11 => ValueRef::Null,
        1..=6 => ValueRef::Integer(read_be_int(data)),
        7 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&data[..8]);
            let r = f64::from_bits(u64::from_be_bytes(b));
            // sqlite3VdbeSerialGet turns a stored NaN into NULL; do the same so that
            // NaN never reaches comparisons.
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

/// Big-endian two's complement of 1..=8 bytes, sign-extended.
#[inline]
fn read_be_int(data: &[u8]) -> i64 {
    let Some((&first, rest)) = data.split_first() else {
        return 0;
    };
    // The first byte carries the sign; `<<` drops the bits shifted out, which for
    // widths up to 8 bytes are only copies of the sign.
    let mut v = first as i8 as i64;
    for &b in rest {
        v = (v << 8) | b as i64;
    }
    v
}

// ---------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------

/// Header length for a header whose serial-type varints take `types_len` bytes: the
/// header-size varint counts itself, so growing it can push the total over a varint
/// boundary (e.g. 127 type bytes + 1 = 128, which needs 2 bytes, giving 129).
#[inline]
fn header_len(types_len: usize) -> usize {
    let mut h = types_len + 1;
    loop {
        // Non-decreasing in h and bounded (varint_len <= 9), so this reaches a fixpoint
        // in at most a couple of steps.
        let n = types_len + varint_len(h as u64);
        if n == h {
            return h;
        }
        h = n;
    }
}

/// (header length, body length) of the record for `values`.
#[inline]
fn record_sizes(values: &[ValueRef<'_>]) -> (usize, usize) {
    let mut types_len = 0;
    let mut body_len = 0;
    for &v in values {
        let st = serial_type_of(v);
        types_len += varint_len(st);
        // serial_type_of never yields a reserved type and its lengths fit in usize
        // (they came from slice lengths).
        body_len += content_len(st).unwrap_or(0);
    }
    (header_len(types_len), body_len)
}

/// Length in bytes of the record [`encode_record`] produces for `values`.
pub fn record_len(values: &[ValueRef<'_>]) -> usize {
    let (h, b) = record_sizes(values);
    h + b
}

/// Appends the record for `values` to `out`.
pub fn encode_record(values: &[ValueRef<'_>], out: &mut Vec<u8>) {
    let (hdr, body) = record_sizes(values);
    out.reserve(hdr + body);
    push_varint(hdr as u64, out);
    for &v in values {
        push_varint(serial_type_of(v), out);
    }
    for &v in values {
        match v {
            ValueRef::Null => {}
            ValueRef::Integer(i) => {
                let len = FIXED_LEN[int_serial_type(i) as usize] as usize;
                out.extend_from_slice(&i.to_be_bytes()[8 - len..]);
            }
            // NaN was given serial type 0 (NULL) above: no content.
            ValueRef::Real(r) if r.is_nan() => {}
            ValueRef::Real(r) => out.extend_from_slice(&r.to_bits().to_be_bytes()),
            ValueRef::Text(t) => out.extend_from_slice(t),
            ValueRef::Blob(b) => out.extend_from_slice(b),
        }
    }
}

/// [`encode_record`] for owned values (e.g. an index key built by the caller).
pub fn encode_values(values: &[Value], out: &mut Vec<u8>) {
    // Small keys are common; avoid allocating the ValueRef list for them.
    const INLINE: usize = 8;
    if values.len() <= INLINE {
        let mut refs = [ValueRef::Null; INLINE];
        for (r, v) in refs.iter_mut().zip(values) {
            *r = v.as_ref();
        }
        encode_record(&refs[..values.len()], out);
    } else {
        let refs: Vec<ValueRef<'_>> = values.iter().map(Value::as_ref).collect();
        encode_record(&refs, out);
    }
}

/// [`encode_values`] storing UTF-8 text in the database encoding `enc`.
pub fn encode_values_in(values: &[Value], enc: TextEncoding, out: &mut Vec<u8>) {
    if enc.is_utf8() || !values.iter().any(|v| matches!(v, Value::Text(_))) {
        return encode_values(values, out);
    }
    let stored: Vec<Value> = values
        .iter()
        .map(|v| match v {
            Value::Text(t) => Value::Text(crate::text_encoding::from_utf8(t, enc).into_owned()),
            other => other.clone(),
        })
        .collect();
    encode_values(&stored, out);
}

// ---------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------

/// Walks a record's header and body together, one column at a time, checking bounds as
/// it goes. Used by the comparisons so that they decode only as far as they must.
struct FieldIter<'a> {
    buf: &'a [u8],
    /// Next serial-type varint.
    hdr_pos: usize,
    /// End of the header (= start of the body); <= buf.len().
    hdr_end: usize,
    /// Start of the next column's content.
    body_pos: usize,
}

impl<'a> FieldIter<'a> {
    #[inline]
    fn new(buf: &'a [u8]) -> Result<Self, RecordError> {
        let (h, n) =
            read_varint(buf).map_err(|_| malformed(format_args!("header size truncated")))?;
        if h < n as u64 || h > buf.len() as u64 {
            return Err(malformed(format_args!(
                "header size {h} outside 1..={} bytes of record",
                buf.len()
            )));
        }
        let h = h as usize;
        Ok(FieldIter {
            buf,
            hdr_pos: n,
            hdr_end: h,
            body_pos: h,
        })
    }

    /// The next column's serial type and its content's (start, end) in `buf`, or `None`
    /// once the header is exhausted.
    #[inline]
    fn next_raw(&mut self) -> Result<Option<(u64, usize, usize)>, RecordError> {
        if self.hdr_pos >= self.hdr_end {
            return Ok(None);
        }
        // Bounded by the header end: a varint that crosses into the body is malformed
        // even if the buffer has bytes there.
        let (st, n) = read_varint(&self.buf[self.hdr_pos..self.hdr_end])
            .map_err(|_| malformed(format_args!("serial type runs past the header end")))?;
        self.hdr_pos += n;
        let len = content_len(st).ok_or_else(|| bad_serial_type(st))?;
        let start = self.body_pos;
        let end = match start.checked_add(len) {
            Some(end) if end <= self.buf.len() => end,
            _ => {
                return Err(malformed(format_args!(
                    "column of serial type {st} at offset {start} runs past the {}-byte record",
                    self.buf.len()
                )))
            }
        };
        self.body_pos = end;
        Ok(Some((st, start, end)))
    }

    #[inline]
    fn next_value(&mut self) -> Result<Option<ValueRef<'a>>, RecordError> {
        Ok(self
            .next_raw()?
            .map(|(st, start, end)| decode_value(st, &self.buf[start..end])))
    }

    /// After the header is exhausted: the body must end exactly at the end of the
    /// buffer, as SQLite's OP_Column requires.
    fn check_end(&self) -> Result<(), RecordError> {
        if self.body_pos != self.buf.len() {
            return Err(malformed(format_args!(
                "columns end at byte {} of a {}-byte record",
                self.body_pos,
                self.buf.len()
            )));
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Col {
    serial_type: u64,
    offset: usize,
}

/// Column directory of a [`Record`]: inline for typical rows so that parsing does not
/// allocate, on the heap for wide ones.
// The size difference between the variants is the point: the inline array is what
// keeps `Record::parse` allocation-free, and a Record lives on the stack briefly.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
enum Cols {
    Inline(usize, [Col; INLINE_COLS]),
    Heap(Vec<Col>),
}

const INLINE_COLS: usize = 16;

impl Cols {
    #[inline]
    fn push(&mut self, c: Col) {
        match self {
            Cols::Inline(n, arr) if *n < INLINE_COLS => {
                arr[*n] = c;
                *n += 1;
            }
            Cols::Inline(n, arr) => {
                let mut v = Vec::with_capacity(INLINE_COLS * 4);
                v.extend_from_slice(&arr[..*n]);
                v.push(c);
                *self = Cols::Heap(v);
            }
            Cols::Heap(v) => v.push(c),
        }
    }

    #[inline]
    fn as_slice(&self) -> &[Col] {
        match self {
            Cols::Inline(n, arr) => &arr[..*n],
            Cols::Heap(v) => v,
        }
    }
}

/// A parsed view of a record: the header is walked and validated once by
/// [`Record::parse`]; [`Record::get`] then decodes a single column without allocating.
#[derive(Clone, Debug)]
pub struct Record<'a> {
    buf: &'a [u8],
    cols: Cols,
}

impl<'a> Record<'a> {
    /// Parses and validates the header: every serial type valid, every column within the
    /// buffer, and the body ending exactly at the end of `buf`.
    pub fn parse(buf: &'a [u8]) -> Result<Self, RecordError> {
        let mut it = FieldIter::new(buf)?;
        let mut cols = Cols::Inline(0, [Col::default(); INLINE_COLS]);
        while let Some((serial_type, offset, _)) = it.next_raw()? {
            cols.push(Col {
                serial_type,
                offset,
            });
        }
        it.check_end()?;
        Ok(Record { buf, cols })
    }

    /// Number of columns the record holds. Columns a table gained later (ALTER TABLE ADD
    /// COLUMN) are absent from older records; the caller substitutes their default.
    #[inline]
    pub fn len(&self) -> usize {
        self.cols.as_slice().len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column `i`. Past the last column is an error; see [`Record::get_or_null`].
    #[inline]
    pub fn get(&self, i: usize) -> Result<ValueRef<'a>, RecordError> {
        let Some(&Col {
            serial_type,
            offset,
        }) = self.cols.as_slice().get(i)
        else {
            return Err(RecordError(format!(
                "malformed record: column {i} requested from a record of {} columns",
                self.len()
            )));
        };
        // `parse` checked these bounds; `get` re-checks rather than trusting, at the
        // cost of a compare, so a logic error can never become a panic.
        let data = content_len(serial_type)
            .and_then(|len| self.buf.get(offset..offset.checked_add(len)?))
            .ok_or_else(|| malformed(format_args!("column {i} out of bounds")))?;
        Ok(decode_value(serial_type, data))
    }

    /// Column `i`, or NULL past the last column.
    #[inline]
    pub fn get_or_null(&self, i: usize) -> Result<ValueRef<'a>, RecordError> {
        if i >= self.len() {
            return Ok(ValueRef::Null);
        }
        self.get(i)
    }

    /// Serial type of column `i`; 0 (NULL) past the last column.
    #[inline]
    pub fn serial_type(&self, i: usize) -> u64 {
        self.cols.as_slice().get(i).map_or(0, |c| c.serial_type)
    }

    /// The whole record.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// Decodes every column of a record, validated as by [`Record::parse`].
pub fn decode_record(buf: &[u8]) -> Result<Vec<ValueRef<'_>>, RecordError> {
    let mut it = FieldIter::new(buf)?;
    let mut out = Vec::new();
    while let Some(v) = it.next_value()? {
        out.push(v);
    }
    it.check_end()?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------

/// Storage-class rank in SQLite's sort order. NaN ranks as NULL, matching how it decodes.
#[inline]
fn class_rank(v: ValueRef<'_>) -> u8 {
    match v {
        ValueRef::Null => 0,
        ValueRef::Real(r) if r.is_nan() => 0,
        ValueRef::Integer(_) | ValueRef::Real(_) => 1,
        ValueRef::Text(_) => 2,
        ValueRef::Blob(_) => 3,
    }
}

/// Exact comparison of an integer with a (non-NaN) double, as sqlite3IntFloatCompare:
/// converting the integer to double would round above 2^53 and call unequal values equal.
#[inline]
fn int_float_cmp(i: i64, r: f64) -> Ordering {
    // 2^63, exactly representable; every i64 lies in [-2^63, 2^63).
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if r < -TWO_63 {
        return Ordering::Greater;
    }
    if r >= TWO_63 {
        return Ordering::Less;
    }
    // In range, so the truncating cast is exact on the integer part.
    let t = r as i64;
    match i.cmp(&t) {
        Ordering::Equal => {}
        // |r - t| < 1 with r on the same side of i as t, so this is i vs r.
        o => return o,
    }
    // i == trunc(r): if |r| < 2^53, i converts exactly and the fraction decides; if not,
    // r is integral and equals i.
    let s = i as f64;
    if s < r {
        Ordering::Less
    } else if s > r {
        Ordering::Greater
    } else {
        Ordering::Equal
    }
}

/// Compares two key fields under a collation and a direction: [`compare_values`], then
/// [`SortOrder::order`] (which also places NULLs for `NULLS FIRST/LAST` sorters).
#[inline]
pub fn compare_key_values(
    a: ValueRef<'_>,
    b: ValueRef<'_>,
    collation: Collation,
    order: SortOrder,
) -> Ordering {
    let c = compare_values(a, b, collation);
    if c == Ordering::Equal {
        return c;
    }
    order.order(c, matches!(a, ValueRef::Null), matches!(b, ValueRef::Null))
}

/// How a comparison sees text: the database encoding and, for each side, whether its
/// text is UTF-8 or stored in that encoding (see [`crate::text_encoding`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextCmp {
    pub encoding: TextEncoding,
    pub a: TextForm,
    pub b: TextForm,
}

impl TextCmp {
    /// Both sides UTF-8 in a UTF-8 database: plain collation order.
    pub const UTF8: TextCmp = TextCmp {
        encoding: TextEncoding::Utf8,
        a: TextForm::Utf8,
        b: TextForm::Utf8,
    };

    /// Two UTF-8 values (registers) in a database in `encoding`.
    #[inline]
    pub fn registers(encoding: TextEncoding) -> TextCmp {
        TextCmp {
            encoding,
            a: TextForm::Utf8,
            b: TextForm::Utf8,
        }
    }

    /// Two stored values (record fields) in a database in `encoding`.
    #[inline]
    pub fn stored(encoding: TextEncoding) -> TextCmp {
        TextCmp {
            encoding,
            a: TextForm::Stored,
            b: TextForm::Stored,
        }
    }

    /// A stored value against a UTF-8 key value.
    #[inline]
    pub fn stored_vs_key(encoding: TextEncoding) -> TextCmp {
        TextCmp {
            encoding,
            a: TextForm::Stored,
            b: TextForm::Utf8,
        }
    }
}

/// [`compare_key_values`] with text as `text` says.
#[inline]
pub fn compare_key_values_in(
    a: ValueRef<'_>,
    b: ValueRef<'_>,
    collation: Collation,
    order: SortOrder,
    text: TextCmp,
) -> Ordering {
    let c = compare_values_in(a, b, collation, text);
    if c == Ordering::Equal {
        return c;
    }
    order.order(c, matches!(a, ValueRef::Null), matches!(b, ValueRef::Null))
}

/// SQLite's value order: NULL < INTEGER and REAL (compared numerically and exactly) <
/// TEXT (by `collation`) < BLOB (memcmp, then length). -0.0 equals 0.0. Text is UTF-8 in
/// a UTF-8 database ([`compare_values_in`] for the others).
#[inline]
pub fn compare_values(a: ValueRef<'_>, b: ValueRef<'_>, collation: Collation) -> Ordering {
    compare_values_in(a, b, collation, TextCmp::UTF8)
}

/// [`compare_values`] with text as `text` says.
#[inline]
pub fn compare_values_in(
    a: ValueRef<'_>,
    b: ValueRef<'_>,
    collation: Collation,
    text: TextCmp,
) -> Ordering {
    use ValueRef::*;
    match (a, b) {
        (Integer(x), Integer(y)) => x.cmp(&y),
        (Real(x), Real(y)) if !x.is_nan() && !y.is_nan() => {
            if x < y {
                Ordering::Less
            } else if x > y {
                Ordering::Greater
            } else {
                Ordering::Equal
            }
        }
        (Integer(x), Real(y)) if !y.is_nan() => int_float_cmp(x, y),
        (Real(x), Integer(y)) if !x.is_nan() => int_float_cmp(y, x).reverse(),
        (Text(x), Text(y)) => {
            if text.encoding.is_utf8() {
                collation.compare(x, y)
            } else {
                crate::text_encoding::compare_text(collation, x, text.a, y, text.b, text.encoding)
            }
        }
        (Blob(x), Blob(y)) => x.cmp(y),
        _ => class_rank(a).cmp(&class_rank(b)),
    }
}

/// Compares the stored `record` with the unpacked `key`, field by field for `key.len()`
/// fields; the result is the record's order relative to the key (`Less`: record sorts
/// first). `Equal` means the record's first `key.len()` fields equal the key. A record
/// with fewer fields than the key, equal as far as it goes, is `Less` (shorter sorts
/// first, as in [`compare_records`]).
///
/// Decodes lazily and stops at the first difference; only the fields it reaches are
/// checked for well-formedness.
pub fn compare_record_to_key(
    record: &[u8],
    key: &[Value],
    key_info: &KeyInfo,
) -> Result<Ordering, RecordError> {
    let mut it = FieldIter::new(record)?;
    for (i, k) in key.iter().enumerate() {
        let Some(v) = it.next_value()? else {
            return Ok(Ordering::Less);
        };
        let (collation, order) = key_info.field(i);
        let text = TextCmp::stored_vs_key(key_info.encoding);
        let c = compare_key_values_in(v, k.as_ref(), collation, order, text);
        if c != Ordering::Equal {
            return Ok(c);
        }
    }
    Ok(Ordering::Equal)
}

/// Compares two stored records over all their fields; if one is a prefix of the other
/// the shorter sorts first. Decodes lazily and stops at the first difference.
pub fn compare_records(a: &[u8], b: &[u8], key_info: &KeyInfo) -> Result<Ordering, RecordError> {
    compare_records_from(a, b, key_info, 0)
}

/// [`compare_records`] of the fields after the first `skip` (which the caller found
/// equal, e.g. with [`crate::first_key::compare_first`]); the skipped fields are not
/// decoded.
pub fn compare_records_from(
    a: &[u8],
    b: &[u8],
    key_info: &KeyInfo,
    skip: usize,
) -> Result<Ordering, RecordError> {
    let mut ia = FieldIter::new(a)?;
    let mut ib = FieldIter::new(b)?;
    for _ in 0..skip {
        match (ia.next_raw()?, ib.next_raw()?) {
            (Some(_), Some(_)) => {}
            (None, None) => return Ok(Ordering::Equal),
            (None, Some(_)) => return Ok(Ordering::Less),
            (Some(_), None) => return Ok(Ordering::Greater),
        }
    }
    let mut i = skip;
    loop {
        let x = ia.next_value()?;
        let y = ib.next_value()?;
        let (x, y) = match (x, y) {
            (None, None) => return Ok(Ordering::Equal),
            (None, Some(_)) => return Ok(Ordering::Less),
            (Some(_), None) => return Ok(Ordering::Greater),
            (Some(x), Some(y)) => (x, y),
        };
        let (collation, order) = key_info.field(i);
        let c = compare_key_values_in(x, y, collation, order, TextCmp::stored(key_info.encoding));
        if c != Ordering::Equal {
            return Ok(c);
        }
        i += 1;
    }
}

/// [`compare_records`] with the second record already decoded (`b` = `decode_record` of
/// it): the same order, field for field, shorter-prefix-first.
pub fn compare_record_to_fields(
    a: &[u8],
    b: &[ValueRef<'_>],
    key_info: &KeyInfo,
) -> Result<Ordering, RecordError> {
    let mut ia = FieldIter::new(a)?;
    let text = TextCmp::stored(key_info.encoding);
    for (i, &y) in b.iter().enumerate() {
        let Some(x) = ia.next_value()? else {
            return Ok(Ordering::Less);
        };
        let (collation, order) = key_info.field(i);
        let c = compare_key_values_in(x, y, collation, order, text);
        if c != Ordering::Equal {
            return Ok(c);
        }
    }
    Ok(if ia.next_value()?.is_some() {
        Ordering::Greater
    } else {
        Ordering::Equal
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;
    use ValueRef as V;

    fn enc(values: &[ValueRef<'_>]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_record(values, &mut out);
        assert_eq!(out.len(), record_len(values), "record_len disagrees");
        out
    }

    fn assert_malformed<T: fmt::Debug>(r: Result<T, RecordError>) {
        match r {
            Err(RecordError(msg)) => assert!(msg.starts_with("malformed record: "), "{msg}"),
            Ok(v) => panic!("expected an error, got {v:?}"),
        }
    }

    #[test]
    fn null_one_hi() {
        // Header: size 4 (itself + 3 types), NULL = 0, integer 1 = 9, 2-byte text = 17.
        let bytes = enc(&[V::Null, V::Integer(1), V::Text(b"hi")]);
        assert_eq!(bytes, [0x04, 0x00, 0x09, 0x11, b'h', b'i']);
        assert_eq!(
            decode_record(&bytes).unwrap(),
            vec![V::Null, V::Integer(1), V::Text(b"hi")]
        );
    }

    #[test]
    fn hand_checked_encodings() {
        let cases: Vec<(ValueRef<'_>, Vec<u8>)> = vec![
            (V::Integer(0), vec![0x02, 0x08]),
            (V::Integer(2), vec![0x02, 0x01, 0x02]),
            (V::Integer(-1), vec![0x02, 0x01, 0xff]),
            (V::Integer(127), vec![0x02, 0x01, 0x7f]),
            (V::Integer(-128), vec![0x02, 0x01, 0x80]),
            (V::Integer(128), vec![0x02, 0x02, 0x00, 0x80]),
            (V::Integer(-129), vec![0x02, 0x02, 0xff, 0x7f]),
            (V::Integer(8_388_607), vec![0x02, 0x03, 0x7f, 0xff, 0xff]),
            (V::Integer(-8_388_608), vec![0x02, 0x03, 0x80, 0x00, 0x00]),
            (
                V::Integer(8_388_608),
                vec![0x02, 0x04, 0x00, 0x80, 0x00, 0x00],
            ),
            (
                V::Integer(1 << 31),
                vec![0x02, 0x05, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00],
            ),
            (
                V::Integer(1 << 47),
                vec![0x02, 0x06, 0, 0, 0x80, 0, 0, 0, 0, 0],
            ),
            (
                V::Integer(i64::MIN),
                vec![0x02, 0x06, 0x80, 0, 0, 0, 0, 0, 0, 0],
            ),
            (V::Real(1.5), vec![0x02, 0x07, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]),
            (V::Real(-0.0), vec![0x02, 0x07, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            (V::Blob(&[1, 2]), vec![0x02, 0x10, 0x01, 0x02]),
            (V::Blob(&[]), vec![0x02, 0x0c]),
            (V::Text(b""), vec![0x02, 0x0d]),
            // NaN cannot be stored; it becomes NULL.
            (V::Real(f64::NAN), vec![0x02, 0x00]),
        ];
        for (v, want) in cases {
            assert_eq!(enc(&[v]), want, "encoding of {v:?}");
            let back = decode_record(&want).unwrap();
            match v {
                V::Real(r) if r.is_nan() => assert_eq!(back, [V::Null]),
                V::Real(r) => match back[..] {
                    [V::Real(b)] => assert_eq!(b.to_bits(), r.to_bits()),
                    _ => panic!("{back:?}"),
                },
                _ => assert_eq!(back, [v]),
            }
        }
        assert_eq!(enc(&[]), [0x01]);
        assert_eq!(decode_record(&[0x01]).unwrap(), []);
    }

    #[test]
    fn header_size_varint_growth() {
        // 126 NULLs: 126 type bytes + 1 = 127 fits a 1-byte size.
        let nulls = vec![V::Null; 126];
        let b = enc(&nulls);
        assert_eq!(b[0], 127);
        assert_eq!(b.len(), 127);
        // 127 NULLs: 127 + 1 = 128 needs 2 bytes, so the header is 129.
        let nulls = vec![V::Null; 127];
        let b = enc(&nulls);
        assert_eq!(&b[..2], &[0x81, 0x01]);
        assert_eq!(b.len(), 129);
        assert_eq!(decode_record(&b).unwrap().len(), 127);
        // 57 bytes of text: type 127, 1 byte. 58 bytes: type 129, 2 bytes.
        let t57 = [b'x'; 57];
        assert_eq!(&enc(&[V::Text(&t57)])[..2], &[0x02, 127]);
        let t58 = [b'x'; 58];
        assert_eq!(&enc(&[V::Text(&t58)])[..3], &[0x03, 0x81, 0x01]);
    }

    #[test]
    fn serial_types() {
        assert_eq!(serial_type_of(V::Null), 0);
        assert_eq!(serial_type_of(V::Integer(1)), 9);
        assert_eq!(serial_type_of(V::Integer(i64::MAX)), 6);
        assert_eq!(serial_type_of(V::Integer((1 << 47) - 1)), 5);
        assert_eq!(serial_type_of(V::Integer(-(1 << 47))), 5);
        assert_eq!(serial_type_of(V::Integer(-(1 << 47) - 1)), 6);
        assert_eq!(serial_type_of(V::Real(0.0)), 7);
        assert_eq!(serial_type_of(V::Text(b"abc")), 19);
        assert_eq!(serial_type_of(V::Blob(b"abc")), 18);
        let lens = [0, 1, 2, 3, 4, 6, 8, 8, 0, 0];
        for (t, &len) in lens.iter().enumerate() {
            assert_eq!(serial_type_len(t as u64), Ok(len));
        }
        assert_malformed(serial_type_len(10));
        assert_malformed(serial_type_len(11));
        assert_eq!(serial_type_len(12), Ok(0));
        assert_eq!(serial_type_len(13), Ok(0));
        assert_eq!(serial_type_len(19), Ok(3));
        assert_eq!(serial_type_len(20), Ok(4));
    }

    #[test]
    fn malformed_records_are_errors() {
        let bad: &[&[u8]] = &[
            &[],                                                           // no header size
            &[0x80],                   // header size varint truncated
            &[0x00],                   // header size smaller than its own varint
            &[0x05, 0x00],             // header size past the buffer
            &[0x02, 0x0a],             // reserved type 10
            &[0x02, 0x0b],             // reserved type 11
            &[0x02, 0x01],             // 1-byte integer missing
            &[0x02, 0x06, 0, 0, 0],    // 8-byte integer cut short
            &[0x02, 0x07, 0x3f],       // real cut short
            &[0x02, 0x15, b'a', b'b'], // 4-byte text (21) with 2 bytes
            &[0x02, 0x81, 0x01],       // type varint crosses the header end
            &[0x02, 0x00, 0xaa],       // trailing bytes after the last column
            &[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // huge text
        ];
        for &b in bad {
            assert_malformed(decode_record(b));
            assert_malformed(Record::parse(b));
        }
    }

    #[test]
    fn lazy_compare_checks_what_it_reads() {
        let good = enc(&[V::Integer(5)]);
        // Truncated second column: reached only when the first field is equal.
        let bad = [0x03, 0x01, 0x01, 0x05];
        let ki = KeyInfo::default();
        assert_malformed(compare_records(&bad, &good, &ki));
        assert_malformed(compare_record_to_key(
            &bad,
            &[Value::Integer(5), Value::Null],
            &ki,
        ));
        assert_eq!(
            compare_record_to_key(&bad, &[Value::Integer(6)], &ki),
            Ok(Less)
        );
        assert_malformed(compare_records(&[0x02, 0x0a], &good, &ki));
        assert_malformed(compare_record_to_key(&[], &[], &ki));
        // A header size smaller than its own varint is malformed even when no column is
        // read, rather than an empty record.
        assert_malformed(compare_records(&[0x00], &good, &ki));
        assert_malformed(compare_record_to_key(&[0x80, 0x01], &[], &ki));
    }

    #[test]
    fn record_view() {
        let bytes = enc(&[
            V::Integer(-300),
            V::Null,
            V::Real(2.5),
            V::Blob(b"\x00\xff"),
        ]);
        let r = Record::parse(&bytes).unwrap();
        assert_eq!(r.len(), 4);
        assert_eq!(r.get(0), Ok(V::Integer(-300)));
        assert_eq!(r.get(1), Ok(V::Null));
        assert_eq!(r.get(2), Ok(V::Real(2.5)));
        assert_eq!(r.get(3), Ok(V::Blob(b"\x00\xff")));
        assert_eq!(r.serial_type(0), 2);
        assert_eq!(r.serial_type(3), 16);
        assert_eq!(r.serial_type(4), 0);
        assert_malformed(r.get(4));
        assert_eq!(r.get_or_null(4), Ok(V::Null));

        // Wide records spill the column directory to the heap; values stay right.
        let wide: Vec<Value> = (0..100).map(|i| Value::Integer(i * 1000)).collect();
        let mut bytes = Vec::new();
        encode_values(&wide, &mut bytes);
        let r = Record::parse(&bytes).unwrap();
        assert_eq!(r.len(), 100);
        for (i, v) in wide.iter().enumerate() {
            assert_eq!(r.get(i).unwrap().to_owned(), *v);
        }
    }

    #[test]
    fn stored_nan_decodes_as_null() {
        let bytes = [0x02, 0x07, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0];
        assert_eq!(decode_record(&bytes).unwrap(), [V::Null]);
        assert_eq!(Record::parse(&bytes).unwrap().get(0), Ok(V::Null));
    }

    #[test]
    fn value_order_across_classes() {
        let ordered = [
            V::Null,
            V::Real(f64::NEG_INFINITY),
            V::Integer(i64::MIN),
            V::Real(-1.5),
            V::Integer(-1),
            V::Integer(0),
            V::Real(0.5),
            V::Integer(1),
            V::Integer(i64::MAX),
            V::Real(f64::INFINITY),
            V::Text(b""),
            V::Text(b"A"),
            V::Text(b"a"),
            V::Text(b"ab"),
            V::Blob(b""),
            V::Blob(b"\x00"),
            V::Blob(b"\x01"),
        ];
        for (i, &a) in ordered.iter().enumerate() {
            for (j, &b) in ordered.iter().enumerate() {
                assert_eq!(
                    compare_values(a, b, Collation::Binary),
                    i.cmp(&j),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn int_float_comparison_is_exact() {
        let c = |a, b| compare_values(a, b, Collation::Binary);
        // 2^53 + 1 is not a double; converting it would make these equal.
        assert_eq!(
            c(V::Integer((1 << 53) + 1), V::Real(9007199254740992.0)),
            Greater
        );
        assert_eq!(
            c(V::Real(9007199254740992.0), V::Integer((1 << 53) + 1)),
            Less
        );
        assert_eq!(c(V::Integer(1 << 53), V::Real(9007199254740992.0)), Equal);
        // i64::MAX rounds to 2^63 as a double.
        assert_eq!(
            c(V::Integer(i64::MAX), V::Real(9223372036854775807.0)),
            Less
        );
        assert_eq!(
            c(V::Integer(i64::MIN), V::Real(-9223372036854775808.0)),
            Equal
        );
        assert_eq!(c(V::Integer(i64::MIN), V::Real(-9.3e18)), Greater);
        assert_eq!(c(V::Integer(-3), V::Real(-2.5)), Less);
        assert_eq!(c(V::Integer(-3), V::Real(-3.5)), Greater);
        assert_eq!(c(V::Integer(2), V::Real(2.0)), Equal);
        assert_eq!(c(V::Integer(0), V::Real(-0.0)), Equal);
        assert_eq!(c(V::Real(-0.0), V::Real(0.0)), Equal);
        // NaN behaves as NULL.
        assert_eq!(c(V::Real(f64::NAN), V::Null), Equal);
        assert_eq!(c(V::Real(f64::NAN), V::Integer(i64::MIN)), Less);
        assert_eq!(c(V::Integer(0), V::Real(f64::NAN)), Greater);
    }

    #[test]
    fn collations_apply_to_text_only() {
        assert_eq!(
            compare_values(V::Text(b"ABC"), V::Text(b"abc"), Collation::NoCase),
            Equal
        );
        assert_eq!(
            compare_values(V::Text(b"ABC"), V::Text(b"abc"), Collation::Binary),
            Less
        );
        assert_eq!(
            compare_values(V::Text(b"x  "), V::Text(b"x"), Collation::RTrim),
            Equal
        );
        assert_eq!(
            compare_values(V::Blob(b"A"), V::Blob(b"a"), Collation::NoCase),
            Less
        );
        assert_eq!(
            compare_values(V::Blob(b"x "), V::Blob(b"x"), Collation::RTrim),
            Greater
        );
    }

    #[test]
    fn record_vs_key() {
        let rec = enc(&[V::Text(b"Bob"), V::Integer(7), V::Integer(42)]);
        let nocase_desc = KeyInfo {
            fields: vec![
                (Collation::NoCase, SortOrder::Asc),
                (Collation::Binary, SortOrder::Desc),
            ],
            ..Default::default()
        };
        let key = |t: &str, n: Option<i64>| {
            let mut k = vec![Value::Text(t.as_bytes().to_vec())];
            k.extend(n.map(Value::Integer));
            k
        };
        let ki = &nocase_desc;
        assert_eq!(
            compare_record_to_key(&rec, &key("bob", None), ki),
            Ok(Equal)
        );
        assert_eq!(
            compare_record_to_key(&rec, &key("bob", Some(7)), ki),
            Ok(Equal)
        );
        // Field 1 descends: 7 sorts after 8.
        assert_eq!(
            compare_record_to_key(&rec, &key("bob", Some(8)), ki),
            Ok(Greater)
        );
        assert_eq!(
            compare_record_to_key(&rec, &key("bob", Some(6)), ki),
            Ok(Less)
        );
        assert_eq!(
            compare_record_to_key(&rec, &key("BOC", Some(0)), ki),
            Ok(Less)
        );
        assert_eq!(compare_record_to_key(&rec, &[], ki), Ok(Equal));
        // Field 2 is beyond KeyInfo: BINARY ascending.
        let full = |n| {
            vec![
                Value::Text(b"bob".to_vec()),
                Value::Integer(7),
                Value::Integer(n),
            ]
        };
        assert_eq!(compare_record_to_key(&rec, &full(43), ki), Ok(Less));
        assert_eq!(compare_record_to_key(&rec, &full(41), ki), Ok(Greater));
        // A key longer than the record: the record is a prefix, hence smaller.
        let mut long = full(42);
        long.push(Value::Null);
        assert_eq!(compare_record_to_key(&rec, &long, ki), Ok(Less));
        // Binary collation sees the case difference ('B' < 'b').
        assert_eq!(
            compare_record_to_key(&rec, &key("bob", None), &KeyInfo::default()),
            Ok(Less)
        );
    }

    #[test]
    fn record_vs_record() {
        let ki = KeyInfo::default();
        let a = enc(&[V::Integer(1), V::Text(b"a")]);
        let b = enc(&[V::Integer(1), V::Text(b"b")]);
        let a_prefix = enc(&[V::Integer(1)]);
        let a_real = enc(&[V::Real(1.0), V::Text(b"a")]);
        assert_eq!(compare_records(&a, &b, &ki), Ok(Less));
        assert_eq!(compare_records(&b, &a, &ki), Ok(Greater));
        assert_eq!(compare_records(&a, &a, &ki), Ok(Equal));
        assert_eq!(compare_records(&a, &a_real, &ki), Ok(Equal));
        assert_eq!(compare_records(&a_prefix, &a, &ki), Ok(Less));
        assert_eq!(compare_records(&a, &a_prefix, &ki), Ok(Greater));
        let desc = KeyInfo {
            fields: vec![
                (Collation::Binary, SortOrder::Asc),
                (Collation::Binary, SortOrder::Desc),
            ],
            ..Default::default()
        };
        assert_eq!(compare_records(&a, &b, &desc), Ok(Greater));
        // The prefix rule does not depend on the sort order.
        assert_eq!(compare_records(&a_prefix, &a, &desc), Ok(Less));
    }

    #[test]
    fn owned_and_borrowed_convert() {
        let vals = [
            Value::Null,
            Value::Integer(-5),
            Value::Real(0.25),
            Value::Text(vec![0xff, 0xfe]),
            Value::Blob(vec![]),
        ];
        for v in &vals {
            assert_eq!(v.as_ref().to_owned(), *v);
            assert_eq!(Value::from(ValueRef::from(v)), *v);
        }
    }

    #[test]
    fn compare_record_to_fields_is_compare_records() {
        // Every pair from a pool of records (NULLs, numbers of both kinds, text that
        // differs by case and length, blobs, different field counts), under key infos
        // with DESC and NOCASE fields: the decoded-once comparison must agree exactly.
        let vals = [
            V::Null,
            V::Integer(-3),
            V::Integer(7),
            V::Real(7.0),
            V::Real(-0.5),
            V::Text(b"abc"),
            V::Text(b"ABC"),
            V::Text(b"abcd"),
            V::Blob(b"\x00\x01"),
        ];
        let mut records = Vec::new();
        for (i, a) in vals.iter().enumerate() {
            records.push(enc(&[*a]));
            for b in vals.iter().skip(i % 3) {
                records.push(enc(&[*a, *b]));
                records.push(enc(&[*a, *b, V::Integer(i as i64)]));
            }
        }
        let infos = [
            KeyInfo::default(),
            KeyInfo::new(vec![
                (Collation::NoCase, SortOrder::Desc),
                (Collation::Binary, SortOrder::Asc),
            ]),
            KeyInfo::new(vec![
                (Collation::Binary, SortOrder::Asc),
                (Collation::NoCase, SortOrder::Desc),
                (Collation::Binary, SortOrder::Desc),
            ]),
        ];
        for ki in &infos {
            for a in &records {
                for b in &records {
                    let fields = decode_record(b).unwrap();
                    assert_eq!(
                        compare_record_to_fields(a, &fields, ki).unwrap(),
                        compare_records(a, b, ki).unwrap(),
                        "{a:?} vs {b:?}"
                    );
                }
            }
        }
    }
}
