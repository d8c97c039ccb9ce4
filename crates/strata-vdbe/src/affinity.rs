//! Type affinity: which affinity a declared column type has, what applying an affinity
//! does to a value (on INSERT/UPDATE, and to operands of comparisons), and which
//! affinity a comparison uses.

use strata_btree::record::Value;

use crate::numeric::{
    atof, atoi64, i64_to_text, real_same_as_int, real_to_i64, real_to_text, AtofKind,
};

/// A column or expression affinity. The order matches SQLite's (`SQLITE_AFF_BLOB` <
/// TEXT < NUMERIC < INTEGER < REAL), which [`compare_affinity`] relies on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Affinity {
    /// "BLOB" a.k.a. NONE: values are stored as given.
    #[default]
    Blob,
    Text,
    Numeric,
    Integer,
    Real,
}

impl Affinity {
    /// True for NUMERIC, INTEGER and REAL (`sqlite3IsNumericAffinity`).
    #[inline]
    pub fn is_numeric(self) -> bool {
        self >= Affinity::Numeric
    }

    /// The one-letter code SQLite uses in `sqlite_master`-independent places (A..E).
    pub fn code(self) -> char {
        match self {
            Affinity::Blob => 'A',
            Affinity::Text => 'B',
            Affinity::Numeric => 'C',
            Affinity::Integer => 'D',
            Affinity::Real => 'E',
        }
    }
}

/// `sqlite3AffinityType`: the affinity of a declared column type. Scans the type name
/// case-insensitively for the substrings, first rule that matches wins:
/// "INT" -> INTEGER; "CHAR", "CLOB", "TEXT" -> TEXT; "BLOB" or no type -> BLOB;
/// "REAL", "FLOA", "DOUB" -> REAL; anything else -> NUMERIC.
pub fn affinity_of_type(decl: &[u8]) -> Affinity {
    // A rolling 4-byte hash of the lowercased bytes, exactly as SQLite computes it, so
    // that overlapping matches ("CHARINT" is INTEGER, "BLOBCHAR" is TEXT) agree.
    let mut h: u32 = 0;
    let mut aff = Affinity::Numeric;
    let key = |s: &[u8; 4]| -> u32 {
        ((s[0] as u32) << 24) | ((s[1] as u32) << 16) | ((s[2] as u32) << 8) | s[3] as u32
    };
    if decl.is_empty() {
        return Affinity::Blob;
    }
    for &x in decl {
        // SQLite's declared-type strings are C strings: stop at NUL.
        if x == 0 {
            break;
        }
        h = (h << 8).wrapping_add(x.to_ascii_lowercase() as u32);
        if h == key(b"char") || h == key(b"clob") || h == key(b"text") {
            aff = Affinity::Text;
        } else if h == key(b"blob") && (aff == Affinity::Numeric || aff == Affinity::Real) {
            aff = Affinity::Blob;
        } else if (h == key(b"real") || h == key(b"floa") || h == key(b"doub"))
            && aff == Affinity::Numeric
        {
            aff = Affinity::Real;
        } else if h & 0x00FF_FFFF == (((b'i' as u32) << 16) | ((b'n' as u32) << 8) | b't' as u32) {
            return Affinity::Integer;
        }
    }
    aff
}

/// `applyNumericAffinity`: if `text` is, as a whole (surrounding whitespace allowed), a
/// well-formed number, its numeric value: INTEGER when it is an integer literal that fits
/// (or a real that is exactly a small integer, like "3.0"... only when `try_for_int`),
/// else REAL. None if the text does not look like a number.
pub fn numeric_value_of_text(text: &[u8], try_for_int: bool) -> Option<Value> {
    let (r, kind) = atof(text);
    if !kind.is_number() {
        return None;
    }
    if kind == AtofKind::Integer {
        // alsoAnInt: the real is exactly an integer of modest size, or the text parses
        // as an i64 without loss.
        let iv = real_to_i64(r);
        if real_same_as_int(r, iv) {
            return Some(Value::Integer(iv));
        }
        let (iv, rc) = atoi64(text);
        if rc == crate::numeric::AtoiResult::Ok {
            return Some(Value::Integer(iv));
        }
    }
    if try_for_int {
        if let Some(i) = real_as_integer(r) {
            return Some(Value::Integer(i));
        }
    }
    Some(Value::Real(r))
}

/// `sqlite3VdbeIntegerAffinity` on a real: the integer if the real converts to it and
/// back without loss and is strictly inside (i64::MIN, i64::MAX).
#[inline]
pub fn real_as_integer(r: f64) -> Option<i64> {
    let ix = real_to_i64(r);
    if r == ix as f64 && ix > i64::MIN && ix < i64::MAX {
        Some(ix)
    } else {
        None
    }
}

/// Applies column affinity to a value being stored, returning the value SQLite stores
/// and later reads back (`applyAffinity` at insert plus REAL columns' read-side
/// `OP_RealAffinity`):
///
/// * TEXT: integers and reals become their text rendering; text and blobs unchanged.
/// * NUMERIC / INTEGER: text that is entirely a well-formed number (leading/trailing
///   whitespace allowed, no hex) becomes INTEGER if integral and in range, else REAL;
///   reals that are exactly integers (and within +-2^63 exclusive) become INTEGER.
/// * REAL: like NUMERIC, but the final numeric result is always REAL.
/// * BLOB: unchanged.
pub fn apply_affinity(v: Value, aff: Affinity) -> Value {
    match aff {
        Affinity::Blob => v,
        Affinity::Text => match v {
            Value::Integer(i) => {
                let mut out = Vec::with_capacity(20);
                i64_to_text(i, &mut out);
                Value::Text(out)
            }
            Value::Real(r) => {
                let mut out = Vec::with_capacity(24);
                real_to_text(r, &mut out);
                Value::Text(out)
            }
            other => other,
        },
        Affinity::Numeric | Affinity::Integer | Affinity::Real => {
            let v = match v {
                Value::Text(t) => match numeric_value_of_text(&t, true) {
                    Some(n) => n,
                    None => Value::Text(t),
                },
                Value::Real(r) => match real_as_integer(r) {
                    Some(i) => Value::Integer(i),
                    None => Value::Real(r),
                },
                other => other,
            };
            if aff == Affinity::Real {
                if let Value::Integer(i) = v {
                    return Value::Real(i as f64);
                }
            }
            v
        }
    }
}

/// `sqlite3CompareAffinity`: the affinity a comparison applies, given its two operands'
/// affinities, `None` standing for an expression with no affinity (a literal, a bound
/// parameter, most expressions), as opposed to `Some(Blob)` for a column declared BLOB
/// or untyped. If both operands have an affinity, numeric wins, else BLOB (no
/// conversion); if only one has one, that one is used; if neither, none.
pub fn compare_affinity(left: Option<Affinity>, right: Option<Affinity>) -> Affinity {
    match (left, right) {
        (Some(l), Some(r)) => {
            if l.is_numeric() || r.is_numeric() {
                Affinity::Numeric
            } else {
                Affinity::Blob
            }
        }
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => Affinity::Blob,
    }
}

/// What a comparison with affinity `aff` does to one operand before comparing (the
/// operand adjustments of `OP_Eq`..`OP_Ge`). Returns None when the value is used as is.
///
/// * numeric affinity: a TEXT operand that looks like a number becomes that number
///   (without the real->integer step), if either operand is text;
/// * TEXT affinity: a numeric operand becomes text, if either operand is text;
/// * otherwise nothing changes.
pub fn comparison_operand(v: &Value, other: &Value, aff: Affinity) -> Option<Value> {
    let any_text = matches!(v, Value::Text(_)) || matches!(other, Value::Text(_));
    if !any_text {
        return None;
    }
    if aff.is_numeric() {
        if let Value::Text(t) = v {
            return numeric_value_of_text(t, false);
        }
        None
    } else if aff == Affinity::Text {
        match v {
            Value::Integer(_) | Value::Real(_) => Some(apply_affinity(v.clone(), Affinity::Text)),
            _ => None,
        }
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names() {
        assert_eq!(affinity_of_type(b"INTEGER"), Affinity::Integer);
        assert_eq!(affinity_of_type(b"varchar(10)"), Affinity::Text);
        assert_eq!(affinity_of_type(b""), Affinity::Blob);
        assert_eq!(affinity_of_type(b"BLOB"), Affinity::Blob);
        assert_eq!(affinity_of_type(b"double precision"), Affinity::Real);
        assert_eq!(affinity_of_type(b"DECIMAL(10,5)"), Affinity::Numeric);
        assert_eq!(affinity_of_type(b"FLOATING POINT"), Affinity::Integer);
    }

    #[test]
    fn apply() {
        assert_eq!(
            apply_affinity(Value::Text(b"3.0".to_vec()), Affinity::Numeric),
            Value::Integer(3)
        );
        assert_eq!(
            apply_affinity(Value::Text(b" 12 ".to_vec()), Affinity::Integer),
            Value::Integer(12)
        );
        assert_eq!(
            apply_affinity(Value::Text(b"0x10".to_vec()), Affinity::Integer),
            Value::Text(b"0x10".to_vec())
        );
        assert_eq!(
            apply_affinity(Value::Integer(1), Affinity::Real),
            Value::Real(1.0)
        );
    }
}
