//! Common table expressions (`WITH [RECURSIVE]`).
//!
//! A CTE is kept as SQL text (rendered from the AST) and materialised, like a view,
//! wherever a FROM item names it. A recursive CTE runs SQLite's algorithm: the initial
//! select fills a queue; each step takes one row off the queue, exposes it as the CTE's
//! single row to the recursive select(s), whose output joins both the queue and the
//! result (for UNION only rows not seen before). LIMIT stops the recursion.

use std::fmt;

use sqlite3_parser::ast::fmt::ToTokens;
use sqlite3_parser::ast::{CompoundOperator, Stmt, With};
use strata_btree::record::{KeyInfo, SortOrder};
use strata_vdbe::insn::{Cur, EphemeralKind, Insn, Reg};

use crate::compiler::{error, Compiler, Result};
use crate::names;
use crate::schema::with_parsed;
use crate::scope::{Source, SourceColumn};
use crate::select::{Dest, ResultCol};

/// Renders an AST node back to SQL.
pub struct Sql<'x, T: ToTokens>(pub &'x T);

impl<T: ToTokens> fmt::Display for Sql<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.to_fmt(f)
    }
}

#[derive(Clone, Debug)]
pub struct Recursive {
    /// The non-recursive arms (each a full SELECT text) and the recursive ones.
    pub initial: Vec<String>,
    pub recursive: Vec<String>,
    /// UNION (true) or UNION ALL between the rows.
    pub distinct: bool,
    /// LIMIT and OFFSET expressions' text.
    pub limit: Option<String>,
    pub offset: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Cte {
    pub name: String,
    pub columns: Option<Vec<String>>,
    /// The whole SELECT's text.
    pub sql: String,
    pub recursive: Option<Recursive>,
    /// While a recursive step is compiled: the cursor holding the current row.
    pub bound: Option<(Cur, Vec<SourceColumn>)>,
}

/// Whether `sql` (a SELECT) names `name` as a table in a FROM clause, unqualified: a
/// CTE naming itself is recursive in SQLite whether or not WITH says RECURSIVE (and a
/// non-compound one is a circular reference, never the table of that name).
fn mentions(sql: &str, name: &str) -> bool {
    crate::alter_tokens::names_source(sql, name)
}

impl Compiler<'_> {
    /// Makes the CTEs of `with` visible; returns how many were pushed.
    pub fn push_ctes(&mut self, with: &With<'_>) -> Result<usize> {
        for cte in with.ctes.iter() {
            let name = names::unquote(cte.tbl_name.0);
            let columns = cte
                .columns
                .map(|cs| cs.iter().map(|c| names::unquote(c.col_name.0)).collect());
            let sel = cte.select;
            let sql = Sql(sel).to_string();
            let mut recursive = None;
            if mentions(&sql, &name) {
                let compounds = sel.body.compounds.as_deref().unwrap_or(&[]);
                if compounds.is_empty() {
                    return Err(error(format!("circular reference: {name}")));
                }
                if sel.order_by.is_some() {
                    return Err(error("ORDER BY in a recursive CTE is not supported yet"));
                }
                let mut arms = vec![Sql(&sel.body.select).to_string()];
                let mut ops = Vec::new();
                for c in compounds {
                    arms.push(Sql(&c.select).to_string());
                    ops.push(c.operator);
                }
                let first_rec = arms
                    .iter()
                    .position(|a| mentions(a, &name))
                    .unwrap_or(arms.len());
                if first_rec == 0 {
                    return Err(error(format!("circular reference: {name}")));
                }
                let rec_ops = &ops[first_rec - 1..];
                let distinct = match rec_ops.first() {
                    Some(CompoundOperator::Union) => true,
                    Some(CompoundOperator::UnionAll) => false,
                    _ => return Err(error("recursive CTEs must combine with UNION or UNION ALL")),
                };
                if ops[..first_rec - 1]
                    .iter()
                    .any(|o| *o != CompoundOperator::UnionAll && *o != CompoundOperator::Union)
                {
                    return Err(error(
                        "the initial select of a recursive CTE must be a UNION",
                    ));
                }
                let (limit, offset) = match sel.limit {
                    Some(l) => (
                        Some(l.expr.to_string()),
                        l.offset.as_ref().map(|o| o.to_string()),
                    ),
                    None => (None, None),
                };
                recursive = Some(Recursive {
                    initial: arms[..first_rec].to_vec(),
                    recursive: arms[first_rec..].to_vec(),
                    distinct,
                    limit,
                    offset,
                });
            }
            self.ctes.push(Cte {
                name,
                columns,
                sql,
                recursive,
                bound: None,
            });
        }
        Ok(with.ctes.len())
    }

    pub fn pop_ctes(&mut self, n: usize) {
        let keep = self.ctes.len().saturating_sub(n);
        self.ctes.truncate(keep);
    }

    /// The innermost visible CTE named `name`.
    pub fn find_cte(&self, name: &str) -> Option<usize> {
        self.ctes.iter().rposition(|c| names::eq(&c.name, name))
    }

    /// A source for CTE number `i` (materialised now, or the bound current row).
    pub fn cte_source(&mut self, i: usize, alias: String) -> Result<Source> {
        let cte = self.ctes[i].clone();
        if let Some((cursor, columns)) = &cte.bound {
            return Ok(Source {
                name: alias,
                cursor: *cursor,
                columns: columns.clone(),
                table: None,
                merged: Default::default(),
                schema: None,
                cover: None,
                tvf: None,
            });
        }
        // A CTE sees the CTEs defined before it (and itself only if recursive).
        let saved: Vec<Cte> = self.ctes.drain(i..).collect();
        let r = match &cte.recursive {
            None => with_parsed(&cte.sql, |stmt| {
                let Stmt::Select(sel) = stmt else {
                    return Err(error("bad CTE"));
                };
                self.materialize(sel, alias.clone(), cte.columns.as_deref(), true)
            }),
            Some(rec) => self.recursive_cte(&cte, rec, alias.clone()),
        };
        self.ctes.extend(saved);
        r
    }

    fn recursive_cte(&mut self, cte: &Cte, rec: &Recursive, alias: String) -> Result<Source> {
        let result = self.b.alloc_cursor();
        let queue = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor: result,
            kind: EphemeralKind::Table,
        });
        self.emit(Insn::OpenEphemeral {
            cursor: queue,
            kind: EphemeralKind::Table,
        });
        let done = self.label();
        let limit = match &rec.limit {
            Some(l) => {
                let r = self.reg();
                self.scalar_text(l, r)?;
                self.emit(Insn::MustBeInt { reg: r });
                self.emit(Insn::IfNot {
                    reg: r,
                    target: done.addr(),
                    jump_if_null: false,
                });
                Some(r)
            }
            None => None,
        };
        let offset = match &rec.offset {
            Some(o) => {
                let r = self.reg();
                self.scalar_text(o, r)?;
                self.emit(Insn::MustBeInt { reg: r });
                Some(r)
            }
            None => None,
        };
        // The initial rows.
        let mut cols: Option<Vec<ResultCol>> = None;
        let distinct_ph = self.emit(Insn::Noop);
        let distinct = if rec.distinct {
            Some(self.b.alloc_cursor())
        } else {
            None
        };
        let dest = Dest::Queue {
            queue,
            result,
            distinct,
            limit,
            offset,
            done,
        };
        for arm in &rec.initial {
            let c = with_parsed(arm, |stmt| {
                let Stmt::Select(sel) = stmt else {
                    return Err(error("bad CTE"));
                };
                self.select(sel, &dest)
            })?;
            if let Some(prev) = &cols {
                if prev.len() != c.len() {
                    return Err(error(
                        "SELECTs to the left and right of UNION do not have the same number of result columns",
                    ));
                }
            } else {
                cols = Some(c);
            }
        }
        let cols = cols.unwrap_or_default();
        let n = cols.len();
        if let Some(names) = &cte.columns {
            if names.len() != n {
                return Err(error(format!(
                    "table {} has {n} values for {} columns",
                    cte.name,
                    names.len()
                )));
            }
        }
        if let Some(d) = distinct {
            *self.b.insn_mut(distinct_ph) = Insn::OpenEphemeral {
                cursor: d,
                kind: EphemeralKind::Index {
                    key_info: std::sync::Arc::new(KeyInfo {
                        fields: cols.iter().map(|c| (c.collation, SortOrder::Asc)).collect(),
                        ..Default::default()
                    }),
                },
            };
        }
        let names = match &cte.columns {
            Some(n) => n.clone(),
            None => names::unique_column_names(
                cols.iter().map(crate::select::source_column_name).collect(),
            ),
        };
        let columns: Vec<SourceColumn> = cols
            .iter()
            .zip(names)
            .map(|(c, name)| SourceColumn {
                name,
                affinity: c.affinity,
                collation: c.collation,
                decl_type: c.decl_type.clone(),
                is_rowid_alias: false,
                default: None,
                hidden: false,
            })
            .collect();
        // The recursion: one queued row at a time.
        let top = self.label();
        self.resolve(top);
        self.emit(Insn::RewindAsync { cursor: queue });
        self.emit(Insn::RewindAwait {
            cursor: queue,
            target_if_empty: done.addr(),
        });
        let regs: Reg = self.regs(n.max(1));
        for i in 0..n {
            self.emit(Insn::Column {
                cursor: queue,
                column: i,
                dest: regs + i,
                default: None,
            });
        }
        self.emit(Insn::DeleteAsync {
            cursor: queue,
            count: strata_vdbe::insn::RowCount::None,
        });
        self.emit(Insn::DeleteAwait { cursor: queue });
        let current = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor: current,
            kind: EphemeralKind::Table,
        });
        let never = self.label();
        self.write_dest(regs, n, &Dest::EphemTable { cursor: current }, never)?;
        self.resolve(never);
        // Bind the CTE's name to the current row while the recursive arms compile.
        self.ctes.push(Cte {
            name: cte.name.clone(),
            columns: cte.columns.clone(),
            sql: cte.sql.clone(),
            recursive: None,
            bound: Some((current, columns.clone())),
        });
        let r = (|| {
            for arm in &rec.recursive {
                let c = with_parsed(arm, |stmt| {
                    let Stmt::Select(sel) = stmt else {
                        return Err(error("bad CTE"));
                    };
                    self.select(sel, &dest)
                })?;
                if c.len() != n {
                    return Err(error(
                        "SELECTs to the left and right of UNION do not have the same number of result columns",
                    ));
                }
            }
            Ok(())
        })();
        self.ctes.pop();
        r?;
        self.goto(top);
        self.resolve(done);
        Ok(Source {
            name: alias,
            cursor: result,
            columns,
            table: None,
            merged: Default::default(),
            schema: None,
            cover: None,
            tvf: None,
        })
    }

    /// Compiles an expression given as SQL text (no table in scope).
    fn scalar_text(&mut self, sql: &str, dest: Reg) -> Result<()> {
        with_parsed(&format!("SELECT {sql}"), |stmt| {
            let Stmt::Select(sel) = stmt else {
                return Err(error("bad expression"));
            };
            let sqlite3_parser::ast::OneSelect::Select { columns, .. } = &sel.body.select else {
                return Err(error("bad expression"));
            };
            let Some(sqlite3_parser::ast::ResultColumn::Expr(e, _, _)) = columns.first() else {
                return Err(error("bad expression"));
            };
            self.levels.push(Default::default());
            let r = self.expr(e, dest);
            self.levels.pop();
            r
        })
    }
}
