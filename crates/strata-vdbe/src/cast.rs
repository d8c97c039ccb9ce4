//! `CAST(x AS type)` (`sqlite3VdbeMemCast`). The target is an affinity, found from the
//! type name with the same rules as column types ([`crate::affinity::affinity_of_type`]),
//! so `CAST(x AS VARCHAR)` is a TEXT cast and `CAST(x AS DECIMAL)` a NUMERIC one.
//!
//! Unlike affinity, CAST always converts, using *prefix* rules: `CAST('12abc' AS
//! INTEGER)` is 12, `CAST('abc' AS REAL)` is 0.0. NULL stays NULL.

use strata_btree::record::{TextEncoding, Value};
use strata_btree::text_encoding::{from_utf8, to_utf8};

use crate::affinity::{apply_affinity, Affinity};
use crate::conv::{value_double, value_int64};
use crate::numeric::{atof, atoi64, real_same_as_int, real_to_i64, AtofKind};

/// Casts `v` to the type with affinity `to`.
pub fn cast(v: Value, to: Affinity) -> Value {
    if matches!(v, Value::Null) {
        return v;
    }
    match to {
        // To BLOB: numbers become the bytes of their text rendering; text keeps its bytes.
        Affinity::Blob => match v {
            Value::Blob(_) => v,
            Value::Text(t) => Value::Blob(t),
            other => match apply_affinity(other, Affinity::Text) {
                Value::Text(t) => Value::Blob(t),
                x => x,
            },
        },
        Affinity::Text => match v {
            Value::Blob(b) => Value::Text(b),
            other => apply_affinity(other, Affinity::Text),
        },
        // Integer: reals truncate toward zero, saturating; text/blob by the decimal
        // integer prefix ("1e5" -> 1, "0x10" -> 0, "9999999999999999999" -> i64::MAX).
        Affinity::Integer => Value::Integer(value_int64(&v)),
        // Real: text/blob by the longest real prefix.
        Affinity::Real => Value::Real(value_double(&v)),
        Affinity::Numeric => numerify(v),
    }
}

/// `sqlite3VdbeMemNumerify`: text/blob -> INTEGER when the text is an integer (or its
/// prefix is an integer that fits), or its real value is exactly a small integer;
/// otherwise REAL from the longest numeric prefix. Numbers are unchanged.
fn numerify(v: Value) -> Value {
    match v {
        Value::Text(ref t) | Value::Blob(ref t) => {
            let (r, kind) = atof(t);
            if matches!(kind, AtofKind::NotNumber | AtofKind::Integer) {
                let (ix, rc) = atoi64(t);
                if rc.code() <= 1 {
                    return Value::Integer(ix);
                }
            }
            let ix = real_to_i64(r);
            if real_same_as_int(r, ix) {
                Value::Integer(ix)
            } else {
                Value::Real(r)
            }
        }
        other => other,
    }
}

/// Casts to a type given by name (e.g. "INTEGER", "varchar(20)").
pub fn cast_to_type_name(v: Value, type_name: &[u8]) -> Value {
    cast(v, crate::affinity::affinity_of_type(type_name))
}

/// [`cast_to_type_name`] in a database whose text encoding is `enc`: between TEXT and
/// BLOB the bytes are the text in that encoding, as SQLite's values are.
pub fn cast_to_type_name_in(v: Value, type_name: &[u8], enc: TextEncoding) -> Value {
    let to = crate::affinity::affinity_of_type(type_name);
    if enc.is_utf8() {
        return cast(v, to);
    }
    match (to, v) {
        (Affinity::Text, Value::Blob(b)) => Value::Text(to_utf8(&b, enc).into_owned()),
        (Affinity::Blob, v @ Value::Blob(_)) => v,
        (Affinity::Blob, v) => match cast(v, Affinity::Blob) {
            Value::Blob(b) => Value::Blob(from_utf8(&b, enc).into_owned()),
            x => x,
        },
        (to, v) => cast(v, to),
    }
}
