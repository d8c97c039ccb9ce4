//! An aggregate inside a window definition (PARTITION BY, ORDER BY, a window function's
//! argument or FILTER) makes the whole SELECT an aggregate query, as in SQLite: without
//! GROUP BY the window then runs over the one group. Every statement runs on Strata and
//! on rusqlite (bundled SQLite); rows and error messages must be the same.

mod common;
use common::*;

const SETUP: &str = "CREATE TABLE t(x, g);
INSERT INTO t VALUES (1, 'a'), (2, 'a'), (4, 'b');
CREATE TABLE e(x, g);
";

#[test]
fn aggregate_in_window_order_by() {
    check_script(&format!(
        "{SETUP}
SELECT x, row_number() OVER (ORDER BY sum(x)) FROM t WHERE x = 2;
SELECT row_number() OVER (ORDER BY sum(x)) FROM t;
SELECT sum(x) OVER (ORDER BY sum(x)) FROM t WHERE x = 2;
SELECT sum(x) OVER (ORDER BY max(x)) FROM t;
SELECT sum(x) OVER (ORDER BY sum(x)), min(x) FROM t;
SELECT count(*) OVER (ORDER BY sum(x)), sum(x) FROM t;
SELECT rank() OVER (ORDER BY count(*)) FROM t;
SELECT row_number() OVER (ORDER BY sum(x)) FROM e;
SELECT sum(x) OVER (ORDER BY sum(x)) FROM e;
SELECT g, row_number() OVER (ORDER BY sum(x) DESC) FROM t GROUP BY g ORDER BY g;
SELECT g, sum(x), rank() OVER (ORDER BY sum(x)) FROM t GROUP BY g ORDER BY g;
SELECT row_number() OVER (ORDER BY sum(x)) FROM t GROUP BY g HAVING count(*) > 1;
SELECT row_number() OVER (ORDER BY sum(x)) FROM t HAVING count(*) > 5;
SELECT row_number() OVER (ORDER BY sum(x)) FROM t HAVING count(*) = 3;
"
    ));
}

#[test]
fn aggregate_in_partition_by() {
    check_script(&format!(
        "{SETUP}
SELECT row_number() OVER (PARTITION BY count(*)) FROM t;
SELECT count(*) OVER (PARTITION BY max(x)) FROM t;
SELECT g, row_number() OVER (PARTITION BY count(*) ORDER BY g) FROM t GROUP BY g ORDER BY g;
SELECT row_number() OVER (PARTITION BY count(*)) FROM e;
"
    ));
}

#[test]
fn aggregate_as_window_argument() {
    check_script(&format!(
        "{SETUP}
SELECT max(sum(x)) OVER () FROM t;
SELECT max(sum(x)) OVER () FROM e;
SELECT sum(count(*)) OVER () FROM t;
SELECT lag(count(*)) OVER () FROM t;
SELECT lag(count(*)) OVER (ORDER BY x) FROM t;
SELECT lag(count(*)) OVER (ORDER BY x), max(x) FROM t;
SELECT count(*) FROM (SELECT x, row_number() OVER (ORDER BY sum(x)) FROM t);
SELECT count(*) FROM (SELECT x, sum(x) OVER (PARTITION BY count(*)) FROM t);
SELECT g, lag(count(*)) OVER (ORDER BY g) FROM t GROUP BY g ORDER BY g;
SELECT g, max(sum(x)) OVER (ORDER BY g) FROM t GROUP BY g ORDER BY g;
SELECT g, sum(sum(x)) OVER (ORDER BY g) FROM t GROUP BY g ORDER BY g;
SELECT first_value(avg(x)) OVER () FROM t;
SELECT max(x) OVER (), sum(x), min(x) FROM t;
SELECT max(x), sum(x) OVER () FROM t;
"
    ));
}

#[test]
fn named_window_and_filter() {
    check_script(&format!(
        "{SETUP}
SELECT row_number() OVER w FROM t WINDOW w AS (ORDER BY sum(x));
SELECT sum(x) OVER w FROM t WINDOW w AS (ORDER BY max(x));
SELECT count(*) OVER w FROM t WINDOW w AS (PARTITION BY min(x));
SELECT g, rank() OVER w FROM t GROUP BY g WINDOW w AS (ORDER BY count(*)) ORDER BY g;
SELECT row_number() OVER (ORDER BY sum(x) FILTER (WHERE x > 1)) FROM t;
SELECT count(*) FILTER (WHERE x > 1) OVER (ORDER BY max(x)) FROM t;
SELECT count(*) FILTER (WHERE x > 1) OVER (ORDER BY sum(x)), min(x) FROM t;
SELECT sum(x) FILTER (WHERE sum(x) > 1) OVER (), max(x) FROM t;
SELECT sum(x) FILTER (WHERE sum(x) > 9) OVER (), max(x) FROM t;
SELECT max(count(*) FILTER (WHERE x > 1)) OVER () FROM t;
"
    ));
}

/// SQLite's bare-column rule: with min()/max() the bare column comes from the row that
/// made the extreme; otherwise from some row (only compared where determined).
#[test]
fn bare_columns() {
    check_script(&format!(
        "{SETUP}
SELECT x, min(x) OVER (ORDER BY max(x)) FROM t;
SELECT g, max(x), row_number() OVER (ORDER BY max(x)) FROM t;
SELECT x, rank() OVER (ORDER BY min(x)), min(x) FROM t;
SELECT x, row_number() OVER (ORDER BY sum(x)) FROM t WHERE x = 3;
"
    ));
}

#[test]
fn errors() {
    check_script(&format!(
        "{SETUP}
SELECT sum(sum(x)) FROM t;
SELECT sum(max(x)) FROM t GROUP BY g;
SELECT row_number() OVER (ORDER BY sum(sum(x))) FROM t;
SELECT row_number() OVER (ORDER BY row_number() OVER ()) FROM t;
SELECT sum(x) OVER (ORDER BY sum(x)) FROM t WHERE sum(x) > 1;
SELECT row_number() OVER (ORDER BY sum(x)) FROM t WHERE max(x) > 1;
SELECT max(sum(x)) OVER () FROM t WHERE max(x) > 1;
SELECT count(*) FILTER (WHERE sum(x) > 1) OVER () FROM t WHERE max(x) > 1;
SELECT sum(x) OVER w FROM t WHERE sum(x) > 1 WINDOW w AS (ORDER BY sum(x));
SELECT x FROM t WHERE sum(x) > 1 WINDOW w AS (ORDER BY sum(x));
SELECT row_number() OVER (ORDER BY sum(x)) FROM t HAVING x > 1;
SELECT row_number() OVER (ORDER BY sum(x)) FROM t HAVING max(x) > 1;
SELECT max(sum(x)) OVER () FROM t HAVING max(x) > 1;
SELECT max(sum(x)) OVER () FROM t HAVING max(x) > 5;
SELECT sum(x) OVER w FROM t HAVING count(*) = 3 WINDOW w AS (ORDER BY sum(x));
SELECT x FROM t HAVING x > 1 WINDOW w AS (ORDER BY sum(x));
SELECT x FROM t ORDER BY row_number() OVER (ORDER BY sum(x));
SELECT x FROM t ORDER BY max(sum(x)) OVER ();
SELECT max(sum(x)) OVER () FROM t ORDER BY sum(x);
SELECT row_number() OVER (ORDER BY sum(x)) FROM t ORDER BY count(*);
SELECT row_number() OVER w FROM t ORDER BY count(*) WINDOW w AS (PARTITION BY max(x));
SELECT x FROM t ORDER BY row_number() OVER (ORDER BY sum(x)), max(x);
SELECT sum(x) FILTER (WHERE max(x) > 1) FROM t;
SELECT sum(x) FILTER (WHERE max(x) > 1) FROM t GROUP BY g;
SELECT sum(max(x)) FROM t;
SELECT count(*) FROM t WINDOW w AS (ORDER BY sum(x));
SELECT x FROM t WINDOW w AS (ORDER BY sum(x));
SELECT x FROM t GROUP BY sum(x);
SELECT x FROM t GROUP BY row_number() OVER ();
SELECT sum(x) OVER (PARTITION BY sum(x) OVER ()) FROM t;
SELECT max(sum(x) OVER ()) OVER () FROM t;
"
    ));
}

/// The shape the sql_diff fuzz target generates (`window_sql`, kind 4).
#[test]
fn fuzz_shape() {
    let mut script = String::from(
        "CREATE TABLE f(k INTEGER PRIMARY KEY, a INT, b TEXT, c REAL);
INSERT INTO f VALUES (1, 3, 'x', 1.5), (2, 1, NULL, -2.0), (3, 3, 'y', NULL), (4, NULL, 'x', 7.25);
",
    );
    for func in [
        "row_number()",
        "ntile(2)",
        "lag(sum(c))",
        "lead(sum(c), 1, -1)",
        "nth_value(sum(c), 1)",
        "count(sum(c))",
        "avg(sum(c))",
    ] {
        for filter in ["1", "a > 2", "k > 9"] {
            script.push_str(&format!(
                "SELECT count(*), {func} OVER (ORDER BY max(a)), rank() OVER (PARTITION BY count(*) ORDER BY sum(k)), max(sum(a)) OVER w FROM f WHERE {filter} WINDOW w AS (ORDER BY min(c));\n"
            ));
        }
    }
    check_script(&script);
}
