//! INSERT, UPDATE, DELETE: constraint checks (NOT NULL, CHECK, UNIQUE, PRIMARY KEY) with
//! SQLite's conflict resolution, index maintenance, and the two-pass shape that keeps a
//! statement from reading its own writes.
//! UPDATE's statement and per-row update are in `update` (SET lists in `update_set`,
//! UPDATE ... FROM in `update_from`).

use std::sync::Arc;

use sqlite3_parser::ast::{self, Expr, InsertBody, Stmt, UpsertDo};
use strata_vdbe::insn::{
    Cur, CursorKind, EphemeralKind, ErrorCode, InsertFlags, Insn, OnError, PureContext, Reg,
    RowCount,
};
use strata_vdbe::ops::Cmp;
use strata_vdbe::program::Program;

use crate::builder::Label;
use crate::compiler::{error, Compiler, Result};
use crate::ddl::unique_message;
use crate::fkey::RowChange;
use crate::names;
use crate::planner::{JoinKind, LoopSpec};
use crate::schema::{with_parsed, Conflict, Index, Table};
use crate::scope::{AggMap, Level, ROWID};
use crate::select::{split_and, table_source, Dest};
use crate::trigger::TrigEvent;
use crate::update_set::flatten_sets;

/// In `unique_checks`' order: a WITHOUT ROWID table's PRIMARY KEY.
const WR_PK: usize = usize::MAX;

pub(crate) fn on_error(c: Conflict) -> OnError {
    match c {
        Conflict::Rollback => OnError::Rollback,
        Conflict::Fail => OnError::Fail,
        _ => OnError::Abort,
    }
}

/// Cursors of a table being written and its indexes.
pub(crate) struct WriteTarget {
    pub(crate) table: Arc<Table>,
    pub(crate) cursor: Cur,
    pub(crate) indexes: Vec<(Arc<Index>, Cur)>,
}

/// AUTOINCREMENT state of one INSERT: the `sqlite_sequence` cursor, the running
/// maximum, and the entry's rowid (NULL if the table has none yet).
struct AutoInc {
    cursor: Cur,
    seq: Reg,
    entry: Reg,
}

/// Where an INSERT's rows come from.
pub enum InsertSrc<'a> {
    Select(&'a ast::Select<'a>, Option<&'a ast::Upsert<'a>>),
    Default,
}

/// RETURNING: rows collected in an ephemeral table, returned when the statement's
/// writes are done (as SQLite does).
pub struct Returning {
    pub cursor: Cur,
    pub items: Vec<ReturningItem>,
    pub cols: Vec<crate::select::ResultCol>,
}

/// One RETURNING expression, kept as text (re-parsed where rows are written) so the
/// statement's AST lifetime does not leak into the compiler's state.
pub struct ReturningItem {
    pub sql: Option<String>,
    pub column: Option<usize>,
}

/// The constraint an upsert's conflict target names.
pub(crate) enum UpsertTarget {
    /// The INTEGER PRIMARY KEY.
    Rowid,
    /// The UNIQUE index of this name.
    Index(String),
}

/// An upsert's DO clause, parsed.
/// The ON CONFLICT clauses of an INSERT as the uniqueness checks see them: each clause's
/// target (`None`: the last clause, naming none) and the label of its action, in clause
/// order; the conflicting row's rowid goes into `conflict_rowid`.
pub(crate) struct Upserts<'a> {
    pub clauses: Vec<(Option<&'a UpsertTarget>, Label)>,
    pub conflict_rowid: Reg,
}

impl Upserts<'_> {
    /// The clause handling a conflict on the rowid (`None`) or on an index: the first
    /// naming it, else a last clause without a target (SQLite's sqlite3UpsertOfIndex).
    fn clause_for(&self, index: Option<&str>) -> Option<Label> {
        self.clauses
            .iter()
            .find(|(target, _)| match (target, index) {
                (Some(UpsertTarget::Rowid), None) => true,
                (Some(UpsertTarget::Index(n)), Some(i)) => n == i,
                _ => false,
            })
            .or_else(|| self.clauses.last().filter(|(t, _)| t.is_none()))
            .map(|(_, label)| *label)
    }
}

enum UpsertAction<'a> {
    Nothing,
    Update {
        sets: &'a [ast::Set<'a>],
        where_clause: Option<&'a Expr<'a>>,
    },
}

impl Compiler<'_> {
    pub(crate) fn writable_table(&self, name: &ast::QualifiedName<'_>) -> Result<Arc<Table>> {
        let n = names::unquote(name.name.0);
        let scope = self.scope_of(name)?;
        if scope.view(self.schema, &n).is_some() {
            return Err(error(format!("cannot modify {n} because it is a view")));
        }
        let t = scope.table(self.schema, &n).ok_or_else(|| {
            // SQLite qualifies the tables of trigger steps with their schema.
            if self.trigger_stack.is_empty() || name.db_name.is_some() {
                error(format!("no such table: {}", self.shown_name(name)))
            } else {
                error(format!("no such table: main.{n}"))
            }
        })?;
        if t.root_page == 1 {
            return Err(error(format!("table {} may not be modified", t.name)));
        }
        Ok(t)
    }

    pub(crate) fn open_write_target(&mut self, table: &Arc<Table>) -> WriteTarget {
        let cursor = self.b.alloc_cursor();
        self.emit(Insn::OpenWriteAsync {
            db: table.db,
            cursor,
            root_page: table.root_page,
            root_reg: None,
            kind: crate::ddl::table_cursor_kind(table),
        });
        self.emit(Insn::OpenWriteAwait { cursor });
        let mut indexes = Vec::new();
        for ix in self.schema.table_indexes(&table) {
            let c = self.b.alloc_cursor();
            self.emit(Insn::OpenWriteAsync {
                db: ix.db,
                cursor: c,
                root_page: ix.root_page,
                root_reg: None,
                kind: CursorKind::Index {
                    key_info: ix.key_info(),
                },
            });
            self.emit(Insn::OpenWriteAwait { cursor: c });
            indexes.push((ix, c));
        }
        WriteTarget {
            table: table.clone(),
            cursor,
            indexes,
        }
    }

    /// Pushes a query level whose only source is `table`, reading its columns from
    /// registers (`cols..`, rowid in `rowid`): for DEFAULT, CHECK, upsert expressions.
    pub(crate) fn push_register_level(
        &mut self,
        table: &Arc<Table>,
        cursor: Cur,
        cols: Reg,
        rowid: Reg,
        alias: Option<&str>,
    ) {
        let mut level = Level::default();
        let name = alias
            .map(|a| a.to_string())
            .unwrap_or_else(|| table.name.clone());
        level.sources.push(table_source(table, name, cursor));
        let mut map = AggMap::default();
        for i in 0..table.columns.len() {
            let reg = if table.rowid_alias == Some(i) {
                rowid
            } else {
                cols + i
            };
            map.columns.insert((0, i), reg);
        }
        map.columns.insert((0, ROWID), rowid);
        level.agg = Some(map);
        self.levels.push(level);
    }

    /// Loads the DEFAULT of column `i` (or NULL) into `dest`.
    fn column_default(&mut self, table: &Table, i: usize, dest: Reg) -> Result<()> {
        match &table.columns[i].default {
            Some(text) => {
                let sql = format!("SELECT {text}");
                with_parsed(&sql, |stmt| {
                    let Stmt::Select(sel) = stmt else {
                        return Err(error("bad default"));
                    };
                    let ast::OneSelect::Select { columns, .. } = &sel.body.select else {
                        return Err(error("bad default"));
                    };
                    let Some(ast::ResultColumn::Expr(e, _, _)) = columns.first() else {
                        return Err(error("bad default"));
                    };
                    self.levels.push(Level::default());
                    let r = self.expr(e, dest);
                    self.levels.pop();
                    r
                })
            }
            None => {
                self.emit(Insn::Null { dest, count: 1 });
                Ok(())
            }
        }
    }

    pub(crate) fn check_constraints(
        &mut self,
        t: &WriteTarget,
        cols: Reg,
        rowid: Reg,
        or: Option<Conflict>,
        skip_row: Label,
    ) -> Result<()> {
        let table = t.table.clone();
        for (i, c) in table.columns.iter().enumerate() {
            if table.rowid_alias == Some(i) {
                continue;
            }
            if let Some(nn) = c.not_null {
                let res = or.unwrap_or(nn);
                let msg = format!("NOT NULL constraint failed: {}.{}", table.name, c.name);
                match res {
                    Conflict::Ignore => {
                        self.emit(Insn::IsNull {
                            reg: cols + i,
                            target: skip_row.addr(),
                        });
                    }
                    Conflict::Replace if c.default.is_some() => {
                        let ok = self.label();
                        self.emit(Insn::NotNull {
                            reg: cols + i,
                            target: ok.addr(),
                        });
                        self.column_default(&table, i, cols + i)?;
                        self.emit(Insn::HaltIfNull {
                            reg: cols + i,
                            message: msg,
                            on_error: OnError::Abort,
                        });
                        self.resolve(ok);
                    }
                    other => {
                        self.emit(Insn::HaltIfNull {
                            reg: cols + i,
                            message: msg,
                            on_error: on_error(other),
                        });
                    }
                }
            }
        }
        if !table.checks.is_empty() {
            self.push_register_level(&table, t.cursor, cols, rowid, None);
            let r = (|| {
                for check in &table.checks {
                    let v = self.check_value(&check.sql)?;
                    let ok = self.label();
                    self.emit(Insn::If {
                        reg: v,
                        target: ok.addr(),
                        jump_if_null: true,
                    });
                    match or {
                        Some(Conflict::Ignore) => self.goto(skip_row),
                        _ => {
                            self.emit(Insn::Halt {
                                error: Some((
                                    ErrorCode::Constraint,
                                    format!("CHECK constraint failed: {}", check.name),
                                )),
                                on_error: on_error(or.unwrap_or_default()),
                            });
                        }
                    }
                    self.resolve(ok);
                }
                Ok(())
            })();
            self.levels.pop();
            r?;
        }
        Ok(())
    }

    /// Evaluates a CHECK constraint's expression (its SQL text as stored in the table)
    /// into a new register, in the current scope (a register level over the row).
    pub(crate) fn check_value(&mut self, check: &str) -> Result<Reg> {
        let sql = format!("SELECT {check}");
        with_parsed(&sql, |stmt| {
            let Stmt::Select(sel) = stmt else {
                return Err(error("bad CHECK"));
            };
            let ast::OneSelect::Select { columns, .. } = &sel.body.select else {
                return Err(error("bad CHECK"));
            };
            let Some(ast::ResultColumn::Expr(e, _, _)) = columns.first() else {
                return Err(error("bad CHECK"));
            };
            self.in_pure(PureContext::Check, |c| c.expr_new(e))
        })
    }

    /// Builds the index key (columns + rowid) of `ix` from row registers into new regs.
    pub(crate) fn index_key(
        &mut self,
        table: &Arc<Table>,
        ix: &Index,
        cursor: Cur,
        cols: Reg,
        rowid: Reg,
    ) -> Result<Reg> {
        let n = ix.columns.len();
        let key = self.regs(self.index_entry_len(table, ix).max(n + 1));
        self.index_expr_keys(table, ix, cursor, cols, rowid, key)?;
        for (k, c) in ix.columns.iter().enumerate() {
            if c.expr.is_some() {
                continue;
            }
            let src = if table.rowid_alias == Some(c.column) {
                rowid
            } else {
                cols + c.column
            };
            self.emit(Insn::Copy {
                src,
                dest: key + k,
                count: 1,
            });
        }
        match &table.without_rowid {
            // The entry ends with the key columns it does not hold.
            Some(wr) => {
                for (k, c) in wr.index_tail(ix).into_iter().enumerate() {
                    self.emit(Insn::Copy {
                        src: cols + c,
                        dest: key + n + k,
                        count: 1,
                    });
                }
            }
            None => {
                self.emit(Insn::Copy {
                    src: rowid,
                    dest: key + n,
                    count: 1,
                });
            }
        }
        Ok(key)
    }

    /// The counter a row written here counts in: the statement's, or inside a trigger
    /// program or foreign-key action, that program's (total_changes() only).
    pub(crate) fn row_count(&self) -> RowCount {
        match self.trigger_stack.len() {
            0 => RowCount::Statement,
            // The compiler refuses nesting past 32 levels.
            d => RowCount::Trigger(d.min(u8::MAX as usize) as u8),
        }
    }

    /// Deletes the row the table cursor is on, with its index entries.
    pub(crate) fn delete_current_row(&mut self, t: &WriteTarget, count_change: bool) -> Result<()> {
        let count = if count_change {
            self.row_count()
        } else {
            RowCount::None
        };
        let table = t.table.clone();
        let n = table.columns.len();
        let cols = self.regs(n.max(1));
        let rowid = self.reg();
        self.emit_row_key(&table, t.cursor, rowid);
        for (i, _) in table.columns.iter().enumerate() {
            if table.rowid_alias == Some(i) {
                self.emit(Insn::Copy {
                    src: rowid,
                    dest: cols + i,
                    count: 1,
                });
            } else {
                self.table_column(&table, t.cursor, i, cols + i)?;
            }
        }
        let removed = RowChange {
            old: Some((cols, rowid)),
            new: None,
            changed: None,
        };
        // Foreign keys: children of this row and this row as a child, before it goes
        // (errors compiling them surface only when foreign keys are on).
        self.fk_guarded(|c| c.fk_check(&table, removed));
        for (ix, c) in &t.indexes {
            // A partial index has an entry only for the rows its WHERE holds for.
            let skip = self.partial_guard(&table, ix, t.cursor, cols, rowid)?;
            let key = self.index_key(&table, ix, t.cursor, cols, rowid)?;
            self.emit(Insn::IdxDeleteAsync {
                cursor: *c,
                key_start: key,
                key_count: self.index_entry_len(&table, ix),
            });
            self.emit(Insn::IdxDeleteAwait { cursor: *c });
            if let Some(skip) = skip {
                self.resolve(skip);
            }
        }
        self.emit(Insn::DeleteAsync {
            cursor: t.cursor,
            count,
        });
        self.emit(Insn::DeleteAwait { cursor: t.cursor });
        // ON DELETE actions on the children.
        self.fk_guarded(|c| c.fk_actions(&table, removed));
        Ok(())
    }

    /// Uniqueness checks for a new row image; `old_rowid` is the row being updated (its own
    /// entries are not conflicts). REPLACE deletes conflicting rows; IGNORE jumps to
    /// `skip_row`; an upsert target jumps to `upsert` with the conflicting rowid in
    /// `conflict_rowid`. As in SQLite, the upsert's target constraint is checked first.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn unique_checks(
        &mut self,
        t: &WriteTarget,
        cols: Reg,
        rowid: Reg,
        old_rowid: Option<Reg>,
        or: Option<Conflict>,
        skip_row: Label,
        upsert: Option<&Upserts<'_>>,
        rowid_checked: bool,
        only_indexes: Option<&[bool]>,
    ) -> Result<()> {
        let table = t.table.clone();
        // Order: the upsert target first, then the rowid, then unique indexes.
        let mut order: Vec<Option<usize>> = Vec::new();
        if table.rowid_alias.is_some() && rowid_checked {
            order.push(None);
        }
        // SQLite checks its table's index list in order, and each new index goes to the
        // front of that list (REPLACE ones behind all others): newest first.
        let mut uniques: Vec<usize> = (0..t.indexes.len())
            .filter(|&k| t.indexes[k].0.unique && only_indexes.is_none_or(|only| only[k]))
            .collect();
        // A WITHOUT ROWID table's PRIMARY KEY (`WR_PK`) is in that list in the place it
        // was made, among its table's constraints (`listed_indexes`); checked only when
        // the key may change (`rowid_checked`).
        if let Some(wr) = table.without_rowid.as_ref().filter(|_| rowid_checked) {
            let listed = self.listed_indexes(&table);
            let at = listed
                .iter()
                .position(|ix| ix.name == wr.index_name)
                .unwrap_or(0);
            let before = uniques
                .iter()
                .position(|&k| {
                    listed
                        .iter()
                        .position(|ix| ix.name == t.indexes[k].0.name)
                        .is_none_or(|p| p > at)
                })
                .unwrap_or(uniques.len());
            uniques.insert(before, WR_PK);
        }
        uniques.reverse();
        let conflict_of = |k: usize| match (k, &table.without_rowid) {
            (WR_PK, Some(wr)) => wr.conflict,
            _ => t.indexes[k].0.conflict,
        };
        uniques.sort_by_key(|&k| conflict_of(k) == Conflict::Replace);
        order.extend(uniques.into_iter().map(Some));
        // The ON CONFLICT targets are checked first, in the order of their clauses (the
        // rowid where its clause is, else after the last target), then the other
        // indexes: SQLite's sqlite3GenerateConstraintChecks (its IndexListTerm order,
        // `upsertIpkDelay` and sqlite3UpsertNextIsIPK).
        if let Some(u) = upsert {
            let position_of = |order: &[Option<usize>], target: &UpsertTarget| {
                order.iter().position(|o| match (o, target) {
                    (None, UpsertTarget::Rowid) => true,
                    (Some(WR_PK), UpsertTarget::Index(name)) => table
                        .without_rowid
                        .as_ref()
                        .is_some_and(|wr| wr.index_name == *name),
                    (Some(k), UpsertTarget::Index(name)) => t.indexes[*k].0.name == *name,
                    _ => false,
                })
            };
            let rowid = order.first() == Some(&None);
            if rowid {
                order.remove(0);
            }
            let mut new_order = Vec::with_capacity(order.len() + 1);
            let mut rowid_placed = !rowid;
            for (target, _) in &u.clauses {
                let Some(target) = target else { break };
                match target {
                    UpsertTarget::Rowid if !rowid_placed => {
                        new_order.push(None);
                        rowid_placed = true;
                    }
                    UpsertTarget::Rowid => {}
                    // A second clause naming the same index is never reached.
                    UpsertTarget::Index(_) => {
                        if let Some(p) = position_of(&order, target) {
                            new_order.push(order.remove(p));
                        }
                    }
                }
            }
            if !rowid_placed {
                new_order.push(None);
            }
            new_order.append(&mut order);
            order = new_order;
        }
        for o in order {
            match o {
                None => self.rowid_unique_check(t, rowid, old_rowid, or, skip_row, upsert)?,
                Some(WR_PK) => {
                    // A WITHOUT ROWID table's PRIMARY KEY: a unique index whose tree is
                    // the table's, probed on the table's own cursor (the conflicting
                    // row's identity is then its key as stored).
                    let pk = Arc::new(
                        table
                            .without_rowid_pk()
                            .expect("a WITHOUT ROWID table has a PRIMARY KEY"),
                    );
                    self.index_unique_check(
                        t, &pk, &t.cursor, cols, rowid, old_rowid, or, skip_row, upsert,
                    )?
                }
                Some(k) => {
                    let (ix, c) = (t.indexes[k].0.clone(), t.indexes[k].1);
                    self.index_unique_check(
                        t, &ix, &c, cols, rowid, old_rowid, or, skip_row, upsert,
                    )?
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn rowid_unique_check(
        &mut self,
        t: &WriteTarget,
        rowid: Reg,
        old_rowid: Option<Reg>,
        or: Option<Conflict>,
        skip_row: Label,
        upsert: Option<&Upserts<'_>>,
    ) -> Result<()> {
        let table = t.table.clone();
        let ok = self.label();
        if let Some(old) = old_rowid {
            self.emit(Insn::Compare {
                op: Cmp::Eq,
                lhs: rowid,
                rhs: old,
                target: ok.addr(),
                affinity: Default::default(),
                collation: Default::default(),
                jump_if_null: false,
                null_eq: false,
            });
        }
        self.emit(Insn::SeekRowidAsync {
            cursor: t.cursor,
            rowid_reg: rowid,
        });
        self.emit(Insn::SeekRowidAwait {
            cursor: t.cursor,
            target_if_not_found: ok.addr(),
        });
        let alias = table.rowid_alias.unwrap_or(0);
        let upsert_here = upsert.and_then(|u| Some((u.clause_for(None)?, u.conflict_rowid)));
        if let Some((label, conflict_rowid)) = upsert_here {
            self.emit(Insn::Copy {
                src: rowid,
                dest: conflict_rowid,
                count: 1,
            });
            self.goto(label);
        } else {
            match or.unwrap_or(table.pk_conflict) {
                Conflict::Ignore => self.goto(skip_row),
                Conflict::Replace => self.delete_current_row(t, false)?,
                other => {
                    self.emit(Insn::Halt {
                        error: Some((
                            ErrorCode::Constraint,
                            format!(
                                "UNIQUE constraint failed: {}.{}",
                                table.name, table.columns[alias].name
                            ),
                        )),
                        on_error: on_error(other),
                    });
                }
            }
        }
        self.resolve(ok);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn index_unique_check(
        &mut self,
        t: &WriteTarget,
        ix: &Arc<Index>,
        c: &Cur,
        cols: Reg,
        rowid: Reg,
        old_rowid: Option<Reg>,
        or: Option<Conflict>,
        skip_row: Label,
        upsert: Option<&Upserts<'_>>,
    ) -> Result<()> {
        let table = t.table.clone();
        let ok = self.label();
        // Uniqueness holds among the rows a partial index covers only.
        self.partial_jump_unless(&table, ix, t.cursor, cols, rowid, ok)?;
        let key = self.index_key(&table, ix, t.cursor, cols, rowid)?;
        self.emit(Insn::NoConflict {
            cursor: *c,
            key_start: key,
            key_count: ix.columns.len(),
            target: ok.addr(),
        });
        let other_rowid = self.reg();
        self.emit_index_row_key(&table, ix, *c, other_rowid);
        if let Some(old) = old_rowid {
            self.emit(Insn::Compare {
                op: Cmp::Eq,
                lhs: other_rowid,
                rhs: old,
                target: ok.addr(),
                affinity: Default::default(),
                collation: Default::default(),
                jump_if_null: false,
                null_eq: false,
            });
        }
        let upsert_here =
            upsert.and_then(|u| Some((u.clause_for(Some(&ix.name))?, u.conflict_rowid)));
        if let Some((label, conflict_rowid)) = upsert_here {
            self.emit(Insn::Copy {
                src: other_rowid,
                dest: conflict_rowid,
                count: 1,
            });
            self.goto(label);
        } else {
            match or.unwrap_or(ix.conflict) {
                Conflict::Ignore => self.goto(skip_row),
                Conflict::Replace => {
                    let gone = self.label();
                    self.emit(Insn::SeekRowidAsync {
                        cursor: t.cursor,
                        rowid_reg: other_rowid,
                    });
                    self.emit(Insn::SeekRowidAwait {
                        cursor: t.cursor,
                        target_if_not_found: gone.addr(),
                    });
                    self.delete_current_row(t, false)?;
                    self.resolve(gone);
                }
                other => {
                    self.emit(Insn::Halt {
                        error: Some((ErrorCode::Constraint, unique_message(&table, ix))),
                        on_error: on_error(other),
                    });
                }
            }
        }
        self.resolve(ok);
        Ok(())
    }

    /// Writes the row image: the table record, then every index entry.
    pub(crate) fn write_row(
        &mut self,
        t: &WriteTarget,
        cols: Reg,
        rowid: Reg,
        is_update: bool,
        only_indexes: Option<&[bool]>,
    ) -> Result<()> {
        let table = t.table.clone();
        let n = table.columns.len();
        // STRICT: the types are checked last, after the constraint checks and just before
        // the row is written, as SQLite's OP_TypeCheck (a datatype error always aborts
        // the statement, whatever the conflict clause).
        if let Some(strict) = &table.strict {
            self.emit(Insn::TypeCheck {
                start: cols,
                strict: strict.clone(),
                on_error: OnError::Abort,
            });
        }
        // The rowid alias is stored as NULL in the record; VIRTUAL generated columns
        // are not stored (the record's fields are the other columns, in table order).
        let stored = table.storage_count();
        if stored == n && table.without_rowid.is_none() {
            // The record straight from the row's registers (a copy of each value, text
            // and blobs allocating, was a tenth of a small INSERT): the rowid alias is
            // set to NULL for the record and given back the rowid after it.
            let alias = table.rowid_alias;
            if let Some(a) = alias {
                self.emit(Insn::Null {
                    dest: cols + a,
                    count: 1,
                });
            }
            let rec = self.reg();
            self.emit(Insn::MakeRecord {
                start: cols,
                count: n,
                dest: rec,
                affinities: None,
            });
            if let Some(a) = alias {
                self.emit(Insn::Copy {
                    src: rowid,
                    dest: cols + a,
                    count: 1,
                });
            }
            return self.write_row_record(t, cols, rowid, rec, is_update, only_indexes);
        }
        let rec_regs = self.regs(stored.max(1));
        for i in 0..n {
            if let Some(f) = table.storage_index(i) {
                self.emit(Insn::Copy {
                    src: cols + i,
                    dest: rec_regs + f,
                    count: 1,
                });
            }
        }
        if let Some(f) = table.rowid_alias.and_then(|a| table.storage_index(a)) {
            self.emit(Insn::Null {
                dest: rec_regs + f,
                count: 1,
            });
        }
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start: rec_regs,
            count: stored,
            dest: rec,
            affinities: None,
        });
        self.write_row_record(t, cols, rowid, rec, is_update, only_indexes)
    }

    /// `write_row`'s second half: inserts the record in `rec`, then the index entries.
    fn write_row_record(
        &mut self,
        t: &WriteTarget,
        cols: Reg,
        rowid: Reg,
        rec: Reg,
        is_update: bool,
        only_indexes: Option<&[bool]>,
    ) -> Result<()> {
        let table = t.table.clone();
        self.emit(Insn::InsertAsync {
            cursor: t.cursor,
            key_reg: rowid,
            record_reg: rec,
            flags: InsertFlags {
                count: self.row_count(),
                // (A WITHOUT ROWID table's row has no rowid to remember.)
                set_last_rowid: !is_update && table.without_rowid.is_none(),
                is_update,
            },
            table: table.name.clone(),
        });
        self.emit(Insn::InsertAwait { cursor: t.cursor });
        // In SQLite's order (its table's index list: newest first, REPLACE ones last),
        // which decides the error when computing two indexes' keys would fail (their
        // expressions or partial WHEREs: "non-deterministic use of date() in an index").
        let mut order: Vec<usize> = (0..t.indexes.len()).rev().collect();
        order.sort_by_key(|&k| t.indexes[k].0.conflict == Conflict::Replace);
        for k in order {
            let (ix, c) = &t.indexes[k];
            if let Some(only) = only_indexes {
                if !only[k] {
                    continue;
                }
            }
            let skip = self.partial_guard(&table, ix, t.cursor, cols, rowid)?;
            let key = self.index_key(&table, ix, t.cursor, cols, rowid)?;
            let r = self.reg();
            self.emit(Insn::MakeRecord {
                start: key,
                count: self.index_entry_len(&table, ix),
                dest: r,
                affinities: None,
            });
            self.emit(Insn::IdxInsertAsync {
                cursor: *c,
                record_reg: r,
            });
            self.emit(Insn::IdxInsertAwait { cursor: *c });
            if let Some(skip) = skip {
                self.resolve(skip);
            }
        }
        Ok(())
    }

    pub(crate) fn apply_column_affinity(&mut self, table: &Table, cols: Reg) {
        let affs: Vec<_> = table.columns.iter().map(|c| c.affinity).collect();
        if !affs.is_empty() {
            self.emit(Insn::Affinity {
                start: cols,
                affinities: affs,
            });
        }
    }

    pub fn insert(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::Insert {
            with,
            or_conflict,
            tbl_name,
            columns,
            body,
            returning,
        } = stmt
        else {
            unreachable!("dispatched on Insert")
        };
        let src = match body {
            InsertBody::Select(sel, upsert) => InsertSrc::Select(sel, *upsert),
            InsertBody::DefaultValues => InsertSrc::Default,
        };
        let n = match with {
            Some(w) => self.push_ctes(w)?,
            None => 0,
        };
        let single_row = matches!(body, InsertBody::DefaultValues)
            || matches!(
                body,
                InsertBody::Select(sel, _)
                    if sel.body.compounds.is_none()
                        && matches!(&sel.body.select, ast::OneSelect::Values(rows) if rows.len() == 1)
            );
        let upsert = matches!(body, InsertBody::Select(_, Some(_)));
        // One row, checked before it is written and nothing deleted first: a failure can
        // only come before the first write, so no statement savepoint is needed (SQLite's
        // statement without `isMultiWrite`). Its immediate foreign key violations then
        // halt at once instead of being counted, as in SQLite.
        let mut one_write = false;
        if single_row && returning.is_none() && *or_conflict != Some(ast::ResolveType::Replace) {
            if let Ok(table) = self.writable_table(tbl_name) {
                let replaces = table.pk_conflict == Conflict::Replace
                    || self
                        .schema
                        .table_indexes(&table)
                        .iter()
                        .any(|ix| ix.conflict == Conflict::Replace);
                let triggers = self.has_triggers(&table, TrigEvent::Insert, false)
                    || self.has_triggers(&table, TrigEvent::Insert, true);
                // An upsert's DO UPDATE of the one row (SQLite codes it ONEPASS_SINGLE,
                // no isMultiWrite) computes the new values and runs every constraint and
                // unique check before its first write (`update_current_row`), unless
                // update triggers or foreign key code run between the writes.
                let upsert_writes_more = upsert
                    && (self.has_triggers(&table, TrigEvent::Update, false)
                        || self.has_triggers(&table, TrigEvent::Update, true)
                        || self.fk_involved(&table));
                one_write = !replaces && !triggers && !table.autoincrement && !upsert_writes_more;
            }
        }
        self.fk_halt_at_once = one_write;
        self.stmt_orconf = *or_conflict;
        let ret = self.emit_insert(*or_conflict, tbl_name, columns.as_ref(), src, *returning);
        self.fk_halt_at_once = false;
        self.pop_ctes(n);
        let ret = ret?;
        self.no_stmt_journal = one_write;
        Ok(self.finish_returning(text, ret))
    }

    /// The code of one INSERT (also used for INSERTs in trigger bodies).
    pub fn emit_insert<'a>(
        &mut self,
        or_conflict: Option<ast::ResolveType>,
        tbl_name: &ast::QualifiedName<'_>,
        columns: Option<&ast::DistinctNames<'_>>,
        src: InsertSrc<'a>,
        returning: Option<&'a [ast::ResultColumn<'a>]>,
    ) -> Result<Option<Returning>> {
        if let Some(view) =
            self.instead_of_target(tbl_name, TrigEvent::Insert, None, returning.is_some())?
        {
            return self.emit_view_insert(&view, columns, src, returning);
        }
        let table = self.writable_table(tbl_name)?;
        let or = or_conflict.map(Conflict::from_ast);
        let ncols = table.columns.len();
        // Target column of each value position (none for DEFAULT VALUES: every column,
        // the rowid too, takes its default).
        let default_values = matches!(src, InsertSrc::Default);
        let targets: Vec<usize> = match columns {
            _ if default_values => Vec::new(),
            Some(names_list) => {
                let mut v = Vec::new();
                for n in names_list.iter() {
                    let cn = names::unquote(n.0);
                    let i = table.column_index(&cn).or_else(|| {
                        (table.without_rowid.is_none()
                            && ["rowid", "oid", "_rowid_"]
                                .iter()
                                .any(|r| names::eq(r, &cn)))
                        .then_some(usize::MAX)
                    });
                    match i {
                        Some(i) if i != usize::MAX && table.columns[i].generated.is_some() => {
                            return Err(error(format!(
                                "cannot INSERT into generated column \"{}\"",
                                table.columns[i].name
                            )))
                        }
                        Some(i) => v.push(i),
                        None => {
                            return Err(error(format!(
                                "table {} has no column named {cn}",
                                table.name
                            )))
                        }
                    }
                }
                v
            }
            None if default_values => Vec::new(),
            // Generated columns take no value.
            None => (0..ncols)
                .filter(|&i| table.columns[i].generated.is_none())
                .collect(),
        };
        self.writes = true;
        // Rows come from VALUES (compiled inline) or a materialised SELECT.
        let (values, select_src, upsert) = match src {
            InsertSrc::Select(sel, upsert) => {
                let is_values = matches!(sel.body.select, ast::OneSelect::Values(_))
                    && sel.body.compounds.is_none()
                    && sel.order_by.is_none()
                    && sel.limit.is_none();
                // Several rows are computed one at a time, each right before its insert
                // (SQLite's co-routine), unless SQLite computes them all first (its temp
                // table): when the table has INSERT triggers, or when the rows read the
                // table (`readsTable`).
                let computed_first = match &sel.body.select {
                    ast::OneSelect::Values(rows) if rows.len() > 1 => {
                        self.has_triggers(&table, TrigEvent::Insert, false)
                            || self.has_triggers(&table, TrigEvent::Insert, true)
                            || rows
                                .iter()
                                .flatten()
                                .any(|e| self.may_read_table(e, &table))
                    }
                    _ => false,
                };
                if is_values && !computed_first {
                    let ast::OneSelect::Values(rows) = &sel.body.select else {
                        unreachable!()
                    };
                    (Some(rows), None, upsert)
                } else {
                    (None, Some(sel), upsert)
                }
            }
            InsertSrc::Default => (None, None, None),
        };
        if let Some(rows) = values {
            for row in rows.iter() {
                if row.len() != targets.len() {
                    return Err(error(match columns {
                        Some(_) => format!("{} values for {} columns", row.len(), targets.len()),
                        None => format!(
                            "table {} has {} columns but {} values were supplied",
                            table.name,
                            targets.len(),
                            row.len()
                        ),
                    }));
                }
            }
        }
        // Every ON CONFLICT clause, in order: its target (None: none named, the last
        // clause only) and its action.
        let mut upsert_actions: Vec<(Option<UpsertTarget>, UpsertAction)> = Vec::new();
        let n_clauses = {
            let mut n = 0;
            let mut c = upsert;
            while let Some(u) = c {
                n += 1;
                c = u.next.as_deref();
            }
            n
        };
        let mut clause = upsert;
        while let Some(u) = clause {
            clause = u.next.as_deref();
            let ordinal = upsert_actions.len() + 1;
            let target_cols = match &u.index {
                Some(ix) => {
                    let target_where = ix.where_clause.as_ref();
                    let mut v = Vec::new();
                    for sc in ix.targets.iter() {
                        let Some((n, _)) = crate::schema::indexed_column_name(&sc.expr) else {
                            return Err(error("ON CONFLICT target must name columns"));
                        };
                        let i = table
                            .column_index(&n)
                            .ok_or_else(|| error(format!("no such column: {n}")))?;
                        v.push(i);
                    }
                    // The target must match a unique constraint (SQLite's
                    // `sqlite3UpsertAnalyzeTarget`): the INTEGER PRIMARY KEY, or a
                    // UNIQUE index on the same columns; a partial one only when the
                    // target's WHERE is its WHERE.
                    let matches_pk = v.len() == 1 && table.rowid_alias == Some(v[0]);
                    let matched = if matches_pk {
                        Some(UpsertTarget::Rowid)
                    } else {
                        let mut found = None;
                        // (A WITHOUT ROWID table's PRIMARY KEY is one of them.)
                        for ix in self.read_indexes(&table) {
                            let mut a: Vec<usize> = ix.columns.iter().map(|c| c.column).collect();
                            let mut b = v.clone();
                            a.sort_unstable();
                            b.sort_unstable();
                            if !ix.unique || a != b {
                                continue;
                            }
                            if ix.where_sql.is_some() {
                                let Some(w) = target_where else { continue };
                                if !self.upsert_where_matches(&table, &ix, w) {
                                    continue;
                                }
                            }
                            found = Some(UpsertTarget::Index(ix.name.clone()));
                            break;
                        }
                        found
                    };
                    let Some(matched) = matched else {
                        // SQLite names the clause when there are several ("2nd ON
                        // CONFLICT clause ...").
                        let which = if n_clauses == 1 {
                            String::new()
                        } else {
                            format!("{} ", ordinal_text(ordinal))
                        };
                        return Err(error(format!(
                                "{which}ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint"
                            )));
                    };
                    Some(matched)
                }
                None => None,
            };
            let action = match &u.do_clause {
                UpsertDo::Nothing => UpsertAction::Nothing,
                UpsertDo::Set { sets, where_clause } => UpsertAction::Update {
                    sets,
                    where_clause: where_clause.as_ref(),
                },
            };
            upsert_actions.push((target_cols, action));
        }
        let src_cursor = match select_src {
            Some(sel) => {
                let cur = self.b.alloc_cursor();
                self.emit(Insn::OpenEphemeral {
                    cursor: cur,
                    kind: EphemeralKind::Table,
                });
                let cols = self.select(sel, &Dest::EphemTable { cursor: cur })?;
                if cols.len() != targets.len() {
                    // SQLite's messages: with a column list, "N values for M columns".
                    return Err(error(match columns {
                        Some(_) => format!("{} values for {} columns", cols.len(), targets.len()),
                        None => format!(
                            "table {} has {} columns but {} values were supplied",
                            table.name,
                            targets.len(),
                            cols.len()
                        ),
                    }));
                }
                Some(cur)
            }
            None => None,
        };
        let t = self.open_write_target(&table);
        let cols = self.regs(ncols.max(1));
        let rowid = self.reg();
        let values_reg = self.regs(targets.len().max(1));
        // Where each value is computed: straight into its column's register (a copy of a
        // text value allocates), except a rowid named as `rowid` and a column named twice
        // (the first value is the column's, as in SQLite; the later one is computed and
        // unused).
        let value_dest: Vec<Reg> = targets
            .iter()
            .enumerate()
            .map(|(p, &i)| {
                if i != usize::MAX && targets.iter().position(|&t| t == i) == Some(p) {
                    cols + i
                } else {
                    values_reg + p
                }
            })
            .collect();
        let ret = self.open_returning(&table, returning)?;
        let autoinc = if table.autoincrement {
            Some(self.autoinc_begin(&table)?)
        } else {
            None
        };
        // One row's code, given its values in `values_reg`.
        let emit_row = |c: &mut Self| -> Result<()> {
            let skip_row = c.label();
            let explicit_rowid = targets
                .iter()
                .position(|&i| i == usize::MAX || table.rowid_alias == Some(i));
            for i in 0..ncols {
                match targets.iter().position(|&t| t == i) {
                    // Computed there already (`value_dest`).
                    Some(_) => {}
                    None => c.column_default(&table, i, cols + i)?,
                }
            }
            // The rowid: given (and not NULL), else new. (A WITHOUT ROWID table's row
            // is named by its key, once affinity is applied, below.)
            if table.without_rowid.is_none() {
                let have = c.label();
                if let Some(p) = explicit_rowid {
                    let new = c.label();
                    c.emit(Insn::Copy {
                        src: value_dest[p],
                        dest: rowid,
                        count: 1,
                    });
                    c.emit(Insn::IsNull {
                        reg: rowid,
                        target: new.addr(),
                    });
                    c.emit(Insn::MustBeInt { reg: rowid });
                    c.goto(have);
                    c.resolve(new);
                }
                c.emit(Insn::NewRowidAsync {
                    cursor: t.cursor,
                    dest: rowid,
                    min_reg: autoinc.as_ref().map(|a| a.seq),
                });
                c.emit(Insn::NewRowidAwait { cursor: t.cursor });
                c.resolve(have);
            }
            if let Some(a) = &autoinc {
                c.emit(Insn::MemMax {
                    acc: a.seq,
                    src: rowid,
                });
            }
            if let Some(a) = table.rowid_alias {
                c.emit(Insn::Copy {
                    src: rowid,
                    dest: cols + a,
                    count: 1,
                });
            }
            c.apply_column_affinity(&table, cols);
            // Generated columns from the finished row, before BEFORE triggers see it
            // (as SQLite).
            c.compute_generated(&table, t.cursor, cols, rowid, false)?;
            c.emit_new_row_key(&table, cols, rowid);
            c.fire_triggers(
                &table,
                TrigEvent::Insert,
                false,
                None,
                Some((cols, rowid)),
                &[],
                skip_row,
            )?;
            c.check_constraints(&t, cols, rowid, or, skip_row)?;
            let conflict_rowid = c.reg();
            let upserts = (!upsert_actions.is_empty()).then(|| Upserts {
                clauses: upsert_actions
                    .iter()
                    .map(|(target, _)| (target.as_ref(), c.label()))
                    .collect(),
                conflict_rowid,
            });
            c.unique_checks(
                &t,
                cols,
                rowid,
                None,
                or,
                skip_row,
                upserts.as_ref(),
                explicit_rowid.is_some() || table.without_rowid.is_some(),
                None,
            )?;
            c.fk_check(
                &table,
                RowChange {
                    old: None,
                    new: Some((cols, rowid)),
                    changed: None,
                },
            )?;
            c.write_row(&t, cols, rowid, false, None)?;
            c.fire_triggers(
                &table,
                TrigEvent::Insert,
                true,
                None,
                Some((cols, rowid)),
                &[],
                skip_row,
            )?;
            if let Some(r) = &ret {
                c.emit_returning(&table, r, cols, rowid)?;
            }
            c.goto(skip_row);
            if let Some(u) = &upserts {
                for ((_, action), (_, label)) in upsert_actions.iter().zip(&u.clauses) {
                    c.resolve(*label);
                    if let UpsertAction::Update { sets, where_clause } = action {
                        c.upsert_update(
                            &t,
                            sets,
                            *where_clause,
                            cols,
                            rowid,
                            conflict_rowid,
                            ret.as_ref(),
                        )?;
                    }
                    c.goto(skip_row);
                }
            }
            c.resolve(skip_row);
            Ok(())
        };
        match (values, src_cursor) {
            (Some(rows), _) => {
                for row in rows.iter() {
                    self.levels.push(Level::default());
                    let r = (|| {
                        for (p, e) in row.iter().enumerate() {
                            self.expr(e, value_dest[p])?;
                        }
                        Ok(())
                    })();
                    self.levels.pop();
                    r?;
                    emit_row(self)?;
                }
            }
            (None, Some(cur)) => {
                let end = self.label();
                let top = self.label();
                self.emit(Insn::RewindAsync { cursor: cur });
                self.emit(Insn::RewindAwait {
                    cursor: cur,
                    target_if_empty: end.addr(),
                });
                self.resolve(top);
                for (p, &dest) in value_dest.iter().enumerate() {
                    self.emit(Insn::Column {
                        cursor: cur,
                        column: p,
                        dest,
                        default: None,
                    });
                }
                emit_row(self)?;
                self.emit(Insn::NextAsync { cursor: cur });
                self.emit(Insn::NextAwait {
                    cursor: cur,
                    target_if_more: top.addr(),
                });
                self.resolve(end);
            }
            (None, None) => {
                // DEFAULT VALUES: every column takes its default.
                emit_row(self)?;
            }
        }
        if let Some(a) = autoinc {
            self.autoinc_end(&table, a);
        }
        Ok(ret)
    }

    /// AUTOINCREMENT: reads the table's `sqlite_sequence` entry (largest rowid ever used).
    fn autoinc_begin(&mut self, table: &Table) -> Result<AutoInc> {
        // The table's own database's sqlite_sequence.
        let seq_table = self
            .schema
            .of_db(table.db)
            .local_table("sqlite_sequence")
            .cloned()
            .ok_or_else(|| error("no such table: sqlite_sequence"))?;
        let cursor = self.b.alloc_cursor();
        self.emit(Insn::OpenWriteAsync {
            db: seq_table.db,
            cursor,
            root_page: seq_table.root_page,
            root_reg: None,
            kind: CursorKind::Table { num_columns: 2 },
        });
        self.emit(Insn::OpenWriteAwait { cursor });
        let seq = self.reg();
        let entry = self.reg();
        self.emit(Insn::Integer {
            value: 0,
            dest: seq,
        });
        self.emit(Insn::Null {
            dest: entry,
            count: 1,
        });
        let scan = self.scan_begin(cursor);
        let (next, end) = (scan.next, scan.end);
        let name = self.reg();
        let want = self.reg();
        self.emit(Insn::Column {
            cursor,
            column: 0,
            dest: name,
            default: None,
        });
        self.emit(Insn::String {
            value: table.name.as_bytes().to_vec(),
            dest: want,
        });
        self.emit(Insn::Compare {
            op: Cmp::Ne,
            lhs: name,
            rhs: want,
            target: next.addr(),
            affinity: Default::default(),
            collation: Default::default(),
            jump_if_null: true,
            null_eq: false,
        });
        self.emit(Insn::Rowid {
            cursor,
            dest: entry,
        });
        self.emit(Insn::Column {
            cursor,
            column: 1,
            dest: seq,
            default: None,
        });
        self.emit(Insn::Affinity {
            start: seq,
            affinities: vec![strata_vdbe::affinity::Affinity::Integer],
        });
        self.goto(end);
        self.scan_end(scan);
        Ok(AutoInc { cursor, seq, entry })
    }

    /// Writes the largest rowid back to `sqlite_sequence`.
    fn autoinc_end(&mut self, table: &Table, a: AutoInc) {
        let regs = self.regs(2);
        self.emit(Insn::String {
            value: table.name.as_bytes().to_vec(),
            dest: regs,
        });
        self.emit(Insn::Copy {
            src: a.seq,
            dest: regs + 1,
            count: 1,
        });
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start: regs,
            count: 2,
            dest: rec,
            affinities: None,
        });
        let have = self.label();
        self.emit(Insn::NotNull {
            reg: a.entry,
            target: have.addr(),
        });
        self.emit(Insn::NewRowidAsync {
            cursor: a.cursor,
            dest: a.entry,
            min_reg: None,
        });
        self.emit(Insn::NewRowidAwait { cursor: a.cursor });
        self.resolve(have);
        self.emit(Insn::InsertAsync {
            cursor: a.cursor,
            key_reg: a.entry,
            record_reg: rec,
            flags: InsertFlags::default(),
            table: "sqlite_sequence".into(),
        });
        self.emit(Insn::InsertAwait { cursor: a.cursor });
    }

    /// ON CONFLICT DO UPDATE: update the conflicting row `conflict_rowid`, with
    /// `excluded.*` reading the proposed row (`new_cols`, `new_rowid`).
    fn upsert_update(
        &mut self,
        t: &WriteTarget,
        sets: &[ast::Set<'_>],
        where_clause: Option<&Expr<'_>>,
        new_cols: Reg,
        new_rowid: Reg,
        conflict_rowid: Reg,
        ret: Option<&Returning>,
    ) -> Result<()> {
        let table = t.table.clone();
        let done = self.label();
        self.emit(Insn::SeekRowidAsync {
            cursor: t.cursor,
            rowid_reg: conflict_rowid,
        });
        self.emit(Insn::SeekRowidAwait {
            cursor: t.cursor,
            target_if_not_found: done.addr(),
        });
        // Scope: the table (current row via its cursor) and `excluded` (registers).
        let mut level = Level::default();
        level
            .sources
            .push(table_source(&table, table.name.clone(), t.cursor));
        let excl_cursor = self.b.alloc_cursor();
        let mut excluded = table_source(&table, "excluded".into(), excl_cursor);
        // Unqualified names mean the table's row; `excluded.x` must be qualified.
        for c in &mut excluded.columns {
            c.hidden = true;
        }
        level.sources.push(excluded);
        let mut map = AggMap::default();
        for i in 0..table.columns.len() {
            let reg = if table.rowid_alias == Some(i) {
                new_rowid
            } else {
                new_cols + i
            };
            map.columns.insert((1, i), reg);
        }
        map.columns.insert((1, ROWID), new_rowid);
        level.agg = Some(map);
        self.levels.push(level);
        // RETURNING reports the row as the DO UPDATE left it (SQLite: one row per input
        // row that was inserted or updated; none for DO NOTHING or a false WHERE).
        let assigns = flatten_sets(sets);
        let r = assigns.and_then(|a| {
            self.update_current_row(t, (&a, None), where_clause, conflict_rowid, None, done, ret)
        });
        self.levels.pop();
        r?;
        self.resolve(done);
        Ok(())
    }

    /// First pass of UPDATE/DELETE: the rowids of the rows WHERE selects, into an
    /// ephemeral table keyed by rowid.
    pub(crate) fn collect_rowids(
        &mut self,
        table: &Arc<Table>,
        alias: Option<&str>,
        where_clause: Option<&Expr<'_>>,
    ) -> Result<Cur> {
        let set = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor: set,
            kind: EphemeralKind::Table,
        });
        let rc = self.b.alloc_cursor();
        self.open_table_read(rc, table);
        let mut level = Level::default();
        let name = alias
            .map(|a| a.to_string())
            .unwrap_or_else(|| table.name.clone());
        level.sources.push(table_source(table, name, rc));
        self.levels.push(level);
        let mut terms = Vec::new();
        if let Some(w) = where_clause {
            if crate::select::contains_aggregate(w) {
                self.levels.pop();
                return Err(error(format!(
                    "misuse of aggregate function {}()",
                    crate::select::first_aggregate_name(w)
                )));
            }
            split_and(w, &mut terms);
        }
        let specs = vec![LoopSpec {
            source: 0,
            join: JoinKind::Inner,
            on: Vec::new(),
        }];
        match self.columns_needed(&[], &[], &specs, &terms) {
            Ok(n) => self.needed = Some(n),
            Err(e) => {
                self.levels.pop();
                return Err(e);
            }
        }
        let level = self.levels.len() - 1;
        let wr_pk: Option<Vec<usize>> = table
            .without_rowid
            .as_ref()
            .map(|wr| wr.pk.iter().map(|p| p.column).collect());
        let r = self.emit_loops(&specs, &terms, &mut |c, _cont| {
            if let Some(pk) = &wr_pk {
                c.collect_without_rowid_key(pk, level, set);
                return Ok(());
            }
            let r = c.reg();
            let rec = c.reg();
            // Through emit_column: a covering index loop never positions `rc`.
            c.emit_column(
                crate::scope::ColumnRef {
                    level,
                    source: 0,
                    column: ROWID,
                },
                r,
            );
            c.emit(Insn::MakeRecord {
                start: r,
                count: 0,
                dest: rec,
                affinities: None,
            });
            c.emit(Insn::InsertAsync {
                cursor: set,
                key_reg: r,
                record_reg: rec,
                flags: InsertFlags::default(),
                table: String::new(),
            });
            c.emit(Insn::InsertAwait { cursor: set });
            Ok(())
        });
        self.levels.pop();
        r?;
        Ok(set)
    }

    pub fn delete(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::Delete {
            with,
            tbl_name,
            where_clause,
            returning,
            order_by,
            limit,
            ..
        } = stmt
        else {
            unreachable!("dispatched on Delete")
        };
        if order_by.is_some() || limit.is_some() {
            // As UPDATE's: SQLite's default build has no SQLITE_ENABLE_UPDATE_DELETE_LIMIT.
            return Err(error(
                "DELETE with ORDER BY or LIMIT is not supported (SQLite's default build refuses it too)",
            ));
        }
        let n = match with {
            Some(w) => self.push_ctes(w)?,
            None => 0,
        };
        let ret = self.emit_delete(tbl_name, where_clause.as_ref(), *returning);
        self.pop_ctes(n);
        Ok(self.finish_returning(text, ret?))
    }

    /// The code of one DELETE (also used in trigger bodies).
    pub fn emit_delete<'a>(
        &mut self,
        tbl_name: &ast::QualifiedName<'_>,
        where_clause: Option<&Expr<'_>>,
        returning: Option<&'a [ast::ResultColumn<'a>]>,
    ) -> Result<Option<Returning>> {
        if let Some(view) =
            self.instead_of_target(tbl_name, TrigEvent::Delete, None, returning.is_some())?
        {
            return self.emit_view_delete(&view, tbl_name, where_clause, returning);
        }
        let table = self.writable_table(tbl_name)?;
        let alias = tbl_name.alias.as_ref().map(|a| names::unquote(a.0));
        self.writes = true;
        let has_triggers = self.has_triggers(&table, TrigEvent::Delete, false)
            || self.has_triggers(&table, TrigEvent::Delete, true);
        if where_clause.is_none()
            && returning.is_none()
            && !has_triggers
            && !self.fk_involved(&table)
        {
            // The truncate optimisation: clear the table and its indexes.
            self.emit(Insn::Clear {
                db: table.db,
                root_page: table.root_page,
                count: self.row_count(),
            });
            for ix in self.schema.table_indexes(&table) {
                self.emit(Insn::Clear {
                    db: ix.db,
                    root_page: ix.root_page,
                    count: RowCount::None,
                });
            }
            return Ok(None);
        }
        let set = self.collect_rowids(&table, alias.as_deref(), where_clause)?;
        let t = self.open_write_target(&table);
        let ret = self.open_returning(&table, returning)?;
        let scan = self.scan_begin(set);
        let next = scan.next;
        let rowid = self.reg();
        self.emit_collected_key(&table, set, rowid);
        self.emit(Insn::SeekRowidAsync {
            cursor: t.cursor,
            rowid_reg: rowid,
        });
        self.emit(Insn::SeekRowidAwait {
            cursor: t.cursor,
            target_if_not_found: next.addr(),
        });
        if has_triggers || ret.is_some() {
            let n = table.columns.len();
            let old = self.regs(n.max(1));
            for i in 0..n {
                if table.rowid_alias == Some(i) {
                    self.emit(Insn::Copy {
                        src: rowid,
                        dest: old + i,
                        count: 1,
                    });
                } else {
                    self.table_column(&table, t.cursor, i, old + i)?;
                }
            }
            self.fire_triggers(
                &table,
                TrigEvent::Delete,
                false,
                Some((old, rowid)),
                None,
                &[],
                next,
            )?;
            if has_triggers {
                self.emit(Insn::SeekRowidAsync {
                    cursor: t.cursor,
                    rowid_reg: rowid,
                });
                self.emit(Insn::SeekRowidAwait {
                    cursor: t.cursor,
                    target_if_not_found: next.addr(),
                });
            }
            if let Some(r) = &ret {
                self.emit_returning(&table, r, old, rowid)?;
            }
            self.delete_current_row(&t, true)?;
            self.fire_triggers(
                &table,
                TrigEvent::Delete,
                true,
                Some((old, rowid)),
                None,
                &[],
                next,
            )?;
        } else {
            self.delete_current_row(&t, true)?;
        }
        self.scan_end(scan);
        Ok(ret)
    }
}

impl Compiler<'_> {
    /// Whether `e` may read `table`: one of its subqueries names the table, or a view or
    /// CTE (which could read it), anywhere in its text. Over-approximates (a column of
    /// the table's name counts too); never misses a read.
    fn may_read_table(&self, e: &Expr<'_>, table: &Table) -> bool {
        let mut found = false;
        crate::expr_walk::walk(e, &mut |x| {
            if matches!(
                x,
                Expr::Exists(_) | Expr::Subquery(_) | Expr::InSelect { .. } | Expr::InTable { .. }
            ) {
                let text = x.to_string();
                found = match crate::alter_tokens::Toks::new(&text) {
                    Some(k) => (0..k.t.len()).any(|i| {
                        k.is_word(i)
                            && (k.names(i, &table.name)
                                || k.is(i, "WITH")
                                || self.schema.view(&k.name(i)).is_some())
                    }),
                    None => true,
                };
            }
            !found
        });
        found
    }
}

/// SQLite's `%r` ordinal: "1st", "2nd", "3rd", "4th", ..., "11th", "21st".
fn ordinal_text(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}
