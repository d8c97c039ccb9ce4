//! Arbitrary bytes as a database file, opened through the SQL API and queried: the
//! schema, every table and index (full scans, a seek, a count), and integrity_check.
//! Inputs that start with the SQLite magic are the file; others patch one of the committed
//! seed databases (see `db_file`). Errors are fine; a panic, a hang or a memory blow-up
//! is a bug.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use strata_fuzz::strata_run;
use strata_io::{MemoryIo, IO};

const BASES: &[&[u8]] = &[
    include_bytes!("../seeds/db_file/ps512_table_index_overflow.db"),
    include_bytes!("../seeds/db_file/ps1024_twolevel_desc_withoutrowid_freelist.db"),
    include_bytes!("../seeds/db_file/ps512_deep_index.db"),
];

fn build(data: &[u8]) -> Vec<u8> {
    if data.starts_with(b"SQLite format 3\0") || data.is_empty() {
        return data.to_vec();
    }
    let mut file = BASES[data[0] as usize % BASES.len()].to_vec();
    for chunk in data[1..].chunks(4) {
        if chunk.len() < 4 || file.is_empty() {
            break;
        }
        let off = u16::from_le_bytes([chunk[0], chunk[1]]) as usize % file.len();
        file[off] = chunk[2];
        if off + 1 < file.len() {
            file[off + 1] ^= chunk[3];
        }
    }
    file
}

fuzz_target!(|data: &[u8]| {
    let file = build(data);
    let io = Arc::new(MemoryIo::new());
    {
        let f = io
            .open_file("fuzz.db", strata_io::OpenFlags::CREATE)
            .expect("create");
        let c = strata_io::Completion::write(file);
        f.pwrite(0, &c).expect("write");
        while !c.is_done() {
            io.run_once().expect("run");
        }
    }
    let Ok(db) = strata::Database::open_with_io("fuzz.db", io) else {
        return;
    };
    let conn = db.connect();
    let names = strata_run(&conn, "SELECT type, name FROM sqlite_schema", 1_000_000);
    let mut sql = String::from("PRAGMA integrity_check;");
    if let Some(Ok(rows)) = names.first() {
        for r in rows.iter().take(16) {
            let mut parts = r.splitn(2, '|');
            let (kind, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let name = name.trim_start_matches('t').replace('"', "\"\"");
            if kind == "ttable" {
                sql.push_str(&format!(
                    "SELECT * FROM \"{name}\" LIMIT 500; SELECT count(*) FROM \"{name}\"; SELECT * FROM \"{name}\" WHERE rowid = 3;"
                ));
            }
        }
    }
    let _ = strata_run(&conn, &sql, 5_000_000);
});
