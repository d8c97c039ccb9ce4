//! Row values (SQLite's vectors): `(a, b) < (1, 2)`, a multi-column subquery as an
//! operand (`(a, b) = (SELECT x, y ...)`), `(a, b) IN (SELECT ...)` and
//! `(a, b) IN ((1, 2), (3, 4))`, BETWEEN and `CASE (a, b) WHEN ...` over row values.
//!
//! Semantics are SQLite's `codeVectorCompare` and `sqlite3ExprCodeIN`: a comparison
//! looks at one element pair at a time, each with its own affinity and collation, and
//! stops at the first pair that decides it; NULL rules follow from that (`(1, NULL) =
//! (2, 0)` is 0, `(1, NULL) = (1, 0)` is NULL, `(1, NULL) < (2, 0)` is 1). A row value
//! anywhere else is SQLite's "row value misused".

use std::sync::Arc;

use sqlite3_parser::ast::{Expr, OneSelect, Operator, ResultColumn, Select};
use strata_btree::record::{Collation, KeyInfo, SortOrder};
use strata_vdbe::affinity::{compare_affinity, Affinity};
use strata_vdbe::insn::{EphemeralKind, Insn, Reg};
use strata_vdbe::ops::Cmp;

use crate::compiler::{error, Compiler, Result};
use crate::expr::CollInfo;
use crate::select::{Dest, ResultCol};

/// Affinity and collation of one element of a row value.
type ElemInfo = (Option<Affinity>, Option<CollInfo>);

/// The elements of one row-value operand.
enum Elems<'e, 'a> {
    /// A parenthesized list, evaluated element by element where used.
    Exprs(&'e [Expr<'a>]),
    /// Values already in registers `base..`, e.g. a subquery's first row.
    Regs { base: Reg, info: Vec<ElemInfo> },
}

/// Strips parentheses around a single expression (`((1, 2))` is the row value `(1, 2)`).
fn unwrap_parens<'e, 'a>(e: &'e Expr<'a>) -> &'e Expr<'a> {
    match e {
        Expr::Parenthesized(v) if v.len() == 1 => unwrap_parens(&v[0]),
        _ => e,
    }
}

/// The number of result columns of a subquery, when it can be told from its text (a
/// `*` needs the FROM tables: None).
pub(crate) fn select_width(sel: &Select<'_>) -> Option<usize> {
    match &sel.body.select {
        OneSelect::Select { columns, .. } => {
            if columns.iter().any(|c| !matches!(c, ResultColumn::Expr(..))) {
                None
            } else {
                Some(columns.len())
            }
        }
        OneSelect::Values(rows) => rows.first().map(|r| r.len()),
    }
}

/// The width of `e` if it is a row value (a list of two or more, or a subquery with
/// two or more columns); None for a scalar (or a `*` subquery, see [`select_width`]).
pub(crate) fn row_width(e: &Expr<'_>) -> Option<usize> {
    match unwrap_parens(e) {
        Expr::Parenthesized(v) if v.len() > 1 => Some(v.len()),
        Expr::Subquery(sel) => select_width(sel).filter(|n| *n > 1),
        _ => None,
    }
}

pub(crate) fn is_row_value(e: &Expr<'_>) -> bool {
    row_width(e).is_some()
}

/// SQLite's `sqlite3BinaryCompareCollSeq` over element collations.
fn pick_collation(l: Option<CollInfo>, r: Option<CollInfo>) -> Collation {
    match (l, r) {
        (Some(a), _) if a.explicit => a.collation,
        (_, Some(b)) if b.explicit => b.collation,
        (Some(a), _) => a.collation,
        (_, Some(b)) => b.collation,
        _ => Collation::Binary,
    }
}

fn col_info(c: &ResultCol) -> ElemInfo {
    let coll = (c.collation != Collation::Binary).then_some(CollInfo {
        collation: c.collation,
        explicit: false,
    });
    (c.affinity, coll)
}

impl Compiler<'_> {
    /// A subquery's first row into `width` registers (NULLs if it has no row), run once
    /// unless correlated. Returns the registers and the subquery's columns (checked by
    /// the caller: SQLite's message depends on the context).
    pub(crate) fn row_subquery<'a>(
        &mut self,
        sel: &'a Select<'a>,
        width: usize,
    ) -> Result<(Reg, Vec<ResultCol>)> {
        let private = self.regs(width);
        let ph = self.emit(Insn::Noop);
        let end = self.label();
        self.emit(Insn::Null {
            dest: private,
            count: width,
        });
        let cols = self.select(
            sel,
            &Dest::Scalar {
                reg: private,
                count: width,
            },
        )?;
        let correlated = self.last_correlated;
        self.resolve(end);
        if !correlated {
            *self.b.insn_mut(ph) = Insn::Once { target: end.addr() };
        }
        Ok((private, cols))
    }

    /// The elements of row-value operand `e` of width `n` (`mismatch` is the error when
    /// its width is not `n`).
    fn elems<'e, 'a>(
        &mut self,
        e: &'e Expr<'a>,
        n: usize,
        mismatch: &str,
    ) -> Result<Elems<'e, 'a>> {
        match unwrap_parens(e) {
            Expr::Parenthesized(v) if v.len() == n => Ok(Elems::Exprs(v)),
            Expr::Subquery(sel) => {
                if select_width(sel).is_some_and(|w| w != n) {
                    return Err(error(mismatch));
                }
                let (base, cols) = self.row_subquery(sel, n)?;
                if cols.len() != n {
                    return Err(error(mismatch));
                }
                Ok(Elems::Regs {
                    base,
                    info: cols.iter().map(col_info).collect(),
                })
            }
            _ => Err(error(mismatch)),
        }
    }

    fn elem_info(&mut self, el: &Elems<'_, '_>, i: usize) -> Result<ElemInfo> {
        Ok(match el {
            Elems::Exprs(v) => (self.expr_affinity(&v[i]), self.expr_collation(&v[i])?),
            Elems::Regs { info, .. } => info[i],
        })
    }

    fn elem_value(&mut self, el: &Elems<'_, '_>, i: usize) -> Result<Reg> {
        match el {
            Elems::Exprs(v) => self.expr_new(&v[i]),
            Elems::Regs { base, .. } => Ok(base + i),
        }
    }

    /// Evaluates all elements into fresh registers.
    fn elems_into_regs(&mut self, el: Elems<'_, '_>, n: usize) -> Result<(Reg, Vec<ElemInfo>)> {
        let mut info = Vec::with_capacity(n);
        for i in 0..n {
            info.push(self.elem_info(&el, i)?);
        }
        let base = self.regs(n);
        for i in 0..n {
            let v = self.elem_value(&el, i)?;
            self.emit(Insn::Copy {
                src: v,
                dest: base + i,
                count: 1,
            });
        }
        Ok((base, info))
    }

    /// `l op r` over row values into `dest` (op: a comparison, `IS`, `IS NOT`).
    pub(crate) fn row_compare(
        &mut self,
        l: &Expr<'_>,
        op: Operator,
        r: &Expr<'_>,
        dest: Reg,
    ) -> Result<()> {
        let n = match (row_width(l), row_width(r)) {
            (Some(a), Some(b)) if a != b => return Err(error("row value misused")),
            (Some(a), _) | (_, Some(a)) => a,
            (None, None) => return Err(error("row value misused")),
        };
        // SQLite evaluates subquery operands first, then element pairs as needed.
        let le = self.elems(l, n, "row value misused")?;
        let re = self.elems(r, n, "row value misused")?;
        self.compare_elems(&le, op, &re, n, dest)
    }

    /// The comparison loop of SQLite's `codeVectorCompare`.
    fn compare_elems(
        &mut self,
        le: &Elems<'_, '_>,
        op: Operator,
        re: &Elems<'_, '_>,
        n: usize,
        dest: Reg,
    ) -> Result<()> {
        let (last_cmp, strict, null_eq, negate) = match op {
            Operator::Equals => (Cmp::Eq, Cmp::Eq, false, false),
            Operator::NotEquals => (Cmp::Eq, Cmp::Eq, false, true),
            Operator::Is => (Cmp::Eq, Cmp::Eq, true, false),
            Operator::IsNot => (Cmp::Eq, Cmp::Eq, true, true),
            Operator::Less => (Cmp::Lt, Cmp::Lt, false, false),
            Operator::LessEquals => (Cmp::Le, Cmp::Lt, false, false),
            Operator::Greater => (Cmp::Gt, Cmp::Gt, false, false),
            Operator::GreaterEquals => (Cmp::Ge, Cmp::Gt, false, false),
            _ => return Err(error("row value misused")),
        };
        let equality = strict == Cmp::Eq;
        let done = self.label();
        let set_null = self.label();
        self.emit(Insn::Integer { value: 1, dest });
        let t = self.reg();
        for i in 0..n {
            let (la, lc) = self.elem_info(le, i)?;
            let (ra, rc) = self.elem_info(re, i)?;
            let affinity = compare_affinity(la, ra);
            let collation = pick_collation(lc, rc);
            let a = self.elem_value(le, i)?;
            let b = self.elem_value(re, i)?;
            let next = self.label();
            if equality {
                // Equal: on to the next pair; unequal: 0; NULL: remembered (a later
                // unequal pair still makes it 0).
                self.emit(Insn::CompareValue {
                    op: Cmp::Eq,
                    lhs: a,
                    rhs: b,
                    dest: t,
                    affinity,
                    collation,
                    null_eq,
                });
                self.emit(Insn::If {
                    reg: t,
                    target: next.addr(),
                    jump_if_null: false,
                });
                let not_null = self.label();
                self.emit(Insn::NotNull {
                    reg: t,
                    target: not_null.addr(),
                });
                self.emit(Insn::Null { dest, count: 1 });
                self.goto(next);
                self.resolve(not_null);
                self.emit(Insn::Integer { value: 0, dest });
                self.goto(done);
            } else if i + 1 < n {
                // Ordering: the first pair that is not equal decides; NULL decides NULL.
                self.emit(Insn::CompareValue {
                    op: strict,
                    lhs: a,
                    rhs: b,
                    dest: t,
                    affinity,
                    collation,
                    null_eq: false,
                });
                self.emit(Insn::IsNull {
                    reg: t,
                    target: set_null.addr(),
                });
                self.emit(Insn::If {
                    reg: t,
                    target: done.addr(),
                    jump_if_null: false,
                });
                self.emit(Insn::CompareValue {
                    op: Cmp::Eq,
                    lhs: a,
                    rhs: b,
                    dest: t,
                    affinity,
                    collation,
                    null_eq: false,
                });
                self.emit(Insn::If {
                    reg: t,
                    target: next.addr(),
                    jump_if_null: false,
                });
                self.emit(Insn::Integer { value: 0, dest });
                self.goto(done);
            } else {
                self.emit(Insn::CompareValue {
                    op: last_cmp,
                    lhs: a,
                    rhs: b,
                    dest,
                    affinity,
                    collation,
                    null_eq: false,
                });
            }
            self.resolve(next);
        }
        self.goto(done);
        self.resolve(set_null);
        self.emit(Insn::Null { dest, count: 1 });
        self.resolve(done);
        if negate {
            self.emit(Insn::Not { src: dest, dest });
        }
        Ok(())
    }

    /// `lhs [NOT] BETWEEN lo AND hi` with row values: `lhs >= lo AND lhs <= hi`.
    pub(crate) fn row_between(
        &mut self,
        lhs: &Expr<'_>,
        not: bool,
        lo: &Expr<'_>,
        hi: &Expr<'_>,
        dest: Reg,
    ) -> Result<()> {
        let a = self.reg();
        let b = self.reg();
        self.row_compare(lhs, Operator::GreaterEquals, lo, a)?;
        self.row_compare(lhs, Operator::LessEquals, hi, b)?;
        self.emit(Insn::And {
            lhs: a,
            rhs: b,
            dest,
        });
        if not {
            self.emit(Insn::Not { src: dest, dest });
        }
        Ok(())
    }

    /// `CASE base WHEN w ...` where base or a WHEN is a row value: `base = w` (NULL is
    /// not a match) into `t`.
    pub(crate) fn row_case_match(
        &mut self,
        base: &Expr<'_>,
        when: &Expr<'_>,
        t: Reg,
    ) -> Result<()> {
        self.row_compare(base, Operator::Equals, when, t)
    }

    /// `(a, b) [NOT] IN ((1, 2), (3, 4))`: SQLite reads the list as `VALUES (1, 2), (3,
    /// 4)`; every element must be a row value of the left side's width. As for that
    /// VALUES subquery, the set's affinities and collations come from the LAST row.
    pub(crate) fn row_in_list(
        &mut self,
        lhs: &Expr<'_>,
        not: bool,
        list: &[Expr<'_>],
        dest: Reg,
    ) -> Result<()> {
        let n = row_width(lhs).ok_or_else(|| error("row value misused"))?;
        if let [item] = list {
            if let Expr::Subquery(sel) = unwrap_parens(item) {
                // `x IN ((SELECT ...))` is `x IN (SELECT ...)` (SQLite's parser).
                return self.row_in_select(lhs, not, sel, dest);
            }
        }
        if matches!(unwrap_parens(lhs), Expr::Subquery(_)) {
            // SQLite's parser makes this a list IN, a scalar one, (or, for one element,
            // `=` with a unary + on the element): both refused.
            return Err(error(if list.len() == 1 {
                "row value misused".to_string()
            } else {
                format!("sub-select returns {n} columns - expected 1")
            }));
        }
        let mut rows = Vec::with_capacity(list.len());
        for item in list {
            match unwrap_parens(item) {
                Expr::Parenthesized(v) if v.len() == n => rows.push(v),
                other => {
                    let k = match other {
                        Expr::Parenthesized(v) => v.len(),
                        _ => 1,
                    };
                    return Err(error(format!(
                        "IN(...) element has {k} term{} - expected {n}",
                        if k == 1 { "" } else { "s" }
                    )));
                }
            }
        }
        let le = self.elems(lhs, n, "row value misused")?;
        let (x, info) = self.elems_into_regs(le, n)?;
        let last = rows.last().ok_or_else(|| error("row value misused"))?;
        let mut affinities = Vec::with_capacity(n);
        let mut fields = Vec::with_capacity(n);
        for (i, e) in last.iter().enumerate() {
            let ea = self.expr_affinity(e);
            let ec = self.expr_collation(e)?;
            affinities.push(compare_affinity(info[i].0, ea));
            fields.push((pick_collation(info[i].1, ec), SortOrder::Asc));
        }
        let cur = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor: cur,
            kind: EphemeralKind::Index {
                key_info: Arc::new(KeyInfo {
                    fields,
                    ..Default::default()
                }),
            },
        });
        let any_affinity = affinities.iter().any(|a| *a != Affinity::Blob);
        let vals = self.regs(n);
        let rec = self.reg();
        for row in rows {
            for (i, e) in row.iter().enumerate() {
                self.expr(e, vals + i)?;
            }
            self.emit(Insn::MakeRecord {
                start: vals,
                count: n,
                dest: rec,
                affinities: any_affinity.then(|| affinities.clone()),
            });
            self.emit(Insn::IdxInsertAsync {
                cursor: cur,
                record_reg: rec,
            });
            self.emit(Insn::IdxInsertAwait { cursor: cur });
        }
        self.row_in_probe(x, &info, cur, &affinities, not, dest);
        Ok(())
    }

    /// `(a, b) [NOT] IN (SELECT x, y ...)`: an ephemeral index of the subquery's rows
    /// (filled once unless correlated), probed with the left side; on a miss, SQLite's
    /// step 6: NULL if some row equals the left side except where either is NULL.
    pub(crate) fn row_in_select<'a>(
        &mut self,
        lhs: &Expr<'_>,
        not: bool,
        sel: &'a Select<'a>,
        dest: Reg,
    ) -> Result<()> {
        let n = row_width(lhs).ok_or_else(|| error("row value misused"))?;
        let le = self.elems(lhs, n, "row value misused")?;
        let (x, info) = self.elems_into_regs(le, n)?;
        let cur = self.b.alloc_cursor();
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
        if cols.len() != n {
            return Err(error(format!(
                "sub-select returns {} columns - expected {n}",
                cols.len()
            )));
        }
        let correlated = self.last_correlated;
        self.resolve(filled);
        let mut affinities = Vec::with_capacity(n);
        let mut fields = Vec::with_capacity(n);
        for (i, c) in cols.iter().enumerate() {
            let (ca, cc) = col_info(c);
            affinities.push(compare_affinity(info[i].0, ca));
            fields.push((pick_collation(info[i].1, cc), SortOrder::Asc));
        }
        *self.b.insn_mut(ph_open) = Insn::OpenEphemeral {
            cursor: cur,
            kind: EphemeralKind::Index {
                key_info: Arc::new(KeyInfo {
                    fields,
                    ..Default::default()
                }),
            },
        };
        if !correlated {
            *self.b.insn_mut(ph_once) = Insn::Once {
                target: filled.addr(),
            };
        }
        if affinities.iter().any(|a| *a != Affinity::Blob) {
            self.patch_set_affinities(fill_start, cur, &affinities);
        }
        self.row_in_probe(x, &info, cur, &affinities, not, dest);
        Ok(())
    }

    /// Probes the filled set `cur` with the left side in `x..` (SQLite's
    /// `sqlite3ExprCodeIN` steps 2 to 7): a left side with a NULL skips the lookup (and,
    /// as in SQLite, is compared without the IN affinities); otherwise the affinities
    /// are applied and a match is true; on a miss, NULL if some row equals the left side
    /// except where either is NULL, else false (also for an empty set).
    fn row_in_probe(
        &mut self,
        x: Reg,
        info: &[ElemInfo],
        cur: strata_vdbe::insn::Cur,
        affinities: &[Affinity],
        not: bool,
        dest: Reg,
    ) {
        let n = info.len();
        let end = self.label();
        let is_false = self.label();
        let found = self.label();
        let is_null = self.label();
        let scan = self.label();
        self.emit(Insn::RewindAsync { cursor: cur });
        self.emit(Insn::RewindAwait {
            cursor: cur,
            target_if_empty: is_false.addr(),
        });
        for i in 0..n {
            self.emit(Insn::IsNull {
                reg: x + i,
                target: scan.addr(),
            });
        }
        if affinities.iter().any(|a| *a != Affinity::Blob) {
            self.emit(Insn::Affinity {
                start: x,
                affinities: affinities.to_vec(),
            });
        }
        self.emit(Insn::Found {
            cursor: cur,
            key_start: x,
            key_count: n,
            target: found.addr(),
        });
        // Step 6: a row with no element pair known to differ makes the answer NULL.
        self.resolve(scan);
        self.emit(Insn::RewindAsync { cursor: cur });
        self.emit(Insn::RewindAwait {
            cursor: cur,
            target_if_empty: is_false.addr(),
        });
        let top = self.label();
        let next_row = self.label();
        self.resolve(top);
        let c = self.reg();
        for (i, inf) in info.iter().enumerate() {
            self.emit(Insn::Column {
                cursor: cur,
                column: i,
                dest: c,
                default: None,
            });
            self.emit(Insn::Compare {
                op: Cmp::Ne,
                lhs: x + i,
                rhs: c,
                target: next_row.addr(),
                affinity: Affinity::Blob,
                collation: inf.1.map(|c| c.collation).unwrap_or(Collation::Binary),
                jump_if_null: false,
                null_eq: false,
            });
        }
        self.goto(is_null);
        self.resolve(next_row);
        self.emit(Insn::NextAsync { cursor: cur });
        self.emit(Insn::NextAwait {
            cursor: cur,
            target_if_more: top.addr(),
        });
        self.resolve(is_false);
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
    }
}
