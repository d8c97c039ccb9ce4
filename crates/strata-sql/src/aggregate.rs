//! Aggregate queries: accumulate per group, then evaluate the result columns with
//! aggregate calls, GROUP BY terms and bare columns read from registers.
//!
//! Without GROUP BY there is one group, accumulated directly in the scan. With GROUP BY
//! the scan feeds a sorter with (group keys, aggregate arguments, bare columns); the
//! sorted records are then walked, a group ending whenever the key changes (SQLite's
//! plan when no index gives the grouping order).

use std::collections::HashMap;
use std::sync::Arc;

use sqlite3_parser::ast::{self, Expr};
use strata_btree::record::{Collation, KeyInfo, SortOrder};
use strata_vdbe::aggregate::{lookup_aggregate, AggKind};
use strata_vdbe::insn::{Cur, EphemeralKind, Insn, Reg};

use crate::aggregate_order::{order_terms, AggOrderTerm};
use crate::compiler::{error, Compiler, Result};
use crate::expr::{is_aggregate_call, walk, walk_refs};
use crate::expr_walk::walk_refs_pruned;
use crate::names;
use crate::planner::{LoopSpec, Term};
use crate::scope::{AggMap, ColumnRef};
use crate::select::{ordinal, Item, OrderKey, Output};

struct AggCall<'a> {
    key: String,
    kind: AggKind,
    args: Vec<&'a Expr<'a>>,
    /// `FILTER (WHERE ...)`: the row is fed to this aggregate only when it is true.
    filter: Option<&'a Expr<'a>>,
    distinct: bool,
    collation: Collation,
    /// `ORDER BY` inside the call, when SQLite sorts by it (see `aggregate_order`).
    order: Vec<AggOrderTerm<'a>>,
    /// DISTINCT ordered by its argument itself: deduplicated in the sort, the last
    /// row of equal keys kept (see `aggregate_order`).
    ob_unique: bool,
}

impl AggCall<'_> {
    /// Values this call takes from each row: its arguments, then its filter's result,
    /// then its ORDER BY keys.
    fn slots(&self) -> usize {
        self.args.len() + usize::from(self.filter.is_some()) + self.order.len()
    }

    /// Columns of a sorter record before the arguments: ORDER BY keys, then a sequence
    /// number in the unique case.
    fn ob_width(&self) -> usize {
        self.order.len() + usize::from(self.ob_unique)
    }
}

/// The FILTER of an aggregate call. Window calls (OVER) are not aggregates of the query
/// (`is_aggregate_call`), so an OVER here is an internal error, never computed as a
/// plain aggregate.
fn agg_filter<'a>(
    name: &str,
    tail: Option<&'a ast::FunctionTail<'a>>,
) -> Result<Option<&'a Expr<'a>>> {
    let Some(t) = tail else {
        return Ok(None);
    };
    if t.over_clause.is_some() {
        return Err(error(format!(
            "window functions are not supported yet ({name}() OVER ...)"
        )));
    }
    Ok(t.filter_clause)
}

enum GroupTerm<'a> {
    Expr(&'a Expr<'a>),
    Col(ColumnRef),
}

impl Compiler<'_> {
    fn collect_aggregates<'a>(
        &mut self,
        e: &'a Expr<'a>,
        out: &mut Vec<AggCall<'a>>,
    ) -> Result<()> {
        let mut found: Vec<&'a Expr<'a>> = Vec::new();
        walk(e, &mut |x| {
            if is_aggregate_call(x) {
                found.push(x);
                return false;
            }
            true
        });
        for x in found {
            let key = format!("{x:?}");
            if out.iter().any(|a| a.key == key) {
                continue;
            }
            let (name, args, distinct, filter, order_by) = match x {
                Expr::FunctionCall {
                    name,
                    args,
                    distinctness,
                    filter_over,
                    order_by,
                } => {
                    let fname = names::unquote(name.0);
                    let filter = agg_filter(&fname, filter_over.as_ref())?;
                    let a: Vec<&'a Expr<'a>> = args.map(|a| a.iter().collect()).unwrap_or_default();
                    (
                        fname,
                        a,
                        *distinctness == Some(ast::Distinctness::Distinct),
                        filter,
                        order_by.as_ref(),
                    )
                }
                Expr::FunctionCallStar { name, filter_over } => {
                    let fname = names::unquote(name.0);
                    let filter = agg_filter(&fname, filter_over.as_ref())?;
                    (fname, Vec::new(), false, filter, None)
                }
                _ => continue,
            };
            // SQLite names the nested call (`sum(max(x))`: "max()"): it resolves the
            // outer call first and finds the inner one where no aggregate may be.
            for a in &args {
                if let Some(w) = crate::window::first_window(a) {
                    return Err(error(format!("misuse of window function {w}()")));
                }
                if crate::select::contains_aggregate(a) {
                    let inner = crate::select::first_aggregate_name(a);
                    return Err(error(format!("misuse of aggregate function {inner}()")));
                }
            }
            if let Some(f) = filter {
                if crate::select::contains_aggregate(f) {
                    let inner = crate::select::first_aggregate_name(f);
                    return Err(error(format!("misuse of aggregate function {inner}()")));
                }
            }
            if distinct && args.len() != 1 {
                return Err(error("DISTINCT aggregates must have exactly one argument"));
            }
            let kind = lookup_aggregate(&name, args.len())
                .ok_or_else(|| error(format!("wrong number of arguments to function {name}()")))?;
            let collation = match args.first() {
                Some(a) => self
                    .expr_collation(a)?
                    .map(|c| c.collation)
                    .unwrap_or_default(),
                None => Collation::Binary,
            };
            let order = order_terms(self, kind, args.len(), order_by)?;
            {
                let mut exprs: Vec<&Expr<'_>> = args.clone();
                exprs.extend(filter);
                exprs.extend(order.iter().map(|t| t.0));
                if self.only_outer_columns(&exprs)? {
                    // SQLite computes such a call in the outer query it refers to (which
                    // becomes an aggregate query): `SELECT (SELECT sum(t.x)) FROM t` is one
                    // row. Computing it here, per outer row, would answer differently.
                    return Err(error(format!(
                        "{name}() over only an outer query's columns inside a subquery is \
                         not supported"
                    )));
                }
            }
            let ob_unique = distinct
                && order.len() == 1
                && args.len() == 1
                && format!("{:?}", order[0].0) == format!("{:?}", args[0]);
            out.push(AggCall {
                key,
                kind,
                args,
                filter,
                distinct,
                collation,
                order,
                ob_unique,
            });
        }
        Ok(())
    }

    /// True when the expressions (an aggregate call's arguments, FILTER and ORDER BY) in
    /// a subquery name columns and every one of them belongs to an outer query: SQLite's
    /// `sqlite3ReferencesSrcList` then moves the aggregate to that query. As there, the
    /// names inside subqueries of the arguments count, unless those subqueries supply
    /// them (`outer_refs`): `SELECT (SELECT sum((SELECT t.x))) FROM t` is one row.
    fn only_outer_columns(&mut self, exprs: &[&Expr<'_>]) -> Result<bool> {
        let level = self.levels.len() - 1;
        if level == 0 {
            return Ok(false);
        }
        let mut any = false;
        for e in exprs {
            let mut refs = Vec::new();
            let mut has_subquery = false;
            walk_refs(e, &mut refs, &mut has_subquery);
            if has_subquery {
                crate::outer_refs::subquery_refs(self.schema, e, &mut refs);
            }
            for (d, t, c) in refs {
                if let Some(r) = self.resolve_ref(d.as_deref(), t.as_deref(), &c)? {
                    if r.level == level {
                        return Ok(false);
                    }
                    any = true;
                }
            }
        }
        Ok(any)
    }

    /// Column references of the current level outside aggregate calls.
    fn bare_columns(&mut self, e: &Expr<'_>, out: &mut Vec<ColumnRef>) -> Result<()> {
        let mut idents = Vec::new();
        walk_refs_pruned(e, &mut idents, &mut false, &is_aggregate_call);
        let level = self.levels.len() - 1;
        for (d, t, c) in idents {
            if let Some(r) = self.resolve_ref(d.as_deref(), t.as_deref(), &c)? {
                if r.level == level && !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub fn aggregate_select<'a>(
        &mut self,
        specs: &[LoopSpec<'a>],
        terms: &[Term<'a>],
        items: &[(Item<'a>, String)],
        group_by: Option<&'a [Expr<'a>]>,
        having: Option<&'a Expr<'a>>,
        output: &Output<'a>,
    ) -> Result<()> {
        let mut aggs: Vec<AggCall<'a>> = Vec::new();
        let mut bare: Vec<ColumnRef> = Vec::new();
        for (it, _) in items {
            match it {
                Item::Expr(e) => {
                    self.collect_aggregates(e, &mut aggs)?;
                    self.bare_columns(e, &mut bare)?;
                }
                Item::Col(c) => {
                    if !bare.contains(c) {
                        bare.push(*c)
                    }
                }
            }
        }
        if let Some(h) = having {
            self.collect_aggregates(h, &mut aggs)?;
            self.bare_columns(h, &mut bare)?;
        }
        if let Some((_, keys)) = &output.order {
            for (k, _, _) in keys {
                if let OrderKey::Expr(e) = k {
                    self.collect_aggregates(e, &mut aggs)?;
                    self.bare_columns(e, &mut bare)?;
                }
            }
        }
        let accs = self.regs(aggs.len().max(1));
        // Bare columns beside min()/max() come from the row that holds the min/max: the
        // last min/max call's step says (in `skip_reg`) whether it took this row, and bare
        // columns are loaded only if it did (SQLite's rule; with several min/max calls
        // the last one decides, as in SQLite). NULL at first: load.
        let minmax = aggs
            .iter()
            .rposition(|a| matches!(a.kind, AggKind::Min | AggKind::Max));
        let skip_reg = minmax.map(|_| self.reg());
        if let Some(r) = skip_reg {
            self.emit(Insn::Null { dest: r, count: 1 });
        }
        let level = self.levels.len() - 1;
        let distinct_curs: Vec<Option<Cur>> = aggs
            .iter()
            .map(|a| {
                if a.distinct && !a.ob_unique {
                    Some(self.b.alloc_cursor())
                } else {
                    None
                }
            })
            .collect();
        // Ordered calls: each gets a sorter, opened here (and re-opened after each group).
        let ob_curs: Vec<Option<Cur>> = aggs
            .iter()
            .map(|a| {
                if a.order.is_empty() {
                    None
                } else {
                    Some(self.b.alloc_cursor())
                }
            })
            .collect();
        for (a, c) in aggs.iter().zip(&ob_curs) {
            if let Some(c) = c {
                self.open_agg_sorter(*c, &a.order, a.ob_unique, a.args.len());
            }
        }

        match group_by {
            None => {
                self.emit(Insn::Null {
                    dest: accs,
                    count: aggs.len().max(1),
                });
                let bare_regs = self.regs(bare.len().max(1));
                self.emit(Insn::Null {
                    dest: bare_regs,
                    count: bare.len().max(1),
                });
                for (a, d) in aggs.iter().zip(&distinct_curs) {
                    if let Some(c) = d {
                        self.emit(Insn::OpenEphemeral {
                            cursor: *c,
                            kind: EphemeralKind::Index {
                                key_info: Arc::new(KeyInfo {
                                    fields: vec![(a.collation, SortOrder::Asc)],
                                    ..Default::default()
                                }),
                            },
                        });
                    }
                }
                let aggs_ref = &aggs;
                let bare_ref = &bare;
                let dref = &distinct_curs;
                let obref = &ob_curs;
                self.emit_loops(specs, terms, &mut |c, _cont| {
                    for (i, a) in aggs_ref.iter().enumerate() {
                        let n = a.args.len();
                        let skip = c.label();
                        if let Some(f) = a.filter {
                            c.filtered_minmax_skips(skip_reg.filter(|_| minmax == Some(i)));
                            c.jump_if_not_true(f, skip)?;
                        }
                        if let Some(ob) = obref[i] {
                            // Deferred: (keys, arguments) into the call's sorter.
                            let w = a.ob_width();
                            let block = c.regs(w + n);
                            for (k, (e, _, _)) in a.order.iter().enumerate() {
                                c.expr(e, block + k)?;
                            }
                            c.stored_agg_args(a, block + w)?;
                            if let Some(d) = dref[i] {
                                c.distinct_check(d, block + w, 1, skip);
                            }
                            if a.ob_unique {
                                c.emit(Insn::Sequence {
                                    cursor: ob,
                                    dest: block + a.order.len(),
                                });
                            }
                            c.agg_sorter_insert(ob, block, w + n);
                            c.resolve(skip);
                            continue;
                        }
                        let args = c.regs(n.max(1));
                        let subtypes = if a.kind.is_json() {
                            crate::expr::subtype_args(&a.args)
                        } else {
                            Vec::new()
                        };
                        for (k, e) in a.args.iter().enumerate() {
                            c.subtype_preclear(e, args + k, &subtypes, k);
                            c.expr(e, args + k)?;
                        }
                        if let Some(d) = dref[i] {
                            c.distinct_check(d, args, 1, skip);
                        }
                        c.emit(Insn::AggStep {
                            kind: a.kind,
                            args_start: args,
                            nargs: n,
                            acc_reg: accs + i,
                            collation: a.collation,
                            skip_reg: skip_reg.filter(|_| minmax == Some(i)),
                            subtype_args: subtypes,
                        });
                        c.resolve(skip);
                    }
                    let bare_done = c.label();
                    if let Some(r) = skip_reg {
                        c.emit(Insn::If {
                            reg: r,
                            target: bare_done.addr(),
                            jump_if_null: false,
                        });
                    }
                    for (i, r) in bare_ref.iter().enumerate() {
                        c.emit_column(*r, bare_regs + i);
                    }
                    c.resolve(bare_done);
                    Ok(())
                })?;
                self.ordered_steps_all(&aggs, &ob_curs, accs, false);
                for (i, a) in aggs.iter().enumerate() {
                    self.emit(Insn::AggFinal {
                        kind: a.kind,
                        acc_reg: accs + i,
                        collation: a.collation,
                    });
                }
                let mut map = AggMap::default();
                for (i, a) in aggs.iter().enumerate() {
                    map.exprs.push((a.key.clone(), accs + i));
                }
                for (i, r) in bare.iter().enumerate() {
                    map.columns.insert((r.source, r.column), bare_regs + i);
                }
                self.levels[level].agg = Some(map);
                let end = self.label();
                let r = (|| {
                    if let Some(h) = having {
                        self.jump_if_not_true(h, end)?;
                    }
                    self.emit_result_row(items, output, end)
                })();
                self.levels[level].agg = None;
                r?;
                self.resolve(end);
            }
            Some(group_by) => {
                // Resolve GROUP BY terms: result column numbers and aliases.
                let mut groups: Vec<GroupTerm<'a>> = Vec::new();
                for g in group_by {
                    if let Expr::Literal(ast::Literal::Numeric(s)) = g {
                        if let Ok(k) = s.parse::<i64>() {
                            if k < 1 || k as usize > items.len() {
                                return Err(error(format!(
                                    "{} GROUP BY term out of range - should be between 1 and {}",
                                    ordinal(groups.len() + 1),
                                    items.len()
                                )));
                            }
                            match &items[k as usize - 1].0 {
                                Item::Expr(e) => groups.push(GroupTerm::Expr(e)),
                                Item::Col(c) => groups.push(GroupTerm::Col(*c)),
                            }
                            continue;
                        }
                    }
                    if let Expr::Id(id) = g {
                        if self.resolve_column(None, id.0)?.is_none() {
                            let n = names::unquote(id.0);
                            if let Some((Item::Expr(e), _)) = items.iter().find(|(it, name)| {
                                matches!(it, Item::Expr(_)) && names::eq(name, &n)
                            }) {
                                groups.push(GroupTerm::Expr(e));
                                continue;
                            }
                        }
                    }
                    if crate::select::contains_aggregate(g) {
                        return Err(error(
                            "aggregate functions are not allowed in the GROUP BY clause",
                        ));
                    }
                    groups.push(GroupTerm::Expr(g));
                }
                let ng = groups.len();
                let nargs: usize = aggs.iter().map(|a| a.slots()).sum();
                let nb = bare.len();
                let total = ng + nargs + nb;
                let mut key_fields = Vec::new();
                for g in &groups {
                    let coll = match g {
                        GroupTerm::Expr(e) => self
                            .expr_collation(e)?
                            .map(|c| c.collation)
                            .unwrap_or_default(),
                        GroupTerm::Col(c) => {
                            if c.column == usize::MAX {
                                Collation::Binary
                            } else {
                                self.levels[c.level].sources[c.source].columns[c.column].collation
                            }
                        }
                    };
                    key_fields.push((coll, SortOrder::Asc));
                }
                let key_info = Arc::new(KeyInfo {
                    fields: key_fields,
                    ..Default::default()
                });
                // Rows already in group order (an index on the GROUP BY columns) are
                // grouped as they stream; otherwise they are sorted first.
                let streamed = self.group_order_plan(specs, terms, &mut groups, &key_info)?;
                for (a, d) in aggs.iter().zip(&distinct_curs) {
                    if let Some(c) = d {
                        let mut fields = key_info.fields.clone();
                        fields.push((a.collation, SortOrder::Asc));
                        self.emit(Insn::OpenEphemeral {
                            cursor: *c,
                            kind: EphemeralKind::Index {
                                key_info: Arc::new(KeyInfo {
                                    fields,
                                    ..Default::default()
                                }),
                            },
                        });
                    }
                }
                let prev = self.regs(ng);
                let has_prev = self.reg();
                let ret = self.reg();
                let bare_regs = self.regs(nb.max(1));
                self.emit(Insn::Integer {
                    value: 0,
                    dest: has_prev,
                });
                self.emit(Insn::Null {
                    dest: accs,
                    count: aggs.len().max(1),
                });
                let after = self.label();
                let output_sub = self.label();
                let st = GroupStep {
                    skip_reg,
                    minmax,
                    ng,
                    accs,
                    prev,
                    has_prev,
                    ret,
                    bare_regs,
                    nb,
                    output_sub,
                    ob_curs: ob_curs.clone(),
                };
                if let Some(plan) = streamed {
                    self.order_hint = Some(plan);
                    let groups_ref = &groups;
                    let aggs_ref = &aggs;
                    let bare_ref = &bare;
                    let dref = &distinct_curs;
                    let ki = key_info.clone();
                    self.emit_loops(specs, terms, &mut |c, _cont| {
                        let block = c.group_block(groups_ref, aggs_ref, bare_ref, total)?;
                        c.group_step(&st, block, aggs_ref, dref, &ki);
                        Ok(())
                    })?;
                    self.emit(Insn::IfNot {
                        reg: has_prev,
                        target: after.addr(),
                        jump_if_null: false,
                    });
                } else {
                    let sorter = self.b.alloc_cursor();
                    self.emit(Insn::SorterOpen {
                        cursor: sorter,
                        key_info: key_info.clone(),
                        num_columns: total,
                    });
                    {
                        let groups_ref = &groups;
                        let aggs_ref = &aggs;
                        let bare_ref = &bare;
                        self.emit_loops(specs, terms, &mut |c, _cont| {
                            let block = c.group_block(groups_ref, aggs_ref, bare_ref, total)?;
                            let rec = c.reg();
                            c.emit(Insn::MakeRecord {
                                start: block,
                                count: total,
                                dest: rec,
                                affinities: None,
                            });
                            c.emit(Insn::SorterInsert {
                                cursor: sorter,
                                record_reg: rec,
                            });
                            Ok(())
                        })?;
                    }
                    // Walk the sorted records group by group.
                    let pseudo = self.b.alloc_cursor();
                    let data = self.reg();
                    self.emit(Insn::OpenPseudo {
                        cursor: pseudo,
                        content_reg: data,
                        num_columns: total,
                    });
                    let top = self.label();
                    self.emit(Insn::SorterSort {
                        cursor: sorter,
                        target_if_empty: after.addr(),
                    });
                    self.resolve(top);
                    self.emit(Insn::SorterData {
                        cursor: sorter,
                        dest: data,
                    });
                    let block = self.regs(total.max(1));
                    for k in 0..total {
                        self.emit(Insn::Column {
                            cursor: pseudo,
                            column: k,
                            dest: block + k,
                            default: None,
                        });
                    }
                    self.group_step(&st, block, &aggs, &distinct_curs, &key_info);
                    self.emit(Insn::SorterNext {
                        cursor: sorter,
                        target_if_more: top.addr(),
                    });
                }
                self.emit(Insn::Gosub {
                    return_reg: ret,
                    target: output_sub.addr(),
                });
                self.goto(after);
                // The output subroutine for the group just finished.
                self.resolve(output_sub);
                self.ordered_steps_all(&aggs, &ob_curs, accs, true);
                for (i, a) in aggs.iter().enumerate() {
                    self.emit(Insn::AggFinal {
                        kind: a.kind,
                        acc_reg: accs + i,
                        collation: a.collation,
                    });
                }
                let mut map = AggMap::default();
                for (i, a) in aggs.iter().enumerate() {
                    map.exprs.push((a.key.clone(), accs + i));
                }
                let mut columns: HashMap<(usize, usize), Reg> = HashMap::new();
                for (i, r) in bare.iter().enumerate() {
                    columns.insert((r.source, r.column), bare_regs + i);
                }
                for (k, g) in groups.iter().enumerate() {
                    match g {
                        GroupTerm::Expr(e) => {
                            map.exprs.push((format!("{e:?}"), prev + k));
                            if let Expr::Id(_) | Expr::Qualified(..) = e {
                                if let Some(r) = self.plain_column(e)? {
                                    columns.insert((r.source, r.column), prev + k);
                                }
                            }
                        }
                        GroupTerm::Col(r) => {
                            columns.insert((r.source, r.column), prev + k);
                        }
                    }
                }
                map.columns = columns;
                self.levels[level].agg = Some(map);
                let ret_label = self.label();
                let r = (|| {
                    if let Some(h) = having {
                        self.jump_if_not_true(h, ret_label)?;
                    }
                    self.emit_result_row(items, output, ret_label)
                })();
                self.levels[level].agg = None;
                r?;
                self.resolve(ret_label);
                self.emit(Insn::Return { return_reg: ret });
                self.resolve(after);
            }
        }
        Ok(())
    }

    /// Before the FILTER of the min/max call that decides bare columns: a row the filter
    /// rejects does not provide them (SQLite), so the skip flag is set first and only the
    /// step, if reached, clears it.
    fn filtered_minmax_skips(&mut self, skip_reg: Option<Reg>) {
        if let Some(r) = skip_reg {
            self.emit(Insn::Integer { value: 1, dest: r });
        }
    }

    /// One row's (group keys, aggregate arguments, bare columns) into a register block.
    fn group_block<'a>(
        &mut self,
        groups: &[GroupTerm<'a>],
        aggs: &[AggCall<'a>],
        bare: &[ColumnRef],
        total: usize,
    ) -> Result<Reg> {
        let ng = groups.len();
        let regs = self.regs(total.max(1));
        for (k, g) in groups.iter().enumerate() {
            match g {
                GroupTerm::Expr(e) => self.expr(e, regs + k)?,
                GroupTerm::Col(r) => self.emit_column(*r, regs + k),
            }
        }
        let mut off = ng;
        for a in aggs {
            // Layout per call: arguments, then the filter's value, then the ORDER BY
            // keys. Arguments and keys of a row the filter rejects are not evaluated
            // (their slots are ignored by group_step).
            let filter_slot = regs + off + a.args.len();
            let skip = self.label();
            if let Some(f) = a.filter {
                self.expr(f, filter_slot)?;
                self.emit(Insn::IfNot {
                    reg: filter_slot,
                    target: skip.addr(),
                    jump_if_null: true,
                });
            }
            self.stored_agg_args(a, regs + off)?;
            off += a.args.len() + usize::from(a.filter.is_some());
            for (e, _, _) in &a.order {
                self.expr(e, regs + off)?;
                off += 1;
            }
            self.resolve(skip);
        }
        for r in bare {
            self.emit_column(*r, regs + off);
            off += 1;
        }
        Ok(regs)
    }

    /// Computes the arguments of `a` into registers from `dest` as they are stored in a
    /// sorter record. A JSON aggregate's argument carrying the JSON subtype is stored as
    /// its JSONB (which renders back to the same text): the subtype flag does not survive
    /// the sorter, a blob does. (SQLite sorts the columns a call reads and calls it
    /// afterwards; a column itself, json_each's `value`, keeps its subtype there only
    /// when SQLite needs no sorter: here it always does.)
    fn stored_agg_args(&mut self, a: &AggCall<'_>, dest: Reg) -> Result<()> {
        let subtypes = if a.kind.is_json() {
            crate::expr::subtype_args(&a.args)
        } else {
            Vec::new()
        };
        for (k, e) in a.args.iter().enumerate() {
            self.subtype_preclear(e, dest + k, &subtypes, k);
            self.expr(e, dest + k)?;
            if let Some(&(_, always)) = subtypes.iter().find(|&&(i, _)| i == k) {
                self.emit(Insn::Function {
                    func: strata_vdbe::json::f_subtype_as_jsonb,
                    name: "json.subtype_as_jsonb".into(),
                    args_start: dest + k,
                    nargs: 1,
                    dest: dest + k,
                    collation: Collation::Binary,
                    subtype_args: vec![(0, always)],
                    pure: None,
                });
            }
        }
        Ok(())
    }

    /// At the end of a group (before the finals): the deferred steps of every ordered
    /// call, in its ORDER BY order; with `reopen`, each sorter is then emptied for the
    /// next group.
    fn ordered_steps_all(
        &mut self,
        aggs: &[AggCall<'_>],
        ob_curs: &[Option<Cur>],
        accs: Reg,
        reopen: bool,
    ) {
        for (i, (a, c)) in aggs.iter().zip(ob_curs).enumerate() {
            if let Some(c) = c {
                let unique = a.ob_unique.then(|| (a.order[0].1, a.order[0].2));
                self.ordered_agg_steps(
                    *c,
                    a.ob_width(),
                    a.args.len(),
                    (a.kind, accs + i, a.collation),
                    unique,
                );
                if reopen {
                    self.open_agg_sorter(*c, &a.order, a.ob_unique, a.args.len());
                }
            }
        }
    }

    /// Feeds one row (a register block in group order) to the grouping state machine:
    /// a new key first outputs the finished group (`Gosub`) and resets the accumulators.
    fn group_step(
        &mut self,
        st: &GroupStep,
        block: Reg,
        aggs: &[AggCall<'_>],
        distinct_curs: &[Option<Cur>],
        key_info: &Arc<KeyInfo>,
    ) {
        let ng = st.ng;
        let newg = self.label();
        let first = self.label();
        let same = self.label();
        self.emit(Insn::IfNot {
            reg: st.has_prev,
            target: first.addr(),
            jump_if_null: false,
        });
        self.emit(Insn::CompareRecords {
            lhs: block,
            rhs: st.prev,
            count: ng,
            key_info: key_info.clone(),
        });
        self.emit(Insn::Jump {
            lt: newg.addr(),
            eq: same.addr(),
            gt: newg.addr(),
        });
        self.resolve(newg);
        self.emit(Insn::Gosub {
            return_reg: st.ret,
            target: st.output_sub.addr(),
        });
        self.emit(Insn::Null {
            dest: st.accs,
            count: aggs.len().max(1),
        });
        self.resolve(first);
        self.emit(Insn::Integer {
            value: 1,
            dest: st.has_prev,
        });
        self.emit(Insn::Copy {
            src: block,
            dest: st.prev,
            count: ng,
        });
        self.resolve(same);
        let mut off = ng;
        for (i, a) in aggs.iter().enumerate() {
            let n = a.args.len();
            let skip = self.label();
            if a.filter.is_some() {
                self.filtered_minmax_skips(st.skip_reg.filter(|_| st.minmax == Some(i)));
                self.emit(Insn::IfNot {
                    reg: block + off + n,
                    target: skip.addr(),
                    jump_if_null: true,
                });
            }
            // Distinct checks key on (group, value) so sets need no reset.
            let args = self.regs(ng + n.max(1));
            self.emit(Insn::Copy {
                src: block,
                dest: args,
                count: ng,
            });
            if n > 0 {
                self.emit(Insn::Copy {
                    src: block + off,
                    dest: args + ng,
                    count: n,
                });
            }
            let keys_at = block + off + n + usize::from(a.filter.is_some());
            off += a.slots();
            if let Some(d) = distinct_curs[i] {
                self.distinct_check(d, args, ng + 1, skip);
            }
            if let Some(ob) = st.ob_curs[i] {
                // Deferred: (keys, arguments) into the call's sorter, stepped in order
                // when the group ends.
                let nk = a.order.len();
                let w = a.ob_width();
                let rec = self.regs(w + n);
                self.emit(Insn::Copy {
                    src: keys_at,
                    dest: rec,
                    count: nk,
                });
                if a.ob_unique {
                    self.emit(Insn::Sequence {
                        cursor: ob,
                        dest: rec + nk,
                    });
                }
                self.emit(Insn::Copy {
                    src: args + ng,
                    dest: rec + w,
                    count: n,
                });
                self.agg_sorter_insert(ob, rec, w + n);
                self.resolve(skip);
                continue;
            }
            self.emit(Insn::AggStep {
                kind: a.kind,
                args_start: args + ng,
                nargs: n,
                acc_reg: st.accs + i,
                collation: a.collation,
                skip_reg: st.skip_reg.filter(|_| st.minmax == Some(i)),
                // Arguments with the JSON subtype were stored as JSONB (see group_block).
                subtype_args: Vec::new(),
            });
            self.resolve(skip);
        }
        if st.nb > 0 {
            let bare_done = self.label();
            if let Some(r) = st.skip_reg {
                self.emit(Insn::If {
                    reg: r,
                    target: bare_done.addr(),
                    jump_if_null: false,
                });
            }
            self.emit(Insn::Copy {
                src: block + off,
                dest: st.bare_regs,
                count: st.nb,
            });
            self.resolve(bare_done);
        }
    }

    /// Whether an index yields the rows in GROUP BY order (the terms may be reordered:
    /// grouping does not depend on their order).
    fn group_order_plan(
        &mut self,
        specs: &[crate::planner::LoopSpec<'_>],
        terms: &[crate::planner::Term<'_>],
        groups: &mut Vec<GroupTerm<'_>>,
        key_info: &Arc<KeyInfo>,
    ) -> Result<Option<crate::planner::OrderPlan>> {
        if specs.len() != 1 || groups.is_empty() || groups.len() > 4 {
            return Ok(None);
        }
        let level = self.levels.len() - 1;
        let mut cols = Vec::new();
        for (k, g) in groups.iter().enumerate() {
            let r = match g {
                GroupTerm::Col(r) => Some(*r),
                GroupTerm::Expr(e) => self.plain_column(e)?,
            };
            let Some(r) = r.filter(|r| r.level == level) else {
                return Ok(None);
            };
            let col = if r.column == usize::MAX
                || self.levels[level].sources[r.source].columns[r.column].is_rowid_alias
            {
                usize::MAX
            } else {
                r.column
            };
            cols.push((col, key_info.fields[k].0, SortOrder::Asc));
        }
        // Try the terms in every order (at most 4! = 24).
        let n = cols.len();
        let mut perm: Vec<usize> = (0..n).collect();
        loop {
            let keys: Vec<_> = perm.iter().map(|&i| cols[i]).collect();
            if let Some(plan) = self.order_plan(specs, terms, &keys)? {
                if perm.iter().enumerate().any(|(i, &p)| i != p) {
                    let old: Vec<GroupTerm<'_>> = std::mem::take(groups);
                    let mut slots: Vec<Option<GroupTerm<'_>>> = old.into_iter().map(Some).collect();
                    for &p in &perm {
                        groups.push(slots[p].take().expect("a permutation"));
                    }
                    // Key collations follow the reordered terms; callers built key_info
                    // from the old order, so only reorder when collations agree.
                    let same_colls = perm
                        .iter()
                        .enumerate()
                        .all(|(i, &p)| key_info.fields[i].0 == key_info.fields[p].0);
                    if !same_colls {
                        let back: Vec<GroupTerm<'_>> = std::mem::take(groups);
                        let mut slots: Vec<Option<GroupTerm<'_>>> =
                            back.into_iter().map(Some).collect();
                        let mut restored: Vec<Option<GroupTerm<'_>>> =
                            (0..n).map(|_| None).collect();
                        for (i, &p) in perm.iter().enumerate() {
                            restored[p] = slots[i].take();
                        }
                        groups.extend(restored.into_iter().map(|g| g.expect("restored")));
                        return Ok(None);
                    }
                }
                return Ok(Some(plan));
            }
            if !next_permutation(&mut perm) {
                return Ok(None);
            }
        }
    }

    fn plain_column(&mut self, e: &Expr<'_>) -> Result<Option<ColumnRef>> {
        let level = self.levels.len() - 1;
        let r = match e {
            Expr::Id(id) => self.resolve_column(None, id.0)?,
            Expr::Qualified(t, c) => self.resolve_column(Some(t.0), c.0)?,
            _ => None,
        };
        Ok(r.filter(|r| r.level == level))
    }

    /// Jumps to `skip` if the key is already in ephemeral index `cur`, else adds it.
    fn distinct_check(&mut self, cur: Cur, start: Reg, count: usize, skip: crate::builder::Label) {
        self.emit(Insn::Found {
            cursor: cur,
            key_start: start,
            key_count: count,
            target: skip.addr(),
        });
        let rec = self.reg();
        self.emit(Insn::MakeRecord {
            start,
            count,
            dest: rec,
            affinities: None,
        });
        self.emit(Insn::IdxInsertAsync {
            cursor: cur,
            record_reg: rec,
        });
        self.emit(Insn::IdxInsertAwait { cursor: cur });
    }
}

/// Registers of the GROUP BY state machine.
struct GroupStep {
    /// See `aggregate_select`: set by the last min/max call (index `minmax`), tested
    /// before bare columns are taken from a row.
    skip_reg: Option<Reg>,
    minmax: Option<usize>,
    ng: usize,
    accs: Reg,
    prev: Reg,
    has_prev: Reg,
    ret: Reg,
    bare_regs: Reg,
    nb: usize,
    output_sub: crate::builder::Label,
    /// Each call's ORDER BY sorter (see `aggregate_order`), if it has one.
    ob_curs: Vec<Option<Cur>>,
}

fn next_permutation(p: &mut [usize]) -> bool {
    let n = p.len();
    if n < 2 {
        return false;
    }
    let mut i = n - 1;
    while i > 0 && p[i - 1] >= p[i] {
        i -= 1;
    }
    if i == 0 {
        return false;
    }
    let mut j = n - 1;
    while p[j] <= p[i - 1] {
        j -= 1;
    }
    p.swap(i - 1, j);
    p[i..].reverse();
    true
}
