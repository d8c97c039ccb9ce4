//! SQLite's math functions (built in since 3.35 when compiled with
//! SQLITE_ENABLE_MATH_FUNCTIONS, as the sqlite3 tool is and as this workspace builds
//! rusqlite's bundled SQLite: `.cargo/config.toml`) and TRUE/FALSE, compared with
//! rusqlite value by value, reals bit for bit: every one-argument function over
//! arguments inside and outside its domain (NULL there), the two-argument ones over all
//! pairs, the functions over a table's columns, and their errors.

mod common;
use common::{same_as_sqlite, same_as_sqlite_with_messages, sqlite_rows, strata_rows};

const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "0.5",
    "-0.5",
    "3.7",
    "-3.7",
    "1e308",
    "-1e308",
    "100",
    "1e-300",
    "'4'",
    "'2.5'",
    "' 9 '",
    "'abc'",
    "x'31'",
    "NULL",
    "9223372036854775807",
    "-9223372036854775808",
    "0.0",
    "-0.0",
];

const ONE_ARG: &[&str] = &[
    "ceil", "ceiling", "floor", "trunc", "ln", "log", "log10", "log2", "exp", "acos", "asin",
    "atan", "cos", "sin", "tan", "cosh", "sinh", "tanh", "acosh", "asinh", "atanh", "sqrt",
    "radians", "degrees",
];

#[test]
fn the_reference_has_math_functions() {
    let c = rusqlite::Connection::open_in_memory().unwrap();
    assert!(
        sqlite_rows(&c, "SELECT sqrt(4)").is_ok(),
        "rusqlite's SQLite lacks the math functions: is .cargo/config.toml's LIBSQLITE3_FLAGS in effect?"
    );
}

#[test]
fn every_function_over_every_value() {
    let ours = strata::Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let mut statements = vec!["SELECT pi(), typeof(pi())".to_string()];
    for f in ONE_ARG {
        let cols: Vec<String> = VALUES.iter().map(|v| format!("{f}({v})")).collect();
        statements.push(format!("SELECT {}", cols.join(", ")));
    }
    for f in ["pow", "power", "mod", "atan2", "log"] {
        for a in VALUES {
            let cols: Vec<String> = VALUES.iter().map(|b| format!("{f}({a}, {b})")).collect();
            statements.push(format!("SELECT {}", cols.join(", ")));
        }
    }
    for sql in &statements {
        // Values compare exactly (`V::Real` holds the bits).
        assert_eq!(strata_rows(&ours, sql), sqlite_rows(&theirs, sql), "{sql}");
    }
}

#[test]
fn over_columns_and_true_false() {
    same_as_sqlite(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, c REAL, s TEXT);
         INSERT INTO t(a, c, s) VALUES (4, 2.25, '9'), (-3, -0.5, 'x'), (NULL, 1e10, NULL), (0, 0.0, '1e2'), (7, 3.5, ' 16');
         SELECT id, sqrt(a), pow(c, 2), exp(c), ln(a), log(2, a), log10(s), floor(c), ceil(c), trunc(c), mod(a, 3), mod(c, 0.75) FROM t ORDER BY id;
         SELECT id, sin(c), cos(a), tan(c), asin(c / 4), acos(a / 8.0), atan2(a, c), sinh(c), acosh(a), atanh(c / 8), degrees(c), radians(a) FROM t ORDER BY id;
         SELECT max(sqrt(abs(a))), min(ln(c)), count(exp(a)), max(floor(c / 2)) FROM t;
         SELECT floor(a / 2) AS g, count(*), max(trunc(c)) FROM t GROUP BY g ORDER BY g;
         SELECT id FROM t WHERE sqrt(a) > 1.5 ORDER BY id;
         CREATE INDEX tf ON t(floor(c));
         SELECT id FROM t WHERE floor(c) = 3 ORDER BY id;
         UPDATE t SET c = round(sqrt(abs(c)) * pi(), 6) WHERE id % 2 = 1;
         SELECT * FROM t ORDER BY id;
         SELECT TRUE, FALSE, typeof(TRUE), TRUE + FALSE, TRUE = 1, FALSE IS 0;
         SELECT id, a > 2 IS TRUE, s IS NOT FALSE, c IS FALSE, (a = 4) = TRUE, CASE WHEN c > 0 THEN TRUE ELSE FALSE END FROM t ORDER BY id;
         SELECT count(*) FROM t WHERE (a > 3) = FALSE OR (c < 0) IS TRUE;
         SELECT id FROM t WHERE a IS NOT TRUE ORDER BY id;
         SELECT NULL IS TRUE, NULL IS NOT FALSE, 'true' IS TRUE, 0.5 IS TRUE, x'00' IS FALSE",
    );
}

#[test]
fn argument_errors() {
    same_as_sqlite_with_messages(
        "SELECT sqrt();
         SELECT sqrt(1, 2);
         SELECT pow(2);
         SELECT log(1, 2, 3);
         SELECT pi(1);
         SELECT atan2(1)",
    );
}
