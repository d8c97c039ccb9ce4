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
