//! Generated columns (`b AS (a * 2) [VIRTUAL | STORED]`), as SQLite has them.
//!
//! File format: a record holds every column but the VIRTUAL ones, in table order
//! ([`Table::storage_index`], SQLite's `sqlite3TableColumnToStorage`); STORED values are
//! in the record like any column. Everywhere else in the compiler a row image in
//! registers (`cols + i`) is in *table* column order, every column present: writes
//! compute the generated columns into it ([`Compiler::compute_generated`]) and
//! [`Compiler::write_row`] leaves the VIRTUAL ones out of the record; reads of a stored
//! row go through `emit_column` (queries) or [`Compiler::table_column`] (old rows, keys),
//! which map the column to its record field or compute a VIRTUAL one from the row (NULL
//! on an outer join's NULL row).
//!
//! Checks as SQLite's: the expression may not use subqueries, parameters, `.`-qualified
//! names or non-deterministic functions (made at CREATE TABLE / ADD COLUMN); unknown
//! columns, aggregates and window functions are refused by compiling it against the
//! table. CREATE TABLE refuses a loop ("generated column loop on ..."); ADD COLUMN lets
//! one through as SQLite does, and every statement computing the column then fails with
//! that error.

use std::sync::Arc;

use sqlite3_parser::ast::{self, Expr};
use strata_vdbe::affinity::Affinity;
use strata_vdbe::insn::{Cur, Insn, PureContext, Reg};

use crate::compiler::{error, Compiler, Result};
use crate::expr_walk::walk;
use crate::names;
use crate::partial_index::{prohibited, schema_call_failure, with_where};
use crate::schema::Table;
use crate::scope::Level;
use crate::select::table_source;

/// The result column of SQLite's ADD COLUMN ... STORED: its nested
/// `SELECT raise(ABORT, ...)` (sqlite3ErrorIfNotEmpty) names it.
pub(crate) const NOT_EMPTY_STORED: &str = "raise(ABORT,'cannot add a STORED column')";

/// The result column of SQLite's ADD COLUMN when it checks the existing rows through
/// `pragma_quick_check` (a nested SELECT of this expression).
pub(crate) const QUICK_CHECK: &str = "CASE WHEN quick_check GLOB 'CHECK*' THEN raise(ABORT,'CHECK constraint failed') WHEN quick_check GLOB 'non-* value in*' THEN raise(ABORT,'type mismatch on DEFAULT') ELSE raise(ABORT,'NOT NULL constraint failed') END";

/// SQLite's checks on a generated column's expression that name resolution does not make
/// (`NC_GenCol` in its resolver).
pub(crate) fn validate(table: &Table, e: &Expr<'_>) -> Result<()> {
    let mut failure: Option<String> = None;
    walk(e, &mut |x| {
        if failure.is_some() {
            return false;
        }
        failure = match x {
            Expr::Exists(_) | Expr::Subquery(_) | Expr::InSelect { .. } | Expr::InTable { .. } => {
                Some("subqueries prohibited in generated columns".into())
            }
            Expr::Variable(_) => Some("parameters prohibited in generated columns".into()),
            // A qualified name: SQLite resolves it first (another table's column is
            // no such column), then refuses the "." on its own table's.
            Expr::Qualified(t, c) if !names::eq(&names::unquote(t.0), &table.name) => {
                Some(format!(
                    "no such column: {}.{}",
                    names::unquote(t.0),
                    names::unquote(c.0)
                ))
            }
            // The rowid is no column a generated column may read.
            Expr::Id(id)
                if table.column_index(&names::unquote(id.0)).is_none()
                    && ["rowid", "oid", "_rowid_"]
                        .iter()
                        .any(|r| names::eq(r, &names::unquote(id.0))) =>
            {
                Some(format!("no such column: {}", names::unquote(id.0)))
            }
            Expr::Qualified(..) | Expr::DoublyQualified(..) => {
                Some("the \".\" operator prohibited in generated columns".into())
            }
            Expr::Raise(..) => Some("RAISE() may only be used within a trigger-program".into()),
            // CURRENT_TIME and the like are never deterministic (date('now') is refused
            // only when it runs, see `PureContext`).
            Expr::Literal(
                ast::Literal::CurrentDate
                | ast::Literal::CurrentTime
                | ast::Literal::CurrentTimestamp,
            ) => Some(prohibited("generated columns")),
            Expr::FunctionCall { name, .. } | Expr::FunctionCallStar { name, .. } => {
                schema_call_failure(name.0, "generated columns")
            }
            _ => None,
        };
        failure.is_none()
    });
    match failure {
        Some(m) => Err(error(m)),
        None => Ok(()),
    }
}

/// The columns of `table` that generated column `i`'s expression names.
fn references(table: &Table, i: usize) -> Vec<usize> {
    let Some(g) = &table.columns[i].generated else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let _ = with_where(&g.expr, |e| {
        walk(e, &mut |x| {
            let n = match x {
                Expr::Id(id) => Some(names::unquote(id.0)),
                Expr::Name(n) => Some(names::unquote(n.0)),
                _ => None,
            };
            if let Some(j) = n.and_then(|n| table.column_index(&n)) {
                out.push(j);
            }
            true
        });
        Ok(())
    });
    out
}

/// Marks as changed every generated column whose expression reads a changed column
/// (transitively), as SQLite's UPDATE does.
pub(crate) fn mark_changed(table: &Table, changed: &mut [bool]) {
    let refs: Vec<Vec<usize>> = (0..table.columns.len())
        .map(|i| references(table, i))
        .collect();
    loop {
        let mut progress = false;
        for (i, r) in refs.iter().enumerate() {
            if !changed[i] && table.columns[i].generated.is_some() && r.iter().any(|&j| changed[j])
            {
                changed[i] = true;
                progress = true;
            }
        }
        if !progress {
            return;
        }
    }
}

/// The order in which a row's generated columns are computed, SQLite's
/// `sqlite3ComputeGeneratedColumns`: passes over the table's columns, each computing the
/// ones whose expressions read no generated column still to compute; if a pass makes no
/// progress, "generated column loop on" the last column it could not compute.
pub(crate) fn compute_order(table: &Table) -> Result<Vec<usize>> {
    let n = table.columns.len();
    let mut pending: Vec<bool> = table
        .columns
        .iter()
        .map(|c| c.generated.is_some())
        .collect();
    let refs: Vec<Vec<usize>> = (0..n).map(|i| references(table, i)).collect();
    let mut order = Vec::new();
    loop {
        let mut progress = false;
        let mut redo = None;
        for i in 0..n {
            if !pending[i] {
                continue;
            }
            if refs[i].iter().any(|&j| pending[j]) {
                redo = Some(i);
                continue;
            }
            progress = true;
            pending[i] = false;
            order.push(i);
        }
        match redo {
            None => return Ok(order),
            Some(i) if !progress => {
                return Err(error(format!(
                    "generated column loop on \"{}\"",
                    table.columns[i].name
                )))
            }
            Some(_) => {}
        }
    }
}

impl Compiler<'_> {
    /// SQLite's checks on a new table's generated columns (CREATE TABLE, ADD COLUMN):
    /// [`validate`], then each expression compiled against the table in a scratch
    /// program (unknown columns, aggregates, window functions). A loop is refused too
    /// if `loops` (CREATE TABLE); ADD COLUMN lets one through as SQLite does (the table
    /// then fails wherever the column is computed).
    pub(crate) fn validate_generated(&self, table: &Table, loops: bool) -> Result<()> {
        if !table.has_generated() {
            return Ok(());
        }
        let table = Arc::new(table.clone());
        let mut scratch = Compiler::new(self.schema);
        let cursor = scratch.b.alloc_cursor();
        for (i, c) in table.columns.iter().enumerate() {
            let Some(g) = &c.generated else { continue };
            with_where(&g.expr, |e| validate(&table, e))?;
            let mut level = Level::default();
            level
                .sources
                .push(table_source(&table, table.name.clone(), cursor));
            scratch.levels.push(level);
            let dest = scratch.reg();
            let r = scratch.generated_here_guarded(&table, i, dest);
            scratch.levels.pop();
            match r {
                Err(e) if e.message.starts_with("generated column loop") => {}
                r => r?,
            }
        }
        if loops {
            compute_order(&table)?;
        }
        Ok(())
    }

    /// Compiles generated column `i`'s expression into `dest`, the table being the
    /// innermost level's only source, with the column's affinity applied (SQLite's
    /// `sqlite3ExprCodeGeneratedColumn`: TEXT and the numeric affinities only).
    pub(crate) fn generated_value_here(
        &mut self,
        table: &Table,
        i: usize,
        dest: Reg,
    ) -> Result<()> {
        let Some(g) = &table.columns[i].generated else {
            return Err(error("not a generated column"));
        };
        self.in_pure(PureContext::GeneratedColumn, |c| {
            with_where(&g.expr, |e| c.expr(e, dest))
        })?;
        let aff = table.columns[i].affinity;
        if aff >= Affinity::Text {
            self.emit(Insn::Affinity {
                start: dest,
                affinities: vec![aff],
            });
        }
        Ok(())
    }

    /// Computes the generated columns of the row image in `cols..` (table order, rowid in
    /// `rowid`), in SQLite's order; only the VIRTUAL ones if `only_virtual` (a row read
    /// back from its record, whose STORED values are there).
    pub(crate) fn compute_generated(
        &mut self,
        table: &Arc<Table>,
        cursor: Cur,
        cols: Reg,
        rowid: Reg,
        only_virtual: bool,
    ) -> Result<()> {
        if !table.has_generated() {
            return Ok(());
        }
        let order = compute_order(table)?;
        self.push_register_level(table, cursor, cols, rowid, None);
        let r = (|| {
            for i in order {
                if only_virtual && !table.is_virtual(i) {
                    continue;
                }
                self.generated_value_here(table, i, cols + i)?;
            }
            Ok(())
        })();
        self.levels.pop();
        r
    }

    /// Reads column `i` of the row table cursor `cursor` is on into `dest`: its record
    /// field, or for a VIRTUAL column its expression computed from the row. (The rowid
    /// alias is the caller's: its record field holds NULL.)
    pub(crate) fn table_column(
        &mut self,
        table: &Arc<Table>,
        cursor: Cur,
        i: usize,
        dest: Reg,
    ) -> Result<()> {
        match table.storage_index(i) {
            Some(field) => {
                self.emit(Insn::Column {
                    cursor,
                    column: field,
                    dest,
                    default: table.columns[i].default_value.clone(),
                });
                Ok(())
            }
            None => {
                let mut level = Level::default();
                level
                    .sources
                    .push(table_source(table, table.name.clone(), cursor));
                self.levels.push(level);
                let r = self.generated_here_guarded(table, i, dest);
                self.levels.pop();
                r
            }
        }
    }

    /// [`Compiler::generated_value_here`], refusing a column whose computation needs
    /// itself (SQLite's COLFLAG_BUSY: "generated column loop on ...").
    pub(crate) fn generated_here_guarded(
        &mut self,
        table: &Table,
        i: usize,
        dest: Reg,
    ) -> Result<()> {
        let key = (table.db, names::key(&table.name), i);
        if self.gen_busy.contains(&key) {
            return Err(error(format!(
                "generated column loop on \"{}\"",
                table.columns[i].name
            )));
        }
        self.gen_busy.push(key);
        let r = self.generated_value_here(table, i, dest);
        self.gen_busy.pop();
        r
    }

    /// ALTER TABLE ADD COLUMN: the existing rows must satisfy the table's CHECK
    /// constraints and, if `not_null`, a NOT NULL on the new column (SQLite's check
    /// through `pragma_quick_check`, same messages: per row, NOT NULL first).
    pub(crate) fn check_added_rows(&mut self, table: &Arc<Table>, not_null: bool) -> Result<()> {
        if !not_null && table.checks.is_empty() {
            return Ok(());
        }
        // The NOT NULL first, then the CHECKs, per row (quick_check's order).
        let i = table.columns.len() - 1;
        let cursor = self.b.alloc_cursor();
        self.open_table_read(cursor, table);
        let scan = self.scan_begin(cursor);
        if not_null {
            let v = self.reg();
            self.table_column(table, cursor, i, v)?;
            self.emit(Insn::HaltIfNull {
                reg: v,
                message: "NOT NULL constraint failed".into(),
                on_error: Default::default(),
            });
        }
        let mut level = Level::default();
        level
            .sources
            .push(table_source(table, table.name.clone(), cursor));
        self.levels.push(level);
        let r = (|| {
            for check in &table.checks {
                let v = self.reg();
                self.in_pure(PureContext::Check, |c| {
                    with_where(&check.sql, |e| c.expr(e, v))
                })?;
                let ok = self.label();
                self.emit(Insn::If {
                    reg: v,
                    target: ok.addr(),
                    jump_if_null: true,
                });
                self.emit(Insn::Halt {
                    error: Some((
                        strata_vdbe::insn::ErrorCode::Constraint,
                        "CHECK constraint failed".into(),
                    )),
                    on_error: Default::default(),
                });
                self.resolve(ok);
            }
            Ok(())
        })();
        self.levels.pop();
        r?;
        self.scan_end(scan);
        Ok(())
    }

    /// Fails the statement with `message` if `table` has a row (SQLite's
    /// `sqlite3ErrorIfNotEmpty`).
    pub(crate) fn error_if_not_empty(&mut self, table: &Arc<Table>, message: &str) {
        let cursor = self.b.alloc_cursor();
        self.open_table_read(cursor, table);
        let empty = self.label();
        self.emit(Insn::RewindAsync { cursor });
        self.emit(Insn::RewindAwait {
            cursor,
            target_if_empty: empty.addr(),
        });
        self.emit(Insn::Halt {
            error: Some((strata_vdbe::insn::ErrorCode::Error, message.into())),
            on_error: Default::default(),
        });
        self.resolve(empty);
    }
}
