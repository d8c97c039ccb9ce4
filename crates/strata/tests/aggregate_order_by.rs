//! `ORDER BY` inside aggregate calls (`group_concat(x, ',' ORDER BY y DESC)`, SQLite
//! 3.44+), checked against SQLite itself: every statement runs on Strata and on rusqlite
//! (bundled SQLite) and must return the same rows (values and storage classes, in the
//! same order) or fail on both with the same message. Orders used where the result
//! depends on them are total (they end in a unique column), except where ties are the
//! point and both engines see the rows in the same order.

mod common;
use common::*;
use strata::io::{MemoryIo, IO};
use strata::{Connection, OpenOptions};

const SETUP: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, g TEXT, x INT, y REAL, s TEXT, n TEXT COLLATE NOCASE);
INSERT INTO t VALUES (1, 'a', 1, 1.5, 'p', 'b'), (2, 'a', 2, 2.5, 'Q', 'A'), (3, 'a', 2, NULL, 'r', 'c'),
  (4, 'b', 5, 0.25, 's', 'a'), (5, 'b', NULL, 3.0, NULL, NULL), (6, 'b', 7, -1.0, 't', 'B'),
  (7, NULL, 3, 2.0, 'u', 'C'), (8, NULL, 3, 2.0, 'v', 'd'), (9, 'c', 10, 1e300, 'w', 'D'),
  (10, 'a', 4, 0.5, 'x', 'e'), (11, 'a', 9, 9.5, 'q', 'E');
CREATE TABLE u(id INTEGER PRIMARY KEY, tid INT, v TEXT);
INSERT INTO u VALUES (1, 1, 'one'), (2, 1, 'uno'), (3, 2, 'two'), (4, 4, 'four'), (5, 4, 'vier'), (6, 4, 'quatre');
CREATE INDEX t_g ON t(g);
";

#[test]
fn whole_table_aggregates() {
    check_script(&format!(
        "{SETUP}
SELECT group_concat(s ORDER BY s DESC) FROM t;
SELECT group_concat(s ORDER BY s) FROM t;
SELECT group_concat(s, ',' ORDER BY x DESC, id) FROM t;
SELECT group_concat(s, '' ORDER BY y DESC NULLS LAST, id), group_concat(s, '' ORDER BY y NULLS LAST, id DESC) FROM t;
SELECT group_concat(s ORDER BY s NULLS FIRST), group_concat(x, ',' ORDER BY x DESC NULLS FIRST) FROM t;
SELECT group_concat(s ORDER BY s NULLS LAST), group_concat(x, ',' ORDER BY x DESC NULLS LAST) FROM t;
SELECT string_agg(s, ';' ORDER BY id DESC) FROM t;
SELECT group_concat(id ORDER BY s COLLATE nocase, id), group_concat(id ORDER BY n, id), group_concat(id ORDER BY n COLLATE binary, id) FROM t;
SELECT group_concat(x || ':' || s, ';' ORDER BY substr(s, 1, 1) DESC, -id) FROM t;
SELECT group_concat(s ORDER BY (SELECT count(*) FROM u WHERE u.tid = t.id) DESC, id) FROM t;
SELECT group_concat(s ORDER BY 1) FROM t;
SELECT group_concat(s ORDER BY (SELECT 1)) FROM t;
SELECT group_concat(s ORDER BY s) FROM t WHERE 0;
SELECT group_concat(s ORDER BY id DESC) FROM t WHERE x > 3;
SELECT group_concat(s, g ORDER BY id DESC) FROM t;
SELECT json_group_array(x ORDER BY id DESC), json_group_object(s, x ORDER BY s) FROM t;
SELECT json_group_array(json_array(x) ORDER BY id DESC), json_group_array(json(json_object('k', s)) ORDER BY x, id) FROM t;
SELECT json_group_object(coalesce(s, 'none'), json_array(id, x) ORDER BY y NULLS FIRST, id) FROM t;
SELECT sum(y ORDER BY y), sum(y ORDER BY y DESC), total(y ORDER BY id), avg(y ORDER BY -id) FROM t WHERE y < 100;
SELECT sum(y ORDER BY y), sum(y ORDER BY y DESC) FROM t;
SELECT count(x ORDER BY x), count(DISTINCT x ORDER BY x), sum(x ORDER BY s), avg(x ORDER BY id DESC) FROM t;
SELECT min(x ORDER BY s), max(s ORDER BY x), min(s ORDER BY id DESC), max(x ORDER BY x DESC) FROM t;
SELECT min(s), id, group_concat(s ORDER BY s DESC) FROM t;
SELECT max(x), s, group_concat(id ORDER BY x, id) FROM t;
SELECT count(ORDER BY x) FROM t;
SELECT count(ORDER BY nosuch) FROM t;
SELECT group_concat(s ORDER BY id), group_concat(s ORDER BY id DESC), group_concat(s ORDER BY id) || '!' FROM t;
SELECT group_concat(x ORDER BY x) FROM (SELECT 1 AS x);
SELECT group_concat(v ORDER BY v) FROM (SELECT 'b' AS v UNION ALL SELECT 'a' UNION ALL SELECT 'c');
SELECT group_concat(value ORDER BY value DESC) FROM json_each('[3,1,2]');
SELECT json_group_array(value ORDER BY key DESC) FROM json_each('[[1],{{\"a\":2}},\"x\",null]');
"
    ));
}

#[test]
fn distinct_and_filter() {
    check_script(&format!(
        "{SETUP}
SELECT group_concat(DISTINCT s ORDER BY s DESC) FROM t;
SELECT group_concat(DISTINCT x ORDER BY x DESC) FROM t;
SELECT group_concat(DISTINCT x ORDER BY id) FROM t;
SELECT group_concat(DISTINCT x ORDER BY -x) FROM t;
SELECT group_concat(DISTINCT s COLLATE nocase ORDER BY s COLLATE nocase) FROM t;
SELECT group_concat(DISTINCT s COLLATE nocase ORDER BY s COLLATE nocase DESC) FROM t;
SELECT group_concat(DISTINCT n ORDER BY n) FROM t;
SELECT group_concat(DISTINCT n ORDER BY n DESC NULLS FIRST) FROM t;
SELECT json_group_array(DISTINCT x ORDER BY x) FROM t;
SELECT json_group_array(DISTINCT x ORDER BY x NULLS LAST) FROM t;
SELECT count(DISTINCT x ORDER BY x), sum(DISTINCT x ORDER BY x DESC) FROM t;
SELECT group_concat(x ORDER BY id) FILTER (WHERE id > 3) FROM t;
SELECT group_concat(DISTINCT x ORDER BY x DESC) FILTER (WHERE id % 2 = 0) FROM t;
SELECT group_concat(s ORDER BY id DESC) FILTER (WHERE s > 'r'), count(*) FILTER (WHERE x > 2), group_concat(s ORDER BY id) FROM t;
SELECT json_group_object(s, id ORDER BY id DESC) FILTER (WHERE s IS NOT NULL) FROM t;
SELECT max(x) FILTER (WHERE id < 5), s, group_concat(s ORDER BY s) FILTER (WHERE id < 5) FROM t;
"
    ));
}

#[test]
fn group_by_having_and_order() {
    check_script(&format!(
        "{SETUP}
SELECT g, group_concat(s ORDER BY s DESC) FROM t GROUP BY g;
SELECT g, group_concat(s ORDER BY x DESC, id), group_concat(id, '-' ORDER BY id DESC), count(*) FROM t GROUP BY g;
SELECT g, group_concat(DISTINCT s ORDER BY s DESC) FROM t GROUP BY g;
SELECT g, group_concat(DISTINCT s COLLATE nocase ORDER BY s COLLATE nocase) FROM t GROUP BY g;
SELECT g, group_concat(s, '' ORDER BY y DESC NULLS LAST, id) FILTER (WHERE x > 1), count(*), max(x) FROM t GROUP BY g HAVING count(*) > 1 ORDER BY group_concat(s ORDER BY s);
SELECT g FROM t GROUP BY g HAVING group_concat(s ORDER BY s DESC) LIKE 'x%';
SELECT group_concat(x ORDER BY x) FROM t GROUP BY g ORDER BY 1;
SELECT g, min(s), group_concat(s ORDER BY s DESC) FROM t GROUP BY g;
SELECT g, max(x), s, group_concat(id ORDER BY id DESC) FROM t GROUP BY g;
SELECT x % 3 AS k, group_concat(id ORDER BY y DESC NULLS FIRST, id) FROM t GROUP BY k ORDER BY k;
SELECT g, json_group_array(json_object('a', x) ORDER BY id DESC), json_group_object(id, s ORDER BY s DESC) FROM t GROUP BY g;
SELECT g, sum(y ORDER BY y DESC), avg(x ORDER BY id) FROM t WHERE y < 100 GROUP BY g;
SELECT t.g, group_concat(u.v, '+' ORDER BY u.v DESC, u.id) FROM t JOIN u ON u.tid = t.id GROUP BY t.g;
SELECT t.id, group_concat(u.v ORDER BY length(u.v), u.v) FROM t LEFT JOIN u ON u.tid = t.id GROUP BY t.id;
SELECT g, group_concat(s ORDER BY id DESC) FROM t WHERE g > 'a' GROUP BY g;
SELECT g, group_concat(s ORDER BY id DESC) OVER () FROM t GROUP BY g;
SELECT g, group_concat(s ORDER BY id DESC), row_number() OVER (ORDER BY group_concat(s ORDER BY s)) FROM t GROUP BY g ORDER BY g;
SELECT DISTINCT group_concat(x ORDER BY x) FROM t GROUP BY g ORDER BY 1;
"
    ));
}

#[test]
fn subqueries_views_and_ctes() {
    check_script(&format!(
        "{SETUP}
SELECT x, (SELECT group_concat(s ORDER BY t2.id DESC) FROM t t2 WHERE t2.x <= t.x) FROM t ORDER BY id;
SELECT id, (SELECT group_concat(u2.s ORDER BY u2.x DESC, u2.id) FROM t u2 WHERE u2.g = t.g) FROM t ORDER BY id;
SELECT (SELECT group_concat(s ORDER BY t.id) FROM t AS w) FROM t;
SELECT id, (SELECT group_concat(v ORDER BY v DESC) FROM u WHERE u.tid = t.id) FROM t ORDER BY id;
SELECT id FROM t WHERE s = (SELECT group_concat(v ORDER BY v) FROM u WHERE u.tid = 100) OR id = 1;
SELECT * FROM (SELECT g, group_concat(s ORDER BY id DESC) AS c FROM t GROUP BY g) WHERE c LIKE '%r%';
WITH c(k, v) AS (SELECT g, group_concat(s ORDER BY s) FROM t GROUP BY g) SELECT group_concat(v, '/' ORDER BY k DESC NULLS LAST) FROM c;
WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 20) SELECT group_concat(i ORDER BY i % 5, i DESC) FROM r;
CREATE VIEW v AS SELECT g, group_concat(s, '|' ORDER BY id DESC) AS c FROM t GROUP BY g;
SELECT * FROM v;
SELECT sql FROM sqlite_schema WHERE name = 'v';
SELECT group_concat(c ORDER BY c) FROM v;
CREATE VIEW v2 AS SELECT json_group_array(x ORDER BY x DESC NULLS LAST) AS j FROM t;
SELECT * FROM v2;
CREATE TABLE log(k TEXT);
CREATE TRIGGER tr AFTER INSERT ON u BEGIN INSERT INTO log SELECT group_concat(v ORDER BY v DESC) FROM u WHERE tid = new.tid; END;
INSERT INTO u VALUES (7, 1, 'ein');
SELECT * FROM log;
SELECT x FROM t WHERE x IN (SELECT count(*) FROM u GROUP BY tid HAVING group_concat(v ORDER BY v) > 'o') ORDER BY x;
"
    ));
}

#[test]
fn errors_as_sqlite() {
    check_script(&format!(
        "{SETUP}
SELECT sum(x ORDER BY x) OVER () FROM t;
SELECT sum(x ORDER BY x) FILTER (WHERE x > 1) OVER () FROM t;
SELECT group_concat(s ORDER BY x) OVER () FROM t;
SELECT group_concat(s ORDER BY x) OVER (ORDER BY id) FROM t;
SELECT row_number(ORDER BY x) OVER () FROM t;
SELECT row_number(ORDER BY nosuch) OVER () FROM t LIMIT 1;
SELECT upper(s ORDER BY x) OVER () FROM t;
SELECT abs(x ORDER BY x) FROM t;
SELECT upper(s ORDER BY x) FROM t;
SELECT UPPER(s ORDER BY x) FROM t;
SELECT \"upper\"(s ORDER BY x) FROM t;
SELECT min(x, 1 ORDER BY x) FROM t;
SELECT random(ORDER BY x) IS NOT NULL FROM t LIMIT 1;
SELECT nosuch(s ORDER BY x) FROM t;
SELECT upper(s, s ORDER BY x) FROM t;
SELECT upper(s) FILTER (WHERE 1) FROM t;
SELECT random() FILTER (WHERE 1) FROM t;
SELECT group_concat(s ORDER BY sum(x)) FROM t;
SELECT min(x ORDER BY sum(x)) FROM t;
SELECT group_concat(s ORDER BY row_number() OVER ()) FROM t;
SELECT group_concat(s ORDER BY nosuch) FROM t;
SELECT min(x ORDER BY nosuch) FROM t;
SELECT group_concat(s ORDER BY x COLLATE nosuch) FROM t;
SELECT count(* ORDER BY x) FROM t;
SELECT group_concat(s ORDER BY id LIMIT 1) FROM t;
SELECT id FROM t WHERE group_concat(s ORDER BY s) > 'a';
SELECT id FROM t GROUP BY group_concat(s ORDER BY s);
SELECT group_concat(DISTINCT s, ',' ORDER BY s) FROM t;
SELECT group_concat(s ORDER BY s) FROM nosuch;
"
    ));
}

/// The per-call sorts respect the sorter budget: far more rows than a tiny budget
/// holds, whole-table and grouped, on a deferred-completion IO (every read and write
/// waits), give SQLite's results; the sorter's memory high-water mark stays under the
/// budget plus a small constant.
#[test]
fn ordered_aggregates_under_a_tiny_budget() {
    const BUDGET_KIB: usize = 16;
    let db = OpenOptions::new()
        .io(std::sync::Arc::new(MemoryIo::new_deferred()) as std::sync::Arc<dyn IO>)
        .open("aggord.db")
        .unwrap();
    let ours = db.connect();
    ours.execute_batch(&format!("PRAGMA strata_sorter_budget_kib = {BUDGET_KIB}"))
        .unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let mut sql = String::from("CREATE TABLE big(id INTEGER PRIMARY KEY, g INT, k INT, s TEXT);\n");
    sql.push_str("BEGIN;\n");
    for i in 1..=6000 {
        sql.push_str(&format!(
            "INSERT INTO big VALUES ({i}, {}, {}, 'v{}');\n",
            rng.next(4),
            rng.next(1000),
            rng.next(100000)
        ));
    }
    sql.push_str("COMMIT;\n");
    check_script_on(&ours, &theirs, &sql);
    for q in [
        "SELECT length(group_concat(s ORDER BY k DESC, id)), substr(group_concat(s ORDER BY k DESC, id), 1, 200), substr(group_concat(s ORDER BY k DESC, id), -200) FROM big",
        "SELECT group_concat(s, '' ORDER BY k, id DESC) = group_concat(s, '' ORDER BY k, id DESC) FROM big",
        "SELECT g, substr(group_concat(id ORDER BY s DESC, id), 1, 300), count(DISTINCT k ORDER BY k) FROM big GROUP BY g",
        "SELECT g, group_concat(DISTINCT k ORDER BY k DESC) FROM big GROUP BY g",
        "SELECT sum(k ORDER BY s), json_array_length(json_group_array(k ORDER BY s, id)) FROM big",
    ] {
        ours.reset_sorter_memory_high_water();
        check_script_on(&ours, &theirs, &format!("{q};\n"));
        let hw = ours.sorter_memory_high_water_bytes();
        assert!(
            hw <= BUDGET_KIB * 1024 + 16 * 1024,
            "{q}: sorter held {hw} bytes, budget {BUDGET_KIB} KiB"
        );
        // The sorts are larger than the budget: they filled it (and spilled).
        assert!(hw > BUDGET_KIB * 1024 / 2, "{q}: high-water {hw} bytes");
    }
    // The ordered sort of each group is the same on every run of the statement.
    check_script_on(
        &ours,
        &theirs,
        "SELECT g, substr(group_concat(s ORDER BY k, id), 1, 100) FROM big GROUP BY g;\n",
    );
}

/// Random rows and random aggregate queries with ORDER BY inside (total orders), both
/// engines.
#[test]
fn randomised_against_sqlite() {
    let ours = Connection::open_in_memory().unwrap();
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    let mut rng = Rng(0x9e3779b97f4a7c15);
    let mut setup = String::from(
        "CREATE TABLE r(id INTEGER PRIMARY KEY, a INT, b TEXT, c REAL, d TEXT COLLATE NOCASE);\n",
    );
    for i in 1..=300 {
        let a = match rng.next(6) {
            0 => "NULL".to_string(),
            _ => rng.next(20).to_string(),
        };
        let b = match rng.next(5) {
            0 => "NULL".to_string(),
            _ => format!("'{}'", rng.pick(&["x", "Y", "z", "ab", "Ab", "", "q1"])),
        };
        let c = match rng.next(5) {
            0 => "NULL".to_string(),
            _ => format!("{}.{}", rng.next(50), rng.next(100)),
        };
        let d = format!("'{}'", rng.pick(&["m", "M", "n", "N", "o"]));
        setup.push_str(&format!(
            "INSERT INTO r VALUES ({i}, {a}, {b}, {c}, {d});\n"
        ));
    }
    check_script_on(&ours, &theirs, &setup);
    let cols = [
        "a",
        "b",
        "c",
        "d",
        "a + 1",
        "length(b)",
        "b || d",
        "-c",
        "id % 7",
    ];
    let dirs = [
        "",
        " DESC",
        " NULLS FIRST",
        " DESC NULLS LAST",
        " ASC NULLS LAST",
    ];
    let groups = ["", " GROUP BY a % 3", " GROUP BY d", " GROUP BY b, a % 2"];
    let mut queries = String::new();
    for _ in 0..300 {
        let mut calls = Vec::new();
        for _ in 0..=rng.next(3) {
            let mut order = Vec::new();
            for _ in 0..=rng.next(2) {
                order.push(format!("{}{}", rng.pick(&cols), rng.pick(&dirs)));
            }
            // A total order: the rowid ends every ORDER BY.
            order.push(format!("id{}", rng.pick(&["", " DESC"])));
            let ob = order.join(", ");
            let arg = rng.pick(&cols);
            let filter = if rng.next(4) == 0 {
                format!(
                    " FILTER (WHERE {} > {})",
                    rng.pick(&["a", "id", "c"]),
                    rng.next(20)
                )
            } else {
                String::new()
            };
            let call = match rng.next(6) {
                0 => format!("group_concat({arg} ORDER BY {ob}){filter}"),
                1 => format!(
                    "group_concat({arg}, '{}' ORDER BY {ob}){filter}",
                    rng.pick(&[";", "", "--"])
                ),
                2 => format!("string_agg({arg}, '/' ORDER BY {ob}){filter}"),
                3 => format!("json_group_array({arg} ORDER BY {ob}){filter}"),
                4 => format!("json_group_object(coalesce(b, 'k'), {arg} ORDER BY {ob}){filter}"),
                // DISTINCT with the argument as its own order is deterministic.
                _ => {
                    let d = rng.pick(&["a", "b", "d", "a + 1"]);
                    format!(
                        "group_concat(DISTINCT {d} ORDER BY {d}{}){filter}",
                        rng.pick(&dirs)
                    )
                }
            };
            calls.push(call);
        }
        let group = rng.pick(&groups);
        let keys = if group.is_empty() {
            String::new()
        } else {
            format!("{}, ", group.trim_start().trim_start_matches("GROUP BY "))
        };
        let wh = match rng.next(3) {
            0 => format!(" WHERE a > {}", rng.next(20)),
            _ => String::new(),
        };
        let order = if group.is_empty() {
            ""
        } else {
            " ORDER BY 1, 2"
        };
        let order = if group.contains(',') && !order.is_empty() {
            " ORDER BY 1, 2, 3"
        } else {
            order
        };
        queries.push_str(&format!(
            "SELECT {keys}{} FROM r{wh}{group}{order};\n",
            calls.join(", ")
        ));
    }
    check_script_on(&ours, &theirs, &queries);
    // The queries are valid: they must run (not fail alike on both engines).
    for q in queries.split(";\n").filter(|q| !q.trim().is_empty()) {
        assert!(sqlite_rows(&theirs, q).is_ok(), "{q}");
    }
}
