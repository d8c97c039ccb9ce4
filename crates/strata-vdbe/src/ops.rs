//! SQL operators with SQLite's exact semantics (`OP_Add`..`OP_Remainder`, `OP_BitAnd`..
//! `OP_ShiftRight`, `OP_BitNot`, `OP_Concat`, `OP_Eq`..`OP_Ge`, `OP_Not`, `OP_And`,
//! `OP_Or`).
//!
//! Arithmetic: if both operands are INTEGER the integer result is used unless it
//! overflows, in which case the computation is redone in floating point. Other operands
//! are first classified numerically (`numericType`): text and blobs become INTEGER if
//! their whole text (or a prefix with no '.'/exponent) is an integer, else REAL by the
//! prefix rule; then integer math applies if both are integers. Division and remainder by
//! zero give NULL; a NaN result gives NULL; NULL operands give NULL. `%` on reals
//! converts both operands to integers and returns a REAL.

use std::cmp::Ordering;

use strata_btree::record::{
    compare_values, compare_values_in, Collation, TextCmp, TextEncoding, Value, ValueRef,
};

use crate::affinity::{comparison_operand, Affinity};
use crate::conv::{append_text, real_value, truth, value_double, value_int64};
use crate::numeric::{atof, atoi64, AtofKind, AtoiResult};

/// A binary arithmetic operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

/// A value's numeric classification for arithmetic (`numericType`).
#[derive(Clone, Copy, Debug)]
enum Num {
    Int(i64),
    /// Not an integer: the operation falls back to `sqlite3VdbeRealValue` of the operand.
    Real,
}

/// `computeNumericType` for text/blob: INTEGER if the text is an integer (or a
/// non-number whose integer prefix parses), else REAL by the prefix rule.
#[inline]
fn numeric_of_bytes(z: &[u8]) -> Num {
    let (_, kind) = atof(z);
    match kind {
        AtofKind::NotNumber | AtofKind::RealPrefix => {
            if kind == AtofKind::NotNumber {
                let (ix, rc) = atoi64(z);
                if rc.code() <= 1 {
                    return Num::Int(ix);
                }
            }
            Num::Real
        }
        AtofKind::Integer => {
            let (ix, rc) = atoi64(z);
            if rc == AtoiResult::Ok {
                Num::Int(ix)
            } else {
                Num::Real
            }
        }
        AtofKind::Real => Num::Real,
    }
}

/// Numeric classification of a non-NULL value.
#[inline]
fn numeric_type(v: &Value) -> Num {
    match v {
        Value::Integer(i) => Num::Int(*i),
        Value::Real(_) => Num::Real,
        Value::Text(t) | Value::Blob(t) => numeric_of_bytes(t),
        Value::Null => Num::Int(0),
    }
}

/// `lhs op rhs` for the arithmetic operators.
pub fn arith(op: Arith, lhs: &Value, rhs: &Value) -> Value {
    if let (Value::Integer(a), Value::Integer(b)) = (lhs, rhs) {
        if let Some(v) = int_math(op, *a, *b) {
            return v;
        }
        return fp_math(op, lhs, rhs);
    }
    if matches!(lhs, Value::Null) || matches!(rhs, Value::Null) {
        return Value::Null;
    }
    if let (Num::Int(a), Num::Int(b)) = (numeric_type(lhs), numeric_type(rhs)) {
        if let Some(v) = int_math(op, a, b) {
            return v;
        }
    }
    fp_math(op, lhs, rhs)
}

/// Integer arithmetic; None means "overflow: redo in floating point".
#[inline]
fn int_math(op: Arith, a: i64, b: i64) -> Option<Value> {
    Some(match op {
        Arith::Add => Value::Integer(a.checked_add(b)?),
        Arith::Sub => Value::Integer(a.checked_sub(b)?),
        Arith::Mul => Value::Integer(a.checked_mul(b)?),
        Arith::Div => {
            if b == 0 {
                return Some(Value::Null);
            }
            if b == -1 && a == i64::MIN {
                return None;
            }
            Value::Integer(a / b)
        }
        Arith::Rem => {
            if b == 0 {
                return Some(Value::Null);
            }
            // x % -1 is 0; avoid the i64::MIN % -1 trap.
            let b = if b == -1 { 1 } else { b };
            Value::Integer(a % b)
        }
    })
}

/// Floating-point arithmetic on the operands' real values.
#[inline]
fn fp_math(op: Arith, lhs: &Value, rhs: &Value) -> Value {
    let a = value_double(lhs);
    let b = value_double(rhs);
    let r = match op {
        Arith::Add => a + b,
        Arith::Sub => a - b,
        Arith::Mul => a * b,
        Arith::Div => {
            if b == 0.0 {
                return Value::Null;
            }
            a / b
        }
        Arith::Rem => {
            let ia = value_int64(lhs);
            let mut ib = value_int64(rhs);
            if ib == 0 {
                return Value::Null;
            }
            if ib == -1 {
                ib = 1;
            }
            (ia % ib) as f64
        }
    };
    real_value(r)
}

/// Unary minus: SQLite compiles `-x` as `0 - x` (so `-'abc'` is 0, `-NULL` is NULL and
/// `-(-9223372036854775808)` is the real 9.22337203685478e+18).
pub fn negate(v: &Value) -> Value {
    arith(Arith::Sub, &Value::Integer(0), v)
}

/// A bitwise operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bit {
    And,
    Or,
    Shl,
    Shr,
}

/// `lhs op rhs` for `& | << >>`: operands as integers (`sqlite3_value_int64` rules),
/// NULL if either is NULL. Shifts by >= 64 give 0 (or -1 for a negative `>>`); a
/// negative shift amount shifts the other way.
pub fn bitwise(op: Bit, lhs: &Value, rhs: &Value) -> Value {
    if matches!(lhs, Value::Null) || matches!(rhs, Value::Null) {
        return Value::Null;
    }
    let a = value_int64(lhs);
    let b = value_int64(rhs);
    Value::Integer(match op {
        Bit::And => a & b,
        Bit::Or => a | b,
        Bit::Shl | Bit::Shr => shift(op == Bit::Shl, a, b),
    })
}

#[inline]
fn shift(mut left: bool, a: i64, mut b: i64) -> i64 {
    if b == 0 {
        return a;
    }
    if b < 0 {
        left = !left;
        b = if b > -64 { -b } else { 64 };
    }
    if b >= 64 {
        if a >= 0 || left {
            0
        } else {
            -1
        }
    } else if left {
        ((a as u64) << b) as i64
    } else {
        // Arithmetic shift is exactly SQLite's logical shift plus sign extension.
        a >> b
    }
}

/// `~x`: NULL stays NULL, anything else as an integer.
pub fn bit_not(v: &Value) -> Value {
    match v {
        Value::Null => Value::Null,
        _ => Value::Integer(!value_int64(v)),
    }
}

/// `lhs || rhs`: TEXT of both renderings (blobs' bytes as they are), NULL if either is
/// NULL.
pub fn concat(lhs: &Value, rhs: &Value) -> Value {
    if matches!(lhs, Value::Null) || matches!(rhs, Value::Null) {
        return Value::Null;
    }
    let mut out = Vec::new();
    append_text(lhs, &mut out);
    append_text(rhs, &mut out);
    Value::Text(out)
}

/// [`concat`] in a database whose text encoding is `enc`. As SQLite's `OP_Concat`: the
/// operands' bytes in that encoding (a blob's as they are, without conversion) are
/// joined, and in UTF-16 the result is cut to an even length, so an odd-length blob
/// shifts what follows it by a byte (x'232D31' || '2' is the bytes 23 2D 31 32: the
/// text '⴬', '㈱' in UTF-16LE) rather than losing its own last byte. An expression index
/// on such a concatenation must store exactly SQLite's key (sql_diff found "row missing
/// from index" from SQLite's integrity_check of a UTF-16 file).
pub fn concat_in(lhs: &Value, rhs: &Value, enc: TextEncoding) -> Value {
    if enc.is_utf8() || !(matches!(lhs, Value::Blob(_)) || matches!(rhs, Value::Blob(_))) {
        return concat(lhs, rhs);
    }
    if matches!(lhs, Value::Null) || matches!(rhs, Value::Null) {
        return Value::Null;
    }
    let mut raw = Vec::new();
    for v in [lhs, rhs] {
        match v {
            Value::Blob(b) => raw.extend_from_slice(b),
            v => {
                let mut text = Vec::new();
                append_text(v, &mut text);
                strata_btree::text_encoding::append_from_utf8(&text, enc, &mut raw);
            }
        }
    }
    raw.truncate(raw.len() & !1);
    let mut out = Vec::new();
    strata_btree::text_encoding::append_to_utf8(&raw, enc, &mut out);
    Value::Text(out)
}

/// `sqlite3MemCompare` on two values with no conversions: NULL < numbers (integers and
/// reals compared exactly by value) < TEXT (by collation) < BLOB (memcmp).
#[inline]
pub fn compare(a: &Value, b: &Value, coll: Collation) -> Ordering {
    compare_values(a.as_ref(), b.as_ref(), coll)
}

/// [`compare`] in a database whose text encoding is `enc` (BINARY is that encoding's
/// byte order; see `strata_btree::text_encoding`).
#[inline]
pub fn compare_in(a: &Value, b: &Value, coll: Collation, enc: TextEncoding) -> Ordering {
    compare_values_in(a.as_ref(), b.as_ref(), coll, TextCmp::registers(enc))
}

/// Same as [`compare`] on borrowed values.
#[inline]
pub fn compare_ref(a: ValueRef<'_>, b: ValueRef<'_>, coll: Collation) -> Ordering {
    compare_values(a, b, coll)
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    /// Whether an ordering satisfies this operator.
    #[inline]
    pub fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Ne => ord != Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

/// Compares `lhs` with `rhs` as `lhs <op> rhs` does in SQL: NULL (None) if either is
/// NULL; otherwise the comparison affinity `aff` (see
/// [`crate::affinity::compare_affinity`]) is applied to the operands first and the
/// collation decides between texts.
pub fn compare_with_affinity(
    lhs: &Value,
    rhs: &Value,
    aff: Affinity,
    coll: Collation,
) -> Option<Ordering> {
    compare_with_affinity_in(lhs, rhs, aff, coll, TextEncoding::Utf8)
}

/// [`compare_with_affinity`] in a database whose text encoding is `enc`.
pub fn compare_with_affinity_in(
    lhs: &Value,
    rhs: &Value,
    aff: Affinity,
    coll: Collation,
    enc: TextEncoding,
) -> Option<Ordering> {
    if let (Value::Integer(a), Value::Integer(b)) = (lhs, rhs) {
        return Some(a.cmp(b));
    }
    if matches!(lhs, Value::Null) || matches!(rhs, Value::Null) {
        return None;
    }
    if aff == Affinity::Blob {
        return Some(compare_in(lhs, rhs, coll, enc));
    }
    let l2 = comparison_operand(lhs, rhs, aff);
    let r2 = comparison_operand(rhs, lhs, aff);
    Some(compare_in(
        l2.as_ref().unwrap_or(lhs),
        r2.as_ref().unwrap_or(rhs),
        coll,
        enc,
    ))
}

/// `lhs <op> rhs` as an SQL value: 1, 0 or NULL.
pub fn compare_op(op: Cmp, lhs: &Value, rhs: &Value, aff: Affinity, coll: Collation) -> Value {
    compare_op_in(op, lhs, rhs, aff, coll, TextEncoding::Utf8)
}

/// [`compare_op`] in a database whose text encoding is `enc`.
pub fn compare_op_in(
    op: Cmp,
    lhs: &Value,
    rhs: &Value,
    aff: Affinity,
    coll: Collation,
    enc: TextEncoding,
) -> Value {
    match compare_with_affinity_in(lhs, rhs, aff, coll, enc) {
        None => Value::Null,
        Some(o) => Value::Integer(op.holds(o) as i64),
    }
}

/// `lhs IS rhs` (`is_not = false`) or `lhs IS NOT rhs`: never NULL; two NULLs are equal.
pub fn is(lhs: &Value, rhs: &Value, is_not: bool, aff: Affinity, coll: Collation) -> Value {
    is_in(lhs, rhs, is_not, aff, coll, TextEncoding::Utf8)
}

/// [`is`] in a database whose text encoding is `enc`.
pub fn is_in(
    lhs: &Value,
    rhs: &Value,
    is_not: bool,
    aff: Affinity,
    coll: Collation,
    enc: TextEncoding,
) -> Value {
    let eq = match (lhs, rhs) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        _ => compare_with_affinity_in(lhs, rhs, aff, coll, enc) == Some(Ordering::Equal),
    };
    Value::Integer((eq != is_not) as i64)
}

/// Three-valued AND.
#[inline]
pub fn and3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// Three-valued OR.
#[inline]
pub fn or3(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// Three-valued NOT.
#[inline]
pub fn not3(a: Option<bool>) -> Option<bool> {
    a.map(|b| !b)
}

/// A three-valued boolean as an SQL value (1, 0, NULL).
#[inline]
pub fn bool_value(b: Option<bool>) -> Value {
    match b {
        None => Value::Null,
        Some(b) => Value::Integer(b as i64),
    }
}

/// `a AND b` on values.
pub fn and(a: &Value, b: &Value) -> Value {
    bool_value(and3(truth(a), truth(b)))
}

/// `a OR b` on values.
pub fn or(a: &Value, b: &Value) -> Value {
    bool_value(or3(truth(a), truth(b)))
}

/// `NOT a` on a value.
pub fn not(a: &Value) -> Value {
    bool_value(not3(truth(a)))
}

/// `x IS TRUE`-style truthiness (`sqlite3VdbeBooleanValue`); re-exported for the VM.
pub use crate::conv::truth as is_true;
