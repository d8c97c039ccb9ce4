//! Compatibility with real SQLite (bundled through rusqlite), both ways:
//! a WAL written by SQLite is read (and checkpointed) by Strata, and a WAL written by
//! Strata is read, verified and extended by SQLite.

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;
use strata_io::{block_on, Completion, OpenFlags, SyscallIo, IO};
use strata_wal::{CheckpointMode, SyncMode, Wal, WalOptions};

const SQLITE_PAGE_SIZE: usize = 4096;

fn io() -> Arc<dyn IO> {
    Arc::new(SyscallIo::new())
}

fn open_wal(io: &Arc<dyn IO>, path: &Path) -> Arc<Wal> {
    Wal::open(
        io.clone(),
        path.to_str().unwrap(),
        SQLITE_PAGE_SIZE,
        WalOptions {
            sync_mode: SyncMode::Full,
        },
    )
    .expect("open WAL")
}

fn read_frame(io: &Arc<dyn IO>, wal: &Wal, frame_no: u64) -> Vec<u8> {
    let c = Completion::read(wal.page_size());
    wal.read_frame(frame_no, &c).unwrap();
    assert_eq!(strata_io::wait(io.as_ref(), &c).unwrap(), wal.page_size());
    c.take_buf()
}

fn wal_connection(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=FULL;")
        .unwrap();
    conn
}

fn fill(conn: &Connection, transactions: u32) {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, body BLOB)")
        .unwrap();
    for txn in 0..transactions {
        let tx = conn.unchecked_transaction().unwrap();
        for i in 0..50 {
            let body = vec![(txn * 7 + i) as u8; 300];
            tx.execute("INSERT INTO t(body) VALUES (?1)", [body])
                .unwrap();
        }
        tx.commit().unwrap();
    }
}

#[test]
fn sqlite_compat_strata_reads_and_checkpoints_a_wal_written_by_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sq.db");
    let conn = wal_connection(&db);
    fill(&conn, 6);
    conn.execute("UPDATE t SET body = x'00' WHERE id % 3 = 0", [])
        .unwrap();

    // Copy the database and its WAL aside while SQLite still has them open (uncheckpointed).
    let copy_db = dir.path().join("copy.db");
    let copy_wal = dir.path().join("copy.db-wal");
    std::fs::copy(&db, &copy_db).unwrap();
    std::fs::copy(dir.path().join("sq.db-wal"), &copy_wal).unwrap();
    let wal_len = std::fs::metadata(&copy_wal).unwrap().len() as usize;
    assert!(wal_len > 32, "SQLite left frames in the WAL");

    let io = io();
    let wal = open_wal(&io, &copy_wal);
    assert_eq!(wal.page_size(), SQLITE_PAGE_SIZE);
    let frames_in_file = ((wal_len - 32) / (24 + SQLITE_PAGE_SIZE)) as u64;
    assert_eq!(
        wal.max_frame(),
        frames_in_file,
        "every frame SQLite wrote is committed"
    );

    let snap = wal.begin_read();
    assert!(snap.reads_wal);
    let page_count: u32 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    assert_eq!(snap.db_size_pages, Some(page_count));
    let frame = wal.find_frame(&snap, 1).expect("page 1 is in the WAL");
    let page1 = read_frame(&io, &wal, frame);
    assert_eq!(&page1[..16], b"SQLite format 3\0");
    wal.end_read(&snap);

    // Checkpoint our copy with Strata, the original with SQLite: the files must be equal.
    let db_file = io
        .open_file(copy_db.to_str().unwrap(), OpenFlags::READ_WRITE)
        .unwrap();
    let mut ckpt = wal.checkpoint(db_file, CheckpointMode::Full);
    let result = block_on(io.as_ref(), || ckpt.poll()).unwrap();
    assert!(!result.busy);
    assert_eq!(result.checkpointed_frames, frames_in_file);
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let ours = std::fs::read(&copy_db).unwrap();
    let theirs = std::fs::read(&db).unwrap();
    assert_eq!(ours.len(), theirs.len());
    assert!(ours == theirs, "Strata's checkpoint differs from SQLite's");
    drop(wal);

    // And SQLite accepts the checkpointed copy.
    let check = Connection::open(&copy_db).unwrap();
    let ok: String = check
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let rows: i64 = check
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 300);
}

fn set_user_version(page1: &mut [u8], version: u32) {
    // Offset 60 of the database header: the user version, big-endian.
    page1[60..64].copy_from_slice(&version.to_be_bytes());
}

fn commit(io: &Arc<dyn IO>, wal: &Wal, pages: Vec<(u32, Vec<u8>)>, db_size_pages: u32) -> u64 {
    let snap = wal.begin_read();
    wal.begin_write(&snap).unwrap();
    let mut append = wal.append(pages, db_size_pages);
    let max_frame = block_on(io.as_ref(), || append.poll()).unwrap();
    wal.end_write();
    wal.end_read(&snap);
    max_frame
}

#[test]
fn sqlite_compat_sqlite_reads_and_extends_a_wal_written_by_strata() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("st.db");
    {
        let conn = wal_connection(&db);
        fill(&conn, 3);
        // Closing the last connection checkpoints and deletes the WAL.
    }
    let wal_path = dir.path().join("st.db-wal");
    assert!(!wal_path.exists());
    let bytes = std::fs::read(&db).unwrap();
    let db_size_pages = (bytes.len() / SQLITE_PAGE_SIZE) as u32;
    let mut page1 = bytes[..SQLITE_PAGE_SIZE].to_vec();

    let io = io();
    let wal = open_wal(&io, &wal_path);
    set_user_version(&mut page1, 42);
    assert_eq!(
        commit(&io, &wal, vec![(1, page1.clone())], db_size_pages),
        1
    );
    set_user_version(&mut page1, 43);
    // Rewrite the last page unchanged too, so the second commit has two frames.
    let last = db_size_pages as usize;
    let last_page = bytes[(last - 1) * SQLITE_PAGE_SIZE..last * SQLITE_PAGE_SIZE].to_vec();
    assert_eq!(
        commit(
            &io,
            &wal,
            vec![(last as u32, last_page), (1, page1.clone())],
            db_size_pages
        ),
        3
    );
    let our_frames: Vec<Vec<u8>> = (1..=3).map(|f| read_frame(&io, &wal, f)).collect();
    drop(wal);
    // The database file itself was not touched: only the WAL holds the change.
    assert_eq!(std::fs::read(&db).unwrap(), bytes);

    let conn = Connection::open(&db).unwrap();
    conn.execute_batch("PRAGMA wal_autocheckpoint=0").unwrap();
    let version: u32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 43, "SQLite sees the newest commit in our WAL");
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 150);

    // SQLite appends to our WAL: its frames chain onto our checksums and salts.
    conn.execute("INSERT INTO t(body) VALUES (x'aa')", [])
        .unwrap();
    let copy_wal = dir.path().join("copy.db-wal");
    std::fs::copy(&wal_path, &copy_wal).unwrap();
    let wal = open_wal(&io, &copy_wal);
    assert!(
        wal.max_frame() > 3,
        "SQLite's frames follow ours: {}",
        wal.max_frame()
    );
    for (i, frame) in our_frames.iter().enumerate() {
        assert_eq!(&read_frame(&io, &wal, i as u64 + 1), frame);
    }
    drop(conn);
}
