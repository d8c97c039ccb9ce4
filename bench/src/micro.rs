//! Micro benchmark cases, each on Strata and on SQLite (rusqlite, bundled) with the same
//! settings: WAL mode, page size 4096, a page cache of [`CACHE_PAGES`] pages, the same
//! `synchronous` level (NORMAL, FULL for the fsync case).
//!
//! A [`Fixture`] builds the big database once per process (with SQLite, then copies the
//! file for Strata, so both engines read byte-identical files). [`Fixture::runner`] makes
//! a closure that runs a case `iters` times and returns the time it took, with setup
//! (opening, preparing, creating fresh files) left out of the timing: that is the shape
//! of criterion's `iter_custom`, and the `ratios` binary uses the same closures.
//!
//! Sizes come from the environment:
//! - `STRATA_BENCH_ROWS` (default 1,000,000): rows of the big table `t`;
//! - `STRATA_BENCH_INSERT_ROWS` (default 100,000): rows of the one-transaction insert;
//! - `STRATA_BENCH_UPSERT_KEYS` (default 100,000): keys present before the upserts;
//! - `STRATA_BENCH_DIR`: where the temporary directory goes (default: the system's; it
//!   must be a real file system for the fsync case to mean anything).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata::io::IO;
use strata::{OpenOptions, StepResult, SyncMode};

use crate::{fold_sqlite, fold_strata, Rng};

/// Page cache size of every connection, in pages (SQLite: `PRAGMA cache_size=2000`).
pub const CACHE_PAGES: usize = 2000;
pub const PAGE_SIZE: usize = 4096;
/// Distinct values of `t.grp` (the GROUP BY case).
pub const GROUPS: i64 = 100;

/// An engine under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    /// Strata on io_uring (what `Database::open` picks on Linux).
    Strata,
    /// Strata on plain positioned-I/O syscalls.
    StrataSyscall,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Strata => "strata",
            Engine::StrataSyscall => "strata-syscall",
        }
    }
}

/// The cases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Case {
    PointRowid,
    PointIndex,
    Limit100,
    ScanCountSum,
    GroupBy,
    Insert100kTx,
    InsertAutocommitFsync,
    Upsert,
    ColdStart,
}

impl Case {
    pub const ALL: [Case; 9] = [
        Case::PointRowid,
        Case::PointIndex,
        Case::Limit100,
        Case::ScanCountSum,
        Case::GroupBy,
        Case::Insert100kTx,
        Case::InsertAutocommitFsync,
        Case::Upsert,
        Case::ColdStart,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Case::PointRowid => "point_select_rowid",
            Case::PointIndex => "point_select_index",
            Case::Limit100 => "scan_limit_100",
            Case::ScanCountSum => "full_scan_count_sum",
            Case::GroupBy => "group_by",
            Case::Insert100kTx => "insert_tx",
            Case::InsertAutocommitFsync => "insert_autocommit_fsync",
            Case::Upsert => "upsert",
            Case::ColdStart => "cold_start",
        }
    }

    /// What one iteration is.
    pub fn describe(self, sizes: &Sizes) -> String {
        match self {
            Case::PointRowid => "SELECT name, val FROM t WHERE id = ? (prepared once)".into(),
            Case::PointIndex => "SELECT id, name FROM t WHERE k = ? (index t_k)".into(),
            Case::Limit100 => "SELECT * FROM t LIMIT 100".into(),
            Case::ScanCountSum => format!("SELECT count(*), sum(val) FROM t ({} rows)", sizes.rows),
            Case::GroupBy => format!(
                "SELECT grp, count(*), sum(val) FROM t GROUP BY grp ({} rows, {GROUPS} groups)",
                sizes.rows
            ),
            Case::Insert100kTx => format!(
                "{} INSERTs in one transaction, fresh file",
                sizes.insert_rows
            ),
            Case::InsertAutocommitFsync => {
                "one INSERT, autocommit, synchronous=FULL (fsync per commit)".into()
            }
            Case::Upsert => format!(
                "INSERT .. ON CONFLICT(k) DO UPDATE, {} keys, ~50% conflicts, batched in a transaction",
                sizes.upsert_keys
            ),
            Case::ColdStart => {
                "open the database + first query (SELECT name FROM t WHERE id = 1)".into()
            }
        }
    }

    pub fn by_name(name: &str) -> Option<Case> {
        Case::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Workload sizes (see the module doc for the environment variables).
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub rows: usize,
    pub insert_rows: usize,
    pub upsert_keys: usize,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

impl Sizes {
    pub fn from_env() -> Sizes {
        Sizes {
            rows: env_usize("STRATA_BENCH_ROWS", 1_000_000),
            insert_rows: env_usize("STRATA_BENCH_INSERT_ROWS", 100_000),
            upsert_keys: env_usize("STRATA_BENCH_UPSERT_KEYS", 100_000),
        }
    }
}

/// The measured closure: runs `iters` iterations, returns the time they took.
pub type Runner<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

/// The databases the cases read, built once.
pub struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    pub sizes: Sizes,
    big_sqlite: PathBuf,
    big_strata: PathBuf,
    big_strata_sys: PathBuf,
    next_file: AtomicU64,
}

const BIG_SCHEMA: &str = "CREATE TABLE t(
    id INTEGER PRIMARY KEY,
    k INTEGER NOT NULL,
    grp INTEGER NOT NULL,
    val REAL NOT NULL,
    name TEXT NOT NULL
)";

impl Fixture {
    /// Builds the big table (`sizes.rows` rows, index `t_k` on `k`) with SQLite and
    /// copies it for Strata.
    pub fn new(sizes: Sizes) -> Fixture {
        let mut b = tempfile::Builder::new();
        b.prefix("strata-micro");
        let tmp = match std::env::var_os("STRATA_BENCH_DIR") {
            Some(d) => {
                std::fs::create_dir_all(&d).expect("STRATA_BENCH_DIR");
                b.tempdir_in(d)
            }
            None => b.tempdir(),
        }
        .expect("temp dir");
        let dir = tmp.path().to_path_buf();
        let big_sqlite = dir.join("big-sqlite.db");
        build_big(&big_sqlite, sizes.rows).expect("build big database");
        let big_strata = dir.join("big-strata.db");
        std::fs::copy(&big_sqlite, &big_strata).expect("copy");
        // Strata locks a database file exclusively: each Strata engine gets its own copy.
        let big_strata_sys = dir.join("big-strata-syscall.db");
        std::fs::copy(&big_sqlite, &big_strata_sys).expect("copy");
        Fixture {
            _tmp: tmp,
            dir,
            sizes,
            big_sqlite,
            big_strata,
            big_strata_sys,
            next_file: AtomicU64::new(0),
        }
    }

    fn fresh_path(&self, tag: &str) -> PathBuf {
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        self.dir.join(format!("{tag}-{n}.db"))
    }

    /// A private copy of the big database for `engine` (cold start opens a file no other
    /// connection has open).
    fn big_copy(&self, engine: Engine) -> PathBuf {
        let p = self.fresh_path(&format!("big-copy-{}", engine.name()));
        std::fs::copy(&self.big_sqlite, &p).expect("copy");
        p
    }

    fn big(&self, engine: Engine) -> &Path {
        match engine {
            Engine::Sqlite => &self.big_sqlite,
            Engine::Strata => &self.big_strata,
            Engine::StrataSyscall => &self.big_strata_sys,
        }
    }

    /// Checks that both engines agree on the aggregates the scans compute. Returns the
    /// mismatches (empty when they agree).
    pub fn cross_check(&self) -> Vec<String> {
        let mut bad = Vec::new();
        let s = sqlite_open(&self.big_sqlite, false);
        let k = strata_open(&self.big_strata, Engine::Strata, SyncMode::Normal);
        for sql in [
            "SELECT count(*), sum(val) FROM t",
            "SELECT grp, count(*), sum(val) FROM t GROUP BY grp",
            "SELECT * FROM t LIMIT 100",
            "SELECT id, name FROM t WHERE k = 12345",
            "SELECT name, val FROM t WHERE id = 777",
        ] {
            let a: Vec<Vec<String>> = {
                let mut st = s.prepare(sql).unwrap();
                let n = st.column_count();
                st.query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect())
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect()
            };
            let b: Result<Vec<Vec<String>>, strata::Error> = (|| {
                let mut st = k.prepare(sql)?;
                let n = st.column_count();
                let mut out = Vec::new();
                let mut rows = st.query(())?;
                while let Some(r) = rows.next()? {
                    out.push(
                        (0..n)
                            .map(|i| format!("{:?}", sqlite_ref(r.get_ref(i).unwrap())))
                            .collect(),
                    );
                }
                Ok(out)
            })();
            match b {
                Ok(b) if a == b => {}
                Ok(b) => bad.push(format!(
                    "{sql}: sqlite {:?}.. strata {:?}..",
                    a.first(),
                    b.first()
                )),
                Err(e) => bad.push(format!("{sql}: strata error {e}")),
            }
        }
        bad
    }

    /// The closure that runs `case` on `engine`.
    pub fn runner(&self, case: Case, engine: Engine) -> Runner<'_> {
        match engine {
            Engine::Sqlite => self.sqlite_runner(case),
            _ => self.strata_runner(case, engine),
        }
    }

    fn sqlite_runner(&self, case: Case) -> Runner<'_> {
        let rows = self.sizes.rows as u64;
        match case {
            Case::PointRowid | Case::PointIndex => {
                let conn = sqlite_open(self.big(Engine::Sqlite), false);
                let sql = if case == Case::PointRowid {
                    "SELECT name, val FROM t WHERE id = ?1"
                } else {
                    "SELECT id, name FROM t WHERE k = ?1"
                };
                let mut rng = Rng::new(7);
                Box::new(move |iters| {
                    let mut st = conn.prepare_cached(sql).unwrap();
                    let mut acc = 0u64;
                    let start = Instant::now();
                    for _ in 0..iters {
                        let key = (rng.below(rows) + 1) as i64;
                        let mut q = st.query([key]).unwrap();
                        let mut n = 0;
                        while let Some(r) = q.next().unwrap() {
                            acc = acc.wrapping_add(fold_sqlite(r.get_ref(0).unwrap()));
                            acc = acc.wrapping_add(fold_sqlite(r.get_ref(1).unwrap()));
                            n += 1;
                        }
                        assert_eq!(n, 1);
                    }
                    let d = start.elapsed();
                    std::hint::black_box(acc);
                    d
                })
            }
            Case::Limit100 | Case::ScanCountSum | Case::GroupBy => {
                let conn = sqlite_open(self.big(Engine::Sqlite), false);
                let (sql, expect) = read_sql(case, self.sizes.rows);
                Box::new(move |iters| {
                    let mut st = conn.prepare_cached(sql).unwrap();
                    let n = st.column_count();
                    let mut acc = 0u64;
                    let start = Instant::now();
                    for _ in 0..iters {
                        let mut q = st.query([]).unwrap();
                        let mut got = 0;
                        while let Some(r) = q.next().unwrap() {
                            for i in 0..n {
                                acc = acc.wrapping_add(fold_sqlite(r.get_ref(i).unwrap()));
                            }
                            got += 1;
                        }
                        assert_eq!(got, expect, "{sql}");
                    }
                    let d = start.elapsed();
                    std::hint::black_box(acc);
                    d
                })
            }
            Case::Insert100kTx => {
                let n = self.sizes.insert_rows;
                Box::new(move |iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let p = self.fresh_path("ins-sqlite");
                        let conn = sqlite_open(&p, false);
                        conn.execute_batch(INS_SCHEMA).unwrap();
                        let start = Instant::now();
                        conn.execute_batch("BEGIN").unwrap();
                        {
                            let mut st = conn.prepare_cached(INS_SQL).unwrap();
                            for i in 0..n as i64 {
                                st.execute(rusqlite::params![i, ins_text(i), i as f64 * 0.5])
                                    .unwrap();
                            }
                        }
                        conn.execute_batch("COMMIT").unwrap();
                        total += start.elapsed();
                        drop(conn);
                        remove_db(&p);
                    }
                    total
                })
            }
            Case::InsertAutocommitFsync => {
                let p = self.fresh_path("fsync-sqlite");
                let conn = sqlite_open(&p, true);
                conn.execute_batch(INS_SCHEMA).unwrap();
                let mut i = 0i64;
                Box::new(move |iters| {
                    let mut st = conn.prepare_cached(INS_SQL).unwrap();
                    let start = Instant::now();
                    for _ in 0..iters {
                        i += 1;
                        st.execute(rusqlite::params![i, ins_text(i), i as f64 * 0.5])
                            .unwrap();
                    }
                    start.elapsed()
                })
            }
            Case::Upsert => {
                let p = self.fresh_path("upsert-sqlite");
                let conn = sqlite_open(&p, false);
                conn.execute_batch(KV_SCHEMA).unwrap();
                conn.execute_batch("BEGIN").unwrap();
                for k in 0..self.sizes.upsert_keys as i64 {
                    conn.execute("INSERT INTO kv(k, v) VALUES (?1, 0)", [2 * k])
                        .unwrap();
                }
                conn.execute_batch("COMMIT").unwrap();
                let keys = 2 * self.sizes.upsert_keys as u64;
                let mut rng = Rng::new(11);
                Box::new(move |iters| {
                    let mut st = conn.prepare_cached(UPSERT_SQL).unwrap();
                    let start = Instant::now();
                    conn.execute_batch("BEGIN").unwrap();
                    for _ in 0..iters {
                        let k = rng.below(keys) as i64;
                        st.execute([k, 1]).unwrap();
                    }
                    conn.execute_batch("COMMIT").unwrap();
                    start.elapsed()
                })
            }
            Case::ColdStart => {
                let p = self.big_copy(Engine::Sqlite);
                Box::new(move |iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let start = Instant::now();
                        let conn = rusqlite::Connection::open(&p).unwrap();
                        let name: String = conn.query_row(COLD_SQL, [], |r| r.get(0)).unwrap();
                        total += start.elapsed();
                        assert_eq!(name, big_name(1));
                        drop(conn);
                    }
                    total
                })
            }
        }
    }

    fn strata_runner(&self, case: Case, engine: Engine) -> Runner<'_> {
        let rows = self.sizes.rows as u64;
        match case {
            Case::PointRowid | Case::PointIndex => {
                let conn = strata_open(self.big(engine), engine, SyncMode::Normal);
                let sql = if case == Case::PointRowid {
                    "SELECT name, val FROM t WHERE id = ?1"
                } else {
                    "SELECT id, name FROM t WHERE k = ?1"
                };
                let mut st = conn.prepare(sql).unwrap();
                let mut rng = Rng::new(7);
                Box::new(move |iters| {
                    let mut acc = 0u64;
                    let start = Instant::now();
                    for _ in 0..iters {
                        let key = (rng.below(rows) + 1) as i64;
                        let mut q = st.query([key]).unwrap();
                        let mut n = 0;
                        while let Some(r) = q.next().unwrap() {
                            acc = acc.wrapping_add(fold_strata(r.get_ref(0).unwrap()));
                            acc = acc.wrapping_add(fold_strata(r.get_ref(1).unwrap()));
                            n += 1;
                        }
                        assert_eq!(n, 1);
                    }
                    let d = start.elapsed();
                    std::hint::black_box(acc);
                    let _ = &conn;
                    d
                })
            }
            Case::Limit100 | Case::ScanCountSum | Case::GroupBy => {
                let conn = strata_open(self.big(engine), engine, SyncMode::Normal);
                let (sql, expect) = read_sql(case, self.sizes.rows);
                let mut st = conn.prepare(sql).unwrap();
                let n = st.column_count();
                Box::new(move |iters| {
                    let mut acc = 0u64;
                    let start = Instant::now();
                    for _ in 0..iters {
                        let mut got = 0;
                        loop {
                            match st.step_blocking().unwrap() {
                                StepResult::Row => {
                                    let r = st.row();
                                    for i in 0..n {
                                        acc = acc.wrapping_add(fold_strata(r.get_ref(i).unwrap()));
                                    }
                                    got += 1;
                                }
                                _ => break,
                            }
                        }
                        assert_eq!(got, expect, "{sql}");
                    }
                    let d = start.elapsed();
                    std::hint::black_box(acc);
                    let _ = &conn;
                    d
                })
            }
            Case::Insert100kTx => {
                let n = self.sizes.insert_rows;
                Box::new(move |iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let p = self.fresh_path(&format!("ins-{}", engine.name()));
                        let conn = strata_open(&p, engine, SyncMode::Normal);
                        conn.execute_batch(INS_SCHEMA).unwrap();
                        let mut st = conn.prepare(INS_SQL).unwrap();
                        let start = Instant::now();
                        conn.execute_batch("BEGIN").unwrap();
                        for i in 0..n as i64 {
                            st.execute(strata::params![i, ins_text(i), i as f64 * 0.5])
                                .unwrap();
                        }
                        conn.execute_batch("COMMIT").unwrap();
                        total += start.elapsed();
                        drop(st);
                        drop(conn);
                        remove_db(&p);
                    }
                    total
                })
            }
            Case::InsertAutocommitFsync => {
                let p = self.fresh_path(&format!("fsync-{}", engine.name()));
                let conn = strata_open(&p, engine, SyncMode::Full);
                conn.execute_batch(INS_SCHEMA).unwrap();
                let mut st = conn.prepare(INS_SQL).unwrap();
                let mut i = 0i64;
                Box::new(move |iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        i += 1;
                        st.execute(strata::params![i, ins_text(i), i as f64 * 0.5])
                            .unwrap();
                    }
                    let d = start.elapsed();
                    let _ = &conn;
                    d
                })
            }
            Case::Upsert => {
                let p = self.fresh_path(&format!("upsert-{}", engine.name()));
                let conn = strata_open(&p, engine, SyncMode::Normal);
                conn.execute_batch(KV_SCHEMA).unwrap();
                conn.execute_batch("BEGIN").unwrap();
                {
                    let mut ins = conn.prepare("INSERT INTO kv(k, v) VALUES (?1, 0)").unwrap();
                    for k in 0..self.sizes.upsert_keys as i64 {
                        ins.execute([2 * k]).unwrap();
                    }
                }
                conn.execute_batch("COMMIT").unwrap();
                let keys = 2 * self.sizes.upsert_keys as u64;
                let mut st = conn.prepare(UPSERT_SQL).unwrap();
                let mut rng = Rng::new(11);
                Box::new(move |iters| {
                    let start = Instant::now();
                    conn.execute_batch("BEGIN").unwrap();
                    for _ in 0..iters {
                        let k = rng.below(keys) as i64;
                        st.execute([k, 1]).unwrap();
                    }
                    conn.execute_batch("COMMIT").unwrap();
                    start.elapsed()
                })
            }
            Case::ColdStart => {
                let p = self.big_copy(engine);
                Box::new(move |iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let start = Instant::now();
                        let db = match engine {
                            Engine::StrataSyscall => strata::Database::open_with_io(
                                &p,
                                Arc::new(strata::io::SyscallIo::new()),
                            ),
                            _ => strata::Database::open(&p),
                        }
                        .unwrap();
                        let conn = db.connect();
                        let name: String = conn.query_row(COLD_SQL, (), |r| r.get(0)).unwrap();
                        total += start.elapsed();
                        assert_eq!(name, big_name(1));
                        drop(conn);
                        drop(db);
                    }
                    total
                })
            }
        }
    }
}

const INS_SCHEMA: &str = "CREATE TABLE ins(a INTEGER, b TEXT, c REAL)";
const INS_SQL: &str = "INSERT INTO ins(a, b, c) VALUES (?1, ?2, ?3)";
const KV_SCHEMA: &str = "CREATE TABLE kv(id INTEGER PRIMARY KEY, k INTEGER UNIQUE, v INTEGER)";
const UPSERT_SQL: &str =
    "INSERT INTO kv(k, v) VALUES (?1, ?2) ON CONFLICT(k) DO UPDATE SET v = v + excluded.v";
const COLD_SQL: &str = "SELECT name FROM t WHERE id = 1";

fn ins_text(i: i64) -> String {
    format!("row-{i:08}-payload")
}

fn big_name(id: i64) -> String {
    format!("name-{id:07}")
}

/// SQL and expected row count of the read cases.
fn read_sql(case: Case, rows: usize) -> (&'static str, usize) {
    match case {
        Case::Limit100 => ("SELECT * FROM t LIMIT 100", rows.min(100)),
        Case::ScanCountSum => ("SELECT count(*), sum(val) FROM t", 1),
        Case::GroupBy => (
            "SELECT grp, count(*), sum(val) FROM t GROUP BY grp",
            (GROUPS as usize).min(rows),
        ),
        _ => unreachable!(),
    }
}

fn remove_db(p: &Path) {
    let _ = std::fs::remove_file(p);
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut w = p.as_os_str().to_owned();
        w.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(w));
    }
}

/// Builds the big table with SQLite: `rows` rows, `k` a permutation of the ids (index
/// `t_k`), `grp` in `0..GROUPS`, checkpointed into the main file.
pub fn build_big(path: &Path, rows: usize) -> rusqlite::Result<()> {
    remove_db(path);
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(&format!(
        "PRAGMA page_size={PAGE_SIZE}; PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; {BIG_SCHEMA};"
    ))?;
    let mut rng = Rng::new(3);
    let tx = conn.unchecked_transaction()?;
    {
        let mut ins =
            tx.prepare("INSERT INTO t(id, k, grp, val, name) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        // k = id * a mod p-ish permutation of 1..=rows: multiply by a number coprime
        // to rows.
        let n = rows as u64;
        let mult = coprime_multiplier(n);
        for id in 1..=n {
            let k = ((id - 1) * mult % n.max(1)) + 1;
            let grp = rng.below(GROUPS as u64) as i64;
            let val = (rng.below(1_000_000) as f64) / 100.0;
            ins.execute(rusqlite::params![
                id as i64,
                k as i64,
                grp,
                val,
                big_name(id as i64)
            ])?;
        }
    }
    tx.commit()?;
    conn.execute_batch("CREATE INDEX t_k ON t(k)")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

fn coprime_multiplier(n: u64) -> u64 {
    fn gcd(a: u64, b: u64) -> u64 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let mut m = 2_654_435_761 % n.max(2);
    while m < 2 || gcd(m, n) != 1 {
        m += 1;
    }
    m
}

/// SQLite connection with the common settings (`full_sync`: synchronous=FULL, else
/// NORMAL).
pub fn sqlite_open(path: &Path, full_sync: bool) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("sqlite open");
    conn.execute_batch(&format!(
        "PRAGMA page_size={PAGE_SIZE}; PRAGMA journal_mode=WAL; PRAGMA synchronous={}; PRAGMA cache_size={CACHE_PAGES};",
        if full_sync { "FULL" } else { "NORMAL" }
    ))
    .expect("sqlite pragmas");
    conn
}

/// Strata connection with the common settings on the engine's IO backend.
pub fn strata_open(path: &Path, engine: Engine, sync: SyncMode) -> strata::Connection {
    let io: Arc<dyn IO> = match engine {
        Engine::StrataSyscall => Arc::new(strata::io::SyscallIo::new()),
        _ => Arc::new(strata::io::UringIo::new().expect("io_uring")),
    };
    OpenOptions::new()
        .io(io)
        .page_size(PAGE_SIZE)
        .cache_size_pages(CACHE_PAGES)
        .sync_mode(sync)
        .open(path)
        .expect("strata open")
        .connect()
}

fn sqlite_ref(v: strata::ValueRef<'_>) -> rusqlite::types::ValueRef<'_> {
    use rusqlite::types::ValueRef as R;
    match v {
        strata::ValueRef::Null => R::Null,
        strata::ValueRef::Integer(i) => R::Integer(i),
        strata::ValueRef::Real(r) => R::Real(r),
        strata::ValueRef::Text(t) => R::Text(t),
        strata::ValueRef::Blob(b) => R::Blob(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_runs_on_every_engine_on_a_small_fixture() {
        let fx = Fixture::new(Sizes {
            rows: 2000,
            insert_rows: 300,
            upsert_keys: 200,
        });
        assert_eq!(fx.cross_check(), Vec::<String>::new());
        let engines: &[Engine] = if strata::io::UringIo::new().is_ok() {
            &[Engine::Sqlite, Engine::Strata, Engine::StrataSyscall]
        } else {
            &[Engine::Sqlite, Engine::StrataSyscall]
        };
        for &case in &Case::ALL {
            for &engine in engines {
                let mut r = fx.runner(case, engine);
                r(2);
            }
        }
    }
}
