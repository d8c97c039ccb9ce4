//! CREATE and DROP of tables, indexes and views: B-tree allocation, `sqlite_schema` rows,
//! index population, the schema cookie.

use std::sync::Arc;

use sqlite3_parser::ast::{CreateTableBody, Stmt};
use strata_btree::record::Collation;
use strata_vdbe::insn::{Cookie, Cur, CursorKind, ErrorCode, InsertFlags, Insn, OnError, Reg};
use strata_vdbe::ops::Cmp;
use strata_vdbe::program::Program;

use strata_vdbe::insn::TEMP_DB;

use crate::compiler::{create_db, display_name, error, Compiler, Result, Scope};
use crate::names;
use crate::schema::{self, Index, Table};
use crate::select::Dest;
use crate::split;

/// The SQL SQLite stores for a CREATE statement: `CREATE <kind> ` + text from the name.
fn stored_sql(kind: &str, text: &str) -> String {
    let off = split::create_name_offset(text).unwrap_or(0);
    format!("CREATE {kind} {}", text[off..].trim_end())
}

impl Compiler<'_> {
    /// Opens a write cursor on database `db`'s schema table (page 1 of that database).
    pub(crate) fn open_schema_write(&mut self, db: usize) -> Cur {
        let cur = self.b.alloc_cursor();
        self.emit(Insn::OpenWriteAsync {
            db,
            cursor: cur,
            root_page: 1,
            root_reg: None,
            kind: CursorKind::Table { num_columns: 5 },
        });
        self.emit(Insn::OpenWriteAwait { cursor: cur });
        cur
    }

    /// Opens read cursor `cursor` on a table (in its database).
    pub(crate) fn open_table_read(&mut self, cursor: Cur, table: &Table) {
        self.emit(Insn::OpenReadAsync {
            db: table.db,
            cursor,
            root_page: table.root_page,
            root_reg: None,
            kind: table_cursor_kind(table),
        });
        self.emit(Insn::OpenReadAwait { cursor });
    }

    /// Opens read cursor `cursor` on an index (in its database).
    pub(crate) fn open_index_read(&mut self, cursor: Cur, ix: &Index) {
        self.emit(Insn::OpenReadAsync {
            db: ix.db,
            cursor,
            root_page: ix.root_page,
            root_reg: None,
            kind: CursorKind::Index {
                key_info: ix.key_info(),
            },
        });
        self.emit(Insn::OpenReadAwait { cursor });
    }

    pub(crate) fn insert_schema_row(
        &mut self,
        cur: Cur,
        kind: &str,
        name: &str,
        tbl: &str,
        root: Option<Reg>,
        sql: Option<&str>,
    ) {
        let regs = self.regs(5);
        self.emit(Insn::String {
            value: kind.as_bytes().to_vec(),
            dest: regs,
        });
        self.emit(Insn::String {
            value: name.as_bytes().to_vec(),
            dest: regs + 1,
        });
        self.emit(Insn::String {
            value: tbl.as_bytes().to_vec(),
            dest: regs + 2,
        });
        match root {
            Some(r) => self.emit(Insn::Copy {
                src: r,
                dest: regs + 3,
                count: 1,
            }),
            None => self.emit(Insn::Integer {
                value: 0,
                dest: regs + 3,
            }),
        };
        self.load_opt_text(sql, regs + 4);
        let rec = self.reg();
        let rowid = self.reg();
        self.emit(Insn::MakeRecord {
            start: regs,
            count: 5,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::NewRowidAsync {
            cursor: cur,
            dest: rowid,
            min_reg: None,
        });
        self.emit(Insn::NewRowidAwait { cursor: cur });
        self.emit(Insn::InsertAsync {
            cursor: cur,
            key_reg: rowid,
            record_reg: rec,
            flags: InsertFlags::default(),
            table: "sqlite_schema".into(),
        });
        self.emit(Insn::InsertAwait { cursor: cur });
    }

    /// Writes `regs..regs+5` (type, name, tbl_name, rootpage, sql) over the
    /// `sqlite_schema` row cursor `sc` is on.
    pub(crate) fn replace_schema_row(&mut self, sc: usize, regs: Reg) {
        let rec = self.reg();
        let rowid = self.reg();
        self.emit(Insn::MakeRecord {
            start: regs,
            count: 5,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::Rowid {
            cursor: sc,
            dest: rowid,
        });
        self.emit(Insn::InsertAsync {
            cursor: sc,
            key_reg: rowid,
            record_reg: rec,
            flags: InsertFlags {
                is_update: true,
                ..Default::default()
            },
            table: "sqlite_schema".into(),
        });
        self.emit(Insn::InsertAwait { cursor: sc });
    }

    /// Loads `text` (or NULL) into `dest`.
    pub(crate) fn load_opt_text(&mut self, text: Option<&str>, dest: Reg) {
        match text {
            Some(s) => self.emit(Insn::String {
                value: s.as_bytes().to_vec(),
                dest,
            }),
            None => self.emit(Insn::Null { dest, count: 1 }),
        };
    }

    /// Bumps database `db`'s schema cookie and has the connection reload its schema.
    pub(crate) fn bump_cookie(&mut self, db: usize) {
        self.emit(Insn::SetCookie {
            db,
            cookie: Cookie::SchemaVersion,
            value: self.schema.of_db(db).cookie as i64 + 1,
        });
        self.emit(Insn::ParseSchema);
    }

    pub fn create_table(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::CreateTable {
            temporary,
            if_not_exists,
            tbl_name,
            body,
        } = stmt
        else {
            unreachable!("dispatched on CreateTable")
        };
        let name = names::unquote(tbl_name.name.0);
        let db = create_db(
            self.schema,
            tbl_name.db_name.as_ref(),
            *temporary,
            "temporary table name must be unqualified",
        )?;
        let target = self.schema.of_db(db);
        if target.local_table(&name).is_some() || target.local_view(&name).is_some() {
            if *if_not_exists {
                // Nothing to write, but SQLite codes the schema check
                // (sqlite3CodeVerifySchema): a read transaction, inside BEGIN the snapshot.
                self.verify_schema(db);
                return Ok(self.finish(text, Vec::new(), Vec::new()));
            }
            let what = if target.local_view(&name).is_some() {
                "view"
            } else {
                "table"
            };
            return Err(error(format!("{what} {name} already exists")));
        }
        if target.local_index(&name).is_some() {
            return Err(error(format!("there is already an index named {name}")));
        }
        if name.to_ascii_lowercase().starts_with("sqlite_") {
            return Err(error(format!(
                "object name reserved for internal use: {name}"
            )));
        }
        self.writes = true;
        match body {
            CreateTableBody::ColumnsAndConstraints { .. } => {
                let sql = stored_sql("TABLE", text);
                let table = schema::table_from_ast(&name, body, 0, &sql)?;
                self.validate_generated(&table, true)?;
                let specs = schema::table_unique_constraints(&sql)?;
                for spec in &specs {
                    spec.columns_for(&table)?;
                }
                let root = self.reg();
                // A WITHOUT ROWID table's tree is its PRIMARY KEY index's.
                self.emit(Insn::CreateBtree {
                    db,
                    index: table.without_rowid.is_some(),
                    dest: root,
                });
                let sc = self.open_schema_write(db);
                self.insert_schema_row(sc, "table", &name, &name, Some(root), Some(&sql));
                for i in 0..specs.len() {
                    // (That index has no schema row of its own: its number is skipped.)
                    if specs[i].primary_key && table.without_rowid.is_some() {
                        continue;
                    }
                    let r = self.reg();
                    self.emit(Insn::CreateBtree {
                        db,
                        index: true,
                        dest: r,
                    });
                    let iname = format!("sqlite_autoindex_{name}_{}", i + 1);
                    self.insert_schema_row(sc, "index", &iname, &name, Some(r), None);
                }
                if table.autoincrement && !self.schema.of_db(db).has_sequence {
                    let r = self.reg();
                    self.emit(Insn::CreateBtree {
                        db,
                        index: false,
                        dest: r,
                    });
                    self.insert_schema_row(
                        sc,
                        "table",
                        "sqlite_sequence",
                        "sqlite_sequence",
                        Some(r),
                        Some("CREATE TABLE sqlite_sequence(name,seq)"),
                    );
                }
                self.bump_cookie(db);
                Ok(self.finish(text, Vec::new(), Vec::new()))
            }
            CreateTableBody::AsSelect(sel) => {
                // Materialise the rows first, then create the table from the result's
                // column names and affinities, then copy.
                let tmp = self.b.alloc_cursor();
                self.emit(Insn::OpenEphemeral {
                    cursor: tmp,
                    kind: strata_vdbe::insn::EphemeralKind::Table,
                });
                let cols = self.select(sel, &Dest::EphemTable { cursor: tmp })?;
                let mut defs = Vec::new();
                let unique =
                    names::unique_column_names(cols.iter().map(|c| c.name.clone()).collect());
                for (c, n) in cols.iter().zip(unique) {
                    let ty = match c.affinity {
                        Some(strata_vdbe::affinity::Affinity::Text) => " TEXT",
                        Some(strata_vdbe::affinity::Affinity::Numeric) => " NUM",
                        Some(strata_vdbe::affinity::Affinity::Integer) => " INT",
                        Some(strata_vdbe::affinity::Affinity::Real) => " REAL",
                        _ => "",
                    };
                    defs.push(format!("{}{ty}", names::quote_if_needed(&n)));
                }
                let sql = format!(
                    "CREATE TABLE {}({})",
                    names::quote_if_needed(&name),
                    defs.join(",")
                );
                let root = self.reg();
                self.emit(Insn::CreateBtree {
                    db,
                    index: false,
                    dest: root,
                });
                let sc = self.open_schema_write(db);
                self.insert_schema_row(sc, "table", &name, &name, Some(root), Some(&sql));
                let t = self.b.alloc_cursor();
                self.emit(Insn::OpenWriteAsync {
                    db,
                    cursor: t,
                    root_page: 0,
                    root_reg: Some(root),
                    kind: CursorKind::Table {
                        num_columns: cols.len(),
                    },
                });
                self.emit(Insn::OpenWriteAwait { cursor: t });
                let end = self.label();
                let top = self.label();
                self.emit(Insn::RewindAsync { cursor: tmp });
                self.emit(Insn::RewindAwait {
                    cursor: tmp,
                    target_if_empty: end.addr(),
                });
                self.resolve(top);
                let n = cols.len();
                let regs = self.regs(n.max(1));
                for i in 0..n {
                    self.emit(Insn::Column {
                        cursor: tmp,
                        column: i,
                        dest: regs + i,
                        default: None,
                    });
                }
                let affs: Vec<_> = cols
                    .iter()
                    .map(|c| c.affinity.unwrap_or_default())
                    .collect();
                let rec = self.reg();
                self.emit(Insn::MakeRecord {
                    start: regs,
                    count: n,
                    dest: rec,
                    affinities: Some(affs),
                });
                let rowid = self.reg();
                self.emit(Insn::NewRowidAsync {
                    cursor: t,
                    dest: rowid,
                    min_reg: None,
                });
                self.emit(Insn::NewRowidAwait { cursor: t });
                self.emit(Insn::InsertAsync {
                    cursor: t,
                    key_reg: rowid,
                    record_reg: rec,
                    flags: InsertFlags::default(),
                    table: name.clone(),
                });
                self.emit(Insn::InsertAwait { cursor: t });
                self.emit(Insn::NextAsync { cursor: tmp });
                self.emit(Insn::NextAwait {
                    cursor: tmp,
                    target_if_more: top.addr(),
                });
                self.resolve(end);
                self.bump_cookie(db);
                Ok(self.finish(text, Vec::new(), Vec::new()))
            }
        }
    }

    pub fn create_index(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::CreateIndex {
            unique,
            if_not_exists,
            idx_name,
            tbl_name,
            columns,
            where_clause,
        } = stmt
        else {
            unreachable!("dispatched on CreateIndex")
        };
        let name = names::unquote(idx_name.name.0);
        let tname = names::unquote(tbl_name.0);
        // The index goes in its table's database. `main.i` looks the table up in main
        // only; `temp.i` (or none) finds it temp first, and `temp.i` on a main table is
        // refused (SQLite's sqlite3CreateIndex).
        let qualified = create_db(self.schema, idx_name.db_name.as_ref(), false, "")?;
        let scope = match idx_name.db_name {
            Some(_) if qualified != TEMP_DB => Scope::Db(qualified),
            _ => Scope::Any,
        };
        if scope.view(self.schema, &tname).is_some() {
            return Err(error("views may not be indexed"));
        }
        let table = scope.table(self.schema, &tname).ok_or_else(|| {
            // As SQLite words it: the table looked up in main, or (for `temp.i`) as
            // written.
            if qualified == TEMP_DB {
                error(format!("no such table: {tname}"))
            } else {
                error(format!(
                    "no such table: {}.{tname}",
                    self.schema.db_name(qualified)
                ))
            }
        })?;
        if qualified == TEMP_DB && table.db != TEMP_DB {
            return Err(error(format!(
                "cannot create a TEMP index on non-TEMP table \"{}\"",
                table.name
            )));
        }
        let db = table.db;
        let target = self.schema.of_db(db);
        if target.local_index(&name).is_some() {
            if *if_not_exists {
                // Nothing to write, but SQLite codes the schema check
                // (sqlite3CodeVerifySchema): a read transaction, inside BEGIN the snapshot.
                self.verify_schema(db);
                return Ok(self.finish(text, Vec::new(), Vec::new()));
            }
            return Err(error(format!("index {name} already exists")));
        }
        if target.local_table(&name).is_some() || target.local_view(&name).is_some() {
            return Err(error(format!("there is already a table named {name}")));
        }
        if name.to_ascii_lowercase().starts_with("sqlite_") {
            return Err(error(format!(
                "object name reserved for internal use: {name}"
            )));
        }
        if table.root_page == 1 {
            return Err(error(format!("table {tname} may not be indexed")));
        }
        if let Some(w) = where_clause {
            crate::partial_index::validate_where(w)?;
        }
        let sql = stored_sql(if *unique { "UNIQUE INDEX" } else { "INDEX" }, text);
        let index =
            schema::index_from_ast(&name, &table, *unique, columns, where_clause.as_ref(), 0)?;
        self.writes = true;
        let root = self.reg();
        self.emit(Insn::CreateBtree {
            db,
            index: true,
            dest: root,
        });
        let sc = self.open_schema_write(db);
        self.insert_schema_row(sc, "index", &name, &table.name, Some(root), Some(&sql));
        self.populate_index(&table, &index, root)?;
        self.bump_cookie(db);
        Ok(self.finish(text, Vec::new(), Vec::new()))
    }

    /// Fills a new index from its table as SQLite's `sqlite3RefillIndex` does: every
    /// row's (key, rowid) record goes through a sorter, then the sorted records are
    /// inserted in order, so the B-tree grows at its right edge and the sort's memory is
    /// bounded by the sorter budget (runs go to a temporary file past it). The table is
    /// read in rowid order and the sorter is stable, so equal keys come out in rowid order
    /// (the index's order) without comparing the rowid.
    fn populate_index(&mut self, table: &Arc<Table>, index: &Index, root: Reg) -> Result<()> {
        let t = self.b.alloc_cursor();
        self.open_table_read(t, table);
        // The entries' order: the key's, then (WITHOUT ROWID) the key columns that end
        // them, in their own order (a rowid table's rowid order is the scan's).
        let key_info = index.key_info();
        let n = index.columns.len();
        let entry_len = self.index_entry_len(table, index);
        let sorter = self.b.alloc_cursor();
        self.emit(Insn::SorterOpen {
            cursor: sorter,
            key_info: key_info.clone(),
            num_columns: entry_len,
        });
        let sorted = self.label();
        let top = self.label();
        self.emit(Insn::RewindAsync { cursor: t });
        self.emit(Insn::RewindAwait {
            cursor: t,
            target_if_empty: sorted.addr(),
        });
        self.resolve(top);
        // A partial index takes only the rows its WHERE is true for.
        let skip = match &index.where_sql {
            Some(w) => {
                let skip = self.label();
                let mut level = crate::scope::Level::default();
                level
                    .sources
                    .push(crate::select::table_source(table, table.name.clone(), t));
                self.levels.push(level);
                let r = self.in_pure(strata_vdbe::insn::PureContext::Index, |c| {
                    crate::partial_index::with_where(w, |e| c.jump_if_not_true(e, skip))
                });
                self.levels.pop();
                r?;
                Some(skip)
            }
            None => None,
        };
        let regs = self.regs(entry_len);
        if index.columns.iter().any(|c| c.expr.is_some()) {
            let mut level = crate::scope::Level::default();
            level
                .sources
                .push(crate::select::table_source(table, table.name.clone(), t));
            self.levels.push(level);
            let r = self.index_expr_keys_here(index, regs);
            self.levels.pop();
            r?;
        }
        for (k, c) in index.columns.iter().enumerate() {
            if c.expr.is_some() {
                continue;
            }
            if table.rowid_alias == Some(c.column) {
                self.emit(Insn::Rowid {
                    cursor: t,
                    dest: regs + k,
                });
            } else {
                self.table_column(&table, t, c.column, regs + k)?;
            }
        }
        match &table.without_rowid {
            Some(wr) => {
                for (k, c) in wr.index_tail(index).into_iter().enumerate() {
                    self.table_column(table, t, c, regs + n + k)?;
                }
            }
            None => {
                self.emit(Insn::Rowid {
                    cursor: t,
                    dest: regs + n,
                });
            }
        }
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start: regs,
            count: entry_len,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::SorterInsert {
            cursor: sorter,
            record_reg: rec,
        });
        if let Some(skip) = skip {
            self.resolve(skip);
        }
        self.emit(Insn::NextAsync { cursor: t });
        self.emit(Insn::NextAwait {
            cursor: t,
            target_if_more: top.addr(),
        });
        self.resolve(sorted);
        self.emit(Insn::Close { cursor: t });

        let ic = self.b.alloc_cursor();
        self.emit(Insn::OpenWriteAsync {
            db: table.db,
            cursor: ic,
            root_page: 0,
            root_reg: Some(root),
            kind: CursorKind::Index { key_info },
        });
        self.emit(Insn::OpenWriteAwait { cursor: ic });
        // The record register of a pseudo cursor is written only by `SorterData`.
        let data = self.reg();
        let pseudo = index.unique.then(|| {
            let p = self.b.alloc_cursor();
            self.emit(Insn::OpenPseudo {
                cursor: p,
                content_reg: data,
                num_columns: entry_len,
            });
            p
        });
        let end = self.label();
        let next = self.label();
        self.emit(Insn::SorterSort {
            cursor: sorter,
            target_if_empty: end.addr(),
        });
        self.resolve(next);
        self.emit(Insn::SorterData {
            cursor: sorter,
            dest: data,
        });
        if let Some(p) = pseudo {
            // The sorted stream puts duplicates side by side, but the check against the
            // entries already inserted is as cheap (the cursor's path is the right edge)
            // and keeps SQLite's NULL rule in one place (`NoConflict`).
            let key = self.regs(n);
            for k in 0..n {
                self.emit(Insn::Column {
                    cursor: p,
                    column: k,
                    dest: key + k,
                    default: None,
                });
            }
            let ok = self.label();
            self.emit(Insn::NoConflict {
                cursor: ic,
                key_start: key,
                key_count: n,
                target: ok.addr(),
            });
            self.emit(Insn::Halt {
                error: Some((ErrorCode::Constraint, unique_message(table, index))),
                on_error: OnError::Abort,
            });
            self.resolve(ok);
        }
        // Sorted input into a new tree only this cursor writes: append at the right
        // edge (no descent from the root per entry).
        self.emit(Insn::IdxAppendAsync {
            cursor: ic,
            record_reg: data,
        });
        self.emit(Insn::IdxInsertAwait { cursor: ic });
        self.emit(Insn::SorterNext {
            cursor: sorter,
            target_if_more: next.addr(),
        });
        self.resolve(end);
        Ok(())
    }

    pub fn create_view(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::CreateView {
            temporary,
            if_not_exists,
            view_name,
            columns: _,
            select,
        } = stmt
        else {
            unreachable!("dispatched on CreateView")
        };
        let name = names::unquote(view_name.name.0);
        // SQLite's first check (its parser counted them, `pParse->nVar`).
        if has_parameters(text) {
            return Err(error("parameters are not allowed in views"));
        }
        let db = create_db(
            self.schema,
            view_name.db_name.as_ref(),
            *temporary,
            "temporary table name must be unqualified",
        )?;
        let target = self.schema.of_db(db);
        if target.local_table(&name).is_some() || target.local_view(&name).is_some() {
            if *if_not_exists {
                // Nothing to write, but SQLite codes the schema check
                // (sqlite3CodeVerifySchema): a read transaction, inside BEGIN the snapshot.
                self.verify_schema(db);
                return Ok(self.finish(text, Vec::new(), Vec::new()));
            }
            let what = if target.local_view(&name).is_some() {
                "view"
            } else {
                "table"
            };
            return Err(error(format!("{what} {name} already exists")));
        }
        if target.local_index(&name).is_some() {
            return Err(error(format!("there is already an index named {name}")));
        }
        if name.to_ascii_lowercase().starts_with("sqlite_") {
            return Err(error(format!(
                "object name reserved for internal use: {name}"
            )));
        }
        // SQLite resolves a view's SELECT where the view is used, not here: a view may
        // name tables, columns and functions that do not exist yet (its errors are
        // those of the statements using it). What SQLite does check here
        // (sqlite3FixSelect): a view of main may not name objects of another database
        // (`temp.x`). The SELECT is compiled in a scratch compiler for that check only,
        // other errors are ignored; a name of another database after an earlier error
        // (a missing table first) is then refused where the view is used instead.
        if db != TEMP_DB {
            let mut scratch = Compiler::new(self.schema);
            scratch.fixed_db = Some(db);
            scratch.fixed_for = Some(format!("view {name}"));
            if let Err(e) = scratch.select(select, &Dest::Output) {
                if e.message.contains("cannot reference objects in database") {
                    return Err(e);
                }
            }
        }
        self.writes = true;
        let sql = stored_sql("VIEW", text);
        let sc = self.open_schema_write(db);
        self.insert_schema_row(sc, "view", &name, &name, None, Some(&sql));
        self.bump_cookie(db);
        Ok(self.finish(text, Vec::new(), Vec::new()))
    }

    /// Deletes the rows of database `db`'s schema table whose column `col` (1 name, 2
    /// tbl_name) equals `value` (case-insensitively), optionally only of `kind`.
    pub(crate) fn delete_schema_rows(
        &mut self,
        db: usize,
        col: usize,
        value: &str,
        kind: Option<&str>,
    ) {
        let sc = self.open_schema_write(db);
        self.delete_matching_rows(sc, col, value, Collation::NoCase, kind.map(|k| (0, k)));
    }

    /// Deletes the rows of the table open for writing on `cur` whose column `col` equals
    /// `value` under `collation` and, with `also = Some((col2, value2))`, whose column
    /// `col2` is `value2` exactly: the schema rows of a dropped object, the statistics rows
    /// of a dropped table or index.
    pub(crate) fn delete_matching_rows(
        &mut self,
        cur: Cur,
        col: usize,
        value: &str,
        collation: Collation,
        also: Option<(usize, &str)>,
    ) {
        let scan = self.scan_begin(cur);
        let next = scan.next;
        let mut conditions = vec![(col, value, collation)];
        conditions.extend(also.map(|(c, v)| (c, v, Collation::Binary)));
        for (column, value, collation) in conditions {
            let v = self.reg();
            let want = self.reg();
            self.emit(Insn::Column {
                cursor: cur,
                column,
                dest: v,
                default: None,
            });
            self.emit(Insn::String {
                value: value.as_bytes().to_vec(),
                dest: want,
            });
            self.emit(Insn::Compare {
                op: Cmp::Ne,
                lhs: v,
                rhs: want,
                target: next.addr(),
                affinity: Default::default(),
                collation,
                jump_if_null: true,
                null_eq: false,
            });
        }
        self.emit(Insn::DeleteAsync {
            cursor: cur,
            count: strata_vdbe::insn::RowCount::None,
        });
        self.emit(Insn::DeleteAwait { cursor: cur });
        self.scan_end(scan);
    }

    pub fn drop(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        match stmt {
            Stmt::DropTable {
                if_exists,
                tbl_name,
            } => {
                let name = names::unquote(tbl_name.name.0);
                let scope = Scope::of(self.schema, tbl_name);
                if scope.view(self.schema, &name).is_some() {
                    return Err(error(format!("use DROP VIEW to delete view {name}")));
                }
                let Some(table) = scope.table(self.schema, &name) else {
                    if *if_exists {
                        // SQLite's sqlite3CodeVerifyNamedSchema: a read transaction.
                        self.verify_scope(scope);
                        return Ok(self.finish(text, Vec::new(), Vec::new()));
                    }
                    return Err(error(format!("no such table: {}", display_name(tbl_name))));
                };
                if table.root_page == 1 || names::eq(&table.name, "sqlite_sequence") {
                    return Err(error(format!("table {} may not be dropped", table.name)));
                }
                self.writes = true;
                let db = table.db;
                // Its statistics go first (SQLite's sqlite3ClearStatTables).
                self.clear_stat_rows(db, "tbl", &table.name);
                self.fk_drop_table(&table, tbl_name)?;
                let indexes = self.schema.table_indexes(&table);
                // The table and its indexes; then its triggers, which may be TEMP
                // triggers on a main table (and a temp table's tbl_name may equal a main
                // table's, so triggers go by name).
                self.delete_schema_rows(db, 2, &table.name, Some("table"));
                self.delete_schema_rows(db, 2, &table.name, Some("index"));
                let mut roots = vec![table.root_page];
                roots.extend(indexes.iter().map(|ix| ix.root_page));
                self.destroy_trees(db, &roots);
                let triggers: Vec<(usize, String)> = self
                    .schema
                    .all_triggers()
                    .filter(|t| t.table_db == db && names::eq(&t.table, &table.name))
                    .map(|t| (t.db, t.name.clone()))
                    .collect();
                for (tdb, t) in &triggers {
                    self.delete_schema_rows(*tdb, 1, t, Some("trigger"));
                }
                self.bump_cookie(db);
                if triggers.iter().any(|(tdb, _)| *tdb != db) {
                    self.bump_cookie(TEMP_DB);
                }
            }
            Stmt::DropIndex {
                if_exists,
                idx_name,
            } => {
                let name = names::unquote(idx_name.name.0);
                let scope = Scope::of(self.schema, idx_name);
                let Some(ix) = scope.index(self.schema, &name) else {
                    if *if_exists {
                        // SQLite's sqlite3CodeVerifyNamedSchema: a read transaction.
                        self.verify_scope(scope);
                        return Ok(self.finish(text, Vec::new(), Vec::new()));
                    }
                    return Err(error(format!("no such index: {}", display_name(idx_name))));
                };
                if ix.auto {
                    return Err(error(
                        "index associated with UNIQUE or PRIMARY KEY constraint cannot be dropped",
                    ));
                }
                self.writes = true;
                self.delete_schema_rows(ix.db, 1, &ix.name, Some("index"));
                self.clear_stat_rows(ix.db, "idx", &ix.name);
                self.destroy_trees(ix.db, &[ix.root_page]);
                self.bump_cookie(ix.db);
            }
            Stmt::DropView {
                if_exists,
                view_name,
            } => {
                let name = names::unquote(view_name.name.0);
                let scope = Scope::of(self.schema, view_name);
                if scope.table(self.schema, &name).is_some() {
                    return Err(error(format!("use DROP TABLE to delete table {name}")));
                }
                let Some(v) = scope.view(self.schema, &name) else {
                    if *if_exists {
                        // SQLite's sqlite3CodeVerifyNamedSchema: a read transaction.
                        self.verify_scope(scope);
                        return Ok(self.finish(text, Vec::new(), Vec::new()));
                    }
                    return Err(error(format!("no such view: {}", display_name(view_name))));
                };
                self.writes = true;
                self.delete_schema_rows(v.db, 1, &v.name, Some("view"));
                // Its INSTEAD OF triggers go with it (TEMP ones on a view of main too).
                let mut triggers: Vec<(usize, String)> = self
                    .schema
                    .all_triggers()
                    .filter(|t| t.table_db == v.db && names::eq(&t.table, &v.name))
                    .map(|t| (t.db, t.name.clone()))
                    .collect();
                // In a fixed order, not the schema map's: the order of the deletes decides
                // the b-tree's pages, and a run must be the same every time (the
                // simulator's digest: seeds 5 and 36 differed between runs).
                triggers.sort();
                for (tdb, t) in &triggers {
                    self.delete_schema_rows(*tdb, 1, t, Some("trigger"));
                }
                self.bump_cookie(v.db);
                if triggers.iter().any(|(tdb, _)| *tdb != v.db) {
                    self.bump_cookie(TEMP_DB);
                }
            }
            _ => unreachable!("dispatched on DROP"),
        }
        Ok(self.finish(text, Vec::new(), Vec::new()))
    }
}

/// "UNIQUE constraint failed: t.a, t.b" (or the rowid column for a rowid conflict).
pub fn unique_message(table: &Table, index: &Index) -> String {
    // An index on expressions is named by its name, as SQLite does.
    if index.columns.iter().any(|c| c.expr.is_some()) {
        return format!("UNIQUE constraint failed: index '{}'", index.name);
    }
    let cols: Vec<String> = index
        .columns
        .iter()
        .map(|c| format!("{}.{}", table.name, table.columns[c.column].name))
        .collect();
    format!("UNIQUE constraint failed: {}", cols.join(", "))
}

/// Whether the statement text holds a parameter (`?`, `?N`, `:a`, `@a`, `$a`).
fn has_parameters(text: &str) -> bool {
    use sqlite3_parser::dialect::TokenType;
    use sqlite3_parser::lexer::sql::Tokenizer;
    use sqlite3_parser::lexer::Scanner;
    let mut scanner = Scanner::new(Tokenizer::new());
    loop {
        match scanner.scan(text.as_bytes()) {
            Ok((_, Some((_, TokenType::TK_VARIABLE)), _)) => return true,
            Ok((_, Some(_), _)) => {}
            // The statement parsed, so it lexes; no parameter seen otherwise.
            Ok((_, None, _)) | Err(_) => return false,
        }
    }
}

/// The cursor kind that reads `table`'s rows: a table B-tree, or for a WITHOUT ROWID
/// table the index B-tree of its PRIMARY KEY.
pub(crate) fn table_cursor_kind(table: &Table) -> CursorKind {
    match &table.without_rowid {
        Some(wr) => CursorKind::Index {
            key_info: wr.key_info(),
        },
        None => CursorKind::Table {
            num_columns: table.columns.len(),
        },
    }
}
