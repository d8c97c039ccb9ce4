//! WITHOUT ROWID tables (SQLite's `convertToWithoutRowidTable`).
//!
//! Such a table has no rowid: its rows are the entries of an index B-tree (rooted at the
//! table's `rootpage`) whose key is the PRIMARY KEY. An entry's record holds the key
//! columns first, in PRIMARY KEY order (a column named twice once), then every other
//! column that is not VIRTUAL, in table order (`WithoutRowid::storage`). The PRIMARY KEY
//! index has no row in `sqlite_schema`, but it has a name (`sqlite_autoindex_T_N`, N its
//! place among the table's UNIQUE and PRIMARY KEY constraints) that `PRAGMA index_list`
//! shows, and its key columns are NOT NULL whatever the declaration says. A secondary
//! index's entries end with the PRIMARY KEY columns it does not already hold, where a
//! rowid table's end with the rowid.
//!
//! What Strata does with them (the rest is refused with a clear error, never guessed):
//! reading (scans; the PRIMARY KEY and secondary indexes for seeks, the key order for
//! ORDER BY), writing (`without_rowid_write`: INSERT with every conflict clause, upserts,
//! UPDATE, DELETE, triggers, RETURNING), CREATE TABLE and CREATE INDEX, the schema
//! pragmas, `PRAGMA integrity_check` (trees, entry counts, column checks; not each row's
//! index entries), DROP TABLE, ALTER TABLE RENAME TO / RENAME COLUMN / ADD COLUMN /
//! DROP COLUMN (`alter_column` rewrites each entry), VACUUM, foreign keys (either side;
//! `fkey` seeks a parent's PRIMARY KEY as an index), UPDATE ... FROM (`update_from` keys
//! its rows by PRIMARY KEY), RIGHT and FULL joins (`right_join` records matched rows by
//! PRIMARY KEY).

use std::collections::HashMap;
use std::sync::Arc;

use strata_btree::record::{Collation, KeyInfo, SortOrder};
use strata_btree::SeekOp;
use strata_vdbe::insn::{Cur, Insn};
use strata_vdbe::ops::Cmp;

use crate::builder::Label;

use crate::compiler::{error, Compiler, Result};
use crate::schema::{table_unique_constraints, Conflict, Index, IndexColumn, Table};
use crate::SqlError;

/// The PRIMARY KEY of a WITHOUT ROWID table.
#[derive(Clone, Debug)]
pub struct WithoutRowid {
    /// The PRIMARY KEY's columns, in its order, each once, with collations and directions.
    pub pk: Vec<IndexColumn>,
    /// Table column of each record field: the key columns, then the other stored ones.
    pub storage: Vec<usize>,
    /// The PRIMARY KEY index's name (`sqlite_autoindex_T_N`).
    pub index_name: String,
    /// The PRIMARY KEY's ON CONFLICT.
    pub conflict: Conflict,
}

/// Makes `table` (parsed with its WITHOUT ROWID flag) the WITHOUT ROWID table SQLite
/// builds: the key columns NOT NULL, the record order, the PRIMARY KEY index.
pub(crate) fn convert(table: &mut Table) -> std::result::Result<(), SqlError> {
    let specs = table_unique_constraints(&table.sql)?;
    let (n, spec) = specs
        .iter()
        .enumerate()
        .find(|(_, s)| s.primary_key)
        .ok_or_else(|| {
            crate::schema::err(format!("PRIMARY KEY missing on table {}", table.name))
        })?;
    let mut pk: Vec<IndexColumn> = Vec::new();
    for c in spec.columns_for(table)? {
        // `PRIMARY KEY(a, a)` keys on a once (SQLite's hasColumn in the conversion).
        if !pk.iter().any(|p| p.column == c.column) {
            pk.push(c);
        }
    }
    for p in &pk {
        let col = &mut table.columns[p.column];
        if col.not_null.is_none() {
            col.not_null = Some(Conflict::Abort);
        }
    }
    let mut storage: Vec<usize> = pk.iter().map(|p| p.column).collect();
    for i in 0..table.columns.len() {
        if !storage.contains(&i) && !table.is_virtual(i) {
            storage.push(i);
        }
    }
    table.without_rowid = Some(Arc::new(WithoutRowid {
        pk,
        storage,
        index_name: format!("sqlite_autoindex_{}_{}", table.name, n + 1),
        conflict: spec.conflict,
    }));
    Ok(())
}

impl WithoutRowid {
    /// The order of the table's B-tree: the key fields per the PRIMARY KEY, the other
    /// fields as they come (SQLite's KeyInfo of the PRIMARY KEY index: only the key
    /// fields decide, the key being unique).
    pub fn key_info(&self) -> Arc<KeyInfo> {
        let mut fields: Vec<(Collation, SortOrder)> =
            self.pk.iter().map(|p| (p.collation, p.order)).collect();
        fields.resize(self.storage.len(), (Collation::Binary, SortOrder::Asc));
        Arc::new(KeyInfo {
            fields,
            ..Default::default()
        })
    }
}

impl Table {
    /// The PRIMARY KEY index of a WITHOUT ROWID table: its B-tree is the table's.
    pub fn without_rowid_pk(&self) -> Option<Index> {
        let wr = self.without_rowid.as_ref()?;
        Some(Index {
            name: wr.index_name.clone(),
            table: self.name.clone(),
            root_page: self.root_page,
            columns: wr.pk.clone(),
            unique: true,
            conflict: wr.conflict,
            auto: true,
            is_primary_key: true,
            where_sql: None,
            seq: 0,
            db: self.db,
            key_tail: Vec::new(),
        })
    }
}

/// The order of the PRIMARY KEY columns that end the entries of a secondary index with
/// key `columns` on `table` (nothing for a rowid table): each key column the index does
/// not hold already with the same collation, in the key's collation and direction, but
/// ascending in an index of a UNIQUE constraint of the table's definition (`auto`):
/// SQLite builds those before it knows the key and leaves them ascending
/// (convertToWithoutRowidTable), and the file's order is what that made.
pub(crate) fn key_tail(
    table: &Table,
    columns: &[IndexColumn],
    auto: bool,
) -> Vec<(Collation, SortOrder)> {
    let Some(wr) = &table.without_rowid else {
        return Vec::new();
    };
    wr.pk
        .iter()
        .filter(|p| key_column_in(columns, p).is_none())
        .map(|p| (p.collation, if auto { SortOrder::Asc } else { p.order }))
        .collect()
}

/// Where an index's key holds PRIMARY KEY column `p` itself with the same collation
/// (SQLite's isDupColumn): such a column is not repeated in the entry's tail.
fn key_column_in(columns: &[IndexColumn], p: &IndexColumn) -> Option<usize> {
    columns
        .iter()
        .position(|c| c.expr.is_none() && c.column == p.column && c.collation == p.collation)
}

impl WithoutRowid {
    /// The PRIMARY KEY columns a secondary index's entries end with: those its key does
    /// not already hold with the same collation (SQLite's isDupColumn), in key order.
    pub fn index_tail(&self, ix: &Index) -> Vec<usize> {
        self.pk
            .iter()
            .filter(|p| key_column_in(&ix.columns, p).is_none())
            .map(|p| p.column)
            .collect()
    }

    /// Where each PRIMARY KEY column is in an entry of index `ix` (secondary or the
    /// PRIMARY KEY itself), in key order.
    pub fn pk_fields_in(&self, ix: &Index) -> Vec<usize> {
        let tail = self.index_tail(ix);
        self.pk
            .iter()
            .map(|p| match key_column_in(&ix.columns, p) {
                Some(pos) => pos,
                None => {
                    ix.columns.len()
                        + tail
                            .iter()
                            .position(|&t| t == p.column)
                            .expect("a key column not in the index is in its tail")
                }
            })
            .collect()
    }

    /// Table column to entry field for index `ix` of this table: the PRIMARY KEY index's
    /// entry is the whole row; a secondary index's holds its key and the tail.
    pub fn field_map(&self, ix: &Index) -> HashMap<usize, usize> {
        let mut map = HashMap::new();
        if ix.is_primary_key && ix.auto && ix.name == self.index_name {
            for (pos, &c) in self.storage.iter().enumerate() {
                map.insert(c, pos);
            }
            return map;
        }
        for (pos, c) in ix.columns.iter().enumerate() {
            if c.expr.is_none() {
                map.entry(c.column).or_insert(pos);
            }
        }
        for (k, c) in self.index_tail(ix).into_iter().enumerate() {
            map.entry(c).or_insert(ix.columns.len() + k);
        }
        map
    }
}

impl Compiler<'_> {
    /// The indexes a query may read `table` through: its indexes, and for a WITHOUT
    /// ROWID table its PRIMARY KEY first (its B-tree is the table's).
    pub(crate) fn read_indexes(&self, table: &Table) -> Vec<Arc<Index>> {
        let mut v = self.schema.table_indexes(table);
        if let Some(pk) = table.without_rowid_pk() {
            v.insert(0, Arc::new(pk));
        }
        v
    }

    /// One of [`Compiler::read_indexes`] by name.
    pub(crate) fn read_index(&self, table: &Table, name: &str) -> Option<Arc<Index>> {
        if let Some(pk) = table.without_rowid_pk() {
            if crate::names::eq(&pk.name, name) {
                return Some(Arc::new(pk));
            }
        }
        self.schema.of_db(table.db).local_index(name).cloned()
    }
}

impl Compiler<'_> {
    /// Positions the cursor of WITHOUT ROWID `source` (of the current level) on the row
    /// the entry under index cursor `icur` (of index `index`) names, by its PRIMARY KEY
    /// (what a rowid table does with `IdxRowid` and `SeekRowid`); no such row (a corrupt
    /// index) goes to `not_found`.
    pub(crate) fn seek_without_rowid_row(
        &mut self,
        source: usize,
        icur: Cur,
        index: &str,
        not_found: Label,
    ) -> Result<()> {
        let level = self.levels.len() - 1;
        let src = &self.levels[level].sources[source];
        let cursor = src.cursor;
        let table = src
            .table
            .clone()
            .ok_or_else(|| error("internal: no table for a WITHOUT ROWID lookup"))?;
        let (Some(wr), Some(ix)) = (&table.without_rowid, self.read_index(&table, index)) else {
            return Err(error("internal: no index for a WITHOUT ROWID lookup"));
        };
        let fields = wr.pk_fields_in(&ix);
        let key = self.regs(fields.len());
        for (k, &f) in fields.iter().enumerate() {
            self.emit(Insn::Column {
                cursor: icur,
                column: f,
                dest: key + k,
                default: None,
            });
        }
        self.emit(Insn::SeekAsync {
            cursor,
            op: SeekOp::GE,
            key_start: key,
            key_count: fields.len(),
        });
        self.emit(Insn::SeekAwait {
            cursor,
            target_if_not_found: not_found.addr(),
        });
        self.emit(Insn::IdxCompare {
            cursor,
            op: Cmp::Gt,
            key_start: key,
            key_count: fields.len(),
            target: not_found.addr(),
        });
        Ok(())
    }
}

/// What the schema pragmas show of WITHOUT ROWID tables.
impl Compiler<'_> {
    /// The table's PRIMARY KEY columns in key order (each once); the rowid alias for a
    /// rowid table that has one, nothing for a table without a PRIMARY KEY.
    pub(crate) fn primary_key_columns(&self, table: &Table) -> Vec<usize> {
        if let Some(wr) = &table.without_rowid {
            return wr.pk.iter().map(|p| p.column).collect();
        }
        if let Some(a) = table.rowid_alias {
            return vec![a];
        }
        let mut cols: Vec<usize> = Vec::new();
        if let Some(ix) = self
            .schema
            .table_indexes(table)
            .into_iter()
            .find(|ix| ix.is_primary_key)
        {
            for c in &ix.columns {
                if !cols.contains(&c.column) {
                    cols.push(c.column);
                }
            }
        }
        cols
    }

    /// The table's indexes in creation order as SQLite lists them: a WITHOUT ROWID
    /// table's PRIMARY KEY index among its constraints' automatic indexes, in its place
    /// in the table definition (the automatic indexes numbered before it come first).
    pub(crate) fn listed_indexes(&self, table: &Table) -> Vec<Arc<Index>> {
        let mut v = self.schema.table_indexes(table);
        if let (Some(wr), Some(pk)) = (&table.without_rowid, table.without_rowid_pk()) {
            let number = |name: &str| -> Option<usize> { name.rsplit('_').next()?.parse().ok() };
            let n = number(&wr.index_name).unwrap_or(0);
            let at = v
                .iter()
                .position(|ix| !ix.auto || number(&ix.name).is_some_and(|k| k > n))
                .unwrap_or(v.len());
            v.insert(at, Arc::new(pk));
        }
        v
    }

    /// An index by name with its table, a WITHOUT ROWID table's PRIMARY KEY included.
    pub(crate) fn index_with_table(
        &self,
        scope: crate::compiler::Scope,
        name: &str,
    ) -> Option<(Arc<Index>, Arc<Table>)> {
        if let Some(ix) = scope.index(self.schema, name) {
            let table = self.schema.of_db(ix.db).local_table(&ix.table).cloned()?;
            return Some((ix, table));
        }
        for db in [strata_vdbe::insn::MAIN_DB, strata_vdbe::insn::TEMP_DB] {
            if let crate::compiler::Scope::Db(d) = scope {
                if d != db {
                    continue;
                }
            }
            for t in self.schema.of_db(db).tables.values() {
                if let Some(pk) = t.without_rowid_pk() {
                    if crate::names::eq(&pk.name, name) {
                        return Some((Arc::new(pk), t.clone()));
                    }
                }
            }
        }
        None
    }

    /// The columns after the key in an entry of `ix` on WITHOUT ROWID `table`: (column,
    /// direction, collation). For the PRIMARY KEY index the table's other stored columns;
    /// for a secondary index the PRIMARY KEY columns it ends with, in the key's direction
    /// except in an index made by a UNIQUE constraint of the table's definition (SQLite
    /// builds those before it knows the key's directions and leaves them ascending).
    pub(crate) fn index_aux_columns(
        &self,
        table: &Table,
        ix: &Index,
    ) -> Vec<(usize, SortOrder, Collation)> {
        let Some(wr) = &table.without_rowid else {
            return Vec::new();
        };
        if ix.name == wr.index_name {
            return wr.storage[wr.pk.len()..]
                .iter()
                .map(|&c| (c, SortOrder::Asc, table.columns[c].collation))
                .collect();
        }
        let tail = wr.index_tail(ix);
        wr.pk
            .iter()
            .filter(|p| tail.contains(&p.column))
            .map(|p| {
                let order = if ix.auto { SortOrder::Asc } else { p.order };
                (p.column, order, p.collation)
            })
            .collect()
    }
}
