//! ATTACH / DETACH and schema-qualified names of attached databases, checked against
//! SQLite (rusqlite, bundled): every statement runs on both engines, each in a temp
//! directory of its own (`{dir}` in a statement stands for it, and for it in results),
//! and must return the same rows or fail with the same message. Files Strata writes are
//! then checked by SQLite (`PRAGMA integrity_check`) and files SQLite writes are read by
//! Strata.

mod common;
use common::{sqlite_rows, strata_rows, V};
use strata::Connection;

/// The statements of a script: separated by lines ending in `;`.
fn statements(script: &str) -> impl Iterator<Item = &str> {
    script.split(";\n").map(str::trim).filter(|s| !s.is_empty())
}

/// Two engines, each with a directory and a main database file in it.
struct Pair {
    ours: Connection,
    theirs: rusqlite::Connection,
    d_ours: tempfile::TempDir,
    d_theirs: tempfile::TempDir,
}

impl Pair {
    fn new() -> Pair {
        let d_ours = tempfile::tempdir().unwrap();
        let d_theirs = tempfile::tempdir().unwrap();
        let ours = Connection::open(d_ours.path().join("main.db")).unwrap();
        let theirs = rusqlite::Connection::open(d_theirs.path().join("main.db")).unwrap();
        Pair {
            ours,
            theirs,
            d_ours,
            d_theirs,
        }
    }

    fn dir_ours(&self) -> String {
        self.d_ours.path().to_str().unwrap().to_string()
    }

    fn dir_theirs(&self) -> String {
        self.d_theirs.path().to_str().unwrap().to_string()
    }

    /// Runs `script` on both: same rows (with each directory shown as `{dir}`) or the
    /// same error message.
    fn same(&self, script: &str) {
        let mut done: Vec<&str> = Vec::new();
        for sql in statements(script) {
            let a = strata_rows(&self.ours, &sql.replace("{dir}", &self.dir_ours()));
            let b = sqlite_rows(&self.theirs, &sql.replace("{dir}", &self.dir_theirs()));
            let a = normalize(a, &self.dir_ours());
            let b = normalize(b, &self.dir_theirs());
            let recent = done[done.len().saturating_sub(60)..].join(";\n");
            assert_eq!(a, b, "engines differ for: {sql}\nafter:\n{recent}");
            done.push(sql);
        }
    }
}

/// Replaces `dir` by `{dir}` in text values and messages.
fn normalize(r: Result<Vec<Vec<V>>, String>, dir: &str) -> Result<Vec<Vec<V>>, String> {
    let fix = |s: &str| s.replace(dir, "{dir}");
    match r {
        Ok(rows) => Ok(rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| match v {
                        V::Text(t) => V::Text(fix(&String::from_utf8_lossy(&t)).into_bytes()),
                        v => v,
                    })
                    .collect()
            })
            .collect()),
        Err(e) => Err(fix(&e)),
    }
}

#[test]
fn attach_detach_and_database_list() {
    let p = Pair::new();
    p.same(
        "PRAGMA database_list;
         ATTACH '{dir}/a.db' AS aux;
         PRAGMA database_list;
         ATTACH '{dir}/a.db' AS aux;
         ATTACH '{dir}/b.db' AS main;
         ATTACH '{dir}/b.db' AS temp;
         ATTACH '{dir}/b.db' AS AUX;
         DETACH main;
         DETACH temp;
         DETACH nope;
         DETACH DATABASE aux;
         PRAGMA database_list;
         ATTACH DATABASE '{dir}/a.db' AS aux;
         ATTACH ':memory:' AS m;
         ATTACH '' AS e;
         PRAGMA database_list;
         CREATE TEMP TABLE tt(x);
         PRAGMA database_list;
         DETACH temp;
         DETACH \"M\";
         PRAGMA database_list;
         SELECT * FROM m.sqlite_schema;
         DETACH e;
         DETACH aux;
         PRAGMA database_list",
    );
}

#[test]
fn too_many_attached() {
    let p = Pair::new();
    let mut script = String::new();
    for i in 0..12 {
        script.push_str(&format!("ATTACH '{{dir}}/c{i}.db' AS c{i};\n"));
    }
    script.push_str("PRAGMA database_list;\nDETACH c10;\nDETACH c9;\nATTACH ':memory:' AS again;\nPRAGMA database_list;\n");
    p.same(&script);
}

#[test]
fn qualified_names_in_every_statement_kind() {
    let p = Pair::new();
    p.same(
        "ATTACH '{dir}/a.db' AS aux;
         CREATE TABLE aux.t(a INTEGER PRIMARY KEY, b TEXT UNIQUE);
         CREATE TABLE aux.u(x, y);
         CREATE INDEX aux.ux ON u(x);
         CREATE INDEX aux.bad ON t3(x);
         CREATE TABLE nope.z(a);
         SELECT type, name, tbl_name, rootpage, sql FROM aux.sqlite_schema ORDER BY rowid;
         SELECT type, name FROM aux.sqlite_master ORDER BY name;
         SELECT count(*) FROM sqlite_schema;
         INSERT INTO aux.t VALUES (1, 'one'), (2, 'two');
         INSERT INTO aux.u SELECT a, b FROM aux.t;
         SELECT * FROM aux.t ORDER BY a;
         SELECT aux.t.a, t.b FROM aux.t WHERE a = 2;
         SELECT * FROM t ORDER BY a;
         UPDATE aux.t SET b = upper(b) WHERE a = 1;
         DELETE FROM aux.u WHERE x = 2;
         SELECT * FROM t, u WHERE t.a = u.x;
         INSERT INTO aux.t VALUES (1, 'dup');
         INSERT INTO aux.t(b) VALUES ('one');
         SELECT * FROM nope.t;
         CREATE TABLE t(m);
         INSERT INTO t VALUES ('main');
         SELECT * FROM t;
         SELECT * FROM main.t;
         SELECT * FROM aux.t ORDER BY 1;
         CREATE TEMP TABLE t(tt);
         INSERT INTO temp.t VALUES ('temp');
         SELECT * FROM t;
         DROP TABLE temp.t;
         DROP TABLE main.t;
         SELECT * FROM t ORDER BY 1;
         CREATE VIEW aux.v AS SELECT a, b FROM t;
         CREATE VIEW aux.v2 AS SELECT * FROM main.t;
         SELECT * FROM aux.v ORDER BY a;
         SELECT * FROM v ORDER BY a;
         CREATE TRIGGER aux.tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (new.a, 'trig'); END;
         CREATE TRIGGER aux.tr2 AFTER INSERT ON main.t BEGIN SELECT 1; END;
         INSERT INTO aux.t VALUES (7, 'seven');
         SELECT * FROM aux.u ORDER BY x;
         PRAGMA aux.table_info(t);
         PRAGMA aux.index_list(u);
         PRAGMA aux.user_version;
         PRAGMA aux.user_version = 7;
         PRAGMA aux.user_version;
         PRAGMA user_version;
         SELECT * FROM pragma_table_list ORDER BY schema, name;
         PRAGMA table_list;
         PRAGMA aux.table_list;
         DROP TRIGGER aux.tr;
         DROP VIEW aux.v;
         DROP INDEX aux.ux;
         DROP TABLE aux.u;
         SELECT type, name, tbl_name, sql FROM aux.sqlite_schema ORDER BY rowid",
    );
}

/// Runs `sql` on a Strata connection, panicking on failure.
fn exec(c: &Connection, sql: &str) {
    c.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn sqlite_check(path: &std::path::Path) {
    let c = rusqlite::Connection::open(path).unwrap();
    let r: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(r, "ok", "{}", path.display());
}

#[test]
fn transactions_span_main_and_attached() {
    let p = Pair::new();
    p.same(
        "ATTACH '{dir}/a.db' AS aux;
         CREATE TABLE t(x);
         CREATE TABLE aux.u(y);
         BEGIN;
         INSERT INTO t VALUES (1);
         INSERT INTO aux.u VALUES (2);
         SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM u);
         ROLLBACK;
         SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM u);
         BEGIN;
         INSERT INTO t VALUES (1);
         INSERT INTO aux.u VALUES (2);
         DETACH aux;
         COMMIT;
         SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM u);
         BEGIN;
         SELECT count(*) FROM aux.u;
         DETACH aux;
         ROLLBACK;
         SAVEPOINT s1;
         INSERT INTO aux.u VALUES (3);
         SAVEPOINT s2;
         INSERT INTO t VALUES (4);
         INSERT INTO aux.u VALUES (4);
         ROLLBACK TO s2;
         SELECT * FROM u ORDER BY y;
         RELEASE s1;
         SELECT * FROM u ORDER BY y;
         SELECT * FROM t ORDER BY x;
         CREATE TABLE aux.k(a PRIMARY KEY);
         INSERT INTO aux.k VALUES (1);
         BEGIN;
         INSERT INTO t VALUES (9);
         INSERT INTO aux.k VALUES (2), (1);
         SELECT * FROM aux.k;
         SELECT * FROM t ORDER BY x;
         COMMIT;
         SELECT * FROM aux.k;
         INSERT INTO aux.k SELECT x FROM t;
         SELECT * FROM aux.k;
         BEGIN;
         CREATE TABLE aux.gone(z);
         INSERT INTO aux.gone VALUES (1);
         ROLLBACK;
         SELECT * FROM aux.gone;
         SELECT name FROM aux.sqlite_schema ORDER BY name;
         DETACH aux;
         ATTACH '{dir}/a.db' AS aux;
         SELECT * FROM u ORDER BY y",
    );
    drop(p.theirs);
    let dir = p.d_ours.path().to_path_buf();
    drop(p.ours);
    sqlite_check(&dir.join("main.db"));
    sqlite_check(&dir.join("a.db"));
}

#[test]
fn files_written_by_one_read_by_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    let b = dir.path().join("b.db");
    {
        let c = rusqlite::Connection::open(&a).unwrap();
        c.execute_batch(
            "CREATE TABLE t(x INTEGER PRIMARY KEY, y TEXT); CREATE INDEX ty ON t(y);
             INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three');
             CREATE VIEW vt AS SELECT y FROM t WHERE x > 1;
             PRAGMA user_version = 42;",
        )
        .unwrap();
    }
    {
        let ours = Connection::open(dir.path().join("main.db")).unwrap();
        exec(
            &ours,
            &format!(
                "ATTACH '{}' AS a; ATTACH '{}' AS b",
                a.display(),
                b.display()
            ),
        );
        let rows = strata_rows(&ours, "SELECT y FROM a.t WHERE y > 'o' ORDER BY y").unwrap();
        assert_eq!(
            rows,
            vec![
                vec![V::Text(b"one".to_vec())],
                vec![V::Text(b"three".to_vec())],
                vec![V::Text(b"two".to_vec())]
            ]
        );
        let rows = strata_rows(&ours, "SELECT * FROM vt ORDER BY 1").unwrap();
        assert_eq!(rows.len(), 2);
        let rows = strata_rows(&ours, "PRAGMA a.user_version").unwrap();
        assert_eq!(rows, vec![vec![V::Int(42)]]);
        exec(
            &ours,
            "CREATE TABLE b.s(k INTEGER PRIMARY KEY, v); CREATE INDEX b.sv ON s(v);
             INSERT INTO b.s SELECT x, y FROM a.t;
             INSERT INTO a.t VALUES (4, 'four');
             BEGIN; INSERT INTO b.s VALUES (10, 'ten'); INSERT INTO a.t VALUES (5, 'five'); COMMIT;
             PRAGMA b.user_version = 7;",
        );
        exec(&ours, "DETACH a; DETACH b");
    }
    sqlite_check(&a);
    sqlite_check(&b);
    let c = rusqlite::Connection::open(&b).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM s", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 4);
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 7);
    let c = rusqlite::Connection::open(&a).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 5);
}

#[test]
fn another_connections_schema_changes_are_seen() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    // The attached file is open in this process already (another Database on the same
    // IO backend): the attach shares it, so the other connection's changes are seen as
    // SQLite's are.
    let io: std::sync::Arc<dyn strata::io::IO> = std::sync::Arc::new(strata::io::SyscallIo::new());
    let other_db = strata::Database::open_with_io(&a, io.clone()).unwrap();
    let other = other_db.connect();
    exec(&other, "CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    let ours = strata::Database::open_with_io(dir.path().join("main.db"), io)
        .unwrap()
        .connect();
    exec(&ours, &format!("ATTACH '{}' AS aux", a.display()));
    let q = |sql: &str| strata_rows(&ours, sql);
    assert_eq!(q("SELECT * FROM aux.t").unwrap(), vec![vec![V::Int(1)]]);
    exec(
        &other,
        "CREATE TABLE u(y); INSERT INTO u VALUES (2); ALTER TABLE t ADD COLUMN z DEFAULT 5",
    );
    assert_eq!(q("SELECT * FROM aux.u").unwrap(), vec![vec![V::Int(2)]]);
    assert_eq!(
        q("SELECT * FROM t").unwrap(),
        vec![vec![V::Int(1), V::Int(5)]]
    );
    let stmt_before = ours.prepare("SELECT * FROM aux.t").unwrap();
    exec(
        &other,
        "DROP TABLE t; CREATE TABLE t(p, q, r); INSERT INTO t VALUES (7, 8, 9)",
    );
    drop(stmt_before);
    // Compiled against the cached schema (as SQLite's prepare would), the program's
    // cookie check on aux finds the change and it is compiled again: the third column.
    let r: i64 = ours
        .query_row("SELECT * FROM aux.t", (), |r| r.get(2))
        .unwrap();
    assert_eq!(r, 9);
    assert_eq!(
        q("SELECT * FROM aux.t").unwrap(),
        vec![vec![V::Int(7), V::Int(8), V::Int(9)]]
    );
    exec(
        &other,
        "DROP TABLE t; CREATE TABLE t(p, q, r, s); INSERT INTO t VALUES (1, 2, 3, 4)",
    );
    // A name the cached schema does not have: the compile sees aux's cookie moved.
    assert_eq!(q("SELECT s FROM aux.t").unwrap(), vec![vec![V::Int(4)]]);
    // Writes of ours are seen by the other connection.
    exec(&ours, "INSERT INTO aux.u VALUES (3)");
    assert_eq!(
        strata_rows(&other, "SELECT count(*) FROM u").unwrap(),
        vec![vec![V::Int(2)]]
    );
    // A file open elsewhere in the process is locked while ours writes.
    exec(&ours, "BEGIN; INSERT INTO aux.u VALUES (4)");
    assert_eq!(
        strata_rows(&other, "INSERT INTO u VALUES (5)").unwrap_err(),
        "database is locked"
    );
    exec(&ours, "COMMIT");
    assert_eq!(
        strata_rows(&other, "SELECT count(*) FROM u").unwrap(),
        vec![vec![V::Int(3)]]
    );
}

#[test]
fn attach_disabled_by_open_options() {
    let dir = tempfile::tempdir().unwrap();
    let db = strata::OpenOptions::new()
        .attach_files(false)
        .open(dir.path().join("main.db"))
        .unwrap();
    let c = db.connect();
    let a = dir.path().join("a.db");
    assert_eq!(
        strata_rows(&c, &format!("ATTACH '{}' AS aux", a.display())).unwrap_err(),
        "ATTACH of a database file is disabled"
    );
    assert!(!a.exists());
    exec(
        &c,
        "ATTACH ':memory:' AS m; CREATE TABLE m.t(x); INSERT INTO m.t VALUES (1)",
    );
    assert_eq!(
        strata_rows(&c, "SELECT * FROM t").unwrap(),
        vec![vec![V::Int(1)]]
    );
}

#[test]
fn in_memory_main_attaches_a_disk_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.db");
    {
        let ours = Connection::open_in_memory().unwrap();
        exec(
            &ours,
            &format!(
                "ATTACH '{}' AS aux; CREATE TABLE aux.t(x); INSERT INTO aux.t VALUES (1), (2)",
                a.display()
            ),
        );
        assert_eq!(
            strata_rows(&ours, "SELECT sum(x) FROM t").unwrap(),
            vec![vec![V::Int(3)]]
        );
    }
    sqlite_check(&a);
    let c = rusqlite::Connection::open(&a).unwrap();
    let n: i64 = c
        .query_row("SELECT sum(x) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn foreign_keys_alter_pragmas_and_more_on_attached() {
    let p = Pair::new();
    p.same(
        "ATTACH '{dir}/a.db' AS aux;
         ATTACH ':memory:' AS m;
         CREATE TABLE m.t(x);
         CREATE TABLE aux.p(id INTEGER PRIMARY KEY, v);
         CREATE TABLE aux.c(id INTEGER PRIMARY KEY AUTOINCREMENT, pid REFERENCES p(id) ON DELETE CASCADE);
         CREATE TABLE p(id INTEGER PRIMARY KEY, v);
         PRAGMA foreign_keys = ON;
         INSERT INTO aux.p VALUES (1, 'a');
         INSERT INTO aux.c(pid) VALUES (1);
         INSERT INTO aux.c(pid) VALUES (2);
         INSERT INTO main.p VALUES (2, 'main');
         INSERT INTO aux.c(pid) VALUES (2);
         SELECT * FROM aux.sqlite_sequence;
         SELECT * FROM sqlite_sequence;
         DELETE FROM aux.p WHERE id = 1;
         SELECT * FROM aux.c;
         PRAGMA aux.foreign_key_check;
         PRAGMA foreign_key_check;
         PRAGMA aux.foreign_key_list(c);
         CREATE TEMP TRIGGER tt AFTER INSERT ON aux.p BEGIN INSERT INTO main.p VALUES (new.id + 100, 'temp trig'); END;
         INSERT INTO aux.p VALUES (5, 'x');
         SELECT * FROM main.p ORDER BY id;
         ALTER TABLE aux.p ADD COLUMN w DEFAULT 3;
         SELECT * FROM aux.p;
         ALTER TABLE aux.p RENAME TO p2;
         SELECT name FROM aux.sqlite_schema ORDER BY name;
         ALTER TABLE aux.p2 RENAME COLUMN v TO vv;
         ALTER TABLE aux.p2 DROP COLUMN w;
         SELECT * FROM aux.p2;
         REINDEX aux.p2;
         PRAGMA aux.schema_version;
         PRAGMA aux.page_size;
         PRAGMA aux.freelist_count;
         PRAGMA aux.page_count;
         PRAGMA m.page_count;
         PRAGMA main.page_count;
         PRAGMA aux.application_id;
         PRAGMA aux.integrity_check;
         PRAGMA aux.quick_check;
         PRAGMA main.integrity_check;
         PRAGMA aux.integrity_check(p2);
         PRAGMA m.integrity_check;
         SELECT * FROM pragma_table_info('p2', 'aux');
         SELECT * FROM pragma_table_list('p2', 'aux');
         SELECT aux.p2.id FROM aux.p2;
         SELECT main.p.id, aux.p2.id FROM main.p, aux.p2 WHERE aux.p2.id = 5;
         SELECT x.id FROM aux.p2 AS x;
         WITH w AS (SELECT * FROM aux.p2) SELECT count(*) FROM w;
         INSERT INTO aux.p2 VALUES (5, 'dup') ON CONFLICT(id) DO UPDATE SET vv = 'upserted';
         SELECT * FROM aux.p2;
         UPDATE aux.p2 SET vv = 'ret' WHERE id = 5 RETURNING *;
         CREATE TABLE aux.wr(a PRIMARY KEY, b) WITHOUT ROWID;
         INSERT INTO aux.wr VALUES (1, 2);
         SELECT * FROM aux.wr;
         CREATE TABLE aux.cp AS SELECT * FROM main.p;
         SELECT * FROM aux.cp ORDER BY id;
         DROP TABLE IF EXISTS aux.nothing;
         DROP TABLE aux.nothing;
         DROP INDEX aux.nothing;
         DROP VIEW aux.nothing;
         DROP TRIGGER aux.nothing;
         DROP TRIGGER tt;
         CREATE INDEX IF NOT EXISTS aux.cpi ON cp(id);
         CREATE INDEX IF NOT EXISTS aux.cpi ON cp(id);
         SELECT * FROM aux.cp INDEXED BY cpi WHERE id > 0 ORDER BY id;
         DETACH aux;
         SELECT * FROM aux.cp",
    );
}

/// What is not done yet fails with a clear error (never main's answer for aux).
#[test]
fn not_yet_supported_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let c = Connection::open(dir.path().join("main.db")).unwrap();
    exec(
        &c,
        &format!("ATTACH '{}' AS aux", dir.path().join("a.db").display()),
    );
    let err = |sql: &str| strata_rows(&c, sql).unwrap_err();
    assert_eq!(
        err("VACUUM aux"),
        "VACUUM of an attached database (aux) is not supported yet"
    );
    assert_eq!(
        err("PRAGMA aux.journal_mode"),
        "PRAGMA aux.journal_mode is not supported yet"
    );
    assert_eq!(
        err("PRAGMA aux.wal_checkpoint"),
        "PRAGMA aux.wal_checkpoint is not supported yet"
    );
    // SQLite's temp database has no page before its first table (0); Strata's has one.
    assert_eq!(
        err("PRAGMA temp.page_count"),
        "PRAGMA temp.page_count is not supported"
    );
}

/// Unqualified `integrity_check` / `quick_check` check every database, as SQLite's: one
/// "ok" for all, or each database's problems under `*** in database NAME ***`, counted
/// against one limit. The damage: aux's freelist dropped from its header (its free
/// pages are then "never used"), and main's index left without one row's entry.
#[test]
fn integrity_check_covers_every_database() {
    let p = Pair::new();
    let forms = "PRAGMA integrity_check;
         PRAGMA quick_check;
         PRAGMA integrity_check(3);
         PRAGMA main.integrity_check;
         PRAGMA aux.integrity_check;
         PRAGMA aux.quick_check;
         PRAGMA integrity_check(t)";
    p.same(
        "CREATE TABLE t(x, y);
         CREATE INDEX ti ON t(x);
         INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');
         ATTACH '{dir}/a.db' AS aux;
         ATTACH ':memory:' AS mem;
         CREATE TABLE aux.big(x, y);
         CREATE INDEX aux.bx ON big(x);
         CREATE TABLE mem.m(x UNIQUE);
         INSERT INTO mem.m VALUES (1), (2);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20) INSERT INTO aux.big SELECT i, zeroblob(3000) FROM n;
         DELETE FROM aux.big WHERE x > 2",
    );
    p.same(forms);
    p.same("DETACH aux");
    // Damage each engine's aux file the same way, then attach it again.
    for dir in [p.dir_ours(), p.dir_theirs()] {
        let path = std::path::Path::new(&dir).join("a.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE")
            .unwrap_or_else(|e| panic!("{dir}: {e} (DETACH closes the file)"));
        drop(c);
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes[36..40] != [0, 0, 0, 0], "aux has free pages");
        bytes[32..40].fill(0);
        std::fs::write(&path, bytes).unwrap();
    }
    p.same("ATTACH '{dir}/a.db' AS aux");
    p.same(forms);
    // Then aux's index says it holds `x + 1` where its entries hold `x` (rows missing
    // from it: problems of the rows, after the trees').
    p.same("DETACH aux");
    for dir in [p.dir_ours(), p.dir_theirs()] {
        let c = rusqlite::Connection::open(std::path::Path::new(&dir).join("a.db")).unwrap();
        c.execute_batch(
            "PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = 'CREATE INDEX bx ON big(x + 1)' WHERE name = 'bx';",
        )
        .unwrap();
    }
    p.same("ATTACH '{dir}/a.db' AS aux");
    p.same(forms);
    p.same("PRAGMA integrity_check(1);\n PRAGMA integrity_check(12)");
}

#[test]
fn temp_trigger_on_an_attached_table_after_reload() {
    let p = Pair::new();
    p.same(
        "ATTACH '{dir}/a.db' AS aux;
         CREATE TABLE aux.t(x);
         CREATE TABLE t(x);
         CREATE TABLE log(m);
         CREATE TEMP TRIGGER tr AFTER INSERT ON aux.t BEGIN INSERT INTO log VALUES ('aux ' || new.x); END;
         CREATE TEMP TRIGGER tr2 AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('main ' || new.x); END;
         CREATE TABLE aux.other(y);
         INSERT INTO aux.t VALUES (1);
         INSERT INTO main.t VALUES (2);
         INSERT INTO t VALUES (3);
         SELECT * FROM log ORDER BY rowid;
         SELECT name, tbl_name FROM temp.sqlite_schema ORDER BY name;
         DETACH aux;
         INSERT INTO t VALUES (4);
         SELECT * FROM log ORDER BY rowid",
    );
}

#[test]
fn attach_inside_a_transaction_and_main_attached_again() {
    let p = Pair::new();
    p.ours.busy_timeout(std::time::Duration::from_millis(50));
    p.theirs
        .busy_timeout(std::time::Duration::from_millis(50))
        .unwrap();
    p.same(
        "CREATE TABLE t(x);
         INSERT INTO t VALUES (1);
         BEGIN;
         INSERT INTO t VALUES (2);
         ATTACH '{dir}/a.db' AS aux;
         CREATE TABLE aux.u(y);
         INSERT INTO aux.u SELECT x FROM t;
         COMMIT;
         SELECT * FROM aux.u ORDER BY y;
         ATTACH '{dir}/main.db' AS again;
         SELECT * FROM again.t ORDER BY x;
         INSERT INTO again.t VALUES (3);
         SELECT * FROM main.t ORDER BY x;
         SELECT * FROM t ORDER BY x;
         DETACH again;
         BEGIN;
         ATTACH ':memory:' AS m;
         CREATE TABLE m.z(q);
         INSERT INTO m.z VALUES (1);
         ROLLBACK;
         SELECT * FROM m.z;
         SELECT name FROM m.sqlite_schema;
         DETACH m",
    );
}

/// A random workload over main, a file attached as `aux`, an in-memory `m` and temp
/// (seeded, the same on every run): attach and detach, DDL, DML, joins across the
/// databases, transactions and savepoints; every statement's rows or message compared
/// with SQLite's. Then SQLite checks the files Strata wrote.
#[test]
fn random_workload_over_attached_databases() {
    for seed in 1..=30u64 {
        let p = Pair::new();
        let mut rng = common::Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let dbs = ["main", "aux", "m", "temp"];
        let mut script = String::from(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, a, b TEXT);\nATTACH '{dir}/aux.db' AS aux;\nATTACH ':memory:' AS m;\n",
        );
        for _ in 0..120 {
            let d = rng.pick(&dbs);
            let d2 = rng.pick(&dbs);
            let n = rng.next(10);
            let stmt = match rng.next(22) {
                0 => format!("CREATE TABLE IF NOT EXISTS {d}.t(id INTEGER PRIMARY KEY, a, b TEXT)"),
                1 => format!("CREATE TABLE {d}.u{n}(x, y UNIQUE)"),
                2 => format!("CREATE INDEX IF NOT EXISTS {d}.ta{n} ON t(a)"),
                3..=5 => format!(
                    "INSERT INTO {d}.t(a, b) VALUES ({n}, '{}')",
                    rng.pick(&["x", "y", "zz", ""])
                ),
                6 => format!("INSERT OR REPLACE INTO {d}.t SELECT id + {n}, a, b FROM {d2}.t WHERE id < 5"),
                7 => format!("UPDATE {d}.t SET a = a + 1 WHERE id % 3 = {}", n % 3),
                8 => format!("DELETE FROM {d}.t WHERE a > {n}"),
                9 | 10 => format!("SELECT * FROM {d}.t ORDER BY id"),
                11 => "SELECT * FROM t ORDER BY id".to_string(),
                12 => format!(
                    "SELECT x.id, x.a, y.b FROM {d}.t AS x JOIN {d2}.t AS y ON x.id = y.id ORDER BY x.id"
                ),
                13 => format!("SELECT count(*), sum(a) FROM {d}.t WHERE id IN (SELECT id FROM {d2}.t)"),
                14 => rng.pick(&["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT s", "RELEASE s", "ROLLBACK TO s"]).to_string(),
                15 => format!("DROP TABLE IF EXISTS {d}.u{n}"),
                16 => format!("INSERT INTO {d}.u{n} VALUES ({n}, {})", rng.next(4)),
                17 => rng.pick(&["DETACH m", "DETACH aux", "ATTACH ':memory:' AS m", "ATTACH '{dir}/aux.db' AS aux"]).to_string(),
                18 => "PRAGMA database_list".to_string(),
                19 => format!("SELECT name FROM {d}.sqlite_master ORDER BY name"),
                20 => format!("CREATE VIEW IF NOT EXISTS {d}.v AS SELECT a, b FROM t WHERE a > 2"),
                _ => format!("SELECT * FROM {d}.v ORDER BY a, b"),
            };
            script.push_str(&stmt);
            script.push_str(";\n");
        }
        script.push_str("ROLLBACK;\nPRAGMA main.integrity_check;\n");
        if std::env::var("ATTACH_DUMP").is_ok() {
            std::fs::write(format!("/tmp/attach_seed_{seed}.sql"), &script).unwrap();
        }
        p.same(&script);
        let dir = p.d_ours.path().to_path_buf();
        drop(p.theirs);
        drop(p.ours);
        sqlite_check(&dir.join("main.db"));
        if dir.join("aux.db").exists() {
            sqlite_check(&dir.join("aux.db"));
        }
    }
}

/// Statements that only check a schema (`IF NOT EXISTS` finding the object, `DROP ...
/// IF EXISTS` finding none, schema pragmas) read it as of the transaction, as SQLite's
/// sqlite3CodeVerifySchema: inside a transaction the database is then in use.
#[test]
fn schema_checks_begin_a_read_transaction() {
    let p = Pair::new();
    p.same(
        "ATTACH '{dir}/a.db' AS aux;
         CREATE TABLE aux.t(a, b);
         CREATE VIEW aux.v AS SELECT a FROM t;
         CREATE INDEX aux.i ON t(a);
         CREATE TRIGGER aux.tr AFTER INSERT ON t BEGIN SELECT 1; END;
         SAVEPOINT s;
         CREATE VIEW IF NOT EXISTS aux.v AS SELECT 1;
         DETACH aux;
         ROLLBACK;
         BEGIN;
         CREATE TABLE IF NOT EXISTS aux.t(x);
         DETACH aux;
         ROLLBACK;
         BEGIN;
         CREATE INDEX IF NOT EXISTS aux.i ON t(a);
         DETACH aux;
         ROLLBACK;
         BEGIN;
         CREATE TRIGGER IF NOT EXISTS aux.tr AFTER INSERT ON t BEGIN SELECT 1; END;
         DETACH aux;
         ROLLBACK;
         BEGIN;
         DROP TABLE IF EXISTS nothing;
         DETACH aux;
         ROLLBACK;
         BEGIN;
         DROP TABLE IF EXISTS main.nothing;
         DETACH aux;
         ROLLBACK;
         BEGIN;
         PRAGMA aux.table_info(t);
         DETACH aux;
         ROLLBACK;
         BEGIN;
         PRAGMA main.table_info(t);
         DETACH aux;
         ROLLBACK",
    );
}

#[test]
fn views_and_triggers_across_databases() {
    let p = Pair::new();
    p.same(
        "ATTACH '{dir}/a.db' AS aux;
         CREATE TABLE aux.t(a, b);
         INSERT INTO aux.t VALUES (1, 'x'), (2, 'y');
         CREATE TABLE t(a, b);
         INSERT INTO t VALUES (10, 'main');
         CREATE VIEW mv AS SELECT * FROM aux.t;
         CREATE VIEW mv2 AS SELECT * FROM t;
         SELECT * FROM mv2;
         CREATE TEMP VIEW tv AS SELECT aux.t.a, main.t.b FROM aux.t, main.t ORDER BY 1;
         SELECT * FROM tv;
         CREATE VIEW aux.av AS SELECT a FROM t WHERE a > 1;
         SELECT * FROM aux.av;
         SELECT * FROM av;
         CREATE TRIGGER mt AFTER INSERT ON main.t BEGIN INSERT INTO aux.t VALUES (new.a, 'trig'); END;
         CREATE TRIGGER aux.at AFTER INSERT ON aux.t BEGIN INSERT INTO t VALUES (new.a, 'from trig'); END;
         INSERT INTO aux.t VALUES (3, 'z');
         SELECT * FROM aux.t ORDER BY a;
         SELECT * FROM main.t ORDER BY a;
         CREATE TEMP TRIGGER tt AFTER DELETE ON aux.t BEGIN INSERT INTO main.t VALUES (old.a, 'deleted'); END;
         DELETE FROM aux.t WHERE a = 1;
         SELECT * FROM main.t ORDER BY a, b;
         SELECT a.a, m.b FROM aux.t AS a LEFT JOIN main.t AS m ON a.a = m.a ORDER BY 1, 2;
         SELECT (SELECT count(*) FROM aux.t), (SELECT count(*) FROM main.t), (SELECT count(*) FROM t)",
    );
}

/// An attached database has main's text encoding: a new file takes it (a UTF-16 main's
/// attached file was written UTF-16 under a UTF-8 header, a file SQLite called
/// malformed: found by sql_diff's attach group), a file in another encoding with
/// tables is refused with SQLite's message.
#[test]
fn attached_files_take_or_must_have_mains_encoding() {
    for enc in ["UTF-16le", "UTF-16be"] {
        let p = Pair::new();
        for dir in [p.dir_ours(), p.dir_theirs()] {
            let c = rusqlite::Connection::open(format!("{dir}/u8.db")).unwrap();
            c.execute_batch("CREATE TABLE old(x); INSERT INTO old VALUES ('utf-8 text')")
                .unwrap();
        }
        p.same(&format!(
            "PRAGMA encoding = '{enc}';
             CREATE TABLE t(a);
             ATTACH '{{dir}}/a.db' AS aux;
             CREATE TABLE aux.x(a TEXT, b);
             CREATE INDEX aux.xa ON x(a);
             INSERT INTO aux.x VALUES ('hello', 1), ('日本', 2), ('é', 3);
             SELECT * FROM aux.x ORDER BY a;
             SELECT * FROM aux.x WHERE a = 'é';
             ATTACH '{{dir}}/u8.db' AS u;
             SELECT * FROM u.old;
             DETACH aux;
             ATTACH '{{dir}}/a.db' AS aux;
             SELECT * FROM aux.x ORDER BY a"
        ));
        drop(p.ours);
        sqlite_check(&std::path::Path::new(&p.d_ours.path()).join("a.db"));
        let c = rusqlite::Connection::open(p.d_ours.path().join("a.db")).unwrap();
        assert_eq!(
            sqlite_rows(&c, "SELECT * FROM x ORDER BY b").unwrap(),
            sqlite_rows(&p.theirs, "SELECT * FROM aux.x ORDER BY b").unwrap()
        );
    }
}
