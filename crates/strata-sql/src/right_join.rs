//! RIGHT and FULL OUTER JOIN (SQLite 3.39+), as the last join of a FROM clause.
//!
//! As SQLite does it: the loops run as for an inner join (a FULL join's right table also
//! as a LEFT join's, with a row of NULLs for a left row it does not match); each row of
//! the right table that satisfies the ON terms is recorded in an ephemeral set of rowids.
//! After the loops, the right table is scanned again and each row never recorded is
//! joined with NULLs for every table to its left, then filtered by WHERE and returned.
//! The left operand (all the joins before) is joined first: its inner joins' ON terms
//! stay on their joins, and every WHERE term waits for the right table's loop (a WHERE
//! term on the left tables alone must not hide a right row's match).
//!
//! A WITHOUT ROWID right table has no rowid: its matched rows are recorded by their
//! PRIMARY KEY values in an ephemeral index with the key's KeyInfo (SQLite records them
//! by the key too), and looked up by the key fields that begin each of its entries.

use strata_vdbe::insn::{Cur, EphemeralKind, InsertFlags, Insn};

use crate::builder::Label;
use crate::compiler::{error, Compiler, Result};
use crate::planner::{JoinKind, LoopSpec, Term};
use crate::scope::{ColumnRef, ROWID};
use crate::without_rowid::WithoutRowid;

/// Whether `specs` has a RIGHT or FULL join; one anywhere but last is refused.
pub(crate) fn check_right_joins(specs: &[LoopSpec<'_>]) -> Result<bool> {
    let is_right = |s: &LoopSpec<'_>| matches!(s.join, JoinKind::Right | JoinKind::Full);
    match specs.iter().position(is_right) {
        None => Ok(false),
        Some(i) if i + 1 == specs.len() => Ok(true),
        Some(_) => Err(error(
            "RIGHT and FULL OUTER JOINs other than the last join of a FROM clause are not supported yet",
        )),
    }
}

impl Compiler<'_> {
    /// The PRIMARY KEY of the right table of `specs` if it is a WITHOUT ROWID table.
    fn right_without_rowid(&self, source: usize) -> Option<std::sync::Arc<WithoutRowid>> {
        let level = self.levels.len() - 1;
        self.levels[level].sources[source]
            .table
            .as_ref()?
            .without_rowid
            .clone()
    }

    /// Before the loops: the (empty) set of matched rows of the right table `source`.
    pub(crate) fn right_join_begin(&mut self, source: usize) -> Cur {
        let set = self.b.alloc_cursor();
        let kind = match self.right_without_rowid(source) {
            None => EphemeralKind::Table,
            Some(wr) => EphemeralKind::Index {
                key_info: wr.key_info(),
            },
        };
        self.emit(Insn::OpenEphemeral { cursor: set, kind });
        set
    }

    /// In the right table's loop, once its ON terms hold: records the row.
    pub(crate) fn right_join_record(&mut self, source: usize, set: Cur) {
        let level = self.levels.len() - 1;
        if let Some(wr) = self.right_without_rowid(source) {
            let n = wr.pk.len();
            let key = self.regs(n);
            for (k, p) in wr.pk.iter().enumerate() {
                self.emit_column(
                    ColumnRef {
                        level,
                        source,
                        column: p.column,
                    },
                    key + k,
                );
            }
            let rec = self.reg();
            self.emit(Insn::MakeRecord {
                start: key,
                count: n,
                dest: rec,
                affinities: None,
            });
            // A row matched twice is kept once (the set's entries are whole keys).
            self.emit(Insn::IdxInsertAsync {
                cursor: set,
                record_reg: rec,
            });
            self.emit(Insn::IdxInsertAwait { cursor: set });
            return;
        }
        let r = self.reg();
        let rec = self.reg();
        // Through emit_column: a covering index loop never positions the table cursor.
        self.emit_column(
            ColumnRef {
                level,
                source,
                column: ROWID,
            },
            r,
        );
        self.emit(Insn::MakeRecord {
            start: r,
            count: 0,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::InsertAsync {
            cursor: set,
            key_reg: r,
            record_reg: rec,
            flags: InsertFlags::default(),
            table: String::new(),
        });
        self.emit(Insn::InsertAwait { cursor: set });
    }

    /// After the loops: the right table's unmatched rows, NULLs on the left, through
    /// WHERE (`terms`) and `body`.
    pub(crate) fn right_join_unmatched<'a>(
        &mut self,
        specs: &[LoopSpec<'a>],
        terms: &[Term<'a>],
        set: Cur,
        body: &mut dyn FnMut(&mut Self, Label) -> Result<()>,
    ) -> Result<()> {
        let level = self.levels.len() - 1;
        let right = specs[specs.len() - 1].source;
        let cursor = self.levels[level].sources[right].cursor;
        let end = self.label();
        let top = self.label();
        let next = self.label();
        self.emit(Insn::RewindAsync { cursor });
        self.emit(Insn::RewindAwait {
            cursor,
            target_if_empty: end.addr(),
        });
        self.resolve(top);
        if let Some(wr) = self.right_without_rowid(right) {
            // The key fields begin each entry of the table's tree.
            let n = wr.pk.len();
            let key = self.regs(n);
            for k in 0..n {
                self.emit(Insn::Column {
                    cursor,
                    column: k,
                    dest: key + k,
                    default: None,
                });
            }
            self.emit(Insn::Found {
                cursor: set,
                key_start: key,
                key_count: n,
                target: next.addr(),
            });
        } else {
            let rowid = self.reg();
            self.emit(Insn::Rowid {
                cursor,
                dest: rowid,
            });
            self.emit(Insn::SeekRowidAsync {
                cursor: set,
                rowid_reg: rowid,
            });
            let unmatched = self.label();
            self.emit(Insn::SeekRowidAwait {
                cursor: set,
                target_if_not_found: unmatched.addr(),
            });
            self.goto(next);
            self.resolve(unmatched);
        }
        for s in &specs[..specs.len() - 1] {
            let c = self.levels[level].sources[s.source].cursor;
            self.emit(Insn::NullRow { cursor: c });
        }
        for t in terms {
            self.term_jump_if_not_true(t, next)?;
        }
        body(self, next)?;
        self.resolve(next);
        self.emit(Insn::NextAsync { cursor });
        self.emit(Insn::NextAwait {
            cursor,
            target_if_more: top.addr(),
        });
        self.resolve(end);
        Ok(())
    }
}
