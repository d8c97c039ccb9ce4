//! Partial indexes (`CREATE INDEX ... WHERE expr`): the restrictions SQLite puts on the
//! WHERE, the guard that keeps writes to the index to the rows where it holds, and the
//! planner's test that a query's WHERE implies it (SQLite's `sqlite3ExprImpliesExpr`,
//! conservatively: a wrong use of a partial index is a wrong answer, a missed one is only
//! slower).

use sqlite3_parser::ast::{self, Expr, Operator, Stmt};
use strata_vdbe::insn::{Cur, PureContext, Reg};

use crate::builder::Label;
use crate::compiler::{error, Compiler, Result};
use crate::expr_walk::walk;
use crate::names;
use crate::planner::Term;
use crate::schema::{with_parsed, Index, Table};
use crate::scope::ROWID;

/// Functions SQLite flags non-deterministic (`SQLITE_FUNC_VOLATILE` builtins).
pub(crate) const VOLATILE: &[&str] = &[
    "random",
    "randomblob",
    "changes",
    "total_changes",
    "last_insert_rowid",
    "sqlite_offset",
];

/// Why a call of function `name` is refused inside a schema expression (a partial index's
/// WHERE, an index expression, a generated column), if it is: SQLite's message for a
/// non-deterministic function (`prohibited_in`: its plural wording, "index expressions").
/// The date and time functions are deterministic to SQLite's resolver: their uses of the
/// clock are refused when they run (`PureContext`).
pub(crate) fn schema_call_failure(name: &str, prohibited_in: &str) -> Option<String> {
    let n = names::unquote(name).to_ascii_lowercase();
    VOLATILE
        .contains(&n.as_str())
        .then(|| prohibited(prohibited_in))
}

/// SQLite's message for a non-deterministic function (CURRENT_TIME and the like too:
/// they are not SQLITE_FUNC_CONSTANT) in a schema expression.
pub(crate) fn prohibited(prohibited_in: &str) -> String {
    format!("non-deterministic functions prohibited in {prohibited_in}")
}

/// SQLite's checks on a partial index's WHERE that name resolution does not make
/// (`NC_PartIdx` in its resolver): no subqueries, parameters or non-deterministic
/// functions. Unknown columns, aggregates and window functions are refused when the
/// expression is compiled against the table.
pub(crate) fn validate_where(e: &Expr<'_>) -> Result<()> {
    let mut failure: Option<String> = None;
    walk(e, &mut |x| {
        if failure.is_some() {
            return false;
        }
        match x {
            Expr::Exists(_) | Expr::Subquery(_) | Expr::InSelect { .. } | Expr::InTable { .. } => {
                failure = Some("subqueries prohibited in partial index WHERE clauses".into());
            }
            Expr::Variable(_) => {
                failure = Some("parameters prohibited in partial index WHERE clauses".into());
            }
            Expr::Raise(..) => {
                failure = Some("RAISE() may only be used within a trigger-program".into());
            }
            Expr::Literal(
                ast::Literal::CurrentDate
                | ast::Literal::CurrentTime
                | ast::Literal::CurrentTimestamp,
            ) => {
                failure = Some(prohibited("partial index WHERE clauses"));
            }
            Expr::FunctionCall { name, .. } | Expr::FunctionCallStar { name, .. } => {
                failure = schema_call_failure(name.0, "partial index WHERE clauses");
            }
            _ => {}
        }
        failure.is_none()
    });
    match failure {
        Some(m) => Err(error(m)),
        None => Ok(()),
    }
}

/// Runs `f` on the parsed expression of a stored partial index WHERE.
pub(crate) fn with_where<T>(sql: &str, f: impl FnOnce(&Expr<'_>) -> Result<T>) -> Result<T> {
    with_parsed(&format!("SELECT {sql}"), |stmt| {
        let Stmt::Select(sel) = stmt else {
            return Err(error("bad partial index WHERE"));
        };
        let ast::OneSelect::Select { columns, .. } = &sel.body.select else {
            return Err(error("bad partial index WHERE"));
        };
        let Some(ast::ResultColumn::Expr(e, _, _)) = columns.first() else {
            return Err(error("bad partial index WHERE"));
        };
        f(e)
    })
}

/// The AND terms of `e` (parentheses around one expression looked through).
fn and_terms<'a>(e: &'a Expr<'a>, out: &mut Vec<&'a Expr<'a>>) {
    match e {
        Expr::Binary(l, Operator::And, r) => {
            and_terms(l, out);
            and_terms(r, out);
        }
        Expr::Parenthesized(v) if v.len() == 1 => and_terms(&v[0], out),
        _ => out.push(e),
    }
}

pub(crate) fn strip_parens<'a>(e: &'a Expr<'a>) -> &'a Expr<'a> {
    match e {
        Expr::Parenthesized(v) if v.len() == 1 => strip_parens(&v[0]),
        _ => e,
    }
}

impl Compiler<'_> {
    /// When `ix` is partial: code that jumps past the index write unless its WHERE is
    /// true for the row in registers (`cols..`, rowid in `rowid`). Returns the label to
    /// resolve after the write.
    pub(crate) fn partial_guard(
        &mut self,
        table: &std::sync::Arc<Table>,
        ix: &Index,
        cursor: Cur,
        cols: Reg,
        rowid: Reg,
    ) -> Result<Option<Label>> {
        if ix.where_sql.is_none() {
            return Ok(None);
        }
        let skip = self.label();
        self.partial_jump_unless(table, ix, cursor, cols, rowid, skip)?;
        Ok(Some(skip))
    }

    /// When `ix` is partial: code that jumps to `target` unless its WHERE is true for
    /// the row in registers.
    pub(crate) fn partial_jump_unless(
        &mut self,
        table: &std::sync::Arc<Table>,
        ix: &Index,
        cursor: Cur,
        cols: Reg,
        rowid: Reg,
        target: Label,
    ) -> Result<()> {
        let Some(w) = ix.where_sql.clone() else {
            return Ok(());
        };
        self.push_register_level(table, cursor, cols, rowid, None);
        let r = self.in_pure(PureContext::Index, |c| {
            with_where(&w, |e| c.jump_if_not_true(e, target))
        });
        self.levels.pop();
        r
    }

    /// Whether the terms (this loop's WHERE terms, or a left join's ON terms) imply
    /// partial index `ix`'s WHERE, for source `source` of the current level: each AND
    /// term of the index's WHERE must be implied by one of them.
    pub(crate) fn partial_usable(
        &mut self,
        table: &Table,
        ix: &Index,
        source: usize,
        terms: &[Term<'_>],
    ) -> bool {
        let Some(w) = ix.where_sql.clone() else {
            return true;
        };
        let r = with_where(&w, |e| {
            let mut need = Vec::new();
            and_terms(e, &mut need);
            let mut have = Vec::new();
            for t in terms {
                if let Term::Ast(e) = t {
                    and_terms(e, &mut have);
                }
            }
            Ok(need
                .iter()
                .all(|n| have.iter().any(|h| self.implies(h, n, table, source))))
        });
        r.unwrap_or(false)
    }

    /// `have` (a query term) implies `need` (an index term): SQLite's
    /// `sqlite3ExprImpliesExpr` rules, a subset of them.
    fn implies(&mut self, have: &Expr<'_>, need: &Expr<'_>, table: &Table, source: usize) -> bool {
        let need = strip_parens(need);
        if self.same_expr(need, have, table, source) {
            return true;
        }
        match need {
            Expr::Binary(l, Operator::Or, r) => {
                self.implies(have, l, table, source) || self.implies(have, r, table, source)
            }
            Expr::NotNull(x)
            | Expr::Binary(x, Operator::IsNot, &Expr::Literal(ast::Literal::Null)) => {
                self.implies_not_null(have, x, table, source)
            }
            _ => false,
        }
    }

    /// `have` is false or NULL whenever `x` is NULL: a comparison with `x` as an operand.
    fn implies_not_null(
        &mut self,
        have: &Expr<'_>,
        x: &Expr<'_>,
        table: &Table,
        source: usize,
    ) -> bool {
        match strip_parens(have) {
            Expr::Binary(
                l,
                Operator::Equals
                | Operator::NotEquals
                | Operator::Less
                | Operator::LessEquals
                | Operator::Greater
                | Operator::GreaterEquals,
                r,
            ) => self.same_expr(x, l, table, source) || self.same_expr(x, r, table, source),
            Expr::Between {
                lhs, not: false, ..
            }
            | Expr::InList {
                lhs, not: false, ..
            } => self.same_expr(x, lhs, table, source),
            _ => false,
        }
    }

    /// Whether an upsert target's WHERE is partial index `ix`'s WHERE (SQLite compares
    /// the two expressions with `sqlite3ExprCompare`).
    pub(crate) fn upsert_where_matches(
        &mut self,
        table: &std::sync::Arc<Table>,
        ix: &Index,
        target_where: &Expr<'_>,
    ) -> bool {
        let Some(w) = ix.where_sql.clone() else {
            return false;
        };
        let mut level = crate::scope::Level::default();
        level
            .sources
            .push(crate::select::table_source(table, table.name.clone(), 0));
        self.levels.push(level);
        let source = self.levels.last().map_or(0, |l| l.sources.len() - 1);
        let r = with_where(&w, |e| Ok(self.same_expr(e, target_where, table, source)));
        self.levels.pop();
        r.unwrap_or(false)
    }

    /// The column of the table an index-side identifier names (rowid aliases as ROWID).
    fn index_side_column(e: &Expr<'_>, table: &Table) -> Option<usize> {
        let (tq, c) = match e {
            Expr::Id(id) => (None, id.0),
            Expr::Name(n) => (None, n.0),
            Expr::Qualified(t, c) => (Some(t.0), c.0),
            Expr::DoublyQualified(_, t, c) => (Some(t.0), c.0),
            _ => return None,
        };
        if let Some(t) = tq {
            if !names::eq(&names::unquote(t), &table.name) {
                return None;
            }
        }
        let c = names::unquote(c);
        match table.column_index(&c) {
            Some(i) if table.rowid_alias == Some(i) => Some(ROWID),
            Some(i) => Some(i),
            None if ["rowid", "oid", "_rowid_"].iter().any(|r| names::eq(r, &c)) => Some(ROWID),
            None => None,
        }
    }

    /// The column of source `source` of the current level a query-side identifier
    /// names (rowid aliases as ROWID), if it names one.
    fn query_side_column(&mut self, e: &Expr<'_>, table: &Table, source: usize) -> Option<usize> {
        let level = self.levels.len() - 1;
        let r = self.column_ref_of(e).ok().flatten()?;
        if r.level != level || r.source != source {
            return None;
        }
        Some(match r.column {
            c if c != ROWID && table.rowid_alias == Some(c) => ROWID,
            c => c,
        })
    }

    /// Structural equality of an index-side expression `a` and a query-side `b`, with
    /// column references compared as resolved columns. Anything not handled is unequal.
    pub(crate) fn same_expr(
        &mut self,
        a: &Expr<'_>,
        b: &Expr<'_>,
        table: &Table,
        source: usize,
    ) -> bool {
        let (a, b) = (strip_parens(a), strip_parens(b));
        match (a, b) {
            (
                Expr::Id(_) | Expr::Name(_) | Expr::Qualified(..) | Expr::DoublyQualified(..),
                Expr::Id(_) | Expr::Name(_) | Expr::Qualified(..) | Expr::DoublyQualified(..),
            ) => {
                let Some(ca) = Self::index_side_column(a, table) else {
                    return false;
                };
                self.query_side_column(b, table, source) == Some(ca)
            }
            (Expr::Literal(x), Expr::Literal(y)) => x == y,
            (Expr::Binary(al, aop, ar), Expr::Binary(bl, bop, br)) => {
                aop == bop
                    && self.same_expr(al, bl, table, source)
                    && self.same_expr(ar, br, table, source)
            }
            (Expr::Unary(aop, ae), Expr::Unary(bop, be)) => {
                aop == bop && self.same_expr(ae, be, table, source)
            }
            (Expr::IsNull(x), Expr::IsNull(y)) | (Expr::NotNull(x), Expr::NotNull(y)) => {
                self.same_expr(x, y, table, source)
            }
            (
                Expr::Between {
                    lhs: al,
                    not: an,
                    start: as_,
                    end: ae,
                },
                Expr::Between {
                    lhs: bl,
                    not: bn,
                    start: bs,
                    end: be,
                },
            ) => {
                an == bn
                    && self.same_expr(al, bl, table, source)
                    && self.same_expr(as_, bs, table, source)
                    && self.same_expr(ae, be, table, source)
            }
            (
                Expr::InList {
                    lhs: al,
                    not: an,
                    rhs: ar,
                },
                Expr::InList {
                    lhs: bl,
                    not: bn,
                    rhs: br,
                },
            ) => {
                let (ar, br) = (ar.unwrap_or(&[]), br.unwrap_or(&[]));
                an == bn
                    && ar.len() == br.len()
                    && self.same_expr(al, bl, table, source)
                    && ar
                        .iter()
                        .zip(br.iter())
                        .all(|(x, y)| self.same_expr(x, y, table, source))
            }
            (
                Expr::Like {
                    lhs: al,
                    not: an,
                    op: aop,
                    rhs: ar,
                    escape: None,
                },
                Expr::Like {
                    lhs: bl,
                    not: bn,
                    op: bop,
                    rhs: br,
                    escape: None,
                },
            ) => {
                an == bn
                    && aop == bop
                    && self.same_expr(al, bl, table, source)
                    && self.same_expr(ar, br, table, source)
            }
            (Expr::Collate(ae, ac), Expr::Collate(be, bc)) => {
                names::eq(&names::unquote(ac), &names::unquote(bc))
                    && self.same_expr(ae, be, table, source)
            }
            (
                Expr::FunctionCall {
                    name: an,
                    distinctness: None,
                    args: aa,
                    order_by: None,
                    filter_over: None,
                },
                Expr::FunctionCall {
                    name: bn,
                    distinctness: None,
                    args: ba,
                    order_by: None,
                    filter_over: None,
                },
            ) => {
                let (aa, ba) = (aa.unwrap_or(&[]), ba.unwrap_or(&[]));
                names::eq(&names::unquote(an.0), &names::unquote(bn.0))
                    && aa.len() == ba.len()
                    && aa
                        .iter()
                        .zip(ba.iter())
                        .all(|(x, y)| self.same_expr(x, y, table, source))
            }
            _ => false,
        }
    }
}
