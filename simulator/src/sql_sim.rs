//! The SQL workload: tenants (databases on one [`SimIo`]), several connections each,
//! random schemas and statements run through Strata's public API, stepped without
//! blocking and interleaved on one thread, every statement mirrored on SQLite.
//!
//! ## The oracle
//! Each tenant has an in-memory SQLite database holding its *committed* state. A
//! connection inside an explicit transaction works on a private copy taken when its
//! transaction's first statement starts (its snapshot); `COMMIT` of a transaction that
//! wrote makes the copy the committed state (a writer always starts from the newest
//! snapshot, so nothing else committed meanwhile). Reads are evaluated on SQLite when the
//! Strata statement starts (that is when its snapshot is taken) and compared when it ends;
//! writes are applied when they end (a writer holds the write lock throughout, so its
//! view cannot change in between).
//!
//! So that "when a statement starts" and "when a commit happens" line up in both engines,
//! no statement of a tenant *starts* while a statement that can commit (an autocommit
//! write, or `COMMIT`) is running on another of its connections; statements already
//! running go on interleaving with it, and different tenants are independent. A statement
//! that gets `Busy` changed nothing: it is reset and starts again later (re-evaluated
//! then). A write refused because its transaction's snapshot is stale is permanent: the
//! simulator rolls that transaction back (both engines).
//!
//! ## What is checked
//! - every result equals SQLite's (as a sequence under `ORDER BY`, else as a multiset);
//!   both engines fail, or neither (messages are not compared);
//! - transaction state (autocommit or not) is the same as the model's after every statement;
//! - a write never succeeds on a stale snapshot (lost update);
//! - `PRAGMA integrity_check` (Strata's) returns `ok` whenever it runs, after every
//!   recovery and at the end; SQLite's `integrity_check` on the files copied out of SimIo,
//!   and SQLite's reading of them, equal the model;
//! - an injected fault is attributed (`SimIo::set_tag`) to the statement that submitted the
//!   failing operation; that statement must fail. **After an I/O error:** a statement
//!   inside an explicit transaction: the simulator rolls the transaction back (`ROLLBACK`;
//!   Strata may already have), and so does the model. An autocommit write or a `COMMIT`
//!   that failed may or may not have committed (an fsync failure leaves the frames in the
//!   WAL, a failed autocheckpoint comes after the commit): the live database must hold the
//!   state before or after it, the model follows, and "after" stays allowed for recovery.
//! - after a power loss every database must equal the last acknowledged commit or one
//!   attempted after it (in flight, failed): never a partial transaction, never a lost
//!   acknowledged commit.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::Connection as Sqlite;
use strata::{Database, OpenOptions, StepResult};
use strata_io::IO;

use crate::oracle::{self, Dump, Rows, Val};
use crate::plan::{Item, Plan, SqlConfig};
use crate::savepoint::{self, Effect, Savepoints};
use crate::sim_io::{CrashMode, FaultConfig, SimIo, SimIoOptions, SimStats};
use crate::sqlgen::{self, classify, Kind, SchemaDef};

type Violation = String;

/// Polls of a statement refused with `Busy` by a lock nobody in the model holds before it
/// is given up (a checkpoint waiting for readers, for instance).
const BUSY_LIMIT: u32 = 400;

/// Attempts at a new connection's setup pragma that an injected I/O fault failed.
const CONNECT_RETRIES: u32 = 20;

/// Streams of the seed (so that one decision does not shift the others).
const STREAM_SCHEMA: u64 = 21;
const STREAM_PLAN: u64 = 22;
const STREAM_SCHED: u64 = 23;
const STREAM_FAULTS: u64 = 24;
const STREAM_TENANTS: u64 = 25;
/// Per-tenant text encodings (its own stream, so adding it changed no other draw).
const STREAM_ENCODING: u64 = 26;
/// Per-tenant auto-vacuum modes (own stream too).
const STREAM_AUTO_VACUUM: u64 = 27;

/// After a DML statement that succeeded on both engines: Strata's `changes()` must be
/// SQLite's (rows the statement itself inserted, updated or deleted; not its triggers' or
/// foreign-key actions'). `model` is the SQLite connection that just ran `sql`.
fn changes_differ(
    strata: Option<&strata::Connection>,
    model: &rusqlite::Connection,
    sql: &str,
) -> Option<String> {
    if !sqlgen::is_dml(sql) {
        return None;
    }
    let ours = strata?.changes();
    let theirs = model.changes();
    (ours != theirs).then(|| format!("changes() is {ours}, SQLite says {theirs}"))
}

fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// How often each check ran; a zero is a check that did not run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SqlChecks {
    pub statements: u64,
    pub results_compared: u64,
    pub rows_compared: u64,
    pub both_failed: u64,
    pub commits_acked: u64,
    pub rollbacks: u64,
    pub checkpoints: u64,
    pub integrity_checks: u64,
    pub sqlite_file_checks: u64,
    pub busy: u64,
    pub busy_gave_up: u64,
    pub stale_snapshots_refused: u64,
    /// Autocommit reads recompiled after a schema change whose result matched the
    /// committed state at their end rather than at their start.
    pub late_snapshot_reads: u64,
    pub io_errors_injected: u64,
    pub io_errors_surfaced: u64,
    pub io_errors_abandoned: u64,
    pub maybe_commits: u64,
    pub maybe_commits_applied: u64,
    pub recoveries: u64,
    pub recovered_unacked: u64,
    pub sqlite_saw_unacked: u64,
    /// CREATE/DROP TABLE/INDEX that succeeded mid-workload (`churn`).
    pub ddl: u64,
    /// Conditional DDL that was a no-op inside a transaction (not a write: see `finish`).
    pub noop_ddl: u64,
    /// The largest `PRAGMA freelist_count` Strata reported at the end-of-run and
    /// after-recovery checks: free pages the integrity checks saw (0: the freelist was
    /// never exercised at a check, so a freelist defect could not show there).
    pub freelist_pages_max: u64,
    /// INSERT/UPDATE/DELETE statements after which the connection's `changes()` was
    /// compared with SQLite's for the same statement.
    pub changes_compared: u64,
    /// Dirty-page spills (write transactions larger than the page cache writing pages to
    /// the WAL before commit), summed over the tenants' storages.
    pub spills: u64,
    /// Savepoint statements that succeeded: SAVEPOINT (`savepoints_opened`), RELEASE
    /// (`savepoints_released`, of which `savepoint_commits` committed a transaction a
    /// SAVEPOINT started) and ROLLBACK TO (`savepoints_rolled_back`).
    pub savepoints_opened: u64,
    pub savepoints_released: u64,
    pub savepoint_commits: u64,
    pub savepoints_rolled_back: u64,
    /// RELEASE / ROLLBACK TO of a name not open: both engines failed with the same error.
    pub savepoint_errors: u64,
    /// Re-spills that kept a page's frame because an open savepoint's image of the page is
    /// that frame (`Storage::spill_pinned_count`, summed over the tenants' storages): the
    /// pager's rare `frame_pinned` case, reached by the `savepoints` group's scripts under
    /// `--small-cache`.
    pub spill_pinned: u64,
}

impl SqlChecks {
    pub fn line(&self) -> String {
        format!(
            "checks: statements={} results_compared={} rows_compared={} both_failed={} commits_acked={} \
             rollbacks={} checkpoints={} integrity_checks={} sqlite_file_checks={} busy={} busy_gave_up={} \
             stale_snapshots_refused={} late_snapshot_reads={} io_errors_injected={} io_errors_surfaced={} io_errors_abandoned={} \
             maybe_commits={} maybe_commits_applied={} recoveries={} recovered_unacked={} sqlite_saw_unacked={} \
             ddl={} noop_ddl={} freelist_pages_max={} changes_compared={} spills={} \
             savepoints_opened={} savepoints_released={} savepoint_commits={} savepoints_rolled_back={} \
             savepoint_errors={} spill_pinned={}",
            self.statements,
            self.results_compared,
            self.rows_compared,
            self.both_failed,
            self.commits_acked,
            self.rollbacks,
            self.checkpoints,
            self.integrity_checks,
            self.sqlite_file_checks,
            self.busy,
            self.busy_gave_up,
            self.stale_snapshots_refused,
            self.late_snapshot_reads,
            self.io_errors_injected,
            self.io_errors_surfaced,
            self.io_errors_abandoned,
            self.maybe_commits,
            self.maybe_commits_applied,
            self.recoveries,
            self.recovered_unacked,
            self.sqlite_saw_unacked,
            self.ddl,
            self.noop_ddl,
            self.freelist_pages_max,
            self.changes_compared,
            self.spills,
            self.savepoints_opened,
            self.savepoints_released,
            self.savepoint_commits,
            self.savepoints_rolled_back,
            self.savepoint_errors,
            self.spill_pinned,
        )
    }

    /// The checks a run with this configuration should have exercised but did not: a
    /// non-empty list is printed (`not exercised: ...`) so that a silently disabled oracle,
    /// fault source or workload part shows in the per-seed report. Whether a short run
    /// legitimately misses one is for the reader (and `tests/seeds.rs`, over many seeds).
    pub fn unexercised(&self, config: &SqlConfig) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut want = |name: &'static str, n: u64, applies: bool| {
            if applies && n == 0 {
                out.push(name);
            }
        };
        want("results_compared", self.results_compared, true);
        want("commits_acked", self.commits_acked, true);
        want(
            "changes_compared",
            self.changes_compared,
            config.statements >= 100,
        );
        want("integrity_checks", self.integrity_checks, true);
        want(
            "sqlite_file_checks",
            self.sqlite_file_checks,
            std::env::var_os("STRATA_SIM_NO_SQLITE").is_none(),
        );
        let crashes = matches!(
            config.faults,
            crate::workload::FaultMode::Crash | crate::workload::FaultMode::All
        );
        let errors = matches!(
            config.faults,
            crate::workload::FaultMode::Errors | crate::workload::FaultMode::All
        );
        want("recoveries", self.recoveries, crashes);
        want("io_errors_surfaced", self.io_errors_surfaced, errors);
        let churn = config.features.churn && config.statements >= 100;
        // Not freelist_pages_max: it is 0 in about two runs of three (the freelist is
        // empty again at the checks), which would drown the flag; tests/sql.rs asserts it
        // over seeds.
        want("ddl", self.ddl, churn);
        let savepoints = config.features.savepoints && config.statements >= 100;
        want("savepoints_opened", self.savepoints_opened, savepoints);
        want(
            "savepoints_rolled_back",
            self.savepoints_rolled_back,
            savepoints,
        );
        want("savepoint_errors", self.savepoint_errors, savepoints);
        out
    }
}

/// What a SQL run did and found.
#[derive(Clone, Debug)]
pub struct SqlReport {
    pub config: SqlConfig,
    pub setup: Vec<String>,
    pub checks: SqlChecks,
    pub stats: SimStats,
    pub faults: FaultConfig,
    pub sim_micros: u64,
    pub failure: Option<String>,
    pub digest: u64,
    /// The plan that ran (the shrunk plan after shrinking).
    pub plan: Plan,
    /// I/O operations the workload performed (after creating the databases, before the
    /// final checks): the points an exhaustive test enumerates.
    pub workload_ops: u64,
}

impl SqlReport {
    pub fn header(&self) -> Vec<String> {
        let c = &self.config;
        let mut out = vec![format!(
            "seed: {} workload: sql statements: {} tenants: {} connections: {} faults: {} torn_garbage: {} small_cache: {}",
            c.seed, c.statements, c.tenants, c.connections, c.faults.name(), c.torn_garbage, c.small_cache
        )];
        out.push(format!(
            "fault config: read_error={} write_error={} sync_error={} disk_budget_bytes={:?} persistent={}",
            self.faults.read_error,
            self.faults.write_error,
            self.faults.sync_error,
            self.faults.disk_budget_bytes,
            c.faults.errors()
        ));
        out.extend(self.setup.iter().cloned());
        out
    }

    pub fn body(&self) -> Vec<String> {
        let mut out = vec![self.checks.line()];
        let missing = self.checks.unexercised(&self.config);
        if !missing.is_empty() {
            out.push(format!("not exercised: {}", missing.join(" ")));
        }
        let s = &self.stats;
        out.push(format!(
            "io: submitted={} performed={} reordered={} reads={} writes={} syncs={} truncates={} \
             read_errors={} write_errors={} sync_errors={} disk_full={} persistent_errors={} \
             crashes={} pending_dropped={} pending_kept={} pending_torn={} inflight_discarded={} sim_time_us={}",
            s.submitted,
            s.performed,
            s.reordered,
            s.reads,
            s.writes,
            s.syncs,
            s.truncates,
            s.read_errors,
            s.write_errors,
            s.sync_errors,
            s.disk_full_errors,
            s.persistent_errors,
            s.crashes,
            s.pending_dropped,
            s.pending_kept,
            s.pending_torn,
            s.inflight_discarded,
            self.sim_micros,
        ));
        out
    }
}

/// A statement in progress on a connection.
struct Running {
    idx: usize,
    sql: String,
    kind: Kind,
    stmt: Option<strata::Statement>,
    rows: Rows,
    /// SQLite's answer for reads, evaluated when the statement started.
    expected: Option<Result<Rows, String>>,
    /// Started (past `Busy`); a `Busy` puts it back to not started.
    started: bool,
    tag: u64,
    faults: u64,
    /// Of `faults`, how many were reads.
    read_faults: u64,
    busy: u32,
    /// This start took the transaction's snapshot (its first statement reading main): a
    /// `Busy` gives it back.
    took_snapshot: bool,
    /// `Statement::schema_recompiles` when the statement last started or was refused: a
    /// higher count at a `Busy` means this run was compiled again after a schema change.
    recompiles_seen: u32,
    /// For an autocommit read: the committed states of commits made while it ran (at
    /// most [`MAX_SEEN_STATES`]): a read recompiled after a schema change may have taken
    /// its snapshot at any of them (see `late_snapshot_matches`).
    seen_states: Vec<Sqlite>,
    /// For `VACUUM INTO` in autocommit: the model's content when it started (what the
    /// new file must hold).
    expected_dump: Option<oracle::Dump>,
}

/// Committed states kept per running autocommit read.
const MAX_SEEN_STATES: usize = 16;

struct Conn {
    conn: Option<strata::Connection>,
    queue: VecDeque<usize>,
    running: Option<Running>,
    /// Model: inside an explicit transaction.
    in_tx: bool,
    /// Model: the transaction's snapshot (taken at its first statement).
    private: Option<Sqlite>,
    snap_seq: u64,
    /// `Tenant::content_seq` when the snapshot was taken.
    snap_content_seq: u64,
    /// Model: the transaction wrote successfully (holds the write lock).
    tx_wrote: bool,
    /// Model of the connection's TEMP schema: a SQLite connection of its own (created
    /// at the first temp statement) on which temp statements run verbatim. Temp objects
    /// belong to one connection in both engines, and temp statements never touch `main`
    /// (see `sqlgen::gen_temp`), so this mirror is exact without knowing the tenant's
    /// committed state; one SQLite connection per tenant could not hold a temp schema per
    /// connection. It follows the connection's transactions (BEGIN at the first temp
    /// statement inside one, COMMIT/ROLLBACK with it). After an I/O error its state is
    /// not known (did the failed COMMIT keep the temp changes?), so the connection is
    /// replaced by a new one (no temp objects) and so is the mirror.
    temp: Option<Sqlite>,
    /// The mirror has an open transaction.
    temp_in_tx: bool,
    /// Faults that hit operations of this connection's finished statements since its
    /// last statement ended: the next statement may fail of them (a spill in flight).
    carried_faults: u64,
    /// Model: the transaction's open savepoints.
    sp: Savepoints,
}

impl Conn {
    fn new() -> Conn {
        Conn {
            conn: None,
            queue: VecDeque::new(),
            running: None,
            in_tx: false,
            private: None,
            snap_seq: 0,
            snap_content_seq: 0,
            tx_wrote: false,
            temp: None,
            temp_in_tx: false,
            carried_faults: 0,
            sp: Savepoints::default(),
        }
    }

    /// Inside the connection's transaction, the mirror's starts with its first use: BEGIN
    /// and the open savepoints (ROLLBACK TO undoes temp changes too). Creates the mirror
    /// when `create`, else does nothing without one.
    fn begin_mirror_tx(&mut self, create: bool) -> Result<(), String> {
        if create {
            self.temp.get_or_insert_with(oracle::memory);
        }
        let Some(mirror) = self.temp.as_ref() else {
            return Ok(());
        };
        if self.in_tx && !self.temp_in_tx {
            oracle::exec(mirror, "BEGIN").map_err(|e| format!("temp mirror BEGIN: {e}"))?;
            self.sp
                .replay(mirror)
                .map_err(|e| format!("temp mirror: {e}"))?;
            self.temp_in_tx = true;
        }
        Ok(())
    }

    /// The connection's transaction ended: the temp mirror's ends the same way.
    fn end_temp_tx(&mut self, commit: bool) {
        if self.temp_in_tx {
            if let Some(m) = &self.temp {
                let sql = if commit { "COMMIT" } else { "ROLLBACK" };
                oracle::exec(m, sql).expect("temp mirror COMMIT/ROLLBACK");
            }
            self.temp_in_tx = false;
        }
    }

    /// A new Strata connection replaces this one: no temp objects on either side.
    fn forget_temp(&mut self) {
        self.temp = None;
        self.temp_in_tx = false;
    }

    fn reset_tx(&mut self) {
        self.in_tx = false;
        self.private = None;
        self.tx_wrote = false;
        self.sp = Savepoints::default();
    }

    /// The transaction's snapshot: a copy of the committed state, with the savepoints the
    /// transaction opened before it (see `savepoint`).
    fn snapshot_of(&self, committed: &Sqlite) -> Result<Sqlite, Violation> {
        let db = oracle::copy(committed);
        self.sp.replay(&db)?;
        Ok(db)
    }
}

struct Candidate {
    dump: Dump,
    db: Sqlite,
}

struct Tenant {
    path: String,
    options: OpenOptions,
    /// The sorter budget of this tenant's connections (`--small-cache`: tiny, so that
    /// ORDER BY / GROUP BY / CREATE INDEX spill runs to temporary files under faults).
    sorter_budget: Option<usize>,
    tables: Vec<String>,
    db: Option<Database>,
    conns: Vec<Conn>,
    committed: Sqlite,
    /// Commits (acknowledged or applied): a snapshot older than this *may* be stale (a
    /// commit that changed no page writes nothing, so the engine may still accept it).
    commit_seq: u64,
    /// Commits that changed the contents: a snapshot older than this *is* stale.
    content_seq: u64,
    /// The dump of `committed`.
    last_dump: Dump,
    /// Recovery candidates: `[0]` is the last acknowledged commit, then states attempted
    /// since (failed or in-flight commits), in order.
    candidates: Vec<Candidate>,
    /// Model: the connection holding the write lock inside an explicit transaction.
    writer: Option<usize>,
    /// The connection running a statement that can commit (no other may start).
    committing: Option<usize>,
    /// Recompiled autocommit reads that saw a commit published but not yet acknowledged
    /// (the writer's statement still runs its autocheckpoint): checked against the
    /// committed state when that writer's statement ends.
    deferred_reads: Vec<DeferredRead>,
}

/// See [`Tenant::deferred_reads`].
struct DeferredRead {
    conn: usize,
    writer: usize,
    sql: String,
    rows: Vec<Vec<Val>>,
}

struct Sim<'p> {
    config: SqlConfig,
    io: Arc<SimIo>,
    sched: ChaCha8Rng,
    plan: &'p Plan,
    tenants: Vec<Tenant>,
    checks: SqlChecks,
    next_tag: u64,
    live: BTreeMap<u64, (usize, usize)>,
    /// Tags of finished statements: an operation a statement submitted may complete
    /// (and fail) while a later statement of the same connection drives it (a dirty-page
    /// spill started by one statement and finished by the next).
    finished_tags: BTreeMap<u64, (usize, usize)>,
    crashes_handled: u64,
    finished: usize,
    /// I/O operations performed while the databases were created.
    ops_before_workload: u64,
    /// I/O operations of the workload itself (before the final checks).
    workload_ops: u64,
}

/// Builds the plan a seed's run executes.
pub fn generate_plan(config: &SqlConfig) -> Plan {
    let schemas = schemas(config);
    let mut r = rng(config.seed, STREAM_PLAN);
    let mut items = Vec::new();
    let crash_p = if config.faults.crashes() {
        (8.0 / config.statements.max(1) as f64).min(0.3)
    } else {
        0.0
    };
    for _ in 0..config.statements {
        if crash_p > 0.0 && r.gen_bool(crash_p) {
            let ops = if r.gen_bool(0.15) {
                0
            } else {
                r.gen_range(1..=8)
            };
            items.push(Item::Crash { ops });
        }
        let tenant = r.gen_range(0..config.tenants.max(1));
        let conn = r.gen_range(0..config.connections.max(1));
        for sql in sqlgen::gen_statements(&mut r, &schemas[tenant]) {
            let id = items.len() as u64;
            items.push(Item::Stmt {
                tenant,
                conn,
                id,
                sql,
            });
        }
    }
    Plan { items }
}

fn schemas(config: &SqlConfig) -> Vec<SchemaDef> {
    let mut r = rng(config.seed, STREAM_SCHEMA);
    (0..config.tenants.max(1))
        .map(|_| sqlgen::gen_schema(&mut r, &config.features))
        .collect()
}

fn fault_config(config: &SqlConfig) -> FaultConfig {
    let mut r = rng(config.seed, STREAM_FAULTS);
    if !config.faults.errors() {
        return FaultConfig::NONE;
    }
    let pick = |r: &mut ChaCha8Rng, c: &[f64]| c[r.gen_range(0..c.len())];
    FaultConfig {
        read_error: pick(&mut r, &[0.0, 0.002, 0.005, 0.01]),
        write_error: pick(&mut r, &[0.0, 0.002, 0.005, 0.01]),
        sync_error: pick(&mut r, &[0.0, 0.005, 0.01, 0.03]),
        disk_budget_bytes: if r.gen_bool(0.25) {
            Some(r.gen_range(96..768) * 1024)
        } else {
            None
        },
    }
}

/// Runs a seed's generated plan (see [`run_plan`]).
pub fn run(config: &SqlConfig) -> SqlReport {
    let plan = generate_plan(config);
    run_plan(config, &plan)
}

/// Runs `plan`; never panics on an engine failure or panic (it is the report's failure).
pub fn run_plan(config: &SqlConfig, plan: &Plan) -> SqlReport {
    let faults = fault_config(config);
    let mut io_options = SimIoOptions::new(config.seed);
    io_options.faults = faults;
    io_options.crash_mode = match config.scheduled {
        Some(crate::plan::Scheduled::CrashAfter(_, mode)) => mode,
        _ => CrashMode::Random,
    };
    io_options.torn_garbage = config.torn_garbage;
    io_options.max_latency_micros = rng(config.seed, STREAM_FAULTS + 100).gen_range(1..=1000);
    let io = Arc::new(SimIo::new(io_options));
    io.set_verbose(config.verbose);
    if config.faults.errors() {
        io.set_persistent_faults(0.2, 3);
    }
    io.set_keyed_faults(true);
    let mut sim = Sim {
        config: *config,
        io: io.clone(),
        sched: rng(config.seed, STREAM_SCHED),
        plan,
        tenants: Vec::new(),
        checks: SqlChecks::default(),
        next_tag: 1,
        live: BTreeMap::new(),
        finished_tags: BTreeMap::new(),
        crashes_handled: 0,
        finished: 0,
        ops_before_workload: 0,
        workload_ops: 0,
    };
    let mut setup = Vec::new();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sim.setup(&mut setup)?;
        let base = sim.io.stats().performed;
        sim.ops_before_workload = base;
        match sim.config.scheduled {
            Some(crate::plan::Scheduled::FailOp(n)) => sim.io.fail_op(base + n),
            Some(crate::plan::Scheduled::CrashAfter(n, _)) => sim.io.crash_after_op(base + n),
            None => {}
        }
        sim.main_loop()
    }));
    for tenant in &sim.tenants {
        if let Some(db) = &tenant.db {
            sim.checks.spills += db.storage().spill_count();
            sim.checks.spill_pinned += db.storage().spill_pinned_count();
        }
    }
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(v)) => Some(format!("after {} statements: {v}", sim.finished)),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "?".into());
            Some(format!("after {} statements: panic: {msg}", sim.finished))
        }
    };
    io.trace("end", &[failure.is_some() as u64]);
    let stats = io.stats();
    let sim_micros = io.now_micros().saturating_sub(io_options.start_micros);
    let digest = io.digest();
    let checks = sim.checks;
    let workload_ops = sim.workload_ops;
    // Engine objects go before the IO.
    drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        move || drop(sim),
    )));
    SqlReport {
        config: *config,
        setup,
        checks,
        stats,
        faults,
        sim_micros,
        failure,
        digest,
        plan: plan.clone(),
        workload_ops,
    }
}

fn err_text(e: &strata::Error) -> String {
    e.to_string()
}

impl<'p> Sim<'p> {
    fn crashed(&self) -> bool {
        self.io.stats().crashes > self.crashes_handled
    }

    fn setup(&mut self, lines: &mut Vec<String>) -> Result<(), Violation> {
        let schemas = schemas(&self.config);
        let mut r = rng(self.config.seed, STREAM_TENANTS);
        let mut r_enc = rng(self.config.seed, STREAM_ENCODING);
        let mut r_av = rng(self.config.seed, STREAM_AUTO_VACUUM);
        self.io.set_faults_enabled(false);
        for (t, schema) in schemas.iter().enumerate() {
            let page_size = [512usize, 1024, 4096][r.gen_range(0..3)];
            // Half the tenants are UTF-16 databases (issue 17): text stored converted,
            // BINARY order of the encoding, set before the first table on both engines.
            let drawn = ["UTF-8", "UTF-8", "UTF-16le", "UTF-16be"][r_enc.gen_range(0..4)];
            let encoding = self.config.encoding.unwrap_or(drawn);
            // Half the tenants are auto-vacuum databases: pointer maps kept on every
            // commit, FULL truncation, incremental_vacuum, all under power loss.
            let drawn_av = ["NONE", "NONE", "FULL", "INCREMENTAL"][r_av.gen_range(0..4)];
            let auto_vacuum = self.config.auto_vacuum.unwrap_or(drawn_av);
            let encoding_sql =
                format!("PRAGMA encoding = '{encoding}'; PRAGMA auto_vacuum = {auto_vacuum}");
            let cache = if self.config.small_cache {
                [4usize, 16, 64, 2000][r.gen_range(0..4)]
            } else {
                2000
            };
            let autockpt = [0u64, 8, 32, 200][r.gen_range(0..4)];
            // journal_size_limit (truncation of the WAL at its restarts, under faults and
            // power loss): derived from the draws above (no extra draw).
            let journal_limit = match (autockpt, page_size) {
                (8, _) => Some(0i64),
                (32, 1024) | (200, 512) => Some(8 * 1024),
                _ => None,
            };
            let mut options = OpenOptions::new()
                .page_size(page_size)
                .cache_size_pages(cache)
                .autocheckpoint_frames(autockpt)
                .sync_mode(strata::SyncMode::Full)
                .busy_timeout(std::time::Duration::ZERO)
                .io(self.io.clone() as Arc<dyn IO>);
            if let Some(l) = journal_limit {
                options = options.journal_size_limit(l);
            }
            // Derived from the cache draw (no extra random draw: seeds keep their plans).
            let sorter_budget = match cache {
                16 => Some(4 * 1024),
                64 => Some(16 * 1024),
                _ => None,
            };
            lines.push(format!(
                "tenant {t}: page_size={page_size} cache_size_pages={cache} sorter_budget={} autocheckpoint_frames={autockpt} journal_size_limit={} sync=full encoding={encoding} auto_vacuum={auto_vacuum} tables={}",
                sorter_budget.map_or("default".to_string(), |b| b.to_string()),
                journal_limit.unwrap_or(-1),
                schema.tables.len()
            ));
            for d in &schema.ddl {
                lines.push(format!("  {d}"));
            }
            let committed = oracle::memory();
            oracle::exec(&committed, &encoding_sql)
                .map_err(|e| format!("SQLite refused {encoding_sql}: {e}"))?;
            for d in &schema.ddl {
                oracle::exec(&committed, d).map_err(|e| format!("SQLite refused {d}: {e}"))?;
            }
            let tables: Vec<String> = schema.tables.iter().map(|x| x.name.clone()).collect();
            let dump = oracle::dump_sqlite(&committed, &tables)?;
            let candidate = Candidate {
                dump: dump.clone(),
                db: oracle::copy(&committed),
            };
            let mut tenant = Tenant {
                path: format!("tenant{t}.db"),
                options,
                sorter_budget,
                tables,
                db: None,
                conns: (0..self.config.connections.max(1))
                    .map(|_| Conn::new())
                    .collect(),
                last_dump: dump,
                committed,
                commit_seq: 0,
                content_seq: 0,
                candidates: vec![candidate],
                writer: None,
                committing: None,
                deferred_reads: Vec::new(),
            };
            let db = tenant
                .options
                .open(&tenant.path)
                .map_err(|e| format!("tenant {t}: open: {e}"))?;
            let c = db.connect();
            c.execute_batch(&encoding_sql)
                .map_err(|e| format!("tenant {t}: {encoding_sql}: {e}"))?;
            for d in &schema.ddl {
                c.execute_batch(d)
                    .map_err(|e| format!("tenant {t}: {d}: {e}"))?;
            }
            drop(c);
            tenant.db = Some(db);
            self.tenants.push(tenant);
            self.connect_all(t)?;
            // (`blocking_on` switched faults back on.)
            self.io.set_faults_enabled(false);
        }
        for (i, item) in self.plan.items.iter().enumerate() {
            if let Item::Stmt { tenant, conn, .. } = item {
                if *tenant < self.tenants.len() && *conn < self.tenants[*tenant].conns.len() {
                    self.tenants[*tenant].conns[*conn].queue.push_back(i);
                }
            }
        }
        self.io.set_faults_enabled(true);
        Ok(())
    }

    fn connect_all(&mut self, t: usize) -> Result<(), Violation> {
        for c in 0..self.tenants[t].conns.len() {
            self.connect(t, c)?;
        }
        Ok(())
    }

    /// A new Strata connection for connection `c` (the old one, if any, is closed: its
    /// temp objects go with it). Foreign keys on when the generator writes them, as on
    /// the model's SQLite (`oracle::memory`).
    fn connect(&mut self, t: usize, c: usize) -> Result<(), Violation> {
        let conn = self.tenants[t]
            .db
            .as_ref()
            .expect("open database")
            .connect();
        conn.set_busy_timeout_ms(0);
        conn.set_sorter_budget_bytes(self.tenants[t].sorter_budget);
        if self.config.features.foreign_keys {
            // The pragma loads the schema, and blocking on it drives the IO, which may
            // complete other statements' writes: an injected fault can fail it, and an
            // armed power loss can fire meanwhile (simulator seed 66). After a power loss
            // the recovery reconnects every connection; a fault is retried (bounded).
            let mut attempts = 0;
            loop {
                match self.blocking_on(&conn, "PRAGMA foreign_keys=ON") {
                    Ok(_) => break,
                    Err(_) if self.crashed() => break,
                    Err(_) if attempts < CONNECT_RETRIES => attempts += 1,
                    Err(e) => {
                        return Err(format!("tenant {t} conn {c}: PRAGMA foreign_keys=ON: {e}"))
                    }
                }
            }
        }
        let slot = &mut self.tenants[t].conns[c];
        slot.conn = Some(conn);
        slot.forget_temp();
        Ok(())
    }

    fn main_loop(&mut self) -> Result<(), Violation> {
        // Crash points: (statements finished before it, ops).
        let mut crash_points = Vec::new();
        let mut before = 0usize;
        for item in &self.plan.items {
            match item {
                Item::Stmt { .. } => before += 1,
                Item::Crash { ops } => crash_points.push((before, *ops)),
            }
        }
        let mut next_crash = 0;
        let mut guard = 0u64;
        loop {
            guard += 1;
            if guard > 2_000_000 {
                return Err("the workload did not finish (livelock?)".into());
            }
            while next_crash < crash_points.len() && self.finished >= crash_points[next_crash].0 {
                let ops = crash_points[next_crash].1;
                next_crash += 1;
                if ops == 0 {
                    self.io.trace("crash_now", &[self.finished as u64]);
                    self.io.crash();
                    self.recover_after_crash()?;
                } else {
                    self.io.crash_after_writes(ops);
                }
            }
            // Transactions left open when a connection's statements run out are committed.
            for t in 0..self.tenants.len() {
                for c in 0..self.tenants[t].conns.len() {
                    let conn = &self.tenants[t].conns[c];
                    if conn.running.is_none() && conn.queue.is_empty() && conn.in_tx {
                        self.start_synthetic_commit(t, c);
                    }
                }
            }
            let busy = self.tenants.iter().any(|t| {
                t.conns
                    .iter()
                    .any(|c| c.running.is_some() || !c.queue.is_empty())
            });
            if !busy {
                break;
            }
            if self.io.inflight() > 0 && self.sched.gen_range(0..100) < 40 {
                self.run_io()?;
            } else {
                let t = self.sched.gen_range(0..self.tenants.len());
                let c = self.sched.gen_range(0..self.tenants[t].conns.len());
                self.poll(t, c)?;
                let think = self.sched.gen_range(0..50);
                self.io.advance_clock(think);
            }
            if self.crashed() {
                self.recover_after_crash()?;
            }
        }
        self.io.clear_scheduled();
        self.workload_ops = self.io.stats().performed - self.ops_before_workload;
        // Final checks: drain, compare the live state, then lose power (or close) and
        // recover once more.
        while self.io.inflight() > 0 {
            self.run_io()?;
        }
        for t in 0..self.tenants.len() {
            self.check_live(t, "at the end")?;
        }
        // A scheduled error point (`fault-injection`) ends with a power loss too: what the
        // failed operation left behind (a WAL frame written but never fsynced, a commit
        // that may or may not have happened) must still recover to an allowed state.
        let error_point = matches!(
            self.config.scheduled,
            Some(crate::plan::Scheduled::FailOp(_))
        );
        if self.config.faults.crashes() || error_point {
            self.io.trace("crash_final", &[]);
            self.io.crash();
            self.recover_after_crash()
        } else {
            for t in 0..self.tenants.len() {
                self.drop_tenant(t);
            }
            self.crashes_handled = self.io.stats().crashes;
            for t in 0..self.tenants.len() {
                self.verify_recovery(t)?;
            }
            Ok(())
        }
    }

    fn start_synthetic_commit(&mut self, _t: usize, _c: usize) {
        // Append a COMMIT to the plan-independent queue: an index past the plan.
        let conn = &mut self.tenants[_t].conns[_c];
        conn.queue.push_back(usize::MAX);
    }

    /// The statement's SQL and stable id (a synthetic COMMIT past the plan has its own).
    fn sql_of(&self, idx: usize) -> (String, u64) {
        match self.plan.items.get(idx) {
            Some(Item::Stmt { sql, id, .. }) => (sql.clone(), *id),
            _ => ("COMMIT".to_string(), crate::sim_io::KEY_MASK),
        }
    }

    fn run_io(&mut self) -> Result<(), Violation> {
        self.io.set_tag(0);
        if let Err(e) = self.io.run_once() {
            if self.crashed() {
                return self.recover_after_crash();
            }
            return Err(format!("run_once failed outside a power loss: {e}"));
        }
        self.collect_faults();
        Ok(())
    }

    fn collect_faults(&mut self) {
        for f in self.io.take_faults() {
            self.checks.io_errors_injected += 1;
            match self.live.get(&f.tag) {
                Some(&(t, c)) => {
                    if let Some(r) = self.tenants[t].conns[c].running.as_mut() {
                        if r.tag == f.tag {
                            r.faults += 1;
                            if f.kind == strata_io::CompletionKind::Read {
                                r.read_faults += 1;
                            }
                            continue;
                        }
                    }
                    self.checks.io_errors_abandoned += 1;
                }
                None => {
                    if let Some(&(t, c)) = self.finished_tags.get(&f.tag) {
                        self.tenants[t].conns[c].carried_faults += 1;
                    }
                    self.checks.io_errors_abandoned += 1;
                }
            }
        }
    }

    /// One scheduler turn for connection `c` of tenant `t`: start its next statement or
    /// step the running one.
    fn poll(&mut self, t: usize, c: usize) -> Result<(), Violation> {
        if self.tenants[t].conns[c].running.is_none() {
            let Some(&idx) = self.tenants[t].conns[c].queue.front() else {
                return Ok(());
            };
            let (sql, id) = self.sql_of(idx);
            let kind = classify(&sql);
            // Low bits: the statement (keys its faults, see SimIo::set_keyed_faults); high
            // bits: unique per execution.
            let tag = (self.next_tag << 40) | (id.wrapping_add(1) & crate::sim_io::KEY_MASK);
            self.next_tag += 1;
            self.live.insert(tag, (t, c));
            self.tenants[t].conns[c].queue.pop_front();
            self.tenants[t].conns[c].running = Some(Running {
                idx,
                sql,
                kind,
                stmt: None,
                rows: Vec::new(),
                expected: None,
                started: false,
                tag,
                faults: 0,
                read_faults: 0,
                busy: 0,
                took_snapshot: false,
                recompiles_seen: 0,
                seen_states: Vec::new(),
                expected_dump: None,
            });
        }
        let started = self.tenants[t].conns[c]
            .running
            .as_ref()
            .is_some_and(|r| r.started);
        if !started && !self.try_start(t, c)? {
            return Ok(());
        }
        if self.crashed() {
            return Ok(());
        }
        self.step(t, c)
    }

    /// Can commit: an autocommit write, or COMMIT inside a transaction.
    fn can_commit(&self, t: usize, c: usize, kind: Kind) -> bool {
        let conn = &self.tenants[t].conns[c];
        match kind {
            Kind::Write => !conn.in_tx,
            Kind::Commit => conn.in_tx,
            // A RELEASE of the outermost savepoint of a transaction SAVEPOINT started.
            Kind::Release => {
                let r = conn.running.as_ref().expect("running");
                savepoint::parse(&r.sql).is_some_and(|op| {
                    conn.sp.effect(&op, conn.in_tx) == Effect::Released { commits: true }
                })
            }
            _ => false,
        }
    }

    /// Starts the running statement: checks the barrier, evaluates SQLite's answer for a
    /// read, compiles on Strata. False if it cannot start now.
    fn try_start(&mut self, t: usize, c: usize) -> Result<bool, Violation> {
        let tenant = &self.tenants[t];
        if tenant.committing.is_some_and(|o| o != c) {
            return Ok(false);
        }
        let (kind, sql, tag) = {
            let r = tenant.conns[c].running.as_ref().expect("running");
            (r.kind, r.sql.clone(), r.tag)
        };
        // Strata's transaction state must be the model's.
        let strata_auto = tenant.conns[c]
            .conn
            .as_ref()
            .expect("connection")
            .is_autocommit();
        if strata_auto == tenant.conns[c].in_tx {
            return Err(format!(
                "tenant {t} conn {c}: before `{sql}`: Strata autocommit={strata_auto}, the model says in_tx={}",
                tenant.conns[c].in_tx
            ));
        }
        if self.can_commit(t, c, kind) {
            self.tenants[t].committing = Some(c);
        }
        if self.config.verbose {
            eprintln!("[sql] t{t} c{c} start `{sql}`");
        }
        // A transaction's snapshot starts with its first statement.
        // Every statement that runs a Transaction opcode starts the read transaction.
        // Not all: statements that read no database (`PRAGMA encoding`,
        // `PRAGMA foreign_key_list`) run none, in SQLite as in Strata.
        let needs_snapshot = (matches!(kind, Kind::Read | Kind::Write | Kind::Integrity)
            && sqlgen::takes_snapshot(&sql))
            || (kind == Kind::TempWrite && self.drops_missing_temp_object(t, c, &sql));
        let mut new_snapshot = false;
        {
            let tenant = &mut self.tenants[t];
            let seq = tenant.commit_seq;
            let cseq = tenant.content_seq;
            let conn = &mut tenant.conns[c];
            if conn.in_tx && conn.private.is_none() && needs_snapshot {
                conn.private = Some(conn.snapshot_of(&tenant.committed)?);
                conn.snap_seq = seq;
                conn.snap_content_seq = cseq;
                new_snapshot = true;
            }
        }
        let expected_dump = if kind == Kind::VacuumInto && !self.tenants[t].conns[c].in_tx {
            let tenant = &self.tenants[t];
            Some(oracle::dump_sqlite(&tenant.committed, &tenant.tables)?)
        } else {
            None
        };
        let expected = if kind == Kind::Read {
            let tenant = &self.tenants[t];
            let conn = &tenant.conns[c];
            let view = conn.private.as_ref().unwrap_or(&tenant.committed);
            Some(oracle::exec(view, &sql))
        } else {
            None
        };
        self.io.set_tag(tag);
        let prepared = {
            let conn = self.tenants[t].conns[c].conn.as_ref().expect("connection");
            if self.tenants[t].conns[c]
                .running
                .as_ref()
                .unwrap()
                .stmt
                .is_some()
            {
                None
            } else {
                Some(conn.prepare(&sql))
            }
        };
        self.io.set_tag(0);
        self.collect_faults();
        if self.crashed() {
            return Ok(false);
        }
        let r = self.tenants[t].conns[c].running.as_mut().unwrap();
        r.expected = expected;
        r.expected_dump = expected_dump;
        r.started = true;
        r.took_snapshot = new_snapshot;
        match prepared {
            None => {}
            Some(Ok(stmt)) => r.stmt = Some(stmt),
            Some(Err(e)) => {
                // A statement that does not compile never starts a read transaction.
                if new_snapshot {
                    self.tenants[t].conns[c].private = None;
                }
                self.finish(t, c, Err(e))?;
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn step(&mut self, t: usize, c: usize) -> Result<(), Violation> {
        let tag = self.tenants[t].conns[c].running.as_ref().unwrap().tag;
        self.io.set_tag(tag);
        let result = {
            let r = self.tenants[t].conns[c].running.as_mut().unwrap();
            let stmt = r.stmt.as_mut().expect("prepared statement");
            match stmt.step() {
                Ok(StepResult::Row) => {
                    let row: Vec<Val> = stmt
                        .row()
                        .values()
                        .iter()
                        .map(oracle::from_strata)
                        .collect();
                    r.rows.push(row);
                    None
                }
                Ok(StepResult::Io) => None,
                Ok(StepResult::Busy) => Some(Ok(true)),
                Ok(StepResult::Done) => Some(Ok(false)),
                Err(e) => Some(Err(e)),
            }
        };
        self.io.set_tag(0);
        self.collect_faults();
        if self.crashed() {
            return Ok(());
        }
        match result {
            None => Ok(()),
            Some(Ok(true)) => self.busy(t, c),
            Some(Ok(false)) => self.finish(t, c, Ok(())),
            Some(Err(e)) => self.finish(t, c, Err(e)),
        }
    }

    /// A TEMP statement `DROP ... IF EXISTS name` whose object does not exist: SQLite
    /// looks for the name in every schema and, not finding it, codes a schema check of
    /// every database (`sqlite3CodeVerifyNamedSchema`), main included, so the statement
    /// starts a read transaction on main, as Strata's does. (Found by seed 14
    /// `--small-cache`: the model gave that transaction no snapshot, so it expected a later
    /// read to see another connection's commit.) When the object exists, only the temp
    /// schema is touched.
    fn drops_missing_temp_object(&self, t: usize, c: usize, sql: &str) -> bool {
        // A schema-qualified name (`temp.tmp_x`) checks that schema only.
        let Some(name) = sqlgen::conditional_drop_name(sql).filter(|n| !n.contains('.')) else {
            return false;
        };
        let Some(mirror) = self.tenants[t].conns[c].temp.as_ref() else {
            return true;
        };
        let q = format!(
            "SELECT count(*) FROM sqlite_master WHERE name = '{}' COLLATE NOCASE",
            name.replace('\'', "''")
        );
        !matches!(oracle::exec(mirror, &q).as_deref(), Ok([row]) if row.first() == Some(&oracle::Val::Int(1)))
    }

    /// `Busy`: nothing changed. Start over later, or give up.
    fn busy(&mut self, t: usize, c: usize) -> Result<(), Violation> {
        self.checks.busy += 1;
        let tenant = &mut self.tenants[t];
        if tenant.committing == Some(c) {
            tenant.committing = None;
        }
        let commit_seq = tenant.commit_seq;
        let writer = tenant.writer;
        let conn = &mut tenant.conns[c];
        let r = conn.running.as_mut().unwrap();
        let mut recompiled = false;
        if let Some(s) = r.stmt.as_mut() {
            recompiled = s.schema_recompiles() > r.recompiles_seen;
            r.recompiles_seen = s.schema_recompiles();
            s.reset();
        }
        if !r.rows.is_empty() {
            return Err(format!(
                "tenant {t} conn {c}: `{}` returned Busy after returning rows",
                r.sql
            ));
        }
        r.started = false;
        r.expected = None;
        r.busy += 1;
        if self.config.verbose && r.busy == 1 {
            eprintln!("[sql] t{t} c{c} busy `{}`", r.sql);
        }
        let kind = r.kind;
        // A refused statement takes no snapshot: SQLite's sqlite3BtreeBeginTrans ends the
        // read transaction it began when the write lock is refused (unlockBtreeIfUnused),
        // and so does Strata. A transaction that read before keeps its snapshot, and so
        // does one whose refused statement was compiled again after a schema change: its
        // first run's schema check began the read transaction (the cookie comparison
        // failed with SQLITE_SCHEMA, which inside BEGIN ends the statement, not the read),
        // so the rerun's write lock request finds a read transaction in use and keeps it.
        // (Simulator seed 109, `--features views,returning`; SQLite 3.40 checked by hand.)
        let took_snapshot = std::mem::take(&mut r.took_snapshot);
        if took_snapshot && !(recompiled && conn.in_tx) {
            conn.private = None;
        }
        let stale = conn.in_tx && conn.private.is_some() && conn.snap_seq < commit_seq;
        let writes = matches!(kind, Kind::Write);
        if stale && writes {
            // SQLITE_BUSY_SNAPSHOT: this transaction can never write; roll it back.
            self.checks.stale_snapshots_refused += 1;
            self.end_running(t, c);
            return self.synthetic_rollback(t, c);
        }
        let waiting_on_model_writer = writer.is_some_and(|w| w != c);
        if !waiting_on_model_writer && r.busy > BUSY_LIMIT {
            self.checks.busy_gave_up += 1;
            self.io.trace("busy_gave_up", &[r.idx as u64]);
            self.end_running(t, c);
        }
        Ok(())
    }

    fn end_running(&mut self, t: usize, c: usize) {
        let tenant = &mut self.tenants[t];
        if tenant.committing == Some(c) {
            tenant.committing = None;
        }
        if let Some(r) = tenant.conns[c].running.take() {
            self.live.remove(&r.tag);
            if r.faults > 0 {
                self.checks.io_errors_abandoned += r.faults;
            }
        }
        self.finished += 1;
    }

    /// Runs `sql` to completion on connection `c` (faults off), blocking on the SimIo.
    fn blocking(&mut self, t: usize, c: usize, sql: &str) -> Result<Rows, String> {
        let conn = self.tenants[t].conns[c].conn.as_ref().expect("connection");
        self.blocking_on(conn, sql)
    }

    fn blocking_on(&self, conn: &strata::Connection, sql: &str) -> Result<Rows, String> {
        self.io.set_faults_enabled(false);
        self.io.set_tag(0);
        let result = (|| {
            let mut stmt = conn.prepare(sql).map_err(|e| err_text(&e))?;
            let mut rows = Vec::new();
            let mut polls = 0u64;
            loop {
                polls += 1;
                if polls > 1_000_000 {
                    return Err("blocking statement never finished".to_string());
                }
                match stmt.step().map_err(|e| err_text(&e))? {
                    StepResult::Row => rows.push(
                        stmt.row()
                            .values()
                            .iter()
                            .map(oracle::from_strata)
                            .collect(),
                    ),
                    StepResult::Done => return Ok(rows),
                    StepResult::Io => self.io.run_once().map_err(|e| e.to_string())?,
                    StepResult::Busy => {
                        if self.io.inflight() > 0 {
                            self.io.run_once().map_err(|e| e.to_string())?;
                        } else {
                            return Err("database is locked".to_string());
                        }
                    }
                }
            }
        })();
        self.io.set_faults_enabled(true);
        result
    }

    /// Ends connection `c`'s transaction after an error or a refused write: ROLLBACK on
    /// Strata (it may have rolled back already) and in the model.
    fn synthetic_rollback(&mut self, t: usize, c: usize) -> Result<(), Violation> {
        let strata_auto = self.tenants[t].conns[c]
            .conn
            .as_ref()
            .unwrap()
            .is_autocommit();
        if !strata_auto {
            let r = self.blocking(t, c, "ROLLBACK");
            if self.crashed() {
                return Ok(());
            }
            self.collect_faults();
            if let Err(e) = r {
                return Err(format!(
                    "tenant {t} conn {c}: ROLLBACK after an error failed: {e}"
                ));
            }
        }
        let tenant = &mut self.tenants[t];
        if tenant.writer == Some(c) {
            tenant.writer = None;
        }
        tenant.conns[c].reset_tx();
        tenant.conns[c].end_temp_tx(false);
        self.checks.rollbacks += 1;
        Ok(())
    }

    /// Dumps tenant `t` through a fresh connection (faults off).
    fn strata_dump(&mut self, t: usize) -> Result<Dump, String> {
        let db = self.tenants[t].db.as_ref().expect("open database").clone();
        let conn = db.connect();
        conn.set_busy_timeout_ms(0);
        let mut out = Vec::new();
        for (label, query) in oracle::dump_queries(&self.tenants[t].tables) {
            let rows = self.blocking_on(&conn, &query)?;
            out.push((label, rows));
        }
        for name in oracle::SCRATCH_TABLES {
            let exists = self.blocking_on(&conn, &oracle::scratch_exists_query(name))?;
            if exists.first().and_then(|r| r.first()) == Some(&Val::Int(1)) {
                let rows = self.blocking_on(&conn, &oracle::scratch_dump_query(name))?;
                out.push((name.to_string(), rows));
            }
        }
        Ok(Dump(out))
    }

    fn push_candidate(&mut self, t: usize, db: Sqlite) -> Result<(), Violation> {
        let dump = oracle::dump_sqlite(&db, &self.tenants[t].tables)?;
        self.tenants[t].candidates.push(Candidate { dump, db });
        Ok(())
    }

    /// A commit happened: every autocommit read running on the tenant keeps a copy of
    /// the new committed state (`late_snapshot_matches`).
    fn note_commit(&mut self, t: usize) {
        let tenant = &mut self.tenants[t];
        for conn in &mut tenant.conns {
            if conn.in_tx || conn.private.is_some() {
                continue;
            }
            if let Some(r) = conn.running.as_mut() {
                if r.kind == Kind::Read && r.started && r.seen_states.len() < MAX_SEEN_STATES {
                    r.seen_states.push(oracle::copy(&tenant.committed));
                }
            }
        }
    }

    fn ack(&mut self, t: usize) -> Result<(), Violation> {
        self.note_commit(t);
        let tenant = &mut self.tenants[t];
        tenant.commit_seq += 1;
        let dump = oracle::dump_sqlite(&tenant.committed, &tenant.tables)?;
        let changed = dump != tenant.last_dump;
        let acked = Candidate {
            dump: dump.clone(),
            db: oracle::copy(&tenant.committed),
        };
        if changed {
            // The commit wrote frames over those of any failed commit before it.
            tenant.content_seq += 1;
            tenant.last_dump = dump;
            tenant.candidates = vec![acked];
        } else {
            // A commit that changed nothing may write no frame at all: the frames of an
            // earlier commit whose fsync failed are then still the WAL's last valid
            // commit, and a reopen recovers them (SQLite behaves the same). They stay
            // allowed.
            tenant.candidates[0] = acked;
        }
        self.checks.commits_acked += 1;
        Ok(())
    }

    /// An autocommit write or COMMIT failed with an I/O error: it may have committed.
    /// `post` is the state if it did.
    fn maybe_committed(
        &mut self,
        t: usize,
        c: usize,
        post: Option<Sqlite>,
        sql: &str,
    ) -> Result<(), Violation> {
        self.checks.maybe_commits += 1;
        let Some(post) = post else {
            return Ok(());
        };
        let post_dump = oracle::dump_sqlite(&post, &self.tenants[t].tables)?;
        let pre_dump = oracle::dump_sqlite(&self.tenants[t].committed, &self.tenants[t].tables)?;
        if post_dump == pre_dump {
            return Ok(());
        }
        let live = self.strata_dump(t);
        if self.crashed() {
            self.push_candidate(t, post)?;
            return Ok(());
        }
        let live = live
            .map_err(|e| format!("tenant {t}: reading the database after a failed `{sql}`: {e}"))?;
        if live == pre_dump {
            self.push_candidate(t, post)?;
        } else if live == post_dump {
            self.checks.maybe_commits_applied += 1;
            let tenant = &mut self.tenants[t];
            tenant.committed = oracle::copy(&post);
            tenant.commit_seq += 1;
            tenant.content_seq += 1;
            tenant.last_dump = post_dump.clone();
            self.note_commit(t);
            self.push_candidate(t, post)?;
        } else {
            return Err(format!(
                "tenant {t} conn {c}: after `{sql}` failed with an I/O error the database is neither the state before nor after it: vs before: {}",
                live.diff(&pre_dump)
            ));
        }
        Ok(())
    }

    /// The running statement of connection `c` ended (`Done` or an error).
    /// An autocommit read whose first step found the schema changed (another connection's
    /// DDL or VACUUM) is compiled again and takes its snapshot then, as SQLite's
    /// `sqlite3_step` re-prepares after `SQLITE_SCHEMA`: it may see commits made after it
    /// started, up to the moment it was recompiled. Such a read is accepted if it equals
    /// the committed state after one of the commits made while it ran (`seen_states`) or
    /// now (counted as `late_snapshot_reads`); any other difference is a failure.
    fn late_snapshot_matches(&mut self, t: usize, c: usize, r: &Running) -> bool {
        let recompiled = r.stmt.as_ref().is_some_and(|s| s.schema_recompiles() > 0);
        let conn = &self.tenants[t].conns[c];
        if !recompiled || conn.in_tx || conn.private.is_some() {
            return false;
        }
        let ordered = sqlgen::ordered(&r.sql);
        let matches = |db: &Sqlite| {
            oracle::exec(db, &r.sql).is_ok_and(|rows| oracle::same_rows(&r.rows, &rows, ordered))
        };
        if r.seen_states.iter().any(matches) || matches(&self.tenants[t].committed) {
            self.checks.late_snapshot_reads += 1;
            return true;
        }
        false
    }

    fn finish(
        &mut self,
        t: usize,
        c: usize,
        result: Result<(), strata::Error>,
    ) -> Result<(), Violation> {
        let r = self.finish_statement(t, c, result);
        let deferred = self.check_deferred_reads(t, c);
        r.and(deferred)
    }

    /// The statement of connection `w` ended: the reads that waited for its commit must
    /// show the committed state now (its commit was the one they saw).
    fn check_deferred_reads(&mut self, t: usize, w: usize) -> Result<(), Violation> {
        let tenant = &mut self.tenants[t];
        let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut tenant.deferred_reads)
            .into_iter()
            .partition(|d| d.writer == w);
        tenant.deferred_reads = rest;
        for d in mine {
            let ordered = sqlgen::ordered(&d.sql);
            let ok = oracle::exec(&tenant.committed, &d.sql)
                .is_ok_and(|rows| oracle::same_rows(&d.rows, &rows, ordered));
            if !ok {
                return Err(format!(
                    "tenant {t} conn {} `{}`: result {} matches no committed state (neither before nor after conn {w}'s commit it may have seen)",
                    d.conn,
                    d.sql,
                    oracle::rows_text(&d.rows)
                ));
            }
        }
        Ok(())
    }

    fn finish_statement(
        &mut self,
        t: usize,
        c: usize,
        result: Result<(), strata::Error>,
    ) -> Result<(), Violation> {
        let r = self.tenants[t].conns[c].running.take().expect("running");
        self.live.remove(&r.tag);
        self.finished_tags.insert(r.tag, (t, c));
        let carried = std::mem::take(&mut self.tenants[t].conns[c].carried_faults);
        if self.tenants[t].committing == Some(c) {
            self.tenants[t].committing = None;
        }
        self.finished += 1;
        self.checks.statements += 1;
        let ok = result.is_ok();
        if self.config.verbose {
            eprintln!(
                "[sql] t{t} c{c} done #{} ok={ok} rows={} faults={} in_tx={} `{}` {:?}",
                r.idx,
                r.rows.len(),
                r.faults,
                self.tenants[t].conns[c].in_tx,
                r.sql,
                result.as_ref().err().map(|e| e.to_string())
            );
        }
        self.io
            .trace("stmt", &[r.idx as u64, ok as u64, r.rows.len() as u64]);
        let sql = r.sql.as_str();
        let ctx = |what: String| format!("tenant {t} conn {c} `{sql}`: {what}");
        // A failure of an operation an earlier statement of this connection submitted
        // (its dirty-page spill, finished by this statement) is this statement's error.
        let io_failed = !ok && (r.faults > 0 || carried > 0);
        let ok_rows = r.rows == vec![vec![Val::Text(b"ok".to_vec())]];
        // integrity_check reports a page it cannot read as a row, as SQLite does.
        // It also reads ahead (a B-tree's children, submitted together) and reads a page
        // again whose read-ahead failed: a failed read it did not depend on is retried.
        let reported = r.kind == Kind::Integrity && (!ok_rows || r.read_faults == r.faults);
        if ok && r.faults > 0 && !reported {
            return Err(ctx(format!(
                "succeeded although {} injected I/O fault(s) hit its operations (swallowed error)",
                r.faults
            )));
        }
        if io_failed {
            self.checks.io_errors_surfaced += r.faults;
        }
        let in_tx = self.tenants[t].conns[c].in_tx;
        match r.kind {
            Kind::Read => {
                let expected = r
                    .expected
                    .clone()
                    .unwrap_or_else(|| Err("not evaluated".into()));
                match (&result, &expected) {
                    (Ok(()), Ok(rows)) => {
                        self.checks.results_compared += 1;
                        self.checks.rows_compared += rows.len() as u64;
                        if !oracle::same_rows(&r.rows, rows, sqlgen::ordered(sql))
                            && !self.late_snapshot_matches(t, c, &r)
                        {
                            // A recompiled read's late snapshot may include a commit
                            // another connection published and is still acknowledging
                            // (its autocheckpoint runs after the commit is visible).
                            let recompiled =
                                r.stmt.as_ref().is_some_and(|s| s.schema_recompiles() > 0);
                            let writer = self.tenants[t].committing.filter(|&w| w != c);
                            if let (true, Some(w)) = (recompiled, writer) {
                                self.checks.late_snapshot_reads += 1;
                                self.tenants[t].deferred_reads.push(DeferredRead {
                                    conn: c,
                                    writer: w,
                                    sql: r.sql.clone(),
                                    rows: r.rows.clone(),
                                });
                                return Ok(());
                            }
                            return Err(ctx(format!(
                                "result differs from SQLite: strata {} vs sqlite {}",
                                oracle::rows_text(&r.rows),
                                oracle::rows_text(rows)
                            )));
                        }
                    }
                    (Err(_), Err(_)) => self.checks.both_failed += 1,
                    (Err(e), Ok(_)) if !io_failed => {
                        return Err(ctx(format!("Strata failed ({e}), SQLite succeeded")))
                    }
                    (Err(_), Ok(_)) => {}
                    (Ok(()), Err(e)) => {
                        return Err(ctx(format!("Strata succeeded, SQLite failed ({e})")))
                    }
                }
            }
            Kind::TempRead | Kind::TempWrite if !io_failed => {
                let conn = &mut self.tenants[t].conns[c];
                conn.begin_mirror_tx(true).map_err(ctx)?;
                let mirror = conn.temp.as_ref().expect("the mirror was created");
                let expected = oracle::exec(mirror, sql);
                let order = r.kind == Kind::TempRead && sqlgen::ordered(sql);
                match (&result, &expected) {
                    (Ok(()), Ok(rows)) => {
                        self.checks.results_compared += 1;
                        self.checks.rows_compared += rows.len() as u64;
                        if !oracle::same_rows(&r.rows, rows, order) {
                            return Err(ctx(format!(
                                "result differs from SQLite: strata {} vs sqlite {}",
                                oracle::rows_text(&r.rows),
                                oracle::rows_text(rows)
                            )));
                        }
                    }
                    (Err(_), Err(_)) => self.checks.both_failed += 1,
                    (Err(e), Ok(_)) => {
                        return Err(ctx(format!("Strata failed ({e}), SQLite succeeded")))
                    }
                    (Ok(()), Err(e)) => {
                        return Err(ctx(format!("Strata succeeded, SQLite failed ({e})")))
                    }
                }
            }
            // After an I/O error the temp state is not known: the connection is
            // replaced below.
            Kind::TempRead | Kind::TempWrite => {}
            Kind::Integrity => {
                // Unqualified, it reads every database of the connection, the attached
                // ones too: inside a transaction those are then in use (DETACH says
                // "locked"), so the connection's mirror of them reads them as well.
                if in_tx && sql.trim().eq_ignore_ascii_case("PRAGMA integrity_check") {
                    let conn = &mut self.tenants[t].conns[c];
                    conn.begin_mirror_tx(false).map_err(ctx)?;
                    if let Some(mirror) = conn.temp.as_ref() {
                        let _ = oracle::exec(mirror, "PRAGMA integrity_check");
                    }
                }
                if ok && r.faults > 0 {
                    self.checks.io_errors_surfaced += r.faults;
                } else if ok {
                    self.checks.integrity_checks += 1;
                    if r.rows != vec![vec![Val::Text(b"ok".to_vec())]] {
                        return Err(ctx(format!(
                            "integrity_check: {}",
                            oracle::rows_text(&r.rows)
                        )));
                    }
                } else if !io_failed {
                    return Err(ctx(format!(
                        "integrity_check failed: {}",
                        result.unwrap_err()
                    )));
                }
            }
            Kind::VacuumInto => {
                if ok && in_tx {
                    return Err(ctx("VACUUM INTO inside a transaction succeeded".into()));
                } else if ok {
                    let file = sql.split('\'').nth(1).unwrap_or_default().to_string();
                    let bytes = self.io.file_contents(&file).unwrap_or_default();
                    if std::env::var_os("STRATA_SIM_NO_SQLITE").is_none() {
                        let got = oracle::sqlite_check_files(&bytes, None, &self.tenants[t].tables)
                            .map_err(|e| ctx(format!("the VACUUM INTO file: {e}")))?;
                        let want = r.expected_dump.as_ref().expect("the model's content");
                        if &got != want {
                            return Err(ctx(format!(
                                "the VACUUM INTO file differs from the model: {}",
                                got.diff(want)
                            )));
                        }
                        self.checks.sqlite_file_checks += 1;
                    }
                } else if !in_tx && !io_failed {
                    return Err(ctx(format!("VACUUM INTO failed: {}", result.unwrap_err())));
                } else {
                    self.checks.both_failed += 1;
                }
            }
            Kind::Checkpoint => {
                if ok {
                    self.checks.checkpoints += 1;
                } else if !io_failed && !in_tx {
                    // Inside a transaction SQLite fails too ("database table is locked").
                    return Err(ctx(format!("checkpoint failed: {}", result.unwrap_err())));
                }
            }
            Kind::Begin | Kind::BeginImmediate => {
                if ok {
                    if in_tx {
                        return Err(ctx("BEGIN inside a transaction succeeded".into()));
                    }
                    let tenant = &mut self.tenants[t];
                    let seq = tenant.commit_seq;
                    let cseq = tenant.content_seq;
                    let conn = &mut tenant.conns[c];
                    conn.reset_tx();
                    conn.in_tx = true;
                    if r.kind == Kind::BeginImmediate {
                        conn.private = Some(oracle::copy(&tenant.committed));
                        conn.snap_seq = seq;
                        conn.snap_content_seq = cseq;
                        tenant.writer = Some(c);
                    }
                } else if !in_tx && !io_failed {
                    return Err(ctx(format!("BEGIN failed: {}", result.unwrap_err())));
                } else {
                    self.checks.both_failed += 1;
                }
            }
            Kind::Rollback => {
                if ok {
                    if !in_tx {
                        return Err(ctx("ROLLBACK outside a transaction succeeded".into()));
                    }
                    let tenant = &mut self.tenants[t];
                    if tenant.writer == Some(c) {
                        tenant.writer = None;
                    }
                    tenant.conns[c].reset_tx();
                    tenant.conns[c].end_temp_tx(false);
                    self.checks.rollbacks += 1;
                } else if in_tx && !io_failed {
                    return Err(ctx(format!("ROLLBACK failed: {}", result.unwrap_err())));
                } else {
                    self.checks.both_failed += 1;
                }
            }
            Kind::Commit => {
                if ok {
                    if !in_tx {
                        return Err(ctx("COMMIT outside a transaction succeeded".into()));
                    }
                    self.commit_succeeded(t, c)?;
                } else if !in_tx {
                    self.checks.both_failed += 1;
                } else if !io_failed {
                    return Err(ctx(format!("COMMIT failed: {}", result.unwrap_err())));
                } else {
                    self.commit_failed(t, c, sql)?;
                    if self.crashed() {
                        return Ok(());
                    }
                }
            }
            Kind::Savepoint | Kind::Release | Kind::RollbackTo => {
                self.finish_savepoint(t, c, sql, &result, io_failed)
                    .map_err(ctx)?;
                if self.crashed() {
                    return Ok(());
                }
            }
            Kind::Write => {
                if ok && sqlgen::is_ddl(sql) {
                    self.checks.ddl += 1;
                }
                if in_tx {
                    let tenant = &mut self.tenants[t];
                    let content_seq = tenant.content_seq;
                    let conn = &mut tenant.conns[c];
                    // A write that failed to compile (`INSERT INTO big` after `DROP TABLE
                    // big`) started no read transaction, so the transaction may have no
                    // snapshot yet: SQLite's answer comes from a throwaway copy of the
                    // committed state (the schema it would compile against).
                    let scratch;
                    let view = match conn.private.as_ref() {
                        Some(v) => v,
                        None if !ok => {
                            scratch = oracle::copy(&tenant.committed);
                            &scratch
                        }
                        None => {
                            return Err(ctx(
                                "a write succeeded in a transaction without a snapshot".into(),
                            ))
                        }
                    };
                    if ok {
                        // `CREATE ... IF NOT EXISTS` of an existing object and `DROP ... IF
                        // EXISTS` of a missing one write nothing: SQLite codes only a schema
                        // check (a read), so they succeed on a stale snapshot and leave the
                        // transaction a reader. Told apart by the view's schema version.
                        let conditional_ddl = sqlgen::conditional_ddl(sql);
                        let schema_before = conditional_ddl
                            .then(|| oracle::exec(view, "PRAGMA schema_version").ok())
                            .flatten();
                        let o = oracle::exec(view, sql);
                        let wrote_nothing = schema_before.is_some()
                            && schema_before == oracle::exec(view, "PRAGMA schema_version").ok();
                        let rows = match o {
                            Err(e) => {
                                return Err(ctx(format!("Strata succeeded, SQLite failed ({e})")))
                            }
                            Ok(rows) => rows,
                        };
                        // RETURNING rows (in no promised order).
                        if sqlgen::rows_comparable(sql) && !oracle::same_rows(&r.rows, &rows, false)
                        {
                            return Err(ctx(format!(
                                "result differs from SQLite: strata {} vs sqlite {}",
                                oracle::rows_text(&r.rows),
                                oracle::rows_text(&rows)
                            )));
                        }
                        self.checks.results_compared += 1;
                        if let Some(e) = changes_differ(conn.conn.as_ref(), view, sql) {
                            return Err(ctx(e));
                        }
                        if sqlgen::is_dml(sql) {
                            self.checks.changes_compared += 1;
                        }
                        if wrote_nothing {
                            self.checks.noop_ddl += 1;
                        } else if conn.snap_content_seq < content_seq {
                            return Err(ctx(format!(
                                "a write succeeded on a stale snapshot (snapshot {}, committed {content_seq}): lost update",
                                conn.snap_content_seq
                            )));
                        } else {
                            conn.tx_wrote = true;
                            tenant.writer = Some(c);
                        }
                    } else if io_failed {
                        return self.synthetic_rollback(t, c);
                    } else if sqlgen::refused_in_transaction(sql) {
                        // The view runs in autocommit mode; SQLite refuses VACUUM inside a
                        // transaction, with this message.
                        let e = result.unwrap_err().to_string();
                        if !e.contains("cannot VACUUM from within a transaction") {
                            return Err(ctx(format!("VACUUM in a transaction failed with: {e}")));
                        }
                        self.checks.both_failed += 1;
                    } else {
                        match oracle::exec(view, sql) {
                            Ok(_) => {
                                return Err(ctx(format!(
                                    "Strata failed ({}), SQLite succeeded",
                                    result.unwrap_err()
                                )))
                            }
                            Err(_) => self.checks.both_failed += 1,
                        }
                    }
                } else if ok {
                    let o = oracle::exec(&self.tenants[t].committed, sql);
                    let rows = match o {
                        Err(e) => {
                            return Err(ctx(format!("Strata succeeded, SQLite failed ({e})")))
                        }
                        Ok(rows) => rows,
                    };
                    // RETURNING rows (in no promised order).
                    if sqlgen::rows_comparable(sql) && !oracle::same_rows(&r.rows, &rows, false) {
                        return Err(ctx(format!(
                            "result differs from SQLite: strata {} vs sqlite {}",
                            oracle::rows_text(&r.rows),
                            oracle::rows_text(&rows)
                        )));
                    }
                    self.checks.results_compared += 1;
                    let tenant = &self.tenants[t];
                    if let Some(e) =
                        changes_differ(tenant.conns[c].conn.as_ref(), &tenant.committed, sql)
                    {
                        return Err(ctx(e));
                    }
                    if sqlgen::is_dml(sql) {
                        self.checks.changes_compared += 1;
                    }
                    self.ack(t)?;
                    if std::env::var_os("STRATA_SIM_PARANOID").is_some() {
                        let live = self.strata_dump(t)?;
                        let model = &self.tenants[t].candidates[0].dump;
                        if &live != model {
                            return Err(ctx(format!(
                                "paranoid: after it the database differs from the model: {}",
                                live.diff(model)
                            )));
                        }
                    }
                } else if io_failed {
                    let post = oracle::copy(&self.tenants[t].committed);
                    let post = oracle::exec(&post, sql).ok().map(|_| post);
                    self.maybe_committed(t, c, post, sql)?;
                } else {
                    match oracle::exec(&self.tenants[t].committed, sql) {
                        Ok(_) => {
                            return Err(ctx(format!(
                                "Strata failed ({}), SQLite succeeded",
                                result.unwrap_err()
                            )))
                        }
                        Err(_) => self.checks.both_failed += 1,
                    }
                }
            }
        }
        if self.crashed() {
            return Ok(());
        }
        // After an I/O error anywhere inside a transaction, the transaction is rolled back.
        if io_failed && self.tenants[t].conns[c].in_tx {
            self.synthetic_rollback(t, c)?;
        }
        let strata_auto = self.tenants[t].conns[c]
            .conn
            .as_ref()
            .unwrap()
            .is_autocommit();
        if io_failed && !strata_auto && !self.tenants[t].conns[c].in_tx {
            // Strata kept a transaction the model ended (e.g. a failed BEGIN IMMEDIATE).
            self.synthetic_rollback(t, c)?;
        }
        if self.crashed() {
            return Ok(());
        }
        // After an I/O error the temp objects' state is not known (see `Conn::temp`):
        // a fresh connection has none, on both sides.
        let temp_kind = matches!(r.kind, Kind::TempRead | Kind::TempWrite);
        if io_failed && (temp_kind || self.tenants[t].conns[c].temp.is_some()) {
            let auto = self.tenants[t].conns[c]
                .conn
                .as_ref()
                .is_some_and(|x| x.is_autocommit());
            if auto && !self.tenants[t].conns[c].in_tx {
                self.connect(t, c)?;
            }
        }
        Ok(())
    }

    /// A COMMIT (or a RELEASE committing a SAVEPOINT-started transaction) succeeded.
    fn commit_succeeded(&mut self, t: usize, c: usize) -> Result<(), Violation> {
        let wrote = self.tenants[t].conns[c].tx_wrote;
        let private = self.tenants[t].conns[c].private.take();
        {
            let tenant = &mut self.tenants[t];
            if tenant.writer == Some(c) {
                tenant.writer = None;
            }
            tenant.conns[c].reset_tx();
            tenant.conns[c].end_temp_tx(true);
        }
        if wrote {
            let private = private.expect("a writing transaction has a snapshot");
            // Savepoints still open at COMMIT left the copy inside a transaction.
            savepoint::settle(&private);
            self.tenants[t].committed = private;
            self.ack(t)?;
        }
        Ok(())
    }

    /// A COMMIT (or committing RELEASE) failed with an I/O error: it may have committed;
    /// the transaction is rolled back.
    fn commit_failed(&mut self, t: usize, c: usize, sql: &str) -> Result<(), Violation> {
        let wrote = self.tenants[t].conns[c].tx_wrote;
        let post = if wrote {
            self.tenants[t].conns[c].private.as_ref().map(|p| {
                savepoint::settle(p);
                oracle::copy(p)
            })
        } else {
            None
        };
        self.maybe_committed(t, c, post, sql)?;
        if self.crashed() {
            return Ok(());
        }
        self.synthetic_rollback(t, c)
    }

    /// A SAVEPOINT, RELEASE or ROLLBACK TO ended: compared with what SQLite does in the
    /// model's state (`savepoint::Savepoints`), its effect applied to the model.
    fn finish_savepoint(
        &mut self,
        t: usize,
        c: usize,
        sql: &str,
        result: &Result<(), strata::Error>,
        io_failed: bool,
    ) -> Result<(), String> {
        let op = savepoint::parse(sql).ok_or("not a savepoint statement the model knows")?;
        let in_tx = self.tenants[t].conns[c].in_tx;
        let effect = self.tenants[t].conns[c].sp.effect(&op, in_tx);
        match (result, effect) {
            (Err(e), Effect::Missing) if !io_failed => {
                let want = savepoint::missing_error(sql);
                let got = err_text(e);
                if got != want {
                    return Err(format!("Strata failed with `{got}`, SQLite with `{want}`"));
                }
                self.checks.both_failed += 1;
                self.checks.savepoint_errors += 1;
            }
            (Ok(()), Effect::Missing) => {
                return Err(format!(
                    "Strata succeeded, SQLite failed ({})",
                    savepoint::missing_error(sql)
                ))
            }
            (Err(e), _) if !io_failed => {
                return Err(format!("Strata failed ({}), SQLite succeeded", err_text(e)))
            }
            // Like a failed COMMIT: it may have committed.
            (Err(_), Effect::Released { commits: true }) if in_tx => {
                self.commit_failed(t, c, sql)?;
            }
            // An I/O error: the transaction is rolled back (`finish_statement`).
            (Err(_), _) => {}
            (Ok(()), effect) => {
                let conn = &mut self.tenants[t].conns[c];
                if effect == (Effect::Opened { starts_tx: true }) {
                    conn.reset_tx();
                    conn.in_tx = true;
                }
                conn.sp.apply(&op, in_tx, sql);
                // SQLite itself decides the contents: the same statement on the
                // transaction's copy (if it has one yet) and on the temp mirror.
                if let Some(p) = &conn.private {
                    oracle::exec(p, sql).map_err(|e| format!("the model's copy: {e}"))?;
                }
                if conn.temp_in_tx {
                    if let Some(m) = &conn.temp {
                        oracle::exec(m, sql).map_err(|e| format!("the temp mirror: {e}"))?;
                    }
                }
                self.checks.results_compared += 1;
                match effect {
                    Effect::Opened { .. } => self.checks.savepoints_opened += 1,
                    Effect::RolledBack => self.checks.savepoints_rolled_back += 1,
                    Effect::Released { commits } => {
                        self.checks.savepoints_released += 1;
                        if commits {
                            self.checks.savepoint_commits += 1;
                            self.commit_succeeded(t, c)?;
                        }
                    }
                    Effect::Missing => unreachable!("handled above"),
                }
            }
        }
        Ok(())
    }

    fn drop_tenant(&mut self, t: usize) {
        let tenant = &mut self.tenants[t];
        tenant.committing = None;
        // A power loss: whether the commit they saw survived is the recovery's question;
        // the reads themselves cannot be checked any more.
        tenant.deferred_reads.clear();
        tenant.writer = None;
        for conn in &mut tenant.conns {
            if let Some(r) = conn.running.take() {
                self.live.remove(&r.tag);
                self.checks.io_errors_abandoned += r.faults;
                // The statement is lost with the process; it counts as finished.
                self.finished += 1;
            }
            conn.conn = None;
            conn.reset_tx();
            conn.forget_temp();
        }
        if let Some(db) = &tenant.db {
            self.checks.spills += db.storage().spill_count();
            self.checks.spill_pinned += db.storage().spill_pinned_count();
        }
        tenant.db = None;
    }

    /// After a power loss: the statements in flight that could commit are allowed
    /// outcomes; every tenant is reopened and must equal an allowed state.
    fn recover_after_crash(&mut self) -> Result<(), Violation> {
        self.crashes_handled = self.io.stats().crashes;
        self.io.clear_scheduled();
        self.collect_faults();
        for t in 0..self.tenants.len() {
            if let Some(c) = self.tenants[t].committing {
                let (kind, sql) = {
                    let r = self.tenants[t].conns[c].running.as_ref().unwrap();
                    (r.kind, r.sql.clone())
                };
                let post = match kind {
                    Kind::Write => {
                        let db = oracle::copy(&self.tenants[t].committed);
                        oracle::exec(&db, &sql).ok().map(|_| db)
                    }
                    // A COMMIT, or a RELEASE that commits (the only one that takes the
                    // commit barrier).
                    Kind::Commit | Kind::Release if self.tenants[t].conns[c].tx_wrote => {
                        self.tenants[t].conns[c].private.as_ref().map(|p| {
                            savepoint::settle(p);
                            oracle::copy(p)
                        })
                    }
                    _ => None,
                };
                if let Some(db) = post {
                    self.push_candidate(t, db)?;
                }
            }
            self.drop_tenant(t);
        }
        for t in 0..self.tenants.len() {
            self.verify_recovery(t)?;
        }
        Ok(())
    }

    /// Opens tenant `t` (faults off): its contents must equal a candidate, which becomes
    /// the model; integrity checks by Strata and by SQLite on a copy of the files.
    fn verify_recovery(&mut self, t: usize) -> Result<(), Violation> {
        self.checks.recoveries += 1;
        self.io.set_faults_enabled(false);
        let opened = self.tenants[t].options.open(&self.tenants[t].path);
        self.io.set_faults_enabled(true);
        let db = opened.map_err(|e| format!("tenant {t}: reopening after a power loss: {e}"))?;
        self.tenants[t].db = Some(db);
        let dump = self
            .strata_dump(t)
            .map_err(|e| format!("tenant {t}: reading after recovery: {e}"))?;
        let tenant = &mut self.tenants[t];
        let Some(i) = tenant.candidates.iter().rposition(|c| c.dump == dump) else {
            return Err(format!(
                "tenant {t}: after a power loss the database is no allowed state ({} candidates); vs the last acknowledged commit: {}",
                tenant.candidates.len(),
                dump.diff(&tenant.candidates[0].dump)
            ));
        };
        if i > 0 {
            self.checks.recovered_unacked += 1;
        }
        let chosen = tenant.candidates.swap_remove(i);
        tenant.committed = oracle::copy(&chosen.db);
        tenant.last_dump = chosen.dump.clone();
        tenant.candidates = vec![chosen];
        tenant.commit_seq += 1;
        tenant.content_seq += 1;
        self.io.trace("recovered", &[t as u64, i as u64]);
        self.connect_all(t)?;
        self.check_live(t, "after recovery")
    }

    /// Strata's integrity_check, the live contents against the model, and SQLite reading
    /// a copy of the files (all with faults off, nothing of this tenant running).
    fn check_live(&mut self, t: usize, when: &str) -> Result<(), Violation> {
        let conn = self.tenants[t].db.as_ref().unwrap().connect();
        conn.set_busy_timeout_ms(0);
        let ic = self
            .blocking_on(&conn, "PRAGMA integrity_check")
            .map_err(|e| format!("tenant {t} {when}: integrity_check: {e}"))?;
        if ic != vec![vec![Val::Text(b"ok".to_vec())]] {
            return Err(format!(
                "tenant {t} {when}: integrity_check: {}",
                oracle::rows_text(&ic)
            ));
        }
        self.checks.integrity_checks += 1;
        let free = self
            .blocking_on(&conn, "PRAGMA freelist_count")
            .map_err(|e| format!("tenant {t} {when}: freelist_count: {e}"))?;
        if let Some(Val::Int(n)) = free.first().and_then(|r| r.first()) {
            self.checks.freelist_pages_max = self.checks.freelist_pages_max.max(*n as u64);
        }
        drop(conn);
        let dump = self
            .strata_dump(t)
            .map_err(|e| format!("tenant {t} {when}: dump: {e}"))?;
        let model = oracle::dump_sqlite(&self.tenants[t].committed, &self.tenants[t].tables)?;
        if dump != model {
            return Err(format!(
                "tenant {t} {when}: the database differs from the model: {}",
                dump.diff(&model)
            ));
        }
        let running = self.tenants[t].conns.iter().any(|c| c.running.is_some());
        if !running && self.io.inflight() == 0 && std::env::var_os("STRATA_SIM_NO_SQLITE").is_none()
        {
            let path = self.tenants[t].path.clone();
            let db_bytes = self.io.file_contents(&path).unwrap_or_default();
            let wal = self.io.file_contents(&format!("{path}-wal"));
            let sq = oracle::sqlite_check_files(&db_bytes, wal.as_deref(), &self.tenants[t].tables)
                .map_err(|e| format!("tenant {t} {when}: {e}"))?;
            // The files may also hold a commit attempted after the last acknowledged one
            // (its fsync failed but its frames are in the WAL): what a reopen may recover.
            let allowed = sq == model || self.tenants[t].candidates.iter().any(|c| c.dump == sq);
            if sq != model && allowed {
                self.checks.sqlite_saw_unacked += 1;
            }
            if !allowed {
                return Err(format!(
                    "tenant {t} {when}: SQLite reads the files differently from the model: {}",
                    sq.diff(&model)
                ));
            }
            self.checks.sqlite_file_checks += 1;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Shrinking

/// The class of a failure, so that shrinking keeps the same bug rather than finding
/// another.
pub fn failure_class(msg: &str) -> &'static str {
    const CLASSES: &[&str] = &[
        "panic",
        "result differs",
        "Strata failed",
        "Strata succeeded",
        "swallowed",
        "integrity_check",
        "no allowed state",
        "differs from the model",
        "SQLite reads",
        "SQLite integrity_check",
        "SQLite cannot open",
        "lost update",
        "neither the state",
        "autocommit",
        "livelock",
        "reopening",
        "ROLLBACK",
        "COMMIT",
        "BEGIN",
        "checkpoint failed",
        "Busy after",
    ];
    CLASSES
        .iter()
        .find(|c| msg.contains(*c))
        .copied()
        .unwrap_or("other")
}

/// What shrinking found.
pub struct Shrunk {
    pub config: SqlConfig,
    pub plan: Plan,
    pub failure: String,
    pub runs: usize,
}

/// Reduces a failing plan: first switches off fault classes that are not needed, then
/// removes chunks of items (halving the chunk size down to single items) while the run
/// still fails with the same class of failure. At most `max_runs` runs (deterministic).
pub fn shrink(config: &SqlConfig, plan: &Plan, failure: &str, max_runs: usize) -> Shrunk {
    let class = failure_class(failure);
    let mut best = Shrunk {
        config: SqlConfig {
            shrink: false,
            verbose: false,
            ..*config
        },
        plan: plan.clone(),
        failure: failure.to_string(),
        runs: 0,
    };
    // Quiet the panic hook while shrinking: a panicking bug panics on every attempt.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let attempt = |best: &mut Shrunk, config: SqlConfig, plan: Plan| -> bool {
        if best.runs >= max_runs {
            return false;
        }
        best.runs += 1;
        let report = run_plan(&config, &plan);
        match report.failure {
            Some(f) if failure_class(&f) == class => {
                best.config = config;
                best.plan = plan;
                best.failure = f;
                true
            }
            _ => false,
        }
    };
    use crate::workload::FaultMode;
    // Fault classes.
    if best.config.faults.errors() {
        let fewer = if best.config.faults.crashes() {
            FaultMode::Crash
        } else {
            FaultMode::None
        };
        let c = SqlConfig {
            faults: fewer,
            ..best.config
        };
        let p = best.plan.clone();
        attempt(&mut best, c, p);
    }
    let no_crash: Vec<Item> = best
        .plan
        .items
        .iter()
        .filter(|i| !matches!(i, Item::Crash { .. }))
        .cloned()
        .collect();
    if no_crash.len() < best.plan.items.len() {
        let c = best.config;
        attempt(&mut best, c, Plan { items: no_crash });
    }
    // Chunks of items.
    let mut chunk = (best.plan.items.len() / 2).max(1);
    loop {
        let mut i = 0;
        while i < best.plan.items.len() {
            let mut items = best.plan.items.clone();
            let end = (i + chunk).min(items.len());
            items.drain(i..end);
            let c = best.config;
            if !attempt(&mut best, c, Plan { items }) {
                i += chunk;
            }
            if best.runs >= max_runs {
                break;
            }
        }
        if chunk == 1 || best.runs >= max_runs {
            break;
        }
        chunk = (chunk / 2).max(1);
    }
    std::panic::set_hook(hook);
    best.config.statements = best.plan.statements() as u64;
    best
}
