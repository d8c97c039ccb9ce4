//! The SET list of an UPDATE (and of an upsert's DO UPDATE): row-value assignments
//! `SET (a, b) = (x, y)` and `SET (a, b) = (SELECT ...)` flattened to one assignment
//! per column, with SQLite's "N columns assigned M values" errors.

use std::collections::HashMap;

use sqlite3_parser::ast::{self, Expr, Select};
use strata_vdbe::insn::{Insn, Reg};

use crate::compiler::{error, Compiler, Result};
use crate::row_value::select_width;

/// One column assignment.
pub(crate) struct Assignment<'e, 'a> {
    /// The column as written (may be quoted).
    pub column: &'e str,
    pub value: AssignValue<'e, 'a>,
}

pub(crate) enum AssignValue<'e, 'a> {
    Expr(&'e Expr<'a>),
    /// Column `index` of the row-value subquery of SET item `group`, run once per row.
    Sub {
        sel: &'e Select<'a>,
        group: usize,
        index: usize,
        width: usize,
    },
}

impl AssignValue<'_, '_> {
    /// The expression a column reference analysis must see.
    pub fn expr(&self) -> Option<&Expr<'_>> {
        match self {
            AssignValue::Expr(e) => Some(e),
            AssignValue::Sub { .. } => None,
        }
    }
}

fn strip_parens<'e, 'a>(e: &'e Expr<'a>) -> &'e Expr<'a> {
    match e {
        Expr::Parenthesized(v) if v.len() == 1 => strip_parens(&v[0]),
        _ => e,
    }
}

fn count_error(n: usize, m: usize) -> crate::SqlError {
    error(format!("{n} columns assigned {m} values"))
}

/// The assignments of `sets`, in order (a later assignment of a column wins).
pub(crate) fn flatten_sets<'e, 'a>(sets: &'e [ast::Set<'a>]) -> Result<Vec<Assignment<'e, 'a>>> {
    let mut out = Vec::new();
    for (group, set) in sets.iter().enumerate() {
        let n = set.col_names.len();
        if n == 1 {
            out.push(Assignment {
                column: set.col_names[0].0,
                value: AssignValue::Expr(&set.expr),
            });
            continue;
        }
        match strip_parens(&set.expr) {
            Expr::Parenthesized(v) => {
                if v.len() != n {
                    return Err(count_error(n, v.len()));
                }
                for (cn, e) in set.col_names.iter().zip(v.iter()) {
                    out.push(Assignment {
                        column: cn.0,
                        value: AssignValue::Expr(e),
                    });
                }
            }
            Expr::Subquery(sel) => {
                if let Some(w) = select_width(sel).filter(|w| *w != n) {
                    return Err(count_error(n, w));
                }
                for (index, cn) in set.col_names.iter().enumerate() {
                    out.push(Assignment {
                        column: cn.0,
                        value: AssignValue::Sub {
                            sel,
                            group,
                            index,
                            width: n,
                        },
                    });
                }
            }
            _ => return Err(count_error(n, 1)),
        }
    }
    Ok(out)
}

impl Compiler<'_> {
    /// Evaluates an assignment's value into `dest`. A row-value subquery runs at its
    /// first column (its registers kept in `subs` for the others).
    pub(crate) fn assign_value(
        &mut self,
        a: &Assignment<'_, '_>,
        subs: &mut HashMap<usize, Reg>,
        dest: Reg,
    ) -> Result<()> {
        match &a.value {
            AssignValue::Expr(e) => self.expr(e, dest),
            AssignValue::Sub {
                sel,
                group,
                index,
                width,
            } => {
                let base = match subs.get(group) {
                    Some(b) => *b,
                    None => {
                        let (base, cols) = self.row_subquery(sel, *width)?;
                        if cols.len() != *width {
                            return Err(count_error(*width, cols.len()));
                        }
                        subs.insert(*group, base);
                        base
                    }
                };
                self.emit(Insn::Copy {
                    src: base + index,
                    dest,
                    count: 1,
                });
                Ok(())
            }
        }
    }
}
