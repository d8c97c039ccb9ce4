//! Foreign keys: the code SQLite's `fkey.c` generates, for INSERT, UPDATE, DELETE and
//! DROP TABLE, plus the parent-key lookup `PRAGMA foreign_key_check` shares.
//!
//! Enforcement is a per-connection setting read when a statement starts, so the code is
//! compiled into every statement touching a table with foreign keys (as child or parent)
//! and skipped at run time (`FkJump { Disabled }`) when `PRAGMA foreign_keys` is off.
//! Errors SQLite raises while preparing such a statement with enforcement on ("foreign
//! key mismatch", a missing parent table) are collected in `Compiler::fk_errors` and
//! raised by the program's prologue, only when enforcement is on.
//!
//! Counting (see `strata-vdbe/src/vm/fkey.rs`): adding a child row whose parent is
//! missing, or removing a parent row that still has children, counts +1 violation;
//! removing such a child, or adding the missing parent, counts -1 (only when violations
//! are outstanding: `FkIfZero`). Immediate counts fail the statement when it ends;
//! deferred ones fail COMMIT.
//!
//! Actions (ON DELETE / ON UPDATE CASCADE, SET NULL, SET DEFAULT, RESTRICT) are compiled
//! as the trigger SQLite builds for them (`fkActionTrigger`): an AFTER trigger on the
//! parent whose body is one statement on the child table, with `old.`/`new.` reading the
//! parent row's registers. Each action is a subroutine (`Gosub`) taking the parent row
//! images in argument registers; an action that cascades into itself (a self-referencing
//! ON DELETE CASCADE, cycles between tables) calls its own subroutine again, saving the
//! subroutine's registers and cursors around the call (`FramePush`/`FramePop`).

use std::sync::Arc;

use sqlite3_parser::ast::{self, Stmt};
use strata_btree::record::Collation;
use strata_vdbe::affinity::Affinity;
use strata_vdbe::insn::{ErrorCode, FkCond, Insn, OnError, Reg};
use strata_vdbe::ops::Cmp;

use strata_vdbe::program::Program;

use crate::compiler::{error, Compiler, Result};
use crate::names;
use crate::planner::{JoinKind, LoopSpec};
use crate::schema::{with_parsed, FkAction, ForeignKey, Index, Table};
use crate::scope::Level;
use crate::select::{split_and, table_source};

/// How a foreign key's columns map onto its parent key.
pub(crate) struct FkLink {
    /// The parent's unique index on the key, or None for the INTEGER PRIMARY KEY.
    pub index: Option<Arc<Index>>,
    /// Per key position (index column order): the child column.
    pub child_cols: Vec<usize>,
    /// Per key position: the parent column.
    pub parent_cols: Vec<usize>,
}

/// `"name"` with embedded quotes doubled (SQLite's `%w` inside double quotes).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) fn mismatch_message(child: &Table, fk: &ForeignKey) -> String {
    format!(
        "foreign key mismatch - {} referencing {}",
        quoted(&child.name),
        quoted(&fk.parent)
    )
}

/// The register holding column `i` of a row image (`cols..`, rowid in `rowid`).
fn col_reg(table: &Table, cols: Reg, rowid: Reg, i: usize) -> Reg {
    if table.rowid_alias == Some(i) {
        rowid
    } else {
        cols + i
    }
}

/// Whether an UPDATE that assigns `changed` (and the rowid when `rowid_changed`)
/// modifies the parent key of `fk` (SQLite's `fkParentIsModified`).
fn parent_modified(parent: &Table, fk: &ForeignKey, changed: &[bool], rowid_changed: bool) -> bool {
    for i in 0..fk.from.len() {
        for (k, col) in parent.columns.iter().enumerate() {
            let hit = changed.get(k).copied().unwrap_or(false)
                || (parent.rowid_alias == Some(k) && rowid_changed);
            if !hit {
                continue;
            }
            let matches = match &fk.to {
                Some(to) => names::eq(&col.name, &to[i]),
                None => col.primary_key,
            };
            if matches {
                return true;
            }
        }
    }
    false
}

/// Whether the UPDATE modifies the child key of `fk` (SQLite's `fkChildIsModified`).
fn child_modified(child: &Table, fk: &ForeignKey, changed: &[bool], rowid_changed: bool) -> bool {
    fk.from.iter().any(|&c| {
        changed.get(c).copied().unwrap_or(false) || (child.rowid_alias == Some(c) && rowid_changed)
    })
}

/// An action subroutine being compiled (see `fk_action_subroutine`).
pub struct FkFrame {
    id: String,
    entry: crate::builder::Label,
    ret: Reg,
    old_args: Reg,
    new_args: Option<Reg>,
    reg_start: Reg,
    cursor_start: usize,
    /// `FramePush` instructions of recursive calls, patched with the frame's size.
    push_sites: Vec<usize>,
}

/// The row images and changes of one row event.
#[derive(Clone, Copy)]
pub(crate) struct RowChange<'a> {
    /// Old row (columns, rowid) for DELETE and UPDATE.
    pub old: Option<(Reg, Reg)>,
    /// New row for INSERT and UPDATE.
    pub new: Option<(Reg, Reg)>,
    /// For UPDATE: which columns are assigned, and whether the rowid is.
    pub changed: Option<(&'a [bool], bool)>,
}

impl Compiler<'_> {
    /// The foreign keys (child table, index in its list) whose parent is `table`.
    pub(crate) fn fk_references(&self, table: &Table) -> Vec<(Arc<Table>, usize)> {
        // SQLite links each new foreign key first in its parent's list: the newest
        // table's last foreign key comes first.
        // Children are in the parent's database (SQLite looks a parent up in the
        // child's schema).
        let mut out = Vec::new();
        let s = self.schema.of_db(table.db);
        for name in s.table_order.iter().rev() {
            let Some(t) = s.local_table(name) else {
                continue;
            };
            for (k, fk) in t.foreign_keys.iter().enumerate().rev() {
                if names::eq(&fk.parent, &table.name) {
                    out.push((t.clone(), k));
                }
            }
        }
        out
    }

    /// Whether `table` takes part in any foreign key (as child or parent): statements
    /// writing it carry foreign key code.
    pub(crate) fn fk_involved(&self, table: &Table) -> bool {
        !table.foreign_keys.is_empty() || !self.fk_references(table).is_empty()
    }

    /// Whether an UPDATE assigning `changed` needs foreign key processing (SQLite's
    /// `sqlite3FkRequired` for UPDATE): 0 no; 1 yes; 2 yes, and the old row must be
    /// deleted (with all its index entries) before the new row is checked, because a
    /// self-referencing child key or a parent key with an ON UPDATE action changes.
    pub(crate) fn fk_update_required(
        &self,
        table: &Table,
        changed: &[bool],
        rowid_changed: bool,
    ) -> u8 {
        let mut level = 0;
        for fk in &table.foreign_keys {
            if child_modified(table, fk, changed, rowid_changed) {
                if names::eq(&table.name, &fk.parent) {
                    return 2;
                }
                level = 1;
            }
        }
        for (c, k) in self.fk_references(table) {
            let fk = &c.foreign_keys[k];
            if parent_modified(table, fk, changed, rowid_changed) {
                if fk.on_update != FkAction::NoAction {
                    return 2;
                }
                level = 1;
            }
        }
        level
    }

    /// Runs foreign-key code generation `f`. An error from it is one SQLite raises when
    /// preparing the statement with foreign keys on (`fk_error`: the program's prologue
    /// raises it then); with them off the code is skipped (`FkJump { Disabled }`). Either
    /// way the code `f` left half made never runs: its labels are resolved here so that
    /// the program is still well formed.
    pub(crate) fn fk_guarded(&mut self, f: impl FnOnce(&mut Self) -> Result<()>) {
        let mark = self.b.label_mark();
        if let Err(e) = f(self) {
            self.b.resolve_dangling_since(mark);
            self.fk_error(e.message);
        }
    }

    /// An error SQLite raises when preparing the statement with foreign keys on.
    pub(crate) fn fk_error(&mut self, msg: String) {
        if !self.fk_errors.contains(&msg) {
            self.fk_errors.push(msg);
        }
    }

    /// Finds the parent key of `fk` (SQLite's `sqlite3FkLocateIndex`): the INTEGER
    /// PRIMARY KEY, or a UNIQUE index (not partial) on exactly the key's columns with
    /// each column's default collation.
    pub(crate) fn fk_locate(&self, parent: &Table, fk: &ForeignKey) -> Option<FkLink> {
        let n = fk.from.len();
        if n == 1 {
            if let Some(a) = parent.rowid_alias {
                let ipk = match &fk.to {
                    None => true,
                    Some(to) => names::eq(&parent.columns[a].name, &to[0]),
                };
                if ipk {
                    return Some(FkLink {
                        index: None,
                        child_cols: fk.from.clone(),
                        parent_cols: vec![a],
                    });
                }
            }
        }
        // SQLite walks the parent's indexes newest first.
        // (A WITHOUT ROWID parent's PRIMARY KEY is an index too: its B-tree is the table.)
        let mut indexes = self.read_indexes(parent);
        indexes.reverse();
        for ix in indexes {
            if ix.columns.len() != n
                || !ix.unique
                || ix.where_sql.is_some()
                || ix.columns.iter().any(|c| c.expr.is_some())
            {
                continue;
            }
            let parent_cols: Vec<usize> = ix.columns.iter().map(|c| c.column).collect();
            match &fk.to {
                None => {
                    if ix.is_primary_key {
                        return Some(FkLink {
                            index: Some(ix.clone()),
                            child_cols: fk.from.clone(),
                            parent_cols,
                        });
                    }
                }
                Some(to) => {
                    let mut child_cols = Vec::new();
                    for c in &ix.columns {
                        if c.collation != parent.columns[c.column].collation {
                            break;
                        }
                        let name = &parent.columns[c.column].name;
                        match to.iter().position(|t| names::eq(t, name)) {
                            Some(j) => child_cols.push(fk.from[j]),
                            None => break,
                        }
                    }
                    if child_cols.len() == n {
                        return Some(FkLink {
                            index: Some(ix.clone()),
                            child_cols,
                            parent_cols,
                        });
                    }
                }
            }
        }
        None
    }

    /// Foreign key checks for one row event on `table` (SQLite's `sqlite3FkCheck`):
    /// child-side lookups of the parent, parent-side scans of the children.
    pub(crate) fn fk_check(&mut self, table: &Arc<Table>, ch: RowChange<'_>) -> Result<()> {
        if !self.fk_involved(table) {
            return Ok(());
        }
        let skip = self.label();
        self.emit(Insn::FkJump {
            cond: FkCond::Disabled,
            target: skip.addr(),
        });
        let ignore_errors = self.disable_triggers;
        // This table as the child, in SQLite's order (last declared first).
        for fk in table.foreign_keys.iter().rev().cloned().collect::<Vec<_>>() {
            if let Some((changed, rowid_changed)) = ch.changed {
                if !names::eq(&table.name, &fk.parent)
                    && !child_modified(table, &fk, changed, rowid_changed)
                {
                    continue;
                }
            }
            let Some(parent) = self.schema.of_db(table.db).local_table(&fk.parent).cloned() else {
                if self.schema.view(&fk.parent).is_some() {
                    // A view has no parent key.
                    if !ignore_errors {
                        self.fk_error(mismatch_message(table, &fk));
                    }
                } else if !ignore_errors {
                    self.fk_error(format!("no such table: main.{}", fk.parent));
                } else if let Some((cols, rowid)) = ch.old {
                    // DROP TABLE: a missing parent counts as empty, so removing a
                    // child row with a non-NULL key resolves a violation.
                    let ok = self.label();
                    for &c in &fk.from {
                        self.emit(Insn::IsNull {
                            reg: col_reg(table, cols, rowid, c),
                            target: ok.addr(),
                        });
                    }
                    self.emit(Insn::FkCounter {
                        deferred: fk.deferred,
                        delta: -1,
                    });
                    self.resolve(ok);
                }
                continue;
            };
            let Some(link) = self.fk_locate(&parent, &fk) else {
                if !ignore_errors {
                    self.fk_error(mismatch_message(table, &fk));
                }
                continue;
            };
            if let Some((cols, rowid)) = ch.old {
                self.fk_lookup_parent(&parent, table, &fk, &link, cols, rowid, -1);
            }
            if let Some((cols, rowid)) = ch.new {
                self.fk_lookup_parent(&parent, table, &fk, &link, cols, rowid, 1);
            }
        }
        // This table as the parent.
        for (child, k) in self.fk_references(table) {
            let fk = child.foreign_keys[k].clone();
            if let Some((changed, rowid_changed)) = ch.changed {
                if !parent_modified(table, &fk, changed, rowid_changed) {
                    continue;
                }
            }
            let Some(link) = self.fk_locate(table, &fk) else {
                if !ignore_errors {
                    self.fk_error(mismatch_message(&child, &fk));
                }
                continue;
            };
            if let Some((cols, rowid)) = ch.new {
                self.fk_scan_children(table, &child, &fk, &link, cols, rowid, -1)?;
            }
            if let Some((cols, rowid)) = ch.old {
                self.fk_scan_children(table, &child, &fk, &link, cols, rowid, 1)?;
            }
        }
        self.resolve(skip);
        Ok(())
    }

    /// Child side (SQLite's `fkLookupParent`): if the child row's key is not NULL and
    /// no parent row has it, count `incr` (a new child: +1; a removed child: -1, only
    /// when violations are outstanding).
    #[allow(clippy::too_many_arguments)]
    fn fk_lookup_parent(
        &mut self,
        parent: &Arc<Table>,
        child: &Arc<Table>,
        fk: &ForeignKey,
        link: &FkLink,
        cols: Reg,
        rowid: Reg,
        incr: i64,
    ) {
        let ok = self.label();
        if incr < 0 {
            self.emit(Insn::FkIfZero {
                deferred: fk.deferred,
                target: ok.addr(),
            });
        }
        for &c in &link.child_cols {
            self.emit(Insn::IsNull {
                reg: col_reg(child, cols, rowid, c),
                target: ok.addr(),
            });
        }
        let self_ref = names::eq(&parent.name, &child.name) && incr == 1;
        let cursor = self.b.alloc_cursor();
        match &link.index {
            None => {
                let tmp = self.reg();
                self.emit(Insn::Copy {
                    src: col_reg(child, cols, rowid, link.child_cols[0]),
                    dest: tmp,
                    count: 1,
                });
                if self_ref {
                    // The row being inserted is its own parent.
                    self.emit(Insn::Compare {
                        op: Cmp::Eq,
                        lhs: rowid,
                        rhs: tmp,
                        target: ok.addr(),
                        affinity: Affinity::Numeric,
                        collation: Collation::Binary,
                        jump_if_null: false,
                        null_eq: false,
                    });
                }
                self.open_table_read(cursor, &parent);
                let missing = self.label();
                self.emit(Insn::SeekRowidAsync {
                    cursor,
                    rowid_reg: tmp,
                });
                self.emit(Insn::SeekRowidAwait {
                    cursor,
                    target_if_not_found: missing.addr(),
                });
                self.goto(ok);
                self.resolve(missing);
            }
            Some(ix) => {
                let n = link.child_cols.len();
                let tmp = self.regs(n);
                for (i, &c) in link.child_cols.iter().enumerate() {
                    self.emit(Insn::Copy {
                        src: col_reg(child, cols, rowid, c),
                        dest: tmp + i,
                        count: 1,
                    });
                }
                if self_ref {
                    // The row being inserted is its own parent when its child key
                    // equals its parent key (NULLs never match).
                    let not_self = self.label();
                    for i in 0..n {
                        self.emit(Insn::Compare {
                            op: Cmp::Ne,
                            lhs: col_reg(child, cols, rowid, link.child_cols[i]),
                            rhs: col_reg(parent, cols, rowid, link.parent_cols[i]),
                            target: not_self.addr(),
                            affinity: Affinity::Blob,
                            collation: Collation::Binary,
                            jump_if_null: true,
                            null_eq: false,
                        });
                    }
                    self.goto(ok);
                    self.resolve(not_self);
                }
                self.emit(Insn::Affinity {
                    start: tmp,
                    affinities: link
                        .parent_cols
                        .iter()
                        .map(|&c| parent.columns[c].affinity)
                        .collect(),
                });
                self.open_index_read(cursor, &ix);
                self.emit(Insn::Found {
                    cursor,
                    key_start: tmp,
                    key_count: n,
                    target: ok.addr(),
                });
            }
        }
        if incr > 0 && !fk.deferred && self.fk_halt_at_once && self.trigger_stack.is_empty() {
            // A single-row INSERT has no statement savepoint: fail before writing
            // (unless PRAGMA defer_foreign_keys defers this constraint too).
            let count = self.label();
            self.emit(Insn::FkJump {
                cond: FkCond::DeferOn,
                target: count.addr(),
            });
            self.emit(Insn::Halt {
                error: Some((
                    ErrorCode::Constraint,
                    "FOREIGN KEY constraint failed".into(),
                )),
                on_error: OnError::Abort,
            });
            self.resolve(count);
        }
        self.emit(Insn::FkCounter {
            deferred: fk.deferred,
            delta: incr,
        });
        self.resolve(ok);
        self.emit(Insn::Close { cursor });
    }

    /// Parent side (SQLite's `fkScanChildren`): count `incr` for each child row whose
    /// key equals the parent row's key. As in SQLite, the children are selected by a
    /// WHERE clause, `old.<parent col> = <child col> AND ...` with the parent row in
    /// registers on the left (its affinity and collation rule the comparison), so the
    /// planner uses an index on the child key when there is one. A removed parent: +1
    /// per child (a self-referencing row is not its own child); an added parent: -1 per
    /// child, only when violations are outstanding.
    #[allow(clippy::too_many_arguments)]
    fn fk_scan_children(
        &mut self,
        parent: &Arc<Table>,
        child: &Arc<Table>,
        fk: &ForeignKey,
        link: &FkLink,
        cols: Reg,
        rowid: Reg,
        incr: i64,
    ) -> Result<()> {
        let skip = self.label();
        if incr < 0 {
            self.emit(Insn::FkIfZero {
                deferred: fk.deferred,
                target: skip.addr(),
            });
        }
        let mut terms: Vec<String> = link
            .child_cols
            .iter()
            .zip(&link.parent_cols)
            .map(|(&cc, &pc)| {
                format!(
                    "old.{} = {}",
                    quoted(&parent.columns[pc].name),
                    quoted(&child.columns[cc].name)
                )
            })
            .collect();
        if names::eq(&parent.name, &child.name) && incr > 0 {
            if parent.without_rowid.is_none() {
                terms.push("old._rowid_ <> _rowid_".into());
            } else {
                // No rowid tells the row from its children: SQLite compares the
                // parent key's columns (unique, so they name the row).
                let same: Vec<String> = link
                    .parent_cols
                    .iter()
                    .map(|&pc| {
                        let c = quoted(&parent.columns[pc].name);
                        format!("old.{c} IS {c}")
                    })
                    .collect();
                terms.push(format!("NOT ({})", same.join(" AND ")));
            }
        }
        let sql = format!(
            "SELECT 1 FROM {} WHERE {}",
            quoted(&child.name),
            terms.join(" AND ")
        );
        self.push_row_images(parent, Some((cols, rowid)), None);
        let r = with_parsed(&sql, |stmt| {
            let Stmt::Select(sel) = stmt else {
                return Err(error("bad foreign key scan"));
            };
            let ast::OneSelect::Select {
                where_clause: Some(w),
                ..
            } = &sel.body.select
            else {
                return Err(error("bad foreign key scan"));
            };
            let cursor = self.b.alloc_cursor();
            self.open_table_read(cursor, &child);
            let mut level = Level::default();
            level
                .sources
                .push(table_source(child, child.name.clone(), cursor));
            self.levels.push(level);
            let mut where_terms = Vec::new();
            split_and(w, &mut where_terms);
            let specs = vec![LoopSpec {
                source: 0,
                join: JoinKind::Inner,
                on: Vec::new(),
            }];
            let r = self
                .columns_needed(&[], &[], &specs, &where_terms)
                .and_then(|n| {
                    self.needed = Some(n);
                    self.emit_loops(&specs, &where_terms, &mut |c, _cont| {
                        c.emit(Insn::FkCounter {
                            deferred: fk.deferred,
                            delta: incr,
                        });
                        Ok(())
                    })
                });
            self.levels.pop();
            r
        });
        self.levels.pop();
        r?;
        self.resolve(skip);
        Ok(())
    }

    /// ON DELETE / ON UPDATE actions for a parent row removed or changed (SQLite's
    /// `sqlite3FkActions`): `ch.changed` is None for DELETE.
    pub(crate) fn fk_actions(&mut self, table: &Arc<Table>, ch: RowChange<'_>) -> Result<()> {
        let refs = self.fk_references(table);
        if refs.is_empty() {
            return Ok(());
        }
        let Some(old) = ch.old else {
            return Ok(());
        };
        let skip_all = self.label();
        self.emit(Insn::FkJump {
            cond: FkCond::Disabled,
            target: skip_all.addr(),
        });
        for (child, k) in refs {
            let fk = child.foreign_keys[k].clone();
            let is_update = ch.changed.is_some();
            if let Some((changed, rowid_changed)) = ch.changed {
                if !parent_modified(table, &fk, changed, rowid_changed) {
                    continue;
                }
            }
            let action = if is_update {
                fk.on_update
            } else {
                fk.on_delete
            };
            if action == FkAction::NoAction {
                continue;
            }
            let Some(link) = self.fk_locate(table, &fk) else {
                // fk_check reported the mismatch.
                continue;
            };
            let id = format!(
                "\u{1}fk {} {} {}",
                child.name.to_ascii_lowercase(),
                k,
                if is_update { "update" } else { "delete" }
            );
            let skip = self.label();
            if action == FkAction::Restrict {
                // RESTRICT is immediate, except under PRAGMA defer_foreign_keys.
                self.emit(Insn::FkJump {
                    cond: FkCond::DeferOn,
                    target: skip.addr(),
                });
            }
            if let Some(pos) = self.fk_frames.iter().position(|f| f.id == id) {
                self.fk_call_recursive(table, pos, old, ch.new);
            } else {
                let sql = action_trigger_sql(table, &child, &link, action, is_update);
                self.fk_action_subroutine(table, id, &sql, old, ch.new)?;
            }
            self.resolve(skip);
        }
        self.resolve(skip_all);
        Ok(())
    }

    /// DROP TABLE with foreign keys on (SQLite's `sqlite3FkDropTable`): an implicit
    /// `DELETE FROM` the table first, without triggers, so that its children see their
    /// parent rows go (actions run, violations count); immediate violations then fail
    /// the statement before the schema changes.
    pub(crate) fn fk_drop_table(
        &mut self,
        table: &Arc<Table>,
        name: &ast::QualifiedName<'_>,
    ) -> Result<()> {
        if !self.fk_involved(table) {
            return Ok(());
        }
        let skip = self.label();
        self.emit(Insn::FkJump {
            cond: FkCond::Disabled,
            target: skip.addr(),
        });
        if self.fk_references(table).is_empty() {
            // Only a child: the DELETE matters only to resolve outstanding deferred
            // violations of its deferred constraints.
            if !table.foreign_keys.iter().any(|f| f.deferred) {
                let go = self.label();
                self.emit(Insn::FkJump {
                    cond: FkCond::DeferOn,
                    target: go.addr(),
                });
                self.goto(skip);
                self.resolve(go);
            }
            self.emit(Insn::FkIfZero {
                deferred: true,
                target: skip.addr(),
            });
        }
        let saved = std::mem::replace(&mut self.disable_triggers, true);
        let r = self.emit_delete(name, None, None);
        self.disable_triggers = saved;
        r?;
        let done = self.label();
        self.emit(Insn::FkJump {
            cond: FkCond::DeferOn,
            target: done.addr(),
        });
        self.emit(Insn::FkIfZero {
            deferred: false,
            target: done.addr(),
        });
        self.emit(Insn::Halt {
            error: Some((
                ErrorCode::Constraint,
                "FOREIGN KEY constraint failed".into(),
            )),
            on_error: OnError::Abort,
        });
        self.resolve(done);
        self.resolve(skip);
        Ok(())
    }

    /// Copies a row image (`cols..`, `rowid`) into a subroutine's argument registers
    /// (`args..args+n` columns, `args+n` rowid).
    fn copy_row_image(&mut self, table: &Table, from: (Reg, Reg), args: Reg) {
        let n = table.columns.len();
        self.emit(Insn::Copy {
            src: from.0,
            dest: args,
            count: n,
        });
        self.emit(Insn::Copy {
            src: from.1,
            dest: args + n,
            count: 1,
        });
    }

    /// An action's code, as a subroutine so that it can be re-entered when it cascades
    /// into itself (SQLite runs actions as trigger programs, which may recurse): the
    /// parent row images are copied into argument registers, then `Gosub`.
    fn fk_action_subroutine(
        &mut self,
        table: &Arc<Table>,
        id: String,
        sql: &str,
        old: (Reg, Reg),
        new: Option<(Reg, Reg)>,
    ) -> Result<()> {
        let n = table.columns.len();
        // Everything from `ret` on belongs to the subroutine's frame.
        let ret = self.reg();
        let reg_start = ret;
        let cursor_start = self.b.next_cursor();
        let old_args = self.regs(n + 1);
        let new_args = new.map(|_| self.regs(n + 1));
        self.copy_row_image(table, old, old_args);
        if let (Some(nw), Some(args)) = (new, new_args) {
            self.copy_row_image(table, nw, args);
        }
        let entry = self.label();
        let after = self.label();
        self.emit(Insn::Gosub {
            return_reg: ret,
            target: entry.addr(),
        });
        self.goto(after);
        self.resolve(entry);
        self.fk_frames.push(FkFrame {
            id: id.clone(),
            entry,
            ret,
            old_args,
            new_args,
            reg_start,
            cursor_start,
            push_sites: Vec::new(),
        });
        let r = self.compile_action(
            table,
            &id,
            sql,
            (old_args, old_args + n),
            new_args.map(|a| (a, a + n)),
        );
        let frame = self.fk_frames.pop().expect("pushed above");
        r?;
        self.emit(Insn::Return { return_reg: ret });
        self.resolve(after);
        let reg_count = self.b.next_reg() - reg_start;
        let cursor_count = self.b.next_cursor() - cursor_start;
        for addr in frame.push_sites {
            if let Insn::FramePush {
                reg_count: rc,
                cursor_count: cc,
                ..
            } = self.b.insn_mut(addr)
            {
                *rc = reg_count;
                *cc = cursor_count;
            }
        }
        Ok(())
    }

    /// Re-enters the action subroutine `fk_frames[pos]` from inside itself: its
    /// registers and cursors are saved around the call (`FramePush`/`FramePop`; the
    /// frame's size is patched in when the subroutine is complete).
    fn fk_call_recursive(
        &mut self,
        table: &Table,
        pos: usize,
        old: (Reg, Reg),
        new: Option<(Reg, Reg)>,
    ) {
        let (entry, ret, old_args, new_args, reg_start, cursor_start) = {
            let f = &self.fk_frames[pos];
            (
                f.entry,
                f.ret,
                f.old_args,
                f.new_args,
                f.reg_start,
                f.cursor_start,
            )
        };
        let push = self.emit(Insn::FramePush {
            reg_start,
            reg_count: 0,
            cursor_start,
            cursor_count: 0,
        });
        self.fk_frames[pos].push_sites.push(push);
        self.copy_row_image(table, old, old_args);
        if let (Some(nw), Some(args)) = (new, new_args) {
            self.copy_row_image(table, nw, args);
        }
        self.emit(Insn::Gosub {
            return_reg: ret,
            target: entry.addr(),
        });
        self.emit(Insn::FramePop);
    }

    fn compile_action(
        &mut self,
        table: &Arc<Table>,
        id: &str,
        sql: &str,
        old: (Reg, Reg),
        new: Option<(Reg, Reg)>,
    ) -> Result<()> {
        if self.trigger_stack.len() >= 32 {
            return Err(error("too many levels of trigger recursion"));
        }
        self.push_row_images(table, Some(old), new);
        self.trigger_stack.push(id.to_string());
        let saved_ignore = self.raise_ignore.take();
        // An action is a trigger program of its own: inside DROP TABLE's implicit
        // DELETE, it still fires triggers and reports foreign key errors.
        let saved_disable = std::mem::replace(&mut self.disable_triggers, false);
        // SQLite codes actions with OE_Abort: the parent statement's OR clause does not
        // reach them (their steps have none of their own).
        let saved_orconf = self.trigger_orconf.take();
        let r = with_parsed(sql, |stmt| {
            let Stmt::CreateTrigger {
                when_clause,
                commands,
                ..
            } = stmt
            else {
                return Err(error("not a trigger"));
            };
            self.trigger_frame(strata_vdbe::insn::TriggerFrameOp::Begin);
            let skip = self.label();
            if let Some(w) = when_clause {
                self.jump_if_not_true(w, skip)?;
            }
            for cmd in commands.iter() {
                self.trigger_command(cmd)?;
            }
            self.resolve(skip);
            self.trigger_frame(strata_vdbe::insn::TriggerFrameOp::End);
            Ok(())
        });
        self.raise_ignore = saved_ignore;
        self.trigger_orconf = saved_orconf;
        self.disable_triggers = saved_disable;
        self.trigger_stack.pop();
        self.levels.pop();
        r
    }
}

/// The trigger SQLite builds for an action (`fkActionTrigger`), as SQL text:
/// `old.<parent col> = <child col>` selects the children (the parent column on the
/// left, so its affinity and collation rule the comparison).
fn action_trigger_sql(
    parent: &Table,
    child: &Table,
    link: &FkLink,
    action: FkAction,
    is_update: bool,
) -> String {
    let mut where_terms = Vec::new();
    let mut when_terms = Vec::new();
    let mut sets = Vec::new();
    for (i, &cc) in link.child_cols.iter().enumerate() {
        let to = quoted(&parent.columns[link.parent_cols[i]].name);
        let from = quoted(&child.columns[cc].name);
        where_terms.push(format!("old.{to} = {from}"));
        if is_update {
            when_terms.push(format!("old.{to} IS new.{to}"));
        }
        let value = match action {
            FkAction::Cascade if is_update => Some(format!("new.{to}")),
            FkAction::SetDefault => Some(
                child.columns[cc]
                    .default
                    .clone()
                    .unwrap_or_else(|| "NULL".into()),
            ),
            FkAction::SetNull => Some("NULL".into()),
            _ => None,
        };
        if let Some(v) = value {
            sets.push(format!("{from} = {v}"));
        }
    }
    let where_sql = where_terms.join(" AND ");
    let target = quoted(&child.name);
    let body = match action {
        FkAction::Restrict => format!(
            "SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed') FROM {target} WHERE {where_sql}"
        ),
        FkAction::Cascade if !is_update => format!("DELETE FROM {target} WHERE {where_sql}"),
        _ => format!("UPDATE {target} SET {} WHERE {where_sql}", sets.join(", ")),
    };
    let when = if is_update {
        format!(" WHEN NOT ({})", when_terms.join(" AND "))
    } else {
        String::new()
    };
    format!(
        "CREATE TRIGGER fk AFTER {} ON {}{when} BEGIN {body}; END",
        if is_update { "UPDATE" } else { "DELETE" },
        quoted(&parent.name)
    )
}

/// The order SQLite's schema hash (`tblHash`) iterates tables and views in, given their
/// insertion order (`sqlite_master` first, then `sqlite_schema` row order): elements go
/// to the front of the list, or just before their bucket's chain once the hash has
/// buckets (from 10 elements on, `SQLITE_MALLOC_SOFT_LIMIT` caps them at 64).
fn sqlite_hash_order(names: &[String]) -> Vec<String> {
    sqlite_hash_order_from("sqlite_master", names)
}

/// [`sqlite_hash_order`] with the schema table's name (`sqlite_temp_master` in temp).
pub(crate) fn sqlite_hash_order_from(first: &str, names: &[String]) -> Vec<String> {
    fn str_hash(s: &str) -> u32 {
        let mut h: u32 = 0;
        for c in s.bytes() {
            h = h.wrapping_add(c.to_ascii_lowercase() as u32);
            h = h.wrapping_mul(0x9e37_79b1);
        }
        h
    }
    struct Bucket {
        count: usize,
        chain: usize,
    }
    fn insert(list: &mut Vec<usize>, bucket: Option<&mut Bucket>, new: usize) {
        let head = match bucket {
            Some(b) => {
                let head = (b.count > 0).then_some(b.chain);
                b.count += 1;
                b.chain = new;
                head
            }
            None => None,
        };
        let at = head
            .and_then(|h| list.iter().position(|&e| e == h))
            .unwrap_or(0);
        list.insert(at, new);
    }
    let mut all = vec![first.to_string()];
    all.extend(names.iter().cloned());
    let mut list: Vec<usize> = Vec::new();
    let mut buckets: Vec<Bucket> = Vec::new();
    for (id, name) in all.iter().enumerate() {
        let count = id + 1;
        if count >= 10 && count > 2 * buckets.len() {
            let size = (count * 2).min(1024 / 16);
            if size != buckets.len() {
                buckets = (0..size).map(|_| Bucket { count: 0, chain: 0 }).collect();
                let old = std::mem::take(&mut list);
                for e in old {
                    let h = str_hash(&all[e]) as usize % size;
                    insert(&mut list, Some(&mut buckets[h]), e);
                }
            }
        }
        let n = buckets.len();
        let bucket = if n == 0 {
            None
        } else {
            Some(&mut buckets[str_hash(name) as usize % n])
        };
        insert(&mut list, bucket, id);
    }
    list.into_iter().map(|e| all[e].clone()).collect()
}

impl Compiler<'_> {
    /// `PRAGMA foreign_key_check[(table)]`: one row (table, rowid, parent, fkid) per
    /// child row whose non-NULL key has no parent row (a missing parent table has none).
    /// `db`: `PRAGMA db.foreign_key_check` (that database's tables only).
    pub(crate) fn foreign_key_check(
        mut self,
        arg: Option<&str>,
        db: Option<usize>,
        text: &str,
    ) -> Result<Program> {
        let tables: Vec<Arc<Table>> = match (arg, db) {
            (Some(t), None) => match self.schema.table(t) {
                Some(t) => vec![t.clone()],
                None => return Err(error(format!("no such table: {t}"))),
            },
            (Some(t), Some(d)) => match self.schema.of_db(d).local_table(t) {
                Some(t) => vec![t.clone()],
                None => {
                    return Err(error(format!(
                        "no such table: {}.{t}",
                        self.schema.db_name(d)
                    )))
                }
            },
            (None, None) => sqlite_hash_order(&self.schema.table_order)
                .iter()
                .filter_map(|n| self.schema.table(n).cloned())
                .collect(),
            (None, Some(d)) => {
                let s = self.schema.of_db(d);
                sqlite_hash_order(&s.table_order)
                    .iter()
                    .filter_map(|n| s.local_table(n).cloned())
                    .collect()
            }
        };
        let res = self.regs(4);
        for table in tables {
            if table.foreign_keys.is_empty() {
                continue;
            }
            // SQLite numbers a table's foreign keys last declared first.
            let fks: Vec<ForeignKey> = table.foreign_keys.iter().rev().cloned().collect();
            let mut checks = Vec::new();
            for fk in &fks {
                let Some(parent) = self.schema.of_db(table.db).local_table(&fk.parent).cloned()
                else {
                    if self.schema.view(&fk.parent).is_some() {
                        return Err(error(mismatch_message(&table, fk)));
                    }
                    checks.push(None);
                    continue;
                };
                let Some(link) = self.fk_locate(&parent, fk) else {
                    return Err(error(mismatch_message(&table, fk)));
                };
                let cursor = self.b.alloc_cursor();
                match &link.index {
                    None => self.open_table_read(cursor, &parent),
                    Some(ix) => self.open_index_read(cursor, ix),
                }
                checks.push(Some((parent, link, cursor)));
            }
            let cursor = self.b.alloc_cursor();
            self.open_table_read(cursor, &table);
            let scan = self.scan_begin(cursor);
            for (fkid, (fk, check)) in fks.iter().zip(&checks).enumerate() {
                let ok = self.label();
                let child_cols = match check {
                    Some((_, link, _)) => link.child_cols.clone(),
                    None => fk.from.clone(),
                };
                let key = self.regs(child_cols.len());
                for (j, &c) in child_cols.iter().enumerate() {
                    if table.rowid_alias == Some(c) {
                        self.emit(Insn::Rowid {
                            cursor,
                            dest: key + j,
                        });
                    } else {
                        self.table_column(&table, cursor, c, key + j)?;
                    }
                    self.emit(Insn::IsNull {
                        reg: key + j,
                        target: ok.addr(),
                    });
                }
                match check {
                    Some((parent, link, pcur)) if link.index.is_some() => {
                        self.emit(Insn::Affinity {
                            start: key,
                            affinities: link
                                .parent_cols
                                .iter()
                                .map(|&c| parent.columns[c].affinity)
                                .collect(),
                        });
                        self.emit(Insn::Found {
                            cursor: *pcur,
                            key_start: key,
                            key_count: child_cols.len(),
                            target: ok.addr(),
                        });
                    }
                    Some((_, _, pcur)) => {
                        let missing = self.label();
                        self.emit(Insn::SeekRowidAsync {
                            cursor: *pcur,
                            rowid_reg: key,
                        });
                        self.emit(Insn::SeekRowidAwait {
                            cursor: *pcur,
                            target_if_not_found: missing.addr(),
                        });
                        self.goto(ok);
                        self.resolve(missing);
                    }
                    None => {}
                }
                self.emit(Insn::String {
                    value: table.name.as_bytes().to_vec(),
                    dest: res,
                });
                if table.without_rowid.is_some() {
                    // SQLite reports no rowid for a WITHOUT ROWID child.
                    self.emit(Insn::Null {
                        dest: res + 1,
                        count: 1,
                    });
                } else {
                    self.emit(Insn::Rowid {
                        cursor,
                        dest: res + 1,
                    });
                }
                self.emit(Insn::String {
                    value: fk.parent.as_bytes().to_vec(),
                    dest: res + 2,
                });
                self.emit(Insn::Integer {
                    value: fkid as i64,
                    dest: res + 3,
                });
                self.emit(Insn::ResultRow {
                    start: res,
                    count: 4,
                });
                self.resolve(ok);
            }
            self.scan_end(scan);
        }
        let names = ["table", "rowid", "parent", "fkid"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        Ok(self.finish(text, names, vec![None; 4]))
    }
}
