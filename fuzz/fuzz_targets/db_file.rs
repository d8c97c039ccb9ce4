//! Arbitrary bytes as a database file (no WAL), opened and read end to end.
//!
//! Two input modes:
//! - raw: an input that starts with the SQLite magic is the file itself (the seed corpus
//!   holds real WAL-mode databases written by SQLite, for libFuzzer to mutate);
//! - structured: any other input picks one of those seed databases and applies a list of
//!   small patches (and perhaps a truncation) to it, so most inputs stay close to a valid
//!   file and reach deep into the B-tree code instead of failing the header check.
//!
//! The file is read twice: on an inline MemoryIo with a large cache, and on a shuffled
//! deferred MemoryIo with a tiny cache (every read goes Pending, completions arrive in
//! random order, pages are evicted). Both transcripts must be identical: a difference means
//! a resumed call did not continue exactly where it stopped. Errors are fine; a panic, a
//! hang, an OOM or a difference is a bug.
#![no_main]

use std::sync::Arc;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use strata_fuzz::scan_database;
use strata_io::{MemoryIo, IO};

const MAGIC: &[u8] = b"SQLite format 3\0";

/// The committed seed databases (see tools/gen_seeds.py), the bases of structured inputs.
const BASES: &[&[u8]] = &[
    include_bytes!("../seeds/db_file/ps512_table_index_overflow.db"),
    include_bytes!("../seeds/db_file/ps1024_twolevel_desc_withoutrowid_freelist.db"),
    include_bytes!("../seeds/db_file/ps512_deep_index.db"),
    include_bytes!("../seeds/db_file/ps512_empty_schema.db"),
];

#[derive(Arbitrary, Debug)]
struct Patch {
    offset: u16,
    bytes: [u8; 4],
    len: u8,
}

#[derive(Arbitrary, Debug)]
struct Structured {
    base: u8,
    truncate_to: Option<u16>,
    patches: Vec<Patch>,
}

fn build(data: &[u8]) -> Option<Vec<u8>> {
    if data.starts_with(MAGIC) {
        return Some(data.to_vec());
    }
    let s = Structured::arbitrary_take_rest(Unstructured::new(data)).ok()?;
    let mut file = BASES[s.base as usize % BASES.len()].to_vec();
    // Patches land anywhere in the file, but page headers, cell pointers and the database
    // header are where the interesting damage is; 16-bit offsets cover all of a seed.
    for p in s.patches.iter().take(32) {
        let start = p.offset as usize % file.len();
        let n = (p.len as usize % 4 + 1).min(file.len() - start);
        file[start..start + n].copy_from_slice(&p.bytes[..n]);
    }
    if let Some(t) = s.truncate_to {
        file.truncate(t as usize);
    }
    Some(file)
}

fn run(file: &[u8], io: MemoryIo, cache_size_pages: usize) -> String {
    io.set_file_contents("fuzz.db", file.to_vec());
    let io: Arc<dyn IO> = Arc::new(io);
    scan_database(io, "fuzz.db", cache_size_pages)
}

fuzz_target!(|data: &[u8]| {
    let Some(file) = build(data) else { return };
    let inline = run(&file, MemoryIo::new(), 2000);
    let seed = file.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let shuffled = run(&file, MemoryIo::new_shuffled(seed), 4);
    assert_eq!(
        inline, shuffled,
        "inline and deferred/shuffled reads of the same file differ"
    );
});
