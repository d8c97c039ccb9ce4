//! Cross-checks the runner's value conversions against SQLite's own C API,
//! which is what SQLite's sqllogictest harness calls: `sqlite3_column_int64`,
//! `sqlite3_column_double`, `sqlite3_column_text`, and SQLite's printf
//! `%.3f`. Thousands of generated values per storage class, including the
//! awkward ones (exact ties, 16+ significant digits, huge and tiny
//! magnitudes, text with numeric prefixes).

use std::ffi::CStr;

use rusqlite::{ffi, Connection};
use strata_slt::render::{atof, atoi64, format_fixed, real_to_text, render, ColumnType};
use strata_slt::Value;

/// What SQLite's C API says about one value.
#[derive(Debug)]
struct SqliteView {
    int64: i64,
    double: f64,
    text: Vec<u8>,
    printf_f3: String,
}

/// A `SELECT ?1, printf('%.3f', ?1)` statement driven through the raw C API,
/// so the conversions are SQLite's own, not rusqlite's.
struct Oracle {
    /// Kept open for as long as `stmt` lives.
    _conn: Connection,
    stmt: *mut ffi::sqlite3_stmt,
}

impl Oracle {
    fn new() -> Oracle {
        let conn = Connection::open_in_memory().unwrap();
        let mut stmt = std::ptr::null_mut();
        let sql = c"SELECT ?1, printf('%.3f', ?1)";
        // SAFETY: the handle is live for as long as `conn`; the statement is
        // finalized in Drop before `conn` closes.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                conn.handle(),
                sql.as_ptr(),
                -1,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        assert_eq!(rc, ffi::SQLITE_OK);
        Oracle { _conn: conn, stmt }
    }

    fn view(&mut self, v: &Value) -> SqliteView {
        // SAFETY: `self.stmt` is a valid prepared statement; bound buffers
        // are copied by SQLite (SQLITE_TRANSIENT); column pointers are read
        // before the next step/reset.
        unsafe {
            let s = self.stmt;
            ffi::sqlite3_reset(s);
            let rc = match v {
                Value::Null => ffi::sqlite3_bind_null(s, 1),
                Value::Integer(i) => ffi::sqlite3_bind_int64(s, 1, *i),
                Value::Real(r) => ffi::sqlite3_bind_double(s, 1, *r),
                Value::Text(t) => ffi::sqlite3_bind_text(
                    s,
                    1,
                    t.as_ptr().cast(),
                    t.len() as i32,
                    ffi::SQLITE_TRANSIENT(),
                ),
                Value::Blob(b) => ffi::sqlite3_bind_blob(
                    s,
                    1,
                    b.as_ptr().cast(),
                    b.len() as i32,
                    ffi::SQLITE_TRANSIENT(),
                ),
            };
            assert_eq!(rc, ffi::SQLITE_OK);
            assert_eq!(ffi::sqlite3_step(s), ffi::SQLITE_ROW);
            // Same order as the harness would need: numeric reads before the
            // text read, which may add a text form to the cell.
            let int64 = ffi::sqlite3_column_int64(s, 0);
            let double = ffi::sqlite3_column_double(s, 0);
            let p = ffi::sqlite3_column_text(s, 0);
            let n = ffi::sqlite3_column_bytes(s, 0) as usize;
            let text = if p.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(p, n).to_vec()
            };
            let f = ffi::sqlite3_column_text(s, 1);
            let printf_f3 = CStr::from_ptr(f.cast()).to_str().unwrap().to_string();
            SqliteView {
                int64,
                double,
                text,
                printf_f3,
            }
        }
    }
}

impl Drop for Oracle {
    fn drop(&mut self) {
        // SAFETY: finalizing the statement we prepared, once.
        unsafe {
            ffi::sqlite3_finalize(self.stmt);
        }
    }
}

/// xorshift64*: deterministic, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn interesting_reals() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        0.5,
        0.0005,
        0.0015,
        0.0625,
        -0.0625,
        2.0005,
        99.9995,
        999.9995,
        0.1 + 0.2,
        1.0 / 3.0,
        2.0 / 3.0,
        1e14,
        1e15,
        1e16,
        1e17,
        1e20,
        1e21,
        1e22,
        1e100,
        1e300,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        1e-5,
        1.5e-7,
        -9223372036854775808.0,
        9223372036854775807.0,
        9223372036854774784.0,
        18446744073709551616.0,
        -18446744073709551607.0,
        123456789012345678.0,
        12345678901234.567,
        1234567890123.4567,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..200_000 {
        // Arbitrary finite bit patterns: every magnitude.
        let r = f64::from_bits(rng.next());
        if r.is_finite() {
            v.push(r);
        }
    }
    for _ in 0..20_000 {
        // Short decimals, as SQL arithmetic on small numbers produces.
        let n = rng.below(2_000_000) as f64 - 1_000_000.0;
        let d = [
            1.0, 2.0, 3.0, 7.0, 8.0, 10.0, 16.0, 100.0, 1000.0, 2000.0, 10000.0,
        ][rng.below(11) as usize];
        v.push(n / d);
    }
    for _ in 0..5_000 {
        // Large integers as doubles: 16 and more significant digits.
        let i = rng.next() as i64 >> rng.below(40);
        v.push(i as f64);
        v.push(i as f64 / 1000.0);
    }
    v
}

fn random_numeric_text(rng: &mut Rng) -> Vec<u8> {
    const ALPHABET: &[u8] = b" \t\n+-.eE0123456789012345678901234567890x";
    let len = rng.below(48) as usize;
    (0..len)
        .map(|_| ALPHABET[rng.below(ALPHABET.len() as u64) as usize])
        .collect()
}

#[test]
#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "SQLite's long double differs off x86-64"
)]
fn reals_convert_like_sqlite() {
    let mut oracle = Oracle::new();
    let mut mismatches = Vec::new();
    for r in interesting_reals() {
        let view = oracle.view(&Value::Real(r));
        let ours = (r as i64, format_fixed(r, 3), real_to_text(r));
        let theirs = (
            view.int64,
            view.printf_f3.clone(),
            String::from_utf8(view.text.clone()).unwrap(),
        );
        if ours != theirs {
            mismatches.push(format!("{r:e}: ours {ours:?}, sqlite {theirs:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );
}

#[test]
fn integers_convert_like_sqlite() {
    let mut oracle = Oracle::new();
    let mut rng = Rng(42);
    let mut ints = vec![0, 1, -1, i64::MAX, i64::MIN, 9007199254740993];
    for _ in 0..10_000 {
        ints.push(rng.next() as i64 >> rng.below(64));
    }
    for i in ints {
        let view = oracle.view(&Value::Integer(i));
        let v = Value::Integer(i);
        assert_eq!(render(&v, ColumnType::Integer), view.int64.to_string());
        assert_eq!(render(&v, ColumnType::Real), view.printf_f3, "{i}");
        assert_eq!(render(&v, ColumnType::Text).as_bytes(), view.text, "{i}");
    }
}

#[test]
#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "SQLite's long double differs off x86-64"
)]
fn text_and_blobs_convert_like_sqlite() {
    let mut oracle = Oracle::new();
    let mut rng = Rng(7);
    let mut texts: Vec<Vec<u8>> = [
        "12abc",
        "abc",
        "1e3",
        "  -12.5e2xyz",
        "0x10",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "123456789012345678901234567890",
        "1e",
        "1e+",
        ".5",
        "5.",
        ".",
        "-",
        "+.e5",
        "1e999",
        "-1e999",
        "1e-999",
        "0.0005",
        "\t\n 42 ",
        "",
        "4.9e-324",
        "2.5e-324",
        "2.4e-324",
        "2.2250738585072011e-308",
        "2.2250738585072014e-308",
        "1.7976931348623157e308",
        "1.7976931348623158e308",
        "1.8e308",
        "18446744073709551615",
        "18446744073709551616",
        "0.000000000000000000000000000001",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    for _ in 0..30_000 {
        texts.push(random_numeric_text(&mut rng));
    }
    for _ in 0..30_000 {
        // Well-formed numbers with long mantissas and any exponent.
        let digits: String = (0..1 + rng.below(30))
            .map(|_| char::from(b'0' + rng.below(10) as u8))
            .collect();
        let point = rng.below(digits.len() as u64 + 1) as usize;
        let exp = rng.below(700) as i64 - 350;
        texts.push(format!("{}.{}e{exp}", &digits[..point], &digits[point..]).into_bytes());
    }
    let mut mismatches = Vec::new();
    for t in &texts {
        for v in [Value::Text(t.clone()), Value::Blob(t.clone())] {
            let view = oracle.view(&v);
            let ours = (atoi64(t), atof(t).to_bits(), render(&v, ColumnType::Real));
            let theirs = (view.int64, view.double.to_bits(), view.printf_f3.clone());
            // 0.0 and -0.0 render alike; SQLite and we may pick either sign.
            let same = ours.0 == theirs.0
                && ours.2 == theirs.2
                && (ours.1 == theirs.1 || (atof(t) == 0.0 && view.double == 0.0));
            if !same {
                mismatches.push(format!(
                    "{:?}: ours {ours:?} ({}), sqlite {theirs:?} ({})",
                    String::from_utf8_lossy(t),
                    atof(t),
                    view.double
                ));
            }
            assert!(!render(&v, ColumnType::Text).is_empty());
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches, first: {:#?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );
}
