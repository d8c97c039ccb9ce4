//! ANALYZE: gathers `sqlite_stat1` and `sqlite_stat4` rows as SQLite 3.46 (STAT4 build)
//! does (analyze.c): `openStatTable`, `analyzeOneTable`, `analyzeDatabase`,
//! `analyzeTable`, `sqlite3Analyze`.
//!
//! * The stat tables are created with SQLite's SQL when missing (stat1, stat4; stat3 is
//!   only cleared when present); their rows for what is analyzed are removed first: all
//!   of them for a whole database, those of the table (`tbl=`) or of the index (`idx=`)
//!   otherwise.
//! * Each index is scanned in order and every entry fed to the VM's statistics
//!   accumulator (`Insn::StatPush`, `strata_vdbe::stat`), which yields the stat1 text and
//!   the stat4 samples. A table with no index other than partial ones gets the row
//!   `(tbl, NULL, count)` unless it is empty; an empty index gets no row, an empty
//!   partial index the row `(tbl, idx, '0 0...')`.
//! * Tables whose name starts with `sqlite_` and views are not analyzed.
//! * `PRAGMA analysis_limit` N other than 0: as SQLite, no stat4 samples, and each index
//!   scan stops after about N entries (skipping past a first-column value that fills
//!   them all), the stat1 text starting with the exact entry count.
//!
//! Nothing here changes what a query returns: the planner does not read the statistics.

use std::sync::Arc;

use sqlite3_parser::ast;
use strata_btree::record::Collation;
use strata_vdbe::affinity::Affinity;
use strata_vdbe::insn::{Cur, CursorKind, InsertFlags, Insn, Reg, RowCount, SettingKind, TEMP_DB};
use strata_vdbe::program::Program;

use crate::compiler::{error, Compiler, Result};
use crate::names;
use crate::schema::{Index, Table};

/// The stat tables SQLite's ANALYZE opens: name, and the columns it creates it with
/// (none: cleared if present, never created).
const STAT_TABLES: [(&str, Option<&str>); 3] = [
    ("sqlite_stat1", Some("tbl,idx,stat")),
    ("sqlite_stat4", Some("tbl,idx,neq,nlt,ndlt,sample")),
    ("sqlite_stat3", None),
];

/// The index `name` names in `scope` and its table, as SQLite's sqlite3FindIndex finds
/// it: a WITHOUT ROWID table's PRIMARY KEY index too (by its `sqlite_autoindex_` name;
/// SQLite then deletes the rows of that name but writes the index's row under the
/// table's name, so the table's row is repeated, as here).
fn index_in(
    schema: &crate::schema::Schema,
    scope: crate::compiler::Scope,
    name: &str,
) -> Option<(Index, Arc<Table>)> {
    use crate::compiler::Scope;
    if let Some(ix) = scope.index(schema, name) {
        let t = schema.of_db(ix.db).local_table(&ix.table)?.clone();
        return Some((Index::clone(&ix), t));
    }
    let dbs: Vec<usize> = match scope {
        // Temp first, then main, then the attached databases.
        Scope::Any => std::iter::once(TEMP_DB)
            .chain(schema.db_indexes().filter(|&d| d != TEMP_DB))
            .collect(),
        Scope::Db(d) => vec![d],
        Scope::Nowhere => Vec::new(),
    };
    for db in dbs {
        let s = schema.of_db(db);
        if db == TEMP_DB && s.db != TEMP_DB {
            continue; // no temp database
        }
        let mut found: Vec<&Arc<Table>> = s
            .tables
            .values()
            .filter(|t| {
                t.without_rowid
                    .as_ref()
                    .is_some_and(|w| w.index_name.eq_ignore_ascii_case(name))
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        if let Some(t) = found.first() {
            return Some((t.without_rowid_pk()?, (*t).clone()));
        }
    }
    None
}

/// Which stat rows an ANALYZE replaces: a whole database's, a table's or an index's.
enum Only<'a> {
    All,
    Table(&'a str),
    Index(&'a str),
}

/// The write cursors on one database's `sqlite_stat1` and `sqlite_stat4`, and the
/// register holding `PRAGMA analysis_limit`.
struct StatCursors {
    stat1: Cur,
    stat4: Cur,
    limit: Reg,
}

impl Compiler<'_> {
    pub fn analyze(
        mut self,
        target: Option<&ast::QualifiedName<'_>>,
        text: &str,
    ) -> Result<Program> {
        self.writes = true;
        // `PRAGMA analysis_limit` (SQLite reads it when the statement is prepared; here
        // when it runs).
        let limit = self.reg();
        self.emit(Insn::Setting {
            which: SettingKind::AnalysisLimit,
            value: None,
            dest: limit,
        });

        let schema = self.schema;
        let mut created = Vec::new();
        match target {
            None => {
                // Every database but temp.
                for db in schema.db_indexes() {
                    if db != TEMP_DB {
                        self.analyze_database(db, limit, &mut created);
                    }
                }
            }
            Some(qn) => {
                let name = names::unquote(qn.name.0);
                let db_form = match &qn.db_name {
                    None => schema.db_index(&name),
                    Some(_) => None,
                };
                if let Some(db) = db_form {
                    self.analyze_database(db, limit, &mut created);
                } else {
                    let scope = self.scope_of(qn)?;
                    if let crate::compiler::Scope::Nowhere = scope {
                        let d = names::unquote(qn.db_name.as_ref().map_or("", |n| n.0));
                        return Err(error(format!("unknown database {d}")));
                    }
                    self.verify_scope(scope);
                    if let Some((ix, table)) = index_in(schema, scope, &name) {
                        let curs = self.open_stat_tables(
                            ix.db,
                            Only::Index(&ix.name),
                            limit,
                            &mut created,
                        );
                        self.analyze_one_table(&table, Some(&ix.name), &curs);
                    } else if let Some(t) = scope.table(schema, &name) {
                        let curs =
                            self.open_stat_tables(t.db, Only::Table(&t.name), limit, &mut created);
                        self.analyze_one_table(&t, None, &curs);
                    } else if let Some(v) = scope.view(schema, &name) {
                        // SQLite finds the view, clears its (absent) statistics and
                        // analyzes nothing.
                        self.open_stat_tables(v.db, Only::Table(&v.name), limit, &mut created);
                    } else {
                        return Err(error(match (&qn.db_name, scope) {
                            (Some(_), crate::compiler::Scope::Db(d)) => {
                                format!("no such table: {}.{name}", schema.db_name(d))
                            }
                            _ => format!("no such table: {name}"),
                        }));
                    }
                }
            }
        }
        created.sort_unstable();
        created.dedup();
        for db in created {
            self.bump_cookie(db);
        }
        Ok(self.finish(text, Vec::new(), Vec::new()))
    }

    /// SQLite's analyzeDatabase: every table of database `db`.
    fn analyze_database(&mut self, db: usize, limit: Reg, created: &mut Vec<usize>) {
        let schema = self.schema;
        self.verify_schema(db);
        let curs = self.open_stat_tables(db, Only::All, limit, created);
        let s = schema.of_db(db);
        let mut seen = std::collections::HashSet::new();
        let mut tables: Vec<Arc<Table>> = Vec::new();
        // In the order SQLite's schema hash iterates them (the stat rows' rowids show
        // it: sql_diff found `SELECT rowid, * FROM sqlite_stat1` differing when the
        // schema's row order was used).
        let first = if db == strata_vdbe::insn::TEMP_DB {
            "sqlite_temp_master"
        } else {
            "sqlite_master"
        };
        for name in &crate::fkey::sqlite_hash_order_from(first, &s.table_order) {
            if let Some(t) = s.tables.get(&name.to_ascii_lowercase()) {
                if seen.insert(t.name.to_ascii_lowercase()) {
                    tables.push(t.clone());
                }
            }
        }
        let mut rest: Vec<&Arc<Table>> = s
            .tables
            .values()
            .filter(|t| !seen.contains(&t.name.to_ascii_lowercase()))
            .collect();
        rest.sort_by(|a, b| a.name.cmp(&b.name));
        tables.extend(rest.into_iter().cloned());
        for t in &tables {
            self.analyze_one_table(t, None, &curs);
        }
    }

    /// SQLite's openStatTable: creates the missing stat tables (stat1, stat4) in `db`,
    /// removes the rows `only` selects from the existing ones, and opens stat1 and stat4
    /// for writing. Databases whose schema changed are added to `created`.
    fn open_stat_tables(
        &mut self,
        db: usize,
        only: Only<'_>,
        limit: Reg,
        created: &mut Vec<usize>,
    ) -> StatCursors {
        let schema = self.schema.of_db(db);
        let mut roots: Vec<(u32, Option<Reg>)> = Vec::new();
        let mut sc = None;
        for (name, cols) in STAT_TABLES {
            match schema.local_table(name) {
                Some(t) => {
                    let root = t.root_page;
                    match only {
                        Only::All => {
                            self.emit(Insn::Clear {
                                db,
                                root_page: root,
                                count: RowCount::None,
                            });
                        }
                        Only::Table(v) => self.delete_stat_rows(db, t, 0, v),
                        Only::Index(v) => self.delete_stat_rows(db, t, 1, v),
                    }
                    roots.push((root, None));
                }
                None => {
                    let Some(cols) = cols else {
                        continue;
                    };
                    let root = self.reg();
                    self.emit(Insn::CreateBtree {
                        db,
                        index: false,
                        dest: root,
                    });
                    let cur = *sc.get_or_insert_with(|| self.open_schema_write(db));
                    let sql = format!("CREATE TABLE {name}({cols})");
                    self.insert_schema_row(cur, "table", name, name, Some(root), Some(&sql));
                    created.push(db);
                    roots.push((0, Some(root)));
                }
            }
        }
        if let Some(cur) = sc {
            self.emit(Insn::Close { cursor: cur });
        }
        let mut curs = Vec::new();
        for (i, &(root_page, root_reg)) in roots.iter().take(2).enumerate() {
            let cursor = self.b.alloc_cursor();
            self.emit(Insn::OpenWriteAsync {
                db,
                cursor,
                root_page,
                root_reg,
                kind: CursorKind::Table {
                    num_columns: if i == 0 { 3 } else { 6 },
                },
            });
            self.emit(Insn::OpenWriteAwait { cursor });
            curs.push(cursor);
        }
        StatCursors {
            stat1: curs[0],
            stat4: curs[1],
            limit,
        }
    }

    /// DROP TABLE / DROP INDEX: removes the rows of `name` (`what`: "tbl" or "idx") from
    /// every stat table database `db` has (SQLite's sqlite3ClearStatTables).
    pub(crate) fn clear_stat_rows(&mut self, db: usize, what: &str, name: &str) {
        let schema = self.schema.of_db(db);
        for i in 1..=4 {
            if let Some(t) = schema.local_table(&format!("sqlite_stat{i}")) {
                self.delete_stat_rows(db, t, usize::from(what == "idx"), name);
            }
        }
    }

    /// `DELETE FROM stat WHERE <column col> = value` (BINARY, no affinity).
    fn delete_stat_rows(&mut self, db: usize, t: &Table, col: usize, value: &str) {
        let cur = self.b.alloc_cursor();
        self.emit(Insn::OpenWriteAsync {
            db,
            cursor: cur,
            root_page: t.root_page,
            root_reg: None,
            kind: CursorKind::Table {
                num_columns: t.columns.len(),
            },
        });
        self.emit(Insn::OpenWriteAwait { cursor: cur });
        self.delete_matching_rows(cur, col, value, Collation::Binary, None);
        self.emit(Insn::Close { cursor: cur });
    }

    /// SQLite's analyzeOneTable: the rows of every index of `table` (or only of the index
    /// named `only_index`), and the table's row count when no index counts its rows.
    fn analyze_one_table(
        &mut self,
        table: &Arc<Table>,
        only_index: Option<&str>,
        curs: &StatCursors,
    ) {
        if table.name.len() >= 7 && table.name[..7].eq_ignore_ascii_case("sqlite_") {
            return;
        }
        let schema = self.schema.of_db(table.db);
        // SQLite's pTab->pIndex order: each index is put first as it is made (the
        // PRIMARY KEY of a WITHOUT ROWID table where its constraint is in the CREATE
        // TABLE, among the automatic indexes: `listed_indexes`), those whose conflict
        // resolution is REPLACE behind the others. (sql_diff found the PRIMARY KEY of
        // `wr(..., s UNIQUE, PRIMARY KEY(p, q))` analyzed last where SQLite has it
        // before s's index: the stat rows' rowids differed.)
        let _ = schema;
        let pk_name = table.without_rowid.as_ref().map(|wr| wr.index_name.clone());
        let mut indexes: Vec<(Index, bool)> = self
            .listed_indexes(table)
            .into_iter()
            .rev()
            .map(|ix| {
                let is_pk = pk_name.as_deref() == Some(ix.name.as_str());
                (Index::clone(&ix), is_pk)
            })
            .collect();
        indexes.sort_by_key(|(ix, _)| ix.conflict == crate::schema::Conflict::Replace);
        let base = self.regs(6);
        self.emit(Insn::String {
            value: table.name.as_bytes().to_vec(),
            dest: base,
        });
        let mut need_table_count = true;
        for (ix, is_pk) in &indexes {
            if let Some(only) = only_index {
                if !ix.name.eq_ignore_ascii_case(only) {
                    continue;
                }
            }
            if ix.where_sql.is_none() {
                need_table_count = false;
            }
            self.analyze_index(table, ix, *is_pk, base, curs);
        }
        if only_index.is_none() && need_table_count {
            let t = self.b.alloc_cursor();
            self.open_table_read(t, table);
            self.emit(Insn::Count {
                cursor: t,
                dest: base + 2,
            });
            let skip = self.label();
            self.emit(Insn::IfNot {
                reg: base + 2,
                target: skip.addr(),
                jump_if_null: true,
            });
            self.emit(Insn::Null {
                dest: base + 1,
                count: 1,
            });
            self.insert_stat_row(
                curs.stat1,
                base,
                3,
                Some(vec![Affinity::Text; 3]),
                "sqlite_stat1",
            );
            self.resolve(skip);
            self.emit(Insn::Close { cursor: t });
        }
    }

    /// Inserts the record of `start..start+count` (with `affinities`) as a new row of the
    /// stat table open on `cursor`.
    fn insert_stat_row(
        &mut self,
        cursor: Cur,
        start: Reg,
        count: usize,
        affinities: Option<Vec<Affinity>>,
        table: &str,
    ) {
        let rec = self.reg();
        let rowid = self.reg();
        self.emit(Insn::MakeRecord {
            start,
            count,
            dest: rec,
            affinities,
        });
        self.emit(Insn::NewRowidAsync {
            cursor,
            dest: rowid,
            min_reg: None,
        });
        self.emit(Insn::NewRowidAwait { cursor });
        self.emit(Insn::InsertAsync {
            cursor,
            key_reg: rowid,
            record_reg: rec,
            flags: InsertFlags::default(),
            table: table.into(),
        });
        self.emit(Insn::InsertAwait { cursor });
    }

    /// One index's stat1 row and stat4 samples. `base` holds the table name; `base+1..`
    /// are this routine's (index name, stat or neq/nlt/ndlt, sample).
    fn analyze_index(
        &mut self,
        table: &Arc<Table>,
        ix: &Index,
        is_pk: bool,
        base: Reg,
        curs: &StatCursors,
    ) {
        // The fields of an entry SQLite counts: the key and the rowid, or the key and the
        // PRIMARY KEY columns it ends with; the PRIMARY KEY of a WITHOUT ROWID table: its
        // columns only.
        let tail: Vec<usize> = match (&table.without_rowid, is_pk) {
            (Some(wr), false) => wr.index_tail(ix),
            _ => Vec::new(),
        };
        let n_key = ix.columns.len();
        let n_col = if is_pk {
            n_key
        } else if table.without_rowid.is_some() {
            n_key + tail.len()
        } else {
            n_key + 1
        };
        let idx_name = if is_pk { &table.name } else { &ix.name };
        let key_info = match (&table.without_rowid, is_pk) {
            (Some(wr), true) => wr.key_info(),
            _ => ix.key_info(),
        };
        let collations: Vec<Collation> = (0..n_col.saturating_sub(1))
            .map(|i| key_info.fields.get(i).map_or(Collation::Binary, |f| f.0))
            .collect();
        // Which fields hold a REAL column: SQLite loads the sample's values from the
        // table row, where such a column reads as a real (its entry may hold an integer).
        let real_column = |c: usize| {
            table.rowid_alias != Some(c)
                && c < table.columns.len()
                && !table.is_virtual(c)
                && table.columns[c].affinity == Affinity::Real
        };
        let mut real_fields = Vec::new();
        for (k, c) in ix.columns.iter().enumerate().take(n_col) {
            if c.expr.is_none() && real_column(c.column) {
                real_fields.push(k);
            }
        }
        for (k, &c) in tail.iter().enumerate() {
            if real_column(c) {
                real_fields.push(n_key + k);
            }
        }
        // A VIRTUAL generated column of REAL affinity: SQLite computes it with its
        // affinity applied, which holds integral values as integers.
        let int_real: Vec<usize> = ix
            .columns
            .iter()
            .enumerate()
            .take(n_col)
            .filter(|(_, c)| {
                c.expr.is_none()
                    && c.column < table.columns.len()
                    && table.is_virtual(c.column)
                    && table.columns[c.column].affinity == Affinity::Real
            })
            .map(|(k, _)| k)
            .collect();

        self.emit(Insn::String {
            value: idx_name.as_bytes().to_vec(),
            dest: base + 1,
        });
        let cur = self.b.alloc_cursor();
        self.emit(Insn::OpenReadAsync {
            db: table.db,
            cursor: cur,
            root_page: ix.root_page,
            root_reg: None,
            kind: CursorKind::Index { key_info },
        });
        self.emit(Insn::OpenReadAwait { cursor: cur });
        let count = self.reg();
        self.emit(Insn::Count {
            cursor: cur,
            dest: count,
        });
        let acc = self.reg();
        self.emit(Insn::StatInit {
            acc_reg: acc,
            n_col,
            n_key_col: n_key,
            est_reg: count,
            limit_reg: curs.limit,
            collations,
            int_real,
        });
        let end = self.label();
        let stat1 = self.label();
        let top = self.label();
        // An empty index has no row, but an empty partial index has one.
        let if_empty = if ix.where_sql.is_some() { stat1 } else { end };
        self.emit(Insn::RewindAsync { cursor: cur });
        self.emit(Insn::RewindAwait {
            cursor: cur,
            target_if_empty: if_empty.addr(),
        });
        self.resolve(top);
        let vals = self.regs(n_col.max(1));
        for k in 0..n_col {
            self.emit(Insn::Column {
                cursor: cur,
                column: k,
                dest: vals + k,
                default: None,
            });
            if real_fields.contains(&k) {
                self.emit(Insn::RealAffinity { reg: vals + k });
            }
        }
        let pushed = self.reg();
        self.emit(Insn::StatPush {
            acc_reg: acc,
            start: vals,
            dest: pushed,
        });
        // With an analysis limit reached: stop (1), or skip past this first-column value
        // and the entry after it (0), as SQLite's OP_SeekGT then OP_Next do.
        let next = self.label();
        self.emit(Insn::IsNull {
            reg: pushed,
            target: next.addr(),
        });
        self.emit(Insn::If {
            reg: pushed,
            target: stat1.addr(),
            jump_if_null: false,
        });
        self.emit(Insn::SeekAsync {
            cursor: cur,
            op: strata_btree::SeekOp::GT,
            key_start: vals,
            key_count: 1,
        });
        self.emit(Insn::SeekAwait {
            cursor: cur,
            target_if_not_found: stat1.addr(),
        });
        self.resolve(next);
        self.emit(Insn::NextAsync { cursor: cur });
        self.emit(Insn::NextAwait {
            cursor: cur,
            target_if_more: top.addr(),
        });
        self.resolve(stat1);
        self.emit(Insn::StatGet {
            acc_reg: acc,
            dest: base + 2,
        });
        self.insert_stat_row(
            curs.stat1,
            base,
            3,
            Some(vec![Affinity::Text; 3]),
            "sqlite_stat1",
        );
        // The samples (none for an empty index, nor with an analysis limit).
        let next = self.label();
        self.resolve(next);
        self.emit(Insn::StatSample {
            acc_reg: acc,
            dest: base + 2,
            key_dest: vals,
            target_if_done: end.addr(),
        });
        self.emit(Insn::MakeRecord {
            start: vals,
            count: n_col,
            dest: base + 5,
            affinities: None,
        });
        self.insert_stat_row(curs.stat4, base, 6, None, "sqlite_stat4");
        self.goto(next);
        self.resolve(end);
        self.emit(Insn::Close { cursor: cur });
    }
}
