//! ALTER TABLE RENAME COLUMN and DROP COLUMN, as SQLite 3.46 does them.
//!
//! RENAME COLUMN edits the stored SQL of every schema object that names the column (the
//! table, its indexes, views, triggers, and other tables' `REFERENCES t(col)`), keeping
//! the original text and replacing only the name tokens (`alter_tokens`). DROP COLUMN
//! refuses what SQLite refuses (PRIMARY KEY / UNIQUE columns, the only column, and any
//! object that would no longer resolve: "error in <type> <name> after drop column: ..."),
//! removes the column definition from the CREATE TABLE text the way `sqlite_drop_column`
//! does, and rewrites every row without the column.

use std::sync::Arc;

use sqlite3_parser::ast::Name;
use strata_btree::record::Collation;
use strata_vdbe::insn::{Cur, CursorKind, ErrorCode, InsertFlags, Insn, TEMP_DB};
use strata_vdbe::ops::Cmp;

use crate::alter_tokens::{self as tk, Refs, Toks};
use crate::compiler::{error, Compiler, Result};
use crate::names;
use crate::schema::Table;

/// A schema row to rewrite: (type, name, tbl_name, new sql).
type Rewrite = (String, String, String, String);

/// A dependent object's verdict on a column: its reference tokens (each flagged true
/// when it is an expression, which DROP COLUMN refuses), or why it cannot be resolved.
struct ObjectRefs {
    kind: &'static str,
    name: String,
    tbl_name: String,
    db: usize,
    sql: String,
    refs: std::result::Result<Found, String>,
}

/// References (token, is an expression) and double-quoted strings (tokens).
type Found = (Vec<(usize, bool)>, Vec<usize>);

fn sqlite_named(name: &str) -> bool {
    name.len() >= 7 && name[..7].eq_ignore_ascii_case("sqlite_")
}

impl Compiler<'_> {
    /// SQLite tests the whole schema before an edit: a view or trigger of the table's
    /// database naming a table that no longer exists fails the ALTER ("error in view v:
    /// no such table: main.x"), raised here in `sqlite_schema` order. True if raised.
    pub(crate) fn broken_dependents(&mut self, table: &Table) -> bool {
        let s = self.schema.of_db(table.db);
        let db_name = if table.db == TEMP_DB { "temp" } else { "main" };
        let mut objects: Vec<(&'static str, String, String)> = Vec::new();
        objects.extend(
            s.views
                .values()
                .map(|v| ("view", v.name.clone(), v.sql.clone())),
        );
        objects.extend(
            s.triggers
                .values()
                .map(|t| ("trigger", t.name.clone(), t.sql.clone())),
        );
        let mut errors = Vec::new();
        for (kind, name, sql) in objects {
            let Some(k) = Toks::new(&sql) else { continue };
            let parts = if kind == "view" {
                tk::view_parts(&k)
            } else {
                tk::trigger_parts(&k)
            };
            let Some(parts) = parts else { continue };
            let none = |_: &str, _: &str| Some(false);
            let missing = parts.statements.iter().find_map(|&range| {
                match tk::statement_refs(&k, range, "", "", parts.on_table.as_deref(), &none) {
                    Refs::Found(_, _, tables) => tables.into_iter().find(|t| {
                        self.schema.table(t).is_none()
                            && self.schema.view(t).is_none()
                            && !sqlite_named(t)
                            // A keyword is the token walk misreading syntax it does not
                            // know, not a table: no error on its word.
                            && sqlite3_parser::dialect::keyword_token(t.as_bytes()).is_none()
                    }),
                    Refs::Unsure(_) => None,
                }
            });
            if let Some(t) = missing {
                errors.push((
                    table.db,
                    kind.to_string(),
                    name.clone(),
                    format!("error in {kind} {name}: no such table: {db_name}.{t}"),
                ));
            } else if kind == "view" {
                // A view is resolved where it is used, so it may name a missing column
                // or function too: SQLite's test resolves it whole.
                if let Some(v) = s.local_view(&name) {
                    if let Err(e) = self.view_columns(v) {
                        errors.push((
                            table.db,
                            kind.to_string(),
                            name.clone(),
                            format!("error in view {name}: {}", e.message),
                        ));
                    }
                }
            }
        }
        if errors.is_empty() {
            return false;
        }
        self.raise_first_in_schema_order(table.db, &errors);
        true
    }

    fn has_column(&self, table: &str, col: &str) -> Option<bool> {
        self.schema
            .table(table)
            .map(|t| t.column_index(col).is_some())
    }

    /// References to `col` of `table` in every view and trigger of the table's database
    /// (and in TEMP ones when the table is in main), in name order.
    fn dependent_refs(&self, table: &Table, col: &str, extra: &[&str]) -> Vec<ObjectRefs> {
        let mut out = Vec::new();
        let has = |t: &str, c: &str| self.has_column(t, c);
        let mut dbs = vec![table.db];
        if table.db != TEMP_DB && self.schema.temp.is_some() {
            dbs.push(TEMP_DB);
        }
        for db in dbs {
            let s = self.schema.of_db(db);
            let mut views: Vec<_> = s.views.values().cloned().collect();
            views.sort_by(|a, b| a.name.cmp(&b.name));
            for v in views {
                if sqlite_named(&v.name) {
                    continue;
                }
                let refs = match Toks::new(&v.sql).and_then(|k| {
                    let parts = tk::view_parts(&k)?;
                    Some(collect(&k, &parts, &table.name, col, extra, &has))
                }) {
                    Some(r) => r,
                    None => Err("its SQL does not lex".into()),
                };
                out.push(ObjectRefs {
                    kind: "view",
                    name: v.name.clone(),
                    tbl_name: v.name.clone(),
                    db,
                    sql: v.sql.clone(),
                    refs,
                });
            }
            let mut trigs: Vec<_> = s.triggers.values().cloned().collect();
            trigs.sort_by(|a, b| a.name.cmp(&b.name));
            for t in trigs {
                let refs = match Toks::new(&t.sql).and_then(|k| {
                    let parts = tk::trigger_parts(&k)?;
                    let mut r = collect(&k, &parts, &table.name, col, extra, &has);
                    let on_target = names::eq(&t.table, &table.name) && t.table_db == table.db;
                    if let (Ok((v, _)), true) = (&mut r, on_target) {
                        for &i in &parts.update_of {
                            if k.names(i, col) {
                                v.push((i, false));
                            }
                        }
                    }
                    Some(r)
                }) {
                    Some(r) => r,
                    None => Err("its SQL does not lex".into()),
                };
                out.push(ObjectRefs {
                    kind: "trigger",
                    name: t.name.clone(),
                    tbl_name: t.table.clone(),
                    db,
                    sql: t.sql.clone(),
                    refs,
                });
            }
        }
        out
    }

    /// The table's own CREATE TABLE tokens and shape.
    fn table_tokens<'s>(&self, table: &'s Table) -> Result<(Toks<'s>, tk::TableShape)> {
        let k = Toks::new(&table.sql).ok_or_else(|| error("malformed table definition"))?;
        let shape = tk::table_shape(&k).ok_or_else(|| error("malformed table definition"))?;
        if shape.columns.len() != table.columns.len() {
            return Err(error("malformed table definition"));
        }
        Ok((k, shape))
    }

    fn locate_column(&self, table: &Table, name: &Name<'_>) -> Result<usize> {
        table
            .column_index(&names::unquote(name.0))
            .ok_or_else(|| error(format!("no such column: \"{}\"", name.0)))
    }

    pub(crate) fn alter_rename_column(
        &mut self,
        table: &Arc<Table>,
        old: &Name<'_>,
        new: &Name<'_>,
    ) -> Result<bool> {
        let icol = self.locate_column(table, old)?;
        if self.broken_dependents(table) {
            return Ok(true);
        }
        let col = table.columns[icol].name.clone();
        let new_name = names::unquote(new.0);
        let quote = matches!(new.0.as_bytes().first(), Some(b'"' | b'\'' | b'[' | b'`'));
        if let Some(j) = (0..table.columns.len())
            .find(|&j| j != icol && names::eq(&table.columns[j].name, &new_name))
        {
            // SQLite re-parses the edited CREATE TABLE: the later of the two is the
            // duplicate it reports.
            let dup = if icol < j {
                table.columns[j].name.clone()
            } else {
                new_name.clone()
            };
            return Err(error(format!(
                "error in table {} after rename: duplicate column name: {dup}",
                table.name
            )));
        }
        let mut main_rw: Vec<Rewrite> = Vec::new();
        let mut temp_rw: Vec<Rewrite> = Vec::new();
        // Renaming the INTEGER PRIMARY KEY renames the rowid's other names where they
        // mean it (SQLite's walker looks for column -1 then).
        let rowid_names: Vec<&str> = if table.rowid_alias == Some(icol) {
            ["rowid", "oid", "_rowid_"]
                .into_iter()
                .filter(|n| table.column_index(n).is_none())
                .collect()
        } else {
            Vec::new()
        };
        // The table itself and tables whose foreign keys name it.
        let db = self.schema.of_db(table.db);
        let mut tables: Vec<_> = db.tables.values().cloned().collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        for t in tables {
            if sqlite_named(&t.name) {
                continue;
            }
            let own = names::eq(&t.name, &table.name);
            let Some(k) = Toks::new(&t.sql) else { continue };
            let Some(shape) = tk::table_shape(&k) else {
                continue;
            };
            let mut at = Vec::new();
            if own {
                // The walk must see the columns the schema has (else the text is not one
                // this edit understands: refuse rather than guess).
                if shape.columns.len() != table.columns.len() {
                    return Err(error("malformed table definition"));
                }
                at.push(shape.columns[icol].name);
            }
            let owner = own.then_some(table.name.as_str());
            for r in shape.column_constraints.iter().chain(&shape.constraints) {
                tk::constraint_refs(&k, *r, owner, &table.name, &col, &mut at);
                if own {
                    for n in &rowid_names {
                        tk::constraint_refs(&k, *r, owner, "", n, &mut at);
                    }
                }
            }
            let mut edits = tk::rename_texts(&t.sql, &k, &at, &new_name, quote);
            for i in tk::check_dq_strings(&k, &shape, &|n| t.column_index(n).is_some()) {
                edits.push((i, tk::single_quoted(&t.sql, &k, i)));
            }
            if !edits.is_empty() {
                let sql = tk::edit_with(&t.sql, &k, &edits);
                main_rw.push(("table".into(), t.name.clone(), t.name.clone(), sql));
            }
        }
        // Its indexes (the column list and WHERE clause name only its columns).
        for ix in self.schema.table_indexes(table) {
            if ix.auto {
                continue;
            }
            let Some(sql) = self
                .schema
                .of_db(ix.db)
                .index_sql
                .get(&ix.name.to_ascii_lowercase())
                .cloned()
            else {
                continue;
            };
            let Some(k) = Toks::new(&sql) else { continue };
            let at = index_refs(&k, &col, &table.name);
            if !at.is_empty() {
                let edited = tk::edit(&sql, &k, &at, &new_name, quote);
                main_rw.push(("index".into(), ix.name.clone(), table.name.clone(), edited));
            }
        }
        for o in self.dependent_refs(table, &col, &rowid_names) {
            let (refs, dq) = o.refs.map_err(|why| {
                error(format!(
                    "cannot rename column {col}: {} {} uses it in a way this version does not resolve yet ({why})",
                    o.kind, o.name
                ))
            })?;
            if refs.is_empty() && dq.is_empty() {
                continue;
            }
            let k = Toks::new(&o.sql)
                .ok_or_else(|| error(format!("malformed database schema ({})", o.name)))?;
            let at: Vec<usize> = refs.iter().map(|r| r.0).collect();
            let mut edits = tk::rename_texts(&o.sql, &k, &at, &new_name, quote);
            for i in dq {
                edits.push((i, tk::single_quoted(&o.sql, &k, i)));
            }
            let sql = tk::edit_with(&o.sql, &k, &edits);
            let row = (o.kind.to_string(), o.name, o.tbl_name, sql);
            if o.db == table.db {
                main_rw.push(row);
            } else {
                temp_rw.push(row);
            }
        }
        self.rewrite_rows(table.db, &main_rw);
        if !temp_rw.is_empty() {
            self.rewrite_rows(TEMP_DB, &temp_rw);
            self.bump_cookie(TEMP_DB);
        }
        Ok(false)
    }

    fn rewrite_rows(&mut self, db: usize, rows: &[Rewrite]) {
        let rw: Vec<_> = rows
            .iter()
            .map(|(ty, name, tbl, sql)| {
                (
                    ty.clone(),
                    name.clone(),
                    name.clone(),
                    tbl.clone(),
                    Some(sql.clone()),
                )
            })
            .collect();
        self.rewrite_schema_rows(db, &rw);
    }

    /// DROP COLUMN. Returns true when the program is complete (an error it raises at
    /// run time, in `sqlite_schema` order, as SQLite reports the first failing object).
    pub(crate) fn alter_drop_column(
        &mut self,
        table: &Arc<Table>,
        name: &Name<'_>,
    ) -> Result<bool> {
        let icol = self.locate_column(table, name)?;
        let col = table.columns[icol].name.clone();
        let (k, shape) = self.table_tokens(table)?;
        let (cs, ce) = shape.column_constraints[icol];
        let unique = (cs..ce).any(|i| k.is(i, "UNIQUE"));
        if table.columns[icol].primary_key || unique {
            return Err(error(format!(
                "cannot drop {} column: \"{col}\"",
                if table.columns[icol].primary_key {
                    "PRIMARY KEY"
                } else {
                    "UNIQUE"
                }
            )));
        }
        if table.columns.len() <= 1 {
            return Err(error(format!(
                "cannot drop column \"{col}\": no other columns exist"
            )));
        }
        if self.broken_dependents(table) {
            return Ok(true);
        }
        // Objects that would no longer resolve: (db, type, name, message).
        let mut errors: Vec<(usize, String, String, String)> = Vec::new();
        let after = "after drop column";
        // The table's own constraints (other columns' CHECKs, table constraints).
        let mut own_err = None;
        for (n, r) in shape.column_constraints.iter().enumerate() {
            if n == icol {
                continue;
            }
            let mut at = Vec::new();
            tk::constraint_refs(&k, *r, Some(&table.name), "", &col, &mut at);
            if let Some(&i) = at.first() {
                own_err.get_or_insert(format!("no such column: {}", unresolved(&k, i)));
            }
        }
        for &(s, e) in &shape.constraints {
            let mut at = Vec::new();
            tk::constraint_refs(&k, (s, e), Some(&table.name), "", &col, &mut at);
            if let Some(&i) = at.first() {
                let fk = (s..i).any(|j| k.is(j, "FOREIGN"));
                own_err.get_or_insert(if fk {
                    format!("unknown column \"{}\" in foreign key definition", k.name(i))
                } else {
                    format!("no such column: {}", unresolved(&k, i))
                });
            }
        }
        if let Some(m) = own_err {
            errors.push((
                table.db,
                "table".into(),
                table.name.clone(),
                format!("error in table {} {after}: {m}", table.name),
            ));
        }
        for ix in self.schema.table_indexes(table) {
            if ix.auto {
                continue;
            }
            let sql = self
                .schema
                .of_db(ix.db)
                .index_sql
                .get(&ix.name.to_ascii_lowercase())
                .cloned()
                .unwrap_or_default();
            let Some(ik) = Toks::new(&sql) else { continue };
            if let Some(&i) = index_refs(&ik, &col, &table.name).first() {
                errors.push((
                    ix.db,
                    "index".into(),
                    ix.name.clone(),
                    format!(
                        "error in index {} {after}: no such column: {}",
                        ix.name,
                        unresolved(&ik, i)
                    ),
                ));
            }
        }
        // Double-quoted strings SQLite rewrites in single quotes first (renameFixQuotes).
        let mut main_rw: Vec<Rewrite> = Vec::new();
        let mut temp_rw: Vec<Rewrite> = Vec::new();
        for o in self.dependent_refs(table, &col, &[]) {
            let (refs, dq) = o.refs.map_err(|why| {
                error(format!(
                    "cannot drop column {col}: {} {} uses it in a way this version does not resolve yet ({why})",
                    o.kind, o.name
                ))
            })?;
            if !dq.is_empty() {
                let ok = Toks::new(&o.sql)
                    .ok_or_else(|| error(format!("malformed database schema ({})", o.name)))?;
                let edits: Vec<_> = dq
                    .iter()
                    .map(|&i| (i, tk::single_quoted(&o.sql, &ok, i)))
                    .collect();
                let sql = tk::edit_with(&o.sql, &ok, &edits);
                let row = (o.kind.to_string(), o.name.clone(), o.tbl_name.clone(), sql);
                if o.db == table.db {
                    main_rw.push(row);
                } else {
                    temp_rw.push(row);
                }
            }
            let ok = Toks::new(&o.sql)
                .ok_or_else(|| error(format!("malformed database schema ({})", o.name)))?;
            // An unqualified double-quoted name without its column reads as a string
            // in a view or trigger (SQLite's DQS fallback): no error, the text stays.
            let dq_string =
                |i: usize| ok.text(i).starts_with('"') && !(i >= 2 && ok.is(i - 1, "."));
            if let Some(&(i, _)) = refs.iter().find(|r| r.1 && !dq_string(r.0)) {
                let shown = if i >= 2 && ok.is(i - 1, ".") {
                    format!("{}.{}", ok.name(i - 2), ok.name(i))
                } else {
                    ok.name(i)
                };
                errors.push((
                    o.db,
                    o.kind.into(),
                    o.name.clone(),
                    format!(
                        "error in {} {} {after}: no such column: {shown}",
                        o.kind, o.name
                    ),
                ));
            }
        }
        if !errors.is_empty() {
            self.raise_first_in_schema_order(table.db, &errors);
            return Ok(true);
        }
        // sqlite_drop_column: a column before the last loses the text from its name to
        // the next column's name; the last one, from the comma before it to the end of
        // the column list.
        let mut tables: Vec<_> = self
            .schema
            .of_db(table.db)
            .tables
            .values()
            .cloned()
            .collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        for t in tables {
            if sqlite_named(&t.name) || names::eq(&t.name, &table.name) {
                continue;
            }
            let Some(tk_) = Toks::new(&t.sql) else {
                continue;
            };
            let Some(sh) = tk::table_shape(&tk_) else {
                continue;
            };
            let dq = tk::check_dq_strings(&tk_, &sh, &|n| t.column_index(n).is_some());
            if !dq.is_empty() {
                let edits: Vec<_> = dq
                    .iter()
                    .map(|&i| (i, tk::single_quoted(&t.sql, &tk_, i)))
                    .collect();
                let sql = tk::edit_with(&t.sql, &tk_, &edits);
                main_rw.push(("table".into(), t.name.clone(), t.name.clone(), sql));
            }
        }
        let dq = tk::check_dq_strings(&k, &shape, &|n| table.column_index(n).is_some());
        let edits: Vec<_> = dq
            .iter()
            .map(|&i| (i, tk::single_quoted(&table.sql, &k, i)))
            .collect();
        let fixed = tk::edit_with(&table.sql, &k, &edits);
        let k = Toks::new(&fixed).ok_or_else(|| error("malformed table definition"))?;
        let shape = tk::table_shape(&k)
            .filter(|s| s.columns.len() == table.columns.len())
            .ok_or_else(|| error("malformed table definition"))?;
        let sql = &fixed;
        let start = k.t[shape.columns[icol].name].s;
        let new_sql = if icol + 1 < shape.columns.len() {
            let end = k.t[shape.columns[icol + 1].name].s;
            format!("{}{}", &sql[..start], &sql[end..])
        } else {
            let comma = sql[..start].rfind(',').unwrap_or(start);
            let end = k.t.get(shape.columns_end).map_or(sql.len(), |t| t.s);
            format!("{}{}", &sql[..comma], &sql[end..])
        };
        let mut new_table = crate::schema::parse_table(&new_sql, table.root_page)
            .map_err(|e| after_drop(table, e))?;
        new_table.db = table.db;
        // A generated column reading the dropped one fails as SQLite's check of the
        // new definition.
        self.validate_generated(&new_table, false)
            .map_err(|e| after_drop(table, e))?;
        main_rw.push((
            "table".into(),
            table.name.clone(),
            table.name.clone(),
            new_sql,
        ));
        self.rewrite_rows(table.db, &main_rw);
        if !temp_rw.is_empty() {
            self.rewrite_rows(TEMP_DB, &temp_rw);
            self.bump_cookie(TEMP_DB);
        }
        // A VIRTUAL column is in no record: the rows stay as they are.
        if !table.is_virtual(icol) {
            match &table.without_rowid {
                Some(wr) => self.rewrite_without_rowid_rows_without(table, wr, icol),
                None => self.rewrite_rows_without(table, icol),
            }
        }
        Ok(false)
    }

    /// Rewrites every entry of WITHOUT ROWID `table` without column `icol`, which is not
    /// a key column (DROP COLUMN refuses those). An entry's record is its PRIMARY KEY
    /// columns, then the other stored columns in table order: the new record keeps the
    /// key, so it goes where the old one was. The old entry is deleted, the new one
    /// inserted, and the scan goes on from the first key past it (a seek, not a step:
    /// it does not depend on where the insert leaves the cursor). SQLite's DROP COLUMN
    /// does the same with one `IdxInsert` that replaces the entry of an equal key; here
    /// an index entry's key is its whole record, so the old entry must go first.
    fn rewrite_without_rowid_rows_without(
        &mut self,
        table: &Table,
        wr: &crate::without_rowid::WithoutRowid,
        icol: usize,
    ) {
        let cur: Cur = self.b.alloc_cursor();
        self.emit(Insn::OpenWriteAsync {
            db: table.db,
            cursor: cur,
            root_page: table.root_page,
            root_reg: None,
            kind: CursorKind::Index {
                key_info: wr.key_info(),
            },
        });
        self.emit(Insn::OpenWriteAwait { cursor: cur });
        let done = self.label();
        let top = self.label();
        self.emit(Insn::RewindAsync { cursor: cur });
        self.emit(Insn::RewindAwait {
            cursor: cur,
            target_if_empty: done.addr(),
        });
        self.resolve(top);
        let n_key = wr.pk.len();
        let key = self.regs(n_key);
        for f in 0..n_key {
            self.emit(Insn::Column {
                cursor: cur,
                column: f,
                dest: key + f,
                default: None,
            });
        }
        // The new record: the key fields, then the other stored fields but `icol`'s.
        let n = wr.storage.len() - 1;
        let regs = self.regs(n);
        let mut out = regs;
        for (field, &c) in wr.storage.iter().enumerate() {
            if c == icol {
                continue;
            }
            self.emit(Insn::Column {
                cursor: cur,
                column: field,
                dest: out,
                default: table.columns[c].default_value.clone(),
            });
            out += 1;
        }
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start: regs,
            count: n,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::DeleteAsync {
            cursor: cur,
            count: strata_vdbe::insn::RowCount::None,
        });
        self.emit(Insn::DeleteAwait { cursor: cur });
        self.emit(Insn::IdxInsertAsync {
            cursor: cur,
            record_reg: rec,
        });
        self.emit(Insn::IdxInsertAwait { cursor: cur });
        self.emit(Insn::SeekAsync {
            cursor: cur,
            op: strata_btree::SeekOp::GT,
            key_start: key,
            key_count: n_key,
        });
        self.emit(Insn::SeekAwait {
            cursor: cur,
            target_if_not_found: done.addr(),
        });
        self.goto(top);
        self.resolve(done);
    }

    /// Rewrites every row of `table` without column `icol` (SQLite's DROP COLUMN
    /// rewrites the whole table; rows shorter than the table read their defaults).
    fn rewrite_rows_without(&mut self, table: &Table, icol: usize) {
        let cur: Cur = self.b.alloc_cursor();
        self.emit(Insn::OpenWriteAsync {
            db: table.db,
            cursor: cur,
            root_page: table.root_page,
            root_reg: None,
            kind: CursorKind::Table {
                num_columns: table.columns.len(),
            },
        });
        self.emit(Insn::OpenWriteAwait { cursor: cur });
        let scan = self.scan_begin(cur);
        // The new record: the stored columns but `icol` (VIRTUAL ones are in none).
        let n = table.storage_count() - 1;
        let rowid = self.reg();
        let regs = self.regs(n);
        let rec = self.reg();
        self.emit(Insn::Rowid {
            cursor: cur,
            dest: rowid,
        });
        let mut out = regs;
        for (i, c) in table.columns.iter().enumerate() {
            let Some(field) = table.storage_index(i) else {
                continue;
            };
            if i == icol {
                continue;
            }
            if Some(i) == table.rowid_alias {
                // The rowid alias is stored as NULL; its value is the key.
                self.emit(Insn::Null {
                    dest: out,
                    count: 1,
                });
            } else {
                self.emit(Insn::Column {
                    cursor: cur,
                    column: field,
                    dest: out,
                    default: c.default_value.clone(),
                });
            }
            out += 1;
        }
        self.emit(Insn::MakeRecord {
            start: regs,
            count: n,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::InsertAsync {
            cursor: cur,
            key_reg: rowid,
            record_reg: rec,
            flags: InsertFlags {
                is_update: true,
                ..Default::default()
            },
            table: table.name.clone(),
        });
        self.emit(Insn::InsertAwait { cursor: cur });
        self.scan_end(scan);
    }

    /// Halts with the error of the first object (type, name) met in `sqlite_schema`
    /// order: `db`'s schema, then TEMP's (SQLite tests main's objects, then temp's).
    fn raise_first_in_schema_order(
        &mut self,
        db: usize,
        errors: &[(usize, String, String, String)],
    ) {
        let mut dbs = vec![db];
        if errors.iter().any(|e| e.0 != db) {
            dbs.push(TEMP_DB);
        }
        for d in dbs {
            let sc: Cur = self.b.alloc_cursor();
            self.emit(Insn::OpenReadAsync {
                db: d,
                cursor: sc,
                root_page: 1,
                root_reg: None,
                kind: CursorKind::Table { num_columns: 5 },
            });
            self.emit(Insn::OpenReadAwait { cursor: sc });
            let scan = self.scan_begin(sc);
            let ty = self.reg();
            let name = self.reg();
            self.emit(Insn::Column {
                cursor: sc,
                column: 0,
                dest: ty,
                default: None,
            });
            self.emit(Insn::Column {
                cursor: sc,
                column: 1,
                dest: name,
                default: None,
            });
            for (edb, kind, oname, msg) in errors {
                if *edb != d {
                    continue;
                }
                let skip = self.label();
                let want = self.reg();
                self.emit(Insn::String {
                    value: kind.as_bytes().to_vec(),
                    dest: want,
                });
                self.emit(Insn::Compare {
                    op: Cmp::Ne,
                    lhs: ty,
                    rhs: want,
                    target: skip.addr(),
                    affinity: Default::default(),
                    collation: Collation::Binary,
                    jump_if_null: true,
                    null_eq: false,
                });
                let wn = self.reg();
                self.emit(Insn::String {
                    value: oname.as_bytes().to_vec(),
                    dest: wn,
                });
                self.emit(Insn::Compare {
                    op: Cmp::Ne,
                    lhs: name,
                    rhs: wn,
                    target: skip.addr(),
                    affinity: Default::default(),
                    collation: Collation::NoCase,
                    jump_if_null: true,
                    null_eq: false,
                });
                self.emit(Insn::Halt {
                    error: Some((ErrorCode::Error, msg.clone())),
                    on_error: Default::default(),
                });
                self.resolve(skip);
            }
            self.scan_end(scan);
        }
        // Not met in the scan (should not happen): the first one.
        self.emit(Insn::Halt {
            error: Some((ErrorCode::Error, errors[0].3.clone())),
            on_error: Default::default(),
        });
    }
}

/// How SQLite names a column reference that no longer resolves: a double-quoted one gets
/// its hint that it may have been meant as a string.
/// SQLite's wording of an error in a table's new definition after DROP COLUMN.
fn after_drop(table: &Table, e: crate::SqlError) -> crate::SqlError {
    error(format!(
        "error in table {} after drop column: {}",
        table.name, e.message
    ))
}

fn unresolved(k: &Toks<'_>, i: usize) -> String {
    if k.text(i).starts_with('"') {
        format!(
            "\"{}\" - should this be a string literal in single-quotes?",
            k.name(i)
        )
    } else {
        k.name(i)
    }
}

/// References of an index's SQL to a column of its table: every column-position name
/// after `ON table`, unqualified or qualified by the table's name (a partial index's
/// WHERE may write `t.col`).
fn index_refs(k: &Toks<'_>, col: &str, table: &str) -> Vec<usize> {
    let Some(on) = (0..k.t.len()).find(|&i| k.is(i, "ON")) else {
        return Vec::new();
    };
    let mut start = on + 2;
    if k.is(start, ".") {
        start += 2;
    }
    (start..k.t.len())
        .filter(|&i| {
            k.names(i, col)
                && tk::is_column_position(k, i)
                && (!k.is(i - 1, ".") || (i >= 2 && k.names(i - 2, table)))
        })
        .collect()
}

/// Runs the flat resolution over each statement of a view or trigger.
fn collect(
    k: &Toks<'_>,
    parts: &tk::Parts,
    target: &str,
    col: &str,
    extra: &[&str],
    has: &dyn Fn(&str, &str) -> Option<bool>,
) -> std::result::Result<Found, String> {
    let mut out = Vec::new();
    let mut dq = Vec::new();
    for &range in &parts.statements {
        match tk::statement_refs(k, range, target, col, parts.on_table.as_deref(), has) {
            Refs::Found(v, d, _) => {
                out.extend(v);
                dq.extend(d);
            }
            Refs::Unsure(why) => return Err(why),
        }
        // Other names of the same column (the rowid's): expression references only.
        for name in extra {
            match tk::statement_refs(k, range, target, name, parts.on_table.as_deref(), has) {
                Refs::Found(v, _, _) => out.extend(v.into_iter().filter(|r| r.1)),
                Refs::Unsure(why) => return Err(why),
            }
        }
    }
    Ok((out, dq))
}
