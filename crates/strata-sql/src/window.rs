//! Window functions (`f(...) OVER (...)`): resolution and code generation.
//!
//! A SELECT with window functions runs in two phases, as SQLite's rewrite into a
//! subquery does:
//! 1. The FROM/WHERE/GROUP BY/HAVING part runs as usual, but each (grouped) row yields
//!    only the *inputs*: the largest sub-expressions of the result columns and ORDER BY
//!    terms that contain no window function, and every argument, FILTER, PARTITION BY and
//!    ORDER BY term and frame offset of the window calls. They are appended to a window
//!    buffer (`WindowAdd`).
//! 2. `WindowCompute` computes every call (`strata_vdbe::window`), then `WindowNext`
//!    returns the rows one by one; the result columns and ORDER BY terms are compiled
//!    with each input and each call read from its register (the aggregate output map),
//!    so DISTINCT, ORDER BY and LIMIT apply to the windowed rows as usual.

use std::sync::Arc;

use sqlite3_parser::ast::{self, Expr, FrameBound as AstBound, SortedColumn, WindowDef};
use strata_btree::record::Collation;
use strata_vdbe::aggregate::{lookup_aggregate, AggKind};
use strata_vdbe::functions::lookup_scalar;
use strata_vdbe::insn::Insn;
use strata_vdbe::window::{
    Exclude, Frame, FrameBound, FrameUnit, WinCall, WinFunc, WindowDef as VmWindow, WindowSpec,
};

use crate::compiler::{error, Compiler, Result};
use crate::expr::walk;
use crate::names;
use crate::planner::{LoopSpec, Term};
use crate::scope::AggMap;
use crate::select::{contains_aggregate, term_order, Item, OrderKey, Output};

/// The OVER clause of a window-function call.
fn over_of<'a>(e: &'a Expr<'a>) -> Option<&'a ast::Over<'a>> {
    match e {
        Expr::FunctionCall { filter_over, .. } | Expr::FunctionCallStar { filter_over, .. } => {
            filter_over.as_ref().and_then(|t| t.over_clause)
        }
        _ => None,
    }
}

pub fn is_window_call(e: &Expr<'_>) -> bool {
    over_of(e).is_some()
}

/// The name of the first window-function call in `e` (not inside subqueries).
pub fn first_window(e: &Expr<'_>) -> Option<String> {
    let mut found = None;
    walk(e, &mut |x| {
        if found.is_some() {
            return false;
        }
        if is_window_call(x) {
            if let Expr::FunctionCall { name, .. } | Expr::FunctionCallStar { name, .. } = x {
                found = Some(names::unquote(name.0));
            }
            return false;
        }
        true
    });
    found
}

pub fn contains_window(e: &Expr<'_>) -> bool {
    first_window(e).is_some()
}

fn misuse(name: &str) -> crate::SqlError {
    error(format!("misuse of window function {name}()"))
}

/// A window definition after named windows and inheritance are resolved.
struct Resolved<'a> {
    partition: Vec<&'a Expr<'a>>,
    order: Vec<&'a SortedColumn<'a>>,
    frame: Option<&'a ast::FrameClause<'a>>,
}

/// The window named `name`: the last definition of that name (SQLite's list is built
/// newest first); its own base may only name a window defined before it, as SQLite's
/// parser resolves it. The parser never resolves the base of the first definition of a
/// WINDOW clause (`sqlite3WindowChain` runs for the later ones only), so that base is
/// ignored, as in SQLite.
fn resolve_named<'a>(name: &str, defs: &'a [WindowDef<'a>]) -> Result<Resolved<'a>> {
    let pos = defs
        .iter()
        .rposition(|d| names::eq(&names::unquote(d.name.0), name))
        .ok_or_else(|| error(format!("no such window: {name}")))?;
    resolve_window(&defs[pos].window, &defs[..pos], pos == 0)
}

fn resolve_window<'a>(
    w: &'a ast::Window<'a>,
    defs: &'a [WindowDef<'a>],
    ignore_base: bool,
) -> Result<Resolved<'a>> {
    let own_order: Vec<&'a SortedColumn<'a>> =
        w.order_by.map(|o| o.iter().collect()).unwrap_or_default();
    let base = if ignore_base { None } else { w.base.as_ref() };
    let Some(base) = base else {
        return Ok(Resolved {
            partition: w
                .partition_by
                .map(|p| p.iter().collect())
                .unwrap_or_default(),
            order: own_order,
            frame: w.frame_clause.as_ref(),
        });
    };
    let bname = names::unquote(base.0);
    let b = resolve_named(&bname, defs)?;
    if w.partition_by.is_some() {
        return Err(error(format!(
            "cannot override PARTITION clause of window: {bname}"
        )));
    }
    if w.order_by.is_some() && !b.order.is_empty() {
        return Err(error(format!(
            "cannot override ORDER BY clause of window: {bname}"
        )));
    }
    if b.frame.is_some() {
        return Err(error(format!(
            "cannot override frame specification of window: {bname}"
        )));
    }
    Ok(Resolved {
        partition: b.partition,
        order: if w.order_by.is_some() {
            own_order
        } else {
            b.order
        },
        frame: w.frame_clause.as_ref(),
    })
}

/// The PARTITION BY and ORDER BY terms of the window `over` names or defines (named
/// windows resolved through `defs`; none when the name does not resolve, which the
/// window plan reports).
pub(crate) fn window_terms<'a>(
    over: &'a ast::Over<'a>,
    defs: &'a [WindowDef<'a>],
) -> Vec<&'a Expr<'a>> {
    let r = match over {
        ast::Over::Name(n) => resolve_named(&names::unquote(n.0), defs),
        ast::Over::Window(w) => resolve_window(w, defs, false),
    };
    match r {
        Ok(r) => r
            .partition
            .into_iter()
            .chain(r.order.into_iter().map(|t| &t.expr))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Whether a frame offset is kept as written: SQLite's parser keeps literals, parameters
/// and operators over them and replaces any other offset (a column, a function call, a
/// subquery) by NULL, which then fails the offset check when a row is read.
fn offset_is_constant(e: &Expr<'_>) -> bool {
    match e {
        Expr::Literal(_) | Expr::Variable(_) => true,
        Expr::Unary(_, x) | Expr::Cast { expr: x, .. } | Expr::Collate(x, _) => {
            offset_is_constant(x)
        }
        Expr::Binary(a, _, b) => offset_is_constant(a) && offset_is_constant(b),
        Expr::Parenthesized(v) => v.iter().all(offset_is_constant),
        _ => false,
    }
}

/// The inputs and calls of one SELECT's window functions.
pub struct WindowPlan<'a> {
    /// Values each input row carries (in order), with their keys for deduplication.
    inputs: Vec<Item<'a>>,
    keys: Vec<String>,
    /// Window calls: (key, result index).
    calls: Vec<(String, usize)>,
    spec: WindowSpec,
    /// Window definitions by their key, parallel to `spec.windows`.
    window_keys: Vec<String>,
}

impl<'a> WindowPlan<'a> {
    /// The expressions and columns phase 1 reads (for the covering-index analysis).
    pub fn needed_inputs(
        &self,
        exprs: &mut Vec<&'a Expr<'a>>,
        cols: &mut Vec<crate::scope::ColumnRef>,
    ) {
        for it in &self.inputs {
            match it {
                Item::Expr(e) => exprs.push(e),
                Item::Col(c) => cols.push(*c),
            }
        }
    }

    fn input(&mut self, it: Item<'a>) -> usize {
        let key = match &it {
            Item::Expr(e) => format!("{e:?}"),
            Item::Col(c) => format!("col {} {} {}", c.level, c.source, c.column),
        };
        if let Some(i) = self.keys.iter().position(|k| *k == key) {
            return i;
        }
        self.keys.push(key);
        self.inputs.push(it);
        self.inputs.len() - 1
    }

    /// Adds the largest sub-expressions of `e` that contain no window call (nor, in an
    /// ORDER BY term, a name in `aliases`: an alias of a windowed result column, which
    /// phase 2 expands).
    fn outer_inputs(&mut self, e: &'a Expr<'a>, aliases: &[String]) -> Result<()> {
        let windowed = |x: &Expr<'_>| {
            let mut found = false;
            walk(x, &mut |y| {
                if is_window_call(y) {
                    found = true;
                }
                if let Expr::Id(id) = y {
                    let n = names::unquote(id.0);
                    if aliases.iter().any(|a| names::eq(a, &n)) {
                        found = true;
                    }
                }
                !found
            });
            found
        };
        let mut found = Vec::new();
        walk(e, &mut |x| {
            if is_window_call(x) {
                return false;
            }
            if !windowed(x) {
                found.push(x);
                return false;
            }
            true
        });
        for x in found {
            self.input(Item::Expr(x));
        }
        Ok(())
    }
}

impl Compiler<'_> {
    /// The window plan of a SELECT whose result columns or ORDER BY use window
    /// functions (None if they do not).
    pub fn window_plan<'a>(
        &mut self,
        items: &[(Item<'a>, String)],
        order_keys: &[(OrderKey<'a>, Collation, strata_btree::collation::SortOrder)],
        defs: Option<&'a [WindowDef<'a>]>,
    ) -> Result<Option<WindowPlan<'a>>> {
        let defs = defs.unwrap_or(&[]);
        // SQLite's parser chains each definition to the earlier ones, used or not.
        for (i, d) in defs.iter().enumerate() {
            resolve_window(&d.window, &defs[..i], i == 0)?;
        }
        let mut outer: Vec<&'a Expr<'a>> = Vec::new();
        for (it, _) in items {
            if let Item::Expr(e) = it {
                outer.push(e);
            }
        }
        for (k, _, _) in order_keys {
            if let OrderKey::Expr(e) = k {
                outer.push(e);
            }
        }
        let mut calls: Vec<&'a Expr<'a>> = Vec::new();
        let mut misused = None;
        for e in &outer {
            walk(e, &mut |x| {
                if is_window_call(x) {
                    calls.push(x);
                    return false;
                }
                if crate::expr::is_aggregate_call(x) && misused.is_none() {
                    // A window call inside a plain aggregate's arguments.
                    misused = first_window(x);
                }
                true
            });
        }
        if let Some(name) = misused {
            return Err(misuse(&name));
        }
        if calls.is_empty() {
            return Ok(None);
        }
        let mut plan = WindowPlan {
            inputs: Vec::new(),
            keys: Vec::new(),
            calls: Vec::new(),
            spec: WindowSpec {
                width: 0,
                windows: Vec::new(),
            },
            window_keys: Vec::new(),
        };
        // Inputs of the rest of the query first (their order does not matter).
        for (it, _) in items {
            match it {
                Item::Expr(e) => plan.outer_inputs(e, &[])?,
                Item::Col(c) => {
                    plan.input(Item::Col(*c));
                }
            }
        }
        // Aliases of windowed result columns that are not column names: ORDER BY terms
        // may use them inside expressions (phase 2 expands them).
        let mut aliases = Vec::new();
        let level = self.levels.len() - 1;
        for (name, _) in self.levels[level].aliases.clone() {
            let windowed = items.iter().any(|(it, n)| {
                names::eq(n, &name) && matches!(it, Item::Expr(e) if contains_window(e))
            });
            if windowed && self.resolve_column(None, &name)?.is_none() {
                aliases.push(name);
            }
        }
        for (k, _, _) in order_keys {
            if let OrderKey::Expr(e) = k {
                plan.outer_inputs(e, &aliases)?;
            }
        }
        let mut pending: Vec<(String, usize, WinCall)> = Vec::new();
        for x in calls {
            let key = format!("{x:?}");
            if pending.iter().any(|(k, _, _)| *k == key) {
                continue;
            }
            let (win, call) = self.window_call(x, defs, &mut plan)?;
            pending.push((key, win, call));
        }
        // Results are laid out window by window, in call order within each.
        let mut next = 0;
        for w in 0..plan.spec.windows.len() {
            for (key, win, call) in &pending {
                if *win == w {
                    plan.spec.windows[w].calls.push(call.clone());
                    plan.calls.push((key.clone(), next));
                    next += 1;
                }
            }
        }
        plan.spec.width = plan.inputs.len();
        Ok(Some(plan))
    }

    /// GROUP BY and HAVING may not name an alias of a windowed result column (SQLite's
    /// "misuse of aliased window function").
    pub fn check_window_aliases<'a>(
        &mut self,
        items: &[(Item<'a>, String)],
        group_by: Option<&'a [Expr<'a>]>,
        having: Option<&'a Expr<'a>>,
    ) -> Result<()> {
        let level = self.levels.len() - 1;
        let aliases: Vec<String> = self.levels[level]
            .aliases
            .iter()
            .map(|(a, _)| a.clone())
            .filter(|a| {
                items.iter().any(|(it, n)| {
                    names::eq(n, a) && matches!(it, Item::Expr(e) if contains_window(e))
                })
            })
            .collect();
        if aliases.is_empty() {
            return Ok(());
        }
        let mut named = Vec::new();
        for e in group_by.unwrap_or(&[]).iter().chain(having) {
            walk(e, &mut |x| {
                if let Expr::Id(id) = x {
                    named.push(id.0);
                }
                true
            });
        }
        for id in named {
            let n = names::unquote(id);
            if aliases.iter().any(|a| names::eq(a, &n)) && self.resolve_column(None, id)?.is_none()
            {
                return Err(error(format!("misuse of aliased window function {n}")));
            }
        }
        Ok(())
    }

    /// Resolves one window call: its function, inputs and window.
    fn window_call<'a>(
        &mut self,
        x: &'a Expr<'a>,
        defs: &'a [WindowDef<'a>],
        plan: &mut WindowPlan<'a>,
    ) -> Result<(usize, WinCall)> {
        let (name, args, distinct, tail, fn_order) = match x {
            Expr::FunctionCall {
                name,
                args,
                distinctness,
                filter_over,
                order_by,
            } => (
                names::unquote(name.0),
                args.map(|a| a.iter().collect::<Vec<_>>())
                    .unwrap_or_default(),
                distinctness.is_some(),
                filter_over.as_ref(),
                order_by.is_some(),
            ),
            Expr::FunctionCallStar { name, filter_over } => {
                let n = names::unquote(name.0);
                if !names::eq(&n, "count") {
                    return Err(error(format!(
                        "wrong number of arguments to function {n}()"
                    )));
                }
                (n, Vec::new(), false, filter_over.as_ref(), false)
            }
            _ => return Err(error("internal error: not a window call")),
        };
        // SQLite's parser refuses (before anything is resolved) ORDER BY in a window call (but drops it, unresolved,
        // when the call has no arguments).
        if fn_order && !args.is_empty() {
            return Err(error(format!(
                "ORDER BY may not be used with non-aggregate {name}()"
            )));
        }
        // Only reached for calls `is_window_call` accepted; an error, never a panic.
        let (tail, over) = tail
            .and_then(|t| Some((t, t.over_clause?)))
            .ok_or_else(|| error("internal error: a window call without OVER"))?;
        for a in &args {
            if let Some(inner) = first_window(a) {
                return Err(misuse(&inner));
            }
        }
        if let Some(f) = tail.filter_clause {
            if let Some(inner) = first_window(f) {
                return Err(misuse(&inner));
            }
        }
        let func = match WinFunc::lookup(&name, args.len()) {
            Ok(Some(f)) => f,
            Err(()) => {
                return Err(error(format!(
                    "wrong number of arguments to function {name}()"
                )))
            }
            Ok(None) => {
                let lower = name.to_ascii_lowercase();
                let agg = if matches!(x, Expr::FunctionCallStar { .. }) {
                    Some(AggKind::CountStar)
                } else if (lower == "min" || lower == "max") && args.len() != 1 {
                    None
                } else {
                    lookup_aggregate(&lower, args.len())
                };
                match agg {
                    Some(k) => WinFunc::Agg(k),
                    None => {
                        if lookup_scalar(&lower, args.len()).is_some()
                            || lookup_aggregate(&lower, 1).is_some()
                        {
                            return Err(error(format!(
                                "{name}() may not be used as a window function"
                            )));
                        }
                        return Err(error(format!("no such function: {name}")));
                    }
                }
            }
        };
        if distinct {
            return Err(error("DISTINCT is not supported for window functions"));
        }
        if tail.filter_clause.is_some() && !matches!(func, WinFunc::Agg(_)) {
            return Err(error(
                "FILTER clause may only be used with aggregate window functions",
            ));
        }
        let r = match over {
            ast::Over::Name(n) => resolve_named(&names::unquote(n.0), defs)?,
            ast::Over::Window(w) => resolve_window(w, defs, false)?,
        };
        // The window definition.
        let mut partition = Vec::new();
        for p in &r.partition {
            if let Some(inner) = first_window(p) {
                return Err(misuse(&inner));
            }
            let coll = self
                .expr_collation(p)?
                .map(|c| c.collation)
                .unwrap_or_default();
            partition.push((plan.input(Item::Expr(p)), coll));
        }
        let mut order = Vec::new();
        for t in &r.order {
            if let Some(inner) = first_window(&t.expr) {
                return Err(misuse(&inner));
            }
            let coll = self
                .expr_collation(&t.expr)?
                .map(|c| c.collation)
                .unwrap_or_default();
            order.push((plan.input(Item::Expr(&t.expr)), coll, term_order(t)));
        }
        let frame = match r.frame {
            None => Frame::DEFAULT,
            Some(fc) => {
                let unit = match fc.mode {
                    ast::FrameMode::Rows => FrameUnit::Rows,
                    ast::FrameMode::Range => FrameUnit::Range,
                    ast::FrameMode::Groups => FrameUnit::Groups,
                };
                let end_ast = fc.end.as_ref();
                let start_kind = bound_rank(&fc.start);
                let end_kind = end_ast.map(bound_rank).unwrap_or(2);
                // windowAlloc: the start may not come after the end in this list.
                if (start_kind == 2 && end_kind == 1)
                    || (start_kind == 3 && (end_kind == 1 || end_kind == 2))
                    || start_kind == 4
                    || end_kind == 0
                {
                    return Err(error("unsupported frame specification"));
                }
                let bound =
                    |b: &'a AstBound<'a>, plan: &mut WindowPlan<'a>| -> Result<FrameBound> {
                        Ok(match b {
                            AstBound::UnboundedPreceding => FrameBound::UnboundedPreceding,
                            AstBound::UnboundedFollowing => FrameBound::UnboundedFollowing,
                            AstBound::CurrentRow => FrameBound::CurrentRow,
                            AstBound::Preceding(e) | AstBound::Following(e) => {
                                let c = if offset_is_constant(e) {
                                    plan.input(Item::Expr(e))
                                } else {
                                    strata_vdbe::window::NULL_OFFSET
                                };
                                if matches!(b, AstBound::Preceding(_)) {
                                    FrameBound::Preceding(c)
                                } else {
                                    FrameBound::Following(c)
                                }
                            }
                        })
                    };
                let start = bound(&fc.start, plan)?;
                let end = match end_ast {
                    Some(b) => bound(b, plan)?,
                    None => FrameBound::CurrentRow,
                };
                let has_offset = |b: FrameBound| {
                    matches!(b, FrameBound::Preceding(_) | FrameBound::Following(_))
                };
                if unit == FrameUnit::Range
                    && (has_offset(start) || has_offset(end))
                    && order.len() != 1
                {
                    return Err(error(
                        "RANGE with offset PRECEDING/FOLLOWING requires one ORDER BY expression",
                    ));
                }
                let exclude = match fc.exclude {
                    None | Some(ast::FrameExclude::NoOthers) => Exclude::NoOthers,
                    Some(ast::FrameExclude::CurrentRow) => Exclude::CurrentRow,
                    Some(ast::FrameExclude::Group) => Exclude::Group,
                    Some(ast::FrameExclude::Ties) => Exclude::Ties,
                };
                Frame {
                    unit,
                    start,
                    end,
                    exclude,
                }
            }
        };
        // The call's own inputs.
        let mut arg_cols = Vec::new();
        for a in &args {
            arg_cols.push(plan.input(Item::Expr(a)));
        }
        let filter = tail.filter_clause.map(|f| plan.input(Item::Expr(f)));
        let collation = match args.first() {
            Some(a) if matches!(func, WinFunc::Agg(_)) => self
                .expr_collation(a)?
                .map(|c| c.collation)
                .unwrap_or_default(),
            _ => Collation::Binary,
        };
        let def = VmWindow {
            partition,
            order,
            frame,
            calls: Vec::new(),
        };
        let wkey = format!("{:?}", (&def.partition, &def.order, &def.frame));
        let win = match plan.window_keys.iter().position(|k| *k == wkey) {
            Some(i) => i,
            None => {
                plan.window_keys.push(wkey);
                plan.spec.windows.push(def);
                plan.spec.windows.len() - 1
            }
        };
        Ok((
            win,
            WinCall {
                func,
                args: arg_cols,
                filter,
                collation,
            },
        ))
    }

    /// Emits both phases of a windowed SELECT (see the module comment); `output`
    /// finishes the result rows as for any SELECT.
    #[allow(clippy::too_many_arguments)]
    pub fn window_body<'a>(
        &mut self,
        plan: WindowPlan<'a>,
        specs: &[LoopSpec<'a>],
        terms: &[Term<'a>],
        items: &[(Item<'a>, String)],
        group_by: Option<&'a [Expr<'a>]>,
        having: Option<&'a Expr<'a>>,
        output: &Output<'a>,
    ) -> Result<()> {
        let level = self.levels.len() - 1;
        let width = plan.spec.width;
        let nres = plan.spec.result_count();
        let cursor = self.b.alloc_cursor();
        self.emit(Insn::WindowOpen {
            cursor,
            spec: Arc::new(plan.spec.clone()),
        });
        let inner_items: Vec<(Item<'a>, String)> = plan
            .inputs
            .iter()
            .map(|it| (it.clone(), String::new()))
            .collect();
        let inner_done = self.label();
        let inner = Output {
            distinct: None,
            order: None,
            limit: None,
            dest: crate::select::Dest::Window { cursor },
            done: inner_done,
        };
        let is_agg = group_by.is_some()
            || having.is_some()
            || inner_items
                .iter()
                .any(|(it, _)| matches!(it, Item::Expr(e) if contains_aggregate(e)));
        if is_agg {
            self.aggregate_select(specs, terms, &inner_items, group_by, having, &inner)?;
        } else {
            self.emit_loops(specs, terms, &mut |c, cont| {
                c.emit_result_row(&inner_items, &inner, cont)
            })?;
        }
        self.resolve(inner_done);
        self.emit(Insn::WindowCompute { cursor });
        // Phase 2: one output row per buffered row.
        let regs = self.regs(width + nres);
        let top = self.label();
        let end = self.label();
        self.resolve(top);
        self.emit(Insn::WindowNext {
            cursor,
            dest: regs,
            target_if_done: end.addr(),
        });
        let mut map = AggMap::default();
        for (i, (it, key)) in plan.inputs.iter().zip(&plan.keys).enumerate() {
            match it {
                Item::Expr(_) => map.exprs.push((key.clone(), regs + i)),
                Item::Col(c) => {
                    map.columns.insert((c.source, c.column), regs + i);
                }
            }
        }
        for (key, r) in &plan.calls {
            map.exprs.push((key.clone(), regs + width + r));
        }
        let saved = self.levels[level].agg.replace(map);
        self.levels[level].window_rows = true;
        let r = self.emit_result_row(items, output, top);
        self.levels[level].window_rows = false;
        self.levels[level].agg = saved;
        r?;
        self.goto(top);
        self.resolve(end);
        Ok(())
    }
}

/// A bound's place in SQLite's list (UNBOUNDED PRECEDING, n PRECEDING, CURRENT ROW,
/// n FOLLOWING, UNBOUNDED FOLLOWING).
fn bound_rank(b: &AstBound<'_>) -> u8 {
    match b {
        AstBound::UnboundedPreceding => 0,
        AstBound::Preceding(_) => 1,
        AstBound::CurrentRow => 2,
        AstBound::Following(_) => 3,
        AstBound::UnboundedFollowing => 4,
    }
}
