//! A database made by real SQLite (rusqlite, bundled) — several tables and indexes, overflow
//! payloads (text and blobs > 100 KB), deleted rows (freelist pages) and un-checkpointed
//! frames in its WAL — is read by our cursors with results identical to SQLite's, for every
//! table and index, on page sizes 512, 4096 and 65536, on every IO backend.
//!
//! Checks: sqlite_schema; every table scanned forward and backward vs
//! `SELECT rowid, * ... ORDER BY rowid`; every index scanned forward and backward vs
//! `SELECT <cols>, rowid ... INDEXED BY ... ORDER BY <cols with collation/direction>, rowid`;
//! random `seek_rowid` with every SeekOp; random prefix `seek_index` with every SeekOp;
//! `max_rowid`.

mod compat_harness;

use std::sync::Arc;

use compat_harness::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{config::DbConfig, Connection};
use strata_btree::record::{Collation, KeyInfo, SortOrder, Value};
use strata_btree::{BTreeCursor, SeekOp, TreeKind};
use strata_pager::Pager;

struct TableSpec {
    name: &'static str,
    /// Record positions with REAL affinity (SQLite stores integral reals there as integers
    /// and converts them back when read).
    real_cols: &'static [usize],
    /// Record position of the INTEGER PRIMARY KEY (stored as NULL, read as the rowid).
    ipk: Option<usize>,
}

struct IndexSpec {
    name: &'static str,
    table: &'static str,
    /// Indexed columns as SELECT expressions.
    select: &'static str,
    /// ORDER BY terms (collation, direction) matching the index definition.
    order_by: &'static str,
    key_info: &'static [(Collation, SortOrder)],
    /// Index record positions with REAL affinity.
    real_cols: &'static [usize],
}

const TABLES: &[TableSpec] = &[
    TableSpec {
        name: "t1",
        real_cols: &[3],
        ipk: None,
    },
    TableSpec {
        name: "t2",
        real_cols: &[2],
        ipk: Some(0),
    },
    TableSpec {
        name: "t3",
        real_cols: &[],
        ipk: None,
    },
];

const INDEXES: &[IndexSpec] = &[
    IndexSpec {
        name: "i1_b",
        table: "t1",
        select: "b",
        order_by: "b",
        key_info: &[(Collation::Binary, SortOrder::Asc)],
        real_cols: &[],
    },
    IndexSpec {
        name: "i1_da",
        table: "t1",
        select: "d, a",
        order_by: "d DESC, a",
        key_info: &[
            (Collation::Binary, SortOrder::Desc),
            (Collation::Binary, SortOrder::Asc),
        ],
        real_cols: &[0],
    },
    IndexSpec {
        name: "i1_bn",
        table: "t1",
        select: "b",
        order_by: "b COLLATE NOCASE",
        key_info: &[(Collation::NoCase, SortOrder::Asc)],
        real_cols: &[],
    },
    IndexSpec {
        name: "i2_ns",
        table: "t2",
        select: "name, score",
        order_by: "name, score",
        key_info: &[
            (Collation::Binary, SortOrder::Asc),
            (Collation::Binary, SortOrder::Asc),
        ],
        real_cols: &[1],
    },
    IndexSpec {
        name: "i3_x",
        table: "t3",
        select: "x",
        order_by: "x COLLATE RTRIM",
        key_info: &[(Collation::RTrim, SortOrder::Asc)],
        real_cols: &[],
    },
    IndexSpec {
        name: "i3_yx",
        table: "t3",
        select: "y, x",
        order_by: "y DESC, x",
        key_info: &[
            (Collation::Binary, SortOrder::Desc),
            (Collation::Binary, SortOrder::Asc),
        ],
        real_cols: &[],
    },
];

const SCHEMA: &str = "
    CREATE TABLE t1(a INTEGER, b TEXT, c BLOB, d REAL);
    CREATE INDEX i1_b ON t1(b);
    CREATE INDEX i1_da ON t1(d DESC, a);
    CREATE INDEX i1_bn ON t1(b COLLATE NOCASE);
    CREATE TABLE t2(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB);
    CREATE INDEX i2_ns ON t2(name, score);
    CREATE TABLE t3(x, y);
    CREATE INDEX i3_x ON t3(x COLLATE RTRIM);
    CREATE INDEX i3_yx ON t3(y DESC, x);
";

const WORDS: &[&str] = &[
    "",
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
    "naïve",
    "emoji🎉",
    "tab\there",
    "trailing ",
    "trailing  ",
    "trailing",
    " lead",
    "x y z",
    "NULL",
    "0x10",
];

fn gen_text(rng: &mut ChaCha8Rng) -> Vec<u8> {
    let n = rng.gen_range(1..4);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 && rng.gen_bool(0.5) {
            s.push(' ');
        }
        s.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
    }
    if rng.gen_bool(0.2) {
        s.push_str(&format!("{}", rng.gen_range(0..100)));
    }
    s.into_bytes()
}

fn big_text(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    let alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ éß日";
    let chars: Vec<char> = alphabet.chars().collect();
    let mut s = String::with_capacity(len + 4);
    while s.len() < len {
        s.push(chars[rng.gen_range(0..chars.len())]);
    }
    s.into_bytes()
}

fn big_blob(rng: &mut ChaCha8Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.gen()).collect()
}

/// A value of any storage class; `size_hint` ~ page size for "medium" overflow values.
fn gen_value(rng: &mut ChaCha8Rng, page_size: usize, big: bool) -> Value {
    match rng.gen_range(0..100) {
        0..=9 => Value::Null,
        10..=29 => Value::Integer(rng.gen_range(-1000..1000)),
        30..=36 => {
            const EXTREMES: &[i64] = &[
                i64::MIN,
                i64::MAX,
                i64::MIN + 1,
                i64::MAX - 1,
                0,
                1,
                -1,
                127,
                128,
                -129,
                32767,
                -32769,
                1 << 23,
                (1 << 31) - 1,
                -(1 << 31),
                1 << 47,
                -(1 << 47) - 1,
                1 << 53,
                (1 << 53) + 1,
            ];
            Value::Integer(EXTREMES[rng.gen_range(0..EXTREMES.len())])
        }
        37..=49 => {
            const SPECIAL: &[f64] = &[
                0.5, -0.5, 1e300, -1e300, 1e-300, 3.0, -7.0, 1e15, 2.5e18, 9.3e18, -9.3e18,
            ];
            if rng.gen_bool(0.3) {
                Value::Real(SPECIAL[rng.gen_range(0..SPECIAL.len())])
            } else {
                Value::Real((rng.gen::<f64>() - 0.5) * 2000.0)
            }
        }
        50..=79 => Value::Text(gen_text(rng)),
        80..=91 => {
            let n = rng.gen_range(0..40);
            Value::Blob(big_blob(rng, n))
        }
        92..=96 if rng.gen_bool((4096.0 / page_size as f64).min(1.0)) => {
            // Medium: around the page size, so the local/overflow split is exercised.
            let n = rng.gen_range(page_size / 4..page_size * 3);
            if rng.gen_bool(0.5) {
                Value::Text(big_text(rng, n))
            } else {
                Value::Blob(big_blob(rng, n))
            }
        }
        _ => {
            if big {
                let n = rng.gen_range(100_001..140_000);
                if rng.gen_bool(0.5) {
                    Value::Text(big_text(rng, n))
                } else {
                    Value::Blob(big_blob(rng, n))
                }
            } else {
                Value::Text(gen_text(rng))
            }
        }
    }
}

struct Expected {
    schema: Vec<SchemaRow>,
    tables: Vec<Vec<Vec<Value>>>,
    indexes: Vec<Vec<Vec<Value>>>,
}

fn exec(conn: &Connection, sql: &str) {
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn insert_t1(conn: &Connection, rng: &mut ChaCha8Rng, page_size: usize, n: usize, big_rate: f64) {
    let mut st = conn
        .prepare("INSERT INTO t1(a, b, c, d) VALUES (?1, ?2, ?3, ?4)")
        .unwrap();
    for _ in 0..n {
        let big = rng.gen_bool(big_rate);
        let vals: Vec<rusqlite::types::Value> = (0..4)
            .map(|_| to_sqlite(&gen_value(rng, page_size, big)))
            .collect();
        st.execute(rusqlite::params_from_iter(vals)).unwrap();
    }
}

fn insert_t2(conn: &Connection, rng: &mut ChaCha8Rng, page_size: usize, n: usize) {
    let mut st = conn
        .prepare("INSERT OR REPLACE INTO t2(id, name, score, data) VALUES (?1, ?2, ?3, ?4)")
        .unwrap();
    for _ in 0..n {
        let id: i64 = match rng.gen_range(0..10) {
            0 => rng.gen(),
            1 => -rng.gen_range(0..1_000_000i64),
            _ => rng.gen_range(0..1_000_000_000i64),
        };
        let big = rng.gen_bool(0.01);
        let name = to_sqlite(&gen_value(rng, page_size, false));
        let score = to_sqlite(&gen_value(rng, page_size, false));
        let data = to_sqlite(&gen_value(rng, page_size, big));
        st.execute(rusqlite::params![id, name, score, data])
            .unwrap();
    }
    // The extremes of the rowid range.
    conn.execute(
        "INSERT OR REPLACE INTO t2(id, name) VALUES (?1, 'max')",
        [i64::MAX],
    )
    .unwrap();
    conn.execute(
        "INSERT OR REPLACE INTO t2(id, name) VALUES (?1, 'min')",
        [i64::MIN],
    )
    .unwrap();
}

fn insert_t3(conn: &Connection, rng: &mut ChaCha8Rng, page_size: usize, n: usize) {
    let mut st = conn
        .prepare("INSERT INTO t3(x, y) VALUES (?1, ?2)")
        .unwrap();
    for _ in 0..n {
        let (bx, by) = (rng.gen_bool(0.05), rng.gen_bool(0.05));
        let x = to_sqlite(&gen_value(rng, page_size, bx));
        let y = to_sqlite(&gen_value(rng, page_size, by));
        st.execute(rusqlite::params![x, y]).unwrap();
    }
}

fn freelist_count(conn: &Connection) -> i64 {
    conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap()
}

/// Builds the database with SQLite and returns what SQLite reads from it. The connection
/// is closed without checkpointing, so the WAL keeps its frames.
fn build_with_sqlite(
    path: &str,
    page_size: usize,
    seed: u64,
    variant: Variant,
    reserved: u8,
) -> Expected {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let conn = Connection::open(path).unwrap();
    exec(&conn, &format!("PRAGMA page_size={page_size};"));
    if reserved > 0 {
        sqlite_reserve_bytes(&conn, reserved as usize);
    }
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    exec(&conn, "PRAGMA wal_autocheckpoint=0;");
    exec(&conn, SCHEMA);
    let got_ps: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .unwrap();
    assert_eq!(got_ps as usize, page_size);

    // Phase 1: bulk data, then deletes that free pages, then a checkpoint into the file.
    exec(&conn, "BEGIN");
    insert_t1(&conn, &mut rng, page_size, 3000, 0.01);
    insert_t2(&conn, &mut rng, page_size, 1500);
    insert_t3(&conn, &mut rng, page_size, 800);
    // Guaranteed overflow rows (> 100 KB text and blob) in every table, some in the range
    // deleted below so that their overflow pages go to the freelist.
    for rowid in [10i64, 700, 900, 1200, 2500] {
        let t = big_text(&mut rng, 100_001 + rowid as usize);
        let b = big_blob(&mut rng, 120_000 + rowid as usize);
        conn.execute(
            "UPDATE t1 SET b = ?1, c = ?2 WHERE rowid = ?3",
            rusqlite::params![t, b, rowid],
        )
        .unwrap();
    }
    let t = String::from_utf8(big_text(&mut rng, 130_000)).unwrap();
    conn.execute(
        "INSERT INTO t3(x, y) VALUES (?1, ?2)",
        rusqlite::params![t, big_blob(&mut rng, 110_000)],
    )
    .unwrap();
    exec(&conn, "COMMIT");
    exec(&conn, "BEGIN; DELETE FROM t1 WHERE rowid BETWEEN 500 AND 1500; DELETE FROM t3 WHERE rowid % 3 = 0; COMMIT;");
    // RESTART keeps the WAL file: the next transactions restart it at frame 1 with new
    // salts, over the old frames, which a reader must then ignore.
    let checkpoint_sql = if variant == Variant::Restart {
        "PRAGMA wal_checkpoint(RESTART)"
    } else {
        "PRAGMA wal_checkpoint(TRUNCATE)"
    };
    let wal_len_at_checkpoint = std::fs::metadata(format!("{path}-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    let (busy, _, _): (i64, i64, i64) = conn
        .query_row(checkpoint_sql, [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(busy, 0, "checkpoint was busy");
    let free = freelist_count(&conn);
    assert!(
        free > 0,
        "setup: expected freelist pages after deletes, freelist_count = {free}"
    );

    // Phase 2: more changes, left in the WAL.
    exec(&conn, "BEGIN");
    insert_t1(&conn, &mut rng, page_size, 400, 0.01);
    exec(&conn, "DELETE FROM t1 WHERE rowid BETWEEN 2000 AND 2100;");
    insert_t2(&conn, &mut rng, page_size, 200);
    exec(&conn, "UPDATE t2 SET score = score + 1.5 WHERE id % 7 = 0;");
    exec(&conn, "COMMIT");
    exec(&conn, "BEGIN");
    insert_t3(&conn, &mut rng, page_size, 200);
    exec(
        &conn,
        "DELETE FROM t3 WHERE rowid % 5 = 1; UPDATE t1 SET d = 42 WHERE rowid % 11 = 0;",
    );
    let t = String::from_utf8(big_text(&mut rng, 101_000)).unwrap();
    conn.execute(
        "INSERT INTO t1(a, b, c, d) VALUES (1, ?1, ?2, 2.5)",
        rusqlite::params![t, big_blob(&mut rng, 105_000)],
    )
    .unwrap();
    exec(&conn, "COMMIT");
    if variant == Variant::Vacuum {
        // VACUUM in WAL mode: every page rewritten into the WAL, the database smaller than
        // the file, root pages possibly moved; then more changes on top.
        exec(
            &conn,
            "DELETE FROM t3 WHERE rowid % 2 = 0; DELETE FROM t1 WHERE rowid BETWEEN 2200 AND 3000;",
        );
        let before: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        exec(&conn, "VACUUM;");
        let after: i64 = conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        assert!(
            after < before,
            "setup: VACUUM should shrink the database ({before} -> {after} pages)"
        );
        exec(&conn, "BEGIN");
        insert_t1(&conn, &mut rng, page_size, 100, 0.02);
        exec(&conn, "DELETE FROM t1 WHERE rowid % 13 = 0; COMMIT;");
    }

    let wal_len = std::fs::metadata(format!("{path}-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert!(
        wal_len > 32,
        "setup: the WAL should hold frames, it is {wal_len} bytes"
    );
    if variant == Variant::Restart {
        assert_eq!(
            wal_len, wal_len_at_checkpoint,
            "setup: after RESTART the WAL should be reused in place (stale frames after the new ones)"
        );
    }

    // What SQLite reads.
    let schema = sqlite_rows(
        &conn,
        "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema ORDER BY rowid",
    )
    .into_iter()
    .map(|r| SchemaRow {
        kind: String::from_utf8(match &r[0] {
            Value::Text(t) => t.clone(),
            v => panic!("{v:?}"),
        })
        .unwrap(),
        name: match &r[1] {
            Value::Text(t) => String::from_utf8(t.clone()).unwrap(),
            v => panic!("{v:?}"),
        },
        tbl_name: match &r[2] {
            Value::Text(t) => String::from_utf8(t.clone()).unwrap(),
            v => panic!("{v:?}"),
        },
        rootpage: match r[3] {
            Value::Integer(i) => i,
            ref v => panic!("{v:?}"),
        },
        sql: match &r[4] {
            Value::Text(t) => Some(String::from_utf8(t.clone()).unwrap()),
            _ => None,
        },
    })
    .collect();
    let tables = TABLES
        .iter()
        .map(|t| {
            sqlite_rows(
                &conn,
                &format!("SELECT rowid, * FROM {} ORDER BY rowid", t.name),
            )
        })
        .collect();
    let indexes = INDEXES
        .iter()
        .map(|ix| {
            sqlite_rows(
                &conn,
                &format!(
                    "SELECT {}, rowid FROM {} INDEXED BY {} ORDER BY {}, rowid",
                    ix.select, ix.table, ix.name, ix.order_by
                ),
            )
        })
        .collect();

    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .unwrap();
    conn.close().map_err(|(_, e)| e).unwrap();
    let wal_len_after = std::fs::metadata(format!("{path}-wal"))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(
        wal_len_after, wal_len,
        "setup: closing SQLite must leave the WAL as it was"
    );
    Expected {
        schema,
        tables,
        indexes,
    }
}

fn normalize_real(v: &mut Value) {
    if let Value::Integer(i) = *v {
        *v = Value::Real(i as f64);
    }
}

/// Our table row as SQLite's `SELECT rowid, *` shows it.
fn table_row_as_sqlite(spec: &TableSpec, rowid: i64, mut rec: Vec<Value>, ctx: &str) -> Vec<Value> {
    for &c in spec.real_cols {
        if let Some(v) = rec.get_mut(c) {
            normalize_real(v);
        }
    }
    if let Some(c) = spec.ipk {
        assert_eq!(
            rec[c],
            Value::Null,
            "{ctx}: {} rowid {rowid}: INTEGER PRIMARY KEY column must be stored as NULL",
            spec.name
        );
        rec[c] = Value::Integer(rowid);
    }
    let mut row = vec![Value::Integer(rowid)];
    row.extend(rec);
    row
}

fn index_row_as_sqlite(spec: &IndexSpec, mut rec: Vec<Value>) -> Vec<Value> {
    for &c in spec.real_cols {
        if let Some(v) = rec.get_mut(c) {
            normalize_real(v);
        }
    }
    rec
}

fn key_info(spec: &IndexSpec) -> Arc<KeyInfo> {
    Arc::new(KeyInfo {
        fields: spec.key_info.to_vec(),
        ..Default::default()
    })
}

fn check_rowid_seeks(
    pager: &Arc<Pager>,
    root: u32,
    spec: &TableSpec,
    expected: &[Vec<Value>],
    rng: &mut ChaCha8Rng,
    ctx: &str,
) {
    let io = pager.io().clone();
    let rowids: Vec<i64> = expected
        .iter()
        .map(|r| match r[0] {
            Value::Integer(i) => i,
            ref v => panic!("{v:?}"),
        })
        .collect();
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
    let max =
        drive(io.as_ref(), || cur.max_rowid()).unwrap_or_else(|e| panic!("{ctx}: max_rowid: {e}"));
    assert_eq!(
        max,
        rowids.last().copied(),
        "{ctx}: {} max_rowid",
        spec.name
    );
    let mut keys: Vec<i64> = vec![i64::MIN, i64::MAX, 0, -1, 1];
    for _ in 0..150 {
        let base = if rowids.is_empty() {
            0
        } else {
            rowids[rng.gen_range(0..rowids.len())]
        };
        keys.push(base.saturating_add(rng.gen_range(-1..=1)));
    }
    for _ in 0..20 {
        keys.push(rng.gen());
    }
    for key in keys {
        for op in SEEK_OPS {
            let what = format!("{ctx}: {}.seek_rowid({key}, {op:?})", spec.name);
            let found = drive(io.as_ref(), || cur.seek_rowid(key, op))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let want = expected_rowid_seek(&rowids, key, op);
            assert_eq!(found, want.is_some(), "{what}: found");
            let Some(i) = want else {
                assert!(cur.is_eof(), "{what}: not found but not at EOF");
                continue;
            };
            assert!(!cur.is_eof(), "{what}: found but at EOF");
            assert_eq!(cur.rowid().unwrap(), rowids[i], "{what}: rowid");
            let rec = decode_owned(&payload(io.as_ref(), &mut cur).unwrap());
            let row = table_row_as_sqlite(spec, rowids[i], rec, ctx);
            assert_eq!(row, expected[i], "{what}: row");
            // Continue from the seek position in the direction the op implies.
            let forward = matches!(op, SeekOp::GE | SeekOp::GT | SeekOp::EQ);
            for step in 1..=3usize {
                if forward {
                    drive(io.as_ref(), || cur.next()).unwrap();
                } else {
                    drive(io.as_ref(), || cur.prev()).unwrap();
                }
                let j = if forward {
                    i.checked_add(step).filter(|&j| j < rowids.len())
                } else {
                    i.checked_sub(step)
                };
                match j {
                    None => {
                        assert!(cur.is_eof(), "{what}: step {step} should reach EOF");
                        break;
                    }
                    Some(j) => {
                        assert!(!cur.is_eof(), "{what}: step {step} hit EOF early");
                        assert_eq!(cur.rowid().unwrap(), rowids[j], "{what}: step {step}");
                    }
                }
            }
        }
    }
}

fn check_index_seeks(
    pager: &Arc<Pager>,
    root: u32,
    spec: &IndexSpec,
    expected: &[Vec<Value>],
    raw: &[Vec<Value>],
    rng: &mut ChaCha8Rng,
    ctx: &str,
) {
    let io = pager.io().clone();
    let ki = key_info(spec);
    let ncols = spec.key_info.len();
    let mut keys: Vec<Vec<Value>> = vec![
        vec![Value::Null],
        vec![Value::Integer(0)],
        vec![Value::Real(0.25)],
        vec![Value::Text(b"m".to_vec())],
        vec![Value::Text(b"APPLE".to_vec())],
        vec![Value::Text(b"trailing".to_vec())],
        vec![Value::Blob(vec![0x80])],
        vec![Value::Integer(i64::MIN)],
        vec![Value::Blob(vec![0xff; 8])],
    ];
    for _ in 0..120 {
        if raw.is_empty() {
            break;
        }
        // Stored form of a real entry: a prefix of 1..=ncols+1 fields.
        let e = &raw[rng.gen_range(0..raw.len())];
        let n = rng.gen_range(1..=ncols + 1);
        keys.push(e[..n].to_vec());
    }
    let mut cur = BTreeCursor::new(pager.clone(), root, TreeKind::Index(ki.clone()));
    for key in keys {
        for op in SEEK_OPS {
            let what = format!(
                "{ctx}: {}.seek_index({}, {op:?})",
                spec.name,
                show_row(&key)
            );
            let found = drive(io.as_ref(), || cur.seek_index(&key, op))
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            let want = expected_index_seek(raw, &key, &ki, op);
            assert_eq!(
                found,
                want.is_some(),
                "{what}: found (expected entry {want:?})"
            );
            let Some(i) = want else {
                assert!(cur.is_eof(), "{what}: not found but not at EOF");
                continue;
            };
            assert!(!cur.is_eof(), "{what}: found but at EOF");
            let rec = decode_owned(&payload(io.as_ref(), &mut cur).unwrap());
            assert_eq!(
                index_row_as_sqlite(spec, rec.clone()),
                expected[i],
                "{what}: landed on {} instead of entry {i}",
                show_row(&rec)
            );
            let forward = matches!(op, SeekOp::GE | SeekOp::GT | SeekOp::EQ);
            if forward {
                drive(io.as_ref(), || cur.next()).unwrap();
            } else {
                drive(io.as_ref(), || cur.prev()).unwrap();
            }
            let j = if forward {
                Some(i + 1).filter(|&j| j < raw.len())
            } else {
                i.checked_sub(1)
            };
            match j {
                None => assert!(cur.is_eof(), "{what}: step should reach EOF"),
                Some(j) => {
                    assert!(!cur.is_eof(), "{what}: step hit EOF early");
                    let rec = decode_owned(&payload(io.as_ref(), &mut cur).unwrap());
                    assert_eq!(rec, raw[j], "{what}: step");
                }
            }
        }
    }
}

fn run(page_size: usize, backend_name: &str) {
    run_variant(page_size, backend_name, Variant::Plain, 0)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    Plain,
    /// A VACUUM left in the WAL.
    Vacuum,
    /// The mid-way checkpoint is RESTART, not TRUNCATE: stale frames stay after new ones.
    Restart,
}

fn run_variant(page_size: usize, backend_name: &str, variant: Variant, reserved: u8) {
    let Some(b) = backend(backend_name) else {
        return;
    };
    let seed = seed(0xC0FFEE ^ page_size as u64);
    let ctx = format!("[compat_read page_size={page_size} backend={} variant={variant:?} reserved={reserved} seed={seed}]", b.name);
    eprintln!("{ctx} (replay with STRATA_TEST_SEED={seed})");
    let dir = tempfile::tempdir().unwrap();
    let path = path_str(&dir.path().join("sqlite.db"));
    let expected = build_with_sqlite(&path, page_size, seed, variant, reserved);
    let header = std::fs::read(&path).unwrap();
    assert_eq!(
        header[20], reserved,
        "{ctx}: setup: reserved bytes in SQLite's header"
    );
    b.load(&path);

    let storage = open_storage(&b, &path, page_size);
    assert_eq!(storage.page_size(), page_size, "{ctx}: page size");
    assert_eq!(
        storage.usable_size(),
        page_size - reserved as usize,
        "{ctx}: usable size"
    );
    assert!(
        storage.wal().max_frame() > 0,
        "{ctx}: SQLite's WAL frames were not recovered"
    );
    let pager = storage.pager();
    pager
        .begin_read()
        .unwrap_or_else(|e| panic!("{ctx}: begin_read: {e}"));

    let schema = read_schema(&pager).unwrap_or_else(|e| panic!("{ctx}: read sqlite_schema: {e}"));
    assert_eq!(schema, expected.schema, "{ctx}: sqlite_schema");
    let root_of = |name: &str| -> u32 {
        schema
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{ctx}: no {name} in schema"))
            .rootpage as u32
    };

    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    for (spec, want) in TABLES.iter().zip(&expected.tables) {
        let what = format!("{ctx} table {}", spec.name);
        let root = root_of(spec.name);
        let ours: Vec<Vec<Value>> = dump_table(&pager, root)
            .unwrap_or_else(|e| panic!("{what}: scan: {e}"))
            .into_iter()
            .map(|(rowid, rec)| table_row_as_sqlite(spec, rowid, rec, &ctx))
            .collect();
        assert_rows_eq(&what, &ours, want);
        let mut back: Vec<Vec<Value>> = dump_table_rev(&pager, root)
            .unwrap_or_else(|e| panic!("{what}: backward scan: {e}"))
            .into_iter()
            .map(|(rowid, rec)| table_row_as_sqlite(spec, rowid, rec, &ctx))
            .collect();
        back.reverse();
        assert_rows_eq(&format!("{what} (backward scan, reversed)"), &back, want);
        check_rowid_seeks(&pager, root, spec, want, &mut rng, &what);
    }
    for (spec, want) in INDEXES.iter().zip(&expected.indexes) {
        let what = format!("{ctx} index {}", spec.name);
        let root = root_of(spec.name);
        let raw = dump_index_with(&pager, root, key_info(spec))
            .unwrap_or_else(|e| panic!("{what}: scan: {e}"));
        let ours: Vec<Vec<Value>> = raw
            .iter()
            .map(|r| index_row_as_sqlite(spec, r.clone()))
            .collect();
        assert_rows_eq(&what, &ours, want);
        let mut back = dump_index_rev(&pager, root, key_info(spec))
            .unwrap_or_else(|e| panic!("{what}: backward scan: {e}"));
        back.reverse();
        assert_rows_eq(&format!("{what} (backward scan, reversed)"), &back, &raw);
        check_index_seeks(&pager, root, spec, want, &raw, &mut rng, &what);
    }
    pager.end_read();
    let big = expected
        .tables
        .iter()
        .flatten()
        .flatten()
        .filter(|v| matches!(v, Value::Text(x) | Value::Blob(x) if x.len() > 100_000))
        .count();
    eprintln!(
        "{ctx}: ok: rows per table {:?}, entries per index {:?}, values > 100 KB: {big}, WAL frames {}",
        expected.tables.iter().map(|t| t.len()).collect::<Vec<_>>(),
        expected.indexes.iter().map(|t| t.len()).collect::<Vec<_>>(),
        storage.wal().max_frame()
    );
    assert!(big >= 5, "{ctx}: setup should hold overflow rows > 100 KB");
}

macro_rules! compat_read_tests {
    ($($name:ident: $ps:expr, $backend:expr;)*) => {$(
        #[test]
        fn $name() {
            run($ps, $backend);
        }
    )*};
}

compat_read_tests! {
    read_512_syscall: 512, "syscall";
    read_512_uring: 512, "uring";
    read_512_memory: 512, "memory";
    read_4096_syscall: 4096, "syscall";
    read_4096_uring: 4096, "uring";
    read_4096_memory: 4096, "memory";
    read_65536_syscall: 65536, "syscall";
    read_65536_uring: 65536, "uring";
    read_65536_memory: 65536, "memory";
    // The other page sizes, on the memory backend.
    read_1024_memory: 1024, "memory";
    read_2048_memory: 2048, "memory";
    read_8192_memory: 8192, "memory";
    read_16384_memory: 16384, "memory";
    read_32768_memory: 32768, "memory";
}

macro_rules! compat_read_vacuum_tests {
    ($($name:ident: $ps:expr, $backend:expr;)*) => {$(
        #[test]
        fn $name() {
            run_variant($ps, $backend, Variant::Vacuum, 0);
        }
    )*};
}

// A VACUUM left in the WAL: the whole database rewritten in frames, smaller than its file.
compat_read_vacuum_tests! {
    read_vacuum_4096_syscall: 4096, "syscall";
    read_vacuum_4096_uring: 4096, "uring";
    read_vacuum_4096_memory: 4096, "memory";
    read_vacuum_512_memory: 512, "memory";
}

macro_rules! compat_read_reserved_tests {
    ($($name:ident: $ps:expr, $backend:expr, $reserved:expr;)*) => {$(
        #[test]
        fn $name() {
            run_variant($ps, $backend, Variant::Plain, $reserved);
        }
    )*};
}

macro_rules! compat_read_restart_tests {
    ($($name:ident: $ps:expr, $backend:expr;)*) => {$(
        #[test]
        fn $name() {
            run_variant($ps, $backend, Variant::Restart, 0);
        }
    )*};
}

// SQLite restarted its WAL over older frames: recovery must stop at the new generation.
compat_read_restart_tests! {
    read_restart_4096_syscall: 4096, "syscall";
    read_restart_512_memory: 512, "memory";
    read_restart_65536_uring: 65536, "uring";
}

// Reserved bytes at the end of each page: usable size below the page size (480 is the
// smallest SQLite accepts).
compat_read_reserved_tests! {
    read_reserved_512_32_memory: 512, "memory", 32;
    read_reserved_4096_40_syscall: 4096, "syscall", 40;
    read_reserved_65536_255_memory: 65536, "memory", 255;
}
