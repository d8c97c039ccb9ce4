//! Strata as the embedded replica (`strata::Builder::new_remote_replica`, feature
//! `replica`) against a real `strata-server` on loopback: bootstrap, sync, local reads,
//! refusals (local writes, foreign files, another primary, bad tokens), generation
//! changes, snapshot isolation of readers during a sync, and crash states of the
//! metadata. Every replica file is finally opened with SQLite and compared with the
//! primary's rows.

mod common;

use std::path::Path;

use common::*;
use serde_json::{json, Value as Json};

fn insert(s: &TestServer, a: i64, b: &str) {
    let r = s.execute(
        "INSERT INTO t(a, b) VALUES (?, ?)",
        json!([{"type": "integer", "value": a.to_string()}, {"type": "text", "value": b}]),
    );
    assert!(r.get("affected_row_count").is_some(), "{r}");
}

fn url(s: &TestServer) -> String {
    format!("http://{}", s.addr)
}

fn replica(s: &TestServer, path: &Path) -> strata::Database {
    strata::Builder::new_remote_replica(path, url(s), "")
        .build()
        .expect("replica builds")
}

/// The primary's rows as `a|b` strings.
fn primary_rows(s: &TestServer) -> Vec<String> {
    let r = s.execute("SELECT a, b FROM t ORDER BY a", json!([]));
    r["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| {
            let v = |c: &Json| c["value"].as_str().map(str::to_string).unwrap_or_default();
            format!("{}|{}", v(&row[0]), v(&row[1]))
        })
        .collect()
}

fn replica_rows(db: &strata::Database) -> Vec<String> {
    replica_rows_on(&db.connect())
}

/// SQLite opens the (closed) replica file: integrity_check ok, the primary's rows.
fn sqlite_agrees(s: &TestServer, path: &Path) {
    let c = rusqlite::Connection::open(path).expect("sqlite opens the replica");
    let ic: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(ic, "ok");
    let mut stmt = c.prepare("SELECT a, b FROM t ORDER BY a").unwrap();
    let rows: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}|{}",
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, primary_rows(s));
}

fn setup(s: &TestServer, rows: i64) {
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    for i in 0..rows {
        insert(s, i, &format!("row {i}"));
    }
}

#[test]
fn bootstraps_syncs_and_reads_locally() {
    let s = TestServer::start(|_| {});
    setup(&s, 20);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("local.db");
    let db = replica(&s, &path);
    // The bootstrap image already holds everything committed before it.
    assert_eq!(replica_rows(&db), primary_rows(&s));
    for i in 20..300 {
        insert(&s, i, &"x".repeat((i % 7 * 300) as usize));
    }
    s.execute("DELETE FROM t WHERE a % 3 = 0", json!([]));
    let report = db.sync().expect("sync");
    assert!(report.frames_synced > 0, "{report:?}");
    assert!(report.frame_no.is_some());
    assert_eq!(replica_rows(&db), primary_rows(&s));
    // Caught up: a second sync pulls nothing.
    let again = db.sync().expect("sync");
    assert_eq!(again.frames_synced, 0);
    assert_eq!(again.frame_no, report.frame_no);
    // A schema change reaches the replica's connections.
    s.execute("CREATE INDEX tb ON t(b)", json!([]));
    s.execute("ALTER TABLE t ADD COLUMN c INT DEFAULT 7", json!([]));
    db.sync().expect("sync");
    let c: i64 = db
        .connect()
        .query_row(
            "SELECT sum(c) FROM t INDEXED BY tb WHERE b >= ''",
            (),
            |r| r.get(0),
        )
        .expect("new column and index");
    assert_eq!(c, 7 * primary_rows(&s).len() as i64);
    drop(db);
    sqlite_agrees(&s, &path);
    // Warm start on the existing files, then more writes.
    let db = replica(&s, &path);
    insert(&s, 1000, "after restart");
    db.sync().expect("sync");
    assert_eq!(replica_rows(&db), primary_rows(&s));
    drop(db);
    sqlite_agrees(&s, &path);
    // Page for page the primary's database: checkpoint both (SQLite), compare files.
    let mut s = s;
    s.stop();
    let primary = s.data_dir().join("default.db");
    assert_eq!(checkpointed_bytes(&primary), checkpointed_bytes(&path));
}

/// The database file after SQLite checkpointed its WAL into it.
fn checkpointed_bytes(path: &Path) -> Vec<u8> {
    let c = rusqlite::Connection::open(path).unwrap();
    let (busy, _, _): (i64, i64, i64) = c
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!(busy, 0);
    drop(c);
    std::fs::read(path).unwrap()
}

#[test]
fn writes_run_on_the_primary_and_are_read_back() {
    let s = TestServer::start(|_| {});
    setup(&s, 3);
    let dir = tempfile::tempdir().unwrap();
    let db = replica(&s, &dir.path().join("r.db"));
    let other = replica(&s, &dir.path().join("o.db"));
    let conn = db.connect();
    // One write: forwarded, counted, and read back at once (read-your-writes).
    assert_eq!(
        conn.execute("INSERT INTO t VALUES (10, 'ten')", ())
            .unwrap(),
        1
    );
    assert_eq!(conn.last_insert_rowid(), 10);
    assert_eq!(replica_rows_on(&conn), primary_rows(&s));
    assert_eq!(
        conn.execute("UPDATE t SET b = b || '!' WHERE a < 2", ())
            .unwrap(),
        2
    );
    assert_eq!(conn.changes(), 2);
    assert_eq!(replica_rows_on(&conn), primary_rows(&s));
    // Errors come back as SQLite's.
    let e = conn
        .execute("INSERT INTO t VALUES (10, 'again')", ())
        .expect_err("duplicate key");
    assert_eq!(e.code(), strata::ErrorCode::Constraint, "{e}");
    assert_eq!(e.to_string(), "UNIQUE constraint failed: t.a");
    // RETURNING rows and bound parameters travel both ways.
    let mut stmt = conn
        .prepare("INSERT INTO t VALUES (?1, ?2) RETURNING a * 2, b")
        .unwrap();
    let got: Vec<(i64, String)> = stmt
        .query_map(strata::params![11, "eleven"], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap()
        .collect::<strata::Result<_>>()
        .unwrap();
    assert_eq!(got, [(22, "eleven".to_string())]);
    // A transaction rolled back on the primary leaves nothing.
    conn.execute_batch("BEGIN; INSERT INTO t VALUES (20, 'x'); INSERT INTO t VALUES (21, 'y')")
        .unwrap();
    assert!(!conn.is_autocommit());
    let inside: i64 = conn
        .query_row("SELECT count(*) FROM t WHERE a >= 20", (), |r| r.get(0))
        .unwrap();
    assert_eq!(inside, 2, "reads inside the transaction run on the primary");
    conn.execute_batch("ROLLBACK").unwrap();
    assert!(conn.is_autocommit());
    assert_eq!(replica_rows_on(&conn), primary_rows(&s));
    // A committed one is read back, and reaches the other replica with its sync.
    {
        let tx = conn.transaction().unwrap();
        tx.execute("INSERT INTO t VALUES (30, 'a')", ()).unwrap();
        tx.execute("INSERT INTO t VALUES (31, 'b')", ()).unwrap();
        tx.commit().unwrap();
    }
    assert_eq!(replica_rows_on(&conn), primary_rows(&s));
    assert!(primary_rows(&s).contains(&"31|b".to_string()));
    other.sync().unwrap();
    assert_eq!(replica_rows(&other), primary_rows(&s));
    // Schema changes too.
    conn.execute_batch("CREATE TABLE u(x); INSERT INTO u VALUES (1), (2)")
        .unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM u", (), |r| r.get(0))
        .unwrap();
    assert_eq!(n, 2);
}

fn replica_rows_on(conn: &strata::Connection) -> Vec<String> {
    conn.query_map("SELECT a, b FROM t ORDER BY a", (), |r| {
        Ok(format!(
            "{}|{}",
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?
        ))
    })
    .expect("query")
    .collect::<strata::Result<Vec<_>>>()
    .expect("rows")
}

#[test]
fn without_read_your_writes_a_write_is_seen_at_the_next_sync() {
    let s = TestServer::start(|_| {});
    setup(&s, 1);
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Builder::new_remote_replica(dir.path().join("r.db"), url(&s), "")
        .read_your_writes(false)
        .build()
        .unwrap();
    let conn = db.connect();
    conn.execute("INSERT INTO t VALUES (5, 'five')", ())
        .unwrap();
    assert_eq!(replica_rows_on(&conn), ["0|row 0"]);
    db.sync().unwrap();
    assert_eq!(replica_rows_on(&conn), ["0|row 0", "5|five"]);
}

#[test]
fn refuses_files_it_did_not_make_and_another_primary() {
    let s = TestServer::start(|_| {});
    setup(&s, 2);
    let dir = tempfile::tempdir().unwrap();
    // An ordinary database file: refused, not overwritten.
    let plain = dir.path().join("plain.db");
    {
        let c = rusqlite::Connection::open(&plain).unwrap();
        c.execute_batch("CREATE TABLE mine(x); INSERT INTO mine VALUES (42)")
            .unwrap();
    }
    let before = std::fs::read(&plain).unwrap();
    let e = strata::Builder::new_remote_replica(&plain, url(&s), "")
        .build()
        .expect_err("a file without replica metadata");
    assert!(e.to_string().contains("no replica metadata"), "{e}");
    assert_eq!(std::fs::read(&plain).unwrap(), before);
    // A replica of one primary opened against another: refused.
    let path = dir.path().join("r.db");
    drop(replica(&s, &path));
    let other = TestServer::start(|_| {});
    setup(&other, 1);
    let e = strata::Builder::new_remote_replica(&path, url(&other), "")
        .build()
        .expect_err("another primary");
    assert!(e.to_string().contains("is a replica of"), "{e}");
    // Metadata damaged: refused with a clear error.
    let meta = dir.path().join("r.db-info");
    let m = strata_sync::ReplicaMeta::from_json(&std::fs::read(&meta).unwrap()).unwrap();
    let text = m.to_json().replace(
        &format!("\"generation\":{}", m.generation),
        &format!("\"generation\":{}", m.generation + 1),
    );
    assert_ne!(text, m.to_json());
    std::fs::write(&meta, text).unwrap();
    let e = strata::Builder::new_remote_replica(&path, url(&s), "")
        .build()
        .expect_err("damaged metadata");
    assert!(e.to_string().contains("-info"), "{e}");
}

#[test]
fn interrupted_bootstrap_restarts_and_stale_metadata_catches_up() {
    let s = TestServer::start(|_| {});
    setup(&s, 10);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    // A crash during the first download left only a partial image.
    std::fs::write(dir.path().join("r.db.bootstrap"), b"partial").unwrap();
    let db = replica(&s, &path);
    assert_eq!(replica_rows(&db), primary_rows(&s));
    assert!(!dir.path().join("r.db.bootstrap").exists());
    for i in 10..60 {
        insert(&s, i, "more");
    }
    db.sync().expect("sync");
    drop(db);
    // A crash after the WAL commit and before the metadata write: the metadata is
    // behind the data. Re-applying the frames ends in the same state.
    let meta = dir.path().join("r.db-info");
    let m = strata_sync::ReplicaMeta::from_json(&std::fs::read(&meta).unwrap()).unwrap();
    assert!(m.durable_frame_num > 0);
    let stale = strata_sync::ReplicaMeta::new(m.generation, 0);
    std::fs::write(&meta, stale.to_json()).unwrap();
    let db = replica(&s, &path);
    let report = db.sync().expect("sync");
    assert_eq!(report.generation, m.generation);
    assert_eq!(
        report.frames_synced, m.durable_frame_num as u64,
        "all frames again"
    );
    assert_eq!(replica_rows(&db), primary_rows(&s));
    drop(db);
    sqlite_agrees(&s, &path);
}

#[test]
fn readers_keep_their_snapshot_during_a_sync() {
    let s = TestServer::start(|_| {});
    setup(&s, 5);
    let dir = tempfile::tempdir().unwrap();
    let db = replica(&s, &dir.path().join("r.db"));
    let reader = db.connect();
    let count = |c: &strata::Connection| -> i64 {
        c.query_row("SELECT count(*) FROM t", (), |r| r.get(0))
            .unwrap()
    };
    // A local query in progress holds its snapshot (its read transaction) while a sync
    // applies more rows: it neither blocks the sync nor sees part of it.
    let mut stmt = reader.prepare("SELECT a FROM t ORDER BY a").unwrap();
    let mut rows = stmt.query(()).unwrap();
    let first: i64 = rows.next().unwrap().unwrap().get(0).unwrap();
    assert_eq!(first, 0);
    for i in 5..50 {
        insert(&s, i, "new");
    }
    s.execute("DELETE FROM t WHERE a = 3", json!([]));
    db.sync().expect("sync while a reader holds a snapshot");
    let mut seen = vec![first];
    while let Some(row) = rows.next().unwrap() {
        seen.push(row.get(0).unwrap());
    }
    assert_eq!(seen, [0, 1, 2, 3, 4], "the open query keeps its snapshot");
    drop(rows);
    drop(stmt);
    assert_eq!(count(&reader), 49, "its next query sees the sync");
    assert_eq!(count(&db.connect()), 49);
    // BEGIN on a replica starts a transaction on the primary (as in libSQL): reads in it
    // are the primary's, at the primary's snapshot.
    reader.execute_batch("BEGIN").unwrap();
    assert!(!reader.is_autocommit());
    assert_eq!(count(&reader), 49);
    insert(&s, 100, "after begin");
    assert_eq!(
        count(&reader),
        49,
        "the primary's snapshot of this transaction"
    );
    reader.execute_batch("COMMIT").unwrap();
    assert_eq!(
        count(&reader),
        50,
        "COMMIT answered with the primary's commit position; the next read syncs to it"
    );
}

#[test]
fn follows_generations_across_restarts_and_rollovers() {
    let s = TestServer::start(|c| {
        c.sync.max_log_bytes = 30 * strata_sync::FRAME_SIZE as u64;
        c.sync.keep_generations = 2;
    });
    setup(&s, 1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    let db = replica(&s, &path);
    // Rollovers while the replica keeps up.
    for i in 1..80 {
        insert(&s, i, &"g".repeat(700));
        if i % 10 == 0 {
            db.sync().expect("sync");
            assert_eq!(replica_rows(&db), primary_rows(&s));
        }
    }
    let report = db.sync().expect("sync");
    assert!(report.generation >= 3, "{report:?}");
    assert_eq!(replica_rows(&db), primary_rows(&s));
    // Falling behind by more generations than the primary keeps: the replica takes
    // the current image in one transaction.
    for i in 80..200 {
        insert(&s, i, &"h".repeat(700));
    }
    let report = db.sync().expect("sync after its generation was dropped");
    assert_eq!(replica_rows(&db), primary_rows(&s));
    assert!(report.frames_synced > 0);
    // A primary restart starts a new generation.
    let mut s = s;
    s.stop();
    let data = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    let addr = s.addr;
    let s = TestServer::start_in(data, |c| c.http_listen_addr = addr);
    insert(&s, 500, "after primary restart");
    db.sync().expect("sync across the restart");
    assert_eq!(replica_rows(&db), primary_rows(&s));
    drop(db);
    sqlite_agrees(&s, &path);
}

/// Counts the requests a replica sends.
struct Counting {
    inner: strata::replica::HttpTransport,
    sent: std::sync::atomic::AtomicUsize,
}

impl strata::replica::Transport for Counting {
    fn send(
        &self,
        request: &strata::replica::Request,
    ) -> Result<strata::replica::Response, strata::replica::TransportError> {
        self.sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.send(request)
    }
}

fn counting(url: &str, token: &str) -> std::sync::Arc<Counting> {
    let t = std::time::Duration::from_millis(500);
    std::sync::Arc::new(Counting {
        inner: strata::replica::HttpTransport::new(url, token, t, t).unwrap(),
        sent: Default::default(),
    })
}

#[test]
fn a_refused_token_is_an_error_not_a_retry_loop() {
    const PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAqTKlIyFFx85dWZ+u0kfro3bElpBauPvKfROcl8McAuI=
-----END PUBLIC KEY-----
";
    let s = TestServer::start(|c| c.auth_jwt_key = Some(PUBLIC.to_string()));
    let dir = tempfile::tempdir().unwrap();
    let t = counting(&url(&s), "bad");
    let e = strata::Builder::new_remote_replica(dir.path().join("r.db"), url(&s), "bad")
        .transport(t.clone())
        .build()
        .expect_err("bad token");
    assert!(e.to_string().contains("refused the auth token"), "{e}");
    assert_eq!(
        t.sent.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "no retry"
    );
    assert!(!dir.path().join("r.db").exists());
    // An unreachable primary: a bounded number of attempts, then an error.
    let t = counting("http://127.0.0.1:9", "");
    let e = strata::Builder::new_remote_replica(dir.path().join("r2.db"), "http://127.0.0.1:9", "")
        .transport(t.clone())
        .build()
        .expect_err("nothing listens on port 9");
    assert!(e.to_string().contains("/info"), "{e}");
    assert_eq!(
        t.sent.load(std::sync::atomic::Ordering::SeqCst),
        1 + strata::replica::MAX_RETRIES as usize
    );
}

#[test]
fn concurrent_syncs_are_serialized_and_a_sync_ends_while_the_primary_writes() {
    let s = std::sync::Arc::new(TestServer::start(|_| {}));
    setup(&s, 1);
    let dir = tempfile::tempdir().unwrap();
    let db = replica(&s, &dir.path().join("r.db"));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // A writer that never pauses while the replica syncs.
    let writer = {
        let (s, stop) = (s.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 1_000;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                insert(&s, i, "busy");
                i += 1;
            }
            i - 1_000
        })
    };
    // Four threads syncing at once, readers checking each row they see is whole.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut last = 0i64;
                for _ in 0..10 {
                    let r = db
                        .sync()
                        .expect("sync ends although the primary keeps writing");
                    let (n, all): (i64, i64) = db
                        .connect()
                        .query_row(
                            "SELECT sum(b IN ('row 0', 'busy')), count(*) FROM t",
                            (),
                            |r| Ok((r.get(0)?, r.get(1)?)),
                        )
                        .unwrap();
                    assert_eq!(n, all, "only committed rows");
                    assert!(all >= last, "monotonic reads: {all} after {last}");
                    last = all;
                    assert!(r.frame_no.is_some());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("sync thread");
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(written > 0);
    db.sync().unwrap();
    assert_eq!(replica_rows(&db), primary_rows(&s));
}

#[test]
fn sync_interval_keeps_the_replica_current_and_stops_with_it() {
    let s = TestServer::start(|_| {});
    setup(&s, 1);
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Builder::new_remote_replica(dir.path().join("r.db"), url(&s), "")
        .sync_interval(std::time::Duration::from_millis(50))
        .build()
        .unwrap();
    insert(&s, 7, "background");
    // Polled without calling sync(): the background thread brings the row (bounded).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if replica_rows(&db) == primary_rows(&s) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the background sync never brought the write"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Dropping the database ends the thread's hold on it: the files can be reopened
    // (the database file is locked while open).
    drop(db);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        match strata::Builder::new_remote_replica(dir.path().join("r.db"), url(&s), "").build() {
            Ok(db) => {
                assert_eq!(replica_rows(&db), primary_rows(&s));
                break;
            }
            Err(e) => {
                assert!(std::time::Instant::now() < deadline, "still held: {e}");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
    }
}

/// Loses the answer of the next `POST /v3/pipeline` (the primary handles it).
struct LosesAnswer {
    inner: strata::replica::HttpTransport,
    lose_next_post: std::sync::atomic::AtomicBool,
}

impl strata::replica::Transport for LosesAnswer {
    fn send(
        &self,
        request: &strata::replica::Request,
    ) -> Result<strata::replica::Response, strata::replica::TransportError> {
        let r = self.inner.send(request);
        if request.method == strata::replica::Method::Post
            && self
                .lose_next_post
                .swap(false, std::sync::atomic::Ordering::SeqCst)
        {
            return Err(strata::replica::TransportError("answer lost".into()));
        }
        r
    }
}

/// Found by the replication simulator: a statement of a remote transaction whose answer
/// was lost left the connection holding a spent baton, and every later statement
/// (ROLLBACK, reads) was refused for good. The transaction is given up instead.
#[test]
fn a_lost_answer_inside_a_transaction_does_not_wedge_the_connection() {
    let s = TestServer::start(|c| {
        c.idle_stream_timeout = std::time::Duration::from_millis(500);
        c.busy_timeout = std::time::Duration::from_millis(50);
    });
    setup(&s, 3);
    let dir = tempfile::tempdir().unwrap();
    let t = std::time::Duration::from_secs(5);
    let transport = std::sync::Arc::new(LosesAnswer {
        inner: strata::replica::HttpTransport::new(&url(&s), "", t, t).unwrap(),
        lose_next_post: Default::default(),
    });
    let db = strata::Builder::new_remote_replica(dir.path().join("r.db"), url(&s), "")
        .transport(transport.clone())
        .build()
        .unwrap();
    let conn = db.connect();
    conn.execute("BEGIN", ()).unwrap();
    conn.execute("INSERT INTO t VALUES (100, 'x')", ()).unwrap();
    assert!(!conn.is_autocommit());
    transport
        .lose_next_post
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let e = conn
        .execute("INSERT INTO t VALUES (101, 'y')", ())
        .expect_err("answer lost");
    assert!(e.to_string().contains("abandoned"), "{e}");
    assert!(conn.is_autocommit(), "the transaction is given up");
    // The connection works: reads locally, writes on the primary.
    assert_eq!(replica_rows_on(&conn).len(), 3);
    // The abandoned transaction holds the primary's write lock until its stream
    // expires and rolls back; then writes go through again.
    let mut wrote = false;
    for _ in 0..100 {
        if conn.execute("INSERT INTO t VALUES (102, 'z')", ()).is_ok() {
            wrote = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(wrote, "the abandoned stream expired");
    assert_eq!(
        primary_rows(&s).len(),
        4,
        "row 100 rolled back with the abandoned transaction, row 102 written"
    );
    conn.execute("BEGIN", ()).expect("a new stream starts");
    conn.execute("ROLLBACK", ()).unwrap();
}
