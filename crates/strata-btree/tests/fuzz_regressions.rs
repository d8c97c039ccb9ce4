//! Inputs the fuzzers found that broke the B-tree, kept as regression tests. Each file
//! lives under `fuzz/regressions/<target>/` and is replayed here on every test run.

use std::sync::Arc;

use strata_btree::record::{decode_record, ValueRef};
use strata_btree::{BTreeCursor, Error, TreeKind};
use strata_io::{block_on, MemoryIo, IO};
use strata_pager::{Storage, StorageOptions};

/// Scans every table tree the schema names, reading each payload; returns the first error.
fn scan_all_tables(bytes: &[u8]) -> Result<usize, Error> {
    scan_all_tables_with_wal(bytes, None)
}

/// [`scan_all_tables`] with `wal` as the database's `-wal` file (recovered at open).
fn scan_all_tables_with_wal(bytes: &[u8], wal: Option<&[u8]>) -> Result<usize, Error> {
    let memory = MemoryIo::new();
    memory.set_file_contents("fuzz.db", bytes.to_vec());
    if let Some(wal) = wal {
        memory.set_file_contents("fuzz.db-wal", wal.to_vec());
    }
    let io: Arc<dyn IO> = Arc::new(memory);
    let storage = Storage::open(io.clone(), "fuzz.db", StorageOptions::default())?;
    let pager = storage.pager();
    pager.begin_read()?;
    let mut roots = Vec::new();
    let mut schema = BTreeCursor::new(pager.clone(), 1, TreeKind::Table);
    block_on(io.as_ref(), || schema.rewind())?;
    while !schema.is_eof() {
        let payload = block_on(io.as_ref(), || {
            schema.payload().map(|p| p.map(|p| p.to_vec()))
        })?;
        let row = decode_record(&payload)?;
        if let (Some(ValueRef::Text(b"table")), Some(ValueRef::Integer(root))) =
            (row.first(), row.get(3))
        {
            roots.push(*root as u32);
        }
        block_on(io.as_ref(), || schema.next())?;
    }
    let mut rows = 0;
    for root in roots {
        let mut cursor = BTreeCursor::new(pager.clone(), root, TreeKind::Table);
        block_on(io.as_ref(), || cursor.rewind())?;
        while !cursor.is_eof() {
            block_on(io.as_ref(), || cursor.payload().map(|p| p.map(|p| p.len())))?;
            rows += 1;
            block_on(io.as_ref(), || cursor.next())?;
        }
    }
    Ok(rows)
}

/// A 4 KiB file whose cell claims a 2 GiB payload continued on an overflow page that links
/// to itself: reading the row allocated 2 GiB (libFuzzer: out-of-memory). A chain can never
/// have more pages than the file, so the read must fail as corrupt instead.
#[test]
fn overflow_cycle_claiming_a_2gib_payload_is_corrupt() {
    let bytes = include_bytes!("../../../fuzz/regressions/db_file/overflow_cycle_2gib_payload.db");
    match scan_all_tables(bytes) {
        // The bound by database size refuses the claim before any overflow page is read
        // (the revisit check would stop the walk too, one page later: it is not what
        // rejects this file).
        Err(Error::Corrupt(message)) => assert!(
            message.contains("overflow chain of") && message.contains("pages in a database of"),
            "{message}"
        ),
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
}

/// The same cycle where the database size comes from a WAL commit frame (0xFFFFFFF0
/// pages) over a 3-page file: the bound by database size let a 1 TiB payload through, and
/// reading it appended the self-linked page until memory ran out (libFuzzer, `wal_file`:
/// out-of-memory). The walk now fails at the first revisited page; the structural checker
/// too (it walked the same chain).
#[test]
fn overflow_cycle_under_a_wal_database_size_is_corrupt() {
    let base = include_bytes!("../../../fuzz/fixtures/wal_base.db");
    let wal =
        include_bytes!("../../../fuzz/regressions/wal_file/overflow_cycle_under_wal_db_size.wal");
    match scan_all_tables_with_wal(base, Some(wal)) {
        Err(Error::Corrupt(message)) => {
            assert!(message.contains("revisits page 4"), "{message}")
        }
        other => panic!("expected a Corrupt error, got {other:?}"),
    }

    let memory = MemoryIo::new();
    memory.set_file_contents("fuzz.db", base.to_vec());
    memory.set_file_contents("fuzz.db-wal", wal.to_vec());
    let io: Arc<dyn IO> = Arc::new(memory);
    let storage = Storage::open(io.clone(), "fuzz.db", StorageOptions::default()).unwrap();
    let pager = storage.pager();
    pager.begin_read().unwrap();
    assert_eq!(pager.db_size_pages(), 0xFFFF_FFF0);
    let mut load = |n: u32| -> strata_btree::Result<strata_pager::PageRef> {
        Ok(block_on(io.as_ref(), || pager.get_page(n))?)
    };
    match strata_btree::check::check_tree(&mut load, pager.usable_size(), 0xFFFF_FFF0, 2, None) {
        Err(Error::Corrupt(message)) => {
            assert!(message.contains("revisits page 4"), "{message}")
        }
        other => panic!("expected a Corrupt error from the checker, got {other:?}"),
    }
}
