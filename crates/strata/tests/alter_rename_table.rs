//! ALTER TABLE ... RENAME TO against SQLite (rusqlite's bundled build): the stored
//! `sql` of the table, its indexes, and every view and trigger naming it (in main and
//! TEMP) must be SQLite's byte for byte, and the renamed objects must keep working: a
//! trigger body that kept the old name would write to whatever table takes that name
//! next (a wrong write).

mod common;
use common::*;

const SCHEMA: &str = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid";
const TEMP_SCHEMA: &str = "SELECT type, name, tbl_name, sql FROM sqlite_temp_schema ORDER BY rowid";

/// Runs the script (each ALTER followed by dumps of both schemas) on both engines.
fn check_alters(script: &str) {
    let mut full = String::new();
    for stmt in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        full.push_str(stmt);
        full.push_str(";\n");
        if stmt.to_ascii_uppercase().starts_with("ALTER") {
            full.push_str(SCHEMA);
            full.push_str(";\n");
            full.push_str(TEMP_SCHEMA);
            full.push_str(";\n");
        }
    }
    check_script(&full);
}

#[test]
fn rename_rewrites_views_and_trigger_bodies() {
    check_alters(
        "CREATE TABLE a(x UNIQUE, y CHECK (a.y IS NULL OR a.y > 0), z REFERENCES a(x));
         CREATE INDEX ai ON a(x);
         CREATE TABLE c(q);
         CREATE VIEW v AS SELECT a.*, a.x, \"a\".y, [a].x AS x2 FROM a WHERE a.x IN (SELECT x FROM main.a AS q);
         CREATE VIEW v2 AS SELECT a.q FROM c AS a;
         CREATE VIEW v3 AS SELECT a.x FROM a AS a;
         CREATE VIEW v4 AS SELECT q FROM c;
         CREATE TRIGGER tc AFTER INSERT ON c BEGIN INSERT INTO a(x) VALUES (new.q); UPDATE a SET y = 1 WHERE a.x = new.q; DELETE FROM a WHERE x IN (SELECT x FROM a WHERE x < 0); END;
         CREATE TRIGGER ta AFTER DELETE ON a WHEN old.x > 100 BEGIN INSERT INTO c SELECT a.x FROM a LIMIT 1; END;
         INSERT INTO c VALUES (5), (7);
         ALTER TABLE a RENAME TO b;
         SELECT * FROM v ORDER BY 1;
         SELECT * FROM v2 ORDER BY 1;
         SELECT * FROM v3 ORDER BY 1;
         INSERT INTO c VALUES (9);
         SELECT * FROM b ORDER BY x;
         CREATE TABLE a(other);
         INSERT INTO c VALUES (11);
         SELECT * FROM a;
         SELECT * FROM b ORDER BY x;
         ALTER TABLE b RENAME TO \"new name\";
         SELECT count(*) FROM v;
         INSERT INTO c VALUES (13);
         SELECT * FROM \"new name\" ORDER BY x;
         PRAGMA integrity_check;",
    );
}

#[test]
fn rename_rewrites_temp_objects_on_a_main_table() {
    check_alters(
        "CREATE TABLE a(x, y);
         CREATE TABLE c(z);
         CREATE TEMP VIEW tv AS SELECT * FROM a;
         CREATE TEMP TRIGGER tt AFTER INSERT ON a BEGIN SELECT 1; END;
         CREATE TEMP TRIGGER t2 AFTER INSERT ON c BEGIN INSERT INTO a VALUES (new.z, 2); END;
         ALTER TABLE a RENAME TO b;
         INSERT INTO c VALUES (1);
         SELECT * FROM tv;",
    );
}

#[test]
fn rename_leaves_temp_objects_of_a_shadowing_temp_table() {
    check_alters(
        "CREATE TABLE a(x, y);
         CREATE TEMP TABLE a(q);
         CREATE TEMP VIEW tv AS SELECT * FROM a;
         CREATE VIEW w AS SELECT * FROM a;
         ALTER TABLE main.a RENAME TO b;
         SELECT * FROM w;
         SELECT * FROM tv;",
    );
}

#[test]
fn rename_keeps_ctes_of_another_table_and_subquery_aliases() {
    check_alters(
        "CREATE TABLE a(x, y);
         CREATE VIEW w AS WITH k AS (SELECT x FROM a) SELECT * FROM k;
         CREATE VIEW w2 AS SELECT a FROM (SELECT x AS a FROM a) a;
         INSERT INTO a VALUES (1, 2);
         ALTER TABLE a RENAME TO b;
         SELECT * FROM w;
         SELECT * FROM w2;",
    );
}

#[test]
fn rename_fails_on_a_broken_view_as_sqlite() {
    check_alters(
        "CREATE TABLE a(x, y);
         CREATE TABLE c(x);
         CREATE VIEW v AS SELECT * FROM c;
         DROP TABLE c;
         ALTER TABLE a RENAME TO b;
         SELECT name FROM sqlite_schema ORDER BY name;",
    );
}

#[test]
fn rename_inside_a_rolled_back_transaction() {
    check_alters(
        "CREATE TABLE a(x);
         CREATE VIEW v AS SELECT x FROM a;
         CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO a SELECT new.x + 1 WHERE new.x < 3; END;
         BEGIN;
         ALTER TABLE a RENAME TO b;
         INSERT INTO b VALUES (1);
         SELECT * FROM v;
         ROLLBACK;
         INSERT INTO a VALUES (1);
         SELECT * FROM v ORDER BY x;",
    );
}

/// A WITH clause that defines a table of the renamed table's name: SQLite resolves the
/// scopes; Strata's token walk cannot, so it refuses with a clear error and changes
/// nothing (never a wrong rewrite).
#[test]
fn rename_refuses_what_it_cannot_resolve() {
    refused(
        "CREATE TABLE a(x, y);
         CREATE VIEW w AS SELECT * FROM a WHERE x IN (WITH a AS (SELECT 1) SELECT * FROM a);",
        "ALTER TABLE a RENAME TO b",
        "cannot rename table a: view w names it in a way Strata cannot rewrite safely",
    );
}
