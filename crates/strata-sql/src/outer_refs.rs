//! Column references inside the subqueries of an expression that those subqueries'
//! own FROM clauses do not supply, as SQLite's `sqlite3ReferencesSrcList` sees them
//! when it decides which query an aggregate belongs to (its walk enters subqueries and
//! excludes their own tables). A name a FROM source might supply (a table with that
//! column, or a source whose columns are not known here: a subquery, a view, a CTE, a
//! table-valued function) counts as the subquery's own.

use sqlite3_parser::ast::{self, Expr, FromClause, OneSelect, Select, SelectTable};

use crate::compiler::Scope;
use crate::expr::{walk, RefName};
use crate::names;
use crate::schema::Schema;

/// What a subquery's FROM clause supplies.
struct Sources {
    /// Table names and aliases.
    names: Vec<String>,
    /// Columns of its plain tables.
    columns: Vec<String>,
    /// A source whose columns are not known (every unqualified name may be its own).
    opaque: bool,
}

impl Sources {
    fn own(&self, r: &RefName) -> bool {
        match &r.1 {
            Some(t) => self.names.iter().any(|n| names::eq(n, &names::unquote(t))),
            None => {
                self.opaque
                    || self
                        .columns
                        .iter()
                        .any(|c| names::eq(c, &names::unquote(&r.2)))
            }
        }
    }
}

/// Appends to `out` the references inside subqueries of `e` (not `e`'s own direct
/// references) that no enclosing subquery within `e` supplies.
pub(crate) fn subquery_refs(schema: &Schema, e: &Expr<'_>, out: &mut Vec<RefName>) {
    let mut stack = Vec::new();
    expr_subqueries(schema, e, &mut stack, out);
}

fn expr_subqueries<'a>(
    schema: &Schema,
    e: &'a Expr<'a>,
    stack: &mut Vec<Sources>,
    out: &mut Vec<RefName>,
) {
    walk(e, &mut |x| {
        match x {
            Expr::Subquery(sel) | Expr::Exists(sel) => select_refs(schema, sel, stack, out),
            Expr::InSelect { rhs, .. } => select_refs(schema, rhs, stack, out),
            _ => {}
        }
        true
    });
}

/// The direct references of `e` (not inside its subqueries) that `stack` does not
/// supply, then those of its subqueries.
fn expr_refs<'a>(
    schema: &Schema,
    e: &'a Expr<'a>,
    stack: &mut Vec<Sources>,
    out: &mut Vec<RefName>,
) {
    let mut direct = Vec::new();
    let mut has_subquery = false;
    crate::expr::walk_refs(e, &mut direct, &mut has_subquery);
    out.extend(
        direct
            .into_iter()
            .filter(|r| !stack.iter().any(|s| s.own(r))),
    );
    if has_subquery {
        expr_subqueries(schema, e, stack, out);
    }
}

fn select_refs<'a>(
    schema: &Schema,
    sel: &'a Select<'a>,
    stack: &mut Vec<Sources>,
    out: &mut Vec<RefName>,
) {
    let cores = std::iter::once(&sel.body.select).chain(
        sel.body
            .compounds
            .iter()
            .flat_map(|c| c.iter().map(|c| &c.select)),
    );
    for core in cores {
        let OneSelect::Select {
            columns,
            from,
            where_clause,
            group_by,
            having,
            ..
        } = core
        else {
            if let OneSelect::Values(rows) = core {
                for e in rows.iter().flat_map(|r| r.iter()) {
                    expr_refs(schema, e, stack, out);
                }
            }
            continue;
        };
        let mut own = Sources {
            names: Vec::new(),
            columns: Vec::new(),
            // A WITH clause may name any source.
            opaque: sel.with.is_some(),
        };
        let mut exprs: Vec<&'a Expr<'a>> = Vec::new();
        if let Some(f) = from {
            from_sources(schema, f, &mut own, &mut exprs, stack, out);
        }
        stack.push(own);
        for c in columns.iter() {
            if let ast::ResultColumn::Expr(e, ..) = c {
                exprs.push(e);
            }
        }
        exprs.extend(*where_clause);
        exprs.extend(group_by.iter().flat_map(|g| g.iter()));
        exprs.extend(*having);
        for e in exprs {
            expr_refs(schema, e, stack, out);
        }
        stack.pop();
    }
    for t in sel.order_by.unwrap_or(&[]) {
        expr_refs(schema, &t.expr, stack, out);
    }
}

fn from_sources<'a>(
    schema: &Schema,
    f: &'a FromClause<'a>,
    own: &mut Sources,
    on: &mut Vec<&'a Expr<'a>>,
    stack: &mut Vec<Sources>,
    out: &mut Vec<RefName>,
) {
    let tables = f
        .select
        .into_iter()
        .chain(f.joins.iter().flat_map(|j| j.iter().map(|j| &j.table)));
    for t in tables {
        let alias = |a: &Option<ast::As<'_>>| match a {
            Some(ast::As::As(n) | ast::As::Elided(n)) => Some(names::unquote(n.0)),
            None => None,
        };
        match t {
            SelectTable::Table(q, a, _) => {
                let name = names::unquote(q.name.0);
                own.names.push(alias(a).unwrap_or_else(|| name.clone()));
                match Scope::Any.table(schema, &name) {
                    Some(tab) => own
                        .columns
                        .extend(tab.columns.iter().map(|c| c.name.clone())),
                    None => own.opaque = true,
                }
            }
            SelectTable::TableCall(q, args, a) => {
                own.names
                    .push(alias(a).unwrap_or_else(|| names::unquote(q.name.0)));
                own.opaque = true;
                for e in args.unwrap_or(&[]) {
                    expr_refs(schema, e, stack, out);
                }
            }
            SelectTable::Select(sub, a) => {
                own.names.extend(alias(a));
                own.opaque = true;
                select_refs(schema, sub, stack, out);
            }
            SelectTable::Sub(inner, a) => {
                own.names.extend(alias(a));
                own.opaque = true;
                from_sources(schema, inner, own, on, stack, out);
            }
        }
    }
    for j in f.joins.iter().flat_map(|j| j.iter()) {
        if let Some(ast::JoinConstraint::On(e)) = &j.constraint {
            on.push(e);
        }
    }
}
