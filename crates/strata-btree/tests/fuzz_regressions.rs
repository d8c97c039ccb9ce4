//! Inputs the fuzzers found that broke the B-tree, kept as regression tests. Each file
//! lives under `fuzz/regressions/<target>/` and is replayed here on every test run.

use std::sync::Arc;

use strata_btree::record::{decode_record, ValueRef};
use strata_btree::{BTreeCursor, Error, TreeKind};
use strata_io::{block_on, MemoryIo, IO};
use strata_pager::{Storage, StorageOptions};

/// Scans every table tree the schema names, reading each payload; returns the first error.
fn scan_all_tables(bytes: &[u8]) -> Result<usize, Error> {
    let memory = MemoryIo::new();
    memory.set_file_contents("fuzz.db", bytes.to_vec());
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
        Err(Error::Corrupt(message)) => assert!(message.contains("overflow chain"), "{message}"),
        other => panic!("expected a Corrupt error, got {other:?}"),
    }
}
