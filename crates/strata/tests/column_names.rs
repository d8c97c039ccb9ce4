//! Result-column names compared with SQLite: an unaliased expression is named by its
//! source text as written (`count (*)`, `1+2`, comments and all), a column reference by
//! the column's name; the same rules reach views, subqueries in FROM, CTEs, CREATE TABLE
//! AS and RETURNING. Apps index rows by these names (`row["count(*)"]`), so a rendering
//! of the parse tree instead of the text is a wrong answer.

use strata::Connection;

const SETUP: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, a INT, \"B c\" TEXT);
    CREATE TABLE u(x, y);
    INSERT INTO t VALUES (1, 10, 'p'), (2, 20, 'q');
    INSERT INTO u VALUES (1, 2);
    CREATE VIEW v1 AS SELECT a + 1, count (*), max (a, 2) FROM t;
    CREATE VIEW v2 AS SELECT  a  AS  al , t.\"B c\", abs (- 1) FROM t;
    CREATE VIEW v3(p, q) AS SELECT 1+2, 3;
    CREATE VIEW w AS SELECT A, T.ID, a FROM t AS T;
    CREATE TABLE ctas AS SELECT a * 2, upper ( \"B c\" ), a FROM t;";

fn open_both() -> (Connection, rusqlite::Connection) {
    let ours = strata::Database::open_in_memory().expect("open").connect();
    let theirs = rusqlite::Connection::open_in_memory().expect("sqlite");
    ours.execute_batch(SETUP).expect("strata setup");
    theirs.execute_batch(SETUP).expect("sqlite setup");
    (ours, theirs)
}

fn names_ours(c: &Connection, sql: &str) -> Vec<String> {
    let stmt = c
        .prepare(sql)
        .unwrap_or_else(|e| panic!("strata: {sql}: {e}"));
    stmt.column_names().into_iter().map(String::from).collect()
}

fn names_theirs(c: &rusqlite::Connection, sql: &str) -> Vec<String> {
    let stmt = c
        .prepare(sql)
        .unwrap_or_else(|e| panic!("sqlite: {sql}: {e}"));
    stmt.column_names().into_iter().map(String::from).collect()
}

fn check(queries: &[&str]) {
    let (ours, theirs) = open_both();
    let mut mismatches = Vec::new();
    for sql in queries {
        let (a, b) = (names_ours(&ours, sql), names_theirs(&theirs, sql));
        if a != b {
            mismatches.push(format!("{sql}\n  strata: {a:?}\n  sqlite: {b:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn expressions_are_named_by_their_source_text() {
    check(&[
        "SELECT count (*) FROM t",
        "SELECT count(*), COUNT( * ) FROM t",
        "SELECT max (1, 2), abs (- 1), 1 + 2, 1+2, -1, - 1, +a FROM t",
        "SELECT 'it''s', x'0aFF', 1.50, 1e3, NULL, ?, ?7, :name FROM t",
        "SELECT a+1 /* trailing comment */ , a -- line comment\n FROM t",
        "SELECT\n\t a * 2 \n\t FROM t",
        "SELECT (SELECT max(x) FROM u), EXISTS (SELECT 1 FROM u), a IN (1,2) FROM t",
        "SELECT CAST(a AS TEXT), a COLLATE NOCASE, CASE WHEN a THEN 1 ELSE 2 END FROM t",
        "SELECT \"B c\", t.\"B c\", main.t.a, t.id, a, A, \"a\" FROM t",
        "SELECT 1+2 AS three, 4 four, 5 \"fi ve\", 'six' [six] FROM t",
        "SELECT a, a, a FROM t",
        "SELECT *, t.*, a+0 FROM t",
        "SELECT x||y, x<>y, x IS NOT y, x BETWEEN 1 AND 2 FROM u",
        "SELECT a FROM t WHERE a > 1 ORDER BY 1",
        "SELECT sum(a) FILTER (WHERE a > 1), group_concat(a, ',') FROM t",
        "SELECT 1 UNION SELECT 2+3",
        "VALUES (1, 2+3)",
    ]);
}

#[test]
fn rowid_references() {
    check(&[
        "SELECT rowid, _rowid_, oid FROM t",
        "SELECT rowid, _rowid_, oid, ROWID FROM u",
        "SELECT t.rowid, u.oid FROM t, u",
        "SELECT * FROM (SELECT rowid, x FROM u)",
    ]);
}

#[test]
fn views_subqueries_ctes_and_ctas() {
    check(&[
        "SELECT * FROM v1",
        "SELECT * FROM v2",
        "SELECT * FROM v3",
        "SELECT * FROM ctas",
        "SELECT * FROM (SELECT a + 1, count (*) FROM t)",
        "SELECT * FROM (SELECT a, a, a+1, a + 1 FROM t)",
        "SELECT * FROM (SELECT 1, 1)",
        "SELECT true, FALSE, * FROM (SELECT true, false, 1 AS true, TRUE + 0)",
        "WITH c AS (SELECT true, x FROM u) SELECT * FROM c",
        "SELECT \"nosuch\", 'lit', \"a\" FROM t",
        "SELECT * FROM (SELECT \"nosuch\", 'lit' FROM t)",
        "SELECT * FROM (SELECT A, T.A, main.T.\"B c\", oid, _ROWID_ FROM t AS T)",
        "SELECT * FROM (SELECT * FROM (SELECT A, \"ID\" FROM t))",
        "SELECT * FROM w",
        "WITH c AS (SELECT A, T.ID, a FROM t AS T) SELECT * FROM c",
        "WITH RECURSIVE c AS (SELECT A FROM t UNION ALL SELECT A + 1 FROM c WHERE A < 12) SELECT * FROM c",
        "SELECT A, w.ID FROM w",
        "WITH c AS (SELECT max (a), a*2 FROM t) SELECT * FROM c",
        "WITH c(m, n) AS (SELECT max (a), a*2 FROM t) SELECT * FROM c",
        "WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT 1 + 1 FROM r LIMIT 2) SELECT * FROM r",
    ]);
}

#[test]
fn returning_is_named_like_select() {
    let (ours, theirs) = open_both();
    for sql in [
        "INSERT INTO u VALUES (7, 8) RETURNING x + y, x*2 , rowid, y AS why",
        "UPDATE u SET y = y + 1 WHERE x = 7 RETURNING upper ( 'a' ), *",
        "DELETE FROM u WHERE x = 7 RETURNING x  ||  y",
    ] {
        assert_eq!(names_ours(&ours, sql), names_theirs(&theirs, sql), "{sql}");
        ours.execute_batch(sql).expect("strata");
        theirs.execute_batch(sql).expect("sqlite");
    }
}

/// Duplicate names in a subquery, view, CTE or CREATE TABLE AS get SQLite's `:N`.
#[test]
fn duplicate_names_are_made_unique() {
    check(&[
        "SELECT * FROM (SELECT a, A, a, \"a:1\" FROM (SELECT 1 AS a, 2 AS \"a:1\"))",
        "WITH c AS (SELECT 1 AS x, 2 AS x, 3 AS X) SELECT * FROM c",
        "WITH RECURSIVE r AS (SELECT 1 AS n, 1 AS n UNION ALL SELECT n + 1, 0 FROM r WHERE n < 2) SELECT * FROM r",
    ]);
    let (ours, theirs) = open_both();
    let sql = "CREATE TABLE d AS SELECT a, a, a AS A, 1, 1 FROM t";
    ours.execute_batch(sql).expect("strata");
    theirs.execute_batch(sql).expect("sqlite");
    let q = "SELECT * FROM d";
    assert_eq!(names_ours(&ours, q), names_theirs(&theirs, q));
    let q = "SELECT sql FROM sqlite_schema WHERE name = 'd'";
    let ours_sql = common_text(&ours, q);
    let theirs_sql: String = theirs.query_row(q, [], |r| r.get(0)).expect("sqlite");
    assert_eq!(ours_sql, theirs_sql);
}

fn common_text(c: &Connection, sql: &str) -> String {
    let mut stmt = c.prepare(sql).expect("prepare");
    let mut rows = stmt.query(()).expect("query");
    let row = rows.next().expect("step").expect("a row");
    row.get_ref(0)
        .expect("column")
        .as_str()
        .expect("text")
        .to_string()
}
