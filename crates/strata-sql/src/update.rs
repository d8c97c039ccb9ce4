//! UPDATE: the statement (without FROM: rowids first, then each row; with FROM see
//! `update_from`) and the per-row update shared with an upsert's DO UPDATE: SET (see
//! `update_set`), affinity, triggers, constraint checks, foreign keys, index maintenance.

use sqlite3_parser::ast::{self, Expr, Stmt};
use strata_vdbe::insn::{Insn, Reg};
use strata_vdbe::program::Program;

use crate::builder::Label;
use crate::compiler::{error, Compiler, Result};
use crate::dml::{Returning, WriteTarget};
use crate::fkey::RowChange;
use crate::names;
use crate::schema::Conflict;
use crate::scope::Level;
use crate::select::table_source;
use crate::trigger::TrigEvent;
use crate::update_set::{flatten_sets, Assignment};

impl Compiler<'_> {
    /// Reads the row the table cursor is on, applies SET, checks and writes it.
    /// Expressions see the current level (whose source 0 is the table on `t.cursor`).
    pub(crate) fn update_current_row(
        &mut self,
        t: &WriteTarget,
        sets: (&[Assignment<'_, '_>], Option<Reg>),
        where_clause: Option<&Expr<'_>>,
        old_rowid: Reg,
        or: Option<Conflict>,
        skip: Label,
        ret: Option<&Returning>,
    ) -> Result<()> {
        let table = t.table.clone();
        let n = table.columns.len();
        if let Some(w) = where_clause {
            self.jump_if_not_true(w, skip)?;
        }
        // A WITHOUT ROWID row's identity as its entry stores it (the caller's may have
        // been computed from values with affinity applied): conflicts compare with it.
        let old_rowid = if table.without_rowid.is_some() {
            let r = self.reg();
            self.emit_row_key(&table, t.cursor, r);
            r
        } else {
            old_rowid
        };
        let old = self.regs(n.max(1));
        for i in 0..n {
            if table.rowid_alias == Some(i) {
                self.emit(Insn::Copy {
                    src: old_rowid,
                    dest: old + i,
                    count: 1,
                });
            } else {
                self.table_column(&table, t.cursor, i, old + i)?;
            }
        }
        let new = self.regs(n.max(1));
        self.emit(Insn::Copy {
            src: old,
            dest: new,
            count: n,
        });
        let new_rowid = self.reg();
        self.emit(Insn::Copy {
            src: old_rowid,
            dest: new_rowid,
            count: 1,
        });
        let mut changed = vec![false; n];
        let mut rowid_changed = false;
        let (assigns, pre) = sets;
        let mut subs = std::collections::HashMap::new();
        for (j, a) in assigns.iter().enumerate() {
            let cname = names::unquote(a.column);
            let target = table.column_index(&cname).or_else(|| {
                (table.without_rowid.is_none()
                    && ["rowid", "oid", "_rowid_"]
                        .iter()
                        .any(|r| names::eq(r, &cname)))
                .then_some(usize::MAX)
            });
            let Some(i) = target else {
                return Err(error(format!("no such column: {cname}")));
            };
            if i != usize::MAX && table.columns[i].generated.is_some() {
                return Err(error(format!(
                    "cannot UPDATE generated column \"{}\"",
                    table.columns[i].name
                )));
            }
            let is_rowid = i == usize::MAX || table.rowid_alias == Some(i);
            let dest = if is_rowid { new_rowid } else { new + i };
            match pre {
                // UPDATE ... FROM: computed by the join (see `update_from`).
                Some(base) => {
                    self.emit(Insn::Copy {
                        src: base + j,
                        dest,
                        count: 1,
                    });
                }
                None => self.assign_value(a, &mut subs, dest)?,
            }
            if is_rowid {
                self.emit(Insn::MustBeInt { reg: new_rowid });
                rowid_changed = true;
                if let Some(a) = table.rowid_alias {
                    self.emit(Insn::Copy {
                        src: new_rowid,
                        dest: new + a,
                        count: 1,
                    });
                    changed[a] = true;
                }
            } else {
                changed[i] = true;
            }
        }
        self.apply_column_affinity(&table, new);
        // A WITHOUT ROWID row's key changes when a key column is assigned.
        if let Some(wr) = &table.without_rowid {
            rowid_changed = wr.pk.iter().any(|p| changed[p.column]);
            self.emit_new_row_key(&table, new, new_rowid);
        }
        // Generated columns: recomputed from the new row (before BEFORE triggers see
        // it), and changed when a column they read is (SQLite's aXRef: UPDATE OF
        // triggers and index maintenance follow).
        // UPDATE OF triggers see only the assigned columns, as SQLite.
        let trig_changed = changed.clone();
        if table.has_generated() {
            self.compute_generated(&table, t.cursor, new, new_rowid, false)?;
            crate::generated::mark_changed(&table, &mut changed);
        }
        self.fire_triggers(
            &table,
            TrigEvent::Update,
            false,
            Some((old, old_rowid)),
            Some((new, new_rowid)),
            &trig_changed,
            skip,
        )?;
        // The row as the table holds it now: what its index entries were made from.
        let mut current = old;
        if self.has_triggers(&table, TrigEvent::Update, false) {
            // The trigger body may have moved our cursor: find the row again.
            self.emit(Insn::SeekRowidAsync {
                cursor: t.cursor,
                rowid_reg: old_rowid,
            });
            self.emit(Insn::SeekRowidAwait {
                cursor: t.cursor,
                target_if_not_found: skip.addr(),
            });
            // It may also have changed the row. As SQLite's sqlite3Update: the columns
            // SET does not assign take the row's values now (the trigger's), and the
            // index entries to replace are those of the row now, not of the row read
            // before the triggers (which would leave the trigger's entries behind and
            // write a row its indexes do not match). OLD in foreign-key checks and AFTER
            // triggers stays the row as first read, as in SQLite.
            current = self.regs(n.max(1));
            for i in 0..n {
                if table.rowid_alias == Some(i) {
                    self.emit(Insn::Copy {
                        src: old_rowid,
                        dest: current + i,
                        count: 1,
                    });
                } else {
                    self.table_column(&table, t.cursor, i, current + i)?;
                }
            }
            for (i, assigned) in trig_changed.iter().enumerate() {
                if !assigned && table.columns[i].generated.is_none() {
                    self.emit(Insn::Copy {
                        src: current + i,
                        dest: new + i,
                        count: 1,
                    });
                }
            }
            if table.has_generated() {
                self.compute_generated(&table, t.cursor, new, new_rowid, false)?;
            }
        }
        self.check_constraints(t, new, new_rowid, or, skip)?;
        // A unique index none of whose columns change (nor the rowid, nor a column its
        // WHERE or an expression reads) keeps the row's own entry, which conflicts with
        // no other: SQLite checks only the indexes it will rewrite (aRegIdx), and so does
        // this (one descent less per row, e.g. for an upsert's DO UPDATE of a non-key
        // column).
        let rewritten: Vec<bool> = t
            .indexes
            .iter()
            .map(|(ix, _)| {
                rowid_changed
                    || ix.where_sql.is_some()
                    || ix.columns.iter().any(|c| c.expr.is_some())
                    || ix.columns.iter().any(|c| changed[c.column])
            })
            .collect();
        self.unique_checks(
            t,
            new,
            new_rowid,
            Some(old_rowid),
            or,
            skip,
            None,
            rowid_changed,
            Some(&rewritten),
        )?;
        // Foreign keys, as SQLite orders them: the old row's checks, then (with the
        // changed index entries gone, and the old row too when `fk_level` is 2) the new
        // row's, then the ON UPDATE actions. Errors compiling them are SQLite's prepare
        // errors with foreign keys on: raised only then.
        let fk_level = self.fk_update_required(&table, &changed, rowid_changed);
        let fk_required = fk_level > 0;
        if fk_required {
            self.fk_guarded(|c| {
                c.fk_check(
                    &table,
                    RowChange {
                        old: Some((old, old_rowid)),
                        new: None,
                        changed: Some((&changed, rowid_changed)),
                    },
                )
            });
        }
        // Which indexes change (all of them when foreign keys need the old row gone).
        let touched: Vec<bool> = t
            .indexes
            .iter()
            .map(|(ix, _)| {
                // A partial index's WHERE may read any column: its old entry (if the
                // old row qualified) goes and the new one (if the new row does) comes.
                rowid_changed
                    || fk_level > 1
                    || ix.where_sql.is_some()
                    || ix.columns.iter().any(|c| c.expr.is_some())
                    || ix.columns.iter().any(|c| changed[c.column])
            })
            .collect();
        for (k, (ix, c)) in t.indexes.iter().enumerate() {
            if !touched[k] {
                continue;
            }
            let skip = self.partial_guard(&table, ix, t.cursor, current, old_rowid)?;
            let key = self.index_key(&table, ix, t.cursor, current, old_rowid)?;
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
        // A WITHOUT ROWID row is its index entry: the old one always goes (an insert
        // beside it would keep both).
        if rowid_changed || fk_level > 1 || table.without_rowid.is_some() {
            let gone = self.label();
            self.emit(Insn::SeekRowidAsync {
                cursor: t.cursor,
                rowid_reg: old_rowid,
            });
            self.emit(Insn::SeekRowidAwait {
                cursor: t.cursor,
                target_if_not_found: gone.addr(),
            });
            self.emit(Insn::DeleteAsync {
                cursor: t.cursor,
                count: strata_vdbe::insn::RowCount::None,
            });
            self.emit(Insn::DeleteAwait { cursor: t.cursor });
            self.resolve(gone);
        }
        if fk_required {
            self.fk_guarded(|c| {
                c.fk_check(
                    &table,
                    RowChange {
                        old: None,
                        new: Some((new, new_rowid)),
                        changed: Some((&changed, rowid_changed)),
                    },
                )
            });
        }
        self.write_row(t, new, new_rowid, true, Some(&touched))?;
        if fk_required {
            self.fk_guarded(|c| {
                c.fk_actions(
                    &table,
                    RowChange {
                        old: Some((old, old_rowid)),
                        new: Some((new, new_rowid)),
                        changed: Some((&changed, rowid_changed)),
                    },
                )
            });
        }
        self.fire_triggers(
            &table,
            TrigEvent::Update,
            true,
            Some((old, old_rowid)),
            Some((new, new_rowid)),
            &trig_changed,
            skip,
        )?;
        if let Some(r) = ret {
            self.emit_returning(&table, r, new, new_rowid)?;
        }
        Ok(())
    }

    pub fn update(mut self, stmt: &Stmt<'_>, text: &str) -> Result<Program> {
        let Stmt::Update {
            with,
            or_conflict,
            tbl_name,
            sets,
            from,
            where_clause,
            returning,
            order_by,
            limit,
            ..
        } = stmt
        else {
            unreachable!("dispatched on Update")
        };
        if order_by.is_some() || limit.is_some() {
            // SQLite's default build (rusqlite's bundled one too) has no
            // SQLITE_ENABLE_UPDATE_DELETE_LIMIT: it refuses these as syntax errors.
            return Err(error(
                "UPDATE with ORDER BY or LIMIT is not supported (SQLite's default build refuses it too)",
            ));
        }
        let n = match with {
            Some(w) => self.push_ctes(w)?,
            None => 0,
        };
        self.stmt_orconf = *or_conflict;
        let ret = self.emit_update(
            *or_conflict,
            tbl_name,
            sets,
            from.as_ref(),
            where_clause.as_ref(),
            *returning,
        );
        self.pop_ctes(n);
        Ok(self.finish_returning(text, ret?))
    }

    /// The code of one UPDATE (also used in trigger bodies).
    pub fn emit_update<'a>(
        &mut self,
        or_conflict: Option<ast::ResolveType>,
        tbl_name: &ast::QualifiedName<'_>,
        sets: &[ast::Set<'_>],
        from: Option<&ast::FromClause<'_>>,
        where_clause: Option<&Expr<'_>>,
        returning: Option<&'a [ast::ResultColumn<'a>]>,
    ) -> Result<Option<Returning>> {
        let assigned: Vec<String> = sets
            .iter()
            .flat_map(|s| s.col_names.iter().map(|c| names::unquote(c.0)))
            .collect();
        if let Some(view) = self.instead_of_target(
            tbl_name,
            TrigEvent::Update,
            Some(&assigned),
            returning.is_some(),
        )? {
            return self.emit_view_update(&view, tbl_name, sets, from, where_clause, returning);
        }
        if let Some(from) = from {
            return self.emit_update_from(
                or_conflict,
                tbl_name,
                sets,
                from,
                where_clause,
                returning,
            );
        }
        let table = self.writable_table(tbl_name)?;
        let alias = tbl_name.alias.as_ref().map(|a| names::unquote(a.0));
        self.writes = true;
        let or = or_conflict.map(Conflict::from_ast);
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
        let mut level = Level::default();
        let name = alias.clone().unwrap_or_else(|| table.name.clone());
        level.sources.push(table_source(&table, name, t.cursor));
        self.levels.push(level);
        let r = flatten_sets(sets).and_then(|a| {
            self.update_current_row(&t, (&a, None), None, rowid, or, next, ret.as_ref())
        });
        self.levels.pop();
        r?;
        self.scan_end(scan);
        Ok(ret)
    }
}
