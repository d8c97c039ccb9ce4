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
//!   which rows are added;
//! - RETURNING rows compare as multisets (SQLite does not promise their order);
//! - a bare column next to min()/max() only with exactly one min()/max() over a column
//!   that is unique and not NULL in the rows aggregated (so the row holding it is unique);
//! - deferred foreign keys only in the fuzzer (the simulator's model runs a transaction's
//!   statements on a copy in autocommit mode, where a deferred check would fire early).
//!
//! ## Feature groups
//! What applications write beyond the original core is grouped in [`Features`] (all on by
//! default); each group can be switched off (`--no-feature NAME`, `--features LIST`, or
//! `STRATA_SIM_NO_FEATURES=NAME,...`), e.g. while the engine fix it exercises is not
//! merged. With every group off the generator draws exactly what it drew before the
//! groups existed (a group's random draws happen only when it is on).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Groups of generated SQL that can be switched off one by one (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// `RETURNING` on INSERT (both upsert branches too), UPDATE and DELETE.
    pub returning: bool,
    /// Columns with DEFAULTs; `INSERT ... DEFAULT VALUES` and inserts naming some columns.
    pub default_values: bool,
    /// `ORDER BY x NULLS FIRST / NULLS LAST`.
    pub nulls_order: bool,
    /// `LIMIT offset, count`.
    pub limit_comma: bool,
    /// Bare columns next to a single min()/max() (the row holding the min/max).
    pub bare_minmax: bool,
    /// `agg(...) FILTER (WHERE ...)`.
    pub filter: bool,
    /// `main.` on DDL (tables, indexes, a view, a trigger) and DML.
    pub schema_prefix: bool,
    /// TEMP tables, indexes, views and triggers (per connection).
    pub temp: bool,
    /// `PRAGMA foreign_keys=ON`, child tables with ON DELETE/UPDATE actions.
    pub foreign_keys: bool,
    /// STRICT tables and wrong-typed writes into them.
    pub strict: bool,
    /// Pragmas that report the schema and the database (`encoding`, `index_list`,
    /// `index_info`, `index_xinfo`, `table_info`). Not `journal_mode`: the model is an
    /// in-memory SQLite database, whose journal mode is `memory` (the fuzzer checks it).
    pub pragmas: bool,
    /// Window functions (`OVER`): ranking, lag/lead, values and aggregates over ROWS,
    /// RANGE and GROUPS frames, named windows, windows over GROUP BY and in subqueries.
    pub window: bool,
    /// JSON functions (text and JSONB, `->`/`->>`, edits, aggregates whose result does
    /// not depend on row order) over the tables' columns, and JSON stored in `b`.
    pub json: bool,
    /// Row values: comparisons, IN over a subquery or a list, BETWEEN, a multi-column
    /// subquery operand, `SET (a, b) = ...` (see [`gen_row_values`]).
    pub row_values: bool,
    /// UPDATE ... FROM with a FROM side that matches each target row at most once (see
    /// [`gen_update_from`]).
    pub update_from: bool,
    /// RIGHT and FULL OUTER JOIN as the last join (see [`gen_outer_join`]).
    pub outer_join: bool,
    /// A view with INSTEAD OF triggers writing through to `t0` (INSERT, UPDATE OF,
    /// DELETE with WHEN), DML on it, `PRAGMA table_info` on it, and the pragma
    /// table-valued functions (see [`gen_views`]).
    pub views: bool,
    /// ALTER TABLE RENAME COLUMN / ADD COLUMN / DROP COLUMN on a scratch table `alt` with
    /// an index, a view and a trigger naming its columns (see [`gen_alter_column`]).
    pub alter_column: bool,
    /// Common table expressions (plain, used twice, recursive with and without the
    /// RECURSIVE keyword, in UPDATE/DELETE/INSERT) and compound SELECTs (UNION [ALL],
    /// INTERSECT, EXCEPT) over the tables (see [`gen_cte`]).
    pub cte: bool,
    /// Pages through the freelist: rows with overflow chains inserted and deleted in bulk,
    /// a scratch table `big` created, filled, indexed and dropped mid-workload, indexes on
    /// the main tables created and dropped (see [`gen_churn`]).
    pub churn: bool,
    /// `ORDER BY` inside aggregate calls (see [`gen_agg_order`]).
    pub agg_order: bool,
    /// Generated columns (VIRTUAL and STORED, indexed, under CHECK and UNIQUE) on a
    /// scratch table `gen`: writes, reads, upserts, errors, ADD/DROP COLUMN (see
    /// [`gen_generated`]).
    pub generated: bool,
    /// `SAVEPOINT`, `RELEASE`, `ROLLBACK TO` (nested, inside BEGIN and starting a
    /// transaction of their own, names that are not open), and scripted transactions on a
    /// scratch table `spill` larger than a small cache with savepoints around bulk deletes
    /// and inserts (see [`gen_savepoints`]).
    pub savepoints: bool,
    /// A WITHOUT ROWID scratch table `wr` (composite key, DESC and NOCASE key columns,
    /// a UNIQUE column, a secondary index): inserts with conflict clauses, upserts, key
    /// and non-key updates, deletes, reads in key order (see [`gen_without_rowid`]).
    pub without_rowid: bool,
    /// `ATTACH ':memory:'`/`''` databases `aux` and `aux2` per connection, tables in them
    /// (one named as a TEMP table, so unqualified names resolve temp, main, then attached),
    /// DML and reads qualified and not, copies between temp and aux, a TEMP trigger on an
    /// aux table, schema pragmas on them, DETACH (see [`gen_attach`]).
    pub attach: bool,
    /// Math functions (sqrt, pow, exp, ln, log forms, floor/ceil/trunc, mod, pi, the
    /// trigonometric and hyperbolic ones, degrees/radians) over the tables' columns, with
    /// SQLite's NULL on domain errors; TRUE/FALSE literals and `IS [NOT] TRUE/FALSE`
    /// (see [`gen_math`]).
    pub math: bool,
}

/// The names of [`Features`]' groups, as the command line spells them.
pub const FEATURE_NAMES: &[&str] = &[
    "returning",
    "default-values",
    "nulls-order",
    "limit-comma",
    "bare-minmax",
    "filter",
    "schema-prefix",
    "temp",
    "foreign-keys",
    "strict",
    "pragmas",
    "window",
    "json",
    "churn",
    "row-values",
    "update-from",
    "outer-join",
    "views",
    "alter-column",
    "cte",
    "agg-order",
    "generated",
    "savepoints",
    "without-rowid",
    "attach",
    "math",
];

impl Features {
    pub const ALL: Features = Features {
        returning: true,
        default_values: true,
        nulls_order: true,
        limit_comma: true,
        bare_minmax: true,
        filter: true,
        schema_prefix: true,
        temp: true,
        foreign_keys: true,
        strict: true,
        pragmas: true,
        window: true,
        json: true,
        churn: true,
        row_values: true,
        update_from: true,
        outer_join: true,
        views: true,
        alter_column: true,
        cte: true,
        agg_order: true,
        generated: true,
        savepoints: true,
        without_rowid: true,
        attach: true,
        math: true,
    };
    pub const NONE: Features = Features {
        returning: false,
        default_values: false,
        nulls_order: false,
        limit_comma: false,
        bare_minmax: false,
        filter: false,
        schema_prefix: false,
        temp: false,
        foreign_keys: false,
        strict: false,
        pragmas: false,
        window: false,
        json: false,
        churn: false,
        row_values: false,
        update_from: false,
        outer_join: false,
        views: false,
        alter_column: false,
        cte: false,
        agg_order: false,
        generated: false,
        savepoints: false,
        without_rowid: false,
        attach: false,
        math: false,
    };

    /// The default: every group on, minus those named in `STRATA_SIM_NO_FEATURES`
    /// (comma-separated names, or `all`); an unknown name panics (a typo must not
    /// silently leave a group on).
    pub fn from_env() -> Features {
        let mut f = Features::ALL;
        if let Ok(list) = std::env::var("STRATA_SIM_NO_FEATURES") {
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if let Err(e) = f.set(name, false) {
                    panic!("STRATA_SIM_NO_FEATURES: {e}");
                }
            }
        }
        f
    }

    fn flag(&mut self, name: &str) -> Option<&mut bool> {
        Some(match name {
            "returning" => &mut self.returning,
            "default-values" => &mut self.default_values,
            "nulls-order" => &mut self.nulls_order,
            "limit-comma" => &mut self.limit_comma,
            "bare-minmax" => &mut self.bare_minmax,
            "filter" => &mut self.filter,
            "schema-prefix" => &mut self.schema_prefix,
            "temp" => &mut self.temp,
            "foreign-keys" => &mut self.foreign_keys,
            "strict" => &mut self.strict,
            "pragmas" => &mut self.pragmas,
            "window" => &mut self.window,
            "json" => &mut self.json,
            "churn" => &mut self.churn,
            "row-values" => &mut self.row_values,
            "update-from" => &mut self.update_from,
            "outer-join" => &mut self.outer_join,
            "views" => &mut self.views,
            "alter-column" => &mut self.alter_column,
            "cte" => &mut self.cte,
            "agg-order" => &mut self.agg_order,
            "generated" => &mut self.generated,
            "savepoints" => &mut self.savepoints,
            "without-rowid" => &mut self.without_rowid,
            "attach" => &mut self.attach,
            "math" => &mut self.math,
            _ => return None,
        })
    }

    /// Switches group `name` (or `all`) on or off.
    pub fn set(&mut self, name: &str, on: bool) -> Result<(), String> {
        if name == "all" {
            *self = if on { Features::ALL } else { Features::NONE };
            return Ok(());
        }
        match self.flag(name) {
            Some(b) => {
                *b = on;
                Ok(())
            }
            None => Err(format!(
                "unknown feature {name} (known: all, {})",
                FEATURE_NAMES.join(", ")
            )),
        }
    }

    pub fn is_on(&self, name: &str) -> bool {
        let mut copy = *self;
        copy.flag(name).is_some_and(|b| *b)
    }

    /// The groups that are on.
    pub fn enabled(&self) -> Vec<&'static str> {
        FEATURE_NAMES
            .iter()
            .copied()
            .filter(|n| self.is_on(n))
            .collect()
    }

    /// `all`, `none`, or the comma-separated groups that are on (parsed by [`Features::parse`]).
    pub fn text(&self) -> String {
        if *self == Features::ALL {
            "all".into()
        } else if *self == Features::NONE {
            "none".into()
        } else {
            self.enabled().join(",")
        }
    }

    /// Exactly the listed groups (`all`, `none`, or comma-separated names).
    pub fn parse(list: &str) -> Result<Features, String> {
        let mut f = Features::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name != "none" {
                f.set(name, true)?;
            }
        }
        Ok(f)
    }
}

/// One table of a tenant's schema.
#[derive(Clone, Debug)]
pub struct TableDef {
    pub name: String,
    /// `id INTEGER PRIMARY KEY` (an alias of the rowid) or an implicit rowid.
    pub ipk: bool,
    /// A STRICT table.
    pub strict: bool,
    /// Has a column `p` referencing `t0(k)` (foreign keys).
    pub fk: bool,
}

/// A tenant's schema: tables `t0..`, each `(id, k UNIQUE, a INTEGER, b TEXT, c REAL)`,
/// with secondary indexes.
#[derive(Clone, Debug)]
pub struct SchemaDef {
    pub tables: Vec<TableDef>,
    /// The DDL, in order.
    pub ddl: Vec<String>,
    /// Views (selected from like tables).
    pub views: Vec<String>,
    pub features: Features,
}

/// `main.` on an object's name (half the time, with `schema-prefix`): SQLite stores the
/// statement without it.
fn main_prefix(rng: &mut ChaCha8Rng, f: &Features) -> &'static str {
    if f.schema_prefix && rng.gen_bool(0.5) {
        "main."
    } else {
        ""
    }
}

pub fn gen_schema(rng: &mut ChaCha8Rng, features: &Features) -> SchemaDef {
    let f = features;
    let n = rng.gen_range(2..=3);
    let mut tables = Vec::new();
    let mut ddl = Vec::new();
    let mut views = Vec::new();
    for i in 0..n {
        let name = format!("t{i}");
        let ipk = rng.gen_bool(0.7);
        let inline_unique = rng.gen_bool(0.5);
        // Feature draws come after the original ones and only when the group is on.
        let strict = f.strict && rng.gen_bool(0.5);
        let fk = f.foreign_keys && i > 0;
        let tq = main_prefix(rng, f);
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
        let (da, db, dc) = if f.default_values {
            (" DEFAULT 7", " DEFAULT 'dflt'", " DEFAULT (0.25 * 6)")
        } else {
            ("", "", "")
        };
        let p = if fk {
            let acts = [
                "CASCADE",
                "SET NULL",
                "SET DEFAULT",
                "RESTRICT",
                "NO ACTION",
            ];
            let del = acts[rng.gen_range(0..acts.len())];
            let upd = acts[rng.gen_range(0..acts.len())];
            format!(", p INTEGER REFERENCES t0(k) ON DELETE {del} ON UPDATE {upd}")
        } else {
            String::new()
        };
        ddl.push(format!(
            "CREATE TABLE {tq}{name}({id}, {k}, a INTEGER{da}, b TEXT{db}, c REAL{dc}{p}){}",
            if strict { " STRICT" } else { "" }
        ));
        if !inline_unique {
            let q = main_prefix(rng, f);
            ddl.push(format!("CREATE UNIQUE INDEX {q}{name}_k ON {name}(k)"));
        }
        if !ipk {
            // Keep `id` unique so that rows can be addressed and ordered by it.
            let q = main_prefix(rng, f);
            ddl.push(format!("CREATE UNIQUE INDEX {q}{name}_id ON {name}(id)"));
        }
        if rng.gen_bool(0.8) {
            let q = main_prefix(rng, f);
            ddl.push(format!("CREATE INDEX {q}{name}_a ON {name}(a)"));
        }
        if rng.gen_bool(0.6) {
            let desc = if rng.gen_bool(0.3) { " DESC" } else { "" };
            let q = main_prefix(rng, f);
            ddl.push(format!("CREATE INDEX {q}{name}_ba ON {name}(b{desc}, a)"));
        }
        if rng.gen_bool(0.3) {
            let q = main_prefix(rng, f);
            ddl.push(format!("CREATE INDEX {q}{name}_c ON {name}(c, id)"));
        }
        // With the churn group: a partial index (implied by `pred`'s `a > N AND b IS NOT
        // NULL`) and an index on expressions, kept by every write of the workload.
        if f.churn && rng.gen_bool(0.3) {
            ddl.push(format!(
                "CREATE INDEX {name}_pa ON {name}(a) WHERE b IS NOT NULL"
            ));
        }
        if f.churn && rng.gen_bool(0.3) {
            ddl.push(format!("CREATE INDEX {name}_ex ON {name}(a + 1, lower(b))"));
        }
        if fk {
            // SQLite recommends an index on the child key (else each parent change scans).
            if rng.gen_bool(0.5) {
                ddl.push(format!("CREATE INDEX {name}_p ON {name}(p)"));
            }
        }
        tables.push(TableDef {
            name,
            ipk,
            strict,
            fk,
        });
    }
    if f.schema_prefix {
        // Every DDL kind with the prefix: a view and a trigger (that never changes
        // anything, so that it cannot make results order-dependent).
        ddl.push("CREATE VIEW main.v0 AS SELECT id, k, a, b FROM t0 WHERE a IS NOT NULL".into());
        views.push("v0".to_string());
        ddl.push(
            "CREATE TRIGGER main.t0_tr AFTER UPDATE OF b ON t0 WHEN new.b = 'never' BEGIN DELETE FROM t0 WHERE 0; END"
                .into(),
        );
    }
    if f.views {
        // The view and its INSTEAD OF triggers (see `gen_views`, which also drops and
        // re-creates them); no draws, so the other groups' schemas stay as they were.
        for stmt in VIEW_DDL {
            ddl.push(stmt.to_string());
        }
    }
    if f.alter_column {
        // The scratch table of [`gen_alter_column`], there from the start (its statements
        // are too rare to create it often); no draw, so other plans stay as they were.
        ddl.push(
            "CREATE TABLE alt(id INTEGER PRIMARY KEY, p INTEGER, q TEXT, r REAL DEFAULT 1.5)"
                .into(),
        );
        ddl.push("CREATE INDEX alt_p ON alt(p)".into());
        ddl.push(
            "CREATE VIEW alt_v AS SELECT id, q, alt.r AS rr FROM alt WHERE q IS NOT NULL".into(),
        );
        ddl.push(
            "CREATE TRIGGER alt_tr AFTER UPDATE OF q ON alt BEGIN UPDATE alt SET p = coalesce(new.p, 0) + 1 WHERE id = new.id; END"
                .into(),
        );
    }
    if f.generated {
        // The scratch table of [`gen_generated`] and its indexes; no draw, so other
        // plans stay as they were.
        for stmt in GENERATED_DDL {
            ddl.push(stmt.to_string());
        }
    }
    if f.without_rowid {
        // The scratch table of [`gen_without_rowid`]; no draw.
        for stmt in WITHOUT_ROWID_DDL {
            ddl.push(stmt.to_string());
        }
        if f.foreign_keys {
            // Its WITHOUT ROWID child (Strata enforces foreign keys only with that group
            // on; the model always does).
            ddl.push(WITHOUT_ROWID_CHILD_DDL.to_string());
        }
    }
    SchemaDef {
        tables,
        ddl,
        views,
        features: *f,
    }
}

/// Text literals. The non-ASCII ones sort differently in UTF-8, UTF-16le and UTF-16be
/// (SQLite's BINARY is the encoding's byte order), and 'Ā'/'ā' differ under NOCASE
/// although ASCII case folding leaves them alone.
const TEXTS: &[&str] = &[
    "'a'",
    "'b'",
    "'ab'",
    "'abc'",
    "'B'",
    "''",
    "'xyz'",
    "'a b'",
    "'Ā'",
    "'é'",
    "'日本'",
    "'😀'",
    "'a😀'",
    "'\u{e000}'",
];

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
        // Several ON CONFLICT clauses (SQLite 3.35+): the first whose target a row
        // conflicts on handles it; the last may have no target. `id` is unique in every
        // table (an INTEGER PRIMARY KEY or a UNIQUE index).
        6 if rng.gen_bool(0.4) => format!(
            "INSERT INTO {t}({k_cols}) VALUES {k_rows} ON CONFLICT(k) DO UPDATE SET a = excluded.a, b = 'mk' ON CONFLICT(id) DO UPDATE SET c = excluded.c{} ON CONFLICT DO NOTHING",
            if rng.gen_bool(0.5) { " WHERE excluded.a > 0" } else { "" },
            t = t.name
        ),
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
    match rng.gen_range(0..25) {
        // The whole table: the truncate path (Clear counts the rows it removes).
        0 => format!("DELETE FROM {}", t.name),
        1..=5 => {
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
    // A statement of an enabled feature group a third of the time (no draw when every
    // group is off, so such plans are the ones generated before the groups existed).
    let enabled = s.features.enabled();
    if !enabled.is_empty() && rng.gen_bool(0.35) {
        let group = enabled[rng.gen_range(0..enabled.len())];
        return gen_feature(rng, s, group);
    }
    gen_core(rng, s)
}

/// One random statement for a connection, or (group `savepoints`) a script of several
/// for the same connection, in order: the simulator's plans are made of these.
pub fn gen_statements(rng: &mut ChaCha8Rng, s: &SchemaDef) -> Vec<String> {
    // The same draws as `gen_statement` (plans without the group stay as they were),
    // and savepoints more often than one group among twenty: a run needs several
    // scripts for the spill case (see `gen_savepoints`) and the savepoint statements of
    // other connections' transactions to meet.
    if s.features.savepoints && rng.gen_bool(0.025) {
        return gen_savepoints(rng);
    }
    let enabled = s.features.enabled();
    if !enabled.is_empty() && rng.gen_bool(0.35) {
        let group = enabled[rng.gen_range(0..enabled.len())];
        if group == "savepoints" {
            return gen_savepoints(rng);
        }
        return vec![gen_feature(rng, s, group)];
    }
    vec![gen_core(rng, s)]
}

/// Savepoint names: a few, so that RELEASE and ROLLBACK TO find open ones (in another
/// case too: names compare case-insensitively), and one never opened.
fn savepoint_name(rng: &mut ChaCha8Rng) -> &'static str {
    ["sp1", "sp2", "sp3", "SP1", "sp_none"][rng.gen_range(0..5)]
}

/// One savepoint statement (any connection, any state: inside BEGIN it nests, outside it
/// starts a transaction; RELEASE or ROLLBACK TO a name not open fails on both engines).
fn gen_savepoint(rng: &mut ChaCha8Rng) -> String {
    let name = savepoint_name(rng);
    match rng.gen_range(0..8) {
        0..=2 => format!("SAVEPOINT {name}"),
        3 => format!("RELEASE {name}"),
        4 => format!("RELEASE SAVEPOINT {name}"),
        5 => format!("ROLLBACK TO {name}"),
        6 => format!("ROLLBACK TO SAVEPOINT {name}"),
        _ => format!("ROLLBACK TRANSACTION TO SAVEPOINT {name}"),
    }
}

/// `n` rows of `size`-byte zero blobs inserted into `spill` (overflow chains: many pages
/// per row, written without being read).
fn spill_insert(n: u32, size: u32) -> String {
    format!(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {n}) INSERT INTO spill(y) SELECT zeroblob({size}) FROM r"
    )
}

/// Group `savepoints`: mostly one savepoint statement; 40% of the time a script for
/// one connection: a transaction (BEGIN, or a SAVEPOINT starting it) that fills the scratch
/// table `spill` past a small cache (its dirty pages spill to the WAL), frees pages with a
/// bulk DELETE, opens a savepoint, inserts again (the freed pages are reused without being
/// read, so the savepoint's image of a spilled one is its WAL frame) past the cache again
/// (a re-spill must keep that frame: `strata-pager`'s `frame_pinned`), then rolls back to
/// the savepoint or releases it, reads, and ends the transaction by COMMIT, by releasing
/// its outer savepoint, or by ROLLBACK.
pub fn gen_savepoints(rng: &mut ChaCha8Rng) -> Vec<String> {
    if rng.gen_bool(0.6) {
        return vec![gen_savepoint(rng)];
    }
    let outer_savepoint = rng.gen_bool(0.5);
    let n = rng.gen_range(10..=30);
    let size = [600u32, 1500, 4000, 9000][rng.gen_range(0..4)];
    let mut v = vec![
        if outer_savepoint {
            "SAVEPOINT sp_outer".to_string()
        } else {
            "BEGIN".to_string()
        },
        "CREATE TABLE IF NOT EXISTS spill(x INTEGER PRIMARY KEY, y BLOB)".to_string(),
        spill_insert(n, size),
        match rng.gen_range(0..3) {
            0 => "DELETE FROM spill".to_string(),
            m => format!(
                "DELETE FROM spill WHERE x % {} = {}",
                m + 1,
                rng.gen_range(0..=m)
            ),
        },
        "SAVEPOINT sp1".to_string(),
        spill_insert(rng.gen_range(10..=30), size),
    ];
    if rng.gen_bool(0.5) {
        v.push("SAVEPOINT sp2".into());
        v.push(format!(
            "UPDATE spill SET y = zeroblob({}) WHERE x % 3 = {}",
            size / 2,
            rng.gen_range(0..3)
        ));
        v.push(spill_insert(rng.gen_range(5..=20), size));
    }
    v.push(
        match rng.gen_range(0..4) {
            0 => "RELEASE sp1",
            1 => "ROLLBACK TO sp2",
            _ => "ROLLBACK TO sp1",
        }
        .into(),
    );
    v.push("SELECT count(*), sum(length(y)), max(x) FROM spill".into());
    v.push(
        match (outer_savepoint, rng.gen_range(0..4)) {
            (_, 0) => "ROLLBACK",
            (true, 1 | 2) => "RELEASE sp_outer",
            _ => "COMMIT",
        }
        .into(),
    );
    // Emptied again (in autocommit, or in the transaction if the end failed): every
    // commit copies and dumps the model, which a table of blobs would make slow.
    v.push("DELETE FROM spill".into());
    v
}

fn gen_core(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
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

/// A random table of the schema for which `want` holds, if any.
fn table_where<'a>(
    rng: &mut ChaCha8Rng,
    s: &'a SchemaDef,
    want: impl Fn(&TableDef) -> bool,
) -> Option<&'a TableDef> {
    let v: Vec<&TableDef> = s.tables.iter().filter(|t| want(t)).collect();
    if v.is_empty() {
        None
    } else {
        Some(v[rng.gen_range(0..v.len())])
    }
}

/// A statement exercising feature group `group`.
fn gen_feature(rng: &mut ChaCha8Rng, s: &SchemaDef, group: &str) -> String {
    match group {
        "returning" => {
            let returning = [
                " RETURNING *",
                " RETURNING id, k, a",
                " RETURNING rowid, a * 2, b || 'r'",
            ][rng.gen_range(0..3)];
            let base = match rng.gen_range(0..10) {
                // Upserts most (both branches: DO NOTHING and DO UPDATE; k in 1..25
                // conflicts often).
                0..=5 => gen_insert(rng, s),
                6..=7 => gen_update(rng, s),
                _ => gen_delete(rng, s),
            };
            format!("{base}{returning}")
        }
        "default-values" => {
            let t = table(rng, s);
            let ret = if s.features.returning && rng.gen_bool(0.5) {
                " RETURNING *"
            } else {
                ""
            };
            match rng.gen_range(0..3) {
                0 | 1 => format!("INSERT INTO {} DEFAULT VALUES{ret}", t.name),
                _ => format!(
                    "INSERT INTO {}(k, b) VALUES ({}, {}){ret}",
                    t.name,
                    k_lit(rng),
                    b_lit(rng)
                ),
            }
        }
        "nulls-order" => {
            let t = table(rng, s);
            let (x, y) = [("a", "b"), ("b", "c"), ("c", "a"), ("k", "a")][rng.gen_range(0..4)];
            let dir = |rng: &mut ChaCha8Rng| ["", " ASC", " DESC"][rng.gen_range(0..3)];
            let nulls = |rng: &mut ChaCha8Rng| [" NULLS FIRST", " NULLS LAST"][rng.gen_range(0..2)];
            let (d1, n1, d2, n2) = (dir(rng), nulls(rng), dir(rng), nulls(rng));
            let limit = if rng.gen_bool(0.3) {
                format!(" LIMIT {}", rng.gen_range(1..6))
            } else {
                String::new()
            };
            format!(
                "SELECT id, {x}, {y} FROM {} ORDER BY {x}{d1}{n1}, {y}{d2}{n2}, rowid{limit}",
                t.name
            )
        }
        "limit-comma" => {
            let t = table(rng, s);
            let (off, lim) = (rng.gen_range(0..5), rng.gen_range(0..5));
            match rng.gen_range(0..2) {
                0 => format!(
                    "SELECT id, k, a FROM {} ORDER BY a, rowid LIMIT {off}, {lim}",
                    t.name
                ),
                _ => format!(
                    "SELECT id, b FROM {} WHERE {} ORDER BY b DESC, rowid LIMIT {off}, {lim}",
                    t.name,
                    pred(rng, "")
                ),
            }
        }
        "bare-minmax" => {
            let t = table(rng, s);
            // Exactly one min()/max(), over a column unique among the rows aggregated
            // and never NULL there: the row holding it is unique.
            let m = ["min", "max"][rng.gen_range(0..2)];
            let (col, notnull) = if rng.gen_bool(0.5) {
                ("k", "k IS NOT NULL")
            } else {
                ("id", "id IS NOT NULL")
            };
            match rng.gen_range(0..3) {
                0 => format!(
                    "SELECT a, b, c, {m}({col}) FROM {} WHERE {notnull} GROUP BY a",
                    t.name
                ),
                1 => format!(
                    "SELECT b, id, {m}({col}), a FROM {} WHERE {notnull} AND {} GROUP BY b",
                    t.name,
                    pred(rng, "")
                ),
                _ => format!(
                    "SELECT id, k, a, b, {m}({col}) FROM {} WHERE {notnull}",
                    t.name
                ),
            }
        }
        "filter" => {
            let t = table(rng, s);
            let aggs = [
                "count(*)", "count(b)", "sum(a)", "total(c)", "min(b)", "max(k)", "avg(c)",
            ];
            let mut cols = Vec::new();
            for _ in 0..rng.gen_range(1..=3) {
                let agg = aggs[rng.gen_range(0..aggs.len())];
                cols.push(format!("{agg} FILTER (WHERE {})", pred(rng, "")));
            }
            if rng.gen_bool(0.5) {
                format!("SELECT a, {} FROM {} GROUP BY a", cols.join(", "), t.name)
            } else {
                format!("SELECT {}, count(*) FROM {}", cols.join(", "), t.name)
            }
        }
        "schema-prefix" => {
            if !s.views.is_empty() && rng.gen_bool(0.2) {
                let v = &s.views[rng.gen_range(0..s.views.len())];
                return format!("SELECT * FROM main.{v} WHERE {}", pred(rng, ""));
            }
            let base = match rng.gen_range(0..4) {
                0 => gen_insert(rng, s),
                1 => gen_update(rng, s),
                2 => gen_delete(rng, s),
                _ => gen_select(rng, s),
            };
            // Every table reference qualified (column references stay as they are:
            // `t0.a` still names the table `main.t0`).
            let mut q = base;
            for kw in ["INTO ", "FROM ", "UPDATE ", "JOIN "] {
                q = q.replace(&format!("{kw}t"), &format!("{kw}main.t"));
            }
            q
        }
        "temp" => gen_temp(rng, s),
        "foreign-keys" => gen_fk(rng, s),
        "strict" => gen_strict(rng, s),
        "churn" => gen_churn(rng, s),
        "pragmas" => {
            let t = table(rng, s);
            let n = &t.name;
            // Index names: the unique `k` one (inline or named) always exists.
            let idx = if rng.gen_bool(0.5) {
                format!("{n}_k")
            } else {
                format!("{n}_id")
            };
            match rng.gen_range(0..11) {
                // ANALYZE: sqlite_stat1 and sqlite_stat4 as the reference (a STAT4 build)
                // writes them, read back ordered.
                8 => ["ANALYZE".to_string(), format!("ANALYZE {n}"), format!("ANALYZE {idx}")]
                    [rng.gen_range(0..3)]
                    .clone(),
                9 => "SELECT tbl, idx, stat FROM sqlite_stat1 ORDER BY tbl, idx".into(),
                10 => "SELECT tbl, idx, neq, nlt, ndlt, sample FROM sqlite_stat4 ORDER BY tbl, idx, sample".into(),
                0 => "PRAGMA encoding".into(),
                1 => format!("PRAGMA index_list({n})"),
                2 => format!("PRAGMA index_info({idx})"),
                3 => format!("PRAGMA index_xinfo({idx})"),
                4 => format!("PRAGMA table_info({n})"),
                // Moves pages and shrinks an INCREMENTAL auto-vacuum tenant (a no-op on
                // the others); its rows (one per page taken off) depend on the file's
                // layout, which differs between the engines, so they are not compared.
                5 => format!("PRAGMA incremental_vacuum({})", rng.gen_range(0..6)),
                // Rebuilds the tenant (an error inside BEGIN, as in SQLite).
                6 if rng.gen_bool(0.5) => "VACUUM".into(),
                // A copy into a new file (on the simulated disk, beside the tenant's),
                // which SQLite then reads: it must hold the statement's snapshot.
                6 => format!("VACUUM INTO 'vac-{:016x}.db'", rng.gen::<u64>()),
                _ => format!("PRAGMA main.index_list({n})"),
            }
        }
        "window" => gen_window(rng, s),
        "json" => gen_json(rng, s),
        "row-values" => gen_row_values(rng, s),
        "update-from" => gen_update_from(rng, s),
        "outer-join" => gen_outer_join(rng, s),
        "views" => gen_views(rng, s),
        "alter-column" => gen_alter_column(rng),
        "cte" => gen_cte(rng, s),
        "agg-order" => gen_agg_order(rng, s),
        "generated" => gen_generated(rng, s),
        "savepoints" => gen_savepoint(rng),
        "without-rowid" => gen_without_rowid(rng, s),
        "attach" => gen_attach(rng, s),
        "math" => gen_math(rng, s),
        other => unreachable!("feature group {other}"),
    }
}

/// A row-value literal of columns `(a, b)`, `(k, c)` or `(a, c)`.
fn row_lit(rng: &mut ChaCha8Rng, cols: &str) -> String {
    let v: Vec<String> = cols
        .split(", ")
        .map(|c| match c {
            "a" => a_lit(rng),
            "b" => b_lit(rng),
            "k" => k_lit(rng),
            _ => c_lit(rng),
        })
        .collect();
    format!("({})", v.join(", "))
}

/// A statement with row values (see [`Features::row_values`]). Reads end with ORDER BY
/// rowid; a subquery operand picks its row by a unique order.
fn gen_row_values(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let n = &t.name;
    let others: Vec<&TableDef> = s.tables.iter().filter(|o| o.name != t.name).collect();
    let o = &others[rng.gen_range(0..others.len())].name;
    let cols = ["a, b", "k, c", "a, c"][rng.gen_range(0..3)];
    let ops = ["=", "<>", "<", "<=", ">", ">=", "IS", "IS NOT"];
    let op = ops[rng.gen_range(0..ops.len())];
    let not = if rng.gen_bool(0.5) { "NOT " } else { "" };
    match rng.gen_range(0..8) {
        0 => format!(
            "SELECT id, ({cols}) {op} {}, (b, a) {op} {} FROM {n} ORDER BY rowid",
            row_lit(rng, cols),
            row_lit(rng, "b, a"),
        ),
        1 => format!(
            "SELECT id, a, b FROM {n} WHERE ({cols}) {op} {} ORDER BY rowid",
            row_lit(rng, cols)
        ),
        2 => format!(
            "SELECT id, ({cols}) {not}IN (SELECT {cols} FROM {o} WHERE {}) FROM {n} ORDER BY rowid",
            pred(rng, "")
        ),
        3 => format!(
            "SELECT id FROM {n} WHERE ({cols}) {not}IN ({}, {}, {}) ORDER BY rowid",
            row_lit(rng, cols),
            row_lit(rng, cols),
            row_lit(rng, cols)
        ),
        4 => format!(
            "SELECT id, ({cols}) {not}BETWEEN {} AND {} FROM {n} ORDER BY rowid",
            row_lit(rng, cols),
            row_lit(rng, cols)
        ),
        5 => format!(
            "SELECT id, ({cols}) {op} (SELECT {cols} FROM {o} WHERE {} ORDER BY k, rowid LIMIT 1) FROM {n} ORDER BY rowid",
            pred(rng, "")
        ),
        // The subquery reads another table: on the updated table itself the result
        // depends on the order rows are updated in.
        6 => format!(
            "UPDATE {n} SET (a, c) = (SELECT count(*), max(c) FROM {o} AS y WHERE y.a = {n}.a) WHERE {}",
            pred(rng, "")
        ),
        _ => format!(
            "UPDATE {n} SET (a, b) = ({}, b || 'r') WHERE ({cols}) {op} {}",
            a_lit(rng),
            row_lit(rng, cols)
        ),
    }
}

/// The `views` group's view and INSTEAD OF triggers (in the schema, and re-created by
/// the group's statements after a `DROP VIEW`).
const VIEW_DDL: &[&str] = &[
    "CREATE VIEW IF NOT EXISTS vw AS SELECT id, k, a, b, c, a * 2 AS a2 FROM t0",
    "CREATE TRIGGER IF NOT EXISTS vw_i INSTEAD OF INSERT ON vw BEGIN INSERT INTO t0(k, a, b) VALUES (new.k, new.a, new.b); END",
    "CREATE TRIGGER IF NOT EXISTS vw_u INSTEAD OF UPDATE OF a, b ON vw WHEN new.a IS NOT 9 BEGIN UPDATE t0 SET a = new.a, b = new.b WHERE id = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS vw_d INSTEAD OF DELETE ON vw WHEN old.a > 2 BEGIN SELECT RAISE(IGNORE) WHERE old.b = 'xyz'; DELETE FROM t0 WHERE id = old.id; END",
];

/// A view over `t0` with INSTEAD OF triggers, DML on it, and the pragma table-valued
/// functions (see [`Features::views`]). The view and its triggers are in the schema,
/// dropped now and then (DROP VIEW drops its triggers) and re-created with IF NOT EXISTS. The triggers write `t0` by `id`
/// from OLD/NEW values only, so the result does not depend on the order the view's rows
/// are visited in; `k` is never updated.
fn gen_views(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let ret = if s.features.returning && rng.gen_bool(0.3) {
        " RETURNING k, a, b, a2"
    } else {
        ""
    };
    let n = &table(rng, s).name;
    match rng.gen_range(0..19) {
        // The view most often (nothing else works without it).
        0..=4 if rng.gen_bool(0.5) => VIEW_DDL[0].into(),
        0..=4 => VIEW_DDL[rng.gen_range(1..VIEW_DDL.len())].into(),
        5..=6 => format!(
            "INSERT INTO vw(k, a, b) VALUES ({}, {}, {}){ret}",
            k_lit(rng),
            a_lit(rng),
            b_lit(rng)
        ),
        7..=8 => format!(
            "UPDATE vw SET a = {}, b = b || 'v' WHERE {}{ret}",
            a_lit(rng),
            pred(rng, "")
        ),
        9 if rng.gen_bool(0.5) => format!("UPDATE vw SET a = a2 WHERE {}{ret}", pred(rng, "")),
        // One match per view row (`f.k` is UNIQUE): the result cannot depend on the
        // join order.
        9 => format!(
            "UPDATE vw SET b = f.b, a = f.a + vw.a FROM {n} AS f WHERE f.k = vw.k{ret}"
        ),
        10 => format!("DELETE FROM vw WHERE {}{ret}", pred(rng, "")),
        11 => "SELECT id, k, a, b, c, a2 FROM vw ORDER BY id, k".into(),
        12 => "PRAGMA table_info(vw)".into(),
        13 => format!("SELECT * FROM pragma_table_info('{n}')"),
        14 => "SELECT m.name, p.cid, p.name, p.type, p.pk FROM sqlite_schema AS m, pragma_table_info(m.name) AS p WHERE m.type IN ('table', 'view') ORDER BY m.name, p.cid".into(),
        15 => format!(
            "SELECT l.name, i.name, l.\"unique\", c.name FROM pragma_index_list('{n}') AS l, pragma_index_info(l.name) AS c, pragma_table_info('{n}') AS i WHERE i.cid = c.cid ORDER BY 1, 4"
        ),
        16 => "SELECT name, type, CASE type WHEN 'view' THEN -1 ELSE ncol END, strict FROM pragma_table_list WHERE schema = 'main' ORDER BY name".into(),
        // A view with a column list (names of its own, an expression among them).
        17 => [
            "CREATE VIEW IF NOT EXISTS vc(x, y, z) AS SELECT id, a + 1, upper(b) FROM t0 WHERE c IS NOT NULL",
            "SELECT x, y, z FROM vc WHERE y > 2 ORDER BY x",
            "PRAGMA table_info(vc)",
            "SELECT v.x, count(*) FROM vc AS v JOIN t0 ON t0.a + 1 = v.y GROUP BY v.x ORDER BY v.x",
            "DROP VIEW IF EXISTS vc",
        ][rng.gen_range(0..5)]
            .into(),
        _ if rng.gen_bool(0.3) => "DROP VIEW IF EXISTS vw".into(),
        _ => "SELECT k, a2 FROM vw WHERE a2 > 4 ORDER BY id, k".into(),
    }
}

/// The `generated` group's table: VIRTUAL and STORED columns among plain ones (the
/// record holds only the non-VIRTUAL ones), one reading another, a CHECK on a computed
/// value; indexes on them, one UNIQUE.
const GENERATED_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS gen(id INTEGER PRIMARY KEY, a INTEGER, v AS (a * 2), b TEXT, s TEXT AS (coalesce(b, 'none') || '-' || a) STORED, w INTEGER AS (v + length(s)) VIRTUAL CHECK (w IS NULL OR w < 1000))",
    "CREATE INDEX IF NOT EXISTS gen_v ON gen(v)",
    "CREATE INDEX IF NOT EXISTS gen_sw ON gen(s, w)",
    "CREATE UNIQUE INDEX IF NOT EXISTS gen_u ON gen(s)",
    // Deterministic date and time functions in an index and its WHERE.
    "CREATE INDEX IF NOT EXISTS gen_d ON gen(date(a, 'unixepoch'), strftime('%Y', b)) WHERE julianday(b) IS NULL",
];

/// Generated columns on the scratch table `gen` (group `generated`): inserts (the
/// generated columns computed, a conflict on the UNIQUE STORED one), updates of the
/// columns they read, deletes and reads filtering and joining on them, an upsert reading
/// `excluded.v`, writes naming a generated column (refused by both engines), its
/// `pragma_table_xinfo`, a VIRTUAL column added and dropped, a STORED one added (refused
/// unless the table is empty), the table dropped and made again. No UPDATE OR REPLACE (which row a multi-row conflict keeps depends on the
/// visiting order).
fn gen_generated(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let ret = if s.features.returning && rng.gen_bool(0.3) {
        " RETURNING *"
    } else {
        ""
    };
    let col = |rng: &mut ChaCha8Rng| ["v", "s", "w", "a"][rng.gen_range(0..4)];
    let cmp = |rng: &mut ChaCha8Rng| ["=", ">", "<=", "<>"][rng.gen_range(0..4)];
    let val = |rng: &mut ChaCha8Rng, c: &str| match c {
        "s" => format!(
            "'{}-{}'",
            ["a", "b", "none"][rng.gen_range(0..3)],
            rng.gen_range(0..10)
        ),
        _ => int_lit(rng, 0, 25),
    };
    match rng.gen_range(0..20) {
        0 => GENERATED_DDL[0].into(),
        1 => GENERATED_DDL[rng.gen_range(1..GENERATED_DDL.len())].into(),
        2..=5 => {
            let rows: Vec<String> = (0..rng.gen_range(1..=3))
                .map(|_| format!("({}, {})", a_lit(rng), b_lit(rng)))
                .collect();
            let or = ["", "OR IGNORE ", "OR REPLACE "][rng.gen_range(0..3)];
            format!("INSERT {or}INTO gen(a, b) VALUES {}{ret}", rows.join(", "))
        }
        6 => format!(
            "INSERT INTO gen(id, a, b) VALUES ({}, {}, {}) ON CONFLICT(id) DO UPDATE SET a = excluded.v, b = excluded.s{ret}",
            id_lit(rng),
            a_lit(rng),
            b_lit(rng)
        ),
        7 => format!(
            "INSERT INTO gen(a, {}) VALUES (1, 2)",
            ["v", "s", "w"][rng.gen_range(0..3)]
        ),
        // One row at a time: whether a multi-row UPDATE hits the UNIQUE `s` depends on
        // the order the rows are visited in.
        8 | 9 => {
            let c = col(rng);
            format!(
                "UPDATE gen SET {} WHERE id = {} AND {c} {} {}{ret}",
                ["a = a + 1", "b = 'x'", "a = NULL", "b = upper(s)"][rng.gen_range(0..4)],
                id_lit(rng),
                cmp(rng),
                val(rng, c)
            )
        }
        10 => format!("UPDATE gen SET {} = 1", ["v", "s", "w"][rng.gen_range(0..3)]),
        11 => {
            let c = col(rng);
            format!("DELETE FROM gen WHERE {c} {} {}{ret}", cmp(rng), val(rng, c))
        }
        12..=14 => {
            let c = col(rng);
            format!(
                "SELECT * FROM gen WHERE {c} {} {} ORDER BY id",
                cmp(rng),
                val(rng, c)
            )
        }
        15 => "SELECT v, count(*), max(w) FROM gen GROUP BY v ORDER BY v".into(),
        16 => "SELECT x.id, y.id, x.s FROM gen AS x JOIN gen AS y ON x.v = y.a ORDER BY x.id, y.id"
            .into(),
        17 => "SELECT * FROM pragma_table_xinfo('gen')".into(),
        18 => [
            "ALTER TABLE gen ADD COLUMN g2 AS (a + id)",
            "ALTER TABLE gen DROP COLUMN g2",
            "ALTER TABLE gen ADD COLUMN g3 AS (a) STORED",
        ][rng.gen_range(0..3)]
        .into(),
        _ => "DROP TABLE IF EXISTS gen".into(),
    }
}

const WITHOUT_ROWID_DDL: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS wr(p TEXT COLLATE NOCASE, q INTEGER, r, s UNIQUE, PRIMARY KEY(p, q DESC)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS wr_r ON wr(r)",
];

/// A WITHOUT ROWID child of `wr` (by its UNIQUE `s`), with both groups on.
const WITHOUT_ROWID_CHILD_DDL: &str = "CREATE TABLE IF NOT EXISTS wrc(k INTEGER PRIMARY KEY, ps REFERENCES wr(s) ON DELETE CASCADE ON UPDATE SET NULL) WITHOUT ROWID";

/// The WITHOUT ROWID scratch table `wr` (group `without-rowid`): its rows are the entries
/// of an index tree keyed by `(p COLLATE NOCASE, q DESC)`. Inserts (several rows, every
/// conflict clause: rows are written in VALUES order), upserts on the key and on the
/// UNIQUE `s`, updates of one row named by its whole key (a multi-row conflict's winner
/// would depend on the visiting order), key updates, deletes, reads in key order (the key
/// is unique, so the order is total), the index pragmas, a column added and dropped (DROP
/// COLUMN rewrites every entry), the table dropped and made again;
/// `UPDATE ... FROM` of it (one joined row per target row), FULL and RIGHT joins of it
/// (ordered by every column), and with group `foreign-keys` writes of its child `wrc`.
fn gen_without_rowid(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let ret = if s.features.returning && rng.gen_bool(0.3) {
        " RETURNING *"
    } else {
        ""
    };
    let p = |rng: &mut ChaCha8Rng| {
        [
            "'a'",
            "'A'",
            "'b'",
            "'B'",
            "'ab'",
            "'Ab'",
            "'\u{100}'",
            "'\u{101}'",
            "NULL",
        ][rng.gen_range(0..9)]
        .to_string()
    };
    let q = |rng: &mut ChaCha8Rng| int_lit(rng, 0, 4);
    let sv = |rng: &mut ChaCha8Rng| {
        if rng.gen_bool(0.2) {
            "NULL".to_string()
        } else {
            int_lit(rng, 0, 15)
        }
    };
    match rng.gen_range(0..24) {
        0..=4 => {
            let rows: Vec<String> = (0..rng.gen_range(1..=3))
                .map(|_| format!("({}, {}, {}, {})", p(rng), q(rng), c_lit(rng), sv(rng)))
                .collect();
            let or = ["", "OR IGNORE ", "OR REPLACE ", "OR ABORT "][rng.gen_range(0..4)];
            format!("INSERT {or}INTO wr VALUES {}{ret}", rows.join(", "))
        }
        5 => format!(
            "INSERT INTO wr VALUES ({}, {}, {}, {}) ON CONFLICT(p, q) DO UPDATE SET r = excluded.r, s = NULL{ret}",
            p(rng),
            q(rng),
            c_lit(rng),
            sv(rng)
        ),
        6 => format!(
            "INSERT INTO wr VALUES ({}, {}, {}, {}) ON CONFLICT(s) DO NOTHING{ret}",
            p(rng),
            q(rng),
            c_lit(rng),
            sv(rng)
        ),
        7 | 8 => format!(
            "UPDATE wr SET {} WHERE p = {} AND q = {}{ret}",
            ["r = r + 1", "s = s + 1", "r = NULL", "s = 7"][rng.gen_range(0..4)],
            p(rng),
            q(rng)
        ),
        9 => format!(
            "UPDATE {}wr SET {} WHERE p = {} AND q = {}{ret}",
            ["", "OR IGNORE ", "OR REPLACE "][rng.gen_range(0..3)],
            ["q = q + 1", "p = upper(p)", "p = p || 'x', q = 0"][rng.gen_range(0..3)],
            p(rng),
            q(rng)
        ),
        10 => format!("DELETE FROM wr WHERE r = {}{ret}", c_lit(rng)),
        11 => format!("DELETE FROM wr WHERE p = {} AND q > {}{ret}", p(rng), q(rng)),
        12..=14 => format!(
            "SELECT * FROM wr WHERE {} ORDER BY p, q DESC",
            [
                format!("p = {}", p(rng)),
                format!("p > {} AND q < {}", p(rng), q(rng)),
                format!("r = {}", c_lit(rng)),
                format!("s IS NOT NULL AND s < {}", sv(rng)),
            ][rng.gen_range(0..4)]
        ),
        15 => "SELECT r, count(*), min(q), max(s) FROM wr GROUP BY r ORDER BY r".into(),
        16 => format!(
            "SELECT x.p, x.q, y.q FROM wr AS x JOIN wr AS y ON x.s = y.q WHERE x.p <> {} ORDER BY x.p, x.q DESC, y.p, y.q DESC",
            p(rng)
        ),
        17 => [
            "PRAGMA index_list(wr)",
            "PRAGMA index_xinfo(wr_r)",
            "SELECT * FROM pragma_index_xinfo('sqlite_autoindex_wr_2')",
            "PRAGMA table_info(wr)",
            // DROP COLUMN rewrites every entry (while `e` exists, the four-value
            // inserts fail on both engines).
            "ALTER TABLE wr ADD COLUMN e DEFAULT 'x'",
            "ALTER TABLE wr DROP COLUMN e",
        ][rng.gen_range(0..6)]
        .into(),
        18 => WITHOUT_ROWID_DDL[rng.gen_range(0..WITHOUT_ROWID_DDL.len())].into(),
        19 => "DROP TABLE IF EXISTS wr".into(),
        20 => format!(
            "UPDATE wr SET r = t.v FROM (SELECT {} AS k, {} AS v) AS t WHERE wr.p = t.k{ret}",
            p(rng),
            c_lit(rng)
        ),
        21 => format!(
            "SELECT x.p, x.q, y.p, y.q FROM wr AS x {} JOIN wr AS y ON x.s = y.q ORDER BY x.p, x.q DESC, y.p, y.q DESC",
            ["FULL", "RIGHT"][rng.gen_range(0..2)]
        ),
        _ if !s.features.foreign_keys => "SELECT count(*) FROM wr".into(),
        22 => format!(
            "INSERT {}INTO wrc VALUES ({}, {}){ret}",
            ["", "OR REPLACE "][rng.gen_range(0..2)],
            int_lit(rng, 0, 6),
            sv(rng)
        ),
        _ => [
            "SELECT * FROM wrc ORDER BY k",
            "DELETE FROM wrc WHERE ps IS NULL",
            "UPDATE wrc SET ps = ps + 1",
            WITHOUT_ROWID_CHILD_DDL,
        ][rng.gen_range(0..4)]
        .into(),
    }
}

/// ALTER TABLE on the scratch table `alt` (group `alter-column`): made with the schema
/// (with an index, a view and a trigger naming its columns), filled, indexed, its columns renamed back and forth
/// (`p`/`p2`, `q`/`q2`, `r`/`"r 2"`), a column added and dropped, dropped and created
/// again, renamed to `alt2` and back. A statement naming a column under its other name fails on both engines; a
/// refused drop (an indexed column, one a view or the trigger uses) fails with SQLite's
/// error. Everything is compared through the schema rows and `SELECT * FROM alt`.
fn gen_alter_column(rng: &mut ChaCha8Rng) -> String {
    let pick = |rng: &mut ChaCha8Rng, v: &[&'static str]| v[rng.gen_range(0..v.len())];
    match rng.gen_range(0..21) {
        0 | 1 => {
            "CREATE TABLE IF NOT EXISTS alt(id INTEGER PRIMARY KEY, p INTEGER, q TEXT, r REAL DEFAULT 1.5)"
                .into()
        }
        2 => format!(
            "CREATE INDEX IF NOT EXISTS alt_p ON alt({})",
            pick(rng, &["p", "p2", "p, q"])
        ),
        // No CREATE VIEW: SQLite accepts a view naming a missing column or table (the
        // error comes when it is used), Strata refuses it at CREATE, a deviation outside
        // this group. The view made with the schema is rewritten by every rename.
        3 => format!(
            "CREATE INDEX IF NOT EXISTS alt_qr ON alt({}, {})",
            pick(rng, &["q", "q2"]),
            // Not `"r 2"`: where no column has that name, SQLite takes the double-quoted
            // word for a string and indexes the constant (Strata refuses it).
            pick(rng, &["r", "p"])
        ),
        4 => format!(
            "CREATE TRIGGER IF NOT EXISTS alt_tr AFTER UPDATE OF {q} ON alt BEGIN UPDATE alt SET {p} = coalesce(new.{p}, 0) + 1 WHERE id = new.id; END",
            q = pick(rng, &["q", "q2"]),
            p = pick(rng, &["p", "p2"])
        ),
        5..=7 => {
            let rows: Vec<String> = (0..rng.gen_range(1..=3))
                .map(|_| format!("({}, {})", a_lit(rng), b_lit(rng)))
                .collect();
            format!(
                "INSERT INTO alt({}, {}) VALUES {}",
                pick(rng, &["p", "p2"]),
                pick(rng, &["q", "q2"]),
                rows.join(", ")
            )
        }
        8 => format!(
            "UPDATE alt SET {} = {} WHERE id % 2 = {}",
            pick(rng, &["q", "q2"]),
            b_lit(rng),
            rng.gen_range(0..2)
        ),
        9 | 10 => {
            let (from, to) = pick2(
                rng,
                &[
                    ("p", "p2"),
                    ("p2", "p"),
                    ("q", "q2"),
                    ("q2", "q"),
                    ("r", "\"r 2\""),
                    ("\"r 2\"", "r"),
                ],
            );
            format!("ALTER TABLE alt RENAME COLUMN {from} TO {to}")
        }
        11 => format!(
            "ALTER TABLE alt ADD COLUMN s TEXT DEFAULT {}",
            pick(rng, &["'d'", "NULL", "12", "x'00'"])
        ),
        12 => format!(
            "ALTER TABLE alt DROP COLUMN {}",
            pick(rng, &["s", "s", "r", "\"r 2\"", "p", "q", "q2"])
        ),
        13 | 14 => "SELECT * FROM alt ORDER BY id".into(),
        15 | 16 => "SELECT * FROM alt_v ORDER BY id".into(),
        // RENAME TO and back: the view and trigger bodies naming `alt` follow it.
        17 => "ALTER TABLE alt RENAME TO alt2".into(),
        18 => "ALTER TABLE alt2 RENAME TO alt".into(),
        19 => "DROP TABLE IF EXISTS alt2".into(),
        _ => "DROP TABLE IF EXISTS alt".into(),
    }
}

/// A statement with common table expressions or a compound SELECT (group `cte`). A CTE
/// naming itself is recursive with or without the RECURSIVE keyword (SQLite's rule);
/// recursion is bounded by its WHERE. Reads without ORDER BY are compared as multisets;
/// compound reads with ORDER BY order by every column. Writes name rows by rowid.
fn gen_cte(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = &table(rng, s).name;
    let u = &table(rng, s).name;
    let rec = if rng.gen_bool(0.5) { "RECURSIVE " } else { "" };
    let mat = ["", "MATERIALIZED ", "NOT MATERIALIZED "][rng.gen_range(0..3)];
    match rng.gen_range(0..10) {
        0 => format!(
            "WITH x AS {mat}(SELECT id, a, b FROM {t} WHERE {}) SELECT count(*), sum(a), min(b), max(id) FROM x",
            pred(rng, "")
        ),
        1 => format!(
            "WITH x(i, v) AS (SELECT id, a FROM {t} WHERE a IS NOT NULL) SELECT x.i, x.v, y.b FROM x JOIN {u} AS y ON y.a = x.v WHERE y.id % 2 = {}",
            rng.gen_range(0..2)
        ),
        2 => format!(
            "WITH {rec}r(n) AS (SELECT {} UNION ALL SELECT n + 1 FROM r WHERE n < {}) SELECT n, (SELECT count(*) FROM {t} WHERE a = n) FROM r",
            rng.gen_range(0..3),
            rng.gen_range(3..12)
        ),
        3 => format!(
            "WITH {rec}r(n) AS (SELECT min(a) FROM {t} UNION SELECT n + {} FROM r WHERE n < 9) SELECT count(*), sum(n) FROM r",
            rng.gen_range(1..3)
        ),
        4 => format!(
            "WITH x AS {mat}(SELECT a FROM {t} WHERE a IS NOT NULL), y AS (SELECT a FROM x WHERE a > {}) SELECT (SELECT count(*) FROM x), (SELECT max(a) FROM y), (SELECT count(*) FROM {u} WHERE a IN x)",
            a_lit(rng)
        ),
        5 => format!(
            "WITH x AS (SELECT rowid AS r FROM {t} WHERE {}) UPDATE {t} SET c = coalesce(c, 0) + 1 WHERE rowid IN x",
            pred(rng, "")
        ),
        6 => format!(
            "WITH x AS (SELECT rowid AS r FROM {t} WHERE {} ORDER BY rowid LIMIT 2) DELETE FROM {t} WHERE rowid IN (SELECT r FROM x)",
            pred(rng, "")
        ),
        7 => {
            let op = ["UNION", "UNION ALL", "INTERSECT", "EXCEPT"][rng.gen_range(0..4)];
            let cols = ["a", "b", "a, b", "k, c"][rng.gen_range(0..4)];
            let order = if rng.gen_bool(0.5) {
                // Every column: rows that tie are equal.
                let n = cols.split(", ").count();
                let all: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
                format!(" ORDER BY {}", all.join(", "))
            } else {
                String::new()
            };
            format!(
                "SELECT {cols} FROM {t} WHERE {} {op} SELECT {cols} FROM {u} WHERE {}{order}",
                pred(rng, ""),
                pred(rng, "")
            )
        }
        8 => format!(
            "SELECT count(*), sum(a) FROM (SELECT a FROM {t} UNION ALL SELECT a FROM {u} EXCEPT SELECT a FROM {t} WHERE {})",
            pred(rng, "")
        ),
        _ => format!(
            "WITH {rec}r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < {}) INSERT INTO {t}(k, a, b) SELECT n + 100, n % 10, 'cte' FROM r WHERE n + 100 NOT IN (SELECT k FROM {t} WHERE k IS NOT NULL)",
            rng.gen_range(1..4)
        ),
    }
}

fn pick2(rng: &mut ChaCha8Rng, v: &[(&'static str, &'static str)]) -> (&'static str, &'static str) {
    v[rng.gen_range(0..v.len())]
}

/// A RIGHT or FULL OUTER JOIN, last in FROM (see [`Features::outer_join`]). Rows are
/// ordered by every output column (a join's row order without ORDER BY is the plan's).
fn gen_outer_join(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let x = &table(rng, s).name;
    let y = &table(rng, s).name;
    let kind = ["RIGHT", "FULL", "FULL OUTER", "RIGHT OUTER"][rng.gen_range(0..4)];
    let on = [
        "x.k = y.k",
        "x.a = y.a",
        "x.a = y.k AND x.b = y.b",
        "x.a < y.a",
        "y.a = 3",
    ][rng.gen_range(0..5)];
    let filter = match rng.gen_range(0..4) {
        0 => String::new(),
        1 => " WHERE x.id IS NULL".into(),
        2 => format!(" WHERE {}", pred(rng, "y.")),
        _ => format!(" WHERE coalesce(x.a, y.a) > {}", int_lit(rng, 0, 9)),
    };
    match rng.gen_range(0..4) {
        0 => format!(
            "SELECT x.id, x.a, y.id, y.b FROM {x} AS x {kind} JOIN {y} AS y ON {on}{filter} ORDER BY 1, 2, 3, 4"
        ),
        1 => format!(
            "SELECT count(*), count(x.id), count(y.id), sum(y.a) FROM {x} AS x {kind} JOIN {y} AS y ON {on}{filter}"
        ),
        2 => format!(
            "SELECT y.a, count(x.id) FROM {x} AS x {kind} JOIN {y} AS y ON {on}{filter} GROUP BY y.a ORDER BY 1"
        ),
        _ => {
            let z = &table(rng, s).name;
            format!(
                "SELECT x.id, z.id, y.id FROM {x} AS x JOIN {z} AS z ON z.k = x.a {kind} JOIN {y} AS y ON {on}{filter} ORDER BY 1, 2, 3"
            )
        }
    }
}

/// An UPDATE ... FROM (see [`Features::update_from`]). The FROM side matches each
/// target row at most once (a UNIQUE `k`, or a GROUP BY key), so the result cannot
/// depend on which matching row a join order sees last; `k` is never set (a conflict
/// would depend on the order rows are written in).
fn gen_update_from(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let n = &t.name;
    let o = &table(rng, s).name;
    let ret = if s.features.returning && rng.gen_bool(0.3) {
        " RETURNING id, a, b, c"
    } else {
        ""
    };
    // Target rows picked by a filter on the target's own columns (bare names would be
    // ambiguous next to the FROM side).
    let filter = format!("({})", pred(rng, &format!("{n}.")));
    match rng.gen_range(0..4) {
        0 => format!(
            "UPDATE {n} SET a = f.a, c = f.c + 0.5 FROM {o} AS f WHERE f.k = {n}.k AND {filter}{ret}"
        ),
        1 => format!("UPDATE {n} SET b = f.b || 'f' FROM {o} AS f WHERE f.k = {n}.a{ret}"),
        2 => format!(
            "UPDATE {n} SET a = g.n, c = g.m FROM (SELECT a, count(*) AS n, max(c) AS m FROM {o} GROUP BY a) AS g WHERE g.a = {n}.a AND {filter}{ret}"
        ),
        _ => format!(
            "UPDATE {n} SET (a, b) = (f.a + 1, f.b) FROM {o} AS f WHERE f.k = {n}.k + 1{ret}"
        ),
    }
}

/// A JSON expression over one row's columns (`k`, `a`, `b`, `c`).
fn json_expr(rng: &mut ChaCha8Rng, depth: u32) -> String {
    let col = |rng: &mut ChaCha8Rng| ["k", "a", "b", "c", "id"][rng.gen_range(0..5)].to_string();
    let leaf = |rng: &mut ChaCha8Rng| match rng.gen_range(0..4) {
        0 => b_lit(rng),
        1 => c_lit(rng),
        _ => col(rng),
    };
    let sub = |rng: &mut ChaCha8Rng| {
        if depth < 2 && rng.gen_bool(0.4) {
            json_expr(rng, depth + 1)
        } else {
            leaf(rng)
        }
    };
    let path = |rng: &mut ChaCha8Rng| {
        [
            "'$'",
            "'$.a'",
            "'$.b'",
            "'$.x'",
            "'$[0]'",
            "'$[1]'",
            "'$[#-1]'",
            "'$.a[0]'",
            "'$.\"k y\"'",
        ][rng.gen_range(0..9)]
        .to_string()
    };
    match rng.gen_range(0..14) {
        0 => format!("json_array({}, {})", sub(rng), sub(rng)),
        1 => format!("json_object('a', {}, 'b', {})", sub(rng), sub(rng)),
        2 => format!("json_quote({})", leaf(rng)),
        3 => format!("json(json_array({}, {}))", sub(rng), leaf(rng)),
        4 => format!(
            "json_set(json_object('a', {}), {}, {})",
            sub(rng),
            path(rng),
            sub(rng)
        ),
        5 => format!(
            "json_insert(json_array({}), {}, {})",
            sub(rng),
            path(rng),
            sub(rng)
        ),
        6 => format!(
            "json_replace(json_object('b', {}), {}, {})",
            leaf(rng),
            path(rng),
            sub(rng)
        ),
        7 => format!(
            "json_remove(json_array({}, {}, {}), {})",
            sub(rng),
            sub(rng),
            leaf(rng),
            path(rng)
        ),
        8 => format!(
            "json_patch(json_object('a', {}, 'b', {}), json_object('b', {}, 'c', {}))",
            sub(rng),
            leaf(rng),
            leaf(rng),
            sub(rng)
        ),
        9 => format!(
            "(json_object('a', json_array({}, {})) -> {})",
            sub(rng),
            leaf(rng),
            path(rng)
        ),
        10 => format!(
            "json_extract(json_array({}, json_object('a', {})), {})",
            sub(rng),
            sub(rng),
            path(rng)
        ),
        11 => format!("json(jsonb_array({}, {}))", sub(rng), leaf(rng)),
        12 => format!(
            "json(jsonb_set(jsonb_object('a', {}), {}, {}))",
            leaf(rng),
            path(rng),
            sub(rng)
        ),
        _ => format!("json_array({}, {}, {})", leaf(rng), sub(rng), leaf(rng)),
    }
}

/// A statement exercising the JSON functions (see [`Features::json`]).
fn gen_json(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let n = &t.name;
    // `b` may hold JSON written by the UPDATE below, or any of the text literals; the
    // reads guard with json_valid() so that malformed text is NULL, not an error.
    let jb = |rng: &mut ChaCha8Rng| {
        let p = ["'$'", "'$.a'", "'$.b'", "'$[0]'", "'$.a[1]'", "'$[#-1]'"][rng.gen_range(0..6)];
        match rng.gen_range(0..6) {
            0 => format!("CASE WHEN json_valid(b) THEN json_extract(b, {p}) END"),
            1 => format!("CASE WHEN json_valid(b) THEN b -> {p} END"),
            2 => format!("CASE WHEN json_valid(b) THEN b ->> {p} END"),
            3 => format!("CASE WHEN json_valid(b) THEN json_type(b, {p}) END"),
            4 => "json_valid(b)".to_string(),
            _ => format!("CASE WHEN json_valid(b) THEN json_array_length(b, {p}) END"),
        }
    };
    match rng.gen_range(0..12) {
        10 => format!(
            "SELECT t.id, e.key, e.value, e.type, e.fullkey FROM {n} AS t, json_each({}) AS e WHERE {} ORDER BY t.rowid, e.id",
            [
                "json_array(t.a, t.b, t.c)",
                "json_object('k', t.k, 'b', t.b)",
                "json_set(json_array(t.id), '$[#]', json_object('c', t.c))",
                "CASE WHEN json_valid(t.b) THEN t.b END",
                "jsonb_array(t.a, json_array(t.k, t.c))",
            ][rng.gen_range(0..5)],
            pred(rng, "t.")
        ),
        11 => format!(
            "SELECT t.id, j.key, j.atom, j.path, j.parent FROM {n} AS t JOIN json_tree({}) AS j ORDER BY t.rowid, j.id",
            ["json_object('a', t.a, 'b', json_array(t.b, t.c))", "json_array(t.k, json_object('x', t.id))", "CASE WHEN json_valid(t.b) THEN t.b END"][rng.gen_range(0..3)]
        ),
        0..=3 => {
            let cols: Vec<String> = (0..rng.gen_range(1..=3)).map(|_| json_expr(rng, 0)).collect();
            format!(
                "SELECT id, {} FROM {n} WHERE {} ORDER BY rowid",
                cols.join(", "),
                pred(rng, "")
            )
        }
        4..=5 => format!(
            "SELECT id, {}, {} FROM {n} ORDER BY rowid",
            jb(rng),
            jb(rng)
        ),
        6 => format!(
            "UPDATE {n} SET b = {} WHERE {}",
            json_expr(rng, 0),
            pred(rng, "")
        ),
        7 => format!(
            "SELECT a, json_array_length(json_group_array({})), json_type(json_group_object(CAST(id AS TEXT), {})) FROM {n} GROUP BY a ORDER BY a",
            json_expr(rng, 1),
            json_expr(rng, 1)
        ),
        8 => format!(
            "SELECT id, hex(jsonb({})), json_valid({}, {}) FROM {n} WHERE {} ORDER BY rowid",
            json_expr(rng, 0),
            json_expr(rng, 1),
            rng.gen_range(1..=15),
            pred(rng, "")
        ),
        _ => format!(
            "SELECT id, json_pretty({}), json_error_position(b) FROM {n} ORDER BY rowid",
            json_expr(rng, 0)
        ),
    }
}

/// One aggregate call with `ORDER BY` inside (unqualified columns). Every order that
/// decides a result ends with the rowid (a total order: ties cannot depend on the plan);
/// DISTINCT is ordered by its own argument (which row of equal values is kept then does
/// not matter); min/max/count and integer sums accept the clause as SQLite does.
fn agg_order_call(rng: &mut ChaCha8Rng) -> String {
    const KEYS: &[&str] = &[
        "a",
        "b",
        "c",
        "k",
        "a % 3",
        "length(b)",
        "b COLLATE NOCASE",
        "-c",
    ];
    const DIRS: &[&str] = &[
        "",
        " DESC",
        " NULLS FIRST",
        " DESC NULLS LAST",
        " ASC NULLS LAST",
    ];
    const ARGS: &[&str] = &["b", "a", "c", "k", "id", "a || '-' || b"];
    let mut terms = Vec::new();
    for _ in 0..rng.gen_range(0..3) {
        terms.push(format!(
            "{}{}",
            KEYS[rng.gen_range(0..KEYS.len())],
            DIRS[rng.gen_range(0..DIRS.len())]
        ));
    }
    terms.push(format!("rowid{}", ["", " DESC"][rng.gen_range(0..2)]));
    let ob = terms.join(", ");
    let arg = ARGS[rng.gen_range(0..ARGS.len())];
    let call = match rng.gen_range(0..9) {
        0 => format!("group_concat({arg} ORDER BY {ob})"),
        1 => format!(
            "group_concat({arg}, '{}' ORDER BY {ob})",
            [";", "", " - "][rng.gen_range(0..3)]
        ),
        2 => format!("string_agg({arg}, '/' ORDER BY {ob})"),
        3 => format!("json_group_array({arg} ORDER BY {ob})"),
        4 => format!("json_group_object(coalesce(b, 'none'), {arg} ORDER BY {ob})"),
        5 => {
            let d = ["a", "b", "k", "a % 3"][rng.gen_range(0..4)];
            let dir = DIRS[rng.gen_range(0..DIRS.len())];
            format!("group_concat(DISTINCT {d} ORDER BY {d}{dir})")
        }
        6 => format!("total(c ORDER BY {ob})"),
        7 => format!(
            "{}(a ORDER BY {ob})",
            ["count", "sum", "min", "max"][rng.gen_range(0..4)]
        ),
        _ => format!(
            "json_group_array(DISTINCT a ORDER BY a{})",
            DIRS[rng.gen_range(0..DIRS.len())]
        ),
    };
    if rng.gen_bool(0.25) {
        format!("{call} FILTER (WHERE a > {})", int_lit(rng, 0, 9))
    } else {
        call
    }
}

/// Aggregates with `ORDER BY` inside the call (the `agg-order` group): whole-table,
/// grouped (the top-level ORDER BY is the group keys: total), with HAVING, and in a
/// correlated subquery.
fn gen_agg_order(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let n = &t.name;
    match rng.gen_range(0..5) {
        0 => format!(
            "SELECT {}, {} FROM {n} WHERE {}",
            agg_order_call(rng),
            agg_order_call(rng),
            pred(rng, "")
        ),
        1 => format!(
            "SELECT a % 3, {}, count(*) FROM {n} GROUP BY a % 3 ORDER BY 1",
            agg_order_call(rng)
        ),
        2 => format!(
            "SELECT b, {} FROM {n} GROUP BY b HAVING count(*) > {} ORDER BY 1",
            agg_order_call(rng),
            rng.gen_range(0..2)
        ),
        3 => {
            let o = table(rng, s);
            format!(
                "SELECT x.rowid, (SELECT {} FROM {} WHERE a = x.a) FROM {n} AS x ORDER BY x.rowid",
                agg_order_call(rng),
                o.name
            )
        }
        _ => format!(
            "SELECT {} FROM {n} GROUP BY k % 4 HAVING {} IS NOT NULL ORDER BY 1",
            agg_order_call(rng),
            agg_order_call(rng)
        ),
    }
}

/// A SELECT with window functions. Every window ORDER BY that decides which rows a
/// function sees ends with the rowid (a total order, so ties cannot depend on the plan),
/// except RANGE frames with an offset (one ORDER BY term; their frames are sets of
/// values, read only by aggregates); the top-level ORDER BY is total too.
fn gen_window(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let n = &t.name;
    let funcs = [
        "row_number()",
        "rank()",
        "dense_rank()",
        "percent_rank()",
        "cume_dist()",
        "ntile(3)",
        "lag(a)",
        "lead(b, 2, 'none')",
        "first_value(c)",
        "last_value(a)",
        "nth_value(b, 2)",
        "count(*)",
        "count(b)",
        "sum(a)",
        "total(c)",
        "min(b)",
        "max(k)",
        "avg(c)",
        "sum(c) FILTER (WHERE a > 3)",
    ];
    let aggs = [
        "count(*)", "sum(a)", "total(c)", "min(k)", "max(c)", "avg(a)",
    ];
    let parts = [
        "",
        "PARTITION BY a ",
        "PARTITION BY b ",
        "PARTITION BY k % 3 ",
    ];
    let orders = [
        "ORDER BY a, rowid",
        "ORDER BY c DESC, rowid",
        "ORDER BY b NULLS LAST, rowid",
        "ORDER BY rowid",
    ];
    let frames = [
        "",
        " ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING",
        " ROWS UNBOUNDED PRECEDING",
        " ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING EXCLUDE CURRENT ROW",
        " GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW",
        " RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING",
        " ROWS BETWEEN 2 PRECEDING AND 1 PRECEDING",
    ];
    let over = |rng: &mut ChaCha8Rng| {
        let p = parts[rng.gen_range(0..parts.len())];
        let o = orders[rng.gen_range(0..orders.len())];
        let f = frames[rng.gen_range(0..frames.len())];
        format!("({p}{o}{f})")
    };
    match rng.gen_range(0..6) {
        0 | 1 => {
            let mut cols = Vec::new();
            for _ in 0..rng.gen_range(1..=3) {
                let f = funcs[rng.gen_range(0..funcs.len())];
                cols.push(format!("{f} OVER {}", over(rng)));
            }
            format!(
                "SELECT rowid, a, {} FROM {n} WHERE {} ORDER BY rowid",
                cols.join(", "),
                pred(rng, "")
            )
        }
        2 => {
            // RANGE with offsets: one ORDER BY term, aggregates only.
            let f = aggs[rng.gen_range(0..aggs.len())];
            let (lo, hi) = (rng.gen_range(0..3), rng.gen_range(0..3));
            let col = ["a", "c", "k"][rng.gen_range(0..3)];
            let dir = ["", " DESC"][rng.gen_range(0..2)];
            format!(
                "SELECT rowid, {col}, {f} OVER (ORDER BY {col}{dir} RANGE BETWEEN {lo} PRECEDING AND {hi} FOLLOWING) FROM {n} ORDER BY rowid"
            )
        }
        3 => {
            // Named windows and inheritance.
            let f1 = funcs[rng.gen_range(0..funcs.len())];
            let f2 = aggs[rng.gen_range(0..aggs.len())];
            format!(
                "SELECT rowid, {f1} OVER w, {f2} OVER (w ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM {n} WINDOW w AS (PARTITION BY a ORDER BY k, rowid) ORDER BY rowid"
            )
        }
        4 => {
            // Over GROUP BY results (a is unique per group: a total order).
            format!(
                "SELECT a, count(*), sum(count(*)) OVER (ORDER BY a), rank() OVER (ORDER BY count(*), a), lag(max(c)) OVER (ORDER BY a) FROM {n} GROUP BY a ORDER BY a"
            )
        }
        _ => {
            // In a subquery, filtered outside.
            let f = funcs[rng.gen_range(0..funcs.len())];
            format!(
                "SELECT r, a, w FROM (SELECT rowid AS r, a, {f} OVER {} AS w, row_number() OVER (PARTITION BY a ORDER BY rowid) AS rn FROM {n}) WHERE rn <= 2 ORDER BY r",
                over(rng)
            )
        }
    }
}

/// A text of `n` copies of `unit` (ASCII), built by SQL so that plans stay short:
/// `hex(zeroblob(n))` is `2n` zeros.
fn big_text(n: u32, unit: &str) -> String {
    format!("replace(hex(zeroblob({n})), '00', '{unit}')")
}

/// Statements that move many pages to and from the freelist, so that its trunks fill up,
/// chain (a trunk of a 512-byte page holds 120 leaves) and empty again: the core workload's
/// rows are a few dozen bytes and its tables a few pages, so before this group a freed
/// page was nearly always the first trunk itself and a freelist leaf was rare (a planted
/// defect that lost leaves went unseen in 50 seeds). Rows of 100 bytes to 6 KiB (overflow
/// chains, twice as long in UTF-16), deleted in bulk or shrunk by updates; a scratch table
/// `big` (not a `tmp_` name: it is in main, compared through the schema rows, the results
/// of the SELECTs here, both integrity checks and SQLite's check of the files) created,
/// filled, indexed and dropped; an index on a main table created and dropped.
fn gen_churn(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = table(rng, s);
    let n = &t.name;
    let unit = ["q", "xy", "abc", "Z"][rng.gen_range(0..4)];
    match rng.gen_range(0..16) {
        0..=2 => {
            let rows: Vec<String> = (0..rng.gen_range(1..=4))
                .map(|_| {
                    format!(
                        "(NULL, {}, {}, {})",
                        a_lit(rng),
                        big_text(rng.gen_range(100..=2000), unit),
                        c_lit(rng)
                    )
                })
                .collect();
            format!("INSERT INTO {n}(k, a, b, c) VALUES {}", rows.join(", "))
        }
        3 => format!(
            "DELETE FROM {n} WHERE length(b) > {}",
            rng.gen_range(50..=1500)
        ),
        4 => format!(
            "DELETE FROM {n} WHERE id > {} OR length(b) > {}",
            rng.gen_range(20..=60),
            rng.gen_range(50..=1500)
        ),
        5 => format!(
            "UPDATE {n} SET b = {} WHERE id % 3 = {}",
            big_text(rng.gen_range(200..=1500), unit),
            rng.gen_range(0..3)
        ),
        6 => format!(
            "UPDATE {n} SET b = {} WHERE length(b) > {}",
            b_lit(rng),
            rng.gen_range(50..=500)
        ),
        7 => "CREATE TABLE IF NOT EXISTS big(x INTEGER PRIMARY KEY, y TEXT, z BLOB)".into(),
        8 | 9 => format!(
            "INSERT INTO big(y, z) SELECT {}, zeroblob({}) FROM {n} WHERE {}",
            big_text(rng.gen_range(50..=800), unit),
            rng.gen_range(0..=1200),
            pred(rng, "")
        ),
        // 0: all of it, the truncate path (the tree is cleared, its rows counted first).
        10 => match rng.gen_range(0..=3) {
            0 => "DELETE FROM big".into(),
            m => format!("DELETE FROM big WHERE x % {m} = 0"),
        },
        11 => "DROP TABLE IF EXISTS big".into(),
        12 => "CREATE INDEX IF NOT EXISTS big_y ON big(y)".into(),
        13 => match rng.gen_range(0..9) {
            0 | 1 => format!("CREATE INDEX IF NOT EXISTS {n}_churn ON {n}(b, c)"),
            2 | 3 => format!("DROP INDEX IF EXISTS {n}_churn"),
            // Partial indexes: kept by every write for the rows their WHERE holds for,
            // used by the planner when a query's WHERE implies it (`pred`'s
            // `a > N AND b IS NOT NULL` does imply the first).
            4 => [
                format!("CREATE INDEX IF NOT EXISTS {n}_part ON {n}(a) WHERE b IS NOT NULL"),
                format!("CREATE UNIQUE INDEX IF NOT EXISTS {n}_upart ON {n}(b, a) WHERE a > 7"),
            ][rng.gen_range(0..2)]
            .clone(),
            5 => [
                format!("DROP INDEX IF EXISTS {n}_part"),
                format!("DROP INDEX IF EXISTS {n}_upart"),
            ][rng.gen_range(0..2)]
            .clone(),
            // Indexes on expressions, and queries the planner answers through them.
            6 => [
                format!("CREATE INDEX IF NOT EXISTS {n}_expr ON {n}(a + 1, lower(b))"),
                format!("CREATE INDEX IF NOT EXISTS {n}_expr2 ON {n}(lower(b)) WHERE a > 2"),
                format!("DROP INDEX IF EXISTS {n}_expr"),
                format!("DROP INDEX IF EXISTS {n}_expr2"),
            ][rng.gen_range(0..4)]
            .clone(),
            7 => format!(
                "SELECT id, a, b FROM {n} WHERE a + 1 = {} ORDER BY id",
                rng.gen_range(0..12)
            ),
            _ => format!(
                "SELECT id, a FROM {n} WHERE lower(b) = {} ORDER BY id",
                b_lit(rng)
            ),
        },
        14 => "DROP INDEX IF EXISTS big_y".into(),
        _ => "SELECT x, length(y), substr(y, 1, 4), length(z) FROM big ORDER BY x".into(),
    }
}

/// TEMP objects. Every temp object is named `tmp_*` (how [`classify`] recognises
/// statements on them) and no temp statement reads or writes a `main` table: the
/// simulator mirrors each connection's temp schema on a SQLite connection of its own
/// (temp objects are per connection in both engines), see `sql_sim`.
fn gen_temp(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let ret = if s.features.returning && rng.gen_bool(0.3) {
        " RETURNING x, y"
    } else {
        ""
    };
    match rng.gen_range(0..16) {
        0 | 1 => {
            "CREATE TEMP TABLE IF NOT EXISTS tmp_a(x INTEGER PRIMARY KEY, y TEXT, z INTEGER)".into()
        }
        2 => "CREATE TEMPORARY TABLE tmp_b(x INTEGER PRIMARY KEY, y TEXT UNIQUE, z INTEGER)".into(),
        3 => ["CREATE INDEX IF NOT EXISTS temp.tmp_a_z ON tmp_a(z)",
              "CREATE UNIQUE INDEX IF NOT EXISTS temp.tmp_b_z ON tmp_b(z, x)"][rng.gen_range(0..2)]
            .into(),
        // Over the temp schema table, which always exists: SQLite accepts a view over a
        // missing table (until it is used), Strata refuses it at CREATE (a deviation the
        // fuzzer's DDL shows; kept out of this group so that it tests TEMP only).
        4 => "CREATE TEMP VIEW IF NOT EXISTS tmp_v AS SELECT name AS x, type AS y FROM sqlite_temp_schema WHERE name LIKE 'tmp%'".into(),
        5 => "CREATE TEMP TRIGGER IF NOT EXISTS tmp_tr AFTER INSERT ON tmp_a WHEN new.z < 0 BEGIN UPDATE tmp_a SET z = -new.z WHERE x = new.x; END".into(),
        6..=8 => format!(
            "INSERT INTO {}tmp_a(y, z) VALUES ({}, {}){ret}",
            if rng.gen_bool(0.5) { "temp." } else { "" },
            b_lit(rng),
            int_lit(rng, -3, 9)
        ),
        9 => format!(
            "INSERT OR IGNORE INTO temp.tmp_b(y, z) VALUES ({}, {}){ret}",
            b_lit(rng),
            int_lit(rng, 0, 9)
        ),
        10 => format!("UPDATE tmp_a SET z = z + 1 WHERE z > {}{ret}", int_lit(rng, -3, 9)),
        11 => format!("DELETE FROM temp.tmp_a WHERE x % 3 = {}{ret}", int_lit(rng, 0, 2)),
        12 => "SELECT x, y, z FROM tmp_a ORDER BY x".into(),
        13 => ["SELECT * FROM temp.tmp_v", "SELECT y, count(*) FROM tmp_b GROUP BY y"]
            [rng.gen_range(0..2)]
            .into(),
        14 => "SELECT type, name, tbl_name, sql FROM sqlite_temp_schema ORDER BY name".into(),
        _ => [
            "DROP TABLE IF EXISTS temp.tmp_a",
            "DROP TABLE IF EXISTS tmp_b",
            "DROP VIEW IF EXISTS temp.tmp_v",
            "DROP TRIGGER IF EXISTS tmp_tr",
            "DROP INDEX IF EXISTS temp.tmp_a_z",
        ][rng.gen_range(0..5)]
            .into(),
    }
}

/// Group `attach`: databases attached by one connection (`':memory:'`, or `''`, a private
/// temporary database), as temp objects are, so the statements run on the connection's
/// temp mirror (see `sql_sim`'s `Conn::temp`) and never touch `main`. `aux.tmp_a` has the
/// name of the temp group's `temp.tmp_a`: an unqualified `tmp_a` names the temp table
/// while it exists, then the aux one (SQLite's order: temp, main, attached in order).
/// `tmp_c` exists only in `aux`, so unqualified names reach an attached database.
fn gen_attach(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let ret = if s.features.returning && rng.gen_bool(0.3) {
        " RETURNING x, y, z"
    } else {
        ""
    };
    let q = |rng: &mut ChaCha8Rng| if rng.gen_bool(0.5) { "aux." } else { "" };
    match rng.gen_range(0..24) {
        0..=2 => ["ATTACH ':memory:' AS aux", "ATTACH DATABASE '' AS aux", "ATTACH ':memory:' AS aux2"]
            [rng.gen_range(0..3)]
        .into(),
        3 => ["DETACH aux", "DETACH DATABASE aux2"][rng.gen_range(0..2)].into(),
        4 | 5 => "CREATE TABLE IF NOT EXISTS aux.tmp_c(x INTEGER PRIMARY KEY, y TEXT, z INTEGER)".into(),
        6 => [
            "CREATE TABLE IF NOT EXISTS aux.tmp_a(x INTEGER PRIMARY KEY, y TEXT, z INTEGER)",
            "CREATE TABLE IF NOT EXISTS aux2.tmp_d(x INTEGER PRIMARY KEY, y TEXT UNIQUE, z)",
        ][rng.gen_range(0..2)]
            .into(),
        7 => [
            "CREATE INDEX IF NOT EXISTS aux.tmp_c_z ON tmp_c(z)",
            "CREATE UNIQUE INDEX IF NOT EXISTS aux.tmp_c_yz ON tmp_c(y, z)",
        ][rng.gen_range(0..2)]
            .into(),
        8..=10 => format!(
            "INSERT INTO {}tmp_c(y, z) VALUES ({}, {}){ret}",
            q(rng),
            b_lit(rng),
            int_lit(rng, -3, 9)
        ),
        11 => format!(
            "INSERT OR REPLACE INTO aux2.tmp_d(y, z) VALUES ({}, {}){ret}",
            b_lit(rng),
            int_lit(rng, 0, 9)
        ),
        // Between schemas: temp to aux, aux to aux, through the unqualified name.
        12 => [
            "INSERT INTO aux.tmp_a(y, z) SELECT y, z FROM temp.tmp_a WHERE z > 2",
            "INSERT INTO aux.tmp_a(y, z) SELECT y, z FROM aux.tmp_c",
            "INSERT INTO tmp_a(y, z) SELECT y, z FROM tmp_c ORDER BY x LIMIT 3",
        ][rng.gen_range(0..3)]
            .into(),
        13 => format!(
            "UPDATE {}tmp_c SET z = z * 2 WHERE z < {}{ret}",
            q(rng),
            int_lit(rng, -3, 9)
        ),
        14 => format!(
            "DELETE FROM {}tmp_c WHERE x % 3 = {}{ret}",
            q(rng),
            int_lit(rng, 0, 2)
        ),
        15 => format!("UPDATE aux.tmp_a SET y = y || 'u' WHERE x % 2 = {}", int_lit(rng, 0, 1)),
        16 | 17 => [
            "SELECT x, y, z FROM tmp_c ORDER BY x",
            "SELECT x, y, z FROM aux.tmp_a ORDER BY x",
            // Whichever `tmp_a` the name finds first (temp's, else aux's).
            "SELECT x, y, z FROM tmp_a ORDER BY x",
            "SELECT c.x, c.z, d.y FROM aux.tmp_c AS c LEFT JOIN aux2.tmp_d AS d ON d.z = c.z",
            "SELECT z, count(*), group_concat(y, ',' ORDER BY x) FROM tmp_c GROUP BY z",
            "SELECT x, y FROM temp.tmp_a WHERE z IN (SELECT z FROM aux.tmp_c)",
        ][rng.gen_range(0..6)]
            .into(),
        18 => [
            "SELECT type, name, tbl_name, sql FROM aux.sqlite_master ORDER BY name",
            "SELECT type, name, tbl_name, sql FROM aux2.sqlite_schema ORDER BY name",
        ][rng.gen_range(0..2)]
            .into(),
        19 => [
            "PRAGMA aux.table_info(tmp_c)",
            "PRAGMA aux.index_list(tmp_c)",
            "PRAGMA aux.integrity_check",
            "PRAGMA aux.user_version",
            "PRAGMA aux.user_version = 7",
            "PRAGMA aux2.schema_version",
        ][rng.gen_range(0..6)]
            .into(),
        // A TEMP trigger may watch another database's table; its body's unqualified
        // name resolves as any statement's.
        20 => "CREATE TEMP TRIGGER IF NOT EXISTS tmp_aux_tr AFTER INSERT ON aux.tmp_c WHEN new.z > 5 BEGIN INSERT INTO tmp_a(y, z) VALUES (new.y, -new.z); END".into(),
        21 => "DROP TRIGGER IF EXISTS temp.tmp_aux_tr".into(),
        _ => [
            "DROP TABLE IF EXISTS aux.tmp_c",
            "DROP INDEX IF EXISTS aux.tmp_c_z",
            "DROP TABLE IF EXISTS aux.tmp_a",
            "DROP TABLE IF EXISTS aux2.tmp_d",
        ][rng.gen_range(0..4)]
            .into(),
    }
}

/// Group `math`: SQLite's math functions (built in since 3.35) over the columns, each
/// answer NULL where the argument is outside the function's domain (ln of a negative,
/// acos of 2, ...) or NULL, as SQLite's; TRUE and FALSE. Rows are ordered by `id` (unique);
/// no sum of reals (its last bits depend on the order rows are added in).
fn gen_math(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let t = &table(rng, s).name;
    let w = pred(rng, "");
    match rng.gen_range(0..9) {
        0 => format!(
            "SELECT id, sqrt(a), pow(c, 2), power(a, 0.5), exp(c), ln(a), log(a), log2(a), log10(c), log(2, a), log(a, 8) FROM {t} WHERE {w} ORDER BY rowid"
        ),
        1 => format!(
            "SELECT id, floor(c), ceil(c), ceiling(a), trunc(c), mod(a, 3), mod(c, 0.75), mod(a, 0), pi() * a FROM {t} WHERE {w} ORDER BY rowid"
        ),
        2 => format!(
            "SELECT id, sin(c), cos(c), tan(a), asin(c / 4), acos(a / 3.0), atan(c), atan2(a, c), atan2(c, a) FROM {t} WHERE {w} ORDER BY rowid"
        ),
        3 => format!(
            "SELECT id, sinh(c), cosh(a), tanh(c), asinh(a), acosh(c), atanh(c / 8), degrees(c), radians(a) FROM {t} WHERE {w} ORDER BY rowid"
        ),
        4 => format!(
            "SELECT max(sqrt(abs(a))), min(ln(c)), count(exp(a)), max(floor(c / 2)), min(mod(k, 4)) FROM {t}"
        ),
        5 => format!(
            "SELECT id, a > 2 IS TRUE, b IS NOT FALSE, c IS FALSE, TRUE + FALSE, CASE WHEN c > 0 THEN TRUE ELSE FALSE END, (a = 1) = TRUE FROM {t} WHERE {w} ORDER BY rowid"
        ),
        6 => format!("SELECT count(*), count(a) FROM {t} WHERE (a > 3) = FALSE OR (c < 0) IS TRUE"),
        7 => format!(
            "UPDATE {t} SET c = round(sqrt(abs(c)) * pi(), 6) WHERE id % 4 = {} AND c IS NOT NULL",
            rng.gen_range(0..4)
        ),
        _ => format!(
            "SELECT floor(a / 2) AS g, count(*), max(trunc(c)) FROM {t} WHERE {w} GROUP BY g ORDER BY g"
        ),
    }
}

/// Foreign keys (immediate): writes to child tables' `p` and to the parent key `t0.k`,
/// and the pragmas that report them.
fn gen_fk(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let Some(child) = table_where(rng, s, |t| t.fk) else {
        return gen_core(rng, s);
    };
    let c = &child.name;
    match rng.gen_range(0..8) {
        0 | 1 => format!(
            "INSERT INTO {c}(k, a, b, c, p) VALUES ({}, {}, {}, {}, {})",
            k_lit(rng),
            a_lit(rng),
            b_lit(rng),
            c_lit(rng),
            k_lit(rng)
        ),
        2 => format!("UPDATE {c} SET p = {} WHERE {}", k_lit(rng), pred(rng, "")),
        // One parent row (id is unique): its key changes, children follow ON UPDATE.
        3 => format!(
            "UPDATE t0 SET k = {} WHERE id = {}",
            k_lit(rng),
            id_lit(rng)
        ),
        4 => format!("DELETE FROM t0 WHERE {}", pred(rng, "")),
        5 => format!(
            "INSERT OR REPLACE INTO t0(id, k, a, b, c) VALUES ({}, {}, 1, 'r', 0.5)",
            id_lit(rng),
            k_lit(rng)
        ),
        6 => "PRAGMA foreign_key_check".into(),
        _ => format!("PRAGMA foreign_key_list({c})"),
    }
}

/// STRICT tables: writes of values that convert losslessly (accepted) and of values
/// that do not (both engines must refuse them).
fn gen_strict(rng: &mut ChaCha8Rng, s: &SchemaDef) -> String {
    let Some(t) = table_where(rng, s, |t| t.strict) else {
        return gen_core(rng, s);
    };
    let n = &t.name;
    let k = k_lit(rng);
    match rng.gen_range(0..8) {
        0 => format!("INSERT INTO {n}(k, a, b, c) VALUES ({k}, 'abc', 'x', 1.5)"),
        1 => format!("INSERT INTO {n}(k, a, b, c) VALUES ({k}, 1, x'00ff', 1.5)"),
        2 => format!("INSERT INTO {n}(k, a, b, c) VALUES ({k}, 2, 'y', 'not real')"),
        3 => format!("INSERT INTO {n}(k, a, b, c) VALUES ({k}, 2.5, 'y', 1)"),
        // Lossless conversions: '12' -> 12, 3 -> 3.0, 7 -> '7', 4.0 -> 4.
        4 => format!("INSERT INTO {n}(k, a, b, c) VALUES ({k}, '12', 7, 3)"),
        5 => format!("INSERT INTO {n}(k, a, b, c) VALUES ({k}, 4.0, 'z', '2.5')"),
        6 => format!(
            "UPDATE {n} SET a = {} WHERE {}",
            ["'zz'", "'5'", "x'01'", "1.25", "NULL"][rng.gen_range(0..5)],
            pred(rng, "")
        ),
        _ => format!(
            "SELECT id, typeof(a), typeof(b), typeof(c), a, b, c FROM {n} WHERE {}",
            pred(rng, "")
        ),
    }
}

/// How the simulator treats a statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Read,
    Write,
    /// Reads only TEMP objects (`tmp_*`, `sqlite_temp_schema`) of its connection.
    TempRead,
    /// Writes (or creates, drops) only TEMP objects of its connection.
    TempWrite,
    Begin,
    BeginImmediate,
    Commit,
    Rollback,
    /// `SAVEPOINT x` (starts a transaction outside one).
    Savepoint,
    /// `RELEASE [SAVEPOINT] x` (commits when it releases a SAVEPOINT-started transaction).
    Release,
    /// `ROLLBACK [TRANSACTION] TO [SAVEPOINT] x`.
    RollbackTo,
    Checkpoint,
    Integrity,
    /// `VACUUM INTO 'file'`: the new file is read by SQLite and compared with the model.
    VacuumInto,
}

pub fn classify(sql: &str) -> Kind {
    let u = sql.trim_start().to_ascii_uppercase();
    // Attached databases (group `attach`) belong to one connection, as temp objects do,
    // and their statements never touch `main`: the same per-connection mirror runs them.
    if u.contains("TMP_")
        || u.contains("SQLITE_TEMP_SCHEMA")
        || u.starts_with("ATTACH")
        || u.starts_with("DETACH")
        || u.contains("AUX.")
        || u.contains("AUX2.")
    {
        if u.starts_with("SELECT") {
            Kind::TempRead
        } else {
            Kind::TempWrite
        }
    } else if u.starts_with("SELECT")
        // A WITH clause before a SELECT (the `cte` group's writes name their verb).
        || (u.starts_with("WITH")
            && !u.contains(" UPDATE ")
            && !u.contains(" DELETE ")
            && !u.contains(" INSERT "))
        || u.starts_with("PRAGMA FOREIGN_KEY")
        || u.starts_with("PRAGMA ENCODING")
        || u.starts_with("PRAGMA INDEX_")
        || u.starts_with("PRAGMA MAIN.INDEX_")
        || u.starts_with("PRAGMA TABLE_INFO")
    {
        Kind::Read
    } else if u.starts_with("BEGIN IMMEDIATE") {
        Kind::BeginImmediate
    } else if u.starts_with("BEGIN") {
        Kind::Begin
    } else if u.starts_with("COMMIT") || u.starts_with("END") {
        Kind::Commit
    } else if u.starts_with("SAVEPOINT") {
        Kind::Savepoint
    } else if u.starts_with("RELEASE") {
        Kind::Release
    } else if u.starts_with("ROLLBACK") && u.split_whitespace().any(|w| w == "TO") {
        Kind::RollbackTo
    } else if u.starts_with("ROLLBACK") {
        Kind::Rollback
    } else if u.starts_with("PRAGMA WAL_CHECKPOINT") {
        Kind::Checkpoint
    } else if u.starts_with("VACUUM INTO") {
        Kind::VacuumInto
    } else if u.starts_with("PRAGMA INTEGRITY_CHECK") {
        Kind::Integrity
    } else {
        Kind::Write
    }
}

/// Whether a statement the generator writes starts a read transaction on main inside
/// BEGIN (its snapshot). SQLite (checked with sqlite3 3.40 and rusqlite's) runs no
/// Transaction opcode for `PRAGMA encoding`, `PRAGMA foreign_key_list(t)` and
/// `PRAGMA foreign_keys`, while `table_info`, `index_list` and `index_info` do start
/// one; Strata does the same.
pub fn takes_snapshot(sql: &str) -> bool {
    let u = sql.trim_start().to_ascii_uppercase();
    !(u.starts_with("PRAGMA ENCODING")
        || u.starts_with("PRAGMA FOREIGN_KEY_LIST")
        || u.starts_with("PRAGMA FOREIGN_KEYS"))
}

/// Whether a write's result rows can be compared with the model's: not those of
/// `PRAGMA journal_mode` (the fault-injection sweeps switch modes), which name the
/// file's mode while the model is an in-memory SQLite ("memory").
/// `CREATE TABLE/INDEX IF NOT EXISTS` or `DROP TABLE/INDEX IF EXISTS` (the `churn`
/// group): a no-op when the object exists (is missing), and then not a write.
pub fn conditional_ddl(sql: &str) -> bool {
    let u = sql.trim_start().to_ascii_uppercase();
    (u.starts_with("CREATE") || u.starts_with("DROP")) && u.contains(" IF ")
}

/// The object name of a `DROP <kind> IF EXISTS <name>` statement.
pub fn conditional_drop_name(sql: &str) -> Option<&str> {
    let words: Vec<&str> = sql.split_whitespace().collect();
    match words.as_slice() {
        [drop, _, if_, exists, name] | [drop, _, if_, exists, name, ..]
            if drop.eq_ignore_ascii_case("DROP")
                && if_.eq_ignore_ascii_case("IF")
                && exists.eq_ignore_ascii_case("EXISTS") =>
        {
            Some(name.trim_end_matches(';'))
        }
        _ => None,
    }
}

/// CREATE or DROP (of a table or an index: what the generator writes).
/// INSERT, REPLACE, UPDATE or DELETE: the statements that set `changes()` (a DML after a
/// WITH clause is not recognised, so not compared).
pub fn is_dml(sql: &str) -> bool {
    let u = sql.trim_start().to_ascii_uppercase();
    ["INSERT", "REPLACE", "UPDATE", "DELETE"]
        .iter()
        .any(|k| u.starts_with(k))
}

pub fn is_ddl(sql: &str) -> bool {
    let u = sql.trim_start().to_ascii_uppercase();
    u.starts_with("CREATE") || u.starts_with("DROP")
}

/// Statements SQLite refuses inside a transaction (the simulator's in-transaction model
/// runs them on an autocommit view, so it must know).
pub fn refused_in_transaction(sql: &str) -> bool {
    sql.trim_start().to_ascii_uppercase().starts_with("VACUUM")
}

pub fn rows_comparable(sql: &str) -> bool {
    let u = sql.trim_start().to_ascii_uppercase();
    !(u.starts_with("PRAGMA JOURNAL_MODE") || u.starts_with("PRAGMA INCREMENTAL_VACUUM"))
}

/// Whether a SELECT's rows come in a defined order (a top-level ORDER BY).
pub fn ordered(sql: &str) -> bool {
    sql.to_ascii_uppercase().contains(" ORDER BY ")
}
