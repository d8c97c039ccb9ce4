//! ALTER TABLE: ADD COLUMN and RENAME TO, by rewriting the `sqlite_schema` rows' SQL the
//! way SQLite does (the stored text keeps the user's spelling; only names change).
//! Rows written before an ADD COLUMN read the new column's DEFAULT (records are never
//! rewritten), which is why the default must be a constant.

use sqlite3_parser::ast::{AlterTableBody, ColumnConstraint, Expr, Literal, Stmt, UnaryOperator};
use strata_btree::record::{Collation, Value};
use strata_vdbe::insn::{Cur, InsertFlags, Insn, TEMP_DB};
use strata_vdbe::ops::Cmp;
use strata_vdbe::program::Program;

use crate::alter_tokens::{self as tk, Toks};
use crate::compiler::{error, Compiler, Result};
use crate::expr::numeric_literal;
use crate::names;
use crate::schema::Table;

/// The value of a constant DEFAULT expression (literal, signed number, NULL), else None.
pub fn constant_default(e: &Expr<'_>) -> Option<Value> {
    match e {
        Expr::Literal(Literal::Numeric(s)) => numeric_literal(s, false).ok(),
        Expr::Literal(Literal::String(s)) => Some(Value::Text(names::unquote(s).into_bytes())),
        Expr::Literal(Literal::Null) => Some(Value::Null),
        Expr::Literal(Literal::Blob(h)) => {
            let b = h.as_bytes();
            if b.len() % 2 != 0 || !b.iter().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            Some(Value::Blob(
                b.chunks(2)
                    .map(|p| {
                        u8::from_str_radix(std::str::from_utf8(p).unwrap_or("0"), 16).unwrap_or(0)
                    })
                    .collect(),
            ))
        }
        Expr::Literal(Literal::Keyword(k)) if k.eq_ignore_ascii_case("true") => {
            Some(Value::Integer(1))
        }
        Expr::Literal(Literal::Keyword(k)) if k.eq_ignore_ascii_case("false") => {
            Some(Value::Integer(0))
        }
        Expr::Unary(UnaryOperator::Negative, inner) => match inner {
            Expr::Literal(Literal::Numeric(s)) => numeric_literal(s, true).ok(),
            _ => None,
        },
        Expr::Unary(UnaryOperator::Positive, inner) => constant_default(inner),
        Expr::Parenthesized(v) if v.len() == 1 => constant_default(&v[0]),
        _ => None,
    }
}

/// Offset just past the word `word` (case-insensitive, outside quotes) at or after `from`.
fn after_word(sql: &str, word: &str, from: usize) -> Option<usize> {
    let b = sql.as_bytes();
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' || c == b'`' || c == b'[' {
            let close = if c == b'[' { b']' } else { c };
            i += 1;
            while i < b.len() && b[i] != close {
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let s = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            if sql[s..i].eq_ignore_ascii_case(word) {
                return Some(i);
            }
            continue;
        }
        i += 1;
    }
    None
}

/// The identifier token starting at or after `i` (skipping blanks): (start, end).
fn ident_at(sql: &str, mut i: usize) -> Option<(usize, usize)> {
    let b = sql.as_bytes();
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let s = i;
    match b.get(i)? {
        q @ (b'"' | b'`' | b'\'') => {
            let q = *q;
            i += 1;
            while i < b.len() {
                if b[i] == q {
                    if b.get(i + 1) == Some(&q) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            Some((s, (i + 1).min(b.len())))
        }
        b'[' => {
            while i < b.len() && b[i] != b']' {
                i += 1;
            }
            Some((s, (i + 1).min(b.len())))
        }
        _ => {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            (i > s).then_some((s, i))
        }
    }
}

/// SQLite writes a renamed object's name in double quotes.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Replaces the table name after `ON` in an index or trigger's SQL.
fn rename_on_target(sql: &str, old: &str, new: &str) -> String {
    let mut from = 0;
    while let Some(after_on) = after_word(sql, "ON", from) {
        // `ON schema.t`: the table is the name after the dot.
        let target = ident_at(sql, after_on).map(|(s, e)| {
            let dot = sql[e..].trim_start();
            match dot.strip_prefix('.') {
                Some(rest) => ident_at(sql, sql.len() - rest.len()).unwrap_or((s, e)),
                None => (s, e),
            }
        });
        if let Some((s, e)) = target {
            if names::eq(&names::unquote(&sql[s..e]), old) {
                return format!("{}{}{}", &sql[..s], quoted(new), &sql[e..]);
            }
            from = e;
        } else {
            from = after_on;
        }
    }
    sql.to_string()
}

/// Replaces `old.` qualifiers in a partial index's WHERE (after its `WHERE` keyword)
/// with the new table name, as SQLite's rename does.
fn rename_where_qualifiers(sql: &str, old: &str, new: &str) -> String {
    let Some(k) = crate::alter_tokens::Toks::new(sql) else {
        return sql.to_string();
    };
    let Some(w) = (0..k.t.len()).find(|&i| k.is(i, "WHERE")) else {
        return sql.to_string();
    };
    let mut out = String::new();
    let mut copied = 0;
    for i in w + 1..k.t.len() {
        if k.is(i + 1, ".") && k.names(i, old) {
            out.push_str(&sql[copied..k.t[i].s]);
            out.push_str(&quoted(new));
            copied = k.t[i].e;
        }
    }
    out.push_str(&sql[copied..]);
    out
}

/// Replaces the parent table name after every `REFERENCES` in a CREATE TABLE's SQL
/// (SQLite rewrites foreign keys when their parent is renamed).
fn rename_references(sql: &str, old: &str, new: &str) -> String {
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(after) = after_word(sql, "REFERENCES", from) {
        match ident_at(sql, after) {
            Some((s, e)) => {
                if names::eq(&names::unquote(&sql[s..e]), old) {
                    out.push_str(&sql[copied..s]);
                    out.push_str(&quoted(new));
                    copied = e;
                }
                from = e;
            }
            None => from = after,
        }
    }
    out.push_str(&sql[copied..]);
    out
}

/// A schema row rewrite: (type, old name, new name, new tbl_name, new sql).
pub(crate) type SchemaRewrite = (String, String, String, String, Option<String>);

impl Compiler<'_> {
    /// Scans `sqlite_schema` and, for each row whose `col` equals `value`, rewrites its
    /// name, tbl_name and sql with the new values (computed at compile time per row name).
    pub(crate) fn rewrite_schema_rows(&mut self, db: usize, rewrites: &[SchemaRewrite]) {
        let sc: Cur = self.open_schema_write(db);
        let scan = self.scan_begin(sc);
        let next = scan.next;
        let ty = self.reg();
        let name = self.reg();
        let root = self.reg();
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
        self.emit(Insn::Column {
            cursor: sc,
            column: 3,
            dest: root,
            default: None,
        });
        for (kind, old, new, tbl, sql) in rewrites {
            let skip = self.label();
            let want = self.reg();
            let wk = self.reg();
            self.emit(Insn::String {
                value: kind.as_bytes().to_vec(),
                dest: wk,
            });
            self.emit(Insn::Compare {
                op: Cmp::Ne,
                lhs: ty,
                rhs: wk,
                target: skip.addr(),
                affinity: Default::default(),
                collation: Collation::Binary,
                jump_if_null: true,
                null_eq: false,
            });
            self.emit(Insn::String {
                value: old.as_bytes().to_vec(),
                dest: want,
            });
            self.emit(Insn::Compare {
                op: Cmp::Ne,
                lhs: name,
                rhs: want,
                target: skip.addr(),
                affinity: Default::default(),
                collation: Collation::NoCase,
                jump_if_null: true,
                null_eq: false,
            });
            let regs = self.regs(5);
            self.emit(Insn::Copy {
                src: ty,
                dest: regs,
                count: 1,
            });
            self.emit(Insn::String {
                value: new.as_bytes().to_vec(),
                dest: regs + 1,
            });
            self.emit(Insn::String {
                value: tbl.as_bytes().to_vec(),
                dest: regs + 2,
            });
            self.emit(Insn::Copy {
                src: root,
                dest: regs + 3,
                count: 1,
            });
            self.load_opt_text(sql.as_deref(), regs + 4);
            self.replace_schema_row(sc, regs);
            self.goto(next);
            self.resolve(skip);
        }
        self.scan_end(scan);
    }

    pub fn alter_table(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::AlterTable(qn, body) = stmt else {
            unreachable!("dispatched on AlterTable")
        };
        let tname = names::unquote(qn.name.0);
        let scope = crate::compiler::Scope::of(self.schema, qn);
        if let Some(v) = scope.view(self.schema, &tname) {
            return Err(error(match body {
                AlterTableBody::RenameColumn { .. } => {
                    format!("cannot rename columns of view \"{}\"", v.name)
                }
                AlterTableBody::DropColumn(_) => {
                    format!("cannot drop column from view \"{}\"", v.name)
                }
                _ => format!("Cannot alter view {tname}"),
            }));
        }
        let table = scope.table(self.schema, &tname).ok_or_else(|| {
            error(format!(
                "no such table: {}",
                crate::compiler::display_name(qn)
            ))
        })?;
        if table.root_page == 1 || table.name.to_ascii_lowercase().starts_with("sqlite_") {
            // SQLite names its schema tables by their legacy names here.
            let shown = match (table.root_page, table.db) {
                (1, strata_vdbe::insn::TEMP_DB) => "sqlite_temp_master",
                (1, _) => "sqlite_master",
                _ => &table.name,
            };
            return Err(error(format!("table {shown} may not be altered")));
        }
        self.writes = true;
        // The result column SQLite's ADD COLUMN statement reports: that of the first
        // SELECT its nested checks parse (see `add_column_check_name`).
        let mut names = Vec::new();
        match body {
            AlterTableBody::AddColumn(def) => {
                let cname = names::unquote(def.col_name.0);
                if table.column_index(&cname).is_some() {
                    return Err(error(format!("duplicate column name: {cname}")));
                }
                let mut default = Value::Null;
                let mut not_null = false;
                let mut references = false;
                // A generated column: only VIRTUAL can be added (its value is computed,
                // so the existing records stay as they are).
                let mut generated = false;
                let mut stored = false;
                let mut has_check = false;
                for c in def.constraints.iter() {
                    match &c.constraint {
                        ColumnConstraint::ForeignKey { .. } => references = true,
                        ColumnConstraint::PrimaryKey { .. } if generated => {
                            return Err(error(
                                "generated columns cannot be part of the PRIMARY KEY",
                            ))
                        }
                        ColumnConstraint::PrimaryKey { .. } => {
                            return Err(error("Cannot add a PRIMARY KEY column"))
                        }
                        ColumnConstraint::Unique(_) => {
                            return Err(error("Cannot add a UNIQUE column"))
                        }
                        ColumnConstraint::NotNull {
                            nullable: false, ..
                        } => not_null = true,
                        ColumnConstraint::Check(..) => has_check = true,
                        ColumnConstraint::Default(_) if generated => {
                            return Err(error("cannot use DEFAULT on a generated column"))
                        }
                        ColumnConstraint::Default(e) => {
                            default = constant_default(e).ok_or_else(|| {
                                error("Cannot add a column with non-constant default")
                            })?;
                        }
                        ColumnConstraint::Generated { typ, .. } => {
                            // STORED only to an empty table (SQLite's
                            // sqlite3ErrorIfNotEmpty): no record would have the field.
                            stored |=
                                typ.as_ref().is_some_and(|t| t.0.eq_ignore_ascii_case("stored"));
                            generated = true;
                        }
                        _ => {}
                    }
                }
                if not_null && default == Value::Null && !generated {
                    return Err(error(
                        "Cannot add a NOT NULL column with default value NULL",
                    ));
                }
                // The column definition as written: the text after ADD [COLUMN].
                let mut off = after_word(text, "ADD", 0).unwrap_or(text.len());
                if let Some((s, e)) = ident_at(text, off) {
                    if text[s..e].eq_ignore_ascii_case("COLUMN") {
                        off = e;
                    }
                }
                let coldef = text[off..].trim().trim_end_matches(';').trim();
                // SQLite inserts `, <coldef>` at its addColOffset: the comma before the
                // first table constraint, or the closing parenthesis, text kept as is.
                let sql = table.sql.as_str();
                let pos = Toks::new(sql)
                    .and_then(|k| tk::table_shape(&k).map(|shape| k.t[shape.columns_end].s))
                    .ok_or_else(|| error("malformed table definition"))?;
                let new_sql = format!("{}, {}{}", &sql[..pos], coldef, &sql[pos..]);
                // The new definition must parse.
                let mut new_table = crate::schema::parse_table(&new_sql, table.root_page)?;
                new_table.db = table.db;
                let new_table = std::sync::Arc::new(new_table);
                if generated {
                    self.validate_generated(&new_table, false).map_err(|e| {
                        error(format!(
                            "error in table {} after add column: {}",
                            table.name, e.message
                        ))
                    })?;
                }
                if stored {
                    self.error_if_not_empty(&table, "cannot add a STORED column");
                    names.push(crate::generated::NOT_EMPTY_STORED.to_string());
                }
                // SQLite checks the existing rows (its pragma_quick_check) when the new
                // column has a CHECK or is a NOT NULL generated one (or the table is
                // STRICT: only its result column is followed here).
                let quick_check = has_check || (not_null && generated);
                if quick_check {
                    self.check_added_rows(&new_table, not_null && generated)?;
                }
                if names.is_empty() && (quick_check || table.strict.is_some()) {
                    names.push(crate::generated::QUICK_CHECK.to_string());
                }
                if references && default != Value::Null {
                    // With foreign keys on, existing rows would all get a non-NULL child
                    // key: refused unless the table is empty (as SQLite).
                    let skip = self.label();
                    self.emit(Insn::FkJump {
                        cond: strata_vdbe::insn::FkCond::Disabled,
                        target: skip.addr(),
                    });
                    let cursor = self.b.alloc_cursor();
                    self.open_table_read(cursor, &table);
                    self.emit(Insn::RewindAsync { cursor });
                    self.emit(Insn::RewindAwait {
                        cursor,
                        target_if_empty: skip.addr(),
                    });
                    self.emit(Insn::Halt {
                        error: Some((
                            strata_vdbe::insn::ErrorCode::Constraint,
                            "Cannot add a REFERENCES column with non-NULL default value".into(),
                        )),
                        on_error: Default::default(),
                    });
                    self.resolve(skip);
                }
                self.rewrite_schema_rows(
                    table.db,
                    &[(
                        "table".into(),
                        table.name.clone(),
                        table.name.clone(),
                        table.name.clone(),
                        Some(new_sql),
                    )],
                );
            }
            AlterTableBody::RenameTo(new) => {
                let new = names::unquote(new.0);
                let target = self.schema.of_db(table.db);
                if target.local_table(&new).is_some()
                    || target.local_view(&new).is_some()
                    || target.local_index(&new).is_some()
                {
                    return Err(error(format!(
                        "there is already another table or index with this name: {new}"
                    )));
                }
                if new.to_ascii_lowercase().starts_with("sqlite_") {
                    return Err(error(format!(
                        "object name reserved for internal use: {new}"
                    )));
                }
                if self.broken_dependents(&table) {
                    // The statement raises an error at run time; nothing to commit.
                    return Ok(self.finish(text, Vec::new(), Vec::new()));
                }
                let off = crate::split::create_name_offset(&table.sql).unwrap_or(0);
                let (s, e) =
                    ident_at(&table.sql, off).ok_or_else(|| error("malformed table definition"))?;
                let _ = s;
                let new_sql = format!("CREATE TABLE {}{}", quoted(&new), &table.sql[e..]);
                let new_sql = rename_references(&new_sql, &table.name, &new);
                // `a.col` inside the table's own CHECK constraints.
                let new_sql = match Toks::new(&new_sql) {
                    Some(k) => {
                        let at: Vec<usize> = (1..k.t.len())
                            .filter(|&i| k.names(i, &table.name) && k.is(i + 1, "."))
                            .collect();
                        tk::edit(&new_sql, &k, &at, &new, true)
                    }
                    None => new_sql,
                };
                let mut rewrites = vec![(
                    "table".to_string(),
                    table.name.clone(),
                    new.clone(),
                    new.clone(),
                    Some(new_sql),
                )];
                for ix in self.schema.table_indexes(&table) {
                    let sql = if ix.auto {
                        None
                    } else {
                        let row_sql = self.index_sql(ix.db, &ix.name);
                        row_sql.map(|s| {
                            rename_where_qualifiers(
                                &rename_on_target(&s, &table.name, &new),
                                &table.name,
                                &new,
                            )
                        })
                    };
                    let new_name = if ix.auto {
                        ix.name.replacen(
                            &format!("sqlite_autoindex_{}_", table.name),
                            &format!("sqlite_autoindex_{new}_"),
                            1,
                        )
                    } else {
                        ix.name.clone()
                    };
                    rewrites.push(("index".into(), ix.name.clone(), new_name, new.clone(), sql));
                }
                // Views and triggers naming the table (its own triggers' ON target, and
                // any FROM / INTO / UPDATE / `a.col` in a view or trigger body), in its
                // database and, for a main table, in TEMP (unless a TEMP table of that
                // name hides it there), as SQLite's sqlite_rename_table rewrites them.
                let mut temp_rewrites = Vec::new();
                for (db, row) in self.rename_table_dependents(&table, &new)? {
                    if db == table.db {
                        rewrites.push(row);
                    } else {
                        temp_rewrites.push(row);
                    }
                }
                // Foreign keys of other tables naming the renamed one as their parent.
                let mut children: Vec<_> = self
                    .schema
                    .tables
                    .values()
                    .filter(|t| {
                        !names::eq(&t.name, &table.name)
                            && t.foreign_keys
                                .iter()
                                .any(|fk| names::eq(&fk.parent, &table.name))
                    })
                    .cloned()
                    .collect();
                children.sort_by(|a, b| a.name.cmp(&b.name));
                for c in children {
                    rewrites.push((
                        "table".into(),
                        c.name.clone(),
                        c.name.clone(),
                        c.name.clone(),
                        Some(rename_references(&c.sql, &table.name, &new)),
                    ));
                }
                self.rewrite_schema_rows(table.db, &rewrites);
                if !temp_rewrites.is_empty() {
                    self.rewrite_schema_rows(strata_vdbe::insn::TEMP_DB, &temp_rewrites);
                    self.bump_cookie(strata_vdbe::insn::TEMP_DB);
                }
                if table.autoincrement {
                    let seq = self.schema.of_db(table.db).local_table("sqlite_sequence");
                    if let Some(seq) = seq.cloned() {
                        self.rename_sequence_entry(seq.db, seq.root_page, &table.name, &new);
                    }
                }
            }
            AlterTableBody::RenameColumn { old, new } => {
                if self.alter_rename_column(&table, old, new)? {
                    // The statement raises an error at run time; nothing to commit.
                    return Ok(self.finish(text, Vec::new(), Vec::new()));
                }
            }
            AlterTableBody::DropColumn(name) => {
                if self.alter_drop_column(&table, name)? {
                    // The statement raises an error at run time; nothing to commit.
                    return Ok(self.finish(text, Vec::new(), Vec::new()));
                }
            }
            _ => {
                return Err(error(
                    "this form of ALTER TABLE is not supported yet (ADD COLUMN, RENAME TO, RENAME COLUMN and DROP COLUMN are)",
                ))
            }
        }
        self.bump_cookie(table.db);
        let n = names.len();
        Ok(self.finish(text, names, vec![None; n]))
    }

    /// The schema rows of the views and triggers that name `table`, rewritten for its new
    /// name: (database, (type, name, new name, new tbl_name, new sql)). Only rows whose
    /// text changes. An object whose references the token walk cannot resolve for sure
    /// fails the statement with a clear error instead of a guess.
    fn rename_table_dependents(
        &self,
        table: &Table,
        new: &str,
    ) -> Result<Vec<(usize, SchemaRewrite)>> {
        let mut dbs = vec![table.db];
        if table.db != TEMP_DB
            && self
                .schema
                .temp
                .as_ref()
                .is_some_and(|t| t.local_table(&table.name).is_none())
        {
            dbs.push(TEMP_DB);
        }
        let mut out = Vec::new();
        for db in dbs {
            let s = self.schema.of_db(db);
            let mut objects: Vec<(&'static str, String, String, String)> = Vec::new();
            let mut views: Vec<_> = s.views.values().collect();
            views.sort_by(|a, b| a.name.cmp(&b.name));
            objects.extend(
                views
                    .into_iter()
                    .map(|v| ("view", v.name.clone(), v.name.clone(), v.sql.clone())),
            );
            let mut trigs: Vec<_> = s.triggers.values().collect();
            trigs.sort_by(|a, b| a.name.cmp(&b.name));
            for t in trigs {
                // A trigger's table: the renamed one only if it lives in its database.
                let tbl = if t.table_db == table.db && names::eq(&t.table, &table.name) {
                    new.to_string()
                } else {
                    t.table.clone()
                };
                objects.push(("trigger", t.name.clone(), tbl, t.sql.clone()));
            }
            for (kind, name, tbl, sql) in objects {
                let unsure = |why: String| {
                    error(format!(
                        "cannot rename table {}: {kind} {name} names it in a way Strata cannot rewrite safely ({why})",
                        table.name
                    ))
                };
                let k = Toks::new(&sql).ok_or_else(|| unsure("its SQL does not lex".into()))?;
                let parts = if kind == "view" {
                    tk::view_parts(&k)
                } else {
                    tk::trigger_parts(&k)
                }
                .ok_or_else(|| unsure("its SQL does not parse".into()))?;
                let mut at = Vec::new();
                if kind == "trigger" && tbl == new {
                    // The ON target (after a schema name, if qualified).
                    if let Some(on) = (0..k.t.len()).find(|&i| k.is(i, "ON")) {
                        let t = if k.is(on + 2, ".") { on + 3 } else { on + 1 };
                        at.push(t);
                    }
                }
                for &range in &parts.statements {
                    at.extend(tk::table_refs(&k, range, &table.name).map_err(unsure)?);
                }
                if at.is_empty() {
                    continue;
                }
                let sql = tk::edit(&sql, &k, &at, new, true);
                out.push((db, (kind.to_string(), name.clone(), name, tbl, Some(sql))));
            }
        }
        Ok(out)
    }

    fn index_sql(&self, db: usize, name: &str) -> Option<String> {
        // Index SQL is not kept in the model; rebuild it as SQLite stored it from the
        // schema row text recorded at load time.
        self.schema
            .of_db(db)
            .index_sql
            .get(&name.to_ascii_lowercase())
            .cloned()
    }

    fn rename_sequence_entry(&mut self, db: usize, root: u32, old: &str, new: &str) {
        let cur = self.b.alloc_cursor();
        self.emit(Insn::OpenWriteAsync {
            db,
            cursor: cur,
            root_page: root,
            root_reg: None,
            kind: strata_vdbe::insn::CursorKind::Table { num_columns: 2 },
        });
        self.emit(Insn::OpenWriteAwait { cursor: cur });
        let scan = self.scan_begin(cur);
        let next = scan.next;
        let n = self.reg();
        let want = self.reg();
        self.emit(Insn::Column {
            cursor: cur,
            column: 0,
            dest: n,
            default: None,
        });
        self.emit(Insn::String {
            value: old.as_bytes().to_vec(),
            dest: want,
        });
        self.emit(Insn::Compare {
            op: Cmp::Ne,
            lhs: n,
            rhs: want,
            target: next.addr(),
            affinity: Default::default(),
            collation: Collation::Binary,
            jump_if_null: true,
            null_eq: false,
        });
        let regs = self.regs(2);
        self.emit(Insn::String {
            value: new.as_bytes().to_vec(),
            dest: regs,
        });
        self.emit(Insn::Column {
            cursor: cur,
            column: 1,
            dest: regs + 1,
            default: None,
        });
        let rec = self.reg();
        let rowid = self.reg();
        self.emit(Insn::MakeRecord {
            start: regs,
            count: 2,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::Rowid {
            cursor: cur,
            dest: rowid,
        });
        self.emit(Insn::InsertAsync {
            cursor: cur,
            key_reg: rowid,
            record_reg: rec,
            flags: InsertFlags {
                is_update: true,
                ..Default::default()
            },
            table: "sqlite_sequence".into(),
        });
        self.emit(Insn::InsertAwait { cursor: cur });
        self.scan_end(scan);
    }
}
