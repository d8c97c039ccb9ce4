//! Indexes on expressions (`CREATE INDEX i ON t(a + b, lower(c))`): SQLite's
//! restrictions on the expressions, and the code that computes an expression key from a
//! row. The planner seeks such an index when a WHERE term compares the same expression
//! (structurally, see `partial_index::same_expr`) with a value (`planner.rs`).

use sqlite3_parser::ast::{self, Expr};
use strata_btree::record::{Collation, SortOrder};
use strata_vdbe::insn::{Cur, PureContext, Reg};

use crate::compiler::{error, Compiler, Result};
use crate::expr_walk::walk;
use crate::names;
use crate::partial_index::{prohibited, schema_call_failure, with_where};
use crate::schema::{Index, IndexColumn, Table, EXPR_COLUMN};

/// The index column for expression `e` (with an optional COLLATE on top), after
/// SQLite's checks (`NC_IdxExpr` in its resolver). Unknown columns, aggregates and
/// window functions are refused when the expression is compiled against the table.
pub(crate) fn expr_column(table: &Table, e: &Expr<'_>, order: SortOrder) -> Result<IndexColumn> {
    let (inner, coll) = match e {
        Expr::Collate(inner, c) => (*inner, Some(names::unquote(c))),
        e => (e, None),
    };
    let mut failure: Option<String> = None;
    walk(inner, &mut |x| {
        if failure.is_some() {
            return false;
        }
        failure = match x {
            Expr::Exists(_) | Expr::Subquery(_) | Expr::InSelect { .. } | Expr::InTable { .. } => {
                Some("subqueries prohibited in index expressions".into())
            }
            Expr::Variable(_) => Some("parameters prohibited in index expressions".into()),
            // A qualified name: SQLite resolves it first (another table's column is
            // no such column), then refuses the "." on its own table's.
            Expr::Qualified(t, c) if !names::eq(&names::unquote(t.0), &table.name) => {
                Some(format!(
                    "no such column: {}.{}",
                    names::unquote(t.0),
                    names::unquote(c.0)
                ))
            }
            Expr::DoublyQualified(d, t, c)
                if !names::eq(&names::unquote(t.0), &table.name)
                    || !["main", "temp"]
                        .iter()
                        .any(|n| names::eq(n, &names::unquote(d.0))) =>
            {
                Some(format!(
                    "no such column: {}.{}.{}",
                    names::unquote(d.0),
                    names::unquote(t.0),
                    names::unquote(c.0)
                ))
            }
            Expr::Qualified(..) | Expr::DoublyQualified(..) => {
                Some("the \".\" operator prohibited in index expressions".into())
            }
            Expr::Raise(..) => Some("RAISE() may only be used within a trigger-program".into()),
            // The rowid is no column an index expression may name.
            Expr::Id(id)
                if table.column_index(&names::unquote(id.0)).is_none()
                    && ["rowid", "oid", "_rowid_"]
                        .iter()
                        .any(|r| names::eq(r, &names::unquote(id.0))) =>
            {
                Some(format!("no such column: {}", names::unquote(id.0)))
            }
            // A double-quoted word that names no column is a string to SQLite (its DQS
            // fallback); Strata does not index such constants.
            Expr::Id(id)
                if id.0.starts_with('"') && table.column_index(&names::unquote(id.0)).is_none() =>
            {
                Some(format!(
                    "a double-quoted string in an index expression is not supported: {}",
                    id.0
                ))
            }
            // Only a COLLATE on top sets the key's collation here; one inside would
            // change it (SQLite's sqlite3ExprCollSeq), which is not followed.
            Expr::Collate(..) => Some("COLLATE inside an index expression is not supported".into()),
            Expr::Literal(
                ast::Literal::CurrentDate
                | ast::Literal::CurrentTime
                | ast::Literal::CurrentTimestamp,
            ) => Some(prohibited("index expressions")),
            Expr::FunctionCall { name, .. } | Expr::FunctionCallStar { name, .. } => {
                schema_call_failure(name.0, "index expressions")
            }
            _ => None,
        };
        failure.is_none()
    });
    if let Some(m) = failure {
        return Err(error(m));
    }
    let collation = match coll {
        Some(c) => Collation::from_name(&c)
            .ok_or_else(|| error(format!("no such collation sequence: {c}")))?,
        None => Collation::Binary,
    };
    Ok(IndexColumn {
        column: EXPR_COLUMN,
        collation,
        order,
        expr: Some(inner.to_string()),
    })
}

impl Compiler<'_> {
    /// Computes the expression columns of `ix` into `key + k` for the row in registers
    /// (`cols..`, rowid in `rowid`).
    pub(crate) fn index_expr_keys(
        &mut self,
        table: &std::sync::Arc<Table>,
        ix: &Index,
        cursor: Cur,
        cols: Reg,
        rowid: Reg,
        key: Reg,
    ) -> Result<()> {
        if ix.columns.iter().all(|c| c.expr.is_none()) {
            return Ok(());
        }
        self.push_register_level(table, cursor, cols, rowid, None);
        let r = self.index_expr_keys_here(ix, key);
        self.levels.pop();
        r
    }

    /// Computes the expression columns of `ix` into `key + k` with the table already in
    /// scope (the innermost level's only source).
    pub(crate) fn index_expr_keys_here(&mut self, ix: &Index, key: Reg) -> Result<()> {
        for (k, c) in ix.columns.iter().enumerate() {
            if let Some(sql) = &c.expr {
                self.in_pure(PureContext::Index, |c| {
                    with_where(sql, |e| c.expr(e, key + k))
                })?;
            }
        }
        Ok(())
    }
}
