//! The storage-level workload: tenants, connections, transactions, and the oracles.
//!
//! Several tenants (separate databases) each have a few connections (pagers). A scheduler
//! driven by the workload RNG picks, at every step, either to let the simulated disk
//! complete one operation (`run_once`) or to step one connection's current task by one
//! poll. Tasks never block: a `Pending` leaves the task where it is and the scheduler
//! moves on, so tenants and connections interleave the way a single-threaded server would
//! run them. (Blocking is used only to reopen and verify a database after a crash.)
//!
//! ## The model
//! Every page the workload writes (pages 2 and up; page 1 holds the database header and
//! belongs to the pager) carries an image derived from `(page number, transaction id)`,
//! so a page's content names the transaction that wrote it. A database state is the list
//! of those transaction ids, one per page. Per tenant the model keeps:
//! - `committed`: the newest *published* state (what a new reader must see);
//! - `candidates`: the states a recovery may legitimately produce: the last acknowledged
//!   commit (the floor) followed by every commit attempted since (in flight, failed, or
//!   published but not yet acknowledged). A failed fsync leaves its transaction's frames
//!   pending, so that transaction may legitimately reappear after a crash or reopen.
//!   A plain reopen (no power loss) may surface such an unsynced transaction; it becomes
//!   what readers see, but stays above the floor until a later fsync covers it.
//!
//! ## Oracles
//! - Reads: every page read inside a read or write transaction equals the model (the
//!   reader's snapshot, or the writer's own changes), and page 1's header records the
//!   snapshot's database size.
//! - Snapshots: a read transaction that tries to upgrade to a writer after someone else
//!   committed must get `Busy`.
//! - Recovery: after a crash (or a plain reopen), each database equals one of its
//!   candidates: never a torn or partial transaction, never older than the last
//!   acknowledged commit (all tenants run `SyncMode::Full`).
//! - Errors: every injected fault is attributed (through `SimIo::set_tag`) to the task that
//!   submitted the failed operation; that task must see an `Err`. A task that completes
//!   successfully although one of its operations failed is a violation.

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use strata_io::{Poll, IO};
use strata_pager::{
    header, CheckpointMode, Error as PagerError, Pager, Storage, StorageOptions, SyncMode,
};

use crate::sim_io::{CrashMode, FaultConfig, SimIo, SimIoOptions, SimStats};

/// Which faults a run injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultMode {
    None,
    /// I/O errors (read, write, fsync, disk full).
    Errors,
    /// Power losses.
    Crash,
    /// Both.
    All,
}

impl FaultMode {
    pub fn parse(s: &str) -> Option<FaultMode> {
        match s {
            "none" => Some(FaultMode::None),
            "errors" => Some(FaultMode::Errors),
            "crash" => Some(FaultMode::Crash),
            "all" => Some(FaultMode::All),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FaultMode::None => "none",
            FaultMode::Errors => "errors",
            FaultMode::Crash => "crash",
            FaultMode::All => "all",
        }
    }

    pub fn errors(self) -> bool {
        matches!(self, FaultMode::Errors | FaultMode::All)
    }

    pub fn crashes(self) -> bool {
        matches!(self, FaultMode::Crash | FaultMode::All)
    }
}

/// Parameters of one run; everything else is derived from the seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunConfig {
    pub seed: u64,
    pub steps: u64,
    pub tenants: usize,
    pub connections: usize,
    pub faults: FaultMode,
    /// Torn sectors may hold garbage after a power loss (see `SimIoOptions::torn_garbage`).
    pub torn_garbage: bool,
    /// Give some tenants small page caches (see `Sim::setup`).
    pub small_cache: bool,
    /// Print the trace to stderr.
    pub verbose: bool,
}

impl RunConfig {
    pub fn new(seed: u64) -> Self {
        RunConfig {
            seed,
            steps: 3000,
            tenants: 3,
            connections: 3,
            faults: FaultMode::All,
            torn_garbage: false,
            small_cache: false,
            verbose: false,
        }
    }

    /// The command line that replays this run.
    pub fn replay_command(&self) -> String {
        format!(
            "cargo run --release -p simulator -- --seed {} --steps {} --tenants {} --connections {} --faults {}{}{}",
            self.seed,
            self.steps,
            self.tenants,
            self.connections,
            self.faults.name(),
            if self.torn_garbage { " --torn-garbage" } else { "" },
            if self.small_cache { " --small-cache" } else { "" }
        )
    }
}

/// How many times each check ran. A zero where a run should have exercised something
/// means a check was silently disabled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checks {
    /// Pages read and compared with the model.
    pub reads_verified: u64,
    /// Page-1 headers whose database size was compared with the model.
    pub header_sizes_verified: u64,
    pub read_txns: u64,
    pub write_txns: u64,
    pub commits_acked: u64,
    /// Commits that returned an error (the transaction was then rolled back).
    pub commits_failed: u64,
    pub rollbacks: u64,
    pub checkpoints: u64,
    pub busy: u64,
    /// Upgrades of a stale read transaction that were correctly refused.
    pub stale_upgrades_refused: u64,
    /// Databases recovered after a power loss and matched against the model.
    pub recoveries: u64,
    /// Databases reopened without a crash and matched against the model.
    pub reopens: u64,
    /// Recoveries or reopens that produced a commit newer than the last acknowledged one.
    pub recovered_unacked: u64,
    pub io_errors_injected: u64,
    /// Injected faults whose task saw an error.
    pub io_errors_surfaced: u64,
    /// Injected faults on operations whose task had been aborted (crash, reopen).
    pub io_errors_abandoned: u64,
    /// Dirty-page spills (write transactions larger than the page cache writing pages to
    /// the WAL before commit), summed over the tenants' storages.
    pub spills: u64,
    /// Opens attempted with faults on (creation of a new database, recovery at open),
    /// and the power losses injected into them (`Sim::faulty_opens`).
    pub faulty_opens: u64,
    pub open_crashes: u64,
}

impl Checks {
    pub fn line(&self) -> String {
        format!(
            "checks: reads_verified={} header_sizes_verified={} read_txns={} write_txns={} \
             commits_acked={} commits_failed={} rollbacks={} checkpoints={} busy={} \
             stale_upgrades_refused={} recoveries={} reopens={} recovered_unacked={} \
             io_errors_injected={} io_errors_surfaced={} io_errors_abandoned={} spills={} \
             faulty_opens={} open_crashes={}",
            self.reads_verified,
            self.header_sizes_verified,
            self.read_txns,
            self.write_txns,
            self.commits_acked,
            self.commits_failed,
            self.rollbacks,
            self.checkpoints,
            self.busy,
            self.stale_upgrades_refused,
            self.recoveries,
            self.reopens,
            self.recovered_unacked,
            self.io_errors_injected,
            self.io_errors_surfaced,
            self.io_errors_abandoned,
            self.spills,
            self.faulty_opens,
            self.open_crashes,
        )
    }
}

/// What a run did and found.
#[derive(Clone, Debug)]
pub struct RunReport {
    pub config: RunConfig,
    /// One line per tenant describing its seeded configuration.
    pub setup: Vec<String>,
    pub checks: Checks,
    pub stats: SimStats,
    pub faults: FaultConfig,
    pub sim_micros: u64,
    pub failure: Option<String>,
    pub digest: u64,
}

impl RunReport {
    /// The run's output, one line per element; the last line is the digest.
    pub fn lines(&self) -> Vec<String> {
        let c = &self.config;
        let mut out = vec![format!(
            "seed: {} steps: {} tenants: {} connections: {} faults: {} torn_garbage: {} small_cache: {}",
            c.seed,
            c.steps,
            c.tenants,
            c.connections,
            c.faults.name(),
            c.torn_garbage,
            c.small_cache
        )];
        out.push(format!(
            "fault config: read_error={} write_error={} sync_error={} disk_budget_bytes={:?}",
            self.faults.read_error,
            self.faults.write_error,
            self.faults.sync_error,
            self.faults.disk_budget_bytes
        ));
        out.extend(self.setup.iter().cloned());
        out.push(self.checks.line());
        let s = &self.stats;
        out.push(format!(
            "io: submitted={} performed={} reordered={} reads={} writes={} syncs={} truncates={} \
             read_errors={} write_errors={} sync_errors={} disk_full={} scheduled_errors={} \
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
            s.scheduled_errors,
            s.crashes,
            s.pending_dropped,
            s.pending_kept,
            s.pending_torn,
            s.inflight_discarded,
            self.sim_micros,
        ));
        match &self.failure {
            None => out.push("result: ok".to_string()),
            Some(msg) => {
                out.push(format!("result: FAILED: {msg}"));
                out.push(format!("replay: {}", c.replay_command()));
            }
        }
        out.push(format!("digest: {:016x}", self.digest));
        out
    }
}

// ---------------------------------------------------------------------------------------
// Page images

const PAGE_MAGIC: &[u8; 4] = b"SIMP";

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The image the workload writes to `page_no` in transaction `txn`.
pub fn page_image(page_no: u32, txn: u64, page_size: usize) -> Vec<u8> {
    let mut out = vec![0u8; page_size];
    out[0..4].copy_from_slice(PAGE_MAGIC);
    out[4..8].copy_from_slice(&page_no.to_be_bytes());
    out[8..16].copy_from_slice(&txn.to_be_bytes());
    let mut state = (u64::from(page_no) << 40) ^ txn;
    for chunk in out[16..].chunks_mut(8) {
        state = mix(state);
        let bytes = state.to_le_bytes();
        chunk.copy_from_slice(&bytes[..chunk.len()]);
    }
    out
}

/// The transaction that wrote `bytes` to `page_no`, if the page is exactly such an image.
pub fn decode_page(page_no: u32, bytes: &[u8]) -> Option<u64> {
    if bytes.len() < 16 || &bytes[0..4] != PAGE_MAGIC || bytes[4..8] != page_no.to_be_bytes() {
        return None;
    }
    let mut txn_bytes = [0u8; 8];
    txn_bytes.copy_from_slice(&bytes[8..16]);
    let txn = u64::from_be_bytes(txn_bytes);
    (page_image(page_no, txn, bytes.len()) == bytes).then_some(txn)
}

// ---------------------------------------------------------------------------------------
// Model

/// A database state: for each page (index 0 is page 1, owned by the pager and always 0),
/// the transaction that last wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbState {
    pub pages: Vec<u64>,
}

impl DbState {
    pub fn empty() -> Self {
        DbState { pages: vec![0] }
    }

    pub fn size_pages(&self) -> u32 {
        self.pages.len() as u32
    }

    pub fn describe(&self) -> String {
        let shown: Vec<String> = self.pages.iter().skip(1).map(|t| t.to_string()).collect();
        format!("{} pages [{}]", self.pages.len(), shown.join(","))
    }
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Append,
    Overwrite(u32),
    Verify(u32),
}

enum Task {
    Idle,
    Read {
        base: Arc<DbState>,
        pages: Vec<u32>,
        next: usize,
        try_upgrade: bool,
    },
    Write {
        txn: u64,
        work: DbState,
        actions: Vec<Action>,
        next: usize,
        commit: bool,
    },
    Commit {
        state: Arc<DbState>,
        published: bool,
        /// The transaction changed no page: the commit writes no frame, so it supersedes
        /// no earlier failed attempt.
        noop: bool,
    },
    Checkpoint {
        mode: CheckpointMode,
    },
}

impl Task {
    fn code(&self) -> u64 {
        match self {
            Task::Idle => 0,
            Task::Read { .. } => 1,
            Task::Write { .. } => 2,
            Task::Commit { .. } => 3,
            Task::Checkpoint { .. } => 4,
        }
    }
}

struct Conn {
    pager: Arc<Pager>,
    task: Task,
    /// Tag of the current task (0 when idle); operations it submits carry it.
    task_id: u64,
    /// Injected faults attributed to the current task so far.
    task_faults: u64,
}

struct Tenant {
    path: String,
    options: StorageOptions,
    storage: Option<Arc<Storage>>,
    conns: Vec<Conn>,
    committed: Arc<DbState>,
    candidates: Vec<Arc<DbState>>,
}

/// A violated oracle (or an unexpected engine error): ends the run.
type Violation = String;

fn io_kind(e: &PagerError) -> bool {
    matches!(e, PagerError::Io(_))
}

struct Sim {
    config: RunConfig,
    io: Arc<SimIo>,
    rng: ChaCha8Rng,
    tenants: Vec<Tenant>,
    checks: Checks,
    next_txn: u64,
    next_task_id: u64,
    /// Live tasks: tag -> (tenant, connection).
    live: BTreeMap<u64, (usize, usize)>,
    step: u64,
    /// Power losses already recovered from (to tell a scheduled crash in `run_once`).
    crashes_handled: u64,
    /// Decides the faulty opens (`Sim::faulty_opens`): a stream of its own, so they do not
    /// shift the workload's other choices.
    open_rng: ChaCha8Rng,
}

/// Runs one simulation and reports what it did; never panics on an engine failure (the
/// failure is in the report).
pub fn run(config: &RunConfig) -> RunReport {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(10);
    let faults = if config.faults.errors() {
        let pick = |rng: &mut ChaCha8Rng, choices: &[f64]| choices[rng.gen_range(0..choices.len())];
        FaultConfig {
            read_error: pick(&mut rng, &[0.0, 0.002, 0.01, 0.03]),
            write_error: pick(&mut rng, &[0.0, 0.002, 0.01, 0.03]),
            sync_error: pick(&mut rng, &[0.0, 0.005, 0.02, 0.05]),
            disk_budget_bytes: if rng.gen_bool(0.25) {
                Some(rng.gen_range(64..512) * 1024)
            } else {
                None
            },
        }
    } else {
        FaultConfig::NONE
    };
    let mut io_options = SimIoOptions::new(config.seed);
    io_options.faults = faults;
    io_options.crash_mode = CrashMode::Random;
    io_options.torn_garbage = config.torn_garbage;
    io_options.max_latency_micros = rng.gen_range(1..=1000);
    let io = Arc::new(SimIo::new(io_options));
    io.set_verbose(config.verbose);
    let mut sim = Sim {
        config: *config,
        io,
        rng,
        tenants: Vec::new(),
        checks: Checks::default(),
        next_txn: 1,
        next_task_id: 1,
        live: BTreeMap::new(),
        step: 0,
        crashes_handled: 0,
        open_rng: {
            let mut r = ChaCha8Rng::seed_from_u64(config.seed);
            r.set_stream(11);
            r
        },
    };
    let mut setup = Vec::new();
    let failure = match sim.setup(&mut setup) {
        Ok(()) => sim.main_loop().err(),
        Err(e) => Some(e),
    };
    let failure = failure.map(|e| format!("step {}: {e}", sim.step));
    sim.io.trace("end", &[failure.is_some() as u64]);
    for t in 0..sim.tenants.len() {
        sim.close_storage(t);
    }
    let stats = sim.io.stats();
    let sim_micros = sim.io.now_micros().saturating_sub(io_options.start_micros);
    let digest = sim.io.digest();
    // Drop the engine objects before the IO so nothing outlives what it points at.
    sim.tenants.clear();
    RunReport {
        config: *config,
        setup,
        checks: sim.checks,
        stats,
        faults,
        sim_micros,
        failure,
        digest,
    }
}

impl Sim {
    fn setup(&mut self, lines: &mut Vec<String>) -> Result<(), Violation> {
        // Databases are created with faults off: a failed creation is not what this run
        // is about (see the README for what happens then).
        self.io.set_faults_enabled(false);
        for t in 0..self.config.tenants {
            let page_size = [512usize, 1024, 4096][self.rng.gen_range(0..3)];
            // Small caches make eviction (and re-reading) part of the run, but are
            // nondeterministic until strata-pager's rollback stops iterating a HashMap
            // (see README, "Findings"); without `small_cache` nothing is ever evicted.
            let cache_choice = self.rng.gen_range(0..3);
            let cache_size_pages = if self.config.small_cache {
                [4usize, 16, 2000][cache_choice]
            } else {
                2000
            };
            let autocheckpoint_frames = [0u64, 8, 32, 200][self.rng.gen_range(0..4)];
            let options = StorageOptions {
                page_size,
                reserved_bytes: 0,
                cache_size_pages,
                sync_mode: SyncMode::Full,
                autocheckpoint_frames,
            };
            lines.push(format!(
                "tenant {t}: page_size={page_size} cache_size_pages={cache_size_pages} autocheckpoint_frames={autocheckpoint_frames} sync=full"
            ));
            let empty = Arc::new(DbState::empty());
            self.tenants.push(Tenant {
                path: format!("tenant{t}.db"),
                options,
                storage: None,
                conns: Vec::new(),
                committed: empty.clone(),
                candidates: vec![empty],
            });
        }
        if self.faulty_opens()? {
            // Creation met faults: each database must open as a new, empty one.
            for t in 0..self.tenants.len() {
                self.verify_recovery(t, true)?;
            }
        } else {
            for t in 0..self.tenants.len() {
                self.open_tenant(t, false)?;
            }
        }
        self.io.set_faults_enabled(true);
        Ok(())
    }

    /// Opens (and closes) closed tenants' databases with faults on and, at random, a power
    /// loss a few operations in: the creation of a new database's first page and the
    /// recovery an open performs (hot journal, WAL) must survive both, as a write
    /// transaction must. A failed open is what the fault explains; the verifying open that
    /// follows (faults off) decides. Every tenant must be closed. Returns whether any open
    /// was attempted.
    fn faulty_opens(&mut self) -> Result<bool, Violation> {
        if self.config.faults == FaultMode::None {
            return Ok(false);
        }
        let mut attempted = false;
        for t in 0..self.tenants.len() {
            for _ in 0..self.open_rng.gen_range(0..=2) {
                attempted = true;
                self.checks.faulty_opens += 1;
                if self.config.faults.crashes() && self.open_rng.gen_bool(0.6) {
                    let after = self.io.stats().performed + self.open_rng.gen_range(1..=7);
                    self.io.trace("open_crash_scheduled", &[t as u64, after]);
                    self.io.crash_after_op(after);
                }
                self.io.set_tag(0);
                self.io.set_faults_enabled(self.config.faults.errors());
                let io: Arc<dyn IO> = self.io.clone();
                let tenant = &self.tenants[t];
                let opened = Storage::open(io, &tenant.path, tenant.options);
                self.io.set_faults_enabled(false);
                self.io.clear_scheduled();
                self.io
                    .trace("faulty_open", &[t as u64, opened.is_ok() as u64]);
                drop(opened);
                while self.io.inflight() > 0 {
                    self.io
                        .run_once()
                        .map_err(|e| format!("draining after a faulty open: {e}"))?;
                }
                if self.io.stats().crashes > self.crashes_handled {
                    self.crashes_handled = self.io.stats().crashes;
                    self.checks.open_crashes += 1;
                }
                self.collect_faults();
            }
        }
        Ok(attempted)
    }

    fn main_loop(&mut self) -> Result<(), Violation> {
        let crash_probability = if self.config.faults.crashes() {
            (5.0 / self.config.steps.max(1) as f64).min(0.5)
        } else {
            0.0
        };
        while self.step < self.config.steps {
            self.step += 1;
            if crash_probability > 0.0 && self.rng.gen_bool(crash_probability) {
                if self.rng.gen_bool(0.5) {
                    self.crash_and_recover()?;
                } else {
                    // Lose power a few operations from now: this lands inside commits and
                    // checkpoints (between a write and its fsync) far more often than a
                    // crash between scheduler steps does.
                    let after = self.io.stats().performed + self.rng.gen_range(1..=6);
                    self.io.trace("crash_scheduled", &[after]);
                    self.io.crash_after_op(after);
                }
                continue;
            }
            if self.rng.gen_range(0..100) < 45 && self.io.inflight() > 0 {
                self.run_io()?;
                continue;
            }
            let t = self.rng.gen_range(0..self.tenants.len());
            let c = self.rng.gen_range(0..self.tenants[t].conns.len());
            self.step_conn(t, c, true)?;
            let think = self.rng.gen_range(0..50);
            self.io.advance_clock(think);
        }
        // Let every task finish (no new ones), then check every database once more.
        let mut guard = 0u64;
        while self
            .tenants
            .iter()
            .any(|t| t.conns.iter().any(|c| !matches!(c.task, Task::Idle)))
        {
            guard += 1;
            if guard > 1_000_000 {
                return Err("tasks did not finish after the run (livelock?)".into());
            }
            if self.io.inflight() > 0 && self.rng.gen_bool(0.5) {
                self.run_io()?;
                continue;
            }
            let t = self.rng.gen_range(0..self.tenants.len());
            let c = self.rng.gen_range(0..self.tenants[t].conns.len());
            self.step_conn(t, c, false)?;
        }
        if self.config.faults.crashes() {
            self.crash_and_recover()
        } else {
            for t in 0..self.tenants.len() {
                self.reopen_tenant(t)?;
            }
            Ok(())
        }
    }

    /// Completes one I/O operation and attributes any fault it injected.
    fn run_io(&mut self) -> Result<(), Violation> {
        self.io.set_tag(0);
        if let Err(e) = self.io.run_once() {
            if self.io.stats().crashes > self.crashes_handled {
                // The scheduled power loss hit right after this operation.
                return self.recover_after_crash();
            }
            return Err(format!("run_once failed outside a scheduled crash: {e}"));
        }
        self.collect_faults();
        Ok(())
    }

    fn collect_faults(&mut self) {
        for fault in self.io.take_faults() {
            self.checks.io_errors_injected += 1;
            match self.live.get(&fault.tag) {
                Some(&(t, c)) => self.tenants[t].conns[c].task_faults += 1,
                None => self.checks.io_errors_abandoned += 1,
            }
        }
    }

    /// Drops tenant `t`'s storage, counting its spills first.
    fn close_storage(&mut self, t: usize) {
        if let Some(storage) = self.tenants[t].storage.take() {
            self.checks.spills += storage.spill_count();
        }
    }

    fn open_tenant(&mut self, t: usize, drop_first: bool) -> Result<(), Violation> {
        if drop_first {
            self.abort_tasks(t);
            self.tenants[t].conns.clear();
            self.close_storage(t);
        }
        let io: Arc<dyn IO> = self.io.clone();
        let tenant = &mut self.tenants[t];
        let storage = Storage::open(io, &tenant.path, tenant.options)
            .map_err(|e| format!("tenant {t}: open failed: {e}"))?;
        tenant.conns = (0..self.config.connections.max(1))
            .map(|_| Conn {
                pager: storage.pager(),
                task: Task::Idle,
                task_id: 0,
                task_faults: 0,
            })
            .collect();
        tenant.storage = Some(storage);
        Ok(())
    }

    fn abort_tasks(&mut self, t: usize) {
        for c in 0..self.tenants[t].conns.len() {
            let conn = &mut self.tenants[t].conns[c];
            if conn.task_id != 0 {
                self.live.remove(&conn.task_id);
                self.checks.io_errors_abandoned += conn.task_faults;
            }
            // The pager is about to be dropped; a rollback error changes nothing then.
            let _ = conn.pager.rollback();
            conn.task = Task::Idle;
            conn.task_id = 0;
            conn.task_faults = 0;
        }
    }

    fn crash_and_recover(&mut self) -> Result<(), Violation> {
        self.io.trace("crash_step", &[self.step]);
        self.io.crash();
        self.recover_after_crash()
    }

    /// After a power loss: every task is gone; every database must recover to an allowed
    /// state.
    fn recover_after_crash(&mut self) -> Result<(), Violation> {
        self.crashes_handled = self.io.stats().crashes;
        self.io.clear_scheduled();
        self.collect_faults();
        for t in 0..self.tenants.len() {
            self.abort_tasks(t);
            self.tenants[t].conns.clear();
            self.close_storage(t);
        }
        // Recovery itself may meet faults and lose power again; what the verifying open
        // then finds must still be a state the first power loss allowed.
        self.faulty_opens()?;
        for t in 0..self.tenants.len() {
            self.verify_recovery(t, true)?;
        }
        Ok(())
    }

    /// Closes and reopens one tenant (no crash) and checks it against the model.
    fn reopen_tenant(&mut self, t: usize) -> Result<(), Violation> {
        // A power loss scheduled a few operations ahead would hit the blocking drain and
        // open below; cancel it rather than crash in the middle of a reopen.
        self.io.clear_scheduled();
        self.abort_tasks(t);
        self.tenants[t].conns.clear();
        self.close_storage(t);
        // Closing waits for the I/O already submitted, as closing a file does; otherwise a
        // dead connection's late writes would land after recovery.
        while self.io.inflight() > 0 {
            self.run_io()?;
        }
        self.verify_recovery(t, false)
    }

    /// Opens tenant `t`, reads every page and requires the content to equal one of the
    /// candidate states; that state becomes the model.
    fn verify_recovery(&mut self, t: usize, after_crash: bool) -> Result<(), Violation> {
        self.io.set_faults_enabled(false);
        self.io.set_tag(0);
        let result = self.read_whole_database(t);
        self.io.set_faults_enabled(true);
        self.collect_faults();
        let (state, storage) = result?;
        let tenant = &mut self.tenants[t];
        let Some(index) = tenant.candidates.iter().position(|c| **c == state) else {
            let floor = tenant
                .candidates
                .first()
                .map(|c| c.describe())
                .unwrap_or_default();
            let others: Vec<String> = tenant
                .candidates
                .iter()
                .skip(1)
                .map(|c| c.describe())
                .collect();
            return Err(format!(
                "tenant {t}: {} produced a state that is no committed prefix: recovered {}; \
                 last acknowledged {}; in flight since: [{}]",
                if after_crash {
                    "recovery after power loss"
                } else {
                    "reopen"
                },
                state.describe(),
                floor,
                others.join(" | ")
            ));
        };
        if index > 0 {
            self.checks.recovered_unacked += 1;
        }
        if after_crash {
            self.checks.recoveries += 1;
        } else {
            self.checks.reopens += 1;
        }
        let matched = tenant.candidates[index].clone();
        self.io.trace(
            "recovered",
            &[t as u64, index as u64, matched.pages.len() as u64],
        );
        tenant.committed = matched.clone();
        if after_crash {
            // Everything on the disk after a power loss is durable.
            tenant.candidates = vec![matched];
        } else {
            // A plain reopen recovers the WAL as it is, including frames written but never
            // fsynced (an in-flight commit of the closed connection): readers now see that
            // state, but a later power loss may still take it back to any earlier
            // candidate. Later attempts are gone: recovery found nothing valid after the
            // matched one, and new commits overwrite that space.
            tenant.candidates.truncate(index + 1);
        }
        tenant.conns = (0..self.config.connections.max(1))
            .map(|_| Conn {
                pager: storage.pager(),
                task: Task::Idle,
                task_id: 0,
                task_faults: 0,
            })
            .collect();
        tenant.storage = Some(storage);
        Ok(())
    }

    fn read_whole_database(&mut self, t: usize) -> Result<(DbState, Arc<Storage>), Violation> {
        let io: Arc<dyn IO> = self.io.clone();
        let tenant = &self.tenants[t];
        let storage = Storage::open(io.clone(), &tenant.path, tenant.options)
            .map_err(|e| format!("tenant {t}: reopen failed: {e}"))?;
        let pager = storage.pager();
        pager
            .begin_read()
            .map_err(|e| format!("tenant {t}: begin_read after reopen: {e}"))?;
        let size = pager.db_size_pages();
        if size == 0 {
            return Err(format!("tenant {t}: reopened database has 0 pages"));
        }
        let mut pages = vec![0u64];
        for page_no in 1..=size {
            let page = strata_io::block_on(io.as_ref(), || pager.get_page(page_no))
                .map_err(|e| format!("tenant {t}: reading page {page_no} after reopen: {e}"))?;
            let data = page.data();
            if page_no == 1 {
                let recorded = header::read_u32(&data, header::OFFSET_DB_SIZE_PAGES);
                if recorded != size {
                    return Err(format!(
                        "tenant {t}: after reopen page 1 records {recorded} pages, the pager reports {size}"
                    ));
                }
                self.checks.header_sizes_verified += 1;
            } else {
                match decode_page(page_no, &data) {
                    Some(txn) => pages.push(txn),
                    None => {
                        return Err(format!(
                            "tenant {t}: after reopen page {page_no} of {size} is not an image the workload wrote (torn or corrupt); first bytes {:02x?}",
                            &data[..16.min(data.len())]
                        ))
                    }
                }
            }
            self.checks.reads_verified += 1;
        }
        pager.end_read();
        drop(pager);
        Ok((DbState { pages }, storage))
    }

    /// Steps connection `c` of tenant `t` once (starting a task if idle and `may_start`).
    fn step_conn(&mut self, t: usize, c: usize, may_start: bool) -> Result<(), Violation> {
        if matches!(self.tenants[t].conns[c].task, Task::Idle) {
            if !may_start {
                return Ok(());
            }
            self.start_task(t, c)?;
        }
        let tag = self.tenants[t].conns[c].task_id;
        self.io.set_tag(tag);
        let outcome = self.poll_task(t, c);
        self.io.set_tag(0);
        self.collect_faults();
        match outcome {
            Ok(Some(finished_ok)) => self.finish_task(t, c, finished_ok),
            Ok(None) => Ok(()),
            Err(v) => Err(v),
        }
    }

    fn start_task(&mut self, t: usize, c: usize) -> Result<(), Violation> {
        let roll = self.rng.gen_range(0..100);
        let task_id = self.next_task_id;
        self.next_task_id += 1;
        let task = if roll < 40 {
            let tenant = &self.tenants[t];
            let pager = &tenant.conns[c].pager;
            if let Err(e) = pager.begin_read() {
                return Err(format!("tenant {t} conn {c}: begin_read: {e}"));
            }
            let base = tenant.committed.clone();
            let size = base.size_pages();
            let count = self.rng.gen_range(1..=8usize);
            let pages = (0..count).map(|_| self.rng.gen_range(1..=size)).collect();
            let try_upgrade = self.rng.gen_bool(0.2);
            self.checks.read_txns += 1;
            Task::Read {
                base,
                pages,
                next: 0,
                try_upgrade,
            }
        } else if roll < 90 {
            let pager = self.tenants[t].conns[c].pager.clone();
            match pager.begin_write() {
                Ok(()) => {}
                Err(PagerError::Busy) => {
                    // begin_write started a read transaction before it found the write
                    // lock taken; that read transaction stays open until ended.
                    pager.end_read();
                    self.checks.busy += 1;
                    self.io.trace("busy", &[t as u64, c as u64]);
                    return Ok(());
                }
                Err(e) => return Err(format!("tenant {t} conn {c}: begin_write: {e}")),
            }
            let base = self.tenants[t].committed.clone();
            self.new_write_task(&base)
        } else {
            let mode = [
                CheckpointMode::Passive,
                CheckpointMode::Full,
                CheckpointMode::Restart,
                CheckpointMode::Truncate,
            ][self.rng.gen_range(0..4)];
            Task::Checkpoint { mode }
        };
        self.io
            .trace("start", &[t as u64, c as u64, task_id, task.code()]);
        let conn = &mut self.tenants[t].conns[c];
        conn.task = task;
        conn.task_id = task_id;
        conn.task_faults = 0;
        self.live.insert(task_id, (t, c));
        Ok(())
    }

    fn new_write_task(&mut self, base: &DbState) -> Task {
        let txn = self.next_txn;
        self.next_txn += 1;
        self.checks.write_txns += 1;
        let mut size = base.size_pages();
        // A quarter of the transactions change a single existing page: one-frame commits,
        // which make WAL restarts and torn frames most interesting.
        let count = if size >= 2 && self.rng.gen_bool(0.25) {
            1
        } else {
            self.rng.gen_range(1..=6usize)
        };
        let mut actions = Vec::with_capacity(count);
        for _ in 0..count {
            let roll = self.rng.gen_range(0..100);
            if size < 2 || (roll < 35 && count > 1) {
                actions.push(Action::Append);
                size += 1;
            } else if roll < 85 {
                actions.push(Action::Overwrite(self.rng.gen_range(2..=size)));
            } else {
                actions.push(Action::Verify(self.rng.gen_range(1..=size)));
            }
        }
        let commit = self.rng.gen_bool(0.85);
        Task::Write {
            txn,
            work: base.clone(),
            actions,
            next: 0,
            commit,
        }
    }

    /// Polls the task once. `Ok(Some(true))`: finished successfully; `Ok(Some(false))`:
    /// finished after seeing an error; `Ok(None)`: still running.
    fn poll_task(&mut self, t: usize, c: usize) -> Result<Option<bool>, Violation> {
        let pager = self.tenants[t].conns[c].pager.clone();
        let page_size = pager.page_size();
        let task = std::mem::replace(&mut self.tenants[t].conns[c].task, Task::Idle);
        let (next_task, outcome) = match task {
            Task::Idle => (Task::Idle, Some(true)),
            Task::Read {
                base,
                pages,
                mut next,
                try_upgrade,
            } => {
                if pager.db_size_pages() != base.size_pages() {
                    return Err(format!(
                        "tenant {t} conn {c}: read snapshot has {} pages, model {}",
                        pager.db_size_pages(),
                        base.size_pages()
                    ));
                }
                let mut result = None;
                while next < pages.len() {
                    match pager.get_page(pages[next]) {
                        Ok(Poll::Pending) => break,
                        Ok(Poll::Ready(page)) => {
                            self.verify_page(t, c, &base, &page.data(), pages[next], true)?;
                            next += 1;
                        }
                        Err(e) if io_kind(&e) => {
                            pager.end_read();
                            result = Some(false);
                            break;
                        }
                        Err(e) => {
                            return Err(format!(
                                "tenant {t} conn {c}: read of page {}: {e}",
                                pages[next]
                            ))
                        }
                    }
                }
                if result.is_some() {
                    (Task::Idle, result)
                } else if next < pages.len() {
                    (
                        Task::Read {
                            base,
                            pages,
                            next,
                            try_upgrade,
                        },
                        None,
                    )
                } else if try_upgrade {
                    // Compared by content: a commit that changed no page publishes nothing
                    // and leaves the snapshot current.
                    let stale = *base != *self.tenants[t].committed;
                    match pager.begin_write() {
                        Ok(()) if stale => {
                            return Err(format!(
                                "tenant {t} conn {c}: begin_write on a stale snapshot succeeded (a commit was published after this reader began)"
                            ))
                        }
                        Ok(()) => {
                            let task = self.new_write_task(&base);
                            (task, None)
                        }
                        Err(PagerError::Busy) => {
                            if stale {
                                self.checks.stale_upgrades_refused += 1;
                            } else {
                                self.checks.busy += 1;
                            }
                            pager.end_read();
                            (Task::Idle, Some(true))
                        }
                        Err(e) => return Err(format!("tenant {t} conn {c}: upgrade: {e}")),
                    }
                } else {
                    pager.end_read();
                    (Task::Idle, Some(true))
                }
            }
            Task::Write {
                txn,
                mut work,
                actions,
                mut next,
                commit,
            } => {
                let mut failed = false;
                let mut pending = false;
                while next < actions.len() {
                    match actions[next] {
                        Action::Append => {
                            let page = match pager.append_page() {
                                Ok(p) => p,
                                Err(e) => {
                                    return Err(format!("tenant {t} conn {c}: append_page: {e}"))
                                }
                            };
                            let page_no = page.page_no();
                            if page_no != work.size_pages() + 1 {
                                return Err(format!(
                                    "tenant {t} conn {c}: append_page returned page {page_no}, expected {}",
                                    work.size_pages() + 1
                                ));
                            }
                            page.data_mut()
                                .copy_from_slice(&page_image(page_no, txn, page_size));
                            work.pages.push(txn);
                        }
                        Action::Overwrite(page_no) => match pager.get_page(page_no) {
                            Ok(Poll::Pending) => {
                                pending = true;
                                break;
                            }
                            Ok(Poll::Ready(page)) => {
                                self.verify_page(t, c, &work, &page.data(), page_no, false)?;
                                if let Err(e) = pager.mark_dirty(&page) {
                                    return Err(format!(
                                        "tenant {t} conn {c}: mark_dirty({page_no}): {e}"
                                    ));
                                }
                                page.data_mut()
                                    .copy_from_slice(&page_image(page_no, txn, page_size));
                                work.pages[page_no as usize - 1] = txn;
                            }
                            Err(e) if io_kind(&e) => {
                                failed = true;
                                break;
                            }
                            Err(e) => {
                                return Err(format!(
                                    "tenant {t} conn {c}: get_page({page_no}) in write: {e}"
                                ))
                            }
                        },
                        Action::Verify(page_no) => match pager.get_page(page_no) {
                            Ok(Poll::Pending) => {
                                pending = true;
                                break;
                            }
                            Ok(Poll::Ready(page)) => {
                                self.verify_page(t, c, &work, &page.data(), page_no, false)?
                            }
                            Err(e) if io_kind(&e) => {
                                failed = true;
                                break;
                            }
                            Err(e) => {
                                return Err(format!(
                                    "tenant {t} conn {c}: get_page({page_no}) in write: {e}"
                                ))
                            }
                        },
                    }
                    next += 1;
                }
                if failed {
                    self.rollback(t, c, &pager)?;
                    (Task::Idle, Some(false))
                } else if pending {
                    (
                        Task::Write {
                            txn,
                            work,
                            actions,
                            next,
                            commit,
                        },
                        None,
                    )
                } else if !commit {
                    self.rollback(t, c, &pager)?;
                    (Task::Idle, Some(true))
                } else {
                    let noop = work == *self.tenants[t].committed;
                    let state = if noop {
                        self.tenants[t].committed.clone()
                    } else {
                        let state = Arc::new(work);
                        self.tenants[t].candidates.push(state.clone());
                        state
                    };
                    self.io.trace(
                        "commit_start",
                        &[t as u64, txn, state.pages.len() as u64, noop as u64],
                    );
                    (
                        Task::Commit {
                            state,
                            published: false,
                            noop,
                        },
                        None,
                    )
                }
            }
            Task::Commit {
                state,
                mut published,
                noop,
            } => {
                let polled = pager.commit();
                let open = pager.in_write_tx();
                if !open && !published {
                    // The WAL published the transaction (its fsync completed): new readers
                    // must see it from now on, even if an autocheckpoint still runs.
                    published = true;
                    self.tenants[t].committed = state.clone();
                }
                match polled {
                    Ok(Poll::Ready(())) => {
                        if !published {
                            return Err(format!("tenant {t} conn {c}: commit returned Ready with the write transaction still open"));
                        }
                        self.checks.commits_acked += 1;
                        self.io
                            .trace("acked", &[t as u64, state.pages.len() as u64]);
                        // Commits attempted before this one can no longer come back (this
                        // one's frames replaced theirs); later ones (another connection may
                        // have committed while this one ran its autocheckpoint) still can.
                        let candidates = &mut self.tenants[t].candidates;
                        if let Some(pos) = candidates
                            .iter()
                            .position(|s| Arc::ptr_eq(s, &state))
                            .filter(|_| !noop)
                        {
                            candidates.drain(..pos);
                        }
                        (Task::Idle, Some(true))
                    }
                    Ok(Poll::Pending) => (
                        Task::Commit {
                            state,
                            published,
                            noop,
                        },
                        None,
                    ),
                    Err(e) if io_kind(&e) || matches!(e, PagerError::Busy) => {
                        // Busy: a checkpoint's WAL truncation was still in flight.
                        self.checks.commits_failed += 1;
                        self.io
                            .trace("commit_failed", &[t as u64, published as u64]);
                        if open {
                            self.rollback(t, c, &pager)?;
                        }
                        (Task::Idle, Some(false))
                    }
                    Err(e) => return Err(format!("tenant {t} conn {c}: commit: {e}")),
                }
            }
            Task::Checkpoint { mode } => match pager.checkpoint(mode) {
                Ok(Poll::Pending) => (Task::Checkpoint { mode }, None),
                Ok(Poll::Ready(result)) => {
                    self.checks.checkpoints += 1;
                    self.io.trace(
                        "checkpoint",
                        &[
                            t as u64,
                            result.busy as u64,
                            result.wal_frames,
                            result.checkpointed_frames,
                        ],
                    );
                    (Task::Idle, Some(true))
                }
                Err(e) if io_kind(&e) => (Task::Idle, Some(false)),
                Err(e) => return Err(format!("tenant {t} conn {c}: checkpoint({mode:?}): {e}")),
            },
        };
        self.tenants[t].conns[c].task = next_task;
        Ok(outcome)
    }

    fn rollback(&mut self, t: usize, c: usize, pager: &Pager) -> Result<(), Violation> {
        self.checks.rollbacks += 1;
        pager
            .rollback()
            .map_err(|e| format!("tenant {t} conn {c}: rollback: {e}"))
    }

    /// Compares a page read in a transaction with the model. `snapshot_read` is true in a
    /// read transaction, where page 1 must record exactly the snapshot's size; in a write
    /// transaction the size field is brought up to date only at commit.
    fn verify_page(
        &mut self,
        t: usize,
        c: usize,
        model: &DbState,
        data: &[u8],
        page_no: u32,
        snapshot_read: bool,
    ) -> Result<(), Violation> {
        if page_no == 1 {
            let recorded = header::read_u32(data, header::OFFSET_DB_SIZE_PAGES);
            if snapshot_read && recorded != model.size_pages() {
                return Err(format!(
                    "tenant {t} conn {c}: page 1 records {recorded} pages, the snapshot has {}",
                    model.size_pages()
                ));
            }
            if recorded == 0 {
                return Err(format!(
                    "tenant {t} conn {c}: page 1 records a database size of 0"
                ));
            }
            self.checks.header_sizes_verified += 1;
        } else {
            let expected = model.pages.get(page_no as usize - 1).copied();
            let found = decode_page(page_no, data);
            if expected.is_none() || found != expected {
                return Err(format!(
                    "tenant {t} conn {c}: page {page_no} holds the image of txn {found:?}, the model says {expected:?}"
                ));
            }
        }
        self.checks.reads_verified += 1;
        Ok(())
    }

    fn finish_task(&mut self, t: usize, c: usize, ok: bool) -> Result<(), Violation> {
        let conn = &mut self.tenants[t].conns[c];
        let (task_id, faults) = (conn.task_id, conn.task_faults);
        self.live.remove(&task_id);
        conn.task_id = 0;
        conn.task_faults = 0;
        self.io
            .trace("finish", &[t as u64, c as u64, task_id, ok as u64, faults]);
        if ok && faults > 0 {
            return Err(format!(
                "tenant {t} conn {c}: task {task_id} completed successfully although {faults} of its I/O operations failed (error swallowed)"
            ));
        }
        self.checks.io_errors_surfaced += faults;
        if !ok && self.rng.gen_bool(0.3) {
            // After an error, sometimes close and reopen the database instead of carrying on.
            self.reopen_tenant(t)?;
        }
        Ok(())
    }
}
