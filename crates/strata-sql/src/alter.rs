//! ALTER TABLE: ADD COLUMN and RENAME TO, by rewriting the `sqlite_schema` rows' SQL the
//! way SQLite does (the stored text keeps the user's spelling; only names change).
//! Rows written before an ADD COLUMN read the new column's DEFAULT (records are never
//! rewritten), which is why the default must be a constant.

use sqlite3_parser::ast::{AlterTableBody, ColumnConstraint, Expr, Literal, Stmt, UnaryOperator};
use strata_btree::record::{Collation, Value};
use strata_vdbe::insn::{Cur, InsertFlags, Insn};
use strata_vdbe::ops::Cmp;
use strata_vdbe::program::Program;

use crate::compiler::{error, Compiler, Result};
use crate::expr::numeric_literal;
use crate::names;

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

impl Compiler<'_> {
    /// Scans `sqlite_schema` and, for each row whose `col` equals `value`, rewrites its
    /// name, tbl_name and sql with the new values (computed at compile time per row name).
    pub(crate) fn rewrite_schema_rows(
        &mut self,
        db: usize,
        rewrites: &[(String, String, String, String, Option<String>)],
    ) {
        // (type, old name, new name, new tbl_name, new sql)
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
        let scope = crate::compiler::Scope::of(qn);
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
        match body {
            AlterTableBody::AddColumn(def) => {
                let cname = names::unquote(def.col_name.0);
                if table.column_index(&cname).is_some() {
                    return Err(error(format!("duplicate column name: {cname}")));
                }
                let mut default = Value::Null;
                let mut not_null = false;
                let mut references = false;
                for c in def.constraints.iter() {
                    match &c.constraint {
                        ColumnConstraint::ForeignKey { .. } => references = true,
                        ColumnConstraint::PrimaryKey { .. } => {
                            return Err(error("Cannot add a PRIMARY KEY column"))
                        }
                        ColumnConstraint::Unique(_) => {
                            return Err(error("Cannot add a UNIQUE column"))
                        }
                        ColumnConstraint::NotNull {
                            nullable: false, ..
                        } => not_null = true,
                        ColumnConstraint::Default(e) => {
                            default = constant_default(e).ok_or_else(|| {
                                error("Cannot add a column with non-constant default")
                            })?;
                        }
                        ColumnConstraint::Generated { .. } => {
                            return Err(error("cannot add a generated column"))
                        }
                        _ => {}
                    }
                }
                if not_null && default == Value::Null {
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
                let sql = table.sql.trim_end();
                let Some(close) = sql.rfind(')') else {
                    return Err(error("malformed table definition"));
                };
                let new_sql = format!("{}, {}{}", sql[..close].trim_end(), coldef, &sql[close..]);
                // The new definition must parse.
                crate::schema::parse_table(&new_sql, table.root_page)?;
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
                let off = crate::split::create_name_offset(&table.sql).unwrap_or(0);
                let (s, e) =
                    ident_at(&table.sql, off).ok_or_else(|| error("malformed table definition"))?;
                let _ = s;
                let new_sql = format!("CREATE TABLE {}{}", quoted(&new), &table.sql[e..]);
                let new_sql = rename_references(&new_sql, &table.name, &new);
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
                // The table's triggers: in its database, and TEMP triggers on a main
                // table (rewritten in the temp database, as SQLite does).
                let mut trigs: Vec<_> = self
                    .schema
                    .all_triggers()
                    .filter(|t| t.table_db == table.db && names::eq(&t.table, &table.name))
                    .cloned()
                    .collect();
                trigs.sort_by(|a, b| a.name.cmp(&b.name));
                let mut temp_rewrites = Vec::new();
                for t in trigs {
                    let sql = rename_on_target(&t.sql, &table.name, &new);
                    let row = (
                        "trigger".into(),
                        t.name.clone(),
                        t.name.clone(),
                        new.clone(),
                        Some(sql),
                    );
                    if t.db == table.db {
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
        Ok(self.finish(text, Vec::new(), Vec::new()))
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
