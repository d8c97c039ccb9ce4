//! Random schemas and SQL statements for the SQL workload.
//!
//! Everything is drawn from a seeded `ChaCha8Rng`, and nothing depends on the database's
//! state at run time, so a workload is a plain list of statements (a [`crate::plan::Plan`])
//! that can be shrunk and replayed.
//!
//! The generator stays inside what Strata supports (see the crate README) and avoids what
//! SQLite itself leaves unspecified, so that any difference from SQLite is a bug:
//! - `LIMIT` only under an `ORDER BY` that ends with the table's rowid (a total order);
//!   every `ORDER BY` ends with the rowid (`id` may be NULL in a table without INTEGER PRIMARY KEY) or sorts whole rows, so ordered results compare as sequences;
//! - no `group_concat` (its order is unspecified), no `UPDATE OR REPLACE/IGNORE` that can
//!   touch the unique column `k` (which row wins depends on the visiting order, which
//!   depends on the plan), no `INSERT ... SELECT` with a conflict clause (same reason);
//! - reals are multiples of 0.25 (exact in binary), so sums do not depend on the order in
//!   which rows are added.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// One table of a tenant's schema.
#[derive(Clone, Debug)]
pub struct TableDef {
    pub name: String,
    /// `id INTEGER PRIMARY KEY` (an alias of the rowid) or an implicit rowid.
    pub ipk: bool,
}

/// A tenant's schema: tables `t0..`, each `(id, k UNIQUE, a INTEGER, b TEXT, c REAL)`,
/// with secondary indexes.
#[derive(Clone, Debug)]
pub struct SchemaDef {
    pub tables: Vec<TableDef>,
    /// The DDL, in order.
    pub ddl: Vec<String>,
}

pub fn gen_schema(rng: &mut ChaCha8Rng) -> SchemaDef {
    let n = rng.gen_range(2..=3);
    let mut tables = Vec::new();
    let mut ddl = Vec::new();
    for i in 0..n {
        let name = format!("t{i}");
        let ipk = rng.gen_bool(0.7);
        let inline_unique = rng.gen_bool(0.5);
        let id = if ipk {
            "id INTEGER PRIMARY KEY"
        } else {
            "id INTEGER"
        };
        let k = if inline_unique {
            "k INTEGER UNIQUE"
        } else {
            "k INTEGER"
        };
        ddl.push(format!(
            "CREATE TABLE {name}({id}, {k}, a INTEGER, b TEXT, c REAL)"
        ));
        if !inline_unique {
            ddl.push(format!("CREATE UNIQUE INDEX {name}_k ON {name}(k)"));
        }
        if !ipk {
            // Keep `id` unique so that rows can be addressed and ordered by it.
            ddl.push(format!("CREATE UNIQUE INDEX {name}_id ON {name}(id)"));
        }
        if rng.gen_bool(0.8) {
            ddl.push(format!("CREATE INDEX {name}_a ON {name}(a)"));
        }
        if rng.gen_bool(0.6) {
            let desc = if rng.gen_bool(0.3) { " DESC" } else { "" };
            ddl.push(format!("CREATE INDEX {name}_ba ON {name}(b{desc}, a)"));
        }
        if rng.gen_bool(0.3) {
            ddl.push(format!("CREATE INDEX {name}_c ON {name}(c, id)"));
        }
        tables.push(TableDef { name, ipk });
    }
    SchemaDef { tables, ddl }
}

const TEXTS: &[&str] = &["'a'", "'b'", "'ab'", "'abc'", "'B'", "''", "'xyz'", "'a b'"];

fn int_lit(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> String {
    rng.gen_range(lo..=hi).to_string()
}

fn id_lit(rng: &mut ChaCha8Rng) -> String {
    int_lit(rng, 1, 40)
}

fn k_lit(rng: &mut ChaCha8Rng) -> String {
    if rng.gen_bool(0.1) {
        "NULL".into()
    } else {
        int_lit(rng, 1, 25)
    }
}

fn a_lit(rng: &mut ChaCha8Rng) -> String {
    if rng.gen_bool(0.1) {
        "NULL".into()
    } else {
        int_lit(rng, 0, 9)
    }
}

fn b_lit(rng: &mut ChaCha8Rng) -> String {
    if rng.gen_bool(0.1) {
        "NULL".into()
    } else {
        TEXTS[rng.gen_range(0..TEXTS.len())].to_string()
    }
}

fn c_lit(rng: &mut ChaCha8Rng) -> String {
    match rng.gen_range(0..6) {
        0 => "NULL".into(),
        1 => int_lit(rng, -3, 3),
        _ => format!("{}", rng.gen_range(-16..16) as f64 * 0.25),
    }
}

fn table<'a>(rng: &mut ChaCha8Rng, s: &'a SchemaDef) -> &'a TableDef {
    &s.tables[rng.gen_range(0..s.tables.len())]
}

/// A WHERE condition over one table's columns, optionally qualified with `q.`.
fn pred(rng: &mut ChaCha8Rng, q: &str) -> String {
    let p = match rng.gen_range(0..12) {
        0 => format!("{q}a = {}", int_lit(rng, 0, 9)),
        1 => format!("{q}a > {} AND {q}b IS NOT NULL", int_lit(rng, 0, 9)),
        2 => format!("{q}b LIKE 'a%'"),
        3 => format!(
            "{q}k BETWEEN {} AND {}",
            int_lit(rng, 0, 10),
            int_lit(rng, 8, 25)
        ),
        4 => format!(
            "{q}id IN ({}, {}, {})",
            id_lit(rng),
            id_lit(rng),
            id_lit(rng)
        ),
        5 => format!("{q}a IS NULL"),
        6 => format!("{q}c < {} OR {q}a = {}", c_lit(rng), int_lit(rng, 0, 9)),
        7 => format!("{q}id % 3 = {}", int_lit(rng, 0, 2)),
        8 => format!("{q}b = {}", b_lit(rng)),
        9 => format!("{q}id > {}", id_lit(rng)),
        10 => format!("NOT ({q}a < {})", int_lit(rng, 0, 9)),
        _ => format!("{q}k = {}", k_lit(rng)),
    };
    if rng.gen_bool(0.15) {
        format!("({p}) OR {q}id = {}", id_lit(rng))
    } else {
        p
    }
}

fn values_row(rng: &mut ChaCha8Rng, with_id: bool) -> String {
    let mut v = Vec::new();
    if with_id {
        v.push(id_lit(rng));
    }
    v.push(k_lit(rng));
    v.push(a_lit(rng));
    v.push(b_lit(rng));
    v.push(c_lit(rng));
    format!("({})", v.join(", "))
}

fn gen_insert(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let with_id = rng.gen_bool(0.6);
    let cols = if with_id {
        "id, k, a, b, c"
    } else {
        "k, a, b, c"
    };
    let n = rng.gen_range(1..=3);
    let rows: Vec<String> = (0..n).map(|_| values_row(rng, with_id)).collect();
    let rows = rows.join(", ");
    // Upserts with an explicit id too: the ON CONFLICT target is checked before the
    // INTEGER PRIMARY KEY, as in SQLite (a bug this generator once worked around).
    let (k_cols, k_rows) = (cols, rows.clone());
    match rng.gen_range(0..8) {
        0 => format!("INSERT OR REPLACE INTO {}({cols}) VALUES {rows}", t.name),
        1 => format!("INSERT OR IGNORE INTO {}({cols}) VALUES {rows}", t.name),
        2 => format!(
            "INSERT INTO {}({k_cols}) VALUES {k_rows} ON CONFLICT(k) DO UPDATE SET a = excluded.a, c = coalesce({}.c, 0) + 1",
            t.name, t.name
        ),
        3 => format!(
            "INSERT INTO {}({k_cols}) VALUES {k_rows} ON CONFLICT(k) DO NOTHING",
            t.name
        ),
        4 if t.ipk && with_id => format!(
            "INSERT INTO {}({cols}) VALUES {rows} ON CONFLICT(id) DO UPDATE SET b = excluded.b WHERE excluded.a > {}.a",
            t.name, t.name
        ),
        5 => {
            // INSERT ... SELECT without a conflict clause: a conflict aborts the whole
            // statement whatever the order of the selected rows; ORDER BY id fixes the
            // new rows' rowids (else they depend on the plan's scan order).
            let src = table(rng, s);
            format!(
                "INSERT INTO {}(k, a, b, c) SELECT k + {}, a, b, c FROM {} WHERE {} ORDER BY rowid",
                t.name,
                rng.gen_range(20..60),
                src.name,
                pred(rng, "")
            )
        }
        _ => format!("INSERT INTO {}({cols}) VALUES {rows}", t.name),
    }
}

fn gen_update(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let set = match rng.gen_range(0..6) {
        0 => format!("a = a + 1, b = {}", b_lit(rng)),
        1 => format!("c = {}", c_lit(rng)),
        2 => format!("b = b || 'z', a = {}", a_lit(rng)),
        // A constant `k`: a conflict fails whatever order rows are visited in.
        3 => format!("k = {}", k_lit(rng)),
        // The subquery reads another table: on the updated table itself the result
        // depends on the order rows are updated in (SQLite reads its own changes).
        4 => {
            let others: Vec<&TableDef> = s.tables.iter().filter(|o| o.name != t.name).collect();
            let o = others[rng.gen_range(0..others.len())];
            format!(
                "a = (SELECT count(*) FROM {} AS y WHERE y.a = {}.a)",
                o.name, t.name
            )
        }
        _ => "c = coalesce(c, 0) + 0.5, a = NULL".to_string(),
    };
    format!("UPDATE {} SET {set} WHERE {}", t.name, pred(rng, ""))
}

fn gen_delete(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    match rng.gen_range(0..5) {
        0 => {
            let o = table(rng, s);
            format!(
                "DELETE FROM {} WHERE a IN (SELECT a FROM {} WHERE {})",
                t.name,
                o.name,
                pred(rng, "")
            )
        }
        _ => format!("DELETE FROM {} WHERE {}", t.name, pred(rng, "")),
    }
}

fn gen_select(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let n = &t.name;
    match rng.gen_range(0..10) {
        0 => format!("SELECT * FROM {n} WHERE {}", pred(rng, "")),
        1 => format!(
            "SELECT id, a, b FROM {n} WHERE {} ORDER BY a DESC, rowid",
            pred(rng, "")
        ),
        2 => format!(
            "SELECT id, k, c FROM {n} ORDER BY b, c DESC, rowid LIMIT {} OFFSET {}",
            rng.gen_range(1..8),
            rng.gen_range(0..3)
        ),
        3 => format!(
            "SELECT a, count(*), sum(c), min(b), max(id), total(k), avg(a) FROM {n} GROUP BY a"
        ),
        4 => format!(
            "SELECT b, count(*) FROM {n} WHERE {} GROUP BY b HAVING count(*) > {}",
            pred(rng, ""),
            rng.gen_range(0..3)
        ),
        5 => {
            let o = table(rng, s);
            let (x, y) = ("x", "y");
            let join = if rng.gen_bool(0.5) {
                "JOIN"
            } else {
                "LEFT JOIN"
            };
            let on = match rng.gen_range(0..3) {
                0 => format!("{x}.a = {y}.a"),
                1 => format!("{x}.k = {y}.k"),
                _ => format!("{x}.b = {y}.b AND {y}.id > {x}.id"),
            };
            format!(
                "SELECT {x}.id, {y}.id, {x}.a, {y}.c FROM {n} AS {x} {join} {} AS {y} ON {on} WHERE {}",
                o.name,
                pred(rng, "x.")
            )
        }
        6 => {
            let o = table(rng, s);
            format!(
                "SELECT id FROM {n} WHERE a IN (SELECT a FROM {} WHERE {}) ORDER BY id",
                o.name,
                pred(rng, "")
            )
        }
        7 => {
            let o = table(rng, s);
            format!(
                "SELECT id, (SELECT count(*) FROM {} AS y WHERE y.a = x.a) FROM {n} AS x WHERE {}",
                o.name,
                pred(rng, "x.")
            )
        }
        8 => {
            let o = table(rng, s);
            format!(
                "SELECT count(*), sum(a), max(c) FROM {n} AS x WHERE {}EXISTS (SELECT 1 FROM {} AS y WHERE y.k = x.a)",
                if rng.gen_bool(0.5) { "NOT " } else { "" },
                o.name
            )
        }
        _ => format!("SELECT DISTINCT a, b FROM {n} WHERE {}", pred(rng, "")),
    }
}

/// One random statement for a connection.
pub fn gen_statement(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    match rng.gen_range(0..100) {
        0..=24 => gen_insert(rng, s),
        25..=36 => gen_update(rng, s),
        37..=45 => gen_delete(rng, s),
        46..=77 => gen_select(rng, s),
        78..=83 => "BEGIN".into(),
        84..=85 => "BEGIN IMMEDIATE".into(),
        86..=92 => "COMMIT".into(),
        93..=95 => "ROLLBACK".into(),
        96..=98 => {
            let mode = ["PASSIVE", "FULL", "RESTART", "TRUNCATE"][rng.gen_range(0..4)];
            format!("PRAGMA wal_checkpoint({mode})")
        }
        _ => "PRAGMA integrity_check".into(),
    }
}

/// How the simulator treats a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
    Begin,
    BeginImmediate,
    Commit,
    Rollback,
    Checkpoint,
    Integrity,
}

pub fn classify(sql: &str) -> Kind {
    let u = sql.trim_start().to_ascii_uppercase();
    if u.starts_with("SELECT") {
        Kind::Read
    } else if u.starts_with("BEGIN IMMEDIATE") {
        Kind::BeginImmediate
    } else if u.starts_with("BEGIN") {
        Kind::Begin
    } else if u.starts_with("COMMIT") || u.starts_with("END") {
        Kind::Commit
    } else if u.starts_with("ROLLBACK") {
        Kind::Rollback
    } else if u.starts_with("PRAGMA WAL_CHECKPOINT") {
        Kind::Checkpoint
    } else if u.starts_with("PRAGMA INTEGRITY_CHECK") {
        Kind::Integrity
    } else {
        Kind::Write
    }
}

/// Whether a SELECT's rows come in a defined order (a top-level ORDER BY).
pub fn ordered(sql: &str) -> bool {
    sql.to_ascii_uppercase().contains(" ORDER BY ")
}
