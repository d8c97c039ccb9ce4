//! `ORDER BY` inside an aggregate call (`group_concat(x, ',' ORDER BY y DESC)`, SQLite
//! 3.44+): the call's steps are deferred and run in the requested order when its group
//! ends.
//!
//! As in SQLite (`updateAccumulator`/`finalizeAggFunctions`), each ordered call has its
//! own sort: while the group's rows arrive, a row that passes the call's FILTER (and its
//! DISTINCT check, made on the argument as it arrives) is inserted as a record (ORDER BY
//! keys, then the arguments) into the call's sorter instead of being stepped; when the
//! group ends, the sorter is sorted and walked, stepping the aggregate once per record,
//! before its final. The sorter is stable, so rows with equal keys are stepped in the
//! order they arrived (SQLite adds an `OP_Sequence` column for the same effect).
//!
//! Memory: each ordered call's sorter is an ordinary sorter, bounded by the sorter budget
//! (`PRAGMA strata_sorter_budget_kib`) and spilling sorted runs to a temporary file beyond
//! it; a GROUP BY query re-opens it (dropping the previous group's records and file) for
//! each group. A query holds one such sorter per ordered call at a time, beside the
//! GROUP BY sorter, as a query with several sorts (subqueries) does.
//!
//! What SQLite ignores is ignored here too: the ORDER BY of `min()`/`max()` (their result
//! does not depend on the order; SQLite's `SQLITE_FUNC_NEEDCOLL` test) and of a call
//! without arguments (`count(ORDER BY x)`: dropped by SQLite's parser, the terms are not
//! even resolved).

use std::sync::Arc;

use sqlite3_parser::ast::{self, Expr};
use strata_btree::record::{Collation, KeyInfo, SortOrder};
use strata_vdbe::aggregate::AggKind;
use strata_vdbe::insn::{Cur, Insn, Reg};

use crate::compiler::{error, Compiler, Result};
use crate::select::term_order;

/// One ORDER BY term of an aggregate call: the expression, its collation (as written, or
/// the expression's own, BINARY by default: SQLite's `sqlite3KeyInfoFromExprList`) and
/// its direction with NULLS FIRST/LAST.
pub(crate) type AggOrderTerm<'a> = (&'a Expr<'a>, Collation, SortOrder);

/// The ORDER BY terms of an aggregate call that SQLite sorts by (empty when there are
/// none or SQLite ignores them), checked as SQLite resolves them: no aggregate or window
/// call inside.
pub(crate) fn order_terms<'a>(
    c: &mut Compiler<'_>,
    kind: AggKind,
    nargs: usize,
    order_by: Option<&'a ast::FunctionCallOrder<'a>>,
) -> Result<Vec<AggOrderTerm<'a>>> {
    let Some(order_by) = order_by else {
        return Ok(Vec::new());
    };
    // SQLite's parser drops the ORDER BY of a call without arguments unresolved.
    if nargs == 0 {
        return Ok(Vec::new());
    }
    // The parser builds `WITHIN GROUP` only with a feature Strata does not enable.
    #[allow(irrefutable_let_patterns)]
    let ast::FunctionCallOrder::SortList(terms) = order_by
    else {
        return Err(error("WITHIN GROUP is not supported"));
    };
    let mut out = Vec::with_capacity(terms.len());
    for t in terms.iter() {
        let e = &t.expr;
        if let Some(w) = crate::window::first_window(e) {
            return Err(error(format!("misuse of window function {w}()")));
        }
        if crate::select::contains_aggregate(e) {
            return Err(error(format!(
                "misuse of aggregate function {}()",
                crate::select::first_aggregate_name(e)
            )));
        }
        let collation = c
            .expr_collation(e)?
            .map(|ci| ci.collation)
            .unwrap_or_default();
        out.push((e, collation, term_order(t)));
    }
    // min()/max() ignore the clause, after resolving it as SQLite does (a term naming
    // no column is an error): the terms are compiled where they never run.
    if matches!(kind, AggKind::Min | AggKind::Max) {
        let over = c.label();
        c.goto(over);
        let r = c.reg();
        for (e, _, _) in &out {
            c.expr(e, r)?;
        }
        c.resolve(over);
        return Ok(Vec::new());
    }
    Ok(out)
}

impl Compiler<'_> {
    /// Opens (or re-opens, dropping what it held) the sorter of an ordered call whose
    /// records are `keys` ORDER BY values, with `unique` a sequence number (sorted
    /// descending: the last row of equal keys first), then `nargs` arguments.
    pub(crate) fn open_agg_sorter(
        &mut self,
        cur: Cur,
        keys: &[AggOrderTerm<'_>],
        unique: bool,
        nargs: usize,
    ) {
        let mut fields: Vec<(Collation, SortOrder)> =
            keys.iter().map(|&(_, c, o)| (c, o)).collect();
        if unique {
            fields.push((Collation::Binary, SortOrder::Desc));
        }
        let n = fields.len();
        self.emit(Insn::SorterOpen {
            cursor: cur,
            key_info: Arc::new(KeyInfo {
                fields,
                ..Default::default()
            }),
            num_columns: n + nargs,
        });
    }

    /// Inserts the record of `count` registers from `start` (ORDER BY keys, then the
    /// arguments) into the ordered call's sorter.
    pub(crate) fn agg_sorter_insert(&mut self, cur: Cur, start: Reg, count: usize) {
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start,
            count,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::SorterInsert {
            cursor: cur,
            record_reg: rec,
        });
    }

    /// At the end of a group: steps the ordered call (`kind`, its accumulator and
    /// collation) once per record of its sorter, in sorted order; the arguments follow
    /// `nkeys` columns. Arguments that carried the JSON subtype were stored as JSONB (see
    /// `stored_agg_args`), which the JSON aggregates read as JSON.
    ///
    /// With `unique` (the key's collation and order), a record whose key equals the
    /// previous one's is skipped. That is `agg(DISTINCT x ORDER BY x)`, which SQLite
    /// deduplicates as the keys of its ORDER BY table, where a later row with an equal
    /// key replaces the earlier one (`'Q'` then `'q'` under NOCASE keeps `'q'`, where a
    /// DISTINCT check would keep the first): the sequence number sorted descending puts
    /// the last row of a run of equal keys first.
    pub(crate) fn ordered_agg_steps(
        &mut self,
        cur: Cur,
        nkeys: usize,
        nargs: usize,
        (kind, acc_reg, collation): (AggKind, Reg, Collation),
        unique: Option<(Collation, SortOrder)>,
    ) {
        let prev = unique.map(|_| {
            let r = self.regs(2);
            self.emit(Insn::Integer {
                value: 0,
                dest: r + 1,
            });
            r
        });
        let pseudo = self.b.alloc_cursor();
        let data = self.reg();
        self.emit(Insn::OpenPseudo {
            cursor: pseudo,
            content_reg: data,
            num_columns: nkeys + nargs,
        });
        let done = self.label();
        self.emit(Insn::SorterSort {
            cursor: cur,
            target_if_empty: done.addr(),
        });
        let top = self.label();
        self.resolve(top);
        self.emit(Insn::SorterData {
            cursor: cur,
            dest: data,
        });
        let next = self.label();
        if let (Some(prev), Some(field)) = (prev, unique) {
            let key = self.reg();
            self.emit(Insn::Column {
                cursor: pseudo,
                column: 0,
                dest: key,
                default: None,
            });
            let step = self.label();
            self.emit(Insn::IfNot {
                reg: prev + 1,
                target: step.addr(),
                jump_if_null: true,
            });
            self.emit(Insn::CompareRecords {
                lhs: key,
                rhs: prev,
                count: 1,
                key_info: Arc::new(KeyInfo {
                    fields: vec![field],
                    ..Default::default()
                }),
            });
            self.emit(Insn::Jump {
                lt: step.addr(),
                eq: next.addr(),
                gt: step.addr(),
            });
            self.resolve(step);
            self.emit(Insn::Copy {
                src: key,
                dest: prev,
                count: 1,
            });
            self.emit(Insn::Integer {
                value: 1,
                dest: prev + 1,
            });
        }
        let args = self.regs(nargs.max(1));
        for j in 0..nargs {
            self.emit(Insn::Column {
                cursor: pseudo,
                column: nkeys + j,
                dest: args + j,
                default: None,
            });
        }
        self.emit(Insn::AggStep {
            kind,
            args_start: args,
            nargs,
            acc_reg,
            collation,
            skip_reg: None,
            subtype_args: Vec::new(),
        });
        self.resolve(next);
        self.emit(Insn::SorterNext {
            cursor: cur,
            target_if_more: top.addr(),
        });
        self.resolve(done);
    }
}
