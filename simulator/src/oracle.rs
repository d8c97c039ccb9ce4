//! The SQLite side of the SQL workload: values in a form both engines compare in, running
//! a statement on an in-memory SQLite database (rusqlite), copying databases, dumping
//! tables, and SQLite's `integrity_check` on a database file copied out of `SimIo`.

use std::fmt;

use rusqlite::types::ValueRef as SqlRef;
use rusqlite::Connection as Sqlite;

/// A result value as both engines report it. Reals are compared by value with 12
/// significant digits (float formatting is not part of the comparison).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Val {
    Null,
    Int(i64),
    /// The real formatted `{:.11e}`: equal values compare equal whatever their last bit.
    Real(String),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Val {
    pub fn real(r: f64) -> Val {
        if r == 0.0 {
            // -0.0 and 0.0 are the same SQL value.
            return Val::Real(format!("{:.11e}", 0.0f64));
        }
        Val::Real(format!("{r:.11e}"))
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Null => write!(f, "NULL"),
            Val::Int(i) => write!(f, "{i}"),
            Val::Real(r) => write!(f, "{r}"),
            Val::Text(t) => write!(f, "'{}'", String::from_utf8_lossy(t)),
            Val::Blob(b) => write!(
                f,
                "x'{}'",
                b.iter().map(|x| format!("{x:02x}")).collect::<String>()
            ),
        }
    }
}

pub type Rows = Vec<Vec<Val>>;

pub fn from_strata(v: &strata::Value) -> Val {
    match v {
        strata::Value::Null => Val::Null,
        strata::Value::Integer(i) => Val::Int(*i),
        strata::Value::Real(r) => Val::real(*r),
        strata::Value::Text(t) => Val::Text(t.clone()),
        strata::Value::Blob(b) => Val::Blob(b.clone()),
    }
}

fn from_sqlite(v: SqlRef<'_>) -> Val {
    match v {
        SqlRef::Null => Val::Null,
        SqlRef::Integer(i) => Val::Int(i),
        SqlRef::Real(r) => Val::real(r),
        SqlRef::Text(t) => Val::Text(t.to_vec()),
        SqlRef::Blob(b) => Val::Blob(b.to_vec()),
    }
}

/// Runs one statement on SQLite; its rows, or the error message.
pub fn exec(db: &Sqlite, sql: &str) -> Result<Rows, String> {
    let mut stmt = db.prepare(sql).map_err(|e| e.to_string())?;
    let n = stmt.column_count();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                let mut r = Vec::with_capacity(n);
                for i in 0..n {
                    r.push(from_sqlite(row.get_ref(i).map_err(|e| e.to_string())?));
                }
                out.push(r);
            }
            Ok(None) => return Ok(out),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// A new in-memory SQLite database. Foreign keys are enforced (a per-connection
/// setting): a schema without REFERENCES clauses is not affected, and with them the model
/// must enforce what Strata is told to enforce (`PRAGMA foreign_keys=ON` on its
/// connections).
pub fn memory() -> Sqlite {
    let db = Sqlite::open_in_memory().expect("open an in-memory SQLite database");
    db.execute_batch("PRAGMA foreign_keys=ON")
        .expect("PRAGMA foreign_keys on SQLite");
    db
}

/// A copy of `src` (the backup API, page by page).
pub fn copy(src: &Sqlite) -> Sqlite {
    let mut dst = memory();
    {
        let backup = rusqlite::backup::Backup::new(src, &mut dst).expect("start a SQLite backup");
        backup
            .run_to_completion(1 << 20, std::time::Duration::ZERO, None)
            .expect("SQLite backup");
    }
    dst
}

/// Every table's rows, `rowid` first, sorted: what a database holds, comparable between
/// the engines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dump(pub Vec<(String, Rows)>);

impl Dump {
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for (t, rows) in &self.0 {
            s.push_str(&format!("{t}: {} rows", rows.len()));
            let shown: Vec<String> = rows.iter().take(6).map(|r| row_text(r)).collect();
            if !shown.is_empty() {
                s.push_str(&format!(
                    " [{}{}]",
                    shown.join(" "),
                    if rows.len() > 6 { " ..." } else { "" }
                ));
            }
            s.push_str("; ");
        }
        s
    }

    /// The first difference from `other`, for messages.
    pub fn diff(&self, other: &Dump) -> String {
        for ((t, a), (_, b)) in self.0.iter().zip(other.0.iter()) {
            if a != b {
                let extra: Vec<String> = a
                    .iter()
                    .filter(|r| !b.contains(r))
                    .take(4)
                    .map(|r| row_text(r))
                    .collect();
                let missing: Vec<String> = b
                    .iter()
                    .filter(|r| !a.contains(r))
                    .take(4)
                    .map(|r| row_text(r))
                    .collect();
                return format!(
                    "{t}: {} rows vs {}; only here: [{}]; only there: [{}]",
                    a.len(),
                    b.len(),
                    extra.join(" "),
                    missing.join(" ")
                );
            }
        }
        "no difference".into()
    }
}

pub fn row_text(r: &[Val]) -> String {
    let v: Vec<String> = r.iter().map(|x| x.to_string()).collect();
    format!("({})", v.join(","))
}

pub fn dump_query(table: &str) -> String {
    format!("SELECT rowid, * FROM {table} ORDER BY rowid")
}

/// The schema as a dump compares it: every object's type, names and stored SQL (the
/// root page differs between engines). A `main.` prefix stored in `sql`, or a TEMP object
/// made persistent, shows here.
pub const SCHEMA_QUERY: &str = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name";

/// What a dump reads: `(label, query)` for each table, then the schema.
pub fn dump_queries(tables: &[String]) -> Vec<(String, String)> {
    let mut q: Vec<(String, String)> = tables.iter().map(|t| (t.clone(), dump_query(t))).collect();
    q.push(("sqlite_schema".to_string(), SCHEMA_QUERY.to_string()));
    q
}

/// Scratch tables some feature groups create and drop mid-workload (`churn`'s `big`,
/// `alter-column`'s `alt`, `generated`'s `gen`, `without-rowid`'s `wr` and `wrc`, in key
/// order):
/// dumped (all columns, in rowid order) whenever they exist, so
/// that an outcome decided by comparing dumps (a write that failed with an I/O error may
/// or may not have committed) sees their contents too.
pub const SCRATCH_TABLES: &[&str] = &["big", "alt", "alt2", "gen", "spill", "wr", "wrc"];

/// The query telling whether scratch table `name` exists (one row: 0 or 1).
pub fn scratch_exists_query(name: &str) -> String {
    format!("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = '{name}'")
}

pub fn scratch_dump_query(name: &str) -> String {
    if name == "spill" {
        // Its rows are zero blobs of up to a few KiB (the `savepoints` group's scripts),
        // dumped at every commit: their lengths, and whether every byte is still zero.
        return "SELECT x, length(y), y = zeroblob(length(y)) FROM spill ORDER BY rowid".into();
    }
    if name == "wr" {
        // WITHOUT ROWID: no rowid; its key is unique (a total order).
        return "SELECT * FROM wr ORDER BY p, q DESC".into();
    }
    if name == "wrc" {
        return "SELECT * FROM wrc ORDER BY k".into();
    }
    format!("SELECT * FROM {name} ORDER BY rowid")
}

pub fn dump_sqlite(db: &Sqlite, tables: &[String]) -> Result<Dump, String> {
    let mut out = Vec::new();
    for (label, q) in dump_queries(tables) {
        out.push((label, exec(db, &q)?));
    }
    for name in SCRATCH_TABLES {
        let exists = exec(db, &scratch_exists_query(name))?;
        if exists.first().and_then(|r| r.first()) == Some(&Val::Int(1)) {
            out.push((name.to_string(), exec(db, &scratch_dump_query(name))?));
        }
    }
    Ok(Dump(out))
}

/// Compares two result sets: as sequences when the query orders its rows, else as
/// multisets.
pub fn same_rows(a: &Rows, b: &Rows, ordered: bool) -> bool {
    if ordered {
        return a == b;
    }
    let mut a = a.clone();
    let mut b = b.clone();
    a.sort();
    b.sort();
    a == b
}

pub fn rows_text(rows: &Rows) -> String {
    let shown: Vec<String> = rows.iter().take(8).map(|r| row_text(r)).collect();
    format!(
        "{} rows [{}{}]",
        rows.len(),
        shown.join(" "),
        if rows.len() > 8 { " ..." } else { "" }
    )
}

/// Writes the database file and its WAL (as a reader would see them now) to a temporary
/// directory and runs SQLite's `PRAGMA integrity_check` and a dump on the copy. Returns
/// the dump, or what SQLite reported.
///
/// Schema-level damage shows too: SQLite parses every `sqlite_schema.sql` when it loads
/// the schema (the first statement), and refuses the file ("malformed database schema")
/// if one does not parse as it would have stored it (a `main.` prefix, for one: see the
/// test `oracle_sees_schema_damage`); the dump includes the schema rows, so an object
/// that should not be there (a TEMP table made persistent) differs from the model.
pub fn sqlite_check_files(
    db_bytes: &[u8],
    wal_bytes: Option<&[u8]>,
    tables: &[String],
) -> Result<Dump, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let path = dir.path().join("copy.db");
    std::fs::write(&path, db_bytes).map_err(|e| format!("write copy: {e}"))?;
    if let Some(w) = wal_bytes {
        std::fs::write(dir.path().join("copy.db-wal"), w).map_err(|e| format!("write wal: {e}"))?;
    }
    let db = Sqlite::open(&path).map_err(|e| format!("SQLite cannot open the copy: {e}"))?;
    let rows =
        exec(&db, "PRAGMA integrity_check").map_err(|e| format!("SQLite integrity_check: {e}"))?;
    if rows != vec![vec![Val::Text(b"ok".to_vec())]] {
        return Err(format!("SQLite integrity_check: {}", rows_text(&rows)));
    }
    dump_sqlite(&db, tables).map_err(|e| format!("SQLite reading the copy: {e}"))
}
