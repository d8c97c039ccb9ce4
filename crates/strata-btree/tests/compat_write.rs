//! A database written by our layers only — at least 100,000 random inserts, replaces and
//! deletes across several table and index B-trees, overflow payloads, WAL commits,
//! rollbacks and checkpoints — passes SQLite's `PRAGMA integrity_check`, and SQLite reads
//! back exactly our contents, both before checkpoint (SQLite reads our WAL) and after a
//! final TRUNCATE checkpoint. Page sizes 512, 4096, 65536 on every backend; 100k operations
//! for (4096, syscall), 20k for the others.

mod compat_harness;

use std::collections::BTreeMap;
use std::sync::Arc;

use compat_harness::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{config::DbConfig, Connection};
use strata_btree::record::{Collation, KeyInfo, SortOrder, Value};
use strata_btree::{BTreeCursor, SeekOp, TreeKind};
use strata_io::IO;
use strata_pager::header::{OFFSET_FREELIST_COUNT, OFFSET_SCHEMA_COOKIE};
use strata_pager::{CheckpointMode, Pager, Storage, StorageOptions, SyncMode};

#[derive(Clone, Copy)]
enum ColKind {
    /// INTEGER affinity: NULL, integers, non-integral reals, non-numeric text, blobs.
    Int,
    /// TEXT affinity: NULL, text, blobs.
    Text,
    /// No affinity (BLOB / none): anything.
    Any,
}

struct IndexDef {
    name: &'static str,
    sql: &'static str,
    cols: &'static [usize],
    key_info: &'static [(Collation, SortOrder)],
    /// ORDER BY terms matching the index, for SQLite's view of it.
    order_by: &'static str,
    select: &'static str,
}

struct TableDef {
    name: &'static str,
    sql: &'static str,
    cols: &'static [ColKind],
    indexes: &'static [IndexDef],
}

const TABLES: &[TableDef] = &[
    TableDef {
        name: "t1",
        sql: "CREATE TABLE t1(a INTEGER, b TEXT, c BLOB)",
        cols: &[ColKind::Int, ColKind::Text, ColKind::Any],
        indexes: &[
            IndexDef {
                name: "i1_b",
                sql: "CREATE INDEX i1_b ON t1(b)",
                cols: &[1],
                key_info: &[(Collation::Binary, SortOrder::Asc)],
                order_by: "b",
                select: "b",
            },
            IndexDef {
                name: "i1_ab",
                sql: "CREATE INDEX i1_ab ON t1(a DESC, b)",
                cols: &[0, 1],
                key_info: &[
                    (Collation::Binary, SortOrder::Desc),
                    (Collation::Binary, SortOrder::Asc),
                ],
                order_by: "a DESC, b",
                select: "a, b",
            },
        ],
    },
    TableDef {
        name: "t2",
        sql: "CREATE TABLE t2(x TEXT, y INTEGER)",
        cols: &[ColKind::Text, ColKind::Int],
        indexes: &[
            IndexDef {
                name: "i2_x",
                sql: "CREATE INDEX i2_x ON t2(x COLLATE NOCASE)",
                cols: &[0],
                key_info: &[(Collation::NoCase, SortOrder::Asc)],
                order_by: "x COLLATE NOCASE",
                select: "x",
            },
            IndexDef {
                name: "i2_yx",
                sql: "CREATE INDEX i2_yx ON t2(y, x COLLATE RTRIM DESC)",
                cols: &[1, 0],
                key_info: &[
                    (Collation::Binary, SortOrder::Asc),
                    (Collation::RTrim, SortOrder::Desc),
                ],
                order_by: "y, x COLLATE RTRIM DESC",
                select: "y, x",
            },
        ],
    },
    TableDef {
        name: "t3",
        sql: "CREATE TABLE t3(k BLOB, v)",
        cols: &[ColKind::Any, ColKind::Any],
        indexes: &[IndexDef {
            name: "i3_kv",
            sql: "CREATE INDEX i3_kv ON t3(k, v)",
            cols: &[0, 1],
            key_info: &[
                (Collation::Binary, SortOrder::Asc),
                (Collation::Binary, SortOrder::Asc),
            ],
            order_by: "k, v",
            select: "k, v",
        }],
    },
];

/// A table created, filled and dropped during the run (its pages go to the freelist).
const SCRATCH: TableDef = TableDef {
    name: "t4",
    sql: "CREATE TABLE t4(p, q TEXT)",
    cols: &[ColKind::Any, ColKind::Text],
    indexes: &[IndexDef {
        name: "i4_q",
        sql: "CREATE INDEX i4_q ON t4(q)",
        cols: &[1],
        key_info: &[(Collation::Binary, SortOrder::Asc)],
        order_by: "q",
        select: "q",
    }],
};

const WORDS: &[&str] = &[
    "a",
    "A",
    "abc",
    "ABC",
    "Abc",
    "apple",
    "Apple",
    "APPLE",
    "zebra",
    "Zebra",
    "m",
    "M",
    "héllo",
    "HÉLLO",
    "wörld",
    "日本語",
    "Ωmega",
    "ωmega",
    "emoji🎉",
    "trailing ",
    "trailing  ",
    "trailing",
    "x y",
    "NULL",
];

fn word_text(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut s = String::from(WORDS[rng.gen_range(0..WORDS.len())]);
    if rng.gen_bool(0.5) {
        s.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
    }
    if rng.gen_bool(0.3) {
        s.push_str(&rng.gen_range(0..1000).to_string());
    }
    s.into_bytes()
}

/// Non-numeric text of about `len` bytes (starts with a letter, so no affinity converts it).
fn long_text(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len);
    v.push(b'L');
    while v.len() < len {
        v.push(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ "[rng.gen_range(0..37)]);
    }
    v
}

fn blob(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.gen()).collect()
}

fn big_len(rng: &mut ChaCha8Rng, page_size: usize) -> usize {
    if rng.gen_bool(0.8) {
        rng.gen_range(page_size / 2..page_size * 2)
    } else {
        rng.gen_range(page_size * 2..page_size * 4).min(300_000)
    }
}

fn gen_int(rng: &mut ChaCha8Rng) -> Value {
    const EXTREMES: &[i64] = &[
        i64::MIN,
        i64::MAX,
        0,
        1,
        -1,
        255,
        -256,
        1 << 40,
        -(1 << 40),
        (1 << 53) + 1,
    ];
    if rng.gen_bool(0.1) {
        Value::Integer(EXTREMES[rng.gen_range(0..EXTREMES.len())])
    } else {
        Value::Integer(rng.gen_range(-500..500))
    }
}

fn gen_value(rng: &mut ChaCha8Rng, kind: ColKind, page_size: usize, big_rate: f64) -> Value {
    let big = rng.gen_bool(big_rate);
    let r = rng.gen_range(0..100);
    match kind {
        ColKind::Int => match r {
            0..=9 => Value::Null,
            10..=69 => gen_int(rng),
            70..=84 => {
                const SPECIAL: &[f64] = &[0.5, -0.5, 1e300, -1e300, 1e-300, 2.25];
                if rng.gen_bool(0.2) {
                    Value::Real(SPECIAL[rng.gen_range(0..SPECIAL.len())])
                } else {
                    Value::Real(rng.gen_range(-500..500) as f64 + 0.5)
                }
            }
            85..=94 => {
                let mut t = b"w".to_vec();
                t.extend(word_text(rng));
                Value::Text(t)
            }
            _ => {
                let n = rng.gen_range(0..12);
                Value::Blob(blob(rng, n))
            }
        },
        ColKind::Text => match r {
            _ if big => {
                let n = big_len(rng, page_size);
                Value::Text(long_text(rng, n))
            }
            0..=9 => Value::Null,
            10..=89 => Value::Text(word_text(rng)),
            90..=92 => Value::Text(Vec::new()),
            _ => {
                let n = rng.gen_range(0..12);
                Value::Blob(blob(rng, n))
            }
        },
        ColKind::Any => match r {
            _ if big => {
                let n = big_len(rng, page_size);
                if rng.gen_bool(0.5) {
                    Value::Blob(blob(rng, n))
                } else {
                    Value::Text(long_text(rng, n))
                }
            }
            0..=29 => gen_value(rng, ColKind::Int, page_size, 0.0),
            30..=59 => Value::Text(word_text(rng)),
            _ => {
                let n = rng.gen_range(0..30);
                Value::Blob(blob(rng, n))
            }
        },
    }
}

fn gen_row(rng: &mut ChaCha8Rng, t: &TableDef, page_size: usize) -> Vec<Value> {
    // Overflow payloads: ~2% of the values of the columns that may hold long values.
    t.cols
        .iter()
        .map(|&k| gen_value(rng, k, page_size, 0.02))
        .collect()
}

fn index_key(ix: &IndexDef, row: &[Value], rowid: i64) -> Vec<Value> {
    let mut k: Vec<Value> = ix.cols.iter().map(|&c| row[c].clone()).collect();
    k.push(Value::Integer(rowid));
    k
}

fn key_info(ix: &IndexDef) -> Arc<KeyInfo> {
    Arc::new(KeyInfo {
        fields: ix.key_info.to_vec(),
        ..Default::default()
    })
}

/// The index entries a table's rows imply, in index order (independent oracle order).
fn expected_index(ix: &IndexDef, rows: &BTreeMap<i64, Vec<Value>>) -> Vec<Vec<Value>> {
    let ki = key_info(ix);
    let mut v: Vec<Vec<Value>> = rows.iter().map(|(&r, row)| index_key(ix, row, r)).collect();
    v.sort_by(|a, b| oracle_cmp_prefix(a, b, &ki));
    v
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Start {
    /// A new database made by our layers.
    Empty,
    /// A database made by SQLite (same schema, rows, a freelist, frames in its WAL); our
    /// layers then carry on writing to it.
    Sqlite,
}

struct Config {
    page_size: usize,
    backend: &'static str,
    ops: usize,
    sync_mode: SyncMode,
    autocheckpoint_frames: u64,
    reserved_bytes: u8,
    cache_size_pages: usize,
    start: Start,
}

const DEFAULT: Config = Config {
    page_size: 4096,
    backend: "syscall",
    ops: 20_000,
    sync_mode: SyncMode::Normal,
    autocheckpoint_frames: 0,
    reserved_bytes: 0,
    cache_size_pages: 300,
    start: Start::Empty,
};

/// What SQLite made: model rows per table, schema rows by rowid.
struct SqliteStart {
    model: Vec<BTreeMap<i64, Vec<Value>>>,
    schema: BTreeMap<i64, Vec<Value>>,
}

/// Builds the schema and data with SQLite: rows, deletes (freelist pages), a TRUNCATE
/// checkpoint, then more changes left un-checkpointed in its WAL.
fn build_sqlite_start(path: &str, cfg: &Config, rng: &mut ChaCha8Rng, ctx: &str) -> SqliteStart {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!("PRAGMA page_size={};", cfg.page_size))
        .unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch("PRAGMA wal_autocheckpoint=0;").unwrap();
    for t in TABLES {
        conn.execute_batch(t.sql).unwrap();
        for ix in t.indexes {
            conn.execute_batch(ix.sql).unwrap();
        }
    }
    let insert = |conn: &Connection, rng: &mut ChaCha8Rng, n: usize| {
        for t in TABLES {
            let marks: Vec<String> = (1..=t.cols.len()).map(|i| format!("?{i}")).collect();
            let mut st = conn
                .prepare(&format!(
                    "INSERT INTO {} VALUES ({})",
                    t.name,
                    marks.join(", ")
                ))
                .unwrap();
            for _ in 0..n {
                let row: Vec<rusqlite::types::Value> = gen_row(rng, t, cfg.page_size)
                    .iter()
                    .map(to_sqlite)
                    .collect();
                st.execute(rusqlite::params_from_iter(row)).unwrap();
            }
        }
    };
    conn.execute_batch("BEGIN").unwrap();
    insert(&conn, rng, 1500);
    conn.execute_batch("COMMIT").unwrap();
    conn.execute_batch("DELETE FROM t1 WHERE rowid % 3 = 0; DELETE FROM t2 WHERE rowid BETWEEN 200 AND 900; DELETE FROM t3 WHERE rowid % 2 = 1;")
        .unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    assert!(
        free > 0,
        "{ctx}: setup: SQLite's database should have freelist pages"
    );
    conn.execute_batch("BEGIN").unwrap();
    insert(&conn, rng, 300);
    conn.execute_batch("DELETE FROM t1 WHERE rowid % 7 = 1; COMMIT;")
        .unwrap();
    let wal_len = std::fs::metadata(format!("{path}-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(
        wal_len > 32,
        "{ctx}: setup: SQLite's WAL should hold frames"
    );
    let model = TABLES
        .iter()
        .map(|t| {
            sqlite_rows(
                &conn,
                &format!("SELECT rowid, * FROM {} ORDER BY rowid", t.name),
            )
            .into_iter()
            .map(|mut r| {
                let Value::Integer(rowid) = r.remove(0) else {
                    panic!("rowid")
                };
                (rowid, r)
            })
            .collect()
        })
        .collect();
    let schema = sqlite_rows(
        &conn,
        "SELECT rowid, type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid",
    )
    .into_iter()
    .map(|mut r| {
        let Value::Integer(rowid) = r.remove(0) else {
            panic!("rowid")
        };
        (rowid, r)
    })
    .collect();
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    eprintln!("{ctx}: SQLite-made start: freelist {free} pages, WAL {wal_len} bytes");
    SqliteStart { model, schema }
}

/// Tree roots of one table and its indexes.
#[derive(Clone)]
struct Roots {
    table: u32,
    indexes: Vec<u32>,
}

struct Run<'a> {
    cfg: &'a Config,
    b: Backend,
    io: Arc<dyn IO>,
    path: String,
    ctx: String,
    rng: ChaCha8Rng,
    storage: Option<Arc<Storage>>,
    pager: Option<Arc<Pager>>,
    roots: Vec<Roots>,
    model: Vec<BTreeMap<i64, Vec<Value>>>,
    /// Schema rows we wrote (rowid in sqlite_schema -> row), mirrored for checks.
    schema: BTreeMap<i64, Vec<Value>>,
    scratch: Option<(Roots, i64, i64)>,
    scratch_rows: BTreeMap<i64, Vec<Value>>,
    undo: Vec<Undo>,
    /// Counters for the report.
    stats: Stats,
}

#[derive(Default, Debug)]
struct Stats {
    inserts: usize,
    replaces: usize,
    deletes: usize,
    commits: usize,
    rollbacks: usize,
    checkpoints: usize,
}

enum Undo {
    Row {
        table: usize,
        rowid: i64,
        old: Option<Vec<Value>>,
    },
}

fn storage_options(cfg: &Config) -> StorageOptions {
    StorageOptions {
        page_size: cfg.page_size,
        reserved_bytes: cfg.reserved_bytes,
        cache_size_pages: cfg.cache_size_pages,
        sync_mode: cfg.sync_mode,
        autocheckpoint_frames: cfg.autocheckpoint_frames,
    }
}

impl<'a> Run<'a> {
    fn pager(&self) -> Arc<Pager> {
        self.pager.clone().expect("storage open")
    }

    fn open(&mut self) {
        let storage = Storage::open(self.io.clone(), &self.path, storage_options(self.cfg))
            .unwrap_or_else(|e| panic!("{}: Storage::open: {e}", self.ctx));
        self.pager = Some(storage.pager());
        self.storage = Some(storage);
    }

    fn close(&mut self) {
        self.pager = None;
        let storage = self.storage.take().expect("open");
        assert_eq!(
            Arc::strong_count(&storage),
            1,
            "{}: someone still holds the Storage",
            self.ctx
        );
        drop(storage);
    }

    fn begin_write(&self) {
        self.pager()
            .begin_write()
            .unwrap_or_else(|e| panic!("{}: begin_write: {e}", self.ctx));
    }

    fn commit(&mut self) {
        let pager = self.pager();
        drive(self.io.as_ref(), || pager.commit())
            .unwrap_or_else(|e| panic!("{}: commit: {e}", self.ctx));
        self.undo.clear();
        self.stats.commits += 1;
    }

    fn rollback(&mut self) {
        self.pager()
            .rollback()
            .unwrap_or_else(|e| panic!("{}: rollback: {e}", self.ctx));
        while let Some(u) = self.undo.pop() {
            match u {
                Undo::Row { table, rowid, old } => {
                    let m = &mut self.model[table];
                    match old {
                        Some(row) => {
                            m.insert(rowid, row);
                        }
                        None => {
                            m.remove(&rowid);
                        }
                    }
                }
            }
        }
        self.stats.rollbacks += 1;
    }

    fn checkpoint(&mut self, mode: CheckpointMode) {
        let pager = self.pager();
        let r = drive(self.io.as_ref(), || pager.checkpoint(mode))
            .unwrap_or_else(|e| panic!("{}: checkpoint({mode:?}): {e}", self.ctx));
        assert!(
            !r.busy,
            "{}: checkpoint({mode:?}) busy with no readers: {r:?}",
            self.ctx
        );
        if mode == CheckpointMode::Truncate {
            let wal = self
                .b
                .read_file(&format!("{}-wal", self.path))
                .unwrap_or_default();
            assert_eq!(
                wal.len(),
                0,
                "{}: WAL not truncated by TRUNCATE checkpoint",
                self.ctx
            );
        }
        self.stats.checkpoints += 1;
    }

    /// The WAL header's salts (bytes 16..24), `None` if the WAL is shorter than a header.
    fn wal_salts(&self) -> Option<Vec<u8>> {
        self.b
            .read_file(&format!("{}-wal", self.path))
            .filter(|w| w.len() >= 32)
            .map(|w| w[16..24].to_vec())
    }

    fn bump_schema_cookie(&self) {
        let pager = self.pager();
        let page1 = drive(self.io.as_ref(), || pager.get_page(1)).unwrap();
        pager.mark_dirty(&page1).unwrap();
        let mut data = page1.data_mut();
        let c = u32::from_be_bytes(
            data[OFFSET_SCHEMA_COOKIE..OFFSET_SCHEMA_COOKIE + 4]
                .try_into()
                .unwrap(),
        );
        data[OFFSET_SCHEMA_COOKIE..OFFSET_SCHEMA_COOKIE + 4]
            .copy_from_slice(&(c + 1).to_be_bytes());
    }

    fn schema_insert(
        &mut self,
        rowid: i64,
        kind: &str,
        name: &str,
        tbl: &str,
        root: u32,
        sql: &str,
    ) {
        let row = vec![
            Value::Text(kind.into()),
            Value::Text(name.into()),
            Value::Text(tbl.into()),
            Value::Integer(root as i64),
            Value::Text(sql.into()),
        ];
        let pager = self.pager();
        let mut cur = BTreeCursor::new(pager, 1, TreeKind::Table);
        let rec = encode(&row);
        drive(self.io.as_ref(), || cur.insert_rowid(rowid, &rec))
            .unwrap_or_else(|e| panic!("{}: insert sqlite_schema row: {e}", self.ctx));
        self.schema.insert(rowid, row);
    }

    fn schema_delete(&mut self, rowid: i64) {
        let pager = self.pager();
        let mut cur = BTreeCursor::new(pager, 1, TreeKind::Table);
        let found = drive(self.io.as_ref(), || cur.seek_rowid(rowid, SeekOp::EQ)).unwrap();
        assert!(found, "{}: schema row {rowid} missing", self.ctx);
        drive(self.io.as_ref(), || cur.delete())
            .unwrap_or_else(|e| panic!("{}: delete schema row: {e}", self.ctx));
        self.schema.remove(&rowid);
    }

    fn create_table(&mut self, t: &TableDef, schema_rowid: &mut i64) -> Roots {
        let pager = self.pager();
        let table = drive(self.io.as_ref(), || {
            strata_btree::create_btree(&pager, strata_btree::BTreeType::Table)
        })
        .unwrap_or_else(|e| panic!("{}: create_btree: {e}", self.ctx));
        self.schema_insert(*schema_rowid, "table", t.name, t.name, table, t.sql);
        *schema_rowid += 1;
        let mut indexes = Vec::new();
        for ix in t.indexes {
            let root = drive(self.io.as_ref(), || {
                strata_btree::create_btree(&pager, strata_btree::BTreeType::Index)
            })
            .unwrap_or_else(|e| panic!("{}: create_btree: {e}", self.ctx));
            self.schema_insert(*schema_rowid, "index", ix.name, t.name, root, ix.sql);
            *schema_rowid += 1;
            indexes.push(root);
        }
        Roots { table, indexes }
    }

    /// Applies one row change to the trees: the old row (if any) leaves every index, the
    /// table gets the new row (or loses the row), the new row enters every index.
    fn apply(
        &mut self,
        t: &TableDef,
        roots: &Roots,
        rowid: i64,
        old: Option<&Vec<Value>>,
        new: Option<&Vec<Value>>,
    ) {
        let pager = self.pager();
        let io = self.io.clone();
        let ctx = self.ctx.clone();
        if let Some(old) = old {
            for (ix, &root) in t.indexes.iter().zip(&roots.indexes) {
                let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(key_info(ix)));
                let key = index_key(ix, old, rowid);
                let found = drive(io.as_ref(), || cur.seek_index(&key, SeekOp::EQ))
                    .unwrap_or_else(|e| panic!("{ctx}: {}: seek_index: {e}", ix.name));
                assert!(
                    found,
                    "{ctx}: {}: index entry {} not found for deletion",
                    ix.name,
                    show_row(&key)
                );
                drive(io.as_ref(), || cur.delete())
                    .unwrap_or_else(|e| panic!("{ctx}: {}: index delete: {e}", ix.name));
            }
        }
        let mut cur = BTreeCursor::new(pager.clone(), roots.table, TreeKind::Table);
        match new {
            Some(new) => {
                let rec = encode(new);
                if old.is_some() && self.rng.gen_bool(0.5) {
                    // Position first, as SQLite's VM does before an overwrite.
                    let found = drive(io.as_ref(), || cur.seek_rowid(rowid, SeekOp::EQ)).unwrap();
                    assert!(
                        found,
                        "{ctx}: {} rowid {rowid} not found before replace",
                        t.name
                    );
                }
                drive(io.as_ref(), || cur.insert_rowid(rowid, &rec))
                    .unwrap_or_else(|e| panic!("{ctx}: {}: insert_rowid({rowid}): {e}", t.name));
                assert!(!cur.is_eof(), "{ctx}: cursor not on the inserted row");
                assert_eq!(
                    cur.rowid().unwrap(),
                    rowid,
                    "{ctx}: cursor not on the inserted row"
                );
            }
            None => {
                let found = drive(io.as_ref(), || cur.seek_rowid(rowid, SeekOp::EQ))
                    .unwrap_or_else(|e| panic!("{ctx}: {}: seek_rowid: {e}", t.name));
                assert!(
                    found,
                    "{ctx}: {} rowid {rowid} not found for deletion",
                    t.name
                );
                drive(io.as_ref(), || cur.delete())
                    .unwrap_or_else(|e| panic!("{ctx}: {}: delete({rowid}): {e}", t.name));
            }
        }
        if let Some(new) = new {
            for (ix, &root) in t.indexes.iter().zip(&roots.indexes) {
                let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(key_info(ix)));
                let key = encode(&index_key(ix, new, rowid));
                drive(io.as_ref(), || cur.insert_index(&key))
                    .unwrap_or_else(|e| panic!("{ctx}: {}: insert_index: {e}", ix.name));
            }
        }
    }

    fn pick_existing(&mut self, table: usize) -> Option<i64> {
        let m = &self.model[table];
        let (&lo, _) = m.first_key_value()?;
        let (&hi, _) = m.last_key_value()?;
        let probe = if hi - lo > 1_000_000 || self.rng.gen_bool(0.1) {
            // Sparse rowids (random inserts at extremes): pick by position among a few.
            return m
                .keys()
                .nth(self.rng.gen_range(0..m.len().min(64)))
                .copied();
        } else {
            self.rng.gen_range(lo..=hi)
        };
        m.range(probe..).next().map(|(&k, _)| k)
    }

    fn random_op(&mut self) {
        let ti = self.rng.gen_range(0..TABLES.len());
        let t = &TABLES[ti];
        let roots = self.roots[ti].clone();
        let n = self.model[ti].len();
        let r = self.rng.gen_range(0..100);
        // Keep tables from growing without bound: delete more once they are large.
        let (p_insert, p_replace) = if n > 6000 { (35, 60) } else { (55, 75) };
        if r < p_insert || n == 0 {
            let rowid = if self.rng.gen_bool(0.95) {
                self.model[ti]
                    .last_key_value()
                    .map_or(1, |(&k, _)| k.saturating_add(self.rng.gen_range(1..4)))
            } else {
                self.rng.gen()
            };
            if self.model[ti].contains_key(&rowid) {
                return;
            }
            let row = gen_row(&mut self.rng, t, self.cfg.page_size);
            self.apply(t, &roots, rowid, None, Some(&row));
            self.undo.push(Undo::Row {
                table: ti,
                rowid,
                old: None,
            });
            self.model[ti].insert(rowid, row);
            self.stats.inserts += 1;
        } else if r < p_replace {
            let Some(rowid) = self.pick_existing(ti) else {
                return;
            };
            let old = self.model[ti][&rowid].clone();
            let row = gen_row(&mut self.rng, t, self.cfg.page_size);
            self.apply(t, &roots, rowid, Some(&old), Some(&row));
            self.undo.push(Undo::Row {
                table: ti,
                rowid,
                old: Some(old),
            });
            self.model[ti].insert(rowid, row);
            self.stats.replaces += 1;
        } else {
            let Some(rowid) = self.pick_existing(ti) else {
                return;
            };
            let old = self.model[ti][&rowid].clone();
            self.apply(t, &roots, rowid, Some(&old), None);
            self.undo.push(Undo::Row {
                table: ti,
                rowid,
                old: Some(old),
            });
            self.model[ti].remove(&rowid);
            self.stats.deletes += 1;
        }
    }

    /// Our own view of one table and its indexes vs the model (needs a transaction).
    fn verify_ours(&self, ti: usize) {
        let t = &TABLES[ti];
        let pager = self.pager();
        let ours: Vec<Vec<Value>> = dump_table(&pager, self.roots[ti].table)
            .unwrap_or_else(|e| panic!("{}: scan {}: {e}", self.ctx, t.name))
            .into_iter()
            .map(|(r, mut row)| {
                row.insert(0, Value::Integer(r));
                row
            })
            .collect();
        let want: Vec<Vec<Value>> = model_rows(&self.model[ti]);
        assert_rows_eq(
            &format!("{} our scan of {}", self.ctx, t.name),
            &ours,
            &want,
        );
        for (ix, &root) in t.indexes.iter().zip(&self.roots[ti].indexes) {
            let ours = dump_index_with(&pager, root, key_info(ix))
                .unwrap_or_else(|e| panic!("{}: scan {}: {e}", self.ctx, ix.name));
            assert_rows_eq(
                &format!("{} our scan of {}", self.ctx, ix.name),
                &ours,
                &expected_index(ix, &self.model[ti]),
            );
        }
        let mut cur = BTreeCursor::new(pager, self.roots[ti].table, TreeKind::Table);
        let max = drive(self.io.as_ref(), || cur.max_rowid()).unwrap();
        assert_eq!(
            max,
            self.model[ti].last_key_value().map(|(&k, _)| k),
            "{}: {} max_rowid",
            self.ctx,
            t.name
        );
    }

    fn freelist_count_ours(&self) -> u32 {
        let pager = self.pager();
        pager.begin_read().unwrap();
        let page1 = drive(self.io.as_ref(), || pager.get_page(1)).unwrap();
        let n = u32::from_be_bytes(
            page1.data()[OFFSET_FREELIST_COUNT..OFFSET_FREELIST_COUNT + 4]
                .try_into()
                .unwrap(),
        );
        drop(page1);
        pager.end_read();
        n
    }

    /// Closes our storage, shows the files to SQLite and checks everything SQLite sees.
    /// `copy`: check a copy (so SQLite cannot touch our files) instead of the files.
    fn sqlite_check(&mut self, label: &str, copy: bool, expect_wal_frames: bool) {
        let ctx = format!("{} [{label}]", self.ctx);
        let our_free = self.freelist_count_ours();
        self.close();
        self.b.dump(&self.path);
        let wal_len = std::fs::metadata(format!("{}-wal", self.path))
            .map(|m| m.len())
            .unwrap_or(0);
        if expect_wal_frames {
            assert!(
                wal_len > 32,
                "{ctx}: expected frames in our WAL, it is {wal_len} bytes"
            );
        } else {
            assert_eq!(
                wal_len, 0,
                "{ctx}: expected an empty WAL after TRUNCATE checkpoint"
            );
        }
        let check_path = if copy {
            let p = format!("{}.check-{label}", self.path);
            copy_db(&self.path, &p);
            p
        } else {
            self.path.clone()
        };
        {
            let conn = Connection::open(&check_path).unwrap();
            conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
                .unwrap();
            let mode: String = conn
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .unwrap();
            assert_eq!(mode, "wal", "{ctx}: SQLite sees journal_mode {mode}");
            let ic = integrity_check(&conn);
            assert_eq!(ic, vec!["ok".to_string()], "{ctx}: PRAGMA integrity_check");
            let free: i64 = conn
                .query_row("PRAGMA freelist_count", [], |r| r.get(0))
                .unwrap();
            assert_eq!(
                free, our_free as i64,
                "{ctx}: freelist_count: SQLite vs our header"
            );
            let ps: i64 = conn
                .query_row("PRAGMA page_size", [], |r| r.get(0))
                .unwrap();
            assert_eq!(ps as usize, self.cfg.page_size, "{ctx}: page size");
            let schema = sqlite_rows(
                &conn,
                "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid",
            );
            let want: Vec<Vec<Value>> = self.schema.values().cloned().collect();
            assert_rows_eq(&format!("{ctx} sqlite_schema"), &schema, &want);
            for (ti, t) in TABLES.iter().enumerate() {
                let got = sqlite_rows(
                    &conn,
                    &format!("SELECT rowid, * FROM {} ORDER BY rowid", t.name),
                );
                assert_rows_eq(
                    &format!("{ctx} SQLite reading {}", t.name),
                    &got,
                    &model_rows(&self.model[ti]),
                );
                for ix in t.indexes {
                    let got = sqlite_rows(
                        &conn,
                        &format!(
                            "SELECT {}, rowid FROM {} INDEXED BY {} ORDER BY {}, rowid",
                            ix.select, t.name, ix.name, ix.order_by
                        ),
                    );
                    assert_rows_eq(
                        &format!("{ctx} SQLite reading {}", ix.name),
                        &got,
                        &expected_index(ix, &self.model[ti]),
                    );
                }
            }
            conn.close().map_err(|(_, e)| e).unwrap();
        }
        if copy {
            let _ = std::fs::remove_file(&check_path);
            let _ = std::fs::remove_file(format!("{check_path}-wal"));
            let _ = std::fs::remove_file(format!("{check_path}-shm"));
        }
        eprintln!("{ctx}: SQLite check ok (WAL {wal_len} bytes, freelist {our_free} pages)");
        // Reopen: recovery of our own WAL; for the memory backend, reload what is on disk
        // only if SQLite could have changed it.
        if !copy {
            self.b.load(&self.path);
        }
        self.open();
    }
}

fn model_rows(m: &BTreeMap<i64, Vec<Value>>) -> Vec<Vec<Value>> {
    m.iter()
        .map(|(&r, row)| {
            let mut v = vec![Value::Integer(r)];
            v.extend(row.iter().cloned());
            v
        })
        .collect()
}

fn run(cfg: Config) {
    let Some(b) = backend(cfg.backend) else {
        return;
    };
    let seed = seed(0xDA7A_0000 ^ cfg.page_size as u64 ^ cfg.ops as u64);
    let ctx = format!(
        "[compat_write page_size={} reserved={} backend={} ops={} start={:?} cache={} seed={seed}]",
        cfg.page_size, cfg.reserved_bytes, b.name, cfg.ops, cfg.start, cfg.cache_size_pages
    );
    eprintln!("{ctx} (replay with STRATA_TEST_SEED={seed})");
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("ours.db"));
    let io = b.io.clone();
    let mut run = Run {
        cfg: &cfg,
        b,
        io,
        path,
        ctx,
        rng: ChaCha8Rng::seed_from_u64(seed),
        storage: None,
        pager: None,
        roots: Vec::new(),
        model: vec![BTreeMap::new(); TABLES.len()],
        schema: BTreeMap::new(),
        scratch: None,
        scratch_rows: BTreeMap::new(),
        undo: Vec::new(),
        stats: Stats::default(),
    };
    let mut schema_rowid = 1i64;
    match cfg.start {
        Start::Empty => {
            run.open();
            run.begin_write();
            for t in TABLES {
                let roots = run.create_table(t, &mut schema_rowid);
                run.roots.push(roots);
            }
            run.bump_schema_cookie();
            run.commit();
        }
        Start::Sqlite => {
            let start = build_sqlite_start(&run.path, &cfg, &mut run.rng, &run.ctx);
            run.model = start.model;
            run.schema = start.schema;
            schema_rowid = run.schema.keys().next_back().copied().unwrap_or(0) + 1;
            let root_of = |name: &str| -> u32 {
                let row = run
                    .schema
                    .values()
                    .find(|r| r[1] == Value::Text(name.into()))
                    .expect("schema row");
                let Value::Integer(root) = row[3] else {
                    panic!("rootpage")
                };
                root as u32
            };
            run.roots = TABLES
                .iter()
                .map(|t| Roots {
                    table: root_of(t.name),
                    indexes: t.indexes.iter().map(|ix| root_of(ix.name)).collect(),
                })
                .collect();
            run.b.load(&run.path);
            run.open();
            assert!(
                run.storage.as_ref().unwrap().wal().max_frame() > 0,
                "{}: SQLite's WAL not recovered",
                run.ctx
            );
            // Our view of SQLite's data before we write.
            run.pager().begin_read().unwrap();
            for ti in 0..TABLES.len() {
                run.verify_ours(ti);
            }
            run.pager().end_read();
        }
    }

    let ops_per_tx = 1000;
    let n_tx = cfg.ops.div_ceil(ops_per_tx);
    let midpoint = n_tx / 2;
    let scratch_create = n_tx / 4;
    let scratch_drop = scratch_create + 3;
    let mut done_ops = 0usize;
    let mut salts_before_midpoint = None;
    for tx in 0..n_tx {
        run.begin_write();
        if tx == scratch_create {
            let roots = run.create_table(&SCRATCH, &mut schema_rowid);
            let rows = 1500.min(cfg.ops / 20);
            for rowid in 1..=rows as i64 {
                let row = gen_row(&mut run.rng, &SCRATCH, cfg.page_size);
                run.apply(&SCRATCH, &roots, rowid, None, Some(&row));
                run.scratch_rows.insert(rowid, row);
            }
            run.bump_schema_cookie();
            run.scratch = Some((roots, schema_rowid - 2, schema_rowid - 1));
        }
        if tx == scratch_drop {
            if let Some((roots, table_row, index_row)) = run.scratch.take() {
                let pager = run.pager();
                // Our own view of the scratch table before it goes.
                let ours = dump_table(&pager, roots.table).unwrap();
                assert_eq!(
                    ours.len(),
                    run.scratch_rows.len(),
                    "{}: scratch table rows",
                    run.ctx
                );
                // Clear the table first (frees all but the root), then drop every tree.
                drive(run.io.as_ref(), || {
                    strata_btree::clear_btree(&pager, roots.table)
                })
                .unwrap_or_else(|e| panic!("{}: clear_btree: {e}", run.ctx));
                assert!(
                    dump_table(&pager, roots.table).unwrap().is_empty(),
                    "{}: cleared table not empty",
                    run.ctx
                );
                for root in std::iter::once(roots.table).chain(roots.indexes.iter().copied()) {
                    drive(run.io.as_ref(), || strata_btree::drop_btree(&pager, root))
                        .unwrap_or_else(|e| panic!("{}: drop_btree({root}): {e}", run.ctx));
                }
                run.schema_delete(index_row);
                run.schema_delete(table_row);
                run.bump_schema_cookie();
                run.scratch_rows.clear();
            }
        }
        let n = ops_per_tx.min(cfg.ops - done_ops);
        for _ in 0..n {
            run.random_op();
        }
        done_ops += n;
        // Roll back about one transaction in eight (never the scratch table's ones, whose
        // schema rows we track outside the undo log).
        let rollback = tx != scratch_create
            && tx != scratch_drop
            && tx != midpoint
            && run.rng.gen_range(0..8) == 0;
        if rollback {
            run.rollback();
            // What the rollback restored must be exactly the model.
            run.pager().begin_read().unwrap();
            let ti = run.rng.gen_range(0..TABLES.len());
            run.verify_ours(ti);
            run.pager().end_read();
        } else {
            run.commit();
            if tx % 10 == 9 {
                run.pager().begin_read().unwrap();
                for ti in 0..TABLES.len() {
                    run.verify_ours(ti);
                }
                run.pager().end_read();
            }
        }
        if tx == midpoint {
            // The WAL was fully checkpointed before this transaction with no reader, so
            // this commit restarted it (new salts) over the old frames: SQLite must read
            // the new frames and ignore the stale ones after them.
            let salts_now = run.wal_salts();
            assert_ne!(
                salts_before_midpoint, salts_now,
                "{}: the WAL did not restart after a FULL checkpoint with no readers",
                run.ctx
            );
            // SQLite reads our WAL (frames not checkpointed).
            run.sqlite_check("before-checkpoint", true, true);
        } else if tx + 1 == midpoint {
            run.checkpoint(CheckpointMode::Full);
            salts_before_midpoint = run.wal_salts();
        } else {
            match run.rng.gen_range(0..20) {
                0..=1 => run.checkpoint(CheckpointMode::Passive),
                2 => run.checkpoint(CheckpointMode::Truncate),
                3 => run.checkpoint(CheckpointMode::Full),
                _ => {}
            }
        }
    }
    run.pager().begin_read().unwrap();
    for ti in 0..TABLES.len() {
        run.verify_ours(ti);
    }
    run.pager().end_read();
    run.checkpoint(CheckpointMode::Truncate);
    run.sqlite_check("after-truncate-checkpoint", false, false);
    let rows: Vec<usize> = run.model.iter().map(|m| m.len()).collect();
    eprintln!(
        "{}: done in {:?}: {:?}, final rows {rows:?}",
        run.ctx,
        started.elapsed(),
        run.stats
    );
    assert!(
        run.stats.inserts + run.stats.replaces + run.stats.deletes >= cfg.ops * 9 / 10,
        "{}: too few operations applied: {:?}",
        run.ctx,
        run.stats
    );
    run.close();
}

macro_rules! compat_write_tests {
    ($($name:ident: $ps:expr, $backend:expr, $ops:expr, $sync:expr, $ackpt:expr;)*) => {$(
        #[test]
        fn $name() {
            run(Config { page_size: $ps, backend: $backend, ops: $ops, sync_mode: $sync, autocheckpoint_frames: $ackpt, ..DEFAULT });
        }
    )*};
}

macro_rules! compat_write_on_sqlite_tests {
    ($($name:ident: $ps:expr, $backend:expr;)*) => {$(
        #[test]
        fn $name() {
            run(Config { page_size: $ps, backend: $backend, ops: 10_000, start: Start::Sqlite, ..DEFAULT });
        }
    )*};
}

// Our writes on top of a database SQLite made (its freelist, its WAL, its page layout).
compat_write_on_sqlite_tests! {
    on_sqlite_512_syscall: 512, "syscall";
    on_sqlite_512_uring: 512, "uring";
    on_sqlite_512_memory: 512, "memory";
    on_sqlite_4096_syscall: 4096, "syscall";
    on_sqlite_4096_uring: 4096, "uring";
    on_sqlite_4096_memory: 4096, "memory";
    on_sqlite_65536_syscall: 65536, "syscall";
    on_sqlite_65536_uring: 65536, "uring";
    on_sqlite_65536_memory: 65536, "memory";
}

/// Reserved bytes at the end of every page (usable size below the page size; 480 is the
/// smallest usable size SQLite accepts), and a tiny page cache.
#[test]
fn write_512_reserved_32_syscall() {
    run(Config {
        page_size: 512,
        reserved_bytes: 32,
        ops: 20_000,
        ..DEFAULT
    });
}

#[test]
fn write_4096_reserved_100_memory() {
    run(Config {
        page_size: 4096,
        reserved_bytes: 100,
        backend: "memory",
        ops: 20_000,
        ..DEFAULT
    });
}

#[test]
fn write_1024_tiny_cache_syscall() {
    run(Config {
        page_size: 1024,
        cache_size_pages: 8,
        ops: 20_000,
        ..DEFAULT
    });
}

compat_write_tests! {
    write_4096_syscall_100k: 4096, "syscall", 100_000, SyncMode::Full, 0;
    write_4096_uring: 4096, "uring", 20_000, SyncMode::Normal, 1000;
    write_4096_memory: 4096, "memory", 20_000, SyncMode::Off, 0;
    write_512_syscall: 512, "syscall", 20_000, SyncMode::Normal, 0;
    write_512_uring: 512, "uring", 20_000, SyncMode::Full, 0;
    write_512_memory: 512, "memory", 20_000, SyncMode::Full, 1000;
    write_65536_syscall: 65536, "syscall", 20_000, SyncMode::Normal, 1000;
    write_65536_uring: 65536, "uring", 20_000, SyncMode::Off, 0;
    write_65536_memory: 65536, "memory", 20_000, SyncMode::Normal, 0;
}

/// A database SQLite made with `auto_vacuum=FULL` has pointer-map pages that every page
/// allocation and move must keep up to date: with the auto-vacuum commit hook installed,
/// our layers write it (inserts that grow it past pointer-map pages, deletes that free
/// pages) and SQLite's integrity_check, which verifies every entry, finds it intact, with
/// no free page left by the FULL-mode commit.
fn autovacuum_db(backend_name: &str) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let ctx = format!("[compat_write autovacuum backend={backend_name}]");
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("av.db"));
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA page_size=1024; PRAGMA auto_vacuum=FULL;")
            .unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        conn.execute_batch(
            "CREATE TABLE t(a INTEGER, b TEXT);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 500)
             INSERT INTO t SELECT i, printf('%0200d', i) FROM c;",
        )
        .unwrap();
        let av: i64 = conn
            .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
            .unwrap();
        assert_eq!(av, 1, "{ctx}: setup: auto_vacuum=FULL");
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    let root = {
        let conn = Connection::open(&path).unwrap();
        let r: i64 = conn
            .query_row(
                "SELECT rootpage FROM sqlite_schema WHERE name='t'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
        r as u32
    };
    b.load(&path);
    let outcome: Result<(), String> = (|| {
        let storage = Storage::open(b.io.clone(), &path, options(1024, SyncMode::Normal))
            .map_err(|e| format!("open: {e}"))?;
        // The hook that keeps the pointer maps and truncates at commit.
        strata_btree::autovacuum::install(&storage);
        let pager = storage.pager();
        pager
            .begin_write()
            .map_err(|e| format!("begin_write: {e}"))?;
        let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
        for rowid in 1000..1500i64 {
            let rec = encode(&[
                Value::Integer(rowid),
                Value::Text(format!("{rowid:0300}").into_bytes()),
            ]);
            drive(b.io.as_ref(), || cur.insert_rowid(rowid, &rec))
                .map_err(|e| format!("insert: {e}"))?;
        }
        for rowid in 1..300i64 {
            if drive(b.io.as_ref(), || cur.seek_rowid(rowid, SeekOp::EQ))
                .map_err(|e| format!("seek: {e}"))?
            {
                drive(b.io.as_ref(), || cur.delete()).map_err(|e| format!("delete: {e}"))?;
            }
        }
        drop(cur);
        drive(b.io.as_ref(), || pager.commit()).map_err(|e| format!("commit: {e}"))?;
        Ok(())
    })();
    outcome.unwrap_or_else(|e| panic!("{ctx}: writing an auto_vacuum database: {e}"));
    b.dump(&path);
    let conn = Connection::open(&path).unwrap();
    let ic = integrity_check(&conn);
    assert_eq!(
        ic,
        vec!["ok".to_string()],
        "{ctx}: SQLite finds our write damaged"
    );
    let free: i64 = conn
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        free, 0,
        "{ctx}: a FULL auto-vacuum commit leaves no free page"
    );
}

#[test]
fn autovacuum_db_syscall() {
    autovacuum_db("syscall");
}

#[test]
fn autovacuum_db_memory() {
    autovacuum_db("memory");
}

/// A new root in an auto-vacuum database goes at the largest root + 1; the tree page there
/// moves to the page the freelist hands out, here its only trunk, which is the file's last
/// page (a one-page overflow chain appended and deleted in the same transaction): valid,
/// not "beyond the database". SQLite's integrity_check then finds the file intact.
#[test]
fn autovacuum_new_root_moves_a_page_into_a_trunk_at_the_end() {
    let Some(b) = backend("memory") else {
        return;
    };
    let ctx = "[compat_write autovacuum new root, trunk at the end]";
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("av_root.db"));
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA page_size=1024; PRAGMA auto_vacuum=FULL; PRAGMA journal_mode=WAL;
             CREATE TABLE t(a INTEGER, b TEXT);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)
             INSERT INTO t SELECT i, printf('%0200d', i) FROM c;",
        )
        .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    b.load(&path);
    let storage = Storage::open(b.io.clone(), &path, options(1024, SyncMode::Normal)).unwrap();
    strata_btree::autovacuum::install(&storage);
    let pager = storage.pager();
    pager.begin_write().unwrap();
    // Page 2 is the pointer map, 3 t's root, 4 one of t's pages: the new root's place.
    let mut cur = BTreeCursor::new(pager.clone(), 3, TreeKind::Table);
    assert!(drive(b.io.as_ref(), || cur.seek_rowid(100, SeekOp::EQ)).unwrap());
    let size = pager.db_size_pages();
    // 1133 bytes: 113 local (the minimum 103 plus the remainder 10), 1020 on one page.
    let rec = encode(&[Value::Blob(vec![7u8; 1130])]);
    assert_eq!(rec.len(), 1133, "{ctx}: setup");
    drive(b.io.as_ref(), || cur.insert_rowid(1000, &rec)).unwrap();
    assert_eq!(
        pager.db_size_pages(),
        size + 1,
        "{ctx}: one overflow page appended"
    );
    assert!(drive(b.io.as_ref(), || cur.seek_rowid(1000, SeekOp::EQ)).unwrap());
    drive(b.io.as_ref(), || cur.delete()).unwrap();
    drop(cur);
    let page1 = drive(b.io.as_ref(), || pager.get_page(1)).unwrap();
    let first_trunk = u32::from_be_bytes(page1.data()[32..36].try_into().unwrap());
    drop(page1);
    assert_eq!(
        first_trunk,
        size + 1,
        "{ctx}: the freed last page is the trunk"
    );
    let root = drive(b.io.as_ref(), || {
        strata_btree::create_btree(&pager, strata_btree::BTreeType::Table)
    })
    .unwrap_or_else(|e| panic!("{ctx}: create_btree: {e:?}"));
    assert_eq!(root, 4, "{ctx}: the new root's place");
    // Its schema row, as CREATE TABLE u(x) writes it.
    let schema_row = encode(&[
        Value::Text(b"table".to_vec()),
        Value::Text(b"u".to_vec()),
        Value::Text(b"u".to_vec()),
        Value::Integer(root as i64),
        Value::Text(b"CREATE TABLE u(x)".to_vec()),
    ]);
    let mut schema = BTreeCursor::new(pager.clone(), 1, TreeKind::Table);
    drive(b.io.as_ref(), || schema.insert_rowid(2, &schema_row)).unwrap();
    drop(schema);
    drive(b.io.as_ref(), || pager.commit()).unwrap();
    drop((pager, storage));
    b.dump(&path);
    let conn = Connection::open(&path).unwrap();
    assert_eq!(integrity_check(&conn), vec!["ok".to_string()], "{ctx}");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 100, "{ctx}");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM u", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0, "{ctx}");
}

/// An incremental-vacuum step moves the file's last page (in use) into the page the
/// freelist hands out next: the last leaf of the first trunk, which here holds U/4 - 2 =
/// 126 leaves on 512-byte pages, the most SQLite reads (it fills trunks only to U/4 - 8;
/// leaves are moved to it from the second trunk by hand). The step must use it, not refuse
/// the trunk; SQLite's integrity_check then finds the file intact.
#[test]
fn incremental_vacuum_step_uses_a_trunk_of_the_most_leaves() {
    let Some(b) = backend("memory") else {
        return;
    };
    let ctx = "[compat_write incremental vacuum step, trunk of 126 leaves]";
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("av_full_trunk.db"));
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA page_size=512; PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL;
             CREATE TABLE big(b BLOB);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 150)
             INSERT INTO big SELECT zeroblob(400) FROM c;
             CREATE TABLE t(a INTEGER, b TEXT);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 50)
             INSERT INTO t SELECT i, printf('%0200d', i) FROM c;
             DROP TABLE big;",
        )
        .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    b.load(&path);
    let storage = Storage::open(b.io.clone(), &path, options(512, SyncMode::Normal)).unwrap();
    strata_btree::autovacuum::install(&storage);
    let pager = storage.pager();
    let max = pager.usable_size() / 4 - 2;
    assert_eq!(max, 126);
    pager.begin_write().unwrap();
    let load = |n: u32| drive(b.io.as_ref(), || pager.get_page(n)).unwrap();
    let word = |d: &[u8], at: usize| u32::from_be_bytes(d[at..at + 4].try_into().unwrap());
    let page1 = load(1);
    let t1_no = word(&page1.data(), 32);
    let (t1, t2) = {
        let t1 = load(t1_no);
        let t2_no = word(&t1.data(), 0);
        assert_ne!(t2_no, 0, "{ctx}: setup: two trunks");
        (t1, load(t2_no))
    };
    let (l1, l2) = (word(&t1.data(), 4) as usize, word(&t2.data(), 4) as usize);
    assert!(
        l1 < max && l2 >= max - l1,
        "{ctx}: setup: leaves {l1}, {l2}"
    );
    let moved = max - l1;
    // Changed pages feed the pointer maps by their kind: these stay free.
    for t in [&t1, &t2] {
        pager.mark_dirty(t).unwrap();
        let kind = Some(strata_btree::autovacuum::KIND_FREE);
        pager.set_page_kind(t.page_no(), kind).unwrap();
    }
    let last_leaf = {
        let (mut d1, mut d2) = (t1.data_mut(), t2.data_mut());
        let from = 8 + 4 * (l2 - moved);
        d1[8 + 4 * l1..8 + 4 * max].copy_from_slice(&d2[from..8 + 4 * l2]);
        d1[4..8].copy_from_slice(&(max as u32).to_be_bytes());
        d2[4..8].copy_from_slice(&((l2 - moved) as u32).to_be_bytes());
        word(&d1, 4 + 4 * max)
    };
    drop((page1, t1, t2));
    let size = pager.db_size_pages();
    let moved_any = drive(b.io.as_ref(), || {
        strata_btree::autovacuum::vacuum_step(&pager)
    })
    .unwrap_or_else(|e| panic!("{ctx}: vacuum_step: {e:?}"));
    assert!(moved_any, "{ctx}");
    assert_eq!(
        pager.db_size_pages(),
        size - 1,
        "{ctx}: the last page moved"
    );
    let t1 = load(t1_no);
    assert_eq!(
        word(&t1.data(), 4) as usize,
        max - 1,
        "{ctx}: its last leaf taken"
    );
    assert!(last_leaf < size, "{ctx}");
    drop(t1);
    drive(b.io.as_ref(), || pager.commit()).unwrap();
    drop((pager, storage));
    b.dump(&path);
    let conn = Connection::open(&path).unwrap();
    assert_eq!(integrity_check(&conn), vec!["ok".to_string()], "{ctx}");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 50, "{ctx}");
}

/// The pointer maps of an auto-vacuum file SQLite made are where `strata_btree::ptrmap`
/// looks for them, and every page's entry reads back as SQLite wrote it: 512-byte pages
/// with 12 reserved bytes, so U = 500 and each map covers U/5 = 100 pages (maps at 2, 103,
/// 204, ...: SQLite's ptrmapPageno), and a map's last entry ends exactly at the usable
/// size. The entries are checked against what SQLite says of the file: the roots of its
/// schema are the type-1 entries, its free pages the type-2 ones, and the overflow and
/// B-tree pages have a parent in the file.
#[test]
fn pointer_maps_of_a_sqlite_file_are_located_and_read() {
    use strata_btree::ptrmap::{self, entry_offset, is_ptrmap_page, ptrmap_page_for, read_entry};
    let ctx = "[compat_write pointer maps of a SQLite file]";
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("av_maps.db"));
    const PS: usize = 512;
    const RESERVED: usize = 12;
    const U: usize = PS - RESERVED;
    let (roots, free) = {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA page_size=512;").unwrap();
        sqlite_reserve_bytes(&conn, RESERVED);
        conn.execute_batch(
            "PRAGMA auto_vacuum=INCREMENTAL;
             CREATE TABLE t(a INTEGER, b TEXT);
             CREATE INDEX t_b ON t(b);
             CREATE TABLE big(x BLOB);
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400)
             INSERT INTO t SELECT i, printf('%0150d', i) FROM c;
             WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 40)
             INSERT INTO big SELECT zeroblob(1500) FROM c;
             DELETE FROM t WHERE a % 7 = 0;
             DELETE FROM big WHERE rowid % 5 = 0;",
        )
        .unwrap();
        let av: i64 = conn
            .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
            .unwrap();
        assert_eq!(av, 2, "{ctx}: setup: auto_vacuum=INCREMENTAL");
        assert_eq!(integrity_check(&conn), vec!["ok".to_string()], "{ctx}");
        let roots: std::collections::BTreeSet<u32> = conn
            .prepare("SELECT rootpage FROM sqlite_schema WHERE rootpage > 1")
            .unwrap()
            .query_map([], |r| r.get::<_, i64>(0))
            .unwrap()
            .map(|r| r.unwrap() as u32)
            .collect();
        let free: i64 = conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))
            .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
        (roots, free as usize)
    };
    let file = std::fs::read(&path).unwrap();
    assert_eq!(file[20] as usize, RESERVED, "{ctx}: setup: reserved bytes");
    let size = (file.len() / PS) as u32;
    assert!(size > 4 * 101, "{ctx}: setup: {size} pages, want five maps");
    let page = |n: u32| &file[(n as usize - 1) * PS..n as usize * PS];

    assert_eq!(ptrmap_page_for(1, U, PS), 0, "{ctx}: page 1 has no entry");
    assert!(!is_ptrmap_page(1, U, PS), "{ctx}");
    assert!(!is_ptrmap_page(0, U, PS), "{ctx}");
    let mut by_type = BTreeMap::<u8, Vec<u32>>::new();
    for p in 2..=size {
        // SQLite's ptrmapPageno with nPagesPerMapPage = U/5 + 1 = 101.
        let map = 2 + (p - 2) / 101 * 101;
        assert_eq!(ptrmap_page_for(p, U, PS), map, "{ctx}: map of page {p}");
        assert_eq!(is_ptrmap_page(p, U, PS), p == map, "{ctx}: page {p}");
        if p == map {
            assert_eq!(entry_offset(map, p), None, "{ctx}: map {p} has no entry");
            assert_eq!(read_entry(page(map), map, p, U), None, "{ctx}: map {p}");
            continue;
        }
        let off = 5 * (p - map - 1) as usize;
        assert_eq!(entry_offset(map, p), Some(off), "{ctx}: page {p}");
        let want = (
            page(map)[off],
            u32::from_be_bytes(page(map)[off + 1..off + 5].try_into().unwrap()),
        );
        assert_eq!(
            read_entry(page(map), map, p, U),
            Some(want),
            "{ctx}: page {p}"
        );
        // The usable part of the map page alone holds every entry.
        assert_eq!(
            read_entry(&page(map)[..U], map, p, U),
            Some(want),
            "{ctx}: page {p}"
        );
        by_type.entry(want.0).or_default().push(p);
        match want.0 {
            ptrmap::PTRMAP_ROOTPAGE | ptrmap::PTRMAP_FREEPAGE => {
                assert_eq!(want.1, 0, "{ctx}: page {p}: parent of a root or free page")
            }
            ptrmap::PTRMAP_OVERFLOW1 | ptrmap::PTRMAP_OVERFLOW2 | ptrmap::PTRMAP_BTREE => {
                assert!(
                    want.1 >= 2 && want.1 <= size && !is_ptrmap_page(want.1, U, PS),
                    "{ctx}: page {p}: parent {}",
                    want.1
                )
            }
            t => panic!("{ctx}: page {p}: entry type {t}"),
        }
    }
    let roots_found: std::collections::BTreeSet<u32> =
        by_type[&ptrmap::PTRMAP_ROOTPAGE].iter().copied().collect();
    assert_eq!(
        roots_found, roots,
        "{ctx}: the type-1 entries are the schema's roots"
    );
    assert_eq!(
        by_type.get(&ptrmap::PTRMAP_FREEPAGE).map_or(0, |v| v.len()),
        free,
        "{ctx}: the type-2 entries are the free pages"
    );
    for t in [
        ptrmap::PTRMAP_OVERFLOW1,
        ptrmap::PTRMAP_OVERFLOW2,
        ptrmap::PTRMAP_BTREE,
    ] {
        assert!(
            by_type.contains_key(&t),
            "{ctx}: setup: no page of type {t}"
        );
    }
    // Each map's last entry ends at the usable size; it is read, and a map whose usable
    // area ends before it (a mismatched map) has no such entry.
    let last = 2 + 100;
    assert_eq!(entry_offset(2, last), Some(U - 5), "{ctx}");
    assert!(read_entry(page(2), 2, last, U).is_some(), "{ctx}");
    assert_eq!(read_entry(page(2), 2, last, U - 1), None, "{ctx}");
    assert_eq!(read_entry(&page(2)[..U - 1], 2, last, U), None, "{ctx}");
}

/// The lock-byte page (the one holding file offset 2^30) is never a pointer map: SQLite's
/// PENDING_BYTE_PAGE is 2^30 / page size + 1, and ptrmapPageno moves a map that would fall
/// on it one page on. With 1024-byte pages (U = 1024, 205 pages per map), the lock-byte page
/// 1048577 is where the 5116th map would be (2 + 5115 * 205): that map is page 1048578 and
/// covers the pages up to 1048781. (A file that large is not made here: the locations are
/// SQLite's formulas.)
#[test]
fn the_lock_byte_page_is_never_a_pointer_map() {
    use strata_btree::ptrmap::{entry_offset, is_ptrmap_page, pending_byte_page, ptrmap_page_for};
    for (ps, lock) in [
        (512, 2097153),
        (1024, 1048577),
        (4096, 262145),
        (65536, 16385),
    ] {
        assert_eq!(pending_byte_page(ps), lock, "page size {ps}");
    }
    let (u, ps) = (1024, 1024);
    assert_eq!(ptrmap_page_for(1048576, u, ps), 1048372);
    assert!(is_ptrmap_page(1048372, u, ps));
    for p in [1048577, 1048578, 1048579, 1048700, 1048781] {
        assert_eq!(ptrmap_page_for(p, u, ps), 1048578, "page {p}");
    }
    assert!(!is_ptrmap_page(1048577, u, ps));
    assert!(is_ptrmap_page(1048578, u, ps));
    assert_eq!(entry_offset(1048578, 1048579), Some(0));
    assert_eq!(ptrmap_page_for(1048782, u, ps), 1048782);
    assert!(is_ptrmap_page(1048782, u, ps));
}

/// A replacement of the same size is written over the old cell, as SQLite's
/// btreeOverwriteCell does for an UPDATE that keeps the record's length: the leaf comes out
/// byte for byte as SQLite's. A freeblock lies below the old cell here (row 8 deleted), so
/// a delete and re-insert would move the row into it (first fit) and leave a freeblock
/// where it was.
#[test]
fn a_same_size_replace_overwrites_the_cell_as_sqlite_does() {
    same_size_replace_matches_sqlite(
        "[compat_write same-size replace]",
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10)
         INSERT INTO t SELECT i, printf('%050d', i) FROM c;
         DELETE FROM t WHERE rowid = 8;",
        (2, 2),
        format!("x{:049}", 2),
    );
}

/// As above, for a cell that is larger than its offset in the page (288 bytes at offset
/// 160 of a 1024-byte leaf: rows 1-3 of 288-byte cells, a = rowid + 10 so that no record
/// stores a as the constant 1, row 1 deleted, leaving a freeblock of exactly that size at
/// the page's end). The overwrite's bound (`offset + size <=
/// usable`) must hold for it: computed as `offset - size` it wrapped, the cell was dropped
/// (the content area grew past it) and re-inserted into row 1's freeblock (first fit), so
/// the leaf differed from SQLite's, which overwrites it where it is.
#[test]
fn a_same_size_replace_of_a_cell_larger_than_its_offset_overwrites_it() {
    same_size_replace_matches_sqlite(
        "[compat_write same-size replace, large cell]",
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3)
         INSERT INTO t SELECT i + 10, printf('%0280d', i) FROM c;
         DELETE FROM t WHERE rowid = 1;",
        (3, 13),
        format!("x{:0279}", 3),
    );
}

/// Makes a table `t(a INTEGER, b TEXT)` with SQLite (1024-byte pages, `fill` run after the
/// CREATE TABLE; t is one leaf, page 2), then sets the b of the row `(rowid, a)` to `new_b`
/// (the record's length unchanged) with SQLite's UPDATE on one copy and Strata's `insert_rowid` on
/// another: both files pass SQLite's integrity_check and t's leaf is byte for byte the same.
fn same_size_replace_matches_sqlite(ctx: &str, fill: &str, (rowid, a): (i64, i64), new_b: String) {
    let Some(b) = backend("memory") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = path_str(&dir.path().join("base.db"));
    {
        let conn = Connection::open(&base).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA page_size=1024; PRAGMA journal_mode=WAL;
             CREATE TABLE t(a INTEGER, b TEXT);
             {fill}"
        ))
        .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    let ours = path_str(&dir.path().join("ours.db"));
    let theirs = path_str(&dir.path().join("theirs.db"));
    copy_db(&base, &ours);
    copy_db(&base, &theirs);
    {
        let conn = Connection::open(&theirs).unwrap();
        conn.execute("UPDATE t SET b = ?1 WHERE rowid = ?2", (&new_b, rowid))
            .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    b.load(&ours);
    {
        let storage = open_storage(&b, &ours, 1024);
        let pager = storage.pager();
        pager.begin_write().unwrap();
        let mut cur = BTreeCursor::new(pager.clone(), 2, TreeKind::Table);
        assert!(drive(b.io.as_ref(), || cur.seek_rowid(rowid, SeekOp::EQ)).unwrap());
        let rec = encode(&[Value::Integer(a), Value::Text(new_b.clone().into_bytes())]);
        drive(b.io.as_ref(), || cur.insert_rowid(rowid, &rec)).unwrap();
        assert_eq!(
            cur.rowid().unwrap(),
            rowid,
            "{ctx}: the cursor is on the row"
        );
        drop(cur);
        drive(b.io.as_ref(), || pager.commit()).unwrap();
    }
    b.dump(&ours);
    let mut leaves = Vec::new();
    for path in [&ours, &theirs] {
        let conn = Connection::open(path).unwrap();
        assert_eq!(
            integrity_check(&conn),
            vec!["ok".to_string()],
            "{ctx}: {path}"
        );
        let got: String = conn
            .query_row("SELECT b FROM t WHERE rowid = ?1", [rowid], |r| r.get(0))
            .unwrap();
        assert_eq!(got, new_b, "{ctx}: {path}");
        // Closing the last connection checkpoints the WAL into the file.
        conn.close().map_err(|(_, e)| e).unwrap();
        assert!(
            !std::path::Path::new(&format!("{path}-wal")).exists(),
            "{ctx}: {path}: checkpointed"
        );
        let file = std::fs::read(path).unwrap();
        leaves.push(file[1024..2048].to_vec());
    }
    assert!(
        leaves[0] == leaves[1],
        "{ctx}: t's leaf differs from SQLite's at bytes {:?}",
        (0..1024)
            .filter(|&i| leaves[0][i] != leaves[1][i])
            .collect::<Vec<_>>()
    );
}

/// A delete balances a non-root leaf exactly when SQLite's does: when its free space is
/// more than two thirds of the usable size (balance() in SQLite: `nFree > usableSize*2/3`).
/// t's rows 1-12 are 165-byte cells on two full leaves of six (1024-byte pages); rows 9 to
/// 12 deleted leave the right leaf two cells and exactly 682 = 2048/3 bytes free, not
/// underfull: no balance, and t's pages are byte for byte SQLite's. Row 8 deleted too
/// leaves one cell and 849 bytes free: the two leaves are rebalanced to four and three
/// cells, as SQLite's (the cells' places inside the pages differ from SQLite's balance).
/// Each against SQLite's DELETEs of the same rows in the same order.
#[test]
fn a_delete_balances_a_leaf_when_sqlite_does() {
    let fill = "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 12)
         INSERT INTO t SELECT i + 10, printf('%0157d', i) FROM c;";
    deletes_match_sqlite(
        "[compat_write delete, 682 bytes free]",
        fill,
        &[9, 10, 11, 12],
        &[6, 2],
        true,
    );
    deletes_match_sqlite(
        "[compat_write delete, 849 bytes free]",
        fill,
        &[8, 9, 10, 11, 12],
        &[4, 3],
        false,
    );
}

/// Makes t as `same_size_replace_matches_sqlite` does, deletes `rowids` in that order with
/// SQLite on one copy and with Strata's cursor on another, and compares t's pages (2 and
/// on: byte for byte if `same_bytes`); `leaves`: the cell counts of t's leaves (children
/// of the root, page 2) expected in both.
fn deletes_match_sqlite(ctx: &str, fill: &str, rowids: &[i64], leaves: &[usize], same_bytes: bool) {
    let Some(b) = backend("memory") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = path_str(&dir.path().join("base.db"));
    {
        let conn = Connection::open(&base).unwrap();
        conn.execute_batch(&format!(
            "PRAGMA page_size=1024; PRAGMA journal_mode=WAL;
             CREATE TABLE t(a INTEGER, b TEXT);
             {fill}"
        ))
        .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    let ours = path_str(&dir.path().join("ours.db"));
    let theirs = path_str(&dir.path().join("theirs.db"));
    copy_db(&base, &ours);
    copy_db(&base, &theirs);
    {
        let conn = Connection::open(&theirs).unwrap();
        for r in rowids {
            conn.execute("DELETE FROM t WHERE rowid = ?1", [r]).unwrap();
        }
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    b.load(&ours);
    {
        let storage = open_storage(&b, &ours, 1024);
        let pager = storage.pager();
        pager.begin_write().unwrap();
        let mut cur = BTreeCursor::new(pager.clone(), 2, TreeKind::Table);
        for &r in rowids {
            assert!(drive(b.io.as_ref(), || cur.seek_rowid(r, SeekOp::EQ)).unwrap());
            drive(b.io.as_ref(), || cur.delete()).unwrap();
        }
        drop(cur);
        drive(b.io.as_ref(), || pager.commit()).unwrap();
    }
    b.dump(&ours);
    let mut files = Vec::new();
    for path in [&ours, &theirs] {
        let conn = Connection::open(path).unwrap();
        assert_eq!(
            integrity_check(&conn),
            vec!["ok".to_string()],
            "{ctx}: {path}"
        );
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, 12 - rowids.len(), "{ctx}: {path}");
        conn.close().map_err(|(_, e)| e).unwrap();
        assert!(
            !std::path::Path::new(&format!("{path}-wal")).exists(),
            "{ctx}: {path}: checkpointed"
        );
        files.push(std::fs::read(path).unwrap());
    }
    // The cell counts of t's leaves, in each file.
    for (file, who) in files.iter().zip(["ours", "SQLite's"]) {
        use strata_btree::page::PageHeader;
        let page = |n: u32| &file[(n as usize - 1) * 1024..n as usize * 1024];
        let root = PageHeader::parse(page(2), 2, 1024).unwrap();
        let counts: Vec<usize> = (0..=root.cell_count)
            .map(|i| {
                let child = root.child(page(2), i, 1024).unwrap();
                PageHeader::parse(page(child), child, 1024)
                    .unwrap()
                    .cell_count
            })
            .collect();
        assert_eq!(counts, leaves, "{ctx}: t's leaves in {who} file");
    }
    assert_eq!(files[0].len(), files[1].len(), "{ctx}: file sizes");
    if same_bytes {
        assert!(
            files[0][1024..] == files[1][1024..],
            "{ctx}: t's pages differ from SQLite's at bytes {:?}",
            (1024..files[0].len())
                .filter(|&i| files[0][i] != files[1][i])
                .take(20)
                .collect::<Vec<_>>()
        );
    }
}

/// Invariant 9 (exclusive file lock) against SQLite itself: while our `Storage` has the
/// database open, SQLite cannot read or write it ("database is locked"), and while SQLite
/// has it open, `Storage::open` fails with `Busy`. (OFD locks conflict with SQLite's POSIX
/// record locks even inside one process.)
fn locks_exclude_sqlite(backend_name: &str) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    assert!(b.mem.is_none());
    let ctx = format!("[compat_write locks backend={backend_name}]");
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("lock.db"));
    {
        let conn = Connection::open(&path).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        conn.execute_batch("CREATE TABLE t(a); INSERT INTO t VALUES (1);")
            .unwrap();
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    // SQLite holds the database (a WAL-mode connection keeps a shared lock while open).
    {
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        match Storage::open(b.io.clone(), &path, options(4096, SyncMode::Normal)) {
            Err(strata_pager::Error::Busy) => {}
            Err(e) => panic!(
                "{ctx}: Storage::open while SQLite has the database open: expected Busy, got {e:?}"
            ),
            Ok(_) => panic!("{ctx}: Storage::open succeeded while SQLite has the database open"),
        }
        conn.close().map_err(|(_, e)| e).unwrap();
    }
    // We hold the database.
    let storage =
        Storage::open(b.io.clone(), &path, options(4096, SyncMode::Normal)).expect("open");
    let conn = Connection::open(&path).unwrap();
    conn.busy_timeout(std::time::Duration::from_millis(0))
        .unwrap();
    let read = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
        .map(|_| ());
    let write = conn.execute("INSERT INTO t VALUES (2)", []).map(|_| ());
    drop(conn);
    drop(storage);
    let is_busy = |r: &Result<(), rusqlite::Error>| matches!(r, Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy);
    assert!(
        is_busy(&write),
        "{ctx}: SQLite wrote to a database our Storage holds: {write:?}"
    );
    assert!(
        is_busy(&read),
        "{ctx}: SQLite read a database our Storage holds: {read:?}"
    );
}

#[test]
fn locks_exclude_sqlite_syscall() {
    locks_exclude_sqlite("syscall");
}

#[test]
fn locks_exclude_sqlite_uring() {
    locks_exclude_sqlite("uring");
}

/// Snapshot isolation across checkpoints: a reader (second pager on the same Storage, tiny
/// cache so it re-reads pages from the WAL or the file) keeps seeing its snapshot while a
/// writer commits and runs PASSIVE, FULL and TRUNCATE checkpoints; a checkpoint must not
/// copy frames newer than the reader's snapshot into the file (FULL/TRUNCATE report busy).
/// Afterwards SQLite checks the result.
fn snapshot_isolation(backend_name: &str) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let ctx = format!("[compat_write snapshot isolation backend={backend_name}]");
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("snap.db"));
    let io = b.io.clone();
    let opts = StorageOptions {
        cache_size_pages: 4,
        ..options(1024, SyncMode::Normal)
    };
    let storage = Storage::open(io.clone(), &path, opts).unwrap();
    let writer = storage.pager();
    let reader = storage.pager();
    let mut rng = ChaCha8Rng::seed_from_u64(seed(77));
    let mut model: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    let row = |rng: &mut ChaCha8Rng, i: i64| {
        let n = if rng.gen_bool(0.05) {
            3000
        } else {
            rng.gen_range(10..300)
        };
        vec![Value::Integer(i), Value::Text(long_text(rng, n))]
    };

    writer.begin_write().unwrap();
    let root = drive(io.as_ref(), || {
        strata_btree::create_btree(&writer, strata_btree::BTreeType::Table)
    })
    .unwrap();
    {
        let mut cur = BTreeCursor::new(writer.clone(), 1, TreeKind::Table);
        let rec = encode(&[
            Value::Text(b"table".to_vec()),
            Value::Text(b"t".to_vec()),
            Value::Text(b"t".to_vec()),
            Value::Integer(root as i64),
            Value::Text(b"CREATE TABLE t(a, b)".to_vec()),
        ]);
        drive(io.as_ref(), || cur.insert_rowid(1, &rec)).unwrap();
        let mut cur = BTreeCursor::new(writer.clone(), root, TreeKind::Table);
        for i in 1..=1000 {
            let r = row(&mut rng, i);
            drive(io.as_ref(), || cur.insert_rowid(i, &encode(&r))).unwrap();
            model.insert(i, r);
        }
    }
    drive(io.as_ref(), || writer.commit()).unwrap();

    reader.begin_read().unwrap();
    let snap: Vec<(i64, Vec<Value>)> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
    assert_eq!(
        dump_table(&reader, root).unwrap(),
        snap,
        "{ctx}: reader's first scan"
    );

    for round in 0..6 {
        writer.begin_write().unwrap();
        {
            let mut cur = BTreeCursor::new(writer.clone(), root, TreeKind::Table);
            for _ in 0..150 {
                let k = rng.gen_range(1..=1000 + 200 * round as i64);
                if model.contains_key(&k) && rng.gen_bool(0.5) {
                    assert!(drive(io.as_ref(), || cur.seek_rowid(k, SeekOp::EQ)).unwrap());
                    drive(io.as_ref(), || cur.delete()).unwrap();
                    model.remove(&k);
                } else {
                    let r = row(&mut rng, k);
                    drive(io.as_ref(), || cur.insert_rowid(k, &encode(&r))).unwrap();
                    model.insert(k, r);
                }
            }
        }
        drive(io.as_ref(), || writer.commit()).unwrap();
        let mode = [
            CheckpointMode::Passive,
            CheckpointMode::Full,
            CheckpointMode::Truncate,
        ][round % 3];
        let res = drive(io.as_ref(), || writer.checkpoint(mode))
            .unwrap_or_else(|e| panic!("{ctx}: checkpoint {mode:?}: {e}"));
        if mode != CheckpointMode::Passive {
            assert!(res.busy, "{ctx}: round {round}: {mode:?} checkpoint with a reader on an older snapshot must report busy: {res:?}");
        }
        let seen = dump_table(&reader, root)
            .unwrap_or_else(|e| panic!("{ctx}: round {round}: reader scan: {e}"));
        assert!(seen == snap, "{ctx}: round {round} after {mode:?} checkpoint: the reader's snapshot changed ({} rows, expected {})", seen.len(), snap.len());
    }
    reader.end_read();
    reader.begin_read().unwrap();
    let now: Vec<(i64, Vec<Value>)> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
    assert!(
        dump_table(&reader, root).unwrap() == now,
        "{ctx}: a new read transaction must see the writer's commits"
    );
    reader.end_read();
    let res = drive(io.as_ref(), || writer.checkpoint(CheckpointMode::Truncate)).unwrap();
    assert!(
        !res.busy,
        "{ctx}: TRUNCATE checkpoint without readers: {res:?}"
    );
    drop(reader);
    drop(writer);
    drop(storage);
    b.dump(&path);
    let conn = Connection::open(&path).unwrap();
    assert_eq!(
        integrity_check(&conn),
        vec!["ok".to_string()],
        "{ctx}: integrity_check"
    );
    let got = sqlite_rows(&conn, "SELECT rowid, * FROM t ORDER BY rowid");
    assert_rows_eq(
        &format!("{ctx} SQLite reading t"),
        &got,
        &model_rows(&model),
    );
}

#[test]
fn snapshot_isolation_syscall() {
    snapshot_isolation("syscall");
}

#[test]
fn snapshot_isolation_uring() {
    snapshot_isolation("uring");
}

#[test]
fn snapshot_isolation_memory() {
    snapshot_isolation("memory");
}

/// Rows and index keys whose payload sizes sit exactly on SQLite's local/overflow
/// thresholds (X, M, the K <= X switch, multiples of U-4), for table leaves and index
/// pages, with and without reserved bytes: written by our layers, checked by SQLite's
/// integrity_check (which verifies local sizes and overflow chain lengths) and read back.
fn payload_boundaries(page_size: usize, reserved: u8, backend_name: &str) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let ctx = format!("[compat_write boundaries page_size={page_size} reserved={reserved} backend={backend_name}]");
    let u = page_size as i64 - reserved as i64;
    let m = ((u - 12) * 32 / 255) - 23;
    let table_x = u - 35;
    let index_x = ((u - 12) * 64 / 255) - 23;
    let mut targets = Vec::new();
    for x in [table_x, index_x] {
        for base in [
            x,
            m,
            u - 4,
            2 * (u - 4),
            m + (u - 4) + (x - m),
            m + 2 * (u - 4) + (x - m),
        ] {
            for d in -2..=2 {
                targets.push(base + d);
            }
        }
    }
    targets.retain(|&p| p > 4);
    targets.sort();
    targets.dedup();
    // A value whose record, alone or with the rowid appended, is exactly `p` bytes.
    let sized = |p: i64, with_rowid: Option<i64>| -> Option<Vec<Value>> {
        (0..=p).rev().find_map(|n| {
            let mut v = vec![Value::Text(vec![b'x'; n as usize])];
            if let Some(r) = with_rowid {
                v.push(Value::Integer(r));
            }
            (encode(&v).len() as i64 == p).then_some(v)
        })
    };
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("b.db"));
    let io = b.io.clone();
    let opts = StorageOptions {
        reserved_bytes: reserved,
        ..options(page_size, SyncMode::Normal)
    };
    let storage = Storage::open(io.clone(), &path, opts).unwrap();
    assert_eq!(storage.usable_size() as i64, u);
    let pager = storage.pager();
    pager.begin_write().unwrap();
    let table = drive(io.as_ref(), || {
        strata_btree::create_btree(&pager, strata_btree::BTreeType::Table)
    })
    .unwrap();
    let index = drive(io.as_ref(), || {
        strata_btree::create_btree(&pager, strata_btree::BTreeType::Index)
    })
    .unwrap();
    let mut schema = BTreeCursor::new(pager.clone(), 1, TreeKind::Table);
    for (rowid, kind, name, root, sql) in [
        (1, "table", "t", table, "CREATE TABLE t(a, c TEXT)"),
        (2, "index", "ti", index, "CREATE INDEX ti ON t(c)"),
    ] {
        let rec = encode(&[
            Value::Text(kind.into()),
            Value::Text(name.into()),
            Value::Text(b"t".to_vec()),
            Value::Integer(root as i64),
            Value::Text(sql.into()),
        ]);
        drive(io.as_ref(), || schema.insert_rowid(rowid, &rec)).unwrap();
    }
    drop(schema);
    let ki = key_info_for(1);
    let mut tcur = BTreeCursor::new(pager.clone(), table, TreeKind::Table);
    let mut icur = BTreeCursor::new(pager.clone(), index, TreeKind::Index(ki.clone()));
    let mut model: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    let mut rowid = 0i64;
    for &p in &targets {
        // A table row of exactly p bytes (c NULL: no index entry content beyond NULL).
        if let Some(v) = sized(p - 1, None) {
            // Record [a, NULL]: one more header byte than [a] for the NULL serial type.
            let row = vec![v[0].clone(), Value::Null];
            if encode(&row).len() as i64 == p {
                rowid += 1;
                drive(io.as_ref(), || tcur.insert_rowid(rowid, &encode(&row))).unwrap();
                drive(io.as_ref(), || {
                    icur.insert_index(&encode(&[Value::Null, Value::Integer(rowid)]))
                })
                .unwrap();
                model.insert(rowid, row);
            }
        }
        // An index key of exactly p bytes: [c, rowid].
        rowid += 1;
        if let Some(key) = sized(p, Some(rowid)) {
            let row = vec![Value::Null, key[0].clone()];
            drive(io.as_ref(), || tcur.insert_rowid(rowid, &encode(&row))).unwrap();
            drive(io.as_ref(), || icur.insert_index(&encode(&key))).unwrap();
            model.insert(rowid, row);
        }
    }
    drop(tcur);
    drop(icur);
    assert!(
        model.len() >= targets.len() * 3 / 2,
        "{ctx}: only {} rows for {} targets",
        model.len(),
        targets.len()
    );
    eprintln!(
        "{ctx}: {} rows for {} size targets (U={u}, X={table_x}/{index_x}, M={m})",
        model.len(),
        targets.len()
    );
    drive(io.as_ref(), || pager.commit()).unwrap();
    pager.begin_read().unwrap();
    let ours: Vec<Vec<Value>> = dump_table(&pager, table)
        .unwrap()
        .into_iter()
        .map(|(r, mut v)| {
            v.insert(0, Value::Integer(r));
            v
        })
        .collect();
    assert_rows_eq(&format!("{ctx} our scan"), &ours, &model_rows(&model));
    assert_eq!(
        dump_index(&pager, index, 1).unwrap().len(),
        model.len(),
        "{ctx}: index entries"
    );
    pager.end_read();
    drive(io.as_ref(), || pager.checkpoint(CheckpointMode::Truncate)).unwrap();
    drop(pager);
    drop(storage);
    b.dump(&path);
    let conn = Connection::open(&path).unwrap();
    assert_eq!(
        integrity_check(&conn),
        vec!["ok".to_string()],
        "{ctx}: integrity_check (targets {targets:?})"
    );
    let got = sqlite_rows(&conn, "SELECT rowid, * FROM t ORDER BY rowid");
    assert_rows_eq(
        &format!("{ctx} SQLite reading t"),
        &got,
        &model_rows(&model),
    );
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM t INDEXED BY ti WHERE c IS NOT NULL OR c IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        n as usize,
        model.len(),
        "{ctx}: SQLite counting through the index"
    );
}

#[test]
fn payload_boundaries_all_page_sizes_memory() {
    for (ps, reserved) in [
        (512, 0),
        (512, 32),
        (1024, 0),
        (1024, 33),
        (4096, 0),
        (4096, 100),
        (65536, 0),
        (65536, 255),
    ] {
        payload_boundaries(ps, reserved, "memory");
    }
}

#[test]
fn payload_boundaries_4096_syscall() {
    payload_boundaries(4096, 0, "syscall");
    payload_boundaries(4096, 17, "syscall");
}

/// Ping-pong: our layers and SQLite take turns writing the same database without
/// checkpointing in between, so each appends frames to a WAL the other wrote (continuing
/// its salts and checksum chain) and each must recover the other's frames. After every
/// turn the other side's view of every row and index entry is compared, and SQLite's
/// integrity_check must pass.
fn ping_pong(backend_name: &str, page_size: usize) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let ctx = format!("[compat_write ping-pong page_size={page_size} backend={backend_name}]");
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("pp.db"));
    let io = b.io.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(seed(4242));
    let ki = Arc::new(KeyInfo {
        fields: vec![(Collation::NoCase, SortOrder::Asc)],
        ..Default::default()
    });
    let (mut table_root, mut index_root) = (0u32, 0u32);
    let mut model: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    let gen = |rng: &mut ChaCha8Rng| -> Vec<Value> {
        let n = if rng.gen_bool(0.03) {
            page_size * 2
        } else {
            rng.gen_range(0..40)
        };
        let mut t = word_text(rng);
        t.extend(long_text(rng, n));
        vec![gen_int(rng), Value::Text(t)]
    };
    for turn in 0..3 {
        // --- our turn ---
        let storage = Storage::open(io.clone(), &path, options(page_size, SyncMode::Normal))
            .unwrap_or_else(|e| panic!("{ctx}: turn {turn}: open: {e}"));
        let frames_at_open = storage.wal().max_frame();
        if turn > 0 {
            assert!(
                frames_at_open > 0,
                "{ctx}: turn {turn}: SQLite's frames were not recovered"
            );
        }
        let pager = storage.pager();
        if turn == 0 {
            pager.begin_write().unwrap();
            table_root = drive(io.as_ref(), || {
                strata_btree::create_btree(&pager, strata_btree::BTreeType::Table)
            })
            .unwrap();
            index_root = drive(io.as_ref(), || {
                strata_btree::create_btree(&pager, strata_btree::BTreeType::Index)
            })
            .unwrap();
            let mut s = BTreeCursor::new(pager.clone(), 1, TreeKind::Table);
            for (rowid, kind, name, root, sql) in [
                (
                    1,
                    "table",
                    "t",
                    table_root,
                    "CREATE TABLE t(a INTEGER, b TEXT)",
                ),
                (
                    2,
                    "index",
                    "tb",
                    index_root,
                    "CREATE INDEX tb ON t(b COLLATE NOCASE)",
                ),
            ] {
                let rec = encode(&[
                    Value::Text(kind.into()),
                    Value::Text(name.into()),
                    Value::Text(b"t".to_vec()),
                    Value::Integer(root as i64),
                    Value::Text(sql.into()),
                ]);
                drive(io.as_ref(), || s.insert_rowid(rowid, &rec)).unwrap();
            }
            drop(s);
            drive(io.as_ref(), || pager.commit()).unwrap();
        } else {
            // Our view of what SQLite wrote.
            pager.begin_read().unwrap();
            let ours: Vec<Vec<Value>> = dump_table(&pager, table_root)
                .unwrap_or_else(|e| panic!("{ctx}: turn {turn}: scan: {e}"))
                .into_iter()
                .map(|(r, mut v)| {
                    v.insert(0, Value::Integer(r));
                    v
                })
                .collect();
            assert_rows_eq(
                &format!("{ctx} turn {turn}: our view of SQLite's writes"),
                &ours,
                &model_rows(&model),
            );
            let idx = dump_index_with(&pager, index_root, ki.clone()).unwrap();
            let want = {
                let mut v: Vec<Vec<Value>> = model
                    .iter()
                    .map(|(&r, row)| vec![row[1].clone(), Value::Integer(r)])
                    .collect();
                v.sort_by(|a, b| oracle_cmp_prefix(a, b, &ki));
                v
            };
            assert_rows_eq(
                &format!("{ctx} turn {turn}: our view of SQLite's index"),
                &idx,
                &want,
            );
            pager.end_read();
        }
        for _tx in 0..3 {
            pager.begin_write().unwrap();
            let mut t = BTreeCursor::new(pager.clone(), table_root, TreeKind::Table);
            let mut ix = BTreeCursor::new(pager.clone(), index_root, TreeKind::Index(ki.clone()));
            for _ in 0..400 {
                let rowid = rng.gen_range(1..3000i64);
                if let Some(old) = model.get(&rowid).cloned() {
                    let key = vec![old[1].clone(), Value::Integer(rowid)];
                    assert!(
                        drive(io.as_ref(), || ix.seek_index(&key, SeekOp::EQ)).unwrap(),
                        "{ctx}: index entry missing"
                    );
                    drive(io.as_ref(), || ix.delete()).unwrap();
                    if rng.gen_bool(0.5) {
                        assert!(drive(io.as_ref(), || t.seek_rowid(rowid, SeekOp::EQ)).unwrap());
                        drive(io.as_ref(), || t.delete()).unwrap();
                        model.remove(&rowid);
                        continue;
                    }
                }
                let row = gen(&mut rng);
                drive(io.as_ref(), || t.insert_rowid(rowid, &encode(&row))).unwrap();
                drive(io.as_ref(), || {
                    ix.insert_index(&encode(&[row[1].clone(), Value::Integer(rowid)]))
                })
                .unwrap();
                model.insert(rowid, row);
            }
            drop((t, ix));
            drive(io.as_ref(), || pager.commit()).unwrap();
        }
        if turn == 1 {
            // A passive checkpoint in the middle: SQLite must still append correctly.
            drive(io.as_ref(), || pager.checkpoint(CheckpointMode::Passive)).unwrap();
        }
        drop(pager);
        drop(storage);
        b.dump(&path);

        // --- SQLite's turn ---
        let conn = Connection::open(&path).unwrap();
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .unwrap();
        conn.execute_batch("PRAGMA wal_autocheckpoint=0;").unwrap();
        assert_eq!(
            integrity_check(&conn),
            vec!["ok".to_string()],
            "{ctx}: turn {turn}: integrity_check of our writes"
        );
        let got = sqlite_rows(&conn, "SELECT rowid, * FROM t ORDER BY rowid");
        assert_rows_eq(
            &format!("{ctx} turn {turn}: SQLite reading our writes"),
            &got,
            &model_rows(&model),
        );
        conn.execute_batch("BEGIN").unwrap();
        for _ in 0..300 {
            let rowid = rng.gen_range(1..3000i64);
            if rng.gen_bool(0.3) {
                conn.execute("DELETE FROM t WHERE rowid = ?1", [rowid])
                    .unwrap();
            } else {
                let row: Vec<rusqlite::types::Value> =
                    gen(&mut rng).iter().map(to_sqlite).collect();
                conn.execute(
                    "INSERT OR REPLACE INTO t(rowid, a, b) VALUES (?1, ?2, ?3)",
                    rusqlite::params![rowid, row[0], row[1]],
                )
                .unwrap();
            }
        }
        conn.execute_batch("COMMIT; UPDATE t SET a = a + 1 WHERE rowid % 10 = 3;")
            .unwrap();
        model = sqlite_rows(&conn, "SELECT rowid, * FROM t ORDER BY rowid")
            .into_iter()
            .map(|mut r| {
                let Value::Integer(rowid) = r.remove(0) else {
                    panic!()
                };
                (rowid, r)
            })
            .collect();
        conn.close().map_err(|(_, e)| e).unwrap();
        b.load(&path);
    }
    // Our last look at SQLite's last turn.
    let storage = Storage::open(io.clone(), &path, options(page_size, SyncMode::Normal)).unwrap();
    let pager = storage.pager();
    pager.begin_read().unwrap();
    let ours: Vec<Vec<Value>> = dump_table(&pager, table_root)
        .unwrap()
        .into_iter()
        .map(|(r, mut v)| {
            v.insert(0, Value::Integer(r));
            v
        })
        .collect();
    assert_rows_eq(
        &format!("{ctx} final: our view of SQLite's writes"),
        &ours,
        &model_rows(&model),
    );
    assert_eq!(
        dump_index_with(&pager, index_root, ki).unwrap().len(),
        model.len(),
        "{ctx}: final index size"
    );
}

#[test]
fn ping_pong_4096_syscall() {
    ping_pong("syscall", 4096);
}

#[test]
fn ping_pong_512_memory() {
    ping_pong("memory", 512);
}

#[test]
fn ping_pong_65536_uring() {
    ping_pong("uring", 65536);
}

/// Statement rollback: nested savepoints inside write transactions, each rolled back or
/// released at random, with inserts and deletes that allocate and free pages (overflow
/// chains, splits, merges) inside them. The committed result must be exactly the model
/// and pass SQLite's integrity_check (page accounting, freelist count).
fn savepoints(backend_name: &str, page_size: usize) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let ctx = format!("[compat_write savepoints page_size={page_size} backend={backend_name}]");
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("sp.db"));
    let io = b.io.clone();
    let storage = Storage::open(io.clone(), &path, options(page_size, SyncMode::Normal)).unwrap();
    let pager = storage.pager();
    let mut rng = ChaCha8Rng::seed_from_u64(seed(99));
    let ki = Arc::new(KeyInfo {
        fields: vec![(Collation::Binary, SortOrder::Asc)],
        ..Default::default()
    });
    pager.begin_write().unwrap();
    let table = drive(io.as_ref(), || {
        strata_btree::create_btree(&pager, strata_btree::BTreeType::Table)
    })
    .unwrap();
    let index = drive(io.as_ref(), || {
        strata_btree::create_btree(&pager, strata_btree::BTreeType::Index)
    })
    .unwrap();
    {
        let mut s = BTreeCursor::new(pager.clone(), 1, TreeKind::Table);
        for (rowid, kind, name, root, sql) in [
            (1, "table", "t", table, "CREATE TABLE t(a INTEGER, b TEXT)"),
            (2, "index", "tb", index, "CREATE INDEX tb ON t(b)"),
        ] {
            let rec = encode(&[
                Value::Text(kind.into()),
                Value::Text(name.into()),
                Value::Text(b"t".to_vec()),
                Value::Integer(root as i64),
                Value::Text(sql.into()),
            ]);
            drive(io.as_ref(), || s.insert_rowid(rowid, &rec)).unwrap();
        }
    }
    drive(io.as_ref(), || pager.commit()).unwrap();
    let mut model: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
    for tx in 0..30 {
        pager.begin_write().unwrap();
        let tx_start = model.clone();
        let mut stack: Vec<BTreeMap<i64, Vec<Value>>> = Vec::new();
        for _stmt in 0..40 {
            match rng.gen_range(0..10) {
                0..=2 => {
                    pager.savepoint_begin().unwrap();
                    stack.push(model.clone());
                }
                3 if !stack.is_empty() => {
                    pager.savepoint_rollback().unwrap();
                    model = stack.pop().unwrap();
                }
                4 if !stack.is_empty() => {
                    pager.savepoint_release().unwrap();
                    stack.pop();
                }
                _ => {
                    // One "statement": a batch of changes through fresh cursors.
                    let mut t = BTreeCursor::new(pager.clone(), table, TreeKind::Table);
                    let mut ix =
                        BTreeCursor::new(pager.clone(), index, TreeKind::Index(ki.clone()));
                    for _ in 0..rng.gen_range(1..60) {
                        let rowid = rng.gen_range(1..1500i64);
                        if let Some(old) = model.get(&rowid).cloned() {
                            let key = vec![old[1].clone(), Value::Integer(rowid)];
                            assert!(
                                drive(io.as_ref(), || ix.seek_index(&key, SeekOp::EQ)).unwrap(),
                                "{ctx}: tx {tx}: index entry missing"
                            );
                            drive(io.as_ref(), || ix.delete()).unwrap();
                            assert!(
                                drive(io.as_ref(), || t.seek_rowid(rowid, SeekOp::EQ)).unwrap(),
                                "{ctx}: tx {tx}: row missing"
                            );
                            drive(io.as_ref(), || t.delete()).unwrap();
                            model.remove(&rowid);
                        } else {
                            let n = if rng.gen_bool(0.1) {
                                page_size * 3
                            } else {
                                rng.gen_range(0..100)
                            };
                            let row = vec![
                                gen_int(&mut rng),
                                Value::Text(long_text(&mut rng, n.max(1))),
                            ];
                            drive(io.as_ref(), || t.insert_rowid(rowid, &encode(&row))).unwrap();
                            drive(io.as_ref(), || {
                                ix.insert_index(&encode(&[row[1].clone(), Value::Integer(rowid)]))
                            })
                            .unwrap();
                            model.insert(rowid, row);
                        }
                    }
                }
            }
        }
        // Our own view inside the transaction, after the savepoint rollbacks.
        let ours: Vec<Vec<Value>> = dump_table(&pager, table)
            .unwrap()
            .into_iter()
            .map(|(r, mut v)| {
                v.insert(0, Value::Integer(r));
                v
            })
            .collect();
        assert_rows_eq(
            &format!("{ctx} tx {tx}: after savepoints"),
            &ours,
            &model_rows(&model),
        );
        assert_eq!(
            dump_index_with(&pager, index, ki.clone()).unwrap().len(),
            model.len(),
            "{ctx}: tx {tx}: index size"
        );
        if rng.gen_bool(0.2) {
            pager.rollback().unwrap();
            model = tx_start;
        } else {
            drive(io.as_ref(), || pager.commit()).unwrap();
        }
    }
    drop(pager);
    drop(storage);
    b.dump(&path);
    let conn = Connection::open(&path).unwrap();
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .unwrap();
    assert_eq!(
        integrity_check(&conn),
        vec!["ok".to_string()],
        "{ctx}: integrity_check"
    );
    let got = sqlite_rows(&conn, "SELECT rowid, * FROM t ORDER BY rowid");
    assert_rows_eq(
        &format!("{ctx} SQLite reading t"),
        &got,
        &model_rows(&model),
    );
    let idx = sqlite_rows(
        &conn,
        "SELECT b, rowid FROM t INDEXED BY tb ORDER BY b, rowid",
    );
    assert_eq!(idx.len(), model.len(), "{ctx}: SQLite's index size");
}

#[test]
fn savepoints_512_memory() {
    savepoints("memory", 512);
}

#[test]
fn savepoints_4096_syscall() {
    savepoints("syscall", 4096);
}
