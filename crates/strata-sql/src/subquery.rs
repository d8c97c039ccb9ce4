//! Subqueries in expressions: scalar subqueries, EXISTS, and IN over a subquery or a
//! table (an ephemeral index filled once when the subquery is not correlated).

use std::sync::Arc;

use sqlite3_parser::ast::{Expr, Select};
use strata_btree::record::{KeyInfo, SortOrder};
use strata_vdbe::affinity::Affinity;
use strata_vdbe::insn::{Cur, EphemeralKind, Insn, Reg};

use crate::compiler::{error, Compiler, Result};
use crate::select::Dest;

impl Compiler<'_> {
    /// Scalar subquery: the first row's first column, or NULL.
    pub fn scalar_subquery<'a>(&mut self, sel: &'a Select<'a>, dest: Reg) -> Result<()> {
        let private = self.reg();
        let ph = self.emit(Insn::Noop);
        let end = self.label();
        self.emit(Insn::Null {
            dest: private,
            count: 1,
        });
        let cols = self.select(
            sel,
            &Dest::Scalar {
                reg: private,
                count: 1,
            },
        )?;
        if cols.len() != 1 {
            return Err(error(format!(
                "sub-select returns {} columns - expected 1",
                cols.len()
            )));
        }
        let correlated = self.last_correlated;
        self.resolve(end);
        if !correlated {
            *self.b.insn_mut(ph) = Insn::Once { target: end.addr() };
        }
        self.emit(Insn::Copy {
            src: private,
            dest,
            count: 1,
        });
        Ok(())
    }

    pub fn exists<'a>(&mut self, sel: &'a Select<'a>, dest: Reg) -> Result<()> {
        let private = self.reg();
        let ph = self.emit(Insn::Noop);
        let end = self.label();
        self.emit(Insn::Integer {
            value: 0,
            dest: private,
        });
        self.select(sel, &Dest::Exists { reg: private })?;
        let correlated = self.last_correlated;
        self.resolve(end);
        if !correlated {
            *self.b.insn_mut(ph) = Insn::Once { target: end.addr() };
        }
        self.emit(Insn::Copy {
            src: private,
            dest,
            count: 1,
        });
        Ok(())
    }

    pub fn in_select<'a>(
        &mut self,
        lhs: &Expr<'_>,
        not: bool,
        sel: &'a Select<'a>,
        dest: Reg,
    ) -> Result<()> {
        if crate::row_value::is_row_value(lhs) {
            return self.row_in_select(lhs, not, sel, dest);
        }
        let lhs_aff = self.expr_affinity(lhs);
        let lhs_coll = self.expr_collation(lhs)?;
        let cur = self.b.alloc_cursor();
        // Placeholders, patched once the subquery's column is known: `Once` (for an
        // uncorrelated subquery, filled on first use only) and the container's open.
        let ph_once = self.emit(Insn::Noop);
        let ph_open = self.emit(Insn::Noop);
        let fill_start = self.b.current_addr();
        let filled = self.label();
        let cols = self.select(
            sel,
            &Dest::EphemIndex {
                cursor: cur,
                affinities: None,
            },
        )?;
        if cols.len() != 1 {
            return Err(error(format!(
                "sub-select returns {} columns - expected 1",
                cols.len()
            )));
        }
        let correlated = self.last_correlated;
        self.resolve(filled);
        let affinity = strata_vdbe::affinity::compare_affinity(lhs_aff, cols[0].affinity);
        let collation = match lhs_coll {
            Some(c) => c.collation,
            None => cols[0].collation,
        };
        *self.b.insn_mut(ph_open) = Insn::OpenEphemeral {
            cursor: cur,
            kind: EphemeralKind::Index {
                key_info: Arc::new(KeyInfo {
                    fields: vec![(collation, SortOrder::Asc)],
                    ..Default::default()
                }),
            },
        };
        if !correlated {
            *self.b.insn_mut(ph_once) = Insn::Once {
                target: filled.addr(),
            };
        }
        if affinity != Affinity::Blob {
            self.patch_set_affinity(fill_start, cur, affinity);
        }
        self.in_probe(lhs, not, cur, affinity, dest)
    }

    /// `lhs IN set` given the filled ephemeral index `cur` (SQLite's NULL rules: NULL
    /// if lhs is NULL or the set holds NULL and lhs is not found; false for an empty set).
    pub(crate) fn in_probe(
        &mut self,
        lhs: &Expr<'_>,
        not: bool,
        cur: Cur,
        affinity: Affinity,
        dest: Reg,
    ) -> Result<()> {
        let x = self.reg();
        self.expr(lhs, x)?;
        if affinity != Affinity::Blob {
            self.emit(Insn::Affinity {
                start: x,
                affinities: vec![affinity],
            });
        }
        let end = self.label();
        let is_null = self.label();
        let empty = self.label();
        let found = self.label();
        self.emit(Insn::RewindAsync { cursor: cur });
        self.emit(Insn::RewindAwait {
            cursor: cur,
            target_if_empty: empty.addr(),
        });
        self.emit(Insn::IsNull {
            reg: x,
            target: is_null.addr(),
        });
        self.emit(Insn::Found {
            cursor: cur,
            key_start: x,
            key_count: 1,
            target: found.addr(),
        });
        let nul = self.reg();
        self.emit(Insn::Null {
            dest: nul,
            count: 1,
        });
        self.emit(Insn::Found {
            cursor: cur,
            key_start: nul,
            key_count: 1,
            target: is_null.addr(),
        });
        self.resolve(empty);
        self.emit(Insn::Integer {
            value: not as i64,
            dest,
        });
        self.goto(end);
        self.resolve(found);
        self.emit(Insn::Integer {
            value: !not as i64,
            dest,
        });
        self.goto(end);
        self.resolve(is_null);
        self.emit(Insn::Null { dest, count: 1 });
        self.resolve(end);
        Ok(())
    }

    /// Sets the affinity of the `MakeRecord`s that fill ephemeral index `cur` from `from`.
    pub(crate) fn patch_set_affinity(&mut self, from: usize, cur: Cur, affinity: Affinity) {
        self.patch_set_affinities(from, cur, &[affinity]);
    }

    /// [`Compiler::patch_set_affinity`] with one affinity per column (the last one
    /// repeated if the records are wider).
    pub(crate) fn patch_set_affinities(&mut self, from: usize, cur: Cur, affs: &[Affinity]) {
        let end = self.b.current_addr();
        // A record is built right before its IdxInsert into `cur`.
        for a in from..end {
            let is_insert =
                matches!(self.b.insn_mut(a), Insn::IdxInsertAsync { cursor, .. } if *cursor == cur);
            if is_insert && a > 0 {
                if let Insn::MakeRecord {
                    affinities, count, ..
                } = self.b.insn_mut(a - 1)
                {
                    let last = affs.last().copied().unwrap_or(Affinity::Blob);
                    *affinities = Some(
                        (0..*count)
                            .map(|i| affs.get(i).copied().unwrap_or(last))
                            .collect(),
                    );
                }
            }
        }
    }

    /// `x IN table`: the table's single column as the set.
    pub fn in_table(
        &mut self,
        lhs: &Expr<'_>,
        not: bool,
        qn: &sqlite3_parser::ast::QualifiedName<'_>,
        dest: Reg,
    ) -> Result<()> {
        let table = crate::names::unquote(qn.name.0);
        // A CTE or a view: `x IN name` is `x IN (SELECT * FROM name)` (SQLite).
        let is_cte = qn.db_name.is_none() && self.find_cte(&table).is_some();
        // So is `(a, b) IN table` (a row value needs the general path).
        let row = crate::row_value::is_row_value(lhs);
        if is_cte || row || self.scope_of(qn)?.view(self.schema, &table).is_some() {
            let sql = match &qn.db_name {
                Some(db) => format!(
                    "SELECT * FROM {}.{}",
                    crate::names::quote_if_needed(&crate::names::unquote(db.0)),
                    crate::names::quote_if_needed(&table)
                ),
                None => format!("SELECT * FROM {}", crate::names::quote_if_needed(&table)),
            };
            return crate::schema::with_parsed(&sql, |stmt| {
                let sqlite3_parser::ast::Stmt::Select(sel) = stmt else {
                    return Err(error("not a select"));
                };
                self.in_select(lhs, not, sel, dest)
            });
        }
        let t = self
            .scope_of(qn)?
            .table(self.schema, &table)
            .ok_or_else(|| error(format!("no such table: {}", self.shown_name(qn))))?;
        if t.columns.len() != 1 {
            return Err(error(format!(
                "sub-select returns {} columns - expected 1",
                t.columns.len()
            )));
        }
        let col = &t.columns[0];
        let lhs_aff = self.expr_affinity(lhs);
        let affinity = strata_vdbe::affinity::compare_affinity(lhs_aff, Some(col.affinity));
        let collation = match self.expr_collation(lhs)? {
            Some(c) => c.collation,
            None => col.collation,
        };
        let cur = self.b.alloc_cursor();
        let filled = self.label();
        self.emit(Insn::Once {
            target: filled.addr(),
        });
        self.emit(Insn::OpenEphemeral {
            cursor: cur,
            kind: EphemeralKind::Index {
                key_info: Arc::new(KeyInfo {
                    fields: vec![(collation, SortOrder::Asc)],
                    ..Default::default()
                }),
            },
        });
        let tc = self.b.alloc_cursor();
        self.open_table_read(tc, &t);
        let top = self.label();
        self.emit(Insn::RewindAsync { cursor: tc });
        self.emit(Insn::RewindAwait {
            cursor: tc,
            target_if_empty: filled.addr(),
        });
        self.resolve(top);
        let v = self.reg();
        if t.rowid_alias == Some(0) {
            self.emit(Insn::Rowid {
                cursor: tc,
                dest: v,
            });
        } else {
            // Column 0 may be a VIRTUAL generated column (or past a record written
            // before an ADD COLUMN): read as any table column.
            self.table_column(&t, tc, 0, v)?;
        }
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start: v,
            count: 1,
            dest: rec,
            affinities: (affinity != Affinity::Blob).then(|| vec![affinity]),
        });
        self.emit(Insn::IdxInsertAsync {
            cursor: cur,
            record_reg: rec,
        });
        self.emit(Insn::IdxInsertAwait { cursor: cur });
        self.emit(Insn::NextAsync { cursor: tc });
        self.emit(Insn::NextAwait {
            cursor: tc,
            target_if_more: top.addr(),
        });
        self.resolve(filled);
        self.in_probe(lhs, not, cur, affinity, dest)
    }

    pub fn subquery_affinity(&mut self, _sel: &Select<'_>) -> Option<Affinity> {
        None
    }
}
