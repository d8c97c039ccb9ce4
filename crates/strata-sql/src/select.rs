//! SELECT: FROM items, result columns, DISTINCT, ORDER BY, LIMIT/OFFSET, compound
//! selects, and where each result row goes (a [`Dest`]).

use std::sync::Arc;

use sqlite3_parser::ast::{
    self, As, CompoundOperator, Expr, FromClause, Limit, OneSelect, ResultColumn, Select,
    SortedColumn,
};
use strata_btree::record::{Collation, KeyInfo, SortOrder};
use strata_vdbe::affinity::Affinity;
use strata_vdbe::insn::{Cur, EphemeralKind, InsertFlags, Insn, Reg};

use crate::builder::Label;
use crate::compiler::{error, Compiler, Result};
use crate::expr::{is_aggregate_call, walk};
use crate::names;
use crate::planner::Term;
use crate::schema::Table;
use crate::scope::{ColumnRef, Level, Source, SourceColumn, ROWID};
use crate::select_checks::{aggregate_through_windows, contains_plain_aggregate};

/// Where the rows of a select go.
#[derive(Clone, Debug)]
pub enum Dest {
    /// `ResultRow`: returned to the caller.
    Output,
    /// Nowhere (a SELECT in a trigger body).
    Discard,
    /// A recursive CTE's rows: appended to the queue and the result (once each, with
    /// `distinct`), counting down LIMIT (then jumping to `done`) after OFFSET.
    Queue {
        queue: Cur,
        result: Cur,
        distinct: Option<Cur>,
        limit: Option<Reg>,
        offset: Option<Reg>,
        done: Label,
    },
    /// Into an ephemeral index as records (a set), with optional affinities.
    EphemIndex {
        cursor: Cur,
        affinities: Option<Vec<Affinity>>,
    },
    /// Appended to an ephemeral table.
    EphemTable { cursor: Cur },
    /// Appended to a window-function buffer (`WindowAdd`).
    Window { cursor: Cur },
    /// The first `count` columns of the first row into `reg..`, then stop (a scalar
    /// subquery, or a row-value subquery).
    Scalar { reg: Reg, count: usize },
    /// `reg = 1` at the first row, then stop.
    Exists { reg: Reg },
    /// Remove the row from the ephemeral index (EXCEPT).
    Except { cursor: Cur },
    /// If the row is in `src`, add it to `dst` (INTERSECT).
    Intersect { src: Cur, dst: Cur },
}

/// What a result column is.
#[derive(Clone, Debug)]
pub struct ResultCol {
    pub name: String,
    /// The name the column takes as a column of a subquery, view or CTE, where it
    /// differs: SQLite names those before resolving names, so an unaliased column
    /// reference keeps the case it is written in (`SELECT A FROM t` is `a` at the top
    /// but `A` in `SELECT * FROM (SELECT A FROM t)`).
    pub source_name: Option<String>,
    pub decl_type: Option<String>,
    pub affinity: Option<Affinity>,
    pub collation: Collation,
}

/// One result column before code generation.
#[derive(Clone)]
pub enum Item<'a> {
    Expr(&'a Expr<'a>),
    Col(ColumnRef),
}

pub struct LimitRegs {
    pub limit: Reg,
    pub offset: Option<Reg>,
}

#[derive(Clone, Copy)]
pub enum OrderKey<'a> {
    Result(usize),
    Expr(&'a Expr<'a>),
}

/// How the rows of one select core are finished.
pub struct Output<'a> {
    pub distinct: Option<Cur>,
    pub order: Option<(Cur, Vec<(OrderKey<'a>, Collation, SortOrder)>)>,
    pub limit: Option<LimitRegs>,
    pub dest: Dest,
    /// Where to go when the select is finished early (LIMIT reached, scalar found).
    pub done: Label,
}

pub fn split_and<'a>(e: &'a Expr<'a>, out: &mut Vec<Term<'a>>) {
    match e {
        Expr::Binary(l, ast::Operator::And, r) => {
            split_and(l, out);
            split_and(r, out);
        }
        Expr::Parenthesized(v) if v.len() == 1 => split_and(&v[0], out),
        _ => out.push(Term::Ast(e)),
    }
}

impl Compiler<'_> {
    /// Compiles a full SELECT (compounds, ORDER BY, LIMIT) sending rows to `dest`.
    pub fn select<'a>(&mut self, sel: &'a Select<'a>, dest: &Dest) -> Result<Vec<ResultCol>> {
        match &sel.with {
            Some(w) => {
                let n = self.push_ctes(w)?;
                let r = self.select_without_with(sel, dest);
                self.pop_ctes(n);
                r
            }
            None => self.select_without_with(sel, dest),
        }
    }

    fn select_without_with<'a>(
        &mut self,
        sel: &'a Select<'a>,
        dest: &Dest,
    ) -> Result<Vec<ResultCol>> {
        let compounds = sel.body.compounds.as_deref().unwrap_or(&[]);
        if compounds.is_empty() {
            return self.select_core(&sel.body.select, sel.order_by, sel.limit, dest);
        }
        let all_union_all = compounds
            .iter()
            .all(|c| c.operator == CompoundOperator::UnionAll);
        if all_union_all && sel.order_by.is_none() && sel.limit.is_none() {
            let cols = self.select_core(&sel.body.select, None, None, dest)?;
            for c in compounds {
                let n = self.select_core(&c.select, None, None, dest)?;
                check_arity(cols.len(), n.len(), c.operator)?;
            }
            return Ok(cols);
        }
        // Evaluate left to right into an ephemeral container.
        let first_is_table = compounds[0].operator == CompoundOperator::UnionAll;
        let mut cur = self.b.alloc_cursor();
        let mut is_table = first_is_table;
        let cols = {
            // Key info needs the column count, known only after compiling the first arm:
            // open the container after a placeholder.
            let ph = self.emit(Insn::Noop);
            let cols = self.select_core(
                &sel.body.select,
                None,
                None,
                &if is_table {
                    Dest::EphemTable { cursor: cur }
                } else {
                    Dest::EphemIndex {
                        cursor: cur,
                        affinities: None,
                    }
                },
            )?;
            let kind = if is_table {
                EphemeralKind::Table
            } else {
                EphemeralKind::Index {
                    key_info: key_info_for(&cols),
                }
            };
            *self.b.insn_mut(ph) = Insn::OpenEphemeral { cursor: cur, kind };
            cols
        };
        let n = cols.len();
        for c in compounds {
            match c.operator {
                CompoundOperator::UnionAll => {
                    if !is_table {
                        cur = self.copy_container(cur, n, true, &cols)?;
                        is_table = true;
                    }
                    let k =
                        self.select_core(&c.select, None, None, &Dest::EphemTable { cursor: cur })?;
                    check_arity(n, k.len(), c.operator)?;
                }
                CompoundOperator::Union => {
                    if is_table {
                        cur = self.copy_container(cur, n, false, &cols)?;
                        is_table = false;
                    }
                    let k = self.select_core(
                        &c.select,
                        None,
                        None,
                        &Dest::EphemIndex {
                            cursor: cur,
                            affinities: None,
                        },
                    )?;
                    check_arity(n, k.len(), c.operator)?;
                }
                CompoundOperator::Except => {
                    if is_table {
                        cur = self.copy_container(cur, n, false, &cols)?;
                        is_table = false;
                    }
                    let k =
                        self.select_core(&c.select, None, None, &Dest::Except { cursor: cur })?;
                    check_arity(n, k.len(), c.operator)?;
                }
                CompoundOperator::Intersect => {
                    if is_table {
                        cur = self.copy_container(cur, n, false, &cols)?;
                    }
                    let dst = self.b.alloc_cursor();
                    self.emit(Insn::OpenEphemeral {
                        cursor: dst,
                        kind: EphemeralKind::Index {
                            key_info: key_info_for(&cols),
                        },
                    });
                    let k = self.select_core(
                        &c.select,
                        None,
                        None,
                        &Dest::Intersect { src: cur, dst },
                    )?;
                    check_arity(n, k.len(), c.operator)?;
                    cur = dst;
                    is_table = false;
                }
            }
        }
        // ORDER BY terms of a compound name result columns.
        let mut order = Vec::new();
        for (i, t) in sel.order_by.unwrap_or(&[]).iter().enumerate() {
            let (inner, coll) = strip_collate(&t.expr)?;
            let col = match inner {
                Expr::Literal(ast::Literal::Numeric(s)) => {
                    let k: usize = s.parse().unwrap_or(0);
                    if k == 0 || k > n {
                        return Err(error(format!(
                            "{} ORDER BY term out of range - should be between 1 and {n}",
                            ordinal(i + 1)
                        )));
                    }
                    k - 1
                }
                Expr::Id(id) => cols
                    .iter()
                    .position(|c| names::eq(&c.name, &names::unquote(id.0)))
                    .ok_or_else(|| {
                        error(format!(
                            "{} ORDER BY term does not match any column in the result set",
                            ordinal(i + 1)
                        ))
                    })?,
                _ => {
                    let shown = inner.to_string();
                    cols.iter().position(|c| c.name == shown).ok_or_else(|| {
                        error(format!(
                            "{} ORDER BY term does not match any column in the result set",
                            ordinal(i + 1)
                        ))
                    })?
                }
            };
            order.push((col, coll.unwrap_or(cols[col].collation), term_order(t)));
        }
        self.scan_container(cur, n, &order, sel.limit, dest)?;
        Ok(cols)
    }

    /// Copies an ephemeral container into a new one of the other kind.
    fn copy_container(
        &mut self,
        src: Cur,
        n: usize,
        to_table: bool,
        cols: &[ResultCol],
    ) -> Result<Cur> {
        let dst = self.b.alloc_cursor();
        let kind = if to_table {
            EphemeralKind::Table
        } else {
            EphemeralKind::Index {
                key_info: key_info_for(cols),
            }
        };
        self.emit(Insn::OpenEphemeral { cursor: dst, kind });
        let end = self.label();
        let top = self.label();
        self.emit(Insn::RewindAsync { cursor: src });
        self.emit(Insn::RewindAwait {
            cursor: src,
            target_if_empty: end.addr(),
        });
        self.resolve(top);
        let regs = self.regs(n);
        for i in 0..n {
            self.emit(Insn::Column {
                cursor: src,
                column: i,
                dest: regs + i,
                default: None,
            });
        }
        let never = self.label();
        let dest = if to_table {
            Dest::EphemTable { cursor: dst }
        } else {
            Dest::EphemIndex {
                cursor: dst,
                affinities: None,
            }
        };
        self.write_dest(regs, n, &dest, never)?;
        self.emit(Insn::NextAsync { cursor: src });
        self.emit(Insn::NextAwait {
            cursor: src,
            target_if_more: top.addr(),
        });
        self.resolve(end);
        self.resolve(never);
        Ok(dst)
    }

    /// Reads every row of an ephemeral container, sorted per `order`, limited, to `dest`.
    fn scan_container(
        &mut self,
        cur: Cur,
        n: usize,
        order: &[(usize, Collation, SortOrder)],
        limit: Option<&Limit<'_>>,
        dest: &Dest,
    ) -> Result<()> {
        let done = self.label();
        let limit = self.compute_limit(limit, done)?;
        let regs = self.regs(n);
        let end = self.label();
        if order.is_empty() {
            let top = self.label();
            let next = self.label();
            self.emit(Insn::RewindAsync { cursor: cur });
            self.emit(Insn::RewindAwait {
                cursor: cur,
                target_if_empty: end.addr(),
            });
            self.resolve(top);
            for i in 0..n {
                self.emit(Insn::Column {
                    cursor: cur,
                    column: i,
                    dest: regs + i,
                    default: None,
                });
            }
            self.limited_write(regs, n, dest, limit.as_ref(), next, done)?;
            self.resolve(next);
            self.emit(Insn::NextAsync { cursor: cur });
            self.emit(Insn::NextAwait {
                cursor: cur,
                target_if_more: top.addr(),
            });
        } else {
            let sorter = self.b.alloc_cursor();
            let key_info = Arc::new(KeyInfo {
                fields: order.iter().map(|(_, c, o)| (*c, *o)).collect(),
                ..Default::default()
            });
            let nk = order.len();
            self.emit(Insn::SorterOpen {
                cursor: sorter,
                key_info,
                num_columns: nk + n,
            });
            let top = self.label();
            let scanned = self.label();
            self.emit(Insn::RewindAsync { cursor: cur });
            self.emit(Insn::RewindAwait {
                cursor: cur,
                target_if_empty: scanned.addr(),
            });
            self.resolve(top);
            let rec_regs = self.regs(nk + n);
            for (k, (col, _, _)) in order.iter().enumerate() {
                self.emit(Insn::Column {
                    cursor: cur,
                    column: *col,
                    dest: rec_regs + k,
                    default: None,
                });
            }
            for i in 0..n {
                self.emit(Insn::Column {
                    cursor: cur,
                    column: i,
                    dest: rec_regs + nk + i,
                    default: None,
                });
            }
            let rec = self.reg();
            self.emit(Insn::MakeRecord {
                start: rec_regs,
                count: nk + n,
                dest: rec,
                affinities: None,
            });
            self.emit(Insn::SorterInsert {
                cursor: sorter,
                record_reg: rec,
            });
            self.emit(Insn::NextAsync { cursor: cur });
            self.emit(Insn::NextAwait {
                cursor: cur,
                target_if_more: top.addr(),
            });
            self.resolve(scanned);
            self.sorter_output(sorter, nk, n, regs, dest, limit.as_ref(), done)?;
        }
        self.resolve(end);
        self.resolve(done);
        Ok(())
    }

    /// Emits the loop reading a filled sorter (keys then `n` result columns) to `dest`.
    #[allow(clippy::too_many_arguments)]
    fn sorter_output(
        &mut self,
        sorter: Cur,
        nk: usize,
        n: usize,
        regs: Reg,
        dest: &Dest,
        limit: Option<&LimitRegs>,
        done: Label,
    ) -> Result<()> {
        let pseudo = self.b.alloc_cursor();
        let data = self.reg();
        self.emit(Insn::OpenPseudo {
            cursor: pseudo,
            content_reg: data,
            num_columns: nk + n,
        });
        let top = self.label();
        let next = self.label();
        let end = self.label();
        self.emit(Insn::SorterSort {
            cursor: sorter,
            target_if_empty: end.addr(),
        });
        self.resolve(top);
        self.emit(Insn::SorterData {
            cursor: sorter,
            dest: data,
        });
        for i in 0..n {
            self.emit(Insn::Column {
                cursor: pseudo,
                column: nk + i,
                dest: regs + i,
                default: None,
            });
        }
        self.limited_write(regs, n, dest, limit, next, done)?;
        self.resolve(next);
        self.emit(Insn::SorterNext {
            cursor: sorter,
            target_if_more: top.addr(),
        });
        self.resolve(end);
        Ok(())
    }

    /// LIMIT and OFFSET into registers; jumps to `done` at once for LIMIT 0.
    pub fn compute_limit(
        &mut self,
        limit: Option<&Limit<'_>>,
        done: Label,
    ) -> Result<Option<LimitRegs>> {
        let Some(l) = limit else { return Ok(None) };
        let lr = self.expr_new(&l.expr)?;
        self.emit(Insn::MustBeInt { reg: lr });
        let offset = match &l.offset {
            Some(o) => {
                let r = self.expr_new(o)?;
                self.emit(Insn::MustBeInt { reg: r });
                Some(r)
            }
            None => None,
        };
        self.emit(Insn::IfNot {
            reg: lr,
            target: done.addr(),
            jump_if_null: false,
        });
        Ok(Some(LimitRegs { limit: lr, offset }))
    }

    fn limited_write(
        &mut self,
        regs: Reg,
        n: usize,
        dest: &Dest,
        limit: Option<&LimitRegs>,
        skip: Label,
        done: Label,
    ) -> Result<()> {
        if let Some(l) = limit {
            if let Some(off) = l.offset {
                self.emit(Insn::IfPos {
                    reg: off,
                    target: skip.addr(),
                    decrement: 1,
                });
            }
        }
        self.write_dest(regs, n, dest, done)?;
        if let Some(l) = limit {
            self.emit(Insn::DecrJumpZero {
                reg: l.limit,
                target: done.addr(),
            });
        }
        Ok(())
    }

    /// Sends the row in `regs..regs+n` to `dest`.
    pub fn write_dest(&mut self, regs: Reg, n: usize, dest: &Dest, done: Label) -> Result<()> {
        match dest {
            Dest::Output => {
                self.emit(Insn::ResultRow {
                    start: regs,
                    count: n,
                });
            }
            Dest::Discard => {}
            Dest::Queue {
                queue,
                result,
                distinct,
                limit,
                offset,
                done: stop,
            } => {
                let skip = self.label();
                if let Some(d) = distinct {
                    self.emit(Insn::Found {
                        cursor: *d,
                        key_start: regs,
                        key_count: n,
                        target: skip.addr(),
                    });
                    let rec = self.reg();
                    self.emit(Insn::MakeRecord {
                        start: regs,
                        count: n,
                        dest: rec,
                        affinities: None,
                    });
                    self.emit(Insn::IdxInsertAsync {
                        cursor: *d,
                        record_reg: rec,
                    });
                    self.emit(Insn::IdxInsertAwait { cursor: *d });
                }
                let never = self.label();
                self.write_dest(regs, n, &Dest::EphemTable { cursor: *queue }, never)?;
                let emit_row = self.label();
                if let Some(off) = offset {
                    self.emit(Insn::IfPos {
                        reg: *off,
                        target: skip.addr(),
                        decrement: 1,
                    });
                }
                self.resolve(emit_row);
                self.write_dest(regs, n, &Dest::EphemTable { cursor: *result }, never)?;
                if let Some(l) = limit {
                    self.emit(Insn::DecrJumpZero {
                        reg: *l,
                        target: stop.addr(),
                    });
                }
                self.resolve(never);
                self.resolve(skip);
            }
            Dest::EphemIndex { cursor, affinities } => {
                let rec = self.reg();
                self.emit(Insn::MakeRecord {
                    start: regs,
                    count: n,
                    dest: rec,
                    affinities: affinities.clone(),
                });
                self.emit(Insn::IdxInsertAsync {
                    cursor: *cursor,
                    record_reg: rec,
                });
                self.emit(Insn::IdxInsertAwait { cursor: *cursor });
            }
            Dest::EphemTable { cursor } => {
                let rec = self.reg();
                let rowid = self.reg();
                self.emit(Insn::MakeRecord {
                    start: regs,
                    count: n,
                    dest: rec,
                    affinities: None,
                });
                self.emit(Insn::NewRowidAsync {
                    cursor: *cursor,
                    dest: rowid,
                    min_reg: None,
                });
                self.emit(Insn::NewRowidAwait { cursor: *cursor });
                self.emit(Insn::InsertAsync {
                    cursor: *cursor,
                    key_reg: rowid,
                    record_reg: rec,
                    flags: InsertFlags::default(),
                    table: String::new(),
                });
                self.emit(Insn::InsertAwait { cursor: *cursor });
            }
            Dest::Scalar { reg, count } => {
                self.emit(Insn::Copy {
                    src: regs,
                    dest: *reg,
                    count: n.min(*count),
                });
                self.goto(done);
            }
            Dest::Exists { reg } => {
                self.emit(Insn::Integer {
                    value: 1,
                    dest: *reg,
                });
                self.goto(done);
            }
            Dest::Window { cursor } => {
                self.emit(Insn::WindowAdd {
                    cursor: *cursor,
                    start: regs,
                });
            }
            Dest::Except { cursor } => {
                self.emit(Insn::IdxDeleteAsync {
                    cursor: *cursor,
                    key_start: regs,
                    key_count: n,
                });
                self.emit(Insn::IdxDeleteAwait { cursor: *cursor });
            }
            Dest::Intersect { src, dst } => {
                let skip = self.label();
                self.emit(Insn::NotFound {
                    cursor: *src,
                    key_start: regs,
                    key_count: n,
                    target: skip.addr(),
                });
                let rec = self.reg();
                self.emit(Insn::MakeRecord {
                    start: regs,
                    count: n,
                    dest: rec,
                    affinities: None,
                });
                self.emit(Insn::IdxInsertAsync {
                    cursor: *dst,
                    record_reg: rec,
                });
                self.emit(Insn::IdxInsertAwait { cursor: *dst });
                self.resolve(skip);
            }
        }
        Ok(())
    }

    /// One SELECT core (or VALUES) with its own ORDER BY and LIMIT.
    pub fn select_core<'a>(
        &mut self,
        core: &'a OneSelect<'a>,
        order_by: Option<&'a [SortedColumn<'a>]>,
        limit: Option<&'a Limit<'a>>,
        dest: &Dest,
    ) -> Result<Vec<ResultCol>> {
        match core {
            OneSelect::Values(rows) => self.values(rows, order_by, limit, dest),
            OneSelect::Select {
                distinctness,
                columns,
                from,
                where_clause,
                group_by,
                having,
                window_clause,
            } => {
                self.levels.push(Level::default());
                let saved = self.misplaced_aggregate.take();
                let r = self.select_body(
                    *distinctness == Some(ast::Distinctness::Distinct),
                    columns,
                    from.as_ref(),
                    *where_clause,
                    *group_by,
                    *having,
                    *window_clause,
                    order_by,
                    limit,
                    dest,
                );
                // A misplaced aggregate is reported unless compiling the rest found an
                // error SQLite finds first (a name it cannot resolve); the compilation
                // may itself fail on the aggregate, with the other wording.
                let r = match (std::mem::replace(&mut self.misplaced_aggregate, saved), r) {
                    (Some(m), Ok(_)) => Err(error(m)),
                    (Some(m), Err(e)) if e.message.starts_with("misuse of aggregate") => {
                        Err(error(m))
                    }
                    (_, r) => r,
                };
                // Which of several errors SQLite reports depends on the order it resolves
                // names in, which Strata's compilation does not follow: recomputed when
                // the select failed with a name or aggregate error.
                let r = match r {
                    Err(e) if crate::select_checks::resolve_order_applies(&e.message) => {
                        let found = self.sqlite_resolve_error(
                            columns,
                            *where_clause,
                            *group_by,
                            *having,
                            order_by,
                            window_clause.unwrap_or(&[]),
                        );
                        Err(found.map(error).unwrap_or(e))
                    }
                    r => r,
                };
                let level = self.levels.pop().expect("pushed above");
                self.last_correlated = level.correlated;
                r
            }
        }
    }

    fn values<'a>(
        &mut self,
        rows: &'a [sqlite3_parser::Vec<'a, Expr<'a>>],
        order_by: Option<&'a [SortedColumn<'a>]>,
        limit: Option<&'a Limit<'a>>,
        dest: &Dest,
    ) -> Result<Vec<ResultCol>> {
        let n = rows.first().map(|r| r.len()).unwrap_or(0);
        let cols: Vec<ResultCol> = (0..n)
            .map(|i| ResultCol {
                name: format!("column{}", i + 1),
                source_name: None,
                decl_type: None,
                affinity: None,
                collation: Collation::Binary,
            })
            .collect();
        let simple = order_by.is_none() && limit.is_none();
        let (target, cur) = if simple {
            (dest.clone(), None)
        } else {
            let cur = self.b.alloc_cursor();
            self.emit(Insn::OpenEphemeral {
                cursor: cur,
                kind: EphemeralKind::Table,
            });
            (Dest::EphemTable { cursor: cur }, Some(cur))
        };
        self.levels.push(Level::default());
        let done = self.label();
        for row in rows.iter() {
            if row.len() != n {
                self.levels.pop();
                return Err(error("all VALUES must have the same number of terms"));
            }
            let regs = self.regs(n);
            for (i, e) in row.iter().enumerate() {
                if let Err(e) = self.expr(e, regs + i) {
                    self.levels.pop();
                    return Err(e);
                }
            }
            self.write_dest(regs, n, &target, done)?;
        }
        self.resolve(done);
        let level = self.levels.pop().expect("pushed above");
        self.last_correlated = level.correlated;
        if let Some(cur) = cur {
            let mut order = Vec::new();
            for t in order_by.unwrap_or(&[]) {
                let (inner, coll) = strip_collate(&t.expr)?;
                let k = match inner {
                    Expr::Literal(ast::Literal::Numeric(s)) => s.parse::<usize>().unwrap_or(0),
                    _ => 0,
                };
                if k == 0 || k > n {
                    return Err(error(
                        "ORDER BY term does not match any column in the result set",
                    ));
                }
                order.push((k - 1, coll.unwrap_or_default(), term_order(t)));
            }
            self.scan_container(cur, n, &order, limit, dest)?;
        }
        Ok(cols)
    }

    #[allow(clippy::too_many_arguments)]
    fn select_body<'a>(
        &mut self,
        distinct: bool,
        columns: &'a [ResultColumn<'a>],
        from: Option<&'a FromClause<'a>>,
        where_clause: Option<&'a Expr<'a>>,
        group_by: Option<&'a [Expr<'a>]>,
        having: Option<&'a Expr<'a>>,
        window_defs: Option<&'a [ast::WindowDef<'a>]>,
        order_by: Option<&'a [SortedColumn<'a>]>,
        limit: Option<&'a Limit<'a>>,
        dest: &Dest,
    ) -> Result<Vec<ResultCol>> {
        let (specs, mut terms) = self.from_clause(from)?;
        let level = self.levels.len() - 1;
        self.levels[level].from_resolved = true;
        // An aggregate in WHERE is an error, found below in SQLite's order.
        if let Some(w) = where_clause {
            split_and(w, &mut terms);
        }
        self.pragma_arg_pushdown(&specs, &terms)?;
        // Result columns.
        let mut items: Vec<(Item<'a>, String)> = Vec::new();
        // (item index, name as written) of unaliased column references.
        let mut written_names: Vec<(usize, String)> = Vec::new();
        let level = self.levels.len() - 1;
        for rc in columns {
            match rc {
                ResultColumn::Expr(e, alias, span) => {
                    let name = match alias {
                        Some(As::As(n)) | Some(As::Elided(n)) => names::unquote(n.0),
                        None => {
                            let written = match e {
                                Expr::Id(c) => Some(c.0),
                                Expr::Qualified(_, c) | Expr::DoublyQualified(_, _, c) => Some(c.0),
                                _ => None,
                            };
                            if let Some(w) = written {
                                written_names.push((items.len(), names::unquote(w)));
                            }
                            self.default_column_name(e, span)
                        }
                    };
                    items.push((Item::Expr(e), name));
                }
                ResultColumn::Star => {
                    if self.levels[level].sources.is_empty() {
                        return Err(error("no tables specified"));
                    }
                    for si in 0..self.levels[level].sources.len() {
                        self.check_star_ambiguity(level, si)?;
                    }
                    for (si, s) in self.levels[level].sources.iter().enumerate() {
                        for (ci, c) in s.columns.iter().enumerate() {
                            if !c.hidden && !tvf_hidden(s, ci) {
                                items.push((
                                    Item::Col(ColumnRef {
                                        level,
                                        source: si,
                                        column: ci,
                                    }),
                                    c.name.clone(),
                                ));
                            }
                        }
                    }
                }
                ResultColumn::TableStar(t) => {
                    let tn = names::unquote(t.0);
                    let si = self.levels[level]
                        .sources
                        .iter()
                        .position(|s| names::eq(&s.name, &tn))
                        .ok_or_else(|| error(format!("no such table: {tn}")))?;
                    self.check_star_ambiguity(level, si)?;
                    let src = &self.levels[level].sources[si];
                    for (ci, c) in src.columns.iter().enumerate() {
                        if tvf_hidden(src, ci) {
                            continue;
                        }
                        items.push((
                            Item::Col(ColumnRef {
                                level,
                                source: si,
                                column: ci,
                            }),
                            c.name.clone(),
                        ));
                    }
                }
            }
        }
        self.levels[level].aliases = columns
            .iter()
            .filter_map(|rc| match rc {
                ResultColumn::Expr(e, Some(As::As(n) | As::Elided(n)), _) => {
                    Some((names::unquote(n.0), e.to_string()))
                }
                _ => None,
            })
            .collect();
        let mut result_cols = self.result_cols(&items)?;
        for (i, written) in written_names {
            result_cols[i].source_name = Some(written);
        }
        // As SQLite's `resolveSelectStep`: GROUP BY or an aggregate among the result
        // columns makes an aggregate query, nothing else does; then HAVING, then WHERE
        // are checked against that. (Reported at the end, see `select_core`: the query
        // compiles on as before, so that an unknown name found later wins, as SQLite
        // resolves every name before it generates code.)
        // An aggregate only inside a window call (its arguments, FILTER, PARTITION BY or
        // ORDER BY) does not count for HAVING there, but the query is computed as an
        // aggregate one all the same (`window_body`), and SQLite's WHERE check then finds
        // an aggregate only when it generates code, as for any aggregate query.
        let sqlite_agg = group_by.is_some()
            || items
                .iter()
                .any(|(it, _)| matches!(it, Item::Expr(e) if contains_plain_aggregate(e)));
        let defs = window_defs.unwrap_or(&[]);
        let window_agg = items.iter().any(
            |(it, _)| matches!(it, Item::Expr(e) if aggregate_through_windows(e, defs).is_some()),
        );
        if having.is_some() && !sqlite_agg {
            self.misplace("HAVING clause on a non-aggregate query".into());
        }
        let sqlite_agg = sqlite_agg || window_agg;
        if let Some(w) = where_clause.filter(|w| !sqlite_agg && contains_aggregate(w)) {
            self.misplace(format!(
                "misuse of aggregate function {}()",
                first_aggregate_name(w)
            ));
        }

        let done = self.label();
        let limit_regs = self.compute_limit(limit, done)?;

        // ORDER BY keys.
        let mut order_keys = Vec::new();
        for (i, t) in order_by.unwrap_or(&[]).iter().enumerate() {
            let (inner, coll) = strip_collate(&t.expr)?;
            let key = self.order_key(inner, &items, i)?;
            let collation = match coll {
                Some(c) => c,
                None => match key {
                    OrderKey::Result(k) => result_cols[k].collation,
                    OrderKey::Expr(e) => self
                        .expr_collation(e)?
                        .map(|c| c.collation)
                        .unwrap_or_default(),
                },
            };
            order_keys.push((key, collation, term_order(t)));
        }
        let n = items.len();
        // Window functions: computed over the rows this select would produce, before
        // DISTINCT, ORDER BY and LIMIT (see `window`).
        let windows = self.window_plan(&items, &order_keys, window_defs)?;
        self.check_window_aliases(&items, group_by, having)?;
        let is_agg_query = group_by.is_some()
            || having.is_some()
            || items
                .iter()
                .any(|(it, _)| matches!(it, Item::Expr(e) if contains_aggregate(e)))
            || order_keys
                .iter()
                .any(|(k, _, _)| matches!(k, OrderKey::Expr(e) if contains_aggregate(e)));
        // Found by SQLite only when it generates code, after every name is resolved (its
        // "misuse of aggregate: f()", with no "function"): an aggregate in the WHERE of
        // an aggregate query, or in the ORDER BY of a query that is not one (a window's
        // PARTITION BY and ORDER BY there included).
        let misplaced = where_clause
            .filter(|w| sqlite_agg && contains_aggregate(w))
            .map(|w| first_aggregate_name(w))
            // SQLite meets the ORDER BY's own aggregates before those inside its window
            // calls.
            .or_else(|| {
                order_keys.iter().find_map(|(k, _, _)| match k {
                    OrderKey::Expr(e) if !sqlite_agg && contains_plain_aggregate(e) => {
                        Some(first_aggregate_name(e))
                    }
                    _ => None,
                })
            })
            .or_else(|| {
                order_keys.iter().find_map(|(k, _, _)| match k {
                    OrderKey::Expr(e) if !sqlite_agg => aggregate_through_windows(e, defs),
                    _ => None,
                })
            });
        if let Some(name) = misplaced {
            self.misplace(format!("misuse of aggregate: {name}()"));
        }
        // An index (or the rowid) that already yields ORDER BY's order saves the sort.
        let mut plan = None;
        if !order_keys.is_empty() && !is_agg_query && !distinct && windows.is_none() {
            let mut cols = Vec::new();
            for (k, coll, ord) in &order_keys {
                let c = match k {
                    OrderKey::Result(i) => match &items[*i].0 {
                        Item::Col(c) if c.level == level => {
                            let col = &self.levels[level].sources[c.source].columns[c.column];
                            Some(if col.is_rowid_alias { ROWID } else { c.column })
                        }
                        Item::Col(_) => None,
                        Item::Expr(e) => self.order_column(e)?,
                    },
                    OrderKey::Expr(e) => self.order_column(e)?,
                };
                match c {
                    Some(c) => cols.push((c, *coll, *ord)),
                    None => {
                        cols.clear();
                        break;
                    }
                }
            }
            if !cols.is_empty() {
                plan = self.order_plan(&specs, &terms, &cols)?;
            }
        }
        let sorter = if order_keys.is_empty() || plan.is_some() {
            None
        } else {
            let c = self.b.alloc_cursor();
            self.emit(Insn::SorterOpen {
                cursor: c,
                key_info: Arc::new(KeyInfo {
                    fields: order_keys.iter().map(|(_, c, o)| (*c, *o)).collect(),
                    ..Default::default()
                }),
                num_columns: order_keys.len() + n,
            });
            Some(c)
        };
        let distinct_cur = if distinct {
            let c = self.b.alloc_cursor();
            self.emit(Insn::OpenEphemeral {
                cursor: c,
                kind: EphemeralKind::Index {
                    key_info: key_info_for(&result_cols),
                },
            });
            Some(c)
        } else {
            None
        };
        let nk = order_keys.len();
        if plan.is_some() {
            order_keys.clear();
        }
        // LIMIT applies to the rows as produced, or with ORDER BY to the sorted output.
        let (row_limit, sorter_limit) = if sorter.is_some() {
            (None, limit_regs)
        } else {
            (limit_regs, None)
        };
        let output = Output {
            distinct: distinct_cur,
            order: sorter.map(|s| (s, order_keys)),
            limit: row_limit,
            dest: dest.clone(),
            done,
        };

        let is_agg = is_agg_query;
        self.order_hint = plan;
        {
            let mut exprs: Vec<&Expr<'_>> = Vec::new();
            let mut cols = Vec::new();
            for (it, _) in &items {
                match it {
                    Item::Expr(e) => exprs.push(e),
                    Item::Col(c) => cols.push(*c),
                }
            }
            if let Some((_, keys)) = &output.order {
                for (k, _, _) in keys {
                    if let OrderKey::Expr(e) = k {
                        exprs.push(e);
                    }
                }
            }
            for g in group_by.unwrap_or(&[]) {
                exprs.push(g);
            }
            if let Some(h) = having {
                exprs.push(h);
            }
            if let Some(w) = &windows {
                w.needed_inputs(&mut exprs, &mut cols);
            }
            self.needed = Some(self.columns_needed(&exprs, &cols, &specs, &terms)?);
        }
        if let Some(w) = windows {
            self.window_body(w, &specs, &terms, &items, group_by, having, &output)?;
        } else if is_agg {
            self.aggregate_select(&specs, &terms, &items, group_by, having, &output)?;
        } else {
            let items2 = items.clone();
            self.emit_loops(&specs, &terms, &mut |c, cont| {
                c.emit_result_row(&items2, &output, cont)
            })?;
        }
        if let Some(s) = sorter {
            let regs = self.regs(n);
            self.sorter_output(s, nk, n, regs, dest, sorter_limit.as_ref(), done)?;
        }
        self.resolve(done);
        Ok(result_cols)
    }

    /// The column (or ROWID) of the single source at this level that `e` names, if any.
    fn order_column(&mut self, e: &Expr<'_>) -> Result<Option<usize>> {
        let level = self.levels.len() - 1;
        if self.levels[level].sources.len() != 1 {
            return Ok(None);
        }
        let r = self.column_ref_of(e)?;
        Ok(r.filter(|r| r.level == level).map(|r| {
            if r.column == ROWID
                || self.levels[level].sources[r.source].columns[r.column].is_rowid_alias
            {
                ROWID
            } else {
                r.column
            }
        }))
    }

    fn order_key<'a>(
        &mut self,
        e: &'a Expr<'a>,
        items: &[(Item<'a>, String)],
        i: usize,
    ) -> Result<OrderKey<'a>> {
        if let Expr::Literal(ast::Literal::Numeric(s)) = e {
            if let Ok(k) = s.parse::<i64>() {
                if k < 1 || k as usize > items.len() {
                    return Err(error(format!(
                        "{} ORDER BY term out of range - should be between 1 and {}",
                        ordinal(i + 1),
                        items.len()
                    )));
                }
                return Ok(OrderKey::Result(k as usize - 1));
            }
        }
        if let Expr::Id(id) = e {
            let n = names::unquote(id.0);
            if let Some(k) = items
                .iter()
                .position(|(it, name)| matches!(it, Item::Expr(_)) && names::eq(name, &n))
            {
                return Ok(OrderKey::Result(k));
            }
        }
        for (k, (it, _)) in items.iter().enumerate() {
            if let Item::Expr(x) = it {
                if *x == e {
                    return Ok(OrderKey::Result(k));
                }
            }
        }
        Ok(OrderKey::Expr(e))
    }

    /// Computes the result columns of one row and finishes it per `out`.
    pub fn emit_result_row<'a>(
        &mut self,
        items: &[(Item<'a>, String)],
        out: &Output<'a>,
        cont: Label,
    ) -> Result<()> {
        let n = items.len();
        let regs = self.regs(n);
        for (i, (it, _)) in items.iter().enumerate() {
            match it {
                Item::Expr(e) => self.expr(e, regs + i)?,
                Item::Col(c) => self.emit_column(*c, regs + i),
            }
        }
        if let Some(d) = out.distinct {
            self.emit(Insn::Found {
                cursor: d,
                key_start: regs,
                key_count: n,
                target: cont.addr(),
            });
            let rec = self.reg();
            self.emit(Insn::MakeRecord {
                start: regs,
                count: n,
                dest: rec,
                affinities: None,
            });
            self.emit(Insn::IdxInsertAsync {
                cursor: d,
                record_reg: rec,
            });
            self.emit(Insn::IdxInsertAwait { cursor: d });
        }
        match &out.order {
            Some((sorter, keys)) => {
                let nk = keys.len();
                let rec_regs = self.regs(nk + n);
                for (k, (key, _, _)) in keys.iter().enumerate() {
                    match key {
                        OrderKey::Result(i) => {
                            self.emit(Insn::Copy {
                                src: regs + i,
                                dest: rec_regs + k,
                                count: 1,
                            });
                        }
                        OrderKey::Expr(e) => self.expr(e, rec_regs + k)?,
                    }
                }
                self.emit(Insn::Copy {
                    src: regs,
                    dest: rec_regs + nk,
                    count: n,
                });
                let rec = self.reg();
                self.emit(Insn::MakeRecord {
                    start: rec_regs,
                    count: nk + n,
                    dest: rec,
                    affinities: None,
                });
                self.emit(Insn::SorterInsert {
                    cursor: *sorter,
                    record_reg: rec,
                });
            }
            None => self.limited_write(regs, n, &out.dest, out.limit.as_ref(), cont, out.done)?,
        }
        Ok(())
    }

    fn result_cols(&mut self, items: &[(Item<'_>, String)]) -> Result<Vec<ResultCol>> {
        let mut out = Vec::new();
        for (it, name) in items {
            let (decl_type, affinity, collation) = match it {
                Item::Col(c) => {
                    let col = &self.levels[c.level].sources[c.source].columns[c.column];
                    (col.decl_type.clone(), col.affinity, col.collation)
                }
                Item::Expr(e) => {
                    let decl = self.decl_type_of(e);
                    let aff = self.expr_affinity(e);
                    let coll = self
                        .expr_collation(e)?
                        .map(|c| c.collation)
                        .unwrap_or_default();
                    (decl, aff, coll)
                }
            };
            out.push(ResultCol {
                name: name.clone(),
                source_name: None,
                decl_type,
                affinity,
                collation,
            });
        }
        Ok(out)
    }

    fn decl_type_of(&mut self, e: &Expr<'_>) -> Option<String> {
        let r = self.column_ref_of(e).ok().flatten()?;
        if r.column == ROWID {
            return Some("INTEGER".into());
        }
        self.levels[r.level].sources[r.source].columns[r.column]
            .decl_type
            .clone()
    }

    /// SQLite's default result-column name: the column's name for a column reference,
    /// else the expression's source text as written (`span`, from the parser; SQLite's
    /// `sqlite3ExprListSetSpan`), so `count (*)` is named `count (*)`, not a rendering
    /// of the tree.
    pub fn default_column_name(&mut self, e: &Expr<'_>, span: &str) -> String {
        match e {
            Expr::Id(id) => {
                if let Ok(Some(r)) = self.resolve_column(None, id.0) {
                    return self.column_ref_name(r);
                }
                // Not a column (TRUE, a double-quoted string): its text as written.
                if span.is_empty() {
                    names::unquote(id.0)
                } else {
                    span.to_string()
                }
            }
            Expr::Qualified(_, c) | Expr::DoublyQualified(_, _, c) => {
                if let Ok(Some(r)) = self.column_ref_of(e) {
                    return self.column_ref_name(r);
                }
                names::unquote(c.0)
            }
            // An empty span comes only from a tree not parsed from text.
            _ if span.is_empty() => e.to_string(),
            _ => span.to_string(),
        }
    }

    /// The name SQLite gives a result column that is a column reference: the column's
    /// name; for the rowid (under any of its names), the INTEGER PRIMARY KEY column's
    /// name if the table has one, else `rowid` (generateColumnNames and
    /// sqlite3ColumnsFromExprList agree on this).
    fn column_ref_name(&self, r: ColumnRef) -> String {
        let source = &self.levels[r.level].sources[r.source];
        if r.column != ROWID {
            return source.columns[r.column].name.clone();
        }
        match source.columns.iter().find(|c| c.is_rowid_alias) {
            Some(c) => c.name.clone(),
            None => "rowid".to_string(),
        }
    }

    /// Runs a subquery into an ephemeral table and describes it as a source. Its
    /// columns are named `col_names` if given, else by the select's result names made
    /// unique; `written_names` takes an unaliased column reference's name as written
    /// (subqueries in FROM and CTEs) rather than as declared (views).
    pub fn materialize<'a>(
        &mut self,
        sel: &'a Select<'a>,
        name: String,
        col_names: Option<&[String]>,
        written_names: bool,
    ) -> Result<Source> {
        let cursor = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor,
            kind: EphemeralKind::Table,
        });
        let cols = self.select(sel, &Dest::EphemTable { cursor })?;
        if let Some(names) = col_names {
            if names.len() != cols.len() {
                return Err(error(format!(
                    "expected {} columns for '{name}' but got {}",
                    names.len(),
                    cols.len()
                )));
            }
        }
        let names = match col_names {
            Some(n) => n.to_vec(),
            None if written_names => {
                names::unique_column_names(cols.iter().map(source_column_name).collect())
            }
            None => names::unique_column_names(cols.iter().map(|c| c.name.clone()).collect()),
        };
        let columns = cols
            .iter()
            .zip(names)
            .map(|(c, name)| SourceColumn {
                name,
                affinity: c.affinity,
                collation: c.collation,
                decl_type: c.decl_type.clone(),
                is_rowid_alias: false,
                default: None,
                hidden: false,
            })
            .collect();
        Ok(Source {
            name,
            cursor,
            columns,
            table: None,
            merged: Default::default(),
            schema: None,
            cover: None,
            tvf: None,
        })
    }
}

/// The name a result column takes as a column of a subquery, view or CTE.
pub fn source_column_name(c: &ResultCol) -> String {
    c.source_name.clone().unwrap_or_else(|| c.name.clone())
}

/// The hidden columns of json_each/json_tree (json, root, and the internal subtype
/// flag): `*` does not expand them, but they can be named.
fn tvf_hidden(s: &Source, column: usize) -> bool {
    match &s.tvf {
        Some(t) => match &t.pragma {
            // A pragma function's `arg` and `schema`.
            Some(p) => column >= p.visible,
            None => column >= 8,
        },
        None => false,
    }
}

pub fn table_source(t: &Arc<Table>, name: String, cursor: Cur) -> Source {
    Source {
        name,
        cursor,
        columns: t
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| SourceColumn {
                name: c.name.clone(),
                affinity: Some(c.affinity),
                collation: c.collation,
                decl_type: if c.decl_type.is_empty() {
                    None
                } else {
                    Some(c.decl_type.clone())
                },
                is_rowid_alias: t.rowid_alias == Some(i),
                default: c
                    .default_value
                    .clone()
                    .filter(|v| *v != strata_btree::record::Value::Null),
                hidden: false,
            })
            .collect(),
        table: Some(t.clone()),
        merged: Default::default(),
        schema: Some(t.db),
        cover: None,
        tvf: None,
    }
}

pub fn key_info_for(cols: &[ResultCol]) -> Arc<KeyInfo> {
    Arc::new(KeyInfo {
        fields: cols.iter().map(|c| (c.collation, SortOrder::Asc)).collect(),
        ..Default::default()
    })
}

fn check_arity(n: usize, k: usize, op: CompoundOperator) -> Result<()> {
    if n != k {
        let name = match op {
            CompoundOperator::Union => "UNION",
            CompoundOperator::UnionAll => "UNION ALL",
            CompoundOperator::Except => "EXCEPT",
            CompoundOperator::Intersect => "INTERSECT",
        };
        return Err(error(format!(
            "SELECTs to the left and right of {name} do not have the same number of result columns"
        )));
    }
    Ok(())
}

pub fn sort_order(o: Option<ast::SortOrder>) -> SortOrder {
    match o {
        Some(ast::SortOrder::Desc) => SortOrder::Desc,
        _ => SortOrder::Asc,
    }
}

/// The direction of an ORDER BY term, with its `NULLS FIRST/LAST` (NULL is the smallest
/// value, so only `ASC NULLS LAST` and `DESC NULLS FIRST` change anything).
pub fn term_order(t: &SortedColumn<'_>) -> SortOrder {
    match (sort_order(t.order), t.nulls) {
        (SortOrder::Asc, Some(ast::NullsOrder::Last)) => SortOrder::AscNullsLast,
        (SortOrder::Desc, Some(ast::NullsOrder::First)) => SortOrder::DescNullsFirst,
        (o, _) => o,
    }
}

fn strip_collate<'a>(e: &'a Expr<'a>) -> Result<(&'a Expr<'a>, Option<Collation>)> {
    match e {
        Expr::Collate(inner, name) => {
            let n = names::unquote(name);
            let c = Collation::from_name(&n)
                .ok_or_else(|| error(format!("no such collation sequence: {n}")))?;
            Ok((inner, Some(c)))
        }
        _ => Ok((e, None)),
    }
}

pub(crate) fn ordinal(i: usize) -> String {
    match i {
        1 => "1st".into(),
        2 => "2nd".into(),
        3 => "3rd".into(),
        n => format!("{n}th"),
    }
}

pub fn contains_aggregate(e: &Expr<'_>) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if is_aggregate_call(x) {
            found = true;
            return false;
        }
        true
    });
    found
}

pub(crate) fn first_aggregate_name(e: &Expr<'_>) -> String {
    let mut name = String::new();
    walk(e, &mut |x| {
        if name.is_empty() && is_aggregate_call(x) {
            if let Expr::FunctionCall { name: n, .. } | Expr::FunctionCallStar { name: n, .. } = x {
                name = names::unquote(n.0);
            }
            return false;
        }
        true
    });
    name
}
