//! RIGHT and FULL OUTER JOIN (SQLite 3.39+), checked against SQLite itself: every
//! statement runs on Strata and on rusqlite (bundled SQLite) and must return the same
//! rows (values and storage classes, in the same order, also without ORDER BY: both
//! return the unmatched right rows last, in the right table's order) or fail on both
//! with the same message. Strata supports them as the last join of a FROM clause,
//! without NATURAL/USING; the other forms are refused with a clear error.

mod common;
use common::*;

const SETUP: &str = "CREATE TABLE a(x INTEGER PRIMARY KEY, y, z);
CREATE TABLE b(x, w);
CREATE TABLE c(w, v);
INSERT INTO a VALUES (1, 'a1', 10), (2, 'a2', 20), (3, 'a3', NULL);
INSERT INTO b VALUES (1, 'b1'), (1, 'b1bis'), (4, 'b4'), (NULL, 'bn');
INSERT INTO c VALUES ('b1', 100), ('b4', 400), ('zz', 0);
";

const QUERIES: &str = "SELECT * FROM a RIGHT JOIN b ON a.x = b.x;
SELECT * FROM a RIGHT JOIN b ON a.x = b.x ORDER BY b.w;
SELECT * FROM a FULL JOIN b ON a.x = b.x;
SELECT * FROM a FULL OUTER JOIN b ON a.x = b.x ORDER BY a.x, b.w;
SELECT * FROM a RIGHT OUTER JOIN b ON a.x = b.x WHERE a.z > 10 OR a.z IS NULL;
SELECT * FROM a FULL JOIN b ON a.x = b.x WHERE b.w IS NULL OR a.x IS NULL;
SELECT * FROM a JOIN b ON a.x = b.x RIGHT JOIN c ON c.w = b.w;
SELECT * FROM a LEFT JOIN b ON a.x = b.x FULL JOIN c ON c.w = b.w;
SELECT * FROM a, b RIGHT JOIN c ON c.w = b.w AND a.x = b.x;
SELECT * FROM (a JOIN b ON a.x = b.x) RIGHT JOIN c ON c.w = b.w;
SELECT count(*), sum(a.z), group_concat(b.w) FROM a FULL JOIN b ON a.x = b.x;
SELECT b.w, count(a.x) FROM a RIGHT JOIN b ON a.x = b.x GROUP BY b.w ORDER BY 1;
SELECT * FROM (SELECT * FROM a WHERE x > 1) AS s RIGHT JOIN (SELECT * FROM b WHERE w <> 'bn') AS t ON s.x = t.x;
WITH q AS (SELECT w, v FROM c WHERE v > 0) SELECT * FROM b FULL JOIN q ON q.w = b.w;
SELECT * FROM a RIGHT JOIN b ON a.x = b.x LIMIT 3;
SELECT * FROM a FULL JOIN b ON a.x = b.x LIMIT 2 OFFSET 3;
SELECT DISTINCT a.y FROM a FULL JOIN b ON a.x = b.x;
SELECT * FROM a RIGHT JOIN b ON 1;
SELECT * FROM a RIGHT JOIN b ON 0;
SELECT * FROM a FULL JOIN b ON 0;
SELECT * FROM b RIGHT JOIN a ON a.x = b.x WHERE a.x = 2;
SELECT * FROM b RIGHT JOIN a ON a.x = b.x WHERE 0;
SELECT (SELECT count(*) FROM a AS i RIGHT JOIN b ON i.x = b.x AND i.x = o.x) FROM a AS o;
SELECT o.x, EXISTS (SELECT 1 FROM b RIGHT JOIN c ON c.w = b.w WHERE b.x = o.x) FROM a AS o;
SELECT a.x, b.x, row_number() OVER (ORDER BY b.w, a.x) FROM a FULL JOIN b ON a.x = b.x ORDER BY 3;
SELECT * FROM a RIGHT JOIN b ON a.x = b.x AND a.z > 5 AND b.w LIKE 'b1%';
SELECT coalesce(a.x, b.x) AS k, a.y, b.w FROM a FULL JOIN b ON a.x = b.x ORDER BY k, b.w;
";

#[test]
fn right_and_full_joins() {
    check_script(&format!("{SETUP}{QUERIES}"));
}

#[test]
fn with_indexes() {
    check_script(&format!(
        "{SETUP}CREATE INDEX b_x ON b(x);\nCREATE INDEX c_w ON c(w, v);\n{QUERIES}"
    ));
}

#[test]
fn in_dml_and_views() {
    check_script(&format!(
        "{SETUP}
CREATE VIEW vj AS SELECT a.x AS ax, b.x AS bx, b.w FROM a FULL JOIN b ON a.x = b.x;
SELECT * FROM vj;
SELECT count(*) FROM vj WHERE ax IS NULL;
CREATE TABLE out(p, q);
INSERT INTO out SELECT a.y, b.w FROM a RIGHT JOIN b ON a.x = b.x;
SELECT * FROM out;
DELETE FROM out WHERE q IN (SELECT b.w FROM a RIGHT JOIN b ON a.x = b.x WHERE a.x IS NULL);
SELECT * FROM out;
UPDATE a SET z = (SELECT count(*) FROM b RIGHT JOIN c ON c.w = b.w WHERE b.x = a.x) RETURNING *;
"
    ));
}

#[test]
fn refused_forms() {
    for sql in [
        "SELECT * FROM a RIGHT JOIN b USING (x)",
        "SELECT * FROM a NATURAL RIGHT JOIN b",
        "SELECT * FROM a NATURAL FULL JOIN b",
        "SELECT * FROM a RIGHT JOIN b ON a.x = b.x JOIN c ON c.w = b.w",
        "SELECT * FROM a FULL JOIN b ON a.x = b.x LEFT JOIN c ON c.w = b.w",
        "SELECT * FROM a JOIN b ON b.w = c.w JOIN c RIGHT JOIN b AS b2 ON b2.x = a.x",
    ] {
        refused(SETUP, sql, "not supported yet");
    }
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
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// Random two- and three-table RIGHT/FULL joins with NULLs, ON and WHERE terms.
#[test]
fn randomised_against_sqlite() {
    let mut rng = Rng(0xF011_0E12_3456_789A);
    let mut script = String::from(
        "CREATE TABLE p(id INTEGER PRIMARY KEY, k INT, s TEXT);
CREATE TABLE q(id INTEGER PRIMARY KEY, k INT, s TEXT);
CREATE TABLE r(k INT, n);
CREATE INDEX q_k ON q(k);
",
    );
    let vals = ["NULL", "0", "1", "2", "3", "'1'"];
    let texts = ["NULL", "'a'", "'b'", "'c'"];
    for t in ["p", "q"] {
        for id in 1..=8 {
            script.push_str(&format!(
                "INSERT INTO {t} VALUES ({id}, {}, {});\n",
                rng.pick(&vals),
                rng.pick(&texts)
            ));
        }
    }
    for _ in 0..6 {
        script.push_str(&format!(
            "INSERT INTO r VALUES ({}, {});\n",
            rng.pick(&vals),
            rng.pick(&vals)
        ));
    }
    let ons = [
        "p.k = q.k",
        "p.k = q.k AND p.s = q.s",
        "p.k < q.k",
        "p.s = q.s OR q.k IS NULL",
        "p.id = q.k",
        "q.k = 2",
    ];
    let wheres = [
        "",
        " WHERE p.k IS NULL",
        " WHERE q.s > 'a'",
        " WHERE p.id > 3 OR q.id > 3",
        " WHERE coalesce(p.k, q.k) = 1",
    ];
    for _ in 0..150 {
        let kind = rng.pick(&["RIGHT", "FULL", "FULL OUTER", "RIGHT OUTER"]);
        let on = rng.pick(&ons);
        let w = rng.pick(&wheres);
        let sql = match rng.below(4) {
            // Without ORDER BY the order of a three-table join's rows is the plan's
            // (SQLite's and Strata's loop orders may differ): ordered by every column.
            0 => format!("SELECT * FROM p {kind} JOIN q ON {on}{w}"),
            1 => format!(
                "SELECT p.id, q.id, r.n FROM p JOIN r ON r.k = p.k {kind} JOIN q ON {on}{w} ORDER BY 1, 2, 3"
            ),
            2 => format!("SELECT count(*), count(p.id), count(q.id), sum(q.k) FROM p {kind} JOIN q ON {on}{w}"),
            _ => format!("SELECT q.s, count(p.id) FROM p {kind} JOIN q ON {on}{w} GROUP BY q.s ORDER BY 1"),
        };
        script.push_str(&sql);
        script.push_str(";\n");
    }
    check_script(&script);
}
