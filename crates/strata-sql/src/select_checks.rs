//! Errors SQLite finds in a select that Strata's compilation would not meet on its own:
//! an aggregate where the query cannot compute it (a window's PARTITION BY / ORDER BY
//! included), and `*` over two sources of one name.

use sqlite3_parser::ast::{self, Expr};

use crate::compiler::{error, Compiler, Result};
use crate::expr::{is_aggregate_call, walk};
use crate::names;
use crate::scope::Source;
use crate::select::first_aggregate_name;

impl Compiler<'_> {
    /// `*` or `T.*` over source `si` when another source of this FROM has its name (and
    /// database): SQLite expands the star to `db.name.column` references, and the first
    /// column both have (unless a USING/NATURAL join merged it) is ambiguous. A view
    /// `SELECT * FROM t, t` fails so wherever it is used.
    pub(crate) fn check_star_ambiguity(&self, level: usize, si: usize) -> Result<()> {
        let sources = &self.levels[level].sources;
        let s = &sources[si];
        let twins: Vec<&Source> = sources
            .iter()
            .enumerate()
            .filter(|&(oi, o)| oi != si && o.schema == s.schema && names::eq(&o.name, &s.name))
            .map(|(_, o)| o)
            .collect();
        if twins.is_empty() {
            return Ok(());
        }
        let merged = |src: &Source, c: &str| src.merged.contains_key(&c.to_ascii_lowercase());
        for c in s.columns.iter().filter(|c| !c.hidden) {
            let clash = twins.iter().any(|o| {
                o.columns.iter().any(|oc| names::eq(&oc.name, &c.name))
                    && !merged(o, &c.name)
                    && !merged(s, &c.name)
            });
            if clash {
                let db = match s.schema {
                    Some(strata_vdbe::insn::TEMP_DB) => "temp",
                    Some(_) => "main",
                    None => "*",
                };
                return Err(error(format!(
                    "ambiguous column name: {db}.{}.{}",
                    s.name, c.name
                )));
            }
        }
        Ok(())
    }
}

/// The name of the first aggregate call in `e`, looking into the PARTITION BY and ORDER
/// BY of its window calls too (an aggregate there belongs to the enclosing query; named
/// windows are resolved through `defs`).
pub(crate) fn aggregate_through_windows<'a>(
    e: &'a Expr<'a>,
    defs: &'a [ast::WindowDef<'a>],
) -> Option<String> {
    let mut found = None;
    walk(e, &mut |x| {
        if found.is_some() {
            return false;
        }
        if is_aggregate_call(x) {
            found = Some(first_aggregate_name(x));
            return false;
        }
        if let Expr::FunctionCall {
            filter_over: Some(t),
            ..
        }
        | Expr::FunctionCallStar {
            filter_over: Some(t),
            ..
        } = x
        {
            if let Some(over) = t.over_clause {
                found = crate::window::window_terms(over, defs)
                    .into_iter()
                    .find_map(|w| aggregate_through_windows(w, defs));
            }
        }
        found.is_none()
    });
    found
}

/// Whether `e` has an aggregate call outside window calls. SQLite's resolver decides
/// that a SELECT is an aggregate query (for its HAVING and WHERE checks) from these
/// alone: `SELECT max(sum(x)) OVER () FROM t HAVING ...` is "HAVING clause on a
/// non-aggregate query", though the query is computed as one (one group).
pub(crate) fn contains_plain_aggregate(e: &Expr<'_>) -> bool {
    let mut found = false;
    walk(e, &mut |x| {
        if found || crate::window::is_window_call(x) {
            return false;
        }
        if is_aggregate_call(x) {
            found = true;
        }
        !found
    });
    found
}

/// Whether a failed select's error is one whose precedence `sqlite_resolve_error`
/// recomputes: unknown names and functions, wrong argument counts, misplaced
/// aggregates, HAVING on a non-aggregate query.
pub(crate) fn resolve_order_applies(message: &str) -> bool {
    message.starts_with("misuse of aggregate")
        || message.starts_with("no such column")
        || message.starts_with("no such function")
        || message.starts_with("wrong number of arguments")
        || message.starts_with("HAVING clause on a non-aggregate query")
}

/// Functions the compiler implements itself (not in the scalar table).
const COMPILED_FUNCTIONS: &[&str] = &[
    "coalesce",
    "ifnull",
    "if",
    "iif",
    "nullif",
    "changes",
    "total_changes",
    "last_insert_rowid",
    "sqlite_version",
    "likely",
    "unlikely",
    "likelihood",
];

impl Compiler<'_> {
    /// The error SQLite reports first for a select that failed with a name or aggregate
    /// error, following `resolveSelectStep`: the result columns, the HAVING check, then
    /// HAVING, WHERE, GROUP BY and ORDER BY, each an expression walk (`resolve_walk`).
    /// None when none is found this way (Strata's own error stands). Only consulted for
    /// a select that already failed, once its FROM clause resolved.
    pub(crate) fn sqlite_resolve_error<'a>(
        &mut self,
        columns: &'a [ast::ResultColumn<'a>],
        where_clause: Option<&'a Expr<'a>>,
        group_by: Option<&'a [Expr<'a>]>,
        having: Option<&'a Expr<'a>>,
        order_by: Option<&'a [ast::SortedColumn<'a>]>,
        defs: &'a [ast::WindowDef<'a>],
    ) -> Option<String> {
        let level = self.levels.len() - 1;
        if !self.levels[level].from_resolved {
            return None;
        }
        let results: Vec<&'a Expr<'a>> = columns
            .iter()
            .filter_map(|c| match c {
                ast::ResultColumn::Expr(e, ..) => Some(e),
                _ => None,
            })
            .collect();
        // Result columns may not name aliases (SQLite adds them to the name context
        // only afterwards).
        let aliases = std::mem::take(&mut self.levels[level].aliases);
        let mut found = None;
        for e in &results {
            found = self.resolve_walk(e, true, defs);
            if found.is_some() {
                break;
            }
        }
        self.levels[level].aliases = aliases;
        if found.is_some() {
            return found;
        }
        let is_agg = group_by.is_some() || results.iter().any(|e| contains_plain_aggregate(e));
        if having.is_some() && !is_agg {
            return Some("HAVING clause on a non-aggregate query".into());
        }
        // As `select_body`: an aggregate inside a window call lets WHERE hold one until
        // code generation (see there).
        let where_agg = is_agg
            || results
                .iter()
                .any(|e| aggregate_through_windows(e, defs).is_some());
        let clauses = having
            .map(|h| (h, true))
            .into_iter()
            .chain(where_clause.map(|w| (w, where_agg)))
            .chain(group_by.unwrap_or(&[]).iter().map(|g| (g, true)))
            .chain(order_by.unwrap_or(&[]).iter().map(|t| (&t.expr, true)));
        for (e, allow_agg) in clauses {
            if let Some(m) = self.resolve_walk(e, allow_agg, defs) {
                return Some(m);
            }
        }
        None
    }

    /// SQLite's name resolution of one expression, for its errors: a column that does
    /// not resolve, an unknown function, an aggregate where none may be. As in
    /// `resolveExprStep`, a later error replaces an earlier one, and the walk stops at
    /// the next node that is neither a column nor a function call once there is one
    /// (`sum(x) AND nosuch` reports the column, `sum(x) AND y = 1 AND nosuch` the
    /// aggregate). Subqueries are not looked into.
    fn resolve_walk<'a>(
        &mut self,
        e: &'a Expr<'a>,
        allow_agg: bool,
        defs: &'a [ast::WindowDef<'a>],
    ) -> Option<String> {
        let mut err: Option<String> = None;
        self.resolve_walk_into(e, allow_agg, defs, &mut err);
        err
    }

    /// Returns true when the walk is abandoned.
    fn resolve_walk_into<'a>(
        &mut self,
        e: &'a Expr<'a>,
        allow_agg: bool,
        defs: &'a [ast::WindowDef<'a>],
        err: &mut Option<String>,
    ) -> bool {
        let mut nodes: Vec<&'a Expr<'a>> = Vec::new();
        let mut aborted = false;
        // Columns and calls are handled below, in order; everything else only checks
        // for an earlier error (SQLite's walk callback aborts there).
        walk(e, &mut |x| match x {
            Expr::Id(_)
            | Expr::Name(_)
            | Expr::Qualified(..)
            | Expr::DoublyQualified(..)
            | Expr::FunctionCall { .. }
            | Expr::FunctionCallStar { .. } => {
                nodes.push(x);
                false
            }
            _ => {
                nodes.push(x);
                true
            }
        });
        for x in nodes {
            match x {
                Expr::Id(_) | Expr::Name(_) | Expr::Qualified(..) | Expr::DoublyQualified(..) => {
                    // An unresolved name ends the walk (`lookupName` aborts it).
                    if let Some(m) = self.column_error(x) {
                        *err = Some(m);
                        aborted = true;
                        break;
                    }
                }
                Expr::FunctionCall { .. } | Expr::FunctionCallStar { .. } => {
                    self.call_error(x, allow_agg, defs, err);
                }
                _ => {
                    if err.is_some() {
                        aborted = true;
                        break;
                    }
                }
            }
        }
        aborted
    }

    fn column_error(&mut self, x: &Expr<'_>) -> Option<String> {
        let r = match x {
            Expr::Id(id) => match self.resolve_column(None, id.0) {
                Ok(None) => {
                    let level = self.levels.len() - 1;
                    let alias = self.levels[level]
                        .aliases
                        .iter()
                        .any(|(a, _)| names::eq(a, &names::unquote(id.0)));
                    if alias
                        || crate::expr::true_false_word(id.0).is_some()
                        || names::is_double_quoted(id.0)
                    {
                        return None;
                    }
                    return Some(format!("no such column: {}", names::unquote(id.0)));
                }
                r => r,
            },
            Expr::Name(n) => match self.resolve_column(None, n.0) {
                Ok(None) => return Some(format!("no such column: {}", names::unquote(n.0))),
                r => r,
            },
            Expr::Qualified(t, c) => match self.resolve_column(Some(t.0), c.0) {
                Ok(None) => {
                    return Some(format!(
                        "no such column: {}.{}",
                        names::unquote(t.0),
                        names::unquote(c.0)
                    ))
                }
                r => r,
            },
            Expr::DoublyQualified(d, t, c) => match self.resolve_in_db(d.0, t.0, c.0) {
                Ok(None) => {
                    return Some(format!(
                        "no such column: {}.{}.{}",
                        names::unquote(d.0),
                        names::unquote(t.0),
                        names::unquote(c.0)
                    ))
                }
                r => r,
            },
            _ => return None,
        };
        r.err().map(|e| e.message)
    }

    /// A call: an unknown function or a misplaced aggregate, then its arguments (and
    /// FILTER, and a window's PARTITION BY / ORDER BY), where aggregates may not be
    /// unless the call is a window function.
    fn call_error<'a>(
        &mut self,
        x: &'a Expr<'a>,
        allow_agg: bool,
        defs: &'a [ast::WindowDef<'a>],
        err: &mut Option<String>,
    ) {
        let (name, args, tail) = match x {
            Expr::FunctionCall {
                name,
                args,
                filter_over,
                ..
            } => (
                names::unquote(name.0),
                args.map(|a| a.iter().collect::<Vec<_>>())
                    .unwrap_or_default(),
                filter_over.as_ref(),
            ),
            Expr::FunctionCallStar { name, filter_over } => {
                (names::unquote(name.0), Vec::new(), filter_over.as_ref())
            }
            _ => return,
        };
        let lower = name.to_ascii_lowercase();
        let over = tail.and_then(|t| t.over_clause);
        let known = COMPILED_FUNCTIONS.contains(&lower.as_str())
            || !matches!(
                strata_vdbe::functions::resolve_scalar(&lower, args.len()),
                Err(strata_vdbe::functions::FunctionError::NoSuchFunction(_))
            )
            || (0..=3).any(|n| {
                strata_vdbe::aggregate::lookup_aggregate(&lower, n).is_some()
                    || !matches!(strata_vdbe::window::WinFunc::lookup(&lower, n), Ok(None))
            })
            || (lower == "count" && matches!(x, Expr::FunctionCallStar { .. }));
        let aggregate = is_aggregate_call(x);
        let wrong_args = matches!(x, Expr::FunctionCall { .. })
            && over.is_none()
            && !COMPILED_FUNCTIONS.contains(&lower.as_str())
            && matches!(
                strata_vdbe::functions::resolve_scalar(&lower, args.len()),
                Err(strata_vdbe::functions::FunctionError::WrongArgumentCount(_))
            )
            && strata_vdbe::aggregate::lookup_aggregate(&lower, args.len()).is_none();
        if !known {
            *err = Some(format!("no such function: {name}"));
        } else if wrong_args {
            *err = Some(format!("wrong number of arguments to function {name}()"));
        } else if aggregate && !allow_agg {
            *err = Some(format!("misuse of aggregate function {name}()"));
        }
        // Arguments of a plain aggregate may hold no aggregate; a window function's may.
        let inner_agg = if aggregate { false } else { allow_agg };
        let inner_agg = if over.is_some() { true } else { inner_agg };
        for a in args {
            if self.resolve_walk_into(a, inner_agg, defs, err) {
                break;
            }
        }
        if let Some(f) = tail.and_then(|t| t.filter_clause) {
            self.resolve_walk_into(f, inner_agg, defs, err);
        }
        if let Some(over) = over {
            for t in crate::window::window_terms(over, defs) {
                if self.resolve_walk_into(t, true, defs, err) {
                    break;
                }
            }
        }
    }
}
