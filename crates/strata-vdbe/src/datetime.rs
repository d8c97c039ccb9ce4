//! SQLite's date and time functions, ported from `date.c` (SQLite 3.46): `date()`,
//! `time()`, `datetime()`, `julianday()`, `unixepoch()`, `strftime()`, `timediff()` and
//! the `current_date` / `current_time` / `current_timestamp` functions behind the SQL
//! keywords.
//!
//! Every time value is held as SQLite holds it: a julian day number times 86,400,000
//! (milliseconds since noon UTC on 4714-11-24 BC, proleptic Gregorian), with broken-down
//! year/month/day and hour/minute/second computed on demand and "valid" flags saying
//! which representation is current. The parsing, every modifier and every output format
//! follow SQLite's code step by step, including its quirks (day-of-month overflow is
//! normalized only for a bare date string, `weekday N` works on the local date, a
//! 5-digit `+YYYYY-MM-DD` modifier, `julianday`/`unixepoch`/`auto` only as the first
//! modifier...), so results are byte-identical, NULL where SQLite gives NULL.
//!
//! Two things differ from a stock SQLite build, by design:
//!
//! * **`'now'` comes from the caller.** The functions never read a clock: the VM puts the
//!   statement's current time (from the IO layer, once per step, as SQLite's
//!   `sqlite3StmtCurrentTime` does) in [`FunctionContext::now_ms`]. When it is `None`,
//!   `'now'` (and `date()` with no arguments) yields NULL, as SQLite does when the VFS
//!   cannot tell the time.
//! * **Local time is UTC.** There is no timezone database, so `localtime` and `utc`
//!   behave exactly as SQLite does on a host whose timezone is UTC (`TZ=UTC`), including
//!   SQLite's mapping of years outside 1970-2037 into that range around the conversion.
//!
//! SQLite refuses `'now'`, `subsec`, `localtime`, `utc` and no argument in CHECK
//! constraints, index expressions, partial index WHEREs and generated columns, when the
//! function runs ("non-deterministic use of date() in a generated column"): the call's
//! [`FunctionContext::pure`] says it is in one, and [`not_pure`] flags such a use for
//! the VM to fail the statement with that message.

use strata_btree::record::Value;

use crate::conv::{cstr, value_double, value_text};
use crate::functions::{FunctionContext, FunctionError};
use crate::numeric::{atof, is_space};
use crate::printf::{format_float, MAX_LENGTH};

type R = Result<Value, FunctionError>;

/// Julian day of 1970-01-01 00:00:00, in milliseconds.
const UNIX_EPOCH_JD_MS: i64 = 210_866_760_000_000;

/// The julian day number of 9999-12-31 23:59:59.999, in milliseconds.
const MAX_JD_MS: i64 = 464_269_060_799_999;

/// SQLite's `DateTime`.
#[derive(Clone, Copy, Default, Debug)]
struct DateTime {
    /// The julian day number times 86400000.
    i_jd: i64,
    y: i32,
    mo: i32,
    d: i32,
    h: i32,
    mi: i32,
    /// Timezone offset in minutes.
    tz: i32,
    s: f64,
    valid_jd: bool,
    valid_ymd: bool,
    valid_hms: bool,
    /// Days to subtract for the "floor" modifier.
    n_floor: i32,
    /// A raw number is stored in `s`.
    raw_s: bool,
    is_error: bool,
    use_subsec: bool,
    is_utc: bool,
    is_local: bool,
}

/// Byte `i` of a C string, 0 past its end.
#[inline]
fn at(z: &[u8], i: usize) -> u8 {
    z.get(i).copied().unwrap_or(0)
}

#[inline]
fn is_digit(c: u8) -> bool {
    c.is_ascii_digit()
}

/// `sqlite3_stricmp` on C strings: ASCII case-insensitive equality.
#[inline]
fn eq_ic(a: &[u8], b: &[u8]) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// `sqlite3_strnicmp(a, b, n) == 0` where `b` has at least `n` bytes.
#[inline]
fn starts_ic(z: &[u8], prefix: &[u8]) -> bool {
    z.len() >= prefix.len() && z[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// One `getDigits` conversion: `n` digits, value in `min..=max`, followed by `sep` (or
/// anything, when `sep` is 0, which ends the list).
#[derive(Clone, Copy)]
struct Dig {
    n: usize,
    min: i32,
    max: i32,
    sep: u8,
}

const fn dig(n: usize, min: i32, max: i32, sep: u8) -> Dig {
    Dig { n, min, max, sep }
}

/// `getDigits`: converts fixed-width digit groups, returning how many succeeded.
fn get_digits(z: &[u8], specs: &[Dig], out: &mut [i32]) -> usize {
    let mut pos = 0usize;
    let mut cnt = 0usize;
    for spec in specs {
        let mut val = 0i32;
        for _ in 0..spec.n {
            let c = at(z, pos);
            if !is_digit(c) {
                return cnt;
            }
            val = val * 10 + (c - b'0') as i32;
            pos += 1;
        }
        if val < spec.min || val > spec.max || (spec.sep != 0 && spec.sep != at(z, pos)) {
            return cnt;
        }
        out[cnt] = val;
        pos += 1;
        cnt += 1;
        if spec.sep == 0 {
            break;
        }
    }
    cnt
}

// The year maximum in SQLite's table is 14712 (format letter 'f').
const HH_MM: [Dig; 2] = [dig(2, 0, 24, b':'), dig(2, 0, 59, 0)];
const TZ_HH_MM: [Dig; 2] = [dig(2, 0, 14, b':'), dig(2, 0, 59, 0)];
const SS: [Dig; 1] = [dig(2, 0, 59, 0)];
const YMD: [Dig; 3] = [
    dig(4, 0, 14712, b'-'),
    dig(2, 1, 12, b'-'),
    dig(2, 1, 31, 0),
];
const YMD_DELTA4: [Dig; 3] = [
    dig(4, 0, 14712, b'-'),
    dig(2, 0, 12, b'-'),
    dig(2, 0, 31, 0),
];
const YMD_DELTA5: [Dig; 3] = [
    dig(5, 0, 14712, b'-'),
    dig(2, 0, 12, b'-'),
    dig(2, 0, 31, 0),
];
const Y4: [Dig; 1] = [dig(4, 0, 14712, 0)];
const Y5: [Dig; 1] = [dig(5, 0, 14712, 0)];

/// `parseTimezone`: an optional `[+-]HH:MM` or `Z` suffix, then only spaces. Returns
/// true on a parse error.
fn parse_timezone(z: &[u8], p: &mut DateTime) -> bool {
    let mut i = 0;
    while is_space(at(z, i)) {
        i += 1;
    }
    p.tz = 0;
    let sgn = match at(z, i) {
        b'-' => -1,
        b'+' => 1,
        b'Z' | b'z' => {
            i += 1;
            p.is_local = false;
            p.is_utc = true;
            while is_space(at(z, i)) {
                i += 1;
            }
            return at(z, i) != 0;
        }
        c => return c != 0,
    };
    i += 1;
    let mut v = [0i32; 2];
    if get_digits(&z[i.min(z.len())..], &TZ_HH_MM, &mut v) != 2 {
        return true;
    }
    i += 5;
    p.tz = sgn * (v[1] + v[0] * 60);
    while is_space(at(z, i)) {
        i += 1;
    }
    at(z, i) != 0
}

/// `parseHhMmSs`: `HH:MM`, `HH:MM:SS` or `HH:MM:SS.FFFF`, then an optional timezone.
/// Returns true on a parse error.
fn parse_hh_mm_ss(z: &[u8], p: &mut DateTime) -> bool {
    let mut v = [0i32; 2];
    if get_digits(z, &HH_MM, &mut v) != 2 {
        return true;
    }
    let (h, m) = (v[0], v[1]);
    let mut i = 5;
    let mut s = 0;
    let mut ms = 0.0f64;
    if at(z, i) == b':' {
        i += 1;
        let mut sv = [0i32; 1];
        if get_digits(&z[i.min(z.len())..], &SS, &mut sv) != 1 {
            return true;
        }
        s = sv[0];
        i += 2;
        if at(z, i) == b'.' && is_digit(at(z, i + 1)) {
            let mut r_scale = 1.0f64;
            i += 1;
            while is_digit(at(z, i)) {
                // C: ms*10.0 + *zDate - '0', evaluated left to right.
                ms = ms * 10.0 + at(z, i) as f64 - b'0' as f64;
                r_scale *= 10.0;
                i += 1;
            }
            ms /= r_scale;
        }
    }
    p.valid_jd = false;
    p.raw_s = false;
    p.valid_hms = true;
    p.h = h;
    p.mi = m;
    p.s = s as f64 + ms;
    parse_timezone(&z[i.min(z.len())..], p)
}

/// `datetimeError`.
fn datetime_error(p: &mut DateTime) {
    *p = DateTime {
        is_error: true,
        ..DateTime::default()
    };
}

/// `computeJD`: Y-M-D h:m:s (and timezone) to the julian day (Meeus, p. 61).
fn compute_jd(p: &mut DateTime) {
    if p.valid_jd {
        return;
    }
    let (mut y, mut m, d) = if p.valid_ymd {
        (p.y, p.mo, p.d)
    } else {
        (2000, 1, 1)
    };
    if !(-4713..=9999).contains(&y) || p.raw_s {
        datetime_error(p);
        return;
    }
    if m <= 2 {
        y -= 1;
        m += 12;
    }
    let a = y / 100;
    let b = 2 - a + (a / 4);
    let x1 = 36525 * (y + 4716) / 100;
    let x2 = 306001 * (m + 1) / 10000;
    p.i_jd = (((x1 + x2 + d + b) as f64 - 1524.5) * 86_400_000.0) as i64;
    p.valid_jd = true;
    if p.valid_hms {
        let hms = p.h as i64 * 3_600_000 + p.mi as i64 * 60_000 + (p.s * 1000.0 + 0.5) as i64;
        p.i_jd = p.i_jd.wrapping_add(hms);
        if p.tz != 0 {
            p.i_jd = p.i_jd.wrapping_sub(p.tz as i64 * 60_000);
            p.valid_ymd = false;
            p.valid_hms = false;
            p.tz = 0;
            p.is_utc = true;
            p.is_local = false;
        }
    }
}

/// `computeFloor`: how many days past the end of the month Y-M-D is.
fn compute_floor(p: &mut DateTime) {
    let m = p.mo.clamp(0, 31) as u32;
    if p.d <= 28 || (1u32 << m) & 0x15aa != 0 {
        p.n_floor = 0;
    } else if p.mo != 2 {
        p.n_floor = (p.d == 31) as i32;
    } else if p.y % 4 != 0 || (p.y % 100 == 0 && p.y % 400 != 0) {
        p.n_floor = p.d - 28;
    } else {
        p.n_floor = p.d - 29;
    }
}

/// `parseYyyyMmDd`: `[-]YYYY-MM-DD` optionally followed (after spaces or `T`s) by a
/// time. Returns true on a parse error.
fn parse_yyyy_mm_dd(z: &[u8], p: &mut DateTime) -> bool {
    let (neg, z) = if at(z, 0) == b'-' {
        (true, &z[1..])
    } else {
        (false, z)
    };
    let mut v = [0i32; 3];
    if get_digits(z, &YMD, &mut v) != 3 {
        return true;
    }
    let mut i = 10;
    while is_space(at(z, i)) || at(z, i) == b'T' {
        i += 1;
    }
    let rest = &z[i.min(z.len())..];
    if !parse_hh_mm_ss(rest, p) {
        // Got the time.
    } else if rest.is_empty() {
        p.valid_hms = false;
    } else {
        return true;
    }
    p.valid_jd = false;
    p.valid_ymd = true;
    p.y = if neg { -v[0] } else { v[0] };
    p.mo = v[1];
    p.d = v[2];
    compute_floor(p);
    if p.tz != 0 {
        compute_jd(p);
    }
    false
}

/// Whether the function named `name` (lowercase) may read the current time.
pub fn reads_clock(name: &str) -> bool {
    matches!(
        name,
        "date"
            | "time"
            | "datetime"
            | "julianday"
            | "unixepoch"
            | "strftime"
            | "timediff"
            | "current_date"
            | "current_time"
            | "current_timestamp"
    )
}

/// `sqlite3NotPureFunc`: true if the clock or the local timezone may be read here;
/// otherwise flags the call (the VM fails the statement) and returns false.
fn not_pure(ctx: &FunctionContext<'_>) -> bool {
    if ctx.pure {
        ctx.impure_use.set(true);
        return false;
    }
    true
}

/// `setDateTimeToCurrent`. Returns true on error (no current time).
fn set_to_current(ctx: &FunctionContext<'_>, p: &mut DateTime) -> bool {
    let jd = match ctx.now_ms {
        Some(ms) => ms.wrapping_add(UNIX_EPOCH_JD_MS),
        None => 0,
    };
    p.i_jd = jd;
    if jd > 0 {
        p.valid_jd = true;
        p.is_utc = true;
        p.is_local = false;
        clear_ymd_hms_tz(p);
        false
    } else {
        true
    }
}

/// `setRawDateNumber`: a number that may be a julian day or a unix time.
fn set_raw_date_number(p: &mut DateTime, r: f64) {
    p.s = r;
    p.raw_s = true;
    if (0.0..5_373_484.5).contains(&r) {
        p.i_jd = (r * 86_400_000.0 + 0.5) as i64;
        p.valid_jd = true;
    }
}

/// `parseDateOrTime`. Returns true on a parse error.
fn parse_date_or_time(ctx: &FunctionContext<'_>, z: &[u8], p: &mut DateTime) -> bool {
    if !parse_yyyy_mm_dd(z, p) {
        return false;
    }
    if !parse_hh_mm_ss(z, p) {
        return false;
    }
    if eq_ic(z, b"now") && not_pure(ctx) {
        return set_to_current(ctx, p);
    }
    let (r, kind) = atof(z);
    if kind.is_number() {
        set_raw_date_number(p, r);
        return false;
    }
    if (eq_ic(z, b"subsec") || eq_ic(z, b"subsecond")) && not_pure(ctx) {
        p.use_subsec = true;
        return set_to_current(ctx, p);
    }
    true
}

/// `validJulianDay`.
#[inline]
fn valid_julian_day(jd: i64) -> bool {
    (0..=MAX_JD_MS).contains(&jd)
}

/// `computeYMD`: the julian day to Y-M-D.
fn compute_ymd(p: &mut DateTime) {
    if p.valid_ymd {
        return;
    }
    if !p.valid_jd {
        p.y = 2000;
        p.mo = 1;
        p.d = 1;
    } else if !valid_julian_day(p.i_jd) {
        datetime_error(p);
        return;
    } else {
        let z = ((p.i_jd + 43_200_000) / 86_400_000) as i32;
        let a = ((z as f64 - 1_867_216.25) / 36_524.25) as i32;
        let a = z + 1 + a - (a / 4);
        let b = a + 1524;
        let c = ((b as f64 - 122.1) / 365.25) as i32;
        let d = (36525 * (c & 32767)) / 100;
        let e = ((b - d) as f64 / 30.6001) as i32;
        let x1 = (30.6001 * e as f64) as i32;
        p.d = b - d - x1;
        p.mo = if e < 14 { e - 1 } else { e - 13 };
        p.y = if p.mo > 2 { c - 4716 } else { c - 4715 };
    }
    p.valid_ymd = true;
}

/// `computeHMS`: the julian day to h:m:s.
fn compute_hms(p: &mut DateTime) {
    if p.valid_hms {
        return;
    }
    compute_jd(p);
    let day_ms = (p.i_jd.wrapping_add(43_200_000) % 86_400_000) as i32;
    p.s = (day_ms % 60_000) as f64 / 1000.0;
    let day_min = day_ms / 60_000;
    p.mi = day_min % 60;
    p.h = day_min / 60;
    p.raw_s = false;
    p.valid_hms = true;
}

fn compute_ymd_hms(p: &mut DateTime) {
    compute_ymd(p);
    compute_hms(p);
}

fn clear_ymd_hms_tz(p: &mut DateTime) {
    p.valid_ymd = false;
    p.valid_hms = false;
    p.tz = 0;
}

/// `gmtime`: Unix seconds to (year, month 1-12, day, hour, minute, second).
fn gmtime(t: i64) -> (i64, i32, i32, i32, i32, i32) {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400) as i32;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as i32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as i32;
    let y = yoe + era * 400 + (m <= 2) as i64;
    (y, m, d, secs / 3600, secs / 60 % 60, secs % 60)
}

/// `toLocaltime`, with UTC as the local timezone: SQLite's code path (including the
/// mapping of years outside 1970..2038 into that range) with `localtime_r` replaced by
/// `gmtime`.
fn to_localtime(p: &mut DateTime) {
    compute_jd(p);
    let (t, year_diff) = if p.i_jd < 2_108_667_600 * 100_000 || p.i_jd > 2_130_141_456 * 100_000 {
        let mut x = *p;
        compute_ymd_hms(&mut x);
        let year_diff = (2000 + x.y % 4) - x.y;
        x.y += year_diff;
        x.valid_jd = false;
        compute_jd(&mut x);
        (x.i_jd / 1000 - 21_086_676 * 10_000, year_diff)
    } else {
        (p.i_jd / 1000 - 21_086_676 * 10_000, 0)
    };
    let (y, m, d, hh, mm, ss) = gmtime(t);
    p.y = (y as i32).wrapping_sub(year_diff);
    p.mo = m;
    p.d = d;
    p.h = hh;
    p.mi = mm;
    p.s = ss as f64 + (p.i_jd % 1000) as f64 * 0.001;
    p.valid_ymd = true;
    p.valid_hms = true;
    p.valid_jd = false;
    p.raw_s = false;
    p.tz = 0;
    p.is_error = false;
}

/// The `NNN unit` modifiers: name, limit on NNN, seconds per unit. SQLite declares the
/// limit and factor as `float`; the values are those floats widened to double.
const XFORM: [(&[u8], f32, f32); 6] = [
    (b"second", 4.6427e14, 1.0),
    (b"minute", 7.7379e12, 60.0),
    (b"hour", 1.2897e11, 3600.0),
    (b"day", 5_373_485.0, 86_400.0),
    (b"month", 176_546.0, 30.0 * 86_400.0),
    (b"year", 14_713.0, 365.0 * 86_400.0),
];

/// `autoAdjustDate`.
fn auto_adjust_date(p: &mut DateTime) {
    if !p.raw_s || p.valid_jd {
        p.raw_s = false;
    } else if p.s >= -21_086_676.0 * 10_000.0 && p.s <= (25_340_230.0 * 10_000.0) + 799.0 {
        let r = p.s * 1000.0 + 210_866_760_000_000.0;
        clear_ymd_hms_tz(p);
        p.i_jd = (r + 0.5) as i64;
        p.valid_jd = true;
        p.raw_s = false;
    }
}

/// Normalizes a month number into 1..=12, carrying into the year.
fn normalize_month(p: &mut DateTime) {
    let x = if p.mo > 0 {
        (p.mo - 1) / 12
    } else {
        (p.mo - 12) / 12
    };
    p.y = p.y.wrapping_add(x);
    p.mo -= x * 12;
}

/// `parseModifier`: applies one modifier (a C string). `idx` is the argument position
/// (1 for the first modifier). Returns true on error (unknown or inapplicable modifier).
fn parse_modifier(ctx: &FunctionContext<'_>, z: &[u8], p: &mut DateTime, idx: usize) -> bool {
    let mut rc = true;
    match at(z, 0).to_ascii_lowercase() {
        b'a' => {
            if eq_ic(z, b"auto") {
                if idx > 1 {
                    return true;
                }
                auto_adjust_date(p);
                rc = false;
            }
        }
        b'c' => {
            if eq_ic(z, b"ceiling") {
                compute_jd(p);
                clear_ymd_hms_tz(p);
                rc = false;
                p.n_floor = 0;
            }
        }
        b'f' => {
            if eq_ic(z, b"floor") {
                compute_jd(p);
                p.i_jd = p.i_jd.wrapping_sub(p.n_floor as i64 * 86_400_000);
                clear_ymd_hms_tz(p);
                rc = false;
            }
        }
        b'j' => {
            if eq_ic(z, b"julianday") {
                if idx > 1 {
                    return true;
                }
                if p.valid_jd && p.raw_s {
                    rc = false;
                    p.raw_s = false;
                }
            }
        }
        b'l' => {
            if eq_ic(z, b"localtime") && not_pure(ctx) {
                if !p.is_local {
                    to_localtime(p);
                }
                rc = false;
                p.is_utc = false;
                p.is_local = true;
            }
        }
        b'u' => {
            if eq_ic(z, b"unixepoch") && p.raw_s {
                if idx > 1 {
                    return true;
                }
                let r = p.s * 1000.0 + 210_866_760_000_000.0;
                if (0.0..464_269_060_800_000.0).contains(&r) {
                    clear_ymd_hms_tz(p);
                    p.i_jd = (r + 0.5) as i64;
                    p.valid_jd = true;
                    p.raw_s = false;
                    rc = false;
                }
            } else if eq_ic(z, b"utc") && not_pure(ctx) {
                if !p.is_utc {
                    compute_jd(p);
                    let orig = p.i_jd;
                    let mut guess = orig;
                    let mut err = 0i64;
                    let mut cnt = 0;
                    loop {
                        let mut new = DateTime::default();
                        guess = guess.wrapping_sub(err);
                        new.i_jd = guess;
                        new.valid_jd = true;
                        to_localtime(&mut new);
                        compute_jd(&mut new);
                        err = new.i_jd.wrapping_sub(orig);
                        let again = err != 0 && cnt < 3;
                        cnt += 1;
                        if !again {
                            break;
                        }
                    }
                    *p = DateTime {
                        i_jd: guess,
                        valid_jd: true,
                        is_utc: true,
                        ..DateTime::default()
                    };
                }
                rc = false;
            }
        }
        b'w' => {
            if starts_ic(z, b"weekday ") {
                let (r, kind) = atof(&z[8..]);
                if kind.is_number() && (0.0..7.0).contains(&r) && (r as i32) as f64 == r {
                    let n = r as i64;
                    compute_ymd_hms(p);
                    p.tz = 0;
                    p.valid_jd = false;
                    compute_jd(p);
                    let mut zd = (p.i_jd.wrapping_add(129_600_000) / 86_400_000) % 7;
                    if zd > n {
                        zd -= 7;
                    }
                    p.i_jd = p.i_jd.wrapping_add((n - zd) * 86_400_000);
                    clear_ymd_hms_tz(p);
                    rc = false;
                }
            }
        }
        b's' => {
            if !starts_ic(z, b"start of ") {
                if eq_ic(z, b"subsec") || eq_ic(z, b"subsecond") {
                    p.use_subsec = true;
                    rc = false;
                }
                return rc;
            }
            if !p.valid_jd && !p.valid_ymd && !p.valid_hms {
                return rc;
            }
            let unit = &z[9..];
            compute_ymd(p);
            p.valid_hms = true;
            p.h = 0;
            p.mi = 0;
            p.s = 0.0;
            p.raw_s = false;
            p.tz = 0;
            p.valid_jd = false;
            if eq_ic(unit, b"month") {
                p.d = 1;
                rc = false;
            } else if eq_ic(unit, b"year") {
                p.mo = 1;
                p.d = 1;
                rc = false;
            } else if eq_ic(unit, b"day") {
                rc = false;
            }
        }
        b'+' | b'-' | b'0'..=b'9' => {
            rc = modifier_number(z, p);
        }
        _ => {}
    }
    rc
}

/// The numeric modifiers: `±YYYY-MM-DD[ HH:MM[:SS[.SSS]]]`, `±HH:MM[:SS[.SSS]]` and
/// `NNN unit`. Returns true on error.
fn modifier_number(z: &[u8], p: &mut DateTime) -> bool {
    let z0 = at(z, 0);
    let mut n = 1usize;
    let mut tmp = [0i32; 3];
    while at(z, n) != 0 {
        let c = at(z, n);
        if c == b':' || is_space(c) {
            break;
        }
        if c == b'-' {
            if n == 5 && get_digits(&z[1..], &Y4, &mut tmp) == 1 {
                break;
            }
            if n == 6 && get_digits(&z[1..], &Y5, &mut tmp) == 1 {
                break;
            }
        }
        n += 1;
    }
    let (mut r, kind) = atof(&z[..n.min(z.len())]);
    if !kind.is_number() {
        return true;
    }
    // `z2` is where a time of day starts, `n2` the offset of its ':' within it.
    let mut z2: &[u8] = z;
    let mut n2 = n;
    if at(z, n) == b'-' {
        // (+|-)YYYY-MM-DD adds or subtracts years, months (0-11) and days (0-30).
        if z0 != b'+' && z0 != b'-' {
            return true;
        }
        let mut v = [0i32; 3];
        let mut zz = z;
        if n == 5 {
            if get_digits(&z[1..], &YMD_DELTA4, &mut v) != 3 {
                return true;
            }
        } else {
            if get_digits(&z[1..], &YMD_DELTA5, &mut v) != 3 {
                return true;
            }
            zz = &z[1..];
        }
        let (y, m, mut d) = (v[0], v[1], v[2]);
        if m >= 12 || d >= 31 {
            return true;
        }
        compute_ymd_hms(p);
        p.valid_jd = false;
        if z0 == b'-' {
            p.y = p.y.wrapping_sub(y);
            p.mo -= m;
            d = -d;
        } else {
            p.y = p.y.wrapping_add(y);
            p.mo += m;
        }
        normalize_month(p);
        compute_floor(p);
        compute_jd(p);
        p.valid_hms = false;
        p.valid_ymd = false;
        p.i_jd = p.i_jd.wrapping_add(d as i64 * 86_400_000);
        if at(zz, 11) == 0 {
            return false;
        }
        let mut hm = [0i32; 2];
        if is_space(at(zz, 11)) && zz.len() > 12 && get_digits(&zz[12..], &HH_MM, &mut hm) == 2 {
            z2 = &zz[12..];
            n2 = 2;
        } else {
            return true;
        }
    }
    if at(z2, n2) == b':' {
        // (+|-)HH:MM[:SS[.FFF]] adds or subtracts a time of day.
        if !is_digit(at(z2, 0)) {
            z2 = &z2[1..];
        }
        let mut tx = DateTime::default();
        if parse_hh_mm_ss(z2, &mut tx) {
            return true;
        }
        compute_jd(&mut tx);
        tx.i_jd -= 43_200_000;
        let day = tx.i_jd / 86_400_000;
        tx.i_jd -= day * 86_400_000;
        if z0 == b'-' {
            tx.i_jd = -tx.i_jd;
        }
        compute_jd(p);
        clear_ymd_hms_tz(p);
        p.i_jd = p.i_jd.wrapping_add(tx.i_jd);
        return false;
    }

    // "NNN unit".
    let mut i = n;
    while is_space(at(z, i)) {
        i += 1;
    }
    let unit = &z[i.min(z.len())..];
    let mut len = unit.len();
    if !(3..=10).contains(&len) {
        return true;
    }
    if unit[len - 1].to_ascii_lowercase() == b's' {
        len -= 1;
    }
    let unit = &unit[..len];
    compute_jd(p);
    let rounder = if r < 0.0 { -0.5 } else { 0.5 };
    p.n_floor = 0;
    let mut rc = true;
    for (k, &(name, limit, xform)) in XFORM.iter().enumerate() {
        let limit = limit as f64;
        if name.len() == len && name.eq_ignore_ascii_case(unit) && r > -limit && r < limit {
            match k {
                4 => {
                    compute_ymd_hms(p);
                    p.mo = p.mo.wrapping_add(r as i32);
                    normalize_month(p);
                    compute_floor(p);
                    p.valid_jd = false;
                    r -= (r as i32) as f64;
                }
                5 => {
                    let y = r as i32;
                    compute_ymd_hms(p);
                    p.y = p.y.wrapping_add(y);
                    compute_floor(p);
                    p.valid_jd = false;
                    r -= (r as i32) as f64;
                }
                _ => {}
            }
            compute_jd(p);
            p.i_jd = p
                .i_jd
                .wrapping_add((r * 1000.0 * xform as f64 + rounder) as i64);
            rc = false;
            break;
        }
    }
    clear_ymd_hms_tz(p);
    rc
}

/// `isDate`: parses the time value `args[0]` and applies the modifiers `args[1..]`.
/// With no arguments the time is 'now'. None means the result is NULL.
fn is_date(args: &[Value], ctx: &FunctionContext<'_>) -> Option<DateTime> {
    let mut p = DateTime::default();
    if args.is_empty() {
        if !not_pure(ctx) {
            return None;
        }
        return if set_to_current(ctx, &mut p) {
            None
        } else {
            Some(p)
        };
    }
    match &args[0] {
        v @ (Value::Integer(_) | Value::Real(_)) => set_raw_date_number(&mut p, value_double(v)),
        v => {
            let z = value_text(v)?;
            if parse_date_or_time(ctx, cstr(&z), &mut p) {
                return None;
            }
        }
    }
    for (i, a) in args.iter().enumerate().skip(1) {
        let z = value_text(a)?;
        if parse_modifier(ctx, cstr(&z), &mut p, i) {
            return None;
        }
    }
    compute_jd(&mut p);
    if p.is_error || !valid_julian_day(p.i_jd) {
        return None;
    }
    if args.len() == 1 && p.valid_ymd && p.d > 28 {
        // A bare YYYY-MM-DD is normalized: 2023-02-31 -> 2023-03-03.
        p.valid_ymd = false;
    }
    Some(p)
}

/// `'0' + v` as C computes it into a `char`.
#[inline]
fn digit(v: i32) -> u8 {
    (b'0' as i32).wrapping_add(v) as u8
}

fn push_ymd(out: &mut Vec<u8>, x: &DateTime) {
    let y = x.y.wrapping_abs();
    if x.y < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&[
        digit((y / 1000) % 10),
        digit((y / 100) % 10),
        digit((y / 10) % 10),
        digit(y % 10),
        b'-',
        digit((x.mo / 10) % 10),
        digit(x.mo % 10),
        b'-',
        digit((x.d / 10) % 10),
        digit(x.d % 10),
    ]);
}

fn push_hms(out: &mut Vec<u8>, x: &DateTime) {
    out.extend_from_slice(&[
        digit((x.h / 10) % 10),
        digit(x.h % 10),
        b':',
        digit((x.mi / 10) % 10),
        digit(x.mi % 10),
        b':',
    ]);
    if x.use_subsec {
        let s = (1000.0 * x.s + 0.5) as i32;
        out.extend_from_slice(&[
            digit((s / 10000) % 10),
            digit((s / 1000) % 10),
            b'.',
            digit((s / 100) % 10),
            digit((s / 10) % 10),
            digit(s % 10),
        ]);
    } else {
        let s = x.s as i32;
        out.extend_from_slice(&[digit((s / 10) % 10), digit(s % 10)]);
    }
}

/// `julianday(TIMEVALUE, MODIFIER...)`: the julian day number, a REAL.
pub fn f_julianday(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    Ok(match is_date(args, ctx) {
        Some(x) => Value::Real(x.i_jd as f64 / 86_400_000.0),
        None => Value::Null,
    })
}

/// `unixepoch(TIMEVALUE, MODIFIER...)`: seconds since 1970, an INTEGER (a REAL with
/// millisecond precision after the `subsec` modifier).
pub fn f_unixepoch(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    Ok(match is_date(args, ctx) {
        Some(x) if x.use_subsec => Value::Real((x.i_jd - UNIX_EPOCH_JD_MS) as f64 / 1000.0),
        Some(x) => Value::Integer(x.i_jd / 1000 - UNIX_EPOCH_JD_MS / 1000),
        None => Value::Null,
    })
}

/// `datetime(TIMEVALUE, MODIFIER...)`: `YYYY-MM-DD HH:MM:SS[.SSS]`.
pub fn f_datetime(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let Some(mut x) = is_date(args, ctx) else {
        return Ok(Value::Null);
    };
    compute_ymd_hms(&mut x);
    let mut out = Vec::with_capacity(24);
    push_ymd(&mut out, &x);
    out.push(b' ');
    push_hms(&mut out, &x);
    Ok(Value::Text(out))
}

/// `time(TIMEVALUE, MODIFIER...)`: `HH:MM:SS[.SSS]`.
pub fn f_time(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let Some(mut x) = is_date(args, ctx) else {
        return Ok(Value::Null);
    };
    compute_hms(&mut x);
    let mut out = Vec::with_capacity(12);
    push_hms(&mut out, &x);
    Ok(Value::Text(out))
}

/// `date(TIMEVALUE, MODIFIER...)`: `YYYY-MM-DD`.
pub fn f_date(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let Some(mut x) = is_date(args, ctx) else {
        return Ok(Value::Null);
    };
    compute_ymd(&mut x);
    let mut out = Vec::with_capacity(11);
    push_ymd(&mut out, &x);
    Ok(Value::Text(out))
}

/// `current_date()`, `current_time()`, `current_timestamp()`: as `date()`, `time()`
/// and `datetime()` with no arguments.
pub fn f_current_date(_: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    f_date(&[], ctx)
}

pub fn f_current_time(_: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    f_time(&[], ctx)
}

pub fn f_current_timestamp(_: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    f_datetime(&[], ctx)
}

/// `daysAfterJan01`: zero-based day of the year.
fn days_after_jan01(x: &DateTime) -> i32 {
    let mut jan01 = *x;
    jan01.valid_jd = false;
    jan01.mo = 1;
    jan01.d = 1;
    compute_jd(&mut jan01);
    ((x.i_jd - jan01.i_jd + 43_200_000) / 86_400_000) as i32
}

/// `daysAfterMonday`: 0 = Monday .. 6 = Sunday.
fn days_after_monday(x: &DateTime) -> i32 {
    ((x.i_jd + 43_200_000) / 86_400_000 % 7) as i32
}

/// `daysAfterSunday`: 0 = Sunday .. 6 = Saturday.
fn days_after_sunday(x: &DateTime) -> i32 {
    ((x.i_jd + 129_600_000) / 86_400_000 % 7) as i32
}

/// The Thursday of x's ISO week (for %G, %g, %V).
fn iso_thursday(x: &DateTime) -> DateTime {
    let mut y = *x;
    y.i_jd += (3 - days_after_monday(x)) as i64 * 86_400_000;
    y.valid_ymd = false;
    compute_ymd(&mut y);
    y
}

/// `%0Nd` / `%Nd` as C's printf renders an int.
fn push_int(out: &mut Vec<u8>, v: i64, width: usize, zero: bool) {
    use std::io::Write;
    let _ = if zero {
        write!(out, "{v:0width$}")
    } else {
        write!(out, "{v:width$}")
    };
}

/// `%06.3f`.
fn push_f06_3(out: &mut Vec<u8>, v: f64) {
    format_float(out, v, b'f', 3, 6, 0, false, true, false, false, false);
}

/// `strftime(FORMAT, TIMEVALUE, MODIFIER...)`.
pub fn f_strftime(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let Some(fmt_arg) = args.first() else {
        return Ok(Value::Null);
    };
    let Some(fmt) = value_text(fmt_arg) else {
        return Ok(Value::Null);
    };
    let fmt = cstr(&fmt);
    let Some(mut x) = is_date(&args[1..], ctx) else {
        return Ok(Value::Null);
    };
    compute_jd(&mut x);
    compute_ymd_hms(&mut x);
    let mut out = Vec::with_capacity(fmt.len() + 16);
    let mut i = 0usize;
    while i < fmt.len() {
        let c = fmt[i];
        if c != b'%' {
            out.push(c);
            i += 1;
            continue;
        }
        let cf = at(fmt, i + 1);
        i += 2;
        match cf {
            b'd' | b'e' => push_int(&mut out, x.d as i64, 2, cf == b'd'),
            b'f' => {
                let s = if x.s > 59.999 { 59.999 } else { x.s };
                push_f06_3(&mut out, s);
            }
            b'F' => {
                push_int(&mut out, x.y as i64, 4, true);
                out.push(b'-');
                push_int(&mut out, x.mo as i64, 2, true);
                out.push(b'-');
                push_int(&mut out, x.d as i64, 2, true);
            }
            b'G' | b'g' => {
                let y = iso_thursday(&x);
                if cf == b'g' {
                    push_int(&mut out, (y.y % 100) as i64, 2, true);
                } else {
                    push_int(&mut out, y.y as i64, 4, true);
                }
            }
            b'H' | b'k' => push_int(&mut out, x.h as i64, 2, cf == b'H'),
            b'I' | b'l' => {
                let mut h = x.h;
                if h > 12 {
                    h -= 12;
                }
                if h == 0 {
                    h = 12;
                }
                push_int(&mut out, h as i64, 2, cf == b'I');
            }
            b'j' => push_int(&mut out, days_after_jan01(&x) as i64 + 1, 3, true),
            b'J' => format_float(
                &mut out,
                x.i_jd as f64 / 86_400_000.0,
                b'g',
                16,
                0,
                0,
                false,
                false,
                false,
                false,
                false,
            ),
            b'm' => push_int(&mut out, x.mo as i64, 2, true),
            b'M' => push_int(&mut out, x.mi as i64, 2, true),
            b'p' | b'P' => out.extend_from_slice(match (x.h >= 12, cf == b'p') {
                (true, true) => b"PM",
                (true, false) => b"pm",
                (false, true) => b"AM",
                (false, false) => b"am",
            }),
            b'R' => {
                push_int(&mut out, x.h as i64, 2, true);
                out.push(b':');
                push_int(&mut out, x.mi as i64, 2, true);
            }
            b's' => {
                if x.use_subsec {
                    format_float(
                        &mut out,
                        (x.i_jd - UNIX_EPOCH_JD_MS) as f64 / 1000.0,
                        b'f',
                        3,
                        0,
                        0,
                        false,
                        false,
                        false,
                        false,
                        false,
                    );
                } else {
                    push_int(&mut out, x.i_jd / 1000 - UNIX_EPOCH_JD_MS / 1000, 0, false);
                }
            }
            b'S' => push_int(&mut out, x.s as i32 as i64, 2, true),
            b'T' => {
                push_int(&mut out, x.h as i64, 2, true);
                out.push(b':');
                push_int(&mut out, x.mi as i64, 2, true);
                out.push(b':');
                push_int(&mut out, x.s as i32 as i64, 2, true);
            }
            b'u' | b'w' => {
                let mut c = digit(days_after_sunday(&x));
                if c == b'0' && cf == b'u' {
                    c = b'7';
                }
                out.push(c);
            }
            b'U' => push_int(
                &mut out,
                ((days_after_jan01(&x) - days_after_sunday(&x) + 7) / 7) as i64,
                2,
                true,
            ),
            b'V' => {
                let y = iso_thursday(&x);
                push_int(&mut out, (days_after_jan01(&y) / 7 + 1) as i64, 2, true);
            }
            b'W' => push_int(
                &mut out,
                ((days_after_jan01(&x) - days_after_monday(&x) + 7) / 7) as i64,
                2,
                true,
            ),
            b'Y' => push_int(&mut out, x.y as i64, 4, true),
            b'%' => out.push(b'%'),
            // An unknown conversion, or '%' at the end of the format.
            _ => return Ok(Value::Null),
        }
        if out.len() >= MAX_LENGTH {
            return Err(FunctionError::TooBig);
        }
    }
    if out.len() >= MAX_LENGTH {
        return Err(FunctionError::TooBig);
    }
    Ok(Value::Text(out))
}

/// `timediff(A, B)`: `(+|-)YYYY-MM-DD HH:MM:SS.SSS`, the time to add to B to get A.
pub fn f_timediff(args: &[Value], ctx: &mut FunctionContext<'_>) -> R {
    let null = Value::Null;
    let a = args.first().unwrap_or(&null);
    let b = args.get(1).unwrap_or(&null);
    let Some(mut d1) = is_date(std::slice::from_ref(a), ctx) else {
        return Ok(Value::Null);
    };
    let Some(mut d2) = is_date(std::slice::from_ref(b), ctx) else {
        return Ok(Value::Null);
    };
    compute_ymd_hms(&mut d1);
    compute_ymd_hms(&mut d2);
    let (sign, y, m) = if d1.i_jd >= d2.i_jd {
        let mut y = d1.y - d2.y;
        if y != 0 {
            d2.y = d1.y;
            d2.valid_jd = false;
            compute_jd(&mut d2);
        }
        let mut m = d1.mo - d2.mo;
        if m < 0 {
            y -= 1;
            m += 12;
        }
        if m != 0 {
            d2.mo = d1.mo;
            d2.valid_jd = false;
            compute_jd(&mut d2);
        }
        while d1.i_jd < d2.i_jd {
            m -= 1;
            if m < 0 {
                m = 11;
                y -= 1;
            }
            d2.mo -= 1;
            if d2.mo < 1 {
                d2.mo = 12;
                d2.y -= 1;
            }
            d2.valid_jd = false;
            compute_jd(&mut d2);
        }
        d1.i_jd -= d2.i_jd;
        (b'+', y, m)
    } else {
        let mut y = d2.y - d1.y;
        if y != 0 {
            d2.y = d1.y;
            d2.valid_jd = false;
            compute_jd(&mut d2);
        }
        let mut m = d2.mo - d1.mo;
        if m < 0 {
            y -= 1;
            m += 12;
        }
        if m != 0 {
            d2.mo = d1.mo;
            d2.valid_jd = false;
            compute_jd(&mut d2);
        }
        while d1.i_jd > d2.i_jd {
            m -= 1;
            if m < 0 {
                m = 11;
                y -= 1;
            }
            d2.mo += 1;
            if d2.mo > 12 {
                d2.mo = 1;
                d2.y += 1;
            }
            d2.valid_jd = false;
            compute_jd(&mut d2);
        }
        d1.i_jd = d2.i_jd - d1.i_jd;
        (b'-', y, m)
    };
    d1.i_jd += 1_486_995_408 * 100_000;
    clear_ymd_hms_tz(&mut d1);
    compute_ymd_hms(&mut d1);
    let mut out = Vec::with_capacity(24);
    out.push(sign);
    push_int(&mut out, y as i64, 4, true);
    out.push(b'-');
    push_int(&mut out, m as i64, 2, true);
    out.push(b'-');
    push_int(&mut out, (d1.d - 1) as i64, 2, true);
    out.push(b' ');
    push_int(&mut out, d1.h as i64, 2, true);
    out.push(b':');
    push_int(&mut out, d1.mi as i64, 2, true);
    out.push(b':');
    push_f06_3(&mut out, d1.s);
    Ok(Value::Text(out))
}
