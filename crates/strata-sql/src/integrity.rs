//! `PRAGMA integrity_check` and `quick_check`: the structural check of every tree (the VM's
//! `IntegrityCheckTrees`: pages, cells, key order, freelist, page accounting, pointer
//! maps), then, as SQLite's pragma.c, checks of the rows themselves:
//!
//! - each index holds as many entries as its table has rows ("wrong # of entries in
//!   index X"; partial indexes excepted, as in SQLite);
//! - every NOT NULL column of every row is not NULL ("NULL value in T.C");
//! - (`integrity_check` only) every row has its entry in each index, computed from the
//!   row as an insert would ("row R missing from index X"), and a unique index holds no
//!   second entry with that key ("non-unique entry in index X").
//!
//! A tree check that fails stops there: walking a tree known to be damaged to compare
//! rows would only fail the statement with a corruption error instead of reporting.
//! Not checked (SQLite does): datatypes of STRICT and non-STRICT columns (values only a
//! damaged or foreign file holds) and CHECK constraints.
//!
//! Each problem is one row, at most `max_errors` of them (the statement ends there); no
//! problem: one row "ok".

use std::sync::Arc;

use strata_btree::record::KeyInfo;
use strata_vdbe::insn::{Insn, Reg};
use strata_vdbe::ops::Cmp;
use strata_vdbe::program::Program;

use crate::builder::Label;
use crate::compiler::{Compiler, Result};
use crate::schema::{Conflict, Index, Table};

/// Where a reported problem goes: the error counter and the statement's end.
struct Report {
    errors: Reg,
    max_errors: usize,
    msg: Reg,
}

impl Compiler<'_> {
    pub(crate) fn integrity_check(
        mut self,
        quick: bool,
        max_errors: usize,
        text: &str,
        column: String,
    ) -> Result<Program> {
        let max_errors = if max_errors == 0 { 100 } else { max_errors };
        let mut tables: Vec<Arc<Table>> = self.schema.tables.values().cloned().collect();
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        let mut trees: Vec<(u32, Option<Arc<KeyInfo>>)> = vec![(1, None)];
        for t in &tables {
            if t.root_page > 1 {
                trees.push((t.root_page, None));
            }
        }
        let mut idx: Vec<_> = self.schema.indexes.values().cloned().collect();
        idx.sort_by(|a, b| a.name.cmp(&b.name));
        for ix in idx {
            trees.push((ix.root_page, Some(ix.key_info())));
        }
        let report = Report {
            errors: self.reg(),
            max_errors,
            msg: self.reg(),
        };
        self.emit(Insn::Integer {
            value: 0,
            dest: report.errors,
        });
        let tree = self.reg();
        self.emit(Insn::IntegrityCheckTrees {
            trees,
            dest: tree,
            max_errors,
        });
        let ok = self.reg();
        self.emit(Insn::String {
            value: b"ok".to_vec(),
            dest: ok,
        });
        let trees_ok = self.label();
        let end = self.label();
        self.emit(Insn::Compare {
            op: Cmp::Eq,
            lhs: tree,
            rhs: ok,
            target: trees_ok.addr(),
            affinity: Default::default(),
            collation: Default::default(),
            jump_if_null: false,
            null_eq: false,
        });
        self.emit(Insn::ResultRow {
            start: tree,
            count: 1,
        });
        self.emit(Insn::AddImm {
            reg: report.errors,
            value: 1,
        });
        self.goto(end);
        self.resolve(trees_ok);
        // Ordinary tables only (root 0: none on disk).
        tables.retain(|t| t.root_page > 1);
        for t in &tables {
            self.check_entry_counts(t, &report)?;
        }
        for t in &tables {
            self.check_rows(t, quick, &report)?;
        }
        self.resolve(end);
        let done = self.label();
        self.emit(Insn::IfPos {
            reg: report.errors,
            target: done.addr(),
            decrement: 0,
        });
        self.emit(Insn::ResultRow {
            start: ok,
            count: 1,
        });
        self.resolve(done);
        Ok(self.finish(text, vec![column], vec![None]))
    }

    /// Emits the row in `report.msg` as a problem; ends the statement at the limit.
    fn report_problem(&mut self, report: &Report) {
        self.emit(Insn::ResultRow {
            start: report.msg,
            count: 1,
        });
        self.emit(Insn::AddImm {
            reg: report.errors,
            value: 1,
        });
        let more = self.label();
        let left = self.reg();
        self.emit(Insn::Integer {
            value: report.max_errors as i64,
            dest: left,
        });
        self.emit(Insn::Compare {
            op: Cmp::Lt,
            lhs: report.errors,
            rhs: left,
            target: more.addr(),
            affinity: Default::default(),
            collation: Default::default(),
            jump_if_null: false,
            null_eq: false,
        });
        self.emit(Insn::Halt {
            error: None,
            on_error: Default::default(),
        });
        self.resolve(more);
    }

    fn message(&mut self, report: &Report, text: String) {
        self.emit(Insn::String {
            value: text.into_bytes(),
            dest: report.msg,
        });
    }

    /// "wrong # of entries in index X" for each index without a WHERE clause.
    fn check_entry_counts(&mut self, table: &Arc<Table>, report: &Report) -> Result<()> {
        let indexes: Vec<Arc<Index>> = self
            .sqlite_index_order(table)
            .into_iter()
            .filter(|ix| ix.where_sql.is_none())
            .collect();
        if indexes.is_empty() {
            return Ok(());
        }
        let tc = self.b.alloc_cursor();
        self.open_table_read(tc, table);
        let rows = self.reg();
        self.emit(Insn::Count {
            cursor: tc,
            dest: rows,
        });
        for ix in indexes {
            let ic = self.b.alloc_cursor();
            self.open_index_read(ic, &ix);
            let entries = self.reg();
            self.emit(Insn::Count {
                cursor: ic,
                dest: entries,
            });
            let same = self.label();
            self.emit(Insn::Compare {
                op: Cmp::Eq,
                lhs: rows,
                rhs: entries,
                target: same.addr(),
                affinity: Default::default(),
                collation: Default::default(),
                jump_if_null: false,
                null_eq: false,
            });
            self.message(report, format!("wrong # of entries in index {}", ix.name));
            self.report_problem(report);
            self.resolve(same);
        }
        Ok(())
    }

    /// One pass over the table's rows: NOT NULL columns, and (unless `quick`) each
    /// index's entry for the row and its uniqueness.
    fn check_rows(&mut self, table: &Arc<Table>, quick: bool, report: &Report) -> Result<()> {
        let not_null: Vec<usize> = (0..table.columns.len())
            .filter(|&i| table.columns[i].not_null.is_some() && table.rowid_alias != Some(i))
            .collect();
        let indexes: Vec<Arc<Index>> = if quick {
            Vec::new()
        } else {
            self.sqlite_index_order(table)
        };
        if not_null.is_empty() && indexes.is_empty() {
            return Ok(());
        }
        let tc = self.b.alloc_cursor();
        self.open_table_read(tc, table);
        let ics: Vec<_> = indexes
            .iter()
            .map(|ix| {
                let ic = self.b.alloc_cursor();
                self.open_index_read(ic, ix);
                ic
            })
            .collect();
        let n = table.columns.len();
        let rowid = self.reg();
        // SQLite's "row N" is the row's ordinal in the scan (1-based), not its rowid.
        let ordinal = self.reg();
        self.emit(Insn::Integer {
            value: 0,
            dest: ordinal,
        });
        let cols = self.regs(n.max(1));
        let scan = self.scan_begin(tc);
        self.emit(Insn::AddImm {
            reg: ordinal,
            value: 1,
        });
        self.emit(Insn::Rowid {
            cursor: tc,
            dest: rowid,
        });
        for i in 0..n {
            if table.rowid_alias == Some(i) {
                self.emit(Insn::Copy {
                    src: rowid,
                    dest: cols + i,
                    count: 1,
                });
            } else {
                self.table_column(table, tc, i, cols + i)?;
            }
        }
        for i in not_null {
            let fine = self.label();
            self.emit(Insn::NotNull {
                reg: cols + i,
                target: fine.addr(),
            });
            self.message(
                report,
                format!("NULL value in {}.{}", table.name, table.columns[i].name),
            );
            self.report_problem(report);
            self.resolve(fine);
        }
        for (ix, ic) in indexes.iter().zip(ics) {
            self.check_index_entry(table, ix, (ic, tc), cols, (rowid, ordinal), report)?;
        }
        self.scan_end(scan);
        Ok(())
    }

    /// The table's indexes in the order SQLite keeps them (`Table.pIndex`: each new one
    /// goes first, REPLACE ones behind the others), which orders its report.
    fn sqlite_index_order(&self, table: &Table) -> Vec<Arc<Index>> {
        let mut v = self.schema.table_indexes(table);
        v.reverse();
        v.sort_by_key(|ix| ix.conflict == Conflict::Replace);
        v
    }

    fn check_index_entry(
        &mut self,
        table: &Arc<Table>,
        ix: &Arc<Index>,
        (ic, tc): (usize, usize),
        cols: Reg,
        (rowid, ordinal): (Reg, Reg),
        report: &Report,
    ) -> Result<()> {
        let next: Label = self.label();
        // A row a partial index does not cover has no entry to find.
        self.partial_jump_unless(table, ix, tc, cols, rowid, next)?;
        let key = self.index_key(table, ix, tc, cols, rowid)?;
        let n = ix.columns.len();
        let found = self.label();
        self.emit(Insn::Found {
            cursor: ic,
            key_start: key,
            key_count: n + 1,
            target: found.addr(),
        });
        let lead = self.reg();
        self.emit(Insn::String {
            value: b"row ".to_vec(),
            dest: lead,
        });
        self.emit(Insn::Concat {
            lhs: lead,
            rhs: ordinal,
            dest: report.msg,
        });
        let tail = self.reg();
        self.emit(Insn::String {
            value: format!(" missing from index {}", ix.name).into_bytes(),
            dest: tail,
        });
        self.emit(Insn::Concat {
            lhs: report.msg,
            rhs: tail,
            dest: report.msg,
        });
        self.report_problem(report);
        self.goto(next);
        self.resolve(found);
        if ix.unique {
            // Unique unless a key field is NULL, or the next entry has another key.
            for k in 0..n {
                self.emit(Insn::IsNull {
                    reg: key + k,
                    target: next.addr(),
                });
            }
            self.emit(Insn::NextAsync { cursor: ic });
            let more = self.label();
            self.emit(Insn::NextAwait {
                cursor: ic,
                target_if_more: more.addr(),
            });
            self.goto(next);
            self.resolve(more);
            self.emit(Insn::IdxCompare {
                cursor: ic,
                op: Cmp::Gt,
                key_start: key,
                key_count: n,
                target: next.addr(),
            });
            self.message(report, format!("non-unique entry in index {}", ix.name));
            self.report_problem(report);
        }
        self.resolve(next);
        Ok(())
    }
}
