//! The schema model: tables, indexes and views, built from the rows of `sqlite_schema`
//! by parsing each object's `sql` text exactly as SQLite stores it.

use std::collections::HashMap;
use std::sync::Arc;

use sqlite3_parser::ast::{self, Cmd, ColumnConstraint, CreateTableBody, Stmt, TableConstraint};
use sqlite3_parser::lexer::sql::Parser;
use sqlite3_parser::{Bump, FallibleIterator};
use strata_btree::record::{Collation, KeyInfo, SortOrder};
use strata_vdbe::affinity::{affinity_of_type, Affinity};
use strata_vdbe::insn::{ColumnType, ErrorCode, StrictColumns, MAIN_DB, TEMP_DB};

use crate::names;
use crate::SqlError;

/// How a constraint conflict is resolved (`ON CONFLICT` clause or `INSERT OR ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Conflict {
    Rollback,
    #[default]
    Abort,
    Fail,
    Ignore,
    Replace,
}

impl Conflict {
    pub fn from_ast(r: ast::ResolveType) -> Conflict {
        match r {
            ast::ResolveType::Rollback => Conflict::Rollback,
            ast::ResolveType::Abort => Conflict::Abort,
            ast::ResolveType::Fail => Conflict::Fail,
            ast::ResolveType::Ignore => Conflict::Ignore,
            ast::ResolveType::Replace => Conflict::Replace,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Column {
    pub name: String,
    /// The declared type as written ("" if none).
    pub decl_type: String,
    pub affinity: Affinity,
    pub collation: Collation,
    pub not_null: Option<Conflict>,
    /// The DEFAULT expression as SQL text.
    pub default: Option<String>,
    /// The DEFAULT's value when it is a constant (what rows written before an ALTER TABLE
    /// ADD COLUMN read).
    pub default_value: Option<strata_btree::record::Value>,
    pub primary_key: bool,
    /// A generated column (`AS (expr) [VIRTUAL|STORED]`): see `generated.rs`.
    pub generated: Option<Generated>,
}

/// How a generated column's value is made.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The expression's SQL text (over the table's columns).
    pub expr: String,
    /// STORED: the value is in the record. VIRTUAL (the default): it is not, and is
    /// computed whenever the column is read.
    pub stored: bool,
}

/// A CHECK constraint.
#[derive(Clone, Debug)]
pub struct Check {
    /// The expression as SQL text (what is evaluated).
    pub sql: String,
    /// What "CHECK constraint failed: ..." names: the constraint's name, else the
    /// expression's source text as written (SQLite's sqlite3AddCheckConstraint).
    pub name: String,
}

impl Check {
    /// `name`: the constraint name in force (see `ConstraintName`).
    fn new(e: &ast::Expr<'_>, span: &str, name: &Option<String>) -> Check {
        let sql = e.to_string();
        let name = match name {
            Some(n) => n.clone(),
            // An AST not parsed from text has no span.
            None if span.is_empty() => sql.clone(),
            None => span.to_string(),
        };
        Check { sql, name }
    }
}

/// The constraint name SQLite's parser holds (`pParse->constraintName`): set by
/// `CONSTRAINT nm`, kept for the rest of its column's constraints, cleared when a column
/// starts and at the comma between table constraints, but not between the last column
/// and the first table constraint (which an unnamed CHECK there is then named by). The
/// parser here hands the name to the next constraint only; this follows SQLite's.
#[derive(Default)]
struct ConstraintName(Option<String>);

impl ConstraintName {
    fn see(&mut self, name: Option<&ast::Name<'_>>) -> &Option<String> {
        if let Some(n) = name {
            self.0 = Some(names::unquote(n.0));
        }
        &self.0
    }
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: String,
    pub root_page: u32,
    pub columns: Vec<Column>,
    /// The INTEGER PRIMARY KEY column, which is the rowid.
    pub rowid_alias: Option<usize>,
    pub autoincrement: bool,
    /// CHECK constraints, in declaration order.
    pub checks: Vec<Check>,
    /// Conflict resolution of the PRIMARY KEY (for a rowid alias).
    pub pk_conflict: Conflict,
    /// FOREIGN KEY / REFERENCES clauses, in declaration order.
    pub foreign_keys: Vec<ForeignKey>,
    pub sql: String,
    /// A STRICT table: every column's declared type, checked on every write.
    pub strict: Option<Arc<StrictColumns>>,
    /// The database it lives in (`MAIN_DB` or `TEMP_DB`).
    pub db: usize,
    /// A WITHOUT ROWID table: its rows are the entries of an index B-tree keyed by the
    /// PRIMARY KEY (`without_rowid`).
    pub without_rowid: Option<Arc<crate::without_rowid::WithoutRowid>>,
}

/// A foreign key action (`ON DELETE` / `ON UPDATE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FkAction {
    #[default]
    NoAction,
    Restrict,
    SetNull,
    SetDefault,
    Cascade,
}

impl FkAction {
    /// The name `PRAGMA foreign_key_list` shows.
    pub fn name(self) -> &'static str {
        match self {
            FkAction::NoAction => "NO ACTION",
            FkAction::Restrict => "RESTRICT",
            FkAction::SetNull => "SET NULL",
            FkAction::SetDefault => "SET DEFAULT",
            FkAction::Cascade => "CASCADE",
        }
    }
}

/// One foreign key of a (child) table.
#[derive(Clone, Debug)]
pub struct ForeignKey {
    /// Child columns, in the clause's order.
    pub from: Vec<usize>,
    /// The parent table's name as written (it may not exist).
    pub parent: String,
    /// Parent columns as written; `None` means the parent's PRIMARY KEY.
    pub to: Option<Vec<String>>,
    pub on_delete: FkAction,
    pub on_update: FkAction,
    /// DEFERRABLE INITIALLY DEFERRED.
    pub deferred: bool,
}

impl Table {
    /// Whether column `i` is a VIRTUAL generated column (not in the record).
    pub fn is_virtual(&self, i: usize) -> bool {
        self.columns
            .get(i)
            .and_then(|c| c.generated.as_ref())
            .is_some_and(|g| !g.stored)
    }

    /// The record field of column `i` (SQLite's `sqlite3TableColumnToStorage`): the
    /// record holds every column but the VIRTUAL ones, in table order. `None` for a
    /// VIRTUAL column.
    pub fn storage_index(&self, i: usize) -> Option<usize> {
        if self.is_virtual(i) {
            return None;
        }
        // A WITHOUT ROWID table's record is its PRIMARY KEY index's entry: the key
        // columns first (SQLite's sqlite3TableColumnToIndex).
        if let Some(wr) = &self.without_rowid {
            return wr.storage.iter().position(|&c| c == i);
        }
        Some((0..i).filter(|&j| !self.is_virtual(j)).count())
    }

    /// How many fields a record of this table has (its non-VIRTUAL columns).
    pub fn storage_count(&self) -> usize {
        (0..self.columns.len())
            .filter(|&j| !self.is_virtual(j))
            .count()
    }

    /// Whether any column is generated.
    pub fn has_generated(&self) -> bool {
        self.columns.iter().any(|c| c.generated.is_some())
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| names::eq(&c.name, name))
    }
}

#[derive(Clone, Debug)]
pub struct IndexColumn {
    /// Column of the table ([`EXPR_COLUMN`] for an expression).
    pub column: usize,
    pub collation: Collation,
    pub order: SortOrder,
    /// An index on an expression: its SQL text (over the table's columns).
    pub expr: Option<String>,
}

/// The `column` of an index column that is an expression (never a table column, never
/// the rowid's `usize::MAX`).
pub const EXPR_COLUMN: usize = usize::MAX - 1;

#[derive(Clone, Debug)]
pub struct Index {
    pub name: String,
    pub table: String,
    pub root_page: u32,
    pub columns: Vec<IndexColumn>,
    pub unique: bool,
    pub conflict: Conflict,
    /// Made for a UNIQUE or PRIMARY KEY constraint (`sqlite_autoindex_*`, sql NULL).
    pub auto: bool,
    pub is_primary_key: bool,
    /// A partial index's WHERE clause: only rows it is true for have entries, and the
    /// planner uses the index only when a query's WHERE implies it (`partial_index`).
    pub where_sql: Option<String>,
    /// Position of the index's row in `sqlite_schema` (creation order).
    pub seq: usize,
    /// The database it lives in (its table's).
    pub db: usize,
    /// On a WITHOUT ROWID table, the order of the PRIMARY KEY columns that end each entry
    /// (`without_rowid::key_tail`); empty on a rowid table (the rowid ends them).
    pub key_tail: Vec<(Collation, SortOrder)>,
}

impl Index {
    /// The key order of the index's entries (its columns' collations and directions).
    pub fn key_info(&self) -> Arc<KeyInfo> {
        Arc::new(KeyInfo {
            fields: self
                .columns
                .iter()
                .map(|c| (c.collation, c.order))
                .chain(self.key_tail.iter().copied())
                .collect(),
            ..Default::default()
        })
    }
}

#[derive(Clone, Debug)]
pub struct View {
    pub name: String,
    pub columns: Option<Vec<String>>,
    pub sql: String,
    pub db: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerEventKind {
    Insert,
    Update,
    Delete,
}

#[derive(Clone, Debug)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    /// BEFORE (false) or AFTER (true). INSTEAD OF triggers (on views) are BEFORE
    /// triggers with `instead_of` set, as in SQLite.
    pub after: bool,
    /// An INSTEAD OF trigger: its table is a view.
    pub instead_of: bool,
    pub event: TriggerEventKind,
    /// `UPDATE OF cols`: fires only if one of these columns is assigned.
    pub update_of: Option<Vec<String>>,
    /// The CREATE TRIGGER text: the body is re-parsed where it fires.
    pub sql: String,
    /// The database the trigger lives in.
    pub db: usize,
    /// The database of its table: a TEMP trigger may be on a table of main.
    pub table_db: usize,
}

/// The schema as the compiler sees it. Lookups are case-insensitive.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// The schema cookie (header offset 40) these objects were read at.
    pub cookie: u32,
    /// The database's page size (for `PRAGMA page_size`).
    pub page_size: u32,
    /// The database text encoding (for `PRAGMA encoding`; the VM reads it from the pager
    /// for everything else).
    pub encoding: strata_btree::text_encoding::TextEncoding,
    pub tables: HashMap<String, Arc<Table>>,
    pub indexes: HashMap<String, Arc<Index>>,
    pub views: HashMap<String, Arc<View>>,
    pub triggers: HashMap<String, Arc<Trigger>>,
    /// Index name (lowercase) -> its `sqlite_schema.sql` text (for ALTER TABLE RENAME).
    pub index_sql: HashMap<String, String>,
    /// `sqlite_sequence` exists.
    pub has_sequence: bool,
    /// Which database these objects are in (`MAIN_DB`, or `TEMP_DB` for [`Schema::temp`]).
    pub db: usize,
    /// The connection's temp database (`sqlite_temp_schema`), in the main schema only.
    /// Unqualified names are looked up there first: temp objects shadow main's.
    pub temp: Option<Arc<Schema>>,
    /// The attached databases (`iDb` 2..), in the main schema only: name as written,
    /// schema. Unqualified names are looked up there last, in order of attachment.
    pub attached: Vec<(String, Arc<Schema>)>,
    /// What `PRAGMA database_list` shows as this database's file ("" in memory).
    pub file: String,
    /// The connection has a temp database (`PRAGMA database_list` lists it).
    pub temp_open: bool,
    /// Names of the tables and views in `sqlite_schema` order (SQLite's table hash
    /// iteration order derives from it: `PRAGMA foreign_key_check`).
    pub table_order: Vec<String>,
    /// The main database is in memory (`:memory:`): its file pragmas answer as SQLite's
    /// in-memory database (no mmap, journal mode `memory`, always exclusive locking).
    pub in_memory: bool,
}

/// One row of `sqlite_schema`.
#[derive(Clone, Debug)]
pub struct SchemaRow {
    pub kind: String,
    pub name: String,
    pub tbl_name: String,
    pub root_page: i64,
    pub sql: Option<String>,
}

pub const SCHEMA_TABLE_SQL: &str =
    "CREATE TABLE sqlite_schema(type text,name text,tbl_name text,rootpage int,sql text)";
/// The temp database's schema table (named `sqlite_temp_master` as in SQLite's
/// messages; `sqlite_temp_schema`, and `temp.sqlite_schema`/`temp.sqlite_master`, are
/// aliases).
pub const TEMP_SCHEMA_TABLE_SQL: &str =
    "CREATE TABLE sqlite_temp_master(type text,name text,tbl_name text,rootpage int,sql text)";

fn corrupt(msg: String) -> SqlError {
    SqlError {
        code: ErrorCode::Corrupt,
        message: format!("malformed database schema - {msg}"),
        offset: None,
    }
}

impl Schema {
    /// The schema every database starts with: just `sqlite_schema` on page 1 (and an
    /// empty temp database).
    pub fn bootstrap() -> Schema {
        let mut s = Schema::bootstrap_db(MAIN_DB);
        s.temp = Some(Arc::new(Schema::bootstrap_db(TEMP_DB)));
        s
    }

    /// The schema of one database with nothing but its schema table.
    pub fn bootstrap_db(db: usize) -> Schema {
        let mut s = Schema {
            page_size: 4096,
            db,
            ..Schema::default()
        };
        let (sql, key) = if db == TEMP_DB {
            (TEMP_SCHEMA_TABLE_SQL, "sqlite_temp_master")
        } else {
            (SCHEMA_TABLE_SQL, "sqlite_schema")
        };
        // Parsed once per process: every schema load starts from two bootstrap schemas,
        // and parsing the fixed definition each time was a measurable part of a load.
        static PARSED: [std::sync::OnceLock<Table>; 2] =
            [std::sync::OnceLock::new(), std::sync::OnceLock::new()];
        let slot = &PARSED[usize::from(db == TEMP_DB)];
        let mut t = slot
            .get_or_init(|| parse_table(sql, 1).expect("the sqlite_schema definition parses"))
            .clone();
        t.db = db;
        s.tables.insert(key.into(), Arc::new(t));
        s
    }

    /// The schema of database `db` (main is `self`; temp is [`Schema::temp`]; 2.. the
    /// attached ones).
    pub fn of_db(&self, db: usize) -> &Schema {
        match (db, &self.temp) {
            (TEMP_DB, Some(t)) => t,
            (d, _) if d >= 2 && d - 2 < self.attached.len() => &self.attached[d - 2].1,
            _ => self,
        }
    }

    /// The index of the database a schema name names (`main`, `temp`, an attached
    /// one's; any ASCII case), as SQLite's sqlite3FindDbName.
    pub fn db_index(&self, name: &str) -> Option<usize> {
        if let Some(i) = self
            .attached
            .iter()
            .rposition(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            return Some(i + 2);
        }
        if name.eq_ignore_ascii_case("main") {
            Some(MAIN_DB)
        } else if name.eq_ignore_ascii_case("temp") {
            Some(TEMP_DB)
        } else {
            None
        }
    }

    /// The schema name of database `db` ("main", "temp", or the attached name).
    pub fn db_name(&self, db: usize) -> &str {
        match db {
            MAIN_DB => "main",
            TEMP_DB => "temp",
            d => self.attached.get(d - 2).map_or("main", |(n, _)| n.as_str()),
        }
    }

    /// Every database index of this connection: main, temp, then the attached ones.
    pub fn db_indexes(&self) -> std::ops::Range<usize> {
        0..2 + self.attached.len()
    }

    /// The temp database's schema (empty if the connection has none).
    pub fn temp_schema(&self) -> &Schema {
        self.of_db(TEMP_DB)
    }

    /// Builds the schema of the main database from the rows of `SCHEMA_QUERY` and the
    /// schema cookie (with an empty temp database: see [`Schema::with_temp`]).
    pub fn from_rows(rows: Vec<SchemaRow>, cookie: u32) -> Result<Schema, SqlError> {
        let mut s = Schema::from_rows_db(rows, cookie, MAIN_DB, None)?;
        s.temp = Some(Arc::new(Schema::bootstrap_db(TEMP_DB)));
        Ok(s)
    }

    /// Adds the temp database, built from the rows of its schema table and its cookie.
    /// Temp triggers may be on tables of main, so main is loaded first.
    pub fn with_temp(mut self, rows: Vec<SchemaRow>, cookie: u32) -> Result<Schema, SqlError> {
        let temp = Schema::from_rows_db(rows, cookie, TEMP_DB, Some(&self))?;
        self.temp = Some(Arc::new(temp));
        Ok(self)
    }

    /// One database's schema from its schema table's rows.
    fn from_rows_db(
        rows: Vec<SchemaRow>,
        cookie: u32,
        db: usize,
        main: Option<&Schema>,
    ) -> Result<Schema, SqlError> {
        let mut s = Schema::bootstrap_db(db);
        s.cookie = cookie;
        let mut autoindexes = Vec::new();
        for (seq, row) in rows.iter().enumerate() {
            let root = u32::try_from(row.root_page).unwrap_or(0);
            match row.kind.as_str() {
                "table" => {
                    let sql = row
                        .sql
                        .as_deref()
                        .ok_or_else(|| corrupt(format!("table {} has no sql", row.name)))?;
                    let mut t = parse_table(sql, root)
                        .map_err(|e| corrupt(format!("{}: {}", row.name, e.message)))?;
                    t.db = db;
                    if names::eq(&t.name, "sqlite_sequence") {
                        s.has_sequence = true;
                    }
                    s.table_order.push(t.name.clone());
                    s.tables.insert(names::key(&t.name), Arc::new(t));
                }
                "index" => match row.sql.as_deref() {
                    Some(sql) => {
                        let mut ix = parse_index(sql, root, &s)
                            .map_err(|e| corrupt(format!("{}: {}", row.name, e.message)))?;
                        ix.seq = seq;
                        ix.db = db;
                        s.index_sql.insert(names::key(&ix.name), sql.to_string());
                        s.indexes.insert(names::key(&ix.name), Arc::new(ix));
                    }
                    None => autoindexes.push((seq, row.clone())),
                },
                "trigger" => {
                    let sql = row
                        .sql
                        .as_deref()
                        .ok_or_else(|| corrupt(format!("trigger {} has no sql", row.name)))?;
                    let mut t = parse_trigger(sql)
                        .map_err(|e| corrupt(format!("{}: {}", row.name, e.message)))?;
                    t.db = db;
                    t.table_db = db;
                    // A temp trigger's table: as written (`ON main.t`), else the temp
                    // table of that name if it existed when the trigger was made (rows
                    // are in creation order, so: if an earlier row made it), else
                    // main's. A temp table made later does not capture the trigger.
                    if let (TEMP_DB, Some(main)) = (db, main) {
                        t.table_db = trigger_table_db(&t, &s, main);
                    }
                    s.triggers.insert(names::key(&t.name), Arc::new(t));
                }
                "view" => {
                    let sql = row
                        .sql
                        .as_deref()
                        .ok_or_else(|| corrupt(format!("view {} has no sql", row.name)))?;
                    let mut v = parse_view(sql)
                        .map_err(|e| corrupt(format!("{}: {}", row.name, e.message)))?;
                    v.db = db;
                    s.table_order.push(v.name.clone());
                    s.views.insert(names::key(&v.name), Arc::new(v));
                }
                _ => {}
            }
        }
        // Automatic indexes are numbered in the order of their constraints in the table
        // definition: sqlite_autoindex_<table>_<n>.
        for (seq, row) in autoindexes {
            let table = s
                .tables
                .get(&names::key(&row.tbl_name))
                .cloned()
                .ok_or_else(|| corrupt(format!("no table for index {}", row.name)))?;
            let n: usize = row
                .name
                .rsplit('_')
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| corrupt(format!("bad automatic index name {}", row.name)))?;
            let specs = table_unique_constraints(&table.sql)?;
            let Some(spec) = specs.get(n.wrapping_sub(1)) else {
                return Err(corrupt(format!("no constraint for index {}", row.name)));
            };
            let ix = Index {
                name: row.name.clone(),
                table: table.name.clone(),
                root_page: u32::try_from(row.root_page).unwrap_or(0),
                columns: spec.columns_for(&table)?,
                unique: true,
                conflict: spec.conflict,
                auto: true,
                is_primary_key: spec.primary_key,
                where_sql: None,
                seq,
                db,
                key_tail: Vec::new(),
            };
            let ix = Index {
                key_tail: crate::without_rowid::key_tail(&table, &ix.columns, true),
                ..ix
            };
            s.indexes.insert(names::key(&ix.name), Arc::new(ix));
        }
        Ok(s)
    }

    /// A table by unqualified name: temp's first (a temp table or view shadows main's
    /// objects of that name), then main's. `sqlite_schema`/`sqlite_master` are main's,
    /// `sqlite_temp_schema`/`sqlite_temp_master` temp's.
    pub fn table(&self, name: &str) -> Option<&Arc<Table>> {
        if let Some(temp) = self.temp.as_deref() {
            let k = name.to_ascii_lowercase();
            if !matches!(k.as_str(), "sqlite_schema" | "sqlite_master") {
                if let Some(t) = temp.local_table(&k) {
                    return Some(t);
                }
                if temp.views.contains_key(&k) {
                    return None;
                }
            }
        }
        if let Some(t) = self.local_table(name) {
            return Some(t);
        }
        if self.views.contains_key(&name.to_ascii_lowercase()) {
            return None;
        }
        for (_, a) in &self.attached {
            if let Some(t) = a.local_table(name) {
                return Some(t);
            }
            if a.views.contains_key(&name.to_ascii_lowercase()) {
                return None;
            }
        }
        None
    }

    /// A table of this database only (`main.t`, `temp.t`).
    pub fn local_table(&self, name: &str) -> Option<&Arc<Table>> {
        let k = name.to_ascii_lowercase();
        if let Some(t) = self.tables.get(&k) {
            return Some(t);
        }
        let alias = match (self.db, k.as_str()) {
            (d, "sqlite_master") if d != TEMP_DB => "sqlite_schema",
            (TEMP_DB, "sqlite_schema" | "sqlite_master" | "sqlite_temp_schema") => {
                "sqlite_temp_master"
            }
            _ => return None,
        };
        self.tables.get(alias)
    }

    /// A view by unqualified name: temp's first, unless temp has a table of that name.
    pub fn view(&self, name: &str) -> Option<&Arc<View>> {
        let k = name.to_ascii_lowercase();
        if let Some(temp) = self.temp.as_deref() {
            if let Some(v) = temp.views.get(&k) {
                return Some(v);
            }
            if temp.local_table(&k).is_some()
                && !matches!(k.as_str(), "sqlite_schema" | "sqlite_master")
            {
                return None;
            }
        }
        if let Some(v) = self.views.get(&k) {
            return Some(v);
        }
        if self.local_table(&k).is_some() {
            return None;
        }
        for (_, a) in &self.attached {
            if let Some(v) = a.views.get(&k) {
                return Some(v);
            }
            if a.local_table(&k).is_some() {
                return None;
            }
        }
        None
    }

    /// A view of this database only.
    pub fn local_view(&self, name: &str) -> Option<&Arc<View>> {
        self.views.get(&name.to_ascii_lowercase())
    }

    /// An index by unqualified name: temp's first, then main's.
    pub fn index(&self, name: &str) -> Option<&Arc<Index>> {
        let k = name.to_ascii_lowercase();
        if let Some(ix) = self.temp.as_deref().and_then(|t| t.indexes.get(&k)) {
            return Some(ix);
        }
        self.indexes
            .get(&k)
            .or_else(|| self.attached.iter().find_map(|(_, a)| a.indexes.get(&k)))
    }

    /// An index of this database only.
    pub fn local_index(&self, name: &str) -> Option<&Arc<Index>> {
        self.indexes.get(&name.to_ascii_lowercase())
    }

    /// A trigger by unqualified name: temp's first, then main's.
    pub fn trigger(&self, name: &str) -> Option<&Arc<Trigger>> {
        let k = name.to_ascii_lowercase();
        if let Some(t) = self.temp.as_deref().and_then(|t| t.triggers.get(&k)) {
            return Some(t);
        }
        self.triggers
            .get(&k)
            .or_else(|| self.attached.iter().find_map(|(_, a)| a.triggers.get(&k)))
    }

    /// Every trigger of main, temp and the attached databases.
    pub fn all_triggers(&self) -> impl Iterator<Item = &Arc<Trigger>> {
        self.triggers
            .values()
            .chain(self.temp.iter().flat_map(|t| t.triggers.values()))
            .chain(self.attached.iter().flat_map(|(_, a)| a.triggers.values()))
    }

    /// Adds an attached database, built from the rows of its schema table, its cookie
    /// and its index `db`.
    pub fn with_attached(
        mut self,
        name: String,
        file: String,
        db: usize,
        rows: Vec<SchemaRow>,
        cookie: u32,
    ) -> Result<Schema, SqlError> {
        let mut s = Schema::from_rows_db(rows, cookie, db, None)?;
        s.file = file;
        self.attached.push((name, Arc::new(s)));
        Ok(self)
    }

    /// The indexes of a table (in its database), in a stable order (creation, name).
    pub fn table_indexes(&self, table: &Table) -> Vec<Arc<Index>> {
        let s = self.of_db(table.db);
        let mut v: Vec<Arc<Index>> = s
            .indexes
            .values()
            .filter(|i| names::eq(&i.table, &table.name))
            .cloned()
            .collect();
        v.sort_by(|a, b| a.seq.cmp(&b.seq).then_with(|| a.name.cmp(&b.name)));
        v
    }
}

/// The database of a temp trigger's table: as qualified in its text, else temp if temp
/// has the table, else main.
fn trigger_table_db(t: &Trigger, temp: &Schema, main: &Schema) -> usize {
    let written = with_parsed(&t.sql, |stmt| match stmt {
        Stmt::CreateTrigger { tbl_name, .. } => {
            Ok(names::DbName::of(tbl_name.db_name.as_ref().map(|n| n.0)))
        }
        _ => Ok(None),
    })
    .ok()
    .flatten();
    match written {
        Some(names::DbName::Main) => MAIN_DB,
        Some(names::DbName::Temp) => TEMP_DB,
        // An attached database's table (`ON aux.t`): the schema loader adds the
        // attached databases before temp. Once aux is detached, the trigger is on temp's
        // table of that name, as SQLite's detachFunc moves it (so it fires no more
        // unless temp gets such a table).
        Some(names::DbName::Unknown(n)) => main.db_index(&n).unwrap_or(TEMP_DB),
        _ if temp.local_table(&t.table).is_some() || temp.local_view(&t.table).is_some() => TEMP_DB,
        _ if main.local_table(&t.table).is_some() || main.local_view(&t.table).is_some() => MAIN_DB,
        _ => TEMP_DB,
    }
}

pub(crate) fn err(message: impl Into<String>) -> SqlError {
    SqlError {
        code: ErrorCode::Error,
        message: message.into(),
        offset: None,
    }
}

/// Parses one statement (for schema text).
pub(crate) fn with_parsed<T>(
    sql: &str,
    f: impl FnOnce(&Stmt<'_>) -> Result<T, SqlError>,
) -> Result<T, SqlError> {
    let bump = Bump::new();
    let mut p = Parser::new(&bump, sql.as_bytes());
    let r = match crate::parse_guard::guard_parser(|| p.next())? {
        Ok(Some(Cmd::Stmt(stmt))) => f(&stmt),
        Ok(_) => Err(err("not a statement")),
        Err(e) => Err(err(e.to_string())),
    };
    r
}

/// A UNIQUE or PRIMARY KEY constraint that needs an automatic index.
pub(crate) struct UniqueSpec {
    pub columns: Vec<(String, Option<String>, SortOrder)>,
    pub conflict: Conflict,
    pub primary_key: bool,
}

impl UniqueSpec {
    pub fn columns_for(&self, table: &Table) -> Result<Vec<IndexColumn>, SqlError> {
        self.columns
            .iter()
            .map(|(name, coll, order)| {
                let column = table
                    .column_index(name)
                    .ok_or_else(|| err(format!("no such column: {name}")))?;
                let collation = match coll {
                    Some(c) => Collation::from_name(c)
                        .ok_or_else(|| err(format!("no such collation sequence: {c}")))?,
                    None => table.columns[column].collation,
                };
                Ok(IndexColumn {
                    column,
                    collation,
                    order: *order,
                    expr: None,
                })
            })
            .collect()
    }
}

fn sort_order(o: Option<ast::SortOrder>) -> SortOrder {
    match o {
        Some(ast::SortOrder::Desc) => SortOrder::Desc,
        _ => SortOrder::Asc,
    }
}

/// The name of a plain column in an indexed-column expression (`a`, `"a"`, `a COLLATE x`).
pub(crate) fn indexed_column_name(e: &ast::Expr<'_>) -> Option<(String, Option<String>)> {
    match e {
        ast::Expr::Id(id) => Some((names::unquote(id.0), None)),
        ast::Expr::Name(n) => Some((names::unquote(n.0), None)),
        ast::Expr::Literal(ast::Literal::String(s)) => Some((names::unquote(s), None)),
        ast::Expr::Collate(inner, coll) => {
            let (n, _) = indexed_column_name(inner)?;
            Some((n, Some(names::unquote(coll))))
        }
        // `(a)` is the column a (SQLite's parser keeps no node for parentheses).
        ast::Expr::Parenthesized(v) if v.len() == 1 => indexed_column_name(&v[0]),
        _ => None,
    }
}

/// The constraints of a CREATE TABLE that get automatic indexes, in SQLite's numbering
/// order (column constraints in column order, then table constraints). A PRIMARY KEY
/// that is the rowid (single INTEGER column) gets none.
pub(crate) fn table_unique_constraints(sql: &str) -> Result<Vec<UniqueSpec>, SqlError> {
    with_parsed(sql, |stmt| {
        let Stmt::CreateTable { body, .. } = stmt else {
            return Err(err("not a CREATE TABLE"));
        };
        let CreateTableBody::ColumnsAndConstraints {
            columns,
            constraints,
            ..
        } = body
        else {
            return Ok(Vec::new());
        };
        let mut out: Vec<UniqueSpec> = Vec::new();
        let rowid_pk = rowid_alias_of(body);
        for (i, col) in columns.iter().enumerate() {
            let name = names::unquote(col.col_name.0);
            for c in col.constraints.iter() {
                match &c.constraint {
                    ColumnConstraint::PrimaryKey {
                        order,
                        conflict_clause,
                        ..
                    } => {
                        if rowid_pk != Some(i) {
                            out.push(UniqueSpec {
                                columns: vec![(name.clone(), None, sort_order(*order))],
                                conflict: conflict_clause
                                    .map(Conflict::from_ast)
                                    .unwrap_or_default(),
                                primary_key: true,
                            });
                        }
                    }
                    ColumnConstraint::Unique(conflict) => out.push(UniqueSpec {
                        columns: vec![(name.clone(), None, SortOrder::Asc)],
                        conflict: conflict.map(Conflict::from_ast).unwrap_or_default(),
                        primary_key: false,
                    }),
                    _ => {}
                }
            }
        }
        for c in constraints.iter().flat_map(|c| c.iter()) {
            let (cols, conflict, pk) = match &c.constraint {
                TableConstraint::PrimaryKey {
                    columns,
                    conflict_clause,
                    ..
                } => {
                    if rowid_pk.is_some() && columns.len() == 1 {
                        continue;
                    }
                    (columns, conflict_clause, true)
                }
                TableConstraint::Unique {
                    columns,
                    conflict_clause,
                } => (columns, conflict_clause, false),
                _ => continue,
            };
            let mut spec_cols = Vec::new();
            for sc in cols.iter() {
                let (n, coll) = indexed_column_name(&sc.expr).ok_or_else(|| {
                    err("expressions prohibited in PRIMARY KEY and UNIQUE constraints")
                })?;
                spec_cols.push((n, coll, sort_order(sc.order)));
            }
            // SQLite drops a UNIQUE constraint identical to an earlier one.
            let dup = out.iter().any(|o| {
                o.columns.len() == spec_cols.len()
                    && o.columns
                        .iter()
                        .zip(&spec_cols)
                        .all(|(a, b)| names::eq(&a.0, &b.0))
            });
            if dup && !pk {
                continue;
            }
            out.push(UniqueSpec {
                columns: spec_cols,
                conflict: conflict.map(Conflict::from_ast).unwrap_or_default(),
                primary_key: pk,
            });
        }
        Ok(out)
    })
}

/// The column that is the rowid alias: a PRIMARY KEY on one column whose declared type is
/// exactly "INTEGER" (any case), not DESC on a column constraint.
fn rowid_alias_of(body: &CreateTableBody<'_>) -> Option<usize> {
    let CreateTableBody::ColumnsAndConstraints {
        columns,
        constraints,
        flags,
    } = body
    else {
        return None;
    };
    // A WITHOUT ROWID table has no rowid to alias: its INTEGER PRIMARY KEY is a key.
    if flags.contains(ast::TabFlags::WithoutRowid) {
        return None;
    }
    let is_integer = |i: usize| {
        columns[i]
            .col_type
            .as_ref()
            .map(|t| names::unquote(t.name).eq_ignore_ascii_case("integer"))
            .unwrap_or(false)
    };
    for (i, col) in columns.iter().enumerate() {
        for c in col.constraints.iter() {
            if let ColumnConstraint::PrimaryKey { order, .. } = &c.constraint {
                if is_integer(i) && *order != Some(ast::SortOrder::Desc) {
                    return Some(i);
                }
                return None;
            }
        }
    }
    for c in constraints.iter().flat_map(|c| c.iter()) {
        if let TableConstraint::PrimaryKey { columns: pk, .. } = &c.constraint {
            if pk.len() == 1 {
                let (n, _) = indexed_column_name(&pk[0].expr)?;
                let i = columns
                    .iter()
                    .position(|c| names::eq(&names::unquote(c.col_name.0), &n))?;
                if is_integer(i) {
                    return Some(i);
                }
            }
            return None;
        }
    }
    None
}

pub(crate) fn parse_table(sql: &str, root_page: u32) -> Result<Table, SqlError> {
    with_parsed(sql, |stmt| {
        if let Stmt::CreateVirtualTable { .. } = stmt {
            return Err(err("virtual tables are not supported"));
        }
        let Stmt::CreateTable { tbl_name, body, .. } = stmt else {
            return Err(err("not a CREATE TABLE"));
        };
        table_from_ast(&names::unquote(tbl_name.name.0), body, root_page, sql)
    })
}

const GENERATED_PK: &str = "generated columns cannot be part of the PRIMARY KEY";

/// A generated column's expression as stored in [`Generated::expr`]: the inside of its
/// parentheses, re-rendered.
fn generated_text(e: &ast::Expr<'_>) -> String {
    match e {
        ast::Expr::Parenthesized(v) if v.len() == 1 => v[0].to_string(),
        e => e.to_string(),
    }
}

fn more_than_one_pk(table: &str) -> SqlError {
    err(format!("table \"{table}\" has more than one primary key"))
}

pub(crate) fn table_from_ast(
    name: &str,
    body: &CreateTableBody<'_>,
    root_page: u32,
    sql: &str,
) -> Result<Table, SqlError> {
    let CreateTableBody::ColumnsAndConstraints {
        columns,
        constraints,
        flags,
    } = body
    else {
        return Err(err(
            "CREATE TABLE ... AS SELECT is resolved before the schema",
        ));
    };
    let without_rowid = flags.contains(ast::TabFlags::WithoutRowid);
    let mut cols: Vec<Column> = Vec::new();
    let mut checks = Vec::new();
    let mut autoincrement = false;
    let mut pk_conflict = Conflict::Abort;
    let mut foreign_keys = Vec::new();
    // SQLite's sqlite3AddPrimaryKey refuses a second PRIMARY KEY where it meets it.
    let mut has_pk = false;
    let mut constraint_name = ConstraintName::default();
    for (col_index, col) in columns.iter().enumerate() {
        constraint_name = ConstraintName::default();
        let cname = names::unquote(col.col_name.0);
        if cols.iter().any(|c| names::eq(&c.name, &cname)) {
            return Err(err(format!("duplicate column name: {cname}")));
        }
        let decl_type = col
            .col_type
            .as_ref()
            .map(|t| {
                let mut s = t.name.to_string();
                match &t.size {
                    Some(ast::TypeSize::MaxSize(e)) => s.push_str(&format!("({e})")),
                    Some(ast::TypeSize::TypeSize(a, b)) => s.push_str(&format!("({a},{b})")),
                    None => {}
                }
                // SQLite keeps the six standard type names (ANY, BLOB, INT, INTEGER, REAL,
                // TEXT, written alone) as a code and reports them in upper case
                // (`PRAGMA table_info`, declared types of result columns).
                const STD_TYPES: [&str; 6] = ["ANY", "BLOB", "INT", "INTEGER", "REAL", "TEXT"];
                match STD_TYPES.iter().find(|t| t.eq_ignore_ascii_case(&s)) {
                    Some(t) => t.to_string(),
                    None => s,
                }
            })
            .unwrap_or_default();
        let mut c = Column {
            name: cname,
            affinity: affinity_of_type(decl_type.as_bytes()),
            decl_type,
            collation: Collation::Binary,
            not_null: None,
            default: None,
            default_value: None,
            primary_key: false,
            generated: None,
        };
        let gen_error = || {
            err(format!(
                "error in generated column \"{}\"",
                names::unquote(col.col_name.0)
            ))
        };
        for cc in col.constraints.iter() {
            let in_force = constraint_name.see(cc.name.as_ref()).clone();
            match &cc.constraint {
                ColumnConstraint::PrimaryKey {
                    auto_increment,
                    conflict_clause,
                    ..
                } => {
                    if has_pk {
                        return Err(more_than_one_pk(name));
                    }
                    if c.generated.is_some() {
                        return Err(err(GENERATED_PK));
                    }
                    has_pk = true;
                    c.primary_key = true;
                    autoincrement |= *auto_increment;
                    pk_conflict = conflict_clause.map(Conflict::from_ast).unwrap_or_default();
                }
                ColumnConstraint::NotNull {
                    nullable,
                    conflict_clause,
                } => {
                    if !nullable {
                        c.not_null =
                            Some(conflict_clause.map(Conflict::from_ast).unwrap_or_default());
                    }
                }
                ColumnConstraint::Default(_) if c.generated.is_some() => {
                    return Err(err("cannot use DEFAULT on a generated column"));
                }
                ColumnConstraint::Default(e) => {
                    // SQLite keeps the text inside `DEFAULT (expr)`'s parentheses (what
                    // `PRAGMA table_info` shows as dflt_value).
                    c.default = Some(default_text(e));
                    // Rows written before an ADD COLUMN read this value with the column's
                    // affinity applied, as SQLite's OP_Column default (`DEFAULT 12` in a
                    // TEXT column reads as '12').
                    c.default_value = crate::alter::constant_default(e)
                        .map(|v| strata_vdbe::affinity::apply_affinity(v, c.affinity));
                }
                ColumnConstraint::Check(e, span) => checks.push(Check::new(e, span, &in_force)),
                ColumnConstraint::Collate { collation_name } => {
                    let n = names::unquote(collation_name.0);
                    c.collation = Collation::from_name(&n)
                        .ok_or_else(|| err(format!("no such collation sequence: {n}")))?;
                }
                ColumnConstraint::Generated { expr, typ } => {
                    // SQLite's sqlite3AddGenerated: a second AS, a DEFAULT before it or
                    // a kind other than VIRTUAL/STORED is one error.
                    if c.generated.is_some() || c.default.is_some() {
                        return Err(gen_error());
                    }
                    let stored = match typ {
                        None => false,
                        Some(id) if id.0.eq_ignore_ascii_case("virtual") => false,
                        Some(id) if id.0.eq_ignore_ascii_case("stored") => true,
                        Some(_) => return Err(gen_error()),
                    };
                    if c.primary_key {
                        return Err(err(GENERATED_PK));
                    }
                    c.generated = Some(Generated {
                        expr: generated_text(expr),
                        stored,
                    });
                }
                ColumnConstraint::ForeignKey {
                    clause,
                    defer_clause,
                } => {
                    if let Some(to) = clause.columns {
                        if to.len() != 1 {
                            return Err(err(format!(
                                "foreign key on {} should reference only one column of table {}",
                                c.name,
                                names::unquote(clause.tbl_name.0)
                            )));
                        }
                    }
                    foreign_keys.push(foreign_key(vec![col_index], clause, defer_clause.as_ref()));
                }
                ColumnConstraint::Defer(d) => {
                    // A DEFERRABLE clause standing alone applies to the last REFERENCES.
                    if let Some(fk) = foreign_keys.last_mut() {
                        fk.deferred = is_deferred(Some(d));
                    }
                }
                _ => {}
            }
        }
        cols.push(c);
    }
    for (k, tc) in constraints.iter().flat_map(|c| c.iter()).enumerate() {
        if k > 0 {
            // (SQLite clears it at the comma; constraints written without one keep it,
            // which the parsed list does not tell apart.)
            constraint_name = ConstraintName::default();
        }
        let in_force = constraint_name.see(tc.name.as_ref()).clone();
        match &tc.constraint {
            TableConstraint::PrimaryKey {
                columns: pk,
                auto_increment,
                conflict_clause,
            } => {
                if has_pk {
                    return Err(more_than_one_pk(name));
                }
                has_pk = true;
                autoincrement |= *auto_increment;
                pk_conflict = conflict_clause.map(Conflict::from_ast).unwrap_or_default();
                for sc in pk.iter() {
                    if let Some((n, _)) = indexed_column_name(&sc.expr) {
                        match cols.iter_mut().find(|c| names::eq(&c.name, &n)) {
                            Some(c) if c.generated.is_some() => return Err(err(GENERATED_PK)),
                            Some(c) => c.primary_key = true,
                            None => return Err(err(format!("no such column: {n}"))),
                        }
                    }
                }
            }
            TableConstraint::Check(e, _, span) => checks.push(Check::new(e, span, &in_force)),
            TableConstraint::ForeignKey {
                columns: from,
                clause,
                defer_clause,
            } => {
                if let Some(to) = clause.columns {
                    if to.len() != from.len() {
                        return Err(err("number of columns in foreign key does not match the number of columns in the referenced table"));
                    }
                }
                let mut idx = Vec::new();
                for ic in from.iter() {
                    let n = names::unquote(ic.col_name.0);
                    let i = cols
                        .iter()
                        .position(|c| names::eq(&c.name, &n))
                        .ok_or_else(|| {
                            err(format!("unknown column \"{n}\" in foreign key definition"))
                        })?;
                    idx.push(i);
                }
                foreign_keys.push(foreign_key(idx, clause, defer_clause.as_ref()));
            }
            _ => {}
        }
    }
    if cols.iter().all(|c| c.generated.is_some()) {
        return Err(err("must have at least one non-generated column"));
    }
    let rowid_alias = rowid_alias_of(body);
    if without_rowid {
        // SQLite's convertToWithoutRowidTable and sqlite3EndTable, in their order.
        if autoincrement {
            return Err(err("AUTOINCREMENT not allowed on WITHOUT ROWID tables"));
        }
        if !has_pk {
            return Err(err(format!("PRIMARY KEY missing on table {name}")));
        }
    }
    if autoincrement && rowid_alias.is_none() {
        return Err(err(
            "AUTOINCREMENT is only allowed on an INTEGER PRIMARY KEY",
        ));
    }
    let strict = if flags.contains(ast::TabFlags::Strict) {
        Some(Arc::new(strict_columns(name, &mut cols, rowid_alias)?))
    } else {
        None
    };
    let mut table = Table {
        name: name.to_string(),
        root_page,
        columns: cols,
        rowid_alias,
        autoincrement,
        checks,
        pk_conflict,
        foreign_keys,
        sql: sql.to_string(),
        strict,
        db: MAIN_DB,
        without_rowid: None,
    };
    if without_rowid {
        crate::without_rowid::convert(&mut table)?;
    }
    Ok(table)
}

/// A column DEFAULT's text as `PRAGMA table_info` shows it (SQLite keeps the text as
/// written; ours is re-rendered from the syntax tree): the inside of `DEFAULT (expr)`, and
/// a signed number without the space the renderer puts after the sign (`-3`, not `- 3`).
fn default_text(e: &ast::Expr<'_>) -> String {
    let signed = |e: &ast::Expr<'_>| match e {
        ast::Expr::Unary(op, inner) => match (op, &**inner) {
            (ast::UnaryOperator::Negative, ast::Expr::Literal(ast::Literal::Numeric(n))) => {
                format!("-{n}")
            }
            (ast::UnaryOperator::Positive, ast::Expr::Literal(ast::Literal::Numeric(n))) => {
                format!("+{n}")
            }
            _ => e.to_string(),
        },
        _ => e.to_string(),
    };
    match e {
        ast::Expr::Parenthesized(v) if v.len() == 1 => signed(&v[0]),
        _ => signed(e),
    }
}

/// A STRICT table's column types, as SQLite checks them at CREATE: every column needs
/// one of INT, INTEGER, REAL, TEXT, BLOB, ANY (no size). ANY columns get no affinity (a
/// value is stored as given); the others keep the affinity their type name gives.
fn strict_columns(
    table: &str,
    cols: &mut [Column],
    rowid_alias: Option<usize>,
) -> Result<StrictColumns, SqlError> {
    let mut columns = Vec::with_capacity(cols.len());
    for (i, c) in cols.iter_mut().enumerate() {
        if c.decl_type.is_empty() {
            return Err(err(format!("missing datatype for {table}.{}", c.name)));
        }
        let ty = ColumnType::from_decl(&c.decl_type).ok_or_else(|| {
            err(format!(
                "unknown datatype for {table}.{}: \"{}\"",
                c.name, c.decl_type
            ))
        })?;
        if ty == ColumnType::Any {
            c.affinity = Affinity::Blob;
        }
        // The INTEGER PRIMARY KEY's register holds the rowid (always an integer). A
        // generated column's value is not checked on write, as SQLite's OP_TypeCheck.
        let checked = rowid_alias != Some(i) && c.generated.is_none();
        columns.push((c.name.clone(), checked.then_some(ty)));
    }
    Ok(StrictColumns {
        table: table.to_string(),
        columns,
    })
}

/// DEFERRABLE INITIALLY DEFERRED (anything else is immediate, as in SQLite).
fn is_deferred(d: Option<&ast::DeferSubclause>) -> bool {
    matches!(
        d,
        Some(ast::DeferSubclause {
            deferrable: true,
            init_deferred: Some(ast::InitDeferredPred::InitiallyDeferred),
        })
    )
}

fn foreign_key(
    from: Vec<usize>,
    clause: &ast::ForeignKeyClause<'_>,
    defer: Option<&ast::DeferSubclause>,
) -> ForeignKey {
    let action = |a: ast::RefAct| match a {
        ast::RefAct::SetNull => FkAction::SetNull,
        ast::RefAct::SetDefault => FkAction::SetDefault,
        ast::RefAct::Cascade => FkAction::Cascade,
        ast::RefAct::Restrict => FkAction::Restrict,
        ast::RefAct::NoAction => FkAction::NoAction,
    };
    let mut fk = ForeignKey {
        from,
        parent: names::unquote(clause.tbl_name.0),
        to: clause
            .columns
            .map(|cs| cs.iter().map(|c| names::unquote(c.col_name.0)).collect()),
        on_delete: FkAction::NoAction,
        on_update: FkAction::NoAction,
        deferred: is_deferred(defer),
    };
    for arg in clause.args.iter() {
        match arg {
            ast::RefArg::OnDelete(a) => fk.on_delete = action(*a),
            ast::RefArg::OnUpdate(a) => fk.on_update = action(*a),
            // ON INSERT and MATCH are parsed and ignored, as in SQLite.
            _ => {}
        }
    }
    fk
}

pub(crate) fn parse_index(sql: &str, root_page: u32, schema: &Schema) -> Result<Index, SqlError> {
    with_parsed(sql, |stmt| {
        let Stmt::CreateIndex {
            unique,
            idx_name,
            tbl_name,
            columns,
            where_clause,
            ..
        } = stmt
        else {
            return Err(err("not a CREATE INDEX"));
        };
        let tname = names::unquote(tbl_name.0);
        let table = schema
            .table(&tname)
            .ok_or_else(|| err(format!("no such table: {tname}")))?;
        index_from_ast(
            &names::unquote(idx_name.name.0),
            table,
            *unique,
            columns,
            where_clause.as_ref(),
            root_page,
        )
    })
}

pub(crate) fn index_from_ast(
    name: &str,
    table: &Table,
    unique: bool,
    columns: &[ast::SortedColumn<'_>],
    where_clause: Option<&ast::Expr<'_>>,
    root_page: u32,
) -> Result<Index, SqlError> {
    let mut cols = Vec::new();
    for sc in columns {
        let Some((n, coll)) = indexed_column_name(&sc.expr) else {
            cols.push(crate::expr_index::expr_column(
                table,
                &sc.expr,
                sort_order(sc.order),
            )?);
            continue;
        };
        let column = table
            .column_index(&n)
            .ok_or_else(|| err(format!("no such column: {n}")))?;
        let collation = match coll {
            Some(c) => Collation::from_name(&c)
                .ok_or_else(|| err(format!("no such collation sequence: {c}")))?,
            None => table.columns[column].collation,
        };
        cols.push(IndexColumn {
            column,
            collation,
            order: sort_order(sc.order),
            expr: None,
        });
    }
    let key_tail = crate::without_rowid::key_tail(table, &cols, false);
    Ok(Index {
        name: name.to_string(),
        table: table.name.clone(),
        root_page,
        columns: cols,
        unique,
        conflict: Conflict::Abort,
        auto: false,
        is_primary_key: false,
        where_sql: where_clause.map(|w| w.to_string()),
        seq: usize::MAX,
        db: table.db,
        key_tail,
    })
}

pub(crate) fn parse_view(sql: &str) -> Result<View, SqlError> {
    with_parsed(sql, |stmt| {
        let Stmt::CreateView {
            view_name, columns, ..
        } = stmt
        else {
            return Err(err("not a CREATE VIEW"));
        };
        Ok(View {
            name: names::unquote(view_name.name.0),
            columns: columns.map(|cs| cs.iter().map(|c| names::unquote(c.col_name.0)).collect()),
            sql: sql.to_string(),
            db: MAIN_DB,
        })
    })
}

pub(crate) fn parse_trigger(sql: &str) -> Result<Trigger, SqlError> {
    with_parsed(sql, |stmt| {
        let Stmt::CreateTrigger {
            trigger_name,
            time,
            event,
            tbl_name,
            ..
        } = stmt
        else {
            return Err(err("not a CREATE TRIGGER"));
        };
        trigger_from_ast(trigger_name, *time, event, tbl_name, sql)
    })
}

pub(crate) fn trigger_from_ast(
    trigger_name: &ast::QualifiedName<'_>,
    time: Option<ast::TriggerTime>,
    event: &ast::TriggerEvent<'_>,
    tbl_name: &ast::QualifiedName<'_>,
    sql: &str,
) -> Result<Trigger, SqlError> {
    let after = matches!(time, Some(ast::TriggerTime::After));
    let instead_of = matches!(time, Some(ast::TriggerTime::InsteadOf));
    let (event, update_of) = match event {
        ast::TriggerEvent::Insert => (TriggerEventKind::Insert, None),
        ast::TriggerEvent::Delete => (TriggerEventKind::Delete, None),
        ast::TriggerEvent::Update => (TriggerEventKind::Update, None),
        ast::TriggerEvent::UpdateOf(cols) => (
            TriggerEventKind::Update,
            Some(cols.iter().map(|c| names::unquote(c.0)).collect()),
        ),
    };
    Ok(Trigger {
        name: names::unquote(trigger_name.name.0),
        table: names::unquote(tbl_name.name.0),
        after,
        instead_of,
        event,
        update_of,
        sql: sql.to_string(),
        db: MAIN_DB,
        table_db: MAIN_DB,
    })
}
