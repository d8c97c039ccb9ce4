//! Pragma table-valued functions (`pragma_table_info('t')`, `pragma_table_list`, ...)
//! and the introspection rows they share with the PRAGMA statements.
//!
//! The rows are decided from the schema at compile time, as the PRAGMA statements'
//! are. A function's argument may be any expression (`FROM sqlite_schema s,
//! pragma_table_info(s.name)`): the rows for every name the argument could match
//! (every table, view or index of the schema) are compiled in, and where the source's
//! loop starts the argument, as text, picks them (names compare case-insensitively, as
//! SQLite's lookups do); no match, no rows. The hidden columns `arg` and `schema` hold
//! the arguments given.

use std::sync::Arc;

use sqlite3_parser::ast::{self, Expr, Literal};
use strata_btree::collation::Collation;
use strata_btree::record::Value;
use strata_vdbe::insn::{EphemeralKind, ErrorCode, Insn, OnError, TEMP_DB};
use strata_vdbe::ops::Cmp;

use crate::compiler::{create_db, error, Compiler, Result, Scope};
use crate::names;
use crate::scope::{Source, SourceColumn, Tvf};
use crate::select::Dest;

/// The result columns of an introspection pragma.
pub(crate) fn cols_of(pname: &str) -> Vec<&'static str> {
    match pname {
        "table_info" => vec!["cid", "name", "type", "notnull", "dflt_value", "pk"],
        "table_xinfo" => vec![
            "cid",
            "name",
            "type",
            "notnull",
            "dflt_value",
            "pk",
            "hidden",
        ],
        "index_list" => vec!["seq", "name", "unique", "origin", "partial"],
        "index_info" => vec!["seqno", "cid", "name"],
        "index_xinfo" => vec!["seqno", "cid", "name", "desc", "coll", "key"],
        "foreign_key_list" => vec![
            "id",
            "seq",
            "table",
            "from",
            "to",
            "on_update",
            "on_delete",
            "match",
        ],
        "table_list" => vec!["schema", "name", "type", "ncol", "wr", "strict"],
        _ => Vec::new(),
    }
}

/// The pragmas with a table-valued function here.
const FUNCTION_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "table_list",
];

/// A pragma function's rows, by argument (see the module doc).
#[derive(Debug)]
pub struct PragmaTvf {
    /// The pragma (`table_info` for `pragma_table_info`).
    pub pname: String,
    /// Visible columns; `arg` (and `schema`) follow, hidden.
    pub visible: usize,
    /// Whether the function has the hidden `schema` column (every one but table_list).
    pub schema_col: bool,
    /// Which rows each argument gives: `None` for no (or a NULL) argument.
    pub cases: Vec<(Option<String>, std::result::Result<Vec<Vec<Value>>, String>)>,
}

/// The database a pragma function's schema argument names. The rows are picked at
/// compile time, so it must be a string literal (or NULL: any).
fn pragma_scope(
    dbs: &crate::schema::Schema,
    fname: &str,
    schema: Option<&Expr<'_>>,
) -> Result<Scope> {
    match schema {
        None | Some(Expr::Literal(Literal::Null)) => Ok(Scope::Any),
        Some(Expr::Literal(Literal::String(s))) => {
            let db = names::unquote(s);
            let q = ast::Name(&db);
            match create_db(dbs, Some(&q), false, "") {
                Ok(d) => Ok(Scope::Db(d)),
                Err(_) => Err(error(format!("unknown database '{db}'"))),
            }
        }
        Some(_) => Err(error(format!(
            "a schema argument of {fname}() other than a string literal is not supported yet"
        ))),
    }
}

impl Compiler<'_> {
    /// `FROM pragma_table_info WHERE arg = expr` (no argument in the call): the WHERE
    /// (or the function's own ON) term gives the argument, as SQLite's pragma virtual table takes it from the
    /// constraint, when `expr` reads only tables to the function's left. The term stays
    /// a filter (it holds for every row the argument picks).
    pub(crate) fn pragma_arg_pushdown(
        &mut self,
        specs: &[crate::planner::LoopSpec<'_>],
        where_terms: &[crate::planner::Term<'_>],
    ) -> Result<()> {
        let level = self.levels.len() - 1;
        for si in 0..self.levels[level].sources.len() {
            // Its own ON terms (an outer join's) count too: SQLite hands them to the
            // virtual table as well.
            let mut terms: Vec<crate::planner::Term<'_>> = where_terms.to_vec();
            for s in specs.iter().filter(|s| s.source == si) {
                terms.extend(s.on.iter().copied());
            }
            let terms = &terms[..];
            let (p, nargs) = match &self.levels[level].sources[si].tvf {
                Some(Tvf {
                    pragma: Some(p),
                    args,
                    ..
                }) => (p.clone(), args.len()),
                _ => continue,
            };
            let arg = if nargs == 0 {
                self.pushed_term(terms, level, si, p.visible)?
            } else {
                None
            };
            let schema = if p.schema_col && nargs < 2 {
                self.pushed_term(terms, level, si, p.visible + 1)?
            } else {
                None
            };
            if arg.is_none() && nargs == 0 {
                // `arg IN (...)` (or an OR of equalities, which SQLite may make an IN)
                // picks rows SQLite computes for each value it allows; here there would
                // be none to filter. Other constraints (IS, <, ...) SQLite does not hand
                // to the pragma either: they filter the argument-less rows, as here.
                for t in terms {
                    if let crate::planner::Term::Ast(
                        e @ (Expr::InList { .. }
                        | Expr::InSelect { .. }
                        | Expr::InTable { .. }
                        | Expr::Binary(_, ast::Operator::Or, _)),
                    ) = t
                    {
                        let refs = self.column_refs(e).unwrap_or_default();
                        if refs
                            .iter()
                            .any(|r| r.level == level && r.source == si && r.column == p.visible)
                        {
                            return Err(error(format!(
                                "this constraint on pragma_{}'s arg is not supported yet (pass the argument in the call, or use arg = value)",
                                p.pname
                            )));
                        }
                    }
                }
            }
            if arg.is_none() && schema.is_none() {
                continue;
            }
            let mut new_p = None;
            if let Some(e) = &schema {
                // The schema picks the rows: rebuild them for it.
                let fname = format!("pragma_{}", p.pname);
                let scope = crate::schema::with_parsed(&format!("SELECT {e}"), |stmt| {
                    let ast::Stmt::Select(sel) = stmt else {
                        return Err(error("bad schema argument"));
                    };
                    let ast::OneSelect::Select { columns, .. } = &sel.body.select else {
                        return Err(error("bad schema argument"));
                    };
                    let Some(ast::ResultColumn::Expr(x, _, _)) = columns.first() else {
                        return Err(error("bad schema argument"));
                    };
                    pragma_scope(self.schema, &fname, Some(x))
                })?;
                new_p = Some(Arc::new(PragmaTvf {
                    pname: p.pname.clone(),
                    visible: p.visible,
                    schema_col: p.schema_col,
                    cases: self.pragma_cases(&p.pname, scope),
                }));
            }
            if let Some(tvf) = self.levels[level].sources[si].tvf.as_mut() {
                match arg {
                    Some(a) => tvf.args.push(a),
                    None if tvf.args.is_empty() => tvf.args.push("NULL".into()),
                    None => {}
                }
                if let Some(e) = schema {
                    tvf.args.push(e);
                }
                if let Some(np) = new_p {
                    tvf.pragma = Some(np);
                }
            }
        }
        Ok(())
    }

    /// The other side of a WHERE term `col = expr` on hidden column `column` of source
    /// `si`, if it reads only tables to the function's left.
    fn pushed_term(
        &mut self,
        terms: &[crate::planner::Term<'_>],
        level: usize,
        si: usize,
        column: usize,
    ) -> Result<Option<String>> {
        for t in terms {
            let crate::planner::Term::Ast(Expr::Binary(l, ast::Operator::Equals, r)) = t else {
                continue;
            };
            for (col, other) in [(l, r), (r, l)] {
                if !matches!(**col, Expr::Id(_) | Expr::Qualified(..)) {
                    continue;
                }
                let Ok(refs) = self.column_refs(col) else {
                    continue;
                };
                let hit = refs.len() == 1
                    && refs[0].level == level
                    && refs[0].source == si
                    && refs[0].column == column;
                if !hit {
                    continue;
                }
                let others = self.column_refs(other)?;
                if others.iter().all(|o| o.level != level || o.source < si) {
                    return Ok(Some(other.to_string()));
                }
            }
        }
        Ok(None)
    }

    /// The rows of an introspection pragma (`PRAGMA table_info(t)` and the like) for
    /// argument `arg`, looked up in `scope`.
    pub(crate) fn introspection_rows(
        &self,
        pname: &str,
        arg: Option<&str>,
        scope: Scope,
    ) -> Result<(Vec<&'static str>, Vec<Vec<Value>>)> {
        let text_v = |s: &str| Value::Text(s.as_bytes().to_vec());
        match pname {
            "table_info" | "table_xinfo" => {
                let Some(t) = arg else {
                    return Ok((cols_of(pname), Vec::new()));
                };
                let mut rows = Vec::new();
                if let Some(table) = scope.table(self.schema, t) {
                    // "pk": the column's place in the PRIMARY KEY (not in the table).
                    let pk_cols = self.primary_key_columns(&table);
                    // Generated columns are hidden (2 VIRTUAL, 3 STORED): table_info
                    // leaves them out and numbers the others without them.
                    let mut n_hidden = 0;
                    for (i, c) in table.columns.iter().enumerate() {
                        let hidden = match &c.generated {
                            Some(g) if g.stored => 3,
                            Some(_) => 2,
                            None => 0,
                        };
                        if hidden != 0 && pname == "table_info" {
                            n_hidden += 1;
                            continue;
                        }
                        let cid = if pname == "table_info" {
                            i - n_hidden
                        } else {
                            i
                        };
                        let pk = match pk_cols.iter().position(|&p| p == i) {
                            Some(k) if c.primary_key => k as i64 + 1,
                            _ => 0,
                        };
                        // sqlite_schema's types read as SQLite declares them.
                        let decl = if table.root_page == 1 {
                            c.decl_type.to_ascii_uppercase()
                        } else {
                            c.decl_type.clone()
                        };
                        let mut row = vec![
                            Value::Integer(cid as i64),
                            text_v(&c.name),
                            text_v(&decl),
                            Value::Integer(c.not_null.is_some() as i64),
                            c.default.as_deref().map(text_v).unwrap_or(Value::Null),
                            Value::Integer(pk),
                        ];
                        if pname == "table_xinfo" {
                            row.push(Value::Integer(hidden));
                        }
                        rows.push(row);
                    }
                } else if let Some(v) = scope.view(self.schema, t) {
                    for (i, c) in self.view_columns(&v)?.iter().enumerate() {
                        let mut row = vec![
                            Value::Integer(i as i64),
                            text_v(&c.name),
                            text_v(&c.decl_type),
                            Value::Integer(0),
                            Value::Null,
                            Value::Integer(0),
                        ];
                        if pname == "table_xinfo" {
                            row.push(Value::Integer(0));
                        }
                        rows.push(row);
                    }
                } else if let Some(f) = t
                    .to_ascii_lowercase()
                    .strip_prefix("pragma_")
                    .filter(|f| FUNCTION_PRAGMAS.contains(f))
                {
                    // A pragma function, an eponymous virtual table in SQLite: its
                    // columns, then the hidden arg (and schema).
                    let mut cols: Vec<(&str, i64)> =
                        cols_of(f).into_iter().map(|c| (c, 0)).collect();
                    cols.push(("arg", 1));
                    if f != "table_list" {
                        cols.push(("schema", 1));
                    }
                    let xinfo = pname == "table_xinfo";
                    for (i, (c, hidden)) in
                        cols.into_iter().filter(|c| xinfo || c.1 == 0).enumerate()
                    {
                        let mut row = vec![
                            Value::Integer(i as i64),
                            text_v(c),
                            text_v(""),
                            Value::Integer(0),
                            Value::Null,
                            Value::Integer(0),
                        ];
                        if xinfo {
                            row.push(Value::Integer(hidden));
                        }
                        rows.push(row);
                    }
                }
                Ok((cols_of(pname), rows))
            }
            "index_list" => {
                let Some(t) = arg else {
                    return Ok((cols_of(pname), Vec::new()));
                };
                let mut rows = Vec::new();
                if let Some(table) = scope.table(self.schema, t) {
                    let mut idx = self.listed_indexes(&table);
                    idx.reverse();
                    for (seq, ix) in idx.iter().enumerate() {
                        let origin = if ix.is_primary_key {
                            "pk"
                        } else if ix.auto {
                            "u"
                        } else {
                            "c"
                        };
                        rows.push(vec![
                            Value::Integer(seq as i64),
                            text_v(&ix.name),
                            Value::Integer(ix.unique as i64),
                            text_v(origin),
                            Value::Integer(ix.where_sql.is_some() as i64),
                        ]);
                    }
                }
                Ok((cols_of(pname), rows))
            }
            "index_info" | "index_xinfo" => {
                let Some(i) = arg else {
                    return Ok((cols_of(pname), Vec::new()));
                };
                let xinfo = pname == "index_xinfo";
                let mut rows = Vec::new();
                let coll_name = |c: Collation| match c {
                    Collation::Binary => "BINARY",
                    Collation::NoCase => "NOCASE",
                    Collation::RTrim => "RTRIM",
                };
                if let Some((ix, table)) = self.index_with_table(scope, i) {
                    {
                        for (k, c) in ix.columns.iter().enumerate() {
                            // A rowid (or INTEGER PRIMARY KEY) column is cid -1, no name
                            // only for the rowid itself; the alias keeps its name.
                            let (cid, name) = match table.columns.get(c.column) {
                                Some(col) => (c.column as i64, text_v(&col.name)),
                                // An expression: cid -2, no name (SQLite's XN_EXPR).
                                None if c.expr.is_some() => (-2, Value::Null),
                                None => (-1, Value::Null),
                            };
                            let mut row = vec![Value::Integer(k as i64), Value::Integer(cid), name];
                            if xinfo {
                                row.push(Value::Integer(c.order.is_desc() as i64));
                                row.push(text_v(coll_name(c.collation)));
                                row.push(Value::Integer(1));
                            }
                            rows.push(row);
                        }
                        // index_xinfo also lists the key's auxiliary columns: the rowid,
                        // or a WITHOUT ROWID table's columns past the key.
                        if xinfo && table.without_rowid.is_some() {
                            for (k, (cid, order, coll)) in
                                self.index_aux_columns(&table, &ix).into_iter().enumerate()
                            {
                                rows.push(vec![
                                    Value::Integer((ix.columns.len() + k) as i64),
                                    Value::Integer(cid as i64),
                                    text_v(&table.columns[cid].name),
                                    Value::Integer(order.is_desc() as i64),
                                    text_v(coll_name(coll)),
                                    Value::Integer(0),
                                ]);
                            }
                        } else if xinfo {
                            rows.push(vec![
                                Value::Integer(ix.columns.len() as i64),
                                Value::Integer(-1),
                                Value::Null,
                                Value::Integer(0),
                                text_v("BINARY"),
                                Value::Integer(0),
                            ]);
                        }
                    }
                }
                Ok((cols_of(pname), rows))
            }
            "foreign_key_list" => {
                let Some(t) = arg else {
                    return Ok((cols_of(pname), Vec::new()));
                };
                let mut rows = Vec::new();
                if let Some(table) = scope.table(self.schema, t) {
                    // SQLite lists the last declared foreign key first (id 0).
                    for (id, fk) in table.foreign_keys.iter().rev().enumerate() {
                        for (seq, &c) in fk.from.iter().enumerate() {
                            rows.push(vec![
                                Value::Integer(id as i64),
                                Value::Integer(seq as i64),
                                text_v(&fk.parent),
                                text_v(&table.columns[c].name),
                                fk.to
                                    .as_ref()
                                    .map(|to| text_v(&to[seq]))
                                    .unwrap_or(Value::Null),
                                text_v(fk.on_update.name()),
                                text_v(fk.on_delete.name()),
                                text_v("NONE"),
                            ]);
                        }
                    }
                }
                Ok((cols_of(pname), rows))
            }
            "table_list" => Ok((cols_of(pname), self.table_list_rows(arg, scope))),
            _ => Err(error(format!("PRAGMA {pname} has no rows here"))),
        }
    }

    /// `PRAGMA table_list`: main's tables and views, then temp's, each in the order
    /// SQLite's schema hash lists them; with an argument, only that name.
    fn table_list_rows(&self, arg: Option<&str>, scope: Scope) -> Vec<Vec<Value>> {
        let text_v = |s: &str| Value::Text(s.as_bytes().to_vec());
        let mut rows = Vec::new();
        for db in self.schema.db_indexes() {
            if let Scope::Db(d) = scope {
                if d != db {
                    continue;
                }
            }
            let s = self.schema.of_db(db);
            let (dbname, first) = if db != TEMP_DB {
                (self.schema.db_name(db), "sqlite_master")
            } else {
                ("temp", "sqlite_temp_master")
            };
            for name in crate::fkey::sqlite_hash_order_from(first, &s.table_order) {
                if let Some(a) = arg {
                    if !names::eq(a, &name) {
                        continue;
                    }
                }
                let (shown, kind, ncol, wr, strict) = if name == first {
                    let shown = if db != TEMP_DB {
                        "sqlite_schema"
                    } else {
                        "sqlite_temp_schema"
                    };
                    (shown.to_string(), "table", 5, false, false)
                } else if let Some(t) = s.local_table(&name) {
                    (
                        t.name.clone(),
                        "table",
                        t.columns.len(),
                        t.without_rowid.is_some(),
                        t.strict.is_some(),
                    )
                } else if let Some(v) = s.local_view(&name) {
                    // A view whose SELECT does not compile has no columns (SQLite
                    // ignores the error here).
                    let n = self.view_columns(v).map(|c| c.len()).unwrap_or(0);
                    (v.name.clone(), "view", n, false, false)
                } else {
                    continue;
                };
                rows.push(vec![
                    text_v(dbname),
                    text_v(&shown),
                    text_v(kind),
                    Value::Integer(ncol as i64),
                    Value::Integer(wr as i64),
                    Value::Integer(strict as i64),
                ]);
            }
        }
        rows
    }

    /// A `pragma_*` name in FROM (with its arguments, if called): the function's source,
    /// or None if `fname` names no pragma function.
    pub(crate) fn pragma_source(
        &mut self,
        fname: &str,
        args: &[Expr<'_>],
        alias: Option<String>,
    ) -> Result<Option<Source>> {
        let lower = fname.to_ascii_lowercase();
        let Some(pname) = lower.strip_prefix("pragma_") else {
            return Ok(None);
        };
        if !FUNCTION_PRAGMAS.contains(&pname) {
            if crate::pragma::is_sqlite_pragma(pname) {
                return Err(error(format!("{fname}() is not supported yet")));
            }
            return Ok(None);
        }
        let schema_col = pname != "table_list";
        let max = if schema_col { 2 } else { 1 };
        if args.len() > max {
            return Err(error(format!(
                "too many arguments on {lower}() - max {max}"
            )));
        }
        let scope = pragma_scope(self.schema, &lower, args.get(1))?;
        let cases = self.pragma_cases(pname, scope);
        self.reads_main_schema = true;
        let cols = cols_of(pname);
        let visible = cols.len();
        let mut names: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
        names.push("arg".into());
        if schema_col {
            names.push("schema".into());
        }
        let cursor = self.b.alloc_cursor();
        self.emit(Insn::OpenEphemeral {
            cursor,
            kind: EphemeralKind::Table,
        });
        Ok(Some(Source {
            name: alias.unwrap_or_else(|| fname.to_string()),
            cursor,
            columns: names
                .into_iter()
                .map(|name| SourceColumn {
                    name,
                    affinity: None,
                    collation: Collation::Binary,
                    decl_type: None,
                    is_rowid_alias: false,
                    default: None,
                    hidden: false,
                })
                .collect(),
            table: None,
            merged: Default::default(),
            schema: Some(strata_vdbe::insn::MAIN_DB),
            cover: None,
            tvf: Some(Tvf {
                recursive: false,
                args: args.iter().map(|a| a.to_string()).collect(),
                pragma: Some(Arc::new(PragmaTvf {
                    pname: pname.to_string(),
                    visible,
                    schema_col,
                    cases,
                })),
            }),
        }))
    }

    /// The rows of pragma function `pname` for each argument it can take, looked up in
    /// `scope` (the schema argument).
    fn pragma_cases(
        &self,
        pname: &str,
        scope: Scope,
    ) -> Vec<(Option<String>, std::result::Result<Vec<Vec<Value>>, String>)> {
        let mut cases = Vec::new();
        if pname == "table_list" {
            cases.push((None, Ok(self.table_list_rows(None, scope))));
        }
        for name in self.pragma_arg_candidates(pname) {
            let rows = self
                .introspection_rows(pname, Some(&name), scope)
                .map(|(_, rows)| rows)
                .map_err(|e| e.message);
            if matches!(&rows, Ok(r) if r.is_empty()) {
                continue;
            }
            cases.push((Some(name), rows));
        }
        cases
    }

    /// Every name a pragma function's argument can usefully take: the tables and views
    /// (or indexes) of main and temp, as stored.
    fn pragma_arg_candidates(&self, pname: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for db in self.schema.db_indexes() {
            let s = self.schema.of_db(db);
            let mut names: Vec<String> = if matches!(pname, "index_info" | "index_xinfo") {
                // (WITHOUT ROWID tables' PRIMARY KEY indexes have no schema row.)
                s.indexes
                    .values()
                    .map(|i| i.name.clone())
                    .chain(
                        s.tables
                            .values()
                            .filter_map(|t| Some(t.without_rowid.as_ref()?.index_name.clone())),
                    )
                    .collect()
            } else {
                let mut v: Vec<String> = s.tables.values().map(|t| t.name.clone()).collect();
                v.extend(s.views.values().map(|v| v.name.clone()));
                v
            };
            names.sort();
            for n in names {
                if !out.iter().any(|o| names::eq(o, &n)) {
                    out.push(n);
                }
            }
        }
        if !matches!(pname, "index_info" | "index_xinfo") {
            for n in [
                "sqlite_schema",
                "sqlite_master",
                "sqlite_temp_schema",
                "sqlite_temp_master",
            ] {
                if !out.iter().any(|o| names::eq(o, n)) {
                    out.push(n.to_string());
                }
            }
        }
        out
    }

    /// Fills a pragma function's ephemeral table for the arguments' current values.
    pub(crate) fn pragma_tvf_fill(
        &mut self,
        tvf: &Tvf,
        p: &PragmaTvf,
        cursor: usize,
    ) -> Result<()> {
        // A fresh table each time the loop starts (the arguments may have changed).
        self.emit(Insn::OpenEphemeral {
            cursor,
            kind: EphemeralKind::Table,
        });
        let args = self.regs(2);
        self.emit(Insn::Null {
            dest: args,
            count: 2,
        });
        for (i, a) in tvf.args.iter().enumerate() {
            crate::schema::with_parsed(&format!("SELECT {a}"), |stmt| {
                let ast::Stmt::Select(sel) = stmt else {
                    return Err(error("bad table-valued function argument"));
                };
                let ast::OneSelect::Select { columns, .. } = &sel.body.select else {
                    return Err(error("bad table-valued function argument"));
                };
                let Some(ast::ResultColumn::Expr(e, _, _)) = columns.first() else {
                    return Err(error("bad table-valued function argument"));
                };
                self.expr(e, args + i)
            })?;
            // SQLite passes the arguments to the pragma as text.
            self.emit(Insn::Cast {
                reg: args + i,
                type_name: b"TEXT".to_vec(),
            });
        }
        let ncols = p.visible + 1 + p.schema_col as usize;
        let row = self.regs(ncols);
        let key = self.reg();
        let done = self.label();
        for (name, rows) in &p.cases {
            let skip = self.label();
            match name {
                None => {
                    self.emit(Insn::NotNull {
                        reg: args,
                        target: skip.addr(),
                    });
                }
                Some(n) => {
                    self.emit(Insn::String {
                        value: n.as_bytes().to_vec(),
                        dest: key,
                    });
                    self.emit(Insn::Compare {
                        op: Cmp::Ne,
                        lhs: args,
                        rhs: key,
                        target: skip.addr(),
                        affinity: Default::default(),
                        collation: Collation::NoCase,
                        jump_if_null: true,
                        null_eq: false,
                    });
                }
            }
            match rows {
                Err(msg) => {
                    self.emit(Insn::Halt {
                        error: Some((ErrorCode::Error, msg.clone())),
                        on_error: OnError::Abort,
                    });
                }
                Ok(rows) => {
                    for r in rows {
                        for (i, v) in r.iter().enumerate() {
                            self.load_value(v.clone(), row + i);
                        }
                        self.emit(Insn::Copy {
                            src: args,
                            dest: row + p.visible,
                            count: 1 + p.schema_col as usize,
                        });
                        let never = self.label();
                        self.write_dest(row, ncols, &Dest::EphemTable { cursor }, never)?;
                        self.resolve(never);
                    }
                }
            }
            self.goto(done);
            self.resolve(skip);
        }
        self.resolve(done);
        Ok(())
    }
}
