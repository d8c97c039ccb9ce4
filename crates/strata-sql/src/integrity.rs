//! `PRAGMA integrity_check` and `quick_check`: the structural check of every tree (the VM's
//! `IntegrityCheckTrees`: pages, cells, key order, freelist, page accounting, pointer
//! maps), then, as SQLite's pragma.c, checks of the rows themselves:
//!
//! - each index holds as many entries as its table has rows ("wrong # of entries in
//!   index X"; partial indexes excepted, as in SQLite);
//! - every NOT NULL column of every row is not NULL ("NULL value in T.C"), every value
//!   has a datatype its column can hold (STRICT types; no number in a TEXT column, no
//!   numeric-looking text in a numeric one), and the CHECK constraints hold;
//! - (`integrity_check` only) every row has its entry in each index, computed from the
//!   row as an insert would ("row R missing from index X"), and a unique index holds no
//!   second entry with that key ("non-unique entry in index X").
//!
//! A tree check that fails stops there: walking a tree known to be damaged to compare
//! rows would only fail the statement with a corruption error instead of reporting.
//! Each problem is one row, at most `max_errors` of them (the statement ends there); no
//! problem: one row "ok".

use std::sync::Arc;

use strata_btree::record::KeyInfo;
use strata_vdbe::affinity::Affinity;
use strata_vdbe::insn::{ColumnType, Insn, Reg};
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
    /// `PRAGMA integrity_check` / `quick_check`; with `only` (`integrity_check(TABLE)`)
    /// that table and its indexes alone, as SQLite: their trees (a partial check, see the
    /// VM's `integrity`: no freelist unless the table is `sqlite_schema`, no page
    /// accounting) and their rows.
    pub(crate) fn integrity_check(
        mut self,
        quick: bool,
        max_errors: usize,
        only: Option<Arc<Table>>,
        text: &str,
        column: String,
        db: usize,
        every_db: bool,
    ) -> Result<Program> {
        let max_errors = if max_errors == 0 { 100 } else { max_errors };
        let db = only.as_ref().map_or(db, |t| t.db);
        // Unqualified, SQLite checks every database in order (main, temp, then the
        // attached ones), the problems of all counting against one limit and one "ok"
        // for all. Temp is left out here, as before: it lives in this process's memory
        // only and no file's health depends on it.
        let dbs: Vec<usize> = if every_db && only.is_none() {
            std::iter::once(db)
                .chain((0..self.schema.attached.len()).map(|i| i + 2))
                .collect()
        } else {
            vec![db]
        };
        let report = Report {
            errors: self.reg(),
            max_errors,
            msg: self.reg(),
        };
        self.emit(Insn::Integer {
            value: 0,
            dest: report.errors,
        });
        let ok = self.reg();
        self.emit(Insn::String {
            value: b"ok".to_vec(),
            dest: ok,
        });
        let end = self.label();
        for d in dbs {
            self.integrity_check_db(d, quick, only.clone(), &report, ok, end)?;
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

    /// The checks of one database (see [`Compiler::integrity_check`]): its trees, then
    /// its rows unless a tree is broken. Jumps to `end` when the limit is reached.
    fn integrity_check_db(
        &mut self,
        db: usize,
        quick: bool,
        only: Option<Arc<Table>>,
        report: &Report,
        ok: Reg,
        end: Label,
    ) -> Result<()> {
        let max_errors = report.max_errors;
        let dbs = self.schema.of_db(db);
        let mut tables: Vec<Arc<Table>> = match &only {
            Some(t) => vec![t.clone()],
            None => dbs.tables.values().cloned().collect(),
        };
        tables.sort_by(|a, b| a.name.cmp(&b.name));
        let mut trees: Vec<(u32, Option<Arc<KeyInfo>>)> = match &only {
            // Root 0 first: a partial check.
            Some(t) if t.root_page == 1 => vec![(0, None), (1, None)],
            Some(_) => vec![(0, None)],
            None => vec![(1, None)],
        };
        for t in &tables {
            if t.root_page > 1 {
                // A WITHOUT ROWID table's tree is an index tree, keyed by its PRIMARY KEY.
                trees.push((t.root_page, t.without_rowid.as_ref().map(|w| w.key_info())));
            }
        }
        let mut idx: Vec<_> = match &only {
            Some(t) => self.schema.table_indexes(t),
            None => dbs.indexes.values().cloned().collect(),
        };
        idx.sort_by(|a, b| a.name.cmp(&b.name));
        for ix in idx {
            trees.push((ix.root_page, Some(ix.key_info())));
        }
        let tree = self.reg();
        // Problems, soundness, then each tree's entry count (`check_entry_counts`).
        let status = self.regs(2 + trees.len());
        let counts: std::collections::HashMap<u32, Reg> = trees
            .iter()
            .enumerate()
            .filter(|(_, (root, _))| *root != 0)
            .map(|(i, (root, _))| (*root, status + 2 + i))
            .collect();
        self.emit(Insn::IntegrityCheckTrees {
            db,
            trees,
            dest: tree,
            max_errors,
            status: Some(status),
        });
        let trees_ok = self.label();
        let next = self.label();
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
        // Its problems count against the limit line by line, as SQLite's; the rows are
        // checked after it, as SQLite's are, unless a tree is broken (walking it could
        // only fail) or the limit is reached.
        self.emit(Insn::ResultRow {
            start: tree,
            count: 1,
        });
        self.emit(Insn::Arith {
            op: strata_vdbe::ops::Arith::Add,
            lhs: report.errors,
            rhs: status,
            dest: report.errors,
        });
        self.emit(Insn::IfNot {
            reg: status + 1,
            target: next.addr(),
            jump_if_null: true,
        });
        let left = self.reg();
        self.emit(Insn::Integer {
            value: max_errors as i64,
            dest: left,
        });
        self.emit(Insn::Compare {
            op: Cmp::Ge,
            lhs: report.errors,
            rhs: left,
            target: end.addr(),
            affinity: Default::default(),
            collation: Default::default(),
            jump_if_null: false,
            null_eq: false,
        });
        self.resolve(trees_ok);
        // Ordinary tables only (root 0: none on disk).
        tables.retain(|t| t.root_page > 1);
        for t in &tables {
            self.check_entry_counts(t, &counts, report)?;
        }
        for t in &tables {
            self.check_rows(t, quick, report)?;
        }
        self.resolve(next);
        Ok(())
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

    /// "wrong # of entries in index X" for each index without a WHERE clause, from the
    /// entry counts the tree check found (`counts`: root page to register), as SQLite's
    /// OP_IntegrityCk leaves them; a tree missing from it is counted here.
    fn check_entry_counts(
        &mut self,
        table: &Arc<Table>,
        counts: &std::collections::HashMap<u32, Reg>,
        report: &Report,
    ) -> Result<()> {
        let indexes: Vec<Arc<Index>> = self
            .sqlite_index_order(table)
            .into_iter()
            .filter(|ix| ix.where_sql.is_none())
            .collect();
        if indexes.is_empty() {
            return Ok(());
        }
        let rows = match counts.get(&table.root_page) {
            Some(&r) => r,
            None => {
                let tc = self.b.alloc_cursor();
                self.open_table_read(tc, table);
                let rows = self.reg();
                self.emit(Insn::Count {
                    cursor: tc,
                    dest: rows,
                });
                rows
            }
        };
        for ix in indexes {
            let entries = match counts.get(&ix.root_page) {
                Some(&r) => r,
                None => {
                    let ic = self.b.alloc_cursor();
                    self.open_index_read(ic, &ix);
                    let entries = self.reg();
                    self.emit(Insn::Count {
                        cursor: ic,
                        dest: entries,
                    });
                    entries
                }
            };
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
        // A WITHOUT ROWID table's rows have no rowid to find their index entries by: its
        // entries are only counted (`check_entry_counts`), not matched row by row.
        let indexes: Vec<Arc<Index>> = if quick || table.without_rowid.is_some() {
            Vec::new()
        } else {
            self.sqlite_index_order(table)
        };
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
        if table.without_rowid.is_some() {
            self.emit(Insn::Null {
                dest: rowid,
                count: 1,
            });
        } else {
            self.emit(Insn::Rowid {
                cursor: tc,
                dest: rowid,
            });
        }
        // Only the columns some check reads are loaded, as SQLite's: a VIRTUAL column
        // that cannot be computed (ADD COLUMN lets `b AS (b)` in; reading it is an error)
        // must not fail the check of a table none of whose checks need it.
        let every = !table.checks.is_empty()
            || indexes
                .iter()
                .any(|ix| ix.where_sql.is_some() || ix.columns.iter().any(|c| c.expr.is_some()));
        let mut loaded = vec![false; n];
        for i in 0..n {
            let col = &table.columns[i];
            let typed = match &table.strict {
                Some(s) => !matches!(
                    s.columns.get(i),
                    Some((_, None | Some(ColumnType::Any))) | None
                ),
                None => col.affinity != Affinity::Blob,
            };
            let indexed = indexes
                .iter()
                .any(|ix| ix.columns.iter().any(|c| c.expr.is_none() && c.column == i));
            if table.rowid_alias == Some(i) {
                self.emit(Insn::Copy {
                    src: rowid,
                    dest: cols + i,
                    count: 1,
                });
            } else if every || indexed || typed || col.not_null.is_some() {
                match self.table_column(table, tc, i, cols + i) {
                    Ok(()) => loaded[i] = true,
                    // SQLite's check would fail reading it too; the other checks go on.
                    Err(e)
                        if col.generated.is_some()
                            && e.message.starts_with("generated column loop") =>
                    {
                        self.emit(Insn::Null {
                            dest: cols + i,
                            count: 1,
                        });
                    }
                    Err(e) => return Err(e),
                }
            } else {
                self.emit(Insn::Null {
                    dest: cols + i,
                    count: 1,
                });
            }
        }
        for (i, &is_loaded) in loaded.iter().enumerate() {
            if is_loaded {
                self.check_column(table, i, cols + i, report);
            }
        }
        self.check_checks(table, tc, cols, rowid, report)?;
        for (ix, ic) in indexes.iter().zip(ics) {
            self.check_index_entry(table, ix, (ic, tc), cols, (rowid, ordinal), report)?;
        }
        self.scan_end(scan);
        Ok(())
    }

    /// A column's value in `reg`: NOT NULL, then its datatype, as SQLite's pragma.c checks
    /// them (one problem per column at most):
    /// - STRICT: exactly the declared type (NULL aside; REAL takes integers too);
    /// - TEXT affinity: no INTEGER or REAL ("NUMERIC value in T.C");
    /// - NUMERIC, INTEGER, REAL affinity: no text that numeric affinity would convert
    ///   ("TEXT value in T.C": a value such a column never stores).
    fn check_column(&mut self, table: &Table, i: usize, reg: Reg, report: &Report) {
        const INT: u8 = 0x01;
        const REAL: u8 = 0x02;
        const TEXT: u8 = 0x04;
        const BLOB: u8 = 0x08;
        const NULL: u8 = 0x10;
        let col = &table.columns[i];
        let fine = self.label();
        let type_check = self.label();
        if col.not_null.is_some() {
            self.emit(Insn::NotNull {
                reg,
                target: type_check.addr(),
            });
            self.message(report, format!("NULL value in {}.{}", table.name, col.name));
            self.report_problem(report);
            self.goto(fine);
        }
        self.resolve(type_check);
        let strict_type = table
            .strict
            .as_ref()
            .and_then(|s| s.columns.get(i))
            .and_then(|(_, t)| *t);
        let (allowed, name) = if table.strict.is_some() {
            match strict_type {
                Some(ColumnType::Int) => (INT | NULL, "non-INT"),
                Some(ColumnType::Integer) => (INT | NULL, "non-INTEGER"),
                Some(ColumnType::Real) => (INT | REAL | NULL, "non-REAL"),
                Some(ColumnType::Text) => (TEXT | NULL, "non-TEXT"),
                Some(ColumnType::Blob) => (BLOB | NULL, "non-BLOB"),
                Some(ColumnType::Any) | None => (0x1f, ""),
            }
        } else {
            match col.affinity {
                Affinity::Text => (TEXT | BLOB | NULL, "NUMERIC"),
                Affinity::Numeric | Affinity::Integer | Affinity::Real => {
                    // Text is wrong only if numeric affinity would have converted it.
                    let ok = self.label();
                    self.emit(Insn::IsType {
                        reg,
                        mask: INT | REAL | BLOB | NULL,
                        target: ok.addr(),
                    });
                    let t = self.reg();
                    self.emit(Insn::Copy {
                        src: reg,
                        dest: t,
                        count: 1,
                    });
                    self.emit(Insn::Affinity {
                        start: t,
                        affinities: vec![Affinity::Numeric],
                    });
                    self.emit(Insn::IsType {
                        reg: t,
                        mask: TEXT | BLOB | NULL,
                        target: ok.addr(),
                    });
                    self.message(report, format!("TEXT value in {}.{}", table.name, col.name));
                    self.report_problem(report);
                    self.resolve(ok);
                    (0x1f, "")
                }
                Affinity::Blob => (0x1f, ""),
            }
        };
        if allowed != 0x1f {
            self.emit(Insn::IsType {
                reg,
                mask: allowed,
                target: fine.addr(),
            });
            self.message(
                report,
                format!("{name} value in {}.{}", table.name, col.name),
            );
            self.report_problem(report);
        }
        self.resolve(fine);
    }

    /// The table's CHECK constraints on the row in `cols`: one "CHECK constraint failed
    /// in T" if any is false (NULL passes, as on insert).
    fn check_checks(
        &mut self,
        table: &Arc<Table>,
        tc: usize,
        cols: Reg,
        rowid: Reg,
        report: &Report,
    ) -> Result<()> {
        if table.checks.is_empty() {
            return Ok(());
        }
        let ok = self.label();
        let fault = self.label();
        self.push_register_level(table, tc, cols, rowid, None);
        let r = (|| {
            for check in &table.checks {
                let v = self.check_value(&check.sql)?;
                self.emit(Insn::IfNot {
                    reg: v,
                    target: fault.addr(),
                    jump_if_null: false,
                });
            }
            Ok(())
        })();
        self.levels.pop();
        r?;
        self.goto(ok);
        self.resolve(fault);
        self.message(report, format!("CHECK constraint failed in {}", table.name));
        self.report_problem(report);
        self.resolve(ok);
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
