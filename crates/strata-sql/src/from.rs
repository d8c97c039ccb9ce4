//! FROM clauses: each item (a table, a view or subquery materialised, a CTE, json_each /
//! json_tree) becomes a source of the current query level, joined in FROM order with its
//! ON, NATURAL and USING terms (see `planner` for the loops and `right_join`).

use sqlite3_parser::ast::{
    As, FromClause, JoinConstraint, JoinOperator, JoinType, SelectTable, Stmt,
};
use strata_btree::record::Collation;
use strata_vdbe::insn::{EphemeralKind, Insn};

use crate::compiler::{error, Compiler, Result};
use crate::names;
use crate::planner::{JoinKind, LoopSpec, Term};
use crate::schema::with_parsed;
use crate::scope::{ColumnRef, Source, SourceColumn, Tvf};
use crate::select::{split_and, table_source};

impl Compiler<'_> {
    /// FROM: adds the sources to the current level, opens their cursors, and returns the
    /// loop order with join kinds, plus the inner-join terms (ON, NATURAL, USING).
    pub fn from_clause<'a>(
        &mut self,
        from: Option<&'a FromClause<'a>>,
    ) -> Result<(Vec<LoopSpec<'a>>, Vec<Term<'a>>)> {
        let mut specs = Vec::new();
        let mut terms = Vec::new();
        if let Some(from) = from {
            self.from_items(from, &mut specs, &mut terms)?;
        }
        // Inner joins' ON terms were kept on their joins: they are WHERE terms, unless a
        // RIGHT or FULL join follows (its left operand must be joined first, see
        // `right_join`).
        let has_right_join = crate::right_join::check_right_joins(&specs)?;
        if !has_right_join {
            for s in specs.iter_mut().filter(|s| s.join == JoinKind::Inner) {
                terms.append(&mut s.on);
            }
        }
        Ok((specs, terms))
    }

    /// Adds the items of a FROM clause. A parenthesized join without an alias, joined
    /// with inner joins, is flattened into the enclosing list (inner joins associate).
    fn from_items<'a>(
        &mut self,
        from: &'a FromClause<'a>,
        specs: &mut Vec<LoopSpec<'a>>,
        terms: &mut Vec<Term<'a>>,
    ) -> Result<()> {
        let Some(first) = from.select else {
            return Ok(());
        };
        if let SelectTable::Sub(inner, None) = first {
            self.from_items(inner, specs, terms)?;
        } else {
            let s0 = self.add_source(first)?;
            specs.push(LoopSpec {
                source: s0,
                join: JoinKind::Inner,
                on: Vec::new(),
            });
        }
        for j in from.joins.iter().flat_map(|j| j.iter()) {
            if let SelectTable::Sub(inner, None) = &j.table {
                let inner_join = match j.operator {
                    JoinOperator::Comma | JoinOperator::TypedJoin(None) => true,
                    JoinOperator::TypedJoin(Some(t)) => {
                        !t.intersects(JoinType::LEFT | JoinType::RIGHT | JoinType::NATURAL)
                    }
                };
                if !inner_join || matches!(j.constraint, Some(JoinConstraint::Using(_))) {
                    return Err(error(
                        "outer, NATURAL and USING joins of a parenthesized join are not supported yet",
                    ));
                }
                self.from_items(inner, specs, terms)?;
                if let Some(JoinConstraint::On(e)) = &j.constraint {
                    match specs.last_mut() {
                        Some(last) => split_and(e, &mut last.on),
                        None => split_and(e, terms),
                    }
                }
                continue;
            }
            let si = self.add_source(&j.table)?;
            let (kind, natural) = match j.operator {
                JoinOperator::Comma | JoinOperator::TypedJoin(None) => (JoinKind::Inner, false),
                JoinOperator::TypedJoin(Some(t)) => {
                    if t.contains(JoinType::RIGHT) {
                        if t.contains(JoinType::NATURAL)
                            || matches!(j.constraint, Some(JoinConstraint::Using(_)))
                        {
                            return Err(error(
                                "NATURAL and USING with RIGHT and FULL OUTER JOINs are not supported yet",
                            ));
                        }
                        let k = if t.contains(JoinType::LEFT) {
                            JoinKind::Full
                        } else {
                            JoinKind::Right
                        };
                        (k, false)
                    } else {
                        let k = if t.contains(JoinType::LEFT) {
                            JoinKind::Left
                        } else {
                            JoinKind::Inner
                        };
                        (k, t.contains(JoinType::NATURAL))
                    }
                }
            };
            let mut on_terms = Vec::new();
            let level = self.levels.len() - 1;
            let mut using: Vec<String> = Vec::new();
            if natural {
                for c in &self.levels[level].sources[si].columns {
                    let shared = self.levels[level].sources[..si].iter().any(|s| {
                        s.columns
                            .iter()
                            .any(|pc| !pc.hidden && names::eq(&pc.name, &c.name))
                    });
                    if shared {
                        using.push(c.name.clone());
                    }
                }
            }
            match &j.constraint {
                Some(JoinConstraint::On(e)) => split_and(e, &mut on_terms),
                Some(JoinConstraint::Using(cols)) => {
                    for c in cols.iter() {
                        using.push(names::unquote(c.0));
                    }
                }
                None => {}
            }
            for name in using {
                let left = self.levels[level].sources[..si]
                    .iter()
                    .enumerate()
                    .find_map(|(psi, s)| {
                        s.columns
                            .iter()
                            .position(|pc| !pc.hidden && names::eq(&pc.name, &name))
                            .map(|pci| (psi, pci))
                    });
                let right = self.levels[level].sources[si]
                    .columns
                    .iter()
                    .position(|c| names::eq(&c.name, &name));
                let (Some((psi, pci)), Some(rci)) = (left, right) else {
                    return Err(error(format!(
                        "cannot join using column {name} - column not present in both tables"
                    )));
                };
                self.levels[level].sources[si].columns[rci].hidden = true;
                self.levels[level].sources[si]
                    .merged
                    .insert(name.to_ascii_lowercase(), (psi, pci));
                on_terms.push(Term::ColEq(
                    ColumnRef {
                        level,
                        source: psi,
                        column: pci,
                    },
                    ColumnRef {
                        level,
                        source: si,
                        column: rci,
                    },
                ));
            }
            // (An inner join's ON terms go to `terms` in `from_clause`.)
            specs.push(LoopSpec {
                source: si,
                join: kind,
                on: on_terms,
            });
        }
        Ok(())
    }

    fn add_source<'a>(&mut self, st: &'a SelectTable<'a>) -> Result<usize> {
        let level = self.levels.len() - 1;
        let source = match st {
            SelectTable::Table(qn, alias, _) => {
                let name = names::unquote(qn.name.0);
                let scope = self.scope_of(qn)?;
                let alias_name = alias_of(alias.as_ref()).unwrap_or_else(|| name.clone());
                let cte = if qn.db_name.is_none() {
                    self.find_cte(&name)
                } else {
                    None
                };
                if let Some(i) = cte {
                    self.cte_source(i, alias_name)?
                } else if let Some(t) = scope.table(self.schema, &name) {
                    let cursor = self.b.alloc_cursor();
                    // A WITHOUT ROWID table's rows are its PRIMARY KEY index's entries.
                    let kind = crate::ddl::table_cursor_kind(&t);
                    self.emit(Insn::OpenReadAsync {
                        db: t.db,
                        cursor,
                        root_page: t.root_page,
                        root_reg: None,
                        kind,
                    });
                    self.emit(Insn::OpenReadAwait { cursor });
                    table_source(&t, alias_name, cursor)
                } else if let Some(v) = scope.view(self.schema, &name) {
                    let key = (v.db, v.name.to_ascii_lowercase());
                    if self.view_depth > 32 || self.view_stack.contains(&key) {
                        return Err(error(format!("view {} is circularly defined", v.name)));
                    }
                    self.view_depth += 1;
                    self.view_stack.push(key);
                    let r = with_parsed(&v.sql, |stmt| {
                        let Stmt::CreateView { select, .. } = stmt else {
                            return Err(error("not a view"));
                        };
                        self.in_body_of(v.db, format!("view {}", v.name), |c| {
                            // A view's names are those of its resolved select
                            // (sqlite3ViewGetColumnNames), unlike a subquery's.
                            c.materialize(select, alias_name.clone(), v.columns.as_deref(), false)
                        })
                        .map(|src| Source {
                            schema: Some(v.db),
                            ..src
                        })
                    });
                    self.view_depth -= 1;
                    self.view_stack.pop();
                    r?
                } else if let Some(src) =
                    self.pragma_source(&name, &[], alias_of(alias.as_ref()))?
                {
                    src
                } else {
                    return Err(error(format!("no such table: {}", self.shown_name(qn))));
                }
            }
            SelectTable::Select(sel, alias) => {
                let n = alias_of(alias.as_ref()).unwrap_or_default();
                self.materialize(sel, n, None, true)?
            }
            SelectTable::Sub(..) => return Err(error("parenthesized joins are not supported yet")),
            SelectTable::TableCall(qn, args, alias) => {
                let fname = names::unquote(qn.name.0);
                let recursive = if names::eq(&fname, "json_each") {
                    false
                } else if names::eq(&fname, "json_tree") {
                    true
                } else if let Some(src) =
                    self.pragma_source(&fname, args.unwrap_or(&[]), alias_of(alias.as_ref()))?
                {
                    self.levels[level].sources.push(src);
                    return Ok(self.levels[level].sources.len() - 1);
                } else {
                    return Err(error(format!("no such table: {}", self.shown_name(qn))));
                };
                let args = args.unwrap_or(&[]);
                if args.len() > 2 {
                    return Err(error(format!(
                        "too many arguments on {}() - max 2",
                        fname.to_ascii_lowercase()
                    )));
                }
                let name = alias_of(alias.as_ref()).unwrap_or(fname);
                let cursor = self.b.alloc_cursor();
                self.emit(Insn::OpenEphemeral {
                    cursor,
                    kind: EphemeralKind::Table,
                });
                let mut columns: Vec<SourceColumn> = strata_vdbe::json::each::EACH_COLUMN_NAMES
                    .iter()
                    .map(|n| SourceColumn {
                        name: n.to_string(),
                        affinity: None,
                        collation: Collation::Binary,
                        decl_type: None,
                        is_rowid_alias: false,
                        default: None,
                        // json and root are hidden columns (see `tvf_hidden`).
                        hidden: false,
                    })
                    .collect();
                // Whether `value` has the JSON subtype (read with it, see emit_column):
                // a name no SQL can spell.
                columns.push(SourceColumn {
                    name: "\u{0}value_subtype".into(),
                    affinity: None,
                    collation: Collation::Binary,
                    decl_type: None,
                    is_rowid_alias: false,
                    default: None,
                    hidden: true,
                });
                Source {
                    name,
                    cursor,
                    columns,
                    table: None,
                    merged: Default::default(),
                    // Eponymous virtual tables are in main's schema.
                    schema: Some(strata_vdbe::insn::MAIN_DB),
                    cover: None,
                    tvf: Some(Tvf {
                        recursive,
                        args: args.iter().map(|a| a.to_string()).collect(),
                        pragma: None,
                    }),
                }
            }
        };
        self.levels[level].sources.push(source);
        Ok(self.levels[level].sources.len() - 1)
    }
}

fn alias_of(a: Option<&As<'_>>) -> Option<String> {
    match a {
        Some(As::As(n)) | Some(As::Elided(n)) => Some(names::unquote(n.0)),
        None => None,
    }
}
