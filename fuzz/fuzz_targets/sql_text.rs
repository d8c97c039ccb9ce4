//! The SQL text path: arbitrary text is parsed, planned and run on a small database
//! (tables with indexes and rows, on a MemoryIo with shuffled completions; the database is
//! built once and each input starts from a copy of its bytes). Errors are
//! fine; a panic, a hang (a statement stepping forever) or a memory blow-up is a bug.
//! Afterwards `PRAGMA integrity_check` must run and say `ok` (whatever ran, the file must
//! stay consistent); an integrity_check that itself fails is a finding.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use strata_fuzz::strata_run;

const SETUP: &str = "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER UNIQUE, a, b TEXT);\
CREATE INDEX t_a ON t(a); CREATE TABLE u(x, y, z); CREATE INDEX u_yz ON u(y, z DESC);\
INSERT INTO t VALUES (1, 10, 1, 'one'), (2, 20, 2.5, 'two'), (3, NULL, NULL, NULL), (4, 40, 'x', 'four');\
INSERT INTO u VALUES (1, 'a', x'00ff'), (2, 'b', 3.5), (NULL, NULL, NULL);";

/// The database file (and WAL, if closing left one) that [`SETUP`] leaves, built once: each
/// input starts from a copy of these bytes instead of running the DDL and INSERTs again
/// (whose parsing and schema reloads were most of an input's time).
fn template() -> &'static (Vec<u8>, Option<Vec<u8>>) {
    static T: std::sync::OnceLock<(Vec<u8>, Option<Vec<u8>>)> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let io = Arc::new(strata_io::MemoryIo::new());
        let db = strata::Database::open_with_io("text.db", io.clone()).expect("open");
        let conn = db.connect();
        conn.execute_batch(SETUP).expect("setup");
        drop(conn);
        drop(db);
        let wal = io.file_contents("text.db-wal").filter(|w| !w.is_empty());
        (io.file_contents("text.db").expect("template file"), wal)
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.len() > 4096 {
        return;
    }
    let options = strata_io::MemoryIoOptions {
        shuffle_seed: Some(data.len() as u64),
        ..Default::default()
    };
    let io = Arc::new(strata_io::MemoryIo::with_options(options));
    let (file, wal) = template();
    io.set_file_contents("text.db", file.clone());
    if let Some(wal) = wal {
        io.set_file_contents("text.db-wal", wal.clone());
    }
    let db = strata::Database::open_with_io("text.db", io).expect("open");
    let conn = db.connect();
    let _ = strata_run(&conn, text, 2_000_000);
    // Leave any transaction the input opened, then check the file.
    let _ = strata_run(&conn, "ROLLBACK", 1_000_000);
    // An integrity_check that fails to run (whatever the error) is a finding too: after
    // the ROLLBACK nothing is running, so nothing may keep it from reading the file.
    let check = strata_run(&conn, "PRAGMA integrity_check", 1_000_000);
    match check.first() {
        Some(Ok(rows)) => assert_eq!(
            rows,
            &vec!["tok".to_string()],
            "integrity_check after: {text}"
        ),
        Some(Err(e)) => panic!("integrity_check failed to run ({e}) after: {text}"),
        None => panic!("integrity_check returned nothing after: {text}"),
    }
});
