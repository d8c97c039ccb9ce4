//! UPDATE ... FROM (SQLite 3.33+): the target table joined with the FROM items.
//!
//! As SQLite's `updateFromSelect`, the first pass runs the join (WHERE included) and
//! stores, keyed by the target row's rowid, the values of the SET expressions computed
//! on that joined row; a later joined row for the same target row overwrites them (so
//! the last one in loop order wins, as with SQLite's `OP_Insert` into its ephemeral
//! table). The second pass writes each stored target row once, with the usual checks,
//! triggers and RETURNING (which sees only the target table, as SQLite's).
//!
//! A WITHOUT ROWID target has no rowid to key them by: as SQLite (an ephemeral index
//! with the PRIMARY KEY's KeyInfo), its rows are stored under their PRIMARY KEY values
//! (as stored), followed by the SET values, so pass 2 visits them in key order; a later
//! joined row for the same target row deletes the earlier entry before its own goes in
//! (the entries differ in their values, and an index keeps both).

use std::collections::HashMap;

use sqlite3_parser::ast::{self, Expr};
use strata_vdbe::insn::{EphemeralKind, InsertFlags, Insn};

use crate::compiler::{error, Compiler, Result};
use crate::dml::Returning;
use crate::names;
use crate::planner::{JoinKind, LoopSpec};
use crate::schema::Conflict;
use crate::scope::{ColumnRef, Level, ROWID};
use crate::select::{contains_aggregate, first_aggregate_name, split_and, table_source};
use crate::update_set::flatten_sets;

impl Compiler<'_> {
    /// The code of one UPDATE with a FROM clause (also in trigger bodies).
    pub(crate) fn emit_update_from<'a>(
        &mut self,
        or_conflict: Option<ast::ResolveType>,
        tbl_name: &ast::QualifiedName<'_>,
        sets: &[ast::Set<'_>],
        from: &ast::FromClause<'_>,
        where_clause: Option<&Expr<'_>>,
        returning: Option<&'a [ast::ResultColumn<'a>]>,
    ) -> Result<Option<Returning>> {
        let table = self.writable_table(tbl_name)?;
        let alias = tbl_name.alias.as_ref().map(|a| names::unquote(a.0));
        self.writes = true;
        let or = or_conflict.map(Conflict::from_ast);
        let assigns = flatten_sets(sets)?;
        for e in assigns.iter().filter_map(|a| a.value.expr()) {
            if contains_aggregate(e) {
                // SQLite then runs the join as an aggregate query: not supported here.
                return Err(error(
                    "aggregate functions in the SET of UPDATE ... FROM are not supported",
                ));
            }
        }
        if let Some(w) = where_clause.filter(|w| contains_aggregate(w)) {
            return Err(error(format!(
                "misuse of aggregate function {}()",
                first_aggregate_name(w)
            )));
        }
        let k = assigns.len();

        // Pass 1: the join, into `set` (rowid -> SET values; WITHOUT ROWID: key values
        // then SET values).
        let pk: Option<Vec<usize>> = table
            .without_rowid
            .as_ref()
            .map(|wr| wr.pk.iter().map(|p| p.column).collect());
        let set = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor: set,
            kind: match &table.without_rowid {
                None => EphemeralKind::Table,
                Some(wr) => EphemeralKind::Index {
                    key_info: wr.key_info(),
                },
            },
        });
        let rc = self.b.alloc_cursor();
        self.emit(Insn::OpenReadAsync {
            db: table.db,
            cursor: rc,
            root_page: table.root_page,
            root_reg: None,
            kind: crate::ddl::table_cursor_kind(&table),
        });
        self.emit(Insn::OpenReadAwait { cursor: rc });
        let mut level = Level::default();
        let name = alias.clone().unwrap_or_else(|| table.name.clone());
        level.sources.push(table_source(&table, name.clone(), rc));
        self.levels.push(level);
        let r = self.update_from_pass1(&assigns, from, where_clause, set, pk.as_deref(), k);
        self.levels.pop();
        r?;

        // Pass 2: write the stored rows.
        let t = self.open_write_target(&table);
        let ret = self.open_returning(&table, returning)?;
        let scan = self.scan_begin(set);
        let next = scan.next;
        let rowid = self.reg();
        let first = pk.as_ref().map_or(0, |p| p.len());
        match &pk {
            None => {
                self.emit(Insn::Rowid {
                    cursor: set,
                    dest: rowid,
                });
            }
            Some(p) => {
                // The row's identity: a record of its key values as stored.
                let vals = self.regs(p.len());
                for j in 0..p.len() {
                    self.emit(Insn::Column {
                        cursor: set,
                        column: j,
                        dest: vals + j,
                        default: None,
                    });
                }
                self.emit(Insn::MakeRecord {
                    start: vals,
                    count: p.len(),
                    dest: rowid,
                    affinities: None,
                });
            }
        }
        self.emit(Insn::SeekRowidAsync {
            cursor: t.cursor,
            rowid_reg: rowid,
        });
        self.emit(Insn::SeekRowidAwait {
            cursor: t.cursor,
            target_if_not_found: next.addr(),
        });
        let vals = self.regs(k.max(1));
        for j in 0..k {
            self.emit(Insn::Column {
                cursor: set,
                column: first + j,
                dest: vals + j,
                default: None,
            });
        }
        let mut level = Level::default();
        level.sources.push(table_source(&table, name, t.cursor));
        self.levels.push(level);
        let r = self.update_current_row(
            &t,
            (&assigns, Some(vals)),
            None,
            rowid,
            or,
            next,
            ret.as_ref(),
        );
        self.levels.pop();
        r?;
        self.scan_end(scan);
        Ok(ret)
    }

    /// The join of pass 1; the current level holds the target table as source 0.
    fn update_from_pass1(
        &mut self,
        assigns: &[crate::update_set::Assignment<'_, '_>],
        from: &ast::FromClause<'_>,
        where_clause: Option<&Expr<'_>>,
        set: strata_vdbe::insn::Cur,
        pk: Option<&[usize]>,
        k: usize,
    ) -> Result<()> {
        let (from_specs, mut terms) = self.from_clause(Some(from))?;
        let mut specs = vec![LoopSpec {
            source: 0,
            join: JoinKind::Inner,
            on: Vec::new(),
        }];
        if from_specs
            .iter()
            .any(|s| matches!(s.join, JoinKind::Right | JoinKind::Full))
        {
            // The unmatched right rows would have no target row.
            return Err(error(
                "RIGHT and FULL OUTER JOINs in UPDATE ... FROM are not supported yet",
            ));
        }
        specs.extend(from_specs);
        if let Some(w) = where_clause {
            split_and(w, &mut terms);
        }
        self.pragma_arg_pushdown(&specs, &terms)?;
        let exprs: Vec<&Expr<'_>> = assigns.iter().filter_map(|a| a.value.expr()).collect();
        // A row-value subquery may read any column: no covering-index reads then.
        let n = if exprs.len() < assigns.len() {
            vec![None; self.levels.last().map_or(0, |l| l.sources.len())]
        } else {
            self.columns_needed(&exprs, &[], &specs, &terms)?
        };
        self.needed = Some(n);
        let level = self.levels.len() - 1;
        self.emit_loops(&specs, &terms, &mut |c, _cont| {
            if let Some(pk) = pk {
                return c.update_from_store_by_key(assigns, pk, level, set);
            }
            let key = c.reg();
            c.emit_column(
                ColumnRef {
                    level,
                    source: 0,
                    column: ROWID,
                },
                key,
            );
            let vals = c.regs(k.max(1));
            let mut subs = HashMap::new();
            for (j, a) in assigns.iter().enumerate() {
                c.assign_value(a, &mut subs, vals + j)?;
            }
            let rec = c.reg();
            c.emit(Insn::MakeRecord {
                start: vals,
                count: k,
                dest: rec,
                affinities: None,
            });
            // A later joined row for the same target row replaces this one.
            c.emit(Insn::InsertAsync {
                cursor: set,
                key_reg: key,
                record_reg: rec,
                flags: InsertFlags::default(),
                table: String::new(),
            });
            c.emit(Insn::InsertAwait { cursor: set });
            Ok(())
        })
    }
}

impl Compiler<'_> {
    /// Pass 1's store for a WITHOUT ROWID target (its PRIMARY KEY columns `pk`, read
    /// through source 0 at `level`): the entry (key values, SET values) replaces any
    /// earlier one of the same key.
    fn update_from_store_by_key(
        &mut self,
        assigns: &[crate::update_set::Assignment<'_, '_>],
        pk: &[usize],
        level: usize,
        set: strata_vdbe::insn::Cur,
    ) -> Result<()> {
        let n = pk.len();
        let k = assigns.len();
        let vals = self.regs(n + k);
        for (j, &col) in pk.iter().enumerate() {
            self.emit_column(
                ColumnRef {
                    level,
                    source: 0,
                    column: col,
                },
                vals + j,
            );
        }
        let mut subs = HashMap::new();
        for (j, a) in assigns.iter().enumerate() {
            self.assign_value(a, &mut subs, vals + n + j)?;
        }
        // The key is unique in the target, so its first `n` fields name one entry.
        self.emit(Insn::IdxDeleteAsync {
            cursor: set,
            key_start: vals,
            key_count: n,
        });
        self.emit(Insn::IdxDeleteAwait { cursor: set });
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start: vals,
            count: n + k,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::IdxInsertAsync {
            cursor: set,
            record_reg: rec,
        });
        self.emit(Insn::IdxInsertAwait { cursor: set });
        Ok(())
    }
}
