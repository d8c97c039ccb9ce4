//! INSERT, UPDATE and DELETE on a view with INSTEAD OF triggers (SQLite's `isView`
//! paths of insert.c, update.c and delete.c).
//!
//! The view is read as a table of its columns (`view_table`): DELETE and UPDATE first
//! materialise the view's rows that match the WHERE clause (the statement then never
//! sees the triggers' writes in its own row set), and for each row fire the INSTEAD OF
//! triggers with OLD (and NEW, the SET values, converted to the view columns'
//! affinities) in registers. INSERT builds NEW from each row of its source, without
//! conversions (SQLite applies none to a view's NEW row) and NULL for unlisted columns.
//! Nothing is written to the view itself, so `changes()` stays 0, as in SQLite.
//! A view without an INSTEAD OF trigger for the event keeps SQLite's error "cannot
//! modify v because it is a view" (see `writable_table`), unless the statement has a
//! RETURNING clause and the view some other trigger (see `instead_of_target`).

use std::sync::Arc;

use sqlite3_parser::ast::{self, Expr, ResultColumn};
use strata_vdbe::insn::{EphemeralKind, Insn, Reg};

use crate::builder::Label;
use crate::compiler::{error, Compiler, Result};
use crate::cte::Sql;
use crate::dml::{InsertSrc, Returning};
use crate::names;
use crate::schema::{with_parsed, Table};
use crate::scope::{AggMap, Level};
use crate::select::{table_source, Dest};
use crate::trigger::TrigEvent;
use crate::update_set::flatten_sets;

impl Compiler<'_> {
    /// The view `name` names, as a table of its columns, when it has an INSTEAD OF
    /// trigger for `event` that fires (for UPDATE OF: on one of `assigned`), or when the
    /// statement has a RETURNING clause and the view has any trigger at all. SQLite
    /// codes RETURNING as one more trigger of the statement, and its view check
    /// (sqlite3IsReadOnly) refuses the statement only when that is the view's one
    /// trigger: with another trigger on the view, even for another event, the statement
    /// runs as with an empty INSTEAD OF trigger (RETURNING shows the rows, nothing is
    /// written, `changes()` stays 0).
    pub(crate) fn instead_of_target(
        &mut self,
        name: &ast::QualifiedName<'_>,
        event: TrigEvent,
        assigned: Option<&[String]>,
        returning: bool,
    ) -> Result<Option<Arc<Table>>> {
        let n = names::unquote(name.name.0);
        let scope = self.scope_of(name)?;
        if scope.table(self.schema, &n).is_some() {
            return Ok(None);
        }
        let Some(v) = scope.view(self.schema, &n) else {
            return Ok(None);
        };
        let fires = self
            .schema
            .all_triggers()
            .filter(|t| t.instead_of && t.event == event)
            .filter(|t| t.table_db == v.db && names::eq(&t.table, &v.name))
            .filter(|t| !self.trigger_stack.iter().any(|s| names::eq(s, &t.name)))
            .any(|t| match (&t.update_of, assigned) {
                (Some(cols), Some(set)) => cols.iter().any(|c| set.iter().any(|s| names::eq(c, s))),
                _ => true,
            });
        let any_trigger = || {
            self.schema
                .all_triggers()
                .any(|t| t.table_db == v.db && names::eq(&t.table, &v.name))
        };
        if !fires && !(returning && any_trigger()) {
            return Ok(None);
        }
        if self.trigger_stack.is_empty() {
            self.emit(Insn::CountsChanges);
        }
        Ok(Some(self.view_table(&v)?))
    }

    /// Materialises the rows of the view (`SELECT * FROM view WHERE ...`) into a new
    /// ephemeral table and returns its cursor.
    fn materialize_view_rows(
        &mut self,
        view: &Table,
        tbl_name: &ast::QualifiedName<'_>,
        where_clause: Option<&Expr<'_>>,
    ) -> Result<usize> {
        self.materialize_view_join(view, tbl_name, &[], None, where_clause)
    }

    /// The view's rows (matching the WHERE clause), each followed by the values of
    /// `extra` expressions; with `from` (UPDATE ... FROM), one row per match of the
    /// join, the extra expressions computed in it.
    fn materialize_view_join(
        &mut self,
        view: &Table,
        tbl_name: &ast::QualifiedName<'_>,
        extra: &[String],
        from: Option<&ast::FromClause<'_>>,
        where_clause: Option<&Expr<'_>>,
    ) -> Result<usize> {
        let cursor = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor,
            kind: EphemeralKind::Table,
        });
        // SQLite reads the view by its own name: an alias (`UPDATE v AS x`) does not
        // name it in the WHERE clause ("no such column: x.a").
        let view_from = match &tbl_name.db_name {
            Some(db) => format!("{}.{}", db.0, tbl_name.name.0),
            None => tbl_name.name.0.to_string(),
        };
        let mut sql = match from {
            None => format!("SELECT * FROM {from_view}", from_view = view_from),
            // With FROM the alias names the view (SQLite's updateFromSelect).
            Some(f) => {
                let name = match &tbl_name.alias {
                    Some(a) => a.0.to_string(),
                    None => tbl_name.name.0.to_string(),
                };
                let mut cols = format!("{name}.*");
                for e in extra {
                    cols.push_str(&format!(", ({e})"));
                }
                format!("SELECT {cols} FROM {view_from} AS {name}, {}", Sql(f))
            }
        };
        if let Some(w) = where_clause {
            sql.push_str(&format!(" WHERE {w}"));
        }
        let cols = with_parsed(&sql, |stmt| {
            let ast::Stmt::Select(sel) = stmt else {
                return Err(error("bad view scan"));
            };
            self.select(sel, &Dest::EphemTable { cursor })
        })?;
        if cols.len() != view.columns.len() + if from.is_some() { extra.len() } else { 0 } {
            return Err(error(format!("view {} changed while compiling", view.name)));
        }
        Ok(cursor)
    }

    /// Pushes a level whose only source is the view, reading its columns from `cols..`
    /// (the SET expressions of an UPDATE see the old row there).
    fn push_view_row_level(&mut self, view: &Arc<Table>, cols: Reg) {
        let mut level = Level::default();
        let cursor = self.b.alloc_cursor();
        let mut src = table_source(view, view.name.clone(), cursor);
        // A view has no rowid ("no such column: rowid").
        src.table = None;
        level.sources.push(src);
        let mut map = AggMap::default();
        for i in 0..view.columns.len() {
            map.columns.insert((0, i), cols + i);
        }
        level.agg = Some(map);
        self.levels.push(level);
    }

    pub(crate) fn emit_view_delete<'a>(
        &mut self,
        view: &Arc<Table>,
        tbl_name: &ast::QualifiedName<'_>,
        where_clause: Option<&Expr<'_>>,
        returning: Option<&'a [ResultColumn<'a>]>,
    ) -> Result<Option<Returning>> {
        self.writes = true;
        let rows = self.materialize_view_rows(view, tbl_name, where_clause)?;
        let ret = self.open_returning(view, returning)?;
        let n = view.columns.len();
        let old = self.regs(n.max(1));
        let rowid = self.reg();
        self.emit(Insn::Null {
            dest: rowid,
            count: 1,
        });
        let scan = self.scan_begin(rows);
        let next = scan.next;
        self.read_row(rows, old, n);
        self.fire_triggers(
            view,
            TrigEvent::Delete,
            false,
            Some((old, rowid)),
            None,
            &[],
            next,
        )?;
        // After the triggers, as SQLite's RETURNING "trigger": a row skipped by
        // RAISE(IGNORE) is not returned.
        if let Some(r) = &ret {
            self.emit_returning(view, r, old, rowid)?;
        }
        self.scan_end(scan);
        Ok(ret)
    }

    fn read_row(&mut self, cursor: usize, dest: Reg, n: usize) {
        for i in 0..n {
            self.emit(Insn::Column {
                cursor,
                column: i,
                dest: dest + i,
                default: None,
            });
        }
    }

    pub(crate) fn emit_view_update<'a>(
        &mut self,
        view: &Arc<Table>,
        tbl_name: &ast::QualifiedName<'_>,
        sets: &[ast::Set<'_>],
        from: Option<&ast::FromClause<'_>>,
        where_clause: Option<&Expr<'_>>,
        returning: Option<&'a [ResultColumn<'a>]>,
    ) -> Result<Option<Returning>> {
        self.writes = true;
        let assignments = flatten_sets(sets)?;
        let n = view.columns.len();
        let mut targets = Vec::new();
        for a in &assignments {
            let name = names::unquote(a.column);
            let i = view
                .column_index(&name)
                .ok_or_else(|| error(format!("no such column: {name}")))?;
            targets.push(i);
        }
        // With FROM, the SET values are computed in the join (one row per match).
        let mut extra = Vec::new();
        if from.is_some() {
            for a in &assignments {
                match a.value.expr() {
                    Some(e) => extra.push(e.to_string()),
                    None => {
                        return Err(error(
                            "a row-value subquery in SET of UPDATE ... FROM on a view is not supported yet",
                        ))
                    }
                }
            }
        }
        let rows = self.materialize_view_join(view, tbl_name, &extra, from, where_clause)?;
        let ret = self.open_returning(view, returning)?;
        let old = self.regs(n.max(1));
        let new = self.regs(n.max(1));
        let rowid = self.reg();
        self.emit(Insn::Null {
            dest: rowid,
            count: 1,
        });
        let scan = self.scan_begin(rows);
        let next = scan.next;
        self.read_row(rows, old, n);
        self.emit(Insn::Copy {
            src: old,
            dest: new,
            count: n.max(1),
        });
        if from.is_some() {
            for (j, &i) in targets.iter().enumerate() {
                self.emit(Insn::Column {
                    cursor: rows,
                    column: n + j,
                    dest: new + i,
                    default: None,
                });
            }
        } else {
            self.push_view_row_level(view, old);
            let r = (|| {
                let mut subs = std::collections::HashMap::new();
                for (a, &i) in assignments.iter().zip(&targets) {
                    self.assign_value(a, &mut subs, new + i)?;
                }
                Ok(())
            })();
            self.levels.pop();
            r?;
        }
        // The NEW row takes the view columns' affinities (SQLite's sqlite3TableAffinity
        // before BEFORE/INSTEAD OF triggers); INSERT's does not.
        if n > 0 {
            self.emit(Insn::Affinity {
                start: new,
                affinities: view.columns.iter().map(|c| c.affinity).collect(),
            });
        }
        let mut changed = vec![false; n];
        for &i in &targets {
            changed[i] = true;
        }
        self.fire_triggers(
            view,
            TrigEvent::Update,
            false,
            Some((old, rowid)),
            Some((new, rowid)),
            &changed,
            next,
        )?;
        if let Some(r) = &ret {
            self.emit_returning(view, r, new, rowid)?;
        }
        self.scan_end(scan);
        Ok(ret)
    }

    pub(crate) fn emit_view_insert<'a>(
        &mut self,
        view: &Arc<Table>,
        columns: Option<&ast::DistinctNames<'_>>,
        src: InsertSrc<'a>,
        returning: Option<&'a [ResultColumn<'a>]>,
    ) -> Result<Option<Returning>> {
        let n = view.columns.len();
        let targets: Option<Vec<usize>> = match (&src, columns) {
            (InsertSrc::Default, _) => None,
            (_, Some(list)) => {
                let mut v = Vec::new();
                for c in list.iter() {
                    let cn = names::unquote(c.0);
                    let i = view.column_index(&cn).ok_or_else(|| {
                        error(format!("table {} has no column named {cn}", view.name))
                    })?;
                    v.push(i);
                }
                Some(v)
            }
            (_, None) => Some((0..n).collect()),
        };
        self.writes = true;
        let rows = match (&src, &targets) {
            (InsertSrc::Select(sel, upsert), Some(targets)) => {
                if upsert.is_some() {
                    return Err(error("cannot UPSERT a view"));
                }
                let cursor = self.b.alloc_cursor();
                self.emit(Insn::OpenEphemeral {
                    cursor,
                    kind: EphemeralKind::Table,
                });
                let cols = self.select(sel, &Dest::EphemTable { cursor })?;
                if cols.len() != targets.len() {
                    return Err(error(match columns {
                        Some(_) => format!("{} values for {} columns", cols.len(), targets.len()),
                        None => format!(
                            "table {} has {} columns but {} values were supplied",
                            view.name,
                            n,
                            cols.len()
                        ),
                    }));
                }
                Some(cursor)
            }
            _ => None,
        };
        let ret = self.open_returning(view, returning)?;
        let new = self.regs(n.max(1));
        let rowid = self.reg();
        self.emit(Insn::Null {
            dest: rowid,
            count: 1,
        });
        let one_row = |c: &mut Self, next: Label, values: Option<(usize, &[usize])>| {
            c.emit(Insn::Null {
                dest: new,
                count: n.max(1),
            });
            if let Some((cursor, targets)) = values {
                for (p, &i) in targets.iter().enumerate() {
                    c.emit(Insn::Column {
                        cursor,
                        column: p,
                        dest: new + i,
                        default: None,
                    });
                }
            }
            c.fire_triggers(
                view,
                TrigEvent::Insert,
                false,
                None,
                Some((new, rowid)),
                &[],
                next,
            )?;
            if let Some(r) = &ret {
                c.emit_returning(view, r, new, rowid)?;
            }
            Ok(())
        };
        match (rows, &targets) {
            (Some(cursor), Some(targets)) => {
                let scan = self.scan_begin(cursor);
                let next = scan.next;
                one_row(self, next, Some((cursor, targets)))?;
                self.scan_end(scan);
            }
            _ => {
                // DEFAULT VALUES: one row, every column NULL (a view has no defaults).
                let done = self.label();
                one_row(self, done, None)?;
                self.resolve(done);
            }
        }
        Ok(ret)
    }
}
