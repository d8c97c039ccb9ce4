//! SQLite's JSON functions (`json.c`, SQLite 3.45+): text JSON and JSONB.
//!
//! As in SQLite every function works on JSONB internally: an argument is parsed from
//! text (JSON5 accepted) or taken as a JSONB blob, edited or searched as a blob, and
//! rendered back to canonical text (the `json_*` forms) or returned as a blob (the
//! `jsonb_*` forms), so results are byte-identical to SQLite's.
//!
//! Subtypes: SQLite marks values returned by JSON functions with the JSON subtype, and a
//! JSON function receiving such a value embeds it as JSON instead of quoting it as a
//! string. The VM passes which arguments carry the subtype in
//! [`FunctionContext::arg_subtypes`] and reads [`FunctionContext::result_subtype`] back.
//!
//! * [`jsonb`]: the binary format, sizes, edits, validity check.
//! * [`parse`]: JSON/JSON5 text to JSONB.
//! * [`render`]: JSONB to text (compact and pretty).
//! * [`path`]: path lookup and edits.
//! * [`agg`]: json_group_array / json_group_object.

pub mod agg;
pub mod each;
pub mod jsonb;
pub mod parse;
pub mod path;
pub mod render;

use std::borrow::Cow;

use strata_btree::record::Value;

use crate::conv::{cstr, value_int64, value_text};
use crate::functions::{FunctionContext, FunctionError};
use crate::numeric::{atof, dec_or_hex_to_i64_raw};
use crate::printf::format_float;
use jsonb::*;
use parse::TextParser;
use path::{Edit, Lookup, LookupErr};
use render::JsonOut;

/// SQLite's JSON subtype (`'J'`), as `subtype()` reports it.
pub const JSON_SUBTYPE: i64 = 74;

type R = Result<Value, FunctionError>;

fn err(m: &str) -> FunctionError {
    FunctionError::Error(m.to_string())
}

pub(crate) fn malformed() -> FunctionError {
    err("malformed JSON")
}

/// "bad JSON path: 'PATH'" (`%Q`).
pub(crate) fn bad_path(p: &[u8]) -> FunctionError {
    let p = cstr(p);
    let mut m = String::from("bad JSON path: '");
    m.push_str(&String::from_utf8_lossy(p).replace('\'', "''"));
    m.push('\'');
    FunctionError::Error(m)
}

static NULL: Value = Value::Null;

/// The i-th argument or NULL: never panics on a short argument list.
fn arg(args: &[Value], i: usize) -> &Value {
    args.get(i).unwrap_or(&NULL)
}

fn has_subtype(ctx: &FunctionContext<'_>, i: usize) -> bool {
    ctx.arg_subtypes.get(i).copied().unwrap_or(false)
}

/// Output flavour of a function (`JSON_BLOB` in SQLite's user data).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Out {
    Text,
    Blob,
}

/// `jsonParseFuncArg`: the JSONB of a JSON argument; `Ok(None)` for NULL.
fn parse_arg(v: &Value) -> Result<Option<(Jsonb, bool)>, FunctionError> {
    match parse_arg_keep(v) {
        ParsedArg::Null => Ok(None),
        ParsedArg::Doc(d, nonstd) => Ok(Some((d, nonstd))),
        ParsedArg::Error => Err(malformed()),
    }
}

enum ParsedArg {
    Null,
    Doc(Jsonb, bool),
    /// Malformed text; the byte offset of the error.
    Error,
}

fn parse_arg_keep(v: &Value) -> ParsedArg {
    let text: Cow<'_, [u8]> = match v {
        Value::Null => return ParsedArg::Null,
        Value::Blob(b) => {
            if might_be_binary(b) {
                return ParsedArg::Doc(Jsonb::from_blob(b.clone()), false);
            }
            // Not JSONB: SQLite reads the blob's bytes as JSON text (tag-20240123-a).
            Cow::Borrowed(b)
        }
        other => value_text(other).unwrap_or(Cow::Borrowed(&[])),
    };
    if text.is_empty() {
        return ParsedArg::Error;
    }
    let mut p = TextParser::new(&text);
    if p.convert() {
        ParsedArg::Doc(p.out, p.has_nonstd)
    } else {
        ParsedArg::Error
    }
}

/// `jsonFunctionArgToBlob`: an SQL value as a JSONB element to insert.
fn value_to_blob(v: &Value, subtype: bool) -> Result<Vec<u8>, FunctionError> {
    let mut d = Jsonb::default();
    match v {
        Value::Null => d.blob.push(JSONB_NULL),
        Value::Blob(b) => {
            if might_be_binary(b) {
                return Ok(b.clone());
            }
            return Err(err("JSON cannot hold BLOB values"));
        }
        Value::Text(t) => {
            if subtype {
                let mut p = TextParser::new(t);
                if !p.convert() {
                    return Err(malformed());
                }
                return Ok(p.out.blob);
            }
            d.append_node(JSONB_TEXTRAW, t.len(), Some(t));
        }
        Value::Real(r) => {
            if r.is_nan() {
                d.blob.push(JSONB_NULL);
            } else {
                let z = value_text(v).unwrap_or_default();
                if z.first() == Some(&b'I') {
                    d.append_node(JSONB_FLOAT, 5, Some(b"9e999"));
                } else if z.starts_with(b"-I") {
                    d.append_node(JSONB_FLOAT, 6, Some(b"-9e999"));
                } else {
                    d.append_node(JSONB_FLOAT, z.len(), Some(&z));
                }
            }
        }
        Value::Integer(_) => {
            let z = value_text(v).unwrap_or_default();
            d.append_node(JSONB_INT, z.len(), Some(&z));
        }
    }
    Ok(d.blob)
}

/// `jsonAppendSqlValue`.
pub(crate) fn append_sql_value(
    out: &mut JsonOut,
    v: &Value,
    subtype: bool,
) -> Result<(), FunctionError> {
    match v {
        Value::Null => out.buf.extend_from_slice(b"null"),
        Value::Real(r) => format_float(
            &mut out.buf,
            *r,
            b'g',
            15,
            0,
            0,
            false,
            true,
            true,
            false,
            false,
        ),
        Value::Integer(_) => out
            .buf
            .extend_from_slice(&value_text(v).unwrap_or_default()),
        Value::Text(t) => {
            if subtype {
                out.buf.extend_from_slice(t);
            } else {
                out.append_string(t);
            }
        }
        Value::Blob(b) => {
            if might_be_binary(b) {
                out.blob_to_text(b, 0, 0);
            } else {
                return Err(err("JSON cannot hold BLOB values"));
            }
        }
    }
    Ok(())
}

/// `jsonReturnString`: the finished text as the result (or its JSONB for `Out::Blob`).
fn return_string(out: JsonOut, flavour: Out, ctx: &mut FunctionContext<'_>) -> R {
    if out.malformed {
        return Err(malformed());
    }
    Ok(match flavour {
        Out::Blob => Value::Blob(string_as_blob(&out.buf)),
        Out::Text => {
            ctx.result_subtype = true;
            Value::Text(out.buf)
        }
    })
}

/// `jsonReturnStringAsBlob`: text known to be JSON to JSONB (no error check, as SQLite).
pub(crate) fn string_as_blob(text: &[u8]) -> Vec<u8> {
    let mut p = TextParser::new(text);
    p.convert();
    p.out.blob
}

/// `jsonReturnParse`: the edited document as text (with the JSON subtype) or JSONB.
fn return_parse(doc: Jsonb, flavour: Out, ctx: &mut FunctionContext<'_>) -> R {
    match flavour {
        Out::Blob => Ok(Value::Blob(doc.blob)),
        Out::Text => {
            let mut out = JsonOut::default();
            out.blob_to_text(&doc.blob, 0, 0);
            if out.malformed {
                return Err(malformed());
            }
            ctx.result_subtype = true;
            Ok(Value::Text(out.buf))
        }
    }
}

/// `jsonReturnFromBlob`: the element at `i` as an SQL value (containers as JSON text,
/// or JSONB for `Out::Blob`).
pub(crate) fn return_from_blob(b: &[u8], i: usize, flavour: Out) -> R {
    let (n, sz) = payload_size(b, i);
    if n == 0 {
        return Err(malformed());
    }
    let pay = &b[i + n..i + n + sz];
    match b[i] & 0x0f {
        JSONB_NULL | JSONB_TRUE | JSONB_FALSE => {
            if sz != 0 {
                return Err(malformed());
            }
            Ok(match b[i] & 0x0f {
                JSONB_NULL => Value::Null,
                JSONB_TRUE => Value::Integer(1),
                _ => Value::Integer(0),
            })
        }
        JSONB_INT | JSONB_INT5 => {
            if sz == 0 {
                return Err(malformed());
            }
            let (neg, digits) = if pay[0] == b'-' {
                if sz < 2 {
                    return Err(malformed());
                }
                (true, &pay[1..])
            } else {
                (false, pay)
            };
            let (v, rc) = dec_or_hex_to_i64_raw(cstr(digits));
            match rc {
                0 => Ok(Value::Integer(if neg { v.wrapping_neg() } else { v })),
                3 if neg => Ok(Value::Integer(i64::MIN)),
                1 => Err(malformed()),
                _ => to_double(pay),
            }
        }
        JSONB_FLOAT | JSONB_FLOAT5 => {
            if sz == 0 {
                return Err(malformed());
            }
            to_double(pay)
        }
        JSONB_TEXT | JSONB_TEXTRAW => Ok(Value::Text(pay.to_vec())),
        JSONB_TEXTJ | JSONB_TEXT5 => Ok(Value::Text(unescape(pay))),
        JSONB_ARRAY | JSONB_OBJECT => match flavour {
            Out::Blob => Ok(Value::Blob(b[i..i + n + sz].to_vec())),
            Out::Text => {
                let mut out = JsonOut::default();
                out.blob_to_text(&b[i..i + n + sz], 0, 0);
                if out.malformed {
                    return Err(malformed());
                }
                Ok(Value::Text(out.buf))
            }
        },
        _ => Err(malformed()),
    }
}

fn to_double(z: &[u8]) -> R {
    let z = cstr(z);
    let (r, kind) = atof(z);
    if !kind.is_number() {
        return Err(malformed());
    }
    Ok(Value::Real(r))
}

/// A JSON string payload with its escapes decoded (invalid escapes dropped, as SQLite).
fn unescape(z: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(z.len());
    let mut i = 0;
    while i < z.len() {
        let c = z[i];
        if c == b'\\' {
            let (sz, v) = path::unescape_one_char(&z[i..]);
            if v <= 0x7f {
                out.push(v as u8);
            } else if v <= 0x7ff {
                out.push((0xc0 | (v >> 6)) as u8);
                out.push((0x80 | (v & 0x3f)) as u8);
            } else if v < 0x10000 {
                out.push((0xe0 | (v >> 12)) as u8);
                out.push((0x80 | ((v >> 6) & 0x3f)) as u8);
                out.push((0x80 | (v & 0x3f)) as u8);
            } else if v == path::JSON_INVALID_CHAR {
                // Silently ignored, as SQLite.
            } else {
                out.push((0xf0 | (v >> 18)) as u8);
                out.push((0x80 | ((v >> 12) & 0x3f)) as u8);
                out.push((0x80 | ((v >> 6) & 0x3f)) as u8);
                out.push((0x80 | (v & 0x3f)) as u8);
            }
            i += sz.max(1);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn lookup(doc: &mut Jsonb, path: &[u8]) -> Result<usize, LookupErr> {
    let mut l = Lookup {
        doc,
        edit: Edit::None,
        ins: &[],
        label: 0,
    };
    l.step(0, path, 0, 0)
}

/// The text of a path argument (`sqlite3_value_text`, up to a NUL), None for NULL.
fn path_text(v: &Value) -> Option<Vec<u8>> {
    value_text(v).map(|t| cstr(&t).to_vec())
}

// ---- json(), jsonb(), json_remove() ---------------------------------------------

fn remove(args: &[Value], flavour: Out, ctx: &mut FunctionContext<'_>) -> R {
    let Some(a0) = args.first() else {
        return Ok(Value::Null);
    };
    let Some((mut doc, _)) = parse_arg(a0)? else {
        return Ok(Value::Null);
    };
    for a in &args[1..] {
        let Some(p) = path_text(a) else {
            return Ok(Value::Null);
        };
        if p.first() != Some(&b'$') {
            return Err(bad_path(&p));
        }
        if p.len() == 1 {
            return Ok(Value::Null);
        }
        doc.delta = 0;
        let mut l = Lookup {
            doc: &mut doc,
            edit: Edit::Delete,
            ins: &[],
            label: 0,
        };
        match l.step(0, &p[1..], 0, 0) {
            Ok(_) | Err(LookupErr::NotFound) => {}
            Err(LookupErr::PathError) => return Err(bad_path(&p)),
            Err(LookupErr::Malformed) => return Err(malformed()),
        }
    }
    doc.delta = 0;
    return_parse(doc, flavour, ctx)
}

pub fn f_json(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    remove(args, Out::Text, ctx)
}
pub fn f_jsonb(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    remove(args, Out::Blob, ctx)
}
pub fn f_json_remove(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    remove(args, Out::Text, ctx)
}
pub fn f_jsonb_remove(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    remove(args, Out::Blob, ctx)
}

// ---- json_array(), json_object(), json_quote() ------------------------------------

fn array(args: &[Value], flavour: Out, ctx: &mut FunctionContext<'_>) -> R {
    let mut out = JsonOut::default();
    out.buf.push(b'[');
    for (i, a) in args.iter().enumerate() {
        out.separator();
        append_sql_value(&mut out, a, has_subtype(ctx, i))?;
    }
    out.buf.push(b']');
    return_string(out, flavour, ctx)
}

pub fn f_json_array(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    array(args, Out::Text, ctx)
}
pub fn f_jsonb_array(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    array(args, Out::Blob, ctx)
}

fn object(args: &[Value], flavour: Out, ctx: &mut FunctionContext<'_>) -> R {
    if args.len() & 1 != 0 {
        return Err(err("json_object() requires an even number of arguments"));
    }
    let mut out = JsonOut::default();
    out.buf.push(b'{');
    for i in (0..args.len()).step_by(2) {
        let Value::Text(label) = arg(args, i) else {
            return Err(err("json_object() labels must be TEXT"));
        };
        out.separator();
        out.append_string(label);
        out.buf.push(b':');
        append_sql_value(&mut out, arg(args, i + 1), has_subtype(ctx, i + 1))?;
    }
    out.buf.push(b'}');
    return_string(out, flavour, ctx)
}

pub fn f_json_object(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    object(args, Out::Text, ctx)
}
pub fn f_jsonb_object(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    object(args, Out::Blob, ctx)
}

pub fn f_json_quote(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let mut out = JsonOut::default();
    append_sql_value(&mut out, arg(args, 0), has_subtype(ctx, 0))?;
    return_string(out, Out::Text, ctx)
}

// ---- json_array_length(), json_type(), json_valid(), json_error_position() ----------

pub fn f_json_array_length(args: &[Value], _ctx: &mut FunctionContext<'_>) -> R {
    let Some((mut doc, _)) = parse_arg(arg(args, 0))? else {
        return Ok(Value::Null);
    };
    let mut i = 0;
    if args.len() == 2 {
        let Some(p) = path_text(arg(args, 1)) else {
            return Ok(Value::Null);
        };
        let rel: &[u8] = if p.first() == Some(&b'$') {
            &p[1..]
        } else {
            b"@"
        };
        match lookup(&mut doc, rel) {
            Ok(j) => i = j,
            Err(LookupErr::NotFound) => return Ok(Value::Null),
            Err(LookupErr::PathError) => return Err(bad_path(&p)),
            Err(LookupErr::Malformed) => return Err(malformed()),
        }
    }
    let cnt = if doc.blob.get(i).map(|b| b & 0x0f) == Some(JSONB_ARRAY) {
        doc.array_count(i)
    } else {
        0
    };
    Ok(Value::Integer(cnt as i64))
}

pub fn f_json_type(args: &[Value], _ctx: &mut FunctionContext<'_>) -> R {
    let Some((mut doc, _)) = parse_arg(arg(args, 0))? else {
        return Ok(Value::Null);
    };
    let mut i = 0;
    if args.len() == 2 {
        let Some(p) = path_text(arg(args, 1)) else {
            return Ok(Value::Null);
        };
        if p.first() != Some(&b'$') {
            return Err(bad_path(&p));
        }
        match lookup(&mut doc, &p[1..]) {
            Ok(j) => i = j,
            Err(LookupErr::NotFound) => return Ok(Value::Null),
            Err(LookupErr::PathError) => return Err(bad_path(&p)),
            Err(LookupErr::Malformed) => return Err(malformed()),
        }
    }
    let t = doc.blob.get(i).map(|b| b & 0x0f).unwrap_or(0);
    Ok(Value::Text(TYPE_NAMES[t as usize].as_bytes().to_vec()))
}

pub fn f_json_valid(args: &[Value], _ctx: &mut FunctionContext<'_>) -> R {
    let mut flags = 1u8;
    if args.len() == 2 {
        let f = value_int64(arg(args, 1));
        if !(1..=15).contains(&f) {
            return Err(err(
                "FLAGS parameter to json_valid() must be between 1 and 15",
            ));
        }
        flags = (f & 0x0f) as u8;
    }
    let v = arg(args, 0);
    if let Value::Null = v {
        return Ok(Value::Null);
    }
    if let Value::Blob(b) = v {
        if might_be_binary(b) {
            let res = if flags & 0x04 != 0 {
                true
            } else if flags & 0x08 != 0 {
                validity_check(b, 0, b.len(), 1) == 0
            } else {
                false
            };
            return Ok(Value::Integer(res as i64));
        }
    }
    if flags & 0x03 == 0 {
        return Ok(Value::Integer(0));
    }
    let res = match parse_arg_keep(v) {
        ParsedArg::Doc(_, nonstd) => flags & 0x02 != 0 || !nonstd,
        _ => false,
    };
    Ok(Value::Integer(res as i64))
}

pub fn f_json_error_position(args: &[Value], _ctx: &mut FunctionContext<'_>) -> R {
    let v = arg(args, 0);
    if let Value::Blob(b) = v {
        if might_be_binary(b) {
            return Ok(Value::Integer(validity_check(b, 0, b.len(), 1) as i64));
        }
    }
    let Some(text) = value_text(v) else {
        return Ok(Value::Null);
    };
    let mut p = TextParser::new(&text);
    if p.convert() {
        Ok(Value::Integer(0))
    } else {
        Ok(Value::Integer(parse::char_position(&text, p.i_err)))
    }
}

// ---- json_extract(), ->, ->> --------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum Extract {
    /// json_extract
    Plain,
    /// jsonb_extract
    Blob,
    /// `->`: always JSON text
    Arrow,
    /// `->>`: always an SQL value
    Arrow2,
}

fn all_alnum(z: &[u8]) -> bool {
    z.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn extract(args: &[Value], kind: Extract, ctx: &mut FunctionContext<'_>) -> R {
    if args.len() < 2 {
        return Ok(Value::Null);
    }
    let Some((mut doc, _)) = parse_arg(arg(args, 0))? else {
        return Ok(Value::Null);
    };
    let multi = args.len() > 2;
    let mut out = JsonOut::default();
    if multi {
        out.buf.push(b'[');
    }
    for a in &args[1..] {
        let Some(p) = path_text(a) else {
            return Ok(Value::Null);
        };
        let r = if p.first() == Some(&b'$') {
            lookup(&mut doc, &p[1..])
        } else if matches!(kind, Extract::Arrow | Extract::Arrow2) {
            // Abbreviated paths of -> and ->>: 5 is [5], name is .name.
            let mut q = Vec::with_capacity(p.len() + 3);
            if let Value::Integer(_) = a {
                q.push(b'[');
                q.extend_from_slice(&p);
                q.push(b']');
            } else if all_alnum(&p) {
                q.push(b'.');
                q.extend_from_slice(&p);
            } else if p.first() == Some(&b'[') && p.len() >= 3 && p.last() == Some(&b']') {
                q.extend_from_slice(&p);
            } else {
                q.extend_from_slice(b".\"");
                q.extend_from_slice(&p);
                q.push(b'"');
            }
            lookup(&mut doc, &q)
        } else {
            return Err(bad_path(&p));
        };
        match r {
            Ok(j) => {
                if !multi {
                    if kind == Extract::Arrow {
                        let mut o = JsonOut::default();
                        o.blob_to_text(&doc.blob, j, 0);
                        return return_string(o, Out::Text, ctx);
                    }
                    let flavour = if kind == Extract::Blob {
                        Out::Blob
                    } else {
                        Out::Text
                    };
                    let v = return_from_blob(&doc.blob, j, flavour)?;
                    if kind == Extract::Plain && doc.blob[j] & 0x0f >= JSONB_ARRAY {
                        ctx.result_subtype = true;
                    }
                    return Ok(v);
                }
                out.separator();
                out.blob_to_text(&doc.blob, j, 0);
            }
            Err(LookupErr::NotFound) => {
                if !multi {
                    return Ok(Value::Null);
                }
                out.separator();
                out.buf.extend_from_slice(b"null");
            }
            Err(LookupErr::Malformed) => return Err(malformed()),
            Err(LookupErr::PathError) => return Err(bad_path(&p)),
        }
    }
    out.buf.push(b']');
    let flavour = if kind == Extract::Blob {
        Out::Blob
    } else {
        Out::Text
    };
    return_string(out, flavour, ctx)
}

pub fn f_json_extract(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    extract(args, Extract::Plain, ctx)
}
pub fn f_jsonb_extract(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    extract(args, Extract::Blob, ctx)
}
/// The `->` operator.
pub fn f_arrow(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    extract(args, Extract::Arrow, ctx)
}
/// The `->>` operator.
pub fn f_arrow2(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    extract(args, Extract::Arrow2, ctx)
}

// ---- json_insert(), json_replace(), json_set() ----------------------------------------

fn insert(args: &[Value], edit: Edit, flavour: Out, ctx: &mut FunctionContext<'_>) -> R {
    if args.is_empty() {
        return Ok(Value::Null);
    }
    if args.len() & 1 == 0 {
        let name = match edit {
            Edit::Replace => "replace",
            Edit::Set => "set",
            _ => "insert",
        };
        return Err(FunctionError::Error(format!(
            "json_{name}() needs an odd number of arguments"
        )));
    }
    let Some((mut doc, _)) = parse_arg(arg(args, 0))? else {
        return Ok(Value::Null);
    };
    let mut i = 1;
    while i + 1 < args.len() {
        let Some(p) = path_text(arg(args, i)) else {
            i += 2;
            continue;
        };
        if p.first() != Some(&b'$') {
            return Err(bad_path(&p));
        }
        let ins = value_to_blob(arg(args, i + 1), has_subtype(ctx, i + 1))?;
        let r = if p.len() == 1 {
            if matches!(edit, Edit::Replace | Edit::Set) {
                let n = doc.blob.len();
                doc.edit(0, n, &ins);
            }
            Ok(0)
        } else {
            doc.delta = 0;
            let mut l = Lookup {
                doc: &mut doc,
                edit,
                ins: &ins,
                label: 0,
            };
            l.step(0, &p[1..], 0, 0)
        };
        match r {
            Ok(_) | Err(LookupErr::NotFound) => {}
            Err(LookupErr::Malformed) => return Err(malformed()),
            Err(LookupErr::PathError) => return Err(bad_path(&p)),
        }
        i += 2;
    }
    doc.delta = 0;
    return_parse(doc, flavour, ctx)
}

pub fn f_json_insert(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    insert(args, Edit::Insert, Out::Text, ctx)
}
pub fn f_jsonb_insert(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    insert(args, Edit::Insert, Out::Blob, ctx)
}
pub fn f_json_replace(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    insert(args, Edit::Replace, Out::Text, ctx)
}
pub fn f_jsonb_replace(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    insert(args, Edit::Replace, Out::Blob, ctx)
}
pub fn f_json_set(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    insert(args, Edit::Set, Out::Text, ctx)
}
pub fn f_jsonb_set(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    insert(args, Edit::Set, Out::Blob, ctx)
}

// ---- json_patch() -----------------------------------------------------------------------

#[derive(Debug)]
enum MergeErr {
    Bad,
}

/// `jsonMergePatch` (RFC 7396) on JSONB, in place in `target`.
fn merge_patch(
    t: &mut Jsonb,
    i_target: usize,
    p: &[u8],
    i_patch: usize,
    depth: u32,
) -> Result<(), MergeErr> {
    if depth > render::MAX_RENDER_DEPTH {
        return Err(MergeErr::Bad);
    }
    let tb = |t: &Jsonb, k: usize| t.blob.get(k).copied().unwrap_or(0);
    let x = p.get(i_patch).copied().unwrap_or(0) & 0x0f;
    if x != JSONB_OBJECT {
        let (n, sz) = payload_size(p, i_patch);
        let sz_patch = n + sz;
        let (n, sz) = t.payload_size(i_target);
        let sz_target = n + sz;
        let patch = p[i_patch..i_patch + sz_patch].to_vec();
        t.edit(i_target, sz_target, &patch);
        return Ok(());
    }
    if tb(t, i_target) & 0x0f != JSONB_OBJECT {
        let (n, sz) = t.payload_size(i_target);
        t.edit(i_target + n, sz, &[]);
        let x = t.blob[i_target];
        t.blob[i_target] = (x & 0xf0) | JSONB_OBJECT;
    }
    let (n, sz) = payload_size(p, i_patch);
    if n == 0 {
        return Err(MergeErr::Bad);
    }
    let mut i_pcursor = i_patch + n;
    let i_pend = i_pcursor + sz;
    let (n, sz) = t.payload_size(i_target);
    if n == 0 {
        return Err(MergeErr::Bad);
    }
    let i_tstart = i_target + n;
    let i_tend_be = i_tstart + sz;
    while i_pcursor < i_pend {
        let i_plabel = i_pcursor;
        let e_plabel = p[i_pcursor] & 0x0f;
        if !(JSONB_TEXT..=JSONB_TEXTRAW).contains(&e_plabel) {
            return Err(MergeErr::Bad);
        }
        let (n_plabel, sz_plabel) = payload_size(p, i_pcursor);
        if n_plabel == 0 {
            return Err(MergeErr::Bad);
        }
        let i_pvalue = i_pcursor + n_plabel + sz_plabel;
        if i_pvalue >= i_pend {
            return Err(MergeErr::Bad);
        }
        let (n_pvalue, sz_pvalue) = payload_size(p, i_pvalue);
        if n_pvalue == 0 {
            return Err(MergeErr::Bad);
        }
        i_pcursor = i_pvalue + n_pvalue + sz_pvalue;
        if i_pcursor > i_pend {
            return Err(MergeErr::Bad);
        }
        let mut i_tcursor = i_tstart;
        let i_tend = (i_tend_be as i64 + t.delta) as usize;
        let (mut i_tlabel, mut n_tlabel, mut sz_tlabel) = (0, 0, 0);
        let (mut i_tvalue, mut n_tvalue, mut sz_tvalue) = (0, 0, 0);
        while i_tcursor < i_tend {
            i_tlabel = i_tcursor;
            let e_tlabel = tb(t, i_tcursor) & 0x0f;
            if !(JSONB_TEXT..=JSONB_TEXTRAW).contains(&e_tlabel) {
                return Err(MergeErr::Bad);
            }
            (n_tlabel, sz_tlabel) = t.payload_size(i_tcursor);
            if n_tlabel == 0 {
                return Err(MergeErr::Bad);
            }
            i_tvalue = i_tlabel + n_tlabel + sz_tlabel;
            if i_tvalue >= i_tend {
                return Err(MergeErr::Bad);
            }
            (n_tvalue, sz_tvalue) = t.payload_size(i_tvalue);
            if n_tvalue == 0 {
                return Err(MergeErr::Bad);
            }
            if i_tvalue + n_tvalue + sz_tvalue > i_tend {
                return Err(MergeErr::Bad);
            }
            let equal = path::label_compare(
                &p[i_plabel + n_plabel..i_plabel + n_plabel + sz_plabel],
                e_plabel == JSONB_TEXT || e_plabel == JSONB_TEXTRAW,
                t.blob
                    .get(i_tlabel + n_tlabel..i_tlabel + n_tlabel + sz_tlabel)
                    .unwrap_or(&[]),
                e_tlabel == JSONB_TEXT || e_tlabel == JSONB_TEXTRAW,
            );
            if equal {
                break;
            }
            i_tcursor = i_tvalue + n_tvalue + sz_tvalue;
        }
        let x = p[i_pvalue] & 0x0f;
        if i_tcursor < i_tend {
            if x == 0 {
                t.edit(i_tlabel, n_tlabel + sz_tlabel + n_tvalue + sz_tvalue, &[]);
            } else {
                let saved = t.delta;
                t.delta = 0;
                merge_patch(t, i_tvalue, p, i_pvalue, depth + 1)?;
                t.delta += saved;
            }
        } else if x > 0 {
            let sz_new = sz_plabel + n_plabel;
            if p[i_pvalue] & 0x0f != JSONB_OBJECT {
                let mut ins = p[i_plabel..i_plabel + sz_new].to_vec();
                ins.extend_from_slice(&p[i_pvalue..i_pvalue + sz_pvalue + n_pvalue]);
                t.edit(i_tend, 0, &ins);
            } else {
                let mut ins = p[i_plabel..i_plabel + sz_new].to_vec();
                ins.push(0x00);
                t.edit(i_tend, 0, &ins);
                let saved = t.delta;
                t.delta = 0;
                merge_patch(t, i_tend + sz_new, p, i_pvalue, depth + 1)?;
                t.delta += saved;
            }
        }
    }
    if t.delta != 0 {
        t.after_edit_size_adjust(i_target);
    }
    Ok(())
}

fn patch(args: &[Value], flavour: Out, ctx: &mut FunctionContext<'_>) -> R {
    let Some((mut target, _)) = parse_arg(arg(args, 0))? else {
        return Ok(Value::Null);
    };
    let Some((p, _)) = parse_arg(arg(args, 1))? else {
        return Ok(Value::Null);
    };
    target.delta = 0;
    match merge_patch(&mut target, 0, &p.blob, 0, 0) {
        Ok(()) => {
            target.delta = 0;
            return_parse(target, flavour, ctx)
        }
        Err(MergeErr::Bad) => Err(malformed()),
    }
}

pub fn f_json_patch(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    patch(args, Out::Text, ctx)
}
pub fn f_jsonb_patch(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    patch(args, Out::Blob, ctx)
}

// ---- json_pretty() ------------------------------------------------------------------------

pub fn f_json_pretty(args: &[Value], _ctx: &mut FunctionContext<'_>) -> R {
    let Some((doc, _)) = parse_arg(arg(args, 0))? else {
        return Ok(Value::Null);
    };
    let indent: Vec<u8> = match args.get(1).and_then(value_text) {
        Some(t) => cstr(&t).to_vec(),
        None => b"    ".to_vec(),
    };
    let mut out = JsonOut::default();
    out.blob_to_pretty(&doc.blob, 0, &indent, 0);
    if out.malformed {
        return Err(malformed());
    }
    Ok(Value::Text(out.buf))
}

/// The value of json_each/json_tree's `value` column (argument 0) with the JSON subtype
/// when argument 1 (the row's hidden flag) is true.
pub fn f_with_subtype(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let v = arg(args, 0).clone();
    ctx.result_subtype = matches!(v, Value::Text(_)) && value_int64(arg(args, 1)) != 0;
    Ok(v)
}

/// NULL with no subtype: clears a register's JSON subtype flag before an expression that
/// may write it without a function call (see the compiler's `subtype_preclear`).
pub fn f_clear_subtype(_: &[Value], _: &mut FunctionContext<'_>) -> R {
    Ok(Value::Null)
}

/// Text with the JSON subtype as its JSONB (other values unchanged): how a GROUP BY
/// keeps a JSON aggregate's argument subtype through the sorter. JSON functions produce
/// canonical text, which the JSONB renders back byte for byte.
pub fn f_subtype_as_jsonb(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    match arg(args, 0) {
        Value::Text(t) if has_subtype(ctx, 0) => Ok(Value::Blob(string_as_blob(t))),
        v => Ok(v.clone()),
    }
}
