//! Oracle test for the date and time functions: date, time, datetime, julianday,
//! unixepoch, strftime and timediff are evaluated both by Strata and by SQLite (through
//! rusqlite, arguments bound as parameters) on tens of thousands of generated time
//! values and modifier lists; value and storage class must agree exactly (reals bit for
//! bit).
//!
//! 'now' never reaches the SQLite side (its clock is not ours). It is tested on its own:
//! against hand-computed results for a fixed `now_ms`, and against SQLite evaluating the
//! same instant given as a unix timestamp.
//!
//! Strata's local time is UTC, so the process runs SQLite with `TZ=UTC` for the
//! `localtime` / `utc` cases (skipped, with a note, if SQLite still sees another zone).
//!
//! Run with `cargo test --release -p strata-vdbe --test datetime_oracle -- --nocapture`
//! to see the per-area case counts.

#[allow(dead_code)]
mod oracle_support;
mod vm_support;

use std::collections::BTreeMap;
use std::sync::Mutex;

use oracle_support::{b, t, tb, Oracle, Outcome, Rng};
use strata_vdbe::functions::{call_scalar, FunctionContext, SplitMix64};
use strata_vdbe::Value;

fn ours_now(name: &str, args: &[Value], now_ms: Option<i64>) -> Outcome {
    let mut rnd = SplitMix64(1);
    let mut ctx = FunctionContext::new(&mut rnd);
    ctx.now_ms = now_ms;
    call_scalar(name, args, &mut ctx).map_err(|e| e.to_string())
}

fn ours(name: &str, args: &[Value]) -> Outcome {
    // A 'now' slipping into an oracle case would make it NULL here and a real time in
    // SQLite, so it would show up as a mismatch rather than pass silently.
    ours_now(name, args, None)
}

fn pk(rng: &mut Rng, v: &[&'static str]) -> &'static str {
    v[rng.below(v.len() as u64) as usize]
}

fn sql_for(name: &str, n: usize) -> String {
    let params: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    format!("SELECT {name}({})", params.join(", "))
}

/// Per area: how many cases produced a value (not NULL, not an error). A generator that
/// drifted into producing mostly invalid input would show up here.
static NON_NULL: Mutex<BTreeMap<&'static str, (u64, u64)>> = Mutex::new(BTreeMap::new());

fn check(o: &Oracle, area: &'static str, name: &str, args: &[Value]) {
    let r = ours(name, args);
    let mut nn = NON_NULL.lock().unwrap();
    let e = nn.entry(area).or_default();
    e.0 += 1;
    e.1 += matches!(r, Ok(ref v) if *v != Value::Null) as u64;
    drop(nn);
    o.check(area, &sql_for(name, args.len()), args, r);
}

const EDGE_YEARS: [i32; 22] = [
    0, 1, 3, 4, 99, 100, 400, 1000, 1582, 1600, 1699, 1700, 1899, 1900, 1969, 1970, 2000, 2037,
    2038, 2100, 9998, 9999,
];

fn year(rng: &mut Rng) -> i32 {
    match rng.below(3) {
        0 => *rng.pick(&EDGE_YEARS),
        1 => 1900 + rng.below(200) as i32,
        _ => rng.below(10000) as i32,
    }
}

fn two(v: u64) -> String {
    format!("{v:02}")
}

fn frac(rng: &mut Rng) -> String {
    let n = 1 + rng.below(9) as usize;
    (0..n)
        .map(|_| char::from(b'0' + rng.below(10) as u8))
        .collect()
}

fn time_part(rng: &mut Rng) -> String {
    let h = if rng.below(20) == 0 {
        24 + rng.below(2)
    } else {
        rng.below(24)
    };
    let m = if rng.below(30) == 0 {
        60
    } else {
        rng.below(60)
    };
    let mut s = format!("{}:{}", two(h), two(m));
    match rng.below(4) {
        0 => {}
        1 => s += &format!(":{}", two(rng.below(60))),
        2 => s += &format!(":{}.{}", two(rng.below(60)), frac(rng)),
        _ => {
            s += &format!(
                ":{}.{}",
                two(if rng.below(2) == 0 { 59 } else { 0 }),
                "999999"
            )
        }
    }
    if rng.below(5) == 0 {
        s += pk(
            rng,
            &[
                "Z", "z", " Z", "+00:00", "-05:00", "+05:30", "+14:00", "-14:59", " +01:00 ",
                "+15:00", "+1:00", "+01:0", "Zx", "+01:00x", " ", "  ", "x",
            ],
        );
    }
    s
}

fn date_part(rng: &mut Rng) -> String {
    let y = year(rng);
    let m = if rng.below(25) == 0 {
        rng.pick(&[0u64, 13]).to_owned()
    } else {
        1 + rng.below(12)
    };
    let d = match rng.below(8) {
        0 => 28 + rng.below(4),
        1 if rng.below(5) == 0 => *rng.pick(&[0u64, 32]),
        _ => 1 + rng.below(31),
    };
    let neg = if rng.below(25) == 0 { "-" } else { "" };
    format!("{neg}{y:04}-{}-{}", two(m), two(d))
}

/// A time value (never 'now').
fn time_value(rng: &mut Rng) -> Value {
    match rng.below(16) {
        0..=4 => t(&date_part(rng)),
        5..=8 => {
            let sep = *rng.pick(&[" ", "T", "  ", "TT", " T", "\t", "t", "_"]);
            t(&format!("{}{sep}{}", date_part(rng), time_part(rng)))
        }
        9 => t(&time_part(rng)),
        10 => {
            // A julian day number as a number.
            match rng.below(5) {
                0 => Value::Integer(2_440_588 + rng.below(40_000) as i64 - 20_000),
                1 => Value::Real(rng.below(5_373_485_000) as f64 / 1000.0),
                2 => Value::Real(*rng.pick(&[
                    0.0,
                    -0.0,
                    5_373_484.499_999_9,
                    5_373_484.5,
                    -1.0,
                    1721059.5,
                ])),
                3 => Value::Real(2_451_545.0 + (rng.below(2_000_000) as f64 - 1e6) / 7.0),
                _ => Value::Integer(rng.next() as i64 >> rng.below(64)),
            }
        }
        11 => {
            // A unix timestamp (useful with 'unixepoch' / 'auto').
            match rng.below(3) {
                0 => Value::Integer(rng.below(4_000_000_000) as i64 - 1_000_000_000),
                1 => Value::Real((rng.below(1 << 40) as f64 - (1u64 << 39) as f64) / 128.0),
                _ => Value::Integer(*rng.pick(&[
                    -210_866_760_000,
                    -210_866_760_001,
                    253_402_300_799,
                    253_402_300_800,
                    0,
                    5_373_484,
                    5_373_485,
                ])),
            }
        }
        12 => {
            // Numbers as text.
            let n = *rng.pick(&[
                "2451545",
                " 2451545.5 ",
                "2451545e0",
                "1e3",
                "0",
                "-1",
                "5373484.5",
                "5373484.4999",
                "1700000000",
                "0x10",
                "12abc",
                "2451545.",
                ".5",
                "+2451545",
            ]);
            t(n)
        }
        13 => b(date_part(rng).as_bytes()),
        14 => t(pk(
            rng,
            &[
                "",
                "abc",
                "2000-01-01 ",
                " 2000-01-01",
                "2000-1-01",
                "2000-01-01 12",
                "2000-01-01 12:00:",
                "2000-01-01 12:00:00.",
                "2000-01-01 12:00:00.x",
                "20000-01-01",
                "12:00:00 junk",
                "2000/01/01",
                "2000-01-01Z",
                "nowx",
                "10000-01-01",
                "-4713-11-24 12:00:00",
                "-4713-11-24 11:59:59",
                "-4714-01-01",
                "9999-12-31 23:59:59.999",
                "9999-12-31 23:59:59.9999",
                "0000-01-01 00:00:00",
                "2000-02-30",
                "2001-02-29",
                "1900-02-29",
                "2000-02-29",
            ],
        )),
        _ => match rng.below(3) {
            0 => Value::Null,
            1 => tb(b"2000-01-01\0 12:00"),
            _ => tb(&[0xff, b'2', b'0']),
        },
    }
}

fn number_text(rng: &mut Rng) -> String {
    match rng.below(6) {
        0 => format!("{}", rng.below(100)),
        1 => format!("-{}", rng.below(1000)),
        2 => format!("+{}.{}", rng.below(50), frac(rng)),
        3 => format!("{}", (rng.below(2_000_000) as f64 - 1e6) / 64.0),
        4 => rng
            .pick(&[
                "176545",
                "176546",
                "-176545.9",
                "14712",
                "14713",
                "5373484",
                "5373485",
                "464269060799",
                "4.6427e14",
                "1e2",
                "0.5",
                "-0.5",
                "1.",
                ".5",
                "+",
                "-",
            ])
            .to_string(),
        _ => format!("{}", rng.below(1 << 20) as i64 - (1 << 19)),
    }
}

/// A modifier (never 'now'-dependent).
fn modifier(rng: &mut Rng) -> Value {
    match rng.below(20) {
        0..=5 => {
            let unit = *rng.pick(&[
                "day", "days", "hour", "hours", "minute", "minutes", "second", "seconds", "month",
                "months", "year", "years", "DAYS", "Month", "weeks", "s", "dayss", "sec",
            ]);
            let sp = *rng.pick(&[" ", " ", "  ", "", "\t"]);
            t(&format!("{}{sp}{unit}", number_text(rng)))
        }
        6 | 7 => {
            let sign = *rng.pick(&["+", "-", "+", "-", ""]);
            let y = if rng.below(6) == 0 {
                format!("{:05}", rng.below(15000))
            } else {
                let max = if rng.below(2) == 0 { 20 } else { 10000 };
                format!("{:04}", rng.below(max))
            };
            let m = rng.below(13);
            let d = rng.below(32);
            let mut s = format!("{sign}{y}-{}-{}", two(m), two(d));
            match rng.below(4) {
                0 => {}
                1 => s += &format!(" {}", time_part(rng)),
                2 => s += &format!(" {}:{}", two(rng.below(24)), two(rng.below(60))),
                _ => s += pk(rng, &["x", " ", "T12:00", " 12", " 1:00"]),
            }
            t(&s)
        }
        8 => {
            let sign = *rng.pick(&["+", "-", ""]);
            t(&format!("{sign}{}", time_part(rng)))
        }
        9 => t(pk(
            rng,
            &[
                "start of month",
                "start of year",
                "start of day",
                "START OF MONTH",
                "start of week",
                "start of  day",
                "start of",
            ],
        )),
        10 => t(&format!(
            "weekday {}",
            rng.pick(&["0", "1", "2", "3", "4", "5", "6", "7", "1.5", "-1", " 3", "3.0", "x"])
        )),
        11 | 12 => t(pk(
            rng,
            &["unixepoch", "julianday", "auto", "UNIXEPOCH", "Auto"],
        )),
        13 => t(pk(rng, &["subsec", "subsecond", "SUBSEC"])),
        14 => t(pk(rng, &["ceiling", "floor", "Floor"])),
        15 => t(pk(rng, &["localtime", "utc", "LocalTime", "UTC"])),
        16 => t(pk(
            rng,
            &["+1 month", "-1 month", "+1 year", "-1 year", "+12 months"],
        )),
        17 => t(pk(
            rng,
            &["", "nonsense", " +1 day", "+1 day ", "+1 days\0x", "1days"],
        )),
        18 => match rng.below(4) {
            0 => Value::Null,
            1 => Value::Integer(5),
            2 => Value::Real(1.5),
            _ => b(b"+1 day"),
        },
        _ => t(&format!("{} days", rng.below(1000) as i64 - 500)),
    }
}

const SPECS: [&str; 31] = [
    "%d", "%e", "%f", "%F", "%H", "%I", "%j", "%J", "%k", "%l", "%m", "%M", "%p", "%P", "%R", "%s",
    "%S", "%T", "%u", "%w", "%W", "%U", "%V", "%G", "%g", "%Y", "%%", "-", " ", "T", "é",
];

fn format_arg(rng: &mut Rng) -> Value {
    if rng.below(30) == 0 {
        return match rng.below(5) {
            0 => Value::Null,
            1 => t("%"),
            2 => t("abc%q"),
            3 => t("%Y%"),
            _ => Value::Integer(42),
        };
    }
    let n = 1 + rng.below(6);
    let s: String = (0..n).map(|_| *rng.pick(&SPECS)).collect();
    t(&s)
}

fn args_with_mods(rng: &mut Rng, max_mods: u64) -> Vec<Value> {
    let mut args = vec![time_value(rng)];
    for _ in 0..rng.below(max_mods + 1) {
        args.push(modifier(rng));
    }
    args
}

/// Fixed cases: the documentation's examples and known corner cases.
fn fixed_cases(o: &Oracle, local_ok: bool) {
    let cases: &[(&str, &[&str])] = &[
        ("date", &["2013-10-07 08:23:19.120"]),
        ("datetime", &["2013-10-07 08:23:19.120", "subsec"]),
        ("julianday", &["2013-10-07 08:23:19.120"]),
        ("unixepoch", &["2013-10-07 08:23:19.120", "subsec"]),
        ("date", &["2023-02-31"]),
        ("date", &["2023-02-31", "+0 days"]),
        ("date", &["2024-01-31", "+1 month"]),
        ("date", &["2024-01-31", "+1 month", "floor"]),
        ("date", &["2024-01-31", "+1 month", "ceiling"]),
        ("date", &["2024-03-31", "-1 month", "floor"]),
        ("date", &["2023-03-31", "-0001-01-00", "floor"]),
        ("date", &["2024-02-29", "+1 year"]),
        ("date", &["2024-02-29", "+1 year", "floor"]),
        ("date", &["2024-02-29", "+0001-00-00"]),
        ("date", &["2024-02-29", "+0001-00-00", "floor"]),
        ("datetime", &["1092941466", "unixepoch"]),
        ("datetime", &["1092941466", "auto"]),
        ("datetime", &["2453218.5", "auto"]),
        ("datetime", &["1092941466", "+1 day", "unixepoch"]),
        ("datetime", &["2453218.5", "julianday"]),
        ("datetime", &["1092941466", "julianday"]),
        (
            "date",
            &["2000-01-01", "start of month", "+1 month", "-1 day"],
        ),
        ("date", &["2004-01-01", "weekday 2"]),
        ("date", &["2004-01-06", "weekday 2"]),
        ("datetime", &["2000-01-01 12:00", "+01:30"]),
        ("datetime", &["2000-01-01 12:00", "-01:30:15.5"]),
        (
            "datetime",
            &["2000-01-01 12:00", "+0001-02-03 04:05:06.789"],
        ),
        ("datetime", &["2000-01-01 12:00", "+10000-00-00"]),
        ("datetime", &["2000-01-01 12:00", "-02000-00-00"]),
        ("datetime", &["2000-01-01 12:00+05:00"]),
        ("datetime", &["2000-01-01 12:00+05:00", "localtime"]),
        ("datetime", &["2000-01-01 12:00Z", "utc"]),
        ("datetime", &["9999-12-31", "+1 year", "localtime"]),
        ("datetime", &["9999-12-31", "+5000000 days", "localtime"]),
        ("datetime", &["1900-02-29", "localtime"]),
        (
            "datetime",
            &["1900-03-01 00:00:00.5", "localtime", "subsec"],
        ),
        ("datetime", &["2000-01-01", "subsec", "utc"]),
        ("time", &["24:00"]),
        ("time", &["12:00", "subsec"]),
        ("time", &["12:34:56.7895", "subsec"]),
        ("datetime", &["-0001-12-31 23:59:59"]),
        ("datetime", &["-4713-11-24 12:00:00"]),
        ("julianday", &["-4713-11-24 12:00:00"]),
        ("julianday", &["0000-01-01"]),
        ("unixepoch", &["9999-12-31 23:59:59.999"]),
        ("unixepoch", &["9999-12-31 23:59:59.999", "subsec"]),
        ("datetime", &["2000-01-01", "+464269060799 seconds"]),
        ("datetime", &["2000-01-01", "-176545 months"]),
        ("datetime", &["2000-01-01", "+7998 years"]),
        ("datetime", &["2000-01-01", "+7999.5 years"]),
        ("datetime", &["2000-01-01", "+1.5 months"]),
        ("datetime", &["2000-01-31", "+1.5 months"]),
        ("datetime", &["2000-01-01", "-0.0001 seconds"]),
        ("datetime", &["2000-01-01", "weekday 7"]),
        ("datetime", &["2000-01-01", "start of week"]),
        ("datetime", &["12:00", "start of day"]),
        ("datetime", &["12:00", "auto"]),
        ("datetime", &["0", "auto"]),
        ("datetime", &["-1", "auto"]),
        ("datetime", &["5373484.5", "auto"]),
    ];
    for (name, args) in cases {
        if !local_ok
            && args
                .iter()
                .any(|a| a.contains("local") || a.contains("utc"))
        {
            continue;
        }
        let args: Vec<Value> = args.iter().map(|a| t(a)).collect();
        check(o, "fixed", name, &args);
    }
    // Numbers as the time value.
    for v in [
        Value::Integer(2451545),
        Value::Real(2451545.25),
        Value::Integer(-1),
        Value::Real(5373484.5),
        Value::Real(5373484.499999),
        Value::Integer(1700000000),
    ] {
        for name in ["date", "time", "datetime", "julianday", "unixepoch"] {
            check(o, "fixed", name, std::slice::from_ref(&v));
            check(o, "fixed", name, &[v.clone(), t("unixepoch")]);
            check(o, "fixed", name, &[v.clone(), t("auto"), t("subsec")]);
        }
    }
    // Argument counts: strftime() without a format is NULL, timediff needs two.
    o.check("fixed", "SELECT strftime()", &[], ours("strftime", &[]));
    for n in [0usize, 1, 3] {
        let args = vec![t("2000-01-01"); n];
        check(o, "fixed", "timediff", &args);
    }
    for (a, bb) in [
        ("2023-02-15", "2023-03-15"),
        ("2023-03-15", "2023-02-15"),
        ("2024-02-29", "2023-02-28"),
        ("2000-01-31", "2000-03-01"),
        ("0000-01-01", "9999-12-31 23:59:59.999"),
        ("9999-12-31 23:59:59.999", "0000-01-01"),
        ("2000-01-01", "2000-01-01"),
        ("12:00", "2000-01-01 11:59:59.999"),
    ] {
        check(o, "fixed", "timediff", &[t(a), t(bb)]);
    }
}

/// Random cases for one area.
fn random_cases(o: &Oracle, rng: &mut Rng, n: usize, local_ok: bool) {
    let skip = |args: &[Value]| {
        !local_ok
            && args.iter().any(|a| match a {
                Value::Text(s) => {
                    let s = String::from_utf8_lossy(s).to_ascii_lowercase();
                    s.contains("local") || s.contains("utc")
                }
                _ => false,
            })
    };
    for _ in 0..n {
        for (area, name) in [
            ("date", "date"),
            ("time", "time"),
            ("datetime", "datetime"),
            ("julianday", "julianday"),
            ("unixepoch", "unixepoch"),
        ] {
            let args = args_with_mods(rng, 4);
            if !skip(&args) {
                check(o, area, name, &args);
            }
        }
        let mut args = vec![format_arg(rng)];
        args.extend(args_with_mods(rng, 3));
        if !skip(&args) {
            check(o, "strftime", "strftime", &args);
        }
        // Every specifier on one modified time.
        let mut args = vec![t(&SPECS[..27].join("|"))];
        args.extend(args_with_mods(rng, 2));
        if !skip(&args) {
            check(o, "strftime_all", "strftime", &args);
        }
        let a = time_value(rng);
        let bv = if rng.below(4) == 0 {
            a.clone()
        } else {
            time_value(rng)
        };
        check(o, "timediff", "timediff", &[a, bv]);
    }
}

/// Round trip on valid dates: every day of some years, through each output function.
fn every_day(o: &Oracle) {
    for y in [0, 4, 1900, 1999, 2000, 2024, 9999] {
        for m in 1..=12 {
            for d in [1, 15, 28, 29, 30, 31] {
                let v = t(&format!("{y:04}-{m:02}-{d:02} 13:14:15.678"));
                check(o, "every_day", "datetime", &[v.clone(), t("subsec")]);
                check(o, "every_day", "julianday", std::slice::from_ref(&v));
                check(
                    o,
                    "every_day",
                    "strftime",
                    &[t("%j %U %W %V %G %g %u %w %J %s"), v],
                );
            }
        }
    }
    // Julian days around year boundaries and the ends of the range.
    let mut jd = 0.0f64;
    while jd < 5_373_485.0 {
        let v = Value::Real(jd);
        check(o, "jd_scan", "datetime", &[v.clone(), t("subsec")]);
        check(o, "jd_scan", "strftime", &[t("%F %T %f %j %V %G"), v]);
        jd += 997.123_456_7;
    }
}

/// 'now' compared with SQLite evaluating the same instant given as a unix timestamp.
/// ('utc' is left out: 'now' is known to be UTC, which makes 'utc' a no-op, while after
/// a unix timestamp it runs SQLite's conversion, which also drops 'subsec'.)
fn now_cases(o: &Oracle, rng: &mut Rng, local_ok: bool) {
    const MODS: [&str; 8] = [
        "+1 day",
        "-3 months",
        "start of month",
        "weekday 3",
        "subsec",
        "+12:34:56.789",
        "start of year",
        "localtime",
    ];
    let fmt = "%F %T %f %s %J %V";
    for _ in 0..2000 {
        // 0000-01-01 00:00:00 ..= 9999-12-31 23:59:59.999
        let now_ms = rng.below(315_569_520_000_000) as i64 - 62_167_219_200_000;
        let n_mods = if local_ok { MODS.len() } else { MODS.len() - 1 };
        let mods: Vec<Value> = (0..rng.below(3))
            .map(|_| t(MODS[rng.below(n_mods as u64) as usize]))
            .collect();
        let unix = Value::Real(now_ms as f64 / 1000.0);
        for name in [
            "date",
            "time",
            "datetime",
            "julianday",
            "unixepoch",
            "strftime",
        ] {
            let mut ours_args = Vec::new();
            let mut their_args = Vec::new();
            if name == "strftime" {
                ours_args.push(t(fmt));
                their_args.push(t(fmt));
            }
            ours_args.push(t("now"));
            ours_args.extend(mods.iter().cloned());
            their_args.push(unix.clone());
            their_args.push(t("unixepoch"));
            their_args.extend(mods.iter().cloned());
            let ours = ours_now(name, &ours_args, Some(now_ms));
            o.check_ctx(
                "now",
                &sql_for(name, their_args.len()),
                &their_args,
                ours,
                &format!("now_ms={now_ms}"),
            );
        }
    }
}

#[test]
fn now_comes_from_the_context() {
    // 1700000000123 ms = 2023-11-14 22:13:20.123 UTC, a Tuesday.
    let now = Some(1_700_000_000_123i64);
    let q = |name: &str, args: &[&str]| {
        let args: Vec<Value> = args.iter().map(|a| t(a)).collect();
        ours_now(name, &args, now).unwrap()
    };
    assert_eq!(q("date", &["now"]), t("2023-11-14"));
    assert_eq!(q("date", &[]), t("2023-11-14"));
    assert_eq!(q("current_date", &[]), t("2023-11-14"));
    assert_eq!(q("time", &["now"]), t("22:13:20"));
    assert_eq!(q("current_time", &[]), t("22:13:20"));
    assert_eq!(q("datetime", &["now"]), t("2023-11-14 22:13:20"));
    assert_eq!(q("datetime", &["NOW"]), t("2023-11-14 22:13:20"));
    assert_eq!(q("current_timestamp", &[]), t("2023-11-14 22:13:20"));
    assert_eq!(
        q("datetime", &["now", "subsec"]),
        t("2023-11-14 22:13:20.123")
    );
    assert_eq!(q("datetime", &["subsec"]), t("2023-11-14 22:13:20.123"));
    assert_eq!(q("time", &["subsecond"]), t("22:13:20.123"));
    assert_eq!(q("unixepoch", &["now"]), Value::Integer(1_700_000_000));
    assert_eq!(q("unixepoch", &[]), Value::Integer(1_700_000_000));
    assert_eq!(
        q("unixepoch", &["now", "subsec"]),
        Value::Real(1_700_000_000.123)
    );
    assert_eq!(
        q("julianday", &["now"]),
        Value::Real((1_700_000_000_123i64 + 210_866_760_000_000) as f64 / 86_400_000.0)
    );
    assert_eq!(
        q("strftime", &["%s %w %u %j", "now"]),
        t("1700000000 2 2 318")
    );
    assert_eq!(q("strftime", &["%Y"]), t("2023"));
    assert_eq!(
        q("date", &["now", "start of month", "+1 month", "-1 day"]),
        t("2023-11-30")
    );
    assert_eq!(q("date", &["now", "weekday 0"]), t("2023-11-19"));
    assert_eq!(
        q("datetime", &["now", "localtime"]),
        t("2023-11-14 22:13:20")
    );
    assert_eq!(
        q("timediff", &["now", "2023-11-14"]),
        t("+0000-00-00 22:13:20.123")
    );
    // No current time: 'now' is NULL, and so is everything defaulting to it.
    for name in ["date", "time", "datetime", "julianday", "unixepoch"] {
        assert_eq!(ours_now(name, &[], None).unwrap(), Value::Null);
        assert_eq!(ours_now(name, &[t("now")], None).unwrap(), Value::Null);
    }
    assert_eq!(ours_now("strftime", &[t("%Y")], None).unwrap(), Value::Null);
    // The epoch itself and a time before 1970.
    assert_eq!(
        ours_now("datetime", &[t("now")], Some(0)).unwrap(),
        t("1970-01-01 00:00:00")
    );
    assert_eq!(
        ours_now("datetime", &[t("now"), t("subsec")], Some(-1)).unwrap(),
        t("1969-12-31 23:59:59.999")
    );
    // Before julian day 0, SQLite's "current time" check (iJD > 0) fails: NULL.
    assert_eq!(
        ours_now("date", &[t("now")], Some(-210_866_760_000_000)).unwrap(),
        Value::Null
    );
}

/// No input makes a date function panic (including arithmetic overflow when built with
/// overflow checks): arbitrary values, long modifier chains, any 'now'.
#[test]
fn arbitrary_input_never_panics() {
    let mut rng = Rng(SplitMix64(0x5eed));
    let vals = oracle_support::values();
    let names = [
        "date",
        "time",
        "datetime",
        "julianday",
        "unixepoch",
        "strftime",
        "timediff",
    ];
    for i in 0..60_000 {
        let name = names[i % names.len()];
        let n = if name == "timediff" {
            2
        } else {
            rng.below(9) as usize
        };
        let args: Vec<Value> = (0..n)
            .map(|k| match rng.below(4) {
                0 => rng.pick(&vals).clone(),
                1 if k == 0 => time_value(&mut rng),
                1 => t(pk(
                    &mut rng,
                    &[
                        "+14712 years",
                        "-14712 years",
                        "+5373484 days",
                        "+176545 months",
                        "-464269060799 seconds",
                        "now",
                        "localtime",
                        "utc",
                    ],
                )),
                2 if k == 0 && name == "strftime" => format_arg(&mut rng),
                _ => modifier(&mut rng),
            })
            .collect();
        let now = match rng.below(4) {
            0 => None,
            1 => Some(rng.next() as i64),
            _ => Some(rng.below(400_000_000_000_000) as i64 - 200_000_000_000_000),
        };
        let _ = ours_now(name, &args, now);
    }
}

/// In the VM, 'now' is read from the IO layer once per step: equal within a row, new for
/// the next row (SQLite's `sqlite3StmtCurrentTime`), reset by `reset()`.
#[test]
fn vm_reads_now_once_per_step() {
    use std::sync::Arc;
    use strata_io::{MemoryIo, MemoryIoOptions, IO};
    use strata_pager::Storage;
    use strata_vdbe::functions::resolve_scalar;
    use strata_vdbe::insn::Insn;
    use strata_vdbe::vm::{Connection, StepResult, Vm};
    use vm_support::{halt, load, options, Asm};

    let io = Arc::new(MemoryIo::with_options(MemoryIoOptions {
        // 2023-11-14 22:13:20 UTC, and every clock read advances it by 1.5 ms.
        start_micros: 1_700_000_000_000_000,
        micros_per_call: 1_500,
        ..MemoryIoOptions::default()
    }));
    let dyn_io: Arc<dyn IO> = io.clone();
    let storage = Storage::open(dyn_io, "now.db", options(4, 512)).expect("open");
    let conn = Connection::new(storage.pager());
    let mut a = Asm::new();
    a.op(Insn::Init { target: 1 });
    load(&mut a, &t("now"), 1);
    load(&mut a, &t("subsec"), 2);
    let f = |dest| Insn::Function {
        func: resolve_scalar("datetime", 2).unwrap(),
        name: "datetime".into(),
        args_start: 1,
        nargs: 2,
        dest,
        collation: strata_vdbe::Collation::Binary,
        subtype_args: Vec::new(),
        pure: None,
    };
    for _ in 0..2 {
        a.op(f(3));
        a.op(f(4));
        a.op(Insn::ResultRow { start: 3, count: 2 });
    }
    a.op(halt());
    let mut vm = Vm::new(Arc::new(a.build()), conn);
    let mut rows = Vec::new();
    for _ in 0..2 {
        loop {
            match vm.step().unwrap() {
                StepResult::Row => rows.push(vm.row().to_vec()),
                StepResult::Done => break,
                StepResult::Io => io.run_once().unwrap(),
                StepResult::Busy => panic!("busy"),
            }
        }
        vm.reset();
    }
    assert_eq!(rows.len(), 4);
    let as_text = |v: &Value| match v {
        Value::Text(b) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("not text: {other:?}"),
    };
    let mut seen = Vec::new();
    for row in &rows {
        let (x, y) = (as_text(&row[0]), as_text(&row[1]));
        assert_eq!(x, y, "two 'now's in one step differ");
        assert!(x.starts_with("2023-11-14 22:13:2"), "{x}");
        seen.push(x);
    }
    // Each step (and each execution after reset) reads the clock again.
    for w in seen.windows(2) {
        assert!(w[0] < w[1], "{seen:?}");
    }
}

#[test]
fn datetime_functions_match_sqlite() {
    // Strata's local time is UTC; make SQLite's the same. Nothing else in this process
    // has asked the C library for the timezone yet (this is the only test that opens
    // SQLite).
    std::env::set_var("TZ", "UTC");
    let o = Oracle::new();
    let probe = o.sqlite(
        "SELECT datetime('2000-07-01 12:00', 'localtime') || datetime('1990-01-01 12:00', 'localtime')",
        &[],
    );
    let local_ok = probe == Ok(t("2000-07-01 12:00:001990-01-01 12:00:00"));
    if !local_ok {
        println!("note: SQLite's local time is not UTC here; localtime/utc cases skipped");
    }
    fixed_cases(&o, local_ok);
    every_day(&o);
    let mut rng = Rng(SplitMix64(0xda7e_71e5));
    random_cases(&o, &mut rng, 20_000, local_ok);
    now_cases(&o, &mut rng, local_ok);
    // SQLite's portable floating-point path changes how %J / %f / %s are printed.
    o.set_portable();
    let mut rng = Rng(SplitMix64(0x9047_ab1e));
    random_cases(&o, &mut rng, 3000, local_ok);
    for (area, (n, nn)) in NON_NULL.lock().unwrap().iter() {
        println!("{area:<14} {nn:>8} of {n:>8} cases not NULL");
    }
    o.report();
}
