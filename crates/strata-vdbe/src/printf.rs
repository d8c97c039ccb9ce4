//! SQLite's printf engine (`sqlite3_str_vappendf` in `SQLITE_PRINTF_SQLFUNC` mode), used by
//! the `printf()`/`format()` SQL functions and, through [`format_float`], by every real ->
//! text conversion.
//!
//! Conversions: `%d %i %u %x %X %o %p %r %f %e %E %g %G %s %z %q %Q %w %c %n %%`; flags
//! `- + space 0 # , !`; width and precision, with `*` taking the next argument. SQLite
//! specifics reproduced: floats are decoded to at most 16 significant digits (26 with `!`)
//! and padded with zeros beyond that; `%q`/`%Q`/`%w` double quotes and `%Q` renders NULL as
//! `NULL`; `!` makes width/precision count UTF-8 characters; an unknown conversion ends
//! the output; the format and `%s` arguments are C strings (they stop at a NUL byte).

use strata_btree::record::Value;

use crate::conv::{cstr, value_double, value_int64, value_text};
use crate::numeric::fp_decode;

/// SQLite's `SQLITE_LIMIT_LENGTH` default: output beyond this makes `printf()` NULL.
pub const MAX_LENGTH: usize = 1_000_000_000;

const DIGITS_UPPER: &[u8; 16] = b"0123456789ABCDEF";
const DIGITS_LOWER: &[u8; 16] = b"0123456789abcdef";
const FP_PRECISION_LIMIT: i32 = 100_000_000;

/// Arguments consumed left to right; missing ones read as 0 / 0.0 / NULL like SQLite.
struct Args<'a> {
    args: &'a [Value],
    used: usize,
}

impl<'a> Args<'a> {
    fn next(&mut self) -> Option<&'a Value> {
        let v = self.args.get(self.used);
        if v.is_some() {
            self.used += 1;
        }
        v
    }
    fn int(&mut self) -> i64 {
        self.next().map_or(0, value_int64)
    }
    fn double(&mut self) -> f64 {
        self.next().map_or(0.0, value_double)
    }
    fn text(&mut self) -> Option<Vec<u8>> {
        self.next().and_then(value_text).map(|t| cstr(&t).to_vec())
    }
}

/// Appends `n` copies of `c`, or fails if the output would exceed [`MAX_LENGTH`].
fn pad(out: &mut Vec<u8>, n: i64, c: u8) -> Result<(), ()> {
    if n <= 0 {
        return Ok(());
    }
    // The accumulator holds at most MAX_LENGTH - 1 bytes (plus its terminator).
    if out.len() as i64 + n >= MAX_LENGTH as i64 {
        return Err(());
    }
    out.resize(out.len() + n as usize, c);
    Ok(())
}

/// Formats `fmt` with `args` like SQL `printf(fmt, args...)`. Returns None where SQLite's
/// result is NULL: the output exceeds the length limit, or nothing at all was appended
/// (SQLite's accumulator then never allocated its buffer, e.g. `printf('')` or a format
/// starting with an invalid conversion), as opposed to appending empty pieces
/// (`printf('%s', '')` is '').
pub fn sql_printf(fmt: &[u8], args: &[Value]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(fmt.len() + 16);
    let mut a = Args { args, used: 0 };
    match vappendf(&mut out, cstr(fmt), &mut a) {
        Ok(true) => Some(out),
        Ok(false) | Err(()) => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Radix,
    Decimal,
    Float,
    Exp,
    Generic,
    Size,
    String,
    Percent,
    Char,
    SqlEscape,
    SqlEscape2,
    SqlEscape3,
    Pointer,
    Ordinal,
    Internal,
    Invalid,
}

/// (kind, base, signed, uppercase digits, prefix) per conversion letter (SQLite's fmtinfo).
fn info(c: u8) -> (Kind, u64, bool, bool, &'static [u8]) {
    match c {
        b'd' | b'i' => (Kind::Decimal, 10, true, true, b""),
        b's' | b'z' => (Kind::String, 0, false, true, b""),
        b'g' => (Kind::Generic, 0, true, false, b""),
        b'q' => (Kind::SqlEscape, 0, false, true, b""),
        b'Q' => (Kind::SqlEscape2, 0, false, true, b""),
        b'w' => (Kind::SqlEscape3, 0, false, true, b""),
        b'c' => (Kind::Char, 0, false, true, b""),
        b'o' => (Kind::Radix, 8, false, true, b"0"),
        b'u' => (Kind::Decimal, 10, false, true, b""),
        b'x' => (Kind::Radix, 16, false, false, b"x0"),
        b'X' => (Kind::Radix, 16, false, true, b"X0"),
        b'f' => (Kind::Float, 0, true, true, b""),
        b'e' => (Kind::Exp, 0, true, false, b""),
        b'E' => (Kind::Exp, 0, true, true, b""),
        b'G' => (Kind::Generic, 0, true, true, b""),
        b'n' => (Kind::Size, 0, false, true, b""),
        b'%' => (Kind::Percent, 0, false, true, b""),
        b'p' => (Kind::Pointer, 16, false, true, b"x0"),
        b'T' | b'S' => (Kind::Internal, 0, false, true, b""),
        b'r' => (Kind::Ordinal, 10, true, true, b""),
        _ => (Kind::Invalid, 0, false, true, b""),
    }
}

/// Returns whether anything (even an empty piece) was appended.
fn vappendf(out: &mut Vec<u8>, fmt: &[u8], args: &mut Args) -> Result<bool, ()> {
    let mut touched = false;
    let at = |i: usize| -> u8 { fmt.get(i).copied().unwrap_or(0) };
    let mut f = 0usize;
    while f < fmt.len() {
        if fmt[f] != b'%' {
            let start = f;
            while f < fmt.len() && fmt[f] != b'%' {
                f += 1;
            }
            out.extend_from_slice(&fmt[start..f]);
            touched = true;
            if f >= fmt.len() {
                break;
            }
        }
        // fmt[f] == '%'
        f += 1;
        let mut c = at(f);
        if c == 0 {
            out.push(b'%');
            touched = true;
            break;
        }
        let mut left = false;
        let mut flag_prefix = 0u8;
        let mut alt = false;
        let mut alt2 = false;
        let mut zeropad = false;
        let mut thousand = false;
        let mut width: i64 = 0;
        let mut precision: i64 = -1;
        loop {
            let mut done = false;
            match c {
                b'-' => left = true,
                b'+' => flag_prefix = b'+',
                b' ' => flag_prefix = b' ',
                b'#' => alt = true,
                b'!' => alt2 = true,
                b'0' => zeropad = true,
                b',' => thousand = true,
                b'l' => {
                    f += 1;
                    c = at(f);
                    if c == b'l' {
                        f += 1;
                        c = at(f);
                    }
                    done = true;
                }
                b'1'..=b'9' => {
                    let mut wx: u32 = (c - b'0') as u32;
                    f += 1;
                    c = at(f);
                    while c.is_ascii_digit() {
                        wx = wx.wrapping_mul(10).wrapping_add((c - b'0') as u32);
                        f += 1;
                        c = at(f);
                    }
                    width = (wx & 0x7fff_ffff) as i64;
                    if c != b'.' && c != b'l' {
                        done = true;
                    } else {
                        f -= 1;
                    }
                }
                b'*' => {
                    let mut w = args.int() as i32 as i64;
                    if w < 0 {
                        left = true;
                        w = if w >= -2147483647 { -w } else { 0 };
                    }
                    width = w;
                    let nc = at(f + 1);
                    if nc != b'.' && nc != b'l' {
                        f += 1;
                        c = at(f);
                        done = true;
                    }
                }
                b'.' => {
                    f += 1;
                    c = at(f);
                    if c == b'*' {
                        let mut p = args.int() as i32 as i64;
                        if p < 0 {
                            p = if p >= -2147483647 { -p } else { -1 };
                        }
                        precision = p;
                        f += 1;
                        c = at(f);
                    } else {
                        let mut px: u32 = 0;
                        while c.is_ascii_digit() {
                            px = px.wrapping_mul(10).wrapping_add((c - b'0') as u32);
                            f += 1;
                            c = at(f);
                        }
                        precision = (px & 0x7fff_ffff) as i64;
                    }
                    if c == b'l' {
                        f -= 1;
                    } else {
                        done = true;
                    }
                }
                _ => done = true,
            }
            if done {
                break;
            }
            f += 1;
            c = at(f);
            if c == 0 {
                break;
            }
        }
        // `c` is the conversion letter at fmt[f]; the loop's `f += 1` moves past it.
        let (kind, base, signed, upper, prefix_str) = info(c);
        let mut buf: Vec<u8> = Vec::new();
        let mut adjust_utf8 = false;
        match kind {
            Kind::Radix | Kind::Decimal | Kind::Pointer | Kind::Ordinal => {
                if kind != Kind::Decimal {
                    thousand = false;
                }
                let mut prefix = 0u8;
                let mut longvalue: u64;
                if signed {
                    let v = args.int();
                    if v < 0 {
                        longvalue = v.unsigned_abs();
                        prefix = b'-';
                    } else {
                        longvalue = v as u64;
                        prefix = flag_prefix;
                    }
                } else {
                    longvalue = args.int() as u64;
                }
                if longvalue == 0 {
                    alt = false;
                }
                if zeropad && precision < width - (prefix != 0) as i64 {
                    precision = width - (prefix != 0) as i64;
                }
                // SQLite renders wide fields in a temporary buffer of precision+10 bytes
                // (+1/3 for commas), which fails as "too big" past the length limit.
                if precision >= 37
                    && precision + 10 + if thousand { precision / 3 } else { 0 } > MAX_LENGTH as i64
                {
                    return Err(());
                }
                // Built right to left, then reversed.
                let mut rev: Vec<u8> = Vec::with_capacity(24);
                if kind == Kind::Ordinal {
                    const ORD: &[u8; 8] = b"thstndrd";
                    let mut x = (longvalue % 10) as usize;
                    if x >= 4 || (longvalue / 10) % 10 == 1 {
                        x = 0;
                    }
                    rev.push(ORD[x * 2 + 1]);
                    rev.push(ORD[x * 2]);
                }
                let cset = if upper { DIGITS_UPPER } else { DIGITS_LOWER };
                loop {
                    rev.push(cset[(longvalue % base) as usize]);
                    longvalue /= base;
                    if longvalue == 0 {
                        break;
                    }
                }
                let mut length = rev.len() as i64;
                while precision > length {
                    rev.push(b'0');
                    length += 1;
                }
                if thousand {
                    let mut with = Vec::with_capacity(rev.len() + rev.len() / 3);
                    // SQLite inserts a comma every 3 characters counted from the right
                    // over the whole zero-padded field (ordinal suffix excluded: %r
                    // never has thousands).
                    for (k, &ch) in rev.iter().enumerate() {
                        if k > 0 && k % 3 == 0 {
                            with.push(b',');
                        }
                        with.push(ch);
                    }
                    rev = with;
                }
                if prefix != 0 {
                    rev.push(prefix);
                }
                if alt && !prefix_str.is_empty() {
                    rev.extend_from_slice(prefix_str);
                }
                rev.reverse();
                buf = rev;
            }
            Kind::Float | Kind::Exp | Kind::Generic => {
                let r = args.double();
                let conv = match kind {
                    Kind::Float => b'f',
                    Kind::Exp => {
                        if upper {
                            b'E'
                        } else {
                            b'e'
                        }
                    }
                    _ => {
                        if upper {
                            b'G'
                        } else {
                            b'g'
                        }
                    }
                };
                if precision < 0 {
                    precision = 6;
                }
                if precision > FP_PRECISION_LIMIT as i64 {
                    precision = FP_PRECISION_LIMIT as i64;
                }
                // Digits before the point (infinity renders at most ~1000 with `0`).
                let e_est = if r.abs() > 1.0 {
                    (r.abs().log10() as i64).min(1000) + 2
                } else {
                    0
                };
                if e_est + precision + width + 15 > MAX_LENGTH as i64 {
                    return Err(());
                }
                format_float(
                    &mut buf,
                    r,
                    conv,
                    precision as i32,
                    width as i32,
                    flag_prefix,
                    left,
                    zeropad,
                    alt2,
                    alt,
                    thousand,
                );
            }
            Kind::Size => {
                width = 0;
            }
            Kind::Percent => buf.push(b'%'),
            Kind::Char => {
                match args.text() {
                    Some(t) if !t.is_empty() => {
                        buf.push(t[0]);
                        if t[0] & 0xc0 == 0xc0 {
                            let mut k = 1;
                            while buf.len() < 4 && k < t.len() && t[k] & 0xc0 == 0x80 {
                                buf.push(t[k]);
                                k += 1;
                            }
                        }
                    }
                    // NULL (or empty text: its terminator) renders as one NUL byte.
                    _ => buf.push(0),
                }
                if precision > 1 {
                    width -= precision - 1;
                    if width > 1 && !left {
                        pad(out, width - 1, b' ')?;
                        width = 0;
                    }
                    let copies = precision - 1;
                    if out.len() as i64 + copies * buf.len() as i64 > MAX_LENGTH as i64 {
                        return Err(());
                    }
                    for _ in 0..copies {
                        out.extend_from_slice(&buf);
                    }
                }
                alt2 = true;
                adjust_utf8 = true;
            }
            Kind::String => {
                let t = args.text().unwrap_or_default();
                let length = if precision >= 0 {
                    if alt2 {
                        let mut z = 0usize;
                        let mut p = precision;
                        while p > 0 && z < t.len() {
                            p -= 1;
                            z += 1;
                            if t[z - 1] >= 0xc0 {
                                while z < t.len() && t[z] & 0xc0 == 0x80 {
                                    z += 1;
                                }
                            }
                        }
                        z
                    } else {
                        t.len().min(precision as usize)
                    }
                } else {
                    t.len()
                };
                buf = t;
                buf.truncate(length);
                adjust_utf8 = true;
            }
            Kind::SqlEscape | Kind::SqlEscape2 | Kind::SqlEscape3 => {
                let q = if kind == Kind::SqlEscape3 {
                    b'"'
                } else {
                    b'\''
                };
                let arg = args.text();
                let isnull = arg.is_none();
                let esc: Vec<u8> = match arg {
                    Some(t) => t,
                    None if kind == Kind::SqlEscape2 => b"NULL".to_vec(),
                    None => b"(NULL)".to_vec(),
                };
                let mut k = precision;
                let mut i = 0usize;
                while k != 0 && i < esc.len() {
                    if alt2 && esc[i] & 0xc0 == 0xc0 {
                        while i + 1 < esc.len() && esc[i + 1] & 0xc0 == 0x80 {
                            i += 1;
                        }
                    }
                    i += 1;
                    k -= 1;
                }
                let need_quote = !isnull && kind == Kind::SqlEscape2;
                buf.reserve(i + 3);
                if need_quote {
                    buf.push(q);
                }
                for &ch in &esc[..i] {
                    buf.push(ch);
                    if ch == q {
                        buf.push(ch);
                    }
                }
                if need_quote {
                    buf.push(q);
                }
                adjust_utf8 = true;
            }
            // %T and %S need internal structures: SQLite stops formatting there, as it
            // does for an unknown conversion.
            Kind::Internal | Kind::Invalid => return Ok(touched),
        }
        if adjust_utf8 && alt2 && width > 0 {
            width += buf.iter().filter(|&&b| b & 0xc0 == 0x80).count() as i64;
        }
        touched = true;
        let length = buf.len() as i64;
        width -= length;
        if width > 0 {
            if !left {
                pad(out, width, b' ')?;
            }
            out.extend_from_slice(&buf);
            if left {
                pad(out, width, b' ')?;
            }
        } else {
            out.extend_from_slice(&buf);
        }
        if out.len() >= MAX_LENGTH {
            return Err(());
        }
        f += 1;
    }
    Ok(touched)
}

/// Renders one floating-point conversion (`conv` in f e E g G) exactly as SQLite's
/// printf does, appending to `out`. Width is applied here only for zero padding (as in
/// SQLite, where space padding happens in the caller); pass `width = 0` for none.
#[allow(clippy::too_many_arguments)]
pub fn format_float(
    out: &mut Vec<u8>,
    realvalue: f64,
    conv: u8,
    precision: i32,
    width: i32,
    flag_prefix: u8,
    left: bool,
    zeropad: bool,
    alt2: bool,
    alt: bool,
    thousand: bool,
) {
    let mut precision = precision;
    let mut xtype = conv.to_ascii_lowercase();
    let upper = conv.is_ascii_uppercase();
    let iround = match xtype {
        b'f' => -precision,
        b'g' => {
            if precision == 0 {
                precision = 1;
            }
            precision
        }
        _ => precision + 1,
    };
    let s = fp_decode(realvalue, iround, if alt2 { 26 } else { 16 });
    let mut digits: &[u8] = s.digits();
    let mut i_dp = s.i_dp;
    let nine = [b'9'];
    if s.is_special != 0 {
        if s.is_special == 2 {
            out.extend_from_slice(if zeropad { b"null" } else { b"NaN" });
            return;
        } else if zeropad {
            digits = &nine;
            i_dp = 1000;
        } else {
            if s.sign == b'-' {
                out.extend_from_slice(b"-Inf");
            } else {
                if flag_prefix != 0 {
                    out.push(flag_prefix);
                }
                out.extend_from_slice(b"Inf");
            }
            return;
        }
    }
    let prefix = if s.sign == b'-' { b'-' } else { flag_prefix };
    let start = out.len();
    let flag_rtz;
    if xtype == b'g' {
        let exp = i_dp - 1;
        precision -= 1;
        flag_rtz = !alt;
        if exp < -4 || exp > precision {
            xtype = b'e';
        } else {
            precision -= exp;
            xtype = b'f';
        }
    } else {
        flag_rtz = alt2;
    }
    let mut e2: i32 = if xtype == b'e' { 0 } else { i_dp - 1 };
    let flag_dp = precision > 0 || alt || alt2;
    if prefix != 0 {
        out.push(prefix);
    }
    let mut j = 0usize;
    let n = digits.len();
    let next_digit = |j: &mut usize| -> u8 {
        if *j < n {
            *j += 1;
            digits[*j - 1]
        } else {
            b'0'
        }
    };
    if e2 < 0 {
        out.push(b'0');
    } else {
        while e2 >= 0 {
            out.push(next_digit(&mut j));
            if thousand && e2 % 3 == 0 && e2 > 1 {
                out.push(b',');
            }
            e2 -= 1;
        }
    }
    if flag_dp {
        out.push(b'.');
    }
    e2 += 1;
    while e2 < 0 && precision > 0 {
        out.push(b'0');
        precision -= 1;
        e2 += 1;
    }
    while precision > 0 {
        out.push(next_digit(&mut j));
        precision -= 1;
    }
    if flag_rtz && flag_dp {
        while out.len() > start && out[out.len() - 1] == b'0' {
            out.pop();
        }
        if out.last() == Some(&b'.') {
            if alt2 {
                out.push(b'0');
            } else {
                out.pop();
            }
        }
    }
    if xtype == b'e' {
        let mut exp = i_dp - 1;
        out.push(if upper { b'E' } else { b'e' });
        if exp < 0 {
            out.push(b'-');
            exp = -exp;
        } else {
            out.push(b'+');
        }
        if exp >= 100 {
            out.push(b'0' + (exp / 100) as u8);
            exp %= 100;
        }
        out.push(b'0' + (exp / 10) as u8);
        out.push(b'0' + (exp % 10) as u8);
    }
    let length = (out.len() - start) as i32;
    if zeropad && !left && length < width {
        let npad = (width - length) as usize;
        let at = start + (prefix != 0) as usize;
        out.splice(at..at, std::iter::repeat_n(b'0', npad));
    }
}
