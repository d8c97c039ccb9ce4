//! A view's columns as SQLite's `sqlite3ViewGetColumnNames` makes them: names from the
//! view's column list or its SELECT, declared types and affinities from the SELECT's
//! expressions. `PRAGMA table_info(view)` reports them, and INSTEAD OF triggers see the
//! view as a table of these columns (`view_table`).

use std::sync::Arc;

use sqlite3_parser::ast::{Expr, Literal, OneSelect, Operator, ResultColumn, Stmt, UnaryOperator};
use strata_vdbe::affinity::{affinity_of_type, Affinity};

use crate::compiler::{error, Compiler, Result};
use crate::cte::Sql;
use crate::names;
use crate::schema::{self, with_parsed, Table, View};
use crate::select::ResultCol;

/// One column of a view.
#[derive(Clone, Debug)]
pub(crate) struct ViewColumn {
    pub name: String,
    /// The type `PRAGMA table_info` reports ("" for none).
    pub decl_type: String,
}

impl Compiler<'_> {
    /// The view's columns. The SELECT is compiled in a scratch compiler (its names are
    /// resolved, so a view naming a missing table fails here as in SQLite). A column list
    /// of the wrong length gives the listed names without types, as SQLite does.
    pub(crate) fn view_columns(&self, v: &View) -> Result<Vec<ViewColumn>> {
        let key = (v.db, v.name.to_ascii_lowercase());
        if self.view_depth > 32 || self.view_stack.contains(&key) {
            return Err(error(format!("view {} is circularly defined", v.name)));
        }
        let mut scratch = Compiler::new(self.schema);
        scratch.view_depth = self.view_depth + 1;
        scratch.view_stack = self.view_stack.clone();
        scratch.view_stack.push(key);
        let cols = with_parsed(&v.sql, |stmt| {
            let Stmt::CreateView { select, .. } = stmt else {
                return Err(error("not a view"));
            };
            scratch.in_body_of(v.db, format!("view {}", v.name), |c| {
                c.select(select, &crate::select::Dest::Discard)
            })
        });
        let mut cols = cols?;
        self.compound_affinities(v, &mut cols);
        if let Some(list) = &v.columns {
            if list.len() != cols.len() {
                return Ok(names::unique_column_names(list.clone())
                    .into_iter()
                    .map(|name| ViewColumn {
                        name,
                        decl_type: String::new(),
                    })
                    .collect());
            }
        }
        let col_names = match &v.columns {
            Some(list) => names::unique_column_names(list.clone()),
            None => names::unique_column_names(cols.iter().map(|c| c.name.clone()).collect()),
        };
        Ok(cols
            .iter()
            .zip(col_names)
            .map(|(c, name)| ViewColumn {
                name,
                decl_type: sqlite_view_type(c.decl_type.as_deref(), c.affinity),
            })
            .collect())
    }

    /// The view as a table of its columns (no rowid, no b-tree: `root_page` 0), for
    /// INSTEAD OF triggers' NEW and OLD rows and the view's DML.
    pub(crate) fn view_table(&self, v: &View) -> Result<Arc<Table>> {
        let cols = self.view_columns(v)?;
        let defs: Vec<String> = cols
            .iter()
            .map(|c| {
                let n = format!("\"{}\"", c.name.replace('"', "\"\""));
                if c.decl_type.is_empty() {
                    n
                } else {
                    format!("{n} {}", c.decl_type)
                }
            })
            .collect();
        let sql = format!(
            "CREATE TABLE \"{}\"({})",
            v.name.replace('"', "\"\""),
            defs.join(", ")
        );
        let mut t = schema::parse_table(&sql, 0)?;
        // Affinities as SQLite gives a view's columns: the type's, and none for none.
        for (c, vc) in t.columns.iter_mut().zip(&cols) {
            c.affinity = affinity_of_type(vc.decl_type.as_bytes());
        }
        t.db = v.db;
        Ok(Arc::new(t))
    }
}

impl Compiler<'_> {
    /// A compound view's column affinities as SQLite's `sqlite3SubqueryColumnTypes`
    /// adjusts them: the leftmost SELECT's, unless another arm may give that column a
    /// value of another kind (a TEXT column that may hold a number, a numeric one that
    /// may hold text), which makes it BLOB. An arm that does not compile alone (it reads
    /// a CTE of the view's WITH) leaves the affinities as they are.
    fn compound_affinities(&self, v: &View, cols: &mut [ResultCol]) {
        let _ = with_parsed(&v.sql, |stmt| {
            let Stmt::CreateView { select, .. } = stmt else {
                return Ok(());
            };
            let Some(compounds) = &select.body.compounds else {
                return Ok(());
            };
            let with = select
                .with
                .as_ref()
                .map(|w| format!("{} ", Sql(w)))
                .unwrap_or_default();
            let arms: Vec<&OneSelect<'_>> = std::iter::once(&select.body.select)
                .chain(compounds.iter().map(|c| &c.select))
                .collect();
            // Value kinds of the other arms, whether one has an affinity, and whether the
            // leftmost arm's column is a CAST.
            let mut masks = vec![0u8; cols.len()];
            let mut other_aff = vec![false; cols.len()];
            let mut first_cast = vec![false; cols.len()];
            for (n, arm) in arms.into_iter().enumerate() {
                let text = format!("{with}{}", Sql(arm));
                let mut scratch = Compiler::new(self.schema);
                scratch.view_depth = self.view_depth + 1;
                scratch.view_stack = self.view_stack.clone();
                scratch.view_stack.push((v.db, v.name.to_ascii_lowercase()));
                let arm_cols = with_parsed(&text, |st| {
                    let Stmt::Select(sel) = st else {
                        return Err(error("not a select"));
                    };
                    scratch.in_body_of(v.db, format!("view {}", v.name), |c| {
                        c.select(sel, &crate::select::Dest::Discard)
                    })
                });
                let Ok(arm_cols) = arm_cols else {
                    return Ok(());
                };
                let exprs: Vec<Option<&Expr<'_>>> = match arm {
                    OneSelect::Select { columns, .. } => {
                        if columns.iter().all(|c| matches!(c, ResultColumn::Expr(..))) {
                            columns
                                .iter()
                                .map(|c| match c {
                                    ResultColumn::Expr(e, _, _) => Some(e),
                                    _ => None,
                                })
                                .collect()
                        } else {
                            vec![None; arm_cols.len()]
                        }
                    }
                    OneSelect::Values(rows) => match rows.first() {
                        Some(r) => r.iter().map(Some).collect(),
                        None => Vec::new(),
                    },
                };
                for (i, m) in masks.iter_mut().enumerate() {
                    let e = exprs.get(i).copied().flatten();
                    if n == 0 {
                        first_cast[i] = matches!(e, Some(Expr::Cast { .. }));
                        continue;
                    }
                    let aff = arm_cols.get(i).and_then(|c| c.affinity);
                    other_aff[i] |= aff.is_some();
                    *m |= match e {
                        Some(e) => data_type(e, aff),
                        None => aff_data_type(aff),
                    };
                }
            }
            for (i, c) in cols.iter_mut().enumerate() {
                let m = masks[i];
                c.affinity = match c.affinity {
                    // (Observed in SQLite 3.46: an affinity-less leftmost column next to
                    // an arm whose column has one is BLOB.)
                    None if other_aff[i] => Some(Affinity::Blob),
                    Some(Affinity::Text) if m & 0x01 != 0 => Some(Affinity::Blob),
                    Some(a) if a.is_numeric() && m & 0x02 != 0 => Some(Affinity::Blob),
                    // SQLITE_AFF_FLEXNUM, named "NUM".
                    Some(a) if a.is_numeric() && first_cast[i] => Some(Affinity::Numeric),
                    a => a,
                };
            }
            Ok(())
        });
    }
}

/// SQLite's `sqlite3ExprDataType`: which kinds of value an expression may give (0x01
/// numeric, 0x02 text, 0x04 blob).
fn data_type(e: &Expr<'_>, aff: Option<Affinity>) -> u8 {
    match e {
        Expr::Collate(inner, _) | Expr::Unary(UnaryOperator::Positive, inner) => {
            data_type(inner, aff)
        }
        Expr::Parenthesized(v) if v.len() == 1 => data_type(&v[0], aff),
        Expr::Literal(Literal::Null) => 0,
        Expr::Literal(Literal::String(_)) => 0x02,
        Expr::Literal(Literal::Blob(_)) => 0x04,
        Expr::Binary(_, Operator::Concat, _) => 0x06,
        Expr::Variable(_) | Expr::FunctionCall { .. } | Expr::FunctionCallStar { .. } => 0x07,
        Expr::Id(_)
        | Expr::Name(_)
        | Expr::Qualified(..)
        | Expr::DoublyQualified(..)
        | Expr::Cast { .. }
        | Expr::Subquery(_) => aff_data_type(aff),
        Expr::Case { .. } => 0x07,
        _ => 0x01,
    }
}

/// The value kinds of an expression of affinity `aff` (a column, CAST, subquery).
fn aff_data_type(aff: Option<Affinity>) -> u8 {
    match aff {
        Some(a) if a.is_numeric() => 0x05,
        Some(Affinity::Text) => 0x06,
        _ => 0x07,
    }
}

/// The type SQLite gives a view column (`sqlite3SubqueryColumnTypes`): the declared type
/// of the column it reads, unless that type's affinity is not the expression's; else a
/// name for the expression's affinity (NUMERIC is "NUM"); no affinity, no type.
fn sqlite_view_type(decl: Option<&str>, affinity: Option<Affinity>) -> String {
    if let Some(d) = decl.filter(|d| !d.is_empty()) {
        if affinity.is_none_or(|a| affinity_of_type(d.as_bytes()) == a) {
            return d.to_string();
        }
    }
    match affinity {
        None => String::new(),
        Some(Affinity::Numeric) => "NUM".into(),
        Some(Affinity::Blob) => "BLOB".into(),
        Some(Affinity::Integer) => "INT".into(),
        Some(Affinity::Real) => "REAL".into(),
        Some(Affinity::Text) => "TEXT".into(),
    }
}
