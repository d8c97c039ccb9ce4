//! The `sqlite3_value_*` accessors: how any value is read as an integer, a real, text or
//! a boolean when a function or operator asks for that type. These are total functions
//! on every [`Value`]; none allocates unless it must render a number as text.

use std::borrow::Cow;

use strata_btree::record::Value;

use crate::numeric::{atof, atoi64, i64_to_text, real_to_i64, real_to_text};

/// `sqlite3_value_int64`: integers as is, reals truncated (saturating), text and blobs by
/// the decimal prefix rule ("12abc" -> 12, "1e5" -> 1, "abc" -> 0), NULL -> 0.
#[inline]
pub fn value_int64(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        Value::Real(r) => real_to_i64(*r),
        Value::Text(t) | Value::Blob(t) => atoi64(t).0,
        Value::Null => 0,
    }
}

/// `sqlite3_value_int`: the 64-bit value truncated to 32 bits, as C's `(int)` cast does.
#[inline]
pub fn value_int(v: &Value) -> i32 {
    value_int64(v) as i32
}

/// `sqlite3_value_double`: reals as is, integers converted, text and blobs by the longest
/// numeric prefix ("1.5e3x" -> 1500.0), NULL -> 0.0.
#[inline]
pub fn value_double(v: &Value) -> f64 {
    match v {
        Value::Real(r) => *r,
        Value::Integer(i) => *i as f64,
        Value::Text(t) | Value::Blob(t) => atof(t).0,
        Value::Null => 0.0,
    }
}

/// `sqlite3_value_text`: the bytes of text or blob values, numbers rendered as SQLite
/// renders them, NULL -> None.
#[inline]
pub fn value_text(v: &Value) -> Option<Cow<'_, [u8]>> {
    match v {
        Value::Text(t) | Value::Blob(t) => Some(Cow::Borrowed(t)),
        Value::Integer(i) => {
            let mut out = Vec::with_capacity(20);
            i64_to_text(*i, &mut out);
            Some(Cow::Owned(out))
        }
        Value::Real(r) => {
            let mut out = Vec::with_capacity(24);
            real_to_text(*r, &mut out);
            Some(Cow::Owned(out))
        }
        Value::Null => None,
    }
}

/// Appends the text form of a non-NULL value (nothing for NULL).
pub fn append_text(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Text(t) | Value::Blob(t) => out.extend_from_slice(t),
        Value::Integer(i) => i64_to_text(*i, out),
        Value::Real(r) => real_to_text(*r, out),
        Value::Null => {}
    }
}

/// The prefix of `s` before its first NUL byte: what C code that treats
/// `sqlite3_value_text()` as a zero-terminated string sees.
#[inline]
pub fn cstr(s: &[u8]) -> &[u8] {
    match s.iter().position(|&c| c == 0) {
        Some(p) => &s[..p],
        None => s,
    }
}

/// `sqlite3VdbeBooleanValue`: the truth of a value in a WHERE/NOT/AND/OR context.
/// Integers: non-zero; everything else via its real value (text by the numeric prefix
/// rule, so '1abc' is true and 'abc' false). NULL -> None.
#[inline]
pub fn truth(v: &Value) -> Option<bool> {
    match v {
        Value::Null => None,
        Value::Integer(i) => Some(*i != 0),
        _ => Some(value_double(v) != 0.0),
    }
}

/// Storage-class name as `typeof()` reports it.
#[inline]
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Integer(_) => "integer",
        Value::Real(_) => "real",
        Value::Text(_) => "text",
        Value::Blob(_) => "blob",
    }
}

/// A real result as SQLite stores it: NaN becomes NULL (`sqlite3VdbeMemSetDouble`).
#[inline]
pub fn real_value(r: f64) -> Value {
    if r.is_nan() {
        Value::Null
    } else {
        Value::Real(r)
    }
}
