//! Built-in scalar SQL functions, ported from SQLite's `func.c`.
//!
//! Resolve a function once per call site with [`resolve_scalar`] (or [`lookup_scalar`]),
//! which checks the name (case-insensitively) and the argument count and hands back a
//! plain function pointer; the VM then calls that pointer for every row without any
//! string matching. [`call_scalar`] does both in one step for convenience.
//!
//! Aggregates live in [`crate::aggregate`]; a name resolver should try
//! [`crate::aggregate::lookup_aggregate`] first, since `min(x)`/`max(x)` with one
//! argument are aggregates while `min(a, b, ...)` are the scalar functions here.
//!
//! Functions that SQLite evaluates lazily (coalesce, ifnull, iif) are provided here with
//! all arguments evaluated; the VM may short-circuit them itself. Randomness comes from
//! the caller through [`RandomSource`] (the engine's IO layer owns entropy).

use std::cmp::Ordering;
use std::fmt;

use strata_btree::record::{Collation, Value};

use crate::affinity::numeric_value_of_text;
use crate::conv::{
    append_text, cstr, truth, type_name, value_double, value_int, value_int64, value_text,
};
use crate::datetime::{
    f_current_date, f_current_time, f_current_timestamp, f_date, f_datetime, f_julianday,
    f_strftime, f_time, f_timediff, f_unixepoch,
};
use crate::json;
use crate::like::{glob, like_with_case, LikeError};
use crate::math;
use crate::numeric::{atof, i64_to_text};
use crate::ops::compare_in;
use crate::printf::{format_float, sql_printf, MAX_LENGTH};
use crate::utf8;
use strata_btree::record::TextEncoding;
use strata_btree::text_encoding;

/// SQLite's default `SQLITE_LIMIT_LIKE_PATTERN_LENGTH`.
pub const MAX_LIKE_PATTERN_LENGTH: usize = 50_000;

/// An error from resolving or running a function, with SQLite's message text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FunctionError {
    /// "no such function: NAME"
    NoSuchFunction(String),
    /// "wrong number of arguments to function NAME()"
    WrongArgumentCount(String),
    /// A runtime error raised by the function (e.g. "integer overflow").
    Error(String),
    /// "string or blob too big" (SQLITE_TOOBIG).
    TooBig,
}

impl fmt::Display for FunctionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FunctionError::NoSuchFunction(n) => write!(f, "no such function: {n}"),
            FunctionError::WrongArgumentCount(n) => {
                write!(f, "wrong number of arguments to function {n}()")
            }
            FunctionError::Error(m) => f.write_str(m),
            FunctionError::TooBig => f.write_str("string or blob too big"),
        }
    }
}

impl std::error::Error for FunctionError {}

/// A source of random bits (`sqlite3_randomness`).
pub trait RandomSource {
    fn next_u64(&mut self) -> u64;
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let r = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
}

impl<F: FnMut() -> u64> RandomSource for F {
    fn next_u64(&mut self) -> u64 {
        self()
    }
}

/// A small deterministic generator (SplitMix64), for tests and for callers without an
/// entropy source.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl RandomSource for SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Per-call context: the collation SQLite would pass (`sqlite3GetFuncCollSeq`: the
/// collation of the first argument that has one; used by min, max, nullif), the
/// connection's `PRAGMA case_sensitive_like` setting, the random source, and the
/// statement's current time.
pub struct FunctionContext<'a> {
    pub collation: Collation,
    /// The database text encoding: BINARY order, and how blobs read as text and text as
    /// blobs (`hex`, casts) in SQLite, whose values are in that encoding.
    pub encoding: TextEncoding,
    pub case_sensitive_like: bool,
    pub random: &'a mut dyn RandomSource,
    /// The current time as Unix milliseconds, for the date and time functions' `'now'`
    /// (see [`crate::datetime`]). SQLite reads the clock once per `sqlite3_step()` and
    /// uses that value for every `'now'` in the step; the VM does the same. `None`: no
    /// current time, so `'now'` is NULL.
    pub now_ms: Option<i64>,
    /// Which arguments carry SQLite's JSON subtype (a value returned by a JSON function
    /// and passed on directly); empty when none can. JSON functions embed such text as
    /// JSON instead of quoting it.
    pub arg_subtypes: Vec<bool>,
    /// Set by a function whose result carries the JSON subtype.
    pub result_subtype: bool,
    /// The call is part of a schema expression (`Insn::Function::pure`).
    pub pure: bool,
    /// Set by a date and time function asked for the clock or the local timezone in a
    /// schema expression (SQLite's `sqlite3NotPureFunc`): the VM fails the statement.
    pub impure_use: std::cell::Cell<bool>,
}

impl<'a> FunctionContext<'a> {
    pub fn new(random: &'a mut dyn RandomSource) -> Self {
        FunctionContext {
            collation: Collation::Binary,
            encoding: TextEncoding::Utf8,
            case_sensitive_like: false,
            random,
            now_ms: None,
            arg_subtypes: Vec::new(),
            result_subtype: false,
            pure: false,
            impure_use: std::cell::Cell::new(false),
        }
    }
}

/// A resolved scalar function.
pub type ScalarFn = fn(&[Value], &mut FunctionContext<'_>) -> Result<Value, FunctionError>;

type R = Result<Value, FunctionError>;

/// Arity: exact count, or any count >= the minimum.
#[derive(Clone, Copy)]
enum Arity {
    Exactly(usize),
    AtLeast(usize),
}

/// The function table: name, arities, implementation.
const FUNCS: &[(&str, &[Arity], ScalarFn)] = &[
    ("abs", &[Arity::Exactly(1)], f_abs),
    ("->", &[Arity::Exactly(2)], json::f_arrow),
    ("->>", &[Arity::Exactly(2)], json::f_arrow2),
    ("json", &[Arity::Exactly(1)], json::f_json),
    ("jsonb", &[Arity::Exactly(1)], json::f_jsonb),
    ("json_array", &[Arity::AtLeast(0)], json::f_json_array),
    ("jsonb_array", &[Arity::AtLeast(0)], json::f_jsonb_array),
    (
        "json_array_length",
        &[Arity::Exactly(1), Arity::Exactly(2)],
        json::f_json_array_length,
    ),
    (
        "json_error_position",
        &[Arity::Exactly(1)],
        json::f_json_error_position,
    ),
    ("json_extract", &[Arity::AtLeast(0)], json::f_json_extract),
    ("jsonb_extract", &[Arity::AtLeast(0)], json::f_jsonb_extract),
    ("json_insert", &[Arity::AtLeast(0)], json::f_json_insert),
    ("jsonb_insert", &[Arity::AtLeast(0)], json::f_jsonb_insert),
    ("json_object", &[Arity::AtLeast(0)], json::f_json_object),
    ("jsonb_object", &[Arity::AtLeast(0)], json::f_jsonb_object),
    ("json_patch", &[Arity::Exactly(2)], json::f_json_patch),
    ("jsonb_patch", &[Arity::Exactly(2)], json::f_jsonb_patch),
    (
        "json_pretty",
        &[Arity::Exactly(1), Arity::Exactly(2)],
        json::f_json_pretty,
    ),
    ("json_quote", &[Arity::Exactly(1)], json::f_json_quote),
    ("json_remove", &[Arity::AtLeast(0)], json::f_json_remove),
    ("jsonb_remove", &[Arity::AtLeast(0)], json::f_jsonb_remove),
    ("json_replace", &[Arity::AtLeast(0)], json::f_json_replace),
    ("jsonb_replace", &[Arity::AtLeast(0)], json::f_jsonb_replace),
    ("json_set", &[Arity::AtLeast(0)], json::f_json_set),
    ("jsonb_set", &[Arity::AtLeast(0)], json::f_jsonb_set),
    (
        "json_type",
        &[Arity::Exactly(1), Arity::Exactly(2)],
        json::f_json_type,
    ),
    (
        "json_valid",
        &[Arity::Exactly(1), Arity::Exactly(2)],
        json::f_json_valid,
    ),
    ("acos", &[Arity::Exactly(1)], math::f_acos),
    ("acosh", &[Arity::Exactly(1)], math::f_acosh),
    ("asin", &[Arity::Exactly(1)], math::f_asin),
    ("asinh", &[Arity::Exactly(1)], math::f_asinh),
    ("atan", &[Arity::Exactly(1)], math::f_atan),
    ("atan2", &[Arity::Exactly(2)], math::f_atan2),
    ("atanh", &[Arity::Exactly(1)], math::f_atanh),
    ("ceil", &[Arity::Exactly(1)], math::f_ceil),
    ("ceiling", &[Arity::Exactly(1)], math::f_ceil),
    ("cos", &[Arity::Exactly(1)], math::f_cos),
    ("cosh", &[Arity::Exactly(1)], math::f_cosh),
    ("degrees", &[Arity::Exactly(1)], math::f_degrees),
    ("exp", &[Arity::Exactly(1)], math::f_exp),
    ("floor", &[Arity::Exactly(1)], math::f_floor),
    ("ln", &[Arity::Exactly(1)], math::f_ln),
    ("log", &[Arity::Exactly(1), Arity::Exactly(2)], math::f_log),
    ("log10", &[Arity::Exactly(1)], math::f_log10),
    ("log2", &[Arity::Exactly(1)], math::f_log2),
    ("mod", &[Arity::Exactly(2)], math::f_mod),
    ("pi", &[Arity::Exactly(0)], math::f_pi),
    ("pow", &[Arity::Exactly(2)], math::f_pow),
    ("power", &[Arity::Exactly(2)], math::f_pow),
    ("radians", &[Arity::Exactly(1)], math::f_radians),
    ("sin", &[Arity::Exactly(1)], math::f_sin),
    ("sinh", &[Arity::Exactly(1)], math::f_sinh),
    ("sqrt", &[Arity::Exactly(1)], math::f_sqrt),
    ("tan", &[Arity::Exactly(1)], math::f_tan),
    ("tanh", &[Arity::Exactly(1)], math::f_tanh),
    ("trunc", &[Arity::Exactly(1)], math::f_trunc),
    ("char", &[Arity::AtLeast(0)], f_char),
    ("coalesce", &[Arity::AtLeast(2)], f_coalesce),
    ("concat", &[Arity::AtLeast(1)], f_concat),
    ("concat_ws", &[Arity::AtLeast(2)], f_concat_ws),
    ("current_date", &[Arity::Exactly(0)], f_current_date),
    ("current_time", &[Arity::Exactly(0)], f_current_time),
    (
        "current_timestamp",
        &[Arity::Exactly(0)],
        f_current_timestamp,
    ),
    // The date and time functions take any number of arguments, as in SQLite
    // (strftime() with no format is NULL, not an error).
    ("date", &[Arity::AtLeast(0)], f_date),
    ("datetime", &[Arity::AtLeast(0)], f_datetime),
    ("format", &[Arity::AtLeast(0)], f_printf),
    ("glob", &[Arity::Exactly(2)], f_glob),
    ("hex", &[Arity::Exactly(1)], f_hex),
    ("ifnull", &[Arity::Exactly(2)], f_coalesce),
    ("iif", &[Arity::Exactly(3)], f_iif),
    ("instr", &[Arity::Exactly(2)], f_instr),
    ("julianday", &[Arity::AtLeast(0)], f_julianday),
    ("length", &[Arity::Exactly(1)], f_length),
    ("like", &[Arity::Exactly(2), Arity::Exactly(3)], f_like),
    ("likelihood", &[Arity::Exactly(2)], f_first),
    ("likely", &[Arity::Exactly(1)], f_first),
    ("lower", &[Arity::Exactly(1)], f_lower),
    ("ltrim", &[Arity::Exactly(1), Arity::Exactly(2)], f_ltrim),
    // With one argument, min() and max() are the aggregates (see crate::aggregate).
    ("max", &[Arity::AtLeast(2)], f_max),
    ("min", &[Arity::AtLeast(2)], f_min),
    ("nullif", &[Arity::Exactly(2)], f_nullif),
    ("octet_length", &[Arity::Exactly(1)], f_octet_length),
    ("printf", &[Arity::AtLeast(0)], f_printf),
    ("quote", &[Arity::Exactly(1)], f_quote),
    ("random", &[Arity::Exactly(0)], f_random),
    ("randomblob", &[Arity::Exactly(1)], f_randomblob),
    ("replace", &[Arity::Exactly(3)], f_replace),
    ("round", &[Arity::Exactly(1), Arity::Exactly(2)], f_round),
    ("rtrim", &[Arity::Exactly(1), Arity::Exactly(2)], f_rtrim),
    ("sign", &[Arity::Exactly(1)], f_sign),
    ("strftime", &[Arity::AtLeast(0)], f_strftime),
    ("substr", &[Arity::Exactly(2), Arity::Exactly(3)], f_substr),
    (
        "substring",
        &[Arity::Exactly(2), Arity::Exactly(3)],
        f_substr,
    ),
    ("subtype", &[Arity::Exactly(1)], f_subtype),
    ("time", &[Arity::AtLeast(0)], f_time),
    ("timediff", &[Arity::Exactly(2)], f_timediff),
    ("trim", &[Arity::Exactly(1), Arity::Exactly(2)], f_trim),
    ("typeof", &[Arity::Exactly(1)], f_typeof),
    ("unhex", &[Arity::Exactly(1), Arity::Exactly(2)], f_unhex),
    ("unicode", &[Arity::Exactly(1)], f_unicode),
    ("unixepoch", &[Arity::AtLeast(0)], f_unixepoch),
    ("unlikely", &[Arity::Exactly(1)], f_first),
    ("upper", &[Arity::Exactly(1)], f_upper),
    ("zeroblob", &[Arity::Exactly(1)], f_zeroblob),
];

/// Resolves `name` with `n_args` arguments, with SQLite's errors for unknown names and
/// wrong argument counts.
pub fn resolve_scalar(name: &str, n_args: usize) -> Result<ScalarFn, FunctionError> {
    let entry = FUNCS
        .iter()
        .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
        .ok_or_else(|| FunctionError::NoSuchFunction(name.to_string()))?;
    let ok = entry.1.iter().any(|a| match *a {
        Arity::Exactly(k) => k == n_args,
        Arity::AtLeast(k) => n_args >= k,
    });
    if ok {
        Ok(entry.2)
    } else {
        Err(FunctionError::WrongArgumentCount(name.to_string()))
    }
}

/// Resolves `name`/`n_args` to a function pointer, or None if there is no such function
/// with that many arguments.
pub fn lookup_scalar(name: &str, n_args: usize) -> Option<ScalarFn> {
    resolve_scalar(name, n_args).ok()
}

/// Resolves and calls a scalar function.
pub fn call_scalar(name: &str, args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    resolve_scalar(name, args.len())?(args, ctx)
}

/// Names of all scalar functions provided.
pub fn scalar_function_names() -> impl Iterator<Item = &'static str> {
    FUNCS.iter().map(|e| e.0)
}

static NULL: Value = Value::Null;

/// The i-th argument, or NULL if the caller passed fewer: resolution checks arity, but a
/// function pointer called with the wrong count must still not panic.
#[inline]
fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&NULL)
}

#[inline]
fn text_or_null(v: Option<Vec<u8>>) -> Value {
    match v {
        Some(t) => Value::Text(t),
        None => Value::Null,
    }
}

fn check_len(n: usize) -> Result<(), FunctionError> {
    if n > MAX_LENGTH {
        Err(FunctionError::TooBig)
    } else {
        Ok(())
    }
}

fn f_first(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(arg(args, 0).clone())
}

fn f_abs(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(match arg(args, 0) {
        Value::Integer(i) => {
            if *i == i64::MIN {
                return Err(FunctionError::Error("integer overflow".into()));
            }
            Value::Integer(i.abs())
        }
        Value::Null => Value::Null,
        v => {
            // Not f64::abs: SQLite negates only values < 0, so -0.0 stays -0.0.
            let r = value_double(v);
            Value::Real(if r < 0.0 { -r } else { r })
        }
    })
}

fn f_coalesce(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(args
        .iter()
        .find(|v| !matches!(v, Value::Null))
        .cloned()
        .unwrap_or(Value::Null))
}

fn f_iif(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(if truth(arg(args, 0)) == Some(true) {
        arg(args, 1).clone()
    } else {
        arg(args, 2).clone()
    })
}

/// The only subtype built-in functions set is JSON's (74, `'J'`), and only on text;
/// every other value has subtype 0.
fn f_subtype(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let json = ctx.arg_subtypes.first().copied().unwrap_or(false)
        && matches!(arg(args, 0), Value::Text(_));
    Ok(Value::Integer(if json {
        crate::json::JSON_SUBTYPE
    } else {
        0
    }))
}

fn f_typeof(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(Value::Text(type_name(arg(args, 0)).as_bytes().to_vec()))
}

fn f_length(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(match arg(args, 0) {
        Value::Null => Value::Null,
        Value::Blob(b) => Value::Integer(b.len() as i64),
        Value::Text(t) => Value::Integer(utf8::char_count(cstr(t)) as i64),
        v => Value::Integer(value_text(v).map_or(0, |t| t.len()) as i64),
    })
}

fn f_octet_length(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    // Bytes of a blob; of anything else, bytes of its text in the database encoding.
    Ok(match arg(args, 0) {
        Value::Null => Value::Null,
        Value::Blob(b) => Value::Integer(b.len() as i64),
        v => Value::Integer(
            value_text(v).map_or(0, |t| text_encoding::len_in(&t, ctx.encoding)) as i64,
        ),
    })
}

fn case_map(args: &[Value], upper: bool) -> Value {
    text_or_null(value_text(arg(args, 0)).map(|t| {
        if upper {
            t.to_ascii_uppercase()
        } else {
            t.to_ascii_lowercase()
        }
    }))
}

fn f_upper(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(case_map(args, true))
}

fn f_lower(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(case_map(args, false))
}

fn f_hex(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    // SQLite hexes `sqlite3_value_blob`: a blob's bytes, anything else as text in the
    // database encoding.
    let bytes = match arg(args, 0) {
        Value::Blob(b) => std::borrow::Cow::Borrowed(&b[..]),
        v => {
            let t = value_text(v).unwrap_or_default();
            std::borrow::Cow::Owned(text_encoding::from_utf8(&t, ctx.encoding).into_owned())
        }
    };
    check_len(bytes.len() * 2)?;
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes.iter() {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
    Ok(Value::Text(out))
}

fn hex_val(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

fn f_unhex(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let Some(hex) = value_text(arg(args, 0)) else {
        return Ok(Value::Null);
    };
    let pass: Vec<u8> = if args.len() == 2 {
        match value_text(arg(args, 1)) {
            Some(p) => p.into_owned(),
            None => return Ok(Value::Null),
        }
    } else {
        Vec::new()
    };
    let hex = cstr(&hex);
    let mut out = Vec::with_capacity(hex.len() / 2);
    let mut i = 0;
    let at = |i: usize| hex.get(i).copied().unwrap_or(0);
    'outer: while at(i) != 0 {
        let mut c = at(i);
        while !c.is_ascii_hexdigit() {
            let ch = utf8::read(hex, &mut i);
            let mut k = 0;
            let mut found = false;
            while k < pass.len() {
                if utf8::read(&pass, &mut k) == ch {
                    found = true;
                    break;
                }
            }
            if !found {
                return Ok(Value::Null);
            }
            c = at(i);
            if c == 0 {
                break 'outer;
            }
        }
        i += 1;
        let d = at(i);
        i += 1;
        if !d.is_ascii_hexdigit() {
            return Ok(Value::Null);
        }
        out.push((hex_val(c) << 4) | hex_val(d));
    }
    Ok(Value::Blob(out))
}

fn f_instr(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let (h, n) = (arg(args, 0), arg(args, 1));
    if matches!(h, Value::Null) || matches!(n, Value::Null) {
        return Ok(Value::Null);
    }
    let is_text = !(matches!(h, Value::Blob(_)) && matches!(n, Value::Blob(_)));
    let hay = value_text(h).unwrap_or_default();
    let needle = value_text(n).unwrap_or_default();
    if needle.is_empty() {
        return Ok(Value::Integer(1));
    }
    let mut pos = 0usize;
    let mut count: i64 = 1;
    let mut n_hay = hay.len();
    while needle.len() <= n_hay && hay[pos..pos + needle.len()] != needle[..] {
        count += 1;
        loop {
            n_hay -= 1;
            pos += 1;
            if !(is_text && pos < hay.len() && hay[pos] & 0xc0 == 0x80) {
                break;
            }
        }
    }
    if needle.len() > n_hay {
        count = 0;
    }
    Ok(Value::Integer(count))
}

fn f_printf(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let Some(fmt) = args.first().and_then(value_text) else {
        return Ok(Value::Null);
    };
    Ok(text_or_null(sql_printf(&fmt, args.get(1..).unwrap_or(&[]))))
}

fn f_substr(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    if matches!(arg(args, 1), Value::Null)
        || (args.len() == 3 && matches!(arg(args, 2), Value::Null))
    {
        return Ok(Value::Null);
    }
    let is_blob = matches!(arg(args, 0), Value::Blob(_));
    let Some(z) = value_text(arg(args, 0)) else {
        return Ok(Value::Null);
    };
    let mut p1 = value_int(arg(args, 1)) as i64;
    if is_blob && z.is_empty() {
        // sqlite3_value_blob() of a zero-length blob is a NULL pointer: result NULL.
        return Ok(Value::Null);
    }
    let z: &[u8] = if is_blob { &z } else { cstr(&z) };
    let len: i64 = if is_blob {
        z.len() as i64
    } else if p1 < 0 {
        utf8::char_count(z) as i64
    } else {
        0
    };
    let mut neg_p2 = false;
    let mut p2: i64 = if args.len() == 3 {
        let mut p2 = value_int(arg(args, 2)) as i64;
        if p2 < 0 {
            p2 = -p2;
            neg_p2 = true;
        }
        p2
    } else {
        MAX_LENGTH as i64
    };
    if p1 < 0 {
        p1 += len;
        if p1 < 0 {
            p2 += p1;
            if p2 < 0 {
                p2 = 0;
            }
            p1 = 0;
        }
    } else if p1 > 0 {
        p1 -= 1;
    } else if p2 > 0 {
        p2 -= 1;
    }
    if neg_p2 {
        p1 -= p2;
        if p1 < 0 {
            p2 += p1;
            p1 = 0;
        }
    }
    if !is_blob {
        let mut i = 0usize;
        while i < z.len() && p1 > 0 {
            utf8::skip(z, &mut i);
            p1 -= 1;
        }
        let mut j = i;
        while j < z.len() && p2 > 0 {
            utf8::skip(z, &mut j);
            p2 -= 1;
        }
        Ok(Value::Text(z[i..j].to_vec()))
    } else {
        if p1 + p2 > len {
            p2 = (len - p1).max(0);
        }
        if p1 >= len || p2 <= 0 {
            return Ok(Value::Blob(Vec::new()));
        }
        Ok(Value::Blob(z[p1 as usize..(p1 + p2) as usize].to_vec()))
    }
}

fn f_round(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let mut n = 0i32;
    if args.len() == 2 {
        if matches!(arg(args, 1), Value::Null) {
            return Ok(Value::Null);
        }
        n = value_int(arg(args, 1)).clamp(0, 30);
    }
    if matches!(arg(args, 0), Value::Null) {
        return Ok(Value::Null);
    }
    let mut r = value_double(arg(args, 0));
    if !(-4503599627370496.0..=4503599627370496.0).contains(&r) {
        // No fractional part (or NaN/inf): nothing to round.
    } else if n == 0 {
        r = ((r + if r < 0.0 { -0.5 } else { 0.5 }) as i64) as f64;
    } else {
        let mut buf = Vec::with_capacity(40);
        format_float(&mut buf, r, b'f', n, 0, 0, false, false, true, false, false);
        r = atof(&buf).0;
    }
    Ok(Value::Real(r))
}

fn f_quote(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(Value::Text(quote_value(arg(args, 0))))
}

/// `sqlite3QuoteValue`: the SQL literal for a value.
pub fn quote_value(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    match v {
        Value::Real(r1) => {
            format_float(
                &mut out, *r1, b'g', 15, 0, 0, false, true, true, false, false,
            );
            let r2 = atof(&out).0;
            if *r1 != r2 {
                out.clear();
                format_float(
                    &mut out, *r1, b'e', 20, 0, 0, false, true, true, false, false,
                );
            }
        }
        Value::Integer(i) => i64_to_text(*i, &mut out),
        Value::Blob(b) => {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.reserve(b.len() * 2 + 3);
            out.extend_from_slice(b"X'");
            for &c in b {
                out.push(HEX[(c >> 4) as usize]);
                out.push(HEX[(c & 15) as usize]);
            }
            out.push(b'\'');
        }
        Value::Text(t) => {
            let t = cstr(t);
            out.reserve(t.len() + 2);
            out.push(b'\'');
            for &c in t {
                out.push(c);
                if c == b'\'' {
                    out.push(c);
                }
            }
            out.push(b'\'');
        }
        Value::Null => out.extend_from_slice(b"NULL"),
    }
    out
}

fn f_unicode(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let Some(z) = value_text(arg(args, 0)) else {
        return Ok(Value::Null);
    };
    if z.is_empty() || z[0] == 0 {
        return Ok(Value::Null);
    }
    let mut i = 0;
    Ok(Value::Integer(utf8::read(&z, &mut i) as i64))
}

fn f_char(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let mut out = Vec::with_capacity(args.len() * 4);
    for a in args {
        let mut x = value_int64(a);
        if !(0..=0x10ffff).contains(&x) {
            x = 0xfffd;
        }
        utf8::write(&mut out, (x & 0x1fffff) as u32);
    }
    Ok(Value::Text(out))
}

fn f_zeroblob(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let n = value_int64(arg(args, 0)).max(0);
    if n as u64 > MAX_LENGTH as u64 {
        return Err(FunctionError::TooBig);
    }
    Ok(Value::Blob(vec![0; n as usize]))
}

fn f_random(_: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let mut r = ctx.random.next_u64() as i64;
    if r < 0 {
        // -(r & MAX) keeps the result off i64::MIN, as SQLite does.
        r = -(r & i64::MAX);
    }
    Ok(Value::Integer(r))
}

fn f_randomblob(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let n = value_int64(arg(args, 0)).max(1);
    if n as u64 > MAX_LENGTH as u64 {
        return Err(FunctionError::TooBig);
    }
    let mut buf = vec![0u8; n as usize];
    ctx.random.fill(&mut buf);
    Ok(Value::Blob(buf))
}

fn f_nullif(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    Ok(
        if compare_in(arg(args, 0), arg(args, 1), ctx.collation, ctx.encoding) != Ordering::Equal {
            arg(args, 0).clone()
        } else {
            Value::Null
        },
    )
}

fn minmax(args: &[Value], ctx: &FunctionContext<'_>, max: bool) -> Value {
    if args.is_empty() || args.iter().any(|a| matches!(a, Value::Null)) {
        return Value::Null;
    }
    let mut best = 0;
    for i in 1..args.len() {
        let c = compare_in(&args[best], &args[i], ctx.collation, ctx.encoding);
        // min: a later argument wins ties; max: the earlier one does (SQLite's mask trick).
        let take = if max {
            c == Ordering::Less
        } else {
            c != Ordering::Less
        };
        if take {
            best = i;
        }
    }
    args[best].clone()
}

fn f_min(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    Ok(minmax(args, ctx, false))
}

fn f_max(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    Ok(minmax(args, ctx, true))
}

fn f_replace(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let Some(s) = value_text(arg(args, 0)) else {
        return Ok(Value::Null);
    };
    let Some(pat) = value_text(arg(args, 1)) else {
        return Ok(Value::Null);
    };
    if pat.is_empty() || pat[0] == 0 {
        return Ok(Value::Text(s.into_owned()));
    }
    let Some(rep) = value_text(arg(args, 2)) else {
        return Ok(Value::Null);
    };
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0usize;
    while i + pat.len() <= s.len() {
        if s[i] == pat[0] && s[i..i + pat.len()] == pat[..] {
            out.extend_from_slice(&rep);
            i += pat.len();
            check_len(out.len())?;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&s[i..]);
    check_len(out.len())?;
    Ok(Value::Text(out))
}

fn trim_impl(args: &[Value], left: bool, right: bool) -> R {
    let Some(input) = value_text(arg(args, 0)) else {
        return Ok(Value::Null);
    };
    // The characters to trim: a space by default, else each UTF-8 character of the
    // second argument (read as a C string), compared byte-wise as SQLite does.
    let charset = if args.len() == 2 {
        match value_text(arg(args, 1)) {
            Some(cs) => cs,
            None => return Ok(Value::Null),
        }
    } else {
        std::borrow::Cow::Borrowed(&b" "[..])
    };
    let cs = cstr(&charset);
    let mut set: Vec<&[u8]> = Vec::new();
    let mut i = 0;
    while i < cs.len() {
        let start = i;
        utf8::skip(cs, &mut i);
        set.push(&cs[start..i]);
    }
    let mut s = &input[..];
    trim_with(&mut s, &set, left, right);
    Ok(Value::Text(s.to_vec()))
}

fn trim_with(s: &mut &[u8], set: &[&[u8]], left: bool, right: bool) {
    if set.is_empty() {
        return;
    }
    if left {
        while !s.is_empty() {
            match set.iter().find(|c| s.starts_with(c)) {
                Some(c) => *s = &s[c.len()..],
                None => break,
            }
        }
    }
    if right {
        while !s.is_empty() {
            match set.iter().find(|c| s.ends_with(c)) {
                Some(c) => *s = &s[..s.len() - c.len()],
                None => break,
            }
        }
    }
}

fn f_trim(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    trim_impl(args, true, true)
}

fn f_ltrim(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    trim_impl(args, true, false)
}

fn f_rtrim(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    trim_impl(args, false, true)
}

fn f_sign(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let x = match arg(args, 0) {
        Value::Integer(i) => *i as f64,
        Value::Real(r) => *r,
        Value::Text(t) => match numeric_value_of_text(t, false) {
            Some(v) => value_double(&v),
            None => return Ok(Value::Null),
        },
        _ => return Ok(Value::Null),
    };
    Ok(Value::Integer(if x < 0.0 {
        -1
    } else if x > 0.0 {
        1
    } else {
        0
    }))
}

fn f_concat(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    concat_core(args, b"")
}

fn f_concat_ws(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    let Some(sep) = value_text(arg(args, 0)) else {
        return Ok(Value::Null);
    };
    concat_core(args.get(1..).unwrap_or(&[]), &sep)
}

fn concat_core(args: &[Value], sep: &[u8]) -> R {
    let mut out = Vec::new();
    for a in args {
        let start = out.len();
        if !out.is_empty() && !sep.is_empty() {
            out.extend_from_slice(sep);
        }
        let before = out.len();
        append_text(a, &mut out);
        if out.len() == before {
            // Empty and NULL arguments add neither text nor a separator.
            out.truncate(start);
        }
        check_len(out.len())?;
    }
    Ok(Value::Text(out))
}

fn like_error(e: LikeError) -> FunctionError {
    match e {
        LikeError::BadEscape => {
            FunctionError::Error("ESCAPE expression must be a single character".into())
        }
    }
}

/// SQLite refuses over-long patterns before looking at anything else.
fn pattern_args(args: &[Value]) -> Result<(), FunctionError> {
    let pat_len = value_text(arg(args, 0)).map_or(0, |t| t.len());
    if pat_len > MAX_LIKE_PATTERN_LENGTH {
        return Err(FunctionError::Error(
            "LIKE or GLOB pattern too complex".into(),
        ));
    }
    Ok(())
}

fn f_like(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    pattern_args(args)?;
    let esc = if args.len() == 3 {
        match value_text(arg(args, 2)) {
            Some(e) => Some(e.into_owned()),
            None => return Ok(Value::Null),
        }
    } else {
        None
    };
    if let Some(e) = &esc {
        // Checked before the NULL tests on pattern and subject, as SQLite does.
        if utf8::char_count(cstr(e)) != 1 {
            return Err(like_error(LikeError::BadEscape));
        }
    }
    let (Some(pat), Some(subject)) = (value_text(arg(args, 0)), value_text(arg(args, 1))) else {
        return Ok(Value::Null);
    };
    let m = like_with_case(&pat, &subject, esc.as_deref(), ctx.case_sensitive_like)
        .map_err(like_error)?;
    Ok(Value::Integer(m as i64))
}

fn f_glob(args: &[Value], _: &mut FunctionContext<'_>) -> R {
    pattern_args(args)?;
    let (Some(pat), Some(subject)) = (value_text(arg(args, 0)), value_text(arg(args, 1))) else {
        return Ok(Value::Null);
    };
    Ok(Value::Integer(glob(&pat, &subject) as i64))
}
