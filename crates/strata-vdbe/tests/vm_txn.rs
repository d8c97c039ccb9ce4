//! Transactions through the VM: commit visibility, rollback, Busy, statement savepoints,
//! Halt error paths, schema cookie, reset/drop of unfinished statements.

mod vm_support;

use std::sync::Arc;

use strata_btree::record::Value;
use strata_vdbe::insn::{ErrorCode, Insn, OnError};
use strata_vdbe::program::Program;
use strata_vdbe::vm::{StepResult, Vm};
use vm_support::*;

fn autocommit(autocommit: bool, rollback: bool) -> Program {
    let mut a = Asm::new();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::AutoCommit {
        autocommit,
        rollback,
    });
    a.op(halt());
    a.build()
}

fn count(db: &Db, conn: &Arc<strata_vdbe::vm::Connection>, root: u32) -> usize {
    run(db, conn, scan_prog(root, 1, false)).unwrap().rows.len()
}

/// An insert program whose last instruction is replaced by an error halt.
fn failing_insert(root: u32, rows: &[(i64, Vec<Value>)], on_error: OnError) -> Program {
    let mut p = insert_rows_prog(root, rows);
    let last = p.insns.len() - 1;
    p.insns[last] = Insn::Halt {
        error: Some((
            ErrorCode::Constraint,
            "UNIQUE constraint failed: t.a".into(),
        )),
        on_error,
    };
    p
}

#[test]
fn commit_is_visible_to_another_connection_and_rollback_is_not() {
    for deferred in [false, true] {
        let db = mem_db(deferred);
        let c1 = db.conn();
        let c2 = db.conn();
        let root = create_btree(&db, &c1, false);
        run(&db, &c1, insert_rows_prog(root, &sample_rows(20))).unwrap();
        assert_eq!(count(&db, &c2, root), 20);
        assert!(!c1.pager().in_read_tx() && !c2.pager().in_read_tx());

        // BEGIN; INSERT; ROLLBACK.
        run(&db, &c1, autocommit(false, false)).unwrap();
        assert!(!c1.state().autocommit);
        run(&db, &c1, insert_rows_prog(root, &[(1000, vec![int(1)])])).unwrap();
        assert_eq!(count(&db, &c1, root), 21);
        assert!(c1.pager().in_write_tx());
        assert_eq!(count(&db, &c2, root), 20);
        run(&db, &c1, autocommit(true, true)).unwrap();
        assert!(c1.state().autocommit);
        assert_eq!(count(&db, &c1, root), 20);

        // BEGIN; INSERT; COMMIT.
        run(&db, &c1, autocommit(false, false)).unwrap();
        run(&db, &c1, insert_rows_prog(root, &[(1001, vec![int(1)])])).unwrap();
        run(&db, &c1, autocommit(true, false)).unwrap();
        assert_eq!(count(&db, &c2, root), 21);
        assert!(!c1.pager().in_read_tx());

        // Errors of AutoCommit.
        let e = run(&db, &c1, autocommit(true, false)).err().unwrap();
        assert_eq!(e.message, "cannot commit - no transaction is active");
        let e = run(&db, &c1, autocommit(true, true)).err().unwrap();
        assert_eq!(e.message, "cannot rollback - no transaction is active");
        run(&db, &c1, autocommit(false, false)).unwrap();
        let e = run(&db, &c1, autocommit(false, false)).err().unwrap();
        assert_eq!(e.message, "cannot start a transaction within a transaction");
        run(&db, &c1, autocommit(true, false)).unwrap();
    }
}

#[test]
fn second_writer_gets_busy_and_retries() {
    let db = mem_db(false);
    let c1 = db.conn();
    let c2 = db.conn();
    let root = create_btree(&db, &c1, false);
    run(&db, &c1, autocommit(false, false)).unwrap();
    run(&db, &c1, insert_rows_prog(root, &[(1, vec![int(1)])])).unwrap();
    // c2's write statement is Busy while c1 holds the write lock; nothing changes.
    let mut vm = Vm::new(
        Arc::new(insert_rows_prog(root, &[(2, vec![int(2)])])),
        c2.clone(),
    );
    assert_eq!(vm.step().unwrap(), StepResult::Busy);
    assert_eq!(vm.step().unwrap(), StepResult::Busy);
    assert!(!c2.pager().in_write_tx());
    run(&db, &c1, autocommit(true, false)).unwrap();
    // Retry succeeds now (from a fresh snapshot).
    drive(&mut vm, &*db.io).unwrap();
    assert_eq!(count(&db, &c1, root), 2);
    assert_eq!(c2.state().active_statements, 0);
}

#[test]
fn statement_savepoint_undoes_only_the_failing_statement() {
    for deferred in [false, true] {
        let db = mem_db(deferred);
        let c1 = db.conn();
        let c2 = db.conn();
        let root = create_btree(&db, &c1, false);
        run(&db, &c1, autocommit(false, false)).unwrap();
        run(&db, &c1, insert_rows_prog(root, &sample_rows(30))).unwrap();
        assert_eq!(c1.state().changes, 30);
        let rows: Vec<_> = (100..200)
            .map(|i| (i * 3 + 1, vec![int(i), text(&"x".repeat(200))]))
            .collect();
        let e = run(&db, &c1, failing_insert(root, &rows, OnError::Abort))
            .err()
            .unwrap();
        assert_eq!(e.code, ErrorCode::Constraint);
        assert_eq!(e.message, "UNIQUE constraint failed: t.a");
        assert_eq!(c1.state().changes, 0);
        assert!(!c1.state().autocommit, "Abort keeps the transaction");
        assert_eq!(count(&db, &c1, root), 30);
        // Fail keeps the statement's earlier changes.
        let e = run(&db, &c1, failing_insert(root, &rows[..5], OnError::Fail))
            .err()
            .unwrap();
        assert_eq!(e.code, ErrorCode::Constraint);
        assert_eq!(c1.state().changes, 5);
        assert_eq!(count(&db, &c1, root), 35);
        run(&db, &c1, autocommit(true, false)).unwrap();
        assert_eq!(count(&db, &c2, root), 35);

        // Rollback undoes the whole transaction and ends it.
        run(&db, &c1, autocommit(false, false)).unwrap();
        run(&db, &c1, insert_rows_prog(root, &rows[10..12])).unwrap();
        let e = run(
            &db,
            &c1,
            failing_insert(root, &rows[20..22], OnError::Rollback),
        )
        .err()
        .unwrap();
        assert_eq!(e.code, ErrorCode::Constraint);
        assert!(c1.state().autocommit);
        assert!(!c1.pager().in_read_tx());
        assert_eq!(count(&db, &c1, root), 35);
    }
}

#[test]
fn autocommit_errors_roll_back_and_halted_vm_stays_done() {
    let db = mem_db(true);
    let c1 = db.conn();
    let root = create_btree(&db, &c1, false);
    run(&db, &c1, insert_rows_prog(root, &sample_rows(10))).unwrap();
    let rows: Vec<_> = (100..150).map(|i| (i, vec![int(i)])).collect();
    let mut vm = Vm::new(
        Arc::new(failing_insert(root, &rows, OnError::Abort)),
        c1.clone(),
    );
    let e = loop {
        match vm.step() {
            Ok(StepResult::Io) => db.io.run_once().unwrap(),
            Ok(r) => panic!("unexpected {r:?}"),
            Err(e) => break e,
        }
    };
    assert_eq!(e.code, ErrorCode::Constraint);
    assert_eq!(vm.step().unwrap(), StepResult::Done);
    assert_eq!(vm.step().unwrap(), StepResult::Done);
    assert!(!c1.pager().in_read_tx());
    assert_eq!(count(&db, &c1, root), 10);
    // Fail in autocommit commits the earlier rows.
    let e = run(&db, &c1, failing_insert(root, &rows[..3], OnError::Fail))
        .err()
        .unwrap();
    assert_eq!(e.code, ErrorCode::Constraint);
    assert_eq!(count(&db, &c1, root), 13);
    // reset() reruns the statement from the start.
    vm.reset();
    let e = drive(&mut vm, &*db.io).err().unwrap();
    assert_eq!(e.code, ErrorCode::Constraint);
    assert_eq!(count(&db, &c1, root), 13);
}

#[test]
fn schema_cookie_mismatch() {
    let db = mem_db(false);
    let c1 = db.conn();
    let mut a = Asm::new();
    a.op(Insn::Init { target: 1 });
    a.op(Insn::Transaction {
        db: 0,
        write: false,
        schema_cookie: 7,
    });
    a.op(halt());
    let e = run(&db, &c1, a.build()).err().unwrap();
    assert_eq!(e.code, ErrorCode::Schema);
    assert_eq!(e.message, "database schema has changed");
    assert!(!c1.pager().in_read_tx());
    assert_eq!(c1.state().active_statements, 0);
}

#[test]
fn dropping_an_unfinished_writer_rolls_back() {
    let db = mem_db(true);
    let c1 = db.conn();
    let c2 = db.conn();
    let root = create_btree(&db, &c1, false);
    let rows: Vec<_> = (1..100).map(|i| (i, vec![int(i)])).collect();
    let mut p = insert_rows_prog(root, &rows);
    // A ResultRow in the middle lets us stop half-way.
    let mid = p.insns.len() / 2;
    p.insns.insert(mid, Insn::ResultRow { start: 0, count: 1 });
    p.comments.push(String::new());
    let mut vm = Vm::new(Arc::new(p), c1.clone());
    loop {
        match vm.step().unwrap() {
            StepResult::Io => db.io.run_once().unwrap(),
            StepResult::Row => break,
            r => panic!("{r:?}"),
        }
    }
    assert!(c1.pager().in_write_tx());
    drop(vm);
    assert!(!c1.pager().in_read_tx());
    assert_eq!(c1.state().active_statements, 0);
    assert_eq!(count(&db, &c2, root), 0);
    // And the writer lock is free again.
    run(&db, &c2, insert_rows_prog(root, &rows[..2])).unwrap();
    assert_eq!(count(&db, &c1, root), 2);
}

#[test]
fn reader_statement_survives_a_commit_by_the_same_connection() {
    let db = mem_db(false);
    let c1 = db.conn();
    let root = create_btree(&db, &c1, false);
    run(&db, &c1, insert_rows_prog(root, &sample_rows(40))).unwrap();
    let mut reader = Vm::new(Arc::new(scan_prog(root, 1, false)), c1.clone());
    assert_eq!(reader.step().unwrap(), StepResult::Row);
    let other = create_btree(&db, &c1, false);
    run(&db, &c1, insert_rows_prog(other, &sample_rows(3))).unwrap();
    assert!(c1.pager().in_read_tx(), "reader still active");
    let mut n = 1;
    while reader.step().unwrap() == StepResult::Row {
        n += 1;
    }
    assert_eq!(n, 40);
    assert!(!c1.pager().in_read_tx());
}
