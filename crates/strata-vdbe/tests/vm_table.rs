//! Table B-trees through the VM: insert, scan both ways, seeks, deferred IO equality,
//! and compatibility with SQLite on a real file.

mod vm_support;

use strata_btree::record::Value;
use strata_btree::SeekOp;
use strata_vdbe::insn::{CursorKind, Insn};
use vm_support::*;

fn expected(rows: &[(i64, Vec<Value>)]) -> Vec<Vec<Value>> {
    rows.iter()
        .map(|(r, c)| {
            let mut v = vec![int(*r)];
            v.extend(c.iter().cloned());
            v
        })
        .collect()
}

fn insert_and_scan(deferred: bool) -> (Vec<Vec<Value>>, usize) {
    let db = mem_db(deferred);
    let conn = db.conn();
    let root = create_btree(&db, &conn, false);
    let rows = sample_rows(300);
    let out = run(&db, &conn, insert_rows_prog(root, &rows)).unwrap();
    assert!(out.rows.is_empty());
    assert_eq!(conn.state().changes, 300);
    assert_eq!(conn.state().last_insert_rowid, 900);
    let scan = run(&db, &conn, scan_prog(root, 3, false)).unwrap();
    assert_eq!(scan.rows, expected(&rows));
    let back = run(&db, &conn, scan_prog(root, 3, true)).unwrap();
    let mut rev = expected(&rows);
    rev.reverse();
    assert_eq!(back.rows, rev);
    (scan.rows, out.ios + scan.ios + back.ios)
}

#[test]
fn insert_scan_inline_and_deferred_agree() {
    let (inline_rows, inline_ios) = insert_and_scan(false);
    let (deferred_rows, deferred_ios) = insert_and_scan(true);
    assert_eq!(inline_ios, 0);
    assert!(deferred_ios > 0, "deferred mode must yield Io");
    assert_eq!(inline_rows, deferred_rows);
}

fn seek_prog(root: u32, key: Value, op: Option<SeekOp>) -> strata_vdbe::program::Program {
    let mut a = Asm::new();
    let nf = a.label();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::Transaction {
        db: 0,
        write: false,
        schema_cookie: 0,
    });
    a.op(Insn::OpenReadAsync {
        db: 0,
        cursor: 0,
        root_page: root,
        root_reg: None,
        kind: CursorKind::Table { num_columns: 3 },
    });
    a.op(Insn::OpenReadAwait { cursor: 0 });
    load(&mut a, &key, 5);
    match op {
        None => {
            a.op(Insn::SeekRowidAsync {
                cursor: 0,
                rowid_reg: 5,
            });
            a.op(Insn::SeekRowidAwait {
                cursor: 0,
                target_if_not_found: nf,
            });
        }
        Some(op) => {
            a.op(Insn::SeekAsync {
                cursor: 0,
                op,
                key_start: 5,
                key_count: 1,
            });
            a.op(Insn::SeekAwait {
                cursor: 0,
                target_if_not_found: nf,
            });
        }
    }
    a.op(Insn::Rowid { cursor: 0, dest: 0 });
    a.op(Insn::Column {
        cursor: 0,
        column: 0,
        dest: 1,
        default: None,
    });
    a.op(Insn::Column {
        cursor: 0,
        column: 7,
        dest: 2,
        default: Some(int(42)),
    });
    a.op(Insn::ResultRow { start: 0, count: 3 });
    a.bind(nf);
    a.op(halt());
    a.build()
}

#[test]
fn seek_rowid_and_seek_ops() {
    for deferred in [false, true] {
        let db = mem_db(deferred);
        let conn = db.conn();
        let root = create_btree(&db, &conn, false);
        run(&db, &conn, insert_rows_prog(root, &sample_rows(200))).unwrap();
        let q = |key: Value, op: Option<SeekOp>| -> Vec<Vec<Value>> {
            run(&db, &conn, seek_prog(root, key, op)).unwrap().rows
        };
        assert_eq!(q(int(30), None), vec![vec![int(30), int(100), int(42)]]);
        assert!(q(int(31), None).is_empty());
        assert_eq!(q(text("30"), None), vec![vec![int(30), int(100), int(42)]]);
        assert!(q(Value::Real(30.5), None).is_empty());
        assert!(q(text("abc"), None).is_empty());
        // GE / GT / LE / LT on rowids (keys are multiples of 3).
        assert_eq!(q(int(31), Some(SeekOp::GE))[0][0], int(33));
        assert_eq!(q(int(30), Some(SeekOp::GT))[0][0], int(33));
        assert_eq!(q(int(31), Some(SeekOp::LE))[0][0], int(30));
        assert_eq!(q(int(30), Some(SeekOp::LT))[0][0], int(27));
        // Reals are rounded the way SQLite does.
        assert_eq!(q(Value::Real(30.5), Some(SeekOp::GE))[0][0], int(33));
        assert_eq!(q(Value::Real(29.5), Some(SeekOp::LT))[0][0], int(27));
        assert_eq!(q(Value::Real(30.0), Some(SeekOp::LE))[0][0], int(30));
        // Text is above every number.
        assert!(q(text("x"), Some(SeekOp::GE)).is_empty());
        assert_eq!(q(text("x"), Some(SeekOp::LT))[0][0], int(600));
        assert!(q(int(601), Some(SeekOp::GE)).is_empty());
        assert!(q(int(3), Some(SeekOp::LT)).is_empty());
    }
}

#[test]
fn new_rowid_delete_and_count() {
    for deferred in [false, true] {
        let db = mem_db(deferred);
        let conn = db.conn();
        let root = create_btree(&db, &conn, false);
        run(&db, &conn, insert_rows_prog(root, &sample_rows(50))).unwrap();
        // INSERT with NewRowid, then DELETE every row with an even column 0/10, COUNT.
        let mut a = Asm::new();
        let top = a.label();
        let skip = a.label();
        let done = a.label();
        a.op(Insn::Init { target: 1 });
        a.op(Insn::Transaction {
            db: 0,
            write: true,
            schema_cookie: 0,
        });
        a.op(Insn::OpenWriteAsync {
            db: 0,
            cursor: 0,
            root_page: root,
            root_reg: None,
            kind: CursorKind::Table { num_columns: 3 },
        });
        a.op(Insn::OpenWriteAwait { cursor: 0 });
        a.op(Insn::NewRowidAsync {
            cursor: 0,
            dest: 0,
            min_reg: None,
        });
        a.op(Insn::NewRowidAwait { cursor: 0 });
        a.op(Insn::Integer { value: 7, dest: 10 });
        a.op(Insn::MakeRecord {
            start: 10,
            count: 1,
            dest: 1,
            affinities: None,
        });
        a.op(Insn::InsertAsync {
            cursor: 0,
            key_reg: 0,
            record_reg: 1,
            flags: strata_vdbe::insn::InsertFlags {
                count: strata_vdbe::insn::RowCount::Statement,
                set_last_rowid: true,
                is_update: false,
            },
            table: "t".into(),
        });
        a.op(Insn::InsertAwait { cursor: 0 });
        a.op(Insn::RewindAsync { cursor: 0 });
        a.op(Insn::RewindAwait {
            cursor: 0,
            target_if_empty: done,
        });
        a.bind(top);
        a.op(Insn::Rowid { cursor: 0, dest: 2 });
        a.op(Insn::Integer { value: 2, dest: 3 });
        a.op(Insn::Arith {
            op: strata_vdbe::ops::Arith::Rem,
            lhs: 2,
            rhs: 3,
            dest: 4,
        });
        a.op(Insn::If {
            reg: 4,
            target: skip,
            jump_if_null: false,
        });
        a.op(Insn::DeleteAsync {
            cursor: 0,
            count: strata_vdbe::insn::RowCount::Statement,
        });
        a.op(Insn::DeleteAwait { cursor: 0 });
        a.bind(skip);
        a.op(Insn::NextAsync { cursor: 0 });
        a.op(Insn::NextAwait {
            cursor: 0,
            target_if_more: top,
        });
        a.bind(done);
        a.op(Insn::Count { cursor: 0, dest: 5 });
        a.op(Insn::ResultRow { start: 5, count: 1 });
        a.op(halt());
        let out = run(&db, &conn, a.build()).unwrap();
        // 51 rows (3..150 step 3, plus 151); even rowids: 6,12,..,150 = 25 deleted.
        assert_eq!(out.rows, vec![vec![int(26)]]);
        assert_eq!(conn.state().changes, 1 + 25);
        assert_eq!(conn.state().last_insert_rowid, 151);
        let rows = run(&db, &conn, scan_prog(root, 1, false)).unwrap().rows;
        let ids: Vec<Value> = rows.iter().map(|r| r[0].clone()).collect();
        let mut want: Vec<Value> = (1..=50)
            .map(|i| i * 3)
            .filter(|r| r % 2 == 1)
            .map(int)
            .collect();
        want.push(int(151));
        assert_eq!(ids, want);
    }
}

#[test]
fn file_written_by_vm_passes_sqlite_integrity_check() {
    let (db, path) = file_db();
    let conn = db.conn();
    let root = create_btree(&db, &conn, false);
    let rows = sample_rows(400);
    run(&db, &conn, insert_rows_prog(root, &rows)).unwrap();
    // Register the table in sqlite_schema (root 1) so SQLite can read it.
    let mut sql_rows = vec![(
        1i64,
        vec![
            text("table"),
            text("t"),
            text("t"),
            int(root as i64),
            text("CREATE TABLE t(a, b, c)"),
        ],
    )];
    sql_rows.truncate(1);
    let mut p = insert_rows_prog(1, &sql_rows);
    // Bump the schema cookie so SQLite reloads.
    let halt_at = p.insns.len() - 1;
    p.insns.insert(
        halt_at,
        Insn::SetCookie {
            db: 0,
            cookie: strata_vdbe::insn::Cookie::SchemaVersion,
            value: 1,
        },
    );
    p.comments.push(String::new());
    run(&db, &conn, p).unwrap();
    // Our own IntegrityCheck.
    let mut a = Asm::new();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::Transaction {
        db: 0,
        write: false,
        schema_cookie: 1,
    });
    a.op(Insn::IntegrityCheck {
        roots: vec![1, root],
        dest: 0,
        max_errors: 100,
    });
    a.op(Insn::ResultRow { start: 0, count: 1 });
    a.op(halt());
    let out = run(&db, &conn, a.build()).unwrap();
    assert_eq!(out.rows, vec![vec![text("ok")]]);
    drop(conn);
    let Db {
        io,
        storage,
        _dir: dir,
    } = db;
    drop(storage);
    drop(io);
    let c = rusqlite::Connection::open(&path).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let n: i64 = c
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 400);
    let b: String = c
        .query_row("SELECT b FROM t WHERE rowid = 21", [], |r| r.get(0))
        .unwrap();
    assert_eq!(Value::Text(b.into_bytes()), rows[6].1[1]);
    drop(dir);
}

#[test]
fn integrity_check_deferred_and_detects_damage() {
    let db = mem_db(true);
    let conn = db.conn();
    let root = create_btree(&db, &conn, false);
    run(&db, &conn, insert_rows_prog(root, &sample_rows(300))).unwrap();
    let check = |roots: Vec<u32>| {
        let mut a = Asm::new();
        a.op(Insn::Init { target: 1 });
        a.op(Insn::Transaction {
            db: 0,
            write: false,
            schema_cookie: 0,
        });
        a.op(Insn::IntegrityCheck {
            roots,
            dest: 0,
            max_errors: 10,
        });
        a.op(Insn::ResultRow { start: 0, count: 1 });
        a.op(halt());
        run(&db, &conn, a.build()).unwrap()
    };
    let out = check(vec![1, root]);
    assert_eq!(out.rows, vec![vec![text("ok")]]);
    assert!(out.ios > 0);
    // Leaving the table out: its pages are never used.
    let out = check(vec![1]);
    let Value::Text(t) = &out.rows[0][0] else {
        panic!()
    };
    let t = String::from_utf8_lossy(t);
    assert!(t.contains("never used"), "{t}");
}

#[test]
fn explain_rows_name_opcodes_and_operands() {
    use strata_vdbe::explain::explain_row;
    let r = explain_row(
        3,
        &Insn::Column {
            cursor: 1,
            column: 2,
            dest: 5,
            default: None,
        },
        "t.c",
    );
    assert_eq!(
        r,
        [
            int(3),
            text("Column"),
            int(1),
            int(2),
            int(5),
            Value::Null,
            int(0),
            text("t.c")
        ]
    );
    let r = explain_row(
        9,
        &Insn::NextAwait {
            cursor: 0,
            target_if_more: 4,
        },
        "",
    );
    assert_eq!(r[1], text("NextAwait"));
    assert_eq!(
        (r[2].clone(), r[3].clone(), r[7].clone()),
        (int(0), int(4), Value::Null)
    );
    let r = explain_row(0, &Insn::Integer { value: 7, dest: 2 }, "");
    assert_eq!(
        (r[1].clone(), r[2].clone(), r[3].clone()),
        (text("Integer"), int(7), int(2))
    );
}

fn count_prog(root: u32) -> strata_vdbe::program::Program {
    let mut a = Asm::new();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::Transaction {
        db: 0,
        write: false,
        schema_cookie: 0,
    });
    a.op(Insn::OpenReadAsync {
        db: 0,
        cursor: 0,
        root_page: root,
        root_reg: None,
        kind: CursorKind::Table { num_columns: 3 },
    });
    a.op(Insn::OpenReadAwait { cursor: 0 });
    a.op(Insn::Count { cursor: 0, dest: 0 });
    a.op(Insn::ResultRow { start: 0, count: 1 });
    a.op(halt());
    a.build()
}

/// `Count` and `Clear` (with change counting) over a tree whose pages are not in memory, on
/// IO that completes nothing inline: a `next` that must load the next leaf returns Pending
/// with the cursor mid-descent (where `is_eof` is true), and the count must resume that
/// `next` instead of stopping (it stopped early, counting one leaf's rows: found once a
/// write transaction's pages could be spilled and read back).
#[test]
fn count_and_clear_resume_a_pending_next() {
    let db = mem_db(true);
    let conn = db.conn();
    let root = create_btree(&db, &conn, false);
    let rows = sample_rows(300);
    run(&db, &conn, insert_rows_prog(root, &rows)).unwrap();
    // A new connection: a cold cache of 4 pages, every leaf read Pending.
    let cold = db.conn();
    let out = run(&db, &cold, count_prog(root)).unwrap();
    assert!(out.ios > 1, "the count must have waited for several reads");
    assert_eq!(out.rows, vec![vec![int(300)]]);
    let cold = db.conn();
    let mut a = Asm::new();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::Transaction {
        db: 0,
        write: true,
        schema_cookie: 0,
    });
    a.op(Insn::Clear {
        db: 0,
        root_page: root,
        count: strata_vdbe::insn::RowCount::Statement,
    });
    a.op(halt());
    run(&db, &cold, a.build()).unwrap();
    assert_eq!(cold.state().changes, 300);
    let out = run(&db, &cold, count_prog(root)).unwrap();
    assert_eq!(out.rows, vec![vec![int(0)]]);
}
