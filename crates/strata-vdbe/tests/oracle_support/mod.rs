//! Harness for the oracle test: binding values to SQLite, comparing outcomes, counting
//! cases per area, and the fixed lists of awkward argument values.

use std::cell::RefCell;
use std::collections::BTreeMap;

use rusqlite::types::{ToSqlOutput, ValueRef as SqlRef};
use rusqlite::{Connection, ToSql};
use strata_vdbe::functions::{RandomSource, SplitMix64};
use strata_vdbe::numeric::{set_float_mode, FloatMode};
use strata_vdbe::Value;

/// A value bound as a parameter, with its exact storage class (text as raw bytes, so
/// invalid UTF-8 reaches SQLite unchanged).
pub struct P<'a>(&'a Value);

impl ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => SqlRef::Null,
            Value::Integer(i) => SqlRef::Integer(*i),
            Value::Real(r) => SqlRef::Real(*r),
            Value::Text(t) => SqlRef::Text(t),
            Value::Blob(b) => SqlRef::Blob(b),
        }))
    }
}

pub fn from_sql(v: SqlRef<'_>) -> Value {
    match v {
        SqlRef::Null => Value::Null,
        SqlRef::Integer(i) => Value::Integer(i),
        SqlRef::Real(r) => Value::Real(r),
        SqlRef::Text(t) => Value::Text(t.to_vec()),
        SqlRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

pub type Outcome = Result<Value, String>;

pub fn same(a: &Outcome, b: &Outcome) -> bool {
    match (a, b) {
        (Ok(Value::Real(x)), Ok(Value::Real(y))) => {
            x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan())
        }
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => x == y,
        _ => false,
    }
}

pub struct Oracle {
    pub conn: Connection,
    stats: RefCell<BTreeMap<&'static str, (u64, u64)>>,
    sqlite_time: RefCell<BTreeMap<&'static str, std::time::Duration>>,
    failures: RefCell<Vec<String>>,
}

impl Oracle {
    pub fn new() -> Self {
        let conn = Connection::open_in_memory().unwrap();
        conn.set_prepared_statement_cache_capacity(4096);
        Oracle {
            conn,
            stats: RefCell::new(BTreeMap::new()),
            sqlite_time: RefCell::new(BTreeMap::new()),
            failures: RefCell::new(Vec::new()),
        }
    }

    /// Switches both SQLite and Strata from the x86-64 `long double` path (SQLite's
    /// default on this platform) to the portable Dekker path.
    pub fn set_portable(&self) {
        // SAFETY: a process-wide configuration switch taking one int argument. The
        // connection is already open, so sqlite3_initialize() will not reset it.
        let rc = unsafe {
            rusqlite::ffi::sqlite3_test_control(
                rusqlite::ffi::SQLITE_TESTCTRL_USELONGDOUBLE,
                0 as std::os::raw::c_int,
            )
        };
        assert_eq!(
            rc, 0,
            "SQLite should now use its portable floating-point path"
        );
        set_float_mode(FloatMode::Portable);
    }

    /// Runs `sql` (one row, one column) with `args` bound.
    pub fn sqlite(&self, sql: &str, args: &[Value]) -> Outcome {
        let mut stmt = self.conn.prepare_cached(sql).map_err(err_text)?;
        let params: Vec<P> = args.iter().map(P).collect();
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p as &dyn ToSql).collect();
        let mut rows = stmt.query(refs.as_slice()).map_err(err_text)?;
        match rows.next().map_err(err_text)? {
            Some(row) => Ok(from_sql(row.get_ref(0).map_err(err_text)?)),
            None => Err("no row".into()),
        }
    }

    pub fn exec(&self, sql: &str, args: &[Value]) {
        let mut stmt = self.conn.prepare_cached(sql).unwrap();
        let params: Vec<P> = args.iter().map(P).collect();
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p as &dyn ToSql).collect();
        stmt.execute(refs.as_slice()).unwrap();
    }

    pub fn check(&self, area: &'static str, sql: &str, args: &[Value], ours: Outcome) {
        self.check_ctx(area, sql, args, ours, "")
    }

    /// Like `check`, with extra context (values stored in tables) for the failure report.
    pub fn check_ctx(
        &self,
        area: &'static str,
        sql: &str,
        args: &[Value],
        ours: Outcome,
        ctx: &str,
    ) {
        let t0 = std::time::Instant::now();
        let theirs = self.sqlite(sql, args);
        *self.sqlite_time.borrow_mut().entry(area).or_default() += t0.elapsed();
        let ok = same(&ours, &theirs);
        let mut st = self.stats.borrow_mut();
        let e = st.entry(area).or_insert((0, 0));
        e.0 += 1;
        if ok {
            e.1 += 1;
        } else {
            let mut f = self.failures.borrow_mut();
            if f.len() < 2000 {
                f.push(format!(
                    "[{area}] {sql} args={args:?} {ctx}\n    sqlite: {theirs:?}\n    strata: {ours:?}"
                ));
            }
        }
    }

    pub fn report(&self) {
        let st = self.stats.borrow();
        let (mut total, mut passed) = (0, 0);
        println!("{:<14} {:>8} {:>8}", "area", "cases", "passed");
        for (area, (n, p)) in st.iter() {
            let ms = self
                .sqlite_time
                .borrow()
                .get(area)
                .map_or(0, |d| d.as_millis());
            println!("{area:<14} {n:>8} {p:>8}   (sqlite side {ms} ms)");
            total += n;
            passed += p;
        }
        println!("{:<14} {total:>8} {passed:>8}", "TOTAL");
        let f = self.failures.borrow();
        let mut per_area: BTreeMap<&str, usize> = BTreeMap::new();
        for line in f.iter() {
            let area = line.split(']').next().unwrap_or("");
            let n = per_area.entry(area).or_insert(0);
            *n += 1;
            if *n <= 8 {
                println!("{line}");
            }
        }
        assert_eq!(total, passed, "{} oracle mismatches", total - passed);
    }
}

pub fn err_text(e: rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(m)) => m,
        // Prepare errors come with " in <sql> at offset N" appended by rusqlite.
        rusqlite::Error::SqlInputError { msg, .. } => msg,
        other => other.to_string(),
    }
}

pub fn t(s: &str) -> Value {
    Value::Text(s.as_bytes().to_vec())
}

pub fn tb(s: &[u8]) -> Value {
    Value::Text(s.to_vec())
}

pub fn b(s: &[u8]) -> Value {
    Value::Blob(s.to_vec())
}

/// The fixed argument list: extremes, near-overflow integers, awkward reals, numeric-
/// looking text, non-ASCII and invalid UTF-8, blobs, NULL.
pub fn values() -> Vec<Value> {
    let mut v = vec![Value::Null];
    for i in [
        0i64,
        1,
        -1,
        2,
        3,
        7,
        -7,
        10,
        42,
        255,
        -256,
        1000,
        i32::MAX as i64,
        i32::MIN as i64,
        1 << 31,
        (1 << 53) + 1,
        -(1 << 53),
        4503599627370496,
        3037000500,
        -3037000500,
        1 << 62,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
    ] {
        v.push(Value::Integer(i));
    }
    for r in [
        0.0f64,
        -0.0,
        1.0,
        -1.0,
        0.5,
        -0.5,
        1.5,
        2.5,
        -2.5,
        0.1,
        0.3,
        1e308,
        -1e308,
        f64::MAX,
        5e-324,
        2.2250738585072014e-308,
        1.5e-7,
        123456789012345678.0,
        9.223_372_036_854_776e18,
        -9.223_372_036_854_776e18,
        1e15,
        1e16,
        3.25,
        100.0,
        1e20,
        12345.678,
        0.1 + 0.2,
        f64::INFINITY,
        f64::NEG_INFINITY,
        4503599627370495.5,
        2.675,
        -1.005,
        0.045,
        7.0,
    ] {
        v.push(Value::Real(r));
    }
    for s in [
        "",
        "0",
        "1",
        "12",
        " 12 ",
        "12abc",
        "-",
        "+",
        "1e3",
        "1e",
        "1e+",
        ".5",
        "5.",
        ".",
        "0x10",
        "-12",
        "+12",
        " -0 ",
        "3.0",
        "3.5",
        "abc",
        "ABC",
        "aBc",
        "hello world",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "18446744073709551616",
        "1e400",
        "-1e400",
        "1e-400",
        "  ",
        "\t7\n",
        "é",
        "Ünïcödé",
        "日本語",
        "🙂x",
        "it's",
        "%",
        "_",
        "a%b_c",
        "[a]",
        "*",
        "Inf",
        "00012",
        "12.50",
        "1.0e+20",
        "x y ",
        "  a  ",
    ] {
        v.push(t(s));
    }
    for s in [
        &[0xffu8, 0xfe][..],
        &[0xc3],
        &[0x80, b'a'],
        &[0xe0, 0x80, 0x80],
        &[0xed, 0xa0, 0x80],
        b"a\0b",
        &[0xf0, 0x9f, 0x98],
    ] {
        v.push(tb(s));
    }
    for s in [
        &b""[..],
        b"\0",
        b"123",
        b"A",
        &[0xff, 0x00],
        b"abc",
        b" 1.5e2",
    ] {
        v.push(b(s));
    }
    v
}

/// A smaller list for 3-argument crosses.
pub fn small_values() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Integer(0),
        Value::Integer(1),
        Value::Integer(-1),
        Value::Integer(3),
        Value::Integer(i64::MAX),
        Value::Real(1.5),
        Value::Real(-0.0),
        t(""),
        t("abc"),
        t("12"),
        t("é"),
        tb(&[0xff, b'a']),
        b(b"ab"),
    ]
}

pub struct Rng(pub SplitMix64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}
