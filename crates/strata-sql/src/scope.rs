//! Name resolution: the tables (sources) an expression can see, nested per query level.

use std::collections::HashMap;
use std::sync::Arc;

use strata_btree::record::{Collation, Value};
use strata_vdbe::affinity::Affinity;
use strata_vdbe::insn::{Cur, Reg};

use crate::schema::Table;

/// A column of a source as expressions see it.
#[derive(Clone, Debug)]
pub struct SourceColumn {
    pub name: String,
    pub affinity: Option<Affinity>,
    pub collation: Collation,
    pub decl_type: Option<String>,
    /// Read with `Rowid` instead of `Column`.
    pub is_rowid_alias: bool,
    /// Value for records written before the column existed.
    pub default: Option<Value>,
    /// Hidden by NATURAL/USING: not expanded by `*`, not ambiguous unqualified.
    pub hidden: bool,
}

/// One FROM item: a table read through a cursor, or a materialised subquery/view.
#[derive(Clone, Debug)]
pub struct Source {
    /// The name it is referenced by (alias, else table name), as written (unquoted).
    pub name: String,
    pub cursor: Cur,
    pub columns: Vec<SourceColumn>,
    /// The real table behind it (None for subqueries and views).
    pub table: Option<Arc<Table>>,
    /// For USING/NATURAL: column name -> the earlier (source, column) it merges with, so
    /// an unqualified reference reads the left side (or coalesces, for right-side nulls).
    pub merged: HashMap<String, (usize, usize)>,
    /// The database of the table or view behind it (None for a subquery or CTE: SQLite
    /// names those `*`). Two sources of one name are the same to `*` only if this agrees.
    pub schema: Option<usize>,
    /// While a loop reads this table only through a covering index: the index cursor and
    /// table column -> index field.
    pub cover: Option<(Cur, HashMap<usize, usize>)>,
    /// A table-valued function (json_each/json_tree): its rows are computed into the
    /// source's ephemeral table each time its loop starts.
    pub tvf: Option<Tvf>,
}

/// A json_each()/json_tree() call in FROM.
#[derive(Clone, Debug)]
pub struct Tvf {
    /// json_tree (else json_each).
    pub recursive: bool,
    /// The arguments as SQL text, compiled where the loop starts (they may refer to
    /// tables to their left).
    pub args: Vec<String>,
    /// A pragma function (`pragma_table_info(...)`) instead of json_each/json_tree.
    pub pragma: Option<Arc<crate::pragma_tvf::PragmaTvf>>,
}

/// Where aggregate queries read values during their output phase.
#[derive(Default, Debug)]
pub struct AggMap {
    /// Expression (by debug form) -> register (aggregate results, GROUP BY terms).
    pub exprs: Vec<(String, Reg)>,
    /// (source, column or usize::MAX for rowid) -> register holding the group's value.
    pub columns: HashMap<(usize, usize), Reg>,
}

/// One query level.
#[derive(Default, Debug)]
pub struct Level {
    pub sources: Vec<Source>,
    /// Set when an expression in a deeper level referenced this level or above (the
    /// deeper query is correlated).
    pub correlated: bool,
    /// Active during an aggregate query's output phase.
    pub agg: Option<AggMap>,
    /// Result-column aliases usable by name in WHERE, GROUP BY and HAVING when no column
    /// has the name (an SQLite extension): alias -> the expression's SQL text.
    pub aliases: Vec<(String, String)>,
    /// Aliases being expanded (an alias may not refer to itself).
    pub expanding: Vec<String>,
    /// While a windowed select's rows come from its window buffer (see `window`): its
    /// tables are not positioned, so a subquery may not read them.
    pub window_rows: bool,
    /// Set once the FROM clause resolved (names of the other clauses can be checked).
    pub from_resolved: bool,
}

/// The resolved location of a column reference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnRef {
    pub level: usize,
    pub source: usize,
    /// Column index, or `usize::MAX` for the rowid.
    pub column: usize,
}

pub const ROWID: usize = usize::MAX;
