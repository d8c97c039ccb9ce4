//! Rendering query values to the strings that sqllogictest compares.
//!
//! SQLite's harness asks SQLite for each column with `sqlite3_column_int64`,
//! `sqlite3_column_double` or `sqlite3_column_text`, depending on the column's
//! type letter, and formats numbers with SQLite's own `printf`. The expected
//! results in the corpus were produced that way, so this module reproduces
//! those conversions on plain [`Value`]s, engine-independently:
//!
//! * `I`: [`value_to_i64`], SQLite's `sqlite3VdbeIntValue` (reals truncate
//!   toward zero and saturate; text and blobs take their leading-integer prefix
//!   the way `sqlite3Atoi64` does, so `"1e3"` is 1), printed in decimal.
//! * `R`: [`value_to_f64`], SQLite's `sqlite3VdbeRealValue` (text uses the
//!   numeric prefix, as `sqlite3AtoF`), printed with [`format_fixed`], SQLite's
//!   `%.3f`, which keeps at most 16 significant digits and pads with zeros.
//! * `T`: [`value_to_text`] (integers in decimal, reals with [`real_to_text`],
//!   SQLite's `%!.15g`), then `(empty)` for an empty string and `@` for every
//!   byte outside `0x20..=0x7e`.
//!
//! `NULL` renders as `NULL` whatever the column's type.
//!
//! The conversions follow SQLite 3.46 (the bundled build) as compiled for
//! x86-64, bit for bit, including its `long double` rounding; the
//! `render_vs_sqlite` integration test checks that against SQLite's C API on
//! hundreds of thousands of values.

use std::borrow::Cow;

use crate::engine::Value;

/// A column's type letter in a `query` record's type string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// `I`
    Integer,
    /// `R`
    Real,
    /// `T`
    Text,
}

impl ColumnType {
    pub fn from_letter(c: char) -> Option<ColumnType> {
        match c {
            'I' => Some(ColumnType::Integer),
            'R' => Some(ColumnType::Real),
            'T' => Some(ColumnType::Text),
            _ => None,
        }
    }
}

/// Renders one value as SQLite's harness does for a column of type `ty`.
pub fn render(value: &Value, ty: ColumnType) -> String {
    if let Value::Null = value {
        return "NULL".to_string();
    }
    match ty {
        ColumnType::Integer => value_to_i64(value).to_string(),
        ColumnType::Real => format_fixed(value_to_f64(value), 3),
        ColumnType::Text => render_text(&value_to_text(value)),
    }
}

/// The `T` rendering of a value's text.
///
/// The harness copies the value as a C string, so text stops at the first
/// NUL byte (a blob or text with an embedded NUL renders only its prefix).
fn render_text(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    let bytes = &bytes[..end];
    if bytes.is_empty() {
        return "(empty)".to_string();
    }
    bytes
        .iter()
        .map(|&b| {
            if (0x20..=0x7e).contains(&b) {
                b as char
            } else {
                '@'
            }
        })
        .collect()
}

/// `sqlite3_column_int64`: the value as a 64-bit integer.
pub fn value_to_i64(value: &Value) -> i64 {
    match value {
        Value::Null => 0,
        Value::Integer(i) => *i,
        // sqlite3RealToI64: truncation toward zero, saturating at the i64
        // bounds; Rust's float-to-int `as` does exactly that (and maps NaN,
        // which SQLite never stores, to 0).
        Value::Real(r) => *r as i64,
        Value::Text(b) | Value::Blob(b) => atoi64(b),
    }
}

/// `sqlite3_column_double`: the value as a double.
pub fn value_to_f64(value: &Value) -> f64 {
    match value {
        Value::Null => 0.0,
        Value::Integer(i) => *i as f64,
        Value::Real(r) => *r,
        Value::Text(b) | Value::Blob(b) => atof(b),
    }
}

/// `sqlite3_column_text`: the value's text as bytes.
pub fn value_to_text(value: &Value) -> Cow<'_, [u8]> {
    match value {
        Value::Null => Cow::Borrowed(&[]),
        Value::Integer(i) => Cow::Owned(i.to_string().into_bytes()),
        Value::Real(r) => Cow::Owned(real_to_text(*r).into_bytes()),
        Value::Text(b) | Value::Blob(b) => Cow::Borrowed(b),
    }
}

/// SQLite's `sqlite3Isspace`: ASCII space, `\t`, `\n`, `\v`, `\f`, `\r`.
fn is_space(b: u8) -> bool {
    b == b' ' || (0x09..=0x0d).contains(&b)
}

/// SQLite's `sqlite3Atoi64` as used by `sqlite3_column_int64` on text: skip
/// leading white space, take an optional sign and the longest run of decimal
/// digits after it; anything else ends the number. No digits gives 0; a value
/// outside the i64 range saturates. Hexadecimal is not recognised.
pub fn atoi64(bytes: &[u8]) -> i64 {
    let mut i = 0;
    while i < bytes.len() && is_space(bytes[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
        neg = bytes[i] == b'-';
        i += 1;
    }
    // Accumulating in u128 with saturation cannot overflow and still tells
    // "bigger than 2^63" apart from everything that fits.
    let mut magnitude: u128 = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        magnitude = (magnitude * 10 + u128::from(bytes[i] - b'0')).min(u128::from(u64::MAX));
        i += 1;
    }
    const TWO_POW_63: u128 = 1 << 63;
    if neg {
        if magnitude >= TWO_POW_63 {
            i64::MIN
        } else {
            -(magnitude as i64)
        }
    } else if magnitude >= TWO_POW_63 {
        i64::MAX
    } else {
        magnitude as i64
    }
}

/// SQLite's `sqlite3AtoF` as used by `sqlite3_column_double` on text: the
/// longest prefix of the form `[space][+-]digits[.digits][(e|E)[+-]digits]`
/// (digits may be absent on one side of the point) is converted; an `e` not
/// followed by digits adds nothing; no digits at all gives 0.
///
/// The conversion is SQLite's own, not a correctly rounded one: at most 19
/// significant digits are kept (later ones are dropped, not rounded), and the
/// power of ten is applied with `long double` multiplications, so the result
/// can differ from the nearest double in the last bit. Those last bits show
/// in `R` output of large or tiny values, so they are reproduced exactly.
pub fn atof(bytes: &[u8]) -> f64 {
    const SIGNIFICAND_LIMIT: u64 = (u64::MAX - 9) / 10;
    let mut i = 0;
    let at = |i: usize| bytes.get(i).copied();
    while at(i).is_some_and(is_space) {
        i += 1;
    }
    let mut negative = false;
    if let Some(c @ (b'-' | b'+')) = at(i) {
        negative = c == b'-';
        i += 1;
    }
    let mut s: u64 = 0; // significand
    let mut d: i32 = 0; // decimal point shift
    while let Some(c) = at(i).filter(u8::is_ascii_digit) {
        s = s * 10 + u64::from(c - b'0');
        i += 1;
        if s >= SIGNIFICAND_LIMIT {
            // Further integer digits only scale the value.
            while at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
                d += 1;
            }
        }
    }
    if at(i) == Some(b'.') {
        i += 1;
        while let Some(c) = at(i).filter(u8::is_ascii_digit) {
            if s < SIGNIFICAND_LIMIT {
                s = s * 10 + u64::from(c - b'0');
                d -= 1;
            }
            i += 1;
        }
    }
    let mut e: i32 = 0;
    if let Some(b'e' | b'E') = at(i) {
        i += 1;
        let mut esign = 1;
        if let Some(c @ (b'-' | b'+')) = at(i) {
            esign = if c == b'-' { -1 } else { 1 };
            i += 1;
        }
        while let Some(c) = at(i).filter(u8::is_ascii_digit) {
            e = if e < 10_000 {
                e * 10 + i32::from(c - b'0')
            } else {
                10_000
            };
            i += 1;
        }
        e *= esign;
    }
    if s == 0 {
        return if negative { -0.0 } else { 0.0 };
    }
    let mut e = e + d;
    while e > 0 && s < u64::MAX / 10 {
        s *= 10;
        e -= 1;
    }
    while e < 0 && s % 10 == 0 {
        s /= 10;
        e += 1;
    }
    let magnitude = if e == 0 {
        s as f64 // u64 to double rounds to nearest, as C's conversion does
    } else {
        let mut r = Ext::from_u64(s);
        while e >= 100 {
            e -= 100;
            r = r.mul(E_P100);
        }
        while e >= 10 {
            e -= 10;
            r = r.mul(E_P10);
        }
        while e >= 1 {
            e -= 1;
            r = r.mul(E_P1);
        }
        while e <= -100 {
            e += 100;
            r = r.mul(E_M100);
        }
        while e <= -10 {
            e += 10;
            r = r.mul(E_M10);
        }
        while e <= -1 {
            e += 1;
            r = r.mul(E_M1);
        }
        if E_DBL_MAX.lt(r) {
            f64::INFINITY
        } else {
            r.to_f64()
        }
    };
    if negative {
        -magnitude
    } else {
        magnitude
    }
}

/// A double decoded into decimal digits, as SQLite's `sqlite3FpDecode` does.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FpDecode {
    negative: bool,
    special: Special,
    /// Significant digits as ASCII, no trailing zeros (`"0"` for zero).
    digits: Vec<u8>,
    /// Position of the decimal point relative to the first digit: the value is
    /// `0.DIGITS * 10^dp`.
    dp: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Special {
    Finite,
    Infinite,
    NaN,
}

/// An x87 80-bit extended-precision number (`long double` on x86-64), just
/// enough of it to reproduce `sqlite3FpDecode` and `sqlite3AtoF`: positive
/// values only, value
/// `m * 2^e` with `m` normalised (top bit set), round-to-nearest-even
/// multiplication.
///
/// SQLite (on platforms whose `long double` is wider than `double`, which
/// includes x86-64 Linux) scales the double into `[1e17, 1e19)` with a chain
/// of `long double` multiplications by inexact powers of ten and truncates
/// to an integer. The rounding errors of that chain show in the 17th-19th
/// digit, and for very large or very small magnitudes they decide how the
/// 15th or 16th digit rounds, so the exact decimal expansion of the double
/// does not always give SQLite's output. Doing the same multiplications on
/// the same 64-bit mantissas does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ext {
    m: u64,
    e: i32,
}

/// The `long double` constants of `sqlite3FpDecode`, each the nearest
/// 64-bit-mantissa value to the decimal literal (as the C compiler rounds
/// them); computed exactly with rational arithmetic.
const E_P100: Ext = Ext {
    m: 0x924d692ca61be758,
    e: 269,
}; // 1e100
const E_M100: Ext = Ext {
    m: 0xdff9772470297ebd,
    e: -396,
}; // 1e-100
const E_P10: Ext = Ext {
    m: 0x9502f90000000000,
    e: -30,
}; // 1e10
const E_M10: Ext = Ext {
    m: 0xdbe6fecebdedd5bf,
    e: -97,
}; // 1e-10
const E_M1: Ext = Ext {
    m: 0xcccccccccccccccd,
    e: -67,
}; // 1e-1
const E_P1: Ext = Ext {
    m: 0xa000000000000000,
    e: -60,
}; // 1e1
const E_P19: Ext = Ext {
    m: 0x8ac7230489e80000,
    e: 0,
}; // 1e19
const E_P119: Ext = Ext {
    m: 0x9e9f11c4014dda7e,
    e: 332,
}; // 1e119
const E_P29: Ext = Ext {
    m: 0xa18f07d736b90be5,
    e: 33,
}; // 1e29
const E_M97: Ext = Ext {
    m: 0xdab99e59958885c5,
    e: -386,
}; // 1e-97
const E_P7: Ext = Ext {
    m: 0x9896800000000000,
    e: -40,
}; // 1e7
const E_P17: Ext = Ext {
    m: 0xb1a2bc2ec5000000,
    e: -7,
}; // 1e17
/// `1.7976931348623157081452742373e+308L`, which rounds to DBL_MAX exactly.
const E_DBL_MAX: Ext = Ext {
    m: 0xfffffffffffff800,
    e: 960,
};

impl Ext {
    /// Exact conversion of a positive, finite double.
    fn from_f64(r: f64) -> Ext {
        let bits = r.to_bits();
        let biased = ((bits >> 52) & 0x7ff) as i32;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, exp) = if biased == 0 {
            (frac, -1074) // subnormal
        } else {
            (frac | (1u64 << 52), biased - 1075)
        };
        let shift = mant.leading_zeros() as i32;
        Ext {
            m: mant << shift,
            e: exp - shift,
        }
    }

    /// Exact conversion of a non-zero integer (a `long double` holds 64 bits).
    fn from_u64(v: u64) -> Ext {
        let shift = v.leading_zeros() as i32;
        Ext {
            m: v << shift,
            e: -shift,
        }
    }

    /// `(double)x`: round to nearest even, into the subnormal range if need
    /// be. Only called on values not above DBL_MAX.
    fn to_f64(self) -> f64 {
        // Bits to drop so the kept ones fit a double's 53 (fewer when the
        // result is subnormal, whose last bit is worth 2^-1074).
        let top = self.e + 63;
        let shift = if top >= -1022 {
            11
        } else {
            (-1074 - self.e) as u32
        };
        if shift >= 66 {
            return 0.0; // below half the smallest subnormal
        }
        let m = u128::from(self.m);
        let mut q = m >> shift;
        let rest = m & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        if rest > half || (rest == half && q & 1 == 1) {
            q += 1;
        }
        if top >= -1022 {
            // Normal: q is in [2^52, 2^53].
            let mut exp2 = self.e + shift as i32;
            if q == 1 << 53 {
                q >>= 1;
                exp2 += 1;
            }
            let biased = (exp2 + 52 + 1023) as u64;
            if biased >= 0x7ff {
                return f64::INFINITY;
            }
            f64::from_bits((biased << 52) | (q as u64 & ((1u64 << 52) - 1)))
        } else {
            // Subnormal: q counts units of 2^-1074, and a carry into 2^52 is
            // exactly the bit pattern of the smallest normal.
            f64::from_bits(q as u64)
        }
    }

    fn mul(self, other: Ext) -> Ext {
        let p = u128::from(self.m) * u128::from(other.m);
        // p is in [2^126, 2^128): keep its top 64 bits.
        let shift = if p >> 127 == 1 { 64 } else { 63 };
        let mut m = (p >> shift) as u64;
        let rest = p & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let mut e = self.e + other.e + shift;
        if rest > half || (rest == half && m & 1 == 1) {
            m = m.wrapping_add(1);
            if m == 0 {
                m = 1 << 63;
                e += 1;
            }
        }
        Ext { m, e }
    }

    fn lt(self, other: Ext) -> bool {
        (self.e, self.m) < (other.e, other.m)
    }

    /// `(u64)x`: truncation toward zero. Only called on values below 1e19.
    fn to_u64(self) -> u64 {
        if self.e >= 0 {
            self.m << self.e
        } else if self.e <= -64 {
            0
        } else {
            self.m >> -self.e
        }
    }
}

/// SQLite's digit extraction: scale `r` (positive, finite) into
/// `[1e17, 1e19)` with `long double` arithmetic and truncate. Returns the
/// 18 or 19 digits and the decimal exponent adjustment.
fn scaled_digits(r: f64) -> (Vec<u8>, i32) {
    let mut rr = Ext::from_f64(r);
    let mut exp = 0;
    if !rr.lt(E_P19) {
        while !rr.lt(E_P119) {
            exp += 100;
            rr = rr.mul(E_M100);
        }
        while !rr.lt(E_P29) {
            exp += 10;
            rr = rr.mul(E_M10);
        }
        while !rr.lt(E_P19) {
            exp += 1;
            rr = rr.mul(E_M1);
        }
    } else {
        while rr.lt(E_M97) {
            exp -= 100;
            rr = rr.mul(E_P100);
        }
        while rr.lt(E_P7) {
            exp -= 10;
            rr = rr.mul(E_P10);
        }
        while rr.lt(E_P17) {
            exp -= 1;
            rr = rr.mul(E_P1);
        }
    }
    (rr.to_u64().to_string().into_bytes(), exp)
}

/// `sqlite3FpDecode(r, round, max_round)`: round to `round` significant digits
/// if positive, or to `-round` digits after the decimal point if zero or
/// negative; never keep more than `max_round` digits. Rounding looks only at
/// the next digit and rounds half away from zero, as SQLite does.
fn fp_decode(r: f64, round: i32, max_round: i32) -> FpDecode {
    if r.is_nan() {
        return FpDecode {
            negative: false,
            special: Special::NaN,
            digits: Vec::new(),
            dp: 0,
        };
    }
    // Like SQLite, negative zero decodes as plain zero (`r<0.0` is false).
    if r == 0.0 {
        return FpDecode {
            negative: false,
            special: Special::Finite,
            digits: b"0".to_vec(),
            dp: 1,
        };
    }
    let negative = r < 0.0;
    let r = r.abs();
    if r.is_infinite() {
        return FpDecode {
            negative,
            special: Special::Infinite,
            digits: Vec::new(),
            dp: 0,
        };
    }
    let (mut digits, exp) = scaled_digits(r);
    let mut dp = digits.len() as i32 + exp;

    let mut round = round;
    if round <= 0 {
        round = dp - round;
        if round == 0 && digits[0] >= b'5' {
            // The value rounds up to one unit in the first kept position:
            // give it a leading zero digit to carry into.
            digits.insert(0, b'0');
            dp += 1;
            round = 1;
        }
    }
    let n = digits.len() as i32;
    if round > 0 && (round < n || n > max_round) {
        let round = round.min(max_round) as usize;
        let up = digits.get(round).is_some_and(|&d| d >= b'5');
        digits.truncate(round);
        if up {
            let mut j = round;
            loop {
                if j == 0 {
                    // Carried out of the first digit: 99.96 -> 100.0
                    digits.insert(0, b'1');
                    dp += 1;
                    break;
                }
                j -= 1;
                if digits[j] == b'9' {
                    digits[j] = b'0';
                } else {
                    digits[j] += 1;
                    break;
                }
            }
        }
    }
    while digits.len() > 1 && digits.last() == Some(&b'0') {
        digits.pop();
    }
    // SQLite keeps the leading zero inserted above if nothing carried into
    // it; skip it so `digits` starts with a significant digit (or is "0").
    while digits.len() > 1 && digits[0] == b'0' {
        digits.remove(0);
        dp -= 1;
    }
    FpDecode {
        negative,
        special: Special::Finite,
        digits,
        dp,
    }
}

/// The text SQLite's printf writes for infinities and NaN.
fn special_text(d: &FpDecode) -> Option<String> {
    match d.special {
        Special::Finite => None,
        Special::NaN => Some("NaN".to_string()),
        Special::Infinite => Some(if d.negative { "-Inf" } else { "Inf" }.to_string()),
    }
}

/// Writes the digits of `d` in positional notation with `precision` digits
/// after the point: the body of SQLite's printf `etFLOAT` conversion.
/// `trim` removes trailing zeros (and the point if nothing is left after
/// it, unless `keep_point_zero`, which writes `.0` instead: the `!` flag).
fn write_positional(
    out: &mut String,
    d: &FpDecode,
    precision: i32,
    trim: bool,
    keep_point_zero: bool,
) {
    let digit = |j: &mut usize| -> char {
        let c = d.digits.get(*j).map_or('0', |&b| b as char);
        *j += 1;
        c
    };
    let mut j = 0usize;
    let mut e2 = d.dp - 1;
    if e2 < 0 {
        out.push('0');
    } else {
        while e2 >= 0 {
            out.push(digit(&mut j));
            e2 -= 1;
        }
    }
    let point = precision > 0 || keep_point_zero;
    if point {
        out.push('.');
    }
    let mut precision = precision;
    e2 += 1;
    while e2 < 0 && precision > 0 {
        out.push('0');
        precision -= 1;
        e2 += 1;
    }
    while precision > 0 {
        out.push(digit(&mut j));
        precision -= 1;
    }
    if trim && point {
        while out.ends_with('0') {
            out.pop();
        }
        if out.ends_with('.') {
            if keep_point_zero {
                out.push('0');
            } else {
                out.pop();
            }
        }
    }
}

/// SQLite's `printf("%.<precision>f", r)`.
///
/// Unlike C's printf it keeps at most 16 significant digits and pads the rest
/// with zeros: `-9223372036854775808.0` prints as `-9223372036854776000.000`.
pub fn format_fixed(r: f64, precision: u32) -> String {
    let precision = precision.min(1_000) as i32;
    let d = fp_decode(r, -precision, 16);
    if let Some(s) = special_text(&d) {
        return s;
    }
    let mut out = String::new();
    if d.negative {
        out.push('-');
    }
    write_positional(&mut out, &d, precision, false, false);
    out
}

/// SQLite's conversion of a REAL to text (`sqlite3_column_text`, `CAST(r AS
/// TEXT)`): `printf("%!.15g", r)`. Fifteen significant digits, trailing
/// zeros removed but always a digit after the point (`1.0`, `0.1`), and
/// exponent notation when the exponent is below -4 or above 14
/// (`1.0e+20`, `1.5e-07`).
pub fn real_to_text(r: f64) -> String {
    const PRECISION: i32 = 15;
    let d = fp_decode(r, PRECISION, 26);
    if let Some(s) = special_text(&d) {
        return s;
    }
    let mut out = String::new();
    if d.negative {
        out.push('-');
    }
    let exp = d.dp - 1;
    let precision = PRECISION - 1;
    if exp < -4 || exp > precision {
        // etEXP: one digit before the point, the rest after, then eNN.
        let mantissa = FpDecode { dp: 1, ..d.clone() };
        write_positional(&mut out, &mantissa, precision, true, true);
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    } else {
        write_positional(&mut out, &d, precision - exp, true, true);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_three_basics() {
        assert_eq!(format_fixed(0.0, 3), "0.000");
        assert_eq!(format_fixed(-0.0, 3), "0.000");
        assert_eq!(format_fixed(1.0, 3), "1.000");
        assert_eq!(format_fixed(-1.5, 3), "-1.500");
        assert_eq!(format_fixed(2.0 / 3.0, 3), "0.667");
        assert_eq!(format_fixed(123456.789, 3), "123456.789");
        assert_eq!(format_fixed(99.9996, 3), "100.000");
        assert_eq!(format_fixed(0.0625, 3), "0.063"); // exact tie: away from zero
        assert_eq!(format_fixed(0.0005, 3), "0.001"); // carries into a new digit
        assert_eq!(format_fixed(0.00049, 3), "0.000");
        assert_eq!(format_fixed(-0.0001, 3), "-0.000"); // sign kept, as SQLite does
        assert_eq!(format_fixed(1e-300, 3), "0.000");
        assert_eq!(format_fixed(f64::INFINITY, 3), "Inf");
        assert_eq!(format_fixed(f64::NEG_INFINITY, 3), "-Inf");
    }

    #[test]
    fn fixed_three_keeps_sixteen_significant_digits() {
        // The README's example.
        assert_eq!(
            format_fixed(-9223372036854775808.0, 3),
            "-9223372036854776000.000"
        );
        assert_eq!(
            format_fixed(9223372036854775807i64 as f64, 3),
            "9223372036854776000.000"
        );
        assert_eq!(format_fixed(1e20, 3), "100000000000000000000.000");
        assert_eq!(format_fixed(1234567890123.4567, 3), "1234567890123.457");
        // 17 significant digits would be needed for the last 5: SQLite drops it.
        assert_eq!(format_fixed(12345678901234.567, 3), "12345678901234.570");
        assert_eq!(format_fixed(0.1 + 0.2, 3), "0.300");
    }

    #[test]
    fn real_to_text_matches_sqlite_format() {
        assert_eq!(real_to_text(1.0), "1.0");
        assert_eq!(real_to_text(0.1), "0.1");
        assert_eq!(real_to_text(-2.5), "-2.5");
        assert_eq!(real_to_text(0.0), "0.0");
        assert_eq!(real_to_text(-0.0), "0.0");
        assert_eq!(real_to_text(1e20), "1.0e+20");
        assert_eq!(real_to_text(1e15), "1.0e+15");
        assert_eq!(real_to_text(1e14), "100000000000000.0");
        assert_eq!(real_to_text(0.0001), "0.0001");
        assert_eq!(real_to_text(0.00001), "1.0e-05");
        assert_eq!(real_to_text(1.5e-7), "1.5e-07");
        assert_eq!(real_to_text(1e100), "1.0e+100");
        assert_eq!(real_to_text(0.1 + 0.2), "0.3");
        assert_eq!(real_to_text(1.0 / 3.0), "0.333333333333333");
        assert_eq!(real_to_text(123456789012345678.0), "1.23456789012346e+17");
        assert_eq!(
            real_to_text(-9223372036854775808.0),
            "-9.22337203685478e+18"
        );
        assert_eq!(real_to_text(f64::INFINITY), "Inf");
    }

    #[test]
    fn int_conversion_of_text_takes_the_integer_prefix() {
        assert_eq!(atoi64(b"12"), 12);
        assert_eq!(atoi64(b"  -12abc"), -12);
        assert_eq!(atoi64(b"\t+7 "), 7);
        assert_eq!(atoi64(b"abc"), 0);
        assert_eq!(atoi64(b""), 0);
        assert_eq!(atoi64(b"-"), 0);
        assert_eq!(atoi64(b"1e3"), 1);
        assert_eq!(atoi64(b"12.9"), 12);
        assert_eq!(atoi64(b"0x10"), 0);
        assert_eq!(atoi64(b"00000000000000000000000042"), 42);
        assert_eq!(atoi64(b"9223372036854775807"), i64::MAX);
        assert_eq!(atoi64(b"9223372036854775808"), i64::MAX);
        assert_eq!(atoi64(b"-9223372036854775808"), i64::MIN);
        assert_eq!(atoi64(b"-99999999999999999999999"), i64::MIN);
        assert_eq!(atoi64(b"99999999999999999999999"), i64::MAX);
    }

    #[test]
    fn real_conversion_of_text_takes_the_numeric_prefix() {
        assert_eq!(atof(b"1.5"), 1.5);
        assert_eq!(atof(b" -2.25xyz"), -2.25);
        assert_eq!(atof(b"1e3"), 1000.0);
        assert_eq!(atof(b"1e"), 1.0);
        assert_eq!(atof(b"1e+"), 1.0);
        assert_eq!(atof(b".5"), 0.5);
        assert_eq!(atof(b"5."), 5.0);
        assert_eq!(atof(b"."), 0.0);
        assert_eq!(atof(b"abc"), 0.0);
        assert_eq!(atof(b"1e999"), f64::INFINITY);
        assert_eq!(atof(b"1e-999"), 0.0);
    }

    #[test]
    fn render_by_column_type() {
        let text = |s: &str| Value::Text(s.as_bytes().to_vec());
        assert_eq!(render(&Value::Null, ColumnType::Integer), "NULL");
        assert_eq!(render(&Value::Null, ColumnType::Text), "NULL");
        assert_eq!(render(&Value::Integer(-5), ColumnType::Integer), "-5");
        assert_eq!(render(&Value::Integer(-5), ColumnType::Real), "-5.000");
        assert_eq!(render(&Value::Integer(-5), ColumnType::Text), "-5");
        assert_eq!(render(&Value::Real(2.9), ColumnType::Integer), "2");
        assert_eq!(render(&Value::Real(-2.9), ColumnType::Integer), "-2");
        assert_eq!(
            render(&Value::Real(1e300), ColumnType::Integer),
            i64::MAX.to_string()
        );
        assert_eq!(render(&Value::Real(2.0), ColumnType::Text), "2.0");
        assert_eq!(render(&text("12abc"), ColumnType::Integer), "12");
        assert_eq!(render(&text("12abc"), ColumnType::Real), "12.000");
        assert_eq!(render(&text(""), ColumnType::Text), "(empty)");
        assert_eq!(render(&text("a\tb\u{e9}"), ColumnType::Text), "a@b@@");
        assert_eq!(render(&text("x~ "), ColumnType::Text), "x~ ");
        assert_eq!(
            render(&Value::Blob(b"ab\0cd".to_vec()), ColumnType::Text),
            "ab"
        );
        assert_eq!(render(&Value::Blob(vec![0]), ColumnType::Text), "(empty)");
    }
}
