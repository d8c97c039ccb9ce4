//! The date and time functions in schema expressions (generated columns, index
//! expressions, partial index WHERE clauses, CHECK constraints), against SQLite: their
//! deterministic uses (`date(x)`, `strftime('%Y', x)`, modifiers) work; a use of the
//! clock or the local timezone (`'now'`, `subsec`, `localtime`, `utc`, no argument) fails
//! the statement that runs it with SQLite's "non-deterministic use of date() in a
//! generated column" (when a row is written or a VIRTUAL column read, whether the
//! `'now'` is in the definition or in the row); CURRENT_TIME and the like are refused
//! when the schema is made, except in CHECK constraints, where SQLite allows them.

mod common;

use common::{check_script_on, sqlite_rows, V};

fn pair() -> (strata::Connection, rusqlite::Connection) {
    (
        strata::Connection::open_in_memory().unwrap(),
        rusqlite::Connection::open_in_memory().unwrap(),
    )
}

#[test]
fn generated_columns() {
    let (ours, theirs) = pair();
    check_script_on(
        &ours,
        &theirs,
        "CREATE TABLE g(x, d AS (date(x)), y AS (strftime('%Y', x)) STORED, j AS (julianday(x, '+1 day')));
INSERT INTO g(x) VALUES ('2024-01-05 10:00'), ('2023-02-31'), (2460000.5), (NULL), ('bad');
SELECT * FROM g;
INSERT INTO g(x) VALUES ('now');
INSERT INTO g(x) VALUES ('NOW');
INSERT INTO g(x) VALUES ('2024-01-01'), ('now');
SELECT count(*) FROM g;
UPDATE g SET x = 'now' WHERE x = 'bad';
UPDATE g SET x = '2020-02-02' WHERE x = 'bad' RETURNING *;
CREATE TABLE v(x, d AS (date(x)));
INSERT INTO v(x) VALUES ('2024-03-03');
SELECT d FROM v;
CREATE TABLE lt(x, a AS (datetime(x, 'localtime')), b AS (time(x, 'utc')) STORED, c AS (unixepoch(x, 'subsec')));
INSERT INTO lt(x) VALUES (NULL);
INSERT INTO lt(x) VALUES ('2024-01-01 12:00');
INSERT INTO lt(x) VALUES (0);
SELECT x, c FROM lt;
CREATE TABLE nw(x, n AS (date('now')), m AS (julianday()) STORED);
INSERT INTO nw(x) VALUES (1);
INSERT INTO nw(x) SELECT 1 WHERE 0;
SELECT count(*) FROM nw;
CREATE TABLE ss(x, s AS (datetime('subsec')));
INSERT INTO ss(x) VALUES (1);
CREATE TABLE td(x, t AS (timediff(x, '2024-01-01')));
INSERT INTO td(x) VALUES ('2024-03-01');
INSERT INTO td(x) VALUES ('now');
SELECT * FROM td;
CREATE TABLE c1(x, y AS (CURRENT_DATE));
CREATE TABLE c2(x, y AS (CURRENT_TIME) STORED);
CREATE TABLE c3(x, y AS (x || CURRENT_TIMESTAMP));
CREATE TABLE c4(x, y AS (random()));
ALTER TABLE v ADD COLUMN e AS (date(x, '+1 month'));
ALTER TABLE v ADD COLUMN f AS (CURRENT_DATE);
ALTER TABLE v ADD COLUMN h AS (date(x, 'localtime'));
SELECT * FROM v;
SELECT d, e FROM v;
CREATE TABLE later(x);
INSERT INTO later VALUES ('2024-02-02'), ('now');
ALTER TABLE later ADD COLUMN d AS (date(x));
SELECT x FROM later;
SELECT d FROM later;
SELECT d FROM later WHERE x <> 'now';
SELECT count(*) FROM later WHERE d IS NULL;
",
    );
}

#[test]
fn indexes_and_partial_indexes() {
    let (ours, theirs) = pair();
    check_script_on(
        &ours,
        &theirs,
        "CREATE TABLE t(x, y);
CREATE INDEX td ON t(date(x));
CREATE INDEX ty ON t(strftime('%Y', x), y) WHERE julianday(x) > 2451545;
INSERT INTO t VALUES ('2024-01-05', 1), ('1990-05-05', 2), (NULL, 3);
SELECT x FROM t WHERE date(x) = '2024-01-05';
SELECT y FROM t WHERE strftime('%Y', x) = '2024' AND julianday(x) > 2451545;
INSERT INTO t VALUES ('now', 4);
UPDATE t SET x = 'now' WHERE y = 3;
UPDATE t SET x = '2001-01-01' WHERE y = 3;
DELETE FROM t WHERE y = 2;
SELECT * FROM t ORDER BY y;
PRAGMA integrity_check;
CREATE INDEX bad1 ON t(date(x, 'localtime'));
CREATE INDEX bad2 ON t(y) WHERE x > date('now');
CREATE INDEX bad3 ON t(CURRENT_TIME);
CREATE INDEX bad4 ON t(y) WHERE x > CURRENT_DATE;
CREATE INDEX bad5 ON t(y, random());
CREATE TABLE e(x);
CREATE INDEX ep ON e(x) WHERE x > date('now');
INSERT INTO e VALUES (1);
INSERT INTO e SELECT 1 WHERE 0;
CREATE TABLE e2(x);
CREATE INDEX e2u ON e2(time(x, 'utc'));
INSERT INTO e2 VALUES ('12:00');
INSERT INTO e2 VALUES (NULL);
SELECT * FROM e2;
SELECT name FROM sqlite_schema ORDER BY name;
",
    );
}

#[test]
fn check_constraints() {
    let (ours, theirs) = pair();
    check_script_on(
        &ours,
        &theirs,
        "CREATE TABLE c(x CHECK (date(x) > '2000-01-01'), y CHECK (y IS NULL OR y < CURRENT_TIMESTAMP));
INSERT INTO c VALUES ('2024-01-01', NULL);
INSERT INTO c VALUES ('1999-01-01', NULL);
INSERT INTO c VALUES ('now', NULL);
INSERT INTO c VALUES ('2024-01-01', '1999-01-01');
INSERT INTO c VALUES ('2024-01-01', '9999-01-01');
UPDATE c SET x = 'now';
UPDATE c SET x = '2025-01-01' RETURNING *;
CREATE TABLE c2(x CHECK (julianday() > 0));
INSERT INTO c2 VALUES (1);
CREATE TABLE c3(x CHECK (datetime(x, 'localtime') IS NOT NULL));
INSERT INTO c3 VALUES ('2024-01-01');
INSERT INTO c3 VALUES (NULL);
SELECT * FROM c;
",
    );
}

/// A file SQLite made with such a schema opens, is read and written by Strata, and
/// SQLite finds Strata's writes sound.
#[test]
fn sqlite_made_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.db");
    let schema = "CREATE TABLE t(x, d AS (date(x)) STORED, v AS (strftime('%m', x)), n CHECK (n IS NULL OR date(n) IS NOT NULL));
CREATE INDEX ti ON t(julianday(x)) WHERE date(x) > '2000-01-01';
CREATE INDEX tv ON t(v);
INSERT INTO t(x) VALUES ('2024-01-05'), ('1999-12-31');";
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(schema).unwrap();
    }
    let theirs = rusqlite::Connection::open_in_memory().unwrap();
    theirs.execute_batch(schema).unwrap();
    {
        let ours = strata::Connection::open(&path).unwrap();
        check_script_on(
            &ours,
            &theirs,
            "SELECT * FROM t ORDER BY x;
INSERT INTO t(x, n) VALUES ('2010-10-10', '2010-10-10');
INSERT INTO t(x) VALUES ('now');
INSERT INTO t(x, n) VALUES ('2011-11-11', 'now');
UPDATE t SET x = date(x, '+1 day') RETURNING *;
SELECT x FROM t WHERE julianday(x) > 2451545 AND date(x) > '2000-01-01' ORDER BY 1;
SELECT x, v FROM t WHERE v = '01';
",
        );
    }
    let back = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(
        sqlite_rows(&back, "PRAGMA integrity_check").unwrap(),
        vec![vec![V::Text(b"ok".to_vec())]]
    );
    assert_eq!(
        sqlite_rows(&back, "SELECT * FROM t ORDER BY x").unwrap(),
        sqlite_rows(&theirs, "SELECT * FROM t ORDER BY x").unwrap()
    );
}
