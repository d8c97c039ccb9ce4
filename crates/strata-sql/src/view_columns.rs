//! A view's columns as SQLite's `sqlite3ViewGetColumnNames` makes them: names from the
//! view's column list or its SELECT, declared types and affinities from the SELECT's
//! expressions. `PRAGMA table_info(view)` reports them, and INSTEAD OF triggers see the
//! view as a table of these columns (`view_table`).

use std::sync::Arc;

use sqlite3_parser::ast::Stmt;
use strata_vdbe::affinity::{affinity_of_type, Affinity};

use crate::compiler::{error, Compiler, Result};
use crate::names;
use crate::schema::{self, with_parsed, Table, View};

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
        if self.view_depth > 32 {
            return Err(error(format!("view {} is circularly defined", v.name)));
        }
        let mut scratch = Compiler::new(self.schema);
        scratch.view_depth = self.view_depth + 1;
        let cols = with_parsed(&v.sql, |stmt| {
            let Stmt::CreateView { select, .. } = stmt else {
                return Err(error("not a view"));
            };
            scratch.in_body_of(v.db, format!("view {}", v.name), |c| {
                c.select(select, &crate::select::Dest::Discard)
            })
        });
        let cols = cols?;
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
