//! Several ON CONFLICT clauses in one INSERT (SQLite 3.35+), compared with SQLite
//! (rusqlite, bundled) statement by statement, messages included: the first clause naming
//! the constraint a row conflicts on handles it, a last clause without a target handles
//! any other; the targets' constraints are checked first, in clause order, the INTEGER
//! PRIMARY KEY after the first clause's index. Then a seeded random workload of such
//! upserts (targets in every order, DO NOTHING / DO UPDATE with WHERE, RETURNING,
//! conflicts on several constraints at once) over rowid and WITHOUT ROWID tables.

mod common;
use common::{same_as_sqlite_with_messages, same_on, Rng};

#[test]
fn clauses_pick_by_target_in_order() {
    same_as_sqlite_with_messages(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a UNIQUE, b UNIQUE, c);
         INSERT INTO t VALUES (1, 10, 100, 'x'), (2, 20, 200, 'y');
         INSERT INTO t VALUES (3, 10, 300, 'n') ON CONFLICT(a) DO UPDATE SET c = 'by a' ON CONFLICT(b) DO UPDATE SET c = 'by b';
         SELECT * FROM t ORDER BY id;
         INSERT INTO t VALUES (4, 40, 200, 'n') ON CONFLICT(a) DO UPDATE SET c = 'by a' ON CONFLICT(b) DO UPDATE SET c = 'by b';
         SELECT * FROM t ORDER BY id;
         INSERT INTO t VALUES (1, 50, 500, 'n') ON CONFLICT(a) DO UPDATE SET c = 'by a' ON CONFLICT(id) DO UPDATE SET c = 'by id';
         SELECT * FROM t ORDER BY id;
         INSERT INTO t VALUES (2, 10, 200, 'n') ON CONFLICT(b) DO UPDATE SET c = 'b first' ON CONFLICT(a) DO UPDATE SET c = 'a second' ON CONFLICT DO NOTHING RETURNING *;
         SELECT * FROM t ORDER BY id;
         INSERT INTO t VALUES (2, 10, 200, 'n') ON CONFLICT(id) DO UPDATE SET c = 'id first' ON CONFLICT(a) DO UPDATE SET c = 'a second' RETURNING id, c;
         INSERT INTO t VALUES (9, 10, 900, 'n') ON CONFLICT(b) DO NOTHING ON CONFLICT DO UPDATE SET c = 'catch-all' RETURNING *;
         INSERT INTO t VALUES (2, 77, 777, 'n') ON CONFLICT(a) DO NOTHING ON CONFLICT(b) DO NOTHING;
         INSERT INTO t VALUES (2, 77, 777, 'n') ON CONFLICT(a) DO NOTHING ON CONFLICT DO NOTHING;
         INSERT INTO t VALUES (5, 10, 555, 'n') ON CONFLICT(a) DO UPDATE SET c = 'where' WHERE excluded.c = 'no' ON CONFLICT(b) DO NOTHING;
         INSERT INTO t VALUES (5, 10, 555, 'n') ON CONFLICT(a) DO UPDATE SET b = 200 ON CONFLICT(b) DO NOTHING;
         INSERT INTO t VALUES (6, 60, 600, 'n'), (7, 60, 100, 'n'), (8, 80, 600, 'n') ON CONFLICT(a) DO UPDATE SET c = c || '+a' ON CONFLICT(b) DO UPDATE SET c = c || '+b' RETURNING *;
         SELECT * FROM t ORDER BY id;
         SELECT changes(), total_changes()",
    );
}

#[test]
fn clause_errors_and_duplicates() {
    same_as_sqlite_with_messages(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, a UNIQUE, b, c, UNIQUE(b, c));
         INSERT INTO t VALUES (1, 1, 1, 1);
         INSERT INTO t VALUES (2, 1, 2, 2) ON CONFLICT(b) DO NOTHING ON CONFLICT(a) DO NOTHING;
         INSERT INTO t VALUES (2, 1, 2, 2) ON CONFLICT(a) DO NOTHING ON CONFLICT(b) DO NOTHING;
         INSERT INTO t VALUES (2, 1, 2, 2) ON CONFLICT(a) DO NOTHING ON CONFLICT(c) DO NOTHING ON CONFLICT(id) DO NOTHING;
         INSERT INTO t VALUES (2, 1, 2, 2) ON CONFLICT(a) DO UPDATE SET b = 9 ON CONFLICT(a) DO UPDATE SET b = 8;
         SELECT * FROM t ORDER BY id;
         INSERT INTO t VALUES (3, 3, 9, 1) ON CONFLICT(c, b) DO UPDATE SET a = 30 ON CONFLICT(a) DO NOTHING;
         SELECT * FROM t ORDER BY id;
         INSERT INTO t VALUES (4, 30, 5, 5) ON CONFLICT(b, c) DO NOTHING ON CONFLICT(id) DO NOTHING;
         INSERT INTO t VALUES (4, 30, 5, 5) ON CONFLICT(b, c) DO NOTHING ON CONFLICT(a) DO UPDATE SET a = 1;
         SELECT * FROM t ORDER BY id;
         INSERT INTO t VALUES (5, 1, 5, 5) ON CONFLICT DO NOTHING ON CONFLICT(a) DO NOTHING;
         INSERT INTO t VALUES (5, 1, 5, 5) ON CONFLICT DO UPDATE SET c = 0 ON CONFLICT DO NOTHING;
         INSERT INTO t VALUES (5, 1, 5, 5) ON CONFLICT(a) DO NOTHING ON CONFLICT(b, c) DO NOTHING ON CONFLICT(c) DO NOTHING ON CONFLICT(a, b) DO NOTHING",
    );
}

#[test]
fn without_rowid_and_partial_targets() {
    same_as_sqlite_with_messages(
        "CREATE TABLE w(p TEXT COLLATE NOCASE, q INT, r UNIQUE, s, PRIMARY KEY(p, q)) WITHOUT ROWID;
         CREATE UNIQUE INDEX ws ON w(s) WHERE s > 0;
         INSERT INTO w VALUES ('a', 1, 10, 1), ('b', 2, 20, 2);
         INSERT INTO w VALUES ('A', 1, 20, 3) ON CONFLICT(r) DO UPDATE SET s = -1 ON CONFLICT(p, q) DO UPDATE SET s = -2;
         SELECT * FROM w ORDER BY p, q;
         INSERT INTO w VALUES ('c', 3, 30, 2) ON CONFLICT(s) WHERE s > 0 DO UPDATE SET r = 99 ON CONFLICT DO NOTHING;
         INSERT INTO w VALUES ('c', 3, 30, 2) ON CONFLICT(q, p) DO NOTHING ON CONFLICT(s) WHERE s > 0 DO UPDATE SET r = 98;
         SELECT * FROM w ORDER BY p, q",
    );
}

/// Random upserts with two or three clauses over a table with an INTEGER PRIMARY KEY and
/// two UNIQUE columns (small domains, so rows conflict on one, two or all three).
#[test]
fn random_multi_clause_upserts() {
    for seed in 1..=40u64 {
        let ours = strata::Connection::open_in_memory().unwrap();
        let theirs = rusqlite::Connection::open_in_memory().unwrap();
        let mut rng = Rng(seed * 7919 + 13);
        let wr = seed % 3 == 0;
        let ddl = if wr {
            "CREATE TABLE t(id INT PRIMARY KEY, a UNIQUE, b UNIQUE, c) WITHOUT ROWID"
        } else {
            "CREATE TABLE t(id INTEGER PRIMARY KEY, a UNIQUE, b UNIQUE, c)"
        };
        let mut script = vec![ddl.to_string()];
        let targets = ["id", "a", "b"];
        for step in 0..60 {
            let n = 1 + rng.next(2) as usize;
            let rows: Vec<String> = (0..n)
                .map(|_| {
                    format!(
                        "({}, {}, {}, {})",
                        rng.next(8),
                        rng.next(6),
                        if rng.next(5) == 0 {
                            "NULL".to_string()
                        } else {
                            rng.next(6).to_string()
                        },
                        step
                    )
                })
                .collect();
            let mut order = targets.to_vec();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.next(i as u64 + 1) as usize);
            }
            let clauses = 1 + rng.next(3) as usize;
            let mut sql = format!("INSERT INTO t VALUES {}", rows.join(", "));
            for (i, target) in order.iter().take(clauses).enumerate() {
                let action = match rng.next(4) {
                    0 => "DO NOTHING".to_string(),
                    1 => format!("DO UPDATE SET c = c || ',{target}{i}'"),
                    2 => format!(
                        "DO UPDATE SET c = excluded.c WHERE excluded.c % 2 = {}",
                        rng.next(2)
                    ),
                    _ => format!("DO UPDATE SET c = -excluded.c, a = a + 10"),
                };
                sql.push_str(&format!(" ON CONFLICT({target}) {action}"));
            }
            if rng.next(3) == 0 {
                sql.push_str(" ON CONFLICT DO NOTHING");
            }
            if rng.next(3) == 0 {
                sql.push_str(" RETURNING id, a, b, c");
            }
            script.push(sql);
            if step % 10 == 9 {
                script.push("SELECT * FROM t ORDER BY id".into());
            }
        }
        script.push("SELECT * FROM t ORDER BY id".into());
        script.push("SELECT total_changes()".into());
        same_on(&ours, &theirs, &script.join(";\n"), true);
    }
}

/// An upsert of one row needs no statement savepoint (its DO UPDATE checks everything
/// before its first write, as SQLite's one-pass upsert): inside BEGIN, one whose DO UPDATE
/// fails a CHECK, NOT NULL or another UNIQUE constraint, or whose SET raises an error,
/// must fail alone and leave the transaction and its earlier changes as SQLite does. With
/// update triggers or foreign keys the statement keeps its savepoint (a trigger's write
/// may come before the failure).
#[test]
fn failing_single_row_upserts_inside_a_transaction() {
    same_as_sqlite_with_messages(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER UNIQUE, v INTEGER NOT NULL CHECK (v < 100), u UNIQUE);
         CREATE INDEX t_v ON t(v);
         INSERT INTO t VALUES (1, 10, 1, 'a'), (2, 20, 2, 'b'), (3, 30, 3, 'c');
         BEGIN;
         INSERT INTO t(k, v, u) VALUES (10, 5, 'x') ON CONFLICT(k) DO UPDATE SET v = v + excluded.v;
         INSERT INTO t(k, v, u) VALUES (40, 4, 'd') ON CONFLICT(k) DO UPDATE SET v = v + excluded.v;
         INSERT INTO t(k, v, u) VALUES (20, 500, 'y') ON CONFLICT(k) DO UPDATE SET v = v + excluded.v;
         INSERT INTO t(k, v, u) VALUES (20, 5, 'y') ON CONFLICT(k) DO UPDATE SET v = NULL;
         INSERT INTO t(k, v, u) VALUES (20, 5, 'y') ON CONFLICT(k) DO UPDATE SET u = 'c';
         INSERT INTO t(k, v, u) VALUES (20, 5, 'y') ON CONFLICT(k) DO UPDATE SET id = 3;
         INSERT INTO t(k, v, u) VALUES (20, 5, 'y') ON CONFLICT(k) DO UPDATE SET v = abs(-9223372036854775807 - 1);
         INSERT INTO t(k, v, u) VALUES (50, 5, 'a') ON CONFLICT(k) DO UPDATE SET v = 0;
         INSERT INTO t(k, v, u) VALUES (30, 7, 'z') ON CONFLICT(k) DO UPDATE SET v = excluded.v, u = excluded.u;
         SELECT * FROM t ORDER BY id;
         COMMIT;
         SELECT * FROM t ORDER BY id;
         CREATE TABLE log(x);
         CREATE TRIGGER t_u BEFORE UPDATE ON t BEGIN INSERT INTO log VALUES (old.id); END;
         BEGIN;
         INSERT INTO t(k, v, u) VALUES (10, 6, 'x') ON CONFLICT(k) DO UPDATE SET v = v + excluded.v;
         INSERT INTO t(k, v, u) VALUES (10, 600, 'x') ON CONFLICT(k) DO UPDATE SET v = v + excluded.v;
         SELECT * FROM log;
         SELECT * FROM t ORDER BY id;
         COMMIT;
         SELECT * FROM log;
         SELECT * FROM t ORDER BY id;
         PRAGMA foreign_keys = ON;
         CREATE TABLE p(id INTEGER PRIMARY KEY, k INTEGER UNIQUE, v);
         CREATE TABLE c(pk INTEGER REFERENCES p(k) ON UPDATE CASCADE, CHECK (pk < 1000));
         INSERT INTO p VALUES (1, 10, 0), (2, 20, 0);
         INSERT INTO c VALUES (10), (20);
         BEGIN;
         INSERT INTO p(k, v) VALUES (20, 1) ON CONFLICT(k) DO UPDATE SET v = v + 1;
         INSERT INTO p(k, v) VALUES (10, 1) ON CONFLICT(k) DO UPDATE SET k = 2000;
         SELECT * FROM p ORDER BY id;
         SELECT * FROM c ORDER BY pk;
         INSERT INTO p(k, v) VALUES (10, 1) ON CONFLICT(k) DO UPDATE SET k = 500;
         COMMIT;
         SELECT * FROM p ORDER BY id;
         SELECT * FROM c ORDER BY pk",
    );
}
