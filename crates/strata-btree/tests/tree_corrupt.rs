//! Damaged pages give errors, never panics or hangs: random bytes of random pages of a
//! table and an index tree are overwritten (inside a write transaction that is then
//! rolled back), and scans, seeks, payload reads, inserts, deletes and the checker run
//! over the damage.

mod common;

use std::sync::Arc;

use common::{check_db, commit, open_db, run, Db};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strata_btree::check::check_tree;
use strata_btree::record::{encode_record, KeyInfo, Value, ValueRef};
use strata_btree::{create_btree, drop_btree, BTreeCursor, BTreeType, Result, SeekOp, TreeKind};

fn build(db: &Db) -> (u32, u32, Arc<KeyInfo>) {
    let ki = Arc::new(KeyInfo::default());
    db.pager.begin_write().unwrap();
    let table = run(&db.io, || create_btree(&db.pager, BTreeType::Table)).unwrap();
    let index = run(&db.io, || create_btree(&db.pager, BTreeType::Index)).unwrap();
    let mut t = BTreeCursor::new(db.pager.clone(), table, TreeKind::Table);
    let mut ix = BTreeCursor::new(db.pager.clone(), index, TreeKind::Index(ki.clone()));
    for k in 0..600i64 {
        let len = if k % 13 == 0 {
            1500
        } else {
            (k as usize * 7) % 90
        };
        let text = vec![b'a' + (k % 26) as u8; len];
        let mut rec = Vec::new();
        encode_record(&[ValueRef::Integer(k), ValueRef::Text(&text)], &mut rec);
        run(&db.io, || t.insert_rowid(k * 3, &rec)).unwrap();
        let mut key = Vec::new();
        encode_record(&[ValueRef::Text(&text), ValueRef::Integer(k)], &mut key);
        run(&db.io, || ix.insert_index(&key)).unwrap();
    }
    commit(db);
    (table, index, ki)
}

/// Runs every kind of operation; returns the first error (the point is not panicking).
fn exercise(db: &Db, root: u32, kind: TreeKind, rng: &mut ChaCha8Rng) -> Result<()> {
    let mut c = BTreeCursor::new(db.pager.clone(), root, kind.clone());
    run(&db.io, || c.rewind())?;
    let mut steps = 0;
    while !c.is_eof() && steps < 5000 {
        run(&db.io, || c.payload().map(|p| p.map(|b| b.len())))?;
        run(&db.io, || c.next())?;
        steps += 1;
    }
    run(&db.io, || c.last())?;
    while !c.is_eof() && steps < 10000 {
        run(&db.io, || c.prev())?;
        steps += 1;
    }
    let is_table = matches!(kind, TreeKind::Table);
    for _ in 0..20 {
        let k = rng.gen_range(-5..2000i64);
        if is_table {
            run(&db.io, || c.seek_rowid(k, SeekOp::LE))?;
            if rng.gen_bool(0.3) {
                run(&db.io, || {
                    c.insert_rowid(k, &vec![1u8; rng.gen_range(0..900)])
                })?;
            } else if !c.is_eof() {
                run(&db.io, || c.delete())?;
                run(&db.io, || c.next())?;
            }
            run(&db.io, || c.max_rowid())?;
        } else {
            let key = [Value::Text(vec![
                b'a' + (k % 26).unsigned_abs() as u8;
                (k % 40).unsigned_abs() as usize
            ])];
            run(&db.io, || c.seek_index(&key, SeekOp::GE))?;
            if rng.gen_bool(0.3) {
                let mut rec = Vec::new();
                encode_record(&[ValueRef::Text(b"zz"), ValueRef::Integer(k)], &mut rec);
                run(&db.io, || c.insert_index(&rec))?;
            } else if !c.is_eof() {
                run(&db.io, || c.delete())?;
                run(&db.io, || c.prev())?;
            }
        }
    }
    let usable = db.pager.usable_size();
    let size = db.pager.db_size_pages();
    let ki = match &kind {
        TreeKind::Index(ki) => Some(ki.clone()),
        TreeKind::Table => None,
    };
    let mut load = |n: u32| common::load_page(db, n);
    check_tree(&mut load, usable, size, root, ki.as_deref())?;
    Ok(())
}

#[test]
fn damaged_pages_are_errors_not_panics() {
    let db = open_db(1024, true);
    db.pager.set_cache_size_pages(16);
    let (table, index, ki) = build(&db);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let mut errors = 0;
    for round in 0..400 {
        db.pager.begin_write().unwrap();
        let size = db.pager.db_size_pages();
        for _ in 0..rng.gen_range(1..4) {
            let page_no = rng.gen_range(2..=size);
            let page = common::load_page(&db, page_no).unwrap();
            db.pager.mark_dirty(&page).unwrap();
            let mut d = page.data_mut();
            let len = d.len();
            // Damage the header and pointer array most of the time, else anywhere.
            let at = if rng.gen_bool(0.6) {
                rng.gen_range(0..40)
            } else {
                rng.gen_range(0..len)
            };
            let n = rng.gen_range(1..=4).min(len - at);
            for b in &mut d[at..at + n] {
                *b = if rng.gen_bool(0.5) {
                    rng.gen()
                } else {
                    *b ^ (1 << rng.gen_range(0..8))
                };
            }
        }
        let r1 = exercise(&db, table, TreeKind::Table, &mut rng);
        let r2 = exercise(&db, index, TreeKind::Index(ki.clone()), &mut rng);
        errors += usize::from(r1.is_err()) + usize::from(r2.is_err());
        if round % 10 == 0 {
            let _ = run(&db.io, || drop_btree(&db.pager, table));
        }
        db.pager.rollback().unwrap();
    }
    assert!(errors > 100, "damage must be detected ({errors} errors)");
    // The undamaged database is intact after all the rollbacks.
    db.pager.begin_read().unwrap();
    check_db(&db, &[(table, None), (index, Some(&ki))]);
    db.pager.end_read();
}
