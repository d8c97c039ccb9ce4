//! Walking expression trees: sub-expressions, aggregate calls, column references.

use sqlite3_parser::ast::{self, Expr};
use strata_vdbe::aggregate::lookup_aggregate;

use crate::expr::RefName;
use crate::names;

pub fn is_aggregate_call(e: &Expr<'_>) -> bool {
    match e {
        // A window call (OVER) is not an aggregate of this query (see `window`).
        Expr::FunctionCall {
            filter_over:
                Some(ast::FunctionTail {
                    over_clause: Some(_),
                    ..
                }),
            ..
        }
        | Expr::FunctionCallStar {
            filter_over:
                Some(ast::FunctionTail {
                    over_clause: Some(_),
                    ..
                }),
            ..
        } => false,
        Expr::FunctionCall { name, args, .. } => {
            let n = args.map(|a| a.len()).unwrap_or(0);
            let fname = names::unquote(name.0);
            lookup_aggregate(&fname, n).is_some()
                && !(n >= 2 && matches!(fname.to_ascii_lowercase().as_str(), "min" | "max"))
        }
        Expr::FunctionCallStar { name, .. } => names::eq(&names::unquote(name.0), "count"),
        _ => false,
    }
}

/// Calls `f` on every sub-expression of `e` (pre-order), not descending into subqueries.
pub fn walk<'a>(e: &'a Expr<'a>, f: &mut dyn FnMut(&'a Expr<'a>) -> bool) {
    if !f(e) {
        return;
    }
    match e {
        Expr::Between {
            lhs, start, end, ..
        } => {
            walk(lhs, f);
            walk(start, f);
            walk(end, f);
        }
        Expr::Binary(l, _, r) => {
            walk(l, f);
            walk(r, f);
        }
        Expr::Case {
            base,
            when_then_pairs,
            else_expr,
        } => {
            if let Some(b) = base {
                walk(b, f);
            }
            for (w, t) in when_then_pairs.iter() {
                walk(w, f);
                walk(t, f);
            }
            if let Some(e) = else_expr {
                walk(e, f);
            }
        }
        Expr::Cast { expr, .. } => walk(expr, f),
        Expr::Collate(e, _) => walk(e, f),
        Expr::FunctionCall {
            args,
            filter_over,
            order_by,
            ..
        } => {
            for a in args.iter().flat_map(|a| a.iter()) {
                walk(a, f);
            }
            // So does an aggregate's ORDER BY.
            #[allow(irrefutable_let_patterns)]
            if let Some(ast::FunctionCallOrder::SortList(terms)) = order_by {
                for t in terms.iter() {
                    walk(&t.expr, f);
                }
            }
            // An aggregate's FILTER reads columns too (covering-index and correlation
            // analyses must see them).
            if let Some(w) = filter_over.as_ref().and_then(|t| t.filter_clause) {
                walk(w, f);
            }
        }
        Expr::FunctionCallStar { filter_over, .. } => {
            if let Some(w) = filter_over.as_ref().and_then(|t| t.filter_clause) {
                walk(w, f);
            }
        }
        Expr::InList { lhs, rhs, .. } => {
            walk(lhs, f);
            for a in rhs.iter().flat_map(|a| a.iter()) {
                walk(a, f);
            }
        }
        Expr::InSelect { lhs, .. } | Expr::InTable { lhs, .. } => walk(lhs, f),
        Expr::IsNull(e) | Expr::NotNull(e) | Expr::Unary(_, e) => walk(e, f),
        Expr::Like {
            lhs, rhs, escape, ..
        } => {
            walk(lhs, f);
            walk(rhs, f);
            if let Some(e) = escape {
                walk(e, f);
            }
        }
        Expr::Parenthesized(v) => {
            for a in v.iter() {
                walk(a, f);
            }
        }
        _ => {}
    }
}

/// Collects column identifiers in `e` (not inside subqueries; notes if there are any).
/// Each reference is (database, table, column) as written.
pub(crate) fn walk_refs(e: &Expr<'_>, out: &mut Vec<RefName>, has_subquery: &mut bool) {
    walk_refs_pruned(e, out, has_subquery, &|_| false);
}

/// [`walk_refs`], not looking into the sub-expressions `skip` accepts (aggregate calls,
/// for the columns outside them).
pub(crate) fn walk_refs_pruned(
    e: &Expr<'_>,
    out: &mut Vec<RefName>,
    has_subquery: &mut bool,
    skip: &dyn Fn(&Expr<'_>) -> bool,
) {
    walk(e, &mut |x| {
        if skip(x) {
            return false;
        }
        match x {
            Expr::Id(id) => out.push((None, None, id.0.to_string())),
            Expr::Name(n) => out.push((None, None, n.0.to_string())),
            Expr::Qualified(t, c) => out.push((None, Some(t.0.to_string()), c.0.to_string())),
            Expr::DoublyQualified(d, t, c) => out.push((
                Some(d.0.to_string()),
                Some(t.0.to_string()),
                c.0.to_string(),
            )),
            Expr::Exists(_) | Expr::Subquery(_) | Expr::InSelect { .. } => *has_subquery = true,
            _ => {}
        }
        true
    });
}
