//! File compatibility with SQLite: trees written here (a table with overflowing rows, an
//! index over it, dropped and cleared trees on the freelist) pass SQLite's
//! `PRAGMA integrity_check` and read back identically through SQLite; then SQLite changes
//! the file and our cursors read SQLite's trees.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::run;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strata_btree::record::{encode_record, KeyInfo, Record, Value, ValueRef};
use strata_btree::{
    clear_btree, create_btree, drop_btree, BTreeCursor, BTreeType, SeekOp, TreeKind,
};
use strata_io::{SyscallIo, IO};
use strata_pager::{Pager, Storage, StorageOptions};

fn record(values: &[ValueRef<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_record(values, &mut out);
    out
}

fn text_for(rowid: i64, len: usize) -> String {
    (0..len)
        .map(|i| (b'a' + ((rowid as usize * 7 + i) % 26) as u8) as char)
        .collect()
}

#[allow(clippy::too_many_arguments)]
/// Adds a schema row and bumps the schema cookie, as CREATE TABLE/INDEX would.
fn add_schema_row(
    io: &Arc<dyn IO>,
    pager: &Arc<Pager>,
    rowid: i64,
    kind: &str,
    name: &str,
    table: &str,
    root: u32,
    sql: &str,
) {
    let rec = record(&[
        ValueRef::Text(kind.as_bytes()),
        ValueRef::Text(name.as_bytes()),
        ValueRef::Text(table.as_bytes()),
        ValueRef::Integer(root as i64),
        ValueRef::Text(sql.as_bytes()),
    ]);
    let mut schema = BTreeCursor::new(pager.clone(), 1, TreeKind::Table);
    run(io, || schema.insert_rowid(rowid, &rec)).unwrap();
    let page1 = run(io, || Ok(pager.get_page(1)?)).unwrap();
    pager.mark_dirty(&page1).unwrap();
    let mut d = page1.data_mut();
    let cookie = u32::from_be_bytes([d[40], d[41], d[42], d[43]]) + 1;
    d[40..44].copy_from_slice(&cookie.to_be_bytes());
    if d[44..48] == [0, 0, 0, 0] {
        d[44..48].copy_from_slice(&4u32.to_be_bytes());
    }
}

fn write_then_sqlite_checks(page_size: usize, reserved_bytes: u8) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let path_str = path.to_str().unwrap().to_string();
    let mut model: BTreeMap<i64, (i64, String)> = BTreeMap::new();
    {
        let io: Arc<dyn IO> = Arc::new(SyscallIo::new());
        let options = StorageOptions {
            page_size,
            reserved_bytes,
            ..StorageOptions::default()
        };
        let storage = Storage::open(io.clone(), &path_str, options).unwrap();
        let pager = storage.pager();
        pager.begin_write().unwrap();
        // A throw-away tree first so that dropping it puts pages on the freelist that
        // the real trees then reuse.
        let scratch = run(&io, || create_btree(&pager, BTreeType::Table)).unwrap();
        let mut c = BTreeCursor::new(pager.clone(), scratch, TreeKind::Table);
        for k in 0..300 {
            let rec = record(&[
                ValueRef::Integer(k),
                ValueRef::Blob(&vec![7u8; (k as usize * 37) % 3000]),
            ]);
            run(&io, || c.insert_rowid(k, &rec)).unwrap();
        }
        run(&io, || drop_btree(&pager, scratch)).unwrap();

        let table = run(&io, || create_btree(&pager, BTreeType::Table)).unwrap();
        let index = run(&io, || create_btree(&pager, BTreeType::Index)).unwrap();
        let cleared = run(&io, || create_btree(&pager, BTreeType::Table)).unwrap();
        add_schema_row(
            &io,
            &pager,
            1,
            "table",
            "t",
            "t",
            table,
            "CREATE TABLE t(a,b)",
        );
        add_schema_row(
            &io,
            &pager,
            2,
            "index",
            "i",
            "t",
            index,
            "CREATE INDEX i ON t(a)",
        );
        add_schema_row(
            &io,
            &pager,
            3,
            "table",
            "u",
            "u",
            cleared,
            "CREATE TABLE u(a,b)",
        );
        let ki = Arc::new(KeyInfo::default());
        let mut t = BTreeCursor::new(pager.clone(), table, TreeKind::Table);
        let mut ix = BTreeCursor::new(pager.clone(), index, TreeKind::Index(ki.clone()));
        let mut u = BTreeCursor::new(pager.clone(), cleared, TreeKind::Table);
        let mut rng = ChaCha8Rng::seed_from_u64(page_size as u64);
        for _ in 0..4000 {
            let rowid = rng.gen_range(1..3000i64);
            let len = if rng.gen_bool(0.1) {
                rng.gen_range(0..3 * page_size)
            } else {
                rng.gen_range(0..60)
            };
            let a = rng.gen_range(0..200i64);
            if let Some((old_a, _)) = model.get(&rowid) {
                let old = record(&[ValueRef::Integer(*old_a), ValueRef::Integer(rowid)]);
                assert!(run(&io, || ix.seek_index(
                    &[Value::Integer(*old_a), Value::Integer(rowid)],
                    SeekOp::EQ
                ))
                .unwrap());
                assert_eq!(
                    run(&io, || ix.payload().map(|p| p.map(|b| b.to_vec()))).unwrap(),
                    old
                );
                run(&io, || ix.delete()).unwrap();
            }
            let b = text_for(rowid, len);
            let rec = record(&[ValueRef::Integer(a), ValueRef::Text(b.as_bytes())]);
            run(&io, || t.insert_rowid(rowid, &rec)).unwrap();
            run(&io, || {
                ix.insert_index(&record(&[ValueRef::Integer(a), ValueRef::Integer(rowid)]))
            })
            .unwrap();
            run(&io, || u.insert_rowid(rowid, &rec)).unwrap();
            model.insert(rowid, (a, b));
        }
        // Delete a third of the rows, from the table and the index.
        let victims: Vec<i64> = model.keys().copied().filter(|k| k % 3 == 0).collect();
        for rowid in victims {
            let (a, _) = model.remove(&rowid).unwrap();
            assert!(run(&io, || t.seek_rowid(rowid, SeekOp::EQ)).unwrap());
            run(&io, || t.delete()).unwrap();
            assert!(run(&io, || ix
                .seek_index(&[Value::Integer(a), Value::Integer(rowid)], SeekOp::EQ))
            .unwrap());
            run(&io, || ix.delete()).unwrap();
        }
        run(&io, || clear_btree(&pager, cleared)).unwrap();
        run(&io, || Ok(pager.commit()?)).unwrap();
    }

    // SQLite reads our file (and its WAL).
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "page size {page_size}");
        let mut stmt = conn
            .prepare("SELECT rowid, a, b FROM t ORDER BY rowid")
            .unwrap();
        let rows: Vec<(i64, (i64, String))> = stmt
            .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let want: Vec<(i64, (i64, String))> = model.iter().map(|(k, v)| (*k, v.clone())).collect();
        assert!(rows == want, "SQLite reads what we wrote");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM t WHERE a < 50", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n as usize, model.values().filter(|(a, _)| *a < 50).count());
        let n: i64 = conn
            .query_row("SELECT count(*) FROM u", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        // SQLite changes the file: more rows, deletions, a vacuum-free churn.
        conn.execute_batch(
            "BEGIN; INSERT INTO t(rowid, a, b) SELECT rowid + 10000, a + 1, b || 'x' FROM t;
             DELETE FROM t WHERE rowid % 7 = 0; COMMIT;",
        )
        .unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let extra: Vec<(i64, (i64, String))> = model
            .iter()
            .map(|(k, (a, b))| (k + 10000, (a + 1, format!("{b}x"))))
            .collect();
        model.extend(extra);
        model.retain(|k, _| k % 7 != 0);
    }

    // Our cursors read SQLite's trees.
    let io: Arc<dyn IO> = Arc::new(SyscallIo::new());
    let storage = Storage::open(io.clone(), &path_str, StorageOptions::default()).unwrap();
    let pager = storage.pager();
    pager.begin_read().unwrap();
    let mut schema = BTreeCursor::new(pager.clone(), 1, TreeKind::Table);
    let mut table_root = 0;
    run(&io, || schema.rewind()).unwrap();
    while !schema.is_eof() {
        let p = run(&io, || schema.payload().map(|p| p.map(|b| b.to_vec()))).unwrap();
        let rec = Record::parse(&p).unwrap();
        if rec.get(1).unwrap() == ValueRef::Text(b"t") {
            if let ValueRef::Integer(r) = rec.get(3).unwrap() {
                table_root = r as u32;
            }
        }
        run(&io, || schema.next()).unwrap();
    }
    let mut t = BTreeCursor::new(pager.clone(), table_root, TreeKind::Table);
    run(&io, || t.rewind()).unwrap();
    let mut got = BTreeMap::new();
    while !t.is_eof() {
        let rowid = t.rowid().unwrap();
        let p = run(&io, || t.payload().map(|p| p.map(|b| b.to_vec()))).unwrap();
        let rec = Record::parse(&p).unwrap();
        let a = match rec.get(0).unwrap() {
            ValueRef::Integer(a) => a,
            v => panic!("unexpected {v:?}"),
        };
        let b = match rec.get(1).unwrap() {
            ValueRef::Text(b) => String::from_utf8(b.to_vec()).unwrap(),
            v => panic!("unexpected {v:?}"),
        };
        got.insert(rowid, (a, b));
        run(&io, || t.next()).unwrap();
    }
    assert!(got == model, "we read what SQLite wrote");
    pager.end_read();
}

#[test]
fn sqlite_reads_our_file_4096() {
    write_then_sqlite_checks(4096, 0);
}

#[test]
fn sqlite_reads_our_file_1024_reserved() {
    write_then_sqlite_checks(1024, 16);
}

#[test]
fn sqlite_reads_our_file_512() {
    write_then_sqlite_checks(512, 0);
}

#[test]
fn sqlite_reads_our_file_65536() {
    write_then_sqlite_checks(65536, 0);
}
