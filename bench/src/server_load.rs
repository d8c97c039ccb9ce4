//! The server-load benchmark: `N` namespaces × `M` clients against a `strata-server`
//! started in this process, and the same statements submitted straight to a
//! [`strata_runtime::Runtime`], so the two tables side by side show what HTTP costs.
//!
//! Every namespace holds the multi-tenant benchmark's `users` table (~1 MiB, built by
//! [`build_template`](crate::multitenant::build_template) and copied as
//! `<db-path>/<name>.db`, which the server picks up as namespaces when it starts). Each
//! client is a closed loop: it sends its next request when the previous one came back,
//! a fixed number of times (or until the wall-clock cap), each request being either
//! - a read, [`READ_SQL`] (100 rows), or
//! - a single-row upsert, [`UPSERT_SQL`] on a key drawn uniformly from the table's ids
//!   plus an eighth more (so most upserts update a row and some insert one),
//!
//! chosen at random with the configured write share.
//!
//! Modes:
//! - [`Mode::Http`]: the server listens on `127.0.0.1:0` (never another address) with
//!   namespaces enabled; each client holds one HTTP/1.1 keep-alive connection (hyper)
//!   and posts Hrana `/v2/pipeline` requests `[execute, close]` with an `x-namespace`
//!   header, as `@libsql/client` does for a single `execute`. Latency: from building the
//!   request until the response body is decoded (JSON to values) and checked.
//! - [`Mode::InProcess`]: a `Runtime` with the server's options (same loops, same
//!   instruction budget, same opener settings); each request is a job that does what the
//!   server's job does for that pipeline (a fresh connection, prepare, bind, step every
//!   row into owned values), awaited from a tokio task. Latency: submit to output.
//!
//! Nothing here asserts on timing; [`LoadResult`] carries the error counts so a run (and
//! the smoke test) can insist every request succeeded and returned its rows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use strata_hrana as h;
use strata_runtime::{IoBackend, JobCx, JobStep, Opener, Runtime, RuntimeOptions};

use crate::multitenant::ROWS_PER_QUERY;
use crate::report::{new_histogram, record};

/// The read every client runs (the multi-tenant benchmark's query).
pub const READ_SQL: &str = crate::multitenant::QUERY;
/// The single-row upsert.
pub const UPSERT_SQL: &str = "INSERT INTO users(id, username, email, full_name, bio, created_at) \
VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(id) DO UPDATE SET \
username = excluded.username, email = excluded.email, bio = excluded.bio, \
created_at = excluded.created_at";

/// How a run reaches the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Http,
    InProcess,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Http => "http",
            Mode::InProcess => "in-process",
        }
    }
}

/// One measured configuration.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub namespaces: usize,
    pub clients_per_namespace: usize,
    /// Timed requests per client.
    pub requests_per_client: usize,
    /// Untimed reads per client before the timed part (opens the namespace, warms its
    /// cache, and for HTTP the connection), plus one upsert when the mix has writes.
    pub warmup_requests: usize,
    /// Share of upserts, 0..=100 percent.
    pub write_percent: u32,
    /// Wall-clock cap of the timed part: clients stop sending when it has passed.
    pub max_wall: Duration,
    /// Event loops of the server / runtime.
    pub loops: usize,
    /// Tokio worker threads of the server (HTTP mode).
    pub server_threads: usize,
    /// Tokio worker threads of the clients (both modes).
    pub client_threads: usize,
    pub seed: u64,
    /// In process only (a diagnostic, not what the server does): each client keeps one
    /// connection across its requests, so its page cache stays warm.
    pub reuse_connections: bool,
    /// In process only (a diagnostic): `SyncMode::Normal` (no fsync per commit) instead
    /// of the server's `Full`.
    pub sync_normal: bool,
}

/// What one kind of request did.
pub struct OpStats {
    /// Latencies of the successful requests (ns).
    pub histogram: Histogram<u64>,
    pub ok: u64,
    pub errors: u64,
    /// Rows the reads returned (checked: [`ROWS_PER_QUERY`] each).
    pub rows: u64,
    pub first_error: Option<String>,
    /// In process only: time from submission until the loop first polled the job (ns).
    pub queue_wait: Histogram<u64>,
    /// In process only: times the jobs parked on I/O (returned `Io`).
    pub io_parks: u64,
}

impl OpStats {
    fn new() -> OpStats {
        OpStats {
            histogram: new_histogram(),
            ok: 0,
            errors: 0,
            rows: 0,
            first_error: None,
            queue_wait: new_histogram(),
            io_parks: 0,
        }
    }

    fn add(&mut self, o: OpStats) {
        self.histogram.add(o.histogram).expect("same bounds");
        self.queue_wait.add(o.queue_wait).expect("same bounds");
        self.io_parks += o.io_parks;
        self.ok += o.ok;
        self.errors += o.errors;
        self.rows += o.rows;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }

    fn fail(&mut self, e: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }
}

/// Result of one mode on one configuration.
pub struct LoadResult {
    pub mode: Mode,
    pub reads: OpStats,
    pub writes: OpStats,
    /// Timed part: from the start barrier until the last client finished.
    pub wall: Duration,
    /// Requests the configuration asked for (timed part).
    pub planned: u64,
    /// True if the wall-clock cap stopped clients before their request count.
    pub capped: bool,
    /// Latencies of the warm-up upserts (untimed part; the first write of each
    /// namespace is among them).
    pub warmup_writes: Histogram<u64>,
}

impl LoadResult {
    pub fn completed(&self) -> u64 {
        self.reads.ok + self.reads.errors + self.writes.ok + self.writes.errors
    }

    /// Both operations in one histogram.
    pub fn all(&self) -> Histogram<u64> {
        let mut h = new_histogram();
        h.add(&self.reads.histogram).expect("same bounds");
        h.add(&self.writes.histogram).expect("same bounds");
        h
    }
}

/// Name of namespace `i`.
pub fn namespace_name(i: usize) -> String {
    format!("t{i:04}")
}

/// Lays `n` namespaces into `db_dir` as copies of `template` (`<name>.db`), removing
/// any other database, WAL or journal file there so each run starts from the same state.
pub fn lay_namespaces(template: &Path, db_dir: &Path, n: usize) -> std::io::Result<Vec<String>> {
    if db_dir.exists() {
        std::fs::remove_dir_all(db_dir)?;
    }
    std::fs::create_dir_all(db_dir)?;
    (0..n)
        .map(|i| {
            let name = namespace_name(i);
            std::fs::copy(template, db_dir.join(format!("{name}.db")))?;
            Ok(name)
        })
        .collect()
}

/// The request a client sends next.
#[derive(Clone, Debug)]
enum Op {
    Read,
    Upsert(Vec<h::Value>),
}

/// A client's deterministic request generator.
#[derive(Clone)]
struct OpGen {
    rng: crate::Rng,
    write_percent: u32,
    key_range: u64,
}

impl OpGen {
    fn new(seed: u64, write_percent: u32, table_rows: usize) -> OpGen {
        let rows = table_rows.max(1) as u64;
        OpGen {
            rng: crate::Rng::new(seed),
            write_percent: write_percent.min(100),
            key_range: rows + rows / 8,
        }
    }

    fn next(&mut self) -> Op {
        if self.rng.below(100) >= u64::from(self.write_percent) {
            return Op::Read;
        }
        let id = 1 + self.rng.below(self.key_range) as i64;
        let tag = self.rng.next_u64() & 0xffff_ffff;
        let user = format!("user{id:06}_{tag:x}");
        let bio_len = 40 + self.rng.below(80) as usize;
        let bio: String = (0..bio_len)
            .map(|i| (b'a' + ((tag as usize + i * 7) % 26) as u8) as char)
            .collect();
        Op::Upsert(vec![
            h::Value::Integer(id),
            h::Value::Text(user.clone()),
            h::Value::Text(format!("{user}@tenant.example.com")),
            h::Value::Text(format!("Person Number {id} {}", tag % 1_000_000)),
            h::Value::Text(bio),
            h::Value::Integer(1_700_000_000 + self.rng.below(50_000_000) as i64),
        ])
    }
}

/// A request's outcome as a client sees it: rows returned and rows changed.
struct Outcome {
    rows: usize,
    affected: u64,
    /// In process only: submission to first poll.
    queued: Option<Duration>,
    /// In process only: `Io` returns of the job.
    io_parks: u32,
}

/// Checks an outcome against the request: a read returns [`ROWS_PER_QUERY`] rows, an
/// upsert changes exactly one row.
fn check(op: &Op, o: &Outcome) -> Result<(), String> {
    match op {
        Op::Read if o.rows != ROWS_PER_QUERY => Err(format!(
            "read returned {} rows, expected {ROWS_PER_QUERY}",
            o.rows
        )),
        Op::Upsert(_) if o.affected != 1 => {
            Err(format!("upsert changed {} rows, expected 1", o.affected))
        }
        _ => Ok(()),
    }
}

/// Per-client tallies.
struct ClientStats {
    reads: OpStats,
    writes: OpStats,
    capped: bool,
    /// The warm-up upsert (the namespace's first write after opening, for its first
    /// client).
    warmup_writes: Histogram<u64>,
}

impl ClientStats {
    fn new() -> ClientStats {
        ClientStats {
            reads: OpStats::new(),
            writes: OpStats::new(),
            capped: false,
            warmup_writes: new_histogram(),
        }
    }

    fn note(&mut self, op: &Op, took: Duration, r: Result<Outcome, String>) {
        let s = match op {
            Op::Read => &mut self.reads,
            Op::Upsert(_) => &mut self.writes,
        };
        match r.and_then(|o| check(op, &o).map(|()| o)) {
            Ok(o) => {
                record(&mut s.histogram, took);
                if let Some(q) = o.queued {
                    record(&mut s.queue_wait, q);
                }
                s.io_parks += u64::from(o.io_parks);
                s.ok += 1;
                s.rows += o.rows as u64;
            }
            Err(e) => s.fail(e),
        }
    }
}

/// Sends one request and waits for its outcome.
trait Client {
    fn send(
        &mut self,
        op: &Op,
    ) -> impl std::future::Future<Output = Result<Outcome, String>> + Send;
}

/// The closed loop of one client: `warmup` untimed reads, the barrier, then the timed
/// requests until the count or the deadline.
async fn client_loop<C: Client>(
    mut client: C,
    mut ops: OpGen,
    cfg: LoadConfig,
    barrier: Arc<tokio::sync::Barrier>,
    start: Arc<std::sync::OnceLock<Instant>>,
) -> (ClientStats, Instant) {
    let mut stats = ClientStats::new();
    let mut warm = ClientStats::new();
    for _ in 0..cfg.warmup_requests {
        let t = Instant::now();
        let r = client.send(&Op::Read).await;
        warm.note(&Op::Read, t.elapsed(), r);
    }
    if cfg.warmup_requests > 0 && cfg.write_percent > 0 {
        // One upsert too: a namespace's first write after opening creates its WAL file,
        // a one-time cost that is not the steady state measured here. (From a copy of
        // the generator, so the timed sequence does not depend on the warm-up.)
        let mut g = ops.clone();
        g.write_percent = 100;
        let op = g.next();
        let t = Instant::now();
        let r = client.send(&op).await;
        warm.note(&op, t.elapsed(), r);
    }
    // A failed warm-up is a failed request too (the run must not pass silently).
    stats.reads.errors += warm.reads.errors;
    stats.reads.first_error = warm.reads.first_error;
    stats.writes.errors += warm.writes.errors;
    stats.writes.first_error = warm.writes.first_error;
    stats.warmup_writes = warm.writes.histogram;
    barrier.wait().await;
    let start = *start.get_or_init(Instant::now);
    let deadline = start + cfg.max_wall;
    for _ in 0..cfg.requests_per_client {
        if Instant::now() >= deadline {
            stats.capped = true;
            break;
        }
        let op = ops.next();
        let t = Instant::now();
        let r = client.send(&op).await;
        stats.note(&op, t.elapsed(), r);
    }
    (stats, Instant::now())
}

/// Runs every client of `cfg` on the current tokio runtime and sums their tallies.
async fn run_clients<C, F>(
    cfg: &LoadConfig,
    namespaces: &[String],
    table_rows: usize,
    mut make: F,
) -> Result<LoadResult, String>
where
    C: Client + Send + 'static,
    F: FnMut(
        &str,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<C, String>> + Send>>,
{
    let n = namespaces.len() * cfg.clients_per_namespace;
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let start = Arc::new(std::sync::OnceLock::new());
    let mut tasks = Vec::with_capacity(n);
    for (i, ns) in namespaces.iter().enumerate() {
        for c in 0..cfg.clients_per_namespace {
            let client = make(ns).await?;
            let ops = OpGen::new(
                cfg.seed ^ ((i as u64) << 20) ^ c as u64,
                cfg.write_percent,
                table_rows,
            );
            tasks.push(tokio::spawn(client_loop(
                client,
                ops,
                cfg.clone(),
                barrier.clone(),
                start.clone(),
            )));
        }
    }
    let mut reads = OpStats::new();
    let mut writes = OpStats::new();
    let mut capped = false;
    let mut warmup_writes = new_histogram();
    let mut last: Option<Instant> = None;
    for t in tasks {
        let (s, end) = t.await.map_err(|e| format!("client task failed: {e}"))?;
        reads.add(s.reads);
        writes.add(s.writes);
        capped |= s.capped;
        warmup_writes.add(&s.warmup_writes).expect("same bounds");
        last = Some(last.map_or(end, |l| l.max(end)));
    }
    let wall = match (start.get(), last) {
        (Some(s), Some(l)) => l.saturating_duration_since(*s),
        _ => Duration::ZERO,
    };
    Ok(LoadResult {
        mode: Mode::Http,
        reads,
        writes,
        wall,
        planned: (n * cfg.requests_per_client) as u64,
        capped,
        warmup_writes,
    })
}

fn tokio_runtime(threads: usize, name: &str) -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name(name)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))
}

// ---------------------------------------------------------------------------------------
// HTTP

/// One keep-alive HTTP/1.1 connection to the server, bound to a namespace.
struct HttpClient {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    namespace: String,
}

impl HttpClient {
    async fn connect(addr: std::net::SocketAddr, namespace: &str) -> Result<HttpClient, String> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("connect {addr}: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| format!("HTTP handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(HttpClient {
            sender,
            namespace: namespace.to_string(),
        })
    }
}

/// The pipeline body for one request: `execute` then `close` on a new stream.
fn pipeline_body(op: &Op) -> String {
    let (sql, args): (&str, &[h::Value]) = match op {
        Op::Read => (READ_SQL, &[]),
        Op::Upsert(args) => (UPSERT_SQL, args),
    };
    serde_json::json!({
        "baton": null,
        "requests": [
            {"type": "execute", "stmt": {"sql": sql, "args": args}},
            {"type": "close"},
        ],
    })
    .to_string()
}

#[derive(Deserialize)]
struct PipelineResp {
    results: Vec<PipelineResult>,
}

#[derive(Deserialize)]
struct PipelineResult {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    response: Option<ExecResponse>,
    #[serde(default)]
    error: Option<h::Error>,
}

#[derive(Deserialize)]
struct ExecResponse {
    #[serde(rename = "type")]
    ty: String,
    #[serde(default)]
    result: Option<ExecResult>,
}

#[derive(Deserialize)]
struct ExecResult {
    rows: Vec<Vec<h::Value>>,
    affected_row_count: u64,
}

/// Decodes a pipeline response of `[execute, close]` (rows into values, as a client does).
fn decode_response(body: &[u8]) -> Result<Outcome, String> {
    let resp: PipelineResp =
        serde_json::from_slice(body).map_err(|e| format!("bad response JSON: {e}"))?;
    if resp.results.len() != 2 {
        return Err(format!("{} results, expected 2", resp.results.len()));
    }
    let mut outcome = None;
    for (i, r) in resp.results.into_iter().enumerate() {
        if r.ty != "ok" {
            let e = r.error.map_or("no error object".to_string(), |e| {
                format!("{}: {}", e.code, e.message)
            });
            return Err(format!("request {i} failed: {e}"));
        }
        let resp = r.response.ok_or("ok result without a response")?;
        match (i, resp.ty.as_str()) {
            (0, "execute") => {
                let res = resp.result.ok_or("execute response without a result")?;
                std::hint::black_box(&res.rows);
                outcome = Some(Outcome {
                    rows: res.rows.len(),
                    affected: res.affected_row_count,
                    queued: None,
                    io_parks: 0,
                });
            }
            (1, "close") => {}
            (i, t) => return Err(format!("result {i} is a {t:?} response")),
        }
    }
    outcome.ok_or_else(|| "no execute result".to_string())
}

impl Client for HttpClient {
    async fn send(&mut self, op: &Op) -> Result<Outcome, String> {
        let req = hyper::Request::post("/v2/pipeline")
            .header(hyper::header::HOST, "127.0.0.1")
            .header("x-namespace", &self.namespace)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(pipeline_body(op))))
            .map_err(|e| e.to_string())?;
        self.sender
            .ready()
            .await
            .map_err(|e| format!("connection: {e}"))?;
        let resp = self
            .sender
            .send_request(req)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?
            .to_bytes();
        if !status.is_success() {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            ));
        }
        decode_response(&body)
    }
}

/// [`Mode::Http`]: starts a server on `db_dir` (which holds the namespaces), runs the
/// clients, stops the server.
pub fn run_http(
    cfg: &LoadConfig,
    db_dir: &Path,
    namespaces: &[String],
    table_rows: usize,
) -> Result<LoadResult, String> {
    let server_rt = tokio_runtime(cfg.server_threads, "server-tokio")?;
    let client_rt = tokio_runtime(cfg.client_threads, "client-tokio")?;
    let mut config = strata_server::Config::new(db_dir);
    // Loopback, an ephemeral port: never any other address.
    config.http_listen_addr = "127.0.0.1:0".parse().expect("valid address");
    config.enable_namespaces = true;
    config.loops = cfg.loops.max(1);
    let server = server_rt.block_on(strata_server::Server::start(config))?;
    let addr = server.http_addr;
    let r = client_rt.block_on(run_clients(cfg, namespaces, table_rows, |ns| {
        let ns = ns.to_string();
        Box::pin(async move { HttpClient::connect(addr, &ns).await })
    }));
    server_rt.block_on(server.shutdown());
    drop(client_rt);
    let mut r = r?;
    r.mode = Mode::Http;
    Ok(r)
}

// ---------------------------------------------------------------------------------------
// In process

/// What the server's job does for one `execute` on a new stream, without the protocol:
/// a connection, prepare, bind, every row into owned values, the change count.
struct ExecJob {
    sql: &'static str,
    args: Vec<strata::Value>,
    run: Option<(strata::Connection, strata::Statement, u64)>,
    /// The client's kept connection (`reuse_connections`): taken at the first poll,
    /// put back when the job is done.
    keep: Option<Arc<std::sync::Mutex<Option<strata::Connection>>>>,
    rows: Vec<Vec<strata::Value>>,
    busy_since: Option<Instant>,
    busy_timeout: Duration,
    submitted: Instant,
    queued: Option<Duration>,
    io_parks: u32,
}

/// Rows per poll before the job yields (the server's `ROWS_PER_POLL`).
const ROWS_PER_POLL: usize = 64;

impl ExecJob {
    fn new(op: &Op, keep: Option<Arc<std::sync::Mutex<Option<strata::Connection>>>>) -> ExecJob {
        let (sql, args) = match op {
            Op::Read => (READ_SQL, Vec::new()),
            Op::Upsert(args) => (UPSERT_SQL, args.iter().map(to_engine).collect()),
        };
        ExecJob {
            sql,
            args,
            run: None,
            keep,
            rows: Vec::new(),
            busy_since: None,
            busy_timeout: strata::DEFAULT_BUSY_TIMEOUT,
            submitted: Instant::now(),
            queued: None,
            io_parks: 0,
        }
    }

    fn poll(&mut self, cx: &mut JobCx<'_>) -> JobStep<Result<Outcome, String>> {
        if self.queued.is_none() {
            self.queued = Some(self.submitted.elapsed());
        }
        if self.run.is_none() {
            let kept = self
                .keep
                .as_ref()
                .and_then(|k| k.lock().unwrap_or_else(|p| p.into_inner()).take());
            let conn = kept.unwrap_or_else(|| cx.database().connect());
            let mut stmt = match cx.prepare(&conn, self.sql) {
                Ok(s) => s,
                Err(e) => return JobStep::Done(Err(format!("prepare: {e}"))),
            };
            for (i, v) in std::mem::take(&mut self.args).into_iter().enumerate() {
                if let Err(e) = stmt.bind_value(i + 1, v) {
                    return JobStep::Done(Err(format!("bind: {e}")));
                }
            }
            let before = conn.total_changes();
            self.run = Some((conn, stmt, before));
        }
        let (conn, stmt, before) = self.run.as_mut().expect("set above");
        let mut n = 0;
        loop {
            match cx.step::<Result<Outcome, String>>(stmt) {
                Err(e) => return JobStep::Done(Err(format!("step: {e}"))),
                Ok(Ok(true)) => {
                    self.busy_since = None;
                    self.rows.push(stmt.row().values());
                    n += 1;
                    if n >= ROWS_PER_POLL {
                        return JobStep::Yield;
                    }
                }
                Ok(Ok(false)) => {
                    let affected = if conn.total_changes() != *before {
                        conn.changes()
                    } else {
                        0
                    };
                    std::hint::black_box(&self.rows);
                    if let Some(k) = &self.keep {
                        let (conn, stmt, _) = self.run.take().expect("running");
                        drop(stmt);
                        *k.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn);
                    }
                    return JobStep::Done(Ok(Outcome {
                        rows: self.rows.len(),
                        affected,
                        queued: self.queued,
                        io_parks: self.io_parks,
                    }));
                }
                Ok(Err(JobStep::Busy)) => {
                    let since = *self.busy_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= self.busy_timeout {
                        stmt.reset();
                        return JobStep::Done(Err("database is locked".to_string()));
                    }
                    return JobStep::Busy;
                }
                Ok(Err(JobStep::Io)) => {
                    self.io_parks += 1;
                    return JobStep::Io;
                }
                Ok(Err(w)) => return w,
            }
        }
    }
}

fn to_engine(v: &h::Value) -> strata::Value {
    match v {
        h::Value::Null => strata::Value::Null,
        h::Value::Integer(i) => strata::Value::Integer(*i),
        h::Value::Float(f) => strata::Value::Real(*f),
        h::Value::Text(t) => strata::Value::Text(t.clone().into_bytes()),
        h::Value::Blob(b) => strata::Value::Blob(b.clone()),
    }
}

/// A client that submits jobs to the runtime.
struct RuntimeClient {
    runtime: Runtime,
    namespace: String,
    keep: Option<Arc<std::sync::Mutex<Option<strata::Connection>>>>,
}

impl Client for RuntimeClient {
    async fn send(&mut self, op: &Op) -> Result<Outcome, String> {
        let mut job = ExecJob::new(op, self.keep.clone());
        self.runtime
            .submit(&self.namespace, move |cx: &mut JobCx<'_>| job.poll(cx))
            .await
            .map_err(|e| e.to_string())?
    }
}

/// The runtime options and opener the server uses (`strata_server::Config::new`'s
/// defaults), with `loops` loops.
/// `sync_normal`: no fsync per commit (a diagnostic; the server fsyncs).
pub fn server_like_runtime(
    db_dir: &Path,
    loops: usize,
    sync_normal: bool,
) -> std::io::Result<Runtime> {
    let defaults = strata_server::Config::new(db_dir);
    let root: PathBuf = db_dir.to_path_buf();
    let busy = defaults.busy_timeout;
    let opener: Opener = Arc::new(move |ns: &str, io| {
        let mut o = strata::OpenOptions::new().io(io).busy_timeout(busy);
        if sync_normal {
            o = o.sync_mode(strata::SyncMode::Normal);
        }
        o.open(root.join(format!("{ns}.db")))
    });
    Runtime::start(
        RuntimeOptions {
            loops: loops.max(1),
            insn_budget: defaults.insn_budget,
            io: IoBackend::Auto,
            max_open_databases: None,
        },
        opener,
    )
}

/// [`Mode::InProcess`]: the same requests as jobs on a runtime of `cfg.loops` loops.
pub fn run_in_process(
    cfg: &LoadConfig,
    db_dir: &Path,
    namespaces: &[String],
    table_rows: usize,
) -> Result<LoadResult, String> {
    let runtime =
        server_like_runtime(db_dir, cfg.loops, cfg.sync_normal).map_err(|e| e.to_string())?;
    let reuse = cfg.reuse_connections;
    let client_rt = tokio_runtime(cfg.client_threads, "client-tokio")?;
    let rt = runtime.clone();
    let r = client_rt.block_on(run_clients(cfg, namespaces, table_rows, move |ns| {
        let c = RuntimeClient {
            runtime: rt.clone(),
            namespace: ns.to_string(),
            keep: reuse.then(|| Arc::new(std::sync::Mutex::new(None))),
        };
        Box::pin(async move { Ok(c) })
    }));
    drop(client_rt);
    runtime.shutdown();
    let mut r = r?;
    r.mode = Mode::InProcess;
    Ok(r)
}

/// Runs `mode` on a fresh copy of the namespaces (laid from `template` into `db_dir`).
pub fn run(
    mode: Mode,
    cfg: &LoadConfig,
    template: &Path,
    table_rows: usize,
    db_dir: &Path,
) -> Result<LoadResult, String> {
    let namespaces = lay_namespaces(template, db_dir, cfg.namespaces)
        .map_err(|e| format!("lay namespaces: {e}"))?;
    match mode {
        Mode::Http => run_http(cfg, db_dir, &namespaces, table_rows),
        Mode::InProcess => run_in_process(cfg, db_dir, &namespaces, table_rows),
    }
}

// ---------------------------------------------------------------------------------------
// Report

/// One line of the CSV / table.
pub struct LoadRow {
    /// `http`, `in-process`, or `in-process` with the diagnostics' suffixes
    /// (`+reuse-conn`, `+sync-normal`).
    pub mode: String,
    pub namespaces: usize,
    pub clients_per_namespace: usize,
    pub op: &'static str,
    pub ok: u64,
    pub errors: u64,
    pub summary: crate::report::Summary,
    pub req_per_s: f64,
}

/// Rows `read`, `write` and `all` of a result.
pub fn rows_of(r: &LoadResult, cfg: &LoadConfig) -> Vec<LoadRow> {
    let secs = r.wall.as_secs_f64().max(1e-9);
    let mut mode = r.mode.name().to_string();
    if r.mode == Mode::InProcess {
        if cfg.reuse_connections {
            mode.push_str("+reuse-conn");
        }
        if cfg.sync_normal {
            mode.push_str("+sync-normal");
        }
    }
    let mk = |op: &'static str, h: &Histogram<u64>, ok: u64, errors: u64| LoadRow {
        mode: mode.clone(),
        namespaces: cfg.namespaces,
        clients_per_namespace: cfg.clients_per_namespace,
        op,
        ok,
        errors,
        summary: crate::report::Summary::of(h),
        req_per_s: ok as f64 / secs,
    };
    vec![
        mk("read", &r.reads.histogram, r.reads.ok, r.reads.errors),
        mk("write", &r.writes.histogram, r.writes.ok, r.writes.errors),
        mk(
            "all",
            &r.all(),
            r.reads.ok + r.writes.ok,
            r.reads.errors + r.writes.errors,
        ),
    ]
}

pub const LOAD_CSV_HEADER: &str =
    "mode,namespaces,clients_per_ns,op,ok,errors,p50_us,p99_us,p999_us,max_us,req_per_s";

pub fn load_csv(rows: &[LoadRow]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from(LOAD_CSV_HEADER);
    s.push('\n');
    for r in rows {
        let m = &r.summary;
        let _ = writeln!(
            s,
            "{},{},{},{},{},{},{:.1},{:.1},{:.1},{:.1},{:.0}",
            r.mode,
            r.namespaces,
            r.clients_per_namespace,
            r.op,
            r.ok,
            r.errors,
            m.p50_us,
            m.p99_us,
            m.p999_us,
            m.max_us,
            r.req_per_s
        );
    }
    s
}

/// Markdown table (also printed on stdout).
pub fn load_table(rows: &[LoadRow]) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let w = rows.iter().map(|r| r.mode.len()).max().unwrap_or(4).max(10);
    let _ = writeln!(
        s,
        "| {:<w$} | ns  | cl/ns | op    |     ok | err |  p50 us |  p99 us | p99.9 us |   max us | p99.9/p50 |  req/s |",
        "mode"
    );
    let _ = writeln!(
        s,
        "|{:-<w2$}|----:|------:|-------|-------:|----:|--------:|--------:|---------:|---------:|----------:|-------:|",
        "",
        w2 = w + 2
    );
    for r in rows {
        let m = &r.summary;
        let ratio = if m.p50_us > 0.0 {
            format!("{:.1}", m.p999_us / m.p50_us)
        } else {
            "-".to_string()
        };
        let _ = writeln!(
            s,
            "| {:<w$} | {:>3} | {:>5} | {:<5} | {:>6} | {:>3} | {:>7.0} | {:>7.0} | {:>8.0} | {:>8.0} | {:>9} | {:>6.0} |",
            r.mode,
            r.namespaces,
            r.clients_per_namespace,
            r.op,
            r.ok,
            r.errors,
            m.p50_us,
            m.p99_us,
            m.p999_us,
            m.max_us,
            ratio,
            r.req_per_s
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_mix_follows_the_write_share() {
        let mut g = OpGen::new(7, 25, 1000);
        let writes = (0..4000)
            .filter(|_| matches!(g.next(), Op::Upsert(_)))
            .count();
        assert!((800..1200).contains(&writes), "{writes}");
        let mut g = OpGen::new(7, 0, 1000);
        assert!((0..100).all(|_| matches!(g.next(), Op::Read)));
    }

    #[test]
    fn response_decoding_refuses_errors_and_short_results() {
        let ok = r#"{"baton":null,"base_url":null,"results":[
            {"type":"ok","response":{"type":"execute","result":{"cols":[],"rows":[[{"type":"integer","value":"1"}]],"affected_row_count":0,"last_insert_rowid":null}}},
            {"type":"ok","response":{"type":"close"}}]}"#;
        let o = decode_response(ok.as_bytes()).unwrap();
        assert_eq!((o.rows, o.affected), (1, 0));
        let failed = r#"{"results":[{"type":"error","error":{"message":"no such table: users","code":"SQLITE_ERROR"}},
            {"type":"ok","response":{"type":"close"}}]}"#;
        let e = decode_response(failed.as_bytes()).err().unwrap();
        assert!(e.contains("no such table"), "{e}");
        let short = r#"{"results":[{"type":"ok","response":{"type":"close"}}]}"#;
        assert!(decode_response(short.as_bytes()).is_err());
        let short = Outcome {
            rows: 99,
            affected: 0,
            queued: None,
            io_parks: 0,
        };
        assert!(check(&Op::Read, &short).is_err());
    }
}
