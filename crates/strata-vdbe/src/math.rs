//! SQLite's math functions (`SQLITE_ENABLE_MATH_FUNCTIONS`, on in the SQLite builds we
//! compare with): ceil/ceiling/floor/trunc, ln/log/log10/log2, exp, pow/power, mod,
//! the trigonometric and hyperbolic functions, sqrt, degrees, radians, pi.
//!
//! Rules, as in SQLite's `func.c`:
//! - An argument counts if `sqlite3_value_numeric_type` makes it a number: integers and
//!   reals, and text that looks like a number; anything else (NULL, blobs, other text)
//!   gives NULL.
//! - ceil/floor/trunc return an integer argument unchanged (as an integer) and apply
//!   the C function to a real; the others always return a real.
//! - A NaN result (a domain error: `sqrt(-1)`, `acos(2)`) is NULL; infinities stay.
//! - `log(B, X)` is log base B of X and is NULL unless B > 1 and X > 0; `ln`, `log`,
//!   `log10`, `log2` of X <= 0 are NULL.

use strata_btree::record::Value;

use crate::affinity::numeric_value_of_text;
use crate::conv::{real_value, value_double};
use crate::functions::{FunctionContext, FunctionError};

type R = Result<Value, FunctionError>;

/// `sqlite3_value_numeric_type`: the value as a number, if it is or looks like one.
fn numeric(v: &Value) -> Option<Value> {
    match v {
        Value::Integer(_) | Value::Real(_) => Some(v.clone()),
        Value::Text(t) => numeric_value_of_text(t, false),
        Value::Null | Value::Blob(_) => None,
    }
}

fn number(args: &[Value], i: usize) -> Option<f64> {
    numeric(args.get(i)?).map(|v| value_double(&v))
}

fn rounding(args: &[Value], f: fn(f64) -> f64) -> R {
    Ok(match args.first().and_then(numeric) {
        Some(Value::Integer(i)) => Value::Integer(i),
        Some(Value::Real(r)) => real_value(f(r)),
        _ => Value::Null,
    })
}

pub fn f_ceil(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    rounding(args, f64::ceil)
}

pub fn f_floor(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    rounding(args, f64::floor)
}

pub fn f_trunc(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    rounding(args, f64::trunc)
}

fn one(args: &[Value], f: fn(f64) -> f64) -> R {
    Ok(match number(args, 0) {
        Some(x) => real_value(f(x)),
        None => Value::Null,
    })
}

fn two(args: &[Value], f: fn(f64, f64) -> f64) -> R {
    Ok(match (number(args, 0), number(args, 1)) {
        (Some(x), Some(y)) => real_value(f(x, y)),
        _ => Value::Null,
    })
}

/// ln/log/log10/log2 with one argument.
fn log1(args: &[Value], f: fn(f64) -> f64) -> R {
    Ok(match number(args, 0) {
        Some(x) if x > 0.0 => real_value(f(x)),
        _ => Value::Null,
    })
}

pub fn f_ln(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    log1(args, f64::ln)
}

/// The C library's `log10`, as SQLite's `logFunc` calls it since 3.4x (3.40 divided
/// the natural logarithm by `M_LN10`, which differs in the last bit for some
/// arguments); checked bit for bit against the reference (rusqlite's SQLite) in
/// `tests/math_functions.rs`.
pub fn f_log10(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    log1(args, f64::log10)
}

/// The C library's `log2`, as SQLite's `logFunc` calls it.
pub fn f_log2(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    log1(args, f64::log2)
}

/// `log(X)` is log10; `log(B, X)` is log base B. As SQLite's `logFunc`, the second
/// argument's type is not checked (its numeric value is used, so text that is no
/// number counts as 0 and gives NULL).
pub fn f_log(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    if args.len() < 2 {
        return f_log10(args, ctx);
    }
    let Some(base) = number(args, 0) else {
        return Ok(Value::Null);
    };
    if base <= 0.0 {
        return Ok(Value::Null);
    }
    let b = base.ln();
    if b <= 0.0 {
        return Ok(Value::Null);
    }
    let x = value_double(&args[1]);
    if x <= 0.0 {
        return Ok(Value::Null);
    }
    Ok(real_value(x.ln() / b))
}

pub fn f_exp(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::exp)
}

pub fn f_pow(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    two(args, f64::powf)
}

/// `mod(X, Y)`: C's fmod (the result has X's sign), which Rust's `%` on f64 is.
pub fn f_mod(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    two(args, |x, y| x % y)
}

pub fn f_atan2(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    two(args, f64::atan2)
}

pub fn f_acos(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::acos)
}

pub fn f_asin(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::asin)
}

pub fn f_atan(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::atan)
}

pub fn f_cos(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::cos)
}

pub fn f_sin(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::sin)
}

pub fn f_tan(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::tan)
}

pub fn f_cosh(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::cosh)
}

pub fn f_sinh(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::sinh)
}

pub fn f_tanh(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::tanh)
}

// Rust's `f64::acosh`/`asinh`/`atanh` are not the C library's functions (std computes
// them itself): `acosh(1e308)` is infinity there and 709.78 in C, and other results
// differ in the last bit. SQLite calls the C library, so we do too (the test
// `math_functions` compares every result bit for bit with the sqlite3 tool).
extern "C" {
    #[link_name = "acosh"]
    fn c_acosh(x: f64) -> f64;
    #[link_name = "asinh"]
    fn c_asinh(x: f64) -> f64;
    #[link_name = "atanh"]
    fn c_atanh(x: f64) -> f64;
}

pub fn f_acosh(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    // SAFETY: acosh is a pure C99 <math.h> function of one double (no pointers, no
    // global state beyond errno); std links the math library on every target we build.
    one(args, |x| unsafe { c_acosh(x) })
}

pub fn f_asinh(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    // SAFETY: as for acosh.
    one(args, |x| unsafe { c_asinh(x) })
}

pub fn f_atanh(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    // SAFETY: as for acosh.
    one(args, |x| unsafe { c_atanh(x) })
}

pub fn f_sqrt(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, f64::sqrt)
}

/// `x * (M_PI / 180.0)`, as SQLite computes it (not `to_radians`, which may round
/// differently).
pub fn f_radians(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, |x| x * (std::f64::consts::PI / 180.0))
}

pub fn f_degrees(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    one(args, |x| x * (180.0 / std::f64::consts::PI))
}

pub fn f_pi(_: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(Value::Real(std::f64::consts::PI))
}
