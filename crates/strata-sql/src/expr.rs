//! Expressions: name resolution, affinity and collation, code generation.

use sqlite3_parser::ast::{self, Expr, Literal, Operator, UnaryOperator};
use strata_btree::record::{Collation, Value};
use strata_vdbe::affinity::{affinity_of_type, compare_affinity, Affinity};
use strata_vdbe::aggregate::lookup_aggregate;
use strata_vdbe::functions::{lookup_scalar, resolve_scalar};
use strata_vdbe::insn::{Insn, Reg};
use strata_vdbe::numeric::{atof, dec_or_hex_to_i64};
use strata_vdbe::ops::{Arith, Bit, Cmp};

use crate::builder::Label;
use crate::compiler::{error, Compiler, Result};
pub(crate) use crate::expr_walk::walk_refs;
pub use crate::expr_walk::{is_aggregate_call, walk};
use crate::names::{self, DbName};
use crate::row_value::is_row_value;
use crate::scope::{ColumnRef, ROWID};

/// Parses a numeric literal as SQLite does: integers that fit in i64 stay integers,
/// anything else (fractions, exponents, too large) is a real.
pub fn numeric_literal(s: &str, negate: bool) -> Result<Value> {
    // SQLite 3.46 digit separators (`1_000`, `0x1_f`; the lexer only lets `_` stand
    // between digits): dropped before the value is read, as `sqlite3DequoteNumber`.
    let plain;
    let s = if s.contains('_') {
        plain = s.replace('_', "");
        plain.as_str()
    } else {
        s
    };
    let bytes = s.as_bytes();
    let is_hex = bytes.len() > 2 && bytes[0] == b'0' && (bytes[1] | 0x20) == b'x';
    if is_hex {
        let (v, rc) = dec_or_hex_to_i64(bytes);
        if rc == 2 {
            return Err(error(format!("hex literal too big: {s}")));
        }
        return Ok(Value::Integer(if negate { v.wrapping_neg() } else { v }));
    }
    if !bytes.iter().any(|c| matches!(c, b'.' | b'e' | b'E')) {
        let (v, rc) = dec_or_hex_to_i64(bytes);
        match rc {
            0 => return Ok(Value::Integer(if negate { -v } else { v })),
            3 if negate => return Ok(Value::Integer(i64::MIN)),
            _ => {}
        }
    }
    let (r, _) = atof(bytes);
    Ok(Value::Real(if negate { -r } else { r }))
}

fn string_literal(s: &str) -> Vec<u8> {
    names::unquote(s).into_bytes()
}

fn blob_literal(s: &str) -> Result<Vec<u8>> {
    let h = s.as_bytes();
    if h.len() % 2 != 0 || !h.iter().all(|c| c.is_ascii_hexdigit()) {
        return Err(error(format!("unrecognized token: \"x'{s}'\"")));
    }
    Ok(h.chunks(2)
        .map(|p| {
            let d = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
            d(p[0]) * 16 + d(p[1])
        })
        .collect())
}

/// The collation of an expression and whether it was explicit (COLLATE).
#[derive(Clone, Copy, Debug)]
pub struct CollInfo {
    pub collation: Collation,
    pub explicit: bool,
}

impl Compiler<'_> {
    /// Resolves a column name (optionally qualified) through the query levels, innermost
    /// first.
    pub fn resolve_column(
        &mut self,
        table: Option<&str>,
        column: &str,
    ) -> Result<Option<ColumnRef>> {
        self.resolve_column_in(None, table, column)
    }

    /// [`Compiler::resolve_column`], only among tables of database `db` if given.
    fn resolve_column_in(
        &mut self,
        db: Option<usize>,
        table: Option<&str>,
        column: &str,
    ) -> Result<Option<ColumnRef>> {
        let col = names::unquote(column);
        let tab = table.map(names::unquote);
        for level in (0..self.levels.len()).rev() {
            let mut found: Option<ColumnRef> = None;
            let mut ambiguous = false;
            for (si, src) in self.levels[level].sources.iter().enumerate() {
                if let Some(t) = &tab {
                    if !names::eq(&src.name, t) {
                        continue;
                    }
                }
                // `db.name.column`: a table's or view's database (not a subquery's).
                if let Some(d) = db {
                    if src.schema != Some(d) {
                        continue;
                    }
                }
                let hit = src
                    .columns
                    .iter()
                    .position(|c| names::eq(&c.name, &col) && (tab.is_some() || !c.hidden));
                let hit = match hit {
                    Some(c) => Some(c),
                    None => {
                        // rowid, oid, _rowid_ name the rowid unless a column has the name.
                        let is_rowid_name = ["rowid", "oid", "_rowid_"]
                            .iter()
                            .any(|n| names::eq(n, &col));
                        // (json_each/json_tree rows have SQLite's rowids too.)
                        // (A WITHOUT ROWID table has none: "no such column: rowid".)
                        let has_rowid = src
                            .table
                            .as_ref()
                            .is_some_and(|t| t.without_rowid.is_none());
                        if is_rowid_name && (has_rowid || src.tvf.is_some()) {
                            Some(ROWID)
                        } else {
                            None
                        }
                    }
                };
                if let Some(c) = hit {
                    if found.is_some() {
                        if c == ROWID && tab.is_none() {
                            continue;
                        }
                        ambiguous = true;
                    } else {
                        found = Some(ColumnRef {
                            level,
                            source: si,
                            column: c,
                        });
                    }
                }
            }
            if ambiguous {
                let shown = match (&tab, db) {
                    (Some(t), Some(d)) => {
                        format!("{}.{t}.{col}", self.schema.db_name(d))
                    }
                    (Some(t), None) => format!("{t}.{col}"),
                    (None, _) => col.clone(),
                };
                return Err(error(format!("ambiguous column name: {shown}")));
            }
            if let Some(f) = found {
                let innermost = self.levels.len() - 1;
                if level < innermost {
                    if self.levels[level].window_rows {
                        // A subquery compiled while a windowed select returns its
                        // buffered rows: this level's tables are no longer on the row.
                        return Err(error(
                            "a subquery correlated with a window function's query, in the same expression as the window function, is not supported",
                        ));
                    }
                    for l in &mut self.levels[level + 1..] {
                        l.correlated = true;
                    }
                }
                return Ok(Some(f));
            }
        }
        Ok(None)
    }

    /// Resolves a reference collected by [`walk_refs`].
    pub(crate) fn resolve_ref(
        &mut self,
        db: Option<&str>,
        table: Option<&str>,
        column: &str,
    ) -> Result<Option<ColumnRef>> {
        match (db, table) {
            (Some(d), Some(t)) => self.resolve_in_db(d, t, column),
            (_, t) => self.resolve_column(t, column),
        }
    }

    /// The column an identifier expression names (`c`, `t.c`, `db.t.c`), if any.
    pub(crate) fn column_ref_of(&mut self, e: &Expr<'_>) -> Result<Option<ColumnRef>> {
        match e {
            Expr::Id(id) => self.resolve_column(None, id.0),
            Expr::Name(n) => self.resolve_column(None, n.0),
            Expr::Qualified(t, c) => self.resolve_column(Some(t.0), c.0),
            Expr::DoublyQualified(db, t, c) => self.resolve_in_db(db.0, t.0, c.0),
            _ => Ok(None),
        }
    }

    /// Resolves `db.t.c`: like `t.c`, but only a table of database `db` matches (so not
    /// a subquery, CTE or view named `t`, and nothing for an unknown database).
    pub(crate) fn resolve_in_db(
        &mut self,
        db: &str,
        table: &str,
        column: &str,
    ) -> Result<Option<ColumnRef>> {
        let Some(want) = DbName::resolve(self.schema, Some(db)).and_then(|d| d.index()) else {
            return Ok(None);
        };
        self.resolve_column_in(Some(want), Some(table), column)
    }

    /// SQLite's `sqlite3ExprAffinity` (None = no affinity).
    pub fn expr_affinity(&mut self, e: &Expr<'_>) -> Option<Affinity> {
        match e {
            Expr::Id(_) | Expr::Name(_) | Expr::Qualified(..) | Expr::DoublyQualified(..) => {
                match self.column_ref_of(e) {
                    Ok(Some(r)) => {
                        let src = &self.levels[r.level].sources[r.source];
                        if r.column == ROWID {
                            Some(Affinity::Integer)
                        } else {
                            src.columns[r.column].affinity
                        }
                    }
                    _ => None,
                }
            }
            Expr::Cast {
                type_name: Some(t), ..
            } => Some(affinity_of_type(t.name.as_bytes())),
            Expr::Cast {
                type_name: None, ..
            } => Some(Affinity::Blob),
            Expr::Collate(inner, _) => self.expr_affinity(inner),
            Expr::Parenthesized(v) if v.len() == 1 => self.expr_affinity(&v[0]),
            Expr::Subquery(sel) => self.subquery_affinity(sel),
            _ => None,
        }
    }

    /// SQLite's `sqlite3ExprCollSeq`, with whether the collation was explicit.
    pub fn expr_collation(&mut self, e: &Expr<'_>) -> Result<Option<CollInfo>> {
        Ok(match e {
            Expr::Collate(_, name) => {
                let n = names::unquote(name);
                let c = Collation::from_name(&n)
                    .ok_or_else(|| error(format!("no such collation sequence: {n}")))?;
                Some(CollInfo {
                    collation: c,
                    explicit: true,
                })
            }
            Expr::Id(_) | Expr::Name(_) | Expr::Qualified(..) | Expr::DoublyQualified(..) => {
                match self.column_ref_of(e)? {
                    Some(r) if r.column != ROWID => Some(CollInfo {
                        collation: self.levels[r.level].sources[r.source].columns[r.column]
                            .collation,
                        explicit: false,
                    }),
                    _ => None,
                }
            }
            Expr::Cast { expr, .. } | Expr::Unary(UnaryOperator::Positive, expr) => {
                self.expr_collation(expr)?
            }
            Expr::Parenthesized(v) if v.len() == 1 => self.expr_collation(&v[0])?,
            Expr::Binary(l, op, r)
                if !matches!(
                    op,
                    Operator::Equals
                        | Operator::NotEquals
                        | Operator::Less
                        | Operator::LessEquals
                        | Operator::Greater
                        | Operator::GreaterEquals
                        | Operator::Is
                        | Operator::IsNot
                        | Operator::And
                        | Operator::Or
                ) =>
            {
                // An explicit COLLATE anywhere on the left (then right) operand wins.
                let lc = self.expr_collation(l)?;
                if let Some(c) = lc.filter(|c| c.explicit) {
                    Some(c)
                } else {
                    let rc = self.expr_collation(r)?;
                    rc.filter(|c| c.explicit)
                }
            }
            _ => None,
        })
    }

    /// Collation for a comparison of `l` with `r` (`sqlite3BinaryCompareCollSeq`).
    pub fn binary_collation(&mut self, l: &Expr<'_>, r: &Expr<'_>) -> Result<Collation> {
        let lc = self.expr_collation(l)?;
        let rc = self.expr_collation(r)?;
        Ok(match (lc, rc) {
            (Some(a), _) if a.explicit => a.collation,
            (_, Some(b)) if b.explicit => b.collation,
            (Some(a), _) => a.collation,
            (_, Some(b)) => b.collation,
            _ => Collation::Binary,
        })
    }

    /// Emits code reading a resolved column into `dest`.
    pub fn emit_column(&mut self, r: ColumnRef, dest: Reg) {
        if let Some(agg) = &self.levels[r.level].agg {
            if let Some(&reg) = agg.columns.get(&(r.source, r.column)) {
                self.emit(Insn::Copy {
                    src: reg,
                    dest,
                    count: 1,
                });
                return;
            }
        }
        let src = &self.levels[r.level].sources[r.source];
        let cursor = src.cursor;
        if let Some((icur, map)) = &src.cover {
            let icur = *icur;
            let is_rowid = r.column == ROWID || src.columns[r.column].is_rowid_alias;
            if is_rowid {
                self.emit(Insn::IdxRowid { cursor: icur, dest });
                return;
            }
            if let Some(&pos) = map.get(&r.column) {
                let real = src.columns[r.column].affinity == Some(Affinity::Real);
                let comment = format!("{}.{} (index)", src.name, src.columns[r.column].name);
                // A WITHOUT ROWID table's PRIMARY KEY entry is its row: one written
                // before an ADD COLUMN lacks the field and reads the column's default.
                let default = src
                    .table
                    .as_ref()
                    .filter(|t| t.without_rowid.is_some())
                    .and_then(|_| src.columns[r.column].default.clone());
                self.b.emit_c(
                    Insn::Column {
                        cursor: icur,
                        column: pos,
                        dest,
                        default,
                    },
                    comment,
                );
                if real {
                    self.emit(Insn::RealAffinity { reg: dest });
                }
                return;
            }
        }
        if r.column == ROWID {
            self.emit(Insn::Rowid { cursor, dest });
            return;
        }
        let col = &src.columns[r.column];
        if col.is_rowid_alias {
            self.emit(Insn::Rowid { cursor, dest });
            return;
        }
        let real = col.affinity == Some(Affinity::Real) && src.table.is_some();
        let default = col.default.clone();
        let comment = format!("{}.{}", src.name, col.name);
        // A table's columns are record fields past any VIRTUAL generated column, which
        // is computed from the row (`generated`).
        let mut field = r.column;
        if let Some(t) = src.table.clone() {
            match t.storage_index(r.column) {
                Some(f) => field = f,
                None => {
                    // On an outer join's NULL row the column is NULL, not its expression
                    // over NULLs (SQLite's OP_IfNullRow): the rowid is NULL only there.
                    // A WITHOUT ROWID table has no rowid (its cursor's "rowid" would be
                    // the record's last field read as an integer, which fails on text):
                    // its first key column is NULL only there (key columns are NOT NULL).
                    let src = src.clone();
                    let probe = self.reg();
                    let key_col = t.without_rowid.as_ref().map(|wr| wr.pk[0].column);
                    match (&src.cover, key_col) {
                        (Some((icur, map)), Some(k)) if map.contains_key(&k) => {
                            self.emit(Insn::Column {
                                cursor: *icur,
                                column: map[&k],
                                dest: probe,
                                default: None,
                            })
                        }
                        (Some((icur, _)), _) => self.emit(Insn::IdxRowid {
                            cursor: *icur,
                            dest: probe,
                        }),
                        // The key's first column is the record's first field.
                        (None, Some(_)) => self.emit(Insn::Column {
                            cursor,
                            column: 0,
                            dest: probe,
                            default: None,
                        }),
                        (None, None) => self.emit(Insn::Rowid {
                            cursor,
                            dest: probe,
                        }),
                    };
                    let null_row = self.label();
                    let done = self.label();
                    self.emit(Insn::IsNull {
                        reg: probe,
                        target: null_row.addr(),
                    });
                    let mut level = crate::scope::Level::default();
                    level.sources.push(src);
                    self.levels.push(level);
                    let res = self.generated_here_guarded(&t, r.column, dest);
                    self.levels.pop();
                    self.goto(done);
                    self.resolve(null_row);
                    self.emit(Insn::Null { dest, count: 1 });
                    self.resolve(done);
                    if let Err(e) = res {
                        let mut d = self.deferred_error.borrow_mut();
                        if d.is_none() {
                            *d = Some(e);
                        }
                    }
                    return;
                }
            }
        }
        // json_each/json_tree's `value` carries the JSON subtype when it is an array or
        // object: read it through a call that sets it from the hidden flag column.
        if src.tvf.as_ref().is_some_and(|t| t.pragma.is_none()) && r.column == 1 {
            let tmp = self.regs(2);
            self.b.emit_c(
                Insn::Column {
                    cursor,
                    column: 1,
                    dest: tmp,
                    default: None,
                },
                comment,
            );
            self.emit(Insn::Column {
                cursor,
                column: strata_vdbe::json::each::EACH_COLUMNS,
                dest: tmp + 1,
                default: None,
            });
            self.emit(Insn::Function {
                func: strata_vdbe::json::f_with_subtype,
                name: "json_each.value".into(),
                args_start: tmp,
                nargs: 2,
                dest,
                collation: Collation::Binary,
                subtype_args: Vec::new(),
                pure: None,
            });
            return;
        }
        self.b.emit_c(
            Insn::Column {
                cursor,
                column: field,
                dest,
                default,
            },
            comment,
        );
        if real {
            self.emit(Insn::RealAffinity { reg: dest });
        }
    }

    pub fn expr_new(&mut self, e: &Expr<'_>) -> Result<Reg> {
        let r = self.reg();
        self.expr(e, r)?;
        Ok(r)
    }

    fn agg_lookup(&self, e: &Expr<'_>) -> Option<Reg> {
        let level = self.levels.last()?;
        let agg = level.agg.as_ref()?;
        if agg.exprs.is_empty() {
            return None;
        }
        let key = format!("{e:?}");
        agg.exprs.iter().find(|(k, _)| *k == key).map(|(_, r)| *r)
    }

    /// Compiles `e`, leaving its value in `dest`.
    pub fn expr(&mut self, e: &Expr<'_>, dest: Reg) -> Result<()> {
        if let Some(src) = self.agg_lookup(e) {
            self.emit(Insn::Copy {
                src,
                dest,
                count: 1,
            });
            return Ok(());
        }
        match e {
            Expr::Literal(lit) => self.literal(lit, dest)?,
            Expr::Id(id) => match self.resolve_column(None, id.0)? {
                Some(r) => self.emit_column(r, dest),
                None => {
                    if let Some(sql) = self.alias_sql(id.0) {
                        self.alias_expr(id.0, &sql, dest)?;
                    } else if let Some(b) = true_false_word(id.0) {
                        self.emit(Insn::Integer {
                            value: b as i64,
                            dest,
                        });
                    } else if names::is_double_quoted(id.0) {
                        self.emit(Insn::String {
                            value: names::unquote(id.0).into_bytes(),
                            dest,
                        });
                    } else {
                        return Err(error(format!("no such column: {}", names::unquote(id.0))));
                    }
                }
            },
            Expr::Name(n) => match self.resolve_column(None, n.0)? {
                Some(r) => self.emit_column(r, dest),
                None => return Err(error(format!("no such column: {}", names::unquote(n.0)))),
            },
            Expr::Qualified(t, c) => match self.resolve_column(Some(t.0), c.0)? {
                Some(r) => self.emit_column(r, dest),
                None => {
                    return Err(error(format!(
                        "no such column: {}.{}",
                        names::unquote(t.0),
                        names::unquote(c.0)
                    )))
                }
            },
            Expr::DoublyQualified(db, t, c) => match self.resolve_in_db(db.0, t.0, c.0)? {
                Some(r) => self.emit_column(r, dest),
                None => {
                    return Err(error(format!(
                        "no such column: {}.{}.{}",
                        names::unquote(db.0),
                        names::unquote(t.0),
                        names::unquote(c.0)
                    )))
                }
            },
            Expr::Variable(v) => {
                let index = self.param_index(v)?;
                self.emit(Insn::Variable { index, dest });
            }
            Expr::Parenthesized(v) => {
                if v.len() != 1 {
                    return Err(error("row value misused"));
                }
                self.expr(&v[0], dest)?;
            }
            Expr::Collate(inner, name) => {
                let n = names::unquote(name);
                if Collation::from_name(&n).is_none() {
                    return Err(error(format!("no such collation sequence: {n}")));
                }
                self.expr(inner, dest)?;
            }
            Expr::Unary(op, inner) => self.unary(*op, inner, dest)?,
            Expr::Binary(l, op, r) => self.binary(l, *op, r, dest)?,
            Expr::IsNull(inner) | Expr::NotNull(inner) => {
                let src = self.expr_new(inner)?;
                self.emit(Insn::IsNullValue {
                    src,
                    dest,
                    invert: matches!(e, Expr::NotNull(_)),
                });
            }
            Expr::Between {
                lhs,
                not,
                start,
                end,
            } if is_row_value(lhs) || is_row_value(start) || is_row_value(end) => {
                self.row_between(lhs, *not, start, end, dest)?
            }
            Expr::Between {
                lhs,
                not,
                start,
                end,
            } => {
                let x = self.expr_new(lhs)?;
                let lo = self.expr_new(start)?;
                let hi = self.expr_new(end)?;
                let aff_lo = self.cmp_affinity(lhs, start);
                let aff_hi = self.cmp_affinity(lhs, end);
                let coll_lo = self.binary_collation(lhs, start)?;
                let coll_hi = self.binary_collation(lhs, end)?;
                let a = self.reg();
                let b = self.reg();
                self.emit(Insn::CompareValue {
                    op: Cmp::Ge,
                    lhs: x,
                    rhs: lo,
                    dest: a,
                    affinity: aff_lo,
                    collation: coll_lo,
                    null_eq: false,
                });
                self.emit(Insn::CompareValue {
                    op: Cmp::Le,
                    lhs: x,
                    rhs: hi,
                    dest: b,
                    affinity: aff_hi,
                    collation: coll_hi,
                    null_eq: false,
                });
                self.emit(Insn::And {
                    lhs: a,
                    rhs: b,
                    dest,
                });
                if *not {
                    self.emit(Insn::Not { src: dest, dest });
                }
            }
            Expr::Case {
                base,
                when_then_pairs,
                else_expr,
            } => self.case(*base, when_then_pairs, *else_expr, dest)?,
            Expr::Cast { expr, type_name } => {
                self.expr(expr, dest)?;
                let tn = type_name
                    .as_ref()
                    .map(|t| t.name.as_bytes().to_vec())
                    .unwrap_or_default();
                self.emit(Insn::Cast {
                    reg: dest,
                    type_name: tn,
                });
            }
            Expr::Like {
                lhs,
                not,
                op,
                rhs,
                escape,
            } => {
                let fname = match op {
                    ast::LikeOperator::Like => "like",
                    ast::LikeOperator::Glob => "glob",
                    ast::LikeOperator::Match => return Err(error("no such function: match")),
                    ast::LikeOperator::Regexp => return Err(error("no such function: regexp")),
                };
                let nargs = if escape.is_some() { 3 } else { 2 };
                let args = self.regs(nargs);
                self.expr(rhs, args)?;
                self.expr(lhs, args + 1)?;
                if let Some(esc) = escape {
                    self.expr(esc, args + 2)?;
                }
                let func = resolve_scalar(fname, nargs).map_err(|e| error(e.to_string()))?;
                self.emit(Insn::Function {
                    func,
                    name: fname.into(),
                    args_start: args,
                    nargs,
                    dest,
                    collation: Collation::Binary,
                    subtype_args: Vec::new(),
                    pure: None,
                });
                if *not {
                    self.emit(Insn::Not { src: dest, dest });
                }
            }
            Expr::FunctionCall {
                name,
                distinctness,
                args,
                filter_over,
                order_by,
            } => {
                if filter_over
                    .as_ref()
                    .is_some_and(|t| t.over_clause.is_some())
                {
                    // Window calls are read from registers where they may appear.
                    return Err(error(format!(
                        "misuse of window function {}()",
                        names::unquote(name.0)
                    )));
                }
                let args = args.unwrap_or(&[]);
                // FILTER, or ORDER BY with arguments (SQLite's parser drops it without),
                // on a function that is not an aggregate: SQLite's resolver refuses it
                // once the function is known to exist with that many arguments (an
                // aggregate or window function here is a misuse `function_call` reports).
                let ordered = order_by.is_some() && !args.is_empty();
                if (filter_over.is_some() || ordered) && !is_aggregate_call(e) {
                    let fname = names::unquote(name.0);
                    let lower = fname.to_ascii_lowercase();
                    if !matches!(
                        strata_vdbe::window::WinFunc::lookup(&lower, args.len()),
                        Ok(Some(_))
                    ) {
                        if lookup_aggregate(&lower, args.len()).is_none() {
                            resolve_scalar(&lower, args.len()).map_err(|e| error(e.to_string()))?;
                        }
                        let what = if filter_over.is_some() {
                            "FILTER"
                        } else {
                            "ORDER BY"
                        };
                        return Err(error(format!(
                            "{what} may not be used with non-aggregate {fname}()"
                        )));
                    }
                }
                self.function_call(e, name.0, distinctness.is_some(), args, dest)?;
            }
            Expr::FunctionCallStar { name, filter_over } => {
                let n = names::unquote(name.0);
                if filter_over
                    .as_ref()
                    .is_some_and(|t| t.over_clause.is_some())
                {
                    return Err(error(format!("misuse of window function {n}()")));
                }
                if names::eq(&n, "count") {
                    return Err(error("misuse of aggregate function count()"));
                }
                return Err(error(format!(
                    "wrong number of arguments to function {n}()"
                )));
            }
            Expr::InList { lhs, not, rhs } => self.in_list(lhs, *not, rhs.unwrap_or(&[]), dest)?,
            Expr::InSelect { lhs, not, rhs } => self.in_select(lhs, *not, rhs, dest)?,
            Expr::InTable {
                lhs,
                not,
                rhs,
                args,
            } => {
                if args.is_some() {
                    return Err(error("table-valued functions are not supported"));
                }
                self.in_table(lhs, *not, rhs, dest)?
            }
            Expr::Exists(sel) => self.exists(sel, dest)?,
            Expr::Subquery(sel) => self.scalar_subquery(sel, dest)?,
            Expr::Raise(kind, msg) => self.raise(*kind, *msg, dest)?,
        }
        Ok(())
    }

    fn literal(&mut self, lit: &Literal<'_>, dest: Reg) -> Result<()> {
        match lit {
            Literal::Numeric(s) => self.load_value(numeric_literal(s, false)?, dest),
            Literal::String(s) => {
                self.emit(Insn::String {
                    value: string_literal(s),
                    dest,
                });
            }
            Literal::Blob(s) => {
                self.emit(Insn::Blob {
                    value: blob_literal(s)?,
                    dest,
                });
            }
            Literal::Keyword(k) => {
                // TRUE/FALSE, or an identifier-like keyword.
                let k = names::unquote(k);
                if names::eq(&k, "true") {
                    self.emit(Insn::Integer { value: 1, dest });
                } else if names::eq(&k, "false") {
                    self.emit(Insn::Integer { value: 0, dest });
                } else {
                    match self.resolve_column(None, &k)? {
                        Some(r) => self.emit_column(r, dest),
                        None => return Err(error(format!("no such column: {k}"))),
                    }
                }
            }
            Literal::Null => {
                self.emit(Insn::Null { dest, count: 1 });
            }
            Literal::CurrentDate | Literal::CurrentTime | Literal::CurrentTimestamp => {
                let name = match lit {
                    Literal::CurrentDate => "current_date",
                    Literal::CurrentTime => "current_time",
                    _ => "current_timestamp",
                };
                let func = resolve_scalar(name, 0).map_err(|e| error(e.to_string()))?;
                self.emit(Insn::Function {
                    func,
                    name: name.into(),
                    args_start: dest,
                    nargs: 0,
                    dest,
                    collation: Collation::Binary,
                    subtype_args: Vec::new(),
                    pure: None,
                });
            }
        }
        Ok(())
    }

    pub fn load_value(&mut self, v: Value, dest: Reg) {
        match v {
            Value::Null => self.emit(Insn::Null { dest, count: 1 }),
            Value::Integer(value) => self.emit(Insn::Integer { value, dest }),
            Value::Real(value) => self.emit(Insn::Real { value, dest }),
            Value::Text(value) => self.emit(Insn::String { value, dest }),
            Value::Blob(value) => self.emit(Insn::Blob { value, dest }),
        };
    }

    fn unary(&mut self, op: UnaryOperator, inner: &Expr<'_>, dest: Reg) -> Result<()> {
        match op {
            UnaryOperator::Negative => {
                if let Expr::Literal(Literal::Numeric(s)) = inner {
                    let v = numeric_literal(s, true)?;
                    self.load_value(v, dest);
                    return Ok(());
                }
                let src = self.expr_new(inner)?;
                self.emit(Insn::Negate { src, dest });
            }
            UnaryOperator::Positive => self.expr(inner, dest)?,
            UnaryOperator::Not => {
                let src = self.expr_new(inner)?;
                self.emit(Insn::Not { src, dest });
            }
            UnaryOperator::BitwiseNot => {
                let src = self.expr_new(inner)?;
                self.emit(Insn::BitNot { src, dest });
            }
        }
        Ok(())
    }

    pub fn cmp_affinity(&mut self, l: &Expr<'_>, r: &Expr<'_>) -> Affinity {
        let la = self.expr_affinity(l);
        let ra = self.expr_affinity(r);
        compare_affinity(la, ra)
    }

    /// `TRUE` or `FALSE` written as a literal: an unquoted identifier `true`/`false`
    /// that names no column (SQLite's `sqlite3ExprIdToTrueFalse`).
    pub fn true_false_literal(&mut self, e: &Expr<'_>) -> Option<bool> {
        let Expr::Id(id) = e else { return None };
        let b = true_false_word(id.0)?;
        match self.resolve_column(None, id.0) {
            Ok(None) if self.alias_sql(id.0).is_none() => Some(b),
            _ => None,
        }
    }

    fn binary(&mut self, l: &Expr<'_>, op: Operator, r: &Expr<'_>, dest: Reg) -> Result<()> {
        // `->` and `->>` are SQLite's functions of those names (json.c).
        if matches!(op, Operator::ArrowRight | Operator::ArrowRightShift) {
            let name = if op == Operator::ArrowRight {
                "->"
            } else {
                "->>"
            };
            let func = resolve_scalar(name, 2).map_err(|e| error(e.to_string()))?;
            let args = self.regs(2);
            let subtype_args = subtype_args(&[l, r]);
            self.subtype_preclear(l, args, &subtype_args, 0);
            self.expr(l, args)?;
            self.subtype_preclear(r, args + 1, &subtype_args, 1);
            self.expr(r, args + 1)?;
            self.emit(Insn::Function {
                func,
                name: name.into(),
                args_start: args,
                nargs: 2,
                dest,
                collation: Collation::Binary,
                subtype_args,
                pure: None,
            });
            return Ok(());
        }
        // `x IS [NOT] TRUE|FALSE` tests truth, not equality with 1 or 0 (SQLite's
        // TK_TRUTH / OP_IsTrue): `2 IS TRUE` is 1, `NULL IS NOT TRUE` is 1.
        if matches!(op, Operator::Is | Operator::IsNot) {
            if let Some(b) = self.true_false_literal(r) {
                let negate = op == Operator::IsNot;
                let x = self.expr_new(l)?;
                self.emit(Insn::Integer {
                    value: negate as i64,
                    dest,
                });
                let skip = self.label();
                // Jump past "matches" when x is NULL or its truth is not `b`.
                if b {
                    self.emit(Insn::IfNot {
                        reg: x,
                        target: skip.addr(),
                        jump_if_null: true,
                    });
                } else {
                    self.emit(Insn::If {
                        reg: x,
                        target: skip.addr(),
                        jump_if_null: true,
                    });
                }
                self.emit(Insn::Integer {
                    value: !negate as i64,
                    dest,
                });
                self.resolve(skip);
                return Ok(());
            }
        }
        let cmp = match op {
            Operator::Equals => Some((Cmp::Eq, false)),
            Operator::NotEquals => Some((Cmp::Ne, false)),
            Operator::Less => Some((Cmp::Lt, false)),
            Operator::LessEquals => Some((Cmp::Le, false)),
            Operator::Greater => Some((Cmp::Gt, false)),
            Operator::GreaterEquals => Some((Cmp::Ge, false)),
            Operator::Is => Some((Cmp::Eq, true)),
            Operator::IsNot => Some((Cmp::Ne, true)),
            _ => None,
        };
        if let Some((cmp, null_eq)) = cmp {
            if is_row_value(l) || is_row_value(r) {
                return self.row_compare(l, op, r, dest);
            }
            let a = self.expr_new(l)?;
            let b = self.expr_new(r)?;
            let affinity = self.cmp_affinity(l, r);
            let collation = self.binary_collation(l, r)?;
            self.emit(Insn::CompareValue {
                op: cmp,
                lhs: a,
                rhs: b,
                dest,
                affinity,
                collation,
                null_eq,
            });
            return Ok(());
        }
        match op {
            Operator::And | Operator::Or => {
                let a = self.expr_new(l)?;
                let short = self.label();
                let end = self.label();
                if op == Operator::And {
                    self.emit(Insn::IfNot {
                        reg: a,
                        target: short.addr(),
                        jump_if_null: false,
                    });
                } else {
                    self.emit(Insn::If {
                        reg: a,
                        target: short.addr(),
                        jump_if_null: false,
                    });
                }
                let b = self.expr_new(r)?;
                if op == Operator::And {
                    self.emit(Insn::And {
                        lhs: a,
                        rhs: b,
                        dest,
                    });
                } else {
                    self.emit(Insn::Or {
                        lhs: a,
                        rhs: b,
                        dest,
                    });
                }
                self.goto(end);
                self.resolve(short);
                self.emit(Insn::Integer {
                    value: (op == Operator::Or) as i64,
                    dest,
                });
                self.resolve(end);
            }
            _ => {
                let a = self.expr_new(l)?;
                let b = self.expr_new(r)?;
                let insn = match op {
                    Operator::Add => Insn::Arith {
                        op: Arith::Add,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::Subtract => Insn::Arith {
                        op: Arith::Sub,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::Multiply => Insn::Arith {
                        op: Arith::Mul,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::Divide => Insn::Arith {
                        op: Arith::Div,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::Modulus => Insn::Arith {
                        op: Arith::Rem,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::BitwiseAnd => Insn::Bitwise {
                        op: Bit::And,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::BitwiseOr => Insn::Bitwise {
                        op: Bit::Or,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::LeftShift => Insn::Bitwise {
                        op: Bit::Shl,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::RightShift => Insn::Bitwise {
                        op: Bit::Shr,
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    Operator::Concat => Insn::Concat {
                        lhs: a,
                        rhs: b,
                        dest,
                    },
                    _ => return Err(error("the -> and ->> operators are not supported")),
                };
                self.emit(insn);
            }
        }
        Ok(())
    }

    fn case(
        &mut self,
        base: Option<&Expr<'_>>,
        pairs: &[(Expr<'_>, Expr<'_>)],
        else_expr: Option<&Expr<'_>>,
        dest: Reg,
    ) -> Result<()> {
        let end = self.label();
        // A row-value base is compared with each WHEN as `base = w` (SQLite).
        let row_base =
            base.filter(|b| is_row_value(b) || pairs.iter().any(|(w, _)| is_row_value(w)));
        let base_reg = match base {
            Some(b) if row_base.is_none() => Some(self.expr_new(b)?),
            _ => None,
        };
        let t = self.reg();
        for (when, then) in pairs {
            let next = self.label();
            match (base, base_reg) {
                (Some(b), None) => {
                    self.row_case_match(b, when, t)?;
                    self.emit(Insn::IfNot {
                        reg: t,
                        target: next.addr(),
                        jump_if_null: true,
                    });
                }
                (Some(b), Some(br)) => {
                    let w = self.expr_new(when)?;
                    let affinity = self.cmp_affinity(b, when);
                    let collation = self.binary_collation(b, when)?;
                    self.emit(Insn::Compare {
                        op: Cmp::Ne,
                        lhs: br,
                        rhs: w,
                        target: next.addr(),
                        affinity,
                        collation,
                        jump_if_null: true,
                        null_eq: false,
                    });
                }
                _ => {
                    self.expr(when, t)?;
                    self.emit(Insn::IfNot {
                        reg: t,
                        target: next.addr(),
                        jump_if_null: true,
                    });
                }
            }
            self.expr(then, dest)?;
            self.goto(end);
            self.resolve(next);
        }
        match else_expr {
            Some(e) => self.expr(e, dest)?,
            None => {
                self.emit(Insn::Null { dest, count: 1 });
            }
        }
        self.resolve(end);
        Ok(())
    }

    fn function_call(
        &mut self,
        whole: &Expr<'_>,
        name: &str,
        distinct: bool,
        args: &[Expr<'_>],
        dest: Reg,
    ) -> Result<()> {
        let fname = names::unquote(name);
        if is_aggregate_call(whole) {
            return Err(error(format!("misuse of aggregate function {fname}()")));
        }
        if let Ok(Some(_)) = strata_vdbe::window::WinFunc::lookup(&fname, args.len()) {
            // row_number() etc. without OVER.
            return Err(error(format!("misuse of window function {fname}()")));
        }
        if distinct {
            return Err(error(format!(
                "DISTINCT aggregates must have exactly one argument"
            )));
        }
        let lower = fname.to_ascii_lowercase();
        // Short-circuiting forms evaluate only what SQLite would.
        match (lower.as_str(), args.len()) {
            ("coalesce", n) | ("ifnull", n) if n >= 2 && (lower != "ifnull" || n == 2) => {
                let end = self.label();
                for (i, a) in args.iter().enumerate() {
                    self.expr(a, dest)?;
                    if i + 1 < args.len() {
                        self.emit(Insn::NotNull {
                            reg: dest,
                            target: end.addr(),
                        });
                    }
                }
                self.resolve(end);
                return Ok(());
            }
            ("iif", 3) | ("if", 3) => {
                let c = self.expr_new(&args[0])?;
                let els = self.label();
                let end = self.label();
                self.emit(Insn::IfNot {
                    reg: c,
                    target: els.addr(),
                    jump_if_null: true,
                });
                self.expr(&args[1], dest)?;
                self.goto(end);
                self.resolve(els);
                self.expr(&args[2], dest)?;
                self.resolve(end);
                return Ok(());
            }
            ("changes", 0) | ("total_changes", 0) | ("last_insert_rowid", 0) => {
                let what = match lower.as_str() {
                    "changes" => strata_vdbe::insn::ConnInfoKind::Changes,
                    "total_changes" => strata_vdbe::insn::ConnInfoKind::TotalChanges,
                    _ => strata_vdbe::insn::ConnInfoKind::LastInsertRowid,
                };
                self.emit(Insn::ConnInfo { what, dest });
                return Ok(());
            }
            ("sqlite_version", 0) => {
                self.emit(Insn::String {
                    value: crate::SQLITE_VERSION.as_bytes().to_vec(),
                    dest,
                });
                return Ok(());
            }
            ("likely", 1) | ("unlikely", 1) | ("likelihood", 2) => {
                return self.expr(&args[0], dest);
            }
            _ => {}
        }
        if lookup_scalar(&lower, args.len()).is_none()
            && lookup_aggregate(&lower, args.len()).is_some()
        {
            return Err(error(format!("misuse of aggregate function {fname}()")));
        }
        let func = resolve_scalar(&lower, args.len()).map_err(|e| error(e.to_string()))?;
        let start = self.regs(args.len().max(1));
        let mut collation = Collation::Binary;
        let mut coll_found = false;
        let refs: Vec<&Expr<'_>> = args.iter().collect();
        let subtypes = if consumes_subtypes(&lower) {
            subtype_args(&refs)
        } else {
            Vec::new()
        };
        for (i, a) in args.iter().enumerate() {
            self.subtype_preclear(a, start + i, &subtypes, i);
            self.expr(a, start + i)?;
            if !coll_found {
                if let Some(c) = self.expr_collation(a)? {
                    collation = c.collation;
                    coll_found = true;
                }
            }
        }
        self.emit(Insn::Function {
            func,
            name: lower,
            args_start: start,
            nargs: args.len(),
            dest,
            collation,
            subtype_args: subtypes,
            pure: self.pure_context,
        });
        Ok(())
    }

    fn in_list(&mut self, lhs: &Expr<'_>, not: bool, list: &[Expr<'_>], dest: Reg) -> Result<()> {
        if list.is_empty() {
            self.emit(Insn::Integer {
                value: not as i64,
                dest,
            });
            return Ok(());
        }
        if is_row_value(lhs) {
            return self.row_in_list(lhs, not, list, dest);
        }
        let x = self.expr_new(lhs)?;
        let end = self.label();
        let found = self.label();
        let is_null = self.label();
        self.emit(Insn::IsNull {
            reg: x,
            target: is_null.addr(),
        });
        let saw_null = self.reg();
        self.emit(Insn::Integer {
            value: 0,
            dest: saw_null,
        });
        let lhs_aff = self.expr_affinity(lhs);
        for item in list {
            let v = self.expr_new(item)?;
            let item_aff = self.expr_affinity(item);
            let affinity = match lhs_aff {
                Some(a) => compare_affinity(Some(a), item_aff),
                None => compare_affinity(None, item_aff),
            };
            let collation = self.binary_collation(lhs, item)?;
            let not_null = self.label();
            self.emit(Insn::NotNull {
                reg: v,
                target: not_null.addr(),
            });
            self.emit(Insn::Integer {
                value: 1,
                dest: saw_null,
            });
            self.resolve(not_null);
            self.emit(Insn::Compare {
                op: Cmp::Eq,
                lhs: x,
                rhs: v,
                target: found.addr(),
                affinity,
                collation,
                jump_if_null: false,
                null_eq: false,
            });
        }
        // Not found: NULL if some item was NULL, else false.
        self.emit(Insn::If {
            reg: saw_null,
            target: is_null.addr(),
            jump_if_null: false,
        });
        self.emit(Insn::Integer {
            value: not as i64,
            dest,
        });
        self.goto(end);
        self.resolve(found);
        self.emit(Insn::Integer {
            value: !not as i64,
            dest,
        });
        self.goto(end);
        self.resolve(is_null);
        self.emit(Insn::Null { dest, count: 1 });
        self.resolve(end);
        Ok(())
    }

    /// Emits a jump to `target` unless `e` is true (NULL and false jump): WHERE, ON, HAVING.
    pub fn jump_if_not_true(&mut self, e: &Expr<'_>, target: Label) -> Result<()> {
        match e {
            Expr::Binary(l, Operator::And, r) => {
                self.jump_if_not_true(l, target)?;
                self.jump_if_not_true(r, target)?;
            }
            Expr::Binary(l, op, r)
                if matches!(
                    op,
                    Operator::Equals
                        | Operator::NotEquals
                        | Operator::Less
                        | Operator::LessEquals
                        | Operator::Greater
                        | Operator::GreaterEquals
                ) && !is_row_value(l)
                    && !is_row_value(r)
                    && self.agg_lookup(e).is_none() =>
            {
                // Jump on the negated comparison; NULL jumps too.
                let negated = match op {
                    Operator::Equals => Cmp::Ne,
                    Operator::NotEquals => Cmp::Eq,
                    Operator::Less => Cmp::Ge,
                    Operator::LessEquals => Cmp::Gt,
                    Operator::Greater => Cmp::Le,
                    _ => Cmp::Lt,
                };
                let a = self.expr_new(l)?;
                let b = self.expr_new(r)?;
                let affinity = self.cmp_affinity(l, r);
                let collation = self.binary_collation(l, r)?;
                self.emit(Insn::Compare {
                    op: negated,
                    lhs: a,
                    rhs: b,
                    target: target.addr(),
                    affinity,
                    collation,
                    jump_if_null: true,
                    null_eq: false,
                });
            }
            _ => {
                let r = self.expr_new(e)?;
                self.emit(Insn::IfNot {
                    reg: r,
                    target: target.addr(),
                    jump_if_null: true,
                });
            }
        }
        Ok(())
    }

    /// Evaluates `expr` with all the given references resolved, returning whether it uses
    /// any column of levels at or above `level`... (see planner).
    pub fn column_refs(&mut self, e: &Expr<'_>) -> Result<Vec<ColumnRef>> {
        let mut idents: Vec<RefName> = Vec::new();
        let mut has_subquery = false;
        walk_refs(e, &mut idents, &mut has_subquery);
        let mut out = Vec::new();
        for (d, t, c) in idents {
            if let Some(r) = self.resolve_ref(d.as_deref(), t.as_deref(), &c)? {
                out.push(r);
            } else if t.is_none() {
                if let Some(sql) = self.alias_sql(&c) {
                    let level = self.levels.len() - 1;
                    self.levels[level].expanding.push(names::key(&c));
                    let r = crate::schema::with_parsed(&format!("SELECT {sql}"), |stmt| {
                        let e = first_result_expr(stmt)?;
                        self.column_refs(e)
                    });
                    self.levels[level].expanding.pop();
                    out.extend(r?);
                }
            }
        }
        if has_subquery {
            // A subquery may reference any outer source: treat it as referencing every
            // source of the current level (evaluated once all are available).
            let level = self.levels.len() - 1;
            for s in 0..self.levels[level].sources.len() {
                out.push(ColumnRef {
                    level,
                    source: s,
                    column: ROWID,
                });
            }
        }
        Ok(out)
    }
}

fn first_result_expr<'b>(stmt: &'b sqlite3_parser::ast::Stmt<'b>) -> Result<&'b Expr<'b>> {
    if let sqlite3_parser::ast::Stmt::Select(sel) = stmt {
        if let ast::OneSelect::Select { columns, .. } = &sel.body.select {
            if let Some(ast::ResultColumn::Expr(e, _, _)) = columns.first() {
                return Ok(e);
            }
        }
    }
    Err(error("bad alias expression"))
}

impl Compiler<'_> {
    /// The SQL of the current level's result alias `name`, unless it is being expanded.
    fn alias_sql(&self, name: &str) -> Option<String> {
        let level = self.levels.last()?;
        let key = names::key(name);
        if level.expanding.contains(&key) {
            return None;
        }
        level
            .aliases
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(&key))
            .map(|(_, sql)| sql.clone())
    }

    fn alias_expr(&mut self, name: &str, sql: &str, dest: Reg) -> Result<()> {
        let level = self.levels.len() - 1;
        self.levels[level].expanding.push(names::key(name));
        let r = crate::schema::with_parsed(&format!("SELECT {sql}"), |stmt| {
            let e = first_result_expr(stmt)?;
            self.expr(e, dest)
        });
        self.levels[level].expanding.pop();
        r
    }
}

/// A column reference as written: (database, table, column).
pub(crate) type RefName = (Option<String>, Option<String>, String);

/// `Some(true)`/`Some(false)` for an unquoted `true`/`false` (any case).
pub fn true_false_word(id: &str) -> Option<bool> {
    if id.eq_ignore_ascii_case("true") {
        Some(true)
    } else if id.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Functions that look at their arguments' JSON subtype (the JSON functions and
/// `subtype()`); only their calls track it.
pub(crate) fn consumes_subtypes(lower_name: &str) -> bool {
    lower_name.starts_with("json") || lower_name == "subtype"
}

/// Functions compiled inline (see `function_call`): their value is one of their
/// arguments', written into the result register by that argument's code.
fn is_inline_function(lower_name: &str) -> bool {
    matches!(
        lower_name,
        "coalesce" | "ifnull" | "iif" | "if" | "likely" | "unlikely" | "likelihood" | "nullif"
    )
}

/// Whether an argument's register must have its subtype flag cleared before the
/// argument's code runs: its value may come from a write that is not a function call
/// (a CASE branch, an inline function's literal argument), which leaves the flag alone.
fn needs_preclear(e: &Expr<'_>) -> bool {
    match e {
        Expr::Case { .. } => true,
        Expr::FunctionCall { name, .. } => {
            is_inline_function(&names::unquote(name.0).to_ascii_lowercase())
        }
        Expr::Parenthesized(v) if v.len() == 1 => needs_preclear(&v[0]),
        _ => false,
    }
}

/// The arguments that may carry SQLite's JSON subtype: (index, always). `always` marks
/// calls of functions whose text result always has the subtype (json(), json_array()...),
/// known without the VM's per-register flag; the others read the flag, which function
/// calls set (and clear) on their result register, `Copy` carries, and
/// [`Compiler::subtype_preclear`] clears before a CASE or inline function. Expressions
/// that cannot carry it (literals, operators, CAST...) are not listed.
pub(crate) fn subtype_args(args: &[&Expr<'_>]) -> Vec<(usize, bool)> {
    /// None: no subtype; Some(always).
    fn carries(e: &Expr<'_>) -> Option<bool> {
        match e {
            Expr::FunctionCall { name, args, .. } => {
                let n = names::unquote(name.0).to_ascii_lowercase();
                let n_args = args.as_deref().map_or(0, |a| a.len());
                match n.as_str() {
                    "json" | "json_array" | "json_object" | "json_quote" | "json_insert"
                    | "json_replace" | "json_set" | "json_remove" | "json_patch"
                    | "json_group_array" | "json_group_object" | "jsonb_group_array"
                    | "jsonb_group_object" => Some(true),
                    "json_extract" if n_args > 2 => Some(true),
                    _ => Some(false),
                }
            }
            Expr::Case { .. } => Some(false),
            // A scalar subquery's value is copied from its result column's register,
            // flag included; a function call sets that flag on every write.
            Expr::Subquery(sel) => match &sel.body.select {
                sqlite3_parser::ast::OneSelect::Select { columns, .. }
                    if columns.len() == 1 && sel.body.compounds.is_none() =>
                {
                    match &columns[0] {
                        sqlite3_parser::ast::ResultColumn::Expr(e, _, _)
                            if matches!(e, Expr::FunctionCall { .. } | Expr::Binary(..))
                                && !needs_preclear(e)
                                && carries(e).is_some() =>
                        {
                            Some(false)
                        }
                        _ => None,
                    }
                }
                _ => None,
            },
            Expr::Binary(_, Operator::ArrowRight, _) => Some(true),
            Expr::Binary(_, Operator::ArrowRightShift, _) => Some(false),
            Expr::Parenthesized(v) if v.len() == 1 => carries(&v[0]),
            // A column reference is compiled into its own register: only json_each's
            // `value` sets the flag there (see `emit_column`), others leave it clear.
            Expr::Id(_) | Expr::Name(_) | Expr::Qualified(..) | Expr::DoublyQualified(..) => {
                Some(false)
            }
            _ => None,
        }
    }
    args.iter()
        .enumerate()
        .filter_map(|(i, e)| carries(e).map(|always| (i, always)))
        .collect()
}

impl Compiler<'_> {
    /// Clears the subtype flag of argument register `reg` before a CASE or an inline
    /// function computes argument `i` into it (see [`subtype_args`]).
    pub(crate) fn subtype_preclear(
        &mut self,
        e: &Expr<'_>,
        reg: Reg,
        subtypes: &[(usize, bool)],
        i: usize,
    ) {
        if needs_preclear(e) && subtypes.iter().any(|&(k, always)| k == i && !always) {
            self.emit(Insn::Function {
                func: strata_vdbe::json::f_clear_subtype,
                name: "json.clear_subtype".into(),
                args_start: reg,
                nargs: 0,
                dest: reg,
                collation: Collation::Binary,
                subtype_args: Vec::new(),
                pure: None,
            });
        }
    }
}
