//! Window functions, checked against SQLite itself: every statement runs on Strata and on
//! rusqlite (bundled SQLite) and must return the same rows (values and storage classes,
//! in the same order) or fail on both with the same message.

mod common;
use common::*;
use strata::Connection;

/// Runs every statement of `script` on both engines and reports all differences at
/// once (messages of failures included).
fn check(script: &str) {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    check_on(&ours, &theirs, script);
}

fn check_on(ours: &Connection, theirs: &rusqlite::Connection, script: &str) {
    let mut bad = Vec::new();
    for sql in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let a = strata_rows(ours, sql);
        let b = sqlite_rows(theirs, sql);
        if a != b {
            let short = |r: &Result<Vec<Vec<V>>, String>| {
                let s = format!("{r:?}");
                s.chars().take(600).collect::<String>()
            };
            bad.push(format!(
                "{sql}\n  strata: {}\n  sqlite: {}",
                short(&a),
                short(&b)
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} statements differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

const SETUP: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, g TEXT, x INT, y REAL, s TEXT);
INSERT INTO t VALUES (1, 'a', 1, 1.5, 'p'), (2, 'a', 2, 2.5, 'q'), (3, 'a', 2, NULL, 'r'),
  (4, 'b', 5, 0.25, 's'), (5, 'b', NULL, 3.0, NULL), (6, 'b', 7, -1.0, 't'),
  (7, NULL, 3, 2.0, 'u'), (8, NULL, 3, 2.0, 'v'), (9, 'c', 10, 1e300, 'w'), (10, 'a', 4, 0.5, 'x');
";

#[test]
fn ranking_functions() {
    check(&format!(
        "{SETUP}
SELECT id, row_number() OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, g, x, row_number() OVER (PARTITION BY g ORDER BY x, id), rank() OVER (PARTITION BY g ORDER BY x), dense_rank() OVER (PARTITION BY g ORDER BY x) FROM t ORDER BY id;
SELECT id, percent_rank() OVER (ORDER BY x), cume_dist() OVER (ORDER BY x) FROM t ORDER BY id;
SELECT id, percent_rank() OVER (PARTITION BY g ORDER BY x), cume_dist() OVER (PARTITION BY g ORDER BY x DESC) FROM t ORDER BY id;
SELECT id, ntile(3) OVER (ORDER BY id), ntile(4) OVER (PARTITION BY g ORDER BY id), ntile(100) OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, ntile(0) OVER (ORDER BY id) FROM t;
SELECT id, ntile(NULL) OVER (ORDER BY id) FROM t;
SELECT id, ntile('2') OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, rank() OVER (), dense_rank() OVER (), percent_rank() OVER (), cume_dist() OVER () FROM t ORDER BY id;
SELECT x, rank() OVER (ORDER BY x DESC NULLS FIRST), rank() OVER (ORDER BY x NULLS LAST) FROM t ORDER BY id;
SELECT row_number() OVER ();
SELECT row_number() OVER (ORDER BY x) FROM t WHERE 0;
"
    ));
}

#[test]
fn lag_lead_and_values() {
    check(&format!(
        "{SETUP}
SELECT id, lag(x) OVER (ORDER BY id), lead(x) OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, lag(x, 2) OVER (ORDER BY id), lead(x, 3, -1) OVER (ORDER BY id), lag(s, 1, 'none') OVER (PARTITION BY g ORDER BY id) FROM t ORDER BY id;
SELECT id, lag(x, -1) OVER (ORDER BY id), lead(x, 0) OVER (ORDER BY id), lag(x, NULL) OVER (ORDER BY id), lag(x, 1.5) OVER (ORDER BY id), lag(x, '1') OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, lag(x, id % 3, id * 10) OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, first_value(x) OVER (ORDER BY id), last_value(x) OVER (ORDER BY id), nth_value(x, 2) OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, first_value(s) OVER w, last_value(s) OVER w, nth_value(s, 3) OVER w FROM t WINDOW w AS (PARTITION BY g ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) ORDER BY id;
SELECT id, nth_value(x, 0) OVER (ORDER BY id) FROM t;
SELECT id, nth_value(x, -1) OVER (ORDER BY id) FROM t;
SELECT id, nth_value(x, 1.5) OVER (ORDER BY id) FROM t;
SELECT id, nth_value(x, 2.0) OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, first_value(x) OVER (ORDER BY id ROWS BETWEEN 2 FOLLOWING AND 3 FOLLOWING) FROM t ORDER BY id;
SELECT id, last_value(x) OVER (PARTITION BY g) FROM t ORDER BY id;
"
    ));
}

#[test]
fn aggregates_over_frames() {
    check(&format!(
        "{SETUP}
SELECT id, sum(x) OVER (ORDER BY id), count(*) OVER (ORDER BY id), count(x) OVER (ORDER BY id), avg(x) OVER (ORDER BY id), total(x) OVER (ORDER BY id), min(x) OVER (ORDER BY id), max(x) OVER (ORDER BY id), group_concat(s) OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, sum(x) OVER (), count(*) OVER (PARTITION BY g), group_concat(s, '-') OVER (PARTITION BY g ORDER BY id DESC), string_agg(s, ';') OVER (PARTITION BY g) FROM t ORDER BY id;
SELECT id, sum(x) OVER (ORDER BY x), sum(x) OVER (ORDER BY x ROWS UNBOUNDED PRECEDING) FROM t ORDER BY id;
SELECT id, sum(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), sum(y) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), avg(y) OVER (ORDER BY id ROWS 1 PRECEDING) FROM t ORDER BY id;
SELECT id, min(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), max(s) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING), group_concat(x) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING) FROM t ORDER BY id;
SELECT id, sum(x) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), count(x) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM t ORDER BY id;
SELECT id, sum(x) OVER (ORDER BY id ROWS BETWEEN 3 PRECEDING AND 2 PRECEDING), sum(x) OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING) FROM t ORDER BY id;
SELECT x, sum(id) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING), count(*) OVER (ORDER BY x RANGE 2 PRECEDING) FROM t ORDER BY id;
SELECT x, sum(id) OVER (ORDER BY x DESC RANGE BETWEEN 1 PRECEDING AND 2 FOLLOWING), group_concat(id) OVER (ORDER BY x DESC RANGE BETWEEN CURRENT ROW AND 1 FOLLOWING) FROM t ORDER BY id;
SELECT y, count(*) OVER (ORDER BY y RANGE BETWEEN 0.5 PRECEDING AND 0.5 FOLLOWING), sum(id) OVER (ORDER BY y NULLS LAST RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t ORDER BY id;
SELECT s, count(*) OVER (ORDER BY s RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t ORDER BY id;
SELECT x, sum(id) OVER (ORDER BY x GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING), group_concat(id, '.') OVER (ORDER BY x, id GROUPS 2 PRECEDING), count(*) OVER (ORDER BY x GROUPS BETWEEN CURRENT ROW AND 2 FOLLOWING) FROM t ORDER BY id;
SELECT x, sum(id) OVER (ORDER BY x GROUPS BETWEEN 2 FOLLOWING AND 3 FOLLOWING), sum(id) OVER (ORDER BY x GROUPS BETWEEN 2 PRECEDING AND 1 PRECEDING) FROM t ORDER BY id;
SELECT x, sum(id) OVER (ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING), sum(id) OVER (ORDER BY x RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) FROM t ORDER BY id;
SELECT id, sum(x) FILTER (WHERE x > 2) OVER (ORDER BY id), count(*) FILTER (WHERE g = 'a') OVER (), avg(y) FILTER (WHERE id % 2 = 0) OVER (ORDER BY id ROWS 2 PRECEDING) FROM t ORDER BY id;
SELECT id, sum(y) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) FROM t ORDER BY id;
"
    ));
}

#[test]
fn exclude_clauses() {
    check(&format!(
        "{SETUP}
SELECT id, x, sum(id) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) FROM t ORDER BY id;
SELECT id, x, group_concat(id) OVER (ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE GROUP) FROM t ORDER BY id;
SELECT id, x, group_concat(id) OVER (ORDER BY x, id GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES) FROM t ORDER BY id;
SELECT id, x, group_concat(id) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE TIES), count(*) OVER (ORDER BY x EXCLUDE NO OTHERS) FROM t ORDER BY id;
SELECT id, x, first_value(id) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE CURRENT ROW), last_value(id) OVER (ORDER BY x EXCLUDE GROUP), nth_value(id, 2) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE TIES) FROM t ORDER BY id;
SELECT id, min(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW), max(x) OVER (ORDER BY x EXCLUDE GROUP), avg(x) OVER (ORDER BY x EXCLUDE TIES) FROM t ORDER BY id;
"
    ));
}

#[test]
fn named_windows_and_inheritance() {
    check(&format!(
        "{SETUP}
SELECT id, sum(x) OVER w, row_number() OVER w FROM t WINDOW w AS (PARTITION BY g ORDER BY id) ORDER BY id;
SELECT id, sum(x) OVER (w ORDER BY id), count(*) OVER (w), max(x) OVER w FROM t WINDOW w AS (PARTITION BY g) ORDER BY id;
SELECT id, sum(x) OVER (w ROWS 1 PRECEDING) FROM t WINDOW w AS (ORDER BY id) ORDER BY id;
SELECT id, sum(x) OVER w2 FROM t WINDOW w1 AS (PARTITION BY g), w2 AS (w1 ORDER BY x, id) ORDER BY id;
SELECT id, sum(x) OVER nope FROM t;
SELECT id, sum(x) OVER (nope ORDER BY id) FROM t;
SELECT id, sum(x) OVER (w PARTITION BY x) FROM t WINDOW w AS (ORDER BY id);
SELECT id, sum(x) OVER (w ORDER BY x) FROM t WINDOW w AS (ORDER BY id);
SELECT id, sum(x) OVER (w ORDER BY x) FROM t WINDOW w AS (PARTITION BY g ROWS 1 PRECEDING);
SELECT id, row_number() OVER (ORDER BY id), row_number() OVER (ORDER BY id DESC), rank() OVER (ORDER BY g), sum(id) OVER (PARTITION BY x) FROM t ORDER BY id;
SELECT id, row_number() OVER (ORDER BY x DESC, id), row_number() OVER (ORDER BY id) FROM t;
SELECT id, row_number() OVER (ORDER BY g, id), lag(id) OVER (ORDER BY s) FROM t;
"
    ));
}

#[test]
fn windows_with_group_by_order_by_distinct_limit() {
    check(&format!(
        "{SETUP}
SELECT g, sum(x), rank() OVER (ORDER BY sum(x) DESC), sum(sum(x)) OVER (ORDER BY g), count(*) OVER () FROM t GROUP BY g ORDER BY g;
SELECT g, count(*) AS c, row_number() OVER (ORDER BY count(*), g) FROM t GROUP BY g HAVING count(*) > 1 ORDER BY g;
SELECT count(*), sum(count(*)) OVER () FROM t;
SELECT max(x), row_number() OVER () FROM t WHERE x > 100;
SELECT id, x FROM t ORDER BY row_number() OVER (ORDER BY x DESC, id);
SELECT id, rank() OVER (ORDER BY x) AS r FROM t ORDER BY r DESC, id;
SELECT id, rank() OVER (ORDER BY x) FROM t ORDER BY 2, 1 LIMIT 4;
SELECT id, rank() OVER (ORDER BY x) FROM t ORDER BY 2, 1 LIMIT 3 OFFSET 2;
SELECT DISTINCT g, count(*) OVER (PARTITION BY g) FROM t ORDER BY 1;
SELECT DISTINCT rank() OVER (ORDER BY x) FROM t ORDER BY 1;
SELECT id + row_number() OVER (ORDER BY id) * 100, x * 2 + sum(x) OVER (ORDER BY id) FROM t ORDER BY id;
SELECT *, row_number() OVER (ORDER BY id DESC) FROM t ORDER BY id;
SELECT t.*, sum(x) OVER () FROM t ORDER BY id;
SELECT id, (SELECT count(*) FROM t AS u WHERE u.x < t.x) AS c, rank() OVER (ORDER BY x) FROM t ORDER BY id;
SELECT id, sum(x) OVER (ORDER BY id) FROM t WHERE g = 'a' ORDER BY id;
SELECT * FROM (SELECT id, row_number() OVER (PARTITION BY g ORDER BY x DESC, id) AS rn FROM t) WHERE rn = 1 ORDER BY id;
WITH r AS (SELECT g, x, dense_rank() OVER (ORDER BY x) AS d FROM t) SELECT g, max(d) FROM r GROUP BY g ORDER BY g;
SELECT id, (SELECT sum(x) OVER () FROM t AS u WHERE u.id = t.id) FROM t ORDER BY id;
SELECT a.id, b.id, row_number() OVER (ORDER BY a.id, b.id) FROM t AS a JOIN t AS b ON a.x = b.x AND a.id < b.id ORDER BY 1, 2;
SELECT id, rank() OVER (ORDER BY x) FROM t UNION ALL SELECT 0, 0 ORDER BY 1, 2;
SELECT x, count(*) OVER (PARTITION BY x % 2 ORDER BY x) FROM t ORDER BY id;
SELECT g COLLATE NOCASE, count(*) OVER (PARTITION BY upper(g)) FROM t ORDER BY id;
"
    ));
}

#[test]
fn errors() {
    check(&format!(
        "{SETUP}
SELECT id FROM t WHERE row_number() OVER () > 1;
SELECT id FROM t GROUP BY row_number() OVER ();
SELECT g FROM t GROUP BY g HAVING sum(x) OVER () > 1;
SELECT row_number() FROM t;
SELECT row_number(1) OVER () FROM t;
SELECT ntile() OVER () FROM t;
SELECT lag() OVER () FROM t;
SELECT lag(x, 1, 2, 3) OVER () FROM t;
SELECT abs(x) OVER () FROM t;
SELECT nosuch(x) OVER () FROM t;
SELECT sum(row_number() OVER ()) FROM t;
SELECT sum(row_number() OVER ()) OVER () FROM t;
SELECT count(DISTINCT x) OVER () FROM t;
SELECT row_number() FILTER (WHERE x > 1) OVER () FROM t;
SELECT sum(x) OVER (ORDER BY x RANGE 1 PRECEDING) FROM t WHERE 0;
SELECT sum(x) OVER (RANGE 1 PRECEDING) FROM t;
SELECT sum(x) OVER (ORDER BY x, id RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t;
SELECT sum(x) OVER (ORDER BY id ROWS -1 PRECEDING) FROM t;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND -1 FOLLOWING) FROM t;
SELECT sum(x) OVER (ORDER BY id ROWS 1.5 PRECEDING) FROM t;
SELECT sum(x) OVER (ORDER BY id ROWS 'a' PRECEDING) FROM t;
SELECT sum(x) OVER (ORDER BY id GROUPS NULL PRECEDING) FROM t;
SELECT sum(x) OVER (ORDER BY x RANGE -1 PRECEDING) FROM t;
SELECT sum(x) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND 'a' FOLLOWING) FROM t;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND 1 PRECEDING) FROM t;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND CURRENT ROW) FROM t;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND 1 PRECEDING) FROM t;
SELECT sum(x) OVER (ORDER BY id ROWS '2' PRECEDING) FROM t ORDER BY id;
SELECT sum(x) OVER (ORDER BY x RANGE 1.5 PRECEDING) FROM t ORDER BY id;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN x PRECEDING AND CURRENT ROW) FROM t ORDER BY id;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN 1 + 1 PRECEDING AND abs(-1) FOLLOWING) FROM t ORDER BY id;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN (SELECT 1) PRECEDING AND CURRENT ROW) FROM t ORDER BY id;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN x PRECEDING AND CURRENT ROW) FROM t WHERE 0;
SELECT id, sum(x) OVER () AS s FROM t WHERE s > 0;
UPDATE t SET y = row_number() OVER () WHERE id = 1;
DELETE FROM t WHERE rank() OVER (ORDER BY x) = 1;
INSERT INTO t(x) VALUES (row_number() OVER ());
INSERT INTO t(id, x) VALUES (100, 1) RETURNING id, row_number() OVER ();
SELECT id FROM t ORDER BY id LIMIT row_number() OVER ();
SELECT x, count(*) FROM t GROUP BY x ORDER BY sum(x) OVER (), x;
SELECT g, count(*) OVER () AS c FROM t GROUP BY c;
SELECT g, count(*) OVER () AS c FROM t GROUP BY g HAVING c > 0;
SELECT id, row_number() OVER (ORDER BY id) AS r FROM t ORDER BY r LIMIT 3;
SELECT id, row_number() OVER (ORDER BY id DESC) FROM t LIMIT 3;
SELECT id, row_number() OVER (ORDER BY id DESC) FROM t LIMIT 3 OFFSET 8;
SELECT x, (SELECT row_number() OVER ()) FROM t ORDER BY id;
SELECT min(id) OVER (ORDER BY id ROWS CURRENT ROW) FROM t ORDER BY 1;
SELECT id, count(*) OVER (ORDER BY id RANGE CURRENT ROW), count(*) OVER (ORDER BY x GROUPS CURRENT ROW) FROM t ORDER BY id;
SELECT id, sum(id) OVER (ORDER BY x RANGE UNBOUNDED PRECEDING EXCLUDE TIES) FROM t ORDER BY id;
SELECT sum(x) OVER (ORDER BY id ROWS BETWEEN -(-1) PRECEDING AND CAST('2' AS INT) FOLLOWING) FROM t ORDER BY id;
"
    ));
}

/// What is not supported is a clear error, never a guessed answer.
#[test]
fn unsupported_is_refused() {
    refused(
        SETUP,
        "SELECT id, row_number() OVER (ORDER BY id) IN (SELECT x FROM t AS u WHERE u.id < t.x) FROM t ORDER BY id",
        "not supported",
    );
    // ORDER BY inside a window call: SQLite's own error (aggregate_order_by.rs has more).
    check(&format!(
        "{SETUP}
SELECT id, group_concat(s ORDER BY id) OVER () FROM t;
SELECT id, row_number(ORDER BY id) OVER () FROM t ORDER BY id;
"
    ));
}

/// A tiny deterministic generator (xorshift) so the data is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn randomised_against_sqlite() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut script =
        String::from("CREATE TABLE r(id INTEGER PRIMARY KEY, p INT, o INT, v, w TEXT);\n");
    for id in 1..=300 {
        let p = match rng.below(6) {
            0 => "NULL".to_string(),
            k => k.to_string(),
        };
        let o = match rng.below(12) {
            0 => "NULL".to_string(),
            k => (k * 3 % 17).to_string(),
        };
        let v = match rng.below(5) {
            0 => "NULL".to_string(),
            1 => format!("{}.5", rng.below(100)),
            _ => rng.below(1000).to_string(),
        };
        let w = match rng.below(4) {
            0 => "NULL".to_string(),
            k => format!("'s{}'", k * rng.below(9)),
        };
        script.push_str(&format!(
            "INSERT INTO r VALUES ({id}, {p}, {o}, {v}, {w});\n"
        ));
    }
    let funcs = [
        "row_number()",
        "rank()",
        "dense_rank()",
        "percent_rank()",
        "cume_dist()",
        "ntile(4)",
        "lag(v)",
        "lead(v, 2, 'd')",
        "first_value(v)",
        "last_value(w)",
        "nth_value(v, 3)",
        "count(*)",
        "count(v)",
        "sum(v)",
        "total(v)",
        "avg(v)",
        "min(w)",
        "max(v)",
        "group_concat(w)",
        "sum(v) FILTER (WHERE o > 5)",
    ];
    let partitions = ["", "PARTITION BY p", "PARTITION BY p, o % 2"];
    let orders = [
        "",
        "ORDER BY o",
        "ORDER BY o DESC",
        "ORDER BY o, id",
        "ORDER BY o NULLS LAST",
    ];
    let units = ["ROWS", "RANGE", "GROUPS"];
    let bounds = [
        "UNBOUNDED PRECEDING",
        "2 PRECEDING",
        "CURRENT ROW",
        "1 FOLLOWING",
        "UNBOUNDED FOLLOWING",
    ];
    let excludes = ["", "EXCLUDE CURRENT ROW", "EXCLUDE GROUP", "EXCLUDE TIES"];
    for _ in 0..250 {
        let f = funcs[rng.below(funcs.len() as u64) as usize];
        let part = partitions[rng.below(partitions.len() as u64) as usize];
        let order = orders[rng.below(orders.len() as u64) as usize];
        let frame = if rng.below(4) == 0 {
            String::new()
        } else {
            let unit = units[rng.below(3) as usize];
            let mut a = rng.below(4) as usize;
            let mut b = 1 + rng.below(4) as usize;
            if a > b {
                std::mem::swap(&mut a, &mut b);
            }
            let ex = excludes[rng.below(4) as usize];
            format!("{unit} BETWEEN {} AND {} {ex}", bounds[a], bounds[b])
        };
        let f2 = funcs[rng.below(funcs.len() as u64) as usize];
        script.push_str(&format!(
            "SELECT id, {f} OVER ({part} {order} {frame}), {f2} OVER (PARTITION BY p ORDER BY id ROWS BETWEEN 3 PRECEDING AND 1 FOLLOWING) FROM r ORDER BY id;\n"
        ));
    }
    check(&script);
}

#[test]
fn edge_cases() {
    check(&format!(
        "{SETUP}
CREATE TABLE f(id INTEGER PRIMARY KEY, v);
INSERT INTO f VALUES (1, 1.5), (2, 2), (3, 3), (4, 4), (5, '7'), (6, 'x'), (7, x'01'), (8, NULL), (9, 9223372036854775807), (10, 1);
SELECT id, sum(v) OVER (ORDER BY id ROWS 1 PRECEDING), avg(v) OVER (ORDER BY id ROWS 1 PRECEDING), total(v) OVER (ORDER BY id ROWS 2 PRECEDING), count(v) OVER (ORDER BY id ROWS 1 PRECEDING) FROM f WHERE id < 9 ORDER BY id;
SELECT id, sum(v) OVER (ORDER BY id ROWS 1 PRECEDING) FROM f ORDER BY id;
SELECT id, sum(v) OVER (ORDER BY id) FROM f ORDER BY id;
SELECT id, v, count(*) OVER (ORDER BY v RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING), min(id) OVER (ORDER BY v DESC RANGE 2 PRECEDING) FROM f ORDER BY id;
SELECT id, lead(v, 9223372036854775807) OVER (ORDER BY id), lag(v, -9223372036854775807, 'd') OVER (ORDER BY id), nth_value(v, 9223372036854775807) OVER (ORDER BY id) FROM f ORDER BY id;
SELECT id, ntile(2.7) OVER (ORDER BY id), ntile('x') OVER (ORDER BY id) FROM f;
SELECT id, ntile(2.7) OVER (ORDER BY id) FROM f ORDER BY id;
SELECT id, max(v) OVER (PARTITION BY typeof(v)), min(v) OVER (PARTITION BY typeof(v) ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM f ORDER BY id;
SELECT g COLLATE NOCASE AS gg, s, count(*) OVER (PARTITION BY g COLLATE NOCASE), rank() OVER (ORDER BY s COLLATE NOCASE DESC) FROM t ORDER BY id;
SELECT id, rank() OVER (ORDER BY x) AS r FROM t ORDER BY r + 0, id;
SELECT id, row_number() OVER (ORDER BY id) FROM t ORDER BY -id LIMIT 2 OFFSET 1;
SELECT id FROM t ORDER BY rank() OVER (PARTITION BY g ORDER BY x DESC), id LIMIT 5;
SELECT (SELECT max(x) FROM t) + row_number() OVER (ORDER BY id) FROM t ORDER BY 1;
SELECT g, x, first_value(x) OVER (PARTITION BY g ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM t WHERE x IS NOT NULL ORDER BY g, x;
SELECT sum(x) OVER (ORDER BY y), y FROM t ORDER BY id;
SELECT count(*) OVER (), count(*) FROM t;
SELECT g, count(*) OVER (), count(*) FROM t GROUP BY g ORDER BY g;
SELECT x, sum(x) OVER (), avg(x) FROM t GROUP BY x HAVING x > 1 ORDER BY x;
SELECT id, x, sum(x) OVER (ORDER BY x ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t WHERE x IN (SELECT x FROM t WHERE x > 1) ORDER BY id;
CREATE VIEW v AS SELECT id, g, rank() OVER (PARTITION BY g ORDER BY x) AS r FROM t;
SELECT * FROM v ORDER BY id;
SELECT g, max(r) FROM v GROUP BY g ORDER BY g;
CREATE TABLE out(id, r);
INSERT INTO out SELECT id, dense_rank() OVER (ORDER BY x) FROM t;
SELECT * FROM out ORDER BY id;
WITH c AS (SELECT id, x, sum(x) OVER (ORDER BY id) AS run FROM t) SELECT id, run, run - lag(run, 1, 0) OVER (ORDER BY id) FROM c ORDER BY id;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) SELECT i, sum(i) OVER (ORDER BY i ROWS BETWEEN 5 PRECEDING AND 5 FOLLOWING), avg(i) OVER (ORDER BY i GROUPS BETWEEN 2 PRECEDING AND 2 FOLLOWING EXCLUDE GROUP) FROM n ORDER BY i;
SELECT id, cume_dist() OVER (PARTITION BY g ORDER BY x NULLS LAST), percent_rank() OVER (PARTITION BY g ORDER BY x DESC NULLS FIRST) FROM t ORDER BY id;
SELECT id, sum(x) OVER (ORDER BY x NULLS LAST RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING), sum(x) OVER (ORDER BY x DESC NULLS FIRST RANGE BETWEEN 1 FOLLOWING AND 3 FOLLOWING) FROM t ORDER BY id;
SELECT id, count(*) OVER (ORDER BY x RANGE BETWEEN 1 FOLLOWING AND 2 FOLLOWING), count(*) OVER (ORDER BY x DESC RANGE BETWEEN 3 PRECEDING AND 1 PRECEDING) FROM t ORDER BY id;
SELECT id, count(*) OVER (ORDER BY x DESC RANGE BETWEEN 10 FOLLOWING AND 20 FOLLOWING) FROM t ORDER BY id;
SELECT id, sum(x) OVER (ORDER BY x RANGE BETWEEN 0 PRECEDING AND 0 FOLLOWING), sum(x) OVER (ORDER BY id ROWS BETWEEN 0 PRECEDING AND 0 FOLLOWING) FROM t ORDER BY id;
"
    ));
}

#[test]
fn column_names_match_sqlite() {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    check_on(&ours, &theirs, SETUP);
    for sql in [
        "SELECT id, row_number() OVER (ORDER BY id), sum(x) OVER w AS s, rank() OVER (PARTITION BY g ORDER BY x)  FROM t WINDOW w AS (ORDER BY id)",
        "SELECT *, count(*) OVER () FROM t",
        "SELECT g, sum(sum(x)) OVER (ORDER BY g) FROM t GROUP BY g",
    ] {
        let a = ours.prepare(sql).unwrap();
        let b = theirs.prepare(sql).unwrap();
        let names_a: Vec<String> = (0..a.column_count())
            .map(|i| a.column_name(i).unwrap().to_string())
            .collect();
        let names_b: Vec<String> = b.column_names().iter().map(|s| s.to_string()).collect();
        assert_eq!(names_a, names_b, "column names differ for {sql}");
    }
}

/// A large partition: frames that only grow are stepped incrementally and sliding
/// count/sum/avg frames use inverse steps, so this stays fast (not quadratic).
#[test]
fn large_input() {
    check(
        "CREATE TABLE big(id INTEGER PRIMARY KEY, v INT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) INSERT INTO big SELECT i, (i * 7919) % 1000 FROM n;
SELECT sum(s), sum(c), sum(a), max(r) FROM (SELECT sum(v) OVER (ORDER BY id) AS s, count(*) OVER (ORDER BY v) AS c, avg(v) OVER (ORDER BY id ROWS BETWEEN 100 PRECEDING AND 100 FOLLOWING) AS a, rank() OVER (ORDER BY v) AS r FROM big);
",
    );
}

/// Reals that are not exact in binary, summed over sliding frames: the step/inverse
/// order must be SQLite's for the results to agree bit for bit.
#[test]
fn sliding_real_sums_bit_for_bit() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    let mut script = String::from("CREATE TABLE q(id INTEGER PRIMARY KEY, p INT, v);\n");
    for id in 1..=200 {
        let v = match rng.below(6) {
            0 => "NULL".to_string(),
            1 => format!("{}", rng.below(1000) as i64 - 500),
            2 => format!("1e{}", rng.below(30)),
            _ => format!("{}.{}", rng.below(100), rng.below(1000)),
        };
        script.push_str(&format!(
            "INSERT INTO q VALUES ({id}, {}, {v});\n",
            rng.below(3)
        ));
    }
    for frame in [
        "ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
        "ROWS BETWEEN 3 PRECEDING AND CURRENT ROW",
        "ROWS BETWEEN 2 FOLLOWING AND 5 FOLLOWING",
        "ROWS BETWEEN 4 PRECEDING AND 2 PRECEDING",
        "ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
        "GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
        "RANGE BETWEEN 5 PRECEDING AND 5 FOLLOWING",
    ] {
        for part in ["", "PARTITION BY p"] {
            script.push_str(&format!(
                "SELECT id, sum(v) OVER w, total(v) OVER w, avg(v) OVER w, count(v) OVER w FROM q WINDOW w AS ({part} ORDER BY id {frame}) ORDER BY id;\n"
            ));
        }
    }
    check(&script);
}

#[test]
fn output_order_without_order_by() {
    check(&format!(
        "{SETUP}
SELECT id, row_number() OVER (ORDER BY g), rank() OVER (ORDER BY x) FROM t;
SELECT id, rank() OVER (ORDER BY x), row_number() OVER (ORDER BY g) FROM t;
SELECT id, sum(x) OVER (PARTITION BY g), count(*) OVER (ORDER BY s DESC), max(id) OVER (ORDER BY y) FROM t;
SELECT id, sum(x) OVER w, count(*) OVER (ORDER BY y), min(x) OVER w FROM t WINDOW w AS (PARTITION BY g ORDER BY x);
SELECT id, row_number() OVER (PARTITION BY g) FROM t;
SELECT id, x, count(*) OVER (PARTITION BY x) FROM t;
"
    ));
}

#[test]
fn windows_in_other_contexts() {
    check(&format!(
        "{SETUP}
SELECT id, (SELECT sum(u.x) OVER (ORDER BY t.id) FROM t AS u WHERE u.id = t.id) FROM t ORDER BY id;
SELECT id, (SELECT max(r) FROM (SELECT rank() OVER (ORDER BY u.x + t.id) AS r FROM t AS u)) FROM t ORDER BY id;
SELECT id, sum((SELECT 1)) OVER (ORDER BY id), row_number() OVER (ORDER BY (SELECT 1), id) FROM t ORDER BY id;
SELECT id, CASE WHEN x > 2 THEN lag(x) OVER (ORDER BY id) ELSE s || row_number() OVER (ORDER BY id DESC) END FROM t ORDER BY id;
SELECT count(*) OVER () FROM t LIMIT 0;
SELECT id FROM t WINDOW w AS (ORDER BY id) ORDER BY id;
SELECT id FROM t WINDOW w AS (nope) ORDER BY id;
SELECT id, count(*) OVER W FROM t WINDOW w AS (ORDER BY id) ORDER BY id;
SELECT id, (SELECT count(*) OVER w FROM t AS u LIMIT 1) FROM t WINDOW w AS (ORDER BY id);
SELECT id, sum(x) OVER w FROM t WINDOW w AS (ORDER BY id), w AS (ORDER BY x) ORDER BY id;
SELECT DISTINCT x, row_number() OVER () > 0 FROM t ORDER BY 1;
SELECT x, sum(x) OVER (ORDER BY x) FROM (SELECT DISTINCT x FROM t) ORDER BY x;
CREATE TABLE log(v);
CREATE TRIGGER tr AFTER INSERT ON log BEGIN INSERT INTO log SELECT 'rank ' || rank() OVER (ORDER BY v) FROM log WHERE typeof(new.v) = 'integer'; END;
INSERT INTO log VALUES (3);
SELECT * FROM log ORDER BY rowid;
UPDATE t SET y = (SELECT count(*) OVER () FROM t AS u WHERE u.g = t.g LIMIT 1) WHERE id < 4;
SELECT id, y FROM t ORDER BY id;
DELETE FROM t WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY g ORDER BY id DESC) AS rn FROM t) WHERE rn > 2);
SELECT id FROM t ORDER BY id;
SELECT id, ntile(2) OVER w, percent_rank() OVER w FROM t WINDOW w AS (ORDER BY id ROWS 1 PRECEDING) ORDER BY id;
SELECT 1 WHERE 1 IN (SELECT row_number() OVER ());
SELECT id, row_number() OVER (ORDER BY id) IN (SELECT x FROM t) FROM t ORDER BY id;
SELECT id, lag(x) OVER (ORDER BY id) NOT IN (SELECT x + 1 FROM t WHERE x IS NOT NULL) FROM t ORDER BY id;
VALUES (1) UNION ALL SELECT row_number() OVER () FROM t;
"
    ));
}

#[test]
fn window_clause_resolution() {
    check(&format!(
        "{SETUP}
SELECT id, sum(x) OVER w2 FROM t WINDOW w2 AS (w1 ORDER BY id), w1 AS (PARTITION BY g) ORDER BY id;
SELECT id, sum(x) OVER w2 FROM t WINDOW w1 AS (PARTITION BY g), w2 AS (w1 ORDER BY id), w1 AS (PARTITION BY x) ORDER BY id;
SELECT id, sum(x) OVER (w1 ORDER BY id) FROM t WINDOW w1 AS (PARTITION BY g), w1 AS (PARTITION BY x) ORDER BY id;
SELECT id, sum(x) OVER w3 FROM t WINDOW w1 AS (PARTITION BY g), w2 AS (w1), w3 AS (w2 ORDER BY id) ORDER BY id;
SELECT id, sum(x) OVER w2 FROM t WINDOW w1 AS (PARTITION BY g ORDER BY id), w2 AS (w1 ROWS 1 PRECEDING) ORDER BY id;
SELECT id, sum(x) OVER w2 FROM t WINDOW w2 AS (w2) ORDER BY id;
SELECT id FROM t WINDOW w1 AS (ORDER BY id), w2 AS (w1 ORDER BY x);
SELECT id FROM t WINDOW w1 AS (ORDER BY id), w2 AS (nope);
SELECT id FROM t WINDOW w1 AS (ORDER BY id ROWS 1 PRECEDING), w2 AS (w1);
SELECT id FROM t WINDOW w1 AS (PARTITION BY g), w2 AS (w1 PARTITION BY x);
"
    ));
}

/// Frames whose start comes after their end are empty.
#[test]
fn inverted_frames() {
    check(&format!(
        "{SETUP}
SELECT id, sum(x) OVER w, count(*) OVER w, first_value(id) OVER w, max(x) OVER w, group_concat(id) OVER w FROM t WINDOW w AS (ORDER BY id ROWS BETWEEN 2 FOLLOWING AND 1 FOLLOWING) ORDER BY id;
SELECT id, sum(x) OVER w, count(*) OVER w, first_value(id) OVER w, avg(x) OVER w FROM t WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 2 PRECEDING) ORDER BY id;
SELECT id, sum(x) OVER w, count(*) OVER w, last_value(id) OVER w FROM t WINDOW w AS (ORDER BY x GROUPS BETWEEN 1 PRECEDING AND 2 PRECEDING) ORDER BY id;
SELECT id, sum(x) OVER w, count(*) OVER w, nth_value(id, 1) OVER w FROM t WINDOW w AS (ORDER BY x RANGE BETWEEN 3 PRECEDING AND 5 PRECEDING) ORDER BY id;
SELECT id, sum(x) OVER w, count(x) OVER w, total(x) OVER w FROM t WINDOW w AS (ORDER BY x DESC RANGE BETWEEN 4 FOLLOWING AND 2 FOLLOWING) ORDER BY id;
SELECT id, sum(x) OVER w, count(*) OVER w FROM t WINDOW w AS (PARTITION BY g ORDER BY id ROWS BETWEEN 3 FOLLOWING AND 2 FOLLOWING EXCLUDE CURRENT ROW) ORDER BY id;
"
    ));
}

/// group_concat's window form: empty strings, NULLs and separators that vary per row,
/// over growing, sliding and excluding frames (SQLite's inverse bookkeeping).
#[test]
fn group_concat_windows() {
    check(
        "CREATE TABLE e(id INTEGER PRIMARY KEY, x, sep);
INSERT INTO e VALUES (1, '', ','), (2, '', '--'), (3, 'b', NULL), (4, '', ';'), (5, NULL, '+'), (6, 'cc', ''), (7, 'd', '::'), (8, '', ','), (9, 2.5, '|'), (10, 7, ',');
SELECT id, group_concat(x) OVER (), group_concat(x) OVER (ORDER BY id), group_concat(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), group_concat(x, '') OVER (ORDER BY id ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING), group_concat(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 PRECEDING) FROM e ORDER BY id;
SELECT id, group_concat(x, sep) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW), group_concat(x, sep) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 2 FOLLOWING), string_agg(x, sep) OVER (ORDER BY id) FROM e ORDER BY id;
SELECT id, group_concat(x, sep) OVER (ORDER BY id ROWS BETWEEN 3 PRECEDING AND 1 PRECEDING), group_concat(x) OVER (ORDER BY id ROWS BETWEEN 1 FOLLOWING AND 3 FOLLOWING), group_concat(x, sep) OVER (ORDER BY id GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM e ORDER BY id;
SELECT id, group_concat(x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW), group_concat(x, sep) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW) FROM e ORDER BY id;
SELECT id, group_concat(x) FILTER (WHERE id % 2 = 0) OVER (ORDER BY id ROWS 2 PRECEDING) FROM e ORDER BY id;
"
    );
}

/// min()/max() over sliding frames: equal values of different types (the latest one
/// wins, as in SQLite's ordered set), collations, and FILTER (which SQLite's sliding
/// min/max ignores).
#[test]
fn sliding_min_max() {
    check(
        "CREATE TABLE m(id INTEGER PRIMARY KEY, v, s TEXT);
INSERT INTO m VALUES (1, 1, 'a'), (2, 1.0, 'A'), (3, 1, 'b'), (4, 'a', 'B'), (5, 'A', 'a'), (6, NULL, NULL), (7, 9, 'c'), (8, 2, 'C'), (9, x'00', 'c');
SELECT id, max(v) OVER w, min(v) OVER w, max(s COLLATE NOCASE) OVER w, min(s COLLATE NOCASE) OVER w, max(s) OVER w FROM m WINDOW w AS (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) ORDER BY id;
SELECT id, max(v) OVER w, min(v) OVER w, min(s COLLATE NOCASE) OVER w FROM m WINDOW w AS (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) ORDER BY id;
SELECT id, max(v) OVER (ORDER BY id), min(v) OVER (ORDER BY id), max(s COLLATE NOCASE) OVER (ORDER BY id) FROM m ORDER BY id;
SELECT id, max(v) FILTER (WHERE id <> 7) OVER (ORDER BY id ROWS 1 PRECEDING), min(v) FILTER (WHERE id > 2) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING), max(v) FILTER (WHERE id <> 7) OVER (ORDER BY id) FROM m ORDER BY id;
SELECT id, max(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW), min(s) FILTER (WHERE id > 3) OVER (ORDER BY id ROWS 2 PRECEDING EXCLUDE TIES) FROM m ORDER BY id;
SELECT id, max(v) OVER (ORDER BY v RANGE BETWEEN 1 PRECEDING AND 1 FOLLOWING), min(s) OVER (ORDER BY s GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM m ORDER BY id;
",
    );
}

/// Randomised GROUP BY queries with windows over the groups, and RANGE frames with
/// real offsets over real keys, against SQLite.
#[test]
fn randomised_grouped_and_range() {
    let mut rng = Rng(0xDEAD_BEEF_CAFE_F00D);
    let mut script =
        String::from("CREATE TABLE r(id INTEGER PRIMARY KEY, p INT, q INT, k REAL, v);\n");
    for id in 1..=250 {
        let p = match rng.below(8) {
            0 => "NULL".to_string(),
            n => n.to_string(),
        };
        let k = match rng.below(10) {
            0 => "NULL".to_string(),
            n => format!("{}.{}", rng.below(20), n % 4 * 25),
        };
        let v = match rng.below(5) {
            0 => "NULL".to_string(),
            1 => format!("'t{}'", rng.below(5)),
            _ => rng.below(500).to_string(),
        };
        script.push_str(&format!(
            "INSERT INTO r VALUES ({id}, {p}, {}, {k}, {v});\n",
            rng.below(4)
        ));
    }
    let group_funcs = [
        "rank() OVER (ORDER BY count(*) DESC, p)",
        "sum(sum(v)) OVER (ORDER BY p)",
        "avg(count(*)) OVER (ORDER BY p ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING)",
        "lag(max(k), 2, -1) OVER (ORDER BY p)",
        "first_value(min(id)) OVER (ORDER BY p DESC ROWS 2 PRECEDING)",
        "count(*) OVER (ORDER BY sum(k) RANGE BETWEEN 10 PRECEDING AND 10 FOLLOWING)",
        "ntile(3) OVER (ORDER BY p)",
        "cume_dist() OVER (ORDER BY max(q))",
    ];
    for _ in 0..60 {
        let f = group_funcs[rng.below(group_funcs.len() as u64) as usize];
        let having = if rng.below(2) == 0 {
            ""
        } else {
            "HAVING count(*) > 20"
        };
        script.push_str(&format!(
            "SELECT p, count(*), {f} FROM r GROUP BY p {having} ORDER BY p;\n"
        ));
    }
    let aggs = [
        "count(*)",
        "sum(v)",
        "total(v)",
        "avg(v)",
        "min(v)",
        "max(id)",
        "group_concat(id)",
    ];
    for _ in 0..80 {
        let f = aggs[rng.below(aggs.len() as u64) as usize];
        let a = format!("{}.{}", rng.below(4), rng.below(10));
        let b = format!("{}.{}", rng.below(4), rng.below(10));
        let dir = ["", " DESC", " NULLS LAST", " DESC NULLS FIRST"][rng.below(4) as usize];
        let part = ["", "PARTITION BY q "][rng.below(2) as usize];
        let (s, e) = match rng.below(4) {
            0 => (format!("{a} PRECEDING"), format!("{b} FOLLOWING")),
            1 => (format!("{a} PRECEDING"), "CURRENT ROW".to_string()),
            2 => ("CURRENT ROW".to_string(), format!("{b} FOLLOWING")),
            _ => (format!("{a} FOLLOWING"), format!("{b} FOLLOWING")),
        };
        script.push_str(&format!(
            "SELECT id, k, {f} OVER ({part}ORDER BY k{dir} RANGE BETWEEN {s} AND {e}) FROM r ORDER BY id;\n"
        ));
    }
    check(&script);
}

/// The JSON aggregates as window functions (merged after both features), and the JSON
/// subtype of a window result passed on to another JSON function.
#[test]
fn json_aggregates_as_window_functions() {
    check(&format!(
        "{SETUP}
SELECT id, json_group_array(x) OVER (ORDER BY id) FROM t ORDER BY id;
SELECT id, json_group_array(s) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t ORDER BY id;
SELECT id, json_group_object(s, x) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t WHERE s IS NOT NULL ORDER BY id;
SELECT id, json_array(json_group_array(x) OVER (ORDER BY id)) FROM t ORDER BY id;
SELECT id, json_array_length(json_group_array(y) OVER (PARTITION BY g)) FROM t ORDER BY id;
SELECT id, jsonb_group_array(x) OVER (ORDER BY id GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING EXCLUDE CURRENT ROW) FROM t ORDER BY id;
SELECT id, json_group_array(x) FILTER (WHERE x > 2) OVER (ORDER BY id) FROM t ORDER BY id"
    ));
}
