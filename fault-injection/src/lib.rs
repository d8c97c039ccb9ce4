//! # fault-injection: exhaustive crash points and I/O-error points
//!
//! A fixed storage-level workload (a few dozen transactions with appends, overwrites,
//! rollbacks and checkpoints of every mode, on one database) runs on the simulator's
//! [`SimIo`]. [`count_ops`] counts the I/O operations it performs, `N`. Then, for every
//! `n` in `1..=N`:
//! - **crash point** ([`Fault::CrashAfter`]): the power fails right after the `n`-th
//!   operation takes effect (before its completion fires); unsynced changes are dropped,
//!   kept or torn per [`CrashMode`]. The database is reopened and must equal one committed
//!   prefix of the workload (atomicity), no older than the last acknowledged commit
//!   (durability), with every page readable, page 1's size field equal to the size the
//!   pager reports (integrity). It must then still accept a commit and a truncating
//!   checkpoint, after which the database file must be exactly the committed number of
//!   pages and the WAL empty.
//! - **error point** ([`Fault::FailOp`]): the `n`-th operation fails with an I/O error.
//!   The workload step that submitted it must return `Err` (the error surfaces); the
//!   workload then rolls back and carries on, and at the end the database must equal the
//!   model, reopen to an allowed state, and survive a power loss that drops everything
//!   unsynced with every acknowledged commit intact.
//!
//! Steps are driven with `block_on` (one connection, one step at a time): exhaustive
//! enumeration needs a fixed operation sequence, and the simulator covers interleaving.

pub mod sql;

use std::sync::Arc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simulator::{decode_page, page_image, CrashMode, DbState, SimIo, SimIoOptions};
use strata_io::{block_on, IO};
use strata_pager::{
    header, CheckpointMode, Error as PagerError, Pager, Storage, StorageOptions, SyncMode,
};

pub const DB_PATH: &str = "crash.db";

/// The workload's parameters.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Seed of the workload plan and of the SimIo (latencies, crash fates).
    pub seed: u64,
    pub transactions: usize,
    pub page_size: usize,
    pub autocheckpoint_frames: u64,
    pub torn_garbage: bool,
    /// The pager's cache size: a tiny one makes transactions spill dirty pages to the WAL
    /// before their commit.
    pub cache_size_pages: usize,
    /// Actions per transaction are drawn from `1..=max_actions`.
    pub max_actions: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 7,
            transactions: 36,
            page_size: 512,
            autocheckpoint_frames: 0,
            torn_garbage: false,
            cache_size_pages: 2000,
            max_actions: 4,
        }
    }
}

/// What to inject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Lose power right after the n-th performed operation (1-based).
    CrashAfter(u64, CrashMode),
    /// Fail the n-th performed operation with an I/O error.
    FailOp(u64),
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Append,
    /// Overwrites page `2 + pick % (size - 1)` of the database as it is when the action
    /// runs: an earlier failed commit may have left it smaller than planned.
    Overwrite {
        pick: u32,
    },
}

#[derive(Clone, Debug)]
enum Step {
    Txn {
        txn: u64,
        actions: Vec<Action>,
        commit: bool,
    },
    Checkpoint(CheckpointMode),
}

/// The fixed plan: transactions with 1..=4 actions (15% rolled back), a checkpoint after
/// every fifth transaction, cycling through the four modes.
fn plan(config: &Config) -> Vec<Step> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut size = 1u32;
    let mut steps = Vec::new();
    let modes = [
        CheckpointMode::Passive,
        CheckpointMode::Full,
        CheckpointMode::Restart,
        CheckpointMode::Truncate,
    ];
    for i in 0..config.transactions {
        let txn = i as u64 + 1;
        let commit = rng.gen_range(0..100) >= 15;
        let mut planned = size;
        let actions = (0..rng.gen_range(1..=config.max_actions))
            .map(|_| {
                if planned < 3 || rng.gen_bool(0.4) {
                    planned += 1;
                    Action::Append
                } else {
                    Action::Overwrite { pick: rng.gen() }
                }
            })
            .collect();
        if commit {
            size = planned;
        }
        steps.push(Step::Txn {
            txn,
            actions,
            commit,
        });
        if i % 5 == 4 {
            steps.push(Step::Checkpoint(modes[(i / 5) % 4]));
        }
    }
    steps
}

/// Checks counted over one or many points; a zero shows a check that never ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Checks {
    pub points: u64,
    pub crashes: u64,
    pub errors_injected: u64,
    pub errors_surfaced: u64,
    pub commits_acked: u64,
    pub commits_failed: u64,
    /// Reopened databases compared with the allowed states.
    pub states_verified: u64,
    /// Of those, states newer than the last acknowledged commit (an in-flight commit won).
    pub unacked_states: u64,
    pub pages_verified: u64,
    pub continued_after_recovery: u64,
    /// Database and WAL file sizes checked after a complete truncating checkpoint.
    pub file_sizes_verified: u64,
    /// Dirty-page spills of the workload's transactions (before the fault, if any).
    pub spills: u64,
}

impl Checks {
    pub fn add(&mut self, o: &Checks) {
        self.points += o.points;
        self.crashes += o.crashes;
        self.errors_injected += o.errors_injected;
        self.errors_surfaced += o.errors_surfaced;
        self.commits_acked += o.commits_acked;
        self.commits_failed += o.commits_failed;
        self.states_verified += o.states_verified;
        self.unacked_states += o.unacked_states;
        self.pages_verified += o.pages_verified;
        self.continued_after_recovery += o.continued_after_recovery;
        self.file_sizes_verified += o.file_sizes_verified;
        self.spills += o.spills;
    }
}

/// Result of one run of the workload.
#[derive(Clone, Debug)]
pub struct PointReport {
    /// Operations performed by the workload before the end (or the crash).
    pub ops_performed: u64,
    pub checks: Checks,
}

fn storage_options(config: &Config) -> StorageOptions {
    StorageOptions {
        page_size: config.page_size,
        reserved_bytes: 0,
        cache_size_pages: config.cache_size_pages,
        sync_mode: SyncMode::Full,
        autocheckpoint_frames: config.autocheckpoint_frames,
    }
}

/// The model: the allowed recovered states, oldest (last acknowledged) first.
struct Model {
    committed: DbState,
    candidates: Vec<DbState>,
}

struct Harness {
    config: Config,
    io: Arc<SimIo>,
    checks: Checks,
    model: Model,
}

/// Why the workload stopped early.
enum Stop {
    /// The scheduled power loss happened.
    Crashed,
    Violation(String),
}

impl From<String> for Stop {
    fn from(s: String) -> Self {
        Stop::Violation(s)
    }
}

/// Counts the operations of the fault-free workload (including creating the database).
pub fn count_ops(config: &Config) -> Result<u64, String> {
    run_point(config, Fault::None).map(|r| r.ops_performed)
}

/// Runs the workload with one injected fault and checks the outcome; `Err` describes the
/// violated property.
pub fn run_point(config: &Config, fault: Fault) -> Result<PointReport, String> {
    let mut options = SimIoOptions::new(config.seed);
    options.torn_garbage = config.torn_garbage;
    if let Fault::CrashAfter(_, mode) = fault {
        options.crash_mode = mode;
    }
    let io = Arc::new(SimIo::new(options));
    match fault {
        Fault::None => {}
        Fault::CrashAfter(n, _) => io.crash_after_op(n),
        Fault::FailOp(n) => io.fail_op(n),
    }
    let mut h = Harness {
        config: *config,
        io,
        checks: Checks {
            points: 1,
            ..Checks::default()
        },
        model: Model {
            committed: DbState::empty(),
            candidates: vec![DbState::empty()],
        },
    };
    let outcome = h.run_workload();
    let ops_performed = h.io.stats().performed;
    let context = |e: String| format!("{fault:?}: {e}");
    match outcome {
        Ok(storage) => {
            // Ran to the end (possibly past an injected error): the live state must equal
            // the model, then a reopen and a power loss must keep it allowed.
            h.verify_live(&storage).map_err(context)?;
            drop(storage);
            h.io.clear_scheduled();
            while h.io.inflight() > 0 {
                h.io.run_once().map_err(|e| context(e.to_string()))?;
            }
            h.reopen_and_verify(false).map_err(context)?;
        }
        Err(Stop::Crashed) => {
            h.checks.crashes += 1;
            h.io.clear_scheduled();
            h.reopen_and_verify(true).map_err(context)?;
        }
        Err(Stop::Violation(v)) => return Err(context(v)),
    }
    h.checks.errors_injected += h.io.stats().scheduled_errors;
    Ok(PointReport {
        ops_performed,
        checks: h.checks,
    })
}

impl Harness {
    fn crashed(&self) -> bool {
        self.io.stats().crashes > 0
    }

    /// Turns an engine error into a stop: the scheduled crash, or a surfaced injected
    /// error (counted; `Ok` so the caller can recover), or a violation.
    fn on_error(&mut self, what: &str, e: PagerError, fault_fired: bool) -> Result<(), Stop> {
        if self.crashed() {
            return Err(Stop::Crashed);
        }
        if fault_fired && matches!(e, PagerError::Io(_)) {
            self.checks.errors_surfaced += 1;
            return Ok(());
        }
        Err(Stop::Violation(format!("{what}: unexpected error {e}")))
    }

    fn open(&mut self) -> Result<Arc<Storage>, Stop> {
        // A failed open (its I/O error injected) is retried once, as an application would.
        for attempt in 0..2 {
            let io: Arc<dyn IO> = self.io.clone();
            match Storage::open(io, DB_PATH, storage_options(&self.config)) {
                Ok(s) => {
                    // The workload holds the pages it works with: a one-page cache may
                    // spill at every step (see `Storage::set_spill_min_pages`).
                    s.set_spill_min_pages(1);
                    return Ok(s);
                }
                Err(e) => {
                    let fired = !self.io.take_faults().is_empty();
                    self.on_error("open", e, fired && attempt == 0)?;
                }
            }
        }
        Err(Stop::Violation("open failed twice".into()))
    }

    fn run_workload(&mut self) -> Result<Arc<Storage>, Stop> {
        let storage = self.open()?;
        let pager = storage.pager();
        for step in plan(&self.config) {
            let _ = self.io.take_faults();
            let result = match &step {
                Step::Txn {
                    txn,
                    actions,
                    commit,
                } => self.run_txn(&pager, *txn, actions, *commit),
                Step::Checkpoint(mode) => {
                    block_on(self.io.as_ref(), || pager.checkpoint(*mode)).map(|_| ())
                }
            };
            let fired = !self.io.take_faults().is_empty();
            match result {
                Ok(()) if fired && !self.crashed() => {
                    return Err(Stop::Violation(format!(
                        "{step:?} succeeded although one of its I/O operations failed (error swallowed)"
                    )))
                }
                Ok(()) => {}
                Err(e) => {
                    self.on_error(&format!("{step:?}"), e, fired)?;
                    if pager.in_write_tx() {
                        pager.rollback().map_err(|e| Stop::Violation(format!("rollback: {e}")))?;
                    }
                }
            }
            if self.crashed() {
                return Err(Stop::Crashed);
            }
        }
        drop(pager);
        self.checks.spills += storage.spill_count();
        Ok(storage)
    }

    /// One transaction: its actions, then commit (updating the model) or rollback.
    fn run_txn(
        &mut self,
        pager: &Pager,
        txn: u64,
        actions: &[Action],
        commit: bool,
    ) -> Result<(), PagerError> {
        let io = self.io.clone();
        pager.begin_write()?;
        let mut work = self.model.committed.clone();
        let page_size = pager.page_size();
        for action in actions {
            match *action {
                Action::Overwrite { pick } if work.size_pages() >= 2 => {
                    let page_no = 2 + pick % (work.size_pages() - 1);
                    let page = block_on(io.as_ref(), || pager.get_page(page_no))?;
                    let expected = work.pages.get(page_no as usize - 1).copied();
                    if decode_page(page_no, &page.data()) != expected {
                        return Err(PagerError::Corrupt(format!(
                            "MODEL MISMATCH: page {page_no} in txn {txn} is not txn {expected:?}'s image"
                        )));
                    }
                    pager.mark_dirty(&page)?;
                    page.data_mut()
                        .copy_from_slice(&page_image(page_no, txn, page_size));
                    work.pages[page_no as usize - 1] = txn;
                }
                Action::Append | Action::Overwrite { .. } => {
                    let page = pager.append_page()?;
                    page.data_mut()
                        .copy_from_slice(&page_image(page.page_no(), txn, page_size));
                    work.pages.push(txn);
                }
            }
        }
        if !commit {
            return pager.rollback();
        }
        self.model.candidates.push(work.clone());
        match block_on(io.as_ref(), || pager.commit()) {
            Ok(()) => {
                self.checks.commits_acked += 1;
                self.model.candidates = vec![work.clone()];
                self.model.committed = work;
                Ok(())
            }
            Err(e) => {
                if !self.crashed() {
                    self.checks.commits_failed += 1;
                    if !pager.in_write_tx() {
                        // Published, but the autocheckpoint after it failed.
                        self.model.committed = work;
                    }
                }
                Err(e)
            }
        }
    }

    /// Reads every page through `pager` (in a new read transaction): the state it holds.
    fn read_state(&mut self, storage: &Arc<Storage>) -> Result<DbState, String> {
        let io = self.io.clone();
        let pager = storage.pager();
        pager.begin_read().map_err(|e| format!("begin_read: {e}"))?;
        let size = pager.db_size_pages();
        let mut pages = vec![0u64];
        for page_no in 1..=size {
            let page = block_on(io.as_ref(), || pager.get_page(page_no))
                .map_err(|e| format!("read page {page_no}: {e}"))?;
            let data = page.data();
            if page_no == 1 {
                let recorded = header::read_u32(&data, header::OFFSET_DB_SIZE_PAGES);
                if recorded != size {
                    return Err(format!(
                        "page 1 records {recorded} pages, the pager reports {size}"
                    ));
                }
            } else {
                let txn = decode_page(page_no, &data).ok_or_else(|| {
                    format!(
                        "page {page_no} of {size} is torn or corrupt: {:02x?}",
                        &data[..16]
                    )
                })?;
                pages.push(txn);
            }
            self.checks.pages_verified += 1;
        }
        pager.end_read();
        // The database file itself may end in a partial page here (a checkpoint's write
        // that extended it was torn): harmless while the WAL still holds those frames.
        // The file's exact size is checked after a complete checkpoint instead.
        Ok(DbState { pages })
    }

    fn verify_live(&mut self, storage: &Arc<Storage>) -> Result<(), String> {
        let state = self.read_state(storage)?;
        if state != self.model.committed {
            return Err(format!(
                "live state {} differs from the model {}",
                state.describe(),
                self.model.committed.describe()
            ));
        }
        self.checks.states_verified += 1;
        Ok(())
    }

    /// Reopens the database and requires an allowed state; then commits once more and
    /// checkpoints to show the recovered database is usable. When `after_crash` is false
    /// (a plain reopen, which may surface frames of a failed commit that were written but
    /// never fsynced), the power then fails once more and the database must still hold an
    /// allowed state no newer than what the reopen showed.
    fn reopen_and_verify(&mut self, after_crash: bool) -> Result<(), String> {
        let index = self.reopen_matching()?;
        if !after_crash {
            self.model.candidates.truncate(index + 1);
            self.io.crash();
            self.reopen_matching()?;
        }
        // After a power loss everything on the disk is durable.
        self.model.candidates = vec![self.model.committed.clone()];
        let io: Arc<dyn IO> = self.io.clone();
        let storage = Storage::open(io.clone(), DB_PATH, storage_options(&self.config))
            .map_err(|e| format!("reopen for more work: {e}"))?;
        storage.set_spill_min_pages(1);
        let pager = storage.pager();
        let txn = 1_000_000;
        pager
            .begin_write()
            .map_err(|e| format!("begin_write after recovery: {e}"))?;
        let mut work = self.model.committed.clone();
        let page = pager
            .append_page()
            .map_err(|e| format!("append after recovery: {e}"))?;
        page.data_mut()
            .copy_from_slice(&page_image(page.page_no(), txn, self.config.page_size));
        work.pages.push(txn);
        drop(page);
        block_on(io.as_ref(), || pager.commit())
            .map_err(|e| format!("commit after recovery: {e}"))?;
        let result = block_on(io.as_ref(), || pager.checkpoint(CheckpointMode::Truncate))
            .map_err(|e| format!("checkpoint after recovery: {e}"))?;
        drop(pager);
        // Integrity of the files: a complete truncating checkpoint leaves the database file
        // exactly the committed number of pages and an empty WAL.
        let db_bytes = self.io.file_contents(DB_PATH).map_or(0, |b| b.len());
        let wal_bytes = self
            .io
            .file_contents(&format!("{DB_PATH}-wal"))
            .map_or(0, |b| b.len());
        let expected = work.pages.len() * self.config.page_size;
        if result.busy || db_bytes != expected || wal_bytes != 0 {
            return Err(format!(
                "after a truncating checkpoint (busy={}) the database file is {db_bytes} bytes \
                 (expected {expected}) and the WAL {wal_bytes} bytes (expected 0)",
                result.busy
            ));
        }
        self.checks.file_sizes_verified += 1;
        self.model.committed = work;
        self.verify_live(&storage)?;
        self.checks.continued_after_recovery += 1;
        Ok(())
    }

    fn matched_index(&self, state: &DbState) -> Option<usize> {
        self.model.candidates.iter().position(|c| c == state)
    }

    /// Opens the database, reads it, and requires it to equal one of the candidates; that
    /// state becomes the model. Returns the candidate's index.
    fn reopen_matching(&mut self) -> Result<usize, String> {
        let io: Arc<dyn IO> = self.io.clone();
        let storage = Storage::open(io, DB_PATH, storage_options(&self.config))
            .map_err(|e| format!("reopen: {e}"))?;
        let state = self.read_state(&storage)?;
        let Some(index) = self.matched_index(&state) else {
            let allowed: Vec<String> = self.model.candidates.iter().map(|c| c.describe()).collect();
            return Err(format!(
                "recovered {} which is no allowed state; last acknowledged first: [{}]",
                state.describe(),
                allowed.join(" | ")
            ));
        };
        self.checks.states_verified += 1;
        if index > 0 {
            self.checks.unacked_states += 1;
        }
        self.model.committed = state;
        Ok(index)
    }
}
