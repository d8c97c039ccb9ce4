//! The multi-tenant experiment: `T` tenants, each a serverless function with its own
//! ~1 MiB database, each running [`QUERY`] `Q` times back to back (a closed loop: a
//! tenant submits its next query when the previous one returned its last row).
//!
//! Engines:
//! - `sqlite-threads`: rusqlite, one OS thread per tenant, all started together (the
//!   paper's baseline).
//! - `sqlite-pool`: rusqlite on a pool of one thread per core; queries from all tenants
//!   wait in one FIFO queue, so tenants are served round-robin.
//! - `strata-runtime`: the same tenants as namespaces of a `strata_runtime::Runtime`,
//!   the event loops `strata-server` runs its requests on; each query is a job
//!   submitted from a tokio task ([`run_strata_runtime`]). This is the engine the
//!   paper's experiment should be read from: it measures the code the server runs.
//! - `strata`: tenants are resumable statements on one event-loop thread per core, each
//!   loop on its own io_uring ([`strata::io::UringIo`]). A tenant yields when `step()`
//!   returns `Io` or after a quantum of steps; the loop round-robins its runnable
//!   tenants and drives the ring (`run_once`, which blocks while operations are in
//!   flight) only when none is runnable.
//!
//! Latency is measured from a query's submission (the moment its tenant is ready to run
//! it, queueing included) until its last row has been read.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use strata::io::IO;
use strata::{Database, OpenOptions, StepResult, SyncMode};

use crate::report::{new_histogram, record};
use crate::{fold_sqlite, fold_strata};

/// What every tenant runs.
pub const QUERY: &str = "SELECT * FROM users LIMIT 100";
/// Rows [`QUERY`] returns.
pub const ROWS_PER_QUERY: usize = 100;
/// Page size of the tenant databases (both engines read the same files).
pub const PAGE_SIZE: usize = 4096;
/// Target size of a tenant database.
pub const TENANT_DB_BYTES: usize = 1 << 20;

/// Cache setting of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    /// Page cache larger than the database (the paper's setting), after a warm-up pass.
    Warm,
    /// A page cache of a few pages per tenant: every query reads through the IO layer
    /// (from the OS page cache, as the files were just read).
    Cold,
}

impl Cache {
    pub fn name(self) -> &'static str {
        match self {
            Cache::Warm => "warm",
            Cache::Cold => "cold",
        }
    }
}

/// Parameters of one measured configuration.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub queries: usize,
    pub warmup_queries: usize,
    /// Page cache size per tenant connection, in pages.
    pub cache_pages: usize,
    /// Strata: steps a tenant may take before it yields to the next one.
    pub quantum: usize,
    /// Strata and sqlite-pool: worker / event-loop threads.
    pub threads: usize,
}

/// Result of one engine on one configuration.
pub struct RunResult {
    pub histogram: Histogram<u64>,
    pub wall: Duration,
    /// Strata only: scheduler counters summed over the loops.
    pub loop_stats: LoopStats,
}

/// Columns of the `users` table, as generated.
pub const USERS_SCHEMA: &str = "CREATE TABLE users(
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    email TEXT NOT NULL,
    full_name TEXT,
    bio TEXT,
    created_at INTEGER NOT NULL
)";

/// Builds the template tenant database at `path` with SQLite: WAL mode, [`PAGE_SIZE`],
/// the `users` table filled to about [`TENANT_DB_BYTES`], checkpointed so the whole
/// database is in the main file. Returns the number of rows.
pub fn build_template(path: &Path, target_bytes: usize) -> rusqlite::Result<usize> {
    let _ = std::fs::remove_file(path);
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(&format!(
        "PRAGMA page_size={PAGE_SIZE}; PRAGMA journal_mode=WAL; {USERS_SCHEMA};"
    ))?;
    let mut rng = crate::Rng::new(42);
    let mut n = 0usize;
    let tx = conn.unchecked_transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO users(id, username, email, full_name, bio, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        loop {
            let pages: i64 = tx.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            if pages as usize * PAGE_SIZE >= target_bytes {
                break;
            }
            for _ in 0..100 {
                n += 1;
                let user = format!("user{:06}_{:x}", n, rng.next_u64() & 0xffff);
                let email = format!("{user}@tenant.example.com");
                let full = format!("Person Number {} {}", n, rng.below(1_000_000));
                let bio_len = 40 + rng.below(80) as usize;
                let bio: String = (0..bio_len)
                    .map(|i| (b'a' + ((n + i * 7) % 26) as u8) as char)
                    .collect();
                let created = 1_700_000_000 + rng.below(50_000_000) as i64;
                ins.execute(rusqlite::params![n as i64, user, email, full, bio, created])?;
            }
        }
    }
    tx.commit()?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    drop(conn);
    Ok(n)
}

/// Copies the template to `dir/tenant_{i}.db` for `i in 0..n` (removing stale WAL files).
pub fn make_tenant_files(template: &Path, dir: &Path, n: usize) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    (0..n)
        .map(|i| {
            let p = dir.join(format!("tenant_{i}.db"));
            for suffix in ["-wal", "-shm"] {
                let mut w = p.clone().into_os_string();
                w.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(w));
            }
            std::fs::copy(template, &p)?;
            Ok(p)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// SQLite

/// Opens a tenant database on SQLite with the benchmark's settings.
pub fn sqlite_open(path: &Path, cache_pages: usize) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path)?;
    conn.execute_batch(&format!(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size={cache_pages};"
    ))?;
    let ps: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    assert_eq!(ps as usize, PAGE_SIZE);
    Ok(conn)
}

/// Runs the query to its last row, reading every column; returns the row count.
pub fn sqlite_query(stmt: &mut rusqlite::Statement<'_>) -> rusqlite::Result<usize> {
    let ncols = stmt.column_count();
    let mut rows = stmt.query([])?;
    let mut n = 0;
    let mut acc = 0u64;
    while let Some(row) = rows.next()? {
        for i in 0..ncols {
            acc = acc.wrapping_add(fold_sqlite(row.get_ref(i)?));
        }
        n += 1;
    }
    std::hint::black_box(acc);
    Ok(n)
}

fn check_rows(engine: &str, n: usize) {
    assert_eq!(
        n, ROWS_PER_QUERY,
        "{engine}: query returned {n} rows, expected {ROWS_PER_QUERY}"
    );
}

/// `sqlite-threads`: one OS thread per tenant.
pub fn run_sqlite_threads(paths: &[PathBuf], cfg: &RunConfig) -> RunResult {
    let n = paths.len();
    let barrier = Arc::new(Barrier::new(n + 1));
    let handles: Vec<_> = paths
        .iter()
        .cloned()
        .map(|p| {
            let barrier = barrier.clone();
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let conn = sqlite_open(&p, cfg.cache_pages).expect("open");
                let mut stmt = conn.prepare(QUERY).expect("prepare");
                for _ in 0..cfg.warmup_queries {
                    check_rows("sqlite-threads", sqlite_query(&mut stmt).expect("query"));
                }
                let mut h = new_histogram();
                barrier.wait();
                let start = Instant::now();
                for _ in 0..cfg.queries {
                    let t = Instant::now();
                    let rows = sqlite_query(&mut stmt).expect("query");
                    record(&mut h, t.elapsed());
                    check_rows("sqlite-threads", rows);
                }
                (h, start, Instant::now())
            })
        })
        .collect();
    barrier.wait();
    let mut histogram = new_histogram();
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    for h in handles {
        let (hh, s, e) = h.join().expect("tenant thread");
        histogram.add(hh).unwrap();
        first = Some(first.map_or(s, |f| f.min(s)));
        last = Some(last.map_or(e, |l| l.max(e)));
    }
    let wall = match (first, last) {
        (Some(f), Some(l)) => l - f,
        _ => Duration::ZERO,
    };
    RunResult {
        histogram,
        wall,
        loop_stats: LoopStats::default(),
    }
}

struct PoolTenant {
    conn: rusqlite::Connection,
    remaining: usize,
}

struct PoolQueue {
    jobs: VecDeque<(usize, Instant)>,
    unfinished: usize,
}

/// `sqlite-pool`: `cfg.threads` workers; each tenant's next query joins the back of one
/// FIFO queue when its previous one finished.
pub fn run_sqlite_pool(paths: &[PathBuf], cfg: &RunConfig) -> RunResult {
    let tenants: Vec<Mutex<PoolTenant>> = paths
        .iter()
        .map(|p| {
            let conn = sqlite_open(p, cfg.cache_pages).expect("open");
            {
                let mut stmt = conn.prepare_cached(QUERY).expect("prepare");
                for _ in 0..cfg.warmup_queries {
                    check_rows("sqlite-pool", sqlite_query(&mut stmt).expect("query"));
                }
            }
            Mutex::new(PoolTenant {
                conn,
                remaining: cfg.queries,
            })
        })
        .collect();
    let tenants = Arc::new(tenants);
    let start = Instant::now();
    let queue = Arc::new((
        Mutex::new(PoolQueue {
            jobs: (0..paths.len()).map(|i| (i, start)).collect(),
            unfinished: if cfg.queries > 0 { paths.len() } else { 0 },
        }),
        Condvar::new(),
    ));
    let workers: Vec<_> = (0..cfg.threads.max(1))
        .map(|_| {
            let tenants = tenants.clone();
            let queue = queue.clone();
            std::thread::spawn(move || {
                let mut h = new_histogram();
                let (lock, cv) = &*queue;
                loop {
                    let (i, submitted) = {
                        let mut q = lock.lock().unwrap();
                        loop {
                            if let Some(job) = q.jobs.pop_front() {
                                break job;
                            }
                            if q.unfinished == 0 {
                                return h;
                            }
                            q = cv.wait(q).unwrap();
                        }
                    };
                    let mut t = tenants[i].lock().unwrap();
                    let rows = {
                        let mut stmt = t.conn.prepare_cached(QUERY).expect("prepare");
                        sqlite_query(&mut stmt).expect("query")
                    };
                    let done = Instant::now();
                    record(&mut h, done - submitted);
                    check_rows("sqlite-pool", rows);
                    t.remaining -= 1;
                    let more = t.remaining > 0;
                    drop(t);
                    let mut q = lock.lock().unwrap();
                    if more {
                        q.jobs.push_back((i, Instant::now()));
                        cv.notify_one();
                    } else {
                        q.unfinished -= 1;
                        if q.unfinished == 0 {
                            cv.notify_all();
                        }
                    }
                }
            })
        })
        .collect();
    let mut histogram = new_histogram();
    for w in workers {
        histogram.add(w.join().expect("worker")).unwrap();
    }
    RunResult {
        histogram,
        wall: start.elapsed(),
        loop_stats: LoopStats::default(),
    }
}

// ---------------------------------------------------------------------------------------
// Strata

/// One tenant on a Strata event loop: its database, a prepared statement and where its
/// current query stands.
pub struct StrataTenant {
    _db: Database,
    stmt: strata::Statement,
    remaining: usize,
    submitted: Instant,
    rows: usize,
    acc: u64,
}

impl StrataTenant {
    /// Opens `path` on `io` with a page cache of `cache_pages`.
    pub fn open(path: &str, io: Arc<dyn IO>, cache_pages: usize) -> strata::Result<StrataTenant> {
        let db = OpenOptions::new()
            .io(io)
            .cache_size_pages(cache_pages)
            .sync_mode(SyncMode::Normal)
            .open(path)?;
        assert_eq!(db.page_size(), PAGE_SIZE);
        let conn = db.connect();
        let stmt = conn.prepare(QUERY)?;
        Ok(StrataTenant {
            _db: db,
            stmt,
            remaining: 0,
            submitted: Instant::now(),
            rows: 0,
            acc: 0,
        })
    }

    /// Runs the query once, blocking (driving the IO); returns the row count.
    pub fn query_blocking(&mut self) -> strata::Result<usize> {
        let ncols = self.stmt.column_count();
        let mut n = 0;
        loop {
            match self.stmt.step_blocking()? {
                StepResult::Row => {
                    let row = self.stmt.row();
                    for i in 0..ncols {
                        self.acc = self.acc.wrapping_add(fold_strata(row.get_ref(i)?));
                    }
                    n += 1;
                }
                _ => return Ok(n),
            }
        }
    }
}

/// Counters of the Strata scheduler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoopStats {
    pub queries: u64,
    pub steps: u64,
    /// Tenant switches because `step()` returned `Io`.
    pub io_yields: u64,
    /// Tenant switches because the quantum was used up.
    pub quantum_yields: u64,
    pub busy_yields: u64,
    /// Calls of `IO::run_once` (the loop was idle: every tenant waiting on I/O).
    pub run_once: u64,
}

impl LoopStats {
    pub fn add(&mut self, o: &LoopStats) {
        self.queries += o.queries;
        self.steps += o.steps;
        self.io_yields += o.io_yields;
        self.quantum_yields += o.quantum_yields;
        self.busy_yields += o.busy_yields;
        self.run_once += o.run_once;
    }
}

/// The event loop: runs `queries` queries for every tenant, interleaved on this thread.
/// Each query's latency (submission to `Done`) goes into `h`.
///
/// A tenant runs until `step()` returns `Io` (it then waits), `Busy`, `Done` or it has
/// taken `quantum` steps (it then goes to the back of the runnable queue). Only when no
/// tenant is runnable does the loop call `io.run_once()` (which blocks until at least one
/// operation completes); then every waiting tenant is made runnable again (one whose I/O
/// is still in flight just returns `Io` once more).
pub fn run_event_loop(
    tenants: &mut [StrataTenant],
    io: &dyn IO,
    queries: usize,
    quantum: usize,
    h: &mut Histogram<u64>,
) -> strata::Result<LoopStats> {
    let mut st = LoopStats::default();
    let quantum = quantum.max(1);
    let start = Instant::now();
    let mut runnable: VecDeque<usize> = VecDeque::with_capacity(tenants.len());
    let mut waiting: Vec<usize> = Vec::with_capacity(tenants.len());
    let mut active = 0;
    for (i, t) in tenants.iter_mut().enumerate() {
        t.stmt.reset();
        t.remaining = queries;
        t.submitted = start;
        t.rows = 0;
        if queries > 0 {
            runnable.push_back(i);
            active += 1;
        }
    }
    while active > 0 {
        let Some(i) = runnable.pop_front() else {
            if waiting.is_empty() {
                unreachable!("active tenants that are neither runnable nor waiting");
            }
            io.run_once().map_err(strata::Error::from)?;
            st.run_once += 1;
            runnable.extend(waiting.drain(..));
            continue;
        };
        let t = &mut tenants[i];
        let ncols = t.stmt.column_count();
        let mut steps = 0;
        loop {
            st.steps += 1;
            match t.stmt.step()? {
                StepResult::Row => {
                    let row = t.stmt.row();
                    for c in 0..ncols {
                        t.acc = t.acc.wrapping_add(fold_strata(row.get_ref(c)?));
                    }
                    t.rows += 1;
                    steps += 1;
                    if steps >= quantum {
                        st.quantum_yields += 1;
                        runnable.push_back(i);
                        break;
                    }
                }
                StepResult::Io => {
                    st.io_yields += 1;
                    waiting.push(i);
                    break;
                }
                StepResult::Busy => {
                    st.busy_yields += 1;
                    runnable.push_back(i);
                    break;
                }
                StepResult::Done => {
                    record(h, t.submitted.elapsed());
                    check_rows("strata", t.rows);
                    st.queries += 1;
                    t.rows = 0;
                    t.remaining -= 1;
                    if t.remaining > 0 {
                        t.submitted = Instant::now();
                        runnable.push_back(i);
                    } else {
                        active -= 1;
                    }
                    break;
                }
            }
        }
    }
    std::hint::black_box(tenants.iter().map(|t| t.acc).sum::<u64>());
    Ok(st)
}

/// `strata`: `cfg.threads` event loops, each on its own io_uring; tenant `i` runs on loop
/// `i % threads`.
pub fn run_strata(paths: &[PathBuf], cfg: &RunConfig) -> RunResult {
    let threads = cfg.threads.max(1).min(paths.len().max(1));
    let barrier = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|k| {
            let mine: Vec<PathBuf> = paths.iter().skip(k).step_by(threads).cloned().collect();
            let barrier = barrier.clone();
            let cfg = cfg.clone();
            std::thread::spawn(move || {
                let io: Arc<dyn IO> = Arc::new(strata::io::UringIo::new().expect("io_uring"));
                let mut tenants: Vec<StrataTenant> = mine
                    .iter()
                    .map(|p| {
                        StrataTenant::open(p.to_str().unwrap(), io.clone(), cfg.cache_pages)
                            .expect("open")
                    })
                    .collect();
                for t in tenants.iter_mut() {
                    for _ in 0..cfg.warmup_queries {
                        check_rows("strata", t.query_blocking().expect("query"));
                    }
                }
                let mut h = new_histogram();
                barrier.wait();
                let start = Instant::now();
                let st =
                    run_event_loop(&mut tenants, io.as_ref(), cfg.queries, cfg.quantum, &mut h)
                        .expect("event loop");
                (h, st, start, Instant::now())
            })
        })
        .collect();
    barrier.wait();
    let mut histogram = new_histogram();
    let mut loop_stats = LoopStats::default();
    let mut first: Option<Instant> = None;
    let mut last: Option<Instant> = None;
    for h in handles {
        let (hh, st, s, e) = h.join().expect("event loop thread");
        histogram.add(hh).unwrap();
        loop_stats.add(&st);
        first = Some(first.map_or(s, |f| f.min(s)));
        last = Some(last.map_or(e, |l| l.max(e)));
    }
    let wall = match (first, last) {
        (Some(f), Some(l)) => l - f,
        _ => Duration::ZERO,
    };
    RunResult {
        histogram,
        wall,
        loop_stats,
    }
}

// ---------------------------------------------------------------------------------------
// Strata on strata-runtime (the server's event loops)

/// A tenant's statement, kept across its jobs (prepared on its loop by the first one).
struct RuntimeTenant {
    stmt: Option<strata::Statement>,
    acc: u64,
}

/// One query of a tenant as a runtime job: at most `quantum` rows per poll, then the job
/// yields to the loop's other jobs (as the hand-written loop of [`run_event_loop`] does);
/// `Io`, `Busy` and instruction-budget yields go back to the loop.
fn runtime_query_job(
    tenant: Arc<Mutex<RuntimeTenant>>,
    quantum: usize,
) -> impl FnMut(&mut strata_runtime::JobCx<'_>) -> strata_runtime::JobStep<strata::Result<usize>>
       + Send
       + 'static {
    use strata_runtime::JobStep;
    let quantum = quantum.max(1);
    let mut rows = 0usize;
    let mut started = false;
    move |cx| {
        let mut guard = tenant.lock().unwrap_or_else(|p| p.into_inner());
        let t = &mut *guard;
        if t.stmt.is_none() {
            let conn = cx.database().connect();
            match cx.prepare(&conn, QUERY) {
                Ok(s) => t.stmt = Some(s),
                Err(e) => return JobStep::Done(Err(e)),
            }
        }
        let stmt = t.stmt.as_mut().expect("prepared above");
        if !started {
            stmt.reset();
            started = true;
        }
        let ncols = stmt.column_count();
        let mut steps = 0;
        loop {
            match cx.step::<strata::Result<usize>>(stmt) {
                Err(e) => return JobStep::Done(Err(e)),
                Ok(Ok(true)) => {
                    let row = stmt.row();
                    for c in 0..ncols {
                        match row.get_ref(c) {
                            Ok(v) => t.acc = t.acc.wrapping_add(fold_strata(v)),
                            Err(e) => return JobStep::Done(Err(e)),
                        }
                    }
                    rows += 1;
                    steps += 1;
                    if steps >= quantum {
                        return JobStep::Yield;
                    }
                }
                Ok(Ok(false)) => return JobStep::Done(Ok(rows)),
                Ok(Err(wait)) => return wait,
            }
        }
    }
}

/// `strata-runtime`: the tenants are namespaces of a [`strata_runtime::Runtime`] with
/// `cfg.threads` loops (each on its own io_uring, placed by the runtime's hash of the
/// name, as in the server); every query is a job submitted from one tokio thread that
/// plays the tenants' closed loops, so a query's latency includes the hand-off to the
/// loop and back, as a server request's does.
pub fn run_strata_runtime(paths: &[PathBuf], cfg: &RunConfig) -> RunResult {
    use std::collections::HashMap;
    let loops = cfg.threads.max(1).min(paths.len().max(1));
    let names: Vec<String> = (0..paths.len()).map(|i| format!("tenant_{i}")).collect();
    let by_name: HashMap<String, PathBuf> =
        names.iter().cloned().zip(paths.iter().cloned()).collect();
    let cache_pages = cfg.cache_pages;
    let opener: strata_runtime::Opener = Arc::new(move |ns: &str, io| {
        let path = by_name.get(ns).ok_or_else(|| {
            strata::Error::new(strata::ErrorCode::Error, format!("unknown tenant {ns}"))
        })?;
        let db = OpenOptions::new()
            .io(io)
            .cache_size_pages(cache_pages)
            .sync_mode(SyncMode::Normal)
            .open(path)?;
        assert_eq!(db.page_size(), PAGE_SIZE);
        Ok(db)
    });
    let runtime = strata_runtime::Runtime::start(
        strata_runtime::RuntimeOptions {
            loops,
            insn_budget: Some(strata_runtime::DEFAULT_INSN_BUDGET),
            io: strata_runtime::IoBackend::Auto,
            max_open_databases: None,
        },
        opener,
    )
    .expect("start the runtime");
    let tenants: Vec<Arc<Mutex<RuntimeTenant>>> = names
        .iter()
        .map(|_| Arc::new(Mutex::new(RuntimeTenant { stmt: None, acc: 0 })))
        .collect();
    // Warm-up (and open + prepare on the loops), outside the timed part.
    for (name, t) in names.iter().zip(&tenants) {
        for _ in 0..cfg.warmup_queries.max(1) {
            let rows = runtime
                .submit(name, runtime_query_job(t.clone(), cfg.quantum))
                .wait()
                .expect("runtime")
                .expect("query");
            check_rows("strata-runtime", rows);
        }
    }
    let driver = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio");
    let (histogram, wall) = driver.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = names
            .iter()
            .zip(&tenants)
            .map(|(name, t)| {
                let runtime = runtime.clone();
                let name = name.clone();
                let t = t.clone();
                let (queries, quantum) = (cfg.queries, cfg.quantum);
                tokio::spawn(async move {
                    let mut h = new_histogram();
                    let mut submitted = start;
                    for _ in 0..queries {
                        let rows = runtime
                            .submit(&name, runtime_query_job(t.clone(), quantum))
                            .await
                            .expect("runtime")
                            .expect("query");
                        record(&mut h, submitted.elapsed());
                        check_rows("strata-runtime", rows);
                        submitted = Instant::now();
                    }
                    h
                })
            })
            .collect();
        let mut histogram = new_histogram();
        for t in tasks {
            histogram.add(t.await.expect("tenant task")).unwrap();
        }
        (histogram, start.elapsed())
    });
    runtime.shutdown();
    std::hint::black_box(tenants.iter().map(|t| t.lock().unwrap().acc).sum::<u64>());
    RunResult {
        histogram,
        wall,
        loop_stats: LoopStats::default(),
    }
}

/// Reads per query of each engine under `cache_pages`, measured outside the timed runs:
/// Strata through a [`CountingIo`](crate::counting::CountingIo) on io_uring, SQLite as
/// read syscalls of the thread. Returns (strata reads/query, sqlite reads/query).
pub fn reads_per_query(
    strata_path: &Path,
    sqlite_path: &Path,
    cache_pages: usize,
    queries: usize,
) -> (f64, Option<f64>) {
    let uring: Arc<dyn IO> = Arc::new(strata::io::UringIo::new().expect("io_uring"));
    let counting = Arc::new(crate::counting::CountingIo::new(uring));
    let counters = counting.counters.clone();
    let mut t =
        StrataTenant::open(strata_path.to_str().unwrap(), counting, cache_pages).expect("open");
    check_rows("strata", t.query_blocking().expect("query"));
    let before = counters.reads();
    for _ in 0..queries {
        check_rows("strata", t.query_blocking().expect("query"));
    }
    let strata_reads = (counters.reads() - before) as f64 / queries as f64;
    drop(t);

    let conn = sqlite_open(sqlite_path, cache_pages).expect("open");
    let mut stmt = conn.prepare(QUERY).expect("prepare");
    check_rows("sqlite", sqlite_query(&mut stmt).expect("query"));
    let before = crate::counting::thread_read_syscalls();
    for _ in 0..queries {
        check_rows("sqlite", sqlite_query(&mut stmt).expect("query"));
    }
    let after = crate::counting::thread_read_syscalls();
    let sqlite_reads = match (before, after) {
        (Some(b), Some(a)) => Some((a - b) as f64 / queries as f64),
        _ => None,
    };
    (strata_reads, sqlite_reads)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("template.db");
        // A small database (64 KiB) keeps the test quick; 100 rows still fit many times.
        let rows = build_template(&path, 64 << 10).unwrap();
        assert!(rows >= 200, "{rows}");
        (dir, path)
    }

    #[test]
    fn event_loop_returns_every_row_on_deferred_io() {
        let (_dir, path) = template();
        let bytes = std::fs::read(&path).unwrap();
        // Deferred MemoryIo: every read returns Pending, so every tenant keeps yielding.
        let mem = Arc::new(strata::io::MemoryIo::new_deferred());
        for i in 0..5 {
            mem.set_file_contents(&format!("t{i}.db"), bytes.clone());
        }
        let io: Arc<dyn IO> = mem;
        let mut tenants: Vec<StrataTenant> = (0..5)
            .map(|i| StrataTenant::open(&format!("t{i}.db"), io.clone(), 4).unwrap())
            .collect();
        let mut h = new_histogram();
        let st = run_event_loop(&mut tenants, io.as_ref(), 3, 7, &mut h).unwrap();
        assert_eq!(h.len(), 15);
        assert_eq!(st.queries, 15);
        assert!(st.io_yields > 0 && st.run_once > 0, "{st:?}");
        // Io yields restart the quantum, so a query yields at most 100 / 7 times for it.
        assert!(
            st.quantum_yields > 15 && st.quantum_yields <= 15 * (100 / 7),
            "{st:?}"
        );
    }

    #[test]
    fn every_engine_runs_every_query() {
        let (dir, path) = template();
        let cfg = RunConfig {
            queries: 3,
            warmup_queries: 1,
            cache_pages: 4,
            quantum: 10,
            threads: 2,
        };
        let s = make_tenant_files(&path, &dir.path().join("s"), 3).unwrap();
        let k = make_tenant_files(&path, &dir.path().join("k"), 3).unwrap();
        assert_eq!(run_sqlite_threads(&s, &cfg).histogram.len(), 9);
        assert_eq!(run_sqlite_pool(&s, &cfg).histogram.len(), 9);
        if strata::io::UringIo::new().is_ok() {
            let r = run_strata(&k, &cfg);
            assert_eq!(r.histogram.len(), 9);
            assert_eq!(r.loop_stats.queries, 9);
            let r = run_strata_runtime(&k, &cfg);
            assert_eq!(r.histogram.len(), 9);
        }
    }
}
