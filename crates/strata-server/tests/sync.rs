//! The V2 sync endpoints and the replication log, driven over real HTTP as an embedded
//! replica drives them: `/info`, `/export/{g}`, `/sync/{g}/{s}/{e}` pulled 128 frames at
//! a time and applied commit by commit to the export image; the result is opened with
//! SQLite (rusqlite) and must hold the primary's rows and pass `integrity_check`.

mod common;

use common::*;
use serde_json::{json, Value as Json};
use strata_sync::{decode_frames, EndOfGeneration, InfoResponse, PAGE_SIZE};

/// Generations numbered from 1 (the default is a random first number), so the tests
/// can name them.
fn one(c: &mut strata_server::Config) {
    c.sync.first_generation = Some(1);
}

fn text(s: &str) -> Json {
    json!({"type": "text", "value": s})
}

/// A replica as the libSQL client keeps one: an image, its generation and the last
/// commit frame applied.
struct Replica {
    image: Vec<u8>,
    generation: u32,
    frame: u32,
    /// Every frame body received (to look for rolled-back data).
    seen: Vec<u8>,
}

fn get(s: &TestServer, path: &str) -> HttpResponse {
    http(s.addr, "GET", path, &[], b"")
}

fn info(s: &TestServer) -> u32 {
    let r = get(s, "/info");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let g = InfoResponse::from_json(&r.body).unwrap().current_generation;
    assert!(g >= 1);
    g
}

impl Replica {
    fn bootstrap(s: &TestServer) -> Replica {
        let g = info(s);
        let r = get(s, &format!("/export/{g}"));
        assert_eq!(r.status, 200);
        assert_eq!(r.body.len() % PAGE_SIZE, 0);
        Replica {
            image: r.body,
            generation: g,
            frame: 0,
            seen: Vec::new(),
        }
    }

    /// Pulls as the client does (128 frames per request) until the end of the current
    /// generation; returns the number of frames applied.
    fn sync(&mut self, s: &TestServer) -> usize {
        let mut applied = 0;
        loop {
            let start = self.frame + 1;
            let r = get(
                s,
                &format!("/sync/{}/{start}/{}", self.generation, start + 128),
            );
            if r.status == 400 {
                let current = EndOfGeneration::from_json(&r.body)
                    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&r.body)))
                    .generation;
                if self.generation >= current {
                    return applied;
                }
                // The client checkpoints and goes on with the next generation.
                self.generation += 1;
                self.frame = 0;
                continue;
            }
            assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
            let frames = decode_frames(&r.body).unwrap();
            // Never ends mid-transaction.
            assert!(frames.last().unwrap().header.is_commit());
            self.seen.extend_from_slice(&r.body);
            for (i, f) in frames.iter().enumerate() {
                // Frame N is frame N of the generation.
                assert_eq!(f.header.extra[0], self.generation);
                assert_eq!(f.header.extra[1], start + i as u32);
                let at = (f.header.page_no as usize - 1) * PAGE_SIZE;
                if self.image.len() < at + PAGE_SIZE {
                    self.image.resize(at + PAGE_SIZE, 0);
                }
                self.image[at..at + PAGE_SIZE].copy_from_slice(&f.page);
                if f.header.is_commit() {
                    self.image
                        .resize(f.header.db_size_after as usize * PAGE_SIZE, 0);
                    self.frame = start + i as u32;
                }
            }
            applied += frames.len();
        }
    }

    /// The image as a SQLite file.
    fn open(&self, dir: &std::path::Path, name: &str) -> rusqlite::Connection {
        let path = dir.join(name);
        std::fs::write(&path, &self.image).unwrap();
        let conn = rusqlite::Connection::open(&path).unwrap();
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        conn
    }
}

/// The primary's rows of `t`, through Hrana.
fn primary_rows(s: &TestServer) -> Json {
    s.execute("SELECT a, b FROM t ORDER BY a", json!([]))["rows"].clone()
}

fn assert_same(s: &TestServer, replica: &Replica, dir: &std::path::Path, name: &str) {
    let conn = replica.open(dir, name);
    assert_eq!(
        sqlite_rows(&conn, "SELECT a, b FROM t ORDER BY a"),
        primary_rows(s)
    );
}

fn insert(s: &TestServer, a: i64, b: &str) -> Json {
    s.execute(
        "INSERT INTO t VALUES (?, ?)",
        json!([{"type": "integer", "value": a.to_string()}, text(b)]),
    )
}

fn checkpoint(s: &TestServer) {
    let r = s.execute("PRAGMA wal_checkpoint(TRUNCATE)", json!([]));
    assert_eq!(r["rows"][0][0]["value"], "0", "{r}");
}

#[test]
fn replica_rebuilds_the_primary_through_checkpoints() {
    let s = TestServer::start(one);
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    let mut fresh = Replica::bootstrap(&s);
    let mut last_index = 0u64;
    for i in 0..120 {
        // Rows of a few hundred bytes to a few pages: transactions of many frames.
        let r = insert(
            &s,
            i,
            &format!("row {i} {}", "x".repeat((i as usize * 97) % 9000)),
        );
        // replication_index is the commit's frame number: it grows with every commit.
        let idx: u64 = r["replication_index"].as_str().unwrap().parse().unwrap();
        assert!(idx > last_index, "{r}");
        last_index = idx;
        if i % 40 == 39 {
            checkpoint(&s);
        }
    }
    // A rolled-back transaction is never served.
    let r = s.pipeline(
        3,
        None,
        json!([
            {"type": "execute", "stmt": {"sql": "BEGIN"}},
            {"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (9999, 'ROLLED-BACK-MARKER')"}},
            {"type": "execute", "stmt": {"sql": "ROLLBACK"}},
            {"type": "close"}
        ]),
    );
    assert!(
        r["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| x["type"] == "ok"),
        "{r}"
    );
    // A batch reports the index of its commit.
    let b = s.pipeline(
        3,
        None,
        json!([{"type": "batch", "batch": {"steps": [
            {"stmt": {"sql": "BEGIN"}},
            {"stmt": {"sql": "UPDATE t SET b = 'updated' WHERE a % 10 = 0"}},
            {"stmt": {"sql": "COMMIT"}}
        ]}}, {"type": "close"}]),
    );
    let bidx: u64 = b["results"][0]["response"]["result"]["replication_index"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(bidx > last_index, "{b}");
    // Reads carry no index.
    assert!(s.execute("SELECT 1", json!([]))["replication_index"].is_null());
    checkpoint(&s);

    let n = fresh.sync(&s);
    assert!(n > 128, "several pulls were needed ({n} frames)");
    assert_eq!(fresh.frame as u64, bidx);
    assert_same(&s, &fresh, work.path(), "fresh.db");
    let marker = b"ROLLED-BACK-MARKER";
    assert!(!fresh.seen.windows(marker.len()).any(|w| w == marker));

    // A replica bootstrapped now (export of generation 1 = the start) gets the same.
    let mut late = Replica::bootstrap(&s);
    late.sync(&s);
    assert_same(&s, &late, work.path(), "late.db");

    // Caught up: 400 {"generation": 1}; asking past the end: 409.
    let r = get(&s, &format!("/sync/1/{}/{}", bidx + 1, bidx + 129));
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({"generation": 1}));
    let r = get(&s, &format!("/sync/1/{}/{}", bidx + 5, bidx + 129));
    assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));

    // Incremental: more writes, the replica follows.
    for i in 200..230 {
        insert(&s, i, "later");
    }
    fresh.sync(&s);
    assert_same(&s, &fresh, work.path(), "fresh2.db");
}

#[test]
fn one_large_transaction_is_served_whole() {
    let s = TestServer::start(one);
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    let mut rep = Replica::bootstrap(&s);
    rep.sync(&s);
    // About 300 pages in one transaction: more than one pull's 128 frames.
    s.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) \
         INSERT INTO t SELECT i, printf('%.3000c', 'y') FROM n",
        json!([]),
    );
    let start = rep.frame + 1;
    let r = get(&s, &format!("/sync/1/{start}/{}", start + 128));
    assert_eq!(r.status, 200);
    let frames = decode_frames(&r.body).unwrap();
    assert!(frames.len() > 128, "{}", frames.len());
    assert!(frames.last().unwrap().header.is_commit());
    assert!(frames[..frames.len() - 1]
        .iter()
        .all(|f| !f.header.is_commit()));
    rep.sync(&s);
    assert_same(&s, &rep, work.path(), "big.db");
}

#[test]
fn restarts_clean_and_after_a_crash() {
    let mut s = TestServer::start(one);
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    for i in 0..20 {
        insert(&s, i, "before");
    }
    let mut rep = Replica::bootstrap(&s);
    rep.sync(&s);

    // A clean restart continues the generation.
    s = restart(s);
    assert_eq!(info(&s), 1);
    insert(&s, 100, "after clean restart");
    rep.sync(&s);
    assert_eq!(rep.generation, 1);
    assert_same(&s, &rep, work.path(), "a.db");

    // A crash (no clean marker) starts a new generation from the recovered database:
    // write more, take the marker away as a crash would, restart.
    for i in 200..210 {
        insert(&s, i, "maybe unlogged");
    }
    let dir = s.data_dir().join("default.db-sync");
    s.stop();
    std::fs::remove_file(dir.join("clean")).unwrap();
    s = restart_stopped(s);
    assert_eq!(info(&s), 2);
    // Its export holds everything.
    let mut fresh = Replica::bootstrap(&s);
    assert_eq!(fresh.generation, 2);
    assert_same(&s, &fresh, work.path(), "export2.db");
    fresh.sync(&s);
    assert_same(&s, &fresh, work.path(), "fresh2.db");
    // The old replica goes on from generation 1 into 2 and ends up identical.
    rep.sync(&s);
    assert_eq!(rep.generation, 2);
    assert_same(&s, &rep, work.path(), "b.db");

    // The database changed while the server was down (clean marker present): new
    // generation again.
    s.stop();
    {
        let c = rusqlite::Connection::open(s.data_dir().join("default.db")).unwrap();
        c.execute("INSERT INTO t VALUES (500, 'written by sqlite')", [])
            .unwrap();
    }
    s = restart_stopped(s);
    assert_eq!(info(&s), 3);
    rep.sync(&s);
    assert_eq!(rep.generation, 3);
    assert_same(&s, &rep, work.path(), "c.db");
    assert!(primary_rows(&s).to_string().contains("written by sqlite"));
}

fn restart(mut s: TestServer) -> TestServer {
    s.stop();
    restart_stopped(s)
}

fn restart_stopped(mut s: TestServer) -> TestServer {
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    TestServer::start_in(dir, one)
}

#[test]
fn rollover_and_retention() {
    let s = TestServer::start(|c| {
        one(c);
        c.sync.max_log_bytes = 20 * strata_sync::FRAME_SIZE as u64;
        c.sync.keep_generations = 2;
    });
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    let mut rep = Replica::bootstrap(&s);
    for i in 0..60 {
        insert(&s, i, &"z".repeat(500));
        if i % 7 == 0 {
            rep.sync(&s);
        }
        if i % 5 == 0 {
            // Bootstrapping right after a rollover waits for the export being built.
            let mut b = Replica::bootstrap(&s);
            b.sync(&s);
            assert_same(&s, &b, work.path(), "boot.db");
        }
    }
    rep.sync(&s);
    let g = info(&s);
    assert!(g >= 3, "generation {g}");
    assert_eq!(rep.generation, g);
    assert_same(&s, &rep, work.path(), "r.db");
    // Only the newest two generations are kept.
    assert_eq!(get(&s, &format!("/export/{}", g - 1)).status, 200);
    let gone = get(&s, "/export/1");
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["code"], "GENERATION_NOT_FOUND");
    assert_eq!(get(&s, "/sync/1/1/129").status, 404);
    // A replica bootstrapped on the current generation matches too.
    let mut fresh = Replica::bootstrap(&s);
    fresh.sync(&s);
    assert_same(&s, &fresh, work.path(), "f.db");
}

#[test]
fn bad_paths_and_probes() {
    let s = TestServer::start(one);
    for (path, status) in [
        ("/sync/x/1/2", 400),
        ("/sync/1/0/5", 400),
        ("/sync/1/5/5", 400),
        ("/sync/1/5/4", 400),
        ("/sync/-1/1/2", 400),
        ("/sync/99999999999/1/2", 400),
        ("/export/abc", 400),
        ("/export/7", 404),
        ("/export/0", 404),
        ("/sync/7/1/129", 404),
        ("/sync/1/2", 404),
        ("/export", 404),
    ] {
        let r = get(&s, path);
        assert_eq!(
            r.status,
            status,
            "{path}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let j = r.json();
        assert!(
            j["message"].is_string() && j["code"].is_string(),
            "{path}: {j}"
        );
    }
    // Older clients' probe.
    assert_eq!(get(&s, "/sync/0/0/0").status, 200);
    // A sync URL with a trailing slash.
    assert_eq!(get(&s, "//info").status, 200);
    assert_eq!(get(&s, "//export/1").status, 200);
    let r = get(&s, "//sync/1/1/129");
    assert_eq!(r.status, 400);
    assert_eq!(r.json(), json!({"generation": 1}));
    let (status, _) = s.post("//v3/pipeline", &json!({"requests": [{"type": "close"}]}));
    assert_eq!(status, 200);
    assert_eq!(http(s.addr, "POST", "/info", &[], b"").status, 405);
}

#[test]
fn auth_applies_to_sync_endpoints() {
    // The same test key pair as tests/auth_namespaces.rs.
    const PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIGfcNbBHf28MtgDh3HYSL9BoFPx6Bygh9Yk0VOgaYlae
-----END PRIVATE KEY-----
";
    const PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAqTKlIyFFx85dWZ+u0kfro3bElpBauPvKfROcl8McAuI=
-----END PUBLIC KEY-----
";
    let s = TestServer::start(|c| {
        one(c);
        c.auth_jwt_key = Some(PUBLIC.to_string())
    });
    let tok = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::EdDSA),
        &json!({"a": "ro"}),
        &jsonwebtoken::EncodingKey::from_ed_pem(PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    let bearer = format!("Bearer {tok}");
    for path in ["/info", "/export/1", "/sync/1/1/129", "/sync/0/0/0"] {
        let r = get(&s, path);
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["code"], "AUTH_HEADER_NOT_FOUND");
        let r = http(
            s.addr,
            "GET",
            path,
            &[("Authorization", "Bearer nope")],
            b"",
        );
        assert_eq!(r.status, 401, "{path}");
        // A read-only token may pull.
        let r = http(s.addr, "GET", path, &[("Authorization", &bearer)], b"");
        assert!(r.status == 200 || r.status == 400, "{path}: {}", r.status);
    }
}

#[test]
fn namespaces_and_page_size() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    {
        let c = rusqlite::Connection::open(data.join("big.db")).unwrap();
        c.execute_batch("PRAGMA page_size = 8192; CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);")
            .unwrap();
    }
    let s = TestServer::start_in(dir, |c| {
        one(c);
        c.enable_namespaces = true
    });
    let ns = |name: &'static str| [("x-namespace", name)];
    let r = http(s.addr, "GET", "/info", &ns("big"), b"");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["code"], "SYNC_PAGE_SIZE_UNSUPPORTED");
    // Hrana still works on it.
    let (st, _) = s.post_with(
        "/v2/pipeline",
        &ns("big"),
        &json!({"requests": [{"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (1, 'a')"}}]}),
    );
    assert_eq!(st, 200);
    let r = http(s.addr, "GET", "/info", &ns("nosuch"), b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["code"], "NAMESPACE_DOESNT_EXIST");
    let r = http(s.addr, "GET", "/info", &ns("default"), b"");
    assert_eq!(r.status, 200);
}

#[test]
fn vacuum_and_auto_vacuum_shrink_reach_the_replica() {
    let s = TestServer::start(one);
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    let mut rep = Replica::bootstrap(&s);
    for i in 0..80 {
        insert(&s, i, &"v".repeat(1500));
    }
    rep.sync(&s);
    let big = rep.image.len();
    s.execute("DELETE FROM t WHERE a >= 10", json!([]));
    s.execute("VACUUM", json!([]));
    rep.sync(&s);
    assert!(rep.image.len() < big / 2, "{} vs {big}", rep.image.len());
    assert_same(&s, &rep, work.path(), "vac.db");
    // An auto-vacuum database truncates at every commit.
    // (One stream: the mode asked for applies to that connection's next VACUUM.)
    let r = s.pipeline(
        3,
        None,
        json!([{"type": "sequence", "sql": "PRAGMA auto_vacuum = FULL; VACUUM"}, {"type": "close"}]),
    );
    assert_eq!(r["results"][0]["type"], "ok", "{r}");
    assert_eq!(
        s.execute("PRAGMA auto_vacuum", json!([]))["rows"][0][0]["value"],
        "1"
    );
    for i in 100..160 {
        insert(&s, i, &"w".repeat(1500));
    }
    rep.sync(&s);
    let before = rep.image.len();
    s.execute("DELETE FROM t WHERE a >= 100", json!([]));
    rep.sync(&s);
    assert!(rep.image.len() < before, "{} vs {before}", rep.image.len());
    assert_same(&s, &rep, work.path(), "auto.db");
}

#[test]
fn concurrent_writers_while_replicas_pull() {
    let s = std::sync::Arc::new(TestServer::start(one));
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    let mut rep = Replica::bootstrap(&s);
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..40 {
                    let r = s.post(
                        "/v3/pipeline",
                        &json!({"requests": [{"type": "execute", "stmt": {
                            "sql": "INSERT INTO t VALUES (?, ?)",
                            "args": [{"type": "integer", "value": (w * 1000 + i).to_string()},
                                     text(&"c".repeat(100 * (i as usize % 30)))]}},
                            {"type": "close"}]}),
                    );
                    assert_eq!(r.0, 200);
                    // A write may meet the busy timeout; every success is a commit.
                    if r.1["results"][0]["type"] != "ok" {
                        assert_eq!(r.1["results"][0]["error"]["code"], "SQLITE_BUSY", "{}", r.1);
                    }
                }
            })
        })
        .collect();
    let mut pulls = 0;
    while writers.iter().any(|w| !w.is_finished()) {
        rep.sync(&s);
        pulls += 1;
    }
    for w in writers {
        w.join().unwrap();
    }
    rep.sync(&s);
    assert!(pulls > 1);
    assert_same(&s, &rep, work.path(), "conc.db");
}

#[test]
fn damaged_log_tail_is_cut_and_a_damaged_log_starts_a_new_generation() {
    let mut s = TestServer::start(one);
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    for i in 0..10 {
        insert(&s, i, "x");
    }
    let mut rep = Replica::bootstrap(&s);
    rep.sync(&s);
    let log = s.data_dir().join("default.db-sync").join("gen-1.log");
    s.stop();
    // A torn append (half a frame) after a clean stop: cut, the generation goes on.
    let len = std::fs::metadata(&log).unwrap().len();
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(&[7u8; 2000]).unwrap();
    }
    s = restart_stopped(s);
    assert_eq!(std::fs::metadata(&log).unwrap().len(), len);
    assert_eq!(info(&s), 1);
    insert(&s, 50, "y");
    rep.sync(&s);
    assert_same(&s, &rep, work.path(), "t1.db");
    // A damaged frame in the middle: the log no longer matches the clean marker.
    s.stop();
    {
        let mut bytes = std::fs::read(&log).unwrap();
        let at = strata_sync::FRAME_SIZE * 2 + 100;
        bytes[at] ^= 0xff;
        std::fs::write(&log, &bytes).unwrap();
    }
    s = restart_stopped(s);
    assert_eq!(info(&s), 2);
    let mut fresh = Replica::bootstrap(&s);
    fresh.sync(&s);
    assert_same(&s, &fresh, work.path(), "t2.db");
    // The old replica is past what generation 1 still holds: a clear error, not frames.
    let r = get(
        &s,
        &format!("/sync/1/{}/{}", rep.frame + 1, rep.frame + 129),
    );
    assert_eq!(r.status, 409, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["code"], "SYNC_START_AHEAD");
}

#[test]
fn restart_rebuilds_a_missing_rollover_export_and_overwrites_a_stray_one() {
    let mut s = TestServer::start(|c| {
        one(c);
        c.sync.max_log_bytes = 10 * strata_sync::FRAME_SIZE as u64;
    });
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    let mut rep = Replica::bootstrap(&s);
    for i in 0..20 {
        insert(&s, i, &"q".repeat(400));
    }
    rep.sync(&s);
    let g = info(&s);
    assert!(g >= 2);
    let dir = s.data_dir().join("default.db-sync");
    // Stop cleanly, then lose the newest export as a crash during its build would.
    let stop = |mut s: TestServer| {
        s.stop();
        s
    };
    s = stop(s);
    std::fs::remove_file(dir.join(format!("gen-{g}.export"))).unwrap();
    s = restart_stopped(s);
    assert_eq!(
        info(&s),
        g,
        "the clean marker still matches: same generation"
    );
    let mut fresh = Replica::bootstrap(&s);
    fresh.sync(&s);
    assert_same(&s, &fresh, work.path(), "rebuilt.db");
    // An export without a log (a start that crashed before its generation was used)
    // is overwritten: generations stay consecutive, as clients need.
    s = stop(s);
    std::fs::write(dir.join(format!("gen-{}.export", g + 1)), b"garbage").unwrap();
    std::fs::remove_file(dir.join("clean")).unwrap();
    s = restart_stopped(s);
    assert_eq!(info(&s), g + 1);
    insert(&s, 1000, "after");
    rep.sync(&s);
    assert_eq!(rep.generation, g + 1);
    assert_same(&s, &rep, work.path(), "renumbered.db");
    let mut fresh = Replica::bootstrap(&s);
    fresh.sync(&s);
    assert_same(&s, &fresh, work.path(), "fresh-renumbered.db");
}

/// A `LogStore` whose appends fail while `fail` is set (disk full, I/O error).
struct FailingStore {
    fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl strata_server::store::LogStore for FailingStore {
    fn create_dir_all(&self, dir: &std::path::Path) -> std::io::Result<()> {
        strata_server::store::FsStore.create_dir_all(dir)
    }
    fn list(&self, dir: &std::path::Path) -> std::io::Result<Vec<String>> {
        strata_server::store::FsStore.list(dir)
    }
    fn read(&self, path: &std::path::Path) -> std::io::Result<Option<Vec<u8>>> {
        strata_server::store::FsStore.read(path)
    }
    fn read_at(&self, path: &std::path::Path, offset: u64, len: usize) -> std::io::Result<Vec<u8>> {
        strata_server::store::FsStore.read_at(path, offset, len)
    }
    fn write_atomic(&self, path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
        strata_server::store::FsStore.write_atomic(path, bytes)
    }
    fn write_at_sync(
        &self,
        path: &std::path::Path,
        offset: u64,
        bytes: &[u8],
    ) -> std::io::Result<()> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(std::io::Error::other("injected: no space left on device"));
        }
        strata_server::store::FsStore.write_at_sync(path, offset, bytes)
    }
    fn truncate(&self, path: &std::path::Path, len: u64) -> std::io::Result<()> {
        strata_server::store::FsStore.truncate(path, len)
    }
    fn remove(&self, path: &std::path::Path) -> std::io::Result<()> {
        strata_server::store::FsStore.remove(path)
    }
    fn remove_dir_all(&self, dir: &std::path::Path) -> std::io::Result<()> {
        strata_server::store::FsStore.remove_dir_all(dir)
    }
    fn sync_dir(&self, dir: &std::path::Path) -> std::io::Result<()> {
        strata_server::store::FsStore.sync_dir(dir)
    }
    fn stamp(
        &self,
        path: &std::path::Path,
    ) -> std::io::Result<Option<strata_server::store::FileStamp>> {
        strata_server::store::FsStore.stamp(path)
    }
}

#[test]
fn a_failed_append_is_not_acknowledged_and_the_restart_starts_a_new_generation() {
    use strata_server::store::LogStore as _;
    let fail = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let store = std::sync::Arc::new(FailingStore { fail: fail.clone() });
    let mut s = TestServer::start(|c| {
        one(c);
        c.sync.store = store
    });
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    insert(&s, 1, "logged");
    let mut rep = Replica::bootstrap(&s);
    rep.sync(&s);

    fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, body) = s.post(
        "/v3/pipeline",
        &json!({"requests": [{"type": "execute", "stmt": {"sql": "INSERT INTO t VALUES (2, 'not logged')"}}, {"type": "close"}]}),
    );
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["code"], "REPLICATION_LOG_FAILED");
    for path in ["/info", "/export/1", "/sync/1/1/129"] {
        let r = get(&s, path);
        assert_eq!(r.status, 503, "{path}");
        assert_eq!(r.json()["code"], "REPLICATION_LOG_FAILED");
    }
    // Reads go on; the commit stands in the database.
    assert_eq!(primary_rows(&s).as_array().unwrap().len(), 2);
    fail.store(false, std::sync::atomic::Ordering::SeqCst);
    // No clean marker is written for a failed log: the restart begins generation 2
    // with the whole database, and the replica catches up on the unlogged commit.
    s.stop();
    assert!(strata_server::store::FsStore
        .read(&s.data_dir().join("default.db-sync").join("clean"))
        .unwrap()
        .is_none());
    s = restart_stopped(s);
    assert_eq!(info(&s), 2);
    rep.sync(&s);
    assert_same(&s, &rep, work.path(), "healed.db");
    assert!(primary_rows(&s).to_string().contains("not logged"));
}

#[test]
fn a_recreated_namespace_does_not_feed_its_old_replicas() {
    // Default numbering: the first generation is random.
    let s = TestServer::start(|c| {
        c.enable_namespaces = true;
        c.admin_listen_addr = Some("127.0.0.1:0".parse().unwrap());
    });
    let admin = s.admin.unwrap();
    let ns = [("x-namespace", "alpha")];
    let create = || {
        let r = http(admin, "POST", "/v1/namespaces/alpha/create", &[], b"");
        assert_eq!(r.status, 200);
    };
    let exec = |sql: &str| {
        let (st, body) = s.post_with(
            "/v3/pipeline",
            &ns,
            &json!({"requests": [{"type": "execute", "stmt": {"sql": sql}}, {"type": "close"}]}),
        );
        assert_eq!(st, 200);
        assert_eq!(body["results"][0]["type"], "ok", "{body}");
    };
    let info_of = || {
        let r = http(s.addr, "GET", "/info", &ns, b"");
        assert_eq!(r.status, 200);
        InfoResponse::from_json(&r.body).unwrap().current_generation
    };
    create();
    exec("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
    exec("INSERT INTO t VALUES (1, 'old')");
    let g_old = info_of();
    let old_frames = {
        let r = http(s.addr, "GET", &format!("/sync/{g_old}/1/129"), &ns, b"");
        assert_eq!(r.status, 200);
        decode_frames(&r.body).unwrap().len() as u32
    };
    assert_eq!(
        http(admin, "DELETE", "/v1/namespaces/alpha", &[], b"").status,
        200
    );
    create();
    exec("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)");
    exec("INSERT INTO t VALUES (1, 'new')");
    let g_new = info_of();
    assert_ne!(g_new, g_old, "a fresh log must not reuse the old numbers");
    // The old replica, at the end of its generation, is told to re-create itself.
    let r = http(
        s.addr,
        "GET",
        &format!("/sync/{g_old}/{}/{}", old_frames + 1, old_frames + 129),
        &ns,
        b"",
    );
    assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["code"], "GENERATION_NOT_FOUND");
}

/// `max_open_databases`: with one loop holding one database, every request for the other
/// namespace closes the idle one and the next request reopens it. Writes, reads and a
/// replica's pulls across those closes stay exact (the replication log is reattached to
/// each reopened database, not restarted).
#[test]
fn namespaces_closed_past_the_open_limit_reopen_with_their_log() {
    let s = TestServer::start(|c| {
        one(c);
        c.loops = 1;
        c.max_open_databases = Some(1);
        c.enable_namespaces = true;
        c.admin_listen_addr = Some("127.0.0.1:0".parse().unwrap());
    });
    let admin = s.admin.unwrap();
    // The helpers send no namespace header, so their requests go to the namespace named
    // by the Host's first label: "127" (of 127.0.0.1).
    for name in ["127", "other"] {
        let r = http(
            admin,
            "POST",
            &format!("/v1/namespaces/{name}/create"),
            &[],
            b"",
        );
        assert_eq!(r.status, 200);
    }
    let other = [("x-namespace", "other")];
    let exec_other = |sql: &str| {
        let (st, body) = s.post_with(
            "/v3/pipeline",
            &other,
            &json!({"requests": [{"type": "execute", "stmt": {"sql": sql}}, {"type": "close"}]}),
        );
        assert_eq!(st, 200);
        assert_eq!(body["results"][0]["type"], "ok", "{body}");
    };
    let work = tempfile::tempdir().unwrap();
    s.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT)", json!([]));
    exec_other("CREATE TABLE u(x)");
    let generation = info(&s);
    let mut rep = Replica::bootstrap(&s);
    for i in 0..20 {
        insert(&s, i, &format!("row {i}"));
        exec_other(&format!("INSERT INTO u VALUES ({i})"));
        if i % 3 == 0 {
            rep.sync(&s);
        }
    }
    rep.sync(&s);
    assert_eq!(info(&s), generation, "reopening did not start a new log");
    assert_same(&s, &rep, work.path(), "reopened.db");
    let (_, body) = s.post_with(
        "/v3/pipeline",
        &other,
        &json!({"requests": [{"type": "execute", "stmt": {"sql": "SELECT count(*) FROM u"}}]}),
    );
    assert_eq!(
        body["results"][0]["response"]["result"]["rows"][0][0]["value"],
        "20"
    );
}
