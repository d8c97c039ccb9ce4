//! Index B-trees and in-memory cursors through the VM: prefix seeks with duplicates and
//! DESC columns, IdxCompare ranges, Found/NoConflict, IdxDelete; ephemeral set
//! semantics; sorter order and stability; aggregates.

mod vm_support;

use std::sync::Arc;

use strata_btree::record::{Collation, KeyInfo, SortOrder, Value};
use strata_btree::SeekOp;
use strata_vdbe::aggregate::AggKind;
use strata_vdbe::insn::{CursorKind, EphemeralKind, Insn};
use strata_vdbe::ops::Cmp;
use vm_support::*;

const A: (Collation, SortOrder) = (Collation::Binary, SortOrder::Asc);
const D: (Collation, SortOrder) = (Collation::Binary, SortOrder::Desc);

/// Index entries (k, rowid): k = rowid % 10 for rowids 1..=n, so each key has n/10 dups.
fn build_index(
    db: &Db,
    conn: &Arc<strata_vdbe::vm::Connection>,
    key: &Arc<KeyInfo>,
    n: i64,
) -> u32 {
    let root = create_btree(db, conn, true);
    let mut a = Asm::new();
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
        kind: CursorKind::Index {
            key_info: key.clone(),
        },
    });
    a.op(Insn::OpenWriteAwait { cursor: 0 });
    for r in 1..=n {
        a.op(Insn::Integer {
            value: r % 10,
            dest: 1,
        });
        a.op(Insn::Integer { value: r, dest: 2 });
        a.op(Insn::MakeRecord {
            start: 1,
            count: 2,
            dest: 3,
            affinities: None,
        });
        a.op(Insn::IdxInsertAsync {
            cursor: 0,
            record_reg: 3,
        });
        a.op(Insn::IdxInsertAwait { cursor: 0 });
    }
    a.op(halt());
    run(db, conn, a.build()).unwrap();
    root
}

/// Seek with `op` on key k, then walk forward (or backward) while IdxCompare says the
/// entry is within `stop` of k; returns (k, rowid) pairs.
fn range(
    db: &Db,
    conn: &Arc<strata_vdbe::vm::Connection>,
    root: u32,
    key: &Arc<KeyInfo>,
    k: i64,
    op: SeekOp,
    backward: bool,
    stop: Cmp,
) -> Vec<(i64, i64)> {
    let mut a = Asm::new();
    let done = a.label();
    let top = a.label();
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
        kind: CursorKind::Index {
            key_info: key.clone(),
        },
    });
    a.op(Insn::OpenReadAwait { cursor: 0 });
    a.op(Insn::Integer { value: k, dest: 5 });
    a.op(Insn::SeekAsync {
        cursor: 0,
        op,
        key_start: 5,
        key_count: 1,
    });
    a.op(Insn::SeekAwait {
        cursor: 0,
        target_if_not_found: done,
    });
    a.bind(top);
    a.op(Insn::IdxCompare {
        cursor: 0,
        op: stop,
        key_start: 5,
        key_count: 1,
        target: done,
    });
    a.op(Insn::Column {
        cursor: 0,
        column: 0,
        dest: 0,
        default: None,
    });
    a.op(Insn::IdxRowid { cursor: 0, dest: 1 });
    a.op(Insn::ResultRow { start: 0, count: 2 });
    if backward {
        a.op(Insn::PrevAsync { cursor: 0 });
        a.op(Insn::PrevAwait {
            cursor: 0,
            target_if_more: top,
        });
    } else {
        a.op(Insn::NextAsync { cursor: 0 });
        a.op(Insn::NextAwait {
            cursor: 0,
            target_if_more: top,
        });
    }
    a.bind(done);
    a.op(halt());
    run(db, conn, a.build())
        .unwrap()
        .rows
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Value::Integer(a), Value::Integer(b)) => (*a, *b),
            _ => panic!("{r:?}"),
        })
        .collect()
}

#[test]
fn index_prefix_seeks_with_duplicates_asc_and_desc() {
    for deferred in [false, true] {
        let db = mem_db(deferred);
        let conn = db.conn();
        let n = 200;
        // ASC: k = 3 exactly: SeekGE 3 while entry <= 3 (stop when entry > 3).
        let asc = ki(&[A]);
        let root = build_index(&db, &conn, &asc, n);
        let eq3: Vec<(i64, i64)> = (1..=n).filter(|r| r % 10 == 3).map(|r| (3, r)).collect();
        assert_eq!(
            range(&db, &conn, root, &asc, 3, SeekOp::GE, false, Cmp::Gt),
            eq3
        );
        // SeekGT 3 starts at the first 4.
        let gt = range(&db, &conn, root, &asc, 3, SeekOp::GT, false, Cmp::Gt);
        assert!(gt.is_empty(), "IdxCompare Gt 3 stops immediately at 4");
        let gt4 = range(&db, &conn, root, &asc, 3, SeekOp::GT, false, Cmp::Lt);
        assert_eq!(gt4[0], (4, 4));
        assert_eq!(gt4.len(), 120);
        // SeekLE 3 lands on the LAST 3 and walks back over all 3s.
        let mut le = range(&db, &conn, root, &asc, 3, SeekOp::LE, true, Cmp::Lt);
        assert_eq!(le[0], (3, 193));
        le.reverse();
        assert_eq!(le, eq3);
        // SeekLT 3 lands on the last 2.
        let lt = range(&db, &conn, root, &asc, 3, SeekOp::LT, true, Cmp::Gt);
        assert_eq!(lt[0], (2, 192));
        assert_eq!(lt.len(), 60);
        // Walking back from LT 3 and stopping below 2 gives the 2s only.
        let mut two = vec![];
        for (k, r) in &lt {
            if *k < 2 {
                break;
            }
            two.push((*k, *r));
        }
        assert_eq!(two.len(), 20);
        // Nothing >= 10.
        assert!(range(&db, &conn, root, &asc, 10, SeekOp::GE, false, Cmp::Gt).is_empty());

        // DESC: order is 9,9,..,0; GE 3 in index order = first entry at or after 3.
        let desc = ki(&[D]);
        let root = build_index(&db, &conn, &desc, n);
        assert_eq!(
            range(&db, &conn, root, &desc, 3, SeekOp::GE, false, Cmp::Gt),
            eq3
        );
        let after = range(&db, &conn, root, &desc, 3, SeekOp::GT, false, Cmp::Lt);
        assert_eq!(after[0], (2, 2), "after 3 in DESC order comes 2");
        assert_eq!(after.len(), 60);
        let mut le = range(&db, &conn, root, &desc, 3, SeekOp::LE, true, Cmp::Lt);
        le.reverse();
        assert_eq!(le, eq3);
    }
}

#[test]
fn found_noconflict_and_idx_delete() {
    let db = mem_db(true);
    let conn = db.conn();
    let asc = ki(&[A]);
    let root = build_index(&db, &conn, &asc, 50);
    // For keys 8..12: NoConflict? then IdxDelete (k, 8) / Found afterwards.
    let mut a = Asm::new();
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
        kind: CursorKind::Index {
            key_info: asc.clone(),
        },
    });
    a.op(Insn::OpenWriteAwait { cursor: 0 });
    for k in [8i64, 12] {
        let no = a.label();
        let next = a.label();
        a.op(Insn::Integer { value: k, dest: 1 });
        a.op(Insn::Integer { value: 0, dest: 0 });
        a.op(Insn::NoConflict {
            cursor: 0,
            key_start: 1,
            key_count: 1,
            target: no,
        });
        a.op(Insn::IdxRowid { cursor: 0, dest: 0 });
        a.bind(no);
        a.op(Insn::ResultRow { start: 0, count: 1 });
        a.op(Insn::Found {
            cursor: 0,
            key_start: 1,
            key_count: 1,
            target: next,
        });
        a.op(Insn::Integer { value: -1, dest: 2 });
        a.op(Insn::ResultRow { start: 2, count: 1 });
        a.bind(next);
    }
    // NULL never conflicts.
    let nul = a.label();
    a.op(Insn::Null { dest: 1, count: 1 });
    a.op(Insn::NoConflict {
        cursor: 0,
        key_start: 1,
        key_count: 1,
        target: nul,
    });
    a.op(Insn::Halt {
        error: Some((
            strata_vdbe::insn::ErrorCode::Error,
            "NULL conflicted".into(),
        )),
        on_error: Default::default(),
    });
    a.bind(nul);
    // Delete every entry with k = 8 (rowids 8, 18, 28, 38, 48).
    for r in [8i64, 18, 28, 38, 48, 99] {
        a.op(Insn::Integer { value: 8, dest: 1 });
        a.op(Insn::Integer { value: r, dest: 2 });
        a.op(Insn::IdxDeleteAsync {
            cursor: 0,
            key_start: 1,
            key_count: 2,
        });
        a.op(Insn::IdxDeleteAwait { cursor: 0 });
    }
    let gone = a.label();
    a.op(Insn::NotFound {
        cursor: 0,
        key_start: 1,
        key_count: 1,
        target: gone,
    });
    a.op(Insn::Halt {
        error: Some((strata_vdbe::insn::ErrorCode::Error, "still there".into())),
        on_error: Default::default(),
    });
    a.bind(gone);
    a.op(Insn::Count { cursor: 0, dest: 3 });
    a.op(Insn::ResultRow { start: 3, count: 1 });
    a.op(halt());
    let out = run(&db, &conn, a.build()).unwrap();
    assert_eq!(
        out.rows,
        vec![vec![int(8)], vec![int(0)], vec![int(-1)], vec![int(45)]]
    );
    assert!(out.ios > 0);
}

#[test]
fn ephemeral_index_is_a_set_and_ephemeral_table_numbers_rows() {
    let key = ki(&[A]);
    let mut a = Asm::new();
    let top = a.label();
    let done = a.label();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::OpenEphemeral {
        cursor: 0,
        kind: EphemeralKind::Index {
            key_info: key.clone(),
        },
    });
    a.op(Insn::OpenEphemeral {
        cursor: 1,
        kind: EphemeralKind::Table,
    });
    for v in [5i64, 3, 5, 1, 3, 3, 9] {
        let dup = a.label();
        a.op(Insn::Integer { value: v, dest: 1 });
        a.op(Insn::Found {
            cursor: 0,
            key_start: 1,
            key_count: 1,
            target: dup,
        });
        a.op(Insn::MakeRecord {
            start: 1,
            count: 1,
            dest: 2,
            affinities: None,
        });
        a.op(Insn::IdxInsertAsync {
            cursor: 0,
            record_reg: 2,
        });
        a.op(Insn::IdxInsertAwait { cursor: 0 });
        // Distinct values in first-seen order, numbered by NewRowid.
        a.op(Insn::NewRowidAsync {
            cursor: 1,
            dest: 3,
            min_reg: None,
        });
        a.op(Insn::NewRowidAwait { cursor: 1 });
        a.op(Insn::InsertAsync {
            cursor: 1,
            key_reg: 3,
            record_reg: 2,
            flags: Default::default(),
            table: String::new(),
        });
        a.op(Insn::InsertAwait { cursor: 1 });
        a.bind(dup);
    }
    // A duplicate IdxInsert is kept once.
    a.op(Insn::Integer { value: 9, dest: 1 });
    a.op(Insn::MakeRecord {
        start: 1,
        count: 1,
        dest: 2,
        affinities: None,
    });
    a.op(Insn::IdxInsertAsync {
        cursor: 0,
        record_reg: 2,
    });
    a.op(Insn::IdxInsertAwait { cursor: 0 });
    a.op(Insn::Count { cursor: 0, dest: 4 });
    a.op(Insn::ResultRow { start: 4, count: 1 });
    a.op(Insn::RewindAsync { cursor: 1 });
    a.op(Insn::RewindAwait {
        cursor: 1,
        target_if_empty: done,
    });
    a.bind(top);
    a.op(Insn::Rowid { cursor: 1, dest: 5 });
    a.op(Insn::Column {
        cursor: 1,
        column: 0,
        dest: 6,
        default: None,
    });
    a.op(Insn::ResultRow { start: 5, count: 2 });
    a.op(Insn::NextAsync { cursor: 1 });
    a.op(Insn::NextAwait {
        cursor: 1,
        target_if_more: top,
    });
    a.bind(done);
    a.op(halt());
    let db = mem_db(false);
    let conn = db.conn();
    let out = run(&db, &conn, a.build()).unwrap();
    assert_eq!(
        out.rows,
        vec![
            vec![int(4)],
            vec![int(1), int(5)],
            vec![int(2), int(3)],
            vec![int(3), int(1)],
            vec![int(4), int(9)],
        ]
    );
}

#[test]
fn sorter_is_ordered_and_stable_and_pseudo_reads_it() {
    // ORDER BY k DESC, carrying a payload column (insertion index) that must not be compared.
    let key = ki(&[D]);
    let mut a = Asm::new();
    let top = a.label();
    let done = a.label();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::SorterOpen {
        cursor: 0,
        key_info: key,
        num_columns: 2,
    });
    let keys = [2i64, 7, 2, 9, 7, 2, 1];
    for (i, k) in keys.iter().enumerate() {
        a.op(Insn::Integer { value: *k, dest: 1 });
        // Payload descending so a comparison of it would reverse equal keys.
        a.op(Insn::Integer {
            value: 100 - i as i64,
            dest: 2,
        });
        a.op(Insn::MakeRecord {
            start: 1,
            count: 2,
            dest: 3,
            affinities: None,
        });
        a.op(Insn::SorterInsert {
            cursor: 0,
            record_reg: 3,
        });
    }
    a.op(Insn::OpenPseudo {
        cursor: 1,
        content_reg: 4,
        num_columns: 2,
    });
    a.op(Insn::SorterSort {
        cursor: 0,
        target_if_empty: done,
    });
    a.bind(top);
    a.op(Insn::SorterData { cursor: 0, dest: 4 });
    a.op(Insn::Column {
        cursor: 1,
        column: 0,
        dest: 5,
        default: None,
    });
    a.op(Insn::Column {
        cursor: 1,
        column: 1,
        dest: 6,
        default: None,
    });
    a.op(Insn::ResultRow { start: 5, count: 2 });
    a.op(Insn::SorterNext {
        cursor: 0,
        target_if_more: top,
    });
    a.bind(done);
    a.op(halt());
    let db = mem_db(false);
    let conn = db.conn();
    let out = run(&db, &conn, a.build()).unwrap();
    let got: Vec<(Value, Value)> = out
        .rows
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    let want = vec![
        (9, 97),
        (7, 99),
        (7, 96),
        (2, 100),
        (2, 98),
        (2, 95),
        (1, 94),
    ];
    let want: Vec<(Value, Value)> = want.into_iter().map(|(a, b)| (int(a), int(b))).collect();
    assert_eq!(got, want);
}

#[test]
fn aggregates_over_a_table() {
    for deferred in [false, true] {
        let db = mem_db(deferred);
        let conn = db.conn();
        let root = create_btree(&db, &conn, false);
        run(&db, &conn, insert_rows_prog(root, &sample_rows(100))).unwrap();
        let mut a = Asm::new();
        let top = a.label();
        let done = a.label();
        a.op(Insn::Init { target: 1 });
        a.op(Insn::Transaction {
            db: 0,
            write: false,
            schema_cookie: 0,
        });
        a.op(Insn::Null { dest: 10, count: 4 });
        a.op(Insn::OpenReadAsync {
            db: 0,
            cursor: 0,
            root_page: root,
            root_reg: None,
            kind: CursorKind::Table { num_columns: 3 },
        });
        a.op(Insn::OpenReadAwait { cursor: 0 });
        a.op(Insn::RewindAsync { cursor: 0 });
        a.op(Insn::RewindAwait {
            cursor: 0,
            target_if_empty: done,
        });
        a.bind(top);
        a.op(Insn::Column {
            cursor: 0,
            column: 0,
            dest: 1,
            default: None,
        });
        for (kind, acc) in [
            (AggKind::CountStar, 10),
            (AggKind::Sum, 11),
            (AggKind::Max, 12),
            (AggKind::Avg, 13),
        ] {
            a.op(Insn::AggStep {
                kind,
                args_start: 1,
                nargs: if kind == AggKind::CountStar { 0 } else { 1 },
                acc_reg: acc,
                collation: Collation::Binary,
                skip_reg: None,
                subtype_args: Vec::new(),
            });
        }
        a.op(Insn::NextAsync { cursor: 0 });
        a.op(Insn::NextAwait {
            cursor: 0,
            target_if_more: top,
        });
        a.bind(done);
        for (kind, acc) in [
            (AggKind::CountStar, 10),
            (AggKind::Sum, 11),
            (AggKind::Max, 12),
            (AggKind::Avg, 13),
        ] {
            a.op(Insn::AggFinal {
                kind,
                acc_reg: acc,
                collation: Collation::Binary,
            });
        }
        // An aggregate that saw no rows.
        a.op(Insn::AggFinal {
            kind: AggKind::Count,
            acc_reg: 14,
            collation: Collation::Binary,
        });
        a.op(Insn::ResultRow {
            start: 10,
            count: 5,
        });
        a.op(halt());
        let out = run(&db, &conn, a.build()).unwrap();
        assert_eq!(
            out.rows,
            vec![vec![
                int(100),
                int(50500),
                int(1000),
                Value::Real(505.0),
                int(0)
            ]]
        );
    }
}
